"""The LSTM variants (lessons_lib.cells.lstm_variants) and chrono initialisation.

Finite differences in float64 for every variant and every gradient (the
peephole weights included), the equations of each variant against a direct
formula, the general path against lstm.py, a deliberately wrong backward
pass that the check catches, the option errors, and the initialisers.
"""

import numpy as np
import pytest
from cases import GRAD_TOL, make_params

from lessons_lib import (
    check_sequence_gradients,
    init_params,
    numerical_gradient,
    rel_error,
    sequence_backward,
    sequence_forward,
)
from lessons_lib.cells import lstm_variants as lv
from lessons_lib.cells.activations import sigmoid
from lessons_lib.cells.initialisation import chrono_forget_bias
from lessons_lib.cells.lstm import LSTMCache, lstm_backward, lstm_forward
from lessons_lib.models.char_model import char_model_loss, init_char_model
from lessons_lib.models.regression import init_regressor, regressor_loss
from lessons_lib.tasks import adding_problem, gate_ablation, memory_task

N, T, D, H = 3, 4, 3, 4
VARIANTS = lv.VARIANTS


def variant_params(variant, rng, D=D, H=H, scale=0.5):
    """Random parameters (not from init_params, so a bug there cannot hide one here)."""
    p = make_params("lstm", D, H, rng, scale=scale)
    if variant == "peephole":
        p |= {k: scale * rng.standard_normal(H) for k in lv.PEEPHOLE_KEYS}
    return p


def case(variant, rng, scale=0.5):
    p = variant_params(variant, rng, scale=scale)
    x = rng.standard_normal((N, T, D))
    state0 = (rng.standard_normal((N, H)), rng.standard_normal((N, H)))
    return p, x, state0


def assert_all_below(errors, tol=GRAD_TOL):
    bad = {k: f"{v:.1e}" for k, v in errors.items() if not v < tol}
    assert not bad, f"gradients off (rel_error >= {tol:.0e}): {bad}"


# ----------------------------------------------------------------------------- finite differences

@pytest.mark.parametrize("lengths", [None, [T, 2, 0]], ids=["full", "lengths"])
@pytest.mark.parametrize("scale", [0.5, 1.5], ids=["small", "saturating"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_sequence_gradients_of_every_variant(variant, scale, lengths, rng):
    """dx, dh0, dc0 and every parameter gradient (p_i, p_f, p_o too) agree with central differences."""
    p, x, state0 = case(variant, rng, scale)
    errors = check_sequence_gradients("lstm", p, x, state0, lengths, rng=np.random.default_rng(1), variant=variant)
    expected = ["x", "h0", "c0", "W_x", "W_h", "b_x", "b_h"] + (list(lv.PEEPHOLE_KEYS) if variant == "peephole" else [])
    assert sorted(errors) == sorted(expected)
    assert_all_below(errors)


@pytest.mark.parametrize("variant", VARIANTS)
def test_step_gradients_of_every_variant(variant, rng):
    """lstm_variant_step_backward agrees with central differences of lstm_variant_step_forward."""
    p = variant_params(variant, rng)
    x, h_prev, c_prev, dh, dc = (rng.standard_normal(s) for s in [(N, D), (N, H), (N, H), (N, H), (N, H)])
    _, _, cache = lv.lstm_variant_step_forward(x, h_prev, c_prev, p, variant)
    dx, dh_prev, dc_prev, grads = lv.lstm_variant_step_backward(dh, dc, cache)

    def loss():
        h, c, _ = lv.lstm_variant_step_forward(x, h_prev, c_prev, p, variant)
        return float(np.sum(h * dh) + np.sum(c * dc))

    arrays = {"x": x, "h_prev": h_prev, "c_prev": c_prev, **p}
    analytic = {"x": dx, "h_prev": dh_prev, "c_prev": dc_prev, **grads}
    assert sorted(grads) == sorted(p)
    assert_all_below({k: rel_error(analytic[k], numerical_gradient(loss, a)) for k, a in arrays.items()})


def test_the_check_catches_a_peephole_gradient_that_reads_the_old_cell(rng, monkeypatch):
    """A classic mistake, dp_o from c_{t-1} instead of c_t, fails the check by far (so the check can fail)."""
    p, x, state0 = case("peephole", rng)
    right = lv._peephole_gradients

    def wrong(da, c_prev, c):
        return right(da, c_prev, c_prev)

    monkeypatch.setattr(lv, "_peephole_gradients", wrong)
    errors = check_sequence_gradients("lstm", p, x, state0, variant="peephole")
    assert errors["p_o"] > 1e-3
    assert errors["p_i"] < GRAD_TOL and errors["p_f"] < GRAD_TOL


def test_the_check_catches_a_coupled_backward_that_forgets_the_coupling(rng, monkeypatch):
    """Treating the coupled cell's i as a free gate (no gradient through i = 1 - f) fails the check on b_x."""
    p, x, state0 = case("coupled", rng)
    right = lv._step_backward

    def wrong(dh, dc, c_prev, c, gates, tanh_c, params, variant):
        # the vanilla backward on the coupled cell's gates: da_f misses the -dc * g term
        return right(dh, dc, c_prev, c, gates, tanh_c, params, "vanilla")

    monkeypatch.setattr(lv, "_step_backward", wrong)
    errors = check_sequence_gradients("lstm", p, x, state0, variant="coupled")
    assert errors["b_x"] > 1e-3


# ----------------------------------------------------------------------------- the equations

def reference_step(x, h_prev, c_prev, p, variant):
    """The equations of the module docstring, written out gate by gate."""
    H = h_prev.shape[1]
    W_x, W_h, b = p["W_x"], p["W_h"], p["b_x"] + p["b_h"]
    a = {k: x @ W_x[j * H:(j + 1) * H].T + h_prev @ W_h[j * H:(j + 1) * H].T + b[j * H:(j + 1) * H]
         for j, k in enumerate("ifgo")}
    peep = variant == "peephole"
    f = np.ones_like(c_prev) if variant == "no-forget" else sigmoid(a["f"] + (p["p_f"] * c_prev if peep else 0))
    i = 1 - f if variant == "coupled" else sigmoid(a["i"] + (p["p_i"] * c_prev if peep else 0))
    g = a["g"] if variant == "no-input-activation" else np.tanh(a["g"])
    c = f * c_prev + i * g
    o = np.ones_like(c) if variant == "no-output" else sigmoid(a["o"] + (p["p_o"] * c if peep else 0))
    return o * np.tanh(c), c, (i, f, g, o)


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_computes_its_equations(variant, rng):
    """h, c and the gates as used, against the equations written out one gate at a time."""
    p = variant_params(variant, rng)
    x, h_prev, c_prev = (rng.standard_normal(s) for s in [(N, D), (N, H), (N, H)])
    h, c, cache = lv.lstm_variant_step_forward(x, h_prev, c_prev, p, variant)
    h_ref, c_ref, gates_ref = reference_step(x, h_prev, c_prev, p, variant)
    np.testing.assert_allclose(h, h_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c, c_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cache.gates, np.concatenate(gates_ref, axis=1), rtol=1e-12, atol=1e-14)


def test_what_each_variant_removes(rng):
    """The defining identities: f = 1, o = 1, i = 1 - f, g unbounded; the 1997 cell only adds."""
    p = variant_params("vanilla", rng, scale=2.0)
    x, h_prev, c_prev = (rng.standard_normal(s) for s in [(N, D), (N, H), (N, H)])

    def gates(variant):
        h, c, cache = lv.lstm_variant_step_forward(x, h_prev, c_prev, p, variant)
        return h, c, dict(zip("ifgo", np.split(cache.gates, 4, axis=1)))

    h, c, gt = gates("no-forget")
    np.testing.assert_array_equal(gt["f"], 1.0)
    np.testing.assert_allclose(c, c_prev + gt["i"] * gt["g"], rtol=1e-15)
    h, c, gt = gates("no-output")
    np.testing.assert_array_equal(h, np.tanh(c))
    _, _, gt = gates("coupled")
    np.testing.assert_allclose(gt["i"] + gt["f"], 1.0, rtol=1e-15)
    _, _, gt = gates("no-input-activation")
    assert np.abs(gt["g"]).max() > 1.0          # no tanh: the candidate leaves (-1, 1)


def test_zero_peepholes_are_the_vanilla_cell(rng):
    """With p_i = p_f = p_o = 0 the peephole cell is the vanilla one, in the forward and the backward pass."""
    p, x, state0 = case("vanilla", rng)
    zero = {k: np.zeros(H) for k in lv.PEEPHOLE_KEYS}
    out_a, (h_a, c_a), cache_a = sequence_forward("lstm", p, x, state0)
    out_b, (h_b, c_b), cache_b = sequence_forward("lstm", p | zero, x, state0, variant="peephole")
    np.testing.assert_allclose(out_b, out_a, rtol=1e-14, atol=1e-15)
    dout = rng.standard_normal(out_a.shape)
    dstate = (rng.standard_normal((N, H)), rng.standard_normal((N, H)))
    _, _, g_a = sequence_backward("lstm", dout, dstate, cache_a)
    _, _, g_b = sequence_backward("lstm", dout, dstate, cache_b)
    for k in g_a:
        np.testing.assert_allclose(g_b[k], g_a[k], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("lengths", [None, [T, 2, 0]], ids=["full", "lengths"])
def test_the_general_path_agrees_with_lstm_py(lengths, rng):
    """lstm_variant_forward/backward with "vanilla" compute what lstm.py computes (to rounding)."""
    p, x, (h0, c0) = case("vanilla", rng)
    a = lstm_forward(p, x, h0, c0, lengths)
    b = lv.lstm_variant_forward(p, x, h0, c0, lengths, "vanilla")
    for u, v in zip(a[:3], b[:3]):
        np.testing.assert_allclose(v, u, rtol=1e-14, atol=1e-15)
    dout = rng.standard_normal((N, T, H))
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    ga, gb = lstm_backward(dout, dh, dc, a[3]), lv.lstm_variant_backward(dout, dh, dc, b[3])
    for u, v in zip(ga[:3], gb[:3]):
        np.testing.assert_allclose(v, u, rtol=1e-12, atol=1e-14)
    for k in ga[3]:
        np.testing.assert_allclose(gb[3][k], ga[3][k], rtol=1e-12, atol=1e-14)


def test_vanilla_takes_the_fast_path(rng):
    """sequence_forward sends the default and variant="vanilla" to lstm.py; the others to lstm_variants."""
    p, x, state0 = case("vanilla", rng)
    assert isinstance(sequence_forward("lstm", p, x, state0)[2], LSTMCache)
    assert isinstance(sequence_forward("lstm", p, x, state0, variant="vanilla")[2], LSTMCache)
    assert isinstance(sequence_forward("lstm", p, x, state0, variant="coupled")[2], lv.LSTMVariantCache)


@pytest.mark.parametrize("variant", ["no-forget", "no-output", "coupled"])
def test_the_unused_block_gets_no_gradient(variant, rng):
    """The rows of a removed gate stay in the layout and get exactly zero gradient."""
    p, x, state0 = case(variant, rng)
    out, state, cache = sequence_forward("lstm", p, x, state0, variant=variant)
    _, _, grads = sequence_backward("lstm", rng.standard_normal(out.shape), state, cache)
    block = {"no-forget": 1, "no-output": 3, "coupled": 0}[variant]
    rows = slice(block * H, (block + 1) * H)
    for k in ("W_x", "W_h", "b_x"):
        assert np.all(grads[k][rows] == 0.0)
        assert np.any(grads[k] != 0.0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_step_by_step_agrees_with_the_sequence(variant, rng):
    """Chaining the step functions gives the sequence function's states and gradients."""
    p, x, (h0, c0) = case(variant, rng)
    out, h_T, c_T, cache = lv.lstm_variant_forward(p, x, h0, c0, variant=variant)
    dout = rng.standard_normal(out.shape)
    h, c, caches = h0, c0, []
    for t in range(T):
        h, c, step_cache = lv.lstm_variant_step_forward(x[:, t], h, c, p, variant)
        np.testing.assert_allclose(h, out[:, t], rtol=1e-14, atol=1e-15)
        caches.append(step_cache)
    np.testing.assert_allclose(c, c_T, rtol=1e-14, atol=1e-15)
    dx, dh0, dc0, grads = lv.lstm_variant_backward(dout, np.zeros((N, H)), np.zeros((N, H)), cache)
    dh, dc, total = np.zeros((N, H)), np.zeros((N, H)), {k: 0.0 for k in grads}
    for t in reversed(range(T)):
        dx_t, dh, dc, g = lv.lstm_variant_step_backward(dout[:, t] + dh, dc, caches[t])
        np.testing.assert_allclose(dx_t, dx[:, t], rtol=1e-12, atol=1e-14)
        total = {k: total[k] + g[k] for k in total}
    np.testing.assert_allclose(dh, dh0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dc, dc0, rtol=1e-12, atol=1e-14)
    for k in grads:
        np.testing.assert_allclose(total[k], grads[k], rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- through the models

@pytest.mark.parametrize("variant", ["peephole", "coupled"])
def test_regressor_gradients_with_a_variant(variant, rng):
    """regressor_loss passes variant= to the cell; its gradients, peepholes included, match finite differences."""
    model = init_regressor("lstm", 2, 3, 1, rng, variant=variant)
    assert ("p_o" in model) == (variant == "peephole")
    x, target = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 1))
    _, grads, _ = regressor_loss("lstm", model, x, target, variant=variant)
    assert sorted(grads) == sorted(model)

    def loss():
        return regressor_loss("lstm", model, x, target, variant=variant)[0]

    assert_all_below({k: rel_error(grads[k], numerical_gradient(loss, model[k])) for k in model})


def test_char_model_and_memory_model_with_peepholes(rng):
    """The character and memory models carry the peephole weights and return their gradients."""
    model = init_char_model("lstm", 4, 3, rng, variant="peephole")
    inputs = rng.integers(0, 4, (2, 5))
    _, grads, _ = char_model_loss("lstm", model, inputs[:, :-1], inputs[:, 1:], variant="peephole")
    assert sorted(grads) == sorted(model)

    def loss():
        return char_model_loss("lstm", model, inputs[:, :-1], inputs[:, 1:], variant="peephole")[0]

    assert rel_error(grads["p_f"], numerical_gradient(loss, model["p_f"])) < GRAD_TOL
    memory = memory_task.init_memory_model("lstm", 2, rng, variant="peephole")
    batch = memory_task.make_memory_batch(rng, 3, T=6)
    _, mgrads = memory_task.memory_model_loss("lstm", memory, batch, variant="peephole")
    assert sorted(mgrads) == sorted(memory)


def test_a_peephole_model_run_without_its_option_is_refused(rng):
    """Forgetting variant="peephole" for a model that has peephole weights is an error, not a silent vanilla run."""
    model = init_regressor("lstm", 2, 3, 1, rng, variant="peephole")
    with pytest.raises(ValueError, match=r"params hold peephole weights \['p_i', 'p_f', 'p_o'\], which only "
                                         r"variant='peephole' uses; got variant='vanilla'"):
        regressor_loss("lstm", model, np.zeros((1, 3, 2)), np.zeros((1, 1)))


def test_train_adding_passes_the_variant_to_init_and_cell():
    """train_adding with cell_options={"variant": "peephole"} makes and trains the peephole weights."""
    model, history = adding_problem.train_adding("lstm", 6, 0, 3, H=3, N=4, cell_options={"variant": "peephole"},
                                                 forget_bias=1.0)
    assert history.steps == 3 and model["p_i"].shape == (3,)
    start = init_regressor("lstm", 2, 3, 1, np.random.default_rng(0).spawn(2)[0], dtype=np.float32,
                           forget_bias=1.0, variant="peephole")
    assert not np.array_equal(model["p_o"], start["p_o"])     # it was trained


# ----------------------------------------------------------------------------- errors

def test_an_unknown_variant_names_the_choices(rng):
    p, x, state0 = case("vanilla", rng)
    message = ("variant must be one of ('vanilla', 'no-forget', 'no-output', 'no-input-activation', 'coupled', "
               "'peephole'), got 'peepholes'")
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sequence_forward("lstm", p, x, state0, variant="peepholes")
    with pytest.raises(ValueError, match="variant must be one of"):
        init_params("lstm", 2, 3, rng, variant="cifg")
    with pytest.raises(TypeError, match="variant must be a string"):
        sequence_forward("lstm", p, x, state0, variant=None)


def test_peephole_weights_are_checked(rng):
    p, x, state0 = case("vanilla", rng)
    with pytest.raises(ValueError, match=r"variant 'peephole' needs the peephole weights \['p_i', 'p_f', 'p_o'\], "
                                         r"each of shape \(H,\), in params; missing \['p_i', 'p_f', 'p_o'\]"):
        sequence_forward("lstm", p, x, state0, variant="peephole")
    bad = p | {k: np.zeros(H) for k in lv.PEEPHOLE_KEYS} | {"p_o": np.zeros(H + 1)}
    with pytest.raises(ValueError, match=r"params\['p_o'\] must have shape \(4,\), got \(5,\)"):
        sequence_forward("lstm", bad, x, state0, variant="peephole")
    with pytest.raises(ValueError, match="which only variant='peephole' uses; got variant='coupled'"):
        sequence_forward("lstm", p | {"p_i": np.zeros(H)}, x, state0, variant="coupled")
    with pytest.raises(ValueError, match="variant applies to an LSTM only, not to 'gru'"):
        init_params("gru", 2, 3, rng, variant="peephole")


# ----------------------------------------------------------------------------- initialisation

def test_peephole_init_shares_the_other_weights():
    """The same seed gives the vanilla and the peephole LSTM the same W_x, W_h, b_x, b_h; p_k is U(-k, k)."""
    a = init_params("lstm", 3, 50, np.random.default_rng(4), forget_bias=1.0)
    b = init_params("lstm", 3, 50, np.random.default_rng(4), forget_bias=1.0, variant="peephole")
    assert sorted(b) == sorted([*a, *lv.PEEPHOLE_KEYS])
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    bound = 1 / np.sqrt(50)
    for k in lv.PEEPHOLE_KEYS:
        assert b[k].shape == (50,) and np.all(np.abs(b[k]) <= bound) and np.std(b[k]) > 0.3 * bound
    xavier = init_params("lstm", 3, 5, np.random.default_rng(4), scheme="xavier", variant="peephole")
    assert all(np.all(xavier[k] == 0) for k in lv.PEEPHOLE_KEYS)


def test_chrono_biases_follow_their_distribution():
    """b_f = log(u), u ~ U(1, T_max - 1) per unit (b_xf + b_hf), b_i = -b_f, and nothing else changes."""
    H, T_max, seeds = 200, 50.0, range(50)     # 10000 draws, from 50 small cells
    u = []
    for seed in seeds:
        plain = init_params("lstm", 2, H, np.random.default_rng(seed))
        p = init_params("lstm", 2, H, np.random.default_rng(seed), chrono=T_max)
        total = p["b_x"] + p["b_h"]
        b_i, b_f = total[:H], total[H:2 * H]
        np.testing.assert_allclose(b_i, -b_f, rtol=0, atol=1e-15)
        for k in ("W_x", "W_h"):
            np.testing.assert_array_equal(p[k], plain[k])
        np.testing.assert_array_equal(p["b_x"][2 * H:], plain["b_x"][2 * H:])   # g and o untouched
        np.testing.assert_array_equal(p["b_h"][2 * H:], plain["b_h"][2 * H:])
        u.append(np.exp(b_f))
    u = np.sort(np.concatenate(u))
    assert u.min() >= 1.0 and u.max() <= T_max - 1
    # Kolmogorov-Smirnov distance to U(1, T_max - 1): below 1.63 / sqrt(n) = 0.016 with probability 0.99 for a
    # right draw; u ~ U(0, T_max) in its place gives 0.02, a log-uniform u 0.4
    ks = np.max(np.abs(np.arange(1, len(u) + 1) / len(u) - (u - 1) / (T_max - 2)))
    assert ks < 1.63 / np.sqrt(len(u)), ks
    assert abs(np.median(np.log(u)) - np.log(T_max / 2)) < 0.05


def test_chrono_forget_bias_by_itself_and_the_memory_it_gives():
    """chrono_forget_bias draws log U(1, T_max - 1); at zero input a unit keeps its cell 1 / (1 - f) = 1 + u steps."""
    b = chrono_forget_bias(1000, 12, np.random.default_rng(0))
    steps = 1 / (1 - sigmoid(b))
    np.testing.assert_allclose(steps, 1 + np.exp(b), rtol=1e-12)
    assert steps.min() >= 2.0 and steps.max() <= 12.0


def test_chrono_option_errors(rng):
    with pytest.raises(ValueError, match="chrono and forget_bias both set the forget bias"):
        init_params("lstm", 2, 3, rng, chrono=10, forget_bias=1.0)
    with pytest.raises(ValueError, match="chrono applies to an LSTM only, not to 'gru'"):
        init_params("gru", 2, 3, rng, chrono=10)
    with pytest.raises(ValueError, match=r"chrono must be a finite number T_max > 2.*got 2"):
        init_params("lstm", 2, 3, rng, chrono=2)
    with pytest.raises(TypeError, match="chrono must be a number T_max > 2"):
        init_params("lstm", 2, 3, rng, chrono="12")


# ----------------------------------------------------------------------------- the study

def test_gate_ablation_row_on_the_memory_task(monkeypatch):
    """One memory-task run (cut to 100 steps): a flat row with validation and test scores."""
    monkeypatch.setitem(gate_ablation.SETTINGS["memory"], "steps", 100)
    row = gate_ablation.run_gate_variant("peephole", "memory", 0.03, 0)
    assert row["variant"] == "peephole" and row["task"] == "memory" and row["steps_run"] == 100
    assert 0.0 <= row["val_nmse"] < 1.5 and 0.0 <= row["test_nmse"] < 1.5
    assert row["val_nmse"] != row["test_nmse"]       # two different held-out batches
    chrono = gate_ablation.run_gate_variant("chrono", "memory", 0.03, 0)
    assert chrono["chrono"] == 12.0 and chrono["forget_bias"] is None
    with pytest.raises(ValueError, match="variant must be one of"):
        gate_ablation.run_gate_variant("lstm", "memory", 0.03, 0)
    with pytest.raises(ValueError, match=r"task must be one of \('memory', 'adding'\), got 'copy'"):
        gate_ablation.run_gate_variant("gru", "copy", 0.03, 0)


def test_the_memory_run_is_chapter_4s_training(monkeypatch):
    """The study's memory run of the vanilla LSTM is chapter 4's train_memory_model run (here 100 steps), exactly."""
    monkeypatch.setitem(gate_ablation.SETTINGS["memory"], "steps", 100)
    model = memory_task.init_memory_model("lstm", 2, np.random.default_rng(0), forget_bias=1.0)
    model, _ = memory_task.train_memory_model("lstm", model, np.random.default_rng(100), 100, lr=0.03)
    test = memory_task.make_memory_batch(np.random.default_rng(999), N=500, T=12)
    expected = memory_task.recall_error("lstm", model, test) / gate_ablation.MEMORY_BASELINE
    assert gate_ablation.run_gate_variant("vanilla", "memory", 0.03, 0)["test_nmse"] == pytest.approx(expected,
                                                                                                     rel=1e-12)
