"""What a neuron computes and what a cost measures: each choice beside its derivative.

What this module teaches
------------------------
Nielsen's `network2.py` writes each cost as a small class that keeps the function and
the derivative backpropagation needs side by side (`CrossEntropyCost.fn` and `.delta`).
This module does the same for every choice a `Network` makes:

    hidden neurons   `Sigmoid`, `ReLU`       fn(z) -> a;  prime(a) -> sigma'(z);
                                             delta(back, a) -> back * sigma'(z)  (BP2)
    output layer     `Softmax`, `Sigmoid`    fn(z) -> a_L
    cost             `LogLikelihoodCost`     softmax out (Nielsen's (80))
                     `CrossEntropyCost`      sigmoid out (Nielsen's (63))
                     `QuadraticCost`         sigmoid out (chapter 1)
                                             fn(a, y) -> C per row;  delta(a, y) -> delta_L (BP1)

A network picks its three classes once, by name, when it is made (`choose`), and then
never asks "which activation was it?" again: `feedforward` calls `neuron.fn`, BP1 calls
`cost.delta`, BP2 calls `neuron.delta`.

Two details differ from the book. The slope is written from the activation a that the
forward pass kept, not from z: sigma'(z) = a (1 - a), relu'(z) = [a > 0]. And every `fn`
and `delta` takes an optional `out`: `Sigmoid.fn(z)` returns a new array,
`Sigmoid.fn(z, out=z)` overwrites z with the same numbers. Training does that once per
layer per mini-batch (3,126 times an epoch with the shipped recipe), where one array
fewer is time saved.

Worked example: for z = [0, 2], `Sigmoid.fn(z)` is a = [0.5, 0.881], `Sigmoid.prime(a)`
is [0.25, 0.105], and `Sigmoid.delta` turns back = [1, 1] into [0.25, 0.105] (BP2).
`Softmax.fn` of the row [[0, 2]] is [[0.119, 0.881]]; against y = [[0, 1]],
`LogLikelihoodCost.fn` is [-ln 0.881] = [0.127] and its delta_L is a - y =
[[0.119, -0.119]].

What it leaves out: tanh neurons, leaky ReLUs and other costs; a new one is a class with
the same methods and a name in `NEURONS`, `OUTPUTS` or `COSTS`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from fooldigits import FoolDigitsError

EPS = 1e-12  # inside log(): log(0) would be -inf


class Layer(Protocol):
    """What a layer of neurons offers: a = fn(z), elementwise or row by row."""

    @staticmethod
    def fn(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray: ...


class Neuron(Layer, Protocol):
    """What a hidden layer also offers: its slope sigma'(z) from its output a, and BP2."""

    @staticmethod
    def prime(a: np.ndarray) -> np.ndarray: ...

    @staticmethod
    def delta(back: np.ndarray, a: np.ndarray, out: np.ndarray | None = None
              ) -> np.ndarray: ...


class Cost(Protocol):
    """What a cost offers: its value per row, and the error delta_L of BP1."""

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray) -> np.ndarray: ...

    @staticmethod
    def delta(a: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray: ...


class Sigmoid:
    """sigma(z) = 1 / (1 + e^-z), and its slope a (1 - a)."""

    @staticmethod
    def fn(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """sigma(z) written as (1 + tanh(z / 2)) / 2, so that large |z| never overflows."""
        a: np.ndarray = np.multiply(z, 0.5, out=out)  # each step writes into `out`
        a = np.tanh(a, out=out)  # when it is given, into a new array when not
        a = np.add(a, 1.0, out=out)
        a = np.multiply(a, 0.5, out=out)
        return a

    @staticmethod
    def prime(a: np.ndarray) -> np.ndarray:
        """sigma'(z) = sigma(z) (1 - sigma(z)), from a = sigma(z)."""
        slope: np.ndarray = a * (1 - a)
        return slope

    @staticmethod
    def delta(back: np.ndarray, a: np.ndarray, out: np.ndarray | None = None
              ) -> np.ndarray:
        """(BP2) delta_l = back * a (1 - a), where back = delta_{l+1} @ w_{l+1}.T."""
        d: np.ndarray = np.multiply(back, a, out=out)
        d = np.multiply(d, 1 - a, out=out)
        return d


class ReLU:
    """max(z, 0), and its slope: 1 where the neuron is on, 0 where it is off."""

    @staticmethod
    def fn(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        a: np.ndarray = np.maximum(z, 0, out=out)
        return a

    @staticmethod
    def prime(a: np.ndarray) -> np.ndarray:
        return a > 0

    @staticmethod
    def delta(back: np.ndarray, a: np.ndarray, out: np.ndarray | None = None
              ) -> np.ndarray:
        """(BP2) delta_l = back where the neuron is on, 0 where it is off."""
        d: np.ndarray = np.multiply(back, a > 0, out=out)
        return d


class Softmax:
    """Rows of e^z / sum e^z: outputs that are positive and sum to 1."""

    @staticmethod
    def fn(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Subtracting each row's max first changes nothing but overflow."""
        e: np.ndarray = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
        e = np.exp(e, out=out)
        e = np.divide(e, e.sum(axis=1, keepdims=True), out=out)
        return e


class LogLikelihoodCost:
    """C = -ln a_y, the log-likelihood of the right answer (Nielsen's (80)): the
    cross-entropy of a softmax output."""

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(-np.sum(y * np.log(a + EPS), axis=1))

    @staticmethod
    def delta(a: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(BP1) delta_L = a - y: the softmax's slope cancels the log's."""
        d: np.ndarray = np.subtract(a, y, out=out)
        return d


class CrossEntropyCost:
    """C = -sum [y ln a + (1 - y) ln(1 - a)] over sigmoid outputs (Nielsen's (63))."""

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(-np.sum(y * np.log(a + EPS) + (1 - y) * np.log(1 - a + EPS), axis=1))

    @staticmethod
    def delta(a: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(BP1) delta_L = a - y: no sigma'(z_L) in it, which is why this cost learns fast."""
        d: np.ndarray = np.subtract(a, y, out=out)
        return d


class QuadraticCost:
    """C = |a - y|^2 / 2, the cost of chapter 1 (with sigmoid outputs)."""

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(0.5 * np.sum((a - y) ** 2, axis=1))

    @staticmethod
    def delta(a: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(BP1) delta_L = (a - y) sigma'(z_L): slow to learn where a saturated."""
        d: np.ndarray = np.subtract(a, y, out=out)
        d = np.multiply(d, a, out=out)
        d = np.multiply(d, 1 - a, out=out)
        return d


NEURONS: dict[str, type[Neuron]] = {"sigmoid": Sigmoid, "relu": ReLU}
OUTPUTS: dict[str, type[Layer]] = {"softmax": Softmax, "sigmoid": Sigmoid}
COSTS: dict[tuple[str, str], type[Cost]] = {  # (cost, output) -> the class
    ("cross-entropy", "softmax"): LogLikelihoodCost,
    ("cross-entropy", "sigmoid"): CrossEntropyCost,
    ("quadratic", "sigmoid"): QuadraticCost,
}


def choose(activation: str, output: str, cost: str
           ) -> tuple[type[Neuron], type[Layer], type[Cost]]:
    """The classes for the names a model stores: hidden neurons, output layer, cost."""
    names = {c for c, _ in COSTS}
    if activation not in NEURONS or output not in OUTPUTS or cost not in names:
        raise FoolDigitsError(
            f"unknown choice: activation {activation!r} (one of {tuple(NEURONS)}), "
            f"output {output!r} (one of {tuple(OUTPUTS)}), cost {cost!r} (one of "
            f"{tuple(sorted(names))})")
    if (cost, output) not in COSTS:
        raise FoolDigitsError(f"the {cost} cost goes with a sigmoid output layer")
    return NEURONS[activation], OUTPUTS[output], COSTS[cost, output]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^-z): `Sigmoid.fn`, as a function."""
    return Sigmoid.fn(z)


def softmax(z: np.ndarray) -> np.ndarray:
    """Rows of e^z / sum e^z: `Softmax.fn`, as a function."""
    return Softmax.fn(z)
