"""Gradient checking: compare an analytic gradient with central finite differences.

For a scalar loss ``L(theta)`` the central difference

    (L(theta + eps e_k) - L(theta - eps e_k)) / (2 eps)

approximates ``dL/dtheta_k`` with two errors: truncation, of order
``eps**2``, and rounding, of order ``1e-16 |L| / eps`` in float64.  The
default ``eps = 1e-5`` balances them: a correct analytic gradient agrees to a
relative error near 1e-10, and a wrong one, even by a single missing term,
rarely gets below 1e-3.  Float32 (rounding near 1e-7) cannot tell these
apart, so every check here runs in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .cells.dispatch import sequence_backward, sequence_forward
from .cells.gru import gru_step_backward, gru_step_forward
from .cells.lstm import lstm_step_backward, lstm_step_forward
from .cells.rnn import rnn_step_backward, rnn_step_forward
from .cells.stacked import stacked_backward, stacked_forward
from .validation import check_any_kind, check_kind


def _real_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 array, refusing what is not real numbers (None, strings, complex, objects)."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__}")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def rel_error(a, b) -> float:
    """Relative error ``||a - b|| / (||a|| + ||b||)`` of two arrays (0 when both are 0).

    A norm-based measure: unlike the element-wise maximum of ``|a - b| / (|a| + |b|)``
    it is not thrown off by entries that happen to be near zero.
    """
    a, b = _real_array("a", a), _real_array("b", b)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of the same shape, got {a.shape} and {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0.0 else float(np.linalg.norm(a - b) / denom)


def _scalar(value) -> float:
    if np.ndim(value) != 0:
        raise TypeError(f"the function must return a scalar loss, got an array of shape {np.shape(value)}")
    return float(value)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to ``x``.

    ``x`` must be a float64 array that ``f`` reads; each entry is nudged in
    place by ``+-eps`` and restored.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(f"numerical_gradient needs a float64 numpy array, got "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    if not eps > 0:
        raise ValueError(f"eps must be a positive step, got {eps}")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        k = it.multi_index
        old = x[k]
        x[k] = old + eps
        f_plus = _scalar(f())
        x[k] = old - eps
        f_minus = _scalar(f())
        x[k] = old
        grad[k] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def gradient_errors(loss: Callable[[], float], arrays: Mapping[str, np.ndarray],
                    analytic: Mapping[str, np.ndarray], eps: float = 1e-5) -> dict[str, float]:
    """``rel_error`` of each analytic gradient against its finite-difference estimate.

    ``loss()`` reads the arrays in ``arrays`` (float64, nudged in place);
    ``analytic[name]`` is the gradient claimed for ``arrays[name]``.
    """
    return {name: rel_error(analytic[name], numerical_gradient(loss, arrays[name], eps)) for name in arrays}


def _linear_probe(kind, forward: Callable, rng: np.random.Generator):
    """Run ``forward()`` once and draw the loss ``L = sum(out * dout) + sum(state * dstate)`` that probes it.

    ``forward`` returns ``(out, state, cache)`` as the sequence functions do.
    Returns the cache of that run, ``dout``, the list of ``dstate`` arrays
    (two for an LSTM) and ``loss()``, which runs ``forward`` again.
    """
    out, state, cache = forward()
    dout = rng.standard_normal(out.shape)
    dstate = [rng.standard_normal(s.shape) for s in (state if kind == "lstm" else (state,))]

    def loss() -> float:
        o, s, _ = forward()
        s = s if kind == "lstm" else (s,)
        return float(np.sum(o * dout) + sum(np.sum(a * b) for a, b in zip(s, dstate)))

    return cache, dout, dstate, loss


def check_sequence_gradients(kind, params, x, state0, lengths=None, rng=None, eps=1e-5, **options):
    """Check every gradient of :func:`~lessons_lib.cells.dispatch.sequence_backward` against finite differences.

    The loss is a random linear function of everything the forward pass
    returns, ``L = sum(out * dout) + sum(state * dstate)``, so that every
    output and the final state carry gradient.  Everything is copied to
    float64 first.

    Parameters
    ----------
    kind, params, x, state0, lengths, **options
        As for :func:`~lessons_lib.cells.dispatch.sequence_forward`.
    rng : numpy.random.Generator, optional
        Draws the random ``dout`` and ``dstate`` (default: seed 0).
    eps : float
        Finite-difference step.

    Returns
    -------
    dict
        Relative error per gradient: ``x``, ``h0`` (and ``c0`` for an LSTM),
        and each parameter key.  Below 1e-8 means the gradients agree.
        ``kind`` may also be a minimal cell, ``"mingru"`` or ``"minlstm"``
        (its option ``method=`` included).
    """
    kind = check_any_kind(kind)
    rng = np.random.default_rng(0) if rng is None else rng
    p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    x = np.array(x, dtype=np.float64)
    states = [np.array(s, dtype=np.float64) for s in (state0 if kind == "lstm" else (state0,))]
    state_names = ["h0", "c0"] if kind == "lstm" else ["h0"]

    def pack(s):
        return tuple(s) if kind == "lstm" else s[0]

    cache, dout, dstate, loss = _linear_probe(
        kind, lambda: sequence_forward(kind, p, x, pack(states), lengths, **options), rng)
    dx, dstate0, grads = sequence_backward(kind, dout, pack(dstate), cache)
    dstate0 = dstate0 if kind == "lstm" else (dstate0,)
    arrays = {"x": x, **dict(zip(state_names, states)), **p}
    analytic = {"x": dx, **dict(zip(state_names, dstate0)), **grads}
    return gradient_errors(loss, arrays, analytic, eps)


def check_stacked_gradients(kind, net, x, state0=None, lengths=None, rng=None, eps=1e-5, **options):
    """Check every gradient of :func:`~lessons_lib.cells.stacked.stacked_backward` against finite differences.

    The loss is a random linear function of the top layer's output and of
    every final state, ``L = sum(out * dout) + sum(state * dstate)``, as in
    :func:`check_sequence_gradients`.  Everything is copied to float64 first.

    Parameters
    ----------
    kind, net, x, state0, lengths, **options
        As for :func:`~lessons_lib.cells.stacked.stacked_forward` (``options``
        may hold ``residual``, and the GRU's ``reset`` and ``update``; not
        ``dropout``, whose masks would change between evaluations).
        ``state0`` None starts from zeros, and its gradient is then not checked.
    rng : numpy.random.Generator, optional
        Draws the random ``dout`` and ``dstate`` (default: seed 0).
    eps : float
        Finite-difference step.

    Returns
    -------
    dict
        Relative error per gradient: ``x``, ``h0`` (and ``c0`` for an LSTM)
        when ``state0`` is given, and ``net[k][d][key]`` for every layer
        ``k``, direction ``d`` and parameter ``key``.  Below 1e-8 means the
        gradients agree.
    """
    kind = check_kind(kind)
    if "dropout" in options:
        raise TypeError("check_stacked_gradients does not take dropout: its random masks would differ between "
                        "the evaluations of the loss; check with dropout=0")
    rng = np.random.default_rng(0) if rng is None else rng
    if not isinstance(net, (list, tuple)):
        raise TypeError(f"net must be a list of layers, each a tuple of parameter dicts, got {type(net).__name__}")
    p = [tuple({k: np.array(v, dtype=np.float64) for k, v in params.items()} for params in layer) for layer in net]
    x = np.array(x, dtype=np.float64)
    states = None
    if state0 is not None:
        states = [np.array(s, dtype=np.float64) for s in (state0 if kind == "lstm" else (state0,))]

    def pack(s):
        return None if s is None else (tuple(s) if kind == "lstm" else s[0])

    cache, dout, dstate, loss = _linear_probe(
        kind, lambda: stacked_forward(kind, p, x, pack(states), lengths, **options), rng)
    dx, dstate0, grads = stacked_backward(kind, dout, pack(dstate), cache)
    dstate0 = dstate0 if kind == "lstm" else (dstate0,)
    arrays, analytic = {"x": x}, {"x": dx}
    if states is not None:
        for name, s, ds in zip(("h0", "c0"), states, dstate0):
            arrays[name], analytic[name] = s, ds
    for k, (layer, glayer) in enumerate(zip(p, grads)):
        for d, (params, g) in enumerate(zip(layer, glayer)):
            for key in params:
                arrays[f"net[{k}][{d}][{key}]"], analytic[f"net[{k}][{d}][{key}]"] = params[key], g[key]
    return gradient_errors(loss, arrays, analytic, eps)


def check_step_gradients(kind, params, x, state_prev, dstate=None, rng=None, eps=1e-5, **options):
    """Check one step's backward pass (``lstm_step_backward`` and its twins) against finite differences.

    The loss is ``L = sum(h * dh)``, plus ``sum(c * dc)`` for an LSTM, with
    the upstream gradients ``dstate``, so that the step backward's inputs are
    exactly ``dh`` (and ``dc``).  Everything is copied to float64 first.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    params : dict
        The cell's ``W_x``, ``W_h``, ``b_x``, ``b_h``.
    x : array of shape (N, D)
    state_prev : array of shape (N, H), or a pair ``(h_prev, c_prev)`` for an LSTM
    dstate : array of shape (N, H), or a pair ``(dh, dc)`` for an LSTM, optional
        The gradients sent into the new state (default: standard normal, from ``rng``).
    rng : numpy.random.Generator, optional
        Draws ``dstate`` when it is not given (default: seed 0).
    eps : float
        Finite-difference step.
    **options
        The GRU's ``reset`` and ``update``.

    Returns
    -------
    dict
        Relative error per gradient: ``x``, ``h_prev`` (and ``c_prev`` for an
        LSTM), and each parameter key.  Below 1e-8 means the gradients agree.
    """
    kind = check_kind(kind)
    if kind != "gru" and options:
        raise TypeError(f"options {sorted(options)} apply to the GRU only, not to {kind!r}")
    lstm = kind == "lstm"
    if lstm and (not isinstance(state_prev, (tuple, list)) or len(state_prev) != 2):
        raise TypeError(f"state_prev of an LSTM must be a pair (h_prev, c_prev), got {type(state_prev).__name__}")
    if not lstm and isinstance(state_prev, (tuple, list)):
        raise TypeError(f"state_prev of {kind!r} is one array h_prev, not a pair; only an LSTM has (h_prev, c_prev)")
    rng = np.random.default_rng(0) if rng is None else rng
    p = {k: _real_array(f"params[{k!r}]", v) for k, v in params.items()}
    x = _real_array("x", x)
    states = [_real_array(name, s) for name, s in zip(("h_prev", "c_prev"), state_prev if lstm else (state_prev,))]
    names = ["h_prev", "c_prev"][:len(states)]

    def forward():
        if lstm:
            h, c, cache = lstm_step_forward(x, *states, p)
            return (h, c), cache
        if kind == "gru":
            h, cache = gru_step_forward(x, states[0], p, **options)
        else:
            h, cache = rnn_step_forward(x, states[0], p)
        return (h,), cache

    new, cache = forward()
    if dstate is None:
        upstream = [rng.standard_normal(s.shape) for s in new]
    else:
        upstream = [_real_array(name, d) for name, d in zip(("dh", "dc"), dstate if lstm else (dstate,))]
        for name, d, s in zip(("dh", "dc"), upstream, new):
            if d.shape != s.shape:
                raise ValueError(f"{name} must have the shape of the new state {s.shape}, got {d.shape}")

    def loss() -> float:
        return float(sum(np.sum(s * d) for s, d in zip(forward()[0], upstream)))

    if lstm:
        dx, dh_prev, dc_prev, grads = lstm_step_backward(*upstream, cache)
        dprev = [dh_prev, dc_prev]
    else:
        dx, dh_prev, grads = (gru_step_backward if kind == "gru" else rnn_step_backward)(upstream[0], cache)
        dprev = [dh_prev]
    arrays = {"x": x, **dict(zip(names, states)), **p}
    analytic = {"x": dx, **dict(zip(names, dprev)), **grads}
    return gradient_errors(loss, arrays, analytic, eps)
