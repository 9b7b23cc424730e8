"""Keys and mouse clicks from a terminal: the bytes a key press sends, turned into events.

What this module teaches
------------------------
A terminal sends *bytes*, not keys. A letter is one byte (`q` is 0x71), but most other
keys are escape sequences that start with ESC (0x1b): the Up arrow is the three bytes
`ESC [ A`, Delete is `ESC [ 3 ~`, and in "application mode" Up is `ESC O A`. Reading
one byte at a time and calling each a key is why an arrow once skipped three tutor
chapters. A mouse sends escape sequences too, once a program asks for them with
`ESC [ ? 1002 h` (report presses, drags and releases) and `ESC [ ? 1006 h` (SGR
extended coordinates):

    ESC [ < b ; x ; y M     button b pressed (or dragged, if b has bit 32) at column x, row y
    ESC [ < b ; x ; y m     button released

b's two low bits say which button (0 left, 1 middle, 2 right), +32 means "moved while
held" and +64 is the wheel. If the left button was pressed at column 10 of row 5 and
dragged to column 20 of row 8, the terminal sends `ESC[<0;10;5M`, `ESC[<32;20;8M`, ...,
`ESC[<0;20;8m`; `Parser().feed(...)` turns those bytes into
`Mouse("press", 0, 9, 4)`, `Mouse("drag", 0, 19, 7)`, `Mouse("release", 0, 19, 7)`
(columns and rows counted from 0).

Two things make this harder than a lookup table:

1. **Split reads.** A sequence can arrive in two reads (`ESC [` now, `A` a moment later),
   so `Parser` keeps an unfinished sequence until the rest comes.
2. **The Esc key is also ESC.** A lone ESC with nothing after it is the Esc key, but only
   the clock can tell: `read_key` waits `escape_wait` seconds for more bytes, then calls
   `Parser.flush`, which reports what is left as keys.

Unknown sequences and invalid bytes are dropped, never passed on as letters; a sequence
that runs past 64 bytes without ending is garbage and dropped too.

What it leaves out: the terminfo database (the sequences here are the ones xterm,
tmux, GNOME Terminal, iTerm2 and Windows Terminal send), bracketed paste, and modifier
keys on arrows (Ctrl+Up is reported as 'up').
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

ESC = 0x1B
MAX_SEQUENCE = 64  # bytes; a longer "escape sequence" is garbage

# Final byte of `ESC [ ...` or `ESC O ...` -> key name.
_FINAL = {"A": "up", "B": "down", "C": "right", "D": "left", "H": "home", "F": "end",
          "P": "f1", "Q": "f2", "R": "f3", "S": "f4", "Z": "shift-tab"}
# Number of `ESC [ n ~` -> key name.
_TILDE = {1: "home", 2: "insert", 3: "delete", 4: "end", 5: "page-up", 6: "page-down",
          7: "home", 8: "end", 11: "f1", 12: "f2", 13: "f3", 14: "f4", 15: "f5", 17: "f6",
          18: "f7", 19: "f8", 20: "f9", 21: "f10", 23: "f11", 24: "f12"}
# Single control bytes with names of their own.
_CONTROL = {0x0D: "enter", 0x0A: "enter", 0x09: "tab", 0x7F: "backspace", 0x08: "backspace",
            0x00: "ctrl-space"}


@dataclass(frozen=True)
class Key:
    """A key: a character ('q', '+', '7', 'é') or a name ('enter', 'esc', 'up', 'ctrl-c')."""

    name: str


@dataclass(frozen=True)
class Mouse:
    """A mouse event at (x, y) = (column, row) from the top left, counted from 0.

    `action` is 'press', 'drag', 'release', 'move' (no button held) or 'wheel';
    `button` is 0 left, 1 middle, 2 right (for 'wheel': 0 up, 1 down).
    """

    action: str
    button: int
    x: int
    y: int


Event = Key | Mouse


def _sgr_mouse(params: str, final: str) -> Mouse | None:
    """`ESC [ < b ; x ; y M|m` -> Mouse, or None if the numbers are malformed."""
    fields = params.split(";")
    if len(fields) != 3 or not all(f.isdigit() for f in fields):
        return None
    b, x, y = (int(f) for f in fields)
    if x < 1 or y < 1:
        return None
    button = b & 3
    if b & 64:
        return Mouse("wheel", button & 1, x - 1, y - 1)
    if final == "m":
        return Mouse("release", button, x - 1, y - 1)
    if b & 32:
        return Mouse("move" if button == 3 else "drag", button, x - 1, y - 1)
    return Mouse("press", button, x - 1, y - 1)


def _csi(params: str, final: str) -> Event | None:
    """A complete `ESC [ params final` -> event, or None for one that means nothing here."""
    if params.startswith("<") and final in "Mm":
        return _sgr_mouse(params[1:], final)
    if final == "~":
        number = params.split(";")[0]
        name = _TILDE.get(int(number)) if number.isdigit() else None
        return Key(name) if name else None
    if final in _FINAL and all(ch.isdigit() or ch == ";" for ch in params):
        return Key(_FINAL[final])
    return None


class Parser:
    """Bytes in, whole events out: `feed` as bytes arrive, `flush` when none follow.

    >>> Parser().feed(b"q\\x1b[A\\x1b[<0;3;2M")
    [Key(name='q'), Key(name='up'), Mouse(action='press', button=0, x=2, y=1)]
    """

    def __init__(self) -> None:
        self.buffer = b""
        self.skipping = False  # inside an overlong sequence: drop it up to its final byte

    def feed(self, data: bytes) -> list[Event]:
        """Add bytes; return every event they complete (an unfinished tail is kept)."""
        self.buffer += data
        events: list[Event] = []
        while self.buffer:
            if self.skipping:
                byte, self.buffer = self.buffer[0], self.buffer[1:]
                self.skipping = 0x20 <= byte <= 0x3F
                continue
            used, event = self._next(self.buffer)
            if used == 0:  # an unfinished sequence: wait for more bytes
                break
            self.buffer = self.buffer[used:]
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[Event]:
        """No more bytes are coming: a waiting ESC is the Esc key; a cut character is dropped."""
        events: list[Event] = []
        while self.buffer:
            if self.buffer[0] == ESC:
                events.append(Key("esc"))
            self.buffer = self.buffer[1:]
            events += self.feed(b"")
        return events

    def _next(self, data: bytes) -> tuple[int, Event | None]:
        """Bytes used by the first event in `data` (0: unfinished), and the event."""
        first = data[0]
        if first == ESC:
            return self._escape(data)
        if first in _CONTROL:
            return 1, Key(_CONTROL[first])
        if first < 0x20:
            return 1, Key(f"ctrl-{chr(first + 0x60)}")
        if first < 0x80:
            return 1, Key(chr(first))
        # UTF-8: the lead byte says how long the character is
        length = 2 if first >> 5 == 0b110 else 3 if first >> 4 == 0b1110 else (
            4 if first >> 3 == 0b11110 else 0)
        if length == 0:
            return 1, None  # a stray continuation byte or an invalid lead byte
        if len(data) < length:
            return 0, None
        try:
            return length, Key(data[:length].decode("utf-8"))
        except UnicodeDecodeError:
            return 1, None

    def _escape(self, data: bytes) -> tuple[int, Event | None]:
        if len(data) == 1:
            return 0, None  # ESC alone: the Esc key or the start of a sequence; wait
        second = data[1]
        if second == ord("O"):  # SS3: ESC O final
            if len(data) < 3:
                return 0, None
            name = _FINAL.get(chr(data[2]))
            return 3, Key(name) if name else None
        if second != ord("["):
            if second == ESC:
                return 1, Key("esc")  # Esc pressed twice, or Esc then a sequence
            used, key = self._next(data[1:])  # ESC + a letter in one read: Alt+letter
            if used == 0:
                return 0, None
            if isinstance(key, Key) and len(key.name) == 1:
                return 1 + used, Key("alt-" + key.name)
            return 1, Key("esc")
        if len(data) >= 3 and data[2] == ord("M"):  # old X10 mouse: ESC [ M b x y
            if len(data) < 6:
                return 0, None
            b, x, y = data[3] - 32, data[4] - 33, data[5] - 33
            action = "release" if b & 3 == 3 else "drag" if b & 32 else "press"
            return 6, None if x < 0 or y < 0 else Mouse(action, b & 3, x, y)
        for i in range(2, min(len(data), MAX_SEQUENCE)):  # CSI: parameters, then a final
            byte = data[i]
            if 0x40 <= byte <= 0x7E:
                return i + 1, _csi(data[2:i].decode("ascii"), chr(byte))
            if not 0x20 <= byte <= 0x3F:  # not a parameter byte: the sequence is broken
                return i, None
        if len(data) >= MAX_SEQUENCE:
            self.skipping = True
            return MAX_SEQUENCE, None
        return 0, None


def read_key(fd: int | None = None, escape_wait: float = 0.05, flush: bool = True) -> str:
    """Wait for one whole key press on a terminal and return its name.

    Letters come back as themselves ('q', 'b', ' '), other keys by name: 'enter', 'esc',
    'up', 'down', 'left', 'right', 'page-up', 'backspace', 'tab', ... An arrow is one key,
    not three. Mouse events and sequences that mean nothing are skipped. The terminal is
    put in cbreak mode (no echo, no line editing, Ctrl-C still interrupts) only while
    waiting, and always restored, also on Ctrl-C. With `flush`, keys typed before the
    call are forgotten, so Enter pressed twice during a long step skips nothing.
    """
    import select
    import termios
    import tty

    fd = sys.stdin.fileno() if fd is None else fd
    saved = termios.tcgetattr(fd)
    parser = Parser()
    try:
        tty.setcbreak(fd, termios.TCSAFLUSH if flush else termios.TCSANOW)
        while True:
            # One byte at a time, so the keys typed after this one stay for the next call.
            if parser.buffer and not select.select([fd], [], [], escape_wait)[0]:
                events = parser.flush()
            else:
                byte = os.read(fd, 1)
                if not byte:
                    raise EOFError("the terminal closed")
                events = parser.feed(byte)
            for event in events:
                if isinstance(event, Key):
                    return event.name
    finally:
        with contextlib.suppress(termios.error):  # the terminal hung up: nothing to restore
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class Keyboard:
    """A terminal's keys for a whole session, read by a background thread.

    From `__enter__` to `__exit__` the terminal is in cbreak mode with echo off, so nothing
    typed ever lands on the screen, and it is restored on every way out (the end, an error,
    Ctrl-C, which still interrupts). Two modes:

    - **busy** (`with keyboard.busy():` around a long step): a key in `stops` (`n`, `q`,
      Esc) is remembered (`take`) and stops the step the way Ctrl-C would, by raising
      KeyboardInterrupt in the main thread, so the step is cancelled cleanly (a generator
      receives it at its `yield`, see presenter.py); every other key is dropped.
    - **waiting** (otherwise): keys queue up for `get`. `forget` drops those typed so
      far: call it *before* showing a prompt (Enter pressed twice during a step then skips
      nothing), never between the prompt and `get`, where it would drop a key typed the
      moment the prompt showed.

    The reading is `Parser` on whatever bytes arrive, so an arrow is one key here too.
    """

    def __init__(self, fd: int, stops: tuple[str, ...] = ("n", "q", "esc")) -> None:
        import queue
        import threading

        self.fd, self.stops = fd, stops
        self.keys: queue.Queue[str] = queue.Queue()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._read, name="keyboard", daemon=True)
        self._busy = False
        self._stop_key: str | None = None
        self._saved: list[int | list[bytes | int]] | None = None  # termios attributes

    def __enter__(self) -> Keyboard:
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd, termios.TCSANOW)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        import termios

        self.stopped.set()
        self.thread.join(timeout=1.0)
        if self._saved is not None:
            with contextlib.suppress(termios.error):  # the terminal hung up
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def _read(self) -> None:
        import select

        parser = Parser()
        while not self.stopped.is_set():
            try:
                ready = select.select([self.fd], [], [], 0.05)[0]
                data = os.read(self.fd, 1024) if ready else b""
            except OSError:
                data, ready = b"", [self.fd]
            if ready and not data:  # the terminal closed
                self.keys.put("eof")
                return
            events = parser.feed(data) if data else parser.flush()
            for event in events:
                if isinstance(event, Key):
                    self._key(event.name)

    def _key(self, name: str) -> None:
        import _thread

        with self.lock:
            if not self._busy:
                self.keys.put(name)
            elif name in self.stops and self._stop_key is None:
                self._stop_key = name
                _thread.interrupt_main()

    def busy(self) -> _Mode:
        """`with keyboard.busy():` -- keys in `stops` interrupt, others are dropped."""
        return _Mode(self, True)

    def waiting(self) -> _Mode:
        """`with keyboard.waiting():` inside a busy stretch (a pause mid-chapter)."""
        return _Mode(self, False)

    def _set(self, busy: bool) -> bool:
        with self.lock:
            before, self._busy = self._busy, busy
            if busy and not before:
                self._stop_key = None
            return before

    def take(self) -> str | None:
        """The key that interrupted the last busy stretch, if a key did (else Ctrl-C)."""
        with self.lock:
            key, self._stop_key = self._stop_key, None
            return key

    def forget(self) -> None:
        """Drop the keys typed so far (before a prompt is shown)."""
        import queue

        while True:
            try:
                self.keys.get_nowait()
            except queue.Empty:
                break

    def get(self) -> str:
        """Wait for the next key not yet read or forgotten, and return its name."""
        import queue

        while True:
            try:
                key = self.keys.get(timeout=0.1)  # a timeout lets Ctrl-C in
            except queue.Empty:
                continue
            if key == "eof":
                raise EOFError("the terminal closed")
            return key


class _Mode:
    """The context manager behind `Keyboard.busy` and `Keyboard.waiting`."""

    def __init__(self, keyboard: Keyboard, busy: bool) -> None:
        self.keyboard, self.busy, self.before = keyboard, busy, False

    def __enter__(self) -> None:
        self.before = self.keyboard._set(self.busy)

    def __exit__(self, *exc: object) -> None:
        self.keyboard._set(self.before)
