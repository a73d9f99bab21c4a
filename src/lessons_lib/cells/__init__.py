"""The three cells and what they stand on: forward and backward passes, one step and a whole sequence.

- :mod:`~lessons_lib.cells.rnn`, :mod:`~lessons_lib.cells.lstm`, :mod:`~lessons_lib.cells.gru`: one module per
  cell family, each step's backward right next to its forward;
- :mod:`~lessons_lib.cells.lstm_variants`: the LSTM with one piece removed or changed (no forget gate, no output
  gate, no candidate tanh, coupled gates, peepholes), chosen with ``variant=``;
- :mod:`~lessons_lib.cells.dispatch`: one entry point for all three (``kind`` = ``"rnn"``, ``"lstm"``, ``"gru"``);
- :mod:`~lessons_lib.cells.stacked`: stacked and bidirectional networks, layer by layer over the dispatch;
- :mod:`~lessons_lib.cells.activations`, :mod:`~lessons_lib.cells.sequence`: the pieces they share;
- :mod:`~lessons_lib.cells.initialisation`: starting parameters;
- :mod:`~lessons_lib.cells.torch_layout`: the seam to PyTorch's parameter names and shapes.

This is the lowest layer: it imports only :mod:`lessons_lib.validation`.
"""
