"""The tutor's navigation: where the student is, and what each key does there.

What this module teaches
------------------------
An interactive program is easiest to get right as a *state machine*: a small record of
where it is (`State`) and one pure function (`move`) from a state and an event to the
next state. The terminal loop (`fooldigits tutor`, in `cli/classroom.py`) then only
reads keys, runs chapters and asks this module what to do; every rule can be tested
without a terminal, and two loops cannot disagree about what `b` means.

The tutor is in one of four modes:

    running   a chapter is computing and showing pieces; only `n` (skip to the next
              chapter) and `q` (stop) mean something, every other key is ignored
    more      the screen is full in the middle of a chapter: Enter shows the next
              screen, `b` goes back to the chapter before, `n` skips to the next
              chapter, `q` stops
    ended     a chapter has finished: Enter next, `b` back, `r` again with a new
              seed, `n` next, `q` stop
    done      the story is over (or the student left)

Worked example, three chapters::

    >>> s = start(0, chapters=3)
    >>> s = move(s, "chapter-done"); s.mode
    'ended'
    >>> s = move(s, "next"); (s.mode, s.chapter)
    ('running', 1)
    >>> s = move(s, "skip"); (s.mode, s.chapter)
    ('running', 2)
    >>> move(move(s, "chapter-done"), "next").mode
    'done'

Events are the actions keys stand for (`ACTIONS` maps key names to them) and three the
loop itself reports: "chapter-done", "screen-full" and "interrupt" (Ctrl-C).

What it leaves out: the keys' bytes (`pad/keys.py`), the drawing (`present/`), and the
chapters themselves (`story.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Mode = Literal["running", "more", "ended", "done"]

# Key name (from keys.read_key) -> the action it stands for.
ACTIONS = {"enter": "next", " ": "next", "right": "next", "down": "next", "page-down": "next",
           "n": "skip", "b": "back", "left": "back", "up": "back", "page-up": "back",
           "r": "again", "q": "quit", "esc": "quit"}

# What the bottom line says in each mode that waits for a key.
PROMPTS = {
    "more": "── more below: Enter: next screen · b: back · n: next chapter · q: quit ──",
    "ended": "Enter: next · b: back · r: again with a new seed · q: quit",
    "running": "computing · n: skip to the next chapter · q: quit",
}


@dataclass(frozen=True)
class State:
    """Where the tutor is: which chapter, how often it was rerun, and the mode."""

    chapter: int  # index into story.CHAPTERS
    chapters: int  # how many there are
    mode: Mode = "running"
    reruns: int = 0  # `r` pressed: the chapter's seed is seed + 1000 * reruns
    note: str = ""  # a word for the student about the last key ("this is the first chapter")
    stopped: bool = False  # left with Ctrl-C rather than q or the end


def start(chapter: int, chapters: int) -> State:
    """The state before the first chapter runs."""
    return State(chapter, chapters)


def action(key: str) -> str | None:
    """The action a key stands for, or None for a key that means nothing in the tutor."""
    return ACTIONS.get(key)


def _next_chapter(state: State) -> State:
    if state.chapter + 1 >= state.chapters:
        return replace(state, mode="done", note="")
    return State(state.chapter + 1, state.chapters)


def move(state: State, event: str | None) -> State:
    """The state after `event` (an action or a loop event); unknown events change nothing."""
    mode = state.mode
    if mode == "done" or event is None:
        return state
    if event == "interrupt":
        return replace(state, mode="done", stopped=True)
    if event == "quit":
        return replace(state, mode="done", note="")
    if event == "skip":
        return _next_chapter(state)
    if mode == "running":
        if event == "chapter-done":
            return replace(state, mode="ended", note="")
        if event == "screen-full":
            return replace(state, mode="more", note="")
        return state  # every other key is ignored while a chapter computes
    if event == "back":  # at either pause: the chapter before, from its start
        if state.chapter == 0:
            return replace(state, note="this is the first chapter")
        return State(state.chapter - 1, state.chapters)
    if mode == "more":
        return replace(state, mode="running") if event == "next" else state
    # mode == "ended"
    if event == "next":
        return _next_chapter(state)
    if event == "again":
        return State(state.chapter, state.chapters, reruns=state.reruns + 1)
    return state


def waits(state: State) -> bool:
    """True where the loop waits for a key before going on."""
    return state.mode in ("more", "ended")


def same_run(before: State, after: State) -> bool:
    """True if `after` continues the chapter run `before` was in (Enter at "more")."""
    return (after.mode == "running" and after.chapter == before.chapter
            and after.reruns == before.reruns)
