"""Chapter 8 as experiments: fighting back -- adversarial digits, a "not a digit" class.

What this module teaches
------------------------
Nothing the concept modules do not: `adversarial.py` attacks real digits (FGSM, PGD),
`retrain.py` repeats Nguyen et al.'s retraining with an eleventh class, and `training.sgd`
trains on attacked images. The experiments here sweep, pick and draw:

* `adversarial`: accuracy and the confidence of the wrong answers for each epsilon and
  attack, the smallest epsilon that flips each of a few digits, and pictures of the
  original, the change (signed: blue darker, red lighter) and the adversarial image;
* `targeted`: real digits pushed to read as a chosen digit, each by the smallest change;
* `adversarial_transfer`: a perturbation made on one network, tried on the others, beside
  the fooling-image transfer of `transfer.transfer`;
* `retrain`: the rounds of "fool it, teach it 'not a digit', fool it again".

    >>> result = yield from adversarial(net, data, epsilons=[0.0, 0.1])
    >>> result.rows[1].accuracy   # FGSM at 0.1: 0.3552 on the shipped model, the 10,000
    0.3552                        # test digits (docs/adversarial.md's table; no seed)


What it leaves out: the maths (`adversarial.py`, `retrain.py`) and the drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.core.pieces import (
    DIGITS,
    NO_JSON,
    Experiment,
    Images,
    Say,
    Step,
    Table,
    class_name,
)
from fooldigits.core.writing import check_output
from fooldigits.lessons.retrain import Cell, RetrainConfig, RoundSummary
from fooldigits.models.base import Classifier

if TYPE_CHECKING:  # the modules themselves load only when an experiment runs
    from fooldigits.experiments.transfer import TransferResult
    from fooldigits.lessons.adversarial import AttackRow, Examples


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _pictures(net: Classifier, ex: Examples, epsilon: float | np.ndarray, what: str
              ) -> Experiment[None]:
    """Original, change and adversarial image of each example, as three grids."""
    k = len(ex.originals)
    yield Images(f"{k} real test digits, as the network reads them", ex.originals,
                 [f"is {y}: says {class_name(a)} {100 * c:.1f}%" for y, a, c in
                  zip(ex.labels, ex.before, ex.confidence_before, strict=True)], columns=k)
    scale = np.reshape(np.where(np.asarray(epsilon) > 0, epsilon, 1), (-1, 1))  # (k or 1, 1)
    yield Images(f"the change {what} (blue: darker, red: lighter; at most "
                 f"{np.max(epsilon):.2f} per pixel)", ex.perturbations / scale,
                 [f"max |change| {np.abs(d).max():.3f}" for d in ex.perturbations],
                 signed=True, columns=k)
    flipped = int(np.sum(np.asarray(ex.after) != np.asarray(ex.labels)))
    yield Images(f"the same digits after the change: the network misreads {flipped} of {k}; "
                 "a person reads each as before", ex.adversarial,
                 [f"says {class_name(a)} {100 * c:.1f}%" for a, c in
                  zip(ex.after, ex.confidence_after, strict=True)], columns=k)


# -- the epsilon sweep --------------------------------------------------------------------
@dataclass
class AdversarialResult:
    n: int
    rows: list[AttackRow]  # one per attack and epsilon
    smallest_epsilon: dict[str, list[float]]
    model: str
    attack: str = "PGD: 40 steps"  # what the PGD rows measured


def adversarial(net: Classifier, data: Dataset, epsilons: Sequence[float],
                methods: Sequence[str] = ("fgsm", "pgd"), steps: int = 40, show: int = 5,
                count: int = 10_000, example_epsilon: float = 0.1, model: str = "shipped",
                restarts: int = 1, loss: str = "ce", rng: np.random.Generator | None = None
                ) -> Experiment[AdversarialResult]:
    """FGSM and PGD on the first `count` test digits: accuracy vs epsilon, and `show`
    examples drawn (and bisected). PGD runs `restarts` times per digit (random starts from
    `rng`), with the `loss` given."""
    from fooldigits.lessons import adversarial as adv

    _check(epsilons, methods, steps, count, show, loss, restarts)
    x, y = data.test_images[:count], data.test_labels[:count]
    if len(x) == 0:
        raise FoolDigitsError("the test set is empty: there is nothing to attack")
    show = min(show, len(x))
    rows: list[AttackRow] = []
    total = len(methods) * len(epsilons)
    strength = (f"PGD: {steps} steps" + (f", {restarts} restarts" if restarts > 1 else "")
                + (", margin loss" if loss == "margin" else ""))
    for i, row in enumerate(adv.attack_table(net, x, y, epsilons, methods, steps, loss,
                                             restarts, rng)):
        rows.append(row)
        yield Step(f"attacking {len(x):,} test digits ({row.method}, epsilon {row.epsilon})",
                   i + 1, total)
    yield Table(f"{len(x):,} real test digits under attack ({strength})",
                ["attack", "epsilon", "accuracy", "confidence when wrong"],
                [(r.method.upper(), f"{r.epsilon:.2f}", _pct(r.accuracy),
                  _pct(r.wrong_confidence)) for r in rows])
    smallest: dict[str, list[float]] = {}
    if show:
        picks = x[:show], y[:show]
        for method in methods:
            yield Step(f"bisecting the smallest epsilon that flips each example ({method})")
            flips = adv.smallest_epsilon(net, *picks, method=method, steps=steps)
            smallest[method] = [float(e) for e in flips.epsilon]
        ex = adv.examples(net, *picks, example_epsilon, methods[-1], steps)
        yield from _pictures(net, ex, example_epsilon, f"{methods[-1].upper()} made at "
                             f"epsilon {example_epsilon}")
        yield Table("the smallest change that flips each example (L-infinity epsilon)",
                    ["example", "label", *(m.upper() for m in smallest)],
                    [(f"#{i}", int(picks[1][i]), *(f"{smallest[m][i]:.3f}" for m in smallest))
                     for i in range(show)])
    small = [r for r in rows if r.epsilon <= 0.1 + 1e-9]  # none if every epsilon is larger
    worst = min(small, key=lambda r: r.accuracy) if small else None
    if worst is not None:
        yield Say(f"At epsilon {worst.epsilon:.2f} -- no pixel moves by more than a tenth "
                  f"of the way from black to white -- {worst.method.upper()} leaves "
                  f"{_pct(worst.accuracy)} of the digits read right, and the wrong "
                  f"answers come at {_pct(worst.wrong_confidence)} confidence "
                  f"({strength if worst.method == 'pgd' else worst.method.upper()}).")
    return AdversarialResult(len(x), rows, smallest, model, strength)


# -- targeted -----------------------------------------------------------------------------
@dataclass
class TargetedResult:
    digit: int
    target: int
    n: int
    reached: float
    smallest_epsilon: list[float]
    median_epsilon: float | None


def targeted(net: Classifier, data: Dataset, digit: int, target: int, method: str = "pgd",
             steps: int = 40, show: int = 5, count: int = 10_000, per_digit: int = 200
             ) -> Experiment[TargetedResult]:
    """Real `digit`s among the first `count` test digits (at most `per_digit` of them)
    pushed to read as `target`, each by the smallest epsilon found."""
    from fooldigits.lessons import adversarial as adv

    _check([], [method], steps, count, show)
    for name, value in (("digit", digit), ("target", target)):
        if not 0 <= value <= 9:
            raise FoolDigitsError(f"{name} must be a digit 0..9, got {value}")
    if target == digit:
        raise FoolDigitsError(f"target must differ from the digit attacked ({digit})",
                              "target")
    n = min(count, len(data.test_labels))
    x = data.test_images[:n][data.test_labels[:n] == digit][:per_digit]
    if len(x) == 0:
        raise FoolDigitsError(f"the first {n:,} test images hold no '{digit}' to turn into a "
                              f"'{target}'")
    labels = np.full(len(x), digit)
    yield Step(f"bisecting the smallest change that turns each of {len(x)} '{digit}'s into "
               f"a '{target}' ({method})")
    flips = adv.smallest_epsilon(net, x, labels, target=target, method=method, steps=steps)
    ok = flips.flipped & (flips.answers == target)
    reached = float(ok.mean()) if len(ok) else 0.0  # no digits: none reached
    median = float(np.median(flips.epsilon[ok])) if ok.any() else None
    k = min(show, len(x))
    if k:
        ex = adv.examples(net, x[:k], labels[:k], flips.epsilon[:k],
                          method, steps, target)
        yield from _pictures(net, ex, flips.epsilon[:k], f"that makes each read as '{target}'")
    yield Table(f"real '{digit}'s made to read '{target}' ({method.upper()})",
                ["digits", "reached the target", "median smallest epsilon"],
                [(len(x), _pct(reached), "-" if median is None else f"{median:.3f}")])
    return TargetedResult(digit, target, len(x), reached, [float(e) for e in flips.epsilon],
                          median)


# -- transfer -------------------------------------------------------------------------------
@dataclass
class AdversarialTransferResult:
    networks: list[str]
    epsilon: float
    accuracy: list[list[float]]
    fooling: TransferResult | None = None  # the fooling images' transfer, beside it


TRANSFER_EPSILON = 0.1  # the largest epsilon `adversarial_transfer` makes its changes at
TRANSFER_DIGITS = 2000  # test digits it attacks on each network, at most


def adversarial_transfer(data: Dataset, epsilons: Sequence[float], rng: np.random.Generator,
                         method: str = "pgd", steps: int = 40,
                         models: Sequence[Path] | None = None, epochs: int = 3, seed: int = 0,
                         count: int = 10_000, fooling_count: int = 1
                         ) -> Experiment[AdversarialTransferResult]:
    """Perturbations made on each network (rows) tried on every network (columns), then
    the fooling images' transfer for the same networks, to set beside it.

    The networks are `transfer.networks(models, data, epochs, seed)`; the perturbation is
    made at the largest of `epsilons` up to `TRANSFER_EPSILON` (which 0 also means), on
    the first `count` test digits, at most `TRANSFER_DIGITS`."""
    from fooldigits.experiments.transfer import networks, transfer
    from fooldigits.lessons import adversarial as adv

    _check(epsilons, [method], steps, count, 0)
    epsilon = min(max(epsilons, default=0.0), TRANSFER_EPSILON) or TRANSFER_EPSILON
    n = min(count, TRANSFER_DIGITS)
    x, y = data.test_images[:n], data.test_labels[:n]
    nets = yield from networks(models, data, epochs, seed)
    yield Step(f"attacking {len(x):,} digits on each of {len(nets)} networks")
    accuracy = adv.transfer_matrix([n for _, n in nets], x, y, epsilon, method, steps)
    names = [name for name, _ in nets]
    yield Table(f"accuracy after {method.upper()} at epsilon {epsilon} made on the row "
                "network", ["perturbation made on", *names],
                [(names[i], *(_pct(a) for a in accuracy[i])) for i in range(len(nets))])
    yield Say("The diagonal is the attack on its own network; off the diagonal the same "
              "change, never tuned to that network, still costs it most of its accuracy.")
    fooling = None
    if fooling_count:
        yield Say("Beside it, fooling images (noise bred by the GA) from `fooldigits "
                  "transfer`:")
        fooling = yield from transfer(fooling_count, 0.99, rng, nets=nets)
    return AdversarialTransferResult(names, epsilon, accuracy.tolist(), fooling)


def _check(epsilons: Sequence[float], methods: Sequence[str], steps: int, count: int,
           show: int, loss: str = "ce", restarts: int = 1) -> None:
    """The sizes every attack experiment takes, each refused with a sentence naming it."""
    from fooldigits.lessons.adversarial import check_epsilon, check_method

    for epsilon in epsilons:
        check_epsilon(epsilon)
    if not methods:
        raise FoolDigitsError("methods must name at least one attack: fgsm or pgd")
    for method in methods:
        check_method(method, steps, loss, restarts)
    if count < 1:
        raise FoolDigitsError(f"count must be at least 1, got {count}")
    if show < 0:
        raise FoolDigitsError(f"show must be 0 or more, got {show}")


# -- retraining with a "not a digit" class ------------------------------------------------------
class SearchRow(TypedDict):
    """How one search did in one round (`retrain.Search` without its images)."""

    fooled: float
    effort: float | None
    rejected_previous: float | None


class RoundRow(TypedDict):
    """One seed's one round (`retrain.RoundDone`), as --json writes it."""

    seed: int
    round: int
    test_accuracy: float
    searches: dict[str, SearchRow]  # by search name (`retrain.SEARCHES`)
    noise_confidence: float
    noise_not_a_digit: float
    seconds: float
    saved: list[str]


@dataclass
class RetrainReport:
    rounds: list[RoundRow]  # every seed's every round
    summary: list[RoundSummary]  # per round: each cell's mean and range over the seeds
    saved: list[str]  # files --save-rounds wrote
    saved_model: str | None = None  # `out`: the last round's model
    network: Classifier | None = field(default=None, metadata=NO_JSON)


def _cell(value: Cell | None) -> str:
    """A summary cell: "55%" for one seed, "55% (21–90%)" across several."""
    if value is None:
        return "-"
    if value["min"] == value["max"]:
        return _pct(value["mean"])
    return f"{_pct(value['mean'])} ({100 * value['min']:.0f}–{100 * value['max']:.0f}%)"


def _effort(value: Cell | None) -> str:
    if value is None:
        return "-"
    if value["min"] == value["max"]:
        return f"{value['mean']:.0f}"
    return f"{value['mean']:.0f} ({value['min']:.0f}–{value['max']:.0f})"


def retrain(net: Classifier, data: Dataset, config: RetrainConfig, rng: np.random.Generator,
            save: Path | None = None, out: Path | None = None, command: str | None = None
            ) -> Experiment[RetrainReport]:
    """Nguyen et al.'s experiment, judged by several searches: fool, add the GA's fooling
    images as class 10, retrain, and let every search try again. `save`: a folder for
    every round's model and images; `out`: where the last round's 11-class model is saved
    (its `meta["command"]` is `command`, the line that remakes it)."""
    from fooldigits.lessons import retrain as rt

    if out is not None:
        check_output(out, ".npz", "out")
    rows: list[RoundRow] = []
    rounds = rt.retrain(net, data, config, rng, save)
    while True:  # the rounds' events, then the result `rt.retrain` returns
        try:
            event = next(rounds)
        except StopIteration as done:
            result: rt.RetrainResult = done.value
            break
        if isinstance(event, rt.RoundDone):
            searches = {name: SearchRow(fooled=s.fooled, effort=s.effort,
                                        rejected_previous=s.rejected_previous)
                        for name, s in event.searches.items()}

            rows.append({"seed": event.seed, "round": event.round,
                         "test_accuracy": event.test_accuracy, "searches": searches,
                         "noise_confidence": event.noise_confidence,
                         "noise_not_a_digit": event.noise_not_a_digit,
                         "seconds": round(event.seconds, 2), "saved": event.saved})
            yield Say(f"seed {event.seed + 1}/{config.seeds}, round {event.round}/"
                      f"{config.rounds}: test accuracy {_pct(event.test_accuracy)}; still "
                      "fooled by " + ", ".join(f"{name} {_pct(s.fooled)}" for name, s in
                                               event.searches.items()), "note")
        else:
            yield event
    summary = result.summary
    seeds = f" (mean and range over {config.seeds} seeds)" if config.seeds > 1 else ""
    yield Table(f"share of attempts that still reach {config.target} as a digit{seeds}",
                ["round", "test acc.", "GA noise", "GA blank", "dream", "PGD misread"],
                [(s["round"], _cell(s["test_accuracy"]),
                  *(_cell(s[name]["fooled"]) for name in rt.SEARCHES)) for s in summary])
    yield Table("the previous round's images now called 'not a digit' (GA noise: trained "
                "on them; the others: held out)",
                ["round", "GA noise", "GA blank", "dream"],
                [(s["round"], *(_cell(s[name]["rejected_previous"])
                                for name in rt.SEARCHES[:3])) for s in summary[1:]])
    yield Table("median effort of the attempts that fooled it (generations; dream: steps)",
                ["round", "GA noise", "GA blank", "dream"],
                [(s["round"], *(_effort(s[name]["effort"]) for name in rt.SEARCHES[:3]))
                 for s in summary])
    last = result.rounds[-1]
    found = {name: s.images for name, s in last.searches.items()}
    rows_shown = (("ga-noise", "noise"), ("ga-blank", "blank"), ("dream", "dream"))
    picks = np.stack([found[search][d * config.per_digit]  # the first image of digit d
                      for search, _ in rows_shown for d in range(DIGITS)])  # (30, 784)
    digits = np.tile(np.arange(DIGITS), len(rows_shown))  # (30,) the digit each was for
    sure = result.network.probabilities(picks)[np.arange(len(picks)), digits]  # (30,)
    names = [name for _, name in rows_shown for _ in range(DIGITS)]
    yield Images(f"the last round's model: one image per digit from GA noise, GA blank and "
                 f"dream (rows), with its confidence in that digit (fooled: "
                 f"{100 * config.target:g}% or more)", picks,
                 [f"{name} '{d}' {100 * float(p):.3f}%"
                  for name, d, p in zip(names, digits, sure, strict=True)], packed=True)
    saved = [path for row in rows for path in row["saved"]]
    if saved:
        yield Say(f"saved {len(saved)} files for every round to {save}", "good")
    saved_model = None
    if out is not None:
        if command:
            result.network.meta["command"] = command
        result.network.save(out)
        saved_model = str(out)
        yield Say(f"saved the last round's model to {out}", "note")
    return RetrainReport(rows, summary, saved, saved_model, result.network)
