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

from collections.abc import Generator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.data import BYTE_TO_PIXEL, load_mnist
from fooldigits.core.pieces import Generation
from fooldigits.lessons.encodings import to_genes
from fooldigits.lessons.evolve import GAConfig, evolve
from fooldigits.lessons.settings import PRIOR_GENERATIONS
from fooldigits.models.base import Classifier

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
    """Draw pixel values with the histogram's probabilities, uniform within a bin.

    Inverse-CDF sampling: a uniform u in [0, 1) is mapped through the histogram's
    cumulative distribution, which is piecewise linear: flat at 0 over the first
    `probabilities[0]` of [0, 1) (the exact zeros), then rising across each bin's width
    over that bin's share. One `np.interp` call does it.
    """

    def __init__(self, edges: np.ndarray, probabilities: np.ndarray) -> None:
        self.edges, self.cdf = edges, np.cumsum(probabilities) / np.sum(probabilities)
        self.u_knots = np.concatenate([[0.0], self.cdf])  # (bins + 2,)
        self.value_knots = np.concatenate([[0.0], edges])  # 0, 0, then each bin's top
        u = (np.arange(2**16) + 0.5) / 2**16  # for `genes`: the inverse CDF as bytes
        self.table = to_genes(np.interp(u, self.u_knots, self.value_knots))  # (65536,)

    def __call__(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        u = rng.random(shape)
        return np.asarray(np.interp(u, self.u_knots, self.value_knots), dtype=np.float32)

    def genes(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """The same draw as bytes (value * 255, rounded), through a table of the inverse
        CDF at 65,536 points: one random 16-bit number and one lookup a pixel."""
        return np.asarray(self.table[rng.integers(0, 2**16, shape, dtype=np.uint16)])


CHUNK = 400  # images per block in the local prior's penalty: 1.25 MB of floats
BLOCK = 1600  # images per block in `variogram`: a whole GA generation (20 runs of 80)
_EVERY_PIXEL = np.full(784, 1 / 784, dtype=np.float32)  # x @ this: the mean of each row


@lru_cache(maxsize=64)
def _pair_weights(shift: int) -> np.ndarray:
    """(784,) weights for the pairs (pixel i, pixel i + shift) of a flat image: 1/count
    for real neighbours, 0 where pixel i + shift is not a neighbour -- it wrapped round
    to the next image row (shift < 28, pairs along a row) or left the image (shift =
    28 lag, pairs along a column). A weighted sum is then the mean over real pairs."""
    i = np.arange(784)
    real = (i % 28 < 28 - shift) if shift < 28 else (i < 784 - shift)
    return np.asarray(real / real.sum(), dtype=np.float32)


def _abs_differences(x: np.ndarray, shift: int, out: np.ndarray | None = None
                     ) -> np.ndarray:
    """(n, 784) -> (n, 784): |x[i + shift] - x[i]| at every flat position i, written
    into `out` when it is given (a C-contiguous (n, 784) float32 array, so that its flat
    view is itself).

    The block is treated as one long row, image after image, because NumPy subtracts
    two long shifted rows three times faster than n short ones; positions whose partner
    is not a neighbour hold junk (or 0 at the very end) and get weight 0."""
    flat = np.ascontiguousarray(x).reshape(-1)
    d = np.empty_like(flat) if out is None else out.reshape(-1)
    np.subtract(flat[shift:], flat[:-shift], out=d[:-shift])
    d[-shift:] = 0
    np.abs(d, out=d)
    return d.reshape(-1, 784)


def variogram(images: np.ndarray, lags: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """g_x and g_y, each (n, lags): mean |difference| of pixels l = 1..lags apart.

    Computed on flat rows: along a row, pixel i's neighbour l apart is pixel i + l (pairs
    that wrap round to the next row count 0); along a column it is pixel i + 28 l.
    """
    if not 1 <= lags <= 27:
        raise FoolDigitsError(f"--lags must be between 1 and 27, got {lags}")
    x = np.asarray(images, dtype=np.float32).reshape(-1, 784)
    g_x = np.empty((len(x), lags), dtype=np.float32)
    g_y = np.empty((len(x), lags), dtype=np.float32)
    d = np.empty((min(len(x), BLOCK), 784), dtype=np.float32)  # reused for every shift
    for first in range(0, len(x), BLOCK):
        rows = slice(first, first + BLOCK)
        block, d_k = x[rows], d[:len(x[rows])]  # (k, 784) each
        for lag in range(1, lags + 1):
            g_x[rows, lag - 1] = _abs_differences(block, lag, d_k) @ _pair_weights(lag)
            g_y[rows, lag - 1] = (_abs_differences(block, 28 * lag, d_k)
                                  @ _pair_weights(28 * lag))
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

    A data set without a single image of `digit`, or with only black ones, gives nothing
    to learn a prior from, and says so.
    """
    data = load_mnist(data_dir)
    images = data.train_images if digit is None else data.train_images[data.train_labels == digit]
    where = "the bundled MNIST" if data_dir is None else f"data directory {data_dir}"
    if len(images) == 0:
        raise FoolDigitsError(f"the training set of {where} has no images of the digit "
                              f"{digit}, and real ones are needed to learn its statistics")
    if not np.any(images[:limit]):  # a histogram of one value; a correlation of 0/0
        raise FoolDigitsError(f"the training images of {where} are all black: there is no "
                              "ink to learn the statistics of real digits from")
    return images[:limit]


class StatsPrior:
    """The seed's prior: training histogram for new pixels, variogram distance as cost."""

    name = "stats"

    def __init__(self, real: np.ndarray, lags: int = 4, bins: int = 16) -> None:
        self.ref = reference(real, lags, bins)
        self.sampler = HistogramSampler(self.ref.edges, self.ref.probabilities)

    def draw(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        return self.sampler(rng, np.shape(pixels))

    def genes(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        return self.sampler.genes(rng, np.shape(pixels))

    def penalty(self, images: np.ndarray) -> np.ndarray:
        return stats_distance(images, self.ref)


class LocalPrior:
    """Beyond the seed: per-pixel intensities and neighbour differences of one digit."""

    name = "local"

    def __init__(self, real: np.ndarray) -> None:
        x = np.asarray(real, dtype=np.float32).reshape(-1, 784)
        # (784, k): the real values at each pixel. MNIST pixels are byte / 255: kept as the
        # bytes, the pool is 4x smaller and a random draw from it 4x faster (it fits the CPU
        # cache); `levels` turns a byte back into the very same float32
        levels = np.arange(256, dtype=np.float32) * BYTE_TO_PIXEL
        codes = np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)
        exact = bool(np.array_equal(levels[codes], x))
        self.levels: np.ndarray | None = levels if exact else None
        self.pool = np.ascontiguousarray((codes if exact else x).T)
        self.mean = x.mean(axis=0)  # (784,)
        # mean |difference| with the neighbour to the right (783,) and below (756,), padded
        # with zeros to a flat (784,) image; the padded and wrapping places get weight 0
        self.dx = np.pad(np.abs(x[:, 1:] - x[:, :-1]).mean(axis=0), (0, 1))
        self.dy = np.pad(np.abs(x[:, 28:] - x[:, :-28]).mean(axis=0), (0, 28))
        # the three references repeated for a block of CHUNK images (3.8 MB), so that the
        # penalty subtracts them as one long row from another: NumPy's fastest case, where
        # a (784,) row broadcast over the block's rows takes 1.5-1.7 times as long
        self.blocks = [np.tile(ref, (CHUNK, 1)) for ref in (self.mean, self.dx, self.dy)]

    def _pick(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        """Each pixel's entry of the pool (a byte, or a float) from a random real digit:
        pool[pixel, digit], taken from the flat pool at pixel * k + digit (one `take`,
        a quarter faster than indexing with two arrays)."""
        k = self.pool.shape[1]
        digits = rng.integers(0, k, np.shape(pixels))
        return np.asarray(self.pool.ravel().take(np.asarray(pixels) * k + digits))

    def draw(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        """Each pixel's value taken from a random real digit at the same position."""
        values = self._pick(rng, pixels)
        return np.asarray(values if self.levels is None else self.levels[values],
                          dtype=np.float32)

    def genes(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        """The same draw as bytes: MNIST's own, or the floats rounded to 1/255."""
        values = self._pick(rng, pixels)
        return values if self.levels is not None else to_genes(values)

    def penalty(self, images: np.ndarray) -> np.ndarray:
        """mean |x - mean| + mean ||dx| - dx_ref| + mean ||dy| - dy_ref|, per image (n,)."""
        x = np.asarray(images, dtype=np.float32).reshape(-1, 784)
        out = np.empty(len(x), dtype=np.float32)
        for first in range(0, len(x), CHUNK):  # blocks that stay in the CPU cache
            block = x[first:first + CHUNK]  # (k, 784)
            mean, dx, dy = (ref[:len(block)] for ref in self.blocks)  # each (k, 784)
            d = np.subtract(block, mean)  # one (k, 784) array, reused in place
            np.abs(d, out=d)
            total = d @ _EVERY_PIXEL  # the mean over the 784 pixels, as a product
            for shift, ref in ((1, dx), (28, dy)):
                _abs_differences(block, shift, out=d)
                d -= ref
                np.abs(d, out=d)
                total += d @ _pair_weights(shift)
            out[first:first + CHUNK] = total
        return out


def make_prior(name: str, digit: int, data_dir: Path | None = None, lags: int = 4,
               bins: int = 16) -> StatsPrior | LocalPrior | None:
    """A prior by name: `none` (None: the plain GA, the direct encoding's own genes and no
    penalty), `stats` (the statistics of all training digits, as the seed did) or `local`
    (per pixel, of `digit`)."""
    if name == "none":
        return None
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
    median_generations: float | None  # to first reach the target (not the minimum they
    # then ran); None where no run reached it
    seconds: float
    naturalness: dict[str, float]


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if len(values) else None


def with_prior_rule(config: GAConfig, prior: str, min_generations: int | None) -> GAConfig:
    """The rule for how long runs evolve at least: `min_generations` if given, else 0 for
    the plain GA and `PRIOR_GENERATIONS` (at most `max_generations`) with a prior, which
    needs generations to shape the images after the target is reached."""
    if min_generations is None:
        min_generations = 0 if prior == "none" else min(PRIOR_GENERATIONS,
                                                        config.max_generations)
    return replace(config, min_generations=min_generations)


def compare_priors(net: Classifier, digit: int, count: int, rng: np.random.Generator,
                   target: float = 0.9999, min_generations: int | None = None,
                   data_dir: Path | None = None
                   ) -> Generator[Generation, None, list[PriorRun]]:
    """`count` fooling images per prior (none, stats, local), then the real digits; yields
    the GA's progress and returns one `PriorRun` per method. `min_generations`: how long
    the priors evolve at least (None: `with_prior_rule`'s rule); the plain GA stops as
    soon as it reaches the target."""
    runs = []
    for name in PRIOR_NAMES:
        prior = make_prior(name, digit, data_dir)
        config = with_prior_rule(GAConfig(target=target), name,
                                 None if name == "none" else min_generations)
        result = yield from evolve(net, digit, count, config, rng, prior=prior)
        runs.append(PriorRun(name, result.images.mean(axis=0), float(result.reached.mean()),
                             _median(result.generations_to_target()), result.seconds,
                             naturalness(result.images, digit, data_dir)))
    real = real_digits(digit, data_dir)[:count]
    sure = float(np.mean(net.probabilities(real)[:, digit] >= target))
    runs.append(PriorRun("real", real.mean(axis=0), sure, 0.0, 0.0,
                         naturalness(real, digit, data_dir)))
    return runs
