"""Time every chapter in the book's JupyterLite site, in headless Chromium with the network off.

Run from the repository root after building the book (not a test; pytest does not collect it)::

    python benchmarks/lite.py                         # every chapter, the book in _build/html
    python benchmarks/lite.py --html /tmp/x/_build/html 01 05

For each chapter it opens the chapter page, follows the JupyterLite launch
button, waits for the Pyodide kernel, runs all cells and, in the chapters with
live widgets, drags a slider (``tests/lite_site.py`` does the driving).  It
prints a table: the seconds until the kernel was idle, the seconds of *Run
all*, whether the run was clean (no error output) and whether the slider
redrew, and how many megabytes the browser fetched for the first chapter on a
fresh profile (what a reader downloads on a first visit).  The book's target
is a Run all of at most 60 s per chapter on a 2-core machine.  All chapters
run in one browser profile, as a reader would open them one after the other,
so the later ones find Pyodide and the common packages in the browser's cache.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))   # the browser driver shared with tests/test_lite.py

import lite_site  # noqa: E402

TARGET_SECONDS = 60.0
WIDGET_CHAPTERS = {"01_introduction", "02_vanishing_gradients", "03_gated_architectures", "04_lstm_anatomy"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter numbers or names (default: all)")
    parser.add_argument("--html", default=str(ROOT / "_build" / "html"), help="the built book's HTML folder")
    parser.add_argument("--per-cell", action="store_true",
                        help="run the cells one at a time and print the slowest ones of each chapter")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chapters = [c for c in lite_site.CHAPTERS if not args.chapters or any(c.startswith(w) for w in args.chapters)]
    html = pathlib.Path(args.html)
    if not (html / "lite" / "lab" / "index.html").exists():
        raise SystemExit(f"{html} has no JupyterLite site: build the book first (jupyter-book build .)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# {platform.node()}, {os.cpu_count()} cores, load average {load:.1f}, {time.strftime('%Y-%m-%d %H:%M')}")
    served, rows, first_visit = {}, [], None
    with lite_site.serve(html, served) as base, sync_playwright() as p, lite_site.browser_context(p, base) as ctx:
        for chapter in chapters:
            try:
                r = lite_site.run_chapter(ctx, base, chapter, timeout=600, slider=chapter in WIDGET_CHAPTERS,
                                         per_cell=args.per_cell)
            except TimeoutError as exc:
                r = {"chapter": chapter, "kernel_s": float("nan"), "run_all_s": float("nan"), "errors": [str(exc)],
                     "redrew": False}
            if first_visit is None:
                first_visit = sum(served.values())
            rows.append(r)
            print(f"{chapter}: kernel {r['kernel_s']:.1f} s, run all {r['run_all_s']:.1f} s", file=sys.stderr)
            for c in sorted(r.get("cells_s") or [], key=lambda c: -c["seconds"])[:6]:
                print(f"    cell {c['index']:3d}: {c['seconds']:6.1f} s  {c['first_line'][:70]}", file=sys.stderr)
        external = list(ctx.external)
    print("| chapter | kernel ready | Run all | clean | slider redraws |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        slider = ("yes" if r["redrew"] else "NO") if r["chapter"] in WIDGET_CHAPTERS else "(no widget)"
        over = " (over target)" if r["run_all_s"] > TARGET_SECONDS else ""
        print(f"| {r['chapter']} | {r['kernel_s']:.0f} s | {r['run_all_s']:.0f} s{over} | "
              f"{'yes' if not r['errors'] else 'NO: ' + str(r['errors'][:1])} | {slider} |")
    print(f"\nfirst visit (chapter page and {rows[0]['chapter']} in JupyterLite, fresh profile): "
          f"{first_visit / 1e6:.0f} MB; all chapters: {sum(served.values()) / 1e6:.0f} MB served")
    print(f"requests off the machine: {len(external)}")
    return 0 if all(not r["errors"] for r in rows) and not external else 1


if __name__ == "__main__":
    sys.exit(main())
