"""Nguyen's retraining on tiny sizes, and the 11-class network as a first-class Network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.core.pieces import BatchDone, Generation, class_name
from fooldigits.lessons.ceiling import confidence_ceiling
from fooldigits.lessons.dream import DreamConfig, dream
from fooldigits.lessons.retrain import RetrainConfig, RetrainResult, RoundDone, retrain
from fooldigits.lessons.training import SGDConfig, sgd
from fooldigits.models.base import require_classes
from fooldigits.models.network import Network
from tests.conftest import load_dense

TINY = RetrainConfig(rounds=1, per_digit=3, max_generations=60, target=0.99, epochs=4,
                     noise=100)


@pytest.fixture(scope="module")
def small_data(mnist: Dataset) -> Dataset:
    """2,000 training digits, 500 test digits (no validation set needed)."""
    return Dataset(mnist.train_images[:2000], mnist.train_labels[:2000],
                   mnist.validation_images[:10], mnist.validation_labels[:10],
                   mnist.test_images[:500], mnist.test_labels[:500])


@pytest.fixture(scope="module")
def one_round(small_net: Network, small_data: Dataset) -> tuple[list[object], RetrainResult]:
    events: list[object] = list(retrain(small_net, small_data, TINY, np.random.default_rng(0)))
    result = events[-1]
    assert isinstance(result, RetrainResult)
    return events, result


def test_one_round_makes_an_11_class_network_that_catches_its_fooling_images(
        small_net: Network, one_round: tuple[list[object], RetrainResult]) -> None:
    events, result = one_round
    assert small_net.classes == 10  # the original is left alone
    assert result.network.describe().startswith("dense 784-30-11")
    assert {type(e) for e in events} == {BatchDone, Generation, RoundDone, RetrainResult}
    first, second = result.rounds
    assert first.round == 0 and first.caught is None and first.noise_not_a_digit == 0
    assert len(result.fooling) == 10 * TINY.per_digit
    # the original can never answer class 10; the retrained one learned its fooling images
    assert np.mean(small_net.predict(result.fooling) == 10) == 0
    assert second.caught is not None and second.caught > 0.8
    assert np.mean(result.network.predict(result.fooling) == 10) == pytest.approx(second.caught)
    assert second.test_accuracy > 0.75  # and still reads real digits
    assert second.noise_not_a_digit > 0.5 and second.noise_confidence < first.noise_confidence
    assert first.best.shape == (10, 784) and first.confidence.shape == (10,)


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
    for config, words in ((RetrainConfig(rounds=0), "--rounds"),
                          (RetrainConfig(per_digit=0), "--per-digit"),
                          (RetrainConfig(max_generations=0), "--max-generations")):
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
