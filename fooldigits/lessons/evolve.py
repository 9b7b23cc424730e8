"""Fooling images by evolution: a genetic algorithm that breeds noise the network trusts.

What this module teaches
------------------------
Nguyen, Yosinski & Clune, "Deep Neural Networks are Easily Fooled" (CVPR 2015), evolved
images that state-of-the-art networks classify with 99.99% confidence although a person
sees only noise. Their "direct encoding" treats each pixel as a gene. So does this, and
a gene is a byte, 0..255, as in an 8-bit grey image (and as their MNIST pixels were):
an 8-bit PNG of a fooling image holds exactly the pixels the network judged.

1. **Population**: `population` random images (n, 784), each pixel drawn from the prior
   (uniform in [0, 1] unless a prior says otherwise).
2. **Cost** of each image (lower is better):
       cost = -log10(p / (1 - p)) + prior_weight * prior.penalty(image)
   where p is the network's confidence in the wanted digit. The seed measured
   sum |output - wanted| = 2 (1 - p). Its logarithm, the log-odds, makes the climb from
   99% to 99.99% count as much as the one from 1% to 50%, so a prior's penalty can never
   drown the confidence at either end. Without a prior the ranking is exactly p's.
3. **Selection**: sort by cost. The best `elite` images are kept as they are (elitism:
   the best cost can never get worse); the best `parents` images breed.
4. **Crossover**: a child takes every pixel from one of two random parents, by a coin
   flip per pixel (uniform crossover). If parent A was all 0s and parent B all 1s, the
   child is a random black-and-white pattern. Children come in pairs, as in the classic
   uniform crossover: the second child takes each pixel from the parent the first did
   not take it from.
5. **Mutation**: each child pixel is, with probability `mutation_rate`, redrawn from the
   prior.
6. Repeat until the best image reaches `target` confidence (after at least
   `min_generations`, which gives a prior time to act) or `max_generations` pass.

Starting from an image: with `start`, each run's first population is that image and
copies of it with pixels mutated from the prior, so the GA "finishes" a drawing.

Speed (measured in `make bench` against a bare forward pass, see docs/speed.md): the
forward pass is the floor. Many independent runs evolve side by side in one array of
shape (runs, population, 784), so a generation is one forward pass; when a run finishes,
its slot takes the next run's first population in the same array. The next generation
is written into a second array of the same shape and the two swap, so nothing is
allocated per generation. Bytes are a quarter of float32s: crossover moves a quarter of
the memory, eight pixels at a time as one 64-bit word, and the genes become floats for
the network one block of 400 images at a time, in one buffer that stays in the CPU cache
(a float copy of the whole population cost nearly a fifth of the GA's time). Crossover
runs one run at a time, so its arrays stay in the cache, and selects bits: coin flips
are unpacked random bits, 0 or 255 a pixel, and with x = (a ^ b) & mask the two
children of a pair are b ^ x and a ^ x. Mutation draws how many pixels change, then
which, instead of testing all 784, and writes them all with one `np.put`.

A *prior* is any object with `draw(rng, pixels)` (new values for the given pixel
indices), `genes(rng, pixels)` (the same draw as bytes) and `penalty(images)`.
`UniformPrior` here is the plain GA; `stats.py` adds the natural-image priors. The GA
itself is written once.

Ctrl-C (or SIGTERM) in the middle raises `Interrupted` carrying a `FoolResult` of the runs
that had finished, so `fooldigits fool --out` can save them.

What it leaves out: indirect encodings (CPPNs), and the network's gradient: the GA only
ever asks "how sure are you?" -- the dream chapter uses the gradient instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from fooldigits import FoolDigitsError, Interrupted
from fooldigits.core.data import BYTE_TO_PIXEL
from fooldigits.core.pieces import Generation
from fooldigits.models.base import Classifier

PIXELS = 784
SCALE = BYTE_TO_PIXEL  # a gene (byte) times SCALE is the pixel the network sees
WORDS = PIXELS // 8  # 64-bit words an image of 784 genes fills
BLOCK = 400  # images a forward pass: 1.25 MB of floats, small enough to stay in the cache
MAX_COUNT = 100_000  # fooling images in one call
MAX_POPULATION = 10_000


class Prior(Protocol):
    """Where new pixel values come from, and how unnatural an image is (0 = natural)."""

    name: str

    def draw(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        """Float32 values in [0, 1], one for each pixel index in `pixels` (any shape)."""
        ...

    def genes(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        """The same draw as genes: bytes 0..255 (uint8), value = gene / 255."""
        ...

    def penalty(self, images: np.ndarray) -> np.ndarray:
        """A cost per image (n, 784) -> (n,); zeros mean "no opinion"."""
        ...


class UniformPrior:
    """The plain GA: every pixel uniform in [0, 1], no penalty."""

    name = "none"

    def draw(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        return rng.random(np.shape(pixels), dtype=np.float32)

    def genes(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        return rng.integers(0, 256, np.shape(pixels), dtype=np.uint8)  # each grey alike

    def penalty(self, images: np.ndarray) -> np.ndarray:
        return np.zeros(len(images))


@dataclass(frozen=True)
class GAConfig:
    """Every knob of the GA; the defaults were measured in `make bench`."""

    population: int = 80
    elite: int = 2
    parents: int = 16
    mutation_rate: float = 0.005
    target: float = 0.9999
    max_generations: int = 2000
    slots: int = 20  # runs evolved side by side
    prior_weight: float = 1.0
    min_generations: int = 0  # with a prior: let it shape the images at least this long

    def check(self) -> None:
        if self.population < 2:
            raise FoolDigitsError("--population must be at least 2 (a child needs two parents)")
        if self.population > MAX_POPULATION:
            raise FoolDigitsError(f"--population must be at most {MAX_POPULATION:,}")
        if not 0 <= self.mutation_rate <= 1:
            raise FoolDigitsError(f"--mutation-rate must be in [0, 1], got {self.mutation_rate}")
        if not 0 < self.target < 1:
            raise FoolDigitsError(f"--target must be between 0 and 1, got {self.target}")
        if self.max_generations < 1 or self.slots < 1:
            raise FoolDigitsError("--max-generations and the number of slots must be positive")
        if not 0 <= self.min_generations <= self.max_generations:
            raise FoolDigitsError("--min-generations must be between 0 and --max-generations")
        if not 0 <= self.elite < self.population or not 2 <= self.parents <= self.population:
            raise FoolDigitsError("need 0 <= elite < population and 2 <= parents <= population")


@dataclass
class FoolResult:
    """`count` evolved images of one digit and how each run went."""

    digit: int
    images: np.ndarray  # (count, 784) float32
    confidences: np.ndarray  # (count,)
    generations: np.ndarray  # (count,) int
    penalties: np.ndarray  # (count,)
    target: float
    seconds: float = 0.0
    reached: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.reached = self.confidences >= self.target


def _cost(p: np.ndarray, penalty: np.ndarray, weight: float) -> np.ndarray:
    """Step 2: -log10(p / (1 - p)) + weight * penalty (p (k,), penalty (k,)).

    p comes from float32 outputs, so the log-odds saturate where p rounds to 1 (about
    7, or 12 from the clip): past that only the penalty ranks images, which is what lets
    a prior keep shaping them after the target is reached. The floor is tiny, 1e-300: a
    floor of 1e-12 would hide the climb from 1e-20 to 1e-13 that a network sure of
    "not a digit" asks for.
    """
    p = np.clip(p.astype(np.float64), 1e-300, 1 - 1e-12)
    return np.asarray(np.log10(1 - p) - np.log10(p) + weight * penalty)


def to_genes(values: np.ndarray) -> np.ndarray:
    """Pixel values in [0, 1] (any shape) as genes: the nearest of the bytes 0..255."""
    return np.rint(np.asarray(values, dtype=np.float32) * 255).astype(np.uint8)


def _check_start(start: np.ndarray | None) -> np.ndarray | None:
    """A starting image as a (784,) float32 row, or a clear error."""
    if start is None:
        return None
    image = np.asarray(start, dtype=np.float32)
    if image.shape not in ((PIXELS,), (28, 28)):
        raise FoolDigitsError(f"the starting image must have 784 pixels (28 x 28), got shape "
                              f"{image.shape}")
    if not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 1:
        raise FoolDigitsError("the starting image must hold numbers in [0, 1]")
    return image.reshape(PIXELS)


def mutation_draws(rng: np.random.Generator, prior: Prior, rate: float, starts: np.ndarray,
                   genes: int) -> tuple[np.ndarray, np.ndarray]:
    """Step 5's random draws for blocks of `genes` pixels, block i starting at the flat
    position starts[i] of the array they go into (a multiple of 784: an image's first
    pixel, so position % 784 is the pixel): every pixel is redrawn from the prior with
    probability `rate`. Rather than a coin per pixel, draw how many pixels of each block
    mutate (binomial), then which ones. Returns flat positions and their new values
    (genes), for one `np.put`."""
    hits = rng.binomial(genes, rate, len(starts))  # (blocks,)
    where = rng.integers(0, genes, int(hits.sum()))
    values = prior.genes(rng, where % PIXELS)
    return np.repeat(starts, hits) + where, values


def evolve(
    net: Classifier,
    digit: int,
    count: int,
    config: GAConfig,
    rng: np.random.Generator,
    prior: Prior | None = None,
    start: np.ndarray | None = None,
) -> Iterator[Generation | FoolResult]:
    """Evolve `count` fooling images of `digit`; yield a `Generation` each step, then the
    `FoolResult`. Runs are independent; `config.slots` of them share each forward pass.

    With `start` (a (784,) image in [0, 1]), every run begins from that image instead of
    fresh prior draws: the first member of the population is the image itself, every other
    member a copy with its pixels mutated from the prior at `mutation_rate`.
    """
    config.check()
    if not 0 <= digit <= 9:
        raise FoolDigitsError(f"--digit must be 0..9, got {digit}")
    if not 1 <= count <= MAX_COUNT:
        raise FoolDigitsError(f"--count must be between 1 and {MAX_COUNT:,}, got {count}")
    start = _check_start(start)
    first_genes = None if start is None else to_genes(start)
    prior = prior if prior is not None else UniformPrior()
    P, E, K, w = config.population, config.elite, config.parents, config.prior_weight
    C = P - E  # children per generation
    every_pixel = np.arange(PIXELS)

    seen = np.empty((BLOCK, PIXELS), dtype=np.float32)  # (400, 784) a block, as seen

    def evaluate(pop: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step 2 for a (runs, P, 784) population of genes: confidence, penalty and cost,
        each (runs, P). The genes become floats one block at a time, in one buffer that
        stays in the CPU cache."""
        genes = pop.reshape(-1, PIXELS)
        p, pen = np.empty(len(genes)), np.zeros(len(genes))
        for i in range(0, len(genes), BLOCK):
            part = genes[i:i + BLOCK]
            block = np.multiply(part, SCALE, out=seen[:len(part)])  # bytes -> [0, 1]
            p[i:i + BLOCK] = net.probabilities(block)[:, digit]
            if w:
                pen[i:i + BLOCK] = prior.penalty(block)
        shape = pop.shape[:-1]
        return p.reshape(shape), pen.reshape(shape), _cost(p, pen, w).reshape(shape)

    def first_population(k: int) -> np.ndarray:
        """Step 1 for k new runs: (k, P, 784) genes drawn from the prior, or copies of
        `start`."""
        if first_genes is None:
            return prior.genes(rng, np.broadcast_to(every_pixel, (k, P, PIXELS)))
        pop = np.tile(first_genes, (k, P, 1))  # (k, P, 784)
        # member 0 of each run stays the starting image itself
        where, values = mutation_draws(rng, prior, config.mutation_rate,
                                      (np.arange(k) * P + 1) * PIXELS, (P - 1) * PIXELS)
        np.put(pop, where, values)
        return pop

    def breed(pop: np.ndarray, order: np.ndarray, runs: np.ndarray, out: np.ndarray) -> None:
        """Steps 3-5 for the given runs: elites, then children, written into `out`."""
        rows = runs[:, None]
        out[rows, np.arange(E)] = pop[rows, order[runs, :E]]  # the elites, unchanged
        # step 4: each child takes every pixel from parent A or B, both among the best K,
        # by a coin flip per pixel. Children come in pairs (the classic uniform crossover):
        # the second takes from B the pixels the first took from A, and from A the others.
        pairs = (C + 1) // 2
        best = order[runs, :K]  # (R, K)
        pa = np.take_along_axis(best, rng.integers(0, K, (len(runs), pairs)), axis=1)
        pb = np.take_along_axis(best, rng.integers(0, K, (len(runs), pairs)), axis=1)
        n = len(runs) * pairs * PIXELS // 8  # random bytes, 8 coin flips each
        coins = rng.bit_generator.random_raw(-(-n // 8)).view(np.uint8)[:n]  # 8 bytes a word
        flips = np.unpackbits(coins)  # a byte 0 or 1 a pixel ...
        np.negative(flips, out=flips)  # ... now 0 or 255: all eight bits, a mask
        masks = flips.view(np.uint64).reshape(len(runs), pairs, WORDS)
        words, out_words = pop.view(np.uint64), out.view(np.uint64)  # 8 genes a word
        for i, s in enumerate(runs):  # one run at a time: its arrays stay in the CPU cache
            a = words[s].take(pa[i], axis=0)  # (pairs, 98) parent A's genes
            b = words[s].take(pb[i], axis=0)  # (pairs, 98) parent B's
            # select on the bits: x = (a ^ b) & mask is a ^ b where the mask is set and 0
            # elsewhere. As b ^ (a ^ b) = a and b ^ 0 = b, child 1 = b ^ x has a's genes
            # where the mask is set and b's elsewhere; child 2 = a ^ x the reverse: exact
            # copies of the parents' genes, eight at a time
            x = a ^ b
            x &= masks[i]
            np.bitwise_xor(b, x, out=out_words[s, E:E + pairs])
            np.bitwise_xor(a[: C - pairs], x[: C - pairs], out=out_words[s, E + pairs:])
        # step 5 for all of them: child pixels redrawn from the prior (a run's children
        # start E images into its slot)
        where, values = mutation_draws(rng, prior, config.mutation_rate,
                                      (runs * P + E) * PIXELS, C * PIXELS)
        np.put(out, where, values)

    clock = time.perf_counter()
    out_images = np.zeros((count, PIXELS), dtype=np.float32)
    out_conf, out_pen = np.zeros(count), np.zeros(count)
    out_gen = np.zeros(count, dtype=np.int64)
    out_done = np.zeros(count, dtype=bool)  # which runs have finished
    slots = min(config.slots, count)
    pop = np.zeros((slots, P, PIXELS), dtype=np.uint8)  # (S, P, 784): S runs side by side
    nxt = np.zeros_like(pop)  # the next generation is written here, then the two swap
    run_of = np.arange(slots)  # which run each slot holds
    new = np.ones(slots, dtype=bool)  # slots whose run starts in this generation
    gens = np.zeros(slots, dtype=np.int64)  # (S,) generations of each slot's run
    order = np.zeros((slots, P), dtype=np.int64)
    started, finished = slots, 0
    try:
        while True:
            # the next population of every slot: a new run's first one, or the children
            if new.any():
                nxt[new] = first_population(int(new.sum()))
            if not new.all():
                breed(pop, order, np.flatnonzero(~new), nxt)
            pop, nxt = nxt, pop
            conf, pen, cost = evaluate(pop)  # (S, P) each, one forward pass for all runs
            gens = np.where(new, 0, gens + 1)
            order = np.argsort(cost, axis=1, kind="stable")  # (S, P) step 3: best first
            S = len(run_of)
            best_p = conf[np.arange(S), order[:, 0]]
            done = ((best_p >= config.target) & (gens >= config.min_generations)) | (
                gens >= config.max_generations)
            yield Generation(digit, int(gens[0]), float(best_p[0]), float(np.median(conf[0])),
                             pop[0, order[0, 0]] * SCALE, finished, count)
            new[:] = False
            if not done.any():
                continue
            for s in np.flatnonzero(done):
                r, b = run_of[s], order[s, 0]
                out_images[r], out_conf[r], out_pen[r] = pop[s, b] * SCALE, conf[s, b], pen[s, b]
                out_gen[r], out_done[r] = gens[s], True
            finished += int(done.sum())
            refill = np.flatnonzero(done)[: count - started]  # these slots take the next runs
            run_of[refill] = np.arange(started, started + len(refill))
            started += len(refill)
            new[refill], done[refill] = True, False
            if done.any():  # no runs left to start: these slots close
                if done.all():
                    break
                keep = ~done
                pop, order, gens = pop[keep], order[keep], gens[keep]
                run_of, new = run_of[keep], new[keep]
                nxt = np.zeros_like(pop)
    except KeyboardInterrupt as stop:  # Ctrl-C: hand back the runs that finished
        kept = out_done.copy()
        raise Interrupted(str(stop), partial=FoolResult(
            digit, out_images[kept], out_conf[kept], out_gen[kept], out_pen[kept],
            config.target, time.perf_counter() - clock)) from None
    yield FoolResult(digit, out_images, out_conf, out_gen, out_pen, config.target,
                     time.perf_counter() - clock)


def run_to_end(events: Iterator[Generation | FoolResult]) -> FoolResult:
    """Drain an `evolve` iterator without watching it; return its result."""
    for event in events:
        if isinstance(event, FoolResult):
            return event
    raise FoolDigitsError("the genetic algorithm stopped without a result")


def transfer_matrix(
    nets: Sequence[Classifier], images: list[np.ndarray], digits: list[np.ndarray],
    sure: float = 0.99,
) -> tuple[np.ndarray, np.ndarray]:
    """Do images evolved against one network fool the others?

    `images[i]` (k, 784) were evolved against `nets[i]` to look like `digits[i]` (k,).
    Returns `mean[i, j]`, the mean confidence of network j in those digits, and
    `share[i, j]`, the fraction it is at least `sure` about. The diagonal is the network
    the images were bred for; Nguyen et al. found that some fooling images transfer.
    """
    n = len(nets)
    mean, share = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        rows = np.arange(len(digits[i]))
        for j, judge in enumerate(nets):
            p = judge.probabilities(images[i])[rows, digits[i]]
            mean[i, j], share[i, j] = float(np.mean(p)), float(np.mean(p >= sure))
    return mean, share
