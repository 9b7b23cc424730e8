"""The drawing pad's screen: where the canvas, the network's view and its bars go.

What this module teaches
------------------------
A full-screen layout is a list of lines built from pieces that know their width
(`screen.Piece`), so it can be counted without counting escape bytes. Two layouts:

- **full** (from `WIDTH` x `HEIGHT`, 100 x 34): the 56 x 56 canvas at one character per
  canvas column and two canvas rows per line, and on the right the large view's 28 x 28
  picture with the predicted digit in 5 x 7 figures, then both views' bars side by side;
- **compact** (from `SMALL`, 80 x 20, so the common 80 x 24): the canvas at half size
  (each character shows the mean of a 2 x 4 block of canvas pixels), the large view's
  picture with its bars beside it, and the reading in words.

`screen(pad, now)` picks the one `pad.compact` says; the pad's loop sets it from the
terminal's size before every frame, so a resized window gets the layout that fits it.

What it leaves out: the events (`drawpad.Pad.handle`) and the terminal (`screen.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fooldigits.pad.canvas import BRUSHES, SIZE
from fooldigits.pad.game import CHALLENGES
from fooldigits.pad.screen import Piece, bar_lines, big_digit, half_blocks, join, percent, text

if TYPE_CHECKING:
    from fooldigits.pad.drawpad import Pad

TOP = 1  # screen row of the canvas box
BOX = SIZE + 2  # the canvas box: 58 columns, 30 rows
RIGHT = BOX + 2  # first column of the right panel
WIDTH, HEIGHT = RIGHT + 40, TOP + SIZE // 2 + 2 + 3  # 100 x 34: the full layout
SMALL = (80, 20)  # the compact layout (half-size canvas, one view): what the pad needs
CURSOR = {"up": 46, "down": 196, "eraser": 33}  # green, red, blue
VIEWS = ("MNIST-style", "raw shrink")
HELP = ("mouse: drag draws, right button erases · arrows/hjkl: move · space: pen up/down",
        "x: eraser · +/-: brush · u: undo · c: clear · n: swap views · s: save PNG · q: quit")
SMALL_HELP = ("drag: draw · right button: erase · arrows/hjkl: move · space: pen · x: eraser",
              "+/-: brush · u: undo · c: clear · n: other view · s: save PNG · q: quit")
SMALL_GAME_HELP = "drag: draw · right: erase · arrows/hjkl, space: pen · x · +/- · u · c · q: quit"
GAME_HELP = ("mouse: draw (right: erase) · arrows/hjkl, space: pen · x · +/- · u undo · "
             "c clear · n: swap views")  # then the game's keys on a line, and "q: quit"


def screen(pad: Pad, now: float) -> list[str]:
    """The whole screen, one string per line (`HEIGHT` lines, `WIDTH` columns; with
    `compact`, at most SMALL)."""
    pad.read()
    state = "eraser" if pad.canvas.eraser else "down" if pad.pen_down else "up"
    if pad.compact:
        return _compact(pad, now, state)
    mark = (*pad.cursor, CURSOR[state])
    canvas = half_blocks(pad.canvas.pixels, pad.blocks, mark)
    edge = "\x1b[38;5;240m"
    left = [f"{edge}┌{'─' * SIZE}┐\x1b[0m"]
    left += [f"{edge}│\x1b[0m{row}{edge}│\x1b[0m" for row in canvas]
    left.append(f"{edge}└{'─' * SIZE}┘\x1b[0m")
    right = _panel(pad, state)
    out = [join([_title(pad, now)], WIDTH + 40)]
    out += [join([(row, BOX), text("  "), *panel], WIDTH + 40)
               for row, panel in zip(left, right, strict=True)]
    message = pad.message if pad.game is None else pad.game.message or pad.message
    out.append(join([text(message, "1;36")], WIDTH + 40))
    help_lines = HELP if pad.game is None else (GAME_HELP, pad.game.keys() + " · q: quit")
    return out + [join([text(h, "2")], WIDTH + 40) for h in help_lines]


def _title(pad: Pad, now: float, clock: bool = True) -> Piece:
    """The top line: in a game, the challenge (and with `clock`, the time and score)."""
    if pad.game is None:
        return text("fooldigits draw · the network reads your drawing as you draw", "1")
    g = pad.game
    return text(f"challenge {g.index + 1}/{len(CHALLENGES)}: {g.prompt()}"
                + (f"  {_clock(pad, now)}" if clock else ""), "1;33")


def _clock(pad: Pad, now: float) -> str:
    """'1:52 left · score 100' in a game ('score 100' between challenges), else ''."""
    if pad.game is None:
        return ""
    left = pad.game.left(now)
    clock = f"{int(left) // 60}:{int(left) % 60:02d} left · " if pad.game.phase == "draw" else ""
    return f"{clock}score {pad.game.total}"


def _shown(pad: Pad, title: str) -> tuple[str, list[str], np.ndarray | None]:
    """What the large view shows: its title, the picture's rows and the probabilities.
    The network's input in the chosen view, or a special image (an example) instead."""
    image, p = None, pad.large_p
    if pad.inputs is not None:
        image = pad.inputs[pad.large]
    if pad.special is not None:
        title, image, p = pad.special
    picture = half_blocks(np.zeros((28, 28)) if image is None else image.reshape(28, 28),
                          pad.blocks)
    return title, picture, p


def _panel(pad: Pad, state: str) -> list[list[Piece]]:
    """The right panel: 30 rows of pieces."""
    title, picture, p = _shown(pad, f"the network sees ({VIEWS[pad.large]}):")
    side = [text(row, "1;32") for row in big_digit(None if p is None else
                                                    int(np.argmax(p)))] + [text("")]
    side += [text("draw", "1"), text("something", "1")] if p is None else [
        text(percent(float(np.max(p))), "1"), text("sure")]
    rows: list[list[Piece]] = [[text(title, "1")]]
    for i, line in enumerate(picture):
        rows.append([(line, 28), text("  "), *(side[i:i + 1])])
    rows.append([])
    bars = [bar_lines(None if pad.p is None else pad.p[v], VIEWS[v], v == pad.large)
            for v in (0, 1)]
    rows += [[a, text("  "), b] for a, b in zip(*bars, strict=True)]
    rows += [[], []]
    rows.append([text(_where(pad, state), "2")])
    return rows


def _where(pad: Pad, state: str, clock: str = "") -> str:
    """The status line: pen, brush, and the cursor as row and column (or the `clock`)."""
    return (f"{'pen ' + state if state != 'eraser' else 'eraser'} · brush "
            f"{BRUSHES[pad.canvas.brush]:g} · " + (clock or f"row {pad.cursor[0]}, column "
                                                   f"{pad.cursor[1]}"))


def _compact(pad: Pad, now: float, state: str) -> list[str]:
    """The compact screen (80 x 20): the canvas at half size, one view, its bars."""
    width = SMALL[0]
    half = pad.canvas.pixels.reshape(SIZE // 2, 2, SIZE // 2, 2).mean(axis=(1, 3))
    mark = (pad.cursor[0] // 2, pad.cursor[1] // 2, CURSOR[state])
    edge = "\x1b[38;5;240m"
    side = SIZE // 2
    left = [f"{edge}┌{'─' * side}┐\x1b[0m"]
    left += [f"{edge}│\x1b[0m{row}{edge}│\x1b[0m" for row in half_blocks(half, pad.blocks,
                                                                      mark)]
    left.append(f"{edge}└{'─' * side}┘\x1b[0m")
    title, picture, p = _shown(pad, f"the network sees ({VIEWS[pad.large]}; n: other view)")
    beside = [*bar_lines(p, "probabilities", False), text("")]
    beside += [text("draw something", "1")] if p is None else [
        text(f"reads {int(np.argmax(p))}", "1;32"),
        text(f"{percent(float(np.max(p)))} sure")]
    right: list[list[Piece]] = [[text(title, "1")]]
    right += [[(line, 28), text(" "), *beside[i:i + 1]] for i, line in enumerate(picture)]
    # in a game the clock and score go here: the challenge alone fills the top line
    right.append([text(_where(pad, state, _clock(pad, now)), "2")])
    out = [join([_title(pad, now, clock=False)], width)]
    out += [join([(row, side + 2), text(" "), *panel], width)
               for row, panel in zip(left, right, strict=True)]
    message = pad.message if pad.game is None else pad.game.message or pad.message
    out.append(join([text(message, "1;36")], width))
    help_lines = SMALL_HELP if pad.game is None else (SMALL_GAME_HELP, pad.game.keys())
    return out + [join([text(h, "2")], width) for h in help_lines]
