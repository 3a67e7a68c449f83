"""What the per-minute `families` count costs a headless run: MinuteStats with and without its FamilyTracker,
side by side (alternating rounds, best of each), plus how often the tracker had to re-run an interval.

    python benchmarks/families.py [--scenario cursor] [--minutes 5] [--rounds 3] [--threads 1]
    python benchmarks/families.py --live [--agents 50] ...

--live measures the live window's tracker instead (FamilyTracker(history=True, frequent=True) looking every
simulated second, as neuroevo live runs it whether or not the ancestry panel is open) against no tracker.
"""

from __future__ import annotations

import argparse
import time

from neuroevo.observers import MinuteStats
from neuroevo.sim import make


def live_one(scenario: str, minutes: float, threads: int | None, agents: int | None, tracked: bool) -> float:
    from neuroevo.lineage import FamilyTracker
    from neuroevo.ui.view import LIVE_LOOK_S

    sim = make(scenario, seed=1, **({"agents": agents} if agents else {}))
    sim.set_threads(threads)
    if tracked:
        sim.add_observer(FamilyTracker(sim, history=True, frequent=True,
                                       every=max(1, round(LIVE_LOOK_S / sim.settings.world.dt))))
    sim.compile()
    t0 = time.perf_counter()
    sim.run(int(round(minutes * 60.0 / sim.settings.world.dt)))
    return time.perf_counter() - t0


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
    ap.add_argument("--live", action="store_true", help="the live window's tracker instead of MinuteStats'")
    ap.add_argument("--agents", type=int, default=None, help="with --live: world size")
    a = ap.parse_args()
    if a.live:
        best = {True: float("inf"), False: float("inf")}
        for _ in range(a.rounds):
            for tracked in (False, True):
                best[tracked] = min(best[tracked], live_one(a.scenario, a.minutes, a.threads, a.agents, tracked))
        print(f"{a.scenario}, {a.agents or 'default'} agents, {a.minutes:g} sim minutes, threads "
              f"{a.threads or 'auto'}, best of {a.rounds}: without tracker {best[False]:.3f} s   with the live "
              f"tracker {best[True]:.3f} s   ratio {best[True] / best[False]:.3f}")
        return
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
