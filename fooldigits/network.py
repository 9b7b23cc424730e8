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
or eleven with class 10, "not a digit" (`class_name`; see `retrain.py`).

Training -- the loop of shuffles, mini-batches and updates (`sgd`, `SGDConfig`) -- lives
in `training.py`; its names are importable from here too.

What it leaves out: convolutions, dropout, and any automatic differentiation. Every
derivative is written out by hand.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fooldigits import FoolDigitsError, neurons
from fooldigits.files import NpzReader, atomic_write, printable
from fooldigits.neurons import sigmoid, softmax

DEFAULT_MODEL = Path(__file__).parent / "models" / "default.npz"
MAX_LAYER = 10_000  # neurons in one layer; far beyond what MNIST needs
MAX_LAYERS = 16  # entries in `sizes`: input, up to 14 hidden layers, output
MAX_PARAMETERS = 20_000_000  # weights and biases (80 MB as float32); the shipped: 79,510
MAX_MODEL_BYTES = 2**28  # 256 MiB: 20M float64 weights and some room
MAX_TEXT, META_CHARS = 4096, 1000  # characters in a stored text; in metadata as loaded
DIGITS = 10
NOT_A_DIGIT = 10  # the extra output of an 11-class network (see retrain.py)


def class_name(i: int) -> str:
    """What output `i` means: "0".."9" for the digits, "not a digit" for class 10."""
    return "not a digit" if i == NOT_A_DIGIT else str(i)


def require_classes(net: Network, classes: int, what: str = "this command") -> None:
    """Raise unless `net` has `classes` outputs (10: the digits; 11: with "not a digit")."""
    if net.classes != classes:
        kind = {10: "10 (one per digit)", 11: "11 (the digits and 'not a digit')"}
        raise FoolDigitsError(f"{what} needs a network with {kind.get(classes, classes)} "
                              f"outputs, but this one has {net.classes}")


def one_hot(labels: np.ndarray, dtype: type = np.float32, classes: int = DIGITS) -> np.ndarray:
    """Classes (n,) -> desired outputs (n, classes): labels [2, 0] give rows e_2, e_0."""
    return np.eye(classes, dtype=dtype)[np.asarray(labels, dtype=np.intp)]


class Network:
    """`Network([784, 100, 10])`: weights N(0, 1/n_in), biases N(0, 1), as in network2."""

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        activation: str = "sigmoid",
        output: str = "softmax",
        cost: str = "cross-entropy",
        rng: np.random.Generator | None = None,
    ) -> None:
        if len(sizes) < 2 or any(not 1 <= int(n) <= MAX_LAYER for n in sizes):
            raise FoolDigitsError(f"layer sizes must be between 1 and {MAX_LAYER:,}, "
                                  f"got {list(sizes)}")
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
    def classes(self) -> int:
        """Number of outputs: 10 for the digits, 11 with "not a digit"."""
        return self.sizes[-1]

    # -- forward -----------------------------------------------------------------------
    def feedforward(self, x: np.ndarray) -> list[np.ndarray]:
        """All activations [a_0 = x, a_1, ..., a_L] for a batch x (n, 784)."""
        a = [x]
        for layer, (w, b) in enumerate(zip(self.w, self.b, strict=True)):
            z = a[-1] @ w  # (n, n_out), a new array:
            z += b  # add the biases and
            last = layer == len(self.w) - 1  # apply sigma in place, with no second array
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

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The digit with the largest output for each row: (n,)."""
        return np.asarray(np.argmax(self.feedforward(x)[-1], axis=1))

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Share of rows whose predicted digit equals the label, 0..1."""
        return float(np.mean(self.predict(x) == labels)) if len(labels) else 0.0

    def score(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        """(accuracy, mean confidence of the winning digit): right, and how sure about it."""
        p = self.probabilities(x)  # (n, classes)
        return float(np.mean(p.argmax(axis=1) == labels)), float(p.max(axis=1).mean())

    def confusion_matrix(self, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """(classes, classes) counts: row = true class, column = predicted class."""
        confusion = np.zeros((self.classes, self.classes), dtype=np.int64)
        np.add.at(confusion, (np.asarray(labels, dtype=np.intp), self.predict(x)), 1)
        return confusion

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
    def save(self, path: Path) -> None:
        """Write an .npz (no pickle) atomically: sizes, w0.., b0.., choices and meta."""
        arrays: dict[str, Any] = {"sizes": np.array(self.sizes, dtype=np.int64)}
        for i, (w, b) in enumerate(zip(self.w, self.b, strict=True)):
            arrays[f"w{i}"], arrays[f"b{i}"] = w, b
        for key in ("activation", "output", "cost"):
            arrays[key] = np.array(getattr(self, key))
        for key, value in self.meta.items():
            arrays[f"meta_{key}"] = np.array(value)
        atomic_write(Path(path), lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, path: Path | None = None) -> Network:
        """Read a model saved by `save`; `None` means the shipped default model.

        Every check runs on the arrays' headers before a weight is read or allocated:
        1. the file is a regular file of at most `MAX_MODEL_BYTES`, an .npz without pickles;
        2. `sizes` is 2..`MAX_LAYERS` whole numbers, 784 first, 10 or 11 last, each layer
           1..`MAX_LAYER` neurons, at most `MAX_PARAMETERS` weights and biases in all;
        3. each `w{i}` is (n_in, n_out) and `b{i}` (n_out,), real numbers (float or int:
           never text, complex, dates or objects); the choices are short texts;
        4. then the weights are read and must be finite as float32;
        5. the text metadata is made printable (no escape codes, at most `META_CHARS`).
        """
        path = DEFAULT_MODEL if path is None else Path(path)
        with NpzReader(path, "model file", MAX_MODEL_BYTES,
                       "a fooldigits model (.npz) file") as npz:  # step 1
            sizes = _model_sizes(npz, path)  # step 2
            shapes: dict[str, tuple[int, ...]] = {}
            for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):  # step 3
                shapes[f"w{i}"], shapes[f"b{i}"] = (n_in, n_out), (n_out,)
            for key, shape in shapes.items():
                layer = key[1:]
                if key not in npz.headers:
                    raise FoolDigitsError(f"{path} has missing weights in layer {layer}: "
                                          f"no {key!r}")
                found, dtype = npz.headers[key]
                if dtype.kind not in "fiu":
                    raise FoolDigitsError(f"{path} holds {_dtype_words(dtype)} in {key!r}; "
                                          "weights must be real numbers")
                if found != shape:
                    raise FoolDigitsError(f"{path} has wrongly shaped weights in layer "
                                          f"{layer}: {key!r} is {found}, sizes {sizes} need "
                                          f"{shape}")
            choices = {key: _model_text(npz, path, key, default) for key, default in
                       (("activation", "sigmoid"), ("output", "softmax"),
                        ("cost", "cross-entropy"))}
            meta = {}
            for key in sorted(npz.headers):
                name = key[5:]
                if key.startswith("meta_") and name.isidentifier() and len(name) <= 40:
                    meta[name] = printable(_model_text(npz, path, key, ""), META_CHARS)
            arrays = {key: npz.read(key) for key in shapes}  # step 4
        for key, array in arrays.items():
            with np.errstate(over="ignore", invalid="ignore"):
                arrays[key] = array.astype(np.float32)
            if not np.all(np.isfinite(arrays[key])):
                raise FoolDigitsError(f"{path} holds NaN or infinite weights in layer "
                                      f"{key[1:]} (or numbers too large for float32)")
        net = cls(sizes, rng=np.random.default_rng(0), **choices)
        net.w = [arrays[f"w{i}"] for i in range(len(sizes) - 1)]
        net.b = [arrays[f"b{i}"] for i in range(len(sizes) - 1)]
        net.meta = meta  # step 5
        return net

    def copy(self) -> Network:
        """An independent copy (weights are copied, not shared)."""
        twin = Network.__new__(Network)
        twin.__dict__.update(self.__dict__)
        twin.w, twin.b = [w.copy() for w in self.w], [b.copy() for b in self.b]
        twin.meta = dict(self.meta)
        return twin


def _dtype_words(dtype: np.dtype[Any]) -> str:
    kinds = {"c": "complex numbers", "U": "text", "S": "bytes", "M": "dates",
             "m": "time spans", "O": "Python objects", "V": "raw records", "b": "booleans"}
    return kinds.get(dtype.kind, f"{dtype} values")


def _model_sizes(npz: NpzReader, path: Path) -> list[int]:
    """Step 2 of `Network.load`: the layer sizes, checked from the header first."""
    if "sizes" not in npz.headers:
        raise FoolDigitsError(f"{path} is not a fooldigits model: it has no 'sizes'")
    shape, dtype = npz.headers["sizes"]
    if dtype.kind not in "fiu":
        raise FoolDigitsError(f"{path} has layer sizes that are not whole numbers "
                              f"(they are {_dtype_words(dtype)})")
    if len(shape) != 1 or not 2 <= shape[0] <= MAX_LAYERS:
        raise FoolDigitsError(f"{path} has 'sizes' of shape {shape}; a model has a list "
                              f"of 2 to {MAX_LAYERS} layer sizes")
    values = npz.read("sizes").tolist()
    if not all(math.isfinite(v) and float(v).is_integer() for v in values):
        raise FoolDigitsError(f"{path} has layer sizes that are not whole numbers: {values}")
    sizes = [int(v) for v in values]
    if sizes[0] != 784 or sizes[-1] not in (DIGITS, DIGITS + 1) or not all(
            1 <= n <= MAX_LAYER for n in sizes):
        raise FoolDigitsError(f"{path} has layer sizes {sizes}; expected 784, then layers "
                              f"of 1 to {MAX_LAYER:,} neurons, then 10 (or 11 with 'not a "
                              "digit')")
    count = sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(sizes))
    if count > MAX_PARAMETERS:
        raise FoolDigitsError(f"{path} has layer sizes {sizes}, {count:,} weights and "
                              f"biases; fooldigits loads at most {MAX_PARAMETERS:,}")
    return sizes


def _model_text(npz: NpzReader, path: Path, key: str, default: str) -> str:
    """A text entry (a choice or metadata): one short string, checked from its header."""
    if key not in npz.headers:
        return default
    shape, dtype = npz.headers[key]
    if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_TEXT:
        raise FoolDigitsError(f"{path} has a {key!r} that is not one short text")
    return str(npz.read(key)[()])


# Training lives in training.py; its names stay importable from here, as they always were.
from fooldigits.training import (  # noqa: E402
    SHIPPED_RECIPE,
    BatchDone,
    EpochDone,
    SGDConfig,
    sgd,
    shift_images,
)

__all__ = ["DIGITS", "NOT_A_DIGIT", "SHIPPED_RECIPE", "BatchDone", "EpochDone", "Network",
           "SGDConfig", "class_name", "one_hot", "require_classes", "sgd", "shift_images",
           "sigmoid", "softmax"]
