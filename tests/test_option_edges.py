"""Every number option of every command, at its edges: so no new option ships without a bound.

The commands and their options are read from the typer app itself (typer's public
`typer.main.get_command`), so a new command or option is tested the day it is added.
Each int or float option gets 0, -1, a huge number, NaN and +-infinity (what typer cannot
parse as an int, it refuses with exit 2); a list option also gets 10,000 values. The rules:

* never a traceback, and exit 0, 1 (one `[error]` line) or 2 (typer's usage message);
* NaN, infinity and a huge number are *refused* (exit 1 or 2) by a message that names
  the option (or the parameter, as the GA's "elite < population"), before any work: the
  command also gets a model file and a data folder that do not exist, so an option
  checked only after loading fails here with the loader's message instead of its own;
* every run ends within seconds (the missing files stop any value that is accepted).

The whole sweep (about 60 options, ~13 s CPU) is marked slow (`make test` and CI run it);
`QUICK` keeps one representative of each kind of case in the developer's quick loop
(`pytest -m "not slow"`): an int, a float, an option that needs an argument and has the GA's
own rule, an unbounded slice, and a number list.

`--seed` takes any integer by design (`options.make_rng`) and is left out; `UNBOUNDED`
lists the few options where a huge value is harmless, each with the reason.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from fooldigits.cli import app

runner = CliRunner()
EDGES = ["0", "-1", "1000000000000", "nan", "inf", "-inf"]
MUST_REFUSE = {"1000000000000", "nan", "inf", "-inf"}
# option -> why a huge value is harmless (refused only if negative, NaN or infinite)
UNBOUNDED = {
    ("adversarial", "--count"): "a slice of the test set: more than there are is all of them",
    ("border", "--count"): "a slice of the test set: more than there are is all of them",
    ("scramble", "--count"): "a slice of the test set: more than there are is all of them",
    ("adversarial", "--show"): "examples come from --count test digits, at most that many",
    ("border", "--show"): "examples come from the test digits, at most that many",
    ("pca", "--reconstruct"): "an index into the test set, checked against it once loaded",
}
# Text options that hold numbers (typer sees strings): listed by hand.
NUMBER_LISTS = [("train", "--hidden"), ("adversarial", "--epsilons"), ("scramble", "--levels"),
                ("pca", "--components")]
# Arguments a command needs before its options are even looked at.
NEEDS = {"fool": ["--digit", "2"], "exercise check": ["sigmoid", "/nonexistent-folder"]}


def number_options() -> list[tuple[str, str]]:
    """(command path, option) for every int or float option of every command."""
    found = []

    def walk(cmd: Any, path: list[str]) -> None:
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, [*path, name])
        for param in getattr(cmd, "params", []):
            kind = getattr(param.type, "name", "")
            option = max(param.opts, key=len)
            if kind in ("int", "integer", "float") and option != "--seed" and path:
                found.append((" ".join(path), option))

    walk(typer.main.get_command(app), [])
    return found + NUMBER_LISTS


OPTIONS = number_options()
# one of each kind of case, run in the quick loop; the rest are slow (see the module docstring)
QUICK = {("train", "--epochs"), ("dream", "--lr"), ("fool", "--elite"),
         ("adversarial", "--count"), ("train", "--hidden")}
CASES = [pytest.param(*o, id=" ".join(o), marks=() if o in QUICK else pytest.mark.slow)
         for o in OPTIONS]


def test_the_app_has_number_options() -> None:
    """The introspection found the commands (a typer upgrade must not make this vacuous)."""
    assert ("train", "--epochs") in OPTIONS and ("dream", "--lr") in OPTIONS
    assert len(OPTIONS) > 40
    assert set(OPTIONS) >= QUICK  # a renamed option must not drop out of the quick loop


@pytest.mark.parametrize(("command", "option"), CASES)
def test_number_option_edges(command: str, option: str, tmp_path: Path) -> None:
    cmd = typer.main.get_command(app)
    for word in command.split():
        cmd = cmd.commands[word]  # type: ignore[attr-defined]
    takes = {o for p in cmd.params for o in p.opts}
    base = [*command.split(), *NEEDS.get(command, [])]
    if option in base:
        base = command.split()
    if "--model" in takes:
        base += ["--model", str(tmp_path / "missing-model.npz")]
    if "--data-dir" in takes:
        base += ["--data-dir", str(tmp_path / "missing-data")]
    if "--out" in takes:
        base += ["--out", str(tmp_path / "out.npz")]
    # a list option also gets a list that grew: 10,000 values, each a pass over the data
    for value in EDGES + ([",".join(["1"] * 10_000)] if (command, option) in NUMBER_LISTS
                          else []):
        start = time.perf_counter()
        result = runner.invoke(app, [*base, f"{option}={value}"])
        seconds = time.perf_counter() - start
        said = result.stdout + result.stderr
        where = f"{command} {option}={value[:20]}: exit {result.exit_code}: {said[-300:]}"
        assert result.exit_code in (0, 1, 2) and "Traceback" not in said, where
        assert result.exception is None or isinstance(result.exception, SystemExit), where
        if result.exit_code == 1:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("[error] "), where
        if (value in MUST_REFUSE or len(value) > 50) and not (
                (command, option) in UNBOUNDED and value == "1000000000000"):
            assert result.exit_code == 2 or (  # "--elite" or the GA's "elite < population"
                result.exit_code == 1 and option.lstrip("-") in result.stderr), where
        assert seconds < 20, where
