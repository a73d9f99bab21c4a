"""Figures of the applications part: the adding problem, text generation and weather forecasting.

Same conventions as :mod:`lessons_lib.plots`: every function draws into an
``Axes`` it is given (or a new one) and returns it; colours come from the
Okabe-Ito palette and every colour is paired with a line style or a marker,
so that the figures read in greyscale and for colour-blind readers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .plots import LINESTYLES, MARKERS, OKABE_ITO
from .training import running_mean

#: Fixed styles for the models and baselines that recur across the chapters, so a reader can follow them.
STYLES = {
    "RNN": {"color": OKABE_ITO["orange"], "linestyle": ":", "marker": "s"},
    "GRU": {"color": OKABE_ITO["green"], "linestyle": "-.", "marker": "^"},
    "LSTM": {"color": OKABE_ITO["blue"], "linestyle": "-", "marker": "o"},
}


#: Styles for everything else (baselines, variants), in colours and markers that the models above do not use.
OTHER_STYLES = (
    {"color": OKABE_ITO["black"], "linestyle": "-", "marker": "D"},
    {"color": OKABE_ITO["vermillion"], "linestyle": "--", "marker": "v"},
    {"color": OKABE_ITO["purple"], "linestyle": "-.", "marker": "P"},
    {"color": OKABE_ITO["sky"], "linestyle": ":", "marker": "X"},
)


def style(label: str, k: int) -> dict:
    """Colour, line style and marker of the ``k``-th curve: fixed for the models in :data:`STYLES`, else from :data:`OTHER_STYLES`."""
    for name, s in STYLES.items():
        if label == name or label.startswith(name + ","):   # "LSTM, 500 steps" is the LSTM; "LSTM b_f = 3" a variant
            return dict(s)
    return dict(OTHER_STYLES[k % len(OTHER_STYLES)])


def _new_axes(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _baseline_lines(ax, baselines: Mapping[str, float] | None, horizontal: bool = True):
    greys = ("#555555", "#999999", "#333333")
    for k, (label, value) in enumerate((baselines or {}).items()):
        ax.axhline(value, color=greys[k % 3], linestyle=(0, (2, 2 + k)), linewidth=1.1)
        ax.annotate(label, (1.0, value), xycoords=("axes fraction", "data"), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8, color=greys[k % 3])


def plot_adding_example(x, target, ax=None):
    """One sequence of the adding problem: the values as stems, the two marked ones highlighted.

    Parameters
    ----------
    x : array of shape (T, 2)
        The value and marker channels of one sequence.
    target : float
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must have shape (T, 2), got {x.shape}")
    ax = _new_axes(ax, (7.0, 2.8))
    T = len(x)
    t = np.arange(1, T + 1)
    marked = x[:, 1] == 1
    ax.axvspan(0.5, T // 2 + 0.5, color="#EEEEEE", zorder=0)
    ax.text(T // 4 + 0.5, 1.12, "first half: the marks fall here", ha="center", fontsize=8, color="#555555")
    ax.vlines(t[~marked], 0, x[~marked, 0], color="#999999", linewidth=1.2)
    ax.plot(t[~marked], x[~marked, 0], "o", color="#999999", markersize=3, label="value $v_t$ (unmarked)")
    ax.vlines(t[marked], 0, x[marked, 0], color=OKABE_ITO["vermillion"], linewidth=2.4)
    ax.plot(t[marked], x[marked, 0], "D", color=OKABE_ITO["vermillion"], markersize=7, label="marked value ($m_t = 1$)")
    for tm, v in zip(t[marked], x[marked, 0]):
        ax.annotate(f"{v:+.2f}", (tm, v), xytext=(0, 8 if v >= 0 else -14), textcoords="offset points",
                    ha="center", fontsize=8, color=OKABE_ITO["vermillion"])
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_xlim(0.5, T + 0.5)
    ax.set_ylim(-1.25, 1.3)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("input value $v_t$")
    ax.set_title(f"target $y = 0.5 + (v_{{t_1}} + v_{{t_2}})/4 = {float(target):.3f}$, read after step {T}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return ax


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
    ax = _new_axes(ax, (6.4, 3.4))
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
        Label to a :class:`lessons_lib.training.History` whose ``evals`` hold ``metric``.
    baselines : dict, optional
        Label to a value drawn as a grey dashed line, labelled at the right.
    """
    if not histories:
        raise ValueError("histories must hold at least one history")
    ax = _new_axes(ax, (6.6, 3.6))
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

    ``rows`` as :func:`lessons_lib.adding_problem.length_sweep` returns them.
    A line joins each model's median over seeds.
    """
    if metric not in ("mse", "accuracy"):
        raise ValueError(f"metric must be 'mse' or 'accuracy', got {metric!r}")
    if not rows:
        raise ValueError("rows must hold at least one run")
    ax = _new_axes(ax, (6.0, 3.6))
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
    ax = _new_axes(ax, (6.0, 0.45 * len(results) + 1.0))
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
    ax = _new_axes(ax, (0.13 * width + 0.8, 0.26 * len(lines) + 0.6))
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


def plot_forecast_errors(horizons, errors: Mapping[str, Sequence[float]], ax=None, ylabel: str = "mean absolute error (°C)"):
    """Forecast error against the horizon, one line per method."""
    horizons = np.asarray(horizons)
    ax = _new_axes(ax, (6.0, 3.4))
    for k, (label, err) in enumerate(errors.items()):
        err = np.asarray(err, dtype=np.float64)
        if err.shape != horizons.shape:
            raise ValueError(f"errors[{label!r}] must have shape {horizons.shape} like horizons, got {err.shape}")
        ax.plot(horizons, err, label=label, markevery=max(1, len(horizons) // 8), markersize=5, linewidth=1.6,
                **style(label, k))
    ax.set_xlabel("forecast horizon (hours ahead)")
    ax.set_ylabel(ylabel)
    ax.set_xlim(horizons.min() - 0.5, horizons.max() + 0.5)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_forecasts(hours, observed, forecasts: Mapping[str, Sequence], ax=None, issued=None,
                   xlabel: str = "time (UTC)"):
    """Observed temperature and forecasts over the same hours.

    Parameters
    ----------
    hours : array of datetime64 or numbers, shape (L,)
    observed : array (L,), ``nan`` where nothing was observed
    forecasts : dict
        Method to an array (L,): each forecast, ``nan`` where it has none
        (separate forecast runs are drawn as separate segments).
    issued : sequence, optional
        Times at which forecasts were issued, marked by thin vertical lines.
    """
    ax = _new_axes(ax, (7.2, 3.4))
    ax.plot(hours, observed, color="#777777", linewidth=3.0, alpha=0.6, label="observed", solid_capstyle="butt")
    for k, (label, values) in enumerate(forecasts.items()):
        s = style(label, k + 1)
        ax.plot(hours, values, color=s["color"], linestyle=s["linestyle"], linewidth=1.5, label=label)
    for t in issued if issued is not None else ():
        ax.axvline(t, color="#CCCCCC", linewidth=0.8, zorder=0)
    ax.set_ylabel("temperature (°C)")
    ax.set_xlabel(xlabel)
    if np.issubdtype(np.asarray(hours).dtype, np.datetime64):
        import matplotlib.dates as mdates

        ax.xaxis.set_major_locator(mdates.DayLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.legend(fontsize=8, loc="best")
    return ax


def plot_weather_year(time, temp, missing, zoom: slice, axes=None):
    """A year of hourly temperature (top) and one stretch of it (bottom), with the missing hours marked.

    Parameters
    ----------
    time : (L,) datetime64 array
    temp : (L,) array, ``nan`` where not observed
    missing : (L,) bool array, the hours to mark
    zoom : slice of the hours to show in the bottom panel
    """
    time, temp, missing = np.asarray(time), np.asarray(temp, dtype=np.float64), np.asarray(missing, dtype=bool)
    if not (time.shape == temp.shape == missing.shape):
        raise ValueError(f"time, temp and missing must have one shape, got {time.shape}, {temp.shape}, {missing.shape}")
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(7.6, 5.0))
    top, bottom = axes
    top.plot(time, temp, color=OKABE_ITO["blue"], linewidth=0.4)
    top.plot(time[missing], np.full(missing.sum(), np.nanmin(temp) - 2), "|", color=OKABE_ITO["vermillion"],
             markersize=8, label=f"missing hours ({missing.sum()})")
    top.axvspan(time[zoom][0], time[zoom][-1], color="#DDDDDD", zorder=0)
    top.set_ylabel("temperature (°C)")
    top.legend(fontsize=8, loc="upper left")
    t, y, m = time[zoom], temp[zoom], missing[zoom]
    bottom.plot(t, y, color=OKABE_ITO["blue"], marker=".", markersize=3, linewidth=1.0, label="observed")
    for x in t[m]:
        bottom.axvline(x, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1.0)
    if m.any():
        bottom.plot([], [], color=OKABE_ITO["vermillion"], linestyle="--", label="missing hour")
    bottom.set_ylabel("temperature (°C)")
    bottom.set_xlabel("time (UTC)")
    bottom.legend(fontsize=8, loc="upper left")
    if np.issubdtype(time.dtype, np.datetime64):
        import matplotlib.dates as mdates

        top.xaxis.set_major_locator(mdates.MonthLocator())
        top.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
        bottom.xaxis.set_major_locator(mdates.DayLocator())
        bottom.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    return axes
