"""GA with cheap children: (mu + lambda) selection, neuron-wise crossover and rank-1 first-layer mutations.

The generational GA pays a full forward pass for every child. Here a generation computes X W1 once for each of
the mu parents (one product, as the generational GA does for its population), and a child, built from them,
costs a sliver of that:
- crossover is neuron-wise: hidden unit h of the child (its column of W1, its bias and its row of W2) comes whole
  from one parent or the other (a fair coin per unit), so the child's layer-1 pre-activations are columns of
  its parents' X W1;
- mutation of W1 is rank 1, sigma * a b^T (a (n_in,), b (H1,) Gaussian, so every entry has unit variance), which
  adds sigma (X a) b^T, with X a for all children in one thin product; every later gene gets full Gaussian noise.
So lambda children cost about lambda (H1 + H1 C) multiply-adds per image besides one (B, n_in) @ (n_in, lambda)
product, and selection picks the next mu parents among parents and children by their loss on the batch (the
parents are re-scored on every batch, so an elite that was lucky once does not stay). Only the mu survivors are
written out in full. Each member carries its own mutation scale, mutated log-normally (tau), as in ga.py.
"""

from __future__ import annotations

import numba
import numpy as np

from .budget import Tracker
from .kernels import ACT_CODES, Brood, Noise, _act, column_cross_entropy, member, split_population
from .nets import NoiseTable, init_genomes


@numba.njit(cache=True, error_model="numpy", fastmath=True)
def child_losses(zt, ut, rest, brood, noise, n_in, code, y, out):
    """Mean cross-entropy out[c] of child c on the batch.

    zt (mu*H1, B): (X W1).T of the parents, no bias; ut (lambda, B): (X a_c).T; rest (mu, n_rest): b1, W2, b2 of
    the parents; child c (a kernels.Brood entry) = parents src[c] and mate[c] (unit h from mate[c] where cross[c]
    and table[off_coin[c] + h] <= 0) plus scale[c] * (a b^T on W1, factors * noise on the rest), its noise being
    table[off_noise[c]:] laid out a (n_in), b (H1), rest (n_rest); noise = kernels.Noise(table, factors).
    scale 0: the parent itself.
    """
    src, mate, cross, scale, off_noise, off_coin = brood
    table, factors = noise
    n_b = zt.shape[1]
    mu = rest.shape[0]
    h1 = zt.shape[0] // mu
    n_c = (rest.shape[1] - h1) // (h1 + 1)  # rest = b1 (H1), W2 (H1 C), b2 (C)
    at_b = n_in
    at_rest = n_in + h1
    at_w2 = h1
    at_b2 = h1 + h1 * n_c
    h = np.empty((h1, n_b), np.float32)
    logit = np.empty((n_c, n_b), np.float32)
    mx = np.empty(n_b, np.float32)
    s = np.empty(n_b, np.float32)
    frac = np.empty(n_b, np.float32)
    bits = np.empty(n_b, np.int32)
    for c in range(src.shape[0]):
        p, q, sg = src[c], mate[c], scale[c]
        on, om = off_noise[c], off_coin[c]
        for j in range(h1):
            u = q if (cross[c] and table[om + j] <= 0) else p
            e_b = sg * table[on + at_b + j]
            bias = rest[u, j] + sg * factors[j] * table[on + at_rest + j]
            zrow = zt[u * h1 + j]
            for b in range(n_b):
                h[j, b] = _act(zrow[b] + bias + e_b * ut[c, b], code)
        for k in range(n_c):
            bias = rest[p, at_b2 + k] + sg * factors[at_b2 + k] * table[on + at_rest + at_b2 + k]
            for b in range(n_b):
                logit[k, b] = bias
        for j in range(h1):
            u = q if (cross[c] and table[om + j] <= 0) else p
            for k in range(n_c):
                g = at_w2 + j * n_c + k
                w = rest[u, g] + sg * factors[g] * table[on + at_rest + g]
                for b in range(n_b):
                    logit[k, b] += w * h[j, b]
        total = column_cross_entropy(logit, y, mx, s, frac, bits)  # exp by a polynomial, as in lres
        out[c] = total / n_b


@numba.njit(cache=True, error_model="numpy")
def write_children(pop, new, brood, noise):
    """Write child c of pop = (w1, rest) (as child_losses defines it) in full into slot c of new = (w1 (n_in,
    mu*H1), rest)."""
    w1, rest = pop
    new_w1, new_rest = new
    src, mate, cross, scale, off_noise, off_coin = brood
    table, factors = noise
    n_in = w1.shape[0]
    mu = rest.shape[0]
    h1 = w1.shape[1] // mu
    n_rest = rest.shape[1]
    n_c = (n_rest - h1) // (h1 + 1)
    at_rest = n_in + h1
    for c in range(src.shape[0]):
        p, q, sg = src[c], mate[c], scale[c]
        on, om = off_noise[c], off_coin[c]
        for j in range(h1):
            u = q if (cross[c] and table[om + j] <= 0) else p
            e_b = sg * table[on + n_in + j]
            for i in range(n_in):
                new_w1[i, c * h1 + j] = w1[i, u * h1 + j] + e_b * table[on + i]
            new_rest[c, j] = rest[u, j] + sg * factors[j] * table[on + at_rest + j]
            for k in range(n_c):
                g = h1 + j * n_c + k
                new_rest[c, g] = rest[u, g] + sg * factors[g] * table[on + at_rest + g]
        for g in range(h1 + h1 * n_c, n_rest):
            new_rest[c, g] = rest[p, g] + sg * factors[g] * table[on + at_rest + g]


def warm_up() -> None:
    """Compile (or load from cache) both kernels for every activation, off any budget's clock."""
    from .nets import make_layout

    layout = make_layout(3, (2,), 2)
    rng = np.random.default_rng(0)
    w1, rest = split_population(layout, init_genomes(layout, 2, "relu", rng))
    z = np.zeros(2, np.int64)
    brood = Brood(z, z, np.zeros(2, np.bool_), np.ones(2, np.float32), z, z)
    noise = Noise(rng.standard_normal(64, dtype=np.float32), np.ones(rest.shape[1], np.float32))
    for code in ACT_CODES.values():
        child_losses(np.zeros((4, 3), np.float32), np.zeros((2, 3), np.float32), rest, brood, noise, 3, code,
                     np.zeros(3, np.int64), np.empty(2))
    write_children((w1, rest), (np.empty_like(w1), np.empty_like(rest)), brood, noise)


def train(cfg, tracker: Tracker, rng: np.random.Generator, first: np.ndarray | None, factors: np.ndarray
          ) -> tuple[dict, np.ndarray]:
    """Evolve mu = cfg.population parents with cfg.offspring children a generation until the budget is spent."""
    from .ga import select_parents

    layout, d, activation = tracker.layout, tracker.data, tracker.activation
    if len(layout.sizes) != 3:
        raise ValueError("the GA's low-rank children take one hidden layer")
    n_in, h1, n_c = layout.sizes
    mu, lam = cfg.population, cfg.offspring
    n_rest = layout.n_params - n_in * h1
    width = n_in + h1 + n_rest  # noise floats per child
    table = NoiseTable(cfg.noise_table, rng)
    noise = Noise(table.table, factors)
    windows = np.lib.stride_tricks.sliding_window_view(table.table, n_in)
    pop = init_genomes(layout, mu, activation, rng)
    if first is not None:
        pop[0] = first
    w1, rest = split_population(layout, pop)
    spare = (np.empty_like(w1), np.empty_like(rest))
    sig = np.full(mu, cfg.sigma, np.float32)
    n_cand = mu + lam
    loss = np.empty(n_cand, np.float64)
    code = ACT_CODES[activation]
    n_train = d.x_train.shape[0]
    y_train = d.y_train.astype(np.int64)
    parents_self = np.arange(mu)
    tracker.evaluate(pop[0])
    del pop
    fitness = np.zeros(mu)  # the first generation's parents are drawn uniformly
    best = 0
    while True:
        # children of the current parents, chosen by the parents' fitness on the previous batch
        k = lam
        p = select_parents(fitness, k, cfg, rng) if k else np.empty(0, np.int64)
        q = select_parents(fitness, k, cfg, rng)
        cross = rng.random(k) < cfg.crossover
        c_sig = sig[p] * np.exp(cfg.tau * rng.standard_normal(k)).astype(np.float32)
        np.maximum(c_sig, np.float32(cfg.sigma_min), out=c_sig)
        scale = 1.0 - cfg.anneal * min(1.0, tracker.progress())
        off_noise = table.offsets(k, width, rng)
        off_coin = table.offsets(k, h1, rng)
        zeros = np.zeros(mu, np.int64)  # the parents come first, unchanged
        brood = Brood(np.concatenate([parents_self, p]), np.concatenate([parents_self, q]),
                      np.concatenate([np.zeros(mu, np.bool_), cross]),
                      np.concatenate([np.zeros(mu, np.float32), c_sig * np.float32(scale)]),
                      np.concatenate([zeros, off_noise]), np.concatenate([zeros, off_coin]))
        # score parents and children on one batch
        n_batch = tracker.batch(cfg.batch, cfg.batch_end)
        idx = rng.integers(0, n_train, size=n_batch)
        x = d.x_train[idx]
        zt = w1.T @ x.T  # (mu*H1, B): every parent's first layer, one product
        ut = np.zeros((n_cand, n_batch), np.float32)
        ut[mu:] = windows[off_noise] @ x.T  # (lambda, B): X a_c of every child
        child_losses(zt, ut, rest, brood, noise, n_in, code, y_train[idx], loss)
        order = np.argsort(loss, kind="stable")
        best = int(order[0])
        gen = ((w1, rest), brood, noise)
        if tracker.step(n_cand * n_batch, lambda gen=gen, best=best: _one(*gen, best)):
            break
        keep = order[:mu]  # (mu + lambda) truncation: the next parents, best first
        write_children((w1, rest), spare, brood.take(keep), noise)
        sig = np.concatenate([sig, c_sig])[keep]
        fitness = -loss[keep]
        (w1, rest), spare = spare, (w1, rest)
    final = _one(*gen, best)
    out = tracker.finish(final)
    out["final_sigma_median"] = float(np.median(sig))
    out["mode"] = "mu+lambda"
    return out, final


def _one(pop: tuple, brood: Brood, noise: Noise, c: int) -> np.ndarray:
    """Candidate c of a generation written out as a flat genome."""
    w1, rest = pop
    nw = np.empty((w1.shape[0], w1.shape[1] // rest.shape[0]), np.float32)
    nr = np.empty((1, rest.shape[1]), np.float32)
    write_children(pop, (nw, nr), brood.take(slice(c, c + 1)), noise)
    return member(nw, nr, 0)
