"""The built HTML book, and a Chromium that reads it offline: shared by ``make_pdf.py`` and ``make_slides.py``.

Both scripts start from the book as ``jupyter-book build .`` writes it
(``_build/html``): the PDF prints its pages, the slides take their figure
and equation numbers from it.  ``built_html`` reuses that build when it is
at least as new as every page's source, and runs the build otherwise.

``offline_browser`` opens Debian's Chromium through Playwright, as
``tests/test_browser.py`` does, and refuses every request that is not for a
local file, so whatever is printed or shown was rendered without a network.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_HTML = ROOT / "_build" / "html"
# The part of the table of contents, besides the numbered chapters, that goes into the printed book.
BACK_MATTER = "Back matter"

# Let MathJax finish its first typesetting, then typeset whatever is left; false if the page has no MathJax.
MATHJAX_DONE = """async () => {
  if (!window.MathJax) { return false; }
  if (MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  if (MathJax.typesetPromise) { await MathJax.typesetPromise(); }
  return true;
}"""

# Resolve once every image of the page has loaded (or failed).
IMAGES_LOADED = """async () => {
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
    new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); })));
  return Array.from(document.images).filter(img => !(img.naturalWidth > 0)).map(img => img.getAttribute('src'));
}"""

# Text outside code and typeset math, where no TeX delimiter may survive: a few characters around each one left.
RAW_TEX = r"""(root) => {
  const skip = 'pre, code, .highlight, mjx-container, script, style';
  const walker = document.createTreeWalker(root ? document.querySelector(root) : document.body, NodeFilter.SHOW_TEXT,
    {acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const found = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    for (const d of ['\\(', '\\[', '$$']) {
      const k = n.data.indexOf(d);
      if (k >= 0) { found.push(n.data.slice(Math.max(0, k - 40), k + 40).replace(/\s+/g, ' ')); }
    }
  }
  return found;
}"""


def toc() -> dict:
    return yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))


def chapter_stems() -> list[str]:
    """The numbered chapters, in the order of the table of contents: ``["01_introduction", ...]``."""
    return [pathlib.PurePosixPath(entry["file"]).name
            for part in toc()["parts"] if part.get("numbered")
            for entry in part["chapters"]]


def printed_stems() -> list[str]:
    """The pages of the printed book: the landing page, the numbered chapters, the back matter."""
    contents = toc()
    stems = [pathlib.PurePosixPath(contents["root"]).name]
    for part in contents["parts"]:
        if part.get("numbered") or part.get("caption") == BACK_MATTER:
            stems += [pathlib.PurePosixPath(entry["file"]).name for entry in part["chapters"]]
    return stems


def _source(stem: str) -> pathlib.Path:
    for suffix in (".ipynb", ".md"):
        if (ROOT / "book" / f"{stem}{suffix}").exists():
            return ROOT / "book" / f"{stem}{suffix}"
    raise FileNotFoundError(f"no book/{stem}.ipynb or book/{stem}.md")


def stale_pages(html: pathlib.Path, stems: list[str]) -> list[str]:
    """The pages whose HTML is missing or older than their source."""
    stale = []
    for stem in stems:
        page = html / "book" / f"{stem}.html"
        if not page.exists() or page.stat().st_mtime < _source(stem).stat().st_mtime:
            stale.append(stem)
    return stale


def built_html(html: pathlib.Path | None, stems: list[str]) -> pathlib.Path:
    """The built book's HTML folder.

    A folder that is named is used as it is.  Without one, ``_build/html`` is
    used, after ``jupyter-book build .`` if it is missing or any of ``stems``
    is older than its source (Sphinx rebuilds only what changed).
    """
    if html is not None:
        html = html.resolve()
        if not (html / "index.html").exists():
            raise SystemExit(f"{html} holds no built book (no index.html)")
        return html
    stale = stale_pages(DEFAULT_HTML, stems)
    if stale:
        jupyter_book = pathlib.Path(sys.executable).parent / "jupyter-book"
        command = [str(jupyter_book if jupyter_book.exists() else "jupyter-book"), "build", str(ROOT)]
        print(f"building the book first ({', '.join(stale[:3])}{' ...' if len(stale) > 3 else ''} "
              f"not built or out of date): {' '.join(command)}", flush=True)
        subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return DEFAULT_HTML


def chromium() -> str:
    """Path of the system Chromium (``CHROMIUM`` overrides); exits with advice if there is none."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise SystemExit("Chromium is not installed: apt-get install chromium (Debian's package)")
    return found


@contextlib.contextmanager
def offline_browser():
    """A headless Chromium driven by Playwright, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            yield browser
        finally:
            browser.close()


def offline_page(browser, **context_options):
    """A new page whose requests for anything but a local file are refused.

    Returns ``(context, page, refused)``; ``refused`` collects the URLs that were
    asked for and refused.  Close the context when done.
    """
    context = browser.new_context(**context_options)
    refused: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context, context.new_page(), refused
