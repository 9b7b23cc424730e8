"""Issue 26, one test per class: tracebacks, data lost, wrong exits, unclear messages.

Each test runs the commands the way a careless user or a mischievous student would (closed
streams, signals in the first tenth of a second, all-black data, a hung-up terminal, a
FIFO where the scores go, a file name that retitles the terminal) and asks for what the
design card promises: one sentence, the right exit code, nothing good replaced.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from fooldigits.cli import app, command
from fooldigits.core.data import Dataset
from fooldigits.models.network import Network
from tests.conftest import load_dense, write_idx

runner = CliRunner()
ENV = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_sentence(code: int, out: str, err: str, expected: str = "") -> None:
    """Exit 1, one `[error]` line on stderr (holding `expected`), no traceback or warning."""
    assert code == 1, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[error] "), err
    assert expected in err, err
    assert "Traceback" not in out + err and "Warning" not in err


def data_dir(folder: Path, mnist: Dataset, train: np.ndarray, labels: np.ndarray,
             test: np.ndarray | None = None, test_labels: np.ndarray | None = None) -> Path:
    """A --data-dir of these images (floats in [0, 1]) and labels."""
    folder.mkdir()
    test = mnist.test_images[:100] if test is None else test
    test_labels = mnist.test_labels[:100] if test_labels is None else test_labels
    for name, array in (("train-images-idx3-ubyte", train), ("t10k-images-idx3-ubyte", test)):
        write_idx(folder / name, (array * 255).round().reshape(-1, 28, 28))
    write_idx(folder / "train-labels-idx1-ubyte", labels)
    write_idx(folder / "t10k-labels-idx1-ubyte", test_labels)
    return folder


@pytest.fixture()
def hostile(tmp_path: Path, mnist: Dataset) -> dict[str, Path]:
    """Data folders that break naive code: all black, a digit missing, five images, no 3
    among the test digits; and an 11-class model."""
    x, y = mnist.train_images[:600], mnist.train_labels[:600]
    tx, ty = mnist.test_images[:100], mnist.test_labels[:100]
    eleven = tmp_path / "eleven.npz"
    Network([784, 5, 11], rng=np.random.default_rng(0)).save(eleven)
    return {"black": data_dir(tmp_path / "black", mnist, np.zeros_like(x), y,
                              np.zeros_like(tx), ty),
            "missing": data_dir(tmp_path / "missing", mnist, x[y != 3], y[y != 3]),
            "five": data_dir(tmp_path / "five", mnist, x[:5], y[:5]),
            "no-test-3": data_dir(tmp_path / "no3", mnist, x, y, tx[ty != 3], ty[ty != 3]),
            "eleven": eleven}


# -- Tracebacks --------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "expected"), [
    (["pca", "--data-dir", "{black}"], "every training image is the same"),
    (["pca", "--data-dir", "{missing}"], "fewer of 3"),
    (["pca", "--data-dir", "{five}", "--json"], "at least two training images of every"),
    (["adversarial", "--attack", "", "--count", "20"], "--attack takes"),
    (["adversarial", "--attack", ",", "--digit", "1", "--target", "2"], "--attack takes"),
    (["draw", "--model", "{eleven}"], "draw needs a model with 10"),
])
def test_hostile_inputs_are_one_sentence(hostile: dict[str, Path], args: list[str],
                                         expected: str) -> None:
    code, out, err = run(*(a.format(**hostile) for a in args))
    one_sentence(code, out, err, expected)


def test_epsilons_all_above_the_summary_cap_still_report() -> None:
    code, out, err = run("adversarial", "--epsilons", "0.2,0.3", "--count", "20", "--show", "1",
                         "--attack", "fgsm", "--json")
    assert code == 0 and '"epsilon": 0.3' in out and "Traceback" not in err, err


# The check runs before typer parses anything, so these stand for every command. Each
# stream is tried with three of them, each command with at least one stream (every pair:
# 18 processes, ~1.5 s CPU, for the same line of `fooldigits.__main__`).
COMMANDS = ["show", "draw", "tutor", "exercise", "--help", "no-such-command"]


@pytest.mark.parametrize("stream", [0, 1, 2])
def test_closed_standard_streams_are_one_sentence(stream: int) -> None:
    """`<&-`, `>&-`, `2>&-`: one sentence (on a stream that is open), exit 1, before any
    command runs (a file opened later would take the closed stream's number)."""
    name = ("input", "output", "error output")[stream]
    for cmd in (COMMANDS * 2)[2 * stream:2 * stream + 3]:
        keep = {0: subprocess.DEVNULL, 1: subprocess.PIPE, 2: subprocess.PIPE}
        done = subprocess.run([sys.executable, "-m", "fooldigits", cmd], stdin=keep[0],
                              stdout=keep[1], stderr=keep[2], env=ENV, timeout=60,
                              preexec_fn=lambda: os.close(stream))
        said = (done.stdout if stream == 2 else done.stderr).decode()
        assert done.returncode == 1, (cmd, done.returncode, said)
        assert said == f"[error] the standard {name} is closed ({'2' * (stream == 2)}" \
            f"{'<' if stream == 0 else '>'}&-): fooldigits needs it open; give it " \
            f"/dev/null instead ({'2' * (stream == 2)}{'<' if stream == 0 else '>'}" \
            "/dev/null)\n", (cmd, said)


def _handlers_installed(pid: int) -> bool:
    """True once the process catches SIGTERM: `fooldigits.__main__` has started."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_early_signals_are_one_line() -> None:
    """SIGINT or SIGTERM from the moment fooldigits' own code runs (while typer is imported
    and builds the command): one `[stopped]` line and exit 130, never a traceback.

    (Before that, Python's own start-up owns the signals; the test starts its clock when
    `/proc` shows the SIGTERM handler, the first thing `fooldigits.__main__` does.)
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        for delay in (0.0, 0.005, 0.01, 0.02, 0.04, 0.08):
            process = subprocess.Popen([sys.executable, "-m", "fooldigits", "show", "--count",
                                        "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       env=ENV)
            deadline = time.monotonic() + 30
            while not _handlers_installed(process.pid) and time.monotonic() < deadline:
                time.sleep(0.0005)
            time.sleep(delay)
            process.send_signal(sig)
            _, err = process.communicate(timeout=60)
            text = err.decode()
            # -SIGINT is exit status 130 to a shell too: CPython 3.11 ends the process by
            # SIGINT, after our SystemExit(130), when the interrupt landed inside an
            # eval() (typer evaluates the commands' string annotations with one).
            assert process.returncode in (0, 130, -signal.SIGINT), (sig, delay, text)
            assert "Traceback" not in text, (sig, delay, text)
            if process.returncode != 0:
                assert text.startswith("[stopped] interrupted") and text.count("\n") == 1, text


def test_a_terminal_hang_up_under_draw_is_no_traceback(tmp_path: Path) -> None:
    """The terminal goes away while the pad runs: SIGHUP, then EIO on every read and
    termios call. The pad puts nothing back (there is nothing left) and exits 130."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "fooldigits", "draw"], stdin=slave, stdout=slave,
            stderr=err, env=ENV, start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    seen, deadline = b"", time.monotonic() + 60
    while b"quit" not in seen and time.monotonic() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            seen += os.read(master, 65536)
    assert b"quit" in seen  # the pad is up
    os.close(master)  # hang up
    assert process.wait(timeout=30) == 130
    assert "Traceback" not in log.read_text() and "error" not in log.read_text()


# -- Data lost ---------------------------------------------------------------------------
def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "fooldigits", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


def test_interrupted_runs_write_beside_an_existing_out(tmp_path: Path,
                                                       tiny_idx_dir: Path) -> None:
    """Ctrl-C never replaces a finished result: the partial one goes to NAME.partial.npz."""
    model = tmp_path / "m.npz"
    Network([784, 5, 10], rng=np.random.default_rng(0)).save(model)
    before = model.read_bytes()
    process = _start("train", "--out", str(model), "--data-dir", str(tiny_idx_dir), "--epochs",
                     "100000", "--hidden", "5")
    assert process.stdout is not None
    while "epoch   2/" not in process.stdout.readline():
        assert process.poll() is None
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert model.read_bytes() == before
    partial = tmp_path / "m.partial.npz"
    assert f"to {partial} (beside {model}, which was left as it was)" in err
    assert load_dense(partial).meta["stopped"].startswith("by Ctrl-C after epoch")


@pytest.mark.slow  # six seconds of GA runs in a real process: ~6 s CPU (the same rule without
# a process: tests/test_experiments.py throws Ctrl-C into `evolve_runs`)
def test_interrupted_fool_writes_beside_an_existing_out(tmp_path: Path) -> None:
    images = tmp_path / "f.npz"
    np.savez(images, images=np.zeros((3, 28, 28), np.float32))
    before = images.read_bytes()
    process = _start("fool", "--digit", "1", "--count", "100000", "--target", "0.5",
                     "--out", str(images))
    time.sleep(6)  # start-up, then whole runs finishing every few milliseconds
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err, err
    assert images.read_bytes() == before
    if "finished fooling images to" in err:  # (on a crawling machine maybe none had)
        assert "f.partial.npz (beside" in err
        assert len(np.load(tmp_path / "f.partial.npz")["images"]) > 0


def test_draw_checks_its_output_files_before_the_pad_opens(tmp_path: Path) -> None:
    """Not after the game: /dev/full, a FIFO, a symlink loop, a read-only folder."""
    fifo = tmp_path / "scores.json"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    cases = [("/dev/full", "is a character device"), (str(fifo), "is a FIFO"),
             (str(loop), "symlink loop")]
    if os.geteuid() != 0:  # root writes into read-only folders
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        cases.append((str(locked / "s.json"), "not writable"))
    for path, expected in cases:
        code, out, err = run("draw", "--game", "--json", path)
        one_sentence(code, out, err, expected)
    code, out, err = run("draw", "--out", str(fifo.with_suffix(".png")) + "/x.png")
    one_sentence(code, out, err, "does not exist")


# -- Wrong exit ----------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "expected"), [
    # refused before the (missing) data is even looked for
    (["train", "--hidden", ",".join(["10"] * 15), "--data-dir", "/nonexistent"],
     "--hidden takes at most 14 values"),
    (["train", "--hidden", "9000,3000", "--data-dir", "/nonexistent"], "34,098,010 weights"),
    (["fool", "--digit", "2", "--prior", "stats", "--data-dir", "{black}"], "all black"),
    (["compare", "--count", "2", "--data-dir", "{black}", "--json"], "all black"),
    (["adversarial", "--digit", "3", "--target", "5", "--data-dir", "{no-test-3}", "--json"],
     "hold no '3'"),
])
def test_what_cannot_be_done_exits_1(hostile: dict[str, Path], args: list[str],
                                     expected: str) -> None:
    code, out, err = run(*(a.format(**hostile) for a in args))
    one_sentence(code, out, err, expected)
    assert "nan" not in out


# -- Unclear -------------------------------------------------------------------------------
def test_messages_say_what_is_wrong_in_the_user_s_words(tmp_path: Path,
                                                        hostile: dict[str, Path]) -> None:
    code, out, err = run("train", "--out", ".npz")
    one_sentence(code, out, err, "--out .npz has no name before .npz")
    code, out, err = run("adversarial", "--transfer", "--epochs", "0")
    one_sentence(code, out, err, "--epochs must be at least 1")
    assert "--batch-size" not in err
    code, out, err = run("adversarial", "--epsilons", "5")
    one_sentence(code, out, err, "--epsilons must be at least 0 and at most 1")
    code, out, err = run("train", "--data-dir", str(hostile["five"]), "--epochs", "1",
                         "--hidden", "3", "--out", str(tmp_path / "m.npz"))
    assert code == 0 and "best test accuracy" in out and "no validation images" in out, out
    assert "validation accuracy" not in out


def test_user_text_is_printed_inert(tmp_path: Path) -> None:
    """File names and topics holding escape sequences (an OSC one retitles the terminal)
    and newlines are shown escaped, wherever they are printed."""
    evil = "e\x1b]0;pwned\x07v\x1b[2Ji\nl\u202e"
    shown = "e\\x1b]0;pwned\\x07v\\x1b[2Ji\\nl\\u202e"
    good = tmp_path / f"{evil}.txt"
    good.write_text((Path(__file__).parent.parent / "docs/drawings/seven.txt").read_text())
    for args in (["classify", str(good), str(tmp_path / f"{evil}.png")],
                 ["train", "--out", f"/nonexistent/{evil}.npz"],
                 ["read", evil],
                 ["show", "--png", str(tmp_path / f"{evil}.png"), "--count", "1"]):
        result = runner.invoke(app, args, color=True)
        text = result.stdout + result.stderr
        assert "\x1b]" not in text and "\x1b[2J" not in text and "\u202e" not in text, args
        assert shown in "".join(text.split()), (args, text)  # (however Rich wrapped it)


def test_python_warnings_become_one_line() -> None:
    """A warning NumPy raises where no one prevented it: one `[warning]` line."""
    spare = typer.Typer()

    @command("overflow", target=spare)
    def overflow() -> None:
        np.float32(3e38) * np.float32(10)
        typer.echo("done")

    @command("other", target=spare)
    def other() -> None:
        pass

    result = runner.invoke(spare, ["overflow"])
    assert result.exit_code == 0 and result.stdout == "done\n"
    assert result.stderr.startswith("[warning] overflow encountered")
    assert result.stderr.count("\n") == 1, result.stderr
