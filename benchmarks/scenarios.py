"""Does every shipped scenario learn? Its own death cause per minute, first 3 vs last 3 minutes, over many seeds.

    NUMBA_NUM_THREADS=1 python benchmarks/scenarios.py [--seeds 10] [--minutes 20] [--jobs 2] [--set K=V ...]
        [scenario ...]

Each run is what `neuroevo run SCENARIO --seed S --minutes 20` does (50 agents, headless). A seed passes when the
mean deaths per minute of the scenario's own cause over the last 3 minutes is at most a third of that over the
first 3. Runs are bit-identical with any thread count; one thread is fastest at 50 agents on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from neuroevo.observers import deaths_per_minute, run_minutes
from neuroevo.scenario import load_scenario
from neuroevo.sim import make

OWN_CAUSE = {
    "edges": "edge", "cursor": "cursor", "icons": "icon", "crowd": "crowd", "teams": "team",
    "raw_distance": "cursor", "sweeper": "icon",
}


def run(name: str, seed: int, minutes: int, overrides: dict[str, str] | None = None) -> list[dict]:
    cls = load_scenario(name)
    return run_minutes(make(cls, seed=seed, overrides=overrides), minutes)


def _job(job: tuple[str, int, int, dict[str, str]]) -> tuple[list[dict], float]:
    t0 = time.perf_counter()
    rows = run(*job)
    return rows, time.perf_counter() - t0


def _init() -> None:
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--minutes", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (one numba thread each)")
    ap.add_argument("--set", action="append", default=[], metavar="K=V", help="a setting for every run")
    ap.add_argument("scenarios", nargs="*", default=list(OWN_CAUSE))
    args = ap.parse_args()
    seeds = range(1, args.seeds + 1)
    m = args.minutes
    kv = dict(a.split("=", 1) for a in args.set)
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=_init) as ex:
        jobs = [(name, seed, m, kv) for name in args.scenarios for seed in seeds]
        results = dict(zip([(j[0], j[1]) for j in jobs], ex.map(_job, jobs)))
    print(f"## own death cause per minute, minutes 1-3 vs {m - 2}-{m}, {m} simulated minutes, seeds 1..{seeds[-1]}"
          f"{' with ' + ', '.join(args.set) if args.set else ''}\n")
    print("| scenario | cause | seeds with last/first <= 1/3 | first 3 min (mean/min) | last 3 min (mean/min) | "
          "ratio (mean over seeds) | other deaths, last 3 min (mean/min) | wall s/run |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.scenarios:
        cause = OWN_CAUSE[name]
        ok, first, last, ratios, other, walls = 0, [], [], [], [], []
        for seed in seeds:
            rows, wall = results[(name, seed)]
            walls.append(wall)
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
