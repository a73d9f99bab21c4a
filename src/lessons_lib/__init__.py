"""lessons_lib: the numpy library behind the RNN lessons book.

The public API at the top level:

- :func:`sequence_forward`, :func:`sequence_backward`: any of the cells
  (``kind`` = ``"rnn"``, ``"lstm"``, ``"gru"``, ``"mingru"``, ``"minlstm"``) over a batch of sequences,
  with exact backpropagation through time;
- :func:`stacked_forward`, :func:`stacked_backward`, :func:`init_stacked`:
  stacked and bidirectional networks of those cells, layer by layer;
- :func:`from_torch_state_dict`, :func:`to_torch_state_dict`: weights and
  gradients to and from PyTorch's layout (one layer, or with ``num_layers=``
  and ``bidirectional=`` a whole network);
- :func:`linear_recurrence`, :func:`linear_recurrence_backward`, :func:`scan_levels`:
  the gated linear recurrence ``h_t = a_t * h_{t-1} + b_t`` as a loop or a
  parallel scan, and the scan's schedule;
- :func:`mingru_forward`, :func:`mingru_backward`, :func:`minlstm_forward`,
  :func:`minlstm_backward`: the minimal gated cells of Feng et al. (2024),
  also reachable as ``kind="mingru"``/``"minlstm"`` of the sequence functions;
- :func:`init_params`, :func:`zero_state`: starting points;
- :func:`rel_error`, :func:`numerical_gradient`, :func:`gradient_errors`,
  :func:`check_sequence_gradients`, :func:`check_stacked_gradients`: gradient checks.

**Layers.** Everything else lives in layers: subpackages, and two shared
modules.  From the bottom up:

1. :mod:`lessons_lib.validation`: argument checks (imports nothing of the library);
2. :mod:`lessons_lib.cells`: the RNN, LSTM and GRU cells, the minimal cells and their linear recurrence, the ``kind`` dispatch, initialisation and the PyTorch seam;
3. :mod:`lessons_lib.gradcheck`: finite-difference gradient checks of the cells;
4. :mod:`lessons_lib.training`: the training loop, optimisers, losses, read-out, metrics and clipping;
5. :mod:`lessons_lib.models`: models made of a cell and a read-out, and the n-gram baselines;
6. :mod:`lessons_lib.tasks`: the tasks and their data;
7. :mod:`lessons_lib.analysis`: measurements of what the cells do;
8. :mod:`lessons_lib.figures`: plots, diagrams and widgets;
9. :mod:`lessons_lib.teaching`: the exercise checkers.

**The rule**: a module imports only from its own layer and the layers below
it.  So the cells know nothing of training, nothing below ``figures`` imports
matplotlib or ipywidgets, and ``teaching`` may use everything.  This
``__init__`` sits outside the order: it gathers the public API.
``tests/test_layers.py`` enforces the rule.
"""

from .cells.dispatch import sequence_backward, sequence_forward, zero_state
from .cells.initialisation import init_params
from .cells.linear_recurrence import linear_recurrence, linear_recurrence_backward, scan_levels
from .cells.min_cells import mingru_backward, mingru_forward, minlstm_backward, minlstm_forward
from .cells.stacked import init_stacked, stacked_backward, stacked_forward
from .cells.torch_layout import from_torch_state_dict, to_torch_state_dict
from .gradcheck import (
    check_sequence_gradients,
    check_stacked_gradients,
    gradient_errors,
    numerical_gradient,
    rel_error,
)

__all__ = [
    "sequence_forward",
    "sequence_backward",
    "zero_state",
    "stacked_forward",
    "stacked_backward",
    "init_stacked",
    "from_torch_state_dict",
    "to_torch_state_dict",
    "init_params",
    "linear_recurrence",
    "linear_recurrence_backward",
    "scan_levels",
    "mingru_forward",
    "mingru_backward",
    "minlstm_forward",
    "minlstm_backward",
    "rel_error",
    "numerical_gradient",
    "gradient_errors",
    "check_sequence_gradients",
    "check_stacked_gradients",
]
__version__ = "0.1.0"
