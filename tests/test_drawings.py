"""Drawings: normalisation on synthetic images, round trips through PNG, bad files."""

from __future__ import annotations

import io
import json
import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fooldigits import FoolDigitsError
from fooldigits.cli import app
from fooldigits.core.data import Dataset
from fooldigits.lessons.drawings import (
    border_images,
    load_for_network,
    load_image,
    normalise,
    paint,
    read_text_grid,
    scramble_background,
)
from fooldigits.models.network import Network

DRAWINGS = Path(__file__).parent.parent / "docs" / "drawings"
runner = CliRunner()


def test_normalised_box_is_20_pixels_and_centre_of_mass_is_central() -> None:
    canvas = np.zeros((300, 500))
    canvas[40:160, 350:410] = 1.0  # a tall bar far off centre
    out = normalise(canvas).reshape(28, 28)
    rows, cols = np.flatnonzero(out.max(axis=1) > 0.5), np.flatnonzero(out.max(axis=0) > 0.5)
    assert rows[-1] - rows[0] + 1 == 20
    assert cols[-1] - cols[0] + 1 == 10  # aspect ratio 120:60 kept
    total = out.sum()
    assert abs(out.sum(axis=1) @ np.arange(28) / total - 14) <= 0.5
    assert abs(out.sum(axis=0) @ np.arange(28) / total - 14) <= 0.5


def test_big_inverted_png_round_trip(tmp_path: Path, mnist: Dataset, shipped: Network) -> None:
    for index in range(12):
        image = mnist.test_images[index]
        path = tmp_path / f"d{index}.png"
        Image.fromarray(paint(image, 600, (50, 120, 420))).save(path)
        pixels = load_image(path)  # dark on white is inverted back
        assert pixels[0, 0] < 1e-9 and pixels.max() > 0.9
        again = normalise(pixels)
        assert shipped.predict(again[None])[0] == shipped.predict(image[None])[0]


def test_raw_path_shows_the_edge_effect(shipped: Network) -> None:
    edge = normalise(load_image(DRAWINGS / "two-edge.png"), raw=True)
    small = normalise(load_image(DRAWINGS / "two-small.png"), raw=True)
    assert shipped.predict(small[None])[0] == 2
    assert shipped.predict(edge[None])[0] != 2
    assert shipped.predict(normalise(load_image(DRAWINGS / "two-edge.png"))[None])[0] == 2


def test_alpha_is_flattened_onto_white(tmp_path: Path) -> None:
    rgba = np.zeros((60, 60, 4), dtype=np.uint8)  # fully transparent black ...
    rgba[20:40, 28:32] = (0, 0, 0, 255)  # ... with an opaque black stroke
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    pixels = load_image(tmp_path / "a.png")
    assert pixels[0, 0] < 1e-9 and pixels[30, 30] == pytest.approx(1.0)


def test_white_ink_on_a_transparent_canvas_is_flattened_onto_black(tmp_path: Path) -> None:
    """On white paper a white stroke would vanish ("no ink"); under light ink the paper
    is black, whatever colour the transparent pixels hold."""
    for hidden in ((0, 0, 0, 0), (255, 255, 255, 0)):
        rgba = np.zeros((60, 60, 4), dtype=np.uint8)
        rgba[:] = hidden
        rgba[20:40, 28:32] = (255, 255, 255, 255)  # an opaque white stroke
        Image.fromarray(rgba, mode="RGBA").save(tmp_path / "w.png")
        pixels = load_image(tmp_path / "w.png")
        assert pixels[0, 0] < 1e-9 and pixels[30, 30] == pytest.approx(1.0)


def test_text_grid() -> None:
    grid = read_text_grid("..#..\n.##..\n..#..\n")
    assert grid.shape == (3, 5) and grid.sum() == 4
    with pytest.raises(FoolDigitsError, match="line 2 has 3 characters"):
        read_text_grid("..#..\n.#.\n")
    with pytest.raises(FoolDigitsError, match="only '#'"):
        read_text_grid("..x..\n")


def test_border_and_scramble(mnist: Dataset, shipped: Network) -> None:
    x, y = mnist.test_images[:1000], mnist.test_labels[:1000]
    stretched = border_images(x)
    assert shipped.accuracy(stretched, y) < shipped.accuracy(x, y) - 0.2
    touches = (stretched.reshape(-1, 28, 28)[:, [0, -1], :].max(axis=(1, 2)) > 0.2) | (
        stretched.reshape(-1, 28, 28)[:, :, [0, -1]].max(axis=(1, 2)) > 0.2)
    assert touches.mean() > 0.95
    rng = np.random.default_rng(0)
    assert np.array_equal(scramble_background(x, 0.0, rng), x)
    noisy = scramble_background(x, 0.5, rng)
    assert np.array_equal(noisy[x > 0], x[x > 0])  # the digit itself is untouched
    assert 0.4 < np.mean(noisy[x == 0] > 0) < 0.6
    assert shipped.accuracy(noisy, y) < 0.8


def _huge_png(path: Path) -> None:
    """A valid PNG header claiming 10000 x 10000 pixels, with almost no data."""
    Image.new("L", (1, 1)).save(path)
    raw = bytearray(path.read_bytes())
    raw[16:24] = struct.pack(">II", 10000, 10000)
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(raw[12:29])))
    path.write_bytes(bytes(raw))


def test_classify_json_and_art() -> None:
    files = [str(DRAWINGS / n) for n in ("two-small.png", "seven.txt")]
    result = runner.invoke(app, ["classify", *files, "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["digit"] for r in report] == [2, 7]
    assert all(len(r["probabilities"]) == 10 for r in report)
    result = runner.invoke(app, ["classify", files[0]])
    assert result.exit_code == 0 and "the network says 2" in result.stdout


def test_classify_npz_as_is(tmp_path: Path, mnist: Dataset) -> None:
    np.savez(tmp_path / "x.npz", images=mnist.test_images[:3].reshape(3, 28, 28))
    result = runner.invoke(app, ["classify", str(tmp_path / "x.npz"), "--json"])
    assert [r["digit"] for r in json.loads(result.stdout)] == [7, 2, 1]



def test_classify_draws_twenty_images_then_counts_the_rest(tmp_path: Path,
                                                          mnist: Dataset) -> None:
    """1,000 images from one .npz printed 15,000 lines: the first 20 are drawn, then one
    table counts what the network said of all of them; --json still lists every one."""
    from fooldigits.core.pieces import Reading, Table
    from fooldigits.experiments import drawn
    from fooldigits.models import load_model
    from tests.conftest import events_and_result

    np.savez(tmp_path / "x.npz", images=mnist.test_images[:300])
    events, result = events_and_result(drawn.classify(load_model(), [tmp_path / "x.npz"]))
    assert sum(isinstance(e, Reading) for e in events) == drawn.SHOWN
    (table,) = [e for e in events if isinstance(e, Table)]
    counts = [int(str(row[1]).replace(",", "")) for row in table.rows]
    said = [r["digit"] for r in result.readings]
    assert counts == [said.count(c) for c in range(10)] and sum(counts) == 300

def test_classify_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not a picture")
    Image.new("L", (50, 50), 255).save(tmp_path / "white.png")
    _huge_png(tmp_path / "huge.png")
    (tmp_path / "ragged.txt").write_text("..#\n.#\n")
    np.savez(tmp_path / "nan.npz", images=np.full((2, 28, 28), np.nan))
    cases = {"notes.png": "not a PNG, JPEG, BMP or GIF", "white.png": "has no ink",
             "huge.png": "100 megapixels", "ragged.txt": "equally long",
             "missing.png": "does not exist", "nan.npz": "outside [0, 1]",
             ".": "is a folder"}
    for name, fragment in cases.items():
        result = runner.invoke(app, ["classify", str(tmp_path / name)])
        assert result.exit_code == 1 and fragment in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.output
    # one bad file among good ones: the good one is still classified, exit code 1
    result = runner.invoke(app, ["classify", str(DRAWINGS / "two-small.png"),
                                 str(tmp_path / "missing.png"), "--json"])
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert json.loads(result.stdout)[0]["digit"] == 2


def test_border_and_scramble_commands() -> None:
    result = runner.invoke(app, ["border", "--count", "500", "--json"])
    report = json.loads(result.stdout)
    assert report["border"]["accuracy"] < report["original"]["accuracy"]
    result = runner.invoke(app, ["scramble", "--levels", "0,0.5", "--count", "500", "--json"])
    levels = json.loads(result.stdout)["levels"]
    assert levels[1]["accuracy"] < levels[0]["accuracy"]
    result = runner.invoke(app, ["scramble", "--levels", "0,2"])
    assert result.exit_code == 1 and "[0, 1]" in result.stderr
    result = runner.invoke(app, ["scramble", "--levels", "a,b"])
    assert result.exit_code == 1 and "numbers" in result.stderr


def test_resample_matrix_averages_and_keeps_constants() -> None:
    from fooldigits.lessons.drawings import resample_matrix

    for n_in, n_out in ((400, 20), (20, 400), (28, 28), (7, 3)):
        m = resample_matrix(n_in, n_out)
        assert m.shape == (n_out, n_in)
        assert np.allclose(m.sum(axis=1), 1.0) and m.min() >= 0
    assert np.allclose(resample_matrix(28, 28), np.eye(28))
    stroke = np.zeros(400)
    stroke[200:210] = 1.0  # a thin line survives shrinking as a soft grey, not as nothing
    shrunk = resample_matrix(400, 20) @ stroke
    assert shrunk.sum() == pytest.approx(stroke.sum() / 20, rel=0.05) and shrunk.max() > 0.2


# -- hostile files (issue 10, items 7 and 8) ---------------------------------------------
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(extra: bytes = b"", size: tuple[int, int] = (28, 28)) -> bytes:
    """A valid black PNG with a white bar, with `extra` chunks inserted after IHDR."""
    image = Image.new("L", size)
    image.paste(255, (10, 4, 14, 24))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    raw = buffer.getvalue()
    return raw[:33] + extra + raw[33:]


def test_all_black_images_pass_through_the_ink_box_helpers(mnist: Dataset) -> None:
    x = mnist.test_images[:3].copy()
    x[1] = 0  # before: IndexError inside the ink-box helper
    out = border_images(x)
    assert not out[1].any() and out[0].any() and out.shape == (3, 784)
    assert (paint(np.zeros(784, np.float32), 50, (5, 5, 40)) == 255).all()  # blank page


def test_16_bit_grey_is_read_at_full_depth(tmp_path: Path) -> None:
    levels = np.zeros((40, 40), np.uint16)
    levels[5:35, 10:14] = 60000
    levels[5:35, 25:29] = 20000  # before: both clipped to 255, i.e. white
    Image.fromarray(levels).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode == "I;16"
    pixels = load_image(tmp_path / "deep.png")
    assert pixels[20, 12] == pytest.approx(60000 / 65535, abs=1e-6)
    assert pixels[20, 27] == pytest.approx(20000 / 65535, abs=1e-6)
    names, images = load_for_network(tmp_path / "deep.png")
    assert names == [str(tmp_path / "deep.png")] and images.shape == (1, 784)


def test_each_side_is_capped_before_decoding(tmp_path: Path) -> None:
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 40_000_000, 1, 8, 0, 0, 0, 0))
    data = _chunk(b"IDAT", zlib.compress(b"\0" + b"\xff" * 40_000_000))
    (tmp_path / "wide.png").write_bytes(b"\x89PNG\r\n\x1a\n" + header + data +
                                        _chunk(b"IEND", b""))
    start = time.perf_counter()
    with pytest.raises(FoolDigitsError, match="40000000x1; fooldigits reads pictures of at "
                       "most 20,000 pixels a side"):
        load_for_network(tmp_path / "wide.png")
    assert time.perf_counter() - start < 2  # refused from the header, nothing decoded
    (tmp_path / "wide.txt").write_text("#" * 30_000 + "\n")
    with pytest.raises(FoolDigitsError, match="at most 20,000 pixels a side"):
        load_for_network(tmp_path / "wide.txt")


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [("ztxt.png", _png(_chunk(b"zTXt", b"k\0\0" + zlib.compress(bytes(20_000_000)))),
      "is a damaged PNG file (Decompressed data too large"),
     ("iccp.png", _png(_chunk(b"iCCP", b"p\0\0" + zlib.compress(bytes(20_000_000)))),
      "is a damaged PNG file"),
     ("crc.png", _png(b"\0\0\0\1tIME\0\0\0\0\0"), "is a damaged PNG file"),
     ("ihdr.png", _png()[:16] + b"\0\0\0\0" + _png()[20:], "is a damaged PNG file"),
     ("cut.png", _png()[:60], "is a damaged PNG file"),
     ("cut.jpg", b"\xff\xd8\xff\xe0" + bytes(40), "damaged JPEG file"),
     ("offset.bmp", b"BM" + bytes(8) + struct.pack("<I", 2**31) + bytes(60), "damaged BMP"),
     ("text.gif", b"GIF89a" + b"\xff" * 20, "damaged GIF file"),
     ("zero.png", _png(size=(1, 1))[:16] + bytes(8) + _png(size=(1, 1))[24:], "damaged PNG"),
     ("bomb.bmp", b"BM" + bytes(12) + struct.pack("<IiiHH", 40, 20_000, 20_000, 1, 24) +
      bytes(40), "claims more than 40 megapixels")],
)
def test_damaged_pictures_are_one_sentence(tmp_path: Path, name: str, content: bytes,
                                           fragment: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(FoolDigitsError) as info:
        load_for_network(tmp_path / name)
    assert fragment in str(info.value) and str(tmp_path / name) in str(info.value)


@pytest.mark.parametrize(
    ("images", "fragment"),
    [(np.array(0.5), "holds a single number in 'images'"),
     (np.array(["a", "b"]), "holds text in 'images'"),
     (np.zeros((2, 784), complex), "holds complex numbers in 'images'"),
     (np.zeros((2, 784), "datetime64[s]"), "holds dates in 'images'"),
     (np.array([1, "a"], dtype=object), "holds Python objects in 'images'"),
     (np.zeros((0, 784)), "holds an array of shape (0, 784)"),
     (np.zeros((2, 27, 28)), "expected one or more 28x28 images"),
     (np.full((2, 784), 1e300), "outside [0, 1]")],
)
def test_npz_images_are_checked_from_their_header(tmp_path: Path, images: np.ndarray,
                                                  fragment: str) -> None:
    np.savez(tmp_path / "x.npz", images=images)
    with pytest.raises(FoolDigitsError) as info:
        load_for_network(tmp_path / "x.npz")
    assert fragment in str(info.value)


def test_load_for_network_reads_every_kind(tmp_path: Path, mnist: Dataset) -> None:
    np.savez(tmp_path / "x.npz", images=mnist.test_images[:3].reshape(3, 28, 28) > 0.5)
    names, images = load_for_network(tmp_path / "x.npz")
    assert names == [f"{tmp_path / 'x.npz'}[{i}]" for i in range(3)]
    assert images.shape == (3, 784) and images.dtype == np.float32 and images.max() == 1
    for path in (DRAWINGS / "two-small.png", DRAWINGS / "seven.txt"):
        names, images = load_for_network(path, raw=True)
        assert names == [str(path)] and images.shape == (1, 784)
    os.mkfifo(tmp_path / "fifo.png")
    for path, fragment in ((tmp_path / "fifo.png", "is a FIFO"),
                           (Path("/dev/zero"), "is a character device")):
        with pytest.raises(FoolDigitsError, match=fragment):
            load_for_network(path)


def test_a_phone_photo_is_read_upright(tmp_path: Path) -> None:
    # A phone stores a portrait photo sideways with an EXIF orientation tag; read as
    # stored, a '1' photographed upright lay on its side and was read as something else.
    paper = np.full((20, 40), 255, np.uint8)  # stored 40 wide, 20 tall
    paper[8:12, 4:36] = 0  # a stroke along the stored width
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(paper).save(tmp_path / "photo.jpg", exif=exif, quality=95)
    pixels = load_image(tmp_path / "photo.jpg")  # light ink on dark, as displayed
    assert pixels.shape == (40, 20)
    assert pixels[4:36, 8:12].mean() > 0.8 and pixels[:, :6].max() < 0.2  # a standing '1'
    exif[0x0112] = 99  # a damaged tag: the picture as stored, not an error
    Image.fromarray(paper).save(tmp_path / "odd.jpg", exif=exif, quality=95)
    assert load_image(tmp_path / "odd.jpg").shape == (20, 40)
