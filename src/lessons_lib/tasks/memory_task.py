"""A task that needs memory: remember the value shown at a marker until a recall cue.

Each sequence has ``T`` steps and three input channels::

    x_t = (v_t, m_t, q_t)
    v_t ~ U(-1, 1)     a value at every step (all but one are distractors)
    m_t = 1            at the marker step t_m only: "remember this v"
    q_t = 1            at the recall step t_q > t_m only: "now say it"

The target is ``v_{t_m}`` at the recall step and 0 at every other step.  A
model reads the sequence with a cell and a one-number read-out
``y_t = W_y h_t + b_y``; the loss is the squared error at the recall step plus
``quiet`` times the squared outputs elsewhere (see :func:`mse_loss`).
Predicting 0 at the recall step costs ``E[v^2] = 1/3``; doing better needs
a memory of ``v_{t_m}`` that survives the distractors in between.

Everything random comes from an explicit ``np.random.Generator``.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from ..cells.dispatch import cell_params, sequence_backward, sequence_forward, zero_state
from ..cells.initialisation import init_params
from ..training.optim import adam_init, adam_step
from ..training.readout import readout_backward, readout_forward
from ..validation import check, check_kind

CHANNELS = ("value", "marker", "recall")
CELL_KEYS = ("W_x", "W_h", "b_x", "b_h")


class MemoryBatch(NamedTuple):
    """A batch of the memory task."""

    x: np.ndarray         # (N, T, 3) inputs: value, marker, recall
    target: np.ndarray    # (N, T) v at the marker, placed at the recall step; 0 elsewhere
    weight: np.ndarray    # (N, T) 1 at the recall step, ``quiet`` elsewhere
    marker_t: np.ndarray  # (N,) int, the marker step (0-based)
    recall_t: np.ndarray  # (N,) int, the recall step (0-based), > marker_t


def _positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def make_memory_batch(rng: np.random.Generator, N: int, T: int = 12, min_gap: int = 3,
                      quiet: float = 0.1) -> MemoryBatch:
    """Draw ``N`` sequences of the memory task.

    Parameters
    ----------
    rng : numpy.random.Generator
    N : int
        Number of sequences.
    T : int
        Steps per sequence.
    min_gap : int
        The recall step comes at least this many steps after the marker, so
        at least ``min_gap - 1`` distractors lie in between.
    quiet : float
        Loss weight of the steps where the target is 0.

    Returns
    -------
    MemoryBatch
    """
    N, T = _check_batch_args(rng, N, T, quiet)
    min_gap = _positive_int("min_gap", min_gap)
    if min_gap > T - 1:
        raise ValueError(f"min_gap must be at most T - 1 = {T - 1} so that a recall fits after the marker, "
                         f"got {min_gap}")
    marker_t = rng.integers(0, T - min_gap, size=N)              # 0 .. T - min_gap - 1
    recall_t = rng.integers(marker_t + min_gap, T)               # marker + min_gap .. T - 1
    return _assemble_batch(rng, T, quiet, marker_t, recall_t)


def _check_batch_args(rng, N, T, quiet) -> tuple[int, int]:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}")
    N = _positive_int("N", N)
    T = _positive_int("T", T, 2)
    if not np.isfinite(quiet) or quiet < 0:
        raise ValueError(f"quiet must be a finite number >= 0, got {quiet}")
    return N, T


def _assemble_batch(rng: np.random.Generator, T: int, quiet: float, marker_t, recall_t) -> MemoryBatch:
    """Draw the values and build the batch whose marks and recalls are at ``marker_t`` and ``recall_t`` (N,)."""
    N = len(marker_t)
    rows = np.arange(N)
    x = np.zeros((N, T, 3))
    x[:, :, 0] = rng.uniform(-1.0, 1.0, size=(N, T))
    x[rows, marker_t, 1] = 1.0
    x[rows, recall_t, 2] = 1.0
    target = np.zeros((N, T))
    target[rows, recall_t] = x[rows, marker_t, 0]
    weight = np.full((N, T), float(quiet))
    weight[rows, recall_t] = 1.0
    return MemoryBatch(x, target, weight, marker_t, recall_t)


def longest_hold_batch(rng: np.random.Generator, N: int, T: int, quiet: float = 0.1) -> MemoryBatch:
    """``N`` sequences of the memory task with the longest possible hold: marker at the first step, recall at the last.

    The values are drawn as in :func:`make_memory_batch`; only the marker and
    recall steps are fixed, so the value must be held over ``T - 1`` steps
    (``T`` may exceed the length a model was trained on).

    Parameters
    ----------
    rng : numpy.random.Generator
    N : int
        Number of sequences.
    T : int
        Steps per sequence, at least 2.
    quiet : float
        Loss weight of the steps where the target is 0.

    Returns
    -------
    MemoryBatch
    """
    N, T = _check_batch_args(rng, N, T, quiet)
    return _assemble_batch(rng, T, quiet, np.zeros(N, dtype=int), np.full(N, T - 1))


def mse_loss(y, target, weight):
    """Weighted squared error per sequence, ``L = (1/N) sum_{n,t} w_nt (y_nt - target_nt)^2``, and ``dL/dy``.

    Parameters
    ----------
    y, target, weight : arrays of shape (N, T)

    Returns
    -------
    loss : float
    dy : array of shape (N, T)
    """
    dims: dict[str, int] = {}
    y = check("y", y, ("N", "T"), dims)
    target = check("target", target, ("N", "T"), dims, y.dtype)
    weight = check("weight", weight, ("N", "T"), dims, y.dtype)
    if np.any(weight < 0):
        raise ValueError("weight must be >= 0 everywhere")
    N = y.shape[0]
    err = y - target
    return float(np.sum(weight * err ** 2) / N), 2.0 * weight * err / N


def init_memory_model(kind, H: int, rng: np.random.Generator, **init_options) -> dict:
    """Parameters of a cell with ``D = 3`` inputs and a read-out ``W_y`` (1, H), ``b_y`` (1,)."""
    kind = check_kind(kind)
    model = init_params(kind, len(CHANNELS), H, rng, **init_options)
    k = 1.0 / np.sqrt(H)
    model["W_y"] = rng.uniform(-k, k, (1, H)).astype(model["W_x"].dtype)
    model["b_y"] = np.zeros(1, dtype=model["W_x"].dtype)
    return model


def _cell(model: dict) -> dict:
    missing = [k for k in (*CELL_KEYS, "W_y", "b_y") if k not in model]
    if missing:
        raise ValueError(f"model must have the cell's keys {list(CELL_KEYS)} and 'W_y', 'b_y', missing {missing}")
    return cell_params(model)   # the four arrays, and a peephole LSTM's p_i, p_f, p_o


def memory_model_forward(kind, model: dict, x, **options):
    """Run the model from a zero state; ``options`` go to the cell (``variant=`` of an LSTM, say).

    Returns
    -------
    hidden : (N, T, H), y : (N, T), cache
    """
    kind = check_kind(kind)
    cell = _cell(model)
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (N, T, 3), got {x.shape}")
    H = cell["W_h"].shape[1]
    hidden, _, cache = sequence_forward(kind, cell, x, zero_state(kind, x.shape[0], H, cell["W_x"].dtype), **options)
    y = readout_forward(hidden, model["W_y"], model["b_y"])[..., 0]   # (N, T)
    return hidden, y, cache


def memory_model_loss(kind, model: dict, batch: MemoryBatch, **options):
    """Loss on a batch and its gradient with respect to every parameter of ``model``.

    Returns
    -------
    loss : float, grads : dict with the keys of ``model``
    """
    if not isinstance(batch, MemoryBatch):
        raise TypeError(f"batch must be a MemoryBatch from make_memory_batch, got {type(batch).__name__}")
    hidden, y, cache = memory_model_forward(kind, model, batch.x, **options)
    loss, dy = mse_loss(y, batch.target, batch.weight)
    dhidden, dW_y, db_y = readout_backward(dy[..., None], hidden, model["W_y"])
    H = hidden.shape[2]
    N = hidden.shape[0]
    zero = np.zeros((N, H), dtype=hidden.dtype)
    dstate = (zero, zero) if kind == "lstm" else zero
    _, _, grads = sequence_backward(kind, dhidden, dstate, cache)
    grads["W_y"], grads["b_y"] = dW_y, db_y
    return loss, grads


def train_memory_model(kind, model: dict, rng: np.random.Generator, steps: int, N: int = 32, T: int = 12,
                       min_gap: int = 3, quiet: float = 0.1, lr: float = 0.01, **options):
    """Adam on fresh batches of the memory task, one batch per step, drawn from ``rng``.

    Returns the trained parameters and the loss of each step's batch (before
    the step).  With the same ``rng`` seed and starting ``model`` the run is
    identical every time.
    """
    kind = check_kind(kind)
    steps = _positive_int("steps", steps, 0)
    state = adam_init(model)
    history = []
    for _ in range(steps):
        batch = make_memory_batch(rng, N, T, min_gap, quiet)
        loss, grads = memory_model_loss(kind, model, batch, **options)
        if not np.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss} after {len(history)} steps; lower the learning rate")
        history.append(loss)
        model, state = adam_step(model, grads, state, lr=lr)
    return model, history


#: The seed of chapter 4's test batch (500 sequences), used by :func:`run_memory_model`.
TEST_SEED = 999


def run_memory_model(kind, seed: int, steps: int = 600, lr: float = 0.03, H: int = 2,
                     forget_bias: float | None = None, with_params: bool = False, **options) -> dict:
    """Train one model as chapter 4 does and score it; one flat row of results.

    The weights come from ``np.random.default_rng(seed)``, the training
    batches (32 sequences of 12 steps, a fresh one per step) from
    ``np.random.default_rng(seed + 100)``; the scores are measured on the
    test batch of 500 sequences drawn from ``TEST_SEED``.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    seed : int
    steps : int
        Adam steps.
    lr : float
        Learning rate.
    H : int
        Hidden units.
    forget_bias : float, optional
        An LSTM's initial forget bias (``init_params``'s ``forget_bias``).
    with_params : bool
        Also store the trained parameters in the row (:func:`params_to_row`),
        so that a chapter can use the trained model without training it.
    **options
        Cell options, e.g. the GRU's ``reset`` and ``update``.

    Returns
    -------
    dict
        ``kind``, ``seed``, ``steps``, ``lr``, ``H``, ``forget_bias``, the
        options, ``recall_error`` (:func:`recall_error`), ``quiet_output``
        (:func:`quiet_output`), ``final_loss`` (mean training loss of the
        last 20 steps; None after 0 steps) and ``seconds``.
    """
    kind = check_kind(kind)
    seed = _positive_int("seed", seed, 0)
    init = {} if forget_bias is None else {"forget_bias": float(forget_bias)}
    start = time.perf_counter()
    model = init_memory_model(kind, H, np.random.default_rng(seed), **init)
    model, history = train_memory_model(kind, model, np.random.default_rng(seed + 100), steps, lr=lr, **options)
    test = make_memory_batch(np.random.default_rng(TEST_SEED), N=500, T=12)
    return {"kind": kind, "seed": seed, "steps": int(steps), "lr": float(lr), "H": int(H),
            "forget_bias": init.get("forget_bias"), **options,
            "recall_error": recall_error(kind, model, test, **options),
            "quiet_output": quiet_output(kind, model, test, **options),
            "final_loss": float(np.mean(history[-20:])) if history else None,
            "seconds": round(time.perf_counter() - start, 3), **(params_to_row(model) if with_params else {})}


#: The prefix of the row keys that hold a model's parameters.
PARAM_PREFIX = "param."


def params_to_row(model: dict, prefix: str = PARAM_PREFIX) -> dict:
    """A model's arrays as flat row keys ``PREFIX<name>.<k>`` (``k`` the index in ``ravel`` order).

    JSON writes a float64 exactly, so :func:`params_from_row` gives back the
    same arrays, bit for bit.
    """
    return {f"{prefix}{name}.{k}": float(v) for name, array in model.items()
            for k, v in enumerate(np.asarray(array, dtype=np.float64).ravel())}


def params_from_row(row, kind, H: int, prefix: str = PARAM_PREFIX, **init_options) -> dict:
    """The model stored in a row by :func:`params_to_row`: arrays of the shapes of :func:`init_memory_model`."""
    template = init_memory_model(kind, H, np.random.default_rng(0), **init_options)
    model = {}
    for name, array in template.items():
        keys = [f"{prefix}{name}.{k}" for k in range(array.size)]
        missing = [key for key in keys if key not in row]
        if missing:
            raise ValueError(f"the row holds no {kind} model with H = {H}: {len(missing)} of the {len(keys)} "
                             f"keys of {name!r} {array.shape} are missing, e.g. {missing[0]!r}")
        model[name] = np.array([row[key] for key in keys], dtype=array.dtype).reshape(array.shape)
    return model


def recall_error(kind, model: dict, batch: MemoryBatch, **options) -> float:
    """Mean squared error at the recall step only (0 is perfect, 1/3 is what always answering 0 costs)."""
    _, y, _ = memory_model_forward(kind, model, batch.x, **options)
    rows = np.arange(len(batch.recall_t))
    return float(np.mean((y[rows, batch.recall_t] - batch.target[rows, batch.recall_t]) ** 2))


def quiet_output(kind, model: dict, batch: MemoryBatch, **options) -> float:
    """Mean squared output at the steps where the target is 0 (every step but the recall step)."""
    _, y, _ = memory_model_forward(kind, model, batch.x, **options)
    quiet = np.arange(y.shape[1])[None, :] != batch.recall_t[:, None]
    return float(np.mean(y[quiet] ** 2))


def choose_memory_unit(c, batch: MemoryBatch) -> int:
    """The unit whose cell state just before the recall step tracks the remembered value best.

    The rule: for each unit, the absolute correlation, over the batch, between
    ``c`` at step ``recall_t - 1`` and the value shown at the marker; return the
    unit where it is largest.

    Parameters
    ----------
    c : array of shape (N, T, H)
        Cell states (e.g. ``lstm_traces(...)["c"]``).
    batch : MemoryBatch
    """
    c = np.asarray(c, dtype=np.float64)
    N = len(batch.recall_t)
    if c.ndim != 3 or c.shape[:2] != batch.x.shape[:2]:
        raise ValueError(f"c must have shape (N, T, H) = ({N}, {batch.x.shape[1]}, H), got {c.shape}")
    rows = np.arange(N)
    held = c[rows, batch.recall_t - 1]                    # (N, H)
    value = batch.x[rows, batch.marker_t, 0]              # (N,)
    return int(np.argmax(np.abs(_correlations(held, value))))


def _correlations(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``a`` (N, H) with ``v`` (N,); 0 for a constant column."""
    a = a - a.mean(axis=0)
    v = v - v.mean()
    denom = np.sqrt((a ** 2).sum(axis=0) * (v ** 2).sum())
    return np.divide(a.T @ v, denom, out=np.zeros(a.shape[1]), where=denom > 0)


class GatePhases(NamedTuple):
    """Mean gate values of one unit in the phases of the task (averaged over the batch)."""

    i_marker: float     # input gate at the marker step
    i_other: float      # input gate at every other step
    f_marker: float     # forget gate at the marker step
    f_hold: float       # forget gate at the steps after the marker, up to and including the recall step
    o_recall: float     # output gate at the recall step
    o_other: float      # output gate at every other step


def gate_phases(traces: dict, batch: MemoryBatch, unit: int) -> GatePhases:
    """Average the gates ``i``, ``f``, ``o`` (each (N, T, H)) of ``unit`` over the phases of the task."""
    for key in ("i", "f", "o"):
        if key not in traces:
            raise ValueError(f"traces must hold the gates 'i', 'f' and 'o', missing {key!r}")
    N, T = batch.x.shape[:2]
    H = np.shape(traces["i"])[2]
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < H:
        raise ValueError(f"unit must be an int in 0 .. {H - 1}, got {unit!r}")
    t = np.arange(T)[None, :]
    marker = t == batch.marker_t[:, None]
    recall = t == batch.recall_t[:, None]
    hold = (t > batch.marker_t[:, None]) & (t <= batch.recall_t[:, None])
    i, f, o = (np.asarray(traces[k])[:, :, unit] for k in ("i", "f", "o"))
    return GatePhases(float(i[marker].mean()), float(i[~marker].mean()), float(f[marker].mean()),
                      float(f[hold].mean()), float(o[recall].mean()), float(o[~recall].mean()))
