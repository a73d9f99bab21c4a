"""The tasks' data and the predictions made on it: an adding-problem sequence, a year of weather, forecasts.

Every function draws into an ``Axes`` it is given (or a new one) and returns
it, in the styles of :mod:`lessons_lib.figures.style`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .style import OKABE_ITO, new_axes, style


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
    ax = new_axes(ax, (7.0, 2.8))
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


def plot_forecast_errors(horizons, errors: Mapping[str, Sequence[float]], ax=None, ylabel: str = "mean absolute error (°C)"):
    """Forecast error against the horizon, one line per method."""
    horizons = np.asarray(horizons)
    ax = new_axes(ax, (6.0, 3.4))
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
    ax = new_axes(ax, (7.2, 3.4))
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


def plot_shift_example(values, target, mask, predictions: Mapping[str, Sequence[float]], shift: int, ax=None):
    """One sequence of the look-ahead task: the inputs, the target ``v_{t + shift}`` and each model's predictions.

    Parameters
    ----------
    values : array of shape (T,)
        The inputs ``v_t``.
    target : array of shape (T,)
        ``v_{t + shift}`` (ignored where ``mask`` is false).
    mask : bool array of shape (T,)
        Where the target exists.
    predictions : dict
        Label to the predictions (T,) of a model; drawn where ``mask`` is true.
    shift : int
        The offset of the target, for the legend.
    """
    values, target = np.asarray(values, dtype=np.float64), np.asarray(target, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if values.ndim != 1 or target.shape != values.shape or mask.shape != values.shape:
        raise ValueError(f"values, target and mask must have one shape (T,), got {values.shape}, {target.shape} "
                         f"and {mask.shape}")
    ax = new_axes(ax, (7.5, 3.0))
    t = np.arange(1, len(values) + 1)
    ax.vlines(t, 0, values, color="#BBBBBB", linewidth=1.2)
    ax.plot(t, values, "o", color="#999999", markersize=3, label="input $v_t$")
    where = "ahead" if shift > 0 else "behind"
    ax.plot(t[mask], target[mask], color=OKABE_ITO["black"], linewidth=1.4,
            label=f"target $v_{{t{shift:+d}}}$ ({abs(shift)} steps {where})")
    for k, (label, y) in enumerate(predictions.items()):
        y = np.asarray(y, dtype=np.float64)
        if y.shape != values.shape:
            raise ValueError(f"predictions[{label!r}] must have shape {values.shape}, got {y.shape}")
        s = style(label, k)
        ax.plot(t[mask], y[mask], linestyle=s["linestyle"], marker=s["marker"], color=s["color"], markersize=5,
                linewidth=1.2, label=label)
    ax.axhline(0, color="#333333", linewidth=0.6)
    ax.set_xlim(0.5, len(values) + 0.5)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("value")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax
