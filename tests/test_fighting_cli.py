"""The fighting-back commands: adversarial, targeted, transfer, retrain, train --adversarial;
their JSON and pages, and every bad input as one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fooldigits.cli import app
from fooldigits.models.network import Network
from tests.conftest import load_dense

runner = CliRunner()
MODEL = str(Path(__file__).parent.parent / "fooldigits" / "models" / "default.npz")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_adversarial_sweep_json(tmp_path: Path) -> None:
    code, out, err = run("adversarial", "--count", "200", "--epsilons", "0,0.1,0.2", "--show",
                         "2", "--json", "--html", str(tmp_path / "a.html"))
    assert code == 0, err
    result = json.loads(out)
    rows = {(r["method"], r["epsilon"]): r["accuracy"] for r in result["rows"]}
    assert rows[("pgd", 0.1)] <= rows[("fgsm", 0.1)] < rows[("fgsm", 0.0)]
    assert rows[("pgd", 0.2)] < 0.2  # a change of 0.2 per pixel breaks most digits
    assert len(result["smallest_epsilon"]["pgd"]) == 2
    assert (tmp_path / "a.html").read_text().count("<figcaption class=title>") == 3


def test_targeted_and_transfer(tmp_path: Path) -> None:
    code, out, err = run("adversarial", "--digit", "7", "--target", "3", "--show", "1",
                         "--count", "500", "--json")  # the first 51 sevens
    assert code == 0, err
    result = json.loads(out)
    assert result["reached"] > 0.9 and result["median_epsilon"] < 0.3
    code, out, err = run("adversarial", "--transfer", "--models", MODEL, "--models", MODEL,
                         "--epsilons", "0.1", "--count", "300", "--json")
    assert code == 0, err
    accuracy = np.array(json.loads(out)["accuracy"])
    assert accuracy.shape == (2, 2) and np.all(accuracy < 0.5)


def test_models_without_transfer_is_refused() -> None:
    # `adversarial --models m.npz` attacked the shipped model and ignored m.npz.
    code, out, err = run("adversarial", "--models", MODEL, "--count", "10", "--show", "0")
    assert code == 1 and "--models names the networks --transfer compares" in err, out + err


def test_retrain_one_round_on_tiny_data(tmp_path: Path, tiny_data_dir: Path) -> None:
    out = tmp_path / "r.npz"
    code, text, err = run("retrain", "--rounds", "1", "--per-digit", "1", "--epochs", "1",
                          "--max-generations", "5", "--data-dir", str(tiny_data_dir), "--out",
                          str(out), "--json")
    assert code == 0, err
    rounds = json.loads(text)["rounds"]
    assert [r["round"] for r in rounds] == [0, 1]
    net = load_dense(out)
    assert net.sizes[-1] == 11
    code, text, err = run("evaluate", "--model", str(out), "--data-dir", str(tiny_data_dir),
                          "--json")
    assert code == 0, err
    assert "not a digit" in json.loads(text)["per_digit"]


def test_train_adversarial_reports_attacked_accuracy(tmp_path: Path,
                                                     tiny_data_dir: Path) -> None:
    code, text, err = run("train", "--adversarial", "0.1", "--epochs", "1", "--hidden", "10",
                          "--data-dir", str(tiny_data_dir), "--out", str(tmp_path / "m.npz"),
                          "--json")
    assert code == 0, err
    epoch = json.loads(text)["epochs"][0]
    assert 0 <= epoch["attacked_accuracy"] <= 1
    assert "--adversarial 0.1 --attack fgsm" in load_dense(tmp_path / "m.npz").meta["command"]


@pytest.mark.parametrize(("args", "fragment"), [
    (["adversarial", "--epsilons", "-0.1"], "--epsilons must be"),
    (["adversarial", "--epsilons", "nan"], "--epsilons must be"),
    (["adversarial", "--epsilons", "1.5"], "--epsilons must be"),
    (["adversarial", "--epsilons", "x"], "--epsilons takes numbers"),
    (["adversarial", "--attack", "magic"], "--attack must be one of"),
    (["adversarial", "--digit", "7", "--target", "7"],
     "--target must differ from the digit attacked (7)"),  # was "from digit", not --digit
    (["adversarial", "--digit", "7", "--target", "12"], "--target must be a digit 0..9"),
    (["adversarial", "--target", "3"], "--digit and --target go together"),
    # each was silently ignored in the mode that does not use it
    (["adversarial", "--epochs", "5"], "--epochs applies only with --transfer"),
    (["adversarial", "--transfer", "--restarts", "3"], "--restarts applies only to the untargeted"),
    (["adversarial", "--digit", "7", "--target", "3", "--loss", "margin"],
     "--loss applies only to the untargeted"),
    (["adversarial", "--transfer", "--show", "2"], "--show applies only without --transfer"),
    (["adversarial", "--digit", "7", "--target", "3", "--epsilons", "0.1"],
     "--epsilons applies only without --target"),
    (["retrain", "--rounds", "0"], "--rounds must be between 1"),
    (["train", "--adversarial", "nan"], "--adversarial must be an epsilon in [0, 1]"),
    (["train", "--adversarial", "2"], "--adversarial must be an epsilon in [0, 1]"),
])
def test_bad_inputs(args: list[str], fragment: str) -> None:
    code, out, err = run(*args)
    assert code in (1, 2) and fragment in err and "Traceback" not in out + err, err


def test_an_eleven_class_model_where_ten_are_needed(tmp_path: Path) -> None:
    path = tmp_path / "eleven.npz"
    Network([784, 5, 11], rng=np.random.default_rng(0)).save(path)
    code, _, err = run("retrain", "--model", str(path), "--rounds", "1")
    assert code == 1 and "10 (one per digit)" in err
