"""The checks of chapters 5-7 and 9: breeding, centring, neighbours, and a bound.

What this module teaches
------------------------
The same pattern as `checks` (calls, then a judge comparing with `reference`), for the
GA's crossover and mutation (chapter 5), MNIST's centring (6), the variogram (7) and the
interval bound of one layer (9); the three steps on an image (the dream, FGSM, PGD)
are in `checks_steps`.

Randomness is judged by what it must do, not by equality with the reference (a correct
`mutate` may draw its numbers in another order): the right share of pixels replaced,
new values spread over [0, 1), the same seed giving the same image, another seed other
pixels. Drawing from the global np.random is caught for every exercise by
`judge.common`.

What it leaves out: running anything (`sandbox`) and the general comparing (`judge`).

Worked example:
    case = crossover_cases()[1]             # "crossover with mask [True, False, True]"
    case.judge([Outcome("crossover", np.array([1.0, 0.0, 1.0]))])   # None: passes
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fooldigits.exercises import reference
from fooldigits.exercises.answers import Call, Outcome, Seed
from fooldigits.exercises.judge import (
    Case,
    Switch,
    Verdict,
    array,
    as_array,
    close,
    compare,
    named,
    parts,
    same,
    switches,
)


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
    options: list[Switch] = [("direction", (1.0, -1.0)), ("rounding", ("round", "trunc")),
                              ("wrap", (False, True)), ("swap", (False, True))]
    return [
        Case("centre_of_mass of 5 images", [Call("centre_of_mass", (images,), "mass")],
             judge_mass),
        named("centre the same 5 images", "centre", (images,), reference.centre(images),
                   lambda got: switches(got, make, options, said)),
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
            g_x, g_y = (as_array(v) for v in pair)
            if g_x is None or g_y is None:
                name = "g_x" if g_x is None else "g_y"
                return f"{name} must be an array of shape {want[0].shape}"
            if close(want[0], g_y) and close(want[1], g_x):
                return ("g_x and g_y are swapped: g_x compares each pixel with the one l "
                        "columns to its right (along a row), g_y with the one l rows below")
            for name, e, g in zip(("g_x", "g_y"), want, (g_x, g_y), strict=True):
                problem = compare(e, g)
                if problem:
                    return f"{name}: {problem}"
            return None

        return Case(label, [Call("variogram", (x, lags), label)], judge)

    return [case("vertical stripes, 3 lags", stripes, 3),
            case("6 random images, 4 lags", images, 4)]


# -- chapter 11: the interval bound of one layer ---------------------------------------------
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
