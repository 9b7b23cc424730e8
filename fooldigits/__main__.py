"""`python -m fooldigits` is the same as the `fooldigits` command."""

from fooldigits.cli import main

main()
