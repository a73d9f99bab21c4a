"""Shared fixtures.  The helpers themselves live in ``cases.py`` next to this file."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A fresh generator with a fixed seed, so that every test is reproducible on its own."""
    return np.random.default_rng(20240601)
