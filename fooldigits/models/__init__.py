"""The models: every kind of classifier the story tests, and the one way to load them.

What this package teaches
-------------------------
Each kind lives in its own module and implements `base.Classifier` (probabilities,
input gradient, classes, describe, save):

    network.Network        "dense"       Nielsen's sigmoid network, 784-100-10 (the shipped model)
    linear.Linear          "linear"      softmax regression: no hidden layer at all
    conv.Conv              "conv"        Nielsen's chapter-6 convolutional network, by im2col
    generative.Generative  "generative"  one probabilistic PCA per digit, and "not a digit"

`KINDS` is the registry: a model file stores its `kind`, and `load_model` looks the class
up here. Adding a kind touches its own module, its docs chapter, its tests and one line of
`KINDS`; no chapter changes, because no chapter reads a model's weights.

`load_model(path)` is careful for every kind at once, before a weight is allocated:
1. the file is a regular file of at most `MAX_MODEL_BYTES`, an .npz without pickles;
2. its `kind` is one of `KINDS` (a file without one is a dense network: the files made
   before there were other kinds);
3. the kind names the arrays it needs and their shapes from the headers (`shapes`);
   each must be real numbers (never text, complex, dates or objects);
4. then the arrays are read, as float32, and must be finite and at most `MAX_MAGNITUDE` in
   size: with inputs in [0, 1], bounded weights keep every sum of products finite;
5. the text metadata is made printable (control characters escaped, at most
   `META_CHARS`);
6. the model reads a blank, a grey and a white image and must give finite probabilities
   and input gradients: a deep ReLU network can still overflow within the bound.

What it leaves out: converting other frameworks' files; a model is always made by
`fooldigits train`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.reading import NpzReader, printable
from fooldigits.models.base import MAX_MAGNITUDE, Classifier, Trainable
from fooldigits.models.conv import Conv
from fooldigits.models.generative import Generative
from fooldigits.models.linear import Linear
from fooldigits.models.network import Network

KINDS: dict[str, type[Classifier]] = {
    "dense": Network,
    "linear": Linear,
    "conv": Conv,
    "generative": Generative,
}
T = TypeVar("T")
SHIPPED = Path(__file__).parent  # the shipped models' folder
DEFAULT_MODEL = SHIPPED / "default.npz"
# The shipped models by file, with the name the chapters give them, in the story's order.
SHIPPED_NAMES = {"default": "dense", "robust": "robust", "linear": "linear",
                 "conv": "conv", "generative": "generative"}  # robust: adversarially trained
MAX_MODEL_BYTES = 2**28  # 256 MiB: 20M float64 weights and some room
MAX_TEXT, META_CHARS = 4096, 1000  # characters in a stored text; in metadata as loaded


def load_model(path: Path | None = None) -> Classifier:
    """Read a model saved by `Classifier.save`; `None` means the shipped dense model."""
    path = DEFAULT_MODEL if path is None else Path(path)
    with NpzReader(path, "model file", MAX_MODEL_BYTES,
                   "a fooldigits model (.npz) file") as npz:  # step 1
        kind = _text(npz, "kind", "dense")  # step 2
        if kind not in KINDS:
            raise FoolDigitsError(f"{path} holds a model of kind {printable(kind, 40)!r}; "
                                  f"fooldigits knows {', '.join(KINDS)}")
        cls = KINDS[kind]
        shapes = _naming(path, cls.shapes, npz)  # step 3
        for key, shape in shapes.items():
            if key not in npz.headers:
                raise FoolDigitsError(f"{path} has missing weights: no {key!r}")
            found, dtype = npz.headers[key]
            if dtype.kind not in "fiu":
                raise FoolDigitsError(f"{path} holds {_dtype_words(dtype)} in {key!r}; "
                                      "weights must be real numbers")
            if found != shape:
                raise FoolDigitsError(f"{path} has wrongly shaped weights: {key!r} is "
                                      f"{found}, this {kind} model needs {shape}")
        texts, meta = {}, {}
        for key, (_, dtype) in sorted(npz.headers.items()):
            if key in shapes or key == "kind" or dtype.kind != "U":
                continue
            name = key[5:]
            if key.startswith("meta_") and name.isidentifier() and len(name) <= 40:
                meta[name] = printable(_text(npz, key, ""), META_CHARS)  # step 5
            elif key.isidentifier() and len(key) <= 40:
                texts[key] = _text(npz, key, "")
        arrays = {key: npz.read(key) for key in shapes}  # step 4
    for key, array in arrays.items():
        with np.errstate(over="ignore", invalid="ignore"):
            arrays[key] = array.astype(np.float32)
        if not np.all(np.isfinite(arrays[key])):
            raise FoolDigitsError(f"{path} holds NaN or infinite weights in {key!r} (or "
                                  "numbers too large for float32)")
        largest = float(np.abs(arrays[key]).max(initial=0.0))
        if largest > MAX_MAGNITUDE:  # finite, but 3e38 x 2 overflows later, mid-command
            raise FoolDigitsError(f"{path} holds a number of {largest:.3g} in {key!r}; "
                                  f"fooldigits reads models whose numbers are at most "
                                  f"{MAX_MAGNITUDE:,.0f} in size")
    model = _naming(path, cls.from_arrays, arrays, texts)
    model.meta = meta
    probe = np.repeat(np.array([[0.0], [0.5], [1.0]], np.float32), 784, axis=1)  # (3, 784)
    with np.errstate(all="ignore"):  # step 6: finite weights can still overflow
        p = model.probabilities(probe)
        grad = model.input_gradient(probe, np.zeros(len(probe), np.intp))
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(grad))):
        raise FoolDigitsError(f"{path} holds weights so large that its outputs overflow "
                              "(NaN) on a blank, a grey or a white image")
    return model


def shipped() -> list[tuple[str, Classifier]]:
    """Every shipped model there is, as (name, model), in `SHIPPED_NAMES`' order."""
    return [(name, load_model(SHIPPED / f"{stem}.npz")) for stem, name in SHIPPED_NAMES.items()
            if (SHIPPED / f"{stem}.npz").is_file()]


def _naming(path: Path, ask: Callable[..., T], *args: object) -> T:
    """A kind's answer, its complaints said about `path` (a kind need not name the file)."""
    try:
        return ask(*args)
    except FoolDigitsError as err:
        if str(path) in str(err):
            raise
        raise FoolDigitsError(f"{path}: {err}") from None


def _text(npz: NpzReader, key: str, default: str) -> str:
    """A text entry (a choice or metadata): one short string, checked from its header."""
    if key not in npz.headers:
        return default
    shape, dtype = npz.headers[key]
    if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_TEXT:
        raise FoolDigitsError(f"{npz.path} has a {key!r} that is not one short text")
    return str(npz.read(key)[()])


def _dtype_words(dtype: np.dtype[np.generic]) -> str:
    kinds = {"c": "complex numbers", "U": "text", "S": "bytes", "M": "dates",
             "m": "time spans", "O": "Python objects", "V": "raw records", "b": "booleans"}
    return kinds.get(dtype.kind, f"{dtype} values")


__all__ = ["DEFAULT_MODEL", "KINDS", "SHIPPED", "Classifier", "Linear", "Network", "Trainable",
           "load_model", "shipped"]
