"""`python -m fooldigits.bench [--quick] [--threads N] [--strict] [--only SECTION]`: print
the bench table (all of it, or the rows of the sections named).

One BLAS thread unless `--threads` says otherwise: two-thread timings of small matrices
flip between speed levels on shared machines. The thread count must be set before NumPy
is imported, so this module reads its arguments first; if NumPy was already imported, it
uses threadpoolctl when installed, and otherwise starts itself again with the setting.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fooldigits.bench", description=(
        "Speed as ratios against plain-NumPy references run in the same call, and the "
        "quality goals the speed must not cost."))
    parser.add_argument("--quick", action="store_true", help="smaller runs, fewer repeats")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 if any goal is missed")
    parser.add_argument("--only", action="append", metavar="SECTION", default=[],
                        help="measure only this section (repeatable), e.g. --only fooling")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def limit_threads(threads: int) -> None:
    """Set the BLAS thread count for this process and the commands it starts."""
    changed = any(os.environ.get(name) != str(threads) for name in THREAD_VARIABLES)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if "numpy" not in sys.modules or not changed:
        return
    try:
        # optional, and no dependency of fooldigits: mypy may not find it
        from threadpoolctl import threadpool_limits  # type: ignore[import-not-found]
    except ImportError:  # NumPy read the old setting: start again with the new one
        os.execv(sys.executable, [sys.executable, "-m", "fooldigits.bench", *sys.argv[1:]])
    threadpool_limits(threads)


def compile_package() -> None:
    """Write fooldigits' bytecode (`__pycache__/*.pyc`) where it is missing or stale, as
    `pip install` does and as Python does on a first run. Where PYTHONDONTWRITEBYTECODE is
    set (some CI machines and sandboxes), every process would otherwise compile the 20
    modules a command imports, 60-80 ms that no user of an installed package pays, and
    the whole-process rows would time the compiler as well as the work."""
    import compileall

    import fooldigits

    compileall.compile_dir(Path(fooldigits.__file__).parent, quiet=2)


def main(argv: list[str]) -> int:
    args = parse(argv)
    limit_threads(args.threads)
    from rich.text import Text

    from fooldigits.bench import ROW_MODULES, ROWS, Context
    from fooldigits.present.render import make_console, table

    for module in ROW_MODULES:
        importlib.import_module(module)
    sections = list(dict.fromkeys(name for name, _ in ROWS))
    unknown = [name for name in args.only if name not in sections]
    if unknown:
        print(f"[error] no bench section {unknown[0]!r}; the sections are: "
              f"{', '.join(sections)}", file=sys.stderr)
        return 2
    compile_package()
    console, progress = make_console(), make_console(stderr=True)
    if not console.is_terminal:
        console.width = 170  # a file or a pipe: one line a row, not rich's 80 columns
    ctx = Context(quick=args.quick, threads=args.threads)
    rows: list[list[str]] = []
    missed: list[str] = []
    section = ""
    for name, function in ROWS:
        if args.only and name not in args.only:
            continue
        progress.print(f"[dim]measuring {name}: {function.__name__} ...[/]")
        for result in function(ctx):
            if name != section:
                rows.append([name, "", "", "", "", "", ""])
                section = name
            verdict = "met" if result.met else "missed"
            rows.append([*result.cells(), verdict])
            if not result.met:
                missed.append(result.what.strip())
    clock = "CPU time" if args.threads == 1 else "wall time"
    title = (f"fooldigits bench{' --quick' if args.quick else ''}: {args.threads} BLAS "
             f"thread(s), {clock}; each ratio is "
             "the median of its back-to-back pairs, whose range is shown")
    styles = {"met": "green", "missed": "bold red"}
    shown = [[Text(cell, style="bold" if not row[-1] and i == 0 else styles.get(cell, ""))
              for i, cell in enumerate(row)] for row in rows]  # no markup: plain Text cells
    console.print(table(title, ["what", "project", "reference", "ratio", "pairs", "goal",
                                "verdict"],
                        shown))
    if os.environ.get("OPENBLAS_CORETYPE"):
        console.print(f"OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} is set: absolute "
                      "times are slower than this machine can do; the ratios still compare "
                      "like with like.")
    total = sum(1 for r in rows if r[-1])
    if missed:
        console.print(f"{len(missed)} of {total} goals missed: {'; '.join(missed)}")
    else:
        console.print(f"all {total} goals met")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
