"""Write ``torch_reference.npz``: PyTorch's outputs and gradients for the tests to compare with.

PyTorch is not a dependency of the project, so the tests cannot call it in CI.
This script runs it once and stores the numbers; ``test_torch_reference.py``
checks the library against them with numpy only.  Run it (from anywhere) with
a Python that has torch installed, e.g.::

    /work/torchvenv/bin/python tests/data/make_torch_reference.py

One random input batch (``x`` (N, T, D), ``h0``, ``c0`` (N, H), upstream
gradients ``dout`` (N, T, H), ``dh_T``, ``dc_T`` (N, H) and ``lengths`` (N,))
is shared by every case and stored under ``inputs.<name>``.  For each cell
(``rnn``, ``lstm``, ``gru``) the script builds a one-layer ``batch_first``
module in float64 with a fixed seed, stores its ``state_dict`` under
``<kind>.<key>`` (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``,
``bias_hh_l0``), and runs two cases: ``<kind>.full`` (every sequence of
length T) and ``<kind>.lengths`` (variable lengths through
``pack_padded_sequence``).  Each case backpropagates the loss
``sum(out * dout) + sum(h_T * dh_T) (+ sum(c_T * dc_T))`` and stores, under
``<kind>.<case>.<name>``, the outputs ``out`` (zero-padded), ``h_T``
(``c_T``) and the gradients ``dx``, ``dh0`` (``dc0``) and
``grad.<state_dict key>``.

The states are stored without PyTorch's leading ``num_layers`` axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

SEED = 20240601
N, T, D, H = 3, 3, 2, 2
LENGTHS = [3, 1, 2]  # unsorted, to exercise enforce_sorted=False; PyTorch does not accept 0
MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
OUT = Path(__file__).with_name("torch_reference.npz")


def make_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "c0": rng.standard_normal((N, H)),
        "dout": rng.standard_normal((N, T, H)),
        "dh_T": rng.standard_normal((N, H)),
        "dc_T": rng.standard_normal((N, H)),
        "lengths": np.array(LENGTHS, dtype=np.int64),
    }


def run_case(kind: str, module: torch.nn.Module, inputs: dict[str, np.ndarray],
             lengths: list[int] | None) -> dict[str, np.ndarray]:
    """Forward and backward through ``module``; returns outputs and gradients as numpy arrays."""
    module.zero_grad(set_to_none=True)
    x = torch.tensor(inputs["x"], requires_grad=True)
    h0 = torch.tensor(inputs["h0"][None], requires_grad=True)  # (1, N, H)
    c0 = torch.tensor(inputs["c0"][None], requires_grad=True)
    state0 = (h0, c0) if kind == "lstm" else h0

    if lengths is None:
        out, state = module(x, state0)
    else:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
        out_packed, state = module(packed, state0)
        out, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=T)
    h_T, c_T = state if kind == "lstm" else (state, None)

    loss = (out * torch.from_numpy(inputs["dout"])).sum() + (h_T[0] * torch.from_numpy(inputs["dh_T"])).sum()
    if kind == "lstm":
        loss = loss + (c_T[0] * torch.from_numpy(inputs["dc_T"])).sum()
    loss.backward()

    result = {"out": out.detach().numpy(), "h_T": h_T[0].detach().numpy(),
              "dx": x.grad.numpy(), "dh0": h0.grad[0].numpy()}
    if kind == "lstm":
        result.update(c_T=c_T[0].detach().numpy(), dc0=c0.grad[0].numpy())
    for name, p in module.named_parameters():
        result[f"grad.{name}"] = p.grad.numpy()
    return result


def main() -> None:
    torch.manual_seed(SEED)
    inputs = make_inputs(np.random.default_rng(SEED))
    data = {"meta.torch_version": np.array(torch.__version__)}
    data.update({f"inputs.{k}": v for k, v in inputs.items()})
    for kind, cls in MODULES.items():
        module = cls(D, H, num_layers=1, batch_first=True, dtype=torch.float64)
        data.update({f"{kind}.{k}": v.detach().numpy().copy() for k, v in module.state_dict().items()})
        for case, lengths in (("full", None), ("lengths", LENGTHS)):
            data.update({f"{kind}.{case}.{k}": v.copy() for k, v in run_case(kind, module, inputs, lengths).items()})
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(data)} arrays, torch {torch.__version__})")


if __name__ == "__main__":
    main()
