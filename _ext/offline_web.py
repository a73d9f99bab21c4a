"""Sphinx extension: serve MathJax and the Jupyter widget scripts from the book itself.

By default a Jupyter Book page loads MathJax, require.js and the Jupyter
widgets HTML manager from content delivery networks, so offline the equations
show as raw LaTeX and widgets stay blank.  This extension takes the three
from their npm packages instead, pinned by version and checked against their
published sha512 integrity, unpacks the files the pages need into
``_build/.web_assets/static`` once, and points the pages at the local copies.

It needs ``npm`` (Node.js) the first time; later builds reuse the unpacked
files.  ``scripts/make_slides.py`` fetches reveal.js and MathJax for its
decks with the same function (``SLIDE_PACKAGES``).  Without ``npm`` the build warns (an error under ``-W``) and falls back
to the CDN scripts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
import shutil
import subprocess
import tarfile
import tempfile

from sphinx.util import logging

logger = logging.getLogger(__name__)

# npm package -> (integrity published by the registry, member prefix in the tarball, folder under _static)
PACKAGES = {
    "mathjax@3.2.2": (
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        "package/es5/",
        "mathjax",
    ),
    "@jupyter-widgets/html-manager@1.0.15": (
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        "package/dist/",
        # The manager loads its icon fonts from <cdn>/@jupyter-widgets/html-manager/dist/, so it lives there.
        "@jupyter-widgets/html-manager/dist",
    ),
    "requirejs@2.3.8": (
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        "package/require.js",
        "requirejs",
    ),
}
# The slide decks of scripts/make_slides.py: reveal.js and the same MathJax, served from the decks' folder.
SLIDE_PACKAGES = {
    "mathjax@3.2.2": PACKAGES["mathjax@3.2.2"],
    "reveal.js@5.2.1": (
        "sha512-r7//6mIM5p34hFiDMvYfXgyjXqGRta+/psd9YtytsgRlrpRzFv4RbH76TXd2qD+7ZPZEbpBDhdRhJaFgfQ7zNQ==",
        "package/dist/",
        "reveal.js",
    ),
}
MATHJAX_PATH = "mathjax/tex-mml-chtml.js"
WIDGET_MANAGER = "@jupyter-widgets/html-manager/dist/embed-amd.js"
WIDGET_SCRIPTS = {"requirejs/require.js": {}, WIDGET_MANAGER: {}}


def _integrity(path: pathlib.Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _unpack(spec: str, entry: tuple[str, str, str], static: pathlib.Path) -> None:
    """Fetch one npm package with ``npm pack``, check it, and unpack what the pages need."""
    integrity, prefix, folder = entry
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", tmp],
                                check=True, capture_output=True, text=True)
        tarball = pathlib.Path(tmp) / json.loads(result.stdout)[0]["filename"]
        if _integrity(tarball) != integrity:
            raise RuntimeError(f"{spec}: the downloaded package does not match its pinned sha512 integrity")
        target = static / folder
        shutil.rmtree(target, ignore_errors=True)
        with tarfile.open(tarball) as tar:
            for member in tar.getmembers():
                if not member.isfile() or not member.name.startswith(prefix) or member.name.endswith(".map"):
                    continue
                relative = member.name[len(prefix):] or pathlib.PurePosixPath(member.name).name
                dest = target / relative
                dest.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src:
                    dest.write_bytes(src.read())


def web_assets(cache: pathlib.Path, packages: dict | None = None) -> pathlib.Path:
    """The folder of unpacked assets, fetching whatever is missing; raises if it cannot.

    ``packages`` has the form of ``PACKAGES`` (the book's, the default); a cache
    folder holds one such set, so another set (``SLIDE_PACKAGES``) needs a folder of its own.
    """
    packages = PACKAGES if packages is None else packages
    static = cache / "static"
    stamp = cache / "packages.json"
    wanted = {spec: list(entry) for spec, entry in sorted(packages.items())}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return static
    if shutil.which("npm") is None:
        raise RuntimeError("npm (Node.js) was not found")
    for spec, entry in wanted.items():
        _unpack(spec, tuple(entry), static)
    stamp.write_text(json.dumps(wanted))
    return static


def _configure(app, config) -> None:
    cache = pathlib.Path(app.outdir).parent / ".web_assets"
    try:
        static = web_assets(cache)
    except (RuntimeError, subprocess.CalledProcessError, OSError, ValueError) as exc:
        logger.warning(
            "offline web assets unavailable (%s): pages will load MathJax and the widget scripts "
            "from the internet. Install Node.js and npm to build a book that works offline.", exc,
        )
        return
    config.html_static_path = list(config.html_static_path) + [str(static)]
    config.mathjax_path = MATHJAX_PATH
    config.nb_ipywidgets_js = dict(WIDGET_SCRIPTS)


# The widgets HTML manager typesets widget labels with MathJax 2's ``MathJax.Hub.Queue``; MathJax 3 has
# no ``Hub``, so every label throws.  This gives MathJax 3 a ``Hub.Queue`` that forwards "Typeset"
# requests to ``MathJax.typesetPromise``, both before MathJax loads (on its configuration object) and
# after (from ``startup.ready``).
MATHJAX2_HUB_SHIM = """(function () {
  const hub = {Queue: function () {
    for (const cmd of arguments) {
      if (!Array.isArray(cmd) || cmd[0] !== "Typeset") { continue; }
      const mj = window.MathJax;
      if (mj && mj.startup && mj.startup.promise) {
        mj.startup.promise.then(() => mj.typesetPromise(cmd[2] ? [cmd[2]] : undefined)).catch(() => {});
      }
    }
  }};
  const config = window.MathJax = window.MathJax || {};
  config.Hub = hub;
  const startup = config.startup || {};
  const ready = startup.ready;
  startup.ready = function () {
    if (ready) { ready(); } else { window.MathJax.startup.defaultReady(); }
    window.MathJax.Hub = hub;
  };
  config.startup = startup;
})();"""


def _add_mathjax2_hub_shim(app, pagename, templatename, context, doctree) -> None:
    """Insert :data:`MATHJAX2_HUB_SHIM` right after the page's MathJax 3 configuration."""
    scripts = context.get("script_files")
    if not scripts:
        return
    for k, script in enumerate(scripts):
        body = getattr(script, "attributes", {}).get("body", "")
        if isinstance(body, str) and body.startswith("window.MathJax = "):
            scripts.insert(k + 1, type(script)(None, body=MATHJAX2_HUB_SHIM))
            return


def _point_widgets_at_static(app, pagename, templatename, context, doctree) -> None:
    """Make require.js resolve the widget manager's modules under this page's ``_static/``.

    The manager finds its icon fonts next to the URI of its own AMD module,
    which require.js resolves against its ``baseUrl``: by default the page's
    folder.  An inline ``require.config`` right after require.js points it at
    ``_static/`` instead, with the page's own relative path.
    """
    scripts = context.get("script_files")
    if not scripts or "content_root" not in context:
        return
    for k, script in enumerate(scripts):
        if (getattr(script, "filename", None) or "").endswith("requirejs/require.js"):
            static = context["content_root"] + "_static/"
            scripts.insert(k + 1, type(script)(None, body=f'require.config({{baseUrl: "{static}"}});'))
            return


def setup(app):
    app.connect("config-inited", _configure, priority=100)
    app.connect("html-page-context", _point_widgets_at_static, priority=900)
    app.connect("html-page-context", _add_mathjax2_hub_shim, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
