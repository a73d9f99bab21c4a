"""Tests of lessons_lib.analysis.gated_flow: the step Jacobians of the LSTM and GRU, their products and norms.

Order as in the house style: shapes and known values, then finite
differences in float64 on tiny sizes, then agreement with the library's own
backward pass, then properties over random cases (hypothesis), then error
messages.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lessons_lib as ll
from lessons_lib.analysis import anatomy
from lessons_lib.analysis import gated_flow as gfl
from lessons_lib.analysis import gradient_flow as gf

TOL = 1e-8  # finite differences in float64
GRU_VARIANTS = [{"reset": r, "update": u} for r in ("after", "before") for u in ("keep", "write")]
CASES = [("rnn", {}), ("lstm", {})] + [("gru", v) for v in GRU_VARIANTS]


def case(rng, kind, N=2, T=4, D=3, H=3, scale=2.0):
    """Parameters scaled up (so that gates are far from 1/2 and every path matters), inputs and a state."""
    params = {k: scale * v for k, v in ll.init_params(kind, D, H, rng).items()}
    x = rng.standard_normal((N, T, D))
    h0 = 0.5 * rng.standard_normal((N, H))
    state0 = (h0, 0.5 * rng.standard_normal((N, H))) if kind == "lstm" else h0
    return params, x, state0


# ----------------------------------------------------------------------------- shapes and known values

@pytest.mark.parametrize("kind, options", CASES)
def test_step_jacobian_shapes(kind, options, rng):
    params, x, state0 = case(rng, kind, N=2, T=5, D=3, H=4)
    J = gfl.state_step_jacobians(kind, params, x, state0, **options)
    S = 8 if kind == "lstm" else 4
    assert J.shape == (2, 5, S, S) and J.dtype == np.float64


def test_lstm_cell_block_is_the_forget_gate(rng):
    """dc_t/dc_{t-1} = diag(f_t) and dh_t/dc_{t-1} = diag(o_t (1 - tanh(c_t)^2) f_t): both diagonal."""
    params, x, (h0, c0) = case(rng, "lstm", H=3)
    J = gfl.lstm_step_jacobians(params, x, h0, c0)
    gates = anatomy.lstm_anatomy_steps(x, h0, c0, params)
    f = np.stack([s.f for s in gates], axis=1)                    # (N, T, H)
    o = np.stack([s.o for s in gates], axis=1)
    tanh_c = np.stack([s.tanh_c for s in gates], axis=1)
    cc, hc = J[..., 3:, 3:], J[..., :3, 3:]
    np.testing.assert_allclose(cc, f[..., :, None] * np.eye(3), atol=1e-15)
    np.testing.assert_allclose(hc, (o * (1 - tanh_c ** 2) * f)[..., :, None] * np.eye(3), atol=1e-15)


def test_lstm_without_recurrent_weights_has_only_the_direct_paths(rng):
    """With W_h = 0 nothing depends on h_{t-1}: the h columns vanish and dc_T/dc_0 is the forget-gate product."""
    params, x, (h0, c0) = case(rng, "lstm", T=6, H=3)
    params["W_h"] = np.zeros_like(params["W_h"])
    J = gfl.lstm_step_jacobians(params, x, h0, c0)
    assert np.all(J[..., :, :3] == 0.0)
    P = gf.jacobian_product(J, 0, 6)
    forget = gf.forget_gate_products(params, x, h0, c0)[:, 6]     # (N, H)
    np.testing.assert_allclose(P[:, 3:, 3:], forget[:, :, None] * np.eye(3), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("update", ["keep", "write"])
def test_gru_without_recurrent_weights_keeps_its_share(update, rng):
    """With W_h = 0 the GRU's Jacobian is diag(z) (z keeps) or diag(1 - z) (z writes)."""
    params, x, h0 = case(rng, "gru", H=3)
    params["W_h"] = np.zeros_like(params["W_h"])
    J = gfl.gru_step_jacobians(params, x, h0, update=update)
    z = np.stack([s.z for s in anatomy.gru_anatomy_steps(x, h0, params, update=update)], axis=1)
    keep = z if update == "keep" else 1 - z
    np.testing.assert_allclose(J, keep[..., :, None] * np.eye(3), atol=1e-15)


def test_rnn_step_jacobians_are_chapter_2s(rng):
    params, x, h0 = case(rng, "rnn")
    out, _, _ = ll.sequence_forward("rnn", params, x, h0)
    expected = gf.step_jacobians(params["W_h"], 1 - out ** 2)
    np.testing.assert_array_equal(gfl.rnn_step_jacobians(params, x, h0), expected)


# ----------------------------------------------------------------------------- finite differences

@pytest.mark.parametrize("kind, options", CASES)
def test_one_step_jacobian_matches_finite_differences(kind, options, rng):
    params, x, state0 = case(rng, kind, T=1)
    J = gfl.state_step_jacobians(kind, params, x, state0, **options)[:, 0]
    fd = gfl.numerical_state_jacobian(kind, params, x, state0, 0, **options)
    assert ll.rel_error(J, fd) < TOL


@pytest.mark.parametrize("kind, options", CASES)
@pytest.mark.parametrize("t", [0, 2, 4])
def test_product_of_step_jacobians_matches_finite_differences(kind, options, t, rng):
    """ds_T/ds_t over T - t steps, every path, against nudging the state at step t and rerunning."""
    params, x, state0 = case(rng, kind, T=4)
    P = gf.jacobian_product(gfl.state_step_jacobians(kind, params, x, state0, **options), t, 4)
    fd = gfl.numerical_state_jacobian(kind, params, x, state0, t, **options)
    assert ll.rel_error(P, fd) < TOL


def test_numerical_state_jacobian_at_the_end_is_the_identity(rng):
    params, x, state0 = case(rng, "lstm", T=3)
    fd = gfl.numerical_state_jacobian("lstm", params, x, state0, 3)
    np.testing.assert_allclose(fd, np.broadcast_to(np.eye(6), (2, 6, 6)), atol=1e-9)


# ----------------------------------------------------------------------------- agreement with the backward pass

@pytest.mark.parametrize("kind, options", CASES)
def test_transposed_product_is_the_librarys_backward_pass(kind, options, rng):
    """A loss that reads only the final state: dL/ds_0 = (ds_T/ds_0)^T dL/ds_T, as sequence_backward computes."""
    N, T, H = 2, 5, 3
    params, x, state0 = case(rng, kind, N=N, T=T, H=H)
    P = gf.jacobian_product(gfl.state_step_jacobians(kind, params, x, state0, **options), 0, T)
    out, _, cache = ll.sequence_forward(kind, params, x, state0, **options)
    if kind == "lstm":
        v = rng.standard_normal((N, 2 * H))
        _, (dh0, dc0), _ = ll.sequence_backward(kind, np.zeros_like(out), (v[:, :H], v[:, H:]), cache)
        library = np.concatenate([dh0, dc0], axis=1)
    else:
        v = rng.standard_normal((N, H))
        _, library, _ = ll.sequence_backward(kind, np.zeros_like(out), v, cache)
    assert ll.rel_error(np.einsum("nij,ni->nj", P, v), library) < 1e-12


# ----------------------------------------------------------------------------- norms of products

def test_block_product_norms_match_explicit_products(rng):
    J = 0.7 * rng.standard_normal((2, 5, 4, 4))
    blocks = {"all": (slice(0, 4), slice(0, 4)), "corner": (slice(2, 4), slice(0, 2))}
    norms = gfl.block_product_norms(J, blocks)
    for k in range(6):
        P = gf.jacobian_product(J, 5 - k, 5)
        np.testing.assert_allclose(norms["all"][:, k], np.linalg.norm(P, 2, axis=(1, 2)), rtol=1e-12)
        np.testing.assert_allclose(norms["corner"][:, k], np.linalg.norm(P[:, 2:, :2], 2, axis=(1, 2)),
                                   rtol=1e-12, atol=1e-300)
    assert np.all(norms["corner"][:, 0] == 0.0)            # an off-diagonal block of the identity


def test_block_product_norms_do_not_underflow_or_overflow():
    """1e-3 ** 400 = 1e-1200 is below float64's range: 0.0, no warning; 10 ** 400 overflows to inf, no warning."""
    small = np.broadcast_to(1e-3 * np.eye(2), (1, 400, 2, 2))
    large = np.broadcast_to(10.0 * np.eye(2), (1, 400, 2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            tiny = gfl.block_product_norms(small, {"a": (slice(0, 2), slice(0, 2))})["a"]
            huge = gfl.block_product_norms(large, {"a": (slice(0, 2), slice(0, 2))})["a"]
    np.testing.assert_allclose(tiny[0, 100], 1e-300, rtol=1e-9)
    assert tiny[0, 400] == 0.0
    np.testing.assert_allclose(huge[0, 300], 1e300, rtol=1e-9)
    assert huge[0, 400] == np.inf


def test_measure_state_decay_of_an_lstm(rng):
    params, x, state0 = case(rng, "lstm", N=3, T=6, H=3, scale=1.0)
    d = gfl.measure_state_decay("lstm", params, x, state0)
    assert d.kind == "lstm" and d.distance.tolist() == list(range(7))
    assert d.hh.shape == d.cc.shape == d.direct.shape == (3, 7)
    np.testing.assert_allclose(d.hh[:, 0], 1.0)
    np.testing.assert_allclose(d.cc[:, 0], 1.0)
    J = gfl.lstm_step_jacobians(params, x, *state0)
    for k in (1, 3, 6):
        P = gf.jacobian_product(J, 6 - k, 6)
        np.testing.assert_allclose(d.cc[:, k], np.linalg.norm(P[:, 3:, 3:], 2, axis=(1, 2)), rtol=1e-10)
        np.testing.assert_allclose(d.hh[:, k], np.linalg.norm(P[:, :3, :3], 2, axis=(1, 2)), rtol=1e-10)
    # the direct path: largest entry of the forget-gate product (chapter 2's measurement)
    np.testing.assert_allclose(d.direct, gf.forget_gate_products(params, x, *state0).max(axis=2), rtol=1e-12)
    f = np.stack([s.f for s in anatomy.lstm_anatomy_steps(x, *state0, params)])
    assert abs(d.keep_mean - f.mean()) < 1e-12
    np.testing.assert_allclose(d.typical("cc"), gf.typical_norm(d.cc))


@pytest.mark.parametrize("update", ["keep", "write"])
def test_measure_state_decay_of_a_gru(update, rng):
    params, x, h0 = case(rng, "gru", N=2, T=5, H=3, scale=1.0)
    d = gfl.measure_state_decay("gru", params, x, h0, update=update)
    assert d.cc is None
    z = np.stack([s.z for s in anatomy.gru_anatomy_steps(x, h0, params, update=update)], axis=1)  # (N, T, H)
    keep = z if update == "keep" else 1 - z
    expected = np.ones((2, 6, 3))
    for k in range(1, 6):
        expected[:, k] = expected[:, k - 1] * keep[:, 5 - k]
    np.testing.assert_allclose(d.direct, expected.max(axis=2), rtol=1e-12)
    assert abs(d.keep_mean - keep.mean()) < 1e-12


def test_measure_state_decay_of_an_rnn_has_no_gate(rng):
    params, x, h0 = case(rng, "rnn")
    d = gfl.measure_state_decay("rnn", params, x, h0)
    assert d.cc is None and d.direct is None and d.keep_mean is None
    with pytest.raises(ValueError, match=r"path must be one of \('hh',\) for an RNN, got 'cc'"):
        d.typical("cc")


# ----------------------------------------------------------------------------- the chapter's comparison

def test_cells_on_same_inputs_sets_the_gate_biases_and_nothing_else():
    base, x0 = gfl.cells_on_same_inputs(5, D=3, H=4, N=2, seed=7)
    biased, x1 = gfl.cells_on_same_inputs(5, D=3, H=4, N=2, seed=7, gate_bias=2.5)
    np.testing.assert_array_equal(x0, x1)
    assert x0.shape == (2, 5, 3)
    f_rows, z_rows = anatomy.gate_rows("lstm", "f", 4), anatomy.gate_rows("gru", "z", 4)
    np.testing.assert_allclose((biased["lstm"]["b_x"] + biased["lstm"]["b_h"])[f_rows], 2.5)
    np.testing.assert_allclose((biased["gru"]["b_x"] + biased["gru"]["b_h"])[z_rows], 2.5)
    for kind, rows in (("lstm", f_rows), ("gru", z_rows)):
        for name in ("W_x", "W_h"):
            np.testing.assert_array_equal(base[kind][name], biased[kind][name])
        others = np.ones(base[kind]["b_x"].size, bool)
        others[rows] = False
        np.testing.assert_array_equal(base[kind]["b_x"][others], biased[kind]["b_x"][others])
    for name in base["rnn"]:
        np.testing.assert_array_equal(base["rnn"][name], biased["rnn"][name])
    scaled, _ = gfl.cells_on_same_inputs(5, D=3, H=4, N=2, seed=7, recurrent_scale=3.0)
    np.testing.assert_allclose(scaled["gru"]["W_h"], 3.0 * base["gru"]["W_h"])
    assert base["lstm"]["W_h"].shape == (16, 4) and base["rnn"]["W_x"].shape == (4, 3)


def test_compare_state_decay_runs_the_three_cells_on_the_same_inputs():
    results = gfl.compare_state_decay(8, D=3, H=4, N=2, seed=1)
    assert list(results) == ["rnn", "gru", "lstm"]
    params, x = gfl.cells_on_same_inputs(8, D=3, H=4, N=2, seed=1)
    again = gfl.measure_state_decay("gru", params["gru"], x, np.zeros((2, 4)))
    np.testing.assert_array_equal(results["gru"].hh, again.hh)
    biased = gfl.compare_state_decay(8, D=3, H=4, N=2, seed=1, gate_bias=6.0)
    np.testing.assert_array_equal(results["rnn"].hh, biased["rnn"].hh)     # the RNN has no gate
    assert biased["lstm"].keep_mean > 0.99 and biased["gru"].keep_mean > 0.99
    assert biased["lstm"].typical("direct")[8] > 0.9 > results["lstm"].typical("direct")[8]


def test_a_forget_gate_near_one_lets_the_full_cell_jacobian_grow():
    """The chapter's point: the direct path never exceeds 1, but the other paths can make dc_T/dc_t grow."""
    results = gfl.compare_state_decay(60, D=8, H=16, N=4, seed=0, gate_bias=5.0)
    lstm = results["lstm"]
    assert np.all(lstm.direct <= 1.0)
    assert lstm.typical("cc")[60] > 1.5 > lstm.typical("direct")[60]


# ----------------------------------------------------------------------------- properties

@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(["rnn", "lstm", "gru"]), N=st.integers(1, 2), T=st.integers(1, 3),
       D=st.integers(1, 3), H=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_products_match_finite_differences_for_any_small_shape(kind, N, T, D, H, seed):
    """Relative error below 1e-8, or, for a Jacobian so small (1e-6, say) that the central difference's
    rounding error (about 1e-16 / eps = 1e-11 per entry) dominates it, an absolute error below 1e-10."""
    rng = np.random.default_rng(seed)
    params, x, state0 = case(rng, kind, N=N, T=T, D=D, H=H, scale=1.0)
    P = gf.jacobian_product(gfl.state_step_jacobians(kind, params, x, state0), 0, T)
    fd = gfl.numerical_state_jacobian(kind, params, x, state0, 0)
    assert ll.rel_error(P, fd) < TOL or np.abs(P - fd).max() < 1e-10


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(["lstm", "gru"]), seed=st.integers(0, 10_000), bias=st.floats(-3, 6))
def test_the_direct_path_never_exceeds_one(kind, seed, bias):
    results = gfl.compare_state_decay(12, D=2, H=3, N=2, seed=seed, gate_bias=bias)
    d = results[kind]
    assert np.all(d.direct <= 1.0) and np.all(np.diff(d.direct, axis=1) <= 0)
    assert 0.0 < d.keep_mean < 1.0


# ----------------------------------------------------------------------------- errors

def test_errors_name_what_was_expected_and_received(rng):
    params, x, state0 = case(rng, "lstm")
    with pytest.raises(ValueError, match="kind must be one of"):
        gfl.state_step_jacobians("transformer", params, x, state0)
    with pytest.raises(TypeError, match=r"options \['reset'\] apply to the GRU only, not to 'lstm'"):
        gfl.state_step_jacobians("lstm", params, x, state0, reset="before")
    with pytest.raises(TypeError, match="state0 of an LSTM must be a pair"):
        gfl.state_step_jacobians("lstm", params, x, state0[0])
    with pytest.raises(TypeError, match="only an LSTM has"):
        gfl.state_step_jacobians("gru", case(rng, "gru")[0], x, state0)
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, 3\), got \(2, 4, 5\)"):
        gfl.lstm_step_jacobians(params, rng.standard_normal((2, 4, 5)), *state0)
    with pytest.raises(ValueError, match=r"reset must be one of \('after', 'before'\), got 'middle'"):
        gfl.gru_step_jacobians(case(rng, "gru")[0], x, state0[0], reset="middle")
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 3\), got \(2, 4\)"):
        gfl.numerical_state_jacobian("lstm", params, x, (np.zeros((2, 4)), state0[1]), 0)
    with pytest.raises(ValueError, match="t must lie between 0 and T = 4, got 5"):
        gfl.numerical_state_jacobian("lstm", params, x, state0, 5)
    with pytest.raises(ValueError, match="eps must be positive, got 0.0"):
        gfl.numerical_state_jacobian("lstm", params, x, state0, 0, eps=0.0)
    with pytest.raises(TypeError, match="finite differences need float64 parameters"):
        p32 = {k: v.astype(np.float32) for k, v in params.items()}
        gfl.numerical_state_jacobian("lstm", p32, x.astype(np.float32), state0, 0)
    with pytest.raises(ValueError, match=r"jacobians must have shape \(N, T, S, S\), got \(2, 3, 4\)"):
        gfl.block_product_norms(np.zeros((2, 3, 4)), {"a": (slice(0, 1), slice(0, 1))})
    with pytest.raises(TypeError, match=r"blocks\['a'\] must be a pair of slices"):
        gfl.block_product_norms(np.zeros((1, 2, 3, 3)), {"a": (0, 1)})
    with pytest.raises(TypeError, match="blocks must be a non-empty dict"):
        gfl.block_product_norms(np.zeros((1, 2, 3, 3)), {})
    with pytest.raises(TypeError, match="gate_bias must be a real number, got str"):
        gfl.cells_on_same_inputs(5, gate_bias="high")
    with pytest.raises(ValueError, match="H must be at least 1, got 0"):
        gfl.cells_on_same_inputs(5, H=0)
    with pytest.raises(ValueError, match="input_scale must be zero or positive, got -1.0"):
        gfl.compare_state_decay(5, input_scale=-1.0)
