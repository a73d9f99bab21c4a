"""init_params: shapes per scheme, the orthogonal blocks, the forget bias, the bounds, reproducibility,
and no use of numpy's global random state."""

import numpy as np
import pytest

from cases import GATE_COUNT, KINDS, make_case, state_arrays
from lessons_lib import check_sequence_gradients, from_torch_state_dict, init_params, sequence_backward, sequence_forward, to_torch_state_dict, zero_state

SCHEMES = ("uniform", "xavier")
RECURRENT = ("same", "orthogonal")
D, H = 3, 5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("recurrent", RECURRENT)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", KINDS)
def test_shapes_and_dtype(kind, scheme, recurrent, dtype):
    """Every scheme gives W_x (G H, D), W_h (G H, H), b_x and b_h (G H,) in the requested dtype."""
    params = init_params(kind, D, H, np.random.default_rng(0), scheme=scheme, recurrent=recurrent, dtype=dtype)
    G = GATE_COUNT[kind]
    assert {k: v.shape for k, v in params.items()} == {"W_x": (G * H, D), "W_h": (G * H, H),
                                                       "b_x": (G * H,), "b_h": (G * H,)}
    assert all(v.dtype == dtype for v in params.values())


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", KINDS)
def test_orthogonal_blocks_are_orthogonal(kind, scheme):
    """With recurrent="orthogonal" each (H, H) gate block Q of W_h has Q^T Q = Q Q^T = I, and the blocks differ."""
    params = init_params(kind, D, H, np.random.default_rng(1), scheme=scheme, recurrent="orthogonal")
    blocks = np.split(params["W_h"], GATE_COUNT[kind])
    for Q in blocks:
        np.testing.assert_allclose(Q.T @ Q, np.eye(H), rtol=0, atol=1e-13)
        np.testing.assert_allclose(Q @ Q.T, np.eye(H), rtol=0, atol=1e-13)
    for a, b in zip(blocks, blocks[1:]):
        assert not np.allclose(a, b)


def test_same_recurrent_blocks_are_not_orthogonal():
    """Without the option, W_h's blocks are plain uniform draws (the orthogonality test is not vacuous)."""
    params = init_params("rnn", D, H, np.random.default_rng(1))
    assert not np.allclose(params["W_h"].T @ params["W_h"], np.eye(H), atol=1e-2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("forget_bias", [1.0, -0.5, 0.0])
def test_forget_bias_sets_the_total_forget_bias(forget_bias, scheme, dtype):
    """forget_bias sets b_x + b_h on rows H..2H (the f gate) and leaves the other gates' biases alone."""
    rng_a, rng_b = np.random.default_rng(2), np.random.default_rng(2)
    params = init_params("lstm", D, H, rng_a, scheme=scheme, forget_bias=forget_bias, dtype=dtype)
    plain = init_params("lstm", D, H, rng_b, scheme=scheme, dtype=dtype)
    total = params["b_x"] + params["b_h"]
    np.testing.assert_array_equal(total[H:2 * H], np.full(H, forget_bias, dtype=dtype))
    for rows in (slice(0, H), slice(2 * H, 4 * H)):
        np.testing.assert_array_equal(params["b_x"][rows], plain["b_x"][rows])
        np.testing.assert_array_equal(params["b_h"][rows], plain["b_h"][rows])
    for k in ("W_x", "W_h"):
        np.testing.assert_array_equal(params[k], plain[k])


def test_forget_bias_opens_the_forget_gate():
    """With a large forget bias and zero weights the LSTM carries c0 almost unchanged (f = sigma(bias))."""
    params = init_params("lstm", D, H, np.random.default_rng(3), forget_bias=3.0)
    params = {k: (v if k.startswith("b") else np.zeros_like(v)) for k, v in params.items()}
    params["b_x"][:H] = params["b_h"][:H] = -20.0  # close the input gate
    c0 = np.ones((1, H))
    _, (_, c_T), _ = sequence_forward("lstm", params, np.zeros((1, 1, D)), (np.zeros((1, H)), c0))
    np.testing.assert_allclose(c_T, c0 / (1 + np.exp(-3.0)), rtol=1e-8)


@pytest.mark.parametrize("kind", KINDS)
def test_uniform_bound_is_one_over_sqrt_h(kind):
    """The uniform scheme (PyTorch's default) draws every entry from U(-1/sqrt(H), 1/sqrt(H)) and fills it."""
    Hbig = 16
    params = init_params(kind, 4, Hbig, np.random.default_rng(4))
    bound = 1.0 / np.sqrt(Hbig)
    everything = np.concatenate([v.ravel() for v in params.values()])
    assert np.abs(everything).max() <= bound
    assert everything.max() > 0.95 * bound and everything.min() < -0.95 * bound
    assert abs(everything.mean()) < 0.1 * bound


@pytest.mark.parametrize("kind", KINDS)
def test_xavier_bounds_and_zero_biases(kind):
    """Xavier: W_x within sqrt(6 / (D + H)), W_h within sqrt(6 / (2 H)), both biases zero."""
    Dbig, Hbig = 6, 10
    params = init_params(kind, Dbig, Hbig, np.random.default_rng(5), scheme="xavier")
    a_x, a_h = np.sqrt(6.0 / (Dbig + Hbig)), np.sqrt(6.0 / (2 * Hbig))
    assert np.abs(params["W_x"]).max() <= a_x and np.abs(params["W_x"]).max() > 0.9 * a_x
    assert np.abs(params["W_h"]).max() <= a_h and np.abs(params["W_h"]).max() > 0.9 * a_h
    assert not params["b_x"].any() and not params["b_h"].any()


@pytest.mark.parametrize("recurrent", RECURRENT)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_params(kind, scheme, recurrent):
    """Two generators with the same seed give identical parameters; another seed gives others."""
    a = init_params(kind, D, H, np.random.default_rng(6), scheme=scheme, recurrent=recurrent)
    b = init_params(kind, D, H, np.random.default_rng(6), scheme=scheme, recurrent=recurrent)
    c = init_params(kind, D, H, np.random.default_rng(7), scheme=scheme, recurrent=recurrent)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["W_x"], c["W_x"])


def test_float32_params_are_the_float64_ones_rounded():
    """dtype=float32 rounds the same draws rather than drawing others."""
    a = init_params("gru", D, H, np.random.default_rng(8), recurrent="orthogonal")
    b = init_params("gru", D, H, np.random.default_rng(8), recurrent="orthogonal", dtype=np.float32)
    for k in a:
        np.testing.assert_array_equal(b[k], a[k].astype(np.float32))


def global_state():
    state = np.random.get_state()
    return state[0], state[1].copy(), state[2:]


def assert_same_global_state(before, after):
    assert before[0] == after[0] and before[2] == after[2]
    np.testing.assert_array_equal(before[1], after[1])


@pytest.mark.parametrize("kind", KINDS)
def test_library_never_touches_the_global_random_state(kind):
    """init_params (every option), forward, backward, the gradient checker and the torch seam leave
    np.random's global state exactly as they found it."""
    np.random.seed(12345)
    before = global_state()
    rng = np.random.default_rng(9)
    for scheme in SCHEMES:
        for recurrent in RECURRENT:
            init_params(kind, D, H, rng, scheme=scheme, recurrent=recurrent,
                        forget_bias=1.0 if kind == "lstm" else None)
    params, x, state0, dout, dstate = make_case(kind, 2, 3, D, H, rng)
    _, _, cache = sequence_forward(kind, params, x, state0, [3, 1])
    sequence_backward(kind, dout, dstate, cache)
    check_sequence_gradients(kind, params, x, state0)
    from_torch_state_dict(kind, to_torch_state_dict(kind, params))
    zero_state(kind, 2, H)
    assert_same_global_state(before, global_state())


def test_init_params_does_not_depend_on_the_global_seed():
    """Reseeding np.random between two calls with equal generators changes nothing."""
    np.random.seed(0)
    a = init_params("lstm", D, H, np.random.default_rng(10), recurrent="orthogonal")
    np.random.seed(1)
    b = init_params("lstm", D, H, np.random.default_rng(10), recurrent="orthogonal")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize("kind", KINDS)
def test_initial_params_run(kind):
    """Parameters from every scheme run through forward and backward to finite values."""
    rng = np.random.default_rng(11)
    for scheme in SCHEMES:
        params = init_params(kind, D, H, rng, scheme=scheme)
        out, state, cache = sequence_forward(kind, params, rng.standard_normal((2, 3, D)), zero_state(kind, 2, H))
        dx, _, grads = sequence_backward(kind, np.ones_like(out), zero_state(kind, 2, H), cache)
        assert np.all(np.isfinite(dx)) and all(np.all(np.isfinite(g)) for g in grads.values())
        assert all(np.all(np.isfinite(s)) for s in state_arrays(kind, state))
