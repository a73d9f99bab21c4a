"""Write one API reference page per module of lessons_lib under book/api/.

Usage (from the repository root):  python scripts/make_api_pages.py

Each page holds the module's docstring and its public functions and classes,
rendered by Sphinx's autodoc from the docstrings themselves, so the reference
cannot drift from the code. tests/test_book_structure.py checks that every
module has its page and that every page is in _toc.yml; add new pages to the
"Library reference" part of _toc.yml by hand.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "lessons_lib"
API = ROOT / "book" / "api"


def modules() -> list[str]:
    """Module names of the library, in alphabetical order, without the package's __init__."""
    return sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def summary(name: str) -> str:
    """First line of a module's docstring."""
    doc = ast.get_docstring(ast.parse((PACKAGE / f"{name}.py").read_text())) or ""
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else name


def page(name: str) -> str:
    return (
        f"(api-{name.replace('_', '-')})=\n"
        f"# `lessons_lib.{name}`\n\n"
        f"```{{eval-rst}}\n"
        f".. automodule:: lessons_lib.{name}\n"
        f"   :members:\n"
        f"   :show-inheritance:\n"
        f"```\n"
    )


def index(names: list[str]) -> str:
    rows = "\n".join(f"| {{ref}}`lessons_lib.{n} <api-{n.replace('_', '-')}>` | {summary(n)} |" for n in names)
    return (
        "(api-index)=\n"
        "# Library reference\n\n"
        "Every chapter imports `lessons_lib`, a small NumPy library installed with the book\n"
        "(`pip install -r requirements.txt` installs it in editable mode). These pages are\n"
        "generated from the docstrings of its modules, one page per module.\n\n"
        "The top-level package exposes the API most readers need: `sequence_forward`,\n"
        "`sequence_backward`, `zero_state`, `init_params`, `from_torch_state_dict`,\n"
        "`to_torch_state_dict`, `rel_error`, `numerical_gradient`, `gradient_errors` and\n"
        "`check_sequence_gradients`.\n\n"
        "| module | what it holds |\n| --- | --- |\n" + rows + "\n"
    )


def main() -> None:
    API.mkdir(parents=True, exist_ok=True)
    names = modules()
    for name in names:
        (API / f"{name}.md").write_text(page(name))
    (API / "index.md").write_text(index(names))
    print("\n".join(f"      - file: book/api/{n}" for n in names))


if __name__ == "__main__":
    main()
