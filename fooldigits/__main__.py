"""The `fooldigits` command's entry point (`main`), and `python -m fooldigits`.

It lives outside `fooldigits.cli` on purpose: importing the command line (typer, pathlib,
...) takes 50-100 ms, and a Ctrl-C or SIGTERM in that time must end like any other, in one
`[stopped]` line and exit code 130, not in a traceback. So SIGTERM and SIGHUP become
interrupts first, with the standard library alone, and the CLI is imported inside the
`try` (`cli.main` then installs its own handlers and does the rest).
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stopped_while_importing(info: sys.UnraisableHookArgs) -> None:
    """An interrupt that lands in a callback Python runs for itself while importing (an
    import lock's weakref callback) cannot reach our `try`: Python would print "Exception
    ignored in ..." with a traceback and go on. While the CLI is imported, it is the
    interrupt it is: one `[stopped]` line and 130 (nothing has been written yet)."""
    if not isinstance(info.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(info)
        return
    if sys.stderr is not None:
        sys.stderr.write("[stopped] interrupted\n")
        sys.stderr.flush()
    os._exit(130)


def _interrupted(err: BaseException | None) -> bool:
    """Whether an interrupt is behind `err`: raised as itself, or wrapped by Python in
    another exception (its cause or context)."""
    seen = 0
    while err is not None and seen < 20:
        if isinstance(err, KeyboardInterrupt):
            return True
        err, seen = err.__cause__ or err.__context__, seen + 1
    return False


def main() -> None:
    """Run the `fooldigits` command; an interrupt before it is ready: `[stopped]`, 130."""
    try:
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), _interrupt)
        sys.unraisablehook = _stopped_while_importing
        from fooldigits.cli import main as cli_main

        sys.unraisablehook = sys.__unraisablehook__
        cli_main()
    except Exception as err:  # an interrupt Python wrapped in another exception (a
        if not _interrupted(err):  # RuntimeError from a class's __set_name__ while
            raise  # typer imports, say) is still the interrupt
        _goodbye()
    except KeyboardInterrupt:
        _goodbye()


def _goodbye() -> None:
    """One `[stopped]` line and exit code 130."""
    while True:  # a second signal while saying goodbye starts the goodbye again
        try:
            for name in ("SIGINT", "SIGTERM", "SIGHUP"):
                if hasattr(signal, name):
                    signal.signal(getattr(signal, name), signal.SIG_IGN)
            if sys.stderr is not None:
                sys.stderr.write("[stopped] interrupted\n")
            break
        except KeyboardInterrupt:
            continue
        except (OSError, ValueError):  # no stderr to say it on
            break
    raise SystemExit(130) from None


if __name__ == "__main__":
    main()
