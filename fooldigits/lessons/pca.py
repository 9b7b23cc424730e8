"""Eigen-digits: principal component analysis by hand, and three honest classifiers.

What this module teaches
------------------------
Treat each of the 784 pixels as a random variable and each training image as one draw.
The 784x784 covariance matrix says which pixels light up together; its eigenvectors,
drawn as images, are the "eigen-digits": ghostly strokes that, added up with the right
weights, rebuild any digit.

`PCA(n_components).fit(X)`, with X of shape (n, 784):

1. **centre**: subtract the mean image, X_c = X - mean. Only the mean: z-scoring
   (dividing each pixel by its standard deviation) fails here, because border pixels
   are 0 in every image, so their standard deviation is 0 and the division is 0/0;
2. **covariance**: C = X_c.T @ X_c / (n - 1), a (784, 784) symmetric matrix;
3. **eigh**: `np.linalg.eigh(C)` returns eigenvalues in ascending order with orthonormal
   eigenvectors as columns; reverse both so the largest variance comes first;
4. **sign**: an eigenvector v and -v are equally valid; flip each so that its largest
   |entry| is positive, so the same data always gives the same pictures.

If the eigenvalues were [6, 3, 1] then the first component explains 6/10 = 60% of the
variance, and two components 90%. Fitted attributes follow scikit-learn: `mean_`,
`components_` (k, 784), `explained_variance_`, `explained_variance_ratio_`.

The classifiers work in PCA space (all distances after `transform`):

* **nearest class mean**: the digit whose mean is closest -- the seed's kind of result;
* **k-nearest neighbours**: the majority label of the k closest training images,
  distances computed in blocks as |a|^2 - 2 a.b + |b|^2 (no Python loop over images);
  `knn_blocks` yields after each block, so a long search shows how far it got;
* **one subspace per digit**: fit a PCA to each digit's images; classify an image by
  which digit's subspace rebuilds it with the smallest error.

What it leaves out: randomised and incremental PCA, whitening.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import Step


class PCA:
    """Principal components of row-per-image data, fitted with `fit` (steps 1-4)."""

    def __init__(self, n_components: int | None = None) -> None:
        if n_components is not None and not 1 <= n_components <= 784:
            raise FoolDigitsError(f"n_components must be between 1 and 784, got {n_components}")
        self.n_components = n_components

    def fit(self, X: np.ndarray) -> PCA:
        """Fit to X (n, d); returns self, with mean_, components_ and the variances set."""
        n, d = X.shape
        if n < 2:
            raise FoolDigitsError("PCA needs at least two images")
        k = d if self.n_components is None else min(self.n_components, d)
        self.mean_ = X.mean(axis=0, dtype=np.float64)  # (d,)  step 1
        X_c = (X - self.mean_.astype(X.dtype)).astype(np.float32)  # (n, d)
        C = (X_c.T @ X_c).astype(np.float64) / (n - 1)  # (d, d)  step 2
        eigenvalues, eigenvectors = np.linalg.eigh(C)  # ascending  step 3
        eigenvalues = np.clip(eigenvalues[::-1], 0, None)  # rounding can leave -1e-9
        eigenvectors = eigenvectors[:, ::-1]
        biggest = np.argmax(np.abs(eigenvectors), axis=0)  # step 4
        eigenvectors *= np.sign(eigenvectors[biggest, np.arange(d)])
        self.components_ = eigenvectors[:, :k].T.copy()  # (k, d)
        self.explained_variance_ = eigenvalues[:k]
        total = eigenvalues.sum()  # 0 when every image is the same (all black, say)
        self.all_variance_ratio_ = eigenvalues / total if total > 0 else eigenvalues * 0.0
        self.explained_variance_ratio_ = self.all_variance_ratio_[:k]  # (d,) for the chart
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Coordinates in the components: (n, d) -> (n, k)."""
        return np.asarray((X - self.mean_) @ self.components_.T)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Back to pixels: (n, k) -> (n, d); exact when k = d."""
        return np.asarray(Z @ self.components_ + self.mean_)

    def reconstruct(self, X: np.ndarray, k: int) -> np.ndarray:
        """X (n, d) rebuilt from its first k components only: mean + sum of k eigen-digits."""
        return np.asarray(self.transform(X)[:, :k] @ self.components_[:k] + self.mean_)


def components_for(ratio: np.ndarray, share: float) -> int:
    """The fewest components whose cumulative explained variance reaches `share`."""
    return int(np.searchsorted(np.cumsum(ratio), share) + 1)


def check_training(X: np.ndarray, y: np.ndarray) -> None:
    """Refuse, in one sentence, training images the classifiers cannot learn from.

    Each digit needs at least two images (a subspace is fitted to each digit's own
    images, and a mean of none is 0/0), and the images must vary: if every one is the
    same (all black, say) the covariance is zero and there are no eigen-digits to find.
    """
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=10)[:10]
    few = [str(d) for d in range(10) if counts[d] < 2]
    if few:
        raise FoolDigitsError("the PCA classifiers need at least two training images of every "
                              f"digit; these hold fewer of {', '.join(few)}")
    if len(X) and np.all(X[0] == X):
        raise FoolDigitsError("every training image is the same (all black?): there is no "
                              "variance for PCA to find")


def nearest_mean(train_z: np.ndarray, train_y: np.ndarray, test_z: np.ndarray) -> np.ndarray:
    """Label of the closest class-mean point for each test row: (m,)."""
    means = np.stack([train_z[train_y == d].mean(axis=0) for d in range(10)])  # (10, k)
    distances = (test_z**2).sum(1)[:, None] - 2 * test_z @ means.T + (means**2).sum(1)
    return np.asarray(np.argmin(distances, axis=1))


def knn_blocks(train_z: np.ndarray, train_y: np.ndarray, test_z: np.ndarray, k: int = 3,
               block: int = 500) -> Generator[int, None, np.ndarray]:
    """`knn` one block of test rows at a time: yields how many rows are done after each
    block (a progress bar for a search that takes seconds) and returns the labels (m,)."""
    if not 1 <= k <= min(1000, len(train_z)):
        raise FoolDigitsError(f"neighbours must be between 1 and {min(1000, len(train_z))}, "
                              f"got {k}")
    train_z = train_z.astype(np.float32)
    train_sq = (train_z**2).sum(axis=1)  # (n,)
    predictions = np.empty(len(test_z), dtype=np.int64)
    for start in range(0, len(test_z), block):
        q = test_z[start : start + block].astype(np.float32)  # (b, k_dims)
        d = train_sq - 2 * q @ train_z.T  # (b, n); |q|^2 is the same for a whole row
        nearest = np.argpartition(d, k - 1, axis=1)[:, :k] if k < d.shape[1] else np.argsort(d)
        order = np.take_along_axis(d, nearest, axis=1).argsort(axis=1)
        labels = np.take_along_axis(train_y[nearest], order, axis=1)  # nearest first
        votes = np.zeros((len(q), 10))
        for rank in range(labels.shape[1]):  # k is small; each vote weighs a little less
            votes[np.arange(len(q)), labels[:, rank]] += 1 - rank * 1e-3
        predictions[start : start + block] = votes.argmax(axis=1)
        yield start + len(q)
    return predictions


def knn(train_z: np.ndarray, train_y: np.ndarray, test_z: np.ndarray, k: int = 3,
        block: int = 500) -> np.ndarray:
    """Majority label of the k nearest training rows (ties: the nearer wins): (m,)."""
    search = knn_blocks(train_z, train_y, test_z, k, block)
    while True:
        try:
            next(search)
        except StopIteration as done:
            return np.asarray(done.value)


def subspace(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
             k: int) -> np.ndarray:
    """Digit whose own k-component PCA rebuilds each test image best: (m,)."""
    errors = np.empty((len(test_x), 10))
    for digit in range(10):
        model = PCA(k).fit(train_x[train_y == digit])
        centred = test_x - model.mean_  # (m, 784)
        kept = centred @ model.components_.T  # (m, k)
        errors[:, digit] = (centred**2).sum(axis=1) - (kept**2).sum(axis=1)
    return np.asarray(np.argmin(errors, axis=1))


def compare_classifiers(
    model: PCA, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
    test_y: np.ndarray, k: int, neighbours: int = 3,
) -> Generator[Step, None, dict[str, tuple[float, float]]]:
    """Test accuracy and seconds of the three classifiers with k components each. Yields
    a `Step` as each starts, and one per block of test digits the k-NN search finishes
    (it takes most of the time: every test digit against every training image)."""
    train_z, test_z = model.transform(train_x)[:, :k], model.transform(test_x)[:, :k]
    n = len(test_z)
    results = {}
    for name in ("nearest class mean", f"{neighbours}-nearest neighbours",
                 "subspace per digit"):
        start = time.perf_counter()
        if name == "nearest class mean":
            yield Step(f"k = {k}: nearest class mean of {n:,} test digits")
            predicted = nearest_mean(train_z, train_y, test_z)
        elif name == "subspace per digit":
            yield Step(f"k = {k}: a {k}-component PCA per digit rebuilds {n:,} test digits")
            predicted = subspace(train_x, train_y, test_x, k)
        else:
            label = f"k = {k}: {neighbours}-NN among {len(train_z):,} images"
            yield Step(label, 0, n)
            search = knn_blocks(train_z, train_y, test_z, neighbours)
            while True:
                try:
                    yield Step(label, next(search), n)
                except StopIteration as done:
                    predicted = done.value
                    break
        results[name] = (float(np.mean(predicted == test_y)), time.perf_counter() - start)
    return results


# -- eigen-digits as pictures: a direction has a sign, a picture has a range ----------
def signed_scale(images: np.ndarray) -> np.ndarray:
    """Each row divided by its largest |value|, so it lies in [-1, 1] (eigen-digits)."""
    scale = np.abs(images).max(axis=1, keepdims=True)
    return np.asarray(images / np.where(scale > 0, scale, 1))


def unit_scale(images: np.ndarray) -> np.ndarray:
    """Each row stretched to [0, 1] (min -> 0, max -> 1), as the seed showed eigen-digits."""
    lo, hi = images.min(axis=1, keepdims=True), images.max(axis=1, keepdims=True)
    return np.asarray((images - lo) / np.where(hi > lo, hi - lo, 1))
