"""Learning claims over many seeds, printed as markdown tables (the same runs `neuroevo run` does).

    python benchmarks/learning.py [--seeds 10]

edges:  first minute with <= 1 edge death, edge deaths in minute 5 and summed over minutes 1-5, for 1/d and raw.
cursor: hunter kills per minute over minutes 1-3 vs 16-20 (ratio; the target is <= 1/3), for 1/d and raw.
"""

from __future__ import annotations

import argparse

import numpy as np

from neuroevo.observers import deaths_per_minute, run_minutes
from neuroevo.sim import make


def run(scenario: str, seed: int, minutes: int, overrides: dict) -> list[dict]:
    return run_minutes(make(scenario, seed=seed, overrides=overrides), minutes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    seeds = range(1, ap.parse_args().seeds + 1)
    print("## edges, 10 simulated minutes, seeds", f"1..{seeds[-1]}\n")
    print("| encoding | seeds with <= 1 edge death/min by minute 5 | first such minute (median) | "
          "edge deaths in minute 5 (mean) | edge deaths, minutes 1-5 (mean) |")
    print("|---|---|---|---|---|")
    for enc in ("inverse", "raw"):
        firsts, m5, tot = [], [], []
        for seed in seeds:
            e = deaths_per_minute(run("edges", seed, 10, {"encoding": enc}), "edge")
            firsts.append(next((i + 1 for i, x in enumerate(e) if x <= 1), 99))
            m5.append(e[4])
            tot.append(e[:5].sum())
        print(f"| {enc} | {sum(f <= 5 for f in firsts)}/{len(firsts)} | {np.median(firsts):.0f} | "
              f"{np.mean(m5):.1f} | {np.mean(tot):.1f} |", flush=True)
    print("\n## cursor (hunter), 20 simulated minutes\n")
    print("| encoding | seeds with late/early <= 1/3 | kills/min 1-3 (mean) | kills/min 16-20 (mean) | "
          "edge deaths/min 16-20 (mean) |")
    print("|---|---|---|---|---|")
    for enc in ("inverse", "raw"):
        ok, early, late, edge = 0, [], [], []
        for seed in seeds:
            rows = run("cursor", seed, 20, {"encoding": enc})
            c = deaths_per_minute(rows, "cursor")
            e, lt = c[:3].mean(), c[15:20].mean()
            ok += lt <= e / 3
            early.append(e)
            late.append(lt)
            edge.append(deaths_per_minute(rows, "edge")[15:20].mean())
        print(f"| {enc} | {ok}/{len(early)} | {np.mean(early):.1f} | {np.mean(late):.1f} | {np.mean(edge):.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
