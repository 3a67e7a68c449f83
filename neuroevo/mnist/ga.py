"""GA: a generational genetic algorithm over flat genomes, scored on a shared minibatch per generation.

Fitness is minus the cross-entropy of each member on the same minibatch (smoother than accuracy, and a shared
batch makes members comparable). Parents are drawn by the numba selection kernel of neuroevo.evolution; the
default, fitness-proportional roulette, sees sigma-scaled fitness: raw fitness values of a population differ by a
few percent, so roulette on them would be nearly uniform. Elites pass unchanged (and are scored again on the next
batch). Children are a parent, or a uniform crossover of two, plus Gaussian noise read from a noise table; each
member carries its own mutation scale, itself mutated log-normally, so the step size follows the landscape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import evolution
from .budget import Tracker
from .nets import NoiseTable, cross_entropy, forward_population, init_genomes

SELECTIONS = {"roulette": evolution.ROULETTE, "sus": evolution.SUS, "rank": evolution.RANK,
              "tournament": evolution.TOURNAMENT, "truncation": evolution.TRUNCATION}
SCALINGS = ("sigma", "linear", "none")


@dataclass(frozen=True)
class GAConfig:
    population: int = 50  # members per generation
    elite: int = 2  # best members copied unchanged into the next generation
    batch: int = 256  # images in the shared fitness minibatch
    selection: str = "roulette"  # roulette, sus, rank, tournament or truncation
    scaling: str = "sigma"  # fitness scaling before roulette/sus: sigma, linear or none
    sigma_c: float = 1.0  # sigma scaling: weight 1 + (f - mean) / (sigma_c * std), clipped at 0
    tournament_k: int = 3  # tournament size
    truncation: float = 0.2  # fraction of the population eligible under truncation
    crossover: float = 0.5  # probability that a child mixes two parents (uniform crossover)
    sigma: float = 0.02  # initial mutation scale
    tau: float = 0.15  # log-normal learning rate of each member's mutation scale (0: fixed scale)
    sigma_min: float = 1e-4  # floor of the mutation scale
    anneal: float = 0.0  # mutation noise is scaled by 1 - anneal * (fraction of the budget spent)
    noise_table: int = 1 << 24  # floats in the noise table


def scaled_fitness(fitness: np.ndarray, scaling: str, c: float = 1.0) -> np.ndarray:
    """Non-negative selection weights (P,) float64 from raw fitness (higher is better).

    sigma: max(0, 1 + (f - mean) / (c std)) - the pressure stays the same whatever the spread of raw fitness
    (c = 1: members more than one std below the mean are never picked, the best get ~3x the mean's share);
    linear: the affine map keeping the mean and giving the best twice the mean (clipped at 0);
    none: f - min (raw differences; nearly uniform when fitness values are close).
    """
    f = np.asarray(fitness, dtype=np.float64)
    if scaling == "sigma":
        sd = f.std()
        return np.ones_like(f) if sd == 0 else np.maximum(0.0, 1.0 + (f - f.mean()) / (c * sd))
    if scaling == "linear":
        mean, top = f.mean(), f.max()
        if top == mean:
            return np.ones_like(f)
        return np.maximum(0.0, 1.0 + (f - mean) / (top - mean))
    if scaling == "none":
        return f - f.min()
    raise ValueError(f"unknown scaling {scaling!r}")


def select_parents(fitness: np.ndarray, k: int, cfg: GAConfig, rng: np.random.Generator) -> np.ndarray:
    """k parent indices (k,) int64 drawn by cfg.selection from fitness (P,) (higher is better)."""
    method = SELECTIONS[cfg.selection]
    if method in (evolution.ROULETTE, evolution.SUS):
        w = scaled_fitness(fitness, cfg.scaling, cfg.sigma_c)
    else:  # only the order matters
        w = np.asarray(fitness, dtype=np.float64) - float(np.min(fitness))
    out = np.empty(k, np.int64)
    evolution.select(w, np.ones(w.shape[0], np.bool_), k, method, cfg.tournament_k, cfg.truncation, rng, out)
    return out


def next_generation(pop: np.ndarray, sig: np.ndarray, fitness: np.ndarray, cfg: GAConfig, table: NoiseTable,
                    rng: np.random.Generator, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Elites + mutated (crossed) children: (P, n_params) float32 and their mutation scales (P,) float32."""
    n_pop, n = pop.shape
    n_el = min(cfg.elite, n_pop)
    order = np.argsort(-fitness, kind="stable")
    k = n_pop - n_el
    parents = select_parents(fitness, k, cfg, rng)
    mates = select_parents(fitness, k, cfg, rng) if cfg.crossover > 0 else parents
    cross = rng.random(k) < cfg.crossover
    offs = table.offsets(2 * k, n, rng)
    child_sig = sig[parents] * np.exp(cfg.tau * rng.standard_normal(k)).astype(np.float32)
    np.maximum(child_sig, np.float32(cfg.sigma_min), out=child_sig)
    new = np.empty_like(pop)
    new_sig = np.empty_like(sig)
    new[:n_el] = pop[order[:n_el]]
    new_sig[:n_el] = sig[order[:n_el]]
    new_sig[n_el:] = child_sig
    for j in range(k):
        c = new[n_el + j]
        np.multiply(table.get(offs[j], n), child_sig[j] * np.float32(scale), out=c)
        if cross[j]:
            mask = table.get(offs[k + j], n) > 0  # a fair coin per gene from the table's signs
            c += np.where(mask, pop[parents[j]], pop[mates[j]])
        else:
            c += pop[parents[j]]
    return new, new_sig


def warm_up() -> None:
    """Compile (or load from cache) the selection kernel, so compilation never counts against a budget."""
    select_parents(np.arange(4.0), 2, GAConfig(), np.random.default_rng(0))


def train(cfg: GAConfig, tracker: Tracker, rng: np.random.Generator,
          first: np.ndarray | None = None) -> tuple[dict, np.ndarray]:
    """Evolve until the tracker's budget is spent; the summary (best elite on validation, scored on test) and the
    last elite. first, if given, is member 0 of the founders (the net the other methods start from)."""
    layout, d, activation = tracker.layout, tracker.data, tracker.activation
    table = NoiseTable(cfg.noise_table, rng)
    pop = init_genomes(layout, cfg.population, activation, rng)  # (P, n_params)
    if first is not None:
        pop[0] = first
    sig = np.full(cfg.population, cfg.sigma, np.float32)  # (P,)
    n_train = d.x_train.shape[0]
    best = pop[0]
    tracker.evaluate(best)
    while True:
        idx = rng.integers(0, n_train, size=cfg.batch)
        logits = forward_population(layout, pop, d.x_train[idx], activation)  # (P, B, C)
        fitness = -cross_entropy(logits, d.y_train[idx])  # (P,)
        best = pop[int(np.argmax(fitness))]
        if tracker.step(cfg.population * cfg.batch, lambda b=best: b):
            break
        scale = 1.0 - cfg.anneal * min(1.0, tracker.progress())
        pop, sig = next_generation(pop, sig, fitness, cfg, table, rng, scale)
    out = tracker.finish(best)
    out["final_sigma_median"] = float(np.median(sig))
    return out, np.array(best, copy=True)
