"""Forward + backward wall time of stacked and bidirectional RNN, LSTM and GRU networks.

Run from the repository root (not a test; pytest does not collect it)::

    python benchmarks/stacked.py                  # N=32, T=50, D=64, H=64, L = 1, 2, 3, uni- and bidirectional
    python benchmarks/stacked.py --quick          # fewer repeats, for a smoke run
    python benchmarks/stacked.py --sizes 8 20 16 32 --kinds lstm

Each row times :func:`lessons_lib.stacked_forward` followed by
:func:`lessons_lib.stacked_backward` on the loss
``L = sum(out * w_out) + sum(state_T * w_state)`` (as in ``benchmarks/cells.py``):

- **full**: every sequence of length T;
- **lengths**: the same batch with random lengths between T/2 and T (the
  library still runs all T steps, masking the finished sequences);
- **torch**: ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` with ``num_layers`` and
  ``bidirectional``, the same weights, full sequences, on the CPU, if PyTorch
  can be imported (it is not a project dependency).

``per cell`` is the full time divided by the number of cells in the network,
``num_layers * num_directions``: if stacking added no overhead of its own it
would stay at the one-layer unidirectional figure (layers above the first read
``num_directions * H`` inputs instead of ``D``, so it moves a little with the
sizes).  Before timing, the library's outputs and gradients are checked
against PyTorch's in float64.  The machine report and the timing method are
those of ``benchmarks/cells.py``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from cells import TOLERANCE, import_torch, median_time, print_machine

from lessons_lib import (
    from_torch_state_dict,
    init_stacked,
    rel_error,
    stacked_backward,
    stacked_forward,
    to_torch_state_dict,
)

KINDS = ("rnn", "lstm", "gru")
CONFIGS = tuple((L, bidirectional) for L in (1, 2, 3) for bidirectional in (False, True))


def make_problem(kind, N, T, D, H, L, bidirectional, dtype=np.float64, seed=0):
    """A network, input, initial state, loss weights and random lengths, drawn in float64 then cast."""
    rng = np.random.default_rng(seed)
    nd = 2 if bidirectional else 1
    net = init_stacked(kind, D, H, L, bidirectional, rng)
    n_state = 2 if kind == "lstm" else 1
    x = rng.standard_normal((N, T, D))
    state0 = tuple(0.5 * rng.standard_normal((L * nd, N, H)) for _ in range(n_state))
    w_out = rng.standard_normal((N, T, nd * H))
    w_state = tuple(rng.standard_normal((L * nd, N, H)) for _ in range(n_state))
    lengths = rng.integers((T + 1) // 2, T + 1, size=N)

    def cast(a):
        return np.ascontiguousarray(a, dtype=dtype)

    net = [tuple({k: cast(v) for k, v in p.items()} for p in layer) for layer in net]
    return net, cast(x), tuple(map(cast, state0)), cast(w_out), tuple(map(cast, w_state)), lengths


def library(kind, net, x, state0, w_out, w_state, lengths=None):
    """Forward and backward; returns ``out, state_T, dx, dstate0, grads`` (states as tuples)."""
    pack = tuple if kind == "lstm" else (lambda s: s[0])
    out, state, cache = stacked_forward(kind, net, x, pack(state0), lengths)
    dx, dstate0, grads = stacked_backward(kind, w_out, pack(w_state), cache)
    as_tuple = tuple if kind == "lstm" else (lambda s: (s,))
    return out, as_tuple(state), dx, as_tuple(dstate0), grads


def torch_runner(torch, kind, net, x, state0, w_out, w_state, L, bidirectional):
    """A closure running the torch module forward + backward, and one returning its results as numpy."""
    D, H = x.shape[2], state0[0].shape[2]
    dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[x.dtype]
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        D, H, num_layers=L, bidirectional=bidirectional, batch_first=True, dtype=dtype)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in
                            to_torch_state_dict(kind, net, num_layers=L, bidirectional=bidirectional).items()})
    x_t = torch.from_numpy(x).requires_grad_()
    s0 = tuple(torch.from_numpy(s.copy()).requires_grad_() for s in state0)
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
            loss = loss + (s * w).sum()
        loss.backward()
        return out, s_T

    def run_as_numpy():
        out, s_T = run()
        grads = from_torch_state_dict(kind, {k: v.grad for k, v in module.named_parameters()},
                                      num_layers=L, bidirectional=bidirectional)
        return (out.detach().numpy(), tuple(s.detach().numpy() for s in s_T), x_t.grad.numpy(),
                tuple(s.grad.numpy() for s in s0), grads)

    return run, run_as_numpy


def max_rel_error(a, b):
    """Largest ``rel_error`` over outputs, final states, dx, dstate0 and every parameter gradient."""
    pairs = [(a[0], b[0]), (a[2], b[2]), *zip(a[1], b[1]), *zip(a[3], b[3])]
    pairs += [(ga[k], gb[k]) for la, lb in zip(a[4], b[4]) for ga, gb in zip(la, lb) for k in ga]
    return max(rel_error(u, v) for u, v in pairs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs=4, type=int, metavar=("N", "T", "D", "H"), default=(32, 50, 64, 64),
                        help="batch, time, input and hidden sizes (default: 32 50 64 64)")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--quick", action="store_true", help="3 timed repeats instead of 11")
    parser.add_argument("--repeats", type=int, help="timed calls per measurement (overrides --quick)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls before timing (default: 2)")
    args = parser.parse_args(argv)
    N, T, D, H = args.sizes
    if min(args.sizes) < 1:
        parser.error(f"--sizes must be positive, got {args.sizes}")
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 11)
    if repeats < 1 or args.warmup < 0:
        parser.error("--repeats must be at least 1 and --warmup at least 0")

    started = time.perf_counter()
    torch = import_torch()
    print_machine(torch)
    print(f"Sizes          N={N} (batch), T={T} (time), D={D} (input), H={H} (hidden), float64")
    print(f"Timing         forward + backward, median of {repeats} repeats after {args.warmup} warm-up call(s)")
    print()

    if torch is not None:
        print("Check against PyTorch in float64 (max rel_error over outputs, states and all gradients):")
        worst = 0.0
        for kind in args.kinds:
            errors = []
            for L, bidirectional in CONFIGS:
                net, x, state0, w_out, w_state, _ = make_problem(kind, N, T, D, H, L, bidirectional)
                ref = library(kind, net, x, state0, w_out, w_state)
                errors.append(max_rel_error(ref, torch_runner(torch, kind, net, x, state0, w_out, w_state,
                                                              L, bidirectional)[1]()))
            worst = max(worst, *errors)
            print(f"  {kind:5} largest over the {len(CONFIGS)} networks: {max(errors):.1e}")
        if worst > TOLERANCE:
            sys.exit(f"FAILED: the library disagrees with PyTorch by more than {TOLERANCE:g}")
        print()

    # numpy first, PyTorch last: its OpenMP threads keep spinning after each call (see cells.py).
    times = {}
    for kind in args.kinds:
        for L, bidirectional in CONFIGS:
            net, x, state0, w_out, w_state, lengths = make_problem(kind, N, T, D, H, L, bidirectional)
            times[kind, L, bidirectional, "full"] = median_time(
                lambda: library(kind, net, x, state0, w_out, w_state), repeats, args.warmup)
            times[kind, L, bidirectional, "lengths"] = median_time(
                lambda: library(kind, net, x, state0, w_out, w_state, lengths), repeats, args.warmup)
    if torch is not None:
        for kind in args.kinds:
            for L, bidirectional in CONFIGS:
                net, x, state0, w_out, w_state, _ = make_problem(kind, N, T, D, H, L, bidirectional)
                run = torch_runner(torch, kind, net, x, state0, w_out, w_state, L, bidirectional)[0]
                times[kind, L, bidirectional, "torch"] = median_time(run, repeats, args.warmup)

    head = (f"{'cell':5} {'L':>2} {'directions':>10} {'full ms':>9} {'per cell ms':>12} {'lengths ms':>11} "
            f"{'torch ms':>9} {'full/torch':>11} {'spread':>7}")
    print(head)
    print("-" * len(head))
    for kind in args.kinds:
        for L, bidirectional in CONFIGS:
            nd = 2 if bidirectional else 1
            (a, sa), (b, sb) = times[kind, L, bidirectional, "full"], times[kind, L, bidirectional, "lengths"]
            c, sc = times.get((kind, L, bidirectional, "torch"), (None, None))
            spreads = [s for s in (sa, sb, sc) if s is not None]
            print(f"{kind:5} {L:2d} {nd:10d} {1e3 * a:9.2f} {1e3 * a / (L * nd):12.2f} {1e3 * b:11.2f} "
                  f"{'-' if c is None else f'{1e3 * c:.2f}':>9} {'-' if c is None else f'{a / c:.2f}':>11} "
                  f"{f'{max(spreads):.0%}' if spreads else '-':>7}")
    print()
    print("full/torch: time(library) / time(PyTorch), below 1 the library is faster.")
    print("spread: the largest interquartile range / median of the row's timings; differences smaller than "
          "that are noise.")
    if torch is None:
        print("PyTorch not installed: skipped")
    print(f"Total run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
