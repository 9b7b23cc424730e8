"""Variograms on hand-made images, the histogram sampler, and the priors in the GA."""

from __future__ import annotations

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.lessons.evolve import GAConfig, UniformPrior, evolve
from fooldigits.lessons.stats import (
    HistogramSampler,
    LocalPrior,
    StatsPrior,
    make_prior,
    naturalness,
    pixel_histogram,
    reference,
    stats_distance,
    variogram,
)
from fooldigits.models.network import Network
from tests.conftest import result_of


def test_variogram_of_hand_made_images() -> None:
    flat = np.full((1, 784), 0.4)
    g_x, g_y = variogram(flat, 3)
    assert np.allclose(g_x, 0) and np.allclose(g_y, 0)
    stripes = np.tile([0.0, 1.0], 14)[None, :].repeat(28, axis=0).reshape(1, 784)  # columns
    g_x, g_y = variogram(stripes, 3)
    assert np.allclose(g_x, [[1.0, 0.0, 1.0]]) and np.allclose(g_y, 0)
    step = np.zeros((28, 28))
    step[14:, :] = 1.0  # top half black, bottom half white
    g_x, g_y = variogram(step.reshape(1, 784), 2)
    assert np.allclose(g_x, 0)
    assert g_y[0] == pytest.approx([1 / 27, 2 / 26])  # rows that straddle the edge


def test_variogram_of_noise_is_one_third() -> None:
    noise = np.random.default_rng(0).random((200, 784))
    g_x, g_y = variogram(noise, 4)
    assert np.allclose(g_x.mean(axis=0), 1 / 3, atol=0.01)
    assert np.allclose(g_y.mean(axis=0), 1 / 3, atol=0.01)


def test_histogram_sampler_reproduces_the_histogram(small_train: tuple[np.ndarray, np.ndarray]
                                                    ) -> None:
    edges, probabilities = pixel_histogram(small_train[0], bins=8)
    assert probabilities.sum() == pytest.approx(1.0) and len(probabilities) == 9
    drawn = HistogramSampler(edges, probabilities)(np.random.default_rng(0), (200_000,))
    _, again = pixel_histogram(drawn, bins=8)
    assert np.allclose(again, probabilities, atol=0.005)
    with pytest.raises(FoolDigitsError):
        pixel_histogram(drawn, bins=0)


def test_stats_prior_makes_images_more_natural(small_net: Network,
                                               small_train: tuple[np.ndarray, np.ndarray]
                                               ) -> None:
    real = small_train[0]
    config = GAConfig(target=0.99, max_generations=300, min_generations=30)
    plain = result_of(evolve(small_net, 2, 6, config, np.random.default_rng(0),
                              prior=UniformPrior()))
    prior = StatsPrior(real)
    shaped = result_of(evolve(small_net, 2, 6, config, np.random.default_rng(0),
                               prior=prior))
    ref = reference(real)
    assert stats_distance(shaped.images, ref).mean() < 0.5 * stats_distance(plain.images,
                                                                             ref).mean()
    assert shaped.reached.mean() >= 0.5


def test_local_prior_draws_from_the_class_and_its_mean_looks_like_it(
        small_net: Network, small_train: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = small_train
    twos = images[labels == 2]
    prior = LocalPrior(twos)
    pixels = np.broadcast_to(np.arange(784), (300, 784))
    drawn = prior.draw(np.random.default_rng(0), pixels)
    assert np.corrcoef(drawn.mean(axis=0), twos.mean(axis=0))[0, 1] > 0.9
    result = result_of(evolve(small_net, 2, 10, GAConfig(target=0.99, max_generations=300,
                                                          min_generations=20),
                               np.random.default_rng(0), prior=prior))
    # ten images of a small net: 0.79-0.81 across seeds; the plain GA's are about 0.2
    assert naturalness(result.images, 2)["correlation"] > 0.75
    assert prior.penalty(twos[:5]).mean() < prior.penalty(np.random.default_rng(0).random(
        (5, 784))).mean()


def test_local_prior_draws_real_values_whether_stored_as_bytes_or_floats(
        small_train: tuple[np.ndarray, np.ndarray]) -> None:
    twos = small_train[0][small_train[1] == 2]
    for real in (twos, twos * 0.5 + 0.001):  # MNIST's byte / 255 values, then any floats
        prior = LocalPrior(real)
        pixels = np.broadcast_to(np.arange(784), (50, 784))
        drawn = prior.draw(np.random.default_rng(0), pixels)
        assert drawn.dtype == np.float32
        for pixel in (0, 300, 400, 783):  # every value drawn at a pixel is a real one there
            assert np.isin(drawn[:, pixel], real[:, pixel]).all()


def test_local_penalty_is_its_formula_written_out_in_two_dimensions(
        small_train: tuple[np.ndarray, np.ndarray]) -> None:
    """The flat, in-place penalty against the formula on (28, 28) images in float64:
    mean |x - mean| + mean over right neighbours ||dx| - dx_ref| + the same below."""
    twos = small_train[0][small_train[1] == 2]
    prior = LocalPrior(twos)
    images = np.concatenate([twos[:7], np.random.default_rng(0).random((900, 784),
                                                                      dtype=np.float32)])
    x = images.astype(np.float64).reshape(-1, 28, 28)
    real = twos.astype(np.float64).reshape(-1, 28, 28)
    mean = real.mean(axis=0)
    dx_ref = np.abs(real[:, :, 1:] - real[:, :, :-1]).mean(axis=0)  # (28, 27)
    dy_ref = np.abs(real[:, 1:] - real[:, :-1]).mean(axis=0)  # (27, 28)
    want = (np.abs(x - mean).mean(axis=(1, 2))
            + np.abs(np.abs(x[:, :, 1:] - x[:, :, :-1]) - dx_ref).mean(axis=(1, 2))
            + np.abs(np.abs(x[:, 1:] - x[:, :-1]) - dy_ref).mean(axis=(1, 2)))
    np.testing.assert_allclose(prior.penalty(images), want, rtol=1e-5)


def test_no_prior_is_none_and_an_unknown_one_is_refused() -> None:
    """"none" is the plain GA: no penalty, the direct encoding's own genes."""
    assert make_prior("none", 2) is None
    with pytest.raises(FoolDigitsError, match="prior must be one of"):
        make_prior("gauss", 2)


@pytest.mark.parametrize("name", ["stats", "local"])
def test_each_prior_draws_genes_as_its_values_rounded_to_bytes(name: str) -> None:
    """The GA draws bytes (`genes`); they must follow the prior's own `draw`: the same
    mean grey, the same share of black, and for the local prior the same mean digit."""
    prior = make_prior(name, 2)
    assert prior is not None
    pixels = np.broadcast_to(np.arange(784), (400, 784))
    genes = prior.genes(np.random.default_rng(0), pixels)
    values = prior.draw(np.random.default_rng(1), pixels)
    assert genes.dtype == np.uint8 and genes.shape == pixels.shape
    assert abs(genes.mean() / 255 - values.mean()) < 0.005
    assert abs(np.mean(genes == 0) - np.mean(values < 0.5 / 255)) < 0.005
    if name == "local":
        assert np.corrcoef(genes.mean(axis=0), values.mean(axis=0))[0, 1] > 0.99
