"""The LSTM cell: forward and backward, one step and a whole sequence.

Equations (chapter 4 derives them one gate at a time)::

    i_t = sigma(W_xi x_t + b_xi + W_hi h_{t-1} + b_hi)     input gate       (4.2)
    f_t = sigma(W_xf x_t + b_xf + W_hf h_{t-1} + b_hf)     forget gate      (4.1)
    g_t = tanh (W_xg x_t + b_xg + W_hg h_{t-1} + b_hg)     candidate        (4.2)
    o_t = sigma(W_xo x_t + b_xo + W_ho h_{t-1} + b_ho)     output gate      (4.4)
    c_t = f_t * c_{t-1} + i_t * g_t                        cell state       (4.3)
    h_t = o_t * tanh(c_t)                                  hidden state     (4.4)

``*`` is the element-wise product.  The four gates are fused: their weights
are stacked row-wise in the order **i, f, g, o** (PyTorch's order), so one
matrix product computes all four pre-activations at once.

=========  ============  ================================
name       shape         PyTorch ``nn.LSTM`` equivalent
=========  ============  ================================
``W_x``    ``(4H, D)``   ``weight_ih_l0``
``W_h``    ``(4H, H)``   ``weight_hh_l0``
``b_x``    ``(4H,)``     ``bias_ih_l0``
``b_h``    ``(4H,)``     ``bias_hh_l0``
=========  ============  ================================

Rows ``k H`` to ``(k + 1) H`` belong to gate ``k`` of (i, f, g, o); see
:data:`GATES`.

References: S. Hochreiter and J. Schmidhuber, "Long short-term memory",
Neural Computation 9 (1997); the forget gate is from F. A. Gers,
J. Schmidhuber and F. Cummins, "Learning to forget", Neural Computation 12
(2000).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..validation import CELL_NAMES, check, check_cache, check_lengths, check_params
from .activations import dsigmoid_from_output, dtanh_from_output, sigmoid
from .sequence import batch_first, input_gradients, mask_from_lengths, project_inputs, stacked_outer, time_major

#: Order of the gate blocks in the fused weights (rows ``k H`` to ``(k + 1) H`` are gate ``k``).
GATES = ("i", "f", "g", "o")
PARAM_SHAPES = {"W_x": ("4H", "D"), "W_h": ("4H", "H"), "b_x": ("4H",), "b_h": ("4H",)}


def check_lstm_params(params) -> tuple[dict, np.dtype, dict]:
    """Validate LSTM parameters; return them, their dtype and the bound sizes ``{H, 4H, D}``."""
    dims: dict[str, int] = {}
    p, dtype = check_params(params, PARAM_SHAPES, dims, CELL_NAMES["lstm"])
    four_h = dims["4H"]
    if four_h % 4 or p["W_h"].shape[1] * 4 != four_h:
        expected = f"(4H, H) = ({four_h}, {four_h // 4})" if four_h % 4 == 0 else "(4H, H), with 4H rows"
        raise ValueError(
            f"params['W_h'] of an LSTM must have shape {expected}, the gates i, f, g, o stacked, "
            f"got {p['W_h'].shape}"
        )
    dims["H"] = four_h // 4
    return p, dtype, dims


class LSTMStepCache(NamedTuple):
    """What one step's backward pass needs."""

    x: np.ndarray       #: (N, D) input
    h_prev: np.ndarray  #: (N, H)
    c_prev: np.ndarray  #: (N, H)
    gates: np.ndarray   #: (N, 4H) activated gates i, f, g, o
    c: np.ndarray       #: (N, H) new cell state
    tanh_c: np.ndarray  #: (N, H)
    params: dict  #: the validated parameters, for the backward pass


class LSTMCache(NamedTuple):
    """What a sequence's backward pass needs (time-major arrays)."""

    x: np.ndarray            #: (T, N, D)
    h: np.ndarray            #: (T + 1, N, H), h[0] = h0
    c: np.ndarray            #: (T + 1, N, H), c[0] = c0
    gates: np.ndarray        #: (T, N, 4H) activated gates
    tanh_c: np.ndarray       #: (T, N, H) tanh of the cell state computed at each step
    mask: np.ndarray | None  #: (T, N, 1) or None
    params: dict  #: the validated parameters, for the backward pass


def split_gates(gates: np.ndarray) -> dict[str, np.ndarray]:
    """Split a fused ``(..., 4H)`` array into the four gates ``{"i", "f", "g", "o"}`` (views)."""
    return dict(zip(GATES, np.split(gates, 4, axis=-1)))


def lstm_step_forward(x, h_prev, c_prev, params):
    """One step of the LSTM.

    Parameters
    ----------
    x : array of shape (N, D)
    h_prev, c_prev : arrays of shape (N, H)
        Previous hidden and cell state.
    params : dict
        ``W_x`` (4H, D), ``W_h`` (4H, H), ``b_x`` (4H,), ``b_h`` (4H,).

    Returns
    -------
    h, c : arrays of shape (N, H)
        New hidden and cell state.
    cache : LSTMStepCache
    """
    p, dtype, dims = check_lstm_params(params)
    x = check("x", x, ("N", "D"), dims, dtype)
    h_prev = check("h_prev", h_prev, ("N", "H"), dims, dtype)
    c_prev = check("c_prev", c_prev, ("N", "H"), dims, dtype)
    gates, c, tanh_c, h = _step(x @ p["W_x"].T + (p["b_x"] + p["b_h"]), h_prev, c_prev, p["W_h"])
    return h, c, LSTMStepCache(x, h_prev, c_prev, gates, c, tanh_c, p)


def lstm_step_backward(dh, dc, cache: LSTMStepCache):
    """Backward pass of :func:`lstm_step_forward`.

    Parameters
    ----------
    dh, dc : arrays of shape (N, H)
        Gradients of the loss with respect to the new ``h`` and ``c``.
    cache : LSTMStepCache

    Returns
    -------
    dx : (N, D), dh_prev : (N, H), dc_prev : (N, H), grads : dict with the keys of ``params``.
    """
    check_cache(cache, LSTMStepCache, "lstm_step_forward")
    dims = {"N": cache.c.shape[0], "H": cache.c.shape[1]}
    dh = check("dh", dh, ("N", "H"), dims, cache.c.dtype)
    dc = check("dc", dc, ("N", "H"), dims, cache.c.dtype)
    p = cache.params
    da, dh_prev, dc_prev = _step_backward(dh, dc, cache.c_prev, cache.gates, cache.tanh_c, p["W_h"])
    db = da.sum(axis=0)
    grads = {"W_x": da.T @ cache.x, "W_h": da.T @ cache.h_prev, "b_x": db, "b_h": db.copy()}
    return da @ p["W_x"], dh_prev, dc_prev, grads


def _step(a_x, h_prev, c_prev, W_h):
    """The cell given the input part of the pre-activations, ``a_x = W_x x + b_x + b_h``."""
    a = a_x + h_prev @ W_h.T             # (N, 4H) pre-activations of i, f, g, o
    H = h_prev.shape[1]
    gates = sigmoid(a)                   # i, f, o are sigmoids ...
    gates[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])  # ... and the candidate g a tanh
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    c = f * c_prev + i * g               # (N, H)  4.3: forget old content, write new
    tanh_c = np.tanh(c)
    h = o * tanh_c                       # (N, H)  4.4: expose part of the cell
    return gates, c, tanh_c, h


def _step_backward(dh, dc, c_prev, gates, tanh_c, W_h):
    """Gradients of the fused pre-activation ``da`` (N, 4H), of ``h_prev`` and of ``c_prev``."""
    H = c_prev.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    dc = dc + dh * o * dtanh_from_output(tanh_c)  # c reaches the loss directly and through h
    da = np.empty_like(gates)
    da[:, :H] = dc * g * dsigmoid_from_output(i)              # input gate
    da[:, H:2 * H] = dc * c_prev * dsigmoid_from_output(f)    # forget gate
    da[:, 2 * H:3 * H] = dc * i * dtanh_from_output(g)        # candidate
    da[:, 3 * H:] = dh * tanh_c * dsigmoid_from_output(o)     # output gate
    return da, da @ W_h, dc * f


def lstm_forward(params, x, h0, c0, lengths=None):
    """Run the LSTM over a batch of sequences.

    Parameters
    ----------
    params : dict
        ``W_x`` (4H, D), ``W_h`` (4H, H), ``b_x`` (4H,), ``b_h`` (4H,).
    x : array of shape (N, T, D)
    h0, c0 : arrays of shape (N, H)
        Initial hidden and cell state.
    lengths : array of N ints, optional
        True length of each sequence; past it the state is carried unchanged
        and the output is zero.

    Returns
    -------
    out : array of shape (N, T, H)
        Hidden state at every step.
    h_T, c_T : arrays of shape (N, H)
        Final hidden and cell state of each sequence.
    cache : LSTMCache
    """
    p, dtype, dims = check_lstm_params(params)
    x = check("x", x, ("N", "T", "D"), dims, dtype)
    h0 = check("h0", h0, ("N", "H"), dims, dtype)
    c0 = check("c0", c0, ("N", "H"), dims, dtype)
    N, T, _ = x.shape
    H = dims["H"]
    mask = mask_from_lengths(check_lengths(lengths, N, T), T)

    x_tm = time_major(x)                                          # (T, N, D)
    a_x = project_inputs(x_tm, p["W_x"], p["b_x"] + p["b_h"])     # (T, N, 4H)
    h = np.empty((T + 1, N, H), dtype=dtype)
    c = np.empty((T + 1, N, H), dtype=dtype)
    gates = np.empty((T, N, 4 * H), dtype=dtype)
    tanh_c = np.empty((T, N, H), dtype=dtype)
    h[0], c[0] = h0, c0
    W_h = np.asfortranarray(p["W_h"])  # W_h.T is then C-contiguous, which BLAS multiplies faster at these sizes
    for t in range(T):
        gates[t], c_t, tanh_c[t], h_t = _step(a_x[t], h[t], c[t], W_h)
        if mask is None:
            h[t + 1], c[t + 1] = h_t, c_t
        else:
            h[t + 1] = np.where(mask[t], h_t, h[t])
            c[t + 1] = np.where(mask[t], c_t, c[t])
    out = h[1:] if mask is None else np.where(mask, h[1:], 0.0)
    cache = LSTMCache(x_tm, h, c, gates, tanh_c, mask, p)
    return batch_first(out).copy(), h[T].copy(), c[T].copy(), cache


def lstm_backward(dout, dh_T, dc_T, cache: LSTMCache):
    """Backpropagation through time for :func:`lstm_forward`.

    Parameters
    ----------
    dout : array of shape (N, T, H)
        Gradient of the loss with respect to ``out``.
    dh_T, dc_T : arrays of shape (N, H)
        Gradients with respect to the final hidden and cell state.
    cache : LSTMCache

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dc0 : (N, H), grads : dict with the keys of ``params``.
    """
    check_cache(cache, LSTMCache, "lstm_forward")
    T, N, _ = cache.x.shape
    H = cache.h.shape[2]
    dims = {"N": N, "T": T, "H": H}
    dtype = cache.h.dtype
    dout = time_major(check("dout", dout, ("N", "T", "H"), dims, dtype))
    dh = check("dh_T", dh_T, ("N", "H"), dims, dtype).copy()
    dc = check("dc_T", dc_T, ("N", "H"), dims, dtype).copy()
    p, mask = cache.params, cache.mask

    da = np.empty((T, N, 4 * H), dtype=dtype)
    for t in reversed(range(T)):
        if mask is None:
            da[t], dh, dc = _step_backward(dh + dout[t], dc, cache.c[t], cache.gates[t], cache.tanh_c[t], p["W_h"])
        else:
            m = mask[t]
            g_h = dh + np.where(m, dout[t], 0.0)
            da_t, dh_prev, dc_prev = _step_backward(
                np.where(m, g_h, 0.0), np.where(m, dc, 0.0), cache.c[t], cache.gates[t], cache.tanh_c[t], p["W_h"]
            )
            da[t] = da_t
            dh = np.where(m, dh_prev, g_h)
            dc = np.where(m, dc_prev, dc)
    dx, dW_x, db_x = input_gradients(da, cache.x, p["W_x"])
    grads = {"W_x": dW_x, "W_h": stacked_outer(da, cache.h[:-1]), "b_x": db_x, "b_h": db_x.copy()}
    return dx.copy(), dh, dc, grads
