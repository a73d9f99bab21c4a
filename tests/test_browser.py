"""The rendered book in a real browser, with the network off.

Loads every page of the built HTML in headless Chromium (through Playwright,
with Debian's ``/usr/bin/chromium``), refuses every request that is not a
local file, and checks what a reader would see: equations typeset by MathJax
(no raw ``\\(`` left), every image loaded and described by ``alt`` text, the
widget views drawn, and no JavaScript errors.  A full-page screenshot of each
page is kept next to the HTML (``<build>/screenshots/``) for people to look at.

The book is built for the test (the ``book_html`` fixture of ``conftest.py``), unless
``BOOK_HTML`` names an already built ``_build/html`` folder (CI builds once, with
``-W``, and passes it here).
"""

from __future__ import annotations

import os
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium); "
                                                  "the browser test needs it"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -r requirements.txt)")

# Ask MathJax to finish typesetting and report whether it is there at all.
MATHJAX_DONE = """async () => {
  if (!window.MathJax) { return false; }
  if (MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  if (MathJax.typesetPromise) { await MathJax.typesetPromise(); }
  return true;
}"""

# Text of the page outside code blocks, where raw TeX delimiters must not survive.
PROSE_TEXT = """() => {
  const clone = document.querySelector('main').cloneNode(true);
  clone.querySelectorAll('pre, code, .highlight, mjx-container, script, style').forEach(e => e.remove());
  return clone.innerText;
}"""

HEADINGS = """() => Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4, main h5, main h6'))
  .map(h => Number(h.tagName[1]))"""

IMAGES = """() => Array.from(document.querySelectorAll('img')).map(img => ({
  src: img.getAttribute('src'), alt: img.getAttribute('alt'), loaded: img.complete && img.naturalWidth > 0
}))"""


def _pages(html: pathlib.Path) -> list[pathlib.Path]:
    return sorted((html / "book").glob("*.html"))


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


def _visit(browser, page_path: pathlib.Path, shots: pathlib.Path) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    external, errors = [], []

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.goto(page_path.as_uri(), wait_until="load")
    has_mathjax = page.evaluate(MATHJAX_DONE)
    has_widgets = "application/vnd.jupyter.widget-state+json" in page_path.read_text()
    if has_widgets:
        page.wait_for_selector(".jupyter-widgets", timeout=15000)
    page.wait_for_timeout(300)
    report = {
        "external": external,
        "errors": errors,
        "has_mathjax": has_mathjax,
        "math_nodes": page.locator(".math").count(),
        "typeset": page.locator("mjx-container").count(),
        "prose": page.evaluate(PROSE_TEXT),
        "images": page.evaluate(IMAGES),
        "headings": page.evaluate(HEADINGS),
        "has_widgets": has_widgets,
        "widget_views": page.locator(".jupyter-widgets").count(),
    }
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{page_path.stem}.png"), full_page=True)
    context.close()
    return report


def test_the_book_has_chapter_pages(book_html):
    assert [p.name for p in _pages(book_html)], f"no pages under {book_html / 'book'}"
    assert (book_html / "book" / "01_introduction.html").exists()


def test_pages_render_offline(book_html, browser):
    """Every page: no network request, no JS error, math typeset, images loaded with alt text, headings in
    order (no skipped level), widgets drawn."""
    shots = book_html.parent / "screenshots"
    problems = []
    for page_path in _pages(book_html):
        r = _visit(browser, page_path, shots)
        name = page_path.name
        if r["external"]:
            problems.append(f"{name}: asked the network for {r['external'][:3]}")
        if r["errors"]:
            problems.append(f"{name}: JavaScript errors {r['errors'][:3]}")
        if r["math_nodes"]:
            if not r["has_mathjax"]:
                problems.append(f"{name}: has math but MathJax did not load")
            elif r["typeset"] == 0:
                problems.append(f"{name}: MathJax typeset nothing")
        for delimiter in ("\\(", "\\[", "$$"):
            if delimiter in r["prose"]:
                problems.append(f"{name}: raw TeX {delimiter!r} left in the text")
        for img in r["images"]:
            if not img["loaded"]:
                problems.append(f"{name}: image {img['src']} did not load")
            if not (img["alt"] or "").strip():
                problems.append(f"{name}: image {img['src']} has no alt text")
        levels = r["headings"]
        if levels and levels[0] != 1:
            problems.append(f"{name}: the first heading is h{levels[0]}, not h1")
        jumps = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
        if jumps:
            problems.append(f"{name}: headings skip levels {jumps[:3]}")
        if r["has_widgets"] and r["widget_views"] == 0:
            problems.append(f"{name}: has widget state but no widget view was drawn")
    assert not problems, "\n".join(problems)


def test_chapter_1_shows_math_figures_and_a_widget(book_html, browser):
    """A positive check, so the test above cannot pass on an empty page."""
    r = _visit(browser, book_html / "book" / "01_introduction.html", book_html.parent / "screenshots")
    assert r["typeset"] >= 20
    assert len([i for i in r["images"] if i["loaded"]]) >= 2
    assert r["has_widgets"] and r["widget_views"] >= 1
    assert r["headings"][0] == 1 and r["headings"].count(2) >= 8
