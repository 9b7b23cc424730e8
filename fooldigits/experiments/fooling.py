"""Chapter 5 as an experiment: fooling the network by evolution.

What this module teaches
------------------------
`fool` runs the genetic algorithm (`evolve.py`) in an encoding (a gene per pixel, or a
`cppn.CPPN`), optionally under a natural-image prior (`stats.py`), and shows samples, a
table of runs, how smooth the images are, the mean fooling image beside the mean real
digit, and how natural the images are. It yields pieces and progress and returns what
`--json` prints. The rules live here, so the CLI and the tutor cannot disagree: a target
above the confidence ceiling is refused (`ceiling.check_reachable`), a prior gets
`PRIOR_GENERATIONS` to shape its images (`stats.with_prior_rule`). What a `FoolReport`
shows is a few small functions (`samples`, `runs_table`, `means`, `naturalness_table`),
which `fool` and the tutor pick from.

    >>> report = yield from evolve_runs(net, [2], 1000, GAConfig(), rng)  # progress only
    >>> yield from samples(report, net, k=10)                             # then pictures
    >>> report.results[0]["reached"]      # 1000: every run passed 99.99%

Ctrl-C during `evolve_runs` keeps every finished run: with `out` they are saved, and
`Interrupted` says how many.

What it leaves out: the maths (the concept modules), dreaming and the ceiling
(`experiments/dreaming.py`), whether the images fool other networks
(`experiments/transfer.py`) and the drawing (`present.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

import numpy as np

from fooldigits import FoolDigitsError, Interrupted
from fooldigits.core.pieces import NO_JSON, Experiment, Images, Piece, Say, Table
from fooldigits.lessons.evolve import FoolResult, GAConfig, evolve
from fooldigits.lessons.settings import PRIOR_GENERATIONS as PRIOR_GENERATIONS
from fooldigits.lessons.stats import with_prior_rule
from fooldigits.models.base import Classifier

if TYPE_CHECKING:  # loaded only for --encoding cppn
    from fooldigits.lessons.cppn import CPPN


class FoolRow(TypedDict):
    """One digit's runs of `fool`, as --json prints them."""

    digit: int
    count: int  # runs, one image each
    target: float
    confidences: list[float]  # each image's, in the digit
    generations: list[int]  # each run's
    reached: int  # runs that reached the target
    generations_to_target: list[int]  # when each run that reached it first did
    seconds: float
    prior: str
    encoding: str
    neighbour_correlation: float | None  # how smooth the images are (None: no images)
    naturalness: NotRequired[dict[str, float]]  # when measured


@dataclass
class FoolReport:
    """Every run of `fool`: one `FoolResult` per digit, the prior, and how natural each
    digit's images are (when measured)."""

    runs: list[FoolResult] = field(repr=False, metadata=NO_JSON)
    prior: str = "none"
    naturalness: list[dict[str, float] | None] = field(default_factory=list)
    encoding: str = "direct"

    @property
    def results(self) -> list[FoolRow]:
        """One row per digit, as `--json` prints it."""
        natural = self.naturalness or [None] * len(self.runs)
        return [_row(r, self.prior, n, self.encoding)
                for r, n in zip(self.runs, natural, strict=True)]

    def json(self) -> object:
        return self.results[0] if len(self.results) == 1 else {"results": self.results}


def _row(r: FoolResult, prior: str, natural: dict[str, float] | None,
         encoding: str = "direct") -> FoolRow:
    from fooldigits.lessons.cppn import neighbour_correlation

    row: FoolRow = {
        "digit": r.digit, "count": len(r.images), "target": r.target,
        "confidences": [float(c) for c in r.confidences],
        "generations": [int(g) for g in r.generations], "reached": int(r.reached.sum()),
        "generations_to_target": [int(g) for g in r.generations_to_target()],
        "seconds": round(r.seconds, 3), "prior": prior, "encoding": encoding,
        "neighbour_correlation": round(float(np.mean(neighbour_correlation(r.images))), 4)
        if len(r.images) else None}
    if natural is not None:
        row["naturalness"] = natural
    return row


ENCODINGS = ("direct", "cppn")


def make_encoding(name: str) -> CPPN | None:
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
    from fooldigits.core.writing import atomic_write

    arrays: dict[str, np.ndarray] = {
        "images": np.concatenate([r.images for r in runs]).reshape(-1, 28, 28),
        "digit": np.concatenate([np.full(len(r.images), r.digit) for r in runs]),
        "confidences": np.concatenate([r.confidences for r in runs]),
        "generations": np.concatenate([r.generations for r in runs])}
    atomic_write(path, lambda f: np.savez(f, allow_pickle=False, **arrays))

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


def smoothness(report: FoolReport, of: str = "the images") -> Iterator[Piece]:
    """How smooth the images are: each pixel against its right and lower neighbours
    (`of` names them where several kinds were shown)."""
    from fooldigits.lessons.cppn import neighbour_correlation

    images = np.concatenate([r.images for r in report.runs])  # (n, 784)
    corr = float(np.mean(neighbour_correlation(images)))
    yield Say(f"neighbour correlation of {of}: {corr:.2f} (a pixel against its "
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
        from fooldigits.core.writing import beside, describe_saved

        saved = beside(out)  # an existing file holds a whole run: never replace it
        save_runs(kept, saved)
        raise Interrupted(f"saved the {total} finished fooling images to "
                          f"{describe_saved(saved, out)}") from None
    raise Interrupted(f"{total} fooling images had finished" + (
        f"; nothing was saved and {out} was left as it was" if out is not None else "")
    ) from None

