"""The settings of the lessons, written once: the CLI's defaults are read from here.

What this module teaches
------------------------
Each lesson that a command runs has one frozen dataclass of settings with a `check()`
that refuses a bad value in one sentence naming the parameter ("eta must be a positive
number"); the command line maps the name to its flag (`cli.as_flags`). The defaults are
written here and nowhere else: `fooldigits train --help` shows `SHIPPED_RECIPE`'s
numbers, `dream --help` those of `DreamConfig()`, `retrain --help` those of
`RetrainConfig()`, because the commands read them from these objects.

    SGDConfig, SHIPPED_RECIPE   training.sgd: the book's SGD and the shipped model's recipe
    DreamConfig                 dream.dream: gradient steps on the pixels
    RetrainConfig               retrain.retrain: rounds of "not a digit"
    GAConfig, PRIOR_GENERATIONS evolve.evolve: the genetic algorithm, and how long a prior
                                gets at least to shape its images (`stats.with_prior_rule`)

The module imports no NumPy, so `fooldigits --help` can read it and stay fast.
`training.py`, `dream.py`, `retrain.py` and `evolve.py` re-export their class, so
`training.SGDConfig` is this `SGDConfig`.

What it leaves out: what the settings do (each lesson's own module).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fooldigits import FoolDigitsError

MAX_ROUNDS = 100
MAX_SEEDS = 20
MAX_POPULATION = 10_000  # images per generation of the GA


# -- training (training.sgd) -------------------------------------------------------------
@dataclass(frozen=True)
class SGDConfig:
    """Hyper-parameters of `sgd`; eta decays linearly to `eta * final_eta_ratio`; with
    `adversarial` > 0 each mini-batch is doubled with its `attack`ed copy at that epsilon."""

    epochs: int = 10
    batch_size: int = 10
    eta: float = 0.5
    lmbda: float = 5.0
    momentum: float = 0.0
    final_eta_ratio: float = 1.0
    shift: bool = False
    adversarial: float = 0.0  # epsilon of the attacked copies; 0 trains on clean images only
    attack: str = "fgsm"

    def check(self) -> None:
        if self.epochs < 1:
            raise FoolDigitsError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise FoolDigitsError(f"batch_size must be at least 1, got {self.batch_size}")
        if not (math.isfinite(self.eta) and self.eta > 0):
            raise FoolDigitsError(f"eta must be a positive number, got {self.eta}")
        if not (math.isfinite(self.lmbda) and self.lmbda >= 0):
            raise FoolDigitsError(f"lmbda must be a number >= 0, got {self.lmbda}")
        if not 0 <= self.momentum < 1:
            raise FoolDigitsError(f"momentum must be in [0, 1), got {self.momentum}")
        if not 0 <= self.final_eta_ratio <= 1:
            raise FoolDigitsError(f"final_eta_ratio must be in [0, 1], got {self.final_eta_ratio}")
        if not 0 <= self.adversarial <= 1:  # also refuses NaN
            raise FoolDigitsError(f"adversarial must be an epsilon in [0, 1], got "
                                  f"{self.adversarial}")
        if self.attack not in ("fgsm", "pgd"):
            raise FoolDigitsError(f"attack must be fgsm or pgd, got {self.attack!r}")


SHIPPED_RECIPE = SGDConfig(epochs=15, batch_size=32, eta=0.1, lmbda=0.5, momentum=0.9,
                           final_eta_ratio=0.0, shift=True)  # the default model's settings


# -- dreaming (dream.dream) ---------------------------------------------------------------
PRIORS = ("none", "l2", "tv", "blur")


@dataclass(frozen=True)
class DreamConfig:
    """Step size, limits and prior of `dream`."""

    steps: int = 2000
    lr: float = 1.0
    threshold: float = 0.999
    prior: str = "none"
    prior_weight: float = 0.02

    def check(self) -> None:
        if self.steps < 1:
            raise FoolDigitsError(f"steps must be at least 1, got {self.steps}")
        if self.lr <= 0 or not math.isfinite(self.lr):
            raise FoolDigitsError(f"lr must be a positive number, got {self.lr}")
        if not 0 < self.threshold < 1:
            raise FoolDigitsError(f"threshold must be between 0 and 1, got {self.threshold}")
        if self.prior not in PRIORS:
            raise FoolDigitsError(f"prior must be one of {', '.join(PRIORS)}")
        if self.prior_weight < 0:
            raise FoolDigitsError(f"prior_weight must be >= 0, got {self.prior_weight}")


# -- fooling by evolution (evolve.evolve) ------------------------------------------------
@dataclass(frozen=True)
class GAConfig:
    """Every knob of `evolve.evolve`; the defaults were measured (docs/evolve.md)."""

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
            raise FoolDigitsError("population must be at least 2 (a child needs two parents)")
        if self.population > MAX_POPULATION:
            raise FoolDigitsError(f"population must be at most {MAX_POPULATION:,}, got "
                                  f"{self.population:,}")
        if not 0 <= self.mutation_rate <= 1:
            raise FoolDigitsError(f"mutation_rate must be in [0, 1], got {self.mutation_rate}")
        if not 0 < self.target < 1:
            raise FoolDigitsError(f"target must be between 0 and 1, got {self.target}")
        if self.max_generations < 1 or self.slots < 1:
            raise FoolDigitsError("max_generations and slots must be positive")
        if not 0 <= self.min_generations <= self.max_generations:
            raise FoolDigitsError("min_generations must be between 0 and max_generations")
        if not 0 <= self.elite < self.population:
            raise FoolDigitsError(f"elite must be 0 to {self.population - 1} (fewer than the "
                                  f"population of {self.population}), got {self.elite}")
        if not 2 <= self.parents <= self.population:
            raise FoolDigitsError(f"parents must be 2 to {self.population} (the population), "
                                  f"got {self.parents}")


PRIOR_GENERATIONS = 50  # with a prior, runs evolve at least this long (stats.with_prior_rule)


# -- retraining with "not a digit" (retrain.retrain) --------------------------------------
@dataclass(frozen=True)
class RetrainConfig:
    """Sizes of the experiment; the defaults run 3 rounds in a few minutes on 2 cores."""

    rounds: int = 3
    per_digit: int = 10  # attempts per digit per search per round
    max_generations: int = 500  # GA limit per run: a run that reaches it did not fool
    target: float = 0.9999
    epochs: int = 5  # of the shipped recipe, per retrained model
    noise: int = 1000  # uniform-noise images scored each round
    dream_steps: int = 1000  # gradient steps before a dream gives up
    dream_lr: float = 100.0  # a large step: at lr 1 only 2% of dreams reach 0.9999 on the
    # shipped model within 1,000 steps, at lr 100 96% do (a median of 19 steps)
    attacked: int = 500  # real test digits PGD attacks each round
    seeds: int = 1  # the whole loop, once per seed

    def check(self) -> None:
        if not 1 <= self.rounds <= MAX_ROUNDS:
            raise FoolDigitsError(f"rounds must be between 1 and {MAX_ROUNDS}, got "
                                  f"{self.rounds}")
        if not 1 <= self.per_digit <= 1000:
            raise FoolDigitsError(f"per_digit must be between 1 and 1,000, got "
                                  f"{self.per_digit}")
        for name, most in (("epochs", 1000), ("noise", 100_000), ("dream_steps", 100_000),
                           ("attacked", 100_000)):
            if not 1 <= (value := getattr(self, name)) <= most:
                raise FoolDigitsError(f"{name} must be between 1 and {most:,}, got {value}")
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise FoolDigitsError(f"seeds must be between 1 and {MAX_SEEDS}, got {self.seeds}")
        GAConfig(target=self.target, max_generations=self.max_generations).check()
