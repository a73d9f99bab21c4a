"""LSTM variants, one change to the cell at a time: forward and backward, one step and a whole sequence.

Greff et al. (2017) took the LSTM apart by removing or changing one piece
at a time and training every variant on the same tasks.  This module holds
five of their changes beside the cell of :mod:`.lstm`, chosen with one option
``variant=`` (symbols as in :mod:`.lstm`; ``a_k`` is the pre-activation of
block ``k``, ``W_xk x_t + b_xk + W_hk h_{t-1} + b_hk``)::

    "vanilla"               the cell of lstm.py, unchanged
    "no-forget"             f_t = 1                 c_t = c_{t-1} + i_t * g_t   (the 1997 LSTM)
    "no-output"             o_t = 1                 h_t = tanh(c_t)
    "no-input-activation"   g_t = a_g               no tanh on the candidate
    "coupled"               i_t = 1 - f_t           coupled input and forget gates (CIFG)
    "peephole"              i_t = sigma(a_i + p_i * c_{t-1})
                            f_t = sigma(a_f + p_f * c_{t-1})
                            o_t = sigma(a_o + p_o * c_t)

The peepholes (Gers and Schmidhuber 2000) let the gates read the cell
state itself; their weights are diagonal, one number per unit, so they are
vectors ``p_i``, ``p_f``, ``p_o`` of shape ``(H,)`` in ``params``, next to
``W_x``, ``W_h``, ``b_x``, ``b_h``.  Note that ``o_t`` reads the *new* cell
state ``c_t``.

Every variant keeps the fused layout of :mod:`.lstm` (rows i, f, g, o), so
parameters move between variants and to PyTorch unchanged.  The block a
variant does not use (``f`` for ``"no-forget"``, ``i`` for ``"coupled"``,
``o`` for ``"no-output"``) stays in the arrays and gets a zero gradient; the
cache's ``gates`` hold the values the cell really used (1 for a removed gate,
``1 - f`` for the coupled input gate).

``"vanilla"`` here computes the same numbers as :func:`.lstm.lstm_forward`
along the general path; :func:`lessons_lib.cells.dispatch.sequence_forward`
sends ``variant="vanilla"`` to :mod:`.lstm`, whose loop has no branches.

References: K. Greff, R. K. Srivastava, J. Koutník, B. R. Steunebrink and
J. Schmidhuber, "LSTM: a search space odyssey", IEEE Transactions on Neural
Networks and Learning Systems 28(10), 2017; F. A. Gers and J. Schmidhuber,
"Recurrent nets that time and count", IJCNN 2000; S. Hochreiter and
J. Schmidhuber, "Long short-term memory", Neural Computation 9 (1997).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ..validation import check, check_cache, check_choice, check_lengths
from .activations import dsigmoid_from_output, dtanh_from_output, sigmoid
from .lstm import check_lstm_params
from .sequence import batch_first, input_gradients, mask_from_lengths, project_inputs, stacked_outer, time_major

#: The variants, in the order the book lists them.
VARIANTS = ("vanilla", "no-forget", "no-output", "no-input-activation", "coupled", "peephole")
#: The peephole weights of ``variant="peephole"``, each of shape (H,): into i and f from c_{t-1}, into o from c_t.
PEEPHOLE_KEYS = ("p_i", "p_f", "p_o")


def check_variant(variant: object) -> str:
    """Return ``variant`` if it names one of :data:`VARIANTS`, else raise naming the choices."""
    return check_choice("variant", variant, VARIANTS)


def has_peepholes(params: object) -> bool:
    """Whether ``params`` holds any peephole weight."""
    return isinstance(params, Mapping) and any(k in params for k in PEEPHOLE_KEYS)


def check_variant_params(params, variant: str) -> tuple[dict, np.dtype, dict]:
    """Validate the parameters of ``variant``; return them, their dtype and the bound sizes ``{H, 4H, D}``.

    ``"peephole"`` needs ``p_i``, ``p_f``, ``p_o`` of shape (H,) besides the
    four arrays of :func:`.lstm.check_lstm_params`; the other variants refuse them.
    """
    variant = check_variant(variant)
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    present = [k for k in PEEPHOLE_KEYS if k in params]
    if variant == "peephole" and len(present) < len(PEEPHOLE_KEYS):
        missing = [k for k in PEEPHOLE_KEYS if k not in params]
        raise ValueError(f"variant 'peephole' needs the peephole weights {list(PEEPHOLE_KEYS)}, each of shape (H,), "
                         f"in params; missing {missing} (init_params('lstm', ..., variant='peephole') makes them)")
    if variant != "peephole" and present:
        raise ValueError(f"params hold peephole weights {present}, which only variant='peephole' uses; "
                         f"got variant={variant!r}")
    p, dtype, dims = check_lstm_params({k: v for k, v in params.items() if k not in PEEPHOLE_KEYS})
    for k in present:
        p[k] = check(f"params[{k!r}]", params[k], ("H",), dims, dtype)
    return p, dtype, dims


class LSTMVariantStepCache(NamedTuple):
    """What one step's backward pass needs."""

    x: np.ndarray       #: (N, D) input
    h_prev: np.ndarray  #: (N, H)
    c_prev: np.ndarray  #: (N, H)
    gates: np.ndarray   #: (N, 4H) the gates i, f, g, o as used
    c: np.ndarray       #: (N, H) new cell state
    tanh_c: np.ndarray  #: (N, H)
    params: dict        #: the validated parameters, for the backward pass
    variant: str        #: which variant made it


class LSTMVariantCache(NamedTuple):
    """What a sequence's backward pass needs (time-major arrays)."""

    x: np.ndarray            #: (T, N, D)
    h: np.ndarray            #: (T + 1, N, H), h[0] = h0
    c: np.ndarray            #: (T + 1, N, H), c[0] = c0
    gates: np.ndarray        #: (T, N, 4H) the gates as used
    tanh_c: np.ndarray       #: (T, N, H)
    mask: np.ndarray | None  #: (T, N, 1) or None
    params: dict             #: the validated parameters, for the backward pass
    variant: str             #: which variant made it


def _step(a_x, h_prev, c_prev, p, variant):
    """One step of ``variant`` given the input part of the pre-activations, ``a_x = W_x x + b_x + b_h``."""
    H = h_prev.shape[1]
    a = a_x + h_prev @ p["W_h"].T                  # (N, 4H) pre-activations of i, f, g, o
    if variant == "peephole":
        a[:, :H] += p["p_i"] * c_prev              # the input and forget gates see c_{t-1}
        a[:, H:2 * H] += p["p_f"] * c_prev
    gates = sigmoid(a)
    gates[:, 2 * H:3 * H] = a[:, 2 * H:3 * H] if variant == "no-input-activation" else np.tanh(a[:, 2 * H:3 * H])
    if variant == "no-forget":
        gates[:, H:2 * H] = 1.0
    elif variant == "coupled":
        gates[:, :H] = 1.0 - gates[:, H:2 * H]     # write exactly what is forgotten
    i, f, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H]
    c = f * c_prev + i * g                         # (N, H)
    if variant == "peephole":
        gates[:, 3 * H:] = sigmoid(a[:, 3 * H:] + p["p_o"] * c)   # the output gate sees the new c_t
    elif variant == "no-output":
        gates[:, 3 * H:] = 1.0
    tanh_c = np.tanh(c)
    h = gates[:, 3 * H:] * tanh_c                  # (N, H)
    return gates, c, tanh_c, h


def _step_backward(dh, dc, c_prev, c, gates, tanh_c, p, variant):
    """Gradients of the fused pre-activation ``da`` (N, 4H), of ``h_prev`` and of ``c_prev``.

    ``da`` is zero in the block of a removed gate.  For ``"peephole"``, ``da``
    is the gradient of the full pre-activations, peephole terms included, so
    ``dp_k = sum_n da_k * c_prev`` (``* c`` for ``o``).
    """
    H = c_prev.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    da = np.zeros_like(gates)
    if variant != "no-output":
        da[:, 3 * H:] = dh * tanh_c * dsigmoid_from_output(o)     # output gate
    dc = dc + dh * o * dtanh_from_output(tanh_c)                   # c reaches the loss directly and through h
    if variant == "peephole":
        dc = dc + da[:, 3 * H:] * p["p_o"]                         # ... and through o's peephole
    di, df = dc * g, dc * c_prev
    if variant == "coupled":
        df = df - di                                               # i = 1 - f
    else:
        da[:, :H] = di * dsigmoid_from_output(i)                   # input gate
    if variant != "no-forget":
        da[:, H:2 * H] = df * dsigmoid_from_output(f)              # forget gate
    dg = dc * i
    da[:, 2 * H:3 * H] = dg if variant == "no-input-activation" else dg * dtanh_from_output(g)   # candidate
    dc_prev = dc * f
    if variant == "peephole":
        dc_prev = dc_prev + da[:, :H] * p["p_i"] + da[:, H:2 * H] * p["p_f"]
    return da, da @ p["W_h"], dc_prev


def _peephole_gradients(da, c_prev, c) -> dict:
    """``dp_i``, ``dp_f``, ``dp_o`` (H,) from ``da`` (..., N, 4H), summed over every leading axis."""
    H = c.shape[-1]
    axes = tuple(range(da.ndim - 1))
    return {"p_i": (da[..., :H] * c_prev).sum(axis=axes), "p_f": (da[..., H:2 * H] * c_prev).sum(axis=axes),
            "p_o": (da[..., 3 * H:] * c).sum(axis=axes)}


def lstm_variant_step_forward(x, h_prev, c_prev, params, variant="vanilla"):
    """One step of an LSTM variant.

    Parameters
    ----------
    x : array of shape (N, D)
    h_prev, c_prev : arrays of shape (N, H)
    params : dict
        ``W_x`` (4H, D), ``W_h`` (4H, H), ``b_x`` (4H,), ``b_h`` (4H,); for
        ``"peephole"`` also ``p_i``, ``p_f``, ``p_o`` (H,).
    variant : one of :data:`VARIANTS`

    Returns
    -------
    h, c : arrays of shape (N, H)
    cache : LSTMVariantStepCache
    """
    p, dtype, dims = check_variant_params(params, variant)
    x = check("x", x, ("N", "D"), dims, dtype)
    h_prev = check("h_prev", h_prev, ("N", "H"), dims, dtype)
    c_prev = check("c_prev", c_prev, ("N", "H"), dims, dtype)
    gates, c, tanh_c, h = _step(x @ p["W_x"].T + (p["b_x"] + p["b_h"]), h_prev, c_prev, p, variant)
    return h, c, LSTMVariantStepCache(x, h_prev, c_prev, gates, c, tanh_c, p, variant)


def lstm_variant_step_backward(dh, dc, cache: LSTMVariantStepCache):
    """Backward pass of :func:`lstm_variant_step_forward`.

    Returns
    -------
    dx : (N, D), dh_prev : (N, H), dc_prev : (N, H), grads : dict with the keys of ``params``.
    """
    check_cache(cache, LSTMVariantStepCache, "lstm_variant_step_forward")
    dims = {"N": cache.c.shape[0], "H": cache.c.shape[1]}
    dh = check("dh", dh, ("N", "H"), dims, cache.c.dtype)
    dc = check("dc", dc, ("N", "H"), dims, cache.c.dtype)
    p = cache.params
    da, dh_prev, dc_prev = _step_backward(dh, dc, cache.c_prev, cache.c, cache.gates, cache.tanh_c, p, cache.variant)
    db = da.sum(axis=0)
    grads = {"W_x": da.T @ cache.x, "W_h": da.T @ cache.h_prev, "b_x": db, "b_h": db.copy()}
    if cache.variant == "peephole":
        grads |= _peephole_gradients(da, cache.c_prev, cache.c)
    return da @ p["W_x"], dh_prev, dc_prev, grads


def lstm_variant_forward(params, x, h0, c0, lengths=None, variant="vanilla"):
    """Run an LSTM variant over a batch of sequences.

    Parameters
    ----------
    params : dict
        As for :func:`lstm_variant_step_forward`.
    x : array of shape (N, T, D)
    h0, c0 : arrays of shape (N, H)
    lengths : array of N ints, optional
        True length of each sequence (see :func:`.lstm.lstm_forward`).
    variant : one of :data:`VARIANTS`

    Returns
    -------
    out : (N, T, H), h_T : (N, H), c_T : (N, H), cache : LSTMVariantCache
    """
    p, dtype, dims = check_variant_params(params, variant)
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
    for t in range(T):
        gates[t], c_t, tanh_c[t], h_t = _step(a_x[t], h[t], c[t], p, variant)
        if mask is None:
            h[t + 1], c[t + 1] = h_t, c_t
        else:
            h[t + 1] = np.where(mask[t], h_t, h[t])
            c[t + 1] = np.where(mask[t], c_t, c[t])
    out = h[1:] if mask is None else np.where(mask, h[1:], 0.0)
    cache = LSTMVariantCache(x_tm, h, c, gates, tanh_c, mask, p, variant)
    return batch_first(out).copy(), h[T].copy(), c[T].copy(), cache


def lstm_variant_backward(dout, dh_T, dc_T, cache: LSTMVariantCache):
    """Backpropagation through time for :func:`lstm_variant_forward`.

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dc0 : (N, H), grads : dict with the keys of ``params``.
    """
    check_cache(cache, LSTMVariantCache, "lstm_variant_forward")
    T, N, _ = cache.x.shape
    H = cache.h.shape[2]
    dims = {"N": N, "T": T, "H": H}
    dtype = cache.h.dtype
    dout = time_major(check("dout", dout, ("N", "T", "H"), dims, dtype))
    dh = check("dh_T", dh_T, ("N", "H"), dims, dtype).copy()
    dc = check("dc_T", dc_T, ("N", "H"), dims, dtype).copy()
    p, mask, variant = cache.params, cache.mask, cache.variant

    da = np.empty((T, N, 4 * H), dtype=dtype)
    for t in reversed(range(T)):
        step = (cache.c[t], cache.c[t + 1], cache.gates[t], cache.tanh_c[t], p, variant)
        if mask is None:
            da[t], dh, dc = _step_backward(dh + dout[t], dc, *step)
        else:
            m = mask[t]
            g_h = dh + np.where(m, dout[t], 0.0)
            da[t], dh_prev, dc_prev = _step_backward(np.where(m, g_h, 0.0), np.where(m, dc, 0.0), *step)
            dh = np.where(m, dh_prev, g_h)     # a finished sequence passes its state through unchanged
            dc = np.where(m, dc_prev, dc)
    dx, dW_x, db_x = input_gradients(da, cache.x, p["W_x"])
    grads = {"W_x": dW_x, "W_h": stacked_outer(da, cache.h[:-1]), "b_x": db_x, "b_h": db_x.copy()}
    if variant == "peephole":
        grads |= _peephole_gradients(da, cache.c[:-1], cache.c[1:])
    return dx.copy(), dh, dc, grads
