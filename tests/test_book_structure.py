"""The book's structure: every chapter and library module is reachable, every figure is described.

These are the checks a reader would otherwise make by hand: that a new
notebook or module did not get left out of the table of contents, and that
every figure a notebook draws has a caption, a name to reference, and alt
text for readers who cannot see it.
"""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
LIBRARY = ROOT / "src" / "lessons_lib"


def _toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = {toc["root"]}

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.add(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def _notebooks() -> list[pathlib.Path]:
    return sorted(p for p in BOOK.glob("*.ipynb"))


def test_every_chapter_notebook_is_in_the_toc():
    missing = [p.name for p in _notebooks() if f"book/{p.stem}" not in _toc_files()]
    assert not missing, f"add these notebooks to _toc.yml: {missing}"


def test_every_toc_entry_exists():
    absent = [f for f in _toc_files()
              if not any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb"))]
    assert not absent, f"_toc.yml names files that do not exist: {absent}"


def _layers() -> list[str]:
    """Subpackages and top-level modules of the library: one reference page each."""
    found = [p.name for p in LIBRARY.iterdir() if (p / "__init__.py").exists()]
    return sorted(found + [p.stem for p in LIBRARY.glob("*.py") if p.stem != "__init__"])


def test_every_layer_has_a_reference_page_in_the_toc():
    missing = [m for m in _layers() if f"book/api/{m}" not in _toc_files()]
    assert not missing, (f"layers without a reference page in _toc.yml: {missing}; "
                         f"run python scripts/make_api_pages.py and add the lines it prints")


def test_every_library_module_is_documented_on_its_layers_page():
    missing = []
    for path in sorted(LIBRARY.rglob("*.py")):
        parts = path.relative_to(LIBRARY).with_suffix("").parts
        if parts == ("__init__",):
            continue
        dotted = ".".join(("lessons_lib",) + (parts[:-1] if parts[-1] == "__init__" else parts))
        page = BOOK / "api" / f"{parts[0].removesuffix('.py')}.md"
        if not page.exists() or f".. automodule:: {dotted}\n" not in page.read_text():
            missing.append(dotted)
    assert not missing, f"modules missing from the library reference: {missing}; run python scripts/make_api_pages.py"


@pytest.mark.parametrize("notebook", _notebooks(), ids=lambda p: p.name)
def test_every_figure_has_a_caption_a_name_and_alt_text(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    problems = []
    for k, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        draws = any("image/png" in out.get("data", {}) or "image/svg+xml" in out.get("data", {})
                    for out in cell.get("outputs", []))
        if not draws:
            continue
        meta = cell.get("metadata", {}).get("mystnb", {})
        figure, image = meta.get("figure", {}), meta.get("image", {})
        for what, value in (("caption", figure.get("caption")), ("name", figure.get("name")),
                            ("alt text", image.get("alt"))):
            if not (isinstance(value, str) and value.strip()):
                problems.append(f"cell {k} draws a figure without a {what}")
    assert not problems, f"{notebook.name}: " + "; ".join(problems)


@pytest.mark.parametrize("notebook", _notebooks(), ids=lambda p: p.name)
def test_notebooks_are_committed_executed_in_order(notebook):
    """nbval strict mode only compares cells that have stored outputs."""
    cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{notebook.name}: execution counts {counts[:8]}...; run python scripts/execute_notebooks.py {notebook}"
    )


@pytest.mark.parametrize("notebook", _notebooks(), ids=lambda p: p.name)
def test_no_stored_error_or_stderr_output(notebook):
    """The book renders stored outputs, so none may be an error, a warning or anything else on stderr."""
    cells = json.loads(notebook.read_text())["cells"]
    bad = [k for k, c in enumerate(cells) for out in c.get("outputs", [])
           if out.get("output_type") == "error" or out.get("name") == "stderr"]
    assert not bad, f"{notebook.name}: cells {bad} store an error or stderr output"
