"""The convolutional network: every derivative against finite differences, im2col against
a direct loop, pooling's routing, and the file round trip with its refusals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.core.reading import NpzReader
from fooldigits.models import SHIPPED, load_model
from fooldigits.models.conv import MAX_CHANNELS, WEIGHTS, Conv
from fooldigits.models.convlayers import ConvPool, col2im, im2col

TINY = (2, 3, 5, 10)  # maps 1, maps 2, hidden, classes: a net small enough to loop over


def tiny_net(seed: int = 0, classes: int = 10) -> Conv:
    """A float64 net with random nonzero biases (no ReLU input sits exactly on its kink)."""
    rng = np.random.default_rng(seed)
    net = Conv((*TINY[:3], classes), rng=rng, dtype=np.float64)
    for array, is_weight in net.parameters():
        if not is_weight:
            array[...] = rng.normal(0, 0.1, array.shape)
    return net


def cost(net: Conv, x: np.ndarray, labels: np.ndarray) -> float:
    """Sum over the rows of -ln p_label: the cost `gradient` and `input_gradient` differentiate."""
    p = net.probabilities(x)
    return float(-np.sum(np.log(p[np.arange(len(x)), labels])))


def test_weight_and_bias_gradients_match_finite_differences() -> None:
    net, rng = tiny_net(), np.random.default_rng(1)
    x, labels = rng.random((3, 784)), np.array([3, 7, 0])
    x[0, :392] = 0  # a blank top half, like MNIST's background: pooling windows of
    # equal numbers (a positive bias, no ink), where a tie must share the gradient
    grads = net.gradient(x, np.eye(10)[labels])
    params = net.parameters()
    assert [g.shape for g in grads] == [p.shape for p, _ in params]
    assert [decays for _, decays in params] == [True, False] * 4
    for (p, _), g in zip(params, grads, strict=True):
        for flat in rng.choice(p.size, size=min(p.size, 6), replace=False):
            i = np.unravel_index(flat, p.shape)
            old = p[i]
            p[i] = old + 1e-6
            up = cost(net, x, labels)
            p[i] = old - 1e-6
            down = cost(net, x, labels)
            p[i] = old
            assert g[i] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-7)


def test_input_gradient_matches_finite_differences() -> None:
    net, rng = tiny_net(2, classes=11), np.random.default_rng(3)
    x, targets = rng.random((2, 784)), np.array([10, 4])
    g = net.input_gradient(x, targets)
    assert g.shape == (2, 784)
    for row in range(2):
        for pixel in rng.choice(784, size=8, replace=False):
            shifted = x.copy()
            shifted[row, pixel] += 1e-6
            up = cost(net, shifted, targets)
            shifted[row, pixel] -= 2e-6
            down = cost(net, shifted, targets)
            assert g[row, pixel] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-8)


def test_conv_pool_equals_a_direct_loop() -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 6, 8, 2))  # (c_in, h, w, n): 4x6 positions, pooled 2x3
    w, b = rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)  # (k, k, c_in, c_out)
    out = ConvPool(w, b).forward(a)
    assert out.shape == (4, 2, 3, 2)
    z = np.zeros((4, 4, 6, 2))  # the definition: a patch times the kernel, no flip, + b
    for o, i, j, n in np.ndindex(z.shape):
        z[o, i, j, n] = np.sum(a[:, i:i + 3, j:j + 3, n] * w[:, :, :, o].transpose(2, 0, 1))
        z[o, i, j, n] += b[o]
    for o, i, j, n in np.ndindex(out.shape):  # then the max of each 2x2 block
        assert out[o, i, j, n] == pytest.approx(z[o, 2 * i:2 * i + 2, 2 * j:2 * j + 2, n].max())


def test_im2col_makes_the_docs_example() -> None:
    a = np.arange(1, 13).reshape(1, 3, 4, 1)  # docs/conv.md: a 3x4 image, 2x2 patches
    expected = [[1, 2, 5, 6], [2, 3, 6, 7], [3, 4, 7, 8],
                [5, 6, 9, 10], [6, 7, 10, 11], [7, 8, 11, 12]]
    np.testing.assert_array_equal(im2col(a, 2), np.transpose(expected))  # a patch a column


def test_pooling_order_puts_the_corners_of_each_block_in_four_quarters() -> None:
    a = np.random.default_rng(15).standard_normal((3, 8, 10, 2))  # 6x8 positions
    plain = im2col(a, 3).reshape(27, 6, 8, 2)  # row by row: (patch, i, j, n)
    pooled = im2col(a, 3, pool=2).reshape(27, 2, 2, 3, 4, 2)  # (patch, p, q, bi, bj, n)
    for p, q, bi, bj in np.ndindex(2, 2, 3, 4):
        np.testing.assert_array_equal(pooled[:, p, q, bi, bj], plain[:, 2 * bi + p, 2 * bj + q])


@pytest.mark.parametrize("pool", [1, 2])
def test_col2im_is_the_adjoint_of_im2col(pool: int) -> None:
    rng = np.random.default_rng(5)  # 3x3 patches at 4x4 positions, in either order
    a, cols = rng.standard_normal((3, 6, 6, 2)), rng.standard_normal((27, 4 * 4 * 2))
    assert im2col(a, 3, pool).shape == cols.shape
    # <im2col(a), cols> = <a, col2im(cols)>: backward sends each entry where it came from
    assert np.sum(im2col(a, 3, pool) * cols) == pytest.approx(
        np.sum(a * col2im(cols, a.shape, 3, pool)))


def test_pooling_routes_the_gradient_to_the_max() -> None:
    rng = np.random.default_rng(6)
    a = rng.standard_normal((1, 5, 7, 2))  # 4x6 positions of a 2x2 kernel, pooled 2x3
    layer = ConvPool(rng.standard_normal((2, 2, 1, 3)), np.zeros(3))
    out = layer.forward(a)
    z = layer.quarters  # (c, 4, 2, 3, n): the four corners of every block, no ties
    delta = rng.standard_normal(out.shape)
    d_z = layer.nablas(delta).reshape(z.shape)  # dC/dz
    for c, corner, i, j, n in np.ndindex(z.shape):
        at_max = z[c, corner, i, j, n] == z[c, :, i, j, n].max()
        assert d_z[c, corner, i, j, n] == (delta[c, i, j, n] if at_max else 0.0)
    layer.w[...] = 0  # four equal values (0) in every block share the block's gradient
    layer.forward(a)
    np.testing.assert_array_equal(layer.nablas(delta).reshape(z.shape),
                                  np.broadcast_to(delta[:, None] / 4, z.shape))


def test_default_net_shapes_and_probabilities() -> None:
    net = Conv(rng=np.random.default_rng(7))
    assert net.describe() == "conv 20c5-pool2-40c5-pool2-100-10"
    assert (net.kind, net.classes) == ("conv", 10)
    assert sum(p.size for p, _ in net.parameters()) == 85_670
    x = np.random.default_rng(8).random((200, 784), dtype=np.float32)  # several passes
    p = net.probabilities(x)
    assert p.shape == (200, 10) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(net.probabilities(x[:1]), p[:1], rtol=1e-5)
    assert net.input_gradient(x[:3], np.array([1, 2, 3])).dtype == np.float32
    assert net.probabilities(x[:0]).shape == (0, 10)
    assert net.input_gradient(x[:0], np.array([], dtype=int)).shape == (0, 784)
    with pytest.raises(FoolDigitsError, match="rows of 784"):
        net.probabilities(np.zeros((2, 783)))
    with pytest.raises(FoolDigitsError, match="targets"):
        net.input_gradient(x[:2], np.array([1, 10]))


@dataclass
class Headers:
    """What `Conv.shapes` reads of an `NpzReader`, made up without a file."""

    path: Path
    headers: dict[str, tuple[tuple[int, ...], np.dtype[Any]]]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    net = Conv((4, 6, 8, 11), rng=np.random.default_rng(9))
    path = tmp_path / "conv.npz"
    arrays: dict[str, Any] = net.arrays()
    np.savez(path, **arrays)
    with NpzReader(path, "model file") as npz:
        shapes = Conv.shapes(npz)
        arrays = {key: npz.read(key).astype(np.float32) for key in shapes}  # as load_model
    assert set(shapes) == {"sizes", *WEIGHTS}
    twin = Conv.from_arrays(arrays, {})
    assert twin.describe() == net.describe() == "conv 4c5-pool2-6c5-pool2-8-11"
    x = np.random.default_rng(10).random((5, 784), dtype=np.float32)
    np.testing.assert_array_equal(twin.probabilities(x), net.probabilities(x))
    for (a, _), (b, _) in zip(net.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_shipped_file_gives_the_definitions_probabilities(mnist: Dataset) -> None:
    # models/conv.npz was written before the maps went batch last; the same arrays must
    # still mean the same net: a float64 loop-free definition, each map (n, h, w, c)
    net = load_model(SHIPPED / "conv.npz")
    w = {key: a.astype(np.float64) for key, a in net.arrays().items()}
    x = mnist.test_images[:30]
    a = x.reshape(-1, 28, 28, 1).astype(np.float64)
    for kernels, b in ((w["w0"], w["b0"]), (w["w1"], w["b1"])):  # (k, k, c_in, c_out)
        patches = np.lib.stride_tricks.sliding_window_view(a, (5, 5), axis=(1, 2))
        z = np.einsum("nijcde,deco->nijo", patches, kernels)
        n, h, width, c = z.shape  # convolve, ReLU, pool 2x2, as in the diagram
        a = np.maximum(z + b, 0).reshape(n, h // 2, 2, width // 2, 2, c).max(axis=(2, 4))
    hidden = np.maximum(a.reshape(len(x), -1) @ w["w2"] + w["b2"], 0)  # (row, column, map)
    z = hidden @ w["w3"] + w["b3"]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(net.probabilities(x), p / p.sum(axis=1, keepdims=True),
                               atol=1e-5)


@pytest.mark.parametrize(("change", "message"), [
    (lambda h: h.pop("b2"), "'b2' is missing"),
    (lambda h: h.update(w0=((5, 5, 2, 20), np.dtype("f4"))), "'w0' has shape"),
    (lambda h: h.update(w1=((5, 5, 20), np.dtype("f4"))), "4, 4 and 2 axes"),
    (lambda h: h.update(w2=((640, 101), np.dtype("f4"))), "'w2' has shape"),
    (lambda h: h.update(w3=((100, 12), np.dtype("f4"))), "out of range"),
    (lambda h: h.update(w1=((5, 5, 20, 10**9), np.dtype("f4"))), "out of range"),
    (lambda h: h.update(w3=((9_000, 10), np.dtype("f4")),
                        w2=((640, 9_000), np.dtype("f4"))), "at most"),
    (lambda h: h.update(sizes=((5,), np.dtype("i8"))), "'sizes' has shape"),
])
def test_shapes_refuses_wrong_and_huge_headers(change: Any, message: str) -> None:
    arrays = Conv(rng=np.random.default_rng(11)).arrays()
    file = Headers(Path("m.npz"), {key: (a.shape, a.dtype) for key, a in arrays.items()})
    assert Conv.shapes(cast(NpzReader, file))["w1"] == (5, 5, 20, 40)
    change(file.headers)
    with pytest.raises(FoolDigitsError, match=message):
        Conv.shapes(cast(NpzReader, file))


def test_fresh_is_an_untrained_twin_with_the_classes_asked() -> None:
    net = Conv((4, 6, 8, 10), rng=np.random.default_rng(13))
    twin = net.fresh(11, np.random.default_rng(14))
    assert (twin.sizes, twin.classes, twin.dtype) == ((4, 6, 8, 11), 11, np.dtype(np.float32))
    assert not np.array_equal(twin.parameters()[0][0], net.parameters()[0][0])


def test_from_arrays_refuses_sizes_that_contradict_the_weights() -> None:
    arrays = Conv((2, 3, 5, 10), rng=np.random.default_rng(12)).arrays()
    arrays["sizes"] = np.array([2, 3, 6, 10])
    with pytest.raises(FoolDigitsError, match=r"\[2, 3, 6, 10\] are not the layer sizes"):
        Conv.from_arrays(arrays, {})
    arrays["sizes"], arrays["w2"][0, 0] = np.array([2, 3, 5, 10]), np.nan
    with pytest.raises(FoolDigitsError, match="finite"):
        Conv.from_arrays(arrays, {})
    with pytest.raises(FoolDigitsError, match="out of range"):
        Conv((MAX_CHANNELS + 1, 3, 5, 10), rng=np.random.default_rng(0))
