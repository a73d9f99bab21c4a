"""Forward + backward wall time of the RNN, LSTM and GRU cells, three ways.

Run from the repository root (not a test; pytest does not collect it)::

    python benchmarks/cells.py                   # N=32, T=100, D=64, H=128
    python benchmarks/cells.py --quick           # fewer repeats, for a smoke run
    python benchmarks/cells.py --sizes 8 20 16 32

Each implementation computes the same thing: the forward pass over a batch of
sequences and every gradient of the loss

    L = sum(out * w_out) + sum(h_T * w_h)  [+ sum(c_T * w_c) for the LSTM]

a fixed random linear function of everything the forward pass returns, so that
every output and the final state carry gradient (the same loss as
:func:`lessons_lib.check_sequence_gradients`).  The gradients are those of the
inputs ``x``, the initial state and the four parameter arrays.

(a) **fused**: :func:`lessons_lib.sequence_forward` and
    :func:`lessons_lib.sequence_backward` -- all gates in one matrix per side,
    the input projection of all ``T`` steps done as one product before the time
    loop, the weight gradients as one product after it.
(b) **textbook**: the same equations step by step, one weight matrix per gate
    (``W_xi``, ``W_hi``, ``W_xf``, ...), the input product recomputed inside the
    time loop and the weight gradients accumulated step by step, the way
    cs231n's ``rnn_layers.py`` and most derivations write it.  It is written
    out below as a reference, and checked against (a) in float64 at start-up.
(c) **torch**: ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` on the CPU with the same
    weights (via :func:`lessons_lib.to_torch_state_dict`), if PyTorch can be
    imported.  PyTorch is not a dependency of the project.

Each time is the median of ``--repeats`` calls of forward + backward after
``--warmup`` calls; nothing is cached between calls.  Thread counts are left
at their defaults and reported.  Run it on an idle machine: the ``spread``
column flags rows whose timings are noise.

In float64, glibc returns the large temporary arrays to the system after each
call and the next call faults them back in (thousands of page faults per
call).  ``MALLOC_TOP_PAD_=134217728 python benchmarks/cells.py`` keeps that
memory and was measured 10-40 % faster in float64 (no change in float32); the
library itself does not change allocator settings.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time

import numpy as np

import lessons_lib
from lessons_lib import init_params, rel_error, sequence_backward, sequence_forward, to_torch_state_dict
from lessons_lib.cells.activations import sigmoid

KINDS = ("rnn", "lstm", "gru")
DTYPES = (np.float64, np.float32)
# Gate names in the library's (PyTorch's) row order; the RNN has one unnamed block.
GATES = {"rnn": ("",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
TOLERANCE = 1e-10  # float64 agreement required between (a), (b) and (c)


# ---------------------------------------------------------------------------
# Problem set-up
# ---------------------------------------------------------------------------

def make_problem(kind, N, T, D, H, dtype, seed=0):
    """Parameters, inputs, initial state and the loss weights, all drawn in float64 then cast.

    Returns ``params`` (library layout), ``x`` (N, T, D), ``state0`` (a tuple of
    (N, H) arrays: ``(h0,)`` or ``(h0, c0)``), ``w_out`` (N, T, H) and
    ``w_state`` (a tuple like ``state0``).
    """
    rng = np.random.default_rng(seed)
    params = init_params(kind, D, H, rng)
    n_state = 2 if kind == "lstm" else 1
    x = rng.standard_normal((N, T, D))
    state0 = tuple(0.5 * rng.standard_normal((N, H)) for _ in range(n_state))
    w_out = rng.standard_normal((N, T, H))
    w_state = tuple(rng.standard_normal((N, H)) for _ in range(n_state))

    def cast(a):
        return np.ascontiguousarray(a, dtype=dtype)

    return ({k: cast(v) for k, v in params.items()}, cast(x), tuple(map(cast, state0)),
            cast(w_out), tuple(map(cast, w_state)))


def as_library_state(kind, state):
    """A tuple of arrays to the library's form: ``h`` or, for an LSTM, ``(h, c)``."""
    return tuple(state) if kind == "lstm" else state[0]


def as_tuple(kind, state):
    """The library's state form to a tuple of arrays."""
    return tuple(state) if kind == "lstm" else (state,)


# ---------------------------------------------------------------------------
# (a) The library's fused implementation
# ---------------------------------------------------------------------------

def fused(kind, params, x, state0, w_out, w_state):
    """Forward and backward with the library; returns ``out, state_T, dx, dstate0, grads``."""
    out, state_T, cache = sequence_forward(kind, params, x, as_library_state(kind, state0))
    dx, dstate0, grads = sequence_backward(kind, w_out, as_library_state(kind, w_state), cache)
    return out, as_tuple(kind, state_T), dx, as_tuple(kind, dstate0), grads


# ---------------------------------------------------------------------------
# (b) The textbook reference: one weight matrix per gate, everything per step
# ---------------------------------------------------------------------------
#
# Parameters are a flat dict with one entry per gate: W_xi (H, D), W_hi (H, H),
# b_xi (H,), b_hi (H,), and the same for f, g, o (LSTM) or r, z, n (GRU).  The
# RNN's only block keeps the plain names W_x, W_h, b_x, b_h.  A state is a tuple,
# (h,) or (h, c), so that one time loop serves all three cells.  The sigmoid is the
# library's (overflow-free) one, so that (a) and (b) differ in structure only.

def split_gates(kind, params):
    """Library parameters ``(G H, ...)`` to one contiguous ``(H, ...)`` array per gate."""
    per_gate = {}
    for name, value in params.items():
        for gate, block in zip(GATES[kind], np.split(value, len(GATES[kind]))):
            per_gate[name + gate] = np.ascontiguousarray(block)
    return per_gate


def join_gates(kind, per_gate):
    """Per-gate arrays back to the library's stacked layout (to compare gradients)."""
    return {name: np.concatenate([per_gate[name + gate] for gate in GATES[kind]])
            for name in ("W_x", "W_h", "b_x", "b_h")}


def affine_backward(da_x, da_h, x, h_prev, p):
    """Gradients through ``a_k = x W_xk^T + b_xk + h_prev W_hk^T + b_hk`` for each gate ``k``.

    ``da_x[k]`` and ``da_h[k]`` (N, H) are the gradients reaching the input
    and the recurrent half of gate ``k``'s pre-activation (the same array
    except for the GRU's candidate).  Returns ``dx`` (N, D), ``dh_prev`` (N, H)
    and the gradients of this step's parameters.
    """
    grads, dx, dh_prev = {}, 0.0, 0.0
    for k in da_x:
        grads["W_x" + k] = da_x[k].T @ x        # (H, D)
        grads["W_h" + k] = da_h[k].T @ h_prev   # (H, H)
        grads["b_x" + k] = da_x[k].sum(axis=0)
        grads["b_h" + k] = da_h[k].sum(axis=0)
        dx = dx + da_x[k] @ p["W_x" + k]        # (N, D)
        dh_prev = dh_prev + da_h[k] @ p["W_h" + k]  # (N, H)
    return dx, dh_prev, grads


def rnn_step_forward(x, state, p):
    """``h = tanh(W_x x + b_x + W_h h_prev + b_h)``."""
    (h_prev,) = state
    h = np.tanh(x @ p["W_x"].T + p["b_x"] + h_prev @ p["W_h"].T + p["b_h"])
    return (h,), (x, h_prev, h)


def rnn_step_backward(dstate, cache, p):
    """Gradients of one RNN step: ``dx`` (N, D), ``(dh_prev,)`` and the step's parameter gradients."""
    (dh,) = dstate
    x, h_prev, h = cache
    da = {"": dh * (1.0 - h * h)}
    dx, dh_prev, grads = affine_backward(da, da, x, h_prev, p)
    return dx, (dh_prev,), grads


def lstm_step_forward(x, state, p):
    """Equations 4.1-4.4 of the chapter, one gate at a time."""
    h_prev, c_prev = state
    i = sigmoid(x @ p["W_xi"].T + p["b_xi"] + h_prev @ p["W_hi"].T + p["b_hi"])
    f = sigmoid(x @ p["W_xf"].T + p["b_xf"] + h_prev @ p["W_hf"].T + p["b_hf"])
    g = np.tanh(x @ p["W_xg"].T + p["b_xg"] + h_prev @ p["W_hg"].T + p["b_hg"])
    o = sigmoid(x @ p["W_xo"].T + p["b_xo"] + h_prev @ p["W_ho"].T + p["b_ho"])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return (h, c), (x, h_prev, c_prev, i, f, g, o, tanh_c)


def lstm_step_backward(dstate, cache, p):
    """Gradients of one LSTM step: ``dx`` (N, D), ``(dh_prev, dc_prev)`` and the step's parameter gradients."""
    dh, dc = dstate
    x, h_prev, c_prev, i, f, g, o, tanh_c = cache
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)  # c reaches the loss directly and through h
    da = {
        "i": dc * g * i * (1.0 - i),
        "f": dc * c_prev * f * (1.0 - f),
        "g": dc * i * (1.0 - g * g),
        "o": dh * tanh_c * o * (1.0 - o),
    }
    dx, dh_prev, grads = affine_backward(da, da, x, h_prev, p)
    return dx, (dh_prev, dc * f), grads


def gru_step_forward(x, state, p):
    """PyTorch's GRU: the reset gate scales ``W_hn h_prev + b_hn``; ``z`` near 1 keeps the old state."""
    (h_prev,) = state
    r = sigmoid(x @ p["W_xr"].T + p["b_xr"] + h_prev @ p["W_hr"].T + p["b_hr"])
    z = sigmoid(x @ p["W_xz"].T + p["b_xz"] + h_prev @ p["W_hz"].T + p["b_hz"])
    hn = h_prev @ p["W_hn"].T + p["b_hn"]
    n = np.tanh(x @ p["W_xn"].T + p["b_xn"] + r * hn)
    h = (1.0 - z) * n + z * h_prev
    return (h,), (x, h_prev, r, z, n, hn)


def gru_step_backward(dstate, cache, p):
    """Gradients of one GRU step: ``dx`` (N, D), ``(dh_prev,)`` and the step's parameter gradients."""
    (dh,) = dstate
    x, h_prev, r, z, n, hn = cache
    da_n = dh * (1.0 - z) * (1.0 - n * n)
    da_z = dh * (h_prev - n) * z * (1.0 - z)
    da_r = da_n * hn * r * (1.0 - r)
    da_x = {"r": da_r, "z": da_z, "n": da_n}
    da_h = {"r": da_r, "z": da_z, "n": da_n * r}  # the candidate's recurrent half sits behind r
    dx, dh_prev, grads = affine_backward(da_x, da_h, x, h_prev, p)
    return dx, (dh_prev + dh * z,), grads


STEPS = {
    "rnn": (rnn_step_forward, rnn_step_backward),
    "lstm": (lstm_step_forward, lstm_step_backward),
    "gru": (gru_step_forward, gru_step_backward),
}


def textbook(kind, p, x, state0, w_out, w_state):
    """Forward over time, then backpropagation through time, one step at a time.

    ``p`` holds per-gate parameters (:func:`split_gates`).  Returns
    ``out, state_T, dx, dstate0, grads`` with ``grads`` per gate.
    """
    step_forward, step_backward = STEPS[kind]
    T = x.shape[1]
    state, outs, caches = state0, [], []
    for t in range(T):
        state, cache = step_forward(x[:, t], state, p)  # x[:, t] is (N, D)
        outs.append(state[0])
        caches.append(cache)
    out = np.stack(outs, axis=1)  # (N, T, H)

    grads = {k: np.zeros_like(v) for k, v in p.items()}
    dx = np.empty_like(x)  # (N, T, D)
    dstate = w_state
    for t in reversed(range(T)):
        dstate = (dstate[0] + w_out[:, t],) + dstate[1:]  # h_t reaches the loss directly too
        dx[:, t], dstate, step_grads = step_backward(dstate, caches[t], p)
        for k, g in step_grads.items():
            grads[k] += g
    return out, state, dx, dstate, grads


# ---------------------------------------------------------------------------
# (c) PyTorch
# ---------------------------------------------------------------------------

def import_torch():
    """PyTorch if it can be imported, else None (it is not a project dependency)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def torch_runner(torch, kind, params, x, state0, w_out, w_state):
    """A closure running ``torch.nn.{RNN,LSTM,GRU}`` forward + backward on the same problem.

    The closure returns ``out, state_T, dx, dstate0, grads`` as numpy arrays
    (grads in the library's layout), so that it can be checked like (a) and (b).
    """
    D, H = x.shape[2], state0[0].shape[1]
    dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[x.dtype]
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        D, H, batch_first=True, dtype=dtype)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state_dict(kind, params).items()})
    x_t = torch.from_numpy(x).requires_grad_()
    s0 = tuple(torch.from_numpy(s[None].copy()).requires_grad_() for s in state0)  # (1, N, H) each
    w_out_t = torch.from_numpy(w_out)
    w_state_t = tuple(torch.from_numpy(w) for w in w_state)
    leaves = (x_t, *s0, *module.parameters())

    def run():
        for leaf in leaves:
            leaf.grad = None
        out, s_T = module(x_t, s0 if kind == "lstm" else s0[0])
        s_T = tuple(s_T) if kind == "lstm" else (s_T,)
        loss = (out * w_out_t).sum()
        for s, w in zip(s_T, w_state_t):
            loss = loss + (s[0] * w).sum()
        loss.backward()
        return out, s_T, x_t.grad, tuple(s.grad for s in s0), dict(module.named_parameters())

    def run_as_numpy():
        out, s_T, dx, ds0, named = run()
        grads = lessons_lib.from_torch_state_dict(kind, {k: v.grad for k, v in named.items()})
        return (out.detach().numpy(), tuple(s[0].detach().numpy() for s in s_T), dx.numpy(),
                tuple(d[0].numpy() for d in ds0), grads)

    return run, run_as_numpy


# ---------------------------------------------------------------------------
# Checking and timing
# ---------------------------------------------------------------------------

def max_rel_error(result_a, result_b):
    """Largest :func:`lessons_lib.rel_error` over outputs, final state and every gradient."""
    out_a, s_a, dx_a, ds_a, g_a = result_a
    out_b, s_b, dx_b, ds_b, g_b = result_b
    pairs = [(out_a, out_b), (dx_a, dx_b), *zip(s_a, s_b), *zip(ds_a, ds_b),
             *((g_a[k], g_b[k]) for k in ("W_x", "W_h", "b_x", "b_h"))]
    return max(rel_error(a, b) for a, b in pairs)


def median_time(fn, repeats, warmup):
    """Median wall time of ``fn()`` in seconds, after ``warmup`` untimed calls (garbage collector off).

    Also returns the spread, the interquartile range over the median (None for fewer than 4 repeats).
    """
    for _ in range(warmup):
        fn()
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    finally:
        if enabled:
            gc.enable()
    median = statistics.median(times)
    if len(times) < 4:
        return median, None
    q1, _, q3 = statistics.quantiles(times, n=4)
    return median, (q3 - q1) / median


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

def cpu_model():
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_lines():
    """numpy's BLAS: live thread pools from threadpoolctl if installed, else numpy's build config."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return [f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}), "
                    f"{p.get('num_threads')} threads  [threadpoolctl]" for p in pools]
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # noqa: BLE001 - older numpy or an unusual build: say so, don't fail
        return ["unknown (numpy.show_config gave no BLAS entry)"]
    config = " ".join(str(blas.get("openblas configuration", "")).split())
    line = f"{blas.get('name')} {blas.get('version')}" + (f" ({config})" if config else "")
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
           if k in os.environ}
    threads = ", ".join(f"{k}={v}" for k, v in env.items()) or "thread count: library default (no *_NUM_THREADS set)"
    return [line + "  [numpy.show_config]", threads]


def print_machine(torch):
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    print("Machine")
    print(f"  python       {platform.python_version()} ({sys.executable})")
    print(f"  platform     {platform.platform()}")
    print(f"  cpu          {cpu_model()}; {os.cpu_count()} logical cores, {usable} usable by this process")
    try:
        load = os.getloadavg()
    except (AttributeError, OSError):  # not available on this platform
        print("  load         unknown")
    else:
        busy = "  (busy: other processes share these cores, expect noisy timings)" if load[0] > 0.5 * usable else ""
        print("  load         {:.2f} {:.2f} {:.2f} (1, 5, 15 min averages){}".format(*load, busy))
    malloc = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}
    print(f"  malloc env   {', '.join(f'{k}={v}' for k, v in malloc.items()) or 'none set (C library defaults)'}")
    print(f"  numpy        {np.__version__}")
    for i, line in enumerate(blas_lines()):
        print(f"  {'numpy BLAS' if i == 0 else '':12} {line}")
    print(f"  lessons_lib  {lessons_lib.__version__} ({os.path.dirname(lessons_lib.__file__)})")
    if torch is None:
        print("  torch        PyTorch not installed: skipped")
    else:
        print(f"  torch        {torch.__version__}, torch.get_num_threads() = {torch.get_num_threads()} (default), "
              f"interop threads = {torch.get_num_interop_threads()}, "
              f"mkldnn = {torch.backends.mkldnn.is_available()}, mkl = {torch.backends.mkl.is_available()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs=4, type=int, metavar=("N", "T", "D", "H"), default=(32, 100, 64, 128),
                        help="batch, time, input and hidden sizes (default: 32 100 64 128)")
    parser.add_argument("--quick", action="store_true", help="3 timed repeats instead of 15")
    parser.add_argument("--repeats", type=int, help="timed calls per measurement (overrides --quick)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed calls before timing, which let the allocator settle (default: 3)")
    args = parser.parse_args(argv)
    N, T, D, H = args.sizes
    if min(args.sizes) < 1:
        parser.error(f"--sizes must be positive, got {args.sizes}")
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 15)
    warmup = args.warmup
    if repeats < 1 or warmup < 0:
        parser.error("--repeats must be at least 1 and --warmup at least 0")

    started = time.perf_counter()
    torch = import_torch()
    print_machine(torch)
    print(f"Sizes          N={N} (batch), T={T} (time), D={D} (input), H={H} (hidden)")
    print(f"Timing         forward + backward, median of {repeats} repeats after {warmup} warm-up call(s)")
    print()

    # Honesty check: (b) and, if present, (c) compute what (a) computes, in float64.
    print("Check in float64 (max rel_error over outputs, final state and all gradients):")
    failed = False
    for kind in KINDS:
        problem = make_problem(kind, N, T, D, H, np.float64)
        params, *rest = problem
        ref = fused(kind, *problem)
        out, s_T, dx, ds0, g = textbook(kind, split_gates(kind, params), *rest)
        errors = {"textbook": max_rel_error(ref, (out, s_T, dx, ds0, join_gates(kind, g)))}
        if torch is not None:
            errors["torch"] = max_rel_error(ref, torch_runner(torch, kind, *problem)[1]())
        failed |= any(e > TOLERANCE for e in errors.values())
        print(f"  {kind:5}" + "".join(f"  fused vs {name}: {e:.1e}" for name, e in errors.items()))
    if failed:
        sys.exit(f"FAILED: an implementation disagrees with the library by more than {TOLERANCE:g}; "
                 "its timings would not be comparable")
    print()

    # Time numpy first and PyTorch last: PyTorch's OpenMP threads keep spinning for a
    # while after each call and would steal the cores from OpenBLAS if interleaved.
    times = {}
    for kind in KINDS:
        for dtype in DTYPES:
            problem = make_problem(kind, N, T, D, H, dtype)
            params, *rest = problem
            per_gate = split_gates(kind, params)
            times[kind, dtype, "fused"] = median_time(lambda: fused(kind, *problem), repeats, warmup)
            times[kind, dtype, "textbook"] = median_time(lambda: textbook(kind, per_gate, *rest), repeats, warmup)
    if torch is not None:
        for kind in KINDS:
            for dtype in DTYPES:
                run = torch_runner(torch, kind, *make_problem(kind, N, T, D, H, dtype))[0]
                times[kind, dtype, "torch"] = median_time(run, repeats, warmup)

    head = (f"{'cell':5} {'dtype':8} {'fused ms':>9} {'textbook ms':>12} {'torch ms':>9} "
            f"{'fused/textbook':>15} {'fused/torch':>12} {'spread':>7}")
    print(head)
    print("-" * len(head))
    for kind in KINDS:
        for dtype in DTYPES:
            (a, sa), (b, sb) = times[kind, dtype, "fused"], times[kind, dtype, "textbook"]
            c, sc = times.get((kind, dtype, "torch"), (None, None))
            spreads = [s for s in (sa, sb, sc) if s is not None]
            print(f"{kind:5} {np.dtype(dtype).name:8} {1e3 * a:9.2f} {1e3 * b:12.2f} "
                  f"{'-' if c is None else f'{1e3 * c:.2f}':>9} {a / b:15.2f} "
                  f"{'-' if c is None else f'{a / c:.2f}':>12} {f'{max(spreads):.0%}' if spreads else '-':>7}")
    print()
    print("Ratios are time(fused) / time(other): below 1 the library is faster.")
    print("spread: the largest interquartile range / median of the row's timings; "
          "ratios closer to 1 than that are noise.")
    if torch is None:
        print("PyTorch not installed: skipped")
    print(f"Total run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
