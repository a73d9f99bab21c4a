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


def plot_solved_grid(rows: Sequence[Mapping], ax=None, lengths: Sequence[int] | None = None,
                     lrs: Sequence[float] | None = None, title: str | None = None, best: float | None = None):
    """How many seeds solved each (learning rate, length) of one adding-problem setting, as a grid.

    ``rows`` are the stored runs of one cell (``results/adding.json``, one
    variant and forget bias), each with ``lr``, ``T``, ``solved`` and
    ``test_nmse``.  Each square shows "solved/runs" and the median test NMSE;
    its shade is the fraction solved.  Squares that were not run (the grid
    stops a learning rate once every seed failed) are left blank.  ``best``
    outlines the row of that learning rate.
    """
    rows = list(rows)
    if not rows:
        raise ValueError("rows must hold at least one run")
    missing = [k for k in ("lr", "T", "solved", "test_nmse") if k not in rows[0]]
    if missing:
        raise KeyError(f"the rows lack {missing}; they have {sorted(rows[0])}")
    lengths = sorted({r["T"] for r in rows}) if lengths is None else list(lengths)
    lrs = sorted({r["lr"] for r in rows}) if lrs is None else list(lrs)
    ax = new_axes(ax, (0.7 * len(lengths) + 1.5, 0.55 * len(lrs) + 1.0))
    fraction = np.full((len(lrs), len(lengths)), np.nan)
    for i, lr in enumerate(lrs):
        for j, T in enumerate(lengths):
            runs = [r for r in rows if r["lr"] == lr and r["T"] == T]
            if not runs:
                continue
            solved = sum(bool(r["solved"]) for r in runs)
            fraction[i, j] = solved / len(runs)
            nmse = float(np.median([r["test_nmse"] for r in runs]))
            colour = "black" if fraction[i, j] > 0.5 else "white"
            ax.text(j, i, f"{solved}/{len(runs)}\n{nmse:.2g}", ha="center", va="center", fontsize=7, color=colour)
    ax.imshow(np.ma.masked_invalid(fraction), cmap="cividis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(lengths)), [str(T) for T in lengths])
    ax.set_yticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
    ax.set_xlabel("sequence length $T$")
    ax.set_ylabel("learning rate")
    if best is not None and best in lrs:
        i = lrs.index(best)
        ax.add_patch(_rectangle((-0.5, i - 0.5), len(lengths), 1.0))
    ax.set_xlim(-0.5, len(lengths) - 0.5)
    ax.set_ylim(len(lrs) - 0.5, -0.5)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_solved_grids(rows: Sequence[Mapping], models: Mapping[tuple, str], best: Mapping,
                      lengths: Sequence[int] | None = None, lrs: Sequence[float] | None = None,
                      figsize=(16.0, 3.3), by: Sequence[str] = ("cell", "forget_bias")):
    """:func:`plot_solved_grid` for several adding-problem models side by side; returns the figure.

    ``models`` maps a model's key (its values of the row keys ``by``, by
    default ``(cell, forget_bias)``) to its title, in the order to draw them;
    ``best[key][0]`` is the learning rate to outline (``best`` as
    :func:`lessons_lib.analysis.results.length_limits` returns it).
    """
    import matplotlib.pyplot as plt

    if not models:
        raise ValueError("models must name at least one (cell, forget_bias)")
    missing = [key for key in models if key not in best]
    if missing:
        raise KeyError(f"best has no learning rate for {missing}")
    fig, axes = plt.subplots(1, len(models), figsize=figsize, sharey=True, squeeze=False)
    by = tuple(by)
    for k, (ax, (key, name)) in enumerate(zip(axes[0], models.items())):
        if len(key) != len(by):
            raise ValueError(f"each model's key must give the values of {by}, got {key!r}")
        plot_solved_grid([r for r in rows if tuple(r.get(b) for b in by) == tuple(key)], ax=ax,
                         lengths=lengths, lrs=lrs, title=name, best=best[key][0])
        if k:
            ax.set_ylabel("")
    fig.tight_layout()
    return fig


def _rectangle(corner, width, height):
    from matplotlib.patches import Rectangle

    return Rectangle(corner, width, height, fill=False, edgecolor=OKABE_ITO["vermillion"], linewidth=2.0)


def plot_split_comparison(summary: Mapping[str, Mapping], splits: Sequence[str] = ("unseen-play", "same-plays"),
                          ax=None, xlabel: str = "bits per character (lower is better)"):
    """Each model's score on several test splits: a marker at the median, a bar from the lowest to the highest seed.

    ``summary`` maps a label to a dict with a :class:`~lessons_lib.analysis.results.Spread`
    per split (as :func:`lessons_lib.analysis.results.language_comparison` gives it).
    The best model on the first split is at the top.
    """
    if not summary:
        raise ValueError("summary must hold at least one model")
    for label, entry in summary.items():
        missing = [s for s in splits if s not in entry]
        if missing:
            raise ValueError(f"summary[{label!r}] lacks the splits {missing}")
    ax = new_axes(ax, (6.4, 0.5 * len(summary) + 1.2))
    labels = sorted(summary, key=lambda k: -summary[k][splits[0]].median)
    looks = [{"color": OKABE_ITO["blue"], "marker": "o"}, {"color": OKABE_ITO["vermillion"], "marker": "s"},
             {"color": OKABE_ITO["green"], "marker": "^"}]
    offsets = np.linspace(0.15, -0.15, len(splits)) if len(splits) > 1 else [0.0]
    for k, split in enumerate(splits):
        y = np.arange(len(labels)) + offsets[k]
        med = np.array([summary[label][split].median for label in labels])
        low = np.array([summary[label][split].low for label in labels])
        high = np.array([summary[label][split].high for label in labels])
        ax.errorbar(med, y, xerr=[med - low, high - med], linestyle="none", capsize=3, markersize=6,
                    markerfacecolor="white" if k else looks[k % 3]["color"], label=split.replace("-", " "),
                    **looks[k % 3])
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    ax.legend(fontsize=8, loc="upper right", title="test split", title_fontsize=8)
    return ax


def plot_curves_with_spread(curves: Mapping[str, tuple], ax=None, baselines: Mapping[str, float] | None = None,
                            ylabel: str = "bits per character", xlabel: str = "training step"):
    """Curves over seeds: the median as a line, the range from the lowest to the highest seed as a band.

    ``curves`` maps a label to ``(steps, median, lowest, highest)`` arrays, as
    :func:`lessons_lib.analysis.results.language_curves` gives them.
    """
    if not curves:
        raise ValueError("curves must hold at least one curve")
    ax = new_axes(ax, (6.6, 3.6))
    for k, (label, curve) in enumerate(curves.items()):
        if len(curve) != 4:
            raise ValueError(f"curves[{label!r}] must be (steps, median, lowest, highest), got {len(curve)} arrays")
        steps, med, low, high = (np.asarray(a, dtype=np.float64) for a in curve)
        s = style(label, k)
        ax.fill_between(steps, low, high, color=s["color"], alpha=0.2, linewidth=0)
        ax.plot(steps, med, label=label, markevery=max(1, len(steps) // 8), markersize=5, linewidth=1.6, **s)
    _baseline_lines(ax, baselines)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, loc="upper right")
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


def plot_solution_times(times: Mapping[tuple, Mapping[int, Sequence[float]]], models: Mapping[tuple, str], ax=None,
                        markers: Sequence[str] = ("o", "s", "^", "D", "v")):
    """Wall time to a solution against the sequence length, one marker per run that solved, per model.

    ``times[key][T]`` lists the seconds of the runs of model ``key`` that
    solved length ``T`` (as :func:`lessons_lib.analysis.results.solution_times`
    returns them); ``models`` maps each key to its label, in the order to
    draw. A model with no solved run at a length has no marker there, and
    the medians are joined by a line. The time axis is logarithmic.
    """
    if not models:
        raise ValueError("models must name at least one model")
    lengths = sorted({T for key in models for T in times.get(key, {})})
    if not lengths:
        raise ValueError("no model has a solved run to plot")
    ax = new_axes(ax, (6.0, 3.6))
    width = 0.8 / len(models)
    for k, (key, name) in enumerate(models.items()):
        offset = (k - (len(models) - 1) / 2) * width
        medians = []
        for j, T in enumerate(lengths):
            seconds = list(times.get(key, {}).get(T, []))
            if seconds:
                ax.scatter(np.full(len(seconds), j + offset), seconds, marker=markers[k % len(markers)],
                           s=28, color=f"C{k}", edgecolor="black", linewidth=0.5, zorder=3,
                           label=name if not medians else None)
                medians.append((j + offset, float(np.median(seconds))))
        if len(medians) > 1:
            ax.plot(*zip(*medians), color=f"C{k}", linewidth=1, zorder=2)
    ax.set_yscale("log")
    ax.set_xticks(range(len(lengths)), [str(T) for T in lengths])
    ax.set_xlim(-0.6, len(lengths) - 0.4)
    ax.set_xlabel("sequence length $T$")
    ax.set_ylabel("wall time to a solution (s)")
    ax.legend(fontsize=8, frameon=False)
    return ax
