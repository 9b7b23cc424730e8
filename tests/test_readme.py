"""The README's sample output is a real run: this test compares it, `make readme` rewrites it.

The sample is what `SAMPLE` prints at 80 columns without colour, with the default seeds.
Only timings may differ from run to run, so they are masked before comparing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
SAMPLE = [["fool", "--digit", "2", "--count", "2"], ["border", "--show", "0"]]
BEGIN, END = "<!-- sample: begin (make readme) -->", "<!-- sample: end -->"


def sample() -> str:
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    parts = []
    for args in SAMPLE:
        done = subprocess.run([sys.executable, "-m", "fooldigits", *args, "--no-color"],
                              capture_output=True, text=True, env=env, timeout=300, check=True)
        parts.append(f"$ fooldigits {' '.join(args)}\n" + "\n".join(
            line.rstrip() for line in done.stdout.splitlines()))
    return "\n\n".join(parts)


def block(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip().removeprefix("```").removesuffix("```").strip()


def masked(text: str) -> str:
    return re.sub(r"\d+\.\d+ s\b", "T s", text)


@pytest.mark.slow  # the README's commands, run for real
def test_readme_sample_is_what_the_commands_print() -> None:
    assert masked(block(README.read_text())) == masked(sample()), (
        "the README's sample is stale: run `make readme`")


if __name__ == "__main__":  # `make readme`
    text = README.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    README.write_text(text[:start] + "\n```\n" + sample() + "\n```\n" + text[end:])
    print(f"rewrote the sample in {README}")
