"""Tests of lessons_lib.analysis.gradient_flow: Jacobians, their products and norms, the bound, and chapter 2's experiments.

Order as in the house style: shapes and known values, then finite differences
in float64 on tiny sizes, then agreement with the library's own backward
pass, then properties over random cases (hypothesis), then error messages.
"""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lessons_lib as ll
from lessons_lib.analysis import gradient_flow as gf
from lessons_lib import numerical_gradient, rel_error

ACTIVATIONS = ("tanh", "sigmoid", "linear")
TOL = 1e-8  # finite differences in float64


def small_case(rng, N=2, T=4, D=3, H=4, scale=0.6):
    """Weights and inputs of a small recurrence, all float64."""
    W_h = scale * rng.standard_normal((H, H))
    W_x = scale * rng.standard_normal((H, D))
    b = 0.3 * rng.standard_normal(H)
    x = rng.standard_normal((N, T, D))
    h0 = 0.5 * rng.standard_normal((N, H))
    return W_h, W_x, b, x, h0


def numerical_jacobian(f, h):
    """Jacobian (N, H_out, H_in) of ``f(h)`` (N, H_out) with respect to ``h`` (N, H_in), row by row."""
    out = f()
    N, H_out = out.shape
    J = np.empty((N, H_out, h.shape[1]))
    for n in range(N):
        for i in range(H_out):
            J[n, i] = numerical_gradient(lambda: float(f()[n, i]), h)[n]
    return J


# ----------------------------------------------------------------------------- recurrent matrices

@pytest.mark.parametrize("structure", gf.STRUCTURES)
@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5])
def test_recurrent_weights_have_the_asked_largest_singular_value(structure, sigma, rng):
    W = gf.recurrent_weights(6, sigma, rng, structure)
    assert W.shape == (6, 6) and W.dtype == np.float64
    singular = np.linalg.svd(W, compute_uv=False)
    assert abs(singular.max() - sigma) < 1e-12
    assert abs(gf.largest_singular_value(W) - sigma) < 1e-12
    if structure in ("orthogonal", "identity"):  # every singular value equals sigma
        assert np.allclose(singular, sigma, rtol=0, atol=1e-12)
    else:  # a Gaussian matrix's singular values spread out
        assert singular.min() < 0.5 * sigma


def test_recurrent_weights_are_reproducible_from_the_seed():
    a = gf.recurrent_weights(5, 1.0, np.random.default_rng(3))
    b = gf.recurrent_weights(5, 1.0, np.random.default_rng(3))
    assert np.array_equal(a, b)


def test_largest_singular_value_known_value():
    assert gf.largest_singular_value(np.diag([3.0, -5.0, 1.0])) == pytest.approx(5.0, abs=1e-14)
    assert gf.largest_singular_value([[0.0, 2.0, 0.0]]) == pytest.approx(2.0, abs=1e-14)  # any (M, K)


def test_scale_to_spectral_norm(rng):
    W = rng.standard_normal((4, 4))
    scaled = gf.scale_to_spectral_norm(W, 0.7)
    assert gf.largest_singular_value(scaled) == pytest.approx(0.7, abs=1e-12)
    assert rel_error(scaled / np.linalg.norm(scaled), W / np.linalg.norm(W)) < 1e-14  # same direction


# ----------------------------------------------------------------------------- simulate: known values

def test_simulate_tanh_matches_the_library_rnn(rng):
    """With tanh, the generic simulator computes exactly the library's RNN states."""
    params = ll.init_params("rnn", 3, 4, rng)
    x, h0 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4))
    out, h_T, _ = ll.sequence_forward("rnn", params, x, h0)
    traj = gf.simulate(params["W_h"], params["W_x"], params["b_x"] + params["b_h"], x, h0, "tanh")
    assert traj.h.shape == (2, 6, 4) and traj.dphi.shape == (2, 5, 4)
    assert np.array_equal(traj.h[:, 0], h0)
    assert rel_error(traj.h[:, 1:], out) < 1e-14
    assert rel_error(traj.dphi, 1.0 - out ** 2) < 1e-14


def test_simulate_known_values():
    """One hand-computed step for each activation, plain and residual."""
    W_h, W_x, b = np.array([[2.0]]), np.array([[1.0]]), np.array([0.5])
    x, h0 = np.array([[[0.25]]]), np.array([[0.5]])
    a = 2.0 * 0.5 + 0.25 + 0.5  # 1.75
    expected = {"tanh": (np.tanh(a), 1 - np.tanh(a) ** 2), "sigmoid": (1 / (1 + np.exp(-a)), None),
                "linear": (a, 1.0)}
    expected["sigmoid"] = (expected["sigmoid"][0], expected["sigmoid"][0] * (1 - expected["sigmoid"][0]))
    for act, (y, slope) in expected.items():
        plain = gf.simulate(W_h, W_x, b, x, h0, act)
        res = gf.simulate(W_h, W_x, b, x, h0, act, residual=True)
        assert plain.h[0, 1, 0] == pytest.approx(y, abs=1e-15)
        assert res.h[0, 1, 0] == pytest.approx(0.5 + y, abs=1e-15)
        assert plain.dphi[0, 0, 0] == pytest.approx(slope, abs=1e-15)


# ----------------------------------------------------------------------------- Jacobians: finite differences

@pytest.mark.parametrize("residual", [False, True], ids=["plain", "residual"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_step_jacobians_match_finite_differences(activation, residual, rng):
    """J_t = diag(phi'(a_t)) W_h (+ I) is the derivative of one step with respect to h_{t-1}."""
    W_h, W_x, b, x, h0 = small_case(rng, N=2, T=3, H=3)
    traj = gf.simulate(W_h, W_x, b, x, h0, activation, residual)
    J = gf.step_jacobians(W_h, traj.dphi, residual)
    assert J.shape == (2, 3, 3, 3)
    for t in range(1, 4):
        h_prev = traj.h[:, t - 1].copy()
        step = lambda: gf.simulate(W_h, W_x, b, x[:, t - 1:t], h_prev, activation, residual).h[:, 1]  # noqa: E731
        assert rel_error(J[:, t - 1], numerical_jacobian(step, h_prev)) < TOL


@pytest.mark.parametrize("residual", [False, True], ids=["plain", "residual"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("s, t", [(0, 4), (1, 3), (2, 2), (0, 1)])
def test_jacobian_product_matches_finite_differences(activation, residual, s, t, rng):
    """dh_t/dh_s = J_t ... J_{s+1}: perturb h_s, rerun steps s+1 .. t, compare."""
    W_h, W_x, b, x, h0 = small_case(rng, N=2, T=4, H=3)
    traj = gf.simulate(W_h, W_x, b, x, h0, activation, residual)
    P = gf.jacobian_product(gf.step_jacobians(W_h, traj.dphi, residual), s, t)
    h_s = traj.h[:, s].copy()
    run = lambda: gf.simulate(W_h, W_x, b, x[:, s:t], h_s, activation, residual).h[:, -1]  # noqa: E731
    if s == t:
        assert np.array_equal(P, np.broadcast_to(np.eye(3), (2, 3, 3)))
    else:
        assert rel_error(P, numerical_jacobian(run, h_s)) < TOL


def test_derived_product_gives_the_library_gradient_of_h0(rng):
    """(dh_T/dh_0)^T dL/dh_T from the derived Jacobians equals the library's dh0 (the chapter's check)."""
    params = ll.init_params("rnn", 3, 5, rng)
    x, h0, g = rng.standard_normal((3, 6, 3)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    out, _, cache = ll.sequence_forward("rnn", params, x, h0)
    _, dh0, _ = ll.sequence_backward("rnn", np.zeros_like(out), g, cache)
    P = gf.jacobian_product(gf.step_jacobians(params["W_h"], 1.0 - out ** 2), 0, 6)
    assert rel_error(np.einsum("nij,ni->nj", P, g), dh0) < 1e-12


def test_weight_gradient_terms_sum_to_the_library_gradient(rng):
    """sum_t delta_t h_{t-1}^T equals grads["W_h"] of sequence_backward, and its finite-difference estimate."""
    params = ll.init_params("rnn", 2, 3, rng)
    x, h0, g = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    terms = gf.rnn_weight_gradient_terms(params, x, h0, g)
    assert terms.shape == (4, 3, 3)
    out, _, cache = ll.sequence_forward("rnn", params, x, h0)
    _, _, grads = ll.sequence_backward("rnn", np.zeros_like(out), g, cache)
    assert rel_error(terms.sum(axis=0), grads["W_h"]) < 1e-12

    def loss():
        return float(np.sum(ll.sequence_forward("rnn", params, x, h0)[1] * g))

    assert rel_error(terms.sum(axis=0), numerical_gradient(loss, params["W_h"])) < TOL


def test_weight_gradient_terms_of_one_step(rng):
    """With T = 1 the only term is delta_1 h_0^T with delta_1 = (1 - h_1^2) dL/dh_1."""
    params = ll.init_params("rnn", 2, 3, rng)
    x, h0, g = rng.standard_normal((1, 1, 2)), rng.standard_normal((1, 3)), rng.standard_normal((1, 3))
    out, _, _ = ll.sequence_forward("rnn", params, x, h0)
    expected = np.outer((1 - out[0, 0] ** 2) * g[0], h0[0])
    assert rel_error(gf.rnn_weight_gradient_terms(params, x, h0, g)[0], expected) < 1e-14


# ----------------------------------------------------------------------------- norms and the bound

def test_jacobian_norms_equal_the_norms_of_the_products(rng):
    W_h, W_x, b, x, h0 = small_case(rng, N=2, T=5, H=3)
    J = gf.step_jacobians(W_h, gf.simulate(W_h, W_x, b, x, h0).dphi)
    norms = gf.jacobian_norms(J)
    assert norms.shape == (2, 6)
    for k in range(6):
        direct = np.linalg.norm(gf.jacobian_product(J, 5 - k, 5), 2, axis=(1, 2))
        assert rel_error(norms[:, k], direct) < 1e-12


def test_jacobian_norms_of_a_linear_orthogonal_recurrence_stay_exactly_one(rng):
    """Known value: with phi = identity and orthogonal W_h, every product is orthogonal (norm 1)."""
    W = gf.recurrent_weights(8, 1.0, rng, "orthogonal")
    decay = gf.measure_gradient_decay(W, 60, rng, activation="linear", N=2)
    assert np.allclose(decay.norms, 1.0, rtol=0, atol=1e-10)


def test_jacobian_norms_do_not_underflow_silently():
    """A product far below 1e-308 is computed in log space and returned as 0, without warnings."""
    J = np.broadcast_to(1e-5 * np.eye(2), (1, 100, 2, 2))  # true norms 1e-5k, down to 1e-500
    norms = gf.jacobian_norms(J)
    assert norms[0, 10] == pytest.approx(1e-50, rel=1e-10)
    assert norms[0, 100] == 0.0
    assert np.all(np.diff(norms[0]) <= 0)


def test_norm_bound_known_values():
    assert gf.norm_bound(2.0, [0, 1, 3], "sigmoid") == pytest.approx([1.0, 0.5, 0.125])
    assert gf.norm_bound(0.5, np.arange(3), "tanh") == pytest.approx([1.0, 0.5, 0.25])
    assert gf.GAMMA == {"tanh": 1.0, "sigmoid": 0.25, "linear": 1.0}


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(seed=st.integers(0, 2 ** 32 - 1), sigma=st.floats(0.05, 6.0), activation=st.sampled_from(ACTIVATIONS),
       H=st.integers(1, 5), T=st.integers(1, 6), input_scale=st.floats(0.0, 3.0))
def test_measured_norms_never_exceed_the_bound(seed, sigma, activation, H, T, input_scale):
    """||dh_T/dh_{T-k}||_2 <= (gamma sigma_max)^k for any weights and inputs (Pascanu et al. 2013)."""
    rng = np.random.default_rng(seed)
    W = gf.recurrent_weights(H, sigma, rng)
    decay = gf.measure_gradient_decay(W, T, rng, activation=activation, N=2, input_scale=input_scale)
    assert np.all(decay.norms <= decay.bound * (1 + 1e-10) + 1e-300)


def test_sufficient_condition_forces_vanishing(rng):
    """Below gamma sigma_max = 1 the measured norms fall at least as fast as the bound."""
    W = gf.recurrent_weights(16, 0.9, rng, "orthogonal")
    decay = gf.measure_gradient_decay(W, 50, rng)
    assert decay.typical[50] <= 0.9 ** 50
    assert decay.bound[50] == pytest.approx(0.9 ** 50)


def test_tanh_saturation_makes_gradients_vanish_above_one(rng):
    """The chapter's case: sigma_max = 1.5 > 1 and still vanishing, because tanh saturates."""
    W = gf.recurrent_weights(32, 1.5, np.random.default_rng(1), "orthogonal")
    tanh = gf.measure_gradient_decay(W, 50, np.random.default_rng(2))
    linear = gf.measure_gradient_decay(W, 50, np.random.default_rng(2), activation="linear")
    assert tanh.typical[50] < 1e-2 and tanh.mean_slope < 1 / 1.5
    assert linear.typical[50] == pytest.approx(1.5 ** 50, rel=1e-8)  # the linear one explodes, on its bound


def test_measure_gradient_decay_shapes_and_reproducibility():
    W = gf.recurrent_weights(4, 1.2, np.random.default_rng(0))
    a = gf.measure_gradient_decay(W, 7, np.random.default_rng(1), N=3)
    b = gf.measure_gradient_decay(W, 7, np.random.default_rng(1), N=3)
    assert a.norms.shape == (3, 8) and a.typical.shape == a.bound.shape == a.distance.shape == (8,)
    assert np.array_equal(a.norms, b.norms)
    assert a.sigma_max == pytest.approx(1.2) and a.activation == "tanh" and not a.residual
    assert np.all(a.norms[:, 0] == 1.0) and 0 < a.mean_slope <= 1


def test_measure_gradient_decay_draws_the_documented_inputs():
    """x = input_scale * rng.standard_normal((N, T, H)): chapter 2 feeds the same sequences to an LSTM."""
    W = gf.recurrent_weights(3, 0.8, np.random.default_rng(0))
    decay = gf.measure_gradient_decay(W, 5, np.random.default_rng(7), N=2, input_scale=0.5)
    x = 0.5 * np.random.default_rng(7).standard_normal((2, 5, 3))
    traj = gf.simulate(W, np.eye(3), np.zeros(3), x, np.zeros((2, 3)))
    assert np.array_equal(decay.norms, gf.jacobian_norms(gf.step_jacobians(W, traj.dphi)))


def test_residual_in_time_keeps_the_identity_path(rng):
    """With W_h = 0 the residual Jacobian is exactly I: nothing vanishes, however long the sequence."""
    decay = gf.measure_gradient_decay(np.zeros((3, 3)), 40, rng, residual=True, N=2)
    assert np.allclose(decay.norms, 1.0, rtol=0, atol=1e-14)
    plain = gf.measure_gradient_decay(np.zeros((3, 3)), 40, rng, N=2)
    assert np.all(plain.norms[:, 1:] == 0.0)


def test_typical_norm_is_the_geometric_mean():
    assert gf.typical_norm([[1e-4, 1.0], [1.0, 1.0]]) == pytest.approx([1e-2, 1.0])
    assert gf.typical_norm([0.0, 5.0]) == 0.0


def test_gradient_decay_grid_shares_weights_and_inputs():
    grid = gf.gradient_decay_grid([0.5, 2.0], ["tanh", "linear"], 10, H=4, N=2)
    assert list(grid) == [("tanh", 0.5), ("tanh", 2.0), ("linear", 0.5), ("linear", 2.0)]
    assert grid[("linear", 0.5)].norms[:, 10] == pytest.approx(0.5 ** 10)  # orthogonal by default
    assert grid[("tanh", 2.0)].sigma_max == pytest.approx(2.0)


# ----------------------------------------------------------------------------- the cliff

def test_cliff_gradients_match_finite_differences():
    ws = np.array([0.3, 1.2, 1.85, 2.2, 3.5])
    cliff = gf.cliff_landscape(ws, T=12)
    eps = 1e-6
    plus, minus = gf.cliff_landscape(ws + eps, T=12), gf.cliff_landscape(ws - eps, T=12)
    assert rel_error(cliff.dloss, (plus.loss - minus.loss) / (2 * eps)) < 1e-7
    for m, w in enumerate(ws):  # dL/db by central differences in b
        up, down = gf.cliff_landscape([w], T=12, b=-0.5 + eps), gf.cliff_landscape([w], T=12, b=-0.5 - eps)
        assert cliff.dbias[m] == pytest.approx((up.loss[0] - down.loss[0]) / (2 * eps), rel=1e-6)


def test_cliff_loss_jumps_at_the_bifurcation_and_its_gradient_spikes():
    w_c = gf.bifurcation_weight(-0.5)
    cliff = gf.cliff_landscape(np.linspace(0.0, 4.0, 2001))
    left, right = cliff.w < w_c - 0.05, cliff.w > w_c + 0.05
    assert cliff.loss[left].max() < 0.2 and cliff.loss[right].min() > 1.5
    peak = np.argmax(np.abs(cliff.dloss))
    assert abs(cliff.w[peak] - w_c) < 0.05 and abs(cliff.dloss[peak]) > 100
    assert np.abs(cliff.dloss[left | right]).max() < 10


def test_bifurcation_weight_is_where_the_fixed_point_touches_the_diagonal():
    b = -0.5
    w_c = gf.bifurcation_weight(b)
    assert w_c == pytest.approx(1.95328, abs=1e-4)
    h = np.sqrt(1 - 1 / w_c)  # from w (1 - h^2) = 1
    assert np.tanh(w_c * h + b) == pytest.approx(h, abs=1e-9)
    # Iterate the map for a long time from h0 = 1: below w_c it ends negative, above positive.
    for w, sign in ((w_c - 0.01, -1), (w_c + 0.01, 1)):
        h = 1.0
        for _ in range(5000):
            h = np.tanh(w * h + b)
        assert np.sign(h) == sign


# ----------------------------------------------------------------------------- forgetting and the LSTM cell path

def test_input_gradients_match_finite_differences(rng):
    params = ll.init_params("rnn", 2, 3, rng)
    x, v = rng.standard_normal((2, 4, 2)), rng.standard_normal(3)
    result = gf.input_gradient_by_length("rnn", params, x, v, [1, 3, 4])
    for m, T in enumerate([1, 3, 4]):
        x_T = x[:, :T].copy()

        def loss():
            return float(np.sum(ll.sequence_forward("rnn", params, x_T, np.zeros((2, 3)))[1] @ v))

        numeric = numerical_gradient(loss, x_T)
        assert result.first[m] == pytest.approx(gf.typical_norm(np.linalg.norm(numeric[:, 0], axis=1)), rel=1e-7)
        assert result.last[m] == pytest.approx(gf.typical_norm(np.linalg.norm(numeric[:, -1], axis=1)), rel=1e-7)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_input_gradients_run_for_every_cell(kind, rng):
    params = ll.init_params(kind, 2, 3, rng)
    result = gf.input_gradient_by_length(kind, params, rng.standard_normal((2, 5, 2)), rng.standard_normal(3),
                                         [1, 5])
    assert result.first.shape == result.last.shape == (2,)
    assert result.first[0] == result.last[0]  # with T = 1 the first input is the last


def test_first_input_gradient_of_a_tanh_rnn_dies_with_length(rng):
    params = ll.init_params("rnn", 4, 16, np.random.default_rng(0))
    x, v = np.random.default_rng(1).standard_normal((8, 100, 4)), np.ones(16) / 4
    result = gf.input_gradient_by_length("rnn", params, x, v, [1, 50, 100])
    assert result.first[2] < 1e-10 * result.first[0]
    assert result.last[2] > 0.3 * result.last[0]  # the most recent input still matters


def test_first_input_influence_known_values(rng):
    """T = 1 with W_h = 0: h_1 = tanh(W_x x_1 + b), so the move is the difference of two tanh's."""
    params = ll.init_params("rnn", 2, 3, rng)
    x, x1_new = rng.standard_normal((1, 3, 2)), rng.standard_normal((1, 2))
    b = params["b_x"] + params["b_h"]
    expected = np.linalg.norm(np.tanh(params["W_x"] @ x[0, 0] + b) - np.tanh(params["W_x"] @ x1_new[0] + b))
    assert gf.first_input_influence("rnn", params, x, x1_new, [1])[0] == pytest.approx(expected, rel=1e-12)
    params["W_h"] = np.zeros((3, 3))  # no recurrence: from T = 2 on, h_T does not see x_1 at all
    assert np.all(gf.first_input_influence("rnn", params, x, x1_new, [2, 3]) == 0.0)


def test_a_tanh_rnn_forgets_its_first_input():
    params = ll.init_params("rnn", 4, 16, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    x, x1_new = rng.standard_normal((8, 100, 4)), rng.standard_normal((8, 4))
    moves = gf.first_input_influence("rnn", params, x, x1_new, [1, 10, 100])
    assert moves[0] > 0.1 and moves[2] < 1e-6 * moves[0]


def test_forget_gate_products_are_the_cell_gradient_when_the_state_feeds_nothing_back(rng):
    """With W_h = 0 the gates do not depend on h, and dc_T/dc_0 is exactly the product of forget gates."""
    params = ll.init_params("lstm", 3, 4, rng, forget_bias=1.0)
    params["W_h"] = np.zeros_like(params["W_h"])
    x, h0, c0, g = (rng.standard_normal(s) for s in [(2, 6, 3), (2, 4), (2, 4), (2, 4)])
    products = gf.forget_gate_products(params, x, h0, c0)
    assert products.shape == (2, 7, 4)
    assert np.all(products[:, 0] == 1.0) and np.all((products[:, 1:] > 0) & (products[:, 1:] < 1))
    out, state, cache = ll.sequence_forward("lstm", params, x, (h0, c0))
    _, (_, dc0), _ = ll.sequence_backward("lstm", np.zeros_like(out), (np.zeros((2, 4)), g), cache)
    assert rel_error(products[:, 6] * g, dc0) < 1e-14


def test_forget_gate_products_by_hand(rng):
    params = ll.init_params("lstm", 2, 3, rng)
    x, h0, c0 = rng.standard_normal((1, 3, 2)), np.zeros((1, 3)), np.zeros((1, 3))
    _, _, _, cache = ll.cells.lstm.lstm_forward(params, x, h0, c0)
    f = ll.cells.lstm.split_gates(cache.gates)["f"][:, 0]  # (T, H)
    products = gf.forget_gate_products(params, x, h0, c0)[0]
    assert rel_error(products[2], f[2] * f[1]) < 1e-15 and rel_error(products[3], f[2] * f[1] * f[0]) < 1e-15


# ----------------------------------------------------------------------------- errors

def test_non_square_recurrent_matrix_names_both_shapes(rng):
    message = re.escape("W_h must be a square matrix of shape (3, 3), got (3, 4)")
    with pytest.raises(ValueError, match=message):
        gf.scale_to_spectral_norm(np.ones((3, 4)), 1.0)
    with pytest.raises(ValueError, match=message):
        gf.measure_gradient_decay(np.ones((3, 4)), 5, rng)
    with pytest.raises(ValueError, match=message):
        gf.step_jacobians(np.ones((3, 4)), np.ones((1, 2, 3)))
    with pytest.raises(ValueError, match=message):
        gf.simulate(np.ones((3, 4)), np.ones((3, 2)), np.zeros(3), np.ones((1, 2, 2)), np.zeros((1, 3)))


def test_wrong_shapes_name_the_expected_shape(rng):
    W_h, W_x, b, x, h0 = small_case(rng, N=2, T=3, D=3, H=4)
    with pytest.raises(ValueError, match=re.escape("x must have shape (N, T, 3), got (2, 3, 5)")):
        gf.simulate(W_h, W_x, b, np.ones((2, 3, 5)), h0)
    with pytest.raises(ValueError, match=re.escape("h0 must have shape (2, 4), got (2, 3)")):
        gf.simulate(W_h, W_x, b, x, np.ones((2, 3)))
    with pytest.raises(ValueError, match=re.escape("dphi must have shape (N, T, 4), got (2, 3, 5)")):
        gf.step_jacobians(W_h, np.ones((2, 3, 5)))
    with pytest.raises(ValueError, match=re.escape("jacobians must have shape (N, T, H, H), got (2, 3, 4)")):
        gf.jacobian_norms(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=re.escape("dh_T must have shape (2, 4), got (4,)")):
        gf.rnn_weight_gradient_terms(ll.init_params("rnn", 3, 4, rng), x, h0, np.ones(4))
    with pytest.raises(ValueError, match=re.escape("v must have shape (4,), got (3,)")):
        gf.input_gradient_by_length("rnn", ll.init_params("rnn", 3, 4, rng), x, np.ones(3), [1])


def test_bad_arguments_raise_clear_errors(rng):
    W = np.eye(3)
    with pytest.raises(ValueError, match="activation must be one of"):
        gf.measure_gradient_decay(W, 5, rng, activation="relu")
    with pytest.raises(TypeError, match="activation must be a string"):
        gf.simulate(W, W, np.zeros(3), np.ones((1, 2, 3)), np.zeros((1, 3)), activation=None)
    with pytest.raises(ValueError, match="T must be at least 1, got 0"):
        gf.measure_gradient_decay(W, 0, rng)
    with pytest.raises(TypeError, match="T must be an int, got float"):
        gf.measure_gradient_decay(W, 5.0, rng)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        gf.measure_gradient_decay(W, 5, 0)
    with pytest.raises(ValueError, match="sigma_max must be zero or positive, got -1.0"):
        gf.recurrent_weights(3, -1.0, rng)
    with pytest.raises(ValueError, match="sigma_max must be finite"):
        gf.norm_bound(float("inf"), [1])
    with pytest.raises(ValueError, match="structure must be one of"):
        gf.recurrent_weights(3, 1.0, rng, "diagonal")
    with pytest.raises(ValueError, match=re.escape("need 0 <= s <= t <= T = 2, got s = 2, t = 1")):
        gf.jacobian_product(np.ones((1, 2, 3, 3)), 2, 1)
    with pytest.raises(ValueError, match="all zeros"):
        gf.scale_to_spectral_norm(np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match="b must be negative"):
        gf.bifurcation_weight(0.5)
    with pytest.raises(ValueError, match=re.escape("ws must have shape (M,)")):
        gf.cliff_landscape(np.ones((2, 2)))
    with pytest.raises(ValueError, match="lengths must be a 1-D sequence of ints between 1 and T_max = 3"):
        gf.input_gradient_by_length("rnn", ll.init_params("rnn", 2, 3, rng), np.ones((1, 3, 2)), np.ones(3), [4])
    with pytest.raises(ValueError, match="kind must be one of"):
        gf.input_gradient_by_length("transformer", {}, np.ones((1, 3, 2)), np.ones(3), [1])
    with pytest.raises(ValueError, match="norms must be zero or positive"):
        gf.typical_norm([-1.0, 1.0])
    with pytest.raises(TypeError, match="must be a numeric array"):
        gf.largest_singular_value("W")
