"""The minimal gated cells minGRU and minLSTM (Feng et al. 2024), lessons_lib.cells.min_cells.

Shapes; values worked out by hand; finite differences in float64 of the step and of the sequence backward
(every parameter, x and h0, with and without lengths, every method); step by step against the whole
sequence; the methods against each other; lengths; their place in the dispatch, initialisation, gradient
checks and adding-problem training; a property sweep; bad input.
"""

import numpy as np
import pytest

from lessons_lib import (
    check_sequence_gradients,
    gradient_errors,
    init_params,
    init_stacked,
    mingru_backward,
    mingru_forward,
    minlstm_backward,
    minlstm_forward,
    sequence_backward,
    sequence_forward,
    to_torch_state_dict,
    zero_state,
)
from lessons_lib.cells.linear_recurrence import METHODS
from lessons_lib.cells.min_cells import GATE_COUNT, MinCellCache, min_step_backward, min_step_forward
from lessons_lib.tasks import adding_problem

GRAD_TOL = 1e-8
KINDS = ("mingru", "minlstm")
N, T, D, H = 3, 4, 3, 4


def make_params(kind, D, H, rng, scale=0.7, dtype=np.float64):
    """Random W_x (G H, D) and b_x (G H,), drawn here rather than by init_params."""
    G = GATE_COUNT[kind]
    return {"W_x": (scale * rng.standard_normal((G * H, D))).astype(dtype),
            "b_x": (scale * rng.standard_normal(G * H)).astype(dtype)}


def make_case(kind, N, T, D, H, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = make_params(kind, D, H, rng, dtype=dtype)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    return params, x, h0


def sigmoid(u):
    return 1.0 / (1.0 + np.exp(-u))


def reference(kind, params, x, h0):
    """The cell's equations written out step by step (the paper's sequential mode), independently of the library."""
    W, bias = params["W_x"], params["b_x"]
    Hn = h0.shape[1]
    h, out = h0.copy(), []
    for t in range(x.shape[1]):
        pre = x[:, t] @ W.T + bias
        if kind == "mingru":
            z, h_tilde = sigmoid(pre[:, :Hn]), pre[:, Hn:]
            h = (1 - z) * h + z * h_tilde
        else:
            f, i, h_tilde = sigmoid(pre[:, :Hn]), sigmoid(pre[:, Hn:2 * Hn]), pre[:, 2 * Hn:]
            h = f / (f + i) * h + i / (f + i) * h_tilde
        out.append(h)
    return np.stack(out, axis=1)


# ------------------------------------------------------------------------------------ shapes, known values

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS)
def test_shapes_and_dtypes(kind, dtype, method):
    params, x, h0 = make_case(kind, 2, 5, 3, 4, dtype=dtype)
    out, h_T, cache = sequence_forward(kind, params, x, h0, method=method)
    assert out.shape == (2, 5, 4) and h_T.shape == (2, 4) and isinstance(cache, MinCellCache)
    assert out.dtype == h_T.dtype == dtype
    dx, dh0, grads = sequence_backward(kind, np.ones_like(out), np.ones_like(h_T), cache)
    assert dx.shape == x.shape and dh0.shape == h0.shape and sorted(grads) == ["W_x", "b_x"]
    assert all(grads[k].shape == params[k].shape and grads[k].dtype == dtype for k in grads)
    assert dx.dtype == dh0.dtype == dtype


def test_mingru_values_worked_out_by_hand():
    # D = H = 1.  z = sigma(0 x + 0) = 1/2, h~ = 1 x + 0, so h_t = h_{t-1} / 2 + x_t / 2.
    # x = (2, 4), h0 = 0: h1 = 1, h2 = 1/2 + 2 = 2.5.
    params = {"W_x": np.array([[0.0], [1.0]]), "b_x": np.array([0.0, 0.0])}
    out, h_T, _ = mingru_forward(params, np.array([[[2.0], [4.0]]]), np.zeros((1, 1)))
    np.testing.assert_allclose(out[0, :, 0], [1.0, 2.5], rtol=1e-15)
    # b_z = log 3: z = 3/4 writes, 1 - z = 1/4 keeps.  x = (4,), h0 = 8: h1 = 8/4 + 3 = 5.
    params = {"W_x": np.array([[0.0], [1.0]]), "b_x": np.array([np.log(3.0), 0.0])}
    _, h_T, _ = mingru_forward(params, np.array([[[4.0]]]), np.array([[8.0]]))
    np.testing.assert_allclose(h_T, [[5.0]], rtol=1e-15)


def test_minlstm_values_worked_out_by_hand():
    # D = H = 1.  f = sigma(log 3) = 3/4, i = sigma(0) = 1/2: f' = 0.75 / 1.25 = 0.6, i' = 0.4; h~ = x.
    # x = (1, 2), h0 = 1: h1 = 0.6 + 0.4 = 1, h2 = 0.6 + 0.8 = 1.4.
    params = {"W_x": np.array([[0.0], [0.0], [1.0]]), "b_x": np.array([np.log(3.0), 0.0, 0.0])}
    out, h_T, _ = minlstm_forward(params, np.array([[[1.0], [2.0]]]), np.ones((1, 1)))
    np.testing.assert_allclose(out[0, :, 0], [1.0, 1.4], rtol=1e-15)
    # Backward of L = h2: dh1 = f'_2 = 0.6; dh0 = f'_1 dh1 = 0.36; dh~ = i' per step: d W_h~ = 0.4 x_2 + 0.4 * 0.6 x_1
    _, dh0, grads = minlstm_backward(np.array([[[0.0], [1.0]]]), np.zeros((1, 1)),
                                     minlstm_forward(params, np.array([[[1.0], [2.0]]]), np.ones((1, 1)))[2])
    np.testing.assert_allclose(dh0, [[0.36]], rtol=1e-14)
    np.testing.assert_allclose(grads["W_x"][2, 0], 0.4 * 2.0 + 0.4 * 0.6 * 1.0, rtol=1e-14)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_method_agrees_with_the_equations_step_by_step(kind, method):
    params, x, h0 = make_case(kind, 2, 13, 3, 4, seed=5)
    out, h_T, _ = sequence_forward(kind, params, x, h0, method=method)
    want = reference(kind, params, x, h0)
    assert np.max(np.abs(out - want)) < 1e-12 and np.max(np.abs(h_T - want[:, -1])) < 1e-12


@pytest.mark.parametrize("kind", KINDS)
def test_scan_and_loop_give_the_same_gradients(kind):
    params, x, h0 = make_case(kind, 2, 30, 3, 4, seed=6)
    rng = np.random.default_rng(1)
    dout, dh = rng.standard_normal((2, 30, 4)), rng.standard_normal((2, 4))
    results = []
    for method in METHODS:
        _, _, cache = sequence_forward(kind, params, x, h0, [30, 17], method=method)
        results.append(sequence_backward(kind, dout, dh, cache))
    for dx, dh0, grads in results[1:]:
        assert np.max(np.abs(dx - results[0][0])) < 1e-12 and np.max(np.abs(dh0 - results[0][1])) < 1e-12
        assert all(np.max(np.abs(grads[k] - results[0][2][k])) < 1e-12 for k in grads)


def test_minlstm_normalised_gates_survive_underflow():
    """Both gates' pre-activations at -800: f and i underflow to 0, but f' = f / (f + i) stays defined (here 1/2)."""
    params = {"W_x": np.zeros((3, 1)), "b_x": np.array([-800.0, -800.0, 0.0])}
    out, _, cache = minlstm_forward(params, np.ones((1, 2, 1)), np.full((1, 1), 4.0))
    np.testing.assert_allclose(out[0, :, 0], [2.0, 1.0], rtol=1e-15)      # h_t = h_{t-1} / 2 + 0 / 2
    dx, dh0, grads = minlstm_backward(np.ones_like(out), np.zeros((1, 1)), cache)
    assert all(np.all(np.isfinite(g)) for g in (dx, dh0, *grads.values()))


# -------------------------------------------------------------------------------- finite differences

def _fd_errors(kind, params, x, h0, lengths, method, seed=0):
    """Relative errors of sequence_backward against central differences of L = sum(out * dout) + sum(h_T * dh)."""
    rng = np.random.default_rng(seed)
    out, h_T, cache = sequence_forward(kind, params, x, h0, lengths, method=method)
    dout, dh = rng.standard_normal(out.shape), rng.standard_normal(h_T.shape)

    def loss():
        o, s, _ = sequence_forward(kind, params, x, h0, lengths, method=method)
        return float(np.sum(o * dout) + np.sum(s * dh))

    dx, dh0, grads = sequence_backward(kind, dout, dh, cache)
    return gradient_errors(loss, {"x": x, "h0": h0, **params}, {"x": dx, "h0": dh0, **grads})


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("lengths", [None, [T, 2, 0]], ids=["full", "lengths"])
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_gradients_match_finite_differences(kind, lengths, method):
    params, x, h0 = make_case(kind, N, T, D, H, seed=3)
    errors = _fd_errors(kind, params, x, h0, lengths, method)
    assert sorted(errors) == ["W_x", "b_x", "h0", "x"]
    assert max(errors.values()) < GRAD_TOL, errors


@pytest.mark.parametrize("kind", KINDS)
def test_sequence_gradients_with_saturated_gates(kind):
    """Large weights put the gates near 0 and 1, where a wrong derivative of sigma shows most."""
    rng = np.random.default_rng(4)
    params = make_params(kind, 2, 3, rng, scale=3.0)
    x, h0 = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3))
    errors = _fd_errors(kind, params, x, h0, [3, 1], "scan")
    assert max(errors.values()) < GRAD_TOL, errors


@pytest.mark.parametrize("kind", KINDS)
def test_check_sequence_gradients_takes_the_minimal_cells(kind):
    params, x, h0 = make_case(kind, 2, 3, 2, 3, seed=8)
    for lengths in (None, [3, 1]):
        errors = check_sequence_gradients(kind, params, x, h0, lengths, method="doubling")
        assert sorted(errors) == ["W_x", "b_x", "h0", "x"] and max(errors.values()) < GRAD_TOL, errors


@pytest.mark.parametrize("kind", KINDS)
def test_step_gradients_match_finite_differences(kind):
    rng = np.random.default_rng(9)
    params = make_params(kind, D, H, rng)
    x, h_prev, dh = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    _, cache = min_step_forward(kind, x, h_prev, params)
    dx, dh_prev, grads = min_step_backward(dh, cache)

    def loss():
        return float(np.sum(min_step_forward(kind, x, h_prev, params)[0] * dh))

    errors = gradient_errors(loss, {"x": x, "h_prev": h_prev, **params}, {"x": dx, "h_prev": dh_prev, **grads})
    assert max(errors.values()) < GRAD_TOL, errors


# --------------------------------------------------------------------------------- step against sequence

@pytest.mark.parametrize("kind", KINDS)
def test_steps_one_by_one_give_the_sequence_and_its_gradients(kind):
    params, x, h0 = make_case(kind, N, 6, D, H, seed=11)
    rng = np.random.default_rng(12)
    dout, dh_T = rng.standard_normal((N, 6, H)), rng.standard_normal((N, H))
    out, h_T, cache = sequence_forward(kind, params, x, h0)
    h, caches = h0, []
    for t in range(6):
        h, c = min_step_forward(kind, x[:, t], h, params)
        caches.append(c)
        np.testing.assert_allclose(h, out[:, t], rtol=1e-13, atol=1e-14)
    dx, dh0, grads = sequence_backward(kind, dout, dh_T, cache)
    carried, total = dh_T, {k: np.zeros_like(v) for k, v in params.items()}
    for t in reversed(range(6)):
        dx_t, carried, g = min_step_backward(dout[:, t] + carried, caches[t])
        np.testing.assert_allclose(dx_t, dx[:, t], rtol=1e-12, atol=1e-13)
        total = {k: total[k] + g[k] for k in total}
    np.testing.assert_allclose(carried, dh0, rtol=1e-12, atol=1e-13)
    for k in total:
        np.testing.assert_allclose(total[k], grads[k], rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------------------------- lengths

@pytest.mark.parametrize("kind", KINDS)
def test_a_short_sequence_in_a_batch_is_as_if_run_alone(kind):
    params, x, h0 = make_case(kind, 3, 7, D, H, seed=13)
    lengths = [7, 4, 0]
    out, h_T, _ = sequence_forward(kind, params, x, h0, lengths)
    for n, L in enumerate(lengths):
        alone, h_alone, _ = sequence_forward(kind, params, x[n:n + 1, :L], h0[n:n + 1], method="loop")
        np.testing.assert_allclose(out[n, :L], alone[0], rtol=1e-13, atol=1e-14)
        assert np.all(out[n, L:] == 0.0)
        np.testing.assert_allclose(h_T[n], h_alone[0], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_sequence_passes_its_state_and_gradient_through(kind):
    params, _, h0 = make_case(kind, 2, 1, D, H)
    out, h_T, cache = sequence_forward(kind, params, np.zeros((2, 0, D)), h0)
    assert out.shape == (2, 0, H) and np.array_equal(h_T, h0)
    dx, dh0, grads = sequence_backward(kind, np.zeros((2, 0, H)), np.ones((2, H)), cache)
    assert dx.shape == (2, 0, D) and np.array_equal(dh0, np.ones((2, H)))
    assert all(np.all(g == 0.0) for g in grads.values())


# --------------------------------------------------------------------------------------- initialisation

def test_init_params_of_the_minimal_cells():
    rng = np.random.default_rng(0)
    p = init_params("mingru", 2, 5, rng)
    assert sorted(p) == ["W_x", "b_x"] and p["W_x"].shape == (10, 2) and p["b_x"].shape == (10,)
    assert np.max(np.abs(p["W_x"])) <= 1 / np.sqrt(2) and np.max(np.abs(p["b_x"])) <= 1 / np.sqrt(2)
    assert init_params("minlstm", 3, 4, rng, dtype=np.float32)["W_x"].shape == (12, 3)
    assert init_params("minlstm", 3, 4, rng, dtype=np.float32)["W_x"].dtype == np.float32
    xavier = init_params("minlstm", 3, 4, rng, scheme="xavier")
    assert np.all(xavier["b_x"] == 0.0) and np.max(np.abs(xavier["W_x"])) <= np.sqrt(6 / 7)


def test_the_update_bias_makes_the_mingru_start_out_remembering():
    """update_bias sets b_z and nothing else: the same draws otherwise; with x = 0 the cell keeps 1 - sigma(-3)."""
    plain = init_params("mingru", 2, 5, np.random.default_rng(1))
    biased = init_params("mingru", 2, 5, np.random.default_rng(1), update_bias=-3.0)
    assert np.all(biased["b_x"][:5] == -3.0) and np.array_equal(biased["b_x"][5:], plain["b_x"][5:])
    assert np.array_equal(biased["W_x"], plain["W_x"])
    h0 = np.ones((1, 5))
    _, h_T, _ = mingru_forward(biased, np.zeros((1, 10, 2)), h0)
    keep = 1 - 1 / (1 + np.exp(3.0))
    h_tilde = biased["b_x"][5:]
    np.testing.assert_allclose(h_T[0], keep ** 10 + (1 - keep ** 10) * h_tilde, rtol=1e-12)
    biased_f = init_params("minlstm", 2, 5, np.random.default_rng(1), forget_bias=2.0)
    assert np.all(biased_f["b_x"][:5] == 2.0)


@pytest.mark.parametrize("kind, options, message", [
    ("gru", {"update_bias": -3.0}, "update_bias applies to a minGRU only, not to 'gru'"),
    ("minlstm", {"update_bias": -3.0}, "update_bias applies to a minGRU only, not to 'minlstm'"),
    ("mingru", {"forget_bias": 1.0}, "forget_bias applies to an LSTM only, not to 'mingru' (a minLSTM takes it "
                                     "too, for its forget gate; the minGRU's counterpart is update_bias)"),
    ("mingru", {"recurrent": "orthogonal"}, "recurrent='orthogonal' needs recurrent weights, which 'mingru' does not"),
    ("minlstm", {"chrono": 100.0}, "chrono applies to an LSTM only, not to 'minlstm'"),
])
def test_init_options_that_do_not_apply_are_refused(kind, options, message):
    with pytest.raises(ValueError) as info:
        init_params(kind, 2, 3, np.random.default_rng(0), **options)
    assert message in str(info.value)


# ------------------------------------------------------------------------------------- the rest of the library

@pytest.mark.parametrize("kind", KINDS)
def test_dispatch_and_per_cell_functions_agree(kind):
    params, x, h0 = make_case(kind, 2, 5, D, H, seed=14)
    forward, backward = {"mingru": (mingru_forward, mingru_backward), "minlstm": (minlstm_forward,
                                                                                 minlstm_backward)}[kind]
    out, h_T, cache = forward(params, x, h0)
    out2, h_T2, cache2 = sequence_forward(kind, params, x, h0)
    assert np.array_equal(out, out2) and np.array_equal(h_T, h_T2)
    dout = np.ones_like(out)
    for got, want in zip(backward(dout, h_T, cache)[:2], sequence_backward(kind, dout, h_T, cache2)[:2]):
        assert np.array_equal(got, want)
    assert zero_state(kind, 2, H).shape == (2, H)


def test_adding_problem_trains_a_mingru_and_its_row_names_the_init():
    """A few hundred steps at T = 10 solve the adding problem with the remembering minGRU; the row says how it began."""
    row = adding_problem.run_adding("mingru", 10, 0.02, 0, 400, update_bias=-3.0)
    assert row["cell"] == "mingru" and row["update_bias"] == -3.0 and row["forget_bias"] is None
    assert row["solved"] and row["test_nmse"] < adding_problem.SOLVED_NMSE
    classic = adding_problem.run_adding("gru", 10, 0.02, 0, 10, stop_nmse=None)
    assert "update_bias" not in classic                     # the classic rows keep the keys of results/adding.json
    model, history = adding_problem.train_adding("minlstm", 10, 0, 30, forget_bias=1.0,
                                                 cell_options={"method": "loop"})
    assert sorted(model) == ["W_x", "W_y", "b_x", "b_y"] and len(history.loss) == 30
    with pytest.raises(ValueError, match="update_bias is an option of the minGRU only, got it for 'lstm'"):
        adding_problem.run_adding("lstm", 10, 0.01, 0, 10, update_bias=-3.0)


# ------------------------------------------------------------------------------------------ property sweep

hypothesis = pytest.importorskip("hypothesis", reason="the property sweep needs hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def problems(draw):
    kind = draw(st.sampled_from(KINDS))
    n, t, d, h = (draw(st.integers(1, 4)) for _ in range(4))
    lengths = draw(st.none() | st.lists(st.integers(0, t), min_size=n, max_size=n))
    return kind, (n, t, d, h), lengths, draw(st.sampled_from(METHODS)), draw(st.integers(0, 2**16))


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_sweep_shapes_and_gradients(problem):
    kind, (n, t, d, h), lengths, method, seed = problem
    params, x, h0 = make_case(kind, n, t, d, h, seed)
    out, h_T, _ = sequence_forward(kind, params, x, h0, lengths, method=method)
    assert out.shape == (n, t, h) and h_T.shape == (n, h)
    if lengths is not None:
        assert all(np.all(out[i, L:] == 0.0) for i, L in enumerate(lengths))
    errors = _fd_errors(kind, params, x, h0, lengths, method, seed)
    assert max(errors.values()) < GRAD_TOL, errors


# --------------------------------------------------------------------------------------------- bad input

def _bad_cases():
    params, x, h0 = make_case("mingru", 2, 5, 3, 4)
    lstm_params = make_case("minlstm", 2, 5, 3, 4)[0]
    _, _, gru_cache = sequence_forward("mingru", params, x, h0)
    return [
        (lambda: sequence_forward("mingru", {"W_x": params["W_x"][:7], "b_x": params["b_x"][:7]}, x, h0), ValueError,
         "params['W_x'] of a minGRU must have shape (2H, D), the blocks z, h_tilde stacked, with a whole number "
         "H >= 1 of rows each, got (7, 3)"),
        (lambda: sequence_forward("mingru", params | {"W_h": np.zeros((8, 4))}, x, h0), ValueError,
         "params for a minGRU must have keys ['W_x', 'b_x'], missing [], unexpected ['W_h']"),
        (lambda: sequence_forward("mingru", params, x[:, :, :2], h0), ValueError, "x must have shape (N, T, 3), got"),
        (lambda: sequence_forward("mingru", params, x, h0[:, :3]), ValueError, "h0 must have shape (2, 4), got (2, 3)"),
        (lambda: sequence_forward("mingru", params, x.astype(np.float32), h0), TypeError,
         "x must have dtype float64 like the parameters, got float32"),
        (lambda: sequence_forward("mingru", params, x, h0, method="tree"), ValueError,
         "method must be one of ('scan', 'doubling', 'loop'), got 'tree'"),
        (lambda: sequence_forward("mingru", params, x, h0, reset="after"), TypeError,
         "a minGRU takes the options ['method'], got ['reset']"),
        (lambda: sequence_forward("minlstm", lstm_params, x, (h0, h0)), TypeError, "state0"),
        (lambda: sequence_backward("minlstm", np.ones((2, 5, 4)), np.ones((2, 4)), gru_cache), TypeError,
         "cache must be the MinCellCache returned by sequence_forward('minlstm', ...), got one of a minGRU"),
        (lambda: minlstm_backward(np.ones((2, 5, 4)), np.ones((2, 4)), gru_cache), TypeError,
         "cache must come from minlstm_forward, got a cache of a minGRU"),
        (lambda: sequence_backward("mingru", np.ones((2, 4, 4)), np.ones((2, 4)), gru_cache), ValueError,
         "dout must have shape (2, 5, 4), got (2, 4, 4)"),
        (lambda: sequence_forward("mingru", params, x, h0, lengths=[5, 6]), ValueError, "lengths must lie between"),
        (lambda: init_stacked("mingru", 3, 4, 2, False, np.random.default_rng(0)), ValueError,
         "a minGRU has no recurrent weights W_h, and this function takes the three classic cells only"),
        (lambda: to_torch_state_dict("minlstm", lstm_params), ValueError,
         "a minLSTM has no recurrent weights W_h, and this function takes the three classic cells only"),
    ]


@pytest.mark.parametrize("index", range(14))
def test_bad_input_is_refused_naming_expected_and_received(index):
    call, error, message = _bad_cases()[index]
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
