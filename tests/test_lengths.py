"""Variable lengths: each sequence of a padded batch behaves as if it had been run alone,
cut to its true length (outputs zero past its end, final state at its own last step)."""

import numpy as np
import pytest

from cases import KINDS, PARAM_KEYS, VARIANT_IDS, VARIANTS, assert_close, make_case, run_alone, state_arrays, state_row
from lessons_lib import sequence_backward, sequence_forward

N, T, D, H = 4, 4, 3, 2
LENGTHS = [T, 2, 0, 1]
TOL = 1e-13


@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_outputs_and_final_states_match_each_sequence_alone(kind, options, rng):
    """out[n, :L] and the final state equal sequence n run alone; out[n, L:] is zero."""
    params, x, state0, dout, dstate = make_case(kind, N, T, D, H, rng)
    out, state, _ = sequence_forward(kind, params, x, state0, LENGTHS, **options)
    for n, L in enumerate(LENGTHS):
        out_n, state_n, _, _, _ = run_alone(kind, options, params, x[n], state_row(kind, state0, n),
                                            dout[n], state_row(kind, dstate, n), L)
        assert_close(out[n, :L], out_n, TOL, f"out[{n}, :{L}]")
        assert not out[n, L:].any(), f"out[{n}, {L}:] must be zero past the end"
        for s_batch, s_alone in zip(state_arrays(kind, state_row(kind, state, n)), state_arrays(kind, state_n)):
            assert_close(s_batch, s_alone, TOL, f"final state of sequence {n} (length {L})")


@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_gradients_match_each_sequence_alone(kind, options, rng):
    """dx[n, :L] and dstate0[n] equal sequence n's alone, dx[n, L:] is zero, and the batch's parameter
    gradients are the sum of the per-sequence ones (dout past an end is ignored)."""
    params, x, state0, dout, dstate = make_case(kind, N, T, D, H, rng)
    _, _, cache = sequence_forward(kind, params, x, state0, LENGTHS, **options)
    dx, dstate0, grads = sequence_backward(kind, dout, dstate, cache)
    total = {k: np.zeros_like(v) for k, v in params.items()}
    for n, L in enumerate(LENGTHS):
        _, _, dx_n, dstate0_n, grads_n = run_alone(kind, options, params, x[n], state_row(kind, state0, n),
                                                   dout[n], state_row(kind, dstate, n), L)
        assert_close(dx[n, :L], dx_n, TOL, f"dx[{n}, :{L}]")
        assert not dx[n, L:].any(), f"dx[{n}, {L}:] must be zero past the end"
        for d_batch, d_alone in zip(state_arrays(kind, state_row(kind, dstate0, n)), state_arrays(kind, dstate0_n)):
            assert_close(d_batch, d_alone, TOL, f"dstate0 of sequence {n} (length {L})")
        for k in PARAM_KEYS:
            total[k] += grads_n[k]
    for k in PARAM_KEYS:
        assert_close(grads[k], total[k], TOL, f"summed {k}")


@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_full_lengths_equal_no_lengths(kind, options, rng):
    """lengths = [T] * N gives exactly what lengths=None gives, forward and backward."""
    params, x, state0, dout, dstate = make_case(kind, N, T, D, H, rng)
    out, state, cache = sequence_forward(kind, params, x, state0, None, **options)
    out_l, state_l, cache_l = sequence_forward(kind, params, x, state0, [T] * N, **options)
    np.testing.assert_array_equal(out_l, out)
    np.testing.assert_array_equal(state_arrays(kind, state_l), state_arrays(kind, state))
    dx, dstate0, grads = sequence_backward(kind, dout, dstate, cache)
    dx_l, dstate0_l, grads_l = sequence_backward(kind, dout, dstate, cache_l)
    assert_close(dx_l, dx, TOL, "dx")
    for a, b in zip(state_arrays(kind, dstate0_l), state_arrays(kind, dstate0)):
        assert_close(a, b, TOL, "dstate0")
    for k in PARAM_KEYS:
        assert_close(grads_l[k], grads[k], TOL, k)


@pytest.mark.parametrize("kind, options", VARIANTS, ids=VARIANT_IDS)
def test_zero_lengths_return_the_initial_state(kind, options, rng):
    """A batch whose lengths are all 0 outputs zeros, keeps state0, passes dstate to dstate0 and has no
    parameter gradient."""
    params, x, state0, dout, dstate = make_case(kind, N, T, D, H, rng)
    out, state, cache = sequence_forward(kind, params, x, state0, [0] * N, **options)
    assert not out.any()
    np.testing.assert_array_equal(state_arrays(kind, state), state_arrays(kind, state0))
    dx, dstate0, grads = sequence_backward(kind, dout, dstate, cache)
    assert not dx.any()
    np.testing.assert_array_equal(state_arrays(kind, dstate0), state_arrays(kind, dstate))
    assert not any(g.any() for g in grads.values())


@pytest.mark.parametrize("lengths", [np.array([4, 2, 0, 1], dtype=np.int32), (4, 2, 0, 1),
                                     np.array([4.0, 2.0, 0.0, 1.0])], ids=["int32", "tuple", "integral-floats"])
def test_lengths_accepts_any_integer_sequence(lengths, rng):
    """lengths as int32, a tuple, or whole-number floats means the same as a list of ints."""
    params, x, state0, _, _ = make_case("lstm", N, T, D, H, rng)
    out_ref, (h_ref, c_ref), _ = sequence_forward("lstm", params, x, state0, LENGTHS)
    out, (h, c), _ = sequence_forward("lstm", params, x, state0, lengths)
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(h, h_ref)
    np.testing.assert_array_equal(c, c_ref)


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_time_axis_is_handled(kind, rng):
    """x of shape (N, 0, D) either runs (out (N, 0, H), the final state is state0, dstate0 is dstate)
    or is refused with a ValueError that names x; it must not fail inside numpy.

    Sequences of length 0 are allowed inside a batch (``lengths`` may be 0), so a batch in which T = 0
    is the natural limit.
    """
    params, _, state0, _, dstate = make_case(kind, N, T, D, H, rng)
    x = np.zeros((N, 0, D))
    try:
        out, state, cache = sequence_forward(kind, params, x, state0)
    except ValueError as exc:
        assert str(exc).startswith("x "), f"the message must name x, got: {exc}"
        return
    assert out.shape == (N, 0, H)
    np.testing.assert_array_equal(state_arrays(kind, state), state_arrays(kind, state0))
    dx, dstate0, grads = sequence_backward(kind, np.zeros((N, 0, H)), dstate, cache)
    assert dx.shape == (N, 0, D)
    np.testing.assert_array_equal(state_arrays(kind, dstate0), state_arrays(kind, dstate))
    assert not any(g.any() for g in grads.values())
