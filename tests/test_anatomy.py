"""lessons_lib.analysis.anatomy: the gate-by-gate LSTM and GRU step against the fused library cells,
its per-gate backward pass against finite differences, and its input checks."""

import inspect
import json
import pathlib
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import GRAD_TOL, GRU_OPTIONS, make_params
from lessons_lib import numerical_gradient, rel_error, sequence_forward
from lessons_lib.analysis import anatomy
from lessons_lib.cells.activations import sigmoid
from lessons_lib.cells.gru import gru_step_backward, gru_step_forward
from lessons_lib.cells.lstm import lstm_forward, lstm_step_backward, lstm_step_forward

N, D, H = 3, 2, 4
GRU_IDS = [f"{o['reset']}-{o['update']}" for o in GRU_OPTIONS]
CHAPTER = pathlib.Path(__file__).resolve().parent.parent / "book" / "04_lstm_anatomy.ipynb"


def lstm_case(rng, dtype=np.float64, scale=0.5):
    params = make_params("lstm", D, H, rng, dtype, scale)
    x, h, c = (rng.standard_normal(s).astype(dtype) for s in [(N, D), (N, H), (N, H)])
    return params, x, h, c


def gru_case(rng, dtype=np.float64, scale=0.5):
    params = make_params("gru", D, H, rng, dtype, scale)
    x, h = (rng.standard_normal(s).astype(dtype) for s in [(N, D), (N, H)])
    return params, x, h


def handset_lstm():
    """The chapter's hand-set cell: unit 1 a gated memory, unit 2 follows the input."""
    return anatomy.stack_gate_blocks(
        "lstm",
        W_x={"i": [[0, 8, 0], [0, 0, 0]], "f": [[0, -8, 0], [0, 0, 0]],
             "g": [[1, 0, 0], [1, 0, 0]], "o": [[0, 0, 8], [0, 0, 0]]},
        b_x={"i": [-4, 4], "f": [4, -4], "g": [0, 0], "o": [-4, 4]},
    )


# ---------------------------------------------------------------------------
# Forward: agreement with the library, shapes, known values.


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lstm_anatomy_agrees_with_lstm_step_forward(dtype, rng):
    """h, c and the four gates of the gate-by-gate step equal lstm_step_forward's (fused) ones."""
    params, x, h_prev, c_prev = lstm_case(rng, dtype)
    a = anatomy.lstm_anatomy(x, h_prev, c_prev, params)
    h, c, cache = lstm_step_forward(x, h_prev, c_prev, params)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    assert rel_error(a.h, h) < tol and rel_error(a.c, c) < tol
    assert rel_error(np.concatenate([a.i, a.f, a.g, a.o], axis=1), cache.gates) < tol
    assert a.h.dtype == dtype


@pytest.mark.parametrize("options", GRU_OPTIONS, ids=GRU_IDS)
def test_gru_anatomy_agrees_with_gru_step_forward(options, rng):
    """h and the gates r, z, n equal gru_step_forward's in each of the four conventions."""
    params, x, h_prev = gru_case(rng)
    a = anatomy.gru_anatomy(x, h_prev, params, **options)
    h, cache = gru_step_forward(x, h_prev, params, **options)
    assert rel_error(a.h, h) < 1e-12
    assert rel_error(np.concatenate([a.r, a.z, a.n], axis=1), cache.gates) < 1e-12
    assert rel_error(a.a_n, a.a_xn + a.a_hn) < 1e-15


def test_lstm_anatomy_fields_and_shapes(rng):
    """Every intermediate is (N, H), except x (N, D); the named relations between them hold exactly."""
    params, x, h_prev, c_prev = lstm_case(rng)
    a = anatomy.lstm_anatomy(x, h_prev, c_prev, params)
    for name in a._fields:
        if name not in ("x", "params"):
            assert getattr(a, name).shape == (N, H), name
    assert a.x.shape == (N, D)
    np.testing.assert_array_equal(a.kept, a.f * a.c_prev)
    np.testing.assert_array_equal(a.written, a.i * a.g)
    np.testing.assert_array_equal(a.c, a.kept + a.written)
    np.testing.assert_array_equal(a.h, a.o * np.tanh(a.c))
    np.testing.assert_array_equal(a.f, sigmoid(a.a_f))


def test_lstm_anatomy_known_values_with_zero_weights():
    """All-zero weights: every gate is 1/2 and the candidate 0, so c = c_prev / 2 and h = tanh(c) / 2."""
    params = {"W_x": np.zeros((8, 1)), "W_h": np.zeros((8, 2)), "b_x": np.zeros(8), "b_h": np.zeros(8)}
    c_prev = np.array([[1.0, -2.0]])
    a = anatomy.lstm_anatomy(np.ones((1, 1)), np.ones((1, 2)), c_prev, params)
    for gate in (a.i, a.f, a.o):
        np.testing.assert_array_equal(gate, 0.5)
    np.testing.assert_array_equal(a.g, 0.0)
    np.testing.assert_allclose(a.c, [[0.5, -1.0]], rtol=1e-15)
    np.testing.assert_allclose(a.h, 0.5 * np.tanh([[0.5, -1.0]]), rtol=1e-15)


def test_gru_anatomy_known_values_in_each_direction():
    """With z = 1/2 both update conventions average h_prev and n; with z = sigma(3) they keep / write."""
    params = {"W_x": np.zeros((3, 1)), "W_h": np.zeros((3, 1)), "b_x": np.array([0.0, 3.0, 1.0]), "b_h": np.zeros(3)}
    x, h_prev = np.zeros((1, 1)), np.array([[0.4]])
    z, n = sigmoid(3.0), np.tanh(1.0)
    keep = anatomy.gru_anatomy(x, h_prev, params, update="keep")
    write = anatomy.gru_anatomy(x, h_prev, params, update="write")
    np.testing.assert_allclose(keep.h, z * 0.4 + (1 - z) * n, rtol=1e-15)
    np.testing.assert_allclose(write.h, (1 - z) * 0.4 + z * n, rtol=1e-15)


def test_handset_cell_keeps_writes_and_exposes_as_the_chapter_says():
    """The chapter's hand-set cell: unit 1 clears at the marker, holds after it, shows only at recall."""
    xs = np.array([[[0.7, 0, 0], [-0.8, 1, 0], [0.4, 0, 0], [0.9, 0, 0], [-0.3, 0, 1]]])
    steps = anatomy.lstm_anatomy_steps(xs, np.zeros((1, 2)), np.array([[0.5, 0.0]]), handset_lstm())
    f1 = [s.f[0, 0] for s in steps]
    assert f1[1] < 0.02 and all(f > 0.98 for k, f in enumerate(f1) if k != 1)
    assert steps[1].c[0, 0] == pytest.approx(0.018 * 0.5 + 0.982 * np.tanh(-0.8), abs=1e-3)
    assert all(abs(s.h[0, 0]) < 0.02 for s in steps[:4])          # hidden until recall
    assert steps[4].h[0, 0] == pytest.approx(-0.52, abs=0.01)      # shown at recall
    np.testing.assert_allclose([s.f[0, 1] for s in steps], sigmoid(-4.0))  # unit 2 always forgets


def test_preactivation_override_replaces_only_the_named_gate(rng):
    """Overriding a gate with its own value changes nothing; f -> 1 turns the update into c_prev + i g."""
    params, x, h_prev, c_prev = lstm_case(rng)
    a = anatomy.lstm_anatomy(x, h_prev, c_prev, params)
    same = anatomy.lstm_anatomy(x, h_prev, c_prev, params, preactivations={"f": a.a_f, "o": a.a_o})
    np.testing.assert_array_equal(same.h, a.h)
    open_f = anatomy.lstm_anatomy(x, h_prev, c_prev, params, preactivations={"f": 50.0})  # broadcasts
    np.testing.assert_allclose(open_f.c, c_prev + a.i * a.g, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(open_f.i, a.i)
    np.testing.assert_array_equal(open_f.a_f, 50.0)


def test_unit_preactivations_sets_one_column(rng):
    """unit_preactivations sets the named gates of one unit in every row, and leaves the rest."""
    params, x, h_prev, c_prev = lstm_case(rng)
    a = anatomy.lstm_anatomy(x, h_prev, c_prev, params)
    over = anatomy.unit_preactivations(a, 2, f=-3.0, o=1.5)
    assert sorted(over) == ["f", "o"]
    np.testing.assert_array_equal(over["f"][:, 2], -3.0)
    np.testing.assert_array_equal(np.delete(over["f"], 2, axis=1), np.delete(a.a_f, 2, axis=1))
    b = anatomy.lstm_anatomy(x, h_prev, c_prev, params, preactivations=over)
    np.testing.assert_array_equal(np.delete(b.h, 2, axis=1), np.delete(a.h, 2, axis=1))
    assert not np.allclose(b.h[:, 2], a.h[:, 2])


def test_lstm_anatomy_steps_and_traces_agree_with_lstm_forward(rng):
    """Stepping the anatomy over a sequence, and lstm_traces, reproduce lstm_forward's states and gates."""
    params = make_params("lstm", D, H, rng)
    x = rng.standard_normal((N, 5, D))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    out, h_T, c_T, cache = lstm_forward(params, x, h0, c0)
    steps = anatomy.lstm_anatomy_steps(x, h0, c0, params)
    assert rel_error(np.stack([s.h for s in steps], axis=1), out) < 1e-12
    assert rel_error(steps[-1].c, c_T) < 1e-12
    traces = anatomy.lstm_traces(params, x, h0, c0)
    assert sorted(traces) == ["c", "f", "g", "h", "i", "o"]
    for k in ("i", "f", "g", "o", "c", "h"):
        assert traces[k].shape == (N, 5, H)
        assert rel_error(traces[k], np.stack([getattr(s, k) for s in steps], axis=1)) < 1e-12


def test_gru_anatomy_steps_agree_with_sequence_forward(rng):
    params = make_params("gru", D, H, rng)
    x, h0 = rng.standard_normal((N, 4, D)), rng.standard_normal((N, H))
    for options in GRU_OPTIONS:
        out, _, _ = sequence_forward("gru", params, x, h0, **options)
        steps = anatomy.gru_anatomy_steps(x, h0, params, **options)
        assert rel_error(np.stack([s.h for s in steps], axis=1), out) < 1e-12


# ---------------------------------------------------------------------------
# Gate blocks and the GRU conventions.


def test_stack_gate_blocks_and_gate_block_round_trip(rng):
    """Blocks stacked in the gate order come back out of gate_block; missing W_h, b_h are zeros."""
    W_x = {g: rng.standard_normal((2, 3)) for g in anatomy.LSTM_GATES}
    b_x = {g: rng.standard_normal(2) for g in anatomy.LSTM_GATES}
    p = anatomy.stack_gate_blocks("lstm", W_x, b_x, W_h={"f": np.eye(2)})
    assert {k: v.shape for k, v in p.items()} == {"W_x": (8, 3), "W_h": (8, 2), "b_x": (8,), "b_h": (8,)}
    for g in anatomy.LSTM_GATES:
        block = anatomy.gate_block("lstm", p, g)
        np.testing.assert_array_equal(block["W_x"], W_x[g])
        np.testing.assert_array_equal(block["b_x"], b_x[g])
        np.testing.assert_array_equal(block["W_h"], np.eye(2) if g == "f" else 0.0)
    np.testing.assert_array_equal(p["W_x"][anatomy.gate_rows("lstm", "f", 2)], W_x["f"])
    assert anatomy.gate_rows("gru", "n", 5) == slice(10, 15)


def test_negate_update_gate_maps_keep_to_write_exactly(rng):
    """sigma(-a) = 1 - sigma(a): negated update-gate weights turn either direction into the other."""
    params = make_params("gru", D, H, rng, scale=1.0)
    x, h0 = rng.standard_normal((N, 6, D)), rng.standard_normal((N, H))
    flipped = anatomy.negate_update_gate(params)
    for reset in ("after", "before"):
        keep, _, _ = sequence_forward("gru", params, x, h0, reset=reset, update="keep")
        twin, _, _ = sequence_forward("gru", flipped, x, h0, reset=reset, update="write")
        other, _, _ = sequence_forward("gru", params, x, h0, reset=reset, update="write")
        assert rel_error(keep, twin) < 1e-14
        assert rel_error(keep, other) > 1e-3
    rows = anatomy.gate_rows("gru", "z", H)
    for k in params:
        np.testing.assert_array_equal(flipped[k][rows], -params[k][rows])
        np.testing.assert_array_equal(np.delete(flipped[k], rows, axis=0), np.delete(params[k], rows, axis=0))
        np.testing.assert_array_equal(anatomy.negate_update_gate(flipped)[k], params[k])
    assert flipped["W_x"] is not params["W_x"]


def test_reset_placements_differ_unless_the_candidate_block_is_diagonal(rng):
    """The chapter's argument: 'after' and 'before' agree iff W_hn is diagonal and b_hn = 0 (here: for such weights)."""
    params = make_params("gru", D, H, rng, scale=1.0)
    x, h0 = rng.standard_normal((N, 5, D)), rng.standard_normal((N, H))
    after, _, _ = sequence_forward("gru", params, x, h0, reset="after")
    before, _, _ = sequence_forward("gru", params, x, h0, reset="before")
    assert rel_error(after, before) > 1e-3
    rows = anatomy.gate_rows("gru", "n", H)
    params["W_h"][rows] = np.diag(np.diag(params["W_h"][rows]))
    params["b_h"][rows] = 0.0
    after, _, _ = sequence_forward("gru", params, x, h0, reset="after")
    before, _, _ = sequence_forward("gru", params, x, h0, reset="before")
    assert rel_error(after, before) < 1e-14


# ---------------------------------------------------------------------------
# Backward: finite differences and agreement with the library.


@pytest.mark.parametrize("scale", [0.5, 1.5], ids=["moderate", "saturating"])
def test_lstm_anatomy_backward_matches_finite_differences(scale, rng):
    """Every named gradient of lstm_anatomy_backward agrees with central differences (float64)."""
    params, x, h_prev, c_prev = lstm_case(rng, scale=scale)
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    g = anatomy.lstm_anatomy_backward(dh, dc, anatomy.lstm_anatomy(x, h_prev, c_prev, params))

    def loss():
        a = anatomy.lstm_anatomy(x, h_prev, c_prev, params)
        return float(np.sum(a.h * dh) + np.sum(a.c * dc))

    errors = {f"da_{k}": rel_error(getattr(g, "da_" + k),
                                   anatomy.lstm_preactivation_fd(k, x, h_prev, c_prev, params, dh, dc))
              for k in anatomy.LSTM_GATES}
    arrays = {"x": x, "h_prev": h_prev, "c_prev": c_prev, **params}
    analytic = {"x": g.dx, "h_prev": g.dh_prev, "c_prev": g.dc_prev, **g.grads}
    errors.update({k: rel_error(analytic[k], numerical_gradient(loss, a)) for k, a in arrays.items()})
    bad = {k: v for k, v in errors.items() if not v < GRAD_TOL}
    assert not bad, bad


def test_lstm_anatomy_backward_intermediate_gradients_match_their_formulas(rng):
    """The gate-value gradients are the chain-rule factors the chapter writes (e.g. df = dc_total * c_prev)."""
    params, x, h_prev, c_prev = lstm_case(rng)
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    a = anatomy.lstm_anatomy(x, h_prev, c_prev, params)
    g = anatomy.lstm_anatomy_backward(dh, dc, a)
    # dL/df by finite differences on the gate value: L(f) = sum(o tanh(f c_prev + i g) dh) + sum((f c_prev + i g) dc)
    f = a.f.copy()

    def loss_f():
        c = f * a.c_prev + a.i * a.g
        return float(np.sum(a.o * np.tanh(c) * dh) + np.sum(c * dc))

    assert rel_error(g.df, numerical_gradient(loss_f, f)) < GRAD_TOL
    np.testing.assert_allclose(g.dc_total, dc + dh * a.o * (1 - a.tanh_c ** 2), rtol=1e-14)
    np.testing.assert_allclose(g.do, dh * a.tanh_c, rtol=1e-14)


def test_lstm_anatomy_backward_agrees_with_lstm_step_backward(rng):
    params, x, h_prev, c_prev = lstm_case(rng)
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    g = anatomy.lstm_anatomy_backward(dh, dc, anatomy.lstm_anatomy(x, h_prev, c_prev, params))
    _, _, cache = lstm_step_forward(x, h_prev, c_prev, params)
    dx, dh_prev, dc_prev, grads = lstm_step_backward(dh, dc, cache)
    assert rel_error(g.dx, dx) < 1e-12 and rel_error(g.dh_prev, dh_prev) < 1e-12
    assert rel_error(g.dc_prev, dc_prev) < 1e-12
    for k in grads:
        assert rel_error(g.grads[k], grads[k]) < 1e-12, k


@pytest.mark.parametrize("options", GRU_OPTIONS, ids=GRU_IDS)
def test_gru_anatomy_backward_matches_finite_differences_and_library(options, rng):
    """da_r, da_z, da_n, dx, dh_prev and the weight gradients, against central differences and gru_step_backward."""
    params, x, h_prev = gru_case(rng, scale=1.0)
    dh = rng.standard_normal((N, H))
    g = anatomy.gru_anatomy_backward(dh, anatomy.gru_anatomy(x, h_prev, params, **options))

    def loss():
        return float(np.sum(anatomy.gru_anatomy(x, h_prev, params, **options).h * dh))

    errors = {f"da_{k}": rel_error(getattr(g, "da_" + k),
                                   anatomy.gru_preactivation_fd(k, x, h_prev, params, dh, **options))
              for k in anatomy.GRU_GATES}
    arrays = {"x": x, "h_prev": h_prev, **params}
    analytic = {"x": g.dx, "h_prev": g.dh_prev, **g.grads}
    errors.update({k: rel_error(analytic[k], numerical_gradient(loss, a)) for k, a in arrays.items()})
    bad = {k: v for k, v in errors.items() if not v < GRAD_TOL}
    assert not bad, bad

    _, cache = gru_step_forward(x, h_prev, params, **options)
    dx, dh_prev, grads = gru_step_backward(dh, cache)
    assert rel_error(g.dx, dx) < 1e-12 and rel_error(g.dh_prev, dh_prev) < 1e-12
    for k in grads:
        assert rel_error(g.grads[k], grads[k]) < 1e-12, k


def test_product_of_forget_gates_is_the_gradient_along_the_cell():
    """With W_h = 0 the only path from c_0 to c_T is the cell line: dc_T/dc_0 = prod f_t (the chapter's check)."""
    from lessons_lib import sequence_backward

    xs = np.array([[[0.7, 0, 0], [-0.8, 1, 0], [0.4, 0, 0], [0.9, 0, 0], [-0.3, 0, 1]]])
    h0, c0 = np.zeros((1, 2)), np.array([[0.5, 0.0]])
    params = handset_lstm()
    steps = anatomy.lstm_anatomy_steps(xs, h0, c0, params)
    out, _, cache = sequence_forward("lstm", params, xs, (h0, c0))
    _, (_, dc0), _ = sequence_backward("lstm", np.zeros_like(out), (np.zeros((1, 2)), np.array([[1.0, 0.0]])), cache)
    assert rel_error(dc0[0, 0], np.prod([s.f[0, 0] for s in steps])) < 1e-12
    assert dc0[0, 1] == 0.0


# ---------------------------------------------------------------------------
# The text table.


def test_format_steps_known_output():
    """One row per step, columns per unit, no '-0.00', custom headings."""
    params = {"W_x": np.zeros((8, 1)), "W_h": np.zeros((8, 2)), "b_x": np.zeros(8), "b_h": np.zeros(8)}
    steps = anatomy.lstm_anatomy_steps(np.zeros((1, 2, 1)), np.zeros((1, 2)), np.array([[1.0, -1e-9]]), params)
    text = anatomy.format_steps(steps, ["x", "f", "c"], names={"x": ["v"]})
    assert text.splitlines() == [
        "step      v   f[1]   f[2]   c[1]   c[2]",
        "   1   0.00   0.50   0.50   0.50   0.00",
        "   2   0.00   0.50   0.50   0.25   0.00",
    ]
    assert "-0.00" not in text


def test_format_steps_rejects_unknown_fields_and_bad_names(rng):
    params, x, h, c = lstm_case(rng)
    steps = [anatomy.lstm_anatomy(x, h, c, params)]
    with pytest.raises(ValueError, match="unknown field 'q'"):
        anatomy.format_steps(steps, ["q"])
    with pytest.raises(ValueError, match=r"names\['x'\] must have 2 entries, got 3"):
        anatomy.format_steps(steps, ["x"], names={"x": ["a", "b", "c"]})
    with pytest.raises(ValueError, match="at least one"):
        anatomy.format_steps([], ["x"])


# ---------------------------------------------------------------------------
# Input checks: clear errors that name the expected and the received shape.


def test_shape_errors_name_expected_and_received(rng):
    params, x, h, c = lstm_case(rng)
    with pytest.raises(ValueError, match=r"c_prev must have shape \(3, 4\), got \(3, 5\)"):
        anatomy.lstm_anatomy(x, h, np.zeros((N, H + 1)), params)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2\), got \(3, 3\)"):
        anatomy.lstm_anatomy(np.zeros((N, D + 1)), h, c, params)
    with pytest.raises(ValueError, match=r"preactivations\['f'\] must have shape \(N, H\) = \(3, 4\)"):
        anatomy.lstm_anatomy(x, h, c, params, preactivations={"f": np.zeros((2, 4))})
    a = anatomy.lstm_anatomy(x, h, c, params)
    with pytest.raises(ValueError, match=r"dh must have shape \(3, 4\), got \(4, 3\)"):
        anatomy.lstm_anatomy_backward(np.zeros((H, N)), np.zeros((N, H)), a)
    gparams, gx, gh = gru_case(rng)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(3, 4\), got \(3, 2\)"):
        anatomy.gru_anatomy(gx, np.zeros((N, 2)), gparams)


def test_type_and_name_errors(rng):
    params, x, h, c = lstm_case(rng)
    a = anatomy.lstm_anatomy(x, h, c, params)
    with pytest.raises(TypeError, match="params must be a dict"):
        anatomy.lstm_anatomy(x, h, c, [1, 2])
    with pytest.raises(ValueError, match=r"gate must be one of \('i', 'f', 'g', 'o'\) for an LSTM, got 'z'"):
        anatomy.lstm_anatomy(x, h, c, params, preactivations={"z": 0.0})
    with pytest.raises(TypeError, match="preactivations must be a dict"):
        anatomy.lstm_anatomy(x, h, c, params, preactivations=[0.0])
    with pytest.raises(ValueError, match="unit must be an int in 0 .. 3, got 4"):
        anatomy.unit_preactivations(a, 4, f=0.0)
    with pytest.raises(TypeError, match="anatomy must be an LSTMAnatomy or GRUAnatomy"):
        anatomy.unit_preactivations({"a_f": 0}, 0, f=0.0)
    with pytest.raises(TypeError, match="anat must be the LSTMAnatomy"):
        anatomy.lstm_anatomy_backward(np.zeros((N, H)), np.zeros((N, H)), a._asdict())
    with pytest.raises(ValueError, match="reset must be one of"):
        anatomy.gru_anatomy(x, h, make_params("gru", D, H, rng), reset="middle")
    with pytest.raises(ValueError, match="kind must be 'lstm' or 'gru'"):
        anatomy.gate_rows("rnn", "i", 2)
    with pytest.raises(ValueError, match="kind must be 'lstm' or 'gru'"):
        anatomy.gate_block("rnn", params, "i")
    with pytest.raises(ValueError, match=r"missing \['o'\]"):
        anatomy.stack_gate_blocks("lstm", {g: [[1.0]] for g in "ifg"}, {g: [0.0] for g in "ifgo"})
    with pytest.raises(ValueError, match=r"unknown gates \['q'\]"):
        anatomy.stack_gate_blocks("gru", {g: [[1.0]] for g in "rzn"}, {g: [0.0] for g in "rzn"}, W_h={"q": [[1.0]]})
    with pytest.raises(ValueError, match=r"W_x\['f'\] must have shape \(1, 1\), got \(1, 2\)"):
        anatomy.stack_gate_blocks("lstm", {"i": [[1.0]], "f": [[1.0, 2.0]], "g": [[1.0]], "o": [[1.0]]},
                                  {g: [0.0] for g in "ifgo"})
    with pytest.raises(TypeError, match="W_x must be a dict"):
        anatomy.stack_gate_blocks("lstm", [[1.0]], {g: [0.0] for g in "ifgo"})


# ---------------------------------------------------------------------------
# A property sweep over small shapes.


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 3), d=st.integers(1, 3), hidden=st.integers(1, 3), seed=st.integers(0, 2 ** 16),
       option=st.sampled_from(GRU_OPTIONS))
def test_anatomy_agrees_with_library_for_any_small_shape(n, d, hidden, seed, option):
    rng = np.random.default_rng(seed)
    p = make_params("lstm", d, hidden, rng)
    x, h, c = rng.standard_normal((n, d)), rng.standard_normal((n, hidden)), rng.standard_normal((n, hidden))
    a = anatomy.lstm_anatomy(x, h, c, p)
    h_lib, c_lib, _ = lstm_step_forward(x, h, c, p)
    assert rel_error(a.h, h_lib) < 1e-12 and rel_error(a.c, c_lib) < 1e-12
    q = make_params("gru", d, hidden, rng)
    assert rel_error(anatomy.gru_anatomy(x, h, q, **option).h, gru_step_forward(x, h, q, **option)[0]) < 1e-12


# ---------------------------------------------------------------------------
# The chapter's literalinclude blocks highlight the lines its prose names.

# (object, highlighted lines) -> text each highlighted line must contain, in order.
EXPECTED_HIGHLIGHTS = {
    ("lstm.py", "_step", "3,5,7,8"): ["h_prev @ W_h.T", "sigmoid(a)", "i, f, g, o =", "f * c_prev + i * g"],
    ("lstm.py", "_step", "5,6,8"): ["sigmoid(a)", "np.tanh(a[:, 2 * H:3 * H])", "f * c_prev + i * g"],
    ("lstm.py", "_step", "8"): ["f * c_prev + i * g"],
    ("lstm.py", "_step", "5,9,10"): ["sigmoid(a)", "tanh_c = np.tanh(c)", "h = o * tanh_c"],
    ("lstm.py", "_step_backward", "5,8"): ["dc = dc + dh * o", "dc * c_prev * dsigmoid_from_output(f)"],
    ("lstm.py", "_step_backward", "7,9"): ["dc * g * dsigmoid_from_output(i)", "dc * i * dtanh_from_output(g)"],
    ("lstm.py", "_step_backward", "5,11"): ["dc = dc + dh * o", "dc * f"],
    ("lstm.py", "_step_backward", "5,10"): ["dc = dc + dh * o", "dh * tanh_c * dsigmoid_from_output(o)"],
    ("gru.py", "_step", "7,10,16"): ["sigmoid(a_x[:, :2 * H] + a_h[:, :2 * H])", "r * hn",
                                     "(1.0 - z) * n + z * h_prev"],
    ("gru.py", "_step_backward", "12,21,23,24"): ["dh * z", "da_n * hn * dsigmoid_from_output(r)",
                                                 "da_h[:, 2 * H:] = da_n * r", "dh_prev += da_h @ W_h"],
}


def _chapter_includes():
    nb = json.loads(CHAPTER.read_text())
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    pattern = re.compile(r"```\{literalinclude\} \.\./src/lessons_lib/cells/(\w+\.py)\n((?::[\w-]+:.*\n)*)")
    for match in pattern.finditer(text):
        options = dict(re.findall(r":([\w-]+): *(.*)", match.group(2)))
        yield match.group(1), options


def test_chapter_highlights_the_lines_it_names():
    """Every :emphasize-lines: in chapter 4 points at the library line the prose explains.

    ``:pyobject:`` keeps the include right when lstm.py grows, but highlighted
    line numbers would drift silently; this test makes them fail loudly.
    """
    import lessons_lib.cells.gru
    import lessons_lib.cells.lstm

    modules = {"lstm.py": lessons_lib.cells.lstm, "gru.py": lessons_lib.cells.gru}
    found = 0
    for filename, options in _chapter_includes():
        if "emphasize-lines" not in options:
            continue
        key = (filename, options["pyobject"], options["emphasize-lines"].replace(" ", ""))
        assert key in EXPECTED_HIGHLIGHTS, f"chapter 4 highlights {key}, which this test does not know"
        lines = inspect.getsource(getattr(modules[filename], options["pyobject"])).splitlines()
        for number, expected in zip(key[2].split(","), EXPECTED_HIGHLIGHTS[key], strict=True):
            assert expected in lines[int(number) - 1], f"{key}: line {number} is {lines[int(number) - 1]!r}"
        found += 1
    assert found == len(EXPECTED_HIGHLIGHTS)
