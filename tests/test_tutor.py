"""The tutor runs every chapter, `read` every topic, exercises check themselves, and
the docs name only functions that exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fooldigits import exercises, tutor
from fooldigits.cli import app
from fooldigits.exercises import reference

runner = CliRunner()


def test_tutor_runs_every_chapter_quickly() -> None:
    result = runner.invoke(app, ["tutor", "--no-pause", "--quick"])
    assert result.exit_code == 0, result.stderr
    words = " ".join(result.stdout.split())
    for chapter in tutor.CHAPTERS:
        assert chapter.title in words
        assert f"fooldigits read {chapter.topic}" in words
    assert "The end." in result.stdout


def test_tutor_starts_at_a_chapter_and_rejects_unknown_ones() -> None:
    result = runner.invoke(app, ["tutor", "--chapter", "meaning", "--no-pause"])
    assert result.exit_code == 0 and "8. What it means" in result.stdout
    assert "1. What the network sees" not in result.stdout
    result = runner.invoke(app, ["tutor", "--chapter", "nope"])
    assert result.exit_code == 1 and "chapters: data, network" in result.stderr


def test_every_chapter_names_real_functions_and_topics() -> None:
    topics = tutor.topics()
    for chapter in tutor.CHAPTERS:
        assert chapter.topic in topics
        for name in chapter.functions:
            assert callable(tutor.resolve(name)), name


@pytest.mark.parametrize("topic", tutor.topics())
def test_docs_name_only_functions_that_exist(topic: str) -> None:
    text = (tutor.docs_dir() / f"{topic}.md").read_text()
    for name in tutor.references(text):
        tutor.resolve(name)  # raises FoolDigitsError for a name that does not exist


def test_module_chapters_exist_and_quote_their_module() -> None:
    for module in ("data", "network", "pca", "dream", "evolve", "stats", "drawings", "render"):
        text = (tutor.docs_dir() / f"{module}.md").read_text()
        assert any(name.startswith(f"{module}.") for name in tutor.references(text)), module


@pytest.mark.parametrize("topic", tutor.topics())
def test_read_every_topic(topic: str) -> None:
    result = runner.invoke(app, ["read", topic])
    assert result.exit_code == 0, result.stderr
    names = [n for n in tutor.references((tutor.docs_dir() / f"{topic}.md").read_text())
             if callable(tutor.resolve(n))]
    if names:  # the source of the first function the chapter names is shown
        last = names[0].split(".")[-1]
        assert f"def {last}" in result.stdout or f"class {last}" in result.stdout


def test_read_lists_topics_and_rejects_unknown() -> None:
    result = runner.invoke(app, ["read"])
    assert result.exit_code == 0 and "pca" in result.stdout
    result = runner.invoke(app, ["read", "astrology"])
    assert result.exit_code == 1 and "topics: ceiling" in result.stderr


@pytest.mark.parametrize("name", list(exercises.EXERCISES))
def test_reference_passes_and_untouched_stub_fails(name: str, tmp_path: Path) -> None:
    assert all(r.passed for r in exercises.check_module(name, reference))
    result = runner.invoke(app, ["exercise", "start", name, str(tmp_path)])
    assert result.exit_code == 0 and (tmp_path / f"{name}.py").exists()
    result = runner.invoke(app, ["exercise", "check", name, str(tmp_path), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert not report["passed"] and "not implemented yet" in report["checks"][0]["message"]


def test_a_correct_student_file_passes(tmp_path: Path) -> None:
    (tmp_path / "sigmoid.py").write_text(
        "import numpy as np\n"
        "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, float)))\n"
        "def sigmoid_prime(z):\n    s = sigmoid(z)\n    return s * (1 - s)\n")
    result = runner.invoke(app, ["exercise", "check", "sigmoid", str(tmp_path)])
    assert result.exit_code == 0 and "all checks pass" in result.stdout


def test_wrong_broken_and_raising_student_files(tmp_path: Path) -> None:
    (tmp_path / "variogram.py").write_text(
        "import numpy as np\n"
        "def variogram(images, lags):\n    n = len(images)\n"
        "    return np.zeros((n, lags)), np.zeros((n, lags))\n")
    result = runner.invoke(app, ["exercise", "check", "variogram", str(tmp_path)])
    assert result.exit_code == 1 and "expected" in result.stdout and "got" in result.stdout
    (tmp_path / "crossover.py").write_text("def crossover(a, b, mask)\n    return a\n")
    result = runner.invoke(app, ["exercise", "check", "crossover", str(tmp_path), "--json"])
    assert result.exit_code == 1 and "syntax error on line 1" in result.stdout
    (tmp_path / "backprop.py").write_text("def backprop(w, b, x, y):\n    return 1 / 0\n")
    result = runner.invoke(app, ["exercise", "check", "backprop", str(tmp_path)])
    assert result.exit_code == 1 and "ZeroDivisionError" in result.stdout
    assert "Traceback" not in result.output


def test_exercise_bad_inputs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["exercise", "check", "backprop", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "exercise start backprop" in result.stderr
    result = runner.invoke(app, ["exercise", "start", "poetry", str(tmp_path)])
    assert result.exit_code == 1 and "exercises: sigmoid" in result.stderr
    runner.invoke(app, ["exercise", "start", "sigmoid", str(tmp_path)])
    result = runner.invoke(app, ["exercise", "start", "sigmoid", str(tmp_path)])
    assert result.exit_code == 1 and "--force" in result.stderr
    result = runner.invoke(app, ["exercise", "list"])
    assert result.exit_code == 0 and "backprop" in result.stdout
