"""What the window draws from a replay: ReplayView, a replay at one frame, and the live chart rebuilt from it."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import input_offsets
from ..lineage import History, Steps, branches_steps, from_replay_steps
from ..state import CAUSES, N_CAUSES, WorldState
from .ancestry import Ancestry
from .hud import CHART_BIN_S, ChartSeries
from .lineage import SlotFamilies
from .view import Marker, WorldView


class ReplayView(WorldView):
    """A replay at one frame: `seek(i)` moves; positions and ids come from the replay reader."""

    def __init__(self, replay: Any) -> None:
        from ..replay import playback_state

        self.replay = replay
        self._state_at = playback_state
        self.settings = replay.settings
        self.layout = replay.layout
        self.seed = int(replay.meta.get("seed", 0))
        self.scenario = str(replay.meta.get("scenario", "replay"))
        self.frames = len(replay)
        self.dt = float(replay.dt)
        self.chart, self._chart_ends = replay_chart(replay)
        self.families = SlotFamilies(replay.families, replay.n, forget=False)
        blocks = input_offsets(self.settings.brain)
        self._offsets = input_offsets(self.settings.brain, max(0, self.layout.n_in - sum(n for _, n in
                                                                                          blocks.values())))
        self._markers: list[Marker] = []
        self._hidden_on = np.zeros(replay.n, np.int64) if self.layout.gated else None  # (N,) units on per slot
        self._history: Any = None  # lineage.History of the whole replay, read when the ancestry is first shown
        self.index = -1
        self.seek(0)

    def seek(self, i: int, markers: bool = False) -> None:
        """Go to frame i (clamped); with markers, the deaths and clicks of the frames passed become markers."""
        old = self.index
        self.index = max(0, min(self.frames - 1, int(i)))
        self._state = self._state_at(self.replay, self.index)
        self._icons = self.replay.frame(self.index).icons
        changed = self.families.update(self._state.genome_id, self._state.parent_id)
        if self._hidden_on is not None:
            n_w = self.layout.n_weights
            for slot in changed.tolist():
                self._hidden_on[slot] = int((self.genome(slot)[n_w:] > 0.5).sum())
        self.chart.show(int(np.searchsorted(self._chart_ends, self.index, side="right")))
        if markers and self.index > old >= 0:
            self._markers += self._between(old, self.index)

    def _between(self, old: int, new: int) -> list[Marker]:
        d = self.replay.deaths
        a, b = np.searchsorted(d["frame"], old, side="right"), np.searchsorted(d["frame"], new, side="right")
        out = [Marker(float(x), float(y), CAUSES[int(c)])
               for (x, y), c in zip(d["pos"][a: min(b, a + 4096)].tolist(), d["cause"][a:b].tolist())]
        if new - old <= 8:  # clicks, when few frames were passed (a fast-forward would flash rings everywhere)
            for i in range(old + 1, new + 1):
                cur = self.replay.frame(i).cursor
                if cur[4] > 0:
                    out.append(Marker(float(cur[0]), float(cur[1]), "click"))
        return out

    @property
    def state(self) -> WorldState:
        return self._state

    @property
    def icons(self) -> np.ndarray:
        return self._icons

    @property
    def step_count(self) -> int:
        return int(self._state.counters[0])

    @property
    def input_offsets(self) -> dict[str, tuple[int, int]]:
        return dict(self._offsets)

    def genome(self, slot: int) -> np.ndarray:
        g = self.replay.genome(int(self._state.genome_id[slot]))
        return g if g is not None else np.zeros(self.layout.n_params, np.float32)

    def hidden_on(self) -> np.ndarray | None:
        return self._hidden_on

    def recent_deaths(self) -> tuple[float, np.ndarray]:
        i = self.index
        lo = max(0, i - int(round(60.0 / self.dt)))
        d = self.replay.deaths
        a, b = np.searchsorted(d["frame"], lo, side="right"), np.searchsorted(d["frame"], i, side="right")
        counts = np.bincount(d["cause"][a:b].astype(np.int64), minlength=N_CAUSES)[:N_CAUSES]
        return (i - lo) * self.dt, counts

    def take_markers(self) -> list[Marker]:
        out, self._markers = self._markers, []
        return out

    def founders(self) -> np.ndarray:
        return self.families.founder

    def ancestry_steps(self) -> Steps[Ancestry]:
        """The ancestry of those alive at this frame, from every birth the replay holds up to it (the replay's
        whole history is read once, by the first of these)."""
        t0 = int(self.replay.meta.get("start_step", 0)) * self.dt
        now = t0 + self.index * self.dt
        s = self._state
        living = s.genome_id[s.alive].copy()  # (A,) int64

        def steps() -> Steps[Ancestry]:
            if self._history is None:
                self._history = yield from from_replay_steps(self.replay)
            h = self._history
            upto = h.born <= now + 0.5 * self.dt  # (G,) born by this frame
            gid = h.gid[upto]
            sub = History(gid, h.parent[upto], h.born[upto], np.where(np.isin(gid, living), np.nan, 0.0),
                          h.founder[upto], now)
            rows = yield from branches_steps(sub)
            return Ancestry(rows, t0, now, message=None if living.size else "nobody is alive at this frame")

        return steps()

    def ancestry_key(self) -> object:
        return self.index

    def next_death(self, after: int) -> int | None:
        """Frame of the first death after frame `after`, or None."""
        return self.replay.next_death(after)

    def death_frames(self) -> np.ndarray:
        """(D,) frame of every death in the replay, sorted."""
        return self.replay.deaths["frame"]


def replay_chart(replay: Any) -> tuple[ChartSeries, np.ndarray]:
    """The live chart's points computed from a replay's deaths and mean ages, and (T,) the frame closing each."""
    dt = replay.dt
    per = max(1, int(round(CHART_BIN_S / dt)))
    n = len(replay)
    start = int(replay.meta.get("start_step", 0))
    first = (-start) % per or per  # frames from the start to the first bin end (a step divisible by per)
    ends = np.arange(first, n, per)  # (T,) frame closing each bin, as the live chart closes them
    d = replay.deaths
    rates = np.zeros((ends.size, N_CAUSES))  # (T, N_CAUSES)
    bins = np.searchsorted(ends, d["frame"], side="left")
    ok = bins < ends.size
    np.add.at(rates, (bins[ok], d["cause"][ok].astype(np.int64)), 60.0 / CHART_BIN_S)
    life = replay.mean_age[ends] * dt if ends.size else np.zeros(0)
    series = ChartSeries((start + ends) * dt / 60.0, rates, life)
    series.show(0)
    return series, ends
