"""SGD against the loop written out, every trainable kind's gradients against finite
differences, and the neuron and cost classes against their definitions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core.data import load_mnist
from fooldigits.lessons.training import SGDConfig, sgd, shift_images
from fooldigits.models import neurons
from fooldigits.models.base import Trainable, one_hot
from fooldigits.models.linear import Linear
from fooldigits.models.network import Network

CHOICES = [("sigmoid", "softmax", "cross-entropy"), ("sigmoid", "sigmoid", "cross-entropy"),
           ("sigmoid", "sigmoid", "quadratic"), ("relu", "softmax", "cross-entropy")]


def _written_out(model: Trainable, x: np.ndarray, labels: np.ndarray, config: SGDConfig,
                 rng: np.random.Generator) -> None:
    """Nielsen's SGD written out plainly, nabla from backprop (the test's reference)."""
    n, m = len(x), config.batch_size
    params = model.parameters()
    velocities = [np.zeros_like(p) for p, _ in params]
    batches = -(-n // m)
    for epoch in range(config.epochs):
        order = rng.permutation(n)
        shifts = rng.integers(-1, 2, size=(n, 2)) if config.shift else None
        for k in range(batches):
            rows = order[k * m:(k + 1) * m]
            xb = x[rows] if shifts is None else shift_images(x, rng, rows, shift=shifts[rows])
            eta = config.eta * (1 - (1 - config.final_eta_ratio) * (epoch + k / batches)
                                / config.epochs)
            nabla = model.gradient(xb, one_hot(labels[rows], classes=model.classes))
            for (p, decays), v, g in zip(params, velocities, nabla, strict=True):
                v[...] = config.momentum * v - (eta / len(rows)) * g
                p[...] = (1 - eta * config.lmbda / n if decays else 1) * p + v


@pytest.mark.parametrize("shift", [False, True])
@pytest.mark.parametrize("kind", ["dense", "linear"])
def test_sgd_is_the_plain_loop_of_the_book(shift: bool, kind: str) -> None:
    """Shuffled mini-batches, shifts drawn once an epoch, eta decaying every batch, momentum
    and weight decay on weights only: the same model as the loop written out, from the
    same seed, for every trainable kind."""
    data = np.random.default_rng(0)
    x = (data.random((451, 784)) < 0.2).astype(np.float32)  # 226 batches
    labels = data.integers(0, 10, 451)
    config = SGDConfig(epochs=2, batch_size=2, eta=0.3, lmbda=2.0, momentum=0.5,
                       final_eta_ratio=0.2, shift=shift)
    ours: Trainable = (Network([784, 5, 10], rng=np.random.default_rng(1)) if kind == "dense"
                       else Linear(rng=np.random.default_rng(1)))
    book = ours.copy()
    events = list(sgd(ours, x, labels, config, np.random.default_rng(2)))
    assert sum(1 for e in events if type(e).__name__ == "BatchDone") > 100
    _written_out(book, x, labels, config, np.random.default_rng(2))
    for (a, _), (b, _) in zip(ours.parameters(), book.parameters(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    assert not np.allclose(ours.parameters()[0][0], ours.fresh(10, data).parameters()[0][0])


@pytest.mark.parametrize("kind", ["dense", "linear"])
def test_gradients_match_finite_differences(kind: str) -> None:
    """`gradient` (every parameter) and `input_gradient` against central differences of
    the cost, in float64."""
    rng = np.random.default_rng(5)
    model: Trainable = (Network([784, 6, 10], rng=rng) if kind == "dense" else Linear(rng=rng))
    model = type(model).from_arrays({k: v.astype(np.float64) for k, v in model.arrays().items()
                                     if v.dtype.kind != "U"},
                                    {k: str(v[()]) for k, v in model.arrays().items()
                                     if v.dtype.kind == "U"})
    x, labels = rng.random((3, 784)), np.array([2, 7, 0])
    y = one_hot(labels, np.float64)

    def cost() -> float:
        return float(-np.sum(y * np.log(model.probabilities(x))))

    h = 1e-6
    for (p, _), g in zip(model.parameters(), model.gradient(x, y), strict=True):
        for index in map(tuple, rng.integers(0, p.shape, size=(4, p.ndim))):
            old = p[index]
            p[index] = old + h
            up = cost()
            p[index] = old - h
            down = cost()
            p[index] = old
            assert g[index] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-7)
    grad = model.input_gradient(x, labels)  # (3, 784)
    for row, pixel in [(0, 300), (1, 400), (2, 500)]:
        old = x[row, pixel]
        x[row, pixel] = old + h
        up = cost()
        x[row, pixel] = old - h
        down = cost()
        x[row, pixel] = old
        assert grad[row, pixel] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-7)


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
    done = subprocess.run([sys.executable, "-c", "import fooldigits.lessons.training"],
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


def test_weights_too_large_for_a_model_file_stop_training_as_divergence(
        small_train: tuple[np.ndarray, np.ndarray]) -> None:
    """eta = 1e5 with momentum sends softmax regression's weights to ~1e5..1e6 and beyond,
    all finite: `train` saved such a file, which `load_model` then refused as holding
    numbers over `MAX_MAGNITUDE`. Training now stops there, as for NaN."""
    x, labels = small_train
    model = Linear(rng=np.random.default_rng(0))
    config = SGDConfig(epochs=3, batch_size=32, eta=1e5, lmbda=0.0, momentum=0.99)
    with pytest.raises(FoolDigitsError, match="NaN, infinite or larger than 1,000,000"):
        for _ in sgd(model, x, labels, config, np.random.default_rng(0)):
            pass
    assert all(np.all(np.isfinite(p)) for p, _ in model.parameters())  # finite, yet too big
