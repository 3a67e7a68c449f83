"""The team step in windows against one thread, seed by seed: whole runs from a new world, side by side in one process.

    python benchmarks/windows.py [--scenario edges] [--agents 50] [--minutes 30] [--seeds 10] [--first-seed 1]

For each seed the same run (a new world, --minutes sim-minutes, in calls as `neuroevo run` makes them: a quarter
sim-minute, doubled while a call is short) is timed on the serial step (`set_threads(1)`) and on the team step
(`set_threads(2)`), in turns (the order alternates from seed to seed, so a drift of the machine's speed falls on
both). Both must end bit-identical (the world's arrays are compared); the team step's windows are counted
(`teamstep.T_WINDOWS`). Prints each seed's ratio, then the median, a 95% interval of the median (bootstrap) and
the worst seed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neuroevo.cli_run import CALL_SECONDS, MAX_CALL_MINUTES
from neuroevo.sim import make
from neuroevo.teamstep import T_WINDOWS


def run(scenario: str, seed: int, agents: int, minutes: float, threads: int) -> tuple[float, bytes, int, int]:
    sim = make(scenario, seed=seed, agents=agents)
    sim.set_threads(threads)
    steps = int(round(minutes * 60 / sim.settings.world.dt))
    per_minute = int(round(60.0 / sim.settings.world.dt))
    chunk = max(1, per_minute // 4)
    sim.run(1)  # compiled, and the helpers started
    t = time.perf_counter()
    done = 1
    while done < steps:
        m = min(chunk, steps - done)
        t_call = time.perf_counter()
        sim.run(m)
        if time.perf_counter() - t_call < CALL_SECONDS / 2:  # as cli_run
            chunk = min(2 * chunk, MAX_CALL_MINUTES * per_minute)
        done += m
    seconds = time.perf_counter() - t
    st = sim.state
    digest = b"".join(np.ascontiguousarray(a).tobytes() for a in (sim.genomes, st.pos, st.heading, st.age,
                                                                   st.alive, st.counters))
    windows = int(sim._scr.team[T_WINDOWS]) if threads > 1 else 0
    return seconds, digest, windows, int(st.counters[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="edges")
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=1)
    args = ap.parse_args()
    run(args.scenario, 0, args.agents, 0.05, 1)
    run(args.scenario, 0, args.agents, 0.05, 2)
    ratios = []
    print(f"{args.scenario}, {args.agents} agents, {args.minutes:g} sim-minutes from a new world, team step (2 threads)"
          " against one thread:")
    for k, seed in enumerate(range(args.first_seed, args.first_seed + args.seeds)):
        order = (1, 2) if k % 2 == 0 else (2, 1)
        out = {th: run(args.scenario, seed, args.agents, args.minutes, th) for th in order}
        if out[1][1] != out[2][1]:
            raise SystemExit(f"seed {seed}: the team step's world differs from the serial step's")
        r = out[1][0] / out[2][0]
        ratios.append(r)
        print(f"  seed {seed:3d}: {r:5.2f}x  (one thread {out[1][0]:6.2f} s, team {out[2][0]:6.2f} s; "
              f"{out[2][3]} births, {out[2][2]} windows)")
    a = np.array(ratios)
    rng = np.random.default_rng(0)
    boot = np.median(rng.choice(a, (10_000, a.size)), axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    print(f"median {np.median(a):.2f}x (95% interval {lo:.2f}-{hi:.2f}), worst seed {a.min():.2f}x, "
          f"best {a.max():.2f}x; every run bit-identical to its serial twin")


if __name__ == "__main__":
    main()
