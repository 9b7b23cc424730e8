"""The generative classifier: ten probabilistic PCAs, checked against the full maths."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.core.reading import NpzReader
from fooldigits.models import load_model
from fooldigits.models.generative import D, Generative


@pytest.fixture(scope="module")
def model(mnist: Dataset) -> Generative:
    """Fitted on 3,000 training images, q chosen among 5, 10, 20 on 1,000 validation ones
    (under a second)."""
    return Generative((5, 10, 20)).fit(mnist.train_images[:3000], mnist.train_labels[:3000],
                                       mnist.validation_images[:1000],
                                       mnist.validation_labels[:1000])


def full_log_likelihood(model: Generative, x: np.ndarray, digits: list[int]) -> np.ndarray:
    """ln N(x; mu_k, C_k) for each digit k of `digits`, with C_k = W W^T + sigma2 I built
    as a (784, 784) matrix, through slogdet and solve: no Woodbury, no subspace."""
    x = x.astype(np.float64)
    s = np.empty((len(x), len(digits)))
    for i, k in enumerate(digits):
        u = model.directions_[k].astype(np.float64)  # (784, q)
        lam, sigma2 = model.variances_[k].astype(np.float64), float(model.sigma2_[k])
        w = u * np.sqrt(lam - sigma2)  # (G2)
        c = w @ w.T + sigma2 * np.eye(D)  # (G1)
        sign, log_det = np.linalg.slogdet(c)
        assert sign > 0
        d = x - model.mean_[k].astype(np.float64)  # (n, 784)
        mahalanobis = np.sum(d * np.linalg.solve(c, d.T).T, axis=1)
        s[:, i] = -0.5 * (D * np.log(2 * np.pi) + log_det + mahalanobis)
    return s


def test_log_likelihood_equals_the_full_covariance(model: Generative, mnist: Dataset) -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([mnist.test_images[:5], rng.random((3, D), dtype=np.float32)])
    # three digits' full 784x784 covariances (~0.05 s CPU each): the ten scores come from
    # one computation for all digits at once, and test_exercise_ppca holds every digit of
    # the shipped model to the same q-dimensional formula
    digits = [0, 4, 9]
    fast, full = model.log_likelihood(x), full_log_likelihood(model, x, digits)
    assert fast.shape == (8, 10)
    # to a millionth: the float32 directions are orthonormal only to about 1e-7, and a
    # wrong formula (a missing log det term, sigma2 where lambda belongs) is off by units
    np.testing.assert_allclose(fast[:, digits], full, rtol=1e-6)


def cost(model: Generative, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """-ln p_target, from the eleven scores in float64 (probabilities may round to 0):
    the ten log-likelihoods and class 10's constant, the threshold."""
    s = model.log_likelihood(x)
    a = np.hstack([s, np.full((len(s), 1), model.threshold_)]) / model.temperature_
    top = a.max(axis=1)
    log_sum = top + np.log(np.exp(a - top[:, None]).sum(axis=1))
    return np.asarray(log_sum - a[np.arange(len(x)), targets])


def test_input_gradient_equals_finite_differences(model: Generative, mnist: Dataset) -> None:
    rng = np.random.default_rng(1)
    x = np.vstack([mnist.test_images[:2], rng.random((1, D))]).astype(np.float64)
    targets = np.array([mnist.test_labels[0], 10, 2])  # a digit, "not a digit", a digit
    grad = model.input_gradient(x, targets)
    assert grad.shape == (3, D) and grad.dtype == np.float64
    h = 1e-5
    for pixel in rng.choice(D, 12, replace=False):  # single pixels, central differences
        step = np.zeros_like(x)
        step[:, pixel] = h
        numeric = (cost(model, x + step, targets) - cost(model, x - step, targets)) / (2 * h)
        np.testing.assert_allclose(grad[:, pixel], numeric, rtol=1e-5, atol=1e-6)
    v = rng.standard_normal(x.shape)  # and one random direction over all pixels at once
    numeric = (cost(model, x + h * v, targets) - cost(model, x - h * v, targets)) / (2 * h)
    np.testing.assert_allclose((grad * v).sum(axis=1), numeric, rtol=1e-5)


def test_descending_the_gradient_raises_the_target(model: Generative, mnist: Dataset) -> None:
    x = mnist.test_images[:4]
    targets = np.array([3, 3, 3, 3])
    before = model.probabilities(x)[:, 3]
    after = model.probabilities(x - 1e-3 * model.input_gradient(x, targets))[:, 3]
    assert np.all(after > before)


def test_probabilities_are_rows_summing_to_one(model: Generative, mnist: Dataset) -> None:
    rng = np.random.default_rng(2)
    x = np.vstack([mnist.test_images[:50], rng.random((50, D), dtype=np.float32),
                   np.zeros((1, D), np.float32), np.ones((1, D), np.float32)])
    p = model.probabilities(x)
    assert p.shape == (102, 11) and p.dtype == np.float32
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-6)
    assert model.probabilities(x[0]).shape == (1, 11)  # one image as a (784,) row
    # class 10 is "not a digit": its argmax is exactly `rejects`
    np.testing.assert_array_equal(p.argmax(axis=1) == 10, model.rejects(x))
    assert p[50:100, 10].min() > 0.99  # noise: not a digit


def test_fitted_on_mnist_it_reads_digits_and_rejects_noise(model: Generative,
                                                           mnist: Dataset) -> None:
    # measured: 92.45% on these 2,000 test images (95.76% fitted on all 50,000)
    assert model.directions_.shape[2] in (5, 10, 20)
    accuracy = np.mean(model.probabilities(mnist.test_images[:2000]).argmax(axis=1)
                       == mnist.test_labels[:2000])
    assert accuracy > 0.90
    assert model.validation_accuracy_ > 0.90 and model.temperature_ > 0
    real = model.rejects(mnist.test_images[:2000])  # the threshold lets 99% of real pass
    assert real.dtype == bool and real.mean() < 0.03
    noise = np.random.default_rng(3).random((200, D), dtype=np.float32)
    assert model.rejects(noise).all()


def saved(model: Generative) -> dict[str, np.ndarray]:
    """arrays() through a real .npz in memory, read back without pickles."""
    buffer = io.BytesIO()
    arrays: dict[str, Any] = model.arrays()  # Any: numpy's stub mixes the names with flags
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def headers(arrays: dict[str, np.ndarray]) -> dict[str, tuple[tuple[int, ...], np.dtype[Any]]]:
    return {key: (a.shape, a.dtype) for key, a in arrays.items()}


def reader(found: dict[str, Any]) -> NpzReader:
    """What `shapes` reads of a file: its headers (and its path, for messages)."""
    return cast(NpzReader, SimpleNamespace(headers=found, path=Path("m.npz")))


def test_save_and_load_round_trip(model: Generative, mnist: Dataset, tmp_path: Path) -> None:
    arrays = saved(model)
    shapes = Generative.shapes(reader(headers(arrays)))
    assert shapes == {key: a.shape for key, a in arrays.items()}
    assert all(a.dtype == np.float32 for a in arrays.values())
    twin = Generative.from_arrays({key: arrays[key] for key in shapes}, {})
    x = mnist.test_images[:20]
    np.testing.assert_array_equal(twin.log_likelihood(x), model.log_likelihood(x))
    np.testing.assert_array_equal(twin.rejects(x), model.rejects(x))
    assert twin.describe() == model.describe() and twin.kind == "generative"
    assert twin.classes == 11
    model.save(tmp_path / "g.npz")
    loaded = load_model(tmp_path / "g.npz")
    assert isinstance(loaded, Generative)
    np.testing.assert_array_equal(loaded.probabilities(x), model.probabilities(x))


def test_shapes_refuses_wrong_and_huge_headers(model: Generative) -> None:
    good = headers(model.arrays())
    q = model.directions_.shape[2]
    f32 = np.dtype(np.float32)
    bad: list[tuple[dict[str, Any], str]] = [
        ({k: v for k, v in good.items() if k != "sigma2"}, "no 'sigma2'"),
        ({k: v for k, v in good.items() if k != "directions"}, "no 'directions'"),
        ({**good, "mean": ((10, 783), f32)}, "'mean' has shape"),
        ({**good, "variances": ((10, q + 1), f32)}, "'variances' has shape"),
        ({**good, "directions": ((10, 784, 10**9), f32)}, "q = 1,000,000,000"),
        ({**good, "directions": ((10, 784, 784), f32)}, "q = 784"),
        ({**good, "directions": ((10, 784), f32)}, "expected (10, 784, q)"),
        ({**good, "directions": ((11, 784, q), f32)}, "expected (10, 784, q)"),
        ({**good, "temperature": ((), np.dtype("<U5"))}, "real numbers"),
    ]
    for wrong, words in bad:
        with pytest.raises(FoolDigitsError, match=re.escape(words)):
            Generative.shapes(reader(wrong))


def test_from_arrays_refuses_what_is_not_a_covariance(model: Generative) -> None:
    arrays = model.arrays()
    for key, factor, words in (("sigma2", -1, "not a covariance"),
                               ("variances", 0, "not a covariance"),
                               ("temperature", 0, "not a covariance"),
                               ("directions", 2, "not orthonormal")):
        wrong = {**arrays, key: np.float32(factor) * arrays[key]}
        with pytest.raises(FoolDigitsError, match=words):
            Generative.from_arrays(wrong, {})


def test_bad_arguments_get_one_sentence(mnist: Dataset) -> None:
    with pytest.raises(FoolDigitsError, match="components"):
        Generative(0)
    x, y = mnist.train_images[:100], mnist.train_labels[:100]
    with pytest.raises(FoolDigitsError, match="training images"):
        Generative(20).fit(x, y, x, y)  # about ten images a digit for 20 directions
    with pytest.raises(FoolDigitsError, match="784 pixels"):
        Generative(5).fit(x[:, :700], y, x, y)
    # a --data-dir of 3 training images left none to validate on: it said "fit needs a
    # label 0..9 for every image, and validation images"
    with pytest.raises(FoolDigitsError, match="needs validation images to set its "
                       "temperature and its 'not a digit' threshold; there are none"):
        Generative(5).fit(x, y, x[:0], y[:0])
    with pytest.raises(FoolDigitsError, match=r"a label 0\.\.9 for every image"):
        Generative(5).fit(x, y + 10, x, y)


def test_bytes_are_read_as_pixels(model: Generative, mnist: Dataset) -> None:
    as_bytes = np.rint(mnist.test_images[:10] * 255).astype(np.uint8)
    np.testing.assert_array_equal(model.log_likelihood(as_bytes),
                                  model.log_likelihood(mnist.test_images[:10]))
