"""The checks of chapters 4-9 (fooling and fighting back): what they ask and how it is judged.

What this module teaches
------------------------
The same pattern as `checks` (calls, then a judge comparing with `reference`), for the
second half of the story: the dream step, the GA's crossover and mutation, MNIST's
centring, the variogram, FGSM, a PGD step and the interval bound of one layer. Three
of them are one step on an image, `x + direction * size`, then a clip or a projection,
and their usual mistakes are the same few switches (the wrong direction, the gradient
instead of its sign or the other way round, the clip forgotten, the wrong ball):
`_switches` tries each combination of wrong switches as a variant of the reference
and names every switch of the one that matches.

Randomness is judged by what it must do, not by equality with the reference (a correct
`mutate` may draw its numbers in another order): the right share of pixels replaced,
new values spread over [0, 1), the same seed giving the same image, another seed other
pixels. Drawing from the global np.random is caught for every exercise by
`judge.common`.

What it leaves out: running anything (`sandbox`) and the general comparing (`judge`).

Worked example:
    case = fgsm_cases()[0]
    case.judge([Outcome("fgsm", np.array([[0.0, 0.6, 1.0, 1.0, 0.5]]))])   # None: passes
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from fooldigits.exercises import reference
from fooldigits.exercises.answers import Call, Outcome, Seed
from fooldigits.exercises.judge import Case, Verdict, array, as_array, close, compare, parts, same

Switch = tuple[str, Sequence[object]]  # a name and its values, the right one first


def _switches(got: np.ndarray, make: Callable[..., np.ndarray], switches: list[Switch],
              sentences: dict[str, Callable[[object], str]]) -> Verdict:
    """Name every wrong switch of the first variant of `make` that equals `got`."""
    right = tuple(values[0] for _, values in switches)
    for combination in itertools.product(*(values for _, values in switches)):
        if combination != right and close(make(*combination), got):
            return "; ".join(sentences[name](value) for (name, _), value, good
                             in zip(switches, combination, right, strict=True)
                             if value != good)
    return None


def _digits(rng: np.random.Generator, n: int) -> np.ndarray:
    """n images like digits: mostly black, some white, a few grey."""
    x = rng.random((n, 784))
    x[x < 0.6], x[x > 0.9] = 0.0, 1.0
    return x


def _step_case(label: str, name: str, args: tuple[object, ...], want: np.ndarray,
               mistakes: Callable[[np.ndarray], Verdict]) -> Case:
    def judge(outcomes: list[Outcome]) -> Verdict:
        got = array(outcomes[0])
        if isinstance(got, str):
            return got
        problem = compare(want, got)
        if problem and got.shape == want.shape:
            return mistakes(got) or problem
        return problem

    return Case(label, [Call(name, args, label)], judge)


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

        switches: list[Switch] = [("direction", (-1.0, 1.0)), ("sign", (False, True)),
                                  ("clip", (True, False)), ("active", (True, False))]
        return _step_case(label, "dream_step", (x, g, lr, active),
                          reference.dream_step(x, g, lr, active),
                          lambda got: _switches(got, make, switches, said))

    return [case("a hand-made example, lr 0.5", np.array([[0.2, 0.5, 0.9, 0.0]]),
                 np.array([[-1.0, 2.0, -0.5, 0.3]]), 0.5, np.array([True])),
            case("6 noise images, the gradient of a 784-30-10 network, lr 20", x, gradient,
                 20.0, active)]


# -- chapter 5: crossover and mutation -------------------------------------------------------
def crossover_cases() -> list[Case]:
    rng = np.random.default_rng(3)
    a, b = rng.random((4, 784)), rng.random((4, 784))
    mask = rng.random((4, 784)) < 0.5
    images = rng.random((100, 784))

    def replaced(got: np.ndarray) -> np.ndarray:
        return np.asarray(got != images)  # (100, 784): a fresh uniform value is never the old

    def rate(rate: float, low: float, high: float) -> Callable[[list[Outcome]], Verdict]:
        def judge(outcomes: list[Outcome]) -> Verdict:
            got = array(outcomes[0])
            if isinstance(got, str):
                return got
            if got.shape != images.shape:
                return f"expected shape {images.shape}, got shape {got.shape}"
            if not (np.all(np.isfinite(got)) and got.min() >= 0 and got.max() <= 1):
                return "mutated pixels must lie in [0, 1]"
            share = float(np.mean(replaced(got)))
            if not low <= share <= high:
                return f"expected about {rate:.0%} of pixels changed, got {share:.1%}"
            new = got[replaced(got)]
            if len(new) > 100 and len(np.unique(new)) <= 3:
                return (f"every replaced pixel got the same value ({new[0]:g}): draw a fresh "
                        "uniform value for each, rng.random(count)")
            if len(new) > 100 and not (0.45 < new.mean() < 0.55 and 0.25 < new.std() < 0.33):
                return ("the new values are not spread evenly over [0, 1) (mean "
                        f"{new.mean():.2f}, spread {new.std():.2f}; uniform has 0.50 and "
                        "0.29): replace each chosen pixel by rng.random(), do not add to it")
            return None
        return judge

    def judge_seeds(outcomes: list[Outcome]) -> Verdict:
        got = [array(o) for o in outcomes]
        problem = next((g for g in got if isinstance(g, str)), None)
        if problem is not None:
            return problem
        first, again, other = (g for g in got if not isinstance(g, str))
        if first.shape != images.shape or again.shape != first.shape \
                or other.shape != first.shape:
            return f"expected shape {images.shape} each time"
        if not np.array_equal(first, again):
            return ("two generators seeded alike gave different images: draw every random "
                    "number from `rng` (not np.random.default_rng() or a generator of your "
                    "own), so that --seed repeats a run")
        if np.array_equal(first, other):
            return ("two different generators gave the same image: mutate ignores its `rng` "
                    "(a generator made inside mutate, with a fixed seed?)")
        if np.array_equal(replaced(first), replaced(other)):
            return ("the same pixels changed for two different generators: choose WHICH "
                    "pixels with rng too, e.g. rng.random(images.shape) < rate")
        return None

    seeds = [Call("mutate", (images, 0.1, Seed(s)), "seeds") for s in (4, 4, 5)]
    return [same("crossover", (a, b, mask), "crossover with a random mask"),
            same("crossover", (np.ones(3), np.zeros(3), np.array([True, False, True])),
                 "crossover with mask [True, False, True]"),
            *(Case(f"mutate at rate {r}", [Call("mutate", (images, r, Seed(4)),
                                                f"rate {r}")], rate(r, low, high))
              for r, low, high in ((0.0, 0.0, 0.0), (0.1, 0.08, 0.12), (1.0, 0.99, 1.0))),
            Case("mutate: the same seed, the same image; another seed, other pixels",
                 seeds, judge_seeds)]


# -- chapter 6: centring by centre of mass ---------------------------------------------------
def _shifted(images: np.ndarray, rows: np.ndarray, cols: np.ndarray, wrap: bool
             ) -> np.ndarray:
    """Each image moved by (rows[i], cols[i]) pixels, rolled round or filled with 0."""
    out = []
    for image, dr, dc in zip(images.reshape(-1, 28, 28), rows, cols, strict=True):
        moved = np.roll(image, (int(dr), int(dc)), axis=(0, 1)) if wrap else \
            _fill(image, int(dr), int(dc))
        out.append(moved.reshape(784))
    return np.array(out)


def _fill(image: np.ndarray, dr: int, dc: int) -> np.ndarray:
    moved = np.zeros_like(image)
    moved[max(dr, 0):28 + min(dr, 0), max(dc, 0):28 + min(dc, 0)] = \
        image[max(-dr, 0):28 - max(dr, 0), max(-dc, 0):28 - max(dc, 0)]
    return moved


def centre_images() -> np.ndarray:
    """Blobs of grey ink away from the centre; one with a speck in the far corner that a
    wrapping shift would carry round to the other side. No centre of mass lies half-way
    between two pixels, so rounding is never a coin toss."""
    rng = np.random.default_rng(9)
    images: list[np.ndarray] = []
    while len(images) < 5:
        image = np.zeros((28, 28))
        top, left = rng.integers(1, 12, 2)
        image[top:top + 7, left:left + 6] = rng.random((7, 6)) * (rng.random((7, 6)) < 0.7)
        if len(images) == 4:
            image[27, 27] = 0.3  # pushed off the canvas by the shift down and right
        offset = 14 - reference.centre_of_mass(image.reshape(1, 784))[0]
        if np.all(np.abs(offset - np.floor(offset) - 0.5) > 0.05):
            images.append(image.reshape(784))
    return np.array(images)


def centre_cases() -> list[Case]:
    images = centre_images()
    grid = images.reshape(-1, 28, 28)
    mass = reference.centre_of_mass(images)
    ink = grid.sum(axis=(1, 2))
    counted = (grid > 0).sum(axis=(1, 2))
    unweighted = np.stack([(grid > 0).sum(axis=2) @ np.arange(28) / counted,
                           (grid > 0).sum(axis=1) @ np.arange(28) / counted], axis=1)

    def judge_mass(outcomes: list[Outcome]) -> Verdict:
        got = array(outcomes[0])
        if isinstance(got, str):
            return got
        for variant, sentence in (
                (mass[:, ::-1], "you returned (column, row): return (row, column), the "
                                "row first, as in image[row, column]"),
                (unweighted, "you counted every inked pixel once: weight each position by "
                             "its ink (the pixel's value) and divide by the total ink"),
                (mass + 1, "you counted rows and columns from 1: count them from 0, "
                           "np.arange(28)"),
                (mass * ink[:, None] / 784, "you divided by the number of pixels (784): "
                                            "divide by the total ink, image.sum()")):
            if got.shape == variant.shape and close(variant, got):
                return sentence
        return compare(mass, got)

    def make(direction: float, rounding: str, wrap: bool, swap: bool) -> np.ndarray:
        offset = direction * (14 - mass)
        steps = np.rint(offset) if rounding == "round" else np.trunc(offset)
        rows, cols = (steps[:, 1], steps[:, 0]) if swap else (steps[:, 0], steps[:, 1])
        return _shifted(images, rows, cols, wrap)

    said = {
        "direction": lambda _: ("you moved the centre of mass AWAY from the middle: shift by "
                                "14 - centre, not centre - 14"),
        "rounding": lambda _: ("you cut the shift down with int(): round it to the nearest "
                               "pixel, round(14 - centre)"),
        "wrap": lambda _: ("np.roll wraps ink that leaves one edge round to the other side: "
                           "the pixels shifted in must be black (0)"),
        "swap": lambda _: "you shifted the rows by the column offset and the columns by the row "
                          "offset",
    }
    switches: list[Switch] = [("direction", (1.0, -1.0)), ("rounding", ("round", "trunc")),
                              ("wrap", (False, True)), ("swap", (False, True))]
    return [
        Case("centre_of_mass of 5 images", [Call("centre_of_mass", (images,), "mass")],
             judge_mass),
        _step_case("centre the same 5 images", "centre", (images,), reference.centre(images),
                   lambda got: _switches(got, make, switches, said)),
    ]


# -- chapter 7: the variogram ----------------------------------------------------------------
def variogram_cases() -> list[Case]:
    stripes = np.tile([0.0, 1.0], 14)[None, :].repeat(28, axis=0).reshape(1, 784)
    images = np.random.default_rng(5).random((6, 784))

    def case(label: str, x: np.ndarray, lags: int) -> Case:
        want = reference.variogram(x, lags)

        def judge(outcomes: list[Outcome]) -> Verdict:
            pair = parts(outcomes[0], ("g_x", "g_y"))
            if isinstance(pair, str):
                return pair
            got = [as_array(v) for v in pair]
            for name, g in zip(("g_x", "g_y"), got, strict=True):
                if g is None:
                    return f"{name} must be an array of shape {want[0].shape}"
            g_x, g_y = got
            if close(want[0], g_y) and close(want[1], g_x):  # type: ignore[arg-type]
                return ("g_x and g_y are swapped: g_x compares each pixel with the one l "
                        "columns to its right (along a row), g_y with the one l rows below")
            for name, e, g in zip(("g_x", "g_y"), want, got, strict=True):
                problem = compare(e, g)  # type: ignore[arg-type]
                if problem:
                    return f"{name}: {problem}"
            return None

        return Case(label, [Call("variogram", (x, lags), label)], judge)

    return [case("vertical stripes, 3 lags", stripes, 3),
            case("6 random images, 4 lags", images, 4)]


# -- chapter 8: FGSM and a PGD step ----------------------------------------------------------
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

        switches: list[Switch] = [("direction", (1.0, -1.0)), ("sign", (True, False)),
                                  ("clip", (True, False))]
        return _step_case(label, "fgsm", (x, g, epsilon), reference.fgsm(x, g, epsilon),
                          lambda got: _switches(got, make, switches, _step_words(got)))

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

        switches: list[Switch] = [("ball", (True, False)), ("direction", (1.0, -1.0)),
                                  ("sign", (True, False)), ("clip", (True, False))]
        return _step_case(label, "pgd_step", (x_adv, x, g, alpha, epsilon),
                          reference.pgd_step(x_adv, x, g, alpha, epsilon),
                          lambda got: _switches(got, make, switches,
                                                {**_step_words(got), **words}))

    first = reference.input_gradient(net, x, labels)
    return [case("the first step, from x itself (alpha 0.04, epsilon 0.1)", x.copy(), first),
            case("a fifth step, many pixels already on the edge of the ball", x_adv,
                 gradient)]


# -- chapter 9: the interval bound of one layer ----------------------------------------------
def interval_cases() -> list[Case]:
    rng = np.random.default_rng(10)
    w, b = rng.normal(0, 1, (6, 4)), rng.normal(0, 1, 4)  # not square: x @ w, not w @ x

    def case(label: str, lo: np.ndarray, hi: np.ndarray) -> Case:
        z_lo, z_hi = reference.interval_bound(w, b, lo, hi)

        def judge(outcomes: list[Outcome]) -> Verdict:
            pair = parts(outcomes[0], ("z_lo", "z_hi"))
            if isinstance(pair, str):
                return pair
            got_lo, got_hi = (as_array(v) for v in pair)
            if got_lo is None or got_hi is None:
                return f"z_lo and z_hi must be arrays of shape {z_lo.shape}"
            if got_lo.shape != z_lo.shape or got_hi.shape != z_hi.shape:
                return (f"expected two arrays of shape {z_lo.shape} (one number per neuron), "
                        f"got {got_lo.shape} and {got_hi.shape}: w is (n_in, n_out), so "
                        "z = x @ w + b")
            for (v_lo, v_hi), sentence in (
                    ((z_hi, z_lo), "you returned (z_hi, z_lo): return the low end first"),
                    ((lo @ w + b, hi @ w + b),
                     "you multiplied the low inputs by every weight: where a weight is "
                     "negative the LOW input gives the HIGH end, so split w into "
                     "np.maximum(w, 0) and np.minimum(w, 0)"),
                    ((z_lo - b, z_hi - b), "you forgot the bias b")):
                if close(v_lo, got_lo) and close(v_hi, got_hi):
                    return sentence
            problem = compare(z_lo, got_lo)
            return f"z_lo: {problem}" if problem else (
                f"z_hi: {compare(z_hi, got_hi)}" if compare(z_hi, got_hi) else None)

        return Case(label, [Call("interval_bound", (w, b, lo, hi), label)], judge)

    return [case("pixels in [0, 1], 6 inputs, 4 neurons", np.zeros(6), np.ones(6)),
            case("inputs in a box around zero", -rng.random(6), rng.random(6))]
