"""Writing files safely: a temporary file then a rename, checked before the work starts.

What this module teaches
------------------------
A model that trained for an hour must never be lost to a crash, a Ctrl-C or a typo:

1. **write to a temporary file, then rename** (`atomic_write`): a crash, Ctrl-C or
   SIGTERM half-way leaves the old file (or none), never half a file, and the temporary
   file is removed. SIGTERM only runs clean-up code if it raises an exception instead of
   killing the process: `sigterm_as_interrupt` makes it do so (the CLI installs it).
2. **check before the work** (`check_output`): the same checks as the write, run first,
   so a typo in `--out` is reported in the first second, not after an hour of training.
3. **never replace a good file with a worse one**: an interrupted run saves `beside` the
   file already there (`m.partial.npz`), and `describe_saved` says where it went; the
   files fooldigits ships are never replaced (`SHIPPED_MODELS`).

    atomic_write(path, lambda f: np.savez(f, **arrays))   # all of it, or nothing

If `out.npz` was a symlink to `models/m.npz`, `atomic_write` writes `models/m.npz` (the
link is kept and still points at the new file): writing *through* a link is what
`open(path, "w")` does, and renaming over the link itself would silently turn it into a
plain file. A character device, FIFO, socket or folder at the target is refused.

What it leaves out: reading (`reading.py`), file locking (two fooldigits writing one file:
the last rename wins) and Windows (the checks use POSIX file types and signal masks).
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from fooldigits import FoolDigitsError
from fooldigits.core.reading import describe, os_problem, printable

PACKAGE = Path(__file__).resolve().parents[1]  # the fooldigits folder, with its data
SHIPPED_MODELS = ("default", "robust", "linear", "conv", "generative")  # models/NAME.npz
REPLACE_SHIPPED = "FOOLDIGITS_REPLACE_SHIPPED"  # `make model` sets it to 1 to remake them


# -- where a write really goes, and whether it may --------------------------------------
def _target(path: Path) -> Path:
    """The file a write to `path` really replaces (symlinks followed), checked."""
    path = Path(path)
    try:
        is_link = stat.S_ISLNK(os.lstat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):  # `_folder` says what is missing
        return path
    except OSError as err:
        raise FoolDigitsError(f"cannot write {path}: it {os_problem(err)}") from None
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
        raise FoolDigitsError(f"cannot write {path}: it {os_problem(err)}") from None
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


def check_output(path: Path, suffix: str | tuple[str, ...], what: str = "--out",
                 reads: Iterable[tuple[str, Path | None]] = ()) -> Path:
    """Check before long work that `path` can be written; one sentence if not.

    The name ends in `suffix` (e.g. ".npz", or (".png",)); the target is not a folder,
    device, FIFO or socket (a symlink is judged by its target), nor a file the command
    `reads` (pairs like ("the --model file", path): `fool --model m.npz --out m.npz` would
    put fooling images where the model was); its folder exists and a file can be created there
    (tried for real, so a read-only disk is caught too).
    """
    path = Path(path)
    for source, read in reads:
        if read is not None and _same_file(path, Path(read)):
            raise FoolDigitsError(f"{what} {path} is {source}; fooldigits will not replace "
                                  "a file it reads: pick another name")
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


def _same_file(a: Path, b: Path) -> bool:
    """Whether `a` and `b` are one existing file (through symlinks and hard links)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # either does not exist (yet), or cannot be looked at
        return False


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


# -- SIGTERM and SIGHUP: the same clean-up as Ctrl-C -------------------------------------
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
