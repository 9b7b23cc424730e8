"""The parent side of the exercise checker: run a student's file in a child process.

What this module teaches
------------------------
How a checker keeps a student's mistakes out of its own process. `run_file` copies the
student's file into a fresh temporary folder, writes the planned calls (`Call`) as
NumPy arrays, and starts `python -I child.py` there with a memory limit, its output sent
to a file, and a time limit measured from the moment the student's file starts loading.
It then reads back, without pickle (`np.load(..., allow_pickle=False)` and plain JSON,
each checked before use), what every call returned (`Outcome`), and says in one sentence
why the child stopped if it did not finish: a time-out, an exit, a crash. The answers
are judged in this, the parent process, against references computed here.

What it leaves out: real isolation. This is a guard against mistakes and casual cheating
(`sys.exit(0)`, patching the reference, endless loops, prints, deleting files), not a
security sandbox: the child runs as the same user, can read the installed package (and
so the reference answers), and can touch any file that user can.

Worked example:
    run = run_file(Path("mywork/sigmoid.py"), [Call("sigmoid", (z,), "small numbers")])
    run.outcomes[0].value      # the array the student's sigmoid(z) returned
    run.ending                 # "" when every call finished and the child exited cleanly
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.exercises import child

CHILD = Path(child.__file__)
STARTUP = 60.0  # seconds the child may take to start Python and NumPy, on a busy machine
MAX_SOURCE = 1_000_000  # bytes of a student's file
MAX_OUTPUT = 4_000  # characters of the student's printed output kept
MAX_RESULT = 64_000_000  # bytes of one result file
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and newline
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Seed:
    """An argument the child turns into `np.random.default_rng(value)`."""
    value: int


@dataclass(frozen=True)
class Call:
    """One call of a student's function; `strict` turns overflow warnings into errors."""
    function: str
    args: tuple[Any, ...]  # each an np.ndarray, a list of them, an int, a float or a Seed
    label: str
    strict: bool = False


@dataclass(frozen=True)
class Seq:
    """A list or tuple the student's function returned."""
    kind: str  # "list" or "tuple"
    items: tuple[Returned, ...]


@dataclass(frozen=True)
class Other:
    """Anything else it returned, by its type: "NoneType", "str", "array of dtype object"."""
    kind: str


Returned = np.ndarray | Seq | Other


@dataclass(frozen=True)
class Outcome:
    """What one call did: returned `value`, or did not, for the reason `problem`."""
    function: str
    value: Returned | None = None
    problem: str = ""
    error: str = ""  # the exception's type name when it raised
    changed_args: tuple[int, ...] = ()


@dataclass(frozen=True)
class Run:
    """Everything the parent learnt from one child process."""
    load_problem: str  # "" when the student's file loaded
    outcomes: list[Outcome]  # one per planned call, in order
    ending: str  # "" when the child finished every call and exited 0
    output: str  # what the student's code printed, cleaned and shortened


def clean(text: str, limit: int = 300) -> str:
    """Printable text only (no ANSI escapes), at most `limit` characters."""
    text = UNPRINTABLE.sub(" ", text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more)"


def article(noun: str) -> str:
    """"a list", "an int", "None"."""
    if noun in ("None", "NoneType"):
        return "None"
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def write_plan(calls: list[Call], io: Path) -> None:
    arrays: dict[str, Any] = {}
    plan = []
    for i, call in enumerate(calls):
        specs: list[dict[str, Any]] = []
        for j, arg in enumerate(call.args):
            key = f"c{i}.{j}"
            if isinstance(arg, np.ndarray):
                arrays[key] = arg
                specs.append({"array": key})
            elif isinstance(arg, list):
                arrays.update({f"{key}.{k}": a for k, a in enumerate(arg)})
                specs.append({"arrays": [f"{key}.{k}" for k in range(len(arg))]})
            elif isinstance(arg, Seed):
                specs.append({"seed": arg.value})
            else:
                specs.append({"number": arg})
        plan.append({"function": call.function, "args": specs, "strict": call.strict})
    (io / "plan.json").write_text(json.dumps(plan))
    np.savez(io / "plan.npz", **arrays)


# -- reading back, trusting nothing -------------------------------------------------------
class UnreadableError(Exception):
    """A result file the child should never have written."""


def _json(path: Path) -> dict[str, Any]:
    if path.stat().st_size > 1_000_000:
        raise UnreadableError(f"{path.name} is too large")
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        raise UnreadableError(f"{path.name} is not a result")
    return data


def _decode(spec: Any, arrays: dict[str, np.ndarray], depth: int = 0) -> Returned:
    if not isinstance(spec, dict) or depth > child.MAX_DEPTH:
        raise UnreadableError("a return value is not described")
    if isinstance(spec.get("array"), str) and spec["array"] in arrays:
        return arrays[spec["array"]]
    if spec.get("seq") in ("list", "tuple") and isinstance(spec.get("items"), list):
        return Seq(spec["seq"], tuple(_decode(s, arrays, depth + 1) for s in spec["items"]))
    if isinstance(spec.get("other"), str):
        return Other(clean(spec["other"], 80))
    raise UnreadableError("a return value is not described")


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive:  # sizes before anything is decompressed
        if path.stat().st_size + sum(i.file_size for i in archive.infolist()) > MAX_RESULT:
            raise UnreadableError(f"{path.name} is too large")
    with np.load(path, allow_pickle=False) as f:
        arrays = {key: f[key] for key in f.files}
    if any(a.dtype.kind not in "biuf" for a in arrays.values()):
        raise UnreadableError(f"{path.name} holds an array that is not numbers")
    return arrays


def _where(text: object) -> str:
    return f" line {text}" if isinstance(text, int) and not isinstance(text, bool) else ""


def _problem(function: str, result: dict[str, Any]) -> str:
    """The sentence for a call that did not return."""
    status, message = result["status"], clean(str(result.get("message", "")))
    error = clean(str(result.get("error", "an exception")), 60)
    if status == "not_implemented":
        return f"{function} is not implemented yet (it still raises NotImplementedError)"
    if status == "missing":
        if message == "NoneType":
            return (f"your file has no function `{function}`: check its name, and that its "
                    "`def` starts at the beginning of a line")
        return f"`{function}` in your file is {article(message)}, not a function"
    if status == "exit":
        return (f"{function} called sys.exit() or exit(); a function the checker calls must "
                "return its answer, not end the program")
    line = _where(result.get("line"))
    return f"{function} raised {error}: {message}" + (f" (at{line})" if line else "")


def _load_problem(name: str, result: dict[str, Any]) -> str:
    message = clean(str(result.get("message", "")))
    line = _where(result.get("line"))
    if result["status"] == "syntax":
        return f"{name} has a syntax error on{line or ' a line'}: {message}"
    if result["status"] == "exit":
        return (f"{name} calls sys.exit() or exit() while loading, so no check ran: remove "
                "it (the checker calls your functions; it does not run your file as a program)")
    error = clean(str(result.get("error", "an exception")), 60)
    return f"{name} failed while loading: {error}: {message}" + (f" (at{line})" if line else "")


def _ending(returncode: int | None, timeout: float, memory_mb: int, doing: str) -> str:
    """Why the child stopped before finishing; `doing` says what it was running."""
    if returncode is None:
        return (f"the checker stopped your code after {timeout:g} s while {doing}: an "
                "endless loop? (a correct but slow solution can have more time with "
                "--timeout)")
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return (f"the checking process crashed ({name}) while {doing}: out of memory (the "
                f"limit is {memory_mb} MB) or a crash in compiled code?")
    return (f"your code ended the checking process (exit status {returncode}) while {doing}, "
            "so the checks after it could not run: os._exit(), or a thread that ends the "
            "program?")


def read_run(calls: list[Call], io: Path, name: str, returncode: int | None,
             timeout: float = 0.0, memory_mb: int = 0, output: str = "") -> Run:
    """Turn the child's files into a `Run`; `returncode` None means it was stopped."""
    outcomes: list[Outcome] = []
    load_problem = ending = ""
    doing = f"loading {name}"
    try:
        if (io / "load.json").exists():
            loaded = _json(io / "load.json")
            if loaded["status"] != "ok":
                load_problem = _load_problem(name, loaded)
            for i, call in enumerate([] if load_problem else calls):
                doing = f"running {call.function} (check: {call.label})"
                if not (io / f"{i}.json").exists():
                    break
                result = _json(io / f"{i}.json")
                if result["status"] != "ok":
                    outcomes.append(Outcome(call.function, error=str(result.get("error", "")),
                                            problem=_problem(call.function, result)))
                    continue
                changed = result.get("changed_args", [])
                if not isinstance(changed, list) or not all(type(c) is int for c in changed):
                    raise UnreadableError(f"{i}.json is not a result")
                value = _decode(result.get("value"), _arrays(io / f"{i}.npz"))
                outcomes.append(Outcome(call.function, value, changed_args=tuple(changed)))
            else:
                doing = "finishing after the last check"
        if not load_problem and (returncode != 0 or not (io / "done").exists()):
            ending = _ending(returncode, timeout, memory_mb, doing)
    except Exception as err:  # whatever is in those files, it is one sentence
        ending = ("the checker could not read back what your functions returned "
                  f"({clean(str(err))}): did your code change or delete the checker's files?")
    if ending and not outcomes and doing.startswith("loading"):
        load_problem = ending  # it never finished loading the student's file
    if ending and len(outcomes) < len(calls):
        outcomes.append(Outcome(calls[len(outcomes)].function, problem=ending))
    stopped = "the checking process stopped earlier" if ending else load_problem
    outcomes += [Outcome(c.function, problem=f"not run: {stopped}") for c in
                 calls[len(outcomes):]]
    return Run(load_problem, outcomes, ending, output)


# -- running -------------------------------------------------------------------------------
def _source(path: Path) -> bytes:
    """The student's file, refused with a sentence if it is not a small regular file."""
    if not path.exists():
        raise FoolDigitsError(f"{path} does not exist; run `fooldigits exercise start "
                              f"{path.stem} {path.parent}` first")
    if not path.is_file():
        raise FoolDigitsError(f"{path} is not a regular file")
    if path.stat().st_size > MAX_SOURCE:
        raise FoolDigitsError(f"{path} is larger than {MAX_SOURCE // 1_000_000} MB; "
                              "is it the right file?")
    try:
        return path.read_bytes()
    except OSError as err:
        raise FoolDigitsError(f"cannot read {path}: {err.strerror}") from None


def _wait(process: subprocess.Popen[bytes], io: Path, timeout: float) -> int | None:
    """The child's exit status, or None once it overran `timeout` (it is then killed).

    The clock starts when the child writes `ready`, just before it loads the student's
    file, so a busy machine's slow start of Python and NumPy is not the student's time.
    """
    deadline, start = None, time.monotonic()
    while True:
        try:
            return process.wait(timeout=0.01)
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if deadline is None and (io / "ready").exists():
            deadline = now + timeout
        if deadline is not None and now > deadline:
            return None
        if deadline is None and now > start + STARTUP:
            raise FoolDigitsError(f"the checking process did not start within {STARTUP:g} s;"
                                  " is the machine very busy?")


def _kill(process: subprocess.Popen[bytes]) -> None:
    """End the child and anything it started (its own process group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_file(path: Path, calls: list[Call], timeout: float = 10.0,
             memory_mb: int = 1024) -> Run:
    """Run `calls` on the functions of the student's file `path` in a child process."""
    source = _source(Path(path))
    with tempfile.TemporaryDirectory(prefix="fooldigits-check-",
                                     ignore_cleanup_errors=True) as tmp:
        io, work = Path(tmp, "io"), Path(tmp, "work")
        io.mkdir()
        work.mkdir()
        student = work / Path(path).name
        student.write_bytes(source)
        write_plan(calls, io)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        with open(io / "output.txt", "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-I", str(CHILD), str(io), str(student),
                 str(memory_mb * 2**20)], cwd=work, env=env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                returncode = _wait(process, io, timeout)
            finally:
                _kill(process)
        with open(io / "output.txt", "rb") as out:
            printed = out.read(4 * MAX_OUTPUT).decode("utf-8", "replace")
        if not (io / "ready").exists():
            raise FoolDigitsError("the checking process failed to start: "
                                  f"{clean(printed.strip()[-300:]) or 'no message'}")
        output = CONTROL.sub("?", printed[:MAX_OUTPUT])
        if len(printed) > MAX_OUTPUT:
            output += "\n... (more output not shown)"
        return read_run(calls, io, Path(path).name, returncode, timeout, memory_mb, output)


def run_module(module: ModuleType, calls: list[Call]) -> Run:
    """Run `calls` in this process on a module we trust (the tests use the reference)."""
    with tempfile.TemporaryDirectory(prefix="fooldigits-check-") as tmp:
        io = Path(tmp)
        write_plan(calls, io)
        child.run(module, Path(f"{module.__name__}.py"), io)
        return read_run(calls, io, module.__name__, 0)
