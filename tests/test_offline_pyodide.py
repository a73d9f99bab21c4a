"""The offline Pyodide assembly of ``_ext/offline_pyodide.py``, on small fake inputs (no network).

A fake "carrier" wheel and a fake official lock stand in for the real ones, so
each rule is checked on its own: a file whose sha256 differs from the lock is
refused, the lock served holds exactly the files served plus the book's own
wheels (with ``lessons_lib`` depending on ipywidgets), a missing pin fails
loudly, and the cache is reused while the pins stay the same.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import pathlib
import re
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("offline_pyodide", ROOT / "_ext" / "offline_pyodide.py")
op = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(op)

PREFIX = "carrier/assets/pyodide/"


def _lock(files: dict) -> dict:
    """A lock in the official layout for ``files`` (name -> (file name, bytes, depends))."""
    return {"info": {"version": op.PYODIDE_VERSION}, "packages": {
        name: {"name": name, "version": "1.0", "file_name": fname, "sha256": hashlib.sha256(data).hexdigest(),
               "depends": depends, "imports": [name], "install_dir": "site", "package_type": "package",
               "unvendored_tests": False}
        for name, (fname, data, depends) in files.items()}}


FILES = {
    "numpy": ("numpy-1.0-cp312-cp312-pyodide_2024_0_wasm32.whl", b"numpy bytes", []),
    "matplotlib": ("matplotlib-1.0-cp312-cp312-pyodide_2024_0_wasm32.whl", b"mpl bytes", ["numpy", "python_dateutil"]),
    "python-dateutil": ("python_dateutil-1.0-py3-none-any.whl", b"dateutil bytes", []),
    "pandas": ("pandas-1.0-cp312-cp312-pyodide_2024_0_wasm32.whl", b"pandas bytes", ["numpy"]),
}


def _carrier(tmp_path, files, tamper=None) -> pathlib.Path:
    path = tmp_path / "carrier-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, (fname, data, _) in files.items():
            z.writestr(PREFIX + fname, b"tampered" if name == tamper else data)
    return path


def test_closure_follows_dependencies_with_either_spelling():
    lock = _lock(FILES)
    assert op.closure(lock, ["matplotlib"]) == ["matplotlib", "numpy", "python-dateutil"]
    with pytest.raises(op.AssemblyError, match="'scipy' is not in the Pyodide"):
        op.closure(lock, ["scipy"])


def test_package_files_are_taken_only_when_they_match_the_official_lock(tmp_path):
    lock = _lock(FILES)
    out = tmp_path / "out"
    out.mkdir()
    op.take_package_files(_carrier(tmp_path, FILES), PREFIX, lock, ["numpy", "matplotlib"], out)
    assert sorted(p.name for p in out.iterdir()) == sorted([FILES["matplotlib"][0], FILES["numpy"][0]])
    assert (out / FILES["numpy"][0]).read_bytes() == b"numpy bytes"
    with pytest.raises(op.AssemblyError, match="does not match the sha256 of the official"):
        op.take_package_files(_carrier(tmp_path, FILES, tamper="numpy"), PREFIX, lock, ["numpy"], out)
    missing = {k: v for k, v in FILES.items() if k != "numpy"}
    with pytest.raises(op.AssemblyError, match="lacks numpy-1.0"):
        op.take_package_files(_carrier(tmp_path, missing), PREFIX, lock, ["numpy"], out)


def _fake_base(tmp_path, monkeypatch) -> pathlib.Path:
    """A base folder as :func:`base_distribution` leaves it, for the fake lock; ROOTS and extras shrunk to fit."""
    monkeypatch.setattr(op, "ROOTS", ("matplotlib",))
    monkeypatch.setattr(op, "EXTRA_WHEELS", {"ipywidgets": ("8.1.7", "x", ["ipywidgets"], ["numpy"])})
    monkeypatch.setattr(op, "LIBRARY_DEPENDS", ["numpy", "matplotlib", "ipywidgets"])
    base = tmp_path / "base"
    base.mkdir()
    for name in op.CORE_FILES:
        (base / name).write_text(name)
    (base / "pyodide-lock.json").write_text(json.dumps(_lock(FILES)))
    for fname, data, _ in FILES.values():
        (base / fname).write_bytes(data)
    (base / "ipywidgets-8.1.7-py3-none-any.whl").write_bytes(b"widgets")
    return base


def test_the_served_lock_lists_exactly_the_served_files_and_the_library(tmp_path, monkeypatch):
    base = _fake_base(tmp_path, monkeypatch)
    src = tmp_path / "src" / "lessons_lib"
    (src / "tasks" / "data").mkdir(parents=True)
    (src / "__init__.py").write_text("VERSION = 1\n")
    (src / "tasks" / "data" / "weather.csv.gz").write_bytes(b"data")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.pyc").write_bytes(b"cache")
    wheel = op.library_wheel(src, "0.1.0", tmp_path)
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    assert {"lessons_lib/__init__.py", "lessons_lib/tasks/data/weather.csv.gz"} <= names
    assert not any("__pycache__" in n for n in names)
    out = tmp_path / "served"
    lock = op.assemble(base, wheel, out)
    assert set(lock["packages"]) == {"matplotlib", "numpy", "python-dateutil", "ipywidgets", "lessons-lib"}
    assert "pandas" not in lock["packages"] and not (out / FILES["pandas"][0]).exists()
    for entry in lock["packages"].values():
        assert hashlib.sha256((out / entry["file_name"]).read_bytes()).hexdigest() == entry["sha256"]
    library = lock["packages"]["lessons-lib"]
    assert library["imports"] == ["lessons_lib"] and "ipywidgets" in library["depends"]
    assert json.loads((out / "pyodide-lock.json").read_text()) == lock


def test_a_dependency_missing_from_the_served_lock_fails_the_assembly(tmp_path, monkeypatch):
    base = _fake_base(tmp_path, monkeypatch)
    monkeypatch.setattr(op, "LIBRARY_DEPENDS", ["numpy", "tqdm"])
    src = tmp_path / "lessons_lib"
    src.mkdir()
    (src / "__init__.py").write_text("")
    with pytest.raises(op.AssemblyError, match=r"lacks dependencies \['tqdm'\]"):
        op.assemble(base, op.library_wheel(src, "0.1.0", tmp_path), tmp_path / "served")


def test_the_cache_is_reused_while_the_pins_stay_the_same(tmp_path, monkeypatch):
    folder = tmp_path / f"pyodide-{op.PYODIDE_VERSION}"
    folder.mkdir()
    (folder / "pins.json").write_text(json.dumps(op._pins()))
    fetched = []

    def no_network(dest):
        fetched.append(dest)
        raise op.AssemblyError("offline")

    monkeypatch.setattr(op, "_npm_core", no_network)
    assert op.base_distribution(tmp_path) == folder and not fetched
    (folder / "pins.json").write_text(json.dumps({**op._pins(), "roots": ["numpy"]}))   # a pin changed
    with pytest.raises(op.AssemblyError, match="offline"):
        op.base_distribution(tmp_path)
    assert fetched


def test_a_download_that_pip_refuses_is_an_assembly_error(tmp_path):
    """pip checks the pinned hash; a wrong one (or no network) must not pass silently."""
    with pytest.raises(op.AssemblyError, match="pip could not download"):
        op._pip_download("comm==0.2.3", "0" * 64, tmp_path)


def test_the_site_configuration_turns_pypi_off_offline_and_names_the_cdn_otherwise():
    offline = op.lite_config(True)["jupyter-config-data"]["litePluginSettings"][op.KERNEL_SETTINGS]
    assert offline == {"disablePyPIFallback": True}
    online = op.lite_config(False)["jupyter-config-data"]["litePluginSettings"][op.KERNEL_SETTINGS]
    assert online["pyodideUrl"] == f"https://cdn.jsdelivr.net/pyodide/v{op.PYODIDE_VERSION}/full/pyodide.js"


def test_the_site_gets_the_teachers_or_the_students_notebooks_and_the_stored_results(tmp_path):
    op._stage_contents(ROOT, tmp_path / "teacher", "teacher")
    chapters = sorted(p.name for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in (tmp_path / "teacher" / "book").iterdir()) == chapters
    assert (tmp_path / "teacher" / "book" / chapters[0]).read_bytes() == (ROOT / "book" / chapters[0]).read_bytes()
    assert (tmp_path / "teacher" / "results" / "adding.json").exists()
    opened = set()   # every file a chapter opens by a relative path is in the site
    for chapter in (ROOT / "book" / "myst").glob("[0-9][0-9]_*.md"):
        opened |= set(re.findall(r'"\.\./([\w/.-]+\.(?:json|npz))"', chapter.read_text()))
    assert opened and all((tmp_path / "teacher" / path).exists() for path in opened), sorted(opened)
    op._stage_contents(ROOT, tmp_path / "student", "student")
    student = json.loads((tmp_path / "student" / "book" / chapters[0]).read_text())
    assert sorted(p.name for p in (tmp_path / "student" / "book").iterdir()) == chapters
    assert not any(cell.get("outputs") for cell in student["cells"])      # the student edition has no outputs
