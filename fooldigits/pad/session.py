"""The pad's session: the terminal loop that feeds the `Pad`, and what a session leaves.

What this module teaches
------------------------
`drawpad.Pad` is the pad's state; this module connects it to a real terminal
(`screen.Terminal`: raw mode, the mouse reports on) and runs it until `q`. The loop
(`run`) is four steps, repeated:

1. wait (at most a quarter of a second) for bytes from the keyboard or mouse, then read
   *every* byte waiting (a fast drag sends dozens of reports) and parse them
   (`keys.Parser`);
2. apply all the events to the `Pad` (`Pad.handle`): strokes, keys, the game;
3. read the drawing once for the whole batch (`Pad.read`): the two views and one
   forward pass of both, z = w a + b layer by layer, a fraction of a millisecond;
4. draw the frame (`Pad.lines`) and write only the lines that changed (`screen.Screen`).

So however fast the mouse moves, each batch costs one reading and one partial redraw
(measured by `bench_row`: well under the 50 ms a stroke may take). When the pad closes,
`summary` turns what the session left (the drawings saved, the game's scores) into
pieces for the presenter and a `DrawResult`.

Worked example: `fooldigits draw --game` is

    pad = run(load_model(), game=True)            # until q; refuses a pipe or a tiny terminal
    result = yield from summary(pad, 0, "shipped")  # DrawResult(saved=[], game={...}, ...)

What it leaves out: the pad's state and events (`drawpad.py`), the terminal's bytes
(`screen.py`, `keys.py`).
"""

from __future__ import annotations

import os
import select
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import Experiment, Say, Table
from fooldigits.models import load_model
from fooldigits.models.base import Classifier
from fooldigits.pad.canvas import SIZE, load_picture
from fooldigits.pad.drawpad import Pad
from fooldigits.pad.game import CHALLENGES, Game
from fooldigits.pad.keys import Key, Parser
from fooldigits.pad.layout import HEIGHT, SMALL, TOP, WIDTH
from fooldigits.pad.screen import Screen, Terminal, _cells


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
