"""Code listings: a docs chapter beside the code it names, every line whole, for `read`.

What this module teaches
------------------------
`fooldigits read TOPIC` shows a docs chapter (`markdown`) beside the source of every
function it names (`code`), in two columns from 140 columns up and stacked below that
(`side_by_side`). A line of code is never cut, however narrow its column: `WrappedCode`
highlights the source and wraps each line to the width its panel gets, at a space when
one is near, and starts each continuation under the line's first word after `CONTINUED`:

    Console(width=60).print(WrappedCode(source))   # a line of render.progress:

        if isinstance(event, Generation):
            return evolving(event, blocks, image=rows >= 1 +
            ↪ art, small=small)

so every character of every line is on the screen at 80 columns and in half of 160
(tests/test_tutor.py reads every topic at both widths and looks for each line).

What it leaves out: choosing the chapter and the functions it names (`story.references`,
`story.resolve`), paging (Rich's pager, `less`), and the pictures (`render.py`).
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text


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


CONTINUED = "↪ "  # starts a code line's continuation when it is wrapped


class WrappedCode:
    """Python source, highlighted, wrapped to whatever width it is given: a line too
    long goes on in the next row after `CONTINUED` (`...` without Unicode), so no
    character is ever cut, at 80 columns or in half of 160."""

    def __init__(self, source: str) -> None:
        self.source = source.expandtabs(4).rstrip("\n")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.syntax import Syntax

        width = max(options.max_width, 8)
        mark = CONTINUED if console.encoding.lower().startswith("utf") else "...  "[:2]
        highlighted = Syntax(self.source, "python").highlight(self.source)
        for line in highlighted.split("\n", allow_blank=True):
            line.rstrip()
            yield from _wrap_line(line, width, mark)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = max((len(line) for line in self.source.splitlines()), default=0)
        return Measurement(min(20, widest), widest)


def _wrap_line(line: Text, width: int, mark: str) -> list[Text]:
    """One highlighted line as rows of at most `width` cells, continuations marked."""
    indent = min(len(line.plain) - len(line.plain.lstrip(" ")), width // 2)
    mark = " " * indent + mark  # a continuation starts under its line's first word
    rows, first = [], True
    while True:
        room = width if first else width - len(mark)
        if len(line) <= room:
            rows.append(line if first else Text.assemble((mark, "dim"), line))
            break
        cut = line.plain.rfind(" ", room // 2, room) + 1 or room  # at a space if one is near
        head, line = line[:cut], line[cut:]
        rows.append(head if first else Text.assemble((mark, "dim"), head))
        first = False
    for row in rows:
        row.no_wrap, row.end = True, "\n"
    return rows


def code(source: str, title: str) -> RenderableType:
    """A function's source in a titled panel, wrapped (never cut) to the panel's width."""
    from rich.panel import Panel

    return Panel(WrappedCode(source), title=title, title_align="left")
