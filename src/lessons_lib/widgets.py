"""Interactive explorations built on plain library functions.

Each widget here only wires sliders to a function that is usable (and
tested) without a kernel; the chapters show a static figure from the same
function first, so readers of the online book see the effect too.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .memory import pulse_response
from .plots import plot_pulse_memory


def show_pulse_memory(w: float = 0.9, u: float = 1.0, T: int = 15):
    """Draw the pulse response for one recurrent weight ``w`` (what the widget calls on every change)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    plot_pulse_memory({w: pulse_response(w, u, T)}, ax=ax)
    ax.set_ylim(-1.05, 1.05)
    plt.show()
    return fig


def pulse_memory_widget():
    """Sliders for ``w``, ``u`` and ``T`` redrawing :func:`show_pulse_memory` (needs a live kernel)."""
    from ipywidgets import FloatSlider, IntSlider, interactive

    return interactive(
        show_pulse_memory,
        w=FloatSlider(value=0.9, min=-2.0, max=2.0, step=0.05, description="w"),
        u=FloatSlider(value=1.0, min=0.1, max=3.0, step=0.1, description="u"),
        T=IntSlider(value=15, min=5, max=40, step=1, description="T"),
    )
