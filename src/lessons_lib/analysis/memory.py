"""How long a one-unit tanh RNN remembers a single input pulse.

The smallest RNN there is: ``h_t = tanh(w h_{t-1} + u x_t)`` with scalar
weights, fed one pulse ``x_1 = 1`` and zeros after.  How ``h_t`` fades (or
does not) as ``w`` varies is the first glimpse of chapter 2's vanishing
gradients.
"""

from __future__ import annotations

import numpy as np

from ..cells.rnn import rnn_forward


def pulse_response(w: float, u: float = 1.0, T: int = 15) -> np.ndarray:
    """Hidden states ``h_1 .. h_T`` (shape (T,)) of the scalar RNN after a unit pulse at ``t = 1``."""
    if not isinstance(T, (int, np.integer)) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T must be a positive int, got {T!r}")
    inputs = np.zeros(T)
    inputs[0] = 1.0
    return input_response(w, inputs, u)


def input_response(w: float, inputs, u: float = 1.0) -> np.ndarray:
    """Hidden states ``h_1 .. h_T`` of the scalar RNN, started at ``h_0 = 0``, for any inputs ``x_1 .. x_T``.

    ``inputs`` is a 1-D sequence of numbers.  With ``w = 1.5`` the unit is a
    latch with two stable states, and a strong enough input flips it from one
    to the other (chapter 1).
    """
    if not np.isfinite(w) or not np.isfinite(u):
        raise ValueError(f"w and u must be finite numbers, got w={w}, u={u}")
    x = np.asarray(inputs, dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"inputs must be a non-empty 1-D sequence of finite numbers, got shape {x.shape}")
    params = {"W_x": np.array([[float(u)]]), "W_h": np.array([[float(w)]]),
              "b_x": np.zeros(1), "b_h": np.zeros(1)}
    out, _, _ = rnn_forward(params, x.reshape(1, -1, 1), np.zeros((1, 1)))
    return out[0, :, 0]


def pulse_responses(ws, u: float = 1.0, T: int = 15) -> dict:
    """:func:`pulse_response` for several recurrent weights: ``{w: trajectory}``."""
    return {float(w): pulse_response(w, u, T) for w in ws}
