"""A bridge while `evolve.evolve` is rewritten: the GA's result as a generator's return.

What this module teaches
------------------------
Every generator in fooldigits *returns* its result (`Experiment[R]` in `pieces.py`), so
a caller writes `result = yield from evolve(...)` and never filters a stream for it.
`evolve.evolve` used to yield its `FoolResult` as the last event instead; `evolved`
accepts either form and gives the new one:

    result = yield from evolved(evolve(net, 2, 10, GAConfig(), rng))

What it leaves out: everything else. Once `evolve.evolve` returns its result, each
`evolved(evolve(...))` becomes `evolve(...)` and this module is deleted.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import Generation
from fooldigits.lessons.evolve import FoolResult


def evolved(events: Iterator[object]) -> Generator[Generation, None, FoolResult]:
    """The `Generation` events of a GA run, then its `FoolResult` as the return value.
    An interrupt thrown in is passed on to the GA, as `yield from` would."""
    try:
        while True:
            event = next(events)
            if isinstance(event, FoolResult):
                return event
            assert isinstance(event, Generation), event
            try:
                yield event
            except KeyboardInterrupt as stop:  # as `yield from` would: into the GA, which
                if isinstance(events, Generator):  # raises Interrupted with its finished runs
                    events.throw(stop)
                raise
    except StopIteration as done:
        if isinstance(done.value, FoolResult):
            return done.value
    raise FoolDigitsError("the genetic algorithm stopped without a result")
