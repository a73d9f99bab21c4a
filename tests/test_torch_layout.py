"""The seam to PyTorch's layout: exact round trips and the messages for state dicts that do not fit."""

import re

import numpy as np
import pytest

from lessons_lib.validation import CELL_NAMES

from cases import GATE_COUNT, KINDS, PARAM_KEYS, make_params
from lessons_lib import from_torch_state_dict, to_torch_state_dict

TORCH_KEYS = {"W_x": "weight_ih_l0", "W_h": "weight_hh_l0", "b_x": "bias_ih_l0", "b_h": "bias_hh_l0"}
D, H = 3, 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_is_exact(kind, dtype, rng):
    """params -> PyTorch layout -> params gives back the same arrays bit for bit, in the same dtype."""
    params = make_params(kind, D, H, rng, dtype)
    back = from_torch_state_dict(kind, to_torch_state_dict(kind, params))
    assert sorted(back) == sorted(PARAM_KEYS)
    for k in PARAM_KEYS:
        assert back[k].dtype == dtype
        np.testing.assert_array_equal(back[k], params[k])


@pytest.mark.parametrize("kind", KINDS)
def test_layout_keys_and_shapes(kind, rng):
    """to_torch_state_dict renames W_x, W_h, b_x, b_h to weight_ih_l0, ... and keeps PyTorch's shapes."""
    params = make_params(kind, D, H, rng)
    sd = to_torch_state_dict(kind, params)
    G = GATE_COUNT[kind]
    assert {k: v.shape for k, v in sd.items()} == {
        "weight_ih_l0": (G * H, D), "weight_hh_l0": (G * H, H), "bias_ih_l0": (G * H,), "bias_hh_l0": (G * H,)}
    for ours, theirs in TORCH_KEYS.items():
        np.testing.assert_array_equal(sd[theirs], params[ours])


@pytest.mark.parametrize("kind", KINDS)
def test_conversions_return_fresh_arrays(kind, rng):
    """Neither direction returns views: writing into the result leaves the source unchanged."""
    params = make_params(kind, D, H, rng)
    saved = {k: v.copy() for k, v in params.items()}
    sd = to_torch_state_dict(kind, params)
    for v in sd.values():
        v[...] = 0.0
    back = from_torch_state_dict(kind, to_torch_state_dict(kind, params))
    sd = to_torch_state_dict(kind, params)
    sd_saved = {k: v.copy() for k, v in sd.items()}
    for v in from_torch_state_dict(kind, sd).values():
        v[...] = 0.0
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(params[k], saved[k])
        np.testing.assert_array_equal(back[k], saved[k])
        np.testing.assert_array_equal(sd[TORCH_KEYS[k]], sd_saved[TORCH_KEYS[k]])


def test_state_dict_without_biases_gives_zero_biases(rng):
    """A layer built with bias=False has no bias keys; the biases come back as zeros of the right shape."""
    params = make_params("lstm", D, H, rng)
    sd = {k: v for k, v in to_torch_state_dict("lstm", params).items() if k.startswith("weight")}
    back = from_torch_state_dict("lstm", sd)
    for k in ("b_x", "b_h"):
        assert back[k].shape == (4 * H,) and back[k].dtype == np.float64 and not back[k].any()


def test_nested_lists_and_dtype_conversion(rng):
    """Lists are accepted as values, and dtype= converts every array."""
    params = make_params("gru", D, H, rng)
    sd = {k: v.tolist() for k, v in to_torch_state_dict("gru", params).items()}
    back = from_torch_state_dict("gru", sd, dtype=np.float32)
    for k in PARAM_KEYS:
        assert back[k].dtype == np.float32
        np.testing.assert_array_equal(back[k], params[k].astype(np.float32))


# ---------------------------------------------------------------------------
# Messages.


def torch_sd(kind, rng):
    return to_torch_state_dict(kind, make_params(kind, D, H, rng))


@pytest.mark.parametrize("key", ["weight_ih_l1", "weight_ih_l0_reverse"])
def test_stacked_or_bidirectional_keys_are_refused(key, rng):
    """Keys of a second layer or direction are named, with the keys a one-layer unidirectional cell has."""
    sd = torch_sd("rnn", rng)
    sd[key] = sd["weight_ih_l0"]
    expected = (f"sd has keys ['{key}'] that a one-layer, unidirectional RNN does not have; expected "
                "['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0'] "
                "(stacked or bidirectional layers are not supported)")
    with pytest.raises(ValueError, match=re.escape(expected)):
        from_torch_state_dict("rnn", sd)


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_shape_names_the_torch_key_and_both_shapes(kind, rng):
    """A bias of the wrong length is reported under its PyTorch name with expected and received shapes."""
    sd = torch_sd(kind, rng)
    sd["bias_hh_l0"] = np.zeros(5)
    G = GATE_COUNT[kind]
    with pytest.raises(ValueError, match=re.escape(f"sd['bias_hh_l0'] must have shape ({G * H},), got (5,)")):
        from_torch_state_dict(kind, sd)


def test_inconsistent_hidden_size_is_refused(rng):
    """weight_hh_l0 with a different H from weight_ih_l0 is refused, naming weight_hh_l0 and both shapes."""
    sd = torch_sd("rnn", rng)
    sd["weight_hh_l0"] = np.zeros((H, H + 1))
    expected = f"sd['weight_hh_l0'] must have shape ({H}, {H}), got ({H}, {H + 1})"
    with pytest.raises(ValueError, match=re.escape(expected)):
        from_torch_state_dict("rnn", sd)


@pytest.mark.parametrize("given, asked", [("lstm", "gru"), ("gru", "lstm"), ("rnn", "lstm"), ("rnn", "gru")])
def test_state_dict_of_another_cell_is_refused(given, asked, rng):
    """An LSTM's state dict read as a GRU (and similar) fails on the stacked gate blocks, naming both shapes."""
    sd = torch_sd(given, rng)
    G, rows = GATE_COUNT[asked], GATE_COUNT[given] * H
    expected = (f"sd['weight_hh_l0'] of {CELL_NAMES[asked]} must have shape ({G}H, H) = ({G * H}, {H}) "
                f"with {G} gate block(s) stacked, got ({rows}, {H})")
    with pytest.raises(ValueError, match=re.escape(expected)):
        from_torch_state_dict(asked, sd)


@pytest.mark.parametrize("asked", ["rnn", "gru"])
def test_lstm_state_dict_read_as_a_smaller_cell_is_refused(asked, rng):
    """An LSTM's weights cannot pass as an RNN's or a GRU's."""
    with pytest.raises(ValueError, match=r"sd\['weight_hh_l0'\]"):
        from_torch_state_dict(asked, torch_sd("lstm", rng))


def test_missing_weight_is_named(rng):
    """A state dict without weight_hh_l0 names the missing PyTorch key."""
    sd = torch_sd("rnn", rng)
    del sd["weight_hh_l0"]
    with pytest.raises(ValueError, match=re.escape("missing ['weight_hh_l0']")):
        from_torch_state_dict("rnn", sd)


def test_one_bias_without_the_other_is_refused(rng):
    """Only both biases may be absent (bias=False); one alone is a missing key."""
    sd = torch_sd("gru", rng)
    del sd["bias_hh_l0"]
    with pytest.raises(ValueError, match=re.escape("missing ['bias_hh_l0']")):
        from_torch_state_dict("gru", sd)


@pytest.mark.parametrize("sd, got", [([1, 2], "list"), (None, "NoneType")], ids=["list", "None"])
def test_not_a_mapping(sd, got):
    """from_torch_state_dict needs a mapping and says so."""
    with pytest.raises(TypeError, match=re.escape(f"sd must be a mapping such as module.state_dict(), got {got}")):
        from_torch_state_dict("rnn", sd)


def test_bad_dtype_argument(rng):
    """dtype= accepts float32 and float64 only."""
    with pytest.raises(TypeError, match=re.escape("dtype must be float32 or float64, got float16")):
        from_torch_state_dict("rnn", torch_sd("rnn", rng), dtype=np.float16)


def test_bad_kind_in_either_direction(rng):
    """Both directions check kind."""
    with pytest.raises(ValueError, match=re.escape("kind must be one of ('rnn', 'lstm', 'gru'), got 'LSTM'")):
        from_torch_state_dict("LSTM", torch_sd("lstm", rng))
    with pytest.raises(ValueError, match=re.escape("kind must be one of ('rnn', 'lstm', 'gru'), got 'transformer'")):
        to_torch_state_dict("transformer", make_params("lstm", D, H, rng))


@pytest.mark.parametrize("key, dtype", [("weight_ih_l0", np.float16), ("weight_hh_l0", np.float32)],
                         ids=["float16", "mixed-dtypes"])
def test_bad_value_dtype_names_the_torch_key(key, dtype, rng):
    """A state-dict value of an unusable dtype (float16, or float32 among float64) is reported under its
    PyTorch key, not the library's name.

    (The ValueError path translates ``params['W_x']`` into ``sd['weight_ih_l0']``; the TypeError path
    must do the same, since the caller never wrote ``params``.)
    """
    sd = torch_sd("rnn", rng)
    sd[key] = sd[key].astype(dtype)
    with pytest.raises(TypeError) as info:
        from_torch_state_dict("rnn", sd)
    assert f"sd['{key}']" in str(info.value), str(info.value)


def test_to_torch_refuses_a_torch_state_dict(rng):
    """Giving to_torch_state_dict PyTorch's keys lists the expected and the unexpected keys."""
    with pytest.raises(ValueError, match=re.escape("missing ['W_x', 'W_h', 'b_x', 'b_h'], unexpected "
                                                   "['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']")):
        to_torch_state_dict("rnn", torch_sd("rnn", rng))


def test_to_torch_refuses_another_cells_params(rng):
    """LSTM parameters converted as a GRU fail on the gate blocks, naming params['W_h'] and both shapes."""
    expected = (f"params['W_h'] of a GRU must have shape (3H, H) = ({3 * H}, {H}) with 3 gate block(s) stacked, "
                f"got ({4 * H}, {H})")
    with pytest.raises(ValueError, match=re.escape(expected)):
        to_torch_state_dict("gru", make_params("lstm", D, H, rng))


def test_to_torch_refuses_wrong_shapes(rng):
    """A parameter of the wrong shape is named with expected and received shapes."""
    params = make_params("lstm", D, H, rng)
    params["b_x"] = np.zeros(4 * H + 1)
    with pytest.raises(ValueError, match=re.escape(f"params['b_x'] must have shape ({4 * H},), got ({4 * H + 1},)")):
        to_torch_state_dict("lstm", params)
