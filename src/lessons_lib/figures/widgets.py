"""Interactive explorations: sliders wired to plain figure functions.

Each widget only wires sliders to a function that draws a figure and is
usable (and tested) without a kernel; the chapters show a static figure or
small multiples from the same function first, so readers of the static book
see the effect too.

Widgets show their figures with :func:`figure_html`, an ``<img>`` with alt
text, so that the figure a slider redraws is described to screen readers
like every other figure of the book.  ``ipywidgets`` and ``IPython`` are
imported only inside the functions that build or display widgets.
"""

from __future__ import annotations

import base64
import html
import io

import matplotlib.pyplot as plt
import numpy as np

from ..analysis.anatomy import GRU_GATES, LSTM_GATES, gru_anatomy, lstm_anatomy, unit_preactivations
from ..analysis.gated_flow import compare_state_decay
from ..analysis.gradient_flow import ACTIVATIONS, measure_gradient_decay, recurrent_weights
from ..analysis.memory import pulse_response
from ..cells.activations import sigmoid
from .gradient_plots import plot_gradient_decay, plot_state_decay
from .state_plots import plot_pulse_memory, plot_state_bars


def figure_html(fig, alt: str, dpi: int = 96) -> str:
    """The figure as an HTML ``<img>`` (an embedded PNG) with the given alt text; closes the figure."""
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must be a non-empty description of the figure")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" />'


def pulse_memory_figure(w: float = 0.9, u: float = 1.0, T: int = 15):
    """The figure the pulse-memory widget shows for one setting, and its alt text."""
    h = pulse_response(w, u, T)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    plot_pulse_memory({w: h}, ax=ax)
    ax.set_ylim(-1.05, 1.05)
    alt = (f"Hidden state of a one-unit tanh RNN over {T} steps after a pulse, with recurrent weight w = {w:g} "
           f"and input weight u = {u:g}: it starts at {h[0]:.2f} and is {h[-1]:.2f} at the last step.")
    return fig, alt


def show_pulse_memory(w: float = 0.9, u: float = 1.0, T: int = 15) -> None:
    """Display :func:`pulse_memory_figure` (what the widget calls on every change)."""
    from IPython.display import HTML, display

    display(HTML(figure_html(*pulse_memory_figure(w, u, T))))


def pulse_memory_widget():
    """Sliders for ``w``, ``u`` and ``T`` redrawing :func:`show_pulse_memory` (needs a live kernel)."""
    from ipywidgets import FloatSlider, IntSlider, interactive

    return interactive(
        show_pulse_memory,
        w=FloatSlider(value=0.9, min=-2.0, max=2.0, step=0.05, description="w"),
        u=FloatSlider(value=1.0, min=0.1, max=3.0, step=0.1, description="u"),
        T=IntSlider(value=15, min=5, max=40, step=1, description="T"),
    )


# The widget keeps the vertical axis fixed, so that a change shows as a moving curve, not as new tick labels.
GRADIENT_DECAY_YLIM = (1e-30, 1e10)


def gradient_decay_figure(sigma_max=0.9, T=50, activation="tanh", H=16, seed=0, ax=None):
    """Measure and draw ``||dh_T/dh_t||_2`` for one setting: what the widget redraws on every change.

    The recurrent matrix is a random orthogonal matrix times ``sigma_max``
    (every singular value equal to ``sigma_max``), drawn from ``seed``; the
    inputs are standard normal, as in :func:`~lessons_lib.analysis.gradient_flow.measure_gradient_decay`.

    Returns
    -------
    (matplotlib Axes, GradientDecay)
    """
    W_h = recurrent_weights(H, sigma_max, np.random.default_rng(seed), "orthogonal")
    decay = measure_gradient_decay(W_h, T, np.random.default_rng(seed + 1), activation=activation, N=4)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.8))
    plot_gradient_decay([decay], ax=ax, ylim=GRADIENT_DECAY_YLIM)
    ax.set_title(fr"{activation}, $\sigma_{{\max}} = {sigma_max:.2f}$, mean slope $\overline{{\varphi'}} = "
                 fr"{decay.mean_slope:.2f}$", fontsize=10)
    return ax, decay


def gradient_decay_alt(decay) -> str:
    """Alt text for the figure of one :class:`~lessons_lib.analysis.gradient_flow.GradientDecay`."""
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


# Fixed vertical limits, so that a change shows as a moving curve, not as new tick labels.
GATE_BIAS_YLIM = (1e-40, 1e4)


#: The sizes the widget and the chapter's figures use.
GATE_BIAS_SIZES = {"D": 16, "H": 32, "N": 8, "seed": 0}


def gate_bias_figure(gate_bias=1.0, T=100, ax=None):
    """Measure and draw the three cells' Jacobian norms for one gate bias and length.

    The gate bias is the LSTM's forget-gate bias and the GRU's update-gate
    bias (see :func:`lessons_lib.analysis.gated_flow.cells_on_same_inputs`); the RNN
    has no gate and does not change.

    Returns
    -------
    (matplotlib Axes, dict kind -> StateDecay)
    """
    results = compare_state_decay(T, gate_bias=gate_bias, **GATE_BIAS_SIZES)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.6))
    plot_state_decay(results, ax=ax, ylim=GATE_BIAS_YLIM)
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


SLIDER_RANGE = (-6.0, 6.0)


def _settings_title(settings: dict, unit: int) -> str:
    parts = []
    for gate, a in settings.items():
        value = np.tanh(a) if gate in ("g", "n") else sigmoid(np.float64(a))
        parts.append(f"$a_{gate} = {a:.1f}$ so ${gate} = {value:.2f}$")
    return f"unit {unit + 1}: " + ", ".join(parts) if parts else "as computed"


def step_alt(cell: str, anat, settings: dict, unit: int) -> str:
    """Alt text for a widget's bar chart: the setting and the resulting states, in words and numbers."""
    title = _settings_title(settings, unit).replace("$", "")
    states = []
    if getattr(anat, "c", None) is not None:
        states.append("cell state c = " + ", ".join(f"{v:.2f}" for v in np.asarray(anat.c)[0]))
    states.append("hidden state h = " + ", ".join(f"{v:.2f}" for v in np.asarray(anat.h)[0]))
    return f"Bar chart of one {cell} step with {title}; the new " + " and ".join(states) + ", unit by unit."


def _display_figure(fig, alt: str) -> None:
    from IPython.display import HTML, display

    display(HTML(figure_html(fig, alt)))


def lstm_step_variant(x, h_prev, c_prev, params, unit: int = 0, **settings):
    """One LSTM step with the pre-activations of ``unit`` set by hand (e.g. ``f=-4.0``)."""
    base = lstm_anatomy(x, h_prev, c_prev, params)
    return lstm_anatomy(x, h_prev, c_prev, params, preactivations=unit_preactivations(base, unit, **settings))


def gru_step_variant(x, h_prev, params, unit: int = 0, reset="after", update="keep", **settings):
    """One GRU step with the pre-activations of ``unit`` set by hand (e.g. ``z=4.0``)."""
    base = gru_anatomy(x, h_prev, params, reset, update)
    return gru_anatomy(x, h_prev, params, reset, update,
                       preactivations=unit_preactivations(base, unit, **settings))


def lstm_step_figure(x, h_prev, c_prev, params, unit: int = 0, unit_labels=None, **settings):
    """Bars of one LSTM step with ``unit``'s pre-activations set by ``settings``; returns the figure."""
    anat = lstm_step_variant(x, h_prev, c_prev, params, unit, **settings)
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    plot_state_bars(anat, ax=ax, unit_labels=unit_labels, title=_settings_title(settings, unit))
    fig.tight_layout()
    return fig


def gru_step_figure(x, h_prev, params, unit: int = 0, reset="after", update="keep", unit_labels=None, **settings):
    """Bars of one GRU step with ``unit``'s pre-activations set by ``settings``; returns the figure."""
    anat = gru_step_variant(x, h_prev, params, unit, reset, update, **settings)
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    plot_state_bars(anat, ax=ax, unit_labels=unit_labels, title=_settings_title(settings, unit))
    fig.tight_layout()
    return fig


def _sliders(anat, gates, allowed, unit):
    from ipywidgets import FloatSlider

    bad = [g for g in gates if g not in allowed]
    if bad or not gates:
        raise ValueError(f"gates must name one or more of {allowed}, got {tuple(gates)}")
    lo, hi = SLIDER_RANGE
    return {g: FloatSlider(value=float(np.clip(np.round(getattr(anat, "a_" + g)[0, unit], 1), lo, hi)),
                           min=lo, max=hi, step=0.1, description=f"a_{g}, unit {unit + 1}",
                           style={"description_width": "initial"}, continuous_update=False)
            for g in gates}


def lstm_gate_widget(x, h_prev, c_prev, params, gates=("f",), unit: int = 0, unit_labels=None):
    """Sliders for the pre-activations ``gates`` of one unit, redrawing :func:`lstm_step_figure` (needs a kernel).

    The sliders start at the values the weights compute.
    """
    base = lstm_anatomy(x, h_prev, c_prev, params)
    sliders = _sliders(base, tuple(gates), LSTM_GATES, unit)
    from ipywidgets import interactive

    def draw(**settings):
        fig = lstm_step_figure(x, h_prev, c_prev, params, unit, unit_labels, **settings)
        anat = lstm_step_variant(x, h_prev, c_prev, params, unit, **settings)
        _display_figure(fig, step_alt("LSTM", anat, settings, unit))

    return interactive(draw, **sliders)


def gru_gate_widget(x, h_prev, params, gates=("z",), unit: int = 0, reset="after", update="keep", unit_labels=None):
    """Sliders for the pre-activations ``gates`` of one GRU unit, redrawing :func:`gru_step_figure`."""
    base = gru_anatomy(x, h_prev, params, reset, update)
    sliders = _sliders(base, tuple(gates), GRU_GATES, unit)
    from ipywidgets import interactive

    def draw(**settings):
        fig = gru_step_figure(x, h_prev, params, unit, reset, update, unit_labels, **settings)
        anat = gru_step_variant(x, h_prev, params, unit, reset, update, **settings)
        _display_figure(fig, step_alt("GRU", anat, settings, unit))

    return interactive(draw, **sliders)
