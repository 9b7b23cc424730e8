"""The drawing pad: draw in the terminal and watch the network read it, stroke by stroke.

What this module teaches
------------------------
The blog post this project started from turned when its author drew a '2' to the edges
of a paint program's canvas and the network said '5' at 99.9%. `fooldigits draw` puts
that paint program in the terminal, with the network reading along:

- on the left the 56 x 56 canvas (`canvas.Canvas`), drawn with the mouse or the keyboard;
- on the right the 28 x 28 picture the network receives for the large view (`n` swaps
  MNIST-style and the raw shrink), the predicted digit in large figures with its
  confidence, and the ten probabilities of *both* views as bars, side by side.

That needs 100 x 34 characters (`WIDTH`, `HEIGHT`). On a smaller terminal, down to 80 x 20
(`SMALL`), the pad is compact: the canvas drawn at half size (each character two canvas
pixels wide and four tall; the mouse still paints at full resolution around the cell it
points at), the large view's picture with its bars beside it, and the reading in words.

The loop (`run`) is four steps, repeated:

1. wait (at most a quarter of a second) for bytes from the keyboard or mouse, then read
   *every* byte waiting (a fast drag sends dozens of reports) and parse them
   (`keys.Parser`);
2. apply all the events to the `Pad` (`Pad.handle`): strokes, keys, the game;
3. read the drawing once for the whole batch (`Pad.read`): the two views and one
   forward pass of both, z = w a + b layer by layer, a fraction of a millisecond;
4. draw the frame (`Pad.lines`) and write only the lines that changed (`screen.Screen`).

So however fast the mouse moves, each batch costs one reading and one partial redraw
(measured by `bench_row`: well under the 50 ms a stroke may take).

What it leaves out: a colour picker, and saving in any format but PNG.
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import Experiment, Say, Table
from fooldigits.models import load_model
from fooldigits.models.base import Classifier
from fooldigits.pad import layout
from fooldigits.pad.canvas import SIZE, Canvas, load_picture, paper
from fooldigits.pad.game import CHALLENGES, Game, evolution_summary, seeded_evolution
from fooldigits.pad.keys import Key, Mouse, Parser
from fooldigits.pad.layout import HEIGHT, SMALL, TOP, VIEWS, WIDTH
from fooldigits.pad.screen import (
    Screen,
    Terminal,
    _cells,
    percent,
)

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



def _size(fd: int) -> tuple[int, int]:
    size = os.get_terminal_size(fd)
    return size.columns, size.lines


def _too_small(size: tuple[int, int]) -> list[str]:
    return [f"fooldigits draw needs at least {SMALL[0]}x{SMALL[1]}", "characters; this terminal "
            f"is {size[0]}x{size[1]}.", "Make the window larger (or the", "font smaller), "
            "or press q to quit."]


def run(net: Classifier, load: Path | None = None, out: Path | None = None, game: bool = False,
        json_path: Path | None = None, seed: int = 0, blocks: bool = True) -> Pad:
    """`fooldigits draw`: check everything, run the pad until q, return it (for the summary).

    Raises FoolDigitsError, before touching the terminal, when stdin or stdout is not a
    terminal, the terminal is too small, or a file option is wrong.
    """
    for path, what in ((out, "--out"), (json_path, "--json")):
        if path is not None and (path.is_dir() or not path.parent.is_dir()):
            raise FoolDigitsError(f"{what} {path}: " + (
                "is a folder, not a file" if path.is_dir() else
                f"folder {path.parent} does not exist"))
    if out is not None and out.suffix.lower() != ".png":
        raise FoolDigitsError(f"--out wants a file name ending in .png, got {out}")
    if json_path is not None and not game:
        raise FoolDigitsError("--json writes the game's scores: use it with --game")
    picture = None if load is None else load_picture(load)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise FoolDigitsError("fooldigits draw is interactive: run it in a terminal, with "
                              "neither its input nor its output redirected")
    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    size = _size(fd_out)
    if size[0] < SMALL[0] or size[1] < SMALL[1]:
        raise FoolDigitsError(f"fooldigits draw needs a terminal of at least {SMALL[0]}x"
                              f"{SMALL[1]} characters ({WIDTH}x{HEIGHT} for both views side "
                              f"by side); this one is {size[0]}x{size[1]}: make the window "
                              "larger or the font smaller")
    rng = np.random.default_rng(seed)
    pad = Pad(net, blocks, out, Game.new(rng, time.monotonic()) if game else None)
    if picture is not None:
        pad.canvas.load(picture)
    parser, screen = Parser(), Screen()
    with Terminal(fd_in, fd_out) as term:

        def show() -> bool:  # a frame while the GA runs; q or Esc stops it
            size = _size(fd_out)
            pad.compact = size[0] < WIDTH or size[1] < HEIGHT
            term.write(screen.update(pad.lines(time.monotonic()), size))
            return bool(select.select([fd_in], [], [], 0)[0]) and os.read(
                fd_in, 1024)[:1] in (b"q", b"\x1b")

        while True:
            now, size = time.monotonic(), _size(fd_out)
            fits = size[0] >= SMALL[0] and size[1] >= SMALL[1]
            pad.compact = size[0] < WIDTH or size[1] < HEIGHT  # redone after a resize
            term.write(screen.update(pad.lines(now) if fits else _too_small(size), size))
            wait = 0.05 if parser.buffer else 0.25
            if select.select([fd_in], [], [], wait)[0]:  # step 1: every byte waiting
                data = os.read(fd_in, 65536)
                if not data:
                    break
                while len(data) < 1 << 20 and select.select([fd_in], [], [], 0)[0]:
                    more = os.read(fd_in, 65536)
                    if not more:
                        break
                    data += more
                events = parser.feed(data)
            else:
                events = parser.flush()
            now = time.monotonic()
            if not all(pad.handle(e, now) for e in events
                       if fits or e in (Key("q"), Key("ctrl-c"))):
                break  # step 2 (`all` stops at the first event that quits)
            pad.tick(now, rng, show)
    return pad


@dataclass
class DrawResult:
    """What a session at the pad left: the drawings saved, and the game's scores."""

    saved: list[dict[str, str]]
    game: dict[str, object] | None
    seed: int
    model: str


def summary(pad: Pad, seed: int, model: str, json_path: Path | None = None,
            name: str | None = None) -> Experiment[DrawResult]:
    """After the pad closed: what was saved and the game's table, as pieces for the
    presenter; with `json_path`, the game's scores are written there too (with the
    student's `name`, if given)."""
    for path, reading in pad.saved:
        yield Say(f"saved {path}: the network read {reading}", "note")
    game = None
    if pad.game is not None:
        g = pad.game
        game = {**({"name": name} if name else {}), **g.report(), "seed": seed,
                "model": model}
        rows = [(s.challenge, "-" if s.digit is None else s.digit, "yes" if s.passed else "no",
                 s.points, f"{s.seconds:.0f} s", s.attempts,
                 "-" if s.read_as is None else f"{s.read_as} ({100 * (s.confidence or 0):.1f}%)",
                 "-" if s.evolved is None else f"{s.evolved.changed} pixels")
                for s in g.scores]
        if rows:
            yield Table(f"beat the network: {g.total} of {100 * len(CHALLENGES)} points",
                        ["challenge", "digit", "passed", "points", "time", "attempts",
                         "network read", "GA changed"], rows)
        else:
            yield Say("no challenge was finished, so there is no score", "note")
        if json_path is not None:
            import json

            from fooldigits.core.writing import atomic_write

            text = json.dumps(game, indent=2).encode()
            atomic_write(json_path, lambda f: f.write(text))
            yield Say(f"scores written to {json_path}", "note")
    return DrawResult([{"file": str(path), "read": reading} for path, reading in pad.saved],
                      game, seed, model)


def bench_row(strokes: int = 40) -> tuple[str, float, float]:
    """`make bench`: the redraw after one mouse stroke, against its plain parts.

    Project: a stroke of 24 SGR mouse reports (press, 22 drags, release) parsed, applied,
    read by the network (two views, one forward pass) and redrawn (changed lines only).
    Reference: one forward pass of one image plus one full-screen render from scratch.
    Returns (what, median project seconds, median reference seconds); target < 50 ms.
    """
    net = load_model()
    pad, screen, parser = Pad(net), Screen(), Parser()
    rng = np.random.default_rng(0)
    screen.update(pad.lines(0.0), (WIDTH, HEIGHT))
    project, reference = [], []
    for _ in range(strokes):
        x, y = rng.integers(2, SIZE, 2), rng.integers(TOP + 2, TOP + SIZE // 2 + 1, 2)
        xs, ys = np.linspace(x[0], x[1], 23).round(), np.linspace(y[0], y[1], 23).round()
        data = (f"\x1b[<0;{x[0]};{y[0]}M" + "".join(
            f"\x1b[<32;{int(a)};{int(b)}M" for a, b in zip(xs, ys, strict=True))
            + f"\x1b[<0;{x[1]};{y[1]}m").encode()
        start = time.perf_counter()
        for event in parser.feed(data):
            pad.handle(event, 0.0)
        screen.update(pad.lines(0.0), (WIDTH, HEIGHT))
        project.append(time.perf_counter() - start)
        image = rng.random((1, 784), dtype=np.float32)
        _cells.cache_clear()  # from scratch: no line drawn before
        start = time.perf_counter()
        net.probabilities(image)
        Screen().update(pad.lines(0.0), (WIDTH, HEIGHT))
        reference.append(time.perf_counter() - start)
        if rng.random() < 0.3:
            pad.canvas.clear()
    return ("`fooldigits draw`: redraw after a mouse stroke (24 reports)",
            float(np.median(project)), float(np.median(reference)))
