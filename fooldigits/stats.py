"""Natural-image statistics of digits, and the priors that make the GA respect them.

What this module teaches
------------------------
A fooling image from the plain GA is uniform noise: every pixel independent, any grey.
Real digits are nothing like that. Two statistics say how:

* the **pixel histogram**: most MNIST pixels are exactly 0 (background), a few are near
  1 (ink), very few in between. `pixel_histogram` counts them; `HistogramSampler` draws
  new pixels from it (0 is a bin of its own, because ~80% of pixels are exactly 0);
* the **variogram** of neighbour differences, with absolute values instead of squares:

      g_x(l) = mean over the image of |x[r, c + l] - x[r, c]|   (along rows)
      g_y(l) = mean over the image of |x[r + l, c] - x[r, c]|   (along columns)

  If an image was all one grey, g_x(l) = 0 for every lag l. For uniform noise
  g_x(l) = 1/3 whatever l is. For real digits g_x(1) is small (strokes are smooth) and
  grows with l (a stroke is a few pixels wide).

`StatsPrior` is the seed's last experiment: draw the population from the training
histogram, and add to the GA's cost the distance between an image's g_x, g_y and the
training set's (`stats_distance`). The statistics ignore *where* things are, and that is
why the seed's mean '2' had a right arc too tall and a bottom stroke too wide.

`LocalPrior` goes beyond the seed: statistics *per pixel* of the real digits of the
target class. Each pixel is drawn from the values real 2s have at that position, and the
cost compares the image with the class's mean intensity and mean neighbour difference
at every location.

`naturalness` scores any set of images: their statistics distance to real digits of
the class, and the correlation of their mean image with the real mean digit.

What it leaves out: higher-order statistics (textures, strokes as curves).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.data import load_mnist
from fooldigits.evolve import GAConfig, UniformPrior, evolve, run_to_end
from fooldigits.network import Network

PRIOR_NAMES = ("none", "stats", "local")


def pixel_histogram(images: np.ndarray, bins: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """(edges, probabilities): bin 0 holds exact zeros, then `bins` equal bins of (0, 1]."""
    if bins < 1:
        raise FoolDigitsError(f"--bins must be at least 1, got {bins}")
    values = np.asarray(images).ravel()
    edges = np.linspace(0.0, 1.0, bins + 1)
    zeros = np.count_nonzero(values == 0)
    counts, _ = np.histogram(values[values > 0], bins=edges)
    probabilities = np.concatenate([[zeros], counts]) / max(values.size, 1)
    return edges, probabilities


class HistogramSampler:
    """Draw pixel values with the histogram's probabilities, uniform within a bin."""

    def __init__(self, edges: np.ndarray, probabilities: np.ndarray) -> None:
        self.edges, self.cdf = edges, np.cumsum(probabilities) / np.sum(probabilities)

    def __call__(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        bin_index = np.searchsorted(self.cdf, rng.random(shape), side="right")  # 0 = zero
        bin_index = np.minimum(bin_index, len(self.cdf) - 1)
        low = self.edges[np.maximum(bin_index - 1, 0)]
        width = np.diff(self.edges)[np.maximum(bin_index - 1, 0)]
        values = low + width * rng.random(shape)
        return np.where(bin_index == 0, 0.0, values).astype(np.float32)


def variogram(images: np.ndarray, lags: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """g_x and g_y, each (n, lags): mean |difference| of pixels l = 1..lags apart."""
    if not 1 <= lags <= 27:
        raise FoolDigitsError(f"--lags must be between 1 and 27, got {lags}")
    img = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    g_x = np.stack([np.abs(img[:, :, lag:] - img[:, :, :-lag]).mean(axis=(1, 2))
                    for lag in range(1, lags + 1)], axis=1)
    g_y = np.stack([np.abs(img[:, lag:, :] - img[:, :-lag, :]).mean(axis=(1, 2))
                    for lag in range(1, lags + 1)], axis=1)
    return g_x, g_y


@dataclass(frozen=True)
class Reference:
    """Statistics of a set of real images: histogram and mean variograms."""

    edges: np.ndarray
    probabilities: np.ndarray
    g_x: np.ndarray  # (lags,)
    g_y: np.ndarray  # (lags,)


def reference(images: np.ndarray, lags: int = 4, bins: int = 16) -> Reference:
    """The statistics of real images, to compare fooling images with."""
    g_x, g_y = variogram(images, lags)
    return Reference(*pixel_histogram(images, bins), g_x.mean(axis=0), g_y.mean(axis=0))


def stats_distance(images: np.ndarray, ref: Reference) -> np.ndarray:
    """sum over lags of |g_x - g_x_ref| + |g_y - g_y_ref|, per image: (n,)."""
    g_x, g_y = variogram(images, len(ref.g_x))
    return np.asarray(np.abs(g_x - ref.g_x).sum(axis=1) + np.abs(g_y - ref.g_y).sum(axis=1))


@lru_cache(maxsize=8)
def real_digits(digit: int | None, data_dir: Path | None, limit: int = 5000) -> np.ndarray:
    """Up to `limit` training images of `digit` (or of every digit): (k, 784), k >= 1.

    A data set without a single image of `digit` gives nothing to learn a prior from,
    and says so.
    """
    data = load_mnist(data_dir)
    images = data.train_images if digit is None else data.train_images[data.train_labels == digit]
    if len(images) == 0:
        where = "the bundled MNIST" if data_dir is None else f"data directory {data_dir}"
        raise FoolDigitsError(f"the training set of {where} has no images of the digit "
                              f"{digit}, and real ones are needed to learn its statistics")
    return images[:limit]


class StatsPrior:
    """The seed's prior: training histogram for new pixels, variogram distance as cost."""

    name = "stats"

    def __init__(self, real: np.ndarray, lags: int = 4, bins: int = 16) -> None:
        self.ref = reference(real, lags, bins)
        self.sampler = HistogramSampler(self.ref.edges, self.ref.probabilities)

    def draw(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        return self.sampler(rng, np.shape(pixels))

    def penalty(self, images: np.ndarray) -> np.ndarray:
        return stats_distance(images, self.ref)


class LocalPrior:
    """Beyond the seed: per-pixel intensities and neighbour differences of one digit."""

    name = "local"

    def __init__(self, real: np.ndarray) -> None:
        img = real.reshape(-1, 28, 28)
        self.pool = np.ascontiguousarray(real.T)  # (784, k): real values at each pixel
        self.mean = real.mean(axis=0)  # (784,)
        self.dx = np.abs(np.diff(img, axis=2)).mean(axis=0)  # (28, 27)
        self.dy = np.abs(np.diff(img, axis=1)).mean(axis=0)  # (27, 28)

    def draw(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        """Each pixel's value taken from a random real digit at the same position."""
        pick = rng.integers(0, self.pool.shape[1], np.shape(pixels))
        return np.asarray(self.pool[pixels, pick], dtype=np.float32)

    def penalty(self, images: np.ndarray) -> np.ndarray:
        img = images.reshape(-1, 28, 28)
        intensity = np.abs(images - self.mean).mean(axis=1)
        dx = np.abs(np.abs(np.diff(img, axis=2)) - self.dx).mean(axis=(1, 2))
        dy = np.abs(np.abs(np.diff(img, axis=1)) - self.dy).mean(axis=(1, 2))
        return np.asarray(intensity + dx + dy)


def make_prior(name: str, digit: int, data_dir: Path | None = None, lags: int = 4,
               bins: int = 16) -> UniformPrior | StatsPrior | LocalPrior:
    """A prior by name: `none` (the plain GA's uniform noise), `stats` (the statistics of
    all training digits, as the seed did) or `local` (per pixel, of `digit`)."""
    if name == "none":
        return UniformPrior()
    if name == "stats":
        return StatsPrior(real_digits(None, data_dir), lags, bins)
    if name == "local":
        return LocalPrior(real_digits(digit, data_dir))
    raise FoolDigitsError(f"--prior must be one of {', '.join(PRIOR_NAMES)}, got {name!r}")


def naturalness(images: np.ndarray, digit: int, data_dir: Path | None = None,
                lags: int = 4) -> dict[str, float]:
    """How much a set of images of `digit` looks like real ones of that digit.

    `distance`: mean `stats_distance` to the real digits' statistics (lower = more natural);
    `correlation`: Pearson correlation of the set's mean image with the real mean digit.
    """
    real = real_digits(digit, data_dir)
    distance = float(stats_distance(images, reference(real, lags)).mean())
    correlation = float(np.corrcoef(images.mean(axis=0), real.mean(axis=0))[0, 1])
    return {"distance": distance, "correlation": correlation}


@dataclass(frozen=True)
class PriorRun:
    """One row of `compare_priors`: a method's mean image, success and naturalness."""

    method: str
    mean_image: np.ndarray  # (784,)
    reached: float  # share of images at the target confidence
    median_generations: float
    seconds: float
    naturalness: dict[str, float]


def compare_priors(net: Network, digit: int, count: int, rng: np.random.Generator,
                   target: float = 0.9999, min_generations: int = 50,
                   data_dir: Path | None = None) -> Iterator[PriorRun]:
    """`count` fooling images per prior (none, stats, local), then the real digits."""
    for name in PRIOR_NAMES:
        prior = make_prior(name, digit, data_dir)
        config = GAConfig(target=target, min_generations=0 if name == "none" else
                          min_generations)
        result = run_to_end(evolve(net, digit, count, config, rng, prior))
        yield PriorRun(name, result.images.mean(axis=0), float(result.reached.mean()),
                       float(np.median(result.generations)), result.seconds,
                       naturalness(result.images, digit, data_dir))
    real = real_digits(digit, data_dir)[:count]
    sure = float(np.mean(net.probabilities(real)[:, digit] >= target))
    yield PriorRun("real", real.mean(axis=0), sure, 0.0, 0.0,
                   naturalness(real, digit, data_dir))
