"""Grid: a uniform grid over the world that sorts agents into cells, so neighbour and contact queries cost O(N).

Cells are squares of side p.grid_cell >= sense_radius and contact_radius, so every agent within reach of a point lies
in the 3x3 cells around it. Building is a counting sort of the chosen slots into cells (serial, in slot order, so
the order inside a cell and every tie-break are the same with 1 or 2 threads):
    start  # (n_cells + 1,) int64: slots of cell c are items[start[c]:start[c + 1]]
    items  # (N,) int64 slots sorted by cell
Queries only read the grid and a position array that nothing writes during the query (steploop.run_chunk snapshots the
positions before the per-agent kernel moves them). One scan per agent and step serves the neighbour and
team sensors and contact deaths alike (config.validate keeps contact_radius <= sense_radius).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from .config import Contact, Params
from .state import CROWD, NONE, TEAM

INF = 1.0e30


@numba.njit(cache=True, inline="always", error_model="numpy")
def cell_xy(x: float, y: float, p: Params) -> tuple[int, int]:
    """Cell column and row of a point, clamped into the grid (agents outside the world use the border cells)."""
    gx = int(x / p.grid_cell) if x > 0.0 else 0
    gy = int(y / p.grid_cell) if y > 0.0 else 0
    gx = gx if gx < p.grid_nx else p.grid_nx - 1
    gy = gy if gy < p.grid_ny else p.grid_ny - 1
    return gx, gy


@numba.njit(cache=True, error_model="numpy")
def grid_build(pos: np.ndarray, mask: np.ndarray, team: np.ndarray, p: Params, start: np.ndarray, items: np.ndarray,
               fill: np.ndarray, gxy: np.ndarray, gteam: np.ndarray) -> None:
    """Counting sort of the slots with mask[i] into cells. fill (n_cells,) int64 is scratch; gxy (N, 2) float32 and
    gteam (N,) int8 receive the positions and teams in sorted order, so a scan reads contiguous memory."""
    n_cells = p.grid_nx * p.grid_ny
    start[: n_cells + 1] = 0
    for i in range(mask.shape[0]):
        if mask[i]:
            gx, gy = cell_xy(pos[i, 0], pos[i, 1], p)
            start[gy * p.grid_nx + gx + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
        fill[c] = start[c]
    for i in range(mask.shape[0]):
        if mask[i]:
            gx, gy = cell_xy(pos[i, 0], pos[i, 1], p)
            c = gy * p.grid_nx + gx
            q = fill[c]
            items[q] = i
            gxy[q, 0] = pos[i, 0]
            gxy[q, 1] = pos[i, 1]
            gteam[q] = team[i]
            fill[c] += 1


class Grid(NamedTuple):
    """The neighbour grid (as grid_build made it) and what scan_range leaves for each agent it scans."""

    start: np.ndarray  # (n_cells + 1,) int64: slots of cell c are items[start[c]:start[c + 1]]
    items: np.ndarray  # (N,) int64 slots sorted by cell
    gxy: np.ndarray  # (N, 2) float32 their positions, in that order
    gteam: np.ndarray  # (N,) int8 their teams
    kd2: np.ndarray  # (N, k) float64 squared distances of the k nearest, ascending (INF past those found)
    kj: np.ndarray  # (N, k) int64 their slots (-1: none)
    near_d: np.ndarray  # (N, 2) float64 squared distance of the nearest agent of the own / another team (INF: none)
    near_j: np.ndarray  # (N, 2) int64 their slots (-1: none)


@numba.njit(cache=True, error_model="numpy")
def scan_range(lo, hi, query, pos, team, g, p):
    """For each slot i in lo .. hi-1 with query[i]: the agents j != i in the grid g within p.sense_radius of pos[i].

    Fills g.kd2[i], g.kj[i] with the k nearest and g.near_d[i], g.near_j[i] with the nearest of the agent's own team
    and of any other team (see Grid).
    A range at a time, not an agent: every array handed to a compiled function costs an atomic reference-count
    increment and decrement per call, which per agent took more time than the scan itself.
    Ties keep the earlier one in scan order (cells row by row, slots ascending inside a cell). The three cells of
    a row are consecutive in the sorted order, so each row is one contiguous range.
    """
    start, items, gxy, gteam, kd2, kj, near_d, near_j = g  # out of the bundle once
    k = kd2.shape[1]
    r2 = p.sense_radius * p.sense_radius
    for i in range(lo, hi):
        if not query[i]:
            continue
        x = pos[i, 0]
        y = pos[i, 1]
        my_team = team[i]
        for m in range(k):
            kd2[i, m] = INF
            kj[i, m] = -1
        ds, js, do, jo = INF, -1, INF, -1
        gx, gy = cell_xy(x, y, p)
        x_lo = max(gx - 1, 0)
        x_hi = min(gx + 1, p.grid_nx - 1)
        for cy in range(max(gy - 1, 0), min(gy + 2, p.grid_ny)):
            row = cy * p.grid_nx
            for q in range(start[row + x_lo], start[row + x_hi + 1]):
                dx = gxy[q, 0] - x
                dy = gxy[q, 1] - y
                d2 = dx * dx + dy * dy
                if d2 > r2:
                    continue
                j = items[q]
                if j == i:
                    continue
                if gteam[q] == my_team:
                    if d2 < ds:
                        ds = d2
                        js = j
                elif d2 < do:
                    do = d2
                    jo = j
                if k > 0 and d2 < kd2[i, k - 1]:
                    m = k - 1
                    while m > 0 and kd2[i, m - 1] > d2:
                        kd2[i, m] = kd2[i, m - 1]
                        kj[i, m] = kj[i, m - 1]
                        m -= 1
                    kd2[i, m] = d2
                    kj[i, m] = j
        near_d[i, 0] = ds
        near_d[i, 1] = do
        near_j[i, 0] = js
        near_j[i, 1] = jo


@numba.njit(cache=True, inline="always", error_model="numpy")
def contact_cause(ds: float, do: float, p: Params) -> int:
    """Death cause from an agent's nearest same-team (ds) and other-team (do) squared distances (scan_range):
    CROWD if it touches anyone (contact "all"), TEAM if it touches another team (contact "teams"), else NONE."""
    r2 = p.contact_radius * p.contact_radius
    if p.contact == Contact.ALL and (ds < r2 or do < r2):
        return CROWD
    if p.contact == Contact.TEAMS and do < r2:
        return TEAM
    return NONE


@numba.njit(cache=True, error_model="numpy")
def clear_of_agents(x, y, pos, start, items, placed, n_placed, p) -> bool:
    """True if no agent in the grid and none of placed[:n_placed] lies within p.spawn_clear of (x, y)."""
    r2 = p.spawn_clear * p.spawn_clear
    if r2 <= 0.0:
        return True
    gx, gy = cell_xy(x, y, p)
    for cy in range(max(gy - 1, 0), min(gy + 2, p.grid_ny)):
        for cx in range(max(gx - 1, 0), min(gx + 2, p.grid_nx)):
            c = cy * p.grid_nx + cx
            for q in range(start[c], start[c + 1]):
                j = items[q]
                dx = pos[j, 0] - x
                dy = pos[j, 1] - y
                if dx * dx + dy * dy < r2:
                    return False
    for m in range(n_placed):
        j = placed[m]
        dx = pos[j, 0] - x
        dy = pos[j, 1] - y
        if dx * dx + dy * dy < r2:
            return False
    return True
