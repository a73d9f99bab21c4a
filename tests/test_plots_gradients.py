"""Tests of chapter 2's figures (lessons_lib.figures.gradient_plots) and widget (lessons_lib.figures.widgets).

They check what was drawn: how many curves, on which scale, with which
labels, and that every curve differs from the others in colour *and* in a
second cue, so that the figure reads in greyscale.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lessons_lib.analysis import gradient_flow as gf  # noqa: E402
from lessons_lib.figures import gradient_plots  # noqa: E402
from lessons_lib.figures import widgets  # noqa: E402
from lessons_lib.figures.style import OKABE_ITO  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def decays(sigmas=(0.5, 1.0, 3.0), T=12, activation="tanh", residual=False):
    W = gf.recurrent_weights(4, 1.0, np.random.default_rng(0), "orthogonal")
    return [gf.measure_gradient_decay(s * W, T, np.random.default_rng(1), activation=activation, N=2,
                                      residual=residual) for s in sigmas]


def data_lines(ax):
    """Lines that carry data (not the reference line at 1, not legend-only proxies)."""
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]


def test_curve_styles_differ_in_colour_and_in_a_second_cue():
    styles = [gradient_plots.curve_style(k) for k in range(6)]
    assert len({s["color"] for s in styles}) == 6
    assert len({(s["linestyle"], s["marker"]) for s in styles}) == 6
    assert all(s["color"] in OKABE_ITO.values() for s in styles)
    assert all(s["linestyle"] != ":" for s in styles)  # dotted is reserved for bounds


def test_plot_gradient_decay_draws_measured_curves_and_bounds():
    ds = decays()
    ax = gradient_plots.plot_gradient_decay(ds)
    lines = data_lines(ax)
    measured = [ln for ln in lines if ln.get_linestyle() != ":"]
    bounds = [ln for ln in lines if ln.get_linestyle() == ":"]
    assert len(measured) == len(bounds) == 3
    assert ax.get_yscale() == "log"
    assert len({ln.get_color() for ln in measured}) == 3
    assert len({(ln.get_linestyle(), ln.get_marker()) for ln in measured}) == 3
    assert [ln.get_color() for ln in bounds] == [ln.get_color() for ln in measured]  # a bound matches its curve
    assert np.allclose(measured[0].get_ydata(), ds[0].typical)
    assert np.allclose(bounds[0].get_ydata(), ds[0].bound)
    assert ax.get_xlabel().startswith("distance") and "(steps)" in ax.get_xlabel()
    assert "log scale" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == 4 and "bound" in labels[-1]


def test_plot_gradient_decay_without_bounds_and_with_fixed_limits():
    ax = gradient_plots.plot_gradient_decay(decays(sigmas=(0.5,)), show_bound=False, ylim=(1e-20, 1e5))
    assert len(data_lines(ax)) == 1
    assert ax.get_ylim() == pytest.approx((1e-20, 1e5))


def test_residual_curves_get_no_bound():
    ax = gradient_plots.plot_gradient_decay(decays(sigmas=(0.5,), residual=True))
    assert [ln.get_linestyle() for ln in data_lines(ax)] == ["-"]


def test_plot_gradient_decay_grid_has_one_panel_per_pair():
    grid = gf.gradient_decay_grid([0.5, 2.0], ["tanh", "sigmoid", "linear"], 10, H=4, N=2)
    fig = gradient_plots.plot_gradient_decay_grid(grid)
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert len(axes) == 6
    assert all(ax.get_yscale() == "log" for ax in axes)
    assert "sigmoid" in axes[2].get_title() and "0.5" in axes[2].get_title()
    for ax in axes:
        measured, bound = data_lines(ax)
        assert measured.get_color() != bound.get_color() and measured.get_linestyle() != bound.get_linestyle()


def test_plot_cliff_draws_loss_and_log_gradient():
    cliff = gf.cliff_landscape(np.linspace(0.0, 4.0, 41), T=10)
    ax_loss, ax_grad = gradient_plots.plot_cliff(cliff, w_c=1.95)
    assert ax_grad.get_yscale() == "log" and ax_loss.get_yscale() == "linear"
    assert np.allclose(data_lines(ax_loss)[0].get_ydata(), cliff.loss)
    assert np.allclose(data_lines(ax_grad)[0].get_ydata(), np.abs(cliff.dloss))
    assert ax_grad.get_xlabel() == "recurrent weight $w$"
    assert any(ln.get_xdata()[0] == 1.95 for ln in ax_loss.get_lines())  # the bifurcation marker


def test_plot_log_curves():
    x = np.arange(1, 6)
    ax = gradient_plots.plot_log_curves({"a": (x, 0.5 ** x), "b": (x, 2.0 ** -x / 3), "c": (x, np.ones(5))},
                            "sequence length $T$ (steps)", "norm (log scale)", reference=1.0)
    lines = data_lines(ax)
    assert len(lines) == 3
    assert len({(ln.get_color(), ln.get_linestyle(), ln.get_marker()) for ln in lines}) == 3
    assert any(list(ln.get_ydata()) == [1.0, 1.0] for ln in ax.get_lines())  # the reference line
    assert ax.get_yscale() == "log" and ax.get_xlabel().startswith("sequence length")


def test_bad_input_raises_clear_errors():
    with pytest.raises(TypeError, match="non-empty sequence of GradientDecay"):
        gradient_plots.plot_gradient_decay([])
    with pytest.raises(TypeError, match="cliff must be a Cliff"):
        gradient_plots.plot_cliff((1, 2))
    with pytest.raises(ValueError, match="x and y must be 1-D arrays of one length"):
        gradient_plots.plot_log_curves({"a": (np.arange(3), np.ones(4))}, "x", "y")
    with pytest.raises(ValueError, match="a norm cannot be negative"):
        gradient_plots.plot_log_curves({"a": (np.arange(3), -np.ones(3))}, "x", "y")
    with pytest.raises(TypeError, match="xlabel must be a string"):
        gradient_plots.plot_log_curves({"a": (np.arange(3), np.ones(3))}, None, "y")
    grid = gf.gradient_decay_grid([0.5], ["tanh"], 5, H=2, N=1)
    grid[("linear", 2.0)] = grid[("tanh", 0.5)]
    with pytest.raises(ValueError, match="missing"):
        gradient_plots.plot_gradient_decay_grid(grid)


def test_widget_function_works_without_a_kernel():
    ax, decay = widgets.gradient_decay_figure(sigma_max=1.5, T=20, activation="sigmoid")
    assert decay.sigma_max == pytest.approx(1.5) and decay.activation == "sigmoid"
    assert ax.get_ylim() == pytest.approx(widgets.GRADIENT_DECAY_YLIM)
    assert "sigmoid" in ax.get_title()
    assert isinstance(widgets.show_gradient_decay(0.5, 10, "linear"), Figure)


def test_widget_has_the_three_controls():
    widget = widgets.gradient_decay_widget()
    descriptions = [c.description for c in widget.children[:-1]]
    assert descriptions == ["σ_max", "T", "activation"]
    assert widget.children[2].options == ("tanh", "sigmoid", "linear")


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear"])
def test_widget_extremes_are_silent(activation):
    """The slider corners (largest scale, longest sequence) draw without a warning (warnings are errors here)."""
    for sigma_max, T in ((4.0, 200), (0.1, 200), (4.0, 5)):
        ax, decay = widgets.gradient_decay_figure(sigma_max, T, activation)
        assert decay.norms.shape == (4, T + 1) and np.all(np.isfinite(decay.typical))
        plt.close(ax.figure)


def test_widget_function_rejects_bad_settings():
    with pytest.raises(ValueError, match="activation must be one of"):
        widgets.gradient_decay_figure(1.0, 10, "relu")
    with pytest.raises(ValueError, match="T must be at least 1"):
        widgets.gradient_decay_figure(1.0, 0, "tanh")


def test_the_widget_figure_is_described_by_its_numbers():
    """The alt text of the widget's figure states the setting and the measured end points."""
    ax, decay = widgets.gradient_decay_figure(0.5, 10, "linear")
    alt = widgets.gradient_decay_alt(decay)
    assert "linear" in alt and "0.50" in alt and "distance 10" in alt
    assert f"{decay.typical[-1]:.2g}" in alt
