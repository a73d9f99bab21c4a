"""The wall of the loss cliff and its scaling law (lessons_lib.analysis.gradient_flow), and its exercise checker.

Known values come from outside the code under test: for T = 1 the loss is
``0.5 (tanh(w h0 + b) + 1)**2`` and its largest slope is found by hand; the
library's backward pass (through ``cliff_landscape``) checks the forward-mode
derivative; and the saddle-node bottleneck predicts the limits 4, 8 and
``T**2 (w_c - wall) -> pi**2 w_c / (w_c - 1)``.
"""

import numpy as np
import pytest

from lessons_lib.analysis import gradient_flow as gf
from lessons_lib.teaching import checks


def flat(result):
    return " ".join(result.message.split())


def test_forward_mode_derivative_matches_the_library_backward_pass():
    ws = np.linspace(0.5, 3.0, 41)
    for T in (1, 7, 30):
        cliff = gf.cliff_landscape(ws, T=T)
        h_T, dloss = gf._cliff_forward(ws, T, -0.5, 1.0, -1.0)
        np.testing.assert_allclose(h_T, cliff.h_T, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(dloss, cliff.dloss, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("b", [-0.5, -1.0, 0.3])
def test_one_step_wall_and_peak_by_hand(b):
    # T = 1, h0 = 1, target -1: L = 0.5 (h + 1)^2 with h = tanh(w + b), so |dL/dw| = (1 + h)(1 - h^2) = (1 + h)^2 (1 - h),
    # largest at h = 1/3, where it is (4/3)^2 (2/3) = 32/27.
    wall = gf.cliff_wall(1, b=b, search=(-3.0, 4.0))
    # The top of a smooth maximum is flat to rounding over about 1e-8: the position is known to that.
    assert wall.w == pytest.approx(np.arctanh(1 / 3) - b, abs=1e-7)
    assert wall.peak == pytest.approx(32 / 27, rel=1e-13)
    assert wall.h_T == pytest.approx(1 / 3, abs=1e-7) and wall.T == 1


@pytest.mark.parametrize("T", [20, 60])
def test_the_wall_is_the_largest_gradient_of_the_library_backward_pass(T):
    wall = gf.cliff_wall(T)
    here = gf.cliff_landscape([wall.w], T=T)
    assert abs(here.dloss[0]) == pytest.approx(wall.peak, rel=1e-9)
    assert here.h_T[0] == pytest.approx(wall.h_T, abs=1e-12)
    # Nothing on a dense grid of the library's own landscape is higher.
    grid = gf.cliff_landscape(np.linspace(wall.w - 0.01, wall.w + 0.01, 801), T=T)
    assert np.abs(grid.dloss).max() <= wall.peak * (1 + 1e-9)
    assert np.abs(grid.dloss).max() >= wall.peak * 0.99


def test_the_scaling_law_of_the_bottleneck():
    lengths = [10, 20, 40, 80, 160, 320, 640]
    s = gf.cliff_scaling(lengths)
    assert s.w_c == pytest.approx(gf.bifurcation_weight(-0.5))
    assert np.all(s.wall < s.w_c) and np.all(np.diff(s.wall) > 0)            # below w_c, approaching it
    assert np.all(np.diff(s.distance_ratio) > 0) and np.all(np.diff(s.peak_ratio) > 0)
    assert s.distance_ratio[-1] == pytest.approx(4.0, abs=0.05)            # w_c - wall ~ T**-2
    assert s.peak_ratio[-1] == pytest.approx(8.0, abs=0.15)                # peak ~ T**3
    assert np.all(s.distance_ratio < 4.0) and np.all(s.peak_ratio < 8.0)   # approached from below
    # The constant: passing the bottleneck takes pi / (h_c sqrt(delta)) steps, with 1 - h_c^2 = 1 / w_c.
    constant = np.pi ** 2 * s.w_c / (s.w_c - 1.0)
    assert s.bottleneck == pytest.approx(constant, rel=1e-12)
    scaled = np.array(lengths) ** 2 * s.distance
    assert np.all(np.diff(scaled) > 0) and scaled[-1] == pytest.approx(constant, rel=0.01)
    assert s.distance_ratio.shape == s.peak_ratio.shape == (len(lengths) - 1,)


@pytest.mark.parametrize("call, error", [
    (lambda: gf.cliff_wall(0), ValueError),
    (lambda: gf.cliff_wall(2.5), TypeError),
    (lambda: gf.cliff_wall(10, search=(2.0, 1.0)), ValueError),
    (lambda: gf.cliff_wall(10, search="ab"), TypeError),
    (lambda: gf.cliff_wall(10, search=(0.0, np.nan)), ValueError),
    (lambda: gf.cliff_wall(10, b="x"), TypeError),
    (lambda: gf.cliff_scaling([]), ValueError),
    (lambda: gf.cliff_scaling([10.0, 20.0]), ValueError),
    (lambda: gf.cliff_scaling([0, 10]), ValueError),
    (lambda: gf.cliff_scaling([10, 20], b=0.5), ValueError),
])
def test_bad_input_raises_clear_errors(call, error):
    with pytest.raises(error):
        call()


# ----------------------------------------------------------------------------- the exercise's checker

def grid_wall(T, zooms=4, start=1.5):
    """A reader's answer: a grid search with cliff_landscape, zoomed in ``zooms`` times."""
    w_c = gf.bifurcation_weight(-0.5)
    ws = np.linspace(start, w_c, 101)
    for _ in range(zooms):
        k = np.argmax(np.abs(gf.cliff_landscape(ws, T=T).dloss))
        ws = np.linspace(ws[max(k - 2, 0)], ws[min(k + 2, len(ws) - 1)], 21)
    cliff = gf.cliff_landscape(ws, T=T)
    k = np.argmax(np.abs(cliff.dloss))
    return cliff.w[k], abs(cliff.dloss[k])


def test_the_library_and_a_zoomed_grid_search_pass(capsys):
    result = checks.check_cliff_wall(gf.cliff_wall)
    assert result.passed and result.cases == tuple(f"T = {T}" for T in checks.CLIFF_LENGTHS)
    printed = capsys.readouterr().out
    assert " passes. " in flat(result) and "Well done." in flat(result) and printed.strip() == result.message
    assert "ratios as T doubles" in result.message and "relative error below 0.005" in flat(result)
    s = gf.cliff_scaling(list(checks.CLIFF_LENGTHS))
    for ratio in (*s.distance_ratio, *s.peak_ratio):                  # the reader's ratios are printed
        assert f"{ratio:.2f}" in result.message
    assert all(len(line) <= checks.WIDTH for line in result.message.splitlines())
    assert checks.check_cliff_wall(grid_wall, lengths=(10, 20), verbose=False).passed


def test_a_grid_that_is_too_coarse_misses_the_top_of_the_spike():
    result = checks.check_cliff_wall(lambda T: grid_wall(T, zooms=0), lengths=(40, 80), verbose=False)
    assert not result.passed and "peak" in result.wrong_outputs
    assert "coarse grid misses its top" in flat(result) and "Hint: " in flat(result)
    assert "case T = 80" in flat(result)


def test_a_grid_that_starts_above_the_wall_is_told_where_the_wall_is():
    result = checks.check_cliff_wall(lambda T: grid_wall(T, start=1.9), lengths=(10, 20), verbose=False)
    assert not result.passed and "w_c-w" in result.wrong_outputs
    assert "more than 0.1 below at T = 10" in flat(result)


def test_returning_the_distance_instead_of_the_wall_fails():
    def distance(T):
        w, peak = gf.cliff_wall(T)[1:3]
        return gf.bifurcation_weight(-0.5) - w, peak
    result = checks.check_cliff_wall(distance, lengths=(10,), verbose=False)
    assert not result.passed and result.wrong_outputs == ("w_c-w",) and "Return w itself" in flat(result)


def test_unwritten_wrong_form_and_errors_are_reported():
    def stub(T):
        raise NotImplementedError("Exercise: write the body of stub")
    assert checks.check_cliff_wall(stub, verbose=False).not_written
    as_dict = checks.check_cliff_wall(lambda T: {"w": 1.9}, lengths=(10,), verbose=False)
    assert not as_dict.passed and as_dict.problems[0].kind == "form" and "pair (w, peak)" in flat(as_dict)
    as_text = checks.check_cliff_wall(lambda T: ("1.9", None), lengths=(10,), verbose=False)
    assert as_text.problems[0].kind == "form"

    def broken(T):
        return np.linspace(0, 1, 3) @ np.ones(4)
    error = checks.check_cliff_wall(broken, lengths=(10,), verbose=False)
    assert error.problems[0].kind == "error" and "np.linspace(0, 1, 3) @ np.ones(4)" in flat(error)
    with pytest.raises(TypeError):
        checks.check_cliff_wall(grid_wall(10))
