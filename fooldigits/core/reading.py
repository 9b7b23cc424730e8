"""Reading files safely: only regular files, never more than promised, text made harmless.

What this module teaches
------------------------
A program that reads what its users give it must expect anything at that path: a folder,
a FIFO that blocks forever, `/dev/zero` that never ends, a symlink loop, a 100-layer
model file that asks for gigabytes. Two rules keep fooldigits safe:

1. **open, then look**: `open_regular` opens without blocking (`O_NONBLOCK`, so a FIFO
   with no writer cannot hang us) and asks the *open file* what it is (`fstat`), so the
   answer cannot change between the check and the read. Only regular files are read;
   anything else gets one sentence naming what it actually is (`describe`).
2. **never read more than promised**: `read_bytes` stops at `limit + 1` bytes, and one
   byte too many is an error, so `/dev/zero` or a gzip bomb costs at most `limit` bytes.
   `NpzReader` reads each array's *header* (shape and dtype) from a `.npz` before any
   data, so the caller can refuse a 10,000 x 10,000 x 100 request before it is allocated:

       with NpzReader(path, "model file") as npz:
           shape, dtype = npz.headers["w0"]   # nothing allocated yet
           w0 = npz.read("w0")                # now the data

`check_input` runs the same checks before long work starts. What was read may be shown
back, and a file name or a model's recorded command can hold terminal escape codes:
`printable` makes such text harmless, the one place fooldigits does so.

What it leaves out: writing (`writing.py`: atomic writes, output checks) and Windows (the
checks use POSIX file types; `O_NONBLOCK` is 0 where it does not exist).
"""

from __future__ import annotations

import errno
import io
import os
import stat
import unicodedata
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO, Protocol

from fooldigits import FoolDigitsError

if TYPE_CHECKING:
    import numpy as np

KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
         (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
         (stat.S_ISSOCK, "a socket"))
MAX_NPZ_ARRAYS = 256  # a model holds 2 per layer plus a few strings


def describe(mode: int) -> str:
    """What a file of this `st_mode` is, in words: 'a folder', 'a FIFO (named pipe)', ..."""
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


def os_problem(err: OSError) -> str:
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
        raise FoolDigitsError(f"{what} {path} {os_problem(err)}") from None
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
            raise FoolDigitsError(f"{what} {path} {os_problem(err)}") from None
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
        self.headers: dict[str, tuple[tuple[int, ...], np.dtype[np.generic]]] = {}
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
    def _header(member: IO[bytes]) -> tuple[tuple[int, ...], np.dtype[np.generic]]:
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


def nbytes(shape: tuple[int, ...], dtype: np.dtype[np.generic]) -> int:
    """Bytes an array of this shape and dtype would take, in exact integers."""
    total = dtype.itemsize
    for n in shape:
        total *= n
    return total
