"""Property-based fuzzing of every loader: valid arrays or FoolDigitsError, never a hang.

Each test builds a valid file (IDX raw or gzip, a --data-dir, PNG/BMP/JPEG/GIF, `.npz`
images, a model), then lets hypothesis damage it: overwrite bytes and 32-bit header
fields, insert, delete, truncate; for PNG, optionally recompute every chunk's CRC so
the damage reaches Pillow's decoders instead of stopping at the checksum. The loader
must return arrays that keep the promise of the data layout -- (n, 784) float32, finite,
in [0, 1] -- or raise FoolDigitsError, and finish within `TIME_LIMIT` seconds.

The examples are fixed (derandomized) so the suite is repeatable and takes a few
seconds. To hunt for new bugs, run with fresh random examples, e.g.

    FOOLDIGITS_FUZZ=2000 .venv/bin/pytest -q tests/test_fuzz.py
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
import signal
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from fooldigits import FoolDigitsError
from fooldigits.core.data import load_mnist, load_raw, read_idx
from fooldigits.lessons.drawings import load_for_network
from tests.conftest import load_dense

EXAMPLES = int(os.environ.get("FOOLDIGITS_FUZZ", "0"))
TIME_LIMIT = 10.0  # seconds for one load; far above the ~10 ms a load takes
FUZZ = settings(max_examples=EXAMPLES or 40, derandomize=not EXAMPLES, database=None,
                deadline=timedelta(seconds=TIME_LIMIT),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
T = TypeVar("T")


class Hang(BaseException):
    """A loader ran past TIME_LIMIT (a BaseException, so no loader can swallow it)."""


@contextmanager
def time_limit(seconds: float = TIME_LIMIT) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"a loader took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def load_or_refuse(load: Callable[[], T]) -> T | None:
    """`load()` within the time limit; None if it raised FoolDigitsError (and only that)."""
    with time_limit():
        try:
            return load()
        except FoolDigitsError as err:
            assert str(err) and "\n" not in str(err)  # one sentence
            return None


# -- mutations ---------------------------------------------------------------------------
MUTATION = st.tuples(st.sampled_from(["byte", "u32", "insert", "delete", "truncate"]),
                     st.integers(0, 2**16), st.integers(0, 2**32 - 1),
                     st.binary(min_size=1, max_size=8))
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=5)


def write_mutated(path: Path, arrays: dict[str, Any],
                  mutations: list[tuple[str, int, int, bytes]]) -> Path:
    """`arrays` saved as an .npz at `path`, then hypothesis's edits applied to its bytes."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(mutate(buffer.getvalue(), mutations))
    return path


def mutate(data: bytes, mutations: list[tuple[str, int, int, bytes]]) -> bytes:
    """Apply hypothesis's edits; positions wrap around the data, so all of them land."""
    out = bytearray(data)
    for kind, position, value, blob in mutations:
        at = position % (len(out) + 1)
        if kind == "byte" and out:
            out[at % len(out)] = value & 0xFF
        elif kind == "u32":
            out[at : at + 4] = struct.pack(">I", value)
        elif kind == "insert":
            out[at:at] = blob
        elif kind == "delete":
            del out[at : at + len(blob)]
        elif kind == "truncate":
            del out[at:]
    return bytes(out)


def fix_png_crcs(data: bytes) -> bytes:
    """Recompute every chunk's CRC, so damage inside a chunk reaches the decoder."""
    out, at = bytearray(data), 8
    while at + 12 <= len(out):
        length = struct.unpack(">I", out[at : at + 4])[0]
        end = at + 8 + length
        if end + 4 > len(out):
            break
        out[end : end + 4] = struct.pack(">I", zlib.crc32(bytes(out[at + 4 : end])))
        at = end + 4
    return bytes(out)


# -- what a loader may return ------------------------------------------------------------
def assert_images(images: np.ndarray) -> None:
    assert images.ndim == 2 and images.shape[1] == 784 and len(images) >= 1
    assert images.dtype == np.float32
    assert np.all(np.isfinite(images)) and images.min() >= 0 and images.max() <= 1


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 2051 if array.ndim == 3 else 2049
    return np.array([magic, *array.shape], ">u4").tobytes() + array.astype(np.uint8).tobytes()


# -- IDX files ----------------------------------------------------------------------------
@FUZZ
@given(images=st.booleans(), compress=st.sampled_from(["raw", "gzip", "gzip-then-damage"]),
       mutations=MUTATIONS, seed=st.integers(0, 2**32 - 1))
def test_fuzz_read_idx(folder: Path, images: bool, compress: str,
                       mutations: list[tuple[str, int, int, bytes]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 256, (3, 4, 5) if images else (7,), dtype=np.uint8)
    data = idx_bytes(array)
    if compress == "gzip-then-damage":
        data = mutate(gzip.compress(data), mutations)
    else:
        data = mutate(data, mutations)
        data = gzip.compress(data) if compress == "gzip" else data
    path = folder / "fuzz-idx"
    path.write_bytes(data)
    result = load_or_refuse(lambda: read_idx(path))
    if result is not None:
        assert result.dtype == np.uint8 and result.ndim in (1, 3)
        header = 16 if result.ndim == 3 else 8
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        assert len(raw) == header + result.size


@FUZZ
@given(which=st.integers(0, 3), mutations=MUTATIONS)
def test_fuzz_data_dir(folder: Path, which: int,
                       mutations: list[tuple[str, int, int, bytes]]) -> None:
    rng = np.random.default_rng(0)
    directory = folder / "data-dir"
    directory.mkdir(exist_ok=True)
    contents = {"train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28)),
                "train-labels-idx1-ubyte": rng.integers(0, 10, 12),
                "t10k-images-idx3-ubyte": rng.integers(0, 256, (6, 28, 28)),
                "t10k-labels-idx1-ubyte": rng.integers(0, 10, 6)}
    for i, (name, array) in enumerate(contents.items()):
        data = idx_bytes(array)
        (directory / name).write_bytes(mutate(data, mutations) if i == which else data)
    load_raw.cache_clear()
    load_mnist.cache_clear()
    dataset = load_or_refuse(lambda: load_mnist(directory, validation=2))
    if dataset is not None:
        for images, labels in ((dataset.train_images, dataset.train_labels),
                               (dataset.validation_images, dataset.validation_labels),
                               (dataset.test_images, dataset.test_labels)):
            assert len(images) == len(labels) and labels.dtype == np.uint8
            assert labels.size == 0 or labels.max() <= 9
        assert_images(dataset.train_images)
        assert_images(dataset.test_images)


# -- pictures -----------------------------------------------------------------------------
MODES = {"PNG": ["L", "RGB", "RGBA", "LA", "P", "1", "I;16"], "BMP": ["L", "RGB", "1", "P"],
         "JPEG": ["L", "RGB"], "GIF": ["L", "P"]}
SUFFIX = {"PNG": ".png", "BMP": ".bmp", "JPEG": ".jpg", "GIF": ".gif"}


@st.composite
def pictures(draw: st.DrawFn) -> tuple[str, bytes]:
    """A small picture in one of the formats and modes Pillow writes, as file bytes."""
    kind = draw(st.sampled_from(sorted(MODES)))
    mode = draw(st.sampled_from(MODES[kind]))
    height, width = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    pixels = np.frombuffer(draw(st.binary(min_size=height * width, max_size=height * width)),
                           dtype=np.uint8).reshape(height, width)
    if mode == "I;16":
        image = Image.fromarray(pixels.astype(np.uint16) * 257)
    else:
        image = Image.fromarray(pixels, "L").convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return kind, buffer.getvalue()


@FUZZ
@given(picture=pictures(), mutations=st.lists(MUTATION, max_size=5), fix_crc=st.booleans(),
       raw=st.booleans())
def test_fuzz_pictures(folder: Path, picture: tuple[str, bytes],
                       mutations: list[tuple[str, int, int, bytes]], fix_crc: bool,
                       raw: bool) -> None:
    kind, data = picture
    data = mutate(data, mutations)
    if kind == "PNG" and fix_crc:
        data = fix_png_crcs(data)
    path = folder / f"fuzz{SUFFIX[kind]}"
    path.write_bytes(data)
    result = load_or_refuse(lambda: load_for_network(path, raw))
    if result is not None:
        names, images = result
        assert names == [str(path)]
        assert_images(images)


@FUZZ
@given(lines=st.lists(st.text(alphabet="#. \r\tx", max_size=40), max_size=40))
def test_fuzz_text_grids(folder: Path, lines: list[str]) -> None:
    path = folder / "fuzz.txt"
    path.write_text("\n".join(lines))
    result = load_or_refuse(lambda: load_for_network(path))
    if result is not None:
        assert_images(result[1])


# -- .npz files ---------------------------------------------------------------------------
DTYPES = ["float32", "float64", "float16", "uint8", "int64", "bool", "complex64", "<U3",
          "datetime64[s]", "timedelta64[s]"]
WIDTHS: dict[int, Literal[16, 32, 64]] = {2: 16, 4: 32, 8: 64}
SHAPES = st.one_of(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
                   st.tuples(st.integers(0, 3), st.just(784)),
                   st.tuples(st.integers(0, 3), st.just(28), st.just(28)))


@st.composite
def any_arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(SHAPES)
    if dtype.kind == "f":  # pixels near [0, 1], and now and then NaN, inf or huge
        elements = st.one_of(st.floats(-0.5, 1.5, width=WIDTHS[dtype.itemsize]),
                             st.sampled_from([np.nan, np.inf, -np.inf, 1e30]).map(float)
                             .filter(lambda v: dtype.itemsize > 2 or abs(v) < 1e5))
        return draw(hnp.arrays(dtype, shape, elements=elements))
    return draw(hnp.arrays(dtype, shape))


@FUZZ
@given(images=any_arrays(), mutations=st.lists(MUTATION, max_size=3), key=st.sampled_from(
    ["images", "images", "pixels"]))
def test_fuzz_npz_images(folder: Path, images: np.ndarray,
                         mutations: list[tuple[str, int, int, bytes]], key: str) -> None:
    buffer = io.BytesIO()
    if key == "images":
        np.savez(buffer, images=images)
    else:
        np.savez(buffer, pixels=images)
    path = folder / "fuzz.npz"
    path.write_bytes(mutate(buffer.getvalue(), mutations))
    result = load_or_refuse(lambda: load_for_network(path))
    if result is not None:
        names, loaded = result
        assert len(names) == len(loaded)
        assert_images(loaded)


@st.composite
def models(draw: st.DrawFn) -> dict[str, Any]:
    """A valid 784-3-10 model, with some of its arrays replaced by anything at all."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    arrays: dict[str, Any] = {"sizes": np.array([784, 3, 10]),
                              "w0": rng.standard_normal((784, 3)).astype(np.float32),
                              "b0": np.zeros(3, np.float32), "w1": np.zeros((3, 10)),
                              "b1": np.zeros(10), "activation": np.array("sigmoid"),
                              "meta_command": np.array("fooldigits train --seed 1")}
    for key in draw(st.lists(st.sampled_from(sorted(arrays)), max_size=3, unique=True)):
        arrays[key] = draw(st.one_of(
            any_arrays(), st.text(max_size=20).map(np.array),
            st.lists(st.one_of(st.integers(-2, 20_000), st.sampled_from(
                [784, 10, 2**63 - 1])), min_size=0, max_size=5).map(np.array)))
    if draw(st.booleans()):
        del arrays[draw(st.sampled_from(sorted(arrays)))]
    return arrays


@FUZZ
@given(arrays=models(), mutations=st.lists(MUTATION, max_size=3))
def test_fuzz_model_files(folder: Path, arrays: dict[str, Any],
                          mutations: list[tuple[str, int, int, bytes]]) -> None:
    path = write_mutated(folder / "fuzz-model.npz", arrays, mutations)
    net = load_or_refuse(lambda: load_dense(path))
    if net is not None:
        assert net.sizes[0] == 784 and net.sizes[-1] == 10
        for w, b, (n_in, n_out) in zip(net.w, net.b, itertools.pairwise(net.sizes),
                                       strict=True):
            assert w.shape == (n_in, n_out) and b.shape == (n_out,)
            assert w.dtype == b.dtype == np.float32
            assert np.all(np.isfinite(w)) and np.all(np.isfinite(b))
        assert all(value.isprintable() and len(value) <= 1000 for value in net.meta.values())
        p = net.probabilities(np.full((1, 784), 0.5, np.float32))
        assert p.shape == (1, 10) and np.all(np.isfinite(p))


SHIPPED_ARRAYS: dict[str, dict[str, np.ndarray]] = {}


def shipped_arrays(name: str) -> dict[str, np.ndarray]:
    """The arrays of a shipped model file, read once."""
    from fooldigits.models import SHIPPED

    if name not in SHIPPED_ARRAYS:
        with np.load(SHIPPED / f"{name}.npz") as npz:
            SHIPPED_ARRAYS[name] = {key: npz[key] for key in npz.files}
    return dict(SHIPPED_ARRAYS[name])


@st.composite
def any_kind_models(draw: st.DrawFn) -> dict[str, Any]:
    """A shipped linear, conv or generative model, one number or array of it changed:
    NaN, inf, a finite number too large to compute with, a shape off by one, a lying kind."""
    arrays: dict[str, Any] = shipped_arrays(draw(st.sampled_from(["linear", "conv", "conv",
                                                                   "generative"])))
    key = draw(st.sampled_from(sorted(arrays)))
    change = draw(st.sampled_from(["number", "number", "shape", "kind"]))
    if change == "number" and arrays[key].dtype.kind in "fiu":
        value = draw(st.sampled_from([3e38, -3e38, 3e38, 1e7, 1e-38, np.nan, np.inf, 0.0]))
        array = np.array(arrays[key], dtype=np.float64)
        array.flat[draw(st.integers(0, max(array.size - 1, 0)))] = value
        arrays[key] = array.astype(draw(st.sampled_from([np.float32, np.float64])))
    elif change == "shape" and arrays[key].ndim:
        arrays[key] = arrays[key][..., :-1]
    else:
        arrays["kind"] = np.array(draw(st.sampled_from(["dense", "linear", "conv",
                                                         "generative", "cnn"])))
    return arrays


@FUZZ
@given(arrays=any_kind_models(), mutations=st.lists(MUTATION, max_size=2))
def test_fuzz_every_kind_of_model_file(folder: Path, arrays: dict[str, Any],
                                       mutations: list[tuple[str, int, int, bytes]]) -> None:
    """Whatever loads computes finite probabilities and gradients on any image: a conv
    file with one weight of 3e38 passed the load probe and gave NaN gradients later."""
    from fooldigits.models import load_model

    path = write_mutated(folder / "fuzz-any-kind.npz", arrays, mutations)
    model = load_or_refuse(lambda: load_model(path))
    if model is not None:
        x = np.random.default_rng(0).random((6, 784)).astype(np.float32)
        x[:3] = x[:3] > 0.5  # black and white images too
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # not underflow
            p = model.probabilities(x)
            gradient = model.input_gradient(x, np.arange(6) % model.classes)
        assert p.shape == (6, model.classes) and np.all(np.isfinite(p))
        assert gradient.shape == (6, 784) and np.all(np.isfinite(gradient))
