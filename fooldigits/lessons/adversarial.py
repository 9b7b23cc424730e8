"""Adversarial examples: a change too small for a person to notice flips the network's answer.

What this module teaches
------------------------
Szegedy et al. (2013) found that a real, correctly read digit can be pushed to a wrong
answer by a change nobody would see. Goodfellow, Shlens & Szegedy (2014) explained why
and gave the fast way to do it. Both use the gradient the dream chapter descends,
`Network.input_gradient`, dC/dx of an image's cost against a label, but *climb* it:

1. **FGSM**, the fast gradient sign method: one step of size epsilon along the sign of
   the gradient of the true label's cost, then clip to pixels:
       x_adv = clip(x + epsilon * sign(dC(x, y)/dx), 0, 1)
   Every pixel moves by at most epsilon: the L-infinity distance ||x_adv - x||_inf is
   epsilon. With epsilon 0.1 a pixel changes by a tenth of the way from black to white.
2. **PGD**, projected gradient descent (Madry et al. 2017): `steps` small signed steps
   of size alpha, each projected back into the box
       max(x - epsilon, 0) <= x_adv <= min(x + epsilon, 1)
   (the L-infinity ball of radius epsilon around x, inside [0, 1]). Alpha is
   2.5 * epsilon / steps, Madry's choice: enough to cross the ball, small enough to follow
   the cost as it bends. FGSM is PGD with one step of alpha = epsilon.
3. **Targeted**: to make a '7' read as a '3', *descend* the cost of the target instead:
       x_adv = clip(x - epsilon * sign(dC(x, 3)/dx), 0, 1)
   the same gradient the dream chapter follows, now from a real digit and in a tiny ball.
4. **Smallest epsilon**: per image, bisect epsilon between 0 (not flipped) and an
   epsilon that flips it, ten halvings (1/1024 precision). All images bisect together.
5. **At full strength**: a claim that "the network resists epsilon 0.1" is only as good
   as the strongest attack tried. `pgd(restarts=N)` runs the attack N times, the first
   from the clean image and the others from random points in the ball, and keeps, per
   image, the strongest result (a wrong answer beats a right one; then the wider margin,
   `_strength`), so N restarts are never weaker than one. `loss="margin"` climbs the margin
   (Carlini & Wagner 2017) instead of the cross-entropy:
       margin(x) = max_{j != y} ln p_j(x) - ln p_y(x)
   (with a softmax, ln p_j - ln p_y = z_j - z_y: the logits' margin). Its gradient is
   d(-ln p_y)/dx - d(-ln p_j)/dx, two calls of `input_gradient`. Cross-entropy stops
   pushing once p_y is small; the margin keeps pushing until another class wins.

Worked example, the first test digit on the shipped model (FGSM draws nothing: no seed):

    >>> x, y = data.test_images[:1], data.test_labels[:1]  # (1, 784), [7]; read 7 at 0.99977
    >>> p = net.probabilities(fgsm(net, x, y, 0.1))         # (1, 10)
    >>> p.argmax(), p.max()                                 # (3, 0.99569): now a '3'

Every pixel of the new image is within 0.1 of the old one; a person still reads 7.

Everything runs on whole batches: one `input_gradient` call per step for all images.
`attack_table` is the sweep over epsilons `fooldigits adversarial` prints,
`transfer_matrix` asks whether a perturbation made on one network fools another.

What it leaves out: other norms (L2, L0), attacks that need no gradient (the GA of
`evolve.py` is one, for noise), Carlini-Wagner's optimisation (only its margin loss is
here), and certified defences (`ceiling.py` has the interval-bound idea for a box).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import DIGITS
from fooldigits.models.base import Classifier

METHODS = ("fgsm", "pgd")
LOSSES = ("ce", "margin")  # cross-entropy of the label, or the logits' margin (step 5)
MAX_RESTARTS = 100
EPSILONS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
PGD_STEPS = 40
TRAIN_PGD_STEPS = 10  # PGD steps per mini-batch in adversarial training (`training.sgd`)
MAX_STEPS = 10_000
CHUNK = 2000  # images per batched pass: large enough for BLAS, small enough for the cache


def check_epsilon(epsilon: float | np.ndarray) -> float:
    """Epsilon (a number, or a 0-d array of one) as a float in [0, 1], or one sentence
    saying why not."""
    try:
        value = float(epsilon)
    except (TypeError, ValueError):
        raise FoolDigitsError(f"epsilon must be a number in [0, 1], got {epsilon!r}") from None
    if not 0 <= value <= 1:  # also refuses NaN
        raise FoolDigitsError(f"epsilon must be a number in [0, 1], got {epsilon}")
    return value


def check_method(method: str, steps: int = PGD_STEPS, loss: str = "ce", restarts: int = 1
                 ) -> None:
    """Raise unless `method` is 'fgsm' or 'pgd', `loss` 'ce' or 'margin', and `steps` and
    `restarts` are sane counts."""
    if method not in METHODS:
        raise FoolDigitsError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not 1 <= steps <= MAX_STEPS:
        raise FoolDigitsError(f"steps must be between 1 and {MAX_STEPS:,}, got {steps}")
    if loss not in LOSSES:
        raise FoolDigitsError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    if not 1 <= restarts <= MAX_RESTARTS:
        raise FoolDigitsError(f"restarts must be between 1 and {MAX_RESTARTS}, got "
                              f"{restarts}")


def _targets(labels: np.ndarray, target: int | np.ndarray | None) -> np.ndarray | None:
    """The target class per row (n,), checked: a digit 0..9, never the row's own label."""
    if target is None:
        return None
    t = np.broadcast_to(np.asarray(target), labels.shape)
    if not np.issubdtype(t.dtype, np.integer) or (t.size and (t.min() < 0 or t.max() >= DIGITS)):
        raise FoolDigitsError(f"target must be a digit 0..9, got {target}")
    if np.any(t == labels):
        raise FoolDigitsError("target must differ from the digit being attacked")
    return np.asarray(t, dtype=np.int64)


def _runner_up(net: Classifier, x: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """Per row, the most probable class other than `exclude`: (n,)."""
    p = net.probabilities(x)[:, :DIGITS].copy()  # (n, 10)
    p[np.arange(len(x)), exclude] = -1
    return np.asarray(p.argmax(axis=1))


def _direction(net: Classifier, x: np.ndarray, labels: np.ndarray, target: np.ndarray | None,
               loss: str = "ce") -> np.ndarray:
    """sign of the step that hurts, (n, 784). Cross-entropy: +dC(y)/dx (untargeted) or
    -dC(t)/dx (targeted), C = -ln p. Margin (step 5): the gradient of
    max_{j != y} ln p_j - ln p_y, or of ln p_t - max_{j != t} ln p_j."""
    if loss == "margin":
        wanted = labels if target is None else target  # the class to push down / up
        other = _runner_up(net, x, wanted)  # (n,)
        g_wanted, g_other = net.input_gradient(x, wanted), net.input_gradient(x, other)
        grad = g_wanted - g_other if target is None else g_other - g_wanted
        return np.asarray(np.sign(grad))
    if target is None:
        return np.asarray(np.sign(net.input_gradient(x, labels)))
    return np.asarray(-np.sign(net.input_gradient(x, target)))


def _strength(net: Classifier, x: np.ndarray, labels: np.ndarray, target: np.ndarray | None
              ) -> np.ndarray:
    """How well an attack did, per row (n,): the margin of the wanted outcome in log
    probabilities; above 0 means it succeeded (wrong answer, or the target won)."""
    p = np.log(np.maximum(net.probabilities(x)[:, :DIGITS].astype(np.float64), 1e-300))
    rows = np.arange(len(x))
    if target is None:
        others = p.copy()
        others[rows, labels] = -np.inf
        return np.asarray(others.max(axis=1) - p[rows, labels])
    others = p.copy()
    others[rows, target] = -np.inf
    return np.asarray(p[rows, target] - others.max(axis=1))


def _pgd(net: Classifier, x: np.ndarray, labels: np.ndarray, eps: np.ndarray, steps: int,
         alpha: np.ndarray, target: np.ndarray | None, rng: np.random.Generator | None,
         loss: str = "ce") -> np.ndarray:
    """Steps 1-3 for one chunk; eps and alpha are (n, 1) so every row may differ."""
    lo, hi = np.maximum(x - eps, 0), np.minimum(x + eps, 1)  # (n, 784): the ball in [0, 1]
    adv = x.copy()
    if rng is not None:  # Madry's random start, uniform in the ball
        adv += (rng.random(x.shape, dtype=np.float32) * 2 - 1) * eps
        np.clip(adv, lo, hi, out=adv)
    for _ in range(steps):
        adv += alpha * _direction(net, adv, labels, target, loss)
        np.clip(adv, lo, hi, out=adv)  # project back into the ball and into [0, 1]
    return adv


def _strongest(net: Classifier, x: np.ndarray, labels: np.ndarray, eps: np.ndarray,
               steps: int, alpha: np.ndarray, target: np.ndarray | None,
               rng: np.random.Generator | None, loss: str, restarts: int) -> np.ndarray:
    """Step 5: `restarts` runs of `_pgd`, the first from the clean image, the others from
    random starts in the ball drawn from `rng`; per row, the strongest result. (With one
    run, `rng` asks for Madry's random start, as adversarial training does.)"""
    best = _pgd(net, x, labels, eps, steps, alpha, target, rng if restarts == 1 else None,
                loss)
    if restarts == 1:
        return best
    best_strength = _strength(net, best, labels, target)  # (n,)
    starts = rng if rng is not None else np.random.default_rng(0)
    for _ in range(restarts - 1):
        adv = _pgd(net, x, labels, eps, steps, alpha, target, starts, loss)
        strength = _strength(net, adv, labels, target)
        better = strength > best_strength  # (n,) rows where this restart did more harm
        best[better], best_strength[better] = adv[better], strength[better]
    return best


def _run(net: Classifier, x: np.ndarray, labels: np.ndarray, epsilon: float | np.ndarray,
         steps: int, step_size: float | None, target: int | np.ndarray | None,
         rng: np.random.Generator | None, loss: str = "ce", restarts: int = 1) -> np.ndarray:
    """Shared front of `fgsm` and `pgd`: check, then attack chunk by chunk."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))  # (n, 784)
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != len(x):
        raise FoolDigitsError(f"{len(x)} images but {len(labels)} labels")
    t = _targets(labels, target)
    if np.ndim(epsilon) == 0:
        eps = np.full(len(x), check_epsilon(epsilon), dtype=np.float32)
    elif (eps := np.asarray(epsilon, dtype=np.float32)).shape != (len(x),) or not np.all(
            (eps >= 0) & (eps <= 1)):
        raise FoolDigitsError("a per-image epsilon must have one value in [0, 1] per image")
    eps = eps[:, None]  # (n, 1)
    alpha = eps if steps == 1 else np.float32(
        2.5 / steps if step_size is None else step_size) * eps
    out = np.empty_like(x)
    for i in range(0, len(x), CHUNK):
        part = slice(i, i + CHUNK)
        out[part] = _strongest(net, x[part], labels[part], eps[part], steps, alpha[part],
                               None if t is None else t[part], rng, loss, restarts)
    return out


def fgsm(net: Classifier, x: np.ndarray, labels: np.ndarray, epsilon: float | np.ndarray,
         target: int | np.ndarray | None = None) -> np.ndarray:
    """Step 1 (or 3 with `target`): one signed step of size epsilon, clipped: (n, 784)."""
    return _run(net, x, labels, epsilon, 1, None, target, None)


def pgd(net: Classifier, x: np.ndarray, labels: np.ndarray, epsilon: float | np.ndarray,
        steps: int = PGD_STEPS, step_size: float | None = None,
        target: int | np.ndarray | None = None, rng: np.random.Generator | None = None,
        loss: str = "ce", restarts: int = 1) -> np.ndarray:
    """Step 2 (or 3): `steps` signed steps of `step_size * epsilon` (2.5 / steps unless
    given), each projected into the epsilon-ball and [0, 1]; `rng` adds a random start.
    Step 5: `restarts` runs, the strongest kept per image; `loss` "ce" or "margin"."""
    check_method("pgd", steps, loss, restarts)
    if step_size is not None and not (np.isfinite(step_size) and step_size > 0):
        raise FoolDigitsError(f"the PGD step size must be positive, got {step_size}")
    return _run(net, x, labels, epsilon, steps, step_size, target, rng, loss, restarts)


def attack(net: Classifier, x: np.ndarray, labels: np.ndarray, epsilon: float | np.ndarray,
           method: str = "pgd", steps: int = PGD_STEPS, target: int | np.ndarray | None = None,
           rng: np.random.Generator | None = None, loss: str = "ce", restarts: int = 1
           ) -> np.ndarray:
    """`fgsm` or `pgd` by name, as `--attack` chooses: adversarial images (n, 784).
    `loss` and `restarts` (step 5) apply to PGD."""
    check_method(method, steps, loss, restarts)
    if method == "fgsm":
        return fgsm(net, x, labels, epsilon, target)
    return pgd(net, x, labels, epsilon, steps, target=target, rng=rng, loss=loss,
               restarts=restarts)


def with_attacked(net: Classifier, x: np.ndarray, y: np.ndarray, labels: np.ndarray,
                  epsilon: float, method: str, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Adversarial training's mini-batch (`training.sgd`, Goodfellow et al.): the m images
    (m, 784) and their desired outputs y (m, classes), each stacked on its attacked copy:
    (2m, 784), (2m, classes). PGD (Madry et al.) takes `TRAIN_PGD_STEPS` from a random
    start; the cost of the doubled batch is half clean, half attacked."""
    adv = attack(net, x, labels, epsilon, method, steps=TRAIN_PGD_STEPS,
                 rng=rng if method == "pgd" else None)
    return np.concatenate([x, adv]), np.concatenate([y, y])


def attacked_accuracy(net: Classifier, x: np.ndarray, labels: np.ndarray, epsilon: float
                      ) -> float:
    """Accuracy after a 40-step PGD attack at epsilon: what `training.EpochDone` reports.
    PGD, not the training attack, because a network can learn to blunt the one FGSM step
    it trained against and still fall to a few more."""
    return net.accuracy(pgd(net, x, labels, epsilon), labels)


def _fooled(net: Classifier, x: np.ndarray, labels: np.ndarray, target: np.ndarray | None
            ) -> np.ndarray:
    """Per row: is the answer wrong (untargeted), or the target (targeted)? (n,) bool."""
    answer = net.predict(x)
    return np.asarray(answer != labels if target is None else answer == target)


@dataclass
class Flips:
    """Per image, the smallest epsilon found that flips it and the image it gives."""

    epsilon: np.ndarray  # (n,) the upper end of the final bisection interval
    flipped: np.ndarray  # (n,) False: not flipped even at the largest epsilon tried
    images: np.ndarray  # (n, 784) adversarial images at `epsilon`
    answers: np.ndarray  # (n,) the network's answer for them
    confidence: np.ndarray  # (n,) its confidence in that answer


def smallest_epsilon(net: Classifier, x: np.ndarray, labels: np.ndarray,
                     target: int | np.ndarray | None = None, method: str = "pgd",
                     steps: int = PGD_STEPS, largest: float = 1.0, halvings: int = 10) -> Flips:
    """Step 4: bisect each image's epsilon in [0, largest] until it is known to
    `largest / 2**halvings`. Images already wrong (untargeted) get 0. For FGSM, flipping
    need not be monotone in epsilon: the answer is *an* edge, found from below."""
    check_method(method, steps)
    largest = check_epsilon(largest)
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    labels = np.asarray(labels, dtype=np.int64)
    t = _targets(labels, target)
    n = len(x)
    lo, hi = np.zeros(n, dtype=np.float32), np.full(n, largest, dtype=np.float32)
    flipped = _fooled(net, attack(net, x, labels, hi, method, steps, t), labels, t)
    clean = _fooled(net, x, labels, t)  # already wrong (or already the target): epsilon 0
    hi[clean] = 0
    todo = flipped & ~clean
    for _ in range(halvings):
        rows = np.flatnonzero(todo)
        if not len(rows):
            break
        mid = (lo[rows] + hi[rows]) / 2
        ok = _fooled(net, attack(net, x[rows], labels[rows], mid, method, steps,
                                 None if t is None else t[rows]),
                     labels[rows], None if t is None else t[rows])
        hi[rows[ok]], lo[rows[~ok]] = mid[ok], mid[~ok]
    images = attack(net, x, labels, hi, method, steps, t)
    p = net.probabilities(images)
    return Flips(hi.astype(np.float64), flipped | clean, images, p.argmax(axis=1),
                 p.max(axis=1).astype(np.float64))


@dataclass(frozen=True)
class AttackRow:
    """One row of the epsilon sweep: how accurate, and how sure when wrong."""

    method: str
    epsilon: float
    accuracy: float  # share of images still read as their label
    wrong_confidence: float | None  # mean confidence of the wrong answers (None: none wrong)
    mean_confidence: float  # mean confidence of every answer, right or wrong


def score(net: Classifier, x: np.ndarray, labels: np.ndarray, method: str, epsilon: float
          ) -> AttackRow:
    """Accuracy and confidences of `net` on images (already attacked or not)."""
    p = net.probabilities(x)  # (n, classes)
    answer, sure = p.argmax(axis=1), p.max(axis=1)
    wrong = answer != labels
    return AttackRow(method, float(epsilon), float(np.mean(~wrong)) if len(x) else 0.0,
                     float(sure[wrong].mean()) if wrong.any() else None, float(sure.mean()))


def attack_table(net: Classifier, x: np.ndarray, labels: np.ndarray,
                 epsilons: Sequence[float] = EPSILONS, methods: Sequence[str] = METHODS,
                 steps: int = PGD_STEPS, loss: str = "ce", restarts: int = 1,
                 rng: np.random.Generator | None = None) -> Iterator[AttackRow]:
    """Yield one `AttackRow` per method and epsilon (the sweep `fooldigits adversarial`
    draws), in the order given; epsilon 0 is the clean score, computed once. PGD runs with
    `loss` and `restarts` (random starts drawn from `rng`); its first run starts from the
    digit itself, so one run (`restarts` 1) is the same for every seed, as the tutor's."""
    for method in methods:
        check_method(method, steps, loss, restarts)
    values = [check_epsilon(e) for e in epsilons]
    clean: AttackRow | None = None
    for method in methods:
        for epsilon in values:
            if epsilon == 0:
                clean = clean or score(net, x, labels, method, 0.0)
                yield AttackRow(method, 0.0, clean.accuracy, clean.wrong_confidence,
                                clean.mean_confidence)
            else:
                adv = attack(net, x, labels, epsilon, method, steps, loss=loss,
                             restarts=restarts, rng=rng if restarts > 1 else None)
                yield score(net, adv, labels, method, epsilon)


@dataclass
class Examples:
    """Pictures for the chapter: original, signed perturbation, adversarial image."""

    originals: np.ndarray  # (n, 784) in [0, 1]
    perturbations: np.ndarray  # (n, 784) in [-epsilon, epsilon]: draw with a signed map
    adversarial: np.ndarray  # (n, 784) in [0, 1]
    labels: np.ndarray  # (n,)
    before: np.ndarray  # (n,) the network's answers to the originals
    after: np.ndarray  # (n,) ... and to the adversarial images
    confidence_before: np.ndarray  # (n,)
    confidence_after: np.ndarray  # (n,)


def examples(net: Classifier, x: np.ndarray, labels: np.ndarray, epsilon: float | np.ndarray,
             method: str = "pgd", steps: int = PGD_STEPS,
             target: int | np.ndarray | None = None) -> Examples:
    """Attack a few images and keep everything a picture of them needs (`epsilon`: one
    for all, or one per image, (n,))."""

    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    labels = np.asarray(labels, dtype=np.int64)
    adv = attack(net, x, labels, epsilon, method, steps, target)
    p0, p1 = net.probabilities(x), net.probabilities(adv)
    return Examples(x, adv - x, adv, labels, p0.argmax(axis=1), p1.argmax(axis=1),
                    p0.max(axis=1).astype(np.float64), p1.max(axis=1).astype(np.float64))


def transfer_matrix(nets: Sequence[Classifier], x: np.ndarray, labels: np.ndarray,
                    epsilon: float, method: str = "pgd", steps: int = PGD_STEPS) -> np.ndarray:
    """Accuracy[i, j] of network j on images attacked on network i: (n_nets, n_nets).

    The shape of `evolve.transfer_matrix`: rows are the network the perturbation was
    made on, the diagonal is the attack on its own network (white box), the rest tells
    whether the same perturbation fools a network it never saw (black box).
    """
    accuracy = np.zeros((len(nets), len(nets)))
    for i, maker in enumerate(nets):
        adv = attack(net=maker, x=x, labels=labels, epsilon=epsilon, method=method, steps=steps)
        for j, judge in enumerate(nets):
            accuracy[i, j] = judge.accuracy(adv, labels)
    return accuracy
