"""Classroom exercises that check themselves, with the student's code kept at arm's length.

What this module teaches
------------------------
How to test numerical code against a trusted reference without trusting the code under
test. Each exercise is one core idea of a chapter of the story; `start` copies a stub
(the signature, the docstring and `raise NotImplementedError`) into the student's
folder, and `check` runs the student's file in a child process (`sandbox.run_file`: a
fresh temporary folder, its own session, a time limit kept by the parent, memory and
process limits, its printed output captured), gets back only the NumPy arrays its
functions returned, and judges them here against the project's own implementation
(`checks`, `checks_steps`, `checks_fooling`, `checks_generative`, `reference`), case
by case: which case failed, what was expected, what came back, and the name of the
mistake when it is a common one.
`grade.grade` does the same for a whole class, one child process per student.

A syntax error, an exception, an endless loop, `sys.exit()`, a missing function, a
wrong return type, an input changed in place or the global np.random used instead of
the given generator is one failed check with one sentence, never a crash or a hang of
the checker, and `check` passes only when every check ran and passed. A file that
imports or reads fooldigits (where the reference answers are), or is a link to or a
copy of the reference, is refused.

What it leaves out: a sandbox against a determined attacker (docs/exercises.md says
exactly what is and is not protected).

Worked example:
    start("sigmoid", Path("mywork"))           # writes mywork/sigmoid.py
    report = check("sigmoid", Path("mywork"))  # after the student filled it in
    report.passed, [r.message for r in report.results if not r.passed]
"""

from __future__ import annotations

import math
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from fooldigits import FoolDigitsError
from fooldigits.core.writing import atomic_write
from fooldigits.exercises import (
    checks,
    checks_fooling,
    checks_generative,
    checks_steps,
    judge,
    sandbox,
)
from fooldigits.exercises.answers import Run, clean
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
    chapter: str  # the tutor chapter it belongs to: data, network, pca, dream, ...
    solution: str  # the project's own version, named once the exercise passes
    cases: Callable[[], list[Case]]

    @property
    def topic(self) -> str:
        """The docs chapter that shows the solution: `fooldigits read TOPIC` (a module
        without a chapter of its own is read with the chapter that teaches it)."""
        module = self.solution.split(".")[0]
        return {"neurons": "network", "convlayers": "conv"}.get(module, module)


@dataclass(frozen=True)
class Report:
    """The verdict on one student's file: every check, and what the file printed."""
    exercise: Exercise
    results: list[CheckResult]
    output: str = ""
    checks: int = 0  # the exercise's own checks; `results` may add failed rows of its own
    #                  ("load your file", "your own work"), or hold one row for all of them

    @property
    def checks_passed(self) -> int:
        """How many of the exercise's checks passed (the added rows never pass)."""
        return sum(r.passed for r in self.results)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def mistake(self) -> str:
        """The first failed check's sentence ("" when every check passed)."""
        return next((r.message for r in self.results if not r.passed), "")

    def as_dict(self) -> dict[str, object]:
        """For `--json`: the solution is named only once every check passes."""
        return {"exercise": self.exercise.name, "passed": self.passed,
                "checks": [{"name": r.name, "passed": r.passed, "message": r.message}
                           for r in self.results],
                "output": self.output,
                "solution": self.exercise.solution if self.passed else None}


EXERCISES = {
    e.name: e for e in (
        Exercise("nearest_mean", "the mean of each digit, and the nearest-mean classifier",
                 "data", "pca.nearest_mean", checks.nearest_mean_cases),
        Exercise("sigmoid", "the sigmoid and its derivative", "network", "neurons.Sigmoid",
                 checks.sigmoid_cases),
        Exercise("backprop", "matrix backprop for a whole mini-batch", "network",
                 "network.Network.backprop", checks.backprop_cases),
        Exercise("covariance", "the covariance matrix and its eigenvectors", "pca",
                 "pca.PCA.fit", checks.covariance_cases),
        Exercise("dream", "one dream step: down the gradient, clipped, finished images kept",
                 "dream", "dream.dream", checks_steps.dream_cases),
        Exercise("crossover", "uniform crossover and mutation", "fool", "evolve.evolve",
                 checks_fooling.crossover_cases),
        Exercise("centre", "MNIST's centring by the centre of mass", "drawings",
                 "drawings.normalise", checks_fooling.centre_cases),
        Exercise("variogram", "the g_x / g_y neighbour statistics", "prior",
                 "stats.variogram", checks_fooling.variogram_cases),
        Exercise("conv", "a convolution layer's forward pass, by im2col", "conv",
                 "convlayers.im2col", checks.conv_cases),
        Exercise("fgsm", "the fast gradient sign method: a tiny change that fools",
                 "fighting", "adversarial.fgsm", checks_steps.fgsm_cases),
        Exercise("pgd", "one PGD step: up the sign, back into the ball", "fighting",
                 "adversarial.pgd", checks_steps.pgd_cases),
        Exercise("ppca", "the score of an image under one digit's PPCA, in q dimensions",
                 "generative", "generative.Generative.log_likelihood",
                 checks_generative.ppca_cases),
        Exercise("interval_bound", "the interval bound of one layer: how sure can it be?",
                 "meaning", "ceiling.activation_box", checks_fooling.interval_cases),
    )
}


def get(name: str) -> Exercise:
    if name not in EXERCISES:
        raise FoolDigitsError(f"unknown exercise {name!r}; exercises: {', '.join(EXERCISES)}")
    return EXERCISES[name]


def shown(path: Path) -> str:
    """A path as the user would type it in a shell, control characters made visible."""
    return shlex.quote(sandbox.CONTROL.sub("?", str(path)))


def student_file(name: str, path: Path) -> Path:
    """`path` itself if it names a .py file, else the file NAME.py in the folder `path`."""
    path = Path(path)
    return path if path.suffix == ".py" else path / f"{name}.py"


def start(name: str, path: Path, force: bool = False) -> Path:
    """Copy the stub of exercise `name` to `path` (a folder, created if needed, or a .py
    file); an existing file is replaced only with `force`."""
    get(name)
    target = student_file(name, path)
    folder = target.parent
    if folder.exists() and not folder.is_dir():
        raise FoolDigitsError(f"{shown(folder)} is not a folder: give the folder to write "
                              f"{target.name} into")
    if os.path.lexists(target) and not force:
        raise FoolDigitsError(f"{shown(target)} already exists (is it your work?); to "
                              "replace it with the stub, pass force=True")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FoolDigitsError(f"cannot create the folder {shown(folder)}: "
                              f"{err.strerror or err}") from None
    stub = (STUBS / f"{name}.py").read_bytes()
    atomic_write(target, lambda f: f.write(stub))
    return target


def _judge(exercise: Exercise, cases: list[Case], run: Run) -> Report:
    """Judge each case on its own outcomes; a stopped child is a failed check too."""
    results = [CheckResult("your own work", False, flag) for flag in run.flags]
    if run.load_problem:
        return Report(exercise, [*results, CheckResult("load your file", False,
                                                       run.load_problem)], run.output,
                      len(cases))
    position = 0
    for case in cases:
        outcomes = run.outcomes[position:position + len(case.calls)]
        position += len(case.calls)
        verdict = next((v for call, outcome in zip(case.calls, outcomes, strict=True)
                        if outcome.value is not None and (v := judge.common(call, outcome))),
                       None)
        try:
            verdict = verdict or case.judge(outcomes)
        except Exception as err:  # a bug of the checker's, not the student's
            verdict = (f"the checker could not judge this answer ({type(err).__name__}: "
                       f"{clean(str(err))}); please report it")
        results.append(CheckResult(case.name, verdict is None, verdict or "ok"))
    if run.ending and not any(o.problem == run.ending for o in run.outcomes):
        results.append(CheckResult("the checking process", False, run.ending))
    return Report(exercise, results, run.output, len(cases))


def check_timeout(timeout: float) -> float:
    if not (isinstance(timeout, int | float) and math.isfinite(timeout)
            and 0 < timeout <= MAX_TIMEOUT):
        got = f"{timeout:g}" if isinstance(timeout, int | float) else repr(timeout)
        raise FoolDigitsError(f"timeout must be a number of seconds above 0 and at most "
                              f"{MAX_TIMEOUT:g}, got {got}")
    return float(timeout)


def check(name: str, path: Path, timeout: float = TIMEOUT, memory_mb: int = MEMORY_MB
          ) -> Report:
    """Check the student's file (`path`, or `path/NAME.py`) in a child process;
    `timeout` is in seconds."""
    exercise = get(name)
    check_timeout(timeout)
    target = student_file(name, path)
    if target.parent.exists() and not target.parent.is_dir():
        raise FoolDigitsError(f"{shown(target.parent)} is neither a folder nor a .py file: "
                              f"give your work folder (holding {name}.py) or your .py file")
    if not os.path.lexists(target):
        raise FoolDigitsError(f"{shown(target)} does not exist; `fooldigits exercise start "
                              f"{name} {shown(path)}` writes the stub there to start from")
    cases = exercise.cases()
    calls = [call for case in cases for call in case.calls]
    return _judge(exercise, cases, sandbox.run_file(target, calls, timeout, memory_mb))


def check_module(name: str, module: ModuleType) -> Report:
    """Run the checks in this process on a module we trust (the tests use `reference`)."""
    exercise = get(name)
    cases = exercise.cases()
    run = sandbox.run_module(module, [call for case in cases for call in case.calls])
    return _judge(exercise, cases, run)
