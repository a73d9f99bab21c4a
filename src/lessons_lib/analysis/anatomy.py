"""One LSTM or GRU step taken apart: every named intermediate, and its gradient.

The library's cells (:mod:`.lstm`, :mod:`.gru`) fuse the gates into one
matrix product and keep only what the backward pass needs.  Chapter 4 looks
inside instead.  :func:`lstm_anatomy` and :func:`gru_anatomy` compute one step
gate by gate, from the gate's own rows of the weights, and return every
quantity the equations name, each of shape ``(N, H)``::

    LSTM (gate rows i, f, g, o)                  GRU (gate rows r, z, n)
    a_k = W_xk x + b_xk + W_hk h_prev + b_hk     a_r, a_z as for the LSTM
    i, f, o = sigma(a_i), sigma(a_f), sigma(a_o) r, z = sigma(a_r), sigma(a_z)
    g = tanh(a_g)                                a_n = W_xn x + b_xn + a_hn
    kept = f * c_prev                              a_hn = r * (W_hn h_prev + b_hn)   reset="after"
    written = i * g                                a_hn = W_hn (r * h_prev) + b_hn   reset="before"
    c = kept + written                           n = tanh(a_n)
    h = o * tanh(c)                              h = kept + written, with
                                                   kept = z h_prev, written = (1 - z) n   update="keep"
                                                   kept = (1 - z) h_prev, written = z n   update="write"

Because this is a second, unfused implementation, the tests compare it with
:func:`lessons_lib.cells.lstm.lstm_step_forward` and
:func:`lessons_lib.cells.gru.gru_step_forward`.

Any pre-activation can be replaced (``preactivations={"f": a}``), which is
what the chapter's widgets and finite-difference checks do: set a gate by
hand, or nudge it by ``+-eps``, and see what follows.

:func:`lstm_anatomy_backward` and :func:`gru_anatomy_backward` return the
gradient of every intermediate for a loss whose gradients with respect to the
new state are given, derived one gate at a time as in the chapter.

References: Hochreiter and Schmidhuber (1997); Gers, Schmidhuber and Cummins
(2000) for the forget gate; Cho et al. (2014) and Chung et al. (2014) for the
GRU.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ..cells.activations import dsigmoid_from_output, dtanh_from_output, sigmoid
from ..cells.gru import check_gru_params, check_variant
from ..cells.lstm import check_lstm_params, lstm_forward, split_gates
from ..gradcheck import numerical_gradient
from ..validation import check

LSTM_GATES = ("i", "f", "g", "o")
GRU_GATES = ("r", "z", "n")
_GATES = {"lstm": LSTM_GATES, "gru": GRU_GATES}


# ---------------------------------------------------------------------------
# Gate blocks: reading and writing one gate's rows of the fused weights.


def _check_gate(kind: str, gate: object) -> int:
    """Index of ``gate`` in the gate order of ``kind``."""
    gates = _GATES[kind]
    if gate not in gates:
        raise ValueError(f"gate must be one of {gates} for an {kind.upper()}, got {gate!r}")
    return gates.index(gate)


def gate_rows(kind: str, gate: str, H: int) -> slice:
    """The rows of the fused weights that belong to ``gate``: ``slice(k H, (k + 1) H)``."""
    if kind not in _GATES:
        raise ValueError(f"kind must be 'lstm' or 'gru', got {kind!r}")
    k = _check_gate(kind, gate)
    return slice(k * H, (k + 1) * H)


def gate_block(kind: str, params, gate: str) -> dict:
    """One gate's weights: ``W_x`` (H, D), ``W_h`` (H, H), ``b_x`` (H,), ``b_h`` (H,) (views)."""
    if kind not in _GATES:
        raise ValueError(f"kind must be 'lstm' or 'gru', got {kind!r}")
    p, _, _ = (check_lstm_params if kind == "lstm" else _checked_gru_params)(params)
    rows = gate_rows(kind, gate, p["W_h"].shape[1])
    return {name: arr[rows] for name, arr in p.items()}


def _checked_gru_params(params):
    p, dtype, dims = check_gru_params(params)
    dims["H"] = p["W_h"].shape[1]
    return p, dtype, dims


def stack_gate_blocks(kind: str, W_x: Mapping, b_x: Mapping, W_h: Mapping | None = None,
                      b_h: Mapping | None = None) -> dict:
    """Fused parameters from one block per gate, in the library's gate order.

    Parameters
    ----------
    kind : {"lstm", "gru"}
    W_x : dict gate -> array of shape (H, D)
    b_x : dict gate -> array of shape (H,)
    W_h : dict gate -> array of shape (H, H), optional
        Missing (or a missing gate): zeros, so that the gate ignores ``h_prev``.
    b_h : dict gate -> array of shape (H,), optional
        Missing: zeros.

    Returns
    -------
    dict with ``W_x`` (G H, D), ``W_h`` (G H, H), ``b_x`` (G H,), ``b_h`` (G H,), float64.
    """
    if kind not in _GATES:
        raise ValueError(f"kind must be 'lstm' or 'gru', got {kind!r}")
    gates = _GATES[kind]
    W_h = {} if W_h is None else W_h
    b_h = {} if b_h is None else b_h
    for name, blocks in (("W_x", W_x), ("b_x", b_x), ("W_h", W_h), ("b_h", b_h)):
        if not isinstance(blocks, Mapping):
            raise TypeError(f"{name} must be a dict from gate name to array, got {type(blocks).__name__}")
        unknown = sorted(set(blocks) - set(gates))
        if unknown:
            raise ValueError(f"{name} has blocks for unknown gates {unknown}; the gates of an "
                             f"{kind.upper()} are {gates}")
    missing = [g for g in gates if g not in W_x or g not in b_x]
    if missing:
        raise ValueError(f"W_x and b_x need a block for every gate {gates}, missing {missing}")
    dims: dict[str, int] = {}
    out = {"W_x": [], "W_h": [], "b_x": [], "b_h": []}
    for g in gates:
        out["W_x"].append(check(f"W_x[{g!r}]", W_x[g], ("H", "D"), dims, np.float64))
        out["b_x"].append(check(f"b_x[{g!r}]", b_x[g], ("H",), dims, np.float64))
    H = dims["H"]
    for g in gates:
        out["W_h"].append(check(f"W_h[{g!r}]", W_h[g], ("H", "H"), dims, np.float64) if g in W_h
                          else np.zeros((H, H)))
        out["b_h"].append(check(f"b_h[{g!r}]", b_h[g], ("H",), dims, np.float64) if g in b_h
                          else np.zeros(H))
    return {name: np.concatenate(blocks).astype(np.float64) for name, blocks in out.items()}


def negate_update_gate(params) -> dict:
    """GRU parameters with the update gate's rows of ``W_x``, ``W_h``, ``b_x``, ``b_h`` negated.

    Since ``sigma(-a) = 1 - sigma(a)``, a GRU run with ``update="keep"`` and
    ``params`` computes exactly what one run with ``update="write"`` and the
    returned parameters computes (and the other way round).
    """
    p, _, _ = _checked_gru_params(params)
    rows = gate_rows("gru", "z", p["W_h"].shape[1])
    out = {name: arr.copy() for name, arr in p.items()}
    for arr in out.values():
        arr[rows] *= -1.0
    return out


# ---------------------------------------------------------------------------
# Forward: every intermediate of one step.


class LSTMAnatomy(NamedTuple):
    """Every intermediate of one LSTM step; the arrays have shape (N, H) unless noted."""

    x: np.ndarray        # (N, D) input
    h_prev: np.ndarray   # previous hidden state
    c_prev: np.ndarray   # previous cell state
    a_i: np.ndarray      # pre-activation of the input gate
    a_f: np.ndarray      # pre-activation of the forget gate
    a_g: np.ndarray      # pre-activation of the candidate
    a_o: np.ndarray      # pre-activation of the output gate
    i: np.ndarray        # input gate, sigma(a_i)
    f: np.ndarray        # forget gate, sigma(a_f)
    g: np.ndarray        # candidate, tanh(a_g)
    o: np.ndarray        # output gate, sigma(a_o)
    kept: np.ndarray     # f * c_prev: what survives of the old cell
    written: np.ndarray  # i * g: what is written into the cell
    c: np.ndarray        # new cell state, kept + written
    tanh_c: np.ndarray   # tanh(c)
    h: np.ndarray        # new hidden state, o * tanh(c): what the cell exposes
    params: dict


class GRUAnatomy(NamedTuple):
    """Every intermediate of one GRU step; the arrays have shape (N, H) unless noted."""

    x: np.ndarray        # (N, D) input
    h_prev: np.ndarray   # previous hidden state
    a_r: np.ndarray      # pre-activation of the reset gate
    a_z: np.ndarray      # pre-activation of the update gate
    a_xn: np.ndarray     # input part of the candidate's pre-activation, W_xn x + b_xn
    a_hn: np.ndarray     # recurrent part, after the reset gate has acted
    a_n: np.ndarray      # pre-activation of the candidate, a_xn + a_hn
    r: np.ndarray        # reset gate, sigma(a_r)
    z: np.ndarray        # update gate, sigma(a_z)
    n: np.ndarray        # candidate, tanh(a_n)
    kept: np.ndarray     # the share of h_prev carried over
    written: np.ndarray  # the share of the candidate written
    h: np.ndarray        # new hidden state, kept + written
    params: dict
    reset: str
    update: str


def _preactivation_overrides(kind: str, preactivations, shape, dtype) -> dict:
    """Validate ``preactivations`` (gate -> array broadcastable to ``shape``)."""
    if preactivations is None:
        return {}
    if not isinstance(preactivations, Mapping):
        raise TypeError(f"preactivations must be a dict from gate name to array, got {type(preactivations).__name__}")
    out = {}
    for gate, value in preactivations.items():
        _check_gate(kind, gate)
        arr = np.asarray(value, dtype=dtype)
        try:
            out[gate] = np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(f"preactivations[{gate!r}] must have shape (N, H) = {shape} or broadcast to it, "
                             f"got {arr.shape}") from None
    return out


def lstm_anatomy(x, h_prev, c_prev, params, preactivations=None) -> LSTMAnatomy:
    """One LSTM step, gate by gate, returning every intermediate.

    Parameters
    ----------
    x : array of shape (N, D)
    h_prev, c_prev : arrays of shape (N, H)
    params : dict
        ``W_x`` (4H, D), ``W_h`` (4H, H), ``b_x`` (4H,), ``b_h`` (4H,), gate rows i, f, g, o.
    preactivations : dict, optional
        Maps a gate name (``"i"``, ``"f"``, ``"g"``, ``"o"``) to an array of
        shape (N, H) (or one that broadcasts to it) that *replaces* the
        computed pre-activation of that gate.

    Returns
    -------
    LSTMAnatomy
    """
    p, dtype, dims = check_lstm_params(params)
    x = check("x", x, ("N", "D"), dims, dtype)
    h_prev = check("h_prev", h_prev, ("N", "H"), dims, dtype)
    c_prev = check("c_prev", c_prev, ("N", "H"), dims, dtype)
    H = dims["H"]
    override = _preactivation_overrides("lstm", preactivations, (x.shape[0], H), dtype)
    a = {}
    for gate in LSTM_GATES:
        rows = gate_rows("lstm", gate, H)
        a[gate] = (x @ p["W_x"][rows].T + p["b_x"][rows]
                   + h_prev @ p["W_h"][rows].T + p["b_h"][rows])          # (N, H)
        if gate in override:
            a[gate] = np.array(override[gate])
    i, f, o = sigmoid(a["i"]), sigmoid(a["f"]), sigmoid(a["o"])
    g = np.tanh(a["g"])
    kept = f * c_prev            # 4.1: the forget gate scales the old cell
    written = i * g              # 4.2: the input gate scales the candidate
    c = kept + written           # 4.3
    tanh_c = np.tanh(c)
    h = o * tanh_c               # 4.4: the output gate decides what is exposed
    return LSTMAnatomy(x, h_prev, c_prev, a["i"], a["f"], a["g"], a["o"], i, f, g, o,
                       kept, written, c, tanh_c, h, p)


def gru_anatomy(x, h_prev, params, reset="after", update="keep", preactivations=None) -> GRUAnatomy:
    """One GRU step, gate by gate, returning every intermediate.

    Parameters
    ----------
    x : array of shape (N, D)
    h_prev : array of shape (N, H)
    params : dict
        ``W_x`` (3H, D), ``W_h`` (3H, H), ``b_x`` (3H,), ``b_h`` (3H,), gate rows r, z, n.
    reset : {"after", "before"}
        Where the reset gate acts (see :mod:`lessons_lib.cells.gru`).
    update : {"keep", "write"}
        Which way the update gate interpolates.
    preactivations : dict, optional
        Maps ``"r"``, ``"z"`` or ``"n"`` to an array that replaces that
        pre-activation (for ``"n"``: the whole ``a_n``).

    Returns
    -------
    GRUAnatomy
    """
    check_variant(reset, update)
    p, dtype, dims = _checked_gru_params(params)
    x = check("x", x, ("N", "D"), dims, dtype)
    h_prev = check("h_prev", h_prev, ("N", "H"), dims, dtype)
    H = dims["H"]
    override = _preactivation_overrides("gru", preactivations, (x.shape[0], H), dtype)
    blocks = {gate: {name: arr[gate_rows("gru", gate, H)] for name, arr in p.items()} for gate in GRU_GATES}
    a = {}
    for gate in ("r", "z"):
        b = blocks[gate]
        a[gate] = x @ b["W_x"].T + b["b_x"] + h_prev @ b["W_h"].T + b["b_h"]   # (N, H)
        if gate in override:
            a[gate] = np.array(override[gate])
    r, z = sigmoid(a["r"]), sigmoid(a["z"])
    bn = blocks["n"]
    a_xn = x @ bn["W_x"].T + bn["b_x"]
    if reset == "after":     # PyTorch: the reset gate scales W_hn h_prev + b_hn
        a_hn = r * (h_prev @ bn["W_h"].T + bn["b_h"])
    else:                    # Cho et al. (2014): the reset gate scales h_prev itself
        a_hn = (r * h_prev) @ bn["W_h"].T + bn["b_h"]
    a_n = np.array(override["n"]) if "n" in override else a_xn + a_hn
    n = np.tanh(a_n)
    if update == "keep":     # Cho et al. (2014), PyTorch: z near 1 keeps h_prev
        kept, written = z * h_prev, (1.0 - z) * n
    else:                    # Chung et al. (2014), Olah (2015): z near 1 writes n
        kept, written = (1.0 - z) * h_prev, z * n
    return GRUAnatomy(x, h_prev, a["r"], a["z"], a_xn, a_hn, a_n, r, z, n, kept, written,
                      kept + written, p, reset, update)


def unit_preactivations(anatomy, unit: int, **settings) -> dict:
    """Pre-activation overrides that set, for one hidden unit, the named gates to given values.

    ``unit_preactivations(anat, 0, f=-4.0)`` returns ``{"f": a_f}`` where
    ``a_f`` is ``anat.a_f`` with column 0 set to -4 (every row of the batch);
    pass it as ``preactivations=`` to :func:`lstm_anatomy` or
    :func:`gru_anatomy` to rerun the step with that unit's gate set by hand.
    """
    kind = "lstm" if isinstance(anatomy, LSTMAnatomy) else "gru" if isinstance(anatomy, GRUAnatomy) else None
    if kind is None:
        raise TypeError(f"anatomy must be an LSTMAnatomy or GRUAnatomy, got {type(anatomy).__name__}")
    H = anatomy.h.shape[1]
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < H:
        raise ValueError(f"unit must be an int in 0 .. {H - 1}, got {unit!r}")
    out = {}
    for gate, value in settings.items():
        _check_gate(kind, gate)
        a = np.array(getattr(anatomy, "a_" + gate))
        a[:, unit] = value
        out[gate] = a
    return out


# ---------------------------------------------------------------------------
# Backward: the gradient of every intermediate, one gate at a time.


class LSTMAnatomyGrads(NamedTuple):
    """Gradients of a loss ``L`` with respect to the intermediates of one LSTM step."""

    dc_total: np.ndarray  # dL/dc, through h and directly: dc + dh * o * (1 - tanh(c)^2)
    di: np.ndarray        # dL/di = dc_total * g
    df: np.ndarray        # dL/df = dc_total * c_prev
    dg: np.ndarray        # dL/dg = dc_total * i
    do: np.ndarray        # dL/do = dh * tanh(c)
    da_i: np.ndarray      # dL/da_i = di * i (1 - i)
    da_f: np.ndarray      # dL/da_f = df * f (1 - f)
    da_g: np.ndarray      # dL/da_g = dg * (1 - g^2)
    da_o: np.ndarray      # dL/da_o = do * o (1 - o)
    dx: np.ndarray        # (N, D)
    dh_prev: np.ndarray
    dc_prev: np.ndarray   # dc_total * f
    grads: dict           # W_x, W_h, b_x, b_h, fused in the order i, f, g, o


class GRUAnatomyGrads(NamedTuple):
    """Gradients of a loss ``L`` with respect to the intermediates of one GRU step."""

    dr: np.ndarray
    dz: np.ndarray
    dn: np.ndarray
    da_r: np.ndarray
    da_z: np.ndarray
    da_n: np.ndarray
    dx: np.ndarray       # (N, D)
    dh_prev: np.ndarray
    grads: dict          # W_x, W_h, b_x, b_h, fused in the order r, z, n


def _check_upstream(name, value, anat):
    dims = {"N": anat.h.shape[0], "H": anat.h.shape[1]}
    return check(name, value, ("N", "H"), dims, anat.h.dtype)


def lstm_anatomy_backward(dh, dc, anat: LSTMAnatomy) -> LSTMAnatomyGrads:
    """Gradients of every intermediate of :func:`lstm_anatomy`.

    Parameters
    ----------
    dh, dc : arrays of shape (N, H)
        Gradients of the loss with respect to the new ``h`` and, directly (not
        through ``h``), the new ``c``.
    anat : LSTMAnatomy

    Returns
    -------
    LSTMAnatomyGrads
    """
    if not isinstance(anat, LSTMAnatomy):
        raise TypeError(f"anat must be the LSTMAnatomy returned by lstm_anatomy, got {type(anat).__name__}")
    dh = _check_upstream("dh", dh, anat)
    dc = _check_upstream("dc", dc, anat)
    dc_total = dc + dh * anat.o * dtanh_from_output(anat.tanh_c)   # c reaches L directly and through h
    d = {"i": dc_total * anat.g, "f": dc_total * anat.c_prev, "g": dc_total * anat.i, "o": dh * anat.tanh_c}
    da = {
        "i": d["i"] * dsigmoid_from_output(anat.i),
        "f": d["f"] * dsigmoid_from_output(anat.f),
        "g": d["g"] * dtanh_from_output(anat.g),
        "o": d["o"] * dsigmoid_from_output(anat.o),
    }
    p, H = anat.params, anat.h.shape[1]
    dx = sum(da[k] @ p["W_x"][gate_rows("lstm", k, H)] for k in LSTM_GATES)
    dh_prev = sum(da[k] @ p["W_h"][gate_rows("lstm", k, H)] for k in LSTM_GATES)
    da_all = np.concatenate([da[k] for k in LSTM_GATES], axis=1)   # (N, 4H)
    db = da_all.sum(axis=0)
    grads = {"W_x": da_all.T @ anat.x, "W_h": da_all.T @ anat.h_prev, "b_x": db, "b_h": db.copy()}
    return LSTMAnatomyGrads(dc_total, d["i"], d["f"], d["g"], d["o"], da["i"], da["f"], da["g"], da["o"],
                            dx, dh_prev, dc_total * anat.f, grads)


def gru_anatomy_backward(dh, anat: GRUAnatomy) -> GRUAnatomyGrads:
    """Gradients of every intermediate of :func:`gru_anatomy`.

    Parameters
    ----------
    dh : array of shape (N, H)
        Gradient of the loss with respect to the new ``h``.
    anat : GRUAnatomy

    Returns
    -------
    GRUAnatomyGrads
    """
    if not isinstance(anat, GRUAnatomy):
        raise TypeError(f"anat must be the GRUAnatomy returned by gru_anatomy, got {type(anat).__name__}")
    dh = _check_upstream("dh", dh, anat)
    p, H = anat.params, anat.h.shape[1]
    blocks = {gate: {name: arr[gate_rows("gru", gate, H)] for name, arr in p.items()} for gate in GRU_GATES}
    r, z, n, h_prev = anat.r, anat.z, anat.n, anat.h_prev
    if anat.update == "keep":            # h = z h_prev + (1 - z) n
        dz, dn, dh_prev = dh * (h_prev - n), dh * (1.0 - z), dh * z
    else:                                # h = (1 - z) h_prev + z n
        dz, dn, dh_prev = dh * (n - h_prev), dh * z, dh * (1.0 - z)
    da_n = dn * dtanh_from_output(n)
    Wn, bn = blocks["n"]["W_h"], blocks["n"]["b_h"]
    if anat.reset == "after":            # a_hn = r * m, m = W_hn h_prev + b_hn
        m = h_prev @ Wn.T + bn
        dr = da_n * m
        dm = da_n * r
        dh_prev = dh_prev + dm @ Wn
        dW_hn, db_hn = dm.T @ h_prev, dm.sum(axis=0)
    else:                                # a_hn = W_hn (r * h_prev) + b_hn
        drh = da_n @ Wn
        dr = drh * h_prev
        dh_prev = dh_prev + drh * r
        dW_hn, db_hn = da_n.T @ (r * h_prev), da_n.sum(axis=0)
    da_r = dr * dsigmoid_from_output(r)
    da_z = dz * dsigmoid_from_output(z)
    dh_prev = dh_prev + da_r @ blocks["r"]["W_h"] + da_z @ blocks["z"]["W_h"]
    da = {"r": da_r, "z": da_z, "n": da_n}
    dx = sum(da[k] @ blocks[k]["W_x"] for k in GRU_GATES)
    grads = {
        "W_x": np.concatenate([da[k].T @ anat.x for k in GRU_GATES]),
        "W_h": np.concatenate([da_r.T @ h_prev, da_z.T @ h_prev, dW_hn]),
        "b_x": np.concatenate([da[k].sum(axis=0) for k in GRU_GATES]),
        "b_h": np.concatenate([da_r.sum(axis=0), da_z.sum(axis=0), db_hn]),
    }
    return GRUAnatomyGrads(dr, dz, dn, da_r, da_z, da_n, dx, dh_prev, grads)


def lstm_preactivation_fd(gate, x, h_prev, c_prev, params, dh, dc, eps=1e-5) -> np.ndarray:
    """Finite-difference gradient of ``L = sum(h * dh) + sum(c * dc)`` with respect to ``a_gate``.

    The pre-activation is nudged through :func:`lstm_anatomy`'s
    ``preactivations`` argument.  Use float64.
    """
    _check_gate("lstm", gate)
    base = lstm_anatomy(x, h_prev, c_prev, params)
    dh, dc = _check_upstream("dh", dh, base), _check_upstream("dc", dc, base)
    a = np.array(getattr(base, "a_" + gate), dtype=np.float64)

    def loss() -> float:
        out = lstm_anatomy(x, h_prev, c_prev, params, preactivations={gate: a})
        return float(np.sum(out.h * dh) + np.sum(out.c * dc))

    return numerical_gradient(loss, a, eps)


def gru_preactivation_fd(gate, x, h_prev, params, dh, reset="after", update="keep", eps=1e-5) -> np.ndarray:
    """Finite-difference gradient of ``L = sum(h * dh)`` with respect to ``a_gate`` of a GRU step."""
    _check_gate("gru", gate)
    base = gru_anatomy(x, h_prev, params, reset, update)
    dh = _check_upstream("dh", dh, base)
    a = np.array(getattr(base, "a_" + gate), dtype=np.float64)

    def loss() -> float:
        return float(np.sum(gru_anatomy(x, h_prev, params, reset, update, preactivations={gate: a}).h * dh))

    return numerical_gradient(loss, a, eps)


# ---------------------------------------------------------------------------
# Whole sequences: the gates at every step, from the library's own forward pass.


def lstm_traces(params, x, h0=None, c0=None) -> dict:
    """Run :func:`lessons_lib.cells.lstm.lstm_forward` and return every gate and state over time.

    Parameters
    ----------
    params : dict
    x : array of shape (N, T, D)
    h0, c0 : arrays of shape (N, H), optional (zeros)

    Returns
    -------
    dict with ``i``, ``f``, ``g``, ``o``, ``c``, ``h``, each of shape (N, T, H)
    (the values computed at steps 1 .. T).
    """
    p, dtype, dims = check_lstm_params(params)
    x = check("x", x, ("N", "T", "D"), dims, dtype)
    N, H = x.shape[0], dims["H"]
    h0 = np.zeros((N, H), dtype=dtype) if h0 is None else h0
    c0 = np.zeros((N, H), dtype=dtype) if c0 is None else c0
    out, _, _, cache = lstm_forward(p, x, h0, c0)
    gates = {k: np.swapaxes(v, 0, 1).copy() for k, v in split_gates(cache.gates).items()}   # (N, T, H)
    return {**gates, "c": np.swapaxes(cache.c[1:], 0, 1).copy(), "h": out}


def lstm_anatomy_steps(x, h0, c0, params) -> list:
    """:func:`lstm_anatomy` at every step of a sequence: ``x`` (N, T, D), ``h0``, ``c0`` (N, H) -> T anatomies."""
    p, dtype, dims = check_lstm_params(params)
    x = check("x", x, ("N", "T", "D"), dims, dtype)
    h, c = h0, c0
    steps = []
    for t in range(x.shape[1]):
        anat = lstm_anatomy(x[:, t], h, c, p)
        steps.append(anat)
        h, c = anat.h, anat.c
    return steps


def gru_anatomy_steps(x, h0, params, reset="after", update="keep") -> list:
    """:func:`gru_anatomy` at every step of a sequence: ``x`` (N, T, D), ``h0`` (N, H) -> T anatomies."""
    p, dtype, dims = _checked_gru_params(params)
    x = check("x", x, ("N", "T", "D"), dims, dtype)
    h = h0
    steps = []
    for t in range(x.shape[1]):
        anat = gru_anatomy(x[:, t], h, p, reset, update)
        steps.append(anat)
        h = anat.h
    return steps


def format_steps(steps, fields, n: int = 0, digits: int = 2, first_step: int = 1, names=None) -> str:
    """A plain-text table of named intermediates, one row per step, one column per unit.

    Parameters
    ----------
    steps : sequence of LSTMAnatomy or GRUAnatomy
    fields : sequence of str
        Names of fields of the anatomy (``"f"``, ``"c_prev"``, ...); ``"x"`` prints the input.
    n : int
        Which sequence of the batch.
    digits : int
    first_step : int
        Number of the first row's step.
    names : dict, optional
        Column headings for a field, e.g. ``{"x": ["v", "m", "q"]}``; by
        default ``f[1]``, ``f[2]``, ... (units counted from 1).
    """
    steps = list(steps)
    if not steps:
        raise ValueError("steps must hold at least one anatomy")
    fields = list(fields)
    names = {} if names is None else dict(names)
    for field in fields:
        if field not in steps[0]._fields or field in ("params", "reset", "update"):
            known = [f for f in steps[0]._fields if f not in ("params", "reset", "update")]
            raise ValueError(f"unknown field {field!r}; the fields are {known}")
    headings = []
    for field in fields:
        k = np.shape(getattr(steps[0], field))[1]
        cols = list(names.get(field, [f"{field}[{j + 1}]" for j in range(k)]))
        if len(cols) != k:
            raise ValueError(f"names[{field!r}] must have {k} entries, got {len(cols)}")
        headings += cols
    widths = [max(len(h), digits + 4) for h in headings]
    lines = ["step " + " ".join(h.rjust(w) for h, w in zip(headings, widths))]
    for t, anat in enumerate(steps):
        values = np.concatenate([np.asarray(getattr(anat, field))[n] for field in fields])
        # round first, then add 0.0 so that a tiny negative number prints as 0.00, not -0.00
        cells = [f"{round(float(v), digits) + 0.0:{w}.{digits}f}" for v, w in zip(values, widths)]
        lines.append(f"{t + first_step:4d} " + " ".join(cells))
    return "\n".join(lines)
