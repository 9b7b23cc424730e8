"""Issue 10's command-line items, each with a test: seeds, floats, caps, early path checks,
stdout, per-file classify, metadata printed as plain text."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from fooldigits.cli import app
from fooldigits.models.network import Network

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("args", [
    ["dream", "--digit", "1", "--steps", "5", "--json"],
    ["fool", "--digit", "8", "--json"],
    ["scramble", "--count", "20", "--levels", "0.5", "--json"],
    ["tutor", "--chapter", "meaning", "--no-pause"],
])
def test_negative_seeds_are_seeds(args: list[str]) -> None:
    code, out, err = run(*args, "--seed", "-7")
    assert code == 0, err
    if "--json" in args:  # the same numbers again (the tutor's text is only run)
        again = run(*args, "--seed", "-7")[1]
        assert json.loads(out) == json.loads(again) or "seconds" in out


@pytest.mark.parametrize(("args", "fragment"), [
    (["fool", "--digit", "2", "--prior-weight", "nan"], "--prior-weight must be a finite"),
    (["fool", "--digit", "2", "--prior-weight", "-1"], "--prior-weight must be at least 0"),
    (["dream", "--prior-weight", "inf"], "--prior-weight must be a finite"),
    (["scramble", "--levels", "nan"], "--levels must be shares in [0, 1]"),
    (["show", "--count", "1000000000"], "--count must be at most"),
    # (a path that fails later keeps the test fast should the cap ever go)
    (["stats", "--bins", "256"], "--bins must be at most 255"),  # 10**9 was killed (memory)
    (["fool", "--digit", "1", "--prior", "stats", "--bins", "256", "--out", "/no/f.npz"],
     "--bins must be at most"),
    (["train", "--epochs", "100001", "--out", "/no/m.npz"], "--epochs must be at most"),
    (["dream", "--lr", "1e300", "--png", "/no/d.png"], "--lr must be greater than 0"),
])
def test_bad_floats_and_absurd_counts(args: list[str], fragment: str) -> None:
    code, out, err = run(*args)
    assert code == 1 and fragment in err and "Traceback" not in out + err, err


def test_output_paths_are_checked_before_the_work(tmp_path: Path) -> None:
    start = time.perf_counter()
    for args in (["fool", "--digit", "1", "--count", "300", "--out", "/nonexistent/f.npz"],
                 ["pca", "--png", "/nonexistent/p.png"],
                 ["train", "--out", str(tmp_path)],
                 ["fool", "--digit", "2", "--out", str(tmp_path / "f.png")]):
        code, _, err = run(*args)
        assert code == 1 and err.startswith("[error]"), err
    assert time.perf_counter() - start < 30  # none of them trained, fooled or fitted


def test_classify_reports_each_bad_file_and_reads_the_rest(tmp_path: Path) -> None:
    good = Path(__file__).parent.parent / "docs" / "drawings" / "seven.txt"
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    zero_d = tmp_path / "zero.npz"
    np.savez(zero_d, images=np.float32(3))
    code, out, err = run("classify", str(broken), str(good), str(zero_d), "--json")
    assert code == 1
    assert [r["digit"] for r in json.loads(out)] == [7]
    assert err.count("[error]") == 2 and "Traceback" not in err


def test_model_metadata_is_printed_as_plain_text(tmp_path: Path) -> None:
    net = Network([784, 5, 10], rng=np.random.default_rng(0))
    net.meta["command"] = "[bold red]boom[/] \x1b[31mred\x1b[0m"
    net.save(tmp_path / "m.npz")
    code, out, err = run("evaluate", "--model", str(tmp_path / "m.npz"), "--no-color")
    assert code == 0, err
    assert "\x1b" not in out and "[bold red]boom[/]" in out


@pytest.mark.slow  # a real process and a real SIGINT after 12 s: ~12 s CPU (the same rule
# without a process: tests/test_experiments.py throws Ctrl-C into `evolve_runs`)
def test_ctrl_c_during_fool_saves_the_finished_runs(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "f.npz"
    env = {**os.environ, "NO_COLOR": "1"}
    process = subprocess.Popen([sys.executable, "-m", "fooldigits", "fool", "--digit", "1",
                                "--count", "100000", "--slots", "4", "--out", str(out)],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                               env=env)
    time.sleep(12)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "finished fooling images to" in err
    with np.load(out) as saved:
        n = len(saved["images"])
        assert n > 0 and np.all(saved["confidences"] > 0)
    assert f"saved the {n} finished" in err


def _cli(*args: str, stdout: Any = None, env: dict[str, str] | None = None
         ) -> tuple[int, str, str]:
    """Run the real `fooldigits` in a child process (its own stdout and encoding)."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "fooldigits", *args], timeout=120,
                          stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    out = done.stdout.decode("utf-8", "replace") if done.stdout else ""
    return done.returncode, out, done.stderr.decode("utf-8", "replace")


def test_help_into_a_full_disk_is_one_sentence() -> None:
    with open("/dev/full", "w") as full:
        code, _, err = _cli("--help", stdout=full)
    assert code == 1 and "Traceback" not in err and "could not write" in err, err


def test_an_ascii_stdout_still_shows_a_non_ascii_file_name(tmp_path: Path) -> None:
    drawing = tmp_path / "sévén.txt"
    drawing.write_text((Path(__file__).parent.parent / "docs/drawings/seven.txt").read_text())
    code, out, err = _cli("classify", str(drawing), env={"PYTHONIOENCODING": "ascii"})
    assert code == 0 and "Traceback" not in err, err
    assert "s\\xe9v\\xe9n.txt" in out  # escaped, not a failed command


def test_one_blas_thread_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    from fooldigits.cli.process import BLAS_THREADS, one_blas_thread

    for name in BLAS_THREADS:
        monkeypatch.delenv(name, raising=False)
    one_blas_thread()
    import os

    assert all(os.environ[name] == "1" for name in BLAS_THREADS)
    for name in BLAS_THREADS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    one_blas_thread()
    assert "OPENBLAS_NUM_THREADS" not in os.environ and os.environ["OMP_NUM_THREADS"] == "2"


def test_an_output_never_replaces_a_shipped_model(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # The README shows `--model fooldigits/models/conv.npz`; the same path given to
    # `fool --out` once put fooling images where the model was, and every command failed.
    from fooldigits.core import writing
    from fooldigits.models import DEFAULT_MODEL

    code, _, err = run("fool", "--digit", "2", "--slots", "1", "--png", str(DEFAULT_MODEL))
    assert code == 1 and "default.npz ships with fooldigits" in err  # checked, not written
    monkeypatch.setattr(writing, "PACKAGE", tmp_path)  # a package of our own to damage
    (tmp_path / "models").mkdir()
    shipped = tmp_path / "models" / "default.npz"
    shipped.write_bytes(DEFAULT_MODEL.read_bytes())
    for args in (["fool", "--digit", "2", "--slots", "1", "--out", str(shipped)],
                 ["train", "--arch", "linear", "--epochs", "1", "--out", str(shipped)]):
        code, out, err = run(*args)
        assert code == 1 and "default.npz ships with fooldigits" in err and "my-default.npz" \
            in err and "Traceback" not in out + err, err
    assert shipped.read_bytes() == DEFAULT_MODEL.read_bytes()


def test_make_model_alone_may_replace_the_shipped_models() -> None:
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    assert "model: export FOOLDIGITS_REPLACE_SHIPPED = 1" in makefile


@pytest.mark.parametrize(("options", "said"), [
    (["--lags", "3"], "--lags applies only with --prior stats"),
    (["--bins", "8", "--prior", "local"], "--bins applies only with --prior stats"),
    (["--prior-weight", "2"], "--prior-weight applies only with a --prior"),
    (["--mutation-rate", "0.01", "--encoding", "cppn"], "--mutation-rate applies only to the "
     "direct encoding"),
])
def test_fool_refuses_options_that_would_do_nothing(options: list[str], said: str) -> None:
    """They were accepted and silently ignored: a student who asked for --lags 3 without
    the statistics prior believed the run used it."""
    result = runner.invoke(app, ["fool", "--digit", "2", *options])
    assert result.exit_code == 1 and said in result.stderr
