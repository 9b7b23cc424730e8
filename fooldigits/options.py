"""Checks for command-line values (placeholder until the hardening lands)."""

from __future__ import annotations

import numpy as np


def make_rng(seed: int) -> np.random.Generator:
    """A generator for any integer seed: negative seeds map to their 128-bit two's complement."""
    return np.random.default_rng(int(seed) % (1 << 128))


def finite(value: float, name: str, low: float | None = None, high: float | None = None,
           open_low: bool = False, open_high: bool = False) -> float:
    """`value` if it is a finite number in range; else one sentence naming the option."""
    from fooldigits import FoolDigitsError

    if not np.isfinite(value):
        raise FoolDigitsError(f"{name} must be a finite number, got {value}")
    below = low is not None and (value <= low if open_low else value < low)
    above = high is not None and (value >= high if open_high else value > high)
    if below or above:
        if low is not None and high is not None:
            span = f"between {low:g} and {high:g}"
        elif low is not None:
            span = f"{'above' if open_low else 'at least'} {low:g}"
        else:
            span = f"{'below' if open_high else 'at most'} {high:g}"
        raise FoolDigitsError(f"{name} must be {span}, got {value}")
    return value
