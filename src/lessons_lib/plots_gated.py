"""Figures of chapter 3, "Gated architectures": gradient survival in the RNN, the GRU and the LSTM.

Same conventions as :mod:`lessons_lib.plots_gradients`: each function draws
into axes it is given (or new ones) and returns them; norms go on a
logarithmic axis, where exponential decay is a straight line.  Each cell has
one colour *and* one marker (tanh RNN: vermillion circles, GRU: blue
squares, LSTM: green triangles) and each kind of path one line style (solid:
``dh_T/dh_t``; dashed: ``dc_T/dc_t``; dotted: the direct path), so the
figures read in greyscale and for colour-blind readers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .gated_flow import PATHS, StateDecay
from .plots import OKABE_ITO
from .plots_gradients import DISTANCE_LABEL

CELL_STYLE = {
    "rnn": {"color": OKABE_ITO["vermillion"], "marker": "o"},
    "gru": {"color": OKABE_ITO["blue"], "marker": "s"},
    "lstm": {"color": OKABE_ITO["green"], "marker": "^"},
}
PATH_STYLE = {"hh": {"linestyle": "-", "linewidth": 1.6}, "cc": {"linestyle": "--", "linewidth": 1.6},
              "direct": {"linestyle": ":", "linewidth": 1.8}}
#: Every curve the figures can draw, in legend order, each as (cell, path, label).
CURVES = (
    ("rnn", "hh", r"tanh RNN, $\|\partial h_T / \partial h_t\|_2$"),
    ("gru", "hh", r"GRU, $\|\partial h_T / \partial h_t\|_2$"),
    ("gru", "direct", r"GRU, direct path: product of $z$"),
    ("lstm", "hh", r"LSTM, $\|\partial h_T / \partial h_t\|_2$"),
    ("lstm", "cc", r"LSTM, $\|\partial c_T / \partial c_t\|_2$"),
    ("lstm", "direct", r"LSTM, direct path: product of $f$"),
)
NORM_LABEL = "Jacobian norm (log scale)"
FLOOR = 1e-300   # a norm that underflowed to 0 is drawn at the bottom of the axes


def _check_results(results) -> dict:
    if not isinstance(results, Mapping) or not results:
        raise TypeError("results must be a non-empty dict {kind: StateDecay}, as compare_state_decay returns")
    for kind, r in results.items():
        if not isinstance(r, StateDecay):
            raise TypeError(f"results[{kind!r}] must be a StateDecay, got {type(r).__name__}")
        if r.kind != kind:
            raise ValueError(f"results[{kind!r}] holds the measurement of {r.kind!r}")
    return dict(results)


def plot_state_decay(results: Mapping, ax=None, ylim=None, legend: bool = True, curves: Sequence | None = None):
    """Typical Jacobian norms against the distance ``T - t``, every cell on the same axes.

    Parameters
    ----------
    results : dict
        ``{kind: StateDecay}``, e.g. from
        :func:`lessons_lib.gated_flow.compare_state_decay`.
    ax : matplotlib Axes, optional
    ylim : (float, float), optional
        Fixed vertical limits; by default they fit the curves (down to 1e-60).
    legend : bool
        Put a legend below the axes.
    curves : sequence of (kind, path), optional
        Which curves to draw (default: every curve in :data:`CURVES` whose cell is in ``results``).

    Returns
    -------
    the Axes
    """
    results = _check_results(results)
    wanted = [(k, p) for k, p, _ in CURVES] if curves is None else [tuple(c) for c in curves]
    for kind, path in wanted:
        if kind in results and path not in PATHS[kind]:
            raise ValueError(f"{kind!r} has no path {path!r}; its paths are {PATHS[kind]}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.2))
    drawn = []
    for kind, path, label in CURVES:
        if (kind, path) not in wanted or kind not in results:
            continue
        r = results[kind]
        y = r.typical(path)
        ax.plot(r.distance, np.maximum(y, FLOOR), markersize=5, markevery=max(1, len(y) // 10), label=label,
                **CELL_STYLE[kind], **PATH_STYLE[path])
        drawn.append(y)
    if not drawn:
        raise ValueError(f"none of the curves {wanted} belongs to the cells {sorted(results)}")
    ax.axhline(1.0, color="#999999", linewidth=0.8)
    ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    else:
        values = np.concatenate(drawn)
        positive = values[values > FLOOR]
        if positive.size:
            ax.set_ylim(max(positive.min() / 10, 1e-60), max(positive.max() * 10, 10.0))
    ax.set_xlim(0, max(int(r.distance[-1]) for r in results.values()))
    ax.set_xlabel(DISTANCE_LABEL)
    ax.set_ylabel(NORM_LABEL)
    if legend:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    return ax


def plot_state_decay_grid(grid: Mapping, ylim=(1e-30, 1e4), ncols: int | None = None, curves: Sequence | None = None):
    """Small multiples of :func:`plot_state_decay`: one panel per gate bias, shared axes, one legend.

    Parameters
    ----------
    grid : dict
        ``{gate_bias: {kind: StateDecay}}``; the key is written in the panel's title.
    ylim : (float, float)
        Shared vertical limits.
    ncols : int, optional
        Panels per row (default: all in one row).
    curves : sequence of (kind, path), optional
        As for :func:`plot_state_decay`.

    Returns
    -------
    matplotlib Figure
    """
    if not isinstance(grid, Mapping) or not grid:
        raise TypeError("grid must be a non-empty dict {gate_bias: {kind: StateDecay}}")
    n = len(grid)
    ncols = n if ncols is None else int(ncols)
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.7 * ncols + 0.4, 2.6 * nrows + 0.9), sharex=True,
                             sharey=True, squeeze=False)
    for ax, (bias, results) in zip(axes.flat, grid.items()):
        plot_state_decay(results, ax=ax, ylim=ylim, legend=False, curves=curves)
        keep = results["lstm"].keep_mean if "lstm" in results else None
        title = f"gate bias {bias:g}" + (f"\nmean forget gate {keep:.2f}" if keep is not None else "")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("$T - t$ (steps)")
    for ax in axes[:, 0]:
        ax.set_ylabel("Jacobian norm")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.tight_layout()
    fig.subplots_adjust(bottom=0.3 if nrows == 1 else 0.18)
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=3, frameon=False)
    return fig
