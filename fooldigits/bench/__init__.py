"""`make bench`: speed as ratios against plain-NumPy references run in the same call.

What this package teaches
-------------------------
An absolute time ("1,000 fooling 2s in 20 s") says more about the machine than about the
code: the same commit took 9 s on one machine and 94 s on a busy one. So every speed row
here is a *ratio*: the project's time over the time of a small, plain reference doing the
same work (`references.py`), measured in the same run, in back-to-back pairs; a row is
the pair whose ratio is the median (`Paired.row` says why), and the table shows the
range of all its pairs. A ratio of 1.5 means "50% slower than the bare NumPy floor", on a
laptop or in CI alike.

Rows are registered, so a new one is a function, not an edit of a table:

    from fooldigits.bench import Context, Ratio, row

    @row("fooling")
    def my_rows(ctx: Context) -> Iterator[Ratio | Check]:
        timed = ctx.compare(lambda: work(), lambda: bare_work(), ctx.repeat)
        yield timed.row("my work / bare work", goal=1.5)

Put the function in `rows.py` (or in a module named in `ROW_MODULES`) and its plain
reference in `references.py`. A `Check` row holds a quality goal instead of a speed:
"every digit reaches 0.9999".

Timing: with one BLAS thread (the default) a row's time is the CPU time of the process
doing the work (`time.process_time`, or the children's rusage for a command), which other
programs on a shared machine barely disturb; with `--threads N` it is wall time.

What it leaves out: absolute targets, and timing in the unit tests (never there).
"""

from __future__ import annotations

import resource
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

ROW_MODULES = ("fooldigits.bench.rows",)  # modules whose @row functions make the table


@dataclass(frozen=True)
class Ratio:
    """A speed row: project time / reference time, met when at most `goal`. `pairs`
    holds the ratio of every back-to-back pair it was chosen from (the median pair)."""

    what: str
    project: float  # seconds
    reference: float  # seconds
    goal: float
    pairs: tuple[float, ...] = ()

    @property
    def ratio(self) -> float:
        return self.project / self.reference if self.reference > 0 else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio <= self.goal

    def cells(self) -> list[str]:
        spread = (f"{min(self.pairs):.2f}-{max(self.pairs):.2f}" if len(self.pairs) > 1
                  else "")
        return [self.what, _time(self.project), _time(self.reference),
                f"{self.ratio:.2f}", spread, f"<= {self.goal:g}"]


@dataclass(frozen=True)
class Paired:
    """The times of `repeat` back-to-back pairs (project, reference) of one row."""

    project: list[float]
    reference: list[float]

    def row(self, what: str, goal: float) -> Ratio:
        """The row, from the pair whose ratio is the median of all the pairs' ratios.

        Why the median pair, and not the best time of each side: a shared machine's
        speed drifts by 10-15% over minutes, and a pair's two runs, back to back, see
        the same speed, so its ratio cancels the drift; the best time of each side may
        come from different minutes. The median then ignores one odd pair either way
        (of an even number of pairs, the upper middle one: the row errs on the slow side).
        """
        ratios = [p / r if r > 0 else float("inf")
                  for p, r in zip(self.project, self.reference, strict=True)]
        middle = sorted(range(len(ratios)), key=ratios.__getitem__)[len(ratios) // 2]
        return Ratio(what, self.project[middle], self.reference[middle], goal,
                     tuple(ratios))


def _time(seconds: float) -> str:
    """Seconds, or milliseconds below a tenth of a second."""
    return f"{1000 * seconds:.2f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


@dataclass(frozen=True)
class Check:
    """A quality row: what was measured, the goal in words, and whether it was met."""

    what: str
    measured: str
    goal: str
    met: bool

    def cells(self) -> list[str]:
        return [self.what, self.measured, "", "", "", self.goal]


Result = Ratio | Check


@dataclass
class Context:
    """What every row gets: the run's settings, a clock and a cache shared by rows."""

    quick: bool = False
    threads: int = 1
    cache: dict[str, object] = field(default_factory=dict)

    @property
    def repeat(self) -> int:
        """How many back-to-back pairs a row takes the median of (odd: one pair is it);
        `--quick` makes the work smaller, not the pairs fewer: one pair is all noise."""
        return 3

    @property
    def steady(self) -> int:
        """More pairs, for rows whose pair takes a few seconds (the GA, the CPPN GA, the
        conv net): on a shared machine one pair's ratio moves by up to +-10% (the GA row
        gave 1.38-1.62 in one run), so the median of three can land on either side of a
        goal; a median of seven pairs is steadier (its spread shrinks about as 1/sqrt(n))."""
        return 7

    def seconds(self, work: Callable[[], object]) -> float:
        """Time of one call: CPU time with one thread, wall time with more."""
        clock = time.process_time if self.threads == 1 else time.perf_counter
        start = clock()
        work()
        return clock() - start

    def command(self, args: list[str], output: list[str] | None = None) -> float:
        """Time of one command (its processes' CPU time with one thread, else wall time);
        the command must succeed. Its standard output is appended to `output`."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(args, check=True, capture_output=True, text=True)
        if output is not None:
            output.append(done.stdout)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return cpu if self.threads == 1 else wall

    def compare(self, project: Callable[[], object], reference: Callable[[], object],
                repeat: int) -> Paired:
        """Times of `project` and `reference`, run in `repeat` back-to-back pairs, so
        that a busy moment of the machine hits both sides of a pair."""
        return self.pairs([(lambda: self.seconds(project), lambda: self.seconds(reference))
                           for _ in range(repeat)])

    def compare_commands(self, project: list[str], reference: list[str],
                         repeat: int) -> Paired:
        """`compare` for two commands."""
        return self.pairs([(lambda: self.command(project), lambda: self.command(reference))
                           for _ in range(repeat)])

    @staticmethod
    def pairs(timers: list[tuple[Callable[[], float], Callable[[], float]]]) -> Paired:
        """Run each pair of timers in turn, the project first in even pairs and the
        reference first in odd ones (so that neither side always follows the other's
        freed memory or a quiet moment); every pair's two times."""
        project, reference = [], []
        for i, (first, second) in enumerate(timers):
            if i % 2 == 1:
                reference.append(second())
            project.append(first())
            if i % 2 == 0:
                reference.append(second())
        return Paired(project, reference)


RowFunction = Callable[[Context], Iterator[Result]]
ROWS: list[tuple[str, RowFunction]] = []


def row(section: str) -> Callable[[RowFunction], RowFunction]:
    """Register a function that yields rows of the table under `section`."""

    def register(function: RowFunction) -> RowFunction:
        ROWS.append((section, function))
        return function

    return register
