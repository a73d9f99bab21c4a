"""The gated linear recurrence h_t = a_t * h_{t-1} + b_t (lessons_lib.cells.linear_recurrence).

Shapes and dtypes; values worked out by hand; the Blelloch scan and recursive doubling against the loop and
against a loop written here; finite differences of the backward pass in float64; the schedule of the scan
(scan_levels) replayed with Python numbers; a property sweep; bad input.
"""

import numpy as np
import pytest

from lessons_lib import gradient_errors, linear_recurrence, linear_recurrence_backward, scan_levels
from lessons_lib.cells.linear_recurrence import METHODS

GRAD_TOL = 1e-8
LENGTHS = (1, 2, 3, 5, 8, 13, 64, 100)


def problem(N, T, H, seed=0, dtype=np.float64, low=-1.0):
    """Random a ~ U(low, 1), b and h0 ~ N(0, 1), all of ``dtype``."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(low, 1.0, (N, T, H)).astype(dtype)
    b = rng.standard_normal((N, T, H)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    return a, b, h0


def reference(a, b, h0):
    """The recurrence written out step by step, batch-first, independently of the library."""
    h, states = h0.copy(), []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]
        states.append(h)
    return np.stack(states, axis=1)


# ------------------------------------------------------------------------------------- shapes, known values

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, T, H", [(1, 1, 1), (2, 7, 3), (3, 16, 2)])
def test_shapes_and_dtypes(method, dtype, N, T, H):
    a, b, h0 = problem(N, T, H, dtype=dtype)
    h = linear_recurrence(a, b, h0, method)
    assert h.shape == (N, T, H) and h.dtype == dtype and h.flags.c_contiguous
    da, db, dh0 = linear_recurrence_backward(np.ones_like(h), a, h, h0, method)
    assert da.shape == db.shape == (N, T, H) and dh0.shape == (N, H)
    assert da.dtype == db.dtype == dh0.dtype == dtype


@pytest.mark.parametrize("method", METHODS)
def test_values_worked_out_by_hand(method):
    # One sequence, two units, T = 3.
    # unit 0: a = (2, 0.5, -1), b = (1, 2, 3), h0 = 1:  h1 = 2*1 + 1 = 3, h2 = 0.5*3 + 2 = 3.5, h3 = -3.5 + 3 = -0.5
    # unit 1: a = 1, b = 1, h0 = 0: a counter, 1, 2, 3
    a = np.array([[[2.0, 1.0], [0.5, 1.0], [-1.0, 1.0]]])
    b = np.array([[[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]]])
    h0 = np.array([[1.0, 0.0]])
    h = linear_recurrence(a, b, h0, method)
    np.testing.assert_allclose(h[0], [[3.0, 1.0], [3.5, 2.0], [-0.5, 3.0]], rtol=0, atol=1e-15)
    # The loss h3 of unit 0: g3 = 1, g2 = a3 g3 = -1, g1 = a2 g2 = -0.5 (db = g);
    # da_t = g_t h_{t-1} = (-0.5 * 1, -1 * 3, 1 * 3.5); dh0 = a1 g1 = -1.  Unit 1 gets nothing.
    dh = np.zeros_like(h)
    dh[0, 2, 0] = 1.0
    da, db, dh0 = linear_recurrence_backward(dh, a, h, h0, method)
    np.testing.assert_allclose(db[0], [[-0.5, 0.0], [-1.0, 0.0], [1.0, 0.0]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(da[0], [[-0.5, 0.0], [-3.0, 0.0], [3.5, 0.0]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(dh0, [[-1.0, 0.0]], rtol=0, atol=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_a_constant_coefficient_gives_a_geometric_sum(method):
    """a = 1/2, b = 1, h0 = 0: h_t = 1 + 1/2 + ... + 1/2^(t-1) = 2 (1 - 2^-t)."""
    T = 37
    a, b, h0 = np.full((1, T, 1), 0.5), np.ones((1, T, 1)), np.zeros((1, 1))
    t = np.arange(1, T + 1)
    np.testing.assert_allclose(linear_recurrence(a, b, h0, method)[0, :, 0], 2 * (1 - 0.5 ** t), rtol=1e-15)


# -------------------------------------------------------------------------------------- the methods agree

@pytest.mark.parametrize("T", LENGTHS)
def test_scan_doubling_and_loop_agree_to_1e12_in_float64(T):
    a, b, h0 = problem(2, T, 3, seed=T)
    want = reference(a, b, h0)
    dh = np.random.default_rng(T + 1).standard_normal(want.shape)
    back = [linear_recurrence_backward(dh, a, want, h0, m) for m in METHODS]
    for method, grads in zip(METHODS, back):
        assert np.max(np.abs(linear_recurrence(a, b, h0, method) - want)) < 1e-12, method
        for name, got, loop in zip(("da", "db", "dh0"), grads, back[METHODS.index("loop")]):
            assert np.max(np.abs(got - loop)) < 1e-12, (method, name)


@pytest.mark.parametrize("method", ["scan", "doubling"])
def test_float32_agrees_with_float64_over_a_long_sequence(method):
    """T = 1000 with a in (0.9, 1): rounding does not build up beyond float32's precision times a few."""
    a, b, h0 = problem(2, 1000, 4, seed=1, low=0.9)
    want = reference(a, b, h0)
    got = linear_recurrence(*(x.astype(np.float32) for x in (a, b, h0)), method)
    assert np.max(np.abs(got - want)) / np.max(np.abs(want)) < 1e-5


@pytest.mark.parametrize("N", [1, 2])     # N = 1: the time-major view of b is contiguous, a copy is not forced
def test_no_argument_is_changed(N):
    a, b, h0 = problem(N, 5, 3)
    copies = [x.copy() for x in (a, b, h0)]
    for method in METHODS:
        h = linear_recurrence(a, b, h0, method)
        dh = np.ones_like(h)
        h_copy = h.copy()
        linear_recurrence_backward(dh, a, h, h0, method)
        assert all(np.array_equal(x, c) for x, c in zip((a, b, h0), copies)), method
        assert np.all(dh == 1.0) and np.array_equal(h, h_copy), method


def test_integer_coefficients_are_taken_as_float64():
    h = linear_recurrence(np.ones((1, 3, 1), dtype=int), np.ones((1, 3, 1), dtype=int), np.zeros((1, 1), dtype=int))
    assert h.dtype == np.float64 and h[0, :, 0].tolist() == [1.0, 2.0, 3.0]


# ------------------------------------------------------------------------------------ finite differences

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("T", [1, 3, 4, 5])
def test_backward_matches_finite_differences(method, T):
    """da, db, dh0 of a random linear loss sum(h * w) agree with central differences in float64."""
    a, b, h0 = problem(2, T, 3, seed=10 + T)
    w = np.random.default_rng(99).standard_normal((2, T, 3))

    def loss():
        return float(np.sum(linear_recurrence(a, b, h0, method) * w))

    da, db, dh0 = linear_recurrence_backward(w, a, linear_recurrence(a, b, h0, method), h0, method)
    errors = gradient_errors(loss, {"a": a, "b": b, "h0": h0}, {"a": da, "b": db, "h0": dh0})
    assert max(errors.values()) < GRAD_TOL, errors


# ------------------------------------------------------------------------------------- the scan's schedule

def test_scan_levels_of_eight_elements():
    """The pairs of Blelloch's scan and of doubling for T = 8, as drawn in the chapter."""
    up1, up2, up3, down3, down2, down1, finish = scan_levels(8)
    assert [s.phase for s in (up1, down3, finish)] == ["up-sweep", "down-sweep", "finish"]
    assert up1.pairs == ((0, 1), (2, 3), (4, 5), (6, 7)) and up2.pairs == ((1, 3), (5, 7)) and up3.pairs == ((3, 7),)
    assert down3.pairs == ((3, 7),) and down2.pairs == ((1, 3), (5, 7)) and down1.pairs == up1.pairs
    assert finish.pairs == tuple((j, j) for j in range(8))
    d1, d2, d4 = scan_levels(8, "doubling")
    assert d1.pairs == tuple((j - 1, j) for j in range(1, 8))
    assert d2.pairs == tuple((j - 2, j) for j in range(2, 8))
    assert d4.pairs == ((0, 4), (1, 5), (2, 6), (3, 7))


@pytest.mark.parametrize("T", [1, 2, 3, 5, 8, 13, 100])
def test_scan_depth_is_logarithmic_and_blelloch_work_linear(T):
    P = 1 << int(np.ceil(np.log2(T)))                 # the power of two the scan pads to
    blelloch = scan_levels(T, "scan")
    assert len(blelloch) == 2 * int(np.log2(P)) + 1
    assert sum(len(s.pairs) for s in blelloch if s.phase != "finish") == 2 * (P - 1)   # O(T) work
    doubling = scan_levels(T, "doubling")
    assert len(doubling) == int(np.ceil(np.log2(T)))
    assert sum(len(s.pairs) for s in doubling) == sum(T - 2 ** k for k in range(len(doubling)))   # O(T log T)


def _compose(first, second):
    """(a1, b1) o (a2, b2): first ``first``, then ``second``."""
    return second[0] * first[0], second[0] * first[1] + second[1]


@pytest.mark.parametrize("T", [1, 6, 8, 11])
@pytest.mark.parametrize("method", ["scan", "doubling"])
def test_replaying_the_schedule_with_python_numbers_gives_every_state(T, method):
    """scan_levels is the algorithm: following its pairs, one number at a time, gives h_1, ..., h_T."""
    rng = np.random.default_rng(T)
    a, b, h0 = list(rng.uniform(-1, 1, T)), list(rng.standard_normal(T)), 0.7
    want, h = [], h0
    for t in range(T):
        h = a[t] * h + b[t]
        want.append(h)
    steps = scan_levels(T, method)
    P = 1 << int(np.ceil(np.log2(T))) if method == "scan" else T
    e = [(a[t], b[t]) for t in range(T)] + [(1.0, 0.0)] * (P - T)
    e[0] = (a[0], a[0] * h0 + b[0])                   # h0 folded into the first step
    first_down = True
    for step in steps:
        if step.phase in ("up-sweep", "doubling"):
            old = list(e)
            for i, j in step.pairs:
                e[j] = _compose(old[i], old[j])
        elif step.phase == "down-sweep":
            if first_down:
                e[P - 1], first_down = (1.0, 0.0), False
            for i, j in step.pairs:
                e[i], e[j] = e[j], _compose(e[j], e[i])
        else:                                         # finish: the exclusive prefix, then the element itself
            if first_down:                            # T = 1: no down-sweep, the root is the only prefix
                e[P - 1] = (1.0, 0.0)
            e = [_compose(e[j], (a[j], b[j] if j else a[0] * h0 + b[0])) for _, j in step.pairs]
    np.testing.assert_allclose([x[1] for x in e[:T]], want, rtol=1e-12)


# ------------------------------------------------------------------------------------- property sweep

hypothesis = pytest.importorskip("hypothesis", reason="the property sweep needs hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(N=st.integers(1, 3), T=st.integers(1, 70), H=st.integers(1, 3), seed=st.integers(0, 2**16),
       method=st.sampled_from(("scan", "doubling")))
def test_sweep_every_method_agrees_with_the_reference(N, T, H, seed, method):
    a, b, h0 = problem(N, T, H, seed)
    want = reference(a, b, h0)
    np.testing.assert_allclose(linear_recurrence(a, b, h0, method), want, rtol=1e-10, atol=1e-12)
    dh = np.random.default_rng(seed + 1).standard_normal(want.shape)
    for got, loop in zip(linear_recurrence_backward(dh, a, want, h0, method),
                         linear_recurrence_backward(dh, a, want, h0, "loop")):
        np.testing.assert_allclose(got, loop, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------------ bad input

BAD = [
    (lambda a, b, h0: linear_recurrence(a, b, h0, "parallel"), ValueError,
     "method must be one of ('scan', 'doubling', 'loop'), got 'parallel'"),
    (lambda a, b, h0: linear_recurrence(a, b, h0, 3), TypeError, "method must be a string"),
    (lambda a, b, h0: linear_recurrence(a[0], b, h0), ValueError, "a must have shape (N, T, H), got (5, 3)"),
    (lambda a, b, h0: linear_recurrence(a, b[:, :4], h0), ValueError, "b must have shape (2, 5, 3), got (2, 4, 3)"),
    (lambda a, b, h0: linear_recurrence(a, b, h0[:, :2]), ValueError, "h0 must have shape (2, 3), got (2, 2)"),
    (lambda a, b, h0: linear_recurrence(a, b.astype(np.float32), h0), TypeError,
     "b must have the dtype of a, float64, got float32"),
    (lambda a, b, h0: linear_recurrence(a.astype(np.float16), b, h0), TypeError,
     "a must have dtype float32 or float64, got float16"),
    (lambda a, b, h0: linear_recurrence(a, "b", h0), TypeError, "b must be a numeric array, got str"),
    (lambda a, b, h0: linear_recurrence(a[:, :0], b[:, :0], h0), ValueError,
     "a must have at least one time step, shape (N, T >= 1, H), got (2, 0, 3)"),
    (lambda a, b, h0: linear_recurrence_backward(a[:, :4], a, b, h0), ValueError,
     "dh must have shape (2, 5, 3), got (2, 4, 3)"),
    (lambda a, b, h0: linear_recurrence_backward(a, a, b, h0, "tree"), ValueError, "method must be one of"),
    (lambda a, b, h0: scan_levels(0), ValueError, "T must be an int >= 1, got 0"),
    (lambda a, b, h0: scan_levels(4.0), TypeError, "T must be an int, got float"),
    (lambda a, b, h0: scan_levels(4, "loop"), ValueError, "method must be one of ('scan', 'doubling'), got 'loop'"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_input_is_refused_naming_expected_and_received(call, error, message):
    a, b, h0 = problem(2, 5, 3)
    with pytest.raises(error) as info:
        call(a, b, h0)
    assert message in str(info.value)
