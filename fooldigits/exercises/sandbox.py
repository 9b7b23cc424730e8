"""The parent side of the exercise checker: run a student's file in a child process.

What this module teaches
------------------------
How a checker keeps a student's code out of its own process, keeps the clock itself,
and leaves nothing behind. `run_file`:

1. reads the student's file through `reading.open_regular` (a FIFO, a device or a
   folder is refused, the size is bounded) and refuses a link to, or a copy of,
   fooldigits' own code, where the reference answers live;
2. copies it into a fresh temporary folder and starts `python -I child.py` there in a
   session of its own, with a minimal environment (no HOME, no PWD), the plan on
   standard input (an unlinked temporary file), its printed output sent to another
   unlinked file, and a pipe to answer on whose number is only in the plan;
3. meanwhile this process is a *child subreaper* (orphans of the child become its
   children, not init's) and not *dumpable* (a process of the same user cannot open
   its /proc/PID/fd/1, its stdout, or /proc/PID/cwd); when it runs as root the child
   also starts without capabilities, so root's power to look into other processes
   does not pass to the student's code;
4. listens to the pipe only (`answers.Answers`, bounded to 64 MB), with its own clock:
   `STARTUP` seconds for Python and NumPy to start, then `timeout` seconds from the
   moment the child says it is about to import the student's file -- whatever the
   student's code deletes, stops or kills, the deadline is kept here;
5. then kills the child's whole process group and every process it inherited
   (`_sweep`: forks that called setsid() or setpgid() too), and reads at most
   `MAX_OUTPUT` characters of what was printed through its own file descriptor.

It never reads a file the child could have replaced: the answers come through the
pipe, the printed output through a descriptor opened before the child existed.

What it leaves out: real isolation. The child runs as the same user, so it can still
write any file that user can, signal the checker, or find the pipe by searching its
own descriptors; docs/exercises.md lists what is protected and what is not.

Worked example:
    run = run_file(Path("mywork/sigmoid.py"), [Call("sigmoid", (z,), "small numbers")])
    run.outcomes[0].value      # the array the student's sigmoid(z) returned
    run.ending                 # "" when every call finished
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, BinaryIO

from fooldigits import FoolDigitsError
from fooldigits.core.reading import open_regular, read_at_most
from fooldigits.exercises import answers, child, readback
from fooldigits.exercises.answers import Answers, Call, Run

if TYPE_CHECKING:
    from numpy import ndarray

CHILD = Path(child.__file__)
PACKAGE = os.path.realpath(Path(__file__).parent.parent)  # fooldigits/: reads refused
REFERENCE = Path(__file__).with_name("reference.py")
STUBS = os.path.join(PACKAGE, "exercises", "stubs")  # what `exercise start` copies
STARTUP = 60.0  # seconds the child may take to start Python and NumPy, on a busy machine
GRACE = 1.0  # seconds to wait, after the last answer, for the supervisor's report
CPU_SLACK = 10  # processor seconds beyond the timeout: a backstop if the checker dies
MAX_SOURCE = 1_000_000  # bytes of a student's file
MAX_OUTPUT = 4_000  # characters of the student's printed output kept
# control characters but tab and newline, and the invisible ones that reorder or hide
# text (U+202E prints what follows backwards, U+200B is a zero-width space)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e"
                     "\u2060-\u2069\ufeff]")
ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
       "LANG": "C.UTF-8", "PATH": os.defpath}


# -- step 1: the student's file ----------------------------------------------------------------
def _inside_package(path: str) -> bool:
    return path == PACKAGE or path.startswith(PACKAGE + os.sep)


def read_source(path: Path) -> bytes:
    """The student's file, or one sentence: not a small regular file, or not theirs."""
    path = Path(path)
    real = os.path.realpath(path)
    if _inside_package(real):
        named = str(path) if os.path.abspath(path) == real else f"{path} ({real})"
        if os.path.dirname(real) == STUBS:  # a teacher trying the stub as it ships
            raise FoolDigitsError(
                f"{named} is fooldigits' own stub, not your work: the checker refuses it; "
                f"`fooldigits exercise start {Path(real).stem} DIR` copies it to DIR, "
                "and the copy can be checked")
        raise FoolDigitsError(f"{named} is fooldigits' own file, where the reference "
                              "answers live, not your work: the checker refuses it")
    with open_regular(path, "your file") as f:
        info = os.fstat(f.fileno())
        try:
            source = read_at_most(f, MAX_SOURCE + 1)
        except OSError as err:
            raise FoolDigitsError(f"cannot read {path}: {err.strerror}") from None
    if len(source) > MAX_SOURCE:
        raise FoolDigitsError(f"{path} is larger than {MAX_SOURCE // 1_000_000} MB; "
                              "is it the right file?")
    reference = REFERENCE.stat()
    if (info.st_dev, info.st_ino) == (reference.st_dev, reference.st_ino) \
            or source == REFERENCE.read_bytes():
        raise FoolDigitsError(f"{path} is a copy of fooldigits' reference answers "
                              "(fooldigits/exercises/reference.py), not your work: the "
                              "checker refuses it")
    return source


# -- step 3: Linux process controls, prctl(2) through ctypes (this module only) -------------
PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
LAST_CAPABILITY = 63  # more than any kernel has; dropping an unknown one just fails
SWEEPS = 100  # rounds of killing inherited processes (each round reaps their orphans)


def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl, or None off Linux (there, killing the process group is all)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def prctl(option: int, argument: object = 0) -> int:  # a number or ctypes.byref
        if isinstance(argument, int):
            argument = ctypes.c_ulong(argument)
        zero = ctypes.c_ulong(0)
        return int(function(ctypes.c_int(option), argument, zero, zero, zero))

    return prctl


PRCTL = _load_prctl()


def _children() -> set[int]:
    """The process ids of this process's children, from /proc."""
    me, found = os.getpid(), set[int]()
    try:
        for task in os.listdir(f"/proc/{me}/task"):
            with open(f"/proc/{me}/task/{task}/children") as f:
                found.update(int(pid) for pid in f.read().split())
        return found
    except (OSError, ValueError):  # no children files on this kernel: read every stat
        pass
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        with contextlib.suppress(OSError, ValueError, IndexError), \
                open(f"/proc/{entry}/stat") as f:
            if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                found.add(int(entry))
    return found


@contextlib.contextmanager
def shielded() -> Iterator[set[int]]:
    """While a child runs, this process adopts its orphans and cannot be looked into.

    Yields the children it had before, which `_sweep` spares.
    """
    spare = _children()
    if PRCTL is None:
        yield spare
        return
    import ctypes

    reaper = ctypes.c_int(0)
    PRCTL(PR_GET_CHILD_SUBREAPER, ctypes.byref(reaper))
    dumpable = PRCTL(PR_GET_DUMPABLE)
    PRCTL(PR_SET_CHILD_SUBREAPER, 1)
    PRCTL(PR_SET_DUMPABLE, 0)
    try:
        yield spare
    finally:
        PRCTL(PR_SET_DUMPABLE, 0 if dumpable == 0 else 1)
        PRCTL(PR_SET_CHILD_SUBREAPER, reaper.value)


def _drop_capabilities() -> None:
    """Between fork and exec, as root: no capability survives into the child."""
    if PRCTL is not None:
        PRCTL(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
        for capability in range(LAST_CAPABILITY + 1):
            PRCTL(PR_CAPBSET_DROP, capability)


def _sweep(spare: set[int]) -> None:
    """Step 5: kill and reap every child this process inherited, until none is left."""
    for _ in range(SWEEPS):
        strays = _children() - spare
        if not strays:
            return
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in strays:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)


def _end(process: subprocess.Popen[bytes], spare: set[int]) -> None:
    """The child's process group, then whatever escaped it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    process.wait()
    _sweep(spare)


# -- step 4: listening, with the parent's own clock -------------------------------------------
def _listen(fd: int, heard: Answers, timeout: float) -> readback.Stop:
    """Read the pipe until the child reports its end, the pipe closes, or time is up."""
    deadline, grace, ready = time.monotonic() + STARTUP, math.inf, False
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if now >= grace:
                return readback.Stop("closed")  # every answer in; the report never came
            if now >= deadline:
                if not ready:
                    raise FoolDigitsError(f"the checking process did not start within "
                                          f"{STARTUP:g} s; is the machine very busy?")
                return readback.Stop("timeout")
            if not selector.select(min(deadline, grace) - now):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return readback.Stop("closed")
            try:
                messages = heard.feed(chunk)
            except answers.UnreadableError as err:
                return readback.Stop("garbled", str(err))
            for message in messages:
                if message["kind"] == "ready" and not ready:
                    ready, deadline = True, time.monotonic() + timeout
                elif message["kind"] == "done":
                    grace = time.monotonic() + GRACE
                elif message["kind"] == "ended":
                    return readback.Stop("ended")


def _printed(file: BinaryIO) -> str:
    """What the student's code printed: the first `MAX_OUTPUT` characters, cleaned."""
    raw = os.pread(file.fileno(), 4 * MAX_OUTPUT, 0)
    printed = raw.decode("utf-8", "replace")
    output = CONTROL.sub("?", printed[:MAX_OUTPUT])
    if len(printed) > MAX_OUTPUT or os.fstat(file.fileno()).st_size > len(raw):
        output += "\n... (more output not shown)"
    return output


def run_file(path: Path, calls: list[Call], timeout: float = 10.0,
             memory_mb: int = 1024) -> Run:
    """Run `calls` on the functions of the student's file `path` in a child process."""
    source = read_source(Path(path))  # step 1
    name = Path(path).name
    heard = Answers()
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(
            prefix="fooldigits-check-", ignore_cleanup_errors=True))
        work = Path(tmp, "work")  # step 2
        work.mkdir()
        (work / name).write_bytes(source)
        plan, printed = (stack.enter_context(tempfile.TemporaryFile()) for _ in range(2))
        read_end, write_end = os.pipe()
        stack.callback(os.close, read_end)
        plan.write(answers.plan(calls, {
            "package": PACKAGE, "student": str(work / name), "channel": write_end,
            "memory": memory_mb * 2**20, "cpu": math.ceil(timeout) + CPU_SLACK}))
        plan.seek(0)
        spare = stack.enter_context(shielded())  # step 3
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", str(CHILD)], cwd=work, env=ENV, stdin=plan,
                stdout=printed, stderr=subprocess.STDOUT, start_new_session=True,
                pass_fds=(write_end,),
                preexec_fn=_drop_capabilities if os.geteuid() == 0 else None)
        finally:
            os.close(write_end)
        try:
            stop = _listen(read_end, heard, timeout)  # step 4
        finally:
            _end(process, spare)  # step 5
        output = _printed(printed)
    if not any(m["kind"] == "ready" for m in heard.messages):
        raise FoolDigitsError("the checking process failed to start: "
                              f"{answers.clean(output.strip()[-300:]) or 'no message'}")
    return readback.read_run(calls, heard.messages, stop, name, timeout, memory_mb, output)


class _Collect:
    """A sink that keeps the frames in memory, for `run_module`."""

    def __init__(self) -> None:
        self.heard = Answers()

    def send(self, head: child.Head, arrays: list[ndarray] | None = None) -> None:
        self.heard.feed(child.frame(head, arrays))


def run_module(module: ModuleType, calls: list[Call]) -> Run:
    """Run `calls` in this process on a module we trust (the tests use the reference)."""
    described, arrays = answers.specs(calls)
    sink = _Collect()
    sink.send({"kind": "loaded", "status": "ok"})
    child.serve(module, Path(f"{module.__name__}.py"), described, arrays, sink)
    return readback.read_run(calls, sink.heard.messages, readback.Stop("closed"),
                             module.__name__)
