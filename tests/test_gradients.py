"""Finite-difference checks, in float64 on tiny sizes, of every gradient the library computes."""

import numpy as np
import pytest

from cases import (GRAD_TOL, GRU_OPTIONS, PARAM_KEYS, VARIANT_IDS, VARIANTS, make_case, make_params,
                   sequence_fd_errors)
from lessons_lib import check_sequence_gradients, gradient_errors, numerical_gradient, rel_error
from lessons_lib.cells.gru import gru_step_backward, gru_step_forward
from lessons_lib.cells.lstm import lstm_step_backward, lstm_step_forward
from lessons_lib.cells.rnn import rnn_step_backward, rnn_step_forward

N, T, D, H = 3, 4, 3, 4
LENGTHS = [None, [T, 2, 0]]
LENGTH_IDS = ["full", "lengths"]


def assert_all_below(errors, tol=GRAD_TOL):
    bad = {k: f"{v:.1e}" for k, v in errors.items() if not v < tol}
    assert not bad, f"gradients off (rel_error >= {tol:.0e}): {bad}"


@pytest.mark.parametrize("lengths", LENGTHS, ids=LENGTH_IDS)
@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_sequence_gradients_match_finite_differences(kind, options, lengths, rng):
    """dx, dh0 (dc0), dW_x, dW_h, db_x, db_h of sequence_backward agree with central differences."""
    params, x, state0, dout, dstate = make_case(kind, N, T, D, H, rng)
    errors = sequence_fd_errors(kind, options, params, x, state0, dout, dstate, lengths)
    assert sorted(errors) == sorted(["x", "h0", *PARAM_KEYS] + (["c0"] if kind == "lstm" else []))
    assert_all_below(errors)


@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_sequence_gradients_with_saturating_weights(kind, options, rng):
    """The same check with larger weights (scale 1.5), where gates sit near 0 and 1."""
    _, x, state0, dout, dstate = make_case(kind, 2, 3, 2, 3, rng)
    params = make_params(kind, 2, 3, rng, scale=1.5)
    assert_all_below(sequence_fd_errors(kind, options, params, x, state0, dout, dstate, [3, 1]))


def test_rnn_step_gradients(rng):
    """rnn_step_backward's dx, dh_prev and parameter gradients agree with central differences."""
    params = make_params("rnn", D, H, rng)
    x, h_prev, dh = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    _, cache = rnn_step_forward(x, h_prev, params)
    dx, dh_prev, grads = rnn_step_backward(dh, cache)

    def loss():
        return float(np.sum(rnn_step_forward(x, h_prev, params)[0] * dh))

    arrays = {"x": x, "h_prev": h_prev, **params}
    analytic = {"x": dx, "h_prev": dh_prev, **grads}
    assert_all_below({k: rel_error(analytic[k], numerical_gradient(loss, a)) for k, a in arrays.items()})


def test_lstm_step_gradients(rng):
    """lstm_step_backward's dx, dh_prev, dc_prev and parameter gradients agree with central differences."""
    params = make_params("lstm", D, H, rng)
    x, h_prev, c_prev = (rng.standard_normal(s) for s in [(N, D), (N, H), (N, H)])
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    _, _, cache = lstm_step_forward(x, h_prev, c_prev, params)
    dx, dh_prev, dc_prev, grads = lstm_step_backward(dh, dc, cache)

    def loss():
        h, c, _ = lstm_step_forward(x, h_prev, c_prev, params)
        return float(np.sum(h * dh) + np.sum(c * dc))

    arrays = {"x": x, "h_prev": h_prev, "c_prev": c_prev, **params}
    analytic = {"x": dx, "h_prev": dh_prev, "c_prev": dc_prev, **grads}
    assert_all_below({k: rel_error(analytic[k], numerical_gradient(loss, a)) for k, a in arrays.items()})


@pytest.mark.parametrize("options", GRU_OPTIONS, ids=VARIANT_IDS[2:])
def test_gru_step_gradients(options, rng):
    """gru_step_backward's dx, dh_prev and parameter gradients agree with central differences."""
    params = make_params("gru", D, H, rng)
    x, h_prev, dh = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    _, cache = gru_step_forward(x, h_prev, params, **options)
    dx, dh_prev, grads = gru_step_backward(dh, cache)

    def loss():
        return float(np.sum(gru_step_forward(x, h_prev, params, **options)[0] * dh))

    arrays = {"x": x, "h_prev": h_prev, **params}
    analytic = {"x": dx, "h_prev": dh_prev, **grads}
    assert_all_below({k: rel_error(analytic[k], numerical_gradient(loss, a)) for k, a in arrays.items()})


@pytest.mark.parametrize("lengths", [None, [3, 0]], ids=LENGTH_IDS)
@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_check_sequence_gradients_reports_every_gradient(kind, options, lengths, rng):
    """The library's own checker names every gradient and finds them all below 1e-8."""
    params, x, state0, _, _ = make_case(kind, 2, 3, 2, 3, rng)
    errors = check_sequence_gradients(kind, params, x, state0, lengths, rng=np.random.default_rng(1), **options)
    assert sorted(errors) == sorted(["x", "h0", *PARAM_KEYS] + (["c0"] if kind == "lstm" else []))
    assert_all_below(errors)


# ---------------------------------------------------------------------------
# The gradient-checking tools themselves.


def test_numerical_gradient_of_a_cubic(rng):
    """numerical_gradient of sum(x^3) is 3 x^2 (to 1e-8, above rounding and truncation), and x is restored."""
    x = rng.standard_normal((3, 2))
    before = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    np.testing.assert_allclose(grad, 3 * before ** 2, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_uses_the_given_step():
    """For f(x) = x^3 the central difference is 3 x^2 + eps^2 exactly in exact arithmetic."""
    x = np.array([1.0])
    grad = numerical_gradient(lambda: float(x[0] ** 3), x, eps=1e-2)
    np.testing.assert_allclose(grad, [3.0 + 1e-4], rtol=1e-12)


def test_rel_error_known_values():
    """rel_error is ||a - b|| / (||a|| + ||b||): 0 for equal or zero arrays, 1/2 for 1 and 3, 1 for a, -a."""
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [3.0]) == 0.5
    assert rel_error([1.0, -2.0], [-1.0, 2.0]) == 1.0
    assert rel_error([1.0, 0.0], [0.0, 1.0]) == pytest.approx(np.sqrt(2) / 2, rel=1e-15)
    assert isinstance(rel_error([1.0], [2.0]), float)


def test_gradient_errors_flags_a_wrong_gradient(rng):
    """gradient_errors is tiny for the true gradient and large for one off by 1 %."""
    w = rng.standard_normal(4)

    def loss():
        return float(np.sum(np.tanh(w)))

    true = 1.0 - np.tanh(w) ** 2
    assert gradient_errors(loss, {"w": w}, {"w": true})["w"] < GRAD_TOL
    assert gradient_errors(loss, {"w": w}, {"w": 1.01 * true})["w"] > 1e-3
