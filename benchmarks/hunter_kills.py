"""Who the hunter bot catches late in a run: for each cursor death of the window, the victim's age, its distance
from the nearest edge, its speed and turn just before, whether it was the bot's target, and how far it was from
the cursor when the bot began to aim; and how the whole population stands to the cursor (every 10th step: the
share of the living within 100 px of it against the share within 100 px of a random point, and the mean cosine
between an agent's heading and the direction to the cursor for those within 150 px: -1 flying straight away).

    NUMBA_NUM_THREADS=1 python benchmarks/hunter_kills.py --seeds 207 212 219 [--from-minute 15 --to-minute 20]

The run is the `cursor` scenario with its defaults (or --set key=value), the same run as benchmarks/story.py's
hunter target (the same seed gives the same run on any path).
"""

from __future__ import annotations

import argparse
from collections import deque

import numpy as np

from neuroevo.cursor import AIM, C_PHASE, C_TARGET, CX, CY
from neuroevo.declare import SettingsError
from neuroevo.sim import make
from neuroevo.state import CAUSES


class _Events:
    """An observer that only asks the run to keep its death reports (sim.last_events)."""

    wants_events = True
    every = 1 << 62

    def observe(self, sim) -> None:  # noqa: ARG002
        return


def kills(seed: int, m0: float, m1: float, overrides: dict[str, str]) -> tuple[list[dict[str, float]], str]:
    sim = make("cursor", seed=seed, overrides=overrides)
    rng = np.random.default_rng(seed)
    near_cursor, near_point, facing = [], [], []
    sim.add_observer(_Events())
    w = sim.settings.world
    sim.run(int(round(m0 * 60 / w.dt)))
    cursor_cause = CAUSES.index("cursor")
    hist: deque = deque(maxlen=int(round(1.0 / w.dt)))  # the last second before each step
    out = []
    for k in range(int(round((m1 - m0) * 60 / w.dt))):
        s = sim.state
        if k % 10 == 0:
            living = s.pos[s.alive].astype(np.float64)
            to_cursor = s.cursor[[CX, CY]] - living
            d = np.hypot(to_cursor[:, 0], to_cursor[:, 1])
            point = rng.uniform((0.0, 0.0), (w.width, w.height))
            near_cursor.append((d < 100).mean())
            near_point.append((np.hypot(*(living - point).T) < 100).mean())
            h = s.heading[s.alive]
            close = d < 150
            facing += list(((np.cos(h) * to_cursor[:, 0] + np.sin(h) * to_cursor[:, 1]) / np.maximum(d, 1e-9))[close])
        hist.append((s.pos.copy(), s.speed.copy(), s.acts[:, -2].copy(), s.cursor[[CX, CY]].copy(),
                     int(s.cursor[C_PHASE]), int(s.cursor[C_TARGET])))
        sim.run(1)
        for _step, slot, cause, life in sim.last_events:
            if cause != cursor_cause:
                continue
            pos, speed, turn, _cur, _phase, target = hist[-1]
            aiming = 0  # steps the bot had been aiming (the frame where it began is the one before them)
            while aiming < len(hist) and hist[-1 - aiming][4] == AIM:
                aiming += 1
            if aiming < len(hist):
                p0, c0 = hist[-1 - aiming][0][slot], hist[-1 - aiming][3]
                d0 = float(np.hypot(*(p0 - c0)))
            else:
                d0 = float("nan")
            x, y = pos[slot]
            out.append({
                "minute": sim.step_count * w.dt / 60, "age_s": life * w.dt,
                "edge_px": float(min(x, y, w.width - x, w.height - y)),
                "speed": float(speed[slot]), "full_speed": float(w.max_speed), "turn": float(turn[slot]),
                "target": bool(target == slot),
                "aim_start_px": d0,
            })
    stance = (f"{np.mean(near_cursor):.1%} of the living within 100 px of the cursor (of a random point: "
              f"{np.mean(near_point):.1%}); heading toward the cursor within 150 px: mean cosine "
              f"{np.mean(facing) if facing else float('nan'):+.2f}")
    return out, stance


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--from-minute", type=float, default=15.0)
    ap.add_argument("--to-minute", type=float, default=20.0)
    ap.add_argument("--set", action="append", default=[], help="key=value for the run")
    ap.add_argument("--rows", action="store_true", help="print every kill, not only each seed's summary")
    args = ap.parse_args()
    if not 0 <= args.from_minute < args.to_minute:
        ap.error("the window needs 0 <= --from-minute < --to-minute")
    if any("=" not in kv for kv in args.set):
        ap.error(f"--set takes key=value, got {next(kv for kv in args.set if '=' not in kv)!r}")
    overrides = dict(kv.split("=", 1) for kv in args.set)
    try:
        make("cursor", seed=0, overrides=overrides)
    except SettingsError as e:
        ap.error(f"--set: {e}")
    every = []
    for seed in args.seeds:
        ks, stance = kills(seed, args.from_minute, args.to_minute, overrides)
        every += ks
        if args.rows:
            for k in ks:
                print(f"  seed {seed} minute {k['minute']:.2f}: age {k['age_s']:.0f} s, {k['edge_px']:.0f} px from an "
                      f"edge, speed {k['speed']:.0f}, turn {k['turn']:+.2f}, target {k['target']}, "
                      f"{k['aim_start_px']:.0f} px from the cursor when it began to aim")
        print(f"seed {seed}: {len(ks)} kills in minutes {args.from_minute:g}-{args.to_minute:g}; {stance}", flush=True)
    if not every:
        return
    col = {k: np.array([r[k] for r in every], float) for k in every[0]}
    aim = col["aim_start_px"]
    known = ~np.isnan(aim)  # unknown when the bot had been aiming since before the window's first second
    print(f"all {len(every)} kills: the bot's target {col['target'].mean():.0%}; "
          f"age median {np.median(col['age_s']):.0f} s (over 200 s: {(col['age_s'] > 200).mean():.0%}); "
          f"from the nearest edge median "
          f"{np.median(col['edge_px']):.0f} px (within 50 px: {(col['edge_px'] < 50).mean():.0%}); at full speed "
          f"{(col['speed'] >= 0.99 * col['full_speed']).mean():.0%}; "
          f"|turn| > 0.95: {(np.abs(col['turn']) > 0.95).mean():.0%}; over 40 px from the cursor when it began to "
          f"aim: {(aim[known] > 40).mean() if known.any() else float('nan'):.0%} (of {known.sum()} where it is known)")


if __name__ == "__main__":
    main()
