"""FGSM and PGD on real digits: the ball they stay in, the gradient they use, what they
do to a small trained network, and adversarial training on a slice."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.lessons import adversarial
from fooldigits.lessons.training import EpochDone, SGDConfig, sgd
from fooldigits.models import DEFAULT_MODEL
from fooldigits.models.base import one_hot
from fooldigits.models.network import Network
from tests.conftest import load_dense


@pytest.fixture(scope="module")
def digits(mnist: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """300 test digits and their labels."""
    return mnist.test_images[:300], mnist.test_labels[:300]


@pytest.mark.parametrize("method", adversarial.METHODS)
@pytest.mark.parametrize("epsilon", [0.0, 0.03, 0.1, 0.3])
@pytest.mark.parametrize("target", [None, 3])
def test_attacks_stay_in_the_ball_and_in_pixels(small_net: Network, digits: tuple[np.ndarray,
                                                np.ndarray], method: str, epsilon: float,
                                                target: int | None) -> None:
    x, labels = digits
    if target is not None:
        x, labels = x[labels != target], labels[labels != target]
    adv = adversarial.attack(small_net, x, labels, epsilon, method, steps=7, target=target)
    assert adv.shape == x.shape and adv.dtype == np.float32
    assert np.abs(adv - x).max() <= epsilon + 1e-6
    assert adv.min() >= 0 and adv.max() <= 1
    if epsilon:  # it moved: most pixels of a digit can move one way or the other
        assert np.mean(adv != x) > 0.3


def test_fgsm_is_one_signed_step_of_the_checked_input_gradient(small_net: Network,
                                                                digits: tuple[np.ndarray,
                                                                              np.ndarray]) -> None:
    x, labels = digits
    up = np.clip(x + 0.1 * np.sign(small_net.input_gradient(x, labels)), 0, 1)
    assert np.allclose(adversarial.fgsm(small_net, x, labels, 0.1), up, atol=1e-6)
    x, labels = x[labels != 5], labels[labels != 5]
    down = np.clip(x - 0.1 * np.sign(small_net.input_gradient(x, np.full(len(x), 5))), 0, 1)
    assert np.allclose(adversarial.fgsm(small_net, x, labels, 0.1, target=5), down, atol=1e-6)


def test_targeted_input_gradient_of_an_11_class_net_matches_finite_differences() -> None:
    """The gradient of the cost against any target, also class 10, is the true dC/dx."""
    rng = np.random.default_rng(5)
    net = Network([784, 8, 11], rng=rng)
    net.w = [w.astype(np.float64) for w in net.w]
    net.b = [b.astype(np.float64) for b in net.b]
    x, targets = rng.random((3, 784)), np.array([3, 10, 0])
    grad = net.input_gradient(x, targets)
    h = 1e-6
    for row in range(3):
        y = one_hot(targets[row : row + 1], np.float64, 11)
        for pixel in rng.choice(784, 8, replace=False):
            xp, xm = x[row : row + 1].copy(), x[row : row + 1].copy()
            xp[0, pixel] += h
            xm[0, pixel] -= h
            numeric = (net.total_cost(xp, y) - net.total_cost(xm, y)) / (2 * h)
            assert grad[row, pixel] == pytest.approx(numeric, rel=1e-4, abs=1e-8)


@pytest.mark.parametrize("epsilon", [0.05, 0.1, 0.2])
def test_pgd_is_never_weaker_than_fgsm(small_net: Network,
                                       digits: tuple[np.ndarray, np.ndarray],
                                       epsilon: float) -> None:
    x, labels = digits
    fgsm = small_net.accuracy(adversarial.fgsm(small_net, x, labels, epsilon), labels)
    pgd = small_net.accuracy(adversarial.pgd(small_net, x, labels, epsilon), labels)
    clean = small_net.accuracy(x, labels)
    assert pgd <= fgsm < clean


def test_targeted_pgd_makes_sevens_read_as_threes(small_net: Network, mnist: Dataset) -> None:
    sevens = mnist.test_images[:2000][mnist.test_labels[:2000] == 7][:40]
    labels = np.full(len(sevens), 7)
    adv = adversarial.pgd(small_net, sevens, labels, 0.25, target=3)
    assert np.mean(small_net.predict(adv) == 3) >= 0.9
    flips = adversarial.smallest_epsilon(small_net, sevens, labels, target=3, halvings=8)
    assert flips.flipped.mean() >= 0.9
    assert np.all(flips.answers[flips.flipped] == 3)
    assert np.all(np.abs(flips.images - sevens).max(axis=1) <= flips.epsilon + 1e-6)
    # just below the edge the target is not reached (bisection keeps the last miss as lo)
    lower = np.maximum(flips.epsilon - 1 / 2**8, 0)
    ok = flips.flipped & (flips.epsilon > 0)
    below = adversarial.pgd(small_net, sevens[ok], labels[ok], lower[ok].astype(np.float32),
                            target=3)
    assert np.mean(small_net.predict(below) == 3) < 0.5


def test_smallest_epsilon_untargeted_is_zero_for_digits_already_misread(
        small_net: Network, digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, labels = digits
    flips = adversarial.smallest_epsilon(small_net, x, labels, method="fgsm", halvings=6)
    wrong = small_net.predict(x) != labels
    assert np.all(flips.epsilon[wrong] == 0) and np.all(flips.epsilon[~wrong] > 0)
    assert np.all(flips.answers[flips.flipped] != labels[flips.flipped])
    assert np.median(flips.epsilon[~wrong]) < 0.2  # a small change flips a typical digit


def test_attack_table_starts_clean_and_falls(small_net: Network,
                                             digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, labels = digits
    rows = list(adversarial.attack_table(small_net, x, labels, steps=10))
    assert [(r.method, r.epsilon) for r in rows] == [
        (m, e) for m in adversarial.METHODS for e in adversarial.EPSILONS]
    pgd = [r for r in rows if r.method == "pgd"]
    assert pgd[0].accuracy == pytest.approx(small_net.accuracy(x, labels))
    assert all(a.accuracy >= b.accuracy for a, b in itertools.pairwise(pgd))
    assert pgd[-1].accuracy < 0.05 and pgd[-1].wrong_confidence is not None
    assert pgd[-1].wrong_confidence > 0.5  # wrong, and sure of it


def test_attack_table_one_pgd_run_starts_from_the_digit(small_net: Network, digits: tuple[
        np.ndarray, np.ndarray]) -> None:
    """One run is the same for every seed, and the tutor's (no rng): the docs' PGD-40
    numbers name no seed. Restarts do draw from the generator."""
    x, labels = digits

    def table(rng: np.random.Generator | None, restarts: int) -> list[float]:
        return [r.accuracy for r in adversarial.attack_table(
            small_net, x, labels, [0.1], ["pgd"], 10, restarts=restarts, rng=rng)]
    one = table(None, 1)
    assert table(np.random.default_rng(0), 1) == one == table(np.random.default_rng(1), 1)
    assert table(np.random.default_rng(0), 3)[0] <= one[0]  # never weaker than one run


def test_examples_and_transfer(small_net: Network, small_train: tuple[np.ndarray, np.ndarray],
                               digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, labels = digits
    shown = adversarial.examples(small_net, x[:5], labels[:5], 0.2, "fgsm")
    assert np.allclose(shown.originals + shown.perturbations, shown.adversarial)
    assert np.abs(shown.perturbations).max() <= 0.2 + 1e-6
    assert np.all(shown.after == small_net.predict(shown.adversarial))
    rng = np.random.default_rng(7)
    other = Network([784, 20, 10], rng=rng)
    for _ in sgd(other, *small_train, SGDConfig(epochs=5, eta=0.1, lmbda=1.0, momentum=0.5), rng):
        pass
    matrix = adversarial.transfer_matrix([small_net, other], x, labels, 0.1)
    assert matrix.shape == (2, 2)
    for j in range(2):  # the white-box attack on a network beats the one made elsewhere
        assert matrix[j, j] < matrix[1 - j, j]


def test_adversarial_training_raises_attacked_accuracy(small_train: tuple[np.ndarray,
                                                       np.ndarray], mnist: Dataset) -> None:
    test = mnist.test_images[:500], mnist.test_labels[:500]
    accuracy = {}
    for epsilon in (0.0, 0.1):
        rng = np.random.default_rng(2)
        net = Network([784, 30, 10], rng=rng)
        config = SGDConfig(epochs=5, batch_size=20, eta=0.1, lmbda=1.0, momentum=0.9,
                           adversarial=epsilon)
        events = [e for e in sgd(net, *small_train, config, rng, test=test)
                  if isinstance(e, EpochDone)]
        last = events[-1].attacked_accuracy
        assert (last is None) == (epsilon == 0)
        accuracy[epsilon] = net.accuracy(adversarial.pgd(net, *test, 0.1), test[1])
        if last is not None:
            assert last == pytest.approx(accuracy[epsilon])
            assert events[-1].test_accuracy is not None and events[-1].test_accuracy > 0.8
    assert accuracy[0.1] > accuracy[0.0] + 0.15


def test_pgd_training_runs_and_helps_too(small_train: tuple[np.ndarray, np.ndarray],
                                         mnist: Dataset) -> None:
    x, labels = small_train[0][:600], small_train[1][:600]
    test = mnist.test_images[:300], mnist.test_labels[:300]
    rng = np.random.default_rng(3)
    net = Network([784, 20, 10], rng=rng)
    config = SGDConfig(epochs=6, batch_size=20, eta=0.1, lmbda=1.0, momentum=0.9,
                       adversarial=0.1, attack="pgd")
    last = [e for e in sgd(net, x, labels, config, rng, validation=test)][-1]
    assert isinstance(last, EpochDone) and last.attacked_accuracy is not None
    assert last.attacked_accuracy > 0.3


@pytest.mark.parametrize("epsilon", [-0.1, float("nan"), 1.5, float("inf")])
def test_bad_epsilons_are_one_sentence(small_net: Network, digits: tuple[np.ndarray,
                                       np.ndarray], epsilon: object) -> None:
    x, labels = digits
    for call in (lambda: adversarial.fgsm(small_net, x, labels, epsilon),  # type: ignore[arg-type]
                 lambda: adversarial.pgd(small_net, x, labels, epsilon),  # type: ignore[arg-type]
                 lambda: list(adversarial.attack_table(small_net, x, labels, [epsilon])),  # type: ignore[list-item]
                 lambda: SGDConfig(adversarial=epsilon).check()):  # type: ignore[arg-type]
        with pytest.raises(FoolDigitsError, match="epsilon") as err:
            call()
        assert "\n" not in str(err.value)
    with pytest.raises(FoolDigitsError, match="epsilon"):
        adversarial.fgsm(small_net, x, labels, "much")  # type: ignore[arg-type]


@pytest.mark.parametrize(("target", "words"), [(7, "differ"), (10, "0..9"), (-1, "0..9"),
                                               (3.5, "0..9")])
def test_bad_targets(small_net: Network, mnist: Dataset, target: object, words: str) -> None:
    sevens = mnist.test_images[:100][mnist.test_labels[:100] == 7]
    labels = np.full(len(sevens), 7)
    with pytest.raises(FoolDigitsError, match=words):
        adversarial.fgsm(small_net, sevens, labels, 0.1, target=target)  # type: ignore[arg-type]
    with pytest.raises(FoolDigitsError, match=words):
        adversarial.smallest_epsilon(small_net, sevens, labels, target=target)  # type: ignore[arg-type]


def test_other_bad_inputs(small_net: Network, digits: tuple[np.ndarray, np.ndarray]) -> None:
    x, labels = digits
    with pytest.raises(FoolDigitsError, match=r"^method must"):  # a parameter, not a flag
        adversarial.attack(small_net, x, labels, 0.1, "bim")
    with pytest.raises(FoolDigitsError, match=r"^attack must"):
        SGDConfig(adversarial=0.1, attack="bim").check()
    with pytest.raises(FoolDigitsError, match=r"^steps must"):
        adversarial.pgd(small_net, x, labels, 0.1, steps=0)
    with pytest.raises(FoolDigitsError, match="labels"):
        adversarial.fgsm(small_net, x, labels[:-1], 0.1)
    with pytest.raises(FoolDigitsError, match="per-image"):
        adversarial.fgsm(small_net, x, labels, np.full(len(x), 2.0))


def test_the_shipped_robust_model_is_robust_and_says_how_it_was_made(mnist: Dataset,
                                                                      shipped: Network) -> None:
    robust = load_dense(DEFAULT_MODEL.parent / "robust.npz")
    assert "--adversarial 0.1 --attack fgsm" in robust.meta["command"]
    x, labels = mnist.test_images[:1000], mnist.test_labels[:1000]
    assert robust.accuracy(x, labels) > 0.97
    robust_pgd = robust.accuracy(adversarial.pgd(robust, x, labels, 0.1), labels)
    shipped_pgd = shipped.accuracy(adversarial.pgd(shipped, x, labels, 0.1), labels)
    assert robust_pgd > 0.7 and shipped_pgd < 0.3


def test_restarts_are_never_weaker_and_the_margin_loss_is_strong(shipped: Network,
                                                                  mnist: Dataset) -> None:
    """Step 5: per image, N restarts keep the strongest result, so they never leave an
    image right that the single attack got wrong; the margin loss is an attack too."""
    from fooldigits.lessons import adversarial as adv

    x, y = mnist.test_images[:150], mnist.test_labels[:150]
    one = adv.pgd(shipped, x, y, 0.08, steps=10)
    many = adv.pgd(shipped, x, y, 0.08, steps=10, restarts=3, rng=np.random.default_rng(1))
    wrong_one, wrong_many = shipped.predict(one) != y, shipped.predict(many) != y
    assert np.all(wrong_many[wrong_one])  # never weaker, image by image
    assert np.abs(many - x).max() <= 0.08 + 1e-6 and many.min() >= 0 and many.max() <= 1
    margin = adv.pgd(shipped, x, y, 0.08, steps=10, loss="margin")
    assert shipped.accuracy(margin, y) < shipped.accuracy(x, y) - 0.3
    with pytest.raises(FoolDigitsError, match=r"^loss must be one of ce, margin"):
        adv.pgd(shipped, x, y, 0.1, loss="hinge")
    with pytest.raises(FoolDigitsError, match=r"^restarts must be between 1 and 100"):
        adv.pgd(shipped, x, y, 0.1, restarts=0)


def test_the_margin_direction_is_the_sign_of_the_margin_gradient(small_net: Network) -> None:
    """The margin's gradient from two `input_gradient` calls, against finite differences
    of max_{j != y} ln p_j - ln p_y in float64."""
    from fooldigits.lessons.adversarial import _direction, _runner_up

    net = small_net.copy()
    net.w = [w.astype(np.float64) for w in net.w]
    net.b = [b.astype(np.float64) for b in net.b]
    rng = np.random.default_rng(3)
    x, y = rng.random((2, 784)), np.array([3, 8])
    other = _runner_up(net, x, y)

    def margin(images: np.ndarray) -> np.ndarray:
        logp = np.log(net.probabilities(images))
        return np.asarray(logp[[0, 1], other] - logp[[0, 1], y])

    direction = _direction(net, x, y, None, "margin")  # (2, 784) signs
    h = 1e-6
    for pixel in (100, 350, 600):
        bumped = x.copy()
        bumped[:, pixel] += h
        numeric = (margin(bumped) - margin(x)) / h
        for row in (0, 1):
            if abs(numeric[row]) > 1e-6:
                assert direction[row, pixel] == np.sign(numeric[row])
