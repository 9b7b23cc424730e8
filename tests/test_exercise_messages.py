"""Every exercise: a right answer passes and each common wrong one gets its named message.

The student files here are trusted (written by the tests), so they are judged in this
process with `exercises.check_module`, which makes the same calls and the same
comparisons as the child process does; the child itself is tested in test_exercises.py
and test_exercise_attacks.py.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from fooldigits import exercises
from fooldigits.exercises import judge, reference
from tests.exercise_solutions import SOLUTIONS


def variant(name: str, *swaps: tuple[str, str]) -> str:
    """The right solution of `name` with each (old, new) text swapped in."""
    source = SOLUTIONS[name]
    for old, new in swaps:
        assert old in source, (name, old)
        source = source.replace(old, new)
    return source


def failures(name: str, source: str) -> list[str]:
    student = ModuleType("student")
    exec(compile(source, "student.py", "exec"), student.__dict__)
    return [r.message for r in exercises.check_module(name, student).results if not r.passed]


MISTAKES = [
    ("sigmoid", variant("sigmoid", ("0.5 * (1 + np.tanh(0.5 * np.asarray(z, float)))",
                                    "1 / (1 + np.exp(np.asarray(z, float)))")),
     "your sigmoid goes DOWN as z grows"),
    ("sigmoid", variant("sigmoid", ("s * (1 - s)", "s * (1 + s)")), "sigma * (1 + sigma)"),
    ("sigmoid", variant("sigmoid", ("s * (1 - s)", "z * (1 - z)")), "to z itself"),
    ("covariance", variant("covariance", ("/ (len(X) - 1)", "/ len(X)")), "divided by n"),
    ("covariance", variant("covariance", ("X_c = X - X.mean(axis=0)", "X_c = X")),
     "centre each column"),
    ("covariance", variant("covariance", ("vectors[:, ::-1][:, :k].T", "vectors[::-1][:k]")),
     "eigenvectors as COLUMNS"),
    ("covariance", variant("covariance", (
        "    top = vectors[:, ::-1][:, :k].T\n", "    return vectors[:, :k].T\n")),
     "smallest eigenvalues: np.linalg.eigh sorts them in ascending order, so take the last k, "
     "largest first; then flip the sign"),
    ("covariance", variant("covariance", ("return top * np.sign", "return top + 0 * np.sign")),
     "flip the sign of each component"),
    ("crossover", variant("crossover", ("rng.random(images.shape), images)", "0.5, images)")),
     "every replaced pixel got the same value"),
    ("crossover", variant("crossover", ("hit = rng.random(images.shape) < rate",
                                        "hit = np.arange(images.size).reshape(images.shape) "
                                        "% 10 < 10 * rate")),
     "the same pixels changed for two different generators"),
    ("crossover", variant("crossover", ("    hit = rng.random", "    rng = np.random."
                                        "default_rng(0)\n    hit = rng.random")),
     "two different generators gave the same image"),
    ("crossover", variant("crossover", ("rng.random(images.shape) < rate",
                                        "np.random.random(images.shape) < rate")),
     "global np.random"),
    ("crossover", variant("crossover", ("return np.where(hit, rng.random(images.shape), images)",
                                        "images[hit] = rng.random(int(hit.sum()))\n"
                                        "    return images")),
     "changed its input `images` in place"),
    ("crossover", variant("crossover", ("rng.random(images.shape), images)",
                                        "0.5 + 0.1 * rng.random(images.shape), images)")),
     "not spread evenly"),
    ("fgsm", variant("fgsm", ("return np.clip(x + epsilon * np.sign(gradient), 0, 1)",
                              "x += epsilon * np.sign(gradient)\n    np.clip(x, 0, 1, out=x)\n"
                              "    return x")),
     "changed its input `x` in place"),
]


@pytest.mark.parametrize("name", list(exercises.EXERCISES))
def test_the_reference_and_a_students_right_answer_pass(name: str) -> None:
    assert exercises.check_module(name, reference).passed
    found = failures(name, SOLUTIONS[name])
    assert found == [], found


@pytest.mark.parametrize(("name", "source", "named"), MISTAKES,
                         ids=[f"{n}: {m[:40]}" for n, _, m in MISTAKES])
def test_each_common_mistake_is_named(name: str, source: str, named: str) -> None:
    found = failures(name, source)
    assert found, "the mistake passed"
    assert any(named in message for message in found), found


def test_every_called_function_has_a_stub_and_a_reference() -> None:
    stubs = judge.parameters()
    for exercise in exercises.EXERCISES.values():
        stub = (exercises.STUBS / f"{exercise.name}.py").read_text()
        assert "raise NotImplementedError" in stub and f"exercise check {exercise.name}" in stub
        for case in exercise.cases():
            for call in case.calls:
                assert call.function in stubs and f"def {call.function}(" in stub
                assert callable(getattr(reference, call.function))
        failed = failures(exercise.name, stub)
        assert failed and "not implemented yet" in failed[0]


def test_the_sigmoid_stub_says_what_its_overflow_check_asks() -> None:
    stub = " ".join((exercises.STUBS / "sigmoid.py").read_text().split())
    assert "overflow warnings turned into errors" in stub and "-1000" in stub
