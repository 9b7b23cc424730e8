"""The 'beat the network' game, played from scripts; the GA finishing a real drawing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fooldigits.core.pieces import Generation
from fooldigits.lessons.evolve import FoolResult
from fooldigits.models.network import Network
from fooldigits.pad.canvas import Canvas
from fooldigits.pad.game import (
    CHALLENGES,
    LIMIT,
    Game,
    evolution_summary,
    judge,
    seeded_evolution,
)
from tests.conftest import events_and_result, result_of


def reads(digit: int, p: float) -> np.ndarray:
    """Probabilities (10,) with `p` on `digit` and the rest spread evenly."""
    out = np.full(10, (1 - p) / 9)
    out[digit] = p
    return out


def test_judge_scores_each_challenge() -> None:
    assert judge("warm-up", 7, reads(7, 0.934)) == (True, 93, "the network reads a 7 at 93.4%")
    assert judge("warm-up", 7, reads(1, 0.6))[:2] == (False, 0)
    assert judge("warm-up", 7, None)[:2] == (False, 0)
    assert judge("fool it", 2, reads(5, 0.99))[:2] == (True, 100)  # p_2 is about 0.001
    assert judge("fool it", 2, reads(8, 0.5))[0] and "an 8" in judge("fool it", 2,
                                                                       reads(8, 0.5))[2]
    assert judge("fool it", 2, reads(2, 0.7))[:2] == (False, 0)
    assert judge("fool it", None, reads(5, 0.9))[2].startswith("press the digit")
    assert judge("not a digit", 4, reads(4, 0.95))[:2] == (True, 95)
    assert judge("not a digit", 4, reads(4, 0.89))[:2] == (False, 0)


def test_a_whole_game_from_a_script() -> None:
    game = Game.new(np.random.default_rng(23), now=0.0)
    assert game.target == 0 and game.prompt() == CHALLENGES[0].prompt
    # warm-up: an empty canvas, a wrong digit, then a 7
    assert game.handle("enter", None, 1.0) and game.phase == "draw" and not game.scores
    assert game.handle("enter", reads(1, 0.8), 2.0) and "not yet" in game.message
    assert not game.handle("x", reads(1, 0.8), 2.5)  # not the game's key: the pad's
    game.handle("enter", reads(7, 0.97), 12.0)
    assert game.phase == "result" and game.scores[0].points == 97
    assert game.scores[0].attempts == 2 and game.scores[0].seconds == 12.0
    assert not game.handle("e", None, 13.0)  # nothing to evolve after the warm-up
    game.handle("enter", None, 14.0)
    # fool it: the digit meant first, then a miss, then a success
    assert game.index == 1 and game.phase == "draw" and game.digit is None
    game.handle("enter", reads(2, 0.9), 15.0)
    assert "press the digit" in game.message and game.attempts == 0
    assert game.handle("2", reads(2, 0.9), 16.0) and game.digit == 2
    game.handle("enter", reads(2, 0.9), 17.0)
    game.handle("enter", reads(5, 0.995), 30.0)
    assert game.scores[1].passed and game.scores[1].points == 100
    assert game.scores[1].attempts == 2 and game.scores[1].read_as == 5
    game.handle("enter", None, 31.0)
    # not a digit: time runs out with the target at 91%, which passes
    assert game.digit == 0 and "read as a 0" in game.prompt()
    game.tick(reads(0, 0.91), 31.0 + LIMIT - 1)
    assert game.phase == "draw" and game.left(31.0 + LIMIT - 1) == pytest.approx(1)
    game.tick(reads(0, 0.91), 31.0 + LIMIT)
    assert game.scores[2].passed and game.scores[2].points == 91
    assert "time is up" in game.message and game.can_evolve
    assert game.handle("e", None, 200.0) and game.evolve_requested
    game.handle("enter", None, 201.0)
    assert game.phase == "done" and game.total == 97 + 100 + 91
    report = json.loads(json.dumps(game.report()))
    assert report["total"] == 288 and report["max"] == 300 and report["finished"]
    assert [c["points"] for c in report["challenges"]] == [97, 100, 91]


def test_giving_up_and_running_out_of_time_score_zero() -> None:
    game = Game.new(np.random.default_rng(1), now=0.0, limit=10.0)
    game.handle("tab", reads(7, 0.99), 3.0)  # gave up although it would have passed
    assert game.scores[0].points == 0 and not game.scores[0].passed
    game.handle("enter", None, 4.0)
    game.tick(None, 14.0)  # empty canvas when time is up
    assert game.scores[1].points == 0 and game.scores[1].read_as is None
    assert game.total == 0 and not game.report()["finished"]


@pytest.fixture(scope="module")
def scribble() -> np.ndarray:
    """The MNIST-style view of a spiral drawn on the canvas: not a digit."""
    canvas = Canvas()
    for t in np.linspace(0, 12, 80):
        canvas.stroke(28 + 2 * t * np.sin(t), 28 + 2 * t * np.cos(t))
    views = canvas.views()
    assert views is not None
    return views[0]


def test_the_ga_finishes_a_drawing_with_few_changed_pixels(shipped: Network,
                                                          scribble: np.ndarray) -> None:
    digit = int(np.argmax(shipped.probabilities(scribble)))
    events, result = events_and_result(seeded_evolution(shipped, digit, scribble,
                                                        np.random.default_rng(0), runs=3))
    first = events[0]
    assert isinstance(first, Generation)  # the first population: the drawing, lightly mutated
    # genes are bytes: the drawing's greys move to the nearest of 256 levels, by <= 0.5 / 255
    assert np.sum(np.abs(first.best_image - scribble) > 1 / 255) < 784 // 20
    assert isinstance(result, FoolResult) and result.reached.all()
    summary, image = evolution_summary(scribble, result)
    assert summary.confidence >= 0.9999
    assert shipped.probabilities(image)[0, digit] == pytest.approx(summary.confidence, abs=1e-6)
    changed = int(np.sum(np.abs(image - scribble) > 0.1))
    assert summary.changed == changed and 0 < changed < 784 // 4


def test_the_best_run_is_the_one_that_changed_least(shipped: Network,
                                                    scribble: np.ndarray) -> None:
    result = result_of(seeded_evolution(shipped, 3, scribble, np.random.default_rng(1), runs=4))
    summary, _ = evolution_summary(scribble, result)
    counts = np.sum(np.abs(result.images - scribble) > 0.1, axis=1)
    assert summary.changed == counts[result.reached].min()
