"""lessons_lib.figures.diagrams: what the two cell diagrams draw, that they share one grammar, and that labels stay clear.

The diagrams tag every artist with a ``gid`` naming its role, so the tests
count learned layers, point-wise operations, copies and concatenations, and
check the layout from the rendered bounding boxes: no label overlaps another
label, a node or a wire.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

from lessons_lib.analysis import anatomy  # noqa: E402
from lessons_lib.figures import diagrams, gradient_plots, result_plots, state_plots, task_plots, widgets  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def gids(ax, prefix):
    """The gids of the patches whose gid starts with ``prefix``."""
    return sorted(p.get_gid() for p in ax.patches if (p.get_gid() or "").startswith(prefix))


def texts(ax, gid=None):
    return [t.get_text() for t in ax.texts if gid is None or t.get_gid() == gid]


def rendered(ax):
    ax.figure.canvas.draw()
    return ax.figure.canvas.get_renderer()


def _overlap(a, b, pad=0.5):
    return a.x0 < b.x1 - pad and b.x0 < a.x1 - pad and a.y0 < b.y1 - pad and b.y0 < a.y1 - pad


def _crosses(box, line, samples=60):
    """Whether a wire (a Line2D in data units) passes through a display-space box."""
    to_display = line.get_transform()
    pts = np.column_stack(line.get_data())
    for p, q in zip(pts[:-1], pts[1:]):
        seg = to_display.transform(p + np.linspace(0, 1, samples)[:, None] * (q - p))
        inside = ((seg[:, 0] > box.x0 + 1) & (seg[:, 0] < box.x1 - 1) & (seg[:, 1] > box.y0 + 1)
                  & (seg[:, 1] < box.y1 - 1))
        if inside.any():
            return True
    return False


def clash_report(ax, label_gids=("label", "legend")):
    """Every pair of (label, label), (label, node) and (label, wire) that overlaps, as readable strings."""
    renderer = rendered(ax)
    labels = [t for t in ax.texts if t.get_gid() in label_gids]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]
    nodes = [p for p in ax.patches if isinstance(p, (Circle, FancyBboxPatch)) and
             (p.get_gid() or "").startswith(("layer:", "pointwise:", "copy"))]
    wires = [line for line in ax.lines if line.get_gid() in ("wire", "concat")]
    problems = []
    for k, (name, box) in enumerate(boxes):
        for other, box2 in boxes[k + 1:]:
            if _overlap(box, box2):
                problems.append(f"{name!r} overlaps {other!r}")
        for p in nodes:
            if _overlap(box, p.get_window_extent(renderer)):
                problems.append(f"{name!r} overlaps node {p.get_gid()}")
        for line in wires:
            if _crosses(box, line):
                problems.append(f"{name!r} sits on a wire")
    return problems


# ----------------------------------------------------------------------------- the LSTM (Figure 4)

def test_lstm_diagram_draws_the_cells_parts():
    ax = diagrams.draw_lstm_diagram()
    assert gids(ax, "layer:") == ["layer:f", "layer:g", "layer:i", "layer:o"]
    assert gids(ax, "pointwise:") == ["pointwise:*", "pointwise:*", "pointwise:*", "pointwise:+", "pointwise:tanh"]
    assert len(gids(ax, "copy")) == 4              # c_t to tanh, and [h, x] to three of the four layers
    concat = [line for line in ax.lines if line.get_gid() == "concat"]
    assert concat and all(line.get_linewidth() == diagrams.CONCAT_WIDTH for line in concat)
    # the layers' activations are written in them, so the boxes read without colour
    assert texts(ax, "layer-text:f") == [r"$\sigma$"] and texts(ax, "layer-text:g") == ["tanh"]
    symbols = set(texts(ax, "label"))
    assert {"$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", "$f_t$", "$i_t$", "$g_t$", "$o_t$"} == symbols
    assert texts(ax, "legend") == ["$\\sigma$", "learned layer", "$\\odot$", "point-wise operation", "copy",
                                   "concatenate"]


def test_lstm_diagram_options():
    ax = diagrams.draw_lstm_diagram(legend=False, gate_labels=False, title="LSTM")
    assert not texts(ax, "legend")
    assert set(texts(ax, "label")) == {"$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$"}
    assert ax.get_title() == "LSTM"
    bare = diagrams.draw_lstm_diagram(labels=False, gate_labels=False, legend=False)
    assert not texts(bare, "label")


def test_lstm_diagram_layout_follows_the_equations():
    """c_t = f * c_{t-1} + i * g on the top line (forget before add); h_t = o * tanh(c_t) on the right."""
    L = diagrams.LSTM_LAYOUT
    assert L["forget"][1] == L["add"][1] == diagrams.Y_TOP and L["forget"][0] < L["add"][0] < L["copy_c"][0]
    assert L["i"][0] < L["write"][0] < L["g"][0]       # i * g between the two layers it multiplies
    assert L["copy_c"][0] == L["tanh_c"][0] == L["expose"][0] and L["expose"][1] == L["o"][1]


# ----------------------------------------------------------------------------- the GRU (Figure 3)

def test_gru_diagram_draws_pytorchs_convention():
    ax = diagrams.draw_gru_diagram()
    assert gids(ax, "layer:") == ["layer:hn", "layer:r", "layer:xn", "layer:z"]
    assert gids(ax, "pointwise:") == ["pointwise:*", "pointwise:*", "pointwise:*", "pointwise:+", "pointwise:+",
                                      "pointwise:1-", "pointwise:tanh"]
    assert len(gids(ax, "copy")) == 5              # h_{t-1} twice, x_t, [h, x] to r and z, z_t to both uses
    assert texts(ax, "layer-text:hn") == [r"$W_{hn}, b_{hn}$"] and texts(ax, "layer-text:r") == [r"$\sigma$"]
    boxes = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("layer:")}
    assert boxes["layer:hn"].get_facecolor() == boxes["layer:xn"].get_facecolor() != boxes["layer:r"].get_facecolor()
    assert {"$h_{t-1}$", "$h_t$", "$x_t$", "$r_t$", "$z_t$", "$1 - z_t$", "$n_t$"} == set(texts(ax, "label"))
    # exactly one crossing, drawn as a bridge (a white gap around the upper wire)
    assert sum(bool(line.get_path_effects()) for line in ax.lines) == 1


def test_gru_diagram_layout_puts_the_reset_gate_after_the_product():
    """r multiplies the output of the W_hn layer, on the way to the sum with W_xn x: PyTorch's placement."""
    G = diagrams.GRU_LAYOUT
    assert G["hn"][1] == G["reset"][1] == G["sum_n"][1] == G["tanh_n"][1]
    assert G["hn"][0] < G["reset"][0] < G["sum_n"][0] < G["tanh_n"][0]
    assert G["reset"][0] == G["r"][0] and G["sum_n"][0] == G["xn"][0]
    assert G["keep"][0] == G["z"][0] < G["add"][0] == G["write"][0]     # z keeps h_{t-1}; 1 - z writes n


# ----------------------------------------------------------------------------- one grammar, clean layout

def test_both_cells_share_one_grammar():
    lstm, gru = diagrams.draw_lstm_diagram(), diagrams.draw_gru_diagram()

    def radii(ax, op):
        return {p.get_radius() for p in ax.patches if p.get_gid() == f"pointwise:{op}"}

    for op in ("*", "+", "tanh"):
        assert radii(lstm, op) == radii(gru, op) == {diagrams.node_radius(op)}
    sigmoid = {p.get_facecolor() for ax in (lstm, gru) for p in ax.patches
               if p.get_gid() in ("layer:f", "layer:i", "layer:o", "layer:r", "layer:z")}
    assert len(sigmoid) == 1
    assert lstm.get_xlim() == gru.get_xlim() and lstm.get_ylim() == gru.get_ylim()
    assert texts(lstm, "legend") == texts(gru, "legend")
    # every wire that enters a node ends in an arrowhead
    for ax in (lstm, gru):
        heads = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
        nodes = [p for p in ax.patches if (p.get_gid() or "").startswith(("layer:", "pointwise:"))]
        assert len(heads) >= len(nodes)


@pytest.mark.parametrize("draw", [diagrams.draw_lstm_diagram, diagrams.draw_gru_diagram], ids=["lstm", "gru"])
def test_no_label_overlaps_a_label_a_node_or_a_wire(draw):
    ax = draw()
    assert clash_report(ax) == []


def test_clash_report_sees_a_misplaced_label():
    """The layout check itself can fail: a label dropped on a node and on another label is reported."""
    ax = diagrams.draw_lstm_diagram(legend=False)
    diagrams.label(ax, diagrams.LSTM_LAYOUT["add"], "$c_t$", ha="center")
    diagrams.label(ax, (diagrams.LSTM_LAYOUT["left"], diagrams.Y_TOP + 0.32), "$c_{t-1}$")
    problems = clash_report(ax)
    assert any("node pointwise:+" in p for p in problems)
    assert any("overlaps '$c_{t-1}$'" in p for p in problems)
    assert any("sits on a wire" in p for p in problems)


def test_side_by_side_comparison():
    fig = diagrams.draw_cell_comparison()
    gru_ax, lstm_ax = fig.axes
    assert gru_ax.get_title() == "GRU (Figure 3)" and lstm_ax.get_title() == "LSTM (Figure 4)"
    assert texts(gru_ax, "legend") and not texts(lstm_ax, "legend")     # one legend for both
    assert gru_ax.get_ylim() == lstm_ax.get_ylim()
    with pytest.raises(ValueError, match="axes must hold 2 Axes"):
        diagrams.draw_cell_comparison(axes=[plt.subplots()[1]])


# ----------------------------------------------------------------------------- the primitives

def test_primitives_draw_what_they_say():
    fig, ax = plt.subplots()
    box = diagrams.learned_layer(ax, (1, 1), "tanh", "tanh", "g")
    assert isinstance(box, FancyBboxPatch) and box.get_gid() == "layer:g"
    circle = diagrams.pointwise(ax, (2, 2), "1-")
    assert isinstance(circle, Circle) and circle.get_radius() == diagrams.WIDE_RADIUS
    assert diagrams.POINTWISE_SYMBOLS["*"] == r"$\odot$"
    dot = diagrams.copy_dot(ax, (0, 0))
    assert dot.get_radius() == diagrams.COPY_RADIUS
    line, head = diagrams.wire(ax, [(0, 0), (0, 2), (2, 2)], end_gap=0.3)
    assert isinstance(line, Line2D) and isinstance(head, FancyArrowPatch)
    np.testing.assert_allclose(line.get_xydata()[-1], (1.7, 2.0))       # stops at the node's edge
    (plain,) = diagrams.wire(ax, [(0, 0), (1, 0)], arrow=False)
    assert plain.get_gid() == "wire"
    thick, _, _ = diagrams.wire(ax, [(0, 0), (1, 0)], concat=True, mid_arrow=True)
    assert thick.get_gid() == "concat" and thick.get_linewidth() == diagrams.CONCAT_WIDTH


def test_primitive_errors():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"kind must be one of \('sigmoid', 'tanh', 'linear'\), got 'relu'"):
        diagrams.learned_layer(ax, (0, 0), "x", "relu")
    with pytest.raises(ValueError, match=r"op must be one of \('\*', '\+', '1-', 'tanh'\), got 'x'"):
        diagrams.pointwise(ax, (0, 0), "x")
    with pytest.raises(ValueError, match="points must hold at least two"):
        diagrams.wire(ax, [(0, 0)])
    with pytest.raises(ValueError, match=r"xy must be a finite point \(x, y\), got \(0, 1, 2\)"):
        diagrams.copy_dot(ax, (0, 1, 2))
    with pytest.raises(ValueError, match=r"points\[1\] must be a finite point"):
        diagrams.wire(ax, [(0, 0), (np.nan, 1)])
    with pytest.raises(ValueError, match="end_gap 2 is longer than the last segment"):
        diagrams.wire(ax, [(0, 0), (1, 0)], end_gap=2)
    with pytest.raises(ValueError, match="end_gap must be zero or positive"):
        diagrams.wire(ax, [(0, 0), (1, 0)], end_gap=-1)


# ----------------------------------------------------------------------------- chapter 4's cell uses the grammar

def test_chapter_4s_cell_is_drawn_with_the_same_primitives():
    """draw_lstm_cell draws the diagram of draw_lstm_diagram, then writes one step's numbers on it."""
    params = anatomy.stack_gate_blocks(
        "lstm",
        W_x={"i": [[0, 8, 0], [0, 0, 0]], "f": [[0, -8, 0], [0, 0, 0]],
             "g": [[1, 0, 0], [1, 0, 0]], "o": [[0, 0, 8], [0, 0, 0]]},
        b_x={"i": [-4, 4], "f": [4, -4], "g": [0, 0], "o": [-4, 4]},
    )
    xs = np.array([[[0.7, 0, 0], [-0.8, 1, 0], [0.4, 0, 0]]])
    steps = anatomy.lstm_anatomy_steps(xs, np.zeros((1, 2)), np.array([[0.5, 0.0]]), params)
    ax = diagrams.draw_lstm_cell(steps[1], unit=0)
    reference = diagrams.draw_lstm_diagram(legend=False)
    assert gids(ax, "layer:") == gids(reference, "layer:") and gids(ax, "pointwise:") == gids(reference, "pointwise:")
    assert "$f_t$" not in texts(ax, "label")      # the numbers, f=..., take the gate symbols' places
    others = [m for m in (gradient_plots, result_plots, state_plots, task_plots, widgets)
              if hasattr(m, "_node") or hasattr(m, "_wire")]
    assert not others, f"{others} draw diagram primitives of their own instead of lessons_lib.figures.diagrams'"
    numbers = [t for t in ax.texts if t.get_gid() is None and t.get_bbox_patch() is not None]
    assert len(numbers) == 10
    renderer = rendered(ax)
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in numbers]
    wires = [line for line in ax.lines if line.get_gid() in ("wire", "concat")]
    for t, box in zip(numbers, boxes):
        assert not any(_crosses(box, line) for line in wires), f"{t.get_text()} sits on a wire"
    assert not any(_overlap(a, b) for k, a in enumerate(boxes) for b in boxes[k + 1:])
