"""Who gets caught late in the story: lifetime at death of the mouse model's kills over minutes 6-10 of clicking.

    NUMBA_NUM_THREADS=1 python benchmarks/fitness_diag.py --fits base,cull_speed_k2 [--seeds 10]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fitness_story import FITS, scenario_class  # noqa: E402


class Events:
    every = 6  # a divisor of the hook period: every compiled chunk ends at a call, so no death report is missed
    wants_events = True

    def __init__(self):
        self.rows = []

    def observe(self, sim):
        if sim.last_events.shape[0]:
            e = sim.last_events.copy()
            e[:, 0] = sim.step_count  # the end of the chunk (within 6 steps of the death)
            self.rows.append(e)


def main():
    from neuroevo.observers import run_minutes
    from neuroevo.sim import make
    from neuroevo.state import CAUSES

    ap = argparse.ArgumentParser()
    ap.add_argument("--fits", default="base")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--target", default="story", choices=("story", "hunter"))
    args = ap.parse_args()
    # the hooks' rules are measured alone: the built-in periodic replacement (on by default) stays off unless --set
    kv = {"evolution.replace": "none", **dict(s.split("=", 1) for s in args.set)}
    cur = CAUSES.index("cursor")
    for f in args.fits.split(","):
        life = []
        n_late = []
        for seed in range(101, 101 + args.seeds):
            ev = Events()
            if args.target == "story":
                sim = make(scenario_class("edges", FITS[f]), seed=seed, overrides=kv)
                run_minutes(sim, 5)
                sim.apply_settings({"cursor.source": "mouse"})
                sim.add_observer(ev)
                run_minutes(sim, 10)
                t0 = 10 * 3600  # 5 min of edges + 5 min of clicking (steps at dt = 1/60)
            else:  # hunter: 20 minutes of the bot, late window minutes 16-20
                sim = make(scenario_class("cursor", FITS[f]), seed=seed, overrides=kv)
                sim.add_observer(ev)
                run_minutes(sim, 20)
                t0 = 15 * 3600
            e = np.concatenate(ev.rows) if ev.rows else np.zeros((0, 4), np.int64)
            lat = e[(e[:, 2] == cur) & (e[:, 0] > t0)]
            life.extend((lat[:, 3] * sim.settings.world.dt).tolist())
            n_late.append(len(lat))
        life = np.array(life)
        print(f"{f}: late kills {len(life)} over {args.seeds} seeds; lifetime at death s: "
              f"median {np.median(life):.0f}, "
              f"<10 s {np.mean(life < 10):.2f}, <30 s {np.mean(life < 30):.2f}, <60 s {np.mean(life < 60):.2f}, "
              f">=300 s {np.mean(life >= 300):.2f}", flush=True)


if __name__ == "__main__":
    main()
