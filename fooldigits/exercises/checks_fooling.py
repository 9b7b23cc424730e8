"""The checks of chapters 4-9 (fooling and fighting back): what they ask and how it is judged.

What this module teaches
------------------------
The same pattern as `checks` (calls, then a judge comparing with `reference`), for the
second half of the story: the GA's crossover and mutation, the variogram and FGSM.
FGSM is one step on an image, `x + direction * size`, then a clip, and its usual
mistakes are a few switches (the wrong direction, the gradient instead of its sign,
the clip forgotten): `_switches` tries each combination of wrong switches as a variant
of the reference and names every switch of the one that matches.

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


# -- chapter 8: FGSM ----------------------------------------------------------
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
