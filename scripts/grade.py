"""Grade a class: run every submitted notebook's coding exercises against the library's checkers.

Usage (from the repository root):

    python scripts/grade.py SUBMISSIONS --out gradebook.csv
    python scripts/grade.py SUBMISSIONS --out gradebook.csv --feedback feedback/ --timeout 30
    python scripts/grade.py SUBMISSIONS --out gradebook.csv --chapter 02   # only chapter 2 was set

``SUBMISSIONS`` is a folder of the students' notebooks, in either layout (both
may be mixed):

- **one folder per student**: ``SUBMISSIONS/alice/02_vanishing_gradients.ipynb``;
  the folder's name is the student, and notebooks at any depth below it count
  (so nbgrader's ``submitted/alice/ch02/02_vanishing_gradients.ipynb`` works too);
- **files named after students**: ``SUBMISSIONS/alice_02_vanishing_gradients.ipynb``,
  ``alice-02_vanishing_gradients.ipynb``, or just ``alice_02.ipynb``; the
  student is everything before the first ``_`` or ``-`` that is followed by
  two digits (``mary_jane_02.ipynb`` is Mary Jane's).

A notebook's chapter is read from its content: the note that
``make_student_edition.py`` puts after the title (it names the book's
notebook), the nbgrader ids of its cells, its title, or the exercise functions
it defines, in that order. When the file name names another chapter, or
``--chapter`` was given and the content is another chapter, the notebook is
reported as from the wrong chapter and not graded.

The exercises come from the teacher edition (``book/NN_topic.ipynb``): each
code cell that calls a checker, ``checks.check_NAME(my_function)``, is one
exercise, named by the label of its ``{solution-start}`` block (such as
``ex-vg-clip-code``).

What is run for an exercise
---------------------------
A student's function may use anything the notebook defined before it (imports,
helpers, constants), so the grader runs the notebook's code cells in order, as
"Run all" would, from the first cell up to the exercise's checker cell. There
it does not run the student's copy of the checker cell (which may have been
edited); it calls the library's checker itself on the function of that name,
and records what the checker says. Then it goes on to the next exercise's
cells. An error in a cell is recorded and the run goes on, so one broken
exercise does not stop the next from being graded. Cells after the last
exercise are not run, and a notebook of a chapter without checked exercises is
not run at all.

Each notebook runs in its own Python subprocess (``sys.executable``, with
``MPLBACKEND=Agg`` and one BLAS thread), in a temporary folder that holds a
copy of the notebook: the submissions folder is only read, never written. The
cells run in IPython's shell (no Jupyter kernel is started), so magics and
``display`` work. Every cell, and every checker call, has a time limit
(``--timeout``, default 30 seconds; the chapters' longest cell takes a few
seconds). When a step goes over it, or kills the subprocess, the subprocess is
stopped and started again without that step, re-running the cells before it;
the step is reported as a timeout (or a crash), and grading goes on. What a
step prints is kept up to 20 000 characters (``--max-output``); the rest is
counted and dropped.

What is written
---------------
- ``--out`` (CSV): one row per student, notebook and exercise, with the columns
  student, notebook, chapter, exercise, function, passed (true/false), status,
  message (on one line) and seconds (the time of the exercise's own cells and
  of its check). The status is one of ``passed``, ``failed`` (the checker's
  message says what differs), ``not written`` (the stub still raises
  ``NotImplementedError``), ``missing`` (no function of that name was defined),
  ``error``, ``timeout``, ``crashed``, ``invalid notebook``, ``wrong chapter``,
  ``no notebook`` (with ``--chapter``), ``no exercises`` (a chapter without
  checked exercises), ``unrecognised``.
- ``--feedback`` (default: a folder ``feedback`` next to the CSV): one
  Markdown file per student, ``STUDENT.md``, with each exercise's result and
  the checker's feedback, to hand back.
- A summary on the standard output: students, exercises, passes, and the
  exercises with the lowest pass rate.

This is a grader for a class, not a sandbox: the students' code runs with the
teacher's rights. It is kept in a temporary folder and a subprocess, which
protects the submissions against careless code, not against malicious code.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import pathlib
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_OUTPUT = 20_000
#: Extra seconds a step gets beyond the time limit before the subprocess is stopped (start-up, messages).
GRACE = 2.0
FIELDS = ["student", "notebook", "chapter", "exercise", "function", "passed", "status", "message", "seconds"]

_CHECK_CALL = re.compile(r"\bcheck_(?P<checker>\w+)\(\s*(?P<function>[A-Za-z_]\w*)")
_SOLUTION_START = re.compile(r"^ {0,3}(?:`{3,}|:{3,})\{solution-start\}\s*(?P<label>[\w-]+)", re.MULTILINE)
_CHAPTER_STEM = re.compile(r"(?<![0-9])(?P<number>\d{2})(?:[_-](?P<topic>[A-Za-z0-9_]+))?$")
_BY_NAME = re.compile(r"^(?P<student>.+?)[_-](?P<number>\d{2})(?:[_-].*)?$")
_NOTE_SOURCE = re.compile(r"(?P<stem>\d{2}_\w+)\.ipynb")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# ----------------------------------------------------------------------------- the teacher edition

@dataclasses.dataclass(frozen=True)
class Exercise:
    """One checked coding exercise of a chapter."""

    label: str     # the exercise's label in the book, e.g. "ex-vg-clip-code"
    function: str  # the function the student writes, e.g. "my_clip_by_norm"
    checker: str   # the checker's name in lessons_lib.teaching.checks, e.g. "check_clip_by_norm"


@dataclasses.dataclass(frozen=True)
class Chapter:
    """A chapter of the book, as the grader knows it."""

    stem: str                        # "02_vanishing_gradients"
    title: str                       # the first heading of the notebook
    exercises: tuple[Exercise, ...]

    @property
    def number(self) -> str:
        return self.stem[:2]


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _title(cells) -> str | None:
    """The text of the first ``# `` heading of the notebook's first markdown cells."""
    for cell in cells[:3]:
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def exercises_of(nb) -> tuple[Exercise, ...]:
    """The checked exercises of a teacher notebook: one per code cell that calls a checker."""
    found = []
    label = None
    for cell in nb["cells"]:
        source = _source(cell)
        if cell.get("cell_type") == "markdown":
            for match in _SOLUTION_START.finditer(source):
                label = match["label"]
        elif cell.get("cell_type") == "code" and "checks.check_" in source:
            match = _CHECK_CALL.search(source)
            if match:
                checker = f"check_{match['checker']}"
                found.append(Exercise(label or match["function"], match["function"], checker))
                label = None
    return tuple(found)


def load_chapters(book: pathlib.Path = BOOK) -> dict[str, Chapter]:
    """Every chapter of the teacher edition under ``book``, by stem."""
    chapters = {}
    for path in sorted(book.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        chapters[path.stem] = Chapter(path.stem, _title(nb["cells"]) or path.stem, exercises_of(nb))
    return chapters


# ----------------------------------------------------------------------------- the submissions

@dataclasses.dataclass(frozen=True)
class Submission:
    """One submitted notebook."""

    student: str
    path: pathlib.Path      # the file in the submissions folder
    relative: str           # its path relative to the submissions folder, for the gradebook


def find_submissions(folder: pathlib.Path) -> tuple[list[Submission], list[pathlib.Path]]:
    """The notebooks under ``folder`` with their students, and the top-level notebooks whose names
    name no student."""
    found, unrecognised = [], []
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part in ("__pycache__", "_build") for part in relative.parts[:-1]):
            continue  # .ipynb_checkpoints and other hidden folders
        if len(relative.parts) > 1:
            found.append(Submission(relative.parts[0], path, relative.as_posix()))
            continue
        match = _BY_NAME.match(path.stem)
        if match:
            found.append(Submission(match["student"], path, relative.as_posix()))
        else:
            unrecognised.append(path)
    return found, unrecognised


def chapter_from_name(name: str, chapters: dict[str, Chapter]) -> Chapter | None:
    """The chapter a file name names: a chapter's stem, or its two-digit number, at the end of the name."""
    for stem, chapter in chapters.items():
        if name.endswith(stem):
            return chapter
    match = _CHAPTER_STEM.search(name)
    if match:
        by_number = [c for c in chapters.values() if c.number == match["number"]]
        if len(by_number) == 1:
            return by_number[0]
    return None


def chapter_from_content(nb, chapters: dict[str, Chapter]) -> tuple[Chapter | None, str]:
    """The chapter a notebook holds, and how it was recognised ("" when it was not)."""
    cells = nb.get("cells", [])
    for cell in cells[:4]:  # the student edition's note names the book's notebook
        if cell.get("cell_type") == "markdown" and "Student edition" in _source(cell):
            match = _NOTE_SOURCE.search(_source(cell))
            if match and match["stem"] in chapters:
                return chapters[match["stem"]], "the student edition's note"
    ids = {cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") for cell in cells}
    ids.discard(None)
    if ids:
        owners = [c for c in chapters.values() if ids & {e.label for e in c.exercises}]
        if len(owners) == 1:
            return owners[0], "the nbgrader ids of its cells"
    title = _title(cells)
    if title:
        owners = [c for c in chapters.values() if c.title == title]
        if len(owners) == 1:
            return owners[0], "its title"
    defined = set()
    for cell in cells:
        if cell.get("cell_type") == "code":
            defined |= set(re.findall(r"^\s*def\s+(\w+)\s*\(", _source(cell), re.MULTILINE))
    owners = [c for c in chapters.values() if c.exercises and defined >= {e.function for e in c.exercises}]
    if len(owners) == 1:
        return owners[0], "the exercise functions it defines"
    return None, ""


# ----------------------------------------------------------------------------- the plan of a run

def _defines(source: str, function: str) -> bool:
    return re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(function)}\s*\(", source, re.MULTILINE) is not None \
        or re.search(rf"^{re.escape(function)}\s*=", source, re.MULTILINE) is not None


def plan_run(nb, chapter: Chapter) -> list[dict]:
    """The steps the worker runs for a notebook: its code cells in order, up to the last exercise,
    with a ``check`` step for each exercise in place of the student's checker cell.

    An exercise's check goes where its checker cell is (found by its nbgrader id or by the call of
    its checker on its function), or after the last cell that defines its function if that comes
    later; without either, at the end, where it reports the function missing.
    """
    cells = nb.get("cells", [])
    code = [(k, _source(c), c.get("metadata", {}).get("nbgrader", {}).get("grade_id"))
            for k, c in enumerate(cells) if c.get("cell_type") == "code"]
    checker_cells: set[int] = set()
    end = max((k for k, _, _ in code), default=-1) + 1
    items = []  # (position in the notebook, cells before checks at one position, step)
    for exercise in chapter.exercises:
        calls = [k for k, src, gid in code
                 if gid == f"{exercise.label}-check"
                 or re.search(rf"\b{exercise.checker}\(\s*{re.escape(exercise.function)}\b", src)]
        defs = [k for k, src, _ in code if _defines(src, exercise.function)]
        if calls:  # after the last definition too, in case the student moved the cells around
            anchor = max([calls[-1]] + [d + 0.5 for d in defs[-1:]])
            checker_cells.update(calls)
        else:
            anchor = defs[-1] + 0.5 if defs else end
        items.append((anchor, 1, {"kind": "check", "label": exercise.label, "function": exercise.function,
                                  "checker": exercise.checker, "defined_in": [k for k in defs if k < anchor]}))
    last = max((a for a, _, _ in items), default=-1)
    items += [(k, 0, {"kind": "cell", "index": k, "source": src}) for k, src, _ in code
              if k not in checker_cells and k < last]
    steps = [step for _, _, step in sorted(items, key=lambda item: item[:2])]
    for n, step in enumerate(steps):
        step["step"] = n
    return steps


# ----------------------------------------------------------------------------- running a plan

class _Reader(threading.Thread):
    """Reads a pipe line by line into a queue (the protocol) or into a capped buffer (the noise)."""

    def __init__(self, stream, lines: queue.Queue | None = None, cap: int = DEFAULT_MAX_OUTPUT):
        super().__init__(daemon=True)
        self.stream, self.lines, self.cap = stream, lines, cap
        self.kept: list[str] = []
        self.size = 0

    def run(self):
        try:
            for line in iter(self.stream.readline, b""):
                if self.lines is not None:
                    self.lines.put(line)
                elif self.size < self.cap:
                    self.kept.append(line.decode("utf-8", "replace"))
                self.size += len(line)
        except (OSError, ValueError):  # the pipe was closed under it
            pass
        if self.lines is not None:
            self.lines.put(None)


def _worker_env() -> dict:
    env = dict(os.environ)
    env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8", TQDM_DISABLE="1")
    env.pop("NBGRADER_EXECUTION", None)  # the checkers return their result here; they need not raise
    src = str(ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [env.get("PYTHONPATH"), src] if p)
    return env


def run_plan(steps: list[dict], workdir: pathlib.Path, timeout: float = DEFAULT_TIMEOUT,
             max_output: int = DEFAULT_MAX_OUTPUT) -> dict[int, dict]:
    """Run ``steps`` in a worker subprocess in ``workdir``; the outcome of each step, by step number.

    A step that goes over ``timeout`` seconds, or ends the subprocess, is recorded as a timeout or
    a crash; the subprocess is then started again without that step (and without the checks
    already done), so that every other step still runs.
    """
    outcomes: dict[int, dict] = {}
    skipped: set[int] = set()
    while True:
        todo = [s for s in steps if s["step"] not in skipped
                and not (s["kind"] == "check" and s["step"] in outcomes)]
        if not any(s["kind"] == "check" for s in todo):
            break
        failed = _run_worker(todo, workdir, timeout, max_output, outcomes)
        if failed is None:
            break
        skipped.add(failed)
    return outcomes


def _run_worker(todo, workdir, timeout, max_output, outcomes) -> int | None:
    """One worker process over ``todo``; the step number it stopped at, or None if it finished."""
    job = {"steps": todo, "max_output": max_output}
    env = _worker_env()
    env["IPYTHONDIR"] = str(workdir.parent / ".ipython")  # not the teacher's profile
    process = subprocess.Popen([sys.executable, str(pathlib.Path(__file__).resolve()), "--worker"],
                               cwd=workdir, env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: queue.Queue = queue.Queue()
    out, err = _Reader(process.stdout, lines), _Reader(process.stderr, cap=max_output)
    out.start()
    err.start()
    try:
        process.stdin.write(json.dumps(job).encode())
        process.stdin.close()
    except OSError:
        pass
    current, started = None, time.monotonic()
    deadline = started + 60 + timeout  # the worker's start-up: Python, IPython, numpy, the library
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return _stop(process, current, "timeout", f"took longer than {timeout:g} s", outcomes)
            if line is None:
                process.wait()
                if current is None and not any(s["kind"] == "check" and s["step"] not in outcomes for s in todo):
                    return None
                err.join(1)
                tail = "".join(err.kept)[-1000:].strip()
                reason = f"the Python process ended (exit code {process.returncode})" + (f": {tail}" if tail else "")
                if current is None:  # ended before its first step: nothing to skip, nothing can run
                    for s in todo:
                        if s["kind"] == "check" and s["step"] not in outcomes:
                            outcomes[s["step"]] = _failure(s, "crashed", reason, 0.0)
                    return None
                return _stop(process, current, "crashed", reason, outcomes)
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("event") == "start":
                current = next(s for s in todo if s["step"] == message["step"])
                current["_started"] = time.monotonic()
                deadline = current["_started"] + timeout + GRACE
            elif message.get("event") == "end":
                outcomes[message["step"]] = message
                current = None
                deadline = time.monotonic() + timeout + GRACE
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for reader in (out, err):  # a child process of the student's code may still hold a pipe open
            reader.join(2)
            reader.stream.close()


def _failure(step, status, detail, seconds) -> dict:
    if step["kind"] == "check":
        message = f"{step['function']}: the check {detail}."
    else:
        message = f"cell {step['index']} {detail}."
    return {"event": "end", "step": step["step"], "status": status, "message": message, "seconds": seconds,
            "output": ""}


def _stop(process, current, status, detail, outcomes) -> int | None:
    process.kill()
    process.wait()
    if current is None:
        return None
    seconds = time.monotonic() - current.get("_started", time.monotonic())
    outcomes[current["step"]] = _failure(current, status, detail, seconds)
    return current["step"]


# ----------------------------------------------------------------------------- the worker (a subprocess)

class _CappedWriter:
    """A text stream that keeps its first ``cap`` characters and counts the rest."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, cap: int):
        self.cap, self.parts, self.size = cap, [], 0

    def write(self, text) -> int:
        text = str(text)
        if self.size < self.cap:
            self.parts.append(text[: self.cap - self.size])
        self.size += len(text)
        return len(text)

    def flush(self):
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def text(self) -> str:
        kept = _ANSI.sub("", "".join(self.parts))
        if self.size > self.cap:
            kept += f"\n[... {self.size - self.cap} more characters of output dropped]"
        return kept


def _shell():
    """An IPython shell to run cells in (magics, ``display``), or None to use ``exec``."""
    try:
        from IPython.core.interactiveshell import InteractiveShell
    except ImportError:
        return None
    from traitlets.config import Config
    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell.instance(config=config, colors="nocolor")


def _run_cell(shell, namespace: dict, source: str) -> BaseException | None:
    if shell is None:
        try:
            exec(compile(source, "<cell>", "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001 - the student's error is a result
            import traceback
            traceback.print_exc(file=sys.stdout)
            return exc
        return None
    result = shell.run_cell(source, store_history=False)
    return result.error_before_exec or result.error_in_exec


def worker_main() -> int:
    """Run the steps read from stdin; write one JSON line per step start and end to the protocol pipe."""
    job = json.loads(sys.stdin.read())
    # The protocol goes to a private copy of stdout; what the student's code writes to the
    # file descriptors 1 and 2 themselves (C code, child processes) goes nowhere.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    cap = job["max_output"]
    real_stdout, real_stderr = sys.stdout, sys.stderr

    def send(**message):
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    warnings.simplefilter("ignore")
    from lessons_lib.teaching import checks  # taken before any student code runs: it cannot be replaced
    checkers = {name: getattr(checks, name) for name in checks.__all__ if name.startswith("check_")}
    shell = _shell()
    namespace = shell.user_ns if shell is not None else {"__name__": "__main__"}
    cell_errors: dict[int, str] = {}
    for step in job["steps"]:
        send(event="start", step=step["step"])
        start = time.monotonic()
        sys.stdout = sys.stderr = writer = _CappedWriter(cap)
        try:
            if step["kind"] == "cell":
                error = _run_cell(shell, namespace, step["source"])
                status, message = "ok", ""
                if error is not None:
                    status = "error"
                    message = f"cell {step['index']} raised {_describe(error)}"
                    cell_errors[step["index"]] = message
            else:
                status, message = _check(step, namespace, checkers, cell_errors)
        finally:
            sys.stdout, sys.stderr = real_stdout, real_stderr
        _close_figures()
        send(event="end", step=step["step"], status=status, message=message,
             seconds=round(time.monotonic() - start, 3), output=writer.text())
    return 0


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}" + (f": {text}" if text else "")


def _check(step, namespace, checkers, cell_errors) -> tuple[str, str]:
    name = step["function"]
    broken = [cell_errors[k] for k in step["defined_in"] if k in cell_errors]
    function = namespace.get(name)
    if function is None:
        if broken:
            return "missing", f"{name} is not defined: its {broken[-1]}."
        if step["defined_in"]:
            return "missing", f"{name} is not defined after its cell ran."
        return "missing", f"no cell defines {name}: was its cell renamed or deleted?"
    if not callable(function):
        return "missing", f"{name} is a {type(function).__name__}, not a function."
    checker = checkers.get(step["checker"])
    if checker is None:
        return "error", f"the library has no checker {step['checker']}."
    try:
        result = checker(function, verbose=False)
    except BaseException as exc:  # noqa: BLE001 - whatever the student's function does, grading goes on
        return "error", f"the checker stopped: {_describe(exc)}"
    note = f"\n(Note: its {broken[-1]}.)" if broken else ""
    if result.passed:
        return "passed", result.message + note
    return ("not written" if result.not_written else "failed"), result.message + note


def _close_figures():
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# ----------------------------------------------------------------------------- grading

@dataclasses.dataclass
class Row:
    """One line of the gradebook."""

    student: str
    notebook: str
    chapter: str
    exercise: str
    function: str
    passed: bool
    status: str
    message: str
    seconds: float
    output: str = ""   # what the exercise's check printed (feedback only, not in the CSV)

    def csv(self) -> dict:
        return {"student": self.student, "notebook": self.notebook, "chapter": self.chapter,
                "exercise": self.exercise, "function": self.function, "passed": "true" if self.passed else "false",
                "status": self.status, "message": " ".join(self.message.split()), "seconds": f"{self.seconds:.2f}"}


def _rows_for(submission, chapter, exercises, status, message) -> list[Row]:
    chapter_name = chapter.stem if chapter else ""
    if not exercises:
        return [Row(submission.student, submission.relative, chapter_name, "", "", False, status, message, 0.0)]
    return [Row(submission.student, submission.relative, chapter_name, e.label, e.function, False, status,
                message, 0.0) for e in exercises]


def grade_notebook(submission: Submission, chapters: dict[str, Chapter], scratch: pathlib.Path,
                   timeout: float = DEFAULT_TIMEOUT, max_output: int = DEFAULT_MAX_OUTPUT,
                   assigned: set[str] | None = None) -> tuple[list[Row], list[str]]:
    """Grade one submitted notebook: its gradebook rows and notes for the feedback.

    The notebook is read once from the submissions folder; it runs from a copy in a new folder
    under ``scratch``.
    """
    data = submission.path.read_bytes()
    by_name = chapter_from_name(submission.path.stem, chapters)
    try:
        import nbformat
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a result
        reason = _describe(exc).replace("\n", " ")
        return _rows_for(submission, by_name, by_name.exercises if by_name else (), "invalid notebook",
                         f"{submission.relative} is not a valid notebook ({reason[:300]}); it was not graded."), []
    by_content, how = chapter_from_content(nb, chapters)
    expected = by_name
    if assigned and (expected is None or expected.stem not in assigned):
        expected = by_content if by_content and by_content.stem in assigned else expected
    if by_content and expected and by_content != expected:
        reason = "its name says" if expected is by_name else "the assignment is"
        return _rows_for(submission, expected, expected.exercises, "wrong chapter",
                         f"{submission.relative} holds chapter {by_content.stem} ({by_content.title}, recognised by "
                         f"{how}), but {reason} chapter {expected.stem}; it was not graded."), []
    chapter = by_content or expected
    notes = []
    if chapter is None:
        return _rows_for(submission, None, (), "unrecognised",
                         f"{submission.relative} is no chapter of the book that the grader recognises; it was not "
                         f"graded."), []
    if assigned and chapter.stem not in assigned:
        return _rows_for(submission, chapter, (), "wrong chapter",
                         f"{submission.relative} holds chapter {chapter.stem}, which was not set "
                         f"(--chapter); it was not graded."), []
    if by_content is None:
        notes.append(f"The content of {submission.relative} did not say which chapter it is; it was graded as "
                     f"chapter {chapter.stem}, as its name says.")
    if not chapter.exercises:
        return _rows_for(submission, chapter, (), "no exercises",
                         f"chapter {chapter.stem} has no checked coding exercises."), notes
    steps = plan_run(nb, chapter)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="work-", dir=scratch))
    (workdir / submission.path.name).write_bytes(data)
    try:
        outcomes = run_plan(steps, workdir, timeout, max_output)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows = []
    for step in steps:
        outcome = outcomes.get(step["step"], {})
        if step["kind"] == "cell":
            if outcome.get("status") in ("error", "timeout", "crashed"):
                first = next((line.strip() for line in step["source"].splitlines() if line.strip()), "")
                notes.append(f"In {submission.relative}, the code cell that starts `{first[:60]}`: "
                             f"{outcome['message'].rstrip('.')}.")
            continue
        status = outcome.get("status", "error")
        message = outcome.get("message") or "the check did not run."
        seconds = outcome.get("seconds", 0.0) + sum(
            outcomes.get(s["step"], {}).get("seconds", 0.0) for s in steps
            if s["kind"] == "cell" and s["index"] in step["defined_in"])
        rows.append(Row(submission.student, submission.relative, chapter.stem, step["label"], step["function"],
                        status == "passed", status, message, seconds, outcome.get("output", "")))
    return rows, notes


def grade(folder: pathlib.Path, chapters: dict[str, Chapter], timeout: float = DEFAULT_TIMEOUT,
          max_output: int = DEFAULT_MAX_OUTPUT, assigned: set[str] | None = None, jobs: int = 1,
          progress=None) -> tuple[list[Row], dict[str, list[str]]]:
    """Grade every notebook under ``folder``: the gradebook rows, and the feedback notes by student."""
    submissions, unrecognised = find_submissions(folder)
    rows: list[Row] = []
    notes: dict[str, list[str]] = {}
    for path in unrecognised:
        rows.append(Row(path.stem, path.name, "", "", "", False, "unrecognised",
                        f"{path.name}: the file name names no student (expected STUDENT_NN_topic.ipynb, or a folder "
                        f"per student); it was not graded.", 0.0))
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch:
        def one(submission):
            result = grade_notebook(submission, chapters, pathlib.Path(scratch), timeout, max_output, assigned)
            if progress:
                progress(submission, result[0])
            return submission, result

        if jobs > 1:
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(jobs) as pool:
                results = list(pool.map(one, submissions))
        else:
            results = [one(s) for s in submissions]
    for submission, (got, said) in results:
        rows += got
        notes.setdefault(submission.student, []).extend(said)
    if assigned:
        students = sorted({s.student for s in submissions})
        for student in students:
            for stem in sorted(assigned):
                if not any(r.student == student and r.chapter == stem for r in rows):
                    chapter = chapters[stem]
                    rows += [Row(student, "", stem, e.label, e.function, False, "no notebook",
                                 f"no notebook of chapter {stem} was found for {student}.", 0.0)
                             for e in chapter.exercises]
    rows.sort(key=lambda r: (r.student, r.chapter, r.notebook))
    return rows, notes


# ----------------------------------------------------------------------------- output

def write_csv(rows: list[Row], path: pathlib.Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.csv())


def _safe_name(student: str) -> str:
    return re.sub(r"[^\w.-]+", "_", student).strip("._") or "student"


def write_feedback(rows: list[Row], notes: dict[str, list[str]], folder: pathlib.Path,
                   chapters: dict[str, Chapter]) -> dict[str, pathlib.Path]:
    """One Markdown file per student in ``folder``; the files by student."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for student in sorted({r.student for r in rows}):
        mine = [r for r in rows if r.student == student]
        graded = [r for r in mine if r.exercise]
        passed = sum(r.passed for r in graded)
        lines = [f"# Feedback for {student}", "",
                 f"{passed} of {len(graded)} checked exercises pass." if graded else "No exercise was graded.", ""]
        for notebook in dict.fromkeys(r.notebook for r in mine):
            these = [r for r in mine if r.notebook == notebook]
            chapter = chapters.get(these[0].chapter)
            heading = f"`{notebook}`" if notebook else "(no notebook)"
            if chapter:
                heading += f": chapter {chapter.number}, {chapter.title}"
            lines += [f"## {heading}", ""]
            for r in these:
                mark = "passed" if r.passed else r.status
                title = f"`{r.function}` ({r.exercise})" if r.exercise else "the notebook"
                lines += [f"### {title}: {mark}", "", "```text", r.message.strip(), "```", ""]
                if r.output.strip() and not r.passed:
                    lines += ["What it printed:", "", "```text", r.output.strip()[:2000], "```", ""]
        if notes.get(student):
            lines += ["## Notes", ""] + [f"- {n}" for n in notes[student]] + [""]
        path = folder / f"{_safe_name(student)}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        written[student] = path
    return written


def summary(rows: list[Row], hardest: int = 3) -> str:
    """A few lines for the teacher: students, exercises, passes, the hardest exercises."""
    graded = [r for r in rows if r.exercise]
    students = sorted({r.student for r in rows})
    exercises = sorted({(r.chapter, r.exercise) for r in graded})
    passed = sum(r.passed for r in graded)
    plural = "" if len(exercises) == 1 else "s"
    lines = [f"{len(students)} students, {len({r.notebook for r in rows if r.notebook})} notebooks, "
             f"{len(exercises)} exercise{plural}: {passed} of {len(graded)} results pass."]
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    lines.append("By status: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items(), key=lambda kv: -kv[1])))
    rates = []
    for chapter, label in exercises:
        these = [r for r in graded if r.exercise == label and r.chapter == chapter]
        rates.append((sum(r.passed for r in these) / len(these), label, sum(r.passed for r in these), len(these)))
    if rates:
        lines.append("Hardest exercises (lowest pass rate):")
        for rate, label, k, n in sorted(rates)[:hardest]:
            lines.append(f"  {label}: {k} of {n} pass ({rate:.0%})")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return worker_main()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", type=pathlib.Path, help="the folder of submitted notebooks (only read)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("gradebook.csv"),
                        help="the gradebook to write (default: gradebook.csv)")
    parser.add_argument("--feedback", type=pathlib.Path, default=None,
                        help="folder for one Markdown feedback file per student (default: 'feedback' next to --out)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"time limit in seconds of each cell and each checker call (default: {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--max-output", type=int, default=DEFAULT_MAX_OUTPUT,
                        help=f"characters of output kept per cell (default: {DEFAULT_MAX_OUTPUT})")
    parser.add_argument("--chapter", action="append", default=[],
                        help="a chapter that was set, by number or stem (repeatable): other chapters are reported as "
                             "wrong, and a student without it is reported")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default: 1)")
    parser.add_argument("--book", type=pathlib.Path, default=BOOK,
                        help="the folder of the teacher edition's notebooks (default: the book)")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        print(f"grade: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    chapters = load_chapters(args.book)
    assigned = None
    if args.chapter:
        assigned = set()
        for name in args.chapter:
            chapter = chapters.get(name) or chapter_from_name(name, chapters)
            if chapter is None:
                print(f"grade: no chapter {name!r}; the chapters are {', '.join(chapters)}", file=sys.stderr)
                return 2
            assigned.add(chapter.stem)

    def progress(submission, rows):
        done = ", ".join(f"{r.exercise or 'notebook'} {r.status}" for r in rows)
        print(f"{submission.relative}: {done}", flush=True)

    rows, notes = grade(args.submissions, chapters, args.timeout, args.max_output, assigned, args.jobs, progress)
    write_csv(rows, args.out)
    feedback = args.feedback or args.out.parent / "feedback"
    write_feedback(rows, notes, feedback, chapters)
    print(summary(rows))
    print(f"Wrote {args.out} and {len({r.student for r in rows})} feedback files in {feedback}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
