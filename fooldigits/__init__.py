"""fooldigits: artificial neural networks are not human.

Train a Michael Nielsen-style network on MNIST to 98%, then watch it call pure noise a
"2" with 99.99% confidence. The modules, one concept each, are listed in docs/index.md.

This file stays tiny on purpose: `fooldigits --help` imports it, and must not pull in
NumPy or Rich's heavy parts.
"""

__version__ = "0.1.0"


class FoolDigitsError(Exception):
    """Bad input or a failed operation the user can fix.

    The library raises it with one clear sentence and never prints; `cli.py` turns it
    into a single `[error]` line and a non-zero exit code. A sentence about a parameter
    names the parameter as the library spells it ("population must be at least 2"), and
    `parameter` may say which one; the CLI writes its own flag instead ("--population").
    """

    def __init__(self, message: str = "", parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter  # the library parameter the sentence is about, if one


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM), with one sentence saying what was kept: "saved 40 finished
    fooling images to f.npz". The CLI prints it and exits with code 130."""

    def __init__(self, message: str = "", partial: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.partial = partial  # what an interrupted computation had finished, if anything
