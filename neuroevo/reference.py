"""Numpy references: the whole compiled step written with numpy arrays and plain Python, for tests and benchmarks.

Each kernel has its reference here: sensors (sense_np), forward pass (forward_np), physics (move_np, hazards_np),
grid queries (neighbours_np, contacts_np, clear_of_agents_np), icons (nearest_icon_np), the hunter bot and the other
cursor sources (cursor_np), selection, crossover and mutation in the kernels' order of random draws (select_np,
make_child_np), spawning (spawn_np) and, built from them, one whole step (step_np). numba's Generator draws the same
numbers as numpy's from the same state, so a reference fed the kernel's state and Generator must reproduce the
kernel's deaths, births, ids, genomes and Generator state exactly; positions agree to float rounding (the kernels
accumulate the forward pass in float32 in their own order). tests/test_reference.py holds the comparisons;
births and the whole step are in reference_step.py.
"""

from __future__ import annotations

import math

import numpy as np

from . import physics as ph
from .brain import _P0, _P1, _P2, _Q1, _Q2, _Q3, TANH_CLIP, Layout
from .choices import Contact, CursorSource, Encoding, Frame
from .config import Params
from .cursor import AIM, CHASE, COOLDOWN, LEAD_STEPS
from .grid import INF
from .obstacles import BIG
from .sensors import DIAG, WALL_MIN
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
    CROWD,
    CURSOR,
    CX,
    CY,
    EDGE,
    ICON,
    NONE,
    TEAM,
)


def fast_tanh_np(x: np.ndarray) -> np.ndarray:
    """Numpy reference of fast_tanh (same formula, same clamp)."""
    x = np.clip(np.asarray(x, dtype=np.float32), -TANH_CLIP, TANH_CLIP)
    x2 = x * x
    return x * (_P0 + x2 * (_P1 + x2 * (_P2 + x2))) / (_P0 + x2 * (_Q1 + x2 * (_Q2 + x2 * _Q3)))


def forward_np(layout: Layout, genomes: np.ndarray, inputs: np.ndarray) -> list[np.ndarray]:
    """Numpy reference: per-layer activations [(P, n_in), (P, h1), ..., (P, n_out)] for the whole population."""
    x = inputs.astype(np.float32)
    out = [x]
    p, g = 0, layout.n_weights
    n_layers = len(layout.sizes) - 1
    for layer, (a, b) in enumerate(zip(layout.sizes[:-1], layout.sizes[1:])):
        w = genomes[:, p : p + a * b].reshape(-1, a, b)  # (P, a, b)
        bias = genomes[:, p + a * b : p + a * b + b]  # (P, b)
        x = fast_tanh_np(np.einsum("pa,pab->pb", x, w) + bias)
        if layout.gated and layer < n_layers - 1:  # switched-off units read 0
            x = np.where(genomes[:, g : g + b] > 0.5, x, np.float32(0.0)).astype(np.float32)
            g += b
        out.append(x)
        p += a * b + b
    return out


def nearest_icon_np(pos: np.ndarray, icons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numpy reference of nearest_icon for all agents: (d, dx, dy), each (N,) float64."""
    n = pos.shape[0]
    if icons.shape[0] == 0:
        return np.full(n, BIG), np.zeros(n), np.zeros(n)
    x = pos[:, 0:1].astype(np.float64)
    y = pos[:, 1:2].astype(np.float64)
    ic = icons.astype(np.float64)
    dx = np.clip(x, ic[None, :, 0], ic[None, :, 2]) - x  # (N, M)
    dy = np.clip(y, ic[None, :, 1], ic[None, :, 3]) - y
    d = np.hypot(dx, dy)
    m = d.argmin(1)
    r = np.arange(n)
    return d[r, m], dx[r, m], dy[r, m]


def sense_np(pos: np.ndarray, heading: np.ndarray, speed: np.ndarray, cursor: tuple, p: Params,
             icons: np.ndarray | None = None, alive: np.ndarray | None = None,
             team: np.ndarray | None = None) -> np.ndarray:
    """Numpy reference of the sensor blocks (step.agents_range) for the whole population: (N, p.n_in) float32
    (extra inputs left 0).

    cursor is (x, y, present, armed); icons (M, 4); alive (N,) bool marks who can be seen; team (N,) int.
    """
    n = pos.shape[0]
    x = pos[:, 0].astype(np.float64)
    y = pos[:, 1].astype(np.float64)
    h = heading.astype(np.float64)
    r = p.radius
    lo_x, hi_x, lo_y, hi_y = r, p.width - r, r, p.height - r
    c, s = heading_cs_np(h)

    def enc(d):
        if p.encoding == Encoding.INVERSE:
            return np.minimum(p.inv_scale / np.maximum(d, 1e-3), 1.0)
        if p.encoding == Encoding.RAW_PX:
            return d
        return np.minimum(d / p.raw_scale, 1.0)

    # reciprocal distances to the four walls (a point on or past a wall counts as WALL_MIN px from it)
    ax, bx = 1.0 / np.maximum(hi_x - x, WALL_MIN), 1.0 / np.maximum(x - lo_x, WALL_MIN)
    ay, by = 1.0 / np.maximum(hi_y - y, WALL_MIN), 1.0 / np.maximum(y - lo_y, WALL_MIN)

    def ray(dx, dy):
        """Encoded distance along unit (dx, dy) to the nearest wall (as sensors.wall_q and encode_q)."""
        q = np.maximum(np.maximum(dx * ax, -dx * bx), np.maximum(dy * ay, -dy * by))  # 1 / distance
        if p.encoding == Encoding.INVERSE:
            return np.minimum(p.inv_scale * np.minimum(q, 1e3), 1.0)
        return enc(1.0 / q)

    def thing(present, d_centre, dx, dy, gap):
        """(N, 3): distance input and direction, as sensors.thing."""
        safe = np.where(d_centre > 1e-6, d_centre, 1.0)
        ux, uy = np.where(d_centre > 1e-6, dx / safe, 0.0), np.where(d_centre > 1e-6, dy / safe, 0.0)
        d1, d2 = (ux * c + uy * s, ux * s - uy * c) if p.frame == Frame.EGO else (ux, uy)
        absent = 0.0 if p.encoding == Encoding.INVERSE else (p.width if p.encoding == Encoding.RAW_PX else 1.0)
        return np.stack([np.where(present, enc(np.maximum(d_centre - gap, 0.0)), absent),
                         np.where(present, d1, 0.0), np.where(present, d2, 0.0)], axis=1)

    out = np.zeros((n, p.n_in))
    if p.off_edges >= 0:
        if p.frame == Frame.EGO:
            rays = [ray(c, s), ray(DIAG * (c + s), DIAG * (s - c)), ray(DIAG * (c - s), DIAG * (s + c)),
                    ray(s, -c), ray(-s, c)]
        else:
            dists = [np.maximum(x - lo_x, 0), np.maximum(hi_x - x, 0), np.maximum(y - lo_y, 0),
                     np.maximum(hi_y - y, 0)]
            dists.append(np.minimum(np.minimum(dists[0], dists[1]), np.minimum(dists[2], dists[3])))
            rays = [enc(d) for d in dists]
        for k, v in enumerate(rays):
            out[:, p.off_edges + k] = v
    if p.off_cursor >= 0:
        cx, cy, present, armed = cursor
        o = p.off_cursor
        out[:, o : o + 3] = thing(np.full(n, present > 0), np.hypot(cx - x, cy - y), cx - x, cy - y, 0.0)
        out[:, o + 3] = 1.0 if present > 0 and armed > 0 else 0.0
    if p.off_self >= 0:
        out[:, p.off_self] = 2.0 * (speed - p.min_speed) / (p.max_speed - p.min_speed) - 1.0
        if p.frame == Frame.WORLD:
            out[:, p.off_self + 1], out[:, p.off_self + 2] = c, s
    if p.off_icons >= 0:
        icons = np.zeros((0, 4), np.float32) if icons is None else icons
        d, dx, dy = nearest_icon_np(pos, icons)
        out[:, p.off_icons : p.off_icons + 3] = thing(np.full(n, icons.shape[0] > 0), d, dx, dy, p.radius)
    if p.off_neigh >= 0 or p.off_team >= 0:
        alive = np.ones(n, bool) if alive is None else alive
        team = np.zeros(n, np.int8) if team is None else team
        kd2, kj, ds, js, do, jo = neighbours_np(pos, alive, team, p, p.n_neigh)

        def other(j, d2):
            jj = np.maximum(j, 0)
            return thing(j >= 0, np.sqrt(np.where(j >= 0, d2, 0.0)), pos[jj, 0] - x, pos[jj, 1] - y,
                         p.contact_radius)

        if p.off_neigh >= 0:
            for m in range(p.n_neigh):
                o = p.off_neigh + 3 * m
                out[:, o : o + 3] = other(kj[:, m], kd2[:, m])
        if p.off_team >= 0:
            out[:, p.off_team : p.off_team + 3] = other(jo, do)
            out[:, p.off_team + 3 : p.off_team + 6] = other(js, ds)
    return out.astype(np.float32)


def neighbours_np(pos: np.ndarray, mask: np.ndarray, team: np.ndarray, p: Params, k: int):
    """Numpy reference of scan_range for every agent, by brute force over all pairs (no grid).

    Returns kd2 (N, k) float64, kj (N, k) int64, and (N,) arrays ds, js, do, jo, as scan_range leaves them.
    """
    d = pos[None, :, :].astype(np.float32) - pos[:, None, :].astype(np.float32)  # (N, N, 2) float32, as the kernel
    d2 = (d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1]).astype(np.float64)  # (N, N)
    ok = mask[None, :] & ~np.eye(len(pos), dtype=bool) & (d2 <= p.sense_radius**2)
    d2 = np.where(ok, d2, INF)
    order = np.argsort(d2, axis=1, kind="stable")[:, :k]
    kd2 = np.take_along_axis(d2, order, 1)
    kj = np.where(kd2 < INF, order, -1)
    same = team[None, :] == team[:, None]
    out = []
    for sel in (same, ~same):
        dd = np.where(sel, d2, INF)
        j = dd.argmin(1)
        best = dd[np.arange(len(pos)), j]
        out += [best, np.where(best < INF, j, -1)]
    return kd2, kj, *out


def contacts_np(pos: np.ndarray, mask: np.ndarray, team: np.ndarray, p: Params) -> np.ndarray:
    """Numpy reference of contact_one for every agent: (N,) int8 causes, by brute force over all pairs."""
    d = pos[None, :, :].astype(np.float32) - pos[:, None, :].astype(np.float32)  # (N, N, 2) float32, as the kernel
    d2 = (d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1]).astype(np.float64)  # (N, N)
    hit = mask[None, :] & mask[:, None] & ~np.eye(len(pos), dtype=bool) & (d2 < p.contact_radius**2)
    if p.contact == Contact.TEAMS:
        hit &= team[None, :] != team[:, None]
    cause = CROWD if p.contact == Contact.ALL else TEAM
    return np.where(hit.any(1) & (p.contact != Contact.NONE), cause, NONE).astype(np.int8)


def clear_of_agents_np(x: float, y: float, pos: np.ndarray, slots: np.ndarray, p: Params) -> bool:
    """Numpy reference of clear_of_agents: slots (M,) are the agents it sees (those in the grid and those placed)."""
    if p.spawn_clear <= 0.0 or slots.size == 0:
        return True
    d = pos[slots].astype(np.float32) - np.array([x, y], np.float32)  # (M, 2) float32, as the kernel
    return bool(np.all(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] >= np.float32(p.spawn_clear) ** 2))


def heading_cs_np(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numpy reference of physics.heading_cs: (cos, sin) float64 of headings h (N,), by the same wrap, reduction and
    polynomials, operation for operation."""
    h = np.asarray(h, np.float64)
    with np.errstate(invalid="ignore"):
        h = np.where(np.abs(h) <= ph.PI_WRAP, h, h - ph.TWO_PI * np.floor(h * ph.INV_TWO_PI + 0.5))
        k = np.floor(h * ph.TWO_OVER_PI + 0.5)
        r = (h - k * ph.PIO2_HI) - k * ph.PIO2_LO
        r2 = r * r
        sn = r + r * r2 * (ph.S3 + r2 * (ph.S5 + r2 * (ph.S7 + r2 * (ph.S9 + r2 * (ph.S11 + r2 * (ph.S13 + r2 * (
            ph.S15 + r2 * ph.S17)))))))
        cn = 1.0 + r2 * (ph.C2 + r2 * (ph.C4 + r2 * (ph.C6 + r2 * (ph.C8 + r2 * (ph.C10 + r2 * (ph.C12 + r2 * (
            ph.C14 + r2 * (ph.C16 + r2 * ph.C18))))))))
        q = k - 4.0 * np.floor(k * 0.25)
    cos = np.select([q == 0, q == 1, q == 2], [cn, -sn, -cn], sn)
    sin = np.select([q == 0, q == 1, q == 2], [sn, cn, -sn], -cn)
    zero = h == 0.0
    return np.where(zero, 1.0, cos), np.where(zero, h, sin)


def move_np(pos, heading, speed, outputs, p: Params):
    """Numpy reference of move_one for all agents: returns new (pos (N, 2), heading (N,), speed (N,)) float64.
    The agent flies along its new heading as the state stores it (float32)."""
    h = heading.astype(np.float64) + outputs[:, 0].astype(np.float64) * p.max_turn * p.dt
    h = np.where(h > math.pi, h - 2 * math.pi, np.where(h < -math.pi, h + 2 * math.pi, h))
    h = h.astype(np.float32).astype(np.float64)
    v = np.clip(speed.astype(np.float64) + outputs[:, 1].astype(np.float64) * p.max_accel * p.dt, p.min_speed,
                p.max_speed)
    c, s = heading_cs_np(h)
    x = pos[:, 0] + v * p.dt * c
    y = pos[:, 1] + v * p.dt * s
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


def mutate_np(genome: np.ndarray, rate: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Numpy reference of mutate: per-gene Bernoulli(rate) mask times N(0, sigma^2)."""
    mask = rng.random(genome.shape[0]) < rate
    return (genome + mask * rng.normal(0.0, sigma, genome.shape[0])).astype(np.float32)


# ---- cursor sources ------------------------------------------------------------------------------------------------
def cursor_np(cur: np.ndarray, pos: np.ndarray, alive: np.ndarray, genome_id: np.ndarray, p: Params,
              rng: np.random.Generator, row: np.ndarray | None) -> None:
    """Reference of cursor.cursor_update for one step, in place on cur (N_CURSOR,) float64; row (5,) external."""
    src = p.cursor_source
    if src == CursorSource.HUNTER:
        _hunter_np(cur, pos, alive, genome_id, p)
    elif src == CursorSource.RANDOM:
        cur[C_CLICK] = 0.0
        cur[C_ARMED] = 0.0
        if rng.random() < p.random_click_p:
            cur[CX] = rng.random() * p.width
            cur[CY] = rng.random() * p.height
            cur[C_PRESENT] = 1.0
            cur[C_CLICK] = 1.0
    elif src == CursorSource.MOUSE:
        _mouse_np(cur, pos, alive, genome_id, p, rng)
    elif src == CursorSource.EXTERNAL:
        if row is not None:
            cur[[CX, CY, C_PRESENT, C_ARMED, C_CLICK]] = row
        else:
            cur[C_CLICK] = 0.0
    else:
        cur[[C_PRESENT, C_ARMED, C_CLICK]] = 0.0
    if cur[C_CLICK] > 0.0:
        cur[C_CLICKED] = 1.0


def _nearest_np(x: float, y: float, pos: np.ndarray, alive: np.ndarray) -> int:
    """Reference of cursor.nearest_alive."""
    living = np.nonzero(alive)[0]
    if not living.size:
        return -1
    d = (pos[living, 0] - x) ** 2 + (pos[living, 1] - y) ** 2  # float64, as the kernel
    return int(living[np.argmin(d)])  # first of equals, as the kernel's strict <


def _mouse_np(cur: np.ndarray, pos: np.ndarray, alive: np.ndarray, genome_id: np.ndarray, p: Params,
              rng: np.random.Generator) -> None:
    """The model of a person with a mouse: looks every perception delay and acts on the look before, extrapolates
    the target's motion, closes on it as a first-order system, clicks a motor delay after deciding, never warns."""
    cur[C_PRESENT], cur[C_CLICK], cur[C_ARMED] = 1.0, 0.0, 0.0
    lag = p.mouse_lag_steps
    cur[C_GLANCE] -= 1.0
    if cur[C_GLANCE] <= 0.0:
        cur[C_GLANCE] = lag
        if cur[C_SEEN_OK] > 0.0:
            cur[[C_AIM_OK, C_AIM_X, C_AIM_Y, C_AIM_VX, C_AIM_VY, C_AIM_AGE]] = (
                1.0, cur[C_SEEN_X], cur[C_SEEN_Y], cur[C_SEEN_VX], cur[C_SEEN_VY], lag)
        tgt = int(cur[C_TARGET])
        lost = tgt < 0 or not alive[tgt] or genome_id[tgt] != int(cur[C_TARGET_ID])
        if lost or cur[C_RETARGET] <= 0.0:
            tgt = _nearest_np(cur[CX], cur[CY], pos, alive)
            cur[C_TARGET], cur[C_TARGET_ID] = tgt, (genome_id[tgt] if tgt >= 0 else -1)
            cur[C_RETARGET] = p.retarget_steps
        else:
            cur[C_RETARGET] -= lag
        if tgt >= 0:
            x = float(pos[tgt, 0]) + p.mouse_aim_sd * rng.standard_normal()
            y = float(pos[tgt, 1]) + p.mouse_aim_sd * rng.standard_normal()
            same = int(cur[C_PREV_ID]) == genome_id[tgt]
            cur[C_SEEN_VX] = (x - cur[C_PREV_X]) / (lag * p.dt) if same else 0.0
            cur[C_SEEN_VY] = (y - cur[C_PREV_Y]) / (lag * p.dt) if same else 0.0
            cur[[C_SEEN_X, C_SEEN_Y, C_SEEN_OK, C_PREV_X, C_PREV_Y, C_PREV_ID]] = x, y, 1.0, x, y, genome_id[tgt]
        else:
            cur[C_SEEN_OK], cur[C_PREV_ID] = 0.0, -1.0
    else:
        cur[C_AIM_AGE] += 1.0
    err = 1.0e30
    if cur[C_AIM_OK] > 0.0:
        now = cur[C_AIM_AGE] * p.dt
        tx = min(max(cur[C_AIM_X] + cur[C_AIM_VX] * (now + p.mouse_tau), 0.0), p.width)
        ty = min(max(cur[C_AIM_Y] + cur[C_AIM_VY] * (now + p.mouse_tau), 0.0), p.height)
        dx = (tx - cur[CX]) * min(1.0, p.dt / p.mouse_tau)
        dy = (ty - cur[CY]) * min(1.0, p.dt / p.mouse_tau)
        d = math.sqrt(dx * dx + dy * dy)
        cap = p.mouse_speed * p.dt
        if d > cap:
            dx, dy = dx * (cap / d), dy * (cap / d)
        cur[CX] += dx
        cur[CY] += dy
        err = math.hypot(cur[C_AIM_X] + cur[C_AIM_VX] * now - cur[CX], cur[C_AIM_Y] + cur[C_AIM_VY] * now - cur[CY])
    phase = int(cur[C_PHASE])
    if phase == CHASE:
        if err < p.mouse_click_px:
            cur[C_PHASE], cur[C_TIMER] = AIM, p.mouse_click_delay_steps
    elif phase == AIM:
        cur[C_TIMER] -= 1.0
        if cur[C_TIMER] <= 0.0:
            cur[C_CLICK], cur[C_PHASE], cur[C_TIMER] = 1.0, COOLDOWN, p.mouse_click_interval_steps
    else:
        cur[C_TIMER] -= 1.0
        if cur[C_TIMER] <= 0.0:
            cur[C_PHASE] = CHASE


def _lead_np(cur: np.ndarray, cx: float, cy: float, x: float, y: float, gid: int, ahead: float, p: Params
             ) -> tuple[float, float, float, float]:
    """The anticipating hunter's aim point and where its target will be when a click committed now lands
    (cursor.lead_point: the agent's speed and turn rate from its last two steps; in AIM its place when the click
    lands, in CHASE the first point of its coming path the hunter can reach that long before it)."""
    vx = vy = w = 0.0
    if int(cur[C_PREV_ID]) == gid:
        vx, vy = (x - cur[C_PREV_X]) / p.dt, (y - cur[C_PREV_Y]) / p.dt
        if cur[C_SEEN_OK] > 0.0:
            ux, uy = cur[C_SEEN_VX], cur[C_SEEN_VY]
            w = math.atan2(ux * vy - uy * vx, ux * vx + uy * vy) / p.dt
        cur[C_SEEN_OK] = 1.0
    else:
        cur[C_SEEN_OK] = 0.0
    cur[[C_SEEN_VX, C_SEEN_VY, C_PREV_X, C_PREV_Y, C_PREV_ID]] = vx, vy, x, y, gid
    react = (p.reaction_steps + 1) * p.dt  # a click committed now lands after this many moves
    h = ahead if ahead > 0.0 else 0.25 * react
    b = w * p.dt  # the next move turns first
    bs, bc = math.sin(b), math.cos(b)
    ux, uy = vx * bc - vy * bs, vx * bs + vy * bc
    a = w * h
    s, c = math.sin(a), math.cos(a)
    if abs(a) > 1e-6:
        kx, ky = (ux * s - uy * (1.0 - c)) / w, (ux * (1.0 - c) + uy * s) / w
    else:
        kx, ky = ux * h, uy * h
    lx, ly, rx, ry = x, y, x, y
    for i in range(1 if ahead > 0.0 else LEAD_STEPS):
        lx, ly = lx + kx, ly + ky
        if i == 3:
            rx, ry = lx, ly
        if ahead <= 0.0:
            ex, ey = min(max(lx, 0.0), p.width) - cx, min(max(ly, 0.0), p.height) - cy
            if (i + 1) * h >= react and math.sqrt(ex * ex + ey * ey) <= p.hunter_speed * ((i + 1) * h - react) + \
                    p.aim_radius:
                break
        kx, ky = kx * c - ky * s, kx * s + ky * c

    def clamp(v: float, hi: float) -> float:
        return min(max(v, 0.0), hi)

    return clamp(lx, p.width), clamp(ly, p.height), clamp(rx, p.width), clamp(ry, p.height)


def _hunter_np(cur: np.ndarray, pos: np.ndarray, alive: np.ndarray, genome_id: np.ndarray, p: Params) -> None:
    """The hunter bot: chase the nearest living agent, commit within aim_radius, click after the reaction delay,
    cool down; retarget when the target dies or every retarget_steps."""
    cur[C_PRESENT] = 1.0
    cur[C_CLICK] = 0.0
    tgt = int(cur[C_TARGET])
    lost = tgt < 0 or not alive[tgt] or genome_id[tgt] != int(cur[C_TARGET_ID])
    if lost or cur[C_RETARGET] <= 0.0:
        tgt = _nearest_np(cur[CX], cur[CY], pos, alive)
        cur[C_TARGET] = tgt
        cur[C_TARGET_ID] = genome_id[tgt] if tgt >= 0 else -1
        cur[C_RETARGET] = p.retarget_steps
    else:
        cur[C_RETARGET] -= 1.0
    if tgt >= 0:
        tx, ty = rx, ry = float(pos[tgt, 0]), float(pos[tgt, 1])
        if p.hunter_anticipates:
            ahead = cur[C_TIMER] * p.dt if int(cur[C_PHASE]) == AIM else 0.0
            tx, ty, rx, ry = _lead_np(cur, cur[CX], cur[CY], tx, ty, int(genome_id[tgt]), ahead, p)
        dx = tx - cur[CX]
        dy = ty - cur[CY]
        d = math.sqrt(dx * dx + dy * dy)
        step = p.hunter_speed * p.dt
        if d <= step:
            cur[CX], cur[CY], d = tx, ty, 0.0
        else:
            cur[CX] += dx / d * step
            cur[CY] += dy / d * step
            d -= step
    else:
        d = 1.0e30
    if p.hunter_anticipates and tgt >= 0:  # commits on where the target will be when the click lands
        ex, ey = rx - cur[CX], ry - cur[CY]
        d = math.sqrt(ex * ex + ey * ey)
    phase = int(cur[C_PHASE])
    if phase == CHASE:
        if d < p.aim_radius:
            cur[C_PHASE], cur[C_TIMER] = AIM, p.reaction_steps
    elif phase == AIM:
        cur[C_TIMER] -= 1.0
        if cur[C_TIMER] <= 0.0:
            cur[C_CLICK], cur[C_PHASE], cur[C_TIMER] = 1.0, COOLDOWN, p.cooldown_steps
    else:
        cur[C_TIMER] -= 1.0
        if cur[C_TIMER] <= 0.0:
            cur[C_PHASE] = CHASE
    cur[C_ARMED] = 1.0 if int(cur[C_PHASE]) == AIM and p.hunter_warns else 0.0
