"""Optimisers as pure functions over dictionaries of arrays.

Each takes the parameters, their gradients and an explicit optimiser state,
and returns new parameters and a new state; nothing is kept between calls.
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
    """One step of Adam (Kingma and Ba, 2015); returns ``(new_params, new_state)``."""
    missing = sorted(set(params) - set(grads))
    if missing:
        raise ValueError(f"grads must have an entry for every parameter, missing {missing}")
    step = state.step + 1
    m = {k: beta1 * state.m[k] + (1 - beta1) * grads[k] for k in params}
    v = {k: beta2 * state.v[k] + (1 - beta2) * grads[k] ** 2 for k in params}
    scale = lr * np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    new = {k: params[k] - scale * m[k] / (np.sqrt(v[k]) + eps) for k in params}
    return new, AdamState(m, v, step)
