"""`make bench`: measure what the issues promise, on this machine, and print one table.

Speed is measured here and never in the unit tests. Each row names what was measured,
the number, and the target it is held against. Run `python -m fooldigits.bench --quick`
for a shorter pass (fewer repetitions, smaller fooling counts).
"""

from __future__ import annotations

import os
import resource
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
    from fooldigits.network import EpochDone, Network, SGDConfig, sgd

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
    config = SGDConfig(epochs=15, batch_size=32, eta=0.1, lmbda=0.5, momentum=0.9,
                       final_eta_ratio=0.0, shift=True)
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
    subprocess.run([*FOOLDIGITS, "train", "--epochs", "2", "--out", str(out)], check=True,
                   capture_output=True)
    out.unlink(missing_ok=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # largest child
    yield ("peak memory of `fooldigits train`", f"{peak:.0f} MB", "<= 600 MB")


SECTIONS: list[tuple[str, Callable[[bool], Iterator[Row]]]] = [
    ("network", network_rows),
    ("command line", cli_rows),
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
