"""The child side of the exercise checker: run a student's functions, send back arrays.

What this module teaches
------------------------
How to run code you do not trust with the least harm. The parent (`sandbox`) starts
`python -I child.py` in a fresh temporary folder holding only a copy of the student's
file, in a session of its own, with its plan on standard input. This script then:

1. reads the plan (the calls to make, their input arrays, the number of the pipe to
   answer on) from standard input, and puts /dev/null there instead;
2. forks: this first process only *supervises* -- it waits for the second, the
   worker, and reports how it ended -- so a student who stops or kills "the parent"
   (`os.getppid()`) stops a decoy, never the checker that keeps the clock;
3. the worker limits itself (`resource.setrlimit`: address space, processor time,
   file size, no new processes), moves the answer pipe to a random descriptor number
   that is printed nowhere, and installs an audit hook (`sys.addaudithook`, which
   cannot be removed) that refuses to start processes (through os, subprocess or libc
   by ctypes), to import fooldigits or to open its files, and tells the parent when
   the student's code tries;
4. only then imports the student's file, makes each planned call and sends each answer
   as soon as it has it, as one frame (`frame`): a small JSON head and the raw bytes of
   the arrays it names -- what the call returned, what it left of its array inputs, and
   whether it drew from NumPy's or Python's global random numbers.

It imports nothing of fooldigits, so a student's file that patches fooldigits changes
nothing the parent uses, and the parent judges the bytes it receives, never objects.
The worker ends with `os._exit`: no `atexit` handler or thread can keep it alive.

What it leaves out: any judging (the parent compares) and real isolation (see
docs/exercises.md: the student's code still runs as the same user).

Worked example of a frame (HEADER, then the head, then the arrays' bytes):
    b"FDX1" (12 bytes with the two lengths) {"kind": "result", "index": 0,
    "status": "ok", "value": {"array": 0}, "after": [{"array": 1}],
    "global_random": false, "arrays": [{"dtype": "<f8", "shape": [4, 5], ...}, ...]}
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import resource
import signal
import struct
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn, Protocol

import numpy as np

# Bound now, before any student code runs: patching numpy, json or os later changes
# none of what this script calls.
from numpy import asarray, ascontiguousarray, errstate, frombuffer, ndarray

_dumps, _loads, _write, _read = json.dumps, json.loads, os.write, os.read
_numpy_state, _python_state = np.random.get_state, random.getstate

MAGIC = b"FDX1"
HEADER = struct.Struct(">4sII")  # magic, length of the JSON head, length of the arrays
MAX_HEAD = 1_000_000  # bytes of one frame's JSON head
MAX_ITEMS = 64  # a returned list or tuple longer than this is described, not kept
MAX_DEPTH = 3  # (nabla_b, nabla_w) is depth 2
MAX_TEXT = 300  # characters kept of an exception's message
MAX_ELEMENTS = 1_000_000  # numbers in one returned array; the checks need far fewer
MAX_FILE = 64 * 2**20  # bytes of any file the worker writes, its printed output included
DTYPES = frozenset(np.dtype(t).str for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
    np.uint64, np.float16, np.float32, np.float64))
REFUSED = frozenset({"os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec",
                     "os.system", "os.startfile", "subprocess.Popen", "pty.spawn"})
# The same through libc (ctypes looks each name up: the "ctypes.dlsym" event), and the
# module subprocess forks with (it raises no event of its own).
LIBC_PROCESSES = frozenset({"fork", "vfork", "clone", "clone3", "syscall", "system", "popen",
                            "posix_spawn", "posix_spawnp", "daemon", "forkpty", "execl",
                            "execle", "execlp", "execv", "execve", "execvp", "execvpe",
                            "fexecve"})
FORKING_MODULES = frozenset({"_posixsubprocess"})
POLL = 0.02  # seconds between the supervisor's looks at the worker
BROKEN = 70  # the worker's exit status when the student's code broke the runner itself


# A frame's head: JSON whose keys depend on its kind ("ready", "result", a plan), sent by a
# student's process: dynamic, so Any; answers.py checks each field it reads before use.
Head = dict[str, Any]


class Sink(Protocol):
    def send(self, head: Head, arrays: list[ndarray] | None = None) -> None: ...


# -- frames: the only thing that crosses to the parent --------------------------------------
def frame(head: Head, arrays: list[ndarray] | None = None) -> bytes:
    """One message: HEADER, the JSON head (which describes the arrays), the arrays' bytes."""
    specs, blobs, offset = [], [], 0
    for array in arrays or []:
        array = ascontiguousarray(array)
        data = array.tobytes()
        specs.append({"dtype": array.dtype.str, "shape": list(array.shape),
                      "offset": offset, "nbytes": len(data)})
        blobs.append(data)
        offset += len(data)
    text = _dumps({**head, "arrays": specs}).encode()
    return HEADER.pack(MAGIC, len(text), offset) + text + b"".join(blobs)


class GarbledError(ValueError):
    """Bytes that are not a frame, after the complete `frames` taken off before them."""

    def __init__(self, frames: list[tuple[bytes, bytes]]) -> None:
        super().__init__("not a frame of the checker's")
        self.frames = frames


def split(buffer: bytearray, limit: int) -> list[tuple[bytes, bytes]]:
    """Take every complete frame off the front of `buffer`: (head, arrays) bytes each.

    Raises GarbledError (a ValueError holding the frames before it) for anything that is
    not a frame or is larger than `limit` bytes: a frame and garbage may come in one read.
    """
    frames: list[tuple[bytes, bytes]] = []
    while len(buffer) >= HEADER.size:
        magic, head, body = HEADER.unpack_from(buffer)
        if magic != MAGIC or head > MAX_HEAD or head + body > limit:
            raise GarbledError(frames)
        end = HEADER.size + head + body
        if len(buffer) < end:
            break
        frames.append((bytes(buffer[HEADER.size:HEADER.size + head]),
                       bytes(buffer[HEADER.size + head:end])))
        del buffer[:end]
    return frames


class Channel:
    """Frames written to a pipe, whole (a pipe may take a large write in pieces)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, head: Head, arrays: list[ndarray] | None = None) -> None:
        data = memoryview(frame(head, arrays))
        while data:
            data = data[_write(self.fd, data):]


# -- one call --------------------------------------------------------------------------------
def _text(err: BaseException) -> str:  # a SyntaxError's without "(fgsm.py, line 2)"
    try:
        return str(err.msg if isinstance(err, SyntaxError) and err.msg else err)[:MAX_TEXT]
    except Exception:
        return "(a message that cannot be shown)"


def _line(err: BaseException, student: Path) -> int | None:
    """The line of the student's file where `err` happened, if it happened there."""
    if isinstance(err, SyntaxError) and err.lineno is not None:
        return int(err.lineno)
    lines = [line for frame_, line in traceback.walk_tb(err.__traceback__)
             if frame_.f_code.co_filename == str(student)]
    return lines[-1] if lines else None


def _failure(err: BaseException, student: Path) -> Head:
    """What went wrong, as JSON: an exit, a NotImplementedError or any other exception."""
    if isinstance(err, SystemExit):
        return {"status": "exit", "message": _text(err)}
    status = "not_implemented" if isinstance(err, NotImplementedError) else "raised"
    if isinstance(err, SyntaxError):
        status = "syntax"
    return {"status": status, "error": type(err).__name__, "message": _text(err),
            "line": _line(err, student)}


def encode(value: object, arrays: list[ndarray], depth: int = 0) -> Head:
    """Describe a returned value as JSON, its numeric arrays moved into `arrays`.

    If the value was (np.zeros(2), [1.0, 2.0]) the description is
    {"seq": "tuple", "items": [{"array": 0}, {"seq": "list", "items": [...]}]}.
    Anything that is not numbers in arrays, lists or tuples becomes {"other": type name}.
    """
    if isinstance(value, ndarray | np.generic | bool | int | float):
        array = asarray(value)
        if type(array) is not ndarray:
            array = array.view(ndarray)  # np.matrix and other subclasses
        if array.dtype.kind not in "biuf":
            return {"other": f"array of dtype {array.dtype}"}
        if array.size > MAX_ELEMENTS:
            return {"other": f"array of shape {array.shape} (too large)"}
        if array.dtype.str not in DTYPES:  # big-endian or another width: plain numbers
            array = array.astype(np.float64 if array.dtype.kind == "f" else np.int64)
        arrays.append(array)
        return {"array": len(arrays) - 1}
    if isinstance(value, list | tuple):
        kind = "list" if isinstance(value, list) else "tuple"
        if depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            return {"other": f"{kind} of {len(value)} item{'s' * (len(value) != 1)}"}
        return {"seq": kind, "items": [encode(v, arrays, depth + 1) for v in value]}
    return {"other": type(value).__name__}


def _random_state() -> tuple[object, ...]:
    """The state of NumPy's global generator (np.random.random & co.) and Python's."""
    # ("MT19937", keys, position, has_gauss, cached_gaussian); Any because NumPy types it
    # as that tuple or a dict (get_state(legacy=False)), and this one is the tuple
    state: Any = _numpy_state()
    return (state[1].tobytes(), *state[2:], _python_state())


def _call(function: Callable[..., object], args: list[object], strict: bool, student: Path
          ) -> tuple[Head, list[ndarray]]:
    """Make one call; `strict` turns NumPy's overflow warnings into errors."""
    arrays: list[ndarray] = []
    before = _random_state()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error" if strict else "ignore", RuntimeWarning)
            with errstate(all="raise", under="ignore") if strict else errstate(all="ignore"):
                value = function(*args)
    except BaseException as err:  # a student's SystemExit is reported, not obeyed
        head = _failure(err, student)
    else:
        try:
            head = {"status": "ok", "value": encode(value, arrays)}
        except BaseException as err:
            arrays = []
            head = {"status": "raised", "error": type(err).__name__,
                    "message": f"its return value could not be read: {_text(err)}"}
    try:  # what the call left of its array inputs: the parent compares
        head["after"] = [encode(a, arrays) if isinstance(a, ndarray | list) else None
                         for a in args]
    except BaseException:
        head["after"] = [{"other": "unreadable"} for _ in args]
    head["global_random"] = _random_state() != before
    return head, arrays


def _arguments(specs: list[Head], inputs: list[ndarray]) -> list[object]:
    """Fresh copies of the planned arguments: arrays, lists of arrays, numbers, generators."""
    args: list[object] = []
    for item in specs:
        if "array" in item:
            args.append(inputs[item["array"]].copy())
        elif "arrays" in item:
            args.append([inputs[k].copy() for k in item["arrays"]])
        elif "seed" in item:
            args.append(np.random.default_rng(item["seed"]))
        else:
            args.append(item["number"])
    return args


def serve(module: ModuleType, student: Path, calls: list[Head],
          inputs: list[ndarray], sink: Sink) -> None:
    """Make every planned call on `module`, sending each answer as soon as it is known."""
    for i, call in enumerate(calls):
        function = getattr(module, call["function"], None)
        if not callable(function):
            sink.send({"kind": "result", "index": i, "status": "missing",
                       "message": type(function).__name__,
                       "after": [None for _ in call["args"]], "global_random": False})
            continue
        head, arrays = _call(function, _arguments(call["args"], inputs), call["strict"],
                             student)
        sink.send({"kind": "result", "index": i, **head}, arrays)
    sink.send({"kind": "done"})


def load(student: Path) -> ModuleType:
    """Import the student's file under a name of its own (not __main__)."""
    spec = importlib.util.spec_from_file_location(f"student_{student.stem}", student)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {student.name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the worker: limits, a hidden pipe, an audit hook, then the student's code --------------
def _limit(memory: int, seconds: int) -> None:
    """Address space, processor time, file size, no core files, no new processes."""
    for which, value in (("RLIMIT_AS", memory), ("RLIMIT_CPU", seconds),
                         ("RLIMIT_FSIZE", MAX_FILE), ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", 0)):
        # not on this system: the rest holds
        with contextlib.suppress(AttributeError, ValueError, OSError):
            resource.setrlimit(getattr(resource, which), (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails, not kills


def _hide(fd: int) -> int:
    """Move the answer pipe to a random free descriptor number, printed nowhere."""
    top = min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 4096)
    for _ in range(32):
        target = random.SystemRandom().randrange(64, max(top, 65))
        try:
            os.fstat(target)
        except OSError:
            os.dup2(fd, target, inheritable=False)
            os.close(fd)
            return target
    return fd


def _guard(package: str, sink: Sink) -> None:
    """Refuse new processes and fooldigits' own code; tell the parent of each attempt."""
    own = os.path.realpath(__file__)
    told: set[str] = set()

    def flag(kind: str, detail: str) -> None:
        if kind not in told:
            told.add(kind)
            sink.send({"kind": "flag", "flag": kind, "detail": detail[:200]})

    def hook(event: str, args: tuple[Any, ...]) -> None:  # Any: each event its own args
        what = event if event in REFUSED else \
            f"libc {args[1]}" if event == "ctypes.dlsym" and args[1] in LIBC_PROCESSES else \
            f"import {args[0]}" if event == "import" and args[0] in FORKING_MODULES else ""
        if what:
            flag("process", what)
            raise PermissionError(f"the checker lets your code start no process ({what})")
        if event == "import" and str(args[0]).partition(".")[0] == "fooldigits":
            flag("import", str(args[0]))
            raise ImportError("the checker does not let your file import fooldigits")
        if event == "open" and isinstance(args[0], str | bytes | os.PathLike):
            real = os.path.realpath(os.fsdecode(args[0]))
            if real.startswith(package + os.sep) and real != own:
                flag("read", real)
                raise PermissionError("the checker does not let your code read fooldigits")

    sys.addaudithook(hook)


def worker(plan: Head, inputs: list[ndarray]) -> NoReturn:
    """Steps 3-4: everything the student's code can reach is set before it is imported."""
    _limit(plan["memory"], plan["cpu"])
    channel = Channel(_hide(plan["channel"]))
    _guard(plan["package"], channel)
    student = Path(plan["student"])
    status = 0
    try:
        channel.send({"kind": "ready"})
        try:
            module = load(student)
        except BaseException as err:
            channel.send({"kind": "loaded", **_failure(err, student)})
        else:
            channel.send({"kind": "loaded", "status": "ok"})
            serve(module, student, plan["calls"], inputs, channel)
    except BaseException:  # the student's code broke the runner itself: no "done"
        status = BROKEN
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(status)


# -- the supervisor ------------------------------------------------------------------------
def read_plan(fd: int) -> tuple[Head, list[ndarray]]:
    """The one frame on `fd`: the plan's head and its input arrays (the parent wrote it)."""
    buffer = bytearray()
    while chunk := _read(fd, 1 << 20):
        buffer += chunk
    (head, body), = split(buffer, 1 << 40)
    plan = _loads(head)
    inputs = [frombuffer(body, dtype=s["dtype"], count=int(np.prod(s["shape"])),
                         offset=s["offset"]).reshape(s["shape"]) for s in plan["arrays"]]
    return plan, inputs


def main() -> None:
    """Steps 1-2: read the plan, fork the worker, wait for it and say how it ended."""
    plan, inputs = read_plan(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.argv, sys.dont_write_bytecode = [plan["student"]], True
    checker = os.getppid()
    pid = os.fork()
    if pid == 0:
        worker(plan, inputs)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if os.getppid() != checker:  # the checker is gone: end everything left
            os.killpg(0, signal.SIGKILL)
        time.sleep(POLL)
    Channel(plan["channel"]).send({"kind": "ended", "code": os.waitstatus_to_exitcode(status)})
    os._exit(0)


if __name__ == "__main__":
    main()
