"""A character n-gram model with Witten-Bell interpolation: the baseline a character RNN must beat.

An n-gram model predicts the next character from the previous ``n - 1``
characters only, by counting how often each continuation followed that
context in the training text.  Raw counts give zero probability to anything
unseen, so the estimate of order ``k`` is blended with the one of order
``k - 1`` (Witten and Bell 1991; Chen and Goodman 1999, section 2.5)::

    P_k(c | h) = (C(h c) + u(h) P_{k-1}(c | h')) / (C(h) + u(h))

where ``h`` is the context of ``k - 1`` characters, ``h'`` the same context
without its oldest character, ``C`` counts occurrences in the training text
and ``u(h)`` is the number of *distinct* characters seen after ``h``.  A
context seen often with few different continuations trusts its own counts; a
rare one leans on the shorter context.  An unseen context uses ``P_{k-1}``
alone.  The recursion ends at ``P_0(c) = 1 / V``, uniform over the
vocabulary, so every character has a probability above zero.

Counting is vectorised: a context of ``k`` characters is one integer,
``sum_j c_j V^j``, and ``np.unique`` counts them all at once.

References: I. H. Witten and T. C. Bell, "The zero-frequency problem", IEEE
Trans. Information Theory 37(4), 1991; S. F. Chen and J. Goodman, "An
empirical study of smoothing techniques for language modeling", Computer
Speech and Language 13, 1999.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..training.losses import softmax


class NGramModel(NamedTuple):
    """The counts of an n-gram model, one entry per context length ``k = 0 .. order - 1``."""

    order: int         #: n, so that the model looks at ``n - 1`` previous characters
    V: int             #: vocabulary size
    joint_keys: list   #: per k, the sorted integer codes of the (context, next character) pairs seen
    joint_counts: list  #: per k, how often each pair was seen, C(h c)
    context_keys: list  #: per k, the sorted integer codes of the contexts seen
    context_counts: list  #: per k, C(h), how often each context was followed by a character
    context_types: list  #: per k, u(h), how many distinct characters followed it


def _check_ids(name: str, ids, V: int) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a 1-D array of integer character indices, got {ids.dtype} {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{name} must lie in 0 .. {V - 1}, got values from {ids.min()} to {ids.max()}")
    return ids.astype(np.int64)


def _context_codes(ids: np.ndarray, k: int, V: int) -> np.ndarray:
    """Code of the ``k`` characters before each position ``t >= k``: an array of ``len(ids) - k`` ints."""
    L = len(ids)
    code = np.zeros(L - k, dtype=np.int64)
    for j in range(k):  # k is small (the order); the work per j is vectorised over the text
        code = code * V + ids[j:L - k + j]
    return code


def fit_ngram(ids, V: int, order: int) -> NGramModel:
    """Count every context of up to ``order - 1`` characters in the training text ``ids``."""
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be a positive int, got {order!r}")
    if V ** max(order - 1, 1) * V >= 2 ** 62:
        raise ValueError(f"order {order} with V = {V} is too large for 64-bit context codes")
    ids = _check_ids("ids", ids, V)
    if len(ids) < order:
        raise ValueError(f"the training text must have at least order = {order} characters, got {len(ids)}")
    joint_keys, joint_counts, context_keys, context_counts, context_types = [], [], [], [], []
    for k in range(order):
        ctx = _context_codes(ids, k, V)
        joint = ctx * V + ids[k:]
        keys, counts = np.unique(joint, return_counts=True)
        ctx_keys, ctx_counts = np.unique(ctx, return_counts=True)
        _, types = np.unique(keys // V, return_counts=True)  # distinct continuations per context, same order
        joint_keys.append(keys), joint_counts.append(counts)
        context_keys.append(ctx_keys), context_counts.append(ctx_counts), context_types.append(types)
    return NGramModel(int(order), int(V), joint_keys, joint_counts, context_keys, context_counts, context_types)


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``values`` at the positions of ``queries`` in the sorted ``keys``; 0 where a query is absent."""
    if keys.size == 0:
        return np.zeros(queries.shape, dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
    return np.where(keys[pos] == queries, values[pos], 0)


def _interpolate(model: NGramModel, contexts: list, nexts: np.ndarray) -> np.ndarray:
    """``P_order(next | context)`` for many pairs at once.

    ``contexts[k]`` holds the code of each pair's last ``k`` characters, or -1
    where the pair has fewer than ``k`` characters of context (it then keeps
    the estimate of the shorter context).
    """
    p = np.full(nexts.shape, 1.0 / model.V)
    for k, ctx in enumerate(contexts):
        have = ctx >= 0
        code = np.where(have, ctx, 0)
        c_joint = _lookup(model.joint_keys[k], model.joint_counts[k], code * model.V + nexts)
        c_ctx = _lookup(model.context_keys[k], model.context_counts[k], code)
        u = _lookup(model.context_keys[k], model.context_types[k], code)
        use = have & (c_ctx > 0)
        p = np.where(use, (c_joint + u * p) / np.maximum(c_ctx + u, 1), p)
    return p


def ngram_probabilities(model: NGramModel, ids) -> np.ndarray:
    """Probability of ``ids[t + 1]`` given ``ids[: t + 1]`` for every t: an array of ``len(ids) - 1`` numbers.

    Positions near the start, with fewer than ``order - 1`` characters before
    them, use the longest context they have.
    """
    ids = _check_ids("ids", ids, model.V)
    L = len(ids)
    contexts = []
    for k in range(min(model.order, L)):
        # Target i (the character ids[i + 1]) has the context ids[i + 1 - k : i + 1], if i + 1 >= k.
        ctx = np.full(L - 1, -1, dtype=np.int64)
        ctx[max(k - 1, 0):] = _context_codes(ids, k, model.V)[1 if k == 0 else 0:]
        contexts.append(ctx)
    return _interpolate(model, contexts, ids[1:])


def ngram_cross_entropy(model: NGramModel, ids) -> float:
    """Mean ``-log P(next character)`` over the text ``ids``, in nats per character."""
    return float(-np.mean(np.log(ngram_probabilities(model, ids))))


def ngram_distribution(model: NGramModel, context) -> np.ndarray:
    """The model's distribution of the next character after ``context`` (1-D ints): an array of ``V`` probabilities."""
    context = _check_ids("context", context, model.V)
    contexts = []
    for k in range(model.order):
        code = -1
        if k <= len(context):
            code = 0
            for c in context[len(context) - k:]:
                code = code * model.V + int(c)
        contexts.append(np.full(model.V, code, dtype=np.int64))
    return _interpolate(model, contexts, np.arange(model.V))


def ngram_generate(model: NGramModel, start_ids, length: int, rng: np.random.Generator,
                   temperature: float = 1.0) -> np.ndarray:
    """Sample ``length`` characters after ``start_ids``; returns all indices, the start included.

    ``temperature`` rescales the log-probabilities as for the RNN
    (:func:`lessons_lib.models.char_model.generate`); 1 samples the model as it is.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    ids = list(_check_ids("start_ids", start_ids, model.V))
    for _ in range(length):
        p = ngram_distribution(model, np.array(ids[-(model.order - 1):] if model.order > 1 else [], dtype=np.int64))
        if temperature != 1.0:
            p = softmax(np.log(p) / temperature)
        ids.append(int(rng.choice(model.V, p=p / p.sum())))
    return np.array(ids, dtype=np.int64)
