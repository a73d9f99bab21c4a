"""Run chapter notebooks top to bottom on a fresh kernel and save them with their outputs.

Usage (from the repository root):

    python scripts/execute_notebooks.py                  # every notebook under book/
    python scripts/execute_notebooks.py book/01_introduction.ipynb

Commit notebooks executed this way: the test suite (nbval, strict mode)
re-runs them and compares every stored text output with a fresh run.
"""

from __future__ import annotations

import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent


def execute(path: pathlib.Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    paths = [pathlib.Path(a) for a in argv] or sorted(
        p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and "_build" not in p.parts
    )
    for path in paths:
        print(f"{path}: {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
