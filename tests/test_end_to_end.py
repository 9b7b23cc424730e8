"""The slow end-to-end test: the real commands as a user types them, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def fooldigits(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fooldigits", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_story_from_training_to_fooling(tmp_path: Path) -> None:
    trained = fooldigits("train", "--epochs", "15", "--seed", "1", "--out", "m.npz",
                         cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    report = json.loads(fooldigits("evaluate", "--model", "m.npz", "--json",
                                   cwd=tmp_path).stdout)
    assert report["accuracy"] >= 0.98  # the shipped recipe, retrained from scratch
    fooled = fooldigits("fool", "--digit", "2", "--count", "50", "--model", "m.npz",
                        "--out", "f.npz", "--json", cwd=tmp_path)
    assert fooled.returncode == 0, fooled.stderr
    assert json.loads(fooled.stdout)["reached"] == 50
    again = json.loads(fooldigits("classify", "f.npz", "--model", "m.npz", "--json",
                                  cwd=tmp_path).stdout)
    assert len(again) == 50 and all(r["digit"] == 2 and r["confidence"] >= 0.9999
                                    for r in again)
    story = fooldigits("tutor", "--no-pause", "--no-color", cwd=tmp_path)
    assert story.returncode == 0, story.stderr
    assert "11. What it means" in story.stdout
