"""Chapters 1 and 2 as experiments: the data, training a network, and how good it is.

What this module teaches
------------------------
`show` draws training digits; `digit_means` the mean of each digit; `train` runs
`training.sgd` and keeps the best network by validation accuracy (and never lets an
interrupted or diverged run replace a saved model with a worse one); `evaluate` measures
a model on the test set; `right_and_wrong` shows five digits it reads and five it
misreads. Each yields pieces and returns what `--json` prints.

    >>> result = yield from evaluate(load_model(), data.test_images, data.test_labels)
    >>> result.accuracy        # 0.9826 for the shipped model

What it leaves out: the maths (`network.py`, `data.py`) and the drawing (`present.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np

from fooldigits import FoolDigitsError, Interrupted
from fooldigits.core.data import Dataset
from fooldigits.core.pieces import (
    NO_JSON,
    NOT_A_DIGIT,
    Bars,
    BatchDone,
    Experiment,
    Images,
    Say,
    Step,
    Table,
    class_name,
)
from fooldigits.lessons.training import SGDConfig, sgd
from fooldigits.models.base import Classifier, Trainable


# -- chapter 1: the data ----------------------------------------------------------------------
@dataclass
class ShowResult:
    labels: list[int]


def show(images: np.ndarray, labels: np.ndarray, title: str = "training images"
         ) -> Experiment[ShowResult]:
    """Digits as the network gets them, each captioned with its label."""
    yield Images(title, images, [f"label {class_name(d)}" for d in labels])
    return ShowResult([int(d) for d in labels])


def digit_means(data: Dataset) -> Experiment[ShowResult]:
    """One training image of each digit, then the mean of each digit's training images."""
    present = [d for d in range(10) if np.any(data.train_labels == d)]
    first = [int(np.flatnonzero(data.train_labels == d)[0]) for d in present]
    yield Images("one training image of each digit", data.train_images[first],
                 [f"label {d}" for d in present])
    means = np.stack([data.train_images[data.train_labels == d].mean(axis=0) for d in present])
    yield Images("the mean of each digit's training images", means,
                 [f"mean '{d}'" for d in present])
    yield Say(f"{len(data.train_images):,} training, {len(data.validation_images):,} "
              f"validation and {len(data.test_images):,} test images, each a row of 784 "
              "numbers between 0 (black) and 1 (white ink).")
    return ShowResult(present)


# -- chapter 2: training ------------------------------------------------------------------------
class EpochRow(TypedDict):
    """One epoch of `train`'s result (`training.EpochDone`), as --json writes it."""

    epoch: int
    validation_accuracy: float | None
    test_accuracy: float | None
    attacked_accuracy: float | None  # None unless trained against `config.adversarial`
    seconds: float


@dataclass
class TrainResult:
    architecture: str  # `describe()` of the model
    epochs: list[EpochRow]
    best_epoch: int
    best_validation_accuracy: float
    saved: str | None
    network: Classifier | None = field(default=None, metadata=NO_JSON)


def train(net: Trainable, data: Dataset, config: SGDConfig, rng: np.random.Generator,
          out: Path | None = None, monitor: bool = True) -> Experiment[TrainResult]:
    """Train `net` by SGD; keep the network of the best validation epoch; save it to `out`.

    Ctrl-C: a network that finished at least one epoch is saved (and marked as stopped),
    an untouched one never replaces an existing file; either way `Interrupted` says what
    happened. Divergence (NaN weights) after a good epoch saves that epoch's network.
    """
    best: Classifier | None = None
    best_accuracy, best_epoch = -1.0, 0
    epochs: list[EpochRow] = []
    validation = (data.validation_images, data.validation_labels) if monitor else None
    test = (data.test_images, data.test_labels) if monitor else None
    has_validation = validation is not None and len(validation[1]) > 0

    measure = "validation" if has_validation else "test"  # what picks the best epoch

    def save(stopped: str | None) -> str | None:
        """Save the best network: over `out` when the run ended, beside it when not."""
        from fooldigits.core.writing import beside, describe_saved

        if best is None or out is None:
            return None
        if stopped:
            best.meta["stopped"] = stopped
        best.meta[f"{measure}_accuracy"] = f"{best_accuracy:.4f}"
        target = beside(out) if stopped else out  # a stopped run never replaces a file
        best.save(target)
        return describe_saved(target, out)

    try:
        for event in sgd(net, data.train_images, data.train_labels, config, rng,
                         validation if has_validation else None, test):
            if isinstance(event, BatchDone):
                yield event
                continue
            val = event.validation_accuracy
            score = val if val is not None else (event.test_accuracy or 0.0)
            attacked = event.attacked_accuracy
            epochs.append({"epoch": event.epoch, "validation_accuracy": val,
                           "test_accuracy": event.test_accuracy,
                           "attacked_accuracy": attacked, "seconds": round(event.seconds, 3)})
            scores = ", ".join(f"{name} {100 * value:.2f}%" for name, value in (
                ("validation", val), ("test", event.test_accuracy),
                (f"under PGD at {config.adversarial}", attacked)) if value is not None)
            yield Say(f"epoch {event.epoch:3d}/{config.epochs}: {scores or 'done'}  "
                      f"({event.seconds:.1f} s)")
            if score > best_accuracy:
                best, best_accuracy, best_epoch = net.copy(), score, event.epoch
    except KeyboardInterrupt:
        saved = save(f"by Ctrl-C after epoch {len(epochs)}")
        raise Interrupted(
            f"saved the best network so far (epoch {best_epoch}, {measure} "
            f"{100 * best_accuracy:.2f}%) to {saved}" if saved else
            "no epoch had finished, so nothing was saved"
            + (f" and {out} was left as it was" if out is not None and out.exists() else "")
        ) from None
    except FoolDigitsError as err:
        if best is None:
            raise
        saved = save(f"diverged after epoch {best_epoch}")
        raise FoolDigitsError(f"{err}. Saved the best network so far (epoch {best_epoch}, "
                              f"{measure} {100 * best_accuracy:.2f}%) to {saved}") from None
    saved = save(None)
    if saved:
        chosen = "" if has_validation or not monitor else " (no validation images: chosen by test)"
        yield Say(f"saved {saved} (epoch {best_epoch}, best {measure} accuracy "
                  f"{100 * best_accuracy:.2f}%{chosen})", "good")
    return TrainResult(net.describe(), epochs, best_epoch, best_accuracy, saved, best)


@dataclass
class FitResult:
    architecture: str  # `describe()` of the model
    validation_accuracy: float
    test_accuracy: float
    test_rejected: float  # fraction of real test digits read as "not a digit"
    seconds: float
    saved: str | None
    network: Classifier | None = field(default=None, metadata=NO_JSON)


def fit_generative(data: Dataset, out: Path | None, command: str
                   ) -> Experiment[FitResult]:
    """`train --arch generative`: fit one PPCA a digit (no SGD, seconds), save it to `out`."""
    import time

    from fooldigits.models.generative import Generative

    start = time.perf_counter()
    yield Step("fitting one Gaussian per digit (covariance, eigh, q, T, threshold)")
    net = Generative().fit(data.train_images, data.train_labels, data.validation_images,
                           data.validation_labels)
    seconds = time.perf_counter() - start
    yield Step("fitting one Gaussian per digit (covariance, eigh, q, T, threshold)", 1, 1)
    net.meta["command"] = command
    net.meta["validation_accuracy"] = f"{net.validation_accuracy_:.4f}"
    predicted = net.predict(data.test_images)
    accuracy = float(np.mean(predicted == data.test_labels))
    rejected = float(np.mean(predicted == NOT_A_DIGIT))
    yield Say(f"{net.meta['fit']}; {seconds:.1f} s", "note")
    yield Say(f"test accuracy {100 * accuracy:.2f}%, {100 * rejected:.2f}% of the real test "
              "digits read as \"not a digit\"", "good")
    saved = None
    if out is not None:
        from fooldigits.core.writing import describe_saved

        net.save(out)
        saved = describe_saved(out, out)
        yield Say(f"saved {saved}", "good")
    return FitResult(net.describe(), net.validation_accuracy_, accuracy, rejected,
                     round(seconds, 3), saved, net)


# -- evaluate -----------------------------------------------------------------------------------
@dataclass
class EvaluateResult:
    accuracy: float
    n: int
    command: str | None
    per_digit: dict[str, float]
    confusion: list[list[int]]
    model: str
    architecture: str  # `describe()` of the model
    rejected: float | None = None  # fraction read as "not a digit" (11-class models only)


def evaluate(net: Classifier, x: np.ndarray, y: np.ndarray, model: str = "shipped default"
             ) -> Experiment[EvaluateResult]:
    """Accuracy overall and per digit, and the confusion matrix (true x predicted)."""
    if len(y) == 0:
        raise FoolDigitsError("the test set is empty: there is nothing to evaluate")
    confusion = net.confusion_matrix(x, y)  # (classes, classes)
    per_digit = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    accuracy = float(confusion.trace() / confusion.sum())
    names = [class_name(d) for d in range(len(confusion))]
    yield Say(f"test accuracy {100 * accuracy:.2f}% on {int(confusion.sum()):,} images "
              f"({net.describe()})", "good")
    command = net.meta.get("command")
    stopped = f" (stopped {net.meta['stopped']})" if "stopped" in net.meta else ""
    yield Say(f"made by: {command or 'unknown'}{stopped}", "note")
    rejected = None
    if len(confusion) > NOT_A_DIGIT:  # an 11-class model can answer "not a digit"
        rejected = float(confusion[:, NOT_A_DIGIT].sum() / confusion.sum())
        yield Say(f"rejected: {100 * rejected:.2f}% of the real test digits read as "
                  "\"not a digit\" (each counts as wrong in the accuracy)", "note")
    yield Bars("accuracy per digit", names, [float(a) for a in per_digit], "{:.2%}")
    yield Table("confusion matrix (rows: true digit, columns: predicted)", ["", *names],
                [(names[t], *(int(v) for v in row)) for t, row in enumerate(confusion)],
                diagonal=True)
    return EvaluateResult(accuracy, int(confusion.sum()), command,
                          {names[d]: float(a) for d, a in enumerate(per_digit)},
                          confusion.tolist(), model, net.describe(), rejected)


@dataclass
class RightWrongResult:
    accuracy: float


def right_and_wrong(net: Classifier, x: np.ndarray, y: np.ndarray, k: int = 5
                    ) -> Experiment[RightWrongResult]:
    """The first `k` test digits the network reads right, and the first `k` it misreads."""
    p = net.probabilities(x)  # (n, classes)
    predicted = p.argmax(axis=1)
    accuracy = float(np.mean(predicted == y))
    yield Say(f"The shipped {net.describe()} model "
              f"({net.meta.get('command', '')}) gets {100 * accuracy:.2f}% of {len(y):,} test "
              "images right.")
    picks = np.concatenate([np.flatnonzero(predicted == y)[:k], np.flatnonzero(predicted != y)[:k]])
    yield Images(f"{k} right and {k} wrong", x[picks],
                 [f"{'ok' if predicted[i] == y[i] else 'WRONG'}: says {class_name(predicted[i])} "
                  f"({100 * p[i].max():.1f}%), is {y[i]}" for i in picks])
    return RightWrongResult(accuracy)
