"""lessons_lib.tasks.memory_task: the data generator, the loss and its gradients, training, and the gate read-outs."""

import numpy as np
import pytest

from cases import GRAD_TOL
from lessons_lib import gradient_errors, numerical_gradient, rel_error
from lessons_lib.analysis import anatomy
from lessons_lib.tasks import memory_task as mt
from lessons_lib.tasks import memory_task


# ---------------------------------------------------------------------------
# The data.


def test_batch_shapes_and_structure(rng):
    """x is (N, T, 3); one marker, one later recall per sequence; the target is the value at the marker."""
    b = mt.make_memory_batch(rng, N=50, T=10, min_gap=3, quiet=0.2)
    assert b.x.shape == (50, 10, 3) and b.target.shape == (50, 10) and b.weight.shape == (50, 10)
    assert b.marker_t.shape == b.recall_t.shape == (50,)
    rows = np.arange(50)
    np.testing.assert_array_equal(b.x[:, :, 1].sum(axis=1), 1.0)
    np.testing.assert_array_equal(b.x[:, :, 2].sum(axis=1), 1.0)
    np.testing.assert_array_equal(b.x[rows, b.marker_t, 1], 1.0)
    np.testing.assert_array_equal(b.x[rows, b.recall_t, 2], 1.0)
    assert np.all(b.recall_t - b.marker_t >= 3) and np.all(b.recall_t <= 9)
    np.testing.assert_array_equal(b.target[rows, b.recall_t], b.x[rows, b.marker_t, 0])
    assert np.count_nonzero(b.target) <= 50
    np.testing.assert_array_equal(b.weight[rows, b.recall_t], 1.0)
    assert np.sum(b.weight == 0.2) == 50 * 9
    assert np.all(np.abs(b.x[:, :, 0]) <= 1.0)


def test_batch_positions_cover_their_whole_range():
    """Over many sequences every allowed marker step and recall step occurs."""
    b = mt.make_memory_batch(np.random.default_rng(0), N=2000, T=8, min_gap=3)
    assert set(b.marker_t) == set(range(0, 5))
    assert set(b.recall_t) == set(range(3, 8))


def test_batches_are_deterministic_given_the_seed():
    a = mt.make_memory_batch(np.random.default_rng(5), 4)
    b = mt.make_memory_batch(np.random.default_rng(5), 4)
    c = mt.make_memory_batch(np.random.default_rng(6), 4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.x, c.x)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"N": 0}, ValueError, "N must be an int >= 1, got 0"),
    ({"N": 2.0}, TypeError, "N must be an int, got float"),
    ({"N": 2, "T": 1}, ValueError, "T must be an int >= 2, got 1"),
    ({"N": 2, "T": 5, "min_gap": 5}, ValueError, "min_gap must be at most T - 1 = 4"),
    ({"N": 2, "quiet": -1.0}, ValueError, "quiet must be a finite number >= 0"),
])
def test_batch_argument_errors(kwargs, error, message, rng):
    with pytest.raises(error, match=message):
        mt.make_memory_batch(rng, **kwargs)


def test_batch_needs_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        mt.make_memory_batch(0, 2)


# ---------------------------------------------------------------------------
# The loss.


def test_mse_loss_known_values_and_gradient(rng):
    """L = sum(w (y - t)^2) / N, and dy agrees with central differences."""
    y = np.array([[1.0, 2.0], [0.0, -1.0]])
    t = np.array([[0.0, 2.0], [1.0, 1.0]])
    w = np.array([[1.0, 0.5], [0.1, 1.0]])
    loss, dy = mt.mse_loss(y, t, w)
    assert loss == pytest.approx((1.0 + 0.0 + 0.1 + 4.0) / 2, rel=1e-15)
    y = rng.standard_normal((3, 4))
    t, w = rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4))
    _, dy = mt.mse_loss(y, t, w)
    assert rel_error(dy, numerical_gradient(lambda: mt.mse_loss(y, t, w)[0], y)) < GRAD_TOL


def test_mse_loss_errors():
    with pytest.raises(ValueError, match=r"target must have shape \(2, 3\), got \(3, 2\)"):
        mt.mse_loss(np.zeros((2, 3)), np.zeros((3, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="weight must be >= 0"):
        mt.mse_loss(np.zeros((1, 2)), np.zeros((1, 2)), -np.ones((1, 2)))


@pytest.mark.parametrize("kind, options", [("lstm", {}), ("gru", {"reset": "after"}), ("gru", {"reset": "before"}),
                                           ("rnn", {})], ids=["lstm", "gru-after", "gru-before", "rnn"])
def test_model_gradients_match_finite_differences(kind, options, rng):
    """Every parameter gradient of memory_model_loss, cell and read-out, agrees with central differences."""
    model = mt.init_memory_model(kind, 3, rng)
    model = {k: 2.0 * v for k, v in model.items()}   # larger weights: gates away from 1/2
    model["b_y"] = np.array([0.3])
    batch = mt.make_memory_batch(rng, N=3, T=4, min_gap=2)
    _, grads = mt.memory_model_loss(kind, model, batch, **options)
    assert sorted(grads) == sorted(model)
    errors = gradient_errors(lambda: mt.memory_model_loss(kind, model, batch, **options)[0], model, grads)
    bad = {k: v for k, v in errors.items() if not v < GRAD_TOL}
    assert not bad, bad


def test_model_errors(rng):
    model = mt.init_memory_model("lstm", 2, rng)
    batch = mt.make_memory_batch(rng, 2)
    with pytest.raises(ValueError, match=r"missing \['W_y'\]"):
        mt.memory_model_loss("lstm", {k: v for k, v in model.items() if k != "W_y"}, batch)
    with pytest.raises(TypeError, match="batch must be a MemoryBatch"):
        mt.memory_model_loss("lstm", model, batch._asdict())
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, 3\), got \(2, 3\)"):
        mt.memory_model_forward("lstm", model, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="kind must be one of"):
        mt.init_memory_model("cnn", 2, rng)


# ---------------------------------------------------------------------------
# Training.


def test_training_is_deterministic_and_learns():
    """Two runs from the same seeds give identical weights; 250 steps get well below answering 0 (1/3)."""
    def run():
        model = mt.init_memory_model("lstm", 2, np.random.default_rng(0), forget_bias=1.0)
        return mt.train_memory_model("lstm", model, np.random.default_rng(100), steps=250, lr=0.03)

    (m1, l1), (m2, l2) = run(), run()
    assert l1 == l2
    for k in m1:
        np.testing.assert_array_equal(m1[k], m2[k])
    test = mt.make_memory_batch(np.random.default_rng(999), 300)
    assert np.mean(l1[:10]) > 0.2
    assert mt.recall_error("lstm", m1, test) < 0.05


def test_training_arguments(rng):
    model = mt.init_memory_model("gru", 2, rng)
    same, history = mt.train_memory_model("gru", model, rng, steps=0)
    assert history == [] and same is model
    with pytest.raises(TypeError, match="steps must be an int"):
        mt.train_memory_model("gru", model, rng, steps=1.5)


def test_handset_cell_solves_the_task():
    """The chapter's hand-set LSTM, with a read-out of unit 1, recalls far better than answering 0."""
    cell = anatomy.stack_gate_blocks(
        "lstm",
        W_x={"i": [[0, 8, 0], [0, 0, 0]], "f": [[0, -8, 0], [0, 0, 0]],
             "g": [[1, 0, 0], [1, 0, 0]], "o": [[0, 0, 8], [0, 0, 0]]},
        b_x={"i": [-4, 4], "f": [4, -4], "g": [0, 0], "o": [-4, 4]},
    )
    model = {**cell, "W_y": np.array([[1.8, 0.0]]), "b_y": np.zeros(1)}
    test = mt.make_memory_batch(np.random.default_rng(1), 500)
    assert mt.recall_error("lstm", model, test) < 0.05   # about 0.02: leaks and two tanh, against 1/3
    assert mt.quiet_output("lstm", model, test) < 1e-3


def test_recall_error_and_quiet_output_of_a_silent_model(rng):
    """A model whose read-out is zero answers 0: its recall error is the mean squared target, quiet output 0."""
    model = mt.init_memory_model("lstm", 2, rng)
    model["W_y"][:] = 0.0
    batch = mt.make_memory_batch(rng, 40)
    rows = np.arange(40)
    assert mt.recall_error("lstm", model, batch) == pytest.approx(np.mean(batch.target[rows, batch.recall_t] ** 2))
    assert mt.quiet_output("lstm", model, batch) == 0.0


# ---------------------------------------------------------------------------
# Reading the gates.


def test_choose_memory_unit_picks_the_unit_that_holds_the_value(rng):
    """The rule: largest |correlation| of c just before recall with the value at the marker (sign ignored)."""
    batch = mt.make_memory_batch(rng, 60, T=8)
    rows = np.arange(60)
    value = batch.x[rows, batch.marker_t, 0]
    c = rng.standard_normal((60, 8, 3)) * 0.1
    c[rows, batch.recall_t - 1, 2] = -value + 0.01 * rng.standard_normal(60)   # unit 3 holds -v
    c[rows, batch.recall_t - 1, 0] = 0.5 * value + 0.5 * rng.standard_normal(60)
    assert mt.choose_memory_unit(c, batch) == 2
    c[:, :, 1] = 1.0   # a constant unit has correlation 0, not NaN
    assert mt.choose_memory_unit(c, batch) == 2
    with pytest.raises(ValueError, match=r"c must have shape \(N, T, H\) = \(60, 8, H\), got \(60, 7, 3\)"):
        mt.choose_memory_unit(c[:, :7], batch)


def test_gate_phases_known_values():
    """Phase averages of synthetic gates that are 1 exactly in their phase and 0 elsewhere."""
    batch = mt.make_memory_batch(np.random.default_rng(3), 20, T=9)
    t = np.arange(9)[None, :]
    marker = (t == batch.marker_t[:, None]).astype(float)
    recall = (t == batch.recall_t[:, None]).astype(float)
    hold = ((t > batch.marker_t[:, None]) & (t <= batch.recall_t[:, None])).astype(float)
    traces = {"i": marker[..., None], "f": hold[..., None], "o": recall[..., None]}
    ph = mt.gate_phases(traces, batch, 0)
    assert ph == mt.GatePhases(1.0, 0.0, 0.0, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="missing 'o'"):
        mt.gate_phases({"i": traces["i"], "f": traces["f"]}, batch, 0)
    with pytest.raises(ValueError, match="unit must be an int in 0 .. 0, got 1"):
        mt.gate_phases(traces, batch, 1)


# ----------------------------------------------------------------------- trained weights kept in a results row

def test_params_round_trip_through_a_json_row_bit_for_bit():
    import json

    model = memory_task.init_memory_model("lstm", 2, np.random.default_rng(3), forget_bias=1.0)
    row = json.loads(json.dumps(memory_task.params_to_row(model)))
    # 3 inputs, 2 units, 4 gates: W_x (8, 3), W_h (8, 2), b_x, b_h (8,), W_y (1, 2), b_y (1,)
    assert len(row) == 24 + 16 + 8 + 8 + 2 + 1
    assert row["param.W_x.4"] == model["W_x"][1, 1] and row["param.b_y.0"] == 0.0
    back = memory_task.params_from_row(row, "lstm", 2, forget_bias=1.0)
    assert back.keys() == model.keys()
    for k in model:
        assert back[k].shape == model[k].shape and back[k].dtype == model[k].dtype
        assert np.array_equal(back[k], model[k])


def test_params_from_row_names_what_is_missing():
    row = memory_task.params_to_row(memory_task.init_memory_model("gru", 2, np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"no lstm model with H = 2: .* of 'W_x' \(8, 3\)"):
        memory_task.params_from_row(row, "lstm", 2)
    del row["param.b_y.0"]
    with pytest.raises(ValueError, match="'param.b_y.0'"):
        memory_task.params_from_row(row, "gru", 2)


def test_run_memory_model_keeps_the_trained_weights_when_asked():
    row = memory_task.run_memory_model("lstm", 0, steps=5, forget_bias=1.0, with_params=True)
    model = memory_task.params_from_row(row, "lstm", 2, forget_bias=1.0)
    test = memory_task.make_memory_batch(np.random.default_rng(memory_task.TEST_SEED), N=500, T=12)
    assert memory_task.recall_error("lstm", model, test) == row["recall_error"]
    assert not any(k.startswith("param.") for k in memory_task.run_memory_model("lstm", 0, steps=5))
