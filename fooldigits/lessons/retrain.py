"""Retraining with a "not a digit" class, judged by several searches: can a network be
taught to refuse what fools it?

What this module teaches
------------------------
Every student's first idea after the fool chapter: show the network the fooling images
and tell it they are not digits. Nguyen, Yosinski & Clune (2015, "training networks to
recognize fooling images") did exactly that, round after round; this module repeats
their experiment on this project's networks, and judges each round honestly:

0. Round 0 is the model we have (10 classes). Each *search* tries to make images it
   reads as a digit at `target` (0.9999) confidence:
       ga-noise   the chapter's GA, from uniform noise (`evolve.UniformPrior`)
       ga-blank   the same GA, started from a black canvas (`evolve.evolve(start=)`)
       dream      gradient ascent on the pixels from noise (`dream.dream`, lr 100)
       pgd        PGD-40 at epsilon 0.1 on real test digits (`adversarial.pgd`): here
                  "fooled" means misread
1. The ga-noise images join the training set as **class 10, "not a digit"**, and a
   model of the same kind and shape with **11 classes** is trained afresh
   (`training.sgd`, `Trainable.fresh`), each fooling image repeated so that class 10 is
   about as large as a digit's class.
2. Every search tries again against the new model. A run counts as fooled only when a
   *digit* reaches the target: probability on class 10 is confidence not given to a digit.
3. The new ga-noise images join class 10 too (all rounds so far); repeat for `rounds`.

Each round is measured (a `RoundDone`): accuracy on real test digits (answering "not a
digit" for a real digit is wrong); per search, the share of attempts that still fool it
and their median effort (generations or steps); and the share of the *previous* round's
images of each search that the new model calls "not a digit". For ga-noise those images
were in its training set; for the other searches they are **held out**: made by a search
it never trained on. With `seeds` > 1 the whole loop runs once per seed, and
`summary` gives each cell's mean and range.

The twist worth teaching (measured in docs/adversarial.md): the retrained model learns to
reject *uniform-noise statistics*, which is what ga-noise starts from and keeps injecting,
so that search fails more and more often. The other searches do not care: a GA started
from black, or the gradient, still fools it, as Nguyen et al. found on MNIST. The model
learned to reject one search's images, not what a digit is.

What it leaves out: the paper's MAP-Elites and CPPN encodings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, TypedDict

import numpy as np

from fooldigits.core.data import Dataset
from fooldigits.core.pieces import DIGITS, NOT_A_DIGIT, BatchDone, Generation, Step
from fooldigits.core.writing import atomic_write
from fooldigits.lessons import adversarial
from fooldigits.lessons.dream import DreamConfig, dream
from fooldigits.lessons.evolve import FoolResult, GAConfig, UniformPrior, evolve
from fooldigits.lessons.settings import MAX_ROUNDS as MAX_ROUNDS  # re-exported
from fooldigits.lessons.settings import MAX_SEEDS as MAX_SEEDS  # re-exported
from fooldigits.lessons.settings import RetrainConfig as RetrainConfig  # re-exported
from fooldigits.lessons.training import SHIPPED_RECIPE, sgd
from fooldigits.models.base import Classifier, Trainable, require_classes, trainable

SEARCHES = ("ga-noise", "ga-blank", "dream", "pgd")
TRAINED_ON = "ga-noise"  # the search whose images become class 10
PGD_EPSILON = 0.1


@dataclass(frozen=True)
class Search:
    """How one search did against one round's model."""

    fooled: float  # share of attempts that reached the target (pgd: digits misread)
    effort: float | None  # median generations or steps of those that did (None: none)
    rejected_previous: float | None  # the previous round's images of this search called
    # "not a digit" by this model (None in round 0); held out unless search == TRAINED_ON
    images: np.ndarray = field(repr=False)  # (k, 784) what the search made (pgd: attacked)


@dataclass(frozen=True)
class RoundDone:
    """One row of the table: one seed, one round (round 0: the original model)."""

    seed: int
    round: int
    test_accuracy: float
    searches: dict[str, Search]
    noise_confidence: float  # mean highest *digit* confidence on uniform noise
    noise_not_a_digit: float  # share of uniform noise called "not a digit"
    seconds: float
    saved: list[str] = field(default_factory=list)  # files written for this round


# One round of the summary (`summarise`): "round", "seeds", two Cells, and one dict of Cells
# per search, keyed by its name in SEARCHES. Any because those keys are data, which a
# TypedDict cannot spell.
RoundSummary = dict[str, Any]


class Cell(TypedDict):
    """One cell of the summary across seeds: its mean and range."""

    mean: float
    min: float
    max: float


@dataclass
class RetrainResult:
    """Every round of every seed, each cell summarised, and the last model."""

    rounds: list[RoundDone]
    summary: list[RoundSummary]  # one per round: mean and range of every cell
    network: Classifier


def _ga(model: Classifier, config: RetrainConfig, rng: np.random.Generator,
        start: np.ndarray | None) -> Generator[Generation, None, list[FoolResult]]:
    """`per_digit` GA runs per digit, all runs of a digit side by side."""
    ga = GAConfig(target=config.target, max_generations=config.max_generations,
                  slots=config.per_digit)
    runs = []
    for digit in range(DIGITS):
        # uniform noise, every grey alike, as this experiment was designed and measured
        # (the fool chapter's GA now starts from noise on a black page)
        runs.append((yield from evolve(model, digit, config.per_digit, ga, rng,
                                       prior=UniformPrior(), start=start)))
    return runs


def _judge(model: Classifier, data: Dataset, config: RetrainConfig, rng: np.random.Generator
           ) -> Generator[Generation | Step, None, dict[str, tuple[float, float | None,
                                                              np.ndarray]]]:
    """Step 0 or 2: every search against `model`: (fooled, effort, images) by name."""
    found: dict[str, tuple[float, float | None, np.ndarray]] = {}
    for name, start in (("ga-noise", None), ("ga-blank", np.zeros(784, np.float32))):
        runs = yield from _ga(model, config, rng, start)
        reached = np.concatenate([r.reached for r in runs])
        generations = np.concatenate([r.generations for r in runs])[reached]
        found[name] = (float(reached.mean()),
                       float(np.median(generations)) if len(generations) else None,
                       np.concatenate([r.images for r in runs]))
    yield Step("dreaming from noise")
    dreamt = dream(model, np.repeat(np.arange(DIGITS), config.per_digit),
                   DreamConfig(steps=config.dream_steps, lr=config.dream_lr,
                               threshold=config.target), rng)
    steps = dreamt.steps[dreamt.converged]
    found["dream"] = (float(dreamt.converged.mean()),
                      float(np.median(steps)) if len(steps) else None, dreamt.images)
    yield Step(f"PGD on {config.attacked} test digits")
    x, y = data.test_images[: config.attacked], data.test_labels[: config.attacked]
    attacked = adversarial.pgd(model, x, y, PGD_EPSILON)
    found["pgd"] = (float(np.mean(model.predict(attacked) != y)) if len(y) else 0.0,
                    float(adversarial.PGD_STEPS), attacked)
    return found


def _train(shape: Trainable, data: Dataset, fooling: np.ndarray, config: RetrainConfig,
           rng: np.random.Generator) -> Generator[BatchDone, None, Trainable]:
    """Steps 1 and 3: a fresh 11-class model of the same kind on the digits plus class 10."""
    net = shape.fresh(DIGITS + 1, rng)
    repeats = max(1, round(len(data.train_images) / DIGITS / len(fooling)))
    x = np.concatenate([data.train_images, np.tile(fooling, (repeats, 1))])  # (n + k r, 784)
    labels = np.concatenate([data.train_labels.astype(np.int64),
                             np.full(len(fooling) * repeats, NOT_A_DIGIT)])
    for event in sgd(net, x, labels, replace(SHIPPED_RECIPE, epochs=config.epochs), rng):
        if isinstance(event, BatchDone):
            yield event
    return net


def _save(folder: Path, seed: int, r: int, model: Classifier,
          found: dict[str, tuple[float, float | None, np.ndarray]]) -> list[str]:
    """`--save-rounds`: the round's model (rounds 1..) and each search's images, atomically."""
    written = []
    if r:
        path = folder / f"seed{seed}-round{r}.npz"
        model.save(path)
        written.append(str(path))
    for name, (_, _, images) in found.items():
        path = folder / f"seed{seed}-round{r}-{name}.npz"
        atomic_write(path, _images_writer(images))
        written.append(str(path))
    return written


def _images_writer(images: np.ndarray) -> Callable[[BinaryIO], None]:
    """What `atomic_write` calls: the images as `fool --out` saves them (`classify` reads)."""
    return lambda f: np.savez(f, images=images.reshape(-1, 28, 28))


def retrain(net: Classifier, data: Dataset, config: RetrainConfig, rng: np.random.Generator,
            save: Path | None = None
            ) -> Generator[BatchDone | Generation | Step | RoundDone, None, RetrainResult]:
    """Rounds 0..`config.rounds` for each of `config.seeds` seeds (independent generators
    spawned from `rng`); yield progress and a `RoundDone` per round; return the
    `RetrainResult`. `net` (10 classes) is not changed; `save` is a folder for every
    round's model and images."""
    config.check()
    shape = trainable(net, "retraining")  # first: a generative model is fitted, not trained
    require_classes(net, DIGITS, "retraining starts from a 10-class model and")
    rows: list[RoundDone] = []
    current: Classifier = net
    for seed, generator in enumerate(rng.spawn(config.seeds)):
        noise = generator.random((config.noise, 784), dtype=np.float32)  # (noise, 784)
        current, training, previous = net, list[np.ndarray](), None
        for r in range(config.rounds + 1):
            start = time.perf_counter()
            if r:
                current = yield from _train(shape, data, np.concatenate(training), config,
                                            generator)
            found = yield from _judge(current, data, config, generator)
            p = current.probabilities(noise)  # (noise, 10 or 11)
            searches = {
                name: Search(fooled, effort,
                             None if previous is None else float(np.mean(
                                 current.predict(previous[name][2]) == NOT_A_DIGIT)), images)
                for name, (fooled, effort, images) in found.items()}
            row = RoundDone(seed, r, current.accuracy(data.test_images, data.test_labels),
                            searches, float(p[:, :DIGITS].max(axis=1).mean()),
                            float(np.mean(p.argmax(axis=1) == NOT_A_DIGIT)),
                            time.perf_counter() - start,
                            _save(save, seed, r, current, found) if save is not None else [])
            rows.append(row)
            yield row
            training.append(found[TRAINED_ON][2])
            previous = found
    return RetrainResult(rows, summarise(rows), current)


def summarise(rows: list[RoundDone]) -> list[RoundSummary]:
    """Per round, every cell across seeds: {"mean", "min", "max"} (None where no seed has
    a value, e.g. the effort of a search that never succeeded)."""

    def cell(values: list[float | None]) -> Cell | None:
        known = [v for v in values if v is not None]
        if not known:
            return None
        return {"mean": float(np.mean(known)), "min": float(min(known)),
                "max": float(max(known))}

    table = []
    for r in sorted({row.round for row in rows}):
        here = [row for row in rows if row.round == r]
        entry: RoundSummary = {"round": r, "seeds": len(here),


                                    "test_accuracy": cell([row.test_accuracy for row in here]),
                                    "noise_not_a_digit": cell([row.noise_not_a_digit
                                                               for row in here])}
        for name in SEARCHES:
            entry[name] = {
                "fooled": cell([row.searches[name].fooled for row in here]),
                "effort": cell([row.searches[name].effort for row in here]),
                "rejected_previous": cell([row.searches[name].rejected_previous
                                           for row in here]),
                "held_out": name != TRAINED_ON}
        table.append(entry)
    return table
