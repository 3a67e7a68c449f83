"""The compiled step: per-agent sense -> forward -> move -> hazard, deaths, and births, n steps per call.

One step, the same for live, headless and replay re-simulation:
    cursor  <- cursor source (hunter / random / external row)
    grid    <- the living sorted into cells (only when contact or neighbour sensors are on)
    contact <- agents touching another (of another team) die before they move   crowd / team
    inputs  <- sense(state, cursor, icons, grid)  acts[:, :n_in]
    outputs <- forward(genomes, inputs)           acts[:, -2:]  (turn, thrust)
    state   <- move(state, outputs, dt)
    cause   <- hazards(state, cursor, icons)      edge / icon / cursor
    births  <- select parents among the living by fitness, copy + mutate into the dead slots (same team)

The kernels take bundles (named tuples of arrays) rather than long argument lists:
    w    state.WorldState   per-agent arrays, cursor vector, counters (what a checkpoint saves)
    b    Brains             genomes, hall of fame, layer sizes and offsets
    env  Env                icons, external cursor rows, forced deaths, the death-report buffer
    scr  Scratch            per-call buffers (grid, neighbour lists, parents, ...), never read across calls
    p    config.Params      settings as numbers
A new per-agent field goes into WorldState; a new buffer into Scratch; no signature changes.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from .births import births, next_generation
from .brain import U, forward_one, forward_pair
from .config import Mode
from .cursor import cursor_update
from .evolution import hof_offer
from .grid import INF, contact_cause, grid_build, scan_neighbours
from .physics import hazard_one, heading_cs, move_one
from .record import rec_room, record_frame
from .sensors import sense_one
from .simd import prefetch
from .state import C_ARMED, C_CLICK, C_PRESENT, CX, CY, K_DEATHS, K_GEN_STEP, K_LIFE_MAX, K_LIFE_SUM, K_STEP, NONE


class Brains(NamedTuple):
    """The population's nets and the hall of fame."""

    genomes: np.ndarray  # (N, n_params) float32, one row per slot
    hof: np.ndarray  # (K, n_params) float32 longest-lived genomes seen
    hof_fit: np.ndarray  # (K,) float64 their fitness
    sizes: np.ndarray  # (L + 1,) int64 layer widths (brain.Layout.arrays)
    offsets: np.ndarray  # (L + 1,) int64 first unit of each layer in an activation row


class Env(NamedTuple):
    """What the world gets from outside the step for one call."""

    icons: np.ndarray  # (M, 4) float32 icon rectangles x0, y0, x1, y1
    ext: np.ndarray  # (n_steps, 5) float64 external cursor rows (x, y, present, armed, click); 0 rows: none
    forced: np.ndarray  # (N,) int8 causes from a scenario's extra_deaths, applied at the first step, then cleared
    events: np.ndarray  # (R, 4) int64 receives (step, slot, cause, lifetime) of each death while rows remain
    steer: np.ndarray  # (N,) bool slots steered from outside: their outputs are taken from `actions`
    actions: np.ndarray  # (N, 2) float32 turn, thrust in [-1, 1] for the steered slots (0 rows: nobody is steered)


class Scratch(NamedTuple):
    """Buffers of one run_chunk call (allocated by scratch(), written before they are read every step)."""

    cause_now: np.ndarray  # (N,) int8 this step's death cause per slot
    dead: np.ndarray  # (N,) int64 slots that died this step (first k)
    placed: np.ndarray  # (N,) int64 slots born this step (newborns keep clear of them)
    parents: np.ndarray  # (N,) int64 selected parents
    parents2: np.ndarray  # (N,) int64 second parents (crossover)
    eligible: np.ndarray  # (N,) bool who may be a parent
    fitness: np.ndarray  # (N,) float64 selection fitness
    child: np.ndarray  # (n_params,) float32 a child's genome being made
    gstart: np.ndarray  # (n_cells + 1,) int64 grid: slots of cell c are gitems[gstart[c]:gstart[c + 1]]
    gfill: np.ndarray  # (n_cells,) int64 grid build scratch
    gitems: np.ndarray  # (N,) int64 grid: slots sorted by cell
    gxy: np.ndarray  # (N, 2) float32 grid: their positions
    gteam: np.ndarray  # (N,) int8 grid: their teams
    pos0: np.ndarray  # (N, 2) float32 positions at the start of the step (the state's pos without the grid)
    kd2: np.ndarray  # (N, K) float64 squared distances of the K nearest neighbours
    kj: np.ndarray  # (N, K) int64 their slots (-1: none)
    cs: np.ndarray  # (N, 2) float64 cos, sin of each slot's heading (physics.heading_cs), kept by the move
    live: np.ndarray  # (N,) int64 agents_range: the slots of a group that go through the forward pass


@numba.njit(cache=True, error_model="numpy")
def scratch(pos, n_params, p) -> Scratch:
    """The buffers for one call (grid buffers only when p.use_grid)."""
    n = pos.shape[0]
    use_grid = p.use_grid != 0
    n_cells = p.grid_nx * p.grid_ny if use_grid else 0
    k_neigh = p.n_neigh if p.off_neigh >= 0 else 0
    return Scratch(
        np.zeros(n, np.int8), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64),
        np.empty(n, np.int64), np.empty(n, np.bool_), np.empty(n, np.float64), np.empty(n_params, np.float32),
        np.zeros(n_cells + 1, np.int64), np.empty(n_cells, np.int64), np.empty(n if use_grid else 0, np.int64),
        np.empty((n if use_grid else 0, 2), np.float32), np.empty(n if use_grid else 0, np.int8),
        np.empty_like(pos) if use_grid else pos,
        np.empty((n if use_grid else 1, k_neigh), np.float64), np.empty((n if use_grid else 1, k_neigh), np.int64),
        np.empty((n, 2), np.float64), np.empty(n, np.int64),
    )


GROUP = 16  # agents_range senses, forwards and moves this many agents at a time
RANGES = 64  # agents_parallel: agent ranges per step (numba.get_num_threads() would make the kernel uncacheable)


# The ranges are called, not inlined, functions: numba 0.60-0.68 loses element writes through a named tuple's arrays
# (w.pos[i, 0] = x) when such a body is inlined into a prange loop. Inside a range the per-agent kernels are
# inlined into plain loops, so the bundles are unpacked once per range instead of once per agent (a call per agent
# passed several hundred words of tuples and cost more than the agent's own work).
@numba.njit(cache=True, error_model="numpy")
def agents_range(lo, hi, w, b, env, scr, cur, p):
    """Agents lo .. hi-1 for one step: contact, sense, forward (or the outside's action), move, hazard ->
    scr.cause_now. cur (5,) tuple: cursor x, y, present, armed, click.

    GROUP agents at a time: the group is sensed (its genome rows are prefetched meanwhile, so the forward pass finds
    them in cache), its living agents go through the forward pass two at a time, then they move. An agent reads no
    other agent's row during the step (neighbours come from the start-of-step snapshot), so the grouping and the
    pairing change no result. scr.cs holds each heading's (cos, sin) from the move before (run_chunk keeps it).
    """
    genomes, acts, pos, alive, cause_now, live, cs = b.genomes, w.acts, w.pos, w.alive, scr.cause_now, scr.live, scr.cs
    g_addr = U(genomes.ctypes.data)
    g_row = U(genomes.strides[0])
    n = U(acts.shape[1])
    steered = env.steer.shape[0] > 0
    for g0 in range(lo, hi, GROUP):
        g1 = min(g0 + GROUP, hi)
        k = g0
        for i in range(g0, g1):
            i = U(i)  # unsigned: no negative-index wraparound code (see brain.forward_pair)
            if not alive[i]:
                cause_now[i] = NONE
                continue
            prefetch(g_addr + i * g_row, g_row)
            x0 = pos[i, U(0)]
            y0 = pos[i, U(1)]
            if p.use_grid != 0:
                nb = scan_neighbours(i, x0, y0, w.team[i], scr, p)
                c = contact_cause(nb[0], nb[2], p)
                if c != NONE:  # touching at the start of the step (where the last step's moves left them): both die
                    cause_now[i] = c
                    continue
            else:
                nb = (INF, -1, INF, -1)
            sense_one(i, (x0, y0, w.heading[i], w.speed[i], cs[i, U(0)], cs[i, U(1)]), cur, nb, env.icons, scr, p,
                      acts[i])
            live[k] = i
            k += 1
        q = g0
        while q + 1 < k:
            forward_pair(genomes, acts, live[q], live[q + 1], b.sizes, b.offsets)
            q += 2
        if q < k:
            forward_one(genomes, acts, live[q], b.sizes, b.offsets)
        for q in range(g0, k):
            i = U(live[q])
            if steered and env.steer[i]:
                acts[i, n - U(2)] = min(max(env.actions[i, U(0)], np.float32(-1.0)), np.float32(1.0))
                acts[i, n - U(1)] = min(max(env.actions[i, U(1)], np.float32(-1.0)), np.float32(1.0))
            x, y, h, v, c, s = move_one(pos[i, U(0)], pos[i, U(1)], w.heading[i], w.speed[i], acts[i, n - U(2)],
                                        acts[i, n - U(1)], p)
            pos[i, U(0)] = x
            pos[i, U(1)] = y
            w.heading[i] = h
            w.speed[i] = v
            cs[i, U(0)] = c
            cs[i, U(1)] = s
            cause_now[i] = hazard_one(x, y, cur[0], cur[1], cur[4], env.icons, p)


@numba.njit(cache=True, error_model="numpy")
def agents_serial(w, b, env, scr, cur, p):
    agents_range(0, w.alive.shape[0], w, b, env, scr, cur, p)


@numba.njit(cache=True, parallel=True, error_model="numpy")
def agents_parallel(w, b, env, scr, cur, p):
    """agents_range over up to RANGES ranges (a power of two, each of at least GROUP agents), spread over the
    threads."""
    n = w.alive.shape[0]
    # a power of two of ranges, so that 2, 4 or 8 threads get equal shares (3 ranges of 50 agents gave one thread
    # two of them: the step took 2/3 of the serial time at best)
    n_ranges = 1
    while n_ranges * 2 <= min(n // GROUP, RANGES):
        n_ranges *= 2
    size = (n + n_ranges - 1) // n_ranges
    for r in numba.prange(n_ranges):
        agents_range(r * size, min(n, (r + 1) * size), w, b, env, scr, cur, p)


@numba.njit(cache=True, error_model="numpy")
def headings_cs(heading, cs, slots, k):
    """cs[i] <- heading_cs(heading[i]) for the slots slots[:k] (k < 0: every slot)."""
    m = heading.shape[0] if k < 0 else k
    for q in range(m):
        i = q if k < 0 else slots[q]
        c, s = heading_cs(heading[i])
        cs[i, 0] = c
        cs[i, 1] = s


@numba.njit(cache=True, error_model="numpy")
def _apply_deaths(t, w, b, env, scr, use_hook_fit, n_events):
    """Turn this step's causes into deaths (counters, hall of fame, death reports), age the survivors.
    Returns (k dead, n_events)."""
    n = w.alive.shape[0]
    if t == 0:
        for i in range(n):
            if env.forced[i] != NONE:
                if w.alive[i] and scr.cause_now[i] == NONE:
                    scr.cause_now[i] = env.forced[i]
                env.forced[i] = NONE
    k = 0
    for i in range(n):
        if not w.alive[i]:
            continue
        c = scr.cause_now[i]
        if c != NONE:
            w.alive[i] = False
            w.cause[i] = c
            life = w.age[i]
            w.counters[K_DEATHS + c] += 1
            w.counters[K_LIFE_SUM] += life
            if life > w.counters[K_LIFE_MAX]:
                w.counters[K_LIFE_MAX] = life
            hof_offer(b.hof, b.hof_fit, b.genomes[i], w.hook_fit[i] if use_hook_fit else float(life))
            if n_events < env.events.shape[0]:
                env.events[n_events, 0] = w.counters[K_STEP]
                env.events[n_events, 1] = i
                env.events[n_events, 2] = c
                env.events[n_events, 3] = life
                n_events += 1
            scr.dead[k] = i
            k += 1
        else:
            w.age[i] += 1
    return k, n_events


@numba.njit(cache=True, nogil=True, error_model="numpy")
def run_chunk(n_steps, w, b, env, p, rng, parallel, use_hook_fit, rec, sp):
    """Advance the world n_steps steps; returns the number of death reports written into env.events.

    Runs without Python's lock (nogil): a recorder's writer thread encodes and compresses the last chunk meanwhile.

    use_hook_fit: select parents by w.hook_fit (a scenario's fitness hook) instead of lifetime.
    sp (species.Species): the species (0 rows: niching off); outside Brains, which the parallel region takes.
    rec (record.Rec): with rows, every step ends by writing its frame there (record.record_frame), and the call
    stops early, after rec.n[0] steps, when the next step might not fit (frames, births or death reports).
    With the grid (p.use_grid): the living are sorted into cells from a snapshot of the positions at the start of
    each step; each agent scans its 3x3 cells of the snapshot (never a neighbour's half-updated row) once, for its
    neighbour and team inputs and for contact: two agents closer than contact_radius when the step starts (where
    the last step's moves left them) both die, before they move. Newborns appear clear of everyone, so a contact
    death always follows a move. One scan and one parallel pass per step keep crowd close to the cost of edges.
    """
    n = w.alive.shape[0]
    scr = scratch(w.pos, b.genomes.shape[1], p)
    headings_cs(w.heading, scr.cs, scr.dead, -1)  # from the headings as they are (a hook may have turned agents)
    use_grid = p.use_grid != 0
    n_events = 0
    recording = rec.pos.shape[0] > 0
    for t in range(n_steps):
        if recording and not rec_room(rec, n_events, env.events.shape[0], n):
            break
        cursor_update(w.cursor, w.pos, w.alive, w.genome_id, p, rng, env.ext, t)
        cur = (w.cursor[CX], w.cursor[CY], w.cursor[C_PRESENT], w.cursor[C_ARMED], w.cursor[C_CLICK])
        if use_grid:
            scr.pos0[:, :] = w.pos
            grid_build(scr.pos0, w.alive, w.team, p, scr.gstart, scr.gitems, scr.gfill, scr.gxy, scr.gteam)
        if parallel:
            agents_parallel(w, b, env, scr, cur, p)
        else:
            agents_serial(w, b, env, scr, cur, p)
        k, n_events = _apply_deaths(t, w, b, env, scr, use_hook_fit, n_events)
        if p.mode == Mode.STEADY:
            if k > 0:
                for i in range(n):
                    scr.fitness[i] = w.hook_fit[i] if use_hook_fit else w.age[i]
                births(w, b, env.icons, scr, k, p, rng, sp)
                headings_cs(w.heading, scr.cs, scr.dead, k)  # the newborns in the dead slots
        elif p.mode == Mode.GENERATIONAL:
            w.counters[K_GEN_STEP] += 1
            any_alive = False
            for i in range(n):
                any_alive = any_alive or w.alive[i]
            if w.counters[K_GEN_STEP] >= p.generation_steps or not any_alive:
                next_generation(w, b, env.icons, p, rng, use_hook_fit, sp)
                headings_cs(w.heading, scr.cs, scr.dead, -1)
        w.counters[K_STEP] += 1
        if recording:
            record_frame(w, b.genomes, rec)
    return n_events
