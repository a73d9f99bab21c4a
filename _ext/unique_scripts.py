"""Sphinx extension: drop repeated inline ``<script>`` blocks from pages.

With Jupyter Book 1, sphinx-thebe's configuration block
(``const THEBE_JS_URL = ...``) ends up twice on every page, and the second
copy throws "Identifier 'THEBE_JS_URL' has already been declared" in the
browser console.  Keeping only the first copy of identical scripts removes
the error without changing anything else.
"""

from __future__ import annotations


def _key(script) -> tuple:
    attributes = getattr(script, "attributes", {})
    return str(getattr(script, "filename", None) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def _drop_repeats(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeats, priority=950)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
