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
checked against the SHA-256 digests of the shipped files, so a damaged install is caught
before it silently trains on garbage. (A test checks that they decompress to the bytes
whose digests every MNIST mirror publishes; hashing the 11 MB as shipped instead of the
55 MB they hold takes 8 instead of 32 ms, at every load of MNIST.)

A header is a promise a hostile file can break: `read_idx` reads only regular files
(a FIFO would hang, /dev/zero never ends), multiplies the dimensions without overflow,
and reads the promised bytes plus one -- never more, even from a gzip bomb.

The split follows Nielsen's book: the first 50,000 training images train, the last
10,000 are the validation set, and the 10,000 test images are touched only to report.

What it leaves out: downloading (fooldigits never downloads), and data augmentation
(see `network.shift_images`).

Layout: one image per row. `load_mnist().train_images` has shape (50000, 784), dtype
float32, values in [0, 1]; labels are (n,) uint8 in 0..9. Every other module uses this.
The one exception is `load_mnist(train_bytes=True)` for `fooldigits train`: its training
images stay (n, 784) uint8 bytes, which `training.sgd` makes floats a block at a time.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.reading import open_regular, read_at_most

__all__ = ["Dataset", "load_mnist", "load_raw", "read_idx", "to_float", "training_digits"]

BUNDLED_DIR = Path(__file__).parents[1] / "mnist"
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
MAX_IDX_BYTES = 2**30  # 1 GiB: EMNIST's biggest file is 550 MB, MNIST's 47 MB
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the *uncompressed* canonical files, as every MNIST mirror publishes them:
# tests/test_data.py holds the bundled files to these.
PUBLISHED_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# SHA-256 of the bundled files as shipped (deterministic gzip), checked at every load.
SHA256 = {
    "train-images-idx3-ubyte": "71524e2cd1ad2968737f7f2f2ff69cbfc32df8ccddff51593f7cb2d4e0eb5b64",
    "train-labels-idx1-ubyte": "fe03b8bd7915f70bf5aa08be480aa413fbd85afcaa58b35d230d335f284fd88e",
    "t10k-images-idx3-ubyte": "5634745efa576a17e7d4cf5cd9d09123c75e6538e5114267c2d156edaf519341",
    "t10k-labels-idx1-ubyte": "ae18e77e031ccde52407f794d123116439864147d33ac992975f85dd4dc42af6",
}


@dataclass(frozen=True)
class Dataset:
    """Nielsen's three-way split; images (n, 784) float32 in [0, 1], labels (n,) uint8.

    From `load_mnist(train_bytes=True)` the training images are the bytes they are
    stored as instead, (n, 784) uint8 (a pixel is byte / 255): `training.sgd` takes
    either, and turns bytes into floats one block at a time.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    validation_images: np.ndarray
    validation_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def read_idx(path: Path, sha256: str | None = None) -> np.ndarray:
    """Read one IDX file (raw or gzip) into a uint8 array: (n, rows, cols) or (n,).

    1. open it only if it is a regular file (never a FIFO or /dev/zero, which would
       hang or never end); if a digest is given, compare the SHA-256 of the file as
       stored (the bundled .gz), then read it, un-gzipping if it starts with 0x1f 0x8b;
    2. parse the big-endian header, and refuse a size over `MAX_IDX_BYTES`;
    3. read the bytes the header promises plus one: one too many means the file is
       longer than its header says, so a gzip bomb costs at most the promised size.
    """
    with open_regular(path, "data file") as file:
        try:
            if sha256 is not None:  # never more than MAX_IDX_BYTES + 1: a file can be
                digest, left = hashlib.sha256(), MAX_IDX_BYTES + 1  # endless (/proc, sparse)
                while left > 0 and (piece := file.read(min(2**20, left))):
                    digest.update(piece)
                    left -= len(piece)
                if left == 0 or digest.hexdigest() != sha256:
                    raise FoolDigitsError(f"data file {path} is damaged: its SHA-256 does "
                                          "not match the file fooldigits ships")
                file.seek(0)
            raw = _read_idx_bytes(path, file)
        except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
            raise FoolDigitsError(f"cannot read data file {path}: {err}") from None
    shape, offset = _idx_shape(path, raw)
    array = np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)
    array.flags.writeable = False  # load_raw caches it: nobody may change it in place
    return array


def _idx_shape(path: Path, head: bytes | bytearray) -> tuple[tuple[int, ...], int]:
    """The shape a header promises and the header's length; no arithmetic overflows."""
    if len(head) < 8:
        raise FoolDigitsError(f"data file {path} is truncated: no IDX header")
    magic, count = int.from_bytes(head[:4], "big"), int.from_bytes(head[4:8], "big")
    if magic == IMAGE_MAGIC:
        if len(head) < 16:
            raise FoolDigitsError(f"data file {path} is truncated: no image size in the header")
        rows, cols = int.from_bytes(head[8:12], "big"), int.from_bytes(head[12:16], "big")
        return (count, rows, cols), 16
    if magic == LABEL_MAGIC:
        return (count,), 8
    raise FoolDigitsError(f"{path} is not an IDX file (magic {magic}, expected 2051 or 2049)")


def _read_idx_bytes(path: Path, file: BinaryIO) -> bytes:
    """Steps 1-3 of `read_idx`: the header and exactly the bytes it promises.

    A gzip file is read through the standard library's `gzip.GzipFile`, which un-gzips
    only as far as it is asked to (and handles several members one after another, each
    checked by its CRC): asking for the promised bytes plus one is the bound."""
    stream: BinaryIO | gzip.GzipFile = file
    if file.read(2) == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=file, mode="rb")
    file.seek(0)
    head = stream.read(16)
    shape, offset = _idx_shape(path, head)
    size = math.prod(shape)  # Python ints: 2**32 * 2**32 * 2**32 does not wrap to 0
    if size > MAX_IDX_BYTES:
        dims = " x ".join(f"{n:,}" for n in shape)
        raise FoolDigitsError(f"data file {path} has a header asking for {dims} = {size:,} "
                              f"bytes; fooldigits reads at most {MAX_IDX_BYTES:,}")
    expected = offset + size
    rest = max(expected + 1 - len(head), 0)  # the promised bytes plus one, at most
    raw = read_at_most(stream, rest, head[:expected])
    if len(raw) != expected or len(head) > expected:
        problem = ("truncated" if len(raw) < expected else "longer than its header says")
        have = f"{len(raw):,}" if len(raw) < expected else f"more than {expected:,}"
        raise FoolDigitsError(
            f"data file {path} is {problem}: {have} bytes, header says {expected:,}")
    return raw


BYTE_TO_PIXEL = np.float32(1 / 255)  # a stored byte times this is its pixel in [0, 1]


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images (n, 28, 28) -> (n, 784) float32 in [0, 1], one image a row."""
    x = images.reshape(len(images), math.prod(images.shape[1:])).astype(np.float32)  # (n, 784)
    x *= BYTE_TO_PIXEL
    return x


def _find(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if os.path.lexists(candidate):  # a broken link is found, then reported by its reader
            return candidate
    raise FoolDigitsError(f"data directory {directory} has no {name} (or {name}.gz)")


def _where(data_dir: Path | None) -> str:
    return "the bundled MNIST" if data_dir is None else f"data directory {data_dir}"


@lru_cache(maxsize=4)
def load_raw(data_dir: Path | None = None) -> dict[str, np.ndarray]:
    """The four IDX arrays as stored (uint8), checked for shape; cached for the process.

    With `data_dir=None` the bundled files are used and their SHA-256 digests checked;
    any other directory must hold the four standard names (raw or .gz), e.g.
    Fashion-MNIST, and is checked for structure only: images 28x28, one label 0..9 per
    image, and at least one training and one test image.
    """
    directory = BUNDLED_DIR if data_dir is None else Path(data_dir)
    if not directory.is_dir():
        problem = "is not a folder" if directory.exists() else "does not exist"
        raise FoolDigitsError(f"data directory {directory} {problem}")
    arrays, paths = {}, {}
    for key, name in FILES.items():
        paths[key] = _find(directory, name)
        digest = None if data_dir is not None else (  # a gunzipped copy: the published one
            SHA256 if paths[key].suffix == ".gz" else PUBLISHED_SHA256)[name]
        arrays[key] = read_idx(paths[key], digest)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        image_path, label_path = paths[f"{split}_images"], paths[f"{split}_labels"]
        if images.ndim != 3:
            raise FoolDigitsError(f"{image_path} holds labels (magic {LABEL_MAGIC}), "
                                  "but it should hold images")
        if labels.ndim != 1:
            raise FoolDigitsError(f"{label_path} holds images (magic {IMAGE_MAGIC}), "
                                  "but it should hold labels")
        if images.shape[1:] != (28, 28):
            rows, cols = images.shape[1:]
            raise FoolDigitsError(f"{image_path} holds {rows}x{cols} images; "
                                  "fooldigits needs 28x28")
        if len(images) == 0:
            kind = "training" if split == "train" else "test"
            raise FoolDigitsError(f"{image_path} holds no images; fooldigits needs at "
                                  f"least one {kind} image")
        if len(images) != len(labels):
            raise FoolDigitsError(f"{split} set has {len(images):,} images but "
                                  f"{len(labels):,} labels")
        if labels.max() > 9:
            raise FoolDigitsError(f"{label_path} has labels up to {labels.max()}; "
                                  "expected digits 0..9")
    return arrays


@lru_cache(maxsize=4)
def load_mnist(data_dir: Path | None = None, validation: int | None = None,
               train_bytes: bool = False) -> Dataset:
    """Nielsen's split of MNIST (or another IDX set in `data_dir`) as float images.

    The last `validation` training images validate; by default the last sixth. If the
    training file held 60000 images, then images 0..49999 train and 50000..59999
    validate, exactly Nielsen's split. Cached for the process.

    With `train_bytes`, the training images are left as bytes, (n, 784) uint8, for
    `training.sgd`, which makes floats of each mini-batch as it gathers it: `fooldigits
    train` then never holds a float copy of all 50,000 (157 MB, and the time to fill it:
    0.05-0.7 s in fresh processes on a busy two-core machine, docs/data.md).
    """
    raw = load_raw(data_dir)
    total = len(raw["train_images"])
    if validation is None:
        validation = total // 6
    if validation < 0:
        raise FoolDigitsError(f"the validation set cannot have {validation} images; "
                              "ask for 0 or more")
    n_train = total - validation
    if n_train < 1:
        raise FoolDigitsError(f"cannot hold out {validation:,} validation images: the "
                              f"training file holds only {total:,}, and at least one must "
                              "be left to train on")
    images = raw["train_images"].reshape(total, -1)  # (60000, 784) bytes, a view
    return Dataset(
        train_images=images[:n_train] if train_bytes else to_float(images[:n_train]),
        train_labels=raw["train_labels"][:n_train],
        validation_images=to_float(images[n_train:]),
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
        raise FoolDigitsError(f"digit must be 0..9, got {digit}")
    if count < 1:
        raise FoolDigitsError(f"count must be at least 1, got {count}")
    raw = load_raw(data_dir)
    labels = raw["train_labels"]
    index = np.arange(len(labels)) if digit is None else np.flatnonzero(labels == digit)
    if len(index) == 0:
        raise FoolDigitsError(f"the training set of {_where(data_dir)} has no images of "
                              f"the digit {digit}")
    index = index[:count]
    return to_float(raw["train_images"][index]), labels[index]
