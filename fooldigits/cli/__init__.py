"""The `fooldigits` command: parse options, call one experiment, hand it to the presenter.

Each command lives in the module of its chapter (`basics`, `eigen`, `fooling`, `drawn`,
`natural`, `classroom`) and is a few lines: check the options, load what the experiment
needs, `run(experiment(...), output)`. No maths and no loops live here: the experiments
are in `fooldigits/experiments/`, the drawing in `present.py`.

Every command imports NumPy, Rich and the library *inside* its function, so that
`fooldigits --help` stays fast (a test checks it imports neither NumPy nor Rich's
progress machinery). Library errors (`FoolDigitsError`) become one `[error]` line on
stderr and exit code 1; Ctrl-C (and SIGTERM) becomes one `[stopped]` line saying what was
kept, and exit code 130, also while typer is still building the command; a closed or full
stdout (or a closed stdin or stderr) becomes one sentence and exit code 1; a Python
warning, one `[warning]` line. Those lines and exit codes are `process.py`'s; `command`
turns each command's exceptions into them and `main` sets the process up.
"""

from __future__ import annotations

import errno
import functools
import warnings
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import typer

from fooldigits import FoolDigitsError
from fooldigits.cli.process import (
    TERMINAL_GONE,
    flush_stdout,
    one_blas_thread,
    require_streams,
    say,
    stdout_failed,
    stopped,
    tolerant_streams,
    warning_line,
)

if TYPE_CHECKING:
    import numpy as np
    from _typeshed import DataclassInstance

    from fooldigits.core.pieces import Experiment
    from fooldigits.models.base import Classifier
    from fooldigits.present.presenter import Output

    class Config(DataclassInstance, Protocol):
        """A settings dataclass (`GAConfig`, `RetrainConfig`): fields, and a check."""

        def check(self) -> None: ...

app = typer.Typer(
    help="Artificial neural networks are not human: train an MNIST network, then fool it.\n\n"
    "Start with `fooldigits tutor` for the whole story, or `fooldigits show` to see the data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
F = TypeVar("F", bound=Callable[..., object])  # a command function
C = TypeVar("C", bound="Config")
R = TypeVar("R")


def _print_version(asked: bool) -> None:
    """`fooldigits --version`: the installed package's version, read from its metadata."""
    if asked:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("fooldigits")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed)"
        typer.echo(f"fooldigits {number}")
        raise typer.Exit()


@app.callback()
def _root(_version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Options that come before the command."""


MAX_BINS = 255  # MNIST pixels take 256 values: more bins on (0, 1] only add empty ones
MAX_EPOCHS = 100_000  # over a day of training on MNIST; more is a typo
MAX_LR = 1e6  # --lr of dream: a step of a million already saturates every pixel
MAX_GENERATIONS = 1_000_000  # GA generations or gradient steps: hours of work already
MAX_WEIGHT = 1e6  # a prior's weight, --eta, --lmbda: beyond it every other term vanishes
MAX_LAGS = 27  # neighbour distances along a 28-pixel row
MAX_IMAGES = 100_000  # fooling images per digit: 300 MB of floats


def flag(name: str, help: str) -> object:  # for Annotated[...]: typer's OptionInfo
    """A flag that takes no value, shown in --help without a type or a --no- twin."""
    return typer.Option(name, help=help, show_default=False, metavar="")


# -- options shared by many commands -------------------------------------------------------
ModelOpt = Annotated[
    Path | None, typer.Option("--model", help="A model .npz from `fooldigits train`; "
                              "default: the shipped model.", show_default=False)]
DataOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="A folder with the four MNIST IDX files "
                              "(raw or .gz), e.g. Fashion-MNIST; default: the bundled MNIST.",
                              show_default=False)]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed for every random choice (any "
                                      "integer).")]
NoColorOpt = Annotated[bool, flag("--no-color", "Plain ASCII art, no colour.")]
JsonOpt = Annotated[bool, flag("--json", "Print the result as JSON instead of pictures.")]
PngOpt = Annotated[Path | None, typer.Option(
    "--png", help="Also save the pictures, titles and captions as a PNG.", show_default=False)]
HtmlOpt = Annotated[Path | None, typer.Option(
    "--html", help="Also save everything shown as one self-contained web page.",
    show_default=False)]


def command(*names: str, target: typer.Typer | None = None, **kwargs: Any
            ) -> Callable[[F], F]:
    """`app.command`, plus: FoolDigitsError -> one line and exit 1; Ctrl-C -> exit 130.
    `kwargs` go to typer's `command` as they are (Any: each option its own type)."""

    def decorate(function: F) -> F:
        import inspect

        parameters = {name.rstrip("_") for name in inspect.signature(function).parameters}

        @functools.wraps(function)
        def wrapper(*args: object, **kw: object) -> object:  # what typer parsed, as is
            try:
                with warnings.catch_warnings():
                    warnings.showwarning = warning_line
                    return function(*args, **kw)
            except FoolDigitsError as err:
                say(f"[error] {as_flags(err, parameters)}")
                raise typer.Exit(1) from None
            except KeyboardInterrupt as err:
                stopped(err)
                raise typer.Exit(130) from None
            except MemoryError:
                typer.echo("[error] not enough memory for this; ask for fewer or smaller "
                           "things", err=True)
                raise typer.Exit(1) from None
            except (BrokenPipeError, UnicodeEncodeError) as err:
                stdout_failed(err)
            except OSError as err:
                if err.errno not in (errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EDQUOT):
                    raise
                stdout_failed(err)
            except TERMINAL_GONE as err:
                say(f"[error] the terminal went away ({err.args[-1] if err.args else err})")
                raise typer.Exit(1) from None

        kwargs.setdefault("help", paragraphs(function.__doc__ or ""))
        (target or app).command(*names, **kwargs)(wrapper)
        return function

    return decorate


def checked(config: C) -> C:
    """`config.check()`, with the library's parameter names said as this command's flags:
    "per_digit must be ..." becomes "--per-digit must be ..."."""
    import dataclasses
    import re

    try:
        config.check()
    except FoolDigitsError as err:
        text = str(err)
        for name in (f.name for f in dataclasses.fields(config)):
            flag = flag_of(name)
            if text.startswith(f"{name} "):
                text = flag + text[len(name):]
            if "_" in name:  # an identifier, never an English word: wherever it is named
                text = re.sub(rf"\b{name}\b", flag, text)
        raise FoolDigitsError(text) from None
    return config


# Library parameters whose flag is not "--" + the name with dashes (`max_generations` is
# `--max-generations`); the library's sentences name parameters, the CLI shows flags.
FLAGS = {"final_eta_ratio": "--final-eta", "epsilon": "--epsilons", "method": "--attack",
         "n_components": "--components",
         "digits": "--digit"}


def flag_of(parameter: str) -> str:
    """The flag a library parameter is given by: `FLAGS`, else "--" + it with dashes."""
    return FLAGS.get(parameter, "--" + parameter.replace("_", "-"))


def as_flags(err: FoolDigitsError, names: Collection[str] = ()) -> str:
    """The library's sentence with its parameter written as this command's flag:
    "population must be at least 2" -> "--population must be at least 2". The parameter is
    `err.parameter`, or the sentence's first word when it names a parameter of the command
    (or one of `FLAGS`)."""
    import re

    text = str(err)
    first = text.split(" ", 1)[0]
    parameter = err.parameter or (first if first in names or first in FLAGS else None)
    if parameter is None:
        return text
    flag = flag_of(parameter)
    count = 0 if err.parameter else 1  # a named parameter: every mention; else the first
    return re.sub(rf"(?<![\w-]){re.escape(parameter)}(?![\w-])", flag, text, count=count)


def paragraphs(doc: str) -> str:
    """A docstring with each paragraph joined into one line, so --help wraps it to the
    terminal's width instead of breaking where the source did."""
    import inspect

    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(doc).split("\n\n"))


# -- small helpers the commands share -------------------------------------------------------
def output(no_color: bool = False, as_json: bool = False, png: Path | None = None,
           html: Path | None = None, title: str = "fooldigits",
           reads: tuple[tuple[str, Path | None], ...] = ()) -> Output:
    """Where the command's stream goes; checks --png/--html paths before any work, and
    that neither is one of the files the command `reads` ((what, path) pairs)."""
    from fooldigits.present.presenter import Output
    out = Output(no_color, as_json, png, html, title, reads)
    out.check()
    return out


def run(stream: Experiment[R], out: Output) -> R:
    """Hand an experiment to the presenter; return its result."""
    from fooldigits.present.presenter import present

    return present(stream, out, out.title)


MAX_LIST = 50  # numbers in one list option: each is a whole pass over the data


def listed(text: str, name: str, most: int = MAX_LIST) -> list[str]:
    """The comma-separated parts of a list option, refusing more than `most` of them."""
    parts = text.split(",")
    if len(parts) > most:
        raise FoolDigitsError(f"{name} takes at most {most} values, got {len(parts):,}")
    return parts


def numbers(text: str, name: str, example: str) -> list[float]:
    """A comma-separated list of numbers (`--levels 0,0.1`), or one sentence."""
    parts = listed(text, name)
    try:
        return [float(v) for v in parts]
    except ValueError:
        raise FoolDigitsError(f"{name} takes numbers like {example}, got "
                              f"{text[:80]!r}") from None


def rng(seed: int) -> np.random.Generator:
    """A generator for any integer seed (negative ones too)."""
    from fooldigits.core.options import make_rng

    return make_rng(seed)


def load(model: Path | None) -> Classifier:
    from fooldigits.models import load_model

    return load_model(model)


def digit(value: int | None, name: str = "--digit") -> None:
    if value is not None and not 0 <= value <= 9:
        raise FoolDigitsError(f"{name} must be a digit 0..9, got {value}")


def positive(value: int, name: str, most: int | None = None) -> None:
    if value < 1:
        raise FoolDigitsError(f"{name} must be at least 1, got {value}")
    if most is not None and value > most:
        raise FoolDigitsError(f"{name} must be at most {most:,}, got {value:,}")


def typed(ctx: typer.Context, name: str) -> bool:
    """Whether the user gave option `name` (the parameter's name), not left its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def refuse_unused(ctx: typer.Context, rules: Collection[tuple[str, str, bool, str]]) -> None:
    """For each (parameter, flag, applies, when): a flag the user gave where it does not
    apply is one sentence, not silently ignored ("--lags applies only with --prior
    stats, so leave it out")."""
    for name, flag, applies, when in rules:
        if typed(ctx, name) and not applies:
            raise FoolDigitsError(f"{flag} applies only {when}, so leave it out")


def between(value: int, name: str, low: int, high: int) -> None:
    """A whole-number option within [low, high], or one sentence naming both bounds."""
    if not low <= value <= high:
        raise FoolDigitsError(f"{name} must be between {low:,} and {high:,}, got {value:,}")


def click_app() -> Any:  # a click Command: typer vendors click privately (typer._click)
    """The click command behind `app` (typer's public `get_command`), with flags shown as
    flags in --help (no type, no metavar)."""
    command_tree = typer.main.get_command(app)
    _flags_without_type(command_tree)
    return command_tree


def _flags_without_type(cmd: Any) -> None:  # Any: click's types are private to typer
    for param in getattr(cmd, "params", []):
        if getattr(param, "is_flag", False):
            param.metavar = ""
    make_help = cmd.get_help_option

    def help_option(ctx: Any) -> Any:
        option = make_help(ctx)
        if option is not None:
            option.metavar = ""
        return option

    cmd.get_help_option = help_option
    for sub in getattr(cmd, "commands", {}).values():
        _flags_without_type(sub)


def main() -> None:
    """Entry point of the `fooldigits` command (through `fooldigits.__main__.main`).

    In this order: a closed stdin, stdout or stderr (`<&-`, `>&-`) is one sentence and exit
    1 (a file opened later would take its number, and output meant for the terminal would
    land in it); SIGTERM and SIGHUP become interrupts; then the command runs. An interrupt
    at any moment, also while typer builds the command, is one `[stopped]` line and exit 130.
    """
    try:
        from fooldigits.core.writing import sigterm_as_interrupt

        sigterm_as_interrupt()  # SIGTERM runs the same clean-up as Ctrl-C (exit 130 too)
        require_streams()
        one_blas_thread()
        tolerant_streams()
        click_app()(prog_name="fooldigits")
    except SystemExit as done:
        if done.code == 130:  # typer's own exit for a Ctrl-C while it parsed: say it too
            stopped(KeyboardInterrupt(), last=True)
        flush_stdout()
        raise done from None
    except KeyboardInterrupt as err:
        stopped(err, last=True)
        raise SystemExit(130) from None
    except OSError as err:  # --help or a usage message written into a full or closed stdout
        if err.errno not in (errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EDQUOT):
            raise
        stdout_failed(err)
    flush_stdout()


# The commands, registered in the order of the story (which is the order --help lists).
# isort: off
from fooldigits.cli import basics  # noqa: E402
from fooldigits.cli import eigen  # noqa: E402
from fooldigits.cli import fooling  # noqa: E402
from fooldigits.cli import drawn  # noqa: E402
from fooldigits.cli import natural  # noqa: E402
from fooldigits.cli import fighting  # noqa: E402
from fooldigits.cli import classroom  # noqa: E402
from fooldigits.cli import quiz  # noqa: E402
# isort: on

__all__ = ["app", "basics", "classroom", "drawn", "eigen", "fighting", "fooling", "main",
           "natural", "quiz"]
