"""A sense-only pass: every living agent's sensor inputs for the world as it stands, without stepping it.

The compiled step senses at the start of a step (after the cursor has moved), so after a step the state's inputs
describe where the agents were before they moved. An environment wants the inputs of the world after the step, the
ones its policy acts on next; this pass computes them with the step's own sensor and grid code, writing only into
`out` and per-call scratch: the world, its counters and its random stream are left untouched.
"""

from __future__ import annotations

import numba
import numpy as np

from ..grid import grid_build
from ..step import R_SENSE, Brains, Env, Part, agents_range, headings_cs, scratch


@numba.njit(cache=True, error_model="numpy")
def sense_all(w, b, env, p) -> None:
    """w.acts (N, >= n_in) float32 <- the sensor inputs (columns 0 .. p.n_in - 1) of every living slot of w, sensed
    at the current positions with the cursor where it is, by the step's own code (step.agents_range, sense only);
    rows of dead slots are left alone. w.acts is the caller's array, not the world's."""
    scr = scratch(w.pos, b.genomes.shape[1], p)
    headings_cs(w.heading, scr.cs, scr.dead, -1)
    if p.use_grid != 0:
        scr.pos0[:, :] = w.pos
        grid_build(scr.pos0, w.alive, w.team, p, scr.gstart, scr.gitems, scr.gfill, scr.gxy, scr.gteam)
    agents_range(Part(0, w.alive.shape[0], R_SENSE, scr.team, 0, 0), w, b, env, scr, p)


def observe(sim) -> np.ndarray:
    """(N, n_in) float32: the inputs each living slot of sim would sense now (sensor blocks from sense_all, a
    scenario's extra inputs as its hook last wrote them); dead slots hold their last inputs."""
    out = np.array(sim.inputs, np.float32)  # (N, n_in) copy; extra columns and dead rows as they are
    no = np.zeros(0, np.float32)
    brains = Brains(sim.genomes, sim.hof, sim.hof_fit, *sim.layout.arrays())
    env = Env(sim.icons, np.zeros((0, 5)), np.zeros(0, np.int8), np.zeros((0, 4), np.int64), np.zeros(0, np.bool_),
              no.reshape(0, 2))
    sense_all(sim.state._replace(acts=out), brains, env, sim.params)
    return out
