"""Chapter 5's last question as an experiment: do fooling images fool other networks too?

What this module teaches
------------------------
`transfer` evolves fooling images against each of several networks (`fooling.evolve_runs`)
and shows every set to every network: a table of mean confidence and the share above 99%,
the network each set was bred for on the diagonal, transfer off it. `networks` builds the
list once: the model files given, or else the shipped dense, linear, adversarially trained
and conv models beside three dense networks trained now (`FRESH`), so that a student sees
whether depth, width or a seed change what fools a network. `adversarial --transfer`
(`experiments/fighting.py`) compares the same networks on FGSM/PGD perturbations.

    >>> result = yield from transfer(10, 0.99, rng)
    >>> result.share_sure[0]       # images bred against 'dense', under each network

What it leaves out: the genetic algorithm (`evolve.py`, `experiments/fooling.py`), the
matrix itself (`evolve.transfer_matrix`) and the drawing (`present.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.core.pieces import DIGITS, Experiment, Say, Step, Table
from fooldigits.experiments.fooling import evolve_runs
from fooldigits.lessons.evolve import GAConfig
from fooldigits.models.base import Classifier


@dataclass
class TransferResult:
    networks: list[str]
    mean_confidence: list[list[float]]
    share_sure: list[list[float]]
    count_per_digit: int
    target: float
    reached: list[int]


# The shipped models every transfer compares: three kinds of model side by side.
SHIPPED_MODELS = (("dense", "default.npz"), ("linear", "linear.npz"), ("robust", "robust.npz"),
                  ("conv", "conv.npz"))  # the 10-class shipped models (generative has 11)
FRESH = (([784, 30, 10], 2), ([784, 100, 10], 3), ([784, 100, 100, 10], 4))  # (sizes, seed)


def networks(models: Sequence[Path] | None = None, data: Dataset | None = None,
             epochs: int = 3, seed: int = 0) -> Experiment[list[tuple[str, Classifier]]]:
    """The networks `transfer` (and `adversarial --transfer`) compare, each named: the
    `models` files, or else the shipped dense, linear, adversarially trained and conv models and
    three dense networks trained now for `epochs` (784-30-10, 784-100-10 with another
    seed, 784-100-100-10), on `data` (the bundled MNIST if None)."""
    from fooldigits.core.data import load_mnist
    from fooldigits.lessons.training import SHIPPED_RECIPE, EpochDone, sgd
    from fooldigits.models import SHIPPED, load_model
    from fooldigits.models.base import require_classes
    from fooldigits.models.network import Network

    if epochs < 1:
        raise FoolDigitsError(f"epochs must be at least 1, got {epochs}")
    if models:
        nets = [(Path(path).name, load_model(Path(path))) for path in models]
    else:
        nets = [(name, load_model(SHIPPED / file)) for name, file in SHIPPED_MODELS]
        data = data if data is not None else load_mnist()
        for i, (sizes, s) in enumerate(FRESH):
            net_rng = np.random.default_rng(seed + s)
            fresh = Network(sizes, rng=net_rng)
            name = f"{'-'.join(map(str, sizes[1:-1]))} new"  # its hidden layers
            for event in sgd(fresh, data.train_images, data.train_labels,
                             replace(SHIPPED_RECIPE, epochs=epochs), net_rng):
                if isinstance(event, EpochDone):
                    yield Step(f"training {name}", i * epochs + event.epoch,
                               len(FRESH) * epochs)
            nets.append((name, fresh))
        yield Say("dense: the shipped 784-100-10 network; linear: softmax regression, no "
                  "hidden layer; robust: the dense network trained on FGSM-attacked digits; conv: "
                  "the shipped convolutional network (models/conv.py); "
                  + ", ".join(f"{'-'.join(map(str, sizes[1:-1]))} new" for sizes, _ in FRESH)
                  + f": dense networks with these hidden layers, trained now for {epochs} "
                  "epochs", "note")
    for _, net in nets:  # an 11-class model's "not a digit" simply counts as not fooled
        if net.classes != DIGITS + 1:
            require_classes(net, DIGITS, "comparing models")
    return nets


def transfer(count: int, target: float, rng: np.random.Generator,
             models: Sequence[Path] | None = None, data: Dataset | None = None,
             epochs: int = 3, seed: int = 0,
             nets: Sequence[tuple[str, Classifier]] | None = None
             ) -> Experiment[TransferResult]:
    """Fooling images evolved against each network (rows), shown to every network: the
    `networks(models, data, epochs, seed)`, or `nets` when a caller has them already."""
    from fooldigits.lessons.evolve import transfer_matrix

    if not 1 <= count <= 10_000:
        raise FoolDigitsError(f"count must be between 1 and 10,000, got {count}")
    if not 0 < target < 1:
        raise FoolDigitsError(f"target must be between 0 and 1, got {target}")
    if nets is None:
        nets = yield from networks(models, data, epochs, seed)
    config = GAConfig(target=target)
    images, digits, reached = [], [], []
    for _, net in nets:
        report = yield from evolve_runs(net, range(10), count, config, rng)
        images.append(np.concatenate([r.images for r in report.runs]))
        digits.append(np.repeat(np.arange(10), count))
        reached.append(sum(row["reached"] for row in report.results))
    names = [name for name, _ in nets]
    mean_conf, share = transfer_matrix([net for _, net in nets], images, digits)
    yield Table("mean confidence / share >= 99% under each network (columns)",
                ["images evolved against", *names],
                [(f"fooled {names[i]}", *(f"{100 * mean_conf[i, j]:.1f}% / "
                                          f"{100 * share[i, j]:.0f}%" for j in range(len(nets))))
                 for i in range(len(nets))])
    yield Say("The diagonal is the network each image was bred for; off the diagonal is "
              "transfer. Runs that reached the target: " + ", ".join(
                  f"{name} {n}/{10 * count}" for name, n in zip(names, reached, strict=True))
              + " (a run that misses it keeps its best image).")
    return TransferResult(names, mean_conf.tolist(), share.tolist(), count, target, reached)
