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

Every step's confidences are kept (`DreamResult.trace`, (steps + 1, n)), so a digit that
ran out of steps while still climbing can be told apart from one that is stuck
(`trend`, `steps_to_go`).

If the digits were [0, 1, ..., 9] the result is ten images the network is sure about,
and to a person they are all noise. With a small learning rate and few steps some
digits do not get there: most are still climbing when the steps run out, a few have
barely moved (the seed's '1' did not reach it either); the trace says which.

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
from fooldigits.lessons.settings import PRIORS as PRIORS  # re-exported
from fooldigits.lessons.settings import DreamConfig as DreamConfig  # re-exported
from fooldigits.models.base import Classifier


@dataclass
class DreamResult:
    """Per wanted digit: the image, its final confidence, steps used, and convergence."""

    digits: np.ndarray  # (n,)
    images: np.ndarray  # (n, 784)
    confidence: np.ndarray  # (n,)
    steps: np.ndarray  # (n,)
    converged: np.ndarray  # (n,) bool
    trace: np.ndarray  # (steps run + 1, n): the confidences before each step and at the end


def logit(p: np.ndarray | float) -> np.ndarray:
    """ln(p / (1 - p)): confidence on a scale where 99% -> 99.9% is as far as 50% -> 91%."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.asarray(np.log(p / (1 - p)))


def steps_to_go(trace: np.ndarray, threshold: float) -> float:
    """How many more steps one image (trace (steps,)) would need to reach `threshold` at
    the pace of its last quarter, measured in log-odds (`logit`): 0 if it is there,
    infinity if it was not rising at all."""
    if trace[-1] >= threshold:
        return 0.0
    span = max(1, (len(trace) - 1) // 4)
    pace = float(logit(trace[-1]) - logit(trace[-1 - span])) / span  # log-odds per step
    return float((logit(threshold) - logit(trace[-1])) / pace) if pace > 0 else float("inf")


def trend(trace: np.ndarray, threshold: float) -> str:
    """One image's trace (steps,) in words: "reached" the threshold, "still climbing"
    (its log-odds rose over the last quarter of the steps) or "stuck" (they did not)."""
    to_go = steps_to_go(trace, threshold)
    return "reached" if to_go == 0 else "stuck" if to_go == float("inf") else "still climbing"


def sparkline(trace: np.ndarray, width: int = 12) -> str:
    """A confidence trace (steps,) in [0, 1] as `width` block characters, 0 -> ▁, 1 -> █,
    sampled evenly from the first step to the last."""
    marks = "▁▂▃▄▅▆▇█"
    at = np.linspace(0, len(trace) - 1, min(width, len(trace))).round().astype(int)
    levels = np.clip((np.asarray(trace)[at] * len(marks)).astype(int), 0, len(marks) - 1)
    return "".join(marks[i] for i in levels)


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
    trace = []
    for step in range(config.steps):
        confidence = net.probabilities(x)[rows, digits]
        trace.append(confidence)
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
    trace.append(confidence)
    return DreamResult(digits, x, confidence, steps, confidence >= config.threshold,
                       np.asarray(trace, dtype=np.float64))
