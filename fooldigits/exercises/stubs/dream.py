"""Exercise `dream`: one step of dreaming (chapter 4, `fooldigits dream`).

Freeze the network and change the pixels instead: the gradient dC/dx says how each
pixel would raise the cost of calling the image the wanted digit, so step AGAINST it,
then clip, because pixels must stay pixels. Images whose confidence has already
reached the threshold are finished and must not move. Fill in `dream_step`, then run:
    fooldigits exercise check dream DIR
"""

import numpy as np


def dream_step(x: np.ndarray, gradient: np.ndarray, lr: float, active: np.ndarray
               ) -> np.ndarray:
    """A NEW array: clip(x - lr * gradient, 0, 1) in the rows where active is True,
    x unchanged in the other rows. Leave x itself unchanged.

    x          the images being dreamed, one per row, pixels in [0, 1]   (n, 784)
    gradient   dC/dx of each image's cost against its wanted digit      (n, 784)
    lr         the step size, e.g. 1.0
    active     True for images still dreaming, False for finished ones   (n,)
    If x was [[0.2, 0.5]], gradient [[-1.0, 2.0]], lr 0.5 and active [True], the
    result is [[0.7, 0.0]].
    """
    raise NotImplementedError
