"""Files written safely (placeholder until the hardening lands): atomic writes, early checks."""

from __future__ import annotations

from pathlib import Path

from fooldigits import FoolDigitsError
from fooldigits.data import atomic_write

__all__ = ["atomic_write", "check_output"]


def check_output(path: Path, suffix: str, what: str = "--out") -> None:
    """Before long work: the folder exists, the name ends in `suffix`, not a directory."""
    path = Path(path)
    if not str(path).lower().endswith(suffix):
        raise FoolDigitsError(f"{what} wants a file name ending in {suffix}, got {path}")
    if path.is_dir():
        raise FoolDigitsError(f"{what} {path} is a directory, not a file to write")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FoolDigitsError(f"cannot write {path}: folder {folder} does not exist; pick a "
                              "file in an existing folder")
