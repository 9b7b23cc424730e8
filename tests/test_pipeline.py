"""One pipeline: every command's --json and --html, PNGs that carry their captions, the
tutor and the CLI agreeing, and --help that reads well at 80 columns."""

from __future__ import annotations

import base64
import io
import json
import math
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fooldigits import FoolDigitsError
from fooldigits.cli import app, click_app
from fooldigits.core.pieces import Images, Say, Table, to_json

runner = CliRunner()


class Page(HTMLParser):
    """What a page holds: headings, images (decoded), tables (row counts), paragraphs."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.images: list[Image.Image] = []
        self.table_rows: list[int] = []
        self.tags: set[str] = set()
        self.links = 0
        self.pictures = 0  # figures with a title: a grid of digits, or a reading
        self.captions: list[str] = []  # the text under each digit and each title
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if tag == "img":
            src = values["src"] or ""
            assert src.startswith("data:image/png;base64,"), src[:40]
            image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
            image.load()
            self.images.append(image)
        elif tag == "table":
            self.table_rows.append(0)
        elif tag == "tr" and self.table_rows:
            self.table_rows[-1] += 1
        elif tag == "figcaption" and values.get("class") == "title":
            self.pictures += 1
        elif tag in ("a", "link") or (tag == "script"):
            self.links += 1
        self._in = tag

    def handle_data(self, data: str) -> None:
        if self._in == "h2":
            self.headings.append(data.strip())
        elif self._in == "figcaption":
            self.captions.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def read_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    assert "<!DOCTYPE html>" in path.read_text()
    assert page.links == 0, "the page must be self-contained: no links, scripts or stylesheets"
    return page


MODEL = str(Path(__file__).parent.parent / "fooldigits" / "models" / "default.npz")
COMMANDS = [
    (["show", "--count", "3"], 1),
    (["evaluate"], 0),
    (["pca", "--components", "5,10", "--reconstruct", "0"], 1),
    (["dream", "--digit", "3", "--steps", "50"], 1),
    (["fool", "--digit", "8", "--count", "2", "--mean"], 2),
    (["ceiling", "--steps", "200"], 0),
    (["transfer", "--models", MODEL, "--models", MODEL, "--count", "1", "--target", "0.9"], 0),
    (["border", "--count", "100", "--show", "2"], 1),
    (["scramble", "--count", "200", "--levels", "0,0.5"], 1),
    (["stats", "--lags", "2", "--bins", "4"], 0),
    (["compare", "--count", "3", "--min-generations", "1"], 1),
    (["adversarial", "--count", "100", "--epsilons", "0,0.1", "--show", "2"], 3),
]


@pytest.mark.parametrize(("args", "pictures"), COMMANDS, ids=[" ".join(a[:2]) for a, _ in
                                                               COMMANDS])
def test_every_command_writes_json_and_a_page(args: list[str], pictures: int,
                                              tmp_path: Path, tiny_data_dir: Path) -> None:
    small = ["--data-dir", str(tiny_data_dir)] if args[0] == "pca" else []  # a fast fit
    result = runner.invoke(app, [*args, *small, "--json", "--html", str(tmp_path / "p.html")])
    assert result.exit_code == 0, result.stderr + result.stdout
    json.loads(result.stdout)  # the whole stdout is one JSON document
    check_page(tmp_path / "p.html", pictures)


def check_page(path: Path, pictures: int) -> None:
    page = read_page(path)
    assert page.pictures == pictures
    for image in page.images:  # a digit (28 x 28, shown at 112 px) or a reading
        assert image.format == "PNG" and image.width >= 28 and image.height >= 28
    assert all(rows > 0 for rows in page.table_rows)


def test_pca_writes_json_a_page_and_a_png_at_once(pca_run: dict[str, Any]) -> None:
    """`pca`'s row of the table above, from conftest's one run with every output."""
    assert pca_run["report"]["components"] == 20  # the --json report
    check_page(pca_run["html"], 1)
    assert Image.open(pca_run["png"]).format == "PNG"


def test_the_readme_says_which_commands_have_json_and_html() -> None:
    """README: every command that computes a result has --json and --html (all but
    tutor, read, exercise and draw); draw and tutor have --html."""
    command = click_app()
    options = {name: {o for p in sub.params for o in getattr(p, "opts", [])}
               for name, sub in command.commands.items() if not hasattr(sub, "commands")}
    others = {"tutor", "read", "draw"}
    assert "exercise" not in options  # a group of its own
    for name, opts in options.items():
        if name not in others:
            assert {"--json", "--html"} <= opts, name
    assert "--html" in options["draw"] and "--html" in options["tutor"]
    exercise = {name: {o for p in sub.params for o in getattr(p, "opts", [])}
                for name, sub in command.commands["exercise"].commands.items()}
    assert "--json" in exercise["check"] and {"--json", "--html"} <= exercise["grade"]
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    # a teacher finds the class report's page in the tour and in the list of outputs
    assert "`fooldigits exercise grade fgsm class/ --html report.html`" in readme
    assert "`exercise grade --json` / `--html` the class report" in " ".join(readme.split())
    assert "all but the\nclassroom's `tutor`, `read` and `exercise`, and the interactive `draw`" \
        in readme


def test_classify_json_list_and_page(tmp_path: Path) -> None:
    drawing = Path(__file__).parent.parent / "docs" / "drawings" / "seven.txt"
    result = runner.invoke(app, ["classify", str(drawing), str(drawing), "--json", "--html",
                                 str(tmp_path / "c.html"), "--png", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.stderr
    readings = json.loads(result.stdout)
    assert [r["digit"] for r in readings] == [7, 7]
    assert read_page(tmp_path / "c.html").pictures == 2
    assert Image.open(tmp_path / "c.png").height > 2 * 224


def test_png_carries_captions_and_the_signed_map(tmp_path: Path, pca_run: dict[str, Any]
                                                 ) -> None:
    """The same `pca` as conftest's run (its PNG is the plain one), with --signed."""
    plain, signed = pca_run["png"], tmp_path / "signed.png"
    result = runner.invoke(app, [*pca_run["args"], "--png", str(signed), "--signed"])
    assert result.exit_code == 0, result.stderr
    a, b = np.asarray(Image.open(plain)), np.asarray(Image.open(signed))
    assert a.shape == b.shape and not np.array_equal(a, b)
    red, blue = b[..., 0].astype(int) - b[..., 2], b[..., 2].astype(int) - b[..., 0]
    assert red.max() > 100 and blue.max() > 100  # both signs coloured
    grey = a[..., 0].astype(int) - a[..., 2]
    assert np.abs(grey).max() == 0  # the unsigned picture is grey
    # the title and captions are drawn: dark pixels above and below each digit
    ink_rows = np.flatnonzero(a.min(axis=(1, 2)) < 100)
    assert ink_rows.min() < 30 and ink_rows.max() > 150


@pytest.mark.slow  # the whole quick tutor again (test_tutor runs every chapter): ~6 s CPU
def test_tutor_writes_the_whole_story_as_one_page(tmp_path: Path) -> None:
    result = runner.invoke(app, ["tutor", "--quick", "--no-pause", "--html",
                                 str(tmp_path / "story.html")])
    assert result.exit_code == 0, result.stderr
    from fooldigits.tutor import story as tutor

    page = read_page(tmp_path / "story.html")
    assert page.headings == [c.title for c in tutor.CHAPTERS]
    assert "ul" in page.tags and page.pictures >= 10
    assert "label 7" in page.captions  # captions are text on the page, not only pixels
    assert all(rows > 0 for rows in page.table_rows)


def test_json_refuses_nan_and_keeps_plain_types() -> None:
    with pytest.raises(FoolDigitsError, match="JSON"):
        to_json({"x": math.nan})
    assert json.loads(to_json({"a": np.float32(0.5), "b": np.arange(2)})) == {"a": 0.5,
                                                                              "b": [0, 1]}
    assert to_json(Say("hi")) == '{\n  "text": "hi",\n  "tone": ""\n}'


def test_json_refuses_what_json_has_no_type_for_in_a_sentence() -> None:
    """A set in a result is a FoolDigitsError (one sentence), not json's TypeError."""
    with pytest.raises(FoolDigitsError, match="holds a set"):
        to_json({"x": {1, 2}})



def test_bad_output_paths_fail_before_any_work(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pca", "--png", str(tmp_path / "nope" / "p.png")])
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert "eigen" not in result.stdout  # nothing was computed
    result = runner.invoke(app, ["fool", "--digit", "2", "--html", str(tmp_path / "p.txt")])
    assert result.exit_code == 1 and ".html" in result.stderr


def test_pieces_render_in_the_page() -> None:
    from fooldigits.present.export import Section, page

    text = page("t", [Section("one", "intro", [Say("<b>"), Table("t", ["a", "b"], [(1, 2.5)]),
                                                 Images("i `j`", np.zeros((2, 784)),
                                                        ["x", "run `fooldigits draw`"])])])
    assert "&lt;b&gt;" in text and "<td>2.5000</td>" in text and text.count("<img") == 2
    assert "<figcaption>run <code>fooldigits draw</code></figcaption>" in text
    assert "<figcaption class=title>i <code>j</code></figcaption>" in text
    # a table's title above it, as wide as the page (a <caption> wraps to the table's width)
    assert "<p class=title>t</p><table><thead>" in text and "<caption" not in text


def help_screens() -> list[str]:
    """Every --help screen as a person sees it at 80 columns (the real entry point)."""
    import os
    import subprocess
    import sys

    command = click_app()
    names = [[]] + [[n] for n in command.commands] + [["exercise", n] for n in
                                                       command.commands["exercise"].commands]
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb", "NO_COLOR": "1"}
    screens = []
    for name in names:
        done = subprocess.run([sys.executable, "-m", "fooldigits", *name, "--help"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (name, done.stderr)
        screens.append(done.stdout)
    return screens


@pytest.mark.slow  # a real process per --help screen: ~5 s CPU
def test_help_reads_well_at_80_columns() -> None:
    for screen in help_screens():
        assert "--no-no-" not in screen
        assert "<bool>" not in screen
        for line in screen.splitlines():
            body = line.strip(" │")
            assert len(line) <= 80
            # a wrapped paragraph never leaves one word alone on a line
            words = body.split()
            if len(words) == 1 and line.startswith(" ") and not line.startswith(" │"):
                assert body.endswith((".", ":", ")")) or body.startswith("-"), repr(line)


def test_a_web_page_aligns_words_left_and_numbers_right() -> None:
    # The class report's "the named mistake" sentences were right-aligned on the page.
    from fooldigits.core.pieces import Table
    from fooldigits.present.export import piece_html

    page = piece_html(Table("exercise sigmoid", ["student", "result", "checks", "mistake"],
                            [("ada", "fail", "0/4", "expected an array of shape (4, 5)"),
                             ("bob", "pass", "4/4", "")]))
    assert "<th class=words>result</th><th>checks</th><th class=words>mistake</th>" in page
    assert "<td>ada</td><td class=words>fail</td><td>0/4</td><td class=words>expected" in page


def test_a_web_page_keeps_the_rows_of_a_grid_of_digits() -> None:
    # "one image per digit from GA noise, GA blank and dream (rows)": the page wrapped the
    # 30 digits wherever the window ended (9 to a row at 1200 px), not 10 to a row.
    from fooldigits.present.export import piece_html

    page = piece_html(Images("noise, blank and dream (rows)", np.zeros((30, 784)),
                             [str(i) for i in range(30)]))
    assert "grid-template-columns: repeat(10, minmax(0, 112px))" in page
    page = piece_html(Images("five", np.zeros((5, 784)), list("abcde"), columns=5))
    assert "repeat(5, " in page
    page = piece_html(Images("two of ten", np.zeros((2, 784)), ["a", "b"]))
    assert "repeat(2, " in page  # no empty tracks narrowing two digits
