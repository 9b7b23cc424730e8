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

The tutor uses the same presenter with `pager` set: when the screen is full it asks for
a key, like the next slide of a talk. It fills the screen first: a piece that does not
fit is cut where a reader can stop and goes on after the key (`pages.py`), a sentence is
held until the next item shows whether it introduces a figure (kept on one screen), and
two narrow pieces in a row go side by side. The live view takes only the rows left under
the screen's text (`free_rows`), and the prompt sits on the last row (`prompt`).

What it leaves out: the drawing itself (`render.py` for the terminal, `export.py` for
files) and the maths (the concept modules).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.measure import Measurement
from rich.text import Text

from fooldigits.core.pieces import PIECES, Bars, Images, Reading, Say, Table, to_json
from fooldigits.core.writing import check_output
from fooldigits.present import pages, render
from fooldigits.present.export import Section, write_html, write_png

R = TypeVar("R")
FIGURES = (Images, Table, Bars, Reading)  # what a sentence before them introduces
REDRAW = 0.1  # seconds between live redraws


@dataclass
class Output:
    """Where a command's stream goes: the terminal (always, unless --json) and files."""

    no_color: bool = False
    as_json: bool = False
    png: Path | None = None
    html: Path | None = None
    title: str = "fooldigits"
    reads: tuple[tuple[str, Path | None], ...] = ()  # (what, path): files it must not replace

    def check(self) -> None:
        """Refuse unusable output paths before any work starts."""
        if self.png is not None:
            check_output(self.png, ".png", "--png", self.reads)
        if self.html is not None:
            check_output(self.html, ".html", "--html", self.reads)


@dataclass
class Presenter:
    """Draws pieces and progress on a console and collects them for the files."""

    output: Output
    console: Console = field(init=False)
    sections: list[Section] = field(default_factory=list)
    pager: Callable[[], None] | None = None  # asks for a key when the screen is full
    hint: str = ""  # a line under live progress (the tutor: which keys work now)
    _lines: int = 0  # rows printed since the last heading or pause
    _live: Live | None = None  # the live view while an experiment runs

    def __post_init__(self) -> None:  # the caller ran `output.check()` before any work
        self.console = render.make_console(self.output.no_color, stderr=self.output.as_json)
        self.blocks = render.uses_blocks(self.console)

    # -- pieces -------------------------------------------------------------------------
    def heading(self, title: str, text: str = "") -> None:
        """Start a section (a tutor chapter, or a command's output)."""
        self.sections.append(Section(title, text))
        if not self.output.as_json:
            picture = render.chapter_heading(title, text, self.small)
            self.console.print(picture)
            self._lines = self._height(picture)

    def show(self, item: object, live: Live | None = None, keep: object = None, *,
             export: bool = True) -> None:
        """One piece: drawn now (unless --json), kept for --png and --html unless `export`
        is False (a hint about this terminal, say). `keep`: the piece that comes next, if
        known (a sentence is kept on the screen of its figure)."""
        if export:
            self._record(item)
        if not self.output.as_json:
            self._draw(item, live, keep)

    def _record(self, item: object) -> None:
        if not self.sections:
            self.sections.append(Section(self.output.title))
        self.sections[-1].pieces.append(item)

    def cleared(self) -> None:
        """Someone else (the quiz's questions) cleared the screen: the pager counts anew."""
        self._lines = 0

    def _draw(self, item: object, live: Live | None, keep: object = None) -> None:
        """Print `item` in the rows left on the screen; with a pager, when it does not fit,
        the largest part that does (`pages.head`), a pause, and the rest on the next screen.
        Each part is drawn at the terminal's size when it is printed, after any pause."""
        rest: object | None = item
        while rest is not None:
            piece = rest
            picture = self._picture(piece)
            height = self._height(picture)
            page = self.console.height - 1  # the prompt takes the last row
            room = page - self._lines
            if self.pager is None or (height <= room and not (
                    isinstance(piece, Say) and isinstance(keep, FIGURES) and self._lines
                    and pages.keep_with(height, self._first_rows(keep), room, page))):
                self._print(picture, height, live)
                return
            shown = 0 if height <= room else self._most(piece, room)
            if shown == 0 and self._lines == 0:  # one part taller than a whole screen
                shown = 1
            if shown:
                part = self._head(piece, shown)
                self._print(self._picture(part), self._height(self._picture(part)), live)
            rest = pages.tail(piece, shown, self.console, self.small) if shown else piece
            if rest is not None:
                self._pause(live)

    def _most(self, item: object, room: int) -> int:
        """The most parts of `item` (not all) that fit together in `room` rows."""
        def rows(parts: int) -> int:
            return self._height(self._picture(self._head(item, parts)))

        return pages.largest(pages.places(item, self.console, self.small) - 1, rows, room)

    def _head(self, item: object, parts: int) -> object:
        return pages.head(item, parts, self.console, self.small)

    def _picture(self, item: object) -> RenderableType:
        if isinstance(item, pages.Pair):  # the left one gets the width the right leaves
            room = self.console.width - 3 - self._width(self._narrow(item.right))
            return render.beside(self._narrow(item.left, titled=True),
                                 self._narrow(item.right, titled=True), room)
        return render.piece(item, self.blocks, self.console.width, self.small)

    def _narrow(self, item: object, titled: bool = False) -> RenderableType:
        """One of a `pages.Pair`: a table (`titled`: its title above it, as wide as the
        column; else inside, for measuring the table's own width), or any other piece."""
        if isinstance(item, Table):
            table = render.table(item.title, item.columns, item.rows, self.small)
            return render.titled(table) if titled else table
        return render.piece(item, self.blocks, self.console.width, self.small)

    def _beside(self, left: object, right: object) -> bool:
        """Do these two consecutive pieces go side by side on this terminal?"""
        if not (isinstance(left, pages.NARROW) and isinstance(right, pages.NARROW)):
            return False
        widths = (self._width(self._narrow(left)), self._width(self._narrow(right)))
        return (pages.beside(left, right, widths, self.console.width) and  # on one screen
                self._height(self._picture(pages.Pair(left, right))) < self.console.height)

    def _first_rows(self, item: object) -> int:
        """Rows the first part of `item` would take (its title and first row, for a grid)."""
        return self._height(self._picture(self._head(item, 1)))

    def _print(self, picture: RenderableType, height: int, live: Live | None) -> None:
        (live.console if live is not None else self.console).print(picture)
        self._lines += height

    def _pause(self, live: Live | None) -> None:
        assert self.pager is not None
        if live is not None:
            live.update(Text(""), refresh=True)
        self.pager()
        self._lines = 0

    def prompt(self, text: str) -> None:
        """Show what the keys do on the screen's last row, the cursor after it: inside the
        live view while an experiment runs (it is the last row), else without a newline."""
        line = Text(text, style="dim", no_wrap=True, overflow="ellipsis")
        if self._live is not None:
            self._live.update(line, refresh=True)
        else:
            if self.console.is_terminal:  # a prompt already there (a note) is replaced
                self.console.file.write("\r\x1b[2K")
            self.console.print(line, end="", no_wrap=True, overflow="ellipsis")

    def unprompt(self) -> None:
        """Remove the prompt (answered): what comes next is printed in its row."""
        if self._live is not None:
            self._live.update(Text(""), refresh=True)
        elif self.console.is_terminal:
            self.console.file.write("\r\x1b[2K")
            self.console.file.flush()
        else:
            self.console.print()

    def _height(self, picture: RenderableType) -> int:
        return len(self.console.render_lines(picture, pad=False))

    def _width(self, picture: RenderableType) -> int:
        return Measurement.get(self.console, self.console.options, picture).maximum

    @property
    def small(self) -> bool:
        """Draw digits at half size? Only on a small terminal (output to a file or a pipe
        keeps full size). Asked at every piece, so a resized terminal gets the layout that
        fits it from the next piece on."""
        return self.console.is_terminal and render.small_screen(self.console.width,
                                                                self.console.height)

    def free_rows(self) -> int:
        """Rows under what this screen shows, for the live progress view: it must not push
        the top of the screen out of sight before the student has read it."""
        return self.console.height - (self._lines if self.pager is not None else 0)

    # -- a whole experiment -------------------------------------------------------------
    def run(self, stream: Generator[object, None, R]) -> R:
        """Drive one experiment to its end; return its result. With a pager, a sentence is
        held until the next item arrives, so that it can be kept beside its figure."""
        progress = LiveProgress(self.console, self.blocks, self.hint, self.free_rows)
        with Live(console=self.console, refresh_per_second=8, transient=True,
                  redirect_stdout=False, redirect_stderr=False) as live:
            progress.live = self._live = live
            try:
                return self._drive(stream, progress, live)
            finally:
                self._live = None

    def _drive(self, stream: Generator[object, None, R], progress: LiveProgress,
               live: Live) -> R:
        """The loop of `run`: each item to the screen, a sentence held for what follows."""
        held: object = None  # a sentence or a narrow table waiting for what follows it
        while True:
            try:
                item = next(stream)
            except StopIteration as stop:
                progress.flush()
                if held is not None:
                    self._draw(held, live)
                return cast(R, stop.value)
            try:
                if isinstance(item, PIECES):
                    progress.flush()
                    progress.clear()
                    if held is not None and self._beside(held, item):
                        self._record(item)
                        self._draw(pages.Pair(held, item), live)
                        held = None
                        continue
                    if held is not None:
                        self._draw(held, live, keep=item)
                        held = None
                    if self.pager is not None and isinstance(item, (Say, Table, Bars)):
                        self._record(item)  # drawn when the next item shows what it leads to
                        held = item
                    else:
                        self.show(item, live)
                else:
                    if held is not None:
                        self._draw(held, live)
                        held = None
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
    """The live region: a bar, a spinner, training or an evolving image, throttled, in
    at most `room()` rows (the evolving image is left out when it would not fit)."""

    def __init__(self, console: Console, blocks: bool, hint: str = "",
                 room: Callable[[], int] | None = None) -> None:
        self.console, self.blocks, self.hint = console, blocks, hint
        self.room = room or (lambda: console.height)
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
        rows = self.room()
        hint = self.hint if rows >= 2 else ""  # a full screen: the progress line alone
        picture = render.progress(self.pending, self.blocks, rows - (1 if hint else 0),
                                  self.console.is_terminal and render.small_screen(width, height),
                                  width)
        if picture is not None:
            if hint:
                picture = Group(picture, Text(hint, style="dim", no_wrap=True,
                                              overflow="ellipsis"))
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

