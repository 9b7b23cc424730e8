"""Backprop against finite differences, training thresholds, files, the shipped model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.lessons.training import SGDConfig, sgd, shift_images
from fooldigits.models.base import one_hot
from fooldigits.models.network import Network
from tests.conftest import load_dense


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
    again = load_dense(tmp_path / "m.npz")
    assert again.sizes == small_net.sizes and again.meta["command"].endswith("--seed 0")
    x = mnist.test_images[:50]
    assert np.array_equal(again.probabilities(x), small_net.probabilities(x))


def test_load_rejects_bad_files(tmp_path: Path, small_net: Network) -> None:
    with pytest.raises(FoolDigitsError, match="does not exist"):
        load_dense(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(FoolDigitsError, match="not a fooldigits model"):
        load_dense(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(FoolDigitsError, match="no 'sizes'"):
        load_dense(tmp_path / "other.npz")
    np.savez(tmp_path / "words.npz", sizes=np.array(["a", "b"]))
    with pytest.raises(FoolDigitsError, match="not whole numbers"):
        load_dense(tmp_path / "words.npz")
    np.savez(tmp_path / "odd.npz", sizes=np.array([784, 10]), w0=np.zeros((784, 10)),
             b0=np.zeros(10), activation=np.array("tanh"))
    with pytest.raises(FoolDigitsError, match="unknown choice"):
        load_dense(tmp_path / "odd.npz")
    bad = small_net.copy()
    bad.w[0] = bad.w[0][:, :5]
    bad.save(tmp_path / "shape.npz")
    with pytest.raises(FoolDigitsError, match="wrongly shaped"):
        load_dense(tmp_path / "shape.npz")
    nan = small_net.copy()
    nan.w[1][0, 0] = np.nan
    nan.save(tmp_path / "nan.npz")
    with pytest.raises(FoolDigitsError, match="NaN"):
        load_dense(tmp_path / "nan.npz")


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


# -- hostile model files (issue 10, items 9, 13, 15) -------------------------------------
def _model(path: Path, **arrays: object) -> Path:
    """A model file: a valid 784-10 network unless `arrays` replace parts of it."""
    base: dict[str, object] = {"sizes": np.array([784, 10]), "w0": np.zeros((784, 10)),
                               "b0": np.zeros(10)}
    base.update(arrays)
    np.savez(path, **{k: v for k, v in base.items() if v is not None})  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize(
    ("arrays", "fragment"),
    [({"sizes": np.array([784, np.inf, 10])}, "not whole numbers: [784.0, inf, 10.0]"),
     ({"sizes": np.array([784, 2.5, 10])}, "not whole numbers"),
     ({"sizes": np.array(784)}, "'sizes' of shape (); a model has a list of 2 to 16"),
     ({"sizes": np.array([784] + [10_000] * 100 + [10])}, "of shape (102,)"),
     ({"sizes": np.array([784, 10_000, 10_000, 10])},
      "holds 107,960,010 weights and biases; fooldigits loads at most"),
     ({"sizes": np.array([784, -5, 10])}, "layers of 1 to 10,000 neurons"),
     ({"sizes": np.array([784, 2**70 // 2**10, 10], dtype=np.uint64)}, "layers of 1 to"),
     ({"sizes": np.array([784, 10], dtype="datetime64[s]")}, "they are dates"),
     ({"w0": np.full((784, 10), "a")}, "holds text in 'w0'; weights must be real numbers"),
     ({"w0": np.zeros((784, 10), complex)}, "holds complex numbers in 'w0'"),
     ({"b0": np.zeros(10, "datetime64[s]")}, "holds dates in 'b0'"),
     ({"b0": np.zeros(10, bool)}, "holds booleans in 'b0'"),
     ({"b0": np.array([0, "x"], dtype=object)}, "holds Python objects in 'b0'"),
     ({"w0": np.zeros((10, 784))}, "'w0' is (10, 784), this dense model needs (784, 10)"),
     ({"b0": None}, "missing weights: no 'b0'"),
     ({"w0": np.full((784, 10), 1e300)}, "NaN or infinite weights in 'w0' (or numbers "
      "too large for float32)"),
     ({"w0": np.full((784, 10), 3e38)}, "holds a number of 3e+38 in 'w0'; fooldigits reads "
      "models whose numbers are at most 1,000,000 in size"),  # finite, but overflows later
     ({"activation": np.array(["relu", "relu"])}, "'activation' that is not one short text"),
     ({"cost": np.array("x" * 5000)}, "'cost' that is not one short text"),
     ({"output": np.array("\x1b[31m")}, "unknown choice")],
)
def test_load_refuses_hostile_models_with_one_sentence(tmp_path: Path, arrays: dict[str, object],
                                                       fragment: str) -> None:
    with pytest.raises(FoolDigitsError) as info:
        load_dense(_model(tmp_path / "m.npz", **arrays))
    assert fragment in str(info.value)
    assert "\x1b" not in str(info.value)


def test_shapes_are_checked_before_any_weight_is_read(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "m.npz"  # 62 MB of valid zeros in layer 0, then a bad layer 1
    np.savez_compressed(path, sizes=np.array([784, 10_000, 10]),
                        w0=np.zeros((784, 10_000)), b0=np.zeros(10_000),
                        w1=np.zeros((10_000, 9)), b1=np.zeros(10))
    tracemalloc.start()
    with pytest.raises(FoolDigitsError, match="wrongly shaped weights: 'w1'"):
        load_dense(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20  # the file's bytes, not 62 MB of weights


def test_whole_float_sizes_and_integer_weights_load(tmp_path: Path, mnist: Dataset) -> None:
    net = load_dense(_model(tmp_path / "m.npz", sizes=np.array([784.0, 10.0]),
                              w0=np.ones((784, 10), dtype=np.int16)))
    assert net.sizes == [784, 10] and net.w[0].dtype == np.float32
    assert net.probabilities(mnist.test_images[:2]).shape == (2, 10)


def test_metadata_is_made_printable_on_load(tmp_path: Path) -> None:
    hostile = "\x1b[2J\x1b]0;owned\x07fooldigits\u202e train\n--seed 1\r" + "x" * 3000
    path = _model(tmp_path / "m.npz", meta_command=np.array(hostile),
                  **{"meta_bad name": np.array("hidden")})
    meta = load_dense(path).meta
    assert meta["command"].startswith("\\x1b[2J\\x1b]0;owned\\x07fooldigits\\u202e train\\n"
                                      "--seed 1\\rxxx")
    assert len(meta["command"]) == 1000 and meta["command"].endswith("…")
    assert all(ch.isprintable() for ch in meta["command"])
    assert list(meta) == ["command"]  # a key that is no identifier is skipped


def test_model_paths_that_are_not_files_say_what_they_are(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.npz")
    (tmp_path / "loop.npz").symlink_to("loop.npz")
    cases = {tmp_path: "is a folder, not a regular file",
             tmp_path / "fifo.npz": "is a FIFO (named pipe), not a regular file",
             Path("/dev/zero"): "is a character device, not a regular file",
             tmp_path / "loop.npz": "is a symlink loop"}
    for path, fragment in cases.items():
        with pytest.raises(FoolDigitsError) as info:
            load_dense(path)
        assert fragment in str(info.value)
