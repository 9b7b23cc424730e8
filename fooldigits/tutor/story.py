"""The tutor: the whole story of fooldigits as eleven chapters of live computation.

What this module teaches
------------------------
Nothing new: it is the table of contents. Each `Chapter` is plain data -- a title, a few
sentences, the module and functions that do the work -- plus a `run` generator that
strings together the same experiments the commands run (`fooldigits/experiments/`), at
classroom sizes, with a sentence or two between them. Everything they yield -- pieces
(`Say`, `Images`, `Table`, `Bars`) and progress (`network.BatchDone` while a network
trains, `evolve.Generation` while a fooling image evolves) -- goes to the one presenter
(`present.py`), which draws the terminal and, with `fooldigits tutor --html story.html`,
the whole story as one web page. No loop of an experiment lives here.

`Sizes` sets how much each chapter computes: `Sizes.full()` for a class (the whole run,
`fooldigits tutor --no-pause`, takes about a minute of CPU with one BLAS thread: 54 s
user and 6 s system, 4 min of wall time on a busy two-core machine), `Sizes.quick()` for
tests and a fast look.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.core.pieces import Bars, Experiment, Images, Say, Table
from fooldigits.models import load_model
from fooldigits.tutor import finale

__all__ = ["CHAPTERS", "Bars", "Chapter", "Images", "Say", "Sizes", "Table"]


@dataclass(frozen=True)
class Sizes:
    """How much each chapter computes."""

    pca_images: int = 50_000
    test_images: int = 10_000
    fool_mean: int = 1000
    prior_count: int = 200
    train_images: int = 10_000
    attacked_images: int = 2000
    retrain_per_digit: int = 3  # fooling images per digit in the one retraining round
    retrain_epochs: int = 2
    retrain_generations: int = 300  # a GA run that needs more did not fool the network
    conv_digits: int = 10  # digits fooled on the conv net, one run each, in each encoding
    generative_runs: int = 10  # GA runs for a '2' against the generative model, per prior
    quiz_count: int = 6  # questions of the closing quiz (one key press each)

    @classmethod
    def full(cls) -> Sizes:
        return cls()

    @classmethod
    def quick(cls) -> Sizes:
        return cls(pca_images=3000, test_images=1000, fool_mean=10, prior_count=5,
                   train_images=2000, attacked_images=300, retrain_per_digit=1,
                   retrain_epochs=1, retrain_generations=50, conv_digits=2,
                   generative_runs=2, quiz_count=2)


@dataclass(frozen=True)
class Chapter:
    key: str
    title: str
    text: str
    module: str
    functions: tuple[str, ...]
    topic: str
    run: Callable[[np.random.Generator, Sizes], Experiment[None]] = field(repr=False)
    quiz: bool = False  # ends with the quiz (`Sizes.quiz_count` questions; cli runs it)

    @property
    def footer(self) -> str:
        """The chapter's last line: where its code is, and how to read it."""
        if not self.functions:
            return f"How the modules fit together: fooldigits read {self.topic}"
        names = ", ".join(f"{n}()" for n in self.functions)
        return f"The code: {names} -- beside its explanation: fooldigits read {self.topic}"


# -- the chapters, in the order of the story: experiments strung together ------------------
def _data(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.basics import digit_means

    yield from digit_means(load_mnist())


def _network(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.basics import right_and_wrong, train
    from fooldigits.lessons.training import SGDConfig
    from fooldigits.models.network import Network

    data = load_mnist()
    n = sizes.train_images
    small = replace_data(data, n)
    yield Say(f"A small 784-30-10 network trains now on {n:,} images for two epochs:")
    yield from train(Network([784, 30, 10], rng=rng), small,
                     SGDConfig(epochs=2, batch_size=20, eta=0.1, lmbda=0.5, momentum=0.9), rng)
    net = load_model()
    yield from right_and_wrong(net, data.test_images[: sizes.test_images],
                               data.test_labels[: sizes.test_images])


def replace_data(data: Dataset, n: int) -> Dataset:
    """The first `n` training images, with 2,000 test images to report on."""
    return Dataset(data.train_images[:n], data.train_labels[:n], data.validation_images[:0],
                   data.validation_labels[:0], data.test_images[:2000], data.test_labels[:2000])


def _pca(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.eigen import pca

    data = load_mnist()
    x, y = data.train_images[: sizes.pca_images], data.train_labels[: sizes.pca_images]
    tx, ty = data.test_images[: sizes.test_images], data.test_labels[: sizes.test_images]
    yield from pca(x, y, tx, ty, [50], show=10, signed=True,
                   network_accuracy=load_model().accuracy(tx, ty),
                   marks=(1, 5, 10, 50, 100), facts=False)


def _dream(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    from fooldigits.experiments.dreaming import dreams
    from fooldigits.lessons.dream import DreamConfig

    net = load_model()
    yield Say("From noise, with a large step (lr 1.0), then a tiny one (lr 0.01, 100 steps):")
    yield from dreams(net, range(10), [DreamConfig(), DreamConfig(steps=100, lr=0.01)], rng)
    yield Say("The sparklines show each digit's confidence step by step: slow is not the "
              "same as stuck.", "note")


def _fool(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    from fooldigits.experiments.fooling import evolve_runs, means, samples
    from fooldigits.lessons.evolve import GAConfig

    net = load_model()
    config = GAConfig()
    one = yield from evolve_runs(net, [2], 1, config, rng)
    row = one.results[0]
    yield Say(f"A '2' at {100 * row['confidences'][0]:.4f}% after {row['generations'][0]} "
              "generations of crossover and mutation -- without ever looking inside the network.")
    ten = yield from evolve_runs(net, range(10), 1, config, rng)
    yield from samples(ten, net, 10, "one fooling image per digit, each above 99.99%")
    many = yield from evolve_runs(net, [2], sizes.fool_mean, config, rng)
    yield from means(many)


def _drawings(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.drawn import framing, scramble

    net = load_model()
    data = load_mnist()
    x, y = data.test_images[: sizes.test_images], data.test_labels[: sizes.test_images]
    yield from framing(net, data.test_images[1])  # test image 1 is a '2'
    yield from scramble(net, x, y, SCRAMBLE_LEVELS, rng)
    yield Say("Draw your own, live, and watch the network read it: fooldigits draw")


SCRAMBLE_LEVELS = (0.0, 0.1, 0.3, 0.5)


def _prior(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    from fooldigits.experiments.natural import compare

    yield from compare(load_model(), 2, sizes.prior_count, rng, brief=True)


def _fighting(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    from fooldigits.core.data import load_mnist
    from fooldigits.experiments.fighting import adversarial, retrain
    from fooldigits.lessons.retrain import RetrainConfig

    net, data = load_model(), load_mnist()
    n = sizes.attacked_images
    yield Say("First question: can a tiny change to a real digit fool it too?")
    yield from adversarial(net, data, (0.0, 0.05, 0.1, 0.2), show=5, count=n)
    yield Say("Second question: why not teach it what a fooling image is? Nguyen, Yosinski "
              "& Clune added their fooling images to the training set as an eleventh class, "
              "'not a digit', retrained, and fooled the new network again. One round of "
              "that, on a small scale, judged by four searches: the GA from uniform noise "
              "(whose images it trains on), the same GA from a black canvas, gradient "
              "ascent, and PGD on real digits:")
    yield from retrain(net, data, RetrainConfig(rounds=1, per_digit=sizes.retrain_per_digit,
                                                epochs=sizes.retrain_epochs,
                                                max_generations=sizes.retrain_generations,
                                                dream_steps=sizes.retrain_generations,
                                                attacked=n),
                       rng)
    yield Say("What retraining teaches is narrow. Measured with `fooldigits retrain --rounds 3 "
              "--seeds 2` (docs/adversarial.md): the GA from uniform noise fools the round-3 "
              "network in only 24-32% of runs, because every round learns that uniform-noise "
              "statistics are not a digit. But the same GA started from a black canvas still "
              "fools every round in 100% of runs within about 20 generations, gradient ascent "
              "in 83-90%, and PGD misreads 92-93% of real digits. It learned to reject one "
              "search's images, not what a digit is -- as Nguyen et al. found on MNIST.")
    yield Say("`fooldigits train --adversarial 0.1` trains on attacked digits instead: it "
              "holds 81.9% of digits under PGD with 5 restarts at epsilon 0.1 (the shipped "
              "network: 15.0%; `fooldigits adversarial --restarts 5`), and the GA still "
              "fools it at 99.99% for every digit (48-49 of 50 runs of `fool --model "
              "fooldigits/models/robust.npz --all --count 5`, seeds 0-2).")


def _meaning(rng: np.random.Generator, sizes: Sizes) -> Experiment[None]:
    yield Say(
        "Further reading: Nguyen, Yosinski & Clune, 'Deep Neural Networks are Easily Fooled' "
        "(2015); Szegedy et al., 'Intriguing properties of neural networks' (2013); Goodfellow, "
        "Shlens & Szegedy, 'Explaining and Harnessing Adversarial Examples' (2014); Olah, "
        "Mordvintsev & Schubert, 'Feature Visualization' (Distill, 2017); and Michael "
        "Nielsen's 'Neural Networks and Deep Learning', whose network this is.")


CHAPTERS: list[Chapter] = [
    Chapter("data", "1. What the network sees",
            "MNIST is 70,000 handwritten digits, 28x28 grey pixels. To the network each is "
            "just a row of 784 numbers; it has never seen anything else.",
            "fooldigits/core/data.py", ("data.load_mnist", "data.read_idx"), "data", _data),
    Chapter("network", "2. A network that reads digits",
            "Nielsen's network: 784 inputs, 100 sigmoid neurons, 10 outputs, trained by "
            "stochastic gradient descent with backpropagation. It reads 98% of digits it "
            "has never seen.",
            "fooldigits/models/network.py", ("network.Network.backprop", "training.sgd"),
            "network", _network),
    Chapter("pca", "3. Eigen-digits: a simpler way to look",
            "Principal component analysis finds the directions in which handwritten digits "
            "vary most. Drawn as images they are ghostly strokes, and nearest neighbours "
            "in 50 of them classify almost as well as the network.",
            "fooldigits/lessons/pca.py", ("pca.PCA.fit", "pca.knn"), "pca", _pca),
    Chapter("dream", "4. Dreaming: ask the network what a digit is",
            "Freeze the weights and change the pixels instead, following the gradient "
            "until the network is sure. What comes out is noise.",
            "fooldigits/lessons/dream.py", ("dream.dream", "network.Network.input_gradient"),
            "dream", _dream),
    Chapter("fool", "5. Fooling: evolve noise the network trusts",
            "A genetic algorithm breeds random images, keeping those the network is most "
            "confident about. It never looks inside the network, and still makes it 99.99% "
            "sure of noise (Nguyen, Yosinski & Clune 2015).",
            "fooldigits/lessons/evolve.py", ("evolve.evolve", "evolve.transfer_matrix"), "evolve",
            _fool),
    Chapter("drawings", "6. Your own drawings",
            "The same '2' drawn to the edges of the canvas and small in the middle; then "
            "real test digits with noise in the background only. A person reads them all.",
            "fooldigits/lessons/drawings.py",
            ("drawings.normalise", "drawings.scramble_background"), "drawings", _drawings),
    Chapter("prior", "7. A natural-image prior",
            "Give the genetic algorithm the statistics of real digits: pixels drawn from "
            "their histogram, neighbours as correlated as theirs, or (beyond the original) "
            "statistics that know where a '2' has its strokes.",
            "fooldigits/lessons/stats.py", ("stats.StatsPrior", "stats.LocalPrior"), "stats",
            _prior),
    Chapter("conv", "8. Does a bigger, convolutional network help?",
            "Nielsen's chapter-6 network: shared 5x5 kernels and max-pooling. The same "
            "genetic algorithm, breeding pixels or CPPN patterns: is it sure of noise too?",
            "fooldigits/models/conv.py", ("convlayers.im2col", "conv.Conv.input_gradient",
                                          "cppn.CPPN"), "conv", finale.conv_chapter),
    Chapter("fighting", "9. Fighting back",
            "Two questions every student asks: can a change nobody would notice make it "
            "misread a real digit? And if it is fooled by noise, why not train it on the "
            "noise?",
            "fooldigits/lessons/adversarial.py", ("adversarial.fgsm", "adversarial.pgd",
                                          "retrain.retrain"), "adversarial", _fighting),
    Chapter("generative", "10. A reader that knows what digits look like",
            "Analysis by synthesis (Schott et al. 2019): one Gaussian per digit, in a PCA "
            "subspace, and an honest 'not a digit' when no digit explains an image. What it "
            "costs, what it rejects, and what still fools it.",
            "fooldigits/models/generative.py",
            ("generative.Generative.fit", "generative.Generative.probabilities"),
            "generative", finale.generative_chapter),
    Chapter("meaning", "11. What it means",
            "A network that reads 98% of handwritten digits is sure of noise, misreads a "
            "digit drawn to the edge, and loses its accuracy (but not its confidence) when "
            "the background is speckled. It learned a function of 784 numbers that happens "
            "to agree with people on the images it was shown -- not what a digit is. That is "
            "the lesson: artificial neural networks are not human.",
            "fooldigits/tutor/story.py", (), "index", _meaning, quiz=True),
]


def chapter(key: str) -> int:
    """Index of the chapter called `key` (data, network, pca, dream, fool, ...), in any
    case and with spaces around it ("PCA", " pca ")."""
    from fooldigits.core.reading import printable

    keys = [c.key for c in CHAPTERS]
    if key.strip().lower() not in keys:
        raise FoolDigitsError(f"unknown chapter '{printable(key, 60)}'; chapters: "
                              f"{', '.join(keys)}")
    return keys.index(key.strip().lower())


def docs_dir() -> Path:
    """The docs chapters: inside the installed package, or beside it in a checkout."""
    for candidate in (Path(__file__).parents[1] / "docs", Path(__file__).parents[2] / "docs"):
        if (candidate / "index.md").is_file():
            return candidate
    raise FoolDigitsError("the docs chapters are missing from this installation")


# Docs quote a function by its module's short name (`training.sgd`, `pca.knn`); the layer
# subpackages it may live in are tried in order.
LAYERS = ("", "core.", "models.", "lessons.", "present.", "pad.", "tutor.")
MODULES = ("data", "network", "render", "pca", "ceiling", "dream", "evolve", "stats",
           "drawings", "tutor", "exercises", "pieces", "presenter", "export", "story",
           "experiments", "reading", "writing", "options", "cli", "drawpad", "session",
           "canvas", "keys", "screen", "game", "adversarial", "retrain", "training",
           "neurons", "models", "linear", "answers", "base", "layout", "navigation", "conv",
           "convlayers", "generative", "encodings", "cppn", "finale", "pages", "listing")
REFERENCE = re.compile(r"`((?:" + "|".join(MODULES) + r")(?:\.[A-Za-z_]\w*)+)(?:\(\))?`")


def references(markdown: str) -> list[str]:
    """The `module.function` names a docs chapter quotes, in order, without repeats."""
    names = [m for m in REFERENCE.findall(markdown) if not m.endswith((".py", ".md"))]
    return list(dict.fromkeys(names))


def resolve(name: str) -> object:
    """The object `pca.PCA.fit` names (fooldigits.lessons.pca, then .PCA, then .fit)."""
    parts = name.split(".")
    layer = next((layer for layer in LAYERS
                  if importlib.util.find_spec("fooldigits." + layer + parts[0]) is not None), "")
    parts = (layer + parts[0]).split(".") + parts[1:]
    depth = 1
    while depth < len(parts):  # the longest prefix that is a module: experiments.fooling
        try:
            importlib.import_module("fooldigits." + ".".join(parts[: depth + 1]))
        except ImportError:
            break
        depth += 1
    obj: object = importlib.import_module("fooldigits." + ".".join(parts[:depth]))
    for attribute in parts[depth:]:
        if not hasattr(obj, attribute):
            raise FoolDigitsError(f"{name} does not exist in fooldigits")
        obj = getattr(obj, attribute)
    return obj


def topics() -> list[str]:
    """The docs chapters `fooldigits read` knows."""
    return sorted(path.stem for path in docs_dir().glob("*.md"))
