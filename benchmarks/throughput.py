"""Agent-steps per second of the whole compiled step against a plain numpy step, side by side in one run.

The whole step: sensors, forward pass, physics, hazards, and births (selection + copy + mutation) of the dead.
    python benchmarks/throughput.py [--agents 50 1000 10000] [--seconds 3]

With --scenarios, compares scenarios instead (compiled only), e.g. the neighbour grid of crowd against edges:
    python benchmarks/throughput.py --scenarios edges crowd --agents 10000
Every scenario runs in the same world, scaled so that its area per agent is that of 50 agents in 1280 x 720 px
(at the default size 10,000 agents could not move without touching); measurements alternate between the scenarios
(--rounds of them) and each keeps its best round, so background load hits them alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numba
import numpy as np

from neuroevo.config import make_params
from neuroevo.reference import forward_np, hazards_np, move_np, mutate_np, sense_np
from neuroevo.scenario import load_scenario
from neuroevo.sim import Simulation, make


def numpy_step(sim: Simulation, rng: np.random.Generator) -> None:
    """The same step written with numpy arrays only (no numba): the baseline."""
    st, p = sim.state, make_params(sim.settings)
    inputs = sense_np(st.pos, st.heading, st.speed, (0.0, 0.0, 0.0, 0.0), p)
    out = forward_np(sim.layout, sim.genomes, inputs)[-1]
    pos, h, v = move_np(st.pos, st.heading, st.speed, out, p)
    st.pos[:], st.heading[:], st.speed[:] = pos, h, v
    dead = np.nonzero(hazards_np(st.pos, (0.0, 0.0), False, p))[0]
    st.age += 1
    if dead.size:
        st.age[dead] = 0
        fit = st.age.astype(np.float64)
        fit[dead] = 0.0
        prob = fit / fit.sum() if fit.sum() > 0 else None
        parents = rng.choice(st.n, size=dead.size, p=prob)
        for d, par in zip(dead, parents):
            sim.genomes[d] = mutate_np(sim.genomes[par], p.mutation_rate, p.sigma, rng)
        m = p.spawn_margin
        st.pos[dead] = rng.uniform([m * p.width, m * p.height], [(1 - m) * p.width, (1 - m) * p.height],
                                   (dead.size, 2))
        st.heading[dead] = rng.uniform(-np.pi, np.pi, dead.size)
        st.speed[dead] = p.birth_speed


def measure(fn, seconds: float, steps_per_call: int) -> float:
    """Steps per second of fn(steps_per_call), run for about `seconds`."""
    fn(steps_per_call)  # warm up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn(steps_per_call)
        n += steps_per_call
    return n / (time.perf_counter() - t0)


def compare_scenarios(names: list[str], agents: list[int], seconds: float, rounds: int) -> None:
    """Compiled agent-steps/s of each scenario at each size, in a world scaled to 50-agent density."""
    for n in agents:
        scale = (n / 50) ** 0.5
        size = {"world.agents": n, "world.width": round(1280 * scale), "world.height": round(720 * scale)}
        sims = {}
        for name in names:
            cls = load_scenario(name)
            sims[name] = make(cls, seed=1, overrides=size)
            sims[name].run(600)  # past the first burst of deaths, like a real run
        best = dict.fromkeys(names, 0.0)
        calls = max(1, 200_000 // n)
        for _ in range(rounds):
            for name in names:
                best[name] = max(best[name], measure(sims[name].run, seconds / rounds, calls) * n)
        base = best[names[0]]
        layer = numba.threading_layer() if sims[names[0]].parallel else "serial kernel"
        print(f"agents {n:>6}, world {size['world.width']} x {size['world.height']} px, {layer}:")
        for name in names:
            print(f"  {name:>12}: {best[name] / 1e6:7.2f} M agent-steps/s | {names[0]} / {name} = "
                  f"{base / best[name]:.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, nargs="+", default=[50, 1000, 10000])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--scenarios", nargs="+", default=None, help="compare these scenarios (the first is the base)")
    ap.add_argument("--rounds", type=int, default=5, help="with --scenarios: alternating rounds")
    args = ap.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, numba {numba.__version__}, "
          f"threads {numba.get_num_threads()}")
    if args.scenarios:
        compare_scenarios(args.scenarios, args.agents, args.seconds, args.rounds)
        return
    settings = load_scenario("edges").settings()
    rows = []
    for n in args.agents:
        s = type(settings)(world=type(settings.world)(**{**settings.world.__dict__, "agents": n}),
                           brain=settings.brain, evolution=settings.evolution, cursor=settings.cursor)
        sim = make("edges", settings=s, seed=1)
        sim.run(600)  # past the first burst of deaths, like a real run
        calls = max(1, 200_000 // n)
        compiled = measure(sim.run, args.seconds, calls) * n
        ref = make("edges", settings=s, seed=1)
        rng = np.random.default_rng(1)
        baseline = measure(lambda k, ref=ref, rng=rng: [numpy_step(ref, rng) for _ in range(k)], args.seconds,
                           max(1, 2000 // n)) * n
        rows.append((n, compiled, baseline))
        layer = numba.threading_layer() if sim.parallel else "serial kernel"
        print(f"agents {n:>6}: compiled {compiled / 1e6:7.2f} M agent-steps/s | numpy {baseline / 1e6:6.3f} M | "
              f"ratio {compiled / baseline:6.1f}x | {layer}", flush=True)


if __name__ == "__main__":
    main()
