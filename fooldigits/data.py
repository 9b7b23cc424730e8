"""MNIST from canonical IDX files, as `(n, 784) float32` images in [0, 1].

What this module teaches
------------------------
How the most famous data set in machine learning is stored. Each IDX file is a tiny
binary header followed by raw bytes:

    magic (big-endian uint32)   2051 for images, 2049 for labels
    count (uint32)              e.g. 60000
    rows, cols (uint32 each)    images only: 28, 28
    count * rows * cols bytes   one unsigned byte a pixel, 0 = black, 255 = white ink

So the training images file is 16 + 60000 * 28 * 28 = 47,040,016 bytes. The four files
ship inside the package (gzip-compressed, see `fooldigits/mnist/PROVENANCE.md`) and are
checked against their published SHA-256 digests, so a damaged install is caught before
it silently trains on garbage.

The split follows Nielsen's book: the first 50,000 training images train, the last
10,000 are the validation set, and the 10,000 test images are touched only to report.

What it leaves out: downloading (fooldigits never downloads), and data augmentation
(see `network.shift_images`).

Layout: one image per row. `load_mnist().train_images` has shape (50000, 784), dtype
float32, values in [0, 1]; labels are (n,) uint8 in 0..9. Every other module uses this.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

from fooldigits import FoolDigitsError

BUNDLED_DIR = Path(__file__).parent / "mnist"
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the *uncompressed* canonical files, as every MNIST mirror publishes them.
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


@dataclass(frozen=True)
class Dataset:
    """Nielsen's three-way split; images (n, 784) float32 in [0, 1], labels (n,) uint8."""

    train_images: np.ndarray
    train_labels: np.ndarray
    validation_images: np.ndarray
    validation_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def read_idx(path: Path, sha256: str | None = None) -> np.ndarray:
    """Read one IDX file (raw or gzip) into a uint8 array: (n, rows, cols) or (n,).

    1. read the bytes, un-gzipping if the file starts with gzip's magic 0x1f 0x8b;
    2. if a digest is given, compare the SHA-256 of the uncompressed bytes;
    3. parse the big-endian header and check the file holds exactly that many bytes.
    """
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise FoolDigitsError(f"data file {path} does not exist") from None
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise FoolDigitsError(f"cannot read data file {path}: {err}") from None
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise FoolDigitsError(f"data file {path} is damaged: its SHA-256 does not match MNIST's")
    if len(raw) < 8:
        raise FoolDigitsError(f"data file {path} is truncated: no IDX header")
    magic, count = (int(v) for v in np.frombuffer(raw[:8], dtype=">u4"))
    if magic == IMAGE_MAGIC:
        if len(raw) < 16:
            raise FoolDigitsError(f"data file {path} is truncated: no image size in the header")
        rows, cols = (int(v) for v in np.frombuffer(raw[8:16], dtype=">u4"))
        shape: tuple[int, ...] = (count, rows, cols)
        offset = 16
    elif magic == LABEL_MAGIC:
        shape, offset = (count,), 8
    else:
        raise FoolDigitsError(f"{path} is not an IDX file (magic {magic}, expected 2051 or 2049)")
    expected = offset + int(np.prod(shape))
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise FoolDigitsError(
            f"data file {path} is {problem}: {len(raw)} bytes, header says {expected}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images (n, 28, 28) -> (n, 784) float32 in [0, 1], one image a row."""
    x = images.reshape(len(images), -1).astype(np.float32)  # (n, 784)
    x *= np.float32(1.0 / 255.0)
    return x


def _find(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise FoolDigitsError(f"data directory {directory} has no {name} (or {name}.gz)")


@lru_cache(maxsize=4)
def load_raw(data_dir: Path | None = None) -> dict[str, np.ndarray]:
    """The four IDX arrays as stored (uint8), checked for shape; cached for the process.

    With `data_dir=None` the bundled files are used and their SHA-256 digests checked;
    any other directory must hold the four standard names (raw or .gz), e.g.
    Fashion-MNIST, and is checked for structure only.
    """
    directory = BUNDLED_DIR if data_dir is None else Path(data_dir)
    if not directory.is_dir():
        problem = "is not a folder" if directory.exists() else "does not exist"
        raise FoolDigitsError(f"data directory {directory} {problem}")
    arrays = {}
    for key, name in FILES.items():
        digest = SHA256[name] if data_dir is None else None
        arrays[key] = read_idx(_find(directory, name), digest)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise FoolDigitsError(f"{split} images are {images.shape[1:]}, expected 28x28")
        if labels.ndim != 1 or len(images) != len(labels):
            raise FoolDigitsError(f"{split} set has {len(images)} images but {len(labels)} labels")
        if labels.size and labels.max() > 9:
            raise FoolDigitsError(f"{split} labels go up to {labels.max()}, expected 0..9")
    return arrays


@lru_cache(maxsize=4)
def load_mnist(data_dir: Path | None = None, validation: int | None = None) -> Dataset:
    """Nielsen's split of MNIST (or another IDX set in `data_dir`) as float images.

    The last `validation` training images validate; by default the last sixth. If the
    training file held 60000 images, then images 0..49999 train and 50000..59999
    validate, exactly Nielsen's split. Cached for the process.
    """
    raw = load_raw(data_dir)
    if validation is None:
        validation = len(raw["train_images"]) // 6
    n_train = len(raw["train_images"]) - validation
    if n_train < 1 or validation < 0:
        raise FoolDigitsError(f"cannot hold out {validation} of {len(raw['train_images'])} images")
    train = to_float(raw["train_images"])  # (60000, 784)
    return Dataset(
        train_images=train[:n_train],
        train_labels=raw["train_labels"][:n_train],
        validation_images=train[n_train:],
        validation_labels=raw["train_labels"][n_train:],
        test_images=to_float(raw["test_images"]),
        test_labels=raw["test_labels"],
    )


def training_digits(
    digit: int | None, count: int, data_dir: Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` training images (of one `digit`, or any): (count, 784), (count,).

    Converts only the images it returns, so showing eight digits stays fast.
    """
    if digit is not None and not 0 <= digit <= 9:
        raise FoolDigitsError(f"--digit must be 0..9, got {digit}")
    if count < 1:
        raise FoolDigitsError(f"--count must be at least 1, got {count}")
    raw = load_raw(data_dir)
    labels = raw["train_labels"]
    index = np.arange(len(labels)) if digit is None else np.flatnonzero(labels == digit)
    index = index[:count]
    return to_float(raw["train_images"][index]), labels[index]


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call `write(file)` on a temporary file beside `path`, then rename it into place.

    A crash or Ctrl-C half-way leaves the old file (or none), never a half-written one.
    """
    path = Path(path)
    if path.is_dir():
        raise FoolDigitsError(f"{path} is a directory, not a file to write")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FoolDigitsError(f"cannot write {path}: folder {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as err:
        raise FoolDigitsError(f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)  # mkstemp made the file 0600; give it the usual permissions
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise FoolDigitsError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
