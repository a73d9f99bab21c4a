"""Everything the book draws: plots, diagrams and widgets, organised by what they show.

- :mod:`~lessons_lib.figures.style`: the palette and the shared conventions;
- :mod:`~lessons_lib.figures.diagrams`: cell diagrams and the unrolled network of Figure 1;
- :mod:`~lessons_lib.figures.gradient_plots`: gradient norms over distance in time, and the loss cliff;
- :mod:`~lessons_lib.figures.state_plots`: states and gates over time and at one step;
- :mod:`~lessons_lib.figures.result_plots`: training curves and results across models and lengths;
- :mod:`~lessons_lib.figures.task_plots`: the tasks' data and the forecasts made on it;
- :mod:`~lessons_lib.figures.scan_plots`: the parallel scan's steps, and its measured speed;
- :mod:`~lessons_lib.figures.widgets`: sliders wired to the figure functions.

The only layer that imports matplotlib or ipywidgets.
"""
