"""CPPN genomes: images painted by a small network of the pixel's coordinates.

What this module teaches
------------------------
The direct encoding (`evolve.py`) gives every pixel its own gene, so nothing ties a pixel
to its neighbours and the fooling images are noise. A *compositional pattern-producing
network* (CPPN; Stanley 2007) is an indirect encoding: the genome is a small network that
is asked, for every pixel, "what grey goes at (x, y)?". Its inputs are

    x, y in [-1, 1]   (column and row of the 28 x 28 grid),
    d = sqrt(x^2 + y^2)   (distance from the centre),   and a bias of 1,

and each node computes z = sum_i w_ij v_i over the nodes i feeding it, then a function of
z: sine, Gaussian, sigmoid, identity or absolute value (`FUNCTIONS`). The image is the
output node over the grid, squashed into [0, 1] by a sigmoid. Because every function is
smooth or symmetric and is applied to *coordinates*, the images are regular: a sine of x
is stripes, a Gaussian of d a ring or a blob, an absolute value of x a mirror image, and
compositions make repeated, symmetric, smoothly varying patterns. Neighbouring pixels
have nearby coordinates, so they get nearby greys (`neighbour_correlation` measures it).

Nguyen, Yosinski & Clune (2015) evolved CPPN images too, and MNIST networks were sure
of them as well: regular patterns, not noise, scored 99.99%.

Worked example: a genome with no hidden node paints sigmoid(w_x x + w_y y + w_d d + w_b),
a ramp or a soft disc. Split the connection x -> output with a sine node (weights 3 in,
4 out) and the image is sigmoid(4 sin(3x) + ...): vertical stripes. For a population of
n = 80 genomes of at most N = 17 nodes (4 inputs, up to 12 hidden, the output):

    w        (80, 17, 17) float32   w[g, i, j]: weight of the connection i -> j
    enabled  (80, 17, 17) bool      does that connection exist?
    fn       (80, 17)     int8      each node's function, an index into FUNCTIONS
    active   (80, 17)     bool      does the node exist?
    decode(genomes)  ->  (80, 784) float32 in [0, 1]

A connection only ever goes from a lower node index to a higher one, so the network is
feed-forward by construction: computed in index order, every node finds its inputs
ready. `decode` uses a coarser order that is just as safe and takes fewer steps: a
node's *depth* is one more than that of the deepest node feeding it (inputs: 0), and
all nodes of one depth, in every genome of a block of `BLOCK` genomes, are computed at
once, every pixel at once (a *stage*; the output node of each genome comes last):

1. the depth of every node of every genome;
2. every hidden and output node becomes a row of one array v (rows, 784), sorted by
   block, depth (a stage), then function;
3. the inputs are the same for every genome, so their share of a stage's z is one
   matrix product, (rows, 4) @ (4, 784);
4. the connections between hidden nodes are sorted by the stage of their target;
5. stage by stage: that product, plus w_ij v_i from the hidden nodes feeding the stage
   (earlier stages, so already final: one gather and one product per slice of
   connections), then each function once, on its block of rows;
6. a block's last stage, its output nodes, is computed straight into its images.

Only nodes and connections that exist are computed: a genome of h hidden nodes and c
connections between them costs h + 1 functions and c weighted sums over its 784 pixels.

Mutations are NEAT's (Stanley & Miikkulainen 2002), without speciation (`CPPN.mutate`):
perturb weights; add a node on a connection (i -> j becomes i -> k -> j, with weight 1
into k and the old weight out of it, as in NEAT); add a connection; change a hidden
node's function. Genomes start with no hidden node, as in Nguyen et al., so evolution
tries simple patterns before complex ones.

What it leaves out: crossover (`CPPN.crossover` returns a copy of the first parent).
Nguyen et al. used MAP-Elites, which only mutates, for both encodings; NEAT's crossover
needs its innovation numbers to line up genes, and we keep none. Also left out: NEAT's
speciation, removing nodes or connections, and colour.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from fooldigits import FoolDigitsError

SIDE = 28
PIXELS = SIDE * SIDE
INPUTS = 4  # nodes 0..3: x, y, d, bias
HIDDEN = 12  # most hidden nodes a genome may grow (with 20 allowed, fooling ones had 1-7)
W_MAX = 8.0  # every weight stays in [-W_MAX, W_MAX]
CLIP = 8.0  # identity and absolute value stop at +-CLIP, so a chain of them cannot overflow
BLOCK = 400  # genomes decoded together: their node values stay in the CPU cache


def _coordinates() -> np.ndarray:
    """The four inputs at every pixel: (4, 784) float32 rows x, y, d, 1."""
    axis = np.linspace(-1.0, 1.0, SIDE)
    y, x = np.meshgrid(axis, axis, indexing="ij")  # (28, 28) each: row, column
    d = np.sqrt(x**2 + y**2)
    return np.stack([x, y, d, np.ones_like(x)]).reshape(INPUTS, PIXELS).astype(np.float32)


COORDINATES = _coordinates()  # (4, 784)


# -- the node functions, each applied in place to a float32 array of sums z ------------------
def _identity(z: np.ndarray) -> None:
    np.clip(z, -CLIP, CLIP, out=z)  # z, within +-CLIP


def _sine(z: np.ndarray) -> None:
    np.sin(z, out=z)  # sin z: stripes, repetition


def _gaussian(z: np.ndarray) -> None:
    np.square(z, out=z)  # exp(-z^2): a bump, symmetric about z = 0
    np.negative(z, out=z)
    np.exp(z, out=z)


def _sigmoid(z: np.ndarray) -> None:
    z *= 0.5  # 1 / (1 + e^-z) = (1 + tanh(z / 2)) / 2, which never overflows
    np.tanh(z, out=z)
    z += 1
    z *= 0.5


def _absolute(z: np.ndarray) -> None:
    np.abs(z, out=z)  # |z|, within CLIP: a mirror
    np.minimum(z, CLIP, out=z)


class Function(NamedTuple):
    """A node function: its name, its formula, and `apply`, which overwrites z with f(z)."""

    name: str
    formula: str
    apply: Callable[[np.ndarray], None]


FUNCTIONS = (Function("identity", "z", _identity), Function("sine", "sin z", _sine),
             Function("gaussian", "exp(-z^2)", _gaussian),
             Function("sigmoid", "1 / (1 + exp(-z))", _sigmoid),
             Function("absolute", "|z|", _absolute))
IDENTITY, SINE, GAUSSIAN, SIGMOID, ABSOLUTE = range(len(FUNCTIONS))


@dataclass
class Genomes:
    """A population of n CPPNs of at most N nodes (N = 4 inputs + hidden + 1 output)."""

    w: np.ndarray  # (n, N, N) float32: w[g, i, j] is the weight of i -> j (only i < j)
    enabled: np.ndarray  # (n, N, N) bool: the connection i -> j exists
    fn: np.ndarray  # (n, N) int8: each node's function, an index into FUNCTIONS
    active: np.ndarray  # (n, N) bool: the node exists (inputs and output always do)

    def __len__(self) -> int:
        return len(self.w)


def _forward(nodes: int) -> np.ndarray:
    """(N, N) bool: the connections allowed at all, i -> j with i < j and j not an input."""
    i, j = np.indices((nodes, nodes))
    return (i < j) & (j >= INPUTS)


def _pick(rng: np.random.Generator, allowed: np.ndarray) -> np.ndarray:
    """One uniformly random True column of each row of `allowed` (m, K), or -1 if none."""
    keys = rng.random(allowed.shape)
    keys[~allowed] = -1.0
    picked = keys.argmax(axis=1)
    return np.where(allowed.any(axis=1), picked, -1)


def _unravel(flat: np.ndarray, N: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat indices into an (n, N, N) array as their g, i, j."""
    g, ij = np.divmod(flat, N * N)
    i, j = np.divmod(ij, N)
    return g, i, j


def _connections(genomes: Genomes) -> tuple[np.ndarray, ...]:
    """The connections that count, as lists sorted by genome: g, i, j (edges,) int and
    their weights w (edges,) float32 within +-W_MAX; and the nodes that exist (n, N)
    bool. A connection counts if it is enabled, goes forward (i < j, j not an input),
    joins two nodes that exist and has a finite weight."""
    n, N = genomes.fn.shape
    if genomes.w.shape != (n, N, N) or genomes.enabled.shape != (n, N, N) or \
            genomes.active.shape != (n, N) or N < INPUTS + 1:
        raise FoolDigitsError(f"CPPN genomes need w and enabled (n, N, N) and fn and active "
                              f"(n, N) with N >= {INPUTS + 1}, got {genomes.w.shape}, "
                              f"{genomes.enabled.shape}, {genomes.fn.shape}, "
                              f"{genomes.active.shape}")
    active = genomes.active.astype(bool)  # (n, N), with the inputs and output switched on
    active[:, :INPUTS] = active[:, -1] = True
    ids = genomes.fn[:, INPUTS:-1]
    if np.any(active[:, INPUTS:-1] & ((ids < 0) | (ids >= len(FUNCTIONS)))):
        raise FoolDigitsError(f"CPPN node functions must be 0..{len(FUNCTIONS) - 1}")
    flat = np.flatnonzero(genomes.enabled)  # (edges,) indices into the (n, N, N) arrays
    g, i, j = _unravel(flat, N)  # (edges,) each, sorted by genome
    w = np.ravel(genomes.w)[flat].astype(np.float32)
    keep = (i < j) & (j >= INPUTS) & active[g, i] & active[g, j] & np.isfinite(w)
    return g[keep], i[keep], j[keep], np.clip(w[keep], -W_MAX, W_MAX), active


def _paint(g: np.ndarray, i: np.ndarray, j: np.ndarray, w: np.ndarray, fn: np.ndarray,
           active: np.ndarray) -> np.ndarray:
    """Decode n genomes from their connections g, i, j, w (edges,), functions fn (n, N)
    and nodes active (n, N): the (n, 784) images."""
    n, N = fn.shape
    fn = fn.astype(np.intp)
    fn[:, -1] = SIGMOID  # the output squashes into [0, 1], whatever its entry says
    inputs = i < INPUTS  # (edges,) the connections from x, y, d or the bias ...
    g_in, i_in, j_in, w_in = g[inputs], i[inputs], j[inputs], w[inputs]
    g, i, j, w = g[~inputs], i[~inputs], j[~inputs], w[~inputs]  # ... and from hidden nodes
    # 1. each node's depth: 1 + the depth of the deepest node feeding it (inputs: 0).
    # Raise "depth[j] >= depth[i] + 1" along every connection until it holds everywhere:
    # as connections only go forward, that ends within N rounds (usually 2 or 3). The
    # output comes last of all, whatever its depth: depth N
    depth = np.zeros((n, N), dtype=np.intp)
    depth[:, INPUTS:] = 1
    while len(short := np.flatnonzero(depth[g, i] >= depth[g, j])):
        np.maximum.at(depth, (g[short], j[short]), depth[g[short], i[short]] + 1)
    depth[:, -1] = N
    # 2. the hidden and output nodes as rows of one array v (rows, 784), in *stages*: the
    # genomes go in blocks of BLOCK (whose rows stay in the CPU cache while they are
    # computed), a stage is one depth of one block, and within it the rows go by function
    gg, jj = np.divmod(np.flatnonzero(active[:, INPUTS:]), N - INPUTS)  # (rows,) each
    jj += INPUTS
    stage = (gg // BLOCK) * (N + 1) + depth[gg, jj]  # (rows,)
    key = stage * len(FUNCTIONS) + fn[gg, jj]  # (rows,)
    order = np.argsort(key, kind="stable")
    gg, stage, key = gg[order], stage[order], key[order]
    row = np.zeros((n, N), dtype=np.intp)
    row[gg, jj[order]] = np.arange(len(gg))  # row[g, j]: where node j of genome g lives
    # 3. each row's weights from the four inputs (rows, 4): their share of z is one
    # matrix product with the coordinates, the same for every genome
    w_xydb = np.zeros((len(gg), INPUTS), dtype=np.float32)
    w_xydb[row[g_in, j_in], i_in] = w_in
    # 4. the connections from hidden nodes, by the stage of their target, then by their
    # rank among the connections into the same target, then by target: in one (stage,
    # rank) slice each target row appears once, so `z[dst] += ...` adds every one of them
    src, dst = row[g, i], row[g, j]  # (edges,) each
    by_dst = np.argsort(dst, kind="stable")
    first = np.flatnonzero(np.diff(dst[by_dst], prepend=-1))  # each target's first edge
    rank = np.empty_like(by_dst)
    rank[by_dst] = np.arange(len(dst)) - np.repeat(first, np.diff(first, append=len(dst)))
    order = np.lexsort((dst, rank, stage[dst]))
    src, dst, w, rank = src[order], dst[order], w[order], rank[order]
    cut = np.flatnonzero(np.diff(stage[dst] * N + rank, prepend=-1, append=-1))
    stages = np.flatnonzero(np.diff(stage, prepend=-1, append=-1))
    blocks = np.flatnonzero(np.diff(key, prepend=-1, append=-1))  # (stage, function)
    # 5. stage by stage: z = w_xydb @ coordinates + w_ij v_i over hidden i (of earlier
    # stages, so final), then each function once, on its block of rows. A block's last
    # stage is its output nodes, one per genome in order: their z is the block's images
    output = stage % (N + 1) == N  # (rows,)
    v = np.empty((len(gg), PIXELS), dtype=np.float32)  # (rows, 784), output rows unused
    images = np.empty((n, PIXELS), dtype=np.float32)
    c = b = 0  # the next connection slice and the next function block
    for start, stop in itertools.pairwise(stages):
        z = images[gg[start]:gg[stop - 1] + 1] if output[start] else v[start:stop]
        np.matmul(w_xydb[start:stop], COORDINATES, out=z)  # 5a. (r, 4) @ (4, 784)
        while c < len(cut) - 1 and stage[dst[cut[c]]] == stage[start]:
            e = slice(cut[c], cut[c + 1])  # 5b. one connection into some rows of z
            terms = v[src[e]]  # (connections, 784): their sources' values
            terms *= w[e, None]
            if len(terms) == len(z):  # one into every row of the stage, in order
                z += terms
            else:
                z[dst[e] - start] += terms
            c += 1
        while blocks[b] < stop:  # 5c. v = f(z), a function block at a time
            FUNCTIONS[key[blocks[b]] % len(FUNCTIONS)].apply(
                z[blocks[b] - start:blocks[b + 1] - start])
            b += 1
    return images


@dataclass
class CPPN:
    """The CPPN encoding for `evolve`: fresh genomes, decode, and NEAT's mutations.

    Each rate is a chance per child and generation, except `weight_rate`, a chance per
    connection; perturbations are normal with standard deviation `weight_sigma`.
    """

    hidden: int = HIDDEN
    weight_rate: float = 0.8
    weight_sigma: float = 0.5
    add_node: float = 0.1
    add_connection: float = 0.2
    change_function: float = 0.1
    init_sigma: float = 2.0  # the first weights, and every new connection's
    name: str = field(default="cppn", init=False)

    def __post_init__(self) -> None:
        if not 0 <= self.hidden <= 200:
            raise FoolDigitsError(f"hidden must be between 0 and 200, got {self.hidden}")
        rates = (self.weight_rate, self.add_node, self.add_connection, self.change_function)
        if not all(0 <= r <= 1 for r in rates):
            raise FoolDigitsError("the CPPN mutation rates must be between 0 and 1")
        if not (0 <= self.weight_sigma <= W_MAX and 0 <= self.init_sigma <= W_MAX):
            raise FoolDigitsError(f"weight_sigma and init_sigma must be in [0, {W_MAX}]")

    @property
    def nodes(self) -> int:
        return INPUTS + self.hidden + 1

    def first(self, rng: np.random.Generator, n: int) -> Genomes:
        """n fresh genomes: each input connected to the output, no hidden node."""
        N = self.nodes
        w = np.zeros((n, N, N), dtype=np.float32)
        enabled = np.zeros((n, N, N), dtype=bool)
        enabled[:, :INPUTS, -1] = True
        w[:, :INPUTS, -1] = self._draw(rng, (n, INPUTS))
        fn = np.full((n, N), IDENTITY, dtype=np.int8)
        fn[:, -1] = SIGMOID
        active = np.zeros((n, N), dtype=bool)
        active[:, :INPUTS] = active[:, -1] = True
        return Genomes(w, enabled, fn, active)

    def decode(self, genomes: Genomes) -> np.ndarray:
        """(n, 784) float32 in [0, 1]: each genome's output node over the 28 x 28 grid."""
        g, i, j, w, active = _connections(genomes)  # (edges,) each, sorted by g; (n, N)
        return _paint(g, i, j, w, genomes.fn, active)

    def crossover(self, a: Genomes, b: Genomes, rng: np.random.Generator) -> Genomes:
        """Left out (see the module docstring): the child is a copy of parent a."""
        return Genomes(a.w.copy(), a.enabled.copy(), a.fn.copy(), a.active.copy())

    def mutate(self, genomes: Genomes, rng: np.random.Generator) -> Genomes:
        """NEAT's four mutations, each applied to a random share of the genomes."""
        w, enabled = genomes.w.copy(), genomes.enabled.copy()
        fn, active = genomes.fn.copy(), genomes.active.copy()
        n, N = fn.shape
        # 1. perturb weights: each connection with chance weight_rate
        flat = np.flatnonzero(enabled)  # (connections,) indices into (n, N, N)
        flat = flat[rng.random(len(flat)) < self.weight_rate]
        weights = w.reshape(-1)  # a view of the copy: writing it writes w
        weights[flat] = np.clip(weights[flat] + rng.normal(0.0, self.weight_sigma, len(flat)),
                                -W_MAX, W_MAX)
        # 2. add a node on a connection: i -> j becomes i -> k -> j for a free k, i < k < j
        who = np.flatnonzero(rng.random(n) < self.add_node)
        edge = _pick(rng, enabled[who].reshape(len(who), N * N))
        who, edge = who[edge >= 0], edge[edge >= 0]
        i, j = np.divmod(edge, N)
        k = np.arange(N)
        free = ~active[who] & (k > i[:, None]) & (k < j[:, None])  # (m, N)
        k = _pick(rng, free)
        who, i, j, k = who[k >= 0], i[k >= 0], j[k >= 0], k[k >= 0]  # else: no room, no change
        active[who, k] = True
        fn[who, k] = rng.integers(0, len(FUNCTIONS), len(who))
        enabled[who, i, j] = False
        enabled[who, i, k] = enabled[who, k, j] = True
        w[who, k, j] = w[who, i, j]  # the old weight out, 1 in: the image barely changes
        w[who, i, k] = 1.0
        # 3. add a connection between two existing nodes that are not yet connected
        who = np.flatnonzero(rng.random(n) < self.add_connection)
        open_ = (_forward(N) & ~enabled[who] & active[who, :, None] & active[who, None, :])
        pair = _pick(rng, open_.reshape(len(who), N * N))
        who, pair = who[pair >= 0], pair[pair >= 0]
        i, j = np.divmod(pair, N)
        enabled[who, i, j] = True
        w[who, i, j] = self._draw(rng, len(who))
        # 4. change the function of one hidden node to another one
        who = np.flatnonzero(rng.random(n) < self.change_function)
        k = _pick(rng, active[who, INPUTS:-1])
        who, k = who[k >= 0], k[k >= 0] + INPUTS
        fn[who, k] = (fn[who, k] + rng.integers(1, len(FUNCTIONS), len(who))) % len(FUNCTIONS)
        return Genomes(w, enabled, fn, active)

    def _draw(self, rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
        return np.clip(rng.normal(0.0, self.init_sigma, shape), -W_MAX, W_MAX).astype(
            np.float32)


def neighbour_correlation(images: np.ndarray) -> np.ndarray:
    """(n, 784) -> (n,): each image's Pearson correlation between a pixel and its right
    and lower neighbours (all such pairs pooled). Uniform noise gives about 0, smooth
    patterns near 1; a flat image counts as 1 (every pixel equals its neighbour)."""
    x = np.asarray(images, dtype=np.float64).reshape(-1, SIDE, SIDE)
    n = len(x)
    a = np.concatenate([x[:, :, :-1].reshape(n, -1), x[:, :-1, :].reshape(n, -1)], axis=1)
    b = np.concatenate([x[:, :, 1:].reshape(n, -1), x[:, 1:, :].reshape(n, -1)], axis=1)
    a -= a.mean(axis=1, keepdims=True)
    b -= b.mean(axis=1, keepdims=True)
    spread = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))  # (n,)
    flat = spread < 1e-12
    return np.where(flat, 1.0, (a * b).sum(axis=1) / np.where(flat, 1.0, spread))
