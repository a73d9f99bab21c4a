"""Transient growth of non-normal recurrent matrices (lessons_lib.analysis.gradient_flow) and its figure.

The expected values come from closed forms, not from the code under test:
for the 2 x 2 block ``W = [[l, a], [0, l]]``, ``W^k = [[l^k, k a l^(k-1)], [0, l^k]]``,
and the spectral norm of ``[[p, q], [0, p]]`` is ``(|q| + sqrt(q^2 + 4 p^2)) / 2``
(its singular values multiply to ``p^2`` and their squares add to ``2 p^2 + q^2``).
For a longer chain ``W = l I + a S``, the entries of ``W^k`` are binomial terms.
"""

from math import comb

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lessons_lib.analysis import gradient_flow as gf  # noqa: E402
from lessons_lib.figures import gradient_plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def block_norm(eigenvalue, coupling, k):
    """||W^k||_2 for W = [[l, a], [0, l]], from the closed form."""
    p = eigenvalue ** k
    q = k * coupling * eigenvalue ** (k - 1) if k else 0.0
    return (abs(q) + np.sqrt(q * q + 4 * p * p)) / 2


def block_log_norm(eigenvalue, coupling, k):
    """log ||W^k||_2 of the same closed form, written so that it neither overflows nor underflows (k >= 1)."""
    r = eigenvalue / (k * coupling)                     # p / q
    return np.log(k * abs(coupling)) + (k - 1) * np.log(abs(eigenvalue)) + np.log((1 + np.sqrt(1 + 4 * r * r)) / 2)


def test_chain_matrix_is_the_documented_matrix():
    assert np.array_equal(gf.chain_matrix(3, 0.5, 2.0), [[0.5, 2.0, 0.0], [0.0, 0.5, 2.0], [0.0, 0.0, 0.5]])
    assert np.array_equal(gf.chain_matrix(1, 0.9, 5.0), [[0.9]])


def test_spectral_radius_known_values():
    assert gf.spectral_radius(gf.chain_matrix(4, 0.9, 100.0)) == pytest.approx(0.9, abs=1e-3)  # defective: eigvals are rough
    assert gf.spectral_radius([[0.0, -2.0], [2.0, 0.0]]) == pytest.approx(2.0)                  # eigenvalues +-2i
    assert gf.spectral_radius(np.diag([0.3, -0.7, 0.5])) == pytest.approx(0.7)


@pytest.mark.parametrize("eigenvalue, coupling", [(0.9, 10.0), (0.9, 1.0), (-0.5, 3.0), (1.1, 0.2)])
def test_power_norms_of_the_2x2_block_match_the_closed_form(eigenvalue, coupling):
    K = 60
    expected = np.array([block_norm(eigenvalue, coupling, k) for k in range(K + 1)])
    got = gf.power_norms(gf.chain_matrix(2, eigenvalue, coupling), K)
    assert got.shape == (K + 1,)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_the_2x2_block_grows_about_fortyfold_while_rho_to_the_k_falls():
    # For a large coupling, ||W^k|| ~ k a l^(k-1), largest near k = -1 / ln(l), about 9.5 for l = 0.9.
    g = gf.transient_growth(gf.chain_matrix(2, 0.9, 10.0), 100)
    expected = [block_norm(0.9, 10.0, k) for k in range(101)]
    assert g.peak_k == int(np.argmax(expected)) and g.peak_k in (9, 10)
    assert g.peak == pytest.approx(max(expected), rel=1e-12) and 38 < g.peak < 40
    assert g.radius_powers[g.peak_k] < 0.4


def test_chain_powers_lie_between_their_binomial_bounds():
    # W^k = sum_j c_j S^j with c_j = C(k, j) l^(k-j) a^j, and ||S^j||_2 = 1 for j < H:
    # max_j |c_j| <= ||W^k||_2 <= sum_j |c_j|.
    H, lam, a, K = 4, 0.9, 1.0, 120
    got = gf.power_norms(gf.chain_matrix(H, lam, a), K)
    for k in range(K + 1):
        c = [comb(k, j) * lam ** (k - j) * a ** j for j in range(min(k, H - 1) + 1)]
        assert max(c) * (1 - 1e-12) <= got[k] <= sum(c) * (1 + 1e-12)


def test_transient_growth_lies_between_the_eigenvalue_prediction_and_the_norm_bound():
    W = gf.chain_matrix(4, 0.9, 1.0)
    g = gf.transient_growth(W, 150)
    assert g.radius == pytest.approx(0.9, abs=1e-3) and g.norm == pytest.approx(np.linalg.svd(W)[1][0])
    assert np.all(g.radius_powers <= g.norms * (1 + 1e-9)) and np.all(g.norms <= g.norm_powers * (1 + 1e-9))
    # The hump: two orders of magnitude above 1 while rho < 1, then the decay.
    assert g.peak > 100 and 10 < g.peak_k < 60 and g.norms[-1] < 1


def test_normal_matrices_have_no_transient_growth():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    S = 0.3 * (A + A.T)                                 # symmetric, hence normal: ||S^k|| = rho^k
    Q = gf.recurrent_weights(5, 0.8, rng, "orthogonal")  # 0.8 times an orthogonal matrix
    for W in (S, Q):
        g = gf.transient_growth(W, 30)
        np.testing.assert_allclose(g.norms, g.radius_powers, rtol=1e-9)
        assert g.peak_k == (0 if g.radius < 1 else 30)


def test_power_norms_stay_accurate_up_to_the_edges_of_float64_without_warnings():
    big = gf.power_norms(gf.chain_matrix(2, 3.0, 1.0), 700)      # 3**700 is beyond float64
    small = gf.power_norms(gf.chain_matrix(2, 0.1, 1.0), 400)    # 0.1**400 is below it
    for k in (300, 640):
        assert np.log(big[k]) == pytest.approx(block_log_norm(3.0, 1.0, k), rel=1e-12)
    assert np.log(small[300]) == pytest.approx(block_log_norm(0.1, 1.0, 300), rel=1e-12)
    assert np.isinf(big[700]) and small[400] == 0.0               # and no overflow warning (warnings are errors)
    nilpotent = gf.power_norms([[0.0, 2.0], [0.0, 0.0]], 5)
    np.testing.assert_array_equal(nilpotent, [1.0, 2.0, 0.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("call, error", [
    (lambda: gf.power_norms(np.ones((2, 3)), 5), ValueError),
    (lambda: gf.power_norms(np.eye(2), -1), ValueError),
    (lambda: gf.power_norms(np.eye(2), 2.5), TypeError),
    (lambda: gf.power_norms("W", 3), TypeError),
    (lambda: gf.spectral_radius(np.ones(3)), ValueError),
    (lambda: gf.chain_matrix(0, 0.9, 1.0), ValueError),
    (lambda: gf.chain_matrix(2, "0.9", 1.0), TypeError),
    (lambda: gf.chain_matrix(2, 0.9, np.inf), ValueError),
    (lambda: gf.transient_growth(np.ones((3, 2)), 4), ValueError),
])
def test_bad_input_raises_clear_errors(call, error):
    with pytest.raises(error):
        call()


def test_the_shape_error_names_expected_and_received_shapes():
    with pytest.raises(ValueError, match=r"square matrix of shape \(2, 2\), got \(2, 3\)"):
        gf.power_norms(np.ones((2, 3)), 5)


# ----------------------------------------------------------------------------- the figure

def growths():
    return {"2 units": gf.transient_growth(gf.chain_matrix(2, 0.9, 1.0), 40),
            "4 units": gf.transient_growth(gf.chain_matrix(4, 0.9, 1.0), 40)}


def test_plot_transient_growth_draws_norms_bounds_and_one_eigenvalue_line():
    (ax,) = gradient_plots.plot_transient_growth(growths())
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert sum("W^k" in lab for lab in labels) == 2 and sum("the bound" in lab for lab in labels) == 2
    assert sum("eigenvalue prediction" in lab for lab in labels) == 1     # both radii are 0.9: drawn once
    assert ax.get_yscale() == "log" and ax.get_xlabel() == gradient_plots.POWER_LABEL
    assert ax.get_xlabel().islower() and ax.get_ylabel().islower()
    measured = [ln for ln in ax.get_lines() if "W^k" in ln.get_label()]
    # Greyscale: the measured curves differ in their markers, the references have none.
    assert len({ln.get_marker() for ln in measured}) == 2
    assert all(ln.get_marker() in ("None", "", None) for ln in ax.get_lines() if ln not in measured)
    np.testing.assert_allclose(measured[1].get_ydata(), growths()["4 units"].norms)


def test_plot_transient_growth_with_an_rnn_panel_shares_the_vertical_axis():
    W = gf.chain_matrix(4, 0.9, 1.0)
    decays = {f"input std {s:g}": gf.measure_gradient_decay(W, 40, np.random.default_rng(0), N=2, input_scale=s)
              for s in (0.0, 0.1)}
    left, right = gradient_plots.plot_transient_growth(growths(), decays, ylim=(1e-3, 1e4))
    assert left.get_ylim() == right.get_ylim() == pytest.approx((1e-3, 1e4))
    curves = [ln for ln in right.get_lines() if len(ln.get_xdata()) > 2]
    assert len(curves) == 2 and curves[0].get_linestyle() != curves[1].get_linestyle()
    # With no input the state stays at 0, every slope is 1, and the RNN's product is W^k itself.
    np.testing.assert_allclose(curves[0].get_ydata(), gf.power_norms(W, 40), rtol=1e-10)


def test_plot_transient_growth_rejects_bad_input():
    with pytest.raises(TypeError):
        gradient_plots.plot_transient_growth({})
    with pytest.raises(TypeError):
        gradient_plots.plot_transient_growth({"a": np.ones(3)})
    with pytest.raises(TypeError):
        gradient_plots.plot_transient_growth(growths(), decays={"a": growths()["2 units"]})
