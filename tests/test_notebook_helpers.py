"""Helpers that let a chapter run outside the book's environment: glue without myst-nb, lighter runs in the browser."""

from __future__ import annotations

import sys

import pytest

from lessons_lib.tasks import adding_problem
from lessons_lib.teaching import notebook


def test_glue_uses_myst_nb_where_it_is_installed(monkeypatch):
    pytest.importorskip("myst_nb")
    calls = []
    import myst_nb
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: calls.append((name, value, display)))
    notebook.glue("x", 1.5, display=False)
    assert calls == [("x", 1.5, False)]


def test_glue_without_myst_nb_only_displays_when_asked(monkeypatch):
    monkeypatch.setitem(sys.modules, "myst_nb", None)   # import myst_nb now raises ImportError
    shown = []
    import IPython.display
    monkeypatch.setattr(IPython.display, "display", lambda value: shown.append(value))
    assert notebook.glue("x", 1.5, display=False) is None and shown == []
    notebook.glue("y", 2.5)
    assert shown == [2.5]
    with pytest.raises(TypeError, match="name must be a non-empty str"):
        notebook.glue("", 1.0)


def test_chapter_5_runs_only_its_first_live_setting_in_the_browser(monkeypatch):
    settings = [("gru", None, 50, 0.02), ("lstm", 0.0, 20, 0.001)]
    assert adding_problem.lighter_in_browser(settings) == settings
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert adding_problem.lighter_in_browser(settings) == settings[:1]


def test_lighter_in_browser_picks_the_browser_setting_only_under_pyodide(monkeypatch):
    assert not notebook.in_browser()
    assert notebook.lighter_in_browser(100, 20) == 100
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert notebook.in_browser()
    assert notebook.lighter_in_browser(100, 20) == 20
    assert notebook.lighter_in_browser((400, 50), (150, 50)) == (150, 50)
