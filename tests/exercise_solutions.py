"""A correct student file for every exercise, written as a student would: NumPy only.

The checker refuses a file that imports fooldigits (where the reference answers are),
so the tests that need a passing file through the real child process use these.
"""

from __future__ import annotations

SOLUTIONS = {
    "nearest_mean": """
import numpy as np
def class_means(images, labels):
    return np.stack([images[labels == d].mean(axis=0) for d in range(10)])
def nearest_mean(means, images):
    d2 = (images ** 2).sum(1)[:, None] - 2 * images @ means.T + (means ** 2).sum(1)
    return np.argmin(d2, axis=1)
""",
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
    "conv": """
import numpy as np
def im2col(images, k, stride):
    n, h, w = images.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    rows = [images[:, r * stride:r * stride + k, c * stride:c * stride + k].reshape(n, -1)
            for r in range(h_out) for c in range(w_out)]
    return np.stack(rows, axis=1)
def conv_forward(images, kernels, b, stride):
    n, h, w = images.shape
    c, k, _ = kernels.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    z = im2col(images, k, stride) @ kernels.reshape(c, -1).T + b
    return z.transpose(0, 2, 1).reshape(n, c, h_out, w_out)
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
    "dream": """
import numpy as np
def dream_step(x, gradient, lr, active):
    out = x.copy()
    out[active] = np.clip(x[active] - lr * gradient[active], 0, 1)
    return out
""",
    "crossover": """
import numpy as np
def crossover(a, b, mask):
    return np.where(mask, a, b)
def mutate(images, rate, rng):
    hit = rng.random(images.shape) < rate
    return np.where(hit, rng.random(images.shape), images)
""",
    "centre": """
import numpy as np
def centre_of_mass(images):
    grid = images.reshape(-1, 28, 28)
    total = grid.sum(axis=(1, 2))
    return np.stack([grid.sum(2) @ np.arange(28) / total,
                     grid.sum(1) @ np.arange(28) / total], axis=1)
def centre(images):
    out = np.zeros((len(images), 28, 28))
    for image, moved, (r, c) in zip(images.reshape(-1, 28, 28), out, centre_of_mass(images)):
        dr, dc = int(round(14 - r)), int(round(14 - c))
        padded = np.pad(image, 28)
        moved[:] = padded[28 - dr:56 - dr, 28 - dc:56 - dc]
    return out.reshape(-1, 784)
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
    "pgd": """
import numpy as np
def pgd_step(x_adv, x, gradient, alpha, epsilon):
    step = x_adv + alpha * np.sign(gradient)
    return np.clip(step, np.maximum(x - epsilon, 0), np.minimum(x + epsilon, 1))
""",
    "interval_bound": """
import numpy as np
def interval_bound(w, b, lo, hi):
    pos, neg = np.maximum(w, 0), np.minimum(w, 0)
    return lo @ pos + hi @ neg + b, hi @ pos + lo @ neg + b
""",
    "ppca": """
import numpy as np
def ppca_log_likelihood(x, mu, w, sigma):
    d = x - mu
    D, q = w.shape
    s2 = sigma ** 2
    m = w.T @ w + s2 * np.eye(q)
    z = d @ w
    quad = ((d * d).sum(axis=1) - (z * np.linalg.solve(m, z.T).T).sum(axis=1)) / s2
    log_det = np.linalg.slogdet(m)[1] + (D - q) * np.log(s2)
    return -0.5 * (D * np.log(2 * np.pi) + log_det + quad)
""",
}
