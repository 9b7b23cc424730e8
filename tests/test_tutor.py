"""The tutor runs every chapter, `read` every topic, and the docs name only functions that
exist. (The exercises are tested in test_exercises.py.)"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fooldigits.cli import app
from fooldigits.tutor import story as tutor

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
    assert result.exit_code == 0 and "9. What it means" in result.stdout
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
    assert result.exit_code == 1 and "topics: adversarial, ceiling" in result.stderr
