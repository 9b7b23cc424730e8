"""Your own drawings: read any image, prepare it the way MNIST was, and see what breaks.

What this module teaches
------------------------
A network trained on MNIST has only ever seen digits prepared one exact way. LeCun's
recipe, which `normalise` follows:

1. grey levels, light ink on a dark background (a drawing with dark ink on white paper
   is inverted first: `load_image` looks at the border, which is background);
2. crop to the ink's bounding box;
3. scale so the longer side is 20 pixels, keeping the aspect ratio, with an
   anti-aliasing filter (`resample_matrix`: a 400-pixel stroke becomes a soft 2-pixel one);
4. paste into the middle of a 28x28 canvas, then shift so the intensity-weighted centre
   of mass is at pixel (14, 14).

Skip steps 2-4 (`raw`: just shrink the whole canvas to 28x28, as the seed did) and a
'2' drawn to the edges of the canvas fills all 28x28 pixels. The border pixels were 0 in
every training image, so their weights never learned anything: whatever they say is
noise, and the network answers '5' at 99.9%. A small, centred '2' is recognised.

`border_images` does that to the whole test set (each digit stretched to the edges) and
`scramble_background` fills background pixels with noise: two measurements of how little
it takes to move a 98% network.

Files: PNG, JPEG, BMP and GIF read through Pillow (alpha flattened onto paper, 16-bit
grey kept at full depth, a photo turned upright by its EXIF orientation; Pillow reads
files and nothing else, the resizing is NumPy); a text grid of '#' (ink) and '.'
(background), one row per line; `.npz` files of 28x28 images (from `fooldigits fool
--out`) are used as they are. `load_for_network` takes any of them to the network's
(n, 784). A picture over `MAX_PIXELS`, or over `MAX_SIDE` on either side, is refused
before it is decoded; a damaged file is one FoolDigitsError whatever Pillow raised inside.

What it leaves out: stroke thinning or thickening, and slant correction (deskewing).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.reading import NpzReader, nbytes, printable, read_bytes

if TYPE_CHECKING:  # Pillow is imported only where an image file is read
    from PIL.Image import Image

MAX_PIXELS = 40_000_000  # a 100-megapixel image is refused before decoding
MAX_SIDE = 20_000  # pixels a side: resampling weights are (28, side), so 40M x 1 is refused
MAX_FILE_BYTES = 2**27  # 128 MiB of picture or .npz file
MAX_TEXT_BYTES = 2**20  # 1 MiB of '#' and '.'
MAX_ARRAY_BYTES = 2**29  # 512 MiB of images in a .npz (about 170,000 float32 images)
FORMATS = ("PNG", "JPEG", "BMP", "GIF")
MAGIC = ((b"\x89PNG", "PNG"), (b"\xff\xd8", "JPEG"), (b"BM", "BMP"), (b"GIF8", "GIF"))
INK, BACKGROUND = "#", "."


def read_text_grid(text: str, name: str = "text") -> np.ndarray:
    """A digit drawn with '#' (ink) and '.' (background) -> (rows, cols) floats, ink 1."""
    lines = [line.rstrip("\r") for line in text.splitlines() if line.strip()]
    if not lines:
        raise FoolDigitsError(f"{name} holds no drawing")
    widths = {len(line) for line in lines}
    if len(widths) > 1:
        bad = next(i for i, line in enumerate(lines, 1) if len(line) != len(lines[0]))
        raise FoolDigitsError(
            f"{name}: line {bad} has {len(lines[bad - 1])} characters but line 1 has "
            f"{len(lines[0])}; every row of the grid must be equally long")
    _check_size(len(lines[0]), len(lines), name)
    unknown = set("".join(lines)) - {INK, BACKGROUND}
    if unknown:
        raise FoolDigitsError(f"{name}: use only '#' for ink and '.' for background, "
                              f"found {''.join(sorted(unknown))!r}")
    return np.array([[1.0 if ch == INK else 0.0 for ch in line] for line in lines])


def load_image(path: Path) -> np.ndarray:
    """A picture file -> (rows, cols) floats in [0, 1] with light ink on dark (step 1).

    Reads only a regular file of at most `MAX_FILE_BYTES`; a `.txt` file is a text grid.
    """
    path = Path(path)
    if path.suffix.lower() == ".txt":
        text = read_bytes(path, MAX_TEXT_BYTES, "drawing").decode("utf-8", errors="replace")
        return read_text_grid(text, str(path))
    return decode_image(read_bytes(path, MAX_FILE_BYTES, "image"), str(path))


def _check_size(width: int, height: int, name: str) -> None:
    """Refuse an empty picture, or one too big to resize, before it is decoded."""
    if width < 1 or height < 1:
        raise FoolDigitsError(f"{name} is {width}x{height}: it has no pixels")
    if width * height > MAX_PIXELS:
        raise FoolDigitsError(
            f"{name} is {width}x{height} = {width * height / 1e6:.0f} megapixels; "
            f"fooldigits reads at most {MAX_PIXELS / 1e6:.0f}")
    if max(width, height) > MAX_SIDE:
        raise FoolDigitsError(f"{name} is {width}x{height}; fooldigits reads pictures of "
                              f"at most {MAX_SIDE:,} pixels a side")


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """The bytes of a PNG, JPEG, BMP or GIF -> (rows, cols) floats, light ink on dark.

    Pillow decodes; a damaged file (a bad chunk, an oversized text or colour-profile
    chunk, a truncated stream) raises many kinds of error inside Pillow, and each
    becomes one FoolDigitsError naming the file. 16-bit greyscale keeps its 65,536
    levels (scaled to [0, 1]); everything else is read as 8-bit RGBA, and transparent
    areas become paper: white, or black under light ink (`_grey`).
    """
    from PIL import Image, UnidentifiedImageError

    kind = next((k for magic, k in MAGIC if data.startswith(magic)), "image")
    try:
        with warnings.catch_warnings():  # we check the size ourselves; Pillow's other
            warnings.simplefilter("ignore")  # warnings are about files we refuse anyway
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
                _check_size(*image.size, name)
                image.seek(0)
                grey = _grey(_upright(image))
    except FoolDigitsError:
        raise
    except UnidentifiedImageError:  # Pillow could not even read the header
        if kind != "image":
            raise FoolDigitsError(f"{name} is a damaged {kind} file (its header cannot be "
                                  "read)") from None
        raise FoolDigitsError(f"{name} is not a PNG, JPEG, BMP or GIF image") from None
    except Image.DecompressionBombError:  # a header claiming > 179 megapixels
        raise FoolDigitsError(f"{name} claims more than {MAX_PIXELS / 1e6:.0f} megapixels; "
                              "fooldigits reads no more") from None
    except MemoryError:
        raise FoolDigitsError(f"{name} is too large to decode in memory") from None
    except Exception as err:  # SyntaxError, ValueError, OSError, struct.error, ... from Pillow
        reason = printable(str(err), 80) or type(err).__name__
        raise FoolDigitsError(f"{name} is a damaged {kind} file ({reason})") from None
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1.0 - grey if np.median(border) > 0.5 else grey  # dark ink on light: invert


def _upright(image: Image) -> Image:
    """The picture as it is meant to be seen: a phone stores a portrait photo sideways
    and says so in its EXIF orientation tag. A damaged tag: the picture as stored."""
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # any EXIF damage only costs the turn
        return image


def _grey(image: Image) -> np.ndarray:
    """A Pillow image -> (h, w) float32 grey in [0, 1], as it looks on paper: white paper,
    unless what is not transparent is light on average (white ink on a transparent
    canvas, which on white paper would vanish): then black paper."""
    if image.mode.startswith("I"):  # 16-bit greyscale ('I;16', 'I;16B') or 32-bit 'I'
        levels = np.asarray(image).astype(np.float32)  # (h, w), 0..65535
        return np.asarray(np.clip(levels / np.float32(65535), 0, 1))
    rgba = np.asarray(image.convert("RGBA"))  # (h, w, 4) uint8
    weights = (0.299, 0.587, 0.114)  # ITU-R 601 luma, one channel at a time (no (h, w, 3)
    grey = sum(np.float32(k / 255) * rgba[..., c] for c, k in enumerate(weights))  # floats)
    alpha = rgba[..., 3] * np.float32(1 / 255)
    seen = float(alpha.sum())  # how much of the picture is not transparent
    paper = 0.0 if seen and float((grey * alpha).sum()) / seen > 0.5 else 1.0
    return np.asarray(np.clip(grey * alpha + paper * (1 - alpha), 0, 1), dtype=np.float32)


def resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Weights (n_out, n_in) that resize one axis with a triangle (linear) filter.

    Output pixel i sits at x = (i + 0.5) * n_in / n_out - 0.5 in input coordinates and
    averages the input pixels near x, weighted by 1 - |distance| / width. When
    shrinking, width = n_in / n_out, so each output pixel averages the whole footprint
    it covers (that is the anti-aliasing: a thin 400-pixel stroke becomes a soft grey
    line instead of vanishing between samples); when enlarging, width = 1 (bilinear).
    If n_in was 4 and n_out 2, each output pixel is a weighted mean of about 4 inputs.
    """
    scale = n_in / n_out
    width = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale - 0.5  # (n_out,)
    distance = np.abs(np.arange(n_in)[None, :] - centres[:, None])  # (n_out, n_in)
    weights = np.clip(1.0 - distance / width, 0.0, None)
    return np.asarray(weights / weights.sum(axis=1, keepdims=True))


def _resize(pixels: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Resize an image (r, c) to (rows, cols): one weight matrix per axis, both axes."""
    out = resample_matrix(pixels.shape[0], rows) @ pixels @ resample_matrix(
        pixels.shape[1], cols).T
    return np.asarray(np.clip(out, 0, 1))


def _ink_box(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the ink; an all-black image is all box, no ink."""
    ink = pixels > 0.2 * pixels.max()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if len(rows) == 0:
        return 0, pixels.shape[0], 0, pixels.shape[1]
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _check_ink(pixels: np.ndarray, name: str) -> None:
    if pixels.size == 0 or pixels.max() - pixels.min() < 0.1 or pixels.max() < 0.2:
        raise FoolDigitsError(f"{name} has no ink: the canvas is empty or all one colour")


def normalise(pixels: np.ndarray, raw: bool = False, name: str = "image") -> np.ndarray:
    """MNIST's preparation (steps 2-4), or with `raw` a plain shrink: (784,) float32."""
    rows, cols = pixels.shape if pixels.ndim == 2 else (0, 0)
    _check_size(cols, rows, name)
    _check_ink(pixels, name)
    if raw:
        out = _resize(pixels, 28, 28)
        return np.asarray(out / max(out.max(), 1e-9), dtype=np.float32).reshape(784)
    top, bottom, left, right = _ink_box(pixels)  # step 2
    crop = pixels[top:bottom, left:right]
    scale = 20.0 / max(crop.shape)  # step 3
    rows, cols = (max(1, round(n * scale)) for n in crop.shape)
    small = _resize(crop, rows, cols)
    small /= max(small.max(), 1e-9)
    canvas = np.zeros((28, 28))
    r0, c0 = (28 - rows) // 2, (28 - cols) // 2  # step 4: paste in the middle ...
    canvas[r0 : r0 + rows, c0 : c0 + cols] = small
    total = canvas.sum()
    dr = round(14 - (canvas.sum(axis=1) @ np.arange(28)) / total)  # ... then move the
    dc = round(14 - (canvas.sum(axis=0) @ np.arange(28)) / total)  # centre of mass
    dr = int(np.clip(dr, -r0, 28 - r0 - rows))  # never push ink off the canvas
    dc = int(np.clip(dc, -c0, 28 - c0 - cols))
    canvas = np.roll(canvas, (dr, dc), axis=(0, 1))
    return canvas.astype(np.float32).reshape(784)


def _words(dtype: np.dtype[np.generic]) -> str:
    kinds = {"c": "complex numbers", "U": "text", "S": "bytes", "M": "dates",
             "m": "time spans", "O": "Python objects", "V": "raw records"}
    return kinds.get(dtype.kind, str(dtype))


def load_npz_images(path: Path) -> np.ndarray:
    """28x28 images saved by `fooldigits fool --out` (key `images`): (n, 784) float32.

    The array's shape and dtype are checked from its header before its data is read:
    (n, 28, 28) or (n, 784) real numbers (never text, complex, dates or objects),
    n >= 1, at most `MAX_ARRAY_BYTES`; then every pixel must be finite and in [0, 1].
    """
    with NpzReader(path, "image file", MAX_FILE_BYTES) as npz:
        if "images" not in npz.headers:
            raise FoolDigitsError(f"{path} has no 'images' array (the kind "
                                  "`fooldigits fool --out` writes)")
        shape, dtype = npz.headers["images"]
        if dtype.kind not in "biuf":
            raise FoolDigitsError(f"{path} holds {_words(dtype)} in 'images'; pixels must "
                                  "be real numbers in [0, 1]")
        if len(shape) not in (2, 3) or shape[1:] not in ((28, 28), (784,)) or not shape[0]:
            what = "a single number" if not shape else f"an array of shape {shape}"
            raise FoolDigitsError(f"{path} holds {what} in 'images'; expected one or more "
                                  "28x28 images, shaped (n, 28, 28) or (n, 784)")
        if nbytes(shape, dtype) > MAX_ARRAY_BYTES:
            raise FoolDigitsError(f"{path} holds {shape[0]:,} images; fooldigits reads at "
                                  f"most {MAX_ARRAY_BYTES // (784 * dtype.itemsize):,} of "
                                  f"this type")
        images = npz.read("images")
    with np.errstate(over="ignore", invalid="ignore"):
        images = images.reshape(len(images), 784).astype(np.float32)  # (n, 784)
    if not np.all(np.isfinite(images)) or images.min() < 0 or images.max() > 1:
        raise FoolDigitsError(f"{path} holds pixels outside [0, 1] (or NaN)")
    return images


def load_for_network(path: Path, raw: bool = False) -> tuple[list[str], np.ndarray]:
    """Any file `classify` accepts -> (a name per image, images (n, 784) float32).

    A `.npz` gives its images as they are, named `file[0]`, `file[1]`, ...; a picture or
    text grid gives one image, prepared by `normalise` (with `raw`, just shrunk). For
    one bad file it raises FoolDigitsError only, so a caller can report it and go on.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".npz":
            images = load_npz_images(path)
            return [f"{path}[{i}]" for i in range(len(images))], images
        return [str(path)], normalise(load_image(path), raw, str(path))[None]  # (1, 784)
    except MemoryError:
        raise FoolDigitsError(f"{path} is too large to prepare in memory") from None


def paint(image: np.ndarray, canvas: int, box: tuple[int, int, int]) -> np.ndarray:
    """Redraw a 28x28 digit as a paint-program picture: dark ink on a white canvas.

    `box` = (top, left, size): the digit's bounding box is scaled to `size` pixels and
    placed at (top, left) on a `canvas` x `canvas` page. Returns (canvas, canvas) uint8.
    """
    pixels = image.reshape(28, 28).astype(np.float64)
    top, bottom, left, right = _ink_box(pixels)
    crop = pixels[top:bottom, left:right]
    top_at, left_at, size = box
    scale = size / max(crop.shape)
    rows, cols = (max(1, round(n * scale)) for n in crop.shape)
    page = np.zeros((canvas, canvas))
    big = _resize(crop, rows, cols)
    page[top_at : top_at + rows, left_at : left_at + cols] = big[: canvas - top_at,
                                                                 : canvas - left_at]
    return (255 * (1 - page)).round().astype(np.uint8)


def border_images(images: np.ndarray) -> np.ndarray:
    """Each digit's bounding box stretched (aspect kept) to touch the 28x28 edges."""
    out = np.zeros_like(images)
    for i, image in enumerate(images):
        pixels = image.reshape(28, 28).astype(np.float64)
        top, bottom, left, right = _ink_box(pixels)
        crop = pixels[top:bottom, left:right]
        scale = 28.0 / max(crop.shape)
        rows, cols = (min(28, max(1, round(n * scale))) for n in crop.shape)
        big = np.zeros((28, 28))
        r0, c0 = (28 - rows) // 2, (28 - cols) // 2
        big[r0 : r0 + rows, c0 : c0 + cols] = _resize(crop, rows, cols)
        out[i] = big.reshape(784)
    return out


def scramble_background(images: np.ndarray, level: float, rng: np.random.Generator
                        ) -> np.ndarray:
    """Replace a share `level` of the background pixels (exactly 0) by uniform noise."""
    if not 0 <= level <= 1:
        raise FoolDigitsError(f"scramble levels must be in [0, 1], got {level}")
    noisy = images.copy()
    hit = (images == 0) & (rng.random(images.shape) < level)
    noisy[hit] = rng.random(int(hit.sum()), dtype=np.float32)
    return noisy
