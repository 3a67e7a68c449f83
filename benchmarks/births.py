"""What a birth costs: steady-state refills (selection, child, spawn placement) timed by calling births() directly.

    python benchmarks/births.py [--agents 1000 10000] [--scenarios edges icons crowd] [--births 1 10 100]

For each scenario and population size, a world is run for 10 sim-seconds, then k living agents are marked dead and
births() refills them, again and again (one thread). A call with no dead slots gives the fixed cost of calling it
from Python (unboxing the bundles); what is above it is the compiled work: the parent selection scans the population
once per step with births (O(N)), each child costs a copy, its mutation and its placement (icons and, with contact
deaths, the neighbour grid decide where it may appear). Every size keeps the default 1280 x 720 px world: crowd at
40,000 agents there is a wall-to-wall jam (its warm-up alone takes minutes).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from neuroevo.births import births  # noqa: E402
from neuroevo.grid import grid_build  # noqa: E402
from neuroevo.sim import make  # noqa: E402
from neuroevo.step import Brains, scratch  # noqa: E402


def per_call(sim, k: int, calls: int, rounds: int, rng: np.random.Generator) -> float:
    """Seconds per births() call refilling k slots (best of `rounds`)."""
    w, p = sim.state, sim.params
    b = Brains(sim.genomes, sim.hof, sim.hof_fit, *sim.layout.arrays())
    scr = scratch(w.pos, sim.genomes.shape[1], p)

    def prepare() -> None:
        if k:
            dead = rng.choice(np.nonzero(w.alive)[0], k, replace=False)
            w.alive[dead] = False
            scr.dead[:k] = dead
        scr.fitness[:] = w.age
        if p.use_grid:
            scr.pos0[:, :] = w.pos
            grid_build(scr.pos0, w.alive, w.team, p, scr.gstart, scr.gitems, scr.gfill, scr.gxy, scr.gteam)

    def one() -> float:
        prepare()
        t0 = time.perf_counter()
        births(w, b, sim.icons, scr, k, p, sim.rng, sim.species)
        return time.perf_counter() - t0

    one()  # compiled
    return min(sum(one() for _ in range(calls)) / calls for _ in range(rounds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--scenarios", nargs="+", default=["edges", "icons", "crowd"])
    ap.add_argument("--births", type=int, nargs="+", default=[1, 10, 100])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if min(args.agents) < 1 or min(args.births) < 1 or max(args.births) >= min(args.agents):
        ap.error("--agents must be >= 1 and every --births below the smallest --agents")
    rng = np.random.default_rng(1)
    for name in args.scenarios:
        for n in args.agents:
            sim = make(name, seed=1, overrides={"world.agents": n})
            sim.set_threads(1)
            sim.run(600)
            base = per_call(sim, 0, args.calls, args.rounds, rng)
            parts = []
            for k in args.births:
                t = per_call(sim, k, args.calls, args.rounds, rng) - base
                parts.append(f"{k} births {t * 1e6:7.1f} us ({t / k * 1e6:5.2f} each)")
            print(f"{name:>6} {n:>6} agents: call {base * 1e6:5.1f} us | " + " | ".join(parts), flush=True)


if __name__ == "__main__":
    main()
