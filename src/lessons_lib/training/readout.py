"""The linear read-out that turns hidden states into output scores.

    y_t = W_y h_t + b_y

with ``W_y`` of shape ``(V, H)`` and ``b_y`` of shape ``(V,)``: ``V`` scores
(one per character, say) at every step.
"""

from __future__ import annotations

from ..validation import check


def readout_forward(h, W_y, b_y):
    """Scores ``y = h W_y^T + b_y``.

    Parameters
    ----------
    h : array of shape (N, T, H)
    W_y : array of shape (V, H)
    b_y : array of shape (V,)

    Returns
    -------
    y : array of shape (N, T, V)
    """
    dims: dict[str, int] = {}
    W_y = check("W_y", W_y, ("V", "H"), dims)
    b_y = check("b_y", b_y, ("V",), dims, W_y.dtype)
    h = check("h", h, ("N", "T", "H"), dims, W_y.dtype)
    return h @ W_y.T + b_y  # (N, T, V)


def readout_backward(dy, h, W_y):
    """Gradients of :func:`readout_forward`.

    Parameters
    ----------
    dy : array of shape (N, T, V)
        Gradient of the loss with respect to the scores.
    h : array of shape (N, T, H)
    W_y : array of shape (V, H)

    Returns
    -------
    dh : (N, T, H), dW_y : (V, H), db_y : (V,)
    """
    dims: dict[str, int] = {}
    W_y = check("W_y", W_y, ("V", "H"), dims)
    h = check("h", h, ("N", "T", "H"), dims, W_y.dtype)
    dy = check("dy", dy, ("N", "T", "V"), dims, W_y.dtype)
    V, H = W_y.shape
    rows = dy.shape[0] * dy.shape[1]
    dy2 = dy.reshape(rows, V)
    return dy @ W_y, dy2.T @ h.reshape(rows, H), dy2.sum(axis=0)
