"""Classroom exercises that check themselves, with the student's code kept at arm's length.

What this module teaches
------------------------
How to test numerical code against a trusted reference without trusting the code under
test. Each exercise is one core idea of the story; `start` copies a stub (the signature,
the docstring and `raise NotImplementedError`) into the student's folder, and `check`
runs the student's file in a child process (`sandbox.run_file`: a fresh temporary
folder, a time limit, a memory limit, its printed output captured), gets back only the
NumPy arrays its functions returned, and judges them here against the project's own
implementation (`checks`, `reference`), case by case: which case failed, what was
expected, what came back, and the name of the mistake when it is a common one.

A syntax error, an exception, an endless loop, `sys.exit()`, a missing function or a
wrong return type is one failed check with one sentence, never a crash or a hang of the
checker, and `check` passes only when every check ran and passed.

What it leaves out: real isolation. This guards against mistakes and casual cheating,
not against a determined student, who can read the reference answers from the
installed package.

Worked example:
    start("sigmoid", Path("mywork"))           # writes mywork/sigmoid.py
    report = check("sigmoid", Path("mywork"))  # after the student filled it in
    report.passed, [r.message for r in report.results if not r.passed]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from fooldigits import FoolDigitsError
from fooldigits.core.data import atomic_write
from fooldigits.exercises import checks, sandbox
from fooldigits.exercises.judge import Case

STUBS = Path(__file__).parent / "stubs"
TIMEOUT = 5.0  # seconds a student's file may take to load and answer every check
MAX_TIMEOUT = 3600.0
MEMORY_MB = 1024


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    message: str


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    solution: str  # the project's own version, named once the exercise passes
    cases: Callable[[], list[Case]]

    @property
    def topic(self) -> str:
        """The docs chapter that shows the solution: `fooldigits read TOPIC`."""
        return self.solution.split(".")[0]


@dataclass(frozen=True)
class Report:
    """The verdict on one student's file: every check, and what the file printed."""
    exercise: Exercise
    results: list[CheckResult]
    output: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        """For `--json`: the solution is named only once every check passes."""
        return {"exercise": self.exercise.name, "passed": self.passed,
                "checks": [{"name": r.name, "passed": r.passed, "message": r.message}
                           for r in self.results],
                "output": self.output,
                "solution": self.exercise.solution if self.passed else None}


EXERCISES = {
    e.name: e for e in (
        Exercise("sigmoid", "the sigmoid and its derivative", "network.sigmoid",
                 checks.sigmoid_cases),
        Exercise("backprop", "matrix backprop for a whole mini-batch",
                 "network.Network.backprop", checks.backprop_cases),
        Exercise("covariance", "the covariance matrix and its eigenvectors", "pca.PCA.fit",
                 checks.covariance_cases),
        Exercise("crossover", "uniform crossover and mutation", "evolve.evolve",
                 checks.crossover_cases),
        Exercise("variogram", "the g_x / g_y neighbour statistics", "stats.variogram",
                 checks.variogram_cases),
        Exercise("fgsm", "the fast gradient sign method: a tiny change that fools",
                 "adversarial.fgsm", checks.fgsm_cases),
    )
}


def get(name: str) -> Exercise:
    if name not in EXERCISES:
        raise FoolDigitsError(f"unknown exercise {name!r}; exercises: {', '.join(EXERCISES)}")
    return EXERCISES[name]


def start(name: str, directory: Path, force: bool = False) -> Path:
    """Copy the stub of exercise `name` into `directory` (created if needed)."""
    get(name)
    target = Path(directory) / f"{name}.py"
    if target.exists() and not force:
        raise FoolDigitsError(f"{target} already exists; use --force to start over")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FoolDigitsError(f"cannot create {target.parent}: {err.strerror}") from None
    stub = (STUBS / f"{name}.py").read_bytes()
    atomic_write(target, lambda f: f.write(stub))
    return target


def _judge(exercise: Exercise, cases: list[Case], run: sandbox.Run) -> Report:
    """Judge each case on its own outcomes; a stopped child is a failed check too."""
    if run.load_problem:
        return Report(exercise, [CheckResult("load your file", False, run.load_problem)],
                      run.output)
    results, position = [], 0
    for case in cases:
        outcomes = run.outcomes[position:position + len(case.calls)]
        position += len(case.calls)
        try:
            verdict = case.judge(outcomes)
        except Exception as err:  # a bug of the checker's, not the student's
            verdict = (f"the checker could not judge this answer ({type(err).__name__}: "
                       f"{sandbox.clean(str(err))}); please report it")
        results.append(CheckResult(case.name, verdict is None, verdict or "ok"))
    if run.ending and not any(o.problem == run.ending for o in run.outcomes):
        results.append(CheckResult("the checking process", False, run.ending))
    return Report(exercise, results, run.output)


def check(name: str, directory: Path, timeout: float = TIMEOUT,
          memory_mb: int = MEMORY_MB) -> Report:
    """Check `directory/name.py` in a child process; `timeout` is in seconds."""
    exercise = get(name)
    if not (isinstance(timeout, int | float) and math.isfinite(timeout)
            and 0 < timeout <= MAX_TIMEOUT):
        raise FoolDigitsError(f"--timeout must be a number of seconds between 0 and "
                              f"{MAX_TIMEOUT:g}, got {timeout}")
    cases = exercise.cases()
    calls = [call for case in cases for call in case.calls]
    run = sandbox.run_file(Path(directory) / f"{name}.py", calls, timeout, memory_mb)
    return _judge(exercise, cases, run)


def check_module(name: str, module: ModuleType) -> Report:
    """Run the checks in this process on a module we trust (the tests use `reference`)."""
    exercise = get(name)
    cases = exercise.cases()
    run = sandbox.run_module(module, [call for case in cases for call in case.calls])
    return _judge(exercise, cases, run)
