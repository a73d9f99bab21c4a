"""Write ``torch_stacked_reference.npz``: PyTorch's stacked and bidirectional RNNs, for the tests to compare with.

The companion of ``make_torch_reference.py`` (one layer), for
``test_stacked.py``.  PyTorch is not a dependency of the project; run this
once with a Python that has torch installed, e.g.::

    /work/torchvenv/bin/python tests/data/make_torch_stacked_reference.py

For each cell (``rnn``, ``lstm``, ``gru``), ``num_layers`` L in 1, 2, 3 and
``bidirectional`` in False, True (written ``uni`` and ``bi``), the script
builds a ``batch_first`` module in float64 with a fixed seed and stores, under
the prefix ``<kind>.L<L>.<uni|bi>.``:

- the module's ``state_dict`` (``weight_ih_l0``, ..., ``bias_hh_l2_reverse``);
- its inputs: ``h0``, ``c0`` (L * num_directions, N, H), the upstream
  gradients ``dout`` (N, T, num_directions * H), ``dh_T``, ``dc_T``
  (L * num_directions, N, H) (``c0`` and ``dc_T`` for the LSTM only);
- two cases, ``full`` (every sequence of length T) and ``lengths`` (variable
  lengths through ``pack_padded_sequence``), each under
  ``<prefix><case>.``: the outputs ``out`` (zero-padded) and ``h_T``
  (``c_T``), and the gradients ``dx``, ``dh0`` (``dc0``) and
  ``grad.<state_dict key>`` of the loss
  ``sum(out * dout) + sum(h_T * dh_T) (+ sum(c_T * dc_T))``.

The input batch ``x`` (N, T, D) and ``lengths`` (N,) are shared by every
case, under ``inputs.x`` and ``inputs.lengths``.  In ``x`` the steps past
each sequence's length hold ordinary random numbers, so a library that let
padding leak into the packed case would disagree with PyTorch.  States keep
PyTorch's leading ``L * num_directions`` axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

SEED = 20240602
N, T, D, H = 3, 4, 2, 2
LENGTHS = [4, 1, 3]  # unsorted, to exercise enforce_sorted=False; PyTorch does not accept 0
MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
LAYERS = (1, 2, 3)
DIRECTIONS = {"uni": False, "bi": True}
OUT = Path(__file__).with_name("torch_stacked_reference.npz")


def make_inputs(kind: str, L: int, nd: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Initial states and upstream gradients for one configuration."""
    states = ("h0", "c0") if kind == "lstm" else ("h0",)
    finals = ("dh_T", "dc_T") if kind == "lstm" else ("dh_T",)
    inputs = {name: rng.standard_normal((L * nd, N, H)) for name in states + finals}
    inputs["dout"] = rng.standard_normal((N, T, nd * H))
    return inputs


def run_case(kind: str, module: torch.nn.Module, x: np.ndarray, inputs: dict[str, np.ndarray],
             lengths: list[int] | None) -> dict[str, np.ndarray]:
    """Forward and backward through ``module``; returns outputs and gradients as numpy arrays."""
    module.zero_grad(set_to_none=True)
    x_t = torch.tensor(x, requires_grad=True)
    h0 = torch.tensor(inputs["h0"], requires_grad=True)  # (L nd, N, H)
    c0 = torch.tensor(inputs["c0"], requires_grad=True) if kind == "lstm" else None
    state0 = (h0, c0) if kind == "lstm" else h0

    if lengths is None:
        out, state = module(x_t, state0)
    else:
        packed = pack_padded_sequence(x_t, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
        out_packed, state = module(packed, state0)
        out, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=T)
    h_T, c_T = state if kind == "lstm" else (state, None)

    loss = (out * torch.from_numpy(inputs["dout"])).sum() + (h_T * torch.from_numpy(inputs["dh_T"])).sum()
    if kind == "lstm":
        loss = loss + (c_T * torch.from_numpy(inputs["dc_T"])).sum()
    loss.backward()

    result = {"out": out.detach().numpy(), "h_T": h_T.detach().numpy(),
              "dx": x_t.grad.numpy(), "dh0": h0.grad.numpy()}
    if kind == "lstm":
        result.update(c_T=c_T.detach().numpy(), dc0=c0.grad.numpy())
    for name, p in module.named_parameters():
        result[f"grad.{name}"] = p.grad.numpy()
    return result


def main() -> None:
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((N, T, D))
    data = {"meta.torch_version": np.array(torch.__version__),
            "inputs.x": x, "inputs.lengths": np.array(LENGTHS, dtype=np.int64)}
    for kind, cls in MODULES.items():
        for L in LAYERS:
            for word, bidirectional in DIRECTIONS.items():
                prefix = f"{kind}.L{L}.{word}."
                module = cls(D, H, num_layers=L, bidirectional=bidirectional, batch_first=True,
                             dtype=torch.float64)
                inputs = make_inputs(kind, L, 2 if bidirectional else 1, rng)
                data.update({prefix + k: v.detach().numpy().copy() for k, v in module.state_dict().items()})
                data.update({prefix + k: v for k, v in inputs.items()})
                for case, lengths in (("full", None), ("lengths", LENGTHS)):
                    result = run_case(kind, module, x, inputs, lengths)
                    data.update({f"{prefix}{case}.{k}": v.copy() for k, v in result.items()})
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(data)} arrays, torch {torch.__version__})")


if __name__ == "__main__":
    main()
