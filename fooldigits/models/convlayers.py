"""The layers of the convolutional network (`conv.py`), each forward beside its backward.

What this module teaches
------------------------
*im2col*: copy every k x k patch of a batch of images into one row of a matrix, and a
convolution of the whole batch is one matrix product with the kernels, one a column,
`z = cols @ w`: `network.py`'s `z = a @ w`. Backward is the same algebra (BP4 with `cols`
for `a`) plus *col2im*, which adds each row of patch gradients back onto its pixels.
`ConvPool` is a convolution and its 2x2 max-pooling, as Nielsen's `network3.py` has them:
pool, then add the bias, then (the next layer) the ReLU. That is the function of conv ->
ReLU -> pool on a quarter of the numbers, since adding a map's bias and the ReLU never
reorder a block's four numbers. Maps are *channels last*, (n, height, width, channels);
a kernel bank is (k, k, c_in, c_out), inputs first as `network.py`'s (n_in, n_out); it
computes cross-correlation (no flip), as every library does. Each layer's `forward(a)`
keeps what its `backward(delta)` needs; backward takes dC/d(output), returns
dC/d(input) and sets the nablas (micrograd style).

Worked example: a 3x4 image, 2x2 patches. `im2col(np.arange(1, 13).reshape(1, 3, 4, 1),
2)` is the (6, 4) matrix whose rows are [1 2 5 6], [2 3 6 7], [3 4 7 8], [5 6 9 10],
[6 7 10 11], [7 8 11 12]: the 2x3 patches, each read row by row. With `pool=2` the rows
come corner by corner of the 2x2 blocks of positions (see `patch_index`).

What it leaves out: padding, strides other than 1, and pooling other than max over
non-overlapping blocks; `conv.py` fixes k = 5 and pool = 2.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

POOL = 2  # 2x2 max-pooling


# -- im2col and its adjoint --------------------------------------------------------------
@functools.cache
def patch_index(h: int, w: int, k: int, pool: int = 1) -> np.ndarray:
    """Which pixel each entry of each k x k patch of an h x w image is: (h' * w' * k*k,).

    Pixel (i, j) is number i * w + j; entry (di, dj) of the patch at (i, j) is pixel
    (i + di, j + dj). *Pooling order*: with i = pool * bi + p, j = pool * bj + q (block
    (bi, bj), corner (p, q)), every block's corner (0, 0) comes first, then (0, 1), ...;
    pool = 1 is plain row-by-row order. Cached, so read-only.
    """
    p, q, bi, bj, di, dj = np.meshgrid(  # six axes that broadcast to (p, q, bi, bj, di, dj)
        *map(np.arange, (pool, pool, (h - k + 1) // pool, (w - k + 1) // pool, k, k)),
        indexing="ij", sparse=True)
    index = ((pool * bi + p + di) * w + pool * bj + q + dj).reshape(-1)
    index.flags.writeable = False
    return index


def im2col(a: np.ndarray, k: int, pool: int = 1) -> np.ndarray:
    """Every k x k patch of every image as one row: (n, h, w, c) -> (n * h' * w', k*k*c).

    h' = h - k + 1, w' = w - k + 1 ("valid" patches, stride 1; multiples of pool). A row
    is a[image, i:i+k, j:j+k, :] flattened in (row, column, channel) order, a kernel
    bank's order; rows go image by image, each in `patch_index`'s order. One gather.
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
        # corner (p, q)'s entries (di, dj) go back to every pool-th pixel from (p + di,
        # q + dj): one (n, h'/pool, w'/pool, c) slab of the whole batch
        slab = patches[:, p, q, :, :, di, dj]
        a[:, p + di:p + di + h_out:pool, q + dj:q + dj + w_out:pool] += slab
    return a


# -- the layers, each forward beside its backward -----------------------------------------
class ConvPool:
    """Convolution, 2x2 max-pooling, then the bias: Nielsen's `network3.ConvPoolLayer`.

    The bias after the max is exact and 4 times fewer additions: max_i(z_i + b) =
    max_i(z_i) + b, b being the same for the four (and rounding keeps their order too).
    Patches in pooling order make z four quarter maps, one per corner of the blocks.
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
        """Back through steps 4, 3, 2 only (training's first layer needs no dC/dx): sets
        nabla_b, nabla_w; returns dC/dz as a row per patch (n * h' * w', c_out). Pooling's
        derivative is 1 at the corner that held the block's max, 0 at the others; tied
        corners (four equal numbers of a blank background) share it: the max moves with each.
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
        """Any shape -> the same shape, in place (z is not needed again). After a pool,
        on 4 times fewer numbers than before it, with the same result: u <= v gives
        relu(u) <= relu(v), so relu(max(u, v)) = max(relu(u), relu(v)).
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
