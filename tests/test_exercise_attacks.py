"""The checker holds up against a mischievous student: one test per class of attack.

Each test writes a hostile student file and runs the real `fooldigits exercise check`
in a process of its own (so a checker that hangs, is stopped or is written into can be
seen from outside), with an outer time limit and memory cap. Every attack here worked
against the checker of issue 26; each test names what must hold now.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from fooldigits.exercises import reference

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

WRONG_SIGMOID = ("import numpy as np\n"
                 "def sigmoid(z):\n    return np.zeros_like(z)\n"
                 "def sigmoid_prime(z):\n    return np.zeros_like(z)\n")
RIGHT_SIGMOID = ("import numpy as np\n"
                 "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, float)))\n"
                 "def sigmoid_prime(z):\n    s = sigmoid(z)\n    return s * (1 - s)\n")
# Walks up from the student's process through the checker's own processes (their command
# lines name fooldigits), stopping at the checker: never beyond it, into pytest.
ANCESTORS = """
import os
def checker_processes():
    pid = os.getppid()
    for _ in range(4):
        try:
            line = open(f'/proc/{pid}/cmdline', 'rb').read()
        except OSError:
            return
        if b'fooldigits' not in line:
            return
        yield pid
        if b'exercise\\x00check' in line:
            return
        status = open(f'/proc/{pid}/status').read()
        pid = int(status.split('PPid:')[1].split()[0])
"""


def _limits() -> None:
    """The checker under test gets 3 GB and 60 s of processor time, in case it is broken."""
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    resource.setrlimit(resource.RLIMIT_CPU, (60, 60))


def checker(tmp_path: Path, name: str, source: str, *options: str, limit: float = 40.0
            ) -> tuple[int | None, str, str, float]:
    """Run `fooldigits exercise check NAME FOLDER --json` in its own process.

    Returns the exit code (None when it had to be killed after `limit` seconds), its
    stdout, its stderr and the seconds it took. It runs from `tmp_path/cwd`.
    """
    folder, cwd = tmp_path / "work", tmp_path / "cwd"
    folder.mkdir(exist_ok=True)
    cwd.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(source)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PWD": str(cwd)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "fooldigits", "exercise", "check", name, str(folder), "--json",
         *options], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_limits)
    try:
        out, err = process.communicate(timeout=limit)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        os.kill(process.pid, signal.SIGCONT)
        out, err = process.communicate()
        code = None
    return code, out.decode(errors="replace"), err.decode(errors="replace"), \
        time.monotonic() - started


def report(stdout: str) -> dict:  # type: ignore[type-arg]
    """The --json report: the whole of stdout must be one JSON object."""
    data = json.loads(stdout)
    assert isinstance(data, dict)
    return data


def failed(data: dict) -> str:  # type: ignore[type-arg]
    return " | ".join(c["message"] for c in data["checks"] if not c["passed"])


def alive(pid: int) -> bool:
    """True while process `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# -- the checker's own output and folder ---------------------------------------------------
def test_the_student_cannot_write_into_the_checkers_stdout_or_folder(tmp_path: Path) -> None:
    source = ANCESTORS + """
for pid in checker_processes():
    for fd in ('1', '2'):
        try:
            with open(f'/proc/{pid}/fd/{fd}', 'w') as f:
                f.write('{"passed": true, "FORGED": 1}\\n')
        except OSError:
            pass
    for folder in (f'/proc/{pid}/cwd', os.environ.get('PWD', '/nonexistent')):
        try:
            open(os.path.join(folder, 'FORGED.txt'), 'w').write('x')
        except OSError:
            pass
""" + WRONG_SIGMOID
    code, out, err, _ = checker(tmp_path, "sigmoid", source)
    data = report(out)  # all of stdout is the checker's JSON; what the student wrote to
    assert code == 1 and "FORGED" not in err  # its own stdout is only in "output"
    assert "FORGED" not in json.dumps({k: v for k, v in data.items() if k != "output"})
    assert data["passed"] is False and "expected" in failed(data)
    assert not (tmp_path / "cwd" / "FORGED.txt").exists()
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["sigmoid.py"]


# -- the time limit holds whatever the child does ------------------------------------------
# The places a hostile file looks for the checker's files: its folder, the one above, and
# every folder named on its command line -- but, so that a broken checker cannot cost this
# checkout its files, only folders inside the temporary folder, never this repository.
PLACES = f"""
import os, pathlib
ROOT = {os.path.realpath(tempfile.gettempdir())!r}
REPO = {str(Path(__file__).resolve().parents[1])!r}
def places():
    found = {{pathlib.Path.cwd(), pathlib.Path.cwd().parent}}
    for arg in open('/proc/self/cmdline', 'rb').read().split(b'\\0'):
        p = pathlib.Path(arg.decode(errors='replace'))
        if arg and p.is_absolute() and p.exists():
            found.add(p if p.is_dir() else p.parent)
    for place in found:
        real = os.path.realpath(place)
        if real.startswith(ROOT + os.sep) and not real.startswith(REPO) and '.venv' not in real:
            yield pathlib.Path(real)
def files(place):
    for folder, _, names in os.walk(place, followlinks=False):
        for name in names:
            yield pathlib.Path(folder, name)
"""
DELETE_EVERYTHING = PLACES + """
for place in list(places()):
    for p in list(files(place)):
        try:
            p.unlink()
        except OSError:
            pass
"""


SLEEP = "import time\nwhile True:\n    time.sleep(0.05)\n"  # an endless loop that costs no CPU


# A real checker per attack (~0.4 s CPU each): the checker stopped by its own student stays in
# the quick loop, the rest of the battery is slow (`make test` and CI run it).
@pytest.mark.parametrize("attack", [
    pytest.param("delete every file the checker made, then loop", marks=pytest.mark.slow),
    pytest.param("stop itself with SIGSTOP", marks=pytest.mark.slow),
    "stop the checker with SIGSTOP, then loop",
    pytest.param("kill its parent, then loop", marks=pytest.mark.slow),
])
def test_the_timeout_holds_whatever_the_student_does(tmp_path: Path, attack: str) -> None:
    source = {
        "delete every file the checker made, then loop": DELETE_EVERYTHING + SLEEP,
        "stop itself with SIGSTOP": "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n",
        "stop the checker with SIGSTOP, then loop":
            "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n" + SLEEP,
        "kill its parent, then loop":
            "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + SLEEP,
    }[attack]
    code, out, err, took = checker(tmp_path, "sigmoid", source, "--timeout", "1")
    assert code == 1, (attack, code, err)
    assert "stopped your code after 1 s" in failed(report(out)), attack
    assert took < 20, attack


# -- the checker reads nothing unbounded ---------------------------------------------------
# ~0.4 s CPU each: the blocking FIFO in the quick loop, the endless ones slow
@pytest.mark.parametrize("replacement", [pytest.param("/dev/zero", marks=pytest.mark.slow),
                                         "fifo", pytest.param("loop", marks=pytest.mark.slow)])
def test_replacing_the_checkers_files_cannot_hang_or_swell_it(tmp_path: Path,
                                                              replacement: str) -> None:
    """The student's function swaps every file it can find for an endless or blocking
    one, then ends the process, so the checker has only those files to read."""
    swap = {"/dev/zero": "os.symlink('/dev/zero', p)", "fifo": "os.mkfifo(p)",
            "loop": "os.symlink(p, p)"}[replacement]
    source = PLACES + f"""
def sigmoid(z):
    names = ['load.json', 'output.txt', 'done', 'ready', '0.json', '0.npz']
    for place in list(places()):
        for p in [*files(place), *(place / n for n in names)]:
            if p.name.endswith('.py'):
                continue
            try:
                p.unlink()
            except OSError:
                pass
            try:
                {swap}
            except OSError:
                pass
    os._exit(0)
"""
    code, out, err, took = checker(tmp_path, "sigmoid", source, "--timeout", "5")
    assert code == 1 and took < 30, (code, err)
    assert "ended the checking process" in failed(report(out))


# -- no process the student starts outlives the check ---------------------------------------
def test_no_process_the_student_starts_outlives_the_check(tmp_path: Path) -> None:
    """Every way a student file would start a process -- os.fork (plain, then setsid or
    setpgid), subprocess, os.system, libc's fork through ctypes, _posixsubprocess --
    is refused and named, and nothing it started is left when the check ends."""
    pids = tmp_path / "pids"
    pids.mkdir()
    source = f"""
import ctypes, os, time
def child(how):
    if how == 'setsid':
        os.setsid()
    elif how == 'setpgid':
        os.setpgid(0, 0)
    open(os.path.join({str(pids)!r}, str(os.getpid())), 'w').close()
    time.sleep(60)
    os._exit(0)
def attempt(start):
    try:
        start()
    except Exception:
        pass
for how in ('plain', 'setsid', 'setpgid'):
    attempt(lambda: os.fork() == 0 and child(how))
    attempt(lambda: ctypes.CDLL(None).fork() == 0 and child(how))
attempt(lambda: __import__('subprocess').Popen(['sleep', '60'], start_new_session=True))
attempt(lambda: os.system('sleep 60 &'))
attempt(lambda: __import__('_posixsubprocess'))
time.sleep(0.3)
""" + WRONG_SIGMOID
    code, out, err, _ = checker(tmp_path, "sigmoid", source)
    time.sleep(0.3)
    survivors = [int(p.name) for p in pids.iterdir() if alive(int(p.name))]
    for pid in survivors:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert code == 1 and survivors == [], err
    assert "your code tried to start a process (os.fork)" in failed(report(out))


def test_the_checker_kills_every_process_it_inherits(tmp_path: Path) -> None:
    """Behind the audit hook (for code that gets round it): while a check runs, the
    checker adopts orphans of its child and kills them, however they left the group."""
    from fooldigits.exercises import sandbox

    pid_file = tmp_path / "pid"
    script = ("import os, sys, time\nif os.fork():\n    os._exit(0)\nos.setsid()\n"
              "open(sys.argv[1], 'w').write(str(os.getpid()))\ntime.sleep(60)\n")
    with sandbox.shielded() as spare:
        subprocess.run([sys.executable, "-c", script, str(pid_file)], check=True)
        deadline = time.monotonic() + 60  # (a fixed 2 s could run out on a crawling machine)
        while not (pid_file.exists() and pid_file.read_text()):
            assert time.monotonic() < deadline, "the orphan never wrote its pid"
            time.sleep(0.01)
        pid = int(pid_file.read_text())
        adopted = pid in sandbox._children()  # ours, not init's
        sandbox._sweep(spare)
        gone = not alive(pid)
    if not gone:
        os.kill(pid, signal.SIGKILL)
    assert adopted and gone


def test_forks_cannot_multiply_the_memory_limit(tmp_path: Path) -> None:
    """Three forks that each fill 600 MB under a 1 GB limit: the fork is refused, with
    a sentence, before any of them can hold its memory."""
    marks = tmp_path / "marks"
    marks.mkdir()
    source = f"""
import os, time
import numpy as np
for i in range(3):
    if os.fork() == 0:
        block = np.ones(75_000_000)
        open(os.path.join({str(marks)!r}, str(i)), 'w').close()
        time.sleep(30)
        os._exit(0)
""" + RIGHT_SIGMOID
    code, out, _, _ = checker(tmp_path, "sigmoid", source)
    assert code == 1
    assert "start" in failed(report(out)) and "process" in failed(report(out))
    assert list(marks.iterdir()) == []


# -- the reference stays out of the student's answers ---------------------------------------
REFERENCE_FILE = Path(reference.__file__)


@pytest.mark.parametrize("how", ["imports it", "reads and runs it", "is a link to it",
                                 "is a copy of it"])
def test_a_submission_that_uses_the_reference_is_refused(tmp_path: Path, how: str) -> None:
    """Importing or reading it is refused in the child and named; a link to it or a copy
    of it is refused before any child starts."""
    from fooldigits import FoolDigitsError, exercises

    student = tmp_path / "sigmoid.py"
    if how == "is a link to it":
        student.symlink_to(REFERENCE_FILE)
    else:
        student.write_text({
            "imports it": "from fooldigits.exercises.reference import sigmoid, sigmoid_prime\n",
            "reads and runs it": f"exec(open({str(REFERENCE_FILE)!r}).read())\n",
            "is a copy of it": REFERENCE_FILE.read_text()}[how])
    try:
        found = exercises.check("sigmoid", tmp_path, timeout=20)
    except FoolDigitsError as err:
        said = str(err)
    else:
        assert not found.passed, how
        said = found.results[0].message
    assert "reference answers" in said, (how, said)


# -- wrong answers that used to pass --------------------------------------------------------
CROSSOVER = "import numpy as np\ndef crossover(a, b, mask):\n    return np.where(mask, a, b)\n"
MUTATES = {
    "a constant value": "    out = images.copy()\n"
                        "    out[rng.random(images.shape) < rate] = 0.5\n    return out\n",
    "always the same pixels": "    out = images.copy()\n    if rate > 0:\n"
                              "        hit = np.zeros(images.shape, bool)\n"
                              "        hit.flat[::round(1 / rate)] = True\n"
                              "        out[hit] = rng.random(int(hit.sum()))\n"
                              "    return out\n",
    "ignoring rng": "    own = np.random.default_rng(0)\n    out = images.copy()\n"
                    "    hit = own.random(images.shape) < rate\n"
                    "    out[hit] = own.random(int(hit.sum()))\n    return out\n",
    "the global np.random": "    out = images.copy()\n"
                            "    hit = np.random.random(images.shape) < rate\n"
                            "    out[hit] = np.random.random(int(hit.sum()))\n    return out\n",
    "changing its input and hiding it": "    np.array_equal = lambda *a, **k: True\n"
                                        "    hit = rng.random(images.shape) < rate\n"
                                        "    images[hit] = rng.random(int(hit.sum()))\n"
                                        "    return images\n",
}


@pytest.mark.parametrize("mistake", list(MUTATES))
def test_wrong_mutate_solutions_fail(tmp_path: Path, mistake: str) -> None:
    """Judged in this process, except the one that patches NumPy to hide what it did,
    which only the child can run."""
    from types import ModuleType

    from fooldigits import exercises

    source = CROSSOVER + "def mutate(images, rate, rng):\n" + MUTATES[mistake]
    if mistake == "changing its input and hiding it":
        (tmp_path / "crossover.py").write_text(source)
        found = exercises.check("crossover", tmp_path, timeout=20)
    else:
        student = ModuleType("student")
        exec(compile(source, "student.py", "exec"), student.__dict__)
        found = exercises.check_module("crossover", student)
    assert not found.passed, mistake


def test_fgsm_that_changes_its_input_fails(tmp_path: Path) -> None:
    from fooldigits import exercises

    (tmp_path / "fgsm.py").write_text(
        "import numpy as np\ndef fgsm(x, gradient, epsilon):\n"
        "    x += epsilon * np.sign(gradient)\n    np.clip(x, 0, 1, out=x)\n    return x\n")
    found = exercises.check("fgsm", tmp_path, timeout=20)
    assert not found.passed
    assert "in place" in " ".join(r.message for r in found.results)
