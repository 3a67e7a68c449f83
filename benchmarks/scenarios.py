"""Does every shipped scenario learn? Its own death cause per minute, first 3 vs last 3 minutes, over many seeds.

    NUMBA_NUM_THREADS=1 python benchmarks/scenarios.py [--seeds 10] [--minutes 20] [scenario ...]

Each run is what `neuroevo run SCENARIO --seed S --minutes 20` does (50 agents, headless). A seed passes when the
mean deaths per minute of the scenario's own cause over the last 3 minutes is at most a third of that over the
first 3. Runs are bit-identical with any thread count; one thread is fastest at 50 agents on a busy machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neuroevo.observers import deaths_per_minute, run_minutes
from neuroevo.scenario import load_scenario
from neuroevo.sim import make

OWN_CAUSE = {
    "edges": "edge", "cursor": "cursor", "icons": "icon", "crowd": "crowd", "teams": "team",
    "raw_distance": "cursor", "sweeper": "icon",
}


def run(name: str, seed: int, minutes: int) -> list[dict]:
    cls = load_scenario(name)
    return run_minutes(make(cls, seed=seed), minutes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--minutes", type=int, default=20)
    ap.add_argument("scenarios", nargs="*", default=list(OWN_CAUSE))
    args = ap.parse_args()
    seeds = range(1, args.seeds + 1)
    m = args.minutes
    print(f"## own death cause per minute, minutes 1-3 vs {m - 2}-{m}, {m} simulated minutes, seeds 1..{seeds[-1]}\n")
    print("| scenario | cause | seeds with last/first <= 1/3 | first 3 min (mean/min) | last 3 min (mean/min) | "
          "ratio (mean over seeds) | other deaths, last 3 min (mean/min) | wall s/run |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.scenarios:
        cause = OWN_CAUSE[name]
        ok, first, last, ratios, other, walls = 0, [], [], [], [], []
        for seed in seeds:
            t0 = time.perf_counter()
            rows = run(name, seed, m)
            walls.append(time.perf_counter() - t0)
            d = deaths_per_minute(rows, cause)
            f, lt = d[:3].mean(), d[-3:].mean()
            ok += lt <= f / 3
            first.append(f)
            last.append(lt)
            ratios.append(lt / f if f > 0 else np.nan)
            other.append(np.mean([sum(r["deaths"].values()) - r["deaths"].get(cause, 0) for r in rows[-3:]]))
        print(f"| {name} | {cause} | {ok}/{len(first)} | {np.mean(first):.1f} | {np.mean(last):.1f} | "
              f"{np.nanmean(ratios):.2f} | {np.mean(other):.1f} | {np.mean(walls):.1f} |", flush=True)


if __name__ == "__main__":
    main()
