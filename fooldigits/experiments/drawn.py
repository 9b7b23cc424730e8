"""Chapter 6 as experiments: your own drawings, the edge of the canvas, a noisy background.

What this module teaches
------------------------
Nothing the concept module `drawings.py` does not: it strings its functions into what a
person watches. `classify` reads files the way MNIST was prepared (or `raw`, as the
original experiment did); `framing` draws one test '2' to the canvas edges and small in
the middle; `border` stretches every test digit to its box's edges; `scramble` fills the
background with noise. Each yields pieces and returns the result `--json` prints.

    >>> result = yield from scramble(net, x, y, [0.0, 0.5], rng)
    >>> result.levels[1]["accuracy"]      # about 0.29 for the shipped model: a collapse,
    >>> result.levels[1]["mean_confidence"]   # while confidence stays near 0.87

What it leaves out: the maths (`drawings.py`) and the drawing (`present.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import (
    NO_JSON,
    NOT_A_DIGIT,
    Experiment,
    Images,
    Reading,
    Say,
    Step,
    Table,
    class_name,
)
from fooldigits.models.base import Classifier


# -- classify -------------------------------------------------------------------------------
class FileReading(TypedDict):
    """What the network read in one image of one file."""

    file: str  # the file's name, with the image's index for a file of several
    digit: int  # its answer (10: "not a digit", for a model with that class)
    confidence: float  # in that answer
    probabilities: list[float]  # one per class


@dataclass
class ClassifyResult:
    readings: list[FileReading]
    failed: list[str] = field(default_factory=list, metadata=NO_JSON)

    def json(self) -> list[FileReading]:
        return self.readings


def classify(net: Classifier, files: Sequence[Path], raw: bool = False
             ) -> Experiment[ClassifyResult]:
    """Read every file (one bad file is reported and skipped), then classify them all."""
    from fooldigits.lessons import drawings

    names: list[str] = []
    inputs: list[np.ndarray] = []
    failed: list[str] = []
    for i, path in enumerate(files):
        if len(files) > 20:
            yield Step("reading files", i, len(files))
        try:
            batch_names, batch = drawings.load_for_network(path, raw)
        except FoolDigitsError as err:
            failed.append(str(err))
            continue
        names += batch_names
        inputs += list(batch)
    readings: list[FileReading] = []
    if inputs:
        probabilities = net.probabilities(np.stack(inputs))  # (n, classes)
        for i, (name, image, p) in enumerate(zip(names, inputs, probabilities, strict=True)):
            digit, confidence = int(np.argmax(p)), float(np.max(p))
            readings.append({"file": name, "digit": digit, "confidence": confidence,
                             "probabilities": [float(v) for v in p]})
            if i < SHOWN:
                yield Reading(f"{name}: the network says {class_name(digit)} with "
                              f"{100 * confidence:.3f}% confidence", image, p)
        if len(inputs) > SHOWN:
            yield from _summary(readings, probabilities.shape[1])
    return ClassifyResult(readings, failed)


SHOWN = 20  # images drawn one by one; beyond them, a table of what the network said


def _summary(readings: list[FileReading], classes: int) -> Experiment[None]:
    """How many images the network read as each class, and how sure it was of them."""
    digits = np.array([r["digit"] for r in readings])
    sure = np.array([r["confidence"] for r in readings])
    rows = [[class_name(c), f"{np.sum(digits == c):,}",
             f"{100 * sure[digits == c].mean():.2f}%" if np.any(digits == c) else "-"]
            for c in range(classes)]
    yield Say(f"{len(readings) - SHOWN:,} more images not drawn (--json lists every one); "
              f"all {len(readings):,} images:", "note")
    yield Table("what the network says of them",
                ["says", "images", "mean confidence"], rows)


# -- the same '2' drawn two ways -------------------------------------------------------------
@dataclass
class FramingResult:
    captions: list[str]


def framing(net: Classifier, two: np.ndarray) -> Experiment[FramingResult]:
    """One digit redrawn on a 400x400 page to the edges and small, each read raw and
    normalised: the seed's edge-drawn '2' and the fix."""
    from fooldigits.lessons.drawings import normalise, paint

    pictures = {"edge": paint(two, 400, (0, 0, 400)),  # drawn to the canvas edges
                "small": paint(two, 400, (57, 57, 286))}  # small and centred
    shown, captions = [], []
    for name, page in pictures.items():
        pixels = 1 - page / 255.0
        for raw in (True, False):
            image = normalise(pixels, raw=raw)
            p = net.probabilities(image[None])[0]
            shown.append(image)
            captions.append(f"{name}, {'raw' if raw else 'MNIST'}: "
                            f"{class_name(int(p.argmax()))} {100 * p.max():.1f}%")
    yield Images("one '2' drawn to the edges and small, each shrunk raw (as the seed did) "
                 "or prepared as MNIST was (MNIST)", np.stack(shown), captions)
    return FramingResult(captions)


# -- border -------------------------------------------------------------------------------------
@dataclass
class BorderResult:
    n: int
    original: dict[str, float]
    border: dict[str, float]


def border(net: Classifier, x: np.ndarray, y: np.ndarray, show: int = 4
           ) -> Experiment[BorderResult]:
    """Every digit stretched to the edges of its 28x28 box, classified again."""
    from fooldigits.lessons.drawings import border_images

    yield Step(f"stretching {len(x):,} digits to the edges")
    stretched = border_images(x)  # (n, 784)
    report: dict[str, dict[str, float]] = {}
    rows = []
    for key, name, images in (("original", "as in MNIST (20 px box, centred)", x),
                              ("border", "stretched to the edges", stretched)):
        accuracy, confidence = net.score(images, y)
        report[key] = {"accuracy": accuracy, "mean_confidence": confidence}
        rows.append((name, f"{100 * accuracy:.2f}%", f"{100 * confidence:.2f}%"))
    k = min(show, len(x))
    if k:
        pairs = np.stack([im for i in range(k) for im in (x[i], stretched[i])])
        predicted = net.predict(pairs)
        yield Images("each digit as in MNIST, then stretched to the edges", pairs,
                     [f"{'normal' if j % 2 == 0 else 'edge'}: says {class_name(p)}"
                      for j, p in enumerate(predicted)], columns=2 * min(k, 4))
    yield Table(f"{len(y):,} test digits", ["framing", "accuracy", "mean confidence"], rows)
    return BorderResult(len(y), report["original"], report["border"])


# -- scramble -----------------------------------------------------------------------------------
@dataclass
class ScrambleResult:
    n: int
    levels: list[dict[str, float]]


def scramble(net: Classifier, x: np.ndarray, y: np.ndarray, levels: Sequence[float],
             rng: np.random.Generator, examples: int = 4) -> Experiment[ScrambleResult]:
    """A share of the background replaced by noise, level by level: accuracy falls,
    confidence does not."""
    from fooldigits.lessons.drawings import scramble_background

    results: list[dict[str, float]] = []
    shown, captions = [], []
    for i, level in enumerate(levels):
        yield Step("scrambling backgrounds", i, len(levels))
        noisy = scramble_background(x, level, rng)  # (n, 784)
        accuracy, confidence = net.score(noisy, y)
        results.append({"level": level, "accuracy": accuracy, "mean_confidence": confidence})
        if net.classes > NOT_A_DIGIT:  # a model that can say "not a digit": how often
            results[-1]["rejected"] = float(np.mean(net.predict(noisy) == NOT_A_DIGIT))
        shown.append(noisy[:examples])
        captions += [f"{level:.0%}: says {class_name(d)}"
                     for d in net.predict(noisy[:examples])]
    if examples:
        yield Images("the same digits under more and more background noise",
                     np.concatenate(shown), captions, columns=examples)
    yield Table(f"background noise on {len(y):,} test digits",
                ["noise level", "accuracy", "mean confidence"],
                [(f"{r['level']:.0%}", f"{100 * r['accuracy']:.2f}%",
                  f"{100 * r['mean_confidence']:.2f}%") for r in results])
    worst = results[-1]
    if len(results) > 1 and worst["accuracy"] < results[0]["accuracy"] and "rejected" in worst:
        yield Say(f"At {worst['level']:.0%} noise the model is right {worst['accuracy']:.0%} "
                  f"of the time and calls {worst['rejected']:.0%} of the digits \"not a "
                  "digit\" (its confidence is in that answer). A person reads every one.")
    elif len(results) > 1 and worst["accuracy"] < results[0]["accuracy"]:
        yield Say(f"At {worst['level']:.0%} noise the network is right {worst['accuracy']:.0%} "
                  f"of the time, and still {worst['mean_confidence']:.0%} sure on average. "
                  "A person reads every one of these digits.")
    return ScrambleResult(len(y), results)
