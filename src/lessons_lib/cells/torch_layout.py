"""Moving weights (and gradients) between this library and PyTorch, without importing PyTorch.

The library stores parameters in PyTorch's own layout for a single-layer,
unidirectional ``torch.nn.RNN``, ``LSTM`` or ``GRU``; only the names differ:

==================  ==========
PyTorch key         library key
==================  ==========
``weight_ih_l0``    ``W_x``
``weight_hh_l0``    ``W_h``
``bias_ih_l0``      ``b_x``
``bias_hh_l0``      ``b_h``
==================  ==========

Gate rows are stacked in PyTorch's order: LSTM i, f, g, o; GRU r, z, n, with
the GRU's reset gate applied after the recurrent product (the library's
default GRU convention).  Because the layout is the same, parameters and
gradients convert the same way, and a round trip is exact.

Usage with PyTorch (``batch_first=True``)::

    params = from_torch_state_dict("lstm", torch_lstm.state_dict())
    torch_lstm.load_state_dict({k: torch.from_numpy(v) for k, v in
                                to_torch_state_dict("lstm", params).items()})
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..validation import CELL_NAMES, check_kind, check_params
from .dispatch import GATE_COUNT

TORCH_KEYS = {"W_x": "weight_ih_l0", "W_h": "weight_hh_l0", "b_x": "bias_ih_l0", "b_h": "bias_hh_l0"}


def _expected_shapes(kind: str) -> dict[str, tuple]:
    G = GATE_COUNT[kind]
    gh = "H" if G == 1 else f"{G}H"
    return {"W_x": (gh, "D"), "W_h": (gh, "H"), "b_x": (gh,), "b_h": (gh,)}


def _to_numpy(value):
    """Accept numpy arrays, nested lists, or tensors (anything with ``detach``) without importing torch."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return value


def _check_gate_rows(kind: str, p: dict, what: str) -> None:
    G = GATE_COUNT[kind]
    rows, H = p["W_h"].shape
    if rows != G * H:
        raise ValueError(
            f"{what} of {CELL_NAMES[kind]} must have shape ({G}H, H) = ({G * H}, {H}) "
            f"with {G} gate block(s) stacked, got {p['W_h'].shape}"
        )


def from_torch_state_dict(kind, sd, dtype=None):
    """Library parameters from a PyTorch ``state_dict`` of a one-layer RNN, LSTM or GRU.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    sd : mapping
        Keys ``weight_ih_l0`` (G H, D), ``weight_hh_l0`` (G H, H), ``bias_ih_l0``
        (G H,), ``bias_hh_l0`` (G H,); values numpy arrays, lists or CPU tensors.
        The two bias keys may both be absent (a layer made with ``bias=False``):
        the biases are then zero.
    dtype : float32 or float64, optional
        Convert to this dtype; by default keep the dtype of ``sd`` (PyTorch's
        float32, usually).

    Returns
    -------
    dict with keys ``W_x``, ``W_h``, ``b_x``, ``b_h``: fresh arrays.
    """
    kind = check_kind(kind)
    if not isinstance(sd, Mapping):
        raise TypeError(f"sd must be a mapping such as module.state_dict(), got {type(sd).__name__}")
    allowed = set(TORCH_KEYS.values())
    extra = sorted(k for k in sd if k not in allowed)
    if extra:
        raise ValueError(
            f"sd has keys {extra} that a one-layer, unidirectional {kind.upper()} does not have; "
            f"expected {sorted(allowed)} (stacked or bidirectional layers are not supported)"
        )
    sd = {k: _to_numpy(v) for k, v in sd.items()}
    has_bias = [k in sd for k in ("bias_ih_l0", "bias_hh_l0")]
    if not any(has_bias):
        rows = np.shape(sd.get("weight_hh_l0", ()))[:1]
        sd["bias_ih_l0"] = np.zeros(rows, dtype=np.asarray(sd.get("weight_hh_l0", 0.0)).dtype)
        sd["bias_hh_l0"] = sd["bias_ih_l0"].copy()
    named = {ours: sd[theirs] for ours, theirs in TORCH_KEYS.items() if theirs in sd}
    if dtype is not None:
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
        named = {k: np.asarray(v).astype(dtype) for k, v in named.items()}
    try:
        p, _ = check_params(named, _expected_shapes(kind), {}, CELL_NAMES[kind])
    except (ValueError, TypeError) as exc:  # speak PyTorch's names back to the caller
        msg = str(exc).replace("params for", "sd for").replace("params must", "sd must")
        for ours, theirs in TORCH_KEYS.items():
            msg = msg.replace(f"params[{ours!r}]", f"sd[{theirs!r}]").replace(f"'{ours}'", f"'{theirs}'")
        raise type(exc)(msg) from None
    _check_gate_rows(kind, p, "sd['weight_hh_l0']")
    return {k: np.array(v, copy=True) for k, v in p.items()}


def to_torch_state_dict(kind, params):
    """PyTorch ``state_dict`` keys and shapes from library parameters or gradients.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    params : dict
        ``W_x``, ``W_h``, ``b_x``, ``b_h`` (parameters, or the ``grads`` that
        :func:`lessons_lib.cells.dispatch.sequence_backward` returns).

    Returns
    -------
    dict with ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``:
    numpy arrays (wrap with ``torch.from_numpy`` to load them).
    """
    kind = check_kind(kind)
    p, _ = check_params(params, _expected_shapes(kind), {}, CELL_NAMES[kind])
    _check_gate_rows(kind, p, "params['W_h']")
    return {TORCH_KEYS[k]: np.array(v, copy=True) for k, v in p.items()}
