"""Exercise `backprop`: backpropagation for a whole mini-batch at once (Nielsen, ch. 2).

Nielsen's problem at the end of chapter 2: instead of looping over the examples of a
mini-batch, put them in one matrix and backpropagate them together. fooldigits keeps one
example per ROW: x has shape (m, n_0), and layer l computes z = a @ w[l] + b[l] with
w[l] of shape (n_in, n_out). Fill in `backprop`, then run:
    fooldigits exercise check backprop DIR
"""

import numpy as np


def backprop(
    w: list[np.ndarray], b: list[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return (nabla_b, nabla_w): the gradient of the cost, SUMMED over the m examples.

    Every layer is sigmoid, and the cost is the cross-entropy, so at the output
        (BP1) delta_L = a_L - y                             (m, n_L)
        (BP2) delta_l = (delta_{l+1} @ w[l+1].T) * a_l * (1 - a_l)
        (BP3) nabla_b[l] = delta_l summed over the rows     (n_out,)
        (BP4) nabla_w[l] = a_{l-1}.T @ delta_l              (n_in, n_out)
    If the sizes were [4, 3, 2] then w = [(4, 3), (3, 2)] and nabla_w has those shapes.
    """
    raise NotImplementedError
