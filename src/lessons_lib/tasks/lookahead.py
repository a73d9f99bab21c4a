"""A task where the future matters: at every step, output the input ``k`` steps ahead (or behind).

Each sequence has ``T`` steps of one channel, ``x_t = v_t ~ U(-1, 1)``,
independent.  The target at step ``t`` is the value ``shift`` steps away::

    y_t = v_{t + shift}        scored where 0 <= t + shift < T (elsewhere masked out)

With ``shift = k > 0`` the target is *ahead*: a network whose output at ``t``
depends only on ``x_1 .. x_t`` (a unidirectional RNN, any causal model)
cannot know it.  The future values are independent of the past ones, so the
best such a model can do is predict their mean, 0, with squared error
``Var(v) = 1/3``: its normalised error ``NMSE = MSE / Var(v)`` is at least 1,
whatever its size or training.  A bidirectional network's reverse cell has
read ``x_T .. x_t``, so it only needs to hold ``v_{t+k}`` for ``k`` steps.

With ``shift = -k < 0`` the target is *behind*, ``k`` steps back: the same
memory, looking the other way, which a unidirectional network can learn.  It
is the control that shows that a failure at ``+k`` is not a lack of capacity.

A run is **solved** when its test NMSE is below :data:`SOLVED_NMSE` (95 % of
the target's variance explained), the criterion used throughout the book.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from ..models.tagger import count_parameters, init_tagger, tagger_loss, tagger_predict
from ..training.loop import train
from ..validation import check_choice, check_int, check_kind

#: Variance of the values, ``(1 - (-1))^2 / 12``, which is the squared error of predicting 0 everywhere.
VARIANCE = 1.0 / 3.0
#: A run is solved when its test NMSE is below this.
SOLVED_NMSE = 0.05
#: The two kinds of network compared.
DIRECTIONS = ("uni", "bi")
#: Hidden sizes with about the same number of parameters, for one layer with D = K = 1. For the GRU
#: they give 1,153 weights unidirectional and 1,105 bidirectional, so the unidirectional network gets a few more.
MATCHED_H = {"uni": 18, "bi": 12}
#: The experiment's settings (see :func:`run_shift`).
SETTINGS = {"T": 20, "N": 32, "steps": 600, "max_norm": 1.0, "test_N": 1000, "validation_N": 500}


class ShiftBatch(NamedTuple):
    """A batch of the look-ahead task."""

    x: np.ndarray       #: (N, T, 1) the values v_t
    target: np.ndarray  #: (N, T, 1) v_{t + shift}, 0 where it does not exist
    mask: np.ndarray    #: (N, T, 1) bool, True where the target exists (0 <= t + shift < T)
    shift: int          #: the offset of the target, positive ahead and negative behind


def _check_shift(shift, T: int) -> int:
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)):
        raise TypeError(f"shift must be an int, got {type(shift).__name__}")
    if shift == 0 or abs(shift) >= T:
        raise ValueError(f"shift must be non-zero and shorter than the sequence, 0 < |shift| < T = {T}, got {shift}")
    return int(shift)


def make_shift_batch(rng: np.random.Generator, N: int, T: int, shift: int, dtype=np.float64) -> ShiftBatch:
    """``N`` sequences of ``T`` values ``U(-1, 1)``, and their targets ``shift`` steps away."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}")
    N, T = check_int("N", N, 1), check_int("T", T, 2)
    shift = _check_shift(shift, T)
    v = rng.uniform(-1.0, 1.0, (N, T)).astype(dtype)          # (N, T)
    target = np.zeros_like(v)
    mask = np.zeros((N, T), dtype=bool)
    if shift > 0:
        target[:, :-shift], mask[:, :-shift] = v[:, shift:], True
    else:
        target[:, -shift:], mask[:, -shift:] = v[:, :shift], True
    return ShiftBatch(v[:, :, None], target[:, :, None], mask[:, :, None], shift)


def shift_batches(rng: np.random.Generator, N: int, T: int, shift: int, dtype=np.float64):
    """An endless stream of fresh batches from ``rng``."""
    while True:
        yield make_shift_batch(rng, N, T, shift, dtype)


def test_batch(T: int, shift: int, N: int = SETTINGS["test_N"]) -> ShiftBatch:
    """The fixed held-out batch for ``(T, shift)``: its own seed, never trained on."""
    return make_shift_batch(np.random.default_rng([2026, 8, T, shift + 1000]), N, T, shift)


test_batch.__test__ = False  # not a pytest test, despite its name


def validation_batch(T: int, shift: int, N: int = SETTINGS["validation_N"]) -> ShiftBatch:
    """A held-out batch for choosing the learning rate, apart from training and test."""
    return make_shift_batch(np.random.default_rng([2027, 8, T, shift + 1000]), N, T, shift)


def shift_step(kind, residual: bool = False):
    """A step function for :func:`lessons_lib.training.loop.train` on :class:`ShiftBatch` batches."""
    kind = check_kind(kind)

    def step_fn(model, batch: ShiftBatch, carry):
        loss, grads, _ = tagger_loss(kind, model, batch.x, batch.target, batch.mask, residual=residual)
        return loss, grads, carry

    return step_fn


def evaluate_shift(kind, model: dict, batch: ShiftBatch, residual: bool = False) -> dict:
    """Mean squared error and NMSE (``mse / VARIANCE``) over the scored steps of ``batch``."""
    y = tagger_predict(kind, model, batch.x, residual=residual)
    err = (y - batch.target)[batch.mask]
    mse = float(np.mean(err ** 2))
    return {"mse": mse, "nmse": mse / VARIANCE}


def nmse_by_step(kind, model: dict, batch: ShiftBatch) -> np.ndarray:
    """NMSE at each step ``t`` (T,), over the sequences; ``nan`` where the target does not exist."""
    y = tagger_predict(kind, model, batch.x)
    sq = np.where(batch.mask, (y - batch.target) ** 2, np.nan)[:, :, 0]   # (N, T)
    scored = batch.mask[:, :, 0].any(axis=0)
    out = np.full(sq.shape[1], np.nan)
    out[scored] = np.nanmean(sq[:, scored], axis=0) / VARIANCE
    return out


def init_shift_model(kind, direction: str, seed: int, H: int | None = None, num_layers: int = 1) -> dict:
    """The starting parameters of a run: ``init_tagger`` from the first of two streams spawned from ``seed``."""
    direction = check_choice("direction", direction, DIRECTIONS)
    H = MATCHED_H[direction] if H is None else H
    init_rng, _ = np.random.default_rng(seed).spawn(2)
    return init_tagger(kind, 1, H, 1, num_layers, direction == "bi", init_rng)


def train_shift(kind, direction: str, shift: int, lr: float, seed: int, steps: int = SETTINGS["steps"],
                T: int = SETTINGS["T"], H: int | None = None, N: int = SETTINGS["N"], num_layers: int = 1,
                max_norm: float | None = SETTINGS["max_norm"], progress: bool = False):
    """Train a fresh tagger on the look-ahead task; returns ``(model, history)`` as :func:`~lessons_lib.training.loop.train`.

    The seed fixes the initial weights and the training batches (two streams
    spawned from ``np.random.default_rng(seed)``), the same batches for both
    directions.  ``H`` defaults to :data:`MATCHED_H`.  Adam at ``lr``, the
    gradient norm clipped to ``max_norm``, float64.
    """
    kind = check_kind(kind)
    model = init_shift_model(kind, direction, seed, H, num_layers)
    _, data_rng = np.random.default_rng(seed).spawn(2)
    return train(shift_step(kind), model, shift_batches(data_rng, N, T, shift), steps, lr=lr, max_norm=max_norm,
                 progress=progress, desc=f"{kind} {direction}, shift {shift:+d}, seed {seed}")


def run_shift(cell: str, direction: str, shift: int, lr: float, seed: int, steps: int = SETTINGS["steps"],
              T: int = SETTINGS["T"], H: int | None = None, N: int = SETTINGS["N"]) -> dict:
    """One run of the look-ahead experiment, as a flat row of settings and scores.

    Returns
    -------
    dict
        ``cell``, ``direction``, ``shift``, ``T``, ``H``, ``N``, ``lr``,
        ``seed``, ``steps``, ``parameters`` (the count), ``untrained_test_nmse``
        (the same network before training: the control), ``val_nmse`` (for
        choosing the learning rate), ``test_nmse``, ``solved`` (test NMSE
        below :data:`SOLVED_NMSE`), ``stopped`` and ``seconds``.
    """
    kind = check_kind(cell)
    direction = check_choice("direction", direction, DIRECTIONS)
    H = MATCHED_H[direction] if H is None else int(H)
    start = time.perf_counter()
    untrained = init_shift_model(kind, direction, seed, H)
    test, validation = test_batch(T, shift), validation_batch(T, shift)
    model, history = train_shift(kind, direction, shift, lr, seed, steps, T, H, N)
    test_nmse = evaluate_shift(kind, model, test)["nmse"]
    return {"cell": kind, "direction": direction, "shift": int(shift), "T": int(T), "H": H, "N": int(N),
            "lr": float(lr), "seed": int(seed), "steps": int(steps), "parameters": count_parameters(model),
            "untrained_test_nmse": evaluate_shift(kind, untrained, test)["nmse"],
            "val_nmse": evaluate_shift(kind, model, validation)["nmse"], "test_nmse": test_nmse,
            "solved": bool(test_nmse < SOLVED_NMSE), "stopped": history.stopped,
            "seconds": round(time.perf_counter() - start, 3)}
