"""Commands of chapters 4-5: `dream`, `ceiling` (experiments/dreaming.py), `fool`
(experiments/fooling.py) and `transfer` (experiments/transfer.py)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from fooldigits import FoolDigitsError
from fooldigits.cli import (
    MAX_BINS,
    MAX_GENERATIONS,
    MAX_IMAGES,
    MAX_LAGS,
    MAX_LR,
    MAX_WEIGHT,
    DataOpt,
    HtmlOpt,
    JsonOpt,
    ModelOpt,
    NoColorOpt,
    PngOpt,
    SeedOpt,
    between,
    checked,
    command,
    digit,
    flag,
    load,
    output,
    positive,
    refuse_unused,
    rng,
    run,
)
from fooldigits.lessons.settings import DreamConfig, GAConfig

DREAM = DreamConfig()  # the defaults of `dream`
GA = GAConfig()  # the defaults of `fool`


class DreamPrior(StrEnum):
    none = "none"
    l2 = "l2"
    tv = "tv"
    blur = "blur"


class FoolPrior(StrEnum):
    none = "none"
    stats = "stats"
    local = "local"


class FoolEncoding(StrEnum):
    direct = "direct"
    cppn = "cppn"


def digits_of(value: int | None) -> list[int]:
    digit(value)
    return list(range(10)) if value is None else [value]


@command()
def dream(
    digit_: Annotated[int | None, typer.Option(
        "--digit", help="Only this digit; default: all ten.", show_default=False)] = None,
    steps: Annotated[int, typer.Option(help="Most gradient steps per image.")] = DREAM.steps,
    lr: Annotated[float, typer.Option(help="Step size on the pixels.")] = DREAM.lr,
    threshold: Annotated[float, typer.Option(help="Confidence that counts as converged.")
                         ] = DREAM.threshold,
    prior: Annotated[DreamPrior, typer.Option(
        help="none, l2 (pull to black), tv (total variation: smooth), blur (3x3 box blur).")
    ] = DreamPrior[DREAM.prior],
    prior_weight: Annotated[float, typer.Option(help="Strength of the prior.")
                            ] = DREAM.prior_weight,
    invert: Annotated[bool, flag(
        "--invert", "Draw the results dark on light, like ink on paper (the network still "
        "sees light on dark).")] = False,
    model: ModelOpt = None,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Dream digits: gradient descent on the input pixels with the weights frozen.

    Starting from noise, each pixel moves against dC/dx until the network is sure. The images
    stay noise to a person. Each digit's confidence over the steps is drawn as a sparkline:
    try --lr 0.01 --steps 100 to see digits still climbing when the steps run out, and --prior
    tv to ask for smoother images.
    """
    from fooldigits.core.options import finite
    from fooldigits.lessons.dream import DreamConfig

    config = DreamConfig(steps, lr, threshold, prior.value, prior_weight)
    config.check()
    finite(lr, "--lr", 0.0, MAX_LR, low_open=True)  # beyond it, the pixels overflow float32
    finite(prior_weight, "--prior-weight", 0, MAX_WEIGHT)
    positive(steps, "--steps", MAX_GENERATIONS)
    digits = digits_of(digit_)
    out = output(no_color, as_json, png, html, "dreamed digits")
    from fooldigits.experiments.dreaming import dream as dream_digits

    run(dream_digits(load(model), digits, config, rng(seed), invert), out)


@command()
def fool(
    ctx: typer.Context,
    digit_: Annotated[int | None, typer.Option(
        "--digit", help="The digit to fake (0-9).", show_default=False)] = None,
    all_digits: Annotated[bool, flag("--all", "Every digit 0-9.")] = False,
    count: Annotated[int, typer.Option(help="Fooling images per digit.")] = 1,
    mean: Annotated[bool, flag(
        "--mean", "Show the mean of the fooling images beside the mean real digit.")] = False,
    target: Annotated[float, typer.Option(help="Stop a run at this confidence.")
                      ] = GA.target,
    max_generations: Annotated[int, typer.Option(help="Give up a run after this many.")
                               ] = GA.max_generations,
    population: Annotated[int, typer.Option(help="Images per generation.")] = GA.population,
    parents: Annotated[int, typer.Option(help="The best this many breed.")] = GA.parents,
    elite: Annotated[int, typer.Option(help="The best this many survive unchanged.")
                     ] = GA.elite,
    mutation_rate: Annotated[float, typer.Option(
        help="Chance that a child's pixel is redrawn.")] = GA.mutation_rate,
    slots: Annotated[int, typer.Option(help="Runs evolved side by side in one array.")
                     ] = GA.slots,
    prior: Annotated[FoolPrior, typer.Option(
        help="none (noise on a black page), stats (training histogram + neighbour statistics), "
        "local (location-aware statistics of the digit).")] = FoolPrior.none,
    prior_weight: Annotated[float, typer.Option(help="Weight of the prior's cost.")
                            ] = GA.prior_weight,
    encoding: Annotated[FoolEncoding, typer.Option(
        help="direct (a gene per pixel) or cppn (a small network paints the image from the "
        "pixel coordinates; --mutation-rate is the direct encoding's).")
    ] = FoolEncoding.direct,
    min_generations: Annotated[int | None, typer.Option(
        help="Evolve at least this long, so a prior can shape the images; default 0 "
        "without a prior, more with one (settings.PRIOR_GENERATIONS).", show_default=False)
    ] = None,
    lags: Annotated[int, typer.Option(help="Neighbour distances in the statistics prior.")
                    ] = 4,
    bins: Annotated[int, typer.Option(help="Histogram bins of the statistics prior.")] = 16,
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    seed: SeedOpt = 0,
    out: Annotated[Path | None, typer.Option(
        help="Save the images (.npz: images, digit, confidences, generations); Ctrl-C saves "
        "the runs that finished.", show_default=False)] = None,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Evolve noise the network is sure is a digit (Nguyen, Yosinski & Clune 2015).

    A genetic algorithm breeds random images by uniform crossover and mutation, keeping whatever
    the network is most confident about. A single run is shown live. Try --count 1000 --mean to
    see what the network "wants" a 2 to look like.
    """
    from fooldigits.core.options import finite
    from fooldigits.core.writing import check_output
    if digit_ is None and not all_digits:
        raise FoolDigitsError("say which digit to fake with --digit N, or use --all")
    positive(count, "--count")
    between(count, "--count", 1, MAX_IMAGES)
    positive(max_generations, "--max-generations", MAX_GENERATIONS)
    positive(slots, "--slots", 1000)
    between(lags, "--lags", 1, MAX_LAGS)
    digits = digits_of(None if all_digits else digit_)
    config = GAConfig(population, elite, parents, mutation_rate, target, max_generations,
                      slots, prior_weight, min_generations or 0)
    checked(config)  # its errors name parameters; said here as this command's flags
    finite(prior_weight, "--prior-weight", 0, MAX_WEIGHT)
    positive(bins, "--bins", MAX_BINS)
    refuse_unused(ctx, (
        ("lags", "--lags", prior is FoolPrior.stats, "with --prior stats"),
        ("bins", "--bins", prior is FoolPrior.stats, "with --prior stats"),
        ("prior_weight", "--prior-weight", prior is not FoolPrior.none, "with a --prior"),
        ("mutation_rate", "--mutation-rate", encoding is FoolEncoding.direct,
         "to the direct encoding (a CPPN mutates by NEAT's rates)")))
    if out is not None:
        check_output(out, ".npz", "--out", [("the --model file", model)])
    view = output(no_color, as_json, png, html, "fooling images")
    from fooldigits.experiments.fooling import fool as fool_network

    run(fool_network(load(model), digits, count, config, rng(seed), prior.value, data_dir, lags,
                     bins, mean, out, min_generations, encoding.value), view)


@command()
def ceiling(
    steps: Annotated[int, typer.Option(
        help="Dreaming steps per step size for the confidence found.")] = 3000,
    model: Annotated[Path | None, typer.Option(
        "--model", help="A dense network .npz (`fooldigits train --arch dense`: the bound "
        "is worked out through its hidden layers); default: the shipped model.",
        show_default=False)] = None,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """How sure can the network ever be? An upper bound per digit, over every image.

    Interval bound propagation pushes the box [0, 1]^784 through the layers; the bound is shown
    beside the best confidence that dreaming actually finds. Strong L2 regularisation caps the
    ceiling: no search can beat it.
    """
    out = output(no_color, as_json, None, html, "the confidence ceiling")
    from fooldigits.experiments.dreaming import ceiling as confidence_ceiling

    positive(steps, "--steps", 100_000)
    run(confidence_ceiling(load(model), rng(seed), steps), out)


@command()
def transfer(
    models: Annotated[list[Path] | None, typer.Option(
        "--models", help="Models to compare (repeat); default: the shipped dense, linear, "
        "adversarially trained and conv models, and three dense networks trained now (784-30-10, "
        "784-100-10 with another seed, 784-100-100-10).", show_default=False)] = None,
    count: Annotated[int, typer.Option(help="Fooling images per digit per network.")] = 2,
    target: Annotated[float, typer.Option(help="Confidence each fooling run stops at.")
                      ] = 0.99,
    epochs: Annotated[int, typer.Option(help="Epochs for the networks trained here.")] = 3,
    seed: SeedOpt = 0,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Do fooling images made for one network fool the others?

    Images are evolved against each network (rows) and shown to every network (columns): mean
    confidence in the intended digit, and the share above 99%.
    """
    from fooldigits.core.options import finite

    finite(target, "--target", 0.0, 1.0, high_open=True)
    positive(count, "--count", 10_000)  # bounds before any data is read
    positive(epochs, "--epochs", 1000)
    out = output(no_color, as_json, None, html, "transfer between networks")
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.transfer import transfer as transfer_matrix

    data = None if models else load_mnist(data_dir)
    run(transfer_matrix(count, target, rng(seed), models, data, epochs, seed), out)
