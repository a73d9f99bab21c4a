"""The GRU cell: forward and backward, one step and a whole sequence.

Equations, in PyTorch's convention (the library's default)::

    r_t = sigma(W_xr x_t + b_xr + W_hr h_{t-1} + b_hr)            reset gate
    z_t = sigma(W_xz x_t + b_xz + W_hz h_{t-1} + b_hz)            update gate
    n_t = tanh (W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn))    candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                         interpolation

The update gate ``z`` is a single sigmoid that *interpolates* between the old
state and the tanh candidate ``n``; the candidate is not part of the gate.

Two other conventions are in common use, and both are available:

``reset="before"``
    ``n_t = tanh(W_xn x_t + b_xn + W_hn (r_t * h_{t-1}) + b_hn)``: the reset
    gate scales the state *before* the recurrent matrix product, as in Cho et
    al. (2014), d2l and Olah (2015).  The default, ``reset="after"``, applies
    it to ``W_hn h_{t-1} + b_hn``, as PyTorch and cuDNN do; that lets one
    matrix product serve all three recurrent pre-activations.
``update="write"``
    ``h_t = z_t * n_t + (1 - z_t) * h_{t-1}``: ``z`` near 1 writes the
    candidate, as in Chung et al. (2014) and Olah (2015).  The default,
    ``update="keep"``, follows Cho et al. (2014) and PyTorch: ``z`` near 1
    keeps the old state.  The two are the same family of functions, with the
    update gate's weights and bias negated.

The weights of the three blocks are stacked row-wise in the order **r, z, n**
(PyTorch's order):

=========  ============  ================================
name       shape         PyTorch ``nn.GRU`` equivalent
=========  ============  ================================
``W_x``    ``(3H, D)``   ``weight_ih_l0``
``W_h``    ``(3H, H)``   ``weight_hh_l0``
``b_x``    ``(3H,)``     ``bias_ih_l0``
``b_h``    ``(3H,)``     ``bias_hh_l0``
=========  ============  ================================

Unlike the RNN's and LSTM's, the GRU's two biases are not interchangeable:
``b_hn`` sits inside the reset gate's product.

References: K. Cho et al., "Learning phrase representations using RNN
encoder-decoder for statistical machine translation", EMNLP (2014);
J. Chung et al., "Empirical evaluation of gated recurrent neural networks on
sequence modeling", arXiv:1412.3555 (2014).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..validation import CELL_NAMES, check, check_cache, check_choice, check_lengths, check_params
from .activations import dsigmoid_from_output, dtanh_from_output, sigmoid
from .sequence import batch_first, input_gradients, mask_from_lengths, project_inputs, stacked_outer, time_major

#: Order of the blocks in the fused weights (rows ``k H`` to ``(k + 1) H`` are block ``k``).
GATES = ("r", "z", "n")
PARAM_SHAPES = {"W_x": ("3H", "D"), "W_h": ("3H", "H"), "b_x": ("3H",), "b_h": ("3H",)}
RESET_PLACEMENTS = ("after", "before")
UPDATE_DIRECTIONS = ("keep", "write")


def check_gru_params(params) -> tuple[dict, np.dtype, dict]:
    """Validate GRU parameters; return them, their dtype and the bound sizes ``{H, 3H, D}``."""
    dims: dict[str, int] = {}
    p, dtype = check_params(params, PARAM_SHAPES, dims, CELL_NAMES["gru"])
    three_h = dims["3H"]
    if p["W_h"].shape[1] * 3 != three_h:
        expected = f"(3H, H) = ({three_h}, {three_h // 3})" if three_h % 3 == 0 else "(3H, H), with 3H rows"
        raise ValueError(
            f"params['W_h'] of a GRU must have shape {expected}, the blocks r, z, n stacked, "
            f"got {p['W_h'].shape}"
        )
    return p, dtype, dims


def check_variant(reset: str, update: str) -> None:
    """Validate the GRU convention options."""
    check_choice("reset", reset, RESET_PLACEMENTS)
    check_choice("update", update, UPDATE_DIRECTIONS)


class GRUStepCache(NamedTuple):
    """What one step's backward pass needs."""

    x: np.ndarray       #: (N, D)
    h_prev: np.ndarray  #: (N, H)
    gates: np.ndarray   #: (N, 3H) activated r, z, n
    hn: np.ndarray      #: (N, H) W_hn h_prev + b_hn (reset="after") or r * h_prev (reset="before")
    params: dict  #: the validated parameters, for the backward pass
    reset: str  #: where the reset gate acts, "after" or "before"
    update: str  #: which way the update gate interpolates, "keep" or "write"


class GRUCache(NamedTuple):
    """What a sequence's backward pass needs (time-major arrays)."""

    x: np.ndarray            #: (T, N, D)
    h: np.ndarray            #: (T + 1, N, H), h[0] = h0
    gates: np.ndarray        #: (T, N, 3H) activated r, z, n
    hn: np.ndarray           #: (T, N, H) as in GRUStepCache
    mask: np.ndarray | None  #: (T, N, 1) or None
    params: dict  #: the validated parameters, for the backward pass
    reset: str  #: where the reset gate acts, "after" or "before"
    update: str  #: which way the update gate interpolates, "keep" or "write"


def split_gates(gates: np.ndarray) -> dict[str, np.ndarray]:
    """Split a fused ``(..., 3H)`` array into ``{"r", "z", "n"}`` (views)."""
    return dict(zip(GATES, np.split(gates, 3, axis=-1)))


def gru_step_forward(x, h_prev, params, reset="after", update="keep"):
    """One step of the GRU.

    Parameters
    ----------
    x : array of shape (N, D)
    h_prev : array of shape (N, H)
    params : dict
        ``W_x`` (3H, D), ``W_h`` (3H, H), ``b_x`` (3H,), ``b_h`` (3H,).
    reset : {"after", "before"}
        Where the reset gate acts (see the module docstring).
    update : {"keep", "write"}
        Which way the update gate interpolates (see the module docstring).

    Returns
    -------
    h : array of shape (N, H)
    cache : GRUStepCache
    """
    check_variant(reset, update)
    p, dtype, dims = check_gru_params(params)
    x = check("x", x, ("N", "D"), dims, dtype)
    h_prev = check("h_prev", h_prev, ("N", "H"), dims, dtype)
    gates, hn, h = _step(x @ p["W_x"].T + p["b_x"], h_prev, p["W_h"], p["b_h"], reset, update)
    return h, GRUStepCache(x, h_prev, gates, hn, p, reset, update)


def gru_step_backward(dh, cache: GRUStepCache):
    """Backward pass of :func:`gru_step_forward`.

    Returns
    -------
    dx : (N, D), dh_prev : (N, H), grads : dict with the keys of ``params``.
    """
    check_cache(cache, GRUStepCache, "gru_step_forward")
    dims = {"N": cache.h_prev.shape[0], "H": cache.h_prev.shape[1]}
    dh = check("dh", dh, ("N", "H"), dims, cache.h_prev.dtype)
    p = cache.params
    da_x, da_h, dh_prev = _step_backward(dh, cache.h_prev, cache.gates, cache.hn, p["W_h"], cache.reset, cache.update)
    grads = {
        "W_x": da_x.T @ cache.x,
        "W_h": _recurrent_weight_gradient(da_h, cache.h_prev, cache.hn, cache.reset),
        "b_x": da_x.sum(axis=0),
        "b_h": da_h.sum(axis=0),
    }
    return da_x @ p["W_x"], dh_prev, grads


def _step(a_x, h_prev, W_h, b_h, reset, update):
    """The cell given the input pre-activations ``a_x = W_x x + b_x`` (N, 3H)."""
    H = h_prev.shape[1]
    gates = np.empty_like(a_x)                                # (N, 3H): r, z, n
    if reset == "after":
        a_h = h_prev @ W_h.T + b_h                            # (N, 3H)
        gates[:, :2 * H] = sigmoid(a_x[:, :2 * H] + a_h[:, :2 * H])
        hn = a_h[:, 2 * H:]                                   # W_hn h + b_hn, kept for backward
        r = gates[:, :H]
        gates[:, 2 * H:] = np.tanh(a_x[:, 2 * H:] + r * hn)
    else:
        gates[:, :2 * H] = sigmoid(a_x[:, :2 * H] + h_prev @ W_h[:2 * H].T + b_h[:2 * H])
        hn = gates[:, :H] * h_prev                            # r * h, kept for backward
        gates[:, 2 * H:] = np.tanh(a_x[:, 2 * H:] + hn @ W_h[2 * H:].T + b_h[2 * H:])
    z, n = gates[:, H:2 * H], gates[:, 2 * H:]
    h = (1.0 - z) * n + z * h_prev if update == "keep" else z * n + (1.0 - z) * h_prev
    return gates, hn, h


def _step_backward(dh, h_prev, gates, hn, W_h, reset, update):
    """Gradients of the input pre-activations ``da_x`` (N, 3H), of the recurrent
    pre-activations ``da_h`` (N, 3H), and of ``h_prev``.

    ``da_h`` is the gradient with respect to ``W_h h_prev + b_h`` for
    ``reset="after"``; for ``reset="before"`` its n block is the gradient with
    respect to ``W_hn (r * h_prev) + b_hn``.
    """
    H = h_prev.shape[1]
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    if update == "keep":                      # h = (1 - z) n + z h_prev
        dz, dn, dh_prev = dh * (h_prev - n), dh * (1.0 - z), dh * z
    else:                                     # h = z n + (1 - z) h_prev
        dz, dn, dh_prev = dh * (n - h_prev), dh * z, dh * (1.0 - z)
    da_x = np.empty_like(gates)
    da_n = dn * dtanh_from_output(n)
    da_x[:, 2 * H:] = da_n
    da_x[:, H:2 * H] = dz * dsigmoid_from_output(z)
    da_h = np.empty_like(gates)
    if reset == "after":                      # n = tanh(a_xn + r * hn), hn = W_hn h + b_hn
        da_x[:, :H] = da_n * hn * dsigmoid_from_output(r)
        da_h[:, :2 * H] = da_x[:, :2 * H]
        da_h[:, 2 * H:] = da_n * r
        dh_prev += da_h @ W_h
    else:                                     # n = tanh(a_xn + W_hn (r * h) + b_hn), hn = r * h
        d_rh = da_n @ W_h[2 * H:]
        da_x[:, :H] = d_rh * h_prev * dsigmoid_from_output(r)
        da_h[:, :2 * H] = da_x[:, :2 * H]
        da_h[:, 2 * H:] = da_n
        dh_prev += da_h[:, :2 * H] @ W_h[:2 * H] + d_rh * r
    return da_x, da_h, dh_prev


def _recurrent_weight_gradient(da_h, h_prev, hn, reset):
    """``dW_h`` from the recurrent pre-activation gradients; works on one step or stacked steps."""
    if reset == "after":
        return stacked_outer(da_h, h_prev)
    H = h_prev.shape[-1]
    return np.concatenate([stacked_outer(da_h[..., :2 * H], h_prev), stacked_outer(da_h[..., 2 * H:], hn)])


def gru_forward(params, x, h0, lengths=None, reset="after", update="keep"):
    """Run the GRU over a batch of sequences.

    Parameters
    ----------
    params : dict
        ``W_x`` (3H, D), ``W_h`` (3H, H), ``b_x`` (3H,), ``b_h`` (3H,).
    x : array of shape (N, T, D)
    h0 : array of shape (N, H)
    lengths : array of N ints, optional
        True length of each sequence; past it the state is carried unchanged
        and the output is zero.
    reset, update : str
        The convention (see the module docstring); PyTorch's by default.

    Returns
    -------
    out : (N, T, H), h_T : (N, H), cache : GRUCache
    """
    check_variant(reset, update)
    p, dtype, dims = check_gru_params(params)
    x = check("x", x, ("N", "T", "D"), dims, dtype)
    h0 = check("h0", h0, ("N", "H"), dims, dtype)
    N, T, _ = x.shape
    H = dims["H"]
    mask = mask_from_lengths(check_lengths(lengths, N, T), T)

    x_tm = time_major(x)                               # (T, N, D)
    a_x = project_inputs(x_tm, p["W_x"], p["b_x"])     # (T, N, 3H)
    h = np.empty((T + 1, N, H), dtype=dtype)
    gates = np.empty((T, N, 3 * H), dtype=dtype)
    hn = np.empty((T, N, H), dtype=dtype)
    h[0] = h0
    W_h = np.asfortranarray(p["W_h"])  # W_h.T is then C-contiguous, which BLAS multiplies faster at these sizes
    for t in range(T):
        gates[t], hn[t], h_t = _step(a_x[t], h[t], W_h, p["b_h"], reset, update)
        h[t + 1] = h_t if mask is None else np.where(mask[t], h_t, h[t])
    out = h[1:] if mask is None else np.where(mask, h[1:], 0.0)
    return batch_first(out).copy(), h[T].copy(), GRUCache(x_tm, h, gates, hn, mask, p, reset, update)


def gru_backward(dout, dh_T, cache: GRUCache):
    """Backpropagation through time for :func:`gru_forward`.

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), grads : dict with the keys of ``params``.
    """
    check_cache(cache, GRUCache, "gru_forward")
    T, N, _ = cache.x.shape
    H = cache.h.shape[2]
    dims = {"N": N, "T": T, "H": H}
    dtype = cache.h.dtype
    dout = time_major(check("dout", dout, ("N", "T", "H"), dims, dtype))
    dh = check("dh_T", dh_T, ("N", "H"), dims, dtype).copy()
    p, mask, reset, update = cache.params, cache.mask, cache.reset, cache.update

    da_x = np.empty((T, N, 3 * H), dtype=dtype)
    da_h = np.empty((T, N, 3 * H), dtype=dtype)
    for t in reversed(range(T)):
        step = (cache.h[t], cache.gates[t], cache.hn[t], p["W_h"], reset, update)
        if mask is None:
            da_x[t], da_h[t], dh = _step_backward(dh + dout[t], *step)
        else:
            m = mask[t]
            g = dh + np.where(m, dout[t], 0.0)  # total gradient reaching h_t
            da_x[t], da_h[t], dh_prev = _step_backward(np.where(m, g, 0.0), *step)
            dh = np.where(m, dh_prev, g)        # a finished sequence passes h_t = h_{t-1} through
    dx, dW_x, db_x = input_gradients(da_x, cache.x, p["W_x"])
    grads = {
        "W_x": dW_x,
        "W_h": _recurrent_weight_gradient(da_h, cache.h[:-1], cache.hn, reset),
        "b_x": db_x,
        "b_h": da_h.reshape(T * N, 3 * H).sum(axis=0),
    }
    return dx.copy(), dh, grads
