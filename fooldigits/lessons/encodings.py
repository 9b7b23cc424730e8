"""Genomes and how they become images: the encodings the genetic algorithm evolves.

What this module teaches
------------------------
A genetic algorithm never touches an image directly: it breeds *genomes*, and an
*encoding* says what a genome is and how it becomes an image. Nguyen, Yosinski & Clune
(2015) tried two: the **direct encoding** (a gene per pixel, this module) and a CPPN
(a small network that paints the image from pixel coordinates; a later chapter). The GA
in `evolve.py` is written once, against this protocol:

    encoding.name                       "direct"
    encoding.first(rng, n)              n fresh genomes              (step 1)
    encoding.decode(genomes)            their images, (n, 784) float32 in [0, 1]
    encoding.crossover(a, b, rng)       one child per pair of rows   (step 4)
    encoding.mutate(genomes, rng)       mutated copies               (step 5)

A population of genomes is a dataclass whose every field is an array with one row per
genome (leading axis n), so `evolve.take` and `evolve.join` can pick and stack rows of
any encoding without knowing its fields.

The direct encoding
-------------------
`Pixels.genes` (n, 784) holds a byte per pixel, 0..255, as in an 8-bit grey image (and
as Nguyen et al.'s MNIST pixels were): the network sees gene / 255, and an 8-bit PNG of
a fooling image holds exactly the pixels the network judged. Worked example, two
parents and a coin per pixel:

    a.genes = [200, 200, 200, 200]     coins = [True, False, False, True]
    b.genes = [  0,   0,   0,   0]     child = [200,    0,    0,  200]   np.where
                                       (`pick` computes it as b + coins * (a - b))

Where genes come from (a *gene source*): by default `InkNoise`, noise on a black page --
each pixel is background (0) with probability 0.81 and otherwise ink, a uniform grey,
because 81% of MNIST's pixels are exactly 0 (`stats.pixel_histogram`). The first
genomes are drawn from it, and mutation redraws each gene from it with probability
`rate`. A prior (`stats.py`) may be the source instead.

Why not uniform noise, every grey alike, as Nguyen et al. drew theirs? Uniform noise is
half ink, and the shipped network calls it an '8' (every one of 2,000 noise images);
a '1' needs almost no ink, so a GA starting from uniform noise spent a median of 208
generations getting rid of it (175 for a '7'). Starting on a black page, every digit
takes a median of at most 29 (docs/evolve.md, "How fast").

What it leaves out: indirect encodings (the CPPN) and crossover operators other than
uniform (one-point, two-point), which assume that neighbouring genes belong together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from fooldigits.core.data import BYTE_TO_PIXEL

PIXELS = 784


@runtime_checkable
@runtime_checkable
class GeneSource(Protocol):
    """Where new genes come from (a prior's first half): bytes for the given pixels."""

    def genes(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        """uint8 genes 0..255, one for each pixel index in `pixels` (any shape)."""
        ...


@dataclass(frozen=True)
class InkNoise:
    """Noise on a black page: a pixel is ink (a uniform grey, any byte) with probability
    `ink`, else background (0). 0.19 is MNIST's share of pixels that are not 0."""

    ink: float = 0.19

    def genes(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        grey, chance = random_bytes(rng, (2, *np.shape(pixels)))
        inked = chance < round(self.ink * 256)  # 49 of the 256 bytes for 0.19
        return np.asarray(grey * inked)  # True, False count as 1, 0


class UniformPrior:
    """Every grey alike, as Nguyen et al. drew their genes: uniform bytes, and as a
    prior no penalty (`evolve(..., prior=UniformPrior())`: the GA before the black page)."""

    name = "uniform"

    def draw(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        return rng.random(np.shape(pixels), dtype=np.float32)

    def genes(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        return rng.integers(0, 256, np.shape(pixels), dtype=np.uint8)

    def penalty(self, images: np.ndarray) -> np.ndarray:
        return np.zeros(len(images))


@dataclass
class Pixels:
    """A population of direct-encoding genomes: a byte per pixel, a genome per row."""

    genes: np.ndarray  # (n, 784) uint8


def random_bytes(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform random bytes 0..255 in an array of `shape` (read-only): `rng.bytes`, the
    cheapest random numbers there are (a third of the time of `rng.random` floats)."""
    return np.frombuffer(rng.bytes(int(np.prod(shape))), dtype=np.uint8).reshape(shape)


def coin_flips(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Fair coins, True or False, in an array of `shape` whose size is a multiple of 8:
    random bytes unpacked into their eight bits (a quarter of the time of
    `rng.integers(0, 2, shape, dtype=bool)`, which draws a number per coin)."""
    size = int(np.prod(shape))
    return np.unpackbits(random_bytes(rng, (size // 8,))).view(bool).reshape(shape)


def pick(coins: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`np.where(coins, a, b)` for byte genes, as arithmetic: b + coins * (a - b).

    Where the coin is 1 the child is b + (a - b) = a, where it is 0 it is b. On bytes
    a - b wraps around modulo 256 and adding b wraps back, so every gene is exact.
    The GA's one speed trick: `np.where` branches on every coin, 4.2 ms for the 1,560
    children of a generation against 0.1 ms; the whole GA takes 0.56-0.69 of the time
    it takes with `np.where` (`make bench`, row "GA / the same GA crossing over by
    np.where"; docs/speed.md). tests/test_evolve.py checks that it equals `np.where`
    for every pair of bytes. The three steps write into one new array (the child)."""
    child: np.ndarray = np.subtract(a, b)  # a - b
    child *= coins.view(np.uint8)  # coins * (a - b)
    child += b  # b + coins * (a - b)
    return child


def to_genes(values: np.ndarray) -> np.ndarray:
    """Pixel values in [0, 1] (any shape) as genes: the nearest of the bytes 0..255."""
    return np.rint(np.asarray(values, dtype=np.float32) * 255).astype(np.uint8)


@dataclass
class Direct:
    """The direct encoding: a gene per pixel.

    `rate`: the chance that mutation redraws a gene; `source`: where the first genes and
    the redrawn ones come from (`InkNoise()` unless given, e.g. a prior); `start`: if
    given, an image (784,) in [0, 1] every run begins from -- its first genome is the
    image itself, the others mutated copies of it.
    """

    rate: float = 0.005
    source: GeneSource = field(default_factory=InkNoise)
    start: np.ndarray | None = None
    name: str = "direct"

    def first(self, rng: np.random.Generator, n: int) -> Pixels:
        """Step 1: n fresh genomes from the source, or copies of `start` (the first
        unchanged, the others mutated)."""
        if self.start is not None:
            copies = Pixels(np.tile(to_genes(self.start), (n, 1)))  # (n, 784)
            self.mutate(Pixels(copies.genes[1:]), rng)  # all but the first, in place
            return copies
        return Pixels(self.source.genes(rng, np.broadcast_to(np.arange(PIXELS), (n, PIXELS))))

    def decode(self, genomes: Pixels) -> np.ndarray:
        """The images the network sees: gene / 255, (n, 784) float32 in [0, 1]: the bytes
        as floats, then scaled in place: the same floats as `genes * BYTE_TO_PIXEL`, whose
        mixed-type multiply converts the bytes through small buffers (a quarter slower)."""
        images = genomes.genes.astype(np.float32)
        images *= BYTE_TO_PIXEL
        return images

    def crossover(self, a: Pixels, b: Pixels, rng: np.random.Generator) -> Pixels:
        """Step 4, uniform crossover: the child takes each gene from parent a or b by a
        coin flip."""
        return Pixels(pick(coin_flips(rng, a.genes.shape), a.genes, b.genes))

    def mutate(self, genomes: Pixels, rng: np.random.Generator) -> Pixels:
        """Step 5, in place (the GA hands it new children): each gene is redrawn from the
        source with probability `rate`. Rather than a coin for each of the n * 784
        genes, draw how many change (binomial), then which (a gene drawn twice is simply
        redrawn twice)."""
        flat = genomes.genes.reshape(-1)  # a view: writing it writes the genomes
        where = rng.integers(0, flat.size, rng.binomial(flat.size, self.rate))
        flat[where] = self.source.genes(rng, where % PIXELS)
        return genomes
