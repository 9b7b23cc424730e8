"""Pictures on a small terminal: half-size digits at 80 x 24, captions and table cells
wrapped, never cut."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console

from fooldigits.core.pieces import Images, Step
from fooldigits.present import render


def lines(renderable: object, width: int = 80) -> list[str]:
    console = Console(width=width, height=24, color_system=None, force_terminal=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get().rstrip("\n").split("\n")


def test_a_small_digit_is_half_size_and_keeps_the_picture() -> None:
    image = np.zeros((28, 28))
    image[:, 14:] = 1  # right half white
    art = render.digit_art(image.ravel(), blocks=False, small=True).plain.split("\n")
    assert len(art) == 7 and {len(row) for row in art} == {14}
    assert all(row[:7] == " " * 7 and row[7:] == "@" * 7 for row in art)
    assert np.allclose(render.half_size(image), image[::2, ::2])


def test_ten_digits_fit_a_small_screen_with_every_caption_whole() -> None:
    captions = [f"noise 10%: says {d}" for d in range(10)]
    small = lines(render.piece(Images("ten", np.zeros((10, 784)), captions), False, 80, True))
    assert len(small) <= 1 + 2 * (7 + 2)  # title, two rows of art and two-line captions
    assert max(len(row) for row in small) <= 80
    text = " ".join(" ".join(small).split())
    assert "…" not in text and all(f"says {d}" in text for d in range(10))
    full = lines(render.piece(Images("ten", np.zeros((10, 784)), captions), False, 80, False))
    assert len(full) > 3 * len(small)
    assert render.small_screen(80, 24) and not render.small_screen(160, 48)


def test_a_table_too_wide_wraps_its_cells() -> None:
    rows = [("784-100-100-10 seed 4", "12.0%", "38.0%", "36.0%", "32.0%")]
    shown = " ".join(lines(render.table("t", ["made on", "784-100-100-10 seed 4", "b", "c",
                                              "d"], rows), width=56))
    assert "…" not in shown and "784-100-100-1" in shown


def test_a_narrow_table_wraps_between_words_and_never_splits_a_header() -> None:
    """The quiz's table at 80 columns, as the tutor's meaning chapter draws it: Rich alone
    narrowed the widest columns to one width and split 'generati' / 've' while 'key' and
    'you' kept room to spare."""
    from fooldigits.core.pieces import Table

    columns = ["#", "kind", "key", "you", "dense", "robust", "linear", "conv", "generative"]
    rows = [(1, "fooling", "not a digit", "not a digit", "✗ 5", "✗ 5", "✗ 5", "✗ 4",
             "not a digit"), (4, "edge", "8", "8", "8", "8", "8", "8", "✗ not a digit")]
    for small in (True, False):
        shown = lines(render.piece(Table("the quiz", columns, rows), False, 80, small))
        assert max(len(row) for row in shown) <= 80
        words = " ".join(shown).replace("│", " ").replace("┃", " ").split()
        assert all(name in words for name in columns), (small, shown)
        assert words.count("digit") == 4  # every "not a digit" wrapped whole


def test_a_step_of_one_part_is_a_spinner_without_a_count() -> None:
    one = lines(render.progress(Step("classifying", 0, 1), False, 24))
    assert "0/1" not in one[0] and "classifying" in one[0]
    assert "3/8" in lines(render.progress(Step("noise", 3, 8), False, 24))[0]


def test_a_packed_grid_puts_its_columns_in_a_row_at_quarter_size() -> None:
    """The retraining grid (30 images, ten to a row) on a small terminal: three rows of
    ten at quarter size, 7 x 4 cells each, no wider than 80 columns; elsewhere as usual."""
    captions = [f"blank {d}" for d in range(10)] * 3
    grid = Images("thirty", np.ones((30, 784)), captions, packed=True)
    small = lines(render.piece(grid, False, 80, True))
    assert len(small) == 1 + 3 * (4 + 1) and max(len(row) for row in small) <= 80
    assert all(f"blank {d}" in " ".join(small) for d in range(10))
    assert render.grid_row(grid, 80, True) == 10 and render.grid_row(grid, 160, False) == 5
    assert render.quarter_size(np.ones((28, 28))).shape == (8, 7)
    unpacked = Images("thirty", np.ones((30, 784)), captions)
    assert len(lines(render.piece(unpacked, False, 80, True))) > 2 * len(small)


def test_columns_zero_still_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    # With COLUMNS=0, `fooldigits show` printed nothing and exited 0.
    monkeypatch.setenv("COLUMNS", "0")
    console = render.make_console(no_color=True)
    with console.capture() as capture:
        console.print(render.table("t", ["digit", "share"], [(1, "50%")]))
    assert console.width == 80 and "digit" in capture.get()


def test_a_table_title_runs_as_wide_as_the_screen_not_the_table() -> None:
    """At 160 columns the generative chapter's title of a five-column table took three
    lines, wrapped to the table's own width; above the table it takes one."""
    from fooldigits.core.pieces import Table

    title = ("what fools it (a '2' at 99.99%); r: the mean fooling image's correlation with "
             "the mean real '2'; then the share each network reads as '2'")
    def shown(width: int, small: bool) -> list[str]:
        piece = Table(title, ["attack", "r"], [("ga", 0.5)])
        return lines(render.piece(piece, True, width, small), width)

    assert shown(160, small=False)[0].strip() == title  # one line
    assert " ".join(" ".join(shown(80, small=True)[:2]).split()) == title  # two lines
