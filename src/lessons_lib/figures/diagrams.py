"""Diagrams: the gated cells in one visual grammar, and a network unrolled in time with its real numbers.

The grammar has four symbols, as in Olah's diagrams of the LSTM (2015):

- a rounded **box** is a *learned layer*: an activation applied to a
  weighted sum, ``phi(W_x x + W_h h + b_x + b_h)``, with its own rows of
  ``W_x``, ``W_h``, ``b_x``, ``b_h``; the activation is written inside;
- a **circle** is a *point-wise operation*, with no weights: element-wise
  product (drawn as ⊙), sum, ``1 -`` or ``tanh``;
- a **dot** where a wire forks is a *copy*: the same vector goes two ways;
- thin wires that join into a **thick** one are a *concatenation*: the thick
  wire carries both vectors, ``[h_{t-1}, x_t]``.

Wires carry vectors in the direction of their arrows.  Two wires that cross
without a dot are not connected (the upper one is drawn with a gap around it).

:func:`draw_lstm_diagram` and :func:`draw_gru_diagram` use the same
primitives, sizes and heights: the memory (the LSTM's ``c``, the GRU's
``h``) runs along the top, ``[h_{t-1}, x_t]`` along the bottom, and the
gates sit in between, so that the two can be compared side by side.  The
symbols are those of :mod:`lessons_lib.cells.lstm` and :mod:`lessons_lib.cells.gru`:
``i, f, g, o, c, h`` and ``r, z, n, h``.  The GRU is drawn in the library's
default convention (PyTorch's): the reset gate acts *after* the recurrent
product, ``n_t = tanh(W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn))``, and
``h_t = (1 - z_t) * n_t + z_t * h_{t-1}``.

Every artist carries a ``gid`` naming its role (``"layer:f"``,
``"pointwise:+"``, ``"copy"``, ``"concat"``, ``"wire"``, ``"label"``,
``"legend"``), so that tests can check what was drawn.

Reference: C. Olah, "Understanding LSTM networks" (2015).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from ..analysis.anatomy import LSTMAnatomy
from .style import OKABE_ITO, new_axes

WIRE_COLOUR = "#222222"


WIRE_WIDTH = 1.3


CONCAT_WIDTH = 3.6          # a concatenated wire carries two vectors: drawn much thicker


NODE_RADIUS = 0.3           # point-wise operations


WIDE_RADIUS = 0.36          # "tanh" and "1 -" need room for their symbols


BOX_SIZE = (1.1, 0.62)      # learned layers (width, height)


COPY_RADIUS = 0.08


#: Fill of each kind of learned layer; text inside the box names the activation as well, for greyscale.
LAYER_FILLS = {"sigmoid": "#CDE7F5", "tanh": "#FBE3C0", "linear": "#E4E4E4"}


POINTWISE_SYMBOLS = {"*": r"$\odot$", "+": r"$+$", "1-": r"$1-$", "tanh": "tanh"}


#: The extent of a diagram, in data units (the legend adds a band below).
EXTENT = (-0.1, 10.6, -0.75, 6.35)


# Heights shared by both cells: memory line, upper row, middle row, gates, [h, x] bus, input row.
Y_TOP, Y_UPPER, Y_MID, Y_GATES, Y_BUS, Y_INPUT = 5.8, 4.8, 3.7, 2.3, 1.0, 0.25


#: Where the LSTM diagram puts its nodes (data units); ``lessons_lib.figures.diagrams.draw_lstm_cell``
#: writes a step's numbers next to them.
LSTM_LAYOUT = {
    "left": 0.2, "right": 10.35, "merge": 1.2,
    "f": (2.4, Y_GATES), "i": (4.0, Y_GATES), "g": (5.4, Y_GATES), "o": (6.9, Y_GATES),
    "forget": (2.4, Y_TOP), "write": (4.7, Y_MID), "add": (4.7, Y_TOP),
    "copy_c": (8.4, Y_TOP), "tanh_c": (8.4, Y_MID), "expose": (8.4, Y_GATES),
}


#: Where the GRU diagram puts its nodes.
GRU_LAYOUT = {
    "left": 0.2, "right": 10.35, "drop": 0.8, "merge": 1.5,
    "r": (3.0, Y_GATES), "z": (4.4, Y_GATES), "xn": (7.2, Y_GATES), "hn": (1.9, Y_MID),
    "reset": (3.0, Y_MID), "sum_n": (7.2, Y_MID), "tanh_n": (8.6, Y_MID),
    "keep": (4.4, Y_TOP), "one_minus": (6.4, Y_UPPER), "write": (8.6, Y_UPPER), "add": (8.6, Y_TOP),
}


def _check_xy(name: str, xy) -> tuple[float, float]:
    arr = np.asarray(xy, dtype=float)
    if arr.shape != (2,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite point (x, y), got {xy!r}")
    return float(arr[0]), float(arr[1])


def learned_layer(ax, xy, text: str, kind: str = "sigmoid", name: str = "", width: float | None = None,
                  fontsize: float = 11):
    """A learned layer: a rounded box centred at ``xy`` with ``text`` (its activation) inside.

    ``kind`` is ``"sigmoid"``, ``"tanh"`` or ``"linear"`` and sets the fill;
    ``name`` (the gate's symbol, ``"f"`` say) goes into the artist's gid.
    Returns the box patch.
    """
    x, y = _check_xy("xy", xy)
    if kind not in LAYER_FILLS:
        raise ValueError(f"kind must be one of {tuple(LAYER_FILLS)}, got {kind!r}")
    w, h = (BOX_SIZE[0] if width is None else float(width)), BOX_SIZE[1]
    box = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04", facecolor=LAYER_FILLS[kind],
                         edgecolor=WIRE_COLOUR, linewidth=1.2, zorder=3, gid=f"layer:{name}")
    ax.add_patch(box)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4, gid=f"layer-text:{name}")
    return box


def node_radius(op: str) -> float:
    """The radius of the circle of point-wise operation ``op``."""
    return WIDE_RADIUS if op in ("tanh", "1-") else NODE_RADIUS


def pointwise(ax, xy, op: str, radius: float | None = None, fontsize: float | None = None):
    """A point-wise operation: a circle centred at ``xy`` with its symbol.

    ``op`` is ``"*"`` (element-wise product, drawn as ⊙), ``"+"``, ``"1-"`` or
    ``"tanh"``.  Returns the circle patch.
    """
    x, y = _check_xy("xy", xy)
    if op not in POINTWISE_SYMBOLS:
        raise ValueError(f"op must be one of {tuple(POINTWISE_SYMBOLS)}, got {op!r}")
    radius = node_radius(op) if radius is None else float(radius)
    circle = Circle((x, y), radius, facecolor="#FFFFFF", edgecolor=WIRE_COLOUR, linewidth=1.2, zorder=3,
                    gid=f"pointwise:{op}")
    ax.add_patch(circle)
    size = fontsize if fontsize is not None else (8 if op == "tanh" else 13 if op in ("*", "+") else 9.5)
    ax.text(x, y, POINTWISE_SYMBOLS[op], ha="center", va="center", fontsize=size, zorder=4,
            gid=f"pointwise-text:{op}")
    return circle


def copy_dot(ax, xy):
    """A copy: a filled dot where a wire forks.  Returns the dot."""
    dot = Circle(_check_xy("xy", xy), COPY_RADIUS, facecolor=WIRE_COLOUR, edgecolor=WIRE_COLOUR, zorder=5,
                 gid="copy")
    ax.add_patch(dot)
    return dot


def wire(ax, points: Sequence, arrow: bool = True, end_gap: float = 0.0, concat: bool = False,
         bridge: bool = False, mid_arrow: bool = False):
    """A wire through ``points``, with an arrowhead at the last one.

    Parameters
    ----------
    ax : matplotlib Axes
    points : sequence of at least two (x, y) points
    arrow : bool
        Draw an arrowhead at the end (the direction of flow).
    end_gap : float
        Stop this far before the last point (the radius of the node it enters).
    concat : bool
        A concatenated wire (``[h_{t-1}, x_t]``): drawn thick.
    bridge : bool
        Draw a white gap around the wire, so that a wire it crosses is seen
        to pass under it, not to join it.
    mid_arrow : bool
        Also draw an arrowhead halfway along the last segment (for a wire
        that ends in a junction, where an arrowhead at the end would hide it).

    Returns
    -------
    list of the artists drawn
    """
    pts = [_check_xy(f"points[{k}]", p) for k, p in enumerate(points)]
    if len(pts) < 2:
        raise ValueError(f"points must hold at least two (x, y) points, got {len(pts)}")
    if end_gap < 0:
        raise ValueError(f"end_gap must be zero or positive, got {end_gap}")
    (x0, y0), (x1, y1) = pts[-2], pts[-1]
    length = np.hypot(x1 - x0, y1 - y0)
    if end_gap >= length:
        raise ValueError(f"end_gap {end_gap} is longer than the last segment ({length:.3g})")
    pts[-1] = (x1 - (x1 - x0) * end_gap / length, y1 - (y1 - y0) * end_gap / length)
    lw = CONCAT_WIDTH if concat else WIRE_WIDTH
    gid = "concat" if concat else "wire"
    effects = [patheffects.withStroke(linewidth=lw + 7, foreground="#FFFFFF"), patheffects.Normal()] if bridge else None
    xs, ys = zip(*pts)
    zorder = 1.5 if bridge else 1
    line, = ax.plot(xs, ys, color=WIRE_COLOUR, linewidth=lw, solid_capstyle="butt", solid_joinstyle="miter",
                    zorder=zorder, gid=gid, path_effects=effects)
    artists = [line]
    if arrow:
        head = FancyArrowPatch(pts[-2], pts[-1], arrowstyle="-|>", mutation_scale=13 if not concat else 16,
                               linewidth=0, color=WIRE_COLOUR, shrinkA=0, shrinkB=0, zorder=2, gid="arrow")
        ax.add_patch(head)
        artists.append(head)
    if mid_arrow:
        (xa, ya), (xb, yb) = pts[-2], pts[-1]
        xm, ym = (xa + xb) / 2, (ya + yb) / 2
        head = FancyArrowPatch((xa, ya), (xm, ym), arrowstyle="-|>", mutation_scale=13, linewidth=0,
                               color=WIRE_COLOUR, shrinkA=0, shrinkB=0, zorder=2, gid="arrow")
        ax.add_patch(head)
        artists.append(head)
    return artists


def label(ax, xy, text: str, ha: str = "left", va: str = "center", fontsize: float = 11):
    """A symbol written next to a wire, on a white background so that no line runs through it."""
    x, y = _check_xy("xy", xy)
    return ax.text(x, y, text, ha=ha, va=va, fontsize=fontsize, zorder=6, gid="label",
                   bbox={"boxstyle": "round,pad=0.08", "facecolor": "#FFFFFF", "edgecolor": "none"})


def draw_grammar_legend(ax, y: float = -1.45, x0: float = 0.2, gap: float = 0.55, fontsize: float = 9):
    """The four symbols of the grammar in one row at height ``y``, each followed by its meaning.

    Each item starts where the text of the previous one ends (measured), so
    that no label runs into the next symbol.
    """
    kw = {"color": WIRE_COLOUR, "linewidth": WIRE_WIDTH, "gid": "legend"}
    renderer = ax.figure.canvas.get_renderer()
    to_data = ax.transData.inverted()
    x = x0

    def text(x_left, words):
        t = ax.text(x_left, y, words, ha="left", va="center", fontsize=fontsize, gid="legend")
        box = t.get_window_extent(renderer)
        return to_data.transform((box.x1, box.y0))[0]

    # learned layer
    ax.add_patch(FancyBboxPatch((x, y - 0.22), 0.62, 0.44, boxstyle="round,pad=0.03",
                                facecolor=LAYER_FILLS["sigmoid"], edgecolor=WIRE_COLOUR, linewidth=1.1, zorder=3,
                                gid="legend"))
    ax.text(x + 0.31, y, r"$\sigma$", ha="center", va="center", fontsize=10, zorder=4, gid="legend")
    x = text(x + 0.78, "learned layer") + gap
    # point-wise operation
    ax.add_patch(Circle((x + 0.24, y), 0.24, facecolor="#FFFFFF", edgecolor=WIRE_COLOUR, linewidth=1.1, zorder=3,
                        gid="legend"))
    ax.text(x + 0.24, y, r"$\odot$", ha="center", va="center", fontsize=11, zorder=4, gid="legend")
    x = text(x + 0.6, "point-wise operation") + gap
    # copy: one wire forks at a dot
    xk = x + 0.45
    ax.plot([x, xk], [y, y], **kw)
    ax.plot([xk, xk + 0.3], [y, y + 0.22], **kw)
    ax.plot([xk, xk + 0.3], [y, y - 0.22], **kw)
    ax.add_patch(Circle((xk, y), COPY_RADIUS, facecolor=WIRE_COLOUR, edgecolor=WIRE_COLOUR, zorder=5, gid="legend"))
    x = text(xk + 0.45, "copy") + gap
    # concatenation: two wires join into a thick one
    xm = x + 0.45
    ax.plot([x, xm], [y + 0.22, y], **kw)
    ax.plot([x, xm], [y - 0.22, y], **kw)
    ax.plot([xm, xm + 0.45], [y, y], color=WIRE_COLOUR, linewidth=CONCAT_WIDTH, solid_capstyle="butt",
            gid="legend")
    text(xm + 0.6, "concatenate")
    ax.set_ylim(min(ax.get_ylim()[0], y - 0.4), ax.get_ylim()[1])


def _new_axes(ax, legend: bool):
    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 5.0 if legend else 4.4))
    xmin, xmax, ymin, ymax = EXTENT
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _box_edge(xy, side: str) -> tuple[float, float]:
    x, y = xy
    half = BOX_SIZE[1] / 2 + 0.04     # the rounding pad sticks out a little
    return (x, y - half) if side == "bottom" else (x, y + half)


def draw_lstm_diagram(ax=None, legend: bool = True, labels: bool = True, gate_labels: bool = True,
                      title: str | None = None):
    """Figure 4: the LSTM cell (library order of the gates i, f, g, o; drawn f, i, g, o from left to right).

    The cell state ``c`` runs along the top: the forget gate multiplies it,
    the input gate's share of the candidate is added.  ``[h_{t-1}, x_t]``
    runs along the bottom and is copied to the four learned layers.  On the
    right, ``tanh(c_t)`` times the output gate is the new hidden state::

        c_t = f_t * c_{t-1} + i_t * g_t,    h_t = o_t * tanh(c_t)

    Parameters
    ----------
    ax : matplotlib Axes, optional
    legend : bool
        Draw the grammar's legend below the cell.
    labels : bool
        Write the states' symbols (``c_{t-1}``, ``h_t``, ...) at the ends of their wires.
    gate_labels : bool
        Write the gates' symbols (``f_t``, ``i_t``, ``g_t``, ``o_t``) next to their wires.
    title : str, optional

    Returns
    -------
    the Axes
    """
    ax = _new_axes(ax, legend)
    L, r = LSTM_LAYOUT, NODE_RADIUS
    left, right = L["left"], L["right"]
    # the cell-state line: c_{t-1} -> (*f) -> (+ i*g) -> copy -> c_t
    wire(ax, [(left, Y_TOP), L["forget"]], end_gap=r)
    wire(ax, [L["forget"], L["add"]], end_gap=r)
    wire(ax, [L["add"], (right, Y_TOP)])
    copy_dot(ax, L["copy_c"])
    # [h_{t-1}, x_t] bus, copied to the four layers
    wire(ax, [(left, Y_BUS), (L["merge"], Y_BUS)], arrow=False, mid_arrow=True)
    wire(ax, [(L["merge"], EXTENT[2] + 0.05), (L["merge"], Y_BUS)], arrow=False, mid_arrow=True)
    wire(ax, [(L["merge"], Y_BUS), (L["o"][0], Y_BUS)], arrow=False, concat=True)
    for gate in "figo":
        x = L[gate][0]
        wire(ax, [(x, Y_BUS), _box_edge(L[gate], "bottom")], concat=True)
        if gate != "o":
            copy_dot(ax, (x, Y_BUS))
    learned_layer(ax, L["f"], r"$\sigma$", "sigmoid", "f")
    learned_layer(ax, L["i"], r"$\sigma$", "sigmoid", "i")
    learned_layer(ax, L["g"], "tanh", "tanh", "g", fontsize=10)
    learned_layer(ax, L["o"], r"$\sigma$", "sigmoid", "o")
    # forget: f_t scales c_{t-1}
    wire(ax, [_box_edge(L["f"], "top"), L["forget"]], end_gap=r)
    pointwise(ax, L["forget"], "*")
    # input: i_t * g_t, added to the kept cell
    wx, wy = L["write"]
    wire(ax, [_box_edge(L["i"], "top"), (L["i"][0], wy), L["write"]], end_gap=r)
    wire(ax, [_box_edge(L["g"], "top"), (L["g"][0], wy), L["write"]], end_gap=r)
    pointwise(ax, L["write"], "*")
    wire(ax, [L["write"], L["add"]], end_gap=r)
    pointwise(ax, L["add"], "+")
    # output: h_t = o_t * tanh(c_t)
    wire(ax, [L["copy_c"], L["tanh_c"]], end_gap=WIDE_RADIUS)
    pointwise(ax, L["tanh_c"], "tanh")
    wire(ax, [L["tanh_c"], L["expose"]], end_gap=r)
    wire(ax, [(L["o"][0] + BOX_SIZE[0] / 2 + 0.04, Y_GATES), L["expose"]], end_gap=r)
    pointwise(ax, L["expose"], "*")
    wire(ax, [L["expose"], (L["expose"][0], Y_BUS), (right, Y_BUS)])
    if labels:
        label(ax, (left, Y_TOP + 0.32), "$c_{t-1}$", ha="left")
        label(ax, (right, Y_TOP + 0.32), "$c_t$", ha="right")
        label(ax, (left, Y_BUS + 0.3), "$h_{t-1}$", ha="left")
        label(ax, (L["merge"] + 0.15, EXTENT[2] + 0.3), "$x_t$", ha="left")
        label(ax, (right, Y_BUS + 0.3), "$h_t$", ha="right")
    if gate_labels:
        label(ax, (L["f"][0] + 0.12, Y_MID), "$f_t$")
        label(ax, (L["i"][0] - 0.12, 3.05), "$i_t$", ha="right")
        label(ax, (L["g"][0] + 0.12, 3.05), "$g_t$")
        label(ax, (L["o"][0] + 0.62, Y_GATES + 0.25), "$o_t$")
    if legend:
        draw_grammar_legend(ax)
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def draw_gru_diagram(ax=None, legend: bool = True, labels: bool = True, title: str | None = None):
    """Figure 3: the GRU cell in the library's default convention (PyTorch's), gates r, z, n.

    The hidden state ``h`` runs along the top, as the LSTM's cell does.  The
    update gate splits each unit between the old state and the candidate::

        h_t = (1 - z_t) * n_t + z_t * h_{t-1}
        n_t = tanh(W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn))

    so the reset gate ``r_t`` multiplies the output of the recurrent layer
    ``W_hn h_{t-1} + b_hn`` (after the product), and the candidate's tanh is
    a point-wise operation on the sum.  The two layers without activation
    are drawn as boxes marked with their weights.

    Parameters
    ----------
    ax : matplotlib Axes, optional
    legend : bool
        Draw the grammar's legend below the cell.
    labels : bool
        Write the symbols (``r_t``, ``z_t``, ...) next to the wires.
    title : str, optional

    Returns
    -------
    the Axes
    """
    ax = _new_axes(ax, legend)
    G, r = GRU_LAYOUT, NODE_RADIUS
    left, right, drop, merge = G["left"], G["right"], G["drop"], G["merge"]
    # the hidden-state line: h_{t-1} -> copy -> (* z) -> (+ (1 - z) * n) -> h_t
    wire(ax, [(left, Y_TOP), G["keep"]], end_gap=r)
    copy_dot(ax, (drop, Y_TOP))
    wire(ax, [G["keep"], G["add"]], end_gap=r)
    wire(ax, [G["add"], (right, Y_TOP)])
    # h_{t-1} copied down: to the recurrent layer of the candidate, and into the bus
    wire(ax, [(drop, Y_TOP), (drop, Y_BUS), (merge, Y_BUS)], arrow=False, mid_arrow=True)
    copy_dot(ax, (drop, Y_MID))
    wire(ax, [(drop, Y_MID), (G["hn"][0] - 0.7, Y_MID)], end_gap=0.04)
    # x_t, copied: into the bus and to the input layer of the candidate
    wire(ax, [(merge, EXTENT[2] + 0.05), (merge, Y_INPUT)], arrow=False, mid_arrow=True)
    wire(ax, [(merge, Y_INPUT), (merge, Y_BUS)], arrow=False, mid_arrow=True)
    copy_dot(ax, (merge, Y_INPUT))
    wire(ax, [(merge, Y_INPUT), (G["xn"][0], Y_INPUT), _box_edge(G["xn"], "bottom")])
    # [h_{t-1}, x_t] bus to the two gates
    wire(ax, [(merge, Y_BUS), (G["z"][0], Y_BUS)], arrow=False, concat=True)
    for gate in "rz":
        wire(ax, [(G[gate][0], Y_BUS), _box_edge(G[gate], "bottom")], concat=True)
    copy_dot(ax, (G["r"][0], Y_BUS))
    learned_layer(ax, G["r"], r"$\sigma$", "sigmoid", "r")
    learned_layer(ax, G["z"], r"$\sigma$", "sigmoid", "z")
    learned_layer(ax, G["hn"], r"$W_{hn}, b_{hn}$", "linear", "hn", width=1.4, fontsize=10)
    learned_layer(ax, G["xn"], r"$W_{xn}, b_{xn}$", "linear", "xn", width=1.4, fontsize=10)
    # candidate: tanh(W_xn x + b_xn + r * (W_hn h + b_hn))
    wire(ax, [(G["hn"][0] + 0.74, Y_MID), G["reset"]], end_gap=r)
    wire(ax, [_box_edge(G["r"], "top"), G["reset"]], end_gap=r)
    pointwise(ax, G["reset"], "*")
    wire(ax, [G["reset"], G["sum_n"]], end_gap=r)
    wire(ax, [_box_edge(G["xn"], "top"), G["sum_n"]], end_gap=r)
    pointwise(ax, G["sum_n"], "+")
    wire(ax, [G["sum_n"], G["tanh_n"]], end_gap=WIDE_RADIUS)
    pointwise(ax, G["tanh_n"], "tanh")
    wire(ax, [G["tanh_n"], G["write"]], end_gap=r)
    # update gate: z keeps the old state, 1 - z writes the candidate
    wire(ax, [_box_edge(G["z"], "top"), G["keep"]], end_gap=r, bridge=True)
    copy_dot(ax, (G["z"][0], Y_UPPER))
    wire(ax, [(G["z"][0], Y_UPPER), G["one_minus"]], end_gap=WIDE_RADIUS)
    pointwise(ax, G["one_minus"], "1-")
    wire(ax, [G["one_minus"], G["write"]], end_gap=r)
    pointwise(ax, G["keep"], "*")
    pointwise(ax, G["write"], "*")
    wire(ax, [G["write"], G["add"]], end_gap=r)
    pointwise(ax, G["add"], "+")
    if labels:
        label(ax, (left, Y_TOP + 0.32), "$h_{t-1}$", ha="left")
        label(ax, (right, Y_TOP + 0.32), "$h_t$", ha="right")
        label(ax, (merge + 0.15, EXTENT[2] + 0.3), "$x_t$", ha="left")
        label(ax, (G["r"][0] + 0.12, 3.05), "$r_t$")
        label(ax, (G["z"][0] + 0.12, 3.05), "$z_t$")
        label(ax, (G["one_minus"][0] + 0.38, Y_UPPER + 0.27), "$1 - z_t$")
        label(ax, (G["tanh_n"][0] + 0.12, (Y_MID + Y_UPPER) / 2), "$n_t$")
    if legend:
        draw_grammar_legend(ax)
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def draw_cell_comparison(axes=None):
    """The GRU (left) and the LSTM (right) side by side, on one scale, with one legend below both.

    Returns the figure.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(13.0, 5.0))
    else:
        fig = axes[0].figure
    if len(axes) != 2:
        raise ValueError(f"axes must hold 2 Axes (GRU, LSTM), got {len(axes)}")
    draw_gru_diagram(axes[0], legend=True, title="GRU (Figure 3)")
    draw_lstm_diagram(axes[1], legend=False, title="LSTM (Figure 4)")
    axes[1].set_ylim(axes[0].get_ylim())
    return fig


_LAYER_COLOURS = {"input": "#FBE3C0", "hidden": "#CDE7F5", "output": "#D2EEE3"}


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
    ax = new_axes(ax, (2.3 * T + 1.6, 6.4))
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


def draw_lstm_cell(anat=None, unit: int = 0, n: int = 0, ax=None):
    """The LSTM cell as a diagram: the cell-state line on top, the four gates below.

    The cell is drawn by :func:`draw_lstm_diagram`, in
    the book's one grammar of learned layers and point-wise operations, with
    the section of chapter 4 that explains each part written next to it.
    With ``anat`` (an :class:`~lessons_lib.analysis.anatomy.LSTMAnatomy`), the values
    of one unit are written next to the wires: what the gates are, and what
    is kept, written and exposed at that step.
    """
    if anat is not None and not isinstance(anat, LSTMAnatomy):
        raise TypeError(f"anat must be an LSTMAnatomy, got {type(anat).__name__}")
    if anat is not None:
        N, H = anat.h.shape
        if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < H:
            raise ValueError(f"unit must be an int in 0 .. {H - 1}, got {unit!r}")
        if not 0 <= n < N:
            raise ValueError(f"n must be an int in 0 .. {N - 1}, got {n!r}")
    ax = new_axes(ax, (8.4, 5.6))
    draw_lstm_diagram(ax, legend=False, gate_labels=anat is None)
    L, top, bus = LSTM_LAYOUT, Y_TOP, Y_BUS
    note = {"fontsize": 8, "style": "italic", "zorder": 6}
    ax.text(L["forget"][0] - 0.15, top + 0.45, "4.1 forget", ha="center", **note)
    ax.text(L["add"][0], top + 0.45, "4.2 write, 4.3 add", ha="center", **note)
    ax.text(L["tanh_c"][0] + 0.5, L["tanh_c"][1], "4.4 expose", ha="left", va="center", **note)

    if anat is not None:
        v = {k: float(getattr(anat, k)[n, unit]) for k in ("c_prev", "f", "i", "g", "o", "kept", "written", "c", "h",
                                                           "h_prev")}
        box = {"boxstyle": "round,pad=0.15", "facecolor": "#FFFFFF", "edgecolor": OKABE_ITO["vermillion"],
               "linewidth": 0.9}
        kw = {"fontsize": 8, "family": "monospace", "bbox": box, "zorder": 7, "va": "center"}
        below_top, below_bus = top - 0.45, bus - 0.45
        ax.text((L["left"] + L["forget"][0]) / 2, below_top, f"{v['c_prev']:+.2f}", ha="center", **kw)
        ax.text(L["f"][0] + 0.14, Y_MID, f"f={v['f']:.2f}", ha="left", **kw)
        ax.text((L["forget"][0] + L["add"][0]) / 2, below_top, f"{v['kept']:+.2f}", ha="center", **kw)
        ax.text(L["i"][0] - 0.14, 3.05, f"i={v['i']:.2f}", ha="right", **kw)
        ax.text(L["g"][0] + 0.14, 3.05, f"g={v['g']:+.2f}", ha="left", **kw)
        ax.text(L["add"][0] + 0.14, (L["write"][1] + top) / 2, f"{v['written']:+.2f}", ha="left", **kw)
        ax.text((L["copy_c"][0] + L["right"]) / 2, below_top, f"{v['c']:+.2f}", ha="center", **kw)
        ax.text((L["o"][0] + L["expose"][0]) / 2 + 0.25, Y_GATES + 0.45, f"o={v['o']:.2f}", ha="center",
                **kw)
        ax.text((L["expose"][0] + L["right"]) / 2, below_bus, f"{v['h']:+.2f}", ha="center", **kw)
        ax.text((L["left"] + L["merge"]) / 2, below_bus, f"{v['h_prev']:+.2f}", ha="center", **kw)
    return ax
