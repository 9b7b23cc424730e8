"""Training a model: Nielsen's mini-batch stochastic gradient descent, and its options.

What this module teaches
------------------------
A model computes the gradient of its cost on one mini-batch (`gradient`: backpropagation,
written by each kind in its own module); this module uses that gradient to learn. It is
Nielsen's `SGD` from `network2.py`, for any kind that offers `parameters()` and
`gradient()` (`models.base.Trainable`: the dense network, softmax regression, ...):

1. each epoch, shuffle the n training images (with `shift`, also move each one by a
   random pixel: `shift_images`, Nielsen's `expand_mnist.py` done afresh every epoch);
2. for each mini-batch of m rows, nabla = `model.gradient(x, y)`, then for every
   parameter p the update with momentum mu and L2 weight decay (on weights only):
       v = mu * v - (eta / m) * nabla;   p = (1 - eta * lmbda / n) * p + v
   (with `SGDConfig.adversarial` > 0 the batch is first doubled with its attacked copy:
   adversarial training, `adversarial.with_attacked`);
3. after every epoch, accuracy on the validation and test sets (`EpochDone`); about every
   1% of an epoch, progress (`BatchDone`), which the presenter draws as a bar.

Worked example: `SHIPPED_RECIPE` (15 epochs, m = 32, eta 0.1 decaying linearly to 0,
lmbda 0.5, momentum 0.9, shifts) takes a 784-100-10 network to 98.26% on the test digits
(`make model`; docs/network.md).

What it leaves out: other optimisers (Adam, RMSprop), learning-rate schedules beyond a
linear decay, and early stopping (the caller keeps the best epoch's model).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.data import BYTE_TO_PIXEL
from fooldigits.core.pieces import BatchDone
from fooldigits.lessons import adversarial
from fooldigits.lessons.settings import SHIPPED_RECIPE as SHIPPED_RECIPE  # re-exported
from fooldigits.lessons.settings import SGDConfig as SGDConfig  # re-exported
from fooldigits.models.base import MAX_MAGNITUDE, Trainable, one_hot


def shift_images(
    x: np.ndarray,
    rng: np.random.Generator,
    order: np.ndarray | None = None,
    out: np.ndarray | None = None,
    shift: np.ndarray | None = None,
) -> np.ndarray:
    """Images moved by a random (dy, dx) in {-1, 0, 1}^2, zeros shifted in: (n, 784).

    Nielsen's `expand_mnist.py` idea, done afresh every epoch: a digit one pixel to the
    left is still the same digit, so the network sees 9 variants of every image. With
    `order`, row k of the result is a shifted copy of `x[order[k]]` (shuffle and shift
    in one pass); with `out`, the result is written there instead of a new array; with
    `shift` (n, 2), row k moves by `shift[k]` instead of a (dy, dx) drawn from `rng`.
    """
    order = np.arange(len(x)) if order is None else order
    n = len(order)
    result = np.empty((n, 784), dtype=x.dtype) if out is None else out
    result.fill(0)
    dst, src = result.reshape(n, 28, 28), x.reshape(len(x), 28, 28)
    shift = rng.integers(-1, 2, size=(n, 2)) if shift is None else shift
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            rows = np.flatnonzero((shift[:, 0] == dy) & (shift[:, 1] == dx))
            ys, yd = slice(max(-dy, 0), 28 - max(dy, 0)), slice(max(dy, 0), 28 - max(-dy, 0))
            xs, xd = slice(max(-dx, 0), 28 - max(dx, 0)), slice(max(dx, 0), 28 - max(-dx, 0))
            dst[rows, yd, xd] = src[order[rows], ys, xs]
    return result


@dataclass(frozen=True)
class EpochDone:
    """End of an epoch, with accuracies on the monitored sets (None if not given);
    with adversarial training, also on the test (or validation) set under attack
    (`adversarial.attacked_accuracy`)."""

    epoch: int
    validation_accuracy: float | None
    test_accuracy: float | None
    seconds: float
    attacked_accuracy: float | None = None


def sgd(
    model: Trainable,
    x: np.ndarray,
    labels: np.ndarray,
    config: SGDConfig,
    rng: np.random.Generator,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
) -> Iterator[BatchDone | EpochDone]:
    """Train `model` in place; yield progress about every 1% of an epoch and at its end.

    `x` holds the n training images, (n, 784) float32 in [0, 1], or their bytes (uint8,
    a pixel is byte / 255: `data.load_mnist(train_bytes=True)`), which each mini-batch
    turns into floats as it is taken.
    """
    config.check()
    if len(labels) and (np.min(labels) < 0 or np.max(labels) >= model.classes):
        raise FoolDigitsError(f"training labels must be classes 0..{model.classes - 1} of "
                              f"this model, got {np.min(labels)}..{np.max(labels)}")
    n, m = len(x), config.batch_size
    batches = -(-n // m)
    every = max(batches // 100, 1)  # report about every 1% of an epoch
    y = one_hot(labels, classes=model.classes)  # (n, classes)
    params = model.parameters()
    velocities = [np.zeros_like(p) for p, _ in params]  # momentum's v, one per parameter
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        order = rng.permutation(n)  # step 1
        shifts = rng.integers(-1, 2, size=(n, 2)) if config.shift else None
        for k in range(batches):
            rows = order[k * m:(k + 1) * m]  # this mini-batch's images, (m,)
            xb = x[rows] if shifts is None else shift_images(x, rng, rows, shift=shifts[rows])
            if xb.dtype == np.uint8:
                xb = xb * np.float32(BYTE_TO_PIXEL)  # the floats `data.to_float` makes
            yb = y[rows]  # (m, classes)
            if config.adversarial:  # (2m, 784), (2m, classes)
                xb, yb = adversarial.with_attacked(model, xb, yb, labels[rows],
                                                   config.adversarial, config.attack, rng)
            progress = (epoch - 1 + k / batches) / config.epochs  # 0 -> 1 over the training
            eta = config.eta * (1 - (1 - config.final_eta_ratio) * progress)
            decay = 1 - eta * config.lmbda / n  # Python floats keep float32 float32
            step = eta / len(xb)  # eta / m
            with np.errstate(over="ignore", invalid="ignore"):  # divergence checked below
                nabla = model.gradient(xb, yb)  # step 2: backpropagation
                for (p, decays), v, g in zip(params, velocities, nabla, strict=True):
                    if decays and decay != 1:
                        p *= decay  # weight decay: (1 - eta * lmbda / n) p
                    if config.momentum:
                        v *= config.momentum  # v = mu v - (eta / m) nabla;  p = p + v
                        v -= step * g
                        p += v
                    else:
                        p -= step * g  # plain SGD: p = p - (eta / m) nabla
            if (k + 1) % every == 0 or k + 1 == batches:
                yield BatchDone(epoch, k + 1, batches)
        if not all(np.abs(p).max(initial=0.0) <= MAX_MAGNITUDE for p, _ in params):  # or NaN
            raise FoolDigitsError(f"training diverged in epoch {epoch}: the weights became "
                                  f"NaN, infinite or larger than {MAX_MAGNITUDE:,.0f}, more than "
                                  "a model file may hold; try a smaller eta")
        monitored = test if test is not None else validation  # step 3
        yield EpochDone(
            epoch,
            model.accuracy(*validation) if validation is not None else None,
            model.accuracy(*test) if test is not None else None,
            time.perf_counter() - start,
            adversarial.attacked_accuracy(model, *monitored, config.adversarial)
            if config.adversarial and monitored is not None else None,
        )
