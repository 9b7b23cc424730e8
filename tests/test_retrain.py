"""Nguyen's retraining on tiny sizes, and the 11-class network as a first-class Network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.core.pieces import BatchDone, Generation, Step, class_name
from fooldigits.lessons.ceiling import confidence_ceiling
from fooldigits.lessons.dream import DreamConfig, dream
from fooldigits.lessons.retrain import (
    SEARCHES,
    RetrainConfig,
    RetrainResult,
    RoundDone,
    retrain,
)
from fooldigits.lessons.training import SGDConfig, sgd
from fooldigits.models.base import require_classes
from fooldigits.models.network import Network
from tests.conftest import events_and_result, load_dense, result_of

TINY = RetrainConfig(rounds=1, per_digit=3, max_generations=60, target=0.99, epochs=4,
                     noise=100, dream_steps=100, attacked=100)


@pytest.fixture(scope="module")
def small_data(mnist: Dataset) -> Dataset:
    """2,000 training digits, 500 test digits (no validation set needed)."""
    return Dataset(mnist.train_images[:2000], mnist.train_labels[:2000],
                   mnist.validation_images[:10], mnist.validation_labels[:10],
                   mnist.test_images[:500], mnist.test_labels[:500])


@pytest.fixture(scope="module")
def one_round(small_net: Network, small_data: Dataset) -> tuple[list[object], RetrainResult]:
    events, result = events_and_result(retrain(small_net, small_data, TINY,
                                               np.random.default_rng(0)))
    assert isinstance(result, RetrainResult)  # returned, never yielded
    return events, result


def test_one_round_makes_an_11_class_network_judged_by_every_search(
        small_net: Network, one_round: tuple[list[object], RetrainResult]) -> None:
    events, result = one_round
    assert small_net.classes == 10  # the original is left alone
    assert result.network.describe().startswith("dense 784-30-11")
    assert {type(e) for e in events} == {BatchDone, Generation, Step, RoundDone}
    first, second = result.rounds
    assert set(first.searches) == set(SEARCHES) and first.noise_not_a_digit == 0
    assert all(s.rejected_previous is None for s in first.searches.values())
    trained = first.searches["ga-noise"].images
    assert len(trained) == 10 * TINY.per_digit
    # the original can never answer class 10; the retrained one learned its fooling images
    assert np.mean(small_net.predict(trained) == 10) == 0
    caught = second.searches["ga-noise"].rejected_previous
    assert caught is not None and caught > 0.8
    assert np.mean(result.network.predict(trained) == 10) == pytest.approx(caught)
    held_out = second.searches["ga-blank"].rejected_previous
    assert held_out == pytest.approx(np.mean(result.network.predict(
        first.searches["ga-blank"].images) == 10))
    assert second.test_accuracy > 0.75  # and still reads real digits
    assert second.noise_not_a_digit > 0.5 and second.noise_confidence < first.noise_confidence
    for row in result.rounds:
        for search in row.searches.values():
            assert 0 <= search.fooled <= 1
    summary = result.summary
    assert [s["round"] for s in summary] == [0, 1]
    assert summary[1]["ga-blank"]["held_out"] and not summary[1]["ga-noise"]["held_out"]
    assert summary[1]["ga-noise"]["rejected_previous"]["mean"] == pytest.approx(caught)


def test_seeds_repeat_the_loop_and_the_summary_gives_each_range(
        small_net: Network, small_data: Dataset, tmp_path: Path) -> None:
    # searches as short as they come: this is the loop's bookkeeping, not what it learns
    config = RetrainConfig(rounds=1, per_digit=1, max_generations=8, target=0.99, epochs=1,
                           noise=50, dream_steps=8, attacked=50, seeds=2)
    result = result_of(retrain(small_net, small_data, config, np.random.default_rng(1),
                               tmp_path))
    assert isinstance(result, RetrainResult)
    assert [(r.seed, r.round) for r in result.rounds] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    cell = result.summary[1]["test_accuracy"]
    values = [r.test_accuracy for r in result.rounds if r.round == 1]
    assert cell == {"mean": pytest.approx(np.mean(values)), "min": min(values),
                    "max": max(values)}
    saved = [Path(p) for r in result.rounds for p in r.saved]
    assert tmp_path / "seed1-round1.npz" in saved and tmp_path / "seed0-round0-dream.npz" in saved
    assert load_dense(tmp_path / "seed1-round1.npz").classes == 11
    from fooldigits.lessons.drawings import load_npz_images

    assert load_npz_images(tmp_path / "seed0-round1-ga-blank.npz").shape == (10, 784)


def test_the_11_class_network_saves_loads_and_answers(
        one_round: tuple[list[object], RetrainResult], small_data: Dataset,
        tmp_path: Path) -> None:
    net = one_round[1].network
    net.save(tmp_path / "eleven.npz")
    again = load_dense(tmp_path / "eleven.npz")
    assert again.classes == 11
    x = small_data.test_images[:50]
    assert np.array_equal(again.probabilities(x), net.probabilities(x))
    assert again.probabilities(x).shape == (50, 11)
    assert again.confusion_matrix(x, small_data.test_labels[:50]).shape == (11, 11)
    assert confidence_ceiling(again).shape == (10,)  # per digit; class 10 only competes
    dreamed = dream(again, np.arange(10), DreamConfig(steps=20), np.random.default_rng(0))
    assert dreamed.images.shape == (10, 784)
    assert [class_name(i) for i in (0, 9, 10)] == ["0", "9", "not a digit"]


def test_bad_retraining_inputs(small_net: Network, small_data: Dataset,
                               one_round: tuple[list[object], RetrainResult]) -> None:
    rng = np.random.default_rng(0)
    for config, words in ((RetrainConfig(rounds=0), "^rounds must be"),
                          (RetrainConfig(per_digit=0), "^per_digit must be"),
                          (RetrainConfig(seeds=0), "^seeds must be"),
                          (RetrainConfig(max_generations=0), "max.generations")):
        with pytest.raises(FoolDigitsError, match=words):
            next(retrain(small_net, small_data, config, rng))
    with pytest.raises(FoolDigitsError, match=r"10 \(one per digit\).*has 11"):
        next(retrain(one_round[1].network, small_data, TINY, rng))
    with pytest.raises(FoolDigitsError, match="needs a model with 11"):
        require_classes(small_net, 11)


def test_sgd_refuses_labels_the_network_has_no_output_for(small_data: Dataset) -> None:
    rng = np.random.default_rng(0)
    net = Network([784, 5, 10], rng=rng)
    labels = small_data.train_labels[:20].astype(np.int64)
    labels[0] = 10
    with pytest.raises(FoolDigitsError, match=r"classes 0\.\.9"):
        next(sgd(net, small_data.train_images[:20], labels, SGDConfig(epochs=1), rng))


def test_the_chapter_captions_each_image_with_the_last_models_confidence(
        small_net: Network, small_data: Dataset) -> None:
    """`retrain`'s grid of the last round's images says how sure the last model is of each
    one's digit (a caption of only "noise 3" left unsaid whether it still fooled it)."""
    from fooldigits.core.pieces import Images
    from fooldigits.experiments.fighting import retrain as retrain_chapter

    events, report = events_and_result(retrain_chapter(small_net, small_data, TINY,
                                                       np.random.default_rng(0)))
    (grid,) = [e for e in events if isinstance(e, Images) and "last round" in e.title]
    digits = np.tile(np.arange(10), 3)
    assert report.network is not None
    sure = report.network.probabilities(grid.images)[np.arange(30), digits]
    assert [c.split()[:2] for c in grid.captions] == [
        [name, f"'{d}'"] for name in ("noise", "blank", "dream") for d in range(10)]
    shown = np.array([float(c.split()[-1].rstrip("%")) for c in grid.captions])
    np.testing.assert_allclose(shown, 100 * sure, atol=5e-4)
    assert "99% or more" in grid.title  # TINY's target, 0.99
