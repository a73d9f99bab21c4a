"""Checkers for the coding exercises: run a reader's function against the library's reference.

Each checker calls the reader's function on a few random cases (several
shapes, float64, drawn from an explicit ``np.random.Generator``), compares
every output with what the library computes, and prints feedback: which
output differs, in which case, and by how much (the relative error of
:func:`~lessons_lib.gradcheck.rel_error`).  It also returns a
:class:`CheckResult`, so that a test can assert on it.

A typical mistake is recognised by computing it.  Each checker holds a list
of :class:`Mistake` objects, deliberately wrong versions of the function (a
transposed weight, a missing bias, the other GRU convention, a forgotten
``1 - h**2``, clipping each array separately...).  When a wrong output
equals one of them, the feedback names the mistake and says how to fix it.

The reader's functions have these signatures (``N`` batch, ``D`` input,
``H`` hidden; every array float64):

======================================  ========================================================
checker                                 the reader's function
======================================  ========================================================
:func:`check_rnn_step_forward`          ``f(x, h_prev, params) -> h``
:func:`check_rnn_step_backward`         ``f(dh, x, h_prev, h, params) -> (dx, dh_prev, grads)``
:func:`check_lstm_step_forward`         ``f(x, h_prev, c_prev, params) -> (h, c)``
:func:`check_gru_step_forward`          ``f(x, h_prev, params) -> h``
:func:`check_gru_step_backward`         ``f(dh, x, h_prev, params) -> (dx, dh_prev, grads)``
:func:`check_clip_by_norm`              ``f(grads, max_norm) -> clipped``
:func:`check_cliff_wall`                ``f(T) -> (w, peak)``, a measurement (not random cases)
:func:`check_bidirectional_layer`       ``f(kind, layer, x, lengths) -> out``
:func:`check_linear_scan`               ``f(a, b, h0) -> h``, by a scan
======================================  ========================================================

``params`` and ``grads`` are dicts with the keys ``W_x``, ``W_h``, ``b_x``,
``b_h`` of :func:`~lessons_lib.cells.initialisation.init_params`.  A forward
function may also return a tuple whose first items are the outputs (the
library's own step functions return a cache as well), so each checker also
accepts the library's function itself.

Under nbgrader (when the environment variable ``NBGRADER_EXECUTION`` is set,
as ``nbgrader autograde`` and ``nbgrader validate`` do), a checker whose
function does not pass raises :class:`CheckFailed`, an ``AssertionError``,
after printing its feedback: an autograder cell must fail to lose its points.
Elsewhere it only prints, so that "Run all" in a student's notebook goes on
past an unfinished exercise.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
import textwrap
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..analysis.gradient_flow import CliffWall, bifurcation_weight, cliff_wall
from ..cells import gru, lstm, rnn
from ..cells.activations import sigmoid
from ..cells.dispatch import sequence_forward, zero_state
from ..cells.linear_recurrence import linear_recurrence
from ..cells.stacked import reverse_index, stacked_forward
from ..gradcheck import rel_error
from ..training.clipping import clip_by_norm

#: An output whose relative error to the reference is below this counts as right.
TOLERANCE = 1e-8
#: A wrong output this close to a known mistake is taken to be that mistake.
MATCH_TOLERANCE = 1e-6
#: (N, D, H) of the random cases. D != H in two of them, so that a transposed W_x
#: fails loudly; D == H in one, so that its numbers can be compared with the mistake.
CELL_SHAPES = ((2, 3, 4), (3, 4, 4), (1, 5, 2))
#: Feedback is wrapped to this many characters, to fit a notebook's output area and the book's pages.
WIDTH = 76
_GATE_COUNT = {"rnn": 1, "lstm": 4, "gru": 3}
_PARAM_KEYS = ("W_x", "W_h", "b_x", "b_h")


# ----------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Problem:
    """One thing that differs from the reference."""

    #: Which random case, e.g. ``"N=2, D=3, H=4"``.
    case: str
    #: Which output (``"h"``, ``"grads['W_h']"``) or input (for ``"input changed"``); ``""`` for the whole call.
    output: str
    #: ``"error"`` (it raised), ``"form"`` (it returned something else), ``"missing"``, ``"shape"``,
    #: ``"not finite"``, ``"value"``, ``"input changed"`` or ``"sequential"`` (right values, but step by step).
    kind: str
    #: One sentence for the reader.
    detail: str
    #: Relative error to the reference, for ``"value"`` problems.
    rel_error: float | None = None


@dataclass(frozen=True)
class CheckResult:
    """What a checker found; ``message`` is the text it printed."""

    function: str                  #: name of the reader's function
    reference: str                 #: what it was compared with
    passed: bool                   #: every output of every case agrees with the reference
    not_written: bool              #: the function still raises ``NotImplementedError``
    cases: tuple[str, ...]         #: the random cases, in order
    problems: tuple[Problem, ...]  #: everything that differs
    mistakes: tuple[str, ...]      #: keys of the typical mistakes recognised, in the order found
    hints: tuple[str, ...]         #: the advice printed, one paragraph each
    message: str                   #: the full feedback

    @property
    def mistake(self) -> str | None:
        """The first typical mistake recognised, or None."""
        return self.mistakes[0] if self.mistakes else None

    @property
    def wrong_outputs(self) -> tuple[str, ...]:
        """Names of the outputs with a problem, in order of first appearance."""
        return tuple(dict.fromkeys(p.output for p in self.problems if p.output))

    def __str__(self) -> str:
        return self.message


class CheckFailed(AssertionError):
    """Raised by a checker whose function does not pass, when the notebook is graded by nbgrader."""


def _graded() -> bool:
    """Whether the checkers run under nbgrader's autograder or validator."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def _finish(result: "CheckResult", verbose: bool) -> "CheckResult":
    """Print the feedback if asked; under nbgrader, raise :class:`CheckFailed` if the check failed."""
    if verbose:
        print(result.message)
    if not result.passed and _graded():
        raise CheckFailed(f"{result.function} does not pass {result.reference}'s check yet"
                          + (": see the feedback above." if verbose else f".\n{result.message}"))
    return result


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer, computed, and the advice to give when a reader's output equals it."""

    key: str   #: short identifier, e.g. ``"transposed_W_h"``
    hint: str  #: what went wrong and how to fix it
    #: The wrong answer's outputs for a case's inputs (same names as the reference's). It may
    #: return None, or raise ``ValueError``, where it cannot be computed (a transposed ``W_x`` needs D == H).
    compute: Callable[[dict], dict | None]


@dataclass
class _Case:
    label: str
    inputs: dict    # argument name -> value, in call order
    expected: dict  # output name -> array
    tolerance: float = TOLERANCE  # a measurement, not an exact computation, may differ by more than rounding


class _Missing:
    """An output the function did not return (a missing key of ``grads``, say)."""

    def __init__(self, detail: str):
        self.detail = detail


class _FormError(Exception):
    """The function returned something that is not of the expected form."""


# ----------------------------------------------------------------------------- the engine

def _check_callable(checker: str, function) -> str:
    if not callable(function):
        raise TypeError(f"{checker} needs your function itself, for example {checker}(my_function), "
                        f"without calling it; got {type(function).__name__}")
    return getattr(function, "__name__", "your function")


def _fmt(e: float) -> str:
    return f"{e:.2g}"


def _fmt_tolerance(t: float) -> str:
    """``1e-8`` rather than Python's ``1e-08``; ``0.005`` as it is."""
    return f"{t:.0e}".replace("e-0", "e-") if t < 1e-3 else f"{t:g}"


def _where(exc: BaseException, function) -> str:
    """`` at the line `...` `` of the reader's function where ``exc`` was raised, if it can be found."""
    code = getattr(getattr(function, "__wrapped__", function), "__code__", None)  # the reader's own code
    if code is None:
        return ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == code.co_filename]
    if not frames or not frames[-1].line:
        return ""
    return f", at the line `{frames[-1].line.strip()}`"


def _exception_hint(exc: Exception) -> str | None:
    text = str(exc)
    if isinstance(exc, ValueError) and any(w in text for w in ("matmul", "shapes", "broadcast", "aligned")):
        return ("A shape error in a product usually means a transposed weight. Here a batch keeps one "
                "example per row, so W x for every row is x @ W.T: (N, D) @ (D, H) gives (N, H).")
    if isinstance(exc, KeyError):
        return (f"KeyError {text}: the dicts here have the keys {', '.join(map(repr, _PARAM_KEYS))}. "
                "The bias of the equations is b_x + b_h.")
    return None


def _as_output(name: str, value, function: str):
    if value is None:
        raise _FormError(f"{function} returned None for {name}; is a `return` missing?")
    if isinstance(value, _Missing):
        return value
    arr = np.asarray(value) if not isinstance(value, Mapping) else None
    if arr is None or arr.dtype.kind not in "biuf":
        raise _FormError(f"{name} should be an array of numbers, got {type(value).__name__}")
    return arr


def _compare(case: str, name: str, got, want: np.ndarray, tolerance: float = TOLERANCE) -> Problem | None:
    if isinstance(got, _Missing):
        return Problem(case, name, "missing", got.detail)
    if got.shape != want.shape:
        detail = f"{name} has shape {got.shape}, expected {want.shape}"
        if got.shape == want.shape[::-1] and got.ndim == 2:
            detail += "; it looks transposed"
        elif got.shape[1:] == want.shape and got.ndim == want.ndim + 1:
            detail += "; it keeps the batch axis: sum over it with .sum(axis=0)"
        return Problem(case, name, "shape", detail + ".")
    if not np.all(np.isfinite(got)):
        return Problem(case, name, "not finite", f"{name} contains inf or nan.")
    err = rel_error(got, want)
    if err > tolerance:
        return Problem(case, name, "value", f"{name} is off by a relative error of {_fmt(err)}.", err)
    return None


def _changed_inputs(before: dict, after: dict) -> list[str]:
    """Names (``x``, ``params['W_h']``...) of the array inputs the function changed in place."""
    changed = []
    for name, value in before.items():
        if isinstance(value, Mapping):
            changed += [f"{name}[{k!r}]" for k in value
                        if not np.array_equal(value[k], after[name].get(k), equal_nan=True)]
        elif isinstance(value, np.ndarray) and not np.array_equal(value, after[name], equal_nan=True):
            changed.append(name)
    return changed


def _run(checker: str, function, reference: str, cases: list[_Case], normalise, mistakes: list[Mistake],
         fallback: Mapping[str, str], verbose: bool, random_cases: bool = True) -> CheckResult:
    """Call ``function`` on every case, compare, recognise mistakes, and build (and print) the result."""
    name = _check_callable(checker, function)
    labels = tuple(c.label for c in cases)
    problems: list[Problem] = []
    got_by_case: dict[int, dict] = {}
    hints: list[str] = []
    error_hints: list[str] = []  # given only when no typical mistake explains the answer

    for k, case in enumerate(cases):
        inputs = copy.deepcopy(case.inputs)  # the reader's function gets copies: we watch for changes
        try:
            returned = function(*inputs.values())
            outputs = {n: _as_output(n, v, name) for n, v in normalise(returned, name).items()}
        except NotImplementedError as exc:
            return _not_written(name, reference, labels, exc, verbose)
        except _FormError as exc:
            problems.append(Problem(case.label, "", "form", str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - any error of the reader's code becomes feedback
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            problems.append(Problem(case.label, "", "error",
                                    f"{name} raised {type(exc).__name__}: {first_line}{_where(exc, function)}."))
            hint = _exception_hint(exc)
            if hint:
                error_hints.append(hint)
            continue
        got_by_case[k] = outputs
        for input_name in _changed_inputs(case.inputs, inputs):
            problems.append(Problem(case.label, input_name, "input changed",
                                    f"{name} changed its input {input_name} in place."))
            hints.append("Leave the inputs as they were: compute new arrays (h = ..., g * scale) instead of "
                         "changing them in place (+=, *=). The caller may still need them.")
        for out_name, want in case.expected.items():
            problem = _compare(case.label, out_name, outputs.get(out_name, _Missing(f"{out_name} is missing.")),
                               want, case.tolerance)
            if problem:
                problems.append(problem)

    found = _recognise(cases, got_by_case, problems, mistakes)
    for out_name in dict.fromkeys(p.output for p in problems if p.kind == "value"):
        if out_name not in found and out_name in fallback:
            hints.append(fallback[out_name])
    value_errors = [p.rel_error for p in problems if p.kind == "value"]
    if value_errors and max(value_errors) < 1e-4 and not found and cases[0].tolerance == TOLERANCE:
        hints.append("Your numbers are close but not equal: rounding errors are near 1e-16 in float64. "
                     "Is part of the computation done in float32, or with an approximation?")
    mistake_hints = [m.hint for m in dict.fromkeys(found.values())]
    result_hints = tuple(dict.fromkeys(mistake_hints + hints + ([] if found else error_hints)))
    passed = not problems
    message = _message(name, reference, labels, cases, problems, result_hints, passed, random_cases)
    result = CheckResult(name, reference, passed, False, labels, tuple(problems),
                         tuple(m.key for m in dict.fromkeys(found.values())), result_hints, message)
    return _finish(result, verbose)


def _recognise(cases, got_by_case, problems, mistakes) -> dict[str, Mistake]:
    """For each output with a wrong value, the first mistake that reproduces it wherever it applies."""
    wrong: dict[str, list[int]] = {}
    index = {c.label: k for k, c in enumerate(cases)}
    for p in problems:
        if p.kind == "value":
            wrong.setdefault(p.output, []).append(index[p.case])
    computed: dict[tuple[str, int], dict | None] = {}

    def outputs_of(mistake: Mistake, k: int):
        if (mistake.key, k) not in computed:
            try:
                computed[mistake.key, k] = mistake.compute(copy.deepcopy(cases[k].inputs))
            except (ValueError, np.linalg.LinAlgError):  # the mistake does not apply to this shape
                computed[mistake.key, k] = None
        return computed[mistake.key, k]

    found: dict[str, Mistake] = {}
    for out_name, ks in wrong.items():
        for mistake in mistakes:
            matched = []
            for k in ks:
                theirs = outputs_of(mistake, k)
                if theirs is None or out_name not in theirs:
                    continue
                ours = got_by_case[k][out_name]
                matched.append(np.shape(theirs[out_name]) == ours.shape
                               and rel_error(ours, theirs[out_name]) < MATCH_TOLERANCE)
            if matched and all(matched):
                found[out_name] = mistake
                break
    return found


def _not_written(name, reference, labels, exc, verbose) -> CheckResult:
    said = f' ("{exc}")' if str(exc) else ""
    message = "\n".join([_wrap(f"{name} is not written yet: it still raises NotImplementedError{said}."),
                         _wrap("Replace the line `raise NotImplementedError(...)` with your code, run that "
                               "cell, then run this one again.")])
    result = CheckResult(name, reference, False, True, labels, (), (), (), message)
    return _finish(result, verbose)


def _wrap(text: str, indent: str = "", keep: tuple[str, ...] = ()) -> str:
    """One paragraph, wrapped to ``WIDTH`` characters, continuation lines indented by ``indent``.

    The phrases in ``keep`` (the case labels) are not split across lines.
    """
    for phrase in keep:
        text = text.replace(phrase, phrase.replace(" ", "\xa0"))
    wrapped = textwrap.fill(text, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
    return wrapped.replace("\xa0", " ")


def _message(name, reference, labels, cases, problems, hints, passed, random_cases=True) -> str:
    if passed:
        outputs = ", ".join(cases[0].expected)
        kind = "random cases" if random_cases else "cases"
        return _wrap(f"{name} passes. On {len(labels)} {kind} ({'; '.join(labels)}) its "
                     f"{outputs} agree{'s' if len(cases[0].expected) == 1 else ''} with {reference} "
                     f"to a relative error below {_fmt_tolerance(cases[0].tolerance)}. Well done.", keep=labels)
    if all(p.kind == "input changed" for p in problems):
        lines = [_wrap(f"{name} computes the right numbers, but it changes its input in place.")]
    else:
        lines = [_wrap(f"{name} does not match {reference} yet.")]
    wrong = {p.output for p in problems}
    right = [o for o in cases[0].expected if o not in wrong]
    if right and any(p.kind in ("value", "shape", "missing", "not finite") for p in problems):
        lines.append(_wrap(f"Already right: {', '.join(right)}."))
    lines.append("What differs:")
    items = []
    for label in labels:
        values = [p for p in problems if p.case == label and p.kind == "value"]
        if len(values) == 1:
            items.append(f"case {label}: {values[0].detail}")
        elif values:
            errors = ", ".join(f"{p.output} {_fmt(p.rel_error)}" for p in values)
            items.append(f"case {label}: relative errors {errors}.")
        items += [f"case {label}: {p.detail}" for p in problems
                  if p.case == label and p.kind not in ("value", "input changed")]
        changed = [p.output for p in problems if p.case == label and p.kind == "input changed"]
        if changed:
            items.append(f"case {label}: {name} changed {', '.join(changed)} in place.")
    lines += [_wrap(f"  - {item}", "    ", labels) for item in items]
    lines += [_wrap(f"Hint: {hint}") for hint in hints]
    lines.append(f"Change {name}, run its cell again, then run this one.")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- random cases

def _cell_params(kind: str, D: int, H: int, rng: np.random.Generator) -> dict:
    """Random parameters of a cell, with biases of the same size as the weights (so a missing one shows)."""
    G = _GATE_COUNT[kind]
    return {"W_x": 0.5 * rng.standard_normal((G * H, D)), "W_h": 0.5 * rng.standard_normal((G * H, H)),
            "b_x": 0.5 * rng.standard_normal(G * H), "b_h": 0.5 * rng.standard_normal(G * H)}


def _label(N: int, D: int, H: int) -> str:
    return f"N={N}, D={D}, H={H}"


def _flat_backward(dx, dh_prev, grads) -> dict:
    return {"dx": dx, "dh_prev": dh_prev, **{f"grads[{k!r}]": grads[k] for k in _PARAM_KEYS}}


def _first(returned):
    return returned[0] if isinstance(returned, tuple) and returned else returned


def _normalise_h(returned, function):
    return {"h": _first(returned)}


def _normalise_backward(returned, function):
    if not (isinstance(returned, tuple) and len(returned) == 3):
        got = f"a tuple of {len(returned)}" if isinstance(returned, tuple) else type(returned).__name__
        raise _FormError(f"{function} should return the tuple (dx, dh_prev, grads), got {got}.")
    dx, dh_prev, grads = returned
    if not isinstance(grads, Mapping):
        raise _FormError(f"the third item {function} returns, grads, should be a dict, got {type(grads).__name__}.")
    have = ", ".join(map(repr, grads)) or "none"
    out = {"dx": dx, "dh_prev": dh_prev}
    for k in _PARAM_KEYS:
        out[f"grads[{k!r}]"] = grads[k] if k in grads else _Missing(
            f"grads has no key {k!r} (its keys: {have}).")
    return out


# ----------------------------------------------------------------------------- the RNN

def _rnn_variant(x, h_prev, p, *, W_h_T=False, W_x_T=False, swap=False, bias=("b_x", "b_h"),
                 activation=np.tanh, bias_outside=False):
    W_x, W_h = (p["W_h"], p["W_x"]) if swap else (p["W_x"], p["W_h"])
    b = sum((p[k] for k in bias), np.zeros_like(p["b_x"]))
    a = x @ (W_x if W_x_T else W_x.T) + h_prev @ (W_h if W_h_T else W_h.T)
    return {"h": activation(a) + b if bias_outside else activation(a + b)}


def _rnn_forward_mistakes() -> list[Mistake]:
    def m(key, hint, **kw):
        return Mistake(key, hint, lambda c: _rnn_variant(c["x"], c["h_prev"], c["params"], **kw))
    return [
        m("transposed_W_h", "Your h is what W_h transposed gives. With one example per row, W_h h_{t-1} for "
          "every row is h_prev @ W_h.T, not h_prev @ W_h.", W_h_T=True),
        m("transposed_W_x", "Your h is what W_x transposed gives (the other cases fail on shapes). With one "
          "example per row, W_x x_t for every row is x @ W_x.T.", W_x_T=True),
        m("swapped_weights", "W_x multiplies the input x and W_h the previous state h_prev; yours are the "
          "other way round.", swap=True),
        m("missing_bias", "Your h has no bias. Add b = params['b_x'] + params['b_h'] inside the tanh.", bias=()),
        m("missing_b_h", "Your h uses b_x but not b_h. Like PyTorch, the library keeps the bias as two "
          "vectors; the b of the equation is their sum, b_x + b_h.", bias=("b_x",)),
        m("missing_b_x", "Your h uses b_h but not b_x. Like PyTorch, the library keeps the bias as two "
          "vectors; the b of the equation is their sum, b_x + b_h.", bias=("b_h",)),
        m("bias_outside_tanh", "Your bias is added after the tanh. It belongs inside: "
          "tanh(x @ W_x.T + h_prev @ W_h.T + b).", bias_outside=True),
        m("no_tanh", "Your h is the pre-activation a_t: apply np.tanh to it.", activation=lambda a: a),
        m("sigmoid_activation", "Your h uses the logistic sigmoid. The simple RNN of this book uses tanh, "
          "whose values lie in (-1, 1).", activation=sigmoid),
    ]


def _single_state_cases(kind: str, rng: np.random.Generator, backward: bool) -> list[_Case]:
    """Random cases for a one-state step (``"rnn"`` or ``"gru"``), forward or backward.

    The RNN's backward exercise also receives the new ``h`` (its derivative is ``1 - h**2``).
    """
    forward_step, backward_step = {"rnn": (rnn.rnn_step_forward, rnn.rnn_step_backward),
                                   "gru": (gru.gru_step_forward, gru.gru_step_backward)}[kind]
    cases = []
    for N, D, H in CELL_SHAPES:
        p = _cell_params(kind, D, H, rng)
        x, h_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H))
        h, cache = forward_step(x, h_prev, p)
        if not backward:
            cases.append(_Case(_label(N, D, H), {"x": x, "h_prev": h_prev, "params": p}, {"h": h}))
            continue
        dh = rng.standard_normal((N, H))
        inputs = {"dh": dh, "x": x, "h_prev": h_prev, **({"h": h} if kind == "rnn" else {}), "params": p}
        cases.append(_Case(_label(N, D, H), inputs, _flat_backward(*backward_step(dh, cache))))
    return cases


def check_rnn_step_forward(function, *, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``function(x, h_prev, params) -> h``, one step of the tanh RNN, against
    :func:`lessons_lib.cells.rnn.rnn_step_forward`.

    Parameters
    ----------
    function : callable
        The reader's step: ``x`` (N, D), ``h_prev`` (N, H), ``params`` with ``W_x`` (H, D),
        ``W_h`` (H, H), ``b_x`` (H,), ``b_h`` (H,); returns ``h`` (N, H).
    seed : int
        Seed of the ``np.random.default_rng`` that draws the cases.
    verbose : bool
        Print the feedback (the result's ``message``).

    Returns
    -------
    CheckResult
    """
    cases = _single_state_cases("rnn", np.random.default_rng(seed), backward=False)
    return _run("check_rnn_step_forward", function, "lessons_lib.cells.rnn.rnn_step_forward", cases, _normalise_h,
                _rnn_forward_mistakes(), {"h": "h = tanh(x @ W_x.T + h_prev @ W_h.T + b_x + b_h)."}, verbose)


def _rnn_backward_variant(dh, x, h_prev, h, p, *, slope="1-h^2", W_h_T=False, W_x_T=False, dW_state="h_prev",
                          dW_transposed=False, mean=False):
    slopes = {"1-h^2": 1.0 - h ** 2, "none": 1.0, "tanh(h)": 1.0 - np.tanh(h) ** 2, "1-h": 1.0 - h}
    da = dh * slopes[slope]
    state = h_prev if dW_state == "h_prev" else h
    scale = 1.0 / x.shape[0] if mean else 1.0
    dW_x = (x.T @ da if dW_transposed else da.T @ x) * scale
    dW_h = (state.T @ da if dW_transposed else da.T @ state) * scale
    db = da.sum(axis=0) * scale
    dx = da @ (p["W_x"].T if W_x_T else p["W_x"])
    dh_prev = da @ (p["W_h"].T if W_h_T else p["W_h"])
    return _flat_backward(dx, dh_prev, {"W_x": dW_x, "W_h": dW_h, "b_x": db, "b_h": db})


def _rnn_backward_mistakes() -> list[Mistake]:
    def m(key, hint, **kw):
        return Mistake(key, hint, lambda c: _rnn_backward_variant(c["dh"], c["x"], c["h_prev"], c["h"],
                                                                  c["params"], **kw))
    return [
        m("forgot_tanh_slope", "Your gradients skip the tanh. Since h = tanh(a), the gradient that reaches a is "
          "da = dh * (1 - h**2); use da, not dh, in every product.", slope="none"),
        m("tanh_slope_of_h", "h is already tanh(a), so the slope is 1 - h**2. You computed 1 - tanh(h)**2, "
          "which applies tanh twice.", slope="tanh(h)"),
        m("slope_not_squared", "The slope of tanh is 1 - h**2, with h squared; yours is 1 - h.", slope="1-h"),
        m("transposed_W_h", "dh_prev = da @ W_h, not da @ W_h.T: the forward step multiplied by W_h.T, "
          "and the backward step multiplies by its transpose, W_h.", W_h_T=True),
        m("transposed_W_x", "dx = da @ W_x, not da @ W_x.T (the other cases fail on shapes): the forward step "
          "multiplied by W_x.T, and the backward step multiplies by its transpose.", W_x_T=True),
        m("dW_h_from_new_state", "dW_h pairs da with the state that went into the step, h_prev, not with the "
          "new state h: dW_h = da.T @ h_prev.", dW_state="h"),
        m("transposed_weight_gradients", "A weight's gradient has the weight's shape: dW_x = da.T @ x is "
          "(H, D) and dW_h = da.T @ h_prev is (H, H); yours are transposed.", dW_transposed=True),
        m("mean_over_batch", "Your parameter gradients are divided by N. The loss here is a sum over the "
          "batch, so they are sums too: da.T @ x, da.sum(axis=0).", mean=True),
    ]


def check_rnn_step_backward(function, *, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``function(dh, x, h_prev, h, params) -> (dx, dh_prev, grads)``, the backward pass of one
    RNN step, against :func:`lessons_lib.cells.rnn.rnn_step_backward`.

    Parameters
    ----------
    function : callable
        The reader's backward step. ``dh`` (N, H) is the gradient of the loss with respect to ``h``;
        ``x`` (N, D), ``h_prev`` (N, H) and ``h`` (N, H) are what the forward step read and returned.
        It returns ``dx`` (N, D), ``dh_prev`` (N, H) and a dict ``grads`` with the keys of ``params``.
    seed, verbose
        As for :func:`check_rnn_step_forward`.

    Returns
    -------
    CheckResult
    """
    cases = _single_state_cases("rnn", np.random.default_rng(seed), backward=True)
    fallback = {
        "dx": "dx = da @ W_x, with da = dh * (1 - h**2).",
        "dh_prev": "dh_prev = da @ W_h, with da = dh * (1 - h**2).",
        "grads['W_x']": "dW_x = da.T @ x, of shape (H, D).",
        "grads['W_h']": "dW_h = da.T @ h_prev, of shape (H, H).",
        "grads['b_x']": "Each bias gets da.sum(axis=0): only their sum enters the step.",
        "grads['b_h']": "Each bias gets da.sum(axis=0): only their sum enters the step.",
    }
    return _run("check_rnn_step_backward", function, "lessons_lib.cells.rnn.rnn_step_backward", cases,
                _normalise_backward, _rnn_backward_mistakes(), fallback, verbose)


# ----------------------------------------------------------------------------- the LSTM

def _lstm_variant(x, h_prev, c_prev, p, *, order="ifgo", g_act=np.tanh, tanh_c=True, swap_fi=False,
                  bias=("b_x", "b_h")):
    b = sum((p[k] for k in bias), np.zeros_like(p["b_x"]))
    blocks = dict(zip(order, np.split(x @ p["W_x"].T + h_prev @ p["W_h"].T + b, 4, axis=1)))
    i, f, o = sigmoid(blocks["i"]), sigmoid(blocks["f"]), sigmoid(blocks["o"])
    g = g_act(blocks["g"])
    if swap_fi:
        i, f = f, i
    c = f * c_prev + i * g
    return {"h": o * (np.tanh(c) if tanh_c else c), "c": c}


def _lstm_forward_mistakes() -> list[Mistake]:
    def m(key, hint, **kw):
        return Mistake(key, hint, lambda c: _lstm_variant(c["x"], c["h_prev"], c["c_prev"], c["params"], **kw))
    return [
        m("gate_order_ifog", "Your gates are read in the order i, f, o, g (CS231n's). The library and PyTorch "
          "stack them i, f, g, o: rows 2H to 3H are the candidate g, rows 3H to 4H the output gate o.",
          order="ifog"),
        m("gate_order_igfo", "Your gates are read in the order i, g, f, o (TensorFlow's i, j, f, o). The library "
          "and PyTorch stack them i, f, g, o.", order="igfo"),
        m("swapped_input_forget", "The forget gate f multiplies the old cell and the input gate i the "
          "candidate: c = f * c_prev + i * g. Yours are the other way round.", swap_fi=True),
        m("candidate_sigmoid", "The candidate g uses tanh, not the sigmoid: it proposes values in (-1, 1), "
          "which the input gate then scales. With a sigmoid every write is positive.", g_act=sigmoid),
        m("h_without_tanh", "h = o * tanh(c): the output gate scales tanh of the cell state, not the cell "
          "state itself. Your c is right.", tanh_c=False),
        m("missing_bias", "Your gates have no bias. Add params['b_x'] + params['b_h'] to the "
          "pre-activations, before splitting them into the four gates.", bias=()),
        m("missing_b_h", "Your gates use b_x but not b_h. The library keeps two bias vectors, like PyTorch; "
          "add both.", bias=("b_x",)),
        m("missing_b_x", "Your gates use b_h but not b_x. The library keeps two bias vectors, like PyTorch; "
          "add both.", bias=("b_h",)),
    ]


def _normalise_lstm(returned, function):
    if not (isinstance(returned, tuple) and len(returned) >= 2):
        got = f"a tuple of {len(returned)}" if isinstance(returned, tuple) else type(returned).__name__
        raise _FormError(f"{function} should return the pair (h, c), got {got}.")
    return {"h": returned[0], "c": returned[1]}


def check_lstm_step_forward(function, *, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``function(x, h_prev, c_prev, params) -> (h, c)``, one LSTM step, against
    :func:`lessons_lib.cells.lstm.lstm_step_forward`.

    Parameters
    ----------
    function : callable
        The reader's step: ``x`` (N, D), ``h_prev`` and ``c_prev`` (N, H), ``params`` with
        ``W_x`` (4H, D), ``W_h`` (4H, H), ``b_x`` and ``b_h`` (4H,), gate rows in the order
        i, f, g, o; returns the new ``h`` and ``c``, both (N, H).
    seed, verbose
        As for :func:`check_rnn_step_forward`.

    Returns
    -------
    CheckResult
    """
    rng = np.random.default_rng(seed)
    cases = []
    for N, D, H in CELL_SHAPES:
        p = _cell_params("lstm", D, H, rng)
        x, h_prev, c_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
        h, c, _ = lstm.lstm_step_forward(x, h_prev, c_prev, p)
        cases.append(_Case(_label(N, D, H), {"x": x, "h_prev": h_prev, "c_prev": c_prev, "params": p},
                           {"h": h, "c": c}))
    fallback = {"c": "c = f * c_prev + i * g, with the gates split from x @ W_x.T + h_prev @ W_h.T + b_x + b_h "
                     "in the order i, f, g, o (sigmoid, sigmoid, tanh, sigmoid).",
                "h": "h = o * tanh(c)."}
    return _run("check_lstm_step_forward", function, "lessons_lib.cells.lstm.lstm_step_forward", cases,
                _normalise_lstm, _lstm_forward_mistakes(), fallback, verbose)


# ----------------------------------------------------------------------------- the GRU

_GRU_CONVENTION_HINTS = {
    "reset_before": "Your GRU applies the reset gate before the matrix product, W_hn (r * h_prev) + b_hn, "
                    "as Cho et al. (2014), d2l and Olah do. The library follows PyTorch and applies it after: "
                    "n = tanh(W_xn x + b_xn + r * (W_hn h_prev + b_hn)).",
    "update_write": "Your update gate works the other way round: h = z * n + (1 - z) * h_prev, as in Chung et "
                    "al. (2014) and Olah. The library follows PyTorch and Cho et al.: h = (1 - z) * n + z * h_prev, "
                    "so z near 1 keeps the old state.",
    "reset_before_update_write": "Your GRU is Olah's: reset gate before the product, W_hn (r * h_prev), and "
                                 "h = z * n + (1 - z) * h_prev. The library follows PyTorch: "
                                 "n = tanh(W_xn x + b_xn + r * (W_hn h_prev + b_hn)) and h = (1 - z) * n + z * h_prev.",
}
_GRU_CONVENTIONS = {"reset_before": {"reset": "before"}, "update_write": {"update": "write"},
                    "reset_before_update_write": {"reset": "before", "update": "write"}}


def _gru_variant(x, h_prev, p, *, order="rzn", bhn_inside=True, z_act=sigmoid, n_act=np.tanh, use_b_h=True):
    """PyTorch's GRU step with one thing changed (see the keyword arguments)."""
    b_h = p["b_h"] if use_b_h else np.zeros_like(p["b_h"])
    a_x = dict(zip(order, np.split(x @ p["W_x"].T + p["b_x"], 3, axis=1)))
    W_h = dict(zip(order, np.split(p["W_h"], 3, axis=0)))
    b = dict(zip(order, np.split(b_h, 3)))
    r = sigmoid(a_x["r"] + h_prev @ W_h["r"].T + b["r"])
    z = z_act(a_x["z"] + h_prev @ W_h["z"].T + b["z"])
    hn = h_prev @ W_h["n"].T
    n = n_act(a_x["n"] + r * (hn + b["n"]) if bhn_inside else a_x["n"] + r * hn + b["n"])
    return {"h": (1.0 - z) * n + z * h_prev}


def _gru_forward_mistakes() -> list[Mistake]:
    def m(key, hint, **kw):
        return Mistake(key, hint, lambda c: _gru_variant(c["x"], c["h_prev"], c["params"], **kw))

    def convention(key):
        return Mistake(key, _GRU_CONVENTION_HINTS[key], lambda c: {
            "h": gru.gru_step_forward(c["x"], c["h_prev"], c["params"], **_GRU_CONVENTIONS[key])[0]})
    return [
        convention("reset_before"), convention("update_write"), convention("reset_before_update_write"),
        m("b_hn_outside_reset", "b_hn belongs inside the reset gate's product: n = tanh(W_xn x + b_xn + "
          "r * (W_hn h_prev + b_hn)). Yours adds it outside, which is not PyTorch's GRU.", bhn_inside=False),
        m("gate_order_zrn", "Your blocks are read in the order z, r, n (Keras's). The library and PyTorch "
          "stack them r, z, n: rows 0 to H are the reset gate.", order="zrn"),
        m("update_gate_tanh", "The update gate z is a sigmoid, a number between 0 and 1 that interpolates "
          "between h_prev and the candidate n. The tanh belongs to the candidate, not to the gate.",
          z_act=np.tanh),
        m("candidate_sigmoid", "The candidate n uses tanh, not the sigmoid: it proposes values in (-1, 1).",
          n_act=sigmoid),
        m("missing_b_h", "Your GRU ignores b_h. In PyTorch's GRU the two biases are not interchangeable: "
          "b_hr and b_hz add to the gates, and b_hn sits inside r * (W_hn h_prev + b_hn).", use_b_h=False),
    ]


def check_gru_step_forward(function, *, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``function(x, h_prev, params) -> h``, one GRU step in PyTorch's convention, against
    :func:`lessons_lib.cells.gru.gru_step_forward`.

    The other two common conventions (``reset="before"``, ``update="write"``, and both) are
    recognised and named in the feedback.

    Parameters
    ----------
    function : callable
        The reader's step: ``x`` (N, D), ``h_prev`` (N, H), ``params`` with ``W_x`` (3H, D),
        ``W_h`` (3H, H), ``b_x`` and ``b_h`` (3H,), blocks in the order r, z, n; returns ``h`` (N, H).
    seed, verbose
        As for :func:`check_rnn_step_forward`.

    Returns
    -------
    CheckResult
    """
    cases = _single_state_cases("gru", np.random.default_rng(seed), backward=False)
    fallback = {"h": "h = (1 - z) * n + z * h_prev, with r and z sigmoids and "
                     "n = tanh(W_xn x + b_xn + r * (W_hn h_prev + b_hn))."}
    return _run("check_gru_step_forward", function, "lessons_lib.cells.gru.gru_step_forward", cases, _normalise_h,
                _gru_forward_mistakes(), fallback, verbose)


def _gru_backward_variant(dh, x, h_prev, p, *, tanh_slope=True, sigmoid_slope=True, direct_path=True,
                          r_in_hn=True, dz_sign=1.0):
    """The backward pass of PyTorch's GRU step, written out, with one thing optionally wrong."""
    H = h_prev.shape[1]
    a_x = x @ p["W_x"].T + p["b_x"]          # (N, 3H)
    a_h = h_prev @ p["W_h"].T + p["b_h"]     # (N, 3H)
    r = sigmoid(a_x[:, :H] + a_h[:, :H])
    z = sigmoid(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    hn = a_h[:, 2 * H:]                      # W_hn h_prev + b_hn
    n = np.tanh(a_x[:, 2 * H:] + r * hn)
    dn, dz = dh * (1.0 - z), dz_sign * dh * (h_prev - n)
    da_n = dn * (1.0 - n ** 2) if tanh_slope else dn
    da_z = dz * z * (1.0 - z) if sigmoid_slope else dz
    da_r = da_n * hn * (r * (1.0 - r) if sigmoid_slope else 1.0)
    da_x = np.concatenate([da_r, da_z, da_n], axis=1)
    da_h = np.concatenate([da_r, da_z, da_n * r if r_in_hn else da_n], axis=1)
    dh_prev = da_h @ p["W_h"] + (dh * z if direct_path else 0.0)
    grads = {"W_x": da_x.T @ x, "W_h": da_h.T @ h_prev, "b_x": da_x.sum(axis=0), "b_h": da_h.sum(axis=0)}
    return _flat_backward(da_x @ p["W_x"], dh_prev, grads)


def _gru_backward_mistakes() -> list[Mistake]:
    def m(key, hint, **kw):
        return Mistake(key, hint, lambda c: _gru_backward_variant(c["dh"], c["x"], c["h_prev"], c["params"], **kw))

    def convention(key):
        def compute(c):
            _, cache = gru.gru_step_forward(c["x"], c["h_prev"], c["params"], **_GRU_CONVENTIONS[key])
            return _flat_backward(*gru.gru_step_backward(c["dh"], cache))
        return Mistake(key, "These are the gradients of another GRU. " + _GRU_CONVENTION_HINTS[key], compute)
    return [
        convention("reset_before"), convention("update_write"), convention("reset_before_update_write"),
        m("forgot_direct_path", "dh_prev misses the direct path. h = (1 - z) * n + z * h_prev depends on h_prev "
          "itself, which adds dh * z to what comes back through the gates.", direct_path=False),
        m("forgot_tanh_slope", "The candidate is n = tanh(...): multiply its gradient by 1 - n**2 before "
          "going further back.", tanh_slope=False),
        m("forgot_sigmoid_slope", "The gates are sigmoids: multiply the gradients of r and z by r * (1 - r) "
          "and z * (1 - z) before going further back.", sigmoid_slope=False),
        m("reset_factor_missing", "The n block of W_h and b_h sits inside r * (W_hn h_prev + b_hn), so its "
          "gradient carries the factor r: it is (da_n * r), not da_n.", r_in_hn=False),
        m("update_gradient_sign", "h = (1 - z) * n + z * h_prev, so dh/dz = h_prev - n; your gradient of z "
          "has the opposite sign.", dz_sign=-1.0),
    ]


def check_gru_step_backward(function, *, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``function(dh, x, h_prev, params) -> (dx, dh_prev, grads)``, the backward pass of one GRU
    step in PyTorch's convention, against :func:`lessons_lib.cells.gru.gru_step_backward`.

    The reader's function recomputes the forward step from ``x``, ``h_prev`` and ``params``
    itself. Gradients of the other two conventions are recognised and named.

    Parameters
    ----------
    function : callable
        ``dh`` (N, H), ``x`` (N, D), ``h_prev`` (N, H), ``params`` as for
        :func:`check_gru_step_forward`; returns ``dx`` (N, D), ``dh_prev`` (N, H) and a dict
        ``grads`` with the keys of ``params``.
    seed, verbose
        As for :func:`check_rnn_step_forward`.

    Returns
    -------
    CheckResult
    """
    cases = _single_state_cases("gru", np.random.default_rng(seed), backward=True)
    fallback = {
        "dh_prev": "dh_prev = dh * z (the direct path) + da_h @ W_h (through the gates).",
        "grads['b_h']": "The n block of db_h is (da_n * r).sum(axis=0): b_hn sits inside the reset product.",
        "grads['W_h']": "dW_h = da_h.T @ h_prev, where the n block of da_h is da_n * r.",
    }
    return _run("check_gru_step_backward", function, "lessons_lib.cells.gru.gru_step_backward", cases,
                _normalise_backward, _gru_backward_mistakes(), fallback, verbose)


# ----------------------------------------------------------------------------- norm clipping

def _global_norm(grads: Mapping) -> float:
    return float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))


def _clip_variant(grads, max_norm, rule):
    norm = _global_norm(grads)
    if rule == "per_array":
        return {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}
    if rule == "value":
        return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}
    scale = {
        "always_rescale": max_norm / norm,
        "forgot_max_norm": 1.0 / norm if norm >= max_norm else 1.0,
        "squared_norm": max_norm / norm ** 2 if norm ** 2 >= max_norm else 1.0,
        "inverted_scale": norm / max_norm if norm >= max_norm else 1.0,
    }[rule]
    return {k: g * scale for k, g in grads.items()}


def _clip_mistakes() -> list[Mistake]:
    def m(key, hint):
        return Mistake(key, hint, lambda c: {f"clipped[{k!r}]": v for k, v in
                                             _clip_variant(c["grads"], c["max_norm"], key).items()})
    return [
        m("per_array", "You clipped each array by its own norm. Norm clipping treats all the gradients as one "
          "vector: compute one global norm, the square root of the sum of every squared entry of every "
          "array, and scale every array by the same factor max_norm / norm."),
        m("value", "You cut each entry to [-max_norm, max_norm]: that is value clipping, which can turn the "
          "gradient. Norm clipping multiplies the whole gradient by one factor."),
        m("always_rescale", "You rescaled a gradient that was already shorter than max_norm, and so made it "
          "longer. Clipping only shortens: leave a gradient whose norm is below max_norm as it is."),
        m("forgot_max_norm", "Your clipped gradient has norm 1, not max_norm: scale by max_norm / norm."),
        m("squared_norm", "You divided by the sum of squares. The norm is its square root."),
        m("inverted_scale", "Your scale is upside down: multiply by max_norm / norm, which is below 1 "
          "when the gradient is too long."),
    ]


def _normalise_clipped(returned, function):
    clipped = returned[0] if isinstance(returned, tuple) and returned and isinstance(returned[0], Mapping) \
        else returned
    if not isinstance(clipped, Mapping):
        raise _FormError(f"{function} should return a dict with the keys of grads, got {type(clipped).__name__}.")
    return {f"clipped[{k!r}]": v for k, v in clipped.items()}


def _gradient(rng: np.random.Generator, norms: dict) -> dict:
    """Random arrays with the given norms, one per key: ``{key: (shape, norm)}``."""
    out = {}
    for key, (shape, norm) in norms.items():
        g = rng.standard_normal(shape)
        out[key] = g * (norm / np.linalg.norm(g))
    return out


def check_clip_by_norm(function, *, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``function(grads, max_norm) -> clipped``, norm clipping of a dict of gradients taken as
    one vector (Pascanu et al.'s Algorithm 1), against :func:`lessons_lib.training.clipping.clip_by_norm`.

    The cases are a long gradient (clipped), a short one (left alone) and a long one with
    ``max_norm`` other than 1. The function must return new arrays and leave ``grads`` unchanged.

    Parameters
    ----------
    function : callable
        ``grads`` is a dict of arrays; returns a dict with the same keys and shapes (a tuple
        whose first item is that dict is accepted too, as the library returns ``(clipped, norm)``).
    seed, verbose
        As for :func:`check_rnn_step_forward`.

    Returns
    -------
    CheckResult
    """
    rng = np.random.default_rng(seed)
    shapes = {"W_x": (4, 3), "W_h": (4, 4), "b_x": (4,), "b_h": (4,)}
    settings = [  # norms of the four arrays, and max_norm
        ((3.0, 4.0, 0.5, 0.3), 1.0),   # long: every array is scaled by the same factor
        ((0.5, 0.5, 0.3, 0.2), 2.0),   # short: returned unchanged
        ((6.0, 2.0, 1.0, 0.5), 3.0),   # long, and max_norm is not 1
    ]
    cases = []
    for norms, max_norm in settings:
        grads = _gradient(rng, {k: (shapes[k], n) for k, n in zip(shapes, norms)})
        clipped, norm = clip_by_norm(grads, max_norm)
        label = f"norm {norm:.2f}, max_norm {max_norm:g}"
        cases.append(_Case(label, {"grads": grads, "max_norm": max_norm},
                           {f"clipped[{k!r}]": v for k, v in clipped.items()}))
    fallback = {f"clipped[{k!r}]": "Multiply every array by min(1, max_norm / norm), where norm is the global "
                                   "norm of all the arrays together." for k in shapes}
    return _run("check_clip_by_norm", function, "lessons_lib.training.clipping.clip_by_norm", cases, _normalise_clipped,
                _clip_mistakes(), fallback, verbose)


# ----------------------------------------------------------------------------- the cliff's scaling law

#: The relative error accepted for the wall and the peak, which a grid search measures rather than computes.
CLIFF_TOLERANCE = 0.005
#: The sequence lengths of :func:`check_cliff_wall`, doubling from one to the next.
CLIFF_LENGTHS = (10, 20, 40, 80)


def _normalise_wall(w_c: float):
    def normalise(returned, function):
        if isinstance(returned, CliffWall):    # the library's own cliff_wall
            returned = (returned.w, returned.peak)
        if not isinstance(returned, (tuple, list)) or len(returned) != 2:
            raise _FormError(f"{function} should return a pair (w, peak), got {type(returned).__name__}"
                             + (f" of length {len(returned)}" if isinstance(returned, (tuple, list)) else "") + ".")
        try:
            w, peak = (float(v) for v in returned)
        except (TypeError, ValueError):
            raise _FormError(f"{function} should return two numbers (w, peak), got "
                             f"{type(returned[0]).__name__} and {type(returned[1]).__name__}.") from None
        return {"w_c-w": np.asarray(w_c - w), "peak": np.asarray(peak)}
    return normalise


def _ratio_table(T: tuple[int, ...], distance: list[float], peak: list[float]) -> str:
    lines = ["Your measurements, and the ratios as T doubles:",
             "     T     w_c - w   ratio          peak   ratio"]
    for m, t in enumerate(T):
        d_ratio = f"{distance[m - 1] / distance[m]:7.2f}" if m and T[m] == 2 * T[m - 1] else " " * 7
        p_ratio = f"{peak[m] / peak[m - 1]:7.2f}" if m and T[m] == 2 * T[m - 1] else " " * 7
        lines.append(f"{t:6d}   {distance[m]:9.6f} {d_ratio}   {peak[m]:11.2f} {p_ratio}".rstrip())
    lines.append(_wrap("A saddle-node bottleneck predicts w_c - w ~ T^-2 and peak ~ T^3: ratios that "
                       "approach 4 and 8 as T grows."))
    return "\n".join(lines)


def check_cliff_wall(function, *, lengths=CLIFF_LENGTHS, verbose: bool = True) -> CheckResult:
    """Check ``function(T) -> (w, peak)``, the wall of the loss cliff of chapter 2 and its steepness.

    The one-unit RNN ``h_t = tanh(w h_{t-1} - 0.5)``, ``h_0 = 1``, with the loss
    ``0.5 (h_T + 1)**2`` (the defaults of
    :func:`lessons_lib.analysis.gradient_flow.cliff_landscape`): ``w`` must be the
    weight at which ``|dL/dw|`` is largest, and ``peak`` that largest value.
    Each is compared with :func:`lessons_lib.analysis.gradient_flow.cliff_wall`,
    ``w`` through its distance ``w_c - w`` below the bifurcation, to a relative
    error of :data:`CLIFF_TOLERANCE` (a grid search measures, it does not
    compute exactly).  When every length passes, the feedback also prints the
    reader's ratios as ``T`` doubles.

    Parameters
    ----------
    function : callable
        ``function(T)`` for an int ``T`` returns ``(w, peak)``, two numbers.
    lengths : sequence of int
        The sequence lengths tried.
    verbose : bool
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    name = _check_callable("check_cliff_wall", function)
    lengths = tuple(int(T) for T in lengths)
    w_c = bifurcation_weight(-0.5)
    cases = []
    for T in lengths:
        wall = cliff_wall(T)
        cases.append(_Case(f"T = {T}", {"T": T}, {"w_c-w": np.asarray(w_c - wall.w), "peak": np.asarray(wall.peak)},
                           tolerance=CLIFF_TOLERANCE))
    answers: dict[int, tuple] = {}

    @functools.wraps(function)
    def recorded(T):
        answers[T] = returned = function(T)
        return returned

    fallback = {
        "w_c-w": "The wall is the w of the largest |dL/dw|, and it lies below w_c: more than 0.1 below at "
                   "T = 10, a few thousandths below at T = 80. Search a grid that starts well below w_c and "
                   "ends at it, then zoom in. Return w itself, not w_c - w, and return (w, peak) in this order.",
        "peak": "The spike of |dL/dw| is narrow (at T = 80 less than 0.001 wide in w), so a coarse grid misses "
                "its top and finds too small a peak: take a finer grid around the best w of a coarse one, "
                "and repeat. Return the absolute value |dL/dw|, for the loss of cliff_landscape's defaults.",
    }
    result = _run("check_cliff_wall", recorded, "lessons_lib.analysis.gradient_flow.cliff_wall", cases,
                  _normalise_wall(w_c), [], fallback, verbose=False, random_cases=False)
    if result.passed:
        found = [_normalise_wall(w_c)(answers[T], name) for T in lengths]
        table = _ratio_table(lengths, [float(f["w_c-w"]) for f in found], [float(f["peak"]) for f in found])
        result = dataclasses.replace(result, message=result.message + "\n" + table)
    return _finish(result, verbose)


# ----------------------------------------------------------------------------- a bidirectional layer

#: (kind, N, T, D, H, lengths) of the cases: one without lengths, two with sequences shorter than T.
BIDIRECTIONAL_CASES = (("rnn", 2, 5, 3, 4, None), ("gru", 3, 6, 2, 3, (6, 2, 4)), ("lstm", 3, 5, 3, 2, (3, 5, 1)))

_REVERSE_WHOLE_T = ("Your reverse direction flips all T steps, x[:, ::-1], so for a sequence shorter than T it "
                    "starts in the padding instead of at the sequence's own last step (the case without lengths "
                    "passes). Reverse each sequence within its own length: for t < lengths[n] the reversed "
                    "sequence has x[n, lengths[n] - 1 - t] at step t, and the padding stays where it is. Run the "
                    "reverse cell on that with the same lengths, then reverse its output back the same way.")


def _flip_within(a, lengths):
    """``a`` (N, T, K) with each sequence reversed within its length (all of T when ``lengths`` is None)."""
    index = reverse_index(None if lengths is None else np.asarray(lengths), a.shape[0], a.shape[1])
    return np.take_along_axis(a, index[:, :, None], axis=1)


def _bidirectional_variant(kind, layer, x, lengths, *, reverse="within", lengths_to_reverse=True, mask_out=False,
                           flip_back=True, swap=False, reverse_params=1):
    """A bidirectional layer from two sequence_forward calls, with one thing changed (see the keywords)."""
    N, H = x.shape[0], layer[0]["W_h"].shape[1]
    lengths = None if lengths is None else np.asarray(lengths)
    state0 = zero_state(kind, N, H)
    fwd = sequence_forward(kind, layer[0], x, state0, lengths)[0]
    flip = {"within": lambda a: _flip_within(a, lengths), "whole": lambda a: a[:, ::-1],
            "none": lambda a: a}[reverse]
    rev = sequence_forward(kind, layer[reverse_params], flip(x), state0, lengths if lengths_to_reverse else None)[0]
    rev = flip(rev) if flip_back else rev
    if mask_out and lengths is not None:
        rev = rev * (np.arange(x.shape[1])[None, :, None] < lengths[:, None, None])
    return {"out": np.concatenate([rev, fwd] if swap else [fwd, rev], axis=2)}


def _bidirectional_mistakes() -> list[Mistake]:
    def m(key, hint, **kw):
        return Mistake(key, hint, lambda c: _bidirectional_variant(c["kind"], c["layer"], c["x"], c["lengths"], **kw))
    return [
        m("reverse_ignores_lengths", _REVERSE_WHOLE_T, reverse="whole", lengths_to_reverse=False),
        m("reverse_ignores_lengths_masked", _REVERSE_WHOLE_T, reverse="whole", lengths_to_reverse=False,
          mask_out=True),
        m("reverse_ignores_lengths_with_lengths", _REVERSE_WHOLE_T, reverse="whole"),
        m("output_not_reversed_back", "Your reverse cell's output is still in reversed order. Its step t belongs to "
          "position lengths[n] - 1 - t of the sequence: reverse it back (within each length) before you "
          "concatenate.", flip_back=False),
        m("input_not_reversed", "Your reverse cell reads the sequence forwards: both halves are forward passes. "
          "Give the reverse cell the sequence reversed within each length, and reverse its output back.",
          reverse="none"),
        m("directions_swapped", "Your halves are in the other order. Like PyTorch, the library puts the forward "
          "direction first: out[..., :H] forward, out[..., H:] reverse.", swap=True),
        m("same_parameters", "Your reverse direction uses the forward cell's parameters, layer[0]. The two "
          "directions have parameters of their own: the reverse cell is layer[1].", reverse_params=0),
    ]


def _normalise_out(returned, function):
    return {"out": _first(returned)}


def check_bidirectional_layer(function, *, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``function(kind, layer, x, lengths) -> out``, one bidirectional layer, against
    :func:`lessons_lib.cells.stacked.stacked_forward` with ``net = [layer]``.

    Parameters
    ----------
    function : callable
        The reader's layer: ``kind`` is ``"rnn"``, ``"gru"`` or ``"lstm"``; ``layer`` is a pair
        ``(forward_params, reverse_params)`` of parameter dicts; ``x`` (N, T, D); ``lengths`` None or
        N ints. Both directions start from zero states. Returns ``out`` (N, T, 2H): the forward
        direction's output, then the reverse direction's, zero past each sequence's length.
    seed, verbose
        As for :func:`check_rnn_step_forward`.

    Returns
    -------
    CheckResult
    """
    rng = np.random.default_rng(seed)
    cases = []
    for kind, N, T, D, H, lengths in BIDIRECTIONAL_CASES:
        layer = (_cell_params(kind, D, H, rng), _cell_params(kind, D, H, rng))
        x = rng.standard_normal((N, T, D))
        lengths = None if lengths is None else np.array(lengths)
        out = stacked_forward(kind, [layer], x, None, lengths)[0]
        label = f"{kind}, N={N}, T={T}, D={D}, H={H}, " + ("no lengths" if lengths is None else
                                                           f"lengths {list(map(int, lengths))}")
        cases.append(_Case(label, {"kind": kind, "layer": layer, "x": x, "lengths": lengths}, {"out": out}))
    fallback = {"out": "out[..., :H] is the forward cell run over x; out[..., H:] is the reverse cell run over "
                       "each sequence reversed within its length, its output reversed back the same way."}
    return _run("check_bidirectional_layer", function, "lessons_lib.cells.stacked.stacked_forward", cases,
                _normalise_out, _bidirectional_mistakes(), fallback, verbose)


# ----------------------------------------------------------------------------- chapter 9: the scan

#: The (N, T, H) sizes of the cases, from one step to a long sequence, one length not a power of two.
SCAN_CASES = ((1, 1, 3), (2, 8, 3), (3, 13, 2), (2, 200, 4))

_SCAN_LOOP_HINT = ("Your function gives the right numbers, but it makes {ops} array operations on `a` for "
                   "T = {T}: at least one per time step, so it runs the recurrence step by step. A scan "
                   "needs only about log2 T = {levels} levels, each a few operations on slices along the "
                   "time axis: loop over the levels (offset = 1, 2, 4, ...), not over t.")


class _Counting(np.ndarray):
    """An array that counts the NumPy operations (ufunc calls) made on it and on the arrays made from it."""

    counter = None   # a one-item list, shared by every array of one count

    def __array_finalize__(self, obj):
        if getattr(obj, "counter", None) is not None:
            self.counter = obj.counter

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        counters = [x.counter for x in inputs if isinstance(x, _Counting) and x.counter is not None]
        counter = counters[0] if counters else self.counter
        if counter is not None:
            counter[0] += 1
        plain = [x.view(np.ndarray) if isinstance(x, _Counting) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Counting) else o for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        if isinstance(result, np.ndarray) and not kwargs.get("out"):
            result = result.view(_Counting)
            result.counter = counter
        return result


def _count_operations(function, a, b, h0) -> int | None:
    """How many ufunc calls ``function`` makes on ``a`` and what it computes from it; None if it cannot be told."""
    counter = [0]
    watched = a.copy().view(_Counting)
    watched.counter = counter
    try:
        function(watched, b.copy(), h0.copy())
    except Exception:  # noqa: BLE001 - the value check reports errors; this is only a count
        return None
    return counter[0] or None   # 0: the function converted `a` to a plain array first, so nothing was seen


def _scan_variant(a, b, h0, *, fold_h0=True, inclusive=True, order="right", wrap=False):
    """Recursive doubling with one thing changed (see the keywords), for the typical mistakes."""
    A, B = a.copy(), b.copy()
    if fold_h0:
        B[:, 0] = a[:, 0] * h0 + b[:, 0]
    T, offset = a.shape[1], 1
    while offset < T:
        if wrap:        # np.roll without masking: the first elements take partners from the end
            A_prev, B_prev = np.roll(A, offset, axis=1), np.roll(B, offset, axis=1)
            A, B = A * A_prev, (A * B_prev + B) if order == "right" else (A_prev * B + B_prev)
        else:
            A_new = A[:, offset:] * A[:, :-offset]
            if order == "right":
                B_new = A[:, offset:] * B[:, :-offset] + B[:, offset:]
            else:       # (a1, b1) o (a2, b2) taken as (a1 a2, a1 b2 + b1): the steps in the other order
                B_new = A[:, :-offset] * B[:, offset:] + B[:, :-offset]
            A[:, offset:], B[:, offset:] = A_new, B_new
        offset *= 2
    if not inclusive:   # h_{t-1} at step t: the exclusive prefixes
        return np.concatenate([h0[:, None], B[:, :-1]], axis=1)
    return B


def _scan_mistakes() -> list[Mistake]:
    def m(key, hint, **kw):
        return Mistake(key, hint, lambda c: {"h": _scan_variant(c["a"], c["b"], c["h0"], **kw)})
    return [
        m("h0_ignored", "Your states start from zero, not from h0. Fold h0 into the first step before the "
          "scan: b_1 <- a_1 * h0 + b_1 (and keep a_1 as it is).", fold_h0=False),
        m("exclusive", "Your h is shifted by one step: your step t holds h_{t-1}, and h0 comes first. The "
          "recurrence's h_t includes step t itself: return the inclusive prefixes, h_1 ... h_T.",
          inclusive=False),
        m("order_swapped", "Your combination takes the steps in the wrong order. (a1, b1) o (a2, b2) means "
          "step 1 first, then step 2: (a2 * a1, a2 * b1 + b2). The later element's a multiplies the "
          "earlier element's b.", order="left"),
        m("wrapped", "The first elements of your sequences take partners from the end of the sequence: "
          "np.roll wraps around. At each level only the elements t >= offset have a partner; leave the "
          "first offset elements as they are (use slices: [:, offset:] and [:, :-offset]).", wrap=True),
    ]


def check_linear_scan(function, *, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``function(a, b, h0) -> h``, the linear recurrence ``h_t = a_t * h_{t-1} + b_t`` computed
    by a scan, against :func:`lessons_lib.cells.linear_recurrence.linear_recurrence` with ``method="loop"``.

    The cases are those of :data:`SCAN_CASES`, among them a length that is not a power of two. The
    checker also counts the array operations the function makes on ``a`` for the longest case: a
    function that gives the right numbers with at least one operation per time step runs the
    recurrence step by step, and does not pass.

    Parameters
    ----------
    function : callable
        ``a`` and ``b`` of shape (N, T, H), ``h0`` of shape (N, H); returns ``h`` (N, T, H).
    seed, verbose
        As for :func:`check_rnn_step_forward`.

    Returns
    -------
    CheckResult
    """
    rng = np.random.default_rng(seed)
    cases = []
    for N, T, H in SCAN_CASES:
        a = rng.uniform(0.3, 1.0, (N, T, H))
        b = rng.standard_normal((N, T, H))
        h0 = rng.standard_normal((N, H))
        cases.append(_Case(f"N={N}, T={T}, H={H}", {"a": a, "b": b, "h0": h0},
                           {"h": linear_recurrence(a, b, h0, method="loop")}))
    fallback = {"h": "h[:, t] is a[:, t] * h[:, t - 1] + b[:, t], with h[:, -1] read as h0. Compare your first "
                     "two steps with that, by hand, on the smallest case."}
    result = _run("check_linear_scan", function, "lessons_lib.linear_recurrence", cases, _normalise_h,
                  _scan_mistakes(), fallback, verbose=False)
    if result.passed:
        longest = cases[-1].inputs
        T = longest["a"].shape[1]
        ops = _count_operations(function, longest["a"], longest["b"], longest["h0"])
        if ops is not None and ops >= T:
            hint = _wrap(_SCAN_LOOP_HINT.format(ops=ops, T=T, levels=int(np.ceil(np.log2(T)))))
            problem = Problem(cases[-1].label, "", "sequential", f"{result.function} makes {ops} array "
                              f"operations on a for T = {T}: one or more per step.")
            message = "\n".join([_wrap(f"{result.function} computes the right numbers, but not by a scan."), hint])
            result = dataclasses.replace(result, passed=False, problems=(problem,), hints=(hint,), message=message)
    return _finish(result, verbose)


__all__ = ["TOLERANCE", "MATCH_TOLERANCE", "CELL_SHAPES", "Problem", "CheckResult", "CheckFailed", "Mistake",
           "check_rnn_step_forward", "check_rnn_step_backward", "check_lstm_step_forward",
           "check_gru_step_forward", "check_gru_step_backward", "check_clip_by_norm", "CLIFF_TOLERANCE",
           "CLIFF_LENGTHS", "check_cliff_wall", "check_bidirectional_layer", "SCAN_CASES", "check_linear_scan"]
