"""Chapter 3's figures (lessons_lib.figures.gradient_plots: state decay) and gate-bias widget (lessons_lib.figures.widgets): what they draw, and the input checks.

The widget's plain drawing functions are tested here without a kernel.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lessons_lib.analysis import gated_flow as gfl  # noqa: E402
from lessons_lib.figures import gradient_plots, widgets  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def results():
    return gfl.compare_state_decay(12, D=3, H=4, N=2, seed=0)


def test_state_decay_draws_every_curve_with_its_cues(results):
    ax = gradient_plots.plot_state_decay(results)
    lines = [line for line in ax.get_lines() if line.get_label() in {c[2] for c in gradient_plots.CURVES}]
    assert [line.get_label() for line in lines] == [c[2] for c in gradient_plots.CURVES]
    for line, (kind, path, _) in zip(lines, gradient_plots.CURVES):
        np.testing.assert_allclose(line.get_ydata(), np.maximum(results[kind].typical(path), gradient_plots.FLOOR))
        assert line.get_marker() == gradient_plots.CELL_STYLE[kind]["marker"]           # the cell: marker and colour
        assert line.get_linestyle() == gradient_plots.PATH_STYLE[path]["linestyle"]      # the path: line style
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "distance in time $T - t$ (steps)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [c[2] for c in gradient_plots.CURVES]
    # greyscale: no two curves share both marker and line style
    assert len({(line.get_marker(), line.get_linestyle()) for line in lines}) == len(lines)


def test_state_decay_subset_and_limits(results):
    ax = gradient_plots.plot_state_decay(results, curves=[("lstm", "cc"), ("rnn", "hh")], ylim=(1e-9, 10),
                                      legend=False)
    assert [line.get_label() for line in ax.get_lines()][:2] == [gradient_plots.CURVES[0][2], gradient_plots.CURVES[4][2]]
    assert ax.get_ylim() == pytest.approx((1e-9, 10)) and ax.get_legend() is None
    only_rnn = gradient_plots.plot_state_decay({"rnn": results["rnn"]})
    assert len([line for line in only_rnn.get_lines() if not line.get_label().startswith("_")]) == 1


def test_state_decay_errors(results):
    with pytest.raises(TypeError, match=r"results must be a non-empty dict \{kind: StateDecay\}"):
        gradient_plots.plot_state_decay({})
    with pytest.raises(TypeError, match=r"results\['rnn'\] must be a StateDecay, got ndarray"):
        gradient_plots.plot_state_decay({"rnn": np.zeros(3)})
    with pytest.raises(ValueError, match=r"results\['gru'\] holds the measurement of 'lstm'"):
        gradient_plots.plot_state_decay({"gru": results["lstm"]})
    with pytest.raises(ValueError, match=r"'rnn' has no path 'cc'; its paths are \('hh',\)"):
        gradient_plots.plot_state_decay(results, curves=[("rnn", "cc")])
    with pytest.raises(ValueError, match="none of the curves"):
        gradient_plots.plot_state_decay({"rnn": results["rnn"]}, curves=[("lstm", "cc")])


def test_state_decay_grid_is_small_multiples(results):
    grid = {0.0: results, 3.0: gfl.compare_state_decay(12, D=3, H=4, N=2, seed=0, gate_bias=3.0)}
    fig = gradient_plots.plot_state_decay_grid(grid)
    axes = fig.axes
    assert len(axes) == 2
    assert axes[0].get_title().startswith("gate bias 0\nmean forget gate")
    assert axes[1].get_title().startswith("gate bias 3\n")
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[1])
    assert axes[0].get_ylim() == pytest.approx((1e-30, 1e4))
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [c[2] for c in gradient_plots.CURVES]
    wrapped = gradient_plots.plot_state_decay_grid({**grid, 5.0: results}, ncols=2)
    assert len(wrapped.axes) == 4 and not wrapped.axes[3].axison
    with pytest.raises(TypeError, match="grid must be a non-empty dict"):
        gradient_plots.plot_state_decay_grid({})
    with pytest.raises(ValueError, match="ncols must be at least 1, got 0"):
        gradient_plots.plot_state_decay_grid(grid, ncols=0)


# ----------------------------------------------------------------------------- the widget's plain functions

def test_gate_bias_figure_and_alt_text(monkeypatch):
    monkeypatch.setattr(widgets, "GATE_BIAS_SIZES", {"D": 3, "H": 4, "N": 2, "seed": 0})
    ax, res = widgets.gate_bias_figure(gate_bias=4.0, T=15)
    assert ax.get_ylim() == pytest.approx(widgets.GATE_BIAS_YLIM)
    assert ax.get_title().startswith("gate bias 4: mean forget gate 0.98")
    alt = widgets.gate_bias_alt(res, 4.0)
    assert "gate bias 4" in alt and "0 to 15 steps" in alt
    assert f"LSTM dc_T/dc_t {res['lstm'].typical('cc')[15]:.1e}" in alt
    assert f"tanh RNN dh_T/dh_t {res['rnn'].typical('hh')[15]:.1e}" in alt


def test_show_gate_bias_displays_an_image_with_alt_text(monkeypatch):
    monkeypatch.setattr(widgets, "GATE_BIAS_SIZES", {"D": 3, "H": 4, "N": 2, "seed": 0})
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", shown.append)
    widgets.show_gate_bias(2.0, 10)
    (html,) = shown
    assert html.data.startswith('<img src="data:image/png;base64,') and 'alt="Log-scale plot' in html.data


def test_gate_bias_widget_has_two_sliders(monkeypatch):
    monkeypatch.setattr(widgets, "GATE_BIAS_SIZES", {"D": 3, "H": 4, "N": 2, "seed": 0})
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: None)
    w = widgets.gate_bias_widget()
    sliders = w.children[:-1]
    assert [s.description for s in sliders] == ["gate bias", "T"]
    assert [s.value for s in sliders] == [1.0, 100]
