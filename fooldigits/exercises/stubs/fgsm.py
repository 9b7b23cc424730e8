"""Exercise `fgsm`: the fast gradient sign method (Goodfellow, Shlens & Szegedy 2014).

A tiny change to a real digit, too faint for a person to notice, can make the network
misread it. FGSM takes ONE step: every pixel moves by exactly epsilon in the direction
that raises the network's cost for the true label the most, then the image is clipped
back to valid pixels. The gradient dC/dx is given (the project computes it with
backprop one layer past the first weights). Fill in `fgsm`, then run:
    fooldigits exercise check fgsm DIR
"""

import numpy as np


def fgsm(x: np.ndarray, gradient: np.ndarray, epsilon: float) -> np.ndarray:
    """x_adv = clip(x + epsilon * sign(dC/dx), 0, 1), for images x of shape (n, 784).

    x          the images, one per row, pixels in [0, 1]           (n, 784)
    gradient   dC/dx: how the cost of the TRUE label changes with each pixel  (n, 784)
    epsilon    the size of the step, e.g. 0.1
    Use np.sign (it gives 0 where the gradient is 0) and np.clip.
    If x was [[0.0, 0.5, 1.0]], gradient [[-1.0, 2.0, 3.0]] and epsilon 0.1, the
    result is [[0.0, 0.6, 1.0]].
    """
    raise NotImplementedError
