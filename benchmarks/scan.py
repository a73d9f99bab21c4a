"""Wall time of the gated linear recurrence three ways, and of the GRU against the minGRU, as T grows.

Run from the repository root (not a test; pytest does not collect it)::

    python benchmarks/scan.py             # writes results/scan_benchmark.json and prints the table
    python benchmarks/scan.py --quick     # T up to 10^3 only, nothing written: a smoke run

What is timed, at two sizes, a small one (N = 1 sequence, H = 16 units) for T = 10^2, 10^3, 10^4 and 10^5,
and a larger one (N = 32, H = 64) for T = 10^2, 10^3 and 10^4 (see ``MAX_T``), all in float32:

``recurrence``
    :func:`lessons_lib.linear_recurrence` on random ``a`` (N, T, H) in (0, 1), ``b`` and ``h0``, with
    ``method`` = ``"loop"`` (T sequential steps, each one array operation over the N H units),
    ``"scan"`` (Blelloch: about 2 log2 T levels, O(T) work) and ``"doubling"`` (Hillis-Steele:
    log2 T levels, O(T log T) work).
``cell``
    the forward pass over a batch of sequences, with D = H inputs: the GRU
    (``sequence_forward("gru", ...)``, T steps each with a recurrent matrix product) and the minGRU
    with ``method="loop"`` and ``method="scan"`` (the gates from one matrix product over all steps,
    then the recurrence).

Each time is the median of a few calls (``repeats`` in each row; fewer for the longest runs) after one
warm-up call where a call is short; ``spread`` is (max - min) / median.  BLAS runs on one thread (set
below, before NumPy is imported).  NumPy executes each array operation on one core, so the scan's short
depth is not turned into parallel speed here: what it saves is the Python-level loop over time, one
interpreted step per time step, which dominates when each step has little work (few units).  See the
row's ``load_average``: timings taken while other processes share the cores are slower and noisier.

Writes ``results/scan_benchmark.json`` (rows plus provenance, as ``scripts/reproduce.py`` does).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import pathlib  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from lessons_lib import init_params, linear_recurrence, sequence_forward  # noqa: E402
from lessons_lib.analysis.results import (  # noqa: E402
    command_line,
    format_scan_benchmark,
    provenance,
    save_results,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "scan_benchmark.json"
SIZES = ((1, 16), (32, 64))                 # (N, H)
LENGTHS = (100, 1_000, 10_000, 100_000)
#: The longest T run at each size.  At (32, 64) and T = 10^5 every array holds 2 10^8 numbers (0.8 GB in float32)
#: and one call takes 10 s (the loop) to 90 s (the minGRU's scan) on the 2-core machine of the stored file, which
#: would take the run far past five minutes; 10^4 shows the same ordering.
MAX_T = {(1, 16): 100_000, (32, 64): 10_000}
METHODS = ("loop", "scan", "doubling")
#: The cells timed (label, kind, options).
CELLS = (("gru", "gru", {}), ("mingru loop", "mingru", {"method": "loop"}),
         ("mingru scan", "mingru", {"method": "scan"}))
#: The GRU's time loop is the slowest thing here; it runs to this length (None: every length of its size).
GRU_MAX_T = None
DTYPE = np.float32


def _git_commit() -> str:
    """The commit, as scripts/reproduce.py records it."""
    spec = importlib.util.spec_from_file_location("reproduce", ROOT / "scripts" / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("reproduce", module)
    spec.loader.exec_module(module)
    return module.git_commit()


def _time(call, seconds_guess: float) -> tuple[float, float, int]:
    """Median wall time of ``call()``, its spread and the number of calls; fewer calls when one is slow."""
    repeats = 7 if seconds_guess < 0.05 else 5 if seconds_guess < 1.0 else 3
    if seconds_guess < 1.0:
        call()                              # warm-up: first-touch page faults, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return median, (max(times) - min(times)) / median, repeats


def _guess(row_before) -> float:
    """A first guess of a call's time: ten times the same item at the previous length, or nothing known."""
    return 10 * row_before["seconds"] if row_before else 0.0


def run(lengths) -> list:
    rows, last = [], {}
    for N, H in SIZES:
        for T in [T for T in lengths if T <= MAX_T[(N, H)]]:
            rng = np.random.default_rng([N, H, T])
            a = rng.uniform(0.0, 1.0, (N, T, H)).astype(DTYPE)
            b = rng.standard_normal((N, T, H)).astype(DTYPE)
            h0 = rng.standard_normal((N, H)).astype(DTYPE)
            for method in METHODS:
                key = ("recurrence", method, N, H)
                seconds, spread, repeats = _time(lambda: linear_recurrence(a, b, h0, method), _guess(last.get(key)))
                last[key] = row = {"what": "recurrence", "model": "linear recurrence", "method": method, "N": N,
                                   "H": H, "D": None, "T": T, "seconds": seconds, "spread": round(spread, 3),
                                   "repeats": repeats, "load_average": round(os.getloadavg()[0], 2)}
                rows.append(row)
                print(_line(row), flush=True)
            a = b = None                        # free them before the cells run
            x = rng.standard_normal((N, T, H)).astype(DTYPE)
            for label, kind, options in CELLS:
                if kind == "gru" and GRU_MAX_T is not None and T > GRU_MAX_T:
                    continue
                params = init_params(kind, H, H, np.random.default_rng(0), dtype=DTYPE)
                key = ("cell", label, N, H)
                seconds, spread, repeats = _time(lambda: sequence_forward(kind, params, x, h0, **options),
                                                 _guess(last.get(key)))
                last[key] = row = {"what": "cell", "model": kind, "method": options.get("method"), "N": N, "H": H,
                                   "D": H, "T": T, "seconds": seconds, "spread": round(spread, 3),
                                   "repeats": repeats, "load_average": round(os.getloadavg()[0], 2)}
                rows.append(row)
                print(_line(row), flush=True)
            x = None
    return rows


def _line(row) -> str:
    name = row["model"] + ("" if row["method"] is None else f" {row['method']}")
    return (f"{row['what']:<11} {name:<25} N={row['N']:<3} H={row['H']:<3} T={row['T']:<7} "
            f"{row['seconds'] * 1e3:12.2f} ms  spread {row['spread']:.2f}  x{row['repeats']}  "
            f"load {row['load_average']:.1f}")


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T up to 10^3, nothing written")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    load_before = os.getloadavg()[0]
    rows = run(LENGTHS[:2] if args.quick else LENGTHS)
    print("\n" + format_scan_benchmark(rows))
    if args.quick:
        return 0
    prov = provenance(command_line(), _git_commit(), time.perf_counter() - start,
                      blas_threads=os.environ["OPENBLAS_NUM_THREADS"], dtype=np.dtype(DTYPE).name,
                      gru_max_T=GRU_MAX_T, max_T={f"N={N}, H={H}": T for (N, H), T in MAX_T.items()},
                      load_average_before=round(load_before, 2),
                      load_average_after=round(os.getloadavg()[0], 2),
                      note="seconds per call: the median of 'repeats' calls; the recurrence on random a in (0, 1); "
                           "the cells' forward pass only, D = H, on standard normal inputs; the GRU ran to "
                           + ("every length of its size" if GRU_MAX_T is None else f"T = {GRU_MAX_T} only")
                           + "; the larger size to T = 10^4 only (max_T), to keep the run within minutes")
    save_results(OUT, "scan_benchmark", rows, prov)
    print(f"\n{len(rows)} rows in {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
