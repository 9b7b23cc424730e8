"""The exercise checker: the references pass, stubs fail, every usual mistake is named,
and no student file can crash, hang or fake a pass of the real checker (a real file in a
temporary folder, a real child process; one child per check)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fooldigits import FoolDigitsError, exercises
from fooldigits.cli import app
from fooldigits.exercises import child, reference
from fooldigits.exercises.answers import Answers, UnreadableError
from tests.exercise_solutions import SOLUTIONS

runner = CliRunner()
SIGMOID = SOLUTIONS["sigmoid"]


def check_cli(tmp_path: Path, name: str, source: str, *options: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    """Write `source` as the student's file and run the real `exercise check --json`."""
    (tmp_path / f"{name}.py").write_text(source)
    result = runner.invoke(app, ["exercise", "check", name, str(tmp_path), "--json", *options])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)  # valid JSON whatever it printed


def messages(report: dict) -> str:  # type: ignore[type-arg]
    return " | ".join(c["message"] for c in report["checks"] if not c["passed"])


def module(source: str) -> ModuleType:
    """A student's module made from source, for judging in this process (it is trusted)."""
    student = ModuleType("student")
    exec(compile(source, "student.py", "exec"), student.__dict__)
    return student


def failures(name: str, source: str) -> str:
    report = exercises.check_module(name, module(source))
    return " | ".join(r.message for r in report.results if not r.passed)


# -- the references pass and the stubs fail -----------------------------------------------
def test_right_answers_pass_in_the_child_and_untouched_stubs_fail(tmp_path: Path) -> None:
    """Every exercise through the real child process: a student's right file passes and
    names the project's version; one stub through the command fails as not implemented."""
    for name, source in SOLUTIONS.items():
        (tmp_path / f"{name}.py").write_text(source)
        report = exercises.check(name, tmp_path, timeout=30)
        assert report.passed, (name, [r.message for r in report.results if not r.passed])
        assert report.as_dict()["solution"] == exercises.get(name).solution
    folder = tmp_path / "stub"
    result = runner.invoke(app, ["exercise", "start", "fgsm", str(folder)])
    assert result.exit_code == 0 and (folder / "fgsm.py").exists()
    result = runner.invoke(app, ["exercise", "check", "fgsm", str(folder), "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and not report["passed"] and report["solution"] is None
    assert "not implemented yet" in report["checks"][0]["message"]


def test_a_correct_student_file_passes_and_names_the_project_version(tmp_path: Path) -> None:
    (tmp_path / "sigmoid.py").write_text(
        "import numpy as np\n"
        "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, float)))\n"
        "def sigmoid_prime(z):\n    s = sigmoid(z)\n    return s * (1 - s)\n")
    result = runner.invoke(app, ["exercise", "check", "sigmoid", str(tmp_path)])
    words = " ".join(result.stdout.split())
    assert result.exit_code == 0 and "all checks pass" in words
    assert "neurons.Sigmoid" in words and "fooldigits read network" in words


def test_list_does_not_give_the_answer_away() -> None:
    result = runner.invoke(app, ["exercise", "list"])
    assert result.exit_code == 0 and "backprop" in result.stdout and "fgsm" in result.stdout
    for exercise in exercises.EXERCISES.values():
        assert exercise.solution not in result.stdout and exercise.chapter in result.stdout


# -- nothing a student's file does can crash, hang or fake a pass -------------------------
def test_sys_exit_at_import_fails(tmp_path: Path) -> None:
    code, report = check_cli(tmp_path, "sigmoid", "import sys\nsys.exit(0)\n")
    assert code == 1 and not report["passed"] and "sys.exit()" in messages(report)


def test_os_exit_in_a_function_fails(tmp_path: Path) -> None:
    code, report = check_cli(tmp_path, "sigmoid", SIGMOID + "import os\n"
                             "def sigmoid_prime(z):\n    os._exit(0)\n")
    assert code == 1 and "ended the checking process (exit status 0)" in messages(report)
    assert report["checks"][0]["passed"]  # the checks before it still count


def test_sys_exit_in_a_function_is_one_failed_check(tmp_path: Path) -> None:
    code, report = check_cli(tmp_path, "sigmoid", SIGMOID + "def sigmoid(z):\n"
                             "    raise SystemExit(0)\n")
    assert code == 1 and "sigmoid called sys.exit()" in messages(report)


def test_patching_the_reference_is_refused(tmp_path: Path) -> None:
    code, report = check_cli(tmp_path, "sigmoid", (
        "import numpy as np\n"
        "try:\n    import fooldigits.exercises.reference as r\n"
        "    r.sigmoid = r.sigmoid_prime = lambda z: np.zeros_like(z)\n"
        "except ImportError:\n    pass\n"
        "def sigmoid(z):\n    return np.zeros_like(z)\n"
        "def sigmoid_prime(z):\n    return np.zeros_like(z)\n"))
    assert code == 1 and not report["passed"] and "expected" in messages(report)
    assert "your file imports fooldigits" in report["checks"][0]["message"]


@pytest.mark.parametrize("where", ["at import", "in a function"])
def test_an_endless_loop_is_stopped_at_the_timeout(tmp_path: Path, where: str) -> None:
    loop = "while True:\n    pass\n" if where == "at import" else \
        SIGMOID + "def sigmoid_prime(z):\n    while True:\n        pass\n"
    started = time.monotonic()
    code, report = check_cli(tmp_path, "sigmoid", loop, "--timeout", "0.5")
    assert time.monotonic() - started < 30
    assert code == 1 and "stopped your code after 0.5 s" in messages(report)
    assert ("loading sigmoid.py" if where == "at import" else "running sigmoid_prime") \
        in messages(report)


def test_a_non_daemon_thread_does_not_keep_the_checker_waiting(tmp_path: Path) -> None:
    """Root may start the thread (RLIMIT_NPROC does not bind root); any other user's
    child may start none, and is told so in one sentence."""
    started = time.monotonic()
    code, report = check_cli(tmp_path, "sigmoid", "import threading, time\n"
                             "threading.Thread(target=time.sleep, args=(600,)).start()\n"
                             + SIGMOID, "--timeout", "60")
    assert time.monotonic() - started < 30
    assert (code == 0 and report["passed"]) or "start new thread" in messages(report)


def test_deleting_files_in_its_folder_touches_only_a_copy(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    code, report = check_cli(tmp_path, "sigmoid", (
        "import pathlib, os\n"
        "for folder in (pathlib.Path(__file__).parent, pathlib.Path(os.getcwd())):\n"
        "    for p in folder.iterdir():\n        p.unlink()\n" + SIGMOID))
    assert code == 0 and report["passed"]
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "sigmoid.py").exists()


def test_prints_are_captured_and_json_stays_valid(tmp_path: Path) -> None:
    code, report = check_cli(tmp_path, "sigmoid", (
        "import sys\nprint('{\"passed\": true} [red]x[/] \\x1b[2J')\n"
        "print('to stderr', file=sys.stderr)\n" + SIGMOID +
        "def sigmoid_prime(z):\n    raise ValueError('[/] \\x1b[31m')\n"))
    assert code == 1 and '{"passed": true}' in report["output"]
    assert "to stderr" in report["output"] and "\x1b" not in json.dumps(report)
    result = runner.invoke(app, ["exercise", "check", "sigmoid", str(tmp_path)])
    assert result.exit_code == 1 and "[/]" in result.stdout  # markup shown, not obeyed


def test_forged_answers_are_refused_and_never_unpickled(tmp_path: Path) -> None:
    """A file that writes forged answers into every descriptor it has and every file
    beside it, then ends the process, fails: the parent reads only its own pipe, and
    only frames of numbers."""
    marker = tmp_path / "unpickled"
    code, report = check_cli(tmp_path, "sigmoid", (
        "import os, pickle, pathlib\n"
        "class Boom:\n    def __reduce__(self):\n"
        f"        return (open, ({str(marker)!r}, 'w'))\n"
        "forged = b'FDX1' + pickle.dumps(Boom()) + b'{\"passed\": true}'\n"
        "for fd in range(3, 4096):\n"
        "    try:\n        os.write(fd, forged)\n    except OSError:\n        pass\n"
        "for p in pathlib.Path.cwd().iterdir():\n    p.write_bytes(forged)\n"
        "os._exit(0)\n"))
    assert code == 1 and not report["passed"]
    assert "could not read back" in messages(report) or "ended the checking" in messages(report)
    assert not marker.exists()


def test_a_frame_and_garbage_in_one_read_keep_the_frame() -> None:
    """The race behind the forged-answers test's rare "failed to start": the child's
    "ready" and the student's forged bytes reach the parent in one read. The frame
    before the garbage still counts (the check started), then the garbage is refused."""
    heard = Answers()
    with pytest.raises(UnreadableError, match="not a frame"):
        heard.feed(child.frame({"kind": "ready"}) + b"FDX1" + b"\x80\x04forged" * 4)
    assert [m["kind"] for m in heard.messages] == ["ready"]


def test_a_crash_and_a_memory_error_are_sentences(tmp_path: Path) -> None:
    code, report = check_cli(tmp_path, "sigmoid", (
        "import numpy as np\n"
        "def sigmoid(z):\n    return np.ones((10**6, 10**6))\n"
        "def sigmoid_prime(z):\n    import ctypes\n    ctypes.string_at(0)\n"))
    assert code == 1
    assert "sigmoid raised MemoryError" in report["checks"][0]["message"]
    assert "crashed (SIGSEGV)" in messages(report)


def test_a_memory_error_names_the_checkers_limit_and_no_empty_message(tmp_path: Path) -> None:
    """1.9 GB fits the student's machine but not the checker's 1,024 MB: the sentence says
    so. A MemoryError with no message (a list grown until it fails), and a load-time one,
    read without a dangling colon."""
    code, report = check_cli(tmp_path, "fgsm", (
        "import numpy as np\n"
        "def fgsm(x, gradient, epsilon):\n    return np.ones((16000, 16000))\n"))
    first = report["checks"][0]["message"]
    assert code == 1 and "fgsm raised MemoryError: Unable to allocate" in first
    assert first.endswith("(at line 3); the checker gives your code 1,024 MB of memory")
    code, report = check_cli(tmp_path, "fgsm", "def fgsm(x, gradient, epsilon):\n"
                             "    raise MemoryError\n")
    assert report["checks"][0]["message"] == ("fgsm raised MemoryError (at line 2); the "
                                              "checker gives your code 1,024 MB of memory")
    code, report = check_cli(tmp_path, "fgsm", "raise MemoryError()\n")
    assert report["checks"][0]["message"] == ("fgsm.py failed while loading: MemoryError (at "
                                              "line 1); the checker gives your code 1,024 MB "
                                              "of memory")


def test_missing_functions_and_wrong_return_types(tmp_path: Path) -> None:
    code, report = check_cli(tmp_path, "variogram", "def variogram(images, lags):\n"
                             "    return 'g_x', 'g_y', 'g_z'\n")
    assert code == 1 and "returned a tuple of 3 items; expected a tuple (g_x, g_y)" \
        in messages(report)
    for source, fragment in (
            ("sigmoid_prime = 3\n", "has no function `sigmoid`"),
            ("sigmoid_prime = 3\n", "`sigmoid_prime` in your file is an int"),
            ("def sigmoid(z):\n    pass\n", "sigmoid returned None; expected a NumPy array"),
            ("def sigmoid(z):\n    return 'x'\n", "sigmoid returned a str"),
            ("def sigmoid_prime(z):\n    return (z, z)\n", "returned a tuple of 2 items"),
            ("def sigmoid_prime(z):\n    return [z]\n", "returned a list of 1 item;"),
            ("import numpy as np\ndef sigmoid(z):\n    return np.array([object()])\n",
             "returned an array of dtype object")):
        assert fragment in failures("sigmoid", source), source
    code, report = check_cli(tmp_path, "sigmoid", "import numpy as np\n"
                             "def sigmoid(z):\n    return np.array([None, 'a'])\n")
    assert code == 1 and "dtype object" in messages(report)


def test_syntax_and_runtime_errors_name_their_line(tmp_path: Path) -> None:
    code, report = check_cli(tmp_path, "crossover", "def crossover(a, b, mask)\n    return a\n")
    assert code == 1 and "syntax error on line 1: expected ':'" in messages(report)
    assert "crossover.py, line 1" not in messages(report)  # Python's str() said it twice
    code, report = check_cli(tmp_path, "backprop", "\n\ndef backprop(w, b, x, y):\n"
                             "    return 1 / 0\n")
    assert code == 1 and "ZeroDivisionError: division by zero (at line 4)" in messages(report)


def test_bad_inputs_are_one_sentence(tmp_path: Path) -> None:
    result = runner.invoke(app, ["exercise", "check", "backprop", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "exercise start backprop" in result.stderr
    result = runner.invoke(app, ["exercise", "start", "poetry", str(tmp_path)])
    assert result.exit_code == 1 and "exercises: nearest_mean, sigmoid" in result.stderr
    runner.invoke(app, ["exercise", "start", "sigmoid", str(tmp_path)])
    result = runner.invoke(app, ["exercise", "start", "sigmoid", str(tmp_path)])
    assert result.exit_code == 1 and "--force" in result.stderr
    for value in ("nan", "inf", "0", "-1"):
        result = runner.invoke(app, ["exercise", "check", "sigmoid", str(tmp_path),
                                     "--timeout", value])
        assert result.exit_code == 1 and "timeout must be" in result.stderr
    result = runner.invoke(app, ["exercise", "check", "sigmoid", str(tmp_path), "--timeout",
                                 "0"])  # "between 0 and 3600, got 0.0": as if 0 were allowed
    assert "seconds above 0 and at most 3600, got 0" in " ".join(result.stderr.split())
    (tmp_path / "fgsm.py").mkdir()
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "dir" / "fgsm.py")
    for folder in (tmp_path, tmp_path / "dir"):
        result = runner.invoke(app, ["exercise", "check", "fgsm", str(folder)])
        assert result.exit_code == 1 and "not a regular file" in result.stderr
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "fgsm.py").write_bytes(b"#" * 2_000_000)
    result = runner.invoke(app, ["exercise", "check", "fgsm", str(tmp_path / "big")])
    assert result.exit_code == 1 and "larger than 1 MB" in result.stderr


def test_start_and_check_say_what_to_type(tmp_path: Path) -> None:
    """A missing file names the `start` that writes it (for a folder or a .py path);
    starting over an existing file says how to keep it or replace it; a path that is not
    a folder says so (not "File exists")."""
    for place in (tmp_path / "mywork", tmp_path / "mywork" / "attempt2.py"):
        result = runner.invoke(app, ["exercise", "check", "sigmoid", str(place)])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"`fooldigits exercise start sigmoid {place}`" in result.stderr, result.stderr
        result = runner.invoke(app, ["exercise", "start", "sigmoid", str(place)])
        assert result.exit_code == 0
        written = place if place.suffix == ".py" else place / "sigmoid.py"
        assert written.read_text() == (exercises.STUBS / "sigmoid.py").read_text()
        written.write_text(SIGMOID)
        result = runner.invoke(app, ["exercise", "start", "sigmoid", str(place)])
        words = " ".join(result.stderr.split())
        assert result.exit_code == 1 and "already exists" in words
        assert f"keep it and run `fooldigits exercise check sigmoid {place}`" in words
        assert f"`fooldigits exercise start sigmoid {place} --force`" in words
        assert written.read_text() == SIGMOID  # nothing lost
        result = runner.invoke(app, ["exercise", "check", "sigmoid", str(place)])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["exercise", "start", "sigmoid", "/dev/full"])
    assert result.exit_code == 1 and "/dev/full is not a folder" in result.stderr
    (tmp_path / "model.npz").write_bytes(b"not a folder")  # `start` would refuse it too
    for wrong in (tmp_path / "model.npz", Path("/dev/null")):
        result = runner.invoke(app, ["exercise", "check", "sigmoid", str(wrong)])
        words = " ".join(result.stderr.split())
        assert result.exit_code == 1 and f"{wrong} is neither a folder nor a .py file" in words
        assert "exercise start" not in words, words
    assert "File exists" not in result.stderr
    with pytest.raises(FoolDigitsError, match="force=True"):
        exercises.start("sigmoid", tmp_path / "mywork")


# -- the checks check the right thing and name the usual mistakes -------------------------
def test_a_wrong_derivative_fails_with_expected_and_got_the_right_way_round() -> None:
    found = failures("sigmoid", "import numpy as np\n"
                     "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(z / 2))\n"
                     "def sigmoid_prime(z):\n    s = sigmoid(z)\n    return s * (1 + s)\n")
    z = np.random.default_rng(0).normal(0, 3, (4, 5))  # the checker's own inputs
    s = reference.sigmoid(z)
    true, wrong = f"{(s * (1 - s))[0, 0]:.4f}", f"{(s * (1 + s))[0, 0]:.4f}"
    assert found.count("you wrote sigma * (1 + sigma)") == 2
    for part in found.split(" | "):
        expected, got = part.split(", got ")
        assert true in expected and wrong in got, part


def test_the_naive_sigmoid_overflows_and_is_told_the_stable_form() -> None:
    found = failures("sigmoid", "import numpy as np\n"
                     "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
                     "def sigmoid_prime(z):\n    s = sigmoid(z)\n    return s * (1 - s)\n")
    assert found.startswith("sigmoid overflows") and "np.tanh" in found and " | " not in found


def test_backprop_that_averages_is_told_to_sum() -> None:
    found = failures("backprop", "from fooldigits.exercises.reference import backprop as b\n"
                     "def backprop(w, bias, x, y):\n    nb, nw = b(w, bias, x, y)\n"
                     "    return [v / len(x) for v in nb], [v / len(x) for v in nw]\n")
    assert "divided by the batch size m = 5" in found and "m = 7" in found
    assert len(found.split(" | ")) == 2  # one example: averaging changes nothing


def test_variogram_with_x_and_y_swapped_is_told_so() -> None:
    found = failures("variogram", "from fooldigits.exercises.reference import variogram as v\n"
                     "def variogram(images, lags):\n    g_x, g_y = v(images, lags)\n"
                     "    return g_y, g_x\n")
    assert found.count("g_x and g_y are swapped") == 2


def test_covariance_mistakes_are_named() -> None:
    found = failures("covariance", "import numpy as np\n"
                     "def covariance(X):\n    return np.cov(X.T, bias=True)\n"
                     "def principal_components(X, k):\n"
                     "    values, vectors = np.linalg.eigh(np.cov(X.T))\n"
                     "    return vectors[:, ::-1][:, :k]\n")
    assert "divides by n - 1" in found and "as ROWS" in found


@pytest.mark.parametrize(("step", "named"), [
    ("x + epsilon * np.sign(gradient)", ["forgot the clip"]),
    ("np.clip(x + epsilon * gradient, 0, 1)", ["gradient itself instead of its sign"]),
    ("np.clip(x - epsilon * np.sign(gradient), 0, 1)", ["stepped down the cost"]),
    ("x - epsilon * gradient", ["gradient itself", "stepped down", "forgot the clip"]),
])
def test_fgsm_mistakes_are_named(step: str, named: list[str]) -> None:
    found = failures("fgsm", f"import numpy as np\ndef fgsm(x, gradient, epsilon):\n"
                             f"    return {step}\n").split(" | ")
    assert len(found) == 3 and all(named[0] in f for f in found), found
    assert all(any(mistake in f for f in found) for mistake in named), found


def test_fgsm_is_checked_on_a_real_network_gradient() -> None:
    """The gradient in the check raises the cost: the reference step fools the network."""
    from fooldigits.models.base import one_hot
    from fooldigits.models.network import Network

    calls = [c for case in exercises.get("fgsm").cases() for c in case.calls]
    x, gradient, epsilon = calls[1].args
    assert isinstance(x, np.ndarray) and isinstance(gradient, np.ndarray)
    assert isinstance(epsilon, float)

    net = Network([784, 30, 10], rng=np.random.default_rng(0))
    rng = np.random.default_rng(6)  # the checker's own draws
    rng.random((8, 784))
    labels = rng.integers(0, 10, 8)
    assert np.allclose(net.input_gradient(x, labels), gradient)
    y = one_hot(labels)
    assert net.total_cost(reference.fgsm(x, gradient, epsilon), y) > net.total_cost(x, y)


# -- a fuzz test: mutated sources never crash or hang the checker -------------------------
SNIPPETS = [b"while True: pass\n", b"import os; os._exit(0)\n", b"import sys; sys.exit(3)\n",
            b"    return None\n", b"    return 'x'\n", b"    return (1, 2, 3)\n",
            b"print('[red]x[/]\\x1b[2J' * 5)\n", b"raise KeyboardInterrupt\n", b"def ", b":",
            b"    ", b"\n", b"np.", b"lambda: ", b"\x00", b"\xff\xfe", b"import threading\n",
            b"    return np.array([object()])\n", b"    return [[1], [2, 3]]\n"]
BASES = {name: [(exercises.STUBS / f"{name}.py").read_bytes(), SOLUTIONS[name].encode()]
         for name in exercises.EXERCISES}


@st.composite
def student_sources(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(BASES)))
    source = draw(st.sampled_from(BASES[name]))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(source)))
        cut = draw(st.integers(0, 40))
        insert = draw(st.sampled_from(SNIPPETS) | st.binary(max_size=8))
        source = source[:at] + insert + source[at + cut:]
    return name, source


@settings(max_examples=8, deadline=timedelta(seconds=60), derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(student_sources())
def test_mutated_sources_give_results_or_one_sentence(example: tuple[str, bytes]) -> None:
    name, source = example
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / f"{name}.py").write_bytes(source)
        started = time.monotonic()
        try:
            report = exercises.check(name, Path(folder), timeout=1.0)
        except FoolDigitsError:
            return
        assert time.monotonic() - started < 60
        assert report.results and all(r.message for r in report.results)
        assert not any("could not judge" in r.message for r in report.results)
        json.dumps(report.as_dict(), allow_nan=False)


def test_what_the_student_printed_is_shown_inert(tmp_path: Path) -> None:
    """Escape codes and invisible characters that reorder text (U+202E) become '?';
    tabs, newlines and ordinary letters stay."""
    from fooldigits.exercises import sandbox

    out = tmp_path / "out"
    out.write_text("ok\tdone\n\x1b[31mred \u202etxet \u200bzero é\n", encoding="utf-8")
    with out.open("rb") as f:
        shown = sandbox._printed(f)
    assert shown == "ok\tdone\n?[31mred ?txet ?zero é\n"


def test_an_exercise_is_named_in_any_case(tmp_path: Path) -> None:
    """`exercise start Sigmoid` was 'unknown exercise': the name is taken in any case,
    with spaces around, and the file is still sigmoid.py."""
    result = runner.invoke(app, ["exercise", "start", " Sigmoid", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "sigmoid.py").is_file()
    result = runner.invoke(app, ["exercise", "check", "SIGMOID", str(tmp_path)])
    assert "unknown exercise" not in result.stderr and "not implemented yet" in result.stdout


def test_each_stub_names_the_tutor_chapter_number_it_belongs_to() -> None:
    """A stub that says "chapter N" means the tutor's chapter N, the exercise's own (the
    chapters were renumbered when conv and generative came in; Nielsen's are excepted)."""
    import re

    from fooldigits.tutor import story

    number = {c.key: c.title.split(".")[0] for c in story.CHAPTERS}
    cited = 0
    for exercise in exercises.EXERCISES.values():
        head = (exercises.STUBS / f"{exercise.name}.py").read_text().split("\n\n")[0]
        for n in re.findall(r"(?<!Nielsen, )(?<!of )\bchapter (\d+)", head):
            cited += 1
            assert n == number[exercise.chapter], (exercise.name, n, exercise.chapter)
    assert cited >= 4  # the test reads the stubs' headers at all


def test_exercises_are_listed_in_the_tutor_order_of_their_chapters() -> None:
    """`exercise list` follows the story: conv (chapter 8) was listed after the network
    chapter, before pca."""
    from fooldigits.tutor import story

    order = [c.key for c in story.CHAPTERS]
    chapters = [order.index(e.chapter) for e in exercises.EXERCISES.values()]
    assert chapters == sorted(chapters)


def test_checking_a_stub_where_it_ships_says_to_copy_it(tmp_path: Path) -> None:
    # It said the stub was "fooldigits' own file ..., where the reference answers live",
    # which the stub is not, and named the same path twice.
    stub = Path(exercises.__file__).parent / "stubs" / "fgsm.py"
    result = runner.invoke(app, ["exercise", "check", "fgsm", str(stub)])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and f"{stub} is fooldigits' own stub" in said
    assert "`fooldigits exercise start fgsm DIR` copies it" in said
    assert "reference answers" not in said and said.count(str(stub)) == 1
    (tmp_path / "fgsm.py").symlink_to(stub)  # a link names where it leads
    said = " ".join(runner.invoke(app, ["exercise", "check", "fgsm", str(tmp_path)])
                    .stderr.split())
    assert f"fgsm.py ({stub}) is fooldigits' own stub" in said
