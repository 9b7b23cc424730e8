"""The tutor: the whole story of fooldigits as eight chapters of live computation.

What this module teaches
------------------------
Nothing new: it is the table of contents. Each `Chapter` is plain data -- a title, a few
sentences, the module and functions that do the work -- plus a `run` generator that
computes on the bundled data and *yields* what to show: `Say` (a paragraph), `Images`
(a grid of digits), `Table`, `Bars`, a `network.BatchDone` while a network trains, or an
`evolve.Generation` while a fooling image is evolving live. It never prints;
`render.piece` turns each into a picture and the command line (`fooldigits tutor`)
decides when to pause.

`Sizes` sets how much each chapter computes: `Sizes.full()` for a class (the whole run
takes under a minute on two cores), `Sizes.quick()` for tests and a fast look.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fooldigits import FoolDigitsError


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class Images:
    title: str
    images: np.ndarray  # (n, 784)
    captions: list[str]
    signed: bool = False


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: Sequence[Sequence[object]]


@dataclass(frozen=True)
class Bars:
    title: str
    labels: list[str]
    values: list[float]
    fmt: str = "{:.3f}"


Piece = Say | Images | Table | Bars


@dataclass(frozen=True)
class Sizes:
    """How much each chapter computes."""

    pca_images: int = 50_000
    test_images: int = 10_000
    fool_mean: int = 1000
    prior_count: int = 200
    train_images: int = 10_000

    @classmethod
    def full(cls) -> Sizes:
        return cls()

    @classmethod
    def quick(cls) -> Sizes:
        return cls(pca_images=3000, test_images=1000, fool_mean=10, prior_count=5,
                   train_images=2000)


@dataclass(frozen=True)
class Chapter:
    key: str
    title: str
    text: str
    module: str
    functions: tuple[str, ...]
    topic: str
    run: Callable[[np.random.Generator, Sizes], Iterator[object]] = field(repr=False)

    @property
    def footer(self) -> str:
        names = ", ".join(f"{n}()" for n in self.functions)
        return (f"The work was done by {self.module}: {names}. "
                f"Read it beside its explanation: fooldigits read {self.topic}")


# -- the chapters, in the order of the story -------------------------------------------------
def _data(rng: np.random.Generator, sizes: Sizes) -> Iterator[object]:
    from fooldigits.data import load_mnist

    data = load_mnist()
    first = [int(np.flatnonzero(data.train_labels == d)[0]) for d in range(10)]
    yield Images("one training image of each digit", data.train_images[first],
                 [f"label {d}" for d in range(10)])
    means = np.stack([data.train_images[data.train_labels == d].mean(axis=0)
                      for d in range(10)])
    yield Images("the mean of each digit's 5,000 training images", means,
                 [f"mean '{d}'" for d in range(10)])
    yield Say(f"{len(data.train_images):,} training, {len(data.validation_images):,} "
              f"validation and {len(data.test_images):,} test images, each a row of 784 "
              "numbers between 0 (black) and 1 (white ink).")


def _network(rng: np.random.Generator, sizes: Sizes) -> Iterator[object]:
    from fooldigits.data import load_mnist
    from fooldigits.network import BatchDone, Network, SGDConfig, sgd

    data = load_mnist()
    small = Network([784, 30, 10], rng=rng)
    n = sizes.train_images
    for event in sgd(small, data.train_images[:n], data.train_labels[:n],
                     SGDConfig(epochs=2, batch_size=20, eta=0.1, lmbda=0.5, momentum=0.9),
                     rng, test=(data.test_images[:2000], data.test_labels[:2000])):
        if isinstance(event, BatchDone):
            yield event  # the command line draws a progress bar
        else:
            yield Say(f"A small 784-30-10 network trained just now on {n:,} images, epoch "
                      f"{event.epoch}: {100 * (event.test_accuracy or 0):.1f}% on 2,000 test "
                      f"images ({event.seconds:.1f} s).")
    net = Network.load()
    x, y = data.test_images[: sizes.test_images], data.test_labels[: sizes.test_images]
    p = net.probabilities(x)
    predicted = p.argmax(axis=1)
    yield Say(f"The shipped 784-100-10 model ({net.meta.get('command', '')}) gets "
              f"{100 * np.mean(predicted == y):.2f}% of {len(y):,} test images right.")
    right = np.flatnonzero(predicted == y)[:5]
    wrong = np.flatnonzero(predicted != y)[:5]
    picks = np.concatenate([right, wrong])
    yield Images("five right and five wrong", x[picks],
                 [f"{'ok' if predicted[i] == y[i] else 'WRONG'}: says {predicted[i]} "
                  f"({100 * p[i].max():.1f}%), is {y[i]}" for i in picks])


def _pca(rng: np.random.Generator, sizes: Sizes) -> Iterator[object]:
    from fooldigits.data import load_mnist
    from fooldigits.network import Network
    from fooldigits.pca import PCA, compare_classifiers, components_for

    data = load_mnist()
    x, y = data.train_images[: sizes.pca_images], data.train_labels[: sizes.pca_images]
    model = PCA(50).fit(x)
    eigen = model.components_[:10]
    scale = np.abs(eigen).max(axis=1, keepdims=True)
    yield Images("the first ten eigen-digits (blue negative, red positive)", eigen / scale,
                 [f"eigen-digit {i + 1}" for i in range(10)], signed=True)
    ratio = model.all_variance_ratio_
    yield Bars("cumulative explained variance", [f"k = {k}" for k in (1, 5, 10, 50, 100)],
               [float(np.cumsum(ratio)[k - 1]) for k in (1, 5, 10, 50, 100)], "{:.1%}")
    yield Say(f"90% of the variance needs {components_for(ratio, 0.9)} components.")
    tx, ty = data.test_images[: sizes.test_images], data.test_labels[: sizes.test_images]
    results = compare_classifiers(model, x, y, tx, ty, 50)
    rows: list[tuple[object, ...]] = [(name, f"{100 * acc:.2f}%") for name, (acc, _) in
                                      results.items()]
    rows.append(("the network", f"{100 * Network.load().accuracy(tx, ty):.2f}%"))
    yield Table("test accuracy with 50 components", ["classifier", "accuracy"], rows)


def _dream(rng: np.random.Generator, sizes: Sizes) -> Iterator[object]:
    from fooldigits.dream import DreamConfig, dream
    from fooldigits.network import Network

    net = Network.load()
    result = dream(net, np.arange(10), DreamConfig(), rng)
    yield Images("ten images the network is sure about, dreamed from noise", result.images,
                 [f"'{d}' {100 * c:.2f}% ({s} steps)" for d, c, s in
                  zip(result.digits, result.confidence, result.steps, strict=True)])
    slow = dream(net, np.arange(10), DreamConfig(steps=100, lr=0.01), rng)
    stuck = [str(d) for d, ok in zip(slow.digits, slow.converged, strict=True) if not ok]
    yield Table("the same with a tiny step (lr 0.01, 100 steps)", ["digit", "confidence",
                "converged"], [(str(d), f"{100 * c:.2f}%", "yes" if ok else "no") for d, c, ok
                               in zip(slow.digits, slow.confidence, slow.converged,
                                      strict=True)])
    yield Say(f"With small steps {', '.join(stuck) or 'no digit'} did not converge: the "
              "gradient of a random image is nearly flat for them. The original experiment's "
              "'1' never converged either.")


def _fool(rng: np.random.Generator, sizes: Sizes) -> Iterator[object]:
    from fooldigits.data import load_mnist
    from fooldigits.evolve import FoolResult, GAConfig, evolve, run_to_end
    from fooldigits.network import Network

    net = Network.load()
    config = GAConfig()
    one = None
    for event in evolve(net, 2, 1, config, rng):
        if isinstance(event, FoolResult):
            one = event
        else:
            yield event  # the command line draws these live
    assert one is not None
    yield Say(f"A '2' at {100 * one.confidences[0]:.4f}% after {one.generations[0]} "
              "generations of crossover and mutation -- without ever looking inside the network.")
    ten = [run_to_end(evolve(net, d, 1, config, rng)) for d in range(10)]
    yield Images("one fooling image per digit, each above 99.99%",
                 np.concatenate([r.images for r in ten]),
                 [f"'{r.digit}' {100 * r.confidences[0]:.3f}%" for r in ten])
    many = run_to_end(evolve(net, 2, sizes.fool_mean, config, rng))
    data = load_mnist()
    real = data.train_images[data.train_labels == 2].mean(axis=0)
    yield Images("what the network wants vs what people write",
                 np.stack([many.images.mean(axis=0), real]),
                 [f"mean of {sizes.fool_mean} fooling 2s", "mean of the real 2s"])


def _drawings(rng: np.random.Generator, sizes: Sizes) -> Iterator[object]:
    from fooldigits.data import load_mnist
    from fooldigits.drawings import normalise, paint, scramble_background
    from fooldigits.network import Network

    net = Network.load()
    data = load_mnist()
    two = data.test_images[1]  # a '2'
    pictures = {"edge": paint(two, 400, (0, 0, 400)),  # drawn to the canvas edges
                "small": paint(two, 400, (57, 57, 286))}  # small and centred
    shown, captions = [], []
    for name, page in pictures.items():
        pixels = 1 - page / 255.0
        for raw in (True, False):
            image = normalise(pixels, raw=raw)
            p = net.probabilities(image[None])[0]
            shown.append(image)
            captions.append(f"{name}, {'raw' if raw else 'normalised'}: {p.argmax()} "
                            f"{100 * p.max():.1f}%")
    yield Images("one '2' drawn to the edges and small, each shrunk raw (as the seed did) "
                 "or prepared as MNIST was", np.stack(shown), captions)
    x, y = data.test_images[: sizes.test_images], data.test_labels[: sizes.test_images]
    rows: list[tuple[object, ...]] = []
    for level in (0.0, 0.1, 0.3, 0.5):
        accuracy, confidence = net.score(scramble_background(x, level, rng), y)
        rows.append((f"{level:.0%}", f"{100 * accuracy:.1f}%", f"{100 * confidence:.1f}%"))
    yield Table("noise in the background only", ["noise", "accuracy", "mean confidence"], rows)


def _prior(rng: np.random.Generator, sizes: Sizes) -> Iterator[object]:
    from fooldigits.network import Network
    from fooldigits.stats import compare_priors

    runs = list(compare_priors(Network.load(), 2, sizes.prior_count, rng))
    yield Images(f"mean of {sizes.prior_count} fooling 2s under each prior, and real 2s",
                 np.stack([r.mean_image for r in runs]),
                 ["plain GA", "statistics prior", "location-aware prior", "real 2s"])
    yield Table("naturalness", ["images", "at 99.99%", "stats distance", "mean correlation"],
                [(r.method, f"{100 * r.reached:.0f}%", r.naturalness["distance"],
                  r.naturalness["correlation"]) for r in runs])
    fakes, real = min(r.reached for r in runs[:3]), runs[3].reached
    fake_share = "Every fake" if fakes == 1 else f"At least {100 * fakes:.0f}% of each kind of fake"
    yield Say(f"{fake_share} reaches 99.99%; of the real 2s, {100 * real:.0f}% do. The "
              "location-aware prior's mean looks like a 2, and each of its images still fools "
              "the network.")


def _meaning(rng: np.random.Generator, sizes: Sizes) -> Iterator[object]:
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
            "fooldigits/data.py", ("data.load_mnist", "data.read_idx"), "data", _data),
    Chapter("network", "2. A network that reads digits",
            "Nielsen's network: 784 inputs, 100 sigmoid neurons, 10 outputs, trained by "
            "stochastic gradient descent with backpropagation. It reads 98% of digits it "
            "has never seen.",
            "fooldigits/network.py", ("network.Network.backprop", "network.sgd"), "network",
            _network),
    Chapter("pca", "3. Eigen-digits: a simpler way to look",
            "Principal component analysis finds the directions in which handwritten digits "
            "vary most. Drawn as images they are ghostly strokes, and nearest neighbours "
            "in 50 of them classify almost as well as the network.",
            "fooldigits/pca.py", ("pca.PCA.fit", "pca.knn"), "pca", _pca),
    Chapter("dream", "4. Dreaming: ask the network what a digit is",
            "Freeze the weights and change the pixels instead, following the gradient "
            "until the network is sure. What comes out is noise.",
            "fooldigits/dream.py", ("dream.dream", "network.Network.input_gradient"), "dream",
            _dream),
    Chapter("fool", "5. Fooling: evolve noise the network trusts",
            "A genetic algorithm breeds random images, keeping those the network is most "
            "confident about. It never looks inside the network, and still makes it 99.99% "
            "sure of noise (Nguyen, Yosinski & Clune 2015).",
            "fooldigits/evolve.py", ("evolve.evolve", "evolve.transfer_matrix"), "evolve", _fool),
    Chapter("drawings", "6. Your own drawings",
            "The same '2' drawn to the edges of the canvas and small in the middle; then "
            "real test digits with noise in the background only. A person reads them all.",
            "fooldigits/drawings.py", ("drawings.normalise", "drawings.scramble_background"),
            "drawings", _drawings),
    Chapter("prior", "7. A natural-image prior",
            "Give the genetic algorithm the statistics of real digits: pixels drawn from "
            "their histogram, neighbours as correlated as theirs, or (beyond the original) "
            "statistics that know where a '2' has its strokes.",
            "fooldigits/stats.py", ("stats.StatsPrior", "stats.LocalPrior"), "stats", _prior),
    Chapter("meaning", "8. What it means",
            "A network that reads 98% of handwritten digits is sure of noise, misreads a "
            "digit drawn to the edge, and loses its accuracy (but not its confidence) when "
            "the background is speckled. It learned a function of 784 numbers that happens "
            "to agree with people on the images it was shown -- not what a digit is. That is "
            "the lesson: artificial neural networks are not human.",
            "fooldigits/tutor.py", ("tutor.chapter",), "index", _meaning),
]


def chapter(key: str) -> int:
    """Index of the chapter called `key` (data, network, pca, dream, fool, ...)."""
    keys = [c.key for c in CHAPTERS]
    if key not in keys:
        raise FoolDigitsError(f"unknown chapter {key!r}; chapters: {', '.join(keys)}")
    return keys.index(key)


def docs_dir() -> Path:
    """The docs chapters: inside the installed package, or beside it in a checkout."""
    for candidate in (Path(__file__).parent / "docs", Path(__file__).parent.parent / "docs"):
        if (candidate / "index.md").is_file():
            return candidate
    raise FoolDigitsError("the docs chapters are missing from this installation")


MODULES = ("data", "network", "render", "pca", "ceiling", "dream", "evolve", "stats",
           "drawings", "speed", "tutor", "exercises", "drawpad", "canvas", "keys", "screen", "game")
REFERENCE = re.compile(r"`((?:" + "|".join(MODULES) + r")(?:\.[A-Za-z_]\w*)+)(?:\(\))?`")


def references(markdown: str) -> list[str]:
    """The `module.function` names a docs chapter quotes, in order, without repeats."""
    names = [m for m in REFERENCE.findall(markdown) if not m.endswith((".py", ".md"))]
    return list(dict.fromkeys(names))


def resolve(name: str) -> object:
    """The object `pca.PCA.fit` names (fooldigits.pca, then .PCA, then .fit)."""
    module_name, *attributes = name.split(".")
    obj: object = importlib.import_module(f"fooldigits.{module_name}")
    for attribute in attributes:
        if not hasattr(obj, attribute):
            raise FoolDigitsError(f"{name} does not exist in fooldigits")
        obj = getattr(obj, attribute)
    return obj


def topics() -> list[str]:
    """The docs chapters `fooldigits read` knows."""
    return sorted(path.stem for path in docs_dir().glob("*.md"))
