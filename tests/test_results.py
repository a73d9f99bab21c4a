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


ADDING_ROW_KEYS = {"cell", "variant", "T", "lr", "seed", "steps", "forget_bias", "test_mse", "test_nmse",
                   "test_accuracy", "solved", "seconds"}
REQUIRED_ROW_KEYS = {
    "adding": ADDING_ROW_KEYS,
    "adding_curves": ADDING_ROW_KEYS | {"steps_run", "loss_at_10"},
    "weather": {"model", "window_hours", "seed", "lr", "horizon_hours", "mae_c", "validation_mae_c"},
    "gate_ablation": {"task", "variant", "kind", "lr", "seed", "T", "H", "steps", "forget_bias", "chrono", "steps_run",
                      "val_nmse", "test_nmse", "solved", "stopped", "seconds"},
    "language": {"model", "order", "H", "split", "bpc", "nats", "predictions", "lr", "seed", "steps",
                 "validation_bpc"},
    "bidirectional": {"cell", "direction", "shift", "T", "H", "lr", "seed", "steps", "parameters", "val_nmse",
                      "test_nmse", "untrained_test_nmse", "solved", "seconds"},
    "gru_placement": {"kind", "seed", "steps", "lr", "H", "forget_bias", "recall_error", "quiet_output",
                      "final_loss", "seconds"},
    "mingru": ADDING_ROW_KEYS | {"steps_run", "update_bias", "init", "method"},
    "scan_benchmark": {"what", "model", "method", "N", "H", "D", "T", "seconds", "spread", "repeats", "load_average"},
}


def test_every_stored_results_file_has_provenance_and_the_row_keys_of_its_experiment():
    files = sorted((ROOT / "results").glob("*.json"))
    assert files, "results/ holds no experiment"
    for path in files:
        stored = res.load_results(path)             # checks the provenance keys and that rows are flat
        assert stored.experiment == path.stem and stored.rows
        for row in stored.rows:
            assert REQUIRED_ROW_KEYS[stored.experiment] <= set(row), (path.name, sorted(row))


def test_curves_agree_needs_the_row_and_every_shared_step_of_the_curve_to_agree():
    rp = _reproduce()
    row = {"solved": True, "test_nmse": 0.005, "loss_at_10": 0.1, "loss_at_20": 0.01}
    assert rp.curves_agree([row], [row | {"loss_at_20": 0.0105}])
    assert rp.curves_agree([row], [{k: v for k, v in row.items() if k != "loss_at_20"}])   # stopped earlier
    assert not rp.curves_agree([row], [row | {"loss_at_20": 0.02}])
    assert not rp.curves_agree([row], [row | {"solved": False, "test_nmse": 0.9}])
    assert len(rp.curves_pending([])) == len(rp.CURVE_SETTINGS) * len(rp.CURVE_LRS) * len(rp.ADDING_SEEDS)
    stored = res.load_results(ROOT / "results" / "adding_curves.json").rows
    assert rp.curves_pending(stored) == [] and len(rp.curves_check(stored)) == 1


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


def _limit_rows(solved_by_T, lr=0.01, cell="gru"):
    """Rows of one setting: ``solved_by_T`` maps a length to the verdicts of its seeds."""
    return [{"cell": cell, "forget_bias": None, "lr": lr, "T": T, "seed": s, "solved": v,
             "test_nmse": 0.01 if v else 1.0} for T, verdicts in solved_by_T.items() for s, v in enumerate(verdicts)]


def test_a_length_limit_is_the_last_of_an_unbroken_run_of_lengths_most_seeds_solved():
    rows = _limit_rows({10: [1, 1, 1], 20: [1, 1, 0], 50: [1, 0, 0], 100: [1, 1, 1]})
    limits, best = res.length_limits(rows)
    assert limits[("gru", None)][0.01] == res.LengthLimit(20, 2, 3, 50, 0.01)   # 100 comes after a failure
    assert res.length_limits(rows, min_solved=3)[0][("gru", None)][0.01].T == 10
    assert res.length_limits(rows, min_solved=1)[0][("gru", None)][0.01].T == 100
    failed = res.length_limits(_limit_rows({10: [0, 0, 1]}))[0][("gru", None)][0.01]
    assert failed.T is None and failed.next_T == 10 and failed.solved == 0


def test_the_best_learning_rate_is_the_one_that_gets_furthest_then_the_one_with_the_lower_error():
    rows = _limit_rows({10: [1, 1, 1], 20: [1, 1, 1]}, lr=0.001) + _limit_rows({10: [1, 1, 1]}, lr=0.01)
    rows += _limit_rows({10: [1, 1, 1], 20: [1, 1, 1], 50: [0, 0, 0]}, lr=0.02)
    for r in rows:
        if r["lr"] == 0.02 and r["T"] == 20:
            r["test_nmse"] = 0.005
    assert res.length_limits(rows)[1][("gru", None)] == (0.02, res.LengthLimit(20, 3, 3, 50, 0.005))
    with pytest.raises(ValueError, match="min_solved"):
        res.length_limits(rows, min_solved=0)
    with pytest.raises(KeyError, match="solved"):
        res.length_limits([{"cell": "gru", "forget_bias": None, "lr": 0.1, "T": 10}])


def test_the_le2015_grid_starts_after_the_first_one_and_grows_by_the_same_rule():
    rp = _reproduce()
    rows = res.load_results(ROOT / "results" / "adding.json").rows
    first_half = [r for r in rows if r["variant"] == "first-half"]
    todo = rp.adding_pending(first_half)
    assert len(todo) == len(rp.ADDING_CELLS) * len(rp.ADDING_LRS) * len(rp.ADDING_SEEDS)
    assert {s["variant"] for s in todo} == {"le2015"} and {s["T"] for s in todo} == {10}
    assert rp.adding_pending(first_half[:-1])[0]["variant"] == "first-half"    # the first grid comes first
    le = [r | {"variant": "le2015"} for r in first_half]
    assert rp.adding_pending(first_half + le) == []


def test_the_limits_table_lists_each_setting_in_the_order_given():
    rows = _limit_rows({10: [1, 1, 1], 20: [0, 0, 1]}) + _limit_rows({10: [0, 0, 0]}, cell="rnn")
    _, best = res.length_limits(rows)
    text = res.format_limits(best, {("rnn", None): "RNN", ("gru", None): "GRU"}).splitlines()
    assert text[0].split() == ["model", "best", "lr", "longest", "T", "solved", "seeds", "failed", "at", "median",
                               "NMSE"]
    assert text[1].split() == ["RNN", "0.01", "none", "-", "10", "1.000"]
    assert text[2].split() == ["GRU", "0.01", "10", "3/3", "20", "0.010"]
    with pytest.raises(KeyError, match="lstm"):
        res.format_limits(best, {("lstm", 1.0): "LSTM"})


# ------------------------------------------------------------------------- curves stored as row keys

def test_curve_keys_are_running_means_every_few_steps():
    # values 1..30: the mean of the last 5 values at step s is s - 2
    keys = res.curve_keys(list(range(1, 31)), prefix="loss_at_", every=10, window=5)
    assert keys == {"loss_at_10": 8.0, "loss_at_20": 18.0, "loss_at_30": 28.0}
    # the first steps average what there is; rounding keeps 3 significant digits
    assert res.curve_keys([1.0, 2.0, 4.0], every=1, window=2, digits=3) == {
        "loss_at_1": 1.0, "loss_at_2": 1.5, "loss_at_3": 3.0}
    assert res.curve_keys([1 / 3], every=1, window=1, digits=2) == {"loss_at_1": 0.33}


@pytest.mark.parametrize("kwargs, message", [
    ({"values": []}, "non-empty 1-D"),
    ({"values": [[1.0, 2.0]]}, "non-empty 1-D"),
    ({"values": [1.0], "every": 0}, "every must be a positive int"),
    ({"values": [1.0], "window": 2.5}, "window must be a positive int"),
])
def test_curve_keys_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        res.curve_keys(**kwargs)


def test_seed_curves_keeps_the_steps_every_run_reached():
    runs = [{"seed": 0, "loss_at_10": 1.0, "loss_at_20": 0.5, "loss_at_30": 0.1},
            {"seed": 1, "loss_at_10": 3.0, "loss_at_20": 0.7},
            {"seed": 2, "loss_at_10": 2.0, "loss_at_20": 0.6, "loss_at_30": 0.2, "other": 9}]
    steps, median, low, high = res.seed_curves(runs, "loss_at_")
    assert steps.tolist() == [10, 20]
    assert median.tolist() == [2.0, 0.6] and low.tolist() == [1.0, 0.5] and high.tolist() == [3.0, 0.7]
    with pytest.raises(ValueError, match="at least one run"):
        res.seed_curves([], "loss_at_")
    with pytest.raises(ValueError, match="share no step"):
        res.seed_curves([{"loss_at_10": 1.0}, {"loss_at_20": 1.0}], "loss_at_")


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


def test_gru_placement_grid_check_and_a_stored_row():
    """Both GRU placements and the LSTM, 8 seeds each, once; the stored GRU row of seed 0 re-runs to its scores."""
    rp = _reproduce()
    todo = rp.placement_pending([])
    assert len(todo) == 3 * 8
    assert {(s["kind"], s["reset"]) for s in todo} == {("gru", "after"), ("gru", "before"), ("lstm", None)}
    stored = res.load_results(ROOT / "results" / "gru_placement.json").rows
    assert rp.placement_pending(stored) == []
    assert all(rp.placement_stored(stored, s) for s in rp.placement_check(stored))
    assert {r.get("reset") for r in stored if r["kind"] == "gru"} == {"after", "before"}
    assert all(r["forget_bias"] == 1.0 for r in stored if r["kind"] == "lstm")
    row = {"recall_error": 0.002, "quiet_output": 0.01}
    assert rp.placement_agree([row], [row | {"recall_error": 0.002 * (1 + 1e-9)}])
    assert not rp.placement_agree([row], [row | {"quiet_output": 0.0101}])
    setting = {"kind": "gru", "reset": "after", "seed": 0}
    assert rp.placement_agree(rp.placement_stored(stored, setting), rp.placement_run(**setting))


def test_solution_times_keep_the_solved_runs_of_each_models_chosen_rate():
    rows = [{"cell": "gru", "update_bias": None, "lr": lr, "T": T, "solved": solved, "seconds": s}
            for lr, T, solved, s in [(0.01, 200, True, 30.0), (0.01, 200, False, 90.0), (0.01, 200, True, 50.0),
                                     (0.02, 200, True, 5.0), (0.01, 500, False, 80.0)]]
    rows.append({"cell": "mingru", "update_bias": -3.0, "lr": 0.02, "T": 200, "solved": True, "seconds": 7.0})
    best = {("gru", None): (0.01, None), ("mingru", -3.0): (0.02, None)}
    times = res.solution_times(rows, best, by=("cell", "update_bias"))
    # the GRU's 0.02 run is not its chosen rate; its T = 500 ran but nothing solved there
    assert times == {("gru", None): {200: [30.0, 50.0], 500: []}, ("mingru", -3.0): {200: [7.0]}}
    table = res.format_solution_times(times, {("gru", None): "GRU", ("mingru", -3.0): "minGRU"},
                                      runs={("gru", None): {200: 3, 500: 1}, ("mingru", -3.0): {200: 1}})
    lines = table.splitlines()
    assert "T = 200" in lines[0] and "T = 500" in lines[0]
    assert "2/3 solved, 40 s" in lines[1] and "0/1 solved, no solution" in lines[1]
    assert "1/1 solved, 7 s" in lines[2] and lines[2].rstrip().endswith("-")
    with pytest.raises(KeyError, match="seconds"):
        res.solution_times([{"cell": "gru", "update_bias": None, "lr": 0.01, "T": 10, "solved": True}], best,
                           by=("cell", "update_bias"))
    steps = res.solution_times([r | {"steps_run": 100 * k} for k, r in enumerate(rows)], best,
                               by=("cell", "update_bias"), metric="steps_run")
    assert steps[("gru", None)] == {200: [0.0, 200.0], 500: []}
    assert "1/1 solved, 500 steps" in res.format_solution_times(steps, {("mingru", -3.0): "m"},
                                                                 {("mingru", -3.0): {200: 1}}, unit="steps")


def test_the_mingru_grid_gives_every_cell_the_same_rates_and_caps_only_the_gru_at_long_lengths():
    rp = _reproduce()
    first = rp.mingru_pending([])
    assert len(first) == len(rp.MINGRU_CELLS) * len(rp.MINGRU_LRS) * len(rp.MINGRU_SEEDS)
    assert {s["T"] for s in first} == {200} and all(s["steps"] == rp.ADDING_STEPS for s in first)
    for cell, ub in rp.MINGRU_CELLS:
        assert {s["lr"] for s in first if (s["cell"], s["update_bias"]) == (cell, ub)} == set(rp.MINGRU_LRS)
    rows = [s | {"solved": s["cell"] == "gru" or s["update_bias"] is not None} for s in first]
    second = rp.mingru_pending(rows)
    assert {s["T"] for s in second} == {500}
    assert {(s["cell"], s["update_bias"]) for s in second} == {("gru", None), ("mingru", -3.0)}   # as drawn failed
    assert {s["steps"] for s in second if s["cell"] == "gru"} == {rp.MINGRU_STEPS[("gru", 500)]}
    assert {s["steps"] for s in second if s["cell"] == "mingru"} == {rp.ADDING_STEPS}


def test_the_scan_benchmark_table_gives_milliseconds_and_the_loop_over_scan_ratio():
    rows = [{"what": "recurrence", "model": "linear recurrence", "method": m, "N": 1, "H": 16, "T": T, "seconds": s}
            for m, T, s in [("loop", 100, 0.002), ("scan", 100, 0.001), ("loop", 1000, 0.02), ("scan", 1000, 0.004)]]
    rows.append({"what": "cell", "model": "gru", "method": None, "N": 1, "H": 16, "T": 100, "seconds": 0.01})
    lines = res.format_scan_benchmark(rows).splitlines()
    assert "T = 100" in lines[0] and "T = 1000" in lines[0]
    assert lines[1].split()[-2:] == ["2", "20"] and lines[2].split()[-2:] == ["1", "4"]   # milliseconds
    assert lines[3].startswith("gru (N = 1, H = 16)") and lines[3].rstrip().endswith("-")
    assert lines[5].startswith("linear recurrence: loop / scan") and lines[5].split()[-2:] == ["2.00", "5.00"]
    with pytest.raises(KeyError, match="seconds"):
        res.format_scan_benchmark([{"what": "cell", "model": "gru", "method": None, "N": 1, "H": 2, "T": 3}])
