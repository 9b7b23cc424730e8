"""What each exercise asks of the student's functions, and how the answers are judged.

What this module teaches
------------------------
How to test numerical code against a trusted reference, and how to turn a wrong number
into advice. Every exercise is a list of `Case`s: the calls to make on the student's
functions (run in a child process by `sandbox`) and a judge that compares what came back
with `reference`, computed here in the parent. A judge returns None for a pass or one
sentence for a failure: which value, expected against got, and where a wrong answer
matches a known mistake (averaging instead of summing, g_x and g_y swapped, the FGSM
step without its clip), it names the mistake.

What it leaves out: running anything (`sandbox`) and the general comparing (`judge`).

Worked example:
    case = sigmoid_cases()[0]               # "sigmoid of small numbers"
    case.calls                              # [Call("sigmoid", (z,), ...)]
    case.judge([Outcome("sigmoid", 1 / (1 + np.exp(-z)))])   # None: it passes
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from fooldigits.exercises import reference
from fooldigits.exercises.judge import (
    Case,
    Verdict,
    array,
    as_array,
    close,
    compare,
    kind,
    parts,
    same,
)
from fooldigits.exercises.sandbox import Call, Outcome, Returned, Seed, Seq
from fooldigits.models.network import Network

# -- sigmoid -------------------------------------------------------------------------------
OVERFLOW = ("sigmoid overflows: e^-z is too large for a float at z = -1000 (NumPy warns "
            "'overflow encountered in exp'). Use a form that never exponentiates a large "
            "positive number, such as 0.5 * (1 + np.tanh(z / 2)); np.where(z >= 0, ...) "
            "does not help, since NumPy computes both branches everywhere")


def sigmoid_cases() -> list[Case]:
    z = np.random.default_rng(0).normal(0, 3, (4, 5))
    h = 1e-5
    extremes = np.array([-1000.0, 0.0, 1000.0])

    def no_overflow(outcomes: list[Outcome]) -> Verdict:
        if outcomes[0].error in ("FloatingPointError", "OverflowError"):
            return OVERFLOW
        got = array(outcomes[0])
        return got if isinstance(got, str) else compare(reference.sigmoid(extremes), got)

    def prime_against(slope: Callable[[list[Outcome]], np.ndarray | str]
                      ) -> Callable[[list[Outcome]], Verdict]:
        def judge(outcomes: list[Outcome]) -> Verdict:
            got, want = array(outcomes[0]), slope(outcomes)
            if isinstance(got, str) or isinstance(want, str):
                return got if isinstance(got, str) else str(want)
            return compare(want, got)
        return judge

    def slope_of_yours(outcomes: list[Outcome]) -> np.ndarray | str:
        high, low = array(outcomes[1]), array(outcomes[2])
        if isinstance(high, str) or isinstance(low, str):
            return high if isinstance(high, str) else str(low)
        return np.asarray((high - low) / (2 * h))

    true_slope = (reference.sigmoid(z + h) - reference.sigmoid(z - h)) / (2 * h)
    prime = Call("sigmoid_prime", (z,), "sigmoid_prime")
    return [
        same("sigmoid", (z,), "sigmoid of small numbers"),
        Case("sigmoid of z = -1000, 0 and 1000 (no overflow)",
             [Call("sigmoid", (extremes,), "no overflow", strict=True)], no_overflow),
        Case("sigmoid_prime against finite differences of the true sigmoid", [prime],
             prime_against(lambda _: true_slope)),
        Case("sigmoid_prime against finite differences of your sigmoid",
             [prime, Call("sigmoid", (z + h,), "slope"), Call("sigmoid", (z - h,), "slope")],
             prime_against(slope_of_yours)),
    ]


# -- backprop ------------------------------------------------------------------------------
def _layers(value: Returned, what: str) -> list[np.ndarray] | str:
    items = value.items if isinstance(value, Seq) else list(value) \
        if isinstance(value, np.ndarray) and value.ndim > 1 else None
    arrays = [as_array(v) for v in items] if items is not None else []
    if items is None or any(a is None for a in arrays):
        return f"{what} must be a list of arrays, one per layer; got {kind(value)}"
    return arrays  # type: ignore[return-value]


def _backprop_case(label: str, sizes: list[int], m: int) -> Case:
    rng = np.random.default_rng(len(sizes) + m)
    w = [rng.normal(0, 1, (a, b)) for a, b in itertools.pairwise(sizes)]
    b = [rng.normal(0, 1, n) for n in sizes[1:]]
    x, y = rng.random((m, sizes[0])), np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    want_b, want_w = reference.backprop(w, b, x, y)
    want, n = [*want_b, *want_w], len(want_w)

    def judge(outcomes: list[Outcome]) -> Verdict:
        pair = parts(outcomes[0], ("nabla_b", "nabla_w"))
        if isinstance(pair, str):
            return pair
        got_b, got_w = _layers(pair[0], "nabla_b"), _layers(pair[1], "nabla_w")
        if isinstance(got_b, str) or isinstance(got_w, str):
            return got_b if isinstance(got_b, str) else str(got_w)
        if len(got_b) != n or len(got_w) != n:
            return f"expected {n} layers of gradients, got {len(got_b)} and {len(got_w)}"
        got = [*got_b, *got_w]
        if all(g.shape == e.shape for g, e in zip(got, want[n:] + want[:n], strict=True)) \
                and any(g.shape != e.shape for g, e in zip(got, want, strict=True)):
            return "nabla_b and nabla_w are swapped: return (nabla_b, nabla_w)"
        for scale, word in ((1 / m, "divided"), (m, "multiplied")):
            if m > 1 and all(close(e * scale, g) for e, g in zip(want, got, strict=True)):
                return (f"your gradients are the reference {word} by the batch size m = {m}:"
                        " sum over the examples of the mini-batch, do not average (the SGD "
                        "step divides by m later)")
        for i, (e, g) in enumerate(zip(want, got, strict=True)):
            problem = compare(e, g)
            if problem:
                part = f"nabla_b[{i}]" if i < n else f"nabla_w[{i - n}]"
                hint = " (transposed? w[l] is (n_in, n_out) here)" \
                    if e.ndim == 2 and g.shape == e.T.shape != e.shape else ""
                return f"{part}: {problem}{hint}"
        return None

    return Case(label, [Call("backprop", (w, b, x, y), label)], judge)


def backprop_cases() -> list[Case]:
    return [_backprop_case("sizes [4, 3, 2], 5 examples", [4, 3, 2], 5),
            _backprop_case("sizes [6, 5, 4, 3], 7 examples", [6, 5, 4, 3], 7),
            _backprop_case("one example", [5, 4, 3], 1)]


# -- covariance ----------------------------------------------------------------------------
def covariance_cases() -> list[Case]:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 6)) @ np.diag([5.0, 4, 3, 2, 1, 0.5]) + 3.0
    top = reference.principal_components(X, 3)
    smallest = reference.principal_components(X, 6)[::-1][:3]

    def covariance(label: str, X: np.ndarray) -> Case:
        want, n = reference.covariance(X), len(X)

        def judge(outcomes: list[Outcome]) -> Verdict:
            got = array(outcomes[0])
            if isinstance(got, str):
                return got
            problem = compare(want, got)
            if problem and close(want * (n - 1) / n, got):
                return "you divided by n; the sample covariance divides by n - 1"
            if problem and close(X.T @ X / (n - 1), got):
                return "centre each column on its mean before multiplying"
            return problem

        return Case(label, [Call("covariance", (X,), label)], judge)

    def judge_components(outcomes: list[Outcome]) -> Verdict:
        got = array(outcomes[0])
        if isinstance(got, str):
            return got
        problem = compare(top, got, 1e-3)
        if problem and got.shape == top.T.shape:
            return "return the components as ROWS, shape (k, d): transpose your answer"
        if problem and got.shape == top.shape and close(np.abs(top), np.abs(got), 1e-3):
            return "flip the sign of each component so that its largest |entry| is positive"
        if problem and close(smallest, got, 1e-3):
            return ("these belong to the smallest eigenvalues: np.linalg.eigh sorts them "
                    "in ascending order, so take the last k, largest first")
        return problem

    return [
        covariance("covariance of a small example", np.array([[0.0, 0.0], [2.0, 2.0]])),
        covariance("covariance of 300 x 6 random data", X),
        Case("the 3 leading principal components",
             [Call("principal_components", (X, 3), "3 components")], judge_components),
    ]


# -- crossover -----------------------------------------------------------------------------
def crossover_cases() -> list[Case]:
    rng = np.random.default_rng(3)
    a, b = rng.random((4, 784)), rng.random((4, 784))
    mask = rng.random((4, 784)) < 0.5
    images = rng.random((100, 784))
    cases = [same("crossover", (a, b, mask), "crossover with a random mask"),
             same("crossover", (np.ones(3), np.zeros(3), np.array([True, False, True])),
                  "crossover with mask [True, False, True]")]
    for rate, low, high in ((0.0, 0.0, 0.0), (0.1, 0.08, 0.12), (1.0, 0.99, 1.0)):
        def judge(outcomes: list[Outcome], rate: float = rate, low: float = low,
                  high: float = high) -> Verdict:
            got = array(outcomes[0])
            if isinstance(got, str):
                return got
            if 0 in outcomes[0].changed_args:
                return "mutate changed its input; return a new array (start from a copy)"
            if got.shape != images.shape:
                return f"expected shape {images.shape}, got shape {got.shape}"
            if not (np.all(np.isfinite(got)) and got.min() >= 0 and got.max() <= 1):
                return "mutated pixels must lie in [0, 1]"
            changed = float(np.mean(got != images))
            if not low <= changed <= high:
                return f"expected about {rate:.0%} of pixels changed, got {changed:.1%}"
            return None

        label = f"mutate at rate {rate}"
        cases.append(Case(label, [Call("mutate", (images, rate, Seed(4)), label)], judge))
    return cases


# -- variogram -----------------------------------------------------------------------------
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


# -- fgsm ----------------------------------------------------------------------------------
def _fgsm_mistakes(x: np.ndarray, g: np.ndarray, epsilon: float, got: np.ndarray) -> Verdict:
    """Name the usual mistakes when `got` is a wrong variant of the FGSM step."""
    for use_sign, up, clip in itertools.product((True, False), (1, -1), (True, False)):
        step = x + up * epsilon * (np.sign(g) if use_sign else g)
        variant = np.clip(step, 0, 1) if clip else step
        if (use_sign, up, clip) != (True, 1, True) and close(variant, got):
            mistakes = []
            if not clip:
                outside = int(np.sum((got < 0) | (got > 1)))
                mistakes.append(f"you forgot the clip to [0, 1] ({outside} of your pixels "
                                "lie outside it)")
            if not use_sign:
                mistakes.append("you used the gradient itself instead of its sign (FGSM "
                                "moves every pixel by exactly epsilon)")
            if up == -1:
                mistakes.append("you stepped down the cost (x - epsilon * sign); to fool "
                                "the network, step up it: x + epsilon * sign(dC/dx)")
            return "; ".join(mistakes)
    return None


def fgsm_cases() -> list[Case]:
    rng = np.random.default_rng(6)
    net = Network([784, 30, 10], rng=np.random.default_rng(0))
    x = rng.random((8, 784)).astype(np.float32)
    x[x < 0.6], x[x > 0.9] = 0.0, 1.0  # like digits: mostly black, some white
    labels = rng.integers(0, 10, 8)
    gradient = net.input_gradient(x, labels)  # (8, 784) dC/dx of each image's own cost

    def case(label: str, x: np.ndarray, g: np.ndarray, epsilon: float) -> Case:
        want = reference.fgsm(x, g, epsilon)

        def judge(outcomes: list[Outcome]) -> Verdict:
            got = array(outcomes[0])
            if isinstance(got, str):
                return got
            problem = compare(want, got)
            if problem and got.shape == want.shape:
                return _fgsm_mistakes(x.astype(np.float64), g.astype(np.float64), epsilon,
                                      got) or problem
            return problem

        return Case(label, [Call("fgsm", (x, g, epsilon), label)], judge)

    return [case("a hand-made example, epsilon 0.1", np.array([[0.0, 0.5, 1.0, 0.95, 0.5]]),
                 np.array([[-1.0, 2.0, 3.0, 0.5, 0.0]]), 0.1),
            case("8 images, the gradient of a 784-30-10 network, epsilon 0.1", x, gradient,
                 0.1),
            case("the same at epsilon 0.25", x, gradient, 0.25)]
