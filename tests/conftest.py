"""Shared fixtures: small slices of the bundled MNIST and tiny networks trained on them."""

from __future__ import annotations

import gzip
import json
import os
import signal
from collections.abc import Generator
from pathlib import Path
from typing import Any, TypeVar, cast

# One BLAS thread, set before NumPy loads OpenBLAS, for this process and every fooldigits
# subprocess a test starts: on a busy two-core machine two spinning BLAS threads made a
# small training run 30x slower, and the suite's numbers no longer depend on the load.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

# Ctrl-C for every process a test starts: a shell that runs the suite in the background
# (`make test &`, nohup in a script) starts it with SIGINT ignored, which children inherit
# across exec, so every Ctrl-C test would wait for a signal its program never sees. A
# handler, unlike "ignore", is reset to the default in a child: Python's own, as at start.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

import numpy as np  # noqa: E402 - after the thread settings
import pytest  # noqa: E402 - after the thread settings

from fooldigits.core.data import Dataset, load_mnist  # noqa: E402 - after the thread settings
from fooldigits.lessons.training import SGDConfig, sgd  # noqa: E402
from fooldigits.models import load_model  # noqa: E402
from fooldigits.models.network import Network  # noqa: E402 - after the thread settings


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """Write a uint8 array as an IDX file (images (n, r, c) or labels (n,))."""
    magic = 2051 if array.ndim == 3 else 2049
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


@pytest.fixture(scope="session")
def mnist() -> Dataset:
    return load_mnist()


@pytest.fixture(scope="session")
def small_train(mnist: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The first 2,000 training images and labels."""
    return mnist.train_images[:2000], mnist.train_labels[:2000]


@pytest.fixture(scope="session")
def small_net(small_train: tuple[np.ndarray, np.ndarray]) -> Network:
    """784-30-10 trained for 10 quick epochs on 2,000 images (about 88% on test)."""
    rng = np.random.default_rng(0)
    net = Network([784, 30, 10], rng=rng)
    for _ in sgd(net, *small_train, SGDConfig(epochs=10, batch_size=10, eta=0.1, lmbda=1.0,
                                            momentum=0.5), rng):
        pass
    return net


R = TypeVar("R")


def result_of(generator: Generator[Any, None, R]) -> R:
    """Run a generator (an experiment, or a concept generator such as `retrain`) to its
    end without watching it; return what it returns."""
    while True:
        try:
            next(generator)
        except StopIteration as done:
            return cast(R, done.value)


def events_and_result(generator: Generator[Any, None, R]) -> tuple[list[Any], R]:
    """Everything a generator yields, and what it returns."""
    events: list[Any] = []
    while True:
        try:
            events.append(next(generator))
        except StopIteration as done:
            return events, cast(R, done.value)


def load_dense(path: Path | None = None) -> Network:
    """A model file that must hold a dense network (the shipped ones do)."""
    net = load_model(path)
    assert isinstance(net, Network), net.describe()
    return net


@pytest.fixture(scope="session", autouse=True)
def _cli_built_once() -> Generator[None, None, None]:
    """typer's CliRunner builds the click command from the app on every invoke (typer's
    `get_command` evaluates every option's annotations: ~26 ms, and the suite invokes the
    CLI hundreds of times). Build it once per app: the same command typer would build, for
    a test tool's speed only (nothing of fooldigits is replaced). A test that makes its own
    `typer.Typer()` gets its own command; an app changed after its first run is rebuilt."""
    import typer

    built: dict[int, tuple[typer.Typer, int, Any]] = {}

    def get_command(app: typer.Typer) -> Any:
        size = len(app.registered_commands) + len(app.registered_groups)
        hit = built.get(id(app))
        if hit is None or hit[0] is not app or hit[1] != size:
            hit = built[id(app)] = (app, size, typer.main.get_command(app))
        return hit[2]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("typer.testing._get_command", get_command)
        yield


@pytest.fixture(scope="session")
def shipped() -> Network:
    return load_dense()


def write_tiny_idx(folder: Path, mnist: Dataset) -> Path:
    """300 training and 100 test images of MNIST in the four standard files of `folder`."""
    train = (mnist.train_images[:300] * 255).round().reshape(-1, 28, 28)
    test = (mnist.test_images[:100] * 255).round().reshape(-1, 28, 28)
    write_idx(folder / "train-images-idx3-ubyte", train)
    write_idx(folder / "train-labels-idx1-ubyte.gz", mnist.train_labels[:300], compress=True)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", test, compress=True)
    write_idx(folder / "t10k-labels-idx1-ubyte", mnist.test_labels[:100])
    return folder


@pytest.fixture()
def tiny_idx_dir(tmp_path: Path, mnist: Dataset) -> Path:
    """A --data-dir with 300 training and 100 test images in the four standard files,
    for a test that may change or break them."""
    return write_tiny_idx(tmp_path, mnist)


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory: pytest.TempPathFactory, mnist: Dataset) -> Path:
    """The same 300 + 100 images in one folder for the whole session, for the tests that
    only read it. One folder means one entry in `load_raw`'s and `load_mnist`'s caches
    (four entries each): a new folder per test pushed the bundled MNIST out of them, and
    every later in-process command read and converted it again (~0.3 s CPU each). A test
    that changes or breaks the files takes `tiny_idx_dir`."""
    return write_tiny_idx(tmp_path_factory.mktemp("tiny-idx"), mnist)


@pytest.fixture(scope="session")
def pca_run(tmp_path_factory: pytest.TempPathFactory, tiny_data_dir: Path) -> dict[str, Any]:
    """One `fooldigits pca` on the tiny folder with every output at once: its --json
    report, its --html page and its --png picture. Each run fits eleven 784x784
    covariances (the PCA, then one per digit for the subspace classifier: ~0.7 s CPU),
    so test_pca and test_pipeline read this one instead of running it three times."""
    from typer.testing import CliRunner

    from fooldigits.cli import app

    folder = tmp_path_factory.mktemp("pca-run")
    result = CliRunner().invoke(app, [
        "pca", "--components", "20", "--show", "4", "--data-dir", str(tiny_data_dir),
        "--json", "--html", str(folder / "p.html"), "--png", str(folder / "p.png")])
    assert result.exit_code == 0, result.stderr
    return {"report": json.loads(result.stdout), "html": folder / "p.html",
            "png": folder / "p.png", "args": ["pca", "--components", "20", "--show", "4",
                                              "--data-dir", str(tiny_data_dir)]}


@pytest.fixture()
def deleted_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the test in a working folder that was deleted under it (an `rm -r` in another
    terminal): os.getcwd() and every relative path then fail with FileNotFoundError."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
