"""A recurrent regressor: a cell reads a sequence of vectors, a linear read-out predicts numbers.

::

    h_t = cell(x_t, h_{t-1})          (H,)   an RNN, LSTM or GRU
    y_t = W_y h_t + b_y               (K,)   K numbers: a sum, a forecast per horizon, ...
    L   = mean over scored entries of (y - target)^2

Two ways to read out, chosen with ``where``:

``"last"``
    one prediction per sequence, from the final hidden state: ``y`` has shape
    ``(N, K)`` (the adding problem);
``"all"``
    a prediction at every step: ``y`` has shape ``(N, T, K)`` and a ``mask``
    says which entries are scored (weather forecasting, where the first
    steps of a window lack context and some targets are missing).

The parameters are one flat dict: the cell's ``W_x``, ``W_h``, ``b_x``,
``b_h`` (and a peephole LSTM's ``p_i``, ``p_f``, ``p_o``; a minimal cell's
``W_x``, ``b_x`` only) and the read-out's
``W_y`` ``(K, H)`` and ``b_y`` ``(K,)``.  The cell's keyword options
(``variant=`` for an LSTM, ``reset=``, ``update=`` for a GRU) pass through
``**options`` to :func:`~lessons_lib.cells.dispatch.sequence_forward`
(``method=`` for the minimal cells).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..cells.dispatch import cell_params, hidden_size, param_keys, sequence_backward, sequence_forward, zero_state
from ..cells.initialisation import init_params
from ..training.losses import mean_squared_error
from ..training.readout import readout_backward, readout_forward
from ..validation import check_any_kind

CELL_KEYS = ("W_x", "W_h", "b_x", "b_h")
WHERE = ("last", "all")


def init_regressor(kind, D: int, H: int, K: int, rng: np.random.Generator, **init_options) -> dict:
    """Random parameters: a cell with ``D`` inputs and ``H`` units (see :func:`~lessons_lib.cells.initialisation.init_params`) and a read-out of ``K`` numbers."""
    kind = check_any_kind(kind)
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"K must be a positive int, got {K!r}")
    model = init_params(kind, D, H, rng, **init_options)
    k = 1.0 / np.sqrt(H)
    model["W_y"] = rng.uniform(-k, k, (K, H)).astype(model["W_x"].dtype)
    model["b_y"] = np.zeros(K, dtype=model["W_x"].dtype)
    return model


class RegressorOutput(NamedTuple):
    """Everything a forward pass of the regressor computes."""

    hidden: np.ndarray  #: (N, T, H) hidden states
    y: np.ndarray       #: the predictions, (N, K) if ``where="last"``, else (N, T, K)
    state: object       #: final state of the cell (``h``, or ``(h, c)`` for an LSTM)


def _check_where(where) -> str:
    if where not in WHERE:
        raise ValueError(f"where must be one of {WHERE}, got {where!r}")
    return where


def regressor_forward(kind, model: dict, x, state0=None, where: str = "last", **options):
    """Run the regressor on ``x`` of shape (N, T, D); returns a :class:`RegressorOutput` and the cell's cache.

    ``options`` go to the cell (``variant="peephole"``, say).
    """
    kind, where = check_any_kind(kind), _check_where(where)
    keys = [*param_keys(kind), "W_y", "b_y"]
    missing = [k for k in keys if k not in model]
    if missing:
        raise ValueError(f"model must have the keys {keys}, missing {missing}")
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (N, T, D), got {x.shape}")
    N, H = x.shape[0], hidden_size(kind, model)
    state0 = zero_state(kind, N, H, model["W_x"].dtype) if state0 is None else state0
    hidden, state, cache = sequence_forward(kind, cell_params(model), x, state0, **options)   # (N, T, H)
    read = hidden[:, -1:] if where == "last" else hidden                         # (N, 1 or T, H)
    y = readout_forward(read, model["W_y"], model["b_y"])                        # (N, 1 or T, K)
    return RegressorOutput(hidden, y[:, 0] if where == "last" else y, state), cache


def regressor_loss(kind, model: dict, x, target, mask=None, state0=None, where: str = "last", **options):
    """Mean squared error of the predictions and its gradient for every parameter.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru", "mingru", "minlstm"}
    model : dict
    x : array of shape (N, T, D)
    target : array of the shape of the predictions, (N, K) or (N, T, K)
    mask : bool array of that shape, optional
        Which entries are scored (see :func:`lessons_lib.training.losses.mean_squared_error`).
    state0 : initial state, optional (zeros by default)
    where : {"last", "all"}
    **options
        The cell's options (see :func:`~lessons_lib.cells.dispatch.sequence_forward`).

    Returns
    -------
    loss : float
    grads : dict with the keys of ``model``
    output : RegressorOutput
    """
    output, cache = regressor_forward(kind, model, x, state0, where, **options)
    loss, dy = mean_squared_error(output.y, target, mask)
    hidden = output.hidden
    if where == "last":
        dlast, dW_y, db_y = readout_backward(dy[:, None], hidden[:, -1:], model["W_y"])
        dhidden = np.zeros_like(hidden)
        dhidden[:, -1:] = dlast
    else:
        dhidden, dW_y, db_y = readout_backward(dy, hidden, model["W_y"])
    zero = np.zeros_like(hidden[:, 0])
    _, _, grads = sequence_backward(kind, dhidden, (zero, zero) if kind == "lstm" else zero, cache)
    grads["W_y"], grads["b_y"] = dW_y, db_y
    return loss, grads, output


def regressor_predict(kind, model: dict, x, where: str = "last", batch_size: int = 4096, **options) -> np.ndarray:
    """Predictions for many sequences, ``batch_size`` at a time (to bound memory); ``options`` go to the cell."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (N, T, D), got {x.shape}")
    parts = [regressor_forward(kind, model, x[i:i + batch_size], where=where, **options)[0].y
             for i in range(0, x.shape[0], batch_size)]
    return np.concatenate(parts, axis=0)
