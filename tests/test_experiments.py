"""Every experiment called directly, at tiny sizes: the one contract they all keep.

An experiment yields only pieces (what is shown) and progress (what is happening), and
returns a result that `pieces.to_json` writes. Ctrl-C is tested by throwing
`KeyboardInterrupt` into the generator where the presenter would, not by timing a signal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fooldigits import FoolDigitsError, Interrupted
from fooldigits.core.data import Dataset
from fooldigits.core.options import make_rng
from fooldigits.core.pieces import (
    PIECES,
    PROGRESS,
    BatchDone,
    Experiment,
    Generation,
    Images,
    Say,
    Table,
    to_json,
)
from fooldigits.experiments import basics, drawn, dreaming, eigen, fighting, fooling, natural
from fooldigits.experiments import transfer as transferring
from fooldigits.lessons.dream import DreamConfig
from fooldigits.lessons.evolve import GAConfig
from fooldigits.lessons.retrain import RetrainConfig
from fooldigits.lessons.settings import PRIOR_GENERATIONS
from fooldigits.lessons.stats import with_prior_rule
from fooldigits.lessons.training import SGDConfig
from fooldigits.models import SHIPPED, load_model
from fooldigits.models.base import Classifier
from fooldigits.models.network import Network
from tests.conftest import events_and_result

ROOT = Path(__file__).parent.parent
LINEAR, DENSE = SHIPPED / "linear.npz", SHIPPED / "default.npz"
TINY_GA = GAConfig(population=10, elite=1, parents=4, target=0.9, max_generations=5)


@pytest.fixture(scope="module")
def tiny(mnist: Dataset) -> Dataset:
    """300 training, 50 validation and 100 test digits."""
    return Dataset(mnist.train_images[:300], mnist.train_labels[:300],
                   mnist.validation_images[:50], mnist.validation_labels[:50],
                   mnist.test_images[:100], mnist.test_labels[:100])


@pytest.fixture(scope="module")
def linear() -> Classifier:
    return load_model(LINEAR)


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


Case = Callable[[Dataset, Network, Classifier, Path], Experiment[Any]]
CASES: dict[str, Case] = {
    "show": lambda d, n, lin, tmp: basics.show(d.train_images[:3], d.train_labels[:3]),
    "digit_means": lambda d, n, lin, tmp: basics.digit_means(d),
    "train": lambda d, n, lin, tmp: basics.train(
        Network([784, 5, 10], rng=rng()), d, SGDConfig(epochs=1, batch_size=50), rng(),
        tmp / "m.npz"),
    "evaluate": lambda d, n, lin, tmp: basics.evaluate(lin, d.test_images, d.test_labels),
    "right_and_wrong": lambda d, n, lin, tmp: basics.right_and_wrong(n, d.test_images,
                                                                     d.test_labels),
    "pca": lambda d, n, lin, tmp: eigen.pca(d.train_images, d.train_labels, d.test_images,
                                            d.test_labels, [5], show=4, neighbours=1),
    "reconstruct": lambda d, n, lin, tmp: eigen.reconstruct(d.train_images, d.test_images[0],
                                                            0, int(d.test_labels[0]), [2, 5]),
    "dream": lambda d, n, lin, tmp: dreaming.dream(lin, [3], DreamConfig(steps=5), rng()),
    "evolve_runs": lambda d, n, lin, tmp: fooling.evolve_runs(n, [2], 2, TINY_GA, rng(),
                                                              out=tmp / "f.npz"),
    "fool": lambda d, n, lin, tmp: fooling.fool(lin, [2, 7], 1, TINY_GA, rng(), "stats",
                                                mean=True, min_generations=1),
    "ceiling": lambda d, n, lin, tmp: dreaming.ceiling(n, rng(), steps=5),
    "transfer": lambda d, n, lin, tmp: transferring.transfer(1, 0.5, rng(),
                                                        nets=[("a", n), ("b", lin)]),
    "classify": lambda d, n, lin, tmp: drawn.classify(
        lin, [ROOT / "docs" / "drawings" / "seven.txt", tmp / "missing.png"]),
    "framing": lambda d, n, lin, tmp: drawn.framing(lin, d.test_images[1]),
    "border": lambda d, n, lin, tmp: drawn.border(lin, d.test_images, d.test_labels, show=1),
    "scramble": lambda d, n, lin, tmp: drawn.scramble(lin, d.test_images, d.test_labels,
                                                      [0.0, 0.5], rng(), examples=1),
    "stats": lambda d, n, lin, tmp: natural.stats(3, 2, 4),
    "compare": lambda d, n, lin, tmp: natural.compare(lin, 2, 1, rng(), 0.9, 1),
    "adversarial": lambda d, n, lin, tmp: fighting.adversarial(
        lin, d, [0.0, 0.1], ("fgsm", "pgd"), steps=2, show=1, count=20),
    "targeted": lambda d, n, lin, tmp: fighting.targeted(lin, d, 7, 3, "fgsm", show=1,
                                                         per_digit=3),
    "adversarial_transfer": lambda d, n, lin, tmp: fighting.adversarial_transfer(
        d, [0.05], rng(), "fgsm", models=[LINEAR, DENSE], count=20, fooling_count=0),
    "retrain": lambda d, n, lin, tmp: fighting.retrain(
        n, d, RetrainConfig(rounds=1, per_digit=1, max_generations=5, epochs=1, noise=10,
                            dream_steps=5, attacked=5),
        rng(), out=tmp / "r.npz", command="fooldigits retrain --rounds 1"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_an_experiment_yields_pieces_and_progress_and_returns_json(
        name: str, tiny: Dataset, small_net: Network, linear: Classifier,
        tmp_path: Path) -> None:
    events, result = events_and_result(CASES[name](tiny, small_net, linear, tmp_path))
    wrong = [type(e).__name__ for e in events if not isinstance(e, PIECES + PROGRESS)]
    assert not wrong, f"{name} yielded {wrong}"
    assert any(isinstance(e, PIECES) for e in events)
    assert result is not None
    json.loads(to_json(result))


def test_results_hold_what_was_asked(tiny: Dataset, small_net: Network, linear: Classifier,
                                     tmp_path: Path) -> None:
    _, nets = events_and_result(transferring.networks([LINEAR, DENSE]))
    assert [name for name, _ in nets] == ["linear.npz", "default.npz"]
    _, report = events_and_result(fooling.evolve_runs(small_net, [2, 5], 2, TINY_GA, rng(),
                                                      out=tmp_path / "f.npz"))
    assert [r.digit for r in report.runs] == [2, 5] and np.load(tmp_path / "f.npz")[
        "images"].shape == (4, 28, 28)
    _, saved = events_and_result(CASES["retrain"](tiny, small_net, linear, tmp_path))
    again = load_model(tmp_path / "r.npz")
    assert saved.saved_model == str(tmp_path / "r.npz") and again.classes == 11
    assert again.meta["command"] == "fooldigits retrain --rounds 1"


def test_rules_live_in_the_experiments(small_net: Network, tiny: Dataset) -> None:
    """What the CLI and the tutor share: refused the same way, whoever calls."""
    with pytest.raises(FoolDigitsError, match=r"^no image can reach target"):
        next(fooling.evolve_runs(small_net, [2], 1, GAConfig(target=1 - 1e-15), rng()))
    with pytest.raises(FoolDigitsError, match=r"^no image can reach threshold"):
        next(dreaming.dream(small_net, [2], DreamConfig(threshold=1 - 1e-15), rng()))
    # one rule for how long a prior evolves at least, for `fool` and `compare` alike
    assert with_prior_rule(GAConfig(), "none", None).min_generations == 0
    assert with_prior_rule(GAConfig(), "local", None).min_generations == PRIOR_GENERATIONS
    assert with_prior_rule(GAConfig(max_generations=9), "stats", None).min_generations == 9
    assert with_prior_rule(GAConfig(), "stats", 3).min_generations == 3
    _, result = events_and_result(fighting.adversarial_transfer(
        tiny, [0.3, 0.05], rng(), "fgsm", models=[LINEAR], count=5, fooling_count=0))
    assert result.epsilon == fighting.TRANSFER_EPSILON  # the largest asked, at most 0.1
    with pytest.raises(FoolDigitsError, match=r"^target must differ"):
        next(fighting.targeted(small_net, tiny, 3, 3))


# -- Ctrl-C, thrown where the presenter throws it --------------------------------------------
def test_ctrl_c_before_the_first_epoch_saves_nothing(tiny: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "m.npz"
    out.write_bytes(b"the old model")
    run = basics.train(Network([784, 5, 10], rng=rng()), tiny,
                       SGDConfig(epochs=3, batch_size=1), rng(), out)
    assert isinstance(next(run), BatchDone)  # inside the first epoch
    with pytest.raises(Interrupted, match="nothing was saved") as stop:
        run.throw(KeyboardInterrupt())
    assert f"{out} was left as it was" in stop.value.message
    assert out.read_bytes() == b"the old model"


def test_ctrl_c_after_an_epoch_saves_the_best_so_far(tiny: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "m.npz"
    run = basics.train(Network([784, 5, 10], rng=rng()), tiny,
                       SGDConfig(epochs=1000, batch_size=50), rng(), out)
    epochs = 0
    while epochs < 2:
        epochs += "epoch" in getattr(next(run), "text", "")
    with pytest.raises(Interrupted, match="saved the best network so far"):
        run.throw(KeyboardInterrupt())
    assert load_model(out).meta["stopped"] == "by Ctrl-C after epoch 2"


def test_ctrl_c_during_fooling_saves_the_finished_runs(small_net: Network,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "f.npz"
    config = GAConfig(target=0.99, max_generations=3, slots=1)
    run = fooling.evolve_runs(small_net, [4], 1000, config, rng(), out=out)
    while True:
        event = next(run)
        assert isinstance(event, Generation)
        if event.finished >= 2:
            break
    with pytest.raises(Interrupted, match=r"saved the \d+ finished fooling images"):
        run.throw(KeyboardInterrupt())
    assert len(np.load(out)["images"]) >= 2


# -- the tutor and the CLI: one experiment, so the same numbers ----------------------------
def first_table(stream: Experiment[Any], title: str) -> Table | tuple[str, list[str]]:
    """The first table whose title starts with `title` (or a grid's title and captions);
    the rest of the stream is skipped."""
    for event in stream:
        if isinstance(event, Table) and event.title.startswith(title):
            stream.close()
            return event
        if isinstance(event, Images) and event.title.startswith(title):
            stream.close()
            return event.title, list(event.captions)
    raise AssertionError(f"no table {title!r}")


@pytest.mark.parametrize(("chapter", "cli", "title"), [
    # `fooldigits scramble --count 1000 --seed 5` (quick sizes: 1,000 test images)
    ("drawings", lambda data, seed: drawn.scramble(
        load_model(), data.test_images[:1000], data.test_labels[:1000],
        [0.0, 0.1, 0.3, 0.5], make_rng(seed)), "background noise"),
    # `fooldigits dream --seed 5`: the grid (the tutor's table also has the tiny-step run)
    ("dream", lambda data, seed: dreaming.dream(load_model(), range(10), DreamConfig(),
                                               make_rng(seed)), "dreamed digits"),
    # `fooldigits adversarial --count 300 --epsilons 0,0.05,0.1,0.2 --show 5`
    ("fighting", lambda data, seed: fighting.adversarial(
        load_model(), data, [0.0, 0.05, 0.1, 0.2], count=300), "300 real test digits"),
])
def test_tutor_and_cli_give_the_same_results(chapter: str, cli: Callable[[Dataset, int], Any],
                                             title: str, mnist: Dataset) -> None:
    from fooldigits.tutor import story

    sizes = story.Sizes.quick()
    told = first_table(story.CHAPTERS[story.chapter(chapter)].run(make_rng(5), sizes), title)
    assert told == first_table(cli(mnist, 5), title)


def test_the_pad_reports_through_pieces(linear: Classifier, tmp_path: Path) -> None:
    """`fooldigits draw` shows what it saved and the game's table through the presenter."""
    from fooldigits.pad.drawpad import Pad
    from fooldigits.pad.game import Game
    from fooldigits.pad.session import summary

    pad = Pad(linear, game=Game.new(rng(), 0.0))
    pad.saved.append((tmp_path / "d.png", "7 (99.0%)"))
    events, result = events_and_result(summary(pad, 3, "linear.npz", tmp_path / "s.json"))
    assert all(isinstance(e, PIECES) for e in events)
    assert [e.text.split(":")[0] for e in events] == [
        f"saved {tmp_path / 'd.png'}", "no challenge was finished, so there is no score",
        f"scores written to {tmp_path / 's.json'}"]
    assert json.loads((tmp_path / "s.json").read_text())["seed"] == 3
    assert json.loads(to_json(result))["saved"] == [{"file": str(tmp_path / "d.png"),
                                                     "read": "7 (99.0%)"}]


def test_the_commands_read_their_defaults_from_the_settings() -> None:
    """Each default is written once, in the settings dataclass; --help shows it."""
    from fooldigits.cli import click_app
    from fooldigits.lessons.settings import SHIPPED_RECIPE, DreamConfig, GAConfig, RetrainConfig

    commands = click_app().commands
    defaults = {name: {p.name: p.default for p in commands[name].params}
                for name in ("train", "dream", "retrain", "fool", "compare")}
    recipe, dream, retrain, ga = SHIPPED_RECIPE, DreamConfig(), RetrainConfig(), GAConfig()
    fields = ("population", "elite", "parents", "mutation_rate", "target", "max_generations",
              "slots", "prior_weight")
    assert [defaults["fool"][k] for k in fields] == [getattr(ga, k) for k in fields]
    assert defaults["compare"]["min_generations"] == PRIOR_GENERATIONS
    assert [defaults["train"][k] for k in ("epochs", "eta", "final_eta", "lmbda", "momentum",
                                           "batch_size", "shift", "adversarial")] == [
        recipe.epochs, recipe.eta, recipe.final_eta_ratio, recipe.lmbda, recipe.momentum,
        recipe.batch_size, recipe.shift, recipe.adversarial]
    assert [defaults["dream"][k] for k in ("steps", "lr", "threshold", "prior_weight")] == [
        dream.steps, dream.lr, dream.threshold, dream.prior_weight]
    assert [defaults["retrain"][k] for k in ("rounds", "per_digit", "max_generations",
                                             "epochs", "seeds")] == [
        retrain.rounds, retrain.per_digit, retrain.max_generations, retrain.epochs,
        retrain.seeds]


def test_the_adversarial_summary_names_the_attack_once(tiny: Dataset,
                                                      linear: Classifier) -> None:
    # It read "... at 91.3% confidence (PGD; PGD: 40 steps)" in the tutor.
    for methods, said in ((("pgd",), "confidence (PGD: 2 steps)."),
                          (("fgsm",), "confidence (FGSM).")):
        events, _ = events_and_result(fighting.adversarial(
            linear, tiny, [0.0, 0.1], methods, steps=2, show=0, count=20))
        summary = [e.text for e in events if isinstance(e, Say) and "epsilon 0.10" in e.text]
        assert len(summary) == 1 and summary[0].endswith(said), summary


@pytest.mark.parametrize(("show", "columns"), [(10, 10), (16, 8), (4, 4)])
def test_eigen_digits_fill_their_rows(tiny: Dataset, show: int, columns: int) -> None:
    # The tutor's 10 eigen-digits came 8 to a row, then 2, on its page and in a PNG.
    events, _ = events_and_result(eigen.pca(tiny.train_images, tiny.train_labels,
                                            tiny.test_images, tiny.test_labels, [5],
                                            show=show, neighbours=1))
    grid = next(e for e in events if isinstance(e, Images))
    assert len(grid.images) == show and grid.columns == columns
