"""The layers of the convolutional network (`conv.py`), each forward beside its backward.

What this module teaches
------------------------
*im2col*, "image to columns": copy every k x k patch of a batch of feature maps into one
column of a matrix, the patch matrix; then the convolution of the whole batch is one
matrix product, `z = w @ cols`, one kernel a row of w. Backward is the same algebra
(BP4's `delta @ cols.T`), plus *col2im*, which adds each column of patch gradients back
onto the pixels it was copied from. `ConvPool` is a convolution and its 2x2 max-pooling,
as Nielsen's `network3.py` has them: pool, then add the bias, then (the next layer) the
ReLU: the function of conv -> ReLU -> pool on a quarter of the numbers, since adding a
map's bias and the ReLU never reorder a block's four numbers.

The layout: a batch of feature maps is (channels, height, width, n), *the batch last*.
Why: every pixel of a map is then a run of n numbers, one per image, so im2col's one
gather copies whole runs (with channels last, conv 1's single channel made it copy one
float at a time), and `kernels @ cols`, (c_out, positions * n), is already the next
layer's maps, with no transpose. The kernel bank is stored as (k, k, c_in, c_out), as
before; `ConvPool.kernels` is it as the (c_out, c_in*k*k) matrix. `Flatten` turns the
last maps into one row per image, in the (row, column, channel) order the stored dense
weights have, for the dense layers, which are `network.py`'s: model files are the same.
It computes cross-correlation (no flip), as every library does. Each layer's
`forward(a)` keeps what its `backward(delta)` needs; backward takes dC/d(output),
returns dC/d(input) and sets the nablas (micrograd style).

Worked example: one 3x4 image, 2x2 patches. `im2col(np.arange(1, 13).reshape(1, 3, 4,
1), 2)` is the (4, 6) matrix whose columns are the 2x3 patches, each read row by row:
[1 2 5 6], [2 3 6 7], [3 4 7 8], [5 6 9 10], [6 7 10 11], [7 8 11 12]. With `pool=2` the
columns come corner by corner of the 2x2 blocks of positions (see `patch_index`).

What it leaves out: padding, strides other than 1, and pooling other than max over
non-overlapping blocks; `conv.py` fixes k = 5 and pool = 2.
"""
from __future__ import annotations

import functools
import itertools

import numpy as np

POOL = 2  # 2x2 max-pooling


# -- im2col and its adjoint --------------------------------------------------------------
@functools.cache
def patch_index(h: int, w: int, k: int, pool: int = 1) -> np.ndarray:
    """Which pixel each entry of each k x k patch of an h x w map is: (k*k * h' * w',).

    Pixel (i, j) is number i * w + j; entry (di, dj) of the patch at (i, j) is pixel
    (i + di, j + dj). Entry by entry, and within an entry position by position, in
    *pooling order*: with i = pool * bi + p, j = pool * bj + q (block (bi, bj), corner
    (p, q)), every block's corner (0, 0) first, then (0, 1), ...; pool = 1 is plain
    row-by-row order. Cached, so read-only.
    """
    di, dj, p, q, bi, bj = np.meshgrid(  # six axes that broadcast to (di, dj, p, q, bi, bj)
        *map(np.arange, (k, k, pool, pool, (h - k + 1) // pool, (w - k + 1) // pool)),
        indexing="ij", sparse=True)
    index = ((pool * bi + p + di) * w + pool * bj + q + dj).reshape(-1)
    index.flags.writeable = False
    return index


def im2col(a: np.ndarray, k: int, pool: int = 1) -> np.ndarray:
    """Every k x k patch of every map as one column: (c, h, w, n) -> (c*k*k, h' * w' * n).

    h' = h - k + 1, w' = w - k + 1 ("valid" patches, stride 1; multiples of pool). Rows
    are (channel, di, dj), a kernel's entries; columns (position, image), positions in
    `patch_index`'s order. One gather: `np.take` copies each pixel's run of n numbers.
    """
    c, h, w, n = a.shape
    pixels = a.reshape(c, h * w, n)  # (c, h*w, n): each pixel a run of n numbers
    cols = np.take(pixels, patch_index(h, w, k, pool), axis=1)  # (c, k*k*h'*w', n)
    return cols.reshape(c * k * k, (h - k + 1) * (w - k + 1) * n)  # a view of that copy


def col2im(cols: np.ndarray, shape: tuple[int, ...], k: int, pool: int = 1) -> np.ndarray:
    """The adjoint of `im2col`: add each patch column back onto the pixels it came from.

    (c*k*k, h' * w' * n) -> `shape` (c, h, w, n). A pixel inside several patches gets
    the sum of its entries: that is the chain rule, since it fed every one of them.
    """
    c, h, w, n = shape
    h_out, w_out = h - k + 1, w - k + 1
    patches = cols.reshape(c, k, k, pool, pool, h_out // pool, w_out // pool, n)
    a = np.zeros(shape, dtype=cols.dtype)  # (c, h, w, n)
    for di, dj, p, q in itertools.product(range(k), range(k), range(pool), range(pool)):
        # entry (di, dj) of corner (p, q)'s patches goes back to every pool-th pixel from
        # (p + di, q + dj): one (c, h'/pool, w'/pool, n) slab of the whole batch
        a[:, p + di:p + di + h_out:pool, q + dj:q + dj + w_out:pool] += patches[:, di, dj, p, q]
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
        self.w, self.b = w, b  # (k, k, c_in, c_out), (c_out,): as stored
        self.nabla_w, self.nabla_b = np.zeros_like(w), np.zeros_like(b)

    def kernels(self) -> np.ndarray:
        """w as a matrix, a kernel a row, its entries in im2col's (channel, di, dj) order:
        (c_out, c_in*k*k). A small copy, made each pass: SGD changes w in place."""
        k, _, c_in, c_out = self.w.shape
        return self.w.transpose(3, 2, 0, 1).reshape(c_out, c_in * k * k)

    def forward(self, a: np.ndarray) -> np.ndarray:
        """(c_in, h, w, n) -> (c_out, h'/2, w'/2, n), with h' = h - k + 1 (even)."""
        k, _, _, c_out = self.w.shape
        _, h, w, n = self.shape = a.shape
        self.cols = im2col(a, k, POOL)  # 1. (c_in*k*k, h'*w'*n), in pooling order
        z = self.kernels() @ self.cols  # 2. (c_out, h'*w'*n)
        self.quarters = z.reshape(c_out, POOL * POOL, (h - k + 1) // POOL,
                                  (w - k + 1) // POOL, n)  # a map per corner
        self.pooled = self.quarters.max(axis=1)  # 3. the max of each block's four corners
        out: np.ndarray = self.pooled + self.b[:, None, None, None]  # 4. the bias, after
        return out

    def backward(self, delta: np.ndarray) -> np.ndarray:
        """delta = dC/d(output) (c_out, h'/2, w'/2, n) -> dC/da (c_in, h, w, n); sets the
        nablas. Backward through step 1 is `col2im`, the adjoint of `im2col`."""
        d_z = self.nablas(delta)  # (c_out, h'*w'*n): dC/dz, in pooling order
        d_cols = self.kernels().T @ d_z  # (BP2's w.T) (c_in*k*k, h'*w'*n)
        return col2im(d_cols, self.shape, self.w.shape[0], POOL)  # each copy to its pixel

    def nablas(self, delta: np.ndarray) -> np.ndarray:
        """Back through steps 4, 3, 2 only (training's first layer needs no dC/dx): sets
        nabla_b, nabla_w; returns dC/dz (c_out, h' * w' * n). Pooling's derivative is 1
        at the corner that held the block's max, 0 at the others; tied corners (four
        equal numbers of a blank background) share it: the max moves with each.
        """
        k, _, c_in, c_out = self.w.shape
        self.nabla_b = delta.sum(axis=(1, 2, 3))  # (BP3) (c_out,): b was added to each
        where = (self.quarters == self.pooled[:, None]).astype(delta.dtype)  # 1 at the max
        share = delta / where.sum(axis=1)  # (c_out, h'/2, w'/2, n): shared on a tie
        d_z: np.ndarray = (where * share[:, None]).reshape(c_out, -1)  # (c_out, h'*w'*n)
        nabla = d_z @ self.cols.T  # (BP4) (c_out, c_in*k*k), as `kernels`
        self.nabla_w = nabla.reshape(c_out, c_in, k, k).transpose(2, 3, 1, 0)  # as w
        return d_z


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


class Flatten:
    """The last feature maps as one row per image, (c, h, w, n) -> (n, h*w*c): a dense
    layer's input, each row in (row, column, channel) order as the stored weights are."""

    shape: tuple[int, ...]

    def forward(self, a: np.ndarray) -> np.ndarray:
        """(c, h, w, n) -> (n, h*w*c): one small copy (640 numbers an image by default)."""
        c, h, w, n = self.shape = a.shape
        return a.transpose(3, 1, 2, 0).reshape(n, h * w * c)

    def backward(self, delta: np.ndarray) -> np.ndarray:
        """dC/d(rows) (n, h*w*c) -> dC/d(maps) (c, h, w, n): the same numbers, put back."""
        c, h, w, n = self.shape
        return delta.reshape(n, h, w, c).transpose(3, 1, 2, 0)


class Dense:
    """z = a @ w + b, `network.py`'s layer, on one row per image."""

    a: np.ndarray  # forward keeps its input (BP4 needs it)

    def __init__(self, w: np.ndarray, b: np.ndarray) -> None:
        self.w, self.b = w, b  # (n_in, n_out), (n_out,)
        self.nabla_w, self.nabla_b = np.zeros_like(w), np.zeros_like(b)

    def forward(self, a: np.ndarray) -> np.ndarray:
        """(n, n_in) -> z (n, n_out)."""
        self.a = a
        z: np.ndarray = a @ self.w  # (n, n_out)
        z += self.b
        return z

    def backward(self, delta: np.ndarray) -> np.ndarray:
        """delta = dC/dz (n, n_out) -> dC/da (n, n_in); sets the nablas."""
        self.nabla_b = delta.sum(axis=0)  # (BP3) (n_out,)
        self.nabla_w = self.a.T @ delta  # (BP4) (n_in, n_out)
        back: np.ndarray = delta @ self.w.T  # (BP2's delta @ w.T) (n, n_in)
        return back


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
