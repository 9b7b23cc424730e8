"""Terminal pictures: digits as block art, probability bars, tables, charts, PNG export.

What this module teaches
------------------------
A 28x28 image fits in a terminal if every character cell shows *two* pixels. The upper
half block `▀` is drawn in the foreground colour and the rest of the cell in the
background colour, so one cell = top pixel (foreground) over bottom pixel (background):
28 columns by 14 rows. If a column of the image was [0.0, 1.0] the cell is a black `▀`
on a white background.

Without colour (`NO_COLOR`, `--no-color`, or output piped to a file) each cell becomes
one character of the ramp ` .:-=+*#%@`, chosen by the mean of its two pixels.

Every function here *builds* a Rich renderable; the CLI prints it once. This is the
only module that imports Rich, and the only one that imports Pillow for writing (PNG
export). The library modules never print: they return arrays and yield progress, and
the CLI hands those to the functions below.

The tutor's pieces, the live views and the single-key reader for the tutor live here too,
so that every line that touches the terminal is in one module.

What it leaves out: sixel/kitty graphics (block art works in every terminal).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.color import Color
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.style import Style
from rich.table import Table
from rich.text import Text

from fooldigits import FoolDigitsError

if TYPE_CHECKING:
    from fooldigits.evolve import Generation

RAMP = " .:-=+*#%@"
CELL = 30  # columns one digit takes in a grid, with its gap


def make_console(no_color: bool = False, stderr: bool = False) -> Console:
    """A Console; colour off if asked, if NO_COLOR is set, or if not on a terminal."""
    return Console(no_color=no_color or "NO_COLOR" in os.environ, stderr=stderr, highlight=False)


def uses_blocks(console: Console) -> bool:
    """True if the console can show the half-block colour art, else ASCII is used."""
    return console.color_system is not None and not console.no_color


def _grey(v: float) -> Color:
    g = round(255 * min(max(v, 0.0), 1.0))
    return Color.from_rgb(g, g, g)


def _signed(v: float) -> Color:
    """Diverging map: negative weights blue, zero black, positive red."""
    g = round(255 * min(abs(v), 1.0))
    return Color.from_rgb(g, g // 4, 0) if v >= 0 else Color.from_rgb(0, g // 3, g)


def digit_art(image: np.ndarray, blocks: bool = True, signed: bool = False) -> Text:
    """One image (784,) as 14 lines of 28 cells; `signed` expects values in [-1, 1]."""
    pixels = np.asarray(image, dtype=np.float64).reshape(28, 28)
    text = Text(no_wrap=True, overflow="crop")
    for row in range(0, 28, 2):
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
        if row < 26:
            text.append("\n")
    return text


def digit_grid(
    images: np.ndarray,
    captions: Sequence[str] | None = None,
    blocks: bool = True,
    signed: bool = False,
    width: int = 120,
    title: str | None = None,
) -> RenderableType:
    """Many images (n, 784) in rows that fit `width` columns, a caption under each."""
    images = np.asarray(images).reshape(-1, 784)
    per_row = max(1, min(len(images), (width + 2) // CELL))
    grid = Table.grid(padding=(0, 2))
    for _ in range(per_row):
        grid.add_column(width=28, no_wrap=True)
    for start in range(0, len(images), per_row):
        cells: list[RenderableType] = []
        for i in range(start, min(start + per_row, len(images))):
            caption = Text(captions[i] if captions else "", style="bold", overflow="ellipsis")
            cells.append(Group(digit_art(images[i], blocks, signed), caption))
        grid.add_row(*cells)
    return Group(Text(title, style="bold underline"), grid) if title else grid


def signed_scale(images: np.ndarray) -> np.ndarray:
    """Each row divided by its largest |value|, so it lies in [-1, 1] (eigen-digits)."""
    scale = np.abs(images).max(axis=1, keepdims=True)
    return np.asarray(images / np.where(scale > 0, scale, 1))


def unit_scale(images: np.ndarray) -> np.ndarray:
    """Each row stretched to [0, 1] (min -> 0, max -> 1), as the seed showed eigen-digits."""
    lo, hi = images.min(axis=1, keepdims=True), images.max(axis=1, keepdims=True)
    return np.asarray((images - lo) / np.where(hi > lo, hi - lo, 1))


def bar(value: float, width: int = 30) -> str:
    """A horizontal bar of `value` in [0, 1] with eighth-block resolution."""
    eighths = round(min(max(value, 0.0), 1.0) * width * 8)
    return "█" * (eighths // 8) + ("▏▎▍▌▋▊▉"[eighths % 8 - 1] if eighths % 8 else "")


def probability_bars(probabilities: np.ndarray, label: int | None = None) -> Table:
    """The ten confidences as bars, the winner in bold (and the true label marked)."""
    table = Table(box=None, show_header=False, padding=(0, 1))
    winner = int(np.argmax(probabilities))
    for digit, p in enumerate(probabilities):
        style = "bold green" if digit == winner else ""
        mark = " <- label" if label is not None and digit == label else ""
        table.add_row(str(digit), Text(bar(float(p), 30), style=style), f"{100 * p:8.4f}%{mark}")
    return table


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[float], fmt: str = "{:.3f}",
    width: int = 40,
) -> Table:
    """Any list of non-negative numbers as labelled horizontal bars, scaled to the largest."""
    top = max((float(v) for v in values), default=0.0) or 1.0
    table = Table(title=title, box=None, show_header=False, padding=(0, 1), title_justify="left")
    for name, v in zip(labels, values, strict=True):
        table.add_row(name, bar(float(v) / top, width), fmt.format(v))
    return table


def confusion_table(confusion: np.ndarray) -> Table:
    """Rows: true digit; columns: predicted digit; the diagonal (correct) in green."""
    table = Table(title="confusion matrix (rows: true digit, columns: predicted)")
    table.add_column("", style="bold")
    for d in range(confusion.shape[1]):
        table.add_column(str(d), justify="right")
    for t, row in enumerate(confusion):
        table.add_row(str(t), *(Text(str(int(v)), style="green" if t == p else "red" if v else
                                    "dim") for p, v in enumerate(row)))
    return table


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
    """A plain table: first column left-aligned, the others right-aligned."""
    t = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        t.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        t.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    return t


def progress_bar(console: Console) -> Progress:
    """The progress display the CLI wraps around long work (training, fooling, ...)."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
        console=console, transient=False,
    )


def grid_pixels(images: np.ndarray, columns: int = 10, scale: int = 8, gap: int = 2) -> np.ndarray:
    """Tile images (n, 784) into one uint8 picture, each pixel `scale` x `scale`."""
    images = np.clip(np.asarray(images, dtype=np.float64).reshape(-1, 28, 28), 0, 1)
    n = len(images)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    side = 28 + gap
    canvas = np.full((rows * side + gap, columns * side + gap), 0.35)  # grey gaps
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        canvas[gap + r * side : gap + r * side + 28, gap + c * side : gap + c * side + 28] = image
    big = np.kron(canvas, np.ones((scale, scale)))
    return (255 * big).round().astype(np.uint8)


def save_png(images: np.ndarray, path: Path, columns: int = 10) -> None:
    """Write a grid of images as a greyscale PNG, scaled up 8x, atomically."""
    from PIL import Image

    from fooldigits.data import atomic_write

    if not str(path).lower().endswith(".png"):
        raise FoolDigitsError(f"--png wants a file name ending in .png, got {path}")
    picture = Image.fromarray(grid_pixels(images, columns), mode="L")
    atomic_write(Path(path), lambda f: picture.save(f, format="PNG"))


def live_view(console: Console) -> Live:
    """A region redrawn in place (the evolving image); shows nothing when not a terminal."""
    return Live(console=console, refresh_per_second=8, transient=True)


def evolving(event: Generation, blocks: bool) -> RenderableType:
    """The live view of the genetic algorithm: counters and the best image so far."""
    run = min(event.finished + 1, event.count)
    head = Text.assemble(
        (f"evolving a '{event.digit}'", "bold"), f"  run {run}/{event.count}",
        f"  generation {event.generation}", ("  best ", ""),
        (f"{100 * event.best_confidence:.4f}%", "bold green"),
        f"  median {100 * event.median_confidence:.2f}%")
    return Group(head, digit_art(event.best_image, blocks))


def piece(item: object, blocks: bool, width: int) -> RenderableType:
    """One piece of a tutor chapter (`tutor.Say`, `Images`, `Table`, `Bars`) as a picture."""
    from fooldigits import tutor

    if isinstance(item, tutor.Images):
        return digit_grid(item.images, item.captions, blocks, item.signed, width, item.title)
    if isinstance(item, tutor.Table):
        return table(item.title, item.columns, item.rows)
    if isinstance(item, tutor.Bars):
        return bar_chart(item.title, item.labels, item.values, item.fmt)
    if isinstance(item, tutor.Say):
        return Text(item.text)
    raise TypeError(f"cannot draw {type(item).__name__}")


def chapter_heading(title: str, text: str) -> RenderableType:
    """A chapter's title rule and its short explanation."""
    from rich.rule import Rule

    return Group(Rule(f"[bold]{title}[/]"), Text(text, style="italic"), Text(""))


def read_key() -> str:
    """One key press from a terminal, without waiting for Enter ('\n' for Enter).

    The terminal is put in cbreak mode only while waiting and always restored, also on
    Ctrl-C, so the shell is left as it was.
    """
    import sys
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        key = sys.stdin.read(1)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    return "\n" if key in ("\r", "\n") else key


def side_by_side(left: RenderableType, right: RenderableType, width: int) -> RenderableType:
    """Two renderables in columns on a wide terminal, stacked on a narrow one."""
    if width < 140:
        return Group(left, right)
    grid = Table.grid(padding=(0, 3), expand=True)
    grid.add_column(ratio=1)
    grid.add_column(ratio=1)
    grid.add_row(left, right)
    return grid


def markdown(text: str) -> RenderableType:
    from rich.markdown import Markdown

    return Markdown(text)


def code(source: str, title: str) -> RenderableType:
    from rich.panel import Panel
    from rich.syntax import Syntax

    return Panel(Syntax(source, "python", line_numbers=False, word_wrap=True), title=title,
                 title_align="left")


def training(epoch: int, batch: int, batches: int) -> Text:
    """A one-line progress bar for a network training inside a live view."""
    return Text.assemble(("training ", "bold"), f"epoch {epoch} ",
                         (bar(batch / batches, 30), "green"), f" {100 * batch // batches}%")
