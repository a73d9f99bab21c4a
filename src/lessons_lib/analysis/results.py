"""Stored experiment results: one JSON file per experiment, with how it was made, and summaries over seeds.

Runs longer than a few seconds are made by ``scripts/reproduce.py`` and kept
in ``results/NAME.json``, one JSON object per file::

    {"experiment": "adding",
     "provenance": {"command", "commit", "date", "python", "numpy", "machine", "seconds", ...},
     "rows": [{"cell": "gru", "T": 100, "lr": 0.003, "seed": 0, "test_nmse": 0.004, ...}, ...]}

Each row is flat: one run, its settings and its scores, as plain numbers,
strings, booleans or None.  The chapters read these files with
:func:`load_results` and summarise them with :func:`spread` (median, least
and largest value over seeds) and :func:`best_setting` (the learning rate
each model does best with), so that every number in their prose comes from
a stored run.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import platform
import statistics
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import NamedTuple

import numpy as np

from ..training.loop import running_mean

#: What every provenance record holds.
PROVENANCE_KEYS = ("command", "commit", "date", "python", "numpy", "machine", "seconds")
_SCALARS = (str, int, float, bool, type(None))


class Results(NamedTuple):
    """The contents of one results file."""

    experiment: str
    provenance: dict
    rows: list


def machine() -> str:
    """A short description of this computer: architecture, processor, cores and operating system."""
    cpu = platform.processor() or platform.machine()
    return f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def provenance(command: str, commit: str, seconds: float, **extra) -> dict:
    """The provenance record of a results file made now, on this machine, by ``command`` at ``commit``."""
    if not isinstance(command, str) or not command.strip():
        raise ValueError(f"command must be the command line that made the results, got {command!r}")
    if not isinstance(commit, str) or not commit.strip():
        raise ValueError(f"commit must name the library's version control commit, got {commit!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
        raise ValueError(f"seconds must be a number >= 0, got {seconds!r}")
    return {"command": command, "commit": commit,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "numpy": np.__version__, "machine": machine(),
            "seconds": round(float(seconds), 1), **extra}


def _check_rows(rows, where: str) -> list:
    if not isinstance(rows, list):
        raise TypeError(f"{where}: rows must be a list of flat dicts, got {type(rows).__name__}")
    for k, row in enumerate(rows):
        if not isinstance(row, dict):
            raise TypeError(f"{where}: row {k} must be a dict, got {type(row).__name__}")
        for key, value in row.items():
            if not isinstance(value, _SCALARS) or (isinstance(value, float) and not math.isfinite(value)):
                raise TypeError(f"{where}: row {k}, {key!r} must be a finite number, a string, a bool or None, "
                                f"got {value!r}")
    return rows


def save_results(path, experiment: str, rows: list, prov: Mapping) -> pathlib.Path:
    """Write a results file (atomically: a reader never sees half a file); return its path."""
    path = pathlib.Path(path)
    missing = [k for k in PROVENANCE_KEYS if k not in prov]
    if missing:
        raise ValueError(f"provenance lacks {missing}; make it with lessons_lib.analysis.results.provenance")
    rows = _check_rows(list(rows), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"experiment": experiment, "provenance": dict(prov), "rows": rows},
                              indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def load_results(path) -> Results:
    """Read and check a results file."""
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no results file {path}; make it with python scripts/reproduce.py {path.stem}")
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or not {"experiment", "provenance", "rows"} <= set(data):
        raise ValueError(f"{path}: expected an object with experiment, provenance and rows")
    missing = [k for k in PROVENANCE_KEYS if k not in data["provenance"]]
    if missing:
        raise ValueError(f"{path}: provenance lacks {missing}")
    return Results(data["experiment"], data["provenance"], _check_rows(data["rows"], str(path)))


def select(rows: Iterable[Mapping], **where) -> list:
    """The rows whose values equal every ``key=value`` given (a value may also be a set of allowed values)."""
    def keep(row):
        return all(row.get(k) in v if isinstance(v, (set, frozenset)) else row.get(k) == v
                   for k, v in where.items())
    return [dict(r) for r in rows if keep(r)]


class Spread(NamedTuple):
    """A metric over the seeds of one setting."""

    median: float
    low: float     #: the smallest value
    high: float    #: the largest value
    n: int         #: how many runs


def spread(rows: Iterable[Mapping], metric: str, by: Sequence[str]) -> dict:
    """Group the rows by the keys ``by`` and give each group's :class:`Spread` of ``metric``.

    Returns a dict from the tuple of the ``by`` values to a :class:`Spread`.
    """
    groups: dict = {}
    for row in rows:
        if metric not in row:
            raise KeyError(f"metric {metric!r} is not in the rows; they have {sorted(row)}")
        groups.setdefault(tuple(row.get(k) for k in by), []).append(float(row[metric]))
    return {key: Spread(statistics.median(v), min(v), max(v), len(v)) for key, v in groups.items()}


def best_setting(rows: Iterable[Mapping], metric: str, by: Sequence[str], over: str = "lr",
                 score: Callable[[list], float] = statistics.median) -> dict:
    """For each group ``by``, the value of ``over`` whose runs have the lowest ``score`` of ``metric``.

    This is the tuning rule of the book's comparisons: every model gets the
    same grid of learning rates, and each is shown at its own best one.  Ties
    go to the smaller value of ``over``.  Returns a dict from the tuple of the
    ``by`` values to ``(best value of over, its score)``.
    """
    values: dict = {}
    for row in rows:
        key = tuple(row.get(k) for k in by)
        values.setdefault(key, {}).setdefault(row[over], []).append(float(row[metric]))
    best = {}
    for key, by_value in values.items():
        scored = sorted((score(v), setting) for setting, v in by_value.items())
        best[key] = (scored[0][1], scored[0][0])
    return best


def command_line() -> str:
    """The command that is running, as a reader would type it (``python scripts/reproduce.py adding``)."""
    script = pathlib.Path(sys.argv[0])
    shown = script.as_posix() if not script.is_absolute() else script.name
    return " ".join(["python", shown, *sys.argv[1:]])


def weather_comparison(rows, horizons=(1, 6, 12, 24)) -> tuple[dict, str]:
    """Summarise the stored weather experiment (``results/weather.json``): every model at its own best learning rate, spread over seeds.

    Each network's learning rate is the one with the lowest median
    *validation* MAE (September) over its seeds: the test months play no part
    in the choice.  The models without seeds (baselines, linear) have one run.

    Returns
    -------
    summary : dict
        ``label -> {"lr", "overall": Spread, horizon: Spread, ...}``, where the
        overall MAE is the mean over the 24 horizons and a :class:`Spread`
        (from :mod:`lessons_lib.analysis.results`) gives median, lowest and
        highest over the seeds.
    text : str
        The same as a table, "median [lowest - highest]" for the networks.
    """
    rows = list(rows)
    networks = sorted({r["model"] for r in rows if r["seed"] is not None})
    summary = {}
    for model in [m for m in dict.fromkeys(r["model"] for r in rows) if m not in networks]:
        for window in sorted({r["window_hours"] for r in select(rows, model=model)}, key=lambda w: (w is None, w)):
            runs = select(rows, model=model, window_hours=window)
            label = model if window is None else f"{model}, {window} h"
            mae = {r["horizon_hours"]: r["mae_c"] for r in runs}
            overall = float(np.mean(list(mae.values())))
            summary[label] = {"lr": None, "overall": Spread(overall, overall, overall, 1),
                              **{k: Spread(mae[k], mae[k], mae[k], 1) for k in horizons}}
    for model in networks:
        runs = select(rows, model=model)
        firsts = [r for r in runs if r["horizon_hours"] == 1]       # validation MAE is per run: one row each
        (lr, _), = best_setting(firsts, "validation_mae_c", by=["model"]).values()
        best = select(runs, lr=lr)
        seeds = sorted({r["seed"] for r in best})
        overall = [float(np.mean([r["mae_c"] for r in best if r["seed"] == s])) for s in seeds]
        entry = {"lr": lr, "overall": Spread(float(np.median(overall)), min(overall), max(overall), len(seeds))}
        for k in horizons:
            values = [r["mae_c"] for r in best if r["horizon_hours"] == k]
            entry[k] = Spread(float(np.median(values)), min(values), max(values), len(values))
        summary[f"{model.upper()}, {rows and best[0]['window_hours']} h"] = entry

    def cell(s):
        return f"{s.median:.2f}" if s.n == 1 else f"{s.median:.2f} [{s.low:.2f}-{s.high:.2f}]"

    heads = ["all 24 h"] + [f"{k} h" for k in horizons]
    width = max(len(label) for label in summary) + 2
    lines = [f"{'model':<{width}}{'lr':>8}  " + "".join(f"{h:>18}" for h in heads)]
    for label, entry in summary.items():
        lr = "" if entry["lr"] is None else f"{entry['lr']:g}"
        lines.append(f"{label:<{width}}{lr:>8}  " + "".join(f"{cell(entry[k]):>18}"
                                                              for k in ["overall", *horizons]))
    return summary, "\n".join(lines)


class LengthLimit(NamedTuple):
    """How far one setting of the adding problem got: the longest length most of its seeds solved."""

    T: int | None          #: the longest length solved by at least ``min_solved`` seeds (None if not even the first)
    solved: int            #: how many seeds solved that length
    runs: int              #: how many seeds ran it
    next_T: int | None     #: the next length, which it did not solve (None if the grid ran out first)
    nmse: float            #: median test NMSE at ``T`` (at the first length if ``T`` is None)


def length_limits(rows: Iterable[Mapping], by: Sequence[str] = ("cell", "forget_bias"), over: str = "lr",
                  min_solved: int = 2) -> dict:
    """For every setting, the longest sequence length it solved, and which learning rate got furthest.

    A setting (the ``by`` keys and a value of ``over``) *solves* a length
    when at least ``min_solved`` of its runs there have ``solved`` true.
    Its limit is the last length of an unbroken run of solved lengths,
    starting from the shortest it ran; the true limit lies between that
    length and ``next_T``, the first length it failed.

    Returns ``(limits, best)``: ``limits[key][value]`` is the
    :class:`LengthLimit` of every setting, and ``best[key]`` is
    ``(value, LengthLimit)`` for the value of ``over`` with the longest limit
    (ties go to the lower median NMSE at that length, then to the smaller
    value).
    """
    if isinstance(min_solved, bool) or not isinstance(min_solved, int) or min_solved < 1:
        raise ValueError(f"min_solved must be a positive int, got {min_solved!r}")
    groups: dict = {}
    for row in rows:
        missing = [k for k in (*by, over, "T", "solved", "test_nmse") if k not in row]
        if missing:
            raise KeyError(f"a row lacks {missing}; it has {sorted(row)}")
        key = tuple(row[k] for k in by)
        groups.setdefault(key, {}).setdefault(row[over], {}).setdefault(row["T"], []).append(row)
    limits, best = {}, {}
    for key, by_value in groups.items():
        limits[key] = {}
        for value, by_T in by_value.items():
            lengths = sorted(by_T)
            limit, next_T = None, None
            for T in lengths:
                if sum(bool(r["solved"]) for r in by_T[T]) >= min_solved:
                    limit = T
                else:
                    next_T = T
                    break
            at = by_T[limit if limit is not None else lengths[0]]
            limits[key][value] = LengthLimit(limit, sum(bool(r["solved"]) for r in at) if limit else 0,
                                             len(at), next_T,
                                             float(statistics.median(r["test_nmse"] for r in at)))
        ranked = sorted(limits[key].items(), key=lambda item: (-(item[1].T or 0), item[1].nmse, item[0]))
        best[key] = ranked[0]
    return limits, best


def solution_times(rows: Iterable[Mapping], best: Mapping, by: Sequence[str] = ("cell", "forget_bias"),
                   over: str = "lr", metric: str = "seconds") -> dict:
    """The wall times of the runs that solved, per model and length, at each model's chosen setting.

    ``best[key][0]`` is the value of ``over`` (the learning rate) chosen for
    the model ``key`` (the values of ``by``), as :func:`length_limits`
    returns it; rows of other settings are left out, so that every model is
    shown at its own best rate. Returns ``times[key][T]``: the ``metric``
    (``seconds`` of wall time, or ``steps_run``) of that setting's solved runs
    at length ``T``, in the order of the rows (a length with runs but no
    solved one maps to an empty list).
    """
    times: dict = {key: {} for key in best}
    for row in rows:
        missing = [k for k in (*by, over, "T", "solved", metric) if k not in row]
        if missing:
            raise KeyError(f"a row lacks {missing}; it has {sorted(row)}")
        key = tuple(row[k] for k in by)
        if key not in best or row[over] != best[key][0]:
            continue
        runs = times[key].setdefault(row["T"], [])
        if row["solved"]:
            runs.append(float(row[metric]))
    return times


def format_solution_times(times: Mapping, labels: Mapping, runs: Mapping | None = None, unit: str = "s") -> str:
    """A text table of :func:`solution_times`: per model and length, how many runs solved and their median.

    ``labels`` maps each model's key to its name, in the order to show;
    ``runs[key][T]``, if given, is how many runs there were (default: shown
    as solved counts only); ``unit`` follows the median (``"s"``, ``"steps"``).
    A length a model did not run shows ``-``.
    """
    lengths = sorted({T for key in labels for T in times.get(key, {})})
    width = max(len(n) for n in labels.values()) + 2
    lines = [f"{'model':<{width}}" + "".join(f"{f'T = {T}':>26}" for T in lengths)]
    for key, name in labels.items():
        cells = []
        for T in lengths:
            if T not in times.get(key, {}):
                cells.append(f"{'-':>26}")
                continue
            seconds = times[key][T]
            total = f"/{runs[key][T]}" if runs is not None else ""
            median = f"{statistics.median(seconds):.0f} {unit}" if seconds else "no solution"
            cells.append(f"{f'{len(seconds)}{total} solved, {median}':>26}")
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


def format_scan_benchmark(rows: Iterable[Mapping]) -> str:
    """A text table of ``benchmarks/scan.py``'s rows: milliseconds per call, one line per item and size, one
    column per length, then for each size how many times faster than the loop the scan is (below 1: slower).

    An item is the bare recurrence by one method, or one cell's forward pass (``what``, ``model`` and
    ``method`` of the rows); a length an item was not timed at shows ``-``.
    """
    rows = [dict(r) for r in rows]
    if not rows:
        raise ValueError("the benchmark holds no rows")
    missing = [k for k in ("what", "model", "method", "N", "H", "T", "seconds") if k not in rows[0]]
    if missing:
        raise KeyError(f"the benchmark rows lack {missing}; they have {sorted(rows[0])}")
    lengths = sorted({r["T"] for r in rows})
    at = {(r["what"], r["model"], r["method"], r["N"], r["H"], r["T"]): r["seconds"] for r in rows}
    items = list(dict.fromkeys((r["what"], r["model"], r["method"], r["N"], r["H"]) for r in rows))

    def name(model, method, N, H):
        return f"{model}{'' if method is None else ', ' + method} (N = {N}, H = {H})"

    width = max(len(name(*item[1:])) for item in items) + 2
    lines = [f"{'milliseconds per call':<{width}}" + "".join(f"{f'T = {T}':>13}" for T in lengths)]
    for item in items:
        cells = [f"{1e3 * at[(*item, T)]:13.3g}" if (*item, T) in at else f"{'-':>13}" for T in lengths]
        lines.append(f"{name(*item[1:]):<{width}}" + "".join(cells))
    ratios = []
    for what, model, method, N, H in items:
        if method != "scan":
            continue
        loop = (what, model, "loop", N, H)
        if loop not in items:
            continue
        cells = [f"{at[(*loop, T)] / at[(what, model, method, N, H, T)]:13.2f}"
                 if (*loop, T) in at and (what, model, method, N, H, T) in at else f"{'-':>13}" for T in lengths]
        ratios.append(f"{f'{model}: loop / scan (N = {N}, H = {H})':<{width}}" + "".join(cells))
    if ratios:
        lines += ["", *ratios]
    return "\n".join(lines)


def format_limits(best: Mapping, labels: Mapping | None = None) -> str:
    """A text table of :func:`length_limits`'s ``best``: per setting, its best learning rate and how far it got.

    ``labels`` maps a setting's key (``("lstm", 1.0)``) to the name shown
    (default: the key's values joined).  Settings appear in the order of
    ``labels``, or of ``best``.
    """
    keys = list(labels) if labels is not None else list(best)
    missing = [k for k in keys if k not in best]
    if missing:
        raise KeyError(f"no limit for {missing}; there are limits for {list(best)}")
    names = {k: (labels[k] if labels is not None else " ".join(str(v) for v in k)) for k in keys}
    width = max(len(n) for n in names.values()) + 2
    lines = [f"{'model':<{width}}{'best lr':>8}{'longest T solved':>18}{'seeds':>7}{'failed at':>11}"
             f"{'median NMSE':>13}"]
    for k in keys:
        lr, limit = best[k]
        seeds = f"{limit.solved}/{limit.runs}" if limit.T is not None else "-"
        failed = "-" if limit.next_T is None else str(limit.next_T)
        longest = "none" if limit.T is None else str(limit.T)
        lines.append(f"{names[k]:<{width}}{lr:>8g}{longest:>18}{seeds:>7}{failed:>11}{limit.nmse:>13.3f}")
    return "\n".join(lines)


#: The two test splits of the language experiment, and the model names of its rows.
LANGUAGE_SPLITS = ("unseen-play", "same-plays")
NGRAM_NAMES = {"ngram-wb": "Witten-Bell", "ngram-kn": "Kneser-Ney"}
NETWORK_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def language_comparison(rows) -> tuple[dict, str]:
    """Summarise the stored language experiment (``results/language.json``): every model at its best setting.

    The choices use the *validation* text only (the first part of the
    training plays' held-out tails), never a test split:

    - each n-gram smoothing at the order with the lowest validation bpc;
    - each network, at each step budget it ran, at the learning rate with
      the lowest median validation bpc over its seeds
      (:func:`best_setting`).

    Returns
    -------
    summary : dict
        ``label -> {"model", "order", "lr", "steps", "unseen-play": Spread, "same-plays": Spread,
        "validation": Spread}``, labels such as ``"Kneser-Ney 6-gram"`` and
        ``"LSTM, 2000 steps"``; a :class:`Spread` gives the median, lowest
        and highest bpc over seeds (one value for an n-gram).
    text : str
        The same as a table, "median [lowest - highest]" where there are seeds.
    """
    rows = list(rows)
    if not rows:
        raise ValueError("rows must hold the language experiment's rows, got none")
    summary = {}
    for model, name in NGRAM_NAMES.items():
        runs = select(rows, model=model)
        if not runs:
            continue
        order = min({r["order"] for r in runs}, key=lambda k: (select(runs, order=k)[0]["validation_bpc"], k))
        best = {r["split"]: r for r in select(runs, order=order)}
        entry = {"model": model, "order": order, "lr": None, "steps": None}
        for split in LANGUAGE_SPLITS:
            entry[split] = Spread(best[split]["bpc"], best[split]["bpc"], best[split]["bpc"], 1)
        v = best[LANGUAGE_SPLITS[0]]["validation_bpc"]
        entry["validation"] = Spread(v, v, v, 1)
        summary[f"{name} {order}-gram"] = entry
    for model, name in NETWORK_NAMES.items():
        for steps in sorted({r["steps"] for r in select(rows, model=model)}):
            runs = select(rows, model=model, steps=steps)
            first = select(runs, split=LANGUAGE_SPLITS[0])       # validation bpc is per run: one row each
            (lr, _), = best_setting(first, "validation_bpc", by=["model"]).values()
            entry = {"model": model, "order": None, "lr": lr, "steps": steps}
            for split in LANGUAGE_SPLITS:
                (entry[split],) = spread(select(runs, lr=lr, split=split), "bpc", by=["model"]).values()
            (entry["validation"],) = spread(select(first, lr=lr), "validation_bpc", by=["model"]).values()
            summary[f"{name}, {steps} steps"] = entry

    def cell(s):
        return f"{s.median:.3f}" if s.n == 1 else f"{s.median:.3f} [{s.low:.3f}-{s.high:.3f}]"

    width = max(len(label) for label in summary) + 2
    lines = [f"{'model':<{width}}{'lr':>7}  {'validation':>22}{'unseen play':>22}{'same plays':>22}   (bpc)"]
    for label, e in summary.items():
        lr = "" if e["lr"] is None else f"{e['lr']:g}"
        lines.append(f"{label:<{width}}{lr:>7}  {cell(e['validation']):>22}{cell(e['unseen-play']):>22}"
                     f"{cell(e['same-plays']):>22}")
    return summary, "\n".join(lines)


def curve_keys(values, prefix: str = "loss_at_", every: int = 10, window: int = 50, digits: int = 5) -> dict:
    """A per-step curve as flat row keys: ``{PREFIX<s>: running mean of the last window values at step s}``.

    Steps are counted from 1 and kept every ``every`` steps, rounded to
    ``digits`` significant digits, so that a training curve of thousands of
    steps fits in a results row; :func:`seed_curves` reads them back.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {values.shape}")
    for name, n in (("every", every), ("window", window), ("digits", digits)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    smooth = running_mean(values, window)
    return {f"{prefix}{s}": float(f"{smooth[s - 1]:.{digits}g}") for s in range(every, len(values) + 1, every)}


def seed_curves(runs, prefix: str) -> tuple:
    """Curves stored as row keys ``PREFIX<step>``, over seeds: ``(steps, median, lowest, highest)`` arrays.

    Only the steps that every run reached are kept, so a run that stopped
    early ends the band where it ended.
    """
    runs = list(runs)
    if not runs:
        raise ValueError("seed_curves needs at least one run")
    reached = [{int(k[len(prefix):]) for k in r if k.startswith(prefix)} for r in runs]
    at = sorted(set.intersection(*reached))
    if not at:
        raise ValueError(f"the runs share no step with a key {prefix!r}<step>")
    values = np.array([[r[f"{prefix}{s}"] for s in at] for r in runs])     # (seeds, steps)
    return np.array(at), np.median(values, axis=0), values.min(axis=0), values.max(axis=0)


def language_curves(rows, model: str, lr: float, steps: int, split: str, prefix: str = "bpc_at_") -> tuple:
    """The evaluation curve of one network setting over its seeds: ``(steps, median, lowest, highest)`` arrays.

    The curves are the row keys ``bpc_at_S`` (or ``validation_bpc_at_S``
    with ``prefix="validation_bpc_at_"``) of the rows of ``model`` at
    learning rate ``lr`` and budget ``steps`` on the test ``split``.
    """
    runs = select(rows, model=model, lr=lr, steps=steps, split=split)
    if not runs:
        raise ValueError(f"no stored runs of model={model!r}, lr={lr!r}, steps={steps!r}, split={split!r}")
    return seed_curves(runs, prefix)


def variant_comparison(rows, task: str, order: Sequence[str] | None = None) -> tuple[dict, str]:
    """Summarise the stored gate ablation (``results/gate_ablation.json``) on one task: each variant at its best rate.

    Each variant's learning rate is the one with the lowest median
    *validation* score (``val_nmse``) over its seeds (:func:`best_setting`);
    the test batch plays no part in the choice.  At that rate the test score
    is summarised over the seeds (:func:`spread`).

    Parameters
    ----------
    rows : the rows of the results file
    task : ``"memory"`` or ``"adding"``
    order : the variants to show, in this order (default: as they first appear)

    Returns
    -------
    summary : dict
        ``variant -> {"lr", "test": Spread, "scores": list of the seeds' test
        scores, "solved": int, "runs": int, "steps": Spread}``.
    text : str
        The same as a table, "median [lowest - highest]".
    """
    runs = select(rows, task=task)
    if not runs:
        raise ValueError(f"no rows for task {task!r}; the tasks stored are {sorted({r.get('task') for r in rows})}")
    variants = list(order) if order is not None else list(dict.fromkeys(r["variant"] for r in runs))
    best = best_setting(runs, "val_nmse", by=["variant"])
    summary = {}
    for variant in variants:
        if (variant,) not in best:
            raise ValueError(f"variant {variant!r} has no rows for task {task!r}")
        lr = best[(variant,)][0]
        at_best = select(runs, variant=variant, lr=lr)
        summary[variant] = {"lr": lr, "test": spread(at_best, "test_nmse", by=[])[()],
                            "scores": [r["test_nmse"] for r in sorted(at_best, key=lambda r: r["seed"])],
                            "solved": sum(bool(r["solved"]) for r in at_best), "runs": len(at_best),
                            "steps": spread(at_best, "steps_run", by=[])[()]}
    width = max(len(v) for v in variants) + 2
    lines = [f"{'variant':<{width}}{'best lr':>8}  {'test score: median [lowest - highest]':>40}  "
             f"{'solved':>7}  {'steps (median)':>14}"]
    for variant, s in summary.items():
        t = s["test"]
        lines.append(f"{variant:<{width}}{s['lr']:>8g}  {f'{t.median:.4f} [{t.low:.4f} - {t.high:.4f}]':>40}  "
                     f"{str(s['solved']) + '/' + str(s['runs']):>7}  {s['steps'].median:>14.0f}")
    return summary, "\n".join(lines)
