"""The adding problem: the batches, the exact baselines, training and the sweep."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib.tasks import adding_problem as ap


def test_batch_shapes_marks_and_target(rng):
    batch = ap.make_adding_batch(rng, 500, 12)
    assert batch.x.shape == (500, 12, 2) and batch.target.shape == (500, 1) and batch.marks.shape == (500, 2)
    assert np.all(batch.x[..., 1].sum(axis=1) == 2)                        # exactly two marks
    assert np.all(batch.marks[:, 0] < batch.marks[:, 1]) and batch.marks.max() < 6   # distinct, first half
    rows = np.arange(500)
    assert np.all(batch.x[rows[:, None], batch.marks, 1] == 1)
    values = batch.x[rows[:, None], batch.marks, 0]
    assert np.allclose(batch.target[:, 0], 0.5 + values.sum(axis=1) / 4)
    assert np.all(np.abs(batch.x[..., 0]) <= 1) and 0 <= batch.target.min() and batch.target.max() <= 1
    assert set(np.unique(batch.marks)) == set(range(6))                    # every first-half step gets used


def test_batches_are_reproducible_and_checked():
    a = ap.make_adding_batch(np.random.default_rng(3), 4, 8)
    b = ap.make_adding_batch(np.random.default_rng(3), 4, 8)
    assert np.array_equal(a.x, b.x) and ap.make_adding_batch(np.random.default_rng(3), 2, 8, np.float32).x.dtype == np.float32
    with pytest.raises(ValueError, match="T must be an int >= 4"):
        ap.make_adding_batch(np.random.default_rng(0), 4, 3)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        ap.make_adding_batch(0, 4, 8)


def test_exact_baselines_agree_with_simulation():
    batch = ap.make_adding_batch(np.random.default_rng(1), 200_000, 8)
    mse, acc = ap.constant_baseline()
    assert mse == pytest.approx(1 / 24) and acc == pytest.approx(0.1536)
    assert np.mean((0.5 - batch.target) ** 2) == pytest.approx(mse, rel=0.01)
    assert ap.accuracy(np.full_like(batch.target, 0.5), batch.target) == pytest.approx(acc, abs=0.003)
    # Knowing the first marked value exactly and guessing the mean of the second:
    first = batch.x[np.arange(len(batch.x)), batch.marks[:, 0], 0][:, None]
    guess = 0.5 + first / 4
    mse1, acc1 = ap.one_value_baseline()
    assert np.mean((guess - batch.target) ** 2) == pytest.approx(mse1, rel=0.01)
    assert ap.accuracy(guess, batch.target) == pytest.approx(acc1, abs=0.003)


def test_accuracy_counts_errors_below_the_tolerance():
    assert ap.accuracy(np.array([0.5, 0.5, 0.5]), np.array([0.53, 0.45, 0.5])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="same shape"):
        ap.accuracy(np.zeros(2), np.zeros(3))


def test_a_gru_learns_short_sequences_deterministically():
    runs = [ap.train_adding("gru", 6, seed=0, steps=150, H=8, N=32, lr=0.03) for _ in range(2)]
    (model, history), (model2, history2) = runs
    assert np.array_equal(history.loss, history2.loss) and all(np.array_equal(model[k], model2[k]) for k in model)
    result = ap.evaluate_adding("gru", model, ap.test_batch(6, N=500))
    assert result["mse"] < ap.one_value_baseline()[0] / 4 and result["accuracy"] > 0.5


def test_length_sweep_returns_one_row_per_run_and_the_table_counts_successes():
    rows = ap.length_sweep({"RNN": ("rnn", {}), "LSTM": ("lstm", {"forget_bias": 1.0})}, [4, 6], [0, 1], steps=3, H=4, N=8)
    assert len(rows) == 8 and {r["model"] for r in rows} == {"RNN", "LSTM"}
    assert all(set(r) >= {"kind", "T", "seed", "mse", "accuracy", "loss", "stopped", "history"} for r in rows)
    table = ap.success_table(rows + [{"model": "RNN", "T": 4, "accuracy": 0.9}])
    assert table[("RNN", 4)] == (1, 3) and table[("LSTM", 6)] == (0, 2)


def test_test_batch_is_fixed_and_independent_of_training_seeds():
    assert np.array_equal(ap.test_batch(8, N=5).x, ap.test_batch(8, N=5).x)
    assert not np.array_equal(ap.test_batch(8, N=5).x, ap.make_adding_batch(np.random.default_rng(0), 5, 8, np.float32).x)


def test_format_sweep_lays_out_models_by_length():
    rows = [{"model": "GRU", "T": 10, "accuracy": 0.996, "mse": 1.23e-4}, {"model": "GRU", "T": 20, "accuracy": 0.5, "mse": 0.04},
            {"model": "RNN", "T": 10, "accuracy": 0.1, "mse": 0.0417}, {"model": "RNN", "T": 20, "accuracy": 0.2, "mse": 0.05}]
    assert ap.format_sweep(rows).splitlines() == [
        "model    T = 10    T = 20", "GRU        1.00      0.50", "RNN        0.10      0.20"]
    assert "0.00012" in ap.format_sweep(rows, "mse")
