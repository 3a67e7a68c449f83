"""Sensors: world state -> the inputs of every agent's net (1/d to edges and cursor by default; raw d as ablation).

Input vector of one agent (N_INPUTS = 12):
  0-4  edges: ego frame -> along rays ahead, 45 deg left, 45 deg right, 90 deg left, 90 deg right;
       world frame -> left, right, top, bottom wall, and the nearest of the four
  5    cursor distance
  6-7  cursor direction: ego -> (ahead, left) components; world -> (x, y) components; 0 without a cursor
  8    1 while a click is coming (the hunter has committed), else 0
  9    own speed scaled to [-1, 1]
  10-11 own heading (cos, sin) in world axes; 0 in the ego frame, where the heading is the frame itself. (Measured:
       with world heading in the ego inputs, circling agents drift, because their inputs keep changing, and die
       minutes later; without it, edge deaths reach <= 1/minute about twice as fast.)
Distances d are to the wall the agent's body would touch (centre to wall minus radius). With encoding "inverse" an
input is min(inv_scale / d, 1): near things are loud, far things fade to 0. With "raw" it is min(d / raw_scale, 1).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .config import Params

N_INPUTS = 12
N_EDGE = 5
INPUT_NAMES = (
    "edge ahead/left", "edge ahead-left/right", "edge ahead-right/top", "edge left/bottom", "edge right/nearest",
    "cursor dist", "cursor dir 1", "cursor dir 2", "click coming", "speed", "cos heading", "sin heading",
)
DIAG = math.sqrt(0.5)
BIG = 1.0e9


@numba.njit(cache=True, inline="always", error_model="numpy")
def encode(d: float, encoding: int, inv_scale: float, raw_scale: float) -> float:
    """One distance in px -> one input value."""
    if encoding == 0:
        if d < 1e-3:
            d = 1e-3
        v = inv_scale / d
        return 1.0 if v > 1.0 else v
    v = d / raw_scale
    return 1.0 if v > 1.0 else v


@numba.njit(cache=True, inline="always", error_model="numpy")
def ray_to_wall(x: float, y: float, dx: float, dy: float, lo_x: float, hi_x: float, lo_y: float, hi_y: float) -> float:
    """Distance from (x, y) along unit direction (dx, dy) to the box [lo_x, hi_x] x [lo_y, hi_y] boundary."""
    tx = BIG
    if dx > 1e-12:
        tx = (hi_x - x) / dx
    elif dx < -1e-12:
        tx = (lo_x - x) / dx
    ty = BIG
    if dy > 1e-12:
        ty = (hi_y - y) / dy
    elif dy < -1e-12:
        ty = (lo_y - y) / dy
    t = tx if tx < ty else ty
    return t if t > 0.0 else 0.0


@numba.njit(cache=True, inline="always", error_model="numpy")
def sense_one(
    x: float, y: float, h: float, v: float, cx: float, cy: float, c_present: float, c_armed: float,
    p: Params, out: np.ndarray,
) -> None:
    """Write one agent's N_INPUTS inputs into out[0:N_INPUTS]."""
    r = p.radius
    lo_x, hi_x, lo_y, hi_y = r, p.width - r, r, p.height - r
    c = math.cos(h)
    s = math.sin(h)
    if p.frame == 0:
        # left of the heading (c, s) is (s, -c) with y pointing down the screen
        d0 = ray_to_wall(x, y, c, s, lo_x, hi_x, lo_y, hi_y)
        d1 = ray_to_wall(x, y, DIAG * (c + s), DIAG * (s - c), lo_x, hi_x, lo_y, hi_y)
        d2 = ray_to_wall(x, y, DIAG * (c - s), DIAG * (s + c), lo_x, hi_x, lo_y, hi_y)
        d3 = ray_to_wall(x, y, s, -c, lo_x, hi_x, lo_y, hi_y)
        d4 = ray_to_wall(x, y, -s, c, lo_x, hi_x, lo_y, hi_y)
    else:
        d0 = max(x - lo_x, 0.0)
        d1 = max(hi_x - x, 0.0)
        d2 = max(y - lo_y, 0.0)
        d3 = max(hi_y - y, 0.0)
        d4 = min(min(d0, d1), min(d2, d3))
    out[0] = encode(d0, p.encoding, p.inv_scale, p.raw_scale)
    out[1] = encode(d1, p.encoding, p.inv_scale, p.raw_scale)
    out[2] = encode(d2, p.encoding, p.inv_scale, p.raw_scale)
    out[3] = encode(d3, p.encoding, p.inv_scale, p.raw_scale)
    out[4] = encode(d4, p.encoding, p.inv_scale, p.raw_scale)
    if c_present > 0.0:
        dx = cx - x
        dy = cy - y
        d = math.sqrt(dx * dx + dy * dy)
        out[5] = encode(d, p.encoding, p.inv_scale, p.raw_scale)
        if d > 1e-6:
            ux = dx / d
            uy = dy / d
        else:
            ux = 0.0
            uy = 0.0
        if p.frame == 0:
            out[6] = ux * c + uy * s
            out[7] = ux * s - uy * c
        else:
            out[6] = ux
            out[7] = uy
        out[8] = 1.0 if c_armed > 0.0 else 0.0
    else:
        out[5] = 0.0 if p.encoding == 0 else 1.0
        out[6] = 0.0
        out[7] = 0.0
        out[8] = 0.0
    span = p.max_speed - p.min_speed
    out[9] = 2.0 * (v - p.min_speed) / span - 1.0 if span > 0 else 0.0
    if p.frame == 0:
        out[10] = 0.0
        out[11] = 0.0
    else:
        out[10] = c
        out[11] = s


def sense_np(pos: np.ndarray, heading: np.ndarray, speed: np.ndarray, cursor: tuple, p: Params) -> np.ndarray:
    """Numpy reference of sense_one for the whole population: (N, N_INPUTS) float32.

    cursor is (x, y, present, armed).
    """
    x = pos[:, 0].astype(np.float64)
    y = pos[:, 1].astype(np.float64)
    h = heading.astype(np.float64)
    r = p.radius
    lo_x, hi_x, lo_y, hi_y = r, p.width - r, r, p.height - r
    c, s = np.cos(h), np.sin(h)

    def enc(d):
        if p.encoding == 0:
            return np.minimum(p.inv_scale / np.maximum(d, 1e-3), 1.0)
        return np.minimum(d / p.raw_scale, 1.0)

    def ray(dx, dy):
        with np.errstate(divide="ignore", invalid="ignore"):
            tx = np.where(dx > 1e-12, (hi_x - x) / dx, np.where(dx < -1e-12, (lo_x - x) / dx, BIG))
            ty = np.where(dy > 1e-12, (hi_y - y) / dy, np.where(dy < -1e-12, (lo_y - y) / dy, BIG))
        return np.maximum(np.minimum(tx, ty), 0.0)

    out = np.zeros((pos.shape[0], N_INPUTS))
    if p.frame == 0:
        dists = [ray(c, s), ray(DIAG * (c + s), DIAG * (s - c)), ray(DIAG * (c - s), DIAG * (s + c)), ray(s, -c),
                 ray(-s, c)]
    else:
        dists = [np.maximum(x - lo_x, 0), np.maximum(hi_x - x, 0), np.maximum(y - lo_y, 0), np.maximum(hi_y - y, 0)]
        dists.append(np.minimum(np.minimum(dists[0], dists[1]), np.minimum(dists[2], dists[3])))
    for k, d in enumerate(dists):
        out[:, k] = enc(d)
    cx, cy, present, armed = cursor
    if present > 0:
        dx, dy = cx - x, cy - y
        d = np.hypot(dx, dy)
        out[:, 5] = enc(d)
        safe = np.where(d > 1e-6, d, 1.0)
        ux, uy = np.where(d > 1e-6, dx / safe, 0.0), np.where(d > 1e-6, dy / safe, 0.0)
        if p.frame == 0:
            out[:, 6], out[:, 7] = ux * c + uy * s, ux * s - uy * c
        else:
            out[:, 6], out[:, 7] = ux, uy
        out[:, 8] = 1.0 if armed > 0 else 0.0
    else:
        out[:, 5] = 0.0 if p.encoding == 0 else 1.0
    out[:, 9] = 2.0 * (speed - p.min_speed) / (p.max_speed - p.min_speed) - 1.0
    if p.frame == 1:
        out[:, 10], out[:, 11] = c, s
    return out.astype(np.float32)
