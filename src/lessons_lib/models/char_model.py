"""A character-level language model: one-hot characters in, a cell, a linear read-out, softmax.

This is the model of Karpathy's "hello" example (chapter 1, Figure 1)::

    x_t = onehot(c_t)                      (V,)   the t-th character
    h_t = cell(x_t, h_{t-1})               (H,)   an RNN, LSTM or GRU
    y_t = W_y h_t + b_y                    (V,)   a score per character
    L   = mean_t  -log softmax(y_t)[c_{t+1}]      predict the next character

The model's parameters are one flat dict: the cell's ``W_x``, ``W_h``,
``b_x``, ``b_h`` (and a peephole LSTM's ``p_i``, ``p_f``, ``p_o``) and the
read-out's ``W_y`` ``(V, H)`` and ``b_y`` ``(V,)``.  The cell's keyword
options (``variant=`` for an LSTM, ``reset=``, ``update=`` for a GRU) pass
through ``**options`` to :func:`~lessons_lib.cells.dispatch.sequence_forward`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..cells.dispatch import cell_params, sequence_backward, sequence_forward, zero_state
from ..cells.initialisation import init_params
from ..training.loop import repeat, train
from ..training.losses import softmax, softmax_cross_entropy
from ..training.readout import readout_backward, readout_forward
from ..validation import check_kind

CELL_KEYS = ("W_x", "W_h", "b_x", "b_h")


class Vocabulary(NamedTuple):
    """The characters a model knows, in a fixed order; index ``k`` is ``chars[k]``."""

    chars: tuple  #: the characters, in index order

    @classmethod
    def from_text(cls, text: str) -> "Vocabulary":
        """The distinct characters of ``text`` in order of first appearance ("hello" gives h, e, l, o)."""
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty string")
        return cls(tuple(dict.fromkeys(text)))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Indices of the characters of ``text``."""
        lookup = {c: k for k, c in enumerate(self.chars)}
        unknown = sorted(set(text) - set(lookup))
        if unknown:
            raise ValueError(f"characters {unknown} are not in the vocabulary {self.chars}")
        return np.array([lookup[c] for c in text], dtype=np.int64)

    def decode(self, indices) -> str:
        """The characters at ``indices``."""
        return "".join(self.chars[int(k)] for k in np.ravel(indices))


def one_hot(indices, V: int, dtype=np.float64) -> np.ndarray:
    """One-hot vectors: integer array of any shape ``S`` to ``S + (V,)``."""
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"indices must be integers, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= V):
        raise ValueError(f"indices must lie in 0 .. {V - 1}, got values from {indices.min()} to {indices.max()}")
    return (indices[..., None] == np.arange(V)).astype(dtype)


def init_char_model(kind, V: int, H: int, rng: np.random.Generator, **init_options) -> dict:
    """Random parameters of a character model: a cell with ``D = V`` inputs and a read-out of ``V`` scores."""
    kind = check_kind(kind)
    model = init_params(kind, V, H, rng, **init_options)
    k = 1.0 / np.sqrt(H)
    model["W_y"] = rng.uniform(-k, k, (V, H)).astype(model["W_x"].dtype)
    model["b_y"] = np.zeros(V, dtype=model["W_x"].dtype)
    return model


class CharModelOutput(NamedTuple):
    """Everything a forward pass of the character model computes."""

    hidden: np.ndarray  #: (N, T, H) hidden states
    scores: np.ndarray  #: (N, T, V) read-out scores y_t
    probs: np.ndarray   #: (N, T, V) softmax of the scores, the predicted next-character distribution
    state: object       #: final state of the cell


def char_model_forward(kind, model: dict, inputs, state0=None, lengths=None, **options):
    """Run the model on integer character sequences ``inputs`` of shape (N, T).

    Returns a :class:`CharModelOutput` and the cell's cache.
    """
    inputs = np.asarray(inputs)
    if inputs.ndim != 2:
        raise ValueError(f"inputs must have shape (N, T) of character indices, got {inputs.shape}")
    V, H = model["W_y"].shape
    N = inputs.shape[0]
    x = one_hot(inputs, V, model["W_x"].dtype)                          # (N, T, V)
    state0 = zero_state(kind, N, H, model["W_x"].dtype) if state0 is None else state0
    hidden, state, cache = sequence_forward(kind, cell_params(model), x, state0, lengths, **options)  # (N, T, H)
    scores = readout_forward(hidden, model["W_y"], model["b_y"])          # (N, T, V)
    return CharModelOutput(hidden, scores, softmax(scores), state), cache


def char_model_loss(kind, model: dict, inputs, targets, state0=None, lengths=None, **options):
    """Mean next-character cross-entropy (nats per character) and its gradient for every parameter.

    Returns
    -------
    loss : float
    grads : dict with the keys of ``model``
    output : CharModelOutput
    """
    output, cache = char_model_forward(kind, model, inputs, state0, lengths, **options)
    loss, dscores = softmax_cross_entropy(output.scores, targets, lengths)
    dhidden, dW_y, db_y = readout_backward(dscores, output.hidden, model["W_y"])
    dstate = (tuple(np.zeros_like(s) for s in output.state) if kind == "lstm"
              else np.zeros_like(output.state))
    _, _, grads = sequence_backward(kind, dhidden, dstate, cache)
    grads["W_y"], grads["b_y"] = dW_y, db_y
    return loss, grads, output


def train_char_model(kind, model: dict, inputs, targets, steps: int, lr: float = 0.05, lengths=None, **options):
    """Full-batch Adam on the next-character loss.

    Returns the trained parameters and the loss before each step (a list of floats).
    ``options`` go to the cell.  Training is deterministic: it has no randomness of its own.  A thin use of
    :func:`lessons_lib.training.loop.train`, which stops with a ``FloatingPointError``
    if the loss stops being finite.
    """
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")

    def step_fn(params, batch, carry):
        loss, grads, _ = char_model_loss(kind, params, inputs, targets, lengths=lengths, **options)
        return loss, grads, carry

    model, history = train(step_fn, model, repeat(None), steps, lr=lr, on_nan="raise")
    return model, history.loss.tolist()


class Chunk(NamedTuple):
    """One chunk of a long text for truncated backpropagation through time."""

    inputs: np.ndarray   #: (N, T) character indices, N parallel streams
    targets: np.ndarray  #: (N, T) the next character of every input
    start: bool          #: True at the first chunk of a pass over the text, to start from a zero state


def char_model_step(kind, **options):
    """A step function for :func:`lessons_lib.training.loop.train` on :class:`Chunk` batches.

    It carries the final state of each chunk over to the next (truncated
    backpropagation through time) and starts from a zero state whenever
    ``chunk.start`` is true.  ``options`` go to the cell.
    """
    kind = check_kind(kind)

    def step_fn(params, chunk: Chunk, state):
        loss, grads, output = char_model_loss(kind, params, chunk.inputs, chunk.targets,
                                              state0=None if chunk.start else state, **options)
        return loss, grads, output.state

    return step_fn


def generate(kind, model: dict, vocab: Vocabulary, start: str, length: int, temperature: float = 0.0, rng=None,
             **options) -> str:
    """Generate ``length`` characters after ``start`` by feeding each prediction back in.

    With ``temperature = 0`` the most likely character is taken (greedy, no
    randomness); otherwise characters are sampled from ``softmax(y / temperature)``
    with the explicit generator ``rng``.  ``options`` go to the cell.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature > 0 and not isinstance(rng, np.random.Generator):
        raise TypeError("sampling with temperature > 0 needs rng, a numpy Generator")
    if not start:
        raise ValueError("start must hold at least one character")
    output, _ = char_model_forward(kind, model, vocab.encode(start)[None], **options)
    state, scores = output.state, output.scores[0, -1]
    text = start
    for _ in range(length):
        if temperature == 0:
            k = int(np.argmax(scores))
        else:
            k = int(rng.choice(vocab.size, p=softmax(scores / temperature)))
        text += vocab.chars[k]
        output, _ = char_model_forward(kind, model, np.array([[k]]), state0=state, **options)
        state, scores = output.state, output.scores[0, -1]
    return text
