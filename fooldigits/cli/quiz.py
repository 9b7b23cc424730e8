"""The `quiz` command: the student against the networks (experiments/quiz.py, pad/answers.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from fooldigits.cli import DataOpt, HtmlOpt, NoColorOpt, SeedOpt, command, flag, output, rng

MAX_COUNT = 200


@command()
def quiz(
    count: Annotated[int, typer.Option(help="How many images to answer.", min=1,
                                       max=MAX_COUNT)] = 12,
    name: Annotated[str, typer.Option(help="The student's name, for the teacher's JSON.")] = "",
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Also write every question, answer and model's answer to this JSON "
        "file (for a teacher).", show_default=False)] = None,
    no_pause: Annotated[bool, flag(
        "--no-pause", "Do not ask: show the networks' answers only (automatic when not on "
        "a terminal).")] = False,
    data_dir: DataOpt = None,
    seed: SeedOpt = 0,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """You against the networks: say what each image shows, then see what they said.

    A mix of real test digits, digits drawn to the edge of the canvas, digits with a noisy
    background, digits changed by FGSM or PGD, and noise the genetic algorithm bred to fool
    the network. Type the digit you see, or n for "not a digit" (s skips, q stops). At the
    end, a table puts your answers beside every shipped model's, and shows the images where
    you disagree.
    """
    from fooldigits.core.data import load_mnist
    from fooldigits.core.files import atomic_write, check_output, printable
    from fooldigits.core.pieces import to_json
    from fooldigits.experiments import quiz as experiment
    from fooldigits.models import shipped
    from fooldigits.present.presenter import Presenter

    if json_path is not None:
        check_output(json_path, ".json", "--json")
    view = output(no_color, False, None, html, "fooldigits quiz")
    presenter = Presenter(view)
    models = shipped()
    dense = models[0][1]
    questions = presenter.run(experiment.items(load_mnist(data_dir), dense, count, rng(seed)))
    interactive = not no_pause and sys.stdin is not None and sys.stdin.isatty() and (
        sys.stdout is not None and sys.stdout.isatty())
    if interactive:
        from fooldigits.pad.answers import play
        from fooldigits.pad.keys import read_key

        def write(text: str) -> None:
            sys.stdout.write(text)
            sys.stdout.flush()

        answers = play(questions.images, read_key, write, presenter.blocks)
    else:
        answers = [None] * len(questions.truth)
        presenter.console.print("[dim]not on a terminal (or --no-pause): the networks' "
                                "answers only[/]")
    result = presenter.run(experiment.report(questions, answers, models))
    presenter.finish()
    if json_path is not None:
        text = to_json({"student": printable(name, 100), "seed": seed, **vars(result)})
        atomic_write(json_path, lambda f: f.write(text.encode() + b"\n"))
        presenter.console.print(f"saved {printable(str(json_path))}")


__all__ = ["quiz"]
