"""Dreaming: gradient descent on the *pixels*, with the network's weights frozen.

What this module teaches
------------------------
Training changes the weights to make the network's output match the image's label.
Turn it around: keep the weights, and change the *image* until the output says
"this is a 7". `Network.input_gradient` gives dC/dx, the direction in which each pixel
would raise the cost of calling the image a 7; step the other way:

1. start from random noise x (n, 784), one image per wanted digit;
2. x <- x - lr * dC/dx                     (descend the cost of the wanted digit)
3. x <- x - lr * weight * d(prior)/dx      (optional: a preference for some images)
4. x <- clip(x, 0, 1)                      (pixels must stay pixels)
5. stop an image once its confidence reaches `threshold`; give up after `steps`.

If the digits were [0, 1, ..., 9] the result is ten images the network is sure about,
and to a person they are all noise. Some digits converge slowly or not at all for a
small learning rate (the seed's '1' never did): the result says which, honestly.

The priors ask for "natural" images, after Google's DeepDream note that neighbouring
pixels should be correlated:

* `l2`   -- weight * x: pull pixels towards black (a small image energy);
* `tv`   -- total variation, sum |x_right - x| + |x_below - x|: penalise changes
            between neighbours, so flat regions and strokes win over speckle;
* `blur` -- after each step, mix in a 3x3 box blur of the image.

What it leaves out: jitter, octaves and the other DeepDream tricks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.models.base import Classifier

PRIORS = ("none", "l2", "tv", "blur")


@dataclass(frozen=True)
class DreamConfig:
    """Step size, limits and prior of `dream`."""

    steps: int = 2000
    lr: float = 1.0
    threshold: float = 0.999
    prior: str = "none"
    prior_weight: float = 0.02

    def check(self) -> None:
        if self.steps < 1:
            raise FoolDigitsError(f"--steps must be at least 1, got {self.steps}")
        if self.lr <= 0 or not np.isfinite(self.lr):
            raise FoolDigitsError(f"--lr must be a positive number, got {self.lr}")
        if not 0 < self.threshold < 1:
            raise FoolDigitsError(f"--threshold must be between 0 and 1, got {self.threshold}")
        if self.prior not in PRIORS:
            raise FoolDigitsError(f"--prior must be one of {', '.join(PRIORS)}")
        if self.prior_weight < 0:
            raise FoolDigitsError(f"--prior-weight must be >= 0, got {self.prior_weight}")


@dataclass
class DreamResult:
    """Per wanted digit: the image, its final confidence, steps used, and convergence."""

    digits: np.ndarray  # (n,)
    images: np.ndarray  # (n, 784)
    confidence: np.ndarray  # (n,)
    steps: np.ndarray  # (n,)
    converged: np.ndarray  # (n,) bool


def tv_gradient(x: np.ndarray) -> np.ndarray:
    """Gradient of sum |x_right - x| + |x_below - x| for images (n, 784): (n, 784)."""
    img = x.reshape(-1, 28, 28)
    grad = np.zeros_like(img)
    s = np.sign(img[:, :, 1:] - img[:, :, :-1])  # (n, 28, 27): horizontal neighbours
    grad[:, :, 1:] += s
    grad[:, :, :-1] -= s
    s = np.sign(img[:, 1:, :] - img[:, :-1, :])  # (n, 27, 28): vertical neighbours
    grad[:, 1:, :] += s
    grad[:, :-1, :] -= s
    return grad.reshape(x.shape)


def box_blur(x: np.ndarray) -> np.ndarray:
    """Each pixel replaced by the mean of its 3x3 neighbourhood (edges padded): (n, 784)."""
    img = np.pad(x.reshape(-1, 28, 28), ((0, 0), (1, 1), (1, 1)), mode="edge")
    total = sum(img[:, dy : dy + 28, dx : dx + 28] for dy in range(3) for dx in range(3))
    return np.asarray(total / 9.0).reshape(x.shape)


def dream(
    net: Classifier, digits: np.ndarray, config: DreamConfig, rng: np.random.Generator
) -> DreamResult:
    """One dreamed image per entry of `digits`, all descended together (steps 1-5)."""
    config.check()
    digits = np.asarray(digits, dtype=np.int64)
    if digits.size == 0 or digits.min() < 0 or digits.max() > 9:
        raise FoolDigitsError("digits to dream must be in 0..9")
    n = len(digits)
    x = rng.random((n, 784), dtype=np.float32)  # step 1
    steps = np.full(n, config.steps)
    active = np.ones(n, dtype=bool)
    rows = np.arange(n)
    for step in range(config.steps):
        confidence = net.probabilities(x)[rows, digits]
        done = active & (confidence >= config.threshold)  # step 5
        steps[done] = step
        active &= ~done
        if not active.any():
            break
        a = np.flatnonzero(active)
        xa = x[a]
        xa -= config.lr * net.input_gradient(xa, digits[a])  # step 2
        if config.prior == "l2":  # step 3
            xa -= config.lr * config.prior_weight * xa
        elif config.prior == "tv":
            xa -= config.lr * config.prior_weight * tv_gradient(xa)
        elif config.prior == "blur":
            xa = ((1 - config.prior_weight) * xa + config.prior_weight * box_blur(xa)).astype(
                x.dtype)
        x[a] = np.clip(xa, 0, 1)  # step 4
    confidence = net.probabilities(x)[rows, digits].astype(np.float64)
    return DreamResult(digits, x, confidence, steps, confidence >= config.threshold)
