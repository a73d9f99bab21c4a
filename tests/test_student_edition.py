"""The student edition: made by one command, no solution left in it, and it runs.

``scripts/make_student_edition.py`` turns the book's notebooks (the teacher
edition) into notebooks with exercise stubs and no solutions or outputs. These
tests run it on the real chapters, look for any solution text that survived,
and execute the student notebooks whose code differs from the book's on a
fresh kernel: the only errors allowed are the ``NotImplementedError`` that an
unwritten stub raises.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
SCRIPT = ROOT / "scripts" / "make_student_edition.py"

_spec = importlib.util.spec_from_file_location("make_student_edition", SCRIPT)
edition = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = edition  # dataclasses look their module up here
_spec.loader.exec_module(edition)

NOTEBOOKS = edition.notebooks_under(BOOK)
SOLUTION_DIRECTIVE = re.compile(r"^ {0,3}(`{3,}|:{3,})\{solution(-start|-end)?\}", re.MULTILINE)
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Lines that only a solution holds; each must be in the teacher notebook and absent from the student one.
KNOWN_SOLUTION_TEXT = {
    "01_introduction.ipynb": [
        'return np.tanh(x @ params["W_x"].T + h_prev @ params["W_h"].T + b)',  # coding exercise
        r"$2 \ln 2 / 4 = \ln 2 / 2 \approx 0.347$ nats",                      # a markdown solution
    ],
    "02_vanishing_gradients.ipynb": [
        "delta = dh * (1.0 - h ** 2)",
        "scale = max_norm / norm if norm >= max_norm else 1.0",
        "return cliff.w[k], abs(cliff.dloss[k])",
        r"J_1^\top J_2^\top",
    ],
    "08_deep_bidirectional.ipynb": [
        "backward, _, _ = ll.sequence_forward(kind, layer[1], reverse_each(x), state0, lengths)",
    ],
}


def _read(path):
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """The student edition of every notebook under book/, made by the documented command."""
    out = tmp_path_factory.mktemp("student")
    # The default student/ sits next to results/, which chapters read as ../results/: keep that layout here.
    results = out.parent / "results"
    if not results.exists():
        results.symlink_to(ROOT / "results", target_is_directory=True)
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # The chapters read ../results and ../tests/data, as from student/ at the repository root (the default --out).
    for shared in ("results", "tests"):
        link = out.parent / shared
        if not link.exists():
            link.symlink_to(ROOT / shared, target_is_directory=True)
    return out, done.stdout


def _solution_code_lines(nb) -> list[str]:
    """Every non-blank line between the solution markers of a notebook's code cells."""
    lines = []
    for cell in nb.cells:
        inside = False
        for line in cell.source.split("\n"):
            if line.strip().startswith(edition.BEGIN):
                inside = True
            elif line.strip().startswith(edition.END):
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


def _non_solution_sources(nb) -> list[str]:
    """The sources of the cells that hold no solution code and sit outside gated solution blocks."""
    sources, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if "{solution-start}" in cell.source:
                inside = True
            if "{solution-end}" in cell.source:
                inside = False
            sources.append(cell.source)  # strip_solutions removes the solution text itself
        elif not inside and edition.BEGIN not in cell.source:
            sources.append(cell.source)
    return sources


def _solution_directive_lines(nb) -> list[str]:
    """The substantial lines in the bodies of a notebook's {solution} directives."""
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        body = None
        for line in cell.source.split("\n"):
            match = SOLUTION_DIRECTIVE.match(line)
            if match and body is None and not match.group(2):
                body, fence = [], match.group(1)
            elif body is not None and line.strip() and set(line.strip()) == {fence[0]} \
                    and len(line.strip()) >= len(fence):
                lines += body
                body = None
            elif body is not None and len(line.strip()) > 30 and not line.strip().startswith(":"):
                body.append(line.strip())
    return lines


# ----------------------------------------------------------------------------- on the real chapters

def test_one_command_makes_every_notebook(student):
    out, printed = student
    for path in NOTEBOOKS:
        assert (out / path.relative_to(BOOK)).exists(), path
        assert path.relative_to(ROOT).as_posix() in printed
    assert "stubs: my_rnn_step;" in printed and "stubs: my_rnn_step_backward, my_clip_by_norm, my_cliff_wall;" in printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_student_notebook_is_not_paired_with_the_books_markdown(student, path):
    """Without this, Jupyter with jupytext would write a Markdown twin of the student's notebook on every save."""
    out, _ = student
    assert "jupytext" in _read(path).metadata          # the teacher's chapter is paired...
    assert "jupytext" not in _read(out / path.relative_to(BOOK)).metadata   # ...the student's is not


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_leaks(student, path):
    out, _ = student
    teacher, pupil = _read(path), _read(out / path.relative_to(BOOK))
    text = "\n".join(cell.source for cell in pupil.cells)
    assert not SOLUTION_DIRECTIVE.search(text)
    assert edition.BEGIN not in text and edition.END not in text
    assert not any("solution" in cell.get("metadata", {}).get("tags", []) for cell in pupil.cells)
    assert all(not c.outputs and c.execution_count is None for c in pupil.cells if c.cell_type == "code")
    # A line that the chapter also shows outside its solutions is not a leak.
    shown, _, _ = edition.strip_solutions("\n".join(_non_solution_sources(teacher)), False, path.name)
    shown_lines = {line.strip() for line in shown.split("\n")}
    student_lines = {line.strip() for line in text.split("\n")}
    leaked = [line for line in _solution_code_lines(teacher) if line in student_lines - shown_lines]
    assert not leaked, f"solution code left in the student edition: {leaked}"
    leaked = [line for line in _solution_directive_lines(teacher) if line in student_lines - shown_lines]
    assert not leaked, f"solution text left in the student edition: {leaked}"
    for snippet in KNOWN_SOLUTION_TEXT.get(path.name, []):
        assert snippet in "\n".join(cell.source for cell in teacher.cells), f"the test is stale: {snippet!r}"
        assert snippet not in text


def test_the_known_solutions_are_found_by_the_generic_search():
    """The generic extraction above is not vacuous: it finds the known solution lines."""
    teacher = _read(BOOK / "02_vanishing_gradients.ipynb")
    code = _solution_code_lines(teacher)
    assert any(line.startswith("delta = dh * (1.0 - h ** 2)") for line in code)
    assert any(r"J_1^\top J_2^\top" in line for line in _solution_directive_lines(teacher))


def test_a_stub_keeps_the_signature_and_the_docstring(student):
    out, _ = student
    cells = _read(out / "02_vanishing_gradients.ipynb").cells
    stub = next(c for c in cells if c.source.startswith("def my_clip_by_norm("))
    assert stub.source == (
        'def my_clip_by_norm(grads, max_norm):\n'
        '    """Norm clipping of a dict of gradient arrays taken as one vector.\n'
        '\n'
        '    Returns a new dict; the arrays in grads are not changed.\n'
        '    """\n'
        '    raise NotImplementedError("Exercise: write the body of my_clip_by_norm")'
    )
    assert stub.metadata["tags"] == ["exercise"]


def test_the_teacher_edition_solutions_pass_their_checkers():
    """nbval re-runs the book and compares these stored outputs, so the solutions pass today too."""
    found = 0
    for path in NOTEBOOKS:
        for cell in _read(path).cells:
            if cell.cell_type == "code" and "checks.check_" in cell.source:
                printed = " ".join("".join(o.get("text", "") for o in cell.outputs).split())
                assert " passes. " in printed and "Well done." in printed, (path.name, printed)
                found += 1
    assert found >= 3


def _code_differs(path) -> bool:
    """Whether the student edition of a book notebook runs different code from the book."""
    try:
        _, summary = edition.make_student_notebook(_read(path), path.name)
    except edition.EditionError:
        return True  # run it anyway: the fixture then reports the script's message
    return bool(summary.stubs or summary.cells_dropped)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if _code_differs(p)], ids=lambda p: p.name)
def test_the_student_notebook_runs_with_only_the_stubs_failing(student, path):
    """Top to bottom on a fresh kernel: the only errors are NotImplementedError raised by a stub.

    A notebook whose code is the same as the book's is already run by nbval, so only the
    notebooks with stubs (or dropped code) are run here.
    """
    out, _ = student
    target = out / path.relative_to(BOOK)
    nb = _read(target)
    NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(target.parent)}}).execute()
    stubs = [c for c in nb.cells if "exercise" in c.get("metadata", {}).get("tags", [])]
    assert stubs
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                traceback = ANSI.sub("", "\n".join(output.traceback))
                assert output.ename == "NotImplementedError", (index, output.ename, output.evalue)
                assert output.evalue.startswith("Exercise: write the body of "), (index, output.evalue)
                assert 'raise NotImplementedError("Exercise:' in traceback
            assert not (output.output_type == "stream" and output.name == "stderr"), (index, output.text)
        if "checks.check_" in cell.source:
            printed = " ".join("".join(o.get("text", "") for o in cell.outputs).split())
            assert "is not written yet" in printed and "NotImplementedError" in printed, (index, printed)


# ----------------------------------------------------------------------------- the conversion itself

def _notebook(*cells):
    """A notebook from ("md" | "code", source[, tags]) tuples."""
    nb = nbformat.v4.new_notebook()
    for kind, source, *tags in cells:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags[0]
        if kind == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="teacher output\n")]
            cell.execution_count = 1
        nb.cells.append(cell)
    return nb


def test_stub_code_keeps_everything_outside_the_markers():
    source = (
        "import numpy as np\n\n"
        "def outer(a):\n"
        "    def inner(b):\n"
        "        ### BEGIN SOLUTION\n"
        "        return b + 1\n"
        "        ### END SOLUTION\n"
        "    ### BEGIN SOLUTION\n"
        "    return inner(a) * 2\n"
        "    ### END SOLUTION\n\n"
        "print('done')"
    )
    stubbed, names = edition.stub_code(source, "test")
    assert names == ["inner", "outer"]
    assert stubbed == (
        "import numpy as np\n\n"
        "def outer(a):\n"
        "    def inner(b):\n"
        '        raise NotImplementedError("Exercise: write the body of inner")\n'
        '    raise NotImplementedError("Exercise: write the body of outer")\n\n'
        "print('done')"
    )


def test_a_block_outside_a_function_becomes_a_stub_too():
    stubbed, names = edition.stub_code("x = 1\n### BEGIN SOLUTION\ny = x + 1\n### END SOLUTION", "test")
    assert names == ["code"] and stubbed == 'x = 1\nraise NotImplementedError("Exercise: fill in this code")'


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "without '### END SOLUTION'"),
    ("x = 1\n### END SOLUTION", "without '### BEGIN SOLUTION'"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "a second"),
    ("x = 1", "has no '### BEGIN SOLUTION'"),
])
def test_unbalanced_markers_are_refused(source, message):
    with pytest.raises(edition.EditionError, match=re.escape(message)):
        edition.stub_code(source, "test")


def test_solution_directives_of_every_fence_are_removed():
    text = (
        "Before.\n\n"
        "```{exercise} E\n:label: e\nDo it.\n```\n\n"
        "```{solution} e\n:class: dropdown\nThe answer is 42.\n```\n\n"
        "::::{solution} e\nColons: 43.\n::::\n\n"
        "````{solution} e\nNested:\n```python\nprint(44)\n```\nstill inside\n````\n\n"
        "After."
    )
    cleaned, inside, removed = edition.strip_solutions(text, False, "test")
    assert removed == 3 and not inside
    assert cleaned == "Before.\n\n```{exercise} E\n:label: e\nDo it.\n```\n\nAfter."


def test_a_gated_solution_across_cells_is_removed_and_its_stub_kept():
    nb = _notebook(
        ("md", "# Title"),
        ("md", "```{exercise} E\n:label: e\nWrite f.\n```\n\n```{solution-start} e\n:class: dropdown\n```\n"
               "Solution prose."),
        ("code", "helper = 1  # part of the solution", []),
        ("code", "def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION",
         ["solution", "hide-input"]),
        ("md", "More solution prose.\n\n```{solution-end}\n```\n\nAfter the solution."),
        ("code", "check(f)"),
    )
    student, summary = edition.make_student_notebook(nb, "test.ipynb")
    sources = [c.source for c in student.cells]
    assert sources[0] == "# Title" and sources[1].startswith("> **Student edition.**") and "`f`" in sources[1]
    assert sources[2:] == [
        "```{exercise} E\n:label: e\nWrite f.\n```",
        'def f(x):\n    """Doc."""\n    raise NotImplementedError("Exercise: write the body of f")',
        "After the solution.",
        "check(f)",
    ]
    assert student.cells[3].metadata["tags"] == ["exercise"]  # visible, and no longer a solution
    assert summary.stubs == ["f"] and summary.solutions_removed == 1 and summary.cells_dropped == 1
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code")
    assert nb.cells[3].source.count("BEGIN") == 1  # the teacher notebook is not changed


@pytest.mark.parametrize("cells, message", [
    ([("code", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION")], "has solution markers but not the tag"),
    ([("md", "### BEGIN SOLUTION\ntext\n### END SOLUTION")], "belong in code cells"),
    ([("md", "```{solution-start} e\n```\ntext")], "never closed by {solution-end}"),
    ([("md", "```{solution-end}\n```")], "{solution-end} without {solution-start}"),
    ([("md", "```{solution} e\nnever closed")], "is never closed"),
])
def test_notebooks_that_cannot_be_cleaned_are_refused(cells, message):
    with pytest.raises(edition.EditionError, match=re.escape(message)):
        edition.make_student_notebook(_notebook(*cells), "test.ipynb")


def test_work_in_the_student_folder_is_not_overwritten(tmp_path):
    path = BOOK / "01_introduction.ipynb"
    edition.write_edition([path], tmp_path)
    target = tmp_path / "01_introduction.ipynb"
    edition.write_edition([path], tmp_path)  # the same content again: fine
    nb = _read(target)
    nb.cells[-1].source += "\nmy answer"
    nbformat.write(nb, target)
    with pytest.raises(edition.EditionError, match="pass --overwrite"):
        edition.write_edition([path], tmp_path)
    assert "my answer" in target.read_text()
    edition.write_edition([path], tmp_path, overwrite=True)
    assert "my answer" not in target.read_text()
