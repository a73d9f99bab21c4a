"""Step by step versus whole sequence: T calls of *_step_forward are *_forward, and
chaining *_step_backward in reverse reproduces *_backward (dx, carried state gradients,
summed parameter gradients)."""

import numpy as np
import pytest

from cases import GRU_OPTIONS, PARAM_KEYS, VARIANT_IDS, assert_close, make_case
from lessons_lib.cells.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from lessons_lib.cells.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from lessons_lib.cells.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

N, T, D, H = 3, 4, 2, 5
TOL = 1e-13  # the same float64 arithmetic, fused into bigger products in a different order


def summed(grads_per_step):
    return {k: sum(g[k] for g in grads_per_step) for k in PARAM_KEYS}


def assert_grads_close(actual, expected):
    for k in PARAM_KEYS:
        assert_close(actual[k], expected[k], TOL, k)


def test_rnn_steps_equal_sequence(rng):
    """rnn_step_forward T times gives rnn_forward's outputs and final state; the step backward
    chain gives rnn_backward's dx, dh0 and parameter gradients."""
    params, x, h0, dout, dh_T = make_case("rnn", N, T, D, H, rng)
    out, h_T, cache = rnn_forward(params, x, h0)
    dx, dh0, grads = rnn_backward(dout, dh_T, cache)

    h, caches = h0, []
    for t in range(T):
        h, c = rnn_step_forward(x[:, t], h, params)
        assert_close(h, out[:, t], TOL, f"h at t={t}")
        caches.append(c)
    assert_close(h, h_T, TOL, "h_T")

    dh, dxs, step_grads = dh_T, [None] * T, []
    for t in reversed(range(T)):
        dxs[t], dh, g = rnn_step_backward(dout[:, t] + dh, caches[t])
        step_grads.append(g)
    assert_close(np.stack(dxs, axis=1), dx, TOL, "dx")
    assert_close(dh, dh0, TOL, "dh0")
    assert_grads_close(summed(step_grads), grads)


def test_lstm_steps_equal_sequence(rng):
    """lstm_step_forward T times gives lstm_forward's outputs and (h_T, c_T); the step backward
    chain, carrying dh and dc, gives lstm_backward's dx, dh0, dc0 and parameter gradients."""
    params, x, (h0, c0), dout, (dh_T, dc_T) = make_case("lstm", N, T, D, H, rng)
    out, h_T, c_T, cache = lstm_forward(params, x, h0, c0)
    dx, dh0, dc0, grads = lstm_backward(dout, dh_T, dc_T, cache)

    h, c, caches = h0, c0, []
    for t in range(T):
        h, c, step_cache = lstm_step_forward(x[:, t], h, c, params)
        assert_close(h, out[:, t], TOL, f"h at t={t}")
        caches.append(step_cache)
    assert_close(h, h_T, TOL, "h_T")
    assert_close(c, c_T, TOL, "c_T")

    dh, dc, dxs, step_grads = dh_T, dc_T, [None] * T, []
    for t in reversed(range(T)):
        dxs[t], dh, dc, g = lstm_step_backward(dout[:, t] + dh, dc, caches[t])
        step_grads.append(g)
    assert_close(np.stack(dxs, axis=1), dx, TOL, "dx")
    assert_close(dh, dh0, TOL, "dh0")
    assert_close(dc, dc0, TOL, "dc0")
    assert_grads_close(summed(step_grads), grads)


@pytest.mark.parametrize("options", GRU_OPTIONS, ids=VARIANT_IDS[2:])
def test_gru_steps_equal_sequence(options, rng):
    """gru_step_forward T times gives gru_forward's outputs and final state; the step backward
    chain gives gru_backward's dx, dh0 and parameter gradients, in every convention."""
    params, x, h0, dout, dh_T = make_case("gru", N, T, D, H, rng)
    out, h_T, cache = gru_forward(params, x, h0, **options)
    dx, dh0, grads = gru_backward(dout, dh_T, cache)

    h, caches = h0, []
    for t in range(T):
        h, c = gru_step_forward(x[:, t], h, params, **options)
        assert_close(h, out[:, t], TOL, f"h at t={t}")
        caches.append(c)
    assert_close(h, h_T, TOL, "h_T")

    dh, dxs, step_grads = dh_T, [None] * T, []
    for t in reversed(range(T)):
        dxs[t], dh, g = gru_step_backward(dout[:, t] + dh, caches[t])
        step_grads.append(g)
    assert_close(np.stack(dxs, axis=1), dx, TOL, "dx")
    assert_close(dh, dh0, TOL, "dh0")
    assert_grads_close(summed(step_grads), grads)

