"""Residual connections between stacked layers, and the finite-difference check of stacked networks.

``stacked_forward(..., residual=True)`` adds each layer's input to its output
for every layer above the first; ``lessons_lib.check_stacked_gradients`` checks
every gradient of ``stacked_backward`` against central differences.
"""

import re

import numpy as np
import pytest

from cases import GRAD_TOL, KINDS, PARAM_KEYS, make_params, pack_state, state_arrays
from lessons_lib import (
    check_stacked_gradients,
    numerical_gradient,
    rel_error,
    sequence_forward,
    stacked_backward,
    stacked_forward,
)


def make_net(kind, D, H, L, nd, rng):
    return [tuple(make_params(kind, D if k == 0 else nd * H, H, rng) for _ in range(nd)) for k in range(L)]


def make_state(kind, L, nd, N, H, rng):
    return pack_state(kind, [rng.standard_normal((L * nd, N, H)) for _ in range(2 if kind == "lstm" else 1)])


@pytest.mark.parametrize("kind", KINDS)
def test_residual_adds_each_layers_input_above_the_first(kind, rng):
    """A 3-layer bidirectional residual net rebuilt by hand: out_k = layer_k(in_k) + in_k for k >= 1 only."""
    N, T, D, H, L = 2, 4, 3, 2, 3
    net = make_net(kind, D, H, L, 2, rng)
    x = rng.standard_normal((N, T, D))
    out, _, _ = stacked_forward(kind, net, x, residual=True)

    zero = pack_state(kind, [np.zeros((N, H)) for _ in range(2 if kind == "lstm" else 1)])
    inputs = x
    for k in range(L):
        fwd = sequence_forward(kind, net[k][0], inputs, zero)[0]
        rev = sequence_forward(kind, net[k][1], inputs[:, ::-1], zero)[0][:, ::-1]
        layer_out = np.concatenate([fwd, rev], axis=2)
        inputs = layer_out + inputs if k > 0 else layer_out
    np.testing.assert_allclose(out, inputs, rtol=0, atol=1e-14)
    plain, _, _ = stacked_forward(kind, net, x)
    assert rel_error(out, plain) > 1e-3


def test_residual_is_off_by_default_and_changes_nothing_for_one_layer(rng):
    net = make_net("gru", 3, 2, 2, 2, rng)
    x = rng.standard_normal((2, 5, 3))
    np.testing.assert_array_equal(stacked_forward("gru", net, x)[0], stacked_forward("gru", net, x, residual=False)[0])
    np.testing.assert_array_equal(stacked_forward("gru", net[:1], x)[0],
                                  stacked_forward("gru", net[:1], x, residual=True)[0])
    assert stacked_forward("gru", net, x)[2].residual is False


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("kind", KINDS)
def test_residual_gradients_match_finite_differences(kind, bidirectional, with_lengths, rng):
    """Every gradient of a 3-layer residual net (two connections), with and without lengths."""
    nd = 2 if bidirectional else 1
    net = make_net(kind, 2, 2, 3, nd, rng)
    x = rng.standard_normal((3, 3, 2))
    state0 = make_state(kind, 3, nd, 3, 2, rng)
    lengths = np.array([3, 0, 2]) if with_lengths else None
    errors = check_stacked_gradients(kind, net, x, state0, lengths, residual=True)
    assert len(errors) == 1 + (2 if kind == "lstm" else 1) + 4 * 3 * nd
    bad = {k: f"{v:.1e}" for k, v in errors.items() if not v < GRAD_TOL}
    assert not bad, f"gradients off: {bad}"


@pytest.mark.parametrize("kind", KINDS)
def test_residual_with_dropout_matches_finite_differences(kind, rng):
    """Residual connections and dropout masks together (masks fixed by re-seeding each forward pass)."""
    net = make_net(kind, 2, 2, 3, 2, rng)
    x = rng.standard_normal((2, 3, 2))
    dout = rng.standard_normal((2, 3, 4))

    def forward():
        return stacked_forward(kind, net, x, None, np.array([3, 2]), dropout=0.5, rng=np.random.default_rng(3),
                               residual=True)

    def loss():
        return float(np.sum(forward()[0] * dout))

    dx, _, grads = stacked_backward(kind, dout, None, forward()[2])
    assert rel_error(dx, numerical_gradient(loss, x)) < GRAD_TOL
    for k in range(3):
        for d in range(2):
            for key in PARAM_KEYS:
                err = rel_error(grads[k][d][key], numerical_gradient(loss, net[k][d][key]))
                assert err < GRAD_TOL, (k, d, key, err)


def test_a_backward_without_the_identity_path_is_caught(rng):
    """The check is not vacuous: the backward pass of the plain net, on the residual forward pass, fails it."""
    net = make_net("rnn", 2, 3, 2, 1, rng)
    x = rng.standard_normal((2, 3, 2))
    dout = rng.standard_normal((2, 3, 3))
    out, _, cache = stacked_forward("rnn", net, x, residual=True)
    dx_wrong, _, _ = stacked_backward("rnn", dout, None, cache._replace(residual=False))
    dx_right, _, _ = stacked_backward("rnn", dout, None, cache)
    numeric = numerical_gradient(lambda: float(np.sum(stacked_forward("rnn", net, x, residual=True)[0] * dout)), x)
    assert rel_error(dx_right, numeric) < GRAD_TOL
    assert rel_error(dx_wrong, numeric) > 1e-3


def test_check_stacked_gradients_passes_the_library_and_reports_every_array(rng):
    """No state0: no h0 entry; the names are net[k][d][key]; a small bidirectional LSTM agrees."""
    net = make_net("lstm", 2, 2, 2, 2, rng)
    errors = check_stacked_gradients("lstm", net, rng.standard_normal((2, 3, 2)), lengths=np.array([3, 1]))
    assert sorted(errors) == sorted(["x"] + [f"net[{k}][{d}][{key}]" for k in range(2) for d in range(2)
                                             for key in PARAM_KEYS])
    assert max(errors.values()) < GRAD_TOL


def test_bad_residual_and_dropout_in_the_check(rng):
    net = make_net("gru", 2, 2, 2, 1, rng)
    x = rng.standard_normal((1, 2, 2))
    with pytest.raises(TypeError, match=re.escape("residual must be True or False, got int")):
        stacked_forward("gru", net, x, residual=1)
    with pytest.raises(TypeError, match=re.escape("check_stacked_gradients does not take dropout")):
        check_stacked_gradients("gru", net, x, dropout=0.5, rng=rng)


def test_residual_final_states_are_the_layers_own(rng):
    """The connection changes what the layers above read, not where the states are taken."""
    net = make_net("lstm", 3, 2, 2, 1, rng)
    x = rng.standard_normal((2, 4, 3))
    _, state, _ = stacked_forward("lstm", net, x, residual=True)
    out0, s0, _ = sequence_forward("lstm", net[0][0], x, (np.zeros((2, 2)), np.zeros((2, 2))))
    _, s1, _ = sequence_forward("lstm", net[1][0], out0, (np.zeros((2, 2)), np.zeros((2, 2))))
    for j in range(2):
        np.testing.assert_allclose(state_arrays("lstm", state)[j], np.stack([s0[j], s1[j]]), rtol=0, atol=1e-14)
