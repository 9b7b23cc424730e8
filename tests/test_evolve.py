"""The GA's steps one by one, and the encoding protocol it is written against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import Generation
from fooldigits.lessons.encodings import Direct, InkNoise, Pixels
from fooldigits.lessons.evolve import FoolResult, GAConfig, evolve, join, take
from fooldigits.models.network import Network
from tests.conftest import events_and_result, result_of


@dataclass
class TwoFields:
    """A genome population with fields of different shapes, as a CPPN's will have."""

    weights: np.ndarray  # (n, 3)
    kinds: np.ndarray  # (n,)


def test_take_and_join_index_and_stack_every_field() -> None:
    genomes = TwoFields(np.arange(15.0).reshape(5, 3), np.array([10, 11, 12, 13, 14]))
    picked = take(genomes, np.array([4, 0, 4]))
    assert isinstance(picked, TwoFields)
    assert picked.weights.tolist() == [[12, 13, 14], [0, 1, 2], [12, 13, 14]]
    assert picked.kinds.tolist() == [14, 10, 14]
    both = join([take(genomes, np.array([1])), picked])
    assert both.weights.shape == (4, 3) and both.kinds.tolist() == [11, 14, 10, 14]
    picked.weights[0, 0] = -1  # a copy, not a view: the population is left alone
    assert genomes.weights[4, 0] == 12


def test_crossover_takes_every_gene_from_one_parent_by_a_fair_coin() -> None:
    rng = np.random.default_rng(0)
    a = Pixels(rng.integers(0, 256, (200, 784), dtype=np.uint8))
    b = Pixels(rng.integers(0, 256, (200, 784), dtype=np.uint8))
    child = Direct().crossover(a, b, rng).genes
    assert child.shape == (200, 784) and child.dtype == np.uint8
    from_a, from_b = child == a.genes, child == b.genes
    assert np.all(from_a | from_b)
    only_a = from_a & ~from_b  # where the parents differ: whose gene it is
    share = only_a.sum() / (from_a ^ from_b).sum()
    assert abs(share - 0.5) < 0.01  # 156,000 coins: sd 0.0013


def test_mutation_redraws_genes_from_the_source_at_the_rate() -> None:
    class PixelIndex:
        """A source whose gene for pixel i is 1 + i % 255: never 0, and says where."""

        def genes(self, rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
            return (1 + np.asarray(pixels) % 255).astype(np.uint8)

    rate = 0.05
    mutated = Direct(rate, source=PixelIndex()).mutate(
        Pixels(np.zeros((300, 784), dtype=np.uint8)), np.random.default_rng(1)).genes
    changed = mutated != 0
    # binomial(235,200, 0.05) draws, 2.5% of them landing twice: share 0.0494, sd 0.0005
    assert abs(changed.mean() - rate * (1 - rate / 2)) < 0.002
    rows, pixels = np.nonzero(changed)
    assert np.all(mutated[rows, pixels] == 1 + pixels % 255)  # the source asked per pixel
    assert np.all(np.bincount(rows, minlength=300) < 80)  # spread over the rows


def test_coin_flips_are_fair_and_independent() -> None:
    from fooldigits.lessons.encodings import coin_flips

    coins = coin_flips(np.random.default_rng(0), (500, 784))
    assert coins.dtype == bool and coins.shape == (500, 784)
    assert abs(coins.mean() - 0.5) < 0.005  # 392,000 coins: sd 0.0008
    # neighbours (bits of one byte, and of the next) agree half the time
    assert abs(np.mean(coins[:, 1:] == coins[:, :-1]) - 0.5) < 0.005
    assert abs(np.mean(coins[:, 8:] == coins[:, :-8]) - 0.5) < 0.005


def test_ink_noise_is_a_black_page_with_a_fifth_of_it_inked() -> None:
    genes = InkNoise().genes(np.random.default_rng(0), np.zeros((500, 784), dtype=np.int64))
    assert genes.dtype == np.uint8
    assert abs(np.mean(genes > 0) - 0.19) < 0.005
    assert abs(genes[genes > 0].mean() - 128) < 2  # ink: a uniform grey 1..255


def test_elites_are_the_best_and_survive_unchanged(small_net: Network) -> None:
    """Run the GA by hand two generations: the best image of a generation must be in
    the next one, bit for bit (elite), whatever mutation does to the children."""
    config = GAConfig(population=10, elite=2, parents=4, mutation_rate=0.5,
                      target=0.99999999, max_generations=3, slots=1)
    seen = [e for e in evolve(small_net, 3, 1, config, np.random.default_rng(2))
            if isinstance(e, Generation)]
    confidences = [e.best_confidence for e in seen]
    assert confidences == sorted(confidences)  # elitism: the best never gets worse
    assert len(seen) == 4  # generations 0..3



@pytest.mark.parametrize("encoding", ["direct", "cppn"])
def test_no_elites_is_a_valid_setting_every_child_is_new(small_net: Network,
                                                           encoding: str) -> None:
    """elite=0 is allowed (the elites are 0 to population - 1): `fool --elite 0` ended in
    a reshape traceback when the elites' index array had no columns."""
    from fooldigits.lessons.cppn import CPPN

    config = GAConfig(population=10, elite=0, parents=4, target=0.99999999,
                      max_generations=3, slots=2)
    chosen = CPPN() if encoding == "cppn" else Direct()
    result = result_of(evolve(small_net, 3, 3, config, np.random.default_rng(2),
                              encoding=chosen))
    assert result.images.shape == (3, 784) and np.all(result.generations == 3)


def test_each_generation_shows_the_image_its_confidence_belongs_to(shipped: Network) -> None:
    """The best images are kept from the judged batches, not decoded again: the image
    shown live at every generation, and every run's result, must be the image whose
    confidence is reported, with runs ending at different times, their slots refilled
    and then closed (the slots' arrays shrink), over several seeds. (Not shrinking the
    kept images with the slots shows a wrong image at seed 5.)"""
    config = GAConfig(population=12, elite=2, parents=4, target=0.99, max_generations=15,
                      slots=4)
    for seed in range(6):
        events, result = events_and_result(evolve(shipped, 3, 7, config,
                                                  np.random.default_rng(seed)))
        shown = [e for e in events if isinstance(e, Generation)]
        images = np.array([e.best_image for e in shown])  # as they are now, at the end
        np.testing.assert_allclose(shipped.probabilities(images)[:, 3],
                                   [e.best_confidence for e in shown], rtol=1e-5)
        np.testing.assert_allclose(shipped.probabilities(result.images)[:, 3],
                                   result.confidences, rtol=1e-5)


def test_only_new_genomes_are_judged_and_the_record_is_the_network_s(
        small_net: Network, small_train: tuple[np.ndarray, np.ndarray]) -> None:
    """An elite keeps the scores it had: a run of g generations sends population +
    g * (population - elite) images through the network, and the images, confidences
    and penalties it reports are what the network and the prior say of them now."""
    from fooldigits.lessons.stats import LocalPrior

    class Counting(Network):
        """The same network, counting the images it is asked about."""

        seen = 0

        def probabilities(self, x: np.ndarray) -> np.ndarray:
            Counting.seen += len(x)
            return super().probabilities(x)

    net = Counting.from_arrays(small_net.arrays(), {})
    prior = LocalPrior(small_train[0][small_train[1] == 5][:50])
    config = GAConfig(population=20, elite=3, parents=6, target=0.999, min_generations=4,
                      max_generations=12, slots=2)
    result = result_of(evolve(net, 5, 3, config, np.random.default_rng(4), prior=prior))
    judged = Counting.seen
    assert judged == int((20 + result.generations * (20 - 3)).sum())
    np.testing.assert_allclose(net.probabilities(result.images)[:, 5], result.confidences,
                               rtol=1e-5)
    np.testing.assert_allclose(prior.penalty(result.images), result.penalties, rtol=1e-5)


class Grey:
    """A toy encoding: a genome is one grey level and a row of 784 pixel weights; its
    image is their product (a test that evolve needs nothing but the protocol)."""

    name = "grey"

    @dataclass
    class Genomes:
        level: np.ndarray  # (n,)
        pattern: np.ndarray  # (n, 784)

    def first(self, rng: np.random.Generator, n: int) -> Grey.Genomes:
        return Grey.Genomes(rng.random(n), rng.random((n, 784)))

    def decode(self, genomes: Grey.Genomes) -> np.ndarray:
        return np.asarray(genomes.level[:, None] * genomes.pattern, dtype=np.float32)

    def crossover(self, a: Grey.Genomes, b: Grey.Genomes,
                  rng: np.random.Generator) -> Grey.Genomes:
        return Grey.Genomes(a.level.copy(), np.where(rng.random(a.pattern.shape) < 0.5,
                                                     a.pattern, b.pattern))

    def mutate(self, genomes: Grey.Genomes, rng: np.random.Generator) -> Grey.Genomes:
        level = np.clip(genomes.level + rng.normal(0, 0.05, len(genomes.level)), 0, 1)
        return Grey.Genomes(level, genomes.pattern)


def test_evolve_runs_any_encoding_of_the_protocol(small_net: Network) -> None:
    config = GAConfig(population=12, parents=4, target=0.9, max_generations=30, slots=2)
    result = result_of(evolve(small_net, 4, 3, config, np.random.default_rng(0),
                               encoding=Grey()))
    assert isinstance(result, FoolResult) and result.images.shape == (3, 784)
    np.testing.assert_allclose(small_net.probabilities(result.images)[:, 4],
                               result.confidences, rtol=1e-5)
    with pytest.raises(FoolDigitsError, match="direct encoding"):
        next(evolve(small_net, 4, 1, config, np.random.default_rng(0), encoding=Grey(),
                    start=np.zeros(784)))


def test_the_same_seed_gives_the_same_generations_and_images(small_net: Network) -> None:
    config = GAConfig(target=0.95, max_generations=40, slots=2)
    runs = [result_of(evolve(small_net, 6, 3, config, np.random.default_rng(seed)))
            for seed in (7, 7, 8)]
    assert np.array_equal(runs[0].images, runs[1].images)
    assert np.array_equal(runs[0].generations, runs[1].generations)
    assert not np.array_equal(runs[0].images, runs[2].images)


def test_pick_equals_np_where_for_every_pair_of_bytes() -> None:
    """The crossover's arithmetic select (the GA's one speed trick) against the plain
    `np.where`, for all 256 x 256 pairs of genes and both coins."""
    from fooldigits.lessons.encodings import pick

    a, b = (g.astype(np.uint8) for g in np.meshgrid(np.arange(256), np.arange(256)))
    for coin in (False, True):
        coins = np.full(a.shape, coin)
        assert np.array_equal(pick(coins, a, b), np.where(coins, a, b))
    coins = np.random.default_rng(0).integers(0, 2, a.shape, dtype=bool)
    picked = pick(coins, a, b)
    assert picked.dtype == np.uint8 and np.array_equal(picked, np.where(coins, a, b))
