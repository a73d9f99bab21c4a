"""How gradients travel back through the state of a gated cell: LSTM and GRU beside the tanh RNN.

Chapter 2 measured ``||dh_T/dh_t||_2`` for the tanh RNN, a product of step
Jacobians ``diag(1 - h_k**2) W_h`` (:mod:`lessons_lib.analysis.gradient_flow`).
This module builds the step Jacobians of the LSTM and the GRU, so that
chapter 3 can measure the same quantity for all three cells on the same
inputs.

**What is measured.**  The state of an LSTM is the pair ``s_t = (h_t, c_t)``,
``2H`` numbers; the state of the RNN and the GRU is ``s_t = h_t``.  The
**step Jacobian** ``J_t = ds_t/ds_{t-1}`` is the partial derivative of one
step with the input ``x_t`` and the weights held fixed; every path inside
the step counts (through the gates too).  For the LSTM it has four blocks::

    J_t = [[dh_t/dh_{t-1}, dh_t/dc_{t-1}],
           [dc_t/dh_{t-1}, dc_t/dc_{t-1}]]

    dc_t/dc_{t-1} = diag(f_t)
    dc_t/dh_{t-1} = diag(c_{t-1} f_t (1 - f_t)) W_hf + diag(g_t i_t (1 - i_t)) W_hi
                    + diag(i_t (1 - g_t**2)) W_hg
    dh_t/dc_{t-1} = diag(o_t (1 - tanh(c_t)**2) f_t)
    dh_t/dh_{t-1} = diag(tanh(c_t) o_t (1 - o_t)) W_ho + diag(o_t (1 - tanh(c_t)**2)) dc_t/dh_{t-1}

and for the GRU in PyTorch's convention (``h_t = (1 - z_t) n_t + z_t h_{t-1}``,
the reset gate after the product)::

    dh_t/dh_{t-1} = diag(z_t) + diag((h_{t-1} - n_t) z_t (1 - z_t)) W_hz
                    + diag((1 - z_t)(1 - n_t**2)) [diag(r_t) W_hn + diag((W_hn h_{t-1} + b_hn) r_t (1 - r_t)) W_hr]

(the other conventions of :mod:`lessons_lib.cells.gru` are handled too).  Over
several steps the chain rule multiplies them::

    ds_T/ds_t = J_T J_{T-1} ... J_{t+1}

and the blocks of this product are the **full Jacobians** ``dh_T/dh_t``
(``h_t`` moved, ``c_t`` held) and ``dc_T/dc_t`` (``c_t`` moved, ``h_t``
held), through all paths.  The **direct path** is the part that survives if
the gates are held fixed and the hidden state is ignored: the additive
update's own factor, ``diag(f_T ... f_{t+1})`` for the LSTM's cell
(:func:`lessons_lib.analysis.gradient_flow.forget_gate_products`) and
``diag(z_T ... z_{t+1})`` for the GRU (``1 - z`` with ``update="write"``).

Norms are spectral norms, computed from a running product that is rescaled
at every step, so that very small norms come out as small numbers (or 0.0),
never as underflow warnings.

Shapes: ``N`` batch, ``T`` time, ``D`` input, ``H`` hidden.

References: S. Hochreiter and J. Schmidhuber, "Long short-term memory",
Neural Computation 9 (1997); F. A. Gers, J. Schmidhuber and F. Cummins,
"Learning to forget", Neural Computation 12 (2000); K. Cho et al., EMNLP
(2014); R. Pascanu, T. Mikolov and Y. Bengio, ICML (2013).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..cells.activations import dsigmoid_from_output
from ..cells.dispatch import sequence_forward
from ..cells.gru import check_variant, gru_forward
from ..cells.gru import split_gates as split_gru
from ..cells.initialisation import init_params
from ..cells.lstm import lstm_forward
from ..cells.lstm import split_gates as split_lstm
from ..cells.rnn import rnn_forward
from ..validation import CELL_NAMES, as_array, check, check_kind
from .anatomy import gate_rows
from .gradient_flow import _CHECK_PARAMS, _check_count, _check_number, step_jacobians, typical_norm

#: Which Jacobian norms :func:`measure_state_decay` returns for each cell.
PATHS = {"rnn": ("hh",), "gru": ("hh", "direct"), "lstm": ("hh", "cc", "direct")}


def _check_state0(kind: str, state0, N: int, H: int, dtype) -> tuple:
    """``state0`` as a tuple of (N, H) arrays: ``(h0,)`` or ``(h0, c0)``."""
    dims = {"N": N, "H": H}
    if kind == "lstm":
        if not isinstance(state0, (tuple, list)) or len(state0) != 2:
            raise TypeError(f"state0 of an LSTM must be a pair (h0, c0) of arrays of shape ({N}, {H}), "
                            f"got {type(state0).__name__}")
        return (check("h0", state0[0], ("N", "H"), dims, dtype), check("c0", state0[1], ("N", "H"), dims, dtype))
    if isinstance(state0, (tuple, list)):
        raise TypeError(f"state0 of {CELL_NAMES[kind]} is one array h0 of shape ({N}, {H}), not a pair")
    return (check("h0", state0, ("N", "H"), dims, dtype),)


def _flat(state: tuple) -> np.ndarray:
    """The state as one (N, S) array: ``h`` or ``[h, c]``."""
    return np.concatenate(state, axis=1) if len(state) == 2 else state[0]


def _unflat(kind: str, s: np.ndarray, H: int):
    return (s[:, :H], s[:, H:]) if kind == "lstm" else s


# ----------------------------------------------------------------------------- step Jacobians

def lstm_step_jacobians(params, x, h0, c0) -> np.ndarray:
    """The step Jacobians ``d(h_t, c_t)/d(h_{t-1}, c_{t-1})`` of an LSTM run, through all paths.

    Parameters
    ----------
    params : dict
        LSTM parameters ``W_x`` (4H, D), ``W_h`` (4H, H), ``b_x``, ``b_h`` (4H,).
    x : array of shape (N, T, D)
    h0, c0 : arrays of shape (N, H)

    Returns
    -------
    array of shape (N, T, 2H, 2H)
        ``J[:, t - 1]`` is the Jacobian of step ``t``; rows and columns are
        ordered ``(h, c)``, so ``J[..., :H, :H]`` is ``dh_t/dh_{t-1}`` and
        ``J[..., H:, H:]`` is ``diag(f_t)``.
    """
    _, _, _, cache = lstm_forward(params, x, h0, c0)
    gates = split_lstm(cache.gates.astype(np.float64))           # each (T, N, H)
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    T, N, H = f.shape
    W = {k: cache.params["W_h"][gate_rows("lstm", k, H)].astype(np.float64) for k in "ifgo"}  # (H, H) each
    c_prev = cache.c[:-1].astype(np.float64)                     # (T, N, H)
    tanh_c = cache.tanh_c.astype(np.float64)
    dtanh_c = 1.0 - tanh_c ** 2

    def rows(v, W_k):                                            # diag(v) W_k for every (t, n): (T, N, H, H)
        return v[..., :, None] * W_k

    dc_dh = (rows(c_prev * dsigmoid_from_output(f), W["f"]) + rows(g * dsigmoid_from_output(i), W["i"])
             + rows(i * (1.0 - g ** 2), W["g"]))
    dh_dh = rows(tanh_c * dsigmoid_from_output(o), W["o"]) + (o * dtanh_c)[..., :, None] * dc_dh
    J = np.zeros((T, N, 2 * H, 2 * H))
    eye = np.arange(H)
    J[:, :, :H, :H] = dh_dh
    J[:, :, eye, H + eye] = o * dtanh_c * f                      # dh_t/dc_{t-1}: diagonal
    J[:, :, H:, :H] = dc_dh
    J[:, :, H + eye, H + eye] = f                                # dc_t/dc_{t-1} = diag(f_t)
    return np.ascontiguousarray(J.transpose(1, 0, 2, 3))        # (N, T, 2H, 2H)


def gru_step_jacobians(params, x, h0, reset="after", update="keep") -> np.ndarray:
    """The step Jacobians ``dh_t/dh_{t-1}`` of a GRU run, through all paths.

    Parameters
    ----------
    params : dict
        GRU parameters ``W_x`` (3H, D), ``W_h`` (3H, H), ``b_x``, ``b_h`` (3H,).
    x : array of shape (N, T, D)
    h0 : array of shape (N, H)
    reset : {"after", "before"}
    update : {"keep", "write"}
        The conventions of :mod:`lessons_lib.cells.gru`.

    Returns
    -------
    array of shape (N, T, H, H)
    """
    check_variant(reset, update)
    _, _, cache = gru_forward(params, x, h0, reset=reset, update=update)
    gates = split_gru(cache.gates.astype(np.float64))           # each (T, N, H)
    r, z, n = gates["r"], gates["z"], gates["n"]
    H = r.shape[2]
    W = {k: cache.params["W_h"][gate_rows("gru", k, H)].astype(np.float64) for k in "rzn"}
    h_prev = cache.h[:-1].astype(np.float64)                     # (T, N, H)
    dr = (dsigmoid_from_output(r) * (cache.hn if reset == "after" else h_prev))[..., :, None] * W["r"]
    if reset == "after":      # a_n = ... + r * (W_hn h + b_hn), cache.hn = W_hn h + b_hn
        da_n = r[..., :, None] * W["n"] + dr
    else:                     # a_n = ... + W_hn (r * h) + b_hn
        da_n = W["n"] * r[..., None, :] + W["n"] @ dr
    dn = (1.0 - n ** 2)[..., :, None] * da_n                     # dn_t/dh_{t-1}
    dz = dsigmoid_from_output(z)[..., :, None] * W["z"]          # dz_t/dh_{t-1}
    keep, write, sign = (z, 1.0 - z, 1.0) if update == "keep" else (1.0 - z, z, -1.0)
    J = sign * (h_prev - n)[..., :, None] * dz + write[..., :, None] * dn
    eye = np.arange(H)
    J[..., eye, eye] += keep                                     # the direct path, diag(keep share)
    return np.ascontiguousarray(J.transpose(1, 0, 2, 3))        # (N, T, H, H)


def rnn_step_jacobians(params, x, h0) -> np.ndarray:
    """The step Jacobians ``diag(1 - h_t**2) W_h`` of the library's tanh RNN, shape (N, T, H, H)."""
    out, _, cache = rnn_forward(params, x, h0)
    return step_jacobians(cache.params["W_h"].astype(np.float64), 1.0 - out.astype(np.float64) ** 2)


def state_step_jacobians(kind, params, x, state0, **options) -> np.ndarray:
    """:func:`rnn_step_jacobians`, :func:`gru_step_jacobians` or :func:`lstm_step_jacobians` by ``kind``.

    ``state0`` is ``h0`` (N, H), or ``(h0, c0)`` for an LSTM; ``options`` are
    the GRU's ``reset`` and ``update``.  Returns (N, T, S, S) with ``S = H``,
    or ``2 H`` for an LSTM (order ``h, c``).
    """
    kind = check_kind(kind)
    if kind != "gru" and options:
        raise TypeError(f"options {sorted(options)} apply to the GRU only, not to {kind!r}")
    if kind == "lstm":
        if not isinstance(state0, (tuple, list)) or len(state0) != 2:
            raise TypeError(f"state0 of an LSTM must be a pair (h0, c0), got {type(state0).__name__}")
        return lstm_step_jacobians(params, x, *state0)
    if isinstance(state0, (tuple, list)):
        raise TypeError(f"state0 of {CELL_NAMES[kind]} is one array h0, not a pair; only an LSTM has (h0, c0)")
    if kind == "gru":
        return gru_step_jacobians(params, x, state0, **options)
    return rnn_step_jacobians(params, x, state0)


# ----------------------------------------------------------------------------- finite differences

def numerical_state_jacobian(kind, params, x, state0, t, eps=1e-5, **options) -> np.ndarray:
    """``ds_T/ds_t`` by central differences of the library's forward pass: the check of the products.

    Runs the first ``t`` steps of ``x`` from ``state0`` to reach ``s_t``,
    then, for every entry ``j`` of the state, runs the remaining ``T - t``
    steps from ``s_t + eps e_j`` and from ``s_t - eps e_j`` and differences
    the final states.  Each sequence of the batch moves only its own state,
    so all ``N`` are nudged at once.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    params : dict
    x : array of shape (N, T, D)
    state0 : array of shape (N, H), or a pair of them for an LSTM
    t : int
        The earlier step, ``0 <= t <= T``.
    eps : float
        Half the width of the central difference.
    **options
        The GRU's ``reset`` and ``update``.

    Returns
    -------
    array of shape (N, S, S)
        ``S = H`` (``2 H`` for an LSTM, order ``h, c``); entry ``[n, i, j]``
        is ``d s_T[n, i] / d s_t[n, j]``.
    """
    kind = check_kind(kind)
    p, dtype, dims = _CHECK_PARAMS[kind](params)
    if dtype != np.float64:
        raise TypeError(f"finite differences need float64 parameters (float32 rounding swamps them), got {dtype}")
    x = check("x", x, ("N", "T", "D"), dims, dtype)
    N, T, _ = x.shape
    H = p["W_h"].shape[1]
    state = _check_state0(kind, state0, N, H, dtype)
    t = _check_count("t", t, 0)
    if t > T:
        raise ValueError(f"t must lie between 0 and T = {T}, got {t}")
    eps = _check_number("eps", eps, positive=True)
    s_t = _flat(tuple(np.asarray(s, dtype=np.float64) for s in state))
    if t > 0:                                                    # run to step t first
        _, reached, _ = sequence_forward(kind, params, x[:, :t], _unflat(kind, s_t, H), **options)
        s_t = _flat(reached if kind == "lstm" else (reached,)).astype(np.float64)
    S = s_t.shape[1]

    def final(s):
        if t == T:
            return s
        _, s_T, _ = sequence_forward(kind, params, x[:, t:], _unflat(kind, s, H), **options)
        return _flat(s_T if kind == "lstm" else (s_T,))

    J = np.empty((N, S, S))
    for j in range(S):
        step = np.zeros_like(s_t)
        step[:, j] = eps
        J[:, :, j] = (final(s_t + step) - final(s_t - step)) / (2.0 * eps)
    return J


# ----------------------------------------------------------------------------- products and their norms

def block_product_norms(jacobians, blocks) -> dict:
    """Spectral norms of blocks of ``ds_T/ds_{T-k}`` for every distance ``k = 0 .. T``.

    Parameters
    ----------
    jacobians : array of shape (N, T, S, S)
        Step Jacobians; ``jacobians[:, t - 1]`` is ``J_t``.
    blocks : dict
        Name -> ``(rows, columns)``, two slices of ``range(S)``.

    Returns
    -------
    dict
        Name -> array of shape (N, T + 1): the norm of that block of
        ``J_T J_{T-1} ... J_{T-k+1}`` in column ``k`` (the identity's block at ``k = 0``).
    """
    J = as_array("jacobians", jacobians).astype(np.float64, copy=False)
    if J.ndim != 4 or J.shape[2] != J.shape[3]:
        raise ValueError(f"jacobians must have shape (N, T, S, S), got {tuple(J.shape)}")
    N, T, S, _ = J.shape
    if not isinstance(blocks, dict) or not blocks:
        raise TypeError("blocks must be a non-empty dict name -> (row slice, column slice)")
    for name, pair in blocks.items():
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, slice) for s in pair)):
            raise TypeError(f"blocks[{name!r}] must be a pair of slices (rows, columns), got {pair!r}")
    P = np.broadcast_to(np.eye(S), (N, S, S)).copy()
    log_scale = np.zeros(N)                                      # P_true = exp(log_scale) * P
    logs = {name: np.zeros((N, T + 1)) for name in blocks}
    for k in range(T + 1):
        if k > 0:
            P = P @ J[:, T - k]                                  # append J_{T-k+1} on the right
        with np.errstate(divide="ignore"):
            for name, (rows, cols) in blocks.items():
                logs[name][:, k] = log_scale + np.log(np.linalg.norm(P[:, rows, cols], 2, axis=(1, 2)))
        whole = np.abs(P).max(axis=(1, 2))                       # rescale so that P stays near size 1
        safe = np.where(whole > 0, whole, 1.0)
        P /= safe[:, None, None]
        log_scale += np.log(safe)
    with np.errstate(under="ignore", over="ignore"):   # below 1e-308 is 0.0, above 1e308 is inf: both exact enough
        return {name: np.exp(v) for name, v in logs.items()}


class StateDecay(NamedTuple):
    """Norms of the Jacobians from ``s_{T-k}`` to ``s_T`` of one cell, for every distance ``k``."""

    kind: str
    distance: np.ndarray     # (T + 1,) k = 0 .. T
    hh: np.ndarray           # (N, T + 1) ||dh_T/dh_{T-k}||_2, all paths
    cc: np.ndarray | None    # (N, T + 1) ||dc_T/dc_{T-k}||_2, all paths (LSTM only)
    direct: np.ndarray | None  # (N, T + 1) norm of the direct path: max_j of the product of f (LSTM) or keep shares (GRU)
    keep_mean: float | None  # mean forget gate (LSTM) or keep share (GRU) over all steps, units and sequences

    def typical(self, path: str) -> np.ndarray:
        """Geometric mean over the batch of one path's norms (``"hh"``, ``"cc"`` or ``"direct"``)."""
        if path not in PATHS[self.kind]:
            raise ValueError(f"path must be one of {PATHS[self.kind]} for {CELL_NAMES[self.kind]}, got {path!r}")
        return typical_norm(getattr(self, path))


def measure_state_decay(kind, params, x, state0, **options) -> StateDecay:
    """Run a cell on ``x`` and measure how the Jacobians back to every earlier state shrink or grow.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    params : dict
    x : array of shape (N, T, D)
    state0 : array of shape (N, H), or a pair ``(h0, c0)`` for an LSTM
    **options
        The GRU's ``reset`` and ``update``.

    Returns
    -------
    StateDecay
        ``hh``: ``||dh_T/dh_{T-k}||_2`` through all paths (for the LSTM with
        ``c_{T-k}`` held fixed); ``cc``: ``||dc_T/dc_{T-k}||_2`` through all
        paths (LSTM); ``direct``: the largest entry of ``f_T ... f_{T-k+1}``
        (LSTM) or of the product of the keep shares ``z`` (GRU, ``1 - z`` for
        ``update="write"``), the additive path alone.
    """
    kind = check_kind(kind)
    J = state_step_jacobians(kind, params, x, state0, **options)
    N, T, S, _ = J.shape
    H = S // 2 if kind == "lstm" else S
    h, c = slice(0, H), slice(H, 2 * H)
    blocks = {"hh": (h, h)}
    if kind == "lstm":
        blocks["cc"] = (c, c)
    norms = block_product_norms(J, blocks)
    direct, keep_mean = None, None
    if kind != "rnn":
        eye = np.arange(H)
        keep = J[:, :, H + eye, H + eye] if kind == "lstm" else _keep_share(params, x, state0, **options)
        keep_mean = float(keep.mean())
        log_keep = np.log(keep)                                  # (N, T, H); keep > 0 always
        cumulative = np.concatenate([np.zeros((N, 1, H)), np.cumsum(log_keep[:, ::-1], axis=1)], axis=1)
        direct = np.exp(cumulative.max(axis=2))                  # (N, T + 1): largest entry of the diagonal
    return StateDecay(kind, np.arange(T + 1), norms["hh"], norms.get("cc"), direct, keep_mean)


def _keep_share(params, x, h0, reset="after", update="keep") -> np.ndarray:
    """The GRU's share of the old state kept at each step, (N, T, H): ``z`` or ``1 - z``."""
    _, _, cache = gru_forward(params, x, h0, reset=reset, update=update)
    z = split_gru(cache.gates.astype(np.float64))["z"].transpose(1, 0, 2)
    return z if update == "keep" else 1.0 - z


# ----------------------------------------------------------------------------- the chapter's comparison

def cells_on_same_inputs(T, *, D=8, H=16, N=4, seed=0, gate_bias=None, input_scale=1.0, recurrent_scale=1.0):
    """A tanh RNN, a GRU and an LSTM of the same sizes, and one batch of inputs for all three.

    Each cell's weights come from :func:`~lessons_lib.cells.initialisation.init_params`
    (PyTorch's uniform scheme) with its own generator seeded by ``seed``, so
    that changing ``gate_bias`` changes nothing else.

    Parameters
    ----------
    T : int
        Sequence length.
    D, H, N : int
        Input size, hidden size, number of sequences.
    seed : int
        Seeds the weights (``seed``) and the inputs (``seed + 1``).
    gate_bias : float, optional
        The bias of the gate that decides how much old state is kept: the
        LSTM's forget gate (``b_xf + b_hf``) and the GRU's update gate
        (``b_xz + b_hz``, so that ``z`` near 1 keeps).  ``None`` keeps the
        random biases of the initialisation.
    input_scale : float
        Standard deviation of the inputs, ``x = input_scale * rng.standard_normal((N, T, D))``.
    recurrent_scale : float
        Every cell's ``W_h`` is multiplied by this.

    Returns
    -------
    params : dict kind -> parameters
    x : array of shape (N, T, D)
    """
    T, D, H, N = (_check_count(name, v) for name, v in (("T", T), ("D", D), ("H", H), ("N", N)))
    input_scale = _check_number("input_scale", input_scale, nonnegative=True)
    recurrent_scale = _check_number("recurrent_scale", recurrent_scale)
    if gate_bias is not None:
        gate_bias = _check_number("gate_bias", gate_bias)
    params = {kind: init_params(kind, D, H, np.random.default_rng(seed)) for kind in ("rnn", "gru", "lstm")}
    if gate_bias is not None:
        for kind, gate in (("lstm", "f"), ("gru", "z")):
            rows = gate_rows(kind, gate, H)
            params[kind]["b_x"][rows] = gate_bias
            params[kind]["b_h"][rows] = 0.0
    for p in params.values():
        p["W_h"] = recurrent_scale * p["W_h"]
    x = input_scale * np.random.default_rng(seed + 1).standard_normal((N, T, D))
    return params, x


def compare_state_decay(T, **kwargs) -> dict:
    """:func:`measure_state_decay` for the three cells of :func:`cells_on_same_inputs`, from zero states.

    Keyword arguments are those of :func:`cells_on_same_inputs`.  Returns
    ``{"rnn": StateDecay, "gru": StateDecay, "lstm": StateDecay}``.
    """
    params, x = cells_on_same_inputs(T, **kwargs)
    N, H = x.shape[0], params["rnn"]["W_h"].shape[0]
    zeros = np.zeros((N, H))
    return {kind: measure_state_decay(kind, params[kind], x, (zeros, zeros) if kind == "lstm" else zeros)
            for kind in ("rnn", "gru", "lstm")}


# ----------------------------------------------------------------------------- trained against untrained

def shuffle_within_arrays(params, rng: np.random.Generator) -> dict:
    """A control for a trained network: each array's entries in a random order, the set of values kept.

    The shuffled network has exactly the trained network's numbers (their
    sizes, their spread, the largest bias) but not their arrangement: which
    weight feeds which gate of which unit.  A property that survives the
    shuffle comes from the values alone; one that does not, from where
    training put them.

    Parameters
    ----------
    params : dict
        Name -> array; every array is shuffled on its own (flattened, permuted, reshaped).
    rng : numpy.random.Generator

    Returns
    -------
    dict
        New arrays with the keys, shapes and dtypes of ``params``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}")
    if not isinstance(params, dict) or not params:
        raise TypeError("params must be a non-empty dict name -> array")
    out = {}
    for name, value in params.items():
        arr = as_array(f"params[{name!r}]", value)
        out[name] = rng.permutation(arr.ravel()).reshape(arr.shape)
    return out


def typical_decays(kind, models, x, state0, **options) -> dict:
    """:func:`measure_state_decay` for several networks on the same inputs: each one's typical norms.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    models : sequence of dict
        The parameters of each network (extra keys, such as a read-out's, are ignored).
    x : array of shape (N, T, D)
    state0 : array of shape (N, H), or a pair ``(h0, c0)`` for an LSTM
    **options
        The GRU's ``reset`` and ``update``.

    Returns
    -------
    dict
        Path (``"hh"``, ``"cc"``, ``"direct"``, as ``PATHS`` lists for
        ``kind``) -> array of shape (K, T + 1): row ``m`` is the geometric
        mean over the batch of network ``m``'s norms at distance ``0 .. T``.
    """
    kind = check_kind(kind)
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one network's parameters")
    keys = ("W_x", "W_h", "b_x", "b_h")
    rows = {path: [] for path in PATHS[kind]}
    for m, model in enumerate(models):
        if not isinstance(model, dict) or any(k not in model for k in keys):
            raise TypeError(f"models[{m}] must be a dict with the cell's keys {list(keys)}")
        decay = measure_state_decay(kind, {k: model[k] for k in keys}, x, state0, **options)
        for path in rows:
            rows[path].append(decay.typical(path))
    return {path: np.stack(v) for path, v in rows.items()}
