"""Run the book's long experiments and store their results, with provenance, in results/NAME.json.

Usage (from the repository root):

    python scripts/reproduce.py --list              # the experiments, and how far each has got
    python scripts/reproduce.py adding              # run (or resume) one experiment
    python scripts/reproduce.py adding --jobs 2     # the same on two processes
    python scripts/reproduce.py --check             # re-run a small fixed sample of stored rows

An experiment is a grid of settings and a function that runs one setting
and returns one flat row (``lessons_lib.tasks.adding_problem.run_adding``,
say).  Rows are written as they finish, so an interrupted run resumes where
it stopped: settings already in the file are not run again.  Some grids grow
with their results (longer sequences only for settings that solved the
shorter ones); the script repeats until nothing is left to run.

``--check`` re-runs, for every results file present, the few cheapest rows
named by the experiment and compares them with the stored ones (see
``TOLERANCE``); it exits with status 1 when one disagrees.  On the machine
that made a file the runs agree to the last digit.  Elsewhere, BLAS may
round differently and a long float32 training run can drift, so a row
agrees when its verdict (solved or not) is the same and its test NMSE is
within the tolerance.

BLAS runs single-threaded here (the matrices are small, and a fixed thread
count keeps the results reproducible); ``--jobs`` runs settings in parallel
instead.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Callable  # noqa: E402

from tqdm import tqdm  # noqa: E402

from lessons_lib.analysis.results import (  # noqa: E402
    best_setting,
    command_line,
    curve_keys,
    load_results,
    provenance,
    save_results,
    select,
)
from lessons_lib.tasks import adding_problem, gate_ablation, lookahead, memory_task, text_data, weather  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
#: --check: a re-run agrees with a stored row when the verdict is the same and |NMSE difference| <= this
#: (absolute) + 10 % of the larger value.
TOLERANCE = adding_problem.RERUN_TOLERANCE


@dataclass(frozen=True)
class Experiment:
    """A grid of settings, the function that runs one, and the settings that identify a row."""

    name: str
    describe: str
    keys: tuple                           # the settings that identify a row (for sorting the file)
    pending: Callable[[list], list]       # settings still to run, given the rows so far
    run: Callable[..., list]              # settings -> the rows of that run
    check: Callable[[list], list]         # the settings that --check re-runs, given the stored rows
    stored: Callable[[list, dict], list]  # the stored rows of one setting
    agree: Callable[[list, list], bool]   # do stored and fresh rows of one setting agree?


# ------------------------------------------------------------------------------------------- adding problem

ADDING_CELLS = (("rnn", None), ("gru", None), ("lstm", 0.0), ("lstm", 1.0), ("lstm", 3.0))
ADDING_LRS = (1e-3, 3e-3, 1e-2, 2e-2)
ADDING_SEEDS = (0, 1, 2)
ADDING_LENGTHS = (10, 20, 50, 100, 200, 400, 800)
ADDING_STEPS = 2000
ADDING_KEYS = ("cell", "forget_bias", "variant", "T", "lr", "seed")
#: The chapter's variant first, then Le et al.'s (2015), each on the whole grid.
ADDING_VARIANTS = ("first-half", "le2015")


def _adding_settings(cell, forget_bias, T, lr, seed, variant="first-half") -> dict:
    return {"cell": cell, "forget_bias": forget_bias, "variant": variant, "T": T, "lr": lr, "seed": seed,
            "steps": ADDING_STEPS}


def _grow(done: dict, cell, fb, variant: str, lr: float, lengths) -> list:
    """The next settings of one chain of lengths: the first incomplete length, unless every seed failed before."""
    for T in lengths:
        keys = [(cell, fb, variant, T, lr, s) for s in ADDING_SEEDS]
        missing = [key for key in keys if key not in done]
        if missing:
            return [_adding_settings(cell, fb, T, lr, key[-1], variant) for key in missing]
        if not any(done[key]["solved"] for key in keys):
            return []
    return []


def adding_pending(rows: list) -> list:
    """The next settings to run: for each (cell, forget bias, lr), the next length its seeds have earned.

    Every setting starts at T = 10, and a length is run for all three seeds
    once the previous one is complete.  When every seed of a setting failed
    at one length, its longer lengths are not run: they would cost the most
    of the whole grid (a failing run spends its full budget) to confirm a
    failure.  The lengths go to 800 for settings that keep solving.

    Once that grid is complete, the same grid runs on the ``"le2015"``
    variant (Le et al. 2015), with the same rule.
    """
    done = {tuple(r[k] for k in ADDING_KEYS): r for r in rows}
    for variant in ADDING_VARIANTS:
        todo = []
        for cell, fb in ADDING_CELLS:
            for lr in ADDING_LRS:
                todo += _grow(done, cell, fb, variant, lr, ADDING_LENGTHS)
        if todo:
            return todo
    return []


def adding_check(rows: list) -> list:
    """Cheap stored settings (T = 10, seed 0) whose training is stable, and one of the le2015 grid.

    The tanh RNN at the larger rates is left out: its training is unstable, so
    the rounding of another CPU moves its final error by more than any fair
    tolerance (at lr 0.02, NMSE 0.042 stored, 0.089 re-run on another machine
    of the same kind), and a check there could not tell a bug from rounding.
    """
    wanted = [("gru", None, 10, 0.02, "first-half"), ("rnn", None, 10, 0.003, "first-half"),
              ("lstm", 1.0, 10, 0.001, "first-half"), ("gru", None, 10, 0.02, "le2015")]
    return [{k: r[k] for k in ADDING_KEYS} | {"steps": r["steps"]} for r in rows
            if (r["cell"], r["forget_bias"], r["T"], r["lr"], r["variant"]) in wanted and r["seed"] == 0]


def adding_stored(rows: list, settings: dict) -> list:
    return [r for r in rows if all(r[k] == settings[k] for k in ADDING_KEYS)]


def adding_run(**settings) -> list:
    return [adding_problem.run_adding(**settings)]


def adding_agree(stored: list, fresh: list) -> bool:
    """Same verdict, and test NMSE within TOLERANCE + 10 % of the larger value."""
    (s,), (f,) = stored, fresh
    return adding_problem.rerun_agrees(s, f, TOLERANCE)


agrees = adding_agree    # the name the tests use


# ------------------------------------------------------------------------- adding problem: training curves

#: Chapter 5's two pairs of opposite verdicts: (cell, forget bias, T), each at the two rates below.
CURVE_SETTINGS = (("gru", None, 50), ("lstm", 0.0, 20))
CURVE_LRS = (1e-3, 2e-2)


def curves_pending(rows: list) -> list:
    """Every seed of the curve settings that is not stored yet."""
    done = {tuple(r[k] for k in ADDING_KEYS) for r in rows}
    return [_adding_settings(cell, fb, T, lr, seed) for cell, fb, T in CURVE_SETTINGS for lr in CURVE_LRS
            for seed in ADDING_SEEDS if (cell, fb, "first-half", T, lr, seed) not in done]


def curves_run(**settings) -> list:
    """The run of ``adding`` with the same settings, and its training loss (mean of the last 50 steps, every 10)."""
    row, history = adding_problem.run_adding_with_history(**settings)
    return [row | curve_keys(history.loss, prefix="loss_at_", every=10, window=50)]


def curves_check(rows: list) -> list:
    """The cheapest curve: the GRU at T = 50 with rate 0.02 stops within a few hundred steps."""
    return [{k: r[k] for k in ADDING_KEYS} | {"steps": r["steps"]} for r in rows
            if (r["cell"], r["T"], r["lr"], r["seed"]) == ("gru", 50, 0.02, 0)]


def curves_agree(stored: list, fresh: list) -> bool:
    """The row agrees as in ``adding``, and the curves by 10 % at every stored step both runs reached."""
    (s,), (f,) = stored, fresh
    steps = [k for k in s if k.startswith("loss_at_") and k in f]
    return adding_problem.rerun_agrees(s, f, TOLERANCE) and all(
        abs(s[k] - f[k]) <= 0.1 * max(abs(s[k]), abs(f[k])) for k in steps)


# -------------------------------------------------------------------------------------- weather forecasting

WEATHER_CELLS = ("rnn", "gru", "lstm")
WEATHER_LRS = (3e-3, 1e-2, 3e-2)
WEATHER_SEEDS = (0, 1, 2)
WEATHER_WINDOW = 72
WEATHER_MAE_TOLERANCE = 0.05   # °C, per horizon
_split = None


def _weather_split():
    global _split     # one split per process: loading and preparing the year takes a moment
    if _split is None:
        _split = weather.chapter_split(window=WEATHER_WINDOW)
    return _split


def weather_pending(rows: list) -> list:
    """Baselines and linear models once; every cell at every learning rate with every seed."""
    todo = [] if any(r["model"] == "linear" for r in rows) else [{"what": "baselines"}]
    done = {(r["model"], r["lr"], r["seed"]) for r in rows if r["seed"] is not None}
    todo += [{"what": "network", "cell": c, "lr": lr, "seed": s} for c in WEATHER_CELLS for lr in WEATHER_LRS
             for s in WEATHER_SEEDS if (c, lr, s) not in done]
    return todo


def weather_run(what: str, cell: str | None = None, lr: float | None = None, seed: int | None = None) -> list:
    if what == "baselines":
        return weather.baseline_rows(_weather_split())
    return weather.network_rows(_weather_split(), cell, lr, seed, window=WEATHER_WINDOW)


def weather_check(rows: list) -> list:
    return [{"what": "baselines"}, {"what": "network", "cell": "gru", "lr": 1e-2, "seed": 0}]


def weather_stored(rows: list, settings: dict) -> list:
    if settings["what"] == "baselines":
        return [r for r in rows if r["seed"] is None]
    return [r for r in rows if (r["model"], r["lr"], r["seed"]) == (settings["cell"], settings["lr"],
                                                                      settings["seed"])]


def weather_agree(stored: list, fresh: list) -> bool:
    """Every (model, window, horizon) within WEATHER_MAE_TOLERANCE °C of the stored MAE."""
    key = lambda r: (r["model"], r["window_hours"], r["horizon_hours"])  # noqa: E731
    old = {key(r): r["mae_c"] for r in stored}
    return old.keys() == {key(r) for r in fresh} and all(
        abs(old[key(r)] - r["mae_c"]) <= WEATHER_MAE_TOLERANCE for r in fresh)


# ---------------------------------------------------------------------------------------- language models
#
# Budget (measured on one core of the 2-core AMD EPYC machine, float32, N = 32, T = 64, H = 96): a training step
# takes about 23 ms for the LSTM, 17 ms for the GRU and 7 ms for the tanh RNN on an idle machine, and about twice
# as long with the other core busy.  The grid, 3 cells x 4 learning rates x 3 seeds x 2000 steps, costs
# 4 x 3 x 2000 x 47 ms = 19 min idle; the long run, the best cell at its best rate x 3 seeds x 8000 steps,
# 3 x 8000 x 23 ms = 9 min if it is the LSTM; the n-grams (2 smoothings x orders 1-7) 10 s; the evaluations
# (every 500 or 1000 steps, on 129 000 predictions) a few minutes.  About 30 minutes idle, an hour on a busy machine.
# The grid started with 3 learning rates; 0.04 was added when the LSTM did best at the largest, 0.02.

LANGUAGE_CELLS = ("lstm", "gru", "rnn")
LANGUAGE_LRS = (3e-3, 1e-2, 2e-2, 4e-2)
LANGUAGE_SEEDS = (0, 1, 2)
LANGUAGE_H = 96
LANGUAGE_STEPS = 2000           # the common budget of the grid: about 4.5 passes over the training text
LANGUAGE_LONG_STEPS = 8000      # the long run of the best network at its best learning rate
LANGUAGE_KEYS = ("model", "order", "H", "lr", "steps", "seed", "split")
#: The trained weights of the long run's seed 0, for chapter 6's samples and hidden units.
LANGUAGE_WEIGHTS = RESULTS / "language_best_network.npz"
#: --check: n-gram rows agree to this (counting is exact; only the order of a sum may differ) ...
LANGUAGE_NGRAM_TOLERANCE = 1e-9
#: ... and a network row within this many bits per character on both splits.  On the machine that made the file
#: a rerun is bitwise identical, with one BLAS thread or two; elsewhere BLAS may round differently, which perturbs
#: a float32 training run less than a different seed does, and the three seeds of the checked setting span 0.018
#: bpc on the unseen play.  A change of the data, the model or the training moves the score by more.
LANGUAGE_BPC_TOLERANCE = 0.02
_language = None


def _language_splits():
    global _language
    if _language is None:
        _language = text_data.language_splits()
    return _language


def language_best(rows: list):
    """The best network and its learning rate: the lowest median *validation* bpc over seeds at the grid budget.

    Validation is the first part of the training plays' held-out tails, apart from both test splits; the
    test splits play no part in the choice.  Returns ``(cell, lr, {cell: (lr, median validation bpc)})``.
    """
    grid = select(rows, steps=LANGUAGE_STEPS, split="unseen-play", model=set(LANGUAGE_CELLS))
    per_cell = {cell: value for (cell,), value in best_setting(grid, "validation_bpc", by=["model"]).items()}
    cell = min(per_cell, key=lambda c: (per_cell[c][1], c))
    return cell, per_cell[cell][0], per_cell


def language_pending(rows: list) -> list:
    """Both n-gram smoothings; the grid of cells, learning rates and seeds; then the long run of the best one."""
    todo = [{"what": "ngram", "model": m} for m in text_data.NGRAM_MODELS if not select(rows, model=m)]
    done = {(r["model"], r["lr"], r["seed"], r["steps"]) for r in rows if r["seed"] is not None}
    grid = [{"what": "network", "cell": c, "lr": lr, "seed": s, "steps": LANGUAGE_STEPS} for c in LANGUAGE_CELLS
            for lr in LANGUAGE_LRS for s in LANGUAGE_SEEDS if (c, lr, s, LANGUAGE_STEPS) not in done]
    todo += grid
    if todo:
        return todo
    cell, lr, _ = language_best(rows)
    return [{"what": "network", "cell": cell, "lr": lr, "seed": s, "steps": LANGUAGE_LONG_STEPS}
            for s in LANGUAGE_SEEDS if (cell, lr, s, LANGUAGE_LONG_STEPS) not in done]


def language_run(what: str, model: str | None = None, cell: str | None = None, lr: float | None = None,
                 seed: int | None = None, steps: int | None = None, save: bool = True) -> list:
    if what == "ngram":
        return text_data.ngram_rows(_language_splits(), model)
    long = steps == LANGUAGE_LONG_STEPS
    return text_data.network_rows(_language_splits(), cell, lr, seed, steps, H=LANGUAGE_H,
                                  eval_every=1000 if long else 500,
                                  save_to=LANGUAGE_WEIGHTS if long and seed == 0 and save else None)


def language_check(rows: list) -> list:
    """Every n-gram row (10 s), and the cheapest network run of the grid: the tanh RNN, lr 0.01, seed 0 (15 s)."""
    return [{"what": "ngram", "model": m} for m in text_data.NGRAM_MODELS] + [
        {"what": "network", "cell": "rnn", "lr": 1e-2, "seed": 0, "steps": LANGUAGE_STEPS, "save": False}]


def language_stored(rows: list, settings: dict) -> list:
    if settings["what"] == "ngram":
        return select(rows, model=settings["model"])
    return select(rows, model=settings["cell"], lr=settings["lr"], seed=settings["seed"], steps=settings["steps"])


def language_agree(stored: list, fresh: list) -> bool:
    """The same rows, counting the same predictions, with bpc within the tolerance of their kind."""
    key = lambda r: (r["model"], r["order"], r["split"])  # noqa: E731
    old = {key(r): r for r in stored}
    if old.keys() != {key(r) for r in fresh}:
        return False
    for r in fresh:
        tolerance = LANGUAGE_NGRAM_TOLERANCE if r["order"] is not None else LANGUAGE_BPC_TOLERANCE
        if old[key(r)]["predictions"] != r["predictions"] or abs(old[key(r)]["bpc"] - r["bpc"]) > tolerance:
            return False
    return True
# ------------------------------------------------------------------------------------------ gate ablation

#: Seeds per task: five for the memory task (a second a run), three for the adding problem (10-30 s a run).
GATE_SEEDS = {"memory": (0, 1, 2, 3, 4), "adding": (0, 1, 2)}
GATE_KEYS = ("task", "variant", "lr", "seed")
#: --check, memory task (float64): a re-run agrees when its test score is within this *relative* difference.
#: Perturbing the initial weights by 1e-15 (relative, rounding size) moved the scores by at most 2e-8 relative
#: (at lr 0.1; at most 3e-13 at the checked lr 0.03); two variants, or a changed gradient, differ by > 1e-2.
GATE_MEMORY_RTOL = 1e-6


def gate_pending(rows: list) -> list:
    """Every contender on both tasks, at each of the task's learning rates, with every seed."""
    done = {tuple(r[k] for k in GATE_KEYS) for r in rows}
    return [{"variant": v, "task": task, "lr": lr, "seed": s}
            for task in gate_ablation.TASKS for v in gate_ablation.CONTENDERS
            for lr in gate_ablation.LEARNING_RATES[task] for s in GATE_SEEDS[task]
            if (task, v, lr, s) not in done]


def gate_run(**settings) -> list:
    return [gate_ablation.run_gate_variant(**settings)]


def gate_check(rows: list) -> list:
    """Cheap settings: every contender on the memory task (under a second each) and the GRU on the adding problem."""
    sample = [{"variant": v, "task": "memory", "lr": 0.03, "seed": 0} for v in gate_ablation.CONTENDERS]
    return sample + [{"variant": "gru", "task": "adding", "lr": 0.01, "seed": 0}]


def gate_stored(rows: list, settings: dict) -> list:
    return [r for r in rows if all(r[k] == settings[k] for k in GATE_KEYS)]


def gate_agree(stored: list, fresh: list) -> bool:
    """Memory (float64): test score within GATE_MEMORY_RTOL; adding (float32): as adding_agree."""
    (s,), (f,) = stored, fresh
    if s["task"] == "adding":
        return adding_agree([s], [f])
    a, b = s["test_nmse"], f["test_nmse"]
    return s["solved"] == f["solved"] and abs(a - b) <= GATE_MEMORY_RTOL * max(abs(a), abs(b))


# ------------------------------------------------------------------------------------ bidirectional (chapter 8)

#: The look-ahead task: the value 3 steps ahead (only a bidirectional network can know it) and, as the control,
#: 3 steps behind (the same memory, which a unidirectional network can learn).
BIDIRECTIONAL_SHIFTS = (3, -3)
BIDIRECTIONAL_LRS = (0.003, 0.01, 0.03)
BIDIRECTIONAL_SEEDS = (0, 1, 2)
BIDIRECTIONAL_KEYS = ("cell", "direction", "shift", "lr", "seed")
#: --check: float64 training of 600 steps; a re-run agrees when the test NMSE is within this relative difference.
BIDIRECTIONAL_RTOL = 1e-6


def bidirectional_pending(rows: list) -> list:
    """The GRU, unidirectional and bidirectional, on both shifts, at every learning rate, with every seed."""
    done = {tuple(r[k] for k in BIDIRECTIONAL_KEYS) for r in rows}
    return [{"cell": "gru", "direction": d, "shift": shift, "lr": lr, "seed": s}
            for shift in BIDIRECTIONAL_SHIFTS for d in lookahead.DIRECTIONS for lr in BIDIRECTIONAL_LRS
            for s in BIDIRECTIONAL_SEEDS if ("gru", d, shift, lr, s) not in done]


def bidirectional_run(**settings) -> list:
    return [lookahead.run_shift(**settings)]


def bidirectional_check(rows: list) -> list:
    """Seed 0 at lr 0.01, both directions, looking ahead."""
    return [{"cell": "gru", "direction": d, "shift": 3, "lr": 0.01, "seed": 0} for d in lookahead.DIRECTIONS]


def bidirectional_stored(rows: list, settings: dict) -> list:
    return [r for r in rows if all(r[k] == settings[k] for k in BIDIRECTIONAL_KEYS)]


def bidirectional_agree(stored: list, fresh: list) -> bool:
    (s,), (f,) = stored, fresh
    a, b = s["test_nmse"], f["test_nmse"]
    return s["solved"] == f["solved"] and abs(a - b) <= BIDIRECTIONAL_RTOL * max(abs(a), abs(b))


# ---------------------------------------------------------------------------------------- GRU placements

#: Chapter 4's seed sweep: the GRU with the reset gate after and before the product, and the LSTM as reference.
PLACEMENT_SEEDS = tuple(range(8))
PLACEMENT_KEYS = ("kind", "reset", "seed")
#: Chapter 4's settings: 600 Adam steps at lr 0.03, H = 2; the LSTM starts with forget bias 1.
PLACEMENT_RUNS = (("gru", "after"), ("gru", "before"), ("lstm", None))
#: --check (float64, a second a run): a re-run agrees when its recall error is within this relative difference.
PLACEMENT_RTOL = 1e-6


def placement_pending(rows: list) -> list:
    done = {(r["kind"], r.get("reset"), r["seed"]) for r in rows}
    return [{"kind": kind, "reset": reset, "seed": s} for kind, reset in PLACEMENT_RUNS for s in PLACEMENT_SEEDS
            if (kind, reset, s) not in done]


def placement_run(kind: str, reset: str | None, seed: int) -> list:
    # The LSTM rows keep their trained weights: chapter 4 reads seeds 1-7 instead of training them.
    options = {"forget_bias": 1.0, "with_params": True} if kind == "lstm" else {"reset": reset}
    return [memory_task.run_memory_model(kind, seed, steps=600, lr=0.03, H=2, **options)]


def placement_check(rows: list) -> list:
    return [{"kind": kind, "reset": reset, "seed": 0} for kind, reset in PLACEMENT_RUNS]


def placement_stored(rows: list, settings: dict) -> list:
    return [r for r in rows if (r["kind"], r.get("reset"), r["seed"]) == tuple(settings[k] for k in PLACEMENT_KEYS)]


def placement_agree(stored: list, fresh: list) -> bool:
    (s,), (f,) = stored, fresh
    return all(abs(s[k] - f[k]) <= PLACEMENT_RTOL * max(abs(s[k]), abs(f[k])) for k in ("recall_error", "quiet_output"))



# ------------------------------------------------------------------------------- minGRU against the GRU
#
# Budget (measured idle on one core, one BLAS thread, N = 32, H = 32, float32, with the validation every 100 steps):
# a training step of the GRU takes about 0.023 s at T = 200 and 0.12 s at T = 1000 (linear in T); the minGRU's
# (parallel scan) about 0.005 s at T = 200 and 0.056 s at T = 1000.  A failing run spends its whole budget, so the
# GRU's budget is capped at the longer lengths (MINGRU_STEPS: 1000 steps at T = 500, 500 at T = 1000, about a
# minute a run), and, as in 'adding', a length is run only for settings some seed of which solved the one before.
# The minGRU keeps the 2000 steps of 'adding' everywhere; its rows' steps_run say whether it solved within the
# GRU's cap.  Worst case (every run to its budget) about 50 minutes; in practice less, as solved runs stop early.

#: (cell, update_bias): the GRU; the minGRU as drawn (PyTorch's nn.Linear initialisation, which Feng et al. 2024
#: use, b_z ~ U(-1/sqrt(2), 1/sqrt(2)) for D = 2 inputs); the minGRU with its update gate's bias b_z = -3, so that
#: it starts out keeping 1 - sigma(-3) = 95 % of its state per step.
MINGRU_CELLS = (("gru", None), ("mingru", None), ("mingru", -3.0))
#: The two largest rates of the 'adding' grid, the ones at which the GRU solved T = 200 there; the same for each cell.
MINGRU_LRS = (1e-2, 2e-2)
MINGRU_SEEDS = (0, 1, 2)
MINGRU_LENGTHS = (200, 500, 1000)
#: Step budgets: those of 'adding' (ADDING_STEPS = 2000) except the GRU's at T = 500 and 1000, capped to fit the budget.
MINGRU_STEPS = {("gru", 500): 1000, ("gru", 1000): 500}
MINGRU_KEYS = ("cell", "update_bias", "variant", "T", "lr", "seed")


def _mingru_settings(cell, update_bias, T, lr, seed) -> dict:
    return {"cell": cell, "update_bias": update_bias, "variant": "first-half", "T": T, "lr": lr, "seed": seed,
            "steps": MINGRU_STEPS.get((cell, T), ADDING_STEPS)}


def mingru_pending(rows: list) -> list:
    """For each (cell, init, lr), the next length its seeds have earned (the rule of ``adding_pending``)."""
    done = {tuple(r[k] for k in MINGRU_KEYS): r for r in rows}
    todo = []
    for cell, ub in MINGRU_CELLS:
        for lr in MINGRU_LRS:
            for T in MINGRU_LENGTHS:
                keys = [(cell, ub, "first-half", T, lr, s) for s in MINGRU_SEEDS]
                missing = [key for key in keys if key not in done]
                if missing:
                    todo += [_mingru_settings(cell, ub, T, lr, key[-1]) for key in missing]
                    break
                if not any(done[key]["solved"] for key in keys):
                    break
    return todo


def mingru_run(cell, update_bias, **settings) -> list:
    """The run of ``adding`` with the same settings, and how the cell was initialised and computed.

    Rows add ``update_bias`` (None for the GRU), ``init`` (``"default"``, or ``"b_z = -3"``) and ``method``
    (how the minGRU's recurrence was computed; None for the GRU).
    """
    row = adding_problem.run_adding(cell, update_bias=update_bias, **settings)
    init = "default" if update_bias is None else f"b_z = {update_bias:g}"
    return [{"update_bias": update_bias} | row | {"init": init, "method": "scan" if cell == "mingru" else None}]


def mingru_check(rows: list) -> list:
    """The cheapest runs: seed 0 at T = 200, lr 0.02, of the GRU and of the minGRU with b_z = -3."""
    return [{k: r[k] for k in MINGRU_KEYS} | {"steps": r["steps"]} for r in rows
            if (r["T"], r["lr"], r["seed"]) == (200, 0.02, 0) and (r["cell"], r["update_bias"]) in
            (("gru", None), ("mingru", -3.0))]


def mingru_stored(rows: list, settings: dict) -> list:
    return [r for r in rows if all(r[k] == settings[k] for k in MINGRU_KEYS)]


EXPERIMENTS = {
    "adding": Experiment(
        "adding",
        "the adding problem: each cell (the LSTM with forget bias 0, 1, 3) x 4 learning rates x T = 10..800 x 3 seeds;"
        " then the same grid on the le2015 variant",
        ADDING_KEYS, adding_pending, adding_run, adding_check, adding_stored, adding_agree),
    "adding_curves": Experiment(
        "adding_curves",
        "chapter 5's learning-rate figure: training curves of the GRU (T = 50) and the LSTM with forget bias 0"
        " (T = 20) at lr 0.001 and 0.02, 3 seeds each, the settings of 'adding'",
        ADDING_KEYS, curves_pending, curves_run, curves_check, adding_stored, curves_agree),
    "weather": Experiment(
        "weather",
        "JFK temperature 1-24 h ahead: baselines, linear models (24, 48, 72 h), RNN/GRU/LSTM (72 h) x 3 lrs x 3 seeds",
        ("model", "window_hours", "lr", "seed", "horizon_hours"), weather_pending, weather_run, weather_check,
        weather_stored, weather_agree),
    "language": Experiment(
        "language",
        "Shakespeare, both splits: n-grams (Witten-Bell, Kneser-Ney; orders 1-7); LSTM/GRU/RNN (H = 96) x 4 lrs x"
        " 3 seeds x 2000 steps; the best at its best lr x 3 seeds x 8000 steps",
        LANGUAGE_KEYS, language_pending, language_run, language_check, language_stored, language_agree),
    "gate_ablation": Experiment(
        "gate_ablation",
        "LSTM variants (Greff et al. 2017), chrono init and the GRU: memory task (5 seeds) and adding T = 50 (3 seeds), 3 lrs each",
        GATE_KEYS, gate_pending, gate_run, gate_check, gate_stored, gate_agree),
    "bidirectional": Experiment(
        "bidirectional",
        "chapter 8: the GRU, unidirectional (H = 18) and bidirectional (H = 12), on the value 3 steps ahead and"
        " 3 steps behind, T = 20, 600 steps, 3 lrs x 3 seeds",
        BIDIRECTIONAL_KEYS, bidirectional_pending, bidirectional_run, bidirectional_check, bidirectional_stored,
        bidirectional_agree),
    "gru_placement": Experiment(
        "gru_placement",
        "chapter 4's memory task: the GRU with the reset gate after and before the product, and the LSTM, 8 seeds each",
        PLACEMENT_KEYS, placement_pending, placement_run, placement_check, placement_stored, placement_agree),
    "mingru": Experiment(
        "mingru",
        "the minGRU (Feng et al. 2024; as drawn and with b_z = -3) against the GRU on the adding problem, T = 200,"
        " 500, 1000, lr 0.01 and 0.02, 3 seeds; the GRU's budget capped at 1000 and 500 steps for T = 500 and 1000",
        MINGRU_KEYS, mingru_pending, mingru_run, mingru_check, mingru_stored, adding_agree),
}


# ------------------------------------------------------------------------------------------------ machinery

def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "src"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return out + ("+uncommitted library changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def _stored(name: str) -> tuple[list, dict]:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return [], {}
    stored = load_results(path)
    return stored.rows, stored.provenance


def _save(experiment: Experiment, rows: list, previous: dict, seconds: float, seen: set) -> None:
    """Write the rows with provenance; ``seen`` collects every commit this file's rows were made at."""
    commit = git_commit()
    seen.update(previous.get("commits", []), [commit])
    prov = provenance(command_line(), commit, previous.get("seconds", 0.0) + seconds,
                      commits=sorted(seen), blas_threads=os.environ.get("OPENBLAS_NUM_THREADS"),
                      note="seconds: the wall time of all sessions that made these rows")
    rows = sorted(rows, key=lambda r: tuple((v is None, v if v is not None else 0)
                                            for v in (r.get(k) for k in experiment.keys)))
    save_results(RESULTS / f"{experiment.name}.json", experiment.name, rows, prov)


def run(experiment: Experiment, jobs: int) -> int:
    rows, previous = _stored(experiment.name)
    seen: set = set()
    start = time.perf_counter()
    with tqdm(desc=experiment.name, unit="run") as bar:
        while True:
            todo = experiment.pending(rows)
            if not todo:
                break
            bar.total = (bar.total or 0) + len(todo)
            bar.refresh()
            if jobs == 1:
                results = (experiment.run(**s) for s in todo)
            else:
                pool = ProcessPoolExecutor(max_workers=jobs)
                results = (f.result() for f in as_completed([pool.submit(experiment.run, **s) for s in todo]))
            for new in results:
                rows.extend(new)
                _save(experiment, rows, previous, time.perf_counter() - start, seen)
                bar.update(1)
            if jobs != 1:
                pool.shutdown()
    if not rows:
        return 0
    _save(experiment, rows, previous, time.perf_counter() - start, seen)
    print(f"{experiment.name}: {len(rows)} rows in {RESULTS / (experiment.name + '.json')}")
    return 0


def check(names, limit: int | None = None) -> int:
    """Re-run the check sample of each named experiment; return the number of rows that disagree."""
    bad = 0
    for name in names:
        experiment = EXPERIMENTS[name]
        rows, _ = _stored(name)
        sample = experiment.check(rows)[:limit]
        if not rows or not sample:
            print(f"{name}: no stored rows to check")
            continue
        for settings in sample:
            stored = experiment.stored(rows, settings)
            if not stored:
                print(f"{name} {settings}: not stored yet, skipped")
                continue
            ok = experiment.agree(stored, experiment.run(**settings))
            bad += not ok
            print(f"{name} {settings}: {'agrees' if ok else 'DISAGREES'} with the stored rows", flush=True)
    return bad


def status() -> None:
    for name, experiment in EXPERIMENTS.items():
        rows, prov = _stored(name)
        left = len(experiment.pending(rows))
        state = "complete" if not left else f"{left} runs in its next round"
        print(f"{name}: {experiment.describe}\n  {len(rows)} rows stored ({state}); "
              f"{prov.get('seconds', 0) / 60:.0f} min of runs so far")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", nargs="?", choices=sorted(EXPERIMENTS))
    parser.add_argument("--list", action="store_true", help="list the experiments and their progress")
    parser.add_argument("--check", action="store_true", help="re-run a small sample of stored rows")
    parser.add_argument("--jobs", type=int, default=1, help="processes to run settings on (default 1)")
    args = parser.parse_args(argv)
    if args.list:
        status()
        return 0
    if args.check:
        names = [args.experiment] if args.experiment else [n for n in EXPERIMENTS
                                                           if (RESULTS / f"{n}.json").exists()]
        return 1 if check(names) else 0
    if not args.experiment:
        parser.error("name an experiment (see --list), or use --check")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return run(EXPERIMENTS[args.experiment], args.jobs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
