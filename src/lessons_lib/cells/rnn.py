"""The vanilla (Elman) tanh RNN: forward and backward, one step and a whole sequence.

Equations (chapter 1 writes them the same way)::

    h_t = tanh(W_x x_t + b_x + W_h h_{t-1} + b_h)

The source document writes one bias ``b``; like PyTorch the library keeps two,
``b = b_x + b_h``, so that weights move between the two without loss.  Only
their sum matters, so their gradients are equal.

Shapes: ``N`` batch, ``T`` time, ``D`` input, ``H`` hidden.

=========  ==========  ================================
name       shape       PyTorch ``nn.RNN`` equivalent
=========  ==========  ================================
``W_x``    ``(H, D)``  ``weight_ih_l0``
``W_h``    ``(H, H)``  ``weight_hh_l0``
``b_x``    ``(H,)``    ``bias_ih_l0``
``b_h``    ``(H,)``    ``bias_hh_l0``
=========  ==========  ================================

Reference: J. L. Elman, "Finding structure in time", Cognitive Science 14 (1990).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..validation import CELL_NAMES, check, check_cache, check_lengths, check_params
from .activations import dtanh_from_output
from .sequence import batch_first, input_gradients, mask_from_lengths, project_inputs, stacked_outer, time_major

PARAM_SHAPES = {"W_x": ("H", "D"), "W_h": ("H", "H"), "b_x": ("H",), "b_h": ("H",)}


def check_rnn_params(params) -> tuple[dict, np.dtype, dict]:
    """Validate RNN parameters; return them, their dtype and the bound sizes ``{H, D}``."""
    dims: dict[str, int] = {}
    p, dtype = check_params(params, PARAM_SHAPES, dims, CELL_NAMES["rnn"])
    return p, dtype, dims


class RNNStepCache(NamedTuple):
    """What one step's backward pass needs."""

    x: np.ndarray       #: (N, D) input
    h_prev: np.ndarray  #: (N, H) previous hidden state
    h: np.ndarray       #: (N, H) new hidden state
    params: dict  #: the validated parameters, for the backward pass


class RNNCache(NamedTuple):
    """What a sequence's backward pass needs (time-major arrays)."""

    x: np.ndarray            #: (T, N, D) inputs
    h: np.ndarray            #: (T + 1, N, H) hidden states, h[0] = h0
    mask: np.ndarray | None  #: (T, N, 1) true while a sequence runs, or None
    params: dict  #: the validated parameters, for the backward pass


def rnn_step_forward(x, h_prev, params):
    """One step of the tanh RNN.

    Parameters
    ----------
    x : array of shape (N, D)
        Input at this step.
    h_prev : array of shape (N, H)
        Previous hidden state.
    params : dict
        ``W_x`` (H, D), ``W_h`` (H, H), ``b_x`` (H,), ``b_h`` (H,).

    Returns
    -------
    h : array of shape (N, H)
        ``tanh(W_x x + b_x + W_h h_prev + b_h)``.
    cache : RNNStepCache
    """
    p, dtype, dims = check_rnn_params(params)
    x = check("x", x, ("N", "D"), dims, dtype)
    h_prev = check("h_prev", h_prev, ("N", "H"), dims, dtype)
    h = _step(x @ p["W_x"].T + (p["b_x"] + p["b_h"]), h_prev, p["W_h"])
    return h, RNNStepCache(x, h_prev, h, p)


def rnn_step_backward(dh, cache: RNNStepCache):
    """Backward pass of :func:`rnn_step_forward`.

    Parameters
    ----------
    dh : array of shape (N, H)
        Gradient of the loss with respect to ``h``.
    cache : RNNStepCache

    Returns
    -------
    dx : (N, D), dh_prev : (N, H), grads : dict with the keys of ``params``.
    """
    check_cache(cache, RNNStepCache, "rnn_step_forward")
    dims = {"N": cache.h.shape[0], "H": cache.h.shape[1]}
    dh = check("dh", dh, ("N", "H"), dims, cache.h.dtype)
    p = cache.params
    da, dh_prev = _step_backward(dh, cache.h, p["W_h"])
    db = da.sum(axis=0)
    grads = {"W_x": da.T @ cache.x, "W_h": da.T @ cache.h_prev, "b_x": db, "b_h": db.copy()}
    return da @ p["W_x"], dh_prev, grads


def _step(a_x, h_prev, W_h):
    """The recurrence given the input part of the pre-activation, ``a_x = W_x x + b_x + b_h``."""
    return np.tanh(a_x + h_prev @ W_h.T)  # (N, H)


def _step_backward(dh, h, W_h):
    """Gradient of the pre-activation, ``da = dh * (1 - h^2)``, and of ``h_prev``."""
    da = dh * dtanh_from_output(h)  # (N, H)
    return da, da @ W_h


def rnn_forward(params, x, h0, lengths=None):
    """Run the tanh RNN over a batch of sequences.

    Parameters
    ----------
    params : dict
        ``W_x`` (H, D), ``W_h`` (H, H), ``b_x`` (H,), ``b_h`` (H,).
    x : array of shape (N, T, D)
        Input sequences, batch first.
    h0 : array of shape (N, H)
        Initial hidden state.
    lengths : array of N ints, optional
        True length of each sequence (``0 <= lengths[n] <= T``).  Steps past
        a sequence's length leave its state unchanged and output zeros.

    Returns
    -------
    out : array of shape (N, T, H)
        Hidden state at every step (zero past a sequence's end).
    h_T : array of shape (N, H)
        Final hidden state of each sequence (at its own last step).
    cache : RNNCache
    """
    p, dtype, dims = check_rnn_params(params)
    x = check("x", x, ("N", "T", "D"), dims, dtype)
    h0 = check("h0", h0, ("N", "H"), dims, dtype)
    N, T, _ = x.shape
    mask = mask_from_lengths(check_lengths(lengths, N, T), T)

    x_tm = time_major(x)                             # (T, N, D)
    a_x = project_inputs(x_tm, p["W_x"], p["b_x"] + p["b_h"])  # (T, N, H)
    h = np.empty((T + 1, N, dims["H"]), dtype=dtype)
    h[0] = h0
    W_h = np.asfortranarray(p["W_h"])  # W_h.T is then C-contiguous, which BLAS multiplies faster at these sizes
    for t in range(T):
        h_t = _step(a_x[t], h[t], W_h)
        h[t + 1] = h_t if mask is None else np.where(mask[t], h_t, h[t])
    out = h[1:] if mask is None else np.where(mask, h[1:], 0.0)
    return batch_first(out).copy(), h[T].copy(), RNNCache(x_tm, h, mask, p)


def rnn_backward(dout, dh_T, cache: RNNCache):
    """Backpropagation through time for :func:`rnn_forward`.

    Parameters
    ----------
    dout : array of shape (N, T, H)
        Gradient of the loss with respect to ``out``.
    dh_T : array of shape (N, H)
        Gradient of the loss with respect to the final state ``h_T``
        (zeros when only ``out`` enters the loss).
    cache : RNNCache

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), grads : dict with the keys of ``params``.
    """
    check_cache(cache, RNNCache, "rnn_forward")
    T, N, _ = cache.x.shape
    H = cache.h.shape[2]
    dims = {"N": N, "T": T, "H": H}
    dtype = cache.h.dtype
    dout = time_major(check("dout", dout, ("N", "T", "H"), dims, dtype))
    dh = check("dh_T", dh_T, ("N", "H"), dims, dtype).copy()
    p, mask = cache.params, cache.mask

    da = np.empty((T, N, H), dtype=dtype)
    for t in reversed(range(T)):
        if mask is None:
            da[t], dh = _step_backward(dh + dout[t], cache.h[t + 1], p["W_h"])
        else:
            m = mask[t]
            g = dh + np.where(m, dout[t], 0.0)  # total gradient reaching h_t
            da_t, dh_prev = _step_backward(np.where(m, g, 0.0), cache.h[t + 1], p["W_h"])
            da[t] = da_t
            dh = np.where(m, dh_prev, g)  # a finished sequence passes h_t = h_{t-1} through
    dx, dW_x, db_x = input_gradients(da, cache.x, p["W_x"])
    grads = {"W_x": dW_x, "W_h": stacked_outer(da, cache.h[:-1]), "b_x": db_x, "b_h": db_x.copy()}
    return dx.copy(), dh, grads
