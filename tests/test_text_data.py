"""The Shakespeare corpus, batches for truncated BPTT, evaluation, sampling and the hidden-unit probes."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib import rel_error
from lessons_lib.models.char_model import (
    Chunk,
    Vocabulary,
    char_model_forward,
    char_model_loss,
    char_model_step,
    generate,
    init_char_model,
)
from lessons_lib.tasks import text_data as td
from lessons_lib.training.loop import train
from lessons_lib.training.losses import cross_entropy_per_token

PLAY = """# A Play

## ACT I

### SCENE I. A room.

_Enter HAMLET and
HORATIO_

**HAMLET**  
To be, or not to be: _\\[Aside]_ that is the question:  
Whether 'tis nobler\u2014

_Exit_

**HORATIO**  
__\\[Awaking]_  
My lord?

**GHOST**  
"""


def test_markdown_becomes_name_colon_lines_and_blank_lines():
    assert td.markdown_to_script(PLAY) == (
        "HAMLET:\nTo be, or not to be: that is the question:\nWhether 'tis nobler--\n\nHORATIO:\nMy lord?\n"
    )


def test_the_corpus_loads_offline_with_a_clean_alphabet():
    plays = td.shakespeare_plays()
    assert tuple(sorted(plays)) == tuple(sorted(td.PLAYS)) and td.HELD_OUT_PLAY not in td.TRAIN_PLAYS
    text = td.load_shakespeare(("hamlet",))
    assert text.startswith("BERNARDO:\nWho's there?\n\nFRANCISCO:\n") and len(text) == 170_533
    assert not set(td.load_shakespeare(td.PLAYS)) & set("_*#[]\\") and "\n\n\n" not in text
    assert len(td.load_shakespeare()) == sum(len(td.load_shakespeare(p)) for p in td.TRAIN_PLAYS) + 6


def test_unknown_plays_and_missing_files_give_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="unknown plays \\['hamlett'\\]"):
        td.load_shakespeare("hamlett")
    monkeypatch.setattr(td, "DATA", tmp_path)
    with pytest.raises(FileNotFoundError, match="data files are missing.*make_shakespeare_corpus"):
        td.shakespeare_plays()


def test_stream_chunks_continue_each_other_and_restart_after_a_pass():
    ids = np.arange(23)
    stream = td.stream_chunks(ids, N=2, T=4)   # streams of L = 11 characters: two chunks of 4 per pass
    first, second, again = next(stream), next(stream), next(stream)
    assert first.start and not second.start and again.start
    assert first.inputs.tolist() == [[0, 1, 2, 3], [11, 12, 13, 14]]
    assert first.targets.tolist() == [[1, 2, 3, 4], [12, 13, 14, 15]]
    assert second.inputs[:, 0].tolist() == [4, 15]      # stream n picks up where it stopped
    assert np.array_equal(again.inputs, first.inputs)
    with pytest.raises(ValueError, match="too short"):
        next(td.stream_chunks(np.arange(5), N=2, T=4))
    with pytest.raises(TypeError, match="integer character indices"):
        next(td.stream_chunks(np.arange(5.0), N=1, T=2))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_truncated_bptt_carries_the_state_but_not_the_gradient(kind, rng):
    """The carried state makes chunk 2's loss equal that of reading both chunks at once; its gradient differs."""
    V, H = 5, 4
    model = init_char_model(kind, V, H, rng)
    ids = rng.integers(0, V, 2 * 6 * 2 + 1)
    stream = td.stream_chunks(ids, N=2, T=6)
    c1, c2 = next(stream), next(stream)
    step = char_model_step(kind)
    _, _, carried = step(model, c1, None)
    loss2, grads2, _ = step(model, c2, carried)
    whole, _ = char_model_forward(kind, model, np.concatenate([c1.inputs, c2.inputs], axis=1))
    per_token = cross_entropy_per_token(whole.scores, np.concatenate([c1.targets, c2.targets], axis=1))
    assert loss2 == pytest.approx(per_token[:, 6:].mean(), rel=1e-12)
    _, grads_whole, _ = char_model_loss(kind, model, np.concatenate([c1.inputs, c2.inputs], axis=1),
                                        np.concatenate([c1.targets, c2.targets], axis=1))
    assert rel_error(grads2["W_h"], grads_whole["W_h"]) > 1e-6   # truncation: chunk 1 gets no gradient from chunk 2
    fresh, _, _ = step(model, Chunk(c2.inputs, c2.targets, True), carried)   # start=True ignores the carry
    assert fresh == pytest.approx(char_model_loss(kind, model, c2.inputs, c2.targets)[0])


def test_training_with_tbptt_learns_a_periodic_text_and_evaluation_agrees():
    vocab = Vocabulary.from_text("abcd")
    ids = vocab.encode("abcd" * 200)
    model = init_char_model("gru", 4, 8, np.random.default_rng(0))
    model, history = train(char_model_step("gru"), model, td.stream_chunks(ids, 4, 10), 150, lr=0.05)
    nats = td.evaluate_text("gru", model, ids, N=4, T=10)
    assert history.loss[0] > 1.2 and nats < 0.05
    assert generate("gru", model, vocab, "ab", 6) == "abcdabcd"


def _direct_losses(kind, model, ids):
    """Per-prediction nats of one pass over the whole text from a zero state: the definition."""
    out, _ = char_model_forward(kind, model, ids[None, :-1])
    return cross_entropy_per_token(out.scores, ids[None, 1:])[0]


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_prediction_losses_score_every_prediction_once_remainders_included(kind, rng):
    V = 6
    model = init_char_model(kind, V, 4, rng)
    ids = rng.integers(0, V, 4 * 9 + 3)          # 38 predictions: neither N = 4 nor T = 5 divides them
    direct = _direct_losses(kind, model, ids)
    whole = td.prediction_losses(kind, model, ids, N=4, T=5, warmup=len(ids))   # every stream reads from 0
    assert whole.shape == (len(ids) - 1,) and np.max(np.abs(whole - direct)) < 1e-12
    assert td.evaluate_text(kind, model, ids, N=4, T=5, warmup=len(ids)) == pytest.approx(direct.mean(), rel=1e-12)
    # without a warm-up each of the 4 segments (10, 10, 9, 9 predictions) starts from a zero state
    cold = td.prediction_losses(kind, model, ids, N=4, T=5, warmup=0)
    starts = [0, 10, 20, 29, 38]
    pieces = [_direct_losses(kind, model, ids[a:b + 1]) for a, b in zip(starts, starts[1:])]
    assert np.max(np.abs(cold - np.concatenate(pieces))) < 1e-12
    assert np.max(np.abs(cold[:10] - direct[:10])) < 1e-12 and np.max(np.abs(cold - direct)) > 1e-6
    # a warm-up of 3 characters: each segment's first prediction sees the 3 characters before it
    warm = td.prediction_losses(kind, model, ids, N=4, T=5, warmup=3)
    expected = np.concatenate([pieces[0]] + [_direct_losses(kind, model, ids[a - 3:b + 1])[3:]
                                             for a, b in zip(starts[1:], starts[2:])])
    assert np.max(np.abs(warm - expected)) < 1e-12


def test_networks_and_ngrams_count_the_same_predictions(rng):
    from lessons_lib.models import ngram

    V = 5
    ids = rng.integers(0, V, 1001)
    model = init_char_model("gru", V, 3, rng)
    counts = ngram.fit_ngram(ids, V, 3)
    assert td.prediction_losses("gru", model, ids).shape == ngram.ngram_probabilities(counts, ids).shape == (1000,)
    assert td.prediction_losses("gru", model, ids[:3], N=16).shape == (2,)     # more streams than predictions


def test_prediction_losses_reject_bad_input(rng):
    model = init_char_model("rnn", 4, 3, rng)
    with pytest.raises(TypeError, match="integer character indices"):
        td.prediction_losses("rnn", model, np.zeros(5))
    with pytest.raises(ValueError, match="at least 2 characters"):
        td.prediction_losses("rnn", model, np.array([1]))
    with pytest.raises(ValueError, match="N must be an int >= 1, got 0"):
        td.prediction_losses("rnn", model, np.arange(4), N=0)
    with pytest.raises(TypeError, match="warmup must be an int, got float"):
        td.prediction_losses("rnn", model, np.arange(4), warmup=2.0)


def test_the_splits_hold_out_each_training_plays_tail_and_the_start_of_macbeth():
    splits = td.language_splits()
    text = splits.vocab.decode
    assert splits.vocab == Vocabulary.from_text(td.load_shakespeare() + td.load_shakespeare(td.HELD_OUT_PLAY))
    assert len(splits.unseen_play) == td.UNSEEN_PREDICTIONS + 1
    assert text(splits.unseen_play) == td.load_shakespeare(td.HELD_OUT_PLAY)[:td.UNSEEN_PREDICTIONS + 1]
    total = len(td.load_shakespeare())
    parts = len(splits.train) + len(splits.validation) + len(splits.same_plays)
    joins = len(td.TRAIN_PLAYS) - 1                          # each of the three texts joins 7 parts with newlines
    assert parts == sum(len(td.load_shakespeare(p)) - 2 for p in td.TRAIN_PLAYS) + 3 * joins
    assert 0.08 < (len(splits.validation) + len(splits.same_plays)) / total < 0.11
    assert 0.25 < len(splits.validation) / (len(splits.validation) + len(splits.same_plays)) < 0.35
    for play in td.TRAIN_PLAYS:
        head, val, test = td.split_play(td.load_shakespeare(play))
        assert head + "\n" + val + "\n" + test == td.load_shakespeare(play)   # only the blank lines go
        assert val.split("\n")[0].endswith(":") and test.split("\n")[0].endswith(":")   # a speaker's name
        assert val in text(splits.validation) and test in text(splits.same_plays) and test not in text(splits.train)
    assert np.array_equal(splits.test("same-plays"), splits.same_plays)
    with pytest.raises(ValueError, match="split must be one of"):
        splits.test("validation")
    with pytest.raises(ValueError, match="tail must be a fraction"):
        td.split_play("A:\nx\n", tail=1.5)
    with pytest.raises(ValueError, match="no speech starts"):
        td.split_play("A:\nno blank line here\n")
    with pytest.raises(ValueError, match="unseen_predictions must be below"):
        td.language_splits(unseen_predictions=10 ** 7)


def test_ngram_and_network_rows_score_the_same_predictions_on_both_splits():
    splits = td.language_splits()
    ngram_rows = td.ngram_rows(splits, "ngram-kn", orders=[2])
    net_rows = td.network_rows(splits, "rnn", 0.01, 0, 2, H=4, eval_every=1)
    for rows in (ngram_rows, net_rows):
        assert [r["split"] for r in rows] == list(td.SPLITS)
        assert [r["predictions"] for r in rows] == [len(splits.test(s)) - 1 for s in td.SPLITS]
        assert all(r["bpc"] == pytest.approx(r["nats"] / np.log(2)) for r in rows)
    assert net_rows[0]["bpc_at_2"] == pytest.approx(net_rows[0]["bpc"]) and "validation_bpc_at_1" in net_rows[1]
    with pytest.raises(ValueError, match="model must be one of"):
        td.ngram_rows(splits, "ngram-xx")
    with pytest.raises(ValueError, match="lr must be a positive number"):
        td.network_rows(splits, "rnn", -1.0, 0, 2)


def test_units_chosen_on_one_passage_are_tested_on_another(rng):
    T, H = 300, 5
    feature_a, feature_b = rng.standard_normal(T), rng.standard_normal(T)
    hidden_a, hidden_b = rng.standard_normal((T, H)), rng.standard_normal((T, H))
    hidden_a[:, 1] = -feature_a + 0.1 * hidden_a[:, 1]       # unit 1 tracks the feature, with a negative sign,
    hidden_b[:, 1] = -feature_b + 0.1 * hidden_b[:, 1]       # on both passages
    hidden_a[:, 3] = feature_a * 0.2 + hidden_a[:, 3]        # unit 3 only by chance, on the first passage
    result = td.select_and_test_units(hidden_a, {"f": feature_a, "g": hidden_a[:, 3]},
                                      hidden_b, {"f": feature_b, "g": rng.standard_normal(T)})
    assert result["f"].unit == 1 and result["f"].selection < -0.99 and result["f"].test > 0.99
    assert result["g"].unit == 3 and result["g"].selection > 0.99 and abs(result["g"].test) < 0.2
    with pytest.raises(ValueError, match="same features"):
        td.select_and_test_units(hidden_a, {"f": feature_a}, hidden_b, {"g": feature_b})
    with pytest.raises(ValueError, match="same H"):
        td.select_and_test_units(hidden_a, {"f": feature_a}, hidden_b[:, :2], {"f": feature_b})
    with pytest.raises(TypeError, match="dicts"):
        td.select_and_test_units(hidden_a, [feature_a], hidden_b, {"f": feature_b})


def test_unit_probe_runs_the_model_on_both_passages():
    vocab = Vocabulary.from_text("KING:\nNo, no, my lord.\n\nFOOL:\nYes.\n")
    model = init_char_model("lstm", vocab.size, 6, np.random.default_rng(0))
    probe = td.unit_probe("lstm", model, vocab, "KING:\nNo, no, my lord.\n", "FOOL:\nYes, no.\n")
    assert set(probe) == set(td.text_features("ab")) and all(0 <= p.unit < 6 for p in probe.values())


def test_low_temperature_sampling_approaches_greedy_decoding():
    vocab = Vocabulary.from_text("hello")
    model = init_char_model("rnn", 4, 6, np.random.default_rng(2))
    greedy = generate("rnn", model, vocab, "h", 20)
    cold = generate("rnn", model, vocab, "h", 20, temperature=1e-6, rng=np.random.default_rng(0))
    hot = [generate("rnn", model, vocab, "h", 20, temperature=5.0, rng=np.random.default_rng(s)) for s in range(3)]
    assert cold == greedy and len(set(hot)) == 3


def test_text_features_mark_names_line_positions_and_words():
    text = "KING LEAR:\nNo, no.\n"
    f = td.text_features(text)
    assert f["in speaker name"].tolist() == [1.0] * 10 + [0.0] * 9
    assert f["position in line"][11:14].tolist() == [0, 1, 2]
    assert f["inside a word"][11:14].tolist() == [1.0, 1.0, 0.0]
    assert f["after a comma or stop"][13:16].tolist() == [1.0, 1.0, 0.0]


def test_unit_correlations_find_the_unit_that_tracks_a_feature(rng):
    feature = rng.standard_normal(200)
    hidden = rng.standard_normal((200, 4))
    hidden[:, 2] = 0.9 * feature + 0.1 * hidden[:, 2]
    hidden[:, 3] = 1.0          # a constant unit correlates with nothing
    corr = td.unit_correlations(hidden, feature)
    assert np.argmax(np.abs(corr)) == 2 and corr[2] > 0.99 and corr[3] == 0.0
    assert corr[2] == pytest.approx(np.corrcoef(hidden[:, 2], feature)[0, 1])
    with pytest.raises(ValueError, match="hidden must have shape"):
        td.unit_correlations(hidden, feature[:10])
