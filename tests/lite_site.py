"""Drive the book's JupyterLite site in headless Chromium: serve it, open a chapter, run all, move a slider.

Used by ``tests/test_lite.py`` (which checks the results) and ``benchmarks/lite.py``
(which prints the per-chapter times).  The built book is served on 127.0.0.1 by
Python's ``http.server``, the same server the teacher's guide tells a classroom
to use, and every request that does not go to that address is refused and recorded.

The site sets ``exposeAppInBrowser`` (``_ext/offline_pyodide.py``), so the page has
``window.jupyterapp``: the driver runs JupyterLab's own commands through it and
reads the notebook's outputs from its model, instead of guessing at the screen.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import pathlib
import shutil
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))

# The current notebook's kernel status, or null while the notebook or its kernel is not there yet.
KERNEL_STATUS = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return kernel ? kernel.status : null;
}"""

# Run every cell; resolves when JupyterLab has executed them all.
RUN_ALL = """async () => {
  const app = window.jupyterapp;
  await app.commands.execute('notebook:run-all-cells');
  return true;
}"""

# Run the code cells one at a time, in order; returns each one's index, seconds and first line.
RUN_EACH = """async () => {
  const app = window.jupyterapp;
  const notebook = app.shell.currentWidget.content;
  const times = [];
  for (let i = 0; i < notebook.widgets.length; i++) {
    const cell = notebook.widgets[i].model;
    if (cell.type !== 'code') { continue; }
    notebook.activeCellIndex = i;
    const start = performance.now();
    await app.commands.execute('notebook:run-cell');
    times.push({index: i, seconds: (performance.now() - start) / 1000, first_line: cell.sharedModel.getSource().split('\\n')[0]});
  }
  return times;
}"""

# Every code cell's outputs: output types, error names and values, stderr text.
OUTPUTS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  const out = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') { continue; }
    const outputs = cell.outputs.toJSON();
    out.push({index: i, count: cell.executionCount, outputs: outputs.map(o => ({
      type: o.output_type, name: o.name || null, ename: o.ename || null, evalue: o.evalue || null,
      text: o.output_type === 'stream' ? String(Array.isArray(o.text) ? o.text.join('') : o.text) : null,
    }))});
  }
  return out;
}"""


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    """``python -m http.server``'s handler, silent, adding up the bytes of every file it sends."""

    served: dict

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def copyfile(self, source, outputfile):
        data = source.read()
        outputfile.write(data)
        self.served[self.path.split("?")[0]] = self.served.get(self.path.split("?")[0], 0) + len(data)


@contextlib.contextmanager
def serve(html: pathlib.Path, served: dict | None = None):
    """Serve ``html`` on 127.0.0.1 (a free port) while the block runs; yields the base URL.

    ``served``, if given, collects the bytes sent per path.
    """
    counting = type("Handler", (_CountingHandler,), {"served": {} if served is None else served})
    handler = functools.partial(counting, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def browser_context(playwright, base_url: str):
    """A Chromium context that refuses (and records in ``context.external``) every request off ``base_url``."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.external = []

    def route(r):
        if r.request.url.startswith(base_url) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            context.external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    # A request that escaped the route (one from a worker, say) is recorded too.
    context.on("request", lambda req: None if req.url.startswith((base_url, "data:", "blob:"))
               or req.url in context.external else context.external.append(req.url))
    try:
        yield context
    finally:
        context.close()
        browser.close()


def _wait(page, predicate, timeout: float, what: str, poll: float = 0.25):
    """Poll ``predicate(page)`` until it returns a true value; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate(page)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done after {timeout:.0f} s")
        page.wait_for_timeout(poll * 1000)


def launch_url(page, base_url: str, chapter: str) -> str:
    """The chapter page's JupyterLite launch button's address (the page is opened to find it)."""
    page.goto(f"{base_url}book/{chapter}.html", wait_until="load")
    link = page.locator('a[href*="lite/lab/index.html?path="]').first
    href = link.get_attribute("href")
    if not href:
        raise AssertionError(f"{chapter}: the page has no JupyterLite launch button")
    return page.evaluate("(h) => new URL(h, document.baseURI).href", href)


def _widget_figures(page) -> list[str]:
    """The images inside the notebook's live widgets (``ipywidgets.interactive`` containers)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.jp-Notebook .widget-interact img'))
      .map(e => e.getAttribute('src'))""")


def move_a_slider(page, timeout: float = 30.0) -> dict:
    """Drag the first slider of the notebook's first live widget; report whether that widget's figure changed."""
    handles = page.locator(".jp-Notebook .widget-interact .noUi-handle:visible")
    if handles.count() == 0:
        return {"sliders": 0, "redrew": False, "seconds": 0.0}
    before = _widget_figures(page)
    handle = handles.first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    start = time.monotonic()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    try:
        _wait(page, lambda p: _widget_figures(p) != before
              and p.evaluate(KERNEL_STATUS) == "idle", timeout, "the slider's redraw")
        redrew = True
    except TimeoutError:
        redrew = False
    return {"sliders": handles.count(), "redrew": redrew, "seconds": time.monotonic() - start}


def run_chapter(context, base_url: str, chapter: str, timeout: float = 300.0, slider: bool = True,
                per_cell: bool = False) -> dict:
    """Open ``chapter`` through its launch button, wait for the kernel, run all, and report.

    Returns the seconds until the kernel was idle (``kernel_s``) and for Run all
    (``run_all_s``), the error outputs, the stderr text, and the slider's result.
    With ``per_cell`` the code cells are run one at a time instead of by Run
    all, and ``cells_s`` lists each one's index, seconds and first line.
    """
    page = context.new_page()
    console_errors = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    try:
        url = launch_url(page, base_url, chapter)
        start = time.monotonic()
        page.goto(url, wait_until="load")
        _wait(page, lambda p: p.evaluate(KERNEL_STATUS) == "idle", 120, f"{chapter}: the kernel")
        kernel_s = time.monotonic() - start
        start = time.monotonic()
        cells_s = page.evaluate(RUN_EACH) if per_cell else page.evaluate(RUN_ALL) and None
        # The command returns once every cell has run; the kernel may still be sending the last outputs.
        _wait(page, lambda p: p.evaluate(KERNEL_STATUS) == "idle", timeout, f"{chapter}: run all")
        run_all_s = time.monotonic() - start
        cells = page.evaluate(OUTPUTS)
        errors = [(c["index"], o["ename"], o["evalue"]) for c in cells for o in c["outputs"] if o["type"] == "error"]
        stderr = [(c["index"], o["text"]) for c in cells for o in c["outputs"]
                  if o["type"] == "stream" and o["name"] == "stderr"]
        not_run = [c["index"] for c in cells if c["count"] is None]
        moved = move_a_slider(page) if slider else {"sliders": 0, "redrew": False, "seconds": 0.0}
        return {"chapter": chapter, "kernel_s": kernel_s, "run_all_s": run_all_s, "errors": errors,
                "stderr": stderr, "not_run": not_run, "cells": len(cells), "page_errors": console_errors,
                "cells_s": cells_s, **moved}
    finally:
        page.close()
