"""The child side of the exercise checker: run a student's functions, write back arrays.

What this module teaches
------------------------
How to run code you do not trust with the least harm: in another process, started with
`python -I child.py IO_DIR STUDENT_FILE MEMORY_BYTES` in a fresh temporary folder that
holds only a copy of the student's file. It limits its own memory (`resource.setrlimit`),
imports the student's file, makes each call the parent planned, and writes every answer
back as plain NumPy arrays (`np.savez`) plus a small JSON description, one call at a
time, so the parent learns what happened even if a later call never returns. It imports
nothing of fooldigits, so a student's file that patches `fooldigits.exercises.reference`
changes nothing the parent uses. When every call is done it writes `done` and ends with
`os._exit(0)`: no `atexit` handler and no forgotten non-daemon thread can keep it alive.

What it leaves out: any judging. The parent compares; this side only reports.

Worked example of the files in IO_DIR (the parent's `sandbox` writes the plan):
    plan.json   [{"function": "sigmoid", "args": [{"array": "c0.0"}], "strict": false}]
    plan.npz    c0.0 -> the (4, 5) array z
    ready       written just before the student's file is imported
    load.json   {"status": "ok"}
    0.start     written just before call 0
    0.json      {"status": "ok", "value": {"array": "v0"}, "changed_args": []}
    0.npz       v0 -> what sigmoid(z) returned
    done        every call finished
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import traceback
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

MAX_ITEMS = 64  # a returned list or tuple longer than this is described, not kept
MAX_DEPTH = 3  # (nabla_b, nabla_w) is depth 2
MAX_TEXT = 300  # characters kept of an exception's message
MAX_ELEMENTS = 1_000_000  # numbers in one returned array; the checks need far fewer
MAX_FILE = 64 * 2**20  # bytes of any file the child writes, its printed output included


def _write(path: Path, text: str) -> None:
    """Write through a temporary name so the parent never reads half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def _text(err: BaseException) -> str:
    try:
        return str(err)[:MAX_TEXT]
    except Exception:
        return "(a message that cannot be shown)"


def _line(err: BaseException, student: Path) -> int | None:
    """The line of the student's file where `err` happened, if it happened there."""
    frames = traceback.extract_tb(err.__traceback__)
    lines = [f.lineno for f in frames if Path(f.filename).name == student.name]
    if isinstance(err, SyntaxError) and err.lineno is not None:
        return int(err.lineno)
    return lines[-1] if lines and lines[-1] is not None else None


def _failure(err: BaseException, student: Path) -> dict[str, Any]:
    """What went wrong, as JSON: an exit, a NotImplementedError or any other exception."""
    if isinstance(err, SystemExit):
        return {"status": "exit", "message": _text(err)}
    status = "not_implemented" if isinstance(err, NotImplementedError) else "raised"
    if isinstance(err, SyntaxError):
        status = "syntax"
    return {"status": status, "error": type(err).__name__, "message": _text(err),
            "line": _line(err, student)}


def encode(value: Any, arrays: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Describe a returned value as JSON, its numeric arrays moved into `arrays`.

    If the value was (np.zeros(2), [1.0, 2.0]) the description is
    {"seq": "tuple", "items": [{"array": "v0"}, {"seq": "list", "items": [...]}]}.
    Anything that is not numbers in arrays, lists or tuples becomes {"other": type name}.
    """
    if isinstance(value, np.ndarray | np.generic | bool | int | float):
        array = np.asarray(value)
        if not isinstance(array, np.ndarray) or type(array) is not np.ndarray:
            array = np.array(array).view(np.ndarray)  # np.matrix and other subclasses
        if array.dtype.kind not in "biuf":
            return {"other": f"array of dtype {array.dtype}"}
        if array.size > MAX_ELEMENTS:
            return {"other": f"array of shape {array.shape} (too large)"}
        key = f"v{len(arrays)}"
        arrays[key] = np.ascontiguousarray(array)
        return {"array": key}
    if isinstance(value, list | tuple):
        kind = "list" if isinstance(value, list) else "tuple"
        if depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            return {"other": f"{kind} of {len(value)} items"}
        return {"seq": kind, "items": [encode(v, arrays, depth + 1) for v in value]}
    return {"other": type(value).__name__}


def _copies(args: list[Any]) -> list[Any]:
    return [[a.copy() for a in arg] if isinstance(arg, list) else
            arg.copy() if isinstance(arg, np.ndarray) else None for arg in args]


def _changed(before: list[Any], after: list[Any]) -> list[int]:
    """Which arguments the student's function changed in place."""
    changed = []
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        olds, news = (old, new) if isinstance(old, list) else ([old], [new])
        if old is not None and not all(np.array_equal(o, n, equal_nan=True)
                                       for o, n in zip(olds, news, strict=True)):
            changed.append(i)
    return changed


def _call(function: Any, args: list[Any], strict: bool, student: Path
          ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Make one call; `strict` turns NumPy's overflow warnings into errors."""
    before = _copies(args)
    arrays: dict[str, Any] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error" if strict else "ignore", RuntimeWarning)
            settings = {"all": "raise", "under": "ignore"} if strict else {"all": "ignore"}
            with np.errstate(**settings):  # type: ignore[arg-type]
                value = function(*args)
    except BaseException as err:  # a student's SystemExit is reported, not obeyed
        return _failure(err, student), arrays
    try:
        described = encode(value, arrays)
    except BaseException as err:
        return {"status": "raised", "error": type(err).__name__,
                "message": f"its return value could not be read: {_text(err)}"}, {}
    return {"status": "ok", "value": described, "changed_args": _changed(before, args)}, arrays


def _arguments(spec: list[dict[str, Any]], inputs: Any) -> list[Any]:
    """Rebuild the planned arguments: arrays, lists of arrays, numbers and generators."""
    args: list[Any] = []
    for item in spec:
        if "array" in item:
            args.append(inputs[item["array"]].copy())
        elif "arrays" in item:
            args.append([inputs[key].copy() for key in item["arrays"]])
        elif "seed" in item:
            args.append(np.random.default_rng(item["seed"]))
        else:
            args.append(item["number"])
    return args


def load(student: Path) -> ModuleType:
    """Import the student's file under a name of its own (not __main__)."""
    spec = importlib.util.spec_from_file_location(f"student_{student.stem}", student)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {student.name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(module: ModuleType | None, student: Path, io: Path) -> None:
    """Load the student's file (unless `module` is given) and make every planned call."""
    plan = json.loads((io / "plan.json").read_text())
    with np.load(io / "plan.npz", allow_pickle=False) as f:
        inputs = {key: f[key] for key in f.files}
    (io / "ready").touch()
    if module is None:
        try:
            module = load(student)
        except BaseException as err:
            _write(io / "load.json", json.dumps(_failure(err, student)))
            return
    _write(io / "load.json", json.dumps({"status": "ok"}))
    for i, call in enumerate(plan):
        (io / f"{i}.start").touch()
        function = getattr(module, call["function"], None)
        if not callable(function):
            result: dict[str, Any] = {"status": "missing",
                                      "message": type(function).__name__}
            arrays: dict[str, Any] = {}
        else:
            args = _arguments(call["args"], inputs)
            result, arrays = _call(function, args, call["strict"], student)
        np.savez(io / f"{i}.partial.npz", **arrays)
        (io / f"{i}.partial.npz").replace(io / f"{i}.npz")
        _write(io / f"{i}.json", json.dumps(result))
    (io / "done").touch()


def main(argv: list[str]) -> None:
    io, student, memory = Path(argv[1]), Path(argv[2]), int(argv[3])
    try:
        import resource
        import signal

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE, MAX_FILE))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails, not kills
    except (ImportError, ValueError, OSError, AttributeError):  # not here: run uncapped
        pass
    sys.argv, sys.dont_write_bytecode = [str(student)], True
    status = 0
    try:
        run(None, student, io)
    except BaseException:  # the student's code broke the runner itself: no `done` file
        status = 70
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    main(sys.argv)
