"""PyTorch's conventions, checked without PyTorch.

``data/torch_reference.npz`` holds the weights, inputs, outputs, final states
and gradients of ``torch.nn.RNN``, ``LSTM`` and ``GRU`` (float64, batch_first,
one layer), written by ``data/make_torch_reference.py``.  The library, fed the
same ``state_dict`` through :func:`from_torch_state_dict`, must reproduce
them, and its gradients, put back into PyTorch's layout with
:func:`to_torch_state_dict`, must be PyTorch's.

The last tests run PyTorch live on random sizes; they are skipped where
PyTorch is not installed (in CI, where it is not a dependency).
"""

from pathlib import Path

import numpy as np
import pytest

from cases import KINDS, state_arrays
from lessons_lib import from_torch_state_dict, sequence_backward, sequence_forward, to_torch_state_dict

DATA = Path(__file__).parent / "data" / "torch_reference.npz"
TORCH_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
CASES = ("full", "lengths")


def assert_matches_torch(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-13, err_msg=what)


@pytest.fixture(scope="module")
def reference():
    with np.load(DATA) as data:
        return {k: data[k] for k in data.files}


def library_run(kind, state_dict, inputs, lengths):
    """Forward and backward through the library with PyTorch's weights and the stored inputs."""
    params = from_torch_state_dict(kind, state_dict)
    state0 = (inputs["h0"], inputs["c0"]) if kind == "lstm" else inputs["h0"]
    dstate = (inputs["dh_T"], inputs["dc_T"]) if kind == "lstm" else inputs["dh_T"]
    out, state, cache = sequence_forward(kind, params, inputs["x"], state0, lengths)
    dx, dstate0, grads = sequence_backward(kind, inputs["dout"], dstate, cache)
    return out, state, dx, dstate0, to_torch_state_dict(kind, grads)


def test_reference_file_is_small_and_float64(reference):
    """The stored reference is float64 throughout (a float32 reference could not test to 1e-12)."""
    assert DATA.stat().st_size < 64_000
    floats = [v for k, v in reference.items() if not k.startswith("meta.") and not k.endswith("lengths")]
    assert floats and all(v.dtype == np.float64 for v in floats)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind", KINDS)
def test_outputs_and_states_match_torch(kind, case, reference):
    """out and the final state (h_T, c_T) equal PyTorch's to 1e-12, full and packed (variable lengths)."""
    inputs = {k.split(".", 1)[1]: v for k, v in reference.items() if k.startswith("inputs.")}
    state_dict = {k: reference[f"{kind}.{k}"] for k in TORCH_KEYS}
    lengths = inputs["lengths"] if case == "lengths" else None
    out, state, _, _, _ = library_run(kind, state_dict, inputs, lengths)
    expected = {k.rsplit(".", 1)[1]: v for k, v in reference.items() if k.startswith(f"{kind}.{case}.")}
    assert_matches_torch(out, expected["out"], "out")
    assert_matches_torch(state_arrays(kind, state)[0], expected["h_T"], "h_T")
    if kind == "lstm":
        assert_matches_torch(state[1], expected["c_T"], "c_T")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_torch(kind, case, reference):
    """dx, dh0 (dc0) and the four weight gradients, in PyTorch's layout, equal PyTorch's to 1e-12."""
    inputs = {k.split(".", 1)[1]: v for k, v in reference.items() if k.startswith("inputs.")}
    state_dict = {k: reference[f"{kind}.{k}"] for k in TORCH_KEYS}
    lengths = inputs["lengths"] if case == "lengths" else None
    _, _, dx, dstate0, torch_grads = library_run(kind, state_dict, inputs, lengths)
    prefix = f"{kind}.{case}."
    assert_matches_torch(dx, reference[prefix + "dx"], "dx")
    assert_matches_torch(state_arrays(kind, dstate0)[0], reference[prefix + "dh0"], "dh0")
    if kind == "lstm":
        assert_matches_torch(dstate0[1], reference[prefix + "dc0"], "dc0")
    for key in TORCH_KEYS:
        assert_matches_torch(torch_grads[key], reference[prefix + "grad." + key], f"grad {key}")


# ---------------------------------------------------------------------------
# Live against PyTorch, where it is installed.


def import_torch():
    return pytest.importorskip(
        "torch", reason="PyTorch is not installed (it is not a dependency); the stored reference covers CI")


def torch_run(torch, module, kind, x, state0, dout, dstate, lengths):
    """PyTorch's forward and backward; returns numpy outputs, states and gradients."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    module.zero_grad(set_to_none=True)
    x_t = torch.tensor(x, requires_grad=True)
    s0 = [torch.tensor(s[None], requires_grad=True) for s in state_arrays(kind, state0)]
    if lengths is None:
        out, state = module(x_t, tuple(s0) if kind == "lstm" else s0[0])
    else:
        packed = pack_padded_sequence(x_t, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
        out, state = module(packed, tuple(s0) if kind == "lstm" else s0[0])
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    state = state if kind == "lstm" else (state,)
    loss = (out * torch.from_numpy(dout)).sum()
    for s, ds in zip(state, state_arrays(kind, dstate)):
        loss = loss + (s[0] * torch.from_numpy(ds)).sum()
    loss.backward()
    grads = {name: p.grad.numpy() for name, p in module.named_parameters()}
    return (out.detach().numpy(), [s[0].detach().numpy() for s in state], x_t.grad.numpy(),
            [s.grad[0].numpy() for s in s0], grads)


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", KINDS)
def test_live_against_torch(kind, seed, with_lengths):
    """On random sizes, the library with a torch module's weights reproduces its outputs and gradients."""
    torch = import_torch()
    rng = np.random.default_rng(seed)
    N, T, D, H = (int(v) for v in rng.integers(1, 6, size=4))
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # torch's own seed is not ours: draw the weights from rng instead
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-1.0, 1.0, tuple(p.shape))))
    x = rng.standard_normal((N, T, D))
    state0 = tuple(rng.standard_normal((N, H)) for _ in range(2 if kind == "lstm" else 1))
    dout = rng.standard_normal((N, T, H))
    dstate = tuple(rng.standard_normal((N, H)) for _ in range(2 if kind == "lstm" else 1))
    lengths = rng.integers(1, T + 1, size=N) if with_lengths else None
    state0, dstate = (state0, dstate) if kind == "lstm" else (state0[0], dstate[0])

    t_out, t_state, t_dx, t_dstate0, t_grads = torch_run(torch, module, kind, x, state0, dout, dstate, lengths)
    params = from_torch_state_dict(kind, module.state_dict())  # tensors go in directly
    out, state, cache = sequence_forward(kind, params, x, state0, lengths)
    dx, dstate0, grads = sequence_backward(kind, dout, dstate, cache)

    assert_matches_torch(out, t_out, "out")
    for a, b in zip(state_arrays(kind, state), t_state):
        assert_matches_torch(a, b, "final state")
    assert_matches_torch(dx, t_dx, "dx")
    for a, b in zip(state_arrays(kind, dstate0), t_dstate0):
        assert_matches_torch(a, b, "dstate0")
    for key, g in to_torch_state_dict(kind, grads).items():
        assert_matches_torch(g, t_grads[key], f"grad {key}")


@pytest.mark.parametrize("kind", KINDS)
def test_live_weights_load_back_into_torch(kind):
    """to_torch_state_dict's output loads into a torch module (strict) and gives the library's outputs."""
    torch = import_torch()
    from lessons_lib import init_params

    rng = np.random.default_rng(7)
    params = init_params(kind, 3, 4, rng)
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        3, 4, batch_first=True, dtype=torch.float64)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state_dict(kind, params).items()})
    x = rng.standard_normal((2, 5, 3))
    state0 = tuple(rng.standard_normal((2, 4)) for _ in range(2 if kind == "lstm" else 1))
    with torch.no_grad():
        t_state0 = tuple(torch.from_numpy(s[None]) for s in state0)
        t_out, _ = module(torch.from_numpy(x), t_state0 if kind == "lstm" else t_state0[0])
    out, _, _ = sequence_forward(kind, params, x, state0 if kind == "lstm" else state0[0])
    assert_matches_torch(out, t_out.numpy(), "out")


def test_live_float32_state_dict_stays_float32():
    """A default (float32) torch module converts to float32 parameters unless dtype= asks otherwise."""
    torch = import_torch()
    module = torch.nn.GRU(2, 3, batch_first=True)
    params = from_torch_state_dict("gru", module.state_dict())
    assert all(v.dtype == np.float32 for v in params.values())
    params64 = from_torch_state_dict("gru", module.state_dict(), dtype=np.float64)
    assert all(v.dtype == np.float64 for v in params64.values())
    np.testing.assert_array_equal(params64["W_x"], module.weight_ih_l0.detach().numpy().astype(np.float64))
