"""Loaded by pytest before anything else, for the unit tests and for the notebooks' kernels alike.

The chapters multiply small matrices (32 units, batches of 32) thousands of
times.  At that size a second BLAS thread costs more in hand-over than it
saves, and on a busy two-core machine it can make a chapter two to three
times slower.  One thread also makes every run do its arithmetic in the same
order, whatever the machine.  The kernels that nbval starts inherit this
environment; ``scripts/execute_notebooks.py`` and ``scripts/reproduce.py``
set the same.  A value already set by the caller wins.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
