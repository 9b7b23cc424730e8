"""The tutor runs every chapter, `read` every topic, and the docs name only functions that
exist. (The exercises are tested in test_exercises.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fooldigits.cli import app
from fooldigits.tutor import story as tutor

runner = CliRunner()


@pytest.mark.slow  # the whole quick tutor, every chapter: ~4 s CPU (each chapter's experiment
# is run on its own in tests/test_experiments.py, and the tutor's start in the test below)
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
    assert result.exit_code == 0 and "11. What it means" in result.stdout
    assert "1. What the network sees" not in result.stdout
    result = runner.invoke(app, ["tutor", "--chapter", "nope"])
    assert result.exit_code == 1 and "chapters: data, network" in result.stderr


def test_the_chapter_option_names_every_chapter() -> None:
    """`tutor --help` lists the chapters `--chapter` takes: all of them, in story order
    (the help is written out, because `--help` must not import the story and NumPy)."""
    import typer

    tutor_command = typer.main.get_command(app).commands["tutor"]  # type: ignore[attr-defined]
    (option,) = [p for p in tutor_command.params if p.name == "chapter"]
    listed = re.findall(r"[a-z]+", str(getattr(option, "help", "")).split(":", 1)[1])
    assert listed == [c.key for c in tutor.CHAPTERS]


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


def test_read_lists_topics_and_rejects_unknown() -> None:
    result = runner.invoke(app, ["read"])
    assert result.exit_code == 0 and "pca" in result.stdout
    result = runner.invoke(app, ["read", "astrology"])
    assert result.exit_code == 1 and "topics: adversarial, ceiling" in result.stderr
    result = runner.invoke(app, ["read", "x" * 5000])  # one line, not a page of x's
    assert result.exit_code == 1 and len(result.stderr) < 500 and "x…'" in result.stderr


def test_read_takes_a_topic_as_a_student_would_type_it() -> None:
    for topic in ("PCA", "pca.md", " Pca "):
        result = runner.invoke(app, ["read", topic, "--no-color", "--no-pager"])
        assert result.exit_code == 0 and "eigen-digits" in result.stdout, (topic, result.stderr)


def _code_lines(screen: str) -> list[str]:
    """The code panels' logical lines: each row between the panel's borders, with the
    rows that continue a wrapped line (they start with ↪) joined to it, spaces removed."""
    rows = screen.splitlines()
    left = min((row.index("╭") for row in rows if "╭" in row), default=0)
    lines: list[str] = []
    for row in rows:
        start = row.find("│", left)
        end = row.rfind("│")
        if start < 0 or end <= start:
            continue
        content = row[start + 1 : end].strip()
        if content.startswith("↪") and lines:
            lines[-1] += "".join(content[1:].split())
        else:
            lines.append("".join(content.split()))
    return lines


# Every topic at 80 and 160 columns costs ~4 s CPU per width: the quick loop reads two topics
# with 99- and 98-character code lines at 80 columns (where they must wrap, not be cut), and
# `make test` reads every topic at both widths.
QUICK_READ = {(80, "network"), (80, "files")}
READ_CASES = [pytest.param(columns, topic, id=f"{topic}-{columns}",
                           marks=() if (columns, topic) in QUICK_READ else pytest.mark.slow)
              for columns in (80, 160) for topic in tutor.topics()]


def test_the_quick_read_topics_exist() -> None:
    assert set(tutor.topics()) >= {topic for _, topic in QUICK_READ}


@pytest.mark.parametrize(("columns", "topic"), READ_CASES)
def test_read_shows_every_code_line_whole(columns: int, topic: str) -> None:
    import inspect

    result = runner.invoke(app, ["read", topic, "--no-color"],
                           env={"COLUMNS": str(columns), "LINES": "40"})
    assert result.exit_code == 0, result.stderr
    assert max(len(row) for row in result.stdout.splitlines()) <= columns
    shown = set(_code_lines(result.stdout))
    for name in tutor.references((tutor.docs_dir() / f"{topic}.md").read_text()):
        try:
            source = inspect.getsource(tutor.resolve(name))  # type: ignore[arg-type]
        except (TypeError, OSError):
            continue
        for line in source.splitlines():
            whole = "".join(line.split())
            assert not whole or whole in shown, (topic, columns, line)


def test_the_path_hint_is_the_shorter_of_relative_and_absolute(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    # From /tmp/h5 it said "type ../../work/x/.venv/bin/fooldigits instead of fooldigits".
    import sys

    from fooldigits.cli import classroom

    script = Path(sys.executable).parent / "fooldigits"
    if not script.is_file():
        pytest.skip("no fooldigits script beside this Python")
    monkeypatch.setenv("PATH", "/nonexistent")
    inside = tmp_path / "a" / "b" / "c"
    inside.mkdir(parents=True)
    monkeypatch.chdir(inside)
    hint = classroom._path_hint()
    assert f"type {script.resolve()} instead" in hint or f"type {script} instead" in hint
    assert "../" not in hint
    monkeypatch.chdir(script.parent.parent.parent)  # the folder holding .venv
    assert f"type {Path(script.parent.parent.name) / 'bin' / 'fooldigits'} instead" in \
        classroom._path_hint()


def test_the_path_hint_is_for_this_terminal_not_for_the_html_handout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A teacher whose `fooldigits` is not on PATH sees how to type it; the page handed to
    the class must not tell students to type a path of the teacher's machine."""
    import sys

    if not (Path(sys.executable).parent / "fooldigits").is_file():
        pytest.skip("no fooldigits script beside this Python")
    monkeypatch.setenv("PATH", "/nonexistent")
    page = tmp_path / "story.html"
    result = runner.invoke(app, ["tutor", "--chapter", "meaning", "--no-pause",
                                 "--html", str(page)])
    assert result.exit_code == 0, result.stderr
    assert "instead of fooldigits" in " ".join(result.stdout.split())
    html = page.read_text()
    assert "11. What it means" in html and "instead of fooldigits" not in html


@pytest.mark.usefixtures("deleted_folder")
def test_the_tutor_runs_in_a_deleted_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    # os.path.relpath raised FileNotFoundError there: a traceback before chapter 1.
    monkeypatch.setenv("PATH", "/nonexistent")  # so the tutor gives its path hint
    result = runner.invoke(app, ["tutor", "--chapter", "meaning", "--no-pause", "--quick"])
    assert result.exit_code == 0, result.output


def test_without_keys_the_quiz_does_not_ask_to_type() -> None:
    # The saved web page (tutor --no-pause --html) said "Type the digit you see".
    result = runner.invoke(app, ["tutor", "--chapter", "meaning", "--no-pause", "--quick",
                                 "--no-color"])
    words = " ".join(result.stdout.split())
    assert result.exit_code == 0 and "Type the digit you see" not in words
    assert "`fooldigits quiz` asks you first" in words


def test_read_with_a_missing_pager_still_shows_the_chapter(tmp_path: Path) -> None:
    # PAGER=/nonexistent/less on a terminal: "/bin/sh: 1: /nonexistent/less: not found",
    # no chapter, and exit 0.
    import os
    import pty
    import select
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = {**os.environ, "PAGER": "/nonexistent/less", "COLUMNS": "80", "LINES": "24"}
    env.pop("MANPAGER", None)
    process = subprocess.Popen([sys.executable, "-m", "fooldigits", "read", "pca"],
                               stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path)
    os.close(slave)
    output = b""
    while True:
        if select.select([master], [], [], 30)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the program ended and closed the terminal
                break
            if not chunk:
                break
            output += chunk
        else:
            break
    os.close(master)
    assert process.wait(timeout=30) == 0
    text = output.decode(errors="replace")
    assert "not found" not in text and "is not a program here" in text, text[-500:]
    assert "eigen-digits by hand" in text


def test_the_conv_chapter_says_whose_neighbour_correlation_it_gives() -> None:
    """It shows noise and CPPN images, then one correlation: of the CPPN images (0.86 in
    docs/conv.md's table; the noise images have 0.12), which it must say."""
    import numpy as np

    from fooldigits.core.pieces import Say
    from fooldigits.tutor import finale

    chapter = finale.conv_chapter(np.random.default_rng(0), tutor.Sizes.quick())
    line = next(e.text for e in chapter if isinstance(e, Say) and "neighbour" in e.text)
    chapter.close()  # the transfer table that follows is not needed here
    assert line.startswith("neighbour correlation of the CPPN images: ")
    assert float(line.split(": ")[1].split()[0]) > 0.5  # smooth patterns, not noise


def test_the_code_a_chapter_or_exercise_names_is_in_the_docs_it_sends_you_to() -> None:
    """"The code: X -- beside its explanation: fooldigits read T" and an exercise's "the
    project's own version: X (`fooldigits read T`)" send a student to T, whose listing
    shows only the functions T's docs quote: `read generative` showed pca.knn alone."""
    from fooldigits import exercises

    def quoted(topic: str) -> list[str]:
        return tutor.references((tutor.docs_dir() / f"{topic}.md").read_text())

    for chapter in tutor.CHAPTERS:
        for name in chapter.functions:
            assert name in quoted(chapter.topic), (chapter.key, name)
    for exercise in exercises.EXERCISES.values():
        assert exercise.solution in quoted(exercise.topic), exercise.name
