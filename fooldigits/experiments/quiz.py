"""The quiz: the student against the networks, on the story's own images.

What this module teaches
------------------------
Every chapter showed the networks' answers. This one measures the person too. A mix of
images is drawn at random from what the story made:

    real      test digits, as MNIST has them                 a person says the label
    edge      a test digit stretched to the canvas edges     the label
    noisy     a test digit with half its background noise    the label
    fgsm      a test digit after FGSM at epsilon 0.1         the label
    pgd       a test digit after PGD-40 at epsilon 0.1       the label
    fooling   noise the GA bred to 99.99% as some digit      "not a digit"

The student types the digit they see, or `n` for "not a digit". Then every model answers
the same images (a model says "not a digit" only if it has that class), and the report
puts them side by side: how often each agrees with the person's answer key, and the
images where the student and a network disagree.

`items` makes the images (the attacks and the GA run against the shipped dense network,
so the others see them as transferred images); `report` scores the answers. The keyboard
loop is `pad/answers.py`, the command `fooldigits quiz`.

    >>> quiz = yield from items(data, dense, 12, rng)        # 12 images, kinds mixed
    >>> result = yield from report(quiz, student, models)     # the table, the disagreements

What it leaves out: timing the student, and images made against the other models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.data import Dataset
from fooldigits.core.pieces import (
    NO_JSON,
    NOT_A_DIGIT,
    Experiment,
    Images,
    Say,
    Step,
    Table,
    class_name,
)
from fooldigits.models.base import Classifier

KINDS = ("real", "edge", "noisy", "fgsm", "pgd", "fooling")
EPSILON = 0.1  # the attacks' size: a faint haze a person reads straight through
MAX_COUNT = 200
NOT_A_DIGIT_KEY = "n"


@dataclass
class Quiz:
    """The images, what each one is, and the answer a person would give (10: not a digit)."""

    kinds: list[str]
    truth: list[int]  # the digit it was made from, or NOT_A_DIGIT for fooling images
    images: np.ndarray = field(repr=False)  # (n, 784)


def answer_name(answer: int | None) -> str:
    """A printed answer: "7", "not a digit", or "-" for a question left unanswered."""
    return "-" if answer is None else class_name(answer)


def _fooling(dense: Classifier, digits: np.ndarray, rng: np.random.Generator
             ) -> Experiment[np.ndarray]:
    """One GA image per digit, each bred against `dense` to 0.9999: (k, 784)."""
    from fooldigits.lessons.evolve import GAConfig, evolve

    images = []
    for i, digit in enumerate(digits):
        yield Step(f"evolving a fooling '{digit}'", i, len(digits))
        result = yield from evolve(dense, int(digit), 1, GAConfig(), rng)
        images.append(result.images[0])
    return np.stack(images) if images else np.zeros((0, 784), np.float32)


def items(data: Dataset, dense: Classifier, count: int, rng: np.random.Generator
          ) -> Experiment[Quiz]:
    """`count` images, each of a kind drawn at random from `KINDS`, shuffled."""
    from fooldigits.lessons import adversarial, drawings

    if not 1 <= count <= MAX_COUNT:
        raise FoolDigitsError(f"count must be between 1 and {MAX_COUNT}, got {count}")
    if not len(data.test_labels):
        raise FoolDigitsError("the quiz needs test digits, and this data has none")
    kinds = [KINDS[i] for i in rng.integers(0, len(KINDS), count)]
    picks = rng.choice(len(data.test_labels), count, replace=count > len(data.test_labels))
    x, y = data.test_images[picks].copy(), data.test_labels[picks].astype(np.int64)  # (n, 784)
    truth = y.tolist()
    for kind in ("edge", "noisy", "fgsm", "pgd"):
        rows = np.array([i for i, k in enumerate(kinds) if k == kind], dtype=np.int64)
        if not len(rows):
            continue
        yield Step(f"making the {kind} images")
        if kind == "edge":
            x[rows] = drawings.border_images(x[rows])
        elif kind == "noisy":
            x[rows] = drawings.scramble_background(x[rows], 0.5, rng)
        else:
            x[rows] = adversarial.attack(dense, x[rows], y[rows], EPSILON, kind)
    fooling = np.array([i for i, k in enumerate(kinds) if k == "fooling"], dtype=np.int64)
    if len(fooling):
        digits = rng.integers(0, 10, len(fooling))
        x[fooling] = yield from _fooling(dense, digits, rng)
        for i in fooling:
            truth[i] = NOT_A_DIGIT
    return Quiz(kinds, truth, x)


@dataclass
class QuizResult:
    """Per image its kind, the person's answer key, the student's answer and each model's."""

    questions: list[dict[str, str]]  # "kind", "key", "student", then one per model
    agreement: dict[str, float]  # share of answered images where each agrees with the key
    student_score: float | None  # share of answered images the student got right
    images: np.ndarray = field(default_factory=lambda: np.zeros((0, 784)), repr=False,
                               metadata=NO_JSON)


def model_answers(model: Classifier, images: np.ndarray) -> list[int]:
    """What a model says: its most probable class (10, "not a digit", if it has one)."""
    return [int(a) for a in model.predict(images)] if len(images) else []


def report(quiz: Quiz, student: Sequence[int | None], models: Sequence[tuple[str, Classifier]]
           ) -> Experiment[QuizResult]:
    """Score the student's answers (None: skipped) and every model's beside the key."""
    if len(student) != len(quiz.truth):
        raise FoolDigitsError(f"{len(student)} answers for {len(quiz.truth)} images")
    answers = {name: model_answers(model, quiz.images) for name, model in models}
    asked = [i for i, a in enumerate(student) if a is not None] if any(
        a is not None for a in student) else list(range(len(student)))
    rows, questions = [], []
    for i, (kind, key) in enumerate(zip(quiz.kinds, quiz.truth, strict=True)):
        said = {name: a[i] for name, a in answers.items()}
        questions.append({"kind": kind, "key": answer_name(key),
                          "student": answer_name(student[i]),
                          **{name: answer_name(a) for name, a in said.items()}})
        rows.append((i + 1, kind, answer_name(key), answer_name(student[i]),
                     *(("" if a == key else "✗ ") + answer_name(a) for a in said.values())))
    agreement = {name: float(np.mean([a[i] == quiz.truth[i] for i in asked])) if asked else 0.0
                 for name, a in answers.items()}
    answered = [i for i, a in enumerate(student) if a is not None]
    score = (float(np.mean([student[i] == quiz.truth[i] for i in answered]))
             if answered else None)
    yield Table("the quiz: the answer key (what the image was made from), you, and the "
                "models (✗: differs from the key)",
                ["#", "kind", "key", "you", *answers], rows)
    skipped = len(student) - len(answered)  # the models are scored on the same images
    yield Table("agreement with the key" + (f" (over the {len(answered)} images you answered, "
                                            f"not the {skipped} you skipped)"
                                            if answered and skipped else ""), ["who", "right"],
                [*([("you", f"{100 * score:.0f}%")] if score is not None else []),
                 *((name, f"{100 * value:.0f}%") for name, value in agreement.items())])
    disagree = [i for i in answered if any(a[i] != student[i] for a in answers.values())]
    if disagree:
        yield Images("where you and a network disagree (#: the question in the table above)",
                     quiz.images[disagree], [_differ(i, student, answers) for i in disagree],
                     columns=5)
    if score is not None:
        fooling = [i for i in answered if quiz.kinds[i] == "fooling"]
        if fooling:
            yield Say(f"You called {sum(student[i] == NOT_A_DIGIT for i in fooling)} of "
                      f"{len(fooling)} fooling images 'not a digit'; the networks without a "
                      "'not a digit' class had to name a digit for every one.", "note")
    return QuizResult(questions, agreement, score, quiz.images)


def _differ(i: int, student: Sequence[int | None], answers: dict[str, list[int]]) -> str:
    """A caption short enough for an image 28 characters wide (80 columns): question i's
    number, the student's answer, and the network that differs, or how many do (the
    table above has each answer): "#4 you: 3; linear: 5", "#7 you: 2; 3 models differ"."""
    differ = [(name, a[i]) for name, a in answers.items() if a[i] != student[i]]
    detail = (f"{differ[0][0]}: {answer_name(differ[0][1])}" if len(differ) == 1 else
              f"{len(differ)} models differ")
    return f"#{i + 1} you: {answer_name(student[i])}; {detail}"
