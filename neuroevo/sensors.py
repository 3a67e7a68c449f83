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

from .config import Encoding, Frame, Params
from .obstacles import BIG, nearest_icon

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
def put_thing(out, o, present, d_centre, dx, dy, gap, c, s, p) -> None:
    """Write (distance, dir 1, dir 2) of a thing at vector (dx, dy), centre distance d_centre, into out[o:o+3].

    The distance input encodes d_centre - gap (where bodies touch); directions are ego (ahead, left) or world."""
    if not present:
        out[o] = 0.0 if p.encoding == Encoding.INVERSE else (p.width if p.encoding == Encoding.RAW_PX else 1.0)
        out[o + 1] = 0.0
        out[o + 2] = 0.0
        return
    d = d_centre - gap
    out[o] = encode(d if d > 0.0 else 0.0, p.encoding, p.inv_scale, p.raw_scale)
    if d_centre > 1e-6:
        ux = dx / d_centre
        uy = dy / d_centre
    else:
        ux = 0.0
        uy = 0.0
    if p.frame == Frame.EGO:
        out[o + 1] = ux * c + uy * s
        out[o + 2] = ux * s - uy * c
    else:
        out[o + 1] = ux
        out[o + 2] = uy


@numba.njit(cache=True, inline="always", error_model="numpy")
def put_agent(out, o, j, d2, x, y, pos0, c, s, p) -> None:
    """put_thing for agent slot j (-1: nobody) at squared centre distance d2."""
    if j >= 0:
        put_thing(out, o, True, math.sqrt(d2), pos0[j, 0] - x, pos0[j, 1] - y, p.contact_radius, c, s, p)
    else:
        put_thing(out, o, False, 0.0, 0.0, 0.0, 0.0, c, s, p)


@numba.njit(cache=True, inline="always", error_model="numpy")
def sense_one(i, me, cur, nb, icons, g, p: Params, out) -> None:
    """Write agent i's sensor blocks into out[0:p.n_in] (extra inputs untouched).

    me = (x, y, heading, speed) of agent i; cur = cursor (x, y, present, armed, click); nb = (ds, js, do, jo) and
    rows i of g.kd2 (N, K), g.kj (N, K) are its grid.scan_neighbours results (unused without neighbour or team
    sensors); g.pos0 (N, 2) are the positions at the start of the step (read-only while the agents move).
    """
    x, y, h, v = me
    cx, cy, c_present, c_armed = cur[0], cur[1], cur[2], cur[3]
    ds, js, do, jo = nb
    pos0, kd2, kj = g.pos0, g.kd2, g.kj
    c = math.cos(h)
    s = math.sin(h)
    o = p.off_edges
    if o >= 0:
        r = p.radius
        lo_x, hi_x, lo_y, hi_y = r, p.width - r, r, p.height - r
        if p.frame == Frame.EGO:
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
        out[o] = encode(d0, p.encoding, p.inv_scale, p.raw_scale)
        out[o + 1] = encode(d1, p.encoding, p.inv_scale, p.raw_scale)
        out[o + 2] = encode(d2, p.encoding, p.inv_scale, p.raw_scale)
        out[o + 3] = encode(d3, p.encoding, p.inv_scale, p.raw_scale)
        out[o + 4] = encode(d4, p.encoding, p.inv_scale, p.raw_scale)
    o = p.off_cursor
    if o >= 0:
        dx = cx - x
        dy = cy - y
        put_thing(out, o, c_present > 0.0, math.sqrt(dx * dx + dy * dy), dx, dy, 0.0, c, s, p)
        out[o + 3] = 1.0 if c_present > 0.0 and c_armed > 0.0 else 0.0
    o = p.off_self
    if o >= 0:
        span = p.max_speed - p.min_speed
        out[o] = 2.0 * (v - p.min_speed) / span - 1.0 if span > 0 else 0.0
        if p.frame != Frame.EGO:  # the ego frame's block is speed alone
            out[o + 1] = c
            out[o + 2] = s
    o = p.off_icons
    if o >= 0:
        d, dx, dy = nearest_icon(x, y, icons)
        put_thing(out, o, icons.shape[0] > 0, d, dx, dy, p.radius, c, s, p)
    o = p.off_neigh
    if o >= 0:
        for m in range(p.n_neigh):
            put_agent(out, o + 3 * m, kj[i, m], kd2[i, m], x, y, pos0, c, s, p)
    o = p.off_team
    if o >= 0:
        put_agent(out, o, jo, do, x, y, pos0, c, s, p)
        put_agent(out, o + 3, js, ds, x, y, pos0, c, s, p)
