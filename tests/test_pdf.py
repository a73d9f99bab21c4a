"""The printed handouts: ``scripts/make_pdf.py``, read back from its PDFs with poppler's ``pdftotext``.

Chapter 1 is printed on its own, with and without its solutions, and the
whole book once.  The expected titles, captions and solutions are read from
the built HTML pages the PDFs are printed from, so the test follows the book
as it changes.  The built book is ``BOOK_HTML`` when it is set (CI builds
once and passes it here, as for ``tests/test_browser.py``); otherwise the
script uses ``_build/html``, building it first if it is out of date.
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
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_pdf.py"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(shutil.which("pdftotext") is None,
                       reason="pdftotext is not installed (apt-get install poppler-utils)"),
]
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -r requirements.txt)")

_spec = importlib.util.spec_from_file_location("built_book", ROOT / "scripts" / "built_book.py")
built_book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(built_book)

CHAPTER = "01_introduction"
TAG = re.compile(r"<[^>]+>")


def _flat(text: str) -> str:
    """Text with every run of white space made one space, as titles wrap differently on paper."""
    return re.sub(r"\s+", " ", text).strip()


def _plain(fragment: str) -> str:
    return _flat(html_lib.unescape(TAG.sub("", fragment))).replace("#", "").strip()


@pytest.fixture(scope="module")
def html() -> pathlib.Path:
    given = os.environ.get("BOOK_HTML")
    return pathlib.Path(given).resolve() if given else built_book.built_html(None, built_book.printed_stems())


def _make(html: pathlib.Path, out: pathlib.Path, *flags: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(SCRIPT), "--html", str(html), "--out", str(out), *flags],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"make_pdf.py {' '.join(flags)} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return time.perf_counter() - start, done.stdout


def _pages(pdf: pathlib.Path) -> list[str]:
    """The text of each page of ``pdf``, in reading order."""
    assert pdf.exists() and pdf.stat().st_size > 10_000, f"{pdf} is missing or nearly empty"
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@pytest.fixture(scope="module")
def printed(html, tmp_path_factory) -> dict:
    """Chapter 1 without and with solutions, and the whole book; the text of each, page by page."""
    out = tmp_path_factory.mktemp("pdf")
    seconds = {}
    seconds["chapter"], _ = _make(html, out, "--per-chapter", "--chapters", CHAPTER[:2])
    seconds["solutions"], _ = _make(html, out, "--per-chapter", "--chapters", CHAPTER[:2], "--solutions")
    seconds["book"], _ = _make(html, out)
    print("make_pdf.py seconds:", {k: round(v) for k, v in seconds.items()})
    return {
        "out": out,
        "chapter": _pages(out / f"{CHAPTER}.pdf"),
        "solutions": _pages(out / f"{CHAPTER}-solutions.pdf"),
        "book": _pages(out / "book.pdf"),
    }


def _page_html(html: pathlib.Path, stem: str) -> str:
    return (html / "book" / f"{stem}.html").read_text(encoding="utf-8")


def _article(page: str) -> str:
    return page[page.index('<article class="bd-article"'):page.index("</article>")]


def _headings(page: str, levels: str = "12") -> list[str]:
    return [_plain(h) for h in re.findall(rf"<h[{levels}]>(.*?)</h[{levels}]>", _article(page), re.S)]


def test_the_chapter_has_its_title_sections_figures_and_code(printed, html):
    text = _flat(" ".join(printed["chapter"]))
    page = _page_html(html, CHAPTER)
    headings = _headings(page)
    assert len(headings) >= 8
    missing = [h for h in headings if h not in text]
    assert not missing, f"headings not in the PDF: {missing}"
    captions = [_plain(c) for c in re.findall(r'<span class="caption-number">(.*?)</span>', _article(page))]
    assert captions and all(c in text for c in captions), captions
    assert "ll.sequence_forward(" in text  # code
    assert "step by step and whole sequence agree" in text  # its output
    assert "interactive widget" in text  # the live widget's note


def test_the_chapter_has_its_figures(printed, html):
    listing = subprocess.run(["pdfimages", "-list", str(printed["out"] / f"{CHAPTER}.pdf")],
                             capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    figures = len(re.findall(r"<figure\b", _article(_page_html(html, CHAPTER))))
    assert figures >= 2
    assert len(listing) >= figures


def test_no_raw_tex_is_left(printed):
    for name in ("chapter", "solutions", "book"):
        text = "".join(printed[name])
        for delimiter in ("\\(", "\\[", "$$"):
            assert delimiter not in text, f"{name}: raw {delimiter!r} in the PDF"


def test_solutions_are_left_out_by_default_and_printed_open_with_the_flag(printed, html):
    article = _article(_page_html(html, CHAPTER))
    titles = [_plain(t) for t in re.findall(
        r'<div class="solution[^"]*"[^>]*>\s*<p class="admonition-title">(.*?)</p>', article, re.S)]
    assert len(titles) >= 3
    code = 'np.tanh(x @ params["W_x"].T + h_prev @ params["W_h"].T + b)'  # chapter 1's coding exercise
    assert code in html_lib.unescape(TAG.sub("", article))
    without, with_ = _flat(" ".join(printed["chapter"])), _flat(" ".join(printed["solutions"]))
    assert "Solution to" not in without and code not in without
    assert [t for t in titles if t not in with_] == []
    assert code in with_
    assert len(printed["solutions"]) > len(printed["chapter"])


def test_the_book_starts_each_chapter_on_a_new_page(printed, html):
    pages = [_flat(p) for p in printed["book"]]
    for stem in built_book.chapter_stems():
        title = _headings(_page_html(html, stem), "1")[0]
        assert any(p.startswith(title) for p in pages), f"no page starts with {title!r}"
        body = _flat(TAG.sub("", html_lib.unescape(re.search(r"<p>(.*?)</p>", _article(_page_html(html, stem)),
                                                             re.S)[1])))
        assert body[:60] in " ".join(pages), f"{stem}: its first paragraph is not in the book"
    assert "Solution to" not in " ".join(pages)
    assert len(pages) > 7 * len(printed["chapter"]) // 2


def test_the_raw_tex_check_catches_untypeset_math(html):
    """The script's own check (it fails when raw TeX is left) finds the math of a page without MathJax."""
    with built_book.offline_browser() as browser:
        context, page, refused = built_book.offline_page(browser)
        context.route("**/tex-mml-chtml.js*", lambda r: r.abort())
        page.goto((html / "book" / f"{CHAPTER}.html").as_uri(), wait_until="load")
        assert page.evaluate(built_book.RAW_TEX, "main")
        context.close()
