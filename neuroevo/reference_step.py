"""Numpy references of births (selection, crossover, mutation, unit genes, spawning) and of one whole step, built
from the per-kernel references in reference.py; tests/test_reference.py compares the compiled step against step_np
exactly (deaths, births, ids, genomes, Generator state) and to float rounding (positions).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .births import ICON_CLEAR, SPAWN_TRIES
from .brain import Layout
from .choices import Mode, Replace, ReplaceWhile, Selection
from .config import Params
from .reference import (
    clear_of_agents_np,
    contacts_np,
    cursor_np,
    forward_np,
    hazards_np,
    move_np,
    nearest_icon_np,
    sense_np,
)
from .species import T_COUNT, T_NEXT_LABEL, T_THRESHOLD, THRESHOLD_STEP
from .state import (
    C_ARMED,
    C_CLICK,
    C_CLICKED,
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


# ---- births ---------------------------------------------------------------------------------------------------------
def select_np(fitness: np.ndarray, eligible: np.ndarray, k: int, p: Params, rng: np.random.Generator) -> np.ndarray:
    """k parent slots among the eligible, drawing from rng exactly as evolution.select does."""
    cand = np.nonzero(eligible)[0]
    if cand.size == 0:
        cand = np.arange(fitness.shape[0])
    m = cand.size
    fit = fitness[cand]
    out = np.empty(k, np.int64)
    if p.selection == Selection.TOURNAMENT:
        for t in range(k):
            best = cand[rng.integers(0, m)]
            for _ in range(p.tournament_k - 1):
                c = cand[rng.integers(0, m)]
                if fitness[c] > fitness[best]:
                    best = c
            out[t] = best
        return out
    if p.selection in (Selection.RANK, Selection.TRUNCATION):
        order = np.argsort(fit, kind="mergesort")
        if p.selection == Selection.TRUNCATION:
            top = max(1, int(math.ceil(p.truncation * m)))
            return np.array([cand[order[m - 1 - rng.integers(0, top)]] for _ in range(k)], np.int64)
        weights = np.empty(m)
        weights[order] = np.arange(1, m + 1, dtype=np.float64)
    else:
        weights = fit.astype(np.float64)
    cum = np.cumsum(weights)
    total = cum[-1]
    pick = lambda u: cand[min(int(np.searchsorted(cum, u, side="right")), m - 1)]  # noqa: E731
    if total <= 0.0:
        return np.array([cand[rng.integers(0, m)] for _ in range(k)], np.int64)
    if p.selection == Selection.SUS:
        step = total / k
        start = rng.random() * step
        return np.array([pick(start + t * step) for t in range(k)], np.int64)
    return np.array([pick(rng.random() * total) for _ in range(k)], np.int64)


def make_child_np(src: np.ndarray, parent: int, parent2: int, hof: np.ndarray, hof_fit: np.ndarray, p: Params,
                  rng: np.random.Generator, sizes: tuple[int, ...] = ()) -> np.ndarray:
    """A child genome: a parent (or a hall-of-fame member), maybe crossed with parent2, then mutated by geometric
    skips, with the kernel's draws in the kernel's order."""
    g = src[parent]
    if hof.shape[0] > 0 and p.hof_prob > 0.0 and hof_fit.max() > 0.0 and rng.random() < p.hof_prob:
        filled = np.nonzero(hof_fit > 0.0)[0]
        g = hof[filled[rng.integers(0, filled.size)]]
    if p.crossover > 0.0 and rng.random() < p.crossover:
        child = np.array([g[i] if rng.random() < 0.5 else src[parent2, i] for i in range(g.size)], np.float32)
    else:
        child = g.copy()
    n_w = child.size - p.n_gates
    if p.mutation_rate > 0.0 and p.sigma > 0.0:
        i = rng.geometric(p.mutation_rate) - 1
        while i < n_w:
            child[i] += np.float32(p.sigma * rng.standard_normal())
            i += rng.geometric(p.mutation_rate)
    if p.n_gates > 0:
        _mutate_units_np(child, sizes, p, rng)
    return child


def _units_np(child: np.ndarray, sizes: tuple[int, ...], n_w: int, want_on: bool, keep_one: bool
              ) -> list[tuple[int, int, int]]:
    """(hidden layer, unit, gate index) of every unit on (want_on) or off, in gate order; keep_one leaves out the
    layers with a single unit on."""
    out, g = [], n_w
    for layer in range(1, len(sizes) - 1):
        on = child[g : g + sizes[layer]] > 0.5
        if not (keep_one and on.sum() <= 1):
            out += [(layer, j, g + j) for j in range(sizes[layer]) if on[j] == want_on]
        g += sizes[layer]
    return out


def _mutate_units_np(child: np.ndarray, sizes: tuple[int, ...], p: Params, rng: np.random.Generator) -> None:
    """Reference of evolution.mutate_units."""
    n_w = child.size - p.n_gates
    if p.add_unit_rate > 0.0 and rng.random() < p.add_unit_rate:
        off = _units_np(child, sizes, n_w, False, False)
        if off:
            layer, j, gi = off[rng.integers(0, len(off))]
            child[gi] = 1.0
            w0 = sum(sizes[a] * sizes[a + 1] + sizes[a + 1] for a in range(layer))
            child[w0 + j * sizes[layer + 1] : w0 + (j + 1) * sizes[layer + 1]] = 0.0
    if p.remove_unit_rate > 0.0 and rng.random() < p.remove_unit_rate:
        on = _units_np(child, sizes, n_w, True, True)
        if on:
            child[on[rng.integers(0, len(on))][2]] = 0.0


def spawn_np(w: WorldState, i: int, parent: int, icons: np.ndarray, seen: list[int], p: Params,
             rng: np.random.Generator) -> None:
    """Put a newborn into slot i, clear of icons and of the slots in seen (when contact deaths need clearance)."""
    mx, my = p.spawn_margin * p.width, p.spawn_margin * p.height
    x = y = 0.0
    for _ in range(SPAWN_TRIES):
        x = mx + rng.random() * (p.width - 2.0 * mx)
        y = my + rng.random() * (p.height - 2.0 * my)
        near_icon = icons.shape[0] > 0 and nearest_icon_np(np.array([[x, y]]), icons)[0][0] < ICON_CLEAR * p.radius
        if not near_icon and clear_of_agents_np(x, y, w.pos, np.array(seen, np.int64), p):
            break
    w.pos[i] = (x, y)
    w.heading[i] = (rng.random() * 2.0 - 1.0) * math.pi
    w.speed[i] = p.birth_speed
    w.age[i] = 0
    w.alive[i] = True
    w.genome_id[i] = w.counters[K_NEXT_ID]
    w.counters[K_NEXT_ID] += 1
    w.parent_id[i] = parent
    w.hook_fit[i] = 0.0
    w.agility[i] = 0.0


def _hof_offer(hof: np.ndarray, hof_fit: np.ndarray, genome: np.ndarray, fitness: float) -> None:
    if hof.shape[0]:
        j = int(np.argmin(hof_fit))
        if fitness > hof_fit[j]:
            hof[j], hof_fit[j] = genome, fitness


# ---- species (niching) ------------------------------------------------------------------------------------------
def _distance_np(a: np.ndarray, b: np.ndarray, n_w: int) -> float:
    """species.distance: mean |a - b| of the weights (summed in order, as the kernel does) + differing gates."""
    d = float(np.cumsum(np.abs(a[:n_w].astype(np.float64) - b[:n_w].astype(np.float64)))[-1]) / max(n_w, 1)
    n_g = a.shape[0] - n_w
    return d + (int(np.count_nonzero((a[n_w:] > 0.5) != (b[n_w:] > 0.5))) / n_g if n_g > 0 else 0.0)


def species_join_np(sp: Any, i: int, genome: np.ndarray, p: Params, hint: int) -> None:
    """species.join: the parent's species (row hint) if within the threshold, else the nearest species within it,
    else a free row, else the nearest; then the threshold moves one THRESHOLD_STEP towards the target."""
    n_w = genome.shape[0] - p.n_gates
    used = np.nonzero(sp.size > 0)[0]
    free = np.nonzero(sp.size == 0)[0]
    dists = [_distance_np(genome, sp.rep[s], n_w) for s in used]
    row = int(used[int(np.argmin(dists))]) if len(used) else -1
    if hint >= 0 and sp.size[hint] > 0 and _distance_np(genome, sp.rep[hint], n_w) < sp.ctl[T_THRESHOLD]:
        row = hint
    elif (row < 0 or min(dists) >= sp.ctl[T_THRESHOLD]) and len(free):
        row = int(free[0])
        sp.label[row] = int(sp.ctl[T_NEXT_LABEL])
        sp.ctl[T_NEXT_LABEL] += 1.0
        sp.ctl[T_COUNT] += 1.0
    sp.size[row] += 1
    sp.rep[row] = genome
    sp.of[i] = row
    if sp.ctl[T_COUNT] > p.species_target:
        sp.ctl[T_THRESHOLD] *= THRESHOLD_STEP
    elif sp.ctl[T_COUNT] < p.species_target:
        sp.ctl[T_THRESHOLD] /= THRESHOLD_STEP


def species_leave_np(sp: Any, i: int) -> None:
    s = int(sp.of[i])
    if s >= 0:
        sp.size[s] -= 1
        sp.ctl[T_COUNT] -= 1.0 if sp.size[s] == 0 else 0.0
        sp.of[i] = -1


def species_share_np(sp: Any, fitness: np.ndarray, alive: np.ndarray) -> None:
    """Fitness divided by the members of each living agent's species."""
    m = alive & (sp.of >= 0)
    fitness[m] = fitness[m] / sp.size[sp.of[m]]


def births_np(w: WorldState, genomes: np.ndarray, hof: np.ndarray, hof_fit: np.ndarray, icons: np.ndarray,
              dead: list[int], fitness: np.ndarray, grid_slots: np.ndarray, p: Params,
              rng: np.random.Generator, sizes: tuple[int, ...] = (), species: Any = None) -> None:
    """Steady state: children of living parents (same team) into the dead slots, in the kernel's order."""
    if p.species_cap:
        for d in dead:
            species_leave_np(species, d)
        species_share_np(species, fitness, w.alive)
    placed: list[int] = []
    for tm in range(p.n_teams):
        slots = [d for d in dead if p.n_teams == 1 or w.team[d] == tm]
        if not slots:
            continue
        eligible = w.alive & ((w.team == tm) if p.n_teams > 1 else True)
        any_alive = bool(eligible.any())
        old = eligible & (w.age >= p.min_parent_age)
        if old.any():
            eligible = old
        if not any_alive and p.n_teams > 1:
            eligible = w.team == tm
        src = genomes if any_alive else genomes.copy()
        parents = select_np(fitness, eligible, len(slots), p, rng)
        parents2 = select_np(fitness, eligible, len(slots), p, rng) if p.crossover > 0.0 else parents
        for j, d in enumerate(slots):
            child = make_child_np(src, parents[j], parents2[j], hof, hof_fit, p, rng, sizes)
            genomes[d] = child
            if p.species_cap:
                species_join_np(species, d, child, p, int(species.of[parents[j]]))
            seen = [*grid_slots.tolist(), *placed] if p.spawn_clear > 0.0 else []
            spawn_np(w, d, int(w.genome_id[parents[j]]), icons, seen, p, rng)
            placed.append(d)
            w.counters[K_BIRTHS] += 1


def next_generation_np(w: WorldState, genomes: np.ndarray, hof: np.ndarray, hof_fit: np.ndarray, icons: np.ndarray,
                       p: Params, rng: np.random.Generator, hook_fit: bool, sizes: tuple[int, ...] = (),
                       species: Any = None) -> None:
    """Generational mode: elites kept, every other slot a child, all placed anew."""
    n = genomes.shape[0]
    fitness = w.hook_fit.copy() if hook_fit else w.age.astype(np.float64)
    for i in np.nonzero(w.alive)[0]:
        _hof_offer(hof, hof_fit, genomes[i], fitness[i])
    order = np.argsort(-fitness, kind="mergesort")
    if p.species_cap:
        species_share_np(species, fitness, w.alive)
    everyone = np.ones(n, bool)
    parents = select_np(fitness, everyone, n, p, rng)
    parents2 = select_np(fitness, everyone, n, p, rng) if p.crossover > 0.0 else parents
    new = np.empty_like(genomes)
    ids = w.genome_id.copy()
    for j in range(n):
        if j < p.elites:
            new[j], parent = genomes[order[j]], ids[order[j]]
        else:
            new[j] = make_child_np(genomes, parents[j], parents2[j], hof, hof_fit, p, rng, sizes)
            parent = ids[parents[j]]
        spawn_np(w, j, int(parent), icons, list(range(j)) if p.spawn_clear > 0.0 else [], p, rng)
        w.counters[K_BIRTHS] += 1
    genomes[:] = new
    if p.species_cap:
        hints = [int(species.of[order[j]] if j < p.elites else species.of[parents[j]]) for j in range(n)]
        for j in range(n):
            species_leave_np(species, j)
            species_join_np(species, j, genomes[j], p, hints[j])
    w.counters[K_GEN_STEP] = 0
    w.counters[K_GENERATION] += 1


def replacement_np(w: WorldState, cause: np.ndarray, p: Params, rng: np.random.Generator) -> int:
    """births.replacement: the slot given cause RULE this step by periodic replacement, or -1."""
    if p.replace == Replace.NONE or w.counters[K_STEP] % p.replace_steps != 0:
        return -1
    clicked = w.cursor[C_CLICKED] > 0.0
    w.cursor[C_CLICKED] = 0.0
    if p.replace_while == ReplaceWhile.CURSOR and not w.cursor[C_PRESENT] > 0.0:
        return -1
    if p.replace_while == ReplaceWhile.CLICKS and not clicked:
        return -1
    ok = w.alive & (cause == NONE) & (w.age >= max(p.replace_age, 1))
    slots = np.flatnonzero(ok)
    if slots.size < 2:
        return -1
    if p.replace == Replace.RANDOM:
        best = int(slots[min(int(rng.random() * slots.size), slots.size - 1)])
    else:
        rate = w.agility[slots] / (w.age[slots] + 1)  # agility sums this step's term too (age counts it later)
        best = int(slots[np.argmin(rate)])  # the first of equal rates, as the kernel
        if not rate.min() < p.replace_below:
            return -1
    cause[best] = RULE
    return best


# ---- the whole step ------------------------------------------------------------------------------------------------
def step_np(w: WorldState, genomes: np.ndarray, hof: np.ndarray, hof_fit: np.ndarray, icons: np.ndarray,
            layout: Layout, p: Params, rng: np.random.Generator, row: np.ndarray | None = None,
            hook_fit: bool = False, species: Any = None) -> list[tuple[int, int, int]]:
    """One step of steploop.run_chunk on numpy copies, in place; returns the deaths as (slot, cause, lifetime).
    species: a species.Species of copies (niching; founded already), updated in place."""
    cursor_np(w.cursor, w.pos, w.alive, w.genome_id, p, rng, row)
    cur = w.cursor
    start = w.alive.copy()
    cause = np.full(w.n, NONE, np.int8)
    moving = start.copy()
    if p.use_grid:
        touch = contacts_np(w.pos, start, w.team, p)
        cause = np.where(start, touch, NONE).astype(np.int8)
        moving &= cause == NONE
    x = sense_np(w.pos, w.heading, w.speed, (cur[CX], cur[CY], cur[C_PRESENT], cur[C_ARMED]), p, icons, start,
                 w.team)
    if p.off_extra >= 0:
        x[:, p.off_extra : p.off_extra + p.n_extra] = w.acts[:, p.off_extra : p.off_extra + p.n_extra]
    acts = np.concatenate(forward_np(layout, genomes, x), axis=1)
    w.acts[moving] = acts[moving]
    pos, h, v = move_np(w.pos, w.heading, w.speed, acts[:, -2:], p)
    hz = hazards_np(pos, (cur[CX], cur[CY]), cur[C_CLICK] > 0.0, p, icons)
    w.pos[moving], w.heading[moving], w.speed[moving] = pos[moving], h[moving], v[moving]
    turn = np.abs(acts[:, -2]).astype(np.float64)
    w.agility[moving] += turn[moving] * w.speed[moving].astype(np.float64) * (1.0 / p.max_speed)
    cause = np.where(moving, hz, cause).astype(np.int8)
    if p.mode == Mode.STEADY:
        replacement_np(w, cause, p, rng)
    deaths: list[tuple[int, int, int]] = []
    for i in range(w.n):
        if not w.alive[i]:
            continue
        if cause[i] != NONE:
            life = int(w.age[i])
            w.alive[i], w.cause[i] = False, cause[i]
            w.counters[K_DEATHS + cause[i]] += 1
            w.counters[K_LIFE_SUM] += life
            w.counters[K_LIFE_MAX] = max(w.counters[K_LIFE_MAX], life)
            _hof_offer(hof, hof_fit, genomes[i], w.hook_fit[i] if hook_fit else float(life))
            deaths.append((i, int(cause[i]), life))
        else:
            w.age[i] += 1
    if p.mode == Mode.STEADY and deaths:
        fitness = w.hook_fit.copy() if hook_fit else w.age.astype(np.float64)
        births_np(w, genomes, hof, hof_fit, icons, [d[0] for d in deaths], fitness, np.nonzero(start)[0], p, rng,
                  layout.sizes, species)
    elif p.mode == Mode.GENERATIONAL:
        w.counters[K_GEN_STEP] += 1
        if w.counters[K_GEN_STEP] >= p.generation_steps or not w.alive.any():
            next_generation_np(w, genomes, hof, hof_fit, icons, p, rng, hook_fit, layout.sizes, species)
    w.counters[K_STEP] += 1
    return deaths
