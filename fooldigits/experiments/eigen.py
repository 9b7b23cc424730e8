"""Chapter 3 as experiments: eigen-digits, explained variance, and simple PCA classifiers.

What this module teaches
------------------------
`pca` fits `pca.PCA` (centre, covariance, `eigh`) to the training images, draws the first
eigen-digits, charts the cumulative explained variance, and measures three classifiers
that live in k components (nearest class mean, k nearest neighbours, one subspace per
digit) beside the network. `reconstruct` rebuilds one test digit from k components.

    >>> result = yield from pca(x, y, tx, ty, ks=[50])
    >>> result.components_for_90        # 87 components hold 90% of the variance

What it leaves out: the maths (`pca.py`) and the drawing (`present.py`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fooldigits.core.pieces import Bars, Experiment, Images, Say, Step, Table

MARKS = (1, 2, 5, 10, 20, 50, 100, 200, 400, 784)


@dataclass
class PCAResult:
    explained_variance_ratio: list[float]
    components: int
    accuracy: dict[str, float]
    accuracy_by_components: dict[str, dict[str, float]]
    components_for_90: int
    components_for_95: int
    fit_seconds: float
    network_accuracy: float | None


def pca(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
        ks: Sequence[int] = (50,), show: int = 16, signed: bool = False, neighbours: int = 3,
        network_accuracy: float | None = None, marks: Sequence[int] = MARKS,
        facts: bool = True) -> Experiment[PCAResult]:
    """Eigen-digits, explained variance and the classifiers' test accuracy for each k."""
    from fooldigits.lessons import pca as pc

    pc.check_training(train_x, train_y)
    yield Step(f"fitting PCA to {len(train_x):,} images (784x784 covariance, eigh)")
    start = time.perf_counter()
    model = pc.PCA(max(max(ks), min(show, 784))).fit(train_x)
    fit_seconds = time.perf_counter() - start
    eigen = model.components_[:show]  # (show, 784)
    yield Images(f"the first {len(eigen)} eigen-digits" + (
        " (blue negative, red positive)" if signed else " (rescaled to black..white)"),
        pc.signed_scale(eigen) if signed else pc.unit_scale(eigen),
        [f"eigen-digit {i + 1}" for i in range(len(eigen))], signed=signed,
        columns=len(eigen) if len(eigen) <= 10 else 8)  # the tutor's 10 in one row, not 8 + 2
    ratio = model.all_variance_ratio_
    cumulative = np.cumsum(ratio)
    marks = [k for k in marks if k <= len(cumulative)]
    yield Bars("cumulative explained variance", [f"k = {k}" for k in marks],
               [float(cumulative[k - 1]) for k in marks], "{:.1%}")
    k90, k95 = pc.components_for(ratio, 0.9), pc.components_for(ratio, 0.95)
    if facts:
        yield Say(f"k = 10, 50, 100 explain {cumulative[9]:.1%}, {cumulative[49]:.1%}, "
                  f"{cumulative[99]:.1%}; 90% needs k = {k90}, 95% needs k = {k95}.")
    else:
        yield Say(f"90% of the variance needs {k90} components.")
    accuracy: dict[int, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    for k in ks:  # each classifier says how far it got (k-NN: per block of test digits)
        results = yield from pc.compare_classifiers(model, train_x, train_y, test_x, test_y,
                                                    k, neighbours)
        accuracy[k] = {name: acc for name, (acc, _) in results.items()}
        for name, (_, secs) in results.items():
            seconds[name] = seconds.get(name, 0.0) + secs
    rows: list[tuple[object, ...]] = [
        (name, *(f"{100 * accuracy[k][name]:.2f}%" for k in ks), f"{seconds[name]:.1f} s")
        for name in accuracy[ks[0]]]
    if network_accuracy is not None:
        rows.append(("the network (for contrast)", *(f"{100 * network_accuracy:.2f}%"
                                                     for _ in ks), "-"))
    yield Table("test accuracy of PCA classifiers", ["classifier", *(f"k = {k}" for k in ks),
                                                     "time"], rows)
    return PCAResult([float(r) for r in ratio[: max(ks)]], ks[0], accuracy[ks[0]],
                     {str(k): v for k, v in accuracy.items()}, k90, k95,
                     round(fit_seconds, 3), network_accuracy)


@dataclass
class ReconstructResult:
    index: int
    components: list[int]
    label: int
    error: list[float]


def reconstruct(train_x: np.ndarray, image: np.ndarray, index: int, digit: int,
                ks: Sequence[int]) -> Experiment[ReconstructResult]:
    """Test image `index` rebuilt from its first k components, for each k."""
    from fooldigits.lessons import pca as pc

    yield Step(f"fitting PCA to {len(train_x):,} images")
    model = pc.PCA(max(ks)).fit(train_x)
    rebuilt = [model.reconstruct(image[None], k)[0] for k in ks]  # each (784,)
    yield Images("a digit rebuilt from k eigen-digits", np.clip(np.stack([image, *rebuilt]),
                                                                0, 1),
                 [f"test #{index} (a {digit})", *(f"{k} components" for k in ks)])
    return ReconstructResult(index, list(ks), digit,
                             [float(np.mean((r - image) ** 2)) for r in rebuilt])
