"""Why the same NumPy code can run nine times slower, and the one-line fix used here.

What this module teaches
------------------------
A NumPy expression such as `b + mask * (a - b)` on a (20, 38, 784) array allocates a few
fresh 2.4 MB arrays and frees them again. glibc's allocator hands large freed blocks
back to the operating system, so the *next* allocation of the same size asks for new
pages, and touching each fresh 4 KiB page costs a page fault. On the virtual machines
this project is measured on, that made one generation of the genetic algorithm cost
2.2 ms instead of 0.25 ms -- measured, see `make bench`.

`keep_freed_memory()` asks glibc (through `mallopt`) to keep freed memory for reuse
instead: the arrays of the next generation land on pages that are already mapped. Peak
memory is unchanged; the process just does not give memory back until it exits.

It is called once by the command line and the benchmark, never on import, and it does
nothing where the C library is not glibc (macOS, Windows, musl).

What it leaves out: thread counts. For mini-batch-sized matrices one OpenBLAS thread is
often as fast as two; see the GFLOP/s rows of `make bench` to judge your machine.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP = 1 << 30  # keep up to 1 GiB of freed memory mapped


def keep_freed_memory() -> bool:
    """Tell glibc to keep freed blocks mapped; True if it applied (Linux with glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP))
