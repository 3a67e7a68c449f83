"""GA generation time on MNIST-sized nets against its FLOP lower bound at this machine's measured matmul rate.

First the generational GA (the default, ga.offspring=0), then the GA with cheap children (mu parents + lambda
cheap children, ga.offspring=1000) against its own.

A generation = the minibatch, population forward and cross-entropy, selection, crossover and mutation. Its FLOP
lower bound is population x batch x (2 x weights of the net) at the best float32 matmul rate numpy reaches here,
measured in the same run before and after the generations (a large square product and the generation's own
layer-1 product shape; the best of the four). The generational GA is timed both ways of its layer-1 product
(ga.layer1: dense, by BLAS; sparse, over nonzero pixels only, what auto takes on MNIST), turn by turn, on the same
images: MNIST's training images with --data, else random images with MNIST's share of nonzero pixels (19%).
    python benchmarks/mnist_throughput.py [--population 50] [--batch 256] [--hidden 32] [--generations 300]
        [--data DIR] [--layer1 dense sparse]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time

import numpy as np

from neuroevo.mnist import ga, kernels
from neuroevo.mnist.nets import NoiseTable, init_genomes, make_layout


def matmul_rate(m: int, k: int, n: int, seconds: float = 1.5, transposed: bool = False) -> float:
    """GFLOP/s of a float32 (m, k) @ (k, n) product at its median time over repeated timings (transposed: of
    (n, k) @ (k, m) written as b.T @ a.T, the form the GA's layer-1 product takes).

    The median, like the generation time below: on a machine shared with other jobs the fastest of many timings
    reflects a quiet moment, not the rate a long run sees.
    """
    rng = np.random.default_rng(0)
    a = rng.random((m, k), dtype=np.float32)
    b = rng.random((k, n), dtype=np.float32)
    product = (lambda: b.T @ a.T) if transposed else (lambda: a @ b)
    product()
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 5:
        t = time.perf_counter()
        product()
        times.append(time.perf_counter() - t)
    return 2.0 * m * k * n / float(np.median(times)) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=ga.GAConfig.population)
    ap.add_argument("--batch", type=int, default=ga.GAConfig.batch)
    ap.add_argument("--hidden", type=int, nargs="+", default=[32])
    ap.add_argument("--generations", type=int, default=300)
    ap.add_argument("--layer1", nargs="+", choices=["dense", "sparse"],
                    help="ways of the layer-1 product to time, turn by turn (default: both; sparse takes one hidden "
                         "layer)")
    ap.add_argument("--data", help="MNIST folder: time on its training images (default: random images, 19%% nonzero)")
    ap.add_argument("--offspring", type=int, default=1000, help="children of the cheap-children GA (0: skip it)")
    args = ap.parse_args()
    if args.layer1 is None:
        args.layer1 = ["dense", "sparse"] if len(args.hidden) == 1 else ["dense"]
    if len(args.hidden) > 1 and "sparse" in args.layer1:
        ap.error("--layer1 sparse takes one hidden layer")
    if args.generations < 10:
        ap.error("--generations must be at least 10")
    n_pop, n_batch = args.population, args.batch
    layout = make_layout(784, tuple(args.hidden), 10)
    n_weights = sum(a * b for a, b in zip(layout.sizes[:-1], layout.sizes[1:]))
    flops = 2.0 * n_pop * n_batch * n_weights

    rate_square = matmul_rate(2048, 2048, 2048)
    shape = (n_batch, 784, n_pop * args.hidden[0])
    rate_shape = max(matmul_rate(*shape), matmul_rate(*shape, transposed=True))

    cfg = ga.GAConfig(population=n_pop, batch=n_batch, offspring=0)
    ga.warm_up()
    rng = np.random.default_rng(0)
    if args.data:
        from neuroevo.mnist.data import load

        d = load(args.data)
        x_all, y_all = d.x_train, d.y_train
    else:
        x_all = rng.random((20000, 784), dtype=np.float32) * (rng.random((20000, 784)) < 0.19)
        y_all = rng.integers(0, 10, 20000)
    runs = [Generations(layout, dataclasses.replace(cfg, layer1=way), x_all, y_all) for way in args.layer1]
    for run in runs:  # warm caches first
        for _ in range(20):
            run.generation()
    for _ in range(0, args.generations, 10):  # turns of 10 generations, the first of each turn not timed (the other
        for run in runs:  # run's data filled the caches), so that a busy moment hits each run alike
            for i in range(11):
                run.generation(timed=i > 0)
    # the rates again after the generations: the bound takes the best of both (a busy moment during one
    # measurement would otherwise lower the bound's rate and flatter the ratio)
    rate_square = max(rate_square, matmul_rate(2048, 2048, 2048))
    rate_shape = max(rate_shape, matmul_rate(*shape), matmul_rate(*shape, transposed=True))
    rate = max(rate_square, rate_shape)
    bound = flops / (rate * 1e9)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"# {platform.machine()}, {os.cpu_count()} cpus, numpy {np.__version__}, OPENBLAS_NUM_THREADS={threads}")
    print(f"matmul float32: {rate_square:.1f} GFLOP/s (2048^3), {rate_shape:.1f} GFLOP/s "
          f"({n_batch}x784 @ 784x{n_pop * args.hidden[0]}, the layer-1 product, either way round)")
    print(f"net {'-'.join(map(str, layout.sizes))}, population {n_pop}, batch {n_batch}: "
          f"{flops / 1e9:.3f} GFLOP per generation -> lower bound {1e3 * bound:.2f} ms at {rate:.1f} GFLOP/s")
    print(f"images: {'MNIST training images' if args.data else 'random'}, "
          f"{np.count_nonzero(x_all) / x_all.size:.1%} of pixels nonzero")
    for run in runs:
        gen = float(np.median(run.times))
        print(f"layer-1 product {run.cfg.layer1}{' (nonzero pixels only)' * (run.cfg.layer1 == 'sparse')}:")
        print(f"generation: median {1e3 * gen:.2f} ms over {len(run.times)} (batch "
              f"{1e3 * np.mean(run.t_batch):.2f}, forward and cross-entropy {1e3 * np.mean(run.t_loss):.2f}, of which "
              f"the layer-1 product {1e3 * np.mean(run.t_product):.2f}, selection+crossover+mutation "
              f"{1e3 * np.mean(run.t_next):.2f} ms mean)")
        print(f"ratio to FLOP bound: {gen / bound:.2f}x   ({n_pop * n_batch / gen / 1e6:.2f} M image-forwards/s)")
    if len(args.hidden) == 1 and args.offspring > 0:
        cheap_children(layout, n_pop, args.offspring, n_batch, rate, args.generations)


class Generations:
    """The generational GA on images x_all, one generation per call, as ga.train runs it (at the fixed batch
    cfg.batch): the minibatch, the population's loss (kernels.population_loss, the layer-1 product by cfg.layer1),
    then ga.next_generation."""

    def __init__(self, layout, cfg: ga.GAConfig, x_all: np.ndarray, y_all: np.ndarray, seed: int = 1) -> None:
        self.layout, self.cfg = layout, cfg
        self.rng = np.random.default_rng(seed)
        self.table = NoiseTable(cfg.noise_table, self.rng)
        self.pop = kernels.split_population(layout, init_genomes(layout, cfg.population, "relu", self.rng))
        self.spare = (np.empty_like(self.pop[0]), np.empty_like(self.pop[1]))
        self.factors = ga.rest_factors(layout, cfg.layer_sigma)
        self.sig = np.full(cfg.population, cfg.sigma, np.float32)
        self.loss = np.zeros(cfg.population, np.float64)
        self.x_all, self.y_all = x_all, y_all.astype(np.int64)
        self.images = kernels.csr(x_all) if cfg.layer1 == "sparse" else None
        self.times, self.t_batch, self.t_loss, self.t_next, self.t_product = [], [], [], [], []

    def generation(self, timed: bool = False) -> None:
        t0 = time.perf_counter()
        idx = self.rng.integers(0, self.x_all.shape[0], self.cfg.batch)
        x = (self.images, idx) if self.images is not None else self.x_all[idx]
        y = self.y_all[idx]
        t1 = time.perf_counter()
        kernels.population_loss(self.layout, *self.pop, x, y, "relu", out=self.loss)
        t2 = time.perf_counter()
        self.sig = ga.next_generation(self.pop, self.sig, -self.loss, self.cfg, self.table, self.factors, self.rng,
                                      1.0, self.spare)
        self.pop, self.spare = self.spare, self.pop
        t3 = time.perf_counter()
        if timed:
            self.times.append(t3 - t0)
            self.t_batch.append(t1 - t0)
            self.t_loss.append(t2 - t1)
            self.t_next.append(t3 - t2)
            if len(self.times) % 10 == 0:  # the layer-1 product alone, now and then and off the clock (timed
                t = time.perf_counter()  # after a generation, as population_loss meets it)
                if self.images is not None:
                    zt = np.empty((self.pop[0].shape[1], idx.shape[0]), np.float32)
                    kernels.sparse_product(self.pop[0], self.images, idx, zt)
                else:
                    self.pop[0].T @ x.T
                self.t_product += [time.perf_counter() - t] * 10


def cheap_children(layout, mu: int, lam: int, n_batch: int, rate: float, generations: int) -> None:
    """The cheap-children GA's generation (mu parents + lam cheap children, lrga.py) against its own FLOP bound:
    the parents' layer-1 product, the children's X a product, and every candidate's rank-1 offset and output
    layer, at the same matmul rate."""
    from neuroevo.mnist import lrga

    n_in, h1, n_c = layout.sizes
    n_rest = layout.n_params - n_in * h1
    flops = 2.0 * n_batch * (mu * n_in * h1 + lam * n_in + (mu + lam) * (h1 + h1 * n_c))
    cfg = ga.GAConfig(population=mu, batch=n_batch, offspring=lam)
    rng = np.random.default_rng(2)
    table = NoiseTable(cfg.noise_table, rng)
    windows = np.lib.stride_tricks.sliding_window_view(table.table, n_in)
    w1, rest = kernels.split_population(layout, init_genomes(layout, mu, "relu", rng))
    spare = (np.empty_like(w1), np.empty_like(rest))
    noise = kernels.Noise(table.table, ga.rest_factors(layout, cfg.layer_sigma))
    x_all = rng.random((20000, n_in), dtype=np.float32)
    y_all = rng.integers(0, 10, 20000)
    loss = np.empty(mu + lam)
    fitness = np.zeros(mu)
    me = np.arange(mu)
    times = []
    for g in range(generations + 20):
        t0 = time.perf_counter()
        p, q = ga.select_parents(fitness, lam, cfg, rng), ga.select_parents(fitness, lam, cfg, rng)
        off_n, off_c = table.offsets(lam, n_in + h1 + n_rest, rng), table.offsets(lam, h1, rng)
        src, mate = np.concatenate([me, p]), np.concatenate([me, q])
        cross = np.concatenate([np.zeros(mu, np.bool_), rng.random(lam) < cfg.crossover])
        step = np.concatenate([np.zeros(mu, np.float32), np.full(lam, cfg.sigma, np.float32)])
        offn, offc = np.concatenate([np.zeros(mu, np.int64), off_n]), np.concatenate([np.zeros(mu, np.int64), off_c])
        idx = rng.integers(0, 20000, n_batch)
        x = x_all[idx]
        ut = np.zeros((mu + lam, n_batch), np.float32)
        ut[mu:] = windows[off_n] @ x.T
        brood = kernels.Brood(src, mate, cross, step, offn, offc)
        lrga.child_losses(w1.T @ x.T, ut, rest, brood, noise, n_in, 0, y_all[idx], loss)
        keep = np.argsort(loss, kind="stable")[:mu]
        lrga.write_children((w1, rest), spare, brood.take(keep), noise)
        (w1, rest), spare = spare, (w1, rest)
        fitness = -loss[keep]
        if g >= 20:
            times.append(time.perf_counter() - t0)
    gen = float(np.median(times))
    bound = flops / (rate * 1e9)
    print(f"cheap-children GA ({mu} parents + {lam} cheap children, lrga.py): {flops / 1e9:.3f} GFLOP per generation "
          f"-> lower bound {1e3 * bound:.2f} ms; median {1e3 * gen:.2f} ms; ratio {gen / bound:.2f}x   "
          f"({(mu + lam) * n_batch / gen / 1e6:.2f} M candidate-image evaluations/s)")


if __name__ == "__main__":
    main()
