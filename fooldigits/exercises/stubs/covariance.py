"""Exercise `covariance`: the covariance matrix and its eigenvectors (the PCA chapter).

Fill in both functions, then run:  fooldigits exercise check covariance DIR
"""

import numpy as np


def covariance(X: np.ndarray) -> np.ndarray:
    """The (d, d) covariance of the columns of X (n, d): centre each column on its mean,
    then X_c.T @ X_c / (n - 1).

    If X was [[0, 0], [2, 2]] the result is [[2, 2], [2, 2]].
    """
    raise NotImplementedError


def principal_components(X: np.ndarray, k: int) -> np.ndarray:
    """The k eigenvectors of covariance(X) with the largest eigenvalues, as ROWS (k, d),
    largest first, each flipped in sign so that its largest |entry| is positive.

    Use np.linalg.eigh (it returns eigenvalues in ascending order).
    """
    raise NotImplementedError
