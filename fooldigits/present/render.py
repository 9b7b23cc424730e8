"""Terminal pictures: digits as block art, probability bars, tables, charts.

What this module teaches
------------------------
A 28x28 image fits in a terminal if every character cell shows *two* pixels. The upper
half block `▀` is drawn in the foreground colour and the rest of the cell in the
background colour, so one cell = top pixel (foreground) over bottom pixel (background):
28 columns by 14 rows: a column [0.0, 1.0] is a black `▀` on a white background. Without
colour (`NO_COLOR`, `--no-color`, or output piped to a file) each cell becomes one
character of the ramp ` .:-=+*#%@`, chosen by the mean of its two pixels:

    >>> image = np.zeros((28, 28)); image[1, 0] = 1.0  # that column: one white pixel
    >>> digit_art(image.ravel()).plain[:2]  # '▀▀': black over white, then black over black
    >>> digit_art(image.ravel(), blocks=False).plain[:2]  # '+ ': mean 0.5 is RAMP[5]

Every function here *builds* a Rich renderable; the presenter (`presenter.py`) prints it
once. `piece` draws any piece an experiment yields (`pieces.Say`, `Images`, `Table`,
`Bars`, `Reading`) and `progress` any progress event (a bar, a spinner, training, the
evolving image), so that every line that touches the terminal is in this module and
`presenter.py`; files (PNG, HTML) are drawn by `export.py` from the same pieces.

What it leaves out: sixel/kitty graphics (block art works in every terminal), and the code
listings `fooldigits read` shows beside a docs chapter (`listing.py`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.color import Color
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.style import Style
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from fooldigits.core.pieces import Generation

RAMP = " .:-=+*#%@"
CELL = 30  # columns one digit takes in a grid, with its gap


def make_console(no_color: bool = False, stderr: bool = False) -> Console:
    """A Console; colour off if asked, if NO_COLOR is set, or if not on a terminal."""
    console = Console(no_color=no_color or "NO_COLOR" in os.environ, stderr=stderr,
                      highlight=False)
    if console.width < 1:  # COLUMNS=0 in the environment: Rich would print nothing at all
        console.width = 80
    return console


def uses_blocks(console: Console) -> bool:
    """True if the console can show the half-block colour art, else ASCII is used."""
    return (console.color_system is not None and not console.no_color
            and console.encoding.lower().replace("-", "").startswith("utf"))


def _grey(v: float) -> Color:
    g = round(255 * min(max(v, 0.0), 1.0))
    return Color.from_rgb(g, g, g)


def _signed(v: float) -> Color:
    """Diverging map: negative weights blue, zero black, positive red."""
    g = round(255 * min(abs(v), 1.0))
    return Color.from_rgb(g, g // 4, 0) if v >= 0 else Color.from_rgb(0, g // 3, g)


def half_size(pixels: np.ndarray) -> np.ndarray:
    """(28, 28) -> (14, 14): each pixel the mean of a 2 x 2 block (a small terminal)."""
    return np.asarray(np.asarray(pixels).reshape(14, 2, 14, 2).mean(axis=(1, 3)))


def quarter_size(pixels: np.ndarray) -> np.ndarray:
    """(28, 28) -> (8, 7): each pixel the mean of a 4 x 4 block, and a blank last row (so
    that the rows pair up into half blocks): a row of ten digits in 80 columns."""
    small = np.asarray(pixels).reshape(7, 4, 7, 4).mean(axis=(1, 3))
    return np.vstack([small, np.zeros((1, 7))])


def digit_art(image: np.ndarray, blocks: bool = True, signed: bool = False,
              small: bool = False, quarter: bool = False) -> Text:
    """One image (784,) as 14 lines of 28 cells; `signed` expects values in [-1, 1].
    `small` draws it at half size, 7 lines of 14 cells, for a small terminal; `quarter`
    at quarter size, 4 lines of 7 cells."""
    pixels = np.asarray(image, dtype=np.float64).reshape(28, 28)
    if quarter:
        pixels = quarter_size(pixels)
    elif small:
        pixels = half_size(pixels)
    side = len(pixels)
    text = Text(no_wrap=True, overflow="crop")
    for row in range(0, side, 2):
        top, bottom = pixels[row], pixels[row + 1]
        if blocks:
            paint = _signed if signed else _grey
            for t, b in zip(top, bottom, strict=True):
                text.append("▀", Style(color=paint(t), bgcolor=paint(b)))
        elif signed:
            mean = (top + bottom) / 2
            text.append("".join("=" if v < -0.5 else "-" if v < -0.15 else
                                "#" if v > 0.5 else "+" if v > 0.15 else " " for v in mean))
        else:
            index = np.clip(((top + bottom) / 2 * len(RAMP)).astype(int), 0, len(RAMP) - 1)
            text.append("".join(RAMP[i] for i in index))
        if row < side - 2:
            text.append("\n")
    return text


def digit_grid(
    images: np.ndarray,
    captions: Sequence[str] | None = None,
    blocks: bool = True,
    signed: bool = False,
    width: int = 120,
    title: str | None = None,
    small: bool = False,
    quarter: bool = False,
) -> RenderableType:
    """Many images (n, 784) in rows that fit `width` columns, a caption under each
    (`small`: at half size, as many to a row as fit, captions wrapped under them;
    `quarter`: at quarter size)."""
    images = np.asarray(images).reshape(-1, 784)
    column = QUARTER if quarter else cell_width(captions or [], small)
    columns = max(1, min(len(images), (width + 1) // (QUARTER + 1))) if quarter else \
        per_row(len(images), width, small)
    grid = Table.grid(padding=(0, 1 if quarter else 2))
    for _ in range(columns):
        grid.add_column(width=column, no_wrap=not small)
    for start in range(0, len(images), columns):
        cells: list[RenderableType] = []
        for i in range(start, min(start + columns, len(images))):
            caption = Text(captions[i] if captions else "", style="bold",
                           overflow="fold" if small else "ellipsis")
            if small:
                caption.truncate(2 * column, overflow="ellipsis")  # at most two lines
            cells.append(Group(digit_art(images[i], blocks, signed, small, quarter), caption))
        grid.add_row(*cells)
    return Group(Text(title, style="bold underline"), grid) if title else grid


QUARTER = 7  # columns of a digit at quarter size


def quartered(item: object, width: int, small: bool) -> bool:
    """Draw this grid (`pieces.Images`) at quarter size? When it asks to be `packed` on a
    small terminal and its `columns` do not fit a row at half size."""
    return (small and bool(getattr(item, "packed", False))
            and per_row(len(getattr(item, "images", [])), width, small)
            < min(getattr(item, "columns", 0), len(getattr(item, "images", []))))


def grid_row(item: object, width: int, small: bool) -> int:
    """How many digits of the grid `item` (`pieces.Images`) go in a row."""
    count = len(getattr(item, "images", []))
    if quartered(item, width, small):
        return max(1, min(count, (width + 1) // (QUARTER + 1)))
    return per_row(count, width, small)


def per_row(count: int, width: int, small: bool) -> int:
    """How many of `count` digits `digit_grid` puts in a row `width` columns wide."""
    return max(1, min(count, (width + 2) // (cell_width([], small) + 2)))


def cell_width(captions: Sequence[str], small: bool) -> int:
    """Columns one digit of a grid takes (without the gap): 28, or at half size 14 (its
    caption then wraps onto a second line, still five digits to a row at 80 columns)."""
    return 14 if small else CELL - 2


def bar(value: float, width: int = 30) -> str:
    """A horizontal bar of `value` in [0, 1] with eighth-block resolution."""
    eighths = round(min(max(value, 0.0), 1.0) * width * 8)
    return "█" * (eighths // 8) + ("▏▎▍▌▋▊▉"[eighths % 8 - 1] if eighths % 8 else "")


def probability_bars(probabilities: np.ndarray, label: int | None = None) -> Table:
    """The ten confidences as bars, the winner in bold (and the true label marked)."""
    from fooldigits.core.pieces import class_name as name_of

    table = Table(box=None, show_header=False, padding=(0, 1))
    winner = int(np.argmax(probabilities))
    for digit, p in enumerate(probabilities):
        style = "bold green" if digit == winner else ""
        mark = " <- label" if label is not None and digit == label else ""
        table.add_row(name_of(digit), Text(bar(float(p), 30), style=style),
                      f"{100 * p:8.4f}%{mark}")
    return table


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[float], fmt: str = "{:.3f}",
    width: int = 40,
) -> Table:
    """Any list of non-negative numbers as labelled horizontal bars, scaled to the largest."""
    top = max((float(v) for v in values), default=0.0) or 1.0
    table = Table(title=Text(title, style="italic"), box=None, show_header=False,
                  padding=(0, 1), title_justify="left")
    for name, v in zip(labels, values, strict=True):
        table.add_row(Text(name), bar(float(v) / top, width), fmt.format(v))
    return table


def colour_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
                 compact: bool = False) -> Table:
    """A square count table (rows: true class, columns: predicted): the diagonal, where the
    two agree, in green; other counts in red; zeros dim. `compact`: see `table`."""
    t = _frame(title, compact)
    t.add_column(columns[0], style="bold")
    for name in columns[1:]:
        t.add_column(str(name), justify="right")
    for i, row in enumerate(rows):
        t.add_row(Text(str(row[0])), *(Text(str(v), style="green" if j == i else
                                            "red" if v else "dim")
                                       for j, v in enumerate(row[1:])))
    return t


def numeric(value: object) -> bool:
    """True for numbers and for text like '98.26%', '-0.5', '1.2 s' (right-aligned)."""
    if isinstance(value, int | float | np.number):
        return True
    if str(value).strip() == "-":  # "no number here" in a column of numbers
        return True
    text = str(value).strip().lstrip("-+<>=~ ")
    return bool(text) and (text[0].isdigit() or text in ("inf", "nan"))


class WordTable(Table):
    """A Rich table that, on a terminal too narrow for it, wraps cells between words.

    Rich narrows the widest columns first, all to one width, which can split a header
    word ("generati" / "ve") while another column still has room. Here each column keeps
    at least its longest word; the widest are narrowed down to that floor (the same
    levelling, with floors). Only when even the floors do not fit are words folded."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns = self.columns
        for column in columns:
            column.width = None  # measured afresh for each width it is drawn at
        words, lines = [], []
        for column in columns:
            texts = [str(getattr(c, "plain", c)) for c in (column.header, *column.cells)]
            words.append(max((cell_len(w) for t in texts for w in t.split()), default=1))
            lines.append(max((cell_len(x) for t in texts for x in t.split("\n")), default=1))
        _, right, _, left = Padding.unpack(self.padding)
        room = options.max_width - (len(columns) + 1 if self.box else 0) + (
            2 if self.box and not self.show_edge else 0) - (left + right) * len(columns)
        if sum(words) <= room < sum(lines):
            level = max(lines)  # lower one cap on all widths until they fit
            while sum(max(w, min(n, level)) for w, n in zip(words, lines, strict=True)) > room:
                level -= 1
            for column, w, n in zip(columns, words, lines, strict=True):
                column.width = max(w, min(n, level))
        yield from super().__rich_console__(console, options)


def _frame(title: str, compact: bool) -> Table:
    caption = Text(title, style="italic") if title else None  # "": the rest of a cut table
    if compact:  # no outer border: two rows fewer, and four columns
        return WordTable(title=caption, title_justify="left", box=box.MINIMAL_HEAVY_HEAD,
                         show_edge=False)
    return WordTable(title=caption, title_justify="left")


def titled(t: Table) -> RenderableType:
    """A table's title above it, as wide as the space it is given, not wrapped to the
    table's own width (which can take four rows for a title of two)."""
    if t.title is None:
        return t
    title, t.title = t.title, None
    return Group(title, t)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
          compact: bool = False) -> Table:
    """A plain table: columns of numbers right-aligned, columns of words left-aligned;
    on a terminal too narrow for it, cells wrap (a long name goes on in the next line).
    `compact` (a small terminal): without the outer border, two rows and four columns fewer."""
    t = _frame(title, compact)
    for i, name in enumerate(columns):
        numbers = bool(rows) and all(numeric(r[i]) for r in rows if i < len(r))
        t.add_column(name, justify="right" if numbers and i > 0 else "left",
                     overflow="fold")  # a narrow terminal wraps a cell, never cuts it
    for row in rows:
        t.add_row(*(v if isinstance(v, Text) else Text(f"{v:.4f}" if isinstance(v, float)
                                                       else str(v)) for v in row))
    return t


def evolving(event: Generation, blocks: bool, image: bool = True, small: bool = False
             ) -> RenderableType:
    """The live view of the genetic algorithm: counters and the best image so far."""
    run = min(event.finished + 1, event.count)
    head = Text.assemble(
        (f"evolving a '{event.digit}'", "bold"), f"  run {run}/{event.count}",
        f"  generation {event.generation}", ("  best ", ""),
        (f"{100 * event.best_confidence:.4f}%", "bold green"),
        f"  median {100 * event.median_confidence:.2f}%")
    return Group(head, digit_art(event.best_image, blocks, small=small)) if image else head


def small_screen(width: int, height: int) -> bool:
    """True for a terminal where full-size digits would take most of the screen (80 x 24):
    pictures are then drawn at half size."""
    return height < SMALL[1] or width < SMALL[0]


SMALL = (90, 34)  # below this many columns or rows, digits are drawn at half size


def piece(item: object, blocks: bool, width: int, small: bool = False) -> RenderableType:
    """One piece (`pieces.Say`, `Images`, `Table`, `Bars`, `Reading`) as a picture;
    `small` draws digits at half size (see `small_screen`)."""
    from fooldigits.core import pieces

    if isinstance(item, pieces.Images):
        return digit_grid(item.images, item.captions, blocks, item.signed, width, item.title,
                          small, quartered(item, width, small))
    if isinstance(item, pieces.Table):
        if item.diagonal:
            return titled(colour_table(item.title, item.columns, item.rows, small))
        return titled(table(item.title, item.columns, item.rows, small))
    if isinstance(item, pieces.Bars):
        return bar_chart(item.title, item.labels, item.values, item.fmt)
    if isinstance(item, pieces.Reading):
        from rich.columns import Columns

        return Group(Text(item.title, style="bold"),
                     Columns([digit_art(item.image, blocks, small=small),
                              probability_bars(item.probabilities)],
                             padding=(0, 4)))
    if isinstance(item, pieces.Say):
        return Text(item.text, style=TONES.get(item.tone, ""))
    raise TypeError(f"cannot draw {type(item).__name__}")


TONES = {"note": "dim", "good": "bold green", "bad": "bold red"}


def progress(event: object, blocks: bool, rows: int, small: bool = False, width: int = 80
             ) -> RenderableType | None:
    """The live view of a progress event in `rows` rows and `width` columns: a `pieces.Step`
    bar or spinner on one line, training, or the evolving image (half size when `small`;
    left out when it does not fit, so the screen's text is never pushed out of sight)."""
    from fooldigits.core.pieces import BatchDone, Generation, Step

    if isinstance(event, BatchDone):
        return training(event.epoch, event.batch, event.batches)
    if isinstance(event, Step):
        from rich.spinner import Spinner  # turns while the step computes

        label, count, size, total = event.label, "", 0, event.total or 1
        if total > 1:  # one part of one: a spinner says as much
            count = f" {event.done:,}/{total:,}"
            size = max(10, min(30, width - 5 - len(label) - len(count)))
        room = width - 5 - (size + 2 if size else 0) - len(count)  # spinner, gaps, bar
        if len(label) > room:  # one line always: a long label gives way to the count
            label = label[: max(room - 1, 1)] + "…"
        line = Text(label, style="bold")
        if size:
            line.append(f"  {bar(event.done / total, size)}".ljust(size + 2), "green")
            line.append(count)
        return Spinner("dots", line)
    if isinstance(event, Generation):
        art = 7 if small else 14
        return evolving(event, blocks, image=rows >= 1 + art, small=small)
    return None


def chapter_heading(title: str, text: str, small: bool = False) -> RenderableType:
    """A chapter's title rule and its short explanation (and a blank row, unless `small`)."""
    from rich.rule import Rule

    return Group(Rule(f"[bold]{title}[/]"), Text(text, style="italic"),
                 *([] if small else [Text("")]))


def beside(left: RenderableType, right: RenderableType, room: int | None = None
           ) -> RenderableType:
    """Two narrow pictures in one row, three columns apart; the left one `room` wide."""
    grid = Table.grid(padding=(0, 3))
    grid.add_column(width=room)
    grid.add_row(left, right)
    return grid



def training(epoch: int, batch: int, batches: int) -> Text:
    """A one-line progress bar for a network training inside a live view."""
    return Text.assemble(("training ", "bold"), f"epoch {epoch} ",
                         (bar(batch / batches, 30), "green"), f" {100 * batch // batches}%")
