"""ES: OpenAI-style evolution strategy - antithetic Gaussian perturbations, centred ranks, Adam on the mean.

The strong neuroevolution baseline: where the GA keeps the best few members, ES turns every member's score into a
gradient estimate of the smoothed objective and moves one net along it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backprop import Adam
from .budget import Tracker
from .nets import NoiseTable, cross_entropy, forward_population


@dataclass(frozen=True)
class ESConfig:
    pairs: int = 400  # antithetic pairs per generation (population = 2 * pairs); see README (50 pairs: 92.8%)
    batch: int = 512  # images in the shared fitness minibatch
    batch_end: int = 0  # > batch: the batch grows linearly from batch to batch_end over the budget
    sigma: float = 0.02  # perturbation scale
    lr: float = 0.01  # Adam step size on the mean (at the start; see lr_decay)
    lr_decay: bool = True  # step size falls linearly to 0 over the budget (the estimate's noise sets a floor)
    weight_decay: float = 0.0  # L2 coefficient added to the estimated gradient
    noise_table: int = 1 << 24  # floats in the noise table


def centred_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks of x scaled to [-0.5, 0.5] (ties broken by order): robust to the scale and outliers of fitness."""
    r = np.empty(x.size, np.float64)
    r[np.argsort(x, kind="stable")] = np.arange(x.size)
    return r / max(1, x.size - 1) - 0.5


def train(genome: np.ndarray, cfg: ESConfig, tracker: Tracker, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """Move the mean from genome until the tracker's budget is spent; summary and final mean."""
    layout, d, activation = tracker.layout, tracker.data, tracker.activation
    table = NoiseTable(cfg.noise_table, rng)
    windows = np.lib.stride_tricks.sliding_window_view(table.table, layout.n_params)
    theta = np.array(genome, dtype=np.float32, copy=True)
    opt = Adam(theta.size, cfg.lr)
    n_train, m = d.x_train.shape[0], cfg.pairs
    pop = np.empty((2 * m, theta.size), np.float32)
    sigma = np.float32(cfg.sigma)
    tracker.evaluate(theta)
    while True:
        eps = windows[table.offsets(m, theta.size, rng)]  # (m, n_params) copy
        np.multiply(eps, sigma, out=pop[:m])
        np.negative(pop[:m], out=pop[m:])
        pop += theta
        n_batch = tracker.batch(cfg.batch, cfg.batch_end)
        idx = rng.integers(0, n_train, size=n_batch)
        fitness = -cross_entropy(forward_population(layout, pop, d.x_train[idx], activation), d.y_train[idx])
        r = centred_ranks(fitness)
        w = (r[:m] - r[m:]).astype(np.float32)  # (m,)
        grad = (w @ eps) / np.float32(m * cfg.sigma)  # ascent direction estimate (n_params,)
        if cfg.weight_decay:
            grad -= np.float32(cfg.weight_decay) * theta
        if cfg.lr_decay:
            opt.lr = cfg.lr * max(0.0, 1.0 - tracker.progress())
        opt.update(theta, -grad)
        if tracker.step(2 * m * n_batch, lambda: theta):
            break
    out = tracker.finish(theta)
    return out, theta
