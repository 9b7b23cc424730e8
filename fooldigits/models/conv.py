"""A small convolutional network: Nielsen's chapter 6 in NumPy, by im2col.

What this module teaches
------------------------
*Local receptive fields* and *shared weights* (Nielsen, chapter 6): a neuron looks at a
5x5 patch of the image only, and all neurons of a *feature map* share one 5x5 kernel, so
the map finds one kind of stroke wherever it is; *max-pooling* keeps the largest of each
2x2 block: where a stroke is, not exactly where. The default net is his:

    image 28x28 -> conv 5x5, 20 maps -> ReLU -> max-pool 2 -> conv 5x5, 40 maps -> ReLU
          -> max-pool 2 -> dense 100 ReLU -> dense 10 softmax, log-likelihood cost

Its layers, each forward beside its backward, are in `convlayers.py`: a convolution by
im2col (one matrix product for the whole batch) and its pooling are one `ConvPool`
layer, which pools, then adds the bias, then the ReLU follows: the same function, on a
quarter of the numbers. This module strings them together, runs large batches in
passes, and reads and checks model files.

Worked example, n images through `Conv(rng=rng)`, the maps batch last (`convlayers.py`
says why): x (n, 784) is (1, 28, 28, n); conv 1's `im2col` makes (25, 576 * n), a 5x5x1
patch a column, 24x24 of them an image; the kernels (20, 25) `@` it give four quarter
maps (20, 4, 12, 12, n), pooled to (20, 12, 12, n). Conv 2: (500, 64 * n), kernels (40,
500), (40, 4, 4, 4, n), pooled to (40, 4, 4, n), flattened to (n, 640); dense (n, 100);
softmax (n, 10). 85,670 weights and biases (dense 784-100-10: 79,510).

What it leaves out: padding and strides other than 1, other kernel and pool sizes (5
and 2, fixed), dropout, batch normalisation, and automatic differentiation: every
derivative is written out by hand, and a test checks each with finite differences.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import ClassVar, Self

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.reading import NpzReader
from fooldigits.models.base import Trainable
from fooldigits.models.convlayers import POOL, ConvPool, Dense, Flatten, ReLU, Softmax

SIZES = (20, 40, 100, 10)  # feature maps of conv 1 and 2, hidden neurons, classes
KERNEL, SIDE = 5, 28  # 5x5 kernels (and POOL: 2x2 pooling), 28x28 images
MAP1 = SIDE - KERNEL + 1  # 24: conv 1's maps are 24x24, pooled to 12x12
MAP2 = MAP1 // POOL - KERNEL + 1  # 8: conv 2's maps are 8x8, pooled to 4x4
MAX_CHANNELS = 128  # feature maps in a convolutional layer; the default has 20 and 40
MAX_HIDDEN = 10_000  # neurons in the dense hidden layer
MAX_PARAMETERS = 5_000_000  # weights and biases (20 MB as float32); the default: 85,670
PASS_FLOATS = 2**22  # numbers in the patch matrices of one forward pass (16 MB float32)
WEIGHTS = ("w0", "b0", "w1", "b1", "w2", "b2", "w3", "b3")  # as stored, layer by layer


# -- the network ------------------------------------------------------------------------
class Conv(Trainable):
    """`Conv(rng=rng)`: conv 20 -> pool -> conv 40 -> pool -> 100 -> 10, He-initialised.

    `sizes` = (maps of conv 1, maps of conv 2, hidden neurons, classes); `classes` is 10
    (the digits) or 11 (with class 10, "not a digit"). Kernels and the hidden layer get
    He's N(0, 2 / fan_in), the output layer N(0, 1 / n_in), every bias 0. `dtype` is
    float32 for use; the tests make float64 twins for finite differences.
    """

    kind: ClassVar[str] = "conv"

    def __init__(self, sizes: Sequence[int] = SIZES, *, rng: np.random.Generator,
                 dtype: type[np.float32 | np.float64] = np.float32) -> None:
        self.sizes = _check_sizes(sizes)
        self.classes = self.sizes[3]
        self.meta: dict[str, str] = {}
        weights = {}
        for key, shape in _weight_shapes(self.sizes).items():
            fan_in = math.prod(shape[:-1])  # k*k*c_in for a kernel bank, n_in for dense
            gain = 1.0 if key == "w3" else 2.0  # He for the ReLU layers
            weights[key] = (np.zeros(shape) if key[0] == "b" else
                            rng.standard_normal(shape) * np.sqrt(gain / fan_in)).astype(dtype)
        self._build(weights)

    def _build(self, weights: Mapping[str, np.ndarray]) -> None:
        """The layers, around the weights (shared, not copied: SGD updates them in place)."""
        self.conv1 = ConvPool(weights["w0"], weights["b0"])
        self.conv2 = ConvPool(weights["w1"], weights["b1"])
        self.hidden = Dense(weights["w2"], weights["b2"])
        self.last = Dense(weights["w3"], weights["b3"])
        self.layers: list[ConvPool | ReLU | Flatten | Dense] = [
            self.conv1, ReLU(), self.conv2, ReLU(), Flatten(), self.hidden, ReLU(), self.last]
        self.output = Softmax()

    def fresh(self, classes: int, rng: np.random.Generator) -> Self:
        """An untrained net of the same sizes with `classes` outputs (10 or 11)."""
        return type(self)((*self.sizes[:3], classes), rng=rng, dtype=self.dtype.type)

    @property
    def dtype(self) -> np.dtype[np.float32 | np.float64]:
        """float32 (or float64 for a test's twin): what every input is turned into."""
        return self.conv1.w.dtype

    def describe(self) -> str:
        """One line: "conv 20c5-pool2-40c5-pool2-100-10"."""
        c1, c2, hidden, classes = self.sizes
        return f"conv {c1}c{KERNEL}-pool{POOL}-{c2}c{KERNEL}-pool{POOL}-{hidden}-{classes}"

    # -- forward and backward ----------------------------------------------------------
    def _forward(self, x: np.ndarray) -> np.ndarray:
        """(n, 784) -> probabilities (n, classes), every layer keeping what backward needs."""
        a = x.T.reshape(1, SIDE, SIDE, len(x))  # (1, 28, 28, n): one channel, batch last
        for layer in self.layers:
            a = layer.forward(a)
        return self.output.forward(a)  # (n, classes)

    def _backward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Forward x, then delta_L = a - y (BP1) back down every layer above the first:
        every nabla but conv 1's, and dC/d(output) of conv 1, (c1, 12, 12, n)."""
        delta = self.output.backward(self._forward(x), y)  # (n, classes)
        for layer in reversed(self.layers[1:]):
            delta = layer.backward(delta)
        return delta

    def _images(self, x: np.ndarray) -> np.ndarray:
        """Check and convert a batch: (n, 784) in this network's dtype."""
        x = np.atleast_2d(x)
        if x.ndim != 2 or x.shape[1] != SIDE * SIDE:
            raise FoolDigitsError(f"images must be rows of {SIDE * SIDE} pixels, got an "
                                  f"array of shape {x.shape}")
        return x.astype(self.dtype, copy=False)

    def _passes(self, n: int) -> list[slice]:
        """The rows of each forward pass: as many images as keep its patch matrices within
        `PASS_FLOATS` numbers (90 for the default sizes); one pass even for no images."""
        per_image = KERNEL**2 * (MAP1 * MAP1 + MAP2 * MAP2 * self.sizes[0])  # both matrices
        step = max(1, PASS_FLOATS // per_image)
        return [slice(i, i + step) for i in range(0, max(n, 1), step)]

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(n, 784) float32 in [0, 1] -> (n, classes), rows summing to 1."""
        x = self._images(x)
        return np.concatenate([self._forward(x[rows]) for rows in self._passes(len(x))])

    def input_gradient(self, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(n, 784): d(-ln p_target)/dx for each row against its own target class.

        Descend it to make the target more likely (dream, fool); ascend the true label's
        to make an adversarial example. Backprop all the way down to the pixels.
        """
        x = self._images(x)
        targets = np.asarray(targets, dtype=np.intp).reshape(-1)
        if len(targets) != len(x) or np.any((targets < 0) | (targets >= self.classes)):
            raise FoolDigitsError(f"targets must be {len(x)} classes in 0..{self.classes - 1}")
        y = np.eye(self.classes, dtype=self.dtype)[targets]  # (n, classes), one-hot
        parts = [self.conv1.backward(self._backward(x[rows], y[rows]))  # (1, 28, 28, m)
                 for rows in self._passes(len(x))]
        return np.ascontiguousarray(np.concatenate([p.reshape(SIDE * SIDE, -1).T
                                                    for p in parts]))  # (n, 784)

    # -- training (the generic SGD loop calls these) -----------------------------------
    def parameters(self) -> list[tuple[np.ndarray, bool]]:
        """Every array SGD updates in place, True for weights (L2 decay), False for biases."""
        return [(array, is_weight) for layer in (self.conv1, self.conv2, self.hidden, self.last)
                for array, is_weight in ((layer.w, True), (layer.b, False))]

    def gradient(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """The cost's gradient summed over the mini-batch x (m, 784) with desired outputs
        y (m, classes): one array per entry of `parameters()`, same order and shapes."""
        self.conv1.nablas(self._backward(self._images(x), y))
        return [nabla for layer in (self.conv1, self.conv2, self.hidden, self.last)
                for nabla in (layer.nabla_w, layer.nabla_b)]

    # -- files -------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """What a model file holds besides `kind` and `meta_*`: sizes, w0, b0 .. w3, b3."""
        weights = [array for array, _ in self.parameters()]
        return {"sizes": np.array(self.sizes, dtype=np.int64),
                **dict(zip(WEIGHTS, weights, strict=True))}

    @classmethod
    def shapes(cls, file: NpzReader) -> dict[str, tuple[int, ...]]:
        """From a file's array headers alone: the arrays to read and the shape of each.

        1. `sizes` and w0, b0 .. w3, b3 are all there;
        2. the layer sizes are read off the weights' shapes (w0's last axis is conv 1's
           maps, and so on) and must be within `MAX_CHANNELS`, `MAX_HIDDEN`,
           `MAX_PARAMETERS`, with 10 or 11 classes: a hostile header asks for no memory;
        3. every array must have exactly the shape those sizes give.
        `from_arrays` then checks that the numbers in `sizes` say the same.
        """
        found = {key: shape for key, (shape, _) in file.headers.items()}
        return _shapes(found, f"{file.path} is a conv model whose")

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], texts: dict[str, str]) -> Self:
        """The network from a file's checked arrays (float32; float64 stays float64)."""
        expected = _shapes({key: a.shape for key, a in arrays.items()}, "a conv model's")
        sizes = expected["w0"][3], expected["w1"][3], expected["w3"][0], expected["w3"][1]
        stored = [float(v) for v in np.asarray(arrays["sizes"]).reshape(-1)]
        if stored != [float(s) for s in sizes]:
            shown = ", ".join(f"{v:g}" for v in stored[:8]) + (", ..." if len(stored) > 8
                                                                else "")
            raise FoolDigitsError(f"a conv model's 'sizes' [{shown}] are not the layer sizes "
                                  f"of its weights, {list(sizes)}")
        dtype = np.float64 if arrays["w0"].dtype == np.float64 else np.float32
        weights = {key: np.array(arrays[key], dtype=dtype) for key in WEIGHTS}
        if not all(np.all(np.isfinite(w)) for w in weights.values()):
            raise FoolDigitsError("a conv model's weights must be finite numbers")
        net = cls.__new__(cls)
        net.sizes, net.classes, net.meta = sizes, sizes[3], {}
        net._build(weights)
        return net


def _shapes(found: Mapping[str, tuple[int, ...]], whose: str) -> dict[str, tuple[int, ...]]:
    """Steps 1-3 of `Conv.shapes`, on the arrays' shapes; `whose` starts each error."""
    for key in ("sizes", *WEIGHTS):  # step 1
        if key not in found:
            raise FoolDigitsError(f"{whose} {key!r} is missing")
    w0, w1, w3 = found["w0"], found["w1"], found["w3"]  # step 2
    if len(w0) != 4 or len(w1) != 4 or len(w3) != 2:
        raise FoolDigitsError(f"{whose} kernels have shapes {w0} and {w1} and its output "
                              f"layer {w3}; they need 4, 4 and 2 axes")
    sizes = _check_sizes((w0[3], w1[3], w3[0], w3[1]), f"{whose} layer sizes")
    expected = {"sizes": (len(SIZES),), **_weight_shapes(sizes)}
    for key, shape in expected.items():  # step 3
        if found[key] != shape:
            raise FoolDigitsError(f"{whose} {key!r} has shape {found[key]}; layer sizes "
                                  f"{list(sizes)} need {shape}")
    return expected


def _check_sizes(sizes: Sequence[int], what: str = "conv sizes"
                 ) -> tuple[int, int, int, int]:
    """(maps 1, maps 2, hidden, classes) within the bounds, or one FoolDigitsError."""
    if len(sizes) != len(SIZES):
        raise FoolDigitsError(f"{what} must be (maps 1, maps 2, hidden, classes), got "
                              f"{list(sizes)}")
    c1, c2, hidden, classes = values = (int(sizes[0]), int(sizes[1]), int(sizes[2]),
                                        int(sizes[3]))
    if not (1 <= c1 <= MAX_CHANNELS and 1 <= c2 <= MAX_CHANNELS and 1 <= hidden <= MAX_HIDDEN
            and classes in (10, 11)):
        raise FoolDigitsError(f"{what} {list(values)} are out of range: 1 to "
                              f"{MAX_CHANNELS} maps a layer, 1 to {MAX_HIDDEN:,} hidden "
                              "neurons, 10 classes (or 11 with 'not a digit')")
    count = sum(math.prod(shape) for shape in _weight_shapes(values).values())
    if count > MAX_PARAMETERS:
        raise FoolDigitsError(f"{what} {list(values)} make {count:,} weights and "
                              f"biases; fooldigits loads at most {MAX_PARAMETERS:,}")
    return c1, c2, hidden, classes


def _weight_shapes(sizes: tuple[int, int, int, int]) -> dict[str, tuple[int, ...]]:
    """The shape of each stored weight array for these sizes, in `WEIGHTS` order."""
    c1, c2, hidden, classes = sizes
    side = MAP2 // POOL  # 28 -> 24 -> 12 -> 8 -> 4
    return {"w0": (KERNEL, KERNEL, 1, c1), "b0": (c1,),
            "w1": (KERNEL, KERNEL, c1, c2), "b1": (c2,),
            "w2": (side * side * c2, hidden), "b2": (hidden,),
            "w3": (hidden, classes), "b3": (classes,)}

