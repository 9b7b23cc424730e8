"""SIGTERM and a full stdout on real processes: nothing good is ever replaced by something
worse. Ctrl-C inside each experiment is tested without processes or timing, by throwing
KeyboardInterrupt into the generator (tests/test_experiments.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


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


def test_sigterm_is_an_interrupt_too(tmp_path: Path, tiny_idx_dir: Path) -> None:
    out = tmp_path / "model.npz"
    process = start("train", "--out", str(out), "--data-dir", str(tiny_idx_dir), "--epochs",
                    "100000", "--hidden", "5")
    wait_for(process, "epoch   2/")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "saved the best network so far" in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_closed_stdout_is_one_sentence(tmp_path: Path, tiny_data_dir: Path) -> None:
    # on the tiny folder: the whole MNIST would cost the process ~0.4 s CPU to read
    with open(os.devnull, "w") as sink, open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "fooldigits", "evaluate", "--json",
                               "--data-dir", str(tiny_data_dir)],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
        del sink
    assert done.returncode == 1
    assert "could not write the output" in done.stderr and "Traceback" not in done.stderr
