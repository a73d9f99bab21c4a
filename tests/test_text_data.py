"""The Shakespeare corpus, batches for truncated BPTT, evaluation, sampling and the hidden-unit probes."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib import rel_error
from lessons_lib.tasks import text_data as td
from lessons_lib.models.char_model import Chunk, Vocabulary, char_model_forward, char_model_loss, char_model_step, generate, init_char_model
from lessons_lib.training.losses import cross_entropy_per_token
from lessons_lib.training.loop import train

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


def test_evaluate_text_scores_every_character_of_each_stream_once(rng):
    V = 6
    model = init_char_model("lstm", V, 3, rng)
    ids = rng.integers(0, V, 4 * 9 + 1)
    nats = td.evaluate_text("lstm", model, ids, N=4, T=3)
    L = (len(ids) - 1) // 4
    out, _ = char_model_forward("lstm", model, ids[:4 * L].reshape(4, L))
    expected = cross_entropy_per_token(out.scores, ids[1:4 * L + 1].reshape(4, L)).mean()
    assert nats == pytest.approx(expected, rel=1e-12)


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
