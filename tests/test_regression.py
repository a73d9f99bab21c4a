"""The recurrent regressor: shapes, read-out at the last step or at every step, gradients by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib import gradient_errors, rel_error, zero_state
from lessons_lib.models.regression import init_regressor, regressor_forward, regressor_loss, regressor_predict

KINDS = ("rnn", "lstm", "gru")


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_of_both_read_outs(kind, rng):
    model = init_regressor(kind, D=3, H=5, K=2, rng=rng)
    assert model["W_y"].shape == (2, 5) and model["b_y"].shape == (2,)
    x = rng.standard_normal((4, 6, 3))
    last, _ = regressor_forward(kind, model, x, where="last")
    every, _ = regressor_forward(kind, model, x, where="all")
    assert last.y.shape == (4, 2) and every.y.shape == (4, 6, 2) and every.hidden.shape == (4, 6, 5)
    assert rel_error(last.y, every.y[:, -1]) < 1e-15  # the last step of "all" is "last"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("where", ["last", "all"])
def test_gradients_match_finite_differences(kind, where, rng):
    model = init_regressor(kind, D=2, H=3, K=2, rng=rng)
    x = rng.standard_normal((3, 4, 2))
    shape = (3, 2) if where == "last" else (3, 4, 2)
    target = rng.standard_normal(shape)
    mask = rng.random(shape) < 0.7
    mask.flat[0] = True
    state0 = zero_state(kind, 3, 3)
    state0 = tuple(s + 0.3 for s in state0) if kind == "lstm" else state0 + 0.3
    loss, grads, _ = regressor_loss(kind, model, x, target, mask, state0=state0, where=where)
    errors = gradient_errors(lambda: regressor_loss(kind, model, x, target, mask, state0=state0, where=where)[0],
                             model, grads)
    assert set(grads) == set(model) and max(errors.values()) < 1e-8, errors


def test_predict_in_batches_equals_one_forward_pass(rng):
    model = init_regressor("gru", D=2, H=4, K=1, rng=rng)
    x = rng.standard_normal((10, 5, 2))
    whole, _ = regressor_forward("gru", model, x)
    assert rel_error(regressor_predict("gru", model, x, batch_size=3), whole.y) < 1e-14


def test_float32_models_stay_float32(rng):
    model = init_regressor("lstm", D=2, H=4, K=1, rng=rng, dtype=np.float32, forget_bias=1.0)
    x = rng.standard_normal((2, 3, 2)).astype(np.float32)
    loss, grads, out = regressor_loss("lstm", model, x, np.zeros((2, 1), np.float32))
    assert out.y.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())


def test_errors_name_the_problem(rng):
    model = init_regressor("rnn", D=2, H=3, K=1, rng=rng)
    with pytest.raises(ValueError, match="where must be one of"):
        regressor_forward("rnn", model, np.zeros((1, 2, 2)), where="first")
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, D\)"):
        regressor_forward("rnn", model, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="missing \\['W_y', 'b_y'\\]"):
        regressor_forward("rnn", {k: model[k] for k in ("W_x", "W_h", "b_x", "b_h")}, np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="K must be a positive int"):
        init_regressor("rnn", 2, 3, 0, rng)
    with pytest.raises(ValueError, match=r"target must have shape \(1, 1\)"):
        regressor_loss("rnn", model, np.zeros((1, 2, 2)), np.zeros((1, 2)))
