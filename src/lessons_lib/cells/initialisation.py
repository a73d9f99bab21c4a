"""Initial parameters for the three cells, drawn from an explicit random generator.

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
"""

from __future__ import annotations

import numpy as np

from ..validation import check_choice, check_kind
from .dispatch import GATE_COUNT

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


def init_params(kind, D, H, rng, *, scheme="uniform", recurrent="same", forget_bias=None, dtype=np.float64):
    """Random parameters for a cell of family ``kind``.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    D, H : int
        Input and hidden sizes.
    rng : numpy.random.Generator
        Source of randomness (the library never touches numpy's global seed).
    scheme : {"uniform", "xavier"}
    recurrent : {"same", "orthogonal"}
        ``"orthogonal"`` replaces each gate block of ``W_h`` by an orthogonal matrix.
    forget_bias : float, optional
        LSTM only: the forget gate's total bias.
    dtype : float32 or float64

    Returns
    -------
    dict with ``W_x`` (G H, D), ``W_h`` (G H, H), ``b_x`` (G H,), ``b_h`` (G H,).
    """
    kind = check_kind(kind)
    D, H = _check_size("D", D), _check_size("H", H)
    rng = _check_rng(rng)
    check_choice("scheme", scheme, SCHEMES)
    check_choice("recurrent", recurrent, RECURRENT)
    if forget_bias is not None and kind != "lstm":
        raise ValueError(f"forget_bias applies to an LSTM only, not to {kind!r}")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
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
    return {k: v.astype(dtype) for k, v in p.items()}
