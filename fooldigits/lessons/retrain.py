"""Retraining with a "not a digit" class: can the network be taught to refuse noise?

What this module teaches
------------------------
Every student's first idea after the fool chapter: show the network the fooling images
and tell it they are not digits. Nguyen, Yosinski & Clune (2015, "training networks to
recognize fooling images") did exactly that, round after round, and this module repeats
their experiment on this project's networks:

0. Round 0 is the network we have (10 outputs). The GA (`evolve.evolve`) evolves
   `per_digit` fooling images of each digit against it.
1. Those images join the training set as **class 10, "not a digit"**, and a network of
   the same shape with **11 outputs** is trained afresh (`network.sgd`). Each fooling
   image is repeated so that class 10 is about as large as a digit's class.
2. The GA tries to fool the new network: a run counts as fooled only when a *digit*
   class reaches `target` (0.9999); probability on class 10 is confidence *not* given to
   a digit, so it counts as "not fooled".
3. The freshly evolved images join class 10 too (all rounds so far), and the next
   network is trained; repeat for `rounds` rounds.

Each round is measured (a `RoundDone`): accuracy on the real test digits (answering
"not a digit" for a real digit is wrong), the share of the *previous* round's fooling
images the new network labels "not a digit" (these images were in its training set),
the share of fresh GA runs still reaching the target within `max_generations`, their
median generations, and the confidence the network gives to uniform noise.

If round 1's network labels 100% of round 0's images "not a digit" but the GA still
reaches 0.9999 in 100% of fresh runs, the network learned *those* images, not what a
digit is. The paper found that for MNIST; for ImageNet the retrained network gave the
fooling images lower confidence.

What it leaves out: the paper's MAP-Elites and CPPN encodings, convolutional networks,
and held-out fooling images (the "caught" share is measured on training images).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.core.pieces import DIGITS, NOT_A_DIGIT, BatchDone, Generation
from fooldigits.lessons.evolve import FoolResult, GAConfig, evolve
from fooldigits.lessons.training import SHIPPED_RECIPE, sgd
from fooldigits.models.base import Classifier, Trainable, require_classes, trainable

MAX_ROUNDS = 100


@dataclass(frozen=True)
class RetrainConfig:
    """Sizes of the experiment; the defaults run 5 rounds in a few minutes on 2 cores."""

    rounds: int = 5
    per_digit: int = 10  # fooling images evolved per digit per round
    max_generations: int = 500  # GA limit per run: a run that reaches it was not fooled
    target: float = 0.9999
    epochs: int = 5  # of the shipped recipe, per retrained network
    noise: int = 1000  # uniform-noise images scored each round

    def check(self) -> None:
        if not 1 <= self.rounds <= MAX_ROUNDS:
            raise FoolDigitsError(f"--rounds must be between 1 and {MAX_ROUNDS}, got {self.rounds}")
        if not 1 <= self.per_digit <= 1000:
            raise FoolDigitsError(f"--per-digit must be between 1 and 1,000, got {self.per_digit}")
        if not 1 <= self.epochs <= 1000 or not 1 <= self.noise <= 100_000:
            raise FoolDigitsError("--epochs must be 1..1,000 and the noise count 1..100,000")
        GAConfig(target=self.target, max_generations=self.max_generations).check()


@dataclass(frozen=True)
class RoundDone:
    """One row of the table; round 0 is the original 10-class network."""

    round: int
    test_accuracy: float
    caught: float | None  # previous round's fooling images now labelled "not a digit"
    fooled: float  # share of fresh GA runs reaching the target
    median_generations: float | None  # of those runs (None: no run got there)
    noise_confidence: float  # mean highest *digit* confidence on uniform noise
    noise_not_a_digit: float  # share of uniform noise labelled "not a digit"
    seconds: float
    best: np.ndarray = field(repr=False)  # (10, 784) the best fooling image of each digit
    confidence: np.ndarray = field(repr=False)  # (10,) the network's confidence in them


@dataclass
class RetrainResult:
    """The whole table, the last network and every fooling image labelled class 10."""

    rounds: list[RoundDone]
    network: Classifier
    fooling: np.ndarray  # (k, 784) images evolved in rounds 0 .. rounds-1


def _fool(net: Classifier, config: RetrainConfig, rng: np.random.Generator
          ) -> Iterator[Generation | FoolResult]:
    """Steps 0 and 2: `per_digit` GA runs per digit, all runs of a digit side by side."""
    ga = GAConfig(target=config.target, max_generations=config.max_generations,
                  slots=config.per_digit)
    for digit in range(DIGITS):
        yield from evolve(net, digit, config.per_digit, ga, rng)


def _train(shape: Trainable, data: Dataset, fooling: np.ndarray, config: RetrainConfig,
           rng: np.random.Generator) -> Generator[BatchDone, None, Trainable]:
    """Steps 1 and 3: a fresh 11-class model of the same kind on the digits plus class 10
    (returned)."""
    net = shape.fresh(DIGITS + 1, rng)
    repeats = max(1, round(len(data.train_images) / DIGITS / len(fooling)))
    x = np.concatenate([data.train_images, np.tile(fooling, (repeats, 1))])  # (n + k r, 784)
    labels = np.concatenate([data.train_labels.astype(np.int64),
                             np.full(len(fooling) * repeats, NOT_A_DIGIT)])
    for event in sgd(net, x, labels, replace(SHIPPED_RECIPE, epochs=config.epochs), rng):
        if isinstance(event, BatchDone):
            yield event
    return net


def retrain(net: Classifier, data: Dataset, config: RetrainConfig, rng: np.random.Generator
            ) -> Iterator[BatchDone | Generation | RoundDone | RetrainResult]:
    """Run rounds 0..`config.rounds`; yield training and GA progress, a `RoundDone` per
    round, and finally the `RetrainResult`. `net` (10 outputs) is not changed."""
    config.check()
    require_classes(net, DIGITS, "retraining starts from a 10-class model and")
    shape = trainable(net, "retraining")
    noise = rng.random((config.noise, 784), dtype=np.float32)  # (noise, 784)
    test_x, test_y = data.test_images, data.test_labels
    current, sets, rows = net, list[np.ndarray](), list[RoundDone]()
    for r in range(config.rounds + 1):
        start = time.perf_counter()
        if r:
            current = yield from _train(shape, data, np.concatenate(sets), config, rng)
        caught = float(np.mean(current.predict(sets[-1]) == NOT_A_DIGIT)) if r else None
        runs = []
        for step in _fool(current, config, rng):
            if isinstance(step, FoolResult):
                runs.append(step)
            else:
                yield step
        reached = np.concatenate([run.reached for run in runs])
        generations = np.concatenate([run.generations for run in runs])[reached]
        best = np.stack([run.images[np.argmax(run.confidences)] for run in runs])  # (10, 784)
        p = current.probabilities(noise)  # (noise, 10 or 11)
        row = RoundDone(
            r, current.accuracy(test_x, test_y), caught, float(reached.mean()),
            float(np.median(generations)) if len(generations) else None,
            float(p[:, :DIGITS].max(axis=1).mean()),
            float(np.mean(p.argmax(axis=1) == NOT_A_DIGIT)),
            time.perf_counter() - start, best,
            np.array([run.confidences.max() for run in runs]))
        rows.append(row)
        yield row
        sets.append(np.concatenate([run.images for run in runs]))
    yield RetrainResult(rows, current, np.concatenate(sets[:-1]))
