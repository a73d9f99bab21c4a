"""Shared fixtures.  The helpers themselves live in ``cases.py`` next to this file."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture
def rng():
    """A fresh generator with a fixed seed, so that every test is reproducible on its own."""
    return np.random.default_rng(20240601)


@pytest.fixture(scope="session")
def book_html(tmp_path_factory) -> pathlib.Path:
    """The built book's HTML folder: ``BOOK_HTML`` if set, else a build made for the session (with ``-W``)."""
    given = os.environ.get("BOOK_HTML")
    if given:
        html = pathlib.Path(given).resolve()
        if not (html / "index.html").exists():
            pytest.fail(f"BOOK_HTML={given} holds no built book (no index.html)")
        return html
    out = tmp_path_factory.mktemp("book")
    jupyter_book = pathlib.Path(sys.executable).parent / "jupyter-book"  # the command installed with this Python
    cmd = [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, f"book build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return out / "_build" / "html"
