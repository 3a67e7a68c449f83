"""Physics: net outputs -> turn and thrust, fixed-dt integration, and hazards -> death causes."""

from __future__ import annotations

import math

import numba
import numpy as np

from .config import Params
from .obstacles import nearest_icon, nearest_icon_np
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
    (Agent-agent contact needs everyone's new position; sim.run_chunk checks it after this pass.)"""
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


def move_np(pos, heading, speed, outputs, p: Params):
    """Numpy reference of move_one for all agents: returns new (pos (N, 2), heading (N,), speed (N,)) float64."""
    h = heading.astype(np.float64) + outputs[:, 0].astype(np.float64) * p.max_turn * p.dt
    h = np.where(h > math.pi, h - 2 * math.pi, np.where(h < -math.pi, h + 2 * math.pi, h))
    v = np.clip(speed.astype(np.float64) + outputs[:, 1] * p.max_accel * p.dt, p.min_speed, p.max_speed)
    x = pos[:, 0] + v * p.dt * np.cos(h)
    y = pos[:, 1] + v * p.dt * np.sin(h)
    return np.stack([x, y], axis=1), h, v


def hazards_np(pos, cursor_xy, click: bool, p: Params, icons: np.ndarray | None = None) -> np.ndarray:
    """Numpy reference of hazard_one: (N,) int8 causes."""
    x, y = pos[:, 0], pos[:, 1]
    r = p.radius
    edge = (x < r) | (x > p.width - r) | (y < r) | (y > p.height - r)
    out = np.where(edge, EDGE, NONE)
    if icons is not None and icons.shape[0] > 0:
        icon = ~edge & (nearest_icon_np(pos, icons)[0] < r)
        out = np.where(icon, ICON, out)
        edge = edge | icon
    if click:
        d2 = (x - cursor_xy[0]) ** 2 + (y - cursor_xy[1]) ** 2
        out = np.where(~edge & (d2 <= p.kill_radius**2), CURSOR, out)
    return out.astype(np.int8)
