"""Initial parameters for the cells, drawn from an explicit random generator.

Schemes (``scheme=``):

``"uniform"``
    PyTorch's default for ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``: every weight
    and bias from U(-1/sqrt(H), 1/sqrt(H)).
``"xavier"``
    Glorot and Bengio (2010), per gate block: U(-a, a) with
    a = sqrt(6 / (fan_in + fan_out)), biases zero.

Options that apply to either scheme:

``recurrent="orthogonal"``
    Each ``(H, H)`` gate block of ``W_h`` is a random orthogonal matrix (Saxe
    et al., 2014), so that at the start the recurrent map preserves norms;
    chapter 2 shows what this does to vanishing gradients.
``forget_bias``
    For an LSTM, sets the forget gate's total bias ``b_xf + b_hf`` to this
    value (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1), so that the
    cell starts out remembering.
``chrono``
    For an LSTM, **chrono initialisation** (Tallec and Ollivier 2018, "Can
    recurrent neural networks warp time?", ICLR): with ``chrono = T_max``,
    the forget gate's total bias is drawn per unit as ``b_f = log(u)``, ``u ~
    U(1, T_max - 1)``, and the input gate's is ``b_i = -b_f``.  A unit with
    inputs near zero then keeps its cell for about ``u`` steps
    (``1 / (1 - sigma(b_f)) = 1 + u``), so the memory times are spread over
    the range of dependencies the task is expected to have.  An alternative
    to ``forget_bias``, not a companion.
``variant``
    For an LSTM, the variant of :mod:`lessons_lib.cells.lstm_variants` the
    parameters are for.  Only ``"peephole"`` changes them: it adds the
    peephole weights ``p_i``, ``p_f``, ``p_o`` (H,), drawn like the biases
    (U(-1/sqrt(H), 1/sqrt(H)) for ``"uniform"``, zeros for ``"xavier"``).

The minimal cells ``"mingru"`` and ``"minlstm"`` (:mod:`lessons_lib.cells.min_cells`)
have only ``W_x`` and ``b_x``.  For them ``"uniform"`` is PyTorch's default
for ``nn.Linear``, which is what Feng et al. (2024) build them from: every
weight and bias from U(-1/sqrt(D), 1/sqrt(D)); ``"xavier"`` is as above with
fan-in ``D`` and fan-out ``H``.  Their options:

``update_bias``
    For a minGRU, sets the update gate's bias ``b_z`` to this value.  The
    minGRU keeps ``1 - z`` of its state per step, so a negative ``b_z``
    (-3 keeps 95 %) makes it start out remembering, as the LSTM's
    ``forget_bias`` does.
``forget_bias``
    For a minLSTM, sets the forget gate's bias ``b_f``; the input gate's
    ``b_i`` stays as drawn, and ``f' = f / (f + i)`` grows with ``b_f``.

The draws are made in a fixed order (weights and biases, the orthogonal
blocks, then the peepholes, then the chrono biases), so two calls that differ
only in a later option share everything drawn before it: the same seed gives
a vanilla and a peephole LSTM with the same ``W_x``, ``W_h``, ``b_x``, ``b_h``.
"""

from __future__ import annotations

import numpy as np

from ..validation import MIN_KINDS, check_any_kind, check_choice
from .dispatch import GATE_COUNT
from .lstm_variants import PEEPHOLE_KEYS, check_variant
from .min_cells import GATE_COUNT as MIN_GATE_COUNT

SCHEMES = ("uniform", "xavier")
RECURRENT = ("same", "orthogonal")


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}"
        )
    return rng


def _check_size(name: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be a positive int, got {n}")
    return int(n)


def orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``(n, n)`` orthogonal matrix, uniformly distributed (QR with sign correction)."""
    q, r = np.linalg.qr(_check_rng(rng).standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _check_chrono(chrono) -> float:
    if isinstance(chrono, bool) or not isinstance(chrono, (int, float, np.integer, np.floating)):
        raise TypeError(f"chrono must be a number T_max > 2, the longest dependency expected, "
                        f"got {type(chrono).__name__}")
    if not (np.isfinite(chrono) and chrono > 2):
        raise ValueError(f"chrono must be a finite number T_max > 2, so that U(1, T_max - 1) is an interval, "
                         f"got {chrono}")
    return float(chrono)


def chrono_forget_bias(H: int, T_max: float, rng: np.random.Generator) -> np.ndarray:
    """Chrono initialisation's forget bias (Tallec and Ollivier 2018): ``log(u)``, ``u ~ U(1, T_max - 1)``, shape (H,)."""
    return np.log(_check_rng(rng).uniform(1.0, _check_chrono(T_max) - 1.0, _check_size("H", H)))


def init_params(kind, D, H, rng, *, scheme="uniform", recurrent="same", forget_bias=None, chrono=None,
                variant="vanilla", update_bias=None, dtype=np.float64):
    """Random parameters for a cell of family ``kind``.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru", "mingru", "minlstm"}
    D, H : int
        Input and hidden sizes.
    rng : numpy.random.Generator
        Source of randomness (the library never touches numpy's global seed).
    scheme : {"uniform", "xavier"}
    recurrent : {"same", "orthogonal"}
        ``"orthogonal"`` replaces each gate block of ``W_h`` by an orthogonal matrix.
    forget_bias : float, optional
        LSTM: the forget gate's total bias; minLSTM: its forget gate's bias ``b_f``.
    chrono : float, optional
        LSTM only: ``T_max`` of chrono initialisation (see above); not with ``forget_bias``.
    variant : str
        LSTM only: one of :data:`lessons_lib.cells.lstm_variants.VARIANTS`;
        ``"peephole"`` adds ``p_i``, ``p_f``, ``p_o``.
    update_bias : float, optional
        minGRU only: the update gate's bias ``b_z`` (negative: start out remembering).
    dtype : float32 or float64

    Returns
    -------
    dict with ``W_x`` (G H, D), ``W_h`` (G H, H), ``b_x`` (G H,), ``b_h`` (G H,)
    (and the peephole weights (H,) for ``variant="peephole"``); for the
    minimal cells ``W_x`` (G H, D) and ``b_x`` (G H,) only.
    """
    kind = check_any_kind(kind)
    D, H = _check_size("D", D), _check_size("H", H)
    rng = _check_rng(rng)
    check_choice("scheme", scheme, SCHEMES)
    check_choice("recurrent", recurrent, RECURRENT)
    if forget_bias is not None and kind not in ("lstm", "minlstm"):
        hint = "; the minGRU's counterpart is update_bias" if kind == "mingru" else ""
        raise ValueError(f"forget_bias applies to an LSTM only, not to {kind!r} (a minLSTM takes it too, "
                         f"for its forget gate{hint})")
    if update_bias is not None and kind != "mingru":
        raise ValueError(f"update_bias applies to a minGRU only, not to {kind!r}")
    if recurrent != "same" and kind in MIN_KINDS:
        raise ValueError(f"recurrent={recurrent!r} needs recurrent weights, which {kind!r} does not have")
    if chrono is not None and kind != "lstm":
        raise ValueError(f"chrono applies to an LSTM only, not to {kind!r}")
    if chrono is not None and forget_bias is not None:
        raise ValueError(f"chrono and forget_bias both set the forget bias; give one, got chrono={chrono!r} "
                         f"and forget_bias={forget_bias!r}")
    chrono = None if chrono is None else _check_chrono(chrono)
    variant = check_variant(variant)
    if variant != "vanilla" and kind != "lstm":
        raise ValueError(f"variant applies to an LSTM only, not to {kind!r}; got variant={variant!r}")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
    if kind in MIN_KINDS:
        return _init_min(kind, D, H, rng, scheme, forget_bias, update_bias, dtype)
    G = GATE_COUNT[kind]

    if scheme == "uniform":
        k = 1.0 / np.sqrt(H)
        p = {
            "W_x": rng.uniform(-k, k, (G * H, D)),
            "W_h": rng.uniform(-k, k, (G * H, H)),
            "b_x": rng.uniform(-k, k, G * H),
            "b_h": rng.uniform(-k, k, G * H),
        }
    else:
        a_x, a_h = np.sqrt(6.0 / (D + H)), np.sqrt(6.0 / (H + H))
        p = {
            "W_x": rng.uniform(-a_x, a_x, (G * H, D)),
            "W_h": rng.uniform(-a_h, a_h, (G * H, H)),
            "b_x": np.zeros(G * H),
            "b_h": np.zeros(G * H),
        }
    if recurrent == "orthogonal":
        p["W_h"] = np.concatenate([orthogonal(H, rng) for _ in range(G)])
    if forget_bias is not None:
        p["b_x"][H:2 * H] = forget_bias  # rows H..2H are the forget gate (order i, f, g, o)
        p["b_h"][H:2 * H] = 0.0
    if variant == "peephole":
        k = 1.0 / np.sqrt(H)
        for key in PEEPHOLE_KEYS:
            p[key] = rng.uniform(-k, k, H) if scheme == "uniform" else np.zeros(H)
    if chrono is not None:
        b_f = chrono_forget_bias(H, chrono, rng)
        p["b_x"][H:2 * H], p["b_h"][H:2 * H] = b_f, 0.0    # forget gate
        p["b_x"][:H], p["b_h"][:H] = -b_f, 0.0             # input gate: b_i = -b_f
    return {k: v.astype(dtype) for k, v in p.items()}


def _init_min(kind, D, H, rng, scheme, forget_bias, update_bias, dtype) -> dict:
    """``W_x`` (G H, D) and ``b_x`` (G H,) of a minimal cell; the gate bias options overwrite the first block."""
    G = MIN_GATE_COUNT[kind]
    if scheme == "uniform":
        k = 1.0 / np.sqrt(D)                       # nn.Linear(D, G H): fan-in D
        p = {"W_x": rng.uniform(-k, k, (G * H, D)), "b_x": rng.uniform(-k, k, G * H)}
    else:
        a = np.sqrt(6.0 / (D + H))
        p = {"W_x": rng.uniform(-a, a, (G * H, D)), "b_x": np.zeros(G * H)}
    for bias in (update_bias, forget_bias):       # rows 0..H: z of the minGRU, f of the minLSTM
        if bias is not None:
            p["b_x"][:H] = bias
    return {k: v.astype(dtype) for k, v in p.items()}
