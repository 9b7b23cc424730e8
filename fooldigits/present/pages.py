"""Screens: a chapter's pieces cut into screenfuls, for the tutor's pause between them.

What this module teaches
------------------------
Paging is packing. A screen of `height` rows holds `height - 1` rows of a chapter (the
last one takes the prompt "more below", with the cursor after it). The pieces of a
chapter arrive one at a time, while it computes, so the presenter only ever decides about
the next one: does it fit in the rows left on this screen? If it does, it is printed. If
not, rather than leave the rest of the screen empty, the largest part of it that fits is
printed (`head`), then the pause, then the rest (`tail`) on the next screen. A piece is
cut only where a reader can stop (`places`):

    Images   between rows of the grid, the title with the first row
    Table    between rows; the rest repeats the column names (the first ones may have
             scrolled away by then); a confusion matrix is kept whole
    Say      between lines of the text, as the terminal wraps it
    others   never (a bar chart, a reading: a few rows that belong together)

Two narrow pieces in a row (tables, bar charts, a grid of two or three digits) go side by
side when the terminal is wide enough (`Pair`, `beside`): two short tables of four
columns take the rows of one.

The rest is a piece again, drawn after the pause at the terminal's size at that moment
(the student may have resized it while reading). A short sentence that introduces a
figure should be read beside it: `keep_with` says when to pause *before* the sentence.

Worked example, ten digits at half size on an 80 x 24 terminal with 12 rows left::

    >>> places(grid, console, small=True)           # two rows of five
    2
    >>> head(grid, 1).images.shape, tail(grid, 1).title
    ((5, 784), '')
    >>> largest(2, lambda k: [10, 19][k - 1], room=12)   # rows a head of k places takes
    1

What it leaves out: the drawing (render.py), the keys (the tutor's pager callback), and
counting the rows used (presenter.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from rich.console import Console
from rich.text import Text

from fooldigits.core.pieces import Bars, Images, Say, Table
from fooldigits.present import render


@dataclass(frozen=True)
class Pair:
    """Two narrow pieces (tables, bar charts, a grid of a few digits) that came one after
    the other, drawn side by side when the terminal is wide enough for both (`beside`);
    never cut."""

    left: object
    right: object


NARROW = (Table, Bars, Images)  # the pieces that may go side by side


def beside(left: object, right: object, widths: tuple[int, int], width: int) -> bool:
    """Draw two consecutive pieces side by side? When both are tables, bar charts or
    grids, not two grids (a grid's row is as wide as it can be), not a confusion matrix,
    and their `widths` fit in `width` columns, three apart."""
    return (isinstance(left, NARROW) and isinstance(right, NARROW)
            and not (isinstance(left, Images) and isinstance(right, Images))
            and not getattr(left, "diagonal", False) and not getattr(right, "diagonal", False)
            and widths[0] + 3 + widths[1] <= width)


def places(item: object, console: Console, small: bool) -> int:
    """Into how many parts `item` can be cut at the console's width (1: kept whole)."""
    if isinstance(item, Images):
        return -(-len(item.images) // render.grid_row(item, console.width, small))
    if isinstance(item, Table) and not item.diagonal:  # a confusion matrix stays square
        return max(len(item.rows), 1)
    if isinstance(item, Say):
        return len(_lines(item, console))
    return 1


def head(item: object, parts: int, console: Console, small: bool) -> object:
    """The first `parts` parts of `item`, as one piece (all of it when that is every part)."""
    if parts >= places(item, console, small):
        return item
    if isinstance(item, Images):
        n = parts * render.grid_row(item, console.width, small)
        return replace(item, images=item.images[:n], captions=list(item.captions[:n]))
    if isinstance(item, Table):
        return replace(item, rows=list(item.rows[:parts]))
    if isinstance(item, Say):
        return Say(item.text[: _offset(item, parts, console)].rstrip(), item.tone)
    return item


def tail(item: object, parts: int, console: Console, small: bool) -> object | None:
    """What is left of `item` once its first `parts` parts were shown; None if nothing."""
    if parts >= places(item, console, small):
        return None
    if isinstance(item, Images):
        n = parts * render.grid_row(item, console.width, small)
        return replace(item, title="", images=item.images[n:], captions=list(item.captions[n:]))
    if isinstance(item, Table):
        return replace(item, title="", rows=list(item.rows[parts:]))
    if isinstance(item, Say):
        return Say(item.text[_offset(item, parts, console) :].lstrip(), item.tone)
    return None


def largest(count: int, rows: Callable[[int], int], room: int) -> int:
    """The most parts (of `count`) whose head fits in `room` rows, `rows(k)` being the rows
    a head of k parts takes; 0 when not even one part fits."""
    best = 0
    for k in range(1, count + 1):
        if rows(k) > room:
            break
        best = k
    return best


def keep_with(sentence: int, figure: int, room: int, page: int) -> bool:
    """Pause before a sentence of `sentence` rows that introduces a figure whose first part
    takes `figure` rows? Yes when the sentence alone fits in the `room` left, but not with
    its figure, and both fit on a fresh `page`."""
    return sentence <= room < sentence + figure <= page


def _lines(item: Say, console: Console) -> list[str]:
    return [line.plain for line in Text(item.text).wrap(console, max(console.width, 1))]


def _offset(item: Say, parts: int, console: Console) -> int:
    """Where the text of `item` goes on after its first `parts` wrapped lines."""
    at = 0
    for line in _lines(item, console)[:parts]:
        found = item.text.find(line.strip(), at)
        if found < 0:  # wrapping changed a character (a tab): cut at the count instead
            return min(len(item.text), at + len(line))
        at = found + len(line.strip())
    return at
