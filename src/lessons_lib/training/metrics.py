"""Numbers to report a trained model by: bits per character, perplexity, MSE, MAE.

A character model's loss is a cross-entropy in **nats** per character (natural
logarithms).  Two other units are common:

- **bits per character** (bpc), ``nats / ln 2``: the average number of bits an
  ideal coder that uses the model's probabilities would spend per character;
- **perplexity**, ``exp(nats)``: the number of equally likely characters that
  would leave the model as uncertain as it is on average.

A model that spreads its probability uniformly over ``V`` characters scores
``log2 V`` bpc and perplexity ``V``.

For real-valued forecasts, the **mean squared error** (MSE) and the **mean
absolute error** (MAE) of ``prediction - truth``; both ignore entries that are
``nan`` in the truth, so that missing observations are never scored.
"""

from __future__ import annotations

import math

import numpy as np


def bits_per_character(nats: float) -> float:
    """Cross-entropy in nats per character to bits per character."""
    return float(nats) / math.log(2.0)


def perplexity(nats: float) -> float:
    """Cross-entropy in nats per character to perplexity, ``exp(nats)``."""
    return math.exp(float(nats))


def _errors(prediction, truth, axis):
    prediction, truth = np.asarray(prediction, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if prediction.shape != truth.shape:
        raise ValueError(f"prediction and truth must have the same shape, got {prediction.shape} and {truth.shape}")
    if np.any(np.isnan(prediction) & ~np.isnan(truth)):
        raise ValueError("prediction is nan where the truth is known")
    known = ~np.isnan(truth)
    if not known.any(axis=axis).all():
        raise ValueError("every error needs at least one known (non-nan) truth value")
    return np.where(known, prediction - np.where(known, truth, 0.0), 0.0), known


def mean_squared_error(prediction, truth, axis=None):
    """Mean of ``(prediction - truth)^2`` over the entries where ``truth`` is not ``nan``.

    ``axis`` as in numpy: None averages everything, ``axis=0`` gives one
    number per column (per forecast horizon, say).
    """
    err, known = _errors(prediction, truth, axis)
    return np.sum(err ** 2, axis=axis) / np.sum(known, axis=axis)


def mean_absolute_error(prediction, truth, axis=None):
    """Mean of ``|prediction - truth|`` over the entries where ``truth`` is not ``nan``."""
    err, known = _errors(prediction, truth, axis)
    return np.sum(np.abs(err), axis=axis) / np.sum(known, axis=axis)
