"""Error messages: every public entry point refuses bad arguments at once, with a ValueError or
TypeError whose message names the argument and the expected and received shape or dtype."""

import re

import numpy as np
import pytest

from cases import KINDS, make_case, make_params
from lessons_lib import check_sequence_gradients, init_params, numerical_gradient, rel_error, sequence_backward, sequence_forward, zero_state
from lessons_lib.cells.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from lessons_lib.cells.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from lessons_lib.cells.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

N, T, D, H = 2, 7, 5, 4
KINDS_TUPLE = "('rnn', 'lstm', 'gru')"
#: What the dispatch, init_params, zero_state and check_sequence_gradients accept: the minimal cells too.
ALL_KINDS_TUPLE = "('rnn', 'lstm', 'gru', 'mingru', 'minlstm')"


def raises(exc, message):
    """pytest.raises matching ``message`` literally (not as a regular expression)."""
    return pytest.raises(exc, match=re.escape(message))


def valid(kind, dtype=np.float64):
    """A valid (params, x, state0, dout, dstate) for ``kind``, N=2, T=7, D=5, H=4."""
    return make_case(kind, N, T, D, H, np.random.default_rng(0), dtype)


def with_h(kind, state, h):
    """state0 with its h replaced (and c kept, for the LSTM)."""
    return (h, state[1]) if kind == "lstm" else h


# ---------------------------------------------------------------------------
# sequence_forward: shapes.


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape, message", [
    ((2, 7, 6), "x must have shape (N, T, 5), got (2, 7, 6)"),
    ((2, 5), "x must have shape (N, T, 5), got (2, 5)"),
    ((1, 2, 7, 5), "x must have shape (N, T, 5), got (1, 2, 7, 5)"),
    ((), "x must have shape (N, T, 5), got ()"),
], ids=["wrong-D", "2-d", "4-d", "scalar"])
def test_x_of_the_wrong_shape(kind, shape, message):
    """x must be (N, T, D) with the D of the parameters."""
    params, _, state0, _, _ = valid(kind)
    with raises(ValueError, message):
        sequence_forward(kind, params, np.zeros(shape), state0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape, message", [
    ((3, 4), "h0 must have shape (2, 4), got (3, 4)"),
    ((2, 5), "h0 must have shape (2, 4), got (2, 5)"),
    ((2, 4, 1), "h0 must have shape (2, 4), got (2, 4, 1)"),
    ((4,), "h0 must have shape (2, 4), got (4,)"),
], ids=["wrong-N", "wrong-H", "3-d", "1-d"])
def test_h0_of_the_wrong_shape(kind, shape, message):
    """h0 must be (N, H) with N from x and H from the parameters."""
    params, x, state0, _, _ = valid(kind)
    with raises(ValueError, message):
        sequence_forward(kind, params, x, with_h(kind, state0, np.zeros(shape)))


def test_c0_of_the_wrong_shape():
    """The LSTM's c0 is checked like h0."""
    params, x, (h0, _), _, _ = valid("lstm")
    with raises(ValueError, "c0 must have shape (2, 4), got (2, 3)"):
        sequence_forward("lstm", params, x, (h0, np.zeros((2, 3))))


@pytest.mark.parametrize("kind", KINDS)
def test_parameter_of_the_wrong_shape(kind):
    """A parameter that disagrees with the others is named with the expected and received shape."""
    params, x, state0, _, _ = valid(kind)
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    with raises(ValueError, f"params['b_x'] must have shape ({G * H},), got ({G * H + 1},)"):
        sequence_forward(kind, dict(params, b_x=np.zeros(G * H + 1)), x, state0)
    with raises(ValueError, f"params['W_x'] must have shape ({G}H, D), got ({G * H},)"
                if G > 1 else f"params['W_x'] must have shape (H, D), got ({H},)"):
        sequence_forward(kind, dict(params, W_x=np.zeros(G * H)), x, state0)


def test_rnn_recurrent_weight_must_be_square():
    """The RNN's W_h is (H, H)."""
    params, x, h0, _, _ = valid("rnn")
    with raises(ValueError, "params['W_h'] must have shape (4, 4), got (4, 3)"):
        sequence_forward("rnn", dict(params, W_h=np.zeros((4, 3))), x, h0)


@pytest.mark.parametrize("kind, W_h_shape, message", [
    ("lstm", (16, 5), "params['W_h'] of an LSTM must have shape (4H, H) = (16, 4), the gates i, f, g, o stacked, "
                      "got (16, 5)"),
    ("gru", (12, 5), "params['W_h'] of a GRU must have shape (3H, H) = (12, 4), the blocks r, z, n stacked, "
                     "got (12, 5)"),
], ids=["lstm", "gru"])
def test_gated_recurrent_weight_must_stack_the_gates(kind, W_h_shape, message):
    """The gated cells' W_h must have G H rows for its H columns."""
    params, x, state0, _, _ = valid(kind)
    with raises(ValueError, message):
        sequence_forward(kind, dict(params, W_h=np.zeros(W_h_shape)), x, state0)


@pytest.mark.parametrize("kind", KINDS)
def test_parameter_keys(kind):
    """Missing or unexpected keys are listed."""
    params, x, state0, _, _ = valid(kind)
    article = {"rnn": "an RNN", "lstm": "an LSTM", "gru": "a GRU"}[kind]
    with raises(ValueError, f"params for {article} must have keys ['W_x', 'W_h', 'b_x', 'b_h'], "
                            "missing ['b_h'], unexpected ['W_y']"):
        sequence_forward(kind, {**{k: v for k, v in params.items() if k != "b_h"}, "W_y": params["b_h"]}, x, state0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("params", [None, [1.0, 2.0], "params"], ids=["None", "list", "str"])
def test_params_must_be_a_dict(kind, params):
    """params must be a mapping."""
    _, x, state0, _, _ = valid(kind)
    with raises(TypeError, "params must be a dict of arrays with keys ['W_h', 'W_x', 'b_h', 'b_x'], got "):
        sequence_forward(kind, params, x, state0)


# ---------------------------------------------------------------------------
# sequence_forward: dtypes.

BAD_X = [
    pytest.param(np.zeros((2, 7, 5), np.float16), "x must have dtype float32 or float64, got float16", id="float16"),
    pytest.param(np.zeros((2, 7, 5), np.complex128),
                 "x must be a numeric array of floats or integers, got dtype complex128", id="complex"),
    pytest.param("x", "x must be a numeric array, got str", id="str"),
    pytest.param(b"x", "x must be a numeric array, got bytes", id="bytes"),
    pytest.param(None, "x must be a numeric array, got NoneType", id="None"),
    pytest.param(np.full((2, 7, 5), "a"), "x must be a numeric array of floats or integers, got dtype <U1",
                 id="str-array"),
    pytest.param(np.zeros((2, 7, 5), object), "x must be a numeric array of floats or integers, got dtype object",
                 id="object-array"),
    pytest.param([[1.0, 2.0], [3.0]], "x must be a numeric array, got list (", id="ragged-list"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("x, message", BAD_X)
def test_x_of_a_bad_dtype(kind, x, message):
    """x must be real numbers: float16, complex, strings, None, object arrays and ragged lists are refused."""
    params, _, state0, _, _ = valid(kind)
    with raises(TypeError, message):
        sequence_forward(kind, params, x, state0)


@pytest.mark.parametrize("kind", KINDS)
def test_state_of_a_bad_dtype(kind):
    """h0 is checked like x."""
    params, x, state0, _, _ = valid(kind)
    with raises(TypeError, "h0 must be a numeric array of floats or integers, got dtype complex128"):
        sequence_forward(kind, params, x, with_h(kind, state0, np.zeros((2, 4), np.complex128)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("params_dtype, x_dtype", [(np.float64, np.float32), (np.float32, np.float64)])
def test_x_and_params_must_share_a_dtype(kind, params_dtype, x_dtype):
    """A float x of another precision than the parameters is refused, never silently converted."""
    params, x, state0, _, _ = valid(kind, params_dtype)
    with raises(TypeError, f"x must have dtype {np.dtype(params_dtype)} like the parameters, "
                           f"got {np.dtype(x_dtype)}; convert one of them with .astype()"):
        sequence_forward(kind, params, x.astype(x_dtype), state0)


@pytest.mark.parametrize("kind", KINDS)
def test_state_and_params_must_share_a_dtype(kind):
    """h0 in float32 with float64 parameters is refused."""
    params, x, state0, _, _ = valid(kind)
    with raises(TypeError, "h0 must have dtype float64 like the parameters, got float32"):
        sequence_forward(kind, params, x, with_h(kind, state0, np.zeros((2, 4), np.float32)))


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_must_share_a_dtype(kind):
    """All four parameters must have one dtype."""
    params, x, state0, _, _ = valid(kind)
    with raises(TypeError, "params['W_h'] must have dtype float64 like the parameters, got float32"):
        sequence_forward(kind, dict(params, W_h=params["W_h"].astype(np.float32)), x, state0)


@pytest.mark.parametrize("kind", KINDS)
def test_float16_parameters(kind):
    """float16 parameters are refused, naming the first one."""
    params, x, state0, _, _ = valid(kind)
    with raises(TypeError, "params['W_x'] must have dtype float32 or float64, got float16"):
        sequence_forward(kind, {k: v.astype(np.float16) for k, v in params.items()}, x, state0)


# ---------------------------------------------------------------------------
# sequence_forward: kind, options, lengths, the form of the state.


@pytest.mark.parametrize("kind, exc, message", [
    ("LSTM", ValueError, f"kind must be one of {ALL_KINDS_TUPLE}, got 'LSTM'"),
    ("transformer", ValueError, f"kind must be one of {ALL_KINDS_TUPLE}, got 'transformer'"),
    (None, TypeError, f"kind must be a string, one of {ALL_KINDS_TUPLE}, got NoneType"),
    (1, TypeError, f"kind must be a string, one of {ALL_KINDS_TUPLE}, got int"),
], ids=["upper-case", "unknown", "None", "int"])
def test_bad_kind(kind, exc, message):
    """kind names one of the cell families (the three classic ones and the two minimal cells), in lower case."""
    params, x, state0, dout, dstate = valid("rnn")
    with raises(exc, message):
        sequence_forward(kind, params, x, state0)
    _, _, cache = sequence_forward("rnn", params, x, state0)
    with raises(exc, message):
        sequence_backward(kind, dout, dstate, cache)


@pytest.mark.parametrize("kind, takes", [("rnn", "an RNN takes no options"),
                                         ("lstm", "an LSTM takes the options ['variant']")])
def test_gru_options_are_refused_by_other_cells(kind, takes):
    """reset= and update= apply to the GRU only."""
    params, x, state0, _, _ = valid(kind)
    with raises(TypeError, f"{takes}, got ['reset', 'update'] (variant is the LSTM's option; "
                           "reset and update are the GRU's)"):
        sequence_forward(kind, params, x, state0, reset="before", update="write")


@pytest.mark.parametrize("kind, takes", [("rnn", "an RNN takes no options"),
                                         ("gru", "a GRU takes the options ['reset', 'update']")])
def test_the_lstm_variant_is_refused_by_other_cells(kind, takes):
    """variant= applies to the LSTM only."""
    params, x, state0, _, _ = valid(kind)
    with raises(TypeError, f"{takes}, got ['variant']"):
        sequence_forward(kind, params, x, state0, variant="peephole")


@pytest.mark.parametrize("options, error, message", [
    ({"reset": "middle"}, ValueError, "reset must be one of ('after', 'before'), got 'middle'"),
    ({"update": "forget"}, ValueError, "update must be one of ('keep', 'write'), got 'forget'"),
    ({"reset": None}, TypeError, "reset must be a string, one of ('after', 'before'), got NoneType"),
])
def test_bad_gru_options(options, error, message):
    """The GRU convention options are checked, in the sequence and the step functions."""
    params, x, h0, _, _ = valid("gru")
    with raises(error, message):
        sequence_forward("gru", params, x, h0, **options)
    with raises(error, message):
        gru_step_forward(x[:, 0], h0, params, **options)


BAD_LENGTHS = [
    pytest.param([7, 2, 1], ValueError, "lengths must have shape (2,), one length per sequence, got (3,)",
                 id="too-many"),
    pytest.param([[7, 2]], ValueError, "lengths must have shape (2,), one length per sequence, got (1, 2)", id="2-d"),
    pytest.param(3, ValueError, "lengths must have shape (2,), one length per sequence, got ()", id="scalar"),
    pytest.param([8, 2], ValueError, "lengths must lie between 0 and T = 7, got values from 2 to 8", id="above-T"),
    pytest.param([-1, 2], ValueError, "lengths must lie between 0 and T = 7, got values from -1 to 2", id="negative"),
    pytest.param([2.5, 2], TypeError, "lengths must be an array of integers, got dtype float64", id="fraction"),
    pytest.param([True, False], TypeError, "lengths must be an array of integers, got dtype bool", id="bool"),
    pytest.param(["7", "2"], TypeError, "lengths must be an array of integers, got dtype <U1", id="str"),
    pytest.param([np.nan, 2.0], TypeError, "lengths must be an array of integers, got dtype float64", id="nan"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lengths, exc, message", BAD_LENGTHS)
def test_bad_lengths(kind, lengths, exc, message):
    """lengths holds N whole numbers between 0 and T."""
    params, x, state0, _, _ = valid(kind)
    with raises(exc, message):
        sequence_forward(kind, params, x, state0, lengths)


def test_infinite_lengths_are_refused_cleanly():
    """An infinite length is a bad length (ValueError or TypeError), not a numpy cast warning."""
    params, x, h0, _, _ = valid("rnn")
    with pytest.raises((ValueError, TypeError), match="lengths"):
        sequence_forward("rnn", params, x, h0, [np.inf, 2.0])


@pytest.mark.parametrize("state, got", [
    (np.zeros((2, 4)), "got ndarray"),
    ((np.zeros((2, 4)),) * 3, "got a tuple of length 3"),
    ([np.zeros((2, 4))], "got a list of length 1"),
    (None, "got NoneType"),
], ids=["one-array", "triple", "list-of-one", "None"])
def test_lstm_state_must_be_a_pair(state, got):
    """The LSTM's state is the pair (h, c); one array (or three) is refused."""
    params, x, _, _, _ = valid("lstm")
    with raises(TypeError, f"state0 of an LSTM must be a pair (h, c) of arrays of shape (N, H), {got}"):
        sequence_forward("lstm", params, x, state)


@pytest.mark.parametrize("kind", ["rnn", "gru"])
def test_single_state_given_as_a_pair(kind):
    """The RNN's and GRU's state is one array h; an (h, c) pair is refused with a hint."""
    params, x, h0, _, _ = valid(kind)
    with pytest.raises(TypeError, match=re.escape("is one array h of shape (N, H), not a pair; only an LSTM has (h, c)")
                       ) as info:
        sequence_forward(kind, params, x, (h0, h0))
    assert str(info.value).startswith("state0 of a")


# ---------------------------------------------------------------------------
# sequence_backward.


def forward(kind, lengths=None):
    params, x, state0, dout, dstate = valid(kind)
    _, _, cache = sequence_forward(kind, params, x, state0, lengths)
    return cache, dout, dstate


@pytest.mark.parametrize("kind", KINDS)
def test_dout_of_the_wrong_shape(kind):
    """dout must be (N, T, H) of the forward pass."""
    cache, _, dstate = forward(kind)
    with raises(ValueError, "dout must have shape (2, 7, 4), got (2, 7, 5)"):
        sequence_backward(kind, np.zeros((2, 7, 5)), dstate, cache)
    with raises(ValueError, "dout must have shape (2, 7, 4), got (2, 4)"):
        sequence_backward(kind, np.zeros((2, 4)), dstate, cache)


@pytest.mark.parametrize("kind, name", [("rnn", "dh_T"), ("gru", "dh_T"), ("lstm", "dh_T")])
def test_dstate_of_the_wrong_shape(kind, name):
    """The gradient of the final state must have its shape (N, H)."""
    cache, dout, dstate = forward(kind)
    bad = np.zeros((3, 4))
    with raises(ValueError, f"{name} must have shape (2, 4), got (3, 4)"):
        sequence_backward(kind, dout, (bad, dstate[1]) if kind == "lstm" else bad, cache)


def test_dc_of_the_wrong_shape():
    """The LSTM's dc_T is checked like dh_T."""
    cache, dout, (dh, _) = forward("lstm")
    with raises(ValueError, "dc_T must have shape (2, 4), got (2, 5)"):
        sequence_backward("lstm", dout, (dh, np.zeros((2, 5))), cache)


@pytest.mark.parametrize("kind", KINDS)
def test_upstream_gradients_must_match_the_forward_dtype(kind):
    """dout in float32 for a float64 forward pass is refused."""
    cache, dout, dstate = forward(kind)
    with raises(TypeError, "dout must have dtype float64 like the parameters, got float32"):
        sequence_backward(kind, dout.astype(np.float32), dstate, cache)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dout, message", [
    (None, "dout must be a numeric array, got NoneType"),
    (np.zeros((2, 7, 4), np.complex64), "dout must be a numeric array of floats or integers, got dtype complex64"),
], ids=["None", "complex"])
def test_upstream_gradients_of_a_bad_type(kind, dout, message):
    """dout is checked like x."""
    cache, _, dstate = forward(kind)
    with raises(TypeError, message):
        sequence_backward(kind, dout, dstate, cache)


def test_lstm_dstate_must_be_a_pair():
    """The LSTM's dstate is (dh_T, dc_T)."""
    cache, dout, (dh, _) = forward("lstm")
    with raises(TypeError, "dstate of an LSTM must be a pair (h, c) of arrays of shape (N, H), got ndarray"):
        sequence_backward("lstm", dout, dh, cache)


@pytest.mark.parametrize("kind", ["rnn", "gru"])
def test_single_dstate_given_as_a_pair(kind):
    """The RNN's and GRU's dstate is one array."""
    cache, dout, dh = forward(kind)
    with raises(TypeError, "is one array h of shape (N, H), not a pair"):
        sequence_backward(kind, dout, (dh, dh), cache)


@pytest.mark.parametrize("cache_kind, kind", [("rnn", "lstm"), ("lstm", "gru"), ("gru", "rnn")])
def test_cache_of_another_cell(cache_kind, kind):
    """A cache from another family's forward pass is refused, naming both cache types."""
    cache, _, _ = forward(cache_kind)
    _, dout, dstate = forward(kind)
    expected = {"rnn": "RNNCache", "lstm": "LSTMCache or LSTMVariantCache", "gru": "GRUCache"}
    got = {"rnn": "RNNCache", "lstm": "LSTMCache", "gru": "GRUCache"}
    with raises(TypeError, f"cache must be the {expected[kind]} returned by sequence_forward('{kind}', ...), "
                           f"got {got[cache_kind]}"):
        sequence_backward(kind, dout, dstate, cache)


@pytest.mark.parametrize("kind", KINDS)
def test_cache_that_is_not_a_cache(kind):
    """None or a tuple in place of the cache is refused."""
    _, dout, dstate = forward(kind)
    for bad in (None, (1, 2, 3)):
        with raises(TypeError, f"got {type(bad).__name__}"):
            sequence_backward(kind, dout, dstate, bad)


def test_family_backward_functions_check_dout():
    """The per-family backward functions check their arguments too."""
    for kind, backward in (("rnn", rnn_backward), ("gru", gru_backward)):
        cache, _, dstate = forward(kind)
        with raises(ValueError, "dout must have shape (2, 7, 4), got (2, 6, 4)"):
            backward(np.zeros((2, 6, 4)), dstate, cache)
    cache, _, (dh, dc) = forward("lstm")
    with raises(ValueError, "dout must have shape (2, 7, 4), got (2, 6, 4)"):
        lstm_backward(np.zeros((2, 6, 4)), dh, dc, cache)


def test_family_forward_functions_check_x():
    """rnn_forward, lstm_forward and gru_forward check x like sequence_forward."""
    message = "x must have shape (N, T, 5), got (2, 7, 6)"
    for kind, call in (("rnn", lambda p, x, s: rnn_forward(p, x, s)),
                       ("lstm", lambda p, x, s: lstm_forward(p, x, *s)),
                       ("gru", lambda p, x, s: gru_forward(p, x, s))):
        params, _, state0, _, _ = valid(kind)
        with raises(ValueError, message):
            call(params, np.zeros((2, 7, 6)), state0)


# ---------------------------------------------------------------------------
# The step functions.


def test_rnn_step_forward_checks_its_arguments():
    """x (N, D) and h_prev (N, H) of rnn_step_forward are checked with their names."""
    params, x, h0, _, _ = valid("rnn")
    with raises(ValueError, "x must have shape (N, 5), got (2, 6)"):
        rnn_step_forward(np.zeros((2, 6)), h0, params)
    with raises(ValueError, "x must have shape (N, 5), got (2, 7, 5)"):
        rnn_step_forward(x, h0, params)
    with raises(ValueError, "h_prev must have shape (2, 4), got (2, 3)"):
        rnn_step_forward(x[:, 0], np.zeros((2, 3)), params)
    with raises(TypeError, "h_prev must have dtype float64 like the parameters, got float32"):
        rnn_step_forward(x[:, 0], h0.astype(np.float32), params)
    with raises(TypeError, "x must be a numeric array, got NoneType"):
        rnn_step_forward(None, h0, params)


def test_lstm_step_forward_checks_its_arguments():
    """x, h_prev and c_prev of lstm_step_forward are checked with their names."""
    params, x, (h0, c0), _, _ = valid("lstm")
    with raises(ValueError, "x must have shape (N, 5), got (2, 6)"):
        lstm_step_forward(np.zeros((2, 6)), h0, c0, params)
    with raises(ValueError, "h_prev must have shape (2, 4), got (3, 4)"):
        lstm_step_forward(x[:, 0], np.zeros((3, 4)), c0, params)
    with raises(ValueError, "c_prev must have shape (2, 4), got (3, 4)"):
        lstm_step_forward(x[:, 0], h0, np.zeros((3, 4)), params)
    with raises(TypeError, "c_prev must have dtype float32 or float64, got float16"):
        lstm_step_forward(x[:, 0], h0, c0.astype(np.float16), params)


def test_gru_step_forward_checks_its_arguments():
    """x and h_prev of gru_step_forward are checked with their names."""
    params, x, h0, _, _ = valid("gru")
    with raises(ValueError, "x must have shape (N, 5), got (2, 6)"):
        gru_step_forward(np.zeros((2, 6)), h0, params)
    with raises(ValueError, "h_prev must have shape (2, 4), got (2, 5)"):
        gru_step_forward(x[:, 0], np.zeros((2, 5)), params)
    with raises(ValueError, "params['b_h'] must have shape (12,), got (4,)"):
        gru_step_forward(x[:, 0], h0, dict(params, b_h=np.zeros(4)))


def step_caches():
    """One valid step cache of each family."""
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal((2, 5)), rng.standard_normal((2, 4))
    _, rnn_cache = rnn_step_forward(x, h, make_params("rnn", 5, 4, rng))
    _, _, lstm_cache = lstm_step_forward(x, h, h, make_params("lstm", 5, 4, rng))
    _, gru_cache = gru_step_forward(x, h, make_params("gru", 5, 4, rng))
    return {"rnn": rnn_cache, "lstm": lstm_cache, "gru": gru_cache}


STEP_BACKWARD = {
    "rnn": lambda dh, cache: rnn_step_backward(dh, cache),
    "lstm": lambda dh, cache: lstm_step_backward(dh, dh, cache),
    "gru": lambda dh, cache: gru_step_backward(dh, cache),
}


@pytest.mark.parametrize("kind", KINDS)
def test_step_backward_checks_dh(kind):
    """dh of the wrong shape or dtype is refused by every step backward."""
    cache = step_caches()[kind]
    with raises(ValueError, "dh must have shape (2, 4), got (2, 5)"):
        STEP_BACKWARD[kind](np.zeros((2, 5)), cache)
    with raises(TypeError, "dh must have dtype float64 like the parameters, got float32"):
        STEP_BACKWARD[kind](np.zeros((2, 4), np.float32), cache)


def test_lstm_step_backward_checks_dc():
    """dc of lstm_step_backward is checked with its name."""
    cache = step_caches()["lstm"]
    with raises(ValueError, "dc must have shape (2, 4), got (2, 5)"):
        lstm_step_backward(np.zeros((2, 4)), np.zeros((2, 5)), cache)


@pytest.mark.parametrize("kind, cache_kind", [("rnn", "lstm"), ("lstm", "gru"), ("gru", "rnn"), ("rnn", "None"),
                                              ("lstm", "sequence")])
def test_step_backward_refuses_a_cache_of_another_kind(kind, cache_kind):
    """A step backward given another family's step cache (or None, or a whole-sequence cache) raises a
    TypeError that names the cache, instead of an AttributeError or a misleading shape error."""
    caches = step_caches()
    if cache_kind == "None":
        cache = None
    elif cache_kind == "sequence":
        cache, _, _ = forward(kind)
    else:
        cache = caches[cache_kind]
    with pytest.raises(TypeError, match="cache"):
        STEP_BACKWARD[kind](np.zeros((2, 4)), cache)


# ---------------------------------------------------------------------------
# init_params, zero_state, the gradient-check tools.

RNG = np.random.default_rng(0)
BAD_INIT = [
    pytest.param(("lstm ", 3, 4, RNG), {}, ValueError, f"kind must be one of {ALL_KINDS_TUPLE}, got 'lstm '",
                 id="kind"),
    pytest.param(("rnn", 0, 4, RNG), {}, ValueError, "D must be a positive int, got 0", id="D=0"),
    pytest.param(("rnn", 3, -2, RNG), {}, ValueError, "H must be a positive int, got -2", id="H<0"),
    pytest.param(("rnn", 3.0, 4, RNG), {}, TypeError, "D must be a positive int, got float", id="D-float"),
    pytest.param(("rnn", 3, True, RNG), {}, TypeError, "H must be a positive int, got bool", id="H-bool"),
    pytest.param(("rnn", 3, "4", RNG), {}, TypeError, "H must be a positive int, got str", id="H-str"),
    pytest.param(("rnn", 3, 4, None), {}, TypeError,
                 "rng must be a numpy Generator, e.g. np.random.default_rng(0), got NoneType", id="rng-None"),
    pytest.param(("rnn", 3, 4, 0), {}, TypeError,
                 "rng must be a numpy Generator, e.g. np.random.default_rng(0), got int", id="rng-seed"),
    pytest.param(("rnn", 3, 4, np.random.RandomState(0)), {}, TypeError,
                 "rng must be a numpy Generator, e.g. np.random.default_rng(0), got RandomState", id="rng-legacy"),
    pytest.param(("rnn", 3, 4, RNG), {"scheme": "he"}, ValueError,
                 "scheme must be one of ('uniform', 'xavier'), got 'he'", id="scheme"),
    pytest.param(("rnn", 3, 4, RNG), {"recurrent": "identity"}, ValueError,
                 "recurrent must be one of ('same', 'orthogonal'), got 'identity'", id="recurrent"),
    pytest.param(("gru", 3, 4, RNG), {"forget_bias": 1.0}, ValueError,
                 "forget_bias applies to an LSTM only, not to 'gru'", id="forget-bias-gru"),
    pytest.param(("lstm", 3, 4, RNG), {"dtype": np.float16}, TypeError,
                 "dtype must be float32 or float64, got float16", id="dtype-float16"),
    pytest.param(("lstm", 3, 4, RNG), {"dtype": np.complex128}, TypeError,
                 "dtype must be float32 or float64, got complex128", id="dtype-complex"),
]


@pytest.mark.parametrize("args, kwargs, exc, message", BAD_INIT)
def test_init_params_refuses(args, kwargs, exc, message):
    """init_params checks kind, sizes, the generator, the scheme options and the dtype."""
    with raises(exc, message):
        init_params(*args, **kwargs)


def test_zero_state_and_check_sequence_gradients_check_kind():
    """zero_state and check_sequence_gradients refuse an unknown kind."""
    message = f"kind must be one of {ALL_KINDS_TUPLE}, got 'cnn'"
    with raises(ValueError, message):
        zero_state("cnn", 2, 3)
    params, x, h0, _, _ = valid("rnn")
    with raises(ValueError, message):
        check_sequence_gradients("cnn", params, x, h0)


def test_rel_error_needs_equal_shapes():
    """rel_error refuses arrays of different shapes, naming both."""
    with raises(ValueError, "rel_error needs arrays of the same shape, got (2,) and (3,)"):
        rel_error(np.zeros(2), np.zeros(3))


@pytest.mark.parametrize("bad", [
    pytest.param(None, id="None"),
    pytest.param("1.0", id="str"),
    pytest.param(np.array([1.0, None], dtype=object), id="object-array"),
    pytest.param(np.array([1.0 + 1.0j, 2.0]), id="complex-array"),
])
def test_rel_error_refuses_non_real_input(bad):
    """rel_error refuses None, strings, object and complex arrays with a TypeError or ValueError, instead of
    returning NaN, parsing the string, or dropping the imaginary part."""
    good = np.ones(np.shape(bad))
    with pytest.raises((TypeError, ValueError)):
        rel_error(bad, good)


@pytest.mark.parametrize("x, got", [
    (np.zeros(3, np.float32), "float32"),
    (np.zeros(3, np.float16), "float16"),
    (np.zeros(3, np.complex128), "complex128"),
    (np.zeros(3, object), "object"),
    ([0.0, 1.0], "list"),
    (None, "NoneType"),
    ("x", "str"),
], ids=["float32", "float16", "complex", "object", "list", "None", "str"])
def test_numerical_gradient_needs_a_float64_array(x, got):
    """numerical_gradient nudges x in place, so it must be a float64 numpy array."""
    with raises(TypeError, f"numerical_gradient needs a float64 numpy array, got {got}"):
        numerical_gradient(lambda: 0.0, x)
