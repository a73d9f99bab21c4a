"""Figures of the applications part: what each function draws, and its errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lessons_lib.figures import result_plots, state_plots, style, task_plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_models_keep_their_style_across_figures():
    assert style.style("LSTM", 5) == style.style("LSTM, 500 steps", 0) == style.STYLES["LSTM"] != style.style("LSTM b_f = 3", 0)
    assert style.style("n-gram", 0) != style.style("n-gram", 1)


def test_loss_histories_are_smoothed_and_baselines_labelled():
    ax = result_plots.plot_loss_histories({"RNN": [4.0, 2.0, 2.0], "GRU": [1.0, 1.0, 1.0]}, window=2,
                                baselines={"remembers nothing": 1.5})
    lines = ax.get_lines()
    assert lines[0].get_ydata().tolist() == [4.0, 3.0, 2.0] and lines[0].get_linestyle() == ":"
    assert any(t.get_text() == "remembers nothing" for t in ax.texts)
    with pytest.raises(ValueError, match="at least one"):
        result_plots.plot_loss_histories({})


def test_length_sweep_plots_every_run_and_the_median():
    rows = [{"model": m, "T": T, "seed": s, "mse": 0.01 * (s + 1) * T, "accuracy": 0.5}
            for m in ("RNN", "LSTM") for T in (10, 20) for s in (0, 1)]
    ax = result_plots.plot_length_sweep(rows, "mse", baselines={"predict 0.5": 1 / 24})
    assert len(ax.collections) == 2 and sum(len(c.get_offsets()) for c in ax.collections) == 8
    medians = [line for line in ax.get_lines() if line.get_label() == "LSTM"][0].get_ydata()
    assert np.allclose(medians, [0.15, 0.3]) and ax.get_yscale() == "log"
    assert result_plots.plot_length_sweep(rows, "accuracy").get_ylim()[1] > 1
    with pytest.raises(ValueError, match="metric"):
        result_plots.plot_length_sweep(rows, "loss")


def test_bits_per_character_bars_are_sorted_and_labelled():
    ax = result_plots.plot_bits_per_character({"5-gram": 2.7, "LSTM": 2.6, "unigram": 4.8}, highlight=["LSTM"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["unigram", "5-gram", "LSTM"]
    assert [t.get_text().strip() for t in ax.texts] == ["4.80", "2.70", "2.60"]


def test_unit_text_shades_each_character():
    ax = state_plots.plot_unit_text("ab\ncd", np.array([-1.0, 0.0, 0.5, 1.0, 0.2]))
    assert [t.get_text() for t in ax.texts] == ["a", "b", "c", "d"]
    image = ax.get_images()[0].get_array()
    assert image.shape == (2, 3) and image[0, 2] == 0.5 and image[1, 0] == 1.0 and np.ma.is_masked(image[1, 2])
    with pytest.raises(ValueError, match="one value per character"):
        state_plots.plot_unit_text("ab", np.zeros(3))


def test_forecast_figures():
    ax = task_plots.plot_forecast_errors(np.arange(1, 4), {"persistence": [1, 2, 3], "LSTM": [1, 1.5, 2]})
    assert len(ax.get_lines()) == 2 and ax.get_lines()[1].get_color() == style.STYLES["LSTM"]["color"]
    with pytest.raises(ValueError, match="shape"):
        task_plots.plot_forecast_errors(np.arange(1, 4), {"x": [1, 2]})
    ax = task_plots.plot_forecasts(np.arange(5), np.arange(5.0), {"LSTM": np.r_[np.nan, 1, 2, np.nan, 4]}, issued=[1, 3])
    assert [line.get_label() for line in ax.get_lines()[:2]] == ["observed", "LSTM"]


def test_adding_example_highlights_the_two_marks():
    x = np.zeros((8, 2))
    x[:, 0] = np.linspace(-0.8, 0.8, 8)
    x[[1, 3], 1] = 1.0
    ax = task_plots.plot_adding_example(x, 0.5 + (x[1, 0] + x[3, 0]) / 4)
    marked = [line for line in ax.get_lines() if line.get_label().startswith("marked")][0]
    assert marked.get_xdata().tolist() == [2, 4] and "0.329" in ax.get_title()
    assert [t.get_text() for t in ax.texts][1:] == ["-0.57", "-0.11"]
    with pytest.raises(ValueError, match=r"x must have shape \(T, 2\)"):
        task_plots.plot_adding_example(np.zeros((8, 3)), 0.5)


def test_weather_year_marks_the_missing_hours():
    time = np.arange(np.datetime64("2013-01-01T00"), np.datetime64("2013-01-03T00"))
    temp = np.sin(np.arange(48) / 4.0)
    missing = np.zeros(48, dtype=bool)
    missing[[5, 30]] = True
    temp[missing] = np.nan
    top, bottom = task_plots.plot_weather_year(time, temp, missing, slice(24, 48))
    assert "missing hours (2)" in [t.get_text() for t in top.get_legend().get_texts()]
    assert bottom.xaxis.get_major_formatter().fmt == "%d %b"
    dashed = [line for line in bottom.get_lines() if line.get_linestyle() == "--" and len(line.get_xdata()) == 2]
    assert len(dashed) == 1  # only the missing hour inside the zoomed stretch
    with pytest.raises(ValueError, match="one shape"):
        task_plots.plot_weather_year(time, temp[:5], missing, slice(0, 5))


def test_eval_histories_plot_each_evaluation():
    from lessons_lib.training.loop import History

    h = History(np.zeros(4), np.zeros(4), np.zeros(4), [(2, {"bpc": 3.0}), (4, {"bpc": 2.5})], None, 0.0)
    ax = result_plots.plot_eval_histories({"LSTM": h}, "bpc", baselines={"5-gram": 2.7}, ylabel="bits")
    assert ax.get_lines()[0].get_xydata().tolist() == [[2, 3.0], [4, 2.5]] and ax.get_ylabel() == "bits"
    with pytest.raises(ValueError, match="no evaluations"):
        result_plots.plot_eval_histories({"x": h._replace(evals=[])}, "bpc")


def test_seed_spread_draws_every_seed_the_range_and_the_median():
    ax = result_plots.plot_seed_spread({"vanilla": [0.01, 0.02, 0.5], "gru": [0.03, 0.04, 0.05]}, threshold=0.05,
                                       title="adding")
    dots = [c for c in ax.collections if len(c.get_offsets()) == 3]
    medians = [c.get_offsets()[0] for c in ax.collections if len(c.get_offsets()) == 1]
    assert len(dots) == 2 and np.allclose(sorted(m[0] for m in medians), [0.02, 0.04])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["vanilla", "gru"] and ax.get_ylim()[0] > 1
    assert ax.get_xscale() == "log" and any(t.get_text() == "solved" for t in ax.texts)
    with pytest.raises(ValueError, match="positive numbers"):
        result_plots.plot_seed_spread({"a": [0.0, 1.0]})
    with pytest.raises(ValueError, match="at least one"):
        result_plots.plot_seed_spread({})
