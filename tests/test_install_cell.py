"""The install cell at the top of every chapter (scripts/install_cell.py): what a Colab reader runs first.

Where ``lessons_lib`` is importable the cell prints nothing (nbval compares
that); where it is not, it clones ``LESSONS_LIB_SOURCE`` (here this repository,
as a ``file://`` address at its current branch, instead of the address in
``_config.yml``), installs the library with pip into a fresh virtual
environment that sees the book's other packages but not ``lessons_lib``, and
moves into the clone's ``book/``, where ``../results/`` holds the stored results.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import site
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("install_cell", ROOT / "scripts" / "install_cell.py")
ic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ic)

# Runs a cell's code as IPython would (it may hold a top-level await) and prints what it printed.
RUN_CELL = """import ast, asyncio, os, sys
code = compile(sys.stdin.read(), "cell", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
result = eval(code, {"__name__": "__main__"})
if asyncio.iscoroutine(result):
    asyncio.run(result)
"""


def test_every_chapter_starts_with_the_current_install_cell():
    source = ic.source_from_config()
    assert source == "https://github.com/your-org/rnn-lessons@main"
    for path in ic.chapters():
        text = path.read_text()
        assert ic.with_install_cell(text, source) == text, f"{path.name}: run python scripts/install_cell.py"
        first = text.index("```{code-cell}")
        assert text[first:].startswith(ic.cell_block(source)), f"{path.name}: the install cell is not the first"


def test_the_cell_is_silent_where_the_library_is_installed():
    result = subprocess.run([sys.executable, "-c", RUN_CELL], input=ic.cell_source("nowhere"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stderr


def _venv_without_the_library(tmp: pathlib.Path) -> pathlib.Path:
    """A venv whose path holds this environment's packages (numpy, matplotlib, ...) but not lessons_lib."""
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=120)
    python = tmp / "venv" / "bin" / "python"
    shared = tmp / "shared"
    shared.mkdir()
    for folder in site.getsitepackages():
        for entry in pathlib.Path(folder).iterdir():
            if entry.name.startswith(("lessons_lib", "__editable__", "_lessons_lib")) or entry.suffix == ".pth":
                continue
            if not (shared / entry.name).exists():
                (shared / entry.name).symlink_to(entry)
    target = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            check=True, capture_output=True, text=True).stdout.strip()
    (pathlib.Path(target) / "book_packages.pth").write_text(f"{shared}\n")
    return python


@pytest.mark.skipif(os.environ.get("CI_OFFLINE") == "1", reason="pip needs the package index for setuptools")
def test_the_cell_installs_the_library_where_it_is_missing(tmp_path):
    python = _venv_without_the_library(tmp_path)
    probe = [str(python), "-c", "import importlib.util; print(importlib.util.find_spec('lessons_lib') is None)"]
    assert subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip() == "True"
    branch = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--abbrev-ref", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    env = {**os.environ, "LESSONS_LIB_SOURCE": f"{ROOT.as_uri()}@{branch}", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    work = tmp_path / "content"   # Colab's working folder
    work.mkdir()
    result = subprocess.run([str(python), "-c", RUN_CELL + "print(os.getcwd())"], input=ic.cell_source("nowhere"),
                            env=env, cwd=work, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == f"{work / 'rnn-lessons' / 'book'}\n"      # the cell printed nothing, then moved
    assert (work / "rnn-lessons" / "results" / "adding.json").exists()
    check = ("import json, lessons_lib; from lessons_lib.tasks import weather; "
             "print(json.dumps([lessons_lib.__file__, len(weather.load_nyc_weather('JFK').time)]))")
    where, hours = json.loads(subprocess.run([str(python), "-c", check], env=env, capture_output=True, text=True,
                                             check=True).stdout)
    assert where.startswith(str(tmp_path / "venv")) and hours == 8730   # installed there, with its data files
    again = subprocess.run([str(python), "-c", RUN_CELL], input=ic.cell_source("nowhere"), env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""
