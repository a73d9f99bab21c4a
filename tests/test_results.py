"""Stored results: the file format, provenance, summaries over seeds, and scripts/reproduce.py's grid logic."""

from __future__ import annotations

import importlib.util
import json
import math
import pathlib
import sys

import pytest

from lessons_lib.analysis import results as res

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _reproduce():
    spec = importlib.util.spec_from_file_location("reproduce", ROOT / "scripts" / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("reproduce", module)     # dataclasses look their module up there
    spec.loader.exec_module(sys.modules["reproduce"])
    module = sys.modules["reproduce"]
    return module


def test_provenance_has_every_key_and_refuses_empty_fields():
    prov = res.provenance("python scripts/reproduce.py adding", "abc123", 12.34, extra="x")
    assert set(res.PROVENANCE_KEYS) <= set(prov) and prov["seconds"] == 12.3 and prov["extra"] == "x"
    assert prov["date"].endswith("+00:00") and "cores" in prov["machine"]
    with pytest.raises(ValueError, match="command"):
        res.provenance("", "abc", 1.0)
    with pytest.raises(ValueError, match="seconds"):
        res.provenance("python x", "abc", -1.0)


def test_save_and_load_round_trip_and_reject_what_is_not_flat_or_finite(tmp_path):
    prov = res.provenance("python x", "abc", 1.0)
    rows = [{"cell": "gru", "T": 10, "lr": 0.01, "solved": True, "forget_bias": None}]
    path = res.save_results(tmp_path / "r" / "demo.json", "demo", rows, prov)
    loaded = res.load_results(path)
    assert loaded.experiment == "demo" and loaded.rows == rows and loaded.provenance == prov
    assert not list(path.parent.glob("*.tmp"))
    with pytest.raises(TypeError, match="finite number"):
        res.save_results(tmp_path / "bad.json", "demo", [{"x": math.nan}], prov)
    with pytest.raises(TypeError, match="row 0, 'x'"):
        res.save_results(tmp_path / "bad.json", "demo", [{"x": [1, 2]}], prov)
    with pytest.raises(ValueError, match="provenance lacks"):
        res.save_results(tmp_path / "bad.json", "demo", rows, {"command": "x"})
    (tmp_path / "old.json").write_text(json.dumps({"experiment": "x", "provenance": {"command": "c"}, "rows": []}))
    with pytest.raises(ValueError, match="provenance lacks"):
        res.load_results(tmp_path / "old.json")
    with pytest.raises(FileNotFoundError, match="reproduce.py missing"):
        res.load_results(tmp_path / "missing.json")


ROWS = [
    {"cell": "gru", "lr": 0.01, "seed": 0, "nmse": 0.30}, {"cell": "gru", "lr": 0.01, "seed": 1, "nmse": 0.10},
    {"cell": "gru", "lr": 0.01, "seed": 2, "nmse": 0.20}, {"cell": "gru", "lr": 0.001, "seed": 0, "nmse": 0.05},
    {"cell": "gru", "lr": 0.001, "seed": 1, "nmse": 0.90}, {"cell": "gru", "lr": 0.001, "seed": 2, "nmse": 0.15},
    {"cell": "rnn", "lr": 0.01, "seed": 0, "nmse": 0.5}, {"cell": "rnn", "lr": 0.001, "seed": 0, "nmse": 0.5},
]


def test_select_and_spread_over_seeds():
    assert len(res.select(ROWS, cell="gru")) == 6 and len(res.select(ROWS, lr={0.01}, cell="rnn")) == 1
    table = res.spread(ROWS, "nmse", ["cell", "lr"])
    assert table[("gru", 0.01)] == res.Spread(0.20, 0.10, 0.30, 3)
    assert table[("gru", 0.001)] == res.Spread(0.15, 0.05, 0.90, 3)
    with pytest.raises(KeyError, match="metric 'mse'"):
        res.spread(ROWS, "mse", ["cell"])


def test_best_setting_tunes_each_group_by_its_median_and_breaks_ties_towards_the_smaller_value():
    best = res.best_setting(ROWS, "nmse", ["cell"])
    assert best[("gru",)] == (0.001, 0.15)     # median 0.15 beats 0.20, though its worst seed is the worst
    assert best[("rnn",)] == (0.001, 0.5)      # a tie
    assert res.best_setting(ROWS, "nmse", ["cell"], score=max)[("gru",)] == (0.01, 0.30)


def _row(cell, fb, T, lr, seed, solved):
    return {"cell": cell, "forget_bias": fb, "variant": "first-half", "T": T, "lr": lr, "seed": seed,
            "solved": solved}


def test_the_adding_grid_starts_at_the_shortest_length_and_grows_only_while_some_seed_solves():
    rp = _reproduce()
    first = rp.adding_pending([])
    assert len(first) == len(rp.ADDING_CELLS) * len(rp.ADDING_LRS) * len(rp.ADDING_SEEDS)
    assert {s["T"] for s in first} == {10} and all(s["steps"] == rp.ADDING_STEPS for s in first)
    rows = [_row(s["cell"], s["forget_bias"], 10, s["lr"], s["seed"], s["cell"] != "rnn") for s in first]
    second = rp.adding_pending(rows)
    assert {s["T"] for s in second} == {20} and {s["cell"] for s in second} == {"gru", "lstm"}
    # one seed that solves is enough to go on; a missing seed is run before anything longer
    rows += [_row("gru", None, 20, 0.01, 0, True), _row("gru", None, 20, 0.01, 1, False)]
    third = rp.adding_pending(rows)
    assert {"cell": "gru", "forget_bias": None, "variant": "first-half", "T": 20, "lr": 0.01, "seed": 2,
            "steps": rp.ADDING_STEPS} in third
    assert not any(s["cell"] == "gru" and s["lr"] == 0.01 and s["T"] > 20 for s in third)


def test_a_rerun_agrees_within_the_tolerance_and_only_with_the_same_verdict():
    rp = _reproduce()
    stored = [{"test_nmse": 0.010, "solved": True}]
    assert rp.adding_agree(stored, [{"test_nmse": 0.010, "solved": True}])
    assert rp.adding_agree(stored, [{"test_nmse": 0.012, "solved": True}])
    assert not rp.adding_agree(stored, [{"test_nmse": 0.030, "solved": True}])
    assert not rp.adding_agree([{"test_nmse": 0.049, "solved": True}], [{"test_nmse": 0.051, "solved": False}])
    row = {"model": "gru", "window_hours": 72, "horizon_hours": 1, "mae_c": 0.60}
    assert rp.weather_agree([row], [row | {"mae_c": 0.63}])
    assert not rp.weather_agree([row], [row | {"mae_c": 0.70}])
    assert not rp.weather_agree([row], [row | {"horizon_hours": 2}])


def test_the_weather_grid_runs_the_baselines_once_and_every_cell_lr_and_seed():
    rp = _reproduce()
    first = rp.weather_pending([])
    assert first[0] == {"what": "baselines"}
    assert len(first) == 1 + len(rp.WEATHER_CELLS) * len(rp.WEATHER_LRS) * len(rp.WEATHER_SEEDS)
    rows = [{"model": "linear", "lr": None, "seed": None}, {"model": "gru", "lr": 0.01, "seed": 0}]
    later = rp.weather_pending(rows)
    assert {"what": "baselines"} not in later and {"what": "network", "cell": "gru", "lr": 0.01, "seed": 0} \
        not in later and len(later) == len(first) - 2


REQUIRED_ROW_KEYS = {
    "adding": {"cell", "variant", "T", "lr", "seed", "steps", "forget_bias", "test_mse", "test_nmse", "test_accuracy",
               "solved", "seconds"},
    "weather": {"model", "window_hours", "seed", "lr", "horizon_hours", "mae_c", "validation_mae_c"},
    "gate_ablation": {"task", "variant", "kind", "lr", "seed", "T", "H", "steps", "forget_bias", "chrono", "steps_run",
                      "val_nmse", "test_nmse", "solved", "stopped", "seconds"},
}


def test_every_stored_results_file_has_provenance_and_the_row_keys_of_its_experiment():
    files = sorted((ROOT / "results").glob("*.json"))
    assert files, "results/ holds no experiment"
    for path in files:
        stored = res.load_results(path)             # checks the provenance keys and that rows are flat
        assert stored.experiment == path.stem and stored.rows
        for row in stored.rows:
            assert REQUIRED_ROW_KEYS[stored.experiment] <= set(row), (path.name, sorted(row))


def test_a_stored_adding_row_reproduces(capsys):
    """The fast subset of ``reproduce.py --check``: the first row of its sample, re-run and compared."""
    rp = _reproduce()
    assert rp.adding_check(res.load_results(ROOT / "results" / "adding.json").rows), "no row to check"
    assert rp.check(["adding"], limit=1) == 0, capsys.readouterr().out


def test_provenance_keeps_every_commit_the_rows_were_made_at(tmp_path, monkeypatch):
    """A grid that runs across several commits names all of them, not only the last."""
    rp = _reproduce()
    monkeypatch.setattr(rp, "RESULTS", tmp_path)
    commits = iter(["aaa", "bbb"])
    monkeypatch.setattr(rp, "git_commit", lambda: next(commits))
    experiment, seen = rp.EXPERIMENTS["adding"], set()
    row = {"cell": "gru", "forget_bias": None, "variant": "first-half", "T": 10, "lr": 0.01, "seed": 0}
    rp._save(experiment, [row], {"commits": ["old"], "seconds": 5.0}, 1.0, seen)
    rp._save(experiment, [row, row | {"seed": 1}], {"commits": ["old"], "seconds": 5.0}, 2.0, seen)
    prov = res.load_results(tmp_path / "adding.json").provenance
    assert prov["commits"] == ["aaa", "bbb", "old"] and prov["commit"] == "bbb" and prov["seconds"] == 7.0


def test_variant_comparison_chooses_the_rate_on_validation_and_reports_test():
    """The rate with the lowest median validation score is chosen, even where another has the better test score."""
    rows = []
    for lr, val, test in [(0.1, 0.5, 0.001), (0.01, 0.02, 0.03)]:
        for seed in range(3):
            rows.append({"task": "adding", "variant": "vanilla", "lr": lr, "seed": seed, "val_nmse": val + seed / 100,
                         "test_nmse": test * (seed + 1), "solved": test * (seed + 1) < 0.05,
                         "steps_run": 100 * (seed + 1)})
    rows.append({"task": "memory", "variant": "vanilla", "lr": 0.1, "seed": 0, "val_nmse": 0.0, "test_nmse": 0.0,
                 "solved": True, "steps_run": 600})
    summary, text = res.variant_comparison(rows, "adding")
    s = summary["vanilla"]
    assert s["lr"] == 0.01 and s["test"].median == pytest.approx(0.06) and s["test"].n == 3
    assert s["scores"] == pytest.approx([0.03, 0.06, 0.09]) and (s["solved"], s["runs"]) == (1, 3)
    assert s["steps"].median == 200 and "vanilla" in text and "0.0600 [0.0300 - 0.0900]" in text
    with pytest.raises(ValueError, match="no rows for task 'copy'"):
        res.variant_comparison(rows, "copy")
    with pytest.raises(ValueError, match="variant 'gru' has no rows"):
        res.variant_comparison(rows, "adding", order=["gru"])


def test_gate_ablation_grid_and_check_sample():
    """Every contender x task x rate x seed once; the check sample is cheap and every setting in it is in the grid."""
    rp = _reproduce()
    todo = rp.gate_pending([])
    assert len(todo) == 8 * 3 * 5 + 8 * 3 * 3
    keys = {tuple(s[k] for k in rp.GATE_KEYS) for s in todo}
    assert len(keys) == len(todo)
    assert all(tuple(s[k] for k in rp.GATE_KEYS) in keys for s in rp.gate_check([]))
    done = [dict(s, test_nmse=0.1, solved=False) for s in todo[:5]]
    assert len(rp.gate_pending(done)) == len(todo) - 5
    row = {"task": "memory", "test_nmse": 0.002, "solved": True}
    assert rp.gate_agree([row], [row | {"test_nmse": 0.002 * (1 + 1e-9)}])
    assert not rp.gate_agree([row], [row | {"test_nmse": 0.00201}])       # a 0.5 % change is a real one
