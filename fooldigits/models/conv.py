"""A small convolutional network: Nielsen's chapter 6 in NumPy, by im2col.

What this module teaches
------------------------
Chapter 6 of Nielsen's book replaces the first fully connected layers with *local
receptive fields* and *shared weights*: a hidden neuron looks at a 5x5 patch of the
image only, and every neuron of a *feature map* uses the same 5x5 kernel, so the map
finds one kind of stroke wherever it is. A *max-pooling* layer then keeps the largest
of each 2x2 block: where a stroke is, not exactly where. The default net here is his:

    image 28x28 -> conv 5x5, 20 maps -> ReLU -> max-pool 2 -> conv 5x5, 40 maps -> ReLU
          -> max-pool 2 -> dense 100 ReLU -> dense 10 softmax, log-likelihood cost

How it is computed: *im2col*. Copy every 5x5 patch of the input into one row of a
matrix (the patch matrix, "image to columns"); then the whole convolution of a batch is
one matrix product with the kernels, one kernel per column: `z = cols @ w + b`, exactly
the dense layer's `z = a @ w + b` of `network.py`. Backward is the same matrix algebra
(BP3, BP4 with `cols` in the place of `a`), plus *col2im*, which adds each row of patch
gradients back onto the pixels it was copied from.

Images are *channels last*, (n, height, width, channels): (n, 784) is (n, 28, 28, 1)
without a copy. A kernel bank is (5, 5, c_in, c_out), inputs first as `network.py`'s
(n_in, n_out). It computes what every deep-learning library calls convolution,
cross-correlation: the kernel is laid on the patch as it is, not flipped. Each layer is
a small class (micrograd style): `forward(a)` keeps what `backward` will need;
`backward(delta)` takes dC/d(output), returns dC/d(input) and sets its nablas.

Worked example: a batch of n images through `Conv(rng=rng)`. Conv 1's `im2col` makes
(n * 576, 25), 24x24 patches of 5x5x1 an image; `@ w0` (5, 5, 1, 20) gives
(n, 24, 24, 20), pooled to (n, 12, 12, 20). Conv 2: (n * 64, 500) patches of 5x5x20,
`@ w1` (5, 5, 20, 40), (n, 8, 8, 40), pooled to (n, 4, 4, 40) = (n, 640); then dense
(n, 100) and softmax (n, 10). 85,670 weights and biases (the dense 784-100-10: 79,510).

What it leaves out: padding and strides other than 1, other kernel and pool sizes (5
and 2, fixed), dropout, batch normalisation, and automatic differentiation: every
derivative is written out by hand, and a test checks each with finite differences.
"""
from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.files import NpzReader
from fooldigits.models.base import Trainable

SIZES = (20, 40, 100, 10)  # feature maps of conv 1 and 2, hidden neurons, classes
KERNEL, POOL, SIDE = 5, 2, 28  # 5x5 kernels, 2x2 pooling, 28x28 images
MAP1 = SIDE - KERNEL + 1  # 24: conv 1's maps are 24x24, pooled to 12x12
MAP2 = MAP1 // POOL - KERNEL + 1  # 8: conv 2's maps are 8x8, pooled to 4x4
MAX_CHANNELS = 128  # feature maps in a convolutional layer; the default has 20 and 40
MAX_HIDDEN = 10_000  # neurons in the dense hidden layer
MAX_PARAMETERS = 5_000_000  # weights and biases (20 MB as float32); the default: 85,670
PASS_FLOATS = 2**22  # numbers in the patch matrices of one forward pass (16 MB float32)
WEIGHTS = ("w0", "b0", "w1", "b1", "w2", "b2", "w3", "b3")  # as stored, layer by layer


# -- im2col and its adjoint --------------------------------------------------------------
@functools.cache
def patch_index(h: int, w: int, k: int, pool: int = 1) -> np.ndarray:
    """Which pixel each entry of each k x k patch of an h x w image is: (h' * w' * k*k,).

    Pixels are numbered row by row, i * w + j. The patch at output pixel (i, j) holds
    pixel (i + di) * w + (j + dj) as its entry (di, dj). The patches come in *pooling
    order*: write i = pool * bi + p, j = pool * bj + q, block (bi, bj) and corner (p, q)
    of the pool x pool blocks; first every block's corner (0, 0), then corner (0, 1),
    and so on, each block row by row. With pool = 1 that is plain row-by-row order.
    h' and w' must be multiples of pool. Cached: read-only, shared by every call.
    """
    p, q, bi, bj, di, dj = np.meshgrid(  # six axes that broadcast to (p, q, bi, bj, di, dj)
        *map(np.arange, (pool, pool, (h - k + 1) // pool, (w - k + 1) // pool, k, k)),
        indexing="ij", sparse=True)
    index = ((pool * bi + p + di) * w + pool * bj + q + dj).reshape(-1)
    index.flags.writeable = False
    return index


def im2col(a: np.ndarray, k: int, pool: int = 1) -> np.ndarray:
    """Every k x k patch of every image as one row: (n, h, w, c) -> (n * h' * w', k*k*c).

    h' = h - k + 1 and w' = w - k + 1 ("valid" patches, stride 1). Each row holds a
    patch a[image, i:i+k, j:j+k, :] flattened in (row, column, channel) order, the order
    of a kernel bank's first three axes; the rows go image by image, each image's in
    `patch_index`'s order. One gather: `np.take` copies each pixel's c channels to
    every place `patch_index` names, for every image at once.
    """
    n, h, w, c = a.shape
    pixels = a.reshape(n, h * w, c)  # (n, h*w, c): each pixel's channels (a view)
    cols = np.take(pixels, patch_index(h, w, k, pool), axis=1)  # (n, h'*w'*k*k, c)
    return cols.reshape(n * (h - k + 1) * (w - k + 1), k * k * c)  # a view of that copy


def col2im(cols: np.ndarray, shape: tuple[int, ...], k: int, pool: int = 1) -> np.ndarray:
    """The adjoint of `im2col`: add each patch row back onto the pixels it came from.

    (n * h' * w', k*k*c) -> `shape` (n, h, w, c). A pixel inside several patches gets
    the sum of its entries: that is the chain rule, since it fed every one of them.
    """
    n, h, w, c = shape
    h_out, w_out = h - k + 1, w - k + 1
    patches = cols.reshape(n, pool, pool, h_out // pool, w_out // pool, k, k, c)
    a = np.zeros(shape, dtype=cols.dtype)  # (n, h, w, c)
    for p, q, di, dj in itertools.product(range(pool), range(pool), range(k), range(k)):
        # corner (p, q)'s patches send entry (di, dj) back to every pool-th pixel from
        # (p + di, q + dj): one (n, h'/pool, w'/pool, c) slab of the whole batch
        a[:, p + di:p + di + h_out:pool, q + dj:q + dj + w_out:pool] += patches[:, p, q, :, :,
                                                                                 di, dj]
    return a


# -- the layers, each forward beside its backward -----------------------------------------
class ConvPool:
    """A convolution, 2x2 max-pooling, then the bias: Nielsen's `network3.ConvPoolLayer`.

    Each output pixel of the convolution is a patch of a times a kernel; pooling keeps
    the largest of each 2x2 block of those; then each map's bias is added. Adding it
    after the max is exact, and 4 times fewer additions: max_i(z_i + b) = max_i(z_i) + b,
    as b is the same for the four (and adding b keeps the order of the four numbers, in
    floating point too). The patches come in `im2col`'s pooling order, so z is four
    *quarter maps*, one per corner of the blocks, and pooling is the largest of four
    whole arrays.
    """

    cols: np.ndarray  # forward keeps the patch matrix (BP4 needs it), the four quarter
    quarters: np.ndarray  # maps and their max (to route the gradient), the input's shape
    pooled: np.ndarray
    shape: tuple[int, ...]

    def __init__(self, w: np.ndarray, b: np.ndarray) -> None:
        self.w, self.b = w, b  # (k, k, c_in, c_out), (c_out,)
        self.nabla_w, self.nabla_b = np.zeros_like(w), np.zeros_like(b)

    def forward(self, a: np.ndarray) -> np.ndarray:
        """(n, h, w, c_in) -> (n, h'/2, w'/2, c_out), with h' = h - k + 1 (even)."""
        k, _, c_in, c_out = self.w.shape
        n, h, w, _ = self.shape = a.shape
        self.cols = im2col(a, k, POOL)  # 1. (n * h' * w', k*k*c_in), in pooling order
        z = self.cols @ self.w.reshape(k * k * c_in, c_out)  # 2. (n * h' * w', c_out)
        self.quarters = z.reshape(n, POOL * POOL, (h - k + 1) // POOL, (w - k + 1) // POOL,
                                  c_out)  # (n, 4, h'/2, w'/2, c_out): a map per corner
        self.pooled = self.quarters.max(axis=1)  # 3. the max of each block's four corners
        out: np.ndarray = self.pooled + self.b  # 4. the bias, after the max
        return out

    def backward(self, delta: np.ndarray) -> np.ndarray:
        """delta = dC/d(output) (n, h'/2, w'/2, c_out) -> dC/da (n, h, w, c_in); sets
        the nablas. Backward through step 1 is `col2im`, the adjoint of `im2col`."""
        k, _, c_in, c_out = self.w.shape
        rows = self.nablas(delta)  # (n * h' * w', c_out): dC/dz, in pooling order
        d_cols = rows @ self.w.reshape(k * k * c_in, c_out).T  # (BP2's w.T) (n*h'*w', k*k*c_in)
        return col2im(d_cols, self.shape, k, POOL)  # each copy back to its pixel

    def nablas(self, delta: np.ndarray) -> np.ndarray:
        """Back through steps 4, 3, 2 only: all the first layer needs in training (dC/dx
        is not). Sets nabla_b, nabla_w; returns dC/dz as a row per patch (n * h' * w', c_out).

        Pooling's derivative is 1 for the corner that held the block's max, 0 for the
        others; where several tie (a blank background gives four equal numbers) they
        share the block's delta, since the max moves with each of them.
        """
        self.nabla_b = delta.sum(axis=(0, 1, 2))  # (BP3) (c_out,): b was added to each
        where = (self.quarters == self.pooled[:, None]).astype(delta.dtype)  # 1 at the max
        share = delta / where.sum(axis=1)  # (n, h'/2, w'/2, c_out): shared on a tie
        rows: np.ndarray = (where * share[:, None]).reshape(-1, self.w.shape[-1])  # (n*h'*w', c)
        self.nabla_w = (self.cols.T @ rows).reshape(self.w.shape)  # (BP4) (k, k, c_in, c_out)
        return rows


class ReLU:
    """a = max(z, 0), and its slope [a > 0]."""

    a: np.ndarray  # forward keeps its output: the slope is [a > 0]

    def forward(self, z: np.ndarray) -> np.ndarray:
        """Any shape -> the same shape, computed in place (z is not needed again).

        After a `ConvPool` it is applied to the pooled maps, 4 times fewer numbers than
        before the pool, with the same result: ReLU never reverses an order (if u <= v
        then relu(u) <= relu(v)), so relu(max(u, v)) = max(relu(u), relu(v)).
        """
        self.a = np.maximum(z, 0, out=z)
        return self.a

    def backward(self, delta: np.ndarray) -> np.ndarray:
        """dC/da -> dC/dz = dC/da * relu'(z) (BP2's elementwise factor)."""
        return delta * (self.a > 0)


class Dense:
    """z = a @ w + b, `network.py`'s layer; a batch of feature maps is flattened first."""

    a: np.ndarray  # forward keeps its input, flat (BP4 needs it), and the input's shape
    shape: tuple[int, ...]

    def __init__(self, w: np.ndarray, b: np.ndarray) -> None:
        self.w, self.b = w, b  # (n_in, n_out), (n_out,)
        self.nabla_w, self.nabla_b = np.zeros_like(w), np.zeros_like(b)

    def forward(self, a: np.ndarray) -> np.ndarray:
        """(n, ...) -> z (n, n_out); the input is kept flat as (n, n_in)."""
        self.shape = a.shape
        self.a = a.reshape(len(a), math.prod(a.shape[1:]))  # (n, 4, 4, 40) -> (n, 640)
        z: np.ndarray = self.a @ self.w  # (n, n_out)
        z += self.b
        return z

    def backward(self, delta: np.ndarray) -> np.ndarray:
        """delta = dC/dz (n, n_out) -> dC/da in the input's shape; sets the nablas."""
        self.nabla_b = delta.sum(axis=0)  # (BP3) (n_out,)
        self.nabla_w = self.a.T @ delta  # (BP4) (n_in, n_out)
        back: np.ndarray = delta @ self.w.T  # (BP2's delta @ w.T) (n, n_in)
        return back.reshape(self.shape)  # (n, ...), as the input came


class Softmax:
    """a_j = e^z_j / sum_k e^z_k, with the log-likelihood cost C = -ln a_y."""

    @staticmethod
    def forward(z: np.ndarray) -> np.ndarray:
        """(n, classes) -> rows summing to 1; the row's max is subtracted first (no overflow)."""
        e: np.ndarray = np.exp(z - z.max(axis=1, keepdims=True))  # (n, classes)
        e /= e.sum(axis=1, keepdims=True)
        return e

    @staticmethod
    def backward(a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(BP1) with the log-likelihood cost: delta_L = dC/dz_L = a - y, (n, classes)."""
        delta: np.ndarray = a - y
        return delta


# -- the network ------------------------------------------------------------------------
class Conv(Trainable):
    """`Conv(rng=rng)`: conv 20 -> pool -> conv 40 -> pool -> 100 -> 10, He-initialised.

    `sizes` = (maps of conv 1, maps of conv 2, hidden neurons, classes); `classes` is 10
    (the digits) or 11 (with class 10, "not a digit"). Kernels and the hidden layer get
    He's N(0, 2 / fan_in), the output layer N(0, 1 / n_in), every bias 0. `dtype` is
    float32 for use; the tests make float64 twins for finite differences.
    """

    kind: ClassVar[str] = "conv"

    def __init__(self, sizes: Sequence[int] = SIZES, *, rng: np.random.Generator,
                 dtype: type[np.floating[Any]] = np.float32) -> None:
        self.sizes = _check_sizes(sizes)
        self.classes = self.sizes[3]
        self.meta: dict[str, str] = {}
        weights = {}
        for key, shape in _weight_shapes(self.sizes).items():
            fan_in = math.prod(shape[:-1])  # k*k*c_in for a kernel bank, n_in for dense
            gain = 1.0 if key == "w3" else 2.0  # He for the ReLU layers
            weights[key] = (np.zeros(shape) if key[0] == "b" else
                            rng.standard_normal(shape) * np.sqrt(gain / fan_in)).astype(dtype)
        self._build(weights)

    def _build(self, weights: Mapping[str, np.ndarray]) -> None:
        """The layers, around the weights (shared, not copied: SGD updates them in place)."""
        self.conv1 = ConvPool(weights["w0"], weights["b0"])
        self.conv2 = ConvPool(weights["w1"], weights["b1"])
        self.hidden = Dense(weights["w2"], weights["b2"])
        self.last = Dense(weights["w3"], weights["b3"])
        self.layers: list[ConvPool | ReLU | Dense] = [
            self.conv1, ReLU(), self.conv2, ReLU(), self.hidden, ReLU(), self.last]
        self.output = Softmax()

    def fresh(self, classes: int, rng: np.random.Generator) -> Self:
        """An untrained net of the same sizes with `classes` outputs (10 or 11)."""
        return type(self)((*self.sizes[:3], classes), rng=rng, dtype=self.dtype.type)

    @property
    def dtype(self) -> np.dtype[Any]:
        """float32 (or float64 for a test's twin): what every input is turned into."""
        return self.conv1.w.dtype

    def describe(self) -> str:
        """One line: "conv 20c5-pool2-40c5-pool2-100-10"."""
        c1, c2, hidden, classes = self.sizes
        return f"conv {c1}c{KERNEL}-pool{POOL}-{c2}c{KERNEL}-pool{POOL}-{hidden}-{classes}"

    # -- forward and backward ----------------------------------------------------------
    def _forward(self, x: np.ndarray) -> np.ndarray:
        """(n, 784) -> probabilities (n, classes), every layer keeping what backward needs."""
        a = x.reshape(len(x), SIDE, SIDE, 1)  # (n, 28, 28, 1): rows of pixels, one channel
        for layer in self.layers:
            a = layer.forward(a)
        return self.output.forward(a)  # (n, classes)

    def _backward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Forward x, then delta_L = a - y (BP1) back down every layer above the first:
        every nabla but conv 1's, and dC/d(output) of conv 1, (n, 12, 12, c1)."""
        delta = self.output.backward(self._forward(x), y)  # (n, classes)
        for layer in reversed(self.layers[1:]):
            delta = layer.backward(delta)
        return delta

    def _images(self, x: np.ndarray) -> np.ndarray:
        """Check and convert a batch: (n, 784) in this network's dtype."""
        x = np.atleast_2d(x)
        if x.ndim != 2 or x.shape[1] != SIDE * SIDE:
            raise FoolDigitsError(f"images must be rows of {SIDE * SIDE} pixels, got an "
                                  f"array of shape {x.shape}")
        return x.astype(self.dtype, copy=False)

    def _passes(self, n: int) -> list[slice]:
        """The rows of each forward pass: as many images as keep its patch matrices within
        `PASS_FLOATS` numbers (90 for the default sizes); one pass even for no images."""
        per_image = KERNEL**2 * (MAP1 * MAP1 + MAP2 * MAP2 * self.sizes[0])  # both matrices
        step = max(1, PASS_FLOATS // per_image)
        return [slice(i, i + step) for i in range(0, max(n, 1), step)]

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(n, 784) float32 in [0, 1] -> (n, classes), rows summing to 1."""
        x = self._images(x)
        return np.concatenate([self._forward(x[rows]) for rows in self._passes(len(x))])

    def input_gradient(self, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(n, 784): d(-ln p_target)/dx for each row against its own target class.

        Descend it to make the target more likely (dream, fool); ascend the true label's
        to make an adversarial example. Backprop all the way down to the pixels.
        """
        x = self._images(x)
        targets = np.asarray(targets, dtype=np.intp).reshape(-1)
        if len(targets) != len(x) or np.any((targets < 0) | (targets >= self.classes)):
            raise FoolDigitsError(f"targets must be {len(x)} classes in 0..{self.classes - 1}")
        y = np.eye(self.classes, dtype=self.dtype)[targets]  # (n, classes), one-hot
        parts = [self.conv1.backward(self._backward(x[rows], y[rows]))  # (m, 28, 28, 1)
                 for rows in self._passes(len(x))]
        return np.concatenate(parts).reshape(len(x), SIDE * SIDE)

    # -- training (the generic SGD loop calls these) -----------------------------------
    def parameters(self) -> list[tuple[np.ndarray, bool]]:
        """Every array SGD updates in place, True for weights (L2 decay), False for biases."""
        return [(array, is_weight) for layer in (self.conv1, self.conv2, self.hidden, self.last)
                for array, is_weight in ((layer.w, True), (layer.b, False))]

    def gradient(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """The cost's gradient summed over the mini-batch x (m, 784) with desired outputs
        y (m, classes): one array per entry of `parameters()`, same order and shapes."""
        self.conv1.nablas(self._backward(self._images(x), y))
        return [nabla for layer in (self.conv1, self.conv2, self.hidden, self.last)
                for nabla in (layer.nabla_w, layer.nabla_b)]

    # -- files -------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """What a model file holds besides `kind` and `meta_*`: sizes, w0, b0 .. w3, b3."""
        weights = [array for array, _ in self.parameters()]
        return {"sizes": np.array(self.sizes, dtype=np.int64),
                **dict(zip(WEIGHTS, weights, strict=True))}

    @classmethod
    def shapes(cls, file: NpzReader) -> dict[str, tuple[int, ...]]:
        """From a file's array headers alone: the arrays to read and the shape of each.

        1. `sizes` and w0, b0 .. w3, b3 are all there;
        2. the layer sizes are read off the weights' shapes (w0's last axis is conv 1's
           maps, and so on) and must be within `MAX_CHANNELS`, `MAX_HIDDEN`,
           `MAX_PARAMETERS`, with 10 or 11 classes: a hostile header asks for no memory;
        3. every array must have exactly the shape those sizes give.
        `from_arrays` then checks that the numbers in `sizes` say the same.
        """
        found = {key: shape for key, (shape, _) in file.headers.items()}
        return _shapes(found, f"{file.path} is a conv model whose")

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], texts: dict[str, str]) -> Self:
        """The network from a file's checked arrays (float32; float64 stays float64)."""
        expected = _shapes({key: a.shape for key, a in arrays.items()}, "a conv model's")
        sizes = expected["w0"][3], expected["w1"][3], expected["w3"][0], expected["w3"][1]
        stored = [float(v) for v in np.asarray(arrays["sizes"]).reshape(-1)]
        if stored != [float(s) for s in sizes]:
            raise FoolDigitsError(f"a conv model's 'sizes' {stored} are not the layer sizes "
                                  f"of its weights, {list(sizes)}")
        dtype = np.float64 if arrays["w0"].dtype == np.float64 else np.float32
        weights = {key: np.array(arrays[key], dtype=dtype) for key in WEIGHTS}
        if not all(np.all(np.isfinite(w)) for w in weights.values()):
            raise FoolDigitsError("a conv model's weights must be finite numbers")
        net = cls.__new__(cls)
        net.sizes, net.classes, net.meta = sizes, sizes[3], {}
        net._build(weights)
        return net


def _shapes(found: Mapping[str, tuple[int, ...]], whose: str) -> dict[str, tuple[int, ...]]:
    """Steps 1-3 of `Conv.shapes`, on the arrays' shapes; `whose` starts each error."""
    for key in ("sizes", *WEIGHTS):  # step 1
        if key not in found:
            raise FoolDigitsError(f"{whose} {key!r} is missing")
    w0, w1, w3 = found["w0"], found["w1"], found["w3"]  # step 2
    if len(w0) != 4 or len(w1) != 4 or len(w3) != 2:
        raise FoolDigitsError(f"{whose} kernels have shapes {w0} and {w1} and its output "
                              f"layer {w3}; they need 4, 4 and 2 axes")
    sizes = _check_sizes((w0[3], w1[3], w3[0], w3[1]), f"{whose} layer sizes")
    expected = {"sizes": (len(SIZES),), **_weight_shapes(sizes)}
    for key, shape in expected.items():  # step 3
        if found[key] != shape:
            raise FoolDigitsError(f"{whose} {key!r} has shape {found[key]}; layer sizes "
                                  f"{list(sizes)} need {shape}")
    return expected


def _check_sizes(sizes: Sequence[int], what: str = "conv sizes"
                 ) -> tuple[int, int, int, int]:
    """(maps 1, maps 2, hidden, classes) within the bounds, or one FoolDigitsError."""
    if len(sizes) != len(SIZES):
        raise FoolDigitsError(f"{what} must be (maps 1, maps 2, hidden, classes), got "
                              f"{list(sizes)}")
    c1, c2, hidden, classes = values = (int(sizes[0]), int(sizes[1]), int(sizes[2]),
                                        int(sizes[3]))
    if not (1 <= c1 <= MAX_CHANNELS and 1 <= c2 <= MAX_CHANNELS and 1 <= hidden <= MAX_HIDDEN
            and classes in (10, 11)):
        raise FoolDigitsError(f"{what} {list(values)} are out of range: 1 to "
                              f"{MAX_CHANNELS} maps a layer, 1 to {MAX_HIDDEN:,} hidden "
                              "neurons, 10 classes (or 11 with 'not a digit')")
    count = sum(math.prod(shape) for shape in _weight_shapes(values).values())
    if count > MAX_PARAMETERS:
        raise FoolDigitsError(f"{what} {list(values)} make {count:,} weights and "
                              f"biases; fooldigits loads at most {MAX_PARAMETERS:,}")
    return c1, c2, hidden, classes


def _weight_shapes(sizes: tuple[int, int, int, int]) -> dict[str, tuple[int, ...]]:
    """The shape of each stored weight array for these sizes, in `WEIGHTS` order."""
    c1, c2, hidden, classes = sizes
    side = MAP2 // POOL  # 28 -> 24 -> 12 -> 8 -> 4
    return {"w0": (KERNEL, KERNEL, 1, c1), "b0": (c1,),
            "w1": (KERNEL, KERNEL, c1, c2), "b1": (c2,),
            "w2": (side * side * c2, hidden), "b2": (hidden,),
            "w3": (hidden, classes), "b3": (classes,)}

