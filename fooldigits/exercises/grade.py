"""Grading a class: every student's file in a folder, each checked in a process of its own.

What this module teaches
------------------------
How to run the same untrusted check many times so that no one run can spoil the
others. `submissions` finds one entry per student in the folder -- a file `NAME.py`
(the student is the file's name) or a folder holding the exercise's `EXERCISE.py`
(or its only .py file; the student is the folder's name) -- and `grade` checks each
with `exercises.check`: a fresh child process, the usual time and memory limits, its
processes killed when it ends. A looping file costs its own timeout, a hostile one its
own sentence; a file that cannot be checked at all (a FIFO, a link to the reference, a
missing file) becomes a row saying why. The result, `ClassReport`, is one `Grade` per
student: passed or not, the checks passed, the first failed check's sentence (the
named mistake) and the seconds it took.

What it leaves out: scores beyond pass/fail, and protection against a submission that
signals the grader itself by its process id (docs/exercises.md).

Worked example:
    report = grade("fgsm", Path("class/"), timeout=5.0)
    [(g.student, g.passed, g.mistake) for g in report.grades]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fooldigits import FoolDigitsError, Interrupted
from fooldigits.exercises import MEMORY_MB, TIMEOUT, check, check_timeout, get, shown
from fooldigits.exercises.answers import clean

MAX_STUDENTS = 2000  # entries in one class folder; more is the wrong folder


@dataclass(frozen=True)
class Grade:
    """One student's row of the class report."""
    student: str
    file: str
    passed: bool
    checked: bool  # False when the file could not be checked at all
    checks_passed: int
    checks: int  # the exercise's checks: a file that fails to load passes 0 of all of them
    mistake: str  # the first failed check's sentence, or why it was not checked
    seconds: float


@dataclass
class ClassReport:
    exercise: str
    folder: str
    grades: list[Grade] = field(default_factory=list)

    def json(self) -> dict[str, object]:
        return {"exercise": self.exercise, "folder": self.folder,
                "students": len(self.grades), "passed": sum(g.passed for g in self.grades),
                "grades": [vars(g) for g in self.grades]}


def submissions(name: str, folder: Path) -> list[tuple[str, Path | None, str]]:
    """(student, file, problem) for each student in `folder`, sorted by student.

    A student is a .py file, or a folder holding NAME.py or exactly one .py file.
    Hidden entries, Python's __pycache__ (made when a file in the folder was imported)
    and other files (notes, PDFs) are left out.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FoolDigitsError(f"{shown(folder)} is not a folder of students' files")
    try:
        entries = sorted(folder.iterdir())
    except OSError as err:
        raise FoolDigitsError(f"cannot read the folder {shown(folder)}: "
                              f"{err.strerror or err}") from None
    found: list[tuple[str, Path | None, str]] = []
    for entry in entries:
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if len(found) == MAX_STUDENTS:
            raise FoolDigitsError(f"{shown(folder)} holds more than {MAX_STUDENTS} students;"
                                  " is it the right folder?")
        student = clean(entry.stem if entry.suffix == ".py" else entry.name, 60)
        if entry.is_dir():
            try:
                python = sorted(p for p in entry.iterdir() if p.suffix == ".py")
            except OSError as err:
                found.append((student, None, f"cannot read the folder: {err.strerror}"))
                continue
            chosen = entry / f"{name}.py" if entry.joinpath(f"{name}.py") in python \
                else python[0] if len(python) == 1 else None
            found.append((student, chosen, "" if chosen else
                          f"the folder holds no {name}.py" + (
                              f" (and {len(python)} other .py files)" if python else "")))
        elif entry.suffix == ".py":
            found.append((student, entry, ""))
    return found


def grade(name: str, folder: Path, timeout: float = TIMEOUT, memory_mb: int = MEMORY_MB,
          progress: Callable[[Grade, int, int], None] | None = None) -> ClassReport:
    """Check every student's file for exercise `name`; `progress(grade, i, n)` after each.

    Ctrl-C raises `Interrupted` whose `partial` is the report of the students graded so far.
    """
    get(name)
    check_timeout(timeout)
    students = submissions(name, folder)
    report = ClassReport(name, str(folder))
    try:
        _grade_all(name, students, report, timeout, memory_mb, progress)
    except KeyboardInterrupt:
        raise Interrupted(f"stopped after {len(report.grades)} of {len(students)} students; "
                          "their rows are above", partial=report) from None
    return report


def _grade_all(name: str, students: list[tuple[str, Path | None, str]], report: ClassReport,
               timeout: float, memory_mb: int,
               progress: Callable[[Grade, int, int], None] | None) -> None:
    """Grade each student in turn into `report.grades`."""
    for i, (student, path, problem) in enumerate(students):
        started = time.monotonic()
        if path is None:
            row = Grade(student, "", False, False, 0, 0, problem, 0.0)
        else:
            try:
                result = check(name, path, timeout, memory_mb)
            except FoolDigitsError as err:
                row = Grade(student, clean(str(path)), False, False, 0, 0, str(err),
                            round(time.monotonic() - started, 2))
            else:
                row = Grade(student, clean(str(path)), result.passed, True,
                            result.checks_passed, result.checks, result.mistake,
                            round(time.monotonic() - started, 2))
        report.grades.append(row)
        if progress is not None:
            progress(row, i, len(students))
