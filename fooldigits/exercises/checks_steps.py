"""The checks of the three steps on an image: the dream (chapter 4), FGSM and PGD (8).

What this module teaches
------------------------
The same pattern as `checks` (calls, then a judge comparing with `reference`) for three
exercises that are each one step on an image, `x + direction * size * (gradient or its
sign)`, then a clip or a projection. Their usual mistakes are the same few switches --
the wrong direction, the gradient instead of its sign or the other way round, the clip
forgotten, no projection, finished images moved -- so each judge lists its switches and
`judge.switches` makes every combination of wrong ones as a variant of the reference
and names each wrong switch of the one that matches: "you forgot the clip to [0, 1];
you stepped down the cost". The gradients are real: dC/dx of a fixed 784-30-10
network made in the checker (`reference.network`).

What it leaves out: running anything (`sandbox`) and the general comparing (`judge`).

Worked example:
    case = fgsm_cases()[0]
    case.judge([Outcome("fgsm", np.array([[0.0, 0.6, 1.0, 1.0, 0.5]]))])   # None: passes
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fooldigits.exercises import reference
from fooldigits.exercises.judge import Case, Switch, named, switches


def _digits(rng: np.random.Generator, n: int) -> np.ndarray:
    """n images like digits: mostly black, some white, a few grey."""
    x = rng.random((n, 784))
    x[x < 0.6], x[x > 0.9] = 0.0, 1.0
    return x


def _outside(got: np.ndarray) -> int:
    return int(np.sum((got < 0) | (got > 1)))


# -- chapter 4: the dream step ---------------------------------------------------------------
def dream_cases() -> list[Case]:
    rng = np.random.default_rng(7)
    net = reference.network([784, 30, 10])
    x = rng.random((6, 784))  # noise, where a dream starts
    gradient = reference.input_gradient(net, x, np.arange(6))  # (6, 784)
    active = np.array([True, True, False, True, False, True])
    said = {
        "direction": lambda _: ("you stepped UP the cost (x + lr * gradient): a dream makes "
                                "the wanted digit more likely, so it descends, "
                                "x - lr * gradient"),
        "sign": lambda _: ("you used the sign of the gradient (FGSM's step): the dream "
                           "follows the gradient itself, scaled by lr"),
        "clip": lambda _: "you forgot the clip to [0, 1]: pixels must stay pixels",
        "active": lambda _: ("you moved every image, finished ones too: rows where active is "
                             "False must come back unchanged"),
    }

    def case(label: str, x: np.ndarray, g: np.ndarray, lr: float, active: np.ndarray
             ) -> Case:
        def make(direction: float, sign: bool, clip: bool, respect: bool) -> np.ndarray:
            step = x + direction * lr * (np.sign(g) if sign else g)
            step = np.clip(step, 0, 1) if clip else step
            return np.where(active[:, None] | (not respect), step, x)

        options: list[Switch] = [("direction", (-1.0, 1.0)), ("sign", (False, True)),
                                  ("clip", (True, False)), ("active", (True, False))]
        return named(label, "dream_step", (x, g, lr, active),
                          reference.dream_step(x, g, lr, active),
                          lambda got: switches(got, make, options, said))

    return [case("a hand-made example, lr 0.5", np.array([[0.2, 0.5, 0.9, 0.0]]),
                 np.array([[-1.0, 2.0, -0.5, 0.3]]), 0.5, np.array([True])),
            case("6 noise images, the gradient of a 784-30-10 network, lr 20", x, gradient,
                 20.0, active)]


# -- chapter 9: FGSM and a PGD step ----------------------------------------------------------
def _attack_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """8 digit-like images, their labels and dC/dx of a fixed 784-30-10 network."""
    rng = np.random.default_rng(6)
    x = _digits(rng, 8).astype(np.float32)
    labels = rng.integers(0, 10, 8)
    gradient = reference.input_gradient(reference.network([784, 30, 10]), x, labels)
    return x, labels, gradient


def _step_words(got: np.ndarray) -> dict[str, Callable[[object], str]]:
    return {
        "clip": lambda _: (f"you forgot the clip to [0, 1] ({_outside(got)} of your pixels "
                           "lie outside it)"),
        "sign": lambda _: ("you used the gradient itself instead of its sign (FGSM moves "
                           "every pixel by exactly epsilon)"),
        "direction": lambda _: ("you stepped down the cost (x - epsilon * sign); to fool "
                                "the network, step up it: x + epsilon * sign(dC/dx)"),
    }


def fgsm_cases() -> list[Case]:
    x, _, gradient = _attack_data()

    def case(label: str, x: np.ndarray, g: np.ndarray, epsilon: float) -> Case:
        x64, g64 = x.astype(np.float64), g.astype(np.float64)

        def make(direction: float, sign: bool, clip: bool) -> np.ndarray:
            step = x64 + direction * epsilon * (np.sign(g64) if sign else g64)
            return np.clip(step, 0, 1) if clip else step

        options: list[Switch] = [("direction", (1.0, -1.0)), ("sign", (True, False)),
                                  ("clip", (True, False))]
        return named(label, "fgsm", (x, g, epsilon), reference.fgsm(x, g, epsilon),
                          lambda got: switches(got, make, options, _step_words(got)))

    return [case("a hand-made example, epsilon 0.1", np.array([[0.0, 0.5, 1.0, 0.95, 0.5]]),
                 np.array([[-1.0, 2.0, 3.0, 0.5, 0.0]]), 0.1),
            case("8 images, the gradient of a 784-30-10 network, epsilon 0.1", x, gradient,
                 0.1),
            case("the same at epsilon 0.25", x, gradient, 0.25)]


def pgd_cases() -> list[Case]:
    x, labels, _ = _attack_data()
    x = x.astype(np.float64)
    net = reference.network([784, 30, 10])
    epsilon, alpha = 0.1, 0.04
    x_adv = x.copy()
    for _ in range(4):  # four steps in: many pixels sit on the edge of the ball
        g = reference.input_gradient(net, x_adv, labels)
        x_adv = reference.pgd_step(x_adv, x, g, alpha, epsilon)
    gradient = reference.input_gradient(net, x_adv, labels)
    words = {
        "ball": lambda _: ("you did not project back into the ball around the ORIGINAL x "
                           "(around the current x_adv the ball moves with every step, and "
                           "one step never leaves it): clip into [max(x - epsilon, 0), "
                           "min(x + epsilon, 1)], or after a few steps the change is larger "
                           "than epsilon"),
    }

    def case(label: str, x_adv: np.ndarray, g: np.ndarray) -> Case:
        def make(ball: bool, direction: float, sign: bool, clip: bool) -> np.ndarray:
            step = x_adv + direction * alpha * (np.sign(g) if sign else g)
            step = np.clip(step, x - epsilon, x + epsilon) if ball else step
            return np.clip(step, 0, 1) if clip else step

        options: list[Switch] = [("ball", (True, False)), ("direction", (1.0, -1.0)),
                                  ("sign", (True, False)), ("clip", (True, False))]
        return named(label, "pgd_step", (x_adv, x, g, alpha, epsilon),
                          reference.pgd_step(x_adv, x, g, alpha, epsilon),
                          lambda got: switches(got, make, options,
                                                {**_step_words(got), **words}))

    first = reference.input_gradient(net, x, labels)
    return [case("the first step, from x itself (alpha 0.04, epsilon 0.1)", x.copy(), first),
            case("a fifth step, many pixels already on the edge of the ball", x_adv,
                 gradient)]
