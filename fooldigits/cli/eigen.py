"""Command of chapter 3: `pca` (experiments in experiments/eigen.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from fooldigits import FoolDigitsError
from fooldigits.cli import (
    DataOpt,
    HtmlOpt,
    JsonOpt,
    NoColorOpt,
    PngOpt,
    command,
    flag,
    listed,
    load,
    output,
    positive,
    run,
)


def component_list(text: str) -> list[int]:
    values = []
    for part in listed(text, "--components"):
        try:
            values.append(int(part))
        except ValueError:
            raise FoolDigitsError(f"--components takes whole numbers, got {part!r}") from None
        if not 1 <= values[-1] <= 784:
            raise FoolDigitsError(f"--components must be between 1 and 784, got {values[-1]}")
    return values


@command()
def pca(
    components: Annotated[str, typer.Option(
        help="k for the classifiers, or a comma list (e.g. 10,50,200) to compare several "
        "or to rebuild a digit with --reconstruct.")] = "50",
    reconstruct: Annotated[int | None, typer.Option(
        help="Rebuild test image number N from k components, for each k given.",
        show_default=False)] = None,
    show: Annotated[int, typer.Option(help="How many eigen-digits to draw.")] = 16,
    signed: Annotated[bool, flag(
        "--signed", "Draw eigen-digits in a diverging colour map (blue negative, red "
        "positive) instead of rescaled to [0, 1].")] = False,
    neighbours: Annotated[int, typer.Option(help="k of the k-nearest-neighbour classifier.")
                          ] = 3,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Eigen-digits, explained variance, and how far simple PCA classifiers get.

    The eigen-digits come from the 784x784 pixel covariance; the classifiers (nearest class
    mean, k-nearest neighbours, one subspace per digit) are set beside the network.
    """
    ks = component_list(components)
    positive(show, "--show", 784)
    if not 1 <= neighbours <= 1000:
        raise FoolDigitsError(f"--neighbours must be between 1 and 1000, got {neighbours}")
    out = output(no_color, as_json, png, html, "eigen-digits")
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments import eigen

    data = load_mnist(data_dir)
    if reconstruct is not None:
        if not 0 <= reconstruct < len(data.test_images):
            raise FoolDigitsError(
                f"--reconstruct must be a test image number 0..{len(data.test_images) - 1}")
        run(eigen.reconstruct(data.train_images, data.test_images[reconstruct], reconstruct,
                              int(data.test_labels[reconstruct]), ks), out)
        return
    if len(data.test_images) == 0:
        raise FoolDigitsError("the test set is empty: there is nothing to classify")
    network = load(None).accuracy(data.test_images, data.test_labels) if data_dir is None \
        else None
    run(eigen.pca(data.train_images, data.train_labels, data.test_images, data.test_labels,
                  ks, show, signed, neighbours, network), out)
