"""Backprop against finite differences, training thresholds, files, the shipped model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.data import Dataset
from fooldigits.network import Network, SGDConfig, one_hot, sgd, shift_images


def _float64(net: Network) -> Network:
    net.w = [w.astype(np.float64) for w in net.w]
    net.b = [b.astype(np.float64) for b in net.b]
    return net


@pytest.mark.parametrize(
    ("activation", "output", "cost"),
    [("sigmoid", "softmax", "cross-entropy"), ("sigmoid", "sigmoid", "cross-entropy"),
     ("sigmoid", "sigmoid", "quadratic"), ("relu", "softmax", "cross-entropy")],
)
def test_backprop_matches_finite_differences(activation: str, output: str, cost: str) -> None:
    rng = np.random.default_rng(3)
    net = _float64(Network([6, 5, 4, 10], activation=activation, output=output, cost=cost,
                           rng=rng))
    x, y = rng.random((7, 6)), one_hot(rng.integers(0, 10, 7), np.float64)
    nabla_b, nabla_w = net.backprop(x, y)
    h = 1e-6
    for layer in range(len(net.w)):
        for params, grad in ((net.w[layer], nabla_w[layer]), (net.b[layer], nabla_b[layer])):
            for index in list(np.ndindex(params.shape))[:12]:
                old = params[index]
                params[index] = old + h
                up = net.total_cost(x, y) * len(x)
                params[index] = old - h
                down = net.total_cost(x, y) * len(x)
                params[index] = old
                assert grad[index] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-7)


def test_input_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(4)
    net = _float64(Network([784, 8, 10], rng=rng))
    x, targets = rng.random((2, 784)), np.array([2, 7])
    grad = net.input_gradient(x, targets)
    assert grad.shape == (2, 784)
    h = 1e-6
    for row in range(2):
        for pixel in rng.choice(784, 10, replace=False):
            xp, xm = x[row : row + 1].copy(), x[row : row + 1].copy()
            xp[0, pixel] += h
            xm[0, pixel] -= h
            y = one_hot(targets[row : row + 1], np.float64)
            numeric = (net.total_cost(xp, y) - net.total_cost(xm, y)) / (2 * h)
            assert grad[row, pixel] == pytest.approx(numeric, rel=1e-4, abs=1e-8)


def test_probabilities_sum_to_one_for_both_outputs() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((5, 784)).astype(np.float32)
    for output in ("softmax", "sigmoid"):
        p = Network([784, 10, 10], output=output, rng=rng).probabilities(x)
        assert p.shape == (5, 10)
        assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_a_few_epochs_on_a_slice_beat_chance_by_far(small_net: Network, mnist: Dataset) -> None:
    assert small_net.accuracy(mnist.test_images[:2000], mnist.test_labels[:2000]) > 0.85


def test_momentum_decay_and_shift_train_too(small_train: tuple[np.ndarray, np.ndarray],
                                             mnist: Dataset) -> None:
    rng = np.random.default_rng(1)
    net = Network([784, 20, 10], rng=rng)
    config = SGDConfig(epochs=4, batch_size=20, eta=0.1, lmbda=0.5, momentum=0.9,
                       final_eta_ratio=0.0, shift=True)
    events = list(sgd(net, *small_train, config, rng, (mnist.test_images[:500],
                                                       mnist.test_labels[:500])))
    last = events[-1]
    assert getattr(last, "validation_accuracy", 0) > 0.8


def test_shift_moves_pixels_by_at_most_one() -> None:
    rng = np.random.default_rng(0)
    x = np.zeros((50, 784), dtype=np.float32)
    x[:, 14 * 28 + 14] = 1.0  # one lit pixel in the middle
    rows, cols = np.divmod(np.argmax(shift_images(x, rng), axis=1), 28)
    assert set(rows) <= {13, 14, 15} and set(cols) <= {13, 14, 15}
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 3


def test_save_load_round_trip(tmp_path: Path, small_net: Network, mnist: Dataset) -> None:
    small_net.meta["command"] = "fooldigits train --seed 0"
    small_net.save(tmp_path / "m.npz")
    again = Network.load(tmp_path / "m.npz")
    assert again.sizes == small_net.sizes and again.meta["command"].endswith("--seed 0")
    x = mnist.test_images[:50]
    assert np.array_equal(again.probabilities(x), small_net.probabilities(x))


def test_load_rejects_bad_files(tmp_path: Path, small_net: Network) -> None:
    with pytest.raises(FoolDigitsError, match="does not exist"):
        Network.load(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(FoolDigitsError, match="not a fooldigits model"):
        Network.load(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(FoolDigitsError, match="no 'sizes'"):
        Network.load(tmp_path / "other.npz")
    np.savez(tmp_path / "words.npz", sizes=np.array(["a", "b"]))
    with pytest.raises(FoolDigitsError, match="not whole numbers"):
        Network.load(tmp_path / "words.npz")
    np.savez(tmp_path / "odd.npz", sizes=np.array([784, 10]), w0=np.zeros((784, 10)),
             b0=np.zeros(10), activation=np.array("tanh"))
    with pytest.raises(FoolDigitsError, match="unknown choice"):
        Network.load(tmp_path / "odd.npz")
    bad = small_net.copy()
    bad.w[0] = bad.w[0][:, :5]
    bad.save(tmp_path / "shape.npz")
    with pytest.raises(FoolDigitsError, match="wrongly shaped"):
        Network.load(tmp_path / "shape.npz")
    nan = small_net.copy()
    nan.w[1][0, 0] = np.nan
    nan.save(tmp_path / "nan.npz")
    with pytest.raises(FoolDigitsError, match="NaN"):
        Network.load(tmp_path / "nan.npz")


def test_bad_network_choices() -> None:
    with pytest.raises(FoolDigitsError):
        Network([784, 0, 10])
    with pytest.raises(FoolDigitsError):
        Network([784, 10], cost="quadratic", output="softmax")


def test_shipped_model_reaches_98_percent(shipped: Network, mnist: Dataset) -> None:
    assert shipped.accuracy(mnist.test_images, mnist.test_labels) >= 0.98
    assert shipped.meta["command"].startswith("fooldigits train ")


def test_score_and_confusion_agree_with_predict(small_net: Network, mnist: Dataset) -> None:
    x, y = mnist.test_images[:500], mnist.test_labels[:500]
    accuracy, confidence = small_net.score(x, y)
    assert accuracy == small_net.accuracy(x, y)
    assert confidence == pytest.approx(float(small_net.probabilities(x).max(axis=1).mean()))
    confusion = small_net.confusion_matrix(x, y)
    assert confusion.sum() == 500
    assert np.array_equal(confusion.sum(axis=1), np.bincount(y, minlength=10))
    assert confusion.trace() / 500 == pytest.approx(accuracy)
