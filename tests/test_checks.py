"""Tests of lessons_lib.teaching.checks: each checker passes a right answer and recognises typical wrong ones.

The wrong answers below are written the way a reader would write them, independently of the
mistake models inside ``checks``; each must fail, with the expected mistake named and its hint
printed, together with the output, the case and the relative error.
"""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib.teaching import checks
from lessons_lib.training import clipping
from lessons_lib.cells import gru, lstm, rnn
from lessons_lib.cells.linear_recurrence import linear_recurrence


def sigma(a):
    return 1.0 / (1.0 + np.exp(-a))


def flat(result):
    """The feedback with its line wrapping undone, to search for a sentence in it."""
    return " ".join(result.message.split())


def assert_detected(result, mistake, outputs=None):
    """``result`` failed, recognised ``mistake``, printed its hint, and says where and by how much."""
    assert not result.passed and not result.not_written
    assert result.mistake == mistake, result.message
    assert " ".join(result.hints[0].split()) in flat(result) and "Hint: " in flat(result)
    if outputs is not None:
        assert result.wrong_outputs == tuple(outputs), result.message
    values = [p for p in result.problems if p.kind == "value"]
    assert values and all(p.rel_error > checks.TOLERANCE for p in values)
    assert values[0].case in flat(result) and f"{values[0].rel_error:.2g}" in flat(result)
    assert all(len(line) <= checks.WIDTH for line in result.message.splitlines())


# ----------------------------------------------------------------------------- RNN step forward

def rnn_step(x, h_prev, p, mistake=None):
    """A reader's RNN step, right unless ``mistake`` names one thing to get wrong."""
    W_x = p["W_x"] if mistake == "transposed_W_x" else p["W_x"].T
    W_h = p["W_h"] if mistake == "transposed_W_h" else p["W_h"].T
    b = {"missing_bias": 0.0, "missing_b_h": p["b_x"], "missing_b_x": p["b_h"]}.get(mistake, p["b_x"] + p["b_h"])
    if mistake == "swapped_weights":
        a = x @ p["W_h"].T + h_prev @ p["W_x"].T + b
    elif mistake == "bias_outside_tanh":
        return np.tanh(x @ W_x + h_prev @ W_h) + b
    else:
        a = x @ W_x + h_prev @ W_h + b
    if mistake == "no_tanh":
        return a
    if mistake == "sigmoid_activation":
        return sigma(a)
    return np.tanh(a)


def test_rnn_forward_right_answers_pass(capsys):
    result = checks.check_rnn_step_forward(rnn_step)
    assert result.passed and not result.problems and result.mistake is None
    assert len(result.cases) == len(checks.CELL_SHAPES)
    printed = capsys.readouterr().out
    assert printed.strip() == result.message and "rnn_step passes" in printed and "Well done" in printed
    # The library's own step returns (h, cache): the checker takes the first item.
    assert checks.check_rnn_step_forward(rnn.rnn_step_forward, verbose=False).passed


@pytest.mark.parametrize("mistake", ["transposed_W_h", "transposed_W_x", "swapped_weights", "missing_bias",
                                     "missing_b_h", "missing_b_x", "bias_outside_tanh", "no_tanh",
                                     "sigmoid_activation"])
def test_rnn_forward_typical_mistakes_are_recognised(mistake):
    result = checks.check_rnn_step_forward(lambda x, h, p: rnn_step(x, h, p, mistake), verbose=False)
    assert_detected(result, mistake, ["h"])


def test_rnn_forward_transposed_W_x_reports_the_shape_errors_and_the_line():
    def my_step(x, h_prev, p):
        a = x @ p["W_x"] + h_prev @ p["W_h"].T + p["b_x"] + p["b_h"]
        return np.tanh(a)

    result = checks.check_rnn_step_forward(my_step, verbose=False)
    assert result.mistake == "transposed_W_x"
    errors = [p for p in result.problems if p.kind == "error"]
    assert [p.case for p in errors] == ["N=2, D=3, H=4", "N=1, D=5, H=2"]  # D != H: a shape error
    assert "raised ValueError" in errors[0].detail
    assert 'a = x @ p["W_x"] + h_prev @ p["W_h"].T + p["b_x"] + p["b_h"]' in errors[0].detail


def test_rnn_forward_an_unknown_mistake_still_gets_the_equation():
    result = checks.check_rnn_step_forward(lambda x, h, p: 2 * rnn_step(x, h, p), verbose=False)
    assert not result.passed and result.mistake is None
    assert "h = tanh(x @ W_x.T + h_prev @ W_h.T + b_x + b_h)" in flat(result)
    assert "relative error" in flat(result)


def test_rnn_forward_a_transposed_output_is_a_shape_problem():
    result = checks.check_rnn_step_forward(lambda x, h, p: rnn_step(x, h, p).T, verbose=False)
    shapes = [p for p in result.problems if p.kind == "shape"]
    assert not result.passed and len(shapes) == 3
    assert "h has shape (4, 2), expected (2, 4); it looks transposed." in flat(result)


def test_rnn_forward_a_missing_return_is_named():
    def my_step(x, h_prev, p):
        np.tanh(x @ p["W_x"].T + h_prev @ p["W_h"].T + p["b_x"] + p["b_h"])

    result = checks.check_rnn_step_forward(my_step, verbose=False)
    assert {p.kind for p in result.problems} == {"form"} and "is a `return` missing?" in flat(result)


def test_rnn_forward_a_key_error_lists_the_keys():
    result = checks.check_rnn_step_forward(lambda x, h, p: np.tanh(x @ p["W_x"].T + h @ p["W_h"].T + p["b"]),
                                           verbose=False)
    assert "raised KeyError: 'b'" in flat(result) and "'b_x', 'b_h'" in flat(result)


def test_rnn_forward_changing_an_input_in_place_is_reported():
    def my_step(x, h_prev, p):
        h_prev *= 1.0                                # harmless ...
        h_prev += x @ p["W_x"].T * 0.0 + 1.0        # ... this is not
        return rnn_step(x, h_prev - 1.0, p)

    result = checks.check_rnn_step_forward(my_step, verbose=False)
    changed = [p for p in result.problems if p.kind == "input changed"]
    assert not result.passed and changed and changed[0].output == "h_prev"
    assert "changed h_prev in place" in flat(result) and "+=" in flat(result)


def test_rnn_forward_float32_is_close_but_not_equal():
    def my_step(x, h_prev, p):
        p32 = {k: v.astype(np.float32) for k, v in p.items()}
        return rnn_step(x.astype(np.float32), h_prev.astype(np.float32), p32)

    result = checks.check_rnn_step_forward(my_step, verbose=False)
    assert not result.passed and result.mistake is None
    assert "float32" in flat(result)
    assert all(p.rel_error < 1e-5 for p in result.problems)


def test_an_unwritten_stub_is_reported_kindly():
    def my_step(x, h_prev, params):
        """One step."""
        raise NotImplementedError("Exercise: write my_step")

    result = checks.check_rnn_step_forward(my_step, verbose=False)
    assert result.not_written and not result.passed and not result.problems
    assert "my_step is not written yet" in flat(result) and "Exercise: write my_step" in flat(result)


def test_the_function_itself_is_required():
    with pytest.raises(TypeError, match=r"needs your function itself, for example check_rnn_step_forward"):
        checks.check_rnn_step_forward(np.zeros((2, 4)))


def test_a_seed_fixes_the_cases():
    def wrong(x, h, p):
        return rnn_step(x, h, p, "missing_bias")

    a, b = (checks.check_rnn_step_forward(wrong, verbose=False) for _ in range(2))
    c = checks.check_rnn_step_forward(wrong, seed=1, verbose=False)
    assert a.message == b.message and a.message != c.message and c.mistake == "missing_bias"


# ----------------------------------------------------------------------------- RNN step backward

def rnn_step_backward(dh, x, h_prev, h, p, mistake=None):
    """A reader's backward RNN step, right unless ``mistake`` names one thing to get wrong."""
    if mistake == "forgot_tanh_slope":
        da = dh
    elif mistake == "tanh_slope_of_h":
        da = dh * (1 - np.tanh(h) ** 2)
    elif mistake == "slope_not_squared":
        da = dh * (1 - h)
    else:
        da = dh * (1 - h ** 2)
    dx = da @ (p["W_x"].T if mistake == "transposed_W_x" else p["W_x"])
    dh_prev = da @ (p["W_h"].T if mistake == "transposed_W_h" else p["W_h"])
    state = h if mistake == "dW_h_from_new_state" else h_prev
    if mistake == "transposed_weight_gradients":
        dW_x, dW_h = x.T @ da, state.T @ da
    else:
        dW_x, dW_h = da.T @ x, da.T @ state
    db = da.sum(axis=0)
    grads = {"W_x": dW_x, "W_h": dW_h, "b_x": db, "b_h": db}
    if mistake == "mean_over_batch":
        grads = {k: g / x.shape[0] for k, g in grads.items()}
    return dx, dh_prev, grads


def test_rnn_backward_right_answers_pass():
    assert checks.check_rnn_step_backward(rnn_step_backward, verbose=False).passed

    def library(dh, x, h_prev, h, p):
        _, cache = rnn.rnn_step_forward(x, h_prev, p)
        return rnn.rnn_step_backward(dh, cache)

    assert checks.check_rnn_step_backward(library, verbose=False).passed


ALL_GRADS = ["dx", "dh_prev", "grads['W_x']", "grads['W_h']", "grads['b_x']", "grads['b_h']"]


@pytest.mark.parametrize("mistake, outputs", [
    ("forgot_tanh_slope", ALL_GRADS),
    ("tanh_slope_of_h", ALL_GRADS),
    ("slope_not_squared", ALL_GRADS),
    ("transposed_W_h", ["dh_prev"]),
    ("transposed_W_x", ["dx"]),
    ("dW_h_from_new_state", ["grads['W_h']"]),
    ("transposed_weight_gradients", ["grads['W_x']", "grads['W_h']"]),
    ("mean_over_batch", ["grads['W_x']", "grads['W_h']", "grads['b_x']", "grads['b_h']"]),
])
def test_rnn_backward_typical_mistakes_are_recognised(mistake, outputs):
    result = checks.check_rnn_step_backward(lambda *a: rnn_step_backward(*a, mistake=mistake), verbose=False)
    assert_detected(result, mistake)
    assert set(result.wrong_outputs) == set(outputs)


def test_rnn_backward_one_wrong_gradient_says_what_is_already_right():
    result = checks.check_rnn_step_backward(lambda *a: rnn_step_backward(*a, mistake="dW_h_from_new_state"),
                                            verbose=False)
    assert "Already right: dx, dh_prev, grads['W_x'], grads['b_x'], grads['b_h']." in flat(result)
    assert "grads['W_h'] is off by a relative error of" in flat(result)
    assert "da.T @ h_prev" in flat(result)


def test_rnn_backward_a_bias_gradient_that_keeps_the_batch_axis():
    def my_backward(dh, x, h_prev, h, p):
        dx, dh_prev, grads = rnn_step_backward(dh, x, h_prev, h, p)
        da = dh * (1 - h ** 2)
        return dx, dh_prev, {**grads, "b_x": da, "b_h": da}

    result = checks.check_rnn_step_backward(my_backward, verbose=False)
    assert "grads['b_x'] has shape (2, 4), expected (4,); it keeps the batch axis: sum over it with " \
           ".sum(axis=0)." in flat(result)


def test_rnn_backward_a_missing_gradient_is_named():
    def my_backward(dh, x, h_prev, h, p):
        dx, dh_prev, grads = rnn_step_backward(dh, x, h_prev, h, p)
        return dx, dh_prev, {"W_x": grads["W_x"], "W_h": grads["W_h"], "b": grads["b_x"]}

    result = checks.check_rnn_step_backward(my_backward, verbose=False)
    assert {p.kind for p in result.problems} == {"missing"}
    assert "grads has no key 'b_x' (its keys: 'W_x', 'W_h', 'b')." in flat(result)


def test_rnn_backward_the_wrong_form_is_named():
    result = checks.check_rnn_step_backward(lambda *a: rnn_step_backward(*a)[:2], verbose=False)
    assert "should return the tuple (dx, dh_prev, grads), got a tuple of 2" in flat(result)


# ----------------------------------------------------------------------------- LSTM step forward

def lstm_step(x, h_prev, c_prev, p, mistake=None):
    """A reader's LSTM step, right unless ``mistake`` names one thing to get wrong."""
    H = h_prev.shape[1]
    b = {"missing_bias": 0.0, "missing_b_h": p["b_x"], "missing_b_x": p["b_h"]}.get(mistake, p["b_x"] + p["b_h"])
    W_h = p["W_h"] if mistake == "transposed_W_h" else p["W_h"].T
    a = x @ p["W_x"].T + h_prev @ W_h + b
    blocks = [a[:, k * H:(k + 1) * H] for k in range(4)]
    order = {"gate_order_ifog": "ifog", "gate_order_igfo": "igfo"}.get(mistake, "ifgo")
    a_i, a_f, a_g, a_o = (blocks[order.index(gate)] for gate in "ifgo")
    i, f, o = sigma(a_i), sigma(a_f), sigma(a_o)
    g = sigma(a_g) if mistake == "candidate_sigmoid" else np.tanh(a_g)
    c = i * c_prev + f * g if mistake == "swapped_input_forget" else f * c_prev + i * g
    h = o * c if mistake == "h_without_tanh" else o * np.tanh(c)
    return h, c


def test_lstm_forward_right_answers_pass():
    assert checks.check_lstm_step_forward(lstm_step, verbose=False).passed
    assert checks.check_lstm_step_forward(lstm.lstm_step_forward, verbose=False).passed


@pytest.mark.parametrize("mistake, outputs", [
    ("gate_order_ifog", ["h", "c"]),
    ("gate_order_igfo", ["h", "c"]),
    ("swapped_input_forget", ["h", "c"]),
    ("candidate_sigmoid", ["h", "c"]),
    ("h_without_tanh", ["h"]),
    ("missing_bias", ["h", "c"]),
    ("missing_b_h", ["h", "c"]),
    ("missing_b_x", ["h", "c"]),
])
def test_lstm_forward_typical_mistakes_are_recognised(mistake, outputs):
    result = checks.check_lstm_step_forward(lambda *a: lstm_step(*a, mistake=mistake), verbose=False)
    assert_detected(result, mistake, outputs)


def test_lstm_forward_a_transposed_W_h_fails_on_shapes_with_advice():
    result = checks.check_lstm_step_forward(lambda *a: lstm_step(*a, mistake="transposed_W_h"), verbose=False)
    assert {p.kind for p in result.problems} == {"error"} and len(result.problems) == 3
    assert "A shape error in a product usually means a transposed weight" in flat(result)


def test_lstm_forward_must_return_the_pair():
    result = checks.check_lstm_step_forward(lambda *a: lstm_step(*a)[0], verbose=False)
    assert "should return the pair (h, c), got ndarray" in flat(result)


# ----------------------------------------------------------------------------- GRU step forward

def gru_step(x, h_prev, p, mistake=None):
    """A reader's GRU step in PyTorch's convention, right unless ``mistake`` names one thing to get wrong."""
    H = h_prev.shape[1]
    order = "zrn" if mistake == "gate_order_zrn" else "rzn"
    W_x = dict(zip(order, np.split(p["W_x"], 3)))
    W_h = dict(zip(order, np.split(p["W_h"], 3)))
    b_x = dict(zip(order, np.split(p["b_x"], 3)))
    b_h = dict(zip(order, np.split(np.zeros(3 * H) if mistake == "missing_b_h" else p["b_h"], 3)))
    r = sigma(x @ W_x["r"].T + b_x["r"] + h_prev @ W_h["r"].T + b_h["r"])
    a_z = x @ W_x["z"].T + b_x["z"] + h_prev @ W_h["z"].T + b_h["z"]
    z = np.tanh(a_z) if mistake == "update_gate_tanh" else sigma(a_z)
    before = mistake in ("reset_before", "olah")
    if before:  # d2l and Cho et al.: the reset gate scales the state before the product
        a_n = x @ W_x["n"].T + b_x["n"] + (r * h_prev) @ W_h["n"].T + b_h["n"]
    elif mistake == "b_hn_outside_reset":
        a_n = x @ W_x["n"].T + b_x["n"] + r * (h_prev @ W_h["n"].T) + b_h["n"]
    else:
        a_n = x @ W_x["n"].T + b_x["n"] + r * (h_prev @ W_h["n"].T + b_h["n"])
    n = sigma(a_n) if mistake == "candidate_sigmoid" else np.tanh(a_n)
    if mistake in ("update_write", "olah"):  # Chung et al. and Olah: z near 1 writes the candidate
        return z * n + (1 - z) * h_prev
    return (1 - z) * n + z * h_prev


def test_gru_forward_right_answers_pass():
    assert checks.check_gru_step_forward(gru_step, verbose=False).passed
    assert checks.check_gru_step_forward(gru.gru_step_forward, verbose=False).passed


@pytest.mark.parametrize("mistake, key", [
    ("reset_before", "reset_before"),
    ("update_write", "update_write"),
    ("olah", "reset_before_update_write"),
    ("b_hn_outside_reset", "b_hn_outside_reset"),
    ("gate_order_zrn", "gate_order_zrn"),
    ("update_gate_tanh", "update_gate_tanh"),
    ("candidate_sigmoid", "candidate_sigmoid"),
    ("missing_b_h", "missing_b_h"),
])
def test_gru_forward_typical_mistakes_are_recognised(mistake, key):
    result = checks.check_gru_step_forward(lambda *a: gru_step(*a, mistake=mistake), verbose=False)
    assert_detected(result, key, ["h"])


def test_gru_forward_names_the_convention():
    result = checks.check_gru_step_forward(lambda *a: gru_step(*a, mistake="update_write"), verbose=False)
    assert "h = (1 - z) * n + z * h_prev" in flat(result) and "Chung et al." in flat(result)


# ----------------------------------------------------------------------------- GRU step backward

def gru_step_backward(dh, x, h_prev, p, mistake=None):
    """A reader's GRU backward step (PyTorch's convention), gate by gate, right unless ``mistake``."""
    H = h_prev.shape[1]
    W_xr, W_xz, W_xn = np.split(p["W_x"], 3)
    W_hr, W_hz, W_hn = np.split(p["W_h"], 3)
    b_xr, b_xz, b_xn = np.split(p["b_x"], 3)
    b_hr, b_hz, b_hn = np.split(p["b_h"], 3)
    r = sigma(x @ W_xr.T + b_xr + h_prev @ W_hr.T + b_hr)
    z = sigma(x @ W_xz.T + b_xz + h_prev @ W_hz.T + b_hz)
    m = h_prev @ W_hn.T + b_hn
    n = np.tanh(x @ W_xn.T + b_xn + r * m)
    dz = dh * (n - h_prev) if mistake == "update_gradient_sign" else dh * (h_prev - n)
    dn = dh * (1 - z)
    dan = dn if mistake == "forgot_tanh_slope" else dn * (1 - n ** 2)
    dm = dan if mistake == "reset_factor_missing" else dan * r
    dr = dan * m
    daz = dz if mistake == "forgot_sigmoid_slope" else dz * z * (1 - z)
    dar = dr if mistake == "forgot_sigmoid_slope" else dr * r * (1 - r)
    dx = dar @ W_xr + daz @ W_xz + dan @ W_xn
    dh_prev = dar @ W_hr + daz @ W_hz + dm @ W_hn
    if mistake != "forgot_direct_path":
        dh_prev = dh_prev + dh * z
    grads = {
        "W_x": np.concatenate([dar.T @ x, daz.T @ x, dan.T @ x]),
        "W_h": np.concatenate([dar.T @ h_prev, daz.T @ h_prev, dm.T @ h_prev]),
        "b_x": np.concatenate([dar.sum(0), daz.sum(0), dan.sum(0)]),
        "b_h": np.concatenate([dar.sum(0), daz.sum(0), dm.sum(0)]),
    }
    assert grads["W_x"].shape == (3 * H, x.shape[1])
    return dx, dh_prev, grads


def library_gru_backward(**convention):
    def backward(dh, x, h_prev, p):
        _, cache = gru.gru_step_forward(x, h_prev, p, **convention)
        return gru.gru_step_backward(dh, cache)
    return backward


def test_gru_backward_right_answers_pass():
    assert checks.check_gru_step_backward(gru_step_backward, verbose=False).passed
    assert checks.check_gru_step_backward(library_gru_backward(), verbose=False).passed


@pytest.mark.parametrize("convention, key", [
    ({"reset": "before"}, "reset_before"),
    ({"update": "write"}, "update_write"),
    ({"reset": "before", "update": "write"}, "reset_before_update_write"),
])
def test_gru_backward_other_conventions_are_recognised(convention, key):
    result = checks.check_gru_step_backward(library_gru_backward(**convention), verbose=False)
    assert_detected(result, key)
    assert "These are the gradients of another GRU" in flat(result)


@pytest.mark.parametrize("mistake, outputs", [
    ("forgot_direct_path", ["dh_prev"]),
    ("forgot_tanh_slope", None),
    ("forgot_sigmoid_slope", None),
    ("reset_factor_missing", ["dh_prev", "grads['W_h']", "grads['b_h']"]),
    ("update_gradient_sign", None),
])
def test_gru_backward_typical_mistakes_are_recognised(mistake, outputs):
    result = checks.check_gru_step_backward(lambda *a: gru_step_backward(*a, mistake=mistake), verbose=False)
    assert_detected(result, mistake, outputs)


# ----------------------------------------------------------------------------- norm clipping

def clip(grads, max_norm, mistake=None):
    """A reader's norm clipping, right unless ``mistake`` names one thing to get wrong."""
    if mistake == "per_array":
        return {k: g * min(1.0, max_norm / np.sqrt(np.sum(g ** 2))) for k, g in grads.items()}
    if mistake == "value":
        return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}
    squares = sum(np.sum(g ** 2) for g in grads.values())
    norm = squares if mistake == "squared_norm" else np.sqrt(squares)
    if mistake == "always_rescale":
        scale = max_norm / norm
    elif norm <= max_norm:
        scale = 1.0
    else:
        scale = {"forgot_max_norm": 1.0 / norm, "inverted_scale": norm / max_norm}.get(mistake, max_norm / norm)
    return {k: g * scale for k, g in grads.items()}


def test_clipping_right_answers_pass():
    assert checks.check_clip_by_norm(clip, verbose=False).passed
    assert checks.check_clip_by_norm(clipping.clip_by_norm, verbose=False).passed  # returns (clipped, norm)


@pytest.mark.parametrize("mistake", ["per_array", "value", "always_rescale", "forgot_max_norm", "squared_norm",
                                     "inverted_scale"])
def test_clipping_typical_mistakes_are_recognised(mistake):
    result = checks.check_clip_by_norm(lambda g, c: clip(g, c, mistake), verbose=False)
    assert_detected(result, mistake)


def test_clipping_each_array_separately_is_explained():
    result = checks.check_clip_by_norm(lambda g, c: clip(g, c, "per_array"), verbose=False)
    assert "You clipped each array by its own norm" in flat(result) and "global norm" in flat(result)
    # The short gradient is left alone either way: only the two long cases differ.
    assert {p.case for p in result.problems} == {result.cases[0], result.cases[2]}


def test_clipping_in_place_is_reported_even_with_the_right_numbers():
    def my_clip(grads, max_norm):
        norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
        for g in grads.values():
            g *= min(1.0, max_norm / norm)
        return grads

    result = checks.check_clip_by_norm(my_clip, verbose=False)
    assert not result.passed and {p.kind for p in result.problems} == {"input changed"}
    assert flat(result).startswith("my_clip computes the right numbers, but it changes its input in place.")
    assert "my_clip changed grads['W_x'], grads['W_h'], grads['b_x'], grads['b_h'] in place." in flat(result)


def test_clipping_must_return_a_dict():
    result = checks.check_clip_by_norm(lambda g, c: list(clip(g, c).values()), verbose=False)
    assert "should return a dict with the keys of grads, got list" in flat(result)


# ----------------------------------------------------------------------------- the mistake models themselves

def test_the_mistake_models_change_one_thing_from_the_library():
    """With nothing wrong, each written-out variant inside ``checks`` is the library's function."""
    rng = np.random.default_rng(3)
    x, h_prev, c_prev, dh = (rng.standard_normal(s) for s in ((2, 3), (2, 4), (2, 4), (2, 4)))
    p_rnn, p_lstm, p_gru = (checks._cell_params(k, 3, 4, rng) for k in ("rnn", "lstm", "gru"))

    h, cache = rnn.rnn_step_forward(x, h_prev, p_rnn)
    assert checks.rel_error(checks._rnn_variant(x, h_prev, p_rnn)["h"], h) < 1e-14
    want = checks._flat_backward(*rnn.rnn_step_backward(dh, cache))
    got = checks._rnn_backward_variant(dh, x, h_prev, h, p_rnn)
    assert all(checks.rel_error(got[k], want[k]) < 1e-14 for k in want)

    h, c, _ = lstm.lstm_step_forward(x, h_prev, c_prev, p_lstm)
    got = checks._lstm_variant(x, h_prev, c_prev, p_lstm)
    assert checks.rel_error(got["h"], h) < 1e-14 and checks.rel_error(got["c"], c) < 1e-14

    h, cache = gru.gru_step_forward(x, h_prev, p_gru)
    assert checks.rel_error(checks._gru_variant(x, h_prev, p_gru)["h"], h) < 1e-14
    want = checks._flat_backward(*gru.gru_step_backward(dh, cache))
    got = checks._gru_backward_variant(dh, x, h_prev, p_gru)
    assert all(checks.rel_error(got[k], want[k]) < 1e-14 for k in want)


@pytest.mark.parametrize("mistakes, cases", [
    (checks._rnn_forward_mistakes, lambda: checks._single_state_cases("rnn", np.random.default_rng(0), backward=False)),
    (checks._rnn_backward_mistakes, lambda: checks._single_state_cases("rnn", np.random.default_rng(0), backward=True)),
    (checks._gru_forward_mistakes, lambda: checks._single_state_cases("gru", np.random.default_rng(0), backward=False)),
    (checks._gru_backward_mistakes, lambda: checks._single_state_cases("gru", np.random.default_rng(0), backward=True)),
], ids=["rnn forward", "rnn backward", "gru forward", "gru backward"])
def test_every_mistake_differs_from_the_reference_somewhere(mistakes, cases):
    """A mistake that equals the right answer on every case could never be recognised."""
    cases = cases()
    for mistake in mistakes():
        differs = False
        for case in cases:
            try:
                theirs = mistake.compute(case.inputs)
            except ValueError:  # does not apply to this shape
                continue
            differs |= any(np.shape(theirs[k]) != case.expected[k].shape
                           or checks.rel_error(theirs[k], case.expected[k]) > 1e-6 for k in theirs)
        assert differs, mistake.key


# ----------------------------------------------------------------------------- a bidirectional layer

def reverse_within(a, lengths):
    """Each sequence of a (N, T, K) reversed within its length, written with a loop as a reader would."""
    if lengths is None:
        return a[:, ::-1].copy()
    out = a.copy()
    for n, length in enumerate(lengths):
        out[n, :length] = a[n, :length][::-1]
    return out


def bidirectional_layer(kind, layer, x, lengths, mistake=None):
    """A reader's bidirectional layer from two sequence_forward calls, right unless ``mistake`` says otherwise."""
    from lessons_lib import sequence_forward, zero_state

    N, H = x.shape[0], layer[0]["W_h"].shape[1]
    state0 = zero_state(kind, N, H)
    fwd, _, _ = sequence_forward(kind, layer[0], x, state0, lengths)
    if mistake == "reverse_ignores_lengths":
        rev = sequence_forward(kind, layer[1], x[:, ::-1], state0)[0][:, ::-1]
    elif mistake == "output_not_reversed_back":
        rev = sequence_forward(kind, layer[1], reverse_within(x, lengths), state0, lengths)[0]
    elif mistake == "same_parameters":
        rev = reverse_within(sequence_forward(kind, layer[0], reverse_within(x, lengths), state0, lengths)[0],
                             lengths)
    else:
        rev = reverse_within(sequence_forward(kind, layer[1], reverse_within(x, lengths), state0, lengths)[0],
                             lengths)
    if mistake == "directions_swapped":
        return np.concatenate([rev, fwd], axis=2)
    return np.concatenate([fwd, rev], axis=2)


def test_bidirectional_right_answers_pass(capsys):
    from lessons_lib import stacked_forward

    result = checks.check_bidirectional_layer(bidirectional_layer)
    assert result.passed and "passes" in capsys.readouterr().out
    assert any("no lengths" in c for c in result.cases) and any("lengths [" in c for c in result.cases)
    # the library itself, wrapped, passes too
    library = checks.check_bidirectional_layer(lambda kind, layer, x, lengths: stacked_forward(
        kind, [layer], x, None, lengths), verbose=False)
    assert library.passed


@pytest.mark.parametrize("mistake", ["reverse_ignores_lengths", "output_not_reversed_back", "same_parameters",
                                     "directions_swapped"])
def test_bidirectional_mistakes_are_recognised(mistake):
    result = checks.check_bidirectional_layer(lambda *a: bidirectional_layer(*a, mistake=mistake), verbose=False)
    assert_detected(result, mistake, outputs=["out"])


def test_reverse_without_lengths_fails_only_the_cases_with_lengths_and_says_so():
    result = checks.check_bidirectional_layer(lambda *a: bidirectional_layer(*a, mistake="reverse_ignores_lengths"),
                                              verbose=False)
    failed = {p.case for p in result.problems}
    assert failed == {c for c in result.cases if "lengths [" in c}
    assert "starts in the padding" in flat(result) and "own last step" in flat(result)


def test_bidirectional_unwritten_stub_and_a_crash():
    def stub(kind, layer, x, lengths):
        raise NotImplementedError("Exercise: write the body of stub")

    result = checks.check_bidirectional_layer(stub, verbose=False)
    assert result.not_written and "not written yet" in result.message

    def crashes(kind, layer, x, lengths):
        return np.concatenate([x, x @ layer[0]["W_x"]], axis=2)

    result = checks.check_bidirectional_layer(crashes, verbose=False)
    assert not result.passed and any(p.kind == "error" for p in result.problems)


# ----------------------------------------------------------------------------- chapter 9: the scan

def _doubling(a, b, h0):
    A, B = a.copy(), b.copy()
    B[:, 0] = a[:, 0] * h0 + b[:, 0]
    offset = 1
    while offset < a.shape[1]:
        A_new, B_new = A[:, offset:] * A[:, :-offset], A[:, offset:] * B[:, :-offset] + B[:, offset:]
        A[:, offset:], B[:, offset:] = A_new, B_new
        offset *= 2
    return B


def _step_by_step(a, b, h0):
    h, out = h0, []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]
        out.append(h)
    return np.stack(out, axis=1)


def test_the_scan_checker_passes_a_doubling_scan_and_the_librarys_scans():
    assert checks.check_linear_scan(_doubling, verbose=False).passed
    for method in ("scan", "doubling"):
        assert checks.check_linear_scan(lambda a, b, h0: linear_recurrence(a, b, h0, method=method),
                                        verbose=False).passed


def test_the_scan_checker_points_out_a_loop_over_time():
    result = checks.check_linear_scan(_step_by_step, verbose=False)
    assert not result.passed and [p.kind for p in result.problems] == ["sequential"]
    assert "not by a scan" in result.message and "loop over the levels" in result.message


def test_a_loop_that_hides_its_arrays_is_not_judged_on_its_depth():
    # np.asarray drops the counting array: the checker cannot tell, and judges the values only
    result = checks.check_linear_scan(lambda a, b, h0: _step_by_step(np.asarray(a), b, h0), verbose=False)
    assert result.passed


@pytest.mark.parametrize("mistake, key", [
    (lambda a, b, h0: _doubling(a, b, np.zeros_like(h0)), "h0_ignored"),
    (lambda a, b, h0: np.concatenate([h0[:, None], _doubling(a, b, h0)[:, :-1]], axis=1), "exclusive"),
])
def test_the_scan_checker_names_the_typical_mistakes(mistake, key):
    result = checks.check_linear_scan(mistake, verbose=False)
    assert not result.passed and result.mistake == key, result.message


def test_the_scan_checker_names_the_combination_in_the_wrong_order_and_the_wrap_around():
    def swapped(a, b, h0):
        A, B = a.copy(), b.copy()
        B[:, 0] = a[:, 0] * h0 + b[:, 0]
        offset = 1
        while offset < a.shape[1]:
            A_new, B_new = A[:, offset:] * A[:, :-offset], A[:, :-offset] * B[:, offset:] + B[:, :-offset]
            A[:, offset:], B[:, offset:] = A_new, B_new
            offset *= 2
        return B

    def rolled(a, b, h0):
        A, B = a.copy(), b.copy()
        B[:, 0] = a[:, 0] * h0 + b[:, 0]
        offset = 1
        while offset < a.shape[1]:
            A_prev, B_prev = np.roll(A, offset, axis=1), np.roll(B, offset, axis=1)
            A, B = A * A_prev, A * B_prev + B
            offset *= 2
        return B

    assert checks.check_linear_scan(swapped, verbose=False).mistake == "order_swapped"
    assert checks.check_linear_scan(rolled, verbose=False).mistake == "wrapped"


def test_the_scan_checker_handles_a_stub_and_a_crash():
    def stub(a, b, h0):
        raise NotImplementedError("Exercise")

    assert checks.check_linear_scan(stub, verbose=False).not_written
    crashed = checks.check_linear_scan(lambda a, b, h0: a @ b, verbose=False)
    assert not crashed.passed and crashed.problems[0].kind == "error"
