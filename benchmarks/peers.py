"""neuroevo's GA and ES beside the libraries people use instead (DEAP, PyGAD, evosax) on the same MNIST task.

Same net (784-32-10 relu, the same He-normal start), split (the last --val training images for validation, the
official test set scored once on the best-on-validation net), seed, wall-clock budget and thread count (one
BLAS/XLA thread, one process per method, methods one after another, the order reversed every other round so
background load hits them alike). Every method is scored by neuroevo.mnist.budget.Tracker, so validation time is
off the clock for all of them. Needs the `peers` extra: pip install -e ".[peers]".

    python benchmarks/peers.py --data ../shared/data/mnist --budget 120 --rounds 2 [--methods ga,es,deap,...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

# method -> (family, library label, settings in words)
METHODS = {
    "ga": ("GA", "neuroevo", "defaults: generational, 50 members, 2 elites, uniform crossover, self-adapted Gaussian "
           "mutation, batch 256 growing to 1024, layer-1 product over nonzero pixels (README)"),
    "ga_cheap": ("GA", "neuroevo", "50 parents + 1000 cheap children a generation (ga.offspring=1000), batch 256 "
                 "(ga.batch_end=0)"),
    "deap": ("GA", "DEAP", "numpy individuals, selTournament(3), 2 elites, varAnd: uniform crossover p=0.5, "
             "Gaussian mutation sigma 0.02 on every gene, population 50, batch 256"),
    "pygad": ("GA", "PyGAD", "batched fitness, tournament(3), keep_elitism 2, uniform crossover, Gaussian "
              "mutation sigma 0.02 (custom mutation callable), population 50, batch 256"),
    "es": ("ES", "neuroevo", "OpenAI-ES defaults: 400 antithetic pairs, sigma 0.02, Adam lr 0.01 decaying, batch 512"),
    "lres": ("ES", "neuroevo", "low-rank ES defaults: 1000 antithetic pairs, rank 1, sigma 0.02, Adam lr 0.005 "
             "decaying, batch 512 growing to 1536"),
    "openes": ("ES", "evosax", "Open_ES: population 800 (antithetic), std 0.02, optax Adam lr 0.01 decaying "
               "linearly over the budget, centred ranks, batch 512"),
    "snes": ("ES", "evosax", "SNES: population 800, std_init 0.02, default rates and weights, batch 512"),
    "pgpe": ("ES", "evosax", "PGPE + ClipUp (lr 0.01, max velocity 0.02; evosax defaults), population 800, "
             "std_init 0.02, centred ranks, batch 512"),
    "sepcma": ("ES", "evosax", "Sep_CMA_ES: population 800, std_init 0.02, default weights, batch 512"),
}
DEFAULT_METHODS = "ga,ga_cheap,deap,pygad,es,lres,openes,snes,pgpe,sepcma"
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


# ---- the workers: one method, one process ---------------------------------------------------------------------
def _setup(args):
    from neuroevo.mnist.budget import Tracker
    from neuroevo.mnist.data import load
    from neuroevo.mnist.nets import init_genomes, make_layout

    data = load(args.data, args.val)
    layout = make_layout(data.n_in, (32,), data.n_classes)
    g0 = init_genomes(layout, 1, "relu", np.random.default_rng(args.seed))[0]
    tracker = Tracker(layout, data, "relu", budget_seconds=args.budget, quiet=True)
    return data, layout, g0, tracker


def run_neuroevo(method: str, args) -> dict:
    from neuroevo.mnist import compare
    from neuroevo.mnist.data import load

    data = load(args.data, args.val)
    cfgs = compare.Configs()
    if method == "ga_cheap":
        method, cfgs = "ga", dataclasses.replace(cfgs, ga=dataclasses.replace(cfgs.ga, offspring=1000, batch_end=0))
    return compare.run_one(method, args.seed, data, (32,), "relu", args.budget, None, cfgs)


def run_deap(args) -> dict:
    """DEAP's numpy recipe (individuals subclass numpy.ndarray), its tournament selection and varAnd.

    DEAP's own cxUniform and mutGaussian loop over genes in Python (measured here: 3.3 ms per crossed pair and
    34 ms per mutated child of 25,450 genes, against ~20 ms for the whole population's forward pass), so the
    toolbox gets numpy versions of the same two operators, as DEAP's numpy page does for its crossover.
    """
    from deap import algorithms, base, creator, tools

    from neuroevo.mnist.nets import cross_entropy, forward, init_genomes

    data, layout, g0, tracker = _setup(args)
    rng = np.random.default_rng([args.seed, 10])
    creator.create("FitnessMax", base.Fitness, weights=(1.0,))
    creator.create("Individual", np.ndarray, fitness=creator.FitnessMax)

    def mate(a, b):  # uniform crossover, in place, as tools.cxUniform(indpb=0.5)
        swap = rng.random(a.size) < 0.5
        a[swap], b[swap] = b[swap], a[swap].copy()
        return a, b

    def mutate(ind):  # tools.mutGaussian(mu=0, sigma=0.02, indpb=1)
        ind += rng.normal(0.0, 0.02, ind.size).astype(np.float32)
        return (ind,)

    batch = {}

    def evaluate(ind):
        return (-float(cross_entropy(forward(layout, np.asarray(ind), batch["x"], "relu"), batch["y"])),)

    tb = base.Toolbox()
    tb.register("evaluate", evaluate)
    tb.register("mate", mate)
    tb.register("mutate", mutate)
    tb.register("select", tools.selTournament, tournsize=3)
    pop = [creator.Individual(g) for g in init_genomes(layout, 50, "relu", rng)]
    pop[0][:] = g0
    tracker.evaluate(g0)
    n_train = data.x_train.shape[0]
    while True:
        idx = rng.integers(0, n_train, 256)
        batch["x"], batch["y"] = data.x_train[idx], data.y_train[idx]
        for ind, fit in zip(pop, map(tb.evaluate, pop)):  # a new batch each generation: everyone is re-scored
            ind.fitness.values = fit
        best = tools.selBest(pop, 1)[0]
        if tracker.step(50 * 256, lambda b=best: np.asarray(b)):
            break
        elite = [tb.clone(i) for i in tools.selBest(pop, 2)]
        pop = algorithms.varAnd(tb.select(pop, 48), tb, cxpb=0.5, mutpb=1.0) + elite
    return tracker.finish(np.asarray(best))


def run_pygad(args) -> dict:
    """pygad.GA with a batched fitness function and a stop from on_generation when the budget is spent."""
    import pygad

    from neuroevo.mnist.nets import cross_entropy, forward_population, init_genomes

    data, layout, g0, tracker = _setup(args)
    rng = np.random.default_rng([args.seed, 11])
    n_train = data.x_train.shape[0]
    batch = {}

    def new_batch():
        idx = rng.integers(0, n_train, 256)
        batch["x"], batch["y"] = data.x_train[idx], data.y_train[idx]

    def fitness(ga, solutions, indices):
        pop = np.asarray(solutions, np.float32).reshape(len(indices), -1)
        return list(-cross_entropy(forward_population(layout, pop, batch["x"], "relu"), batch["y"]))

    def mutation(offspring, ga):  # Gaussian, sigma 0.02, every gene
        return offspring + rng.normal(0.0, 0.02, offspring.shape).astype(offspring.dtype)

    def on_generation(ga):
        best = ga.population[int(np.argmax(ga.last_generation_fitness))]
        stop = tracker.step(50 * 256, lambda: np.asarray(best, np.float32))
        new_batch()
        return "stop" if stop else None

    pop0 = init_genomes(layout, 50, "relu", rng)
    pop0[0] = g0
    tracker.evaluate(g0)
    new_batch()
    ga = pygad.GA(num_generations=10**9, num_parents_mating=48, fitness_func=fitness, fitness_batch_size=50,
                  initial_population=pop0, gene_type=np.float32, parent_selection_type="tournament", K_tournament=3,
                  keep_elitism=2, crossover_type="uniform", mutation_type=mutation, on_generation=on_generation,
                  random_seed=args.seed, suppress_warnings=True)
    ga.run()
    best = ga.population[int(np.argmax(ga.last_generation_fitness))]
    return tracker.finish(np.asarray(best, np.float32))


def run_evosax(kind: str, args) -> dict:
    """An evosax strategy on a pytree of the net's arrays; one jitted ask-evaluate-tell step per generation."""
    import jax
    import jax.numpy as jnp
    import optax
    from evosax.algorithms import PGPE, SNES, Open_ES, Sep_CMA_ES
    from evosax.core.optimizer import clipup

    data, layout, g0, tracker = _setup(args)
    (w1, b1), (w2, b2) = layout.split(g0)
    solution = {"w1": jnp.asarray(w1), "b1": jnp.asarray(b1), "w2": jnp.asarray(w2), "b2": jnp.asarray(b2)}
    pop_size, n_batch = 800, 512

    def loss(p, x, y):
        logits = jax.nn.relu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    pop_loss = jax.vmap(loss, in_axes=(0, None, None))
    if kind == "openes":
        es = Open_ES(pop_size, solution, optimizer=optax.inject_hyperparams(optax.adam)(learning_rate=0.01),
                     std_schedule=optax.constant_schedule(0.02))
        params = es.default_params
    elif kind == "pgpe":
        es = PGPE(pop_size, solution, optimizer=clipup(learning_rate=0.01, max_velocity=0.02))
        params = es.default_params.replace(std_init=0.02)
    elif kind == "snes":
        es = SNES(pop_size, solution)
        params = es.default_params.replace(std_init=0.02)
    else:
        es = Sep_CMA_ES(pop_size, solution)
        params = es.default_params.replace(std_init=0.02)

    @jax.jit
    def step(state, key, x, y, lr):
        k_ask, k_tell = jax.random.split(key)
        if kind == "openes":  # the step size falls linearly to 0 over the budget, as neuroevo's ES does
            o = state.opt_state
            state = state.replace(opt_state=o._replace(hyperparams={**o.hyperparams, "learning_rate": lr}))
        population, state = es.ask(k_ask, state, params)
        state, _ = es.tell(k_tell, population, pop_loss(population, x, y), state, params)  # evosax minimises
        return state

    def flat_mean(state):
        m = es.get_mean(state)
        return np.concatenate([np.asarray(m[k]).ravel() for k in ("w1", "b1", "w2", "b2")]).astype(np.float32)

    key = jax.random.key(args.seed)
    key, k = jax.random.split(key)
    state = es.init(k, solution, params)
    rng = np.random.default_rng([args.seed, 12])
    n_train = data.x_train.shape[0]
    idx = rng.integers(0, n_train, n_batch)
    jax.block_until_ready(step(state, key, data.x_train[idx], data.y_train[idx], 0.01))  # compile off the clock
    tracker._t0 = time.perf_counter()
    tracker._eval_time = 0.0
    tracker.evaluate(g0)
    while True:
        idx = rng.integers(0, n_train, n_batch)
        key, k = jax.random.split(key)
        lr = 0.01 * max(0.0, 1.0 - tracker.progress())
        state = jax.block_until_ready(step(state, k, data.x_train[idx], data.y_train[idx], lr))
        if tracker.step(pop_size * n_batch, lambda s=state: flat_mean(s)):
            break
    return tracker.finish(flat_mean(state))


def worker(args) -> None:
    t_wall, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    load0 = os.getloadavg()
    if args.worker in ("ga", "ga_cheap", "es", "lres"):
        out = run_neuroevo(args.worker, args)
    elif args.worker == "deap":
        out = run_deap(args)
    elif args.worker == "pygad":
        out = run_pygad(args)
    else:
        out = run_evosax(args.worker, args)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    out.pop("curve", None)
    out.update(method=args.worker, cpu_per_wall=round(cpu / (time.perf_counter() - t_wall), 2),
               load_before=list(load0), load_after=list(os.getloadavg()))
    tmp = Path(args.json + ".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(args.json)


# ---- the driver -------------------------------------------------------------------------------------------------
def versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "numba", "deap", "pygad", "evosax", "jax", "jaxlib", "optax"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def table(runs: list[dict], budget: float) -> str:
    by: dict[str, list[dict]] = {}
    for r in runs:
        by.setdefault(r["method"], []).append(r)
    ref = {fam: np.mean([x["test_accuracy"] for x in by[m]]) for m, (fam, lib, _) in METHODS.items()
           if m in by and lib == "neuroevo" and m in ("ga", "es")}
    ref_fps = {fam: np.mean([x["forwards"] / x["seconds"] for x in by[m]]) for m, (fam, lib, _) in METHODS.items()
               if m in by and lib == "neuroevo" and m in ("ga", "es")}
    lines = [f"{budget:g} s per run, one BLAS/XLA thread, runs per method: {max(len(v) for v in by.values())}",
             "", "| method | library | test accuracy (mean; per round) | image-forwards/s | generations | "
             "vs neuroevo's GA/OpenAI-ES: accuracy, speed | CPU/wall |", "|---|---|---|---|---|---|---|"]
    for m in METHODS:
        if m not in by:
            continue
        fam, lib, _ = METHODS[m]
        rs = by[m]
        acc = np.mean([x["test_accuracy"] for x in rs])
        fps = np.mean([x["forwards"] / x["seconds"] for x in rs])
        gens = np.mean([x["steps"] for x in rs])
        name = {"ga": "GA", "ga_cheap": "GA, cheap children", "es": "OpenAI-ES", "lres": "low-rank ES",
                "openes": "OpenAI-ES", "snes": "SNES",
                "pgpe": "PGPE + ClipUp", "sepcma": "Sep-CMA-ES", "deap": "GA", "pygad": "GA"}[m]
        vs = (f"{100 * (acc - ref[fam]):+.2f} pts, {fps / ref_fps[fam]:.2f}x" if fam in ref else "")
        per = ", ".join(f"{100 * x['test_accuracy']:.2f}" for x in rs)
        lines.append(f"| {name} | {lib} | {100 * acc:.2f}% ({per})"
                     f" | {fps / 1e6:.2f} M | {gens:.0f} | {vs} | "
                     f"{np.mean([x['cpu_per_wall'] for x in rs]):.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/mnist"))
    ap.add_argument("--budget", type=float, default=120.0, help="training seconds per run (default 120)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds; the method order is reversed every other round")
    ap.add_argument("--methods", default=DEFAULT_METHODS, help=f"comma-separated, of {','.join(METHODS)}")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--val", type=int, default=4000)
    ap.add_argument("--out", default="peers-results", help="folder for one JSON per run and table.md")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--json", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    methods = [m for m in args.methods.split(",") if m]
    bad = [m for m in methods if m not in METHODS]
    if bad or len(set(methods)) != len(methods):
        ap.error(f"--methods: unknown or repeated {bad or methods}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **ONE_THREAD}
    runs = []
    for rnd in range(args.rounds):
        order = methods if rnd % 2 == 0 else methods[::-1]
        for m in order:
            path = out / f"{m}-round{rnd + 1}.json"
            if not path.exists():
                cmd = [sys.executable, __file__, "--worker", m, "--json", str(path), "--data", args.data,
                       "--budget", str(args.budget), "--seed", str(args.seed), "--val", str(args.val)]
                print(f"round {rnd + 1}: {m} (load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
                subprocess.run(cmd, env=env, check=True)
            r = json.loads(path.read_text())
            r["round"] = rnd + 1
            runs.append(r)
            print(f"  {m}: test {100 * r['test_accuracy']:.2f}% in {r['steps']} generations, "
                  f"{r['forwards'] / r['seconds'] / 1e6:.2f} M image-forwards/s, load {r['load_before'][0]:.2f}",
                  file=sys.stderr, flush=True)
    v = versions()
    loads = [r["load_before"][0] for r in runs]
    text = (table(runs, args.budget) + f"\nversions: {', '.join(f'{k} {x}' for k, x in v.items() if x)}\n"
            f"load average (1 min) before each run: {min(loads):.2f} to {max(loads):.2f}\n")
    (out / "table.md").write_text(text)
    (out / "runs.json").write_text(json.dumps({"versions": v, "runs": runs}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
