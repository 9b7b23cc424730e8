"""Analysis by synthesis: a classifier that knows what each digit looks like.

What this module teaches
------------------------
Every network in the story *discriminates*: it learns where the borders between the
digits lie, and far from every digit, in the noise, those borders still say "2" with
99.99% confidence. Schott, Rauber, Bethge & Brendel ("Towards the first adversarially
robust neural network model on MNIST", ICLR 2019) turned it around: one *generative*
model per digit, and an image is read as the digit whose model explains it best
(analysis by synthesis). An image no model explains is "not a digit".

Here each digit's model is a probabilistic PCA (Tipping & Bishop 1999): a Gaussian whose
covariance has q principal directions, each with its own variance, and one small
isotropic variance sigma2 in all the D - q = 784 - q other directions. For digit k:

    (G1)  C_k = W_k W_k^T + sigma2_k I       (D, D); never formed, only used through q
    (G2)  W_k = U_k (Lambda_k - sigma2_k I)^(1/2)   U_k (D, q): the top q eigenvectors of
          the digit's covariance, Lambda_k = diag(lambda_1..lambda_q) their eigenvalues
    (G3)  sigma2_k = the mean of the other D - q eigenvalues
(G2) and (G3) are Tipping & Bishop's maximum-likelihood solution (the rotation R = I).

An image x scores its log-likelihood under each digit, s_k = ln N(x; mu_k, C_k):

    (G4)  ln N(x; mu, C) = -1/2 [D ln 2 pi + ln det C + (x - mu)^T C^-1 (x - mu)]

read through the q-dimensional subspace with M = W^T W + sigma2 I (q, q):

    Woodbury:            C^-1  = (I - W M^-1 W^T) / sigma2
    determinant lemma:   det C = sigma2^(D - q) det M

With (G2), M = Lambda is diagonal, so with z = U^T (x - mu) (q,), the image's coordinates
along the directions, and r = |x - mu|^2 - |z|^2, its squared distance off the subspace:

    (G5)  (x - mu)^T C^-1 (x - mu) = sum_j z_j^2 / lambda_j + r / sigma2
    (G6)  ln det C = sum_j ln lambda_j + (D - q) ln sigma2
    (G7)  d s / dx = -C^-1 (x - mu) = -[U (z / lambda) + ((x - mu) - U z) / sigma2]

"Not a digit" is an eleventh class whose score is a constant, `threshold_`: the score
that 99% of real validation digits reach (s_10 = threshold_). An image no digit's model
explains that well is "not a digit", honestly, and every chapter sees it as class 10.
The eleven scores become probabilities with one temperature T, fitted on the validation
split, and the gradient of the cost -ln p_t follows from the softmax's own derivative:

    (G8)  p_k = exp(s_k / T) / sum_j exp(s_j / T)        k = 0..10, s_10 = threshold_
    (G9)  d(-ln p_t)/dx = (1/T) sum_k (p_k - [k = t]) ds_k/dx     (ds_10/dx = 0)

`rejects(x)` is the same answer as a boolean: max_k s_k below `threshold_`.

`fit(x, labels, validation_x, validation_labels)` (steps in its docstring) takes seconds:
one covariance and one `np.linalg.eigh` per digit. It chooses q among `components` by
validation accuracy, T by a 1-D search, then the threshold.

Worked example, q = 25 (what `fit` chooses on MNIST): `mean_` (10, 784), `directions_`
(10, 784, 25), `variances_` (10, 25), `sigma2_` (10,): 10 x (784 + 784 x 25 + 25 + 1) =
204,100 numbers. Scoring 32 images: x @ [U_0 .. U_9 | mu_0 .. mu_9] (32, 260), so
z (32, 10, 25) and |x - mu_k|^2 (32, 10); the scores s (32, 10), with the threshold
(32, 11), the probabilities (32, 11), the gradient (32, 784).

What it leaves out: mixtures (one Gaussian cannot hold both ways of writing a 7), the
variational autoencoders and optimisation-based inference of Schott et al., a prior over
the classes (all ten are equally likely), and a Bayesian choice of q.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.data import BYTE_TO_PIXEL
from fooldigits.core.reading import NpzReader
from fooldigits.models.base import Classifier

D = 784  # pixels
DIGITS = 10
CANDIDATES = tuple(range(5, 101, 5))  # the q that `fit` tries by default
MAX_COMPONENTS = D - 1  # q < D: some direction must be left for sigma2
MAX_PARAMETERS = 20_000_000  # the most numbers a file may ask for (10 x 784 x 783 < 7M)
MIN_TEMPERATURE = 1e-3  # the lowest T `fit` tries; below it, (G9)'s 1/T overflows float32
REJECT_PERCENTILE = 1.0  # the threshold: the score 99% of real validation digits reach
LN_2PI = float(np.log(2 * np.pi))


class Generative(Classifier):
    """`Generative(components=CANDIDATES).fit(x, labels, val_x, val_labels)`: ten PPCAs."""

    kind: ClassVar[str] = "generative"

    def __init__(self, components: int | Sequence[int] = CANDIDATES) -> None:
        choices = (components,) if isinstance(components, int) else tuple(components)
        if not choices or any(not 1 <= int(q) <= MAX_COMPONENTS for q in choices):
            raise FoolDigitsError(f"components must be between 1 and {MAX_COMPONENTS}, "
                                  f"got {components}")
        self.components = sorted({int(q) for q in choices})
        self.classes = DIGITS + 1  # the digits, and "not a digit"
        self.meta: dict[str, str] = {}

    # -- fitting -----------------------------------------------------------------------
    def fit(self, x: np.ndarray, labels: np.ndarray, validation_x: np.ndarray,
            validation_labels: np.ndarray, rng: np.random.Generator | None = None
            ) -> Generative:
        """Fit the ten PPCAs, then q, T and the threshold; returns self.

        1. per digit: the mean mu_k and the covariance S_k = X_c^T X_c / n_k, (784, 784);
           `eigh` gives its eigenvalues (ascending: reversed) and eigenvectors;
        2. q: the candidate with the best validation accuracy (ties: the smaller); every
           candidate is scored from one projection onto the largest, as (G5) and (G6) are
           running sums over the directions j = 1..q;
        3. keep q directions and their variances (G2), sigma2_k (G3), stored as float32;
        4. T: minimise the validation log-loss -mean ln p_label over ln T by a
           golden-section search (the log-loss is convex in 1/T, so it has one minimum);
        5. threshold_: the 1st percentile of max_k s_k over the validation digits.
        `rng` is not used (nothing here is random); it is taken for the common signature.
        """
        x, v = np.asarray(x), _rows(validation_x)  # x stays as given: float32 or bytes
        labels, v_labels = np.asarray(labels), np.asarray(validation_labels)
        if x.ndim != 2 or x.shape[1] != D:
            raise FoolDigitsError(f"images must be rows of {D} pixels, got shape {x.shape}")
        if len(v) == 0:  # e.g. a --data-dir with too few training images to split
            raise FoolDigitsError("the generative model needs validation images to set its "
                                  "temperature and its 'not a digit' threshold; there are none")
        if len(labels) != len(x) or len(v_labels) != len(v) or any(
                np.any((y < 0) | (y >= DIGITS)) for y in (labels, v_labels)):
            raise FoolDigitsError("fit needs a label 0..9 for every image and every "
                                  "validation image")
        top = self.components[-1]
        means, vectors, values = [], [], []
        for k in range(DIGITS):  # step 1, one digit's images in float64 at a time
            mine = _rows(x[labels == k])  # (n_k, 784)
            if len(mine) < top + 2:
                raise FoolDigitsError(f"digit {k} has {len(mine)} training images; q = {top} "
                                      f"directions need at least {top + 2}")
            centred = mine - mine.mean(axis=0)  # (n_k, 784)
            lam, u = np.linalg.eigh(centred.T @ centred / len(mine))  # ascending
            means.append(mine.mean(axis=0))
            values.append(np.clip(lam[::-1], 0, None))  # (784,) largest first
            vectors.append(u[:, ::-1])  # (784, 784) columns in the same order
        mu, u_all, lam_all = np.stack(means), np.stack(vectors), np.stack(values)
        accuracy = self._sweep(mu, u_all, lam_all, v, v_labels)  # step 2
        q = self.components[int(np.argmax(accuracy))]
        self.validation_accuracy_ = float(np.max(accuracy))
        sigma2 = lam_all[:, q:].mean(axis=1)  # (10,)  step 3, (G3)
        if np.any(sigma2 <= 0):
            raise FoolDigitsError(f"the images of some digit vary in at most {q} directions; "
                                  "fit needs more varied training images")
        self.mean_ = mu.astype(np.float32)  # (10, 784)
        self.directions_ = u_all[:, :, :q].astype(np.float32)  # (10, 784, q)
        self.variances_ = lam_all[:, :q].astype(np.float32)  # (10, q)
        self.sigma2_ = sigma2.astype(np.float32)  # (10,)
        s = self.log_likelihood(v)  # (n_val, 10), from the float32 model that is stored
        # both kept as the float32 the file stores, so a loaded model is this one exactly
        self.temperature_ = float(np.float32(_fit_temperature(s, v_labels)))  # step 4
        self.threshold_ = float(np.float32(np.percentile(s.max(axis=1),
                                                         REJECT_PERCENTILE)))  # step 5
        self.meta["fit"] = (f"q = {q} of {self.components[0]}..{top} by validation accuracy "
                            f"{self.validation_accuracy_:.2%}; T = {self.temperature_:.4g}; "
                            f"threshold {self.threshold_:.6g}")
        return self

    def _sweep(self, mu: np.ndarray, u_all: np.ndarray, lam_all: np.ndarray, v: np.ndarray,
               v_labels: np.ndarray) -> np.ndarray:
        """Validation accuracy of each candidate q (step 2): (len(components),)."""
        qs = np.array(self.components)
        scores = np.empty((len(v), DIGITS, len(qs)))  # (n_val, 10, candidates)
        for k in range(DIGITS):
            lam = lam_all[k]  # (784,)
            d = v - mu[k]  # (n_val, 784)
            z = d @ u_all[k, :, : qs[-1]]  # (n_val, q_max): coordinates on every direction
            kept = np.cumsum(z**2, axis=1)[:, qs - 1]  # (n_val, cands): |z|^2 for each q
            r = (d**2).sum(axis=1)[:, None] - kept  # (n_val, cands)
            tail = np.cumsum(lam[::-1])[::-1]  # tail[q] = sum of lambda_j for j >= q
            sigma2 = tail[qs] / (D - qs)  # (cands,)  (G3)
            with np.errstate(divide="ignore", invalid="ignore"):  # a zero variance: -inf
                along = np.cumsum(z**2 / lam[: qs[-1]], axis=1)[:, qs - 1]  # (n_val, cands)
                log_det = np.cumsum(np.log(lam[: qs[-1]]))[qs - 1] + (D - qs) * np.log(sigma2)
                scores[:, k] = -0.5 * (D * LN_2PI + log_det + along + r / sigma2)
        scores = np.nan_to_num(scores, nan=-np.inf)
        return np.asarray((scores.argmax(axis=1) == v_labels[:, None]).mean(axis=0))

    # -- scoring -----------------------------------------------------------------------
    def _subspaces(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For all ten digits from one matrix product, in float64: the coordinates
        z_k = U_k^T (x - mu_k), (n, 10, q), the squared distances |x - mu_k|^2, (n, 10),
        and the stacked directions [U_0 .. U_9], (784, 10 q).

        x @ [U_0 .. U_9 | mu_0 .. mu_9] gives every x.U_k and x.mu_k at once; then
        z_k = x.U_k - mu_k.U_k and |x - mu_k|^2 = |x|^2 - 2 x.mu_k + |mu_k|^2, the
        expansion `pca.knn` uses. No (n, 784) difference per digit is ever made.
        """
        q = self.directions_.shape[2]
        mu = self.mean_.astype(np.float64)  # (10, 784)
        u = self.directions_.astype(np.float64).transpose(1, 0, 2).reshape(D, DIGITS * q)
        products = x @ np.hstack([u, mu.T])  # (n, 10 q + 10)
        z = products[:, : DIGITS * q].reshape(-1, DIGITS, q)  # (n, 10, q): x.U_k
        z -= np.einsum("kd,kdq->kq", mu, self.directions_.astype(np.float64))  # - mu_k.U_k
        x_mu = products[:, DIGITS * q :]  # (n, 10)
        distance = np.einsum("nd,nd->n", x, x)[:, None] - 2 * x_mu + (mu * mu).sum(axis=1)
        return z, distance, u

    def log_likelihood(self, x: np.ndarray) -> np.ndarray:
        """s_k = ln N(x; mu_k, C_k) for every digit, (G4)-(G6): (n, 784) -> (n, 10)."""
        z, distance, _ = self._subspaces(_rows(x))  # (n, 10, q), (n, 10)
        return self._scores(z, distance)

    def _scores(self, z: np.ndarray, distance: np.ndarray) -> np.ndarray:
        """(G4)-(G6) from the coordinates z (n, 10, q) and |x - mu_k|^2 (n, 10): (n, 10)."""
        lam = self.variances_.astype(np.float64)  # (10, q)
        sigma2 = self.sigma2_.astype(np.float64)  # (10,)
        r = distance - (z**2).sum(axis=2)  # (n, 10): squared distance off each subspace
        mahalanobis = (z**2 / lam).sum(axis=2) + r / sigma2  # (n, 10)  (G5)
        log_det = np.log(lam).sum(axis=1) + (D - lam.shape[1]) * np.log(sigma2)  # (G6)
        return np.asarray(-0.5 * (D * LN_2PI + log_det + mahalanobis))  # (G4)

    def _with_threshold(self, s: np.ndarray) -> np.ndarray:
        """The ten scores (n, 10) and class 10's constant score, threshold_: (n, 11)."""
        return np.hstack([s, np.full((len(s), 1), self.threshold_)])

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(G8): softmax(s / T) over the eleven scores, (n, 784) -> (n, 11), rows summing
        to 1; column 10 is "not a digit"."""
        p = _softmax(self._with_threshold(self.log_likelihood(x)) / self.temperature_)
        return p.astype(_dtype(x))

    def rejects(self, x: np.ndarray) -> np.ndarray:
        """(n,) bool: True where no digit's score reaches `threshold_` ("not a digit")."""
        return np.asarray(self.log_likelihood(x).max(axis=1) < self.threshold_)

    def input_gradient(self, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """d(-ln p_target)/dx for each row, (G7) and (G9): (n, 784).

        Descend it to make the target digit more likely. (G7) regrouped,
        ds_k/dx = -[(x - mu_k) / sigma2_k + U_k (z_k (1/lambda_k - 1/sigma2_k))], lets
        the ten digits' terms, weighted by c_k = (p_k - [k = t]) / T from (G9), be summed
        with two matrix products.
        """
        rows = _rows(x)
        targets = np.asarray(targets, dtype=np.intp)
        if targets.shape != (len(rows),) or np.any((targets < 0) | (targets > DIGITS)):
            raise FoolDigitsError(f"targets must be {len(rows)} classes 0..10, one per image")
        z, distance, u = self._subspaces(rows)  # (n, 10, q), (n, 10), (784, 10 q)
        lam = self.variances_.astype(np.float64)  # (10, q)
        sigma2 = self.sigma2_.astype(np.float64)  # (10,)
        c = _softmax(self._with_threshold(self._scores(z, distance)) / self.temperature_)
        c[np.arange(len(rows)), targets] -= 1  # (n, 11): p_k - [k = t]
        c = c[:, :DIGITS] / self.temperature_  # (G9); ds_10/dx = 0: class 10 drops out
        along = c[:, :, None] * z * (1 / lam - 1 / sigma2[:, None])  # (n, 10, q)
        grad = (rows * (c / sigma2).sum(axis=1)[:, None]  # sum_k c_k x / sigma2_k
                - (c / sigma2) @ self.mean_.astype(np.float64)  # sum_k c_k mu_k / sigma2_k
                + along.reshape(len(rows), -1) @ u.T)  # sum_k c_k U_k (...)  (n, 784)
        return np.asarray(-grad).astype(_dtype(x))  # (G7): ds/dx carries a minus sign

    # -- the model protocol ------------------------------------------------------------
    def describe(self) -> str:
        """One line, e.g. "generative 10 PPCA q=25 T=63"."""
        return (f"generative {DIGITS} PPCA q={self.directions_.shape[2]} "
                f"T={self.temperature_:.3g}")

    def arrays(self) -> dict[str, np.ndarray]:
        """What a model file holds besides `kind` and `meta_*`, all float32."""
        return {"mean": self.mean_, "directions": self.directions_,
                "variances": self.variances_, "sigma2": self.sigma2_,
                "temperature": np.array(self.temperature_, dtype=np.float32),
                "threshold": np.array(self.threshold_, dtype=np.float32)}

    @classmethod
    def shapes(cls, file: NpzReader) -> dict[str, tuple[int, ...]]:
        """The arrays to read and their shapes, from the headers alone; q is read from
        `directions` (10, 784, q) and bounded before anything is allocated."""
        headers = file.headers
        if "directions" not in headers:
            raise FoolDigitsError("the generative model has no 'directions' array")
        found = headers["directions"][0]
        if len(found) != 3 or found[:2] != (DIGITS, D):
            raise FoolDigitsError(f"the generative model's 'directions' has shape {found}; "
                                  f"expected ({DIGITS}, {D}, q)")
        q = found[2]
        if not 1 <= q <= MAX_COMPONENTS or DIGITS * (D + 1) * (q + 1) > MAX_PARAMETERS:
            raise FoolDigitsError(f"the generative model asks for q = {q:,} directions; "
                                  f"it may have 1 to {MAX_COMPONENTS}")
        expected = {"mean": (DIGITS, D), "directions": (DIGITS, D, q),
                    "variances": (DIGITS, q), "sigma2": (DIGITS,), "temperature": (),
                    "threshold": ()}
        for key, shape in expected.items():
            if key not in headers:
                raise FoolDigitsError(f"the generative model has no {key!r} array")
            have, dtype = headers[key]
            if dtype.kind not in "fiu":
                raise FoolDigitsError(f"the generative model's {key!r} holds {dtype} "
                                      "values; it must hold real numbers")
            if have != shape:
                raise FoolDigitsError(f"the generative model's {key!r} has shape {have}; "
                                      f"q = {q} needs {shape}")
        return expected

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], texts: dict[str, str]) -> Generative:
        """The model from checked, finite float32 arrays; refuses variances that are not a
        covariance (sigma2 <= 0, a direction with less variance than sigma2, T < 0.001) and
        directions that are not orthonormal, where (G5)-(G7) would not hold."""
        u = np.asarray(arrays["directions"], dtype=np.float32)
        lam = np.asarray(arrays["variances"], dtype=np.float32)
        sigma2 = np.asarray(arrays["sigma2"], dtype=np.float32)
        temperature = float(arrays["temperature"])
        if np.any(sigma2 <= 0) or np.any(lam < sigma2[:, None]) or not temperature > 0:
            raise FoolDigitsError("the generative model's variances are not a covariance: "
                                  "each needs sigma2 > 0, variances >= sigma2 and T > 0")
        if temperature < np.float32(MIN_TEMPERATURE):  # as stored: T was rounded to float32
            raise FoolDigitsError(f"the generative model's temperature T = {temperature:.3g} "
                                  f"is below {MIN_TEMPERATURE:g}, the lowest `fit` chooses")
        gram = np.einsum("kdi,kdj->kij", u.astype(np.float64), u.astype(np.float64))
        if np.abs(gram - np.eye(u.shape[2])).max() > 1e-3:  # (10, q, q) ~ identities
            raise FoolDigitsError("the generative model's directions are not orthonormal")
        model = cls(u.shape[2])
        model.mean_ = np.asarray(arrays["mean"], dtype=np.float32)
        model.directions_, model.variances_, model.sigma2_ = u, lam, sigma2
        model.temperature_, model.threshold_ = temperature, float(arrays["threshold"])
        return model


def _rows(x: np.ndarray) -> np.ndarray:
    """Images as (n, 784) float64 rows, or a clear error. Bytes (uint8, as
    `load_mnist(train_bytes=True)` keeps them) become byte / 255 as `data.to_float` does."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) * BYTE_TO_PIXEL
    rows = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if rows.ndim != 2 or rows.shape[1] != D:
        raise FoolDigitsError(f"images must be rows of {D} pixels, got shape {np.shape(x)}")
    return rows


def _dtype(x: np.ndarray) -> type[np.float32 | np.float64]:
    """float64 answers for float64 images (finite differences), else float32."""
    return np.float64 if np.asarray(x).dtype == np.float64 else np.float32


def _softmax(a: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by each row's maximum so exp never overflows: (n, 10)."""
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _log_loss(s: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean -ln p_label of softmax(s / T): the validation cost step 4 minimises."""
    a = s / temperature  # (n, 10)
    top = a.max(axis=1)
    log_sum = top + np.log(np.exp(a - top[:, None]).sum(axis=1))  # (n,) ln sum_j exp(a_j)
    return float(np.mean(log_sum - a[np.arange(len(a)), labels]))


def _fit_temperature(s: np.ndarray, labels: np.ndarray, low: float = MIN_TEMPERATURE,
                     high: float = 1e6, steps: int = 80) -> float:
    """Golden-section search for the T in [low, high] of least validation log-loss.

    The log-loss is convex in 1/T, hence has a single minimum along ln T: each step
    keeps the part of the bracket holding it, 0.618 of the last; 80 steps leave a
    bracket of about 1e-16 of the first.
    """
    labels = np.asarray(labels, dtype=np.intp)
    a, b = np.log(low), np.log(high)
    ratio = (np.sqrt(5) - 1) / 2  # 0.618...
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = _log_loss(s, labels, np.exp(c)), _log_loss(s, labels, np.exp(d))
    for _ in range(steps):
        if fc <= fd:  # the minimum is in [a, d]
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = _log_loss(s, labels, np.exp(c))
        else:  # in [c, b]
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = _log_loss(s, labels, np.exp(d))
    return float(np.exp((a + b) / 2))
