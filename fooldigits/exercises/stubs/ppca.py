"""Exercise `ppca`: how well does a digit's model explain an image? (chapter 10, generative)

The generative reader keeps one model per digit: a Gaussian whose covariance is
C = W W^T + sigma^2 I, with W (D, q) holding q directions in which that digit's images
vary a lot and sigma^2 the small variance left in every other direction (a
probabilistic PCA). An image is read as the digit whose model gives it the highest
log-likelihood,

    ln N(x; mu, C) = -1/2 [D ln(2 pi) + ln det C + (x - mu)^T C^-1 (x - mu)]

C is D x D (784 x 784 here), but you never need it: with the q x q matrix
M = W^T W + sigma^2 I,
    Woodbury:            C^-1 = (I - W M^-1 W^T) / sigma^2
    determinant lemma:   ln det C = ln det M + (D - q) ln sigma^2
so with d = x - mu and z = W^T d (q numbers),
    (x - mu)^T C^-1 (x - mu) = (d.d - z^T M^-1 z) / sigma^2.

Requirements the check holds you to:
- return the LOG-likelihood, never the density: for 784 pixels the density of a good
  image is about e^840, past what a float64 holds (e^709);
- form no D x D matrix (not C, not W @ W.T, not np.eye(D)): one check uses a
  141 x 141 image, D = 19,881, where C alone would take 3.2 GB and the checker allows
  1 GB;
- one score per image (each row of x), in float64.
Fill in `ppca_log_likelihood`, then run:
    fooldigits exercise check ppca DIR
"""

import numpy as np


def ppca_log_likelihood(x: np.ndarray, mu: np.ndarray, w: np.ndarray, sigma: float
                        ) -> np.ndarray:
    """ln N(x; mu, W W^T + sigma^2 I) for each image: shape (n,).

    x (n, D) images, one per row; mu (D,) the model's mean image; w (D, q) its
    directions, scaled (columns neither orthogonal nor of one length in general);
    sigma > 0 the standard deviation of the noise in every direction.
    If D = 2, w = [[1.0], [0.0]], sigma = 1 and mu = [0, 0], then C = diag(2, 1) and
    x = [[0.0, 0.0]] scores -1/2 (2 ln(2 pi) + ln 2) = -2.1845.
    """
    raise NotImplementedError
