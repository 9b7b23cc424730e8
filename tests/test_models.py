"""The model kinds: the shipped files, their recorded commands, and `train --arch`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fooldigits import FoolDigitsError
from fooldigits.cli import app
from fooldigits.core.data import Dataset
from fooldigits.models import KINDS, SHIPPED, load_model
from fooldigits.models.linear import Linear
from fooldigits.models.network import Network

ROOT = Path(__file__).parent.parent
runner = CliRunner()


def make_model_commands() -> list[str]:
    """The `fooldigits train ...` lines of `make model`, with $(DENSE) filled in."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    dense = re.search(r"^DENSE := (.*)$", text, re.M)
    assert dense is not None
    lines = [line.replace("$(DENSE)", dense.group(1)) for line in text.splitlines()
             if "$(BIN)/fooldigits train" in line]
    return [" ".join(line.replace("$(BIN)/", "").split()) for line in lines]


@pytest.mark.parametrize("name", ["default", "robust", "linear", "conv", "generative"])
def test_make_model_remakes_each_shipped_model_with_its_recorded_command(name: str) -> None:
    model = load_model(SHIPPED / f"{name}.npz")
    wanted = f"{model.meta['command']} --out fooldigits/models/{name}.npz"
    assert wanted in make_model_commands()


def test_the_shipped_linear_model(mnist: Dataset) -> None:
    model = load_model(SHIPPED / "linear.npz")
    assert isinstance(model, Linear) and model.kind == "linear" and KINDS["linear"] is Linear
    assert model.describe().startswith("linear 784-10")
    accuracy = model.accuracy(mnist.test_images, mnist.test_labels)
    assert 0.92 <= accuracy <= 0.93  # docs/models.md: 92.57% with its recorded command
    assert "--arch linear" in model.meta["command"]


def test_train_linear_records_a_command_that_remakes_it(tmp_path: Path,
                                                        tiny_data_dir: Path) -> None:
    out = tmp_path / "lin.npz"
    args = ["train", "--arch", "linear", "--epochs", "2", "--no-shift", "--seed", "3",
            "--data-dir", str(tiny_data_dir), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    model = load_model(out)
    assert isinstance(model, Linear)
    command = model.meta["command"]
    assert command.startswith("fooldigits train --arch linear --epochs 2 ")
    assert "--hidden" not in command and "--activation" not in command
    again = tmp_path / "again.npz"
    result = runner.invoke(app, [*command.split()[1:], "--out", str(again)])
    assert result.exit_code == 0, result.stderr
    assert np.array_equal(load_model(again).arrays()["w"], model.arrays()["w"])


@pytest.mark.parametrize("flags", [["--hidden", "30"], ["--activation", "relu"],
                                   ["--cost", "quadratic", "--output", "sigmoid"]])
def test_train_linear_refuses_the_dense_options_in_one_sentence(flags: list[str],
                                                                tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--arch", "linear", *flags, "--out",
                                 str(tmp_path / "m.npz")])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "dense network" in result.stderr
    assert flags[0] in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_dense_is_still_the_default_arch(tmp_path: Path, tiny_data_dir: Path) -> None:
    out = tmp_path / "d.npz"
    result = runner.invoke(app, ["train", "--hidden", "5", "--epochs", "1", "--data-dir",
                                 str(tiny_data_dir), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert isinstance(load_model(out), Network)
    assert "--hidden 5 " in load_model(out).meta["command"]


def test_a_linear_model_saves_and_loads_through_the_registry(tmp_path: Path,
                                                             mnist: Dataset) -> None:
    model = Linear(classes=11, rng=np.random.default_rng(0))
    model.meta["note"] = "eleven"
    model.save(tmp_path / "l.npz")
    again = load_model(tmp_path / "l.npz")
    assert isinstance(again, Linear) and again.classes == 11 and again.meta == {"note": "eleven"}
    x = mnist.test_images[:5]
    assert np.array_equal(again.probabilities(x), model.probabilities(x))
    np.savez(tmp_path / "bad.npz", kind=np.array("linear"), w=np.zeros((784, 12)), b=np.zeros(12))
    with pytest.raises(FoolDigitsError, match="a linear model has"):
        load_model(tmp_path / "bad.npz")
    np.savez(tmp_path / "odd.npz", kind=np.array("conv9"), w=np.zeros(3))
    with pytest.raises(FoolDigitsError, match="fooldigits knows dense, linear"):
        load_model(tmp_path / "odd.npz")


def test_save_never_writes_a_pickle(tmp_path: Path) -> None:
    """A kind whose arrays() held Python objects would need pickle to save: refused, so
    no model file can hold what `load_model` (allow_pickle=False) would refuse to read."""

    class Careless(Linear):
        def arrays(self) -> dict[str, np.ndarray]:
            return {**super().arrays(), "notes": np.array([{"a": 1}], dtype=object)}

    with pytest.raises(ValueError, match="allow_pickle"):
        Careless(rng=np.random.default_rng(0)).save(tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()



def test_train_conv_refuses_the_dense_options_in_one_sentence(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--arch", "conv", "--hidden", "30", "--out",
                                 str(tmp_path / "m.npz")])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "--hidden" in result.stderr and "a conv model" in result.stderr


def test_train_generative_refuses_the_sgd_options_in_one_sentence(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--arch", "generative", "--epochs", "3", "--eta",
                                 "0.1", "--out", str(tmp_path / "m.npz")])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "--epochs, --eta do not apply" in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_evaluate_reports_the_generative_models_rejections() -> None:
    result = runner.invoke(app, ["evaluate", "--model", str(SHIPPED / "generative.npz"),
                                 "--json"])
    assert result.exit_code == 0, result.stderr
    import json

    report = json.loads(result.stdout)
    assert 0.94 <= report["accuracy"] <= 0.96  # docs/generative.md: 95.10%
    assert 0.005 <= report["rejected"] <= 0.02  # 1.08% of real test digits rejected
    assert report["command"] == "fooldigits train --arch generative --seed 1"


@pytest.mark.slow
def test_train_generative_remakes_the_shipped_file(tmp_path: Path) -> None:
    shipped = load_model(SHIPPED / "generative.npz")
    out = tmp_path / "g.npz"
    result = runner.invoke(app, [*shipped.meta["command"].split()[1:], "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    again = load_model(out).arrays()
    for name, value in shipped.arrays().items():
        assert np.array_equal(again[name], value), name


def test_comparisons_take_the_generative_model_and_retrain_says_it_cannot_train() -> None:
    from fooldigits.experiments.transfer import SHIPPED_MODELS, networks

    assert ("conv", "conv.npz") in SHIPPED_MODELS
    events = networks([SHIPPED / "linear.npz", SHIPPED / "generative.npz"])
    try:
        while True:
            next(events)
    except StopIteration as stop:
        nets = stop.value
    assert [net.classes for _, net in nets] == [10, 11]
    result = runner.invoke(app, ["retrain", "--model", str(SHIPPED / "generative.npz")])
    assert result.exit_code == 1 and "needs a model that SGD can train" in result.stderr


def test_scramble_says_how_often_a_generative_model_rejects(mnist: Dataset) -> None:
    from fooldigits.core.pieces import Say
    from fooldigits.experiments.drawn import scramble

    model = load_model(SHIPPED / "generative.npz")
    events = scramble(model, mnist.test_images[:40], mnist.test_labels[:40], (0.0, 0.5),
                      np.random.default_rng(0), examples=0)
    said = []
    try:
        while True:
            event = next(events)
            if isinstance(event, Say):
                said.append(event.text)
    except StopIteration as stop:
        result = stop.value
    assert result.levels[0]["rejected"] <= 0.1 < result.levels[1]["rejected"]
    assert any('"not a digit"' in text for text in said)


@pytest.mark.parametrize(("name", "key"), [("default", "w1"), ("linear", "b"), ("conv", "w2"),
                                           ("conv", "b2"), ("generative", "mean")])
def test_load_refuses_finite_numbers_too_large_to_compute_with(tmp_path: Path, name: str,
                                                               key: str) -> None:
    """3e38 is a finite float32, but the first sum of products with it overflows: in a conv
    model only mid-command (a NaN gradient, a page of warnings), not on the load probe."""
    with np.load(SHIPPED / f"{name}.npz") as shipped:
        arrays = {k: shipped[k] for k in shipped.files}
    arrays[key] = arrays[key].copy()
    arrays[key].flat[0] = 3e38
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(FoolDigitsError, match=f"holds a number of 3e\\+38 in '{key}'"):
        load_model(tmp_path / "m.npz")


def test_load_refuses_a_generative_temperature_below_what_fit_chooses(tmp_path: Path) -> None:
    """T = 1e-38 is positive, but (G9)'s 1/T overflows the float32 gradient to inf."""
    with np.load(SHIPPED / "generative.npz") as shipped:
        arrays = {k: shipped[k] for k in shipped.files}
    arrays["temperature"] = np.float32(1e-38)
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(FoolDigitsError, match=r"temperature T = 1e-38 is below 0\.001"):
        load_model(tmp_path / "m.npz")
