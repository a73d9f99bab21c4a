"""A small version of Greff et al. (2017), "LSTM: a search space odyssey": the gate variants, measured.

Each contender is trained on two tasks and scored on held-out data:

``"memory"``
    the memory task of :mod:`.memory_task` with chapter 4's settings: ``T =
    12`` steps, recall at least 3 steps after the marker, ``H = 2`` units,
    600 Adam steps on fresh batches of 32; the score is the recall error
    divided by 1/3, the error of always answering 0.
``"adding"``
    the adding problem of :mod:`.adding_problem` (``"first-half"``) at ``T =
    50`` with ``H = 32``: at most 2000 Adam steps on batches of 32, gradient
    norm clipped to 1, stopping once the validation NMSE is below 0.01 (the
    settings of ``results/adding.json``, where the LSTM with forget bias 1
    solved ``T = 50`` with every seed at learning rate 0.001); the score is
    the NMSE, 1 for predicting the mean.

The contenders (:data:`CONTENDERS`) are the six LSTM variants of
:mod:`lessons_lib.cells.lstm_variants`, each with forget bias 1, the vanilla
LSTM with chrono initialisation instead (``T_max`` = the task's ``T``), and
the GRU.  Every contender gets the same learning-rate grid per task
(:data:`LEARNING_RATES`), and each run is scored on a validation batch (for
choosing the learning rate) and on a test batch (for reporting), both fixed
and never trained on.  A run is one flat row (:func:`run_gate_variant`).

Reference: K. Greff, R. K. Srivastava, J. Koutník, B. R. Steunebrink and
J. Schmidhuber, "LSTM: a search space odyssey", IEEE Transactions on Neural
Networks and Learning Systems 28(10), 2017.
"""

from __future__ import annotations

import time

import numpy as np

from ..cells.lstm_variants import VARIANTS as LSTM_VARIANTS
from ..training.loop import train
from ..validation import check_choice
from . import adding_problem, memory_task

#: The tasks of the study.
TASKS = ("memory", "adding")
#: Contender -> (cell family, cell options, initialisation options).  ``"chrono"`` gets ``chrono = T`` per task.
CONTENDERS = {
    **{v: ("lstm", {"variant": v}, {"forget_bias": 1.0}) for v in LSTM_VARIANTS},
    "chrono": ("lstm", {}, {}),
    "gru": ("gru", {}, {}),
}
#: The learning-rate grid of every contender, per task (around chapter 4's 0.03, and the adding grid's lower end).
LEARNING_RATES = {"memory": (0.01, 0.03, 0.1), "adding": (0.001, 0.003, 0.01)}
#: The settings of each task.
SETTINGS = {
    "memory": {"T": 12, "H": 2, "N": 32, "steps": 600, "min_gap": 3, "quiet": 0.1},
    "adding": {"T": 50, "H": 32, "N": 32, "steps": 2000, "eval_every": 100, "stop_nmse": 0.01},
}
#: Seeds of the held-out memory batches (chapter 4's test batch, and a validation batch of its own).
MEMORY_TEST_SEED, MEMORY_VALIDATION_SEED = 999, 998
#: The recall error of always answering 0, ``E[v^2]`` for ``v ~ U(-1, 1)``.
MEMORY_BASELINE = 1.0 / 3.0
#: A run counts as solved when its test score is below this (95 % of the baseline error removed), on both tasks.
SOLVED = adding_problem.SOLVED_NMSE


def _options(contender: str, task: str):
    kind, cell_options, init_options = CONTENDERS[contender]
    if contender == "chrono":
        init_options = {"chrono": float(SETTINGS[task]["T"])}
    return kind, dict(cell_options), dict(init_options)


def _run_memory(kind, cell_options, init_options, lr, seed):
    s = SETTINGS["memory"]
    init = {**init_options, **({"variant": cell_options["variant"]} if "variant" in cell_options else {})}
    model = memory_task.init_memory_model(kind, s["H"], np.random.default_rng(seed), **init)
    data_rng = np.random.default_rng(seed + 100)    # chapter 4's streams: weights from seed, batches from seed + 100

    def batches():
        while True:
            yield memory_task.make_memory_batch(data_rng, s["N"], s["T"], s["min_gap"], s["quiet"])

    def step_fn(params, batch, carry):
        loss, grads = memory_task.memory_model_loss(kind, params, batch, **cell_options)
        return loss, grads, carry

    model, history = train(step_fn, model, batches(), s["steps"], lr=lr)
    scores = {}
    for name, rng_seed in (("val", MEMORY_VALIDATION_SEED), ("test", MEMORY_TEST_SEED)):
        batch = memory_task.make_memory_batch(np.random.default_rng(rng_seed), 500, s["T"], s["min_gap"], s["quiet"])
        scores[name] = memory_task.recall_error(kind, model, batch, **cell_options) / MEMORY_BASELINE
    return scores, history


def _run_adding(kind, cell_options, init_options, lr, seed):
    s = SETTINGS["adding"]
    model, history = adding_problem.train_adding(
        kind, s["T"], seed, s["steps"], H=s["H"], N=s["N"], lr=lr, eval_every=s["eval_every"],
        stop_nmse=s["stop_nmse"], cell_options=cell_options, **init_options)
    test = adding_problem.evaluate_adding(kind, model, adding_problem.test_batch(s["T"]), cell_options=cell_options)
    return {"val": history.evals[-1][1]["nmse"], "test": test["nmse"]}, history


def run_gate_variant(variant: str, task: str, lr: float, seed: int) -> dict:
    """Train contender ``variant`` on ``task`` at learning rate ``lr`` from ``seed``; one flat row.

    Returns
    -------
    dict
        ``variant``, ``task``, ``kind``, ``lr``, ``seed``, the task's
        settings (``T``, ``H``, ``steps``), ``forget_bias`` and ``chrono``
        (the initialisation), ``steps_run``, ``val_nmse`` and ``test_nmse``
        (the scores on the validation and test batches, 1 = no memory),
        ``solved`` (test score below :data:`SOLVED`), ``stopped`` (None, or
        why training ended early) and ``seconds``.
    """
    check_choice("variant", variant, tuple(CONTENDERS))
    check_choice("task", task, TASKS)
    kind, cell_options, init_options = _options(variant, task)
    start = time.perf_counter()
    runner = _run_memory if task == "memory" else _run_adding
    scores, history = runner(kind, cell_options, init_options, float(lr), int(seed))
    s = SETTINGS[task]
    return {"variant": variant, "task": task, "kind": kind, "lr": float(lr), "seed": int(seed), "T": s["T"],
            "H": s["H"], "steps": s["steps"], "forget_bias": init_options.get("forget_bias"),
            "chrono": init_options.get("chrono"), "steps_run": int(history.steps),
            "val_nmse": float(scores["val"]), "test_nmse": float(scores["test"]),
            "solved": bool(scores["test"] < SOLVED), "stopped": history.stopped,
            "seconds": round(time.perf_counter() - start, 3)}
