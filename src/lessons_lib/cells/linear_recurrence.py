"""Gated linear recurrences ``h_t = a_t * h_{t-1} + b_t``, sequentially and as a parallel scan.

A recurrence whose new state is an element-wise *affine* function of the old
one, ::

    h_t = a_t * h_{t-1} + b_t,        t = 1, ..., T,        h_0 given,

with coefficients ``a_t`` and ``b_t`` that do not depend on ``h``, can be
computed without stepping through time one step after another.  Write each
step as the pair ``e_t = (a_t, b_t)``, the map ``h -> a_t h + b_t``.  Doing
first ``e_1 = (a_1, b_1)`` and then ``e_2 = (a_2, b_2)`` is again such a map,

    (a_1, b_1) o (a_2, b_2) = (a_2 a_1,  a_2 b_1 + b_2),

because ``a_2 (a_1 h + b_1) + b_2 = (a_2 a_1) h + (a_2 b_1 + b_2)``.  The
operator ``o`` is **associative** (composition of maps always is), with the
identity ``(1, 0)``, though not commutative.  So the prefixes
``E_t = e_1 o e_2 o ... o e_t`` can be computed by any parallel prefix scan
(Blelloch 1990), in ``O(log T)`` sequential steps, and ``h_t`` read off them.
Folding ``h_0`` into the first step, ``b_1 <- a_1 h_0 + b_1``, makes
``h_t = B_t``, the second half of ``E_t``.

Three methods (``method=``), all vectorised over the batch ``N`` and the
units ``H``:

``"loop"``
    the plain sequential reference, ``T`` steps.
``"scan"``
    Blelloch's **work-efficient** scan: pad ``T`` to the power of two
    ``P >= T`` with identities, an *up-sweep* of ``log2 P`` levels that
    combines neighbours into a balanced tree of partial products, and a
    *down-sweep* of ``log2 P`` levels that sends the prefixes back down the
    tree, giving the exclusive prefixes ``E_{t-1}``; one last element-wise
    step makes them inclusive.  About ``2 P`` applications of ``o`` in all,
    in ``2 log2 P + 1`` sequential steps.
``"doubling"``
    the Hillis-Steele (1986) scan by recursive doubling: at level ``k`` every
    element ``t >= 2^k`` is combined with the one ``2^k`` steps before it.
    Only ``ceil(log2 T)`` sequential steps, but ``T log2 T`` applications of
    ``o``: faster in depth, more work.

Within a level, all the pairs it combines are combined at once by NumPy
(strided slices over the time axis), so a level is a handful of array
operations whatever ``T``.  :func:`scan_levels` lists the pairs of every
level, for drawing the tree and counting the depth.

The backward pass is itself a linear recurrence, run backwards in time.  With
``dh_t`` the gradient that reaches ``h_t`` from outside the recurrence (from
an output, say), the total gradient ``g_t = dL/dh_t`` obeys ::

    g_T = dh_T,        g_t = dh_t + a_{t+1} g_{t+1},

and then ``db_t = g_t``, ``da_t = g_t * h_{t-1}`` and ``dh_0 = a_1 g_1``.
:func:`linear_recurrence_backward` computes ``g`` with the same scan.

This is the recurrence of the minimal gated cells of
:mod:`lessons_lib.cells.min_cells` (Feng et al. 2024), and of linear
recurrent layers more widely (Martin and Cundy 2018).

References: G. E. Blelloch, "Prefix sums and their applications", CMU-CS-90-190
(1990); W. D. Hillis and G. L. Steele, "Data parallel algorithms", CACM 29(12)
(1986); E. Martin and C. Cundy, "Parallelizing linear recurrent neural nets
over sequence length", ICLR (2018); L. Feng et al., "Were RNNs all we
needed?", arXiv:2410.01201 (2024).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..validation import as_array, check_choice, check_int, check_shape

#: The ways of computing the recurrence (see the module docstring).
METHODS = ("scan", "doubling", "loop")


class ScanStep(NamedTuple):
    """One sequential step of a scan: the pairs of time indices it combines at once.

    ``phase`` is ``"up-sweep"``, ``"down-sweep"`` or ``"finish"`` (Blelloch) or
    ``"doubling"`` (Hillis-Steele).  Each pair ``(i, j)`` with ``i < j`` is one
    application of ``o``: in the up-sweep and in doubling ``e_j <- e_i o e_j``;
    in the down-sweep ``(e_i, e_j) <- (e_j, e_j o e_i)`` (the prefix moves to the
    left child and, combined with the left child's partial product, to the
    right child); in the finishing step ``E_j = E_{j-1} o e_j`` with ``i = j``.
    Indices are 0-based; the Blelloch scan pads ``T`` to a power of two, so
    its indices run to ``P - 1``.
    """

    phase: str
    level: int
    pairs: tuple


def _padded(T: int) -> int:
    """The smallest power of two ``P >= T``."""
    return 1 << max(T - 1, 0).bit_length()


def scan_levels(T: int, method: str = "scan") -> list[ScanStep]:
    """The sequential steps of the scan of ``T`` elements, each with the pairs it combines.

    Parameters
    ----------
    T : int
        Sequence length, at least 1.
    method : {"scan", "doubling"}
        Blelloch's work-efficient scan, or Hillis-Steele doubling.

    Returns
    -------
    list of ScanStep
        In the order they run.  ``len(...)`` is the sequential depth: ``2 log2 P + 1``
        for ``"scan"`` (``P`` the power of two ``>= T``), ``ceil(log2 T)`` for
        ``"doubling"``; the total number of pairs is the work.
    """
    T = check_int("T", T, 1)
    check_choice("method", method, ("scan", "doubling"))
    steps = []
    if method == "doubling":
        k, offset = 0, 1
        while offset < T:
            steps.append(ScanStep("doubling", k, tuple((j - offset, j) for j in range(offset, T))))
            k, offset = k + 1, offset * 2
        return steps
    P = _padded(T)
    levels = P.bit_length() - 1                 # log2 P
    for d in range(levels):
        s = 1 << d
        steps.append(ScanStep("up-sweep", d, tuple((j - s, j) for j in range(2 * s - 1, P, 2 * s))))
    for d in reversed(range(levels)):
        s = 1 << d
        steps.append(ScanStep("down-sweep", d, tuple((j - s, j) for j in range(2 * s - 1, P, 2 * s))))
    steps.append(ScanStep("finish", 0, tuple((j, j) for j in range(T))))
    return steps


# -------------------------------------------------------------------------------- the three methods
# All work on time-major arrays (T, M) with M = N H flattened: a strided slice over time then reads
# whole contiguous rows.  Each takes b with h0 already folded into b[0] and returns h (T, M).

def _loop(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    h = np.empty_like(b)
    h[0] = b[0]
    for t in range(1, a.shape[0]):
        h[t] = a[t] * h[t - 1] + b[t]
    return h


def _doubling(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    A, B = a.copy(), b.copy()
    T, offset = a.shape[0], 1
    while offset < T:
        # (A, B)[t] <- (A, B)[t - offset] o (A, B)[t] for every t >= offset at once.  The right-hand
        # sides are evaluated in full before assignment, and B before A (B needs the old A).
        B[offset:] = A[offset:] * B[:-offset] + B[offset:]
        if 2 * offset < T:                   # the last level needs no A: nothing reads it after
            A[offset:] = A[offset:] * A[:-offset]
        offset *= 2
    return B


def _blelloch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    T, M = a.shape
    P = _padded(T)
    A = np.empty((P, M), dtype=a.dtype)
    B = np.empty((P, M), dtype=b.dtype)
    A[:T], B[:T] = a, b
    A[T:], B[T:] = 1.0, 0.0                  # identities (1, 0) past T
    levels = P.bit_length() - 1
    for d in range(levels):                  # up-sweep: e_j <- e_{j-s} o e_j at j = 2s-1, 4s-1, ...
        s = 1 << d
        left, right = slice(s - 1, P, 2 * s), slice(2 * s - 1, P, 2 * s)
        B[right] += A[right] * B[left]
        A[right] *= A[left]
    # The down-sweep needs only the B half of the prefixes: h0 is folded into b, so h_t is the B half of E_t,
    # and the A half of a prefix never enters a B.  The A halves of the left children, which do, are the
    # up-sweep's, and the down-sweep leaves A alone.
    B[P - 1] = 0.0                           # the root becomes the identity: the prefix before everything
    for d in reversed(range(levels)):        # down-sweep: (e_l, e_r) <- (e_r, e_r o e_l)
        s = 1 << d
        left, right = slice(s - 1, P, 2 * s), slice(2 * s - 1, P, 2 * s)
        new_right = A[left] * B[right]
        new_right += B[left]
        B[left] = B[right]
        B[right] = new_right
    # B[:T] now holds the B halves of the exclusive prefixes E_{t-1}, that is h_{t-1}; finish: E_t = E_{t-1} o e_t.
    return a * B[:T] + b


_RUN = {"loop": _loop, "doubling": _doubling, "scan": _blelloch}


def _check_arrays(method: str, *named) -> tuple:
    """Validate ``(name, value, shape)`` triples: float arrays of one dtype (the first's), shapes bound together.

    A time axis ``T`` must have at least one step.
    """
    check_choice("method", method, METHODS)
    dims: dict[str, int] = {}
    first, dtype, out = named[0][0], None, []
    for name, value, shape in named:
        arr = as_array(name, value)                 # floats stay as they are; ints and bools become float64
        if dtype is None:
            dtype = arr.dtype
        elif arr.dtype != dtype:
            raise TypeError(f"{name} must have the dtype of {first}, {dtype}, got {arr.dtype}; "
                            f"convert one of them with .astype()")
        out.append(check_shape(name, arr, shape, dims))
    if dims.get("T", 1) < 1:
        raise ValueError(f"{first} must have at least one time step, shape (N, T >= 1, H), got {out[0].shape}")
    return tuple(out)


def run_time_major(a_tm: np.ndarray, b_tm: np.ndarray, h0: np.ndarray, method: str) -> np.ndarray:
    """:func:`linear_recurrence` on time-major arrays (T, N, H), unchecked, for the cells; changes no argument."""
    T, N, H = a_tm.shape
    a2, b2 = a_tm.reshape(T, N * H), b_tm.reshape(T, N * H).copy()
    b2[0] += a2[0] * h0.reshape(N * H)       # fold h0 into the first step
    return _RUN[method](a2, b2).reshape(T, N, H)


def linear_recurrence(a, b, h0, method: str = "scan") -> np.ndarray:
    """All states of ``h_t = a_t * h_{t-1} + b_t`` (element-wise) for ``t = 1, ..., T``.

    The steps compose with the associative operator ::

        (a_1, b_1) o (a_2, b_2) = (a_2 a_1, a_2 b_1 + b_2),

    ``e_1`` first, so a prefix scan over ``e_t = (a_t, b_t)`` computes every
    ``h_t`` in ``O(log T)`` sequential steps (see the module docstring).

    Parameters
    ----------
    a : array of shape (N, T, H), T >= 1
        The coefficients ``a_t`` (a forget or keep gate), float32 or float64
        (integers are taken as float64).
    b : array of shape (N, T, H)
        The inputs ``b_t``, of ``a``'s dtype.
    h0 : array of shape (N, H)
        The state before the first step, of ``a``'s dtype.
    method : {"scan", "doubling", "loop"}
        Blelloch's work-efficient scan, Hillis-Steele doubling, or the plain loop.

    Returns
    -------
    h : array of shape (N, T, H)
        ``h[:, t - 1]`` is ``h_t``; ``h0`` itself is not included.
    """
    a, b, h0 = _check_arrays(method, ("a", a, ("N", "T", "H")), ("b", b, ("N", "T", "H")), ("h0", h0, ("N", "H")))
    h = run_time_major(np.swapaxes(a, 0, 1), np.swapaxes(b, 0, 1), h0, method)   # (T, N, H)
    return np.ascontiguousarray(np.swapaxes(h, 0, 1))                    # (N, T, H)


def reverse_recurrence(a_tm: np.ndarray, dh_tm: np.ndarray, method: str) -> np.ndarray:
    """Time-major ``g`` (T, N, H) of ``g_T = dh_T``, ``g_t = dh_t + a_{t+1} g_{t+1}``: the recurrence run backwards."""
    T = a_tm.shape[0]
    coeff = np.zeros_like(a_tm)
    coeff[:T - 1] = a_tm[1:]                 # the coefficient that carries g_{t+1} back to g_t
    # Reversed in time, g is a forward recurrence with coefficients coeff[::-1] (coeff[T-1] = 0 meets g_{T+1} = 0).
    g = run_time_major(coeff[::-1], dh_tm[::-1], np.zeros_like(a_tm[0]), method)
    return g[::-1]


def linear_recurrence_backward(dh, a, h, h0, method: str = "scan"):
    """Gradients of :func:`linear_recurrence` with respect to ``a``, ``b`` and ``h0``.

    The total gradient ``g_t`` reaching ``h_t`` is a linear recurrence run
    backwards in time, computed with the same ``method``::

        g_T = dh_T,    g_t = dh_t + a_{t+1} * g_{t+1}
        db_t = g_t,    da_t = g_t * h_{t-1},    dh0 = a_1 * g_1

    Parameters
    ----------
    dh : array of shape (N, T, H)
        Gradient of the loss with respect to each ``h_t`` from outside the
        recurrence (the gradient of the final state goes into ``dh[:, -1]``).
    a : array of shape (N, T, H)
        The coefficients of the forward pass.
    h : array of shape (N, T, H)
        The states it returned.
    h0 : array of shape (N, H)
        Its initial state.
    method : {"scan", "doubling", "loop"}

    Returns
    -------
    da : (N, T, H), db : (N, T, H), dh0 : (N, H)
    """
    a, dh, h, h0 = _check_arrays(method, ("a", a, ("N", "T", "H")), ("dh", dh, ("N", "T", "H")),
                                 ("h", h, ("N", "T", "H")), ("h0", h0, ("N", "H")))
    a_tm = np.swapaxes(a, 0, 1)
    g = reverse_recurrence(a_tm, np.swapaxes(dh, 0, 1), method)         # (T, N, H)
    h_prev = np.concatenate([h0[None], np.swapaxes(h, 0, 1)[:-1]])      # (T, N, H): h_{t-1}
    da = g * h_prev
    dh0 = a_tm[0] * g[0]
    return np.ascontiguousarray(np.swapaxes(da, 0, 1)), np.ascontiguousarray(np.swapaxes(g, 0, 1)), dh0

