"""Reference solutions of the exercises, each a thin wrapper round the project's own code.

The checks compare a student's functions with these, and a test checks that these pass.
"""

from __future__ import annotations

import numpy as np

from fooldigits.lessons.pca import PCA
from fooldigits.lessons.stats import variogram as _variogram
from fooldigits.models.network import Network
from fooldigits.models.neurons import sigmoid as _sigmoid


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


def covariance(X: np.ndarray) -> np.ndarray:
    X_c = X - X.mean(axis=0)
    return np.asarray(X_c.T @ X_c / (len(X) - 1))


def principal_components(X: np.ndarray, k: int) -> np.ndarray:
    return PCA(k).fit(np.asarray(X, dtype=np.float64)).components_


def crossover(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, a, b)


def mutate(images: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    out = images.copy()
    hit = rng.random(images.shape) < rate
    out[hit] = rng.random(int(hit.sum()))
    return out


def variogram(images: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    return _variogram(images, lags)


def fgsm(x: np.ndarray, gradient: np.ndarray, epsilon: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(np.clip(x + epsilon * np.sign(gradient), 0.0, 1.0))
