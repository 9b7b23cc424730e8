"""The quiz's keyboard loop: one image at a time, one key for the answer.

What this module teaches
------------------------
Nothing about networks: it is the person's half of `experiments/quiz.py`. Each image is
drawn 28 cells wide and 14 lines high (two pixels a cell, `screen.half_blocks`), under a
line that says which question it is, so the whole screen fits 80x24. Keys:

    0-9   the digit you see            n   "not a digit"
    s     skip this one                q   stop (the rest count as skipped)

Every other key is ignored, so a stray arrow or a mouse click answers nothing.

`play` takes the key source and the writer as functions, so a test can play a whole quiz
without a terminal; `fooldigits quiz` passes `keys.read_key` and the terminal's stdout.
Keys typed before a question shows are forgotten (`forget`, called *before* the question
is written), so a double press answers one question only; a key typed once the question
is on the screen always counts, however late the program gets round to reading it.

What it leaves out: going back to change an answer (the first look is what counts).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fooldigits import Interrupted
from fooldigits.core.pieces import NOT_A_DIGIT
from fooldigits.pad.screen import half_blocks

CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear the screen
PROMPT = "0-9: the digit you see · n: not a digit · s: skip · q: stop"


def answer_of(key: str) -> int | str | None:
    """A key's meaning: a digit 0..9, NOT_A_DIGIT for n, None for s, "q", or "" (ignored)."""
    if len(key) == 1 and key.isdigit():
        return int(key)
    if key == "ctrl-c":  # Ctrl-C read as a key (a terminal that does not signal it)
        raise KeyboardInterrupt
    return {"n": NOT_A_DIGIT, "s": None, "q": "q", "esc": "q"}.get(key, "")


def screen(image: np.ndarray, number: int, total: int, blocks: bool) -> str:
    """One question: the heading, the image (14 lines of 28 cells) and the keys."""
    lines = [f"question {number} of {total}: what do you see?", ""]
    lines += ["  " + row for row in half_blocks(image.reshape(28, 28), blocks)]
    lines += ["", PROMPT]
    return CLEAR + "\r\n".join(lines) + "\r\n"


def play(images: np.ndarray, read: Callable[[], str], write: Callable[[str], None],
         blocks: bool = True, forget: Callable[[], None] = lambda: None) -> list[int | None]:
    """Ask about every image (n, 784); return the answers (None: skipped or not reached).
    `forget()` drops the keys typed so far; `read()` must not drop any itself.

    Ctrl-C stops like q, but raises `Interrupted` carrying the answers so far (`partial`),
    so that the caller can show and save them and still exit as interrupted."""
    answers: list[int | None] = [None] * len(images)
    for i, image in enumerate(images):
        try:  # (Ctrl-C while the question is drawn keeps the answers too)
            forget()  # before the question shows: after it, a key typed at once is lost
            write(screen(image, i + 1, len(images), blocks))
            while (answer := answer_of(read())) == "":
                pass  # a key that means nothing here
        except KeyboardInterrupt:
            write(CLEAR)
            raise Interrupted(f"stopped at question {i + 1} of {len(images)}; your "
                              "answers so far are above", partial=answers) from None
        if answer == "q":
            break
        answers[i] = answer if isinstance(answer, int) else None
    write(CLEAR)
    return answers
