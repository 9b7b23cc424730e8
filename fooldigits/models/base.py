"""What every chapter may ask of a model: the `Classifier` protocol.

What this module teaches
------------------------
The story asks one question of many models: "is this model fooled too?". A chapter may
therefore ask a model only what every model can answer:

    probabilities(x)           (n, 784) images -> (n, classes) confidences, rows sum to 1
    input_gradient(x, t)       (n, 784): d(-ln p_t(x))/dx, how to change each image to make
                               its target class t more likely (descend it) or less (climb it)
    classes, class_names()     10 digits, or 11 with class 10 "not a digit"
    describe()                 one line: "dense 784-100-10, sigmoid hidden, softmax out"
    save(path)                 an .npz file (never a pickle) whose `kind` says which class
                               reads it back: `models.load_model(path)`

and, from `probabilities` alone, `predict`, `accuracy`, `score` and `confusion_matrix`,
written once here. No chapter reads a model's weights: the dense network, softmax
regression and the others differ only inside their own modules.

A kind that SGD can train (`lessons.training.sgd`) also offers `parameters()`, every array
it updates with a flag for L2 weight decay, and `gradient(x, y)`, the cost gradient of a
mini-batch, one array per parameter -- backpropagation, written by each kind for itself.

Saving and loading are split the same way. `save` writes `kind`, the kind's `arrays()`
and the metadata; `models.load_model` does the careful part for every kind at once
(regular file, bounded size, no pickles, finite float32 numbers) and asks the kind only
two questions: `shapes(file)`, which arrays to read and their shapes, decided from the
file's headers before any data is read (so a hostile file cannot make us allocate
gigabytes), and `from_arrays`, to build the model from the checked arrays.

Worked example: for a `Linear` model (softmax regression) `arrays()` is
{"w": (784, 10), "b": (10,)}; its file holds those two plus `kind` = "linear".

What it leaves out: anything a single chapter needs that not every model has. Such a
chapter asks for it by type (the confidence ceiling needs a dense network and says so in
one sentence for any other kind).
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import DIGITS, class_name
from fooldigits.core.reading import NpzReader
from fooldigits.core.writing import atomic_write

PIXELS = 784
MAX_PARAMETERS = 20_000_000  # weights and biases (80 MB as float32); the shipped: 79,510
MAX_MAGNITUDE = 1e6  # the largest number a model file may hold; trained weights stay far smaller


class Classifier(abc.ABC):
    """A model of digits: see the module's docstring for what each method promises."""

    kind: ClassVar[str]  # what `save` stores and `load_model` dispatches on
    classes: int = DIGITS
    meta: dict[str, str]

    # -- what each kind writes ---------------------------------------------------------
    @abc.abstractmethod
    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Confidence per class for each image row: (n, 784) -> (n, classes)."""

    @abc.abstractmethod
    def input_gradient(self, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """d(-ln p_target)/dx for each row: (n, 784)."""

    @abc.abstractmethod
    def describe(self) -> str:
        """One line naming the kind and its shape."""

    @abc.abstractmethod
    def arrays(self) -> dict[str, np.ndarray]:
        """What `save` writes besides `kind` and metadata: numbers, and 0-d texts."""

    @classmethod
    @abc.abstractmethod
    def shapes(cls, file: NpzReader) -> dict[str, tuple[int, ...]]:
        """The numeric arrays to read and the shape each must have, from `file.headers`
        (small arrays may be read with `file.read`); a FoolDigitsError if they are wrong."""

    @classmethod
    @abc.abstractmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], texts: dict[str, str]) -> Self:
        """The model from checked, finite float32 arrays and its short text entries."""

    # -- what every kind gets from `probabilities` -------------------------------------
    def class_names(self) -> list[str]:
        """"0".."9", and "not a digit" for an eleventh class."""
        return [class_name(i) for i in range(self.classes)]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The most probable class of each row: (n,)."""
        return np.asarray(np.argmax(self.probabilities(np.atleast_2d(x)), axis=1))

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Share of rows whose predicted class equals the label, 0..1."""
        return float(np.mean(self.predict(x) == labels)) if len(labels) else 0.0

    def score(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        """(accuracy, mean confidence of the winning class): right, and how sure."""
        p = self.probabilities(x)  # (n, classes)
        return float(np.mean(p.argmax(axis=1) == labels)), float(p.max(axis=1).mean())

    def confusion_matrix(self, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """(classes, classes) counts: row = true class, column = predicted class."""
        confusion = np.zeros((self.classes, self.classes), dtype=np.int64)
        np.add.at(confusion, (np.asarray(labels, dtype=np.intp), self.predict(x)), 1)
        return confusion

    def save(self, path: Path) -> None:
        """Write an .npz (no pickle) atomically: `kind`, `arrays()` and `meta_*` texts."""
        arrays: dict[str, np.ndarray] = {"kind": np.array(self.kind), **self.arrays()}
        for key, value in self.meta.items():
            arrays[f"meta_{key}"] = np.array(value)
        atomic_write(Path(path), lambda f: np.savez(f, allow_pickle=False, **arrays))

    def copy(self) -> Self:
        """An independent copy: the arrays are copied, not shared."""
        numbers = {k: np.array(v, copy=True) for k, v in self.arrays().items()
                   if v.dtype.kind != "U"}
        texts = {k: str(v[()]) for k, v in self.arrays().items() if v.dtype.kind == "U"}
        twin = type(self).from_arrays(numbers, texts)
        twin.meta = dict(self.meta)
        return twin


class Trainable(Classifier):
    """A classifier that `lessons.training.sgd` can train."""

    @abc.abstractmethod
    def parameters(self) -> list[tuple[np.ndarray, bool]]:
        """Every array SGD updates in place, each with True where weight decay applies."""

    @abc.abstractmethod
    def gradient(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """The cost gradient summed over the mini-batch x (m, 784) with desired outputs
        y (m, classes): one array per entry of `parameters()`, in the same order."""

    @abc.abstractmethod
    def fresh(self, classes: int, rng: np.random.Generator) -> Self:
        """An untrained model of the same kind and shape with `classes` outputs (retraining
        with an eleventh class, "not a digit", starts from one)."""


def one_hot(labels: np.ndarray, dtype: type = np.float32, classes: int = DIGITS) -> np.ndarray:
    """Classes (n,) -> desired outputs (n, classes): labels [2, 0] give rows e_2, e_0."""
    return np.eye(classes, dtype=dtype)[np.asarray(labels, dtype=np.intp)]


def require_classes(model: Classifier, classes: int, what: str = "this command") -> None:
    """Raise unless `model` has `classes` outputs (10: the digits; 11: with "not a digit")."""
    if model.classes != classes:
        kind = {10: "10 (one per digit)", 11: "11 (the digits and 'not a digit')"}
        raise FoolDigitsError(f"{what} needs a model with {kind.get(classes, classes)} "
                              f"classes, but this one has {model.classes}")


def trainable(model: Classifier, what: str) -> Trainable:
    """`model` as a `Trainable`, or one sentence saying that `what` needs one."""
    if not isinstance(model, Trainable):
        raise FoolDigitsError(f"{what} needs a model that SGD can train; {model.describe()} "
                              "is not one")
    return model


def check_parameters(path: Path, shapes: dict[str, tuple[int, ...]]) -> None:
    """Refuse a file whose arrays would hold more than `MAX_PARAMETERS` numbers."""
    count = sum(int(np.prod(shape, dtype=np.int64)) for shape in shapes.values())
    if count > MAX_PARAMETERS:
        raise FoolDigitsError(f"{path} holds {count:,} weights and biases; fooldigits loads "
                              f"at most {MAX_PARAMETERS:,}")


