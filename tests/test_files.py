"""Safe files (reading only regular files, atomic writes, SIGTERM) and option checks."""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fooldigits import FoolDigitsError
from fooldigits.core.options import finite, make_rng, whole
from fooldigits.core.reading import NpzReader, check_input, printable, read_bytes
from fooldigits.core.writing import atomic_write, check_output


def _char_device(path: Path) -> Path:
    try:
        os.mknod(path, 0o644 | 0o020000, os.makedev(1, 3))  # like /dev/null
    except (PermissionError, AttributeError):
        pytest.skip("making a character device needs root")
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- atomic_write -------------------------------------------------------------------------
def test_atomic_write_refuses_devices_fifos_sockets_and_folders(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.npz")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock.npz"))
    (tmp_path / "dir.npz").mkdir()
    cases = {"fifo.npz": "is a FIFO", "sock.npz": "is a socket", "dir.npz": "is a folder"}
    try:
        for name, fragment in cases.items():
            with pytest.raises(FoolDigitsError, match=fragment):
                atomic_write(tmp_path / name, lambda f: f.write(b"new"))
            with pytest.raises(FoolDigitsError, match=fragment):
                check_output(tmp_path / name, ".npz")
    finally:
        server.close()
    device = _char_device(tmp_path / "dev.npz")
    with pytest.raises(FoolDigitsError, match="is a character device; fooldigits writes only"):
        atomic_write(device, lambda f: f.write(b"new"))
    assert device.lstat().st_rdev == os.makedev(1, 3)  # still the device, not a plain file
    assert _leftovers(tmp_path) == []


def test_atomic_write_writes_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "m.npz"
    target.write_bytes(b"old")
    target.chmod(0o640)
    link = tmp_path / "out.npz"
    link.symlink_to(Path("models") / "m.npz")
    atomic_write(link, lambda f: f.write(b"new"))
    assert link.is_symlink() and os.readlink(link) == str(Path("models") / "m.npz")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640  # the old file's permissions are kept
    dangling = tmp_path / "later.npz"
    dangling.symlink_to("models/new.npz")
    atomic_write(dangling, lambda f: f.write(b"made"))
    assert (tmp_path / "models" / "new.npz").read_bytes() == b"made" and dangling.is_symlink()
    (tmp_path / "a.npz").symlink_to("b.npz")
    (tmp_path / "b.npz").symlink_to("a.npz")
    with pytest.raises(FoolDigitsError, match="symlink loop"):
        atomic_write(tmp_path / "a.npz", lambda f: f.write(b"x"))
    with pytest.raises(FoolDigitsError, match="symlink loop"):
        check_output(tmp_path / "a.npz", ".npz")
    (tmp_path / "c.npz").symlink_to("models/m.npz/inside.npz")  # through a file
    with pytest.raises(FoolDigitsError, match=r"m\.npz is a file, not a folder"):
        check_output(tmp_path / "c.npz", ".npz")
    assert _leftovers(tmp_path) == [] and _leftovers(tmp_path / "models") == []


def test_atomic_write_keeps_the_old_file_on_ctrl_c(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def interrupted(f: io.BufferedWriter) -> None:
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, interrupted)  # type: ignore[arg-type]
    assert path.read_bytes() == b"old" and _leftovers(tmp_path) == []


CHILD = """
import sys, time
from pathlib import Path
from fooldigits.core.writing import Terminated, atomic_write, sigterm_as_interrupt
sigterm_as_interrupt()
def slow(f):
    for _ in range(500):
        f.write(b"x" * 100_000)
        print("writing", flush=True)
        time.sleep(0.01)
try:
    atomic_write(Path(sys.argv[1]), slow)
except Terminated as err:
    print(err, flush=True)
    sys.exit(128 + err.signum)
"""


def test_sigterm_during_a_slow_write_removes_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "big.npz"
    target.write_bytes(b"old")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(target)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline() == "writing\n"  # the temporary file exists now
    assert len(_leftovers(tmp_path)) == 1
    child.send_signal(signal.SIGTERM)
    rest = child.communicate(timeout=30)[0]
    assert child.returncode == 128 + signal.SIGTERM and "terminated by SIGTERM" in rest
    assert target.read_bytes() == b"old" and _leftovers(tmp_path) == []


# -- check_output, check_input, read_bytes -----------------------------------------------
def test_check_output_says_what_is_wrong_before_the_work(tmp_path: Path) -> None:
    assert check_output(tmp_path / "m.npz", ".npz") == tmp_path / "m.npz"
    assert check_output(tmp_path / "P.PNG", (".png",), "--png") == tmp_path / "P.PNG"
    cases = [
        (tmp_path / "m.txt", "--out wants a file name ending in .npz"),
        (tmp_path / "nowhere" / "m.npz", "folder .*nowhere does not exist"),
        (tmp_path / "file" / "m.npz", "file is a file, not a folder"),
    ]
    (tmp_path / "file").write_text("x")
    for path, pattern in cases:
        with pytest.raises(FoolDigitsError, match=pattern):
            check_output(path, ".npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # the probe is gone



def test_check_output_refuses_a_file_the_command_reads(tmp_path: Path) -> None:
    """`fool --model m.npz --out m.npz` replaced the model with fooling images; the same
    file by a symlink, a hard link or another spelling of its path is refused too."""
    model = tmp_path / "m.npz"
    model.write_bytes(b"the model")
    (tmp_path / "link.npz").symlink_to(model)
    os.link(model, tmp_path / "hard.npz")
    reads = [("the --model file", model)]
    for path in (model, tmp_path / "link.npz", tmp_path / "hard.npz",
                 tmp_path / "." / "m.npz"):
        with pytest.raises(FoolDigitsError, match="is the --model file; fooldigits will not "
                           "replace a file it reads"):
            check_output(path, ".npz", "--out", reads)
    assert check_output(tmp_path / "other.npz", ".npz", "--out", reads)
    assert check_output(model, ".npz", "--out", [("the --model file", None)])  # the shipped
    assert check_output(model, ".npz", "--out", [("x", tmp_path / "gone.npz")])
    assert model.read_bytes() == b"the model"

def test_check_output_refuses_read_only_folders_and_files() -> None:
    folder = Path(tempfile.mkdtemp())  # root's pytest folders are private; this one is not
    root = os.geteuid() == 0
    try:
        folder.chmod(0o755)
        (folder / "ro").mkdir(mode=0o555)
        (folder / "kept.npz").write_bytes(b"precious")
        (folder / "kept.npz").chmod(0o444)
        if root:
            os.seteuid(65534)  # root may write anywhere: try it as nobody
        with pytest.raises(FoolDigitsError, match="ro is not writable \\(Permission denied"):
            check_output(folder / "ro" / "m.npz", ".npz")
        with pytest.raises(FoolDigitsError, match=r"kept\.npz is read-only; fooldigits will not"):
            atomic_write(folder / "kept.npz", lambda f: f.write(b"x"))
    finally:
        if root:
            os.seteuid(0)
        shutil.rmtree(folder)


def test_the_shipped_models_and_data_are_never_replaced(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # `fool --out fooldigits/models/default.npz` (the README names that path for --model)
    # once replaced the shipped model with fooling images, and every command then failed.
    from fooldigits.core import writing
    from fooldigits.models import DEFAULT_MODEL

    before = DEFAULT_MODEL.read_bytes()
    with pytest.raises(FoolDigitsError, match=r"default\.npz ships with fooldigits.*will not "
                       r"replace it.*my-default\.npz"):
        check_output(DEFAULT_MODEL, ".npz")
    monkeypatch.setattr(writing, "PACKAGE", tmp_path)  # a package of our own to damage
    (tmp_path / "models").mkdir()
    (tmp_path / "mnist").mkdir()
    for shipped in (tmp_path / "models" / "conv.npz", tmp_path / "mnist" / "t.gz",
                    tmp_path / "models" / "network.py"):  # `exercise start --force` there
        shipped.write_bytes(b"shipped")
        link = tmp_path / f"link{shipped.suffix}"
        link.symlink_to(shipped)
        for path in (shipped, link):
            with pytest.raises(FoolDigitsError, match="ships with fooldigits"):
                atomic_write(path, lambda f: f.write(b"worse"))
        link.unlink()
        assert shipped.read_bytes() == b"shipped"
    for _ in range(2):  # a model of your own beside them: written, then replaced
        atomic_write(tmp_path / "models" / "my.npz", lambda f: f.write(b"mine"))
    monkeypatch.setenv("FOOLDIGITS_REPLACE_SHIPPED", "1")  # what `make model` sets
    atomic_write(tmp_path / "models" / "conv.npz", lambda f: f.write(b"remade"))
    assert (tmp_path / "models" / "conv.npz").read_bytes() == b"remade"
    assert DEFAULT_MODEL.read_bytes() == before


def test_the_shipped_models_are_the_ones_writing_protects() -> None:
    from fooldigits.core import writing
    from fooldigits.models import SHIPPED, SHIPPED_NAMES

    assert set(writing.SHIPPED_MODELS) == set(SHIPPED_NAMES)
    assert {p.stem for p in SHIPPED.glob("*.npz")} == set(writing.SHIPPED_MODELS)


def test_check_input_names_what_the_path_really_is(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "dangling").symlink_to("gone.npz")
    (tmp_path / "file").write_text("x")
    cases = {
        tmp_path / "fifo": "model file .*fifo is a FIFO \\(named pipe\\), not a regular",
        Path("/dev/zero"): "is a character device, not a regular file",
        tmp_path: "is a folder, not a regular file",
        tmp_path / "loop": "is a symlink loop",
        tmp_path / "dangling": "is a symlink to gone.npz, which does not exist",
        tmp_path / "missing": "does not exist",
        tmp_path / "file" / "x": "has a part that is not a folder",
    }
    for path, pattern in cases.items():
        start = time.perf_counter()
        with pytest.raises(FoolDigitsError, match=pattern):
            check_input(path, "model file")
        assert time.perf_counter() - start < 5  # a FIFO with no writer does not hang
    assert check_input(tmp_path / "file") == tmp_path / "file"


def test_read_bytes_never_reads_past_its_limit(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"12345")
    assert read_bytes(tmp_path / "f", 5) == b"12345"
    with pytest.raises(FoolDigitsError, match="larger than fooldigits reads \\(4 bytes"):
        read_bytes(tmp_path / "f", 4)


def test_printable_escapes_control_characters_and_limits_length() -> None:
    hostile = "\x1b[31mred\x1b[0m \x1b]0;pwned\x07title\x9b2J\u202eevil\nnext\tline"
    shown = printable(hostile)
    assert shown == ("\\x1b[31mred\\x1b[0m \\x1b]0;pwned\\x07title\\x9b2J\\u202eevil"
                     "\\nnext\\tline")
    assert shown.isprintable()
    assert printable("x" * 500, 100) == "x" * 99 + "…"
    assert printable("x" * 500, None) == "x" * 500
    assert printable("fooldigits train --seed 1  sévén") == "fooldigits train --seed 1  sévén"


def test_npz_reader_knows_shapes_before_reading_data(tmp_path: Path) -> None:
    from numpy.lib import format as npy

    buffer = io.BytesIO()
    npy.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False,
                                        "shape": (10**6, 10**6)})  # 8 TB, 8 bytes of data
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w") as z:
        z.writestr("w0.npy", buffer.getvalue() + bytes(8))
    with NpzReader(tmp_path / "bomb.npz", "model file") as npz:
        assert npz.headers["w0"][0] == (10**6, 10**6)
        with pytest.raises(FoolDigitsError, match="damaged array 'w0'"):
            npz.read("w0")
    np.savez(tmp_path / "objects.npz", x=np.array([1, "a"], dtype=object))
    with NpzReader(tmp_path / "objects.npz") as npz, pytest.raises(
            FoolDigitsError, match="never unpickles"):
        npz.read("x")
    (tmp_path / "no.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(FoolDigitsError, match=r"model file .* is not a readable \.npz"):
        NpzReader(tmp_path / "no.npz", "model file")


# -- options --------------------------------------------------------------------------------
def test_make_rng_takes_any_integer_and_keeps_old_streams() -> None:
    assert make_rng(1).random() == np.random.default_rng(1).random()
    assert make_rng(7, 2, 3).random() == np.random.default_rng([7, 2, 3]).random()
    draws = {seed: make_rng(seed).random() for seed in (-1, 1, -(2**80), 2**80, 0)}
    assert len(set(draws.values())) == 5  # -1 and 1 are different streams
    assert make_rng(-1).random() == draws[-1]  # and each repeats
    assert make_rng(-5, 1, 2).random() != make_rng(5, 1, 2).random()


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [(float("nan"), {"low": 0}, "--w must be a finite number, got nan"),
     (float("inf"), {}, "--w must be a finite number, got inf"),
     (-1.0, {"low": 0}, "--w must be at least 0, got -1"),
     (0.0, {"low": 0, "low_open": True}, "--w must be greater than 0, got 0"),
     (1.0, {"low": 0, "high": 1, "high_open": True},
      "--w must be at least 0 and less than 1, got 1"),
     ("abc", {}, "--w must be a number, got 'abc'")],
)
def test_finite_refuses_with_one_sentence(value: float, kwargs: dict[str, float],
                                          message: str) -> None:
    with pytest.raises(FoolDigitsError) as info:
        finite(value, "--w", **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_finite_and_whole_accept_good_values() -> None:
    assert finite(0.5, "--w", low=0, high=1) == 0.5 and finite(3, "--w") == 3.0
    assert whole(5, "--count", 1, 10) == 5 and whole(5.0, "--count") == 5
    with pytest.raises(FoolDigitsError, match="at most 10,000, got 1,000,000,000"):
        whole(10**9, "--count", 1, 10_000)
    with pytest.raises(FoolDigitsError, match="whole number"):
        whole(2.5, "--count")


@pytest.mark.usefixtures("deleted_folder")
def test_writing_in_a_deleted_folder_says_so() -> None:
    # It said "folder . is not writable (No such file or directory)".
    for write in (lambda: check_output(Path("m.npz"), ".npz"),
                  lambda: atomic_write(Path("m.npz"), lambda f: f.write(b"x"))):
        with pytest.raises(FoolDigitsError, match=r"^cannot write m\.npz: the current folder "
                           r"no longer exists \(deleted while in use\?\)$"):
            write()
