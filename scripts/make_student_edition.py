"""Write the student edition of the book's notebooks: stubs instead of solutions, and no outputs.

Usage (from the repository root):

    python scripts/make_student_edition.py                      # every notebook under book/ -> student/
    python scripts/make_student_edition.py --out /tmp/class     # another folder
    python scripts/make_student_edition.py book/01_introduction.ipynb
    python scripts/make_student_edition.py --nbgrader --out course/source/ch01 book/01_introduction.ipynb

The book itself is the teacher edition. The student edition is made from the
same notebooks, so there is no second copy to keep in step. In each notebook:

- in a code cell tagged ``solution``, the lines from ``### BEGIN SOLUTION``
  to ``### END SOLUTION`` become ``raise NotImplementedError("Exercise: ...")``
  at the same indentation; the lines above the marker (the ``def`` line and
  the docstring) stay;
- sphinx-exercise ``solution`` directives are removed from markdown cells, and
  so is everything from a ``solution-start`` directive to its ``solution-end``
  (a code cell tagged ``solution`` inside such a block is kept, as a stub;
  any other cell inside it is dropped);
- every output and execution count is cleared, and a short note saying what
  the edition is goes after the title cell.

With ``--nbgrader`` the code between the markers is kept (and so are the
markers and the ``solution`` tag): the result is the *source* of an nbgrader
assignment, without the written solutions, and ``nbgrader generate_assignment``
replaces that code with its own stub. The solution and checker cells carry
nbgrader's cell metadata in the book already.

The script refuses a notebook whose solutions it cannot remove cleanly (markers
in a cell without the tag, a tag without markers, unbalanced markers or
directives), and checks its result for leftovers before writing. It also
refuses to overwrite a notebook in the output folder that differs from a
fresh student edition (someone may have worked in it) unless ``--overwrite``
is given.
"""

from __future__ import annotations

import argparse
import copy
import pathlib
import re
import sys
from dataclasses import dataclass, field

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SOLUTION_TAG = "solution"
#: The tag a stub carries in the student edition, in place of ``solution``.
EXERCISE_TAG = "exercise"
#: Tags that hide a cell in the HTML book; a stub must be visible.
HIDING_TAGS = {"hide-input", "hide-cell", "remove-input", "remove-cell"}
# An opening fence of a directive: up to 3 spaces, then 3 or more backticks or colons, then {name}.
_DIRECTIVE = re.compile(r"^ {0,3}(?P<fence>`{3,}|:{3,})\{(?P<name>[a-z-]+)\}")
_DEF = re.compile(r"^(?P<indent>\s*)(?:async\s+)?def\s+(?P<name>\w+)\s*\(")


class EditionError(ValueError):
    """A notebook whose solutions cannot be removed cleanly."""


@dataclass
class Summary:
    """What was changed in one notebook."""

    stubs: list[str] = field(default_factory=list)  #: names of the stubbed functions
    solutions_removed: int = 0                       #: solution directives and gated blocks removed
    cells_dropped: int = 0                           #: cells dropped from inside gated solution blocks


# ----------------------------------------------------------------------------- code cells

def stub_code(source: str, where: str) -> tuple[str, list[str]]:
    """Replace each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block of ``source`` by a stub.

    Returns the new source and the names of the functions stubbed (``"code"`` for a block
    outside any function).
    """
    lines = source.split("\n")
    out: list[str] = []
    names: list[str] = []
    begin = None  # index in ``lines`` of the open BEGIN marker
    for k, line in enumerate(lines):
        marker = line.strip()
        if marker.startswith(BEGIN):
            if begin is not None:
                raise EditionError(f"{where}: a second {BEGIN!r} before {END!r} (line {k + 1})")
            begin = k
        elif marker.startswith(END):
            if begin is None:
                raise EditionError(f"{where}: {END!r} without {BEGIN!r} (line {k + 1})")
            indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
            name = _enclosing_function(lines[:begin], indent)
            names.append(name or "code")
            what = f"write the body of {name}" if name else "fill in this code"
            out.append(f'{indent}raise NotImplementedError("Exercise: {what}")')
            begin = None
        elif begin is None:
            out.append(line)
    if begin is not None:
        raise EditionError(f"{where}: {BEGIN!r} without {END!r} (line {begin + 1})")
    if not names:
        raise EditionError(f"{where}: tagged {SOLUTION_TAG!r} but has no {BEGIN!r} ... {END!r} block")
    return "\n".join(out), names


def _enclosing_function(lines: list[str], indent: str) -> str | None:
    """Name of the innermost ``def`` above, indented less than ``indent``, or None."""
    for line in reversed(lines):
        match = _DEF.match(line)
        if match and len(match["indent"]) < len(indent):
            return match["name"]
    return None


# ----------------------------------------------------------------------------- markdown cells

def _skip_directive(lines: list[str], k: int, fence: str, where: str) -> int:
    """Index of the line after the directive that opens at line ``k`` with ``fence``."""
    for j in range(k + 1, len(lines)):
        stripped = lines[j].strip()
        if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            return j + 1
    raise EditionError(f"{where}: the directive opened by {lines[k].strip()!r} is never closed")


def strip_solutions(text: str, inside: bool, where: str) -> tuple[str, bool, int]:
    """Remove solution directives and gated solution blocks from one markdown cell.

    ``inside`` says whether the cell starts inside a ``solution-start`` block. Returns the
    new text, whether it ends inside such a block, and how many solutions were removed.
    """
    lines = text.split("\n")
    out: list[str] = []
    removed = 0
    k = 0
    while k < len(lines):
        match = _DIRECTIVE.match(lines[k])
        name = match["name"] if match else None
        if name == "solution-end":
            if not inside:
                raise EditionError(f"{where}: {{solution-end}} without {{solution-start}}")
            inside = False
            k = _skip_directive(lines, k, match["fence"], where)
        elif inside:
            if name == "solution-start":
                raise EditionError(f"{where}: {{solution-start}} inside another solution block")
            k += 1
        elif name == "solution":
            removed += 1
            k = _skip_directive(lines, k, match["fence"], where)
        elif name == "solution-start":
            removed += 1
            inside = True
            k = _skip_directive(lines, k, match["fence"], where)
        else:
            out.append(lines[k])
            k += 1
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")
    return cleaned, inside, removed


# ----------------------------------------------------------------------------- notebooks

def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _note(source_name: str, stubs: list[str]) -> str:
    text = (f"> **Student edition.** Made by `scripts/make_student_edition.py` from `{source_name}`, "
            f"without the solutions.")
    if stubs:
        listed = ", ".join(f"`{s}`" for s in stubs)
        text += (f" The coding exercises ({listed}) are functions whose body raises `NotImplementedError`: "
                 f"write the body, run its cell, then run the checker cell after it.")
    return text


def make_student_notebook(nb, source_name: str = "the book", nbgrader: bool = False) -> tuple[object, Summary]:
    """The student edition of a notebook (a new notebook; ``nb`` is not changed), and what changed.

    With ``nbgrader``, the code cells tagged ``solution`` keep their code and markers, for
    nbgrader's source folder.
    """
    nb = copy.deepcopy(nb)
    summary = Summary()
    cells = []
    inside = False
    for index, cell in enumerate(nb.cells):
        where = f"{source_name}, cell {index}"
        tags = _tags(cell)
        if cell.cell_type == "markdown":
            if BEGIN in cell.source or END in cell.source:
                raise EditionError(f"{where}: solution markers belong in code cells tagged {SOLUTION_TAG!r}")
            text, inside, removed = strip_solutions(cell.source, inside, where)
            summary.solutions_removed += removed
            if text.strip():
                cell.source = text
                cells.append(cell)
            continue
        if cell.cell_type == "code" and SOLUTION_TAG in tags:
            stubbed, names = stub_code(cell.source, where)
            summary.stubs += names
            if nbgrader:
                cells.append(cell)
                continue
            cell.source = stubbed
            new_tags = [EXERCISE_TAG if t == SOLUTION_TAG else t for t in tags if t not in HIDING_TAGS]
            cell.metadata["tags"] = new_tags
            cells.append(cell)
            continue
        if BEGIN in cell.source or END in cell.source:
            raise EditionError(f"{where}: has solution markers but not the tag {SOLUTION_TAG!r}")
        if inside:
            summary.cells_dropped += 1
            continue
        cells.append(cell)
    if inside:
        raise EditionError(f"{source_name}: a {{solution-start}} block is never closed by {{solution-end}}")

    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("execution", None)
    note = nbformat.v4.new_markdown_cell(_note(source_name, [] if nbgrader else summary.stubs))
    note.id = "student-edition-note"  # a fixed id, so that the same book gives the same file
    nb.cells = cells[:1] + [note] + cells[1:]
    nb.metadata.pop("widgets", None)  # saved widget state belongs to the cleared outputs
    # The book's pairing with book/myst/*.md: a student's notebook stands alone, and Jupyter with
    # jupytext would otherwise write a Markdown twin of it on every save.
    nb.metadata.pop("jupytext", None)
    check_no_solutions(nb, source_name, nbgrader)
    return nb, summary


def check_no_solutions(nb, source_name: str, nbgrader: bool = False) -> None:
    """Raise ``EditionError`` if anything of a solution is left in ``nb`` (with ``nbgrader``: outside
    the code cells tagged ``solution``)."""
    for index, cell in enumerate(nb.cells):
        where = f"{source_name}, cell {index}"
        if nbgrader and cell.cell_type == "code" and SOLUTION_TAG in _tags(cell):
            continue
        if BEGIN in cell.source or END in cell.source:
            raise EditionError(f"{where}: a solution marker is left")
        if SOLUTION_TAG in _tags(cell):
            raise EditionError(f"{where}: a cell is still tagged {SOLUTION_TAG!r}")
        for line in cell.source.split("\n"):
            match = _DIRECTIVE.match(line)
            if match and match["name"] in ("solution", "solution-start", "solution-end"):
                raise EditionError(f"{where}: a {{{match['name']}}} directive is left")
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            raise EditionError(f"{where}: an output is left")


def notebooks_under(folder: pathlib.Path) -> list[pathlib.Path]:
    """Every notebook under ``folder``, without checkpoints and build output."""
    return sorted(p for p in folder.rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts and "_build" not in p.parts)


def write_edition(paths: list[pathlib.Path], out: pathlib.Path, overwrite: bool = False,
                  nbgrader: bool = False) -> dict:
    """Write the student edition of each notebook in ``paths`` under ``out``; return their summaries.

    A notebook under ``book/`` keeps its path relative to ``book/``, so that the student
    notebooks sit as deep in the repository as the book's and relative paths still work.
    """
    summaries = {}
    jobs = []
    for path in paths:
        path = path.resolve()
        relative = path.relative_to(BOOK) if path.is_relative_to(BOOK) else pathlib.Path(path.name)
        name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        student, summary = make_student_notebook(nbformat.read(path, as_version=4), name, nbgrader)
        target = out / relative
        text = nbformat.writes(student) + "\n"
        if target.exists() and target.read_text() != text and not overwrite:
            raise EditionError(f"{target} exists and differs from a fresh student edition (someone may have "
                               f"worked in it); pass --overwrite to replace it")
        jobs.append((target, text))
        summaries[name] = (target, summary)
    for target, text in jobs:  # nothing is written unless every notebook succeeded
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return summaries


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="notebooks to convert (default: every notebook under book/)")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "student",
                        help="output folder (default: student/ in the repository, which git ignores)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace student notebooks that differ from a fresh student edition")
    parser.add_argument("--nbgrader", action="store_true",
                        help="keep the code between the solution markers, for nbgrader's source folder")
    args = parser.parse_args(argv)
    paths = args.notebooks or notebooks_under(BOOK)
    try:
        summaries = write_edition(paths, args.out, args.overwrite, args.nbgrader)
    except EditionError as exc:
        print(f"make_student_edition: {exc}", file=sys.stderr)
        return 1
    for name, (target, s) in summaries.items():
        stubs = ", ".join(s.stubs) if s.stubs else "none"
        print(f"{name} -> {target}: stubs: {stubs}; {s.solutions_removed} solutions removed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
