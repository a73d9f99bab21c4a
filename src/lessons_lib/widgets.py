"""Interactive explorations built on plain library functions.

Each widget here only wires sliders to a function that is usable (and
tested) without a kernel; the chapters show a static figure from the same
function first, so readers of the online book see the effect too.

Widgets draw their figures with :func:`figure_html`, an ``<img>`` with alt
text, so that the figure a slider redraws is described to screen readers
like every other figure of the book.
"""

from __future__ import annotations

import base64
import html
import io

import matplotlib.pyplot as plt

from .memory import pulse_response
from .plots import plot_pulse_memory


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
