"""A sense-only pass: every living agent's sensor inputs for the world as it stands, without stepping it.

The compiled step senses at the start of a step (after the cursor has moved), so after a step the state's inputs
describe where the agents were before they moved. An environment wants the inputs of the world after the step, the
ones its policy acts on next; this pass computes them with the step's own sensor and grid code, writing only into
`out` and per-call scratch: the world, its counters and its random stream are left untouched.
"""

from __future__ import annotations

import numba
import numpy as np

from ..grid import INF, grid_build, scan_neighbours
from ..physics import heading_cs
from ..sensors import sense_one
from ..state import C_ARMED, C_CLICK, C_PRESENT, CX, CY
from ..step import scratch


@numba.njit(cache=True, error_model="numpy")
def sense_all(w, icons, p, out) -> None:
    """out (N, >= n_in) float32 <- the sensor inputs (columns 0 .. p.n_in - 1) of every living slot of w, sensed at
    the current positions with the cursor where it is; rows of dead slots are left alone."""
    n = w.alive.shape[0]
    scr = scratch(w.pos, 1, p)
    cur = (w.cursor[CX], w.cursor[CY], w.cursor[C_PRESENT], w.cursor[C_ARMED], w.cursor[C_CLICK])
    use_grid = p.use_grid != 0
    if use_grid:
        scr.pos0[:, :] = w.pos
        grid_build(scr.pos0, w.alive, w.team, p, scr.gstart, scr.gitems, scr.gfill, scr.gxy, scr.gteam)
    for i in range(n):
        if not w.alive[i]:
            continue
        x0 = w.pos[i, 0]
        y0 = w.pos[i, 1]
        if use_grid:
            nb = scan_neighbours(i, x0, y0, w.team[i], scr, p)
        else:
            nb = (INF, -1, INF, -1)
        c, s = heading_cs(w.heading[i])
        sense_one(i, (x0, y0, w.heading[i], w.speed[i], c, s), cur, nb, icons, scr, p, out[i])


def observe(sim) -> np.ndarray:
    """(N, n_in) float32: the inputs each living slot of sim would sense now (sensor blocks from sense_all, a
    scenario's extra inputs as its hook last wrote them); dead slots hold their last inputs."""
    out = np.array(sim.inputs, np.float32)  # (N, n_in) copy; extra columns and dead rows as they are
    sense_all(sim.state, sim.icons, sim.params, out)
    return out
