"""The stored language experiment (results/language.json): complete, with provenance, and reproducible."""

from __future__ import annotations

import importlib.util
import math
import pathlib
import sys

import numpy as np
import pytest

from lessons_lib.analysis import results as res
from lessons_lib.tasks import text_data

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATH = ROOT / "results" / "language.json"


def _reproduce():
    """scripts/reproduce.py as a module (as tests/test_results.py loads it)."""
    if "reproduce" not in sys.modules:
        spec = importlib.util.spec_from_file_location("reproduce", ROOT / "scripts" / "reproduce.py")
        sys.modules["reproduce"] = importlib.util.module_from_spec(spec)   # dataclasses look their module up there
        spec.loader.exec_module(sys.modules["reproduce"])
    return sys.modules["reproduce"]


@pytest.fixture(scope="module")
def stored():
    return res.load_results(PATH)


def test_the_file_has_provenance_and_every_row_of_the_grid(stored):
    rp = _reproduce()
    assert stored.experiment == "language" and {"commits", "blas_threads"} <= set(stored.provenance)
    rows = stored.rows
    assert rp.language_pending(rows) == []          # nothing left to run: the grid and the long run are complete
    for model in text_data.NGRAM_MODELS:
        got = {(r["order"], r["split"]) for r in res.select(rows, model=model)}
        assert got == {(k, s) for k in range(1, 8) for s in text_data.SPLITS}
    for cell in rp.LANGUAGE_CELLS:
        got = {(r["lr"], r["seed"], r["split"]) for r in res.select(rows, model=cell, steps=rp.LANGUAGE_STEPS)}
        assert got == {(lr, s, sp) for lr in rp.LANGUAGE_LRS for s in rp.LANGUAGE_SEEDS for sp in text_data.SPLITS}
    cell, lr, _ = rp.language_best(rows)
    long = res.select(rows, steps=rp.LANGUAGE_LONG_STEPS)
    assert {(r["model"], r["lr"]) for r in long} == {(cell, lr)} and len(long) == 2 * len(rp.LANGUAGE_SEEDS)
    assert rp.LANGUAGE_WEIGHTS.exists()


def test_every_model_is_scored_on_the_same_predictions_of_each_split(stored):
    splits = text_data.language_splits()
    for split in text_data.SPLITS:
        counts = {r["predictions"] for r in res.select(stored.rows, split=split)}
        assert counts == {len(splits.test(split)) - 1}
    assert {r["predictions"] for r in res.select(stored.rows, split="unseen-play")} == {30_000}
    for row in stored.rows:
        assert math.isclose(row["bpc"], row["nats"] / math.log(2), rel_tol=1e-12)
        required = {"model", "split", "bpc", "nats", "predictions", "validation_bpc", "order", "H", "lr", "seed",
                    "steps"}
        assert required <= set(row), sorted(row)
        if row["order"] is None:
            assert row["H"] == 96 and row["lr"] > 0 and row["seed"] in (0, 1, 2) and f"bpc_at_{row['steps']}" in row


def test_a_stored_ngram_row_is_recomputed_exactly(stored):
    from lessons_lib.models import ngram

    splits = text_data.language_splits()
    (row,) = res.select(stored.rows, model="ngram-kn", order=3, split="unseen-play")
    fitted = ngram.fit_ngram(splits.train, splits.vocab.size, 3, smoothing="kneser-ney")
    nats = -np.log(ngram.ngram_probabilities(fitted, splits.unseen_play))
    assert nats.size == row["predictions"] and abs(nats.mean() - row["nats"]) < 1e-12


def test_the_check_tolerance_tells_a_real_change_from_rounding():
    rp = _reproduce()
    net = {"model": "rnn", "order": None, "split": "unseen-play", "predictions": 30_000, "bpc": 2.5}
    gram = {"model": "ngram-kn", "order": 5, "split": "unseen-play", "predictions": 30_000, "bpc": 2.4}
    assert rp.language_agree([net], [net | {"bpc": 2.5 + 1e-4}])           # BLAS rounding
    assert not rp.language_agree([net], [net | {"bpc": 2.55}])             # a real change
    assert not rp.language_agree([net], [net | {"predictions": 29_999}])   # other predictions
    assert rp.language_agree([gram], [gram | {"bpc": 2.4 + 1e-12}])
    assert not rp.language_agree([gram], [gram | {"bpc": 2.4 + 1e-6}])     # counting is exact
    assert not rp.language_agree([gram], [gram | {"order": 6}])


def test_the_best_learning_rate_is_chosen_on_validation_not_on_a_test_split():
    rp = _reproduce()
    rows = []
    for lr, val, test in ((0.01, 2.0, 3.0), (0.02, 2.5, 1.0)):
        for seed in rp.LANGUAGE_SEEDS:
            rows += [{"model": "gru", "lr": lr, "seed": seed, "steps": rp.LANGUAGE_STEPS, "split": split,
                      "validation_bpc": val, "bpc": test} for split in text_data.SPLITS]
    assert rp.language_best(rows)[:2] == ("gru", 0.01)
    summary, _ = res.language_comparison(rows)
    assert summary[f"GRU, {rp.LANGUAGE_STEPS} steps"]["lr"] == 0.01


def test_the_comparison_summarises_each_model_at_its_best_setting(stored):
    summary, text = res.language_comparison(stored.rows)
    kn = [label for label in summary if label.startswith("Kneser-Ney")]
    assert len(kn) == 1 and "LSTM, 2000 steps" in summary and "RNN, 2000 steps" in text
    for entry in summary.values():
        for split in text_data.SPLITS:
            s = entry[split]
            assert s.low <= s.median <= s.high and s.n in (1, 3)
