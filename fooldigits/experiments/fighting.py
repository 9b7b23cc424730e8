"""Chapter 8 as experiments: fighting back -- adversarial digits, a "not a digit" class.

What this module teaches
------------------------
Nothing the concept modules do not: `adversarial.py` attacks real digits (FGSM, PGD),
`retrain.py` repeats Nguyen et al.'s retraining with an eleventh class, and `network.sgd`
trains on attacked images. The experiments here sweep, pick and draw:

* `adversarial`: accuracy and the confidence of the wrong answers for each epsilon and
  attack, the smallest epsilon that flips each of a few digits, and pictures of the
  original, the change (signed: blue darker, red lighter) and the adversarial image;
* `targeted`: real digits pushed to read as a chosen digit, each by the smallest change;
* `adversarial_transfer`: a perturbation made on one network, tried on the others, beside
  the fooling-image transfer of `fooling.transfer`;
* `retrain`: the rounds of "fool it, teach it 'not a digit', fool it again".

    >>> result = yield from adversarial(net, x, y, epsilons=[0.0, 0.1])
    >>> result.rows[1]["accuracy"]       # about 0.27 for FGSM at 0.1 on the shipped model

What it leaves out: the maths (`adversarial.py`, `retrain.py`) and the drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from fooldigits.core.pieces import NO_JSON, Experiment, Images, Say, Step, Table, class_name
from fooldigits.models.base import Classifier


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _pictures(net: Classifier, ex: Any, epsilon: float | np.ndarray, what: str
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
    yield Images("the same digits after the change: a person still reads every one",
                 ex.adversarial, [f"says {class_name(a)} {100 * c:.1f}%" for a, c in
                                  zip(ex.after, ex.confidence_after, strict=True)], columns=k)


# -- the epsilon sweep --------------------------------------------------------------------
@dataclass
class AdversarialResult:
    n: int
    rows: list[dict[str, Any]]
    smallest_epsilon: dict[str, list[float]]
    model: str


def adversarial(net: Classifier, x: np.ndarray, y: np.ndarray, epsilons: Sequence[float],
                methods: Sequence[str] = ("fgsm", "pgd"), steps: int = 40, show: int = 5,
                example_epsilon: float = 0.1, model: str = "shipped") -> Experiment[
                    AdversarialResult]:
    """FGSM and PGD on real test digits: accuracy vs epsilon, and examples drawn."""
    from fooldigits.lessons import adversarial as adv

    rows = []
    total = len(methods) * len(epsilons)
    for i, row in enumerate(adv.attack_table(net, x, y, epsilons, methods, steps)):
        rows.append(asdict(row))
        yield Step(f"attacking {len(x):,} test digits ({row.method}, epsilon {row.epsilon})",
                   i + 1, total)
    yield Table(f"{len(x):,} real test digits under attack (PGD: {steps} steps)",
                ["attack", "epsilon", "accuracy", "confidence when wrong"],
                [(r["method"].upper(), f"{r['epsilon']:.2f}", _pct(r["accuracy"]),
                  _pct(r["wrong_confidence"])) for r in rows])
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
    worst = min((r for r in rows if r["epsilon"] <= 0.1 + 1e-9), key=lambda r: r["accuracy"])
    yield Say(f"At epsilon {worst['epsilon']:.2f} -- no pixel moves by more than a tenth of "
              f"the way from black to white -- {worst['method'].upper()} leaves "
              f"{_pct(worst['accuracy'])} of the digits read right, and the wrong answers "
              f"come at {_pct(worst['wrong_confidence'])} confidence.")
    return AdversarialResult(len(x), rows, smallest, model)


# -- targeted -----------------------------------------------------------------------------
@dataclass
class TargetedResult:
    digit: int
    target: int
    n: int
    reached: float
    smallest_epsilon: list[float]
    median_epsilon: float | None


def targeted(net: Classifier, x: np.ndarray, digit: int, target: int, method: str = "pgd",
             steps: int = 40, show: int = 5) -> Experiment[TargetedResult]:
    """Real `digit`s pushed to read as `target`, each by the smallest epsilon found."""
    from fooldigits.lessons import adversarial as adv

    labels = np.full(len(x), digit)
    yield Step(f"bisecting the smallest change that turns each of {len(x)} '{digit}'s into "
               f"a '{target}' ({method})")
    flips = adv.smallest_epsilon(net, x, labels, target=target, method=method, steps=steps)
    ok = flips.flipped & (flips.answers == target)
    reached = float(ok.mean())
    median = float(np.median(flips.epsilon[ok])) if ok.any() else None
    k = min(show, len(x))
    if k:
        ex = adv.examples(net, x[:k], labels[:k], flips.epsilon[:k],  # type: ignore[arg-type]
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
    fooling: Any = None


def adversarial_transfer(nets: Sequence[tuple[str, Classifier]], x: np.ndarray, y: np.ndarray,
                         epsilon: float, rng: np.random.Generator, method: str = "pgd",
                         steps: int = 40, train: tuple[Any, int, int] | None = None,
                         fooling_count: int = 1) -> Experiment[AdversarialTransferResult]:
    """Perturbations made on each network (rows) tried on every network (columns), then
    the fooling images' transfer for the same networks, to set beside it."""
    from fooldigits.experiments.fooling import train_others, transfer
    from fooldigits.lessons import adversarial as adv

    if train is not None:
        nets = [*nets, *(yield from train_others(*train))]
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
        fooling = yield from transfer(nets, fooling_count, 0.99, rng)
    return AdversarialTransferResult(names, epsilon, accuracy.tolist(), fooling)


# -- retraining with a "not a digit" class ------------------------------------------------------
@dataclass
class RetrainReport:
    rounds: list[dict[str, Any]]
    network: Classifier | None = field(default=None, metadata=NO_JSON)


def retrain(net: Classifier, data: Any, config: Any, rng: np.random.Generator
            ) -> Experiment[RetrainReport]:
    """Nguyen et al.'s experiment: fool, add the fooling images as class 10, retrain, repeat."""
    from fooldigits.lessons import retrain as rt

    rows: list[dict[str, Any]] = []
    result = None
    for event in rt.retrain(net, data, config, rng):
        if isinstance(event, rt.RoundDone):
            row = {k: v for k, v in asdict(event).items() if k not in ("best", "confidence")}
            rows.append(row)
            yield Say(f"round {event.round}: test accuracy {_pct(event.test_accuracy)}, "
                      f"previous fooling images caught {_pct(event.caught)}, fresh GA runs "
                      f"still fooling it {_pct(event.fooled)}", "note")
            last = event
        elif isinstance(event, rt.RetrainResult):
            result = event
        else:
            yield event
    yield Table("retraining with a 'not a digit' class (round 0: the original network)",
                ["round", "test acc.", "old fakes caught", "GA still fools", "median gen.",
                 "noise: digit conf.", "noise: not a digit"],
                [(r["round"], _pct(r["test_accuracy"]), _pct(r["caught"]), _pct(r["fooled"]),
                  "-" if r["median_generations"] is None else int(r["median_generations"]),
                  _pct(r["noise_confidence"]), _pct(r["noise_not_a_digit"])) for r in rows])
    yield Images(f"round {last.round}: the best fooling image of each digit",
                 last.best, [f"'{d}' {100 * c:.3f}%" for d, c in enumerate(last.confidence)])
    return RetrainReport(rows, result.network if result is not None else None)
