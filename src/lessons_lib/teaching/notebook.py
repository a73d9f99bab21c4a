"""Notebook helpers that work wherever a chapter runs: in the book build, in Jupyter, on Colab, in the browser.

:func:`glue` stores a value for the book's prose (``{glue:text}`name```) when
myst-nb is installed, as in the book's own environment, where the book is
built from the executed notebooks.  Where it is not (the book's JupyterLite
site, Colab, Binder) nothing reads the stored values, so it only shows the
value, if asked to.
"""

from __future__ import annotations


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
