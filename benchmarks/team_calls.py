"""The team step against one thread in one process, by the length of each run() call (a warm world, turns of
1.5 s each, median of 5 rounds):

    python benchmarks/team_calls.py [--agents 50] [--steps 4000 50000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neuroevo.sim import make


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--steps", type=int, nargs="+", default=[4000, 50000], help="steps per run() call")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    for k in args.steps:
        sims = {}
        for threads in (1, 2):
            s = make("edges", seed=1, agents=args.agents)
            s.set_threads(threads)
            s.run(20000)
            sims[threads] = s
        us: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.rounds):
            for threads, s in sims.items():
                t, m = time.perf_counter(), 0
                while time.perf_counter() - t < 1.5:
                    s.run(k)
                    m += k
                us[threads].append((time.perf_counter() - t) / m * 1e6)
        ratio = np.median(np.array(us[1]) / np.array(us[2]))
        print(f"{args.agents} agents, {k} steps a call: one thread {np.median(us[1]):.2f} us a step, team step "
              f"{np.median(us[2]):.2f} us: {ratio:.2f}x", flush=True)


if __name__ == "__main__":
    main()
