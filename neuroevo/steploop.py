"""The step loop: run_chunk advances the world n steps per call (cursor, grid, the agents' step from step.py,
deaths, births, recording), and, where agents are independent between births, runs the team step in windows of
many steps (run_window).

One step of run_chunk, the same for live, headless and replay re-simulation: the cursor source moves the cursor,
the living are sorted into the grid (with contact or neighbour sensors), step.agents_range (or the team's
step.agents_team) senses, thinks, moves and finds each agent's cause of death, then the deaths are counted and
the dead replaced by children of the living (steady state) or a new generation is bred (generational).
"""

from __future__ import annotations

import numba

from .births import births, next_generation, replacement
from .config import CursorSource, Mode, Replace, ReplaceWhile
from .cursor import cursor_update
from .evolution import hof_offer
from .grid import grid_build
from .record import rec_room, record_frame
from .state import C_CLICKED, K_DEATHS, K_GEN_STEP, K_LIFE_MAX, K_LIFE_SUM, K_STEP, NONE
from .step import R_RANGE, R_WINDOW, Part, agents_range, agents_team, headings_cs
from .teamstep import T_SIZE, T_WINDOWS, T_WLEN, stop


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def _cursor_step(w, env, p, rng, t):
    """Move the cursor (w.cursor) for step t. Without reference counting."""
    cursor_update(w.cursor, w.pos, w.alive, w.genome_id, p, rng, env.ext, t)


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def _apply_forced(w, env, scr):
    """The deaths a scenario's extra_deaths hook asked for (env.forced) become this step's causes, where the step
    gave the agent none. Without reference counting (see agents_range)."""
    alive, cause_now, forced = w.alive, scr.cause_now, env.forced
    for i in range(alive.shape[0]):
        if forced[i] != NONE:
            if alive[i] and cause_now[i] == NONE:
                cause_now[i] = forced[i]
            forced[i] = NONE


@numba.njit(cache=True, error_model="numpy", inline="always")
def _death(i, c, w, b, env, use_hook_fit, n_events):
    """Slot i died of cause c at this step (w.counters[K_STEP]), aged w.age[i]: its cause, the death counters, the
    hall of fame, and a death report while env.events has rows. Returns n_events."""
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
    return n_events


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def _apply_deaths(t, w, b, env, scr, use_hook_fit, n_events):
    """Turn this step's causes into deaths (counters, hall of fame, death reports), age the survivors.
    Returns (k dead, n_events). Without reference counting (see agents_range)."""
    alive, cause_now, age = w.alive, scr.cause_now, w.age  # out of the bundles once (agents_range)
    n = alive.shape[0]
    k = 0
    for i in range(n):
        if not alive[i]:
            continue
        c = cause_now[i]
        if c == NONE:
            age[i] += 1
            continue
        alive[i] = False
        n_events = _death(i, c, w, b, env, use_hook_fit, n_events)
        scr.dead[k] = i
        k += 1
    return k, n_events


WINDOW_FIRST = 8  # steps in a world's first window (run_chunk); each next window at most twice the last
WINDOW_MAX = 1 << 16
WINDOW_SHARE = 0.05  # ... and short enough that newborns' catching up (run_window) is about this share of its work


@numba.njit(cache=True, error_model="numpy")
def windows_apply(w, env, p, use_grid, recording):
    """Whether run_chunk may run team steps in windows (run_window) after the call's first step: in steady state,
    when no agent's step reads another agent or the step number (no grid, no cursor source, nothing steered) and
    nothing is recorded. Periodic replacement removes nobody then, unless it runs always, or after a click that came
    before the call (it only clears the click flag, as run_window does)."""
    quiet = (p.replace == Replace.NONE or p.replace_while == ReplaceWhile.CURSOR
             or (p.replace_while == ReplaceWhile.CLICKS and not w.cursor[C_CLICKED] > 0.0))
    return (p.mode == Mode.STEADY and not use_grid and not recording and p.cursor_source == CursorSource.NONE
            and quiet and env.steer.shape[0] == 0)


@numba.njit(cache=True, error_model="numpy")
def run_window(span, w, b, env, p, rng, use_hook_fit, sp, scr, n_events):
    """The steps t0 .. t1-1 (span: (t0, t1)) of a run_chunk call as one team epoch, for worlds whose agents are
    independent of each other between births (windows_apply). Returns (n_events, deaths).

    Each thread takes a chunk of agents through all the window's steps (agents_range): a survivor ages each step,
    an agent that dies stops where it died and waits, its slot not alive, its step in scr.wdeath. Then this thread
    handles the deaths in the order of the serial step: the earliest step m first, its dead in slot order. For each
    m the world is set back to how it stood after step m (who was alive, and everyone's age, which is all that
    selection reads), the deaths are counted and reported, the newborns placed, the world set forward again, and
    each newborn catches up alone from step m + 1 (a death on the way joins the waiting ones). Births draw from rng
    in the same order as the serial step and read the same numbers, so every result is bit-identical to it."""
    t0, t1 = span
    n = w.alive.shape[0]
    alive, age, wdeath, wcause, wlist, dead = w.alive, w.age, scr.wdeath, scr.wcause, scr.wlist, scr.dead
    base = w.counters[K_STEP] - t0  # the step counter at step t of the call: base + t
    last = t1 - 1
    scr.team[T_WINDOWS] += 1
    if p.replace != Replace.NONE and (base + last) // p.replace_steps > (base + t0 - 1) // p.replace_steps:
        w.cursor[C_CLICKED] = 0.0  # a replacement step: nobody to remove (windows_apply), a new period begins
    agents_team(w, b, env, scr, p, t0, t1)
    n_wait = 0
    for i in range(n):
        if wdeath[i] >= 0:
            wlist[n_wait] = i
            n_wait += 1
    deaths = 0
    while n_wait > 0:
        m = t1
        for q in range(n_wait):
            m = min(m, wdeath[wlist[q]])
        k = 0  # the dead of step m, in slot order
        for q in range(n_wait):
            i = wlist[q]
            if wdeath[i] == m:
                j = k
                while j > 0 and dead[j - 1] > i:
                    dead[j] = dead[j - 1]
                    j -= 1
                dead[j] = i
                k += 1
        # back to the end of step m: the waiting who die later were alive, and everyone was younger
        for i in range(n):
            d = wdeath[i]
            if d > m:
                alive[i] = True
                age[i] -= d - 1 - m
            elif d < 0 and alive[i]:
                age[i] -= last - m
        w.counters[K_STEP] = base + m
        for j in range(k):  # as _apply_deaths
            n_events = _death(dead[j], wcause[dead[j]], w, b, env, use_hook_fit, n_events)
        deaths += k
        if use_hook_fit:
            scr.fitness[:] = w.hook_fit
        else:
            scr.fitness[:] = age
        births(w, b, env.icons, scr, k, p, rng, sp)
        headings_cs(w.heading, scr.cs, dead, k)
        # forward to the window's last step again; the newborns are at step m
        for i in range(n):
            d = wdeath[i]
            if d == m:
                wdeath[i] = -1
            elif d > m:
                alive[i] = False
                age[i] += d - 1 - m
            elif alive[i]:
                age[i] += last - m
        q2 = 0
        for q in range(n_wait):
            if wdeath[wlist[q]] >= 0:
                wlist[q2] = wlist[q]
                q2 += 1
        for j in range(k):  # the newborns catch up
            i = dead[j]
            if m + 1 < t1:
                agents_range(Part(i, i + 1, R_WINDOW, scr.team, m + 1, t1), w, b, env, scr, p)
            if wdeath[i] >= 0:
                wlist[q2] = i
                q2 += 1
        n_wait = q2
    w.counters[K_STEP] = base + t1
    return n_events, deaths


@numba.njit(cache=True, nogil=True, error_model="numpy")
def run_chunk(n_steps, w, b, env, p, rng, use_hook_fit, rec, sp, scr):
    """Advance the world n_steps steps; returns the number of death reports written into env.events.

    Runs without Python's lock (nogil): a recorder's writer thread encodes and compresses the last chunk meanwhile.

    use_hook_fit: select parents by w.hook_fit (a scenario's fitness hook) instead of lifetime.
    sp (species.Species): the species (0 rows: niching off).
    scr (Scratch, from scratch(w.pos, n_params, p)): the step's buffers, which the helpers share; nothing in them
    but scr.team is read across calls, so the caller may keep one for many calls. scr.team[T_SIZE] > 0: the team
    step (agents_team; helper threads take part of each step's agents, chunks of that many), 0: this thread alone.
    Where no agent reads another (windows_apply), the team step runs the call's steps after the first in windows
    (run_window): each thread takes its chunks through many steps at once, deaths handled afterwards in the
    serial order. A window is as long as deaths allow (its newborns catch up alone: about WINDOW_SHARE of its
    work), twice the last where none came, and the length goes on into the next call (scr.team[T_WLEN]).
    rec (record.Rec): with rows, every step ends by writing its frame there (record.record_frame), and the call
    stops early, after rec.n[0] steps, when the next step might not fit (frames, births or death reports).
    With the grid (p.use_grid): the living are sorted into cells from a snapshot of the positions at the start of
    each step; each agent scans its 3x3 cells of the snapshot (never a neighbour's half-updated row) once, for its
    neighbour and team inputs and for contact: two agents closer than contact_radius when the step starts (where
    the last step's moves left them) both die, before they move. Newborns appear clear of everyone, so a contact
    death always follows a move. One scan and one pass over the agents per step keep crowd close to the cost of
    edges.
    """
    n = w.alive.shape[0]
    team = scr.team
    teamed = team[T_SIZE] > 0
    headings_cs(w.heading, scr.cs, scr.dead, -1)  # from the headings as they are (a hook may have turned agents)
    use_grid = p.use_grid != 0
    n_events = 0
    recording = rec.pos.shape[0] > 0
    windowed = teamed and windows_apply(w, env, p, use_grid, recording)  # (before the first step, which may click)
    if windowed:
        scr.wdeath[:] = -1  # (as run_window leaves it; also after a call that an error cut short)
    window = max(WINDOW_FIRST, team[T_WLEN])
    t = 0
    while t < n_steps:
        if windowed and t > 0 and window > 1:  # (the first step: the cursor's and the forced deaths')
            t1 = min(n_steps, t + window)
            n_events, died = run_window((t, t1), w, b, env, p, rng, use_hook_fit, sp, scr, n_events)
            # the next window: newborns catch up from where they were born, on this thread alone
            if died == 0:
                window = min(2 * window, WINDOW_MAX) if t1 - t == window else window
            else:
                window = max(1, min(2 * window, int(WINDOW_SHARE * n * (t1 - t) / died)))
            t = t1
            continue
        window = max(window, 2)  # after a window of one step: a normal step, then windows again
        if recording and not rec_room(rec, n_events, env.events.shape[0], n):
            break
        _cursor_step(w, env, p, rng, t)
        if use_grid:
            scr.pos0[:, :] = w.pos
            grid_build(scr.pos0, w.alive, w.team, p, scr.gstart, scr.gitems, scr.gfill, scr.gxy, scr.gteam)
        if teamed:
            agents_team(w, b, env, scr, p, 0, 0)
        else:
            agents_range(Part(0, n, R_RANGE, team, 0, 0), w, b, env, scr, p)
        if t == 0:
            _apply_forced(w, env, scr)  # before the replacement, which spares those dying anyway
        if p.mode == Mode.STEADY and p.replace != Replace.NONE and w.counters[K_STEP] % p.replace_steps == 0:
            replacement(w, scr.cause_now, env.steer, p, rng)  # (a call passes the bundles' arrays: only on its steps)
        k, n_events = _apply_deaths(t, w, b, env, scr, use_hook_fit, n_events)
        if p.mode == Mode.STEADY:
            if k > 0:
                if use_hook_fit:
                    scr.fitness[:] = w.hook_fit
                else:
                    scr.fitness[:] = w.age
                births(w, b, env.icons, scr, k, p, rng, sp)
                headings_cs(w.heading, scr.cs, scr.dead, k)  # the newborns in the dead slots
        elif p.mode == Mode.GENERATIONAL:
            w.counters[K_GEN_STEP] += 1
            any_alive = w.alive.any()
            if w.counters[K_GEN_STEP] >= p.generation_steps or not any_alive:
                next_generation(w, b, env.icons, p, rng, use_hook_fit, sp)
                headings_cs(w.heading, scr.cs, scr.dead, -1)
        w.counters[K_STEP] += 1
        if recording:
            record_frame(w, b.genomes, rec)
        t += 1
    if windowed:
        team[T_WLEN] = window
    if teamed:
        stop(team)
    return n_events
