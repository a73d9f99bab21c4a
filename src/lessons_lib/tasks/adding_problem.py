"""The adding problem (Hochreiter and Schmidhuber 1997, experiment 4): a test of long-range memory.

Each sequence has ``T`` steps and two input channels::

    x_t = (v_t, m_t)
    v_t ~ U(-1, 1)        a random value at every step
    m_t = 1               at two marked steps t_1 != t_2, both in the first half (t < T // 2)
    m_t = 0               everywhere else

The target, read out after the last step, is ::

    y = 0.5 + (v_{t_1} + v_{t_2}) / 4          in [0, 1]

and a prediction counts as **correct** when its absolute error is below
``TOLERANCE = 0.04``.  Both marks lie in the first half, so a model must hold
both values for at least ``T / 2`` steps of distracting input.

Two baselines follow from the distribution of the target alone:

- predicting the mean, 0.5, remembers nothing: its mean squared error is
  ``Var(y) = 2 Var(v) / 16 = 1/24``, and it is correct when
  ``|v_1 + v_2| < 4 * tol``, with probability ``4 tol - 4 tol^2`` (0.1536);
- remembering one of the two values and guessing the mean of the other costs
  ``Var(v) / 16 = 1/48`` in squared error and is correct with probability
  ``4 tol`` (0.16): the accuracy hardly rewards half a memory; the squared
  error does.

Two variants are drawn here (``variant=``):

- ``"first-half"`` (the default, the chapter's): as above.  It is a
  simplification of Hochreiter and Schmidhuber's task, in which the first
  mark falls in the first 10 steps, the lengths vary between ``T`` and
  ``1.1 T``, and the first and last steps carry end markers;
- ``"le2015"`` (Le, Jaitly and Hinton 2015; Arjovsky, Shah and Bengio
  2016): values ``v_t ~ U(0, 1)``, one mark uniformly in each half, and the
  plain sum ``y = v_{t_1} + v_{t_2}`` as target.  Predicting the mean, 1,
  costs ``Var(y) = 2/12 = 1/6`` in squared error, the baseline of the
  published curves.

Scores comparable across the variants: the **normalised** squared error
``NMSE = MSE / Var(y)`` (1 for predicting the mean, 0 for a perfect model),
and the accuracy with a tolerance of ``TOLERANCE`` times the target's range
(0.04 for ``"first-half"``, 0.08 for ``"le2015"``).  A run counts as
**solved** when its test NMSE is below :data:`SOLVED_NMSE`: the model
explains at least 95 % of the target's variance.  This one criterion is used
everywhere in the book.

References: S. Hochreiter and J. Schmidhuber, "Long short-term memory",
Neural Computation 9(8), 1997; Q. V. Le, N. Jaitly and G. E. Hinton, "A
simple way to initialize recurrent networks of rectified linear units",
arXiv:1504.00941, 2015; M. Arjovsky, A. Shah and Y. Bengio, "Unitary
evolution recurrent neural networks", ICML 2016.
"""

from __future__ import annotations

import sys
import time
from typing import NamedTuple

import numpy as np

from ..models.regression import init_regressor, regressor_forward, regressor_loss, regressor_predict
from ..training.loop import train
from ..validation import MIN_KINDS, check_any_kind, check_choice, check_int

TOLERANCE = 0.04
#: The two tasks drawn here (see the module docstring).
VARIANTS = ("first-half", "le2015")
#: The variance of the target, which is the squared error of always predicting its mean.
TARGET_VARIANCE = {"first-half": 1.0 / 24.0, "le2015": 1.0 / 6.0}
#: The range of the target (largest minus smallest value), by which the accuracy tolerance scales.
TARGET_RANGE = {"first-half": 1.0, "le2015": 2.0}
#: A run is solved when its test NMSE = MSE / Var(y) is below this (95 % of the variance explained).
SOLVED_NMSE = 0.05


#: What three papers that use the adding problem report about their setups, for setting our runs beside theirs.
#: Hochreiter and Schmidhuber (1997, experiment 4, table 7): the training sequences an LSTM of 93 weights saw
#: until it met their stopping rule at each minimal length T.  Le et al. (2015) and Arjovsky et al. (2016): the
#: lengths of their ``"le2015"`` variant, whose baseline is the variance 1/6 of its target.
PUBLISHED = {
    "hochreiter1997": {"variant": "Hochreiter and Schmidhuber's own", "lengths": (100, 500, 1000),
                       "sequences_to_solve": (74_000, 209_000, 853_000), "weights": 93},
    "le2015": {"variant": "le2015", "lengths": (150, 200, 300, 400)},
    "arjovsky2016": {"variant": "le2015", "lengths": (100, 200, 400, 750)},
}


class AddingBatch(NamedTuple):
    """A batch of the adding problem."""

    x: np.ndarray       #: (N, T, 2) inputs, the value and the marker of every step
    target: np.ndarray  #: (N, 1) 0.5 + (sum of the two marked values) / 4, or the plain sum for "le2015"
    marks: np.ndarray   #: (N, 2) int, the two marked steps (0-based, ascending)


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}")
    return rng


def make_adding_batch(rng: np.random.Generator, N: int, T: int, dtype=np.float64,
                      variant: str = "first-half") -> AddingBatch:
    """Draw ``N`` sequences of length ``T`` (at least 4, so that the first half has two steps)."""
    rng = _check_rng(rng)
    N, T = check_int("N", N, 1), check_int("T", T, 4)
    variant = check_choice("variant", variant, VARIANTS)
    rows = np.arange(N)[:, None]
    if variant == "le2015":
        values = rng.uniform(0.0, 1.0, (N, T))
        marks = np.stack([rng.integers(0, T // 2, N), rng.integers(T // 2, T, N)], axis=1)   # (N, 2)
        target = values[rows, marks].sum(axis=1, keepdims=True)                           # (N, 1)
    else:
        values = rng.uniform(-1.0, 1.0, (N, T))
        # Two distinct steps of the first half per sequence: the ranks of random keys pick them without a loop.
        marks = np.sort(np.argsort(rng.random((N, T // 2)), axis=1)[:, :2], axis=1)   # (N, 2)
        target = 0.5 + values[rows, marks].sum(axis=1, keepdims=True) / 4.0          # (N, 1)
    markers = np.zeros((N, T))
    markers[rows, marks] = 1.0
    x = np.stack([values, markers], axis=-1)                                      # (N, T, 2)
    return AddingBatch(x.astype(dtype), target.astype(dtype), marks)


def adding_batches(rng: np.random.Generator, N: int, T: int, dtype=np.float64, variant: str = "first-half"):
    """An endless iterator of fresh batches drawn from ``rng``."""
    while True:
        yield make_adding_batch(rng, N, T, dtype, variant)


def constant_baseline(tolerance: float = TOLERANCE) -> tuple[float, float]:
    """Mean squared error and accuracy of always predicting 0.5 (exact, not simulated)."""
    a = 4.0 * tolerance  # correct when |v_1 + v_2| < a; v_1 + v_2 has the triangular density (2 - |s|) / 4
    return 1.0 / 24.0, float(a - a * a / 4.0) if a <= 2 else 1.0


def one_value_baseline(tolerance: float = TOLERANCE) -> tuple[float, float]:
    """Mean squared error and accuracy of knowing one marked value exactly and nothing of the other."""
    return 1.0 / 48.0, float(min(1.0, 4.0 * tolerance))


def accuracy(prediction, target, tolerance: float = TOLERANCE) -> float:
    """Fraction of predictions within ``tolerance`` of the target."""
    prediction, target = np.asarray(prediction), np.asarray(target)
    if prediction.shape != target.shape:
        raise ValueError(f"prediction and target must have the same shape, got {prediction.shape} and {target.shape}")
    return float(np.mean(np.abs(prediction - target) < tolerance))


def _cell_options(cell_options) -> dict:
    if cell_options is None:
        return {}
    if not isinstance(cell_options, dict):
        raise TypeError(f"cell_options must be a dict of the cell's options (e.g. {{'variant': 'peephole'}}), "
                        f"got {type(cell_options).__name__}")
    return cell_options


def adding_step(kind, cell_options: dict | None = None):
    """A step function for :func:`lessons_lib.training.loop.train` on :class:`AddingBatch` batches.

    ``cell_options`` go to the cell (an LSTM's ``{"variant": "peephole"}``, a
    minimal cell's ``{"method": "loop"}``, say).
    """
    kind = check_any_kind(kind)
    options = _cell_options(cell_options)

    def step_fn(model, batch: AddingBatch, carry):
        loss, grads, _ = regressor_loss(kind, model, batch.x, batch.target, where="last", **options)
        return loss, grads, carry

    return step_fn


def evaluate_adding(kind, model: dict, batch: AddingBatch, variant: str = "first-half",
                    cell_options: dict | None = None) -> dict:
    """Mean squared error, normalised MSE (``mse / Var(y)``) and accuracy of ``model`` on ``batch``.

    ``variant`` is the task's; ``cell_options`` go to the cell.
    """
    variant = check_choice("variant", variant, VARIANTS)
    y = regressor_predict(kind, model, batch.x, where="last", **_cell_options(cell_options))
    mse = float(np.mean((y - batch.target) ** 2))
    return {"mse": mse, "nmse": mse / TARGET_VARIANCE[variant],
            "accuracy": accuracy(y, batch.target, TOLERANCE * TARGET_RANGE[variant])}


def train_adding(kind, T: int, seed: int, steps: int, H: int = 32, N: int = 32, lr: float = 0.02,
                 max_norm: float | None = 1.0, dtype=np.float32, progress: bool = False,
                 variant: str = "first-half", eval_every: int | None = None, stop_nmse: float | None = None,
                 cell_options: dict | None = None, **init_options):
    """Train a fresh model on the adding problem with sequences of length ``T``.

    The seed fixes both the initial weights and the training batches (two
    independent streams spawned from ``np.random.default_rng(seed)``), so a
    run is reproducible from ``(kind, T, seed)`` and the settings.
    ``init_options`` go to :func:`lessons_lib.cells.initialisation.init_params` (``forget_bias=1.0``, say).
    ``cell_options`` go to the cell at every step (an LSTM's ``{"variant":
    "peephole"}``, say); an LSTM's ``variant`` goes to ``init_params`` too,
    which makes the peephole weights.  (``variant`` alone is the task's.)

    With ``eval_every``, the model is scored every ``eval_every`` steps on
    :func:`validation_batch` (never on the test batch); with ``stop_nmse``
    as well, training stops once the validation NMSE is below it.

    ``kind`` may be a minimal cell, ``"mingru"`` or ``"minlstm"``
    (:mod:`lessons_lib.cells.min_cells`); its ``update_bias=`` or
    ``forget_bias=`` goes to ``init_params`` with the other ``init_options``.

    Returns ``(model, history)`` as :func:`lessons_lib.training.loop.train`.
    """
    kind = check_any_kind(kind)
    variant = check_choice("variant", variant, VARIANTS)
    if stop_nmse is not None and eval_every is None:
        raise ValueError("stop_nmse needs eval_every: how often to score the validation batch")
    cell_options = _cell_options(cell_options)
    if kind == "lstm" and "variant" in cell_options:
        init_options = {**init_options, "variant": cell_options["variant"]}
    init_rng, data_rng = np.random.default_rng(seed).spawn(2)
    model = init_regressor(kind, 2, H, 1, init_rng, dtype=dtype, **init_options)
    evaluate = stop_when = None
    if eval_every is not None:
        held_out = validation_batch(T, dtype=dtype, variant=variant)

        def evaluate(params):
            return evaluate_adding(kind, params, held_out, variant, cell_options)

        if stop_nmse is not None:
            def stop_when(metrics):
                return metrics["nmse"] < stop_nmse
    return train(adding_step(kind, cell_options), model, adding_batches(data_rng, N, T, dtype, variant), steps, lr=lr,
                 max_norm=max_norm, progress=progress, desc=f"{kind}, T = {T}, seed {seed}",
                 evaluate=evaluate, eval_every=eval_every, stop_when=stop_when)


def test_batch(T: int, N: int = 2000, dtype=np.float32, variant: str = "first-half") -> AddingBatch:
    """The fixed held-out batch for length ``T`` (its own seed, never used for training)."""
    variant = check_choice("variant", variant, VARIANTS)
    seed = [2026, T] if variant == "first-half" else [2026, T, VARIANTS.index(variant)]
    return make_adding_batch(np.random.default_rng(seed), N, T, dtype, variant)


test_batch.__test__ = False  # not a pytest test, despite its name


def validation_batch(T: int, N: int = 500, dtype=np.float32, variant: str = "first-half") -> AddingBatch:
    """A held-out batch for deciding when to stop training: its own seed, apart from training and test."""
    variant = check_choice("variant", variant, VARIANTS)
    return make_adding_batch(np.random.default_rng([2027, T, VARIANTS.index(variant)]), N, T, dtype, variant)


def run_adding(cell: str, T: int, lr: float, seed: int, steps: int, forget_bias: float | None = None,
               variant: str = "first-half", H: int = 32, N: int = 32, eval_every: int = 100,
               stop_nmse: float | None = 0.01, dtype=np.float32, update_bias: float | None = None) -> dict:
    """One run of the adding-problem experiments, as a flat row of settings and test scores.

    Trains a fresh model (:func:`train_adding`, Adam at learning rate ``lr``,
    gradient norm clipped to 1) for at most ``steps`` steps, stopping early
    once the validation NMSE is below ``stop_nmse`` (None: never), and scores
    it on :func:`test_batch`.  ``forget_bias`` is the initial forget-gate
    bias of an LSTM or a minLSTM, ``update_bias`` the initial update-gate
    bias ``b_z`` of a minGRU (None: as drawn, and for the other cells).

    Returns
    -------
    dict
        ``cell``, ``variant``, ``T``, ``lr``, ``seed``, ``steps`` (the
        budget), ``steps_run``, ``forget_bias``, ``H``, ``N``, ``test_mse``,
        ``test_nmse``, ``test_accuracy``, ``solved`` (test NMSE below
        :data:`SOLVED_NMSE`), ``stopped`` (None, or why training ended early)
        and ``seconds`` (wall time of training and scoring); for a minimal
        cell also ``update_bias``.
    """
    return run_adding_with_history(cell, T, lr, seed, steps, forget_bias, variant, H, N, eval_every, stop_nmse,
                                   dtype, update_bias)[0]


def run_adding_with_history(cell: str, T: int, lr: float, seed: int, steps: int, forget_bias: float | None = None,
                            variant: str = "first-half", H: int = 32, N: int = 32, eval_every: int = 100,
                            stop_nmse: float | None = 0.01, dtype=np.float32, update_bias: float | None = None):
    """:func:`run_adding`, and the training history too: returns ``(row, history)``."""
    kind = check_any_kind(cell)
    if forget_bias is not None and kind not in ("lstm", "minlstm"):
        raise ValueError(f"forget_bias is an option of the LSTM only (and of the minLSTM), got it for {kind!r}")
    if update_bias is not None and kind != "mingru":
        raise ValueError(f"update_bias is an option of the minGRU only, got it for {kind!r}")
    start = time.perf_counter()
    options = {} if forget_bias is None else {"forget_bias": float(forget_bias)}
    if update_bias is not None:
        options["update_bias"] = float(update_bias)
    model, history = train_adding(kind, T, seed, steps, H=H, N=N, lr=lr, dtype=dtype, variant=variant,
                                  eval_every=eval_every, stop_nmse=stop_nmse, **options)
    scores = evaluate_adding(kind, model, test_batch(T, dtype=dtype, variant=variant), variant)
    row = {"cell": kind, "variant": variant, "T": int(T), "lr": float(lr), "seed": int(seed), "steps": int(steps),
           "steps_run": int(history.steps), "forget_bias": None if forget_bias is None else float(forget_bias),
           "H": int(H), "N": int(N), "test_mse": scores["mse"], "test_nmse": scores["nmse"],
           "test_accuracy": scores["accuracy"], "solved": bool(scores["nmse"] < SOLVED_NMSE),
           "stopped": history.stopped, "seconds": round(time.perf_counter() - start, 3)}
    if kind in MIN_KINDS:     # the classic cells' rows keep the keys of results/adding.json
        row["update_bias"] = None if update_bias is None else float(update_bias)
    return row, history


#: A re-run agrees with a stored row when the verdict is the same and the test NMSEs differ by at most this
#: (absolute) plus 10 % of the larger one: BLAS rounding differs between machines, and a long float32 run drifts.
RERUN_TOLERANCE = 0.005


def lighter_in_browser(settings: list) -> list:
    """``settings`` as given, except in the browser (Pyodide), where only the first is kept.

    Chapter 5 re-runs two squares of the stored grid live.  In the book's
    JupyterLite site a training step costs about ten times what it costs in
    a local Python, and both runs would take well over the minute a chapter
    may take there; the first alone fits.
    """
    settings = list(settings)
    return settings[:1] if sys.platform == "emscripten" else settings


def rerun_agrees(stored: dict, fresh: dict, tolerance: float = RERUN_TOLERANCE) -> bool:
    """Does a fresh run of a setting agree with its stored row?  Same verdict, and NMSE within the tolerance."""
    a, b = stored["test_nmse"], fresh["test_nmse"]
    return stored["solved"] == fresh["solved"] and abs(a - b) <= tolerance + 0.1 * max(abs(a), abs(b))


def first_hidden_response(kind, model: dict, batch: AddingBatch):
    """Hidden states (N, T, H) of ``model`` on ``batch``, for looking at what the units hold."""
    return regressor_forward(kind, model, batch.x, where="last")[0].hidden
