"""The rows of `make bench`, in the order they print. See the package docstring to add one."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

import numpy as np

from fooldigits.bench import Check, Context, Ratio, Result, references, row
from fooldigits.models import load_model
from fooldigits.models.network import Network

if TYPE_CHECKING:  # the GA is imported by the rows that run it
    from fooldigits.lessons.evolve import FoolResult, GAConfig
    from fooldigits.models.base import Classifier

PYTHON = sys.executable
GENERATIVE_GOAL = 10.0  # see docs/speed.md, "Other kinds"
R = TypeVar("R")


def finish(generator: Generator[object, None, R]) -> R:
    """Run a generator (`evolve.evolve`) to its end unwatched; return what it returns."""
    while True:
        try:
            next(generator)
        except StopIteration as done:
            return cast(R, done.value)


def judged(config: GAConfig, result: FoolResult) -> int:
    """How many images a GA run judged: a population at the start of each run, then the
    population less its elites (which are judged once) every generation."""
    children = config.population - config.elite
    return int((config.population + result.generations * children).sum())


def ga_floor(net: Network, config: GAConfig, result: FoolResult) -> None:
    """The forward passes alone of a GA run: as many images as it judged, in batches of
    the population of all its slots."""
    references.forward_floor(net.w, net.b, judged(config, result),
                             config.slots * config.population, np.random.default_rng(0))


def shipped_conv() -> tuple[Classifier, dict[str, np.ndarray], int]:
    """The shipped conv net, its arrays, and the images it puts through one pass (as
    `models/conv.py` batches them), for `references.conv_gemm_floor`."""
    from fooldigits.models import conv

    net = load_model(Path(conv.__file__).with_name("conv.npz"))
    arrays = net.arrays()
    c1 = arrays["w0"].shape[-1]
    return net, arrays, conv.PASS_FLOATS // (conv.KERNEL**2 * (conv.MAP1**2
                                                              + conv.MAP2**2 * c1))


@row("start-up")
def help_rows(ctx: Context) -> Iterator[Result]:
    from fooldigits.cli import app

    commands, groups = len(app.registered_commands), len(app.registered_groups)
    bare = references.bare_typer_app(commands, groups)
    timed = ctx.compare_commands([PYTHON, "-m", "fooldigits", "--help"],
                                 [PYTHON, "-c", bare, "--help"], 3 if ctx.quick else 9)
    yield timed.row(f"`fooldigits --help` / bare typer app ({commands} commands)", goal=1.5)


@row("data")
def data_rows(ctx: Context) -> Iterator[Result]:
    from fooldigits.core import data

    def first_load() -> None:
        data.load_raw.cache_clear()  # both are cached for the process: forget them
        data.load_mnist.cache_clear()
        data.load_mnist()

    timed = ctx.compare(first_load, lambda: references.bare_mnist(data.BUNDLED_DIR),
                        ctx.repeat)
    yield timed.row("first `load_mnist()` / gunzip + frombuffer", goal=1.5)


@row("training")
def training_rows(ctx: Context) -> Iterator[Result]:
    epochs = 3  # even --quick: one epoch would time mostly the start-up
    out = Path(tempfile.gettempdir()) / f"fooldigits-bench-{os.getpid()}.npz"
    command = [PYTHON, "-m", "fooldigits", "train", "--hidden", "100", "--epochs", str(epochs),
               "--eta", "0.5", "--final-eta", "1", "--lmbda", "0", "--momentum", "0",
               "--batch-size", "10", "--no-shift", "--no-color", "--out", str(out)]
    bare_out = out.with_name(f"{out.stem}-bare.npz")
    bare = [PYTHON, "-c", "import sys; from fooldigits.bench import references; "
            "references.bare_training_process(int(sys.argv[1]), sys.argv[2])", str(epochs),
            str(bare_out)]
    # whole processes of 2 s vary by +-15% (and up to 40%) from run to run on a shared
    # machine: the median of eleven pairs, not three (docs/speed.md, "Training")
    timed = ctx.compare_commands(command, bare, 3 if ctx.quick else 11)
    yield timed.row(f"`fooldigits train`, {epochs} epoch(s) / bare SGD loop counting "
                    "validation and test each epoch, both whole processes", goal=1.2)
    # the shipped recipe's peak memory, from a small wrapper process that reports its
    # child's peak alone (a child forked from this large process would count this
    # process's pages in its own peak)
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN)"
               ".ru_maxrss)")
    peak: list[str] = []
    ctx.command([PYTHON, "-c", wrapper, PYTHON, "-m", "fooldigits", "train", "--epochs", "1",
                 "--no-color", "--out", str(out)], peak)
    out.unlink(missing_ok=True)
    bare_out.unlink(missing_ok=True)
    megabytes = int(peak[0]) / 1024
    yield Check("peak memory of `fooldigits train` (shipped recipe)", f"{megabytes:.0f} MB",
                "<= 250 MB", megabytes <= 250)


@row("fooling")
def ga_rows(ctx: Context) -> Iterator[Result]:
    from fooldigits.lessons import stats
    from fooldigits.lessons.encodings import Direct, Pixels, coin_flips
    from fooldigits.lessons.evolve import GAConfig, Prior, evolve

    net = load_model()
    assert isinstance(net, Network)  # the bench measures the shipped dense network
    count = 200 if ctx.quick else 1000
    config = GAConfig()
    results: list[FoolResult] = []

    def plain() -> None:
        results.append(finish(evolve(net, 2, count, config, np.random.default_rng(0))))

    def floor() -> None:
        ga_floor(net, config, results[-1])

    timed = ctx.compare(plain, floor, ctx.steady)
    yield timed.row(f"GA, {count} fooling 2s / forward-pass floor", goal=1.5)
    reached = sum(int(r.reached.sum()) for r in results)
    yield Check("  every GA run above reaches 0.9999", f"{reached}/"
                f"{count * len(results)}", "all", reached == count * len(results))

    class WhereDirect(Direct):
        """The direct encoding crossing over with the plain `np.where`."""

        def crossover(self, a: Pixels, b: Pixels, rng: np.random.Generator) -> Pixels:
            return Pixels(np.where(coin_flips(rng, a.genes.shape), a.genes, b.genes))

    def plain_where() -> None:
        finish(evolve(net, 2, count, config, np.random.default_rng(0),
                          encoding=WhereDirect(config.mutation_rate)))

    # the one trick (`encodings.pick`) must buy at least 20% of the whole command
    timed = ctx.compare(plain, plain_where, ctx.repeat)
    yield timed.row(f"  GA / the same GA crossing over by np.where, {count} 2s", goal=0.83)
    # the priors' own cost: the same generations (at least 50) with and without a prior
    shaped_config = GAConfig(min_generations=50)

    def plain_50() -> None:
        finish(evolve(net, 2, count, shaped_config, np.random.default_rng(0)))

    for name in ("stats", "local"):
        prior = stats.make_prior(name, 2)
        shaped: list[FoolResult] = []

        def with_prior(prior: Prior | None = prior, shaped: list[FoolResult] = shaped) -> None:
            shaped.append(finish(evolve(net, 2, count, shaped_config,
                                            np.random.default_rng(0), prior=prior)))

        timed = ctx.compare(with_prior, plain_50, ctx.repeat)
        yield timed.row(f"{name} prior GA / plain GA, {count} 2s, >= 50 generations each",
                        goal=1.5)
        if name == "local":
            corr = stats.naturalness(shaped[-1].images, 2)["correlation"]
            yield Check("  local prior: mean image vs real 2s, correlation",
                        f"{corr:.3f}", ">= 0.8", corr >= 0.8)


@row("fooling")
def cppn_rows(ctx: Context) -> Iterator[Result]:
    """The GA over CPPN genomes (`cppn.py`) against the forward passes alone on as many
    images: above 1.0 is decoding (a small network at every pixel), NEAT's mutations and
    the GA's own work."""
    from fooldigits.lessons.cppn import CPPN, neighbour_correlation
    from fooldigits.lessons.evolve import GAConfig, evolve

    net = load_model()
    assert isinstance(net, Network)  # the bench measures the shipped dense network
    count = 40 if ctx.quick else 200
    config = GAConfig()
    results: list[FoolResult] = []

    def painted() -> None:
        results.append(finish(evolve(net, 2, count, config, np.random.default_rng(0),
                                         CPPN())))

    def floor() -> None:
        ga_floor(net, config, results[-1])

    timed = ctx.compare(painted, floor, ctx.steady)
    yield timed.row(f"CPPN GA, {count} fooling 2s / forward-pass floor", goal=2.0)
    reached = sum(int(r.reached.sum()) for r in results)
    corr = float(np.mean(neighbour_correlation(results[-1].images)))
    yield Check("  every CPPN run reaches 0.9999; neighbour correlation of the images",
                f"{reached}/{count * len(results)}; {corr:.2f}", "all; >= 0.8",
                reached == count * len(results) and corr >= 0.8)
    # the same GA against the conv net (issue 24's question, "is this model fooled
    # too?"): a decode costs the same per image whichever classifier judges it, so its
    # share depends on how much the classifier's own forward pass costs
    convnet, arrays, batch = shipped_conv()
    runs = 10 if ctx.quick else 40
    against_conv: list[FoolResult] = []

    def painted_conv() -> None:
        against_conv.append(finish(evolve(convnet, 2, runs, config,
                                          np.random.default_rng(0), CPPN())))

    def conv_floor() -> None:
        references.conv_gemm_floor(arrays, judged(config, against_conv[-1]), batch,
                                   np.random.default_rng(0))

    timed = ctx.compare(painted_conv, conv_floor, ctx.repeat)
    yield timed.row(f"CPPN GA against the conv net, {runs} fooling 2s / its im2col matrix "
                    "products", goal=2.0)
    reached = sum(int(r.reached.sum()) for r in against_conv)
    yield Check("  every CPPN run against the conv net reaches 0.9999",
                f"{reached}/{runs * len(against_conv)}", "all",
                reached == runs * len(against_conv))


@row("fooling")
def every_digit_rows(ctx: Context) -> Iterator[Result]:
    from fooldigits.lessons import stats
    from fooldigits.lessons.dream import DreamConfig, dream
    from fooldigits.lessons.evolve import GAConfig, evolve

    net = load_model()
    assert isinstance(net, Network)  # the bench measures the shipped dense network
    runs = 5 if ctx.quick else 20
    results = [finish(evolve(net, d, runs, GAConfig(), np.random.default_rng(d)))
               for d in range(10)]
    reached = sum(int(r.reached.sum()) for r in results)
    hardest = max(results, key=lambda r: float(np.median(r.generations)))
    yield Check(f"every digit reaches 0.9999 ({runs} runs each)", f"{reached}/{10 * runs}; "
                f"slowest '{hardest.digit}', median {np.median(hardest.generations):.0f} gen.",
                "all", reached == 10 * runs)
    confidences = np.concatenate([finish(evolve(
        net, d, runs, GAConfig(min_generations=50), np.random.default_rng(d),
        prior=stats.make_prior("stats", d))).confidences for d in range(10)])
    yield Check(f"stats prior, every digit ({runs} runs each)", f"lowest {confidences.min():.5f}",
                ">= 0.99", bool(confidences.min() >= 0.99))
    dreamed = dream(net, np.arange(10), DreamConfig(), np.random.default_rng(0)).confidence
    yield Check("dream all ten digits", f"min {dreamed.min():.4f}, median "
                f"{np.median(dreamed):.4f}", "min >= 0.99, median >= 0.999",
                bool(dreamed.min() >= 0.99 and np.median(dreamed) >= 0.999))


@row("fighting back")
def attack_rows(ctx: Context) -> Iterator[Result]:
    """The epsilon sweep of `fooldigits adversarial` (FGSM and 40-step PGD at six
    epsilons) against as many bare forward-backward passes down to the pixels."""
    from fooldigits.core.data import load_mnist
    from fooldigits.lessons import adversarial

    net = load_model()
    assert isinstance(net, Network)  # the bench measures the shipped dense network
    data = load_mnist()
    n = 1000 if ctx.quick else 5000
    x, y = data.test_images[:n], data.test_labels[:n]
    epsilons = adversarial.EPSILONS
    nonzero = sum(1 for e in epsilons if e > 0)
    passes = nonzero * (1 + adversarial.PGD_STEPS)  # one FGSM step and 40 PGD steps each

    def sweep() -> None:
        for _ in adversarial.attack_table(net, x, y, epsilons):
            pass

    timed = ctx.compare(
        sweep, lambda: references.input_gradients(net.w, net.b, x, y, passes), 1)
    yield timed.row(f"attack sweep on {n:,} digits (FGSM + PGD-40, {nonzero} epsilons) / "
                    f"{passes} bare gradient passes", goal=2.0)


@row("fighting back")
def strong_attack_rows(ctx: Context) -> Iterator[Result]:
    """`adversarial --restarts 5`: PGD-40 from five random starts in the epsilon-ball,
    the strongest kept per digit (`adversarial.pgd(restarts=5)`), against as many bare
    forward-backward passes (5 x 40); above 1.0 is the projection, the random starts
    and judging which restart won."""
    from fooldigits.core.data import load_mnist
    from fooldigits.lessons import adversarial

    net = load_model()
    assert isinstance(net, Network)  # the bench measures the shipped dense network
    data = load_mnist()
    n, restarts = (500, 5) if ctx.quick else (2000, 5)
    x, y = data.test_images[:n], data.test_labels[:n]
    passes = restarts * adversarial.PGD_STEPS

    def strong() -> None:
        adversarial.pgd(net, x, y, 0.1, rng=np.random.default_rng(0), restarts=restarts)

    timed = ctx.compare(strong,
                        lambda: references.input_gradients(net.w, net.b, x, y, passes), 1)
    yield timed.row(f"PGD-40 x {restarts} restarts on {n:,} digits / {passes} bare gradient "
                    "passes", goal=2.0)


@row("other kinds")
def conv_rows(ctx: Context) -> Iterator[Result]:
    """The conv net's forward pass (`models/conv.py`: im2col, one matrix product per
    layer, ReLU, max-pooling, softmax) against its matrix products alone."""
    from fooldigits.core.data import load_mnist

    net, arrays, batch = shipped_conv()
    x = load_mnist().test_images[: 1000 if ctx.quick else 5000]
    timed = ctx.compare(lambda: net.probabilities(x), lambda: references.conv_gemm_floor(
        arrays, len(x), batch, np.random.default_rng(0)), ctx.steady)
    yield timed.row(f"conv forward pass, {len(x):,} digits / its im2col matrix products "
                    f"({batch} images a pass)", goal=1.5)


@row("other kinds")
def generative_rows(ctx: Context) -> Iterator[Result]:
    """Scoring by the generative model (`models/generative.py`: ten probabilistic PCAs,
    one projection onto all their directions) against the dense net's forward pass on
    the same images: what reading by synthesis costs."""
    from fooldigits.core.data import load_mnist
    from fooldigits.models.generative import Generative

    data = load_mnist()
    model = Generative(25).fit(data.train_images[:20_000], data.train_labels[:20_000],
                               data.validation_images, data.validation_labels)
    dense = load_model()
    x = data.test_images[: 2000 if ctx.quick else 10_000]
    timed = ctx.compare(lambda: model.probabilities(x), lambda: dense.probabilities(x),
                        ctx.repeat)
    yield timed.row(f"generative scoring, {len(x):,} digits / the dense net's forward pass",
                    goal=GENERATIVE_GOAL)


@row("drawing pad")
def draw_rows(ctx: Context) -> Iterator[Result]:
    """The pad's redraw after a mouse stroke: parse, paint, read, redraw."""
    from fooldigits.pad.session import bench_row

    what, project, reference = bench_row(20 if ctx.quick else 40)
    yield Ratio(f"{what} / one forward pass + full-screen render", project, reference,
                goal=5.0)
    yield Check("`fooldigits draw`: redraw after a stroke", f"{1000 * project:.1f} ms",
                "< 50 ms", project < 0.05)
