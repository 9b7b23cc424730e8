"""Reference solutions of the exercises, computed in the checker's own process.

Where the project has a function of the same shape, the reference is a thin wrapper round
it (the sigmoid, backprop, PCA, the variogram); where the project does the step inside a
larger loop, it is written here in plain NumPy. This is the only module of the checker
that imports the concept modules, so when they move only these imports change.

A student's file can neither import this module nor read it: the child refuses both
(`child._guard`), and `sandbox.read_source` refuses a link to it or a copy of it.
"""

from __future__ import annotations

import numpy as np

from fooldigits.network import Network
from fooldigits.network import sigmoid as _sigmoid
from fooldigits.pca import PCA
from fooldigits.stats import variogram as _variogram


def network(sizes: list[int], seed: int = 0) -> Network:
    """A fixed, untrained network the checks take gradients from."""
    return Network(sizes, rng=np.random.default_rng(seed))


def input_gradient(net: Network, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """dC/dx of each image's cost against its label: (n, 784)."""
    return np.asarray(net.input_gradient(x, labels))


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


# -- chapter 3: PCA --------------------------------------------------------------------------
def covariance(X: np.ndarray) -> np.ndarray:
    X_c = X - X.mean(axis=0)
    return np.asarray(X_c.T @ X_c / (len(X) - 1))


def principal_components(X: np.ndarray, k: int) -> np.ndarray:
    return PCA(k).fit(np.asarray(X, dtype=np.float64)).components_


# -- chapter 5: fooling ----------------------------------------------------------------------
def crossover(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, a, b)


def mutate(images: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    out = images.copy()
    hit = rng.random(images.shape) < rate
    out[hit] = rng.random(int(hit.sum()))
    return out


# -- chapter 7: the natural-image prior ------------------------------------------------------
def variogram(images: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    return _variogram(images, lags)


# -- chapter 8: fighting back ----------------------------------------------------------------
def fgsm(x: np.ndarray, gradient: np.ndarray, epsilon: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(np.clip(x + epsilon * np.sign(gradient), 0.0, 1.0))
