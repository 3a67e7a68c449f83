"""GA: a generational genetic algorithm over flat genomes, scored on a shared minibatch per generation.

Fitness is minus the cross-entropy of each member on the same minibatch (smoother than accuracy, and a shared
batch makes members comparable). Parents are drawn by the numba selection kernel of neuroevo.evolution; the
default, fitness-proportional roulette, sees sigma-scaled fitness: raw fitness values of a population differ by a
few percent, so roulette on them would be nearly uniform. Elites pass unchanged (and are scored again on the next
batch). Children are a parent, or a crossover of two (uniform, or their gene-wise mean with
crossover_mode="midpoint"), plus Gaussian noise read from a noise table on every gene (or on a fraction
mutation_rate of them); each member carries its own mutation scale, itself mutated log-normally, so the step size
follows the landscape. On sparse images (MNIST) the layer-1 product goes over nonzero pixels only (layer1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import evolution
from . import kernels
from .budget import Tracker
from .nets import NoiseTable, init_genomes

SELECTIONS = {"roulette": evolution.ROULETTE, "sus": evolution.SUS, "rank": evolution.RANK,
              "tournament": evolution.TOURNAMENT, "truncation": evolution.TRUNCATION}
SCALINGS = ("sigma", "linear", "none")
CROSSOVER_MODES = {"uniform": kernels.UNIFORM, "midpoint": kernels.MIDPOINT}
LAYER1 = ("auto", "dense", "sparse")
SPARSE_DENSITY = 0.25  # auto takes the sparse product up to this fraction of nonzero pixels (on MNIST, 19% nonzero,
# it takes ~0.6 of the dense product's time, benchmarks/mnist_throughput.py; its time grows with the nonzero pixels)


@dataclass(frozen=True)
class GAConfig:
    population: int = 50  # members per generation
    elite: int = 2  # best members copied unchanged into the next generation
    batch: int = 256  # images in the shared fitness minibatch
    batch_end: int = 1024  # > batch: the batch grows linearly from batch to batch_end over the budget (0: fixed;
    # 1024: 93.24-93.76% at 600 s in five runs of seeds 1-4, against 92.33-92.88% for a fixed batch, README)
    selection: str = "roulette"  # roulette, sus, rank, tournament or truncation
    scaling: str = "sigma"  # fitness scaling before roulette/sus: sigma, linear or none
    sigma_c: float = 1.0  # sigma scaling: weight 1 + (f - mean) / (sigma_c * std), clipped at 0
    tournament_k: int = 3  # tournament size
    truncation: float = 0.2  # fraction of the population eligible under truncation
    crossover: float = 0.5  # probability that a child mixes two parents
    crossover_mode: str = "uniform"  # uniform (each gene from either parent) or midpoint (the parents' mean)
    sigma: float = 0.02  # initial mutation scale
    mutation_rate: float = 1.0  # fraction of a child's genes that get noise (each gene by its own coin)
    tau: float = 0.15  # log-normal learning rate of each member's mutation scale (0: fixed scale)
    sigma_min: float = 1e-4  # floor of the mutation scale
    anneal: float = 0.0  # mutation noise is scaled by 1 - anneal * (fraction of the budget spent)
    noise_table: int = 1 << 24  # floats in the noise table
    layer_sigma: str = "same"  # per-layer mutation scales: same, or fan_in (see rest_factors)
    layer1: str = "auto"  # the layer-1 product: dense (BLAS), sparse (nonzero pixels only, one hidden layer), or
    # auto: sparse for one hidden layer, offspring=0 and at most SPARSE_DENSITY of the training pixels nonzero (1.6x
    # faster generations on MNIST with one BLAS thread; with two BLAS threads the dense product is about level)
    offspring: int = 0  # 0: generational (the default: with a fixed batch of 256, 92.08% at 600 s against 87.84%
    # with 1,000 cheap children, seed 1, README); lambda > 0: (mu + lambda) with lambda cheap children (lrga.py)


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
    evolution.select(w, np.ones(w.shape[0], np.bool_), k, int(method), cfg.tournament_k, cfg.truncation, rng, out)
    return out


def rest_factors(layout, mode: str) -> np.ndarray:
    """Noise multipliers (n_rest,) float32 of the genes after layer 1's weights, relative to layer 1's.

    same: 1 everywhere; fan_in: each layer's weights and bias get sqrt(fan_in of layer 1 / their fan_in), the
    ratio of the initial weight scales (He/Glorot std ~ 1/sqrt(fan_in)), so a mutation moves every layer by the
    same fraction of its typical weight.
    """
    sizes = layout.sizes
    out = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        f = 1.0 if mode == "same" else float(np.sqrt(sizes[0] / a))
        out += [] if i == 0 else [f] * (a * b)
        out += [f] * b
    return np.asarray(out, np.float32)


def next_generation(pop: tuple, sig: np.ndarray, fitness: np.ndarray, cfg: GAConfig, table: NoiseTable,
                    factors: np.ndarray, rng: np.random.Generator, scale: float, out: tuple) -> np.ndarray:
    """Elites + mutated (crossed) children of pop = (w1, rest), written into the out = (w1, rest) buffers; returns
    their mutation scales (P,). factors: ga.rest_factors; scale: the annealing multiplier of every step."""
    w1, rest = pop
    n_pop, n_rest = rest.shape
    n_in, h1 = w1.shape[0], w1.shape[1] // n_pop
    n_el = min(cfg.elite, n_pop)
    order = np.argsort(-fitness, kind="stable")
    k = n_pop - n_el
    parents = select_parents(fitness, k, cfg, rng)
    mates = select_parents(fitness, k, cfg, rng) if cfg.crossover > 0 else parents  # a draw of its own (SUS
    # returns its picks in slot order, so one draw split in two would pair the two halves of the population)
    by_parent = np.argsort(parents, kind="stable")  # children of one parent in a row: it is read from cache
    src = np.concatenate([order[:n_el], parents[by_parent]])
    mate = np.concatenate([order[:n_el], mates[by_parent]])
    cross = np.zeros(n_pop, np.int8)
    cross[n_el:] = (rng.random(k) < cfg.crossover) * np.int8(CROSSOVER_MODES[cfg.crossover_mode])
    rows = table.offsets(n_in, n_pop * h1, rng)  # layer 1: one window per input row, laid out like that row of w1
    offs = table.offsets(n_pop, n_rest, rng)  # the genes after layer 1: one window per member
    new_sig = np.empty_like(sig)
    new_sig[:n_el] = sig[order[:n_el]]
    new_sig[n_el:] = sig[src[n_el:]] * np.exp(cfg.tau * rng.standard_normal(k)).astype(np.float32)
    np.maximum(new_sig[n_el:], np.float32(cfg.sigma_min), out=new_sig[n_el:])
    step = new_sig * np.float32(scale)
    step[:n_el] = 0.0
    brood = kernels.Brood(src, mate, cross, step, offs, offs)  # (off_coin is not read: coins are noise bits)
    kernels.breed(pop, out, brood, kernels.Noise(table.table, factors), rows,
                  kernels.mutation_threshold(cfg.mutation_rate))
    return new_sig


def sparse_layer1(cfg: GAConfig, layout, x: np.ndarray) -> bool:
    """Whether the generational GA takes its layer-1 product over nonzero pixels only (cfg.layer1; auto: one
    hidden layer and at most SPARSE_DENSITY of the pixels of x nonzero)."""
    if cfg.layer1 != "auto":
        return cfg.layer1 == "sparse"
    return len(layout.sizes) == 3 and np.count_nonzero(x) <= SPARSE_DENSITY * x.size


def warm_up() -> None:
    """Compile (or load from cache) the selection and generation kernels, so compilation never counts against a
    budget."""
    select_parents(np.arange(4.0), 2, GAConfig(), np.random.default_rng(0))
    from .nets import make_layout

    rng = np.random.default_rng(0)
    table = NoiseTable(64, rng)
    for layout in (make_layout(3, (2, 2), 2), make_layout(3, (2,), 2)):  # deeper nets' kernels, then the fused one
        w1, rest = kernels.split_population(layout, init_genomes(layout, 4, "relu", rng))
        for activation in kernels.ACT_CODES:
            loss = kernels.population_loss(layout, w1, rest, np.ones((2, 3), np.float32), np.zeros(2, np.int64),
                                           activation)
    images = kernels.csr(np.eye(3, dtype=np.float32))
    kernels.population_loss(layout, w1, rest, (images, np.arange(2)), np.zeros(2, np.int64), "relu")
    out = (np.empty_like(w1), np.empty_like(rest))
    for mode in CROSSOVER_MODES:  # every crossover mode, with and without sparse mutation (its own kernel)
        for rate in (1.0, 0.5):
            next_generation((w1, rest), np.ones(4, np.float32), -loss,
                            GAConfig(crossover=1.0, crossover_mode=mode, mutation_rate=rate), table,
                            rest_factors(layout, "same"), rng, 1.0, out)
    from . import lrga

    lrga.warm_up()


def train(cfg: GAConfig, tracker: Tracker, rng: np.random.Generator,
          first: np.ndarray | None = None) -> tuple[dict, np.ndarray]:
    """Evolve until the tracker's budget is spent; the summary (best elite on validation, scored on test) and the
    last elite. first, if given, is member 0 of the founders (the net the other methods start from)."""
    layout, d, activation = tracker.layout, tracker.data, tracker.activation
    if cfg.crossover_mode not in CROSSOVER_MODES:
        raise ValueError(f"unknown crossover_mode {cfg.crossover_mode!r}")
    if cfg.offspring and (cfg.crossover_mode != "uniform" or cfg.mutation_rate < 1):
        raise ValueError("crossover_mode=midpoint and mutation_rate < 1 need offspring=0 (cheap children cross whole "
                         "hidden units and mutate every gene)")
    if cfg.layer1 not in LAYER1:
        raise ValueError(f"unknown layer1 {cfg.layer1!r}")
    if cfg.layer1 == "sparse" and (len(layout.sizes) != 3 or cfg.offspring):
        raise ValueError("layer1=sparse needs one hidden layer and offspring=0")
    if cfg.offspring and len(layout.sizes) == 3:
        from . import lrga

        return lrga.train(cfg, tracker, rng, first, rest_factors(layout, cfg.layer_sigma))
    table = NoiseTable(cfg.noise_table, rng)
    pop = init_genomes(layout, cfg.population, activation, rng)  # (P, n_params)
    if first is not None:
        pop[0] = first
    w1, rest = kernels.split_population(layout, pop)  # (n_in, P*H1), (P, n_rest)
    spare = (np.empty_like(w1), np.empty_like(rest))
    factors = rest_factors(layout, cfg.layer_sigma)
    sig = np.full(cfg.population, cfg.sigma, np.float32)  # (P,)
    loss = np.empty(cfg.population, np.float64)
    n_train = d.x_train.shape[0]
    y_train = d.y_train.astype(np.int64)
    tracker.evaluate(pop[0])
    del pop
    images = kernels.csr(d.x_train) if sparse_layer1(cfg, layout, d.x_train) else None
    while True:
        n_batch = tracker.batch(cfg.batch, cfg.batch_end)
        idx = rng.integers(0, n_train, size=n_batch)
        batch = (images, idx) if images is not None else d.x_train[idx]
        kernels.population_loss(layout, w1, rest, batch, y_train[idx], activation, out=loss)
        fitness = -loss  # (P,)
        b = int(np.argmax(fitness))
        if tracker.step(cfg.population * n_batch, lambda w1=w1, rest=rest, b=b: kernels.member(w1, rest, b)):
            break
        scale = 1.0 - cfg.anneal * min(1.0, tracker.progress())
        sig = next_generation((w1, rest), sig, fitness, cfg, table, factors, rng, scale, spare)
        (w1, rest), spare = spare, (w1, rest)
    best = kernels.member(w1, rest, b)
    out = tracker.finish(best)
    out["final_sigma_median"] = float(np.median(sig))
    out["mode"] = "generational"
    out["layer1"] = "sparse" if images is not None else "dense"
    return out, best
