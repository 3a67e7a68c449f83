"""The compiled step's bundles and its agents' part: per-agent sense -> forward -> move -> hazard, on one thread
(agents_range) or shared with helper threads (agents_team, team_helper); steploop.run_chunk runs whole steps.

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

import math
from typing import NamedTuple

import numba
import numpy as np

from . import atomics
from .brain import U, forward_one, forward_pair
from .config import Frame
from .grid import INF, Grid, contact_cause, scan_range
from .obstacles import BIG, nearest_icon
from .physics import hazard_one, heading_cs, move_one
from .sensors import agent_thing, edges_in, speed_in, thing
from .simd import prefetch
from .state import (
    C_ARMED,
    C_CLICK,
    C_PRESENT,
    CX,
    CY,
    NONE,
)
from .teamstep import (
    T_HELPED,
    T_SIZE,
    T_STOP,
    T_WIN,
    T_WSIZE,
    TEAM_WORDS,
    chunk_done,
    claim,
    publish,
    wait_done,
    wait_epoch,
)


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
    """Buffers of run_chunk calls (allocated by scratch(), written before they are read every step, but team)."""

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
    near_d: np.ndarray  # (N, 2) float64 grid: squared distance of the nearest agent of the own / another team
    near_j: np.ndarray  # (N, 2) int64 grid: their slots (-1: none)
    team: np.ndarray  # (TEAM_WORDS,) int64 the team step's control words (agents_team; kept across calls)
    wdeath: np.ndarray  # (N,) int64 run_window: the step at which a slot died in the window, not yet handled (-1)
    wcause: np.ndarray  # (N,) int8 run_window: its cause
    wlist: np.ndarray  # (N,) int64 run_window: the slots whose death is not handled yet


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
        np.empty((n if use_grid else 0, 2), np.float64), np.empty((n if use_grid else 0, 2), np.int64),
        np.zeros(TEAM_WORDS, np.int64), np.full(n, -1, np.int64), np.zeros(n, np.int8),
        np.empty(n, np.int64),
    )


GROUP = 16  # agents_range senses, forwards and moves this many agents at a time


# agents_range is a called, not an inlined, function (run_chunk, agents_team, team_helper and envs.sense call it).
# Inside it the per-agent kernels are inlined into plain loops, so the bundles are unpacked once per call instead of
# once per agent (a call per agent passed several hundred words of tuples and cost more than the agent's own work).
# Its roles: which agents it takes, and what it does with them
R_RANGE = 0  # lo .. hi-1
R_MAIN = 1  # chunks of the current team epoch, claimed until none is left (agents_team)
R_HELPER = 2  # chunks of every epoch until the call stops (team_helper)
R_SENSE = 3  # lo .. hi-1, only their sensor inputs (envs.sense)
R_WINDOW = 4  # lo .. hi-1 for the steps s0 .. s1-1 of a window (run_window: a newborn catching up)


class Part(NamedTuple):
    """Which agents an agents_range call takes."""

    lo: int  # R_RANGE, R_SENSE: the agents lo .. hi-1
    hi: int
    role: int  # R_RANGE, R_MAIN, R_HELPER, R_SENSE or R_WINDOW
    ctl: np.ndarray  # (TEAM_WORDS,) int64 the team step's control words (R_MAIN, R_HELPER; else unused)
    s0: int  # R_WINDOW: the window's steps s0 .. s1-1 (R_MAIN, R_HELPER read them from ctl[T_WIN:T_WIN + 2] each
    s1: int  # epoch; else unused: one step)


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def agents_range(part, w, b, env, scr, p):
    """The agents of part (a Part) for one step: contact, sense, forward (or the outside's action), move, hazard ->
    scr.cause_now, with the cursor as w.cursor holds it. Role R_SENSE: only write the living agents' sensor inputs
    (no contact deaths, no forward pass, no move; envs.sense). In a window (run_window; role R_WINDOW, or a team
    epoch whose ctl[T_WIN + 1] > ctl[T_WIN]) the agents go through each of the window's steps, and at the end of
    each step an agent with a cause stops, not alive, its step and cause in scr.wdeath and scr.wcause; the others
    age.

    GROUP agents at a time: the group is sensed (its genome rows are prefetched meanwhile, so the forward pass finds
    them in cache), its living agents go through the forward pass two at a time, then they move. An agent reads no
    other agent's row during the step (neighbours come from the start-of-step snapshot), so the grouping and the
    pairing change no result. scr.cs holds each heading's (cos, sin) from the move before (run_chunk keeps it).

    Every array is taken out of its bundle once, here, and the per-agent code is written in this body, with
    helpers that take and return numbers: an array taken out of a named tuple, a row view such as acts[i], or an
    array handed to an inlined helper costs an atomic reference-count increment and decrement per agent (at 10,000
    agents these took half of the step's time, and with two threads the counters' cache lines bounce between the
    cores). Helpers that take arrays run only in the branches that need them (icons, the neighbour grid).

    Compiled without reference counting (_nrt=False), as agents_team, _cursor_step and _apply_deaths: numba then
    counts no reference at all, here and in the callees it compiles for these kernels, and reuses those compiled
    callees from counted code. The rule that keeps this sound is kept by hand, as numba checks it only in part
    (it refuses an allocation only in a callee it compiles for these kernels first, and accepts returning an
    argument): nothing these kernels call allocates or returns an array.
    """
    genomes, acts, pos, alive, cause_now, live, cs = b.genomes, w.acts, w.pos, w.alive, scr.cause_now, scr.live, scr.cs
    age, wdeath, wcause = w.age, scr.wdeath, scr.wcause
    heading, speed, team, agility, sizes, offsets = w.heading, w.speed, w.team, w.agility, b.sizes, b.offsets
    icons, steer, actions = env.icons, env.steer, env.actions
    kd2, kj, pos0, near_d, near_j = scr.kd2, scr.kj, scr.pos0, scr.near_d, scr.near_j
    grid = Grid(scr.gstart, scr.gitems, scr.gxy, scr.gteam, kd2, kj, near_d, near_j)
    use_grid = p.use_grid != 0
    g_addr = U(genomes.ctypes.data)
    g_row = U(genomes.strides[0])
    n = U(acts.shape[1])
    steered = steer.shape[0] > 0
    has_icons = icons.shape[0] > 0
    lo, hi, role, ctl, s0, s1 = part
    sense_only = role == R_SENSE
    cursor = w.cursor
    cx, cy, c_present, c_armed, c_click = cursor[CX], cursor[CY], cursor[C_PRESENT], cursor[C_ARMED], cursor[C_CLICK]
    ego = p.frame == Frame.EGO
    inv_max_speed = 1.0 / p.max_speed
    n_all = alive.shape[0]
    size = 1
    first = True
    since = -1  # when a helper's wait for the next step began (atomics.ticks(); -1: none begun)
    mine = 0  # chunks this call worked
    while True:
        # the next piece of agents a .. z-1: lo .. hi once, or a claimed chunk (see agents_team)
        if role == R_RANGE or role == R_SENSE or role == R_WINDOW:
            if not first:
                break
            a, z = lo, hi
        else:
            if not first:
                if role == R_HELPER:
                    chunk_done(ctl)
                else:  # the caller counts its own chunks (agents_team): one cache line fewer moved per step
                    mine += 1
            if role == R_HELPER and atomics.load(ctl, T_STOP) != 0:
                break
            ch = 0 if role == R_MAIN and first else claim(ctl, role == R_HELPER)  # chunk 0: the caller's at publish
            if ch < 0:
                if role == R_MAIN:
                    break
                first = True
                if since < 0:
                    since = atomics.ticks()
                if wait_epoch(ctl, since):  # the next epoch is not published yet
                    since = -1  # woken: if there is still nothing to take, the wait begins again with a spin
                continue
            since = -1
            # the claimed epoch's steps and chunk size (written before it was published)
            s0, s1, size = ctl[T_WIN], ctl[T_WIN + 1], ctl[T_WIN + 2]
            a, z = ch * size, min(n_all, (ch + 1) * size)
            if role == R_HELPER:  # ... and its cursor
                atomics.add(ctl, T_HELPED, 1)
                cx, cy, c_present, c_armed, c_click = (cursor[CX], cursor[CY], cursor[C_PRESENT], cursor[C_ARMED],
                                                       cursor[C_CLICK])
        first = False
        st = s0
        while True:  # one step of the agents a .. z-1, or each step of a window (s0 .. s1-1)
            for g0 in range(a, z, GROUP):
                g1 = min(g0 + GROUP, z)
                k = g0
                if use_grid:  # the group's neighbour lists and nearest agents, from the start-of-step grid
                    scan_range(g0, g1, alive, pos0, team, grid, p)
                for i in range(g0, g1):
                    i = U(i)  # unsigned: no negative-index wraparound code (see brain.forward_pair)
                    if not alive[i]:
                        if cause_now[i] != NONE:  # (written only when it changes: the threads share its lines)
                            cause_now[i] = NONE
                        continue
                    if not sense_only:
                        prefetch(g_addr + i * g_row, g_row)
                    x0 = pos[i, U(0)]
                    y0 = pos[i, U(1)]
                    c = cs[i, U(0)]
                    s = cs[i, U(1)]
                    ds, js, do, jo = INF, -1, INF, -1
                    if use_grid:
                        ds, do, js, jo = near_d[i, 0], near_d[i, 1], near_j[i, 0], near_j[i, 1]
                        cause = contact_cause(ds, do, p)
                        if cause != NONE and not sense_only:
                            # touching at the start of the step (where the last step's moves left them): both die
                            cause_now[i] = cause
                            continue
                    # the sensor blocks (sensors.py), each at its offset in the input row
                    o = p.off_edges
                    if o >= 0:
                        e0, e1, e2, e3, e4 = edges_in(x0, y0, c, s, p)
                        acts[i, o] = e0
                        acts[i, o + 1] = e1
                        acts[i, o + 2] = e2
                        acts[i, o + 3] = e3
                        acts[i, o + 4] = e4
                    o = p.off_cursor
                    if o >= 0:
                        dx = cx - x0
                        dy = cy - y0
                        t0, t1, t2 = thing(c_present > 0.0, math.sqrt(dx * dx + dy * dy), dx, dy, 0.0, c, s, p)
                        acts[i, o] = t0
                        acts[i, o + 1] = t1
                        acts[i, o + 2] = t2
                        acts[i, o + 3] = 1.0 if c_present > 0.0 and c_armed > 0.0 else 0.0
                    o = p.off_self
                    if o >= 0:
                        acts[i, o] = speed_in(speed[i], p)
                        if not ego:  # the ego frame's block is speed alone
                            acts[i, o + 1] = c
                            acts[i, o + 2] = s
                    o = p.off_icons
                    if o >= 0:
                        d, dx, dy = nearest_icon(x0, y0, icons)
                        t0, t1, t2 = thing(has_icons, d, dx, dy, p.radius, c, s, p)
                        acts[i, o] = t0
                        acts[i, o + 1] = t1
                        acts[i, o + 2] = t2
                    o = p.off_neigh
                    if o >= 0:
                        for m in range(p.n_neigh):
                            j = kj[i, m]
                            xj, yj = (pos0[j, 0], pos0[j, 1]) if j >= 0 else (x0, y0)
                            t0, t1, t2 = agent_thing(j, kd2[i, m], xj, yj, x0, y0, c, s, p)
                            acts[i, o + 3 * m] = t0
                            acts[i, o + 3 * m + 1] = t1
                            acts[i, o + 3 * m + 2] = t2
                    o = p.off_team
                    if o >= 0:
                        for m in range(2):  # the nearest of another team, then of the own team
                            j, d2 = (jo, do) if m == 0 else (js, ds)
                            xj, yj = (pos0[j, 0], pos0[j, 1]) if j >= 0 else (x0, y0)
                            t0, t1, t2 = agent_thing(j, d2, xj, yj, x0, y0, c, s, p)
                            acts[i, o + 3 * m] = t0
                            acts[i, o + 3 * m + 1] = t1
                            acts[i, o + 3 * m + 2] = t2
                    live[k] = i
                    k += 1
                if sense_only:
                    continue
                q = g0
                while q + 1 < k:
                    forward_pair(genomes, acts, live[q], live[q + 1], sizes, offsets)
                    q += 2
                if q < k:
                    forward_one(genomes, acts, live[q], sizes, offsets)
                for q in range(g0, k):
                    i = U(live[q])
                    if steered and steer[i]:
                        acts[i, n - U(2)] = min(max(actions[i, U(0)], np.float32(-1.0)), np.float32(1.0))
                        acts[i, n - U(1)] = min(max(actions[i, U(1)], np.float32(-1.0)), np.float32(1.0))
                    turn = acts[i, n - U(2)]
                    x, y, h, v, c, s = move_one(pos[i, U(0)], pos[i, U(1)], heading[i], speed[i], turn,
                                                acts[i, n - U(1)], p)
                    pos[i, U(0)] = x
                    pos[i, U(1)] = y
                    heading[i] = h
                    speed[i] = v
                    agility[i] += np.float64(abs(turn)) * np.float64(speed[i]) * inv_max_speed
                    cs[i, U(0)] = c
                    cs[i, U(1)] = s
                    d_icon = BIG
                    if has_icons:
                        d_icon = nearest_icon(x, y, icons)[0]
                    why = hazard_one(x, y, cx, cy, c_click, d_icon, p)
                    if cause_now[i] != why:  # (see above)
                        cause_now[i] = why
            if s1 <= s0:
                break
            # the end of window step st for these agents: the dying wait for run_window, the survivors age
            for i in range(a, z):
                if alive[i]:
                    why = cause_now[i]
                    if why != NONE:
                        wcause[i] = why
                        wdeath[i] = st
                        alive[i] = False
                    else:
                        age[i] += 1
            st += 1
            if st >= s1:
                break
    return mine


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def agents_team(w, b, env, scr, p, s0, s1):
    """The step's agents (s1 <= s0), or the steps s0 .. s1-1 of a window (run_window), shared with the helper
    threads (the protocol: teamstep.py): publish a new epoch, work chunks until none is left, wait until the
    helpers' chunks are done too. Without helpers (or with helpers that get no core) the calling thread works every
    chunk itself: the step waits for another thread only while that thread holds a chunk.
    An agent's result does not depend on who computes it (agents_range), so every split gives the same bits.

    The helpers stay inside one agents_range call for the whole run_chunk call (team_helper), so they take no
    array out of a bundle per step: reference counts are atomic counters that both threads would otherwise
    update at once, and each such update then moves a cache line between the cores."""
    n = w.alive.shape[0]
    ctl = scr.team
    ctl[T_WIN] = s0
    ctl[T_WIN + 1] = s1
    ctl[T_WIN + 2] = max(1, ctl[T_WSIZE] if s1 > s0 and ctl[T_WSIZE] > 0 else ctl[T_SIZE])
    n_chunks = publish(ctl, n)
    mine = agents_range(Part(0, n, R_MAIN, ctl, 0, 0), w, b, env, scr, p)
    wait_done(ctl, n_chunks - mine)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def team_helper(w, b, env, scr, p):
    """A helper thread's part of run_chunk's team steps: claim and work chunks of each published epoch until the
    call stops (scr.team[T_STOP]). Reads the cursor from w.cursor, which the caller writes before publishing."""
    agents_range(Part(0, w.alive.shape[0], R_HELPER, scr.team, 0, 0), w, b, env, scr, p)


@numba.njit(cache=True, error_model="numpy")
def headings_cs(heading, cs, slots, k):
    """cs[i] <- heading_cs(heading[i]) for the slots slots[:k] (k < 0: every slot)."""
    m = heading.shape[0] if k < 0 else k
    for q in range(m):
        i = q if k < 0 else slots[q]
        c, s = heading_cs(heading[i])
        cs[i, 0] = c
        cs[i, 1] = s
