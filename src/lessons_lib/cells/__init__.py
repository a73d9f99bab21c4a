"""The cells and what they stand on: forward and backward passes, one step and a whole sequence.

- :mod:`~lessons_lib.cells.rnn`, :mod:`~lessons_lib.cells.lstm`, :mod:`~lessons_lib.cells.gru`: one module per
  cell family, each step's backward right next to its forward;
- :mod:`~lessons_lib.cells.lstm_variants`: the LSTM with one piece removed or changed (no forget gate, no output
  gate, no candidate tanh, coupled gates, peepholes), chosen with ``variant=``;
- :mod:`~lessons_lib.cells.linear_recurrence`: the gated linear recurrence ``h_t = a_t * h_{t-1} + b_t`` as a
  loop, a Blelloch scan or recursive doubling, and its backward pass;
- :mod:`~lessons_lib.cells.min_cells`: the minimal gated cells minGRU and minLSTM (Feng et al. 2024), whose
  gates read only the input, so that a sequence is one such recurrence;
- :mod:`~lessons_lib.cells.dispatch`: one entry point for all of them (``kind`` = ``"rnn"``, ``"lstm"``,
  ``"gru"``, ``"mingru"``, ``"minlstm"``);
- :mod:`~lessons_lib.cells.stacked`: stacked and bidirectional networks, layer by layer over the dispatch;
- :mod:`~lessons_lib.cells.activations`, :mod:`~lessons_lib.cells.sequence`: the pieces they share;
- :mod:`~lessons_lib.cells.initialisation`: starting parameters;
- :mod:`~lessons_lib.cells.torch_layout`: the seam to PyTorch's parameter names and shapes.

This is the lowest layer: it imports only :mod:`lessons_lib.validation`.
"""
