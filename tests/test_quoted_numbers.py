"""Every result quoted in the prose of the application chapters comes from a stored output or results file.

The chapters 5 to 7 quote measured numbers in their text ("the GRU reaches
an MAE of 2.14 °C").  Such a number must not be typed by hand: it has to
appear in an output the notebook printed (and nbval checks), or in the code
of the notebook (a setting such as a learning rate of 0.02).  A number read
from ``results/`` counts once the chapter prints it: matching against the
files themselves would accept almost any two-digit decimal, since they hold
thousands of values.  This test finds the numbers in the Markdown cells of
each executed chapter and looks for each one there, as written.

What counts as a quoted number: a decimal ("2.14", "0.05"), a number with a
thousands separator ("74,000"), or a percentage ("95 %").  Bare integers are
left out on purpose: in these chapters they are almost all settings,
lengths and counts ("T = 50", "three seeds", "2000 steps") that the code
beside them states.  Mathematics (``$...$``), inline and fenced code, and
cross-reference roles are not prose and are skipped.
"""

from __future__ import annotations

import pathlib
import re

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = ["05_adding_problem", "06_text_generation", "07_weather_forecasting", "08_deep_bidirectional",
            "09_recurrences_today"]

NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+\.\d+|\d+(?=\s?%))(?![\w])")
SKIP = [
    re.compile(r"```.*?```", re.S),             # fenced blocks (directives with code, text outputs, exercises' code)
    re.compile(r"\$\$.*?\$\$", re.S),           # display maths
    re.compile(r"\$[^$\n]+\$"),                 # inline maths
    re.compile(r"`[^`\n]*`"),                   # inline code and the targets of roles
    re.compile(r"^ {4}.*$", re.M),              # indented code (the exercises' solutions)
    re.compile(r"^\(.*\)=\s*$", re.M),          # labels
    re.compile(r"\]\([^)]*\)"),                 # link targets
]


def prose(source: str) -> str:
    for pattern in SKIP:
        source = pattern.sub(" ", source)
    return source


def quoted_numbers(source: str) -> list[str]:
    return NUMBER.findall(prose(source))


def _evidence(nb) -> str:
    """The text of every output and every code cell of a notebook."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append(out["text"])
            for key in ("text/plain", "text/markdown", "text/html"):
                if key in out.get("data", {}):
                    parts.append(out["data"][key])
    return "\n".join(parts)


def found_in(number: str, evidence: str) -> bool:
    """Is ``number`` in ``evidence`` as a whole number (``74,000`` may also be written ``74000`` or ``74_000``)?"""
    plain = number.replace(",", "")
    forms = {number, plain} | ({f"{int(plain):_d}"} if plain.isdigit() else set())
    return any(re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])", evidence) for f in forms)


def test_the_extractor_finds_decimals_separated_thousands_and_percentages_but_not_maths_or_code():
    text = ("The GRU reaches 2.14 °C, after 74,000 sequences; 95 % of the variance. "
            "$T = 0.5$ and `lr=0.02` and ```{code-cell}\nx = 3.5\n``` and 20 steps.\n    y = 7.25\n")
    assert quoted_numbers(text) == ["2.14", "74,000", "95"]


def test_a_number_is_found_only_as_a_whole_number():
    assert found_in("0.05", "solved: test NMSE below 0.05 or so")
    assert not found_in("0.05", "below 0.051") and not found_in("2.14", "12.14")
    assert found_in("74,000", "sequences_to_solve: (74_000, 209_000)") and found_in("74,000", "74000 runs")
    assert not found_in("74,000", "174,000")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_number_in_the_prose_is_in_an_output_or_the_code(chapter):
    nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
    evidence = _evidence(nb)
    missing = []
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            missing += [(k, n) for n in quoted_numbers(cell.source) if not found_in(n, evidence)]
    assert not missing, f"{chapter}: numbers in the prose that no output or code holds " \
                        f"(cell index, number): {missing}"
