"""Notebook helpers that work wherever a chapter runs: in the book build, in Jupyter, on Colab, in the browser.

:func:`glue` stores a value for the book's prose (``{glue:text}`name```) when
myst-nb is installed, as in the book's own environment, where the book is
built from the executed notebooks.  Where it is not (the book's JupyterLite
site, Colab, Binder) nothing reads the stored values, so it only shows the
value, if asked to.

:func:`in_browser` tells whether the chapter runs in the browser (Pyodide),
and :func:`lighter_in_browser` picks a smaller setting there, for the
chapters whose live runs would take too long in WebAssembly.
"""

from __future__ import annotations

import sys


def in_browser() -> bool:
    """True where Python runs in the browser: Pyodide, the kernel of the book's JupyterLite site."""
    return sys.platform == "emscripten"


def lighter_in_browser(local, browser):
    """``local`` in a local Python (Jupyter, Colab, the book build, the tests), ``browser`` under Pyodide.

    In the browser numerical code runs several times slower than in a
    local Python (ten times for a training step), and a chapter should run
    in about a minute there.  A chapter passes both settings, so that the
    reader sees in the cell what each place runs and can change either.
    """
    return browser if in_browser() else local


def glue(name: str, value, display: bool = True) -> None:
    """``myst_nb.glue(name, value, display)`` if myst-nb is installed, else just display ``value`` (if asked)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            from IPython.display import display as show
            show(value)
        return None
    return myst_glue(name, value, display=display)
