"""What the per-minute `families` count costs a headless run: MinuteStats with and without its FamilyTracker,
side by side (alternating rounds, best of each), plus how often the tracker had to re-run an interval.

    python benchmarks/families.py [--scenario cursor] [--minutes 5] [--rounds 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

from neuroevo.observers import MinuteStats
from neuroevo.sim import make


def one(scenario: str, minutes: float, threads: int | None, tracked: bool) -> tuple[float, MinuteStats]:
    sim = make(scenario, seed=1)
    sim.set_threads(threads)
    stats = MinuteStats(sim)
    if not tracked:
        sim.remove_observer(stats.tracker)
        stats.tracker.families = lambda sim: 0  # type: ignore[method-assign]
    sim.add_observer(stats)
    sim.compile()
    t0 = time.perf_counter()
    sim.run(int(round(minutes * stats.every)))
    return time.perf_counter() - t0, stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="cursor")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    best = {True: float("inf"), False: float("inf")}
    stats = None
    for _ in range(a.rounds):
        for tracked in (False, True):
            t, s = one(a.scenario, a.minutes, a.threads, tracked)
            best[tracked] = min(best[tracked], t)
            stats = s if tracked else stats
    assert stats is not None
    tr = stats.tracker
    print(f"{a.scenario}, {a.minutes:g} sim minutes, threads {a.threads or 'auto'}, best of {a.rounds}:")
    print(f"  without families {best[False]:.3f} s   with families {best[True]:.3f} s   "
          f"ratio {best[True] / best[False]:.3f}")
    print(f"  families per minute {[r['families'] for r in stats.rows]}; intervals re-run {tr.resolved}, "
          f"unresolved parents {tr.unresolved}")


if __name__ == "__main__":
    main()
