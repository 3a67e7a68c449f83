"""Low-rank ES: OpenAI-ES whose first-layer perturbations are rank-r matrices, so a member costs a sliver of a net.

Member +-k of a generation is theta +- sigma * eps_k, where eps_k perturbs the first weight matrix by
A_k B_k / sqrt(r) (A_k (n_in, r), B_k (r, H1), Gaussian entries, so every entry of the product has unit variance)
and every later parameter (b1, W2, b2) by full Gaussian noise. Then X (theta +- sigma eps_k) needs no product of
its own: X W1 is computed once for the mean, X A for all pairs in one thin product, and each member adds
+-sigma (X A_k) B_k, a rank-r update, before its own small output layer. A member costs about
r H1 + H1 C multiply-adds per image instead of n_in H1 + H1 C (784-32-10: ~450 against ~25,400), so a generation
affords thousands of pairs. The estimate E[f(theta + sigma eps) eps] / sigma is unbiased as for Gaussian noise
(E[eps eps^T] = I), and the update is Adam on centred ranks, as in es.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from .backprop import Adam
from .budget import Tracker
from .es import centred_ranks
from .kernels import ACT_CODES, _act, column_cross_entropy
from .nets import NoiseTable


@dataclass(frozen=True)
class LRESConfig:
    pairs: int = 1000  # antithetic pairs per generation (population = 2 * pairs); see README (2000: worse)
    rank: int = 1  # rank of each first-layer perturbation
    batch: int = 512  # images in the shared fitness minibatch
    batch_end: int = 1536  # > batch: the batch grows linearly from batch to batch_end over the budget (0: fixed)
    sigma: float = 0.02  # perturbation scale
    lr: float = 0.005  # Adam step size on the mean (at the start; see lr_decay); 0.005 and batch_end 1536 at 600 s:
    # 95.58-95.64% (seed 1, 3 runs), 95.45% (seed 2), against 94.76% for 0.01 and a fixed batch (README)
    lr_decay: bool = True  # step size falls linearly to 0 over the budget
    weight_decay: float = 0.0  # L2 coefficient added to the estimated gradient
    noise_table: int = 1 << 24  # floats in the noise table


@numba.njit(cache=True, error_model="numpy", fastmath=True)
def pair_losses(zt, ut, noise, head, y, sigma, code, out):
    """Mean cross-entropy of members +k (out[k]) and -k (out[m + k]) on one batch.

    zt (H1, B): X W1 + b1 of the mean, transposed; ut (m*r, B): (X A).T; noise (m, L) per pair: A (n_in*r, used
    only through ut), B (r*H1), then the b1, W2, b2 perturbations; head = (w2 (H1, C), b2 (C,)) of the mean;
    y (B,). Images are the innermost loop everywhere, so the compiler vectorises over them.
    """
    w2, b2 = head
    h1, n_b = zt.shape
    n_c = b2.shape[0]
    m = noise.shape[0]
    r = ut.shape[0] // m
    n_in = (noise.shape[1] - r * h1 - h1 - h1 * n_c - n_c) // r
    at_b, at_rest = n_in * r, n_in * r + r * h1
    at_w2, at_b2 = at_rest + h1, at_rest + h1 + h1 * n_c
    inv = np.float32(1.0 / math.sqrt(r))
    d = np.empty((h1, n_b), np.float32)
    h = np.empty((h1, n_b), np.float32)
    logit = np.empty((n_c, n_b), np.float32)
    mx = np.empty(n_b, np.float32)
    s = np.empty(n_b, np.float32)
    frac = np.empty(n_b, np.float32)
    bits = np.empty(n_b, np.int32)
    for k in range(m):
        e = noise[k]
        for j in range(h1):  # d = (X A_k) B_k / sqrt(r) + e_b1, the member's layer-1 offset per unit of sigma
            for b in range(n_b):
                d[j, b] = e[at_rest + j]
            for q in range(r):
                coef = e[at_b + q * h1 + j] * inv
                for b in range(n_b):
                    d[j, b] += coef * ut[k * r + q, b]
        for side in range(2):
            sg = np.float32(sigma if side == 0 else -sigma)
            for j in range(h1):
                for b in range(n_b):
                    h[j, b] = _act(zt[j, b] + sg * d[j, b], code)
            for c in range(n_c):
                bias = b2[c] + sg * e[at_b2 + c]
                for b in range(n_b):
                    logit[c, b] = bias
            for j in range(h1):
                for c in range(n_c):
                    w = w2[j, c] + sg * e[at_w2 + j * n_c + c]
                    for b in range(n_b):
                        logit[c, b] += w * h[j, b]
            total = column_cross_entropy(logit, y, mx, s, frac, bits)
            out[k if side == 0 else m + k] = total / n_b


def warm_up() -> None:
    """Compile (or load from cache) the kernel for every activation, off any budget's clock."""
    for code in ACT_CODES.values():
        pair_losses(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32), np.zeros((2, 3 + 2 + 2 + 4 + 2),
                    np.float32), (np.zeros((2, 2), np.float32), np.zeros(2, np.float32)), np.zeros(3, np.int64),
                    0.1, code, np.empty(4))


def perturbation(noise_k: np.ndarray, n_in: int, h1: int, r: int) -> np.ndarray:
    """eps_k (n_params,) float32 in genome order from one pair's noise row: A B / sqrt(r), then the rest as is."""
    a = noise_k[: n_in * r].reshape(n_in, r)
    b = noise_k[n_in * r : n_in * r + r * h1].reshape(r, h1)
    return np.concatenate([(a @ b).ravel() / np.float32(math.sqrt(r)), noise_k[n_in * r + r * h1 :]])


def gradient(noise: np.ndarray, w: np.ndarray, n_in: int, h1: int, r: int) -> np.ndarray:
    """sum_k w[k] eps_k (n_params,) without forming any eps_k: the first layer as one (n_in, m r) @ (m r, H1)."""
    m = noise.shape[0]
    a_t = noise[:, : n_in * r].reshape(m, n_in, r).transpose(1, 0, 2).reshape(n_in, m * r)
    bw = noise[:, n_in * r : n_in * r + r * h1].reshape(m * r, h1) * np.repeat(w, r)[:, None]
    return np.concatenate([(a_t @ bw).ravel() / np.float32(math.sqrt(r)), w @ noise[:, n_in * r + r * h1 :]])


def train(genome: np.ndarray, cfg: LRESConfig, tracker: Tracker, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """Move the mean from genome until the tracker's budget is spent; summary and final mean."""
    layout, d, activation = tracker.layout, tracker.data, tracker.activation
    if len(layout.sizes) != 3:
        raise ValueError("low-rank ES takes one hidden layer")
    n_in, h1, n_c = layout.sizes
    r, m = cfg.rank, cfg.pairs
    n_w1 = n_in * h1
    width = n_in * r + r * h1 + (layout.n_params - n_w1)  # noise floats per pair
    table = NoiseTable(cfg.noise_table, rng)
    windows = np.lib.stride_tricks.sliding_window_view(table.table, width)
    theta = np.array(genome, dtype=np.float32, copy=True)
    opt = Adam(theta.size, cfg.lr)
    n_train = d.x_train.shape[0]
    y_train = d.y_train.astype(np.int64)
    loss = np.empty(2 * m, np.float64)
    code = ACT_CODES[activation]
    tracker.evaluate(theta)
    while True:
        noise = windows[table.offsets(m, width, rng)]  # (m, width) copy
        a_all = noise[:, : n_in * r].reshape(m, n_in, r).transpose(0, 2, 1).reshape(m * r, n_in)  # (m r, n_in)
        n_batch = tracker.batch(cfg.batch, cfg.batch_end)
        idx = rng.integers(0, n_train, size=n_batch)
        x = d.x_train[idx]
        w1 = theta[:n_w1].reshape(n_in, h1)
        zt = np.ascontiguousarray((x @ w1 + theta[n_w1 : n_w1 + h1]).T)  # (H1, B)
        ut = a_all @ x.T  # (m r, B)
        w2 = theta[n_w1 + h1 : n_w1 + h1 + h1 * n_c].reshape(h1, n_c)
        pair_losses(zt, ut, noise, (w2, theta[n_w1 + h1 + h1 * n_c :]), y_train[idx], cfg.sigma, code, loss)
        ranks = centred_ranks(-loss)
        w = (ranks[:m] - ranks[m:]).astype(np.float32) / np.float32(m * cfg.sigma)  # (m,)
        grad = gradient(noise, w, n_in, h1, r)  # ascent direction estimate (n_params,)
        if cfg.weight_decay:
            grad -= np.float32(cfg.weight_decay) * theta
        if cfg.lr_decay:
            opt.lr = cfg.lr * max(0.0, 1.0 - tracker.progress())
        opt.update(theta, -grad)
        if tracker.step(2 * m * n_batch, lambda: theta):
            break
    out = tracker.finish(theta)
    return out, theta
