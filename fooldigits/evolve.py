"""Fooling images by evolution: a genetic algorithm that breeds noise the network trusts.

What this module teaches
------------------------
Nguyen, Yosinski & Clune, "Deep Neural Networks are Easily Fooled" (CVPR 2015), evolved
images that state-of-the-art networks classify with 99.99% confidence although a person
sees only noise. Their "direct encoding" treats each pixel as a gene. So does this:

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
   child is a random black-and-white pattern.
5. **Mutation**: each child pixel is, with probability `mutation_rate`, redrawn from the
   prior.
6. Repeat until the best image reaches `target` confidence (after at least
   `min_generations`, which gives a prior time to act) or `max_generations` pass.

Speed: the network is not the bottleneck. Many independent runs evolve side by side in
one array of shape (runs, population, 784), so a generation is one forward pass; crossover
masks come from packed random bits; mutation picks a handful of pixel positions instead
of testing all 784; when a run finishes its slot is refilled with the next run.

A *prior* is any object with `draw(rng, pixels)` (new values for the given pixel indices)
and `penalty(images)`. `UniformPrior` here is the plain GA; `stats.py` adds the
natural-image priors. The GA itself is written once.

What it leaves out: indirect encodings (CPPNs), and the network's gradient: the GA only
ever asks "how sure are you?" -- the dream chapter uses the gradient instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.network import Network

PIXELS = 784
MAX_COUNT = 100_000  # fooling images in one call
MAX_POPULATION = 10_000


class Prior(Protocol):
    """Where new pixel values come from, and how unnatural an image is (0 = natural)."""

    name: str

    def draw(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        """Float32 values in [0, 1], one for each pixel index in `pixels` (any shape)."""
        ...

    def penalty(self, images: np.ndarray) -> np.ndarray:
        """A cost per image (n, 784) -> (n,); zeros mean "no opinion"."""
        ...


class UniformPrior:
    """The plain GA: every pixel uniform in [0, 1], no penalty."""

    name = "none"

    def draw(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
        return rng.random(np.shape(pixels), dtype=np.float32)

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


@dataclass(frozen=True)
class Generation:
    """Progress: the newest generation of the run in slot 0, and runs finished so far."""

    digit: int
    generation: int
    best_confidence: float
    median_confidence: float
    best_image: np.ndarray  # (784,)
    finished: int
    count: int


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
    """Step 2: -log10(p / (1 - p)) + weight * penalty (p (k,), penalty (k,))."""
    p = np.clip(p.astype(np.float64), 1e-300, 1 - 1e-12)  # a floor of 1e-12 would hide
    # the climb from 1e-20 to 1e-13 that a network sure of "not a digit" asks for
    return np.asarray(np.log10(1 - p) - np.log10(p) + weight * penalty)


def evolve(
    net: Network,
    digit: int,
    count: int,
    config: GAConfig,
    rng: np.random.Generator,
    prior: Prior | None = None,
) -> Iterator[Generation | FoolResult]:
    """Evolve `count` fooling images of `digit`; yield a `Generation` each step, then the
    `FoolResult`. Runs are independent; `config.slots` of them share each forward pass."""
    config.check()
    if not 0 <= digit <= 9:
        raise FoolDigitsError(f"--digit must be 0..9, got {digit}")
    if not 1 <= count <= MAX_COUNT:
        raise FoolDigitsError(f"--count must be between 1 and {MAX_COUNT:,}, got {count}")
    prior = prior if prior is not None else UniformPrior()
    P, E, K, w = config.population, config.elite, config.parents, config.prior_weight
    C = P - E  # children per generation
    every_pixel = np.arange(PIXELS)

    def evaluate(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        flat = images.reshape(-1, PIXELS)  # (k, 784)
        p = net.probabilities(flat)[:, digit].astype(np.float64)
        pen = prior.penalty(flat) if w else np.zeros(len(flat))
        shape = images.shape[:-1]
        return p.reshape(shape), pen.reshape(shape), _cost(p, pen, w).reshape(shape)

    def new_runs(k: int) -> tuple[np.ndarray, ...]:
        pop = prior.draw(rng, np.broadcast_to(every_pixel, (k, P, PIXELS)))  # step 1
        return (pop.astype(np.float32), *evaluate(pop), np.zeros(k, dtype=np.int64))

    start = time.perf_counter()
    out_images = np.zeros((count, PIXELS), dtype=np.float32)
    out_conf, out_pen = np.zeros(count), np.zeros(count)
    out_gen = np.zeros(count, dtype=np.int64)
    slots = min(config.slots, count)
    run_of = np.arange(slots)  # which run each slot holds
    started, finished = slots, 0
    pop, conf, pen, cost, gens = new_runs(slots)  # (S, P, 784), (S, P) x3, (S,)
    while len(run_of):
        S = len(run_of)
        order = np.argsort(cost, axis=1, kind="stable")  # (S, P) step 3
        rows = np.arange(S)[:, None]
        best_p = conf[np.arange(S), order[:, 0]].astype(np.float64)
        done = ((best_p >= config.target) & (gens >= config.min_generations)) | (
            gens >= config.max_generations)
        yield Generation(digit, int(gens[0]), float(best_p[0]), float(np.median(conf[0])),
                         pop[0, order[0, 0]], finished, count)
        if done.any():
            for s in np.flatnonzero(done):
                r, b = run_of[s], order[s, 0]
                out_images[r], out_conf[r], out_pen[r] = pop[s, b], conf[s, b], pen[s, b]
                out_gen[r] = gens[s]
            finished += int(done.sum())
            refill = np.flatnonzero(done)[: count - started]
            if len(refill):
                fresh = new_runs(len(refill))
                for array, new in zip((pop, conf, pen, cost, gens), fresh, strict=True):
                    array[refill] = new
                run_of[refill] = np.arange(started, started + len(refill))
                started += len(refill)
                order[refill] = np.argsort(cost[refill], axis=1, kind="stable")
                done[refill] = False
            keep = ~done
            pop, conf, pen, cost, gens, run_of, order = (
                a[keep] for a in (pop, conf, pen, cost, gens, run_of, order))
            S = len(run_of)
            if S == 0:
                break
            rows = np.arange(S)[:, None]
        # step 4: children of two parents drawn from the best K, by per-pixel coin flips
        ranked = order[:, :K]  # (S, K)
        pa = np.take_along_axis(ranked, rng.integers(0, K, (S, C)), axis=1)  # (S, C)
        pb = np.take_along_axis(ranked, rng.integers(0, K, (S, C)), axis=1)
        bits = rng.integers(0, 256, (S, C, PIXELS // 8), dtype=np.uint8)
        mask = np.unpackbits(bits, axis=-1)  # (S, C, 784) of 0s and 1s
        children = pop[rows, pa]  # parent A ...
        b_pixels = pop[rows, pb]
        children -= b_pixels  # ... becomes B + mask * (A - B): A where mask is 1, else B
        children *= mask  # (branch-free: np.where on a random mask is 10x slower)
        children += b_pixels
        np.clip(children, 0, 1, out=children)  # rounding in A - B + B may leave [0, 1]
        # step 5: redraw about mutation_rate * 784 pixels of each child from the prior
        flat = children.reshape(-1)
        hits = rng.binomial(flat.size, config.mutation_rate)
        where = rng.integers(0, flat.size, hits)
        flat[where] = prior.draw(rng, where % PIXELS)
        # elites survive unchanged; only the children need the network
        keep_idx = order[:, :E]
        c_conf, c_pen, c_cost = evaluate(children)
        pop = np.concatenate([pop[rows, keep_idx], children], axis=1)
        conf = np.concatenate([conf[rows, keep_idx], c_conf], axis=1)
        pen = np.concatenate([pen[rows, keep_idx], c_pen], axis=1)
        cost = np.concatenate([cost[rows, keep_idx], c_cost], axis=1)
        gens += 1
    yield FoolResult(digit, out_images, out_conf, out_gen, out_pen, config.target,
                     time.perf_counter() - start)


def run_to_end(events: Iterator[Generation | FoolResult]) -> FoolResult:
    """Drain an `evolve` iterator without watching it; return its result."""
    for event in events:
        if isinstance(event, FoolResult):
            return event
    raise FoolDigitsError("the genetic algorithm stopped without a result")


def transfer_matrix(
    nets: list[Network], images: list[np.ndarray], digits: list[np.ndarray], sure: float = 0.99
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
