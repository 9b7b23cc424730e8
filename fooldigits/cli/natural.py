"""Commands of chapter 7: `stats`, `compare` (experiments in experiments/natural.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from fooldigits.cli import (
    MAX_BINS,
    MAX_GENERATIONS,
    MAX_LAGS,
    DataOpt,
    HtmlOpt,
    JsonOpt,
    ModelOpt,
    NoColorOpt,
    PngOpt,
    SeedOpt,
    between,
    command,
    digit,
    load,
    output,
    positive,
    rng,
    run,
)
from fooldigits.lessons.settings import PRIOR_GENERATIONS


@command()
def stats(
    digit_: Annotated[int | None, typer.Option(
        "--digit", help="Statistics of one digit; default: all.", show_default=False)] = None,
    lags: Annotated[int, typer.Option(help="Neighbour distances 1..lags.")] = 4,
    bins: Annotated[int, typer.Option(help="Histogram bins on (0, 1] (0 has its own).")] = 16,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """The statistics of real digits: pixel histogram and g_x / g_y variograms.

    g_x(l) is the mean |difference| between pixels l apart along a row, g_y along a
    column. Uniform noise has g = 1/3 at every lag; real digits are smooth nearby.
    """
    digit(digit_)
    positive(bins, "--bins", MAX_BINS)
    between(lags, "--lags", 1, MAX_LAGS)
    out = output(no_color, as_json, None, html, "the statistics of real digits")
    from fooldigits.experiments.natural import stats as digit_stats

    run(digit_stats(digit_, lags, bins, data_dir), out)


@command()
def compare(
    digit_: Annotated[int, typer.Option("--digit", help="The digit to fake.")] = 2,
    count: Annotated[int, typer.Option(help="Fooling images per method.")] = 100,
    target: Annotated[float, typer.Option(help="Confidence a run must reach.")] = 0.9999,
    min_generations: Annotated[int, typer.Option(
        help="Generations the priors get to shape the images.")] = PRIOR_GENERATIONS,
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Plain GA vs statistics prior vs location-aware prior vs real digits, side by side.

    For each method: how many runs reached the target, generations, time, and how natural the
    images are (statistics distance to real digits, and the correlation of the mean image with
    the real mean digit).
    """
    from fooldigits.core.options import finite

    digit(digit_)
    positive(count, "--count", 100_000)
    finite(target, "--target", 0.0, 1.0, high_open=True)
    between(min_generations, "--min-generations", 0, MAX_GENERATIONS)
    out = output(no_color, as_json, png, html, f"priors for fooling '{digit_}'")
    from fooldigits.experiments.natural import compare as compare_priors

    run(compare_priors(load(model), digit_, count, rng(seed), target, min_generations,
                       data_dir), out)
