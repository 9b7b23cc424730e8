"""Reference solutions of the exercises, computed in the checker's own process.

Where the project has a function of the same shape, the reference is a thin wrapper round
it (the sigmoid, backprop, PCA, the variogram, the nearest mean); where the project does
the step inside a larger loop (the dream, PGD, interval bounds, centring), or has no such
code yet (the im2col convolution), it is written here in plain NumPy, and a test checks
it against the project's loop. The PPCA score has two: `ppca_log_likelihood` (the
q-dimensional form the student writes) and `gaussian_log_density` (the textbook formula
with the whole (D, D) covariance, for small D); a test checks both against each other
and against `generative.Generative.log_likelihood`. This is the only module of the
checker that imports the concept modules, so when they move only these imports change.

A student's file can neither import this module nor read it: the child refuses both
(`child._guard`), and `sandbox.read_source` refuses a link to it or a copy of it.
"""

from __future__ import annotations

import numpy as np

from fooldigits.lessons.pca import PCA
from fooldigits.lessons.pca import nearest_mean as _nearest_mean
from fooldigits.lessons.stats import variogram as _variogram
from fooldigits.models import SHIPPED, load_model
from fooldigits.models.generative import Generative
from fooldigits.models.network import Network
from fooldigits.models.neurons import sigmoid as _sigmoid


def network(sizes: list[int], seed: int = 0) -> Network:
    """A fixed, untrained network the checks take gradients from."""
    return Network(sizes, rng=np.random.default_rng(seed))


def input_gradient(net: Network, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """dC/dx of each image's cost against its label: (n, 784)."""
    return np.asarray(net.input_gradient(x, labels))


# -- chapter 1: data -------------------------------------------------------------------------
def class_means(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.stack([images[labels == d].mean(axis=0) for d in range(10)])


def nearest_mean(means: np.ndarray, images: np.ndarray) -> np.ndarray:
    return _nearest_mean(np.asarray(means, np.float64), np.arange(10),
                         np.asarray(images, np.float64))


# -- chapter 2: the network ------------------------------------------------------------------
def sigmoid(z: np.ndarray) -> np.ndarray:
    return _sigmoid(np.asarray(z, dtype=np.float64))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    s = sigmoid(z)
    return np.asarray(s * (1 - s))


def backprop(w: list[np.ndarray], b: list[np.ndarray], x: np.ndarray, y: np.ndarray
             ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    sizes = [w[0].shape[0], *(layer.shape[1] for layer in w)]
    net = Network(sizes, output="sigmoid", cost="cross-entropy",
                  rng=np.random.default_rng(0))
    net.w, net.b = [np.asarray(v, dtype=np.float64) for v in w], [np.asarray(v, np.float64)
                                                                   for v in b]
    return net.backprop(np.asarray(x, np.float64), np.asarray(y, np.float64))


def im2col(images: np.ndarray, k: int, stride: int) -> np.ndarray:
    """(n, h, w) -> (n, h_out * w_out, k * k): one row per kernel position, row by row,
    each patch flattened row by row."""
    n, h, w = images.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    patches = np.empty((n, h_out * w_out, k * k))
    for i in range(k):  # the pixel at offset (i, j) of every patch, all positions at once
        for j in range(k):
            window = images[:, i:i + stride * h_out:stride, j:j + stride * w_out:stride]
            patches[:, :, i * k + j] = window.reshape(n, -1)
    return patches


def conv_forward(images: np.ndarray, kernels: np.ndarray, b: np.ndarray, stride: int
                 ) -> np.ndarray:
    """z[n, c, r, s] = sum over the k x k patch at (r, s) of patch * kernels[c] + b[c]
    (the kernel is not flipped: a cross-correlation, as in every neural network)."""
    n, h, w = images.shape
    c, k, _ = kernels.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    z = im2col(images, k, stride) @ kernels.reshape(c, k * k).T + b  # (n, positions, c)
    return np.asarray(z.transpose(0, 2, 1).reshape(n, c, h_out, w_out))


# -- chapter 3: PCA --------------------------------------------------------------------------
def covariance(X: np.ndarray) -> np.ndarray:
    X_c = X - X.mean(axis=0)
    return np.asarray(X_c.T @ X_c / (len(X) - 1))


def principal_components(X: np.ndarray, k: int) -> np.ndarray:
    return PCA(k).fit(np.asarray(X, dtype=np.float64)).components_


# -- chapter 4: dreaming ---------------------------------------------------------------------
def dream_step(x: np.ndarray, gradient: np.ndarray, lr: float, active: np.ndarray
               ) -> np.ndarray:
    """dream.dream's steps 2 and 4 for one step: descend, clip; finished rows stay."""
    out = np.array(x, dtype=np.float64)
    out[active] = np.clip(out[active] - lr * gradient[active], 0.0, 1.0)
    return out


# -- chapter 5: fooling ----------------------------------------------------------------------
def crossover(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, a, b)


def mutate(images: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    out = images.copy()
    hit = rng.random(images.shape) < rate
    out[hit] = rng.random(int(hit.sum()))
    return out


# -- chapter 6: drawings ---------------------------------------------------------------------
def centre_of_mass(images: np.ndarray) -> np.ndarray:
    """(n, 784) -> (n, 2): the ink-weighted mean (row, column), counted from 0."""
    grid = np.asarray(images, np.float64).reshape(-1, 28, 28)
    total = grid.sum(axis=(1, 2))  # (n,)
    rows = grid.sum(axis=2) @ np.arange(28) / total  # (n,)
    cols = grid.sum(axis=1) @ np.arange(28) / total
    return np.stack([rows, cols], axis=1)


def centre(images: np.ndarray) -> np.ndarray:
    """Shift each image by round(14 - centre) in rows and columns; new pixels are 0."""
    grid = np.asarray(images, np.float64).reshape(-1, 28, 28)
    out = np.zeros_like(grid)
    for image, moved, (dr, dc) in zip(grid, out, np.rint(14 - centre_of_mass(images)),
                                      strict=True):
        dr, dc = int(dr), int(dc)
        moved[max(dr, 0):28 + min(dr, 0), max(dc, 0):28 + min(dc, 0)] = \
            image[max(-dr, 0):28 - max(dr, 0), max(-dc, 0):28 - max(dc, 0)]
    return out.reshape(-1, 784)


# -- chapter 7: the natural-image prior ------------------------------------------------------
def variogram(images: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    return _variogram(images, lags)


# -- chapter 9: fighting back ----------------------------------------------------------------
def fgsm(x: np.ndarray, gradient: np.ndarray, epsilon: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(np.clip(x + epsilon * np.sign(gradient), 0.0, 1.0))


def pgd_step(x_adv: np.ndarray, x: np.ndarray, gradient: np.ndarray, alpha: float,
             epsilon: float) -> np.ndarray:
    """One step of adversarial.pgd: up the sign, then back into the ball around x."""
    x = np.asarray(x, dtype=np.float64)
    low, high = np.maximum(x - epsilon, 0.0), np.minimum(x + epsilon, 1.0)
    return np.asarray(np.clip(x_adv + alpha * np.sign(gradient), low, high))


# -- chapter 11: what it means (how sure can it ever be) ------------------------------------
def interval_bound(w: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """ceiling.activation_box's step 1 for one layer: the box of z = x @ w + b."""
    positive, negative = np.maximum(w, 0), np.minimum(w, 0)
    return lo @ positive + hi @ negative + b, hi @ positive + lo @ negative + b


# -- chapter 10: a reader that knows what digits look like ----------------------------------
LN_2PI = float(np.log(2 * np.pi))


def ppca_log_likelihood(x: np.ndarray, mu: np.ndarray, w: np.ndarray, sigma: float
                        ) -> np.ndarray:
    """ln N(x; mu, C) with C = W W^T + sigma^2 I, for each row of x: (n, D) -> (n,).

    Only q x q matrices (generative.py's (G4) with a general W): with M = W^T W + sigma^2 I,
    Woodbury gives C^-1 = (I - W M^-1 W^T) / sigma^2 and the determinant lemma
    ln det C = ln det M + (D - q) ln sigma^2.
    """
    d = np.atleast_2d(np.asarray(x, np.float64)) - np.asarray(mu, np.float64)  # (n, D)
    w = np.asarray(w, np.float64)  # (D, q)
    size, q = w.shape
    sigma2 = float(sigma) ** 2
    m = w.T @ w + sigma2 * np.eye(q)  # (q, q)
    z = d @ w  # (n, q)
    mahalanobis = ((d * d).sum(axis=1) - (z * np.linalg.solve(m, z.T).T).sum(axis=1)) / sigma2
    log_det = np.linalg.slogdet(m)[1] + (size - q) * np.log(sigma2)
    return np.asarray(-0.5 * (size * LN_2PI + log_det + mahalanobis))


def gaussian_log_density(x: np.ndarray, mu: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The textbook ln N(x; mu, C) with the whole covariance C (D, D): slogdet and a solve,
    O(D^3), for the small cases the PPCA score is checked on. (n, D) -> (n,)."""
    d = np.atleast_2d(np.asarray(x, np.float64)) - mu  # (n, D)
    sign, log_det = np.linalg.slogdet(c)
    if sign <= 0:
        raise ValueError("a covariance must be positive definite")
    mahalanobis = (d * np.linalg.solve(c, d.T).T).sum(axis=1)
    return np.asarray(-0.5 * (d.shape[1] * LN_2PI + log_det + mahalanobis))


def generative_model() -> Generative:
    """The shipped generative model (chapter 10), whose digit models the check scores."""
    model = load_model(SHIPPED / "generative.npz")
    if not isinstance(model, Generative):
        raise TypeError("the shipped generative.npz is not a generative model")
    return model


def digit_ppca(model: Generative, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Digit k's model as (mu, W, sigma): W = U (Lambda - sigma^2 I)^(1/2), (G2)."""
    sigma2 = float(model.sigma2_[k])
    lam = model.variances_[k].astype(np.float64)  # (q,)
    w = model.directions_[k].astype(np.float64) * np.sqrt(np.maximum(lam - sigma2, 0.0))
    return model.mean_[k].astype(np.float64), w, float(np.sqrt(sigma2))
