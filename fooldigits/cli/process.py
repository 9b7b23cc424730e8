"""The command as a process: every way it can end is one line on stderr and an exit code.

What this module teaches
------------------------
A command line meets more than its options: a closed or full stdout, a terminal that
hangs up, Ctrl-C, SIGTERM, a Python warning, a BLAS library that starts a thread per
core. Each gets one sentence and a known exit code, never a traceback:

    [error] ...        a library error (`FoolDigitsError`) or a stream that failed: exit 1
    [stopped] ...      Ctrl-C or SIGTERM, saying what was kept: exit 130 (`stopped`)
    [warning] ...      a Python warning, one line instead of two of source (`warning_line`)

`say` writes every such line, with the control characters of user text escaped
(`reading.printable`). A closed stdin, stdout or stderr is refused before anything runs
(`require_streams`); a stdout that cannot encode a file name writes it escaped
(`tolerant_streams`); a stdout that fails at the end is one sentence (`flush_stdout`).
`one_blas_thread` sets one BLAS thread before NumPy loads, unless the user chose.
`cli.main` calls them in order, and `cli.command` turns each command's exceptions into
these lines.

What it leaves out: the commands and their options (`cli/__init__.py` and the chapter
modules), and Windows' console (no termios, no SIGHUP: those parts do nothing there).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn, TextIO

try:  # termios.error (no OSError): the terminal hung up under `draw` or the tutor
    import termios

    TERMINAL_GONE: tuple[type[Exception], ...] = (termios.error,)
except ImportError:  # no termios (Windows): nothing raises it
    TERMINAL_GONE = ()


BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread() -> None:
    """One BLAS thread unless the user chose a number: set before NumPy loads its BLAS.

    fooldigits multiplies small matrices (a mini-batch, a GA generation); a second thread
    gains little on a quiet machine, and on a busy two-core one (a classroom server) two
    spinning threads made training up to 30x slower. `OPENBLAS_NUM_THREADS=2 fooldigits
    ...` uses two.
    """
    if not any(name in os.environ for name in BLAS_THREADS):
        for name in BLAS_THREADS:
            os.environ[name] = "1"


_STOP_SAID = False  # the `[stopped]` line was printed already


def say(line: str) -> None:
    """One line on stderr, every control character of user text in it escaped."""
    from fooldigits.core.reading import printable

    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(printable(line, None) + "\n")
            sys.stderr.flush()


def stopped(err: BaseException, *, last: bool = False) -> None:
    """Ctrl-C or SIGTERM: one `[stopped]` line saying what was kept (the caller exits 130).

    `last` (the process ends now): further signals are ignored, so a second Ctrl-C cannot
    interrupt the goodbye with a traceback, and nothing is said if a command said it.
    """
    global _STOP_SAID
    if last:
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                with contextlib.suppress(ValueError, OSError):  # ValueError: not main thread
                    signal.signal(getattr(signal, name), signal.SIG_IGN)
        if _STOP_SAID:
            return
    _STOP_SAID = True
    kept = getattr(err, "message", "")
    say(f"[stopped] interrupted{': ' + kept if kept else ''}")


STREAMS = (("stdin", "input", "<&-", "</dev/null"), ("stdout", "output", ">&-", ">/dev/null"),
           ("stderr", "error output", "2>&-", "2>/dev/null"))


def require_streams() -> None:
    """A closed standard stream (Python sets it to None): one sentence and exit 1."""
    for name, words, closed, instead in STREAMS:
        if getattr(sys, name) is None:
            line = (f"[error] the standard {words} is closed ({closed}): fooldigits needs it "
                    f"open; give it /dev/null instead ({instead})\n")
            for stream in (sys.stderr, sys.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError, ValueError):
                        stream.write(line)
                        stream.flush()
                    break
            raise SystemExit(1)


def warning_line(message: Warning | str, category: type[Warning], filename: str,
                 lineno: int, file: TextIO | None = None, line: str | None = None) -> None:
    """A Python warning that slipped through: one `[warning]` line, not two of source."""
    say(f"[warning] {message} ({Path(filename).name}:{lineno})")


def tolerant_streams() -> None:
    """On a stdout that cannot hold every character (PYTHONIOENCODING=ascii, a C locale),
    write a file name like sévén.txt as s\\xe9v\\xe9n.txt instead of failing the command."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")


def flush_stdout() -> None:
    """A closed pipe, a full disk or an encoding stdout cannot take: one sentence, exit 1."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError, UnicodeError) as err:
        stdout_failed(err)


def stdout_failed(err: BaseException) -> NoReturn:
    """Standard output cannot take what the command writes: one sentence, exit 1 at once."""
    reason = getattr(err, "strerror", None) or type(err).__name__
    with contextlib.suppress(OSError):
        sys.stderr.write(f"[error] could not write the output: {reason}\n")
    os._exit(1)  # stdout is unusable, so skip the interpreter's own flush of it
