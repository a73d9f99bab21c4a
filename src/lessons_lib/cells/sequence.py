"""Pieces shared by the three cell families' sequence functions.

A sequence function works in three stages (cs231n's ``rnn_forward`` does the
same, minus the fusion):

1. project the inputs of *all* time steps at once, ``a_x = x W_x^T + b_x``, one
   matrix product of shape ``(T N, D) @ (D, G H)`` (``G`` gates);
2. loop over time, where only the recurrent product ``h_{t-1} W_h^T`` and
   element-wise work remain;
3. in the backward pass, gather the gradients of the pre-activations of every
   step and turn them into parameter gradients with one matrix product each.

Internally the time loop runs time-major, ``(T, N, ...)``, so that each step
reads a contiguous block; the public functions take and return batch-first
arrays ``(N, T, ...)``.

Variable-length batches use a boolean mask ``m`` of shape ``(T, N, 1)``, true
while a sequence is running.  Past its end a sequence keeps its state
(``h_t = h_{t-1}``) and outputs zeros, so its final state is the state at its
own last step, exactly as if it had been run alone.
"""

from __future__ import annotations

import numpy as np


def time_major(a: np.ndarray) -> np.ndarray:
    """Batch-first ``(N, T, ...)`` to a contiguous time-major ``(T, N, ...)`` copy."""
    return np.ascontiguousarray(np.swapaxes(a, 0, 1))


def batch_first(a: np.ndarray) -> np.ndarray:
    """Time-major ``(T, N, ...)`` to batch-first ``(N, T, ...)`` (a view)."""
    return np.swapaxes(a, 0, 1)


def project_inputs(x_tm: np.ndarray, W_x: np.ndarray, b_x: np.ndarray) -> np.ndarray:
    """All input pre-activations at once: ``(T, N, D) -> (T, N, G H)``."""
    T, N, D = x_tm.shape
    return (x_tm.reshape(T * N, D) @ W_x.T + b_x).reshape(T, N, W_x.shape[0])  # (T, N, GH)


def input_gradients(da_x: np.ndarray, x_tm: np.ndarray, W_x: np.ndarray):
    """Gradients through ``a_x = x W_x^T + b_x`` for all steps at once.

    Returns ``dx`` batch-first ``(N, T, D)``, ``dW_x`` ``(G H, D)`` and ``db_x`` ``(G H,)``.
    """
    T, N, D = x_tm.shape
    da2 = da_x.reshape(T * N, W_x.shape[0])  # (TN, GH)
    dx = (da2 @ W_x).reshape(T, N, D)
    dW_x = da2.T @ x_tm.reshape(T * N, D)
    db_x = da2.sum(axis=0)
    return batch_first(dx), dW_x, db_x


def stacked_outer(da: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """``sum_t da_t^T inputs_t`` over time and batch as one product: ``(T,N,K), (T,N,J) -> (K, J)``."""
    rows = int(np.prod(da.shape[:-1]))  # explicit, so that an empty batch or time axis works too
    return da.reshape(rows, da.shape[-1]).T @ inputs.reshape(rows, inputs.shape[-1])


def mask_from_lengths(lengths: np.ndarray | None, T: int) -> np.ndarray | None:
    """Time-major boolean mask ``(T, N, 1)``, true while ``t < lengths[n]``; None for full sequences."""
    if lengths is None:
        return None
    return (np.arange(T)[:, None] < lengths[None, :])[:, :, None]


def lengths_to_mask(lengths, T: int) -> np.ndarray:
    """Batch-first boolean mask ``(N, T)``: true at the steps each sequence really has."""
    lengths = np.asarray(lengths)
    return np.arange(T)[None, :] < lengths[:, None]
