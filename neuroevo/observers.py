"""Observers: read-only watchers of a Simulation (per-minute statistics, periodic checkpoints)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .lineage import FamilyTracker
from .state import CAUSES, K_BIRTHS, K_DEATHS, K_LIFE_SUM

REPORTED_CAUSES = ("edge", "cursor")  # always present in per-minute rows; other causes appear when they occur


class MinuteStats:
    """One row per simulated minute: deaths by cause, births, lifetimes, families (see README for each field).

    It attaches a FamilyTracker to sim (the founders of a resumed run come from its checkpoint)."""

    def __init__(self, sim: Any, rows: list[dict[str, Any]] | None = None) -> None:
        self.every = max(1, int(round(60.0 / sim.settings.world.dt)))
        self.dt = sim.settings.world.dt
        self.rows: list[dict[str, Any]] = list(rows or [])
        self._last = sim.state.counters.copy()
        self.tracker = FamilyTracker(sim, founders=saved_founders(getattr(sim, "loaded_extra", None)))
        sim.add_observer(self.tracker)

    def observe(self, sim: Any) -> None:
        c = sim.state.counters
        d = c - self._last
        self._last = c.copy()
        s = sim.state
        ages = s.age[s.alive]
        deaths = {name: int(d[K_DEATHS + i]) for i, name in enumerate(CAUSES) if i > 0}
        deaths = {k: v for k, v in deaths.items() if k in REPORTED_CAUSES or v > 0}
        n_dead = int(sum(deaths.values()))
        row = {
            "minute": int(round(sim.step_count / self.every)),
            "deaths": deaths,
            "births": int(d[K_BIRTHS]),
            "mean_lifetime_s": round(float(ages.mean()) * self.dt, 4) if ages.size else 0.0,
            "max_lifetime_s": round(float(ages.max()) * self.dt, 4) if ages.size else 0.0,
            "mean_lifetime_at_death_s": round(float(d[K_LIFE_SUM]) * self.dt / n_dead, 4) if n_dead else None,
            "families": self.tracker.families(sim),
        }
        layout = sim.layout
        if layout.gated:  # growing brains: switched-on hidden units of the living
            units = (sim.genomes[s.alive, layout.n_weights:] > 0.5).sum(axis=1)
            row["hidden_units_mean"] = round(float(units.mean()), 3) if units.size else 0.0
            row["hidden_units_max"] = int(units.max()) if units.size else 0
        self.rows.append(row)


def saved_founders(extra: dict[str, Any] | None) -> dict[int, int] | None:
    """{genome id: founder id} that a FamilyTracker left in a checkpoint's extra (None if there is none)."""
    raw = (extra or {}).get("families", {})
    raw = raw.get("founders") if isinstance(raw, dict) else None
    if not isinstance(raw, dict):
        return None
    out: dict[int, int] = {}
    for g, f in raw.items():
        try:
            out[int(g)] = int(f)
        except (TypeError, ValueError):
            continue
    return out


class Checkpointer:
    """Saves the population (atomically) every `minutes` simulated minutes, with the metrics rows so far."""

    def __init__(self, sim: Any, path: str | Path, minutes: float, stats: MinuteStats) -> None:
        self.every = max(1, int(round(minutes * 60.0 / sim.settings.world.dt)))
        self.path = Path(path)
        self.stats = stats

    def observe(self, sim: Any) -> None:
        sim.save(self.path, extra={"per_minute": self.stats.rows})


def run_minutes(sim: Any, minutes: float) -> list[dict[str, Any]]:
    """Run sim for `minutes` simulated minutes and return its per-minute rows (benchmarks, sweeps)."""
    stats = MinuteStats(sim)
    sim.add_observer(stats)
    sim.run(int(round(minutes * stats.every)))
    return stats.rows


def rows_to_csv(rows: list[dict[str, Any]], path: str | Path) -> None:
    """Flatten per-minute rows (deaths.<cause> columns) into a CSV file."""
    import csv
    import io

    from .io import write_text

    causes = sorted({k for r in rows for k in r["deaths"]}, key=lambda c: CAUSES.index(c))
    cols = ["minute", *[f"deaths_{c}" for c in causes], "births", "mean_lifetime_s", "max_lifetime_s",
            "mean_lifetime_at_death_s", "families"]
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(cols)
    for r in rows:
        w.writerow([r["minute"], *[r["deaths"].get(c, 0) for c in causes], r["births"], r["mean_lifetime_s"],
                    r["max_lifetime_s"], "" if r["mean_lifetime_at_death_s"] is None else
                    r["mean_lifetime_at_death_s"], r.get("families", "")])
    write_text(path, buf.getvalue())


def deaths_per_minute(rows: list[dict[str, Any]], cause: str) -> np.ndarray:
    return np.array([r["deaths"].get(cause, 0) for r in rows], dtype=np.int64)
