"""Moving weights (and gradients) between this library and PyTorch, without importing PyTorch.

The library stores parameters in PyTorch's own layout for a single-layer,
unidirectional ``torch.nn.RNN``, ``LSTM`` or ``GRU``; only the names differ:

==================  ==========
PyTorch key         library key
==================  ==========
``weight_ih_l0``    ``W_x``
``weight_hh_l0``    ``W_h``
``bias_ih_l0``      ``b_x``
``bias_hh_l0``      ``b_h``
==================  ==========

Gate rows are stacked in PyTorch's order: LSTM i, f, g, o; GRU r, z, n, with
the GRU's reset gate applied after the recurrent product (the library's
default GRU convention).  Because the layout is the same, parameters and
gradients convert the same way, and a round trip is exact.

A stacked or bidirectional module (``num_layers=L``, ``bidirectional=True``)
has the same four keys for every layer ``k`` and direction, ending in
``_l{k}`` (forward) and ``_l{k}_reverse``; pass ``num_layers=`` and
``bidirectional=`` to both functions to convert it to and from a network of
:mod:`lessons_lib.cells.stacked`, ``net[k][d]``.

Usage with PyTorch (``batch_first=True``)::

    params = from_torch_state_dict("lstm", torch_lstm.state_dict())
    torch_lstm.load_state_dict({k: torch.from_numpy(v) for k, v in
                                to_torch_state_dict("lstm", params).items()})
    net = from_torch_state_dict("gru", torch_gru.state_dict(), num_layers=2, bidirectional=True)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..validation import CELL_NAMES, check_kind, check_params
from .dispatch import GATE_COUNT
from .stacked import _check_bidirectional, _check_num_layers, _directions_word, check_net

TORCH_KEYS = {"W_x": "weight_ih_l0", "W_h": "weight_hh_l0", "b_x": "bias_ih_l0", "b_h": "bias_hh_l0"}


def _expected_shapes(kind: str) -> dict[str, tuple]:
    G = GATE_COUNT[kind]
    gh = "H" if G == 1 else f"{G}H"
    return {"W_x": (gh, "D"), "W_h": (gh, "H"), "b_x": (gh,), "b_h": (gh,)}


def _to_numpy(value):
    """Accept numpy arrays, nested lists, or tensors (anything with ``detach``) without importing torch."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return value


def _check_gate_rows(kind: str, p: dict, what: str) -> None:
    G = GATE_COUNT[kind]
    rows, H = p["W_h"].shape
    if rows != G * H:
        raise ValueError(
            f"{what} of {CELL_NAMES[kind]} must have shape ({G}H, H) = ({G * H}, {H}) "
            f"with {G} gate block(s) stacked, got {p['W_h'].shape}"
        )


def from_torch_state_dict(kind, sd, dtype=None, *, num_layers=None, bidirectional=None):
    """Library parameters from a PyTorch ``state_dict`` of an RNN, LSTM or GRU.

    Without ``num_layers`` and ``bidirectional``, ``sd`` is a one-layer,
    unidirectional module's and the result is one parameter dict.  With
    either, ``sd`` is a stacked or bidirectional module's and the result is
    a network for :func:`lessons_lib.cells.stacked.stacked_forward`.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    sd : mapping
        Keys ``weight_ih_l0`` (G H, D), ``weight_hh_l0`` (G H, H), ``bias_ih_l0``
        (G H,), ``bias_hh_l0`` (G H,); values numpy arrays, lists or CPU tensors.
        The two bias keys may both be absent (a layer made with ``bias=False``):
        the biases are then zero.
    dtype : float32 or float64, optional
        Convert to this dtype; by default keep the dtype of ``sd`` (PyTorch's
        float32, usually).
    num_layers : int, optional
        The module's ``num_layers`` (default 1 when only ``bidirectional`` is given).
    bidirectional : bool, optional
        The module's ``bidirectional`` (default False when only ``num_layers`` is given).
        Layer ``k``'s keys end in ``_l{k}``, its reverse direction's in ``_l{k}_reverse``.

    Returns
    -------
    dict with keys ``W_x``, ``W_h``, ``b_x``, ``b_h``: fresh arrays; or, when
    ``num_layers`` or ``bidirectional`` is given, a network: a list of
    ``num_layers`` tuples of 1 or 2 such dicts, ``net[k][d]`` for direction
    ``d`` (0 forward, 1 reverse) of layer ``k``.
    """
    kind = check_kind(kind)
    if not isinstance(sd, Mapping):
        raise TypeError(f"sd must be a mapping such as module.state_dict(), got {type(sd).__name__}")
    if num_layers is not None or bidirectional is not None:
        return _net_from_torch(kind, sd, dtype, 1 if num_layers is None else num_layers,
                               False if bidirectional is None else bidirectional)
    allowed = set(TORCH_KEYS.values())
    extra = sorted(k for k in sd if k not in allowed)
    if extra:
        raise ValueError(
            f"sd has keys {extra} that a one-layer, unidirectional {kind.upper()} does not have; "
            f"expected {sorted(allowed)} (stacked or bidirectional layers are not supported) "
            f"unless you pass num_layers= and bidirectional="
        )
    sd = {k: _to_numpy(v) for k, v in sd.items()}
    has_bias = [k in sd for k in ("bias_ih_l0", "bias_hh_l0")]
    if not any(has_bias):
        rows = np.shape(sd.get("weight_hh_l0", ()))[:1]
        sd["bias_ih_l0"] = np.zeros(rows, dtype=np.asarray(sd.get("weight_hh_l0", 0.0)).dtype)
        sd["bias_hh_l0"] = sd["bias_ih_l0"].copy()
    named = {ours: sd[theirs] for ours, theirs in TORCH_KEYS.items() if theirs in sd}
    if dtype is not None:
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
        named = {k: np.asarray(v).astype(dtype) for k, v in named.items()}
    try:
        p, _ = check_params(named, _expected_shapes(kind), {}, CELL_NAMES[kind])
    except (ValueError, TypeError) as exc:  # speak PyTorch's names back to the caller
        msg = str(exc).replace("params for", "sd for").replace("params must", "sd must")
        for ours, theirs in TORCH_KEYS.items():
            msg = msg.replace(f"params[{ours!r}]", f"sd[{theirs!r}]").replace(f"'{ours}'", f"'{theirs}'")
        raise type(exc)(msg) from None
    _check_gate_rows(kind, p, "sd['weight_hh_l0']")
    return {k: np.array(v, copy=True) for k, v in p.items()}


def to_torch_state_dict(kind, params, *, num_layers=None, bidirectional=None):
    """PyTorch ``state_dict`` keys and shapes from library parameters or gradients.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    params : dict, or a network (list of tuples of dicts)
        ``W_x``, ``W_h``, ``b_x``, ``b_h`` (parameters, or the ``grads`` that
        :func:`lessons_lib.cells.dispatch.sequence_backward` returns); with
        ``num_layers`` or ``bidirectional``, a network or the ``grads`` of
        :func:`lessons_lib.cells.stacked.stacked_backward`, which must have
        that many layers and directions.
    num_layers : int, optional
    bidirectional : bool, optional
        As for :func:`from_torch_state_dict`.

    Returns
    -------
    dict with ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``
    (and, for a network, the same for every layer ``l{k}`` and direction
    ``l{k}_reverse``, in PyTorch's order): numpy arrays (wrap with
    ``torch.from_numpy`` to load them).
    """
    kind = check_kind(kind)
    if num_layers is not None or bidirectional is not None:
        return _net_to_torch(kind, params, 1 if num_layers is None else num_layers,
                             False if bidirectional is None else bidirectional)
    if isinstance(params, (list, tuple)):
        raise TypeError(f"params is a {type(params).__name__}, a stacked network; "
                        "pass num_layers= and bidirectional= to convert it")
    p, _ = check_params(params, _expected_shapes(kind), {}, CELL_NAMES[kind])
    _check_gate_rows(kind, p, "params['W_h']")
    return {TORCH_KEYS[k]: np.array(v, copy=True) for k, v in p.items()}


# ---------------------------------------------------------------------------
# Stacked and bidirectional modules: every layer and direction converts like a
# one-layer module, under its own key suffix.

WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _suffixes(L: int, nd: int) -> list[list[str]]:
    """PyTorch's key suffixes, ``suffixes[k][d]``: ``_l{k}`` and ``_l{k}_reverse``."""
    return [[f"_l{k}" + ("_reverse" if d else "") for d in range(nd)] for k in range(L)]


def _describe(kind: str, L: int, nd: int) -> str:
    return f"a {L}-layer {_directions_word(nd)} {kind.upper()} (num_layers={L}, bidirectional={nd == 2})"


def _net_from_torch(kind, sd, dtype, num_layers, bidirectional):
    L, nd = _check_num_layers(num_layers), 1 + _check_bidirectional(bidirectional)
    suffixes = _suffixes(L, nd)
    allowed = {name + s for row in suffixes for s in row for name in WEIGHT_NAMES}
    pattern = f"weight_ih_l0 ... bias_hh_l{L - 1}" + (" and their _reverse twins" if nd == 2 else "")
    extra = sorted(k for k in sd if k not in allowed)
    if extra:
        raise ValueError(f"sd has keys {extra} that {_describe(kind, L, nd)} does not have; expected {pattern}")
    missing = [name + s for row in suffixes for s in row for name in WEIGHT_NAMES[:2] if name + s not in sd]
    if missing:
        raise ValueError(f"sd has no keys {missing}, which {_describe(kind, L, nd)} has; expected {pattern}")
    net, H = [], None
    for k, row in enumerate(suffixes):
        layer = []
        for d, suffix in enumerate(row):
            one = {name + "_l0": sd[name + suffix] for name in WEIGHT_NAMES if name + suffix in sd}
            try:
                p = from_torch_state_dict(kind, one, dtype)
            except (ValueError, TypeError) as exc:  # name this layer's keys, not layer 0's
                raise type(exc)(str(exc).replace("_l0'", f"{suffix}'")) from None
            H = p["W_h"].shape[1] if H is None else H
            if p["W_h"].shape[1] != H:
                raise ValueError(f"sd['weight_hh{suffix}'] must have shape {(GATE_COUNT[kind] * H, H)} "
                                 f"like sd['weight_hh_l0'], got {p['W_h'].shape}")
            if k > 0 and p["W_x"].shape[1] != nd * H:
                raise ValueError(f"sd['weight_ih{suffix}'] must have shape {(GATE_COUNT[kind] * H, nd * H)}: "
                                 f"layer {k} reads layer {k - 1}'s {nd} direction(s) of H = {H}, "
                                 f"got {p['W_x'].shape}")
            layer.append(p)
        net.append(tuple(layer))
    try:
        check_net(kind, net)  # the dtypes must agree across layers
    except TypeError as exc:
        raise TypeError(f"sd: {exc}; pass dtype= to convert them all") from None
    return net


def _net_to_torch(kind, net, num_layers, bidirectional):
    L, nd = _check_num_layers(num_layers), 1 + _check_bidirectional(bidirectional)
    layers, _, dims = check_net(kind, net)
    if (dims["L"], dims["num_directions"]) != (L, nd):
        raise ValueError(f"net has {dims['L']} layer(s) of {dims['num_directions']} direction(s), "
                         f"but {_describe(kind, L, nd)} has {L} layer(s) of {nd} direction(s)")
    sd = {}
    for layer, row in zip(layers, _suffixes(L, nd)):
        for params, suffix in zip(layer, row):
            for key, value in to_torch_state_dict(kind, params).items():
                sd[key.replace("_l0", suffix)] = value
    return sd
