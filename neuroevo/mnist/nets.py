"""Nets: the flat float32 genome of a dense classifier (brain.Layout order), its initialisation and forward passes.

All three methods (GA, ES, backprop) train the same vector: layer after layer, W (n_prev, n_next) row-major, then
the bias (n_next,). Hidden units use one activation (relu, tanh or sigmoid); the output is a softmax over logits.
"""

from __future__ import annotations

import numpy as np

from ..brain import Layout

ACTIVATIONS = ("relu", "tanh", "sigmoid")


def make_layout(n_in: int, hidden: tuple[int, ...], n_out: int) -> Layout:
    return Layout((int(n_in), *(int(h) for h in hidden), int(n_out)))


def init_genomes(layout: Layout, n: int, activation: str, rng: np.random.Generator) -> np.ndarray:
    """(n, n_params) float32: W ~ N(0, gain^2 / fan_in) (He gain sqrt 2 for relu, 1 otherwise), zero biases.

    One initialisation for every method, so differences come from the training rule, not the starting point.
    """
    g = np.zeros((n, layout.n_params), dtype=np.float32)
    gain = np.sqrt(2.0) if activation == "relu" else 1.0
    p = 0
    for a, b in zip(layout.sizes[:-1], layout.sizes[1:]):
        g[:, p : p + a * b] = rng.standard_normal((n, a * b), dtype=np.float32) * np.float32(gain / np.sqrt(a))
        p += a * b + b
    return g


def act(z: np.ndarray, activation: str) -> np.ndarray:
    """The hidden activation, in place on z (a fresh pre-activation array) to save a copy."""
    if activation == "relu":
        return np.maximum(z, 0.0, out=z)
    if activation == "tanh":
        return np.tanh(z, out=z)
    if activation == "sigmoid":
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        return np.reciprocal(z, out=z)
    raise ValueError(f"unknown activation {activation!r}")


def forward(layout: Layout, genome: np.ndarray, x: np.ndarray, activation: str) -> np.ndarray:
    """Logits (B, n_out) of one net for x (B, n_in)."""
    layers = layout.split(genome)
    h = x
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = act(h, activation)
    return h


def forward_population(layout: Layout, genomes: np.ndarray, x: np.ndarray, activation: str) -> np.ndarray:
    """Logits (P, B, n_out) of a whole population for one shared batch x (B, n_in).

    The first layer is one matmul X (B, n_in) @ [W1 of every member] (n_in, P*H1), which keeps BLAS busy with one
    large product instead of P thin ones; later layers are small batched matmuls (P, B, H) @ (P, H, H').
    """
    n_pop = genomes.shape[0]
    n_in, h1 = layout.sizes[0], layout.sizes[1]
    n_w = n_in * h1
    w1 = genomes[:, :n_w].reshape(n_pop, n_in, h1).transpose(1, 0, 2).reshape(n_in, n_pop * h1)  # copy
    z = x @ w1  # (B, P*H1)
    z = z.reshape(x.shape[0], n_pop, h1).transpose(1, 0, 2)  # (P, B, H1) view
    z = z + genomes[:, None, n_w : n_w + h1]  # (P, B, H1), contiguous
    p = n_w + h1
    sizes = layout.sizes
    for i in range(1, len(sizes) - 1):
        z = act(z, activation)
        a, b = sizes[i], sizes[i + 1]
        w = genomes[:, p : p + a * b].reshape(n_pop, a, b)
        z = np.matmul(z, w)
        z += genomes[:, None, p + a * b : p + a * b + b]
        p += a * b + b
    return z


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, shifted by the max so exp never overflows."""
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean cross-entropy over the batch axis (-2): logits (..., B, C), y (B,) -> (...)."""
    lp = log_softmax(logits)
    picked = np.take_along_axis(lp, np.broadcast_to(y[:, None], lp.shape[:-1] + (1,)), axis=-1)[..., 0]
    return -picked.mean(axis=-1)


def accuracy(layout: Layout, genome: np.ndarray, x: np.ndarray, y: np.ndarray, activation: str,
             chunk: int = 5000) -> float:
    """Fraction of x classified as y by one net, in chunks to bound memory for wide nets."""
    hits = 0
    for s in range(0, x.shape[0], chunk):
        hits += int((forward(layout, genome, x[s : s + chunk], activation).argmax(axis=1) == y[s : s + chunk]).sum())
    return hits / max(1, x.shape[0])


class NoiseTable:
    """A fixed table of N(0, 1) float32 draws; a perturbation is a slice at a random offset.

    Fresh Gaussian noise for a whole population costs more than its forward pass; reading a slice costs a copy.
    Members only need directions that differ from each other, which random offsets into a large table give.
    """

    def __init__(self, size: int, rng: np.random.Generator):
        self.table = rng.standard_normal(int(size), dtype=np.float32)  # (size,)

    def offsets(self, k: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """k random start offsets for slices of length n."""
        if n > self.table.size:
            raise ValueError(f"noise table of {self.table.size} is shorter than a genome of {n}")
        return rng.integers(0, self.table.size - n + 1, size=k)

    def get(self, offset: int, n: int) -> np.ndarray:
        """A read-only view (n,) of the table."""
        return self.table[offset : offset + n]
