"""Write (or update) the install cell at the top of every chapter: it installs lessons_lib where it is missing.

Usage (from the repository root):

    python scripts/install_cell.py            # write the cell into every book/myst/NN_topic.md
    python scripts/install_cell.py --check    # exit 1 if a chapter's cell is missing or out of date

A chapter opened on Colab (its launch button) or in a fresh Jupyter has no
``lessons_lib``, and none of the book's other files (the chapters read stored
results from ``../results/``).  The cell, each chapter's first code cell,
clones the repository named in ``_config.yml`` (``repository.url`` at
``repository.branch``: the one setting, which the launch buttons follow too)
into ``rnn-lessons/``, installs its library with pip, and moves the kernel into
the clone's ``book/`` folder, where the chapters expect to run.  It prints
nothing where the library is already there, as in the book's own environment
(nbval compares that empty output) and on Binder, which installs
``binder/requirements.txt`` in a clone of the repository.
In the book's JupyterLite site the library is part of the site's Pyodide
(``_ext/offline_pyodide.py``), so the import succeeds; if the site was built
with Pyodide from the CDN, the cell installs it from the site's own index.
The environment variable ``LESSONS_LIB_SOURCE`` replaces ``URL@BRANCH`` (a
local ``file://`` repository, say; ``tests/test_install_cell.py`` does that).  The cell is
tagged ``hide-cell``, so the web page shows it collapsed.

After running this, execute the chapters again (``scripts/execute_notebooks.py``)
so that the notebooks hold the cell too.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = "# Installs the book's library, lessons_lib, where it is missing"


def source_from_config(config: pathlib.Path = ROOT / "_config.yml") -> str:
    """``URL@BRANCH`` of the repository named in the book's configuration."""
    repository = yaml.safe_load(config.read_text())["repository"]
    return f"{repository['url'].rstrip('/')}@{repository.get('branch', 'main')}"


def cell_source(source: str) -> str:
    """The install cell's code, cloning ``source`` (``URL@BRANCH``) where the library is missing."""
    return f'''{MARKER} (Colab, a fresh Jupyter); silent where it is there.
try:
    import lessons_lib  # noqa: F401
except ImportError:
    import os, subprocess, sys
    if sys.platform == "emscripten":  # the book's JupyterLite site, built with Pyodide from the CDN
        import piplite
        await piplite.install("lessons_lib")
    else:  # fetch the book (the chapters read its results/), install its library, work in its book/
        url, _, branch = os.environ.get("LESSONS_LIB_SOURCE", "{source}").rpartition("@")
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", branch, url, "rnn-lessons"], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "./rnn-lessons"], check=True)
        os.chdir("rnn-lessons/book")'''


def cell_block(source: str) -> str:
    return "```{code-cell} ipython3\n:tags: [hide-cell]\n\n" + cell_source(source) + "\n```\n"


# The install cell as written by cell_block, wherever it stands.
_BLOCK = re.compile(r"```\{code-cell\} ipython3\n:tags: \[hide-cell\]\n\n" + re.escape(MARKER) + r".*?\n```\n\n?",
                    re.DOTALL)
_FIRST_CODE = re.compile(r"^```\{code-cell\}", re.MULTILINE)


def with_install_cell(text: str, source: str) -> str:
    """``text`` (a chapter's MyST source) with the install cell right before its first other code cell."""
    text = _BLOCK.sub("", text)
    first = _FIRST_CODE.search(text)
    if first is None:
        raise ValueError("the chapter has no code cell")
    return text[:first.start()] + cell_block(source) + "\n" + text[first.start():]


def chapters() -> list[pathlib.Path]:
    return sorted((ROOT / "book" / "myst").glob("[0-9][0-9]_*.md"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a chapter needs the update")
    args = parser.parse_args(argv)
    source = source_from_config()
    stale = []
    for path in chapters():
        text = path.read_text()
        new = with_install_cell(text, source)
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new)
    for path in stale:
        print(f"{'needs the install cell' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
