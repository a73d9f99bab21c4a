"""Losses over sequences, with their gradients: softmax cross-entropy and mean squared error.

For scores ``y`` (one row of ``V`` numbers per step) and a target class ``k``,
the per-step loss is ``-log softmax(y)_k``; its gradient with respect to
``y`` is ``softmax(y) - onehot(k)``.  Subtracting the row maximum before
exponentiating changes nothing mathematically and keeps ``exp`` from
overflowing.

For real-valued predictions ``y`` and targets ``z``, the mean squared error
is ``mean (y - z)^2`` over the entries that count; its gradient is
``2 (y - z) / count`` at those entries and 0 elsewhere.
"""

from __future__ import annotations

import numpy as np

from ..validation import as_array, check, check_lengths


def log_softmax(y):
    """``log softmax`` along the last axis, stable for any finite scores."""
    y = as_array("y", y)
    shifted = y - y.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(y):
    """Softmax along the last axis (probabilities that sum to 1)."""
    return np.exp(log_softmax(y))


def softmax_cross_entropy(y, targets, lengths=None):
    """Mean cross-entropy (in nats per step) of scores against integer targets, and its gradient.

    Parameters
    ----------
    y : array of shape (N, T, V)
        Scores.
    targets : int array of shape (N, T)
        Target class of every step, in ``0 .. V-1``.
    lengths : array of N ints, optional
        Steps at ``t >= lengths[n]`` are padding: they count neither in the
        loss nor in the mean.

    Returns
    -------
    loss : float
        Mean over the real steps.
    dy : array of shape (N, T, V)
        Gradient of ``loss`` with respect to ``y`` (zero at padding).
    """
    y = as_array("y", y)
    if y.ndim != 3:
        raise ValueError(f"y must have shape (N, T, V), got {y.shape}")
    N, T, V = y.shape
    targets = np.asarray(targets)
    if targets.dtype.kind not in "iu":
        raise TypeError(f"targets must be an array of integers, got dtype {targets.dtype}")
    if targets.shape != (N, T):
        raise ValueError(f"targets must have shape ({N}, {T}) like y's first two axes, got {targets.shape}")
    if targets.size and (targets.min() < 0 or targets.max() >= V):
        raise ValueError(f"targets must lie in 0 .. {V - 1}, got values from {targets.min()} to {targets.max()}")
    lengths = check_lengths(lengths, N, T)
    real = np.ones((N, T), dtype=bool) if lengths is None else np.arange(T)[None, :] < lengths[:, None]
    count = int(real.sum())
    if count == 0:
        raise ValueError("softmax_cross_entropy needs at least one real step; all lengths are 0")

    logp = log_softmax(y)                                           # (N, T, V)
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]  # (N, T)
    loss = float(-(picked * real).sum() / count)
    dy = np.exp(logp)
    np.put_along_axis(dy, targets[..., None], np.take_along_axis(dy, targets[..., None], axis=-1) - 1.0, axis=-1)
    dy *= real[..., None] / count
    return loss, dy


def cross_entropy_per_token(y, targets):
    """``-log softmax(y)[target]`` at every step, in nats: scores (N, T, V), targets (N, T) -> (N, T).

    The unreduced form of :func:`softmax_cross_entropy` (no gradient), for
    asking *where* a model is surprised.
    """
    y = as_array("y", y)
    targets = np.asarray(targets)
    if y.ndim != 3 or targets.shape != y.shape[:2]:
        raise ValueError(f"y must have shape (N, T, V) and targets (N, T), got {y.shape} and {targets.shape}")
    if targets.dtype.kind not in "iu":
        raise TypeError(f"targets must be an array of integers, got dtype {targets.dtype}")
    return -np.take_along_axis(log_softmax(y), targets[..., None], axis=-1)[..., 0]


def mean_squared_error(y, target, mask=None):
    """Mean of ``(y - target)^2`` over the entries where ``mask`` is true, and its gradient.

    Parameters
    ----------
    y : float array of any shape
        Predictions.
    target : array of the shape of ``y``
        Targets (``nan`` is allowed where ``mask`` is false).
    mask : bool array of the shape of ``y``, optional
        Which entries count; all of them by default.

    Returns
    -------
    loss : float
    dy : array of the shape of ``y``
        Gradient of ``loss`` with respect to ``y``, zero where ``mask`` is false.
    """
    y = as_array("y", y)
    dims: dict[str, int] = {f"d{k}": n for k, n in enumerate(y.shape)}
    shape = tuple(dims)
    target = check("target", target, shape, dims, y.dtype)
    if mask is None:
        mask = np.ones(y.shape, dtype=bool)
    else:
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != y.shape:
            raise ValueError(f"mask must be a bool array of shape {y.shape} like y, got {mask.dtype} {mask.shape}")
    count = int(mask.sum())
    if count == 0:
        raise ValueError("mean_squared_error needs at least one entry where mask is true")
    err = np.where(mask, y - np.where(mask, target, 0), 0).astype(y.dtype)
    if not np.all(np.isfinite(err)):
        raise ValueError("target must be finite wherever mask is true")
    return float(np.sum(err.astype(np.float64) ** 2) / count), (2.0 / count) * err
