"""Brains: the flat genome layout (P, n_params) float32 of dense tanh nets and their forward kernels.

A genome row holds, layer after layer, a weight matrix W (n_prev, n_next) in row-major order followed by its bias
(n_next,). Activations of one agent live in one flat row `acts` (n_units,): inputs, then each hidden layer, then the
outputs, so a viewer can draw every unit's live value without recomputing anything.

Growing brains (Layout.gated): the row then ends with one on/off gene per hidden unit (1.0 on, 0.0 off), layer after
layer. brain.hidden is the largest width; a unit that is off reads 0, so as an input it adds nothing to the next
layer. Slot j is the same unit in every genome, so crossover needs no
innovation numbers, and a unit switched on with zero outgoing weights leaves the net's outputs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .simd import dense

U = np.uint64  # unsigned index type (see forward_pair)
TANH_CLIP = np.float32(4.97)  # beyond this the rational approximation below reaches +-1
_P0, _P1, _P2 = np.float32(135135.0), np.float32(17325.0), np.float32(378.0)
_Q1, _Q2, _Q3 = np.float32(62370.0), np.float32(3150.0), np.float32(28.0)


@numba.njit(cache=True, inline="always", error_model="numpy")
def fast_tanh(x):
    """Clamped (7, 6) Pade approximation of tanh in float32: max abs error ~1e-4, far cheaper than math.tanh."""
    x = x if x < TANH_CLIP else TANH_CLIP
    x = x if x > -TANH_CLIP else -TANH_CLIP
    x2 = x * x
    return x * (_P0 + x2 * (_P1 + x2 * (_P2 + x2))) / (_P0 + x2 * (_Q1 + x2 * (_Q2 + x2 * _Q3)))


@dataclass(frozen=True)
class Layout:
    """Where each layer's weights live in a genome row and each layer's units in an activation row."""

    sizes: tuple[int, ...]  # (n_in, h1, ..., n_out)
    gated: bool = False  # genomes end with one on/off gene per hidden unit

    @property
    def n_in(self) -> int:
        return self.sizes[0]

    @property
    def n_weights(self) -> int:
        """Weights and biases (the genes that mutate by Gaussian noise)."""
        return int(sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:])))

    @property
    def n_gates(self) -> int:
        return int(sum(self.sizes[1:-1])) if self.gated else 0

    @property
    def n_out(self) -> int:
        return self.sizes[-1]

    @property
    def n_params(self) -> int:
        return self.n_weights + self.n_gates

    @property
    def n_units(self) -> int:
        return int(sum(self.sizes))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(sizes (L+1,) int64, unit offsets (L+1,) int64) for the kernels."""
        sizes = np.array(self.sizes, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        return sizes, offsets

    def split(self, genome: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Views (W (n_prev, n_next), b (n_next,)) of one genome row, layer by layer."""
        out, p = [], 0
        for a, b in zip(self.sizes[:-1], self.sizes[1:]):
            w = genome[p : p + a * b].reshape(a, b)
            p += a * b
            out.append((w, genome[p : p + b]))
            p += b
        return out


def active_units(layout: Layout, genome: np.ndarray) -> list[np.ndarray]:
    """Which hidden units are on, per hidden layer: [(h1,) bool, ...] (all True without gates)."""
    out, g = [], layout.n_weights
    for h in layout.sizes[1:-1]:
        out.append(genome[g : g + h] > 0.5 if layout.gated else np.ones(h, np.bool_))
        g += h if layout.gated else 0
    return out


def init_genomes(layout: Layout, n: int, sigma: float, rng: np.random.Generator, start: int = 0,
                 weight_scale: float = 1.0, bias_sigma: float | None = None) -> np.ndarray:
    """Random genomes (n, n_params) float32: weights ~ N(0, 4 sigma^2 / fan_in) times weight_scale, biases
    ~ N(0, bias_sigma^2) (bias_sigma None: sigma); with gates, the first `start` units of each hidden layer on
    (0: all).

    Random biases matter: with zero biases almost every founder flies straight, while random ones give a mix of
    straight flyers, turners and circlers for selection to work on from the first minute; large ones
    (brain.init_bias) put most founders' outputs at their limits. weight_scale 0 gives founders that ignore their
    inputs (brain.init_weights); the same numbers are drawn whatever the scales.
    """
    bias_sigma = sigma if bias_sigma is None else bias_sigma
    g = np.zeros((n, layout.n_params), dtype=np.float32)
    p = 0
    for a, b in zip(layout.sizes[:-1], layout.sizes[1:]):
        g[:, p : p + a * b] = rng.normal(0.0, sigma * np.sqrt(4.0 / a), size=(n, a * b)) * weight_scale
        g[:, p + a * b : p + a * b + b] = rng.normal(0.0, bias_sigma, size=(n, b))
        p += a * b + b
    if layout.gated:
        for h in layout.sizes[1:-1]:
            on = min(h, start) if start > 0 else h
            g[:, p : p + on] = 1.0
            p += h
    return g


@numba.njit(cache=True, inline="always", error_model="numpy")
def forward_pair(genomes: np.ndarray, acts: np.ndarray, k: int, m: int, sizes: np.ndarray, offsets: np.ndarray
                 ) -> None:
    """Forward agents k and m (m == k: agent k alone) in place: reads acts[., :n_in], writes every later layer of
    their acts rows; tanh everywhere. Two agents at once give the CPU two independent chains to overlap.

    Units go 8 at a time through simd.dense (one vector register: on a 12-16-2 net the hidden layer is 12 vector
    steps instead of 192 scalar ones), a layer's leftover units 4 and 2 at a time (the 2 outputs are one
    <2 x float> block), and a last odd unit one by one. Every unit is a = bias; a = a + x_i * w_i for
    i = 0, 1, ...; then fast_tanh, on either path, so results are bit-identical whatever the path or the pairing.
    Indices are unsigned on purpose: numba then skips its negative-index wraparound, which otherwise hides the
    consecutive loads from LLVM.
    With gates (the genome longer than its weights), a unit that is off stores 0 (selected in the register, before
    the store), so as an input of the next layer it adds nothing (a unit's genes are its weights; a switched-off
    one costs no more than the vector lane it shares).
    """
    n_layers = sizes.shape[0] - 1
    n_w = U(0)
    for layer in range(n_layers):
        n_w += U(sizes[layer] * sizes[layer + 1] + sizes[layer + 1])
    gated = U(genomes.shape[1]) > n_w
    two = m != k
    k = U(k)
    m = U(m)
    vec = genomes.strides[1] == 4 and acts.strides[1] == 4  # contiguous float32 rows (always, from Simulation)
    gk = U(genomes.ctypes.data) + k * U(genomes.strides[0])  # byte addresses of the two genome and acts rows
    gm = U(genomes.ctypes.data) + m * U(genomes.strides[0])
    ak = U(acts.ctypes.data) + k * U(acts.strides[0])
    am = U(acts.ctypes.data) + m * U(acts.strides[0])
    f = U(4)  # bytes per float32
    p = U(0)
    g_out = n_w  # first gate of this layer's units
    for layer in range(n_layers):
        n_prev = U(sizes[layer])
        n_next = U(sizes[layer + 1])
        src = U(offsets[layer])
        dst = U(offsets[layer + 1])
        bias = p + n_prev * n_next
        gate = gated and layer < n_layers - 1  # this layer's units have on/off genes at g_out
        j0 = U(0)
        if vec:
            for lanes in (U(8), U(4), U(2)):  # blocks of 8 units, then of 4 and 2 for what is left
                while j0 + lanes <= n_next:
                    dense(lanes, gate, two, gk + f * (p + j0), ak + f * src, gk + f * (bias + j0), ak + f * (dst + j0),
                          gk + f * (g_out + j0), gm + f * (p + j0), am + f * src, gm + f * (bias + j0),
                          am + f * (dst + j0), gm + f * (g_out + j0), n_next, n_prev)
                    j0 += lanes
        for j in range(j0, n_next):
            j = U(j)
            a = genomes[k, bias + j]
            c = genomes[m, bias + j]
            for i in range(n_prev):
                r = p + U(i) * n_next + j
                a += acts[k, src + U(i)] * genomes[k, r]
                c += acts[m, src + U(i)] * genomes[m, r]
            a = fast_tanh(a)
            c = fast_tanh(c)
            if gate and not genomes[k, g_out + j] > np.float32(0.5):
                a = np.float32(0.0)
            if gate and not genomes[m, g_out + j] > np.float32(0.5):
                c = np.float32(0.0)
            acts[k, dst + j] = a
            acts[m, dst + j] = c
        if gate:
            g_out += n_next
        p = bias + n_next


@numba.njit(cache=True, inline="always", error_model="numpy")
def forward_one(genomes: np.ndarray, acts: np.ndarray, k: int, sizes: np.ndarray, offsets: np.ndarray) -> None:
    """Forward agent k in place (forward_pair with one agent)."""
    forward_pair(genomes, acts, k, k, sizes, offsets)


@numba.njit(cache=True, error_model="numpy")
def forward_serial(genomes: np.ndarray, acts: np.ndarray, sizes: np.ndarray, offsets: np.ndarray) -> None:
    """Forward the whole population (P, n_params) -> acts (P, n_units), one agent after another."""
    for k in range(genomes.shape[0]):
        forward_one(genomes, acts, k, sizes, offsets)


@numba.njit(cache=True, parallel=True, error_model="numpy")
def forward_parallel(genomes: np.ndarray, acts: np.ndarray, sizes: np.ndarray, offsets: np.ndarray) -> None:
    """As forward_serial, agents spread over threads (pays off above ~1k agents; results are identical)."""
    for k in numba.prange(genomes.shape[0]):
        forward_one(genomes, acts, k, sizes, offsets)
