"""A correct student file for every exercise, written as a student would: NumPy only.

The checker refuses a file that imports fooldigits (where the reference answers are),
so the tests that need a passing file through the real child process use these.
"""

from __future__ import annotations

SOLUTIONS = {
    "sigmoid": """
import numpy as np
def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, float)))
def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)
""",
    "backprop": """
import numpy as np
def backprop(w, b, x, y):
    a = [x]
    for wl, bl in zip(w, b):
        a.append(0.5 * (1 + np.tanh(0.5 * (a[-1] @ wl + bl))))
    delta = a[-1] - y
    nabla_b, nabla_w = [None] * len(w), [None] * len(w)
    for l in range(len(w) - 1, -1, -1):
        nabla_b[l], nabla_w[l] = delta.sum(axis=0), a[l].T @ delta
        if l:
            delta = (delta @ w[l].T) * a[l] * (1 - a[l])
    return nabla_b, nabla_w
""",
    "covariance": """
import numpy as np
def covariance(X):
    X_c = X - X.mean(axis=0)
    return X_c.T @ X_c / (len(X) - 1)
def principal_components(X, k):
    values, vectors = np.linalg.eigh(covariance(X))
    top = vectors[:, ::-1][:, :k].T
    biggest = np.argmax(np.abs(top), axis=1)
    return top * np.sign(top[np.arange(k), biggest])[:, None]
""",
    "crossover": """
import numpy as np
def crossover(a, b, mask):
    return np.where(mask, a, b)
def mutate(images, rate, rng):
    hit = rng.random(images.shape) < rate
    return np.where(hit, rng.random(images.shape), images)
""",
    "variogram": """
import numpy as np
def variogram(images, lags):
    grid = images.reshape(-1, 28, 28)
    g_x = [np.abs(grid[:, :, l:] - grid[:, :, :-l]).mean(axis=(1, 2)) for l in range(1, lags + 1)]
    g_y = [np.abs(grid[:, l:, :] - grid[:, :-l, :]).mean(axis=(1, 2)) for l in range(1, lags + 1)]
    return np.stack(g_x, axis=1), np.stack(g_y, axis=1)
""",
    "fgsm": """
import numpy as np
def fgsm(x, gradient, epsilon):
    return np.clip(x + epsilon * np.sign(gradient), 0, 1)
""",
}
