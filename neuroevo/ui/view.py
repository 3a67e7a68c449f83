"""What the window draws: a world at one moment, from a running Simulation (LiveView) or a replay (ReplayView).

The drawing code reads only the WorldView interface. LiveView is the one place the window touches a Simulation:
stepping, cursor source, threads, save/load, hot reload and recording all go through it.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..brain import Layout
from ..config import Settings
from ..cursor import AIM, COOLDOWN
from ..lineage import Steps, branches_steps, finish, history_steps
from ..state import C_PHASE, C_PRESENT, CAUSES, CX, CY, K_BIRTHS, K_DEATHS, N_CAUSES, WorldState
from .ancestry import Ancestry
from .hud import CHART_BIN_S, ChartSeries

VIEWER_PARALLEL_WORK = 100_000  # agent-steps per frame from which a frame's steps use both threads
LIVE_LOOK_S = CHART_BIN_S  # live families: the tracker also looks this often inside long (turbo) frames, where
# the chart's observer already cuts the compiled chunks (a cut of its own costs ~0.5 ms: 14-48% of turbo at 50 agents
# when it looked every simulated second)


@dataclass(frozen=True)
class Marker:
    """Something that happened between two frames, at world px (x, y): a click, or a death by `kind`."""

    x: float
    y: float
    kind: str  # "click" or a cause in state.CAUSES


class WorldView(ABC):
    """A world at one moment: what the scene, HUD, chart and inspector read. Arrays are read-only."""

    settings: Settings
    layout: Layout
    scenario: str
    seed: int
    chart: ChartSeries  # deaths/min and mean lifetime, up to now

    @property
    @abstractmethod
    def state(self) -> WorldState:
        """Positions, headings, alive, teams, ages, ids, cursor, counters of every slot."""

    @property
    @abstractmethod
    def icons(self) -> np.ndarray:
        """(M, 4) float32 hazard rectangles x0, y0, x1, y1, world px."""

    @property
    @abstractmethod
    def step_count(self) -> int: ...

    @property
    def sim_seconds(self) -> float:
        return self.step_count * self.settings.world.dt

    @property
    @abstractmethod
    def input_offsets(self) -> dict[str, tuple[int, int]]:
        """{sensor block: (first input, count)} of the nets."""

    @abstractmethod
    def genome(self, slot: int) -> np.ndarray:
        """(n_params,) float32 genome of whoever holds the slot."""

    def activations(self, slot: int) -> np.ndarray | None:
        """(n_units,) unit values of the slot's last step, or None when they are not known (replays)."""
        return None

    def speed(self, slot: int) -> float | None:
        return None

    def agility(self, slot: int) -> float | None:
        """Mean |turn| x speed / max speed over the slot's life so far (what periodic replacement judges), or None
        when it is not known (replays, a newborn)."""
        return None

    @abstractmethod
    def recent_deaths(self) -> tuple[float, np.ndarray]:
        """(seconds covered, deaths by cause (N_CAUSES,)) over the last sim minute, or less early on."""

    @abstractmethod
    def take_markers(self) -> list[Marker]:
        """Clicks and deaths since the last call."""

    def teams(self) -> np.ndarray | None:
        """(N,) team of every slot when the world has teams (smileys then wear team colours), else None."""
        return self.state.team if self.settings.hazards.teams > 1 else None

    def hidden_on(self) -> np.ndarray | None:
        """(N,) switched-on hidden units of each slot's genome when brains grow (Layout.gated), else None."""
        return None

    def species(self) -> np.ndarray | None:
        """(N,) species number of each slot (-1: none yet) when the world has species (evolution.niching), else
        None."""
        return None

    def species_count(self) -> int | None:
        """Species with living members, or None when the world has no species."""
        sp = self.species()
        if sp is None:
            return None
        return int(np.unique(sp[self.state.alive & (sp >= 0)]).size)

    def colour_modes(self) -> tuple[str, ...]:
        """What smileys can be coloured by, the default first: team (worlds with teams), family, species (worlds
        with species)."""
        return (("team",) if self.teams() is not None else ()) + ("family",) + \
            (("species",) if self.species() is not None else ())

    @abstractmethod
    def founders(self) -> np.ndarray:
        """(N,) founder genome id of every slot."""

    def ancestry(self) -> Ancestry:
        """The ancestry of the living now (the T panel), or a message saying why there is none."""
        return finish(self.ancestry_steps())

    @abstractmethod
    def ancestry_steps(self) -> Steps[Ancestry]:
        """ancestry() in pieces, from a copy taken now (the world may move on between the pieces)."""

    @abstractmethod
    def ancestry_key(self) -> object:
        """Changes whenever ancestry() would (births, deaths, another frame)."""

    def cursor_xy(self) -> tuple[float, float] | None:
        """Where the simulated cursor is (world px), or None while there is none."""
        c = self.state.cursor
        return (float(c[CX]), float(c[CY])) if c[C_PRESENT] > 0 else None

    def nearest_alive(self, x: float, y: float, reach: float) -> int | None:
        """Slot of the living agent nearest to (x, y) world px, if within reach px."""
        s = self.state
        alive = np.flatnonzero(s.alive)
        if alive.size == 0:
            return None
        d2 = ((s.pos[alive] - np.array([x, y], np.float32)) ** 2).sum(axis=1)
        j = int(np.argmin(d2))
        return int(alive[j]) if d2[j] <= reach * reach else None


# ---- live ----------------------------------------------------------------------------------------------------
class RateObserver:
    """Simulation observer: every CHART_BIN_S sim seconds, a chart point of deaths/min by cause and mean age.
    It also asks for the step's death reports (sim.run_events after a frame), which the window draws as markers."""

    wants_events = True

    def __init__(self, sim: Any, series: ChartSeries) -> None:
        self.every = max(1, int(round(CHART_BIN_S / sim.settings.world.dt)))
        self.series = series
        self._last = sim.state.counters.copy()

    def observe(self, sim: Any) -> None:
        c, s = sim.state.counters, sim.state
        d = (c[K_DEATHS: K_DEATHS + N_CAUSES] - self._last[K_DEATHS: K_DEATHS + N_CAUSES]).astype(np.float64)
        self._last = c.copy()
        ages = s.age[s.alive]
        life = float(ages.mean()) * sim.settings.world.dt if ages.size else 0.0
        self.series.append(sim.sim_seconds / 60.0, d * (60.0 / CHART_BIN_S), life)


class LiveView(WorldView):
    """A running Simulation, stepped by the window."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.chart = ChartSeries()
        self._rates = RateObserver(sim, self.chart)
        sim.add_observer(self._rates)
        # Families: one tracker for the smileys' colours, the ancestry panel and what a save keeps. It looks after
        # every frame (and every LIVE_LOOK_S inside long turbo frames), so a parent goes unseen only when it was
        # born, bred and died within one look; a checkpoint's founders carry the families of a loaded population.
        from ..lineage import FamilyTracker
        from ..observers import saved_founders

        self.tracker = FamilyTracker(sim, founders=saved_founders(sim.loaded_extra), history=True, frequent=True,
                                     every=max(1, int(round(LIVE_LOOK_S / sim.settings.world.dt))))
        sim.add_observer(self.tracker)
        self._start_s = sim.sim_seconds
        self._seen = sim.state.genome_id.copy()  # (N,) genome id of each slot when _founder was last updated
        self._founder = self.tracker.founders_of(sim)  # (N,) int64
        self._snapshots: deque = deque()  # (step, counters) for "deaths in the last minute"
        self._markers: list[Marker] = []
        self.recorder: Any = None

    # ---- the interface ----------------------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:  # type: ignore[override]
        return self.sim.settings  # a hot reload replaces them

    @property
    def layout(self) -> Layout:  # type: ignore[override]
        return self.sim.layout

    @property
    def scenario(self) -> str:  # type: ignore[override]
        return self.sim.scenario

    @property
    def seed(self) -> int:  # type: ignore[override]
        return self.sim.seed

    @property
    def state(self) -> WorldState:
        return self.sim.state

    @property
    def icons(self) -> np.ndarray:
        return self.sim.icons

    @property
    def step_count(self) -> int:
        return self.sim.step_count

    @property
    def input_offsets(self) -> dict[str, tuple[int, int]]:
        return dict(self.sim.input_offsets)

    def genome(self, slot: int) -> np.ndarray:
        return self.sim.genomes[slot]

    def activations(self, slot: int) -> np.ndarray:
        return self.sim.state.acts[slot]

    def speed(self, slot: int) -> float:
        return float(self.sim.state.speed[slot])

    def agility(self, slot: int) -> float | None:
        s = self.sim.state
        return float(s.agility[slot] / s.age[slot]) if s.age[slot] > 0 else None

    def hidden_on(self) -> np.ndarray | None:
        layout = self.sim.layout
        if not layout.gated:
            return None
        return (self.sim.genomes[:, layout.n_weights:] > 0.5).sum(axis=1)

    def species(self) -> np.ndarray | None:
        sim = self.sim
        if not sim.params.species_cap:
            return None
        if not sim.species_ready:  # founded at the first step
            return np.full(sim.state.n, -1, np.int64)
        of = sim.species.of  # (N,) table row of each slot's species, -1: none
        return np.where(of >= 0, sim.species.label[np.maximum(of, 0)], -1)

    def recent_deaths(self) -> tuple[float, np.ndarray]:
        c = self.sim.state.counters
        if not self._snapshots:
            return 0.0, np.zeros(N_CAUSES, np.int64)
        step0, old = self._snapshots[0]
        span = (self.step_count - step0) * self.settings.world.dt
        return span, c[K_DEATHS: K_DEATHS + N_CAUSES] - old[K_DEATHS: K_DEATHS + N_CAUSES]

    def take_markers(self) -> list[Marker]:
        out, self._markers = self._markers, []
        return out

    def founders(self) -> np.ndarray:
        return self._founder

    def ancestry_steps(self) -> Steps[Ancestry]:
        snap, start, unresolved = self.tracker.snapshot(self.sim), self._start_s, self.tracker.unresolved

        def steps() -> Steps[Ancestry]:
            h = yield from history_steps(snap)
            return Ancestry((yield from branches_steps(h)), start, h.end, unresolved)

        return steps()

    def ancestry_key(self) -> object:
        c = self.sim.state.counters
        return int(c[K_BIRTHS]), int(c[K_DEATHS: K_DEATHS + N_CAUSES].sum())

    def update_families(self) -> None:
        """The founders of the slots whose genome changed (newborns) since the last call (advance() calls it; so
        does anything that steps the world itself and then draws this view, like envs/render.py)."""
        s = self.sim.state
        self.tracker.update(self.sim)
        changed = np.flatnonzero(s.genome_id != self._seen)
        if changed.size:
            founder = self.tracker.founder
            self._founder[changed] = [founder[g] for g in s.genome_id[changed].tolist()]
            self._seen[changed] = s.genome_id[changed]

    # ---- stepping ---------------------------------------------------------------------------------------------
    def compile(self) -> None:
        """Compile (or load from the cache) the step kernels without stepping."""
        self.sim.compile()

    def advance(self, n: int, ext: np.ndarray | None = None) -> float:
        """Run n steps (ext (n, 5) drives an external cursor); returns the seconds they took. A failing scenario
        hook raises ValueError (ScenarioError) and leaves the world as it was after the last good step."""
        sim, s = self.sim, self.sim.state
        pre_pos = s.pos.copy()  # (N, 2) where the agents that die this frame were
        phase0 = s.cursor[C_PHASE]
        # A frame's few steps run on one thread: a parallel step whose second thread is busy elsewhere can stall
        # (measured with numba's prange step and the other core loaded: 50 agents 0.4-3 ms parallel vs 0.12 ms
        # serial; 5,000 agents 3-4 ms vs 1.7 ms). Big batches (turbo, crowds at high speed) use both threads (the
        # team step). Both paths give identical results.
        sim.set_threads(2 if n * s.n >= VIEWER_PARALLEL_WORK else 1)
        t0 = time.perf_counter()
        sim.run(n, ext)
        took = time.perf_counter() - t0
        if ext is not None:
            self._markers += [Marker(float(x), float(y), "click") for x, y in ext[ext[:, 4] > 0, :2].tolist()]
        elif phase0 == AIM and s.cursor[C_PHASE] == COOLDOWN:  # the bot clicked
            self._markers.append(Marker(float(s.cursor[CX]), float(s.cursor[CY]), "click"))
        self.update_families()
        for _step, i, c, _life in sim.run_events.tolist():  # deaths as the compiled step reported them
            self._markers.append(Marker(float(pre_pos[i, 0]), float(pre_pos[i, 1]), CAUSES[c]))
            if len(self._markers) > 4096:  # more than the screen can show; the counters have them all
                break
        self._snapshots.append((self.step_count, s.counters.copy()))
        horizon = self.step_count - int(round(60.0 / self.settings.world.dt))
        while len(self._snapshots) > 1 and self._snapshots[1][0] <= horizon:
            self._snapshots.popleft()
        return took

    def set_cursor_source(self, name: str) -> None:
        """"external" (the mouse), "hunter", "random" or "none"; the settings (and saves) keep their own."""
        self.sim.set_cursor_source(name)

    # ---- files ------------------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the population (OSError if it cannot be written)."""
        self.sim.save(path, extra={"source": "live"})

    def loaded(self, path: Path) -> LiveView:
        """A new LiveView over the population saved at path, run by this scenario's hooks; CheckpointError."""
        from ..sim import Simulation

        hooks = self.sim.hooks
        sim, _ = Simulation.load(path, hooks=None if hooks is None else type(hooks)())
        self.detach()
        return LiveView(sim)

    def detach(self) -> None:
        """Stop watching the simulation (another one takes its place)."""
        self.stop_recording()
        self.sim.observers = [o for o in self.sim.observers if o is not self._rates and o is not self.tracker]

    def reload(self, cls: type, overrides: dict[str, Any]) -> None:
        """Hot reload: the scenario class's settings and hooks, same population; ScenarioError if it cannot."""
        self.sim.reload_scenario(cls, overrides)
        if self.recorder is not None:
            self.recorder.settings_changed(self.sim)

    def start_recording(self, path: Path) -> None:
        """Record every step into the replay folder `path` (OSError if it cannot be created)."""
        from ..replay import Recorder

        self.recorder = Recorder(self.sim, path, origin="live")
        self.sim.add_observer(self.recorder)

    def stop_recording(self) -> tuple[Path, int] | None:
        """Finish the replay; (its folder, frames written), or None when not recording."""
        rec, self.recorder = self.recorder, None
        if rec is None:
            return None
        self.sim.observers = [o for o in self.sim.observers if o is not rec]
        rec.close()
        return rec.path, rec.frames_written


# ---- replay --------------------------------------------------------------------------------------------------
