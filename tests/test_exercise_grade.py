"""`fooldigits exercise grade`: a class folder of good, wrong, looping and hostile files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fooldigits import FoolDigitsError
from fooldigits.exercises import grade, reference
from tests.exercise_solutions import SOLUTIONS

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def make_class(folder: Path, pids: Path) -> None:
    """One entry per kind of student."""
    folder.mkdir()
    (folder / "alice.py").write_text(SOLUTIONS["fgsm"])  # right
    (folder / "bob.py").write_text(  # wrong: forgot the clip
        "import numpy as np\ndef fgsm(x, gradient, epsilon):\n"
        "    return x + epsilon * np.sign(gradient)\n")
    # loops, asleep: the same time-out as `while True: pass` (test_exercises runs that one)
    # without burning the second of CPU the grading waits
    (folder / "carol.py").write_text("import time\ndef fgsm(x, gradient, epsilon):\n"
                                     "    while True:\n        time.sleep(0.05)\n")
    (folder / "dave").mkdir()  # a folder; hostile: kills its parent, prints escapes
    (folder / "dave" / "fgsm.py").write_text(
        "import os, signal\nprint('\\x1b]0;pwned\\x07 [red]x[/]')\n"
        "os.kill(os.getppid(), signal.SIGKILL)\n" + SOLUTIONS["fgsm"])
    (folder / "erin.py").write_text(  # hostile: forks through libc, then loops
        "import ctypes, os, time\n"
        "for _ in range(3):\n"
        "    if ctypes.CDLL(None).fork() == 0:\n        os.setsid()\n"
        f"        open(os.path.join({str(pids)!r}, str(os.getpid())), 'w').close()\n"
        "        time.sleep(60)\n        os._exit(0)\n"
        "while True:\n    time.sleep(0.05)\n")
    os.mkfifo(folder / "frank.py")  # would hang a reader
    (folder / "grace.py").symlink_to(Path(reference.__file__))  # the reference itself
    (folder / "heidi.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n")
    (folder / "ivan").mkdir()  # two files, neither fgsm.py
    (folder / "ivan" / "a.py").write_text("")
    (folder / "ivan" / "b.py").write_text("")
    (folder / "notes.txt").write_text("not a student")
    (folder / ".hidden.py").write_text("not a student either")


def test_a_class_of_good_wrong_looping_and_hostile_files(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    make_class(tmp_path / "class", pids)
    html = tmp_path / "report.html"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "fooldigits", "exercise", "grade", "fgsm",
         str(tmp_path / "class"), "--timeout", "1", "--json", "--html", str(html)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    took = time.monotonic() - started
    survivors = [int(p.name) for p in pids.iterdir() if alive(int(p.name))]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert result.returncode == 0, result.stderr
    assert survivors == []
    report = json.loads(result.stdout)
    rows = {g["student"]: g for g in report["grades"]}
    assert list(rows) == ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
                          "ivan"]
    assert report["students"] == 9 and report["passed"] == 2  # alice, and dave's answers
    assert rows["alice"]["passed"] and rows["alice"]["checks_passed"] == 3
    assert "forgot the clip" in rows["bob"]["mistake"]
    for looping in ("carol", "heidi"):
        assert "stopped your code after 1 s" in rows[looping]["mistake"], looping
    assert "tried to start a process (libc fork)" in rows["erin"]["mistake"]
    assert rows["dave"]["file"].endswith("dave/fgsm.py")
    assert "FIFO" in rows["frank"]["mistake"] and not rows["frank"]["checked"]
    assert "reference answers" in rows["grace"]["mistake"]
    assert "holds no fgsm.py (and 2 other .py files)" in rows["ivan"]["mistake"]
    assert all(0 <= g["seconds"] < 30 for g in report["grades"])
    assert took < 90
    page = html.read_text()
    assert "<table" in page and "forgot the clip" in page and "pwned" not in page
    assert "\x1b" not in result.stderr  # the student's escape codes never reach the terminal


def test_submissions_and_bad_folders(tmp_path: Path) -> None:
    with pytest.raises(FoolDigitsError, match="is not a folder"):
        grade.submissions("fgsm", tmp_path / "missing")
    (tmp_path / "zoe").mkdir()
    (tmp_path / "zoe" / "my_attempt.py").write_text("")
    (tmp_path / "yan").mkdir()
    (tmp_path / "yan" / "fgsm.py").write_text("")
    (tmp_path / "yan" / "scratch.py").write_text("")
    # not students: Python's byte-code cache (it counted as one, "not checked", in the
    # class's total) and a notebook's hidden checkpoints
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "fgsm.py").write_text("")
    found = grade.submissions("fgsm", tmp_path)
    assert [(s, p.name if p else None, problem) for s, p, problem in found] == [
        ("yan", "fgsm.py", ""), ("zoe", "my_attempt.py", "")]
    with pytest.raises(FoolDigitsError, match="unknown exercise"):
        grade.grade("poetry", tmp_path)
    with pytest.raises(FoolDigitsError, match="timeout must be"):
        grade.grade("fgsm", tmp_path, timeout=0)


def test_grading_an_empty_folder_fails(tmp_path: Path) -> None:
    # A wrong folder printed an empty table and exited 0, as if the class had been graded.
    from typer.testing import CliRunner

    from fooldigits.cli import app

    (tmp_path / "notes.txt").write_text("not a student")
    result = CliRunner().invoke(app, ["exercise", "grade", "fgsm", str(tmp_path)])
    words = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "no students' files in" in words
    assert "one folder holding fgsm.py, per student" in words and "┏" not in result.stdout


def test_ctrl_c_keeps_the_rows_graded_so_far(tmp_path: Path) -> None:
    """Ctrl-C while carol's loop runs: alice's and bob's rows were lost with the rest; now
    the report of the two is written (here as JSON), and grading ends as interrupted."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text(SOLUTIONS["fgsm"])
    (folder / "bob.py").write_text("import numpy as np\ndef fgsm(x, gradient, epsilon):\n"
                                   "    return x + epsilon * np.sign(gradient)\n")
    (folder / "carol.py").write_text("import time\ndef fgsm(x, gradient, epsilon):\n"
                                     "    while True:\n        time.sleep(0.05)\n")
    # Its own temporary folder: in the shared /tmp, the carol.py of another run of this
    # test (a second checkout's suite at the same moment) ended the wait at once, and the
    # Ctrl-C came before alice and bob were graded.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    grading = subprocess.Popen(
        [sys.executable, "-m", "fooldigits", "exercise", "grade", "fgsm", str(folder),
         "--timeout", "30", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(scratch)}, start_new_session=True)
    deadline = time.monotonic() + 60
    while not any(scratch.glob("fooldigits-check-*/work/carol.py")):
        assert time.monotonic() < deadline, "carol's check never began"
        time.sleep(0.1)  # once carol's check has begun, alice and bob are graded
    time.sleep(1.0)
    os.killpg(grading.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    out, err = grading.communicate(timeout=60)
    assert grading.returncode == 130, err
    report = json.loads(out)
    assert [g["student"] for g in report["grades"]] == ["alice", "bob"]
    assert [g["passed"] for g in report["grades"]] == [True, False]
    assert b"stopped after 2 of 3 students" in err


def test_a_file_that_does_not_load_passes_none_of_all_the_checks(tmp_path: Path) -> None:
    # The class report's "checks" column said 0/1 for a syntax error and 0/2 for a fork
    # while loading, beside 3/3 and 0/3: as if those students had had fewer checks.
    (tmp_path / "bob.py").write_text("def fgsm(x, gradient, epsilon)\n    return x\n")
    (tmp_path / "erin.py").write_text("import os\nos.fork()\n")
    (tmp_path / "gina.py").write_text("import numpy as np\ndef fgsm(x, gradient, epsilon):\n"
                                      "    return np.clip(x + epsilon * gradient, 0, 1)\n")
    rows = {g.student: g for g in grade.grade("fgsm", tmp_path, timeout=20).grades}
    assert [(rows[s].checks_passed, rows[s].checks) for s in ("bob", "erin", "gina")] == \
        [(0, 3), (0, 3), (0, 3)]
    assert "syntax error on line 1" in rows["bob"].mistake
    assert "tried to start a process" in rows["erin"].mistake
