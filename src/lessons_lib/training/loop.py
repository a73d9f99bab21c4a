"""One training loop for every model of the book: batches in, updated parameters and a history out.

The loop knows nothing about cells or losses.  It is given a **step
function**::

    loss, grads, carry = step_fn(params, batch, carry)

that computes the loss of one batch and the gradient of every parameter, and
a source of batches (any iterator).  At each step it

1. takes the next batch and calls ``step_fn``;
2. stops cleanly if the loss or the gradient is not finite (``nan`` or
   ``inf``), returning the last parameters whose loss was finite;
3. clips the gradient to a global norm ``max_norm`` if asked
   (:func:`lessons_lib.training.clipping.clip_by_norm`);
4. updates the parameters with Adam or SGD (:mod:`lessons_lib.training.optim`) at the
   step's learning rate, constant or from a schedule;
5. records the loss, the gradient norm and the learning rate.

**Truncated backpropagation through time.**  ``carry`` is whatever the step
function wants to hand to the next step; for a long text it is the final
hidden state of the chunk just trained on.  The next chunk starts from that
state, so the model's memory runs on across chunks, but gradients stop at the
chunk boundary (the carried state is a constant for the next step).  Tasks
whose batches are independent pass ``carry = None`` through unchanged.

**Progress.**  With ``progress=True`` a `tqdm <https://tqdm.github.io>`_ bar
shows the step count and the running loss: a widget in Jupyter, a line of
text in a terminal (on stderr, or on ``file``).  With ``print_every=k`` the
loop prints one line every ``k`` steps to stdout instead, rounded so that the
lines are the same on every machine that follows the same arithmetic.

The loop has no randomness of its own; with the same starting parameters
and the same batches it gives the same result every time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .clipping import clip_by_norm, global_norm
from .optim import adam_init, adam_step, sgd_init, sgd_step

OPTIMIZERS = ("adam", "sgd")
ON_NAN = ("stop", "raise")


class History(NamedTuple):
    """What happened during :func:`train`, one entry per step that ran."""

    loss: np.ndarray       #: (S,) loss of each step's batch, before that step's update
    grad_norm: np.ndarray  #: (S,) global norm of each step's gradient, before clipping
    lr: np.ndarray         #: (S,) learning rate used at each step
    evals: list            #: ``(step, metrics)`` pairs from ``evaluate``, if one was given
    stopped: str | None    #: None if every step ran; otherwise the reason training stopped early
    seconds: float         #: wall-clock time of the loop (varies between runs; do not compare it)
    best_step: int | None = None  #: with ``keep_best``, the step whose parameters were returned

    @property
    def steps(self) -> int:
        """Number of steps that ran (and updated the parameters)."""
        return len(self.loss)


def running_mean(values, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at every position (fewer at the start): a smoothed curve of the same length."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {values.shape}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    sums = np.cumsum(np.concatenate([[0.0], values]))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def _progress_bar(progress: bool, steps: int, desc: str | None, file):
    if not progress:
        return None
    if sys.platform == "emscripten":
        # In the browser (Pyodide) there are no threads, and tqdm's monitor thread would warn that it
        # cannot start one; the monitor only tunes how often the bar redraws.
        import tqdm.std
        tqdm.std.tqdm.monitor_interval = 0
    if file is not None:  # an explicit stream: the plain text bar, in notebooks too
        from tqdm import tqdm
        return tqdm(total=steps, desc=desc, file=file, leave=True, mininterval=0.2)
    from tqdm.auto import tqdm
    return tqdm(total=steps, desc=desc, leave=True, mininterval=0.2)


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    return int(steps)


def train(step_fn: Callable, params: dict, batches: Iterator, steps: int, *, optimizer: str = "adam",
          lr: float = 1e-2, schedule: Callable[[int], float] | None = None, momentum: float = 0.9,
          max_norm: float | None = None, carry: Any = None, evaluate: Callable[[dict], dict] | None = None,
          eval_every: int | None = None, keep_best: str | None = None, stop_when: Callable[[dict], bool] | None = None,
          on_nan: str = "stop",
          progress: bool = False, desc: str | None = None, print_every: int | None = None, file=None):
    """Train ``params`` for ``steps`` steps; return ``(params, history)``.

    Parameters
    ----------
    step_fn : callable
        ``step_fn(params, batch, carry) -> (loss, grads, carry)``, with
        ``grads`` a dict holding an array for every key of ``params``.
    params : dict of arrays
        Starting parameters; never changed in place.
    batches : iterator
        Gives one batch per step (``next(batches)``); it may be endless.
    steps : int
        Number of steps.  Training also stops when ``batches`` runs out.
    optimizer : {"adam", "sgd"}
        Adam (:func:`~lessons_lib.training.optim.adam_step`) or SGD with
        ``momentum`` (:func:`~lessons_lib.training.optim.sgd_step`).
    lr : float
        Learning rate, used when ``schedule`` is None.
    schedule : callable, optional
        ``schedule(step) -> lr`` for the 0-based step number, e.g.
        :func:`~lessons_lib.training.optim.cosine_schedule`.
    max_norm : float, optional
        Clip the gradient to this global norm before each update.
    carry : optional
        The first value of ``carry`` handed to ``step_fn`` (None: the step
        function starts from its own default, usually a zero state).
    evaluate : callable, optional
        ``evaluate(params) -> dict of floats``, called every ``eval_every``
        steps and after the last one; results go to ``history.evals``.
    keep_best : str, optional
        The name of a metric of ``evaluate`` to minimise: return the
        parameters of the evaluation where it was lowest (**early stopping**
        on a validation set) instead of the last ones; ``history.best_step``
        says which step that was.
    stop_when : callable, optional
        ``stop_when(metrics) -> bool``, asked after every evaluation: when it
        returns True, training stops there (a run that reached its target
        need not spend the rest of its budget); ``history.stopped`` then
        says so and nothing is printed.
    on_nan : {"stop", "raise"}
        What to do when a loss or gradient is not finite: stop, print why and
        return the last parameters whose loss was finite (those evaluated at
        the previous step, before its update), or raise
        ``FloatingPointError`` with the same message.
    progress : bool
        Show a progress bar with the running loss (needs ``tqdm``).
    desc : str, optional
        Label of the progress bar and of the printed lines.
    print_every : int, optional
        Print the step and the mean loss of the last ``print_every`` steps
        this often, to stdout, rounded to 4 significant digits.
    file : writable text stream, optional
        Where the progress bar goes (default: a widget in Jupyter, stderr in
        a terminal).

    Returns
    -------
    params : dict of arrays
        The trained parameters (new arrays): after the last step, or at the
        best evaluation with ``keep_best``.
    history : History
    """
    steps = _check_steps(steps)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if on_nan not in ON_NAN:
        raise ValueError(f"on_nan must be one of {ON_NAN}, got {on_nan!r}")
    if not isinstance(params, dict) or not params:
        raise TypeError("params must be a non-empty dict of arrays")
    for name, every in (("print_every", print_every), ("eval_every", eval_every)):
        if every is not None and (isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1):
            raise ValueError(f"{name} must be a positive int or None, got {every!r}")
    if keep_best is not None and evaluate is None:
        raise ValueError("keep_best needs evaluate, the function that computes the metric to minimise")
    if stop_when is not None and (evaluate is None or eval_every is None):
        raise ValueError("stop_when needs evaluate and eval_every: it is asked after each evaluation")
    if not hasattr(batches, "__next__"):
        batches = iter(batches)
    opt_state = adam_init(params) if optimizer == "adam" else sgd_init(params)
    label = f"{desc}: " if desc else ""

    losses, norms, rates, evals = [], [], [], []
    stopped, reason, best, last_good = None, "", None, params
    start = time.perf_counter()
    bar = _progress_bar(progress, steps, desc, file)
    smooth = None
    try:
        for step in range(steps):
            try:
                batch = next(batches)
            except StopIteration:
                stopped, reason = f"{label}the batches ran out after {step} steps", "no more batches"
                break
            loss, grads, new_carry = step_fn(params, batch, carry)
            loss = float(loss)
            norm = global_norm({k: grads[k] for k in params}) if np.isfinite(loss) else float("nan")
            if not (np.isfinite(loss) and np.isfinite(norm)):
                what = f"the loss became {loss}" if not np.isfinite(loss) else f"the gradient norm became {norm}"
                which = f"those of step {step}, the last with a finite loss" if step else "the starting ones"
                stopped = (f"{label}stopped at step {step + 1} of {steps}: {what}; the parameters returned are "
                           f"{which}; lower the learning rate, or clip the gradient (max_norm).")
                reason = "not finite"
                if on_nan == "raise":
                    raise FloatingPointError(stopped)
                params = last_good
                break
            last_good = params
            if max_norm is not None:
                grads, _ = clip_by_norm({k: grads[k] for k in params}, max_norm)
            rate = float(schedule(step)) if schedule is not None else float(lr)
            if optimizer == "adam":
                params, opt_state = adam_step(params, grads, opt_state, lr=rate)
            else:
                params, opt_state = sgd_step(params, grads, opt_state, lr=rate, momentum=momentum)
            carry = new_carry
            losses.append(loss)
            norms.append(norm)
            rates.append(rate)
            smooth = loss if smooth is None else 0.95 * smooth + 0.05 * loss
            if bar is not None:
                bar.set_postfix_str(f"loss {smooth:.4g}", refresh=False)
                bar.update(1)
            if print_every is not None and (step + 1) % print_every == 0:
                recent = float(np.mean(losses[-print_every:]))
                print(f"{label}step {step + 1:>{len(str(steps))}}/{steps}  loss {recent:.4g}", flush=True)
            if evaluate is not None and eval_every is not None and (step + 1) % eval_every == 0:
                evals.append((step + 1, dict(evaluate(params))))
                best = _remember_best(keep_best, evals, params, best)
                if stop_when is not None and stop_when(evals[-1][1]) and step + 1 < steps:
                    stopped, reason = f"{label}reached its target at step {step + 1} of {steps}", "target reached"
                    break
    finally:
        if bar is not None:
            if stopped:
                bar.set_postfix_str(f"stopped: {reason}")
            bar.close()
    if stopped and reason != "target reached":
        print(stopped, flush=True)
    if evaluate is not None and (not evals or evals[-1][0] != len(losses)):
        evals.append((len(losses), dict(evaluate(params))))
        best = _remember_best(keep_best, evals, params, best)
    best_step = None
    if keep_best is not None:
        best_step, params = best
    history = History(np.array(losses), np.array(norms), np.array(rates), evals, stopped,
                      time.perf_counter() - start, best_step)
    return params, history


def _remember_best(metric: str | None, evals: list, params: dict, best):
    """``(step, params)`` of the lowest ``metric`` so far, updated with the newest evaluation."""
    if metric is None:
        return best
    step, values = evals[-1]
    if metric not in values:
        raise KeyError(f"keep_best={metric!r} is not among the metrics that evaluate returns: {sorted(values)}")
    if best is None or values[metric] < dict(evals)[best[0]][metric]:
        return step, params
    return best


def repeat(batch) -> Iterator:
    """The same batch at every step: full-batch training as an endless iterator."""
    while True:
        yield batch
