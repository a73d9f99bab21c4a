"""Training: the loop, optimisers, losses, the linear read-out, metrics and gradient clipping.

- :mod:`~lessons_lib.training.loop`: one training loop for every model of the book;
- :mod:`~lessons_lib.training.optim`: SGD, Adam and learning-rate schedules as pure functions;
- :mod:`~lessons_lib.training.losses`, :mod:`~lessons_lib.training.readout`, :mod:`~lessons_lib.training.metrics`;
- :mod:`~lessons_lib.training.clipping`: norm and value clipping.
"""
