"""How gradients travel backwards through time, and how fast they shrink or grow.

Chapter 2 derives backpropagation through time for the simple RNN.  With an
activation ``phi`` applied to each entry, one step is::

    a_t = W_h h_{t-1} + W_x x_t + b        pre-activation, (N, H)
    h_t = phi(a_t)                         the plain recurrence
    h_t = h_{t-1} + phi(a_t)               the residual-in-time variant

The **step Jacobian**, the partial derivative of ``h_t`` with respect to
``h_{t-1}`` with the input held fixed, is::

    J_t = diag(phi'(a_t)) W_h              plain       (for tanh, phi'(a_t) = 1 - h_t**2)
    J_t = I + diag(phi'(a_t)) W_h          residual

and over several steps the chain rule multiplies them::

    dh_t/dh_s = J_t J_{t-1} ... J_{s+1}    (s <= t; the empty product is I)

Because ``|phi'| <= gamma`` (``gamma`` = 1 for tanh and the identity, 1/4
for the logistic sigmoid), the plain Jacobians obey
``||J_t||_2 <= gamma sigma_max(W_h)``, so that::

    ||dh_t/dh_s||_2 <= (gamma sigma_max(W_h)) ** (t - s).

When ``gamma sigma_max < 1`` this bound forces the gradient to vanish
exponentially (a sufficient condition); when ``gamma sigma_max > 1`` the bound
allows growth but does not force it (so ``gamma sigma_max > 1`` is only
necessary for exploding gradients).  This is the analysis of Pascanu,
Mikolov and Bengio (2013), building on Hochreiter (1991) and Bengio, Simard
and Frasconi (1994).

The module also holds the chapter's other measurements: the loss "cliff" of
a one-unit RNN, the gradient with respect to the first input of ever longer
sequences, and the LSTM's cell path, whose partial derivative
``dc_T/dc_t`` is the product of the forget gates (Gers et al. 2000).

Shapes: ``N`` batch, ``T`` time, ``D`` input, ``H`` hidden.

References: R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of
training recurrent neural networks", ICML (2013); S. Hochreiter,
"Untersuchungen zu dynamischen neuronalen Netzen", diploma thesis, TU Munich
(1991); Y. Bengio, P. Simard and P. Frasconi, "Learning long-term
dependencies with gradient descent is difficult", IEEE TNN 5 (1994).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..cells.activations import dsigmoid_from_output, sigmoid
from ..cells.dispatch import sequence_backward, sequence_forward, zero_state
from ..cells.gru import check_gru_params
from ..cells.initialisation import orthogonal
from ..cells.lstm import check_lstm_params, lstm_forward, split_gates
from ..cells.rnn import check_rnn_params, rnn_backward, rnn_forward
from ..validation import as_array, check, check_choice, check_kind

ACTIVATIONS = ("tanh", "sigmoid", "linear")
# Largest value of |phi'|: tanh'(0) = 1, sigmoid'(0) = 1/4, and the identity has slope 1 everywhere.
GAMMA = {"tanh": 1.0, "sigmoid": 0.25, "linear": 1.0}
STRUCTURES = ("gaussian", "orthogonal", "identity")
_CHECK_PARAMS = {"rnn": check_rnn_params, "lstm": check_lstm_params, "gru": check_gru_params}


# ----------------------------------------------------------------------------- argument checks

def check_activation(activation: object) -> str:
    """Return ``activation`` if it is one of ``ACTIVATIONS``, else raise."""
    return check_choice("activation", activation, ACTIVATIONS)


def _check_number(name: str, value: object, *, positive: bool = False, nonnegative: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be zero or positive, got {value}")
    return value


def _check_count(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}")
    return rng


def _check_square(name: str, W: object) -> np.ndarray:
    """A float64 square matrix; the message names the expected and the received shape."""
    W = as_array(name, W).astype(np.float64, copy=False)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        H = W.shape[0] if W.ndim >= 1 else "H"
        raise ValueError(f"{name} must be a square matrix of shape ({H}, {H}), got {tuple(W.shape)}")
    return W


def _activate(activation: str, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``phi(a)`` and ``phi'(a)`` for one of ``ACTIVATIONS``."""
    if activation == "tanh":
        y = np.tanh(a)
        return y, 1.0 - y * y
    if activation == "sigmoid":
        y = sigmoid(a)
        return y, dsigmoid_from_output(y)
    return a.copy(), np.ones_like(a)


# ----------------------------------------------------------------------------- recurrent matrices

def largest_singular_value(W) -> float:
    """The spectral norm ``sigma_max(W) = max ||W v|| / ||v||`` of a matrix of shape (M, K)."""
    W = check("W", W, ("M", "K"), {})
    return float(np.linalg.norm(W.astype(np.float64), 2))


def scale_to_spectral_norm(W_h, sigma_max) -> np.ndarray:
    """``W_h`` (H, H) multiplied by a constant so that its largest singular value is ``sigma_max``."""
    W_h = _check_square("W_h", W_h)
    sigma_max = _check_number("sigma_max", sigma_max, nonnegative=True)
    s = np.linalg.norm(W_h, 2)
    if s == 0.0:
        raise ValueError("W_h is all zeros; it has no direction to scale")
    return W_h * (sigma_max / s)


def recurrent_weights(H, sigma_max, rng, structure="gaussian") -> np.ndarray:
    """A recurrent matrix ``W_h`` of shape (H, H) whose largest singular value is ``sigma_max``.

    Parameters
    ----------
    H : int
        Hidden size.
    sigma_max : float
        The largest singular value wanted (zero or positive).
    rng : numpy.random.Generator
    structure : {"gaussian", "orthogonal", "identity"}
        ``"gaussian"``: i.i.d. normal entries, rescaled; its other singular
        values spread from 0 to ``sigma_max``.  ``"orthogonal"``: a random
        orthogonal matrix times ``sigma_max``, so *every* singular value is
        ``sigma_max``.  ``"identity"``: ``sigma_max I`` (Le et al. 2015 use
        the identity to start a ReLU RNN).

    Returns
    -------
    array of shape (H, H)
    """
    H = _check_count("H", H)
    sigma_max = _check_number("sigma_max", sigma_max, nonnegative=True)
    rng = _check_rng(rng)
    if structure not in STRUCTURES:
        raise ValueError(f"structure must be one of {STRUCTURES}, got {structure!r}")
    if structure == "identity":
        return sigma_max * np.eye(H)
    if structure == "orthogonal":
        return sigma_max * orthogonal(H, rng)
    W = rng.standard_normal((H, H))
    return W * (sigma_max / np.linalg.norm(W, 2))


# ----------------------------------------------------------------------------- non-normal matrices: transient growth

def spectral_radius(W) -> float:
    """``rho(W) = max |eigenvalue|`` of a square matrix of shape (H, H).

    It fixes how fast ``W^k`` shrinks or grows in the long run,
    ``||W^k||_2 ** (1 / k) -> rho(W)`` (Gelfand's formula), but not for how
    many steps ``W^k`` may first grow: that takes the singular values.
    """
    return float(np.max(np.abs(np.linalg.eigvals(_check_square("W", W)))))


def chain_matrix(H, eigenvalue, coupling) -> np.ndarray:
    """``W = eigenvalue I + coupling S`` of shape (H, H), with ``S`` the ones on the first superdiagonal.

    In a recurrence ``h_t = W h_{t-1}`` each unit keeps ``eigenvalue`` times
    its own state and receives ``coupling`` times the state of the next
    unit: a chain.  ``W`` is upper triangular, so every eigenvalue equals
    ``eigenvalue`` and ``rho(W) = |eigenvalue|``, however large the
    coupling; for ``coupling != 0`` and ``H >= 2`` the matrix is
    **non-normal** (``W W^T != W^T W``).  Because ``I`` and ``S`` commute and
    ``S^H = 0``, its powers have a closed form::

        W^k = sum_j C(k, j) eigenvalue^(k - j) coupling^j S^j     (j = 0 .. min(k, H - 1))

    and for ``H = 2``, ``W^k = [[l^k, k a l^(k-1)], [0, l^k]]`` with ``l`` the
    eigenvalue and ``a`` the coupling.  Orhan and Pitkow (2020) study RNNs
    with such chain-like, non-normal recurrent matrices.
    """
    H = _check_count("H", H)
    eigenvalue = _check_number("eigenvalue", eigenvalue)
    coupling = _check_number("coupling", coupling)
    return eigenvalue * np.eye(H) + coupling * np.eye(H, k=1)


def power_norms(W, K) -> np.ndarray:
    """Spectral norms ``||W^k||_2`` of the powers of ``W`` (H, H), for ``k = 0 .. K``.

    For the linear recurrence ``h_t = W h_{t-1}``, ``W^k`` is the Jacobian
    ``dh_t/dh_{t-k}``, so these are the largest factors by which a gradient
    can grow over ``k`` steps back.  They lie between the two numbers that
    the eigenvalue story and the norm bound give::

        rho(W)^k  <=  ||W^k||_2  <=  ||W||_2^k

    with equality on both sides when ``W`` is normal (symmetric, orthogonal,
    ...).  The running product is rescaled at every step, so that very
    large or small norms neither overflow nor underflow.

    Parameters
    ----------
    W : array of shape (H, H)
    K : int
        Largest power (zero or positive).

    Returns
    -------
    array of shape (K + 1,)
        Entry ``k`` is ``||W^k||_2``; entry 0 is 1 (the identity).
    """
    W = _check_square("W", W)
    K = _check_count("K", K, 0)
    log_norms = np.zeros(K + 1)
    P, log_scale = np.eye(W.shape[0]), 0.0               # W^k = exp(log_scale) * P
    for k in range(1, K + 1):
        P = P @ W
        norm = float(np.linalg.norm(P, 2))
        if norm == 0.0:                                  # a nilpotent W: every later power is zero too
            log_norms[k:] = -np.inf
            break
        log_norms[k] = log_scale + np.log(norm)
        P /= norm
        log_scale += np.log(norm)
    with np.errstate(over="ignore", under="ignore"):     # beyond float64's range: inf or 0, as for rho^k
        return np.exp(log_norms)


class TransientGrowth(NamedTuple):
    """The norms of the powers of a matrix, beside what its spectral radius and its norm predict."""

    k: np.ndarray              # (K + 1,) powers 0 .. K
    norms: np.ndarray          # (K + 1,) ||W^k||_2, measured
    radius_powers: np.ndarray  # (K + 1,) rho(W)^k: the eigenvalue prediction, a lower bound
    norm_powers: np.ndarray    # (K + 1,) ||W||_2^k: the upper bound
    radius: float              # rho(W), the largest |eigenvalue|
    norm: float                # ||W||_2, the largest singular value
    peak: float                # max_k ||W^k||_2
    peak_k: int                # the power at which it is reached


def transient_growth(W, K) -> TransientGrowth:
    """:func:`power_norms` of ``W`` (H, H) for ``k = 0 .. K``, with ``rho(W)^k``, ``||W||_2^k`` and the peak.

    When ``rho(W) < 1`` the norms must decay in the end; when ``W`` is
    non-normal they may first grow, for many steps and by orders of
    magnitude: **transient growth** (Trefethen and Embree 2005).
    ``peak > 1`` measures how much.

    Returns
    -------
    TransientGrowth
    """
    norms = power_norms(W, K)
    W = _check_square("W", W)
    k = np.arange(norms.size)
    radius, norm = spectral_radius(W), float(np.linalg.norm(W, 2))
    with np.errstate(over="ignore", under="ignore"):
        radius_powers, norm_powers = radius ** k, norm ** k
    peak_k = int(np.argmax(norms))
    return TransientGrowth(k, norms, radius_powers, norm_powers, radius, norm, float(norms[peak_k]), peak_k)


# ----------------------------------------------------------------------------- forward and Jacobians

class Trajectory(NamedTuple):
    """The states of a simulated recurrence and the slopes of its activation."""

    h: np.ndarray     # (N, T + 1, H) hidden states, h[:, 0] = h0
    dphi: np.ndarray  # (N, T, H) phi'(a_t) for t = 1 .. T (dphi[:, t - 1] belongs to step t)


def simulate(W_h, W_x, b, x, h0, activation="tanh", residual=False) -> Trajectory:
    """Run the recurrence ``h_t = phi(a_t)`` (or ``h_{t-1} + phi(a_t)``) with any activation.

    A plain float64 loop, independent of :mod:`lessons_lib.cells.rnn`, so that the
    tanh case can be checked against the library and the other activations
    measured the same way.

    Parameters
    ----------
    W_h : array of shape (H, H)
    W_x : array of shape (H, D)
    b : array of shape (H,)
    x : array of shape (N, T, D)
    h0 : array of shape (N, H)
    activation : {"tanh", "sigmoid", "linear"}
    residual : bool
        If true, ``h_t = h_{t-1} + phi(a_t)``: the residual connection applied in time.

    Returns
    -------
    Trajectory
        ``h`` (N, T + 1, H) with ``h[:, 0] = h0`` and ``dphi`` (N, T, H) = ``phi'(a_t)``.
    """
    activation = check_activation(activation)
    W_h = _check_square("W_h", W_h)
    dims = {"H": W_h.shape[0]}
    W_x = check("W_x", W_x, ("H", "D"), dims).astype(np.float64, copy=False)
    b = check("b", b, ("H",), dims).astype(np.float64, copy=False)
    x = check("x", x, ("N", "T", "D"), dims).astype(np.float64, copy=False)
    h0 = check("h0", h0, ("N", "H"), dims).astype(np.float64, copy=False)
    N, T, _ = x.shape
    h = np.empty((N, T + 1, dims["H"]))
    dphi = np.empty((N, T, dims["H"]))
    h[:, 0] = h0
    a_x = x @ W_x.T + b                                  # (N, T, H) input part, all steps at once
    for t in range(T):
        y, dphi[:, t] = _activate(activation, a_x[:, t] + h[:, t] @ W_h.T)
        h[:, t + 1] = h[:, t] + y if residual else y
    return Trajectory(h, dphi)


def step_jacobians(W_h, dphi, residual=False) -> np.ndarray:
    """The step Jacobians ``J_t = dh_t/dh_{t-1}`` of every step of every sequence.

    Parameters
    ----------
    W_h : array of shape (H, H)
    dphi : array of shape (N, T, H)
        Slopes ``phi'(a_t)``; for the library's tanh RNN, ``1 - h_t**2`` of
        its outputs ``out`` (N, T, H).
    residual : bool
        Add the identity: ``J_t = I + diag(phi'(a_t)) W_h``.

    Returns
    -------
    array of shape (N, T, H, H)
        ``J[:, t - 1]`` is ``diag(dphi[:, t - 1]) W_h`` (+ I), the Jacobian of step ``t``.
    """
    W_h = _check_square("W_h", W_h)
    dphi = check("dphi", dphi, ("N", "T", "H"), {"H": W_h.shape[0]}).astype(np.float64, copy=False)
    J = dphi[..., :, None] * W_h                         # (N, T, H, H): row i scaled by phi'(a_t)_i
    if residual:
        J = J + np.eye(W_h.shape[0])
    return J


def _check_jacobians(jacobians) -> np.ndarray:
    J = as_array("jacobians", jacobians).astype(np.float64, copy=False)
    if J.ndim != 4 or J.shape[2] != J.shape[3]:
        raise ValueError(f"jacobians must have shape (N, T, H, H), got {tuple(J.shape)}")
    return J


def jacobian_product(jacobians, s, t) -> np.ndarray:
    """``dh_t/dh_s = J_t J_{t-1} ... J_{s+1}`` for ``0 <= s <= t <= T``.

    Parameters
    ----------
    jacobians : array of shape (N, T, H, H)
        From :func:`step_jacobians`; ``jacobians[:, t - 1]`` is ``J_t``.
    s, t : int
        Earlier and later step.

    Returns
    -------
    array of shape (N, H, H)
        The identity when ``s == t``.
    """
    J = _check_jacobians(jacobians)
    N, T, H, _ = J.shape
    s, t = _check_count("s", s, 0), _check_count("t", t, 0)
    if not s <= t <= T:
        raise ValueError(f"need 0 <= s <= t <= T = {T}, got s = {s}, t = {t}")
    P = np.broadcast_to(np.eye(H), (N, H, H)).copy()
    for k in range(t, s, -1):                            # P = J_t ... J_k, one factor more per pass
        P = P @ J[:, k - 1]
    return P


def rnn_weight_gradient_terms(params, x, h0, dh_T) -> np.ndarray:
    """Each step's term in ``dL/dW_h`` for the library's tanh RNN when the loss reads only ``h_T``.

    Backpropagation through time, written out: the total derivative of the
    loss with respect to ``h_t`` is ``dL/dh_t = (dh_T/dh_t)^T dL/dh_T``, one
    Jacobian ``J_{t+1}^T`` more per step back, and step ``t`` uses ``W_h``
    through ``a_t = W_h h_{t-1} + ...``, so that::

        dL/dW_h = sum_t delta_t h_{t-1}^T,   delta_t = (1 - h_t**2) * dL/dh_t

    summed over the batch as well.  The sum of the returned terms equals
    ``grads["W_h"]`` of :func:`~lessons_lib.cells.dispatch.sequence_backward`.

    Parameters
    ----------
    params : dict
        RNN parameters ``W_x`` (H, D), ``W_h`` (H, H), ``b_x``, ``b_h`` (H,).
    x : array of shape (N, T, D)
    h0 : array of shape (N, H)
    dh_T : array of shape (N, H)
        Gradient of the loss with respect to the final state.

    Returns
    -------
    array of shape (T, H, H)
        ``terms[t - 1]`` is the term of step ``t``, at distance ``T - t`` from the loss.
    """
    out, _, cache = rnn_forward(params, x, h0)
    N, T, H = out.shape
    dh_T = check("dh_T", dh_T, ("N", "H"), {"N": N, "H": H}, out.dtype)
    h, W_h = cache.h, cache.params["W_h"]                # h: (T + 1, N, H), time-major, h[0] = h0
    terms = np.empty((T, H, H), dtype=out.dtype)
    g = dh_T.copy()                                      # dL/dh_t, starting at t = T
    for t in range(T, 0, -1):
        delta = g * (1.0 - h[t] ** 2)                    # (N, H) dL/da_t
        terms[t - 1] = delta.T @ h[t - 1]                # (H, H) immediate partial through step t's W_h
        g = delta @ W_h                                  # dL/dh_{t-1} = J_t^T dL/dh_t
    return terms


def _log_jacobian_norms(J: np.ndarray) -> np.ndarray:
    """``log ||dh_T/dh_{T-k}||_2`` for k = 0 .. T, shape (N, T + 1), without underflow."""
    N, T, H, _ = J.shape
    log_norms = np.zeros((N, T + 1))
    P = np.broadcast_to(np.eye(H), (N, H, H)).copy()
    log_scale = np.zeros(N)                              # P_true = exp(log_scale) * P
    for k in range(1, T + 1):
        P = P @ J[:, T - k]                              # append J_{T-k+1} on the right
        norms = np.linalg.norm(P, 2, axis=(1, 2))
        with np.errstate(divide="ignore"):
            log_norms[:, k] = log_scale + np.log(norms)
        # Rescale so that P stays near norm 1; an exactly zero product stays zero (log norm -inf).
        safe = np.where(norms > 0, norms, 1.0)
        P /= safe[:, None, None]
        log_scale += np.log(safe)
    return log_norms


def jacobian_norms(jacobians) -> np.ndarray:
    """Spectral norms ``||dh_T/dh_{T-k}||_2`` for every distance ``k = 0 .. T``.

    The running product is rescaled at every step, so that norms far below
    1e-300 come out as 0.0 rather than as an underflow warning.

    Parameters
    ----------
    jacobians : array of shape (N, T, H, H)

    Returns
    -------
    array of shape (N, T + 1)
        Column ``k`` is the norm at distance ``k`` (column 0 is 1, the identity).
    """
    return np.exp(_log_jacobian_norms(_check_jacobians(jacobians)))


def norm_bound(sigma_max, distances, activation="tanh") -> np.ndarray:
    """Pascanu et al.'s bound ``(gamma sigma_max) ** k`` on ``||dh_t/dh_{t-k}||_2``.

    ``gamma`` is the largest slope of the activation (``GAMMA``).  Holds
    for the plain recurrence only: the residual variant's Jacobians contain I.
    """
    sigma_max = _check_number("sigma_max", sigma_max, nonnegative=True)
    gamma = GAMMA[check_activation(activation)]
    k = as_array("distances", distances)
    if np.any(k < 0):
        raise ValueError("distances must be zero or positive")
    with np.errstate(over="ignore", under="ignore"):
        return (gamma * sigma_max) ** k


def typical_norm(norms, axis=0) -> np.ndarray:
    """Geometric mean along ``axis`` (the batch): the natural average of numbers plotted on a log scale.

    A zero anywhere makes the mean zero.
    """
    norms = as_array("norms", norms)
    if np.any(norms < 0):
        raise ValueError("norms must be zero or positive")
    with np.errstate(divide="ignore"):
        return np.exp(np.mean(np.log(norms), axis=axis))


class GradientDecay(NamedTuple):
    """Measured Jacobian norms against distance in time, with Pascanu's bound beside them."""

    distance: np.ndarray  # (T + 1,) k = 0 .. T
    norms: np.ndarray     # (N, T + 1) ||dh_T/dh_{T-k}||_2 for each sequence
    typical: np.ndarray   # (T + 1,) geometric mean over the N sequences
    bound: np.ndarray     # (T + 1,) (gamma sigma_max) ** k
    sigma_max: float      # largest singular value of W_h
    activation: str
    residual: bool
    mean_slope: float     # mean of phi'(a_t) over all steps, units and sequences


def measure_gradient_decay(W_h, T, rng, *, activation="tanh", N=8, input_scale=1.0, residual=False) -> GradientDecay:
    """Run a recurrence with recurrent matrix ``W_h`` on random inputs and measure ``||dh_T/dh_{T-k}||_2``.

    The inputs drive every unit directly: ``W_x = I``, ``b = 0``, ``h_0 = 0``,
    and the inputs are drawn as ``x = input_scale * rng.standard_normal((N, T, H))``,
    so that another model can be fed the very same sequences.

    Parameters
    ----------
    W_h : array of shape (H, H)
    T : int
        Sequence length (the largest distance measured).
    rng : numpy.random.Generator
        Draws the inputs.
    activation : {"tanh", "sigmoid", "linear"}
    N : int
        Number of sequences averaged.
    input_scale : float
        Standard deviation of the input drive (0 gives no input).
    residual : bool
        Measure ``h_t = h_{t-1} + phi(a_t)`` instead.

    Returns
    -------
    GradientDecay
    """
    activation = check_activation(activation)
    W_h = _check_square("W_h", W_h)
    T, N = _check_count("T", T), _check_count("N", N)
    input_scale = _check_number("input_scale", input_scale, nonnegative=True)
    rng = _check_rng(rng)
    H = W_h.shape[0]
    x = input_scale * rng.standard_normal((N, T, H))     # (N, T, H): W_x = I, so D = H
    traj = simulate(W_h, np.eye(H), np.zeros(H), x, np.zeros((N, H)), activation, residual)
    norms = jacobian_norms(step_jacobians(W_h, traj.dphi, residual))
    sigma = float(np.linalg.norm(W_h, 2))
    distance = np.arange(T + 1)
    return GradientDecay(distance, norms, typical_norm(norms), norm_bound(sigma, distance, activation),
                         sigma, activation, bool(residual), float(traj.dphi.mean()))


def gradient_decay_grid(sigmas: Sequence[float], activations: Sequence[str], T, seed=0, *, H=16, N=4,
                        input_scale=1.0, structure="orthogonal") -> dict:
    """:func:`measure_gradient_decay` for every ``(activation, sigma_max)`` pair: the small multiples.

    Every cell of the grid uses the same random recurrent matrix (of the
    given ``structure``, drawn from ``seed``), rescaled to each
    ``sigma_max``, and the same inputs, so that the panels differ only in
    what their titles say.

    Returns
    -------
    dict
        ``{(activation, sigma_max): GradientDecay}``.
    """
    activations = [check_activation(a) for a in activations]
    sigmas = [_check_number("sigma_max", s, nonnegative=True) for s in sigmas]
    if not activations or not sigmas:
        raise ValueError("gradient_decay_grid needs at least one activation and one sigma_max")
    W = recurrent_weights(_check_count("H", H), 1.0, np.random.default_rng(seed), structure)
    return {(a, s): measure_gradient_decay(s * W, T, np.random.default_rng(seed + 1), activation=a, N=N,
                                           input_scale=input_scale)
            for a in activations for s in sigmas}


# ----------------------------------------------------------------------------- exploding: the cliff

class Cliff(NamedTuple):
    """Loss and gradient of a one-unit RNN as functions of its recurrent weight."""

    w: np.ndarray      # (M,) recurrent weights
    h_T: np.ndarray    # (M,) final states
    loss: np.ndarray   # (M,) 0.5 (h_T - target)**2
    dloss: np.ndarray  # (M,) dL/dw from the library's backward pass
    dbias: np.ndarray  # (M,) dL/db, the gradient with respect to the other parameter


def cliff_landscape(ws, T=30, b=-0.5, h0=1.0, target=-1.0) -> Cliff:
    """The loss ``0.5 (h_T - target)**2`` of ``h_t = tanh(w h_{t-1} + b)`` for each ``w`` in ``ws``.

    A one-unit RNN without input; each ``w`` is run through
    :func:`lessons_lib.cells.rnn.rnn_forward` and its gradient ``dL/dw`` comes from
    :func:`lessons_lib.cells.rnn.rnn_backward`.  With ``b < 0`` and ``h_0 > 0`` the
    map has two stable fixed points for large ``w`` and one for small ``w``;
    near the weight where one of them appears (a bifurcation) the final state
    jumps and the loss has a cliff.

    Parameters
    ----------
    ws : array of shape (M,)
    T : int
        Number of steps.
    b, h0, target : float
        Bias, initial state and target of the final state.

    Returns
    -------
    Cliff
        Also ``dL/db``: with ``dL/dw`` it makes a two-entry gradient whose
        direction clipping may or may not keep.
    """
    ws = as_array("ws", ws).astype(np.float64, copy=False)
    if ws.ndim != 1 or ws.size == 0:
        raise ValueError(f"ws must have shape (M,) with M >= 1, got {tuple(ws.shape)}")
    if not np.all(np.isfinite(ws)):
        raise ValueError("ws must be finite")
    T = _check_count("T", T)
    b, h0 = _check_number("b", b), _check_number("h0", h0)
    target = _check_number("target", target)
    x = np.zeros((1, T, 1))
    h_T, loss, dloss, dbias = (np.empty_like(ws) for _ in range(4))
    for m, w in enumerate(ws):
        params = {"W_x": np.zeros((1, 1)), "W_h": np.array([[w]]), "b_x": np.array([b]), "b_h": np.zeros(1)}
        _, h, cache = rnn_forward(params, x, np.array([[h0]]))
        err = h[0, 0] - target
        _, _, grads = rnn_backward(np.zeros((1, T, 1)), np.array([[err]]), cache)
        h_T[m], loss[m], dloss[m], dbias[m] = h[0, 0], 0.5 * err * err, grads["W_h"][0, 0], grads["b_x"][0]
    return Cliff(ws.copy(), h_T, loss, dloss, dbias)


def bifurcation_weight(b) -> float:
    """The recurrent weight ``w_c`` at which ``h = tanh(w h + b)`` (with ``b < 0``) gains a positive fixed point.

    At ``w_c`` the fixed point is born where the map touches the diagonal:
    ``h = tanh(w h + b)`` and ``w (1 - h**2) = 1`` (a saddle-node
    bifurcation).  Eliminating ``w`` leaves one equation in ``h``, solved
    here by bisection on ``0 < h < 1``.
    """
    b = _check_number("b", b)
    if b >= 0:
        raise ValueError(f"b must be negative for the positive fixed point to appear suddenly, got {b}")

    def gap(h):  # tanh(w h + b) - h on the curve w (1 - h^2) = 1: negative before the touching point
        return np.tanh(h / (1.0 - h * h) + b) - h

    lo, hi = 1e-12, 1.0 - 1e-12
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if gap(mid) < 0 else (lo, mid)
    h = 0.5 * (lo + hi)
    return float(1.0 / (1.0 - h * h))


def _cliff_forward(ws: np.ndarray, T: int, b: float, h0: float, target: float) -> tuple[np.ndarray, np.ndarray]:
    """``h_T`` and ``dL/dw`` of the one-unit RNN for every ``w`` at once, by forward-mode differentiation.

    Along with ``h_t = tanh(w h_{t-1} + b)`` it carries ``u_t = dh_t/dw``,
    ``u_t = (1 - h_t**2) (h_{t-1} + w u_{t-1})`` with ``u_0 = 0``, so that
    ``dL/dw = (h_T - target) u_T``.  A vector of weights costs one pass of
    ``T`` steps; :func:`cliff_landscape` runs the library's backward pass
    once per weight instead, and the tests check that the two agree.
    """
    h, u = np.full(ws.shape, h0), np.zeros(ws.shape)
    for _ in range(T):
        h_new = np.tanh(ws * h + b)
        u = (1.0 - h_new * h_new) * (h + ws * u)
        h = h_new
    return h, (h - target) * u


class CliffWall(NamedTuple):
    """Where the loss cliff of :func:`cliff_landscape` is steepest, for one sequence length."""

    T: int        # number of steps
    w: float      # the wall: the weight at which |dL/dw| is largest
    peak: float   # |dL/dw| there
    h_T: float    # the final state there


def cliff_wall(T, b=-0.5, h0=1.0, target=-1.0, search=(0.0, 4.0)) -> CliffWall:
    """The weight ``w`` in ``search`` at which ``|dL/dw|`` of :func:`cliff_landscape` is largest, and that value.

    A grid of 4001 weights over ``search``, then grids of 41 weights around
    the best point of the last grid, each ten times finer, until the spacing
    is below ``1e-10``.  The peak comes out to rounding error; its position
    to about ``1e-8``, since the top of a smooth maximum is flat to within
    rounding over about that width.  The zoom assumes that the largest value
    on a grid lies next to the true maximum, which holds for the narrow,
    single spike of the wall: checked against a dense search up to ``T = 1280``.

    Parameters
    ----------
    T : int
        Number of steps.
    b, h0, target : float
        As for :func:`cliff_landscape`.
    search : (float, float)
        The interval of weights searched, ``lo < hi``.

    Returns
    -------
    CliffWall
    """
    T = _check_count("T", T)
    b, h0, target = _check_number("b", b), _check_number("h0", h0), _check_number("target", target)
    if not isinstance(search, (tuple, list)) or len(search) != 2:
        raise TypeError(f"search must be a pair (lo, hi), got {search!r}")
    lo, hi = _check_number("search[0]", search[0]), _check_number("search[1]", search[1])
    if not lo < hi:
        raise ValueError(f"search must have lo < hi, got {search!r}")
    ws = np.linspace(lo, hi, 4001)
    while True:
        _, dloss = _cliff_forward(ws, T, b, h0, target)
        k = int(np.argmax(np.abs(dloss)))
        if ws[1] - ws[0] < 1e-10:
            break
        ws = np.linspace(ws[max(k - 2, 0)], ws[min(k + 2, ws.size - 1)], 41)
    h_T, dloss = _cliff_forward(ws[k:k + 1], T, b, h0, target)
    return CliffWall(T, float(ws[k]), float(abs(dloss[0])), float(h_T[0]))


class CliffScaling(NamedTuple):
    """How the wall of the loss cliff moves and steepens as the sequence grows."""

    lengths: np.ndarray         # (M,) sequence lengths T
    w_c: float                  # the bifurcation weight
    wall: np.ndarray            # (M,) where |dL/dw| is largest
    distance: np.ndarray        # (M,) w_c - wall
    peak: np.ndarray            # (M,) the largest |dL/dw|
    distance_ratio: np.ndarray  # (M - 1,) distance[m - 1] / distance[m]: 4 when T doubles, if distance ~ T**-2
    peak_ratio: np.ndarray      # (M - 1,) peak[m] / peak[m - 1]: 8 when T doubles, if peak ~ T**3
    bottleneck: float           # pi**2 / h_c**2, the limit of T**2 (w_c - wall) (h_c: the fixed point born at w_c)


def cliff_scaling(lengths, b=-0.5, h0=1.0, target=-1.0) -> CliffScaling:
    """:func:`cliff_wall` for several sequence lengths, and the scaling law of a saddle-node bottleneck.

    Just below the bifurcation weight ``w_c`` (:func:`bifurcation_weight`)
    the map ``h -> tanh(w h + b)`` nearly touches the diagonal at the state
    ``h_c`` where the new fixed point will appear, ``1 - h_c**2 = 1 / w_c``.
    There each step moves the state very little: with ``delta = w_c - w``
    and ``v = h - h_c``, a Taylor expansion gives
    ``h_{t+1} - h_t ~ -h_c (delta / w_c + w_c v**2)``, and passing the
    bottleneck takes about ``pi / (h_c sqrt(delta))`` steps (Strogatz 2015,
    "ghosts and bottlenecks").  The wall is where that passage takes the
    whole sequence, so ``w_c - wall ~ (pi / h_c)**2 / T**2``, and ``dh_T/dw``
    there grows like ``T**3`` (the passage time changes by
    ``d/d delta (delta ** -1/2) ~ delta ** -3/2 ~ T**3`` steps per unit of ``w``).
    Doubling ``T`` divides the distance by about 4 and multiplies the peak
    by about 8, approached as ``T`` grows.

    Parameters
    ----------
    lengths : sequence of int
        Sequence lengths, each at least 1.
    b : float
        Negative bias (a positive fixed point appears suddenly only if ``b < 0``).
    h0, target : float
        As for :func:`cliff_landscape`; ``h0`` above the bottleneck, so that the state passes it.

    Returns
    -------
    CliffScaling
    """
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu" or arr.min() < 1:
        raise ValueError(f"lengths must be a 1-D sequence of ints, each at least 1, got {lengths!r}")
    w_c = bifurcation_weight(b)
    walls = [cliff_wall(int(T), b, h0, target, search=(0.0, w_c + 2.0)) for T in arr]
    wall = np.array([c.w for c in walls])
    peak = np.array([c.peak for c in walls])
    distance = w_c - wall
    h_c = np.sqrt(1.0 - 1.0 / w_c)
    return CliffScaling(arr.astype(np.int64), w_c, wall, distance, peak, distance[:-1] / distance[1:],
                        peak[1:] / peak[:-1], float(np.pi ** 2 / h_c ** 2))


# ----------------------------------------------------------------------------- forgetting the first input

class InputGradients(NamedTuple):
    """How strongly the final state's loss reacts to the first and to the last input."""

    lengths: np.ndarray  # (M,) sequence lengths T
    first: np.ndarray    # (M,) typical ||dL/dx_1|| over the batch
    last: np.ndarray     # (M,) typical ||dL/dx_T||


def input_gradient_by_length(kind, params, x, v, lengths) -> InputGradients:
    """``||dL/dx_1||`` and ``||dL/dx_T||`` for the loss ``L = sum_n v . h_T`` as the length ``T`` grows.

    Each length ``T`` runs the first ``T`` steps of the batch ``x`` from a
    zero state.  The loss reads only the final hidden state, through the
    fixed vector ``v``; the gradients come from the library's
    :func:`~lessons_lib.cells.dispatch.sequence_backward`, so ``kind`` may be any cell.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    params : dict
        The cell's parameters.
    x : array of shape (N, T_max, D)
        Input sequences, at least as long as the longest length.
    v : array of shape (H,)
        The read-out direction of the loss.
    lengths : sequence of int
        Sequence lengths, ``1 <= T <= T_max``.

    Returns
    -------
    InputGradients
        ``first[m]`` and ``last[m]`` are the geometric means over the batch of
        ``||dL/dx_1||`` and ``||dL/dx_T||`` for ``T = lengths[m]``.
    """
    kind = check_kind(kind)
    _, dtype, dims = _CHECK_PARAMS[kind](params)
    x = check("x", x, ("N", "T", "D"), dims, dtype)
    v = check("v", v, ("H",), dims, dtype)
    N, T_max, _ = x.shape
    H = dims["H"]
    lengths = _check_lengths(lengths, T_max)
    first, last = np.empty(lengths.size), np.empty(lengths.size)
    for m, T in enumerate(lengths):
        out, _, cache = sequence_forward(kind, params, x[:, :T], zero_state(kind, N, H, dtype))
        dh_T = np.broadcast_to(v, (N, H)).copy()
        dstate = (dh_T, np.zeros_like(dh_T)) if kind == "lstm" else dh_T
        dx, _, _ = sequence_backward(kind, np.zeros_like(out), dstate, cache)
        first[m] = typical_norm(np.linalg.norm(dx[:, 0], axis=1))
        last[m] = typical_norm(np.linalg.norm(dx[:, T - 1], axis=1))
    return InputGradients(lengths, first, last)


def first_input_influence(kind, params, x, x1_new, lengths) -> np.ndarray:
    """How far ``h_T`` moves when the first input is replaced: a finite-change version of ``dh_T/dx_1``.

    For each length ``T``, runs the first ``T`` steps of ``x`` twice from a
    zero state, once as given and once with ``x_1`` replaced by ``x1_new``,
    and measures ``||h_T - h_T'||``.  If it is tiny, the final state keeps
    (almost) no trace of the first input: the network has forgotten it.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    params : dict
    x : array of shape (N, T_max, D)
    x1_new : array of shape (N, D)
        The replacement first inputs.
    lengths : sequence of int
        Sequence lengths, ``1 <= T <= T_max``.

    Returns
    -------
    array of shape (M,)
        Geometric mean over the batch of ``||h_T - h_T'||`` for each length.
    """
    kind = check_kind(kind)
    _, dtype, dims = _CHECK_PARAMS[kind](params)
    x = check("x", x, ("N", "T", "D"), dims, dtype)
    x1_new = check("x1_new", x1_new, ("N", "D"), dims, dtype)
    N, T_max, _ = x.shape
    lengths = _check_lengths(lengths, T_max)
    x_new = x.copy()
    x_new[:, 0] = x1_new
    state0 = zero_state(kind, N, dims["H"], dtype)
    moves = np.empty(lengths.size)
    for m, T in enumerate(lengths):
        out, _, _ = sequence_forward(kind, params, x[:, :T], state0)
        out_new, _, _ = sequence_forward(kind, params, x_new[:, :T], state0)
        moves[m] = typical_norm(np.linalg.norm(out[:, -1] - out_new[:, -1], axis=1))
    return moves


def _check_lengths(lengths, T_max: int) -> np.ndarray:
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu" or arr.min() < 1 or arr.max() > T_max:
        raise ValueError(f"lengths must be a 1-D sequence of ints between 1 and T_max = {T_max}, got {lengths!r}")
    return arr.astype(np.int64)


# ----------------------------------------------------------------------------- the LSTM's cell path

def forget_gate_products(params, x, h0, c0) -> np.ndarray:
    """The partial derivative of ``c_T`` with respect to ``c_{T-k}`` along the cell path, for every ``k``.

    The LSTM's cell update ``c_t = f_t * c_{t-1} + i_t * g_t`` gives, with
    the gates held fixed, ``dc_t/dc_{t-1} = diag(f_t)``; over ``k`` steps the
    product ``diag(f_T f_{T-1} ... f_{T-k+1})``.  This is the additive path of
    the "constant error carousel".  The total derivative adds paths through
    ``h`` and the gates; they vanish when ``W_h = 0``.

    Parameters
    ----------
    params : dict
        LSTM parameters (``W_x`` (4H, D), ``W_h`` (4H, H), ``b_x``, ``b_h`` (4H,)).
    x : array of shape (N, T, D)
    h0, c0 : arrays of shape (N, H)

    Returns
    -------
    array of shape (N, T + 1, H)
        Entry ``[:, k]`` holds the diagonal of ``dc_T/dc_{T-k}`` along the cell path (1 at ``k = 0``).
    """
    _, _, _, cache = lstm_forward(params, x, h0, c0)
    f = split_gates(cache.gates)["f"].astype(np.float64)  # (T, N, H)
    T, N, H = f.shape
    products = np.ones((N, T + 1, H))
    for k in range(1, T + 1):
        products[:, k] = products[:, k - 1] * f[T - k]
    return products
