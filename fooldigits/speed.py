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

The second slow path is the first touch of a large array. NumPy asks Linux to back
arrays of 4 MB and more with 2 MB "huge pages" (`madvise(MADV_HUGEPAGE)`), which saves
page faults. But where the kernel's `transparent_hugepage/defrag` setting is `madvise`
(or `defer+madvise`, or `always`), a page so marked that finds no free 2 MB block is
made on the spot: the process stops while the kernel compacts memory. On the virtual
machines this project is measured on, turning MNIST's bytes into floats (188 MB) took
0.45-0.6 s of system time the first time with huge pages and 0.1 s without (NumPy
issue 31590 describes the same stall). `no_hugepage_stalls()` sets NumPy's own switch,
the environment variable `NUMPY_MADVISE_HUGEPAGE=0`, where the kernel would stall,
unless the user chose a value. NumPy reads it when it is imported, so the command line
calls this first, as it sets the BLAS threads; `fooldigits train` became about 9% faster
and steadier (its system time 0.20-0.28 s instead of 0.15-0.64 s).

What it leaves out: thread counts. For mini-batch-sized matrices one OpenBLAS thread is
often as fast as two; see the GFLOP/s rows of `make bench` to judge your machine.
"""

from __future__ import annotations

import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP = 1 << 30  # keep up to 1 GiB of freed memory mapped
DEFRAG = "/sys/kernel/mm/transparent_hugepage/defrag"
STALLS = ("always", "madvise", "defer+madvise")  # settings that compact on a marked fault


def keep_freed_memory() -> bool:
    """Tell glibc to keep freed blocks mapped; True if it applied (Linux with glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # (here, not at the top: `--help` imports this module and needs no C)
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP))


def no_hugepage_stalls(defrag_file: str = DEFRAG) -> bool:
    """Before NumPy is imported: ask it not to mark large arrays for huge pages where the
    kernel would stop the process to make them (see above). True if NumPy will not mark
    them. The user's own `NUMPY_MADVISE_HUGEPAGE` always wins."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return os.environ["NUMPY_MADVISE_HUGEPAGE"] == "0"
    try:
        with open(defrag_file, encoding="ascii") as file:  # e.g. "always defer [madvise] never"
            setting = file.read()
    except (OSError, ValueError):  # not Linux, or no transparent huge pages
        return False
    start, end = setting.find("["), setting.find("]")
    if 0 <= start < end and setting[start + 1:end] in STALLS:
        os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
        return True
    return False
