"""The book's visual conventions, shared by every figure.

Colours come from the Okabe-Ito palette, which stays distinguishable for
colour-blind readers, and every colour is paired with a second cue (line
style, marker, hatching or weight) so that the figures read in greyscale
too.  The models that recur across chapters (RNN, GRU, LSTM) keep one style
everywhere (:data:`STYLES`).

Every figure function of :mod:`lessons_lib.figures` draws into an ``Axes``
it is given (or a new one from :func:`new_axes`) and returns it, so chapters
call one function per figure and tests can inspect what was drawn.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

# Okabe & Ito (2008), "Color universal design".
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}


LINESTYLES = ("-", "--", "-.", ":")


MARKERS = ("o", "s", "^", "D", "v", "P")


#: Fixed styles for the models and baselines that recur across the chapters, so a reader can follow them.
STYLES = {
    "RNN": {"color": OKABE_ITO["orange"], "linestyle": ":", "marker": "s"},
    "GRU": {"color": OKABE_ITO["green"], "linestyle": "-.", "marker": "^"},
    "LSTM": {"color": OKABE_ITO["blue"], "linestyle": "-", "marker": "o"},
}


#: Styles for everything else (baselines, variants), in colours and markers that the models above do not use.
OTHER_STYLES = (
    {"color": OKABE_ITO["black"], "linestyle": "-", "marker": "D"},
    {"color": OKABE_ITO["vermillion"], "linestyle": "--", "marker": "v"},
    {"color": OKABE_ITO["purple"], "linestyle": "-.", "marker": "P"},
    {"color": OKABE_ITO["sky"], "linestyle": ":", "marker": "X"},
)


def style(label: str, k: int) -> dict:
    """Colour, line style and marker of the ``k``-th curve: fixed for the models in :data:`STYLES`, else from :data:`OTHER_STYLES`."""
    for name, s in STYLES.items():
        if label == name or label.startswith(name + ","):   # "LSTM, 500 steps" is the LSTM; "LSTM b_f = 3" a variant
            return dict(s)
    return dict(OTHER_STYLES[k % len(OTHER_STYLES)])


def new_axes(ax, figsize):
    """``ax`` itself, or new axes of size ``figsize`` (inches) when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax
