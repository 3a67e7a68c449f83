"""Physics: net outputs -> turn and thrust, fixed-dt integration, and hazards -> death causes."""

from __future__ import annotations

import math

import numba
import numpy as np

from .config import Params
from .state import CURSOR, EDGE, ICON, NONE

# sin and cos on [-pi/4, pi/4] by their Taylor series (the first omitted terms are below 1e-19 there), after
# reducing by the nearest multiple of pi/2 (pi/2 in two parts, so the reduction keeps full precision)
PI_WRAP = 3.1415927410125732  # float32(pi): headings beyond it are wrapped first
TWO_PI = 6.283185307179586
INV_TWO_PI = 0.15915494309189535
TWO_OVER_PI = 0.6366197723675814
PIO2_HI = 1.5707963267948966
PIO2_LO = 6.123233995736766e-17
S3, S5, S7, S9 = -0.16666666666666666, 0.008333333333333333, -0.0001984126984126984, 2.7557319223985893e-06
S11, S13, S15, S17 = -2.505210838544172e-08, 1.6059043836821613e-10, -7.647163731819816e-13, 2.8114572543455206e-15
C2, C4, C6, C8 = -0.5, 0.041666666666666664, -0.001388888888888889, 2.48015873015873e-05
C10, C12, C14, C16 = -2.755731922398589e-07, 2.08767569878681e-09, -1.1470745597729725e-11, 4.779477332387385e-14
C18 = -1.5619206968586225e-16


@numba.njit(cache=True, inline="always", error_model="numpy")
def heading_cs(h):
    """(cos, sin) of a heading as the state stores it (float32), computed in float64: the one pair of trig values
    per agent and step (move_one makes it, the next step's sensing reuses it; see steploop.run_chunk).

    A polynomial of plain multiplies and adds instead of the C library's sincos, which took a quarter of a
    10,000-agent step. On [-pi, pi] (where move_one keeps headings) it is within 2.3e-16 of the true values and
    differs from the C library's in the last float64 bit for cos in ~17% and sin in ~11% of headings; the float32
    state rounded that away in every run tested (every golden hash stayed the same). A heading outside [-pi, pi]
    (a hook may set any) is first wrapped by the nearest multiple of 2 pi, so the result stays a unit vector; inf
    and nan give nan, as the C library does, and -0.0 keeps its sign in the sine. reference.heading_cs_np does the
    same operations on arrays, so the two agree to the bit."""
    hd = np.float64(h)
    if not abs(hd) <= PI_WRAP:
        hd = hd - TWO_PI * np.floor(hd * INV_TWO_PI + 0.5)
    if hd == 0.0:
        return 1.0, hd
    k = np.floor(hd * TWO_OVER_PI + 0.5)
    r = (hd - k * PIO2_HI) - k * PIO2_LO
    r2 = r * r
    sn = r + r * r2 * (S3 + r2 * (S5 + r2 * (S7 + r2 * (S9 + r2 * (S11 + r2 * (S13 + r2 * (S15 + r2 * S17)))))))
    cn = 1.0 + r2 * (C2 + r2 * (C4 + r2 * (C6 + r2 * (C8 + r2 * (C10 + r2 * (C12 + r2 * (C14 + r2 * (C16 + r2
                                                                                                       * C18))))))))
    q = k - 4.0 * np.floor(k * 0.25)  # the quadrant, 0 .. 3 (nan for nan)
    if q == 0.0:
        return cn, sn
    if q == 1.0:
        return -sn, cn
    if q == 2.0:
        return -cn, -sn
    return sn, -cn


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
