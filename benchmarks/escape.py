"""Can the agents escape a cursor by sight? Two measurements behind the README's "Do they see the cursor?".

    NUMBA_NUM_THREADS=1 python benchmarks/escape.py flee [--seeds 5] [--seconds 120]
    NUMBA_NUM_THREADS=1 python benchmarks/escape.py long [--seeds 10] [--minutes 120] [--set K=V ...]

flee  founders that fly fixed full-speed circles (`cursor` scenario, brain.init_bias=16, blind, evolution off),
      as they are and with a hand-set flight in every net: two hidden units, on when the cursor is near (its 1/d
      input above a threshold) on the left, resp. the right; the turn output pushed away from that side; full
      thrust. Cursor kills and edge deaths over the seeds, against the plain and the anticipating hunter
      (cursor.anticipates), for a few thresholds: does an escape by sight exist in this body?
long  the `cursor` scenario for --minutes (default: with the anticipating hunter; --set for more settings), cursor
      kills and edge deaths a minute in 10-minute blocks, mean over seeds 201.. : does anything learn in a long run?
Runs go to a pool of --jobs processes with one numba thread each (results do not depend on it).
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

THRESHOLDS = (0.1, 0.2, 0.33)  # 1/d input with inv_scale 20 px: the cursor within 200, 100, 60 px
HUNTERS = {"bot": {}, "anticipating": {"cursor.anticipates": True}}


def _counts(sim: Any) -> tuple[int, int]:
    from neuroevo.state import CURSOR, EDGE, K_DEATHS

    return int(sim.state.counters[K_DEATHS + CURSOR]), int(sim.state.counters[K_DEATHS + EDGE])


def flee_run(job: tuple[str, float | None, int, float]) -> tuple[str, float | None, int, int]:
    """One seed of circling founders (threshold None: as they are) -> (hunter, threshold, kills, edge deaths)."""
    from neuroevo.config import input_offsets
    from neuroevo.sim import make

    hunter, threshold, seed, seconds = job
    sim = make("cursor", seed=seed, overrides={"brain.init_bias": 16.0, "evolution.mode": "none",
                                               "evolution.replace": "none", **HUNTERS[hunter]})
    assert len(sim.layout.sizes) == 3 and sim.layout.sizes[2] == 2, "one hidden layer, outputs turn and thrust"
    if threshold is not None:
        c0 = input_offsets(sim.settings.brain)["cursor"][0]
        dist, left = c0, c0 + 2  # cursor block: 1/d, ahead, left, click coming
        k = 60.0
        for genome in sim.genomes:
            (w0, b0), (w1, b1) = sim.layout.split(genome)  # views into the genome: (n_in, hidden), (hidden, 2)
            for unit, side in ((0, 1.0), (1, -1.0)):  # unit 0: near and on the left; unit 1: near and on the right
                w0[dist, unit] = k
                w0[left, unit] = side * 0.2 * k
                b0[unit] = -k * (threshold + 0.05)
            w1[0, 0] = 30.0  # turn away from the side the cursor is on
            w1[1, 0] = -30.0
            b1[1] = 8.0  # full thrust
    sim.run(int(round(seconds / sim.settings.world.dt)))
    return (hunter, threshold, *_counts(sim))


def long_run(job: tuple[int, float, dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """One seed of the cursor scenario -> (cursor kills, edge deaths) a minute."""
    from neuroevo.observers import run_minutes
    from neuroevo.sim import make

    seed, minutes, kv = job
    rows = run_minutes(make("cursor", seed=seed, overrides=kv), int(minutes))
    return (np.array([r["deaths"].get("cursor", 0) for r in rows], float),
            np.array([r["deaths"].get("edge", 0) for r in rows], float))


def _init() -> None:
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("flee", "long"))
    ap.add_argument("--seeds", type=int, help="seeds 1.. (flee, default 5) or 201.. (long, default 10)")
    ap.add_argument("--seconds", type=float, default=120.0, help="flee: seconds per run")
    ap.add_argument("--minutes", type=int, default=120, help="long: minutes per run")
    ap.add_argument("--set", action="append", default=[], metavar="K=V", help="long: a setting for every run")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    bad = [kv for kv in args.set if "=" not in kv]
    if bad:
        ap.error(f"--set takes key=value, got {bad[0]!r}")
    if args.seeds is not None and args.seeds < 1 or not 0 < args.seconds < 1e6 or args.minutes < 1 or args.jobs < 1:
        ap.error("--seeds, --seconds, --minutes and --jobs must be positive (and --seconds finite)")
    if args.what == "flee" and args.set:
        ap.error("--set is for `long` (flee runs its own settings)")
    _init()
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=_init) as ex:
        if args.what == "flee":
            seeds = range(1, 1 + (args.seeds or 5))
            jobs = [(h, t, s, args.seconds) for h in HUNTERS for t in (None, *THRESHOLDS) for s in seeds]
            total: dict[tuple[str, float | None], list[int]] = {}
            for h, t, kills, edge in ex.map(flee_run, jobs):
                acc = total.setdefault((h, t), [0, 0])
                acc[0] += kills
                acc[1] += edge
            print(f"circling founders, evolution off, seeds {seeds[0]}-{seeds[-1]}, {args.seconds:g} s each "
                  f"({len(seeds) * 50} agents in all):")
            for (h, t), (kills, edge) in total.items():
                what = "as they are" if t is None else f"flight when 1/d > {t:g} (within {20 / t:.0f} px)"
                print(f"  {h:>12} hunter, {what:>35}: cursor kills {kills:4d}, edge deaths {edge:4d}")
            return
        from neuroevo.sim import make

        kv: dict[str, Any] = {"cursor.anticipates": True, **dict(s.split("=", 1) for s in args.set)}
        try:
            make("cursor", seed=0, overrides=kv)
        except Exception as e:  # a bad key or value: one line
            ap.error(f"--set: {e}")
        seeds = range(201, 201 + (args.seeds or 10))
        res = list(ex.map(long_run, [(s, args.minutes, kv) for s in seeds]))
    kills = np.array([r[0] for r in res])
    edge = np.array([r[1] for r in res])
    blocks = range(0, args.minutes, 10)
    print(f"cursor scenario with {', '.join(f'{k}={v}' for k, v in kv.items())}, seeds {seeds[0]}-{seeds[-1]}, "
          f"{args.minutes} minutes; mean a minute over seeds, 10-minute blocks:")
    print("  cursor kills: " + " ".join(f"{kills[:, b : b + 10].mean():.1f}" for b in blocks))
    print("  edge deaths:  " + " ".join(f"{edge[:, b : b + 10].mean():.1f}" for b in blocks))


if __name__ == "__main__":
    main()
