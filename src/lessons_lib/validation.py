"""Checks for the arguments of the library's public functions.

Every public entry point turns its array arguments into numpy arrays of one
floating dtype and checks their shapes here, so that a wrong argument fails
at once with a message that names the argument, the expected shape and the
received shape, e.g. ``x must have shape (N, T, 5), got (2, 7, 6)``, instead
of a broadcasting error deep inside a time loop.

Shapes are written as tuples of ints and dimension letters.  A letter is bound
the first time it is seen (in the ``dims`` dictionary that the caller passes
along) and must match afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: The three classic cells, which have recurrent weights ``W_h`` (the PyTorch seam and stacked networks take these).
KINDS = ("rnn", "lstm", "gru")
#: The minimal gated cells of Feng et al. (2024), gated linear recurrences (:mod:`lessons_lib.cells.min_cells`).
MIN_KINDS = ("mingru", "minlstm")
#: Every cell the sequence dispatch, the initialisation, the gradient checks and the training accept.
ALL_KINDS = KINDS + MIN_KINDS
#: How messages name each cell family, article included.
CELL_NAMES = {"rnn": "an RNN", "lstm": "an LSTM", "gru": "a GRU", "mingru": "a minGRU", "minlstm": "a minLSTM"}


def check_cache(cache: object, expected: type, made_by: str) -> None:
    """Raise a ``TypeError`` unless ``cache`` is the ``expected`` cache type that ``made_by`` returns."""
    if not isinstance(cache, expected):
        raise TypeError(f"cache must be the {expected.__name__} returned by {made_by}, got {type(cache).__name__}")


def format_shape(shape: Sequence[int | str], dims: Mapping[str, int] | None = None) -> str:
    """Write a shape spec as ``(N, T, 5)``, filling in letters already bound in ``dims``."""
    dims = dims or {}
    parts = [str(dims.get(s, s)) if isinstance(s, str) else str(s) for s in shape]
    return "(" + ", ".join(parts) + (",)" if len(parts) == 1 else ")")


def check_choice(name: str, value: object, choices: tuple) -> str:
    """Return ``value`` if it is one of the strings ``choices``, else raise naming ``name``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {choices}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int, if it is one (not a bool) and at least ``minimum``; otherwise a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def check_kind(kind: object) -> str:
    """Return ``kind`` if it names one of the three classic cell families (:data:`KINDS`), else raise.

    The minimal cells (:data:`MIN_KINDS`) are refused with a message saying why: the functions that call
    this one (stacked networks, the PyTorch seam, the gradient-flow analyses) are built on the recurrent
    weights ``W_h``, which the minimal cells do not have.
    """
    if kind in MIN_KINDS:
        raise ValueError(f"kind must be one of {KINDS} here, got {kind!r}: {CELL_NAMES[kind]} has no recurrent "
                         f"weights W_h, and this function takes the three classic cells only")
    return check_choice("kind", kind, KINDS)


def check_any_kind(kind: object) -> str:
    """Return ``kind`` if it names any cell of the library (:data:`ALL_KINDS`, the minimal cells too), else raise."""
    return check_choice("kind", kind, ALL_KINDS)


def as_array(name: str, value: object, dtype: np.dtype | None = None) -> np.ndarray:
    """Convert ``value`` to a float array.

    Integer and boolean input (a one-hot vector, say) is cast to ``dtype``
    (float64 when ``dtype`` is None).  Floating input must already have
    ``dtype`` when one is given: the library never silently changes the
    precision of a float array.  Anything else is a ``TypeError``.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists, for instance
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__} ({exc})") from None
    kind = arr.dtype.kind
    if kind in "biu":
        return arr.astype(dtype if dtype is not None else np.float64)
    if kind != "f":
        raise TypeError(f"{name} must be a numeric array of floats or integers, got dtype {arr.dtype}")
    if arr.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {arr.dtype}")
    if dtype is not None and arr.dtype != dtype:
        raise TypeError(
            f"{name} must have dtype {np.dtype(dtype)} like the parameters, got {arr.dtype}; "
            f"convert one of them with .astype()"
        )
    return arr


def check_shape(name: str, arr: np.ndarray, shape: Sequence[int | str], dims: dict[str, int]) -> np.ndarray:
    """Check ``arr.shape`` against ``shape``, binding dimension letters in ``dims``."""
    if arr.ndim != len(shape) or any(
        (isinstance(s, int) and n != s) or (isinstance(s, str) and s in dims and dims[s] != n)
        for s, n in zip(shape, arr.shape)
    ):
        raise ValueError(f"{name} must have shape {format_shape(shape, dims)}, got {tuple(arr.shape)}")
    for s, n in zip(shape, arr.shape):
        if isinstance(s, str):
            dims[s] = n
    return arr


def check(name: str, value: object, shape: Sequence[int | str], dims: dict[str, int],
          dtype: np.dtype | None = None) -> np.ndarray:
    """``as_array`` followed by ``check_shape``."""
    return check_shape(name, as_array(name, value, dtype), shape, dims)


def check_lengths(lengths: object, N: int, T: int) -> np.ndarray | None:
    """Validate per-sequence lengths and return them as an int array of shape (N,), or None."""
    if lengths is None:
        return None
    arr = np.asarray(lengths)
    if arr.dtype.kind not in "iu":
        # Whole-number floats (a length computed as 3.0, say) are accepted; anything else is not.
        if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"lengths must be an array of integers, got dtype {arr.dtype}"
                            + (" with non-finite values" if arr.dtype.kind == "f" else ""))
    if arr.shape != (N,):
        raise ValueError(f"lengths must have shape ({N},), one length per sequence, got {tuple(arr.shape)}")
    if arr.size and (arr.min() < 0 or arr.max() > T):
        raise ValueError(f"lengths must lie between 0 and T = {T}, got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.int64)


def check_params(params: object, expected: Mapping[str, tuple], dims: dict[str, int],
                 what: str) -> tuple[dict[str, np.ndarray], np.dtype]:
    """Check a parameter dictionary: its keys, one float dtype for all, and the shapes.

    ``expected`` maps each key to its shape spec, in the order in which
    dimensions should be bound.  Returns the arrays and their common dtype.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays with keys {sorted(expected)}, got {type(params).__name__}")
    missing = [k for k in expected if k not in params]
    extra = [k for k in params if k not in expected]
    if missing or extra:
        raise ValueError(
            f"params for {what} must have keys {list(expected)}, "
            f"missing {missing}, unexpected {extra}"
        )
    out: dict[str, np.ndarray] = {}
    dtype = None
    for key, shape in expected.items():
        arr = as_array(f"params[{key!r}]", params[key], dtype)
        if arr.dtype.kind != "f":  # pragma: no cover - as_array casts ints to float
            raise TypeError(f"params[{key!r}] must be a float array, got {arr.dtype}")
        dtype = arr.dtype if dtype is None else dtype
        out[key] = check_shape(f"params[{key!r}]", arr, shape, dims)
    return out, dtype
