"""Every chapter in the book's JupyterLite site, in headless Chromium, with the network off.

The built book is served on 127.0.0.1 (``tests/lite_site.py``) and every
other request is refused.  For each chapter the test opens the chapter's
page, follows its JupyterLite launch button, waits for the Pyodide kernel,
runs all cells, and checks that no cell failed or wrote to stderr (apart from
matplotlib's one-time note while it builds its font cache), that nothing was
asked of the network, and, in the chapters with live widgets, that dragging
a slider redraws the widget's figure.

Times are written to ``<build>/lite-times.json`` and printed (``pytest -s``);
the limit here only catches a hang.  The book's speed target (Run all within
60 s per chapter) is measured by ``benchmarks/lite.py``, which prints the table.
``LITE_CHAPTERS=01,04`` runs a subset.  The book is built for the test unless
``BOOK_HTML`` names a built ``_build/html`` (CI passes the one it built).
"""

from __future__ import annotations

import json
import os

import lite_site
import pytest

pytestmark = pytest.mark.skipif(lite_site.CHROMIUM is None,
                                reason="Chromium is not installed (apt-get install chromium)")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -r requirements.txt)")

# Chapters with live widgets (ipywidgets.interactive), where a slider must redraw a figure.
WIDGET_CHAPTERS = {"01_introduction", "02_vanishing_gradients", "03_gated_architectures", "04_lstm_anatomy"}
# Matplotlib says this on stderr the first time it is imported in a fresh browser profile.
FONT_CACHE_NOTE = "Matplotlib is building the font cache; this may take a moment.\n"
HANG_SECONDS = 400.0


def _selected() -> list[str]:
    wanted = [w.strip() for w in os.environ.get("LITE_CHAPTERS", "").split(",") if w.strip()]
    return [c for c in lite_site.CHAPTERS if not wanted or any(c.startswith(w) for w in wanted)]


@pytest.fixture(scope="module")
def lite(book_html):
    if not (book_html / "lite" / "lab" / "index.html").exists():
        pytest.fail(f"{book_html} has no JupyterLite site (lite/lab/index.html)")
    times = {}
    with lite_site.serve(book_html) as base, sync_api.sync_playwright() as p, \
            lite_site.browser_context(p, base) as context:
        yield context, base, times
    (book_html.parent / "lite-times.json").write_text(json.dumps(times, indent=1))
    for chapter, r in times.items():
        print(f"{chapter}: kernel {r['kernel_s']:.1f} s, run all {r['run_all_s']:.1f} s")


def test_the_site_serves_pyodide_and_the_library_itself(book_html):
    """The kernel loads Pyodide from the site, with lessons_lib and ipywidgets in its lock, and no PyPI."""
    settings = json.loads((book_html / "lite" / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = settings["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.js" and kernel["disablePyPIFallback"] is True
    lock = json.loads((book_html / "lite" / "static" / "pyodide" / "pyodide-lock.json").read_text())
    assert {"numpy", "matplotlib", "ipywidgets", "comm", "tqdm", "lessons-lib"} <= set(lock["packages"])
    assert "ipywidgets" in lock["packages"]["lessons-lib"]["depends"]
    for entry in lock["packages"].values():
        assert (book_html / "lite" / "static" / "pyodide" / entry["file_name"]).exists(), entry["file_name"]
    served = {p.name for p in (book_html / "lite" / "files" / "book").glob("*.ipynb")}
    assert served == {f"{c}.ipynb" for c in lite_site.CHAPTERS}
    assert (book_html / "lite" / "files" / "results" / "adding.json").exists()   # the chapters' ../results/


@pytest.mark.parametrize("chapter", _selected())
def test_a_chapter_runs_all_in_the_browser(lite, chapter):
    context, base, times = lite
    r = lite_site.run_chapter(context, base, chapter, timeout=HANG_SECONDS, slider=chapter in WIDGET_CHAPTERS)
    times[chapter] = {k: r[k] for k in ("kernel_s", "run_all_s", "seconds", "cells")}
    assert r["cells"] > 3
    assert not r["errors"], f"{chapter}: error outputs {r['errors'][:3]}"
    assert not r["not_run"], f"{chapter}: cells not run {r['not_run'][:5]}"
    stderr = [(i, text) for i, text in r["stderr"] if text != FONT_CACHE_NOTE]
    assert not stderr, f"{chapter}: stderr output {stderr[:3]}"
    assert not r["page_errors"], f"{chapter}: JavaScript errors {r['page_errors'][:3]}"
    assert not context.external, f"asked the network for {context.external[:5]}"
    if chapter in WIDGET_CHAPTERS:
        assert r["sliders"] > 0, f"{chapter}: no live slider after Run all"
        assert r["redrew"], f"{chapter}: dragging a slider did not redraw its figure"
