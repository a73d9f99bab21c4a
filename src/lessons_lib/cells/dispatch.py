"""One entry point for every cell family: ``sequence_forward`` and ``sequence_backward``.

The state of a cell is ``h`` (shape ``(N, H)``) for ``"rnn"``, ``"gru"`` and
the minimal cells ``"mingru"`` and ``"minlstm"``, and the pair ``(h, c)`` for
``"lstm"``.  These two functions take and return the state in that form, so
code written for one cell runs with the others by changing ``kind``.  They
call the per-family functions in :mod:`.rnn`, :mod:`.lstm`, :mod:`.gru` and
:mod:`.min_cells`, which do the work, and :mod:`.lstm_variants` for an LSTM
with ``variant`` other than ``"vanilla"``.

The minimal cells have no recurrent weights (their parameters are ``W_x``
and ``b_x`` only, see :func:`param_keys`), so the stacked networks and the
PyTorch seam, which are built on ``W_h``, take the three classic cells only.
"""

from __future__ import annotations

import numpy as np

from ..validation import CELL_NAMES, MIN_KINDS, check_any_kind
from .gru import GRUCache, gru_backward, gru_forward
from .lstm import LSTMCache, lstm_backward, lstm_forward
from .lstm_variants import (
    PEEPHOLE_KEYS,
    LSTMVariantCache,
    check_variant,
    has_peepholes,
    lstm_variant_backward,
    lstm_variant_forward,
)
from .min_cells import PARAM_KEYS as MIN_PARAM_KEYS
from .min_cells import MinCellCache, check_min_params, min_backward, min_forward
from .rnn import RNNCache, rnn_backward, rnn_forward

GATE_COUNT = {"rnn": 1, "lstm": 4, "gru": 3}
#: The parameters every cell has; a peephole LSTM adds :data:`~lessons_lib.cells.lstm_variants.PEEPHOLE_KEYS`.
CELL_KEYS = ("W_x", "W_h", "b_x", "b_h")
_CACHE_TYPES = {"rnn": (RNNCache,), "lstm": (LSTMCache, LSTMVariantCache), "gru": (GRUCache,),
                "mingru": (MinCellCache,), "minlstm": (MinCellCache,)}
#: The keyword options each family's sequence functions take.
OPTIONS = {"rnn": (), "lstm": ("variant",), "gru": ("reset", "update"), "mingru": ("method",),
           "minlstm": ("method",)}


def param_keys(kind) -> tuple:
    """The parameter keys of a cell family: :data:`CELL_KEYS`, or ``W_x``, ``b_x`` for the minimal cells."""
    return MIN_PARAM_KEYS if check_any_kind(kind) in MIN_KINDS else CELL_KEYS


def hidden_size(kind, params) -> int:
    """The number of hidden units ``H`` of the cell whose parameters are ``params``."""
    kind = check_any_kind(kind)
    if kind in MIN_KINDS:
        return check_min_params(kind, {k: params[k] for k in MIN_PARAM_KEYS if k in params})[2]["H"]
    return int(np.shape(params["W_h"])[1])


def _lstm_pair(name: str, state) -> tuple:
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        got = f"a {type(state).__name__} of length {len(state)}" if isinstance(state, (tuple, list)) else type(state).__name__
        raise TypeError(f"{name} of an LSTM must be a pair (h, c) of arrays of shape (N, H), got {got}")
    return tuple(state)


def _single(kind: str, name: str, state):
    if isinstance(state, (tuple, list)) and len(state) == 2 and np.ndim(state[0]) == 2:
        raise TypeError(f"{name} of {CELL_NAMES[kind]} is one array h of shape (N, H), not a pair; "
                        f"only an LSTM has (h, c)")
    return state


def sequence_forward(kind, params, x, state0, lengths=None, **options):
    """Run a cell of family ``kind`` over a batch of sequences.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru", "mingru", "minlstm"}
    params : dict
        ``W_x`` (G H, D), ``W_h`` (G H, H), ``b_x`` (G H,), ``b_h`` (G H,) with
        ``G`` = 1, 4, 3 gates for rnn, lstm, gru; for the minimal cells
        ``W_x`` (G H, D) and ``b_x`` (G H,) only, ``G`` = 2 (mingru) or 3
        (minlstm), see :mod:`lessons_lib.cells.min_cells`.
    x : array of shape (N, T, D)
    state0 : array of shape (N, H), or a pair of them ``(h0, c0)`` for an LSTM
    lengths : array of N ints, optional
        True length of each sequence (see :func:`lessons_lib.cells.rnn.rnn_forward`).
    **options
        For the LSTM, ``variant`` (see :mod:`lessons_lib.cells.lstm_variants`);
        for the GRU, ``reset`` and ``update`` (see :mod:`lessons_lib.cells.gru`);
        for the minimal cells, ``method`` (``"scan"``, ``"doubling"`` or
        ``"loop"``, see :mod:`lessons_lib.cells.linear_recurrence`).

    Returns
    -------
    out : array of shape (N, T, H)
    state : final state, in the form of ``state0``
    cache : the family's cache, for :func:`sequence_backward`
    """
    kind = check_any_kind(kind)
    unknown = sorted(set(options) - set(OPTIONS[kind]))
    if unknown:
        takes = f"takes the options {list(OPTIONS[kind])}" if OPTIONS[kind] else "takes no options"
        raise TypeError(f"{CELL_NAMES[kind]} {takes}, got {unknown} (variant is the LSTM's option; "
                        f"reset and update are the GRU's), and method is the minimal cells' one")
    if kind in MIN_KINDS:
        return min_forward(kind, params, x, _single(kind, "state0", state0), lengths, **options)
    if kind == "rnn":
        out, h, cache = rnn_forward(params, x, _single(kind, "state0", state0), lengths)
        return out, h, cache
    if kind == "gru":
        out, h, cache = gru_forward(params, x, _single(kind, "state0", state0), lengths, **options)
        return out, h, cache
    h0, c0 = _lstm_pair("state0", state0)
    variant = check_variant(options.get("variant", "vanilla"))
    if variant == "vanilla" and not has_peepholes(params):   # the branch-free loop of lstm.py
        out, h, c, cache = lstm_forward(params, x, h0, c0, lengths)
    else:
        out, h, c, cache = lstm_variant_forward(params, x, h0, c0, lengths, variant)
    return out, (h, c), cache


def sequence_backward(kind, dout, dstate, cache):
    """Backpropagation through time for :func:`sequence_forward`.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru", "mingru", "minlstm"}
    dout : array of shape (N, T, H)
        Gradient of the loss with respect to ``out``.
    dstate : gradient with respect to the final state, in the form of ``state``
        (zeros when the final state does not enter the loss).
    cache : the cache returned by :func:`sequence_forward`

    Returns
    -------
    dx : array of shape (N, T, D)
    dstate0 : gradient with respect to ``state0``, in its form
    grads : dict with one entry per parameter, under the parameter's key
    """
    kind = check_any_kind(kind)
    if not isinstance(cache, _CACHE_TYPES[kind]):
        names = " or ".join(t.__name__ for t in _CACHE_TYPES[kind])
        raise TypeError(f"cache must be the {names} returned by sequence_forward({kind!r}, ...), "
                        f"got {type(cache).__name__}")
    if kind in MIN_KINDS:
        if cache.kind != kind:
            raise TypeError(f"cache must be the MinCellCache returned by sequence_forward({kind!r}, ...), "
                            f"got one of {CELL_NAMES[cache.kind]}")
        return min_backward(dout, _single(kind, "dstate", dstate), cache)
    if kind == "rnn":
        return rnn_backward(dout, _single(kind, "dstate", dstate), cache)
    if kind == "gru":
        return gru_backward(dout, _single(kind, "dstate", dstate), cache)
    dh, dc = _lstm_pair("dstate", dstate)
    backward = lstm_variant_backward if isinstance(cache, LSTMVariantCache) else lstm_backward
    dx, dh0, dc0, grads = backward(dout, dh, dc, cache)
    return dx, (dh0, dc0), grads


def cell_params(model: dict) -> dict:
    """The cell's part of a model's flat parameter dict: :data:`CELL_KEYS` and any peephole weights present."""
    return {k: model[k] for k in (*CELL_KEYS, *PEEPHOLE_KEYS) if k in model}


def zero_state(kind, N: int, H: int, dtype=np.float64):
    """The all-zero initial state of a cell: ``h0`` or, for an LSTM, ``(h0, c0)``."""
    kind = check_any_kind(kind)
    if kind == "lstm":
        return np.zeros((N, H), dtype=dtype), np.zeros((N, H), dtype=dtype)
    return np.zeros((N, H), dtype=dtype)
