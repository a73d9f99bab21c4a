"""The slide decks: ``scripts/make_slides.py``, opened in headless Chromium with the network off.

The decks of chapters 1 and 3 are made from the built book (``BOOK_HTML``
when it is set, as for ``tests/test_browser.py``; otherwise ``_build/html``,
built first if it is out of date). Chapter 1's deck is then opened with every
request that is not a local file refused: its slides must render with typeset
math and loaded figures, fit on the slide, and move on to the next slide.
What the slides should hold (how many, which headings, which numbers) is read
from the chapter's notebook and the built page, not from the script.
"""

from __future__ import annotations

import html as html_lib
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_slides.py"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")]
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -r requirements.txt)")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # make_slides imports built_book by name
    spec.loader.exec_module(module)
    return module


built_book = _load("built_book")
make_slides = _load("make_slides")

CHAPTERS = ["01_introduction", "03_gated_architectures"]


def _tagged(stem: str) -> list:
    nb = nbformat.read(ROOT / "book" / f"{stem}.ipynb", as_version=4)
    return [c for c in nb.cells if "slide" in c.metadata.get("tags", [])]


@pytest.fixture(scope="module")
def html() -> pathlib.Path:
    given = os.environ.get("BOOK_HTML")
    return pathlib.Path(given).resolve() if given else built_book.built_html(None, built_book.chapter_stems())


@pytest.fixture(scope="module")
def decks(html, tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("slides")
    done = subprocess.run([sys.executable, str(SCRIPT), "--html", str(html), "--out", str(out),
                           "--chapters", *[stem[:2] for stem in CHAPTERS]],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"make_slides.py failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def browser():
    with built_book.offline_browser() as b:
        yield b


def test_one_deck_per_chapter_with_a_slide_per_tagged_cell(decks):
    for stem in CHAPTERS:
        tagged = _tagged(stem)
        assert 3 <= len(tagged) <= 8, f"{stem}: {len(tagged)} cells tagged slide"
        deck = (decks / f"{stem}.html").read_text(encoding="utf-8")
        assert deck.count("<section") == 1 + len(tagged), stem  # a title slide, then one per tagged cell
        remote = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]*)"', deck)
        assert remote == [], f"{stem} loads {remote[:3]}"
    assert (decks / "assets" / "reveal.js" / "reveal.js").exists()
    assert (decks / "assets" / "mathjax" / "tex-mml-chtml.js").exists()


def test_references_get_the_books_numbers(html):
    """A cross-reference, an equation label and a citation, rendered with what the built page shows for them."""
    page = (html / "book" / "01_introduction.html").read_text(encoding="utf-8")
    fig = html_lib.unescape(re.search(r'href="#fig-hello"><span class="std std-numref">(.*?)</span>', page)[1])
    eq = re.search(r'<a class="reference internal" href="#equation-rnn-update">(.*?)</a>', page)[1]
    index = make_slides.BookIndex(html, built_book.chapter_stems())
    markdown = make_slides.SlideMarkdown(index, make_slides.citations())
    rendered = markdown.render("See {numref}`fig-hello`, {eq}`rnn-update` and {cite}`elman1990`.\n\n"
                               "$$\nh_t = 0\n$$ (rnn-update)\n")
    assert f">{fig}<" in rendered
    assert f">{eq}<" in rendered
    assert "Elman, 1990" in rendered
    assert rf"\tag{{{eq.strip('()')}}}" in rendered


def test_a_deck_renders_offline_with_typeset_math_and_moves_to_slide_2(decks, browser):
    stem = CHAPTERS[0]
    context, page, refused = built_book.offline_page(browser, viewport={"width": 1280, "height": 760})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto((decks / f"{stem}.html").as_uri(), wait_until="load")
    page.wait_for_selector("body[data-deck-ready=true]", timeout=60000)

    tagged = _tagged(stem)
    assert page.evaluate("Reveal.getTotalSlides()") == 1 + len(tagged)
    assert page.evaluate("Reveal.getIndices().h") == 0
    assert page.locator(".reveal .slides mjx-container").count() >= 10
    assert page.evaluate(built_book.RAW_TEX, ".reveal .slides") == []

    images = page.evaluate("""() => Array.from(document.querySelectorAll('.reveal img')).map(
        img => ({alt: img.getAttribute('alt'), loaded: img.naturalWidth > 0}))""")
    figures = [c for c in tagged if c.cell_type == "code"]
    assert len(images) >= len(figures) >= 1
    assert all(img["loaded"] and (img["alt"] or "").strip() for img in images), images

    overflowing = page.evaluate("""() => Array.from(document.querySelectorAll('.reveal .slides > section'))
        .map((s, k) => [k, s.scrollHeight]).filter(([k, h]) => h > Reveal.getConfig().height)""")
    assert overflowing == [], f"slides taller than the slide: {overflowing}"

    page.keyboard.press("ArrowRight")
    page.wait_for_function("Reveal.getIndices().h === 1")
    current = page.locator(".reveal .slides > section.present")
    first_heading = next(line.lstrip("#").strip() for line in tagged[0].source.splitlines() if line.startswith("#"))
    assert first_heading in current.inner_text()
    assert current.locator("mjx-container").count() >= 1  # the update equation, typeset
    assert refused == [] and errors == [], (refused, errors)
    context.close()
