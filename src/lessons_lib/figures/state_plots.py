"""What a network's states and gates hold: pulses fading, one step's bars, gates over time, units over text.

Every function draws into axes it is given (or new ones) and returns them.
Colours come from the Okabe-Ito palette and each colour is paired with a
second cue (hatching, line style or marker).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..analysis.anatomy import GRUAnatomy, LSTMAnatomy
from .style import LINESTYLES, MARKERS, OKABE_ITO, new_axes


def plot_pulse_memory(responses: dict, ax=None):
    """Hidden state of a one-unit RNN after a single input pulse, one line per recurrent weight.

    Parameters
    ----------
    responses : dict
        Maps a recurrent weight ``w`` to the trajectory ``h_1 .. h_T`` (from
        :func:`lessons_lib.analysis.memory.pulse_response`).
    """
    ax = new_axes(ax, (6.4, 3.6))
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


# What a bar chart of one step shows, in order: (field of the anatomy, legend label).
STATE_BARS = {
    "lstm": (("c_prev", r"$c_{t-1}$ old cell"), ("kept", r"$f \odot c_{t-1}$ kept"),
             ("written", r"$i \odot g$ written"), ("c", r"$c_t$ new cell"), ("h", r"$h_t$ exposed")),
    "gru": (("h_prev", r"$h_{t-1}$ old state"), ("kept", "share of $h_{t-1}$ kept"),
            ("n", r"$n_t$ candidate"), ("written", "share of $n_t$ written"), ("h", r"$h_t$ new state")),
}


_BAR_COLOURS = ("blue", "sky", "orange", "vermillion", "green")


_HATCHES = ("", "///", "\\\\\\", "xx", "..")


# Gate lines over time: colour, line style and marker differ for each.
_GATE_STYLE = {
    "i": (OKABE_ITO["blue"], LINESTYLES[0], MARKERS[0], "input gate $i_t$"),
    "f": (OKABE_ITO["orange"], LINESTYLES[1], MARKERS[1], "forget gate $f_t$"),
    "o": (OKABE_ITO["green"], LINESTYLES[2], MARKERS[2], "output gate $o_t$"),
}


_STATE_STYLE = {
    "c": (OKABE_ITO["vermillion"], LINESTYLES[0], MARKERS[3], "cell state $c_t$"),
    "h": (OKABE_ITO["purple"], LINESTYLES[1], MARKERS[4], "hidden state $h_t$"),
}


def _kind_of(anat) -> str:
    if isinstance(anat, LSTMAnatomy):
        return "lstm"
    if isinstance(anat, GRUAnatomy):
        return "gru"
    raise TypeError(f"expected an LSTMAnatomy or GRUAnatomy (from lessons_lib.analysis.anatomy), got {type(anat).__name__}")


def plot_state_bars(anat, ax=None, n: int = 0, unit_labels: Sequence[str] | None = None, title: str | None = None,
                    legend: bool = True, values: bool = True, ylim=(-1.05, 1.05), units: Sequence[int] | None = None):
    """Bars of what one step did to each hidden unit.

    For an LSTM step, per unit: the old cell ``c_{t-1}``, the part kept
    ``f * c_{t-1}``, the part written ``i * g``, the new cell ``c_t`` and the
    exposed ``h_t``.  For a GRU step: ``h_{t-1}``, the share kept, the
    candidate ``n_t``, the share written and ``h_t``.

    Parameters
    ----------
    anat : LSTMAnatomy or GRUAnatomy
    ax : matplotlib Axes, optional
    n : int
        Which sequence of the batch to draw.
    unit_labels : sequence of H str, optional
    title : str, optional
    legend : bool
    values : bool
        Write each bar's value above or below it.
    units : sequence of int, optional
        Which units to draw (default: all).
    """
    kind = _kind_of(anat)
    N, H = anat.h.shape
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n < N:
        raise ValueError(f"n must be an int in 0 .. {N - 1} (the batch has N = {N}), got {n!r}")
    units = list(range(H)) if units is None else [int(u) for u in units]
    if not units or any(not 0 <= u < H for u in units):
        raise ValueError(f"units must list unit indices in 0 .. {H - 1}, got {units}")
    unit_labels = [f"unit {k + 1}" for k in units] if unit_labels is None else list(unit_labels)
    if len(unit_labels) != len(units):
        raise ValueError(f"unit_labels must have one label per unit drawn ({len(units)}), got {len(unit_labels)}")
    ax = new_axes(ax, (1.9 * len(units) + 2.0, 3.0))
    fields = STATE_BARS[kind]
    width = 0.8 / len(fields)
    upright = len(units) == 1      # one group leaves room for horizontal value labels
    for j, (field, label) in enumerate(fields):
        v = getattr(anat, field)[n, units]
        pos = np.arange(len(units)) + (j - (len(fields) - 1) / 2) * width
        ax.bar(pos, v, width, color=OKABE_ITO[_BAR_COLOURS[j]], hatch=_HATCHES[j], edgecolor="#222222",
               linewidth=0.6, label=label)
        if values:
            for p, val in zip(pos, v):
                ax.text(p, val + (0.04 if val >= 0 else -0.04), f"{round(float(val), 2) + 0.0:.2f}", ha="center",
                        va="bottom" if val >= 0 else "top", fontsize=7.5 if upright else 6.5,
                        rotation=0 if upright else 90)
    ax.axhline(0.0, color="#666666", linewidth=0.8)
    ax.set_xticks(np.arange(len(units)), unit_labels)
    ax.set_ylim(*ylim)
    ax.set_ylabel("value")
    if title:
        ax.set_title(title, fontsize=9)
    if legend:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_state_grid(anatomies: Sequence, titles: Sequence[str], ncols: int | None = None, n: int = 0,
                    unit_labels: Sequence[str] | None = None, panel_size=(2.6, 2.4),
                    units: Sequence[int] | None = None):
    """Small multiples of :func:`plot_state_bars`: one panel per step variant, shared axes, one legend.

    ``units`` selects the units drawn in every panel (default: all).  When the
    grid has a spare panel, the legend goes there.  Returns the figure.
    """
    anatomies = list(anatomies)
    titles = list(titles)
    if not anatomies:
        raise ValueError("anatomies must hold at least one step")
    if len(titles) != len(anatomies):
        raise ValueError(f"titles must have one entry per panel ({len(anatomies)}), got {len(titles)}")
    kinds = {_kind_of(a) for a in anatomies}
    if len(kinds) > 1:
        raise ValueError("anatomies must all be LSTM steps or all GRU steps")
    ncols = len(anatomies) if ncols is None else int(ncols)
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    nrows = -(-len(anatomies) // ncols)
    spare = len(anatomies) < nrows * ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols + (0.0 if spare else 1.8),
                                                    panel_size[1] * nrows),
                             sharey=True, squeeze=False)
    for ax, anat, title in zip(axes.flat, anatomies, titles):
        plot_state_bars(anat, ax=ax, n=n, unit_labels=unit_labels, title=title, legend=False, units=units)
    for ax in axes.flat[len(anatomies):]:
        ax.axis("off")
    for ax in axes[:, 1:].flat:
        ax.set_ylabel("")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if len(anatomies) < axes.size:      # an empty panel holds the legend
        axes.flat[-1].legend(handles, labels, fontsize=8, loc="center")
        fig.tight_layout()
    else:
        fig.legend(handles, labels, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.tight_layout()
    return fig


def _shade_events(ax, marker_t, recall_t, label: bool):
    """Grey bands at the marker and recall steps (time axis is 1-based), hatched differently."""
    for t, name, hatch in ((marker_t, "marker", "//"), (recall_t, "recall", "..")):
        if t is None:
            continue
        ax.axvspan(t + 0.5, t + 1.5, facecolor="#DDDDDD", edgecolor="#888888", hatch=hatch, linewidth=0.0, zorder=0)
        if label:
            ax.text(t + 1, 1.0, name, transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=8)


def plot_gate_traces(x, traces: Mapping, unit: int, marker_t=None, recall_t=None, axes=None,
                     y=None, target=None, title: str | None = None):
    """One sequence through an LSTM: its inputs, the gates of one unit, and that unit's states.

    Parameters
    ----------
    x : array of shape (T, 3)
        The inputs (value, marker, recall) of one sequence of the memory task.
    traces : dict
        ``i``, ``f``, ``o``, ``c``, ``h`` of that sequence, each of shape (T, H)
        (one row of :func:`lessons_lib.analysis.anatomy.lstm_traces`).
    unit : int
        Which hidden unit to draw.
    marker_t, recall_t : int, optional
        Steps (0-based) to shade.
    axes : sequence of 3 Axes, optional
        Top: inputs; middle: gates; bottom: states.
    y, target : arrays of shape (T,), optional
        The model's output and the target, drawn in the bottom panel.
    title : str, optional

    Returns
    -------
    the 3 axes
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"x must have shape (T, 3): value, marker and recall channels; got {x.shape}")
    T = x.shape[0]
    for key in ("i", "f", "o", "c", "h"):
        if key not in traces:
            raise ValueError(f"traces must hold 'i', 'f', 'o', 'c' and 'h', missing {key!r}")
        shape = np.shape(traces[key])
        if len(shape) != 2 or shape[0] != T:
            raise ValueError(f"traces[{key!r}] must have shape (T, H) = ({T}, H), got {shape}")
    H = np.shape(traces["i"])[1]
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < H:
        raise ValueError(f"unit must be an int in 0 .. {H - 1}, got {unit!r}")
    if axes is None:
        _, axes = plt.subplots(3, 1, figsize=(4.2, 5.6), sharex=True)
    if len(axes) != 3:
        raise ValueError(f"axes must hold 3 Axes (inputs, gates, states), got {len(axes)}")
    t = np.arange(1, T + 1)
    ax_in, ax_gate, ax_state = axes

    ax_in.plot(t, x[:, 0], color=OKABE_ITO["black"], marker="o", markersize=3.5, linewidth=1.0, label="value $v_t$")
    _shade_events(ax_in, marker_t, recall_t, label=True)
    ax_in.axhline(0.0, color="#999999", linewidth=0.6)
    ax_in.set_ylim(-1.15, 1.15)
    ax_in.set_ylabel("input $v_t$")
    if title:
        ax_in.set_title(title, fontsize=9, pad=14)

    for key, (colour, ls, mk, label) in _GATE_STYLE.items():
        ax_gate.plot(t, np.asarray(traces[key])[:, unit], color=colour, linestyle=ls, marker=mk, markersize=3.5,
                     label=label)
    _shade_events(ax_gate, marker_t, recall_t, label=False)
    ax_gate.set_ylim(-0.05, 1.05)
    ax_gate.set_ylabel("gate value")

    for key, (colour, ls, mk, label) in _STATE_STYLE.items():
        ax_state.plot(t, np.asarray(traces[key])[:, unit], color=colour, linestyle=ls, marker=mk, markersize=3.5,
                      label=label)
    if y is not None:
        ax_state.plot(t, np.asarray(y), color=OKABE_ITO["black"], linestyle=LINESTYLES[3], marker=MARKERS[5],
                      markersize=3.5, label="output $y_t$")
    if target is not None and recall_t is not None:
        ax_state.plot([recall_t + 1], [np.asarray(target)[recall_t]], linestyle="none", marker="*", markersize=11,
                      markerfacecolor="none", markeredgecolor=OKABE_ITO["black"], label="target at recall")
    _shade_events(ax_state, marker_t, recall_t, label=False)
    ax_state.axhline(0.0, color="#999999", linewidth=0.6)
    ax_state.set_ylim(-1.15, 1.15)
    ax_state.set_ylabel("state")
    ax_state.set_xlabel("time step $t$")
    ax_state.set_xticks(t if T <= 12 else t[::2])
    return axes


def plot_gate_traces_grid(panels: Sequence[Mapping], legend: bool = True):
    """Several :func:`plot_gate_traces` side by side (one column per panel, shared axes).

    Each panel is a dict of keyword arguments for :func:`plot_gate_traces`
    (``x``, ``traces``, ``unit`` and optionally ``marker_t``, ``recall_t``,
    ``y``, ``target``, ``title``).  Returns the figure.
    """
    panels = list(panels)
    if not panels:
        raise ValueError("panels must hold at least one panel")
    ncols = len(panels)
    fig, axes = plt.subplots(3, ncols, figsize=(3.3 * ncols + 0.6, 6.4), sharex=True, sharey="row", squeeze=False)
    for k, panel in enumerate(panels):
        plot_gate_traces(axes=axes[:, k], **panel)
        if k > 0:
            for ax in axes[:, k]:
                ax.set_ylabel("")
    fig.tight_layout()
    if legend:   # one legend below the panels: gates, then states
        handles, labels = [], []
        for row in range(1, 3):
            h, lab = axes[row, -1].get_legend_handles_labels()
            handles += h
            labels += lab
        fig.subplots_adjust(bottom=0.17)
        fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=4, frameon=False)
    return fig


def plot_gru_conventions(trajectories: Mapping[str, np.ndarray], ax=None, unit_label: str = "unit 1"):
    """One hidden unit of a GRU over time, one line per convention.

    Lines whose label starts with ``"="`` are drawn as markers only, so that
    a curve that coincides with another stays visible on top of it.
    """
    if not trajectories:
        raise ValueError("trajectories must hold at least one curve")
    ax = new_axes(ax, (6.4, 3.2))
    colours = [OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky")]
    for k, (label, h) in enumerate(trajectories.items()):
        h = np.asarray(h, dtype=np.float64)
        if h.ndim != 1:
            raise ValueError(f"trajectories[{label!r}] must have shape (T,), got {h.shape}")
        t = np.arange(1, len(h) + 1)
        overlay = label.startswith("=")
        ax.plot(t, h, color=colours[k % len(colours)], linestyle="none" if overlay else LINESTYLES[k % 4],
                marker=MARKERS[k % len(MARKERS)], markersize=8 if overlay else 4,
                markerfacecolor="none" if overlay else colours[k % len(colours)],
                label=label.lstrip("= ").strip())
    ax.axhline(0.0, color="#999999", linewidth=0.6)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel(f"$h_t$, {unit_label}")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_unit_text(text: str, activation, ax=None, vmin: float = -1.0, vmax: float = 1.0, width: int | None = None):
    """Text with every character on a background shaded by a hidden unit's value when the model read it.

    Uses the perceptually uniform, colour-blind-safe ``cividis`` map, whose
    lightness rises steadily, so the shading reads in greyscale too.
    """
    activation = np.asarray(activation, dtype=np.float64)
    if activation.shape != (len(text),):
        raise ValueError(f"activation must have one value per character, shape ({len(text)},), got {activation.shape}")
    lines = text.split("\n")
    width = width or max(len(line) for line in lines) + 1
    grid = np.full((len(lines), width), np.nan)
    t = 0
    for row, line in enumerate(lines):
        for col in range(len(line) + 1):       # the newline at the end of each line has a value too
            if t < len(text) and col < width:
                grid[row, col] = activation[t]
            t += 1
    ax = new_axes(ax, (0.13 * width + 0.8, 0.26 * len(lines) + 0.6))
    cmap = plt.get_cmap("cividis").with_extremes(bad="white")
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto",
                      interpolation="nearest")
    for row, line in enumerate(lines):
        for col, ch in enumerate(line[:width]):
            value = grid[row, col]
            dark = (value - vmin) / (vmax - vmin) < 0.55
            ax.text(col, row, ch, ha="center", va="center", fontsize=8, family="monospace",
                    color="white" if dark else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.figure.colorbar(image, ax=ax, fraction=0.025, pad=0.01, label="unit value $h_t$")
    return ax
