"""Cursor sources behind one interface: none, hunter bot, random clicker, external (human mouse or recorded trace),
and a model of a person with a mouse.

Every source writes the same cursor vector (state.CX ... state.C_RETARGET) once per step, before agents sense:
position, whether a cursor is present, whether a click is coming (armed) and whether it clicks this step. The
external source reads one row per step (x, y, present, armed, click) that a front end or a trace supplies, so the
live mouse, a recorded trace and tests all drive the world the same way.

The mouse model (mouse_update) hunts as a person does, from pointing studies (README: "A model of a person"):
  - it sees the scene a perception delay late (mouse_lag_s, 0.15 s: visual feedback in aimed movements takes
    ~0.1-0.2 s, Keele & Posner 1968, Carlton 1981) and takes a new look at that same period (intermittent
    control: submovements every ~0.1-0.2 s, Miall et al. 1993); each look has a small position error (mouse_aim_sd);
  - it extrapolates the target's motion seen between two looks (predictive pursuit) to where the target is now
    and one time constant ahead;
  - its pointer closes on that point as a first-order system (time constant mouse_tau_s), capped at mouse_speed:
    iterated corrections of this kind give Fitts's law with slope b = tau ln 2 (Crossman & Goodeve 1963/1983);
    tau 0.14 s gives the mouse's ~0.1 s/bit (Card, English & Burr 1978), and a far faster pointer than the bot;
  - once the pointer seems on the target (mouse_click_px) it decides to click, and the click lands a motor delay
    later (mouse_click_delay_s), wherever the pointer then is; clicks are at least mouse_click_interval_s apart
    (repeated aimed clicking, a few per second);
  - it gives no warning: the "click coming" flag stays 0.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .config import CursorSource, Params
from .state import (
    C_AIM_AGE,
    C_AIM_OK,
    C_AIM_VX,
    C_AIM_VY,
    C_AIM_X,
    C_AIM_Y,
    C_ARMED,
    C_CLICK,
    C_CLICKED,
    C_GLANCE,
    C_PHASE,
    C_PRESENT,
    C_PREV_ID,
    C_PREV_X,
    C_PREV_Y,
    C_RETARGET,
    C_SEEN_OK,
    C_SEEN_VX,
    C_SEEN_VY,
    C_SEEN_X,
    C_SEEN_Y,
    C_TARGET,
    C_TARGET_ID,
    C_TIMER,
    CX,
    CY,
)

HUNTER, RANDOM, EXTERNAL, MOUSE = CursorSource.HUNTER, CursorSource.RANDOM, CursorSource.EXTERNAL, CursorSource.MOUSE
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


def forget_target(cur: np.ndarray) -> None:
    """Drop what a source measured of its target (the anticipating hunter's last position and velocity, the mouse
    model's last look and aim), so a source switched on mid-run starts from a fresh look."""
    cur[C_PREV_ID] = -1.0
    cur[C_SEEN_OK] = 0.0
    cur[C_AIM_OK] = 0.0


@numba.njit(cache=True, error_model="numpy")
def reset_cursor(cur: np.ndarray, p: Params) -> None:
    cur[:] = 0.0
    cur[CX] = 0.5 * p.width
    cur[CY] = 0.5 * p.height
    cur[C_TARGET] = -1.0
    cur[C_TARGET_ID] = -1.0
    cur[C_PREV_ID] = -1.0
    if p.cursor_source == HUNTER or p.cursor_source == MOUSE:
        cur[C_PRESENT] = 1.0


LEAD_STEPS = 40  # the anticipating hunter looks this many pieces of its reaction delay ahead on a target's path


@numba.njit(cache=True, error_model="numpy", inline="always")
def lead_point(cur: np.ndarray, cx: float, cy: float, x: float, y: float, gid: int, ahead: float, p: Params
               ) -> tuple[float, float, float, float]:
    """The anticipating hunter's aim at an agent now at (x, y) (genome id gid), whose speed and turn rate it
    measures from the agent's last two steps (kept in the cursor's C_PREV_* and C_SEEN_* slots) and assumes they
    stay. In AIM (ahead > 0: the moves left until the click lands, in s): where the agent will be then. In CHASE
    (ahead = 0): the first point of the agent's coming path, looked at in pieces of a quarter of the time a click
    committed now takes to land, that the hunter, now at (cx, cy), can reach that long before the agent does (it
    waits there and commits as the agent comes), or the farthest point looked at. Also returns where the agent will
    be when a click committed now lands (the CHASE commit test). Points are clamped to the world. A fixed circle is
    so met on its way round instead of chased round it.

    A click committed now lands reaction_steps updates later and kills on the positions after one more move: the
    agent moves reaction_steps + 1 times. Each move first turns the velocity, so the path ahead starts turned by one
    step of the turn rate."""
    if int(cur[C_PREV_ID]) == gid:
        vx = (x - cur[C_PREV_X]) / p.dt
        vy = (y - cur[C_PREV_Y]) / p.dt
        w = 0.0
        if cur[C_SEEN_OK] > 0.0:
            ux = cur[C_SEEN_VX]
            uy = cur[C_SEEN_VY]
            w = math.atan2(ux * vy - uy * vx, ux * vx + uy * vy) / p.dt
        cur[C_SEEN_OK] = 1.0
    else:
        vx = 0.0
        vy = 0.0
        w = 0.0
        cur[C_SEEN_OK] = 0.0
    cur[C_SEEN_VX] = vx
    cur[C_SEEN_VY] = vy
    cur[C_PREV_X] = x
    cur[C_PREV_Y] = y
    cur[C_PREV_ID] = gid
    react = (p.reaction_steps + 1) * p.dt
    h = ahead if ahead > 0.0 else 0.25 * react  # the piece of path per look
    n = 1 if ahead > 0.0 else LEAD_STEPS
    b = w * p.dt  # the next move turns first
    bs = math.sin(b)
    bc = math.cos(b)
    ux = vx * bc - vy * bs
    uy = vx * bs + vy * bc
    a = w * h
    s = math.sin(a)
    c = math.cos(a)
    if abs(a) > 1e-6:  # over a piece the velocity turns by a: the piece is an arc
        kx = (ux * s - uy * (1.0 - c)) / w
        ky = (ux * (1.0 - c) + uy * s) / w
    else:
        kx = ux * h
        ky = uy * h
    lx = x
    ly = y
    rx = x
    ry = y
    for i in range(n):
        lx += kx
        ly += ky
        if i == 3:
            rx = lx
            ry = ly
        if ahead <= 0.0:
            t = (i + 1) * h
            ex = min(max(lx, 0.0), p.width) - cx
            ey = min(max(ly, 0.0), p.height) - cy
            if t >= react and math.sqrt(ex * ex + ey * ey) <= p.hunter_speed * (t - react) + p.aim_radius:
                break
        kx, ky = kx * c - ky * s, kx * s + ky * c  # the next piece, turned by a
    return (min(max(lx, 0.0), p.width), min(max(ly, 0.0), p.height), min(max(rx, 0.0), p.width),
            min(max(ry, 0.0), p.height))


@numba.njit(cache=True, error_model="numpy")
def hunter_update(
    cur: np.ndarray, pos: np.ndarray, alive: np.ndarray, genome_id: np.ndarray, p: Params
) -> None:
    """Chase the nearest agent below the agents' top speed (with p.hunter_anticipates, the point of its coming
    path it can reach first, and commit when a click will land on it: lead_point); after the reaction delay click;
    then cool down."""
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
    rx = 0.0
    ry = 0.0
    if tgt >= 0:
        tx = np.float64(pos[tgt, 0])
        ty = np.float64(pos[tgt, 1])
        if p.hunter_anticipates:
            ahead = cur[C_TIMER] * p.dt if int(cur[C_PHASE]) == AIM else 0.0
            tx, ty, rx, ry = lead_point(cur, cur[CX], cur[CY], tx, ty, genome_id[tgt], ahead, p)
        dx = tx - cur[CX]
        dy = ty - cur[CY]
        d = math.sqrt(dx * dx + dy * dy)
        step = p.hunter_speed * p.dt
        if d <= step:
            cur[CX] = tx
            cur[CY] = ty
            d = 0.0
        else:
            cur[CX] += dx / d * step
            cur[CY] += dy / d * step
            d -= step
    else:
        d = 1.0e30
    if p.hunter_anticipates and tgt >= 0:  # commit on where the target will be when a click committed now lands
        ex = rx - cur[CX]
        ey = ry - cur[CY]
        d = math.sqrt(ex * ex + ey * ey)
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
    cur[C_ARMED] = 1.0 if int(cur[C_PHASE]) == AIM and p.hunter_warns else 0.0


@numba.njit(cache=True, error_model="numpy")
def mouse_update(
    cur: np.ndarray, pos: np.ndarray, alive: np.ndarray, genome_id: np.ndarray, p: Params, rng: np.random.Generator
) -> None:
    """One step of the model of a person with a mouse (see the module docstring)."""
    cur[C_PRESENT] = 1.0
    cur[C_CLICK] = 0.0
    cur[C_ARMED] = 0.0
    lag = p.mouse_lag_steps
    cur[C_GLANCE] -= 1.0
    if cur[C_GLANCE] <= 0.0:  # a look: last look's picture is now a delay old and becomes what the hand acts on
        cur[C_GLANCE] = lag
        if cur[C_SEEN_OK] > 0.0:
            cur[C_AIM_OK] = 1.0
            cur[C_AIM_X] = cur[C_SEEN_X]
            cur[C_AIM_Y] = cur[C_SEEN_Y]
            cur[C_AIM_VX] = cur[C_SEEN_VX]
            cur[C_AIM_VY] = cur[C_SEEN_VY]
            cur[C_AIM_AGE] = lag
        tgt = int(cur[C_TARGET])
        lost = tgt < 0 or not alive[tgt] or genome_id[tgt] != int(cur[C_TARGET_ID])
        if lost or cur[C_RETARGET] <= 0.0:
            tgt = nearest_alive(cur[CX], cur[CY], pos, alive)
            cur[C_TARGET] = tgt
            cur[C_TARGET_ID] = genome_id[tgt] if tgt >= 0 else -1
            cur[C_RETARGET] = p.retarget_steps
        else:
            cur[C_RETARGET] -= lag
        if tgt >= 0:
            x = pos[tgt, 0] + p.mouse_aim_sd * rng.standard_normal()
            y = pos[tgt, 1] + p.mouse_aim_sd * rng.standard_normal()
            if int(cur[C_PREV_ID]) == genome_id[tgt]:
                cur[C_SEEN_VX] = (x - cur[C_PREV_X]) / (lag * p.dt)
                cur[C_SEEN_VY] = (y - cur[C_PREV_Y]) / (lag * p.dt)
            else:
                cur[C_SEEN_VX] = 0.0
                cur[C_SEEN_VY] = 0.0
            cur[C_SEEN_X] = x
            cur[C_SEEN_Y] = y
            cur[C_SEEN_OK] = 1.0
            cur[C_PREV_X] = x
            cur[C_PREV_Y] = y
            cur[C_PREV_ID] = genome_id[tgt]
        else:
            cur[C_SEEN_OK] = 0.0
            cur[C_PREV_ID] = -1.0
    else:
        cur[C_AIM_AGE] += 1.0
    err = 1.0e30
    if cur[C_AIM_OK] > 0.0:
        now = cur[C_AIM_AGE] * p.dt  # how old the picture is: extrapolate to now, and a time constant ahead
        tx = cur[C_AIM_X] + cur[C_AIM_VX] * (now + p.mouse_tau)
        ty = cur[C_AIM_Y] + cur[C_AIM_VY] * (now + p.mouse_tau)
        tx = min(max(tx, 0.0), p.width)
        ty = min(max(ty, 0.0), p.height)
        dx = (tx - cur[CX]) * min(1.0, p.dt / p.mouse_tau)
        dy = (ty - cur[CY]) * min(1.0, p.dt / p.mouse_tau)
        d = math.sqrt(dx * dx + dy * dy)
        cap = p.mouse_speed * p.dt
        if d > cap:
            dx *= cap / d
            dy *= cap / d
        cur[CX] += dx
        cur[CY] += dy
        ex = cur[C_AIM_X] + cur[C_AIM_VX] * now - cur[CX]  # the pointer against where it thinks the target is
        ey = cur[C_AIM_Y] + cur[C_AIM_VY] * now - cur[CY]
        err = math.sqrt(ex * ex + ey * ey)
    phase = int(cur[C_PHASE])
    if phase == CHASE:
        if err < p.mouse_click_px:
            cur[C_PHASE] = AIM
            cur[C_TIMER] = p.mouse_click_delay_steps
    elif phase == AIM:
        cur[C_TIMER] -= 1.0
        if cur[C_TIMER] <= 0.0:
            cur[C_CLICK] = 1.0
            cur[C_PHASE] = COOLDOWN
            cur[C_TIMER] = p.mouse_click_interval_steps
    else:
        cur[C_TIMER] -= 1.0
        if cur[C_TIMER] <= 0.0:
            cur[C_PHASE] = CHASE


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
    elif src == MOUSE:
        mouse_update(cur, pos, alive, genome_id, p, rng)
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
    if cur[C_CLICK] > 0.0:
        cur[C_CLICKED] = 1.0


def external_rows(n_steps: int, x: float, y: float, present: bool, click_first: bool, armed: bool = False):
    """Rows for the external source: the cursor held at (x, y) for n_steps, optionally clicking on the first."""
    rows = np.zeros((n_steps, EXT_COLUMNS), np.float64)
    rows[:, 0], rows[:, 1] = x, y
    rows[:, 2] = 1.0 if present else 0.0
    rows[:, 3] = 1.0 if armed else 0.0
    if click_first and n_steps > 0:
        rows[0, 4] = 1.0
    return rows
