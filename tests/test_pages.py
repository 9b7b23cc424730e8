"""The tutor's pages at 80 x 24 without a terminal: pieces cut where a reader can stop,
screens filled before a pause, nothing scrolled out of sight before the student has read
it, and a terminal resized during a pause obeyed by what is drawn after it."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Generator

import numpy as np
from rich.console import Console

from fooldigits.core.pieces import Bars, Generation, Images, Say, Step, Table
from fooldigits.present import pages, render
from fooldigits.present.presenter import Output, Presenter

CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")  # cursor moves of the live view


def terminal(columns: int = 80, rows: int = 24) -> Console:
    return Console(width=columns, height=rows, force_terminal=True, color_system=None,
                   file=io.StringIO(), highlight=False, legacy_windows=False)


class Screens:
    """A presenter on a fake terminal whose pager counts the pauses and cuts the output
    into the screens the student sees at each (`resize`: the size to switch to at a pause)."""

    def __init__(self, columns: int = 80, rows: int = 24,
                 resize: tuple[int, int] | None = None) -> None:
        self.presenter = Presenter(Output())
        self.presenter.console = terminal(columns, rows)
        self.presenter.blocks = False
        self.presenter.pager = self.pause
        self.resize = resize
        self.cuts: list[int] = []

    @property
    def text(self) -> str:
        file = self.presenter.console.file
        assert isinstance(file, io.StringIO)
        return file.getvalue()

    def pause(self) -> None:
        self.cuts.append(len(self.text))
        if self.resize is not None:
            self.presenter.console.size = self.resize

    def screens(self) -> list[list[str]]:
        """The lines printed between pauses (the live view's cursor moves left out)."""
        text, bounds = self.text, [0, *self.cuts, len(self.text)]
        return [[line for line in CONTROL.sub("", text[a:b]).split("\n") if line]
                for a, b in itertools.pairwise(bounds)]

    def run(self, *items: object) -> None:
        def stream() -> Generator[object, None, None]:
            yield from items

        self.presenter.run(stream())


def grid(n: int, caption: str = "digit") -> Images:
    return Images(f"{n} images", np.ones((n, 784), np.float32),
                  [f"{caption} {i}" for i in range(n)])


def rows(n: int) -> Say:
    """A sentence n rows high at 80 columns (a sentence holds no newline)."""
    return Say("y" * (80 * n))


def test_pieces_are_cut_between_rows_and_lines() -> None:
    console = terminal()
    ten = grid(10)
    assert pages.places(ten, console, small=True) == 2  # five to a row at half size
    first, rest = pages.head(ten, 1, console, True), pages.tail(ten, 1, console, True)
    assert isinstance(first, Images) and isinstance(rest, Images)
    assert len(first.images) == 5 and first.title == ten.title and rest.title == ""
    assert list(rest.captions) == [f"digit {i}" for i in range(5, 10)]
    table = Table("t", ["a", "b"], [(i, i * i) for i in range(6)])
    assert pages.places(table, console, True) == 6
    assert len(pages.head(table, 4, console, True).rows) == 4  # type: ignore[attr-defined]
    assert pages.tail(table, 6, console, True) is None
    words = " ".join(f"word{i}" for i in range(60))  # about five lines at 80 columns
    say = Say(words)
    cut = pages.places(say, console, True)
    assert cut >= 4
    top, bottom = pages.head(say, 2, console, True), pages.tail(say, 2, console, True)
    assert isinstance(top, Say) and isinstance(bottom, Say)
    assert f"{top.text} {bottom.text}" == words  # nothing lost, nothing repeated
    confusion = Table("m", ["", "0", "1"], [("0", 5, 1), ("1", 0, 6)], diagonal=True)
    assert pages.places(confusion, console, True) == 1  # a confusion matrix stays whole
    assert pages.largest(3, lambda k: 9 * k + 1, room=20) == 2
    assert pages.keep_with(1, 10, room=5, page=23) and not pages.keep_with(1, 10, 12, 23)


def test_screens_are_filled_and_never_overflow() -> None:
    screens = Screens()
    screens.run(Say("A sentence."), grid(10), grid(10), Table("numbers", ["n", "square"],
                [(i, i * i) for i in range(12)]), Say("The end of it."))
    shown = screens.screens()
    assert all(len(screen) <= 23 for screen in shown), [len(s) for s in shown]
    # 1 + 17 + 17 + 15 + 1 rows on three screens: the second grid waits for the next
    # screen (not one row of it fits), the table is cut to fill that one
    assert [len(screen) for screen in shown] == [18, 23, 12]
    assert sum(len(screen) for screen in shown) == 1 + 17 + 17 + 15 + 1 + 2  # header again
    text = " ".join(" ".join(screen) for screen in shown)
    assert all(f"digit {i}" in text for i in range(10)) and "The end of it." in text


def test_a_sentence_goes_with_the_figure_it_introduces() -> None:
    screens = Screens()
    screens.run(rows(14), Say("These ten digits:"), grid(10))
    first = screens.screens()[0]
    assert "These ten digits:" not in " ".join(first)  # it waited for its figure
    assert "These ten digits:" in screens.screens()[1][0]


def test_narrow_tables_go_side_by_side() -> None:
    screens = Screens()
    a = Table("left", ["round", "share"], [(0, "40%"), (1, "0%")])
    b = Table("right", ["round", "steps"], [(0, 18), (1, 28)])
    screens.run(a, b)
    rows = screens.screens()[0]
    assert any("left" in row and "right" in row for row in rows)
    assert len(rows) == 5  # the height of one of them


def test_a_resize_during_a_pause_is_obeyed_by_what_comes_after_it() -> None:
    """The piece that waited for the key is drawn at the new size: at 160 x 48 full size,
    five to a row; after shrinking to 80 x 24, half size with every caption whole (it was
    drawn as it had been laid out for 160 columns, its digits cut and captions shifted)."""
    screens = Screens(160, 48, resize=(80, 24))
    captions = "the mean"
    screens.run(grid(15), grid(10, captions))  # 46 of 47 rows, then the second grid waits
    assert len(screens.cuts) == 1 and captions not in " ".join(screens.screens()[0])
    after = screens.screens()[1]
    assert max(len(row) for row in after) <= 80
    art = [row for row in after if set(row.strip()) <= set(render.RAMP) and row.strip()]
    assert art and {len(row.rstrip()) for row in art} == {78}  # five at half size, whole
    assert sum(row.count(captions) for row in after) == 10  # every caption once, whole


def test_the_live_view_keeps_to_the_rows_left_under_the_screen() -> None:
    event = Generation(2, 5, 0.9, 0.5, np.zeros(784, np.float32), 0, 1)
    with_image = render.progress(event, True, rows=8, small=True)
    without = render.progress(event, True, rows=7, small=True)
    console = terminal()
    assert with_image is not None and without is not None
    assert len(console.render_lines(with_image, pad=False)) == 8  # the line and 7 of art
    assert len(console.render_lines(without, pad=False)) == 1
    long = Step("classifying 10,000 test digits with k = 50 (3-NN searches 50,000 images)",
                3000, 10_000)
    live = render.progress(long, True, 2, True, width=80)
    assert live is not None
    line = console.render_lines(live, pad=False)
    assert len(line) == 1 and "3,000/10,000" in "".join(s.text for s in line[0])


def test_a_full_screen_leaves_the_live_view_one_row() -> None:
    screens = Screens()
    screens.presenter.hint = "computing · n: skip"
    screens.run(rows(23), Step("working", 1, 4), Bars("b", ["a"], [1.0]))
    assert "working" in screens.text  # the progress line in the one row left
    assert "computing" not in screens.text  # no room for the hint under it
    screens = Screens()
    screens.presenter.hint = "computing · n: skip"
    screens.run(rows(22), Step("working", 1, 4), Bars("b", ["a"], [1.0]))
    assert "computing" in screens.text
