"""Sliders for chapter 4: set one unit's gate pre-activations and watch the cell and hidden state.

Each widget only wires sliders to a plain function that draws a figure and
returns it (:func:`lstm_step_figure`, :func:`gru_step_figure`); those are
tested without a kernel, and the chapter shows small multiples drawn by the
same code for readers of the static book.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .anatomy import GRU_GATES, LSTM_GATES, gru_anatomy, lstm_anatomy, unit_preactivations
from .plots_anatomy import plot_state_bars
from .widgets import figure_html
from .activations import sigmoid

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


def _display(fig, alt: str) -> None:
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
        _display(fig, step_alt("LSTM", anat, settings, unit))

    return interactive(draw, **sliders)


def gru_gate_widget(x, h_prev, params, gates=("z",), unit: int = 0, reset="after", update="keep", unit_labels=None):
    """Sliders for the pre-activations ``gates`` of one GRU unit, redrawing :func:`gru_step_figure`."""
    base = gru_anatomy(x, h_prev, params, reset, update)
    sliders = _sliders(base, tuple(gates), GRU_GATES, unit)
    from ipywidgets import interactive

    def draw(**settings):
        fig = gru_step_figure(x, h_prev, params, unit, reset, update, unit_labels, **settings)
        anat = gru_step_variant(x, h_prev, params, unit, reset, update, **settings)
        _display(fig, step_alt("GRU", anat, settings, unit))

    return interactive(draw, **sliders)
