"""Exercise `crossover`: breeding images in the genetic algorithm (the fooling chapter).

Fill in both functions, then run:  fooldigits exercise check crossover DIR
"""

import numpy as np


def crossover(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Uniform crossover: the child takes a's pixel where mask is True, else b's.

    a, b and mask have the same shape, e.g. (n, 784). If a was [1, 1, 1], b [0, 0, 0]
    and mask [True, False, True], the child is [1, 0, 1].
    """
    raise NotImplementedError


def mutate(images: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """A NEW array in which each pixel, with probability `rate`, is replaced by a fresh
    uniform value in [0, 1) drawn from `rng`. Leave `images` itself unchanged.
    """
    raise NotImplementedError
