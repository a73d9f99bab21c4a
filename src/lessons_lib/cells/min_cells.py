"""The minimal gated cells minGRU and minLSTM (Feng et al. 2024): forward and backward, one step and a sequence.

Feng et al. strip the GRU and the LSTM down until their gates no longer read
the previous state.  What is left is a gated *linear* recurrence
``h_t = a_t * h_{t-1} + b_t`` whose coefficients depend on the input alone,
so a whole sequence can be computed with a parallel scan
(:mod:`lessons_lib.cells.linear_recurrence`).  These are the non-log-space
versions of the paper (its algorithms 1-4, sequential and parallel mode).

**minGRU**::

    z_t  = sigma(W_z x_t + b_z)                    update gate
    h~_t = W_h~ x_t + b_h~                         candidate: linear, no tanh
    h_t  = (1 - z_t) * h_{t-1} + z_t * h~_t        so a_t = 1 - z_t, b_t = z_t * h~_t

``z`` near 1 *writes* the candidate (the convention of Chung et al. 2014 and
of the paper; the library's GRU uses the opposite one by default, see
:mod:`lessons_lib.cells.gru`).  A negative bias ``b_z`` makes the cell start
out remembering: with inputs near zero it keeps ``1 - sigma(b_z)`` of its
state per step (0.953 for ``b_z = -3``).

**minLSTM**::

    f_t  = sigma(W_f x_t + b_f)                    forget gate
    i_t  = sigma(W_i x_t + b_i)                    input gate
    h~_t = W_h~ x_t + b_h~                         candidate
    f'_t = f_t / (f_t + i_t),   i'_t = i_t / (f_t + i_t)     normalised: f' + i' = 1
    h_t  = f'_t * h_{t-1} + i'_t * h~_t            so a_t = f'_t, b_t = i'_t * h~_t

There is no cell state and no output gate.  The normalised gates are
computed as ``f' = sigma(delta)``, ``i' = 1 - f'`` with
``delta = log f - log i = softplus(-a_i) - softplus(-a_f)`` (``a_f``,
``a_i`` the pre-activations), which equals ``f / (f + i)`` and cannot
divide zero by zero when both gates underflow.

Parameters: the cells have no recurrent weights, only an input projection,
one block of ``H`` rows per gate, stacked row-wise as the library's other
cells stack theirs (``G`` gates):

=========  ============  ================================================
name       shape         blocks (rows ``k H`` to ``(k + 1) H`` are block k)
=========  ============  ================================================
``W_x``    ``(G H, D)``  minGRU: ``z, h~`` (G = 2); minLSTM: ``f, i, h~`` (G = 3)
``b_x``    ``(G H,)``    the same blocks
=========  ============  ================================================

Sequences take ``lengths=`` like the other cells: past its end a sequence
keeps its state (``a_t = 1``, ``b_t = 0``) and outputs zeros.
``method=`` chooses how the recurrence is computed (``"scan"``,
``"doubling"`` or ``"loop"``, see :func:`~lessons_lib.cells.linear_recurrence.linear_recurrence`);
the results agree to rounding.

Reference: L. Feng, F. Tung, M. O. Ahmed, Y. Bengio and H. Hajimirsadeghi,
"Were RNNs all we needed?", arXiv:2410.01201 (2024).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..validation import CELL_NAMES, MIN_KINDS, check, check_cache, check_choice, check_lengths, check_params
from .activations import sigmoid
from .linear_recurrence import METHODS, reverse_recurrence, run_time_major
from .sequence import batch_first, input_gradients, mask_from_lengths, project_inputs, time_major

#: The order of the blocks in ``W_x`` and ``b_x``.
GATES = {"mingru": ("z", "h_tilde"), "minlstm": ("f", "i", "h_tilde")}
GATE_COUNT = {kind: len(gates) for kind, gates in GATES.items()}
PARAM_KEYS = ("W_x", "b_x")


def check_min_params(kind: str, params) -> tuple[dict, np.dtype, dict]:
    """Validate a minimal cell's parameters; return them, their dtype and the bound sizes ``{H, GH, D}``."""
    check_choice("kind", kind, MIN_KINDS)
    G = GATE_COUNT[kind]
    dims: dict[str, int] = {}
    p, dtype = check_params(params, {"W_x": ("GH", "D"), "b_x": ("GH",)}, dims, CELL_NAMES[kind])
    if dims["GH"] % G or dims["GH"] == 0:
        raise ValueError(f"params['W_x'] of {CELL_NAMES[kind]} must have shape ({G}H, D), the blocks "
                         f"{', '.join(GATES[kind])} stacked, with a whole number H >= 1 of rows each, "
                         f"got {p['W_x'].shape}")
    dims["H"] = dims["GH"] // G
    return p, dtype, dims


def split_gates(kind: str, gates: np.ndarray) -> dict[str, np.ndarray]:
    """Split a fused ``(..., G H)`` array into its named blocks (views)."""
    return dict(zip(GATES[kind], np.split(gates, GATE_COUNT[kind], axis=-1)))


def _softplus(u: np.ndarray) -> np.ndarray:
    """``log(1 + exp(u))`` without overflow."""
    return np.logaddexp(0.0, u)


def _coefficients(kind: str, pre: np.ndarray, H: int):
    """``gates`` (activated blocks), ``a`` and ``b`` of the recurrence from the pre-activations ``pre`` (..., G H)."""
    gates = np.empty_like(pre)
    if kind == "mingru":
        z = gates[..., :H] = sigmoid(pre[..., :H])
        h_tilde = gates[..., H:] = pre[..., H:]
        return gates, 1.0 - z, z * h_tilde
    a_f, a_i = pre[..., :H], pre[..., H:2 * H]
    gates[..., :H], gates[..., H:2 * H] = sigmoid(a_f), sigmoid(a_i)
    h_tilde = gates[..., 2 * H:] = pre[..., 2 * H:]
    f_norm = sigmoid(_softplus(-a_i) - _softplus(-a_f))           # f / (f + i)
    return gates, f_norm, (1.0 - f_norm) * h_tilde


def _coefficients_backward(kind: str, da: np.ndarray, db: np.ndarray, gates: np.ndarray, a: np.ndarray):
    """Gradients of the pre-activations (..., G H) from those of ``a`` and ``b``."""
    H = a.shape[-1]
    dpre = np.empty_like(gates)
    h_tilde = gates[..., -H:]
    if kind == "mingru":                       # a = 1 - z, b = z h~
        z = gates[..., :H]
        dz = db * h_tilde - da
        dpre[..., :H] = dz * z * (1.0 - z)
        dpre[..., H:] = db * z
        return dpre
    f, i, f_norm = gates[..., :H], gates[..., H:2 * H], a        # a = f', b = (1 - f') h~, f' = sigma(delta)
    i_norm = 1.0 - f_norm
    d_delta = (da - db * h_tilde) * f_norm * i_norm
    dpre[..., :H] = d_delta * (1.0 - f)        # d delta / d a_f = 1 - f
    dpre[..., H:2 * H] = -d_delta * (1.0 - i)  # d delta / d a_i = -(1 - i)
    dpre[..., 2 * H:] = db * i_norm
    return dpre


# ------------------------------------------------------------------------------------------ one step

class MinStepCache(NamedTuple):
    """What one step's backward pass needs."""

    kind: str           #: "mingru" or "minlstm"
    x: np.ndarray       #: (N, D)
    h_prev: np.ndarray  #: (N, H)
    gates: np.ndarray   #: (N, G H) activated blocks, z, h~ or f, i, h~
    a: np.ndarray       #: (N, H) the coefficient of h_prev, 1 - z or f'
    params: dict        #: the validated parameters, for the backward pass


def min_step_forward(kind: str, x, h_prev, params):
    """One step of a minimal cell: ``h = a * h_prev + b`` with ``a``, ``b`` from ``x`` alone.

    Parameters
    ----------
    kind : {"mingru", "minlstm"}
    x : array of shape (N, D)
    h_prev : array of shape (N, H)
    params : dict
        ``W_x`` (G H, D), ``b_x`` (G H,) (see the module docstring).

    Returns
    -------
    h : array of shape (N, H)
    cache : MinStepCache
    """
    p, dtype, dims = check_min_params(kind, params)
    x = check("x", x, ("N", "D"), dims, dtype)
    h_prev = check("h_prev", h_prev, ("N", "H"), dims, dtype)
    gates, a, b = _coefficients(kind, x @ p["W_x"].T + p["b_x"], dims["H"])   # (N, GH), (N, H), (N, H)
    return a * h_prev + b, MinStepCache(kind, x, h_prev, gates, a, p)


def min_step_backward(dh, cache: MinStepCache):
    """Backward pass of :func:`min_step_forward`.

    Returns
    -------
    dx : (N, D), dh_prev : (N, H), grads : dict with the keys ``W_x``, ``b_x``.
    """
    check_cache(cache, MinStepCache, "min_step_forward")
    dims = {"N": cache.h_prev.shape[0], "H": cache.h_prev.shape[1]}
    dh = check("dh", dh, ("N", "H"), dims, cache.h_prev.dtype)
    dpre = _coefficients_backward(cache.kind, dh * cache.h_prev, dh, cache.gates, cache.a)   # (N, GH)
    grads = {"W_x": dpre.T @ cache.x, "b_x": dpre.sum(axis=0)}
    return dpre @ cache.params["W_x"], cache.a * dh, grads


# -------------------------------------------------------------------------------------- a sequence

class MinCellCache(NamedTuple):
    """What a sequence's backward pass needs (time-major arrays)."""

    kind: str                #: "mingru" or "minlstm"
    x: np.ndarray            #: (T, N, D)
    h: np.ndarray            #: (T + 1, N, H), h[0] = h0
    gates: np.ndarray        #: (T, N, G H) activated blocks
    a: np.ndarray            #: (T, N, H) coefficients as run, 1 past a sequence's end
    mask: np.ndarray | None  #: (T, N, 1) or None
    params: dict             #: the validated parameters, for the backward pass
    method: str              #: how the recurrence was computed


def min_forward(kind: str, params, x, h0, lengths=None, method: str = "scan"):
    """Run a minimal cell over a batch of sequences.

    The coefficients of every step come from one matrix product over all
    steps; the recurrence ``h_t = a_t * h_{t-1} + b_t`` is then one call of
    the scan (or of the loop).

    Parameters
    ----------
    kind : {"mingru", "minlstm"}
    params : dict
        ``W_x`` (G H, D), ``b_x`` (G H,) (see the module docstring).
    x : array of shape (N, T, D)
    h0 : array of shape (N, H)
    lengths : array of N ints, optional
        True length of each sequence; past it the state is carried unchanged
        and the output is zero.
    method : {"scan", "doubling", "loop"}
        How the recurrence is computed.

    Returns
    -------
    out : (N, T, H), h_T : (N, H), cache : MinCellCache
    """
    check_choice("method", method, METHODS)
    p, dtype, dims = check_min_params(kind, params)
    x = check("x", x, ("N", "T", "D"), dims, dtype)
    h0 = check("h0", h0, ("N", "H"), dims, dtype)
    N, T, _ = x.shape
    H = dims["H"]
    mask = mask_from_lengths(check_lengths(lengths, N, T), T)

    x_tm = time_major(x)                                   # (T, N, D)
    pre = project_inputs(x_tm, p["W_x"], p["b_x"])         # (T, N, GH)
    gates, a, b = _coefficients(kind, pre, H)              # (T, N, GH), (T, N, H), (T, N, H)
    if mask is not None:                                   # a finished sequence keeps its state
        a, b = np.where(mask, a, 1.0), np.where(mask, b, 0.0)
    h = np.empty((T + 1, N, H), dtype=dtype)
    h[0] = h0
    if T:
        h[1:] = run_time_major(a, b, h0, method)           # (T, N, H)
    out = h[1:] if mask is None else np.where(mask, h[1:], 0.0)
    return batch_first(out).copy(), h[T].copy(), MinCellCache(kind, x_tm, h, gates, a, mask, p, method)


def min_backward(dout, dh_T, cache: MinCellCache):
    """Backpropagation through time for :func:`min_forward`, with the same scan run backwards.

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), grads : dict with the keys ``W_x``, ``b_x``.
    """
    check_cache(cache, MinCellCache, "min_forward")
    T, N, _ = cache.x.shape
    H = cache.h.shape[2]
    dims = {"N": N, "T": T, "H": H}
    dtype = cache.h.dtype
    dout = time_major(check("dout", dout, ("N", "T", "H"), dims, dtype))
    dh_T = check("dh_T", dh_T, ("N", "H"), dims, dtype)
    if T == 0:
        W_x = cache.params["W_x"]
        return np.zeros((N, 0, W_x.shape[1]), dtype), dh_T.copy(), {"W_x": np.zeros_like(W_x),
                                                                    "b_x": np.zeros_like(cache.params["b_x"])}
    direct = dout.copy() if cache.mask is None else np.where(cache.mask, dout, 0.0)   # (T, N, H): gradient from outside
    direct[T - 1] += dh_T
    g = reverse_recurrence(cache.a, direct, cache.method)    # (T, N, H): the total gradient of each h_t
    da, db = g * cache.h[:-1], g
    if cache.mask is not None:                               # a past the end was a constant 1, b a constant 0
        da, db = np.where(cache.mask, da, 0.0), np.where(cache.mask, db, 0.0)
    dpre = _coefficients_backward(cache.kind, da, db, cache.gates, cache.a)   # (T, N, GH)
    dx, dW_x, db_x = input_gradients(dpre, cache.x, cache.params["W_x"])
    return dx.copy(), cache.a[0] * g[0], {"W_x": dW_x, "b_x": db_x}


# ------------------------------------------------------------------------------- by name, per cell

def mingru_forward(params, x, h0, lengths=None, method: str = "scan"):
    """:func:`min_forward` for the minGRU: ``W_x`` (2H, D), ``b_x`` (2H,), blocks ``z, h~``."""
    return min_forward("mingru", params, x, h0, lengths, method)


def minlstm_forward(params, x, h0, lengths=None, method: str = "scan"):
    """:func:`min_forward` for the minLSTM: ``W_x`` (3H, D), ``b_x`` (3H,), blocks ``f, i, h~``."""
    return min_forward("minlstm", params, x, h0, lengths, method)


def mingru_backward(dout, dh_T, cache: MinCellCache):
    """:func:`min_backward` of a :func:`mingru_forward` cache."""
    _check_kind_of(cache, "mingru")
    return min_backward(dout, dh_T, cache)


def minlstm_backward(dout, dh_T, cache: MinCellCache):
    """:func:`min_backward` of a :func:`minlstm_forward` cache."""
    _check_kind_of(cache, "minlstm")
    return min_backward(dout, dh_T, cache)


def _check_kind_of(cache, kind: str) -> None:
    check_cache(cache, MinCellCache, f"{kind}_forward")
    if cache.kind != kind:
        raise TypeError(f"cache must come from {kind}_forward, got a cache of {CELL_NAMES[cache.kind]}")
