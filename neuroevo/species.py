"""Species: niching by genome distance, so a new idea is judged against its own kind before it is wiped out.

With evolution.niching = species, every living agent belongs to a species. A newborn stays in its parent's species
while it is closer than the compatibility threshold to that species' representative; otherwise it joins the species
whose representative is nearest, if that is within the threshold, or founds a new one. The representative is the
species' newest member, so it follows the species as it drifts. Distance is the mean absolute
difference of the weights plus the share of hidden units whose on/off genes differ (no innovation numbers: slot j
is the same unit in every genome). After every assignment the threshold moves by THRESHOLD_STEP towards giving
evolution.species_target species (rtNEAT adjusts its compatibility threshold the same way). Parents are drawn on
fitness shared within the species (lifetime / members), so a species' chance of parenting the next child is its
mean fitness, whatever its size.

The table has p.species_cap rows (a species per row while it has members); when every row is taken a newborn joins
the nearest species. The founders are clustered once, with the threshold that gives the target (or the nearest
count) by bisection.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

THRESHOLD_STEP = 1.03  # the threshold is multiplied or divided by this after an assignment off the target
T_THRESHOLD, T_NEXT_LABEL, T_COUNT = range(3)  # fields of Species.ctl
N_CTL = 3


class Species(NamedTuple):
    """The species table and every slot's species (arrays with 0 rows when niching is off)."""

    of: np.ndarray  # (N,) int64 table row of each slot's species (-1: none)
    rep: np.ndarray  # (S, n_params) float32 representative genome of each row
    size: np.ndarray  # (S,) int64 living members (0: the row is free)
    label: np.ndarray  # (S,) int64 the species' number, unique over the run (for display and metrics)
    ctl: np.ndarray  # (N_CTL,) float64 threshold, next label, species with members

    @classmethod
    def empty(cls, n: int, cap: int, n_params: int) -> Species:
        return cls(np.full(n if cap else 0, -1, np.int64), np.zeros((cap, n_params), np.float32),
                   np.zeros(cap, np.int64), np.full(cap, -1, np.int64), np.zeros(N_CTL, np.float64))

    def arrays(self) -> dict[str, np.ndarray]:
        """For checkpoints: {"species_of": ..., ...}."""
        return {f"species_{k}": v for k, v in self._asdict().items()}


@numba.njit(cache=True, error_model="numpy")
def distance(a: np.ndarray, b: np.ndarray, n_w: int) -> float:
    """Mean |a - b| over the first n_w genes (weights and biases), plus the share of differing on/off genes."""
    s = 0.0
    for j in range(n_w):
        s += abs(np.float64(a[j]) - np.float64(b[j]))
    d = s / max(n_w, 1)
    n_g = a.shape[0] - n_w
    if n_g > 0:
        diff = 0
        for j in range(n_w, a.shape[0]):
            if (a[j] > 0.5) != (b[j] > 0.5):
                diff += 1
        d += diff / n_g
    return d


@numba.njit(cache=True, error_model="numpy")
def _place(sp, i, genome, n_w, threshold, hint):
    """Slot i (with this genome) joins species row `hint` (its parent's; -1: none) if it is within threshold of its
    representative, else the nearest species within threshold, else founds one in a free row, else (the table full)
    joins the nearest. Returns the row."""
    if hint >= 0 and sp.size[hint] > 0 and distance(genome, sp.rep[hint], n_w) < threshold:
        sp.size[hint] += 1
        sp.rep[hint, :] = genome
        sp.of[i] = hint
        return hint
    best = -1
    best_d = np.inf
    free = -1
    for s in range(sp.size.shape[0]):
        if sp.size[s] == 0:
            if free < 0:
                free = s
            continue
        d = distance(genome, sp.rep[s], n_w)
        if d < best_d:
            best_d = d
            best = s
    row = best
    if (best < 0 or best_d >= threshold) and free >= 0:
        row = free
        sp.label[row] = np.int64(sp.ctl[T_NEXT_LABEL])
        sp.ctl[T_NEXT_LABEL] += 1.0
        sp.ctl[T_COUNT] += 1.0
    sp.size[row] += 1
    sp.rep[row, :] = genome
    sp.of[i] = row
    return row


@numba.njit(cache=True, error_model="numpy")
def join(sp, i, genome, n_w, target, hint):
    """A newborn in slot i joins a species (its parent's, row `hint`, if it is close enough; see _place); the
    threshold then moves towards `target` species."""
    _place(sp, i, genome, n_w, sp.ctl[T_THRESHOLD], hint)
    if sp.ctl[T_COUNT] > target:
        sp.ctl[T_THRESHOLD] *= THRESHOLD_STEP
    elif sp.ctl[T_COUNT] < target:
        sp.ctl[T_THRESHOLD] /= THRESHOLD_STEP


@numba.njit(cache=True, error_model="numpy")
def leave(sp, i):
    """Slot i's agent died (or is replaced): its species loses a member (and frees its row at 0)."""
    s = sp.of[i]
    if s >= 0:
        sp.size[s] -= 1
        if sp.size[s] == 0:
            sp.ctl[T_COUNT] -= 1.0
        sp.of[i] = -1


@numba.njit(cache=True, error_model="numpy")
def share(sp, fitness, alive):
    """fitness[i] /= members of i's species, for the living (fitness sharing)."""
    for i in range(fitness.shape[0]):
        if alive[i] and sp.of[i] >= 0:
            fitness[i] = fitness[i] / sp.size[sp.of[i]]


@numba.njit(cache=True, error_model="numpy")
def _cluster(sp, genomes, alive, n_w, threshold):
    """Assign every living slot in slot order with a fixed threshold (the table emptied first); returns the count."""
    sp.size[:] = 0
    sp.of[:] = -1
    sp.label[:] = -1
    sp.ctl[T_COUNT] = 0.0
    for i in range(genomes.shape[0]):
        if alive[i]:
            _place(sp, i, genomes[i], n_w, threshold, -1)
    return int(sp.ctl[T_COUNT])


@numba.njit(cache=True, error_model="numpy")
def found(sp, genomes, alive, n_w, target):
    """Cluster the living from scratch: bisect the threshold (in log space) for `target` species, then label the
    species 0, 1, ... in order of their first member. A world without a species table is left alone."""
    if sp.size.shape[0] == 0:
        return
    lo = 1e-6
    hi = 0.0
    for i in range(genomes.shape[0]):  # no two genomes are farther apart than twice the largest from zero
        if alive[i]:
            hi = max(hi, 2.0 * distance(genomes[i], np.zeros_like(genomes[i]), n_w) + 1.0)
    hi = max(hi, 1.0)
    best_t = hi
    best_err = 1 << 62
    for _ in range(40):
        mid = np.sqrt(lo * hi)
        c = _cluster(sp, genomes, alive, n_w, mid)
        err = abs(c - target)
        if err < best_err or (err == best_err and mid < best_t):
            best_err = err
            best_t = mid
        if c > target:
            lo = mid
        elif c < target:
            hi = mid
        else:
            break
    sp.ctl[T_NEXT_LABEL] = 0.0
    _cluster(sp, genomes, alive, n_w, best_t)
    sp.ctl[T_THRESHOLD] = best_t


def count(sp: Species) -> int:
    """Species with living members."""
    return int((sp.size > 0).sum())
