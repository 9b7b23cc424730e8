"""The drawing pad: draw in the terminal and watch the network read it, stroke by stroke.

What this module teaches
------------------------
The blog post this project started from turned when its author drew a '2' to the edges
of a paint program's canvas and the network said '5' at 99.9%. `fooldigits draw` puts
that paint program in the terminal, with the network reading along. This module is the
pad's state, `Pad`: everything on screen, changed only by events (`Pad.handle`) and
read by the network once per batch of them (`Pad.read`):

- on the left the 56 x 56 canvas (`canvas.Canvas`), drawn with the mouse or the keyboard;
- on the right the 28 x 28 picture the network receives for the large view (`n` swaps
  MNIST-style and the raw shrink), the predicted digit in large figures with its
  confidence, and the ten probabilities of *both* views as bars, side by side.

That needs 100 x 34 characters (`WIDTH`, `HEIGHT`). On a smaller terminal, down to 80 x 20
(`SMALL`), the pad is compact: the canvas drawn at half size (each character two canvas
pixels wide and four tall; the mouse still paints at full resolution around the cell it
points at), the large view's picture with its bars beside it, and the reading in words.

Worked example (no terminal needed; `session.run` is the loop that feeds a real one):

    >>> pad = Pad(load_model())
    >>> pad.handle(Key(" "), 0.0)   # pen down at the middle of the canvas
    True
    >>> pad.handle(Key("down"), 0.0)  # a short stroke, STEP = 2 canvas pixels
    True
    >>> pad.read(); pad.p.shape       # both views, one forward pass
    (2, 10)

What it leaves out: the terminal and its loop (`session.py`), how the screen is laid out
(`layout.py`), the game's rules (`game.py`), a colour picker, and saving in any format but
PNG.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.models.base import Classifier
from fooldigits.pad import layout
from fooldigits.pad.canvas import SIZE, Canvas, paper
from fooldigits.pad.game import Game, evolution_summary, seeded_evolution
from fooldigits.pad.keys import Key, Mouse
from fooldigits.pad.layout import TOP, VIEWS
from fooldigits.pad.screen import percent

STEP = 2  # canvas pixels the keyboard cursor moves per key


class Pad:
    """Everything on screen, changed only through `handle` (events) and `read`."""

    def __init__(self, net: Classifier, blocks: bool = True, out: Path | None = None,
                 game: Game | None = None) -> None:
        self.net, self.blocks, self.out, self.game = net, blocks, out, game
        self.canvas = Canvas()
        self.cursor = (SIZE // 2, SIZE // 2)
        self.pen_down = False  # the keyboard pen
        self.mouse_down = False
        self.eraser = False
        self.large = 0  # which view is large: 0 MNIST-style, 1 raw shrink
        self.message = ""
        self.saved: list[tuple[Path, str]] = []
        self.inputs: np.ndarray | None = None  # (2, 784) the two views
        self.p: np.ndarray | None = None  # (2, 10) their probabilities
        self.stale = True
        self.special: tuple[str, np.ndarray, np.ndarray] | None = None  # the GA's picture
        self.judged: np.ndarray | None = None  # (784,) the picture the game last scored
        self.compact = False  # the layout for a terminal under WIDTH x HEIGHT (run sets it)

    # -- reading ---------------------------------------------------------------------
    def read(self) -> None:
        """If the canvas changed: both views, and one forward pass for the two."""
        if not self.stale:
            return
        views = self.canvas.views()
        self.inputs = None if views is None else np.stack(views)  # (2, 784)
        self.p = None if self.inputs is None else self.net.probabilities(self.inputs)
        self.stale = False

    @property
    def large_p(self) -> np.ndarray | None:
        self.read()
        return None if self.p is None else self.p[self.large]

    # -- events ----------------------------------------------------------------------
    def handle(self, event: Key | Mouse, now: float) -> bool:
        """Apply one event; False means quit."""
        if isinstance(event, Mouse):
            self._mouse(event)
            return True
        key = event.name
        if self.game is not None:
            round_before, scored = self.game.index, len(self.game.scores)
            if self.game.handle(key, self.large_p, now):
                self._scored(scored)
                if self.game.index != round_before:  # a new challenge: a fresh canvas
                    fresh = Canvas()
                    fresh.brush, fresh.eraser = self.canvas.brush, self.eraser
                    self.canvas, self.special, self.stale = fresh, None, True
                    self.pen_down = self.mouse_down = False
                return self.game.phase != "done"
        if key in ("q", "ctrl-c"):
            return False
        if key == "esc":  # a stray Esc, or the ESC of a garbled key sequence, must not
            self.message = "Esc does not quit, so a stray one loses nothing: q quits"
            return True  # end the session and lose the drawing: only q and Ctrl-C do
        moves = {"up": (-1, 0), "k": (-1, 0), "down": (1, 0), "j": (1, 0),
                 "left": (0, -1), "h": (0, -1), "right": (0, 1), "l": (0, 1)}
        if key in moves:
            dr, dc = moves[key]
            self.cursor = (int(np.clip(self.cursor[0] + STEP * dr, 0, SIZE - 1)),
                           int(np.clip(self.cursor[1] + STEP * dc, 0, SIZE - 1)))
            if self.pen_down:
                self._paint(*self.cursor)
        elif key == " ":
            self.pen_down = not self.pen_down
            self.canvas.lift()
            if self.pen_down:
                self.canvas.eraser = self.eraser
                self._paint(*self.cursor)
        elif key == "x":
            self.eraser = self.canvas.eraser = not self.eraser
        elif key in ("+", "=", "-", "_"):
            self.canvas.resize_brush(1 if key in "+=" else -1)
        elif key == "u":
            self._changed()
            self.message = "" if self.canvas.undo() else "nothing to undo"
        elif key == "c":
            self.canvas.clear()
            self._changed()
        elif key == "n":
            self.large = 1 - self.large
        elif key == "s":
            self.save()
        return True

    def tick(self, now: float, rng: np.random.Generator,
             show: Callable[[], bool] = lambda: False) -> None:
        """The game's clock, and the GA when the student asked for it (`e`)."""
        if self.game is None:
            return
        scored = len(self.game.scores)
        self.game.tick(self.large_p, now)
        self._scored(scored)
        if self.game.evolve_requested:
            self.evolve(rng, show)

    def evolve(self, rng: np.random.Generator, show: Callable[[], bool]) -> None:
        """Challenge 3's finish: the GA from the judged picture; `show()` redraws about
        ten times a second and returns True to stop it."""
        assert self.game is not None and self.judged is not None
        start, last = self.judged, 0.0
        runs = seeded_evolution(self.net, self.game.target, start, rng)
        while True:
            try:
                event = next(runs)
            except StopIteration as done:  # the GA returned its runs
                summary, image = evolution_summary(start, done.value)
                self.game.evolved(summary)
                self.special = (f"the GA's picture: {summary.changed} pixels changed", image,
                                self.net.probabilities(image)[0])
                return
            if time.monotonic() - last > 0.1:
                last = time.monotonic()
                self.special = (f"evolving: generation {event.generation}", event.best_image,
                                self.net.probabilities(event.best_image)[0])
                if show():
                    break
        self.game.evolve_requested, self.special = False, None
        self.game.message = "stopped the genetic algorithm"

    def _scored(self, before: int) -> None:
        """Keep the picture the game just scored: the GA starts from it."""
        if self.game is not None and len(self.game.scores) > before and self.inputs is not None:
            self.judged = self.inputs[self.large].copy()

    def _mouse(self, event: Mouse) -> None:
        if self.compact:  # a character is 2 canvas pixels wide and 4 tall: its middle
            row, col = 4 * (event.y - TOP - 1) + 1.5, 2 * (event.x - 1) + 0.5
        else:
            row, col = 2 * (event.y - TOP - 1) + 0.5, float(event.x - 1)
        inside = -1 <= col <= SIZE and -2 <= row <= SIZE + 1
        if event.action == "press" and event.button in (0, 2) and inside:
            self.pen_down, self.mouse_down = False, True
            self.canvas.lift()
            self.canvas.eraser = self.eraser or event.button == 2
            self._paint(row, col)
        elif event.action == "drag" and self.mouse_down:
            self._paint(row, col)
        elif event.action == "release" and self.mouse_down:
            self.mouse_down = False
            self.canvas.lift()
            self.canvas.eraser = self.eraser
        elif event.action == "wheel" and inside:
            self.canvas.resize_brush(1 if event.button == 0 else -1)

    def _paint(self, row: float, col: float) -> None:
        self.canvas.stroke(row, col)
        self.cursor = (int(np.clip(round(row), 0, SIZE - 1)), int(np.clip(col, 0, SIZE - 1)))
        self._changed()

    def lines(self, now: float) -> list[str]:
        """The whole screen, one string per line (layout.py: full, or compact)."""
        return layout.screen(self, now)

    def _changed(self) -> None:
        self.stale, self.special = True, None
        if self.game is None or self.game.phase != "result":
            self.message = ""

    def save(self) -> None:
        """`s`: the canvas as a PNG, dark ink on white (what a paint program saves)."""
        if self.canvas.empty:
            self.message = "nothing to save yet: the canvas is empty"
            return
        path = self.out or next((Path(f"drawing-{i}.png") for i in range(1, 10_000)
                                 if not Path(f"drawing-{i}.png").exists()), None)
        if path is None:
            self.message = "drawing-1.png ... drawing-9999.png all exist: use --out"
            return
        try:
            save_png(self.canvas.pixels, path)
        except FoolDigitsError as err:
            self.message = str(err)
            return
        self.read()
        assert self.p is not None
        reading = ", ".join(f"{VIEWS[v]} {int(np.argmax(self.p[v]))} "
                            f"({percent(float(np.max(self.p[v])))})" for v in (0, 1))
        self.saved.append((path, reading))
        self.message = f"saved {path}"

def save_png(pixels: np.ndarray, path: Path) -> None:
    """Write the canvas (56, 56) as a 448 x 448 PNG, dark ink on white, atomically."""
    from PIL import Image

    from fooldigits.core.writing import atomic_write

    picture = Image.fromarray(paper(pixels), mode="L")
    atomic_write(Path(path), lambda f: picture.save(f, format="PNG"))
