"""This checkout against an earlier commit, side by side in one run: cold compile time and agent-steps per second.

    python benchmarks/versions.py --against e849361 [--agents 50 1000 10000] [--seconds 3] [--rounds 3]

The earlier commit is checked out into a temporary git worktree; each measurement runs in a fresh process with that
tree first on sys.path, alternating between the two trees round by round so background load hits both alike. Cold
compile: a fresh process with an empty numba cache builds an edges world and compiles its step (serial and parallel
kernels). Throughput: the edges world at each size, many steps per call, best of the rounds (both thread paths as
the run would choose them). Ratios are new / old.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

# Runs inside the measured tree; prints JSON. Works with both the make() API and the older Simulation(settings).
PROBE = r"""
import json, os, sys, time
mode, agents, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
t0 = time.perf_counter()
import numpy as np
from neuroevo.scenario import load_scenario
from neuroevo.sim import Simulation
cls = load_scenario("edges")
sim = Simulation(cls.settings({"world.agents": agents}), seed=1, scenario="edges", hooks=cls())
if mode == "compile":
    sim.run(0)
    par = Simulation(cls.settings({"world.agents": 64}), seed=1, scenario="edges", hooks=cls())
    par.run(1)
    sim.run(1)
    print(json.dumps({"seconds": time.perf_counter() - t0}))
else:
    steps = max(1, int(200_000 / agents))
    sim.run(steps)
    best = 0.0
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t = time.perf_counter()
        sim.run(steps)
        best = max(best, agents * steps / (time.perf_counter() - t))
    print(json.dumps({"agent_steps_per_s": best}))
"""


def probe(tree: Path, args: list[str], cache: str | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    out = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, cwd=tree, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", required=True, help="the earlier commit (hash or ref)")
    ap.add_argument("--agents", type=int, nargs="+", default=[50, 1000, 10000])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compile-rounds", type=int, default=1, help="cold compiles per tree (each takes minutes)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(old), a.against], check=True,
                       capture_output=True)
        try:
            trees = {"old": old, "new": HERE}
            caches = {k: str(Path(tmp) / f"cache-{k}") for k in trees}
            comp: dict[str, list[float]] = {k: [] for k in trees}
            for r in range(a.compile_rounds):
                for k, tree in trees.items():
                    cold = str(Path(tmp) / f"cold-{k}-{r}")
                    comp[k].append(probe(tree, ["compile", "50", "0"], cold)["seconds"])
            speed: dict[str, dict[int, float]] = {k: {} for k in trees}
            for k, tree in trees.items():  # warm each tree's own cache once
                probe(tree, ["compile", "50", "0"], caches[k])
            for _ in range(a.rounds):
                for n in a.agents:
                    for k, tree in trees.items():
                        v = probe(tree, ["speed", str(n), str(a.seconds)], caches[k])["agent_steps_per_s"]
                        speed[k][n] = max(speed[k].get(n, 0.0), v)
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(old)], capture_output=True)
    print(f"# old = {a.against}, new = this checkout; {os.cpu_count()} cpus; best of {a.rounds} rounds")
    print("| measure | old | new | new / old |")
    print("|---|---|---|---|")
    co, cn = min(comp["old"]), min(comp["new"])
    print(f"| cold compile, s | {co:.1f} | {cn:.1f} | {cn / co:.2f} |")
    for n in a.agents:
        o, w = speed["old"][n], speed["new"][n]
        print(f"| {n:,} agents, M agent-steps/s | {o / 1e6:.2f} | {w / 1e6:.2f} | {w / o:.2f} |")


if __name__ == "__main__":
    main()
