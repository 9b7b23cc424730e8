"""Exercise `nearest_mean`: the simplest classifier there is (chapter 1, the data).

Chapter 1 shows the mean of each digit's training images: a blurry '0', a blurry '1',
... Classify a new image by the mean it is closest to. Fill in both functions, then run:
    fooldigits exercise check nearest_mean DIR
"""

import numpy as np


def class_means(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The mean image of each digit: shape (10, 784), row d the mean of digit d.

    images   one image per row, pixels in [0, 1]                   (n, 784)
    labels   the digit of each image, 0..9 (every digit appears)   (n,)
    If the images of digit 3 were [1, 0, ...] and [0, 1, ...], row 3 is [0.5, 0.5, ...].
    """
    raise NotImplementedError


def nearest_mean(means: np.ndarray, images: np.ndarray) -> np.ndarray:
    """For each image, the digit whose mean is nearest in Euclidean distance: (m,).

    means    from class_means                                      (10, 784)
    images   the images to classify                                (m, 784)
    The squared distance |x - m|^2 = |x|^2 - 2 x . m + |m|^2 gives all of them at once
    with one matrix product. If an image equals means[7], its label is 7.
    """
    raise NotImplementedError
