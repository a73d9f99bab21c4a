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
