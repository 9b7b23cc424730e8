"""Exercise `sigmoid`: the sigmoid neuron and its derivative (Nielsen, chapter 1).

Fill in both functions, then run:  fooldigits exercise check sigmoid DIR
"""

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^(-z)), element by element, for an array z of any shape.

    If z was [0.0, 2.0] the result is [0.5, 0.8808]. It must stay finite (0.0, not NaN)
    for z = -1000 and (1.0) for z = 1000.
    """
    raise NotImplementedError


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """The derivative sigma'(z) = sigma(z) * (1 - sigma(z)), element by element.

    If z was [0.0] the result is [0.25].
    """
    raise NotImplementedError
