"""The fused training step against the textbook one, the epoch loop against a plain loop,
and the neuron and cost classes against their definitions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fooldigits import FoolDigitsError, neurons
from fooldigits.data import load_mnist
from fooldigits.network import Network, SGDConfig, one_hot, sgd, shift_images
from fooldigits.training import Step, textbook_step

CHOICES = [("sigmoid", "softmax", "cross-entropy"), ("sigmoid", "sigmoid", "cross-entropy"),
           ("sigmoid", "sigmoid", "quadratic"), ("relu", "softmax", "cross-entropy")]


def _twins(choice: tuple[str, str, str], dtype: type) -> tuple[Network, Network]:
    activation, output, cost = choice
    net = Network([6, 5, 4, 10], activation=activation, output=output, cost=cost,
                  rng=np.random.default_rng(3))
    net.w = [w.astype(dtype) for w in net.w]
    net.b = [b.astype(dtype) for b in net.b]
    return net, net.copy()


@pytest.mark.parametrize("choice", CHOICES)
@pytest.mark.parametrize(("decay", "mu"), [(1.0, 0.0), (0.99, 0.0), (0.99, 0.9)])
@pytest.mark.parametrize(("dtype", "tolerance"), [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_fused_step_takes_the_textbook_step(choice: tuple[str, str, str], decay: float,
                                            mu: float, dtype: type, tolerance: float) -> None:
    fast, book = _twins(choice, dtype)
    step = Step(fast, 7)
    v_w, v_b = [np.zeros_like(w) for w in book.w], [np.zeros_like(b) for b in book.b]
    rng = np.random.default_rng(4)
    for m in (7, 7, 3, 7):  # a short last batch too, then a full one again
        x: np.ndarray = rng.random((m, 6)).astype(dtype)
        y = one_hot(rng.integers(0, 10, m), dtype)
        step(x, y, 0.5, decay, mu)
        textbook_step(book, x, y, 0.5, decay, mu, v_w, v_b)
    for ours, theirs in zip(fast.w + fast.b, book.w + book.b, strict=True):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=tolerance)
    assert not np.allclose(fast.w[0], _twins(choice, dtype)[0].w[0])  # it did learn


@pytest.mark.parametrize("shift", [False, True])
def test_sgd_is_the_plain_loop_of_textbook_steps(shift: bool) -> None:
    """Blocks of shuffled rows, shifts drawn once an epoch, eta decaying every batch: the
    same network as the loop written out, from the same seed."""
    data = np.random.default_rng(0)
    x = (data.random((451, 784)) < 0.2).astype(np.float32)  # 226 batches: blocks of 2
    labels = data.integers(0, 10, 451)
    config = SGDConfig(epochs=2, batch_size=2, eta=0.3, lmbda=2.0, momentum=0.5,
                       final_eta_ratio=0.2, shift=shift)
    ours = Network([784, 5, 10], rng=np.random.default_rng(1))
    book = ours.copy()
    events = list(sgd(ours, x, labels, config, np.random.default_rng(2)))
    assert sum(1 for e in events if type(e).__name__ == "BatchDone") > 100
    rng, n, m = np.random.default_rng(2), len(x), config.batch_size
    v_w, v_b = [np.zeros_like(w) for w in book.w], [np.zeros_like(b) for b in book.b]
    batches = -(-n // m)
    for epoch in range(config.epochs):
        order = rng.permutation(n)
        xs = shift_images(x, rng, order) if shift else x[order]
        ys = one_hot(labels[order])
        for k in range(batches):
            eta = config.eta * (1 - 0.8 * (epoch + k / batches) / config.epochs)
            textbook_step(book, xs[k * m : (k + 1) * m], ys[k * m : (k + 1) * m], eta,
                          1 - eta * config.lmbda / n, config.momentum, v_w, v_b)
    for a, b in zip(ours.w + ours.b, book.w + book.b, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_shift_images_takes_given_shifts() -> None:
    x = np.arange(2 * 784, dtype=np.float32).reshape(2, 784)
    moved = shift_images(x, np.random.default_rng(0), np.array([1, 0]),
                         shift=np.array([[0, 1], [1, 0]])).reshape(2, 28, 28)
    images = x.reshape(2, 28, 28)
    assert np.array_equal(moved[0, :, 1:], images[1, :, :-1])  # image 1, one pixel right
    assert np.array_equal(moved[1, 1:], images[0, :-1])  # image 0, one pixel down
    assert not moved[0, :, 0].any() and not moved[1, 0].any()


def test_neurons_worked_example() -> None:
    z = np.array([0.0, 2.0])
    a = neurons.Sigmoid.fn(z)
    np.testing.assert_allclose(a, [0.5, 0.8808], atol=1e-4)
    np.testing.assert_allclose(neurons.Sigmoid.prime(a), [0.25, 0.1050], atol=1e-4)
    p = neurons.Softmax.fn(z[None])
    np.testing.assert_allclose(p, [[0.1192, 0.8808]], atol=1e-4)
    y = np.array([[0.0, 1.0]])
    np.testing.assert_allclose(neurons.LogLikelihoodCost.fn(p, y), [0.1269], atol=1e-4)
    np.testing.assert_allclose(neurons.LogLikelihoodCost.delta(p, y), [[0.1192, -0.1192]],
                               atol=1e-4)


@pytest.mark.parametrize("cls", [neurons.Sigmoid, neurons.ReLU, neurons.Softmax])
def test_in_place_gives_the_same_numbers(cls: type[neurons.Layer]) -> None:
    z = np.random.default_rng(0).normal(0, 30, (5, 10)).astype(np.float32)  # some saturate
    fresh = cls.fn(z)
    assert cls.fn(z, out=z) is z and np.array_equal(z, fresh)
    assert np.all(np.isfinite(fresh))


def test_slopes_match_finite_differences() -> None:
    z, h = np.linspace(-4, 4, 17), 1e-6
    for cls in (neurons.Sigmoid, neurons.ReLU):
        numeric = (cls.fn(z + h) - cls.fn(z - h)) / (2 * h)
        keep = np.abs(z) > 1e-3  # ReLU has no slope at 0
        np.testing.assert_allclose(cls.prime(cls.fn(z))[keep], numeric[keep], atol=1e-6)


def test_bp2_delta_is_back_times_the_slope() -> None:
    rng = np.random.default_rng(1)
    back, a = rng.normal(size=(4, 6)), neurons.Sigmoid.fn(rng.normal(size=(4, 6)))
    for cls in (neurons.Sigmoid, neurons.ReLU):
        a_l = cls.fn(rng.normal(size=(4, 6))) if cls is neurons.ReLU else a
        want = back * cls.prime(a_l)
        np.testing.assert_allclose(cls.delta(back, a_l), want, rtol=1e-15)
        copy = back.copy()
        assert cls.delta(copy, a_l, out=copy) is copy
        np.testing.assert_allclose(copy, want, rtol=1e-15)


def test_choices_are_classes_picked_by_name() -> None:
    net = Network([784, 3, 10], activation="relu", output="sigmoid", cost="quadratic")
    assert (net.neuron, net.output_layer, net.cost_function) == (
        neurons.ReLU, neurons.Sigmoid, neurons.QuadraticCost)
    assert (net.activation, net.output, net.cost) == ("relu", "sigmoid", "quadratic")
    with pytest.raises(FoolDigitsError, match="unknown choice: activation 'tanh'"):
        neurons.choose("tanh", "softmax", "cross-entropy")
    with pytest.raises(FoolDigitsError, match="quadratic cost goes with a sigmoid output"):
        neurons.choose("sigmoid", "softmax", "quadratic")


def test_training_module_imports_on_its_own() -> None:
    done = subprocess.run([sys.executable, "-c", "import fooldigits.training"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("shift", "adversarial"), [(False, 0.0), (True, 0.0), (True, 0.1)])
def test_training_on_the_bytes_gives_the_very_same_network(shift: bool,
                                                           adversarial: float) -> None:
    """`load_mnist(train_bytes=True)` leaves the training images as bytes; sgd makes each
    block floats as it gathers it, and must learn exactly what it learns from the floats."""
    floats, raw = load_mnist(), load_mnist(train_bytes=True)
    assert raw.train_images.dtype == np.uint8 and raw.train_images.shape == (50_000, 784)
    assert np.array_equal(raw.validation_images, floats.validation_images)
    x8, x, labels = raw.train_images[:700], floats.train_images[:700], floats.train_labels[:700]
    config = SGDConfig(epochs=2, batch_size=10, eta=0.5, lmbda=1.0, momentum=0.5,
                       final_eta_ratio=0.2, shift=shift, adversarial=adversarial)
    nets = []
    for images in (x, x8):
        net = Network([784, 20, 10], rng=np.random.default_rng(3))
        for _ in sgd(net, images, labels, config, np.random.default_rng(4)):
            pass
        nets.append(net)
    for a, b in zip(nets[0].w + nets[0].b, nets[1].w + nets[1].b, strict=True):
        assert np.array_equal(a, b)
