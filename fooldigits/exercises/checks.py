"""The checks of chapters 1-3 (reading digits): what they ask, and how answers are judged.

What this module teaches
------------------------
How to test numerical code against a trusted reference, and how to turn a wrong number
into advice. Every exercise is a list of `Case`s: the calls to make on the student's
functions (run in a child process by `sandbox`) and a judge that compares what came back
with `reference`, computed here in the parent. A judge returns None for a pass or one
sentence for a failure: which value, expected against got, and where a wrong answer
equals a known mistake -- computed here too, as a variant of the reference -- it names
the mistake. This module holds chapters 1-3 (the nearest mean, the sigmoid, backprop,
PCA) and the convolution (chapter 8); `checks_steps` and `checks_fooling` hold chapters
4-7, 9 and 11, `checks_generative` chapter 10.

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
from fooldigits.exercises.answers import Call, Outcome, Returned, Seq
from fooldigits.exercises.judge import (
    Case,
    Verdict,
    array,
    as_array,
    close,
    compare,
    kind,
    labels,
    parts,
)


# -- chapter 1: the mean of each digit, and the nearest mean ---------------------------------
def digit_like(rng: np.random.Generator, templates: np.ndarray, n: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """n noisy copies of ten templates, every digit present, labels shuffled."""
    y = rng.permutation(np.resize(np.arange(10), n))
    x = templates[y] * rng.uniform(0.6, 1.0, (n, 1)) + 0.3 * rng.random((n, 784))
    return np.clip(x, 0, 1), y


def nearest_mean_cases() -> list[Case]:
    rng = np.random.default_rng(1)
    templates = np.zeros((10, 784))
    for d in range(10):  # digit d has more ink than digit d - 1, as an '8' has than a '1'
        templates[d, rng.choice(784, 40 + 30 * d, replace=False)] = 1.0
    x, y = digit_like(rng, templates, 120)
    queries, _ = digit_like(rng, templates, 60)
    means = reference.class_means(x, y)
    counts = np.bincount(y, minlength=10)[:, None]

    def judge_means(outcomes: list[Outcome]) -> Verdict:
        got = array(outcomes[0])
        if isinstance(got, str):
            return got
        if got.shape == means.T.shape:
            return "return one mean per ROW, shape (10, 784): row d is the mean of digit d"
        if got.shape != means.shape:
            return (f"expected shape (10, 784), got shape {got.shape}: average each digit's "
                    "images over axis 0, for one 784-pixel mean per digit")
        if close(means * counts, got):
            return ("you summed each digit's images: divide by how many there are (or use "
                    ".mean(axis=0))")
        if close(np.tile(x.mean(axis=0), (10, 1)), got):
            return ("every row is the mean of ALL the images: take digit d's images only, "
                    "images[labels == d]")
        problem = compare(means, got)
        if problem and all(any(close(m, g) for m in means) for g in got):
            return "the means are in the wrong order: row d must be the mean of digit d"
        return problem

    distances = ((queries[:, None, :] - means[None]) ** 2).sum(axis=2)  # (60, 10)
    want = reference.nearest_mean(means, queries)

    def judge_nearest(outcomes: list[Outcome]) -> Verdict:
        got = array(outcomes[0])
        if isinstance(got, str):
            return got
        if got.shape == distances.shape:
            return ("return one label per image, shape (60,): the position of the smallest "
                    "distance in each row, np.argmin(distances, axis=1)")
        if got.shape == (10,):
            return ("you took the smallest distance over the images (axis=0): take it over "
                    "the ten means, axis=1, for one label per image")
        if got.shape == want.shape and np.array_equal(got, distances.argmax(axis=1)):
            return "you picked the FARTHEST mean: the nearest is np.argmin of the distances"
        if got.shape == want.shape and np.array_equal(got, (queries @ means.T).argmax(1)):
            return ("you compared dot products x . m: the largest favours the brightest "
                    "mean (an '8' has more ink than a '1'); compare squared distances "
                    "|x - m|^2 = |x|^2 - 2 x . m + |m|^2, where |m|^2 matters")
        return labels(want.astype(np.float64), got)

    return [
        Case("class_means of 120 images, labels shuffled",
             [Call("class_means", (x, y), "class means")], judge_means),
        Case("nearest_mean of 60 images", [Call("nearest_mean", (means, queries),
                                                "nearest mean")], judge_nearest),
    ]


# -- chapter 2: the sigmoid ------------------------------------------------------------------
OVERFLOW = ("sigmoid overflows: e^-z is too large for a float at z = -1000 (NumPy warns "
            "'overflow encountered in exp'). Use a form that never exponentiates a large "
            "positive number, such as 0.5 * (1 + np.tanh(z / 2)); np.where(z >= 0, ...) "
            "does not help, since NumPy computes both branches everywhere")
WRONG_SIGN = ("your sigmoid goes DOWN as z grows (sigma(2) should be 0.88, yours gives "
              "0.12): the formula has e to the MINUS z, 1 / (1 + e^-z), so large z gives "
              "an output near 1")


def sigmoid_cases() -> list[Case]:
    z = np.random.default_rng(0).normal(0, 3, (4, 5))
    h = 1e-5
    extremes = np.array([-1000.0, 0.0, 1000.0])
    s = reference.sigmoid(z)

    def judge_sigmoid(x: np.ndarray) -> Callable[[list[Outcome]], Verdict]:
        def judge(outcomes: list[Outcome]) -> Verdict:
            if outcomes[0].error in ("FloatingPointError", "OverflowError"):
                return OVERFLOW
            got = array(outcomes[0])
            if isinstance(got, str):
                return got
            problem = compare(reference.sigmoid(x), got)
            if problem and close(reference.sigmoid(-x), got):
                return WRONG_SIGN
            return problem
        return judge

    def prime_mistake(got: np.ndarray) -> Verdict:
        if close(s * (1 + s), got):
            return (f"you wrote sigma * (1 + sigma): the derivative is sigma(z) * (1 - "
                    f"sigma(z)), with a minus ({compare(s * (1 - s), got)})")
        if close(z * (1 - z), got):
            return ("you applied sigma * (1 - sigma) to z itself: compute s = sigmoid(z) "
                    "first, then s * (1 - s)")
        if close(s, got):
            return "sigmoid_prime returned sigmoid(z) itself: the derivative is s * (1 - s)"
        return None

    def prime_against(slope: Callable[[list[Outcome]], np.ndarray | str]
                      ) -> Callable[[list[Outcome]], Verdict]:
        def judge(outcomes: list[Outcome]) -> Verdict:
            got, want = array(outcomes[0]), slope(outcomes)
            if isinstance(got, str) or isinstance(want, str):
                return got if isinstance(got, str) else str(want)
            problem = compare(want, got)
            return (prime_mistake(got) or problem) if problem else None
        return judge

    def slope_of_yours(outcomes: list[Outcome]) -> np.ndarray | str:
        high, low = array(outcomes[1]), array(outcomes[2])
        if isinstance(high, str) or isinstance(low, str):
            return high if isinstance(high, str) else str(low)
        return np.asarray((high - low) / (2 * h))

    true_slope = (reference.sigmoid(z + h) - reference.sigmoid(z - h)) / (2 * h)
    prime = Call("sigmoid_prime", (z,), "sigmoid_prime")
    return [
        Case("sigmoid of small numbers", [Call("sigmoid", (z,), "small numbers")],
             judge_sigmoid(z)),
        Case("sigmoid of z = -1000, 0 and 1000 (no overflow)",
             [Call("sigmoid", (extremes,), "no overflow", strict=True)],
             judge_sigmoid(extremes)),
        Case("sigmoid_prime against finite differences of the true sigmoid", [prime],
             prime_against(lambda _: true_slope)),
        Case("sigmoid_prime against finite differences of your sigmoid",
             [prime, Call("sigmoid", (z + h,), "slope"), Call("sigmoid", (z - h,), "slope")],
             prime_against(slope_of_yours)),
    ]


# -- chapter 2: backprop ---------------------------------------------------------------------
def _layers(value: Returned, what: str) -> list[np.ndarray] | str:
    items = value.items if isinstance(value, Seq) else list(value) \
        if isinstance(value, np.ndarray) and value.ndim > 1 else None
    arrays = [a for v in items if (a := as_array(v)) is not None] if items is not None else []
    if items is None or len(arrays) < len(items):
        return f"{what} must be a list of arrays, one per layer; got {kind(value)}"
    return arrays


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


# -- chapter 8, the convolutional network: im2col --------------------------------------------
def conv_cases() -> list[Case]:
    rng = np.random.default_rng(8)
    images = rng.random((3, 9, 11))  # not square: rows and columns cannot be confused
    kernels, b = rng.normal(0, 1, (2, 3, 3)), rng.normal(0, 1, 2)

    def judge_patches(stride: int) -> Callable[[list[Outcome]], Verdict]:
        want = reference.im2col(images, 3, stride)
        n, positions, _ = want.shape
        h_out, w_out = (9 - 3) // stride + 1, (11 - 3) // stride + 1

        def judge(outcomes: list[Outcome]) -> Verdict:
            got = array(outcomes[0])
            if isinstance(got, str):
                return got
            if stride > 1 and got.shape == reference.im2col(images, 3, 1).shape:
                return (f"you used stride 1: with stride {stride} the kernel moves {stride} "
                        f"pixels at a time, so h_out = (h - k) // stride + 1 = {h_out}")
            if got.shape == (n, 9, positions):
                return ("one ROW per kernel position: shape (n, h_out * w_out, k * k); "
                        "transpose your answer")
            if close(want.reshape(n, positions, 3, 3).transpose(0, 1, 3, 2)
                     .reshape(want.shape), got):
                return ("each patch is flattened column by column: flatten it row by row, "
                        "as kernel.reshape(-1) is, or every weight meets the wrong pixel")
            if close(want.reshape(n, h_out, w_out, 9).transpose(0, 2, 1, 3)
                     .reshape(want.shape), got):
                return ("the patches are in column-major order: walk the positions row by "
                        "row (left to right, then down), as the output image is laid out")
            return compare(want, got)
        return judge

    def conv(k: np.ndarray, stride: int, bias: np.ndarray = b) -> np.ndarray:
        return reference.conv_forward(images, k, bias, stride)

    def judge_forward(stride: int) -> Callable[[list[Outcome]], Verdict]:
        want = conv(kernels, stride)
        n, c = want.shape[:2]

        def judge(outcomes: list[Outcome]) -> Verdict:
            got = array(outcomes[0])
            if isinstance(got, str):
                return got
            if stride > 1 and got.shape == conv(kernels, 1).shape:
                return (f"you used stride 1: with stride {stride} the output is "
                        f"{want.shape[2]} x {want.shape[3]}, (h - k) // stride + 1 each way")
            if got.shape == want.transpose(0, 2, 3, 1).shape:
                return "channels go second: shape (n, c, h_out, w_out), not channels last"
            if close(want.reshape(n, c, -1).transpose(0, 2, 1).reshape(want.shape), got):
                return ("right numbers, wrong places: the product is (n, positions, c); move "
                        "the channel axis forward (transpose to (n, c, positions)) before "
                        "reshaping to (n, c, h_out, w_out)")
            if got.shape == want.transpose(0, 1, 3, 2).shape != want.shape:
                return ("your output is transposed (w_out x h_out): the patches' rows and "
                        "columns were swapped on the way back into an image")
            if close(conv(kernels[:, ::-1, ::-1], stride), got):
                return ("you flipped the kernel (the mathematicians' convolution): a neural "
                        "network slides the kernel as it is, a cross-correlation")
            if close(conv(kernels.transpose(0, 2, 1), stride), got):
                return ("each kernel meets its patch transposed: the patches and the kernels "
                        "must be flattened in the same (row by row) order")
            if close(conv(kernels, stride, 0 * b), got):
                return "you forgot the bias b[c] of each output channel"
            return compare(want, got)
        return judge

    return [
        Case("im2col of 3 images 9 x 11, k = 3, stride 1",
             [Call("im2col", (images, 3, 1), "stride 1")], judge_patches(1)),
        Case("im2col with stride 2", [Call("im2col", (images, 3, 2), "stride 2")],
             judge_patches(2)),
        Case("conv_forward, 2 kernels 3 x 3, stride 1",
             [Call("conv_forward", (images, kernels, b, 1), "stride 1")], judge_forward(1)),
        Case("conv_forward with stride 2",
             [Call("conv_forward", (images, kernels, b, 2), "stride 2")], judge_forward(2)),
    ]


# -- chapter 3: covariance and principal components ------------------------------------------
def covariance_cases() -> list[Case]:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 6)) @ np.diag([5.0, 4, 3, 2, 1, 0.5]) + 3.0
    X = X @ np.linalg.qr(rng.standard_normal((6, 6)))[0]  # rotated: vectors are not axes
    top = reference.principal_components(X, 3)
    smallest = reference.principal_components(X, 6)[::-1][:3]
    vectors = np.linalg.eigh(reference.covariance(X))[1]
    rows = vectors[::-1][:3]  # the mistake: rows of eigh's matrix, not its columns

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
        if not problem:
            return None
        if got.shape == top.T.shape:
            return "return the components as ROWS, shape (k, d): transpose your answer"
        if got.shape != top.shape:
            return problem
        if close(np.abs(top), np.abs(got), 1e-3):
            return "flip the sign of each component so that its largest |entry| is positive"
        if close(np.abs(rows), np.abs(got), 1e-3):
            return ("np.linalg.eigh returns the eigenvectors as COLUMNS (vectors[:, i] "
                    "belongs to values[i]); you took rows: use vectors[:, ::-1][:, :k].T")
        if close(np.abs(smallest), np.abs(got), 1e-3):
            flip = "" if close(smallest, got, 1e-3) else (
                "; then flip the sign of each so that its largest |entry| is positive")
            return ("these belong to the smallest eigenvalues: np.linalg.eigh sorts them "
                    f"in ascending order, so take the last k, largest first{flip}")
        return problem

    return [
        covariance("covariance of a small example", np.array([[0.0, 0.0], [2.0, 2.0]])),
        covariance("covariance of 300 x 6 random data", X),
        Case("the 3 leading principal components",
             [Call("principal_components", (X, 3), "3 components")], judge_components),
    ]

