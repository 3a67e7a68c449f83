"""Physics: net outputs -> turn and thrust, fixed-dt integration, and hazards -> death causes."""

from __future__ import annotations

import math

import numba
import numpy as np

from .config import Params
from .obstacles import nearest_icon
from .state import CURSOR, EDGE, ICON, NONE


@numba.njit(cache=True, inline="always", error_model="numpy")
def move_one(x: float, y: float, h: float, v: float, turn: float, thrust: float, p: Params):
    """Integrate one agent for one step. turn, thrust in [-1, 1]. Returns (x, y, heading, speed)."""
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
    x = x + v * p.dt * math.cos(h)
    y = y + v * p.dt * math.sin(h)
    return x, y, h, v


@numba.njit(cache=True, inline="always", error_model="numpy")
def hazard_one(x: float, y: float, cx: float, cy: float, click: float, icons: np.ndarray, p: Params) -> int:
    """Death cause for an agent at (x, y) after the move: edge, then icon, then cursor; NONE if it survives.
    (Agent-agent contact is decided before the move, from the start-of-step grid: see step.agent_step.)"""
    r = p.radius
    if x < r or x > p.width - r or y < r or y > p.height - r:
        return EDGE
    if icons.shape[0] > 0:
        d, _, _ = nearest_icon(x, y, icons)
        if d < r:
            return ICON
    if click > 0.0:
        dx = x - cx
        dy = y - cy
        if dx * dx + dy * dy <= p.kill_radius * p.kill_radius:
            return CURSOR
    return NONE
