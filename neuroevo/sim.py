"""Simulation: owns settings, state, genomes and the one seeded Generator; steps the world in compiled chunks.

One step, the same for live, headless and replay re-simulation:
    cursor  <- cursor source (hunter / random / external row)
    grid    <- the living sorted into cells (only when contact or neighbour sensors are on)
    contact <- agents touching another (of another team) die before they move   crowd / team
    inputs  <- sense(state, cursor, icons, grid)  acts[:, :n_in]
    outputs <- forward(genomes, inputs)           acts[:, -2:]  (turn, thrust)
    state   <- move(state, outputs, dt)
    cause   <- hazards(state, cursor, icons)      edge / icon / cursor
    births  <- select parents among the living by fitness, copy + mutate into the dead slots (same team)
`run(n)` executes n such steps inside one numba call, so Python overhead is paid per chunk, not per step.
A scenario's hooks run between chunks, every hook_every steps (see scenario.py); without hooks chunks are split
only where an observer is due.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

import numba
import numpy as np

from . import __version__
from .brain import Layout, U, forward_one, init_genomes
from .config import Params, Settings, SettingsError, input_offsets, make_params, override
from .cursor import EXT_COLUMNS, cursor_update, reset_cursor
from .evolution import hof_offer, make_child, select
from .grid import INF, clear_of_agents, contact_cause, grid_build, scan_neighbours
from .obstacles import layout_icons, nearest_icon
from .physics import hazard_one, move_one
from .scenario import (
    Scenario,
    ScenarioError,
    check_class,
    hook_failure,
    hook_result,
    settings_error,
    source_of,
    where,
)
from .sensors import input_names, sense_one
from .state import (
    C_ARMED,
    C_CLICK,
    C_PRESENT,
    CX,
    CY,
    K_BIRTHS,
    K_DEATHS,
    K_GEN_STEP,
    K_GENERATION,
    K_LIFE_MAX,
    K_LIFE_SUM,
    K_NEXT_ID,
    K_STEP,
    NONE,
    RULE,
    WorldState,
)

N_OUTPUTS = 2  # turn, thrust
# From this many agents a step spreads them over threads. With OpenMP's short spin-then-sleep wait (see
# __init__) the prange kernel beat the serial loop already at 50 agents, alone (6.1 vs 3.1 M agent-steps/s) and
# beside two busy processes (4.3 vs 2.2); its generated code is also faster on one thread.
PARALLEL_MIN_AGENTS = 32
SPAWN_TRIES = 30  # rejection draws for a newborn's position clear of icons and other agents
ICON_CLEAR = 4.0  # newborns appear at least this many radii from any icon


class CheckpointError(ValueError):
    """A population file that is missing, corrupt or incompatible; the message names the file."""


@numba.njit(cache=True, inline="always", error_model="numpy")
def _agent_step(
    i, genomes, pos, pos0, heading, speed, alive, team, acts, cause_now, sizes, offsets, cx, cy, present, armed,
    click, icons, gstart, gitems, gxy, gteam, kd2, kj, p
):
    i = U(i)  # unsigned: no negative-index wraparound code (see brain.forward_one)
    if not alive[i]:
        cause_now[i] = NONE
        return
    a = acts[i]
    x0 = pos[i, U(0)]
    y0 = pos[i, U(1)]
    if p.use_grid != 0:
        ds, js, do, jo = scan_neighbours(i, x0, y0, team[i], gxy, gteam, gstart, gitems, p, kd2, kj)
        c = contact_cause(ds, do, p)
        if c != NONE:  # touching at the start of the step (where the last step's moves left them): both die
            cause_now[i] = c
            return
    else:
        ds, js, do, jo = INF, -1, INF, -1
    sense_one(i, x0, y0, heading[i], speed[i], cx, cy, present, armed, pos0, icons, ds, js, do, jo, kd2, kj, p, a)
    forward_one(genomes, acts, i, sizes, offsets)
    n = U(a.shape[0])
    x, y, h, v = move_one(pos[i, U(0)], pos[i, U(1)], heading[i], speed[i], a[n - U(2)], a[n - U(1)], p)
    pos[i, U(0)] = x
    pos[i, U(1)] = y
    heading[i] = h
    speed[i] = v
    cause_now[i] = hazard_one(x, y, cx, cy, click, icons, p)


@numba.njit(cache=True, error_model="numpy")
def _agents_serial(genomes, pos, pos0, heading, speed, alive, team, acts, cause_now, sizes, offsets, cx, cy, pr, ar,
                   cl, icons, gstart, gitems, gxy, gteam, kd2, kj, p):
    for i in range(alive.shape[0]):
        _agent_step(i, genomes, pos, pos0, heading, speed, alive, team, acts, cause_now, sizes, offsets, cx, cy, pr,
                    ar, cl, icons, gstart, gitems, gxy, gteam, kd2, kj, p)


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _agents_parallel(genomes, pos, pos0, heading, speed, alive, team, acts, cause_now, sizes, offsets, cx, cy, pr,
                     ar, cl, icons, gstart, gitems, gxy, gteam, kd2, kj, p):
    for i in numba.prange(alive.shape[0]):
        _agent_step(i, genomes, pos, pos0, heading, speed, alive, team, acts, cause_now, sizes, offsets, cx, cy, pr,
                    ar, cl, icons, gstart, gitems, gxy, gteam, kd2, kj, p)


@numba.njit(cache=True, error_model="numpy")
def _spot_free(x, y, pos, icons, gstart, gitems, placed, n_placed, p) -> bool:
    """A newborn may appear at (x, y): clear of icons and (with contact deaths) of other agents."""
    if icons.shape[0] > 0:
        d, _, _ = nearest_icon(x, y, icons)
        if d < ICON_CLEAR * p.radius:
            return False
    return clear_of_agents(x, y, pos, gstart, gitems, placed, n_placed, p)


@numba.njit(cache=True, error_model="numpy")
def spawn(i, pos, heading, speed, age, alive, genome_id, parent_id, parent, counters, p, rng, icons, gstart, gitems,
          placed, n_placed, hook_fit):
    """Put a newborn into slot i: uniform inside the spawn box (redrawn up to SPAWN_TRIES times while it would land
    on an icon or, with contact deaths, next to an agent of the grid or of placed[:n_placed]), random heading,
    birth speed, fresh id. Without icons and contact the first draw is taken, as it always was."""
    mx = p.spawn_margin * p.width
    my = p.spawn_margin * p.height
    x = 0.0
    y = 0.0
    for _ in range(SPAWN_TRIES):
        x = mx + rng.random() * (p.width - 2.0 * mx)
        y = my + rng.random() * (p.height - 2.0 * my)
        if _spot_free(x, y, pos, icons, gstart, gitems, placed, n_placed, p):
            break
    pos[i, 0] = x
    pos[i, 1] = y
    heading[i] = (rng.random() * 2.0 - 1.0) * math.pi
    speed[i] = p.birth_speed
    age[i] = 0
    alive[i] = True
    genome_id[i] = counters[K_NEXT_ID]
    counters[K_NEXT_ID] += 1
    parent_id[i] = parent
    hook_fit[i] = 0.0


@numba.njit(cache=True, error_model="numpy")
def spawn_all(pos, heading, speed, age, alive, genome_id, parent_id, counters, p, rng, icons, hook_fit):
    """Founders: every slot gets a newborn (parent -1), each clear of those placed before it."""
    n = alive.shape[0]
    empty = np.zeros(p.grid_nx * p.grid_ny + 1, np.int64)
    none = np.zeros(0, np.int64)
    placed = np.arange(n)
    for i in range(n):
        spawn(i, pos, heading, speed, age, alive, genome_id, parent_id, -1, counters, p, rng, icons, empty, none,
              placed, i, hook_fit)


@numba.njit(cache=True, error_model="numpy")
def _next_generation(genomes, pos, heading, speed, age, alive, genome_id, parent_id, counters, hof, hof_fit, p, rng,
                     icons, hook_fit, use_hook_fit):
    """Generational mode: rebuild every slot from this generation's fitness (elites kept unchanged)."""
    n = genomes.shape[0]
    fitness = hook_fit.copy() if use_hook_fit else age.astype(np.float64)
    for i in range(n):
        if alive[i]:
            hof_offer(hof, hof_fit, genomes[i], fitness[i])
    order = np.argsort(-fitness, kind="mergesort")
    everyone = np.ones(n, np.bool_)
    parents = np.empty(n, np.int64)
    parents2 = np.empty(n, np.int64)
    select(fitness, everyone, n, p.selection, p.tournament_k, p.truncation, rng, parents)
    if p.crossover > 0.0:
        select(fitness, everyone, n, p.selection, p.tournament_k, p.truncation, rng, parents2)
    else:
        parents2[:] = parents
    new = np.empty_like(genomes)
    ids = genome_id.copy()
    empty = np.zeros(p.grid_nx * p.grid_ny + 1, np.int64)
    none = np.zeros(0, np.int64)
    placed = np.arange(n)
    for j in range(n):
        if j < p.elites:
            new[j, :] = genomes[order[j]]
            parent = ids[order[j]]
        else:
            make_child(genomes, parents[j], parents2[j], hof, hof_fit, p, rng, new[j])
            parent = ids[parents[j]]
        spawn(j, pos, heading, speed, age, alive, genome_id, parent_id, parent, counters, p, rng, icons, empty, none,
              placed, j, hook_fit)
        counters[K_BIRTHS] += 1
    genomes[:, :] = new
    counters[K_GEN_STEP] = 0
    counters[K_GENERATION] += 1


@numba.njit(cache=True, error_model="numpy")
def _births(genomes, pos, heading, speed, age, alive, genome_id, parent_id, team, counters, hof, hof_fit, p, rng,
            icons, gstart, gitems, hook_fit, fitness, dead, k, eligible, parents, parents2, child, placed, n_placed):
    """Steady state: refill the k slots dead[:k] with children of living parents (of the same team when there are
    teams, so every team keeps its size). Returns the new count of slots placed this step."""
    for tm in range(p.n_teams):
        kt = 0
        any_alive = False
        for j in range(k):
            if p.n_teams == 1 or team[dead[j]] == tm:
                parents[kt] = dead[j]  # parents[:kt] holds this team's dead slots for now
                kt += 1
        if kt == 0:
            continue
        for i in range(alive.shape[0]):
            eligible[i] = alive[i] and (p.n_teams == 1 or team[i] == tm)
            any_alive = any_alive or eligible[i]
        if not any_alive and p.n_teams > 1:
            for i in range(alive.shape[0]):
                eligible[i] = team[i] == tm
        slots = parents[:kt].copy()
        src = genomes if any_alive else genomes.copy()
        select(fitness, eligible, kt, p.selection, p.tournament_k, p.truncation, rng, parents)
        if p.crossover > 0.0:
            select(fitness, eligible, kt, p.selection, p.tournament_k, p.truncation, rng, parents2)
        else:
            parents2[:kt] = parents[:kt]
        for j in range(kt):
            make_child(src, parents[j], parents2[j], hof, hof_fit, p, rng, child)
            d = slots[j]
            genomes[d, :] = child
            spawn(d, pos, heading, speed, age, alive, genome_id, parent_id, genome_id[parents[j]], counters, p, rng,
                  icons, gstart, gitems, placed, n_placed, hook_fit)
            placed[n_placed] = d
            n_placed += 1
            counters[K_BIRTHS] += 1
    return n_placed


@numba.njit(cache=True, error_model="numpy")
def run_chunk(
    n_steps, genomes, pos, heading, speed, age, alive, cause, genome_id, parent_id, team, hook_fit, acts, cursor,
    counters, hof, hof_fit, sizes, offsets, p, rng, ext, parallel, events, icons, forced, use_hook_fit,
):
    """Advance the world n_steps steps. events (n_steps * N, 4) int64 receives (step, slot, cause, lifetime) of
    each death when it has rows (replay recording); returns the number of event rows written.

    forced (N,) int8: causes a scenario's extra_deaths hook set; applied to the living at the first step, then
    cleared. use_hook_fit: select parents by hook_fit (the fitness hook) instead of lifetime.
    With the grid (p.use_grid): the living are sorted into cells from a snapshot of the positions at the start of
    each step; each agent scans its 3x3 cells of the snapshot (never a neighbour's half-updated row) once, for its
    neighbour and team inputs and for contact: two agents closer than contact_radius when the step starts (where
    the last step's moves left them) both die, before they move. Newborns appear clear of everyone, so a contact
    death always follows a move. One scan and one parallel pass per step keep crowd close to the cost of edges.
    """
    n = alive.shape[0]
    cause_now = np.zeros(n, np.int8)
    dead = np.empty(n, np.int64)
    placed = np.empty(n, np.int64)
    parents = np.empty(n, np.int64)
    parents2 = np.empty(n, np.int64)
    eligible = np.empty(n, np.bool_)
    fitness = np.empty(n, np.float64)
    child = np.empty(genomes.shape[1], np.float32)
    use_grid = p.use_grid != 0
    n_cells = p.grid_nx * p.grid_ny if use_grid else 0
    gstart = np.zeros(n_cells + 1, np.int64)
    gfill = np.empty(n_cells, np.int64)
    gitems = np.empty(n if use_grid else 0, np.int64)
    gxy = np.empty((n if use_grid else 0, 2), np.float32)
    gteam = np.empty(n if use_grid else 0, np.int8)
    pos0 = np.empty_like(pos) if use_grid else pos
    k_neigh = p.n_neigh if p.off_neigh >= 0 else 0
    kd2 = np.empty((n if use_grid else 1, k_neigh), np.float64)
    kj = np.empty((n if use_grid else 1, k_neigh), np.int64)
    n_events = 0
    for t in range(n_steps):
        cursor_update(cursor, pos, alive, genome_id, p, rng, ext, t)
        cx, cy = cursor[CX], cursor[CY]
        pr, ar, cl = cursor[C_PRESENT], cursor[C_ARMED], cursor[C_CLICK]
        if use_grid:
            pos0[:, :] = pos
            grid_build(pos0, alive, team, p, gstart, gitems, gfill, gxy, gteam)
        if parallel:
            _agents_parallel(genomes, pos, pos0, heading, speed, alive, team, acts, cause_now, sizes, offsets, cx, cy,
                             pr, ar, cl, icons, gstart, gitems, gxy, gteam, kd2, kj, p)
        else:
            _agents_serial(genomes, pos, pos0, heading, speed, alive, team, acts, cause_now, sizes, offsets, cx, cy,
                           pr, ar, cl, icons, gstart, gitems, gxy, gteam, kd2, kj, p)
        if t == 0:
            for i in range(n):
                if forced[i] != NONE:
                    if alive[i] and cause_now[i] == NONE:
                        cause_now[i] = forced[i]
                    forced[i] = NONE
        k = 0
        for i in range(n):
            if not alive[i]:
                continue
            c = cause_now[i]
            if c != NONE:
                alive[i] = False
                cause[i] = c
                life = age[i]
                counters[K_DEATHS + c] += 1
                counters[K_LIFE_SUM] += life
                if life > counters[K_LIFE_MAX]:
                    counters[K_LIFE_MAX] = life
                hof_offer(hof, hof_fit, genomes[i], hook_fit[i] if use_hook_fit else float(life))
                if n_events < events.shape[0]:
                    events[n_events, 0] = counters[K_STEP]
                    events[n_events, 1] = i
                    events[n_events, 2] = c
                    events[n_events, 3] = life
                    n_events += 1
                dead[k] = i
                k += 1
            else:
                age[i] += 1
        if p.mode == 0:
            if k > 0:
                for i in range(n):
                    fitness[i] = hook_fit[i] if use_hook_fit else age[i]
                _births(genomes, pos, heading, speed, age, alive, genome_id, parent_id, team, counters, hof, hof_fit,
                        p, rng, icons, gstart, gitems, hook_fit, fitness, dead, k, eligible, parents, parents2, child,
                        placed, 0)
        else:
            counters[K_GEN_STEP] += 1
            any_alive = False
            for i in range(n):
                any_alive = any_alive or alive[i]
            if counters[K_GEN_STEP] >= p.generation_steps or not any_alive:
                _next_generation(genomes, pos, heading, speed, age, alive, genome_id, parent_id, counters, hof,
                                 hof_fit, p, rng, icons, hook_fit, use_hook_fit)
        counters[K_STEP] += 1
    return n_events


class Observer(Protocol):
    """Read-only watcher. `every` is its period in steps; `observe(sim)` runs after each period."""

    every: int

    def observe(self, sim: Simulation) -> None: ...


class Simulation:
    """The world, its population and its random stream. Same seed and settings => bit-identical runs.

    Readable by observers and viewers (only the step writes them):
      state        WorldState; state.team (N,) int8 is each slot's team (colour), fixed for the slot
      genomes      (N, n_params) float32, one row per slot
      icons        (M, 4) float32 icon rectangles x0, y0, x1, y1 in world px (a scenario's on_step may move them)
      layout       brain.Layout; input_offsets {sensor block: (first input, count)} and input_names() label inputs
      settings, params, hooks (the Scenario instance whose hooks run, or None)
    reload_scenario(cls) swaps settings and hooks in place (the viewer's hot reload) when the genome layout allows.
    """

    def __init__(self, settings: Settings, seed: int = 0, scenario: str = "custom", hooks: Scenario | None = None
                 ) -> None:
        self.settings = settings
        self.scenario = scenario
        self.seed = int(seed)
        self.hooks = hooks
        n_extra = hooks.n_extra_inputs if hooks is not None else 0
        self.params: Params = make_params(settings, n_extra)
        self.input_offsets = input_offsets(settings.brain, n_extra)
        self.layout = Layout((self.params.n_in, *settings.brain.hidden, N_OUTPUTS))
        self.rng = np.random.default_rng(self.seed)
        n = settings.world.agents
        self.genomes = init_genomes(self.layout, n, settings.brain.init_sigma, self.rng)  # (N, n_params) float32
        self.icons = layout_icons(settings, self.rng)  # (M, 4) float32 x0, y0, x1, y1
        self.state = WorldState.empty(n, self.layout.n_units)
        self.state.team[:] = np.arange(n) % settings.hazards.teams
        self.hof = np.zeros((settings.evolution.hof_size, self.layout.n_params), np.float32)  # (K, n_params)
        self.hof_fit = np.zeros(settings.evolution.hof_size, np.float64)  # (K,) lifetimes in steps
        self.observers: list[Any] = []
        self.parallel = n >= PARALLEL_MIN_AGENTS
        self._sizes, self._offsets = self.layout.arrays()
        self._no_ext = np.zeros((0, EXT_COLUMNS), np.float64)
        self._no_events = np.zeros((0, 4), np.int64)
        # With collect_events set, run() keeps the deaths the compiled step reported (rows of step, slot, cause,
        # lifetime in steps), the kernel's own account: last_events for the latest compiled chunk (what an
        # observer sees), run_events for the whole last run() call (what a viewer sees after a frame).
        self.collect_events = False
        self.last_events = self.run_events = np.zeros((0, 4), np.int64)
        self._events_buf = np.zeros((0, 4), np.int64)
        self._forced = np.zeros(n, np.int8)  # (N,) causes from extra_deaths, applied at the next step
        self._hooked_at = -1  # step at which the hooks last ran
        s = self.state
        reset_cursor(s.cursor, self.params)
        spawn_all(s.pos, s.heading, s.speed, s.age, s.alive, s.genome_id, s.parent_id, s.counters, self.params,
                  self.rng, self.icons, s.hook_fit)

    def input_names(self) -> list[str]:
        """A label per net input (sensor blocks in order, then extra inputs)."""
        return input_names(self.input_offsets)

    # ---- stepping -------------------------------------------------------------------------------------------
    @property
    def step_count(self) -> int:
        return int(self.state.counters[K_STEP])

    @property
    def sim_seconds(self) -> float:
        return self.step_count * self.settings.world.dt

    def _advance(self, n_steps: int, ext: np.ndarray | None, events: np.ndarray | None) -> int:
        s = self.state
        self.icons = _icons_array(self.icons)
        return int(run_chunk(
            n_steps, self.genomes, s.pos, s.heading, s.speed, s.age, s.alive, s.cause, s.genome_id, s.parent_id,
            s.team, s.hook_fit, s.acts, s.cursor, s.counters, self.hof, self.hof_fit, self._sizes, self._offsets,
            self.params, self.rng, self._no_ext if ext is None else np.ascontiguousarray(ext, np.float64),
            self.parallel, self._no_events if events is None else events, self.icons, self._forced,
            self._use_hook_fit(),
        ))

    def _use_hook_fit(self) -> bool:
        return self.hooks is not None and "fitness" in type(self.hooks).hooks_defined()

    def _hook_period(self) -> int:
        if self.hooks is None or not type(self.hooks).hooks_defined():
            return 0
        return int(type(self.hooks).hook_every)

    def _run_hooks(self) -> None:
        """Call the scenario's hooks (see scenario.py for their order and meaning); bad results -> ScenarioError."""
        h = self.hooks
        assert h is not None
        defined = type(h).hooks_defined()
        n = self.state.n
        if "on_step" in defined:
            self._call(h, "on_step", self.step_count)
            try:
                self.icons = _icons_array(self.icons)
            except ValueError as e:
                raise ScenarioError(f"{where(type(h), 'on_step')}: sim.icons: {e}") from None
        if "extra_deaths" in defined:
            mask = hook_result(h, "extra_deaths", self._call(h, "extra_deaths"), (n,), "bool")
            self._forced[mask & self.state.alive] = RULE
        if "extra_inputs" in defined:
            x = hook_result(h, "extra_inputs", self._call(h, "extra_inputs"), (n, self.params.n_extra), "float")
            o = self.params.off_extra
            self.state.acts[:, o : o + self.params.n_extra] = x
        if "fitness" in defined:
            self.state.hook_fit[:] = hook_result(h, "fitness", self._call(h, "fitness"), (n,), "float")
        self._hooked_at = self.step_count

    def _call(self, h: Scenario, name: str, *args: Any) -> Any:
        try:
            return getattr(h, name)(self, *args)
        except ScenarioError:
            raise
        except Exception as e:  # noqa: BLE001 - a failing hook is the scenario's error, reported with its line
            raise hook_failure(h, name, e) from None

    def run(self, n_steps: int, ext: np.ndarray | None = None) -> None:
        """Advance n_steps, in compiled chunks split only where an observer or the scenario's hooks are due.

        ext (n_steps, 5) float64 drives an "external" cursor: per step x, y, present, armed, click.
        """
        if ext is not None and ext.shape != (n_steps, EXT_COLUMNS):
            raise ValueError(f"ext must have shape ({n_steps}, {EXT_COLUMNS})")
        if n_steps == 0:
            self._advance(0, None, None)  # compiles (or loads from the cache) without stepping
            return
        done = 0
        events: list[np.ndarray] = []
        self.last_events = self.run_events = self._no_events
        while done < n_steps:
            period = self._hook_period()
            if period and self.step_count % period == 0 and self._hooked_at != self.step_count:
                self._run_hooks()
            todo = n_steps - done
            if period:
                todo = min(todo, period - self.step_count % period)
            for obs in self.observers:
                todo = min(todo, obs.every - self.step_count % obs.every)
            buf = self._event_buffer(todo) if self.collect_events else None
            k = self._advance(todo, None if ext is None else ext[done : done + todo], buf)
            if buf is not None:
                self.last_events = buf[:k].copy()
                events.append(self.last_events)
            done += todo
            for obs in self.observers:
                if self.step_count % obs.every == 0:
                    obs.observe(self)
        if events:
            self.run_events = np.concatenate(events)

    def _event_buffer(self, n_steps: int) -> np.ndarray:
        """Rows for the deaths of n_steps steps (every death of a 1-step chunk; at most 65,536 rows otherwise)."""
        rows = min(n_steps * self.state.n, max(self.state.n, 65_536))
        if self._events_buf.shape[0] < rows:
            self._events_buf = np.zeros((rows, 4), np.int64)
        return self._events_buf[:rows]

    def step(self, ext_row: np.ndarray | None = None) -> None:
        """One step (the live viewer's unit); ext_row (5,) drives an external cursor."""
        self.run(1, None if ext_row is None else np.asarray(ext_row, np.float64).reshape(1, EXT_COLUMNS))

    def add_observer(self, obs: Any) -> None:
        self.observers.append(obs)

    def set_cursor_source(self, name: str) -> None:
        """Drive the cursor from another source ("hunter", "external", ...); settings (and saves) keep theirs."""
        from .config import CHOICES

        self.params = self.params._replace(cursor_source=CHOICES["cursor.source"].index(name))

    def set_threads(self, n: int | None) -> None:
        """1: serial kernels; None: the automatic choice. Either gives identical results."""
        self.parallel = self.state.n >= PARALLEL_MIN_AGENTS if n is None else n != 1

    # ---- changing rules mid-run (schedules, hot reload) -----------------------------------------------------
    def same_layout(self, settings: Settings, n_extra: int = 0) -> bool:
        """True if `settings` (with n_extra scenario inputs) keep this population's genome layout and slot count,
        so the genomes and the world can carry on under them."""
        return (settings.world.agents == self.settings.world.agents
                and settings.brain.hidden == self.settings.brain.hidden
                and input_offsets(settings.brain, n_extra) == self.input_offsets)

    def apply_settings(self, overrides: dict[str, Any]) -> None:
        """Change settings mid-run ({"key": value} as --set takes them), keeping the population; for schedules in
        a scenario's on_step. Raises SettingsError for a bad value or a change of the genome layout."""
        new = override(self.settings, overrides)
        n_extra = self.params.n_extra
        if not self.same_layout(new, n_extra):
            raise SettingsError("this change needs a new genome layout (sensors, hidden, agents): start a new run")
        self._swap(new, self.hooks)

    def reload_scenario(self, cls: type[Scenario], overrides: dict[str, Any] | None = None) -> None:
        """Hot reload: take settings and hooks from a (re)loaded scenario class, keeping genomes and the world when
        the genome layout is unchanged. Raises ScenarioError (naming the file) when it changed or is invalid.

        Run check_scenario(cls) first to call its hooks once on a small world before they touch this one."""
        check_class(cls)
        try:
            new = cls.settings(overrides)
        except SettingsError as e:
            raise settings_error(cls, e) from None
        if not self.same_layout(new, cls.n_extra_inputs):
            old, want = self.layout.sizes, (sum(n for _, n in input_offsets(new.brain, cls.n_extra_inputs).values()),
                                           *new.brain.hidden, N_OUTPUTS)
            raise ScenarioError(
                f"{source_of(cls)}: the genome layout changed ({'-'.join(map(str, old))} with "
                f"{', '.join(self.input_offsets)} -> {'-'.join(map(str, want))} with "
                f"{', '.join(input_offsets(new.brain, cls.n_extra_inputs))}, or agents "
                f"{self.settings.world.agents} -> {new.world.agents}); restart to use it")
        self._swap(new, cls())
        self.scenario = cls.name or self.scenario

    def _swap(self, new: Settings, hooks: Scenario | None) -> None:
        old = self.settings
        self.settings = new
        self.hooks = hooks
        self.params = make_params(new, self.params.n_extra)
        if (new.hazards.icons, new.hazards.icon_size, new.world.width, new.world.height) != (
                old.hazards.icons, old.hazards.icon_size, old.world.width, old.world.height):
            self.icons = layout_icons(new, self.rng)
        if new.hazards.teams != old.hazards.teams:
            self.state.team[:] = np.arange(self.state.n) % new.hazards.teams
        if new.evolution.hof_size != old.evolution.hof_size:
            keep = np.argsort(-self.hof_fit, kind="stable")[: new.evolution.hof_size]
            hof = np.zeros((new.evolution.hof_size, self.layout.n_params), np.float32)
            hof_fit = np.zeros(new.evolution.hof_size, np.float64)
            hof[: keep.size], hof_fit[: keep.size] = self.hof[keep], self.hof_fit[keep]
            self.hof, self.hof_fit = hof, hof_fit
        if new.cursor.source != old.cursor.source:
            reset_cursor(self.state.cursor, self.params)
        self.state.hook_fit[:] = 0.0
        self._hooked_at = -1

    # ---- checkpoints ----------------------------------------------------------------------------------------
    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write population, state, hall of fame, settings and RNG state as plain arrays (temp file + rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": "neuroevo-population", "format_version": 1, "version": __version__,
            "scenario": self.scenario, "seed": self.seed, "settings": self.settings.to_dict(),
            "rng": self.rng.bit_generator.state, "extra": extra or {},
        }
        arrays = {f"state_{k}": v for k, v in self.state.arrays().items()}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez_compressed(f, genomes=self.genomes, hof=self.hof, hof_fit=self.hof_fit, icons=self.icons,
                                    meta=np.array(json.dumps(meta, default=_json_default)), **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path, overrides: dict[str, Any] | None = None, hooks: Scenario | None = None
             ) -> tuple[Simulation, dict[str, Any]]:
        """Rebuild a Simulation from save(), with the scenario's hooks; returns it and the `extra` dict.
        Raises CheckpointError. Files written before scenarios had teams, icons or hooks load too."""
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"{path}: no such file")
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != "neuroevo-population":
                raise CheckpointError(f"{path}: not a neuroevo population file")
            if meta.get("format_version") != 1:
                raise CheckpointError(f"{path}: unsupported format version {meta.get('format_version')}")
            settings = Settings.from_dict(meta["settings"])
        except CheckpointError:
            raise
        except SettingsError as e:
            raise CheckpointError(f"{path}: bad settings inside: {e}") from None
        except Exception as e:  # noqa: BLE001 - zip, JSON and key errors all mean a corrupt file
            raise CheckpointError(f"{path}: corrupt or unreadable population file ({type(e).__name__}: {e})") from None
        if overrides:
            from .config import override

            new = override(settings, overrides)
            if new.brain.hidden != settings.brain.hidden or new.world.agents != settings.world.agents:
                raise CheckpointError(f"{path}: --set cannot change brain.hidden or world.agents of a saved population")
            settings = new
        try:
            sim = cls(settings, seed=int(meta["seed"]), scenario=str(meta["scenario"]), hooks=hooks)
        except SettingsError as e:
            raise CheckpointError(f"{path}: {e}") from None
        try:
            _restore(sim, data, meta)
        except (KeyError, ValueError, TypeError) as e:
            raise CheckpointError(f"{path}: corrupt or incompatible population file ({e})") from None
        return sim, dict(meta.get("extra", {}))


def _restore(sim: Simulation, data: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    def put(dst: np.ndarray, src: np.ndarray, name: str) -> None:
        if src.shape != dst.shape or src.dtype != dst.dtype:
            raise ValueError(f"{name} has shape {src.shape} {src.dtype}, expected {dst.shape} {dst.dtype}")
        if src.dtype.kind == "f" and not np.all(np.isfinite(src)):
            raise ValueError(f"{name} holds non-finite values")
        dst[...] = src

    put(sim.genomes, data["genomes"], "genomes")
    put(sim.hof, data["hof"], "hof")
    put(sim.hof_fit, data["hof_fit"], "hof_fit")
    for k, v in sim.state.arrays().items():
        src = data.get(f"state_{k}")
        if src is None and k in ("team", "hook_fit"):
            continue  # written before teams and hooks existed: keep the fresh values
        if src is None:
            raise KeyError(f"state_{k}")
        if k == "counters" and src.shape[0] < v.shape[0]:
            src = np.concatenate([src, np.zeros(v.shape[0] - src.shape[0], src.dtype)])  # causes added later
        put(v, src, k)
    if "icons" in data:
        sim.icons = _icons_array(data["icons"])
    sim.rng.bit_generator.state = meta["rng"]


def _icons_array(icons: Any) -> np.ndarray:
    """Icons as the kernels need them: (M, 4) float32, C-contiguous, finite, x0 <= x1 and y0 <= y1."""
    a = np.ascontiguousarray(icons, np.float32)
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"icons must have shape (M, 4) (x0, y0, x1, y1), got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a[:, 2] < a[:, 0]) or np.any(a[:, 3] < a[:, 1]):
        raise ValueError("icons must be finite rectangles with x0 <= x1 and y0 <= y1")
    return a


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    raise TypeError(type(o).__name__)
