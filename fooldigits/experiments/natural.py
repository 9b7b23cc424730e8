"""Chapter 7 as experiments: the statistics of real digits, and priors that respect them.

What this module teaches
------------------------
`stats` draws what `stats.py` measures on real digits: the pixel histogram and the
variograms g_x, g_y of neighbour differences (uniform noise would give 1/3 at every
lag). `compare` evolves fooling images under each prior (none, statistics, location-aware)
and sets them beside real digits: how many reach the target, and how natural they are.

    >>> result = yield from compare(net, 2, 100, rng)
    >>> [m["naturalness"]["correlation"] for m in result.methods]  # plain GA ~0.15, local ~0.9

What it leaves out: the maths (`stats.py`, `evolve.py`) and the drawing (`present.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import numpy as np

from fooldigits.core.pieces import Bars, Experiment, Images, Say, Table
from fooldigits.lessons.settings import PRIOR_GENERATIONS
from fooldigits.models.base import Classifier


@dataclass
class StatsResult:
    digit: int | None
    bin_edges: list[float]
    histogram: list[float]
    g_x: list[float]
    g_y: list[float]
    images: int


def stats(digit: int | None, lags: int, bins: int, data_dir: Path | None = None
          ) -> Experiment[StatsResult]:
    """Pixel histogram and variograms of real digits (one digit, or all)."""
    from fooldigits.lessons import stats as st

    real = st.real_digits(digit, data_dir)  # (n, 784)
    ref = st.reference(real, lags, bins)
    labels = ["exactly 0"] + [f"{a:.3f}-{b:.3f}" for a, b in zip(ref.edges[:-1], ref.edges[1:],
                                                                   strict=True)]
    which = "digits of every kind" if digit is None else f"real '{digit}'s"
    yield Bars(f"pixel histogram of {len(real):,} {which}", labels,
               [float(v) for v in ref.probabilities], "{:.2%}")
    lag_names = [f"lag {i}" for i in range(1, lags + 1)]
    yield Bars("g_x: mean |difference| along rows, by lag", lag_names,
               [float(v) for v in ref.g_x])
    yield Bars("g_y: mean |difference| along columns, by lag", lag_names,
               [float(v) for v in ref.g_y])
    yield Say("For uniform noise every lag would be 0.333: real digits are smooth nearby.")
    return StatsResult(digit, ref.edges.tolist(), ref.probabilities.tolist(), ref.g_x.tolist(),
                       ref.g_y.tolist(), len(real))


class MethodRow(TypedDict):
    """One method of `compare` (`stats.PriorRun` without its mean image)."""

    method: str  # "none", "stats", "local" or "real"
    reached: float  # share of images at the target confidence
    median_generations: float | None  # None for real digits, or where none reached it
    seconds: float
    naturalness: dict[str, float]  # "distance" and "correlation" (`stats.naturalness`)


@dataclass
class CompareResult:
    digit: int
    count: int
    target: float
    methods: list[MethodRow]


METHODS = {"none": "plain GA", "stats": "statistics prior", "local": "location-aware prior",
           "real": "real digits"}


def compare(net: Classifier, digit: int, count: int, rng: np.random.Generator,
            target: float = 0.9999, min_generations: int = PRIOR_GENERATIONS,
            data_dir: Path | None = None, brief: bool = False) -> Experiment[CompareResult]:
    """Plain GA, statistics prior, location-aware prior and real digits, side by side; a
    target above the confidence ceiling is refused first."""
    from fooldigits.lessons.ceiling import check_reachable
    from fooldigits.lessons.stats import compare_priors

    check_reachable(net, [digit], target)
    runs = yield from compare_priors(net, digit, count, rng, target, min_generations, data_dir)
    names = [METHODS.get(r.method, r.method) for r in runs]
    yield Images(f"mean of {count} images under each method (the last: real '{digit}'s)",
                 np.stack([r.mean_image for r in runs]), [f"mean: {n}" for n in names])
    if brief:
        yield Table("naturalness", ["images", f"at {100 * target:g}%", "stats distance",
                                    "mean correlation"],
                    [(n, f"{100 * r.reached:.0f}%", r.naturalness["distance"],
                      r.naturalness["correlation"]) for n, r in zip(names, runs, strict=True)])
    else:
        yield Table(f"fooling '{digit}' at {target}: {count} images per method",
                    ["method", "reached", "median gen. to target", "time", "stats distance",
                     "mean correlation"],
                    [(r.method, f"{100 * r.reached:.0f}%",
                      "-" if r.method == "real" or r.median_generations is None
                      else int(r.median_generations),
                      "-" if r.method == "real" else f"{r.seconds:.1f} s",
                      r.naturalness["distance"], r.naturalness["correlation"])
                     for r in runs])  # real digits are not evolved: no generations, no time
    yield Say("stats distance: how far each image's neighbour statistics (the mean absolute "
              "difference of pixels 1 to 4 apart, across and down) are from the average of "
              f"real '{digit}'s; 0 would be the average itself. Real digits are not at 0, as "
              "each differs from the average, so a prior aimed at the average can come "
              "closer than they do. mean correlation: how much the mean image of the set "
              f"looks like the mean real '{digit}' (1: the same).", "note")
    fakes, real = min(r.reached for r in runs[:3]), runs[3].reached
    share = "Every fake" if fakes == 1 else f"At least {100 * fakes:.0f}% of each kind of fake"
    yield Say(f"{share} reaches {100 * target:g}%; of the real {digit}s, {100 * real:.0f}% do. "
              "The location-aware prior's mean looks like the digit, and each of its images "
              "still fools the network.")
    return CompareResult(digit, count, target, [
        MethodRow(method=r.method, reached=r.reached, median_generations=r.median_generations,
                  seconds=round(r.seconds, 3), naturalness=r.naturalness) for r in runs])
