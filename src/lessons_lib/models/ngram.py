"""A character n-gram model, Witten-Bell or modified Kneser-Ney smoothed: the baseline a character RNN must beat.

An n-gram model predicts the next character from the previous ``n - 1``
characters only, by counting how often each continuation followed that
context in the training text.  Raw counts give zero probability to anything
unseen, so the estimate of order ``k`` is blended with the one of order
``k - 1``.  Two ways of blending are implemented; :func:`fit_ngram` chooses
one with ``smoothing`` and stores it in the model, and every other function
follows the model.

**Witten-Bell** (``smoothing="witten-bell"``, the default; Witten and Bell
1991; Chen and Goodman 1999, section 2.5)::

    P_k(c | h) = (C(h c) + u(h) P_{k-1}(c | h')) / (C(h) + u(h))

where ``h`` is the context of ``k - 1`` characters, ``h'`` the same context
without its oldest character, ``C`` counts occurrences in the training text
and ``u(h)`` is the number of *distinct* characters seen after ``h``.  A
context seen often with few different continuations trusts its own counts; a
rare one leans on the shorter context.  An unseen context uses ``P_{k-1}``
alone.  The recursion ends at ``P_0(c) = 1 / V``, uniform over the
vocabulary, so every character has a probability above zero.

**Interpolated modified Kneser-Ney** (``smoothing="kneser-ney"``; Kneser and
Ney 1995; Chen and Goodman 1998 and 1999, section 3) subtracts a fixed
discount from every count and gives the mass it frees to the shorter
context::

    P_k(c | h) = (a(h c) - D(a(h c))) / a(h) + gamma(h) P_{k-1}(c | h')

    gamma(h) = (D1 N1(h .) + D2 N2(h .) + D3+ N3+(h .)) / a(h)

where ``a(h) = sum_c a(h c)``, ``N_r(h .)`` is the number of characters ``c``
with ``a(h c) = r`` (``N3+`` those with 3 or more), and the discount depends
on the count: ``D(0) = 0``, ``D(1) = D1``, ``D(2) = D2``, ``D(r) = D3+`` for
``r >= 3``.  The counts ``a`` differ between the levels:

- the longest context, ``n - 1`` characters, uses the raw counts,
  ``a(h c) = C(h c)``;
- every shorter context uses **continuation counts**,
  ``a(h c) = N1+(. h c)``, the number of distinct characters seen *before*
  the string ``h c``.  A shorter context is only consulted when the longer
  one says little, so it should predict in how many different contexts a
  continuation occurs, not how often (Chen and Goodman's example: "Francisco"
  is frequent, but after "San" only).  Strings at the very start of the
  text, with nothing before them, are not counted.

Each level has its own three discounts, estimated from its count-of-counts
``n_r``, the number of strings ``h c`` of that level with ``a(h c) = r``
(Chen and Goodman, section 3)::

    Y = n1 / (n1 + 2 n2),  D1 = 1 - 2 Y n2 / n1,  D2 = 2 - 3 Y n3 / n2,  D3+ = 3 - 4 Y n4 / n3

As with Witten-Bell, a context never seen (``a(h) = 0``) uses ``P_{k-1}``
alone and the recursion ends at ``P_0(c) = 1 / V``.  A prediction that has
fewer than ``n - 1`` characters before it (the first characters of a text,
a short start for :func:`ngram_generate`) uses raw counts at the longest
context it has, so it gets what a model of that smaller order would give.

*Degenerate count-of-counts.*  On tiny or artificial texts some ``n_r``
(``r = 1, 2, 3``) can be 0, making the formulas divide by zero, or a discount
can leave the range ``0 < D_r <= r`` (a discount of 0 would give a context
that has only such counts no mass to pass down, hence zero probabilities; a
discount above ``r`` a negative one).  Then that level falls back to the
discounts ``D1, D2, D3+ = 0.5, 1, 1.5`` as a whole, as KenLM's ``lmplz
--discount_fallback`` does, and records it in
:attr:`KneserNeyLevel.fallback`.  With ``0 < D_r <= r`` every probability is
above zero and every distribution sums to one.  Real text falls back too,
at the single characters: in the million characters of the training plays
each of the 63 characters occurs many times (``n1 = 0`` for the raw counts)
and follows many others (``n3 = 0`` for the continuation counts).

Counting is vectorised: a context of ``k`` characters is one integer,
``sum_j c_j V^j``, and ``np.unique`` counts them all at once.  The
continuation counts of the strings of ``k + 1`` characters are the number of
distinct strings of ``k + 2`` characters that end in them: the codes of the
longer strings modulo ``V^(k + 1)``, counted with ``np.unique`` again.

References: I. H. Witten and T. C. Bell, "The zero-frequency problem", IEEE
Trans. Information Theory 37(4), 1991; R. Kneser and H. Ney, "Improved
backing-off for m-gram language modeling", ICASSP 1995; S. F. Chen and
J. Goodman, "An empirical study of smoothing techniques for language
modeling", Computer Speech and Language 13, 1999 (Harvard TR-10-98, 1998);
K. Heafield et al., "Scalable modified Kneser-Ney language model
estimation", ACL 2013 (KenLM, for the fallback discounts).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..training.losses import softmax
from ..validation import check_choice

#: The smoothing methods :func:`fit_ngram` accepts.
SMOOTHINGS = ("witten-bell", "kneser-ney")
#: The discounts D1, D2, D3+ a Kneser-Ney level uses when its count-of-counts cannot give them (KenLM's default).
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)


class KneserNeyLevel(NamedTuple):
    """The Kneser-Ney statistics of one context length ``k``: counts ``a(h c)`` and their discounts."""

    joint_keys: np.ndarray      #: sorted codes of the strings ``h c`` with ``a(h c) > 0``
    joint_counts: np.ndarray    #: ``a(h c)``: raw counts ``C(h c)`` or continuation counts ``N1+(. h c)``
    context_keys: np.ndarray    #: sorted codes of the contexts ``h`` with ``a(h) > 0``
    context_totals: np.ndarray  #: ``a(h) = sum_c a(h c)``
    context_backoff: np.ndarray  #: ``D1 N1(h .) + D2 N2(h .) + D3+ N3+(h .)``, so ``gamma(h)`` is this over ``a(h)``
    count_of_counts: np.ndarray  #: ``(n1, n2, n3, n4)``, how many strings ``h c`` have ``a(h c) = 1, 2, 3, 4``
    discounts: np.ndarray       #: ``(D1, D2, D3+)``
    fallback: bool              #: True if the count-of-counts were degenerate and FALLBACK_DISCOUNTS are used


class NGramModel(NamedTuple):
    """The counts of an n-gram model, one entry per context length ``k = 0 .. order - 1``."""

    order: int         #: n, so that the model looks at ``n - 1`` previous characters
    V: int             #: vocabulary size
    joint_keys: list   #: per k, the sorted integer codes of the (context, next character) pairs seen
    joint_counts: list  #: per k, how often each pair was seen, C(h c)
    context_keys: list  #: per k, the sorted integer codes of the contexts seen
    context_counts: list  #: per k, C(h), how often each context was followed by a character
    context_types: list  #: per k, u(h), how many distinct characters followed it
    smoothing: str = "witten-bell"  #: one of SMOOTHINGS
    kn_raw: tuple = ()  #: for Kneser-Ney only, per k, a KneserNeyLevel of the raw counts (the longest context used)
    kn_continuation: tuple = ()  #: for Kneser-Ney only, per k < order - 1, a KneserNeyLevel of continuation counts


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


def kneser_ney_discounts(count_of_counts) -> tuple[np.ndarray, bool]:
    """Modified Kneser-Ney discounts ``(D1, D2, D3+)`` from ``(n1, n2, n3, n4)``, and whether they fell back.

    Chen and Goodman (1999), section 3::

        Y = n1 / (n1 + 2 n2),  D_r = r - (r + 1) Y n_{r+1} / n_r  for r = 1, 2, 3

    If ``n1``, ``n2`` or ``n3`` is 0, or a discount leaves ``0 < D_r <= r``,
    all three are replaced by :data:`FALLBACK_DISCOUNTS` and the flag is True.
    """
    n = np.asarray(count_of_counts, dtype=np.float64)
    if n.shape != (4,) or np.any(n < 0):
        raise ValueError(f"count_of_counts must be 4 counts (n1, n2, n3, n4) >= 0, got {count_of_counts!r}")
    if np.any(n[:3] == 0):  # the formulas would divide by zero
        return np.array(FALLBACK_DISCOUNTS), True
    y = n[0] / (n[0] + 2 * n[1])
    r = np.arange(1, 4)
    discounts = r - (r + 1) * y * n[1:] / n[:3]
    if np.any(discounts <= 0) or np.any(discounts > r):
        return np.array(FALLBACK_DISCOUNTS), True
    return discounts, False


def _discount(counts: np.ndarray, discounts: np.ndarray) -> np.ndarray:
    """``D(a)`` for every count: 0, D1, D2 or D3+ for a count of 0, 1, 2 or 3 and more."""
    return np.concatenate([[0.0], discounts])[np.minimum(counts, 3)]


def _kneser_ney_level(keys: np.ndarray, counts: np.ndarray, V: int) -> KneserNeyLevel:
    """The statistics of one level from the sorted codes ``keys`` of the strings ``h c`` and their counts ``a``."""
    count_of_counts = np.bincount(np.minimum(counts, 5), minlength=6)[1:5]
    discounts, fallback = kneser_ney_discounts(count_of_counts)
    # keys are sorted, so keys // V is too and np.unique keeps each context's strings together.
    context_keys, which = np.unique(keys // V, return_inverse=True)
    totals = np.bincount(which, weights=counts, minlength=context_keys.size).astype(np.int64)
    backoff = np.bincount(which, weights=_discount(counts, discounts), minlength=context_keys.size)
    return KneserNeyLevel(keys, counts, context_keys, totals, backoff, count_of_counts, discounts, fallback)


def fit_ngram(ids, V: int, order: int, smoothing: str = "witten-bell") -> NGramModel:
    """Count every context of up to ``order - 1`` characters in the training text ``ids``.

    Parameters
    ----------
    ids : array of int, shape (L,)
        The training text as character indices in ``0 .. V - 1``, with
        ``L >= order``.
    V : int
        The vocabulary size.
    order : int
        ``n >= 1``: the model predicts from the previous ``n - 1`` characters.
    smoothing : {"witten-bell", "kneser-ney"}
        How each order is blended with the shorter ones (see the module
        docstring): Witten-Bell interpolation, or interpolated modified
        Kneser-Ney with three discounts per order.

    Returns
    -------
    NGramModel
        The counts, with ``smoothing`` stored so that
        :func:`ngram_probabilities`, :func:`ngram_cross_entropy`,
        :func:`ngram_distribution` and :func:`ngram_generate` use it.
        For Kneser-Ney, ``kn_raw[k]`` and ``kn_continuation[k]`` hold the
        counts, discounts and interpolation weights of context length ``k``.
    """
    smoothing = check_choice("smoothing", smoothing, SMOOTHINGS)
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
    kn_raw, kn_continuation = (), ()
    if smoothing == "kneser-ney":
        kn_raw = tuple(_kneser_ney_level(joint_keys[k], joint_counts[k], V) for k in range(order))
        continuation = []
        for k in range(order - 1):
            # A string of k + 1 characters is the last k + 1 digits of the codes of the k + 2 character strings
            # that end in it; each distinct longer string is one distinct character before it.
            keys, counts = np.unique(joint_keys[k + 1] % V ** (k + 1), return_counts=True)
            continuation.append(_kneser_ney_level(keys, counts, V))
        kn_continuation = tuple(continuation)
    return NGramModel(int(order), int(V), joint_keys, joint_counts, context_keys, context_counts, context_types,
                      smoothing, kn_raw, kn_continuation)


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``values`` at the positions of ``queries`` in the sorted ``keys``; 0 where a query is absent."""
    if keys.size == 0:
        return np.zeros(queries.shape, dtype=values.dtype)
    pos = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
    return np.where(keys[pos] == queries, values[pos], 0)


def _interpolate(model: NGramModel, contexts: list, nexts: np.ndarray) -> np.ndarray:
    """``P_order(next | context)`` for many pairs at once.

    ``contexts[k]`` holds the code of each pair's last ``k`` characters, or -1
    where the pair has fewer than ``k`` characters of context (it then keeps
    the estimate of the shorter context).
    """
    if check_choice("model.smoothing", model.smoothing, SMOOTHINGS) == "kneser-ney":
        return _interpolate_kneser_ney(model, contexts, nexts)
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


def _kneser_ney_step(level: KneserNeyLevel, code: np.ndarray, nexts: np.ndarray, V: int,
                     p_lower: np.ndarray) -> np.ndarray:
    """``P_k(next | h)`` from ``P_{k-1}``, for the context codes ``code``; ``P_{k-1}`` where ``a(h) = 0``."""
    total = _lookup(level.context_keys, level.context_totals, code)
    backoff = _lookup(level.context_keys, level.context_backoff, code)
    a = _lookup(level.joint_keys, level.joint_counts, code * V + nexts)
    # np.maximum only keeps the division quiet where total = 0; np.where then takes p_lower there.
    return np.where(total > 0, (a - _discount(a, level.discounts) + backoff * p_lower) / np.maximum(total, 1),
                    p_lower)


def _interpolate_kneser_ney(model: NGramModel, contexts: list, nexts: np.ndarray) -> np.ndarray:
    """:func:`_interpolate` for Kneser-Ney: continuation counts below each pair's longest context, raw counts at it."""
    p = np.full(nexts.shape, 1.0 / model.V)
    for k, ctx in enumerate(contexts):
        have = ctx >= 0
        code = np.where(have, ctx, 0)
        longest = have if k + 1 == len(contexts) else have & (contexts[k + 1] < 0)
        # Nearly always every pair has the same longest context (all but the first order - 2 of a text):
        # look up the second kind of counts only where some pair needs it.
        if k + 1 == model.order or np.all(longest[have]):
            p = np.where(have, _kneser_ney_step(model.kn_raw[k], code, nexts, model.V, p), p)
            continue
        lower = np.where(have, _kneser_ney_step(model.kn_continuation[k], code, nexts, model.V, p), p)
        if np.any(longest):
            lower = np.where(longest, _kneser_ney_step(model.kn_raw[k], code, nexts, model.V, p), lower)
        p = lower
    return p


def ngram_probabilities(model: NGramModel, ids) -> np.ndarray:
    """Probability of ``ids[t + 1]`` given ``ids[: t + 1]`` for every t: an array of ``len(ids) - 1`` numbers.

    Positions near the start, with fewer than ``order - 1`` characters before
    them, use the longest context they have (with Kneser-Ney, raw counts at
    that context, as a model of the smaller order would).
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
