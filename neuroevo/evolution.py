"""Evolution: parent selection, Gaussian mutation, uniform crossover, hall of fame, and births into dead slots.

Fitness is lifetime (steps lived). Steady state: each death is replaced in the same step by a mutated child of a
parent drawn among the living. Generational: the dead stay dead; every G steps (or when all are dead) the whole
population is rebuilt from that generation's lifetimes. All randomness comes from the one numpy Generator that the
Simulation owns (numba draws from the same bit generator, so Python and kernels share one stream).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .config import Params, Selection

ROULETTE, SUS, RANK, TOURNAMENT, TRUNCATION = (Selection.ROULETTE, Selection.SUS, Selection.RANK, Selection.TOURNAMENT,
                                              Selection.TRUNCATION)


@numba.njit(cache=True, error_model="numpy")
def _pick_cumulative(cum: np.ndarray, u: float) -> int:
    """Index of the first cum[j] > u (cum non-decreasing)."""
    j = np.searchsorted(cum, u, side="right")
    return min(j, cum.shape[0] - 1)


@numba.njit(cache=True, error_model="numpy")
def select(
    fitness: np.ndarray, eligible: np.ndarray, k: int, method: int, tournament_k: int, truncation: float,
    rng: np.random.Generator, out: np.ndarray,
) -> None:
    """Draw k parent slots among eligible ones into out[:k]; fitness (N,) float64 >= 0, eligible (N,) bool."""
    cand = np.nonzero(eligible)[0]
    m = cand.shape[0]
    if m == 0:
        cand = np.arange(fitness.shape[0])
        m = cand.shape[0]
    fit = fitness[cand]
    if method == TOURNAMENT:
        for t in range(k):
            best = cand[rng.integers(0, m)]
            for _ in range(tournament_k - 1):
                c = cand[rng.integers(0, m)]
                if fitness[c] > fitness[best]:
                    best = c
            out[t] = best
        return
    if method == RANK or method == TRUNCATION:
        order = np.argsort(fit, kind="mergesort")  # stable: ties keep slot order
        if method == TRUNCATION:
            top = max(1, int(math.ceil(truncation * m)))
            for t in range(k):
                out[t] = cand[order[m - 1 - rng.integers(0, top)]]
            return
        weights = np.empty(m, np.float64)
        for r in range(m):
            weights[order[r]] = r + 1.0
    else:
        weights = fit.astype(np.float64)
    cum = np.cumsum(weights)
    total = cum[m - 1]
    if total <= 0.0:
        for t in range(k):
            out[t] = cand[rng.integers(0, m)]
        return
    if method == SUS:
        step = total / k
        start = rng.random() * step
        for t in range(k):
            out[t] = cand[_pick_cumulative(cum, start + t * step)]
        return
    for t in range(k):
        out[t] = cand[_pick_cumulative(cum, rng.random() * total)]


@numba.njit(cache=True, error_model="numpy")
def mutate(genome: np.ndarray, rate: float, sigma: float, rng: np.random.Generator) -> None:
    """Add N(0, sigma^2) to each gene with probability rate (geometric skips: cost ~ rate * n draws)."""
    if rate <= 0.0 or sigma <= 0.0:
        return
    n = genome.shape[0]
    i = rng.geometric(rate) - 1
    while i < n:
        genome[i] += np.float32(sigma * rng.standard_normal())
        i += rng.geometric(rate)


@numba.njit(cache=True, error_model="numpy")
def crossover(a: np.ndarray, b: np.ndarray, child: np.ndarray, rng: np.random.Generator) -> None:
    """Uniform crossover: each gene from a or b with probability 1/2."""
    for i in range(child.shape[0]):
        child[i] = a[i] if rng.random() < 0.5 else b[i]


@numba.njit(cache=True, error_model="numpy")
def hof_offer(hof: np.ndarray, hof_fit: np.ndarray, genome: np.ndarray, fitness: float) -> None:
    """Keep the genome in the hall of fame if it outlived the weakest member."""
    if hof.shape[0] == 0:
        return
    j = np.argmin(hof_fit)
    if fitness > hof_fit[j]:
        for q in range(genome.shape[0]):  # a loop, not hof[j, :] = genome: that may allocate (steploop._apply_deaths)
            hof[j, q] = genome[q]
        hof_fit[j] = fitness


@numba.njit(cache=True, error_model="numpy")
def _unit_at(child: np.ndarray, sizes: np.ndarray, n_w: int, want_on: bool, r: int, keep_one: bool):
    """(hidden layer, unit, gate index) of the r-th unit that is on (want_on) or off; keep_one skips layers with a
    single unit on (a layer never goes dark). Returns layer -1 when there is no such unit."""
    g = n_w
    for layer in range(1, sizes.shape[0] - 1):
        h = sizes[layer]
        n_on = 0
        for j in range(h):
            if child[g + j] > 0.5:
                n_on += 1
        if not (keep_one and n_on <= 1):
            for j in range(h):
                if (child[g + j] > 0.5) == want_on:
                    if r == 0:
                        return layer, j, g + j
                    r -= 1
        g += h
    return -1, 0, 0


@numba.njit(cache=True, error_model="numpy")
def _count_units(child: np.ndarray, sizes: np.ndarray, n_w: int, want_on: bool, keep_one: bool) -> int:
    n = 0
    g = n_w
    for layer in range(1, sizes.shape[0] - 1):
        h = sizes[layer]
        n_on = 0
        for j in range(h):
            if child[g + j] > 0.5:
                n_on += 1
        if not (keep_one and n_on <= 1):
            n += n_on if want_on else h - n_on
        g += h
    return n


@numba.njit(cache=True, error_model="numpy")
def mutate_units(child: np.ndarray, sizes: np.ndarray, p: Params, rng: np.random.Generator) -> None:
    """Topology mutation: with probability add_unit_rate switch on one switched-off hidden unit, chosen uniformly,
    with its outgoing weights zeroed (the child computes what its parent did); with probability remove_unit_rate
    switch off one unit that is on (never a layer's last)."""
    n_w = child.shape[0] - p.n_gates
    if p.add_unit_rate > 0.0 and rng.random() < p.add_unit_rate:
        m = _count_units(child, sizes, n_w, False, False)
        if m > 0:
            layer, j, gi = _unit_at(child, sizes, n_w, False, rng.integers(0, m), False)
            child[gi] = 1.0
            w0 = 0
            for a in range(layer):
                w0 += sizes[a] * sizes[a + 1] + sizes[a + 1]
            n_next = sizes[layer + 1]
            for jj in range(n_next):
                child[w0 + j * n_next + jj] = 0.0
    if p.remove_unit_rate > 0.0 and rng.random() < p.remove_unit_rate:
        m = _count_units(child, sizes, n_w, True, True)
        if m > 0:
            _, _, gi = _unit_at(child, sizes, n_w, True, rng.integers(0, m), True)
            child[gi] = 0.0


@numba.njit(cache=True, error_model="numpy")
def make_child(
    genomes: np.ndarray, parent: int, parent2: int, hof: np.ndarray, hof_fit: np.ndarray, p: Params,
    rng: np.random.Generator, child: np.ndarray, sizes: np.ndarray,
) -> None:
    """Fill child (n_params,) from parent slot(s) or the hall of fame, then mutate it: Gaussian noise on the
    weights, then (with gates, p.n_gates > 0) the topology (mutate_units)."""
    src = genomes[parent]
    if hof.shape[0] > 0 and p.hof_prob > 0.0 and hof_fit.max() > 0.0 and rng.random() < p.hof_prob:
        filled = np.nonzero(hof_fit > 0.0)[0]
        src = hof[filled[rng.integers(0, filled.shape[0])]]
    if p.crossover > 0.0 and rng.random() < p.crossover:
        crossover(src, genomes[parent2], child, rng)
    else:
        child[:] = src
    n_w = child.shape[0] - p.n_gates
    mutate(child[:n_w], p.mutation_rate, p.sigma, rng)
    if p.n_gates > 0:
        mutate_units(child, sizes, p, rng)
