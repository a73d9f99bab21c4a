"""The library's layering rule: a module imports only from its own layer and the layers below it.

The order is written once, in the docstring of ``lessons_lib/__init__.py``;
this test reads it from there, so the rule and its check cannot drift
apart.  It parses every module's source (imports inside functions
included), resolves relative imports, and fails on any import of a layer
above the importing module's own.  It also checks the two consequences the
docstring promises: nothing below ``figures`` imports matplotlib or
ipywidgets, and every module belongs to a layer.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

import lessons_lib

PACKAGE = pathlib.Path(lessons_lib.__file__).resolve().parent
PLOTTING = ("matplotlib", "ipywidgets", "IPython")


def layer_order(docstring: str) -> list[str]:
    """The layers, bottom first, from the numbered list in the package docstring."""
    found = re.findall(r"^\d+\. :mod:`lessons_lib\.(\w+)`", docstring, flags=re.MULTILINE)
    if not found:
        raise ValueError("the package docstring lists no layers (lines like '1. :mod:`lessons_lib.cells`')")
    return found


LAYERS = layer_order(lessons_lib.__doc__)


def module_name(path: pathlib.Path, package: pathlib.Path = PACKAGE) -> str:
    parts = list(path.relative_to(package).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["lessons_lib", *parts])


def layer_of(module: str, layers: list[str] = LAYERS) -> int | None:
    """Index of a lessons_lib module's layer; None for the package's own ``__init__``."""
    parts = module.split(".")
    if parts == ["lessons_lib"]:
        return None
    if parts[0] != "lessons_lib" or parts[1] not in layers:
        raise ValueError(f"{module} belongs to no layer; add it to the list in lessons_lib/__init__.py")
    return layers.index(parts[1])


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in ``source``, relative ones resolved."""
    tree = ast.parse(source)
    base = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[:len(base) - node.level + 1]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module
            if node.module is None or (node.level == 0 and target == "lessons_lib"):
                # "from . import x" and "from lessons_lib import x" import the submodules x
                found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
    return found


def violations(package: pathlib.Path = PACKAGE, layers: list[str] = LAYERS) -> list[str]:
    """Every import of a higher layer, and every plotting import below ``figures``, as readable lines."""
    problems = []
    figures = layers.index("figures")
    for path in sorted(package.rglob("*.py")):
        module = module_name(path, package)
        own = layer_of(module, layers)
        if own is None:
            continue
        for line, target in imported_modules(path.read_text(), module, path.name == "__init__.py"):
            where = f"{path.relative_to(package)}:{line}"
            if target.split(".")[0] in PLOTTING and own < figures:
                problems.append(f"{where}: {module} ({layers[own]}) imports {target}; only figures and above may")
            if target.split(".")[0] != "lessons_lib" or target == "lessons_lib":
                continue
            other = layer_of(target if target.split(".")[1] in layers else target.rsplit(".", 1)[0], layers)
            if other is not None and other > own:
                problems.append(f"{where}: {module} ({layers[own]}) imports {target} ({layers[other]}), "
                                f"a layer above it")
    return problems


def test_the_docstring_lists_every_subpackage_and_top_level_module_once():
    present = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    present |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert sorted(LAYERS) == sorted(present) and len(set(LAYERS)) == len(LAYERS)


def test_the_order_is_the_house_order():
    """STYLE.md's order of the subpackages, with the two shared modules where their imports put them."""
    assert LAYERS == ["validation", "cells", "gradcheck", "training", "models", "tasks", "analysis", "figures",
                      "teaching"]


def test_no_module_imports_a_layer_above_its_own():
    problems = violations()
    assert not problems, "imports against the layering rule:\n" + "\n".join(problems)


# The check itself must be able to fail: a copy of the library with one deliberate violation.
@pytest.mark.parametrize(("module", "line", "expected"), [
    ("cells/rnn.py", "from ..training.loop import train\n", "imports lessons_lib.training.loop (training)"),
    ("cells/lstm.py", "    from lessons_lib.figures import widgets\n", "imports lessons_lib.figures"),
    ("validation.py", "from . import gradcheck\n", "imports lessons_lib.gradcheck (gradcheck)"),
    ("analysis/memory.py", "import matplotlib.pyplot as plt\n", "only figures and above may"),
    ("tasks/weather.py", "from ..teaching.checks import check_rnn_step\n", "a layer above it"),
])
def test_a_deliberate_violation_is_caught(tmp_path, module, line, expected):
    import shutil

    copy = tmp_path / "lessons_lib"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "data"))
    target = copy / module
    text = target.read_text()
    if line.startswith("    "):      # an import inside a function is a violation too
        text += "\n\ndef _late():\n" + line + "    return widgets\n"
    else:
        text = line + text
    target.write_text(text)
    found = violations(copy)
    assert any(expected in p and module in p for p in found), found


def test_a_module_outside_every_layer_is_reported(tmp_path):
    (tmp_path / "utils.py").write_text("")
    with pytest.raises(ValueError, match="belongs to no layer"):
        layer_of(module_name(tmp_path / "utils.py", tmp_path))
