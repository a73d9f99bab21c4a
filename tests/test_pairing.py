"""Every chapter is a pair: MyST Markdown in book/myst/ (the source a person edits), the executed notebook in book/.

A pair is in sync when both hold the same cells: the same types, the same
sources, the same tags and MyST-NB options (captions, alt text).  The test
fails on any difference, and on a chapter with one file of the pair missing.
``python scripts/execute_notebooks.py book/myst/NN_topic.md`` syncs a pair
and re-executes its notebook.
"""

from __future__ import annotations

import pathlib

import jupytext
import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
MYST = BOOK / "myst"
FIX = "run python scripts/execute_notebooks.py {path} (it syncs the pair, then re-executes the notebook)"
# Cell metadata that jupytext leaves out of the text file on purpose: run times and interface state.
NOT_IN_TEXT = {"execution", "ExecuteTime", "collapsed", "scrolled", "trusted", "autoscroll"}


def pair_differences(notebook: nbformat.NotebookNode, text: nbformat.NotebookNode) -> list[str]:
    """Human-readable differences between the cells of a notebook and of its text twin."""
    problems = []
    if len(notebook.cells) != len(text.cells):
        problems.append(f"{len(notebook.cells)} cells in the notebook, {len(text.cells)} in the Markdown")
    for k, (a, b) in enumerate(zip(notebook.cells, text.cells)):
        if a.cell_type != b.cell_type:
            problems.append(f"cell {k} is {a.cell_type} in the notebook, {b.cell_type} in the Markdown")
        elif a.source != b.source:
            first = next((n for n, (x, y) in enumerate(zip(a.source.splitlines(), b.source.splitlines()))
                          if x != y), min(len(a.source.splitlines()), len(b.source.splitlines())))
            problems.append(f"cell {k} ({a.cell_type}) differs from line {first + 1}")
        else:
            meta_a = {key: v for key, v in a.metadata.items() if key not in NOT_IN_TEXT}
            meta_b = {key: v for key, v in b.metadata.items() if key not in NOT_IN_TEXT}
            if meta_a != meta_b:
                keys = sorted(key for key in set(meta_a) | set(meta_b) if meta_a.get(key) != meta_b.get(key))
                problems.append(f"cell {k} has different metadata {keys}")
    return problems


def _chapters() -> list[pathlib.Path]:
    return sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))


def test_every_chapter_and_every_markdown_source_has_its_twin():
    notebooks = {p.stem for p in _chapters()}
    sources = {p.stem for p in MYST.glob("*.md")}
    assert notebooks, "no chapter notebooks found"
    assert notebooks == sources, (f"notebooks without Markdown: {sorted(notebooks - sources)}; "
                                  f"Markdown without a notebook: {sorted(sources - notebooks)}")


@pytest.mark.parametrize("notebook", _chapters(), ids=lambda p: p.name)
def test_each_pair_holds_the_same_cells(notebook):
    markdown = MYST / f"{notebook.stem}.md"
    problems = pair_differences(nbformat.read(notebook, as_version=4), jupytext.read(markdown))
    assert not problems, (f"{notebook.name} and myst/{markdown.name} are out of sync: " + "; ".join(problems)
                          + "; " + FIX.format(path=markdown.relative_to(ROOT)))


@pytest.mark.parametrize("notebook", _chapters(), ids=lambda p: p.name)
def test_each_pair_names_its_twin(notebook):
    """Jupyter with jupytext keeps both files up to date on every save, because of this metadata."""
    assert nbformat.read(notebook, as_version=4).metadata.get("jupytext", {}).get("formats") == "ipynb,myst//md:myst"


# The check must be able to fail: each kind of drift, made on purpose.
def _drifted(change: str) -> list[str]:
    notebook = nbformat.read(_chapters()[0], as_version=4)
    text = jupytext.read(MYST / f"{_chapters()[0].stem}.md")
    code = next(k for k, c in enumerate(text.cells) if c.cell_type == "code")
    if change == "source":
        text.cells[code].source += "\nprint('an edit in the Markdown only')"
    elif change == "type":
        text.cells[code] = nbformat.v4.new_markdown_cell(text.cells[code].source)
    elif change == "cell":
        text.cells.append(nbformat.v4.new_markdown_cell("A paragraph added to the Markdown only."))
    elif change == "metadata":
        text.cells[code].metadata["tags"] = ["a-tag-only-in-the-markdown"]
    return pair_differences(notebook, text)


@pytest.mark.parametrize(("change", "expected"), [
    ("source", "differs from line"), ("type", "is code in the notebook, markdown in the Markdown"),
    ("cell", "cells in the notebook"), ("metadata", "different metadata ['tags']"),
])
def test_a_drifted_pair_is_reported(change, expected):
    problems = _drifted(change)
    assert any(expected in p for p in problems), problems


def test_an_untouched_pair_reports_nothing():
    assert _drifted("nothing") == []
