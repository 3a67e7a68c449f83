"""WorldState: the world as a struct of arrays over fixed agent slots with an alive mask; no object per agent."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Death causes recorded per slot (index into counters and per-minute metrics).
# RULE: killed by a scenario's extra_deaths hook, or removed by periodic replacement (evolution.replace).
NONE, EDGE, CURSOR, ICON, CROWD, TEAM, RULE = 0, 1, 2, 3, 4, 5, 6
CAUSES = ("none", "edge", "cursor", "icon", "crowd", "team", "rule")
N_CAUSES = len(CAUSES)

# Cursor state vector fields (float64), shared by every cursor source and by the kernels.
CX, CY, C_PRESENT, C_ARMED, C_CLICK, C_PHASE, C_TIMER, C_TARGET, C_TARGET_ID, C_RETARGET = range(10)
# The mouse model's memory: the next glance, what the last glance saw (used once it is a perception delay old), what
# the person acts on now, and the target's place at the glance before (for its velocity).
C_GLANCE, C_SEEN_OK, C_SEEN_X, C_SEEN_Y, C_SEEN_VX, C_SEEN_VY = range(10, 16)
C_AIM_OK, C_AIM_X, C_AIM_Y, C_AIM_VX, C_AIM_VY, C_AIM_AGE, C_PREV_X, C_PREV_Y, C_PREV_ID = range(16, 25)
# 1 once the cursor has clicked since the last period of periodic replacement (evolution.replace_while = clicks).
C_CLICKED = 25
N_CURSOR = 26

# Run counters (int64), accumulated by the compiled step and read between chunks.
K_STEP, K_NEXT_ID, K_BIRTHS, K_LIFE_SUM, K_LIFE_MAX, K_GEN_STEP, K_GENERATION = range(7)
K_DEATHS = 7  # deaths by cause occupy K_DEATHS .. K_DEATHS + N_CAUSES - 1
N_COUNTERS = K_DEATHS + N_CAUSES


class WorldState(NamedTuple):
    """Every per-agent quantity as one array indexed by slot. Observers read it; only the step writes it.

    A named tuple, so the compiled step takes the whole world as one argument: a new per-agent field is added here
    (and to `empty`) and reaches every kernel without touching a signature."""

    pos: np.ndarray  # (N, 2) float32 px, y grows downwards
    heading: np.ndarray  # (N,) float32 rad
    speed: np.ndarray  # (N,) float32 px/s
    age: np.ndarray  # (N,) int64 steps lived in the current life (the fitness)
    alive: np.ndarray  # (N,) bool
    cause: np.ndarray  # (N,) int8 cause of the slot's last death (NONE if it never died)
    genome_id: np.ndarray  # (N,) int64 unique id of the genome in the slot
    parent_id: np.ndarray  # (N,) int64 id of its parent (-1 for the founders)
    team: np.ndarray  # (N,) int8 team (colour) of the slot: i % hazards.teams, kept through every birth
    hook_fit: np.ndarray  # (N,) float64 fitness from a scenario's fitness hook (0 for a newborn until the next call)
    agility: np.ndarray  # (N,) float64 sum over the current life of |turn output| x speed / max speed, one term a step
    acts: np.ndarray  # (N, n_units) float32 inputs, hidden and output activations of the last step
    cursor: np.ndarray  # (N_CURSOR,) float64 cursor position, flags and hunter memory
    counters: np.ndarray  # (N_COUNTERS,) int64 step count, ids, births, deaths by cause, lifetimes

    @property
    def n(self) -> int:
        return int(self.alive.shape[0])

    @classmethod
    def empty(cls, n: int, n_units: int) -> WorldState:
        return cls(
            pos=np.zeros((n, 2), np.float32),
            heading=np.zeros(n, np.float32),
            speed=np.zeros(n, np.float32),
            age=np.zeros(n, np.int64),
            alive=np.zeros(n, np.bool_),
            cause=np.zeros(n, np.int8),
            genome_id=np.full(n, -1, np.int64),
            parent_id=np.full(n, -1, np.int64),
            team=np.zeros(n, np.int8),
            hook_fit=np.zeros(n, np.float64),
            agility=np.zeros(n, np.float64),
            acts=np.zeros((n, n_units), np.float32),
            cursor=np.zeros(N_CURSOR, np.float64),
            counters=np.zeros(N_COUNTERS, np.int64),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """All arrays by name (for checkpoints)."""
        return dict(self._asdict())
