"""Training a network: Nielsen's mini-batch stochastic gradient descent, and its options.

What this module teaches
------------------------
`network.py` holds the network and backpropagation (the gradient of one mini-batch);
this module uses that gradient to learn. Nielsen's `SGD` in his `network2.py`, with the
row layout of `network.py`:

1. each epoch, shuffle the n training images (with `shift`, also move each one by a
   random pixel: `shift_images`, Nielsen's `expand_mnist.py` done afresh every epoch);
2. for each mini-batch of m rows: `Network.backprop`, then the update with L2 weight
   decay and momentum mu,
       v = mu * v - (eta / m) * nabla_w;   w = (1 - eta * lmbda / n) * w + v
   (with `SGDConfig.adversarial` > 0 the batch is first doubled with its attacked copy:
   adversarial training, `adversarial.with_attacked`);
3. report accuracy on the validation and test sets (`EpochDone`), and progress about
   every 1% of an epoch (`BatchDone`), which the presenter draws as a bar.

Worked example: `SHIPPED_RECIPE` (15 epochs, m = 32, eta 0.1 decaying linearly to 0,
lmbda 0.5, momentum 0.9, shifts) takes a 784-100-10 network to 98.3% in a few seconds.

What it leaves out: other optimisers (Adam, RMSprop), learning-rate schedules beyond a
linear decay, and early stopping (the caller keeps the best epoch's network).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.network import Network, one_hot


def shift_images(
    x: np.ndarray,
    rng: np.random.Generator,
    order: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Images moved by a random (dy, dx) in {-1, 0, 1}^2, zeros shifted in: (n, 784).

    Nielsen's `expand_mnist.py` idea, done afresh every epoch: a digit one pixel to the
    left is still the same digit, so the network sees 9 variants of every image. With
    `order`, row k of the result is a shifted copy of `x[order[k]]` (shuffle and shift
    in one pass); with `out`, the result is written there instead of a new array.
    """
    order = np.arange(len(x)) if order is None else order
    n = len(order)
    result = np.empty((n, 784), dtype=x.dtype) if out is None else out
    result.fill(0)
    dst, src = result.reshape(n, 28, 28), x.reshape(len(x), 28, 28)
    shift = rng.integers(-1, 2, size=(n, 2))
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            rows = np.flatnonzero((shift[:, 0] == dy) & (shift[:, 1] == dx))
            ys, yd = slice(max(-dy, 0), 28 - max(dy, 0)), slice(max(dy, 0), 28 - max(-dy, 0))
            xs, xd = slice(max(-dx, 0), 28 - max(dx, 0)), slice(max(dx, 0), 28 - max(-dx, 0))
            dst[rows, yd, xd] = src[order[rows], ys, xs]
    return result


@dataclass(frozen=True)
class SGDConfig:
    """Hyper-parameters of `sgd`; eta decays linearly to `eta * final_eta_ratio`; with
    `adversarial` > 0 each mini-batch is doubled with its `attack`ed copy at that epsilon."""

    epochs: int = 10
    batch_size: int = 10
    eta: float = 0.5
    lmbda: float = 5.0
    momentum: float = 0.0
    final_eta_ratio: float = 1.0
    shift: bool = False
    adversarial: float = 0.0  # epsilon of the attacked copies; 0 trains on clean images only
    attack: str = "fgsm"

    def check(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise FoolDigitsError("--epochs and --batch-size must be at least 1")
        if not (np.isfinite(self.eta) and self.eta > 0):
            raise FoolDigitsError(f"--eta must be a positive number, got {self.eta}")
        if not (np.isfinite(self.lmbda) and self.lmbda >= 0):
            raise FoolDigitsError(f"--lmbda must be a number >= 0, got {self.lmbda}")
        if not 0 <= self.momentum < 1:
            raise FoolDigitsError(f"--momentum must be in [0, 1), got {self.momentum}")
        if not 0 <= self.final_eta_ratio <= 1:
            raise FoolDigitsError(f"--final-eta must be in [0, 1], got {self.final_eta_ratio}")
        if not 0 <= self.adversarial <= 1:  # also refuses NaN
            raise FoolDigitsError(f"--adversarial must be an epsilon in [0, 1], got "
                                  f"{self.adversarial}")
        if self.attack not in ("fgsm", "pgd"):
            raise FoolDigitsError(f"--attack must be fgsm or pgd, got {self.attack!r}")


SHIPPED_RECIPE = SGDConfig(epochs=15, batch_size=32, eta=0.1, lmbda=0.5, momentum=0.9,
                           final_eta_ratio=0.0, shift=True)  # the default model's settings


@dataclass(frozen=True)
class BatchDone:
    """Progress inside an epoch: `batch` of `batches` mini-batches done."""

    epoch: int
    batch: int
    batches: int


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


def _step(net: Network, xb: np.ndarray, yb: np.ndarray, eta: float, decay: float, mu: float,
          v_w: list[np.ndarray], v_b: list[np.ndarray]) -> None:
    """Step 2 of `sgd` for one mini-batch: backprop, then the update, in place."""
    nabla_b, nabla_w = net.backprop(xb, yb)
    step = eta / len(xb)
    for w, b, nw, nb, vw, vb in zip(net.w, net.b, nabla_w, nabla_b, v_w, v_b, strict=True):
        nw *= step
        nb *= step
        if decay != 1:  # weight decay: (1 - eta * lmbda / n) w; skipped when lmbda is 0
            w *= decay
        if mu:  # momentum: v = mu v - (eta / m) nabla;  w = w + v
            vw *= mu
            vw -= nw
            vb *= mu
            vb -= nb
            w += vw
            b += vb
        else:
            w -= nw
            b -= nb


def sgd(
    net: Network,
    x: np.ndarray,
    labels: np.ndarray,
    config: SGDConfig,
    rng: np.random.Generator,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
) -> Iterator[BatchDone | EpochDone]:
    """Train `net` in place; yield progress about every 1% of an epoch and at its end.

    1. each epoch, shuffle (and with `shift`, jiggle) the n training images;
    2. for each mini-batch of m rows: backprop, then the momentum and weight-decay update;
       with `config.adversarial`, the m rows are first joined by their m attacked copies;
    3. report accuracy on `validation` and `test` (and attacked accuracy, if adversarial).
    """
    config.check()
    from fooldigits import adversarial  # (it imports this module)

    if len(labels) and (np.min(labels) < 0 or np.max(labels) >= net.classes):
        raise FoolDigitsError(f"training labels must be classes 0..{net.classes - 1} of this "
                              f"network, got {np.min(labels)}..{np.max(labels)}")
    n, m = len(x), config.batch_size
    batches = -(-n // m)
    every = max(batches // 100, 1)
    mu = config.momentum
    v_w = [np.zeros_like(w) for w in net.w]
    v_b = [np.zeros_like(b) for b in net.b]
    xs = np.empty_like(x)  # (n, 784), reused every epoch
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        order = rng.permutation(n)
        if config.shift:
            shift_images(x, rng, order, out=xs)
        else:
            np.take(x, order, axis=0, out=xs, mode="clip")  # a permutation: never clipped;
            # the default mode="raise" with out= first fills a hidden copy of the whole set
        ls = labels[order]  # (n,)
        ys = one_hot(ls, classes=net.classes)  # (n, classes)
        for first in range(0, batches, every):  # about 1% of the epoch, then report
            last = min(first + every, batches)
            with np.errstate(over="ignore", invalid="ignore"):  # divergence checked below
                for k in range(first, last):
                    progress = (epoch - 1 + k / batches) / config.epochs  # 0 -> 1 overall
                    eta = config.eta * (1 - (1 - config.final_eta_ratio) * progress)
                    decay = 1 - eta * config.lmbda / n  # Python floats keep float32 float32
                    xb, yb = xs[k * m : (k + 1) * m], ys[k * m : (k + 1) * m]  # (m, 784), (m, 10)
                    if config.adversarial:  # (2m, 784), (2m, classes)
                        xb, yb = adversarial.with_attacked(
                            net, xb, yb, ls[k * m : (k + 1) * m], config.adversarial,
                            config.attack, rng)
                    _step(net, xb, yb, eta, decay, mu, v_w, v_b)
            yield BatchDone(epoch, last, batches)
        if not all(np.all(np.isfinite(w)) for w in net.w):
            raise FoolDigitsError(f"training diverged in epoch {epoch}: the weights became "
                                  "NaN or infinite; try a smaller --eta")
        monitored = test if test is not None else validation
        yield EpochDone(
            epoch,
            net.accuracy(*validation) if validation is not None else None,
            net.accuracy(*test) if test is not None else None,
            time.perf_counter() - start,
            adversarial.attacked_accuracy(net, *monitored, config.adversarial)
            if config.adversarial and monitored is not None else None,
        )

