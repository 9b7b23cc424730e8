"""Commands of chapters 1-2: `show`, `train`, `evaluate` (experiments in experiments/basics.py)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from fooldigits import FoolDigitsError
from fooldigits.cli import (
    MAX_EPOCHS,
    MAX_WEIGHT,
    DataOpt,
    HtmlOpt,
    JsonOpt,
    ModelOpt,
    NoColorOpt,
    PngOpt,
    SeedOpt,
    command,
    digit,
    flag,
    listed,
    load,
    output,
    positive,
    rng,
    run,
    typed,
)
from fooldigits.lessons.settings import SHIPPED_RECIPE as RECIPE  # the defaults of `train`

MAX_SHOW = 1000  # images `show` draws at once
MAX_HIDDEN = 14  # hidden layers: a model file holds at most 16 layer sizes


@command()
def show(
    digit_: Annotated[int | None, typer.Option("--digit", help="Only this digit (0-9); "
                                               "default: any.", show_default=False)] = None,
    count: Annotated[int, typer.Option(help=f"How many images (at most {MAX_SHOW}).")] = 8,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Show training images as block art: what MNIST looks like to the network."""
    digit(digit_)
    positive(count, "--count", MAX_SHOW)
    out = output(no_color, as_json, png, html, "training images")
    from fooldigits.core.data import training_digits
    from fooldigits.experiments.basics import show as show_images

    images, labels = training_digits(digit_, count, data_dir)
    run(show_images(images, labels), out)


class Arch(StrEnum):
    dense = "dense"
    linear = "linear"
    conv = "conv"
    generative = "generative"


class Activation(StrEnum):
    sigmoid = "sigmoid"
    relu = "relu"


class Output(StrEnum):
    softmax = "softmax"
    sigmoid = "sigmoid"


class AttackKind(StrEnum):
    fgsm = "fgsm"
    pgd = "pgd"


class Cost(StrEnum):
    cross_entropy = "cross-entropy"
    quadratic = "quadratic"


def hidden_sizes(hidden: list[str]) -> list[int]:
    sizes: list[int] = []
    for part in listed(",".join(hidden), "--hidden", MAX_HIDDEN):
        try:
            sizes.append(int(part))
        except ValueError:
            raise FoolDigitsError(f"--hidden takes whole numbers, got {part!r}") from None
    if any(s < 1 for s in sizes):
        raise FoolDigitsError(f"--hidden sizes must be at least 1, got {sizes}")
    return sizes


DENSE_ONLY = ("hidden", "cost", "activation", "output_")  # options a linear model has not


@command()
def train(
    ctx: typer.Context,
    arch: Annotated[Arch, typer.Option(
        metavar="<kind>",  # the four choices in one token broke the help at 80 columns
        help="dense: Nielsen's network (--hidden, --cost, --activation, --output shape it); "
        "linear: softmax regression, no hidden layer; conv: Nielsen's chapter-6 convolutional "
        "net (those four do not apply to linear and conv); generative: one PCA Gaussian per "
        "digit, fitted in seconds with no SGD (only --seed, --out, --data-dir apply).")
    ] = Arch.dense,
    hidden: Annotated[list[str], typer.Option(
        help="Dense only: hidden layer sizes; repeat or comma-separate for a deeper net: "
        "100 or 100,30.")] = ["100"],  # noqa: B006 - typer needs a list default
    epochs: Annotated[int, typer.Option(help="Passes over the 50,000 training images.")
                      ] = RECIPE.epochs,
    eta: Annotated[float, typer.Option(help="Learning rate at the start.")] = RECIPE.eta,
    final_eta: Annotated[float, typer.Option(
        help="Learning rate at the end, as a fraction of --eta (linear decay); 1 = constant.")
    ] = RECIPE.final_eta_ratio,
    lmbda: Annotated[float, typer.Option(help="L2 regularisation strength (weight decay).")
                     ] = RECIPE.lmbda,
    momentum: Annotated[float, typer.Option(help="Momentum mu (0 = plain SGD).")] = RECIPE.momentum,
    batch_size: Annotated[int, typer.Option(help="Mini-batch size m.")] = RECIPE.batch_size,
    shift: Annotated[bool, typer.Option(
        "--shift/--no-shift",
        help="Shift each training image by a random pixel every epoch (Nielsen's expand_mnist).")
    ] = RECIPE.shift,
    cost: Annotated[Cost, typer.Option(
        metavar="<cost>", help="Dense only: cost function, cross-entropy or quadratic.")
    ] = Cost.cross_entropy,
    activation: Annotated[Activation, typer.Option(help="Dense only: hidden neurons.")
                          ] = Activation.sigmoid,
    output_: Annotated[Output, typer.Option("--output", help="Dense only: output layer.")
                       ] = Output.softmax,
    adversarial: Annotated[float, typer.Option(
        help="Adversarial training: mix each mini-batch with its attacked copies at this "
        "epsilon (0: off; try 0.1).")] = RECIPE.adversarial,
    attack: Annotated[AttackKind, typer.Option(
        help="The attack for --adversarial: fgsm (Goodfellow et al.) or pgd (Madry et al.).")
    ] = AttackKind[RECIPE.attack],
    seed: SeedOpt = 1,
    out: Annotated[Path, typer.Option(help="Where to save the model (.npz).")] = Path("model.npz"),
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Train a model by mini-batch SGD, with a live progress bar and accuracy per epoch.

    The defaults are the recipe of the shipped model: 784-100-10 sigmoid, softmax out,
    cross-entropy, momentum 0.9, eta 0.1 decaying to 0, 15 epochs: about 98.3% of the test
    images (`fooldigits evaluate` says what the shipped model gets). With --arch linear it
    trains softmax regression (no hidden layer): about 92.6%. With --arch conv, the
    convolutional net of models/conv.py (docs/conv.md). With --arch generative, one
    probabilistic PCA per digit and a "not a digit" class, fitted in seconds
    (docs/generative.md); the SGD options do not apply to it.

    The network of the best validation epoch is saved. Ctrl-C saves it too, once an epoch has
    finished; before that nothing is written and an existing file is left as it was.
    """
    from fooldigits.core.options import finite
    from fooldigits.core.writing import check_output
    from fooldigits.lessons.training import SGDConfig
    from fooldigits.models.network import check_sizes

    if arch is Arch.generative:
        given = [name for name in (*DENSE_ONLY, *SGD_ONLY) if typed(ctx, name)]
        if given:
            flags = ", ".join("--" + name.rstrip("_").replace("_", "-") for name in given)
            raise FoolDigitsError(f"{flags} do{'es' * (len(given) == 1)} not apply to a "
                                  "generative model: it is fitted, not trained by SGD, so "
                                  f"leave {'them' if len(given) > 1 else 'it'} out")
        _fit_generative(seed, out, data_dir, as_json, html, no_color)
        return
    if arch in (Arch.linear, Arch.conv):
        given = [name for name in DENSE_ONLY if typed(ctx, name)]
        if given:
            flags = ", ".join("--" + name.rstrip("_").replace("_", "-") for name in given)
            raise FoolDigitsError(f"{flags} shape{'s' * (len(given) == 1)} a dense network; "
                                  f"a {arch.value} model has no such choice, so leave "
                                  f"{'them' if len(given) > 1 else 'it'} out")
    sizes = [784, *hidden_sizes(hidden), 10] if arch is Arch.dense else [784, 10]
    if arch is Arch.conv:
        from fooldigits.models.conv import SIZES as CONV_SIZES

        sizes = [784, *CONV_SIZES]
    try:
        check_sizes(sizes)  # what the loader would refuse is refused before any work
    except FoolDigitsError as err:
        raise FoolDigitsError(f"--hidden {','.join(map(str, sizes[1:-1]))}: {err}") from None
    positive(epochs, "--epochs", MAX_EPOCHS)
    positive(batch_size, "--batch-size", 60_000)
    config = SGDConfig(epochs, batch_size, eta, lmbda, momentum, final_eta, shift,
                       adversarial, attack.value)
    config.check()
    finite(eta, "--eta", 0, MAX_WEIGHT, low_open=True)  # beyond it, every run diverges
    finite(lmbda, "--lmbda", 0, MAX_WEIGHT)
    check_output(out, ".npz", "--out")
    shape = "-".join(map(str, sizes))
    view = output(no_color, as_json, None, html, f"training {arch.value} {shape}")
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.basics import train as train_network
    from fooldigits.models.base import Trainable

    data = load_mnist(data_dir, train_bytes=True)  # sgd makes floats a block at a time
    generator = rng(seed)
    net: Trainable
    if arch is Arch.linear:
        from fooldigits.models.linear import Linear

        net = Linear(rng=generator)
        shape_flags = "--arch linear"
    elif arch is Arch.conv:
        from fooldigits.models.conv import Conv

        net = Conv(rng=generator)
        shape_flags = "--arch conv"
    else:
        from fooldigits.models.network import Network

        net = Network(sizes, activation=activation.value, output=output_.value,
                      cost=cost.value, rng=generator)
        shape_flags = f"--hidden {','.join(map(str, sizes[1:-1]))}"
    dense_flags = (f" --cost {cost.value} --activation {activation.value} --output "
                   f"{output_.value}" if arch is Arch.dense else "")
    net.meta["command"] = (  # every setting spelled out, so the model can be remade
        f"fooldigits train {shape_flags} --epochs {epochs} "
        f"--eta {eta} --final-eta {final_eta} --lmbda {lmbda} --momentum {momentum} "
        f"--batch-size {batch_size} {'--shift' if shift else '--no-shift'}{dense_flags} "
        f"--seed {seed}"
        + (f" --adversarial {adversarial} --attack {attack.value}" if adversarial else "")
        + (f" --data-dir {data_dir}" if data_dir else ""))
    view.title = f"training {arch.value} {shape} on {len(data.train_images):,} images"
    run(train_network(net, data, config, generator, out), view)


SGD_ONLY = ("epochs", "eta", "final_eta", "lmbda", "momentum", "batch_size", "shift",
            "adversarial", "attack")  # what a generative model (fitted, not trained) has not


def _fit_generative(seed: int, out: Path, data_dir: Path | None, as_json: bool,
                    html: Path | None, no_color: bool) -> None:
    """`train --arch generative`: fit the ten PPCAs (seconds), save, say the accuracy."""
    from fooldigits.core.writing import check_output

    check_output(out, ".npz", "--out")
    view = output(no_color, as_json, None, html, "fitting generative (one PCA Gaussian a digit)")
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.basics import fit_generative

    data = load_mnist(data_dir)
    command_line = (f"fooldigits train --arch generative --seed {seed}"
                    + (f" --data-dir {data_dir}" if data_dir else ""))
    run(fit_generative(data, out, command_line), view)


@command()
def evaluate(
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Test accuracy of a model: overall, per digit, and the confusion matrix."""
    out = output(no_color, as_json, None, html, "how good is the network?")
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.basics import evaluate as evaluate_model

    net = load(model)
    data = load_mnist(data_dir)
    run(evaluate_model(net, data.test_images, data.test_labels,
                       str(model or "shipped default")), out)


__all__ = ["evaluate", "flag", "show", "train"]
