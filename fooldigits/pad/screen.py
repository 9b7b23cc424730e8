"""A full-screen terminal program from escape sequences: modes, pixels, redraws.

What this module teaches
------------------------
Everything `fooldigits draw` does to the terminal, with no library in between:

1. **Modes.** `Terminal` turns off echo and line editing (so every key arrives at once),
   asks for mouse reports (`ESC[?1002h`: presses, drags and releases; `ESC[?1006h`: in
   SGR form, see keys.py), hides the cursor (`ESC[?25l`), stops lines wrapping
   (`ESC[?7l`) and switches to the alternate screen (`ESC[?1049h`), so the shell's
   screen comes back untouched. Leaving undoes all of it -- on q, Esc, Ctrl-C, SIGTERM
   and any error -- because the undoing is in `__exit__`, with Ctrl-C and SIGTERM held
   back until it is done. Ctrl-Z and Ctrl-\\ are switched off: a stopped program would
   leave the shell in mouse mode.
2. **Pixels.** A cell shows two pixels: `▀` in the top pixel's grey on the bottom
   pixel's grey (`half_blocks`; xterm's 256-colour palette has 26 greys from black to
   white). If a column of the picture was [0.0, 1.0] the cell is a black `▀` on white.
3. **Redraw only what changed.** A frame is a list of screen lines; `Screen.update`
   writes only the lines that differ from the last frame, each after a cursor move
   `ESC[row;1H`, all in one write wrapped in "synchronised output" (`ESC[?2026h` ...
   `ESC[?2026l`, ignored by terminals that lack it): nothing flickers.

A line is built from `Piece`s, (text with escape sequences, columns it takes), so the
layout can count columns without counting escape bytes. The small pictures the pad puts
together live here too: `bar_lines` (ten probabilities as bars), `big_digit` (a digit in
5 x 7 figures of full blocks) and `percent` (which never rounds 99.996% up to 100%).

What it leaves out: terminfo (these sequences are xterm's, which every common terminal
and tmux speak), 24-bit colour, and Windows consoles.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
from types import FrameType, TracebackType

import numpy as np

from fooldigits.present.render import RAMP, bar

ENTER = "\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[?1002h\x1b[?1006h\x1b[2J"
LEAVE = "\x1b[0m\x1b[?1006l\x1b[?1002l\x1b[?7h\x1b[?1049l\x1b[?25h"
GREYS = [16, *range(232, 256), 231]  # palette numbers: black, 24 greys, white

Piece = tuple[str, int]  # (text with escape sequences, columns it takes)
FONT = {  # 5 x 7 figures for the predicted digit
    "0": "01110 10001 10011 10101 11001 10001 01110", "1": "00100 01100 00100 00100 00100 "
    "00100 01110", "2": "01110 10001 00001 00010 00100 01000 11111", "3": "11111 00010 00100 "
    "00010 00001 10001 01110", "4": "00010 00110 01010 10010 11111 00010 00010", "5": "11111 "
    "10000 11110 00001 00001 10001 01110", "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000", "8": "01110 10001 10001 01110 10001 "
    "10001 01110", "9": "01110 10001 10001 01111 00001 00010 01100", "?": "01110 10001 00001 "
    "00010 00100 00000 00100"}


def text(s: str, style: str = "") -> Piece:
    return (f"\x1b[{style}m{s}\x1b[0m" if style else s), len(s)


def join(pieces: list[Piece], width: int) -> str:
    """Pieces side by side, cut at `width` columns: the piece that does not fit ends in
    '…' (`cut`), so a sentence too long for the terminal is shortened, never blank."""
    out, used = [], 0
    for s, n in pieces:
        if used + n > width:
            if width - used > 0:
                out.append(cut(s, width - used))
            break
        out.append(s)
        used += n
    return "".join(out)


ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def cut(s: str, columns: int) -> str:
    """The first `columns` columns of `s`, the last one '…', its escape sequences kept
    (a style is reset after the cut). One column per character: what `text` counts."""
    out, used, at = [], 0, 0
    for match in [*ESCAPE.finditer(s), None]:
        plain = s[at:match.start() if match else len(s)]
        if used + len(plain) >= columns:
            out.append(plain[: columns - used - 1] + "…")
            return "".join(out) + ("\x1b[0m" if "\x1b" in s else "")
        out.append(plain)
        used += len(plain)
        if match:
            out.append(match.group())
            at = match.end()
    return "".join(out)


def half_blocks(pixels: np.ndarray, blocks: bool, mark: tuple[int, int, int] | None = None
                ) -> list[str]:
    """Pixels (2k, w) in [0, 1] -> k lines of w cells; `mark` = (row, col, colour)."""
    level = np.clip(np.rint(np.asarray(pixels) * 25), 0, 25).astype(np.uint8)  # (2k, w)
    if not blocks:
        mean = (level[0::2].astype(np.int64) + level[1::2]) * len(RAMP) // 52  # (k, w)
        rows = [[RAMP[min(m, len(RAMP) - 1)] for m in line] for line in mean]
        if mark is not None:
            rows[mark[0] // 2][mark[1]] = "+"
        return ["".join(row) for row in rows]
    colours = np.asarray(GREYS, dtype=np.uint8)[level]  # (2k, w) palette numbers
    if mark is not None:
        colours[mark[0], mark[1]] = mark[2]
    return [_cells(colours[r].tobytes(), colours[r + 1].tobytes())
            for r in range(0, len(colours) - 1, 2)]


@functools.lru_cache(maxsize=1024)
def _cells(top: bytes, bottom: bytes) -> str:
    """One line of `▀` cells from palette numbers; cached, as most lines repeat."""
    parts, last = [], (-1, -1)
    for pair in zip(top, bottom, strict=True):
        if pair != last:
            parts.append(f"\x1b[38;5;{pair[0]};48;5;{pair[1]}m")
            last = pair
        parts.append("▀")
    return "".join(parts) + "\x1b[0m"


def percent(p: float) -> str:
    """93.14%, or as many decimals as it takes not to round 0.99995 up to 100%."""
    decimals = 2
    while decimals < 6 and p < 1 and f"{100 * p:.{decimals}f}" == "100." + "0" * decimals:
        decimals += 1
    return f"{100 * p:.{decimals}f}%"


def tenths(p: float) -> str:
    """A probability to a tenth of a percent, ' 93.1%', never rounded up to 100.0% (99.98%
    is ' 99.9%', as `percent` beside it says 99.98%)."""
    return f"{100 * p if p >= 1 else min(100 * p, 99.9):5.1f}%"


def bar_lines(p: np.ndarray | None, title: str, large: bool) -> list[Piece]:
    """A title and ten rows 'd ██████▌ 93.1%' (19 columns each), the winner in green."""
    rows = [text(f"{('▶ ' if large else '') + title:<19}", "1;4" if large else "1")]
    winner = -1 if p is None else int(np.argmax(p))
    for d in range(10):
        if p is None:
            rows.append(text(f"{d:<19}"))
            continue
        style = "1;32" if d == winner else ""
        rows.append(text(f"{d} {bar(float(p[d]), 10):<10} {tenths(float(p[d]))}", style))
    return rows


def big_digit(digit: int | None) -> list[str]:
    """A digit (None: '?') in 5 x 7 figures of full blocks: 7 lines of 10 columns."""
    rows = FONT["?" if digit is None else str(digit)].split()
    return [row.replace("1", "██").replace("0", "  ") for row in rows]


class Screen:
    """The lines on the terminal now; `update` returns what rewrites only the changed ones."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.size: tuple[int, int] | None = None

    def update(self, lines: list[str], size: tuple[int, int]) -> str:
        out = []
        if size != self.size:  # resized: start from a blank screen
            self.size, self.shown = size, []
            out.append("\x1b[0m\x1b[2J")
        lines = lines[: size[1]]
        for i, line in enumerate(lines):
            if i >= len(self.shown) or self.shown[i] != line:
                out.append(f"\x1b[{i + 1};1H{line}\x1b[0m\x1b[K")
        self.shown = lines
        return f"\x1b[?2026h{''.join(out)}\x1b[?2026l" if out else ""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


class Terminal:
    """`with Terminal():` keys arrive one by one, the mouse reports, the screen is ours.

    On the way out -- whatever the reason -- mouse reporting is switched off, the
    cursor shown, the normal screen back and the terminal's modes as they were; Ctrl-C
    and SIGTERM wait until that is done.
    """

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out

    def write(self, data: str) -> None:
        view = memoryview(data.encode())
        while view:
            view = view[os.write(self.fd_out, view):]

    def __enter__(self) -> Terminal:
        import termios

        self.saved = termios.tcgetattr(self.fd_in)
        self.old_term = signal.getsignal(signal.SIGTERM)
        if self.old_term in (signal.SIG_DFL, None):  # a caller's own handler stays in charge
            signal.signal(signal.SIGTERM, _terminate)
        mode = termios.tcgetattr(self.fd_in)
        mode[0] &= ~(termios.IXON | termios.ICRNL)  # Ctrl-S and Enter arrive as keys
        mode[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN)  # no echo, no lines
        off = bytes([os.fpathconf(self.fd_in, "PC_VDISABLE") % 256])
        mode[6][termios.VSUSP] = mode[6][termios.VQUIT] = off  # no Ctrl-Z, no Ctrl-\\
        mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
        try:
            termios.tcsetattr(self.fd_in, termios.TCSADRAIN, mode)
            self.write(ENTER)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        import termios

        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            with contextlib.suppress(OSError, termios.error):  # the terminal may be gone
                self.write(LEAVE)
                termios.tcsetattr(self.fd_in, termios.TCSADRAIN, self.saved)
        finally:
            signal.signal(signal.SIGTERM, self.old_term)
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
