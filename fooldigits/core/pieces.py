"""What an experiment shows: the pieces it yields, the progress it reports, its result as JSON.

What this module teaches
------------------------
Every chapter of the story is an *experiment*: a generator function in
`fooldigits/experiments/` that computes with the concept modules (`network`, `pca`,
`evolve`, ...) and **yields** what there is to show, then **returns** a plain result::

    def scramble(net, x, y, levels, rng) -> Experiment[ScrambleResult]:
        rows = []
        for level in levels:
            yield Step(f"noise {level:.0%}", len(rows), len(levels))   # progress
            rows.append(...)
        yield Table("background noise", ["noise", "accuracy", ...], rows)
        return ScrambleResult(n=len(y), levels=rows)

It never prints. One presenter (`present.py`) turns the stream into the terminal,
a PNG (`--png`), a web page (`--html`) and the result into JSON (`--json`):

    experiment --yields--> Say / Images / Table / Bars / Reading     (pieces: shown)
               --yields--> Step / BatchDone / Generation           (progress: live)
               --returns-> a dataclass                              (--json prints it)

The pieces are plain data, so a test can read what a chapter said without a terminal,
and the tutor can string several experiments together with its own sentences.

`to_json(result)` is the one JSON writer: dataclasses become objects (fields marked
`field(metadata=NO_JSON)` are left out, e.g. images), NumPy scalars and arrays become
numbers and lists, and NaN or infinity is refused because JSON has no such numbers. A
result may define `json()` to choose its own shape.

What it leaves out: any drawing. `render.py` draws pieces on a terminal, `export.py`
as PNG and HTML.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias, TypeVar

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.reading import printable

R = TypeVar("R")
NO_JSON = {"json": False}  # field(metadata=NO_JSON): not part of --json
DIGITS = 10
NOT_A_DIGIT = 10  # the extra class of an 11-class model (see lessons/retrain.py)


def class_name(i: int) -> str:
    """What class `i` means: "0".."9" for the digits, "not a digit" for class 10."""
    return "not a digit" if i == NOT_A_DIGIT else str(i)


# -- pieces: what is shown ------------------------------------------------------------------
def _inert(piece: object, *names: str) -> None:
    """Every text of a piece through `reading.printable`: a file name in a caption or a
    sentence can hold escape codes, and pieces are what the terminal and the files show."""
    for name in names:
        value = getattr(piece, name)
        if isinstance(value, str):
            value = printable(value, None)
        elif name == "rows":
            value = [[printable(c, None) if isinstance(c, str) else c for c in row]
                     for row in value]
        else:
            value = [printable(v, None) for v in value]
        object.__setattr__(piece, name, value)


@dataclass(frozen=True)
class Say:
    """A sentence or paragraph; `tone` is "" (plain), "note" (dim), "good" or "bad"."""

    text: str
    tone: str = ""

    def __post_init__(self) -> None:
        _inert(self, "text")


@dataclass(frozen=True)
class Images:
    """A titled grid of digits (n, 784) with a caption under each; `signed` for [-1, 1]."""

    title: str
    images: np.ndarray = field(repr=False)  # (n, 784)
    captions: Sequence[str]
    signed: bool = False
    columns: int = 10  # per row in a PNG or web page
    packed: bool = False  # a small terminal draws them at quarter size, `columns` to a row

    def __post_init__(self) -> None:
        _inert(self, "title", "captions")


@dataclass(frozen=True)
class Table:
    """A titled table; `diagonal` colours a square table's diagonal (confusion matrices)."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[object]]
    diagonal: bool = False

    def __post_init__(self) -> None:
        _inert(self, "title", "columns", "rows")


@dataclass(frozen=True)
class Bars:
    """Labelled non-negative numbers drawn as horizontal bars, scaled to the largest."""

    title: str
    labels: Sequence[str]
    values: Sequence[float]
    fmt: str = "{:.3f}"

    def __post_init__(self) -> None:
        _inert(self, "title", "labels")


@dataclass(frozen=True)
class Reading:
    """What the network reads in one image: the image beside its ten (or more) bars."""

    title: str
    image: np.ndarray = field(repr=False)  # (784,)
    probabilities: np.ndarray = field(repr=False)  # (classes,)

    def __post_init__(self) -> None:
        _inert(self, "title")


Piece = Say | Images | Table | Bars | Reading
PIECES = (Say, Images, Table, Bars, Reading)


# -- progress: what is happening now ------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """Progress of a long step: `done` of `total` (a bar), or total None (a spinner)."""

    label: str
    done: int = 0
    total: int | None = None

    def __post_init__(self) -> None:
        _inert(self, "label")


@dataclass(frozen=True)
class BatchDone:
    """Training progress inside an epoch: `batch` of `batches` mini-batches done."""

    epoch: int
    batch: int
    batches: int


@dataclass(frozen=True)
class Generation:
    """The genetic algorithm's progress: the newest generation of the run shown, and runs
    finished so far (drawn live with its best image)."""

    digit: int
    generation: int
    best_confidence: float
    median_confidence: float
    best_image: np.ndarray = field(repr=False)  # (784,)
    finished: int
    count: int


Progress = Step | BatchDone | Generation
PROGRESS = (Step, BatchDone, Generation)
Experiment = Generator[Piece | Progress, None, R]  # yields pieces and progress, returns R


# -- results as JSON ------------------------------------------------------------------------
JSON: TypeAlias = "str | int | float | bool | list[JSON] | dict[str, JSON] | None"  # a JSON value


def jsonable(value: object) -> JSON:
    """`value` as plain JSON types: dataclasses, dicts, lists, NumPy, paths. Anything
    else (a set, a function) is refused with a sentence, as NaN is."""
    own = getattr(value, "json", None)
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and callable(own):
        return jsonable(own())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.metadata.get("json", True)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise FoolDigitsError(f"the result holds {value}, which JSON cannot represent")
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return value
    raise FoolDigitsError(f"the result holds a {type(value).__name__}, which JSON cannot "
                          "represent")


def to_json(result: object) -> str:
    """The result as indented JSON text; NaN and infinity are refused with a sentence."""
    try:
        return json.dumps(jsonable(result), indent=2, allow_nan=False)
    except ValueError as err:
        raise FoolDigitsError(f"the result cannot be written as JSON: {err}") from None

