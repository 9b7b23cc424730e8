"""The whole tutor at 80 x 24 in at most 35 key presses.

The real `tutor` command, every chapter computed (`--quick` sizes; and the full story's
six quiz questions, `as_shown_in_full`), drawn on an 80 x 24 terminal the test can read,
with a student who presses Enter at every pause and answers every quiz question: the
keyboard is the only stand-in (`pad.keys.Keyboard` reads a real terminal;
tests/test_tutor_keys.py types into one). Each key the student presses is one press: the
pages of every chapter, the pause at each chapter's end, and the quiz.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from rich.console import Console

from fooldigits.present import render
from fooldigits.present.presenter import Presenter

MOST = 35  # issue 22: the whole story at 80 x 24 in at most ~35 key presses
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


class Student:
    """In place of `keys.Keyboard`: Enter when a prompt is on the screen, else (a quiz
    question) the digit 7; every key counted."""

    presses: ClassVar[list[str]] = []

    def __init__(self, fd: int) -> None:
        Student.presses = []

    def __enter__(self) -> Student:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def busy(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def waiting(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def take(self) -> str | None:
        return None

    def forget(self) -> None:  # nothing is typed ahead: every key is answered at once
        pass

    def get(self) -> str:
        key = "enter" if Screen.prompting else "7"
        Student.presses.append(key)
        assert len(Student.presses) < 200, "the story does not end"
        return key


class Screen:
    """The terminal the tutor draws on, and whether a prompt is on it now."""

    prompting = False
    console: Console | None = None


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return 0


@contextlib.contextmanager
def at_a_terminal(monkeypatch: pytest.MonkeyPatch, columns: int, rows: int
                  ) -> Iterator[None]:
    def console(no_color: bool = False, stderr: bool = False) -> Console:
        Screen.console = Console(width=columns, height=rows, force_terminal=True,
                                 color_system="truecolor", file=io.StringIO(), highlight=False)
        return Screen.console

    prompt, unprompt = Presenter.prompt, Presenter.unprompt

    def showing(self: Presenter, text: str) -> None:
        Screen.prompting = True
        prompt(self, text)

    def answered(self: Presenter) -> None:
        Screen.prompting = False
        unprompt(self)

    monkeypatch.setattr(render, "make_console", console)
    monkeypatch.setattr(Presenter, "prompt", showing)
    monkeypatch.setattr(Presenter, "unprompt", answered)
    monkeypatch.setattr("fooldigits.pad.keys.Keyboard", Student)
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(sys, "stdout", Terminal())  # the quiz's questions
    yield


def run_tutor(**options: Any) -> list[str]:
    from fooldigits.cli.classroom import tutor

    tutor(**{"chapter": None, "no_pause": False, "quick": True, "seed": 0, "html": None,
             "no_color": False, **options})
    return Student.presses


def as_shown_in_full() -> Any:
    """The sizes of `tutor` (not --quick) where they change what is shown -- the quiz's six
    questions -- and the quick computations elsewhere (the full story is a minute of CPU).
    The rest changes numbers, not rows: both counted 39 key presses per chapter alike at
    80 x 24 before the denser pages, and 35 and 34 alike after them (docs/tutor.md)."""
    import dataclasses

    from fooldigits.tutor import story

    return dataclasses.replace(story.Sizes.quick(), quiz_count=story.Sizes.full().quiz_count)


@pytest.mark.slow  # every chapter of the quick story: about 10-15 s of CPU each
@pytest.mark.parametrize("full", [False, True], ids=["tutor --quick", "tutor"])
def test_the_whole_story_at_80x24_takes_at_most_35_key_presses(
        monkeypatch: pytest.MonkeyPatch, full: bool) -> None:
    from fooldigits.tutor import story

    sizes = as_shown_in_full() if full else story.Sizes.quick()
    monkeypatch.setattr(story.Sizes, "quick", classmethod(lambda cls: sizes))
    with at_a_terminal(monkeypatch, 80, 24):
        presses = run_tutor()
    quiz = sizes.quiz_count
    assert presses.count("7") == quiz  # every question answered, once
    assert presses.count("enter") >= len(story.CHAPTERS)  # at least each chapter's end
    assert len(presses) <= MOST, f"{len(presses)} key presses at 80x24"
    assert Screen.console is not None
    text = CONTROL.sub("", Screen.console.file.getvalue())  # type: ignore[attr-defined]
    for chapter in story.CHAPTERS:  # nothing was lost on the way
        assert chapter.title in text
    assert "The end." in text
