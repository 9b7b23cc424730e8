"""The bench's references compute what they claim, and its table's verdicts and exit code."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from fooldigits import bench
from fooldigits.bench import Check, Context, Paired, Ratio, references
from fooldigits.bench.__main__ import THREAD_VARIABLES, main
from fooldigits.core.data import BUNDLED_DIR, load_mnist
from fooldigits.models.network import Network


def test_bare_mnist_reads_the_same_numbers_as_load_mnist() -> None:
    data = load_mnist()
    images, labels, test_images, test_labels = references.bare_mnist(BUNDLED_DIR)
    assert np.array_equal(images[:50_000], data.train_images)
    assert np.array_equal(labels[50_000:], data.validation_labels)
    assert np.array_equal(test_images, data.test_images)
    assert np.array_equal(test_labels, data.test_labels)


def test_bare_training_learns(small_train: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = small_train
    w0, b0, w1, b1 = references.bare_training(x, y, 5, 0.5, 10, np.random.default_rng(0))
    net = Network([784, 100, 10], rng=np.random.default_rng(0))
    net.w, net.b = [w0, w1], [b0, b1]
    data = load_mnist()
    assert net.accuracy(data.test_images[:1000], data.test_labels[:1000]) > 0.8


def test_bare_training_counts_what_the_network_gets_right(
        small_train: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]) -> None:
    """The bare loop's per-epoch count (the work `fooldigits train` does after each epoch)
    is the project's own accuracy of the same weights."""
    x, y = small_train
    data = load_mnist()
    sets = ((data.validation_images[:500], data.validation_labels[:500]),
            (data.test_images[:700], data.test_labels[:700]))
    w0, b0, w1, b1 = references.bare_training(x, y, 2, 0.5, 10, np.random.default_rng(0),
                                              sets)
    net = Network([784, 100, 10], rng=np.random.default_rng(0))
    net.w, net.b = [w0, w1], [b0, b1]
    last = capsys.readouterr().out.splitlines()[-2:]  # the second epoch's two counts
    assert last == [f"{round(net.accuracy(*s) * len(s[1]))} / {len(s[1])}" for s in sets]


def test_pairs_alternate_which_side_runs_first_and_the_row_is_the_median_pair() -> None:
    order: list[str] = []

    def timer(side: str, seconds: float) -> Callable[[], float]:
        def run() -> float:
            order.append(side)
            return seconds
        return run

    pairs = [(timer("p", p), timer("r", r)) for p, r in ((3.0, 5.0), (2.0, 6.0), (4.0, 1.0))]
    timed = Context.pairs(pairs)
    assert order == ["p", "r", "r", "p", "p", "r"]
    assert (timed.project, timed.reference) == ([3.0, 2.0, 4.0], [5.0, 6.0, 1.0])
    row = timed.row("x", goal=1.0)  # pair ratios 0.6, 0.33, 4.0: the median is 0.6
    assert (row.project, row.reference, row.ratio, row.met) == (3.0, 5.0, 0.6, True)
    assert row.pairs == (0.6, 2.0 / 6.0, 4.0)
    assert row.cells()[3:5] == ["0.60", "0.33-4.00"]
    # one pair is its own median; an even count takes the upper middle, the slower
    assert Paired([3.0], [2.0]).row("x", 1.5).ratio == 1.5
    assert Paired([1.0, 3.0], [1.0, 1.0]).row("x", 1.5).ratio == 3.0


def test_the_floor_runs_the_networks_own_forward_pass(shipped: Network) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((7, 784), dtype=np.float32)
    first = references.forward_floor(shipped.w, shipped.b, 7, 7, np.random.default_rng(0))
    assert first == pytest.approx(float(shipped.probabilities(x)[0, 0]), rel=1e-5)


def test_ratios_and_verdicts() -> None:
    assert Ratio("x", 3.0, 2.0, goal=1.5).met and Ratio("x", 3.0, 2.0, goal=1.5).ratio == 1.5
    assert not Ratio("x", 3.1, 2.0, goal=1.5).met
    assert not Ratio("x", 1.0, 0.0, goal=1.5).met  # a reference of no time meets nothing


@pytest.mark.parametrize(("met", "args", "status"), [
    (True, ["--strict"], 0), (False, [], 0), (False, ["--strict"], 1)])
def test_a_missed_goal_fails_only_with_strict(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str], met: bool,
                                              args: list[str], status: int) -> None:
    def one_row(ctx: Context) -> Iterator[Check]:
        yield Check("a goal", "measured", "the goal", met)

    for name in THREAD_VARIABLES:  # as set already, so that main() need not start again
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "0")  # (main() would set it for good)
    monkeypatch.setattr(bench, "ROWS", [("section", one_row)])
    monkeypatch.setattr(bench, "ROW_MODULES", ())
    assert main(["--quick", *args]) == status
    out = capsys.readouterr().out
    assert out.count("a goal") == 2 if not met else out.count("a goal") == 1  # row + summary
    assert ("missed" in out) != met
