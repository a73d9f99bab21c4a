"""Tests of lessons_lib.training.clipping: norm clipping (Pascanu et al.'s Algorithm 1) and element-wise clipping."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lessons_lib.training import clipping as cl


def test_clip_by_norm_known_values():
    g = np.array([3.0, 4.0])
    clipped, norm = cl.clip_by_norm(g, 1.0)
    assert norm == 5.0
    assert np.allclose(clipped, [0.6, 0.8], rtol=0, atol=1e-15)
    assert np.array_equal(g, [3.0, 4.0])  # the input is not changed


def test_clip_by_norm_leaves_short_gradients_alone():
    g = np.array([3e-9, -4e-9])
    clipped, norm = cl.clip_by_norm(g, 1.0)
    assert norm == pytest.approx(5e-9)
    assert np.array_equal(clipped, g) and clipped is not g


def test_clip_by_norm_at_exactly_the_threshold_is_a_no_op():
    clipped, _ = cl.clip_by_norm(np.array([3.0, 4.0]), 5.0)
    assert np.array_equal(clipped, [3.0, 4.0])


def test_clip_by_norm_treats_a_dict_as_one_vector():
    grads = {"W_h": np.array([[3.0, 0.0], [0.0, 0.0]]), "b": np.array([4.0, 0.0])}
    clipped, norm = cl.clip_by_norm(grads, 2.5)
    assert norm == 5.0 and sorted(clipped) == ["W_h", "b"]
    assert clipped["W_h"][0, 0] == pytest.approx(1.5) and clipped["b"][0] == pytest.approx(2.0)
    assert cl.global_norm(clipped) == pytest.approx(2.5)
    assert cl.cosine_similarity(clipped, grads) == pytest.approx(1.0)
    assert grads["W_h"][0, 0] == 3.0  # the input is not changed


def test_clip_by_value_known_values_and_direction_change():
    g = np.array([-3.0, 0.5, 2.0])
    clipped = cl.clip_by_value(g, 1.0)
    assert np.array_equal(clipped, [-1.0, 0.5, 1.0])
    assert cl.cosine_similarity(clipped, g) < 0.99  # a different direction
    assert np.array_equal(g, [-3.0, 0.5, 2.0])


def test_clip_by_value_on_a_dict():
    clipped = cl.clip_by_value({"a": np.array([5.0]), "b": np.array([[-0.2, -7.0]])}, 0.5)
    assert np.array_equal(clipped["a"], [0.5]) and np.array_equal(clipped["b"], [[-0.2, -0.5]])


def test_dtype_is_kept():
    g = np.array([30.0, 40.0], dtype=np.float32)
    assert cl.clip_by_norm(g, 1.0)[0].dtype == np.float32
    assert cl.clip_by_value(g, 1.0).dtype == np.float32


def test_global_norm_matches_numpy_and_does_not_overflow():
    grads = {"a": np.array([1.0, 2.0]), "b": np.array([[2.0], [4.0]])}
    assert cl.global_norm(grads) == pytest.approx(5.0)
    assert cl.global_norm(np.array([3e200, 4e200])) == pytest.approx(5e200)  # squares would overflow
    assert cl.global_norm(np.zeros(3)) == 0.0
    assert cl.global_norm({"a": np.zeros((0,)), "b": np.array([2.0])}) == 2.0


def test_clipping_cannot_revive_a_vanished_gradient():
    """The chapter's point: both rules only ever shrink; a gradient of 1e-20 stays 1e-20."""
    g = np.full(4, 5e-21)
    assert np.array_equal(cl.clip_by_norm(g, 1.0)[0], g)
    assert np.array_equal(cl.clip_by_value(g, 1e-3), g)


# Subnormal numbers (below 2.2e-308) carry too few digits for relative checks at 1e-12.
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(g=arrays(np.float64, st.integers(1, 8), elements=finite), threshold=st.floats(1e-3, 1e3))
def test_clipping_properties(g, threshold):
    """Norm clipping: length min(||g||, c), same direction.  Value clipping: every entry within [-c, c]."""
    clipped, norm = cl.clip_by_norm(g, threshold)
    largest = np.abs(g).max()
    expected = largest * np.linalg.norm(g / largest) if largest > 0 else 0.0  # numpy's norm underflows below 1e-154
    assert norm == pytest.approx(expected, rel=1e-12)
    assert cl.global_norm(clipped) <= min(norm, threshold) * (1 + 1e-12)
    if norm > 0:
        assert cl.global_norm(clipped) == pytest.approx(min(norm, threshold), rel=1e-12)
        assert cl.cosine_similarity(clipped, g) == pytest.approx(1.0, abs=1e-12)
    by_value = cl.clip_by_value(g, threshold)
    assert np.all(np.abs(by_value) <= threshold)
    assert np.array_equal(by_value[np.abs(g) <= threshold], g[np.abs(g) <= threshold])


def test_bad_arguments_raise_clear_errors():
    g = np.ones(3)
    with pytest.raises(ValueError, match="max_norm must be a positive finite number, got 0.0"):
        cl.clip_by_norm(g, 0.0)
    with pytest.raises(ValueError, match="max_norm must be a positive finite number, got nan"):
        cl.clip_by_norm(g, float("nan"))
    with pytest.raises(TypeError, match="max_norm must be a positive number, got str"):
        cl.clip_by_norm(g, "1")
    with pytest.raises(ValueError, match="clip_value must be a positive finite number, got -1.0"):
        cl.clip_by_value(g, -1.0)
    with pytest.raises(ValueError, match="clipping cannot rescale a gradient with inf or nan"):
        cl.clip_by_norm(np.array([1.0, np.inf]), 1.0)
    with pytest.raises(TypeError, match="grads must be a numeric array"):
        cl.global_norm("gradient")
    with pytest.raises(TypeError, match=r"grads\['W'\] must be a numeric array"):
        cl.global_norm({"W": None})
    with pytest.raises(ValueError, match="must not be an empty dict"):
        cl.clip_by_norm({}, 1.0)
    with pytest.raises(ValueError, match="a and b must have the same shape, got"):
        cl.cosine_similarity(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="a and b must have the same keys"):
        cl.cosine_similarity({"a": np.ones(2)}, {"b": np.ones(2)})
    with pytest.raises(ValueError, match="zero gradient"):
        cl.cosine_similarity(np.zeros(2), np.ones(2))
