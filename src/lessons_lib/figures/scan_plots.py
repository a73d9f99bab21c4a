"""The parallel scan of a gated linear recurrence: its steps drawn for a short sequence, and its measured speed.

:func:`draw_scan_steps` draws the schedule that :func:`lessons_lib.cells.linear_recurrence.scan_levels`
returns, one row per sequential step, for Blelloch's work-efficient scan (up-sweep, down-sweep, finish)
and for Hillis-Steele doubling side by side.  Each arrow is one application of the operator
``(a_1, b_1) o (a_2, b_2) = (a_2 a_1, a_2 b_1 + b_2)``; a thin grey line is a value carried unchanged
to the next step.  The phases differ in line style as well as in colour, so the figure reads in greyscale.

:func:`plot_scan_benchmark` plots the timings stored by ``benchmarks/scan.py``
(``results/scan_benchmark.json``): seconds per call against ``T``, on log-log axes.

Every arrow and dot carries a ``gid`` (``"combine:up-sweep"``, ``"combine:down-sweep"``,
``"combine:finish"``, ``"combine:doubling"``, ``"carry"``, ``"element"``, ``"identity"``) so that tests
can count what was drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from ..cells.linear_recurrence import scan_levels
from .style import LINESTYLES, MARKERS, OKABE_ITO, new_axes

#: How each phase is drawn, in colour and line style (two cues, for greyscale).
PHASE_STYLES = {
    "up-sweep": {"color": OKABE_ITO["blue"], "linestyle": "-"},
    "down-sweep": {"color": OKABE_ITO["vermillion"], "linestyle": "--"},
    "finish": {"color": OKABE_ITO["black"], "linestyle": ":"},
    "doubling": {"color": OKABE_ITO["green"], "linestyle": "-"},
}
CARRY_COLOUR = "#BBBBBB"


def _arrow(ax, start, end, phase, curve=0.0):
    style = PHASE_STYLES[phase]
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, lw=1.4, color=style["color"],
                                 linestyle=style["linestyle"], shrinkA=4, shrinkB=4, gid=f"combine:{phase}",
                                 connectionstyle=f"arc3,rad={curve}", zorder=3))


def _carry(ax, t, y_from, y_to):
    ax.add_line(Line2D([t, t], [y_from, y_to], color=CARRY_COLOUR, lw=0.8, zorder=1, gid="carry"))


def _step_label(step) -> str:
    if step.phase == "doubling":
        return f"doubling, offset {1 << step.level}"
    if step.phase == "finish":
        return "finish"
    return f"{step.phase}, stride {1 << step.level}"


def draw_steps(ax, T: int, method: str):
    """Draw the schedule of one method into ``ax``: row 0 the elements ``e_1 .. e_T``, then one row per step."""
    steps = scan_levels(T, method)
    width = max((j for s in steps for pair in s.pairs for j in pair), default=T - 1) + 1   # the scan pads to 2^k
    for t in range(width):
        padded = t >= T
        ax.plot([t], [0], marker="s" if padded else "o", ms=6, mfc="white" if padded else "black", mec="black",
                ls="none", zorder=4, gid="element")
    seen_down = False
    for k, step in enumerate(steps, start=1):
        y_prev, y = -(k - 1), -k
        touched = {j for pair in step.pairs for j in pair}
        for t in range(width):
            if t not in touched:
                _carry(ax, t, y_prev, y)
        if step.phase == "down-sweep" and not seen_down:     # the root's partial product is replaced by the identity
            ax.plot([width - 1], [y_prev], marker="D", ms=7, mfc="white", mec=PHASE_STYLES["down-sweep"]["color"],
                    ls="none", zorder=5, gid="identity")
            seen_down = True
        for i, j in step.pairs:
            if step.phase in ("up-sweep", "doubling"):       # e_j <- e_i o e_j
                _arrow(ax, (i, y_prev), (j, y), step.phase)
                _carry(ax, j, y_prev, y)
                if step.phase == "up-sweep":
                    _carry(ax, i, y_prev, y)
            elif step.phase == "down-sweep":                 # (e_i, e_j) <- (e_j, e_j o e_i)
                _arrow(ax, (j, y_prev), (i, y), step.phase)
                _arrow(ax, (i, y_prev), (j, y), step.phase)
                _carry(ax, j, y_prev, y)
            else:                                            # finish: E_j = E_{j-1} o e_j, in place
                _arrow(ax, (j, y_prev), (j, y), step.phase)
        for t in range(width):
            ax.plot([t], [y], marker="o", ms=3.5, color="black", ls="none", zorder=4)
    work = sum(len(s.pairs) for s in steps)
    ax.set_yticks([0] + [-k for k in range(1, len(steps) + 1)], ["elements"] + [_step_label(s) for s in steps],
                  fontsize=8)
    ax.set_xticks(range(width), [str(t + 1) for t in range(width)], fontsize=8)
    ax.set_xlim(-0.6, width - 0.4)
    ax.set_ylim(-len(steps) - 0.5, 0.5)
    ax.set_xlabel("time step $t$" + (" (squares: padding with the identity)" if width > T else ""))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax, len(steps), work


def draw_scan_steps(T: int = 8, figsize=(11.0, 4.2)):
    """Blelloch's scan and doubling over ``T`` elements, as two panels; returns the figure.

    Left: the work-efficient scan, an up-sweep that builds partial products
    over blocks of 2, 4, ... elements, a down-sweep (after the root is set to
    the identity, the white diamond) that hands every block the product of
    everything before it, and a finishing step that combines each exclusive
    prefix with its own element.  Right: recursive doubling, where at offset
    ``k`` every element combines with the one ``k`` steps before it.  Each
    panel's title gives its depth (rows) and its work (arrows).
    """
    fig, axes = plt.subplots(1, 2, figsize=figsize, sharey=False)
    for ax, method, name in zip(axes, ("scan", "doubling"), ("work-efficient scan (blelloch)",
                                                              "recursive doubling (hillis-steele)")):
        _, depth, work = draw_steps(ax, T, method)
        ax.set_title(f"{name}: {depth} steps, {work} combinations", fontsize=10)
    handles = [Line2D([], [], lw=1.4, label=phase.replace("-", " "), **PHASE_STYLES[phase]) for phase in PHASE_STYLES]
    handles.append(Line2D([], [], color=CARRY_COLOUR, lw=0.8, label="carried unchanged"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _rows(benchmark) -> list:
    if isinstance(benchmark, Mapping):
        if "rows" not in benchmark:
            raise KeyError(f"benchmark must be the stored results (a dict with 'rows') or its rows, got the keys "
                           f"{sorted(benchmark)}")
        benchmark = benchmark["rows"]
    rows = list(benchmark)
    if not rows:
        raise ValueError("benchmark holds no rows")
    missing = [k for k in ("what", "model", "method", "N", "H", "T", "seconds") if k not in rows[0]]
    if missing:
        raise KeyError(f"the benchmark rows lack {missing}; they have {sorted(rows[0])}")
    return rows


def plot_scan_benchmark(benchmark, ax=None, what: str | Sequence[str] | None = None):
    """Seconds per call against ``T`` (log-log), one line per method and size, from ``benchmarks/scan.py``'s results.

    Parameters
    ----------
    benchmark : dict or list of dict
        The loaded ``results/scan_benchmark.json`` (a dict with ``rows``), or its rows.
    ax : matplotlib Axes, optional
    what : {"recurrence", "cell"} or a list of them, optional
        Which rows to plot: the bare recurrence, the cells' forward passes, or both (None).

    Returns
    -------
    matplotlib Axes
        Line colour and marker name the method; the line style names the size (solid the smaller).
    """
    rows = _rows(benchmark)
    wanted = {r["what"] for r in rows} if what is None else {what} if isinstance(what, str) else set(what)
    rows = [r for r in rows if r["what"] in wanted]
    if not rows:
        raise ValueError(f"no benchmark rows of {sorted(wanted)}")
    ax = new_axes(ax, (6.4, 4.2))
    names, sizes = [], []
    for r in rows:
        name = r["model"] if r["method"] is None else f"{r['model']}, {r['method']}"
        if name not in names:
            names.append(name)
        if (r["N"], r["H"]) not in sizes:
            sizes.append((r["N"], r["H"]))
    colours = [OKABE_ITO[c] for c in ("blue", "vermillion", "green", "black", "purple", "orange", "sky")]
    for k, name in enumerate(names):
        for s, (N, H) in enumerate(sizes):
            line = sorted((r["T"], r["seconds"]) for r in rows
                          if (r["model"] if r["method"] is None else f"{r['model']}, {r['method']}") == name
                          and (r["N"], r["H"]) == (N, H))
            if not line:
                continue
            ax.plot([t for t, _ in line], [sec for _, sec in line], color=colours[k % len(colours)],
                    marker=MARKERS[k % len(MARKERS)], linestyle=LINESTYLES[s % len(LINESTYLES)], ms=5,
                    mfc="white" if s else None, label=f"{name} (N = {N}, H = {H})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sequence length $T$ (steps)")
    ax.set_ylabel("time per call (s)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    return ax
