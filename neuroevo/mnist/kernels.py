"""Compiled kernels of the MNIST population methods: the work of a generation that is not the big matmul.

A population is held "layer-1 major": the first weight matrix of every member side by side, w1 (n_in, P*H1), so
the whole population's first layer is one product X (B, n_in) @ w1 with no copy, and the rest of each genome
(b1, W2, b2, ...) in rest (P, n_rest). Member j's genome, in brain.Layout order, is
w1[:, j*H1:(j+1)*H1].ravel() followed by rest[j]; gene g of it is gene g of the flat genome everywhere below.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

ACT_CODES = {"relu": 0, "tanh": 1, "sigmoid": 2}


@numba.njit(cache=True, error_model="numpy")
def _act(v, code):
    if code == 0:
        return v if v > 0 else np.float32(0.0)
    if code == 1:
        return np.float32(math.tanh(v))
    return np.float32(1.0 / (1.0 + math.exp(-v)))


@numba.njit(cache=True, error_model="numpy")
def bias_act_transpose(z, rest, h1, code, out):
    """out (P, B, H1) = act(z (B, P*H1) + b1), with b1 = rest[p, :H1]: layer 1's bias and activation, laid out
    member-major for the batched products of the later layers."""
    n_b, n_pop = z.shape[0], rest.shape[0]
    for p in range(n_pop):
        for b in range(n_b):
            for h in range(h1):
                out[p, b, h] = _act(z[b, p * h1 + h] + rest[p, h], code)


@numba.njit(cache=True, error_model="numpy", fastmath=True)
def bias_cross_entropy(logits, rest, bias_at, y, out):
    """out (P,) float64 = mean over the batch of -log softmax(logits[p, b] + bias_p)[y[b]].

    logits (P, B, C) float32 without the output bias; the bias of member p is rest[p, bias_at:bias_at + C].
    float32 exponentials (the loss is a ranking signal, not a reported figure); the batch mean in float64.
    """
    n_pop, n_b, n_c = logits.shape
    v = np.empty(n_c, np.float32)
    for p in range(n_pop):
        total = 0.0
        bias = rest[p, bias_at : bias_at + n_c]
        for b in range(n_b):
            m = np.float32(-np.inf)
            for c in range(n_c):
                v[c] = logits[p, b, c] + bias[c]
                m = max(m, v[c])
            s = np.float32(0.0)
            for c in range(n_c):
                s += np.exp(v[c] - m)
            total += m + math.log(s) - v[y[b]]
        out[p] = total / n_b


@numba.njit(cache=True, error_model="numpy", fastmath=True)
def column_cross_entropy(logit, y, mx, s, frac, bits):
    """Sum over images b of -log softmax(logit[:, b])[y[b]]; logit (C, B) float32, images innermost so that every
    loop vectorises over them. mx, s, frac (B,) float32 and bits (B,) int32 are scratch.

    exp(v) = 2^n 2^f, f in [-1/2, 1/2], by a polynomial (relative error ~2e-7): it vectorises, where the library
    exp is one call per number.
    """
    n_c, n_b = logit.shape
    two_n = bits.view(np.float32)  # 2^n, built in the exponent bits
    for b in range(n_b):
        mx[b] = logit[0, b]
        s[b] = 0.0
    for c in range(1, n_c):
        for b in range(n_b):
            mx[b] = max(mx[b], logit[c, b])
    for c in range(n_c):
        for b in range(n_b):
            t = max(logit[c, b] - mx[b], np.float32(-87.0)) * np.float32(1.4426950408889634)
            n = np.floor(t + np.float32(0.5))
            f = t - n
            p = np.float32(1.3333558146428443e-3)
            p = p * f + np.float32(9.6181291076284772e-3)
            p = p * f + np.float32(5.5504108664821580e-2)
            p = p * f + np.float32(2.4022650695910071e-1)
            p = p * f + np.float32(6.9314718055994531e-1)
            frac[b] = p * f + np.float32(1.0)
            bits[b] = (np.int32(n) + np.int32(127)) << 23
        for b in range(n_b):
            s[b] += frac[b] * two_n[b]
    total = 0.0
    for b in range(n_b):
        total += mx[b] + math.log(s[b]) - logit[y[b], b]
    return total


@numba.njit(cache=True, error_model="numpy", fastmath=True)
def head_cross_entropy(zt, rest, h1, n_c, code, y, out):
    """out (P,) float64 = mean over the batch of member p's cross-entropy, for nets with one hidden layer.

    zt (P*H1, B) = (X @ w1).T, the big product computed as w1.T @ X.T so that member p's pre-activations are the
    contiguous rows p*H1 .. (p+1)*H1 - 1 with images along each row; member p's rest is b1 (H1), W2 (H1, C),
    b2 (C). Bias, activation, output layer and softmax in one pass per member, every inner loop over images (so
    it vectorises), with no (P, B, H1) temporary.
    """
    n_b, n_pop = zt.shape[1], rest.shape[0]
    h = np.empty(n_b, np.float32)
    logit = np.empty((n_c, n_b), np.float32)
    mx = np.empty(n_b, np.float32)
    s = np.empty(n_b, np.float32)
    frac = np.empty(n_b, np.float32)
    bits = np.empty(n_b, np.int32)
    at_b2 = h1 + h1 * n_c
    for p in range(n_pop):
        for c in range(n_c):
            bias = rest[p, at_b2 + c]
            for b in range(n_b):
                logit[c, b] = bias
        for j in range(h1):
            b1, row = rest[p, j], p * h1 + j
            for b in range(n_b):
                h[b] = _act(zt[row, b] + b1, code)
            for c in range(n_c):
                w = rest[p, h1 + j * n_c + c]
                for b in range(n_b):
                    logit[c, b] += w * h[b]
        out[p] = column_cross_entropy(logit, y, mx, s, frac, bits) / n_b


class Csr(NamedTuple):
    """Images (N, D) by their nonzero pixels: image n's pixels ind[ptr[n]:ptr[n + 1]] with values val[...]."""

    ptr: np.ndarray  # (N + 1,) int64
    ind: np.ndarray  # (nnz,) int32
    val: np.ndarray  # (nnz,) float32


def csr(x: np.ndarray) -> Csr:
    """The nonzero pixels of images x (N, D) float32, image by image (numpy's row-major nonzero order)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    on = x != 0
    ptr = np.zeros(x.shape[0] + 1, np.int64)
    np.cumsum(on.sum(axis=1), out=ptr[1:])
    return Csr(ptr, np.nonzero(on)[1].astype(np.int32), x[on])


SPARSE_COLUMNS = 2048  # columns of w1 per pass of sparse_product (its accumulator row stays in L1)


@numba.njit(cache=True, error_model="numpy", fastmath=True)
def sparse_product(w1, images, idx, zt):
    """zt (P*H1, B) = (X @ w1).T for the images X = images[idx] (a Csr): the layer-1 product over nonzero pixels only.

    For each image, the rows of w1 of its nonzero pixels are added up, four at a time (one pass over the
    accumulator per four rows), along the columns in vector code; an MNIST image has ~19% of its pixels nonzero,
    so this does a fifth of the dense product's multiply-adds. Not bit-identical with a BLAS product (another
    order of the sums); the same numbers for the same inputs every time.
    """
    ptr, ind, val = images
    n_b = idx.shape[0]
    width = w1.shape[1]
    flat = w1.reshape(-1)
    cols = min(width, SPARSE_COLUMNS)
    acc = np.empty((n_b, cols), np.float32)
    af = acc.reshape(-1)
    uw = np.uint64(width)
    for c0 in range(0, width, cols):  # unsigned indices: no negative-index checks, so the loops vectorise
        nc, uc0 = np.uint64(min(cols, width - c0)), np.uint64(c0)
        for b in range(n_b):
            ab = np.uint64(b) * np.uint64(cols)
            for c in range(nc):
                af[ab + c] = 0.0
            k, end = ptr[idx[b]], ptr[idx[b] + 1]
            while k + 4 <= end:
                v0, v1, v2, v3 = val[k], val[k + 1], val[k + 2], val[k + 3]
                r0, r1 = np.uint64(ind[k]) * uw + uc0, np.uint64(ind[k + 1]) * uw + uc0
                r2, r3 = np.uint64(ind[k + 2]) * uw + uc0, np.uint64(ind[k + 3]) * uw + uc0
                for c in range(nc):
                    af[ab + c] += (v0 * flat[r0 + c] + v1 * flat[r1 + c]) + (v2 * flat[r2 + c] + v3 * flat[r3 + c])
                k += 4
            while k < end:
                v, r = val[k], np.uint64(ind[k]) * uw + uc0
                for c in range(nc):
                    af[ab + c] += v * flat[r + c]
                k += 1
        for c in range(min(cols, width - c0)):
            for b in range(n_b):
                zt[c0 + c, b] = acc[b, c]


UNIFORM, MIDPOINT = 1, 2  # breed's crossover codes (0: none)


class Brood(NamedTuple):
    """How each member of a new generation is made: entry j of every array is member j's."""

    src: np.ndarray  # (K,) int64: its parent
    mate: np.ndarray  # (K,) int64: its second parent, used where cross[j]
    cross: np.ndarray  # (K,) breed: int8 crossover code (0, UNIFORM, MIDPOINT); cheap children: bool, unit-wise
    scale: np.ndarray  # (K,) float32: its mutation scale (0: an unchanged copy of src[j])
    off_noise: np.ndarray  # (K,) int64: where its noise starts in the table (breed: its noise after layer 1)
    off_coin: np.ndarray  # (K,) int64: where its unit-wise crossover coins start (cheap children only)

    def take(self, keep: np.ndarray) -> Brood:
        return Brood(*(a[keep] for a in self))


class Noise(NamedTuple):
    """The noise of a run: the table (float32 Gaussian draws) and the per-gene multipliers of the genes after
    layer 1's weights (ga.rest_factors)."""

    table: np.ndarray
    factors: np.ndarray


ALL_GENES = 1 << 12  # breed's thr for mutating every gene


def mutation_threshold(rate: float) -> int:
    """breed's thr for mutating a fraction rate (0, 1] of the genes (rounded to 1/4096, at least 1/4096)."""
    if not 0 < rate <= 1:
        raise ValueError(f"a mutation rate must be in (0, 1], got {rate}")
    return max(1, round(rate * ALL_GENES))


@numba.njit(cache=True, error_model="numpy", inline="always")
def _draw(table, coin, z, thr):
    """Noise draw z, or 0 where its gene is not mutated: bits 1-12 of the draw (uniform, independent of its coin
    bit, sign and size; higher mantissa bits of float32 Gaussian draws are not) at or above thr, a fraction
    1 - thr / 4096 of the genes."""
    return table[z] * np.float32(((coin[z] >> np.uint32(1)) & np.uint32(0xFFF)) < thr)


@numba.njit(cache=True, error_model="numpy")
def breed(pop, new, brood, noise, rows, thr):
    """Member j of the new population new = (w1, rest): its base plus brood.scale[j] times its noise, where the base
    is chosen by brood.cross[j] (int8): 0 member src[j] of pop = (w1, rest); UNIFORM a gene-wise fair-coin mix of
    src[j] and mate[j]; MIDPOINT their gene-wise mean (intermediate recombination: the parents' independent
    mutations partly cancel, what they share stays).

    Member j's noise for layer-1 weight (i, k) is table[rows[i] + j*H1 + k]: row i of the whole population's noise
    is one window laid out like row i of w1, so the pass goes row by row, parents' rows stay in cache, and noise
    and children stream. Its genes after layer 1 get table[off_noise[j] + r] times noise.factors[r] (per-layer
    mutation scales). The coin of a gene is the lowest mantissa bit of its own draw (1: src[j]'s value): in a table
    of float32 Gaussian draws that bit is a fair coin, independent of the draw's sign and size (tests/test_mnist.py
    measures it), so crossover reads no memory of its own. Only genes whose draw passes thr are mutated (_draw;
    thr = mutation_threshold(rate), ALL_GENES: all, with loops of their own). scale[j] == 0 copies the member
    unchanged (elites). One pass over every gene, no temporaries.
    """
    w1, rest = pop
    table, rest_factor = noise
    src, mate, cross, scale, off_noise = brood.src, brood.mate, brood.cross, brood.scale, brood.off_noise
    # Flat views and unsigned indices: no negative-index checks, so the inner loops compile to vector code
    # (both parents are loaded unconditionally and blended, which vectorises where a branch would not).
    n_in, width = np.uint64(w1.shape[0]), np.uint64(w1.shape[1])
    h = width // np.uint64(rest.shape[0])
    n_rest = np.uint64(rest.shape[1])
    a1, d1, ar, dr = w1.reshape(-1), new[0].reshape(-1), rest.reshape(-1), new[1].reshape(-1)
    coin = table.view(np.uint32)
    one, half, masked, thr = np.uint32(1), np.float32(0.5), thr < ALL_GENES, np.uint32(thr)
    if masked:  # sparse mutation: loops of their own, so the default's stay plain
        _breed_masked(pop, new, brood, noise, rows, thr)
        return
    for i in range(n_in):
        row, zr = i * width, np.uint64(rows[i])
        for jj in range(src.shape[0]):
            j, p, q, s, cr = np.uint64(jj), np.uint64(src[jj]), np.uint64(mate[jj]), scale[jj], cross[jj]
            db, pb, qb, zb = row + j * h, row + p * h, row + q * h, zr + j * h
            if s == 0:
                for k in range(h):
                    d1[db + k] = a1[pb + k]
            elif cr == UNIFORM:
                for k in range(h):
                    va, vb = a1[pb + k], a1[qb + k]
                    d1[db + k] = (va if coin[zb + k] & one else vb) + s * table[zb + k]
            elif cr == MIDPOINT:
                for k in range(h):
                    d1[db + k] = half * (a1[pb + k] + a1[qb + k]) + s * table[zb + k]
            else:
                for k in range(h):
                    d1[db + k] = a1[pb + k] + s * table[zb + k]
    for jj in range(src.shape[0]):
        j, p, q, s, cr = np.uint64(jj), np.uint64(src[jj]), np.uint64(mate[jj]), scale[jj], cross[jj]
        db, pb, qb, zb = j * n_rest, p * n_rest, q * n_rest, np.uint64(off_noise[jj])
        if s == 0:
            for r in range(n_rest):
                dr[db + r] = ar[pb + r]
        elif cr == UNIFORM:
            for r in range(n_rest):
                va, vb = ar[pb + r], ar[qb + r]
                dr[db + r] = (va if coin[zb + r] & one else vb) + s * rest_factor[r] * table[zb + r]
        elif cr == MIDPOINT:
            for r in range(n_rest):
                dr[db + r] = half * (ar[pb + r] + ar[qb + r]) + s * rest_factor[r] * table[zb + r]
        else:
            for r in range(n_rest):
                dr[db + r] = ar[pb + r] + s * rest_factor[r] * table[zb + r]


@numba.njit(cache=True, error_model="numpy")
def _breed_masked(pop, new, brood, noise, rows, thr):
    """breed under sparse mutation (thr < ALL_GENES): the same pass with every draw through _draw."""
    w1, rest = pop
    table, rest_factor = noise
    src, mate, cross, scale, off_noise = brood.src, brood.mate, brood.cross, brood.scale, brood.off_noise
    n_in, width = np.uint64(w1.shape[0]), np.uint64(w1.shape[1])
    h = width // np.uint64(rest.shape[0])
    n_rest = np.uint64(rest.shape[1])
    a1, d1, ar, dr = w1.reshape(-1), new[0].reshape(-1), rest.reshape(-1), new[1].reshape(-1)
    coin = table.view(np.uint32)
    one, half = np.uint32(1), np.float32(0.5)
    for i in range(n_in):
        row, zr = i * width, np.uint64(rows[i])
        for jj in range(src.shape[0]):
            j, p, q, s, cr = np.uint64(jj), np.uint64(src[jj]), np.uint64(mate[jj]), scale[jj], cross[jj]
            db, pb, qb, zb = row + j * h, row + p * h, row + q * h, zr + j * h
            if s == 0:
                for k in range(h):
                    d1[db + k] = a1[pb + k]
            elif cr == UNIFORM:
                for k in range(h):
                    va, vb = a1[pb + k], a1[qb + k]
                    d1[db + k] = (va if coin[zb + k] & one else vb) + s * _draw(table, coin, zb + k, thr)
            elif cr == MIDPOINT:
                for k in range(h):
                    d1[db + k] = half * (a1[pb + k] + a1[qb + k]) + s * _draw(table, coin, zb + k, thr)
            else:
                for k in range(h):
                    d1[db + k] = a1[pb + k] + s * _draw(table, coin, zb + k, thr)
    for jj in range(src.shape[0]):
        j, p, q, s, cr = np.uint64(jj), np.uint64(src[jj]), np.uint64(mate[jj]), scale[jj], cross[jj]
        db, pb, qb, zb = j * n_rest, p * n_rest, q * n_rest, np.uint64(off_noise[jj])
        if s == 0:
            for r in range(n_rest):
                dr[db + r] = ar[pb + r]
        elif cr == UNIFORM:
            for r in range(n_rest):
                va, vb = ar[pb + r], ar[qb + r]
                dr[db + r] = (va if coin[zb + r] & one else vb) + s * rest_factor[r] * _draw(table, coin, zb + r, thr)
        elif cr == MIDPOINT:
            for r in range(n_rest):
                dr[db + r] = half * (ar[pb + r] + ar[qb + r]) + s * rest_factor[r] * _draw(table, coin, zb + r, thr)
        else:
            for r in range(n_rest):
                dr[db + r] = ar[pb + r] + s * rest_factor[r] * _draw(table, coin, zb + r, thr)


def split_population(layout, genomes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat genomes (P, n_params) -> w1 (n_in, P*H1) and rest (P, n_params - n_in*H1), both float32 copies."""
    n_pop = genomes.shape[0]
    n_in, h1 = layout.sizes[0], layout.sizes[1]
    n_w = n_in * h1
    w1 = np.ascontiguousarray(genomes[:, :n_w].reshape(n_pop, n_in, h1).transpose(1, 0, 2).reshape(n_in, n_pop * h1))
    return w1.astype(np.float32, copy=False), np.ascontiguousarray(genomes[:, n_w:], dtype=np.float32)


def member(w1: np.ndarray, rest: np.ndarray, j: int) -> np.ndarray:
    """The flat genome (n_params,) float32 of member j (a copy)."""
    h1 = w1.shape[1] // rest.shape[0]
    return np.concatenate([w1[:, j * h1 : (j + 1) * h1].ravel(), rest[j]])


def population_loss(layout, w1: np.ndarray, rest: np.ndarray, x, y: np.ndarray, activation: str,
                    out: np.ndarray | None = None) -> np.ndarray:
    """Mean cross-entropy (P,) float64 of every member on the batch x (B, n_in), y (B,).

    x may also be (images, idx): the batch images[idx] of a Csr, whose layer-1 product goes over nonzero pixels
    only (sparse_product; nets with one hidden layer)."""
    n_pop = rest.shape[0]
    sizes = layout.sizes
    h1 = sizes[1]
    code = ACT_CODES[activation]
    loss = np.empty(n_pop, np.float64) if out is None else out
    y = np.ascontiguousarray(y, dtype=np.int64)
    if isinstance(x, tuple):
        if len(sizes) != 3:
            raise ValueError("the sparse layer-1 product is for nets with one hidden layer")
        images, idx = x
        zt = np.empty((w1.shape[1], idx.shape[0]), np.float32)
        sparse_product(w1, images, idx, zt)
        head_cross_entropy(zt, rest, h1, sizes[2], code, y, loss)
        return loss
    if len(sizes) == 3:  # the one big product, member-major: (P*H1, B)
        head_cross_entropy(w1.T @ x.T, rest, h1, sizes[2], code, y, loss)
        return loss
    z = x @ w1  # (B, P*H1): the one big product
    h = np.empty((n_pop, x.shape[0], h1), np.float32)
    bias_act_transpose(z, rest, h1, code, h)
    p = h1  # position in rest
    for i in range(1, len(sizes) - 1):
        a, b = sizes[i], sizes[i + 1]
        w = rest[:, p : p + a * b].reshape(n_pop, a, b)
        h = np.matmul(h, w)  # (P, B, b)
        p += a * b
        if i < len(sizes) - 2:
            h += rest[:, None, p : p + b]
            from .nets import act

            h = act(h, activation)
            p += b
    bias_cross_entropy(h, rest, p, y, loss)
    return loss
