"""The plain-NumPy references the bench divides by: each the same work, written bare.

Each is what a student would write in a few lines with no tricks, so that a ratio says
how much the project's structure (generators, progress, checks, priors) costs over the
bare work itself.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np


def bare_training(x: np.ndarray, labels: np.ndarray, epochs: int, eta: float,
                  batch_size: int, rng: np.random.Generator,
                  monitor: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
                  ) -> list[np.ndarray]:
    """784-100-10, sigmoid hidden, softmax out with cross-entropy, plain SGD, constant eta:
    the textbook mini-batch loop in float32. After each epoch, it counts the right answers
    on each (images, labels) set in `monitor`, as Nielsen's `network.py` does with
    `test_data`. Returns [w0, b0, w1, b1]."""
    w0 = (rng.standard_normal((784, 100)) / np.sqrt(784)).astype(np.float32)
    w1 = (rng.standard_normal((100, 10)) / np.sqrt(100)).astype(np.float32)
    b0 = rng.standard_normal(100).astype(np.float32)
    b1 = rng.standard_normal(10).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[labels]
    step = np.float32(eta / batch_size)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for k in range(0, len(x), batch_size):
            batch = order[k:k + batch_size]
            xb, yb = x[batch], y[batch]
            h = 0.5 * (1 + np.tanh(0.5 * (xb @ w0 + b0)))  # the sigmoid, never overflowing
            z = h @ w1 + b1
            e = np.exp(z - z.max(axis=1, keepdims=True))
            delta1 = e / e.sum(axis=1, keepdims=True) - yb
            delta0 = (delta1 @ w1.T) * h * (1 - h)
            w1 -= step * (h.T @ delta1)
            b1 -= step * delta1.sum(axis=0)
            w0 -= step * (xb.T @ delta0)
            b0 -= step * delta0.sum(axis=0)
        for images, answers in monitor:  # the argmax of the output is the network's answer
            h = 0.5 * (1 + np.tanh(0.5 * (images @ w0 + b0)))
            print(f"{int(np.sum(np.argmax(h @ w1 + b1, axis=1) == answers))} / {len(answers)}")
    return [w0, b0, w1, b1]


def bare_training_process(epochs: int, out: str) -> None:
    """The whole bare process, the same work as `fooldigits train`: read MNIST bare, split
    it as Nielsen does, run the loop with the validation and test sets counted after each
    epoch, and save the weights to `out` (.npz)."""
    images, labels, test_images, test_labels = bare_mnist(Path(__file__).parents[1] / "mnist")
    weights = bare_training(images[:50_000], labels[:50_000], epochs, 0.5, 10,
                            np.random.default_rng(1), ((images[50_000:], labels[50_000:]),
                                                       (test_images, test_labels)))
    np.savez(out, *weights)


def forward_floor(w: list[np.ndarray], b: list[np.ndarray], images: int, batch: int,
                  rng: np.random.Generator) -> float:
    """Push `images` random images through a sigmoid net with a softmax output, `batch`
    rows per matrix product: the least any search that asks the network must pay.
    Returns a checksum so the work cannot be skipped."""
    x = rng.random((batch, 784), dtype=np.float32)
    total = 0.0
    for _ in range(max(images // batch, 1)):
        a = x
        for layer, (wl, bl) in enumerate(zip(w, b, strict=True)):
            z = a @ wl + bl
            if layer < len(w) - 1:
                a = 0.5 * (1 + np.tanh(0.5 * z))
            else:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                a = e / e.sum(axis=1, keepdims=True)
        total += float(a[0, 0])
    return total


def bare_mnist(directory: Path) -> list[np.ndarray]:
    """Gunzip the four IDX files and read them with `np.frombuffer`; images as float32 in
    [0, 1], one a row, like `data.load_mnist` returns them."""
    arrays = []
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        raw = gzip.decompress((directory / f"{name}.gz").read_bytes())
        if "images" in name:
            pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784)
            arrays.append(pixels.astype(np.float32) * np.float32(1 / 255))
        else:
            arrays.append(np.frombuffer(raw, dtype=np.uint8, offset=8))
    return arrays


def bare_typer_app(commands: int, groups: int) -> str:
    """Source of a typer app with that many commands (each with two options) and
    sub-command groups, to be run with `--help`: the start-up floor of a typer CLI."""
    lines = ["import typer", "app = typer.Typer(help='A bare app.')"]
    for i in range(commands):
        lines += [f"@app.command('c{i}')",
                  f"def c{i}(seed: int = 1, name: str = 'x') -> None:",
                  f"    '''Command {i}: one line of help.'''"]
    for g in range(groups):
        lines += [f"g{g} = typer.Typer(help='Group {g}.')",
                  f"app.add_typer(g{g}, name='g{g}')",
                  f"@g{g}.command('list')",
                  f"def g{g}_list() -> None:",
                  "    '''List things.'''"]
    lines.append("app()")
    return "\n".join(lines)


def input_gradients(w: list[np.ndarray], b: list[np.ndarray], x: np.ndarray,
                    labels: np.ndarray, passes: int) -> float:
    """`passes` forward-backward passes of a sigmoid net with a softmax output and the
    cross-entropy cost, down to the pixels (dC/dx, the step every attack takes), on the
    whole batch x (n, 784) at once. Returns a checksum so the work cannot be skipped."""
    y = np.eye(w[-1].shape[1], dtype=np.float32)[labels]  # (n, classes)
    total = 0.0
    for _ in range(passes):
        activations = [x]
        for layer, (wl, bl) in enumerate(zip(w, b, strict=True)):
            z = activations[-1] @ wl + bl
            if layer < len(w) - 1:
                activations.append(0.5 * (1 + np.tanh(0.5 * z)))
            else:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                activations.append(e / e.sum(axis=1, keepdims=True))
        delta = activations[-1] - y  # (n, classes): softmax + cross-entropy
        for layer in range(len(w) - 1, 0, -1):
            a = activations[layer]
            delta = (delta @ w[layer].T) * a * (1 - a)
        total += float((delta @ w[0].T)[0, 0])
    return total


def conv_gemm_floor(arrays: dict[str, np.ndarray], images: int, batch: int,
                    rng: np.random.Generator) -> float:
    """The matrix products alone of the conv net's forward pass (`models/conv.py`), in the
    net's own layout (maps batch last, a patch a column, as `convlayers.im2col` makes
    them), on patch matrices made once: conv 1 as kernels (c1, 25) @ cols (25, batch *
    24 * 24), conv 2 as (c2, 25 * c1) @ (25 * c1, batch * 8 * 8), then the two dense
    layers; `batch` images a pass, as many passes as `images` needs. The same products
    in the same orientation, so the ratio measures only what the net adds: im2col's
    copies, ReLU, pooling and softmax. Returns a checksum so the work cannot be skipped."""
    w0, w1, w2, w3 = (arrays[k] for k in ("w0", "w1", "w2", "w3"))
    k = w0.shape[0]
    side1 = 28 - k + 1  # 24: conv 1's output side; pooled 12, conv 2's output 8
    side2 = side1 // 2 - k + 1
    kernels1 = w0.transpose(3, 2, 0, 1).reshape(w0.shape[-1], -1)  # a kernel a row
    kernels2 = w1.transpose(3, 2, 0, 1).reshape(w1.shape[-1], -1)
    cols1 = rng.random((kernels1.shape[1], batch * side1 * side1), dtype=np.float32)
    cols2 = rng.random((kernels2.shape[1], batch * side2 * side2), dtype=np.float32)
    flat = rng.random((batch, w2.shape[0]), dtype=np.float32)
    total = 0.0
    for _ in range(max(images // batch, 1)):
        z1 = kernels1 @ cols1
        z2 = kernels2 @ cols2
        z3 = flat @ w2
        total += float(z1[0, 0] + z2[0, 0] + (z3 @ w3)[0, 0])
    return total
