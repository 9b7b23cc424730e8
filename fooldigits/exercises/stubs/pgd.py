"""Exercise `pgd`: one step of projected gradient descent (Madry et al. 2017, chapter 9).

FGSM takes one big step. PGD takes several small ones, each up the sign of the
gradient, and after each step projects the image back into the "ball" of images whose
every pixel is within epsilon of the ORIGINAL image x (and inside [0, 1]), so the
change never grows past what FGSM allowed. Fill in `pgd_step`, then run:
    fooldigits exercise check pgd DIR
"""

import numpy as np


def pgd_step(x_adv: np.ndarray, x: np.ndarray, gradient: np.ndarray, alpha: float,
             epsilon: float) -> np.ndarray:
    """A NEW array: x_adv + alpha * sign(gradient), clipped into
    [max(x - epsilon, 0), min(x + epsilon, 1)] pixel by pixel.

    x_adv      the attacked images so far                             (n, 784)
    x          the original images                                    (n, 784)
    gradient   dC/dx at x_adv, for the TRUE labels                    (n, 784)
    alpha      the size of one step, e.g. 0.01; epsilon the radius of the ball
    If x was [[0.5]], x_adv [[0.58]], gradient [[3.0]], alpha 0.04 and epsilon 0.1,
    the result is [[0.6]] (0.62 would leave the ball).
    """
    raise NotImplementedError
