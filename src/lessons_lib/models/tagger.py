"""A per-position regressor over a stacked, possibly bidirectional network: one prediction at every step.

::

    out_t = stacked network(x)_t           (num_directions H,)  L layers, forward (and reverse) cells
    y_t   = W_y out_t + b_y                (K,)                 a linear read-out at every step
    L     = mean over the scored entries of (y - target)^2

A bidirectional network's output at step ``t`` concatenates a forward cell
that has read ``x_1 .. x_t`` and a reverse cell that has read ``x_T .. x_t``,
so ``y_t`` may depend on the whole sequence; a unidirectional one's only on
``x_1 .. x_t``.

**Parameters** are one flat dict, so that :func:`lessons_lib.training.loop.train`
can update them: the cell of direction ``d`` of layer ``k`` under the keys
``"l{k}.W_x"``, ``"l{k}.W_h"``, ``"l{k}.b_x"``, ``"l{k}.b_h"`` (forward) and
``"l{k}_reverse.W_x"`` ... (reverse), after PyTorch's ``weight_ih_l0_reverse``,
and the read-out's ``W_y`` (K, num_directions H) and ``b_y`` (K,).
:func:`tagger_net` turns such a dict into the list of layers that
:func:`~lessons_lib.cells.stacked.stacked_forward` takes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from ..cells.stacked import PARAM_KEYS, init_stacked, stacked_backward, stacked_forward
from ..training.losses import mean_squared_error
from ..training.readout import readout_backward, readout_forward
from ..validation import check_kind

_CELL_KEY = re.compile(r"^l(\d+)(_reverse)?\.(W_x|W_h|b_x|b_h)$")


def _prefix(k: int, d: int) -> str:
    return f"l{k}" + ("_reverse" if d else "")


def model_from_net(net, W_y, b_y) -> dict:
    """A tagger's flat parameter dict from a stacked network and a read-out (the arrays are not copied)."""
    model = {f"{_prefix(k, d)}.{key}": params[key] for k, layer in enumerate(net)
             for d, params in enumerate(layer) for key in PARAM_KEYS}
    model["W_y"], model["b_y"] = W_y, b_y
    return model


def tagger_net(model: dict) -> list:
    """The stacked network inside a tagger's parameter dict: ``net[k][d]`` as :mod:`lessons_lib.cells.stacked` has it."""
    if not isinstance(model, dict):
        raise TypeError(f"model must be a dict of arrays, got {type(model).__name__}")
    cells: dict[tuple[int, int], dict] = {}
    for name, value in model.items():
        match = _CELL_KEY.match(name)
        if match:
            cells.setdefault((int(match.group(1)), int(bool(match.group(2)))), {})[match.group(3)] = value
        elif name not in ("W_y", "b_y"):
            raise ValueError(f"model has a key {name!r} that is neither a cell's ('l0.W_x', 'l1_reverse.b_h', ...) "
                             "nor the read-out's ('W_y', 'b_y')")
    missing = [k for k in ("W_y", "b_y", "l0.W_x") if k not in model]
    if missing:
        raise ValueError(f"model must have the keys 'l0.W_x', ... and 'W_y', 'b_y'; missing {missing}")
    L = 1 + max(k for k, _ in cells)
    nd = 2 if (0, 1) in cells else 1
    net = []
    for k in range(L):
        layer = []
        for d in range(nd):
            params = cells.get((k, d), {})
            absent = [f"{_prefix(k, d)}.{key}" for key in PARAM_KEYS if key not in params]
            if absent:
                raise ValueError(f"model of {L} layer(s), {nd} direction(s) lacks the keys {absent}")
            layer.append({key: params[key] for key in PARAM_KEYS})
        net.append(tuple(layer))
    return net


def init_tagger(kind, D: int, H: int, K: int, num_layers: int, bidirectional: bool, rng: np.random.Generator,
                **init_options) -> dict:
    """Random parameters: a stacked network (:func:`~lessons_lib.cells.stacked.init_stacked`) and a read-out of ``K`` numbers.

    The read-out is drawn after the cells, uniform in ``+-1 / sqrt(nd H)`` (as
    PyTorch's ``Linear``), with a zero bias.
    """
    kind = check_kind(kind)
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"K must be a positive int, got {K!r}")
    net = init_stacked(kind, D, H, num_layers, bidirectional, rng, **init_options)
    width = (2 if bidirectional else 1) * H
    dtype = net[0][0]["W_x"].dtype
    bound = 1.0 / np.sqrt(width)
    return model_from_net(net, rng.uniform(-bound, bound, (K, width)).astype(dtype), np.zeros(K, dtype=dtype))


def count_parameters(model: dict) -> int:
    """The number of trainable numbers in a parameter dict."""
    return int(sum(np.size(v) for v in model.values()))


class TaggerOutput(NamedTuple):
    """What a forward pass of the tagger computes."""

    hidden: np.ndarray  #: (N, T, num_directions H) the top layer's output
    y: np.ndarray       #: (N, T, K) the predictions


def tagger_forward(kind, model: dict, x, lengths=None, *, residual: bool = False, **options):
    """Run the tagger on ``x`` of shape (N, T, D); returns a :class:`TaggerOutput` and the network's cache.

    ``lengths`` and ``residual`` go to :func:`~lessons_lib.cells.stacked.stacked_forward`, ``options`` to the cells.
    """
    hidden, _, cache = stacked_forward(kind, tagger_net(model), x, None, lengths, residual=residual, **options)
    y = readout_forward(hidden, model["W_y"], model["b_y"])   # (N, T, K)
    return TaggerOutput(hidden, y), cache


def tagger_loss(kind, model: dict, x, target, mask=None, lengths=None, *, residual: bool = False, **options):
    """Mean squared error of the per-step predictions over the scored entries, and every parameter's gradient.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    model : dict
        See the module docstring.
    x : array of shape (N, T, D)
    target : array of shape (N, T, K)
    mask : bool array of shape (N, T, K), optional
        Which entries are scored; by default every entry at a step before the
        sequence's length (every entry without ``lengths``).
    lengths : array of N ints, optional
    residual : bool
    **options
        The cells' options.

    Returns
    -------
    loss : float
    grads : dict with the keys of ``model``
    output : TaggerOutput
    """
    output, cache = tagger_forward(kind, model, x, lengths, residual=residual, **options)
    if mask is None and lengths is not None:
        steps = np.arange(output.y.shape[1])[None, :] < np.asarray(lengths)[:, None]   # (N, T)
        mask = np.broadcast_to(steps[:, :, None], output.y.shape)
    loss, dy = mean_squared_error(output.y, target, mask)
    dhidden, dW_y, db_y = readout_backward(dy, output.hidden, model["W_y"])
    _, _, net_grads = stacked_backward(kind, dhidden, None, cache)
    grads = model_from_net(net_grads, dW_y, db_y)
    return loss, grads, output


def tagger_predict(kind, model: dict, x, lengths=None, *, residual: bool = False, batch_size: int = 2048,
                   **options) -> np.ndarray:
    """Predictions (N, T, K) for many sequences, ``batch_size`` at a time (to bound memory)."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (N, T, D), got {x.shape}")
    parts = []
    for i in range(0, x.shape[0], batch_size):
        part_lengths = None if lengths is None else np.asarray(lengths)[i:i + batch_size]
        parts.append(tagger_forward(kind, model, x[i:i + batch_size], part_lengths, residual=residual,
                                    **options)[0].y)
    return np.concatenate(parts, axis=0)
