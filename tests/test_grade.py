"""Grading a class: ``scripts/grade.py`` on a folder of submissions made from chapter 1's student edition.

The class holds one submission of each kind the grader must survive: a right
answer, the untouched stub, an endless loop, an exception, a crash of the
Python process, a renamed function, an invalid file, a notebook of another
chapter, megabytes of output, a cell that deletes every file in its folder, and
an endless top-level cell before the exercise. Each must be graded as it
should be, the gradebook and the feedback files must exist, and the
submissions folder must be byte-identical afterwards.

The last tests run nbgrader itself on the teacher edition; they are skipped
when nbgrader is not installed (it is the optional extra ``classroom``).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import os
import pathlib
import subprocess
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
TIMEOUT = 5.0  # seconds per step: the endless loops cost this much each


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


grade = _load("grade")
edition = _load("make_student_edition")

CHAPTER = "01_introduction"
RIGHT = '''def my_rnn_step(x, h_prev, params):
    b = params["b_x"] + params["b_h"]
    return np.tanh(x @ params["W_x"].T + h_prev @ params["W_h"].T + b)
'''
# Each submission: (path in the submissions folder, what to do to the student edition).
LOOP = "def my_rnn_step(x, h_prev, params):\n    while True:\n        pass\n"
RAISES = "def my_rnn_step(x, h_prev, params):\n    return params['W'] @ x\n"
CRASH = "import os\n\ndef my_rnn_step(x, h_prev, params):\n    os._exit(3)\n"
RENAMED = RIGHT.replace("def my_rnn_step(", "def my_rnn_stp(")
CHATTY = RIGHT.replace("    b = ", "    print('x' * 3_000_000)\n    b = ")
DELETE = ("import os, shutil\n"
          "for name in os.listdir('.'):\n"
          "    shutil.rmtree(name) if os.path.isdir(name) else os.remove(name)\n")


def _student_notebook(stem):
    nb, _ = edition.make_student_notebook(nbformat.read(BOOK / f"{stem}.ipynb", as_version=4), f"book/{stem}.ipynb")
    return nb


def _exercise_index(nb):
    return next(k for k, c in enumerate(nb.cells) if "exercise" in c.metadata.get("tags", []))


def _with_exercise(source):
    nb = _student_notebook(CHAPTER)
    nb.cells[_exercise_index(nb)].source = source
    return nb


def _with_cell_before_exercise(source, exercise=RIGHT):
    nb = _with_exercise(exercise)
    nb.cells.insert(_exercise_index(nb), nbformat.v4.new_code_cell(source))
    return nb


def _write(path, nb):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb))


def _hashes(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, graded once by the documented command; (submissions, hashes before, rows, feedback, stdout)."""
    base = tmp_path_factory.mktemp("class")
    subs = base / "submissions"
    _write(subs / "right" / f"{CHAPTER}.ipynb", _with_exercise(RIGHT))
    _write(subs / "right" / ".ipynb_checkpoints" / f"{CHAPTER}-checkpoint.ipynb", _with_exercise(LOOP))
    _write(subs / f"stub_{CHAPTER}.ipynb", _student_notebook(CHAPTER))
    _write(subs / "loop" / f"{CHAPTER}.ipynb", _with_exercise(LOOP))
    _write(subs / f"raises-{CHAPTER}.ipynb", _with_exercise(RAISES))
    _write(subs / "crash" / f"{CHAPTER}.ipynb", _with_exercise(CRASH))
    _write(subs / "renamed_01.ipynb", _with_exercise(RENAMED))
    (subs / "corrupt").mkdir()
    good = nbformat.writes(_with_exercise(RIGHT))
    (subs / "corrupt" / f"{CHAPTER}.ipynb").write_text(good[: len(good) // 2])
    _write(subs / "other" / f"{CHAPTER}.ipynb", _student_notebook("03_gated_architectures"))
    _write(subs / f"chatty_{CHAPTER}.ipynb", _with_cell_before_exercise("print('y' * 3_000_000)", CHATTY))
    _write(subs / "deleter" / f"{CHAPTER}.ipynb", _with_cell_before_exercise(DELETE))
    (subs / "deleter" / "notes.txt").write_text("the student's own file, which must survive\n")
    _write(subs / "stuck" / f"{CHAPTER}.ipynb", _with_cell_before_exercise("while True:\n    pass"))
    before = _hashes(subs)

    out = base / "out" / "gradebook.csv"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "grade.py"), str(subs), "--out", str(out),
                           "--timeout", str(TIMEOUT), "--jobs", "2"],
                          cwd=base, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return subs, before, rows, base / "out" / "feedback", done.stdout


def _row(rows, student):
    mine = [r for r in rows if r["student"] == student]
    assert len(mine) == 1, (student, mine)
    return mine[0]


def test_the_gradebook_has_one_row_per_student_and_exercise(graded):
    _, _, rows, _, _ = graded
    assert set(rows[0]) >= {"student", "notebook", "exercise", "passed", "message", "seconds"}
    assert sorted(r["student"] for r in rows) == sorted(
        ["right", "stub", "loop", "raises", "crash", "renamed", "corrupt", "other", "chatty", "deleter", "stuck"])
    assert {r["passed"] for r in rows} == {"true", "false"}
    for r in rows:
        float(r["seconds"])
        assert "\n" not in r["message"] and r["message"]


def test_a_right_answer_passes_with_the_checkers_words(graded):
    r = _row(graded[2], "right")
    assert (r["passed"], r["status"], r["exercise"], r["function"]) == ("true", "passed", "ex-intro-step",
                                                                        "my_rnn_step")
    assert r["chapter"] == CHAPTER and r["notebook"] == f"right/{CHAPTER}.ipynb"
    assert "my_rnn_step passes." in r["message"]


def test_the_stub_is_not_written(graded):
    r = _row(graded[2], "stub")
    assert (r["passed"], r["status"]) == ("false", "not written")
    assert "still raises NotImplementedError" in r["message"]


def test_an_endless_loop_times_out(graded):
    r = _row(graded[2], "loop")
    assert (r["passed"], r["status"]) == ("false", "timeout")
    assert f"longer than {TIMEOUT:g} s" in r["message"]
    assert TIMEOUT <= float(r["seconds"]) < TIMEOUT + 10


def test_an_exception_is_the_checkers_feedback(graded):
    r = _row(graded[2], "raises")
    assert (r["passed"], r["status"]) == ("false", "failed")
    assert "my_rnn_step raised KeyError: 'W'" in r["message"]


def test_a_crash_of_the_process_is_reported(graded):
    r = _row(graded[2], "crash")
    assert (r["passed"], r["status"]) == ("false", "crashed")
    assert "exit code 3" in r["message"]


def test_a_renamed_function_is_missing(graded):
    r = _row(graded[2], "renamed")
    assert (r["passed"], r["status"]) == ("false", "missing")
    assert "no cell defines my_rnn_step" in r["message"]


def test_an_invalid_file_is_reported(graded):
    r = _row(graded[2], "corrupt")
    assert (r["passed"], r["status"], r["exercise"]) == ("false", "invalid notebook", "ex-intro-step")
    assert "not a valid notebook" in r["message"]


def test_a_notebook_of_another_chapter_is_reported(graded):
    r = _row(graded[2], "other")
    assert (r["passed"], r["status"], r["chapter"]) == ("false", "wrong chapter", CHAPTER)
    assert "holds chapter 03_gated_architectures" in r["message"]


def test_megabytes_of_output_are_capped(graded):
    r = _row(graded[2], "chatty")
    assert (r["passed"], r["status"]) == ("true", "passed")
    assert len(r["message"]) < 2000
    assert (graded[3] / "chatty.md").stat().st_size < 10_000


def test_code_that_deletes_its_folder_does_not_touch_the_submissions(graded):
    subs, before, rows, _, _ = graded
    r = _row(rows, "deleter")
    assert (r["passed"], r["status"]) == ("true", "passed")
    assert (subs / "deleter" / "notes.txt").exists()
    assert _hashes(subs) == before


def test_an_endless_cell_before_the_exercise_is_skipped_and_the_exercise_graded(graded):
    r = _row(graded[2], "stuck")
    assert (r["passed"], r["status"]) == ("true", "passed")
    feedback = (graded[3] / "stuck.md").read_text()
    assert "took longer than" in feedback


def test_every_student_gets_a_feedback_file_and_the_summary_names_the_hardest(graded):
    _, _, rows, feedback, stdout = graded
    for student in {r["student"] for r in rows}:
        text = (feedback / f"{student}.md").read_text()
        assert text.startswith(f"# Feedback for {student}")
    assert "my_rnn_step passes." in (feedback / "right.md").read_text()
    passes = sum(r["passed"] == "true" for r in rows)
    assert f"11 students, 11 notebooks, 1 exercise: {passes} of 11 results pass." in stdout
    assert f"ex-intro-step: {passes} of 11 pass" in stdout


# ----------------------------------------------------------------------------- the parts

def test_the_teachers_guide_states_the_defaults():
    guide = (BOOK / "teachers_guide.md").read_text()
    assert f"**{grade.DEFAULT_TIMEOUT:g} seconds** by default (`--timeout`)" in guide
    assert f"{grade.DEFAULT_MAX_OUTPUT:,} characters per cell (`--max-output`)".replace(",", " ") in guide
    assert f"a class of eleven made-up submissions of\nchapter {CHAPTER[:2].lstrip('0')}" in guide


def test_with_an_assignment_other_chapters_and_missing_notebooks_are_reported(tmp_path):
    _write(tmp_path / "alice" / "03_gated_architectures.ipynb", _student_notebook("03_gated_architectures"))
    (tmp_path / "bob_01.ipynb").write_text("{not json")
    chapters = grade.load_chapters()
    rows, _ = grade.grade(tmp_path, chapters, assigned={CHAPTER})
    assert sorted((r.student, r.chapter, r.exercise, r.status) for r in rows) == [
        ("alice", "01_introduction", "ex-intro-step", "no notebook"),
        ("alice", "03_gated_architectures", "", "wrong chapter"),
        ("bob", "01_introduction", "ex-intro-step", "invalid notebook")]
    assert not any(r.passed for r in rows)


def test_both_layouts_are_recognised(tmp_path):
    for name in ["alice/02_vanishing_gradients.ipynb", "bob/ch02/whatever.ipynb", "carol_02_vanishing_gradients.ipynb",
                 "dan-02.ipynb", "mary_jane_01_introduction.ipynb", "README.ipynb",
                 "eve/.ipynb_checkpoints/02_vanishing_gradients-checkpoint.ipynb"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    found, unrecognised = grade.find_submissions(tmp_path)
    assert sorted((s.student, s.relative) for s in found) == [
        ("alice", "alice/02_vanishing_gradients.ipynb"), ("bob", "bob/ch02/whatever.ipynb"),
        ("carol", "carol_02_vanishing_gradients.ipynb"), ("dan", "dan-02.ipynb"),
        ("mary_jane", "mary_jane_01_introduction.ipynb")]
    assert [p.name for p in unrecognised] == ["README.ipynb"]


def test_the_exercises_come_from_the_teacher_edition():
    chapters = grade.load_chapters()
    assert [(e.label, e.function, e.checker) for e in chapters["02_vanishing_gradients"].exercises] == [
        ("ex-vg-step-backward", "my_rnn_step_backward", "check_rnn_step_backward"),
        ("ex-vg-clip-code", "my_clip_by_norm", "check_clip_by_norm"),
        ("ex-vg-cliff", "my_cliff_wall", "check_cliff_wall")]
    assert chapters["03_gated_architectures"].exercises == ()
    assert grade.chapter_from_name("alice_02", chapters).stem == "02_vanishing_gradients"
    assert grade.chapter_from_name("notes", chapters) is None


def test_the_chapter_is_read_from_the_content():
    chapters = grade.load_chapters()
    student = _student_notebook("02_vanishing_gradients")
    assert grade.chapter_from_content(student, chapters)[0].stem == "02_vanishing_gradients"
    student.cells.pop(1)  # without the student edition's note: the nbgrader ids still say it
    assert grade.chapter_from_content(student, chapters) == (chapters["02_vanishing_gradients"],
                                                            "the nbgrader ids of its cells")
    teacher = nbformat.read(BOOK / "04_lstm_anatomy.ipynb", as_version=4)
    assert grade.chapter_from_content(teacher, chapters)[0].stem == "04_lstm_anatomy"


def test_an_endless_exercise_does_not_stop_the_next_one(tmp_path):
    """Two checks in one run: the first loops, the second is still graded (after a restart)."""
    steps = [{"kind": "cell", "index": 0, "source": "from lessons_lib.cells import rnn, gru"},
             {"kind": "cell", "index": 1, "source": "def my_gru_step(x, h_prev, params):\n    while True:\n        pass"},
             {"kind": "check", "label": "a", "function": "my_gru_step", "checker": "check_gru_step_forward",
              "defined_in": [1]},
             {"kind": "cell", "index": 3, "source": "def my_rnn_step(x, h, p):\n    return rnn.rnn_step_forward(x, h, p)"},
             {"kind": "check", "label": "b", "function": "my_rnn_step", "checker": "check_rnn_step_forward",
              "defined_in": [3]}]
    for n, step in enumerate(steps):
        step["step"] = n
    outcomes = grade.run_plan(steps, tmp_path, timeout=2.0)
    assert outcomes[2]["status"] == "timeout"
    assert outcomes[4]["status"] == "passed", outcomes[4]


def test_the_plan_runs_the_cells_before_each_check_and_skips_the_students_checker_cell():
    chapters = grade.load_chapters()
    nb = _student_notebook("02_vanishing_gradients")
    steps = grade.plan_run(nb, chapters["02_vanishing_gradients"])
    checks = [s for s in steps if s["kind"] == "check"]
    assert [s["function"] for s in checks] == ["my_rnn_step_backward", "my_clip_by_norm", "my_cliff_wall"]
    assert steps[-1] is checks[-1]
    cells = [s for s in steps if s["kind"] == "cell"]
    assert not any("checks.check_" in s["source"] for s in cells)
    assert cells[0]["index"] == min(k for k, c in enumerate(nb.cells) if c.cell_type == "code")
    exercise = [s["index"] for s in cells if "def my_clip_by_norm(" in s["source"]]
    assert checks[1]["defined_in"] == exercise
    assert steps.index(checks[0]) < next(k for k, s in enumerate(steps) if s.get("index") == exercise[0])


# ----------------------------------------------------------------------------- nbgrader

def test_a_failing_check_raises_under_nbgrader_and_only_prints_elsewhere(monkeypatch, capsys):
    from lessons_lib.teaching import checks

    def stub(x, h_prev, params):
        raise NotImplementedError("Exercise")

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not checks.check_rnn_step_forward(stub).passed
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="my_rnn_step|stub does not pass"):
        checks.check_rnn_step_forward(stub)
    assert "is not written yet" in capsys.readouterr().out
    from lessons_lib.cells import rnn
    assert checks.check_rnn_step_forward(rnn.rnn_step_forward, verbose=False).passed  # a pass does not raise


def test_the_solution_and_checker_cells_carry_nbgrader_metadata():
    for stem, chapter in grade.load_chapters().items():
        nb = nbformat.read(BOOK / f"{stem}.ipynb", as_version=4)
        ids = {}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if cell.cell_type == "code" and ("solution" in cell.metadata.get("tags", []) or "checks.check_" in cell.source):
                assert meta and meta["schema_version"] == 3 and meta["task"] is False, (stem, cell.source[:60])
                ids[meta["grade_id"]] = meta
        for e in chapter.exercises:
            assert ids[e.label]["solution"] and not ids[e.label]["grade"] and not ids[e.label]["locked"]
            check = ids[f"{e.label}-check"]
            assert check["grade"] and check["locked"] and not check["solution"] and check["points"] > 0


def test_the_nbgrader_source_keeps_the_code_solutions_and_drops_the_written_ones():
    teacher = nbformat.read(BOOK / f"{CHAPTER}.ipynb", as_version=4)
    nb, summary = edition.make_student_notebook(teacher, CHAPTER, nbgrader=True)
    assert summary.stubs == ["my_rnn_step"] and summary.solutions_removed > 0
    text = nbformat.writes(nb)
    assert "### BEGIN SOLUTION" in text and 'raise NotImplementedError("Exercise' not in text
    assert r"2 \\ln 2 / 4" in nbformat.writes(teacher) and r"2 \\ln 2 / 4" not in text
    kept = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex-intro-step"]
    assert len(kept) == 1 and "### BEGIN SOLUTION" in kept[0].source
    with pytest.raises(edition.EditionError, match="a solution marker is left"):
        edition.check_no_solutions(nb, CHAPTER)  # the ordinary student edition would refuse it


def _nbgrader(course, *args):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
                                            # nbgrader runs the `alembic` command, installed next to Python
                                            "PATH": os.pathsep.join([str(pathlib.Path(sys.executable).parent),
                                                                     os.environ.get("PATH", "")])})
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _nbgrader_course(tmp_path, exchange=None):
    """nbgrader's course folder for chapter 1, its source made by ``make_student_edition.py --nbgrader``."""
    course = tmp_path / "course"
    source = course / "source" / "ch01"
    # nbgrader's source: the teacher notebook without its written solutions, the code solutions kept
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_student_edition.py"), "--nbgrader",
                           "--out", str(source), str(BOOK / f"{CHAPTER}.ipynb")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "### BEGIN SOLUTION" in (source / f"{CHAPTER}.ipynb").read_text()
    config = "c = get_config()\nc.CourseDirectory.root = %r\nc.ExecutePreprocessor.timeout = 120\n" % str(course)
    if exchange is not None:
        config += "c.CourseDirectory.course_id = 'rnn101'\nc.Exchange.root = %r\n" % str(exchange)
    (course / "nbgrader_config.py").write_text(config)
    _nbgrader(course, "generate_assignment", "ch01", "--create", "--force")
    return course


def _answer(nb, body):
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex-intro-step")
    cell.source = body
    return nb


def _scores(course, students):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s: gb.find_submission_notebook(CHAPTER, "ch01", s).score for s in students}


def test_nbgrader_generates_and_autogrades_the_assignment(tmp_path):
    pytest.importorskip("nbgrader")
    course = _nbgrader_course(tmp_path)
    released = course / "release" / "ch01" / f"{CHAPTER}.ipynb"
    text = released.read_text()
    assert "### BEGIN SOLUTION" not in text and "raise NotImplementedError()" in text
    assert r"2 \\ln 2 / 4" in (BOOK / f"{CHAPTER}.ipynb").read_text() and r"2 \\ln 2 / 4" not in text  # written

    for student, body in [("alice", RIGHT), ("bob", None)]:
        nb = nbformat.read(released, as_version=4)
        if body:
            _answer(nb, body)
        _write(course / "submitted" / student / "ch01" / f"{CHAPTER}.ipynb", nb)
    _nbgrader(course, "autograde", "ch01", "--create", "--force")
    assert _scores(course, ("alice", "bob")) == {"alice": 1.0, "bob": 0.0}


def test_the_jupyterhub_flow_release_fetch_submit_collect_autograde(tmp_path):
    """The teacher's guide's hand-out on a hub: nbgrader's exchange, here a folder on one machine.

    On a hub every student is a user of their own; here the one user of this machine is the student,
    so the collected submission is filed under that user's name.
    """
    pytest.importorskip("nbgrader")
    import getpass
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    course = _nbgrader_course(tmp_path, exchange)
    _nbgrader(course, "release_assignment", "ch01")
    home = tmp_path / "student"
    home.mkdir()
    on_the_hub = ("--course", "rnn101", f"--Exchange.root={exchange}")
    _nbgrader(home, "fetch_assignment", "ch01", *on_the_hub)
    fetched = home / "ch01" / f"{CHAPTER}.ipynb"
    _write(fetched, _answer(nbformat.read(fetched, as_version=4), RIGHT))     # the student's work
    _nbgrader(home, "submit", "ch01", *on_the_hub)
    _nbgrader(course, "collect", "ch01")
    student = getpass.getuser()
    collected = course / "submitted" / student / "ch01" / f"{CHAPTER}.ipynb"
    assert collected.read_text() == fetched.read_text()
    _nbgrader(course, "autograde", "ch01", "--create", "--force")
    assert _scores(course, (student,)) == {student: 1.0}
    # scripts/grade.py reads nbgrader's submitted/ folder as it is, for the checkers' messages
    out = tmp_path / "gradebook.csv"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "grade.py"), str(course / "submitted"),
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["student"], r["exercise"], r["passed"]) for r in rows] == [(student, "ex-intro-step", "true")]
