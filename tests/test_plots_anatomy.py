"""Chapter 4's figures (lessons_lib.figures.state_plots, .diagrams, .result_plots) and gate widgets (lessons_lib.figures.widgets): what each draws, and the input checks.

The widgets' plain drawing functions are tested here without a kernel.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from lessons_lib.analysis import anatomy  # noqa: E402
from lessons_lib.figures import diagrams, result_plots, state_plots, widgets  # noqa: E402
from lessons_lib.figures.style import OKABE_ITO  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def handset():
    params = anatomy.stack_gate_blocks(
        "lstm",
        W_x={"i": [[0, 8, 0], [0, 0, 0]], "f": [[0, -8, 0], [0, 0, 0]],
             "g": [[1, 0, 0], [1, 0, 0]], "o": [[0, 0, 8], [0, 0, 0]]},
        b_x={"i": [-4, 4], "f": [4, -4], "g": [0, 0], "o": [-4, 4]},
    )
    xs = np.array([[[0.7, 0, 0], [-0.8, 1, 0], [0.4, 0, 0], [0.9, 0, 0], [-0.3, 0, 1]]])
    steps = anatomy.lstm_anatomy_steps(xs, np.zeros((1, 2)), np.array([[0.5, 0.0]]), params)
    return params, xs, steps


@pytest.fixture
def gru_step(rng):
    params = {k: 0.5 * rng.standard_normal(s) for k, s in
              {"W_x": (6, 3), "W_h": (6, 2), "b_x": (6,), "b_h": (6,)}.items()}
    return params, anatomy.gru_anatomy(rng.standard_normal((1, 3)), rng.standard_normal((1, 2)), params)


def bars(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]


# ---------------------------------------------------------------------------
# Bars of one step.


def test_state_bars_draw_five_quantities_per_unit(handset):
    """For an LSTM step: c_prev, kept, written, c, h for each unit, with the values as heights."""
    _, _, steps = handset
    s = steps[1]
    ax = state_plots.plot_state_bars(s, title="marker step")
    rects = bars(ax)
    assert len(rects) == 5 * 2
    heights = np.array([r.get_height() for r in rects]).reshape(5, 2)   # drawn field by field
    expected = np.array([getattr(s, f)[0] for f, _ in state_plots.STATE_BARS["lstm"]])
    np.testing.assert_allclose(heights, expected)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [label for _, label in state_plots.STATE_BARS["lstm"]]
    assert ax.get_title() == "marker step"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["unit 1", "unit 2"]
    # colour-blind-safe colours, each with its own hatch as a second cue
    faces = {matplotlib.colors.to_hex(r.get_facecolor()).upper() for r in rects}
    assert faces <= {c.upper() for c in OKABE_ITO.values()}
    assert len({r.get_hatch() for r in rects}) == 5
    values = [t.get_text() for t in ax.texts]
    assert len(values) == 10 and "-0.00" not in values


def test_state_bars_for_a_gru_step(gru_step):
    _, a = gru_step
    ax = state_plots.plot_state_bars(a, unit_labels=["memory", "other"], legend=False, values=False)
    assert len(bars(ax)) == 10
    assert ax.get_legend() is None and not ax.texts
    assert [t.get_text() for t in ax.get_xticklabels()] == ["memory", "other"]


def test_state_bars_errors(handset):
    _, _, steps = handset
    with pytest.raises(TypeError, match="expected an LSTMAnatomy or GRUAnatomy"):
        state_plots.plot_state_bars(steps[0]._asdict())
    with pytest.raises(ValueError, match=r"n must be an int in 0 .. 0 \(the batch has N = 1\), got 1"):
        state_plots.plot_state_bars(steps[0], n=1)
    with pytest.raises(ValueError, match=r"unit_labels must have one label per unit drawn \(2\), got 1"):
        state_plots.plot_state_bars(steps[0], unit_labels=["a"])
    with pytest.raises(ValueError, match=r"units must list unit indices in 0 .. 1, got \[2\]"):
        state_plots.plot_state_bars(steps[0], units=[2])


def test_state_bars_of_selected_units(handset):
    """units=[1] draws only unit 2: five bars, its values, upright labels."""
    _, _, steps = handset
    ax = state_plots.plot_state_bars(steps[2], units=[1])
    rects = bars(ax)
    assert len(rects) == 5
    np.testing.assert_allclose([r.get_height() for r in rects],
                               [getattr(steps[2], f)[0, 1] for f, _ in state_plots.STATE_BARS["lstm"]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["unit 2"]
    assert all(t.get_rotation() == 0 for t in ax.texts)


def test_state_grid_small_multiples(handset, gru_step):
    """One panel per step, shared y axis, one legend for the figure, unused panels switched off."""
    _, _, steps = handset
    fig = state_plots.plot_state_grid(steps, [f"step {k}" for k in range(1, 6)], ncols=3)
    axes = fig.axes
    assert len(axes) == 6
    assert [ax.get_title() for ax in axes[:5]] == [f"step {k}" for k in range(1, 6)]
    assert not axes[5].axison
    assert axes[5].get_legend() is not None and not fig.legends   # the spare panel holds the legend
    full = state_plots.plot_state_grid(steps, [f"step {k}" for k in range(1, 6)])   # one row, no spare
    assert len(full.axes) == 5 and len(full.legends) == 1
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[4])
    with pytest.raises(ValueError, match=r"titles must have one entry per panel \(5\), got 2"):
        state_plots.plot_state_grid(steps, ["a", "b"])
    with pytest.raises(ValueError, match="at least one"):
        state_plots.plot_state_grid([], [])
    with pytest.raises(ValueError, match="all be LSTM steps or all GRU steps"):
        state_plots.plot_state_grid([steps[0], gru_step[1]], ["a", "b"])


# ---------------------------------------------------------------------------
# Gates over time.


def test_gate_traces_draw_inputs_gates_and_states(handset):
    _, xs, steps = handset
    traces = {k: np.stack([getattr(s, k)[0] for s in steps]) for k in ("i", "f", "o", "c", "h")}
    axes = state_plots.plot_gate_traces(xs[0], traces, unit=1, marker_t=1, recall_t=4,
                                          y=np.zeros(5), target=np.array([0, 0, 0, 0, -0.8]), title="unit 2")
    ax_in, ax_gate, ax_state = axes
    assert len(ax_gate.get_lines()) == 3
    np.testing.assert_allclose(ax_gate.get_lines()[1].get_ydata(), traces["f"][:, 1])
    np.testing.assert_allclose(ax_state.get_lines()[0].get_ydata(), traces["c"][:, 1])
    assert len({line.get_linestyle() for line in ax_gate.get_lines()}) == 3       # second cue: line style
    assert len({line.get_marker() for line in ax_gate.get_lines()}) == 3          # and marker
    assert [t.get_text() for t in ax_in.texts] == ["marker", "recall"]
    assert ax_in.get_title() == "unit 2"
    labels = [line.get_label() for line in ax_state.get_lines()]
    assert "output $y_t$" in labels and "target at recall" in labels
    assert ax_state.get_xlabel() == "time step $t$"


def test_gate_traces_errors(handset):
    _, xs, steps = handset
    traces = {k: np.stack([getattr(s, k)[0] for s in steps]) for k in ("i", "f", "o", "c", "h")}
    with pytest.raises(ValueError, match=r"x must have shape \(T, 3\)"):
        state_plots.plot_gate_traces(xs, traces, 0)
    with pytest.raises(ValueError, match="missing 'h'"):
        state_plots.plot_gate_traces(xs[0], {k: v for k, v in traces.items() if k != "h"}, 0)
    with pytest.raises(ValueError, match=r"traces\['c'\] must have shape \(T, H\) = \(5, H\), got \(4, 2\)"):
        state_plots.plot_gate_traces(xs[0], {**traces, "c": traces["c"][:4]}, 0)
    with pytest.raises(ValueError, match="unit must be an int in 0 .. 1, got 2"):
        state_plots.plot_gate_traces(xs[0], traces, 2)
    with pytest.raises(ValueError, match="at least one panel"):
        state_plots.plot_gate_traces_grid([])


def test_gate_traces_grid_has_three_rows_per_panel(handset):
    _, xs, steps = handset
    traces = {k: np.stack([getattr(s, k)[0] for s in steps]) for k in ("i", "f", "o", "c", "h")}
    fig = state_plots.plot_gate_traces_grid([dict(x=xs[0], traces=traces, unit=u) for u in (0, 1)])
    assert len(fig.axes) == 6
    assert fig.axes[1].get_ylabel() == ""          # only the first column is labelled
    (legend,) = fig.legends                        # one legend for all panels: gates, then states
    assert [t.get_text() for t in legend.get_texts()] == [
        "input gate $i_t$", "forget gate $f_t$", "output gate $o_t$", "cell state $c_t$", "hidden state $h_t$"]


# ---------------------------------------------------------------------------
# GRU conventions, losses, the cell diagram.


def test_gru_conventions_overlay_is_markers_only():
    curves = {"a": np.array([0.1, 0.2, 0.3]), "= twin": np.array([0.1, 0.2, 0.3]), "b": np.array([0.0, 0.1, 0.0])}
    ax = state_plots.plot_gru_conventions(curves)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines[:3]] == ["a", "twin", "b"]
    assert lines[1].get_linestyle() == "None" and lines[0].get_linestyle() == "-"
    with pytest.raises(ValueError, match=r"trajectories\['a'\] must have shape \(T,\)"):
        state_plots.plot_gru_conventions({"a": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="at least one curve"):
        state_plots.plot_gru_conventions({})


def test_loss_curves_running_mean_on_a_log_scale():
    losses = np.linspace(1.0, 0.01, 50)
    ax = result_plots.plot_loss_curves({"LSTM": losses, "GRU": losses / 2}, window=10, baseline=1 / 3)
    assert ax.get_yscale() == "log"
    line = ax.get_lines()[0]
    assert len(line.get_ydata()) == 41
    np.testing.assert_allclose(line.get_ydata()[0], losses[:10].mean())
    with pytest.raises(ValueError, match="at least window = 10 losses"):
        result_plots.plot_loss_curves({"x": losses[:5]}, window=10)
    with pytest.raises(ValueError, match="window must be a positive int"):
        result_plots.plot_loss_curves({"x": losses}, window=0)


def test_lstm_cell_diagram_writes_the_unit_values(handset):
    _, _, steps = handset
    ax = diagrams.draw_lstm_cell(steps[1], unit=0)
    texts = {t.get_text() for t in ax.texts}
    s = steps[1]
    assert f"f={s.f[0, 0]:.2f}" in texts and f"i={s.i[0, 0]:.2f}" in texts and f"o={s.o[0, 0]:.2f}" in texts
    assert f"{s.c[0, 0]:+.2f}" in texts and f"{s.h[0, 0]:+.2f}" in texts
    bare = diagrams.draw_lstm_cell()
    assert not any(t.get_text().startswith("f=") for t in bare.texts)
    with pytest.raises(ValueError, match="unit must be an int in 0 .. 1, got 5"):
        diagrams.draw_lstm_cell(steps[1], unit=5)
    with pytest.raises(TypeError, match="anat must be an LSTMAnatomy"):
        diagrams.draw_lstm_cell({"f": 1})


# ---------------------------------------------------------------------------
# The widgets' plain functions.


def test_lstm_step_variant_and_figure(handset):
    """The function behind the slider sets one unit's pre-activation and draws the result."""
    params, xs, steps = handset
    x3, h2, c2 = xs[:, 2], steps[1].h, steps[1].c
    v = widgets.lstm_step_variant(x3, h2, c2, params, unit=0, f=-4.0)
    assert v.a_f[0, 0] == -4.0 and v.a_f[0, 1] == steps[2].a_f[0, 1]
    np.testing.assert_allclose(v.c[0, 0], 0.018 * c2[0, 0] + steps[2].written[0, 0], atol=1e-3)
    fig = widgets.lstm_step_figure(x3, h2, c2, params, unit=0, f=-4.0)
    assert "$a_f = -4.0$ so $f = 0.02$" in fig.axes[0].get_title()
    assert len(bars(fig.axes[0])) == 10
    fig = widgets.lstm_step_figure(x3, h2, c2, params, unit=1, g=1.0)   # the candidate is a tanh
    assert fig.axes[0].get_title() == "unit 2: $a_g = 1.0$ so $g = 0.76$"


def test_gru_step_variant_and_figure(gru_step):
    params, a = gru_step
    v = widgets.gru_step_variant(a.x, a.h_prev, params, unit=1, z=30.0)
    np.testing.assert_allclose(v.h[0, 1], a.h_prev[0, 1], atol=1e-12)   # z = 1 keeps the old state
    fig = widgets.gru_step_figure(a.x, a.h_prev, params, unit=1, update="write", z=0.0)
    assert "unit 2" in fig.axes[0].get_title()


def test_gate_widgets_build_one_slider_per_gate(handset, gru_step, monkeypatch):
    """The widgets wire sliders named after the gates, starting at the computed pre-activations."""
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)   # no display outside a kernel
    params, xs, steps = handset
    w = widgets.lstm_gate_widget(xs[:, 2], steps[1].h, steps[1].c, params, gates=("f", "i"))
    sliders = w.children[:-1]
    assert [s.description for s in sliders] == ["a_f, unit 1", "a_i, unit 1"]
    assert [s.value for s in sliders] == [4.0, -4.0]
    gparams, a = gru_step
    g = widgets.gru_gate_widget(a.x, a.h_prev, gparams, gates=("r", "z"), unit=1)
    assert [s.description for s in g.children[:-1]] == ["a_r, unit 2", "a_z, unit 2"]
    with pytest.raises(ValueError, match="gates must name one or more of"):
        widgets.lstm_gate_widget(xs[:, 2], steps[1].h, steps[1].c, params, gates=("z",))


def test_widget_alt_text_states_the_setting_and_the_resulting_states():
    """The widgets show their figures with alt text built from the numbers of the step."""
    import numpy as np

    from lessons_lib import init_params
    from lessons_lib.figures.widgets import lstm_step_variant, step_alt

    rng = np.random.default_rng(0)
    params = init_params("lstm", 2, 2, rng)
    x, h_prev, c_prev = rng.standard_normal((1, 2)), rng.standard_normal((1, 2)), rng.standard_normal((1, 2))
    anat = lstm_step_variant(x, h_prev, c_prev, params, 0, f=-4.0)
    alt = step_alt("LSTM", anat, {"f": -4.0}, 0)
    assert "a_f = -4.0 so f = 0.02" in alt and "$" not in alt
    assert f"{anat.c[0, 0]:.2f}" in alt and f"{anat.h[0, 1]:.2f}" in alt
