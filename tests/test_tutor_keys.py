"""The tutor in a pseudo-terminal at 80 x 24: keys typed while a chapter computes leave no
trace, `n` skips the step, `q` leaves, and the terminal is restored. Its navigation rules
are tested without a terminal in test_navigation.py."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX terminal")


class Terminal:
    """A child process on a pseudo-terminal of a given size, and everything it wrote."""

    def __init__(self, *args: str, columns: int = 80, rows: int = 24) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", OPENBLAS_NUM_THREADS="1")
        for name in ("COLUMNS", "LINES", "NO_COLOR"):
            env.pop(name, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fooldigits", *args], stdin=slave, stdout=slave,
            stderr=slave, env=env, start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.output = b""

    def wait_for(self, *texts: str, timeout: float = 60.0, since: int | None = None) -> int:
        """Read until one of `texts` appears after position `since` (by default, after what
        was read so far); its position in output."""
        start = len(self.output) if since is None else since
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [at for text in texts if (at := self.output.find(text.encode(), start)) >= 0]
            if found:
                return min(found)
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:  # the child has gone
                    break
        raise AssertionError(f"{texts!r} did not appear; the screen ended with "
                             f"{self.output[-600:].decode(errors='replace')!r}")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def echo_is_on(self) -> bool:
        return bool(termios.tcgetattr(self.master)[3] & termios.ECHO)

    def close(self) -> int:
        try:
            code = self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
            os.close(self.master)
        return code


def test_keys_typed_during_a_long_step_leave_no_trace_and_n_skips_it() -> None:
    term = Terminal("tutor", "--chapter", "fool")
    try:
        term.wait_for("5. Fooling")
        term.wait_for("n: skip to the next chapter")  # the live view of a GA run
        assert not term.echo_is_on()  # echo is off for the whole session
        before = len(term.output)
        term.type("xyz\x1b[B\r")  # letters, an arrow, Enter: all ignored while it computes
        time.sleep(0.5)
        term.type("n")
        chapter = term.wait_for("6. Your own drawings", timeout=30)
        typed = term.output[before:]
        assert b"xyz" not in typed and b"^[" not in typed
        # q once chapter 6's pause (or its pager) shows: the chapter computes for well under
        # a second, and a q typed as it ended, before the pause showed, was forgotten
        term.wait_for("r: again with a new seed", "more below", since=chapter)
        term.type("q")
        term.wait_for("The end.", timeout=30)
        assert term.close() == 0
    finally:
        if term.process.poll() is None:
            os.killpg(term.process.pid, signal.SIGKILL)


def test_ctrl_c_during_a_step_stops_and_restores_the_terminal() -> None:
    term = Terminal("tutor", "--chapter", "fool")
    try:
        term.wait_for("n: skip to the next chapter")
        term.type("\x03")
        term.wait_for("[stopped]", timeout=30)
        assert term.process.wait(timeout=20) == 130
        assert term.echo_is_on()  # the terminal is as it was before
        assert term.close() == 130
    finally:
        if term.process.poll() is None:
            os.killpg(term.process.pid, signal.SIGKILL)
