"""What goes to the child (`Call`s) and what the parent makes of what comes back.

What this module teaches
------------------------
How to read what an untrusted process sends without trusting it. The parent plans the
calls (`Call`: a function name, its arguments, a label) and `plan` packs them into one
frame of the child's format (`child.frame`: a JSON head, then raw array bytes). The
child answers with frames too; `Answers.feed` takes them off the pipe and checks each
before use:

1. the frame's lengths are bounded (`child.split`), its head is JSON text of at most
   1 MB describing a known kind of message;
2. every array is rebuilt with `np.frombuffer` from a dtype on a short list of plain
   number types, a shape of non-negative integers whose size matches its byte count,
   inside the frame -- never `pickle`, never `np.load` of a file;
3. a returned value is rebuilt as arrays, `Seq` (a list or tuple) and `Other` (any
   other type, by name), at most `child.MAX_DEPTH` deep.

`readback.run` then turns the checked messages into an `Outcome` per call: the value,
or the sentence saying why there is none, and the inputs the call changed in place.

What it leaves out: running the child (`sandbox`) and judging (`judge`, `checks`).

Worked example:
    data = plan([Call("sigmoid", (np.zeros(3),), "zeros")], {"channel": 7})
    answers = Answers(); answers.feed(frame_bytes_from_the_child)
    answers.messages[0]["kind"]        # "ready", "loaded", "result", "flag", "done", ...
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np

from fooldigits.exercises import child

MAX_ANSWERS = 64 * 2**20  # bytes the parent reads from one child, all frames together
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
KINDS = frozenset({"ready", "loaded", "result", "flag", "done", "ended"})


@dataclass(frozen=True)
class Seed:
    """An argument the child turns into `np.random.default_rng(value)`."""
    value: int


Arg = np.ndarray | list[np.ndarray] | int | float | Seed  # what a Call passes, each one


@dataclass(frozen=True)
class Call:
    """One call of a student's function; `strict` turns overflow warnings into errors."""
    function: str
    args: tuple[Arg, ...]
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
    changed_args: tuple[int, ...] = ()  # positions of array inputs it changed in place
    global_random: bool = False  # it drew from np.random's or Python's global generator


@dataclass(frozen=True)
class Run:
    """Everything the parent learnt from one child process."""
    load_problem: str  # "" when the student's file loaded
    outcomes: list[Outcome]  # one per planned call, in order
    ending: str  # "" when the child answered every call
    output: str  # what the student's code printed, cleaned and shortened
    flags: tuple[str, ...] = ()  # sentences: it imported or read fooldigits, forked, ...


class UnreadableError(Exception):
    """A message the child should never have sent."""


def clean(text: str, limit: int = 300) -> str:
    """Printable text only (no ANSI escapes), at most `limit` characters."""
    text = UNPRINTABLE.sub(" ", text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more)"


def article(noun: str) -> str:
    """"a list", "an int", "None"."""
    if noun in ("None", "NoneType"):
        return "None"
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


# -- to the child --------------------------------------------------------------------------
def specs(calls: list[Call]) -> tuple[list[child.Head], list[np.ndarray]]:
    """The calls as JSON, their array arguments numbered into one list."""
    arrays: list[np.ndarray] = []
    plan: list[child.Head] = []

    def keep(array: np.ndarray) -> int:
        arrays.append(np.asarray(array))
        return len(arrays) - 1

    for call in calls:
        args: list[child.Head] = []
        for arg in call.args:
            if isinstance(arg, np.ndarray):
                args.append({"array": keep(arg)})
            elif isinstance(arg, list):
                args.append({"arrays": [keep(a) for a in arg]})
            elif isinstance(arg, Seed):
                args.append({"seed": arg.value})
            else:
                args.append({"number": arg})
        plan.append({"function": call.function, "args": args, "strict": call.strict})
    return plan, arrays


def plan(calls: list[Call], settings: dict[str, object]) -> bytes:
    """The child's standard input: one frame with the calls, their arrays and `settings`."""
    described, arrays = specs(calls)
    return child.frame({"calls": described, **settings}, arrays)


# -- from the child ------------------------------------------------------------------------
def _array(spec: object, body: bytes) -> np.ndarray:
    """Step 2: one array from its description and the frame's bytes, or UnreadableError."""
    if not isinstance(spec, dict) or spec.get("dtype") not in child.DTYPES:
        raise UnreadableError("an array of an unknown type")
    shape, offset, nbytes = spec.get("shape"), spec.get("offset"), spec.get("nbytes")
    if not (isinstance(shape, list) and len(shape) <= 8
            and all(type(n) is int and n >= 0 for n in shape)
            and type(offset) is int and type(nbytes) is int and offset >= 0):
        raise UnreadableError("an array described wrongly")
    dtype = np.dtype(spec["dtype"])
    if math.prod(shape) * dtype.itemsize != nbytes or offset + nbytes > len(body):
        raise UnreadableError("an array whose size does not match its bytes")
    count = math.prod(shape)
    return np.frombuffer(body, dtype, count, offset).reshape(shape).copy()


def value(spec: object, arrays: list[np.ndarray], depth: int = 0) -> Returned:
    """Step 3: a returned value from its description."""
    if not isinstance(spec, dict) or depth > child.MAX_DEPTH:
        raise UnreadableError("a value that is not described")
    if "array" in spec:
        index = spec["array"]
        if type(index) is not int or not 0 <= index < len(arrays):
            raise UnreadableError("a value naming an array that is not there")
        return arrays[index]
    if spec.get("seq") in ("list", "tuple") and isinstance(spec.get("items"), list) \
            and len(spec["items"]) <= child.MAX_ITEMS:
        return Seq(spec["seq"], tuple(value(s, arrays, depth + 1) for s in spec["items"]))
    if isinstance(spec.get("other"), str):
        return Other(clean(spec["other"], 80))
    raise UnreadableError("a value that is not described")


class Answers:
    """The child's messages, taken off the pipe as they arrive (step 1)."""

    def __init__(self, limit: int = MAX_ANSWERS) -> None:
        self.limit, self.received = limit, 0
        self.buffer = bytearray()
        self.messages: list[child.Head] = []  # each head, arrays rebuilt in "arrays"

    def feed(self, data: bytes) -> list[child.Head]:
        """Take in `data`; return the messages it completed. UnreadableError if garbled,
        after keeping the messages that came whole before the garbage in the same read
        (the child's "ready", say, then a student's forged bytes: the check did start)."""
        self.received += len(data)
        if self.received > self.limit:
            raise UnreadableError(f"more than {self.limit // 2**20} MB")
        self.buffer += data
        try:
            frames, garbled = child.split(self.buffer, self.limit), None
        except child.GarbledError as err:
            frames, garbled = err.frames, err
        start = len(self.messages)
        for head, body in frames:
            self.messages.append(self._message(head, body))
        if garbled is not None:
            raise UnreadableError(str(garbled))
        return self.messages[start:]

    @staticmethod
    def _message(head: bytes, body: bytes) -> child.Head:
        try:
            message = json.loads(head.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise UnreadableError("a message that is not JSON") from None
        if not isinstance(message, dict) or message.get("kind") not in KINDS \
                or not isinstance(message.get("arrays"), list):
            raise UnreadableError("a message of an unknown kind")
        message["arrays"] = [_array(spec, body) for spec in message["arrays"]]
        return message
