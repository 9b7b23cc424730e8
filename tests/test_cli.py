"""The command line through typer's CliRunner: output, JSON and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fooldigits.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_clean_error(args: list[str], fragment: str) -> None:
    """Exit 1 (or typer's 2 for unparsable values), one readable line, no traceback."""
    code, out, err = run(*args)
    assert code in (1, 2), (code, out, err)
    assert fragment in err, err
    assert "Traceback" not in out + err


def test_help_is_lazy() -> None:
    """`--help` must not import NumPy, Pillow, Rich's progress/live machinery or the library.

    (typer itself renders help with rich.console and rich.markdown; those are allowed.)
    """
    code = (
        "import sys; from fooldigits.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('numpy', 'PIL', 'rich.progress', 'rich.live', 'fooldigits.network',"
        " 'fooldigits.render', 'fooldigits.data') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


def test_show_draws_digits_and_png(tmp_path: Path) -> None:
    code, out, _ = run("show", "--digit", "7", "--count", "3", "--png", str(tmp_path / "g.png"))
    assert code == 0
    assert out.count("label 7") == 3
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_json_of_the_shipped_model() -> None:
    code, out, _ = run("evaluate", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["n"] == 10000 and report["accuracy"] >= 0.98
    assert len(report["confusion"]) == 10 and sum(map(sum, report["confusion"])) == 10000
    assert set(report["per_digit"]) == {str(d) for d in range(10)}


def test_train_then_evaluate(tmp_path: Path, tiny_idx_dir: Path) -> None:
    model = tmp_path / "tiny.npz"
    code, out, err = run("train", "--hidden", "10", "--epochs", "2", "--out", str(model),
                         "--data-dir", str(tiny_idx_dir), "--seed", "3")
    assert code == 0, err
    assert "epoch   2/2" in out and model.exists()
    code, out, _ = run("evaluate", "--model", str(model), "--data-dir", str(tiny_idx_dir),
                       "--json")
    assert code == 0 and json.loads(out)["n"] == 100


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["show", "--digit", "11"], "--digit must be a digit 0..9"),
        (["show", "--count", "0"], "--count must be at least 1"),
        (["show", "--count", "-3"], "--count must be at least 1"),
        (["show", "--data-dir", "/nonexistent"], "does not exist"),
        (["train", "--epochs", "0"], "--epochs must be at least 1"),
        (["train", "--hidden", "0"], "--hidden sizes must be at least 1"),
        (["train", "--hidden", "ten"], "whole numbers"),
        (["evaluate", "--model", "/nonexistent.npz"], "does not exist"),
        (["show", "--count", "many"], "Invalid value"),
    ],
)
def test_bad_inputs(args: list[str], fragment: str) -> None:
    assert_clean_error(args, fragment)


def test_bad_model_files(tmp_path: Path) -> None:
    (tmp_path / "text.npz").write_text("not a model")
    assert_clean_error(["evaluate", "--model", str(tmp_path / "text.npz")], "not a fooldigits")


def test_corrupt_data_dir(tiny_idx_dir: Path) -> None:
    path = tiny_idx_dir / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    assert_clean_error(["evaluate", "--data-dir", str(tiny_idx_dir)], "truncated")
