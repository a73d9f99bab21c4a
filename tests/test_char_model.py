"""The character model of chapter 1 and its parts: read-out, softmax cross-entropy, Adam, generation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessons_lib import gradient_errors, numerical_gradient, rel_error
from lessons_lib.models.char_model import Vocabulary, char_model_forward, char_model_loss, generate, init_char_model, one_hot, train_char_model
from lessons_lib.training.losses import log_softmax, softmax, softmax_cross_entropy
from lessons_lib.training.optim import adam_init, adam_step
from lessons_lib.training.readout import readout_backward, readout_forward

KINDS = ("rnn", "lstm", "gru")


def test_vocabulary_keeps_first_appearance_order_and_round_trips():
    vocab = Vocabulary.from_text("hello")
    assert vocab.chars == ("h", "e", "l", "o") and vocab.size == 4
    assert vocab.encode("hell").tolist() == [0, 1, 2, 2]
    assert vocab.decode([2, 3]) == "lo"


def test_vocabulary_refuses_unknown_characters_and_empty_text():
    with pytest.raises(ValueError, match=r"characters \['z'\] are not in the vocabulary"):
        Vocabulary.from_text("hello").encode("hez")
    with pytest.raises(ValueError, match="non-empty"):
        Vocabulary.from_text("")


def test_one_hot_has_a_single_one_in_the_right_place():
    x = one_hot(np.array([[0, 3], [2, 1]]), 4)
    assert x.shape == (2, 2, 4) and x.sum() == 4
    assert x[0, 1].tolist() == [0, 0, 0, 1] and x[1, 0].tolist() == [0, 0, 1, 0]
    with pytest.raises(ValueError, match=r"indices must lie in 0 \.\. 3"):
        one_hot(np.array([4]), 4)
    with pytest.raises(TypeError, match="integers"):
        one_hot(np.array([0.5]), 4)


def test_softmax_is_stable_and_sums_to_one():
    y = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    p = softmax(y)
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=-1), 1.0)
    assert p[0, 0] == 1.0
    expected = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    assert rel_error(p[1], expected) < 1e-15
    assert rel_error(log_softmax(y[1:]), np.log(expected)[None]) < 1e-15


def test_cross_entropy_of_uniform_scores_is_log_V():
    loss, _ = softmax_cross_entropy(np.zeros((2, 3, 5)), np.zeros((2, 3), dtype=int))
    assert math.isclose(loss, math.log(5), rel_tol=1e-14)


def test_cross_entropy_gradient_matches_finite_differences_with_padding(rng):
    y = rng.standard_normal((3, 4, 5))
    targets = rng.integers(0, 5, (3, 4))
    lengths = np.array([4, 2, 1])
    loss, dy = softmax_cross_entropy(y, targets, lengths)
    numeric = numerical_gradient(lambda: softmax_cross_entropy(y, targets, lengths)[0], y)
    assert rel_error(dy, numeric) < 1e-8
    assert not dy[1, 2:].any() and not dy[2, 1:].any()  # padding carries no gradient


def test_cross_entropy_refuses_bad_targets():
    with pytest.raises(ValueError, match=r"targets must have shape \(1, 2\)"):
        softmax_cross_entropy(np.zeros((1, 2, 3)), np.zeros((2, 1), dtype=int))
    with pytest.raises(ValueError, match=r"targets must lie in 0 \.\. 2"):
        softmax_cross_entropy(np.zeros((1, 2, 3)), np.array([[0, 3]]))
    with pytest.raises(TypeError, match="integers"):
        softmax_cross_entropy(np.zeros((1, 2, 3)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="at least one real step"):
        softmax_cross_entropy(np.zeros((1, 2, 3)), np.zeros((1, 2), dtype=int), lengths=[0])


def test_readout_gradients_match_finite_differences(rng):
    h = rng.standard_normal((2, 3, 4))
    W_y, b_y = rng.standard_normal((5, 4)), rng.standard_normal(5)
    dy = rng.standard_normal((2, 3, 5))
    dh, dW_y, db_y = readout_backward(dy, h, W_y)
    loss = lambda: float(np.sum(readout_forward(h, W_y, b_y) * dy))  # noqa: E731
    errors = gradient_errors(loss, {"h": h, "W_y": W_y, "b_y": b_y}, {"h": dh, "W_y": dW_y, "b_y": db_y})
    assert max(errors.values()) < 1e-8, errors


def test_readout_names_a_wrong_shape():
    with pytest.raises(ValueError, match=r"h must have shape \(N, T, 4\), got \(2, 3, 5\)"):
        readout_forward(np.zeros((2, 3, 5)), np.zeros((6, 4)), np.zeros(6))


def test_adam_first_step_moves_each_parameter_by_lr_against_the_gradient_sign():
    params = {"w": np.array([1.0, -2.0, 0.5])}
    grads = {"w": np.array([0.3, -4.0, 1e-3])}
    new, state = adam_step(params, grads, adam_init(params), lr=0.1, eps=1e-8)
    # Bias correction makes Adam's first step exactly lr * g / (|g| + eps): almost lr * sign(g).
    g = grads["w"]
    assert rel_error(new["w"], params["w"] - 0.1 * g / (np.abs(g) + 1e-8)) < 1e-15
    assert np.allclose(new["w"], params["w"] - 0.1 * np.sign(g), atol=1e-6)
    assert state.step == 1 and params["w"].tolist() == [1.0, -2.0, 0.5]  # the input is not changed


def test_adam_needs_every_gradient():
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        adam_step({"w": np.zeros(1), "b": np.zeros(1)}, {"w": np.zeros(1)}, adam_init({"w": np.zeros(1), "b": np.zeros(1)}))


@pytest.mark.parametrize("kind", KINDS)
def test_char_model_gradients_match_finite_differences(kind, rng):
    vocab = Vocabulary.from_text("hello")
    inputs, targets = vocab.encode("hell")[None], vocab.encode("ello")[None]
    model = init_char_model(kind, vocab.size, 3, rng)
    _, grads, _ = char_model_loss(kind, model, inputs, targets)
    errors = gradient_errors(lambda: char_model_loss(kind, model, inputs, targets)[0], model, grads)
    assert max(errors.values()) < 1e-8, errors


@pytest.mark.parametrize("kind", KINDS)
def test_training_on_hello_learns_the_word_and_is_deterministic(kind):
    vocab = Vocabulary.from_text("hello")
    inputs, targets = vocab.encode("hell")[None], vocab.encode("ello")[None]
    runs = [train_char_model(kind, init_char_model(kind, 4, 3, np.random.default_rng(1)), inputs, targets, 200, 0.1)
            for _ in range(2)]
    (model, history), (model2, history2) = runs
    assert history == history2 and all(np.array_equal(model[k], model2[k]) for k in model)
    assert history[-1] < 0.05 < math.log(2) / 2 < history[0]  # below the best memoryless loss
    assert generate(kind, model, vocab, "h", 4) == "hello"


def test_the_two_l_steps_get_different_predictions():
    """Chapter 1's claim: same input 'l', different next-character predictions, thanks to the state."""
    vocab = Vocabulary.from_text("hello")
    inputs, targets = vocab.encode("hell")[None], vocab.encode("ello")[None]
    model, _ = train_char_model("rnn", init_char_model("rnn", 4, 3, np.random.default_rng(1)), inputs, targets, 200, 0.1)
    out, _ = char_model_forward("rnn", model, inputs)
    assert vocab.decode(out.probs[0].argmax(axis=-1)) == "ello"


def test_sampling_needs_a_generator_and_is_reproducible():
    vocab = Vocabulary.from_text("hello")
    model = init_char_model("rnn", 4, 3, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        generate("rnn", model, vocab, "h", 3, temperature=1.0)
    a = generate("rnn", model, vocab, "h", 10, temperature=1.0, rng=np.random.default_rng(5))
    b = generate("rnn", model, vocab, "h", 10, temperature=1.0, rng=np.random.default_rng(5))
    assert a == b and len(a) == 11 and set(a) <= set("helo")


def test_training_stops_on_a_non_finite_loss():
    vocab = Vocabulary.from_text("hello")
    model = init_char_model("rnn", 4, 3, np.random.default_rng(0))
    model["W_y"][0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        train_char_model("rnn", model, vocab.encode("hell")[None], vocab.encode("ello")[None], 5)
