"""A feedforward network trained by mini-batch stochastic gradient descent.

What this module teaches
------------------------
Michael Nielsen's `network2.py` (Neural Networks and Deep Learning, chapters 1-3):
sigmoid neurons, the cross-entropy cost, L2 regularisation ("weight decay"), his scaled
Gaussian initialisation, and backpropagation -- here run on a whole mini-batch at once as
matrix products, the exercise Nielsen sets at the end of chapter 2.

If the list `sizes` was [784, 100, 10] then the network has 784 input neurons (one per
pixel), one hidden layer of 100 neurons and 10 output neurons (one per digit). The
weights are `w[0]` (784, 100) and `w[1]` (100, 10); the biases `b[0]` (100,), `b[1]` (10,).

One difference from the book: the data layout. Nielsen feeds one image at a time as a
(784, 1) *column* vector and computes `z = w @ a + b` with `w` of shape (n_out, n_in).
fooldigits keeps a whole batch of images as *rows*, `a` of shape (n, 784), so every
layer is `z = a @ w + b` with `w` of shape (n_in, n_out). It is the same maths
transposed, and it lets NumPy do a mini-batch in one matrix product.

The four equations of backpropagation, for a mini-batch `a[0] = x` (m, 784):

    (BP1)  delta_L = a_L - y                      (cross-entropy; softmax or sigmoid out)
    (BP2)  delta_l = (delta_{l+1} @ w_{l+1}.T) * sigma'(z_l)
    (BP3)  nabla_b_l = delta_l summed over the m rows
    (BP4)  nabla_w_l = a_l-1.T @ delta_l          (n_in, n_out), summed over the batch

and the update, with L2 weight decay and momentum `mu` (chapter 3):

    v = mu * v - (eta / m) * nabla_w;   w = (1 - eta * lmbda / n) * w + v

Chapter 3's variations are options: a softmax output layer with the log-likelihood cost
(`output="softmax"`, the default here; BP1 keeps its form), ReLU hidden neurons
(`activation="relu"`, initialised with He's N(0, 2/n_in)), the quadratic cost of chapter 1,
momentum, and a learning rate that decays linearly. `SHIPPED_RECIPE` is the one the
shipped model was trained with. Each choice is a small class from `neurons.py` with its
function and its derivative side by side (`Sigmoid.fn`, `Sigmoid.prime`,
`LogLikelihoodCost.delta`), picked once by name when the network is made.

Worked example: `Network([784, 100, 10])` is the shipped model's shape, 79,510 weights
and biases. `feedforward(x)` of 32 images returns [x (32, 784), a_1 (32, 100),
a_2 (32, 10)], each row of a_2 ten numbers summing to 1; `backprop(x, y)` returns nabla_b
[(100,), (10,)] and nabla_w [(784, 100), (100, 10)], the shapes of b and w.

Run the same chain rule one step further, to the pixels themselves, and you get
`input_gradient`: how to change an *image* to change the cost. The dream and fool
chapters are built on it, and so are the adversarial examples (`adversarial.py`) that
`sgd` can mix into training. The last layer may have any number of outputs: ten digits,
or eleven with class 10, "not a digit" (see `retrain.py`).

Training -- the loop of shuffles, mini-batches and updates (`training.sgd`) -- lives in
`lessons/training.py`, and works on any kind that offers `parameters()` and `gradient()`
(the `Trainable` half of `models.base`); for this network `gradient` is `backprop`.

What it leaves out: convolutions, dropout, and any automatic differentiation. Every
derivative is written out by hand.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Self

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.reading import NpzReader
from fooldigits.models import neurons
from fooldigits.models.base import (
    MAX_PARAMETERS,
    PIXELS,
    Trainable,
    check_parameters,
    one_hot,
)

MAX_LAYER = 10_000  # neurons in one layer; far beyond what MNIST needs
MAX_LAYERS = 16  # entries in `sizes`: input, up to 14 hidden layers, output
CHOICES = (("activation", "sigmoid"), ("output", "softmax"), ("cost", "cross-entropy"))


class Network(Trainable):
    """`Network([784, 100, 10])`: weights N(0, 1/n_in), biases N(0, 1), as in network2."""

    kind = "dense"

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        activation: str = "sigmoid",
        output: str = "softmax",
        cost: str = "cross-entropy",
        rng: np.random.Generator | None = None,
    ) -> None:
        check_sizes(sizes)
        # the names are what a model file stores; the classes are what the maths calls
        self.neuron, self.output_layer, self.cost_function = neurons.choose(
            activation, output, cost)
        self.activation, self.output, self.cost = activation, output, cost
        rng = rng if rng is not None else np.random.default_rng()
        self.sizes = [int(n) for n in sizes]
        # ReLU layers keep their signal's size with He's N(0, 2/n_in) instead.
        gain = 2.0 if activation == "relu" else 1.0
        self.w = [
            (rng.standard_normal((n_in, n_out)) * np.sqrt(gain / n_in)).astype(np.float32)
            for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)
        ]
        self.b = [rng.standard_normal(n_out).astype(np.float32) for n_out in self.sizes[1:]]
        self.meta: dict[str, str] = {}

    @property
    def classes(self) -> int:  # type: ignore[override]  # a property of the sizes here
        """Number of outputs: 10 for the digits, 11 with "not a digit"."""
        return self.sizes[-1]

    def fresh(self, classes: int, rng: np.random.Generator) -> Self:
        return type(self)([*self.sizes[:-1], classes], activation=self.activation,
                          output=self.output, cost=self.cost, rng=rng)

    def describe(self) -> str:
        hidden = f", {self.activation} hidden" if len(self.sizes) > 2 else ""
        return f"dense {'-'.join(map(str, self.sizes))}{hidden}, {self.output} out"

    # -- forward -----------------------------------------------------------------------
    def feedforward(self, x: np.ndarray) -> list[np.ndarray]:
        """All activations [a_0 = x, a_1, ..., a_L] for a batch x (n, 784)."""
        a = [x]
        # A diverging run overflows z to infinity: expected, and caught where it matters
        # (sgd checks the weights after each epoch; the loader refuses non-finite ones).
        with np.errstate(over="ignore", invalid="ignore"):
            for layer, (w, b) in enumerate(zip(self.w, self.b, strict=True)):
                z = a[-1] @ w  # (n, n_out), a new array:
                z += b  # add the biases and
                last = layer == len(self.w) - 1  # apply sigma in place, no second array
                a.append((self.output_layer if last else self.neuron).fn(z, out=z))
        return a

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Confidence per class, rows summing to 1: (n, classes).

        A softmax output already sums to 1; sigmoid outputs are divided by their sum.
        This is the "confidence" every chapter quotes.
        """
        a = self.feedforward(np.atleast_2d(x))[-1]
        return a if self.output_layer is neurons.Softmax else np.asarray(
            a / a.sum(axis=1, keepdims=True))

    def total_cost(self, x: np.ndarray, y: np.ndarray, lmbda: float = 0.0) -> float:
        """Mean cost over the rows of x against desired outputs y (n, classes), plus L2."""
        c = self.cost_function.fn(self.feedforward(x)[-1], y)  # (n,)
        l2 = 0.5 * lmbda / max(len(x), 1) * sum(float(np.sum(w * w)) for w in self.w)
        return float(np.mean(c)) + l2

    # -- backward ----------------------------------------------------------------------
    def _deltas(self, a: list[np.ndarray], y: np.ndarray) -> list[np.ndarray]:
        """delta_l for every layer, last first computed (BP1, BP2); each (m, n_l)."""
        deltas = [self.cost_function.delta(a[-1], y)]  # (BP1)
        for layer in range(len(self.w) - 1, 0, -1):  # (BP2)
            back = deltas[0] @ self.w[layer].T  # (m, n_l)
            deltas.insert(0, self.neuron.delta(back, a[layer]))  # back * sigma'(z_l)
        return deltas

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(nabla_b, nabla_w): the cost gradient *summed* over the mini-batch (BP3, BP4)."""
        a = self.feedforward(x)
        deltas = self._deltas(a, y)
        nabla_b = [d.sum(axis=0) for d in deltas]
        nabla_w = [a_prev.T @ d for a_prev, d in zip(a[:-1], deltas, strict=True)]
        return nabla_b, nabla_w

    def parameters(self) -> list[tuple[np.ndarray, bool]]:
        """w_0, b_0, w_1, b_1, ...: weights decay (L2), biases do not."""
        return [(p, decays) for w, b in zip(self.w, self.b, strict=True)
                for p, decays in ((w, True), (b, False))]

    def gradient(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """`backprop`'s nabla_w and nabla_b, in the order of `parameters()`."""
        nabla_b, nabla_w = self.backprop(x, y)
        return [g for nw, nb in zip(nabla_w, nabla_b, strict=True) for g in (nw, nb)]

    def input_gradient(self, images: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """dC/dx for each image's own cost against its target class: (n, 784).

        The chain rule one layer past the first weights: dC/dx = delta_1 @ w_0.T. If the
        images were two noise images and targets [2, 7], row 0 says how to change image 0's
        pixels to make the network more sure it is a 2, going *against* the gradient.
        Going *along* the gradient of the true label's cost is an adversarial attack.
        """
        x = np.atleast_2d(images)
        a = self.feedforward(x)
        delta_1 = self._deltas(a, one_hot(targets, x.dtype.type, self.classes))[0]  # (n, n_1)
        return np.asarray(delta_1 @ self.w[0].T)  # (n, 784)

    # -- files -------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """sizes, w0.., b0.. and the three choices as texts."""
        arrays: dict[str, np.ndarray] = {"sizes": np.array(self.sizes, dtype=np.int64)}
        for i, (w, b) in enumerate(zip(self.w, self.b, strict=True)):
            arrays[f"w{i}"], arrays[f"b{i}"] = w, b
        for key, _ in CHOICES:
            arrays[key] = np.array(getattr(self, key))
        return arrays

    @classmethod
    def shapes(cls, file: NpzReader) -> dict[str, tuple[int, ...]]:
        """`sizes` (read first: a few numbers), then (n_in, n_out) for each w{i} and (n_out,)
        for each b{i}."""
        sizes = _model_sizes(file)
        shapes: dict[str, tuple[int, ...]] = {}
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            shapes[f"w{i}"], shapes[f"b{i}"] = (n_in, n_out), (n_out,)
        check_parameters(file.path, shapes)
        return shapes

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], texts: dict[str, str]) -> Self:
        layers = len([k for k in arrays if k.startswith("w")])
        sizes = [PIXELS] + [len(arrays[f"b{i}"]) for i in range(layers)]
        choices = {key: texts.get(key, default) for key, default in CHOICES}
        net = cls(sizes, rng=np.random.default_rng(0), **choices)
        net.w = [arrays[f"w{i}"] for i in range(layers)]
        net.b = [arrays[f"b{i}"] for i in range(layers)]
        return net


def check_sizes(sizes: Sequence[int]) -> None:
    """Refuse, before any work, the layer sizes a model file could not hold."""
    if len(sizes) < 2 or len(sizes) > MAX_LAYERS or any(
            not 1 <= int(n) <= MAX_LAYER for n in sizes):
        raise FoolDigitsError(f"a network has 2 to {MAX_LAYERS} layers of 1 to {MAX_LAYER:,} "
                              f"neurons, got {list(sizes)}")
    count = sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(sizes))
    if count > MAX_PARAMETERS:
        raise FoolDigitsError(f"layer sizes {list(sizes)} make {count:,} weights and biases; "
                              f"a model holds at most {MAX_PARAMETERS:,}")


def _model_sizes(file: NpzReader) -> list[int]:
    """The layer sizes, checked from the header first."""
    path = file.path
    if "sizes" not in file.headers:
        raise FoolDigitsError(f"{path} is not a fooldigits model: it has no 'sizes'")
    shape, dtype = file.headers["sizes"]
    if dtype.kind not in "fiu":
        words = {"M": "dates", "m": "time spans", "U": "text", "c": "complex numbers"}
        raise FoolDigitsError(f"{path} has layer sizes that are not whole numbers (they are "
                              f"{words.get(dtype.kind, str(dtype))})")
    if len(shape) != 1 or not 2 <= shape[0] <= MAX_LAYERS:
        raise FoolDigitsError(f"{path} has 'sizes' of shape {shape}; a model has a list "
                              f"of 2 to {MAX_LAYERS} layer sizes")
    values = file.read("sizes").tolist()
    if not all(math.isfinite(v) and float(v).is_integer() for v in values):
        raise FoolDigitsError(f"{path} has layer sizes that are not whole numbers: {values}")
    sizes = [int(v) for v in values]
    if sizes[0] != PIXELS or sizes[-1] not in (10, 11) or not all(
            1 <= n <= MAX_LAYER for n in sizes):
        raise FoolDigitsError(f"{path} has layer sizes {sizes}; expected 784, then layers "
                              f"of 1 to {MAX_LAYER:,} neurons, then 10 (or 11 with 'not a "
                              "digit')")
    return sizes
