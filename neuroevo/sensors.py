"""Sensors: world state -> the inputs of every agent's net (1/d to edges, cursor, icons, neighbours; raw d ablation).

The input vector is made of the sensor blocks a scenario chooses (`brain.sensors`), always in this order:
  edges (5)   ego frame -> along rays ahead, 45 deg left, 45 deg right, 90 deg left, 90 deg right;
              world frame -> left, right, top, bottom wall, and the nearest of the four
  cursor (4)  cursor distance; direction (ego: ahead, left components; world: x, y; 0 without a cursor);
              1 while a click is coming (the hunter has committed), else 0
  self (1/3)  own speed scaled to [-1, 1]; in the world frame also the heading (cos, sin). The ego frame has
              no heading inputs: its axes are the heading. (Measured: with world heading in the ego inputs, circling
              agents drift, because their inputs keep changing, and die minutes later.)
  icons (3)   distance to the nearest icon rectangle, direction to its closest point
  neighbours (3 per neighbour, brain.neighbours of them)  distance and direction of the nearest agents within
              brain.sense_radius, nearest first
  team (6)    distance and direction of the nearest agent of another team, then of the nearest of the own team
  extra       the scenario's extra_inputs hook, written between chunks (sensors leave these columns alone)
The default (edges, cursor, self in the ego frame) gives the 10 inputs (N_INPUTS) of the edges and cursor scenarios.
Distances d are to where bodies would touch (centre to wall or rectangle minus the radius; centre to centre minus
hazards.contact_radius for agents). With encoding "inverse" an input is min(inv_scale / d, 1): near things are loud,
far things fade to 0, and an absent thing reads 0. With "raw" it is min(d / raw_scale, 1), and absent reads 1. With
"raw_px" it is d itself in px (what the seed program fed its nets), and absent reads the world's width.
"""

from __future__ import annotations

import math

import numba

from .config import Encoding, Frame

N_INPUTS = 10  # the default blocks (edges, cursor, self) in the default ego frame
BLOCK_NAMES = {
    "edges": ("edge ahead/left", "edge ahead-left/right", "edge ahead-right/top", "edge left/bottom",
              "edge right/nearest"),
    "cursor": ("cursor dist", "cursor dir 1", "cursor dir 2", "click coming"),
    "self": ("speed", "cos heading", "sin heading"),
    "icons": ("icon dist", "icon dir 1", "icon dir 2"),
    "neighbours": ("agent dist", "agent dir 1", "agent dir 2"),
    "team": ("foe dist", "foe dir 1", "foe dir 2", "mate dist", "mate dir 1", "mate dir 2"),
}
OUTPUT_NAMES = ("turn", "thrust")
DIAG = math.sqrt(0.5)
WALL_MIN = 1e-9  # px: the edge rays' nearest wall distance (no division by zero on a wall)


def input_names(offsets: dict[str, tuple[int, int]]) -> list[str]:
    """A short label per input for a given config.input_offsets() (for viewers and plots)."""
    out: list[str] = []
    for block, (_, n) in offsets.items():
        if block == "neighbours":
            out += [f"{name} {k + 1}" for k in range(n // 3) for name in BLOCK_NAMES[block]]
        elif block == "extra":
            out += [f"extra {k + 1}" for k in range(n)]
        else:
            out += list(BLOCK_NAMES[block][:n])  # "self": speed alone in the ego frame
    return out


@numba.njit(cache=True, inline="always", error_model="numpy")
def encode(d: float, encoding: int, inv_scale: float, raw_scale: float) -> float:
    """One distance in px -> one input value."""
    if encoding == Encoding.INVERSE:
        if d < 1e-3:
            d = 1e-3
        v = inv_scale / d
        return 1.0 if v > 1.0 else v
    if encoding == Encoding.RAW_PX:
        return d
    v = d / raw_scale
    return 1.0 if v > 1.0 else v


@numba.njit(cache=True, inline="always", error_model="numpy")
def wall_q(dx: float, dy: float, ax: float, bx: float, ay: float, by: float) -> float:
    """1 / (distance along unit direction (dx, dy) to the nearest wall of a box), from the reciprocal distances of
    the point to the box's walls: ax right, bx left, ay bottom, by top. Walls behind the ray give <= 0, so the
    largest term is the wall it meets first; 5 rays from one point share the 4 divisions."""
    return max(max(dx * ax, -dx * bx), max(dy * ay, -dy * by))


@numba.njit(cache=True, inline="always", error_model="numpy")
def encode_q(q: float, encoding: int, inv_scale: float, raw_scale: float) -> float:
    """encode(1 / q) (q from wall_q); the inverse encoding needs no division: min(inv_scale * min(q, 1e3), 1)."""
    if encoding == Encoding.INVERSE:
        v = inv_scale * min(q, 1e3)
        return 1.0 if v > 1.0 else v
    return encode(1.0 / q, encoding, inv_scale, raw_scale)


@numba.njit(cache=True, inline="always", error_model="numpy")
def thing(present, d_centre, dx, dy, gap, c, s, p):
    """(distance, dir 1, dir 2) inputs of a thing at vector (dx, dy), centre distance d_centre.

    The distance input encodes d_centre - gap (where bodies touch); directions are ego (ahead, left) or world."""
    if not present:
        return 0.0 if p.encoding == Encoding.INVERSE else (p.width if p.encoding == Encoding.RAW_PX else 1.0), 0.0, 0.0
    d = d_centre - gap
    v = encode(d if d > 0.0 else 0.0, p.encoding, p.inv_scale, p.raw_scale)
    if d_centre > 1e-6:
        ux = dx / d_centre
        uy = dy / d_centre
    else:
        ux = 0.0
        uy = 0.0
    if p.frame == Frame.EGO:
        return v, ux * c + uy * s, ux * s - uy * c
    return v, ux, uy


@numba.njit(cache=True, inline="always", error_model="numpy")
def agent_thing(j, d2, xj, yj, x, y, c, s, p):
    """thing() for agent slot j (-1: nobody) at (xj, yj), squared centre distance d2, seen from (x, y)."""
    return thing(j >= 0, math.sqrt(d2), xj - x, yj - y, p.contact_radius, c, s, p)


@numba.njit(cache=True, inline="always", error_model="numpy")
def edges_in(x, y, c, s, p):
    """The edges block (5 inputs) of an agent at (x, y) heading (c, s) = (cos, sin)."""
    r = p.radius
    lo_x, hi_x, lo_y, hi_y = r, p.width - r, r, p.height - r
    e, si, sr = p.encoding, p.inv_scale, p.raw_scale
    if p.frame == Frame.EGO:
        # left of the heading (c, s) is (s, -c) with y pointing down the screen; 1 / distance to each wall
        # (a point on or past a wall counts as WALL_MIN px from it)
        ax = 1.0 / max(hi_x - x, WALL_MIN)
        bx = 1.0 / max(x - lo_x, WALL_MIN)
        ay = 1.0 / max(hi_y - y, WALL_MIN)
        by = 1.0 / max(y - lo_y, WALL_MIN)
        return (encode_q(wall_q(c, s, ax, bx, ay, by), e, si, sr),
                encode_q(wall_q(DIAG * (c + s), DIAG * (s - c), ax, bx, ay, by), e, si, sr),
                encode_q(wall_q(DIAG * (c - s), DIAG * (s + c), ax, bx, ay, by), e, si, sr),
                encode_q(wall_q(s, -c, ax, bx, ay, by), e, si, sr),
                encode_q(wall_q(-s, c, ax, bx, ay, by), e, si, sr))
    d0 = max(x - lo_x, 0.0)
    d1 = max(hi_x - x, 0.0)
    d2 = max(y - lo_y, 0.0)
    d3 = max(hi_y - y, 0.0)
    d4 = min(min(d0, d1), min(d2, d3))
    return (encode(d0, e, si, sr), encode(d1, e, si, sr), encode(d2, e, si, sr), encode(d3, e, si, sr),
            encode(d4, e, si, sr))


@numba.njit(cache=True, inline="always", error_model="numpy")
def speed_in(v, p):
    """The own-speed input, scaled to [-1, 1]."""
    span = p.max_speed - p.min_speed
    return 2.0 * (v - p.min_speed) / span - 1.0 if span > 0 else 0.0
