"""Issue 12, chapter 4: one step's gradient check, the memory task's long holds and runs, the controls of a
trained network's gradient flow, and the figure that draws them.

Known values come from cases small enough to solve by hand: an LSTM whose
recurrent weights are zero and whose forget gate is a constant sigma(b) has
dc_T/dc_t = sigma(b)**(T - t) exactly, and dh_T/dh_t = 0.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lessons_lib as ll  # noqa: E402
from lessons_lib import gradcheck  # noqa: E402
from lessons_lib.analysis import anatomy  # noqa: E402
from lessons_lib.analysis import gated_flow as gfl  # noqa: E402
from lessons_lib.figures import gradient_plots  # noqa: E402
from lessons_lib.tasks import memory_task  # noqa: E402

TOL = 1e-8
STEP_CASES = [("rnn", {}), ("lstm", {})] + [("gru", {"reset": r, "update": u})
                                            for r in ("after", "before") for u in ("keep", "write")]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def step_case(rng, kind, N=2, D=3, H=3):
    params = {k: 2.0 * v for k, v in ll.init_params(kind, D, H, rng).items()}   # gates far from 1/2
    x = rng.standard_normal((N, D))
    h = 0.5 * rng.standard_normal((N, H))
    return params, x, ((h, 0.5 * rng.standard_normal((N, H))) if kind == "lstm" else h)


# ----------------------------------------------------------------------------- check_step_gradients

@pytest.mark.parametrize("kind, options", STEP_CASES)
def test_step_gradients_agree_with_finite_differences(kind, options, rng):
    params, x, state = step_case(rng, kind)
    errors = gradcheck.check_step_gradients(kind, params, x, state, rng=rng, **options)
    expected = {"x", "h_prev", "W_x", "W_h", "b_x", "b_h"} | ({"c_prev"} if kind == "lstm" else set())
    assert set(errors) == expected
    assert max(errors.values()) < TOL


@pytest.mark.parametrize("broken", ["dh_prev", "dx", "W_h"])
def test_step_gradients_catch_a_wrong_lstm_backward(broken, rng, monkeypatch):
    real = gradcheck.lstm_step_backward

    def wrong(dh, dc, cache):
        dx, dh_prev, dc_prev, grads = real(dh, dc, cache)
        if broken == "dh_prev":
            dh_prev = dh_prev * 1.01
        elif broken == "dx":
            dx = dx[:, ::-1]                       # a transposed product, say
        else:
            grads = {**grads, "W_h": grads["W_h"] + 1e-3}
        return dx, dh_prev, dc_prev, grads

    monkeypatch.setattr(gradcheck, "lstm_step_backward", wrong)
    params, x, state = step_case(rng, "lstm")
    errors = gradcheck.check_step_gradients("lstm", params, x, state)
    name = {"dh_prev": "h_prev", "dx": "x", "W_h": "W_h"}[broken]
    assert errors[name] > 1e-4
    assert max(v for k, v in errors.items() if k != name) < TOL


def test_step_gradients_catch_a_missing_gru_path(rng, monkeypatch):
    """Dropping the path through the reset gate (the W_hr term of dh_prev) is caught in h_prev alone."""
    real = gradcheck.gru_step_backward

    def without_reset_path(dh, cache):
        dx, dh_prev, grads = real(dh, cache)
        H = cache.h_prev.shape[1]
        gb = anatomy.gru_anatomy_backward(dh, anatomy.gru_anatomy(cache.x, cache.h_prev, cache.params))
        return dx, dh_prev - gb.da_r @ cache.params["W_h"][:H], grads

    monkeypatch.setattr(gradcheck, "gru_step_backward", without_reset_path)
    params, x, h = step_case(rng, "gru")
    errors = gradcheck.check_step_gradients("gru", params, x, h)
    assert errors["h_prev"] > 1e-4 and errors["x"] < TOL


def test_step_gradients_use_the_given_upstream(rng):
    """With dh = dc = 0 the loss is 0 whatever the weights: every gradient is exactly zero, and both agree."""
    params, x, state = step_case(rng, "lstm")
    zero = np.zeros((2, 3))
    errors = gradcheck.check_step_gradients("lstm", params, x, state, dstate=(zero, zero))
    assert all(v == 0.0 for v in errors.values())
    errors = gradcheck.check_step_gradients("lstm", params, x, state, dstate=(rng.standard_normal((2, 3)), zero))
    assert max(errors.values()) < TOL


def test_step_gradients_leave_the_inputs_alone(rng):
    params, x, state = step_case(rng, "gru")
    before = {k: v.copy() for k, v in params.items()}
    gradcheck.check_step_gradients("gru", params, x, state)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])


def test_step_gradients_errors(rng):
    params, x, state = step_case(rng, "lstm")
    with pytest.raises(TypeError, match="pair"):
        gradcheck.check_step_gradients("lstm", params, x, state[0])
    gparams, gx, gh = step_case(rng, "gru")
    with pytest.raises(TypeError, match="not a pair"):
        gradcheck.check_step_gradients("gru", gparams, gx, (gh, gh))
    with pytest.raises(TypeError, match="GRU only"):
        gradcheck.check_step_gradients("lstm", params, x, state, reset="before")
    with pytest.raises(ValueError, match=r"dc must have the shape of the new state \(2, 3\)"):
        gradcheck.check_step_gradients("lstm", params, x, state, dstate=(np.zeros((2, 3)), np.zeros((2, 4))))


# ----------------------------------------------------------------------------- longest_hold_batch

def test_longest_hold_batch_places_marker_first_and_recall_last(rng):
    b = memory_task.longest_hold_batch(rng, N=5, T=7, quiet=0.25)
    assert b.x.shape == (5, 7, 3) and b.target.shape == (5, 7) == b.weight.shape
    np.testing.assert_array_equal(b.x[:, :, 1], np.eye(7)[[0] * 5])      # one marker, at step 1
    np.testing.assert_array_equal(b.x[:, :, 2], np.eye(7)[[6] * 5])      # one recall cue, at step 7
    np.testing.assert_array_equal(b.target[:, 6], b.x[:, 0, 0])
    assert np.all(b.target[:, :6] == 0)
    assert np.all(b.weight[:, 6] == 1.0) and np.all(b.weight[:, :6] == 0.25)
    assert np.all(np.abs(b.x[:, :, 0]) < 1)
    assert list(b.marker_t) == [0] * 5 and list(b.recall_t) == [6] * 5
    # answering 0 everywhere costs the mean square of the values to recall
    loss, _ = memory_task.mse_loss(np.zeros((5, 7)), b.target, b.weight)
    assert loss == pytest.approx(np.mean(b.x[:, 0, 0] ** 2))


def test_longest_hold_batch_errors(rng):
    with pytest.raises(TypeError, match="Generator"):
        memory_task.longest_hold_batch(0, 2, 5)
    with pytest.raises(ValueError, match="T must be an int >= 2"):
        memory_task.longest_hold_batch(rng, 2, 1)


# ----------------------------------------------------------------------------- run_memory_model

def test_run_memory_model_follows_its_documented_seeds():
    row = memory_task.run_memory_model("gru", 3, steps=4, reset="before")
    model = memory_task.init_memory_model("gru", 2, np.random.default_rng(3))
    model, losses = memory_task.train_memory_model("gru", model, np.random.default_rng(103), 4, lr=0.03,
                                                   reset="before")
    test = memory_task.make_memory_batch(np.random.default_rng(999), N=500, T=12)
    assert row["recall_error"] == memory_task.recall_error("gru", model, test, reset="before")
    assert row["quiet_output"] == memory_task.quiet_output("gru", model, test, reset="before")
    assert row["final_loss"] == pytest.approx(np.mean(losses))
    assert {k: row[k] for k in ("kind", "seed", "steps", "lr", "H", "forget_bias", "reset")} == {
        "kind": "gru", "seed": 3, "steps": 4, "lr": 0.03, "H": 2, "forget_bias": None, "reset": "before"}


def test_run_memory_model_passes_forget_bias_and_options():
    untrained = memory_task.run_memory_model("lstm", 0, steps=0, forget_bias=1.0)
    model = memory_task.init_memory_model("lstm", 2, np.random.default_rng(0), forget_bias=1.0)
    test = memory_task.make_memory_batch(np.random.default_rng(999), N=500, T=12)
    assert untrained["recall_error"] == memory_task.recall_error("lstm", model, test)
    assert untrained["forget_bias"] == 1.0 and untrained["final_loss"] is None
    after = memory_task.run_memory_model("gru", 0, steps=0, reset="after")
    before = memory_task.run_memory_model("gru", 0, steps=0, reset="before")
    assert after["recall_error"] != before["recall_error"]       # the option reached the cell


# ----------------------------------------------------------------------------- shuffle_within_arrays

def test_shuffle_keeps_the_values_and_changes_their_places(rng):
    params = ll.init_params("lstm", 3, 4, rng)
    params["W_y"] = np.array([[0.5]])
    kept = {k: v.copy() for k, v in params.items()}
    out = gfl.shuffle_within_arrays(params, np.random.default_rng(1))
    assert set(out) == set(params)
    for k, v in params.items():
        np.testing.assert_array_equal(v, kept[k])                        # the input is untouched
        assert out[k].shape == v.shape and out[k].dtype == v.dtype
        np.testing.assert_array_equal(np.sort(out[k].ravel()), np.sort(v.ravel()))
    assert not np.array_equal(out["W_x"], params["W_x"])                 # 48 entries: the same order is 1 in 48!
    assert out["W_y"][0, 0] == 0.5
    again = gfl.shuffle_within_arrays(params, np.random.default_rng(1))
    for k in params:
        np.testing.assert_array_equal(again[k], out[k])


def test_shuffle_errors():
    with pytest.raises(TypeError, match="Generator"):
        gfl.shuffle_within_arrays({"W_x": np.zeros(3)}, 0)
    with pytest.raises(TypeError, match="non-empty dict"):
        gfl.shuffle_within_arrays({}, np.random.default_rng(0))


# ----------------------------------------------------------------------------- typical_decays

def constant_forget_lstm(b, D=3, H=2):
    """W_h = 0, W_x = 0 and every bias 0 except the forget gate's, b: f = sigma(b) at every step."""
    p = {"W_x": np.zeros((4 * H, D)), "W_h": np.zeros((4 * H, H)), "b_x": np.zeros(4 * H), "b_h": np.zeros(4 * H)}
    p["b_x"][anatomy.gate_rows("lstm", "f", H)] = b
    return p


def test_typical_decays_known_values(rng):
    x = rng.standard_normal((3, 6, 3))
    zero = np.zeros((3, 2))
    models = [constant_forget_lstm(2.0), {**constant_forget_lstm(-1.0), "W_y": np.ones((1, 2))}]
    out = gfl.typical_decays("lstm", models, x, (zero, zero))
    assert set(out) == {"hh", "cc", "direct"}
    k = np.arange(7)
    expected = np.stack([(1 / (1 + np.exp(-2.0))) ** k, (1 / (1 + np.exp(1.0))) ** k])
    np.testing.assert_allclose(out["cc"], expected, rtol=1e-12)
    np.testing.assert_allclose(out["direct"], expected, rtol=1e-12)
    np.testing.assert_array_equal(out["hh"][:, 0], [1.0, 1.0])
    np.testing.assert_array_equal(out["hh"][:, 1:], 0.0)                # with W_h = 0, h_t reaches nothing


def test_typical_decays_gru_rows_are_the_networks(rng):
    x = rng.standard_normal((2, 5, 3))
    models = [ll.init_params("gru", 3, 2, np.random.default_rng(s)) for s in (0, 1)]
    out = gfl.typical_decays("gru", models, x, np.zeros((2, 2)), reset="before")
    assert set(out) == {"hh", "direct"} and out["hh"].shape == (2, 6)
    for m, params in enumerate(models):
        J = gfl.numerical_state_jacobian("gru", params, x, np.zeros((2, 2)), 2, reset="before")   # dh_5/dh_2
        typical = np.exp(np.mean(np.log(np.linalg.norm(J, 2, axis=(1, 2)))))
        assert out["hh"][m, 3] == pytest.approx(typical, rel=1e-7)


def test_typical_decays_errors(rng):
    x = rng.standard_normal((1, 3, 3))
    with pytest.raises(ValueError, match="at least one"):
        gfl.typical_decays("lstm", [], x, (np.zeros((1, 2)), np.zeros((1, 2))))
    with pytest.raises(TypeError, match=r"models\[0\] must be a dict with the cell's keys"):
        gfl.typical_decays("rnn", [{"W_x": np.zeros((2, 3))}], x, np.zeros((1, 2)))


# ----------------------------------------------------------------------------- plot_decay_spread

def test_decay_spread_draws_median_and_band():
    a = np.array([[1.0, 0.5, 0.25], [1.0, 0.1, 0.01], [1.0, 0.2, 0.3]])
    b = np.array([[1.0, 1e-3, 1e-6]])
    fig = gradient_plots.plot_decay_spread({"left": {"trained": a, "init": b}, "right": {"init": b}},
                                           mark=1, mark_label="longest gap")
    left, right = fig.axes
    lines = [ln for ln in left.get_lines() if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in lines] == ["trained", "init"]
    np.testing.assert_allclose(lines[0].get_ydata(), [1.0, 0.2, 0.25])   # the median of each column
    band = left.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(0.01) and band[:, 1].max() == pytest.approx(1.0)
    (init_right,) = [ln for ln in right.get_lines() if ln.get_label() == "init"]
    assert init_right.get_color() == lines[1].get_color() and init_right.get_marker() == lines[1].get_marker()
    assert lines[0].get_marker() != lines[1].get_marker()                # greyscale: the marker differs too
    assert left.get_yscale() == "log" and left.get_title() == "left"
    assert any(t.get_text() == "longest gap" for t in left.texts)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["trained", "init"]


def test_decay_spread_errors():
    with pytest.raises(TypeError, match="non-empty dict"):
        gradient_plots.plot_decay_spread({})
    with pytest.raises(ValueError, match=r"shape \(K, T \+ 1\)"):
        gradient_plots.plot_decay_spread({"p": {"x": np.ones(4)}})
    with pytest.raises(ValueError, match="negative"):
        gradient_plots.plot_decay_spread({"p": {"x": -np.ones((1, 4))}})
