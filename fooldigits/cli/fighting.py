"""Commands of the "fighting back" chapter: `adversarial`, `retrain` (experiments/fighting.py).

`train --adversarial EPS --attack fgsm|pgd` lives with `train` in `basics.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fooldigits import FoolDigitsError
from fooldigits.cli import (
    MAX_GENERATIONS,
    DataOpt,
    HtmlOpt,
    JsonOpt,
    ModelOpt,
    NoColorOpt,
    PngOpt,
    SeedOpt,
    checked,
    command,
    digit,
    flag,
    load,
    numbers,
    output,
    positive,
    refuse_unused,
    rng,
    run,
)
from fooldigits.lessons.settings import RetrainConfig

RETRAIN = RetrainConfig()  # the defaults of `retrain`


@command()
def adversarial(
    ctx: typer.Context,
    epsilons: Annotated[str, typer.Option(
        help="Attack sizes (largest change of any pixel), comma-separated.")
    ] = "0,0.05,0.1,0.15,0.2,0.25,0.3",
    attack: Annotated[str, typer.Option(help="fgsm, pgd, or fgsm,pgd for both.")] = "fgsm,pgd",
    steps: Annotated[int, typer.Option(help="PGD steps.")] = 40,
    restarts: Annotated[int, typer.Option(
        help="PGD at full strength: run it this many times per digit (the first from the "
        "digit itself, the others from random points within epsilon) and keep the "
        "strongest result.")] = 1,
    loss: Annotated[str, typer.Option(
        help="What PGD climbs: ce (the cross-entropy of the label) or margin (the best other "
        "class's log-probability minus the label's, Carlini-Wagner's margin).")] = "ce",
    count: Annotated[int, typer.Option(help="How many test digits.")] = 10_000,
    show: Annotated[int, typer.Option(help="Examples to draw (and bisect).")] = 5,
    digit_: Annotated[int | None, typer.Option(
        "--digit", help="With --target: attack real digits of this kind.", show_default=False)
    ] = None,
    target: Annotated[int | None, typer.Option(
        help="Make real --digit digits read as this digit, by the smallest change.",
        show_default=False)] = None,
    transfer: Annotated[bool, flag(
        "--transfer", "Make the perturbation on one network and try it on the others "
        "(the shipped dense, linear, robust and conv models and three trained now, or --models).")
    ] = False,
    models: Annotated[list[Path] | None, typer.Option(
        "--models", help="With --transfer: the networks to compare (repeat).",
        show_default=False)] = None,
    epochs: Annotated[int, typer.Option(help="With --transfer: epochs for the networks "
                                        "trained here.")] = 3,
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Adversarial digits: a change nobody would notice makes the network misread a real digit.

    FGSM takes one step of size epsilon along the sign of the input gradient of the cost;
    PGD takes many small ones, each projected back to within epsilon of the original.
    Accuracy and the confidence of the wrong answers are shown for each epsilon, with
    examples: the digit, the change, the result.
    """
    from fooldigits.core.options import finite
    from fooldigits.lessons.adversarial import check_method

    values = numbers(epsilons, "--epsilons", "0,0.1,0.2")
    for value in values:
        finite(value, "--epsilons", 0, 1)
    methods = [m.strip() for m in attack.split(",") if m.strip()]
    if not methods:
        raise FoolDigitsError(f"--attack takes fgsm, pgd or fgsm,pgd, got {attack!r}")
    for method in methods:
        check_method(method, steps, loss, restarts)
    positive(count, "--count")
    positive(epochs, "--epochs", 1000)
    if show < 0:
        raise FoolDigitsError(f"--show must be 0 or more, got {show}")
    digit(digit_)
    digit(target, "--target")
    if (target is None) != (digit_ is None):
        raise FoolDigitsError("--digit and --target go together: make real --digit digits "
                              "read as --target")
    if transfer and model is not None:
        raise FoolDigitsError("--transfer compares several models: name them with --models "
                              "(repeat it) instead of --model")
    if models and not transfer:
        raise FoolDigitsError("--models names the networks --transfer compares: add "
                              "--transfer, or attack one network with --model")
    plain = not transfer and target is None  # one network, every epsilon, untargeted
    refuse_unused(ctx, (
        ("epochs", "--epochs", transfer, "with --transfer (the networks trained here)"),
        ("restarts", "--restarts", plain, "to the untargeted attack on one network"),
        ("loss", "--loss", plain, "to the untargeted attack on one network"),
        ("show", "--show", not transfer, "without --transfer"),
        ("epsilons", "--epsilons", target is None, "without --target (it finds the "
         "smallest change itself)")))
    out = output(no_color, as_json, png, html, "adversarial digits")
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments import fighting

    data = load_mnist(data_dir)
    if transfer:
        run(fighting.adversarial_transfer(data, values, rng(seed), methods[-1] if methods
                                          else "", steps, models, epochs, seed, count), out)
    elif target is not None and digit_ is not None:
        run(fighting.targeted(load(model), data, digit_, target, methods[-1] if methods
                              else "", steps, show, count), out)
    else:
        run(fighting.adversarial(load(model), data, values, methods, steps, show, count,
                                 model=str(model or "shipped"), restarts=restarts, loss=loss,
                                 rng=rng(seed)), out)


@command()
def retrain(
    rounds: Annotated[int, typer.Option(help="Rounds of fool, teach 'not a digit', fool again.")
                      ] = RETRAIN.rounds,
    per_digit: Annotated[int, typer.Option(help="Fooling images evolved per digit per round.")
                         ] = RETRAIN.per_digit,
    max_generations: Annotated[int, typer.Option(
        help="A GA run that has not reached the target by then did not fool the network.")
    ] = RETRAIN.max_generations,
    epochs: Annotated[int, typer.Option(help="Epochs of training per round's network.")
                      ] = RETRAIN.epochs,
    seeds: Annotated[int, typer.Option(
        help="Run the whole loop this many times, each with its own seed; the tables show "
        "each cell's mean and range.")] = RETRAIN.seeds,
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    seed: SeedOpt = 0,
    out: Annotated[Path | None, typer.Option(
        help="Save the last round's 11-class network (.npz).", show_default=False)] = None,
    save_rounds: Annotated[Path | None, typer.Option(
        help="Save every round's network and every search's images in this folder "
        "(seedS-roundR.npz, seedS-roundR-SEARCH.npz).", show_default=False)] = None,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Nguyen et al.'s experiment: teach the network a "not a digit" class, then fool it again.

    Each round evolves fooling images against the current network, adds them to the training
    set as class 10 ("not a digit"), trains a new 11-output network, and then four searches
    try again: the same GA from noise, the GA from a black canvas, gradient ascent (the dream)
    and PGD on real digits. The tables show which still fool it, and whether it rejects
    images made by a search it never trained on.
    """
    from fooldigits.core.writing import check_output
    from fooldigits.lessons.retrain import RetrainConfig

    positive(max_generations, "--max-generations", MAX_GENERATIONS)
    config = RetrainConfig(rounds=rounds, per_digit=per_digit, max_generations=max_generations,
                           epochs=epochs, seeds=seeds)
    checked(config)
    if out is not None:
        check_output(out, ".npz", "--out", [("the --model file", model)])
    if save_rounds is not None:
        if not save_rounds.is_dir():
            raise FoolDigitsError(f"--save-rounds wants an existing folder, got {save_rounds}")
        check_output(save_rounds / "seed0-round0.npz", ".npz", "--save-rounds",
                     [("the --model file", model)])
    view = output(no_color, as_json, png, html, "retraining with a 'not a digit' class")
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.fighting import retrain as retrain_rounds

    command = (f"fooldigits retrain --rounds {rounds} --per-digit {per_digit} "
               f"--max-generations {max_generations} --epochs {epochs} --seeds {seeds} "
               f"--seed {seed}")
    run(retrain_rounds(load(model), load_mnist(data_dir), config, rng(seed), save_rounds, out,
                       command), view)
