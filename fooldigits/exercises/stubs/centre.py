"""Exercise `centre`: centring a digit the way MNIST did (chapter 6, your own drawings).

Every MNIST digit was moved so that its centre of mass -- the mean position of its
ink, weighted by how bright the ink is -- sits at pixel (14, 14). A drawing that is not
prepared the same way is read badly. Fill in both functions, then run:
    fooldigits exercise check centre DIR
"""

import numpy as np


def centre_of_mass(images: np.ndarray) -> np.ndarray:
    """(row, column) of each image's centre of mass: shape (n, 2), floats.

    images (n, 784); view each as 28 x 28, rows and columns counted from 0. The row is
    sum over pixels of (row * value) / sum of values; the column likewise. Every image
    has some ink. A single white pixel at [5, 20] has centre (5.0, 20.0).
    """
    raise NotImplementedError


def centre(images: np.ndarray) -> np.ndarray:
    """Each image moved by round(14 - row) rows and round(14 - column) columns: (n, 784).

    Pixels moved in from outside are black (0); ink moved past an edge is lost. If an
    image's centre of mass was (10.2, 16.7), it moves 4 rows down and 3 columns left.
    """
    raise NotImplementedError
