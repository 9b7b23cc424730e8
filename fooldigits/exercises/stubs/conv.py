"""Exercise `conv`: a convolution layer's forward pass by im2col (LeNet, Nielsen ch. 6).

A convolution layer slides each small kernel (k x k weights) over the image and, at
every position, takes the weighted sum of the pixels under it. im2col ("image to
columns") copies every k x k patch into one row of a matrix, so that all those sums
become ONE matrix product. As in every neural network, the kernel is NOT flipped (the
mathematicians' convolution flips it; this is a cross-correlation). Fill in both
functions, then run:  fooldigits exercise check conv DIR

Rows or columns? Here a patch is a ROW, (n, positions, k*k) @ (k*k, c), the layout of
one image per row used everywhere else in fooldigits. `fooldigits read conv` shows the
shipped layer, which keeps the batch last and a patch as a COLUMN,
kernels (c_out, c*k*k) @ cols (c*k*k, positions * n): the same sums, transposed.
"""

import numpy as np


def im2col(images: np.ndarray, k: int, stride: int) -> np.ndarray:
    """Every k x k patch of each image as a row: shape (n, h_out * w_out, k * k).

    images   (n, h, w); the kernel moves `stride` pixels at a time, so
             h_out = (h - k) // stride + 1 and w_out = (w - k) // stride + 1
    Rows follow the positions row by row (left to right, then down); each patch is
    flattened row by row, like kernel.reshape(-1). If an image was 3 x 3 with pixels
    0..8, k = 2 and stride 1, its rows are [0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7],
    [4, 5, 7, 8].
    """
    raise NotImplementedError


def conv_forward(images: np.ndarray, kernels: np.ndarray, b: np.ndarray, stride: int
                 ) -> np.ndarray:
    """z[i, c, r, s] = sum(patch at (r, s) of image i * kernels[c]) + b[c].

    images (n, h, w), kernels (c, k, k), b (c,) -> z (n, c, h_out, w_out).
    Use im2col: (n, positions, k*k) @ (k*k, c), then put the axes in order.
    """
    raise NotImplementedError
