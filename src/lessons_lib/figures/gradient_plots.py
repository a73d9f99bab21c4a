"""Gradient norms over distance in time: how gradients vanish, explode or survive.

Norms go on a logarithmic axis, where exponential decay is a straight line.
Each cell has one colour *and* one marker (tanh RNN: vermillion circles,
GRU: blue squares, LSTM: green triangles) and each kind of path one line
style (solid: ``dh_T/dh_t``; dashed: ``dc_T/dc_t``; dotted: the direct path
or a bound), so the figures read in greyscale and for colour-blind readers.
The loss cliff of an exploding gradient is drawn here too, and the transient
growth of the powers of a non-normal recurrent matrix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..analysis.gated_flow import PATHS, StateDecay
from ..analysis.gradient_flow import GAMMA, Cliff, GradientDecay, TransientGrowth
from .style import LINESTYLES, MARKERS, OKABE_ITO, new_axes

# Colours in a fixed order; yellow is left out because it is too pale on white.
COLOURS = tuple(OKABE_ITO[c] for c in ("blue", "vermillion", "green", "orange", "purple", "sky", "black"))


# Measured curves use the solid, dashed and dash-dot styles; the dotted style is kept for bounds.
CURVE_STYLES = tuple(s for s in LINESTYLES if s != ":")


BOUND_STYLE = ":"


DISTANCE_LABEL = "distance in time $T - t$ (steps)"


JACOBIAN_LABEL = r"gradient norm $\|\partial h_T / \partial h_t\|_2$ (log scale)"


def curve_style(k: int) -> dict:
    """Colour, line style and marker of the ``k``-th curve of a figure: three cues that differ together."""
    return {"color": COLOURS[k % len(COLOURS)], "linestyle": CURVE_STYLES[k % len(CURVE_STYLES)],
            "marker": MARKERS[k % len(MARKERS)]}


def _legend_below(ax, ncol: int):
    """A frameless legend under the axes, so that the plot keeps the full width of the page."""
    n = len(ax.get_legend_handles_labels()[1])
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(ncol, n), frameon=False)


def _markevery(n: int) -> int:
    return max(1, n // 10)


def _check_curve(label, x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"curve {label!r}: x and y must be 1-D arrays of one length, got shapes {x.shape} and {y.shape}")
    if np.any(y < 0):
        raise ValueError(f"curve {label!r}: a norm cannot be negative; y must be >= 0 for a log scale")
    return x, y


def _log_limits(ax, values, floor=1e-300, low=None, high=None):
    """Vertical limits that show every positive value, a decade of margin either side, within [low, high]."""
    values = np.concatenate([np.ravel(v) for v in values])
    positive = values[(values > floor) & np.isfinite(values)]
    if positive.size == 0:
        return
    bottom, top = positive.min() / 10.0, positive.max() * 10.0
    if low is not None:
        bottom = max(bottom, low)
    if high is not None:
        top = min(top, high)
    ax.set_ylim(bottom, max(top, bottom * 100.0))


def plot_gradient_decay(decays: Sequence[GradientDecay], ax=None, show_bound=True, ylim=None):
    """Figure 2: measured ``||dh_T/dh_t||_2`` against ``T - t``, one curve per recurrent scale.

    Each measured curve (the geometric mean over the batch) has its own
    colour, line style and marker; Pascanu's bound ``(gamma sigma_max)^k``
    for the same ``sigma_max`` is drawn in the same colour, thin and dotted.

    Parameters
    ----------
    decays : sequence of GradientDecay
        From :func:`lessons_lib.analysis.gradient_flow.measure_gradient_decay`.
    ax : matplotlib Axes, optional
    show_bound : bool
        Draw the bounds.
    ylim : (float, float), optional
        Fixed vertical limits (the widget keeps them fixed so that its curve
        visibly moves); by default they fit the measured curves.
    """
    decays = list(decays)
    if not decays or not all(isinstance(d, GradientDecay) for d in decays):
        raise TypeError("decays must be a non-empty sequence of GradientDecay results")
    ax = new_axes(ax, (7.0, 4.2))
    for k, d in enumerate(decays):
        style = curve_style(k)
        name = d.activation + (" residual" if d.residual else "")
        label = fr"$\sigma_{{\max}} = {d.sigma_max:.3g}$" + ("" if len(decays) > 1 else f" ({name})")
        ax.plot(d.distance, np.maximum(d.typical, 1e-300), markersize=5,
                markevery=_markevery(len(d.distance)), label=label, **style)
        if show_bound and not d.residual:
            ax.plot(d.distance, np.maximum(d.bound, 1e-300), color=style["color"], linestyle=BOUND_STYLE,
                    linewidth=1.2)
    if show_bound:
        ax.plot([], [], color="#555555", linestyle=BOUND_STYLE, linewidth=1.2,
                label=r"bound $(\gamma\,\sigma_{\max})^{T-t}$")
    ax.axhline(1.0, color="#999999", linewidth=0.8)
    ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    else:
        _log_limits(ax, [d.typical for d in decays], low=1e-60, high=1e60)
    ax.set_xlim(0, max(int(d.distance[-1]) for d in decays))
    ax.set_xlabel(DISTANCE_LABEL)
    ax.set_ylabel(JACOBIAN_LABEL)
    _legend_below(ax, ncol=3)
    return ax


def plot_gradient_decay_grid(grid: Mapping, ylim=(1e-30, 1e10)):
    """Small multiples of :func:`plot_gradient_decay`: rows are activations, columns recurrent scales.

    Parameters
    ----------
    grid : dict
        ``{(activation, sigma_max): GradientDecay}`` from
        :func:`lessons_lib.analysis.gradient_flow.gradient_decay_grid`.
    ylim : (float, float)
        Shared vertical limits of every panel.

    Returns
    -------
    matplotlib Figure
    """
    if not isinstance(grid, Mapping) or not grid:
        raise TypeError("grid must be a non-empty dict {(activation, sigma_max): GradientDecay}")
    activations = list(dict.fromkeys(a for a, _ in grid))
    sigmas = list(dict.fromkeys(s for _, s in grid))
    missing = [(a, s) for a in activations for s in sigmas if (a, s) not in grid]
    if missing:
        raise ValueError(f"grid must hold every (activation, sigma_max) pair; missing {missing}")
    fig, axes = plt.subplots(len(activations), len(sigmas), figsize=(2.1 * len(sigmas) + 0.8, 2.0 * len(activations) + 0.6),
                             sharex=True, sharey=True, squeeze=False)
    for r, a in enumerate(activations):
        for c, s in enumerate(sigmas):
            ax, d = axes[r, c], grid[(a, s)]
            ax.plot(d.distance, np.maximum(d.typical, 1e-300), color=OKABE_ITO["blue"], linestyle="-",
                    marker="o", markersize=3, markevery=_markevery(len(d.distance)), label="measured")
            ax.plot(d.distance, np.maximum(d.bound, 1e-300), color=OKABE_ITO["vermillion"], linestyle=BOUND_STYLE,
                    linewidth=1.4, label="bound")
            ax.axhline(1.0, color="#999999", linewidth=0.8)
            ax.set_yscale("log")
            ax.set_ylim(*ylim)
            gs = GAMMA[a] * s
            ax.set_title(fr"{a}, $\sigma_{{\max}} = {s:g}$" + "\n" + fr"$\gamma\sigma_{{\max}} = {gs:.3g}$", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("$T - t$ (steps)")
    for ax in axes[:, 0]:
        ax.set_ylabel(r"$\|\partial h_T/\partial h_t\|_2$")
    axes[0, -1].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def plot_cliff(cliff: Cliff, w_c=None, axes=None):
    """The loss "cliff" of a one-unit RNN: the loss (top) and ``|dL/dw|`` (bottom, log scale) against ``w``.

    Parameters
    ----------
    cliff : Cliff
        From :func:`lessons_lib.analysis.gradient_flow.cliff_landscape`.
    w_c : float, optional
        The bifurcation weight, marked by a vertical dashed line.
    axes : pair of Axes, optional

    Returns
    -------
    the pair of Axes (loss, gradient)
    """
    if not isinstance(cliff, Cliff):
        raise TypeError(f"cliff must be a Cliff from cliff_landscape, got {type(cliff).__name__}")
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(6.6, 5.0), sharex=True)
    ax_loss, ax_grad = axes
    ax_loss.plot(cliff.w, cliff.loss, color=OKABE_ITO["blue"], linestyle="-", linewidth=1.6)
    ax_loss.set_ylabel("loss $L(w)$")
    ax_grad.plot(cliff.w, np.maximum(np.abs(cliff.dloss), 1e-300), color=OKABE_ITO["vermillion"], linestyle="--",
                 linewidth=1.4)
    ax_grad.set_yscale("log")
    _log_limits(ax_grad, [np.abs(cliff.dloss)], low=1e-8)
    ax_grad.set_ylabel(r"$|dL/dw|$ (log scale)")
    ax_grad.set_xlabel("recurrent weight $w$")
    if w_c is not None:
        for ax in axes:
            ax.axvline(w_c, color="#555555", linestyle=":", linewidth=1.2)
        ax_loss.annotate(fr"bifurcation $w_c \approx {w_c:.3f}$", xy=(w_c, 0.5 * float(np.max(cliff.loss))),
                         xytext=(8, 0), textcoords="offset points", fontsize=8, va="center")
    return axes


def plot_log_curves(curves: Mapping, xlabel: str, ylabel: str, ax=None, reference=None):
    """Several named curves on a logarithmic vertical axis, each with its own colour, style and marker.

    Parameters
    ----------
    curves : dict
        ``{label: (x, y)}`` with 1-D arrays of one length; ``y >= 0``.
    xlabel, ylabel : str
        Axis labels (with units).
    ax : matplotlib Axes, optional
    reference : float, optional
        Draw a thin horizontal line at this height (1, say).
    """
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError("curves must be a non-empty dict {label: (x, y)}")
    for name in ("xlabel", "ylabel"):
        if not isinstance({"xlabel": xlabel, "ylabel": ylabel}[name], str):
            raise TypeError(f"{name} must be a string")
    ax = new_axes(ax, (7.0, 4.0))
    ys = []
    for k, (label, (x, y)) in enumerate(curves.items()):
        x, y = _check_curve(label, x, y)
        ax.plot(x, np.maximum(y, 1e-300), markersize=5, markevery=_markevery(len(x)), label=label,
                **curve_style(k))
        ys.append(y)
    if reference is not None:
        ax.axhline(reference, color="#999999", linewidth=0.8)
    ax.set_yscale("log")
    _log_limits(ax, ys, low=1e-60, high=1e60)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _legend_below(ax, ncol=2)
    return ax


POWER_LABEL = "power $k$ (steps back)"  # W^k is the Jacobian over k steps of the linear recurrence


def plot_transient_growth(growths: Mapping, decays: Mapping | None = None, ylim=None):
    """Transient growth: ``||W^k||_2`` against ``k`` beside ``rho(W)^k`` and ``||W||_2^k``; optionally a tanh RNN.

    Left panel: for each matrix, the measured norms of its powers (solid,
    with markers), the upper bound ``||W||_2^k`` (dotted, same colour) and
    the eigenvalue prediction ``rho(W)^k`` (thin black dashes, drawn once
    per distinct radius).  Right panel, if ``decays`` is given: the measured
    Jacobian products ``||dh_T/dh_{T-k}||_2`` of tanh RNNs, one curve each.
    Both panels share their vertical axis, so the humps can be compared.

    Parameters
    ----------
    growths : dict
        ``{label: TransientGrowth}`` from
        :func:`lessons_lib.analysis.gradient_flow.transient_growth`.
    decays : dict, optional
        ``{label: GradientDecay}`` from
        :func:`lessons_lib.analysis.gradient_flow.measure_gradient_decay`.
    ylim : (float, float), optional
        Vertical limits; by default they fit the measured curves.

    Returns
    -------
    list of Axes
        One or two: the powers, then the RNN panel if ``decays`` is given.
    """
    if not isinstance(growths, Mapping) or not growths:
        raise TypeError("growths must be a non-empty dict {label: TransientGrowth}")
    for label, g in growths.items():
        if not isinstance(g, TransientGrowth):
            raise TypeError(f"growths[{label!r}] must be a TransientGrowth, got {type(g).__name__}")
    if decays is not None:
        if not isinstance(decays, Mapping) or not decays:
            raise TypeError("decays must be a non-empty dict {label: GradientDecay} or None")
        for label, d in decays.items():
            if not isinstance(d, GradientDecay):
                raise TypeError(f"decays[{label!r}] must be a GradientDecay, got {type(d).__name__}")
    ncols = 1 if decays is None else 2
    fig, axes = plt.subplots(1, ncols, figsize=(6.4 * ncols, 4.4), sharey=True, squeeze=False)
    axes = list(axes[0])
    ax = axes[0]
    radii = []
    for k, (label, g) in enumerate(growths.items()):
        colour, marker = COLOURS[k % len(COLOURS)], MARKERS[k % len(MARKERS)]
        ax.plot(g.k, np.maximum(g.norms, FLOOR), color=colour, linestyle="-", marker=marker, markersize=5,
                markevery=_markevery(len(g.k)), linewidth=1.6, label=fr"{label}: $\|W^k\|_2$")
        ax.plot(g.k, np.maximum(g.norm_powers, FLOOR), color=colour, linestyle=BOUND_STYLE, linewidth=1.2,
                label=fr"{label}: $\|W\|_2^k$, the bound")
        if not any(np.isclose(g.radius, r) for r in radii):
            radii.append(g.radius)
            ax.plot(g.k, np.maximum(g.radius_powers, FLOOR), color="#000000", linestyle="--", linewidth=0.9,
                    label=fr"$\rho(W)^k = {g.radius:.3g}^k$, the eigenvalue prediction")
    ax.set_title("linear recurrence: powers of $W$", fontsize=10)
    ax.set_ylabel("norm (log scale)")
    measured = [g.norms for g in growths.values()]
    if decays is not None:
        ax_rnn = axes[1]
        for k, (label, d) in enumerate(decays.items()):
            # Colours after those of the left panel, so that no colour means two things.
            ax_rnn.plot(d.distance, np.maximum(d.typical, FLOOR), markersize=5, markevery=_markevery(len(d.distance)),
                        label=label, **curve_style(k + len(growths)))
            measured.append(d.typical)
        ax_rnn.set_title(r"tanh RNN: $\|\partial h_T / \partial h_{T-k}\|_2$", fontsize=10)
        ax_rnn.axhline(1.0, color="#999999", linewidth=0.8)
        ax_rnn.set_xlim(0, max(int(d.distance[-1]) for d in decays.values()))
        ax_rnn.set_xlabel("distance $k$ (steps back)")
        _legend_below(ax_rnn, ncol=1)
    ax.axhline(1.0, color="#999999", linewidth=0.8)
    ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    else:
        _log_limits(ax, measured, low=1e-60, high=1e60)
    ax.set_xlim(0, max(int(g.k[-1]) for g in growths.values()))
    ax.set_xlabel(POWER_LABEL)
    _legend_below(ax, ncol=1)
    fig.tight_layout()
    return axes


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
        :func:`lessons_lib.analysis.gated_flow.compare_state_decay`.
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


def plot_decay_spread(panels: Mapping, mark: float | None = None, mark_label: str | None = None, ylim=None):
    """Jacobian norms of several networks per curve: the median as a line, the lowest to highest as a band.

    Parameters
    ----------
    panels : dict
        ``{title: {label: norms}}``, one panel per title; ``norms`` has shape
        (K, T + 1), one row per network, column ``k`` at distance ``k`` (as
        :func:`lessons_lib.analysis.gated_flow.typical_decays` returns).  A
        label keeps its colour, line style and marker in every panel.
    mark : float, optional
        A distance to mark with a vertical dotted line (the longest gap seen in training, say).
    mark_label : str, optional
        The text written beside that line.
    ylim : (float, float), optional
        Shared vertical limits; by default they fit the bands.

    Returns
    -------
    matplotlib Figure
    """
    if not isinstance(panels, Mapping) or not panels:
        raise TypeError("panels must be a non-empty dict {title: {label: norms (K, T + 1)}}")
    labels: list = []
    checked = {}
    for title, curves in panels.items():
        if not isinstance(curves, Mapping) or not curves:
            raise TypeError(f"panels[{title!r}] must be a non-empty dict {{label: norms (K, T + 1)}}")
        checked[title] = {}
        for label, norms in curves.items():
            v = np.asarray(norms, dtype=float)
            if v.ndim != 2 or v.shape[1] < 2:
                raise ValueError(f"panels[{title!r}][{label!r}] must have shape (K, T + 1), one row per network, "
                                 f"got {v.shape}")
            if np.any(v < 0):
                raise ValueError(f"panels[{title!r}][{label!r}]: a norm cannot be negative")
            checked[title][label] = v
            if label not in labels:
                labels.append(label)
    n = len(checked)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n + 0.4, 3.6), sharey=True, squeeze=False)
    drawn = []
    for ax, (title, curves) in zip(axes[0], checked.items()):
        for label, v in curves.items():
            s = curve_style(labels.index(label))
            distance = np.arange(v.shape[1])
            low, high = np.maximum(v.min(axis=0), FLOOR), np.maximum(v.max(axis=0), FLOOR)
            ax.fill_between(distance, low, high, color=s["color"], alpha=0.18, linewidth=0)
            ax.plot(distance, np.maximum(np.median(v, axis=0), FLOOR), markersize=5,
                    markevery=_markevery(len(distance)), linewidth=1.6, label=label, **s)
            drawn.append(v)
        ax.axhline(1.0, color="#999999", linewidth=0.8)
        if mark is not None:
            ax.axvline(mark, color="#555555", linestyle=BOUND_STYLE, linewidth=1.2)
            if mark_label:
                ax.annotate(mark_label, xy=(mark, 0.0), xycoords=("data", "axes fraction"), xytext=(4, 5),
                            textcoords="offset points", fontsize=8)   # at the bottom, clear of curves near 1
        ax.set_yscale("log")
        ax.set_xlim(0, max(v.shape[1] - 1 for v in curves.values()))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(DISTANCE_LABEL)
    axes[0, 0].set_ylabel(NORM_LABEL)
    if ylim is not None:
        axes[0, 0].set_ylim(*ylim)
    else:
        values = np.concatenate([v.ravel() for v in drawn])
        positive = values[values > FLOOR]
        if positive.size:
            axes[0, 0].set_ylim(max(positive.min() / 10, 1e-60), max(positive.max() * 10, 10.0))
    handles, names = axes[0, 0].get_legend_handles_labels()
    for ax in axes[0, 1:]:                           # labels that only later panels draw
        for h, name in zip(*ax.get_legend_handles_labels()):
            if name not in names:
                handles.append(h)
                names.append(name)
    fig.tight_layout()
    fig.subplots_adjust(bottom=0.3)
    fig.legend(handles, names, fontsize=8, loc="lower center", ncol=min(3, len(names)), frameon=False)
    return fig
