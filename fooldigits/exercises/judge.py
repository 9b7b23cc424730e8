"""Judging one answer: compare it with the reference and say what is wrong in one sentence.

What this module teaches
------------------------
How to compare numbers a student's function returned with a trusted reference, and how
to describe the difference so it helps: the expected values (the reference's) first,
then what came back, the largest difference and where it is. It also unpacks what came
back from the child (`answers.Returned`) into arrays and pairs, and turns a wrong kind
of answer (None, a str, a tuple of the wrong length, an object array) into a sentence.

Two mistakes are caught here for every exercise, before its own judge looks at the
numbers (`common`): a function that changed one of its array inputs in place (the
caller, a GA or an attack loop, still needs the original), and a function given a
`rng` that drew from NumPy's or Python's global generator instead (so `--seed` no
longer repeats a run). The child sends back what each call left of its inputs and
whether the global generators moved; the parent compares.

`named` is the usual case with a mistake-namer, and `switches` the namer of a step whose
mistakes are a few switches (the direction, the sign, the clip): it makes each
combination of wrong switches as a variant of the reference and names the one that
matches.

What it leaves out: the exercises themselves (`checks`, `checks_steps`, `checks_fooling`)
and running anything (`sandbox`).

Worked example:
    compare(np.array([0.5, 0.88]), np.array([0.5, 0.5]))
    # 'expected [0.5 , 0.88], got [0.5, 0.5] (largest difference 0.38 at index (1,))'
"""

from __future__ import annotations

import ast
import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from fooldigits.exercises import reference
from fooldigits.exercises.answers import (
    Arg,
    Call,
    Other,
    Outcome,
    Returned,
    Seed,
    Seq,
    article,
)

STUBS = Path(__file__).parent / "stubs"

Verdict = str | None  # None: the check passed; otherwise why it failed


@dataclass(frozen=True)
class Case:
    """One check: the calls it needs and the judge of their outcomes."""
    name: str
    calls: list[Call]
    judge: Callable[[list[Outcome]], Verdict]


def describe(value: np.ndarray) -> str:
    """A few numbers of an array on one line."""
    if value.size <= 6:
        return " ".join(np.array2string(value, precision=4, separator=", ").split())
    first = np.array2string(value.ravel()[:4], precision=4, separator=", ")
    return f"an array of shape {value.shape} starting {' '.join(first.split())}"


def compare(expected: ArrayLike, got: np.ndarray, atol: float = 1e-6) -> Verdict:
    """None if `got` equals the reference `expected` (to atol), else what differs."""
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return f"expected shape {expected.shape}, got shape {got.shape}"
    if not np.all(np.isfinite(got)):
        return f"got NaN or infinity: {describe(got)}"
    difference = np.abs(got - expected)
    if np.all(difference <= atol + 1e-5 * np.abs(expected)):
        return None
    where = np.unravel_index(int(np.argmax(difference)), difference.shape)
    return (f"expected {describe(expected)}, got {describe(got)} (largest difference "
            f"{difference[where]:.3g} at index {tuple(map(int, where))})")


def close(expected: ArrayLike, got: np.ndarray, atol: float = 1e-6) -> bool:
    return compare(expected, got, atol) is None


def kind(value: Returned) -> str:
    if isinstance(value, Seq):
        n = len(value.items)
        return f"a {value.kind} of {n} item{'s' * (n != 1)}"
    if isinstance(value, Other):
        return article(value.kind)
    return f"an array of shape {value.shape}"


def _numbers(value: Returned) -> np.ndarray | None:
    """Nested lists of plain numbers as an array, the way np.asarray reads them."""
    if isinstance(value, np.ndarray):
        return value if value.ndim == 0 else None
    if isinstance(value, Seq) and value.items:
        rows = [row for v in value.items if (row := _numbers(v)) is not None]
        if len(rows) == len(value.items) and all(r.shape == rows[0].shape for r in rows):
            return np.stack(rows)
    return None


def as_array(value: Returned) -> np.ndarray | None:
    """The returned value as a float64 array: an array, or (nested) lists of numbers."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    numbers = _numbers(value)
    return None if numbers is None else numbers.astype(np.float64)


def array(outcome: Outcome) -> np.ndarray | str:
    """The array a call returned, or the sentence saying why there is none."""
    if outcome.value is None:
        return outcome.problem
    got = as_array(outcome.value)
    if got is not None:
        return got
    hint = " (did you forget `return`?)" if outcome.value == Other("NoneType") else ""
    return (f"{outcome.function} returned {kind(outcome.value)}; expected a NumPy array of "
            f"numbers{hint}")


def parts(outcome: Outcome, names: tuple[str, ...]) -> list[Returned] | str:
    """The items of a returned tuple such as (g_x, g_y), or why it is not one."""
    value = outcome.value
    if value is None:
        return outcome.problem
    if isinstance(value, Seq) and len(value.items) == len(names):
        return list(value.items)
    if isinstance(value, np.ndarray) and value.ndim > 1 and len(value) == len(names):
        return list(value)
    hint = " (did you forget `return`?)" if value == Other("NoneType") else ""
    return (f"{outcome.function} returned {kind(value)}; expected a tuple "
            f"({', '.join(names)}){hint}")


def same(name: str, args: tuple[Arg, ...], label: str, atol: float = 1e-6) -> Case:
    """The usual check: the student's `name(*args)` equals the reference's."""
    want = getattr(reference, name)(*args)

    def judge(outcomes: list[Outcome]) -> Verdict:
        got = array(outcomes[0])
        return got if isinstance(got, str) else compare(want, got, atol)

    return Case(label, [Call(name, args, label)], judge)


def labels(expected: np.ndarray, got: np.ndarray) -> Verdict:
    """None if two arrays of class labels agree, else how many differ and the first."""
    if got.shape != expected.shape:
        return f"expected shape {expected.shape} (one label per image), got shape {got.shape}"
    wrong = np.flatnonzero(got != expected)
    if not len(wrong):
        return None
    i = int(wrong[0])
    return (f"{len(wrong)} of {len(expected)} labels differ; the first is image {i}: "
            f"expected {expected[i]:g}, got {got[i]:g}")


@functools.cache
def parameters() -> dict[str, list[str]]:
    """Every stub function's parameter names, read from the stubs themselves."""
    found = {}
    for path in sorted(STUBS.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = [a.arg for a in node.args.args]
    return found


def common(call: Call, outcome: Outcome) -> Verdict:
    """The two mistakes named for every exercise: an input changed in place, and a
    function given a generator that drew from the global ones instead."""
    names = parameters().get(call.function, [])
    if outcome.changed_args:
        i = outcome.changed_args[0]
        name = names[i] if i < len(names) else f"argument {i + 1}"
        return (f"{call.function} changed its input `{name}` in place (`{name} += ...`, "
                f"`{name}[...] = ...` or `out={name}`): the caller still needs the original,"
                f" so compute a new array ({name} + ..., or start from {name}.copy())")
    if outcome.global_random and any(isinstance(a, Seed) for a in call.args):
        name = next((names[i] for i, a in enumerate(call.args)
                     if isinstance(a, Seed) and i < len(names)), "rng")
        return (f"{call.function} drew random numbers from NumPy's global np.random (or "
                f"Python's random module), not from the generator `{name}` it was given: "
                f"use {name}.random(...) and {name}.integers(...), so that --seed repeats "
                "a run")
    return None


Switch = tuple[str, Sequence[object]]  # a name and its values, the right one first


def switches(got: np.ndarray, make: Callable[..., np.ndarray], options: list[Switch],
             sentences: dict[str, Callable[[object], str]]) -> Verdict:
    """Name every wrong switch of the first variant of `make` that equals `got`.

    A step's usual mistakes are a few switches (the direction, the sign, the clip, ...):
    each combination of values is made as a variant of the reference, the right values
    (each switch's first) skipped, and the sentences of the wrong ones joined.
    """
    right = tuple(values[0] for _, values in options)
    for combination in itertools.product(*(values for _, values in options)):
        if combination != right and close(make(*combination), got):
            return "; ".join(sentences[name](value) for (name, _), value, good
                             in zip(options, combination, right, strict=True)
                             if value != good)
    return None


def named(label: str, name: str, args: tuple[Arg, ...], want: np.ndarray,
          mistakes: Callable[[np.ndarray], Verdict]) -> Case:
    """Like `same`, but a wrong answer of the right shape is offered to `mistakes`,
    which names it (or returns None for the plain difference)."""
    def judge(outcomes: list[Outcome]) -> Verdict:
        got = array(outcomes[0])
        if isinstance(got, str):
            return got
        problem = compare(want, got)
        if problem and got.shape == want.shape:
            return mistakes(got) or problem
        return problem

    return Case(label, [Call(name, args, label)], judge)
