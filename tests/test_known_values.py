"""Known values: cells small enough to compute by hand, zero and identity-like weights,
the stable sigmoid on huge inputs, and the relations between conventions and biases."""

import math
import warnings

import numpy as np
import pytest

from cases import (GRU_OPTIONS, KINDS, VARIANT_IDS, VARIANTS, assert_close, make_case, make_params, pack_state,
                   state_arrays)
from lessons_lib import rel_error, sequence_backward, sequence_forward
from lessons_lib.cells.activations import dsigmoid_from_output, dtanh_from_output, sigmoid
from lessons_lib.cells.gru import gru_step_forward
from lessons_lib.cells.lstm import lstm_step_forward
from lessons_lib.cells.rnn import rnn_step_forward

GRU_IDS = VARIANT_IDS[2:]

# ---------------------------------------------------------------------------
# H = 1, D = 1 cells written out with Python floats, one gate at a time.


def sig(a):
    return 1.0 / (1.0 + math.exp(-a))


def hand_rnn(p, xs, h):
    """h_t = tanh(w_x x_t + b_x + w_h h_{t-1} + b_h) for scalar weights."""
    hs = []
    for x in xs:
        h = math.tanh(p["W_x"][0] * x + p["b_x"][0] + p["W_h"][0] * h + p["b_h"][0])
        hs.append(h)
    return hs


def hand_lstm(p, xs, h, c):
    """The LSTM with rows (i, f, g, o) of the stacked scalar weights."""
    hs, cs = [], []
    for x in xs:
        a = [p["W_x"][k] * x + p["b_x"][k] + p["W_h"][k] * h + p["b_h"][k] for k in range(4)]
        i, f, g, o = sig(a[0]), sig(a[1]), math.tanh(a[2]), sig(a[3])
        c = f * c + i * g
        h = o * math.tanh(c)
        hs.append(h)
        cs.append(c)
    return hs, cs


def hand_gru(p, xs, h, reset, update):
    """The GRU with rows (r, z, n), in the four conventions."""
    hs = []
    Wx, Wh, bx, bh = p["W_x"], p["W_h"], p["b_x"], p["b_h"]
    for x in xs:
        r = sig(Wx[0] * x + bx[0] + Wh[0] * h + bh[0])
        z = sig(Wx[1] * x + bx[1] + Wh[1] * h + bh[1])
        if reset == "after":
            n = math.tanh(Wx[2] * x + bx[2] + r * (Wh[2] * h + bh[2]))
        else:
            n = math.tanh(Wx[2] * x + bx[2] + Wh[2] * (r * h) + bh[2])
        h = (1 - z) * n + z * h if update == "keep" else z * n + (1 - z) * h
        hs.append(h)
    return hs


# Distinct values for every entry, so that swapping any two gate rows changes the result.
SCALARS = {
    "rnn": {"W_x": [0.7], "W_h": [-0.4], "b_x": [0.1], "b_h": [-0.3]},
    "lstm": {"W_x": [0.5, -0.6, 0.9, 0.3], "W_h": [-0.2, 0.8, -0.7, 0.4],
             "b_x": [0.1, 0.6, -0.2, 0.25], "b_h": [-0.35, 0.15, 0.05, -0.45]},
    "gru": {"W_x": [0.5, -0.6, 0.9], "W_h": [-0.2, 0.8, -0.7],
            "b_x": [0.1, 0.6, -0.2], "b_h": [-0.35, 0.15, 0.45]},
}
XS = [[0.5, -1.0, 2.0], [-0.3, 0.8, 0.0]]  # two sequences, T = 3, D = 1
H0 = [0.2, -0.6]
C0 = [-0.5, 0.9]


def scalar_params(kind):
    return {k: np.array(v).reshape(-1, 1) if k.startswith("W") else np.array(v) for k, v in SCALARS[kind].items()}


def test_rnn_by_hand():
    """An H = 1 RNN over two sequences equals the equation evaluated with Python floats."""
    out, h_T, _ = sequence_forward("rnn", scalar_params("rnn"), np.array(XS)[..., None], np.array(H0)[:, None])
    expected = [hand_rnn(SCALARS["rnn"], xs, h0) for xs, h0 in zip(XS, H0)]
    np.testing.assert_allclose(out[..., 0], expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(h_T[:, 0], [e[-1] for e in expected], rtol=0, atol=1e-15)


def test_lstm_by_hand():
    """An H = 1 LSTM (gate rows i, f, g, o) equals the equations evaluated with Python floats."""
    h0, c0 = np.array(H0)[:, None], np.array(C0)[:, None]
    out, (h_T, c_T), _ = sequence_forward("lstm", scalar_params("lstm"), np.array(XS)[..., None], (h0, c0))
    expected = [hand_lstm(SCALARS["lstm"], xs, h, c) for xs, h, c in zip(XS, H0, C0)]
    np.testing.assert_allclose(out[..., 0], [hs for hs, _ in expected], rtol=0, atol=1e-15)
    np.testing.assert_allclose(h_T[:, 0], [hs[-1] for hs, _ in expected], rtol=0, atol=1e-15)
    np.testing.assert_allclose(c_T[:, 0], [cs[-1] for _, cs in expected], rtol=0, atol=1e-15)


@pytest.mark.parametrize("options", GRU_OPTIONS, ids=GRU_IDS)
def test_gru_by_hand(options):
    """An H = 1 GRU (rows r, z, n) equals its convention's equations evaluated with Python floats."""
    out, h_T, _ = sequence_forward("gru", scalar_params("gru"), np.array(XS)[..., None],
                                   np.array(H0)[:, None], **options)
    expected = [hand_gru(SCALARS["gru"], xs, h0, **options) for xs, h0 in zip(XS, H0)]
    np.testing.assert_allclose(out[..., 0], expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(h_T[:, 0], [e[-1] for e in expected], rtol=0, atol=1e-15)


def test_step_functions_by_hand():
    """One step of each cell's *_step_forward equals the first step computed by hand."""
    x, h0, c0 = np.array(XS)[:, :1], np.array(H0)[:, None], np.array(C0)[:, None]  # (2, 1) each
    h, _ = rnn_step_forward(x, h0, scalar_params("rnn"))
    np.testing.assert_allclose(h[:, 0], [hand_rnn(SCALARS["rnn"], xs[:1], h)[0] for xs, h in zip(XS, H0)],
                               rtol=0, atol=1e-15)
    h, c, _ = lstm_step_forward(x, h0, c0, scalar_params("lstm"))
    by_hand = [hand_lstm(SCALARS["lstm"], xs[:1], h, c) for xs, h, c in zip(XS, H0, C0)]
    np.testing.assert_allclose(h[:, 0], [hs[0] for hs, _ in by_hand], rtol=0, atol=1e-15)
    np.testing.assert_allclose(c[:, 0], [cs[0] for _, cs in by_hand], rtol=0, atol=1e-15)
    for options in GRU_OPTIONS:
        h, _ = gru_step_forward(x, h0, scalar_params("gru"), **options)
        np.testing.assert_allclose(h[:, 0], [hand_gru(SCALARS["gru"], xs[:1], h, **options)[0]
                                             for xs, h in zip(XS, H0)], rtol=0, atol=1e-15, err_msg=str(options))


# ---------------------------------------------------------------------------
# Zero and identity-like weights.


def zero_params(kind, D, H):
    return {k: np.zeros_like(v) for k, v in make_params(kind, D, H, np.random.default_rng(0)).items()}


def test_rnn_with_zero_weights_outputs_zeros(rng):
    """With all weights and biases zero, h_t = tanh(0) = 0 whatever x and h0."""
    out, h_T, _ = sequence_forward("rnn", zero_params("rnn", 3, 2), rng.standard_normal((2, 4, 3)),
                                   rng.standard_normal((2, 2)))
    assert not out.any() and not h_T.any()


def test_lstm_with_zero_weights_halves_the_cell(rng):
    """With zero weights every gate is 1/2 and g = 0, so c_t = c0 / 2^t and h_t = tanh(c_t) / 2."""
    c0 = rng.standard_normal((2, 3))
    out, (h_T, c_T), _ = sequence_forward("lstm", zero_params("lstm", 2, 3), rng.standard_normal((2, 4, 2)),
                                          (rng.standard_normal((2, 3)), c0))
    c = c0[:, None, :] / 2.0 ** np.arange(1, 5)[None, :, None]  # (2, 4, 3)
    np.testing.assert_allclose(out, 0.5 * np.tanh(c), rtol=1e-15)
    np.testing.assert_allclose(c_T, c0 / 16, rtol=1e-15)
    np.testing.assert_allclose(h_T, 0.5 * np.tanh(c0 / 16), rtol=1e-15)


@pytest.mark.parametrize("options", GRU_OPTIONS, ids=GRU_IDS)
def test_gru_with_zero_weights_halves_the_state(options, rng):
    """With zero weights r = z = 1/2 and n = 0, so h_t = h0 / 2^t in every convention."""
    h0 = rng.standard_normal((2, 3))
    out, h_T, _ = sequence_forward("gru", zero_params("gru", 2, 3), rng.standard_normal((2, 4, 2)), h0, **options)
    np.testing.assert_allclose(out, h0[:, None, :] / 2.0 ** np.arange(1, 5)[None, :, None], rtol=1e-15)
    np.testing.assert_allclose(h_T, h0 / 16, rtol=1e-15)


def test_rnn_with_identity_input_weights_is_tanh_of_x(rng):
    """W_x = I, W_h = 0, no bias: the output is tanh(x) step by step."""
    params = {"W_x": np.eye(3), "W_h": np.zeros((3, 3)), "b_x": np.zeros(3), "b_h": np.zeros(3)}
    x = rng.standard_normal((2, 4, 3))
    out, _, _ = sequence_forward("rnn", params, x, rng.standard_normal((2, 3)))
    np.testing.assert_allclose(out, np.tanh(x), rtol=1e-15)


def test_rnn_with_identity_recurrence_iterates_tanh(rng):
    """W_x = 0, W_h = I, no bias: h_t = tanh(h_{t-1}), the state carried through time."""
    params = {"W_x": np.zeros((3, 2)), "W_h": np.eye(3), "b_x": np.zeros(3), "b_h": np.zeros(3)}
    h = rng.standard_normal((2, 3))
    out, h_T, _ = sequence_forward("rnn", params, rng.standard_normal((2, 4, 2)), h)
    for t in range(4):
        h = np.tanh(h)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-15)
    np.testing.assert_array_equal(h_T, out[:, -1])


def test_lstm_with_open_forget_and_closed_input_gates_keeps_the_cell(rng):
    """Forget bias +50, input bias -50: the gates saturate to 1 and 0 exactly and c_T = c0."""
    H = 3
    params = make_params("lstm", 2, H, rng, scale=0.1)
    params["b_x"][:H] = -50.0         # i
    params["b_x"][H:2 * H] = 50.0     # f
    c0 = rng.standard_normal((2, H))
    _, (_, c_T), _ = sequence_forward("lstm", params, rng.standard_normal((2, 4, 2)), (rng.standard_normal((2, H)), c0))
    np.testing.assert_array_equal(c_T, c0)


@pytest.mark.parametrize("options", GRU_OPTIONS, ids=GRU_IDS)
def test_gru_with_saturated_update_gate_keeps_the_state(options, rng):
    """An update gate saturated towards 'keep the old state' (z = 1 for keep, z = 0 for write) gives h_T = h0."""
    H = 3
    params = make_params("gru", 2, H, rng, scale=0.1)
    params["b_x"][H:2 * H] = 50.0 if options["update"] == "keep" else -50.0
    h0 = rng.standard_normal((2, H))
    _, h_T, _ = sequence_forward("gru", params, rng.standard_normal((2, 4, 2)), h0, **options)
    np.testing.assert_array_equal(h_T, h0)


# ---------------------------------------------------------------------------
# Relations between conventions, and the two biases.


@pytest.mark.parametrize("reset", ["after", "before"])
def test_gru_write_is_keep_with_the_update_gate_negated(reset, rng):
    """update="write" with parameters p equals update="keep" with the z block of p negated."""
    H = 3
    params, x, h0, _, _ = make_case("gru", 2, 4, 2, H, rng)
    negated = {k: v.copy() for k, v in params.items()}
    for v in negated.values():
        v[H:2 * H] *= -1.0
    out_write, h_write, _ = sequence_forward("gru", params, x, h0, reset=reset, update="write")
    out_keep, h_keep, _ = sequence_forward("gru", negated, x, h0, reset=reset, update="keep")
    assert_close(out_write, out_keep, 1e-14, "out")
    assert_close(h_write, h_keep, 1e-14, "h_T")
    out_default, _, _ = sequence_forward("gru", params, x, h0, reset=reset)
    assert rel_error(out_default, out_write) > 1e-3, "keep and write must differ"


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_rnn_and_lstm_use_only_the_sum_of_the_biases(kind, rng):
    """Moving b_h into b_x leaves the outputs unchanged, and the two bias gradients are equal."""
    params, x, state0, dout, dstate = make_case(kind, 2, 3, 2, 3, rng)
    moved = dict(params, b_x=params["b_x"] + params["b_h"], b_h=np.zeros_like(params["b_h"]))
    out, _, cache = sequence_forward(kind, params, x, state0)
    out_moved, _, _ = sequence_forward(kind, moved, x, state0)
    assert_close(out_moved, out, 1e-14, "out")
    _, _, grads = sequence_backward(kind, dout, dstate, cache)
    np.testing.assert_array_equal(grads["b_x"], grads["b_h"])


@pytest.mark.parametrize("reset", ["after", "before"])
def test_gru_candidate_biases_differ_only_with_reset_after(reset, rng):
    """b_hn sits inside the reset product for reset="after" only; the r and z biases always add up."""
    H = 3
    params, x, h0, dout, dh = make_case("gru", 2, 3, 2, H, rng)
    out, _, cache = sequence_forward("gru", params, x, h0, reset=reset)
    _, _, grads = sequence_backward("gru", dout, dh, cache)

    moved_rz = {k: v.copy() for k, v in params.items()}
    moved_rz["b_x"][:2 * H] += moved_rz["b_h"][:2 * H]
    moved_rz["b_h"][:2 * H] = 0.0
    assert_close(sequence_forward("gru", moved_rz, x, h0, reset=reset)[0], out, 1e-14, "r, z biases moved")
    assert_close(grads["b_x"][:2 * H], grads["b_h"][:2 * H], 1e-14, "r, z bias gradients")

    moved_n = {k: v.copy() for k, v in params.items()}
    moved_n["b_x"][2 * H:] += moved_n["b_h"][2 * H:]
    moved_n["b_h"][2 * H:] = 0.0
    out_n = sequence_forward("gru", moved_n, x, h0, reset=reset)[0]
    if reset == "after":
        assert rel_error(out_n, out) > 1e-3
        assert rel_error(grads["b_x"][2 * H:], grads["b_h"][2 * H:]) > 1e-3
    else:
        assert_close(out_n, out, 1e-14, "n biases moved")
        assert_close(grads["b_x"][2 * H:], grads["b_h"][2 * H:], 1e-14, "n bias gradients")


@pytest.mark.parametrize("kind", KINDS)
def test_batch_entries_are_independent(kind, rng):
    """Each sequence's output depends only on its own input and state: a batch equals its rows run alone."""
    params, x, state0, _, _ = make_case(kind, 3, 4, 2, 3, rng)
    out, state, _ = sequence_forward(kind, params, x, state0)
    for n in range(3):
        alone = pack_state(kind, [s[n:n + 1] for s in state_arrays(kind, state0)])
        out_n, state_n, _ = sequence_forward(kind, params, x[n:n + 1], alone)
        assert_close(out_n[0], out[n], 1e-14, f"out[{n}]")
        for s_n, s in zip(state_arrays(kind, state_n), state_arrays(kind, state)):
            assert_close(s_n[0], s[n], 1e-14, f"state[{n}]")


# ---------------------------------------------------------------------------
# The stable sigmoid.

HUGE64 = np.array([-1e308, -1e4, -800.0, 0.0, 800.0, 1e4, 1e308, -np.finfo(np.float64).max,
                   np.finfo(np.float64).max])
HUGE32 = np.array([-3e38, -1e4, -100.0, 0.0, 100.0, 1e4, 3e38], dtype=np.float32)


@pytest.mark.parametrize("a", [HUGE64, HUGE32], ids=["float64", "float32"])
def test_sigmoid_of_huge_inputs_is_exact_and_silent(a):
    """sigma of +-1e4, +-1e308 (+-3e38 in float32) is 0 or 1 exactly, with no warning, NaN or dtype change."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        s = sigmoid(a)
    assert s.dtype == a.dtype
    assert np.all(np.isfinite(s))
    np.testing.assert_array_equal(s, np.where(a < 0, 0.0, np.where(a > 0, 1.0, 0.5)))


def test_sigmoid_matches_the_textbook_formula():
    """On moderate inputs sigma(a) = 1 / (1 + exp(-a)) to 1e-15, and sigma(-a) = 1 - sigma(a)."""
    a = np.linspace(-30.0, 30.0, 601)
    np.testing.assert_allclose(sigmoid(a), 1.0 / (1.0 + np.exp(-a)), rtol=0, atol=1e-15)
    np.testing.assert_allclose(sigmoid(-a), 1.0 - sigmoid(a), rtol=0, atol=1e-15)


def test_activation_derivatives_from_outputs():
    """s (1 - s) and 1 - y^2 are the derivatives of sigma and tanh (central differences, 1e-9)."""
    a, eps = np.linspace(-6.0, 6.0, 49), 1e-6
    np.testing.assert_allclose(dsigmoid_from_output(sigmoid(a)), (sigmoid(a + eps) - sigmoid(a - eps)) / (2 * eps),
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(dtanh_from_output(np.tanh(a)), (np.tanh(a + eps) - np.tanh(a - eps)) / (2 * eps),
                               rtol=0, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_saturated_cells_stay_finite_and_silent(kind, options, dtype, rng):
    """Weights of size 1e4 saturate every gate; forward and backward stay finite and raise no warning."""
    params, x, state0, dout, dstate = make_case(kind, 2, 3, 2, 3, rng, dtype)
    params = {k: (v * 1e4).astype(dtype) for k, v in params.items()}
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out, state, cache = sequence_forward(kind, params, x, state0, **options)
        dx, dstate0, grads = sequence_backward(kind, dout, dstate, cache)
    for a in [out, dx, *state_arrays(kind, state), *state_arrays(kind, dstate0), *grads.values()]:
        assert np.all(np.isfinite(a))
