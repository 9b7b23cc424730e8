"""Softmax regression: a classifier with no hidden layer, and the proof that depth is not
why networks are fooled.

What this module teaches
------------------------
The simplest model that outputs ten confidences: one weight per (pixel, digit) and one
bias per digit, then a softmax,

    z = x @ w + b          (n, 10)    each digit's score is a weighted sum of pixels
    a = softmax(z)         (n, 10)    rows of e^z / sum e^z

trained with the log-likelihood cost C = -ln a_y (Nielsen's (80)). Its backpropagation
is one line, because there is only one layer: delta = a - y (BP1), and

    nabla_b = delta summed over the m rows               (BP3)   (10,)
    nabla_w = x.T @ delta                                (BP4)   (784, 10)
    dC/dx   = delta @ w.T                                       (n, 784)

The last line is the input gradient every chapter uses to dream and to attack. Each
column of w is a template of a digit: `w[:, 2]` drawn as a 28x28 image shows where ink
makes a '2' more likely (positive) and less (negative). `fooldigits train --arch linear`
trains it with the same `training.sgd` as the dense network, to about 92% on the test
digits (docs/models.md names the command and its range).

Why it belongs in the story: a linear model has no hidden features at all, yet the GA
and the dream fool it just as easily. Fooling is not a quirk of deep networks; a model
that scores pixels independently can be pushed to any answer by pixels nobody would draw.

Worked example: `Linear(rng=np.random.default_rng(0))` has w (784, 10) and b (10,), 7,850
numbers; `probabilities` of 3 images is (3, 10), and `gradient(x, y)` of a mini-batch is
[nabla_w (784, 10), nabla_b (10,)], in the order of `parameters()`.

What it leaves out: regularisation other than SGD's L2 weight decay, and any hidden layer
(that is `network.py`).
"""

from __future__ import annotations

from typing import Self

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import DIGITS
from fooldigits.core.reading import NpzReader
from fooldigits.models.base import PIXELS, Trainable, one_hot
from fooldigits.models.neurons import Softmax


class Linear(Trainable):
    """Softmax regression on the 784 pixels: w (784, classes), b (classes,)."""

    kind = "linear"

    def __init__(self, classes: int = DIGITS, rng: np.random.Generator | None = None) -> None:
        if classes not in (DIGITS, DIGITS + 1):
            raise FoolDigitsError(f"a linear model has 10 or 11 classes, got {classes}")
        rng = rng if rng is not None else np.random.default_rng()
        self.classes = classes
        self.w = (rng.standard_normal((PIXELS, classes)) / np.sqrt(PIXELS)).astype(np.float32)
        self.b = np.zeros(classes, dtype=np.float32)
        self.meta: dict[str, str] = {}

    def fresh(self, classes: int, rng: np.random.Generator) -> Self:
        return type(self)(classes, rng)

    def describe(self) -> str:
        return f"linear 784-{self.classes} (softmax regression, no hidden layer)"

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """a = softmax(x @ w + b): (n, 784) -> (n, classes)."""
        z = np.atleast_2d(x) @ self.w  # (n, classes)
        z += self.b
        return Softmax.fn(z, out=z)

    def input_gradient(self, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """dC/dx = (a - y) @ w.T for C = -ln a_target: (n, 784)."""
        x = np.atleast_2d(x)
        delta = self.probabilities(x) - one_hot(targets, x.dtype.type, self.classes)  # (BP1)
        return np.asarray(delta @ self.w.T)  # (n, 784)

    # -- training: what `training.sgd` asks ---------------------------------------------
    def parameters(self) -> list[tuple[np.ndarray, bool]]:
        """w decays (L2), b does not."""
        return [(self.w, True), (self.b, False)]

    def gradient(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """[nabla_w, nabla_b] summed over the mini-batch x (m, 784), y (m, classes)."""
        delta = self.probabilities(x) - y  # (m, classes)  (BP1)
        return [x.T @ delta, delta.sum(axis=0)]  # (BP4) (784, classes), (BP3) (classes,)

    # -- files -------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        return {"w": self.w, "b": self.b}

    @classmethod
    def shapes(cls, file: NpzReader) -> dict[str, tuple[int, ...]]:
        """w (784, 10 or 11) and b of as many classes, from the headers."""
        if "w" not in file.headers or "b" not in file.headers:
            raise FoolDigitsError(f"{file.path} is a linear model without 'w' and 'b'")
        shape = file.headers["w"][0]
        if len(shape) != 2 or shape[0] != PIXELS or shape[1] not in (DIGITS, DIGITS + 1):
            raise FoolDigitsError(f"{file.path} has 'w' of shape {shape}; a linear model "
                                  "has (784, 10) or (784, 11)")
        return {"w": (PIXELS, shape[1]), "b": (shape[1],)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], texts: dict[str, str]) -> Self:
        model = cls(classes=len(arrays["b"]), rng=np.random.default_rng(0))
        model.w, model.b = arrays["w"], arrays["b"]
        return model
