"""The one presenter: an experiment's stream to the terminal, `--json`, `--png` and `--html`.

What this module teaches
------------------------
How a chapter flows, end to end (docs/design.md tells it with the file names)::

    experiment (experiments/*.py)            Presenter.run(stream)
      yield Say / Images / Table / ...  -->  terminal: render.piece(), printed once each
      yield Step / BatchDone / Generation -> terminal: one live line or image, redrawn
                                              at most every 0.1 s, the last state drawn last
      return Result                     -->  --json: pieces.to_json(result) on stdout
                                             --png:  export.write_png(every picture shown)
                                             --html: export.write_html(sections of pieces)

With `--json` nothing but the JSON goes to stdout: pieces are not drawn and progress goes
to stderr. Output files are checked *before* the experiment starts, so a typo in `--png`
costs nothing; they are written atomically after it ends.

Ctrl-C: an interrupt that lands while the presenter is drawing is thrown *into* the
experiment (`generator.throw`), so the experiment decides what to save (train keeps the
best model, fool the finished runs) whichever side of the `yield` the key arrived on.

The tutor uses the same presenter with `pager` set: before a piece that would push the
chapter's heading off the screen, it asks for a key, like the next slide of a talk.

What it leaves out: the drawing itself (`render.py` for the terminal, `export.py` for
files) and the maths (the concept modules).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar, cast

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from fooldigits.core.files import check_output
from fooldigits.core.pieces import PIECES, Images, Say, to_json
from fooldigits.present import render
from fooldigits.present.export import Section, write_html, write_png

R = TypeVar("R")
REDRAW = 0.1  # seconds between live redraws


@dataclass
class Output:
    """Where a command's stream goes: the terminal (always, unless --json) and files."""

    no_color: bool = False
    as_json: bool = False
    png: Path | None = None
    html: Path | None = None
    title: str = "fooldigits"

    def check(self) -> None:
        """Refuse unusable output paths before any work starts."""
        if self.png is not None:
            check_output(self.png, ".png", "--png")
        if self.html is not None:
            check_output(self.html, ".html", "--html")


@dataclass
class Presenter:
    """Draws pieces and progress on a console and collects them for the files."""

    output: Output
    console: Console = field(init=False)
    sections: list[Section] = field(default_factory=list)
    pager: Callable[[], None] | None = None  # asks for a key when the screen is full
    hint: str = ""  # a line under live progress (the tutor: which keys work now)
    _lines: int = 0  # lines printed since the last heading or pause
    _shown: int = 0  # pieces printed since then

    def __post_init__(self) -> None:  # the caller ran `output.check()` before any work
        self.console = render.make_console(self.output.no_color, stderr=self.output.as_json)
        self.blocks = render.uses_blocks(self.console)

    # -- pieces -------------------------------------------------------------------------
    def heading(self, title: str, text: str = "") -> None:
        """Start a section (a tutor chapter, or a command's output)."""
        self.sections.append(Section(title, text))
        if not self.output.as_json:
            self.console.print(render.chapter_heading(title, text))
        self._lines = 3 + len(text) // max(self.console.width, 1)
        self._shown = 0

    def show(self, item: object, live: Live | None = None) -> None:
        """One piece: drawn now (unless --json), kept for --png and --html."""
        if not self.sections:
            self.sections.append(Section(self.output.title))
        self.sections[-1].pieces.append(item)
        if self.output.as_json:
            return
        for part in self._screenfuls(item):
            self._draw(part, live)

    def cleared(self) -> None:
        """Someone else (the quiz's questions) cleared the screen: the pager counts anew."""
        self._lines, self._shown = 0, 0

    def _screenfuls(self, item: object) -> list[object]:
        """With a pager, a grid taller than the screen is shown a few rows at a time."""
        if self.pager is None or not isinstance(item, Images):
            return [item]
        small = self.small
        column = render.cell_width(item.captions, small) + 2
        per_row = max(1, min(len(item.images), (self.console.width + 2) // column))
        row = 8 if small else 15  # lines a row of digits takes: the art and its caption
        rows_per_screen = max(1, (self.console.height - 8) // row)
        step = per_row * rows_per_screen
        if len(item.images) <= step:
            return [item]
        return [replace(item, title=item.title if i == 0 else f"{item.title} (continued)",
                        images=item.images[i : i + step], captions=item.captions[i : i + step])
                for i in range(0, len(item.images), step)]

    def _draw(self, item: object, live: Live | None) -> None:
        picture = render.piece(item, self.blocks, self.console.width, self.small)
        height = len(self.console.render_lines(picture, pad=False)) + 1
        if (self.pager is not None and self._shown
                and self._lines + height > self.console.height - 2):
            if live is not None:
                live.update(Text(""), refresh=True)
            self.pager()
            self._lines, self._shown = 0, 0
        (live.console if live is not None else self.console).print(picture)
        self._lines += height
        self._shown += 1

    @property
    def small(self) -> bool:
        """Draw digits at half size? Only on a small terminal (output to a file or a pipe
        keeps full size). Asked at every piece, so a resized terminal gets the layout that
        fits it from the next piece on."""
        return self.console.is_terminal and render.small_screen(self.console.width,
                                                                self.console.height)

    def erase_line(self) -> None:
        """Remove the line printed last (a prompt answered), on a terminal."""
        if self.console.is_terminal:
            self.console.file.write("\x1b[1A\x1b[2K")
            self.console.file.flush()

    # -- a whole experiment -------------------------------------------------------------
    def run(self, stream: Generator[object, None, R]) -> R:
        """Drive one experiment to its end; return its result."""
        progress = LiveProgress(self.console, self.blocks, self.hint)
        with Live(console=self.console, refresh_per_second=8, transient=True,
                  redirect_stdout=False, redirect_stderr=False) as live:
            progress.live = live
            while True:
                try:
                    item = next(stream)
                except StopIteration as stop:
                    progress.flush()
                    return cast(R, stop.value)
                try:
                    if isinstance(item, PIECES):
                        progress.flush()
                        progress.clear()
                        self.show(item, live)
                    else:
                        progress.update(item)
                except KeyboardInterrupt:
                    stream.throw(KeyboardInterrupt())  # the experiment saves what it can
                    raise
                except BaseException:  # e.g. the tutor left the chapter at a pause
                    stream.close()
                    raise

    def finish(self, result: object = None) -> None:
        """Print the JSON result and write the files asked for."""
        if self.output.as_json:
            text = to_json(result)
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        if self.output.png is not None:
            drawn = write_png([p for s in self.sections for p in s.pieces], self.output.png)
            self._note(f"saved {self.output.png} ({drawn} picture{'s' * (drawn != 1)})"
                       if drawn else
                       f"nothing to draw: {self.output.png} was not written")
        if self.output.html is not None:
            write_html(self.output.title, self.sections, self.output.html)
            self._note(f"saved {self.output.html}")

    def _note(self, text: str) -> None:
        console = self.console if not self.output.as_json else render.make_console(
            self.output.no_color, stderr=True)
        console.print(render.piece(Say(text, "note"), self.blocks, console.width))


class LiveProgress:
    """The live region: a bar, a spinner, training or an evolving image, throttled."""

    def __init__(self, console: Console, blocks: bool, hint: str = "") -> None:
        self.console, self.blocks, self.hint = console, blocks, hint
        self.live: Live | None = None
        self.pending: object | None = None  # newest event not drawn yet
        self.drawn_at = 0.0
        self.step_label: str | None = None

    def update(self, event: object) -> None:
        self.pending = event
        if time.perf_counter() - self.drawn_at >= REDRAW:
            self.flush()

    def flush(self) -> None:
        """Draw the newest event now (so the last frame shown is the real last state)."""
        if self.pending is None or self.live is None:
            return
        width, height = self.console.size
        picture = render.progress(self.pending, self.blocks, height,
                                  self.console.is_terminal and render.small_screen(width, height))
        if picture is not None:
            if self.hint:
                picture = Group(picture, Text(self.hint, style="dim"))
            self.live.update(picture, refresh=True)
        self.pending, self.drawn_at = None, time.perf_counter()

    def clear(self) -> None:
        if self.live is not None:
            self.live.update(Text(""), refresh=True)


def present(stream: Generator[object, None, R], output: Output, title: str = "") -> R:
    """Run one experiment through a fresh presenter: draw it, then JSON and files."""
    presenter = Presenter(output)
    if title:
        presenter.sections.append(Section(title))
    result = presenter.run(stream)
    presenter.finish(result)
    return result

