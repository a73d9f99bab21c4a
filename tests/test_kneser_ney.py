"""Interpolated modified Kneser-Ney smoothing for the character n-gram model, beside Witten-Bell."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from lessons_lib.models import ngram

#: Tiny texts over V = 4 characters whose count-of-counts give estimated (not fallback) discounts at some levels.
TINY_TEXTS = ("dabbadabbacabbacadcaddabbacabcdabbad", "abcabdabcaabdcbabcabcdabdabacabcdbbacd")


def encode(text: str) -> np.ndarray:
    return np.array(["abcd".index(ch) for ch in text], dtype=np.int64)


def reference_kneser_ney(ids, V: int, order: int):
    """``prob(c, h)``: interpolated modified Kneser-Ney written from Chen and Goodman (1999), with dictionaries.

    Slow on purpose and independent of the library: n-grams are tuples,
    counts are ``Counter``s, and the recursion and the discounts follow their
    section 3 term by term.  The longest context a query has uses raw
    counts, the shorter ones continuation counts; the fallback for degenerate
    count-of-counts is the one documented in :mod:`lessons_lib.models.ngram`.
    """
    ids = [int(c) for c in ids]
    raw = {m: Counter(tuple(ids[i:i + m]) for i in range(len(ids) - m + 1)) for m in range(1, order + 1)}

    def continuation(m: int) -> Counter:
        """N1+(. w) for every string w of m characters: each distinct (m + 1)-gram x w is one predecessor x."""
        return Counter(gram[1:] for gram in raw[m + 1])

    def discounts(counts: Counter) -> tuple:
        n = Counter(counts.values())
        n1, n2, n3, n4 = n[1], n[2], n[3], n[4]
        if n1 == 0 or n2 == 0 or n3 == 0:
            return (0.5, 1.0, 1.5)
        Y = n1 / (n1 + 2 * n2)
        D = (1 - 2 * Y * n2 / n1, 2 - 3 * Y * n3 / n2, 3 - 4 * Y * n4 / n3)
        if not (0 < D[0] <= 1 and 0 < D[1] <= 2 and 0 < D[2] <= 3):
            return (0.5, 1.0, 1.5)
        return D

    tables = {}
    for m in range(1, order + 1):
        tables[m, True] = raw[m]
        if m < order:
            tables[m, False] = continuation(m)
    discount_of = {key: discounts(counts) for key, counts in tables.items()}

    def prob(c: int, h: tuple, top: bool = True) -> float:
        h = tuple(int(x) for x in h)
        if len(h) > order - 1:              # only the last order - 1 characters count
            h = h[len(h) - (order - 1):]
        lower = prob(c, h[1:], top=False) if h else 1.0 / V
        counts = tables[len(h) + 1, top]
        D1, D2, D3 = discount_of[len(h) + 1, top]
        following = {gram[-1]: a for gram, a in counts.items() if gram[:-1] == h}
        total = sum(following.values())
        if total == 0:                      # an unseen context backs off fully
            return lower
        N1 = sum(1 for a in following.values() if a == 1)
        N2 = sum(1 for a in following.values() if a == 2)
        N3 = sum(1 for a in following.values() if a >= 3)
        gamma = (D1 * N1 + D2 * N2 + D3 * N3) / total
        a = following.get(c, 0)
        discounted = a - (0.0 if a == 0 else D1 if a == 1 else D2 if a == 2 else D3)
        return discounted / total + gamma * lower

    return prob


def test_unigram_discounts_and_probabilities_by_hand():
    ids = np.array([0, 1, 0, 1, 0, 2])      # unigram counts 3, 2, 1: n1 = n2 = n3 = 1, n4 = 0
    model = ngram.fit_ngram(ids, 3, 1, smoothing="kneser-ney")
    # Y = 1 / 3, D1 = 1 - 2 Y = 1/3, D2 = 2 - 3 Y = 1, D3+ = 3 - 0 = 3
    assert np.allclose(model.kn_raw[0].discounts, [1 / 3, 1, 3]) and not model.kn_raw[0].fallback
    # gamma = (1/3 + 1 + 3) / 6 = 13/18; P(c) = (C(c) - D(C(c))) / 6 + gamma / 3
    expected = np.array([3 - 3, 2 - 1, 1 - 1 / 3]) / 6 + 13 / 18 / 3
    assert np.allclose(expected, [13 / 54, 22 / 54, 19 / 54])
    assert np.allclose(ngram.ngram_distribution(model, np.array([], dtype=int)), expected, rtol=1e-14)


def test_lower_orders_use_continuation_counts():
    ids = encode("abababcab")                 # "b" follows "a" 4 times but only after one character, "a" or nothing
    model = ngram.fit_ngram(ids, 4, 3, smoothing="kneser-ney")
    # continuation counts of the bigrams, N1+(. x y): ab <- {b, c}, ba <- {a}, bc <- {a}, ca <- {b}
    bigrams = {(k // 4, k % 4): int(a) for k, a in zip(model.kn_continuation[1].joint_keys,
                                                          model.kn_continuation[1].joint_counts)}
    assert bigrams == {(0, 1): 2, (1, 0): 1, (1, 2): 1, (2, 0): 1}
    # of the unigrams, N1+(. y): a <- {b, c}, b <- {a}, c <- {b}; the first "a" has nothing before it
    assert dict(zip(model.kn_continuation[0].joint_keys.tolist(), model.kn_continuation[0].joint_counts.tolist())) \
        == {0: 2, 1: 1, 2: 1}
    # the highest order keeps the raw counts
    assert np.array_equal(model.kn_raw[2].joint_counts, model.joint_counts[2])


def test_discount_formula_and_its_fallbacks():
    n1, n2, n3, n4 = 10, 4, 2, 1
    Y = 10 / 18
    D, fallback = ngram.kneser_ney_discounts([n1, n2, n3, n4])
    assert not fallback and np.allclose(D, [1 - 2 * Y * 4 / 10, 2 - 3 * Y * 2 / 4, 3 - 4 * Y * 1 / 2], rtol=1e-14)
    for degenerate in ([0, 3, 1, 1], [5, 0, 1, 1], [5, 2, 0, 0], [0, 0, 0, 0],
                       [1, 1, 5, 0]):           # the last: D2 = 2 - 3 (1/3) 5 < 0
        D, fallback = ngram.kneser_ney_discounts(degenerate)
        assert fallback and np.array_equal(D, ngram.FALLBACK_DISCOUNTS)
    with pytest.raises(ValueError, match=r"count_of_counts must be 4 counts"):
        ngram.kneser_ney_discounts([1, 2, 3])


@pytest.mark.parametrize("text", TINY_TEXTS)
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_known_values_against_a_dictionary_reference(text, order):
    ids, V = encode(text), 4
    model = ngram.fit_ngram(ids, V, order, smoothing="kneser-ney")
    prob = reference_kneser_ney(ids, V, order)
    for k in range(order):                   # every context of every length, seen or not
        for h in itertools.product(range(V), repeat=k):
            expected = [prob(c, h) for c in range(V)]
            got = ngram.ngram_distribution(model, np.array(h, dtype=np.int64))
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0, err_msg=f"context {h}")


def test_the_tiny_texts_exercise_estimated_discounts_and_fallbacks():
    levels = []
    for text in TINY_TEXTS:
        model = ngram.fit_ngram(encode(text), 4, 4, smoothing="kneser-ney")
        levels += model.kn_raw + model.kn_continuation
    assert any(level.fallback for level in levels) and sum(not level.fallback for level in levels) >= 4


def contexts_to_check(train, V, order, rng):
    """Contexts of ``order - 1`` characters seen in ``train`` and never seen, and shorter ones down to the empty one.

    The last character, ``V - 1``, never occurs in ``train``, so a context
    that contains it is unseen at its own length (its shorter suffixes may
    be seen); the other unseen contexts are unseen combinations of seen characters.
    """
    k = order - 1
    seen_codes = {tuple(train[i:i + k]) for i in range(len(train) - k)}   # contexts followed by a character
    seen = [train[i:i + k] for i in rng.integers(0, len(train) - k, 5)]
    with_unseen_char = [np.concatenate([[V - 1], train[i:i + k - 1]]) for i in rng.integers(0, 100, 3)] if k else []
    unseen = [c for c in (rng.integers(0, V - 1, k) for _ in range(300)) if tuple(c) not in seen_codes][:3]
    shorter = [train[5:5 + j] for j in range(k)] + [rng.integers(0, V, j) for j in range(k)]
    return seen, with_unseen_char + unseen, shorter


@pytest.mark.parametrize("smoothing", ngram.SMOOTHINGS)
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_distributions_sum_to_one_and_are_positive(order, smoothing, rng):
    V = 5
    train = rng.integers(0, V - 1, 400)          # the character V - 1 is never seen
    model = ngram.fit_ngram(train, V, order, smoothing=smoothing)
    seen, unseen, shorter = contexts_to_check(train, V, order, rng)
    assert len(seen) == 5 and len(unseen) == (0 if order == 1 else 6 if order >= 5 else 3)
    for context in seen + unseen + shorter:
        dist = ngram.ngram_distribution(model, np.asarray(context, dtype=np.int64))
        assert dist.shape == (V,) and abs(dist.sum() - 1.0) < 1e-12 and np.all(dist > 0), context


@pytest.mark.parametrize("smoothing", ngram.SMOOTHINGS)
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_probabilities_of_a_text_agree_with_the_distributions(order, smoothing, rng):
    V = 5
    model = ngram.fit_ngram(rng.integers(0, V, 400), V, order, smoothing=smoothing)
    test = rng.integers(0, V, 40)
    p = ngram.ngram_probabilities(model, test)
    picked = [ngram.ngram_distribution(model, test[max(0, t + 2 - order):t + 1])[test[t + 1]]
              for t in range(len(test) - 1)]     # the first order - 2 steps have shorter contexts
    np.testing.assert_allclose(p, picked, rtol=1e-12, atol=0)
    assert ngram.ngram_cross_entropy(model, test) == pytest.approx(-np.mean(np.log(picked)), rel=1e-12)


def test_a_short_context_is_scored_like_a_model_of_that_smaller_order(rng):
    V = 4
    train = rng.integers(0, V, 300)
    five = ngram.fit_ngram(train, V, 5, smoothing="kneser-ney")
    for k in range(4):
        smaller = ngram.fit_ngram(train, V, k + 1, smoothing="kneser-ney")
        context = train[10:10 + k]
        np.testing.assert_allclose(ngram.ngram_distribution(five, context),
                                   ngram.ngram_distribution(smaller, context), rtol=1e-12, atol=0)


def test_witten_bell_is_the_default_and_the_smoothing_is_stored(rng):
    train, test = rng.integers(0, 5, 300), rng.integers(0, 5, 50)
    default = ngram.fit_ngram(train, 5, 3)
    wb = ngram.fit_ngram(train, 5, 3, smoothing="witten-bell")
    kn = ngram.fit_ngram(train, 5, 3, smoothing="kneser-ney")
    assert default.smoothing == wb.smoothing == "witten-bell" and kn.smoothing == "kneser-ney"
    assert default.kn_raw == () and len(kn.kn_raw) == 3 and len(kn.kn_continuation) == 2
    assert np.array_equal(ngram.ngram_probabilities(default, test), ngram.ngram_probabilities(wb, test))
    assert not np.allclose(ngram.ngram_probabilities(kn, test), ngram.ngram_probabilities(wb, test))


DEGENERATE = [(ids, V, order) for ids, V in [([0, 0, 0, 0], 2), ([0, 1], 3), ([2] * 8, 3), ([0, 1, 2, 3], 4)]
              for order in range(1, 5) if order <= len(ids)]


@pytest.mark.parametrize("ids, V, order", DEGENERATE)
def test_degenerate_count_of_counts_fall_back_without_nan(ids, V, order):
    ids = np.array(ids)
    model = ngram.fit_ngram(ids, V, order, smoothing="kneser-ney")   # warnings are errors in this suite
    assert all(level.fallback for level in model.kn_raw + model.kn_continuation)
    for h in itertools.product(range(V), repeat=order - 1):
        dist = ngram.ngram_distribution(model, np.array(h, dtype=np.int64))
        assert np.all(np.isfinite(dist)) and np.all(dist > 0) and abs(dist.sum() - 1) < 1e-12
    assert np.isfinite(ngram.ngram_cross_entropy(model, np.array([0, 1, 0, 1, 1]) % V))


def test_generation_with_kneser_ney():
    ids = np.tile(np.array([0, 1, 2, 3]), 50)
    model = ngram.fit_ngram(ids, 4, 3, smoothing="kneser-ney")
    a = ngram.ngram_generate(model, np.array([0, 1]), 10, np.random.default_rng(0))
    b = ngram.ngram_generate(model, np.array([0, 1]), 10, np.random.default_rng(0))
    assert np.array_equal(a, b) and len(a) == 12 and a.max() < 4
    cold = ngram.ngram_generate(model, np.array([0]), 7, np.random.default_rng(1), temperature=0.05)
    assert cold.tolist() == [0, 1, 2, 3, 0, 1, 2, 3]


@pytest.fixture(scope="module")
def shakespeare():
    """The training plays and the first 30 000 predictions of the unseen play, encoded as chapter 6 does."""
    from lessons_lib.models.char_model import Vocabulary
    from lessons_lib.tasks import text_data

    train_text = text_data.load_shakespeare(text_data.TRAIN_PLAYS)
    held_out_text = text_data.load_shakespeare(text_data.HELD_OUT_PLAY)
    vocab = Vocabulary.from_text(train_text + held_out_text)
    return vocab.encode(train_text), vocab.encode(held_out_text)[:30_001], vocab.size


def test_kneser_ney_beats_witten_bell_on_an_unseen_play(shakespeare):
    train, held_out, V = shakespeare
    bpc = {s: ngram.ngram_cross_entropy(ngram.fit_ngram(train, V, 5, smoothing=s), held_out) / np.log(2)
           for s in ngram.SMOOTHINGS}
    # measured: Witten-Bell 2.687, Kneser-Ney 2.404 bits per character
    assert bpc["kneser-ney"] < bpc["witten-bell"] - 0.2
    assert 2.2 < bpc["kneser-ney"] < 2.6


def test_errors():
    with pytest.raises(ValueError, match=r"smoothing must be one of \('witten-bell', 'kneser-ney'\), got 'kneser'"):
        ngram.fit_ngram(np.array([0, 1]), 2, 1, smoothing="kneser")
    with pytest.raises(TypeError, match="smoothing must be a string"):
        ngram.fit_ngram(np.array([0, 1]), 2, 1, smoothing=None)
