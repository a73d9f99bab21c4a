"""How the gradient travels through a stacked network: down the layers and back in time, together.

A stacked network reads ``x`` (N, T, D) and its top layer writes ``out``
(N, T, num_directions H).  The loss here reads the top layer's output at the
last step only, ``L = sum_n u_n . out_{n,T}``, with one random unit vector
``u_n`` per sequence.  Its gradient with respect to the input at step ``t``,
``dL/dx_t``, has travelled down all ``L`` layers and back ``T - t`` steps in
time, through any mix of the two: at each layer the backward pass may go one
step back in time (through ``W_h``) or one layer down (through ``W_x``).

With **residual connections** (``residual=True`` of
:func:`~lessons_lib.cells.stacked.stacked_forward`) each layer above the first
adds its input to its output, so going one layer down has an identity path
as well: the gradient at ``t = T`` no longer shrinks with the number of
layers.  Going back in time still passes through each layer's own recurrence,
so the factor per step is what the cells make it.

:func:`input_gradient_norms` measures ``||dL/dx_t||`` for one network;
:func:`depth_time_gradients` does it for networks of 1, 2, ... layers whose
lower layers are the same weights (drawn in order by
:func:`~lessons_lib.cells.stacked.init_stacked` from one seed), with the same
inputs and the same ``u``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..cells.stacked import check_net, init_stacked, stacked_backward, stacked_forward
from ..validation import check_int, check_kind


def _unit_rows(rng: np.random.Generator, N: int, K: int) -> np.ndarray:
    u = rng.standard_normal((N, K))
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def input_gradient_norms(kind, net, x, u, *, residual: bool = False, **options) -> np.ndarray:
    """``||dL/dx_{n,t}||`` for ``L = sum_n u_n . out_{n,T}``, the top layer's output at the last step.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    net : list of tuples of parameter dicts
        A stacked network (see :mod:`lessons_lib.cells.stacked`).
    x : array of shape (N, T, D)
    u : array of shape (N, num_directions * H)
        The direction in which the loss reads ``out_T`` of each sequence.
    residual : bool
        Residual connections between layers.
    **options
        The cells' options (a GRU's ``reset`` and ``update``).

    Returns
    -------
    norms : array of shape (N, T)
        Euclidean norm of the gradient reaching each input step of each sequence.
    """
    kind = check_kind(kind)
    _, _, dims = check_net(kind, net)
    out, _, cache = stacked_forward(kind, net, x, residual=residual, **options)
    u = np.asarray(u, dtype=out.dtype)
    if u.shape != (out.shape[0], out.shape[2]):
        raise ValueError(f"u must have shape (N, num_directions * H) = {(out.shape[0], out.shape[2])}, "
                         f"got {u.shape}")
    dout = np.zeros_like(out)
    dout[:, -1] = u                                            # the loss reads out_T only
    dx, _, _ = stacked_backward(kind, dout, None, cache)      # (N, T, D)
    return np.linalg.norm(dx, axis=2)                          # (N, T)


class DepthTimeGradients(NamedTuple):
    """Gradient norms at the input of stacked networks of several depths (see :func:`depth_time_gradients`)."""

    depths: tuple          #: the numbers of layers L, one row each
    distance: np.ndarray   #: (T,) distances T - t, from 0 (the last step) to T - 1
    typical: np.ndarray    #: (len(depths), T) geometric mean over the sequences of ||dL/dx_t||, by distance
    residual: bool         #: whether the networks had residual connections


def depth_time_gradients(kind, depths: Sequence[int], T: int, rng: np.random.Generator, *, D: int = 32,
                         H: int = 32, N: int = 8, bidirectional: bool = False, residual: bool = False,
                         init_seed: int = 0, **init_options) -> DepthTimeGradients:
    """``||dL/dx_t||`` against the distance ``T - t`` for stacked networks of each depth in ``depths``.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    depths : sequence of positive ints
        Numbers of layers to measure.
    T : int
        Sequence length.
    rng : numpy.random.Generator
        Draws the inputs ``x`` (N, T, D), standard normal, and the read-out
        directions ``u``; the same for every depth.
    D, H, N : int
        Input size, hidden size, number of sequences.
    bidirectional, residual : bool
    init_seed : int
        Seed of the weights: every depth draws its layers from
        ``np.random.default_rng(init_seed)`` in order, so a deeper network's
        lower layers are the shallower one's.
    **init_options
        For :func:`~lessons_lib.cells.stacked.init_stacked` (``scheme``, ``forget_bias``...).

    Returns
    -------
    DepthTimeGradients
        ``typical[j, k]`` is the geometric mean over the ``N`` sequences of
        the gradient norm at step ``t = T - k`` of the network with
        ``depths[j]`` layers.
    """
    kind = check_kind(kind)
    T = check_int("T", T, 1)
    depths = tuple(check_int("depths[...]", L, 1) for L in depths)
    if not depths:
        raise ValueError("depths must hold at least one number of layers")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}")
    nd = 2 if bidirectional else 1
    x = rng.standard_normal((N, T, D))
    u = _unit_rows(rng, N, nd * H)
    rows = []
    for L in depths:
        net = init_stacked(kind, D, H, L, bidirectional, np.random.default_rng(init_seed), **init_options)
        norms = input_gradient_norms(kind, net, x, u, residual=residual)     # (N, T)
        rows.append(np.exp(np.mean(np.log(np.maximum(norms, 1e-300)), axis=0))[::-1])  # by distance T - t
    return DepthTimeGradients(depths, np.arange(T), np.array(rows), residual)


def factor_per_step(typical: np.ndarray, start: int) -> np.ndarray:
    """The geometric-mean factor by which the gradient shrinks per step of distance, from ``start`` to the end.

    ``(typical[..., -1] / typical[..., start]) ** (1 / (K - 1 - start))`` along
    the last axis of length ``K``: 1 means no decay, 0.5 halving at each step.
    The first few steps mix the paths across layers, so start past them.
    """
    typical = np.asarray(typical, dtype=np.float64)
    K = typical.shape[-1]
    if not 0 <= start < K - 1:
        raise ValueError(f"start must lie in [0, {K - 1}) for curves of {K} points, got {start}")
    return (typical[..., -1] / typical[..., start]) ** (1.0 / (K - 1 - start))
