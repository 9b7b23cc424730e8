"""Exercise `interval_bound`: how sure can a network ever be? (chapter 11, `ceiling.py`)

Before searching all images for one the network is 99.99% sure of, ask what is
possible at all. If every input x_i lies in an interval [lo_i, hi_i], each neuron's
z = x @ w + b lies in an interval too, and its ends are easy: the smallest z takes
x_i = lo_i where w_i > 0 and x_i = hi_i where w_i < 0; the largest the opposite.
Layer by layer, that bounds the network's output. Fill in `interval_bound`, then run:
    fooldigits exercise check interval_bound DIR
"""

import numpy as np


def interval_bound(w: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(z_lo, z_hi): the smallest and largest z = x @ w + b over the box lo <= x <= hi.

    w (n_in, n_out), b (n_out,), lo and hi (n_in,) -> z_lo and z_hi, each (n_out,).
    If w was [[1.0], [-2.0]], b [0.5], lo [0, 0] and hi [1, 1], then z_lo = -1.5
    (x = [0, 1]) and z_hi = 1.5 (x = [1, 0]).
    """
    raise NotImplementedError
