"""Sync each chapter with its MyST Markdown source, run it top to bottom on a fresh kernel, save its outputs.

Usage (from the repository root):

    python scripts/execute_notebooks.py                          # every chapter
    python scripts/execute_notebooks.py book/myst/01_introduction.md
    python scripts/execute_notebooks.py book/01_introduction.ipynb
    python scripts/execute_notebooks.py --sync-only              # sync the pairs, run nothing

Each chapter is a pair (jupytext, ``md:myst``): ``book/myst/NN_topic.md`` is
the source a person edits and reviews, and ``book/NN_topic.ipynb`` holds
the same cells with their executed outputs, which nbval compares and the
book renders.  Either file of a pair may be named.  The sync goes from the
newer file to the older one (``jupytext --sync``): after editing the
Markdown, its cells replace the notebook's; after editing the notebook in
Jupyter without jupytext, its cells are written back to the Markdown.

Commit both files of every pair you run this way:
``tests/test_pairing.py`` fails when a pair is out of sync, and the test
suite (nbval, strict mode) re-runs each notebook and compares every stored
text output with a fresh run.
"""

from __future__ import annotations

import os

# One BLAS thread for the kernels, as in the test suite (see conftest.py at the repository root).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import jupytext  # noqa: E402
import nbformat  # noqa: E402
from jupytext.cli import jupytext as jupytext_cli  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
MYST = BOOK / "myst"
FORMATS = "ipynb,myst//md:myst"


def pair_of(path: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """(notebook, markdown) of a chapter, from either of its two files."""
    path = path.resolve()
    if path.suffix == ".md":
        return path.parent.parent / f"{path.stem}.ipynb", path
    if path.suffix == ".ipynb":
        return path, path.parent / "myst" / f"{path.stem}.md"
    raise ValueError(f"expected a chapter's .ipynb or .md file, got {path}")


def chapters() -> list[pathlib.Path]:
    """Every chapter notebook of the book (the numbered ones: ``book/NN_topic.ipynb``)."""
    return sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))


def sync(notebook: pathlib.Path, markdown: pathlib.Path) -> None:
    """Bring the older file of the pair up to date with the newer one; pair a notebook that has no Markdown yet."""
    if not notebook.exists() and not markdown.exists():
        raise FileNotFoundError(f"neither {notebook} nor {markdown} exists")
    if not markdown.exists() or not notebook.exists():
        jupytext_cli(["--quiet", "--set-formats", FORMATS, str(notebook if notebook.exists() else markdown)])
    else:
        jupytext_cli(["--quiet", "--sync", str(notebook)])


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive outputs of one stream (the kernel may flush a print in pieces), as Jupyter shows them."""
    merged = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def drop_unused_widget_state(nb) -> None:
    """Remove the saved widget state when no output shows a widget (a progress bar that never displayed).

    The rendered page would load the widget manager for nothing, and the browser
    test waits for a widget that never comes.
    """
    views = any("application/vnd.jupyter.widget-view+json" in out.get("data", {})
                for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", []))
    if not views:
        nb.metadata.pop("widgets", None)


def execute(notebook: pathlib.Path, markdown: pathlib.Path) -> float:
    """Run the notebook on a fresh kernel and save it; return the seconds it took."""
    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    drop_unused_widget_state(nb)
    nbformat.write(nb, notebook)
    # The Markdown holds no outputs, so it did not change; keep it no newer than the notebook,
    # so that the next --sync does not mistake it for an edit.
    now = time.time()
    os.utime(markdown, (now - 1, now - 1))
    return elapsed


def check_inputs_equal(notebook: pathlib.Path, markdown: pathlib.Path) -> None:
    """Fail loudly if the sync left the pair's cells different (it should never)."""
    a, b = nbformat.read(notebook, as_version=4), jupytext.read(markdown)
    if [(c.cell_type, c.source) for c in a.cells] != [(c.cell_type, c.source) for c in b.cells]:
        raise RuntimeError(f"{notebook.name} and {markdown.name} still differ after the sync")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=pathlib.Path, help="chapter files (.ipynb or .md); default: all")
    parser.add_argument("--sync-only", action="store_true", help="sync the pairs and run nothing")
    args = parser.parse_args(argv)
    pairs = [pair_of(p) for p in args.paths] if args.paths else [pair_of(p) for p in chapters()]
    for notebook, markdown in pairs:
        sync(notebook, markdown)
        check_inputs_equal(notebook, markdown)
        if args.sync_only:
            print(f"{notebook.relative_to(ROOT)}: in sync with {markdown.relative_to(ROOT)}", flush=True)
            continue
        print(f"{notebook.relative_to(ROOT)}: {execute(notebook, markdown):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
