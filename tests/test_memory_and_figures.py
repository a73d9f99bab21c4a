"""Chapter 1's pulse-memory experiment, its figures and its widget, without a kernel."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lessons_lib.analysis import memory  # noqa: E402
from lessons_lib.figures import diagrams, state_plots, widgets  # noqa: E402


def test_pulse_response_by_hand():
    """h_1 = tanh(u); afterwards h_t = tanh(w h_{t-1})."""
    h = memory.pulse_response(0.5, u=2.0, T=3)
    h1 = math.tanh(2.0)
    assert np.allclose(h, [h1, math.tanh(0.5 * h1), math.tanh(0.5 * math.tanh(0.5 * h1))], rtol=1e-15)


def test_zero_recurrent_weight_forgets_at_once_and_large_weight_holds():
    assert not memory.pulse_response(0.0, T=5)[1:].any()
    held = memory.pulse_response(1.5, T=40)
    assert abs(held[-1] - held[-2]) < 1e-6 and held[-1] > 0.8


def test_a_strong_input_flips_the_latch_and_w_1_fades_like_a_power_law():
    inputs = np.zeros(15)
    inputs[0], inputs[5] = 1.0, -3.0
    h = memory.input_response(1.5, inputs)
    assert h[4] > 0.8 and h[-1] < -0.8                   # two stable states, and the input moved it across
    assert np.array_equal(memory.input_response(1.5, inputs[:5]), memory.pulse_response(1.5, T=5))
    t = np.arange(1, 401)
    slow = memory.pulse_response(1.0, T=400)             # h_{t+1} = tanh(h_t) ~ h_t - h_t^3 / 3
    assert abs(slow[-1] * math.sqrt(2 * t[-1] / 3) - 1) < 0.02     # so h_t ~ sqrt(3 / (2 t)), not w^t
    with pytest.raises(ValueError, match="1-D"):
        memory.input_response(1.5, np.zeros((2, 3)))


def test_pulse_response_refuses_bad_arguments():
    with pytest.raises(ValueError, match="finite"):
        memory.pulse_response(np.inf)
    with pytest.raises(ValueError, match="positive int"):
        memory.pulse_response(0.5, T=0)


def test_figure_1_draws_every_number_and_the_predictions():
    hidden = np.array([[0.1, 0.2, 0.3]] * 4)
    scores = np.array([[0.0, 5.0, 0.0, 0.0], [0.0, 0.0, 5.0, 0.0], [0.0, 0.0, 5.0, 0.0], [0.0, 0.0, 0.0, 5.0]])
    ax = diagrams.draw_unrolled_char_model("helo", "hell", "ello", hidden, scores)
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("5.00") == 4 and texts.count("0.20") == 4
    assert ["predicts 'e'", "predicts 'l'", "predicts 'l'", "predicts 'o'"] == [t for t in texts if t.startswith("predicts")]
    plt.close(ax.figure)


def test_figure_1_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"scores must have shape \(4, 4\)"):
        diagrams.draw_unrolled_char_model("helo", "hell", "ello", np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="target_text"):
        diagrams.draw_unrolled_char_model("helo", "hell", "ell", np.zeros((4, 3)), np.zeros((4, 4)))


def test_pulse_figures_have_one_line_per_weight_with_distinct_styles():
    responses = memory.pulse_responses([0.5, 0.9, 1.5], T=6)
    ax = state_plots.plot_pulse_memory(responses)
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 6]
    assert len(lines) == 3 and len({(l.get_linestyle(), l.get_marker()) for l in lines}) == 3
    plt.close(ax.figure)
    fig = state_plots.plot_pulse_memory_grid(responses, ncols=2)
    assert sum(ax.has_data() for ax in fig.axes) == 3
    plt.close(fig)


def test_figure_html_embeds_a_png_with_escaped_alt_text():
    fig, alt = widgets.pulse_memory_figure(w=0.9, T=5)
    assert "w = 0.9" in alt
    html = widgets.figure_html(fig, 'a "quoted" <alt>')
    assert html.startswith('<img src="data:image/png;base64,') and 'alt="a &quot;quoted&quot; &lt;alt&gt;"' in html
    fig, _ = widgets.pulse_memory_figure()
    with pytest.raises(ValueError, match="alt"):
        widgets.figure_html(fig, " ")
    plt.close("all")


def test_the_widget_has_three_controls():
    pytest.importorskip("ipywidgets")
    w = widgets.pulse_memory_widget()
    assert [c.description for c in w.children[:3]] == ["w", "u", "T"]
    plt.close("all")
