"""Chapter 4 as experiments: dreaming digits, and the most confidence any image can get.

What this module teaches
------------------------
`dream` follows the input gradient from noise, weights frozen, until the network is sure
(`dream.py`): a grid of the dreamed digits with a sparkline of each one's confidence, a
table of the runs, and in words which digits were still climbing when the steps ran out
(and about how many more they would need) or stuck. `dreams` runs several settings one
after the other (the tutor: a large step, then a tiny one) and sets them side by side.
`ceiling` puts the best confidence dreaming finds beside the upper bound no image can pass
(`ceiling.py`). A threshold above that ceiling is refused before any step
(`ceiling.check_reachable`), so the CLI and the tutor cannot disagree.

    >>> report = yield from dream(net, [3], DreamConfig(steps=500), rng)
    >>> report.digits[0]["trend"]          # "reached", "still climbing" or "stuck"

What it leaves out: the maths (`dream.py`, `ceiling.py`), fooling by evolution
(`experiments/fooling.py`) and the drawing (`present.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np

from fooldigits.core.pieces import NO_JSON, Experiment, Images, Say, Step, Table
from fooldigits.lessons.dream import DreamConfig
from fooldigits.models.base import Classifier


class Dreamed(TypedDict):
    """One dreamed digit of a `DreamReport`."""

    digit: int
    confidence: float  # the network's, in that digit, at the end
    steps: int  # gradient steps taken
    converged: bool  # reached `threshold`
    trend: str  # "reached", "still climbing" or "stuck" (`dream.trend`)
    trace_every: int  # the trace keeps every trace_every-th step (at most ~50 points)
    trace: list[float]  # the confidence along the way


@dataclass
class DreamReport:
    digits: list[Dreamed]
    lr: float
    threshold: float
    prior: str
    images: np.ndarray = field(repr=False, metadata=NO_JSON)


def dream(net: Classifier, digits: Sequence[int], config: DreamConfig,
          rng: np.random.Generator, invert: bool = False) -> Experiment[DreamReport]:
    """Gradient steps on the pixels from noise, weights frozen, until the network is sure;
    a threshold above the confidence ceiling is refused first. `invert` draws the images
    dark on light."""
    from fooldigits.lessons.dream import sparkline

    report, trace = yield from _dream_run(net, digits, config, rng, invert)
    rows = report.digits
    yield Table(f"confidence per digit over {len(trace) - 1} steps (▁ 0% .. █ 100%)",
                ["digit", "confidence", "steps", "over the steps", "more steps needed"],
                [(str(x["digit"]), f"{100 * x['confidence']:.2f}%", x["steps"],
                  sparkline(trace[:, i], 16), _to_go(trace[:, i], config.threshold))
                 for i, x in enumerate(rows)])
    yield from _dream_verdict(report, trace, config)
    return report


def dreams(net: Classifier, digits: Sequence[int], configs: Sequence[DreamConfig],
           rng: np.random.Generator) -> Experiment[list[DreamReport]]:
    """`dream` with several settings, one after the other (the tutor: a large step, then a
    tiny one): each run's grid, then one table with every run's columns side by side, so
    that a digit's confidence and curve under each setting sit in one row."""
    from fooldigits.lessons.dream import sparkline

    runs = []
    for config in configs:
        runs.append((yield from _dream_run(net, digits, config, rng)))
    columns = ["digit"]
    for config in configs:
        columns += [f"lr {config.lr}", "steps"]
    columns.append("more steps needed")
    last_trace = runs[-1][1]
    table = []
    for i, d in enumerate(digits):
        row: list[object] = [str(d)]
        for report, trace in runs:
            x = report.digits[i]
            row += [f"{100 * x['confidence']:.2f}% {sparkline(trace[:, i], 8)}", x["steps"]]
        row.append(_to_go(last_trace[:, i], configs[-1].threshold))
        table.append(row)
    yield Table("confidence per digit, and over the steps (▁ 0% .. █ 100%); more steps: the "
                f"last run (lr {configs[-1].lr})",
                columns, table)
    for (report, trace), config in zip(runs, configs, strict=True):
        yield from _dream_verdict(report, trace, config, f"lr {config.lr}: ")
    return [report for report, _ in runs]


def _dream_run(net: Classifier, digits: Sequence[int], config: DreamConfig,
               rng: np.random.Generator, invert: bool = False
               ) -> Experiment[tuple[DreamReport, np.ndarray]]:
    """One dream run: the progress, the grid of images (a sparkline under each), and the
    report with the confidence trace (steps + 1, digits)."""
    from fooldigits.lessons.ceiling import check_reachable
    from fooldigits.lessons.dream import dream as dream_images
    from fooldigits.lessons.dream import sparkline, trend

    config.check()
    check_reachable(net, digits, config.threshold, "threshold")
    yield Step(f"dreaming {len(digits)} digit(s), up to {config.steps} steps each")
    r = dream_images(net, np.asarray(digits), config, rng)
    every = max(1, (len(r.trace) - 1) // 50)  # the trace in JSON: at most ~50 points
    rows: list[Dreamed] = [

        {"digit": int(d), "confidence": float(c), "steps": int(n), "converged": bool(v),
         "trend": trend(r.trace[:, i], config.threshold),
         "trace_every": every, "trace": [round(float(t), 5) for t in r.trace[::every, i]]}
        for i, (d, c, n, v) in enumerate(zip(r.digits, r.confidence, r.steps, r.converged,
                                             strict=True))]
    lines = [sparkline(r.trace[:, i], 8) for i in range(len(rows))]
    shown = 1 - r.images if invert else r.images
    yield Images(f"dreamed digits (lr {config.lr}, prior {config.prior})", shown,
                 [f"'{x['digit']}' {100 * x['confidence']:.1f}% {line}"
                  for x, line in zip(rows, lines, strict=True)])
    report = DreamReport(rows, config.lr, config.threshold, config.prior, r.images)
    return report, r.trace


def _dream_verdict(report: DreamReport, trace: np.ndarray, config: DreamConfig,
                   label: str = "") -> Experiment[None]:
    """What the numbers show, in words: which digits were still climbing when the steps ran
    out (and how many more they would need), which were stuck, or that all arrived."""
    from fooldigits.lessons.dream import steps_to_go

    rows = report.digits
    climbing = [x for x in rows if x["trend"] == "still climbing"]
    stuck = [str(x["digit"]) for x in rows if x["trend"] == "stuck"]
    if climbing:
        need = [steps_to_go(trace[:, rows.index(x)], config.threshold) for x in climbing]
        yield Say(f"{label}Not at {config.threshold} when the {config.steps} steps ran out, and "
                  f"still climbing: {', '.join(str(x['digit']) for x in climbing)}. At the pace "
                  "of their last quarter of steps (in log-odds) they would need about "
                  f"{min(need):,.0f} to {max(need):,.0f} more steps ('more steps needed').")
    if stuck:
        yield Say(f"{label}Stuck (no higher over the last quarter of the steps): "
                  f"{', '.join(stuck)}.", "bad")
    if all(x["converged"] for x in rows):
        yield Say(f"{label}every digit reached {config.threshold}", "good")


def _to_go(trace: np.ndarray, threshold: float) -> str:
    """The 'more steps needed' cell: "-" when there, else the estimate from the pace."""
    from fooldigits.lessons.dream import steps_to_go

    to_go = steps_to_go(trace, threshold)
    if to_go == 0:
        return "- (reached)"
    if to_go == float("inf"):
        return "never, at this pace"
    return f"about {to_go:,.0f}" if to_go < 1e6 else "over a million"



# -- the confidence ceiling ----------------------------------------------------------------
@dataclass
class CeilingResult:
    ceiling: list[float]
    found: list[float]
    above_99_99: list[bool]
    ceiling_gap: list[float]


def ceiling(net: Classifier, rng: np.random.Generator, steps: int = 3000
            ) -> Experiment[CeilingResult]:
    """The upper bound of each digit's confidence beside the best that dreaming finds in
    `steps` steps (for each of three step sizes)."""
    from fooldigits.lessons.ceiling import best_found, ceiling_gap, confidence_ceiling

    bound, gap = confidence_ceiling(net), ceiling_gap(net)
    yield Step(f"dreaming the most confident image per digit (3 step sizes, {steps:,} steps)")
    found = best_found(net, rng, steps)
    rows = [(f"'{d}'", f"1 - {g:.1e}" if g < 1e-4 else f"{b:.6f}", f"1 - {1 - f:.1e}"
             if 0 < 1 - f < 1e-4 else f"{f:.6f}", "yes" if b > 0.9999 else "NO")
            for d, (b, g, f) in enumerate(zip(bound, gap, found, strict=True))]
    yield Table("confidence ceiling per digit", ["digit", "ceiling (upper bound)",
                                                 "found by dreaming", "99.99% possible?"], rows)
    yield Say("The true maximum lies between what dreaming found and the ceiling. '1 - 1e-16' "
              "means no image can bring the network closer to certainty than that.")
    return CeilingResult([float(b) for b in bound], [float(f) for f in found],
                         [bool(b > 0.9999) for b in bound], [float(g) for g in gap])

