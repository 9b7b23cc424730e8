"""The `quiz` command: the student against the networks (experiments/quiz.py, pad/answers.py)."""

from __future__ import annotations

import contextlib
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from fooldigits import Interrupted
from fooldigits.cli import (
    DataOpt,
    HtmlOpt,
    NoColorOpt,
    SeedOpt,
    command,
    flag,
    output,
    positive,
    rng,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from fooldigits.core.data import Dataset
    from fooldigits.experiments.quiz import QuizResult
    from fooldigits.present.presenter import Presenter

MAX_COUNT = 200


@command()
def quiz(
    count: Annotated[int, typer.Option(
        help=f"How many images to answer (at most {MAX_COUNT}).")] = 12,
    name: Annotated[str, typer.Option(
        help="The student's name, for the teacher's JSON and web page.")] = "",
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
    from fooldigits.core.pieces import to_json
    from fooldigits.core.reading import printable
    from fooldigits.core.writing import atomic_write, check_output
    from fooldigits.present.presenter import Presenter

    positive(count, "--count", MAX_COUNT)  # one [error] line, as every other command's
    if json_path is not None:
        check_output(json_path, ".json", "--json")
    view = output(no_color, False, None, html,  # a teacher collects one page per student
                  f"fooldigits quiz: {printable(name, 100)}" if name else "fooldigits quiz")
    presenter = Presenter(view)
    interactive = not no_pause and sys.stdin is not None and sys.stdin.isatty() and (
        sys.stdout is not None and sys.stdout.isatty())
    from fooldigits.experiments.quiz import QuizResult
    from fooldigits.pad.keys import read_key

    def read() -> str:  # the keys typed before the question were forgotten by `forget`
        return read_key(flush=False)

    def forget() -> None:  # the keys typed before the question shows
        import termios

        with contextlib.suppress(termios.error):  # a hung-up terminal: nothing to forget
            termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)

    stopped: Interrupted | None = None
    try:
        result = play_quiz(presenter, load_mnist(data_dir), count, rng(seed),
                           read if interactive else None, forget=forget)
    except Interrupted as stop:  # Ctrl-C while answering: keep the answers given, as q does
        if not isinstance(stop.partial, QuizResult):
            raise
        result, stopped = stop.partial, stop
    presenter.finish()
    if json_path is not None:
        text = to_json({"student": printable(name, 100), "seed": seed, **vars(result)})
        atomic_write(json_path, lambda f: f.write(text.encode() + b"\n"))
        presenter.console.print(f"saved {printable(str(json_path))}")
    if stopped is not None:
        raise stopped


def play_quiz(presenter: Presenter, data: Dataset, count: int, generator: np.random.Generator,
              read: Callable[[], str] | None,
              busy: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
              forget: Callable[[], None] = lambda: None) -> QuizResult:
    """Make `count` questions (inside `busy()`: the tutor's keyboard mode for a long step),
    ask them with `read` (a key at a time; None: do not ask, the networks' answers only;
    `forget` drops the keys typed before each question shows), and show the table: the
    `quiz` command, and the tutor's last chapter."""
    from fooldigits.experiments import quiz as experiment
    from fooldigits.models import shipped

    models = shipped()
    dense = models[0][1]
    with busy():
        questions = presenter.run(experiment.items(data, dense, count, generator))
    stopped: Interrupted | None = None  # Ctrl-C while the student answered
    if read is not None:
        from fooldigits.pad.answers import play

        def write(text: str) -> None:
            sys.stdout.write(text)
            sys.stdout.flush()

        try:
            answers = play(questions.images, read, write, presenter.blocks, forget)
        except Interrupted as stop:  # Ctrl-C: the table of the answers so far, then stop
            answers, stopped = cast("list[int | None]", stop.partial), stop
        presenter.cleared()
    else:
        from fooldigits.core.pieces import Images

        answers = [None] * len(questions.truth)
        presenter.console.print("[dim]not on a terminal (or --no-pause): the networks' "
                                "answers only[/]")
        # nobody was shown them: without them the table's answers are about nothing seen
        presenter.show(Images("the quiz's images (#: the question in the table below)",
                              questions.images, [f"#{i + 1}" for i in range(len(answers))],
                              packed=True))
    result = presenter.run(experiment.report(questions, answers, models))
    if stopped is not None:
        raise Interrupted(stopped.message, partial=result) from None
    return result


__all__ = ["play_quiz", "quiz"]
