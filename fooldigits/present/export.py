"""Pictures for files: the pieces as one PNG (`--png`) or one self-contained web page (`--html`).

What this module teaches
------------------------
The terminal shows a digit as block art; a file needs pixels. `picture` turns an `Images`
piece into one RGB picture: its title on top, the digits in a grid (each pixel drawn as
`SCALE` x `SCALE` screen pixels, grey for [0, 1] or the signed colour map blue-black-red
for [-1, 1], as the terminal draws eigen-digits), and each caption written under its
digit. A `Reading` becomes the image beside its probability bars. `--png` stacks the
pictures of everything a command showed; `--html` puts the same pictures, as inline PNG
data, into a page with the sentences, tables (HTML tables) and bar charts:

    pieces --picture()--> PIL images --+--> png(): one file, stacked
                                       +--> html(): <img src="data:image/png;base64,...">

The page has no JavaScript, no external files and no links: a teacher can project it,
mail it or print it. Every write is atomic (`writing.atomic_write`).

What it leaves out: vector formats, and fonts beyond Pillow's default.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fooldigits.core.pieces import Bars, Images, Reading, Say, Table, class_name

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageDraw
    from PIL.ImageFont import FreeTypeFont, ImageFont

SCALE = 4  # screen pixels per image pixel
CELL = 28 * SCALE  # one digit: 112 pixels
GAP = 16  # between digits
BACKGROUND, INK, DIM = (255, 255, 255), (20, 20, 20), (90, 90, 90)


@dataclass
class Section:
    """A chapter of a page: heading, introduction, and the pieces it showed."""

    title: str
    text: str = ""
    pieces: list[object] = field(default_factory=list)


def _font(size: int = 13) -> FreeTypeFont | ImageFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def colours(images: np.ndarray, signed: bool) -> np.ndarray:
    """(n, 784) values -> (n, 28, 28, 3) uint8: grey for [0, 1]; for [-1, 1] negative blue,
    zero black, positive red (the terminal's `render._signed`)."""
    x = np.asarray(images, dtype=np.float64).reshape(-1, 28, 28)
    if not signed:
        g = np.round(255 * np.clip(x, 0, 1))
        return np.repeat(g[..., None], 3, axis=-1).astype(np.uint8)
    g = np.round(255 * np.clip(np.abs(x), 0, 1))
    positive = np.stack([g, g // 4, np.zeros_like(g)], axis=-1)
    negative = np.stack([np.zeros_like(g), g // 3, g], axis=-1)
    return np.where((x >= 0)[..., None], positive, negative).astype(np.uint8)


def _wrap(text: str, width_px: int, font_size: int = 13) -> list[str]:
    """Greedy word wrap to about `width_px` pixels (Pillow's default font); a bracketed
    group such as "(41 steps)" moves to the next line whole rather than being split."""
    per_char = max(1, int(font_size * 0.55))
    limit = max(8, width_px // per_char)
    words: list[str] = []
    for word in text.split():  # glue "(41" and "steps)" into one unit
        if words and words[-1].count("(") > words[-1].count(")"):
            words[-1] += " " + word
        else:
            words.append(word)
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def picture(piece: Images | Reading) -> PILImage.Image:
    """One piece as an RGB picture with its title and captions drawn as text."""
    from PIL import Image, ImageDraw

    if isinstance(piece, Reading):
        return _reading_picture(piece)
    images = np.asarray(piece.images).reshape(-1, 784)
    n = len(images)
    columns = max(1, min(piece.columns, n))
    rows = -(-n // columns)
    width = max(columns * (CELL + GAP) + GAP, 640)
    captions = [_wrap(c, CELL + GAP - 4) for c in piece.captions] or [[""]] * n
    caption_lines = max((len(c) for c in captions), default=1)
    row_height = CELL + 6 + 16 * caption_lines + GAP
    title_lines = _wrap(piece.title, width - 2 * GAP, 15)
    top = GAP + 19 * len(title_lines) + 8
    canvas = Image.new("RGB", (width, top + rows * row_height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(title_lines):
        draw.text((GAP, GAP + 19 * i), line, fill=INK, font=_font(15))
    tiles = colours(images, piece.signed)  # (n, 28, 28, 3)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        x, y = GAP + c * (CELL + GAP), top + r * row_height
        big = np.kron(tile, np.ones((SCALE, SCALE, 1), dtype=np.uint8))  # (112, 112, 3)
        canvas.paste(Image.fromarray(big, mode="RGB"), (x, y))
        draw.rectangle((x - 1, y - 1, x + CELL, y + CELL), outline=(170, 170, 170))
        for j, line in enumerate(captions[i] if i < len(captions) else []):
            caption_line(draw, x, y + CELL + 4 + 16 * j, line)
    return canvas


SPARKS = "▁▂▃▄▅▆▇█"  # a sparkline's characters (dream.sparkline): drawn as bars, not glyphs


def caption_line(draw: ImageDraw.ImageDraw, x: int, y: int, line: str) -> None:
    """One line of a caption; a sparkline in it becomes little bars (Pillow's default font
    has no block characters), each as tall as its eighth of 12 pixels."""
    font = _font()
    for run in re.findall(f"[{SPARKS}]+|[^{SPARKS}]+", line):
        if run[0] in SPARKS:
            for ch in run:
                height = 12 * (SPARKS.index(ch) + 1) / len(SPARKS)
                draw.rectangle((x, y + 13 - height, x + 4, y + 13), fill=(40, 120, 70))
                x += 6
        else:
            draw.text((x, y), run, fill=INK, font=font)
            x += int(draw.textlength(run, font=font))


def _reading_picture(piece: Reading) -> PILImage.Image:
    from PIL import Image, ImageDraw

    p = np.asarray(piece.probabilities, dtype=np.float64)
    title_lines = _wrap(piece.title, 560, 15)
    top = GAP + 19 * len(title_lines) + 8
    height = top + max(CELL * 2, 22 * len(p)) + GAP
    canvas = Image.new("RGB", (GAP + 2 * CELL + 3 * GAP + 420, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(title_lines):
        draw.text((GAP, GAP + 19 * i), line, fill=INK, font=_font(15))
    big = np.kron(colours(piece.image[None], False)[0], np.ones((2 * SCALE, 2 * SCALE, 1),
                                                                dtype=np.uint8))
    canvas.paste(Image.fromarray(big, mode="RGB"), (GAP, top))
    x0 = GAP + 2 * CELL + 2 * GAP
    winner = int(p.argmax())
    for d, value in enumerate(p):
        y = top + 22 * d
        draw.text((x0, y), class_name(d)[:11], fill=INK, font=_font())
        draw.rectangle((x0 + 80, y + 2, x0 + 80 + round(240 * value), y + 15),
                       fill=(40, 150, 60) if d == winner else DIM)
        draw.text((x0 + 330, y), f"{100 * value:.3f}%", fill=INK, font=_font())
    return canvas


def stack(pictures: Sequence[PILImage.Image]) -> PILImage.Image:
    """Pictures one under the other, left-aligned, on white."""
    from PIL import Image

    width = max(p.width for p in pictures)
    out = Image.new("RGB", (width, sum(p.height for p in pictures)), BACKGROUND)
    y = 0
    for p in pictures:
        out.paste(p, (0, y))
        y += p.height
    return out


def _png_bytes(image: PILImage.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def drawable(pieces: Iterable[object]) -> list[Images | Reading]:
    """The pieces that have pixels."""
    return [p for p in pieces if isinstance(p, Images | Reading)]


def write_png(pieces: Iterable[object], path: Path) -> int:
    """Every picture the pieces hold, stacked into one PNG; returns how many were drawn."""
    from fooldigits.core.writing import atomic_write

    shown = drawable(pieces)
    if not shown:
        return 0
    data = _png_bytes(stack([picture(p) for p in shown]))
    atomic_write(Path(path), lambda f: f.write(data))
    return len(shown)


# -- the web page -------------------------------------------------------------------------------
STYLE = """
body { font-family: Georgia, 'DejaVu Serif', serif; max-width: 1320px; margin: 2em auto;
       padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.9em; } h2 { margin-top: 2.2em; border-bottom: 1px solid #bbb; }
p.intro { font-style: italic; } p.note { color: #666; font-size: 0.92em; }
p.good { color: #176b2c; font-weight: bold; } p.bad { color: #a11; font-weight: bold; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; image-rendering: pixelated; }
figcaption.title { font-weight: bold; margin-bottom: 0.4em; }
div.digits { display: grid; gap: 10px 14px; }
figure.digit { margin: 0; min-width: 0; }
figure.digit img { width: 100%; height: auto; aspect-ratio: 1; border: 1px solid #aaa;
                   display: block; box-sizing: border-box; }
figure.digit figcaption { font-family: 'DejaVu Sans', sans-serif; font-size: 13px;
                          line-height: 1.3; margin-top: 3px; overflow-wrap: anywhere; }
code { font-family: 'DejaVu Sans Mono', monospace; font-size: 0.92em; background: #f2f2f2;
       padding: 0 0.2em; }
table { border-collapse: collapse; margin: 1em 0; font-family: 'DejaVu Sans Mono', monospace;
        font-size: 0.9em; }
p.title { font-weight: bold; margin: 1.2em 0 0.3em; } div.table > table { margin-top: 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child, th.words, td.words { text-align: left; }
td.diag { background: #dff0df; } td.bar { text-align: left; width: 320px; }
span.bar { display: inline-block; height: 0.8em; background: #4a7; }
ul.toc { columns: 2; list-style: none; padding-left: 0; }
"""


def _table_html(piece: Table) -> str:
    """As in the terminal (`render.table`): columns of numbers right-aligned, of words left."""
    from fooldigits.present.render import numeric

    words = [j > 0 and not all(numeric(r[j]) for r in piece.rows if j < len(r))
             for j in range(len(piece.columns))]
    head = "".join(f"<th{' class=words' if words[j] else ''}>{html.escape(str(c))}</th>"
                   for j, c in enumerate(piece.columns))
    body = []
    for i, row in enumerate(piece.rows):
        cells = []
        for j, value in enumerate(row):
            text = f"{value:.4f}" if isinstance(value, float) else str(value)
            diagonal = piece.diagonal and j == i + 1
            in_words = j < len(words) and words[j]
            kind = " class=diag" if diagonal else " class=words" if in_words else ""
            cells.append(f"<td{kind}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return _titled_table(text_html(piece.title),
                         f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>")


def _bars_html(piece: Bars) -> str:
    top = max((float(v) for v in piece.values), default=0.0) or 1.0
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td class=bar><span class=bar style=\"width:"
        f"{100 * max(float(v), 0) / top:.1f}%\"></span></td><td>{html.escape(piece.fmt.format(v))}"
        "</td></tr>" for name, v in zip(piece.labels, piece.values, strict=True))
    return _titled_table(html.escape(piece.title), f"<tbody>{rows}</tbody>")


def _titled_table(title: str, content: str) -> str:
    """A table with its title above it as wide as the page, as in the terminal (a table's
    own <caption> would wrap to the table's width)."""
    return f"<div class=table><p class=title>{title}</p><table>{content}</table></div>"


def text_html(text: str) -> str:
    """Plain text as HTML: escaped, with `backticks` set as code."""
    parts = html.escape(text).split("`")
    if len(parts) % 2 == 0:  # an odd backtick: leave it as it is
        return html.escape(text)
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _digit_png(image: np.ndarray, signed: bool) -> str:
    """One digit as a 28 x 28 PNG data URL (the page scales it up, pixelated)."""
    from PIL import Image

    tile = colours(np.asarray(image).reshape(1, 784), signed)[0]  # (28, 28, 3)
    data = base64.b64encode(_png_bytes(Image.fromarray(tile, mode="RGB"))).decode("ascii")
    return f"data:image/png;base64,{data}"


def _images_html(piece: Images) -> str:
    """A grid of digits, each with its caption as text under it, the title above: `columns`
    to a row as in the PNG (rows can mean something: "GA noise, GA blank and dream (rows)"),
    each digit 112 px wide, narrower when the window is too narrow for a row."""
    images = np.asarray(piece.images).reshape(-1, 784)
    tracks = max(1, min(piece.columns, len(images)))
    captions = list(piece.captions) + [""] * (len(images) - len(piece.captions))
    cells = "".join(
        f"<figure class=digit><img alt=\"{html.escape(c, quote=True)}\" width=112 height=112 "
        f"src=\"{_digit_png(image, piece.signed)}\"><figcaption>{text_html(c)}</figcaption>"
        "</figure>" for image, c in zip(images, captions, strict=True))
    return (f"<figure class=grid><figcaption class=title>{text_html(piece.title)}"
            f"</figcaption><div class=digits style=\"grid-template-columns: repeat({tracks}, "
            f"minmax(0, 112px))\">{cells}</div></figure>")


def piece_html(piece: object) -> str:
    """One piece as HTML: a paragraph, a figure (pictures with text captions), a table."""
    if isinstance(piece, Say):
        tone = f" class={piece.tone}" if piece.tone else ""
        return f"<p{tone}>{text_html(piece.text)}</p>"
    if isinstance(piece, Images):
        return _images_html(piece)
    if isinstance(piece, Reading):
        data = base64.b64encode(_png_bytes(picture(piece))).decode("ascii")
        return (f"<figure><img alt=\"{html.escape(piece.title, quote=True)}\" "
                f"src=\"data:image/png;base64,{data}\"><figcaption class=title>"
                f"{text_html(piece.title)}</figcaption></figure>")
    if isinstance(piece, Table):
        return _table_html(piece)
    if isinstance(piece, Bars):
        return _bars_html(piece)
    return ""


def page(title: str, sections: Sequence[Section]) -> str:
    """A whole self-contained page: title, a link-free table of contents, the sections."""
    parts = ["<!DOCTYPE html>", "<html lang=en><head><meta charset=utf-8>",
             "<meta name=viewport content=\"width=device-width, initial-scale=1\">",
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{text_html(title)}</h1>"]
    if len(sections) > 1:
        parts.append("<ul class=toc>" + "".join(f"<li>{html.escape(s.title)}</li>"
                                                for s in sections) + "</ul>")
    for s in sections:
        heading = "" if s.title == title else f"<h2>{html.escape(s.title)}</h2>"
        parts.append(f"<section>{heading}")
        if s.text:
            parts.append(f"<p class=intro>{text_html(s.text)}</p>")
        parts += [piece_html(p) for p in s.pieces]
        parts.append("</section>")
    parts.append("<p class=note>Made by fooldigits: artificial neural networks are not "
                 "human.</p></body></html>")
    return "\n".join(parts)


def write_html(title: str, sections: Sequence[Section], path: Path) -> None:
    from fooldigits.core.writing import atomic_write

    text = page(title, sections).encode("utf-8")
    atomic_write(Path(path), lambda f: f.write(text))
