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


def test_split_comparison_draws_the_median_and_the_seed_range_of_each_split():
    from lessons_lib.analysis.results import Spread

    summary = {"LSTM": {"unseen-play": Spread(2.4, 2.3, 2.5, 3), "same-plays": Spread(2.1, 2.0, 2.2, 3)},
               "5-gram": {"unseen-play": Spread(2.6, 2.6, 2.6, 1), "same-plays": Spread(2.0, 2.0, 2.0, 1)}}
    ax = result_plots.plot_split_comparison(summary)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["5-gram", "LSTM"]    # the best on the first split on top
    lines = [line for line in ax.get_lines() if line.get_marker() in ("o", "s")]     # the medians, not the caps
    medians = sorted(np.round(np.concatenate([line.get_xdata() for line in lines]), 3).tolist())
    assert medians == [2.0, 2.1, 2.4, 2.6]
    with pytest.raises(ValueError, match="lacks the splits"):
        result_plots.plot_split_comparison({"LSTM": {"unseen-play": Spread(2.4, 2.3, 2.5, 3)}})


def test_curves_with_spread_draw_a_median_line_and_a_band():
    ax = result_plots.plot_curves_with_spread({"LSTM": ([1, 2], [3.0, 2.0], [2.9, 1.9], [3.1, 2.2])},
                                              baselines={"5-gram": 2.5})
    assert ax.get_lines()[0].get_ydata().tolist() == [3.0, 2.0] and len(ax.collections) == 1
    with pytest.raises(ValueError, match="steps, median, lowest, highest"):
        result_plots.plot_curves_with_spread({"LSTM": ([1, 2], [3.0, 2.0])})


def _grid_rows():
    rows = []
    for lr, verdicts in ((0.001, {10: [1, 1, 0], 20: [0, 0, 0]}), (0.01, {10: [1, 1, 1]})):
        for T, seeds in verdicts.items():
            rows += [{"cell": "gru", "forget_bias": None, "lr": lr, "T": T, "solved": bool(v),
                      "test_nmse": 0.01 if v else 1.0} for v in seeds]
    return rows


def test_the_solved_grid_writes_each_square_and_leaves_unrun_ones_blank():
    ax = result_plots.plot_solved_grid(_grid_rows(), lengths=[10, 20, 50], lrs=[0.001, 0.01], best=0.01)
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["0/3\n1", "2/3\n0.01", "3/3\n0.01"]          # three squares were run, three are blank
    image = ax.images[0].get_array()
    assert image.mask.sum() == 3 and image[0, 0] == pytest.approx(2 / 3) and image[1, 0] == 1.0
    assert len(ax.patches) == 1                                    # the outline of the best rate
    with pytest.raises(KeyError, match="test_nmse"):
        result_plots.plot_solved_grid([{"lr": 0.1, "T": 10, "solved": True}])
    plt.close(ax.figure)


def test_the_solved_grids_draw_one_panel_per_model_in_order():
    from lessons_lib.analysis.results import length_limits

    rows = _grid_rows()
    rows += [r | {"cell": "rnn"} for r in rows]
    _, best = length_limits(rows)
    fig = result_plots.plot_solved_grids(rows, {("rnn", None): "RNN", ("gru", None): "GRU"}, best)
    assert [ax.get_title() for ax in fig.axes] == ["RNN", "GRU"] and fig.axes[1].get_ylabel() == ""
    with pytest.raises(KeyError, match="lstm"):
        result_plots.plot_solved_grids(rows, {("lstm", 1.0): "LSTM"}, best)
    plt.close(fig)


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


def test_shift_example_draws_the_target_and_each_prediction_where_it_exists():
    values = np.array([0.5, -0.2, 0.9, 0.1, -0.7])
    target = np.array([0.9, 0.1, -0.7, 0.0, 0.0])
    mask = np.array([True, True, True, False, False])
    ax = task_plots.plot_shift_example(values, target, mask, {"unidirectional": np.zeros(5),
                                                              "bidirectional": target}, shift=2)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:4] == ["input $v_t$", "target $v_{t+2}$ (2 steps ahead)", "unidirectional", "bidirectional"]
    assert ax.get_lines()[2].get_xdata().tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match=r"predictions\['x'\] must have shape \(5,\), got \(4,\)"):
        task_plots.plot_shift_example(values, target, mask, {"x": np.zeros(4)}, shift=2)


def test_the_solved_grids_take_other_model_keys():
    from lessons_lib.analysis.results import length_limits

    rows = [r | {"update_bias": -3.0} for r in _grid_rows()]
    _, best = length_limits(rows, by=("cell", "update_bias"))
    fig = result_plots.plot_solved_grids(rows, {("gru", -3.0): "b_z = -3"}, best, by=("cell", "update_bias"))
    assert [ax.get_title() for ax in fig.axes] == ["b_z = -3"] and fig.axes[0].texts
    with pytest.raises(ValueError, match="cell', 'update_bias"):
        result_plots.plot_solved_grids(rows, {("gru",): "x"}, {("gru",): (0.01, None)}, by=("cell", "update_bias"))
    plt.close("all")


def test_solution_times_draw_one_marker_per_solved_run_and_a_median_line():
    times = {("gru", None): {200: [30.0, 50.0, 40.0], 500: [100.0]}, ("mingru", -3.0): {200: [7.0], 500: []}}
    ax = result_plots.plot_solution_times(times, {("gru", None): "GRU", ("mingru", -3.0): "minGRU"})
    counts = sorted(len(c.get_offsets()) for c in ax.collections)
    assert counts == [1, 1, 3] and len(ax.lines) == 1            # the minGRU has one length: no line
    assert ax.get_yscale() == "log" and [t.get_text() for t in ax.get_xticklabels()] == ["200", "500"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["GRU", "minGRU"]
    with pytest.raises(ValueError, match="no model"):
        result_plots.plot_solution_times({("gru", None): {}}, {("gru", None): "GRU"})
    plt.close(ax.figure)
