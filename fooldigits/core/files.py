"""Files, safely: read only regular files, never too much, and write atomically.

What this module teaches
------------------------
A program that reads what its users give it must expect anything at that path: a folder,
a FIFO that blocks forever, `/dev/zero` that never ends, a symlink loop, a 100-layer
model file that asks for gigabytes. Three rules keep fooldigits safe:

1. **open, then look**: `open_regular` opens without blocking (`O_NONBLOCK`, so a FIFO
   with no writer cannot hang us) and asks the *open file* what it is (`fstat`), so the
   answer cannot change between the check and the read. Only regular files are read;
   anything else gets one sentence naming what it actually is (`describe`).
2. **never read more than promised**: `read_bytes` stops at `limit + 1` bytes, and one
   byte too many is an error, so `/dev/zero` or a gzip bomb costs at most `limit` bytes.
   `NpzReader` reads each array's *header* (shape and dtype) from a `.npz` before any
   data, so the caller can refuse a 10,000 x 10,000 x 100 request before it is allocated.
3. **write to a temporary file, then rename** (`atomic_write`): a crash, Ctrl-C or
   SIGTERM half-way leaves the old file (or none), never half a file, and the temporary
   file is removed. SIGTERM only runs clean-up code if it raises an exception instead of
   killing the process: `sigterm_as_interrupt` makes it do so (the CLI installs it).

If `out.npz` was a symlink to `models/m.npz`, `atomic_write` writes `models/m.npz` (the
link is kept and still points at the new file): writing *through* a link is what
`open(path, "w")` does, and renaming over the link itself would silently turn it into a
plain file. A character device, FIFO, socket or folder at the target is refused.

`check_output` and `check_input` run the same checks before long work starts, so a typo in
`--out` is reported in the first second, not after an hour of training.

What it leaves out: file locking (two fooldigits writing one file: the last rename wins)
and Windows (the checks use POSIX file types; `O_NONBLOCK` is 0 where it does not exist).
"""

from __future__ import annotations

import errno
import io
import os
import signal
import stat
import tempfile
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Protocol

from fooldigits import FoolDigitsError

if TYPE_CHECKING:
    import numpy as np

KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
         (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
         (stat.S_ISSOCK, "a socket"))
MAX_NPZ_ARRAYS = 256  # a model holds 2 per layer plus a few strings
PACKAGE = Path(__file__).resolve().parents[1]  # the fooldigits folder, with its data
SHIPPED_MODELS = ("default", "robust", "linear", "conv", "generative")  # models/NAME.npz
REPLACE_SHIPPED = "FOOLDIGITS_REPLACE_SHIPPED"  # `make model` sets it to 1 to remake them


def describe(mode: int) -> str:
    """What a file of this `st_mode` is, in words: 'a folder', 'a FIFO (named pipe)', ..."""
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) turned into an exception, so `finally` blocks still run.

    A subclass of KeyboardInterrupt: code that saves its work on Ctrl-C does the same on
    SIGTERM. `signum` says which signal it was (exit code 128 + signum by convention).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def sigterm_as_interrupt() -> None:
    """Make SIGTERM and SIGHUP raise `Terminated` in the main thread instead of killing.

    Without this, `kill PID` ends the process at once and a temporary file being written
    stays behind. Call it once at start-up; elsewhere than the main thread it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _raise_terminated)


def _os_problem(err: OSError) -> str:
    """An OSError as a short clause: 'does not exist', 'is a symlink loop', ..."""
    return {errno.ENOENT: "does not exist", errno.ELOOP: "is a symlink loop",
            errno.ENOTDIR: "has a part that is not a folder",
            errno.ENAMETOOLONG: "has too long a name",
            errno.EACCES: "cannot be read: permission denied",
            errno.EPERM: "cannot be read: permission denied",
            errno.EISDIR: "is a folder, not a file"}.get(
        err.errno or 0, f"cannot be read: {err.strerror or err}")


def _why_missing(path: Path) -> str:
    """Why `path` cannot be opened although open() said ENOENT: a dangling symlink?"""
    if os.path.islink(path):
        return f"is a symlink to {os.readlink(path)}, which does not exist"
    return "does not exist"


def open_regular(path: Path, what: str = "file") -> BinaryIO:
    """Open `path` for reading if (and only if) it is a regular file; else one sentence.

    `what` names the file in the message: "model file", "data file", "image".
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FoolDigitsError(f"{what} {path} {_why_missing(Path(path))}") from None
    except OSError as err:
        raise FoolDigitsError(f"{what} {path} {_os_problem(err)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FoolDigitsError(f"{what} {path} is {describe(mode)}, not a regular file")
        if flags & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_input(path: Path, what: str = "file") -> Path:
    """Refuse, before any work, a path that is not a readable regular file."""
    open_regular(path, what).close()
    return Path(path)


class Readable(Protocol):
    """Anything with `read(n)` giving bytes: a file, a gzip stream."""

    def read(self, n: int, /) -> bytes: ...


def read_at_most(stream: Readable, n: int, prefix: bytes = b"") -> bytes:
    """`prefix` and then up to `n` more bytes from `stream`: memory follows what is there.

    `stream.read(n)` would reserve all n bytes first, so a header that promises a
    gigabyte would cost a gigabyte even when the file holds ten bytes. Here the pieces
    start at 1 MiB and double only while the stream keeps delivering; one join at the end.
    """
    pieces, have = [bytes(prefix)], 0
    chunk = 2**20
    while have < n:
        piece = stream.read(min(chunk, n - have))
        if not piece:
            break
        pieces.append(piece)
        have += len(piece)
        chunk = min(2 * chunk, 2**28)
    return b"".join(pieces)


def read_bytes(path: Path, limit: int, what: str = "file") -> bytes:
    """All bytes of a regular file, refusing one of more than `limit` bytes."""
    with open_regular(path, what) as f:
        try:
            data = read_at_most(f, limit + 1)
        except OSError as err:
            raise FoolDigitsError(f"{what} {path} {_os_problem(err)}") from None
    if len(data) > limit:
        raise FoolDigitsError(f"{what} {path} is larger than fooldigits reads "
                              f"({limit:,} bytes at most)")
    return bytes(data)


def printable(text: object, limit: int | None = 300) -> str:
    """User-supplied text made safe to show: every control character escaped, at most `limit`.

    A file name, a topic or a model's recorded command can hold escape sequences: an OSC
    sequence (`ESC ] 0 ; title BEL`) retitles the terminal, a CSI one recolours it or
    moves the cursor, a newline forges a second `[error]` line, U+202E reverses what
    follows. Every control, format, surrogate, private-use or unassigned character
    (Unicode category C*) is shown the way Python writes it in a string, so the text
    stays recognisable and does nothing:

        printable("evil\\x1b]0;pwned\\x07.png")   # 'evil\\x1b]0;pwned\\x07.png', inert

    This is the one place fooldigits makes text printable: paths and user text in `[error]`
    lines, pieces (titles, captions, sentences), saved-file notes and model metadata.
    `limit` (None: no limit) cuts what is longer, ending it with '…'.
    """
    clean = "".join(ch if unicodedata.category(ch)[0] != "C" else
                    ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                    for ch in str(text))
    return clean if limit is None or len(clean) <= limit else clean[: limit - 1] + "…"


# -- .npz files: headers first, data only when asked -------------------------------------
class NpzReader:
    """The arrays of a `.npz` file, their shapes and dtypes known before their data.

        with NpzReader(path, "model file", limit=2**28) as npz:
            shape, dtype = npz.headers["w0"]   # nothing allocated yet
            w0 = npz.read("w0")                # now the data

    Never unpickles (object arrays are refused); any damage is one FoolDigitsError,
    "{what} {path} is not {kind}" for a file that is no .npz at all.
    """

    def __init__(self, path: Path, what: str = "file", limit: int = 2**28,
                 kind: str = "a readable .npz file") -> None:
        import zipfile

        self.path, self.what = path, what
        data = read_bytes(path, limit, what)
        self.headers: dict[str, tuple[tuple[int, ...], np.dtype[Any]]] = {}
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            names = [n for n in self.zip.namelist() if n.endswith(".npy")]
            if len(self.zip.namelist()) > MAX_NPZ_ARRAYS:
                raise FoolDigitsError(f"{what} {path} holds {len(self.zip.namelist())} "
                                      f"entries; fooldigits reads at most {MAX_NPZ_ARRAYS}")
            for name in names:
                with self.zip.open(name) as member:
                    self.headers[name[:-4]] = self._header(member)
        except FoolDigitsError:
            raise
        except Exception:  # zipfile and numpy's header parser raise many kinds on bad bytes
            raise FoolDigitsError(f"{what} {path} is not {kind}") from None

    @staticmethod
    def _header(member: IO[bytes]) -> tuple[tuple[int, ...], np.dtype[Any]]:
        from numpy.lib import format as npy

        version = npy.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(member)
        else:
            shape, _, dtype = npy.read_array_header_2_0(member)
        return tuple(int(n) for n in shape), dtype

    def read(self, key: str) -> np.ndarray:
        """One array, after its header was checked by the caller."""
        from numpy.lib import format as npy

        shape, dtype = self.headers[key]
        if dtype.hasobject:
            raise FoolDigitsError(f"{self.what} {self.path} holds Python objects in "
                                  f"{key!r}; fooldigits never unpickles")
        try:
            with self.zip.open(f"{key}.npy") as member:
                array = npy.read_array(member, allow_pickle=False)
        except Exception:
            raise FoolDigitsError(f"{self.what} {self.path} has a damaged array {key!r}"
                                  ) from None
        if array.shape != shape:
            raise FoolDigitsError(f"{self.what} {self.path} has a damaged array {key!r}")
        return array

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()


def nbytes(shape: tuple[int, ...], dtype: np.dtype[Any]) -> int:
    """Bytes an array of this shape and dtype would take, in exact integers."""
    total = dtype.itemsize
    for n in shape:
        total *= n
    return total


# -- writing -----------------------------------------------------------------------------
def _target(path: Path) -> Path:
    """The file a write to `path` really replaces (symlinks followed), checked."""
    path = Path(path)
    try:
        is_link = stat.S_ISLNK(os.lstat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):  # `_folder` says what is missing
        return path
    except OSError as err:
        raise FoolDigitsError(f"cannot write {path}: it {_os_problem(err)}") from None
    real = path
    if is_link:
        try:
            real = path.resolve(strict=True)
        except (RuntimeError, OSError) as err:  # Python 3.11 says RuntimeError for a loop
            if isinstance(err, RuntimeError) or err.errno == errno.ELOOP:
                raise FoolDigitsError(f"cannot write {path}: it is a symlink loop") from None
            real = Path(os.path.realpath(path))  # dangling: write the file it points to
    try:
        mode = os.stat(real).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return real
    except OSError as err:
        raise FoolDigitsError(f"cannot write {path}: it {_os_problem(err)}") from None
    shown = f"{path} (a symlink to {real})" if is_link else str(path)
    if stat.S_ISDIR(mode):
        raise FoolDigitsError(f"{shown} is a folder, not a file to write")
    if not stat.S_ISREG(mode):
        raise FoolDigitsError(f"{shown} is {describe(mode)}; fooldigits writes only "
                              "regular files")
    if not os.access(real, os.W_OK, effective_ids=os.access in os.supports_effective_ids):
        raise FoolDigitsError(f"{shown} is read-only; fooldigits will not replace it")
    if _shipped(real):
        raise FoolDigitsError(f"{shown} ships with fooldigits and every command reads it, so "
                              "fooldigits will not replace it: pick a name of your own, e.g. "
                              f"my-{real.stem}{real.suffix}")
    return real


def _shipped(real: Path) -> bool:
    """Whether `real` is a file fooldigits ships, unless `make model` asks: a shipped model
    (`SHIPPED_MODELS`), an MNIST file, or the package's own code.

    `fool --out fooldigits/models/default.npz` would otherwise put fooling images where
    the default model was, and every command after it would fail. A file of your own in
    the same folder (`train --out fooldigits/models/my.npz`) may be replaced.
    """
    if os.environ.get(REPLACE_SHIPPED) == "1":
        return False
    try:
        inside = real.resolve().relative_to(PACKAGE.resolve())
    except (OSError, RuntimeError, ValueError):  # ValueError: outside the package
        return False
    return (inside.suffix == ".py" or inside.parts[0] == "mnist"
            or inside in {Path("models", f"{name}.npz") for name in SHIPPED_MODELS})


def _folder(path: Path, real: Path) -> Path:
    folder = real.parent if str(real.parent) else Path(".")
    if not folder.is_dir():
        problem = f"{folder} is a file, not a folder" if folder.exists() else \
            f"folder {folder} does not exist"
        raise FoolDigitsError(f"cannot write {path}: {problem}; pick a file in an existing "
                              "folder")
    return folder


def check_output(path: Path, suffix: str | tuple[str, ...], what: str = "--out") -> Path:
    """Check before long work that `path` can be written; one sentence if not.

    The name ends in `suffix` (e.g. ".npz", or (".png",)); the target is not a folder,
    device, FIFO or socket (a symlink is judged by its target); its folder exists and a
    file can be created there (tried for real, so a read-only disk is caught too).
    """
    path = Path(path)
    suffixes = (suffix,) if isinstance(suffix, str) else suffix
    if path.name.lower() in suffixes:  # ".npz": a hidden file with no suffix, to Python
        raise FoolDigitsError(f"{what} {path} has no name before {path.name}: give the file "
                              f"a name, e.g. {path.with_name('result' + path.name)}")
    real = _target(path)  # a folder, device or FIFO is named as what it is, first
    if path.suffix.lower() not in suffixes:
        ending = " or ".join(suffixes)
        raise FoolDigitsError(f"{what} wants a file name ending in {ending}, got {path}")
    folder = _folder(path, real)
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{real.name[:200]}.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:
            raise FoolDigitsError(f"cannot write {path}: the name is too long") from None
        if err.errno == errno.ENOENT:
            raise FoolDigitsError(f"cannot write {path}: {_gone(folder)}") from None
        raise FoolDigitsError(f"cannot write {path}: folder {folder} is not writable "
                              f"({err.strerror or err})") from None
    return path


def _gone(folder: Path) -> str:
    """Why a folder that passed is_dir() cannot hold a new file: it was deleted in use."""
    which = "the current folder" if str(folder) == "." else f"folder {folder}"
    return f"{which} no longer exists (deleted while in use?)"


def beside(path: Path) -> Path:
    """Where an interrupted or failed run saves its partial result: `path` itself if
    nothing is there yet, else `NAME.partial.SUFFIX` beside it (`m.npz` -> `m.partial.npz`).

    Ctrl-C must never replace a good file with a worse one: a model that trained for a
    day stays, and the epoch-1 network of the run that was stopped goes beside it. The
    caller says where it went (`describe_saved`).
    """
    path = Path(path)
    if not path.exists():
        return path
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def describe_saved(saved: Path, asked: Path) -> str:
    """'m.npz', or 'm.partial.npz (beside m.npz, which was left as it was)'."""
    if Path(saved) == Path(asked):
        return printable(saved, None)
    return f"{printable(saved, None)} (beside {printable(asked, None)}, which was left as it was)"


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call `write(file)` on a temporary file beside `path`, then rename it into place.

    1. find the real target (through symlinks) and refuse anything but a regular file;
    2. create `.NAME.xxxx.tmp` in the target's folder, signals held off until the
       clean-up below is in force;
    3. write, flush to disk, give the usual permissions (or the old file's), rename.
    A crash, Ctrl-C or (with `sigterm_as_interrupt`) SIGTERM half-way leaves the old file
    or none, never half a file, and removes the temporary file.
    """
    path = Path(path)
    real = _target(path)  # step 1
    folder = _folder(path, real)
    old_mask = _hold_signals(True)  # step 2
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name[:200]}.", suffix=".tmp", dir=folder)
    except OSError as err:
        _hold_signals(False, old_mask)
        problem = _gone(folder) if err.errno == errno.ENOENT else err.strerror or err
        raise FoolDigitsError(f"cannot write {path}: {problem}") from None
    try:
        _hold_signals(False, old_mask)  # a signal now lands in here, where it is cleaned up
        with os.fdopen(fd, "wb") as f:  # step 3
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode(real))
        os.replace(tmp, real)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise FoolDigitsError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _hold_signals(hold: bool, old: set[int | signal.Signals] | None = None
                  ) -> set[int | signal.Signals]:
    """Block Ctrl-C, SIGTERM and SIGHUP (`hold`), or restore the `old` mask (POSIX only)."""
    if not hasattr(signal, "pthread_sigmask"):
        return set()
    if not hold:
        return signal.pthread_sigmask(signal.SIG_SETMASK, old or set())
    held = {signal.SIGINT, *(getattr(signal, n) for n in ("SIGTERM", "SIGHUP")
                             if hasattr(signal, n))}
    return signal.pthread_sigmask(signal.SIG_BLOCK, held)


def _mode(real: Path) -> int:
    """The old file's permissions, or 0666 less the umask (mkstemp's 0600 is too tight)."""
    try:
        return stat.S_IMODE(os.stat(real).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
