"""Cursor sources behind one interface: none, hunter bot, random clicker, external (human mouse or recorded trace).

Every source writes the same cursor vector (state.CX ... state.C_RETARGET) once per step, before agents sense:
position, whether a cursor is present, whether a click is coming (armed) and whether it clicks this step. The
external source reads one row per step (x, y, present, armed, click) that a front end or a trace supplies, so the
live mouse, a recorded trace and tests all drive the world the same way.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .config import CursorSource, Params
from .state import C_ARMED, C_CLICK, C_PHASE, C_PRESENT, C_RETARGET, C_TARGET, C_TARGET_ID, C_TIMER, CX, CY

HUNTER, RANDOM, EXTERNAL = CursorSource.HUNTER, CursorSource.RANDOM, CursorSource.EXTERNAL
CHASE, AIM, COOLDOWN = 0, 1, 2
EXT_COLUMNS = 5  # external rows: x, y, present, armed, click


@numba.njit(cache=True, error_model="numpy")
def nearest_alive(x: float, y: float, pos: np.ndarray, alive: np.ndarray) -> int:
    """Slot of the living agent nearest to (x, y); -1 if none lives."""
    best = -1
    best_d = 1.0e30
    for i in range(alive.shape[0]):
        if alive[i]:
            dx = pos[i, 0] - x
            dy = pos[i, 1] - y
            d = dx * dx + dy * dy
            if d < best_d:
                best_d = d
                best = i
    return best


@numba.njit(cache=True, error_model="numpy")
def reset_cursor(cur: np.ndarray, p: Params) -> None:
    cur[:] = 0.0
    cur[CX] = 0.5 * p.width
    cur[CY] = 0.5 * p.height
    cur[C_TARGET] = -1.0
    cur[C_TARGET_ID] = -1.0
    if p.cursor_source == HUNTER:
        cur[C_PRESENT] = 1.0


@numba.njit(cache=True, error_model="numpy")
def hunter_update(
    cur: np.ndarray, pos: np.ndarray, alive: np.ndarray, genome_id: np.ndarray, p: Params
) -> None:
    """Chase the nearest agent below the agents' top speed; after the reaction delay click; then cool down."""
    cur[C_PRESENT] = 1.0
    cur[C_CLICK] = 0.0
    tgt = int(cur[C_TARGET])
    lost = tgt < 0 or not alive[tgt] or genome_id[tgt] != int(cur[C_TARGET_ID])
    if lost or cur[C_RETARGET] <= 0.0:
        tgt = nearest_alive(cur[CX], cur[CY], pos, alive)
        cur[C_TARGET] = tgt
        cur[C_TARGET_ID] = genome_id[tgt] if tgt >= 0 else -1
        cur[C_RETARGET] = p.retarget_steps
    else:
        cur[C_RETARGET] -= 1.0
    if tgt >= 0:
        dx = pos[tgt, 0] - cur[CX]
        dy = pos[tgt, 1] - cur[CY]
        d = math.sqrt(dx * dx + dy * dy)
        step = p.hunter_speed * p.dt
        if d <= step:
            cur[CX] = pos[tgt, 0]
            cur[CY] = pos[tgt, 1]
            d = 0.0
        else:
            cur[CX] += dx / d * step
            cur[CY] += dy / d * step
            d -= step
    else:
        d = 1.0e30
    phase = int(cur[C_PHASE])
    if phase == CHASE:
        if d < p.aim_radius:
            cur[C_PHASE] = AIM
            cur[C_TIMER] = p.reaction_steps
    elif phase == AIM:
        cur[C_TIMER] -= 1.0
        if cur[C_TIMER] <= 0.0:
            cur[C_CLICK] = 1.0
            cur[C_PHASE] = COOLDOWN
            cur[C_TIMER] = p.cooldown_steps
    else:
        cur[C_TIMER] -= 1.0
        if cur[C_TIMER] <= 0.0:
            cur[C_PHASE] = CHASE
    cur[C_ARMED] = 1.0 if int(cur[C_PHASE]) == AIM else 0.0


@numba.njit(cache=True, error_model="numpy")
def cursor_update(
    cur: np.ndarray, pos: np.ndarray, alive: np.ndarray, genome_id: np.ndarray, p: Params,
    rng: np.random.Generator, ext: np.ndarray, t: int,
) -> None:
    """Advance the cursor one step according to p.cursor_source; ext (n_steps, 5) is read for EXTERNAL."""
    src = p.cursor_source
    if src == HUNTER:
        hunter_update(cur, pos, alive, genome_id, p)
    elif src == RANDOM:
        cur[C_CLICK] = 0.0
        cur[C_ARMED] = 0.0
        if rng.random() < p.random_click_p:
            cur[CX] = rng.random() * p.width
            cur[CY] = rng.random() * p.height
            cur[C_PRESENT] = 1.0
            cur[C_CLICK] = 1.0
    elif src == EXTERNAL:
        if t < ext.shape[0]:
            cur[CX] = ext[t, 0]
            cur[CY] = ext[t, 1]
            cur[C_PRESENT] = ext[t, 2]
            cur[C_ARMED] = ext[t, 3]
            cur[C_CLICK] = ext[t, 4]
        else:
            cur[C_CLICK] = 0.0
    else:
        cur[C_PRESENT] = 0.0
        cur[C_ARMED] = 0.0
        cur[C_CLICK] = 0.0


def external_rows(n_steps: int, x: float, y: float, present: bool, click_first: bool, armed: bool = False):
    """Rows for the external source: the cursor held at (x, y) for n_steps, optionally clicking on the first."""
    rows = np.zeros((n_steps, EXT_COLUMNS), np.float64)
    rows[:, 0], rows[:, 1] = x, y
    rows[:, 2] = 1.0 if present else 0.0
    rows[:, 3] = 1.0 if armed else 0.0
    if click_first and n_steps > 0:
        rows[0, 4] = 1.0
    return rows
