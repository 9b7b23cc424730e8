"""The quiz: its images, its keys, its report, and a whole game played in a pseudo-terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Generator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from fooldigits import Interrupted
from fooldigits.core.data import Dataset
from fooldigits.core.pieces import NOT_A_DIGIT, Images, Table
from fooldigits.experiments import quiz
from fooldigits.models.network import Network
from fooldigits.pad.answers import play

R = TypeVar("R")


def _drain(stream: Generator[object, None, R]) -> tuple[list[object], R]:
    events: list[object] = []
    try:
        while True:
            events.append(next(stream))
    except StopIteration as stop:
        return events, stop.value


def test_items_make_every_kind_and_the_fooling_ones_fool(shipped: Network,
                                                         mnist: Dataset) -> None:
    _, made = _drain(quiz.items(mnist, shipped, 14, np.random.default_rng(2)))
    assert len(made.images) == len(made.kinds) == len(made.truth) == 14
    assert made.images.dtype == np.float32 and made.images.min() >= 0 and made.images.max() <= 1
    kinds = set(made.kinds)
    assert {"fooling", "real"} <= kinds and len(kinds) >= 4
    fooling = [i for i, k in enumerate(made.kinds) if k == "fooling"]
    assert all(made.truth[i] == NOT_A_DIGIT for i in fooling)
    assert shipped.probabilities(made.images[fooling]).max(axis=1).min() >= 0.9999
    real = [i for i, k in enumerate(made.kinds) if k != "fooling"]
    assert all(0 <= made.truth[i] <= 9 for i in real)


def test_play_takes_one_key_an_image_and_ignores_the_rest() -> None:
    keys = iter(["x", "7", "up", "n", "s", "3"])
    shown: list[str] = []
    answers = play(np.zeros((4, 784), np.float32), lambda: next(keys), shown.append, False)
    assert answers == [7, NOT_A_DIGIT, None, 3]
    assert "question 1 of 4" in shown[0] and "question 4 of 4" in shown[3]
    keys = iter(["2", "q"])
    assert play(np.zeros((3, 784), np.float32), lambda: next(keys), shown.append,
                False) == [2, None, None]
    keys = iter(["2", "s", "ctrl-c"])  # Ctrl-C as a key: stop, and say what was given
    with pytest.raises(Interrupted, match="question 3 of 4") as stop:
        play(np.zeros((4, 784), np.float32), lambda: next(keys), shown.append, False)
    assert stop.value.partial == [2, None, None, None]


def test_a_key_typed_the_moment_a_question_shows_counts_and_a_double_press_once() -> None:
    """`play` forgets the keys typed so far *before* it writes a question, never after:
    a key typed once the question shows counts, however late `read` starts (forgetting
    after the write lost it on a busy machine, and the quiz waited for ever), and a key
    pressed twice answers one question only."""
    pending: list[str] = []
    student = iter([["7", "7"], ["n"], ["3"]])  # each answer typed as its question shows

    def write(text: str) -> None:
        if "question" in text:
            pending.extend(next(student))

    def read() -> str:
        assert pending, "the key typed for this question was lost"
        return pending.pop(0)

    assert play(np.zeros((3, 784), np.float32), read, write, False,
                pending.clear) == [7, NOT_A_DIGIT, 3]

    def interrupted(text: str) -> None:  # Ctrl-C while question 2 is being drawn
        if "question 2" in text:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match="question 2 of 3") as stop:
        play(np.zeros((3, 784), np.float32), lambda: "4", interrupted, False)
    assert stop.value.partial == [4, None, None]  # the answer given is kept


def test_report_scores_the_student_and_every_model(shipped: Network, mnist: Dataset) -> None:
    x, y = mnist.test_images[:4], mnist.test_labels[:4].astype(int)
    made = quiz.Quiz(["real"] * 3 + ["fooling"], [*y[:3].tolist(), NOT_A_DIGIT],
                     np.concatenate([x[:3], np.random.default_rng(0).random((1, 784),
                                                                          dtype=np.float32)]))
    student = [int(y[0]), (int(y[1]) + 1) % 10, None, NOT_A_DIGIT]
    events, result = _drain(quiz.report(made, student, [("dense", shipped)]))
    assert result.student_score == 2 / 3  # answered 3: right, wrong, right
    said = shipped.predict(made.images)
    assert result.agreement["dense"] == float(np.mean([said[i] == made.truth[i]
                                                      for i in (0, 1, 3)]))
    assert result.questions[3]["key"] == "not a digit" and result.questions[2]["student"] == "-"
    assert any(isinstance(e, Table) for e in events)
    assert any(isinstance(e, Images) for e in events)  # at least question 2 disagrees
    # every model's share, too, is over the answered images only: the title says so (it
    # read "agreement with the key", and a model right on the skipped one showed 0%)
    assert [e.title for e in events if isinstance(e, Table)][1] == (
        "agreement with the key (over the 3 images you answered, not the 1 you skipped)")
    events, _ = _drain(quiz.report(made, [1, 2, 3, 4], [("dense", shipped)]))
    assert [e.title for e in events if isinstance(e, Table)][1] == "agreement with the key"


def test_a_disagreement_caption_names_only_the_networks_that_differ_from_the_student(
        shipped: Network, mnist: Dataset) -> None:
    """At 80 columns a caption is cut after about 30 characters: listing every network
    cut away the very one that disagreed (`you: 8; dense: 8, robust: 8…`)."""
    from fooldigits.models import load_model

    linear = load_model(Path(quiz.__file__).parents[1] / "models" / "linear.npz")
    x, y = mnist.test_images[:500], mnist.test_labels[:500].astype(int)
    dense_said, linear_said = shipped.predict(x), linear.predict(x)
    split = np.flatnonzero((dense_said == y) & (linear_said != y))
    assert len(split) >= 2  # the linear model misreads a few digits the dense net reads
    made = quiz.Quiz(["real"] * 2, y[split[:2]].tolist(), x[split[:2]])
    events, _ = _drain(quiz.report(made, y[split[:2]].tolist(),
                                   [("dense", shipped), ("linear", linear)]))
    shown = next(e for e in events if isinstance(e, Images))
    for k, (caption, i) in enumerate(zip(shown.captions, split[:2], strict=True)):
        assert caption == f"#{k + 1} you: {y[i]}; linear: {linear_said[i]}"
    # when several differ, the caption counts them (the table names each) and stays short
    events, _ = _drain(quiz.report(made, [int(linear_said[i]) for i in split[:2]],
                                   [("dense", shipped), ("linear", linear), ("again", shipped)]))
    shown = next(e for e in events if isinstance(e, Images))
    assert shown.captions == [f"#{k + 1} you: {linear_said[i]}; 2 models differ"
                              for k, i in enumerate(split[:2])]
    assert all(len(c) <= 28 for c in shown.captions)


class Terminal:
    """A fooldigits command in an 80x24 pseudo-terminal: read its screen, type keys."""

    def __init__(self, *args: str) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fooldigits", *args], stdin=self.slave, stdout=self.slave,
            stderr=self.slave, start_new_session=True)
        self.screen = b""

    def read(self) -> bool:
        """Whatever the command wrote since; False once the terminal is closed."""
        if select.select([self.master], [], [], 0.1)[0]:
            try:
                self.screen += os.read(self.master, 65536)
            except OSError:
                return False
        return True

    def until(self, marker: bytes, seconds: float = 60) -> None:
        end = time.monotonic() + seconds
        while marker not in self.screen:
            assert time.monotonic() < end, f"no {marker!r} in {self.screen[-400:]!r}"
            self.read()

    def answer(self, keys: list[bytes]) -> None:
        """One key per question, each typed the moment the question is on the screen (no
        pause: a key typed then must count, however busy the machine)."""
        for number, key in enumerate(keys, 1):
            self.until(f"question {number} of {len(keys)}".encode())
            os.write(self.master, key)

    def finish(self, seconds: float = 60) -> int:
        """Keep reading until the command ends (a full pty would stop it); its exit code."""
        end = time.monotonic() + seconds
        while self.process.poll() is None and self.read():
            assert time.monotonic() < end, self.screen[-400:]
        code = self.process.wait(timeout=10)
        os.close(self.master)
        os.close(self.slave)
        return code


def test_a_whole_quiz_in_a_pseudo_terminal(tmp_path: Path) -> None:
    out = tmp_path / "answers.json"
    terminal = Terminal("quiz", "--count", "3", "--seed", "5", "--name", "Ada", "--json",
                        str(out))
    terminal.answer([b"7", b"n", b"4"])
    assert terminal.finish() == 0, terminal.screen[-400:]
    assert b"agreement" in terminal.screen and b"question 3 of 3" in terminal.screen
    saved = json.loads(out.read_text())
    assert saved["student"] == "Ada" and len(saved["questions"]) == 3
    assert [q["student"] for q in saved["questions"]] == ["7", "not a digit", "4"]
    assert {"dense", "robust"} <= set(saved["agreement"])


def test_ctrl_c_keeps_the_answers_given_as_q_does(tmp_path: Path) -> None:
    """Ctrl-C at question 2 used to drop the student's first answer and the table: now
    the table and the JSON hold it, then the quiz ends as interrupted (exit 130)."""
    out = tmp_path / "answers.json"
    terminal = Terminal("quiz", "--count", "3", "--seed", "5", "--json", str(out))
    terminal.until(b"question 1 of 3")
    os.write(terminal.master, b"7")
    terminal.until(b"question 2 of 3")  # (maybe still being drawn: Ctrl-C keeps the 7 too)
    os.killpg(terminal.process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    assert terminal.finish() == 130, terminal.screen[-400:]
    assert b"agreement" in terminal.screen and b"stopped at question 2 of 3" in terminal.screen
    saved = json.loads(out.read_text())
    assert [q["student"] for q in saved["questions"]][:2] == ["7", "-"]

def test_the_tutor_ends_with_the_quiz_at_a_terminal() -> None:
    """The last chapter asks (Sizes.quick: 2 questions), then shows the table."""
    terminal = Terminal("tutor", "--chapter", "meaning", "--quick", "--seed", "5")
    terminal.answer([b"7", b"n"])
    terminal.until(b"agreement with the key")
    at, end = terminal.screen.index(b"agreement with the key"), time.monotonic() + 60
    pauses = (b"more below", b"r: again with a new seed")  # the pager, or the chapter's end
    while not any(pause in terminal.screen[at:] for pause in pauses):
        assert time.monotonic() < end, terminal.screen[-400:]
        terminal.read()
    os.write(terminal.master, b"q")  # at once: a key typed once a pause shows counts
    assert terminal.finish(30) == 0, terminal.screen[-400:]
    text = terminal.screen.decode(errors="replace")
    assert "you" in text and "generative" in text  # the student's column beside the models'


def test_the_web_page_names_the_student(tmp_path: Path) -> None:
    # --name went into the JSON only: thirty students' pages were all "fooldigits quiz".
    from typer.testing import CliRunner

    from fooldigits.cli import app

    page = tmp_path / "ada.html"
    result = CliRunner().invoke(app, ["quiz", "--count", "1", "--no-pause", "--name",
                                      "Ada <L>", "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert "<title>fooldigits quiz: Ada &lt;L&gt;</title>" in page.read_text()


def test_a_quiz_not_asked_still_shows_its_images(tmp_path: Path) -> None:
    # Not on a terminal (the tutor's handout page, --no-pause) the table named "#1 fooling,
    # #2 fgsm" and every network's answer, but no page or screen ever showed the images.
    from typer.testing import CliRunner

    from fooldigits.cli import app

    page = tmp_path / "quiz.html"
    result = CliRunner().invoke(app, ["quiz", "--count", "3", "--no-pause", "--html",
                                      str(page)])
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert text.count("<img") == 3 and "images (#: the question in the table below)" in text
    assert [f"<figcaption>#{i}</figcaption>" in text for i in (1, 2, 3)] == [True] * 3
