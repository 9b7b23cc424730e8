"""CPPN genomes: decoding against formulas worked by hand, NEAT's mutations, seeds."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.lessons import cppn
from fooldigits.lessons.cppn import (
    ABSOLUTE,
    CLIP,
    CPPN,
    FUNCTIONS,
    GAUSSIAN,
    IDENTITY,
    INPUTS,
    SIGMOID,
    SINE,
    W_MAX,
    Genomes,
    neighbour_correlation,
)
from fooldigits.lessons.evolve import GAConfig, evolve
from fooldigits.models.network import Network
from tests.conftest import result_of

X, Y, D, BIAS = range(INPUTS)
axis = np.linspace(-1, 1, 28)
GY, GX = np.meshgrid(axis, axis, indexing="ij")  # (28, 28): row, column
x, y = GX.ravel(), GY.ravel()  # (784,) each, float64
d = np.sqrt(x**2 + y**2)


def sigmoid(z: np.ndarray) -> np.ndarray:
    s: np.ndarray = 1 / (1 + np.exp(-z))
    return s


BY_HAND: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    IDENTITY: lambda z: np.clip(z, -CLIP, CLIP), SINE: np.sin,
    GAUSSIAN: lambda z: np.exp(-z * z), SIGMOID: sigmoid,
    ABSOLUTE: lambda z: np.minimum(np.abs(z), CLIP)}


def blank(n: int = 1, hidden: int = 2) -> Genomes:
    """n genomes with no connection at all: every image is sigmoid(0) = 0.5."""
    N = INPUTS + hidden + 1
    active = np.zeros((n, N), dtype=bool)
    active[:, :INPUTS] = active[:, -1] = True
    return Genomes(np.zeros((n, N, N), np.float32), np.zeros((n, N, N), bool),
                   np.zeros((n, N), np.int8), active)


def connect(g: Genomes, i: int, j: int, weight: float, row: int = 0) -> None:
    g.w[row, i, j], g.enabled[row, i, j] = weight, True


def node(g: Genomes, k: int, function: int, row: int = 0) -> None:
    g.active[row, k], g.fn[row, k] = True, function


def reference(g: Genomes) -> np.ndarray:
    """The definition, one genome and one node at a time in index order, in float64."""
    n, N = g.fn.shape
    out = np.zeros((n, 784))
    for r in range(n):
        v = np.zeros((N, 784))
        v[:INPUTS] = np.stack([x, y, d, np.ones(784)])
        active = g.active[r].copy()
        active[:INPUTS] = active[-1] = True
        for j in range(INPUTS, N):
            if active[j]:
                z = sum((np.clip(g.w[r, i, j], -W_MAX, W_MAX) * v[i] for i in range(j)
                         if g.enabled[r, i, j] and active[i]), np.zeros(784))
                v[j] = sigmoid(z) if j == N - 1 else BY_HAND[int(g.fn[r, j])](z)
        out[r] = v[-1]
    return out


def test_a_genome_decodes_to_the_formula_worked_by_hand() -> None:
    g = blank(hidden=2)  # nodes 4, 5 hidden, 6 the output
    node(g, 4, SINE)
    node(g, 5, GAUSSIAN)
    connect(g, X, 4, 3.0)
    connect(g, 4, 5, 2.0)
    connect(g, D, 5, -1.0)
    connect(g, 4, 6, 1.5)
    connect(g, 5, 6, -2.0)
    connect(g, BIAS, 6, 0.5)
    h4 = np.sin(3 * x)
    h5 = np.exp(-(2 * h4 - d) ** 2)
    expected = sigmoid(1.5 * h4 - 2 * h5 + 0.5)
    image = CPPN(hidden=2).decode(g)
    assert image.shape == (1, 784) and image.dtype == np.float32
    np.testing.assert_allclose(image[0], expected, atol=2e-6)


@pytest.mark.parametrize("function", range(len(FUNCTIONS)))
def test_each_function_is_what_its_table_says(function: int) -> None:
    g = blank(hidden=1)
    node(g, 4, function)
    connect(g, X, 4, 2.5)
    connect(g, Y, 4, -1.0)
    connect(g, 4, 5, 1.7)
    expected = sigmoid(1.7 * BY_HAND[function](2.5 * x - y))
    np.testing.assert_allclose(CPPN(hidden=1).decode(g)[0], expected, atol=2e-6)


def test_no_connection_paints_grey_and_inputs_alone_paint_a_ramp() -> None:
    g = blank(2, hidden=0)
    connect(g, Y, 4, 4.0, row=1)
    image = CPPN(hidden=0).decode(g)
    np.testing.assert_allclose(image[0], 0.5)
    np.testing.assert_allclose(image[1], sigmoid(4 * y), atol=2e-6)  # dark top, light bottom


def test_only_forward_connections_between_existing_nodes_count() -> None:
    g = blank(hidden=3)  # hidden 4, 5, 6; output 7
    node(g, 4, SINE)
    node(g, 5, ABSOLUTE)
    connect(g, X, 4, 2.0)
    connect(g, 4, 5, 1.0)
    connect(g, 5, 7, 3.0)
    want = CPPN(hidden=3).decode(g)
    connect(g, 5, 4, 9.0)  # backward: would make a cycle 4 -> 5 -> 4
    connect(g, 4, 4, 9.0)  # a loop
    connect(g, 7, 5, 9.0)  # out of the output, backward
    connect(g, 4, Y, 9.0)  # into an input
    connect(g, 6, 7, 9.0)  # from node 6, which does not exist
    g.w[0, X, 5] = 5.0  # a weight without its connection
    assert np.array_equal(CPPN(hidden=3).decode(g), want)
    np.testing.assert_allclose(want[0], sigmoid(3 * np.abs(np.sin(2 * x))), atol=2e-6)


def test_a_node_feeding_a_later_one_is_computed_first() -> None:
    """Index order decides: 4 -> 6 -> 5 is impossible, 4 -> 5 -> 6 chains three deep."""
    g = blank(hidden=3)
    for k, f in ((4, SINE), (5, GAUSSIAN), (6, SINE)):
        node(g, k, f)
    connect(g, X, 4, 3.0)
    connect(g, 4, 5, 1.0)
    connect(g, 5, 6, 2.0)
    connect(g, 6, 7, 2.0)
    connect(g, 4, 7, -1.0)
    expected = sigmoid(2 * np.sin(2 * np.exp(-np.sin(3 * x) ** 2)) - np.sin(3 * x))
    np.testing.assert_allclose(CPPN(hidden=3).decode(g)[0], expected, atol=2e-6)


def evolved(seed: int, n: int = 60, generations: int = 40, **rates: float) -> Genomes:
    encoding = CPPN(**rates)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    g = encoding.first(rng, n)
    for _ in range(generations):
        g = encoding.mutate(g, rng)
    return g


def test_batched_decode_equals_node_by_node_in_index_order() -> None:
    g = evolved(1, add_node=0.3, add_connection=0.4, change_function=0.3)
    assert g.active[:, INPUTS:-1].sum(axis=1).max() >= 6  # deep, varied genomes
    np.testing.assert_allclose(CPPN().decode(g), reference(g), atol=1e-4)


@pytest.mark.parametrize("block", [1, 7, 400])
def test_painting_in_stages_equals_painting_each_genome_alone(
        block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """`decode` paints stage by stage (a depth of a block of genomes at once): a slice of
    connections into every row of its stage is added in place (`z += terms`), one into
    some rows through its targets (`z[dst] += terms`); breaking either fails this test,
    for blocks of 1, 7 and 400 genomes. Whatever the blocks: the reference painter."""
    g = evolved(4, n=40, generations=30, add_node=0.3, add_connection=0.4,
                change_function=0.3)
    hidden_in = g.enabled[:, INPUTS:, :] & g.active[:, INPUTS:, None]  # from hidden nodes
    assert hidden_in.sum(axis=1).max() >= 3  # some node has several hidden inputs
    monkeypatch.setattr(cppn, "BLOCK", block)
    np.testing.assert_allclose(CPPN().decode(g), reference(g), atol=1e-4)


def test_mutations_keep_every_invariant() -> None:
    encoding = CPPN(add_node=0.5, add_connection=0.5, change_function=0.5)
    rng = np.random.default_rng(3)
    g = encoding.first(rng, 50)
    N = encoding.nodes
    i, j = np.indices((N, N))
    forward = (i < j) & (j >= INPUTS)
    before = g
    for _ in range(60):
        g = encoding.mutate(g, rng)
        assert not np.any(g.enabled & ~forward)  # no backward edge, none into an input
        assert not np.any(g.enabled & ~g.active[:, :, None])  # from existing nodes ...
        assert not np.any(g.enabled & ~g.active[:, None, :])  # ... to existing nodes
        assert g.active[:, :INPUTS].all() and g.active[:, -1].all()
        hidden = g.fn[:, INPUTS:-1][g.active[:, INPUTS:-1]]
        assert hidden.min() >= 0 and hidden.max() < len(FUNCTIONS)
        assert np.all(g.fn[:, -1] == SIGMOID)
        assert np.abs(g.w).max() <= W_MAX
        assert g.w.shape == (50, N, N) and g.fn.dtype == np.int8
    assert np.array_equal(before.w, encoding.first(np.random.default_rng(3), 50).w)  # no
    # mutation wrote into its input; and every kind happened, up to the bound on nodes
    assert g.active[:, INPUTS:-1].sum(axis=1).max() == encoding.hidden
    assert g.enabled.sum(axis=(1, 2)).min() > INPUTS
    assert len(np.unique(g.fn[:, INPUTS:-1][g.active[:, INPUTS:-1]])) == len(FUNCTIONS)


def test_adding_a_node_splits_a_connection() -> None:
    encoding = CPPN(weight_rate=0, add_node=1, add_connection=0, change_function=0)
    rng = np.random.default_rng(0)
    g = encoding.first(rng, 20)
    child = encoding.mutate(g, rng)
    for r in range(20):
        (k,) = np.flatnonzero(child.active[r, INPUTS:-1]) + INPUTS
        (i,) = np.flatnonzero(child.enabled[r, :, k])
        (j,) = np.flatnonzero(child.enabled[r, k])
        assert i < k < j and g.enabled[r, i, j] and not child.enabled[r, i, j]
        assert child.w[r, i, k] == 1 and child.w[r, k, j] == g.w[r, i, j]


def test_the_same_seed_gives_the_same_genomes_and_images() -> None:
    a, b, c = evolved(7, 30, 20), evolved(7, 30, 20), evolved(8, 30, 20)
    for name in ("w", "enabled", "fn", "active"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert np.array_equal(CPPN().decode(a), CPPN().decode(b))
    assert not np.array_equal(CPPN().decode(a), CPPN().decode(c))


def test_extreme_weights_still_give_finite_images_in_range() -> None:
    g = blank(4, hidden=cppn.HIDDEN)
    N = g.fn.shape[1]
    i, j = np.indices((N, N))
    g.enabled[:] = (i < j) & (j >= INPUTS)  # every forward connection ...
    g.active[:] = True  # ... between every node
    g.fn[:, INPUTS:-1] = [[IDENTITY], [ABSOLUTE], [SINE], [GAUSSIAN]]  # chains of one kind
    g.w[0], g.w[1], g.w[2] = 1e30, -np.inf, W_MAX
    g.w[3] = np.nan
    g.w[3, ::2] = 1e30
    image = CPPN().decode(g)
    assert np.all(np.isfinite(image)) and image.min() >= 0 and image.max() <= 1


def test_crossover_is_left_out_the_child_is_a_copy_of_the_first_parent() -> None:
    encoding = CPPN()
    rng = np.random.default_rng(0)
    a, b = encoding.first(rng, 5), encoding.first(rng, 5)
    child = encoding.crossover(a, b, rng)
    assert np.array_equal(child.w, a.w) and child.w is not a.w
    child.w[:] = 0
    assert np.any(a.w != 0)


def test_bad_genomes_and_settings_are_refused() -> None:
    g = blank(hidden=1)
    node(g, 4, SINE)
    g.fn[0, 4] = len(FUNCTIONS)
    with pytest.raises(FoolDigitsError, match="functions"):
        CPPN(hidden=1).decode(g)
    with pytest.raises(FoolDigitsError, match="need w and enabled"):
        CPPN().decode(Genomes(np.zeros((1, 5, 4)), np.zeros((1, 5, 5), bool),
                              np.zeros((1, 5), np.int8), np.ones((1, 5), bool)))
    with pytest.raises(FoolDigitsError, match="rates"):
        CPPN(add_node=1.5)


def test_neighbour_correlation_tells_patterns_from_noise() -> None:
    noise = np.random.default_rng(0).random((50, 784))
    assert abs(float(neighbour_correlation(noise).mean())) < 0.05
    ramp = np.tile(np.linspace(0, 1, 28), 28)[None]  # (1, 784): light to the right
    assert neighbour_correlation(ramp)[0] > 0.9
    assert neighbour_correlation(np.full((1, 784), 0.3))[0] == 1.0
    checker = (np.indices((28, 28)).sum(axis=0) % 2).reshape(1, 784)
    assert neighbour_correlation(checker)[0] == pytest.approx(-1)


def test_decoding_a_population_in_blocks_changes_nothing(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    g = evolved(2, n=25, generations=15)
    whole = CPPN().decode(g)
    monkeypatch.setattr(cppn, "BLOCK", 7)
    assert np.array_equal(CPPN().decode(g), whole)


def test_the_ga_evolves_cppn_genomes_the_network_trusts(small_net: Network) -> None:
    config = GAConfig(target=0.99, max_generations=300)
    painted = result_of(evolve(small_net, 3, 4, config, np.random.default_rng(0), CPPN()))
    noise = result_of(evolve(small_net, 3, 4, config, np.random.default_rng(0)))
    assert painted.reached.all() and painted.images.shape == (4, 784)
    p = small_net.probabilities(painted.images)[:, 3]
    np.testing.assert_allclose(p, painted.confidences, rtol=1e-6)
    assert neighbour_correlation(painted.images).min() > 0.5
    assert neighbour_correlation(painted.images).min() > neighbour_correlation(
        noise.images).max() + 0.3
