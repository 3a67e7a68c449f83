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

    A row counts from the run counters at the previous whole minute (`base`). A run saved between two whole minutes
    stores that base with its rows (`state()`), so the run resumed from it writes the same row for that minute as
    a run that never stopped."""

    def __init__(self, sim: Any, rows: list[dict[str, Any]] | None = None, base: list[int] | None = None) -> None:
        self.every = max(1, int(round(60.0 / sim.settings.world.dt)))
        self.dt = sim.settings.world.dt
        self.rows: list[dict[str, Any]] = list(rows or [])
        self._last = sim.state.counters.copy()
        self.tracker = FamilyTracker(sim, founders=saved_founders(getattr(sim, "loaded_extra", None)))
        sim.add_observer(self.tracker)
        if base is not None:
            b = np.asarray(base, np.int64)
            if b.ndim != 1 or b.shape[0] > self._last.shape[0]:
                raise ValueError(f"minute_base must be a list of at most {self._last.shape[0]} counters")
            self._last[:] = 0
            self._last[: b.shape[0]] = b

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps to resume these statistics exactly: the rows and the counters at the last whole
        minute."""
        return {"per_minute": self.rows, "minute_base": self._last.tolist()}

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
        if sim.species_ready:  # niching: species with living members
            row["species"] = int((sim.species.size > 0).sum())
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
        self.saved_step: int | None = None  # step of the last save that completed

    def observe(self, sim: Any) -> None:
        from .checkpoint import check_savable

        check_savable(sim)  # never write a file that --resume would refuse
        sim.save(self.path, extra=self.stats.state())
        self.saved_step = sim.step_count


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
