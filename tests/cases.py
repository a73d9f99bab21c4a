"""Random test cases and finite-difference losses shared by the test modules.

Everything here is drawn from an explicit ``np.random.Generator``; nothing
touches numpy's global random state.  The parameters are drawn directly
(not with :func:`lessons_lib.init_params`) so that a bug in the initialiser
cannot hide a bug in a cell.
"""

from __future__ import annotations

import numpy as np

from lessons_lib import numerical_gradient, rel_error, sequence_backward, sequence_forward

KINDS = ("rnn", "lstm", "gru")
GATE_COUNT = {"rnn": 1, "lstm": 4, "gru": 3}
PARAM_KEYS = ("W_x", "W_h", "b_x", "b_h")
GRU_OPTIONS = tuple({"reset": r, "update": u} for r in ("after", "before") for u in ("keep", "write"))

# Every cell variant: the RNN, the LSTM, and the four GRU conventions.
VARIANTS = (("rnn", {}), ("lstm", {})) + tuple(("gru", o) for o in GRU_OPTIONS)
VARIANT_IDS = ("rnn", "lstm") + tuple(f"gru-{o['reset']}-{o['update']}" for o in GRU_OPTIONS)

# Gradient checks in float64 must agree to this relative error.
GRAD_TOL = 1e-8


def make_params(kind, D, H, rng, dtype=np.float64, scale=0.5):
    """Random parameters ``W_x`` (G H, D), ``W_h`` (G H, H), ``b_x``, ``b_h`` (G H,)."""
    G = GATE_COUNT[kind]
    shapes = {"W_x": (G * H, D), "W_h": (G * H, H), "b_x": (G * H,), "b_h": (G * H,)}
    return {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}


def make_state(kind, N, H, rng, dtype=np.float64):
    """A random state: ``h`` (N, H), or ``(h, c)`` for an LSTM."""
    if kind == "lstm":
        return rng.standard_normal((N, H)).astype(dtype), rng.standard_normal((N, H)).astype(dtype)
    return rng.standard_normal((N, H)).astype(dtype)


def state_arrays(kind, state) -> tuple:
    """The arrays of a state as a tuple: ``(h,)`` or ``(h, c)``."""
    return tuple(state) if kind == "lstm" else (state,)


def pack_state(kind, arrays):
    """Inverse of :func:`state_arrays`."""
    return tuple(arrays) if kind == "lstm" else arrays[0]


def state_row(kind, state, n):
    """The state of sequence ``n`` of a batch: ``h[n]``, or ``(h[n], c[n])`` for an LSTM."""
    return pack_state(kind, [s[n] for s in state_arrays(kind, state)])


def state_names(kind) -> tuple:
    return ("h0", "c0") if kind == "lstm" else ("h0",)


def make_case(kind, N, T, D, H, rng, dtype=np.float64):
    """Parameters, input, initial state and random upstream gradients for one batch."""
    params = make_params(kind, D, H, rng, dtype)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    state0 = make_state(kind, N, H, rng, dtype)
    dout = rng.standard_normal((N, T, H)).astype(dtype)
    dstate = make_state(kind, N, H, rng, dtype)
    return params, x, state0, dout, dstate


def linear_loss(kind, out, state, dout, dstate) -> float:
    """``sum(out * dout) + sum(state * dstate)``: its gradients are ``dout`` and ``dstate``."""
    total = np.sum(out * dout)
    for s, ds in zip(state_arrays(kind, state), state_arrays(kind, dstate)):
        total += np.sum(s * ds)
    return float(total)


def sequence_fd_pairs(kind, options, params, x, state0, dout, dstate, lengths=None) -> dict:
    """Every gradient of ``sequence_backward`` next to its central-difference estimate.

    Independent of :func:`lessons_lib.check_sequence_gradients`: only
    :func:`lessons_lib.numerical_gradient` is shared.  Returns a dict keyed
    by ``x``, ``h0`` (``c0``) and the parameter keys, of pairs
    ``(analytic, numerical)``.
    """
    states = [np.array(s, dtype=np.float64) for s in state_arrays(kind, state0)]
    x = np.array(x, dtype=np.float64)
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}

    def loss():
        out, state, _ = sequence_forward(kind, params, x, pack_state(kind, states), lengths, **options)
        return linear_loss(kind, out, state, dout, dstate)

    _, _, cache = sequence_forward(kind, params, x, pack_state(kind, states), lengths, **options)
    dx, dstate0, grads = sequence_backward(kind, dout, dstate, cache)
    arrays = {"x": x, **dict(zip(state_names(kind), states)), **params}
    analytic = {"x": dx, **dict(zip(state_names(kind), state_arrays(kind, dstate0))), **grads}
    return {name: (analytic[name], numerical_gradient(loss, arrays[name])) for name in arrays}


def sequence_fd_errors(kind, options, params, x, state0, dout, dstate, lengths=None) -> dict:
    """``rel_error`` of every gradient of ``sequence_backward`` against central differences."""
    pairs = sequence_fd_pairs(kind, options, params, x, state0, dout, dstate, lengths)
    return {name: rel_error(a, n) for name, (a, n) in pairs.items()}


def run_alone(kind, options, params, x, state0, dout, dstate, length):
    """Forward and backward of one sequence (batch of 1) cut to its true ``length``.

    Returns ``out`` (length, H), the final state, ``dx`` (length, D), the
    gradient of the initial state and the parameter gradients.  A sequence of
    length 0 is its initial state, with no output and no parameter gradient;
    that case is written out here rather than asked of the library.
    """
    s0 = pack_state(kind, [s[None] for s in state_arrays(kind, state0)])  # (H,) -> (1, H)
    ds = pack_state(kind, [s[None] for s in state_arrays(kind, dstate)])
    if length == 0:
        H = dout.shape[-1]
        zeros = {k: np.zeros_like(v) for k, v in params.items()}
        return (np.zeros((0, H)), state0, np.zeros((0, x.shape[-1])), dstate, zeros)
    out, state, cache = sequence_forward(kind, params, x[None, :length], s0, **options)
    dx, dstate0, grads = sequence_backward(kind, dout[None, :length], ds, cache)
    return out[0], state_row(kind, state, 0), dx[0], state_row(kind, dstate0, 0), grads


def assert_close(actual, expected, tol=1e-12, what=""):
    """Norm-wise relative agreement, for float64 results computed in a different order."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = rel_error(actual, expected)
    assert err < tol, f"{what}: rel_error {err:.2e} >= {tol:.0e}"
