"""The drawing canvas: strokes, eraser, undo, clear, brush sizes, the two views, the PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fooldigits.lessons import drawings
from fooldigits.pad.canvas import BRUSHES, SIZE, UNDO_LIMIT, Canvas, capsule, load_picture, paper
from fooldigits.pad.drawpad import save_png


def canvas_with_radius(radius: float) -> Canvas:
    canvas = Canvas()
    canvas.brush = BRUSHES.index(radius)
    return canvas


def test_a_horizontal_stroke_is_the_worked_example() -> None:
    canvas = canvas_with_radius(2.0)
    canvas.stroke(10, 5)
    canvas.stroke(10, 50)
    ink = canvas.pixels
    assert np.all(ink[9:12, 5:51] == 1)  # solid core
    assert np.allclose(ink[[8, 12], 5:51], 0.5)  # the soft edge
    assert np.all(ink[[7, 13]] == 0) and ink[10, 3] == 0.5 and ink[10, 52] == 0.5
    assert ink[10, 2] == 0 and ink[10, 53] == 0
    assert ink[:, :3].max() == 0 and ink[:, 53:].max() == 0
    assert np.allclose(ink[:, :28], ink[:, 55:27:-1], atol=1e-6)  # round ends, mirrored


def test_far_apart_drag_points_give_a_line_without_gaps() -> None:
    canvas = canvas_with_radius(1.0)
    canvas.stroke(2, 2)
    canvas.stroke(50, 40)  # one drag report far away
    t = np.linspace(0, 1, 500)
    rows, cols = np.rint(2 + 48 * t).astype(int), np.rint(2 + 38 * t).astype(int)
    assert canvas.pixels[rows, cols].min() > 0.5


def test_going_over_a_line_again_changes_nothing() -> None:
    canvas = Canvas()
    for point in [(10, 10), (30, 40), (45, 12)]:
        canvas.stroke(*point)
    first = canvas.pixels.copy()
    canvas.lift()
    for point in [(10, 10), (30, 40), (45, 12)]:
        canvas.stroke(*point)
    assert np.array_equal(canvas.pixels, first)


def test_the_eraser_removes_ink_where_it_passes() -> None:
    canvas = canvas_with_radius(3.0)
    canvas.stroke(28, 5)
    canvas.stroke(28, 50)
    canvas.lift()
    canvas.eraser = True
    canvas.stroke(5, 28)
    canvas.stroke(50, 28)
    assert np.all(canvas.pixels[:, 26:31] == 0)  # the eraser's solid core: ink gone
    assert np.allclose(canvas.pixels[26:31, [25, 31]], 0.5)  # its soft edge: half gone
    assert np.all(canvas.pixels[26:31, 5:20] == 1)  # the rest of the line stays


def test_brush_sizes_paint_discs_of_pi_r_squared() -> None:
    areas = []
    for radius in BRUSHES:
        canvas = canvas_with_radius(radius)
        canvas.stroke(28, 28)
        areas.append(float(canvas.pixels.sum()))
        assert areas[-1] == pytest.approx(np.pi * radius**2, rel=0.1)  # alpha 1/2 at r
    assert areas == sorted(areas)
    canvas = Canvas()
    for _ in range(20):
        canvas.resize_brush(1)
    assert canvas.radius == BRUSHES[-1]
    for _ in range(20):
        canvas.resize_brush(-1)
    assert canvas.radius == BRUSHES[0]


def test_undo_goes_back_one_stroke_and_clear_can_be_undone() -> None:
    canvas = Canvas()
    assert not canvas.undo()
    canvas.stroke(10, 10)
    canvas.stroke(10, 40)
    canvas.lift()
    one = canvas.pixels.copy()
    canvas.stroke(40, 10)
    canvas.stroke(40, 40)
    canvas.lift()
    canvas.clear()
    assert not canvas.pixels.any()
    assert canvas.undo() and canvas.pixels[40, 20] == 1
    assert canvas.undo() and np.array_equal(canvas.pixels, one)
    assert canvas.undo() and not canvas.pixels.any()
    assert not canvas.undo()
    canvas.clear()  # clearing an empty canvas leaves nothing to undo
    assert not canvas.history


def test_the_undo_stack_is_bounded() -> None:
    canvas = Canvas()
    for i in range(UNDO_LIMIT + 30):
        canvas.stroke(i % SIZE, 5)
        canvas.lift()
    assert len(canvas.history) == UNDO_LIMIT


def test_strokes_off_the_canvas_are_cut_at_its_edges() -> None:
    *_, alpha = capsule(SIZE, (-10, -10), (-8, -8), 3)
    assert alpha.size == 0
    canvas = Canvas()
    canvas.stroke(-5, 28)
    canvas.stroke(70, 28)
    assert canvas.pixels[0, 28] == 1 and canvas.pixels[-1, 28] == 1


def test_the_two_views_an_edge_to_edge_drawing_and_an_empty_canvas() -> None:
    canvas = Canvas()
    assert canvas.empty and canvas.views() is None
    canvas.stroke(1, 1)  # a 'Z' from corner to corner
    canvas.stroke(1, 54)
    canvas.stroke(54, 1)
    canvas.stroke(54, 54)
    views = canvas.views()
    assert views is not None
    mnist, raw = (v.reshape(28, 28) for v in views)
    assert mnist.dtype == np.float32 and raw.dtype == np.float32
    # MNIST's recipe leaves a margin (4 pixels, less the centre-of-mass shift); the raw
    # shrink puts ink on the border rows
    assert mnist[:2].max() == 0 and mnist[-2:].max() == 0
    assert raw[0].max() > 0.5 and raw[-1].max() > 0.5
    assert np.array_equal(views[0], drawings.normalise(canvas.pixels))


def test_the_saved_png_reads_back_as_the_same_views(tmp_path: Path) -> None:
    canvas = Canvas()
    for t in np.linspace(0, 10, 60):
        canvas.stroke(28 + 2.4 * t * np.sin(t), 28 + 2.4 * t * np.cos(t))
    path = tmp_path / "d.png"
    save_png(canvas.pixels, path)
    picture = drawings.load_image(path)  # dark ink on white, inverted back
    assert picture.shape == (8 * SIZE, 8 * SIZE)
    assert np.allclose(picture[::8, ::8], canvas.pixels, atol=1 / 255)
    views = canvas.views()
    assert views is not None
    assert np.abs(drawings.normalise(picture) - views[0]).max() < 0.05
    assert np.abs(drawings.normalise(picture, raw=True) - views[1]).max() < 0.05
    assert paper(canvas.pixels).dtype == np.uint8


def test_loading_a_picture_keeps_its_aspect_ratio(tmp_path: Path) -> None:
    wide = np.ones((100, 200))
    canvas = Canvas()
    canvas.load(wide)
    ink_rows = np.flatnonzero(canvas.pixels.max(axis=1) > 0.5)
    assert canvas.pixels[:, 0].max() == 1 and len(ink_rows) == SIZE // 2
    assert ink_rows[0] == SIZE // 4
    seven = load_picture(Path(__file__).parent.parent / "docs" / "drawings" / "seven.txt")
    canvas.load(seven)
    assert canvas.undo() and canvas.pixels[:, 0].max() == 1  # undo brings the last one back
