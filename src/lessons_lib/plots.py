"""Figures of the book, drawn with matplotlib.

Every figure function draws into an ``Axes`` it is given (or a new one) and
returns it, so chapters call one function per figure and tests can inspect
what was drawn.  Colours come from the Okabe-Ito palette, which stays
distinguishable for colour-blind readers, and every colour is paired with a
second cue (line style, marker, weight) so that the figures read in
greyscale too.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

# Okabe & Ito (2008), "Color universal design".
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P")

_LAYER_COLOURS = {"input": "#FBE3C0", "hidden": "#CDE7F5", "output": "#D2EEE3"}


def _new_axes(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _vector_box(ax, x, y, values, colour, highlight=None, fmt="{:.2f}", row=0.42, width=1.3):
    """Draw a column vector as a rounded box of numbers centred at (x, y); return its (bottom, top)."""
    n = len(values)
    height = n * row + 0.2
    bottom = y - height / 2
    ax.add_patch(FancyBboxPatch((x - width / 2, bottom), width, height, boxstyle="round,pad=0.05",
                                facecolor=colour, edgecolor="#333333", linewidth=1.0))
    for k, v in enumerate(values):
        yk = bottom + height - 0.1 - (k + 0.5) * row
        bold = highlight is not None and k == highlight
        ax.text(x, yk, fmt.format(v), ha="center", va="center", fontsize=9,
                fontweight="bold" if bold else "normal", family="monospace")
        if bold:
            ax.add_patch(FancyBboxPatch((x - width / 2 + 0.08, yk - row / 2 + 0.04), width - 0.16, row - 0.08,
                                        boxstyle="round,pad=0.01", facecolor="none",
                                        edgecolor=OKABE_ITO["vermillion"], linewidth=1.6))
    return bottom, bottom + height


def _arrow(ax, start, end, label=None, label_offset=(0.12, 0.0)):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, linewidth=1.2, color="#333333"))
    if label:
        mx, my = (start[0] + end[0]) / 2 + label_offset[0], (start[1] + end[1]) / 2 + label_offset[1]
        ax.text(mx, my, label, fontsize=9, ha="left", va="center")


def draw_unrolled_char_model(chars, input_text, target_text, hidden, scores, ax=None):
    """Figure 1: a character-level RNN unrolled over a word, with its real numbers.

    Draws, for each step ``t``, the one-hot input ``x_t`` (bottom), the hidden
    state ``h_t`` (middle) and the output scores ``y_t`` (top), joined by the
    weights ``W_x`` (up), ``W_h`` (across) and ``W_y`` (up).  In each output
    box the score of the target character is in bold and framed; above it
    stands the character the model predicts (the highest score).

    Parameters
    ----------
    chars : sequence of str
        The vocabulary, in index order (the rows of the one-hot vectors).
    input_text, target_text : str
        The input characters and the next characters to predict (same length ``T``).
    hidden : array of shape (T, H)
    scores : array of shape (T, V)
    ax : matplotlib Axes, optional
    """
    chars = list(chars)
    T, V = len(input_text), len(chars)
    hidden, scores = np.asarray(hidden), np.asarray(scores)
    if len(target_text) != T:
        raise ValueError(f"target_text must have the length of input_text ({T}), got {len(target_text)}")
    if hidden.ndim != 2 or hidden.shape[0] != T:
        raise ValueError(f"hidden must have shape ({T}, H), got {hidden.shape}")
    if scores.shape != (T, V):
        raise ValueError(f"scores must have shape ({T}, {V}), got {scores.shape}")
    ax = _new_axes(ax, (2.3 * T + 1.6, 6.4))
    index = {c: k for k, c in enumerate(chars)}
    step, y_in, y_hid, y_out = 2.6, 0.0, 3.2, 6.4
    for t in range(T):
        x = 1.6 + t * step
        onehot = np.eye(V)[index[input_text[t]]]
        _, in_top = _vector_box(ax, x, y_in, onehot, _LAYER_COLOURS["input"], fmt="{:.0f}")
        hid_bottom, hid_top = _vector_box(ax, x, y_hid, hidden[t], _LAYER_COLOURS["hidden"])
        out_bottom, out_top = _vector_box(ax, x, y_out, scores[t], _LAYER_COLOURS["output"],
                                          highlight=index[target_text[t]])
        _arrow(ax, (x, in_top + 0.05), (x, hid_bottom - 0.08), "$W_x$" if t == 0 else None)
        _arrow(ax, (x, hid_top + 0.05), (x, out_bottom - 0.08), "$W_y$" if t == 0 else None)
        if t > 0:
            _arrow(ax, (x - step + 0.72, y_hid), (x - 0.72, y_hid), "$W_h$" if t == 1 else None, (-0.22, 0.25))
        predicted = chars[int(np.argmax(scores[t]))]
        ax.text(x, out_top + 0.35, f"predicts '{predicted}'", ha="center", fontsize=9)
        ax.text(x, out_top + 0.8, f"target '{target_text[t]}'", ha="center", fontsize=10, fontweight="bold")
        ax.text(x, y_in - 1.35, f"input '{input_text[t]}'", ha="center", fontsize=10, fontweight="bold")
        ax.text(x, y_in - 1.75, f"$t = {t + 1}$", ha="center", fontsize=9)
    label_x = 0.0
    for y, name in ((y_in, "input layer\n$x_t$ (one-hot)"), (y_hid, "hidden layer\n$h_t$"),
                    (y_out, "output layer\n$y_t$ (scores)")):
        ax.text(label_x, y, name, ha="right", va="center", fontsize=9)
    ax.text(label_x, y_in - 1.35, "rows: " + ", ".join(chars), ha="right", va="center", fontsize=8)
    ax.set_xlim(-2.2, 1.6 + (T - 1) * step + 1.0)
    ax.set_ylim(y_in - 2.1, y_out + 2.4)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def plot_pulse_memory(responses: dict, ax=None):
    """Hidden state of a one-unit RNN after a single input pulse, one line per recurrent weight.

    Parameters
    ----------
    responses : dict
        Maps a recurrent weight ``w`` to the trajectory ``h_1 .. h_T`` (from
        :func:`lessons_lib.memory.pulse_response`).
    """
    ax = _new_axes(ax, (6.4, 3.6))
    colours = [OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky")]
    for k, (w, h) in enumerate(responses.items()):
        t = np.arange(1, len(h) + 1)
        ax.plot(t, h, color=colours[k % len(colours)], linestyle=LINESTYLES[k % len(LINESTYLES)],
                marker=MARKERS[k % len(MARKERS)], markersize=4, label=f"$w = {w:g}$")
    ax.axhline(0.0, color="#999999", linewidth=0.8)
    ax.set_xlabel("time step $t$ (pulse at $t = 1$)")
    ax.set_ylabel("hidden state $h_t$")
    ax.legend(title="recurrent weight", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_pulse_memory_grid(responses: dict, ncols: int = 4):
    """Small multiples of :func:`plot_pulse_memory`, one panel per weight, on shared axes."""
    n = len(responses)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.2 * nrows), sharex=True, sharey=True,
                             squeeze=False)
    for ax, (w, h) in zip(axes.flat, responses.items()):
        t = np.arange(1, len(h) + 1)
        ax.plot(t, h, color=OKABE_ITO["blue"], marker="o", markersize=3)
        ax.axhline(0.0, color="#999999", linewidth=0.8)
        ax.set_title(f"$w = {w:g}$", fontsize=10)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("time step $t$")
    for ax in axes[:, 0]:
        ax.set_ylabel("$h_t$")
    fig.tight_layout()
    return fig
