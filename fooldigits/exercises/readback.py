"""From the child's checked messages to a `Run`: an outcome per call, or one sentence why not.

What this module teaches
------------------------
How to turn everything that can happen to a process running someone else's code into
sentences a student understands. The parent (`sandbox`) hands over the messages it
read (`answers.Answers`) and how listening ended (`Stop`): the child said it finished,
the pipe closed, the clock ran out, or the child sent something it never should. Here:

1. a "loaded" message that is not ok becomes the load problem (a syntax error, an
   exception or `sys.exit()` while the file was imported);
2. each "result" becomes an `Outcome`: the value, or why there is none (not
   implemented, missing, raised, exited), with the array inputs the call changed in
   place found by comparing what the child sent back with what the parent planned;
3. "flag" messages (it imported or read fooldigits, it started a process) become
   sentences of their own;
4. when the child stopped before answering every call, the first unanswered call gets
   the reason (time-out, crash, exit) and the rest say "not run".

What it leaves out: any judging of the values (`judge`, `checks`).

Worked example:
    run = read_run(calls, messages, Stop("ended"), "sigmoid.py", timeout=5.0)
    run.outcomes[0].value      # what the student's sigmoid returned
    run.ending                 # "" when every call was answered
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

import numpy as np

from fooldigits.exercises import child
from fooldigits.exercises.answers import (
    Call,
    Outcome,
    Run,
    Seq,
    UnreadableError,
    article,
    clean,
    value,
)

FLAGS = {
    "import": "your file imports fooldigits, the project's own code (where the reference "
              "answers live): the checker refuses it; write the functions yourself",
    "read": "your file reads fooldigits' own files (where the reference answers live): "
            "the checker refuses it; write the functions yourself",
    "process": "your code tried to start a process ({detail}): the checker lets it start "
               "none, and the exercises need none",
}


@dataclass(frozen=True)
class Stop:
    """Why the parent stopped listening: "ended" (the supervisor reported), "closed"
    (the pipe closed), "timeout", "garbled" (with `detail`)."""
    how: str
    detail: str = ""


def _where(text: object) -> str:
    return f" line {text}" if type(text) is int else ""


def _raised(error: str, message: str, line: str, memory_mb: int) -> str:
    """"MemoryError: Unable to allocate 1.91 GiB ... (at line 3)", with the checker's memory
    limit when it is a MemoryError (the student's machine may have far more), and no
    dangling colon when the exception had no message."""
    said = f"{error}: {message}" if message else error
    said += f" (at{line})" if line else ""
    if error == "MemoryError" and memory_mb:
        said += f"; the checker gives your code {memory_mb:,} MB of memory"
    return said


def _problem(function: str, result: child.Head, memory_mb: int = 0) -> str:
    """The sentence for a call that did not return."""
    status, message = result.get("status"), clean(str(result.get("message", "")))
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
    return f"{function} raised {_raised(error, message, _where(result.get('line')), memory_mb)}"


def _load_problem(name: str, result: child.Head, memory_mb: int = 0) -> str:
    message = clean(str(result.get("message", "")))
    line = _where(result.get("line"))
    if result.get("status") == "syntax":
        return f"{name} has a syntax error on{line or ' a line'}: {message}"
    if result.get("status") == "exit":
        return (f"{name} calls sys.exit() or exit() while loading, so no check ran: remove "
                "it (the checker calls your functions; it does not run your file as a program)")
    error = clean(str(result.get("error", "an exception")), 60)
    return f"{name} failed while loading: {_raised(error, message, line, memory_mb)}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _ending(stop: Stop, code: int | None, timeout: float, memory_mb: int, doing: str) -> str:
    """Step 4: why the child stopped before answering everything."""
    if stop.how == "timeout":
        return (f"the checker stopped your code after {timeout:g} s while {doing}: an "
                "endless loop? (a correct but slow solution can have more time with "
                "--timeout)")
    if stop.how == "garbled":
        return (f"the checker could not read back what your functions returned "
                f"({clean(stop.detail, 80)}) while {doing}: did your code write into the "
                "checker's pipe, or return far too much?")
    if code is not None and code < 0 and -code == getattr(signal, "SIGXCPU", 0):
        return (f"your code used up its processor time while {doing}: an endless loop?")
    if code == -signal.SIGKILL:
        return (f"the checking process was killed (SIGKILL) while {doing}: out of memory "
                f"(the limit is {memory_mb} MB), its processor time used up, or a signal "
                "your code sent?")
    if code is not None and code < 0:
        return (f"the checking process crashed ({_signal_name(-code)}) while {doing}: out of "
                f"memory (the limit is {memory_mb} MB) or a crash in compiled code?")
    if code == child.BROKEN:
        return (f"your code broke the checking process while {doing}: it closed or "
                "replaced the descriptors the checker answers on, or changed what the "
                "checker itself runs")
    status = f" (exit status {code})" if code is not None else ""
    return (f"your code ended the checking process{status} while {doing}, so the checks "
            "after it could not run: os._exit(), a signal, or a thread that ends the program?")


def _changed(call: Call, after: object, arrays: list[np.ndarray]) -> tuple[int, ...]:
    """Step 2: the positions of array arguments the call changed in place."""
    if not isinstance(after, list) or len(after) != len(call.args):
        raise UnreadableError("a result without its inputs")
    changed = []
    for i, (planned, spec) in enumerate(zip(call.args, after, strict=True)):
        if not isinstance(planned, np.ndarray | list) or spec is None:  # not an array, or
            continue  # the function was missing and never called
        left = value(spec, arrays)
        olds = planned if isinstance(planned, list) else [planned]
        news = list(left.items) if isinstance(left, Seq) else [left]
        if len(olds) != len(news) or not all(
                isinstance(n, np.ndarray) and n.dtype == np.asarray(o).dtype
                and np.array_equal(o, n, equal_nan=True)
                for o, n in zip(olds, news, strict=True)):
            changed.append(i)
    return tuple(changed)


def _outcome(call: Call, message: child.Head, memory_mb: int = 0) -> Outcome:
    arrays = message["arrays"]
    changed = _changed(call, message.get("after"), arrays)
    drew = message.get("global_random") is True
    if message.get("status") != "ok":
        return Outcome(call.function, error=clean(str(message.get("error", "")), 60),
                       problem=_problem(call.function, message, memory_mb),
                       changed_args=changed,
                       global_random=drew)
    return Outcome(call.function, value(message.get("value"), arrays), changed_args=changed,
                   global_random=drew)


def read_run(calls: list[Call], messages: list[child.Head], stop: Stop, name: str,
             timeout: float = 0.0, memory_mb: int = 0, output: str = "") -> Run:
    """Steps 1-4 over the messages of one child."""
    outcomes: list[Outcome] = []
    flags: list[str] = []
    load_problem, loaded, done, code = "", False, False, None
    try:
        for message in messages:
            kind = message["kind"]
            if kind == "loaded":
                loaded = True
                if message.get("status") != "ok":
                    load_problem = _load_problem(name, message, memory_mb)
            elif kind == "result":
                if not loaded or load_problem or message.get("index") != len(outcomes) \
                        or len(outcomes) >= len(calls):
                    raise UnreadableError("an answer out of order")
                outcomes.append(_outcome(calls[len(outcomes)], message, memory_mb))
            elif kind == "flag":
                sentence = FLAGS.get(str(message.get("flag")), "")
                detail = clean(str(message.get("detail", "")), 60)
                if sentence and sentence.format(detail=detail) not in flags:
                    flags.append(sentence.format(detail=detail))
            elif kind == "done":
                done = len(outcomes) == len(calls)
            elif kind == "ended":
                code = message.get("code") if type(message.get("code")) is int else None
    except UnreadableError as err:
        stop = Stop("garbled", str(err))
    except (KeyError, TypeError, ValueError) as err:
        stop = Stop("garbled", f"{type(err).__name__}")
    if not loaded:
        doing = f"loading {name}"
    elif len(outcomes) < len(calls):
        doing = (f"running {calls[len(outcomes)].function} "
                 f"(check: {calls[len(outcomes)].label})")
    else:
        doing = "finishing after the last check"
    ending = "" if load_problem or (done and stop.how != "garbled") else \
        _ending(stop, code, timeout, memory_mb, doing)
    if ending and not loaded:
        load_problem = ending  # it never finished loading the student's file
    if ending and loaded and len(outcomes) < len(calls):
        outcomes.append(Outcome(calls[len(outcomes)].function, problem=ending))
    stopped = "the checking process stopped earlier" if ending else load_problem
    outcomes += [Outcome(c.function, problem=f"not run: {stopped}") for c in
                 calls[len(outcomes):]]
    return Run(load_problem, outcomes, ending, output, tuple(flags))
