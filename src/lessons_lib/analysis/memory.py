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
    if not np.isfinite(w) or not np.isfinite(u):
        raise ValueError(f"w and u must be finite numbers, got w={w}, u={u}")
    if not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be a positive int, got {T!r}")
    params = {"W_x": np.array([[float(u)]]), "W_h": np.array([[float(w)]]),
              "b_x": np.zeros(1), "b_h": np.zeros(1)}
    x = np.zeros((1, T, 1))
    x[0, 0, 0] = 1.0
    out, _, _ = rnn_forward(params, x, np.zeros((1, 1)))
    return out[0, :, 0]


def pulse_responses(ws, u: float = 1.0, T: int = 15) -> dict:
    """:func:`pulse_response` for several recurrent weights: ``{w: trajectory}``."""
    return {float(w): pulse_response(w, u, T) for w in ws}
