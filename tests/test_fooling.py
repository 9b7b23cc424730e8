"""Dreaming, the genetic algorithm, the confidence ceiling and transfer, on real networks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import Generation
from fooldigits.lessons.ceiling import activation_box, confidence_ceiling
from fooldigits.lessons.dream import (
    DreamConfig,
    box_blur,
    dream,
    sparkline,
    steps_to_go,
    trend,
    tv_gradient,
)
from fooldigits.lessons.evolve import (
    FoolResult,
    GAConfig,
    evolve,
    transfer_matrix,
)
from fooldigits.lessons.stats import make_prior
from fooldigits.lessons.training import SGDConfig, sgd
from fooldigits.models.network import Network
from tests.conftest import events_and_result, result_of


def test_dreaming_raises_the_target_confidence(small_net: Network) -> None:
    rng = np.random.default_rng(0)
    start = small_net.probabilities(rng.random((10, 784), dtype=np.float32))
    result = dream(small_net, np.arange(10), DreamConfig(steps=300), np.random.default_rng(0))
    before = start[np.arange(10), np.arange(10)]
    assert np.all(result.confidence > before)
    assert np.median(result.confidence) >= 0.99
    assert result.images.min() >= 0 and result.images.max() <= 1


def test_dreaming_reports_unconverged_digits_honestly(shipped: Network) -> None:
    result = dream(shipped, np.arange(10), DreamConfig(steps=100, lr=0.01),
                   np.random.default_rng(0))
    assert not result.converged.all()
    assert np.array_equal(result.converged, result.confidence >= 0.999)
    assert np.all(result.steps[~result.converged] == 100)
    assert result.trace.shape == (101, 10)  # every step's confidences, and the last
    assert np.array_equal(result.trace[-1], result.confidence)


def test_a_dream_trace_tells_climbing_from_stuck() -> None:
    steps = np.arange(101)
    climbing = 1 / (1 + np.exp(-(steps / 20 - 4)))  # log-odds rise 0.05 a step
    assert trend(climbing, 0.999) == "still climbing"
    to_go = steps_to_go(climbing, 0.999)  # from log-odds 1 to ln(999) = 6.9, at 0.05 a step
    assert abs(to_go - (np.log(999) - 1) / 0.05) < 1
    stuck = np.concatenate([climbing[:60], np.full(41, climbing[60])])
    assert trend(stuck, 0.999) == "stuck" and steps_to_go(stuck, 0.999) == float("inf")
    assert trend(np.full(5, 0.9995), 0.999) == "reached"
    assert sparkline(np.linspace(0, 1, 100), 8) == "▁▂▃▄▅▆▇█"


def test_shipped_model_dreams_every_digit(shipped: Network) -> None:
    result = dream(shipped, np.arange(10), DreamConfig(), np.random.default_rng(0))
    assert result.confidence.min() >= 0.99 and np.median(result.confidence) >= 0.999


@pytest.mark.parametrize("prior", ["l2", "tv", "blur"])
def test_priors_run_and_keep_pixels_in_range(small_net: Network, prior: str) -> None:
    result = dream(small_net, np.array([3, 5]), DreamConfig(steps=50, prior=prior),
                   np.random.default_rng(1))
    assert result.images.min() >= 0 and result.images.max() <= 1


def test_tv_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((1, 784))

    def tv(v: np.ndarray) -> float:
        img = v.reshape(28, 28)
        return float(np.abs(np.diff(img, axis=1)).sum() + np.abs(np.diff(img, axis=0)).sum())

    grad, h = tv_gradient(x), 1e-7
    for pixel in rng.choice(784, 20, replace=False):
        up, down = x.copy(), x.copy()
        up[0, pixel] += h
        down[0, pixel] -= h
        assert grad[0, pixel] == pytest.approx((tv(up) - tv(down)) / (2 * h), abs=1e-4)


def test_box_blur_keeps_constants_and_spreads_a_point() -> None:
    assert np.allclose(box_blur(np.full((1, 784), 0.3)), 0.3)
    point = np.zeros((1, 784))
    point[0, 14 * 28 + 14] = 9.0
    blurred = box_blur(point).reshape(28, 28)
    assert blurred[13:16, 13:16] == pytest.approx(np.ones((3, 3)))


def test_ga_reaches_target_keeps_elites_and_stays_in_range(small_net: Network) -> None:
    config = GAConfig(target=0.99, max_generations=400, slots=4)
    events, result = events_and_result(evolve(small_net, 3, 4, config,
                                              np.random.default_rng(0)))
    assert all(isinstance(event, Generation) for event in events)  # the result is returned
    best_so_far = [(event.finished, event.best_confidence) for event in events]
    assert isinstance(result, FoolResult)
    assert result.reached.all() and result.generations.max() < 400
    assert result.images.min() >= 0 and result.images.max() <= 1
    assert np.allclose(small_net.probabilities(result.images)[:, 3], result.confidences,
                       atol=1e-6)
    # Elitism: within the run in slot 0 the best confidence never drops.
    first_run = [c for finished, c in best_so_far if finished == 0][: result.generations[0]]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(first_run))


def test_elites_are_never_mutated(small_net: Network) -> None:
    """Three elites in four, half of every child's pixels redrawn: a mutation that landed
    on an elite would make the best confidence drop."""
    config = GAConfig(population=4, elite=3, parents=2, mutation_rate=0.5,
                      target=0.99999999, max_generations=40, slots=2)
    best = [e.best_confidence for e in evolve(small_net, 3, 2, config, np.random.default_rng(0))
            if isinstance(e, Generation) and e.finished == 0]
    assert len(best) > 10
    assert all(b >= a for a, b in itertools.pairwise(best))


def test_same_seed_same_images(small_net: Network) -> None:
    config = GAConfig(target=0.9, max_generations=50, slots=3)
    a = result_of(evolve(small_net, 7, 3, config, np.random.default_rng(5)))
    b = result_of(evolve(small_net, 7, 3, config, np.random.default_rng(5)))
    c = result_of(evolve(small_net, 7, 3, config, np.random.default_rng(6)))
    assert np.array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)


def test_shipped_model_is_fooled_at_99_99_percent(shipped: Network) -> None:
    result = result_of(evolve(shipped, 2, 20, GAConfig(), np.random.default_rng(0)))
    assert result.reached.all()
    assert shipped.probabilities(result.images)[:, 2].min() >= 0.9999


@pytest.mark.parametrize(
    "config",
    [GAConfig(population=1), GAConfig(mutation_rate=1.5), GAConfig(target=1.5),
     GAConfig(target=0.0), GAConfig(parents=1)],
)
def test_bad_ga_settings(small_net: Network, config: GAConfig) -> None:
    with pytest.raises(FoolDigitsError):
        next(evolve(small_net, 2, 1, config, np.random.default_rng(0)))


def test_ceiling_bounds_every_image_and_every_search() -> None:
    rng = np.random.default_rng(0)
    net = Network([784, 30, 10], output="sigmoid", rng=rng)
    x = rng.random((2000, 784)).astype(np.float32) * 0.3
    # a strongly regularised sigmoid-output net, whose ceiling is visibly below 1
    for _ in sgd(net, x, rng.integers(0, 10, 2000), SGDConfig(epochs=2, lmbda=2000.0,
                                                              eta=0.5), rng):
        pass
    ceiling = confidence_ceiling(net)
    assert ceiling.max() < 0.999
    lo, hi = activation_box(net)
    hidden = net.feedforward(rng.random((500, 784)).astype(np.float32))[1]
    assert np.all(hidden >= lo - 1e-6) and np.all(hidden <= hi + 1e-6)
    found = dream(net, np.arange(10), DreamConfig(steps=500, threshold=0.999999, lr=10),
                  np.random.default_rng(0)).confidence
    assert np.all(found <= ceiling + 1e-9)
    ga = result_of(evolve(net, 0, 2, GAConfig(target=0.999999, max_generations=100),
                           np.random.default_rng(0)))
    assert ga.confidences.max() <= ceiling[0] + 1e-9


def test_transfer_matrix_diagonal_is_the_bred_network(small_net: Network,
                                                      shipped: Network) -> None:
    nets = [small_net, shipped]
    config = GAConfig(target=0.99, max_generations=300)
    images = [result_of(evolve(n, 4, 3, config, np.random.default_rng(1))).images for n in nets]
    digits = [np.full(3, 4), np.full(3, 4)]
    mean, share = transfer_matrix(nets, images, digits)
    assert mean.shape == (2, 2) and np.all(np.diag(share) == 1.0)
    assert np.all((mean >= 0) & (mean <= 1))


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_ceiling_holds_for_random_networks(output: str) -> None:
    """Random nets with large weights (margins of both signs): no image beats the bound."""
    for seed in range(5):
        rng = np.random.default_rng(seed)
        net = Network([784, 6, 10], output=output, rng=rng)
        net.w = [w * 3 for w in net.w]
        ceiling = confidence_ceiling(net)
        x = rng.random((3000, 784)).astype(np.float32)
        x[:1000] = np.round(x[:1000])  # corners of the box too
        assert np.all(net.probabilities(x).max(axis=0) <= ceiling + 1e-9)
        found = dream(net, np.arange(10), DreamConfig(steps=300, lr=10, threshold=1 - 1e-9),
                      rng).confidence
        assert np.all(found <= ceiling + 1e-9)


def test_a_run_started_from_a_real_digit_keeps_most_of_it(shipped: Network) -> None:
    from fooldigits.core.data import training_digits

    images, _ = training_digits(3, 1)
    start = images[0]  # a real '3', evolved towards an '8' for a few generations only
    result = result_of(evolve(shipped, 8, 4, GAConfig(max_generations=5, slots=2),
                               np.random.default_rng(0), start=start))
    assert np.all(result.generations <= 5)
    ink = start > 0  # the drawing's strokes (a black page shares its background)
    kept = np.mean(result.images[:, ink] == start[ink], axis=1)  # strokes still the drawing's
    assert kept.min() > 0.8
    assert result.images.min() >= 0 and result.images.max() <= 1
    # a GA started from noise keeps (almost) none of the drawing
    noise = result_of(evolve(shipped, 8, 2, GAConfig(max_generations=5),
                              np.random.default_rng(0)))
    assert np.mean(noise.images[:, ink] == start[ink]) < 0.3


def test_the_starting_image_itself_is_the_first_member(shipped: Network) -> None:
    from fooldigits.core.data import training_digits

    images, _ = training_digits(2, 1)
    start = images[0]  # a real '2' the shipped model is sure about
    assert shipped.probabilities(start)[0, 2] > 0.99
    # every other member is noise (mutation rate 1): the unchanged start must win at once
    config = GAConfig(mutation_rate=1.0, target=0.9, slots=1)
    result = result_of(evolve(shipped, 2, 1, config, np.random.default_rng(0), start=start))
    assert result.generations[0] == 0
    assert np.array_equal(result.images[0], start)


@pytest.mark.parametrize("start", [np.zeros(10), np.full(784, 2.0), np.full(784, np.nan)])
def test_bad_starting_images(small_net: Network, start: np.ndarray) -> None:
    with pytest.raises(FoolDigitsError):
        next(evolve(small_net, 2, 1, GAConfig(), np.random.default_rng(0), start=start))


@pytest.mark.parametrize("prior", ["none", "stats"])
def test_the_ga_reports_what_the_network_says_of_its_images(small_net: Network,
                                                            prior: str) -> None:
    """The GA judges its genes (bytes) as floats, block by block: every confidence it
    reports, along the way and at the end, must be the network's own for the images it
    hands out (an odd number of children, a high mutation rate, runs that never end)."""
    config = GAConfig(target=0.99999999, max_generations=60, slots=3, mutation_rate=0.05,
                      population=21)  # an odd number of children: one pair keeps one
    seen, result = events_and_result(evolve(small_net, 5, 5, config, np.random.default_rng(3),
                                            prior=make_prior(prior, 5)))
    believed = np.array([event.best_confidence for event in seen])
    exact = small_net.probabilities(np.array([event.best_image for event in seen]))[:, 5]
    np.testing.assert_allclose(believed, exact, rtol=1e-5, atol=1e-7)
    assert isinstance(result, FoolResult) and (result.generations == 60).all()
    np.testing.assert_allclose(result.confidences, small_net.probabilities(result.images)[:, 5],
                               rtol=1e-5, atol=1e-7)
    levels = result.images * 255  # genes are bytes: every pixel is k / 255
    np.testing.assert_allclose(levels, np.rint(levels), atol=1e-4)


def test_generations_to_target_are_counted_apart_from_the_minimum(small_net: Network) -> None:
    """A prior's runs go on for `min_generations` after reaching the target: the result
    says when each first got there, so a table cannot pass the minimum off as the effort."""
    config = GAConfig(target=0.9, max_generations=200, min_generations=60)
    result = result_of(evolve(small_net, 3, 6, config, np.random.default_rng(2)))
    needed = result.generations_to_target()
    assert result.reached.all() and (result.generations == 60).all()
    assert len(needed) == 6 and needed.max() < 60 and (needed >= 0).all()
    plain = result_of(evolve(small_net, 3, 6, GAConfig(target=0.9, max_generations=200),
                             np.random.default_rng(2)))
    assert np.array_equal(plain.generations_to_target(), plain.generations)


def test_two_dream_runs_share_one_table_and_keep_each_result(small_net: Network) -> None:
    """The tutor's dream chapter: each run's grid, then one row per digit with every run's
    confidence, curve and steps, and the reports the `dream` command would return."""
    from fooldigits.core.pieces import Images, Table
    from fooldigits.experiments.dreaming import dream as dream_command
    from fooldigits.experiments.dreaming import dreams

    configs = [DreamConfig(steps=40), DreamConfig(steps=5, lr=0.01)]
    events, reports = events_and_result(dreams(small_net, [3, 5], configs,
                                               np.random.default_rng(0)))
    grids = [e for e in events if isinstance(e, Images)]
    (table,) = [e for e in events if isinstance(e, Table)]
    assert [g.title for g in grids] == ["dreamed digits (lr 1.0, prior none)",
                                        "dreamed digits (lr 0.01, prior none)"]
    assert table.columns == ["digit", "lr 1.0", "steps", "lr 0.01", "steps",
                             "more steps needed"]
    assert [row[0] for row in table.rows] == ["3", "5"]
    for i, report in enumerate(reports):
        for row, x in zip(table.rows, report.digits, strict=True):
            assert str(row[1 + 2 * i]).startswith(f"{100 * x['confidence']:.2f}% ")  # + sparkline
            assert row[2 + 2 * i] == x["steps"]
    _, alone = events_and_result(dream_command(small_net, [3, 5], configs[0],
                                               np.random.default_rng(0)))
    assert alone.digits == reports[0].digits  # the same run as the command's
