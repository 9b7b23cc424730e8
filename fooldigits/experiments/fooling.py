"""Chapters 4 and 5 as experiments: dreaming, fooling by evolution, ceilings and transfer.

What this module teaches
------------------------
`dream` follows the input gradient until the network is sure (`dream.py`); `fool` runs the
genetic algorithm (`evolve.py`), optionally under a natural-image prior (`stats.py`),
and shows samples, a table of runs, the mean fooling image beside the mean real digit,
and how natural the images are; `ceiling` sets the best confidence found beside the
upper bound no image can pass (`ceiling.py`); `transfer` asks whether images bred
against one network fool the others. Each yields pieces and progress and returns what
`--json` prints. The rules live here, so the CLI and the tutor cannot disagree: a
target above the confidence ceiling is refused (`ceiling.check_reachable`), a prior gets
`PRIOR_GENERATIONS` to shape its images (`stats.with_prior_rule`), `transfer` builds its list
of networks (`networks`). What a `FoolReport` shows is a few small functions (`samples`,
`runs_table`, `means`, `naturalness_table`), which `fool` and the tutor pick from.

    >>> report = yield from evolve_runs(net, [2], 1000, GAConfig(), rng)  # progress only
    >>> yield from samples(report, net, k=10)                             # then pictures
    >>> report.results[0]["reached"]      # 1000: every run passed 99.99%

Ctrl-C during `evolve_runs` keeps every finished run: with `out` they are saved, and
`Interrupted` says how many.

What it leaves out: the maths (the concept modules) and the drawing (`present.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from fooldigits import FoolDigitsError, Interrupted
from fooldigits.core.data import Dataset
from fooldigits.core.pieces import DIGITS, NO_JSON, Experiment, Images, Piece, Say, Step, Table
from fooldigits.lessons.dream import DreamConfig
from fooldigits.lessons.evolve import FoolResult, GAConfig, evolve
from fooldigits.lessons.settings import PRIOR_GENERATIONS as PRIOR_GENERATIONS
from fooldigits.lessons.stats import with_prior_rule
from fooldigits.models.base import Classifier


# -- dream --------------------------------------------------------------------------------------
@dataclass
class DreamReport:
    digits: list[dict[str, Any]]
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
    rows: list[dict[str, Any]] = [
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


# -- fool ---------------------------------------------------------------------------------------
@dataclass
class FoolReport:
    """Every run of `fool`: one `FoolResult` per digit, the prior, and how natural each
    digit's images are (when measured)."""

    runs: list[FoolResult] = field(repr=False, metadata=NO_JSON)
    prior: str = "none"
    naturalness: list[dict[str, float] | None] = field(default_factory=list)
    encoding: str = "direct"

    @property
    def results(self) -> list[dict[str, Any]]:
        """One row per digit, as `--json` prints it."""
        natural = self.naturalness or [None] * len(self.runs)
        return [_row(r, self.prior, n, self.encoding)
                for r, n in zip(self.runs, natural, strict=True)]

    def json(self) -> object:
        return self.results[0] if len(self.results) == 1 else {"results": self.results}


def _row(r: FoolResult, prior: str, natural: dict[str, float] | None,
         encoding: str = "direct") -> dict[str, Any]:
    from fooldigits.lessons.cppn import neighbour_correlation

    return {"digit": r.digit, "count": len(r.images), "target": r.target,
            "confidences": [float(c) for c in r.confidences],
            "generations": [int(g) for g in r.generations], "reached": int(r.reached.sum()),
            "generations_to_target": [int(g) for g in r.generations_to_target()],
            "seconds": round(r.seconds, 3), "prior": prior, "encoding": encoding,
            "neighbour_correlation": round(float(np.mean(neighbour_correlation(r.images))), 4)
            if len(r.images) else None,
            **({"naturalness": natural} if natural is not None else {})}


ENCODINGS = ("direct", "cppn")


def make_encoding(name: str) -> Any:
    """The encoding called `name` for `evolve`: None for the direct one (evolve's default,
    which draws its genes from the prior), a `cppn.CPPN` for "cppn"."""
    if name == "direct":
        return None
    if name == "cppn":
        from fooldigits.lessons.cppn import CPPN

        return CPPN()
    raise FoolDigitsError(f"encoding must be one of {', '.join(ENCODINGS)}, got {name!r}")


def save_runs(runs: Sequence[FoolResult], path: Path) -> int:
    """Every run's image, digit, confidence and generations into one .npz: the count."""
    from fooldigits.core.files import atomic_write

    arrays: dict[str, Any] = {
        "images": np.concatenate([r.images for r in runs]).reshape(-1, 28, 28),
        "digit": np.concatenate([np.full(len(r.images), r.digit) for r in runs]),
        "confidences": np.concatenate([r.confidences for r in runs]),
        "generations": np.concatenate([r.generations for r in runs])}
    atomic_write(path, lambda f: np.savez(f, **arrays))
    return len(arrays["images"])


def evolve_runs(net: Classifier, digits: Sequence[int], count: int, config: GAConfig,
                rng: np.random.Generator, prior: str = "none", data_dir: Path | None = None,
                lags: int = 4, bins: int = 16, out: Path | None = None,
                encoding: str = "direct") -> Experiment[FoolReport]:
    """Evolve `count` fooling images per digit (progress only); save them to `out`.
    `encoding`: "direct" (a gene per pixel) or "cppn" (`cppn.py`).

    Refuses a target above the confidence ceiling first (`ceiling.check_reachable`).
    Ctrl-C keeps every finished run: with `out` they are saved, and `Interrupted` says
    how many."""
    from fooldigits.lessons import stats
    from fooldigits.lessons.ceiling import check_reachable

    config.check()
    make_encoding(encoding)  # refuse a bad name before any work
    check_reachable(net, digits, config.target)
    runs: list[FoolResult] = []
    for d in digits:
        try:
            runs.append((yield from evolve(
                net, d, count, config, rng, make_encoding(encoding),
                prior=stats.make_prior(prior, d, data_dir, lags, bins))))
        except KeyboardInterrupt as stop:
            _interrupted(stop, runs, out)
    if out is not None:
        n = save_runs(runs, out)
        yield Say(f"saved {n} images to {out}", "note")
    return FoolReport(runs, prior, encoding=encoding)


def fool(net: Classifier, digits: Sequence[int], count: int, config: GAConfig,
         rng: np.random.Generator, prior: str = "none", data_dir: Path | None = None,
         lags: int = 4, bins: int = 16, mean: bool = False, out: Path | None = None,
         min_generations: int | None = None, encoding: str = "direct"
         ) -> Experiment[FoolReport]:
    """`fooldigits fool`: evolve (`evolve_runs`, with `with_prior_rule`), then show
    samples, the runs, how smooth the images are (an indirect encoding), with `mean` the
    mean images, and how natural the images are under a prior."""
    from fooldigits.lessons import stats

    config = with_prior_rule(config, prior, min_generations)
    report = yield from evolve_runs(net, digits, count, config, rng, prior, data_dir, lags,
                                    bins, out, encoding)
    report.naturalness = [stats.naturalness(r.images, r.digit, data_dir) for r in report.runs]
    yield from samples(report, net)
    yield from runs_table(report)
    if encoding != "direct":
        yield from smoothness(report)
    if mean:
        yield from means(report, data_dir)
    if prior != "none":
        yield from naturalness_table(report)
    return report


# -- what a FoolReport shows: small functions from the result to pieces ----------------------
def samples(report: FoolReport, net: Classifier, k: int = 20,
            title: str = "images the network is sure about") -> Iterator[Piece]:
    """About `k` of the images, evenly spread over the runs, with the model's confidence."""
    images = np.concatenate([r.images for r in report.runs])  # (n, 784)
    labels = np.concatenate([np.full(len(r.images), r.digit) for r in report.runs])
    step = max(1, len(images) // k)
    shown, shown_labels = images[::step][:k], labels[::step][:k]
    confidence = net.probabilities(shown)[np.arange(len(shown)), shown_labels]
    yield Images(title, shown, [f"'{d}' {100 * c:.3f}%" for d, c in
                                zip(shown_labels, confidence, strict=True)])


def runs_table(report: FoolReport) -> Iterator[Piece]:
    """How each digit's runs went: reached, generations, time."""
    target = report.runs[0].target if report.runs else 0.0
    yield Table(f"fooling runs (target {target})",
                ["digit", "runs", "reached", "median gen. to target", "max gen.", "time"],
                [(f"'{r.digit}'", len(r.images), f"{int(r.reached.sum())}/{len(r.images)}",
                  _median_generations(r), int(r.generations.max()), f"{r.seconds:.2f} s")
                 for r in report.runs])


def _median_generations(run: FoolResult) -> int | str:
    """The median generations to first reach the target (a prior's runs go on after it
    for `min_generations`: that minimum is not what it took)."""
    needed = run.generations_to_target()
    return int(np.median(needed)) if len(needed) else "-"


def smoothness(report: FoolReport) -> Iterator[Piece]:
    """How smooth the images are: each pixel against its right and lower neighbours."""
    from fooldigits.lessons.cppn import neighbour_correlation

    images = np.concatenate([r.images for r in report.runs])  # (n, 784)
    corr = float(np.mean(neighbour_correlation(images)))
    yield Say(f"neighbour correlation of the images: {corr:.2f} (a pixel against its "
              "right and lower neighbours: about 0 for noise, near 1 for smooth patterns)",
              "note")


def means(report: FoolReport, data_dir: Path | None = None) -> Iterator[Piece]:
    """The mean fooling image of each digit beside the mean real digit."""
    from fooldigits.core.data import load_mnist

    data = load_mnist(data_dir)
    pictures = [m for r in report.runs for m in (
        r.images.mean(axis=0), data.train_images[data.train_labels == r.digit].mean(axis=0))]
    yield Images("what the network wants vs what people write", np.stack(pictures),
                 [c for r in report.runs for c in (f"mean of {len(r.images)} fooling "
                                                   f"'{r.digit}'", f"mean real '{r.digit}'")],
                 columns=2)


def naturalness_table(report: FoolReport) -> Iterator[Piece]:
    """How natural each digit's images are, when measured."""
    yield Table("naturalness (lower distance, higher correlation = more natural)",
                ["digit", "statistics distance", "mean-image correlation"],
                [(f"'{r.digit}'", n["distance"], n["correlation"])
                 for r, n in zip(report.runs, report.naturalness, strict=True) if n is not None])


def _interrupted(stop: KeyboardInterrupt, runs: list[FoolResult], out: Path | None) -> None:
    """Ctrl-C: gather the finished runs (from `evolve`'s `Interrupted`), save, re-raise."""
    partial = getattr(stop, "partial", None)
    kept = [*runs, *([partial] if isinstance(partial, FoolResult) and len(partial.images)
                     else [])]
    total = sum(len(r.images) for r in kept)
    if out is not None and total:
        from fooldigits.core.files import beside, describe_saved

        saved = beside(out)  # an existing file holds a whole run: never replace it
        save_runs(kept, saved)
        raise Interrupted(f"saved the {total} finished fooling images to "
                          f"{describe_saved(saved, out)}") from None
    raise Interrupted(f"{total} fooling images had finished" + (
        f"; nothing was saved and {out} was left as it was" if out is not None else "")
    ) from None


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


# -- transfer -------------------------------------------------------------------------------
@dataclass
class TransferResult:
    networks: list[str]
    mean_confidence: list[list[float]]
    share_sure: list[list[float]]
    count_per_digit: int
    target: float
    reached: list[int]


# The shipped models every transfer compares: three kinds of model side by side.
SHIPPED_MODELS = (("dense", "default.npz"), ("linear", "linear.npz"), ("robust", "robust.npz"),
                  ("conv", "conv.npz"))  # the 10-class shipped models (generative has 11)
FRESH = (([784, 30, 10], 2), ([784, 100, 10], 3), ([784, 100, 100, 10], 4))  # (sizes, seed)


def networks(models: Sequence[Path] | None = None, data: Dataset | None = None,
             epochs: int = 3, seed: int = 0) -> Experiment[list[tuple[str, Classifier]]]:
    """The networks `transfer` (and `adversarial --transfer`) compare, each named: the
    `models` files, or else the shipped dense, linear, adversarially trained and conv models and
    three dense networks trained now for `epochs` (784-30-10, 784-100-10 with another
    seed, 784-100-100-10), on `data` (the bundled MNIST if None)."""
    from fooldigits.core.data import load_mnist
    from fooldigits.lessons.training import SHIPPED_RECIPE, EpochDone, sgd
    from fooldigits.models import SHIPPED, load_model
    from fooldigits.models.base import require_classes
    from fooldigits.models.network import Network

    if epochs < 1:
        raise FoolDigitsError(f"epochs must be at least 1, got {epochs}")
    if models:
        nets = [(Path(path).name, load_model(Path(path))) for path in models]
    else:
        nets = [(name, load_model(SHIPPED / file)) for name, file in SHIPPED_MODELS]
        data = data if data is not None else load_mnist()
        for i, (sizes, s) in enumerate(FRESH):
            net_rng = np.random.default_rng(seed + s)
            fresh = Network(sizes, rng=net_rng)
            name = f"{'-'.join(map(str, sizes[1:-1]))} new"  # its hidden layers
            for event in sgd(fresh, data.train_images, data.train_labels,
                             replace(SHIPPED_RECIPE, epochs=epochs), net_rng):
                if isinstance(event, EpochDone):
                    yield Step(f"training {name}", i * epochs + event.epoch,
                               len(FRESH) * epochs)
            nets.append((name, fresh))
        yield Say("dense: the shipped 784-100-10 network; linear: softmax regression, no "
                  "hidden layer; robust: the dense network trained on FGSM-attacked digits; conv: "
                  "the shipped convolutional network (models/conv.py); "
                  + ", ".join(f"{'-'.join(map(str, sizes[1:-1]))} new" for sizes, _ in FRESH)
                  + f": dense networks with these hidden layers, trained now for {epochs} "
                  "epochs", "note")
    for _, net in nets:  # an 11-class model's "not a digit" simply counts as not fooled
        if net.classes != DIGITS + 1:
            require_classes(net, DIGITS, "comparing models")
    return nets


def transfer(count: int, target: float, rng: np.random.Generator,
             models: Sequence[Path] | None = None, data: Dataset | None = None,
             epochs: int = 3, seed: int = 0,
             nets: Sequence[tuple[str, Classifier]] | None = None
             ) -> Experiment[TransferResult]:
    """Fooling images evolved against each network (rows), shown to every network: the
    `networks(models, data, epochs, seed)`, or `nets` when a caller has them already."""
    from fooldigits.lessons.evolve import transfer_matrix

    if not 1 <= count <= 10_000:
        raise FoolDigitsError(f"count must be between 1 and 10,000, got {count}")
    if not 0 < target < 1:
        raise FoolDigitsError(f"target must be between 0 and 1, got {target}")
    if nets is None:
        nets = yield from networks(models, data, epochs, seed)
    config = GAConfig(target=target)
    images, digits, reached = [], [], []
    for _, net in nets:
        report = yield from evolve_runs(net, range(10), count, config, rng)
        images.append(np.concatenate([r.images for r in report.runs]))
        digits.append(np.repeat(np.arange(10), count))
        reached.append(sum(row["reached"] for row in report.results))
    names = [name for name, _ in nets]
    mean_conf, share = transfer_matrix([net for _, net in nets], images, digits)
    yield Table("mean confidence / share >= 99% under each network (columns)",
                ["images evolved against", *names],
                [(f"fooled {names[i]}", *(f"{100 * mean_conf[i, j]:.1f}% / "
                                          f"{100 * share[i, j]:.0f}%" for j in range(len(nets))))
                 for i in range(len(nets))])
    yield Say("The diagonal is the network each image was bred for; off the diagonal is "
              "transfer. Runs that reached the target: " + ", ".join(
                  f"{name} {n}/{10 * count}" for name, n in zip(names, reached, strict=True))
              + " (a run that misses it keeps its best image).")
    return TransferResult(names, mean_conf.tolist(), share.tolist(), count, target, reached)
