"""The per-step tagger over stacked networks, and the look-ahead task it is trained on in chapter 8."""

import re

import numpy as np
import pytest

from cases import GRAD_TOL, KINDS
from lessons_lib import init_stacked, numerical_gradient, rel_error, stacked_forward
from lessons_lib.models import tagger
from lessons_lib.tasks import lookahead


def small_model(kind, L, bidirectional, rng, D=2, H=3, K=2):
    model = tagger.init_tagger(kind, D, H, K, L, bidirectional, rng)
    return {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in model.items()}   # biases away from zero


def test_keys_follow_pytorch_and_round_trip(rng):
    model = tagger.init_tagger("lstm", 2, 3, 1, 2, True, rng)
    assert sorted(k for k in model if k.startswith("l1_reverse.")) == [
        "l1_reverse.W_h", "l1_reverse.W_x", "l1_reverse.b_h", "l1_reverse.b_x"]
    net = tagger.tagger_net(model)
    assert len(net) == 2 and all(len(layer) == 2 for layer in net)
    assert net[1][1]["W_x"] is model["l1_reverse.W_x"] and net[1][0]["W_x"].shape == (12, 6)
    assert model["W_y"].shape == (1, 6) and np.all(model["b_y"] == 0)
    back = tagger.model_from_net(net, model["W_y"], model["b_y"])
    assert back.keys() == model.keys() and all(back[k] is model[k] for k in model)


def test_count_parameters_matches_the_formula_and_the_matched_sizes():
    """GRU, D = K = 1: 3 H (D + H + 2) per direction, plus the read-out (nd H + 1); uni H=18 and bi H=12 as documented."""
    def formula(H, nd):
        return nd * 3 * H * (1 + H + 2) + nd * H + 1
    counts = {d: tagger.count_parameters(lookahead.init_shift_model("gru", d, 0)) for d in lookahead.DIRECTIONS}
    assert counts == {"uni": formula(18, 1), "bi": formula(12, 2)} == {"uni": 1153, "bi": 1105}


@pytest.mark.parametrize("case", ["uni", "bi", "bi-lengths", "bi-residual-mask"])
@pytest.mark.parametrize("kind", KINDS)
def test_tagger_gradients_match_finite_differences(kind, case, rng):
    bidirectional = case.startswith("bi")
    model = small_model(kind, 2, bidirectional, rng)
    x = rng.standard_normal((3, 4, 2))
    target = rng.standard_normal((3, 4, 2))
    lengths = np.array([4, 1, 3]) if case == "bi-lengths" else None
    mask = rng.random((3, 4, 2)) < 0.6 if case == "bi-residual-mask" else None
    residual = case == "bi-residual-mask"

    def loss():
        return tagger.tagger_loss(kind, model, x, target, mask, lengths, residual=residual)[0]

    _, grads, _ = tagger.tagger_loss(kind, model, x, target, mask, lengths, residual=residual)
    assert grads.keys() == model.keys()
    bad = {k: rel_error(grads[k], numerical_gradient(loss, model[k])) for k in model}
    bad = {k: f"{v:.1e}" for k, v in bad.items() if not v < GRAD_TOL}
    assert not bad, bad


def test_lengths_score_only_the_real_steps(rng):
    """With lengths and no mask, targets past each length do not count: changing them changes nothing."""
    model = small_model("gru", 1, True, rng)
    x, target = rng.standard_normal((2, 5, 2)), rng.standard_normal((2, 5, 2))
    lengths = np.array([5, 2])
    other = target.copy()
    other[1, 2:] = 100.0
    a = tagger.tagger_loss("gru", model, x, target, lengths=lengths)[0]
    assert a == tagger.tagger_loss("gru", model, x, other, lengths=lengths)[0]
    assert a != tagger.tagger_loss("gru", model, x, other)[0]


@pytest.mark.parametrize("kind", KINDS)
def test_a_unidirectional_output_ignores_the_future_and_a_bidirectional_one_does_not(kind, rng):
    """Changing x after step t leaves a unidirectional tagger's outputs up to t unchanged, and a bidirectional one's not."""
    x = rng.standard_normal((2, 6, 2))
    later = x.copy()
    later[:, 4:] = rng.standard_normal((2, 2, 2))
    for bidirectional in (False, True):
        model = small_model(kind, 2, bidirectional, rng)
        y = tagger.tagger_predict(kind, model, x)
        y_later = tagger.tagger_predict(kind, model, later)
        if bidirectional:
            assert rel_error(y[:, :4], y_later[:, :4]) > 1e-3
        else:
            np.testing.assert_array_equal(y[:, :4], y_later[:, :4])


def test_forward_is_the_stacked_network_and_a_read_out(rng):
    model = small_model("rnn", 2, True, rng)
    x = rng.standard_normal((2, 3, 2))
    output, _ = tagger.tagger_forward("rnn", model, x)
    hidden = stacked_forward("rnn", tagger.tagger_net(model), x)[0]
    np.testing.assert_array_equal(output.hidden, hidden)
    np.testing.assert_allclose(output.y, hidden @ model["W_y"].T + model["b_y"], rtol=0, atol=1e-14)
    np.testing.assert_allclose(tagger.tagger_predict("rnn", model, x, batch_size=1), output.y, rtol=0, atol=1e-14)


def test_init_tagger_draws_the_cells_as_init_stacked_does():
    model = tagger.init_tagger("gru", 2, 3, 1, 2, True, np.random.default_rng(4))
    net = init_stacked("gru", 2, 3, 2, True, np.random.default_rng(4))
    assert all(np.array_equal(a[k], b[k]) for la, lb in zip(net, tagger.tagger_net(model))
               for a, b in zip(la, lb) for k in a)


def test_bad_models():
    model = tagger.init_tagger("gru", 2, 3, 1, 1, False, np.random.default_rng(0))
    with pytest.raises(ValueError, match=re.escape("model has a key 'W_x' that is neither a cell's")):
        tagger.tagger_net({**model, "W_x": model["l0.W_x"]})
    with pytest.raises(ValueError, match=re.escape("lacks the keys ['l0.b_h']")):
        tagger.tagger_net({k: v for k, v in model.items() if k != "l0.b_h"})
    with pytest.raises(ValueError, match=re.escape("missing ['W_y']")):
        tagger.tagger_net({k: v for k, v in model.items() if k != "W_y"})
    with pytest.raises(ValueError, match=re.escape("K must be a positive int, got 0")):
        tagger.init_tagger("gru", 2, 3, 0, 1, False, np.random.default_rng(0))


# ----------------------------------------------------------------------------- the look-ahead task

@pytest.mark.parametrize("shift", [3, -2, 1, -1])
def test_shift_batch_targets_and_mask(shift):
    batch = lookahead.make_shift_batch(np.random.default_rng(1), 4, 7, shift)
    v = batch.x[:, :, 0]
    assert batch.x.shape == batch.target.shape == batch.mask.shape == (4, 7, 1) and batch.mask.dtype == bool
    assert batch.mask.sum() == 4 * (7 - abs(shift))
    for t in range(7):
        if 0 <= t + shift < 7:
            assert batch.mask[:, t, 0].all() and np.array_equal(batch.target[:, t, 0], v[:, t + shift])
        else:
            assert not batch.mask[:, t, 0].any() and np.all(batch.target[:, t, 0] == 0)
    assert v.min() >= -1 and v.max() <= 1


def test_scores_of_zero_of_the_truth_and_the_fixed_batches():
    """Predicting 0 scores NMSE near 1 (the best any causal model can do looking ahead); the truth scores 0."""
    test = lookahead.test_batch(20, 3)
    assert np.array_equal(test.x, lookahead.test_batch(20, 3).x)
    assert not np.array_equal(test.x, lookahead.validation_batch(20, 3).x[:len(test.x) // 2].repeat(2, axis=0))
    zero = float(np.mean(test.target[test.mask] ** 2)) / lookahead.VARIANCE
    assert abs(zero - 1) < 0.05
    assert np.allclose(test.target[test.mask], test.x[:, 3:][test.mask[:, :-3]])


def test_run_shift_row_and_determinism():
    row = lookahead.run_shift("gru", "bi", 3, 0.01, 0, steps=5, T=8, N=4)
    again = lookahead.run_shift("gru", "bi", 3, 0.01, 0, steps=5, T=8, N=4)
    assert row["test_nmse"] == again["test_nmse"] and row["parameters"] == 1105 and row["H"] == 12
    assert set(row) >= {"cell", "direction", "shift", "lr", "seed", "untrained_test_nmse", "val_nmse", "test_nmse",
                        "solved", "seconds"}
    assert row["untrained_test_nmse"] != row["test_nmse"]


def test_a_short_training_run_learns_to_look_behind_but_not_ahead():
    """Unidirectional: the value 2 steps behind is learned; the value 2 steps ahead stays at NMSE >= about 1."""
    scores = {}
    for shift in (2, -2):
        model, _ = lookahead.train_shift("gru", "uni", shift, 0.03, 0, steps=150, T=8, H=8)
        scores[shift] = lookahead.evaluate_shift("gru", model, lookahead.test_batch(8, shift))["nmse"]
    assert scores[-2] < 0.2 and scores[2] > 0.95


def test_bad_shifts():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=re.escape("shift must be non-zero and shorter than the sequence, "
                                                   "0 < |shift| < T = 5, got 5")):
        lookahead.make_shift_batch(rng, 2, 5, 5)
    with pytest.raises(ValueError, match=re.escape("got 0")):
        lookahead.make_shift_batch(rng, 2, 5, 0)
    with pytest.raises(TypeError, match=re.escape("shift must be an int, got float")):
        lookahead.make_shift_batch(rng, 2, 5, 1.0)
    with pytest.raises(ValueError, match=re.escape("direction must be one of")):
        lookahead.init_shift_model("gru", "both", 0)
