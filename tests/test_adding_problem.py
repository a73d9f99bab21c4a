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


def test_run_adding_with_history_is_run_adding_and_its_history():
    row, history = ap.run_adding_with_history("gru", 6, 0.03, 0, 40, H=4, N=8, eval_every=20, stop_nmse=None)
    again = ap.run_adding("gru", 6, 0.03, 0, 40, H=4, N=8, eval_every=20, stop_nmse=None)
    assert {k: v for k, v in row.items() if k != "seconds"} == {k: v for k, v in again.items() if k != "seconds"}
    assert history.steps == row["steps_run"] == 40 and len(history.evals) == 2


def test_a_rerun_agrees_only_with_the_same_verdict_and_a_close_error():
    stored = {"test_nmse": 0.010, "solved": True}
    assert ap.rerun_agrees(stored, {"test_nmse": 0.014, "solved": True})
    assert not ap.rerun_agrees(stored, {"test_nmse": 0.020, "solved": True})
    assert not ap.rerun_agrees({"test_nmse": 0.049, "solved": True}, {"test_nmse": 0.051, "solved": False})
    assert ap.rerun_agrees({"test_nmse": 0.98, "solved": False}, {"test_nmse": 1.05, "solved": False})


def test_test_batch_is_fixed_and_independent_of_training_seeds():
    assert np.array_equal(ap.test_batch(8, N=5).x, ap.test_batch(8, N=5).x)
    assert not np.array_equal(ap.test_batch(8, N=5).x, ap.make_adding_batch(np.random.default_rng(0), 5, 8, np.float32).x)


def test_le2015_variant_has_one_mark_per_half_and_the_plain_sum_as_target():
    batch = ap.make_adding_batch(np.random.default_rng(3), 20000, 30, variant="le2015")
    values, markers = batch.x[..., 0], batch.x[..., 1]
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(batch.marks[:, 0] < 15) and np.all(batch.marks[:, 1] >= 15)
    rows = np.arange(len(values))
    assert np.allclose(batch.target[:, 0], values[rows, batch.marks[:, 0]] + values[rows, batch.marks[:, 1]])
    # predicting the mean, 1, costs Var(y) = 1/6: the baseline of Le et al. and Arjovsky et al.
    assert np.mean((batch.target - 1.0) ** 2) == pytest.approx(1 / 6, rel=0.03)
    assert ap.TARGET_VARIANCE["le2015"] == pytest.approx(1 / 6)


def test_first_half_variant_is_the_default_and_its_draws_are_unchanged():
    a = ap.make_adding_batch(np.random.default_rng(5), 4, 12)
    b = ap.make_adding_batch(np.random.default_rng(5), 4, 12, variant="first-half")
    assert np.array_equal(a.x, b.x) and np.array_equal(a.target, b.target)
    big = ap.make_adding_batch(np.random.default_rng(6), 20000, 12)
    assert np.mean((big.target - 0.5) ** 2) == pytest.approx(ap.TARGET_VARIANCE["first-half"], rel=0.03)


def test_nmse_is_one_for_the_mean_and_accuracy_tolerance_scales_with_the_range():
    for variant, mean in (("first-half", 0.5), ("le2015", 1.0)):
        batch = ap.test_batch(20, variant=variant)
        model = ap.init_regressor("gru", 2, 4, 1, np.random.default_rng(0), dtype=np.float32)
        for k in model:
            model[k] = np.zeros_like(model[k])
        model["b_y"] = np.full_like(model["b_y"], mean)      # a model that always predicts the mean
        scores = ap.evaluate_adding("gru", model, batch, variant)
        assert scores["nmse"] == pytest.approx(1.0, abs=0.08)
        tolerance = ap.TOLERANCE * ap.TARGET_RANGE[variant]
        assert scores["accuracy"] == pytest.approx(np.mean(np.abs(batch.target - mean) < tolerance))
    with pytest.raises(ValueError, match="variant"):
        ap.make_adding_batch(np.random.default_rng(0), 2, 8, variant="hochreiter")


def test_run_adding_returns_a_flat_row_and_stops_once_solved():
    row = ap.run_adding("gru", 10, 0.01, 0, 3000, eval_every=100, stop_nmse=0.01)
    assert set(row) == {"cell", "variant", "T", "lr", "seed", "steps", "steps_run", "forget_bias", "H", "N",
                        "test_mse", "test_nmse", "test_accuracy", "solved", "stopped", "seconds"}
    assert row["solved"] and row["test_nmse"] < ap.SOLVED_NMSE and row["steps_run"] < 3000
    assert row["steps_run"] % 100 == 0 and "reached its target" in row["stopped"]
    assert row["test_nmse"] == pytest.approx(row["test_mse"] / ap.TARGET_VARIANCE["first-half"])
    again = ap.run_adding("gru", 10, 0.01, 0, 3000, eval_every=100, stop_nmse=0.01)
    assert {k: v for k, v in again.items() if k != "seconds"} == {k: v for k, v in row.items() if k != "seconds"}
    with pytest.raises(ValueError, match="forget_bias is an option of the LSTM only"):
        ap.run_adding("gru", 10, 0.01, 0, 10, forget_bias=1.0)
    with pytest.raises(ValueError, match="stop_nmse needs eval_every"):
        ap.train_adding("gru", 10, 0, 10, stop_nmse=0.01)
