"""lessons_lib: the numpy library behind the RNN lessons book.

The public API at the top level:

- :func:`sequence_forward`, :func:`sequence_backward`: any of the three cells
  (``kind`` = ``"rnn"``, ``"lstm"``, ``"gru"``) over a batch of sequences,
  with exact backpropagation through time;
- :func:`from_torch_state_dict`, :func:`to_torch_state_dict`: weights and
  gradients to and from PyTorch's layout;
- :func:`init_params`, :func:`zero_state`: starting points;
- :func:`rel_error`, :func:`check_sequence_gradients`: gradient checks.

The per-step functions and caches live in :mod:`lessons_lib.rnn`,
:mod:`lessons_lib.lstm` and :mod:`lessons_lib.gru`.
"""

from .cells import sequence_backward, sequence_forward, zero_state
from .gradcheck import check_sequence_gradients, gradient_errors, numerical_gradient, rel_error
from .initialisation import init_params
from .torch_layout import from_torch_state_dict, to_torch_state_dict

__all__ = [
    "sequence_forward",
    "sequence_backward",
    "zero_state",
    "from_torch_state_dict",
    "to_torch_state_dict",
    "init_params",
    "rel_error",
    "numerical_gradient",
    "gradient_errors",
    "check_sequence_gradients",
]
__version__ = "0.1.0"
