"""Print the book, or each chapter, to PDF for a class without screens: no LaTeX, no network.

Usage (from the repository root):

    python scripts/make_pdf.py                          # _build/pdf/book.pdf, without the solutions
    python scripts/make_pdf.py --solutions              # _build/pdf/book-solutions.pdf, every solution open
    python scripts/make_pdf.py --per-chapter            # _build/pdf/01_introduction.pdf, ... one per chapter
    python scripts/make_pdf.py --per-chapter --chapters 01 03 --out /tmp/handouts

The pages come from the built HTML book (``_build/html``; built first if it is
missing or older than a chapter, or given with ``--html``). For each PDF the
script joins the pages' articles into one document in a scratch folder next
to the PDFs (``.print/``), with the book's own style sheets and its local
MathJax, and prints it with the system Chromium (through Playwright), with
every request off the machine refused:

- each page starts on a new sheet; figures stay with their captions;
- the math is typeset by MathJax before printing (the script fails if any
  raw ``\\(`` is left in the text);
- the solutions (sphinx-exercise ``{solution}`` blocks, and the code cells
  tagged ``solution``) are left out, or, with ``--solutions``, printed
  expanded rather than folded, into a file whose name ends in ``-solutions``
  (so that the teacher's copy never overwrites the students' handout);
- a live widget cannot be printed: it becomes a one-line note, and the static
  figure that comes before it in every chapter carries its content.

The whole book holds the landing page, the numbered chapters and the back
matter (notation, glossary, references); the teaching pages and the library
reference are left out.
"""

from __future__ import annotations

import argparse
import html as html_lib
import json
import pathlib
import re
import sys
import time

import built_book  # beside this script: on the path when it is run as a script

ROOT = built_book.ROOT
DEFAULT_OUT = ROOT / "_build" / "pdf"
WIDGET_NOTE = ("<p class=\"print-widget-note\">An interactive widget is shown here on the web page and in "
               "the notebook.</p>")

PRINT_CSS = """
@page { size: %(paper)s; margin: 18mm 16mm 20mm 16mm; }
html, body { background: white; }
body { margin: 0; font-size: 10.5pt; }
.print-book { max-width: none; padding: 0; }
.print-page { break-before: page; }
.print-page:first-child { break-before: auto; }
.headerlink, .copybtn, .toggle-button, .prev-next-footer, .print-hide { display: none !important; }
h1, h2, h3, h4 { break-after: avoid; }
figure, .math.notranslate.nohighlight, table { break-inside: avoid; }
figure img { max-width: 100%%; max-height: 170mm; object-fit: contain; }
figcaption { break-before: avoid; color: #222 !important; }
h1 { font-size: 2em; } h2 { font-size: 1.5em; } h3 { font-size: 1.2em; }
div.highlight pre, .cell_output pre, .output pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 8.5pt; }
div.cell_input, div.cell_output { break-inside: auto; }
.admonition, div.admonition { break-inside: avoid-page; box-sizing: border-box; max-width: 100%%; margin-right: 0;
  box-shadow: none !important; }
.solution.admonition { border-left-color: #555; }
.print-widget-note { font-style: italic; color: #444; border-left: 3px solid #999; padding-left: 0.6em; }
table { font-size: 9pt; }
a { color: inherit; text-decoration: none; }
"""

# Run in the composed page before MathJax typesets it: solutions out or open, ids made unique per page,
# links between pages of the document turned into links inside it.
PREPARE = r"""([solutions, pages]) => {
  if (solutions) {
    document.querySelectorAll('.dropdown').forEach(e => e.classList.remove('dropdown'));
    document.querySelectorAll('details').forEach(e => { e.open = true; });
  } else {
    document.querySelectorAll('.solution, .cell.tag_solution').forEach(e => e.remove());
  }
  const included = new Set(pages);
  for (const div of document.querySelectorAll('.print-page')) {
    const page = div.dataset.page;
    div.querySelectorAll('[id]').forEach(e => { e.id = page + '--' + e.id; });
    div.id = 'page--' + page;
  }
  for (const a of document.querySelectorAll('.print-page a[href]')) {
    const raw = a.getAttribute('href');
    const page = a.closest('.print-page').dataset.page;
    const other = raw.match(/^([\w.-]+)\.html(?:#(.*))?$/);
    if (raw.startsWith('#')) {
      a.setAttribute('href', '#' + page + '--' + raw.slice(1));
    } else if (other && included.has(other[1])) {
      a.setAttribute('href', '#' + (other[2] ? other[1] + '--' + other[2] : 'page--' + other[1]));
    } else {
      a.setAttribute('href', a.href);  // absolute, since the document's base is the book's folder
    }
  }
  return document.querySelectorAll('.solution').length;
}"""

_ARTICLE = re.compile(r'<article class="bd-article"[^>]*>(?P<body>.*?)</article>', re.S)
_STYLESHEET = re.compile(r'<link\b[^>]*\brel="stylesheet"[^>]*>')
_MATHJAX_CONFIG = re.compile(r"<script>window\.MathJax = (?P<config>\{.*?\})</script>", re.S)
_MATHJAX_SCRIPT = re.compile(r'<script\b[^>]*\bsrc="(?P<src>[^"]*tex-mml-chtml\.js[^"]*)"[^>]*></script>')
_WIDGET_VIEW = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">.*?</script>', re.S)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)
_TITLE = re.compile(r"<title>(?P<title>.*?)</title>", re.S)
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def article(page_html: str, where: str) -> str:
    """The page's article (what the reader scrolls through), without scripts; widgets become a note."""
    match = _ARTICLE.search(page_html)
    if not match:
        raise SystemExit(f"{where}: no <article class=\"bd-article\"> in the page; is it a Jupyter Book page?")
    return _SCRIPT.sub("", _WIDGET_VIEW.sub(WIDGET_NOTE, match["body"]))


def compose(html: pathlib.Path, stems: list[str], paper: str) -> str:
    """One HTML document holding the articles of ``stems``' pages, to be saved anywhere (its base is the book)."""
    pages = {stem: (html / "book" / f"{stem}.html").read_text(encoding="utf-8") for stem in stems}
    first = pages[stems[0]]
    config_match, script_match = _MATHJAX_CONFIG.search(first), _MATHJAX_SCRIPT.search(first)
    if not script_match:
        raise SystemExit(f"{html}: the pages do not load MathJax (tex-mml-chtml.js)")
    if not script_match["src"].startswith("../_static/"):
        raise SystemExit(f"{html}: the pages load MathJax from {script_match['src']}, not from the book: "
                         "build the book with npm installed (see _ext/offline_web.py)")
    config = json.loads(config_match["config"]) if config_match else {}
    config.setdefault("startup", {})["typeset"] = False  # typeset once, after the solutions are settled
    book_title = html_lib.unescape(_TITLE.search(first)["title"]).split(" \u2014 ")[-1]
    body = "\n".join(f'<div class="print-page" data-page="{stem}">{article(text, stem)}</div>'
                     for stem, text in pages.items())
    links = "\n".join(_STYLESHEET.findall(first))
    return f"""<!DOCTYPE html>
<html lang="en" data-theme="light" data-mode="light">
<head>
<meta charset="utf-8">
<base href="{(html / 'book').as_uri()}/">
<title>{html_lib.escape(book_title)}</title>
{links}
<style>{PRINT_CSS % {"paper": paper}}</style>
<script>window.MathJax = {json.dumps(config)}</script>
<script defer src="{script_match['src']}"></script>
</head>
<body>
<main class="bd-main print-book"><div class="bd-article-container"><article class="bd-article">
{body}
</article></div></main>
</body>
</html>
"""


def footer(title: str) -> str:
    return (f'<div style="font-size:8pt;width:100%;padding:0 16mm;display:flex;justify-content:space-between;'
            f'color:#555"><span>{html_lib.escape(title)}</span>'
            '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>')


def print_pdf(browser, document: pathlib.Path, pdf: pathlib.Path, stems: list[str], solutions: bool,
              paper: str, title: str) -> dict:
    """Open the composed ``document`` offline, settle and typeset it, and print it to ``pdf``."""
    context, page, refused = built_book.offline_page(browser, viewport={"width": 1000, "height": 1400})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(document.as_uri(), wait_until="load")
        solutions_left = page.evaluate(PREPARE, [solutions, stems])
        if not page.evaluate(built_book.MATHJAX_DONE):
            raise SystemExit(f"{document}: MathJax did not load")
        broken = page.evaluate(built_book.IMAGES_LOADED)
        raw = page.evaluate(built_book.RAW_TEX, "main")
        problems = ([f"asked the network for {refused[:3]}"] if refused else []) + \
                   ([f"images that did not load: {broken[:3]}"] if broken else []) + \
                   ([f"raw TeX left after typesetting: {raw[:3]}"] if raw else []) + \
                   ([f"JavaScript errors: {errors[:3]}"] if errors else [])
        if problems:
            raise SystemExit(f"{document.name}: " + "; ".join(problems))
        page.emulate_media(media="print")
        page.pdf(path=str(pdf), format=paper, print_background=True, prefer_css_page_size=True,
                 display_header_footer=True, header_template="<span></span>", footer_template=footer(title),
                 outline=True)
    finally:
        context.close()
    return {"solutions": solutions_left}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-chapter", action="store_true", help="one PDF per chapter, NN_topic.pdf")
    parser.add_argument("--chapters", nargs="+", metavar="NN",
                        help="with --per-chapter: only these chapters (their numbers, as 01 or 1)")
    parser.add_argument("--solutions", action="store_true", help="print the solutions, expanded")
    parser.add_argument("--html", type=pathlib.Path,
                        help="an already built book's HTML folder (default: _build/html, built if needed)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="where the PDFs go (default: %(default)s)")
    parser.add_argument("--paper", choices=["A4", "Letter"], default="A4", help="paper size (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.chapters and not args.per_chapter:
        parser.error("--chapters needs --per-chapter")

    chapters = built_book.chapter_stems()
    if args.per_chapter:
        wanted = {f"{int(n):02d}" for n in args.chapters} if args.chapters else None
        unknown = (wanted or set()) - {stem[:2] for stem in chapters}
        if unknown:
            parser.error(f"no chapter numbered {', '.join(sorted(unknown))}; the chapters are "
                         f"{', '.join(stem[:2] for stem in chapters)}")
        documents = [(stem, [stem]) for stem in chapters if wanted is None or stem[:2] in wanted]
    else:
        documents = [("book", built_book.printed_stems())]
    html = built_book.built_html(args.html, sorted({s for _, stems in documents for s in stems}))

    out = args.out.resolve()
    scratch = out / ".print"
    scratch.mkdir(parents=True, exist_ok=True)
    with built_book.offline_browser() as browser:
        for name, stems in documents:
            start = time.perf_counter()
            document = scratch / f"{name}{'-solutions' if args.solutions else ''}.html"
            document.write_text(compose(html, stems, args.paper), encoding="utf-8")
            pdf = out / f"{name}{'-solutions' if args.solutions else ''}.pdf"
            title = html_lib.unescape(_TITLE.search((html / "book" / f"{stems[0]}.html").read_text(
                encoding="utf-8"))["title"]).split(" \u2014 ")[0 if args.per_chapter else -1]
            result = print_pdf(browser, document, pdf, stems, args.solutions, args.paper, title)
            which = f"with {result['solutions']} solutions" if args.solutions else "without solutions"
            sheets = len(_PDF_PAGE.findall(pdf.read_bytes()))  # Chromium writes one page object per sheet
            print(f"{pdf}: {sheets} pages from {len(stems)} page(s) of the book, {which}, "
                  f"{pdf.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
