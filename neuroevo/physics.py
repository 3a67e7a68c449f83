"""Physics: net outputs -> turn and thrust, fixed-dt integration, and hazards -> death causes."""

from __future__ import annotations

import math

import numba
import numpy as np

from .config import Params
from .state import CURSOR, EDGE, ICON, NONE


@numba.njit(cache=True, inline="always", error_model="numpy")
def heading_cs(h):
    """(cos, sin) of a heading as the state stores it (float32), computed in float64: the one pair of trig calls
    per agent and step (move_one makes it, the next step's sensing reuses it; see step.run_chunk)."""
    hd = np.float64(h)
    return math.cos(hd), math.sin(hd)


@numba.njit(cache=True, inline="always", error_model="numpy")
def move_one(x: float, y: float, h: float, v: float, turn: float, thrust: float, p: Params):
    """Integrate one agent for one step. turn, thrust in [-1, 1]. Returns (x, y, heading, speed, cos, sin): the new
    heading rounded to float32 as the state stores it, and its cos and sin, which move the agent now (semi-implicit
    Euler: turn, then fly) and which it senses with at the next step."""
    h = h + turn * p.max_turn * p.dt
    if h > math.pi:
        h -= 2.0 * math.pi
    elif h < -math.pi:
        h += 2.0 * math.pi
    v = v + thrust * p.max_accel * p.dt
    if v < p.min_speed:
        v = p.min_speed
    elif v > p.max_speed:
        v = p.max_speed
    h32 = np.float32(h)
    c, s = heading_cs(h32)
    x = x + v * p.dt * c
    y = y + v * p.dt * s
    return x, y, h32, v, c, s


@numba.njit(cache=True, inline="always", error_model="numpy")
def hazard_one(x: float, y: float, cx: float, cy: float, click: float, d_icon: float, p: Params) -> int:
    """Death cause for an agent at (x, y) after the move: edge, then icon, then cursor; NONE if it survives.
    d_icon: the centre distance to the nearest icon (obstacles.nearest_icon; BIG without icons).
    (Agent-agent contact is decided before the move, from the start-of-step grid: see step.agents_range.)"""
    r = p.radius
    if x < r or x > p.width - r or y < r or y > p.height - r:
        return EDGE
    if d_icon < r:
        return ICON
    if click > 0.0:
        dx = x - cx
        dy = y - cy
        if dx * dx + dy * dy <= p.kill_radius * p.kill_radius:
            return CURSOR
    return NONE
