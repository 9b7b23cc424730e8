"""`make bench`: measure what the issues promise, on this machine, and print one table.

Speed is measured here and never in the unit tests. Each row names what was measured,
the number, and the target it is held against. Run `python -m fooldigits.bench --quick`
for a shorter pass (fewer repetitions, smaller fooling counts).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

Row = tuple[str, str, str]
FOOLDIGITS = [sys.executable, "-m", "fooldigits"]


def _wall(args: list[str], repeat: int = 3) -> float:
    """Best wall time of a command, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def _matmul_gflops(m: int, k: int, n: int, seconds: float = 0.5) -> float:
    a = np.random.default_rng(0).random((m, k), dtype=np.float32)
    b = np.random.default_rng(1).random((k, n), dtype=np.float32)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * m * k * n * count / (time.perf_counter() - start) / 1e9


def network_rows(quick: bool) -> Iterator[Row]:
    from fooldigits.data import load_mnist
    from fooldigits.network import SHIPPED_RECIPE, EpochDone, Network, SGDConfig, sgd

    data = load_mnist()
    x, y = data.train_images, data.train_labels
    rng = np.random.default_rng(0)
    net = Network([784, 100, 10], rng=rng)
    times = [e.seconds for e in sgd(net, x, y, SGDConfig(epochs=3, batch_size=10, eta=0.1), rng)
             if isinstance(e, EpochDone)]
    epoch = min(b - a for a, b in zip([0.0, *times[:-1]], times, strict=True))
    flops = 3 * 2 * (784 * 100 + 100 * 10) * len(x)  # forward + two backward products
    yield ("epoch of 784-100-10, mini-batch 10", f"{epoch:.2f} s", "<= 0.5 s")
    yield ("  network GFLOP/s in that epoch", f"{flops / epoch / 1e9:.1f}",
           f"numpy (10x784)@(784x100): {_matmul_gflops(10, 784, 100):.1f}")
    yield ("  numpy GFLOP/s, big matmul 2048^3", f"{_matmul_gflops(2048, 2048, 2048):.1f}",
           "the machine's ceiling")
    rng = np.random.default_rng(1)
    net = Network([784, 100, 10], rng=rng)
    config = SHIPPED_RECIPE
    reached = "not reached"
    for event in sgd(net, x, y, config, rng, test=(data.test_images, data.test_labels)):
        if isinstance(event, EpochDone) and (event.test_accuracy or 0) >= 0.98:
            reached = f"{event.seconds:.1f} s (epoch {event.epoch}, {event.test_accuracy:.2%})"
            break
    yield ("shipped recipe: scratch to 98.0% test", reached, "<= 30 s")


def cli_rows(quick: bool) -> Iterator[Row]:
    yield ("`fooldigits --help` wall time", f"{_wall([*FOOLDIGITS, '--help']):.2f} s", "<= 0.3 s")
    show = _wall([*FOOLDIGITS, "show", "--count", "8"])
    yield ("`fooldigits show --count 8` wall time", f"{show:.2f} s", "<= 1 s")
    out = Path(tempfile.gettempdir()) / f"fooldigits-bench-{os.getpid()}.npz"
    # Measured from a small wrapper process: a child forked straight from this (large)
    # process would count this process's resident pages in its own peak.
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN)"
               ".ru_maxrss)")
    kb = subprocess.run([sys.executable, "-c", wrapper, *FOOLDIGITS, "train", "--epochs", "2",
                         "--out", str(out)], check=True, capture_output=True, text=True).stdout
    out.unlink(missing_ok=True)
    peak = int(kb) / 1024
    yield ("peak memory of `fooldigits train`", f"{peak:.0f} MB", "<= 600 MB")


def fooling_rows(quick: bool) -> Iterator[Row]:
    from fooldigits import stats
    from fooldigits.dream import DreamConfig, dream
    from fooldigits.evolve import GAConfig, evolve, run_to_end
    from fooldigits.network import Network

    net = Network.load()
    start = time.perf_counter()
    dreamed = dream(net, np.arange(10), DreamConfig(), np.random.default_rng(0))
    yield ("dream all ten digits", f"{time.perf_counter() - start:.2f} s, min "
           f"{dreamed.confidence.min():.4f}, median {np.median(dreamed.confidence):.4f}",
           "<= 1 s, min >= 0.99, median >= 0.999")
    runs = 5 if quick else 20
    for digit in range(10):
        r = run_to_end(evolve(net, digit, runs, GAConfig(), np.random.default_rng(digit)))
        yield (f"  fooling '{digit}' at 0.9999 ({runs} runs)",
               f"{int(r.reached.sum())}/{runs} reached, median {np.median(r.generations):.0f} "
               f"gen. (max {r.generations.max()}), {1000 * r.seconds / runs:.1f} ms/image",
               "every digit reaches")
    count = 200 if quick else 1000
    r = run_to_end(evolve(net, 2, count, GAConfig(), np.random.default_rng(0)))
    yield (f"{count} fooling '2's (plain GA)", f"{r.seconds:.1f} s, {int(r.reached.sum())}/"
           f"{count} reached, median {np.median(r.generations):.0f} gen.",
           "1000 in <= 20 s")
    for name in ("stats", "local"):
        prior = stats.make_prior(name, 2)
        r = run_to_end(evolve(net, 2, count, GAConfig(min_generations=50),
                              np.random.default_rng(0), prior))
        nat = stats.naturalness(r.images, 2)
        yield (f"{count} fooling '2's, {name} prior", f"{r.seconds:.1f} s, {int(r.reached.sum())}"
               f"/{count} reached, distance {nat['distance']:.3f}, mean corr. "
               f"{nat['correlation']:.3f}", "1000 in <= 60 s; local corr. >= 0.8")
    runs = 5 if quick else 20
    confidences = np.concatenate([run_to_end(evolve(
        net, digit, runs, GAConfig(min_generations=50), np.random.default_rng(digit),
        stats.make_prior("stats", digit))).confidences for digit in range(10)])
    yield (f"stats prior, every digit ({runs} runs each)",
           f"lowest {confidences.min():.5f}; {np.mean(confidences >= 0.99):.0%} >= 0.99, "
           f"{np.mean(confidences >= 0.9999):.0%} >= 0.9999", ">= 0.99 for every digit")

def chapter_rows(quick: bool) -> Iterator[Row]:
    yield ("`fooldigits pca` (fit + 3 classifiers)", f"{_wall([*FOOLDIGITS, 'pca'], 1):.1f} s",
           "<= 20 s")
    from fooldigits.data import load_mnist
    from fooldigits.pca import PCA

    data = load_mnist()
    start = time.perf_counter()
    PCA(50).fit(data.train_images)
    yield ("  PCA fit on 50,000 images", f"{time.perf_counter() - start:.2f} s", "<= 2 s")
    from PIL import Image

    from fooldigits.drawings import paint

    folder = Path(tempfile.mkdtemp(prefix="fooldigits-bench-"))
    for i in range(100):
        Image.fromarray(paint(data.test_images[i], 400, (20, 20, 300))).save(folder / f"{i}.png")
    files = [str(p) for p in sorted(folder.glob("*.png"))]
    yield ("classify 100 drawings (400x400 PNG)",
           f"{_wall([*FOOLDIGITS, 'classify', *files, '--json'], 1):.1f} s", "<= 5 s")
    tutor = _wall([*FOOLDIGITS, "tutor", "--no-pause", "--no-color"], 1)
    yield ("`fooldigits tutor --no-pause` (all 8 chapters)", f"{tutor:.0f} s",
           "<= 10 min, aim <= 3 min")


SECTIONS: list[tuple[str, Callable[[bool], Iterator[Row]]]] = [
    ("network", network_rows),
    ("command line", cli_rows),
    ("dreaming and fooling", fooling_rows),
    ("chapters", chapter_rows),
]


def main() -> None:
    from fooldigits.render import make_console, table
    from fooldigits.speed import keep_freed_memory

    quick = "--quick" in sys.argv
    keep_freed_memory()
    console = make_console()
    rows: list[Row] = []
    for name, section in SECTIONS:
        console.print(f"[dim]measuring {name}...[/]")
        rows.append((f"[bold]{name}[/]", "", ""))
        for row in section(quick):
            rows.append(row)
            console.print(f"  {row[0]}: {row[1]}  ({row[2]})")
    console.print(table(f"fooldigits benchmark ({os.cpu_count()} cores)",
                        ["what", "measured", "target / reference"], rows))


if __name__ == "__main__":
    main()
