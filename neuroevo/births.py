"""Births: newborns placed into slots (spawn), steady-state refills of the dead, and generational rebuilds.

Selection, mutation and crossover live in evolution.py; this module decides who is born where. A newborn appears
uniformly inside the spawn box, redrawn up to SPAWN_TRIES times while it would land on an icon or (with contact
deaths) next to another agent, so a contact death always follows a move.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .choices import Replace, ReplaceWhile
from .evolution import hof_offer, make_child, select
from .grid import clear_of_agents
from .obstacles import nearest_icon
from .species import join, leave, share
from .state import C_CLICKED, C_PRESENT, K_BIRTHS, K_GEN_STEP, K_GENERATION, K_NEXT_ID, K_STEP, NONE, RULE

SPAWN_TRIES = 30  # rejection draws for a newborn's position clear of icons and other agents
ICON_CLEAR = 4.0  # newborns appear at least this many radii from any icon


@numba.njit(cache=True, error_model="numpy")
def spot_free(x, y, pos, icons, clear, n_placed, p) -> bool:
    """A newborn may appear at (x, y): clear of icons and (with contact deaths) of other agents.
    clear = (gstart, gitems, placed): the grid of the living and the slots placed before it this step."""
    if icons.shape[0] > 0:
        d, _, _ = nearest_icon(x, y, icons)
        if d < ICON_CLEAR * p.radius:
            return False
    return clear_of_agents(x, y, pos, clear[0], clear[1], clear[2], n_placed, p)


@numba.njit(cache=True, error_model="numpy")
def spawn(i, parent, w, icons, clear, n_placed, p, rng):
    """Put a newborn of genome id `parent` (-1: a founder) into slot i: position (see the module docstring),
    random heading, birth speed, fresh id. Without icons and contact the first draw is taken."""
    mx = p.spawn_margin * p.width
    my = p.spawn_margin * p.height
    x = 0.0
    y = 0.0
    for _ in range(SPAWN_TRIES):
        x = mx + rng.random() * (p.width - 2.0 * mx)
        y = my + rng.random() * (p.height - 2.0 * my)
        if spot_free(x, y, w.pos, icons, clear, n_placed, p):
            break
    w.pos[i, 0] = x
    w.pos[i, 1] = y
    w.heading[i] = (rng.random() * 2.0 - 1.0) * math.pi
    w.speed[i] = p.birth_speed
    w.age[i] = 0
    w.alive[i] = True
    w.genome_id[i] = w.counters[K_NEXT_ID]
    w.counters[K_NEXT_ID] += 1
    w.parent_id[i] = parent
    w.hook_fit[i] = 0.0
    w.agility[i] = 0.0


@numba.njit(cache=True, error_model="numpy")
def _no_grid(n, p):
    """(gstart, gitems, placed) for placing newborns one after another without a grid of the living."""
    return np.zeros(p.grid_nx * p.grid_ny + 1, np.int64), np.zeros(0, np.int64), np.arange(n)


@numba.njit(cache=True, error_model="numpy")
def spawn_all(w, icons, p, rng):
    """Founders: every slot gets a newborn (parent -1), each clear of those placed before it."""
    n = w.alive.shape[0]
    clear = _no_grid(n, p)
    for i in range(n):
        spawn(i, -1, w, icons, clear, i, p, rng)


@numba.njit(cache=True, error_model="numpy")
def next_generation(w, b, icons, p, rng, use_hook_fit, sp):
    """Generational mode: rebuild every slot from this generation's fitness (elites kept unchanged)."""
    genomes = b.genomes
    n = genomes.shape[0]
    fitness = w.hook_fit.copy() if use_hook_fit else w.age.astype(np.float64)
    for i in range(n):
        if w.alive[i]:
            hof_offer(b.hof, b.hof_fit, genomes[i], fitness[i])
    order = np.argsort(-fitness, kind="mergesort")  # elites by raw fitness
    if p.species_cap > 0:
        share(sp, fitness, w.alive)
    everyone = np.ones(n, np.bool_)
    parents = np.empty(n, np.int64)
    parents2 = np.empty(n, np.int64)
    select(fitness, everyone, n, p.selection, p.tournament_k, p.truncation, rng, parents)
    if p.crossover > 0.0:
        select(fitness, everyone, n, p.selection, p.tournament_k, p.truncation, rng, parents2)
    else:
        parents2[:] = parents
    new = np.empty_like(genomes)
    ids = w.genome_id.copy()
    clear = _no_grid(n, p)
    for j in range(n):
        if j < p.elites:
            new[j, :] = genomes[order[j]]
            parent = ids[order[j]]
        else:
            make_child(genomes, parents[j], parents2[j], b.hof, b.hof_fit, p, rng, new[j], b.sizes)
            parent = ids[parents[j]]
        spawn(j, parent, w, icons, clear, j, p, rng)
        w.counters[K_BIRTHS] += 1
    genomes[:, :] = new
    if p.species_cap > 0:  # each newborn replaces its slot's member and joins its parent's species if close enough
        hints = np.empty(n, np.int64)
        for j in range(n):
            hints[j] = sp.of[order[j]] if j < p.elites else sp.of[parents[j]]
        for j in range(n):
            leave(sp, j)
            join(sp, j, genomes[j], genomes.shape[1] - p.n_gates, p.species_target, hints[j])
    w.counters[K_GEN_STEP] = 0
    w.counters[K_GENERATION] += 1


@numba.njit(cache=True, error_model="numpy", inline="always")
def _judged(w, cause_now, steer, steered, min_age, i):
    """Whether periodic replacement may remove slot i: alive, not dying this step, old enough, not steered."""
    return w.alive[i] and cause_now[i] == NONE and w.age[i] >= min_age and not (steered and steer[i])


@numba.njit(cache=True, error_model="numpy")
def replacement(w, cause_now, steer, p, rng) -> int:
    """Periodic replacement (rtNEAT's; evolution.replace): on every p.replace_steps-th step (p.replace_while: while a
    cursor is present, after a period in which it clicked, or always), one living agent at least p.replace_age
    steps old, not dying anyway this step and not flown by an outside policy (steer, (N,) or empty), gets cause
    RULE in cause_now: the least agile, if its agility is below p.replace_below (the lowest slot on a tie), or one
    drawn at random. Nobody is removed while fewer than two are eligible. Returns the slot, or -1.

    Called after the step moved the agents and before it ages them: w.agility then sums age + 1 terms. Each call
    clears the cursor's click flag (w.cursor[C_CLICKED], set by cursor_update at a click): a new period begins."""
    if p.replace == Replace.NONE or w.counters[K_STEP] % p.replace_steps != 0:
        return -1
    clicked = w.cursor[C_CLICKED] > 0.0
    w.cursor[C_CLICKED] = 0.0  # a new period begins
    if p.replace_while == ReplaceWhile.CURSOR and not w.cursor[C_PRESENT] > 0.0:
        return -1
    if p.replace_while == ReplaceWhile.CLICKS and not clicked:
        return -1
    min_age = max(p.replace_age, 1)
    steered = steer.shape[0] > 0
    n = w.alive.shape[0]
    m = 0
    best = -1
    best_rate = np.inf
    for i in range(n):
        if _judged(w, cause_now, steer, steered, min_age, i):
            m += 1
            rate = w.agility[i] / (w.age[i] + 1)
            if rate < best_rate:
                best_rate = rate
                best = i
    if m < 2 or (p.replace == Replace.LEAST_AGILE and not best_rate < p.replace_below):
        return -1
    if p.replace == Replace.RANDOM:
        j = min(int(rng.random() * m), m - 1)
        for i in range(n):
            if _judged(w, cause_now, steer, steered, min_age, i):
                if j == 0:
                    best = i
                    break
                j -= 1
    cause_now[best] = RULE
    return best


@numba.njit(cache=True, error_model="numpy")
def births(w, b, icons, scr, k, p, rng, sp):
    """Steady state: refill the k slots scr.dead[:k] with children of living parents (of the same team when there
    are teams, so every team keeps its size) at least p.min_parent_age steps old, selected on scr.fitness (shared
    within species with niching; each child then joins a species, see species.py).
    Newborns keep clear of the grid of the living (scr.gstart, scr.gitems) and of each other (scr.placed)."""
    genomes = b.genomes
    parents, parents2, eligible = scr.parents, scr.parents2, scr.eligible
    if p.species_cap > 0:  # the dead leave their species; parents are drawn on fitness shared within species
        for j in range(k):
            leave(sp, scr.dead[j])
        share(sp, scr.fitness, w.alive)
    n_placed = 0
    for tm in range(p.n_teams):
        kt = 0
        any_alive = False
        for j in range(k):
            if p.n_teams == 1 or w.team[scr.dead[j]] == tm:
                parents[kt] = scr.dead[j]  # parents[:kt] holds this team's dead slots for now
                kt += 1
        if kt == 0:
            continue
        any_old = False
        for i in range(w.alive.shape[0]):
            eligible[i] = w.alive[i] and (p.n_teams == 1 or w.team[i] == tm)
            any_alive = any_alive or eligible[i]
            any_old = any_old or (eligible[i] and w.age[i] >= p.min_parent_age)
        if any_old:  # rtNEAT's minimum age: the young are not judged yet (unless nobody is old enough)
            for i in range(w.alive.shape[0]):
                eligible[i] = eligible[i] and w.age[i] >= p.min_parent_age
        if not any_alive and p.n_teams > 1:
            for i in range(w.alive.shape[0]):
                eligible[i] = w.team[i] == tm
        slots = parents[:kt].copy()
        src = genomes if any_alive else genomes.copy()
        select(scr.fitness, eligible, kt, p.selection, p.tournament_k, p.truncation, rng, parents)
        if p.crossover > 0.0:
            select(scr.fitness, eligible, kt, p.selection, p.tournament_k, p.truncation, rng, parents2)
        else:
            parents2[:kt] = parents[:kt]
        clear = (scr.gstart, scr.gitems, scr.placed)
        for j in range(kt):
            make_child(src, parents[j], parents2[j], b.hof, b.hof_fit, p, rng, scr.child, b.sizes)
            d = slots[j]
            genomes[d, :] = scr.child
            if p.species_cap > 0:
                join(sp, d, scr.child, genomes.shape[1] - p.n_gates, p.species_target, sp.of[parents[j]])
            spawn(d, w.genome_id[parents[j]], w, icons, clear, n_placed, p, rng)
            scr.placed[n_placed] = d
            n_placed += 1
            w.counters[K_BIRTHS] += 1
    return n_placed
