"""Commands of chapter 6: `classify`, `border`, `scramble` (experiments/drawn.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fooldigits import FoolDigitsError
from fooldigits.cli import (
    DataOpt,
    HtmlOpt,
    JsonOpt,
    ModelOpt,
    NoColorOpt,
    PngOpt,
    SeedOpt,
    command,
    flag,
    load,
    numbers,
    output,
    positive,
    rng,
    run,
)
from fooldigits.cli.process import say

JsonListOpt = Annotated[bool, flag(
    "--json", "Print a JSON list instead: one object per image with file, digit, confidence "
    "and probabilities.")]


@command()
def classify(
    files: Annotated[list[Path], typer.Argument(
        help="PNG, JPEG, BMP or GIF drawings, .txt grids of '#' and '.', or .npz files of "
        "28x28 images (from `fooldigits fool --out`).", show_default=False)],
    raw: Annotated[bool, flag(
        "--raw", "Skip MNIST's normalisation: just shrink the whole canvas to 28x28, as the "
        "original experiment did.")] = False,
    model: ModelOpt = None,
    as_json: JsonListOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Classify your own images: the 28x28 the network sees, its confidence per digit.

    Drawings are prepared the way MNIST was (crop, scale to 20 px, centre of mass in the
    middle); dark ink on white paper is inverted. A missing or unreadable file is reported on
    its own line, the rest are classified, and the exit code is 1.
    """
    out = output(no_color, as_json, png, html, "your images, read by the network",
                 tuple(("an image to classify", file) for file in files))
    from fooldigits.experiments.drawn import classify as classify_files

    result = run(classify_files(load(model), files, raw), out)
    for message in result.failed:
        say(f"[error] {message}")
    if result.failed:
        raise typer.Exit(1)


@command()
def draw(
    load_from: Annotated[Path | None, typer.Option(
        "--load", help="Start from this picture: anything `classify` reads (PNG, JPEG, BMP, "
        "GIF, .txt grid, .npz).", show_default=False)] = None,
    model: ModelOpt = None,
    game: Annotated[bool, flag(
        "--game", "Beat the network: three challenges, scored and timed.")] = False,
    out: Annotated[Path | None, typer.Option(
        help="Where s saves the drawing (a PNG that `classify` reads); default: "
        "drawing-1.png, drawing-2.png, ... in this folder.", show_default=False)] = None,
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="With --game: write the scores to this JSON file.",
        show_default=False)] = None,
    name: Annotated[str | None, typer.Option(
        help="With --game: the student's name, written into the --json scores.",
        show_default=False)] = None,
    seed: SeedOpt = 0,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Draw a digit in the terminal and watch the network read it, stroke by stroke.

    Needs a terminal of 80x20 characters; from 100x34 both views are shown side by side.
    Mouse: drag to draw, the right button erases.

    Keys: arrows or hjkl move, space lifts or lowers the pen, x eraser, +/- brush,
    u undo, c clear, n swaps the views, s saves a PNG, q or Esc quits.
    """
    from fooldigits.core.pieces import DIGITS
    from fooldigits.core.writing import check_output
    from fooldigits.models.base import require_classes

    view = output(no_color, False, None, html, "your drawings")
    from fooldigits.pad import session
    from fooldigits.present.render import make_console, uses_blocks

    if out is not None:  # checked before the pad opens, not after the game is played
        check_output(out, ".png", "--out")
    if json_path is not None:
        check_output(json_path, ".json", "--json")
    net = load(model)
    require_classes(net, DIGITS, "draw")  # the pad shows ten digits' bars
    pad = session.run(net, load_from, out, game, json_path, seed,
                      uses_blocks(make_console(no_color)))
    run(session.summary(pad, seed, str(model or "shipped"), json_path, name), view)


@command()
def border(
    count: Annotated[int, typer.Option(help="How many test images (default: all 10,000).")
                     ] = 10_000,
    show: Annotated[int, typer.Option(help="Example pairs to draw.")] = 4,
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Stretch every test digit to the edges of its 28x28 box and classify again.

    The border pixels were dark in every training image, so the weights from them never learned
    anything; a digit that reaches them confuses the network.
    """
    positive(count, "--count")
    if show < 0:
        raise FoolDigitsError(f"--show must be 0 or more, got {show}")
    out = output(no_color, as_json, png, html, "digits stretched to the edges")
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.drawn import border as border_digits

    data = load_mnist(data_dir)
    if len(data.test_images) == 0:
        raise FoolDigitsError("the test set is empty: there is nothing to stretch")
    run(border_digits(load(model), data.test_images[:count], data.test_labels[:count], show),
        out)


@command()
def scramble(
    levels: Annotated[str, typer.Option(
        help="Shares of background pixels replaced by uniform noise, comma-separated.")
    ] = "0,0.1,0.3,0.5",
    count: Annotated[int, typer.Option(help="How many test images.")] = 10_000,
    model: ModelOpt = None,
    data_dir: DataOpt = None,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    png: PngOpt = None,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Fill the background of test digits with noise and watch accuracy and confidence.

    The digit itself is untouched; a person still reads it. The network's accuracy falls much
    faster than its confidence does.
    """
    values = numbers(levels, "--levels", "0,0.1,0.3")
    if not all(0 <= v <= 1 for v in values):  # NaN fails this too
        raise FoolDigitsError(f"--levels must be shares in [0, 1], got {levels!r}")
    positive(count, "--count")
    out = output(no_color, as_json, png, html, "noise in the background")
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.drawn import scramble as scramble_digits

    data = load_mnist(data_dir)
    if len(data.test_images) == 0:
        raise FoolDigitsError("the test set is empty: there is nothing to scramble")
    run(scramble_digits(load(model), data.test_images[:count], data.test_labels[:count], values,
                        rng(seed)), out)
