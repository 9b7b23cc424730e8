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
   adversarial training, `adversarial.with_attacked`). `textbook_step` is this step as
   the book writes it; `Step` is the same maths written for speed, and is what `sgd`
   runs;
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
from typing import TYPE_CHECKING

import numpy as np

from fooldigits import FoolDigitsError

if TYPE_CHECKING:  # network.py imports this module's names at its end, so this module
    from fooldigits.network import Network  # imports network.py only where it runs


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


class Step:
    """Step 2 of `sgd`: `Network.backprop` and the update for one mini-batch, fused.

    The maths of `textbook_step`, written for speed. A mini-batch of 10 images is small
    work: the two products with the 784 x 100 weights run near the processor's peak, and
    the rest is NumPy starting each small operation. So:

    1. every array (z and a, delta, nabla) is made once and reused (`out=`), and sigma
       is applied in place;
    2. delta_L is multiplied by eta/m at once, while it is (m, 10): every delta and
       nabla after it comes out already scaled, and nabla_w needs no pass of its own;
    3. weight decay and momentum cost nothing when they are 0.
    """

    def __init__(self, net: Network, rows: int) -> None:
        """Arrays for mini-batches of up to `rows` images."""
        dtype = net.w[0].dtype
        self.net = net
        self.a = [np.empty((rows, n), dtype) for n in net.sizes[1:]]  # a_1..a_L (z first)
        self.delta = [np.empty((rows, n), dtype) for n in net.sizes[1:]]  # delta_1..delta_L
        self.nabla_w = [np.empty_like(w) for w in net.w]  # (eta / m) nabla_w
        self.nabla_b = [np.empty_like(b) for b in net.b]
        self.v_w = [np.zeros_like(w) for w in net.w]  # momentum's velocities
        self.v_b = [np.zeros_like(b) for b in net.b]
        self.sigma = [net.neuron.fn] * (len(net.w) - 1) + [net.output_layer.fn]
        self.views: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def __call__(self, x: np.ndarray, y: np.ndarray, eta: float, decay: float, mu: float
                 ) -> None:
        """One step on the mini-batch x (m, 784) with desired outputs y (m, classes)."""
        net, m = self.net, len(x)
        if m not in self.views:  # the first m rows of every array, made once per size m
            self.views[m] = [a[:m] for a in self.a], [d[:m] for d in self.delta]
        a, delta = self.views[m]
        below = [x, *a[:-1]]  # each layer's input: a_0 = x, a_1, ..
        for w, b, a_in, z, sigma in zip(net.w, net.b, below, a, self.sigma, strict=True):
            np.matmul(a_in, w, out=z)  # z = a_in @ w + b, then a = sigma(z) in place
            z += b
            sigma(z, out=z)
        net.cost_function.delta(a[-1], y, out=delta[-1])  # (BP1), then times eta / m, so
        delta[-1] *= eta / m  # that every delta and nabla below comes out scaled
        for layer in range(len(a) - 1, 0, -1):  # (BP2), with the weights before the update
            back = np.matmul(delta[layer], net.w[layer].T, out=delta[layer - 1])
            net.neuron.delta(back, a[layer - 1], out=back)
        for layer, (w, b, a_in, d) in enumerate(zip(net.w, net.b, below, delta, strict=True)):
            nabla_w = np.matmul(a_in.T, d, out=self.nabla_w[layer])  # (BP4) (n_in, n_out)
            nabla_b = np.add.reduce(d, axis=0, out=self.nabla_b[layer])  # (BP3) rows summed
            if decay != 1:  # weight decay: (1 - eta * lmbda / n) w
                w *= decay
            if mu:  # momentum: v = mu v - (eta / m) nabla;  w = w + v
                for v, nabla, param in ((self.v_w[layer], nabla_w, w),
                                        (self.v_b[layer], nabla_b, b)):
                    v *= mu
                    v -= nabla
                    param += v
            else:
                w -= nabla_w
                b -= nabla_b


def textbook_step(net: Network, x: np.ndarray, y: np.ndarray, eta: float, decay: float,
                  mu: float, v_w: list[np.ndarray], v_b: list[np.ndarray]) -> None:
    """Step 2 as the book writes it: `Network.backprop`, then the update. `Step` does the
    same in less time; a test holds the two to the same numbers."""
    nabla_b, nabla_w = net.backprop(x, y)
    for w, b, nw, nb, vw, vb in zip(net.w, net.b, nabla_w, nabla_b, v_w, v_b, strict=True):
        vw *= mu
        vw -= (eta / len(x)) * nw  # v = mu v - (eta / m) nabla
        vb *= mu
        vb -= (eta / len(x)) * nb
        w *= decay  # w = (1 - eta * lmbda / n) w + v
        w += vw
        b += vb


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

    `x` holds the n training images, (n, 784) float32 in [0, 1], or their bytes (uint8,
    a pixel is byte / 255), which each block of about 1% turns into the same floats as
    it is gathered (`data.load_mnist(train_bytes=True)`: no float copy of them all).

    1. each epoch, shuffle (and with `shift`, jiggle) the n training images;
    2. for each mini-batch of m rows: backprop, then the momentum and weight-decay update;
       with `config.adversarial`, the m rows are first joined by their m attacked copies;
    3. report accuracy on `validation` and `test` (and attacked accuracy, if adversarial).
    """
    config.check()
    from fooldigits.data import BYTE_TO_PIXEL  # (here: networks need no data module)
    from fooldigits.network import one_hot  # (network.py imports this module)

    if config.adversarial:
        from fooldigits import adversarial  # (it imports network.py)

    if len(labels) and (np.min(labels) < 0 or np.max(labels) >= net.classes):
        raise FoolDigitsError(f"training labels must be classes 0..{net.classes - 1} of this "
                              f"network, got {np.min(labels)}..{np.max(labels)}")
    n, m = len(x), config.batch_size
    batches = -(-n // m)
    every = max(batches // 100, 1)  # mini-batches in a block of about 1% of the epoch
    step = Step(net, 2 * m if config.adversarial else m)
    y = one_hot(labels, classes=net.classes)  # (n, classes)
    stored = x.dtype == np.uint8  # bytes (a pixel is byte / 255): each block made floats
    block = (min(every * m, n), x.shape[1])
    xs = np.empty(block, np.float32 if stored else x.dtype)  # one block of images,
    gathered = np.empty(block if stored else (0, 0), np.uint8)  # their bytes, and
    ys = np.empty((len(xs), net.classes), y.dtype)  # their desired outputs, made once
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        order = rng.permutation(n)
        shifts = rng.integers(-1, 2, size=(n, 2)) if config.shift else None
        for first in range(0, batches, every):  # a block of about 1%, then report
            last = min(first + every, batches)
            rows = order[first * m : last * m]  # this block's images, shuffled
            xb_all, yb_all = xs[: len(rows)], ys[: len(rows)]
            if shifts is not None:
                shift_images(x, rng, rows, out=xb_all, shift=shifts[first * m : last * m])
            elif stored:
                np.take(x, rows, axis=0, out=gathered[: len(rows)], mode="clip")
                xb_all[...] = gathered[: len(rows)]
            else:  # a permutation is never clipped; with out=, the default mode="raise"
                np.take(x, rows, axis=0, out=xb_all, mode="clip")  # fills a copy first
            if stored:  # the very floats `data.to_float` makes of these bytes
                xb_all *= BYTE_TO_PIXEL
            np.take(y, rows, axis=0, out=yb_all, mode="clip")
            with np.errstate(over="ignore", invalid="ignore"):  # divergence checked below
                for k in range(last - first):
                    progress = (epoch - 1 + (first + k) / batches) / config.epochs  # 0 -> 1
                    eta = config.eta * (1 - (1 - config.final_eta_ratio) * progress)
                    decay = 1 - eta * config.lmbda / n  # Python floats keep float32 float32
                    xb, yb = xb_all[k * m : (k + 1) * m], yb_all[k * m : (k + 1) * m]
                    if config.adversarial:  # (2m, 784), (2m, classes)
                        xb, yb = adversarial.with_attacked(
                            net, xb, yb, labels[rows[k * m : (k + 1) * m]],
                            config.adversarial, config.attack, rng)
                    step(xb, yb, eta, decay, config.momentum)
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

