"""The tutor's navigation rules, without a terminal: one state, one key, the next state."""

from __future__ import annotations

import doctest
import re

import pytest

from fooldigits.tutor import navigation as nav
from fooldigits.tutor import story


def walk(state: nav.State, *events: str) -> nav.State:
    for event in events:
        state = nav.move(state, event)
    return state


def test_the_module_example_runs() -> None:
    assert doctest.testmod(nav).failed == 0


def test_enter_at_each_chapter_end_tells_the_whole_story() -> None:
    state, seen = nav.start(0, len(story.CHAPTERS)), []
    while state.mode != "done":
        seen.append(state.chapter)
        state = walk(state, "chapter-done", nav.action("enter") or "")
    assert seen == list(range(len(story.CHAPTERS))) and not state.stopped


@pytest.mark.parametrize("key", ["x", "enter", "b", "r", "up", " ", "tab"])
def test_while_a_chapter_computes_only_n_and_q_mean_something(key: str) -> None:
    running = nav.start(3, 9)
    assert nav.move(running, nav.action(key)) == running
    assert nav.move(running, nav.action("n")) == nav.State(4, 9)
    assert nav.move(running, nav.action("q")).mode == "done"
    assert nav.move(running, nav.action("esc")).mode == "done"


def test_a_full_screen_mid_chapter_waits_then_goes_on_or_leaves() -> None:
    more = nav.move(nav.start(2, 9), "screen-full")
    assert more.mode == "more" and nav.waits(more)
    back = nav.move(more, nav.action("b"))  # b goes back, as at a chapter's end
    assert (back.chapter, back.mode) == (1, "running") and not nav.same_run(more, back)
    first = nav.move(nav.move(nav.start(0, 9), "screen-full"), "back")
    assert first.mode == "more" and first.note == "this is the first chapter"
    on = nav.move(more, nav.action("enter"))
    assert on.mode == "running" and nav.same_run(more, on)
    skipped = nav.move(more, nav.action("n"))
    assert skipped.chapter == 3 and not nav.same_run(more, skipped)


def test_back_again_and_the_first_and_last_chapters() -> None:
    ended = walk(nav.start(0, 9), "chapter-done")
    first = nav.move(ended, "back")
    assert first.mode == "ended" and first.note == "this is the first chapter"
    back = walk(nav.start(4, 9), "chapter-done", "back")
    assert (back.chapter, back.mode) == (3, "running")
    again = walk(nav.start(4, 9), "chapter-done", "again")
    assert (again.chapter, again.reruns) == (4, 1)
    again = walk(again, "chapter-done", "again")
    assert again.reruns == 2
    assert walk(again, "chapter-done", "next").reruns == 0
    last = walk(nav.start(8, 9), "chapter-done")
    assert nav.move(last, "next").mode == "done"
    assert nav.move(nav.start(8, 9), "skip").mode == "done"


def test_ctrl_c_stops_from_anywhere_and_done_is_final() -> None:
    for state in (nav.start(1, 9), walk(nav.start(1, 9), "screen-full"),
                  walk(nav.start(1, 9), "chapter-done")):
        stopped = nav.move(state, "interrupt")
        assert stopped.mode == "done" and stopped.stopped
        assert nav.move(stopped, "next") == stopped


def test_every_prompt_names_keys_that_work_there() -> None:
    for mode, prompt in nav.PROMPTS.items():
        state = nav.State(1, 9, mode)  # type: ignore[arg-type]
        for key in ("n", "q", "b", "r"):
            if not re.search(rf"\b{key}:", prompt):  # "b: back", not the r of "Enter:"
                continue
            assert nav.move(state, nav.action(key)) != state, (mode, key)


def test_a_chapter_is_found_in_any_case_and_an_empty_name_is_refused() -> None:
    from fooldigits import FoolDigitsError
    from fooldigits.tutor import story

    assert story.chapter("PCA") == story.chapter(" pca ") == story.chapter("pca")
    for bad in ("", "  ", "pcaa"):
        with pytest.raises(FoolDigitsError, match="unknown chapter"):
            story.chapter(bad)
