"""Stacked and bidirectional networks of one cell family, built from the single-layer sequence functions.

A network has ``L`` layers.  Layer 0 reads the input ``x`` (N, T, D); layer
``k > 0`` reads the output of layer ``k - 1``.  A unidirectional layer runs
one cell forward in time; a bidirectional layer runs two cells with their own
parameters, one forward and one backward in time, and concatenates their
outputs along the last axis, forward first: a layer's output is
``(N, T, num_directions * H)``.  This is what ``torch.nn.RNN``, ``LSTM`` and
``GRU`` compute with ``num_layers=L`` and ``bidirectional=True``.

**The network** ``net`` is a list of ``L`` layers, each a tuple of
``num_directions`` parameter dicts, the forward direction first::

    net[k][0]   # layer k, forward:  W_x (G H, D_k), W_h (G H, H), b_x (G H,), b_h (G H,)
    net[k][1]   # layer k, reverse (bidirectional nets only)

with ``D_0 = D`` and ``D_k = num_directions * H`` for ``k > 0``, and ``G`` =
1, 4, 3 gate blocks for rnn, lstm, gru.  Each dict is what
:func:`~lessons_lib.cells.dispatch.sequence_forward` takes.  Gradients come
back in the same structure.

**States** follow PyTorch: ``h0`` has shape ``(L * num_directions, N, H)``,
layer-major and direction-minor, so ``h0[k * num_directions + d]`` starts
direction ``d`` of layer ``k``.  An LSTM's state is the pair ``(h0, c0)``.

**Variable lengths.**  With ``lengths``, the reverse direction of a sequence
of length ``l`` starts at its own last step ``l - 1`` and ends at step 0, as
PyTorch's packed sequences do; it never sees the padding.  It is computed by
reversing each sequence within its own length (steps past ``l`` stay where
they are), running the forward cell over that with the same ``lengths``, and
reversing the output back.  Outputs past a sequence's length are zero, and
final states are taken at each sequence's own last step (for the reverse
direction, after step 0).

**Dropout** between layers (``dropout=p``, off by default) zeroes each output
of a layer below the top one with probability ``p`` and scales the rest by
``1 / (1 - p)``, PyTorch's training-mode behaviour; the masks are drawn from
the ``rng`` passed in, so a run can be repeated exactly.

**Residual connections** between layers (``residual=True``, off by default)
add each layer's input to its output, for every layer above the first::

    out_k = layer_k(in_k) + in_k        (k >= 1; in_k = out_{k-1}, after dropout)

Layer ``k >= 1`` reads ``num_directions * H`` numbers and writes as many, so
the widths always match; layer 0 reads ``D`` numbers and gets no connection.
This is the residual stacking of Wu et al. (2016), after He et al. (2016).
The connection adds an identity path *across layers* at each time step; the
path *along time*, inside each layer, is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ..validation import CELL_NAMES, as_array, check_kind, check_lengths, check_params
from .dispatch import GATE_COUNT, sequence_backward, sequence_forward
from .initialisation import init_params

PARAM_KEYS = ("W_x", "W_h", "b_x", "b_h")


class StackedCache(NamedTuple):
    """What :func:`stacked_backward` needs.

    ``caches[k][d]`` is the single-layer cache of direction ``d`` of layer
    ``k``; ``reverse_index`` is the (N, T) permutation that reverses each
    sequence within its length (None without ``lengths``); ``dropout_masks[k]``
    is the scaled (N, T, num_directions H) mask applied to layer ``k``'s output
    (None when there is no dropout); ``dims`` holds ``N``, ``T``, ``D``, ``H``,
    ``L`` and ``num_directions``; ``residual`` says whether layers above the
    first added their input to their output.
    """

    kind: str
    caches: list
    reverse_index: np.ndarray | None
    dropout_masks: list
    dims: dict
    dtype: np.dtype
    residual: bool = False


def _directions_word(nd: int) -> str:
    return "bidirectional" if nd == 2 else "unidirectional"


def check_net(kind, net) -> tuple[list[tuple[dict, ...]], np.dtype, dict]:
    """Validate a stacked network; return its layers, dtype and sizes ``{D, H, L, num_directions}``.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    net : list of tuples of dicts
        See the module docstring.

    Returns
    -------
    layers : list of tuples of dicts of arrays
    dtype : the common float dtype of all parameters
    dims : dict with ``D``, ``H``, ``L``, ``num_directions``
    """
    kind = check_kind(kind)
    if isinstance(net, Mapping):
        raise TypeError(
            "net must be a list of layers, each a tuple of one (unidirectional) or two (bidirectional) "
            f"parameter dicts, got one dict with keys {sorted(net)}; a one-layer unidirectional net is [(params,)]")
    if not isinstance(net, (list, tuple)):
        raise TypeError(f"net must be a list of layers, each a tuple of parameter dicts, got {type(net).__name__}")
    if len(net) == 0:
        raise ValueError("net must have at least one layer, got an empty list")
    for k, layer in enumerate(net):
        if isinstance(layer, Mapping) or not isinstance(layer, (list, tuple)):
            raise TypeError(f"net[{k}] must be a tuple of 1 or 2 parameter dicts (one per direction), "
                            f"got {type(layer).__name__}")
    nd = len(net[0])
    if nd not in (1, 2):
        raise ValueError(f"net[0] must hold 1 (unidirectional) or 2 (bidirectional) parameter dicts, got {nd}")
    for k, layer in enumerate(net):
        if len(layer) != nd:
            raise ValueError(f"every layer must have as many directions as net[0] ({nd}), "
                             f"but net[{k}] has {len(layer)}")

    G = GATE_COUNT[kind]
    dims: dict[str, int] = {}
    layers, dtype = [], None
    for k, layer in enumerate(net):
        checked = []
        for d, params in enumerate(layer):
            where = f"net[{k}][{d}]"
            inputs = "D" if k == 0 else nd * dims["H"]
            spec = {"W_x": ("GH", inputs), "W_h": ("GH", "H"), "b_x": ("GH",), "b_h": ("GH",)}
            columns = np.shape(params.get("W_x")) if isinstance(params, Mapping) else ()
            if k > 0 and len(columns) == 2 and columns[1] != inputs:
                raise ValueError(f"{where}['W_x'] must have shape ({dims['GH']}, {inputs}), got {columns}: "
                                 f"layer {k} reads the output of layer {k - 1}, {nd} direction(s) of "
                                 f"H = {dims['H']}, so {inputs} columns")
            try:
                p, p_dtype = check_params(params, spec, dims, CELL_NAMES[kind])
            except (ValueError, TypeError) as exc:
                msg = (str(exc).replace("params[", f"{where}[").replace("params for", f"{where} for")
                       .replace("params must", f"{where} must"))
                raise type(exc)(msg) from None
            if dims["GH"] != G * dims["H"]:
                raise ValueError(f"{where}['W_h'] of {CELL_NAMES[kind]} must have shape ({G}H, H) = "
                                 f"({G * dims['H']}, {dims['H']}) with {G} gate block(s) stacked, "
                                 f"got {p['W_h'].shape}")
            if dtype is None:
                dtype = p_dtype
            elif p_dtype != dtype:
                raise TypeError(f"{where} has dtype {p_dtype}, but net[0][0] has {dtype}; "
                                "every layer and direction must have the same dtype")
            checked.append(p)
        layers.append(tuple(checked))
    return layers, dtype, {"D": dims["D"], "H": dims["H"], "L": len(net), "num_directions": nd}


def _check_state(kind, name, state, dims, dtype) -> list[np.ndarray]:
    """A stacked state as a list of arrays, ``[h]`` or ``[h, c]``, each of shape (L num_directions, N, H)."""
    L, nd, N, H = dims["L"], dims["num_directions"], dims["N"], dims["H"]
    shape = (L * nd, N, H)
    if kind == "lstm":
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            got = (f"a {type(state).__name__} of length {len(state)}" if isinstance(state, (tuple, list))
                   else type(state).__name__)
            raise TypeError(f"{name} of an LSTM must be a pair (h, c) of arrays of shape "
                            f"(L * num_directions, N, H) = {shape}, got {got}")
        arrays = list(state)
        names = [f"{name}[0] (h)", f"{name}[1] (c)"]
    else:
        if isinstance(state, (tuple, list)) and len(state) == 2 and np.ndim(state[0]) == 3:
            raise TypeError(f"{name} of {CELL_NAMES[kind]} is one array h of shape (L * num_directions, N, H) "
                            f"= {shape}, not a pair; only an LSTM has (h, c)")
        arrays, names = [state], [name]
    out = []
    for arr_name, value in zip(names, arrays):
        arr = as_array(arr_name, value, dtype)
        if arr.shape != shape:
            raise ValueError(f"{arr_name} must have shape (L * num_directions, N, H) = {shape} "
                             f"(L = {L} layer(s), {nd} direction(s), layer-major), got {tuple(arr.shape)}")
        out.append(arr)
    return out


def _pack(kind, arrays):
    return tuple(arrays) if kind == "lstm" else arrays[0]


def reverse_index(lengths, N: int, T: int) -> np.ndarray:
    """The (N, T) permutation of time steps that reverses each sequence within its own length.

    ``index[n, t] = lengths[n] - 1 - t`` for ``t < lengths[n]`` and ``t``
    otherwise, so padding stays in place.  It is its own inverse.
    """
    t = np.arange(T)[None, :]                        # (1, T)
    if lengths is None:
        return np.broadcast_to(T - 1 - t, (N, T))
    ends = np.asarray(lengths)[:, None]              # (N, 1)
    return np.where(t < ends, ends - 1 - t, t)       # (N, T)


def _reverse(a, index):
    """``a`` (N, T, K) with each sequence reversed within its length (``index`` None: the whole of T)."""
    if index is None:
        return a[:, ::-1]
    return np.take_along_axis(a, index[:, :, None], axis=1)


def _check_dropout(dropout, rng) -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float, np.floating, np.integer)):
        raise TypeError(f"dropout must be a number in [0, 1), got {type(dropout).__name__}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
    if dropout > 0 and not isinstance(rng, np.random.Generator):
        raise TypeError(f"dropout={dropout} needs rng, a numpy Generator such as np.random.default_rng(0), "
                        f"got {type(rng).__name__}")
    return float(dropout)


def _check_residual(residual) -> bool:
    if not isinstance(residual, (bool, np.bool_)):
        raise TypeError(f"residual must be True or False, got {type(residual).__name__}")
    return bool(residual)


def stacked_forward(kind, net, x, state0=None, lengths=None, *, dropout=0.0, rng=None, residual=False,
                    **options):
    """Run a stacked, possibly bidirectional network of cells of family ``kind``.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    net : list of L tuples of parameter dicts
        ``net[k][d]``: direction ``d`` (0 forward, 1 reverse) of layer ``k``
        (see the module docstring).
    x : array of shape (N, T, D)
    state0 : array of shape (L * num_directions, N, H), or a pair of them for an LSTM, optional
        Initial states in PyTorch's order, ``state0[k * num_directions + d]``;
        zeros when None.
    lengths : array of N ints, optional
        True length of each sequence (``0 <= lengths[n] <= T``).
    dropout : float in [0, 1)
        Probability of zeroing each output of a layer below the top one.
    rng : numpy.random.Generator, optional
        Draws the dropout masks; required when ``dropout > 0``.
    residual : bool
        Add each layer's input to its output, for the layers above the first
        (see the module docstring).
    **options
        For the GRU, ``reset`` and ``update`` (see :mod:`lessons_lib.cells.gru`).

    Returns
    -------
    out : array of shape (N, T, num_directions * H)
        Output of the top layer, forward direction in ``[..., :H]``; zero past
        a sequence's length.
    state : final states, in the form of ``state0``
        For the reverse direction, the state after step 0.
    cache : StackedCache
        For :func:`stacked_backward`.
    """
    kind = check_kind(kind)
    layers, dtype, dims = check_net(kind, net)
    L, nd, H = dims["L"], dims["num_directions"], dims["H"]
    x = as_array("x", x, dtype)
    if x.ndim != 3 or x.shape[2] != dims["D"]:
        raise ValueError(f"x must have shape (N, T, D) = (N, T, {dims['D']}) to match net[0][0]['W_x'], "
                         f"got {tuple(x.shape)}")
    N, T, _ = x.shape
    dims.update(N=N, T=T)
    if state0 is None:
        states = [np.zeros((L * nd, N, H), dtype=dtype) for _ in range(2 if kind == "lstm" else 1)]
    else:
        states = _check_state(kind, "state0", state0, dims, dtype)
    lengths = check_lengths(lengths, N, T)
    dropout = _check_dropout(dropout, rng)
    residual = _check_residual(residual)
    index = None if lengths is None else reverse_index(lengths, N, T)

    caches, masks, finals = [], [], [[] for _ in states]
    inputs = x
    for k, layer in enumerate(layers):
        outs, layer_caches = [], []
        for d, params in enumerate(layer):
            s0 = _pack(kind, [s[k * nd + d] for s in states])
            seq = inputs if d == 0 else _reverse(inputs, index)
            out_d, s_d, cache_d = sequence_forward(kind, params, seq, s0, lengths, **options)
            outs.append(out_d if d == 0 else _reverse(out_d, index))  # (N, T, H)
            layer_caches.append(cache_d)
            for final, s in zip(finals, (s_d if kind == "lstm" else (s_d,))):
                final.append(s)
        caches.append(tuple(layer_caches))
        layer_out = outs[0] if nd == 1 else np.concatenate(outs, axis=2)  # (N, T, nd H)
        inputs = layer_out + inputs if residual and k > 0 else layer_out
        mask = None
        if dropout > 0 and k < L - 1:
            mask = ((rng.random(inputs.shape) >= dropout) / (1.0 - dropout)).astype(dtype)
            inputs = inputs * mask
        masks.append(mask)
    state = _pack(kind, [np.stack(f) for f in finals])  # (L nd, N, H) each
    return inputs, state, StackedCache(kind, caches, index, masks, dims, dtype, residual)


def stacked_backward(kind, dout, dstate, cache: StackedCache):
    """Backpropagation through time and through the layers, for :func:`stacked_forward`.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    dout : array of shape (N, T, num_directions * H)
        Gradient of the loss with respect to ``out``.
    dstate : gradient with respect to the final states, in the form of ``state``, or None
        None (or zeros) when the final states do not enter the loss.
    cache : StackedCache
        The cache returned by :func:`stacked_forward`.

    Returns
    -------
    dx : array of shape (N, T, D)
    dstate0 : gradient with respect to ``state0``, in its form
    grads : list of L tuples of dicts
        ``grads[k][d]`` holds the gradients of ``net[k][d]``, under the same keys.
    """
    kind = check_kind(kind)
    if not isinstance(cache, StackedCache):
        raise TypeError(f"cache must be the StackedCache returned by stacked_forward, got {type(cache).__name__}")
    if cache.kind != kind:
        raise ValueError(f"cache was made by stacked_forward({cache.kind!r}, ...), not {kind!r}")
    dims, dtype, index = cache.dims, cache.dtype, cache.reverse_index
    L, nd, N, T, H = dims["L"], dims["num_directions"], dims["N"], dims["T"], dims["H"]
    dout = as_array("dout", dout, dtype)
    if dout.shape != (N, T, nd * H):
        raise ValueError(f"dout must have shape (N, T, num_directions * H) = {(N, T, nd * H)}, "
                         f"got {tuple(dout.shape)}")
    if dstate is None:
        dstates = [np.zeros((L * nd, N, H), dtype=dtype) for _ in range(2 if kind == "lstm" else 1)]
    else:
        dstates = _check_state(kind, "dstate", dstate, dims, dtype)

    grads = [None] * L
    dstate0 = [np.empty((L * nd, N, H), dtype=dtype) for _ in dstates]
    d_layer_out = dout
    for k in reversed(range(L)):
        if cache.dropout_masks[k] is not None:
            d_layer_out = d_layer_out * cache.dropout_masks[k]
        d_inputs, layer_grads = 0.0, []
        for d in range(nd):
            dout_d = d_layer_out[:, :, d * H:(d + 1) * H]
            ds = _pack(kind, [s[k * nd + d] for s in dstates])
            if d == 1:
                dout_d = _reverse(dout_d, index)
            dseq, ds0, g = sequence_backward(kind, dout_d, ds, cache.caches[k][d])
            d_inputs = d_inputs + (dseq if d == 0 else _reverse(dseq, index))
            for full, part in zip(dstate0, (ds0 if kind == "lstm" else (ds0,))):
                full[k * nd + d] = part
            layer_grads.append(g)
        grads[k] = tuple(layer_grads)
        if cache.residual and k > 0:
            d_inputs = d_inputs + d_layer_out  # the identity path to the layer below
        d_layer_out = d_inputs
    return np.ascontiguousarray(d_layer_out), _pack(kind, dstate0), grads


def init_stacked(kind, D, H, num_layers, bidirectional, rng, **init_options):
    """Random parameters for a stacked network, one :func:`~lessons_lib.cells.initialisation.init_params` per cell.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    D, H : int
        Input and hidden sizes.
    num_layers : int
        At least 1.
    bidirectional : bool
    rng : numpy.random.Generator
        Draws layer 0 forward, layer 0 reverse, layer 1 forward, ... in that order.
    **init_options
        ``scheme``, ``recurrent``, ``forget_bias``, ``dtype``, as for ``init_params``.

    Returns
    -------
    net : list of ``num_layers`` tuples of 1 or 2 dicts
        Layer 0 has ``W_x`` (G H, D); later layers ``W_x`` (G H, num_directions H).
    """
    kind = check_kind(kind)
    L = _check_num_layers(num_layers)
    nd = 1 + _check_bidirectional(bidirectional)
    return [tuple(init_params(kind, D if k == 0 else nd * H, H, rng, **init_options) for _ in range(nd))
            for k in range(L)]


def _check_num_layers(num_layers) -> int:
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)):
        raise TypeError(f"num_layers must be a positive int, got {type(num_layers).__name__}")
    if num_layers < 1:
        raise ValueError(f"num_layers must be a positive int, got {num_layers}")
    return int(num_layers)


def _check_bidirectional(bidirectional) -> bool:
    if not isinstance(bidirectional, (bool, np.bool_)):
        raise TypeError(f"bidirectional must be True or False, got {type(bidirectional).__name__}")
    return bool(bidirectional)
