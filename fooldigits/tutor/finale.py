"""The tutor's last chapters: a convolutional network, and a reader that knows digits.

What this module teaches
------------------------
The answers to the two questions a student asks after chapter 8, strung together from
the same experiments the commands run, at classroom sizes (`story.Sizes`):

1. "Is it only because the network is small and dense?" (`conv_chapter`): the shipped
   convolutional net (models/conv.py) reads more digits than the dense one, and the
   genetic algorithm fools it anyway, with pixels and with CPPN patterns; the fooling
   images of each network shown to the others (`transfer.transfer`).
2. "What would behave more like a person?" (`generative_chapter`): one Gaussian per
   digit (models/generative.py) that can say "not a digit". Its accuracy and rejections,
   noise rejected, and what still fools it: the GA, and the location-aware prior, whose
   images the other networks are shown too.

Worked example: `conv_chapter(rng, Sizes.quick())` yields a Say with both accuracies,
the fooling images of `Sizes.conv_digits` digits in each encoding, and a transfer table.

What it leaves out: the full measurements (docs/conv.md, docs/generative.md name the
commands); the quiz that closes the story is run by the `tutor` command, which owns the
keyboard (cli/classroom.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fooldigits.core.pieces import Experiment, Say, Table
from fooldigits.models import SHIPPED, load_model

if TYPE_CHECKING:
    from fooldigits.tutor.story import Sizes

NOISE = 200  # uniform-noise images shown to the generative model
SHOWN = 4  # fooling images drawn per grid: two rows at 80x24, one screen


def conv_chapter(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    """Conv accuracy beside dense; GA fooling images in both encodings; transfer."""
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.fooling import evolve_runs, samples, smoothness
    from fooldigits.experiments.transfer import transfer
    from fooldigits.lessons.evolve import GAConfig

    data = load_mnist()
    x, y = data.test_images[: sizes.test_images], data.test_labels[: sizes.test_images]
    conv, dense = load_model(SHIPPED / "conv.npz"), load_model()
    yield Say(f"The convolutional net ({conv.describe()}) reads {100 * conv.accuracy(x, y):.2f}% "
              f"of {len(y):,} test digits; the dense 784-100-10, "
              f"{100 * dense.accuracy(x, y):.2f}%.")
    digits = range(sizes.conv_digits)
    found = []  # each encoding's runs in words, said under both grids
    for encoding, what, name in (
            ("direct", "noise, a gene per pixel", "Noise"),
            ("cppn", "CPPN patterns, painted by a small network of x and y", "CPPN")):
        report = yield from evolve_runs(conv, digits, 1, GAConfig(), rng, encoding=encoding)
        reached = sum(row["reached"] for row in report.results)
        gens = [g for row in report.results for g in row["generations"]]
        yield from samples(report, conv, SHOWN, f"the conv net fooled by {what}")
        found.append(f"{name}: {reached} of {len(gens)} runs reached 99.99%, median "
                     f"{int(np.median(gens))} generations")
    yield Say("; ".join(found) + ".")
    yield from smoothness(report, "the CPPN images")  # the last report: a student saw two
    nets = [(name, load_model(SHIPPED / file)) for name, file in
            (("dense", "default.npz"), ("linear", "linear.npz"), ("conv", "conv.npz"))]
    yield Say("Do the images bred against one network fool the others?")
    yield from transfer(1, 0.99, rng, nets=nets)
    yield Say("A better network is fooled just the same: being sure of noise is not a "
              "matter of size or of convolutions (docs/conv.md has the measured table).")


def generative_chapter(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    """The generative model: accuracy, rejections, noise, and what still fools it."""
    from fooldigits.core.data import load_mnist
    from fooldigits.core.pieces import NOT_A_DIGIT
    from fooldigits.experiments.fooling import evolve_runs, samples
    from fooldigits.lessons import stats
    from fooldigits.lessons.evolve import GAConfig
    from fooldigits.lessons.stats import with_prior_rule

    data = load_mnist()
    x, y = data.test_images[: sizes.test_images], data.test_labels[: sizes.test_images]
    gen, dense = load_model(SHIPPED / "generative.npz"), load_model()
    said = gen.predict(x)
    yield Say(f"One Gaussian per digit ({gen.describe()}) reads "
              f"{100 * float(np.mean(said == y)):.2f}% of {len(y):,} test digits (the dense "
              f"net: {100 * dense.accuracy(x, y):.2f}%), and calls "
              f"{100 * float(np.mean(said == NOT_A_DIGIT)):.1f}% of them \"not a digit\".")
    noise = rng.random((NOISE, 784), dtype=np.float32)  # (200, 784)
    rejected = float(np.mean(gen.predict(noise) == NOT_A_DIGIT))
    sure = float(np.mean(dense.probabilities(noise).max(axis=1)))
    yield Say(f"Uniform noise: it rejects {100 * rejected:.0f}% of {NOISE} images; the dense "
              f"net gives them a digit at {100 * sure:.0f}% mean confidence.")
    others = [(name, load_model(SHIPPED / file)) for name, file in
              (("dense", "default.npz"), ("conv", "conv.npz"))]
    rows = []
    for prior, what in (("none", "plain GA"), ("local", "local prior")):
        config = with_prior_rule(GAConfig(), prior, None)
        report = yield from evolve_runs(gen, [2], sizes.generative_runs, config, rng,
                                        prior=prior)
        images = report.runs[0].images  # (k, 784)
        yield from samples(report, gen, SHOWN, f"'2's that fool it: the {what}")
        natural = stats.naturalness(images, 2)
        rows.append((what, f"{report.results[0]['reached']}/{len(images)}",
                     f"{natural['correlation']:.2f}",
                     *(f"{100 * float(np.mean(net.predict(images) == 2)):.0f}%"
                       for _, net in others)))
    yield Table("what fools it (a '2' at 99.99%); r: the mean fooling image's correlation "
                "with the mean real '2'; then the share each network reads as '2'",
                ["attack", "reached", "r", *(name for name, _ in others)], rows)
    yield Say("What it costs: a few points of accuracy, and it still has a blind spot -- "
              "but its fooling images drift toward real '2's, and noise is not a digit to "
              "it. docs/generative.md has the measured numbers, PGD included.")
