"""The classroom commands: `tutor`, `read`, `exercise list/start/check`."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fooldigits import FoolDigitsError, Interrupted
from fooldigits.cli import HtmlOpt, JsonOpt, NoColorOpt, SeedOpt, app, command, flag, output

if TYPE_CHECKING:
    from fooldigits.exercises.grade import ClassReport
    from fooldigits.pad.keys import Keyboard
    from fooldigits.present.presenter import Presenter
    from fooldigits.tutor import navigation as nav


def exercise_name(name: str) -> str:
    """An exercise as typed: any case, spaces around ("Sigmoid ", "sigmoid")."""
    return name.strip().lower()


class _Jump(Exception):  # noqa: N818 - a signal, not an error
    """A key at a mid-chapter pause left the chapter: go where `state` says."""

    def __init__(self, state: nav.State) -> None:
        super().__init__()
        self.state = state


@command()
def tutor(
    chapter: Annotated[str | None, typer.Option(
        help="Start at this chapter: data, network, pca, dream, fool, drawings, prior, "
        "conv, fighting, generative, meaning.", show_default=False)] = None,
    no_pause: Annotated[bool, flag(
        "--no-pause", "Run straight through without waiting for keys (automatic when not "
        "on a terminal).")] = False,
    quick: Annotated[bool, flag("--quick", "Smaller computations, for a fast look.")] = False,
    seed: SeedOpt = 0,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """The whole story, chapter by chapter, computed live on the bundled data.

    Keys at a pause: Enter, space or the right arrow for the next chapter (or the next screen of
    a long one), b or the left arrow to go back, r to run the chapter again with a new seed, n
    to skip to the next chapter, q to stop. While a chapter computes, n skips to the next
    chapter and q stops; other keys are ignored.

    With --html FILE the whole story is also saved as one self-contained web page, for a teacher
    to project or hand out.
    """
    from fooldigits.core.options import make_rng
    from fooldigits.core.pieces import Say
    from fooldigits.pad.keys import Keyboard
    from fooldigits.present.presenter import Presenter
    from fooldigits.tutor import navigation as nav
    from fooldigits.tutor import story as story

    chapters = story.CHAPTERS
    view = output(no_color, False, None, html, "fooldigits: artificial neural networks are "
                  "not human")
    interactive = not no_pause and sys.stdin.isatty() and sys.stdout.isatty()
    sizes = story.Sizes.quick() if quick else story.Sizes.full()
    presenter = Presenter(view)
    keyboard = Keyboard(sys.stdin.fileno()) if interactive else None
    state = nav.start(0 if chapter is None else story.chapter(chapter), len(chapters))
    hint = _path_hint()

    def ask(state: nav.State) -> nav.State:
        """Wait at a pause until a key changes the state; the prompt is erased after."""
        assert keyboard is not None
        keyboard.forget()  # before the prompt: a key typed once it shows must count
        presenter.prompt(nav.PROMPTS[state.mode])
        while True:
            after = nav.move(state, nav.action(keyboard.get()))
            if after.note:
                presenter.prompt(f"{after.note} · {nav.PROMPTS[state.mode]}")
                after = dataclasses.replace(after, note="")
            if after != state:
                presenter.unprompt()
                return after

    def more() -> None:  # the presenter's pager: the screen is full mid-chapter
        assert keyboard is not None
        paused = nav.move(state, "screen-full")
        with keyboard.waiting():
            after = ask(paused)
        if not nav.same_run(paused, after):
            raise _Jump(after)

    if interactive:
        presenter.pager, presenter.hint = more, nav.PROMPTS["running"]
    with keyboard or contextlib.nullcontext():
        while state.mode != "done":
            current = chapters[state.chapter]
            try:
                presenter.sections = [s for s in presenter.sections
                                      if s.title != current.title]
                presenter.heading(current.title, current.text)
                with keyboard.busy() if keyboard else contextlib.nullcontext():
                    presenter.run(current.run(make_rng(seed + 1000 * state.reruns), sizes))
                if current.quiz:  # the last chapter's interaction: you against the networks
                    _quiz(presenter, keyboard, sizes.quiz_count, seed + 1000 * state.reruns)
                presenter.show(Say(current.footer, "note"))
                if hint:  # the first time the tutor names a command: how to type it here
                    presenter.show(Say(hint, "note"), export=False)  # not in a handout
                    hint = ""
                state = nav.move(state, "chapter-done")
                state = ask(state) if interactive else nav.move(state, "next")
            except _Jump as jump:
                state = jump.state
            except KeyboardInterrupt:  # Ctrl-C, or n/q typed while the chapter computed
                key = keyboard.take() if keyboard else None
                state = nav.move(state, nav.action(key) if key else "interrupt")
                if state.stopped:
                    raise
    order = [c.title for c in chapters]
    presenter.sections.sort(key=lambda s: order.index(s.title) if s.title in order else 99)
    presenter.console.print("[bold]The end.[/] Every chapter is a command too: try "
                            "`fooldigits --help`, and `fooldigits exercise list` for the "
                            "exercises.")
    presenter.finish()


def _quiz(presenter: Presenter, keyboard: Keyboard | None, count: int, seed: int) -> None:
    """The closing quiz (cli/quiz.py): asked at a terminal, else the networks' answers only."""
    from fooldigits.cli.quiz import play_quiz
    from fooldigits.core.data import load_mnist
    from fooldigits.core.options import make_rng
    from fooldigits.core.pieces import Say

    presenter.show(Say(f"Now you: {count} images. Type the digit you see, or n for \"not a "
                       "digit\"; then your answers beside every network's." if keyboard else
                       f"The quiz: {count} images and what each network said of them; "
                       "`fooldigits quiz` asks you first."))
    read = None
    if keyboard is not None:
        def read() -> str:
            with keyboard.waiting():
                return keyboard.get()
    play_quiz(presenter, load_mnist(), count, make_rng(seed), read,
              keyboard.busy if keyboard is not None else contextlib.nullcontext,
              keyboard.forget if keyboard is not None else lambda: None)


def _path_hint() -> str:
    """How to type `fooldigits` when its script is not on PATH (after `make demo` it sits in
    .venv/bin, beside the Python running it), else ""."""
    import os
    import shutil

    script = Path(sys.executable).parent / "fooldigits"
    found = shutil.which("fooldigits")
    if not script.is_file() or (found and Path(found).resolve() == script.resolve()):
        return ""

    def shown(path: Path) -> str:  # .venv/bin/fooldigits, not ../../work/x/.venv/bin/...
        try:
            return min(os.path.relpath(path), str(path), key=len)
        except (OSError, ValueError):  # the working folder was deleted
            return str(path)

    activate = script.parent / "activate"
    return (f"To run the commands the tutor names, type {shown(script)} instead of "
            "fooldigits" + (f", or first: source {shown(activate)}"
                            if activate.is_file() else "") + ".")


@command()
def read(
    topic: Annotated[str | None, typer.Argument(
        help="A docs chapter: data, network, pca, dream, evolve, ... (none: list them).",
        show_default=False)] = None,
    pager: Annotated[bool | None, typer.Option(
        "--pager/--no-pager", help="Page the output (q to leave); default: page on a "
        "terminal.", show_default=False)] = None,
    no_color: NoColorOpt = False,
) -> None:
    """A docs chapter beside the code it explains (side by side from 140 columns, stacked below).

    Code is never cut: a line too long for its column goes on in the next row after ↪. On a
    terminal the chapter opens in a pager (less, in colour: LESS=R unless you set LESS).
    """
    import inspect

    from fooldigits.present.listing import code, markdown, side_by_side
    from fooldigits.present.render import make_console, table
    from fooldigits.tutor import story as story

    console = make_console(no_color)
    known = story.topics()
    if topic is None:
        rows = [(name, (story.docs_dir() / f"{name}.md").read_text().splitlines()[0]
                 .lstrip("# ")) for name in known]
        console.print(table("docs chapters: fooldigits read TOPIC", ["topic", "title"], rows))
        return
    asked, topic = topic, topic.strip().lower().removesuffix(".md")  # PCA, pca.md: pca
    if topic not in known:
        from fooldigits.core.reading import printable

        raise FoolDigitsError(f"unknown topic '{printable(asked, 60)}'; topics: "
                              f"{', '.join(known)}")
    text = (story.docs_dir() / f"{topic}.md").read_text()
    sources = []
    for name in story.references(text):
        obj = story.resolve(name)
        try:  # getsource takes any object here: its TypeError skips what has no source
            sources.append(code(inspect.getsource(obj), name))  # type: ignore[arg-type]
        except (TypeError, OSError):
            continue
    from rich.console import Group

    width = console.width
    hint = ("" if width >= 140 else
            f"(the docs and the code side by side need a terminal 140 columns wide; this one "
            f"has {width})\n")
    view = Group(markdown(hint + text) if hint else markdown(text), *sources) if width < 140 \
        else side_by_side(markdown(text), Group(*sources), width)
    if (pager if pager is not None else console.is_terminal) and not _broken_pager():
        import os

        os.environ.setdefault("LESS", "R")  # less shows colours, not escape codes
        with console.pager(styles=True):
            console.print(view)
    else:
        console.print(view)


def _broken_pager() -> bool:
    """True (and one line saying so) when PAGER or MANPAGER names a program that is not
    there: Python's pager would hand the chapter to it, and show nothing at all."""
    import os
    import shlex
    import shutil

    variable = "MANPAGER" if os.environ.get("MANPAGER") else "PAGER"
    command = os.environ.get(variable)
    if not command:
        return False
    try:
        program = shlex.split(command)[0]
    except (ValueError, IndexError):
        program = ""
    if program and shutil.which(program):
        return False
    from fooldigits.cli.process import say

    say(f"[warning] the pager {command[:80]!r} ({variable}) is not a program here: the "
        "chapter is shown without it")
    return True


exercise_app = typer.Typer(help="Classroom exercises that check themselves: list, start, "
                           "check, grade.", no_args_is_help=True)
app.add_typer(exercise_app, name="exercise")
TimeoutOpt = Annotated[float, typer.Option(
    help="Seconds a file may take to load and answer every check.")]


@command("list", target=exercise_app)
def exercise_list(no_color: NoColorOpt = False) -> None:
    """The exercises, one per core idea, at least one per chapter of the tutor."""
    from fooldigits import exercises
    from fooldigits.present.render import make_console, table

    rows = [(e.name, e.chapter, e.title) for e in exercises.EXERCISES.values()]
    make_console(no_color).print(table("exercises: fooldigits exercise start NAME DIR",
                                       ["name", "chapter", "what you write"], rows))


@command("start", target=exercise_app)
def exercise_start(
    name: Annotated[str, typer.Argument(help="The exercise, e.g. backprop.",
                                        callback=exercise_name)],
    path: Annotated[Path, typer.Argument(
        help="Your work folder (NAME.py is written there), or a .py file.")] = Path("."),
    force: Annotated[bool, flag("--force", "Replace an existing file with the stub.")] = False,
) -> None:
    """Copy an exercise's stub into your folder, ready to fill in."""
    import os

    from fooldigits import FoolDigitsError, exercises

    exercises.get(name)
    target = exercises.student_file(name, path)
    if os.path.lexists(target) and not force:
        raise FoolDigitsError(
            f"{exercises.shown(target)} already exists (your work?): keep it and run "
            f"`fooldigits exercise check {name} {exercises.shown(path)}`, or replace it with "
            f"the stub: `fooldigits exercise start {name} {exercises.shown(path)} --force`")
    target = exercises.start(name, path, force)
    typer.echo(f"wrote {exercises.shown(target)}: fill in the functions, then run "
               f"`fooldigits exercise check {name} {exercises.shown(path)}`")


@command("check", target=exercise_app)
def exercise_check(
    name: Annotated[str, typer.Argument(help="The exercise, e.g. backprop.",
                                        callback=exercise_name)],
    path: Annotated[Path, typer.Argument(
        help="Your work folder (holding NAME.py), or your .py file.")] = Path("."),
    timeout: TimeoutOpt = 5.0,
    as_json: JsonOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Check your file in a separate process; exit 0 only when every check passes."""
    from rich.markup import escape

    from fooldigits import exercises
    from fooldigits.core.pieces import to_json
    from fooldigits.present.render import make_console

    report = exercises.check(name, path, timeout=timeout)
    if as_json:
        typer.echo(to_json(report.as_dict()))
    else:
        console = make_console(no_color)
        if report.output:
            console.print("[dim]your code printed:[/]\n" + escape(report.output.rstrip()))
        for r in report.results:
            mark = "[green]PASS[/]" if r.passed else "[red]FAIL[/]"
            console.print(f"{mark} {escape(r.name)}" + ("" if r.passed else
                                                        f": {escape(r.message)}"))
        failed = sum(not r.passed for r in report.results)
        console.print(f"[bold green]all checks pass.[/] The project's own version: "
                      f"{report.exercise.solution} (`fooldigits read {report.exercise.topic}`)"
                      if report.passed else
                      f"[bold red]{failed} of {len(report.results)} checks fail[/]")
    if not report.passed:
        raise typer.Exit(1)


@command("grade", target=exercise_app)
def exercise_grade(
    name: Annotated[str, typer.Argument(help="The exercise, e.g. fgsm.",
                                        callback=exercise_name)],
    folder: Annotated[Path, typer.Argument(
        help="The class: one .py file, or one folder holding NAME.py, per student.")],
    timeout: TimeoutOpt = 5.0,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Check every student's file in a folder, each in its own process, and write a class
    report: pass or fail, the named mistake and the time, per student.

    A student is a file STUDENT.py, or a folder STUDENT/ holding NAME.py (or one .py
    file). A looping or hostile file costs its own timeout and its own row, never the
    others'. Exits 0 once the report is written, whoever passed; 1 if the folder holds no
    student's file.
    """
    from rich.markup import escape

    from fooldigits.exercises.grade import ClassReport, Grade, grade
    from fooldigits.present.presenter import Presenter

    presenter = Presenter(output(no_color, as_json, None, html,
                                 f"class report: exercise {name}"))

    def said(row: Grade, i: int, n: int) -> None:
        mark = "[green]PASS[/]" if row.passed else "[red]FAIL[/]" if row.checked else \
            "[yellow]not checked[/]"
        presenter.console.print(f"[dim]{i + 1}/{n}[/] {escape(row.student)}: {mark} "
                                f"[dim]({row.seconds:.1f} s)[/]")

    try:
        report = grade(name, folder, timeout, progress=said)
    except Interrupted as stop:  # Ctrl-C: the report of the students graded so far
        if isinstance(stop.partial, ClassReport) and stop.partial.grades:
            _class_report(presenter, stop.partial, f"Ctrl-C: {stop.message}")
        raise
    if not report.grades:  # the wrong folder, most likely: no report, and a failing exit
        from fooldigits import FoolDigitsError
        from fooldigits.exercises import shown

        raise FoolDigitsError(f"no students' files in {shown(folder)}: the class is one .py "
                              f"file, or one folder holding {name}.py, per student")
    _class_report(presenter, report)


def _class_report(presenter: Presenter, report: ClassReport, stopped: str = "") -> None:
    """The class table, who passed, and the report's --json / --html (`stopped`: why it
    holds only some of the students)."""
    from fooldigits.core.pieces import Say, Table

    rows = [(g.student, "pass" if g.passed else "fail" if g.checked else "not checked",
             f"{g.checks_passed}/{g.checks}" if g.checked else "-", f"{g.seconds:.1f}",
             g.mistake) for g in report.grades]
    presenter.show(Table(f"exercise {report.exercise}: {report.folder}",
                         ["student", "result", "checks", "seconds", "the named mistake"],
                         rows))
    passed = sum(g.passed for g in report.grades)
    presenter.show(Say(f"{passed} of {len(report.grades)} students pass"
                       + (f" ({stopped})" if stopped else ""), "note"))
    presenter.finish(report)
