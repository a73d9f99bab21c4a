"""Shapes and dtypes of everything the public functions return, in float64 and float32."""

import numpy as np
import pytest

from cases import KINDS, PARAM_KEYS, VARIANT_IDS, VARIANTS, make_case, make_params, state_arrays
from lessons_lib import sequence_backward, sequence_forward, zero_state
from lessons_lib.cells.gru import GRUCache, GRUStepCache, gru_backward, gru_forward, gru_step_backward, gru_step_forward
from lessons_lib.cells.lstm import LSTMCache, LSTMStepCache, lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from lessons_lib.cells.rnn import RNNCache, RNNStepCache, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

N, T, D, H = 3, 4, 5, 2
DTYPES = (np.float64, np.float32)
CACHE_TYPES = {"rnn": RNNCache, "lstm": LSTMCache, "gru": GRUCache}


def assert_array(a, shape, dtype):
    assert isinstance(a, np.ndarray)
    assert a.shape == shape
    assert a.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_sequence_forward_shapes(kind, options, dtype, rng):
    """sequence_forward returns out (N, T, H) and the state in the form of state0, in the input dtype."""
    params, x, state0, _, _ = make_case(kind, N, T, D, H, rng, dtype)
    out, state, cache = sequence_forward(kind, params, x, state0, **options)
    assert_array(out, (N, T, H), dtype)
    assert isinstance(state, tuple) == (kind == "lstm")
    for s in state_arrays(kind, state):
        assert_array(s, (N, H), dtype)
    assert isinstance(cache, CACHE_TYPES[kind])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", [None, [T, 2, 0]], ids=["full", "lengths"])
@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_sequence_backward_shapes(kind, options, lengths, dtype, rng):
    """sequence_backward returns dx (N, T, D), dstate0 like state0, and one gradient per parameter of its shape."""
    params, x, state0, dout, dstate = make_case(kind, N, T, D, H, rng, dtype)
    _, _, cache = sequence_forward(kind, params, x, state0, lengths, **options)
    dx, dstate0, grads = sequence_backward(kind, dout, dstate, cache)
    assert_array(dx, (N, T, D), dtype)
    assert isinstance(dstate0, tuple) == (kind == "lstm")
    for s in state_arrays(kind, dstate0):
        assert_array(s, (N, H), dtype)
    assert sorted(grads) == sorted(PARAM_KEYS)
    for key in PARAM_KEYS:
        assert_array(grads[key], params[key].shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rnn_family_functions_shapes(dtype, rng):
    """rnn_forward / rnn_backward and the step pair return arrays of the documented shapes."""
    params, x, h0, dout, dh = make_case("rnn", N, T, D, H, rng, dtype)
    out, h_T, cache = rnn_forward(params, x, h0)
    assert_array(out, (N, T, H), dtype)
    assert_array(h_T, (N, H), dtype)
    dx, dh0, grads = rnn_backward(dout, dh, cache)
    assert_array(dx, (N, T, D), dtype)
    assert_array(dh0, (N, H), dtype)
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in params.items()}

    h, step_cache = rnn_step_forward(x[:, 0], h0, params)
    assert_array(h, (N, H), dtype)
    assert isinstance(step_cache, RNNStepCache)
    dx_t, dh_prev, step_grads = rnn_step_backward(dh, step_cache)
    assert_array(dx_t, (N, D), dtype)
    assert_array(dh_prev, (N, H), dtype)
    for k in PARAM_KEYS:
        assert_array(step_grads[k], params[k].shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_family_functions_shapes(dtype, rng):
    """lstm_forward / lstm_backward and the step pair return arrays of the documented shapes."""
    params, x, (h0, c0), dout, (dh, dc) = make_case("lstm", N, T, D, H, rng, dtype)
    out, h_T, c_T, cache = lstm_forward(params, x, h0, c0)
    assert_array(out, (N, T, H), dtype)
    assert_array(h_T, (N, H), dtype)
    assert_array(c_T, (N, H), dtype)
    dx, dh0, dc0, grads = lstm_backward(dout, dh, dc, cache)
    assert_array(dx, (N, T, D), dtype)
    assert_array(dh0, (N, H), dtype)
    assert_array(dc0, (N, H), dtype)
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in params.items()}

    h, c, step_cache = lstm_step_forward(x[:, 0], h0, c0, params)
    assert_array(h, (N, H), dtype)
    assert_array(c, (N, H), dtype)
    assert isinstance(step_cache, LSTMStepCache)
    dx_t, dh_prev, dc_prev, step_grads = lstm_step_backward(dh, dc, step_cache)
    assert_array(dx_t, (N, D), dtype)
    assert_array(dh_prev, (N, H), dtype)
    assert_array(dc_prev, (N, H), dtype)
    for k in PARAM_KEYS:
        assert_array(step_grads[k], params[k].shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [o for k, o in VARIANTS if k == "gru"], ids=VARIANT_IDS[2:])
def test_gru_family_functions_shapes(options, dtype, rng):
    """gru_forward / gru_backward and the step pair return arrays of the documented shapes."""
    params, x, h0, dout, dh = make_case("gru", N, T, D, H, rng, dtype)
    out, h_T, cache = gru_forward(params, x, h0, **options)
    assert_array(out, (N, T, H), dtype)
    assert_array(h_T, (N, H), dtype)
    dx, dh0, grads = gru_backward(dout, dh, cache)
    assert_array(dx, (N, T, D), dtype)
    assert_array(dh0, (N, H), dtype)
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in params.items()}

    h, step_cache = gru_step_forward(x[:, 0], h0, params, **options)
    assert_array(h, (N, H), dtype)
    assert isinstance(step_cache, GRUStepCache)
    dx_t, dh_prev, step_grads = gru_step_backward(dh, step_cache)
    assert_array(dx_t, (N, D), dtype)
    assert_array(dh_prev, (N, H), dtype)
    for k in PARAM_KEYS:
        assert_array(step_grads[k], params[k].shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_zero_state(kind, dtype):
    """zero_state gives zeros of shape (N, H) in the requested dtype, a pair for the LSTM."""
    state = zero_state(kind, N, H, dtype=dtype)
    assert isinstance(state, tuple) == (kind == "lstm")
    for s in state_arrays(kind, state):
        assert_array(s, (N, H), dtype)
        assert not s.any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_integer_and_boolean_inputs_take_the_parameters_dtype(kind, dtype, rng):
    """One-hot (bool) or integer x and an integer state are cast to the parameters' float dtype."""
    params = make_params(kind, D, H, rng, dtype)
    x = np.eye(D, dtype=bool)[rng.integers(0, D, (N, T))]             # (N, T, D) one-hot
    state0 = zero_state(kind, N, H, dtype=np.int64)
    out, state, _ = sequence_forward(kind, params, x, state0)
    ref, _, _ = sequence_forward(kind, params, x.astype(dtype), zero_state(kind, N, H, dtype=dtype))
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("lengths", [None, [T, 2, 0]], ids=["full", "lengths"])
@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_arguments_are_not_modified(kind, options, lengths, rng):
    """Forward and backward leave params, x, state0, dout and dstate untouched."""
    case = make_case(kind, N, T, D, H, rng)
    params, x, state0, dout, dstate = case
    copies = [{k: v.copy() for k, v in params.items()}, x.copy(),
              [s.copy() for s in state_arrays(kind, state0)], dout.copy(),
              [s.copy() for s in state_arrays(kind, dstate)]]
    _, _, cache = sequence_forward(kind, params, x, state0, lengths, **options)
    sequence_backward(kind, dout, dstate, cache)
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(params[k], copies[0][k])
    np.testing.assert_array_equal(x, copies[1])
    np.testing.assert_array_equal(state_arrays(kind, state0), copies[2])
    np.testing.assert_array_equal(dout, copies[3])
    np.testing.assert_array_equal(state_arrays(kind, dstate), copies[4])


@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_returned_arrays_do_not_alias_the_cache(kind, options, rng):
    """Writing into the returned out, state or gradients does not change a later backward pass."""
    params, x, state0, dout, dstate = make_case(kind, N, T, D, H, rng)
    out, state, cache = sequence_forward(kind, params, x, state0, **options)
    first = sequence_backward(kind, dout, dstate, cache)
    expected = [first[0].copy(), [s.copy() for s in state_arrays(kind, first[1])],
                {k: v.copy() for k, v in first[2].items()}]
    out[...] = 7.0
    for s in state_arrays(kind, state):
        s[...] = 7.0
    first[0][...] = 7.0
    for s in state_arrays(kind, first[1]):
        s[...] = 7.0
    for g in first[2].values():
        g[...] = 7.0
    dx, dstate0, grads = sequence_backward(kind, dout, dstate, cache)
    np.testing.assert_array_equal(dx, expected[0])
    np.testing.assert_array_equal(state_arrays(kind, dstate0), expected[1])
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(grads[k], expected[2][k])

