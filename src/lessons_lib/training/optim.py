"""Optimisers as pure functions over dictionaries of arrays.

Each takes the parameters, their gradients and an explicit optimiser state,
and returns new parameters and a new state; nothing is kept between calls.
Two optimisers are here, with the update rules PyTorch uses:

- stochastic gradient descent with (heavy-ball) momentum, :func:`sgd_step`;
- Adam (Kingma and Ba, 2015), :func:`adam_step`.

A learning-rate schedule is a plain function of the step number,
:func:`cosine_schedule`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class AdamState(NamedTuple):
    """Adam's running moments and step count."""

    m: dict  #: running mean of the gradients, per parameter
    v: dict  #: running mean of the squared gradients, per parameter
    step: int  #: number of steps taken so far


def adam_init(params: dict) -> AdamState:
    """Zero moments for every parameter."""
    return AdamState({k: np.zeros_like(p) for k, p in params.items()},
                     {k: np.zeros_like(p) for k, p in params.items()}, 0)


def adam_step(params: dict, grads: dict, state: AdamState, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of Adam (Kingma and Ba, 2015, Algorithm 1); returns ``(new_params, new_state)``.

    With ``m`` and ``v`` the running means of the gradient and its square,
    bias-corrected as ``m_hat = m / (1 - beta1**t)`` and ``v_hat = v / (1 - beta2**t)``,
    each parameter moves by ``-lr * m_hat / (sqrt(v_hat) + eps)`` (as PyTorch's ``Adam``).
    """
    missing = sorted(set(params) - set(grads))
    if missing:
        raise ValueError(f"grads must have an entry for every parameter, missing {missing}")
    step = state.step + 1
    m = {k: beta1 * state.m[k] + (1 - beta1) * grads[k] for k in params}
    v = {k: beta2 * state.v[k] + (1 - beta2) * grads[k] ** 2 for k in params}
    c1, c2 = 1 - beta1 ** step, 1 - beta2 ** step
    new = {k: params[k] - lr * (m[k] / c1) / (np.sqrt(v[k] / c2) + eps) for k in params}
    return new, AdamState(m, v, step)


class SGDState(NamedTuple):
    """The velocity of SGD with momentum, per parameter."""

    velocity: dict  #: running sum of past gradients, decayed by ``momentum`` each step


def sgd_init(params: dict) -> SGDState:
    """Zero velocity for every parameter."""
    return SGDState({k: np.zeros_like(p) for k, p in params.items()})


def sgd_step(params: dict, grads: dict, state: SGDState, lr=0.1, momentum=0.0):
    """One step of SGD with momentum; returns ``(new_params, new_state)``.

    As PyTorch's ``SGD``: the velocity ``v <- momentum * v + g`` and the step
    ``theta <- theta - lr * v``.  With ``momentum = 0`` this is plain gradient descent.
    """
    missing = sorted(set(params) - set(grads))
    if missing:
        raise ValueError(f"grads must have an entry for every parameter, missing {missing}")
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
    velocity = {k: momentum * state.velocity[k] + grads[k] for k in params}
    return {k: params[k] - lr * velocity[k] for k in params}, SGDState(velocity)


def cosine_schedule(lr: float, steps: int, final: float = 0.1, warmup: int = 0):
    """A learning rate per step: a linear warm-up, then a cosine decay from ``lr`` to ``final * lr``.

    Returns a function ``schedule(step)`` of the 0-based step number, for
    :func:`lessons_lib.training.loop.train`.  Steps past ``steps`` keep the final rate.
    """
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if not (isinstance(warmup, int) and 0 <= warmup < steps):
        raise ValueError(f"warmup must be an int in [0, steps), got {warmup!r}")
    if not 0.0 <= final <= 1.0:
        raise ValueError(f"final must lie in [0, 1], got {final}")

    def schedule(step: int) -> float:
        if step < warmup:
            return lr * (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, steps - 1 - warmup))
        return lr * (final + (1.0 - final) * 0.5 * (1.0 + np.cos(np.pi * progress)))

    return schedule
