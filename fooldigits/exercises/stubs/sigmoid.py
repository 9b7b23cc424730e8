"""Exercise `sigmoid`: the sigmoid neuron and its derivative (Nielsen, chapter 1).

Fill in both functions, then run:  fooldigits exercise check sigmoid DIR
"""

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^(-z)), element by element, for an array z of any shape.

    If z was [0.0, 2.0] the result is [0.5, 0.8808]: it rises with z.

    It must not overflow: the check calls it on z = [-1000, 0, 1000] with NumPy's
    overflow warnings turned into errors, and wants [0.0, 0.5, 1.0] back. The formula
    as written computes e^1000 at z = -1000, which is too large for a float: find a
    form that never exponentiates a large positive number.
    """
    raise NotImplementedError


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """The derivative sigma'(z) = sigma(z) * (1 - sigma(z)), element by element.

    If z was [0.0] the result is [0.25].
    """
    raise NotImplementedError
