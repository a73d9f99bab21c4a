"""Gradient clipping: rescale a gradient that is too long, or cut its entries.

Two rules are in common use.  For a gradient ``g`` (every parameter's
gradient, taken together as one long vector) and a threshold:

**Norm clipping** (Pascanu, Mikolov and Bengio 2013, Algorithm 1)::

    if ||g|| >= max_norm:
        g <- (max_norm / ||g||) g

It shortens ``g`` and keeps its direction.

**Value clipping**::

    g_i <- min(max(g_i, -clip_value), clip_value)    for every entry i

It bounds each entry separately, so a gradient with a few large entries
changes direction as well as length.

Neither rule can make a gradient longer, so neither does anything for a
gradient that has vanished.  Chapter 2 shows both facts with numbers.

Every function takes either one array or a dict of arrays (a parameter's name
to its gradient, as :func:`~lessons_lib.cells.dispatch.sequence_backward` returns them) and
treats a dict as one vector; results come back in the same form, as new
arrays: the inputs are never changed.

Reference: R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of
training recurrent neural networks", ICML (2013).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..validation import as_array


def _arrays(name: str, grads) -> dict:
    """The gradient as a dict of float arrays (one array becomes ``{None: array}``)."""
    if isinstance(grads, Mapping):
        if not grads:
            raise ValueError(f"{name} must not be an empty dict")
        return {k: as_array(f"{name}[{k!r}]", v) for k, v in grads.items()}
    return {None: as_array(name, grads)}


def _pack(arrays: dict, like):
    return arrays[None] if not isinstance(like, Mapping) else arrays


def _check_threshold(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}")
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return value


def global_norm(grads) -> float:
    """Euclidean norm of all entries of ``grads`` (an array or a dict of arrays) taken as one vector."""
    arrays = _arrays("grads", grads)
    # Divide by the largest entry first, so that squaring a huge gradient cannot overflow.
    largest = max((float(np.max(np.abs(a))) for a in arrays.values() if a.size), default=0.0)
    if largest == 0.0 or not np.isfinite(largest):
        return largest
    return largest * float(np.sqrt(sum(np.sum(np.square(a / largest, dtype=np.float64)) for a in arrays.values())))


def clip_by_norm(grads, max_norm):
    """Pascanu et al.'s norm clipping: rescale ``grads`` to norm ``max_norm`` if it is longer.

    Parameters
    ----------
    grads : array, or dict of arrays
        The gradient; a dict is clipped as one vector (its *global* norm).
    max_norm : float
        The threshold, positive.

    Returns
    -------
    clipped : same form as ``grads``
        New arrays, ``grads * min(1, max_norm / ||grads||)``.
    norm : float
        ``||grads||`` before clipping (worth logging: a sudden jump marks a cliff).

    Raises
    ------
    ValueError
        If the gradient contains inf or nan: no rescaling can repair it.
    """
    max_norm = _check_threshold("max_norm", max_norm)
    arrays = _arrays("grads", grads)
    norm = global_norm(arrays)
    if not np.isfinite(norm):
        raise ValueError(f"the gradient's norm is {norm}; clipping cannot rescale a gradient with inf or nan entries")
    scale = max_norm / norm if norm >= max_norm else 1.0
    return _pack({k: a * scale for k, a in arrays.items()}, grads), norm


def clip_by_value(grads, clip_value):
    """Element-wise clipping: every entry of ``grads`` is cut to ``[-clip_value, clip_value]``.

    Returns new arrays in the form of ``grads``.  Unlike :func:`clip_by_norm`
    this can change the gradient's direction.
    """
    clip_value = _check_threshold("clip_value", clip_value)
    arrays = _arrays("grads", grads)
    return _pack({k: np.clip(a, -clip_value, clip_value) for k, a in arrays.items()}, grads)


def cosine_similarity(a, b) -> float:
    """``a . b / (||a|| ||b||)`` of two gradients of the same form: 1 means the same direction.

    Both must be arrays of one shape, or dicts with the same keys and shapes.
    """
    arrays_a, arrays_b = _arrays("a", a), _arrays("b", b)
    if arrays_a.keys() != arrays_b.keys():
        raise ValueError(f"a and b must have the same keys, got {sorted(map(str, arrays_a))} "
                         f"and {sorted(map(str, arrays_b))}")
    for k in arrays_a:
        if arrays_a[k].shape != arrays_b[k].shape:
            what = "a and b" if k is None else f"a[{k!r}] and b[{k!r}]"
            raise ValueError(f"{what} must have the same shape, got {arrays_a[k].shape} and {arrays_b[k].shape}")
    # Divide by the largest entry, then by the norm, before multiplying: tiny or huge gradients
    # then neither underflow nor overflow.
    unit_a, unit_b = _unit(arrays_a), _unit(arrays_b)
    return float(sum(np.sum(unit_a[k] * unit_b[k], dtype=np.float64) for k in arrays_a))


def _unit(arrays: dict) -> dict:
    """The gradient divided by its global norm, computed without underflow."""
    largest = max((float(np.max(np.abs(a))) for a in arrays.values() if a.size), default=0.0)
    if largest == 0.0:
        raise ValueError("the cosine of a zero gradient is undefined")
    if not np.isfinite(largest):
        raise ValueError("the cosine of a gradient with inf or nan entries is undefined")
    scaled = {k: a.astype(np.float64) / largest for k, a in arrays.items()}
    norm = global_norm(scaled)
    return {k: a / norm for k, a in scaled.items()}
