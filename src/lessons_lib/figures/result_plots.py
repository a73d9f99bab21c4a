"""How training went and what it reached: loss curves, evaluation histories, scores across lengths and models.

Every function draws into an ``Axes`` it is given (or a new one) and returns
it.  The models keep the styles of :data:`lessons_lib.figures.style.STYLES`;
baselines are grey horizontal lines labelled at the right edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import NullFormatter

from ..training.loop import running_mean
from .style import LINESTYLES, MARKERS, OKABE_ITO, new_axes, style


def plot_loss_curves(curves: Mapping[str, Sequence[float]], ax=None, window: int = 20, baseline: float | None = None):
    """Training losses (a running mean over ``window`` steps) on a log scale, one line per model."""
    if not curves:
        raise ValueError("curves must hold at least one loss history")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    ax = new_axes(ax, (6.4, 3.2))
    colours = [OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple")]
    for k, (label, losses) in enumerate(curves.items()):
        losses = np.asarray(losses, dtype=np.float64)
        if losses.ndim != 1 or len(losses) < window:
            raise ValueError(f"curves[{label!r}] must be a 1-D history of at least window = {window} losses, "
                             f"got shape {losses.shape}")
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        steps = np.arange(window, len(losses) + 1)
        ax.plot(steps, smooth, color=colours[k % len(colours)], linestyle=LINESTYLES[k % 4],
                marker=MARKERS[k % len(MARKERS)], markevery=max(1, len(smooth) // 8), markersize=4, label=label)
    if baseline is not None:
        ax.axhline(baseline, color="#666666", linestyle=":", linewidth=1.0)
        ax.text(1.0, baseline, " always 0", transform=ax.get_yaxis_transform(), va="center", fontsize=7)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"loss (mean of {window} steps)")
    ax.legend(fontsize=8)
    return ax


def _baseline_lines(ax, baselines: Mapping[str, float] | None, horizontal: bool = True):
    greys = ("#555555", "#999999", "#333333")
    for k, (label, value) in enumerate((baselines or {}).items()):
        ax.axhline(value, color=greys[k % 3], linestyle=(0, (2, 2 + k)), linewidth=1.1)
        ax.annotate(label, (1.0, value), xycoords=("axes fraction", "data"), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8, color=greys[k % 3])


def plot_loss_histories(histories: Mapping[str, Sequence[float]], ax=None, window: int = 20,
                        baselines: Mapping[str, float] | None = None, ylabel: str = "training loss",
                        log: bool = False):
    """Training losses, smoothed by a running mean of ``window`` steps, one line per label.

    Parameters
    ----------
    histories : dict
        Label to a sequence of per-step losses (``History.loss``).
    baselines : dict, optional
        Label to a value drawn as a grey dashed line, labelled at the right.
    """
    if not histories:
        raise ValueError("histories must hold at least one loss history")
    ax = new_axes(ax, (6.4, 3.4))
    for k, (label, losses) in enumerate(histories.items()):
        losses = np.asarray(losses, dtype=np.float64)
        if losses.ndim != 1 or len(losses) == 0:
            raise ValueError(f"histories[{label!r}] must be a non-empty 1-D sequence of losses, got shape {losses.shape}")
        smooth = running_mean(losses, window)
        steps = np.arange(1, len(losses) + 1)
        ax.plot(steps, smooth, label=label, markevery=max(1, len(steps) // 8), markersize=5, linewidth=1.6,
                **style(label, k))
    _baseline_lines(ax, baselines)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"{ylabel} (mean of last {window} steps)")
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_eval_histories(histories: Mapping, metric: str, ax=None, baselines: Mapping[str, float] | None = None,
                        ylabel: str | None = None):
    """A metric measured during training (``History.evals``) against the step, one line per label.

    Parameters
    ----------
    histories : dict
        Label to a :class:`lessons_lib.training.loop.History` whose ``evals`` hold ``metric``.
    baselines : dict, optional
        Label to a value drawn as a grey dashed line, labelled at the right.
    """
    if not histories:
        raise ValueError("histories must hold at least one history")
    ax = new_axes(ax, (6.6, 3.6))
    for k, (label, history) in enumerate(histories.items()):
        if not history.evals:
            raise ValueError(f"histories[{label!r}] has no evaluations; train with evaluate= and eval_every=")
        steps = [step for step, _ in history.evals]
        values = [values[metric] for _, values in history.evals]
        ax.plot(steps, values, label=label, markersize=6, linewidth=1.6, **style(label, k))
    _baseline_lines(ax, baselines)
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel or metric)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_length_sweep(rows: Sequence[Mapping], metric: str = "mse", ax=None,
                      baselines: Mapping[str, float] | None = None):
    """Test error or accuracy of each model against the sequence length, one marker per run.

    ``rows`` as :func:`lessons_lib.tasks.adding_problem.length_sweep` returns them.
    A line joins each model's median over seeds.
    """
    if metric not in ("mse", "accuracy"):
        raise ValueError(f"metric must be 'mse' or 'accuracy', got {metric!r}")
    if not rows:
        raise ValueError("rows must hold at least one run")
    ax = new_axes(ax, (6.0, 3.6))
    models = list(dict.fromkeys(r["model"] for r in rows))
    lengths = sorted({r["T"] for r in rows})
    offsets = np.linspace(-0.06, 0.06, len(models)) if len(models) > 1 else [0.0]
    for k, label in enumerate(models):
        s = style(label, k)
        runs = [r for r in rows if r["model"] == label]
        xs = np.array([r["T"] for r in runs], dtype=float) * 2 ** offsets[k]   # a small shift so markers do not hide each other
        ax.scatter(xs, [r[metric] for r in runs], color=s["color"], marker=s["marker"], s=28, alpha=0.75, zorder=3)
        Ts = [T for T in lengths if any(r["T"] == T for r in runs)]
        med = [np.median([r[metric] for r in runs if r["T"] == T]) for T in Ts]
        ax.plot(np.array(Ts, dtype=float) * 2 ** offsets[k], med, color=s["color"], linestyle=s["linestyle"],
                marker=s["marker"], markersize=6, markerfacecolor="white", linewidth=1.6, label=label, zorder=2)
    _baseline_lines(ax, baselines)
    ax.set_xscale("log", base=2)
    ax.set_xticks(lengths, [str(T) for T in lengths])
    ax.minorticks_off()
    ax.set_xlabel("sequence length $T$ (steps)")
    if metric == "mse":
        ax.set_yscale("log")
        ax.set_ylabel("test mean squared error")
    else:
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel("test accuracy (|error| < 0.04)")
    ax.legend(fontsize=8, loc="best")
    return ax


def plot_bits_per_character(results: Mapping[str, float], ax=None, highlight: Sequence[str] = ()):
    """Horizontal bars of bits per character on held-out text, best at the top, each labelled with its value."""
    if not results:
        raise ValueError("results must hold at least one model")
    ax = new_axes(ax, (6.0, 0.45 * len(results) + 1.0))
    items = sorted(results.items(), key=lambda kv: -kv[1])
    names = [k for k, _ in items]
    values = [v for _, v in items]
    colours = [OKABE_ITO["blue"] if n in highlight else "#BBBBBB" for n in names]
    hatches = ["//" if n in highlight else "" for n in names]
    bars = ax.barh(range(len(items)), values, color=colours, edgecolor="#333333")
    for bar, hatch in zip(bars, hatches):
        bar.set_hatch(hatch)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.2f}", va="center", fontsize=8)
    ax.set_yticks(range(len(items)), names)
    ax.set_xlim(0, max(values) * 1.15)
    ax.set_xlabel("bits per character on held-out text (lower is better)")
    return ax


def plot_seed_spread(scores: Mapping[str, Sequence[float]], ax=None, xlabel: str = "test score",
                     threshold: float | None = None, threshold_label: str = "solved", log: bool = True,
                     title: str | None = None):
    """One row per label: every seed's score as a grey dot, the range as a line, the median as a black diamond.

    Parameters
    ----------
    scores : dict
        Label to the scores of its seeds; the first label is drawn at the top.
    threshold : float, optional
        A value drawn as a dashed vertical line and labelled ``threshold_label``.
    log : bool
        A logarithmic score axis (scores must then be positive).
    """
    if not scores:
        raise ValueError("scores must hold at least one label")
    ax = new_axes(ax, (5.0, 0.35 * len(scores) + 1.2))
    for y, (label, values) in enumerate(scores.items()):
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or values.size == 0 or (log and np.any(values <= 0)):
            raise ValueError(f"scores[{label!r}] must be a non-empty 1-D sequence"
                             + (" of positive numbers (log axis)" if log else "") + f", got {values}")
        ax.plot([values.min(), values.max()], [y, y], color="#777777", linewidth=1.4, zorder=1)
        ax.scatter(values, np.full(values.size, y), s=18, color="#999999", edgecolor="#333333", linewidth=0.5,
                   zorder=2)
        ax.scatter([np.median(values)], [y], s=46, marker="D", color=OKABE_ITO["black"], zorder=3)
    if threshold is not None:
        ax.axvline(threshold, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1.1)
        ax.annotate(threshold_label, (threshold, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -10),
                    textcoords="offset points", fontsize=8, color=OKABE_ITO["vermillion"])
    ax.set_yticks(range(len(scores)), list(scores))
    ax.set_ylim(len(scores) - 0.5, -0.5)   # the first label at the top
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())   # labelled minor ticks collide on a short range
    ax.set_xlabel(xlabel)
    if title is not None:
        ax.set_title(title, fontsize=10)
    return ax
