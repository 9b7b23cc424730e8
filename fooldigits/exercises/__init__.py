"""Classroom exercises that check themselves.

What this module teaches
------------------------
How to test numerical code against a trusted reference. Each exercise is one core idea
of the story; `start` copies a stub (the signature, the docstring, and
`raise NotImplementedError`) into the student's folder, and `check` loads the student's
file and compares each function with the project's own implementation on seeded random
inputs, case by case: which case failed, what shape or value was expected, what came
back. A syntax error or an exception in the student's code is reported as a failed
check, never as a crash of the checker.

What it leaves out: time limits (a student's infinite loop hangs the check; Ctrl-C
stops it).
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.data import atomic_write
from fooldigits.exercises import reference

STUBS = Path(__file__).parent / "stubs"


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    message: str


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    teaches: str
    checks: Callable[[ModuleType], Iterator[CheckResult]]


def _describe(value: Any) -> str:
    array = np.asarray(value)
    if array.size <= 6:
        return np.array2string(array, precision=4, separator=", ")
    return f"array of shape {array.shape}, first values {np.array2string(array.ravel()[:4], precision=4, separator=', ')}"  # noqa: E501


def _call(name: str, function: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """Run the student's function; return (result, None) or (None, what went wrong)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return function(*args), None
    except NotImplementedError:
        return None, f"{name} is not implemented yet (it still raises NotImplementedError)"
    except Exception as err:
        frame = traceback.extract_tb(err.__traceback__)[-1]
        return None, (f"{name} raised {type(err).__name__}: {err} "
                      f"(line {frame.lineno} of {Path(frame.filename).name})")


def _compare(case: str, expected: Any, got: Any, atol: float = 1e-6) -> CheckResult:
    expected_array = np.asarray(expected, dtype=np.float64)
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return CheckResult(case, False, f"expected a NumPy array, got {type(got).__name__}")
    if got_array.shape != expected_array.shape:
        return CheckResult(case, False, f"expected shape {expected_array.shape}, "
                                        f"got shape {got_array.shape}")
    if not np.all(np.isfinite(got_array)):
        return CheckResult(case, False, f"got NaN or infinity: {_describe(got_array)}")
    difference = np.abs(got_array - expected_array)
    if np.all(difference <= atol + 1e-5 * np.abs(expected_array)):
        return CheckResult(case, True, "ok")
    where = np.unravel_index(int(np.argmax(difference)), difference.shape)
    return CheckResult(case, False, f"expected {_describe(expected_array)}, got "
                                    f"{_describe(got_array)} (largest difference "
                                    f"{difference[where]:.3g} at index {tuple(map(int, where))})")


def _same(case: str, name: str, student: ModuleType, args: tuple[Any, ...],
          atol: float = 1e-6) -> CheckResult:
    got, problem = _call(name, getattr(student, name), *args)
    if problem:
        return CheckResult(case, False, problem)
    return _compare(case, getattr(reference, name)(*args), got, atol)


def _sigmoid_checks(student: ModuleType) -> Iterator[CheckResult]:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, (4, 5))
    yield _same("sigmoid of small numbers", "sigmoid", student, (z,))
    yield _same("sigmoid of z = -1000 and 1000 (no overflow)", "sigmoid", student,
                (np.array([-1000.0, 0.0, 1000.0]),))
    yield _same("sigmoid_prime", "sigmoid_prime", student, (z,))
    got, problem = _call("sigmoid", student.sigmoid, z + 1e-6)
    low, problem_low = _call("sigmoid", student.sigmoid, z - 1e-6)
    if problem or problem_low:
        yield CheckResult("sigmoid_prime against finite differences", False,
                          str(problem or problem_low))
    else:
        yield _compare("sigmoid_prime against finite differences of your sigmoid",
                       (np.asarray(got) - np.asarray(low)) / 2e-6,
                       reference.sigmoid_prime(z), 1e-5)


def _backprop_checks(student: ModuleType) -> Iterator[CheckResult]:
    for case, sizes, m in (("sizes [4, 3, 2], 5 examples", [4, 3, 2], 5),
                           ("sizes [6, 5, 4, 3], 7 examples", [6, 5, 4, 3], 7),
                           ("one example", [5, 4, 3], 1)):
        rng = np.random.default_rng(len(sizes) + m)
        w = [rng.normal(0, 1, (a, b)) for a, b in itertools.pairwise(sizes)]
        b = [rng.normal(0, 1, n) for n in sizes[1:]]
        x, y = rng.random((m, sizes[0])), np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
        got, problem = _call("backprop", student.backprop, w, b, x, y)
        if problem:
            yield CheckResult(case, False, problem)
            continue
        try:
            got_b, got_w = got
        except (TypeError, ValueError):
            yield CheckResult(case, False, "backprop must return a pair (nabla_b, nabla_w)")
            continue
        want_b, want_w = reference.backprop(w, b, x, y)
        results = [_compare(f"{case}: nabla_b[{i}]", e, g) for i, (e, g) in
                   enumerate(zip(want_b, list(got_b), strict=False))]
        results += [_compare(f"{case}: nabla_w[{i}]", e, g) for i, (e, g) in
                    enumerate(zip(want_w, list(got_w), strict=False))]
        if len(list(got_b)) != len(want_b) or len(list(got_w)) != len(want_w):
            results.append(CheckResult(case, False, f"expected {len(want_w)} layers of "
                                                    f"gradients, got {len(list(got_w))}"))
        failed = [r for r in results if not r.passed]
        yield failed[0] if failed else CheckResult(case, True, "ok")


def _covariance_checks(student: ModuleType) -> Iterator[CheckResult]:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 6)) @ np.diag([5.0, 4, 3, 2, 1, 0.5]) + 3.0
    yield _same("covariance of a small example", "covariance", student,
                (np.array([[0.0, 0.0], [2.0, 2.0]]),))
    yield _same("covariance of 300 x 6 random data", "covariance", student, (X,))
    yield _same("the 3 leading principal components", "principal_components", student,
                (X, 3), atol=1e-3)


def _crossover_checks(student: ModuleType) -> Iterator[CheckResult]:
    rng = np.random.default_rng(3)
    a, b = rng.random((4, 784)), rng.random((4, 784))
    mask = rng.random((4, 784)) < 0.5
    yield _same("crossover with a random mask", "crossover", student, (a, b, mask))
    yield _same("crossover with mask [True, False, True]", "crossover", student,
                (np.ones(3), np.zeros(3), np.array([True, False, True])))
    images = rng.random((100, 784))
    before = images.copy()
    for rate, low, high in ((0.0, 0.0, 0.0), (0.1, 0.08, 0.12), (1.0, 0.99, 1.0)):
        case = f"mutate at rate {rate}"
        got, problem = _call("mutate", student.mutate, images, rate, np.random.default_rng(4))
        if problem:
            yield CheckResult(case, False, problem)
            continue
        got = np.asarray(got)
        if not np.array_equal(images, before):
            yield CheckResult(case, False, "mutate changed its input; return a new array")
        elif got.shape != images.shape:
            yield CheckResult(case, False, f"expected shape {images.shape}, got {got.shape}")
        elif got.min() < 0 or got.max() > 1:
            yield CheckResult(case, False, "mutated pixels must lie in [0, 1]")
        elif not low <= np.mean(got != images) <= high:
            yield CheckResult(case, False, f"expected about {rate:.0%} of pixels changed, "
                                           f"got {np.mean(got != images):.1%}")
        else:
            yield CheckResult(case, True, "ok")


def _variogram_checks(student: ModuleType) -> Iterator[CheckResult]:
    stripes = np.tile([0.0, 1.0], 14)[None, :].repeat(28, axis=0).reshape(1, 784)
    yield _same("vertical stripes, 3 lags", "variogram", student, (stripes, 3))
    images = np.random.default_rng(5).random((6, 784))
    got, problem = _call("variogram", student.variogram, images, 4)
    if problem:
        yield CheckResult("6 random images, 4 lags", False, problem)
        return
    want = reference.variogram(images, 4)
    for i, part in enumerate(("g_x", "g_y")):
        try:
            value = got[i]
        except (TypeError, IndexError):
            yield CheckResult("6 random images, 4 lags", False, "return a pair (g_x, g_y)")
            return
        yield _compare(f"6 random images, 4 lags: {part}", want[i], value)


EXERCISES = {
    e.name: e for e in (
        Exercise("sigmoid", "the sigmoid and its derivative", "network.sigmoid",
                 _sigmoid_checks),
        Exercise("backprop", "matrix backprop for a whole mini-batch",
                 "network.Network.backprop", _backprop_checks),
        Exercise("covariance", "the covariance matrix and its eigenvectors", "pca.PCA.fit",
                 _covariance_checks),
        Exercise("crossover", "uniform crossover and mutation", "evolve.evolve",
                 _crossover_checks),
        Exercise("variogram", "the g_x / g_y neighbour statistics", "stats.variogram",
                 _variogram_checks),
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


def load(path: Path) -> ModuleType:
    """Import a student's file by path; errors become FoolDigitsError with the line."""
    if not path.is_file():
        raise FoolDigitsError(f"{path} does not exist; run `fooldigits exercise start "
                              f"{path.stem} {path.parent}` first")
    spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise FoolDigitsError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        raise FoolDigitsError(f"{path.name} has a syntax error on line {err.lineno}: "
                              f"{err.msg}") from None
    except Exception as err:
        raise FoolDigitsError(f"{path.name} failed while loading: {type(err).__name__}: "
                              f"{err}") from None
    finally:
        sys.modules.pop(spec.name, None)
    return module


def check(name: str, directory: Path) -> list[CheckResult]:
    """Run exercise `name`'s checks on `directory/name.py`; a failed load is one result."""
    exercise = get(name)
    try:
        student = load(Path(directory) / f"{name}.py")
    except FoolDigitsError as err:
        if "does not exist" in str(err):
            raise
        return [CheckResult("load your file", False, str(err))]
    return list(exercise.checks(student))


def check_module(name: str, module: ModuleType) -> list[CheckResult]:
    """Run the checks on an already imported module (the tests use the reference)."""
    return list(get(name).checks(module))
