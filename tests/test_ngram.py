"""The Witten-Bell character n-gram baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessons_lib.models import ngram


def test_unigram_interpolates_counts_with_the_uniform_distribution():
    ids = np.array([0, 0, 0, 1])            # V = 3: the character 2 never occurs
    model = ngram.fit_ngram(ids, 3, order=1)
    # C = 4 characters, u = 2 distinct: P(c) = (C(c) + 2 / 3) / (4 + 2)
    expected = (np.array([3, 1, 0]) + 2 / 3) / 6
    assert np.allclose(ngram.ngram_distribution(model, np.array([], dtype=int)), expected)
    assert np.allclose(ngram.ngram_probabilities(model, np.array([2, 0, 1])), expected[[0, 1]])


def test_bigram_by_hand():
    ids = np.array([0, 1, 0, 1, 0, 2])      # after 0: 1, 1, 2; after 1: 0, 0
    model = ngram.fit_ngram(ids, 3, order=2)
    uni = (np.array([3, 2, 1]) + 3 * (1 / 3)) / (6 + 3)   # the unigram counts all 6 characters
    after0 = (np.array([0, 2, 1]) + 2 * uni) / (3 + 2)
    after2 = uni                                            # "2" is never followed by anything: back off
    assert np.allclose(ngram.ngram_distribution(model, np.array([0])), after0)
    assert np.allclose(ngram.ngram_distribution(model, np.array([2])), after2)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_distributions_sum_to_one_and_agree_with_the_probabilities_of_a_text(order, rng):
    V = 5
    ids = rng.integers(0, V, 300)
    model = ngram.fit_ngram(ids, V, order)
    test = rng.integers(0, V, 40)
    p = ngram.ngram_probabilities(model, test)
    for t in range(len(test) - 1):
        dist = ngram.ngram_distribution(model, test[max(0, t + 2 - order):t + 1])
        assert dist.sum() == pytest.approx(1.0) and np.all(dist > 0)
        assert dist[test[t + 1]] == pytest.approx(p[t], rel=1e-12)


def test_a_deterministic_text_becomes_nearly_certain_and_orders_help():
    ids = np.tile(np.array([0, 1, 2, 0, 3]), 200)     # after 0 comes 1 or 3: a bigram cannot tell, a trigram can
    nats = [ngram.ngram_cross_entropy(ngram.fit_ngram(ids, 4, k), ids[:200]) for k in (1, 2, 3)]
    assert nats[0] > nats[1] > nats[2] and nats[2] < 0.02
    assert nats[1] == pytest.approx(2 / 5 * math.log(2), abs=0.02)   # two of five steps are coin flips


def test_generation_is_reproducible_and_stays_in_the_vocabulary():
    ids = np.tile(np.array([0, 1, 2, 3]), 50)
    model = ngram.fit_ngram(ids, 4, 3)
    a = ngram.ngram_generate(model, np.array([0, 1]), 10, np.random.default_rng(0))
    b = ngram.ngram_generate(model, np.array([0, 1]), 10, np.random.default_rng(0))
    assert np.array_equal(a, b) and len(a) == 12 and a.max() < 4
    cold = ngram.ngram_generate(model, np.array([0, 1]), 6, np.random.default_rng(1), temperature=0.05)
    assert cold.tolist() == [0, 1, 2, 3, 0, 1, 2, 3]


def test_errors():
    with pytest.raises(ValueError, match="order must be a positive int"):
        ngram.fit_ngram(np.array([0, 1]), 2, 0)
    with pytest.raises(ValueError, match=r"ids must lie in 0 \.\. 1"):
        ngram.fit_ngram(np.array([0, 2]), 2, 1)
    with pytest.raises(TypeError, match="integer character indices"):
        ngram.fit_ngram(np.array([0.0, 1.0]), 2, 1)
    with pytest.raises(ValueError, match="at least order"):
        ngram.fit_ngram(np.array([0]), 2, 3)
    with pytest.raises(TypeError, match="rng"):
        ngram.ngram_generate(ngram.fit_ngram(np.array([0, 1]), 2, 1), np.array([0]), 2, rng=None)
