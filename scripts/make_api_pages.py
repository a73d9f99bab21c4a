"""Write the library reference under book/api/: one page per layer of lessons_lib, with its modules.

Usage (from the repository root):  python scripts/make_api_pages.py

The layers, bottom first, are read from the numbered list in the docstring of
``lessons_lib/__init__.py`` (the one place the layering rule is written).  A
layer is a subpackage (``cells``, ``training``, ...) or one of the shared
top-level modules (``validation``, ``gradcheck``).  Each page holds the
layer's docstring and then every module of it, rendered by Sphinx's autodoc
from the docstrings themselves, so the reference cannot drift from the code.
The script prints the ``_toc.yml`` lines of the "Library reference" part;
tests/test_book_structure.py checks that every layer has its page in the TOC
and every module its section on that page.
"""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "lessons_lib"
API = ROOT / "book" / "api"


def layers() -> list[str]:
    """The layers, bottom first, as listed in the package docstring."""
    doc = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text())) or ""
    return re.findall(r"^\d+\. :mod:`lessons_lib\.(\w+)`", doc, flags=re.MULTILINE)


def source(layer: str) -> pathlib.Path:
    """The file that holds a layer's docstring: the subpackage's ``__init__.py`` or the module itself."""
    package = PACKAGE / layer / "__init__.py"
    return package if package.exists() else PACKAGE / f"{layer}.py"


def modules(layer: str) -> list[str]:
    """Dotted names of a layer's modules, in alphabetical order (just the layer, for a top-level module)."""
    if not (PACKAGE / layer).is_dir():
        return [f"lessons_lib.{layer}"]
    return [f"lessons_lib.{layer}.{p.stem}" for p in sorted((PACKAGE / layer).glob("*.py")) if p.stem != "__init__"]


def summary(path: pathlib.Path) -> str:
    """First line of a module's docstring."""
    doc = (ast.get_docstring(ast.parse(path.read_text())) or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else path.stem


def label(dotted: str) -> str:
    return "api-" + dotted.removeprefix("lessons_lib.").replace(".", "-").replace("_", "-")


def directive(dotted: str, members: bool) -> str:
    options = "   :members:\n   :show-inheritance:\n" if members else ""
    return f"```{{eval-rst}}\n.. automodule:: {dotted}\n{options}```\n"


def page(layer: str) -> str:
    names = modules(layer)
    if names == [f"lessons_lib.{layer}"]:       # a shared top-level module: one section is the page
        return f"({label(names[0])})=\n# `{names[0]}`\n\n" + directive(names[0], members=True)
    parts = [f"({label('lessons_lib.' + layer)})=\n# `lessons_lib.{layer}`\n\n",
             directive(f"lessons_lib.{layer}", members=False)]
    for dotted in names:
        parts.append(f"\n({label(dotted)})=\n## `{dotted}`\n\n" + directive(dotted, members=True))
    return "".join(parts)


def index(order: list[str]) -> str:
    rows = "\n".join(
        f"| {k} | {{ref}}`lessons_lib.{layer} <{label('lessons_lib.' + layer)}>` | {summary(source(layer))} |"
        for k, layer in enumerate(order, start=1))
    return (
        "(api-index)=\n"
        "# Library reference\n\n"
        "Every chapter imports `lessons_lib`, a small NumPy library installed with the book\n"
        "(`pip install -r requirements.txt` installs it in editable mode). These pages are\n"
        "generated from its docstrings, one page per layer.\n\n"
        "The top-level package exposes the API most readers need: `sequence_forward`,\n"
        "`sequence_backward`, `zero_state`, `init_params`, `stacked_forward`,\n"
        "`stacked_backward`, `init_stacked`, `from_torch_state_dict`,\n"
        "`to_torch_state_dict`, `rel_error`, `numerical_gradient`, `gradient_errors` and\n"
        "`check_sequence_gradients`.\n\n"
        "The layers are listed bottom first. A module imports only from its own layer and\n"
        "from the layers in earlier rows, and nothing below `figures` imports matplotlib or\n"
        "ipywidgets (`tests/test_layers.py` checks both).\n\n"
        "| | layer | what it holds |\n| --- | --- | --- |\n" + rows + "\n"
    )


def main() -> None:
    API.mkdir(parents=True, exist_ok=True)
    order = layers()
    for old in API.glob("*.md"):
        old.unlink()
    for layer in order:
        (API / f"{layer}.md").write_text(page(layer))
    (API / "index.md").write_text(index(order))
    print("\n".join(f"          - file: book/api/{layer}" for layer in order))


if __name__ == "__main__":
    main()
