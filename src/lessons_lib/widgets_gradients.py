"""Interactive exploration for chapter 2: how the recurrent scale, the length and the activation shape gradient decay.

The widget only wires controls to :func:`show_gradient_decay`, a plain
function that is usable (and tested) without a kernel.  The chapter shows
the same effect as small multiples first, for readers of the static book.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .gradient_flow import ACTIVATIONS, measure_gradient_decay, recurrent_weights
from .plots_gradients import plot_gradient_decay
from .widgets import figure_html

# The widget keeps the vertical axis fixed, so that a change shows as a moving curve, not as new tick labels.
WIDGET_YLIM = (1e-30, 1e10)


def gradient_decay_figure(sigma_max=0.9, T=50, activation="tanh", H=16, seed=0, ax=None):
    """Measure and draw ``||dh_T/dh_t||_2`` for one setting: what the widget redraws on every change.

    The recurrent matrix is a random orthogonal matrix times ``sigma_max``
    (every singular value equal to ``sigma_max``), drawn from ``seed``; the
    inputs are standard normal, as in :func:`~lessons_lib.gradient_flow.measure_gradient_decay`.

    Returns
    -------
    (matplotlib Axes, GradientDecay)
    """
    W_h = recurrent_weights(H, sigma_max, np.random.default_rng(seed), "orthogonal")
    decay = measure_gradient_decay(W_h, T, np.random.default_rng(seed + 1), activation=activation, N=4)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.8))
    plot_gradient_decay([decay], ax=ax, ylim=WIDGET_YLIM)
    ax.set_title(fr"{activation}, $\sigma_{{\max}} = {sigma_max:.2f}$, mean slope $\overline{{\varphi'}} = "
                 fr"{decay.mean_slope:.2f}$", fontsize=10)
    return ax, decay


def gradient_decay_alt(decay) -> str:
    """Alt text for the figure of one :class:`~lessons_lib.gradient_flow.GradientDecay`."""
    return (f"Log-scale plot of the gradient norm against the distance back in time, for a {decay.activation} RNN "
            f"whose recurrent matrix has largest singular value {decay.sigma_max:.2f}: the measured norm goes from "
            f"{decay.typical[0]:.2g} at distance 0 to {decay.typical[-1]:.2g} at distance {int(decay.distance[-1])}, "
            f"beside the dotted bound, which reaches {decay.bound[-1]:.2g}.")


def show_gradient_decay(sigma_max=0.9, T=50, activation="tanh"):
    """Show :func:`gradient_decay_figure` as an image with alt text (the widget's callback); returns the figure."""
    from IPython.display import HTML, display

    ax, decay = gradient_decay_figure(sigma_max, T, activation)
    display(HTML(figure_html(ax.figure, gradient_decay_alt(decay))))
    return ax.figure


def gradient_decay_widget():
    """Controls for the largest singular value, the sequence length and the activation (needs a live kernel)."""
    from ipywidgets import Dropdown, FloatSlider, IntSlider, interactive

    return interactive(
        show_gradient_decay,
        sigma_max=FloatSlider(value=0.9, min=0.1, max=4.0, step=0.05, description="σ_max"),
        T=IntSlider(value=50, min=5, max=200, step=5, description="T"),
        activation=Dropdown(options=list(ACTIVATIONS), value="tanh", description="activation"),
    )
