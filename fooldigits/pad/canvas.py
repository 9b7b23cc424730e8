"""A canvas to draw digits on: a soft round brush, an eraser, undo, and what the network sees.

What this module teaches
------------------------
A paint program in a few NumPy lines, and the two ways a drawing can reach the network.

The canvas is `SIZE` x `SIZE` = 56 x 56 float32 pixels, ink 1 on black 0 (MNIST's way
round), twice as fine as the network's 28 x 28 so that drawing feels natural.

1. **The brush** paints a *capsule*: every pixel within `radius` of the segment from the
   previous pen position a to the new one b. For a pixel p the nearest point of the
   segment is a + t (b - a) with t = clip((p - a).(b - a) / |b - a|^2, 0, 1), and its
   ink is alpha = clip(radius + 0.5 - distance, 0, 1): solid in the middle, fading over
   the last pixel (that soft edge is the anti-aliasing). A drag reported at two far-apart
   cells still paints a gap-free line, with no step count to choose. The pen keeps the
   larger value (pixels = max(pixels, alpha)), so going over a line twice changes nothing;
   the eraser keeps the smaller (pixels = min(pixels, 1 - alpha)).
2. **Undo**: every stroke, clear or load first pushes a copy of the pixels (12.5 kB)
   on a stack of at most `UNDO_LIMIT`.
3. **What the network sees**: `Canvas.views` hands the pixels to `drawings.normalise`
   twice -- MNIST's recipe (crop, scale to 20 pixels, centre of mass in the middle) and
   the raw shrink of the whole canvas to 28 x 28 that the original experiment used. A
   '2' drawn to the edges of the canvas is read correctly in the first view and as a
   '5' in the second: border pixels were 0 in every training image.

Worked example: on an empty canvas with radius 2, `stroke(10, 5)` then `stroke(10, 50)`
paints a horizontal bar: rows 9..11 solid (distance 0 or 1, alpha 1), rows 8 and 12 at
half ink (distance 2, alpha 0.5), from column 3 to column 52 (the two ends at half ink).

What it leaves out: pressure, colour and smoothing of shaky strokes (splines).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fooldigits.lessons import drawings

SIZE = 56
BRUSHES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)  # radii in canvas pixels
DEFAULT_BRUSH = 3  # radius 3: a 6-pixel stroke, MNIST's 2-3 pixels after `normalise`
UNDO_LIMIT = 200


def capsule(size: int, a: tuple[float, float], b: tuple[float, float], radius: float
            ) -> tuple[slice, slice, np.ndarray]:
    """Ink of a brush swept from a to b, as (rows, cols, alpha) on its bounding box.

    a and b are (row, column) positions, pixel centres at whole numbers; alpha is
    (rows, cols) in [0, 1]. Pixels outside the canvas are cut away.
    """
    reach = radius + 1
    top = max(0, int(np.floor(min(a[0], b[0]) - reach)))
    bottom = min(size, int(np.ceil(max(a[0], b[0]) + reach)) + 1)
    left = max(0, int(np.floor(min(a[1], b[1]) - reach)))
    right = min(size, int(np.ceil(max(a[1], b[1]) + reach)) + 1)
    rows, cols = slice(top, max(top, bottom)), slice(left, max(left, right))
    py = np.arange(rows.start, rows.stop, dtype=np.float32)[:, None] - a[0]  # (h, 1)
    px = np.arange(cols.start, cols.stop, dtype=np.float32)[None, :] - a[1]  # (1, w)
    dy, dx = b[0] - a[0], b[1] - a[1]
    length2 = dy * dy + dx * dx
    t = np.clip((py * dy + px * dx) / length2, 0, 1) if length2 > 0 else np.zeros(1)
    distance = np.hypot(py - t * dy, px - t * dx)  # (h, w)
    alpha = np.clip(radius + 0.5 - distance, 0, 1).astype(np.float32)
    return rows, cols, alpha


class Canvas:
    """`Canvas()`: 56 x 56 pixels of ink on black, with a brush, an eraser and undo."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self.pixels = np.zeros((size, size), dtype=np.float32)  # (56, 56), ink 1
        self.brush = DEFAULT_BRUSH  # index into BRUSHES
        self.eraser = False
        self.history: list[np.ndarray] = []
        self.pen: tuple[float, float] | None = None  # where the current stroke is

    @property
    def radius(self) -> float:
        return BRUSHES[self.brush]

    def resize_brush(self, step: int) -> None:
        """One size up (step 1) or down (step -1), within `BRUSHES`."""
        self.brush = int(np.clip(self.brush + step, 0, len(BRUSHES) - 1))

    def remember(self) -> None:
        """Push the pixels on the undo stack (the oldest copy goes past `UNDO_LIMIT`)."""
        self.history.append(self.pixels.copy())
        del self.history[:-UNDO_LIMIT]

    def stroke(self, row: float, col: float) -> None:
        """Move the pen to (row, col), painting (or erasing) from where it was.

        The first call of a stroke paints one round dab and remembers the canvas for
        undo; `lift` ends the stroke.
        """
        if self.pen is None:
            self.remember()
            self.pen = (row, col)
        rows, cols, alpha = capsule(self.size, self.pen, (row, col), self.radius)
        region = self.pixels[rows, cols]
        if self.eraser:
            np.minimum(region, 1 - alpha, out=region)
        else:
            np.maximum(region, alpha, out=region)
        self.pen = (row, col)

    def lift(self) -> None:
        """End the stroke: the next `stroke` starts a new line."""
        self.pen = None

    def undo(self) -> bool:
        """Go back one stroke (or clear, or load); False if there is nothing to undo."""
        self.pen = None
        if not self.history:
            return False
        self.pixels = self.history.pop()
        return True

    def clear(self) -> None:
        """Wipe the canvas (undo brings it back)."""
        self.pen = None
        if self.pixels.any():
            self.remember()
            self.pixels = np.zeros_like(self.pixels)

    def load(self, picture: np.ndarray) -> None:
        """Put a picture (rows, cols) in [0, 1], ink 1, on the canvas, aspect ratio kept.

        The longer side fills the canvas (a drawing that touched its edges still does);
        the shorter one is centred. The filter is `drawings.normalise`'s own.
        """
        picture = np.asarray(picture, dtype=np.float64)
        scale = self.size / max(picture.shape)
        rows, cols = (min(self.size, max(1, round(n * scale))) for n in picture.shape)
        small = drawings._resize(picture, rows, cols)
        self.remember()
        self.pen = None
        self.pixels = np.zeros_like(self.pixels)
        r0, c0 = (self.size - rows) // 2, (self.size - cols) // 2
        self.pixels[r0 : r0 + rows, c0 : c0 + cols] = small

    @property
    def empty(self) -> bool:
        """True when `drawings.normalise` would find no ink."""
        return bool(self.pixels.max() < 0.2 or self.pixels.max() - self.pixels.min() < 0.1)

    def views(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(MNIST-style, raw shrink), each (784,) float32 -- or None on an empty canvas."""
        if self.empty:
            return None
        return drawings.normalise(self.pixels), drawings.normalise(self.pixels, raw=True)


def paper(pixels: np.ndarray, scale: int = 8) -> np.ndarray:
    """The canvas as a paint-program picture: dark ink on white, each pixel `scale` wide.

    Returns (size * scale, size * scale) uint8; `drawings.load_image` inverts it back.
    """
    big = np.kron(np.clip(pixels, 0, 1), np.ones((scale, scale), dtype=np.float32))
    return np.asarray((255 * (1 - big)).round().astype(np.uint8))


def load_picture(path: Path) -> np.ndarray:
    """Anything `fooldigits classify` reads -> (rows, cols) ink in [0, 1].

    Pictures and text grids through `drawings.load_image`; an `.npz` of 28 x 28 images
    (from `fooldigits fool --out`) gives its first image.
    """
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return np.asarray(drawings.load_npz_images(path)[0].reshape(28, 28), dtype=np.float64)
    return drawings.load_image(path)
