"""GA generation time on MNIST-sized nets against its FLOP lower bound at this machine's measured matmul rate.

First the generational GA (the default, ga.offspring=0), then the GA with cheap children (mu parents + lambda
cheap children, ga.offspring=1000) against its own.

A generation = the minibatch gather, population forward and cross-entropy, selection, crossover and mutation. Its FLOP
lower bound is population x batch x (2 x weights of the net) at the best float32 matmul rate numpy reaches here,
measured in the same run before and after the generations (a large square product and the generation's own
layer-1 product shape; the best of the four).
    python benchmarks/mnist_throughput.py [--population 50] [--batch 256] [--hidden 32] [--generations 300]
"""

from __future__ import annotations

import argparse
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
    ap.add_argument("--offspring", type=int, default=1000, help="children of the cheap-children GA (0: skip it)")
    args = ap.parse_args()
    n_pop, n_batch = args.population, args.batch
    layout = make_layout(784, tuple(args.hidden), 10)
    n_weights = sum(a * b for a, b in zip(layout.sizes[:-1], layout.sizes[1:]))
    flops = 2.0 * n_pop * n_batch * n_weights

    rate_square = matmul_rate(2048, 2048, 2048)
    shape = (n_batch, 784, n_pop * args.hidden[0])
    rate_shape = max(matmul_rate(*shape), matmul_rate(*shape, transposed=True))

    cfg = ga.GAConfig(population=n_pop, batch=n_batch, offspring=0)
    rng = np.random.default_rng(1)
    ga.warm_up()
    table = NoiseTable(cfg.noise_table, rng)
    w1, rest = kernels.split_population(layout, init_genomes(layout, n_pop, "relu", rng))
    spare = (np.empty_like(w1), np.empty_like(rest))
    factors = ga.rest_factors(layout, cfg.layer_sigma)
    sig = np.full(n_pop, cfg.sigma, np.float32)
    loss = np.empty(n_pop, np.float64)
    x_all = rng.random((20000, 784), dtype=np.float32)
    y_all = rng.integers(0, 10, 20000)
    t_fwd = t_fit = t_next = 0.0
    times = []
    for g in range(args.generations + 20):
        t0 = time.perf_counter()
        idx = rng.integers(0, 20000, n_batch)
        x, y = x_all[idx], y_all[idx]
        t1 = time.perf_counter()
        z = w1.T @ x.T  # the layer-1 product alone, timed apart (population_loss below does it again)
        t2 = time.perf_counter()
        kernels.population_loss(layout, w1, rest, x, y, "relu", out=loss)
        t3 = time.perf_counter()
        sig = ga.next_generation((w1, rest), sig, -loss, cfg, table, factors, rng, 1.0, spare)
        (w1, rest), spare = spare, (w1, rest)
        t4 = time.perf_counter()
        del z
        if g >= 20:  # warm caches first
            gen = (t1 - t0) + (t3 - t2) + (t4 - t3)  # a generation: batch, loss (product included), next
            times.append(gen)
            t_fwd, t_fit, t_next = t_fwd + t2 - t1, t_fit + (t3 - t2) - (t2 - t1), t_next + t4 - t3
    n = len(times)
    gen = float(np.median(times))
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
    print(f"generation: median {1e3 * gen:.2f} ms over {n} (layer-1 product {1e3 * t_fwd / n:.2f}, rest of the "
          f"forward and cross-entropy {1e3 * t_fit / n:.2f}, selection+crossover+mutation {1e3 * t_next / n:.2f} "
          f"ms mean)")
    print(f"ratio to FLOP bound: {gen / bound:.2f}x   ({n_pop * n_batch / gen / 1e6:.2f} M image-forwards/s)")
    if len(args.hidden) == 1 and args.offspring > 0:
        cheap_children(layout, n_pop, args.offspring, n_batch, rate, args.generations)


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
