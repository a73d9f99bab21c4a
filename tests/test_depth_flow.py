"""Gradients at the input of stacked networks, by depth and distance in time (lessons_lib.analysis.depth_flow)."""

import re

import numpy as np
import pytest

from cases import KINDS, make_params
from lessons_lib import init_stacked, numerical_gradient, rel_error, stacked_forward
from lessons_lib.analysis import depth_flow


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_norms_are_those_of_the_finite_difference_gradient(kind, residual, rng):
    net = [tuple(make_params(kind, 3 if k == 0 else 4, 2, rng) for _ in range(2)) for k in range(3)]
    x = rng.standard_normal((2, 4, 3))
    u = rng.standard_normal((2, 4))

    def loss():
        return float(np.sum(stacked_forward(kind, net, x, residual=residual)[0][:, -1] * u))

    numeric = np.linalg.norm(numerical_gradient(loss, x), axis=2)
    assert rel_error(depth_flow.input_gradient_norms(kind, net, x, u, residual=residual), numeric) < 1e-8


def test_depth_time_rows_are_the_networks_of_init_stacked():
    """Row j is input_gradient_norms of init_stacked(L = depths[j]) from init_seed, geometric mean, by distance."""
    g = depth_flow.depth_time_gradients("rnn", (1, 3), 5, np.random.default_rng(2), D=3, H=4, N=3, init_seed=7)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5, 3))
    u = rng.standard_normal((3, 4))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    net = init_stacked("rnn", 3, 4, 3, False, np.random.default_rng(7))
    norms = depth_flow.input_gradient_norms("rnn", net, x, u)
    np.testing.assert_allclose(g.typical[1], np.exp(np.log(norms).mean(axis=0))[::-1], rtol=1e-12)
    assert g.depths == (1, 3) and g.typical.shape == (2, 5) and list(g.distance) == [0, 1, 2, 3, 4]


def test_residual_keeps_the_gradient_across_depth_and_not_across_time():
    """tanh RNN, H = 16: at distance 0 the plain stack shrinks with depth and the residual one does not;
    the factor per step in time is about the same with and without the connections."""
    kw = dict(D=16, H=16, N=8)
    plain = depth_flow.depth_time_gradients("rnn", (1, 4), 30, np.random.default_rng(1), **kw)
    res = depth_flow.depth_time_gradients("rnn", (1, 4), 30, np.random.default_rng(1), residual=True, **kw)
    assert plain.typical[1, 0] < 0.5 * plain.typical[0, 0]
    assert res.typical[1, 0] > 0.9 * res.typical[0, 0]
    np.testing.assert_array_equal(plain.typical[0], res.typical[0])    # one layer: no connection to add
    f_plain, f_res = depth_flow.factor_per_step(plain.typical, 10), depth_flow.factor_per_step(res.typical, 10)
    assert np.all(f_res < 0.9) and abs(f_res[1] - f_plain[1]) < 0.1


def test_factor_per_step():
    curve = 3.0 * 0.5 ** np.arange(8)
    np.testing.assert_allclose(depth_flow.factor_per_step(curve, 2), 0.5)
    np.testing.assert_allclose(depth_flow.factor_per_step(np.stack([curve, curve ** 2]), 0), [0.5, 0.25])
    with pytest.raises(ValueError, match=re.escape("start must lie in [0, 7) for curves of 8 points, got 7")):
        depth_flow.factor_per_step(curve, 7)


def test_bad_arguments(rng):
    net = init_stacked("gru", 2, 3, 1, False, rng)
    with pytest.raises(ValueError, match=re.escape("u must have shape (N, num_directions * H) = (2, 3), got (2, 6)")):
        depth_flow.input_gradient_norms("gru", net, np.zeros((2, 4, 2)), np.zeros((2, 6)))
    with pytest.raises(TypeError, match=re.escape("rng must be a numpy Generator")):
        depth_flow.depth_time_gradients("gru", (1,), 4, 0)
    with pytest.raises(ValueError, match=re.escape("depths must hold at least one number of layers")):
        depth_flow.depth_time_gradients("gru", (), 4, rng)
