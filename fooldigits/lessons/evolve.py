"""Fooling images by evolution: a genetic algorithm that breeds noise the network trusts.

What this module teaches
------------------------
Nguyen, Yosinski & Clune, "Deep Neural Networks are Easily Fooled" (CVPR 2015), evolved
images that state-of-the-art networks classify with 99.99% confidence although a person
sees only noise. The GA breeds *genomes*; an *encoding* (`encodings.py`) says what a
genome is and how it becomes an image. The direct encoding, a byte per pixel, is the
default. One generation of each run is six steps:

1. **Population**: `population` genomes, `encoding.first(rng, population)` (random
   pixels in the direct encoding, or a prior's draws, or copies of a starting image).
2. **Cost** of each image (lower is better):
       cost = -log10(p / (1 - p)) + prior_weight * prior.penalty(image)
   where p is the network's confidence in the wanted digit. The log-odds make the climb
   from 99% to 99.99% count as much as the one from 1% to 50%, so a prior's penalty can
   never drown the confidence at either end. Without a prior the ranking is p's. An
   elite (step 3) keeps the cost it had: only the new genomes are judged.
3. **Selection**: sort by cost. The best `elite` genomes are kept as they are (elitism:
   the best cost can never get worse); the best `parents` genomes breed.
4. **Crossover**: each child has two random parents among the best, and takes every gene
   from one of them (`encoding.crossover`; the direct encoding flips a coin per pixel).
5. **Mutation**: every child is mutated (`encoding.mutate`; the direct encoding changes
   each gene with probability `mutation_rate`).
6. **Repeat** until the best image reaches `target` confidence (after at least
   `min_generations`, which gives a prior time to act) or `max_generations` pass.

Worked example: `evolve(net, 2, 10, GAConfig(), rng)` yields a `Generation` each step and
*returns* a `FoolResult` with ten images the network calls '2' at >= 99.99%:

    >>> result = yield from evolve(net, 2, 10, GAConfig(), rng)  # inside a generator

Many runs, one forward pass: `config.slots` independent runs live side by side in one
population (`members[s]` lists the rows of slot s's run), so a generation of all of them
is one `model.probabilities` call; when a run finishes, its slot takes the next run's
first population. `take(genomes, rows)` and `join(parts)` pick and stack
rows of any encoding's genomes.

A *prior* (`stats.py`) has two halves: where genes come from (`genes`, which the direct
encoding draws its first genomes and its mutations from) and how unnatural an image is
(`penalty`, added to the cost of the decoded images, whatever the encoding).

Ctrl-C (or SIGTERM) in the middle raises `Interrupted` carrying a `FoolResult` of the runs
that had finished, so `fooldigits fool --out` can save them.

What it leaves out: the network's gradient (the GA only ever asks "how sure are you?";
the dream chapter uses the gradient), and MAP-Elites, the algorithm Nguyen et al. ran
(one archive for all classes instead of one population per digit).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from fooldigits import FoolDigitsError, Interrupted
from fooldigits.core.pieces import Generation
from fooldigits.lessons.encodings import Direct, GeneSource, UniformPrior, to_genes
from fooldigits.lessons.settings import GAConfig
from fooldigits.models.base import Classifier

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["Encoding", "FoolResult", "GAConfig", "Penalty", "Prior", "UniformPrior", "evolve",
           "join", "take", "to_genes", "transfer_matrix"]

PIXELS = 784
MAX_COUNT = 100_000  # fooling images in one call
G = TypeVar("G")  # a population of genomes: a dataclass of arrays with leading axis n
D = TypeVar("D", bound="DataclassInstance")  # the same, for take and join


class Encoding(Protocol[G]):
    """What a genome is and how it becomes an image (see `encodings.py`)."""

    name: str

    def first(self, rng: np.random.Generator, n: int) -> G: ...
    def decode(self, genomes: G) -> np.ndarray: ...  # (n, 784) float32 in [0, 1]
    def crossover(self, a: G, b: G, rng: np.random.Generator) -> G: ...
    def mutate(self, genomes: G, rng: np.random.Generator) -> G: ...


def take(genomes: D, rows: np.ndarray | slice) -> D:
    """The genomes at `rows`, an index array or a slice (every field the same way). An
    index array copies whole rows with `np.take` along axis 0 (twice as fast as
    `field[rows]`, which handles any index); a slice gives views, no copy."""

    def pick_rows(field: np.ndarray) -> np.ndarray:
        return field[rows] if isinstance(rows, slice) else np.take(field, rows, axis=0)

    return dataclasses.replace(genomes, **{f.name: pick_rows(getattr(genomes, f.name))
                                          for f in dataclasses.fields(genomes)})


def join(parts: Sequence[D]) -> D:
    """The genomes of all `parts`, one after another (every field concatenated)."""
    return dataclasses.replace(parts[0], **{
        f.name: np.concatenate([getattr(p, f.name) for p in parts])
        for f in dataclasses.fields(parts[0])})


class Penalty(Protocol):
    """How unnatural an image is (a prior's second half): 0 = natural."""

    name: str

    def penalty(self, images: np.ndarray) -> np.ndarray:
        """A cost per image (n, 784) -> (n,); zeros mean "no opinion"."""
        ...


class Prior(GeneSource, Penalty, Protocol):
    """Both halves: where genes come from, and how unnatural an image is."""


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
    first_reached: np.ndarray | None = None  # (count,) the generation each run's best
    # first reached the target (-1: never); with `min_generations` a run goes on after it
    reached: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.reached = self.confidences >= self.target
        if self.first_reached is None:
            self.first_reached = np.where(self.reached, self.generations, -1)

    def generations_to_target(self) -> np.ndarray:
        """The generations each run that reached the target needed to get there first."""
        first = np.asarray(self.first_reached)
        return first[first >= 0]


def cost(p: np.ndarray, penalty: np.ndarray, weight: float) -> np.ndarray:
    """Step 2: -log10(p / (1 - p)) + weight * penalty, per image.

    p comes from float32 outputs, so the log-odds saturate where p rounds to 1 (about
    7, or 12 from the clip): past that only the penalty ranks images, which is what lets
    a prior keep shaping them after the target is reached. The floor is tiny, 1e-300: a
    floor of 1e-12 would hide the climb from 1e-20 to 1e-13 that a network sure of
    "not a digit" asks for.
    """
    p = np.clip(p.astype(np.float64), 1e-300, 1 - 1e-12)
    return np.asarray(np.log10(1 - p) - np.log10(p) + weight * penalty)


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


def evolve(
    model: Classifier,
    digit: int,
    count: int,
    config: GAConfig,
    rng: np.random.Generator,
    encoding: Encoding[Any] | None = None,  # Any: each encoding has its own genome type
    prior: Prior | Penalty | None = None,
    start: np.ndarray | None = None,
) -> Generator[Generation, None, FoolResult]:
    """Evolve `count` fooling images of `digit`; yield a `Generation` each step and return
    the `FoolResult`. Runs are independent; `config.slots` of them share each forward pass.

    `encoding`: what a genome is (default: the direct encoding, `encodings.Direct`, with
    `config.mutation_rate`, drawing new genes from `prior` when it has `genes`).
    `prior`: its `penalty` of the decoded images is added to the cost, times
    `config.prior_weight`. `start` (a (784,) image in [0, 1], direct encoding only):
    every run begins from that image and mutated copies of it.
    """
    config.check()
    if not 0 <= digit <= 9:
        raise FoolDigitsError(f"digit must be 0..9, got {digit}")
    if not 1 <= count <= MAX_COUNT:
        raise FoolDigitsError(f"count must be between 1 and {MAX_COUNT:,}, got {count}")
    start = _check_start(start)
    if encoding is None:
        encoding = (Direct(config.mutation_rate, source=prior, start=start)
                    if isinstance(prior, GeneSource) else
                    Direct(config.mutation_rate, start=start))
    elif start is not None:
        raise FoolDigitsError("a starting image needs the direct encoding (encoding=None)")
    size, elite, parents = config.population, config.elite, config.parents
    weight = config.prior_weight if prior is not None else 0.0

    def judge(genomes: Any) -> tuple[np.ndarray, np.ndarray]:  # Any: as `encoding`
        """Step 2 for genomes not judged before: (3, n), the confidence, penalty and cost
        of each, and their images (n, 784), decoded once for the network and the prior."""
        images = encoding.decode(genomes)  # (n, 784), every run at once
        p = model.probabilities(images)[:, digit].astype(np.float64)
        penalty = prior.penalty(images) if prior is not None and weight else np.zeros(len(p))
        return np.stack([p, penalty, cost(p, penalty, weight)]), images

    def next_generation(population: Any, ranked: np.ndarray, new: np.ndarray
                        ) -> tuple[DataclassInstance, np.ndarray, np.ndarray]:
        """Steps 3-5 for the runs that go on (`ranked[s]`: the rows of slot s's members,
        best first), step 1 for the slots in `new`. Returns the next population, the
        rows of each slot's members in it, (slots, size), and the rows in `population`
        of the elites, which come first in the next one."""
        going = np.flatnonzero(~new)  # (R,) slots whose run goes on
        parts, members = [], np.empty((len(new), size), dtype=np.int64)
        kept = ranked[going, :elite].ravel()  # (R * elite,)
        if len(going):
            # step 3: the best `elite` of each run stay, the best `parents` breed
            parts.append(take(population, kept))
            best = ranked[going, :parents]  # (R, parents)
            # step 4: two random parents among the best for each child (row i of mothers
            # and fathers picks among row i of best: `each` names that row)
            kids, each = size - elite, np.arange(len(going))[:, None]
            mothers = best[each, rng.integers(0, parents, (len(going), kids))]  # (R, kids)
            fathers = best[each, rng.integers(0, parents, (len(going), kids))]
            children = encoding.crossover(take(population, mothers.ravel()),
                                          take(population, fathers.ravel()), rng)
            parts.append(encoding.mutate(children, rng))  # step 5
            # slot going[i]: elites i * elite ..., then its children after all the elites
            elites = np.arange(len(going) * elite).reshape(len(going), elite)
            members[going] = np.hstack([elites, elites.size + np.arange(len(going) * kids)
                                        .reshape(-1, kids)])
        fresh = np.flatnonzero(new)  # step 1 for runs that start now
        parts += [encoding.first(rng, size) for _ in fresh]
        members[fresh] = len(going) * size + np.arange(len(fresh) * size).reshape(-1, size)
        return join(parts), members, kept

    clock = time.perf_counter()
    out_images = np.zeros((count, PIXELS), dtype=np.float32)
    out_conf, out_pen = np.zeros(count), np.zeros(count)
    out_gen = np.zeros(count, dtype=np.int64)
    out_first = np.full(count, -1, dtype=np.int64)  # when each run first reached the target
    out_done = np.zeros(count, dtype=bool)  # which runs have finished
    slots = min(config.slots, count)
    run_of = np.arange(slots)  # which run each slot holds
    new = np.ones(slots, dtype=bool)  # slots whose run starts in this generation
    generations = np.zeros(slots, dtype=np.int64)  # of each slot's run
    first = np.full(slots, -1, dtype=np.int64)  # when each slot's run first reached it
    ranked = np.zeros((slots, size), dtype=np.int64)  # rows of each slot's members, best first
    best_images = np.zeros((slots, PIXELS), dtype=np.float32)  # each slot's best so far
    population: Any = None  # the encoding's genomes; None until step 1 makes them
    scores = np.zeros((3, 0))  # confidence, penalty, cost of each row of the population
    started, finished = slots, 0
    try:
        while True:
            population, members, elites = next_generation(population, ranked, new)
            # step 2: an elite keeps the scores it had (the same genome would score the
            # same again); the genomes after the elites are judged in one forward pass
            newcomers = take(population, slice(len(elites), None))
            judged, images = judge(newcomers)
            scores = np.hstack([scores[:, elites], judged])
            confidence, penalty, costs = scores  # each (n,), by row of the population
            generations = np.where(new, 0, generations + 1)
            order = np.argsort(costs[members], axis=1, kind="stable")  # step 3: best first
            ranked = members[np.arange(len(members))[:, None], order]  # (slots, size)
            best = ranked[:, 0]  # each slot's best row
            # its image: a newcomer's was just decoded; an elite that stays best is the
            # slot's best of the last generation (it came first among the elites, and the
            # stable sort keeps it ahead of any tie), whose image is kept already
            newly = np.flatnonzero(best >= len(elites))
            best_images[newly] = images[best[newly] - len(elites)]
            del images  # the batch goes before the next one is made (it is 5 MB)
            there = confidence[best] >= config.target
            first = np.where(new, -1, first)  # a run that starts now has not reached it
            first = np.where(there & (first < 0), generations, first)
            done = (there & (generations >= config.min_generations)) | (
                generations >= config.max_generations)
            yield Generation(digit, int(generations[0]), float(confidence[best[0]]),
                             float(np.median(confidence[members[0]])),
                             best_images[0].copy(), finished, count)
            new[:] = False
            if not done.any():
                continue
            ended, runs = np.flatnonzero(done), run_of[done]  # step 6: record finished runs
            out_images[runs] = best_images[ended]
            out_conf[runs], out_pen[runs] = confidence[best[ended]], penalty[best[ended]]
            out_gen[runs], out_done[runs] = generations[ended], True
            out_first[runs] = first[ended]
            finished += len(ended)
            refill = ended[: count - started]  # these slots take the next runs
            run_of[refill] = np.arange(started, started + len(refill))
            started += len(refill)
            new[refill], done[refill] = True, False
            if done.any():  # no runs left to start: these slots close
                if done.all():
                    break
                kept = np.flatnonzero(~done)
                ranked, generations, run_of, new, first, best_images = (
                    ranked[kept], generations[kept], run_of[kept], new[kept], first[kept],
                    best_images[kept])
    except KeyboardInterrupt as stop:  # Ctrl-C: hand back the runs that finished
        kept = out_done.copy()
        raise Interrupted(str(stop), partial=FoolResult(
            digit, out_images[kept], out_conf[kept], out_gen[kept], out_pen[kept],
            config.target, time.perf_counter() - clock, out_first[kept])) from None
    return FoolResult(digit, out_images, out_conf, out_gen, out_pen, config.target,
                      time.perf_counter() - clock, out_first)


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
