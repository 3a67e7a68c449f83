"""Simulation: owns settings, state, genomes and the one seeded Generator; steps the world in compiled chunks.

One step, the same for live, headless and replay re-simulation:
    cursor  <- cursor source (hunter / random / external row)
    inputs  <- sense(state, cursor)            acts[:, :N_INPUTS]
    outputs <- forward(genomes, inputs)        acts[:, -2:]  (turn, thrust)
    state   <- move(state, outputs, dt)
    cause   <- hazards(state, cursor)          edge / cursor
    births  <- select parents among the living by lifetime, copy + mutate into the dead slots
`run(n)` executes n such steps inside one numba call, so Python overhead is paid per chunk, not per step.
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
from .config import Params, Settings, SettingsError, make_params
from .cursor import EXT_COLUMNS, cursor_update, reset_cursor
from .evolution import hof_offer, make_child, select
from .physics import hazard_one, move_one
from .sensors import N_INPUTS, sense_one
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
    WorldState,
)

N_OUTPUTS = 2  # turn, thrust
# From this many agents a step spreads them over threads. On an idle machine with OpenMP's active waiting the
# prange kernel won even at 50 agents (96 vs 192 ns per agent-step), but with another process busy it stalled for
# milliseconds per launch (100x slower at 50 agents), and with passive waiting (see __init__) each launch pays a
# thread wake-up that only a step of ~1,000 agents amortizes. Serial below that is fast everywhere.
PARALLEL_MIN_AGENTS = 1000


class CheckpointError(ValueError):
    """A population file that is missing, corrupt or incompatible; the message names the file."""


@numba.njit(cache=True, inline="always", error_model="numpy")
def _agent_step(
    i, genomes, pos, heading, speed, alive, acts, cause_now, sizes, offsets, cx, cy, present, armed, click, p
):
    i = U(i)  # unsigned: no negative-index wraparound code (see brain.forward_one)
    if not alive[i]:
        cause_now[i] = NONE
        return
    a = acts[i]
    sense_one(pos[i, U(0)], pos[i, U(1)], heading[i], speed[i], cx, cy, present, armed, p, a)
    forward_one(genomes, acts, i, sizes, offsets)
    n = U(a.shape[0])
    x, y, h, v = move_one(pos[i, U(0)], pos[i, U(1)], heading[i], speed[i], a[n - U(2)], a[n - U(1)], p)
    pos[i, U(0)] = x
    pos[i, U(1)] = y
    heading[i] = h
    speed[i] = v
    cause_now[i] = hazard_one(x, y, cx, cy, click, p)


@numba.njit(cache=True, error_model="numpy")
def _agents_serial(genomes, pos, heading, speed, alive, acts, cause_now, sizes, offsets, cx, cy, pr, ar, cl, p):
    for i in range(alive.shape[0]):
        _agent_step(i, genomes, pos, heading, speed, alive, acts, cause_now, sizes, offsets, cx, cy, pr, ar, cl, p)


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _agents_parallel(genomes, pos, heading, speed, alive, acts, cause_now, sizes, offsets, cx, cy, pr, ar, cl, p):
    for i in numba.prange(alive.shape[0]):
        _agent_step(i, genomes, pos, heading, speed, alive, acts, cause_now, sizes, offsets, cx, cy, pr, ar, cl, p)


@numba.njit(cache=True, error_model="numpy")
def spawn(i, pos, heading, speed, age, alive, genome_id, parent_id, parent, counters, p, rng):
    """Put a newborn into slot i: uniform inside the spawn box, random heading, birth speed, fresh id."""
    mx = p.spawn_margin * p.width
    my = p.spawn_margin * p.height
    pos[i, 0] = mx + rng.random() * (p.width - 2.0 * mx)
    pos[i, 1] = my + rng.random() * (p.height - 2.0 * my)
    heading[i] = (rng.random() * 2.0 - 1.0) * math.pi
    speed[i] = p.birth_speed
    age[i] = 0
    alive[i] = True
    genome_id[i] = counters[K_NEXT_ID]
    counters[K_NEXT_ID] += 1
    parent_id[i] = parent


@numba.njit(cache=True, error_model="numpy")
def _next_generation(genomes, pos, heading, speed, age, alive, genome_id, parent_id, counters, hof, hof_fit, p, rng):
    """Generational mode: rebuild every slot from this generation's lifetimes (elites kept unchanged)."""
    n = genomes.shape[0]
    fitness = age.astype(np.float64)
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
    for j in range(n):
        if j < p.elites:
            new[j, :] = genomes[order[j]]
            parent = ids[order[j]]
        else:
            make_child(genomes, parents[j], parents2[j], hof, hof_fit, p, rng, new[j])
            parent = ids[parents[j]]
        spawn(j, pos, heading, speed, age, alive, genome_id, parent_id, parent, counters, p, rng)
        counters[K_BIRTHS] += 1
    genomes[:, :] = new
    counters[K_GEN_STEP] = 0
    counters[K_GENERATION] += 1


@numba.njit(cache=True, error_model="numpy")
def run_chunk(
    n_steps, genomes, pos, heading, speed, age, alive, cause, genome_id, parent_id, acts, cursor, counters,
    hof, hof_fit, sizes, offsets, p, rng, ext, parallel, events,
):
    """Advance the world n_steps steps. events (n_steps * N, 4) int64 receives (step, slot, cause, lifetime) of
    each death when it has rows (replay recording); returns the number of event rows written."""
    n = alive.shape[0]
    cause_now = np.zeros(n, np.int8)
    dead = np.empty(n, np.int64)
    parents = np.empty(n, np.int64)
    parents2 = np.empty(n, np.int64)
    fitness = np.empty(n, np.float64)
    child = np.empty(genomes.shape[1], np.float32)
    n_events = 0
    for t in range(n_steps):
        cursor_update(cursor, pos, alive, genome_id, p, rng, ext, t)
        cx, cy = cursor[CX], cursor[CY]
        pr, ar, cl = cursor[C_PRESENT], cursor[C_ARMED], cursor[C_CLICK]
        if parallel:
            _agents_parallel(genomes, pos, heading, speed, alive, acts, cause_now, sizes, offsets, cx, cy, pr, ar, cl,
                             p)
        else:
            _agents_serial(genomes, pos, heading, speed, alive, acts, cause_now, sizes, offsets, cx, cy, pr, ar, cl,
                           p)
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
                hof_offer(hof, hof_fit, genomes[i], float(life))
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
                any_alive = False
                for i in range(n):
                    fitness[i] = age[i]
                    any_alive = any_alive or alive[i]
                src = genomes if any_alive else genomes.copy()
                select(fitness, alive, k, p.selection, p.tournament_k, p.truncation, rng, parents)
                if p.crossover > 0.0:
                    select(fitness, alive, k, p.selection, p.tournament_k, p.truncation, rng, parents2)
                else:
                    parents2[:k] = parents[:k]
                for j in range(k):
                    make_child(src, parents[j], parents2[j], hof, hof_fit, p, rng, child)
                    d = dead[j]
                    genomes[d, :] = child
                    spawn(d, pos, heading, speed, age, alive, genome_id, parent_id, genome_id[parents[j]], counters,
                          p, rng)
                    counters[K_BIRTHS] += 1
        else:
            counters[K_GEN_STEP] += 1
            any_alive = False
            for i in range(n):
                any_alive = any_alive or alive[i]
            if counters[K_GEN_STEP] >= p.generation_steps or not any_alive:
                _next_generation(genomes, pos, heading, speed, age, alive, genome_id, parent_id, counters, hof,
                                 hof_fit, p, rng)
        counters[K_STEP] += 1
    return n_events


class Observer(Protocol):
    """Read-only watcher. `every` is its period in steps; `observe(sim)` runs after each period."""

    every: int

    def observe(self, sim: Simulation) -> None: ...


class Simulation:
    """The world, its population and its random stream. Same seed and settings => bit-identical runs."""

    def __init__(self, settings: Settings, seed: int = 0, scenario: str = "custom") -> None:
        self.settings = settings
        self.scenario = scenario
        self.seed = int(seed)
        self.params: Params = make_params(settings)
        self.layout = Layout((N_INPUTS, *settings.brain.hidden, N_OUTPUTS))
        self.rng = np.random.default_rng(self.seed)
        n = settings.world.agents
        self.genomes = init_genomes(self.layout, n, settings.brain.init_sigma, self.rng)  # (N, n_params) float32
        self.state = WorldState.empty(n, self.layout.n_units)
        self.hof = np.zeros((settings.evolution.hof_size, self.layout.n_params), np.float32)  # (K, n_params)
        self.hof_fit = np.zeros(settings.evolution.hof_size, np.float64)  # (K,) lifetimes in steps
        self.observers: list[Any] = []
        self.parallel = n >= PARALLEL_MIN_AGENTS
        self._sizes, self._offsets = self.layout.arrays()
        self._no_ext = np.zeros((0, EXT_COLUMNS), np.float64)
        self._no_events = np.zeros((0, 4), np.int64)
        s = self.state
        reset_cursor(s.cursor, self.params)
        for i in range(n):
            spawn(i, s.pos, s.heading, s.speed, s.age, s.alive, s.genome_id, s.parent_id, -1, s.counters,
                  self.params, self.rng)

    # ---- stepping -------------------------------------------------------------------------------------------
    @property
    def step_count(self) -> int:
        return int(self.state.counters[K_STEP])

    @property
    def sim_seconds(self) -> float:
        return self.step_count * self.settings.world.dt

    def _advance(self, n_steps: int, ext: np.ndarray | None, events: np.ndarray | None) -> int:
        s = self.state
        return int(run_chunk(
            n_steps, self.genomes, s.pos, s.heading, s.speed, s.age, s.alive, s.cause, s.genome_id, s.parent_id,
            s.acts, s.cursor, s.counters, self.hof, self.hof_fit, self._sizes, self._offsets, self.params, self.rng,
            self._no_ext if ext is None else np.ascontiguousarray(ext, np.float64), self.parallel,
            self._no_events if events is None else events,
        ))

    def run(self, n_steps: int, ext: np.ndarray | None = None) -> None:
        """Advance n_steps, in compiled chunks split only where an observer is due.

        ext (n_steps, 5) float64 drives an "external" cursor: per step x, y, present, armed, click.
        """
        if ext is not None and ext.shape != (n_steps, EXT_COLUMNS):
            raise ValueError(f"ext must have shape ({n_steps}, {EXT_COLUMNS})")
        if n_steps == 0:
            self._advance(0, None, None)  # compiles (or loads from the cache) without stepping
            return
        done = 0
        while done < n_steps:
            todo = n_steps - done
            for obs in self.observers:
                todo = min(todo, obs.every - self.step_count % obs.every)
            self._advance(todo, None if ext is None else ext[done : done + todo], None)
            done += todo
            for obs in self.observers:
                if self.step_count % obs.every == 0:
                    obs.observe(self)

    def step(self, ext_row: np.ndarray | None = None) -> None:
        """One step (the live viewer's unit); ext_row (5,) drives an external cursor."""
        self.run(1, None if ext_row is None else np.asarray(ext_row, np.float64).reshape(1, EXT_COLUMNS))

    def add_observer(self, obs: Any) -> None:
        self.observers.append(obs)

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
                np.savez_compressed(f, genomes=self.genomes, hof=self.hof, hof_fit=self.hof_fit,
                                    meta=np.array(json.dumps(meta, default=_json_default)), **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[Simulation, dict[str, Any]]:
        """Rebuild a Simulation from save(); returns it and the `extra` dict. Raises CheckpointError."""
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
        sim = cls(settings, seed=int(meta["seed"]), scenario=str(meta["scenario"]))
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
        put(v, data[f"state_{k}"], k)
    sim.rng.bit_generator.state = meta["rng"]


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    raise TypeError(type(o).__name__)
