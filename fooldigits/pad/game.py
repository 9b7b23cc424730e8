"""Beat the network: three drawing challenges for a class, scored and timed.

What this module teaches
------------------------
The lesson of the whole project, played: a network that reads 98% of MNIST is easy to
fool once you know where it is blind. `fooldigits draw --game` runs three challenges:

1. **warm-up**: draw a 7 that the network reads as a 7.
   points = round(100 * p_7) if the network's answer is 7, else 0.
2. **fool it**: draw a digit a person reads at once but the network gets wrong. The
   student presses the digit they meant; the hint is the edge effect (`n` shows the raw
   shrink, and a digit drawn to the edges of the canvas fills all 28 x 28 pixels).
   points = round(100 * (1 - p_meant)) if the answer is not the digit meant, else 0.
3. **not a digit**: draw something that is *not* a digit and that the network reads as
   the chosen digit d (drawn at random from `--seed`) at `SURE` = 90% or more.
   points = round(100 * p_d) if p_d >= 0.9, else 0. Then the genetic algorithm can
   finish the job (`seeded_evolution`): each run's first population is copies of the
   28 x 28 picture the network saw, and `evolution_summary` counts how few pixels the
   best of ten runs had to change (by more than `CHANGED`) to reach 99.99%.

Each challenge is timed (`LIMIT` seconds; when time is up the drawing is judged as it
is). Enter submits; a miss costs nothing but counts as an attempt; Tab gives up.
Here p is the probability vector of the view the student chose as the large one.

Everything here is pure: `Game.handle` takes a key name, the network's current
probabilities and the time, so a test can play a whole game from a script. The drawing
pad (`drawpad.py`) only feeds it.

Worked example: in the warm-up, Enter with p_7 = 0.93 and 7 the largest gives
Score(passed=True, points=93); in "fool it" with the digit meant 2 and the network
answering 5 with p_2 = 0.004, points = round(100 * 0.996) = 100.

What it leaves out: names, classes and a leaderboard (`--json` writes each student's
scores for the teacher to collect).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import asdict, dataclass, field

import numpy as np

from fooldigits.core.pieces import Generation
from fooldigits.lessons.evolve import FoolResult, GAConfig, evolve
from fooldigits.models.base import Classifier

LIMIT = 120.0  # seconds per challenge
SURE = 0.9  # challenge 3 needs at least this confidence
CHANGED = 0.1  # a pixel "changed" if it moved by more than this (of the 0..1 grey scale)


@dataclass(frozen=True)
class Challenge:
    key: str
    prompt: str  # {digit} is filled in
    hint: str


CHALLENGES = (
    Challenge("warm-up", "Draw a 7 that the network reads as a 7.", ""),
    Challenge("fool it", "Draw a digit a person reads clearly but the network gets wrong.",
              "0-9: the digit you mean · hint: n, and the edges · "),
    Challenge("not a digit", "Draw something that is NOT a digit, read as {a} {digit} at >= 90%.",
              ""),
)


@dataclass(frozen=True)
class Evolved:
    """How the genetic algorithm finished challenge 3 from the student's drawing."""

    confidence: float
    generations: int
    changed: int  # pixels of 784 that moved by more than CHANGED
    mean_change: float


@dataclass
class Score:
    challenge: str
    digit: int | None  # 7, the digit meant, or the target digit
    passed: bool
    points: int
    seconds: float
    attempts: int
    read_as: int | None  # the network's answer when judged
    confidence: float | None  # its probability of that answer
    evolved: Evolved | None = None


def article(digit: int) -> str:
    return "an" if digit == 8 else "a"


def judge(key: str, digit: int | None, p: np.ndarray | None) -> tuple[bool, int, str]:
    """(passed, points, a sentence) for challenge `key` with probabilities p (10,)."""
    if p is None:
        return False, 0, "the canvas is empty: draw something first"
    answer, sure = int(np.argmax(p)), float(np.max(p))
    reads = f"the network reads {article(answer)} {answer} at {100 * sure:.1f}%"
    if key == "warm-up":
        passed = answer == 7
        return passed, round(100 * float(p[7])) if passed else 0, reads
    if digit is None:
        return False, 0, "press the digit you meant (0-9) first"
    if key == "fool it":
        passed = answer != digit
        wrong = f"{reads} -- fooled!" if passed else f"{reads}: it got your {digit} right"
        return passed, round(100 * (1 - float(p[digit]))) if passed else 0, wrong
    passed = float(p[digit]) >= SURE
    if passed:
        return True, round(100 * float(p[digit])), reads
    return False, 0, (f"{reads}; the {digit} is at {100 * float(p[digit]):.1f}%, "
                      f"it needs {100 * SURE:.0f}%")


@dataclass
class Game:
    """The state of one game: which challenge, its phase, the scores so far.

    phase is 'draw' (the clock runs), 'result' (judged; Enter goes on) or 'done'.
    """

    target: int  # the digit of challenge 3
    limit: float = LIMIT
    index: int = 0
    phase: str = "draw"
    started: float = 0.0
    attempts: int = 0
    meant: int | None = None
    message: str = ""
    scores: list[Score] = field(default_factory=list)
    evolve_requested: bool = False

    @classmethod
    def new(cls, rng: np.random.Generator, now: float, limit: float = LIMIT) -> Game:
        return cls(target=int(rng.integers(10)), limit=limit, started=now)

    @property
    def challenge(self) -> Challenge:
        return CHALLENGES[min(self.index, len(CHALLENGES) - 1)]

    @property
    def digit(self) -> int | None:
        """The digit the current challenge is about (None until the student says it)."""
        return {"warm-up": 7, "fool it": self.meant}.get(self.challenge.key, self.target)

    def prompt(self) -> str:
        return self.challenge.prompt.format(digit=self.target, a=article(self.target))

    def keys(self) -> str:
        """The keys the game listens to now, for the help line."""
        if self.phase == "draw":
            return self.challenge.hint + "Enter: submit · Tab: give up"
        return ("e: let the genetic algorithm finish it · " if self.can_evolve else "") + (
            "Enter: next challenge" if self.index + 1 < len(CHALLENGES) else "Enter: finish")

    def left(self, now: float) -> float:
        """Seconds left on the clock of the current challenge."""
        return max(0.0, self.limit - (now - self.started)) if self.phase == "draw" else 0.0

    @property
    def total(self) -> int:
        return sum(s.points for s in self.scores)

    @property
    def can_evolve(self) -> bool:
        last = self.scores[-1] if self.scores else None
        return (self.phase == "result" and last is not None and last.passed
                and last.challenge == "not a digit" and last.evolved is None)

    def handle(self, key: str, p: np.ndarray | None, now: float) -> bool:
        """React to a key; True if the game used it (the pad ignores it then)."""
        if self.phase == "draw":
            if key.isdigit() and len(key) == 1 and self.challenge.key == "fool it":
                self.meant = int(key)
                self.message = f"you mean a {key}: now Enter"
                return True
            if key == "enter":
                self._submit(p, now, final=False)
                return True
            if key == "tab":
                self._record(False, 0, p, now, "you gave up on this one")
                return True
        elif self.phase == "result":
            if key == "enter":
                self._next(now)
                return True
            if key == "e" and self.can_evolve:
                self.evolve_requested = True
                return True
        return False

    def tick(self, p: np.ndarray | None, now: float) -> None:
        """The clock: when time is up the drawing is judged as it stands."""
        if self.phase == "draw" and now - self.started >= self.limit:
            self._submit(p, now, final=True)

    def evolved(self, result: Evolved) -> None:
        """Record how the genetic algorithm finished challenge 3."""
        self.evolve_requested = False
        self.scores[-1].evolved = result
        self.message = (f"the genetic algorithm changed {result.changed} of 784 pixels of your "
                        f"picture to reach {100 * result.confidence:.2f}%")

    def _submit(self, p: np.ndarray | None, now: float, final: bool) -> None:
        passed, points, sentence = judge(self.challenge.key, self.digit, p)
        if passed or final:
            self._record(passed, points, p, now, ("time is up: " if final else "") + sentence)
        else:
            self.attempts += p is not None and self.digit is not None
            self.message = f"not yet: {sentence}"

    def _record(self, passed: bool, points: int, p: np.ndarray | None, now: float,
                sentence: str) -> None:
        self.scores.append(Score(
            self.challenge.key, self.digit, passed, points, round(now - self.started, 1),
            self.attempts + 1, None if p is None else int(np.argmax(p)),
            None if p is None else round(float(np.max(p)), 6)))
        self.phase = "result"
        self.message = f"{'+' if passed else ''}{points} points: {sentence}"

    def _next(self, now: float) -> None:
        self.index += 1
        self.phase = "draw" if self.index < len(CHALLENGES) else "done"
        self.started, self.attempts, self.meant, self.message = now, 0, None, ""

    def report(self) -> dict[str, object]:
        """The scores as plain data for `--json`."""
        return {"total": self.total, "max": 100 * len(CHALLENGES), "target": self.target,
                "finished": self.phase == "done",
                "challenges": [asdict(s) for s in self.scores]}


def seeded_evolution(net: Classifier, digit: int, start: np.ndarray, rng: np.random.Generator,
                     runs: int = 10, config: GAConfig | None = None
                     ) -> Generator[Generation, None, FoolResult]:
    """`runs` GA runs towards `digit` at 99.99%, each population starting as `start`
    (`evolve.evolve(..., start=)`: the picture itself and mutated copies of it): their
    progress, then the `FoolResult` returned."""
    config = config or GAConfig(slots=runs, max_generations=3000)
    return evolve(net, digit, runs, config, rng, start=np.asarray(start, dtype=np.float32))


def evolution_summary(start: np.ndarray, result: FoolResult) -> tuple[Evolved, np.ndarray]:
    """The run that changed the fewest pixels of `start` (784,) and still reached the
    target (any run if none did), summarised, and its image (784,)."""
    change = np.abs(result.images.astype(np.float64) - np.asarray(start, np.float64))
    changed = np.sum(change > CHANGED, axis=1)  # (runs,)
    runs = np.flatnonzero(result.reached) if result.reached.any() else np.arange(len(changed))
    best = int(runs[np.argmin(changed[runs])])
    return Evolved(round(float(result.confidences[best]), 6), int(result.generations[best]),
                   int(changed[best]), round(float(change[best].mean()), 6)), result.images[best]
