"""The IDX reader on files the tests write, and the bundled MNIST."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core import data
from fooldigits.core.data import load_mnist, load_raw, read_idx, training_digits
from fooldigits.core.writing import atomic_write
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


def test_bundled_files_decompress_to_the_published_mnist() -> None:
    """Loading checks the digests of the .gz files as shipped (cheaper); here the bytes
    inside them are held to the digests every MNIST mirror publishes."""
    for name, published in data.PUBLISHED_SHA256.items():
        shipped = (data.BUNDLED_DIR / f"{name}.gz").read_bytes()
        assert hashlib.sha256(shipped).hexdigest() == data.SHA256[name]
        assert hashlib.sha256(gzip.decompress(shipped)).hexdigest() == published


def test_a_changed_bundled_file_is_damaged(tmp_path: Path) -> None:
    shipped = (data.BUNDLED_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes()
    changed = tmp_path / "t10k-labels-idx1-ubyte.gz"  # the same labels, gzipped anew
    changed.write_bytes(gzip.compress(gzip.decompress(shipped), mtime=1))
    with pytest.raises(FoolDigitsError, match="damaged: its SHA-256 does not match"):
        read_idx(changed, data.SHA256["t10k-labels-idx1-ubyte"])
    assert len(read_idx(changed)) == 10_000  # no digest asked: read as any IDX file


def test_a_digest_reads_no_more_than_an_idx_file_may_hold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that never ends (a sparse terabyte, /proc/self/pagemap) must not be hashed
    to its end: past `MAX_IDX_BYTES` it cannot be a file fooldigits ships."""
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 2**10)
    path = write_idx(tmp_path / "labels", np.zeros(2000, dtype=np.uint8))
    whole = hashlib.sha256(path.read_bytes()).hexdigest()  # its own digest, and still refused
    with pytest.raises(FoolDigitsError, match="damaged"):
        read_idx(path, whole)


def test_a_gunzipped_bundled_file_is_held_to_the_published_digest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gunzip` in the bundled folder leaves the canonical bytes: not damaged."""
    for name in data.FILES.values():
        (tmp_path / f"{name}.gz").symlink_to(data.BUNDLED_DIR / f"{name}.gz")
    labels = (data.BUNDLED_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(gzip.decompress(labels))
    monkeypatch.setattr(data, "BUNDLED_DIR", tmp_path)
    read = load_raw.__wrapped__  # past the cache: it keeps the real bundled files for None
    assert len(read()["test_labels"]) == 10_000
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(gzip.decompress(labels)[:-1] + b"\x09")
    with pytest.raises(FoolDigitsError, match="damaged"):
        read()


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
    with pytest.raises(FoolDigitsError, match="has no t10k-labels"):
        load_raw.__wrapped__(tiny_idx_dir)  # past the cache, which holds the folder as read


def test_mismatched_counts(tmp_path: Path, tiny_idx_dir: Path) -> None:
    write_idx(tiny_idx_dir / "t10k-labels-idx1-ubyte", np.zeros(7, dtype=np.uint8))
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


# -- hostile --data-dir files (issue 10, items 8 and 15) ---------------------------------
# No cache to clear between a change and the next load: each test's folder is new, and a
# load that fails is never cached. (Clearing load_raw's and load_mnist's caches would drop
# the bundled MNIST too, and a later test would read and convert it again: ~0.3 s CPU.)


def test_empty_sets_are_refused_with_a_sentence(tiny_idx_dir: Path) -> None:
    write_idx(tiny_idx_dir / "t10k-images-idx3-ubyte.gz", np.zeros((0, 28, 28)), True)
    write_idx(tiny_idx_dir / "t10k-labels-idx1-ubyte", np.zeros(0))
    with pytest.raises(FoolDigitsError, match=r"holds no images; .* at least one test image"):
        load_mnist(tiny_idx_dir)
    write_idx(tiny_idx_dir / "train-images-idx3-ubyte", np.zeros((0, 28, 28)))
    write_idx(tiny_idx_dir / "train-labels-idx1-ubyte.gz", np.zeros(0), True)
    with pytest.raises(FoolDigitsError, match=r"holds no images; .* least one training image"):
        load_mnist(tiny_idx_dir)


def test_holding_out_too_many_or_negative_says_why(tiny_idx_dir: Path) -> None:
    with pytest.raises(FoolDigitsError, match="cannot hold out 300 validation images: the "
                       "training file holds only 300, and at least one must be left"):
        load_mnist(tiny_idx_dir, validation=300)
    with pytest.raises(FoolDigitsError, match="cannot have -1 images"):
        load_mnist(tiny_idx_dir, validation=-1)


def test_a_missing_digit_is_named(tiny_idx_dir: Path) -> None:
    from fooldigits.lessons.stats import real_digits

    labels = read_idx(tiny_idx_dir / "train-labels-idx1-ubyte.gz").copy()
    labels[labels == 3] = 5
    write_idx(tiny_idx_dir / "train-labels-idx1-ubyte.gz", labels, True)
    with pytest.raises(FoolDigitsError, match="has no images of the digit 3"):
        training_digits(3, 8, tiny_idx_dir)
    with pytest.raises(FoolDigitsError, match="has no images of the digit 3"):
        real_digits(3, tiny_idx_dir)
    assert training_digits(5, 8, tiny_idx_dir)[0].shape == (8, 784)
    assert real_digits(5, tiny_idx_dir).shape[1] == 784


def test_labels_file_holding_images_is_named(tiny_idx_dir: Path) -> None:
    write_idx(tiny_idx_dir / "t10k-labels-idx1-ubyte", np.zeros((100, 28, 28)))
    with pytest.raises(FoolDigitsError, match="t10k-labels-idx1-ubyte holds images \\(magic "
                       "2051\\), but it should hold labels"):
        load_raw(tiny_idx_dir)
    write_idx(tiny_idx_dir / "t10k-labels-idx1-ubyte", np.zeros(100))
    write_idx(tiny_idx_dir / "t10k-images-idx3-ubyte.gz", np.zeros((100, 14, 56)), True)
    with pytest.raises(FoolDigitsError, match="holds 14x56 images; fooldigits needs 28x28"):
        load_raw(tiny_idx_dir)


def test_a_header_past_2_to_the_63_does_not_wrap(tmp_path: Path) -> None:
    # 2**31 * 2**31 * 4 = 2**64: as int64 it wraps to 0 and matched an empty file
    (tmp_path / "wrap").write_bytes(np.array([2051, 2**31, 2**31, 4], ">u4").tobytes())
    with pytest.raises(FoolDigitsError, match="asking for 2,147,483,648 x 2,147,483,648 x 4 "
                       "= 18,446,744,073,709,551,616 bytes; fooldigits reads at most"):
        read_idx(tmp_path / "wrap")


def test_truncated_and_long_files_give_honest_byte_counts(tmp_path: Path) -> None:
    header = np.array([2051, 2, 3, 4], ">u4").tobytes()
    (tmp_path / "short").write_bytes(header + bytes(5))
    with pytest.raises(FoolDigitsError, match="is truncated: 21 bytes, header says 40"):
        read_idx(tmp_path / "short")
    (tmp_path / "long").write_bytes(header + bytes(5000))
    with pytest.raises(FoolDigitsError, match="longer than its header says: more than 40 "
                       "bytes, header says 40"):
        read_idx(tmp_path / "long")


def test_a_gzip_bomb_is_read_only_as_far_as_the_header_promises(tmp_path: Path) -> None:
    header = np.array([2049, 10], ">u4").tobytes()
    bomb = tmp_path / "bomb.gz"  # 10 labels promised, 2 GB of zeros in 128 gzip members
    bomb.write_bytes(gzip.compress(header) + gzip.compress(bytes(2**24)) * 128)
    import tracemalloc

    tracemalloc.start()
    with pytest.raises(FoolDigitsError, match="longer than its header says: more than 18"):
        read_idx(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**20  # under 1 MB read, not 2 GB


def test_fifos_devices_and_loops_as_data_files(tiny_idx_dir: Path) -> None:
    name = tiny_idx_dir / "t10k-labels-idx1-ubyte"
    name.unlink()
    os.mkfifo(name)
    with pytest.raises(FoolDigitsError, match="is a FIFO \\(named pipe\\), not a regular"):
        load_raw(tiny_idx_dir)  # before: blocked forever waiting for a writer
    name.unlink()
    name.symlink_to("/dev/zero")
    with pytest.raises(FoolDigitsError, match="is a character device, not a regular file"):
        load_raw(tiny_idx_dir)  # before: read zeros until memory ran out
    name.unlink()
    name.symlink_to(name.name)
    with pytest.raises(FoolDigitsError, match="is a symlink loop"):
        load_raw(tiny_idx_dir)  # before: "has no t10k-labels-idx1-ubyte"


def test_a_one_member_gzip_bomb_is_read_only_as_far_as_promised(
        tmp_path: Path) -> None:
    """The bound holds inside one member too: the standard library's `gzip.GzipFile`
    un-gzips only what it is asked for (the promised bytes plus one)."""
    import zlib

    header = np.array([2051, 1, 28, 28], ">u4").tobytes()
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # one gzip member
    zeros = bytes(2**24)
    body = packer.compress(header) + b"".join(packer.compress(zeros) for _ in range(4))
    bomb = tmp_path / "bomb-images.gz"  # one image promised, 64 MiB of zeros held
    bomb.write_bytes(body + packer.flush())
    import tracemalloc

    tracemalloc.start()
    with pytest.raises(FoolDigitsError, match="longer than its header says: more than 800"):
        read_idx(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**20  # under 1 MB, not 64 MiB
