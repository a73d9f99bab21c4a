"""The training machinery: squared error and per-token cross-entropy, metrics, SGD, schedules, the loop."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from lessons_lib import numerical_gradient, rel_error
from lessons_lib.training.losses import cross_entropy_per_token, mean_squared_error, softmax_cross_entropy
from lessons_lib.training.metrics import bits_per_character, mean_absolute_error, perplexity
from lessons_lib.training.metrics import mean_squared_error as mse_metric
from lessons_lib.training.optim import adam_init, adam_step, cosine_schedule, sgd_init, sgd_step
from lessons_lib.training.loop import History, repeat, running_mean, train


# --- losses -----------------------------------------------------------------------------------------------

def test_mean_squared_error_known_value_and_mask():
    y = np.array([[1.0, 2.0], [3.0, 5.0]])
    target = np.array([[0.0, 2.0], [np.nan, 1.0]])
    mask = ~np.isnan(target)
    loss, dy = mean_squared_error(y, target, mask)
    assert loss == pytest.approx((1.0 + 0.0 + 16.0) / 3)
    assert np.array_equal(dy, np.array([[2 / 3, 0.0], [0.0, 8 / 3]]))  # zero where masked out, nan ignored


def test_mean_squared_error_gradient_matches_finite_differences(rng):
    y = rng.standard_normal((3, 4, 2))
    target = rng.standard_normal((3, 4, 2))
    mask = rng.random((3, 4, 2)) < 0.6
    _, dy = mean_squared_error(y, target, mask)
    numeric = numerical_gradient(lambda: mean_squared_error(y, target, mask)[0], y)
    assert rel_error(dy, numeric) < 1e-8


def test_mean_squared_error_keeps_float32_and_refuses_bad_arguments():
    loss, dy = mean_squared_error(np.ones(3, np.float32), np.zeros(3, np.float32))
    assert loss == 1.0 and dy.dtype == np.float32
    with pytest.raises(ValueError, match=r"target must have shape \(3,\), got \(4,\)"):
        mean_squared_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="mask must be a bool array"):
        mean_squared_error(np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="at least one entry"):
        mean_squared_error(np.zeros(3), np.zeros(3), np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="target must be finite wherever mask is true"):
        mean_squared_error(np.zeros(2), np.array([0.0, np.nan]))


def test_cross_entropy_per_token_averages_to_the_mean_loss(rng):
    y = rng.standard_normal((2, 5, 4)) * 10
    targets = rng.integers(0, 4, (2, 5))
    per_token = cross_entropy_per_token(y, targets)
    assert per_token.shape == (2, 5) and np.all(per_token >= 0)
    assert per_token.mean() == pytest.approx(softmax_cross_entropy(y, targets)[0], rel=1e-14)
    assert cross_entropy_per_token(np.array([[[1000.0, 0.0]]]), np.array([[1]]))[0, 0] == pytest.approx(1000.0)


# --- metrics ----------------------------------------------------------------------------------------------

def test_uniform_model_scores_log2_V_bits_and_perplexity_V():
    assert bits_per_character(math.log(64)) == pytest.approx(6.0)
    assert perplexity(math.log(64)) == pytest.approx(64.0)


def test_errors_ignore_missing_truth_and_work_per_column():
    truth = np.array([[1.0, np.nan], [3.0, 4.0]])
    prediction = np.array([[2.0, 100.0], [1.0, 4.0]])
    assert mean_absolute_error(prediction, truth) == pytest.approx((1 + 2 + 0) / 3)
    assert mse_metric(prediction, truth) == pytest.approx((1 + 4 + 0) / 3)
    assert np.allclose(mean_absolute_error(prediction, truth, axis=0), [1.5, 0.0])
    with pytest.raises(ValueError, match="same shape"):
        mean_absolute_error(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="prediction is nan"):
        mean_absolute_error(np.array([np.nan]), np.array([1.0]))


# --- optimisers and schedules -----------------------------------------------------------------------------

def test_sgd_with_momentum_follows_pytorchs_rule():
    params = {"w": np.array([1.0, -1.0])}
    state = sgd_init(params)
    g1, g2 = np.array([0.5, 1.0]), np.array([-1.0, 2.0])
    p1, state = sgd_step(params, {"w": g1}, state, lr=0.1, momentum=0.9)
    p2, state = sgd_step(p1, {"w": g2}, state, lr=0.1, momentum=0.9)
    v2 = 0.9 * g1 + g2
    assert np.allclose(p1["w"], params["w"] - 0.1 * g1)
    assert np.allclose(p2["w"], p1["w"] - 0.1 * v2) and np.allclose(state.velocity["w"], v2)
    assert params["w"].tolist() == [1.0, -1.0]  # inputs unchanged
    with pytest.raises(ValueError, match="momentum"):
        sgd_step(params, {"w": g1}, sgd_init(params), momentum=1.0)
    with pytest.raises(ValueError, match=r"missing \['w'\]"):
        sgd_step(params, {}, sgd_init(params))


def test_cosine_schedule_warms_up_then_decays_to_the_final_fraction():
    schedule = cosine_schedule(1.0, 11, final=0.1, warmup=2)
    rates = [schedule(s) for s in range(13)]
    assert rates[0] == pytest.approx(0.5) and rates[1] == pytest.approx(1.0)
    assert rates[2] == pytest.approx(1.0) and rates[10] == pytest.approx(0.1) and rates[12] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(rates[2:], rates[3:]))
    with pytest.raises(ValueError, match="warmup"):
        cosine_schedule(1.0, 5, warmup=5)


# --- the training loop ------------------------------------------------------------------------------------

def quadratic_step(params, batch, carry):
    """Loss ``sum (w - batch)^2`` and its gradient; the carry counts the steps."""
    diff = params["w"] - batch
    return float(np.sum(diff ** 2)), {"w": 2 * diff}, (carry or 0) + 1


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_train_minimises_a_quadratic_and_records_a_history(optimizer):
    target = np.array([1.0, -2.0])
    params, history = train(quadratic_step, {"w": np.zeros(2)}, repeat(target), 300, optimizer=optimizer,
                            lr=0.05 if optimizer == "adam" else 0.1)
    assert isinstance(history, History) and history.steps == 300 and history.stopped is None
    assert np.allclose(params["w"], target, atol=1e-3)
    assert history.loss[0] == pytest.approx(5.0) and history.loss[-1] < 1e-5
    assert history.grad_norm[0] == pytest.approx(2 * math.sqrt(5.0))
    assert np.all(history.lr == (0.05 if optimizer == "adam" else 0.1))


def test_train_is_deterministic_and_threads_the_carry():
    seen = []

    def step(params, batch, carry):
        seen.append(carry)
        return quadratic_step(params, batch, carry)

    batches = [np.array([float(k)]) for k in range(5)]
    a = train(step, {"w": np.zeros(1)}, iter(batches), 5, carry=10)
    b = train(quadratic_step, {"w": np.zeros(1)}, iter(batches), 5, carry=10)
    assert seen == [10, 11, 12, 13, 14]
    assert np.array_equal(a[0]["w"], b[0]["w"]) and np.array_equal(a[1].loss, b[1].loss)


def test_train_matches_adam_by_hand_and_uses_the_schedule():
    params = {"w": np.array([3.0])}
    trained, history = train(quadratic_step, params, repeat(np.array([0.0])), 3, schedule=lambda s: 0.1 * (s + 1))
    p, state = params, adam_init(params)
    for s in range(3):
        p, state = adam_step(p, {"w": 2 * p["w"]}, state, lr=0.1 * (s + 1))
    assert np.array_equal(trained["w"], p["w"]) and history.lr.tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert params["w"].tolist() == [3.0]


def test_train_clips_the_gradient_but_records_its_norm_before_clipping():
    params, history = train(quadratic_step, {"w": np.array([100.0])}, repeat(np.array([0.0])), 1,
                            optimizer="sgd", momentum=0.0, lr=1.0, max_norm=0.5)
    assert history.grad_norm[0] == pytest.approx(200.0)
    assert params["w"][0] == pytest.approx(99.5)  # the step has length lr * max_norm


def test_train_stops_cleanly_on_nan_and_keeps_the_last_good_parameters(capsys):
    def step(params, batch, carry):
        loss, grads, carry = quadratic_step(params, batch, carry)
        return (float("nan") if carry == 3 else loss), grads, carry

    params, history = train(step, {"w": np.zeros(1)}, repeat(np.array([1.0])), 10, lr=0.1, desc="demo")
    out = capsys.readouterr()
    assert history.steps == 2 and "stopped at step 3 of 10: the loss became nan" in history.stopped
    assert "those of step 2, the last with a finite loss" in history.stopped
    assert history.stopped in out.out and out.err == ""
    one, _ = train(quadratic_step, {"w": np.zeros(1)}, repeat(np.array([1.0])), 1, lr=0.1)
    _, two_steps = train(quadratic_step, {"w": np.zeros(1)}, repeat(np.array([1.0])), 2, lr=0.1)
    # The loss of step 2 was computed with the parameters after one update: those are returned.
    assert np.array_equal(history.loss, two_steps.loss) and np.array_equal(params["w"], one["w"])
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        train(step, {"w": np.zeros(1)}, repeat(np.array([1.0])), 10, on_nan="raise")


def test_train_stops_on_an_infinite_gradient_too():
    def step(params, batch, carry):
        return 1.0, {"w": np.array([np.inf])}, carry

    params, history = train(step, {"w": np.zeros(1)}, repeat(None), 5)
    assert history.steps == 0 and "gradient norm became inf" in history.stopped and params["w"][0] == 0.0
    assert "the parameters returned are the starting ones" in history.stopped


def test_train_stops_when_the_batches_run_out():
    _, history = train(quadratic_step, {"w": np.zeros(1)}, [np.array([1.0])] * 3, 10)
    assert history.steps == 3 and "ran out after 3 steps" in history.stopped


def test_progress_bar_shows_the_running_loss_on_the_given_stream(capsys):
    stream = io.StringIO()
    train(quadratic_step, {"w": np.zeros(1)}, repeat(np.array([1.0])), 20, progress=True, desc="quad", file=stream)
    text = stream.getvalue()
    assert "quad" in text and "20/20" in text and "loss" in text
    assert capsys.readouterr().out == ""


def test_progress_bar_goes_to_stderr_in_a_terminal_and_nowhere_when_off(capsys):
    train(quadratic_step, {"w": np.zeros(1)}, repeat(np.array([1.0])), 5, progress=True)
    assert "5/5" in capsys.readouterr().err
    train(quadratic_step, {"w": np.zeros(1)}, repeat(np.array([1.0])), 5, progress=False)
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


def test_print_every_prints_rounded_mean_losses(capsys):
    train(quadratic_step, {"w": np.zeros(1)}, repeat(np.array([1.0])), 4, optimizer="sgd", momentum=0.0, lr=0.25,
          print_every=2, desc="quad")
    # Losses 1, 0.25, 0.0625, 0.015625: the means of pairs are 0.625 and 0.0390625.
    assert capsys.readouterr().out == "quad: step 2/4  loss 0.625\nquad: step 4/4  loss 0.03906\n"


def test_evaluate_is_called_every_eval_every_steps_and_at_the_end():
    calls = []

    def evaluate(params):
        calls.append(float(params["w"][0]))
        return {"w": float(params["w"][0])}

    _, history = train(quadratic_step, {"w": np.zeros(1)}, repeat(np.array([1.0])), 5, evaluate=evaluate,
                       eval_every=2)
    assert [s for s, _ in history.evals] == [2, 4, 5] and len(calls) == 3


def test_train_refuses_bad_arguments():
    with pytest.raises(ValueError, match="optimizer"):
        train(quadratic_step, {"w": np.zeros(1)}, repeat(None), 1, optimizer="rmsprop")
    with pytest.raises(ValueError, match="steps"):
        train(quadratic_step, {"w": np.zeros(1)}, repeat(None), -1)
    with pytest.raises(ValueError, match="on_nan"):
        train(quadratic_step, {"w": np.zeros(1)}, repeat(None), 1, on_nan="ignore")
    with pytest.raises(ValueError, match="print_every"):
        train(quadratic_step, {"w": np.zeros(1)}, repeat(None), 1, print_every=0)
    with pytest.raises(TypeError, match="params"):
        train(quadratic_step, {}, repeat(None), 1)


def test_running_mean_averages_the_last_window_values():
    assert running_mean([1.0, 3.0, 5.0, 7.0], 2).tolist() == [1.0, 2.0, 4.0, 6.0]
    assert running_mean([2.0], 10).tolist() == [2.0]
    with pytest.raises(ValueError, match="window"):
        running_mean([1.0], 0)


def test_keep_best_returns_the_parameters_of_the_best_evaluation():
    """Early stopping: the quadratic's target moves away after step 4, so the best parameters are earlier ones."""
    targets = [np.array([1.0])] * 4 + [np.array([-5.0])] * 4
    snapshots = {}

    def evaluate(params):
        snapshots[len(snapshots) + 1] = params["w"].copy()
        return {"distance": float(abs(params["w"][0] - 1.0))}

    params, history = train(quadratic_step, {"w": np.zeros(1)}, iter(targets), 8, lr=0.3, evaluate=evaluate,
                            eval_every=1, keep_best="distance")
    distances = [e["distance"] for _, e in history.evals]
    assert history.best_step == int(np.argmin(distances)) + 1 <= 5
    assert np.array_equal(params["w"], snapshots[history.best_step])
    _, plain = train(quadratic_step, {"w": np.zeros(1)}, iter(targets), 8, lr=0.3)
    assert plain.best_step is None
    with pytest.raises(ValueError, match="keep_best needs evaluate"):
        train(quadratic_step, {"w": np.zeros(1)}, iter(targets), 8, keep_best="distance")
    with pytest.raises(KeyError, match="not among the metrics"):
        train(quadratic_step, {"w": np.zeros(1)}, iter(targets), 2, evaluate=evaluate, eval_every=1, keep_best="mae")


def test_stop_when_ends_training_at_the_first_evaluation_that_meets_the_target(capsys):
    target = np.array([1.0])

    def evaluate(params):
        return {"distance": float(abs(params["w"][0] - 1.0))}

    params, history = train(quadratic_step, {"w": np.zeros(1)}, repeat(target), 500, lr=0.05, evaluate=evaluate,
                            eval_every=10, stop_when=lambda m: m["distance"] < 0.1)
    distances = [e["distance"] for _, e in history.evals]
    assert distances[-1] < 0.1 and all(d >= 0.1 for d in distances[:-1])
    assert history.steps == history.evals[-1][0] < 500 and history.steps % 10 == 0
    assert "reached its target at step" in history.stopped and capsys.readouterr().out == ""
    assert abs(params["w"][0] - 1.0) == pytest.approx(distances[-1])
    # a target never met: every step runs, and the run reports no stop
    _, full = train(quadratic_step, {"w": np.zeros(1)}, repeat(target), 50, lr=0.05, evaluate=evaluate,
                    eval_every=10, stop_when=lambda m: False)
    assert full.steps == 50 and full.stopped is None
    with pytest.raises(ValueError, match="stop_when needs evaluate and eval_every"):
        train(quadratic_step, {"w": np.zeros(1)}, repeat(target), 5, stop_when=lambda m: True)
