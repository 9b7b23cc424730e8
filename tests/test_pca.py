"""PCA against np.linalg.svd, round trips, and the classifiers on a slice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from fooldigits import FoolDigitsError
from fooldigits.cli import app
from fooldigits.core.data import Dataset
from fooldigits.lessons.pca import PCA, components_for, knn, nearest_mean, subspace


@pytest.fixture(scope="module")
def fitted(small_train: tuple[np.ndarray, np.ndarray]) -> PCA:
    return PCA().fit(small_train[0][:600])


def test_components_are_orthonormal(fitted: PCA) -> None:
    gram = fitted.components_ @ fitted.components_.T
    assert np.allclose(gram, np.eye(784), atol=1e-6)


def test_variances_and_vectors_match_svd(fitted: PCA, small_train: tuple[np.ndarray, np.ndarray]
                                         ) -> None:
    X = small_train[0][:600].astype(np.float64)
    X_c = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(X_c, full_matrices=False)
    variances = s**2 / (len(X) - 1)
    assert np.allclose(fitted.explained_variance_[:100], variances[:100], rtol=1e-3, atol=1e-6)
    for i in range(10):  # equal up to sign
        assert abs(float(fitted.components_[i] @ vt[i])) == pytest.approx(1.0, abs=1e-3)
    assert fitted.explained_variance_ratio_.sum() == pytest.approx(1.0)
    assert np.all(np.diff(fitted.explained_variance_) <= 1e-12)


def test_signs_are_deterministic(fitted: PCA) -> None:
    biggest = np.abs(fitted.components_).argmax(axis=1)
    assert np.all(fitted.components_[np.arange(784), biggest] > 0)


def test_round_trip_with_every_component(fitted: PCA,
                                         small_train: tuple[np.ndarray, np.ndarray]) -> None:
    X = small_train[0][600:700]
    assert np.allclose(fitted.inverse_transform(fitted.transform(X)), X, atol=1e-4)


def test_reconstruct_uses_only_k_components(fitted: PCA,
                                            small_train: tuple[np.ndarray, np.ndarray]) -> None:
    X = small_train[0][600:610]
    z = fitted.transform(X)
    padded = np.concatenate([z[:, :20], np.zeros((10, 784 - 20))], axis=1)
    assert np.allclose(fitted.reconstruct(X, 20), fitted.inverse_transform(padded), atol=1e-6)
    errors = [np.mean((fitted.reconstruct(X, k) - X) ** 2) for k in (5, 50, 784)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-8


def test_classifiers_beat_stated_accuracy(small_train: tuple[np.ndarray, np.ndarray],
                                          mnist: Dataset) -> None:
    x, y = small_train
    model = PCA(30).fit(x)
    tx, ty = mnist.test_images[:500], mnist.test_labels[:500]
    train_z, test_z = model.transform(x), model.transform(tx)
    assert np.mean(nearest_mean(train_z, y, test_z) == ty) > 0.7
    assert np.mean(knn(train_z, y, test_z, 3, block=128) == ty) > 0.88
    assert np.mean(subspace(x, y, tx, 15) == ty) > 0.85
    assert components_for(np.array([0.5, 0.25, 0.25]), 0.75) == 2


def test_bad_component_counts() -> None:
    for k in (0, 785):
        with pytest.raises(FoolDigitsError):
            PCA(k)


runner = CliRunner()


def test_pca_json_and_reconstruct(pca_run: dict[str, Any], tiny_data_dir: Path) -> None:
    """The command's JSON (conftest's run on 300 training and 100 test digits: the
    accuracies on the whole set are held to the docs by
    `test_classifiers_beat_stated_accuracy`)."""
    small = ["--data-dir", str(tiny_data_dir)]
    report = pca_run["report"]
    assert len(report["explained_variance_ratio"]) == 20 and report["components"] == 20
    assert set(report["accuracy"]) == {"nearest class mean", "3-nearest neighbours",
                                       "subspace per digit"}
    assert report["accuracy"]["3-nearest neighbours"] > 0.7
    result = runner.invoke(app, ["pca", "--reconstruct", "3", "--components", "10,50,200",
                                 "--json", *small])
    errors = json.loads(result.stdout)["error"]
    assert errors[0] > errors[1] > errors[2]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--components", "0"], "between 1 and 784"), (["--components", "785"], "between 1 and 784"),
     (["--components", "ten"], "whole numbers"), (["--reconstruct", "10000"], "test image number"),
     (["--reconstruct", "-1"], "test image number")],
)
def test_pca_bad_inputs(args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["pca", *args])
    assert result.exit_code == 1 and fragment in result.stderr
    assert "Traceback" not in result.output


def test_the_knn_search_reports_every_block_and_agrees_with_knn(
        small_train: tuple[np.ndarray, np.ndarray], mnist: Dataset) -> None:
    from fooldigits.core.pieces import Step
    from fooldigits.lessons.pca import compare_classifiers, knn_blocks

    x, y = small_train
    model = PCA(20).fit(x)
    tx, ty = mnist.test_images[:1200], mnist.test_labels[:1200]
    train_z, test_z = model.transform(x), model.transform(tx)
    search = knn_blocks(train_z, y, test_z, 3, block=500)
    done = []
    while True:
        try:
            done.append(next(search))
        except StopIteration as end:
            labels = end.value
            break
    assert done == [500, 1000, 1200]
    assert np.array_equal(labels, knn(train_z, y, test_z, 3, block=128))
    steps: list[Step] = []
    stream = compare_classifiers(model, x, y, tx, ty, 20)
    while True:
        try:
            steps.append(next(stream))
        except StopIteration as end:
            results = end.value
            break
    counted = [s for s in steps if s.total == 1200]
    assert [s.done for s in counted] == [0, 500, 1000, 1200]  # the bar moves and counts
    assert "3-NN" in counted[0].label
    assert results["3-nearest neighbours"][0] == float(np.mean(labels == ty))
