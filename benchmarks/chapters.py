"""Time every chapter notebook top to bottom on a fresh kernel, without saving anything.

Run from the repository root (not a test; pytest does not collect it)::

    python benchmarks/chapters.py                     # every chapter, one BLAS thread
    python benchmarks/chapters.py --threads 2         # the kernels' BLAS may use two threads
    python benchmarks/chapters.py book/05_adding_problem.ipynb --repeats 3

Each notebook is read, run in memory with ``nbclient`` (kernel working
folder ``book/``, as in the test suite) and thrown away, so the book is
never changed.  The table gives the median of ``--repeats`` runs per
chapter, and the load average of the machine before the first run:
timings on a busy machine are not worth comparing.  The book's target is at
most 20 s per chapter on two cores (the teacher's guide has the table).

``--threads`` sets ``OPENBLAS_NUM_THREADS`` (and its OpenMP and MKL twins)
for the kernels.  The test suite runs them with one thread
(``conftest.py``); a reader's Jupyter uses the machine's default unless told
otherwise.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET_SECONDS = 20.0


def run_once(notebook: pathlib.Path) -> float:
    """Seconds to run ``notebook`` on a fresh kernel (nothing is written)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path, help="default: every book/NN_*.ipynb")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for the kernels (default 1)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per chapter; the median is shown")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeats < 1:
        parser.error("--threads and --repeats must be at least 1")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    notebooks = args.notebooks or sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load:.2f} before the first run; {args.threads} BLAS thread(s), "
          f"median of {args.repeats} run(s)\n")
    print("| notebook | seconds | within 20 s |\n| --- | --- | --- |")
    total = 0.0
    for notebook in notebooks:
        seconds = statistics.median(run_once(notebook.resolve()) for _ in range(args.repeats))
        total += seconds
        print(f"| `{notebook.name}` | {seconds:.1f} | {'yes' if seconds <= TARGET_SECONDS else 'NO'} |",
              flush=True)
    print(f"\nall {len(notebooks)} notebooks: {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
