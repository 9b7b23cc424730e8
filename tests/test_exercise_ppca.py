"""The `ppca` exercise (chapter 10): its references agree with each other and with the
generative model, a right file passes, and each common mistake, written as a student
would write it, is named by the real checker in its child process."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from fooldigits import exercises
from fooldigits.exercises import checks_generative, reference
from tests.exercise_solutions import SOLUTIONS

RIGHT = SOLUTIONS["ppca"]
DIRECT = """
import numpy as np
def ppca_log_likelihood(x, mu, w, sigma):
    d = x - mu
    c = w @ w.T + sigma ** 2 * np.eye(len(mu))
    sign, log_det = np.linalg.slogdet(c)
    quad = (d * np.linalg.solve(c, d.T).T).sum(axis=1)
    return -0.5 * (len(mu) * np.log(2 * np.pi) + log_det + quad)
"""


def variant(*swaps: tuple[str, str], source: str = RIGHT) -> str:
    for old, new in swaps:
        assert old in source, old
        source = source.replace(old, new)
    return source


MISTAKES = [
    ("the constant", variant(("D * np.log(2 * np.pi) + log_det", "log_det")),
     "you left out the constant -D/2 ln(2 pi)"),
    ("the log-determinant", variant(("log_det + quad", "quad")),
     "you left out the log-determinant"),
    ("D ln sigma^2", variant(("(D - q) * np.log(s2)", "D * np.log(s2)")),
     "you added D ln sigma^2 to ln det M"),
    ("sigma for sigma^2", variant(("s2 = sigma ** 2", "s2 = sigma")),
     "you used sigma where sigma^2 belongs"),
    ("Woodbury's sign", variant(("(d * d).sum(axis=1) - (z", "(d * d).sum(axis=1) + (z")),
     "Woodbury's sign"),
    ("not centred", variant(("d = x - mu", "d = x")), "you did not subtract the mean"),
    ("the density", variant(("return -0.5 * (D * np.log(2 * np.pi) + log_det + quad)",
                             "return np.exp(-0.5 * (D * np.log(2 * np.pi) + log_det + quad))")),
     "you returned the density N(x), not its log"),
    ("det, not its log", variant(("sign, log_det = np.linalg.slogdet(c)",
                                  "log_det = np.log(np.linalg.det(c))"), source=DIRECT),
     "you got infinity or NaN"),
]


@pytest.mark.parametrize(("source", "named"), [(s, n) for _, s, n in MISTAKES],
                         ids=[m for m, _, _ in MISTAKES])
def test_each_common_mistake_is_named_by_the_checker_in_its_child(
        tmp_path: Path, source: str, named: str) -> None:
    (tmp_path / "ppca.py").write_text(source)
    report = exercises.check("ppca", tmp_path, timeout=30)
    found = [r.message for r in report.results if not r.passed]
    assert found, "the mistake passed"
    assert any(named in message for message in found), found


def test_the_whole_covariance_passes_the_small_cases_and_runs_out_of_memory_on_the_big(
        tmp_path: Path) -> None:
    """The child's 1 GB holds a 784 x 784 covariance, not a 19,881 x 19,881 one."""
    (tmp_path / "ppca.py").write_text(DIRECT)
    results = exercises.check("ppca", tmp_path, timeout=30).results
    assert [r.passed for r in results] == [True, True, True, False], results
    assert "you made a D x D matrix" in results[3].message and "3.2 GB" in results[3].message


def in_process(source: str) -> list[str]:
    student = ModuleType("student")
    exec(compile(source, "student.py", "exec"), student.__dict__)
    return [r.message for r in exercises.check_module("ppca", student).results if not r.passed]


def test_more_switches_alone_and_together_are_named() -> None:
    """The same judge without a child (test_exercise_messages checks that the two agree)."""
    found = in_process(variant(("np.linalg.slogdet(m)[1] + (D - q) * np.log(s2)",
                                "np.linalg.slogdet(m)[1]")))
    assert any("ln det M alone" in m for m in found), found
    found = in_process(variant(("return -0.5 * (", "return -1.0 * (")))
    assert any("you forgot the factor -1/2" in m for m in found), found
    found = in_process(variant(("d = x - mu", "d = x"), ("s2 = sigma ** 2", "s2 = sigma")))
    assert any("you did not subtract the mean" in m and "sigma where sigma^2 belongs" in m
               for m in found), found


# -- the references: the q-dimensional form, the whole covariance, the generative model ----
def test_the_q_dimensional_form_equals_the_whole_covariance() -> None:
    rng = np.random.default_rng(0)
    for size, q, sigma in ((3, 1, 0.5), (50, 7, 0.2), (784, 4, 0.1)):
        w, mu = rng.normal(0, 0.5, (size, q)), rng.random(size)
        x = np.vstack([mu + rng.normal(0, 1, (3, q)) @ w.T, rng.random((3, size))])
        full = reference.gaussian_log_density(x, mu, w @ w.T + sigma**2 * np.eye(size))
        np.testing.assert_allclose(reference.ppca_log_likelihood(x, mu, w, sigma), full,
                                   rtol=1e-9)
    # the stub's worked example: C = diag(2, 1), x = mu = 0
    assert np.isclose(reference.ppca_log_likelihood(np.zeros((1, 2)), np.zeros(2),
                                                    np.array([[1.0], [0.0]]), 1.0)[0],
                      -0.5 * (2 * np.log(2 * np.pi) + np.log(2)))
    assert round(-0.5 * (2 * np.log(2 * np.pi) + np.log(2)), 4) == -2.1845


def test_each_digits_ppca_is_the_generative_models_score() -> None:
    model = reference.generative_model()
    rng = np.random.default_rng(1)
    x = np.vstack([model.mean_, rng.random((2, 784))]).astype(np.float64)  # (12, 784)
    scores = model.log_likelihood(x)  # (12, 10)
    for k in range(10):
        mu, w, sigma = reference.digit_ppca(model, k)
        np.testing.assert_allclose(reference.ppca_log_likelihood(x, mu, w, sigma),
                                   scores[:, k], rtol=1e-6)
    assert scores[3, 3] > checks_generative.OVERFLOW  # so the density overflows there


def test_every_switch_changes_the_score() -> None:
    """Each wrong switch alone gives another answer on every case, so none is named
    where the student was right."""
    for case in checks_generative.ppca_cases():
        x, mu, w, sigma = case.calls[0].args
        assert isinstance(x, np.ndarray) and isinstance(mu, np.ndarray)
        assert isinstance(w, np.ndarray) and isinstance(sigma, float)
        right = checks_generative.make(x, mu, w, sigma)
        for name, values in checks_generative.OPTIONS:
            for value in values[1:]:
                switch: dict[str, Any] = {name: value}
                wrong = checks_generative.make(x, mu, w, sigma, **switch)
                assert not np.allclose(wrong, right, rtol=1e-5), (case.name, name, value)
