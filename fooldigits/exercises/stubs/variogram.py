"""Exercise `variogram`: neighbour statistics of images (the natural-image prior).

Fill in `variogram`, then run:  fooldigits exercise check variogram DIR
"""

import numpy as np


def variogram(images: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """g_x and g_y for images (n, 784), each of shape (n, lags).

    View each image as 28 x 28. For l = 1..lags:
        g_x[:, l - 1] = mean of |x[r, c + l] - x[r, c]| over all r and valid c (rows)
        g_y[:, l - 1] = mean of |x[r + l, c] - x[r, c]| over all c and valid r (columns)
    An image of vertical stripes 0, 1, 0, 1, ... has g_x = [1, 0, 1, ...] and g_y = 0.
    """
    raise NotImplementedError
