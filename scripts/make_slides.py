"""Write one reveal.js slide deck per chapter, from the cells tagged ``slide``, that runs with no network.

Usage (from the repository root):

    python scripts/make_slides.py                       # _build/slides/01_introduction.html, ... every chapter
    python scripts/make_slides.py --chapters 01 03      # only these
    python scripts/make_slides.py --out /tmp/decks --html _build/html

Open a deck in a browser (``file://`` is enough) and use the arrow keys;
``f`` goes full screen, ``Esc`` shows all the slides at once.

A deck holds a title slide, then one slide per cell tagged ``slide`` in the
chapter, in the chapter's order:

- a **markdown** cell is rendered from its MyST source: text, tables and
  math (typeset by MathJax, numbered as in the book), with the book's
  cross-references (``{numref}``, ``{eq}``, ``{ref}``) and citations given
  the numbers and names the book gives them;
- a **code** cell that draws a named figure (``mystnb: figure: name``) shows
  that figure with its numbered caption, taken from the built book; a code
  cell with other outputs shows its images, or else its code and printed text.

The numbers come from the built HTML book (``_build/html``, built first if it
is missing or out of date, or given with ``--html``). reveal.js and MathJax
come from npm, pinned by version and sha512 integrity (``SLIDE_PACKAGES`` in
``_ext/offline_web.py``), are fetched once into ``_build/.slide_assets`` and
copied next to the decks (``assets/``); the images are inside each deck. The
folder of decks can be copied to a classroom machine as it is.

To tag a cell, in the chapter's Markdown source ``book/myst/NN_topic.md``:
a code cell gets ``:tags: [slide]`` in its options, a markdown cell a line
``+++ {"tags": ["slide"]}`` above it; then
``python scripts/execute_notebooks.py --sync-only book/myst/NN_topic.md``.
"""

from __future__ import annotations

import argparse
import base64
import html as html_lib
import importlib.util
import json
import mimetypes
import pathlib
import re
import shutil
import subprocess
import sys

import built_book  # beside this script: on the path when it is run as a script
import nbformat
from markdown_it import MarkdownIt
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.myst_blocks import myst_block_plugin
from mdit_py_plugins.myst_role import myst_role_plugin

ROOT = built_book.ROOT
DEFAULT_OUT = ROOT / "_build" / "slides"
ASSET_CACHE = ROOT / "_build" / ".slide_assets"
SLIDE_TAG = "slide"

_spec = importlib.util.spec_from_file_location("offline_web", ROOT / "_ext" / "offline_web.py")
offline_web = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(offline_web)


# ----------------------------------------------------------------------------- what the built book numbers

_TAG = re.compile(r"<[^>]+>")
_FIGURE = re.compile(r'<figure\b[^>]*\bid="(?P<id>[^"]+)"[^>]*>(?P<body>.*?)</figure>', re.S)
_CAPTION_NUMBER = re.compile(r'<span class="caption-number">(?P<number>.*?)</span>', re.S)
_EQUATION = re.compile(r'id="equation-(?P<label>[^"]+)">\s*<span class="eqno">(?P<number>\([^<]*\))')
_HEADING = re.compile(r'(?:<span id="(?P<label>[^"]+)"></span>|<section[^>]*\bid="(?P<section>[^"]+)"[^>]*>\s*)'
                      r'<h(?P<level>[1-6])>(?P<title>.*?)</h(?P=level)>', re.S)
_ANY_HEADING = re.compile(r"<h[1-6]>(?P<title>.*?)</h[1-6]>", re.S)
_HTML_HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.S)
_ARTICLE = re.compile(r'<article class="bd-article"[^>]*>(?P<body>.*?)</article>', re.S)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html_lib.unescape(_TAG.sub("", fragment))).replace("#", "").strip()


class BookIndex:
    """Figure, equation and section numbers, and the figures themselves, as the built book has them."""

    def __init__(self, html: pathlib.Path, stems: list[str]):
        self.html = html
        self.figures: dict[str, dict] = {}
        self.equations: dict[str, str] = {}
        self.sections: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        # per page: a heading without its number -> with it ("The task" -> "5.1. The task")
        self.numbered: dict[str, dict[str, str]] = {}
        for stem in stems:
            page = (html / "book" / f"{stem}.html").read_text(encoding="utf-8")
            article = _ARTICLE.search(page)["body"]
            for match in _FIGURE.finditer(article):
                number = _CAPTION_NUMBER.search(match["body"])
                before = _ANY_HEADING.findall(article[:match.start()])
                self.figures[match["id"]] = {"stem": stem, "html": match["body"],
                                             "number": _text(number["number"]) if number else match["id"],
                                             "section": _text(before[-1]) if before else ""}
            for match in _EQUATION.finditer(article):
                self.equations[match["label"]] = match["number"]
            for match in _HEADING.finditer(article):
                label = match["label"] or match["section"]
                self.sections.setdefault(label, _text(match["title"]))
            numbered = self.numbered[stem] = {}
            for match in _ANY_HEADING.finditer(article):
                number = re.match(r'\s*<span class="section-number">(.*?)</span>', match["title"])
                if number:
                    numbered.setdefault(_text(match["title"][number.end():]), _text(match["title"]))
            self.titles[stem] = _text(_ANY_HEADING.search(article)["title"])

    def numref(self, label: str) -> str:
        if label in self.figures:
            return self.figures[label]["number"]
        return self.equations.get(label) or self.sections.get(label) or label


def citations() -> dict[str, tuple[str, str]]:
    """``key -> (authors, year)`` from ``references.bib``, authors as "Elman", "Cho et al."."""
    from pybtex.database import parse_file

    cited = {}
    for key, entry in parse_file(str(ROOT / "references.bib")).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [" ".join(p.last_names) for p in people] or [entry.fields.get("title", key)]
        names = [_TAG.sub("", n).replace("{", "").replace("}", "") for n in names]
        authors = names[0] if len(names) == 1 else (" and ".join(names) if len(names) == 2 else f"{names[0]} et al.")
        cited[key] = (authors, entry.fields.get("year", ""))
    return cited


# ----------------------------------------------------------------------------- markdown cells

_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


class SlideMarkdown:
    """MyST Markdown to HTML for a slide: the book's syntax, with its references resolved by a ``BookIndex``."""

    def __init__(self, index: BookIndex, cited: dict[str, tuple[str, str]]):
        self.index, self.cited = index, cited
        self.glued: dict[str, str] = {}  # the chapter's glued values (``glue:text`` roles), set per chapter
        self.skipped: list[str] = []
        md = MarkdownIt("commonmark").enable("table")
        dollarmath_plugin(md, allow_labels=True, allow_space=True, allow_digits=True, double_inline=True)
        amsmath_plugin(md)
        myst_role_plugin(md)
        myst_block_plugin(md)
        colon_fence_plugin(md)
        # Rules set on the renderer directly are called as rule(tokens, idx, options, env).
        rules = md.renderer.rules
        rules["math_inline"] = lambda tokens, idx, *_: rf"\({html_lib.escape(tokens[idx].content)}\)"
        for display in ("math_inline_double", "math_block", "math_block_label"):
            rules[display] = self._display
        rules["amsmath"] = lambda tokens, idx, *_: (
            f'<div class="math display">{html_lib.escape(tokens[idx].content)}</div>\n')
        rules["myst_role"] = self._role
        for quiet in ("myst_target", "myst_line_comment", "myst_block_break"):
            rules[quiet] = lambda *_: ""
        rules["fence"] = rules["colon_fence"] = self._fence
        self.md = md

    def render(self, source: str) -> str:
        return self.md.render(source)

    def _display(self, tokens, idx, *_):
        token = tokens[idx]
        number = self.index.equations.get(token.info) if token.type == "math_block_label" else None
        tag = rf" \tag{{{number.strip('()')}}}" if number else ""
        return f'<div class="math display">\\[{html_lib.escape(token.content.strip())}{tag}\\]</div>\n'

    def _role(self, tokens, idx, *_):
        name, content = tokens[idx].meta["name"], tokens[idx].content
        explicit = _EXPLICIT.match(content)
        text, target = (explicit["text"], explicit["target"]) if explicit else (None, content)
        if name == "numref":
            number = self.index.numref(target)
            shown = text.replace("%s", number.split()[-1]).replace("{number}", number.split()[-1]) if text else number
        elif name == "eq":
            shown = self.index.equations.get(target, target)
        elif name == "ref":
            shown = text or self.index.sections.get(target, target)
        elif name.startswith("cite"):
            keys = [k.strip() for k in target.split(",")]
            found = [self.cited.get(k, (k, "")) for k in keys]
            if name == "cite:t":
                shown = "; ".join(f"{a} ({y})" for a, y in found)
            else:
                shown = "[" + "; ".join(f"{a}, {y}" for a, y in found) + "]"
        elif name == "math":
            return rf"\({html_lib.escape(content)}\)"
        elif name.startswith("glue"):
            shown = self._glue(content)
        else:  # term, doc, abbr ...: the text the reader sees
            shown = text or target
        return f'<span class="ref">{html_lib.escape(shown)}</span>'

    def _glue(self, content: str) -> str:
        """A glued value as the book shows it: ``name`` or ``name:format`` (a Python format spec)."""
        key, _, spec = content.partition(":")
        if key not in self.glued:
            raise SystemExit(f"no glued value {key!r} in the chapter's outputs: run the chapter first")
        value = self.glued[key]
        if not spec:
            return value.strip("'\"")
        number = float(value)
        return format(int(number) if spec.endswith("d") else number, spec)

    def _fence(self, tokens, idx, *_):
        token = tokens[idx]
        directive = re.match(r"^\{(?P<name>[a-z:-]+)\}", token.info.strip())
        if not directive:
            return f"<pre><code>{html_lib.escape(token.content)}</code></pre>\n"
        if directive["name"] == "math":
            body = "\n".join(line for line in token.content.splitlines() if not line.startswith(":"))
            return f'<div class="math display">\\[{html_lib.escape(body.strip())}\\]</div>\n'
        self.skipped.append(directive["name"])
        return ""


# ----------------------------------------------------------------------------- code cells

def _data_uri(path: pathlib.Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def figure_slide(index: BookIndex, name: str) -> str:
    """The book's figure ``name``: its image inside the deck, its numbered caption, its section as the title."""
    figure = index.figures[name]
    body = figure["html"]
    for src in set(re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', body)):
        body = body.replace(f'src="{src}"', f'src="{_data_uri((index.html / "book" / src).resolve())}"')
    body = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", body, flags=re.S)
    body = re.sub(r"<a\b[^>]*>(.*?)</a>", r"\1", body, flags=re.S)  # links into the web book lead nowhere here
    title = f"<h3>{html_lib.escape(figure['section'])}</h3>" if figure["section"] else ""
    return f'{title}<figure class="slide-figure">{body}</figure>'


def outputs_slide(cell) -> str:
    """A code cell without a named figure: its images, or else its code and what it printed."""
    images = [(out["data"]["image/png"], cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "figure"))
              for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
    if images:
        return "".join(f'<figure class="slide-figure"><img src="data:image/png;base64,{png.strip()}" '
                       f'alt="{html_lib.escape(alt)}"></figure>' for png, alt in images)
    printed = "".join(out.get("text", "") if out.get("output_type") == "stream"
                      else out.get("data", {}).get("text/plain", "") for out in cell.get("outputs", []))
    code = f'<pre class="slide-code"><code>{html_lib.escape(cell.source)}</code></pre>'
    return code + (f'<pre class="slide-output">{html_lib.escape(printed)}</pre>' if printed.strip() else "")


# ----------------------------------------------------------------------------- the deck

DECK_CSS = """
.reveal { font-size: 30px; }
.reveal .slides section { text-align: left; height: 100%; box-sizing: border-box; }
.reveal .slides section.title-slide { text-align: center; }
.reveal h1 { font-size: 1.8em; } .reveal h2 { font-size: 1.35em; } .reveal h3 { font-size: 1.1em; }
.reveal h1, .reveal h2, .reveal h3 { text-transform: none; }
.reveal p, .reveal li { line-height: 1.3; }
.reveal table { font-size: 0.7em; margin: 0.4em auto; }
.reveal .math.display { margin: 0.5em 0; text-align: center; }
.reveal figure.slide-figure { margin: 0; text-align: center; }
.reveal figure.slide-figure img { max-height: 520px; max-width: 100%; margin: 0 auto; object-fit: contain; }
.reveal figcaption { font-size: 0.55em; line-height: 1.3; color: #333; text-align: left; margin-top: 0.3em; }
.reveal .caption-number { font-weight: bold; }
.reveal pre.slide-code, .reveal pre.slide-output { font-size: 0.5em; width: 100%; box-shadow: none; }
.reveal pre.slide-output { background: #f5f5f5; padding: 0.4em; white-space: pre-wrap; }
.reveal .ref { white-space: nowrap; }
.reveal .subtitle { font-size: 0.8em; color: #555; }
"""

# After MathJax has typeset the deck: shrink the text of any slide that overflows until it fits,
# then let reveal.js lay the slides out again and mark the deck ready.
FIT_AND_READY = """
function fitSlides() {
  const height = Reveal.getConfig().height;
  for (const slide of document.querySelectorAll('.reveal .slides > section')) {
    let size = 100;
    slide.style.fontSize = '';
    while (slide.scrollHeight > height && size > 45) { size -= 5; slide.style.fontSize = size + '%'; }
  }
  Reveal.layout();
}
Reveal.initialize({hash: true, slideNumber: 'c/t', center: false, width: 1280, height: 760, margin: 0.04,
                   viewDistance: 100, transition: 'none'}).then(() => {
  const typeset = window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve();
  return typeset.then(fitSlides);
}).then(() => { document.body.dataset.deckReady = 'true'; });
"""


def deck(title: str, subtitle: str, slides: list[str]) -> str:
    sections = "\n".join(f"<section>\n{s}\n</section>" for s in slides)
    mathjax_config = {"tex": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "tags": "none"},
                      "options": {"ignoreHtmlClass": "tex2jax_ignore"}}
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html_lib.escape(title)}</title>
<link rel="stylesheet" href="assets/reveal.js/reset.css">
<link rel="stylesheet" href="assets/reveal.js/reveal.css">
<link rel="stylesheet" href="assets/reveal.js/theme/white.css">
<style>{DECK_CSS}</style>
<script>window.MathJax = {json.dumps(mathjax_config)};</script>
<script defer src="assets/mathjax/tex-mml-chtml.js"></script>
</head>
<body>
<div class="reveal"><div class="slides">
<section class="title-slide"><h1>{html_lib.escape(title)}</h1><p class="subtitle">{html_lib.escape(subtitle)}</p></section>
{sections}
</div></div>
<script src="assets/reveal.js/reveal.js"></script>
<script>{FIT_AND_READY}</script>
</body>
</html>
"""


def glued_values(nb) -> dict[str, str]:
    """``name -> text`` of every value the notebook glued (myst-nb's ``glue``), from its stored outputs."""
    glued = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            record = out.get("metadata", {}).get("scrapbook")
            if record:
                glued[record["name"]] = out["data"].get(record.get("mime_prefix", "") + "text/plain", "")
    return glued


def chapter_slides(stem: str, index: BookIndex, markdown: SlideMarkdown) -> list[str]:
    """The slides of one chapter, one per tagged cell."""
    nb = nbformat.read(ROOT / "book" / f"{stem}.ipynb", as_version=4)
    markdown.glued = glued_values(nb)
    slides = []
    for cell in nb.cells:
        if SLIDE_TAG not in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            slides.append(_HTML_HEADING.sub(lambda m: f"<h{m[1]}>{index.numbered[stem].get(_text(m[2]), m[2])}</h{m[1]}>",
                                            markdown.render(cell.source)))
            continue
        name = cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
        if name and name not in index.figures:
            raise SystemExit(f"{stem}: figure {name!r} is not in the built book: rebuild it (jupyter-book build .)")
        slides.append(figure_slide(index, name) if name else outputs_slide(cell))
    return slides


def copy_assets(out: pathlib.Path) -> None:
    """reveal.js and MathJax next to the decks, fetched from npm once and copied when they changed."""
    static = offline_web.web_assets(ASSET_CACHE, offline_web.SLIDE_PACKAGES)
    stamp, target = ASSET_CACHE / "packages.json", out / "assets"
    if (target / "packages.json").exists() and (target / "packages.json").read_text() == stamp.read_text():
        return
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(static, target)
    shutil.copy2(stamp, target / "packages.json")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", nargs="+", metavar="NN", help="only these chapters (their numbers, as 01 or 1)")
    parser.add_argument("--html", type=pathlib.Path,
                        help="an already built book's HTML folder (default: _build/html, built if needed)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="where the decks go (default: %(default)s)")
    args = parser.parse_args(argv)

    chapters = built_book.chapter_stems()
    wanted = {f"{int(n):02d}" for n in args.chapters} if args.chapters else {stem[:2] for stem in chapters}
    unknown = wanted - {stem[:2] for stem in chapters}
    if unknown:
        parser.error(f"no chapter numbered {', '.join(sorted(unknown))}; the chapters are "
                     f"{', '.join(stem[:2] for stem in chapters)}")
    html = built_book.built_html(args.html, chapters)
    index = BookIndex(html, chapters)
    markdown = SlideMarkdown(index, citations())
    first_page = (html / "book" / f"{chapters[0]}.html").read_text(encoding="utf-8")
    book_title = html_lib.unescape(re.search(r"<title>(.*?)</title>", first_page, re.S)[1]).split(" \u2014 ")[-1]

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        copy_assets(out)
    except (RuntimeError, OSError, ValueError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"reveal.js and MathJax could not be fetched from npm ({exc}); install Node.js and npm")
    empty = []
    for stem in chapters:
        if stem[:2] not in wanted:
            continue
        slides = chapter_slides(stem, index, markdown)
        if not slides:
            empty.append(stem)
        path = out / f"{stem}.html"
        path.write_text(deck(index.titles[stem], book_title, slides), encoding="utf-8")
        print(f"{path}: a title slide and {len(slides)} from tagged cells", flush=True)
    if markdown.skipped:
        print(f"directives left out of the slides: {', '.join(sorted(set(markdown.skipped)))}", file=sys.stderr)
    if empty:
        print(f"no cell tagged {SLIDE_TAG!r} in {', '.join(empty)}: their decks hold only a title slide",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
