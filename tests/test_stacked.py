"""Stacked and bidirectional networks: shapes, gradients, lengths, the PyTorch seam and errors.

The stored reference ``data/torch_stacked_reference.npz`` (written by
``data/make_torch_stacked_reference.py``) holds ``torch.nn.RNN``, ``LSTM`` and
``GRU`` with 1, 2 and 3 layers, uni- and bidirectional, float64, on full and
packed (variable-length) batches.  The tests at the end run PyTorch live and
are skipped where it is not installed.
"""

import re
from pathlib import Path

import numpy as np
import pytest

from cases import GRAD_TOL, KINDS, PARAM_KEYS, make_params, pack_state, state_arrays
from lessons_lib import (
    from_torch_state_dict,
    init_params,
    init_stacked,
    numerical_gradient,
    rel_error,
    sequence_backward,
    sequence_forward,
    stacked_backward,
    stacked_forward,
    to_torch_state_dict,
)
from lessons_lib.cells import stacked as stacked_module

DATA = Path(__file__).parent / "data" / "torch_stacked_reference.npz"
TORCH_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
DIRECTIONS = {"uni": False, "bi": True}


def make_net(kind, D, H, L, nd, rng, dtype=np.float64):
    """Random parameters drawn directly (not with init_stacked, so that a bug there cannot hide one here)."""
    return [tuple(make_params(kind, D if k == 0 else nd * H, H, rng, dtype) for _ in range(nd)) for k in range(L)]


def make_stacked_state(kind, L, nd, N, H, rng):
    return pack_state(kind, [rng.standard_normal((L * nd, N, H)) for _ in range(2 if kind == "lstm" else 1)])


def make_problem(kind, N, T, D, H, L, nd, rng):
    """A net, inputs, initial state and upstream gradients; padding in ``x`` is random, not zero."""
    net = make_net(kind, D, H, L, nd, rng)
    x = rng.standard_normal((N, T, D))
    state0 = make_stacked_state(kind, L, nd, N, H, rng)
    dout = rng.standard_normal((N, T, nd * H))
    dstate = make_stacked_state(kind, L, nd, N, H, rng)
    return net, x, state0, dout, dstate


def linear_loss(kind, out, state, dout, dstate):
    total = np.sum(out * dout)
    for s, ds in zip(state_arrays(kind, state), state_arrays(kind, dstate)):
        total += np.sum(s * ds)
    return float(total)


def torch_keys(L, nd):
    """PyTorch's state_dict keys of a module, in its order: layer, then direction, then the four names."""
    return [name + f"_l{k}" + ("_reverse" if d else "") for k in range(L) for d in range(nd) for name in TORCH_NAMES]


# ---------------------------------------------------------------------------
# Shapes and agreement with the single-layer functions


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_shapes(kind, L, bidirectional, rng):
    """out is (N, T, nd H), states (L nd, N, H), dx (N, T, D), and grads mirror the net array by array."""
    N, T, D, H = 2, 5, 3, 4
    nd = 2 if bidirectional else 1
    net, x, state0, dout, dstate = make_problem(kind, N, T, D, H, L, nd, rng)
    out, state, cache = stacked_forward(kind, net, x, state0)
    assert out.shape == (N, T, nd * H)
    assert [s.shape for s in state_arrays(kind, state)] == [(L * nd, N, H)] * (2 if kind == "lstm" else 1)
    dx, dstate0, grads = stacked_backward(kind, dout, dstate, cache)
    assert dx.shape == (N, T, D)
    assert [s.shape for s in state_arrays(kind, dstate0)] == [(L * nd, N, H)] * len(state_arrays(kind, state))
    assert len(grads) == L and all(isinstance(layer, tuple) and len(layer) == nd for layer in grads)
    for layer, glayer in zip(net, grads):
        for p, g in zip(layer, glayer):
            assert {k: v.shape for k, v in g.items()} == {k: v.shape for k, v in p.items()}


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("kind", KINDS)
def test_one_layer_unidirectional_is_sequence_forward(kind, with_lengths, rng):
    """With one forward layer, stacked_forward/backward are sequence_forward/backward plus a leading axis."""
    N, T, D, H = 3, 4, 2, 3
    net, x, state0, dout, dstate = make_problem(kind, N, T, D, H, 1, 1, rng)
    lengths = np.array([4, 0, 2]) if with_lengths else None
    out, state, cache = stacked_forward(kind, net, x, state0, lengths)
    dx, dstate0, grads = stacked_backward(kind, dout, dstate, cache)

    single = pack_state(kind, [s[0] for s in state_arrays(kind, state0)])
    dsingle = pack_state(kind, [s[0] for s in state_arrays(kind, dstate)])
    out1, state1, cache1 = sequence_forward(kind, net[0][0], x, single, lengths)
    dx1, dstate01, grads1 = sequence_backward(kind, dout, dsingle, cache1)
    np.testing.assert_array_equal(out, out1)
    np.testing.assert_array_equal(dx, dx1)
    for a, b in zip(state_arrays(kind, state), state_arrays(kind, state1)):
        np.testing.assert_array_equal(a[0], b)
    for a, b in zip(state_arrays(kind, dstate0), state_arrays(kind, dstate01)):
        np.testing.assert_array_equal(a[0], b)
    for key in PARAM_KEYS:
        np.testing.assert_array_equal(grads[0][0][key], grads1[key])


@pytest.mark.parametrize("kind", KINDS)
def test_layers_feed_each_other_and_directions_concatenate(kind, rng):
    """A 2-layer bidirectional net, rebuilt by hand from sequence_forward over whole (unpadded) sequences."""
    N, T, D, H = 2, 4, 3, 2
    net, x, state0, _, _ = make_problem(kind, N, T, D, H, 2, 2, rng)
    out, state, _ = stacked_forward(kind, net, x, state0)

    inputs, finals = x, []
    for k in range(2):
        s_f = pack_state(kind, [s[2 * k] for s in state_arrays(kind, state0)])
        s_r = pack_state(kind, [s[2 * k + 1] for s in state_arrays(kind, state0)])
        out_f, fin_f, _ = sequence_forward(kind, net[k][0], inputs, s_f)
        out_r, fin_r, _ = sequence_forward(kind, net[k][1], inputs[:, ::-1], s_r)
        inputs = np.concatenate([out_f, out_r[:, ::-1]], axis=2)
        finals += [fin_f, fin_r]
    np.testing.assert_allclose(out, inputs, rtol=0, atol=1e-14)
    for j, s in enumerate(state_arrays(kind, state)):
        np.testing.assert_allclose(s, np.stack([state_arrays(kind, f)[j] for f in finals]), rtol=0, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_zero_state_defaults(kind, rng):
    """state0=None runs from zeros, and dstate=None means the final state does not enter the loss."""
    N, T, D, H, L, nd = 2, 3, 2, 3, 2, 2
    net, x, _, dout, _ = make_problem(kind, N, T, D, H, L, nd, rng)
    zeros = pack_state(kind, [np.zeros((L * nd, N, H)) for _ in range(2 if kind == "lstm" else 1)])
    out, state, cache = stacked_forward(kind, net, x)
    out0, state0, cache0 = stacked_forward(kind, net, x, zeros)
    np.testing.assert_array_equal(out, out0)
    for a, b in zip(state_arrays(kind, state), state_arrays(kind, state0)):
        np.testing.assert_array_equal(a, b)
    dx, _, grads = stacked_backward(kind, dout, None, cache)
    dx0, _, grads0 = stacked_backward(kind, dout, zeros, cache0)
    np.testing.assert_array_equal(dx, dx0)
    np.testing.assert_array_equal(grads[1][1]["W_h"], grads0[1][1]["W_h"])


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(kind, rng):
    net = make_net(kind, 2, 3, 2, 2, rng, dtype=np.float32)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    out, state, cache = stacked_forward(kind, net, x)
    dx, dstate0, grads = stacked_backward(kind, np.ones_like(out), None, cache)
    arrays = [out, dx, *state_arrays(kind, state), *state_arrays(kind, dstate0), grads[1][1]["W_x"]]
    assert all(a.dtype == np.float32 for a in arrays)


# ---------------------------------------------------------------------------
# Finite differences


def stacked_fd_errors(kind, net, x, state0, dout, dstate, lengths=None, **forward_options):
    """rel_error of every gradient of stacked_backward (dx, dstate0, each parameter) against central differences.

    ``forward_options`` may hold ``dropout`` and ``seed``: each forward pass
    then draws its masks from a fresh ``default_rng(seed)``, so that the loss is
    one fixed function of the arrays.
    """
    seed = forward_options.pop("seed", None)

    def forward():
        extra = dict(forward_options, rng=np.random.default_rng(seed)) if seed is not None else forward_options
        return stacked_forward(kind, net, x, state0, lengths, **extra)

    def loss():
        out, state, _ = forward()
        return linear_loss(kind, out, state, dout, dstate)

    _, _, cache = forward()
    dx, dstate0, grads = stacked_backward(kind, dout, dstate, cache)
    pairs = {"x": (x, dx)}
    for j, (s, ds) in enumerate(zip(state_arrays(kind, state0), state_arrays(kind, dstate0))):
        pairs[("h0", "c0")[j]] = (s, ds)
    for k, (layer, glayer) in enumerate(zip(net, grads)):
        for d, (p, g) in enumerate(zip(layer, glayer)):
            for key in PARAM_KEYS:
                pairs[f"net[{k}][{d}][{key}]"] = (p[key], g[key])
    return {name: rel_error(analytic, numerical_gradient(loss, array)) for name, (array, analytic) in pairs.items()}


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_finite_differences(kind, L, bidirectional, with_lengths, rng):
    """dx, dh0 (dc0) and every parameter of every layer and direction agree with central differences."""
    N, T, D, H = 3, 3, 2, 2
    nd = 2 if bidirectional else 1
    net, x, state0, dout, dstate = make_problem(kind, N, T, D, H, L, nd, rng)
    lengths = np.array([3, 0, 2]) if with_lengths else None
    errors = stacked_fd_errors(kind, net, x, state0, dout, dstate, lengths)
    assert len(errors) == 1 + (2 if kind == "lstm" else 1) + 4 * L * nd
    bad = {k: f"{v:.1e}" for k, v in errors.items() if not v < GRAD_TOL}
    assert not bad, f"gradients off: {bad}"


def test_gru_options_reach_every_layer(rng):
    """reset= and update= apply to every cell: the gradients still check, and layer 0 is sequence_forward's."""
    options = {"reset": "before", "update": "write"}
    net, x, state0, dout, dstate = make_problem("gru", 3, 3, 2, 2, 2, 2, rng)
    errors = stacked_fd_errors("gru", net, x, state0, dout, dstate, np.array([1, 3, 2]), **options)
    bad = {k: f"{v:.1e}" for k, v in errors.items() if not v < GRAD_TOL}
    assert not bad, f"gradients off: {bad}"
    out, _, _ = stacked_forward("gru", net[:1], x, state0[:2], **options)
    np.testing.assert_array_equal(out[..., :2], sequence_forward("gru", net[0][0], x, state0[0], **options)[0])
    assert rel_error(out, stacked_forward("gru", net[:1], x, state0[:2])[0]) > 1e-3


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_with_dropout_match_finite_differences(kind, rng):
    """With inter-layer dropout (fixed masks from a seeded rng) every gradient still agrees with differences."""
    net, x, state0, dout, dstate = make_problem(kind, 2, 3, 2, 2, 3, 1, rng)  # 3 layers: 2 masks, not mixed up
    errors = stacked_fd_errors(kind, net, x, state0, dout, dstate, np.array([3, 2]), dropout=0.5, seed=3)
    bad = {k: f"{v:.1e}" for k, v in errors.items() if not v < GRAD_TOL}
    assert not bad, f"gradients off: {bad}"


def test_dropout_masks_come_from_rng_and_spare_the_top_layer(rng):
    """Masks repeat with the seed and change with it; the top layer's output is never dropped; p=0 changes nothing."""
    net, x, _, _, _ = make_problem("gru", 2, 5, 3, 4, 2, 2, rng)
    a, _, cache = stacked_forward("gru", net, x, dropout=0.5, rng=np.random.default_rng(1))
    b, _, _ = stacked_forward("gru", net, x, dropout=0.5, rng=np.random.default_rng(1))
    c, _, _ = stacked_forward("gru", net, x, dropout=0.5, rng=np.random.default_rng(2))
    plain, _, _ = stacked_forward("gru", net, x)
    np.testing.assert_array_equal(a, b)
    assert rel_error(a, c) > 1e-3 and rel_error(a, plain) > 1e-3
    assert cache.dropout_masks[1] is None
    mask = cache.dropout_masks[0]
    assert set(np.unique(mask)) == {0.0, 2.0}  # kept outputs scaled by 1 / (1 - p)
    np.testing.assert_array_equal(stacked_forward("gru", net, x, dropout=0.0, rng=np.random.default_rng(1))[0], plain)
    one_layer = net[:1]
    np.testing.assert_array_equal(stacked_forward("gru", one_layer, x, dropout=0.5, rng=np.random.default_rng(1))[0],
                                  stacked_forward("gru", one_layer, x)[0])


# ---------------------------------------------------------------------------
# Variable lengths: the reverse direction starts at each sequence's own end


def run_each_alone(kind, net, x, state0, dout, dstate, lengths):
    """Forward and backward of each sequence on its own, cut to its length (no ``lengths`` passed)."""
    results = []
    for n, length in enumerate(lengths):
        s0 = pack_state(kind, [s[:, n:n + 1] for s in state_arrays(kind, state0)])
        ds = pack_state(kind, [s[:, n:n + 1] for s in state_arrays(kind, dstate)])
        out, state, cache = stacked_forward(kind, net, x[n:n + 1, :length], s0)
        dx, dstate0, grads = stacked_backward(kind, dout[n:n + 1, :length], ds, cache)
        results.append((out[0], state, dx[0], dstate0, grads))
    return results


@pytest.mark.parametrize("kind", KINDS)
def test_lengths_equal_each_sequence_run_alone(kind, rng):
    """Padded and batched equals each sequence cut to its length and run alone: outputs, states, every gradient.

    A reverse direction that started at step T - 1 (in the padding) instead of
    each sequence's own last step fails this (see the next test).
    """
    N, T, D, H, L, nd = 3, 5, 2, 3, 2, 2
    net, x, state0, dout, dstate = make_problem(kind, N, T, D, H, L, nd, rng)
    lengths = np.array([5, 2, 3])
    assert_batched_equals_alone(kind, net, x, state0, dout, dstate, lengths)


def assert_batched_equals_alone(kind, net, x, state0, dout, dstate, lengths):
    out, state, cache = stacked_forward(kind, net, x, state0, lengths)
    dx, dstate0, grads = stacked_backward(kind, dout, dstate, cache)
    alone = run_each_alone(kind, net, x, state0, dout, dstate, lengths)
    for n, (length, (out_n, state_n, dx_n, dstate0_n, _)) in enumerate(zip(lengths, alone)):
        np.testing.assert_allclose(out[n, :length], out_n, rtol=0, atol=1e-13, err_msg=f"out of sequence {n}")
        np.testing.assert_array_equal(out[n, length:], 0.0)
        np.testing.assert_allclose(dx[n, :length], dx_n, rtol=0, atol=1e-13, err_msg=f"dx of sequence {n}")
        np.testing.assert_array_equal(dx[n, length:], 0.0)
        for a, b in zip(state_arrays(kind, state), state_arrays(kind, state_n)):
            np.testing.assert_allclose(a[:, n], b[:, 0], rtol=0, atol=1e-13, err_msg=f"final state of sequence {n}")
        for a, b in zip(state_arrays(kind, dstate0), state_arrays(kind, dstate0_n)):
            np.testing.assert_allclose(a[:, n], b[:, 0], rtol=0, atol=1e-13, err_msg=f"dstate0 of sequence {n}")
    for k, layer in enumerate(grads):
        for d, g in enumerate(layer):
            for key in PARAM_KEYS:
                total = sum(result[4][k][d][key] for result in alone)
                np.testing.assert_allclose(g[key], total, rtol=0, atol=1e-12, err_msg=f"grad net[{k}][{d}][{key}]")


def test_a_reverse_over_the_whole_padded_length_is_caught(monkeypatch, rng):
    """The comparison above fails for a reverse direction that flips all T steps, ignoring each length."""
    net, x, state0, dout, dstate = make_problem("lstm", 3, 5, 2, 3, 2, 2, rng)
    monkeypatch.setattr(stacked_module, "_reverse", lambda a, index: a[:, ::-1])
    with pytest.raises(AssertionError):
        assert_batched_equals_alone("lstm", net, x, state0, dout, dstate, np.array([5, 2, 3]))


@pytest.mark.parametrize("kind", KINDS)
def test_padding_does_not_matter(kind, rng):
    """Changing x past each sequence's length changes neither the outputs, the states nor any gradient."""
    net, x, state0, dout, dstate = make_problem(kind, 3, 4, 2, 2, 2, 2, rng)
    lengths = np.array([1, 4, 2])
    other = x.copy()
    other[np.arange(4)[None, :] >= lengths[:, None]] = 100.0
    runs = []
    for inputs in (x, other):
        out, state, cache = stacked_forward(kind, net, inputs, state0, lengths)
        runs.append((out, *state_arrays(kind, state), *stacked_backward(kind, dout, dstate, cache)[:1]))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_reverse_index_reverses_within_each_length():
    """Hand-written permutations, padding left in place, and the index is its own inverse."""
    index = stacked_module.reverse_index(np.array([4, 2, 0, 1]), 4, 4)
    np.testing.assert_array_equal(index, [[3, 2, 1, 0], [1, 0, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]])
    np.testing.assert_array_equal(np.take_along_axis(index, index, axis=1), np.tile(np.arange(4), (4, 1)))


# ---------------------------------------------------------------------------
# The PyTorch seam


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_torch_round_trip(kind, L, bidirectional, rng):
    """net -> state_dict -> net is exact; the keys are PyTorch's, in its order, with its shapes."""
    D, H = 3, 2
    nd = 2 if bidirectional else 1
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    net = make_net(kind, D, H, L, nd, rng)
    sd = to_torch_state_dict(kind, net, num_layers=L, bidirectional=bidirectional)
    assert list(sd) == torch_keys(L, nd)
    for key, value in sd.items():
        layer = int(re.search(r"_l(\d+)", key).group(1))
        inputs = D if layer == 0 else nd * H
        expected = {"weight_ih": (G * H, inputs), "weight_hh": (G * H, H)}.get(key.rsplit("_l", 1)[0], (G * H,))
        assert value.shape == expected, key
    back = from_torch_state_dict(kind, sd, num_layers=L, bidirectional=bidirectional)
    assert isinstance(back, list) and len(back) == L and all(len(layer) == nd for layer in back)
    for layer, layer_back in zip(net, back):
        for p, q in zip(layer, layer_back):
            for key in PARAM_KEYS:
                np.testing.assert_array_equal(q[key], p[key])
                assert q[key] is not p[key]
    sd_again = to_torch_state_dict(kind, back, num_layers=L, bidirectional=bidirectional)
    assert all(np.array_equal(sd[k], sd_again[k]) for k in sd)


@pytest.mark.parametrize("kind", KINDS)
def test_one_layer_call_unchanged_and_num_layers_1_wraps_it(kind, rng):
    """Without num_layers/bidirectional the result is the one-layer dict; with num_layers=1 it is [(dict,)]."""
    params = make_params(kind, 3, 2, rng)
    sd = to_torch_state_dict(kind, params)
    one = from_torch_state_dict(kind, sd)
    assert isinstance(one, dict) and sorted(one) == sorted(PARAM_KEYS)
    for net in (from_torch_state_dict(kind, sd, num_layers=1), from_torch_state_dict(kind, sd, bidirectional=False)):
        assert len(net) == 1 and len(net[0]) == 1
        assert all(np.array_equal(net[0][0][k], one[k]) for k in PARAM_KEYS)
    assert to_torch_state_dict(kind, [(params,)], num_layers=1).keys() == sd.keys()


def test_stacked_state_dict_without_biases_gets_zero_biases(rng):
    """A module made with bias=False has no bias keys in any layer: the biases are zero, as for one layer."""
    net = make_net("gru", 2, 3, 2, 2, rng)
    sd = {k: v for k, v in to_torch_state_dict("gru", net, num_layers=2, bidirectional=True).items()
          if not k.startswith("bias")}
    back = from_torch_state_dict("gru", sd, num_layers=2, bidirectional=True)
    assert all(np.array_equal(p["b_x"], np.zeros(9)) and np.array_equal(p["b_h"], np.zeros(9))
               for layer in back for p in layer)


def test_dtype_converts_every_layer(rng):
    net = make_net("lstm", 2, 3, 2, 2, rng, dtype=np.float32)
    sd = to_torch_state_dict("lstm", net, num_layers=2, bidirectional=True)
    back = from_torch_state_dict("lstm", sd, np.float64, num_layers=2, bidirectional=True)
    assert all(v.dtype == np.float64 for layer in back for p in layer for v in p.values())


# ---------------------------------------------------------------------------
# Against the stored PyTorch reference


@pytest.fixture(scope="module")
def reference():
    with np.load(DATA) as data:
        return {k: data[k] for k in data.files}


def test_reference_file_is_small_float64_and_padded(reference):
    """float64 throughout, under 1 MB, every configuration present, and the lengths case really has padding."""
    assert DATA.stat().st_size < 1_000_000
    floats = [v for k, v in reference.items() if not k.startswith("meta.") and not k.endswith("lengths")]
    assert floats and all(v.dtype == np.float64 for v in floats)
    T = reference["inputs.x"].shape[1]
    assert reference["inputs.lengths"].min() < T
    for kind in KINDS:
        for L in (1, 2, 3):
            for word in DIRECTIONS:
                assert f"{kind}.L{L}.{word}.lengths.grad.weight_hh_l{L - 1}" in reference


def library_run(kind, reference, L, word, case):
    """The library on the stored weights and inputs; returns outputs, states and gradients in PyTorch's names."""
    prefix = f"{kind}.L{L}.{word}."
    nd = 2 if DIRECTIONS[word] else 1
    sd = {k: reference[prefix + k] for k in torch_keys(L, nd)}
    net = from_torch_state_dict(kind, sd, num_layers=L, bidirectional=DIRECTIONS[word])
    names = ("h", "c") if kind == "lstm" else ("h",)
    state0 = pack_state(kind, [reference[f"{prefix}{n}0"] for n in names])
    dstate = pack_state(kind, [reference[f"{prefix}d{n}_T"] for n in names])
    lengths = reference["inputs.lengths"] if case == "lengths" else None
    out, state, cache = stacked_forward(kind, net, reference["inputs.x"], state0, lengths)
    dx, dstate0, grads = stacked_backward(kind, reference[prefix + "dout"], dstate, cache)
    result = {"out": out, "dx": dx}
    for n, s, ds in zip(names, state_arrays(kind, state), state_arrays(kind, dstate0)):
        result[f"{n}_T"], result[f"d{n}0"] = s, ds
    for key, g in to_torch_state_dict(kind, grads, num_layers=L, bidirectional=DIRECTIONS[word]).items():
        result["grad." + key] = g
    return result


@pytest.mark.parametrize("case", ["full", "lengths"])
@pytest.mark.parametrize("word", list(DIRECTIONS))
@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_matches_torch_reference(kind, L, word, case, reference):
    """out, h_T (c_T), dx, dh0 (dc0) and every parameter gradient equal PyTorch's to 1e-12."""
    result = library_run(kind, reference, L, word, case)
    prefix = f"{kind}.L{L}.{word}.{case}."
    expected = {k[len(prefix):]: v for k, v in reference.items() if k.startswith(prefix)}
    n_params = 4 * L * (2 if word == "bi" else 1)
    assert sorted(result) == sorted(expected) and len(expected) == 2 + 2 * (2 if kind == "lstm" else 1) + n_params
    for name, value in expected.items():
        np.testing.assert_allclose(result[name], value, rtol=1e-12, atol=1e-13, err_msg=name)


# ---------------------------------------------------------------------------
# init_stacked


def test_init_stacked_shapes_and_draw_order():
    """Layer k reads D or nd H inputs; the cells are drawn layer 0 forward, layer 0 reverse, ... from one rng."""
    net = init_stacked("lstm", 3, 4, 2, True, np.random.default_rng(5), forget_bias=1.0)
    assert [[p["W_x"].shape for p in layer] for layer in net] == [[(16, 3), (16, 3)], [(16, 8), (16, 8)]]
    rng = np.random.default_rng(5)
    expected = [init_params("lstm", 3 if k == 0 else 8, 4, rng, forget_bias=1.0) for k in range(2) for _ in range(2)]
    got = [p for layer in net for p in layer]
    assert all(np.array_equal(a[key], b[key]) for a, b in zip(got, expected) for key in PARAM_KEYS)
    out, _, _ = stacked_forward("lstm", net, np.zeros((1, 2, 3)))
    assert out.shape == (1, 2, 8)


# ---------------------------------------------------------------------------
# Bad input


@pytest.fixture
def small(rng):
    """A 2-layer bidirectional LSTM with D = 3, H = 2, and a batch of N = 2, T = 4."""
    return make_net("lstm", 3, 2, 2, 2, rng), rng.standard_normal((2, 4, 3))


@pytest.mark.parametrize("x_shape, expected", [
    ((4, 3), "x must have shape (N, T, D) = (N, T, 3) to match net[0][0]['W_x'], got (4, 3)"),
    ((2, 4, 5), "x must have shape (N, T, D) = (N, T, 3) to match net[0][0]['W_x'], got (2, 4, 5)"),
])
def test_bad_x(small, x_shape, expected):
    net, _ = small
    with pytest.raises(ValueError, match=re.escape(expected)):
        stacked_forward("lstm", net, np.zeros(x_shape))


def test_bad_state0(small):
    net, x = small
    h = np.zeros((4, 2, 2))
    with pytest.raises(ValueError, match=re.escape(
            "state0[1] (c) must have shape (L * num_directions, N, H) = (4, 2, 2) (L = 2 layer(s), 2 direction(s), "
            "layer-major), got (2, 2, 2)")):
        stacked_forward("lstm", net, x, (h, np.zeros((2, 2, 2))))
    with pytest.raises(TypeError, match=re.escape(
            "state0 of an LSTM must be a pair (h, c) of arrays of shape (L * num_directions, N, H) = (4, 2, 2), "
            "got ndarray")):
        stacked_forward("lstm", net, x, h)
    gru = [tuple(make_params("gru", 3, 2, np.random.default_rng(0)) for _ in range(2))]
    with pytest.raises(TypeError, match=re.escape("state0 of a GRU is one array h of shape (L * num_directions, N, H) "
                                                  "= (2, 2, 2), not a pair; only an LSTM has (h, c)")):
        stacked_forward("gru", gru, x, (np.zeros((2, 2, 2)), np.zeros((2, 2, 2))))
    with pytest.raises(TypeError, match=re.escape("state0[0] (h) must have dtype float64 like the parameters")):
        stacked_forward("lstm", net, x, (h.astype(np.float32), h))


def test_bad_net(small, rng):
    net, x = small
    with pytest.raises(TypeError, match=re.escape("got one dict with keys ['W_h', 'W_x', 'b_h', 'b_x']; "
                                                  "a one-layer unidirectional net is [(params,)]")):
        stacked_forward("lstm", net[0][0], x)
    with pytest.raises(ValueError, match=re.escape("net must have at least one layer, got an empty list")):
        stacked_forward("lstm", [], x)
    with pytest.raises(ValueError, match=re.escape("every layer must have as many directions as net[0] (2), "
                                                   "but net[1] has 1")):
        stacked_forward("lstm", [net[0], net[1][:1]], x)
    with pytest.raises(ValueError, match=re.escape("net[0] must hold 1 (unidirectional) or 2 (bidirectional) "
                                                   "parameter dicts, got 3")):
        stacked_forward("lstm", [net[0] + net[0][:1]], x)
    with pytest.raises(TypeError, match=re.escape("net[1] must be a tuple of 1 or 2 parameter dicts (one per "
                                                  "direction), got dict")):
        stacked_forward("lstm", [net[0], net[1][0]], x)
    # layer 1 built for a unidirectional layer 0: 2 input columns where the bidirectional layer 0 gives 4
    narrow = make_params("lstm", 2, 2, rng)
    with pytest.raises(ValueError, match=re.escape(
            "net[1][0]['W_x'] must have shape (8, 4), got (8, 2): layer 1 reads the output of layer 0, "
            "2 direction(s) of H = 2, so 4 columns")):
        stacked_forward("lstm", [net[0], (narrow, narrow)], x)
    other_h = {**net[1][1], "W_h": np.zeros((8, 3))}
    with pytest.raises(ValueError, match=re.escape("net[1][1]['W_h'] must have shape (8, 2), got (8, 3)")):
        stacked_forward("lstm", [net[0], (net[1][0], other_h)], x)
    with pytest.raises(ValueError, match=re.escape("net[0][0]['W_h'] of an LSTM must have shape (4H, H) = (8, 2) "
                                                   "with 4 gate block(s) stacked, got (6, 2)")):
        stacked_forward("lstm", [(make_params("gru", 3, 2, rng),)], x)
    mixed = [(net[0][0], {k: v.astype(np.float32) for k, v in net[0][1].items()})]
    with pytest.raises(TypeError, match=re.escape(
            "net[0][1] has dtype float32, but net[0][0] has float64; every layer and direction must have the same dtype")):
        stacked_forward("lstm", mixed, x)


def test_bad_kind_and_lengths(small):
    net, x = small
    with pytest.raises(ValueError, match=re.escape("kind must be one of ('rnn', 'lstm', 'gru'), got 'transformer'")):
        stacked_forward("transformer", net, x)
    with pytest.raises(ValueError, match=re.escape("lengths must have shape (2,), one length per sequence, got (3,)")):
        stacked_forward("lstm", net, x, None, [1, 2, 3])
    with pytest.raises(ValueError, match=re.escape("lengths must lie between 0 and T = 4, got values from 1 to 5")):
        stacked_forward("lstm", net, x, None, [1, 5])
    with pytest.raises(TypeError, match=re.escape("lengths must be an array of integers, got dtype float64")):
        stacked_forward("lstm", net, x, None, [1.5, 2])


def test_bad_backward_arguments(small):
    net, x = small
    out, state, cache = stacked_forward("lstm", net, x)
    with pytest.raises(ValueError, match=re.escape("dout must have shape (N, T, num_directions * H) = (2, 4, 4), "
                                                   "got (2, 4, 2)")):
        stacked_backward("lstm", out[..., :2], None, cache)
    with pytest.raises(ValueError, match=re.escape("dstate[0] (h) must have shape (L * num_directions, N, H) = "
                                                   "(4, 2, 2)")):
        stacked_backward("lstm", out, (state[0][:2], state[1]), cache)
    with pytest.raises(ValueError, match=re.escape("cache was made by stacked_forward('lstm', ...), not 'gru'")):
        stacked_backward("gru", out, None, cache)
    _, _, single = sequence_forward("lstm", net[0][0], x, (np.zeros((2, 2)), np.zeros((2, 2))))
    with pytest.raises(TypeError, match=re.escape("cache must be the StackedCache returned by stacked_forward, "
                                                  "got LSTMCache")):
        stacked_backward("lstm", out, None, single)


def test_bad_dropout(small):
    net, x = small
    with pytest.raises(TypeError, match=re.escape("dropout=0.5 needs rng, a numpy Generator such as "
                                                  "np.random.default_rng(0), got NoneType")):
        stacked_forward("lstm", net, x, dropout=0.5)
    with pytest.raises(ValueError, match=re.escape("dropout must lie in [0, 1), got 1.0")):
        stacked_forward("lstm", net, x, dropout=1.0, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=re.escape("dropout must be a number in [0, 1), got str")):
        stacked_forward("lstm", net, x, dropout="0.5")


def test_bad_torch_conversions(small):
    net, _ = small
    sd = to_torch_state_dict("lstm", net, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match=re.escape(
            "net has 2 layer(s) of 2 direction(s), but a 3-layer bidirectional LSTM (num_layers=3, "
            "bidirectional=True) has 3 layer(s) of 2 direction(s)")):
        to_torch_state_dict("lstm", net, num_layers=3, bidirectional=True)
    with pytest.raises(TypeError, match=re.escape("params is a list, a stacked network; pass num_layers= and "
                                                  "bidirectional= to convert it")):
        to_torch_state_dict("lstm", net)
    with pytest.raises(ValueError, match=re.escape(
            "sd has keys ['bias_hh_l0_reverse', 'bias_hh_l1_reverse', 'bias_ih_l0_reverse', 'bias_ih_l1_reverse', "
            "'weight_hh_l0_reverse', 'weight_hh_l1_reverse', 'weight_ih_l0_reverse', 'weight_ih_l1_reverse'] that "
            "a 2-layer unidirectional LSTM (num_layers=2, bidirectional=False) does not have")):
        from_torch_state_dict("lstm", sd, num_layers=2)
    with pytest.raises(ValueError, match=re.escape(
            "sd has no keys ['weight_ih_l2', 'weight_hh_l2', 'weight_ih_l2_reverse', 'weight_hh_l2_reverse'], "
            "which a 3-layer bidirectional LSTM (num_layers=3, bidirectional=True) has")):
        from_torch_state_dict("lstm", sd, num_layers=3, bidirectional=True)
    bad = dict(sd, weight_hh_l1_reverse=np.zeros((8, 3)))
    with pytest.raises(ValueError, match=re.escape("sd['weight_hh_l1_reverse']")):
        from_torch_state_dict("lstm", bad, num_layers=2, bidirectional=True)
    bad = dict(sd, weight_ih_l1=np.zeros((8, 2)))
    with pytest.raises(ValueError, match=re.escape(
            "sd['weight_ih_l1'] must have shape (8, 4): layer 1 reads layer 0's 2 direction(s) of H = 2, got (8, 2)")):
        from_torch_state_dict("lstm", bad, num_layers=2, bidirectional=True)
    mixed = {k: (v.astype(np.float32) if k.endswith("_l1") else v) for k, v in sd.items()}
    with pytest.raises(TypeError, match=re.escape("pass dtype= to convert them all")):
        from_torch_state_dict("lstm", mixed, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match=re.escape("num_layers must be a positive int, got 0")):
        from_torch_state_dict("lstm", sd, num_layers=0)
    with pytest.raises(TypeError, match=re.escape("bidirectional must be True or False, got int")):
        from_torch_state_dict("lstm", sd, num_layers=2, bidirectional=1)
    with pytest.raises(TypeError, match=re.escape("num_layers must be a positive int, got bool")):
        init_stacked("lstm", 3, 2, True, False, np.random.default_rng(0))


# ---------------------------------------------------------------------------
# Live against PyTorch, where it is installed.


def import_torch():
    return pytest.importorskip(
        "torch", reason="PyTorch is not installed (it is not a dependency); the stored reference covers CI")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_live_against_torch(kind, seed):
    """Random sizes, depth, direction and lengths: the library with a torch module's weights reproduces it."""
    torch = import_torch()
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    rng = np.random.default_rng(seed)
    N, T, D, H = (int(v) for v in rng.integers(1, 6, size=4))
    L, bidirectional = int(rng.integers(1, 4)), bool(seed % 2)
    nd = 2 if bidirectional else 1
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        D, H, num_layers=L, bidirectional=bidirectional, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # torch's own seed is not ours: draw the weights from rng instead
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-1.0, 1.0, tuple(p.shape))))
    x = rng.standard_normal((N, T, D))
    state0 = make_stacked_state(kind, L, nd, N, H, rng)
    dout = rng.standard_normal((N, T, nd * H))
    dstate = make_stacked_state(kind, L, nd, N, H, rng)
    lengths = rng.integers(1, T + 1, size=N)

    x_t = torch.tensor(x, requires_grad=True)
    s0 = [torch.tensor(s, requires_grad=True) for s in state_arrays(kind, state0)]
    packed = pack_padded_sequence(x_t, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    t_out, t_state = module(packed, tuple(s0) if kind == "lstm" else s0[0])
    t_out, _ = pad_packed_sequence(t_out, batch_first=True, total_length=T)
    t_state = t_state if kind == "lstm" else (t_state,)
    loss = (t_out * torch.from_numpy(dout)).sum()
    for s, ds in zip(t_state, state_arrays(kind, dstate)):
        loss = loss + (s * torch.from_numpy(ds)).sum()
    loss.backward()

    net = from_torch_state_dict(kind, module.state_dict(), num_layers=L, bidirectional=bidirectional)
    out, state, cache = stacked_forward(kind, net, x, state0, lengths)
    dx, dstate0, grads = stacked_backward(kind, dout, dstate, cache)
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=1e-12, atol=1e-13)
    for a, b in zip(state_arrays(kind, state), t_state):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=1e-13)
    for a, b in zip(state_arrays(kind, dstate0), s0):
        np.testing.assert_allclose(a, b.grad.numpy(), rtol=1e-12, atol=1e-13)
    t_grads = dict(module.named_parameters())
    for key, g in to_torch_state_dict(kind, grads, num_layers=L, bidirectional=bidirectional).items():
        np.testing.assert_allclose(g, t_grads[key].grad.numpy(), rtol=1e-12, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("kind", KINDS)
def test_live_net_loads_back_into_torch(kind):
    """to_torch_state_dict's output of an init_stacked net loads into a torch module (strict), same outputs."""
    torch = import_torch()
    rng = np.random.default_rng(7)
    net = init_stacked(kind, 3, 4, 2, True, rng)
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=torch.float64)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in
                            to_torch_state_dict(kind, net, num_layers=2, bidirectional=True).items()})
    x = rng.standard_normal((2, 5, 3))
    with torch.no_grad():
        t_out, _ = module(torch.from_numpy(x))
    out, _, _ = stacked_forward(kind, net, x)
    np.testing.assert_allclose(out, t_out.numpy(), rtol=1e-12, atol=1e-13)
