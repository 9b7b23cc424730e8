"""The check of chapter 10: the score of an image under one digit's PPCA.

What this module teaches
------------------------
The same pattern as `checks` (calls, then a judge comparing with `reference`) for the
generative reader's one formula: the log-likelihood of an image under a probabilistic
PCA, ln N(x; mu, W W^T + sigma^2 I) (docs/generative.md, (G4)-(G6)), computed with
q x q matrices only. Four cases, each against an answer computed another way:

1. a hand-made 3-pixel model, against the textbook formula with the whole covariance
   (`reference.gaussian_log_density`: `np.linalg.slogdet` and a solve);
2. 6 images under a random 784-pixel model with q = 4 (columns of W neither orthogonal
   nor of one length, so no shortcut of generative.py's is taken for granted), again
   against the whole 784 x 784 covariance;
3. digit 3's model in the shipped generative.npz, against
   `generative.Generative.log_likelihood` itself: its mean scores about +840, so the
   density e^840 overflows, and noise about -4,800;
4. a 141 x 141 image (D = 19,881): the covariance would take 3.2 GB, over the child's
   1 GB, so only the q-dimensional form gets there.

The usual mistakes are switches (`judge.switches`): the -D/2 ln(2 pi) constant left out,
the factor -1/2 forgotten, the log-determinant left out or without its (D - q) ln sigma^2
(or with D ln sigma^2), Woodbury's minus made a plus, x not centred on mu, sigma used
where sigma^2 belongs; each wrong combination is made from `make` and named. An answer
that is infinite or NaN (the density itself, or `np.linalg.det` of C, which under- or
overflow in 784 dimensions) and a D x D matrix that exhausts the memory are named too.

What it leaves out: running anything (`sandbox`) and the general comparing (`judge`).

Worked example:
    case = ppca_cases()[0]       # the hand-made 3-pixel model; its right answer:
    x, mu, w, sigma = case.calls[0].args
    case.judge([Outcome("ppca_log_likelihood", make(x, mu, w, sigma))])   # None: passes
    case.judge([Outcome("ppca_log_likelihood", make(x, mu, w, sigma, centre=False))])
    # 'you did not subtract the mean: ...'
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fooldigits.exercises import reference
from fooldigits.exercises.answers import Call, Outcome
from fooldigits.exercises.judge import Case, Switch, Verdict, array, compare, switches

LN_2PI = reference.LN_2PI
BIG = 141 * 141  # pixels of the case whose covariance does not fit in the child's memory
OVERFLOW = 709.0  # e^709 is near the largest float64; e^710 is infinite


def make(x: np.ndarray, mu: np.ndarray, w: np.ndarray, sigma: float, constant: bool = True,
         half: bool = True, log_det: str = "D - q", sign: float = -1.0, centre: bool = True,
         variance: str = "sigma^2") -> np.ndarray:
    """The PPCA score with each usual mistake as a switch; the defaults are right."""
    size, q = w.shape
    s2 = sigma**2 if variance == "sigma^2" else sigma  # (G1): C = W W^T + sigma^2 I
    d = x - mu if centre else x  # (n, D)
    m = w.T @ w + s2 * np.eye(q)  # (q, q)
    z = d @ w  # (n, q)
    # Woodbury: (x - mu)^T C^-1 (x - mu) = (|d|^2 - z^T M^-1 z) / sigma^2
    mahalanobis = ((d * d).sum(axis=1) + sign * (z * np.linalg.solve(m, z.T).T).sum(axis=1)
                   ) / s2
    # the determinant lemma: ln det C = ln det M + (D - q) ln sigma^2
    terms = {"D - q": (size - q) * np.log(s2), "D": size * np.log(s2), "M only": 0.0}
    det = np.linalg.slogdet(m)[1] + terms[log_det] if log_det in terms else 0.0
    total = (size * LN_2PI if constant else 0.0) + det + mahalanobis
    return np.asarray(-0.5 * total if half else -total)


SAID: dict[str, Callable[[object], str]] = {
    "constant": lambda _: ("you left out the constant -D/2 ln(2 pi) (D the number of pixels): "
                           "without it the score is not a log-likelihood, and it cannot be "
                           "compared with the threshold of 'not a digit'"),
    "half": lambda _: ("you forgot the factor -1/2: ln N = -1/2 [D ln(2 pi) + ln det C + "
                       "(x - mu)^T C^-1 (x - mu)]"),
    "log_det": lambda value: {
        "none": ("you left out the log-determinant -1/2 ln det C: without it a model that "
                 "spreads wide explains everything; by the determinant lemma ln det C = "
                 "ln det M + (D - q) ln sigma^2"),
        "M only": ("your log-determinant is ln det M alone: the determinant lemma gives "
                   "ln det C = ln det M + (D - q) ln sigma^2 (each of the D - q directions "
                   "off the subspace has variance sigma^2)"),
        "D": ("you added D ln sigma^2 to ln det M: M already holds sigma^2 for the q "
              "directions of the subspace, so only D - q are left: ln det C = ln det M + "
              "(D - q) ln sigma^2"),
    }[str(value)],
    "sign": lambda _: ("Woodbury's sign: C^-1 = (I - W M^-1 W^T) / sigma^2, with a MINUS (the "
                       "directions of W have more variance, so a step along them costs less)"),
    "centre": lambda _: ("you did not subtract the mean: the quadratic form and z = W^T "
                         "(x - mu) are of x - mu, not of x"),
    "variance": lambda _: ("you used sigma where sigma^2 belongs: sigma is the noise's standard "
                           "deviation, C = W W^T + sigma^2 I, so M = W^T W + sigma^2 I and "
                           "ln det C has (D - q) ln sigma^2"),
}
OPTIONS: list[Switch] = [("constant", (True, False)), ("half", (True, False)),
                         ("log_det", ("D - q", "none", "M only", "D")),
                         ("sign", (-1.0, 1.0)), ("centre", (True, False)),
                         ("variance", ("sigma^2", "sigma"))]

MEMORY = ("you made a D x D matrix (the covariance C, W @ W.T or np.eye(D)): at D = {size:,} "
          "it takes {gb:.1f} GB, more than the checker allows; use only q x q matrices: "
          "Woodbury for C^-1 and the determinant lemma for ln det C")


def _not_finite(want: np.ndarray) -> str:
    top = float(want.max())
    density = (f" (one of these images has density e^{top:.0f}, past float64's e^709)"
               if top > OVERFLOW else "")
    return ("you got infinity or NaN: in hundreds of dimensions the density itself"
            f"{density} and det C, a product of D variances, overflow or round to 0; stay "
            "in logs: return ln N, and take the log-determinant as a sum of logs, "
            "np.linalg.slogdet, or ln det M + (D - q) ln sigma^2")


def case(label: str, x: np.ndarray, mu: np.ndarray, w: np.ndarray, sigma: float,
         want: np.ndarray) -> Case:
    """`ppca_log_likelihood(x, mu, w, sigma)` against `want`, the usual mistakes named."""
    def judge(outcomes: list[Outcome]) -> Verdict:
        outcome = outcomes[0]
        if outcome.value is None and "MemoryError" in outcome.problem:
            size = w.shape[0]
            return MEMORY.format(size=size, gb=size * size * 8 / 1e9)
        got = array(outcome)
        if isinstance(got, str):
            return got
        if got.shape != want.shape:
            return (f"expected shape {want.shape} (one score per image), got shape "
                    f"{got.shape}")
        if not np.all(np.isfinite(got)):
            return _not_finite(want)
        problem = compare(want, got)
        if problem is None:
            return None
        if np.all(want < OVERFLOW) and np.allclose(got, np.exp(want), rtol=1e-5, atol=0):
            return ("you returned the density N(x), not its log: return ln N (in 784 "
                    "dimensions the density itself overflows or rounds to 0)")
        named = switches(got, lambda *on: make(x, mu, w, sigma, *on), OPTIONS, SAID)
        return named or problem

    return Case(label, [Call("ppca_log_likelihood", (x, mu, w, sigma), label)], judge)


def ppca_cases() -> list[Case]:
    rng = np.random.default_rng(11)
    # 1. three pixels, one direction: small enough to follow by hand
    x1 = np.array([[0.2, 0.9, 0.4], [1.0, 0.0, 0.0], [0.5, 0.5, 0.5]])
    mu1, w1, sigma1 = np.array([0.3, 0.6, 0.1]), np.array([[1.0], [2.0], [-0.5]]), 0.5
    c1 = w1 @ w1.T + sigma1**2 * np.eye(3)
    # 2. 784 pixels, q = 4: samples of the model and two noise images
    mu2 = rng.random(784) * 0.5
    w2 = rng.normal(0, 1, (784, 4)) * np.array([0.3, 0.2, 0.1, 0.05])  # (784, 4)
    sigma2 = 0.1
    x2 = np.vstack([mu2 + rng.normal(0, 1, (4, 4)) @ w2.T + sigma2 * rng.normal(0, 1, (4, 784)),
                    rng.random((2, 784))])  # (6, 784)
    c2 = w2 @ w2.T + sigma2**2 * np.eye(784)
    # 3. digit 3's model in the shipped generative.npz: its mean, an 8's mean, noise, black
    model = reference.generative_model()
    mu3, w3, sigma3 = reference.digit_ppca(model, 3)
    x3 = np.vstack([model.mean_[3], model.mean_[8], rng.random(784), np.zeros(784)]
                   ).astype(np.float64)  # (4, 784)
    # 4. a 141 x 141 image: C would be 19,881 x 19,881
    w4 = rng.normal(0, 0.1, (BIG, 5))
    mu4 = rng.random(BIG) * 0.5
    x4 = np.vstack([mu4 + w4 @ rng.normal(0, 1, 5), rng.random(BIG)])  # (2, BIG)
    return [
        case("3 pixels, q = 1, sigma 0.5, 3 images", x1, mu1, w1, sigma1,
             reference.gaussian_log_density(x1, mu1, c1)),
        case("784 pixels, q = 4, sigma 0.1: 4 samples of the model and 2 noise images", x2,
             mu2, w2, sigma2, reference.gaussian_log_density(x2, mu2, c2)),
        case(f"digit 3's model in generative.npz (q = {w3.shape[1]}): the mean 3, the mean "
             "8, noise, black", x3, mu3, w3, sigma3, model.log_likelihood(x3)[:, 3]),
        case(f"a 141 x 141 image (D = {BIG:,}, q = 5): its covariance would take 3.2 GB",
             x4, mu4, w4, 0.2, reference.ppca_log_likelihood(x4, mu4, w4, 0.2)),
    ]
