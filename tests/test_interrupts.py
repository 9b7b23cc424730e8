"""Ctrl-C and SIGTERM on real processes: nothing good is ever replaced by something worse."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from fooldigits.models.network import Network
from tests.conftest import load_dense


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "fooldigits", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for(process: subprocess.Popen[str], text: str, limit: float = 60) -> str:
    """Read stdout line by line until `text` appears."""
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen += line
        if text in line:
            return seen
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"never saw {text!r}: {seen}")


def test_ctrl_c_before_the_first_epoch_keeps_the_old_model(tmp_path: Path) -> None:
    old = tmp_path / "model.npz"
    Network([784, 5, 10], rng=np.random.default_rng(0)).save(old)
    before = old.read_bytes()
    process = start("train", "--out", str(old), "--batch-size", "1", "--epochs", "2")
    time.sleep(4)  # loading, then deep inside the first (slow) epoch
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "no epoch had finished, so nothing was saved" in err
    assert old.read_bytes() == before
    assert "Traceback" not in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_ctrl_c_after_an_epoch_saves_the_best_so_far(tmp_path: Path, tiny_idx_dir: Path) -> None:
    out = tmp_path / "model.npz"
    process = start("train", "--out", str(out), "--data-dir", str(tiny_idx_dir), "--epochs",
                    "100000", "--hidden", "5")
    wait_for(process, "epoch   3/")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "saved the best network so far" in err
    net = load_dense(out)
    assert net.meta["stopped"].startswith("by Ctrl-C after epoch")


def test_sigterm_is_an_interrupt_too(tmp_path: Path, tiny_idx_dir: Path) -> None:
    out = tmp_path / "model.npz"
    process = start("train", "--out", str(out), "--data-dir", str(tiny_idx_dir), "--epochs",
                    "100000", "--hidden", "5")
    wait_for(process, "epoch   2/")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "saved the best network so far" in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_closed_stdout_is_one_sentence(tmp_path: Path) -> None:
    with open(os.devnull, "w") as sink, open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "fooldigits", "evaluate", "--json"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
        del sink
    assert done.returncode == 1
    assert "could not write the output" in done.stderr and "Traceback" not in done.stderr
