"""Interactive exploration for chapter 3: how the gate bias and the length decide whether gradients survive.

The widget only wires sliders to :func:`show_gate_bias`, a plain function
usable (and tested) without a kernel.  It shows the figure as an image with
alt text, through :func:`lessons_lib.widgets.figure_html`.  The chapter
shows the same measurement as small multiples first, for readers of the
static book.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .gated_flow import compare_state_decay
from .plots_gated import plot_state_decay
from .widgets import figure_html

# Fixed vertical limits, so that a change shows as a moving curve, not as new tick labels.
WIDGET_YLIM = (1e-40, 1e4)
#: The sizes the widget and the chapter's figures use.
SIZES = {"D": 16, "H": 32, "N": 8, "seed": 0}


def gate_bias_figure(gate_bias=1.0, T=100, ax=None):
    """Measure and draw the three cells' Jacobian norms for one gate bias and length.

    The gate bias is the LSTM's forget-gate bias and the GRU's update-gate
    bias (see :func:`lessons_lib.gated_flow.cells_on_same_inputs`); the RNN
    has no gate and does not change.

    Returns
    -------
    (matplotlib Axes, dict kind -> StateDecay)
    """
    results = compare_state_decay(T, gate_bias=gate_bias, **SIZES)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.6))
    plot_state_decay(results, ax=ax, ylim=WIDGET_YLIM)
    ax.set_title(f"gate bias {gate_bias:g}: mean forget gate {results['lstm'].keep_mean:.2f}, "
                 f"mean GRU keep share {results['gru'].keep_mean:.2f}", fontsize=10)
    return ax, results


def gate_bias_alt(results, gate_bias) -> str:
    """Alt text for the figure of one setting: the value of every curve at the largest distance."""
    T = int(results["rnn"].distance[-1])
    parts = []
    for kind, path, name in (("rnn", "hh", "tanh RNN dh_T/dh_t"), ("gru", "hh", "GRU dh_T/dh_t"),
                             ("gru", "direct", "GRU direct path"), ("lstm", "hh", "LSTM dh_T/dh_t"),
                             ("lstm", "cc", "LSTM dc_T/dc_t"), ("lstm", "direct", "LSTM direct path")):
        parts.append(f"{name} {results[kind].typical(path)[T]:.1e}")
    return (f"Log-scale plot of Jacobian norms against the distance back in time, 0 to {T} steps, for a tanh "
            f"RNN, a GRU and an LSTM on the same inputs, with gate bias {gate_bias:g}. At distance {T}: "
            + ", ".join(parts) + ".")


def show_gate_bias(gate_bias=1.0, T=100):
    """Show :func:`gate_bias_figure` as an image with alt text (the widget's callback); returns the figure."""
    from IPython.display import HTML, display

    ax, results = gate_bias_figure(gate_bias, T)
    fig = ax.figure
    display(HTML(figure_html(fig, gate_bias_alt(results, gate_bias))))
    return fig


def gate_bias_widget():
    """Sliders for the gate bias and the sequence length (needs a live kernel)."""
    from ipywidgets import FloatSlider, IntSlider, interactive

    return interactive(
        show_gate_bias,
        gate_bias=FloatSlider(value=1.0, min=-2.0, max=8.0, step=0.5, description="gate bias",
                              continuous_update=False),
        T=IntSlider(value=100, min=10, max=200, step=10, description="T", continuous_update=False),
    )
