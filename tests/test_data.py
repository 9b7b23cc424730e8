"""The IDX reader on files the tests write, and the bundled MNIST."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.data import atomic_write, load_mnist, load_raw, read_idx, training_digits
from tests.conftest import write_idx


def test_read_idx_raw_and_gzip(tmp_path: Path) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(read_idx(write_idx(tmp_path / "a", images)), images)
    assert np.array_equal(read_idx(write_idx(tmp_path / "b.gz", images, True)), images)
    labels = np.array([3, 1, 4], dtype=np.uint8)
    assert np.array_equal(read_idx(write_idx(tmp_path / "c", labels)), labels)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no IDX header"),
        (np.array([2051, 2, 3, 4], ">u4").tobytes() + bytes(5), "truncated"),
        (np.array([2049, 3], ">u4").tobytes() + bytes(4), "longer than its header"),
        (np.array([1234, 3], ">u4").tobytes() + bytes(3), "not an IDX file"),
        (b"\x1f\x8b" + b"garbage", "cannot read"),
    ],
)
def test_read_idx_rejects_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(FoolDigitsError, match=message):
        read_idx(path)


def test_sha256_mismatch_is_reported(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint8))
    with pytest.raises(FoolDigitsError, match="damaged"):
        read_idx(path, sha256="0" * 64)


def test_bundled_mnist_is_nielsens_split() -> None:
    raw = load_raw()  # checks all four SHA-256 digests
    assert raw["train_images"].shape == (60000, 28, 28)
    data = load_mnist()
    assert data.train_images.shape == (50000, 784) and data.train_images.dtype == np.float32
    assert data.validation_images.shape == (10000, 784)
    assert data.test_images.shape == (10000, 784)
    assert data.train_images.min() == 0.0 and data.train_images.max() == 1.0
    assert list(data.test_labels[:5]) == [7, 2, 1, 0, 4]
    assert np.array_equal(data.validation_labels, raw["train_labels"][50000:])


def test_other_data_dir_and_missing_file(tiny_idx_dir: Path) -> None:
    data = load_mnist(tiny_idx_dir, validation=100)
    assert data.train_images.shape == (200, 784) and data.test_images.shape == (100, 784)
    (tiny_idx_dir / "t10k-labels-idx1-ubyte").unlink()
    load_raw.cache_clear()
    with pytest.raises(FoolDigitsError, match="has no t10k-labels"):
        load_raw(tiny_idx_dir)


def test_mismatched_counts(tmp_path: Path, tiny_idx_dir: Path) -> None:
    write_idx(tiny_idx_dir / "t10k-labels-idx1-ubyte", np.zeros(7, dtype=np.uint8))
    load_raw.cache_clear()
    with pytest.raises(FoolDigitsError, match="100 images but 7 labels"):
        load_raw(tiny_idx_dir)


def test_training_digits_selects_by_label() -> None:
    images, labels = training_digits(7, 5)
    assert images.shape == (5, 784) and set(labels) == {7}
    with pytest.raises(FoolDigitsError):
        training_digits(11, 5)
    with pytest.raises(FoolDigitsError):
        training_digits(1, 0)


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    atomic_write(path, lambda f: f.write(b"old"))

    def broken(f: object) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    assert gzip  # the module is used by conftest's writer
