"""Time every chapter notebook top to bottom on a fresh kernel, without saving anything.

Run from the repository root (not a test; pytest does not collect it)::

    python benchmarks/chapters.py                     # every chapter, one BLAS thread
    python benchmarks/chapters.py --threads 2         # the kernels' BLAS may use two threads
    python benchmarks/chapters.py book/05_adding_problem.ipynb --repeats 3

Each notebook is read, run in memory with ``nbclient`` (kernel working
folder ``book/``, as in the test suite) and thrown away, so the book is
never changed.  The table gives the median of ``--repeats`` runs per
chapter, and the load average of the machine before the first run:
wall times on a busy machine are not worth comparing, so the kernel's CPU
time is shown too.  The book's target is at
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


def run_once(notebook: pathlib.Path) -> tuple[float, float]:
    """Wall and kernel CPU seconds to run ``notebook`` on a fresh kernel (nothing is written).

    The CPU time is that of the kernel process (all its threads), read in the
    kernel after the last cell: on a busy machine the wall time grows, and
    with one BLAS thread the CPU time stays close to the wall time of an idle
    machine.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(notebook.parent)}})
    probe = nbformat.v4.new_code_cell("import time as _t; print(_t.process_time())")
    nb.cells.append(probe)
    with client.setup_kernel():
        start = time.perf_counter()
        for index, cell in enumerate(nb.cells[:-1]):
            client.execute_cell(cell, index)
        wall = time.perf_counter() - start
        client.execute_cell(probe, len(nb.cells) - 1)
    cpu = float(probe.outputs[0]["text"])
    return wall, cpu


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
    print("| notebook | wall seconds | kernel CPU seconds | within 20 s |\n| --- | --- | --- | --- |")
    total = total_cpu = 0.0
    for notebook in notebooks:
        runs = [run_once(notebook.resolve()) for _ in range(args.repeats)]
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        total, total_cpu = total + wall, total_cpu + cpu
        print(f"| `{notebook.name}` | {wall:.1f} | {cpu:.1f} | {'yes' if wall <= TARGET_SECONDS else 'NO'} |",
              flush=True)
    print(f"\nall {len(notebooks)} notebooks: {total:.0f} s of wall time, {total_cpu:.0f} s of kernel CPU time")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
