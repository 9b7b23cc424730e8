"""The command line through typer's CliRunner: output, JSON and every bad input."""

from __future__ import annotations

import json
import os
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


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_is_lazy(option: str) -> None:
    """`--help` and `--version` must not import NumPy, Pillow, Rich's progress/live
    machinery or the library.

    (typer itself renders help with rich.console and rich.markdown; those are allowed.)
    """
    code = (
        "import sys; from fooldigits.cli import app\n"
        f"try:\n    app([{option!r}])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('numpy', 'PIL', 'rich.progress', 'rich.live',"
        " 'fooldigits.models.network', 'fooldigits.present.render', 'fooldigits.core.data')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
    if option == "--version":
        from importlib.metadata import version

        assert out.stdout.startswith(f"fooldigits {version('fooldigits')}\n")


@pytest.mark.parametrize(("words", "expected"), [
    ("fooldigits train --ep", "--epochs"), ("fooldigits exercise ch", "check"),
    ("fooldigits tr", "train")])
def test_shell_completion_sees_every_command_and_option(words: str, expected: str) -> None:
    """Completion runs `fooldigits` with no arguments, the words in the environment: it
    must get the whole tree, not the quick one that `fooldigits` alone would build."""
    env = {**os.environ, "_FOOLDIGITS_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - 1)}
    done = subprocess.run([sys.executable, "-c", "from fooldigits.cli import main; main()"],
                          capture_output=True, text=True, env=env, check=True)
    assert expected in done.stdout.split()


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


def test_train_then_evaluate(tmp_path: Path, tiny_data_dir: Path) -> None:
    model = tmp_path / "tiny.npz"
    code, out, err = run("train", "--hidden", "10", "--epochs", "2", "--out", str(model),
                         "--data-dir", str(tiny_data_dir), "--seed", "3")
    assert code == 0, err
    assert "epoch   2/2" in out and model.exists()
    code, out, _ = run("evaluate", "--model", str(model), "--data-dir", str(tiny_data_dir),
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
        (["quiz", "--count", "0"], "[error] --count must be at least 1, got 0"),
        (["quiz", "--count", "201"], "[error] --count must be at most 200, got 201"),
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


def test_dream_json_and_unconverged_digit() -> None:
    code, out, _ = run("dream", "--json")
    assert code == 0
    digits = json.loads(out)["digits"]
    assert len(digits) == 10 and all(d["converged"] for d in digits)
    code, out, _ = run("dream", "--lr", "0.01", "--steps", "100")
    assert code == 0 and "still climbing" in out and "more steps needed" in out


def test_dream_with_prior_and_png(tmp_path: Path) -> None:
    code, _out, _ = run("dream", "--digit", "1", "--prior", "tv", "--steps", "200", "--invert",
                       "--png", str(tmp_path / "d.png"))
    assert code == 0 and (tmp_path / "d.png").exists()


def test_fool_json_out_and_mean(tmp_path: Path) -> None:
    code, out, _ = run("fool", "--digit", "2", "--count", "3", "--json",
                       "--out", str(tmp_path / "f.npz"))
    assert code == 0
    report = json.loads(out)
    assert report["digit"] == 2 and report["count"] == 3 and report["reached"] == 3
    assert min(report["confidences"]) >= 0.9999 and len(report["generations"]) == 3
    assert "naturalness" in report
    import numpy as np

    with np.load(tmp_path / "f.npz") as saved:
        assert saved["images"].shape == (3, 28, 28) and list(saved["digit"]) == [2, 2, 2]
    code, out, _ = run("fool", "--digit", "3", "--count", "4", "--mean", "--png",
                       str(tmp_path / "m.png"))
    assert code == 0 and "mean real '3'" in out and (tmp_path / "m.png").exists()


def test_fool_all_and_prior() -> None:
    code, out, _ = run("fool", "--all", "--count", "1", "--target", "0.99", "--json")
    assert code == 0 and [r["digit"] for r in json.loads(out)["results"]] == list(range(10))
    code, out, _ = run("fool", "--digit", "2", "--prior", "local", "--count", "2", "--json")
    assert code == 0 and json.loads(out)["naturalness"]["correlation"] > 0.5


def test_fool_with_cppn_genomes_paints_patterns() -> None:
    code, out, _ = run("fool", "--digit", "0", "--count", "2", "--encoding", "cppn", "--json")
    report = json.loads(out)
    assert code == 0 and report["encoding"] == "cppn" and report["reached"] == 2
    assert report["neighbour_correlation"] > 0.8  # patterns; the direct GA's are near 0.3


def test_ceiling_and_transfer_json(tmp_path: Path) -> None:
    code, out, _ = run("ceiling", "--json", "--steps", "200")
    assert code == 0 and all(json.loads(out)["above_99_99"])
    code, out, _ = run("transfer", "--models", str(Path("fooldigits/models/default.npz")),
                       "--models", str(Path("fooldigits/models/default.npz")), "--count", "1",
                       "--json")
    assert code == 0
    assert len(json.loads(out)["mean_confidence"]) == 2


def test_stats_and_compare_json() -> None:
    code, out, _ = run("stats", "--json", "--lags", "3")
    assert code == 0 and len(json.loads(out)["g_x"]) == 3
    code, out, _ = run("compare", "--digit", "2", "--count", "5", "--json")
    assert code == 0
    methods = {m["method"]: m for m in json.loads(out)["methods"]}
    assert set(methods) == {"none", "stats", "local", "real"}
    nat = {k: v["naturalness"]["distance"] for k, v in methods.items()}
    assert nat["stats"] < nat["none"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["dream", "--digit", "10"], "--digit must be a digit 0..9"),
        (["dream", "--threshold", "1.5"], "--threshold must be between 0 and 1"),
        (["dream", "--prior", "magic"], "'magic' is not one of"),
        (["dream", "--lr", "0"], "--lr must be a positive"),
        (["fool", "--digit", "10"], "--digit must be a digit 0..9"),
        (["fool"], "say which digit"),
        (["fool", "--digit", "2", "--target", "1.5"], "--target must be between 0 and 1"),
        (["fool", "--digit", "2", "--target", "0"], "--target must be between 0 and 1"),
        (["fool", "--digit", "2", "--count", "0"], "--count must be at least 1"),
        (["fool", "--digit", "2", "--population", "1"], "at least 2"),
        (["fool", "--digit", "2", "--mutation-rate", "2"], "--mutation-rate must be in"),
        (["fool", "--digit", "2", "--mutation-rate", "-0.1"], "--mutation-rate must be in"),
        (["fool", "--digit", "2", "--prior", "magic"], "'magic' is not one of"),
        (["stats", "--lags", "0"], "--lags must be between"),
        (["stats", "--bins", "0"], "--bins must be at least"),
        (["compare", "--digit", "12"], "--digit must be a digit 0..9"),
        (["transfer", "--count", "0"], "--count must be at least 1"),
    ],
)
def test_bad_fooling_inputs(args: list[str], fragment: str) -> None:
    assert_clean_error(args, fragment)


def test_unreachable_target_names_the_ceiling(tmp_path: Path) -> None:
    import numpy as np

    from fooldigits.models.network import Network

    net = Network([784, 5, 10], output="sigmoid", rng=np.random.default_rng(0))
    net.w = [w * 0.001 for w in net.w]  # tiny weights: nothing can be sure
    net.save(tmp_path / "timid.npz")
    assert_clean_error(["fool", "--digit", "2", "--model", str(tmp_path / "timid.npz")],
                       "confidence ceiling")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["train", "--eta", "nan"], "--eta must be a positive number"),
        (["train", "--eta", "-1"], "--eta must be a positive number"),
        (["train", "--lmbda", "inf"], "--lmbda must be"),
        (["train", "--momentum", "1"], "--momentum must be in [0, 1)"),
        (["train", "--final-eta", "2"], "--final-eta must be in [0, 1]"),
        (["train", "--out", "/nonexistent/x.npz"], "existing folder"),
        (["train", "--hidden", "100000000"], "a network has 2 to 16 layers of 1 to 10,000"),
        (["fool", "--digit", "2", "--count", "1000000000"], "--count must be between"),
        (["fool", "--digit", "2", "--population", "100000000"],
         "--population must be at most 10,000, got 100,000,000"),
        # each said "need 0 <= elite < population and 2 <= parents <= population"
        (["fool", "--digit", "2", "--parents", "100"],
         "--parents must be 2 to 80 (the population), got 100"),
        (["fool", "--digit", "2", "--elite", "80"],
         "--elite must be 0 to 79 (fewer than the population of 80), got 80"),
        (["dream", "--lr", "nan"], "--lr must be a positive"),
        (["fool", "--digit", "2", "--target", "nan"], "--target must be between 0 and 1"),
        # said "... and max_generations": a parameter's name in a flag's sentence
        (["fool", "--digit", "2", "--min-generations", "5000"],
         "--min-generations must be between 0 and --max-generations"),
        # said "epochs must be 1..1,000 and the noise count 1..100,000", naming no flag
        (["retrain", "--epochs", "-1"], "--epochs must be between 1 and 1,000, got -1"),
    ],
)
def test_bad_numbers_and_sizes(args: list[str], fragment: str) -> None:
    assert_clean_error(args, fragment)


def test_diverging_training_says_so(tmp_path: Path, tiny_data_dir: Path) -> None:
    assert_clean_error(["train", "--cost", "quadratic", "--output", "sigmoid", "--activation",
                        "relu", "--eta", "1e6", "--batch-size", "1", "--epochs", "1",
                        "--data-dir", str(tiny_data_dir), "--out", str(tmp_path / "x.npz")],
                       "diverged")


def test_unwritable_outputs_and_odd_counts(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert_clean_error(["show", "--count", "1", "--png", str(blocker / "g.png")], "cannot write")
    assert_clean_error(["exercise", "start", "sigmoid", str(blocker / "work")], "cannot create")
    assert_clean_error(["pca", "--neighbours", "100000", "--components", "5"],
                       "--neighbours must be between")
    assert_clean_error(["border", "--show", "-1"], "--show must be 0 or more")
    code, out, _ = run("border", "--show", "0", "--count", "50")
    assert code == 0 and "stretched to the edges" in out


def test_no_help_splits_a_choice_list_at_80_columns() -> None:
    """Every command's --help at 80 columns: a `<a|b|c>` choice list stays on one line
    (train's `<dense|linear|conv|generative>` broke as `<dense|linear|conv|g` / `enerative>`
    and squeezed the help column of all its options to 22 characters)."""
    import re

    import typer

    def helps(group: object, path: list[str]) -> list[list[str]]:
        found = [path]
        for name, sub in getattr(group, "commands", {}).items():
            found += helps(sub, [*path, name])
        return found

    paths = helps(typer.main.get_command(app), [])
    assert len(paths) > 20  # every command and the exercise subcommands
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, path
        for line in result.stdout.splitlines():
            assert not re.search(r"<[a-z-]+\|[a-z|-]*(\s|$)", line), (path, line)


def test_outputs_never_replace_the_files_the_command_reads(tmp_path: Path) -> None:
    from fooldigits.models import SHIPPED

    model = tmp_path / "m.npz"
    model.write_bytes((SHIPPED / "linear.npz").read_bytes())
    picture = tmp_path / "seven.png"
    picture.write_bytes(b"not read: the output is checked first")
    for args, fragment in (
            (["fool", "--digit", "3", "--model", str(model), "--out", str(model)],
             "--out {} is the --model file; fooldigits will not replace a file it reads"),
            (["retrain", "--model", str(model), "--out", str(model)],
             "--out {} is the --model file"),
            (["classify", str(picture), "--png", str(picture)],
             "--png {} is an image to classify; fooldigits will not replace a file it reads")):
        assert_clean_error(args, fragment.format(args[args.index(fragment.split()[0]) + 1]))
    assert model.read_bytes() == (SHIPPED / "linear.npz").read_bytes()
    assert picture.read_bytes() == b"not read: the output is checked first"
