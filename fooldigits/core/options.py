"""Command-line numbers checked once, in one place: seeds, floats, whole numbers.

What this module teaches
------------------------
Every random thing in fooldigits takes a `numpy.random.Generator` made from `--seed`,
so a run can be repeated exactly. `make_rng` accepts *any* integer: NumPy's
`default_rng` refuses negative seeds, so a negative seed is mapped deterministically to
a stream of its own (`make_rng(-1)` is always the same, and differs from `make_rng(1)`).
A seed >= 0 gives exactly `numpy.random.default_rng(seed)`, so recorded commands such as
the shipped model's `--seed 1` still reproduce their files.

A float option can be `nan` or `inf` (Python's `float("nan")` parses), and NaN slips
through every comparison: `nan < 0` and `nan >= 0` are both False, so `if x < 0: refuse`
lets it in and a run silently stops or prints `NaN` into JSON. `finite` refuses it first,
then checks the range, with one sentence:

    finite(float("nan"), "--prior-weight", low=0)   # FoolDigitsError:
    # --prior-weight must be a finite number, got nan
    finite(1.5, "--momentum", low=0, high=1, high_open=True)
    # --momentum must be at least 0 and less than 1, got 1.5

`whole` does the same for counts (`--count 1000000000` is refused with the cap named).

What it leaves out: parsing (typer turns text into numbers before we see them).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from fooldigits import FoolDigitsError

if TYPE_CHECKING:
    import numpy as np

NEGATIVE_SEED = 0x5EED  # spawn key that separates the streams of negative seeds


def make_rng(seed: int, *keys: int) -> np.random.Generator:
    """A PCG64 generator for any integer `seed` (and optional non-negative `keys`).

    `make_rng(s)` with s >= 0 is `numpy.random.default_rng(s)`, and `make_rng(s, i, j)` is
    `default_rng([s, i, j])`, exactly as before. A negative seed uses |s| with a spawn key
    of its own, so -s and s give different, repeatable streams (distinct from every
    seed below 2**128).
    """
    import numpy as np

    seed = int(seed)
    if any(int(k) < 0 for k in keys):
        raise FoolDigitsError(f"random stream keys must be >= 0, got {list(keys)}")
    entropy: int | list[int] = [abs(seed), *keys] if keys else abs(seed)
    if seed >= 0:
        return np.random.default_rng(entropy)
    sequence = np.random.SeedSequence(entropy, spawn_key=(NEGATIVE_SEED,))
    return np.random.Generator(np.random.PCG64(sequence))


def _fmt(value: float) -> str:
    return f"{value:g}"


def finite(value: float, name: str, low: float | None = None, high: float | None = None,
           *, low_open: bool = False, high_open: bool = False) -> float:
    """`value` as a float if it is finite and within [low, high]; else one sentence.

    `low_open`/`high_open` exclude the bound itself: (0, 1] is `low=0, low_open=True,
    high=1`. `name` is the option as the user typed it, e.g. "--prior-weight".
    """
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise FoolDigitsError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise FoolDigitsError(f"{name} must be a finite number, got {_fmt(number)}")
    _in_range(number, name, low, high, low_open, high_open)
    return number


def whole(value: int | float, name: str, low: int | None = None, high: int | None = None) -> int:
    """`value` as an int if it is a whole number within [low, high]; else one sentence."""
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not value.is_integer()):
        raise FoolDigitsError(f"{name} must be a whole number, got {value!r}")
    number = int(value)
    _in_range(number, name, low, high, False, False)
    return number


def _in_range(number: float, name: str, low: float | None, high: float | None,
              low_open: bool, high_open: bool) -> None:
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        parts = []
        if low is not None:
            parts.append(f"{'greater than' if low_open else 'at least'} {low:,}")
        if high is not None:
            parts.append(f"{'less than' if high_open else 'at most'} {high:,}")
        shown = f"{number:,}" if isinstance(number, int) else _fmt(number)
        raise FoolDigitsError(f"{name} must be {' and '.join(parts)}, got {shown}")
