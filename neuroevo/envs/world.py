"""What both environments share: building the world for an episode, spaces, observations, rewards, seeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..sim import Simulation, make
from .sense import observe

# reward(sim, slots, survived) -> (len(slots),) rewards of the agents in `slots` (int64) for the step just taken;
# survived (len(slots),) bool is False for those that died in it.
Reward = Callable[[Simulation, np.ndarray, np.ndarray], np.ndarray]


def alive_reward(sim: Simulation, slots: np.ndarray, survived: np.ndarray) -> np.ndarray:
    """The default: +dt for every step survived, so an agent's return is its lifetime in seconds (its fitness)."""
    return np.where(survived, sim.settings.world.dt, 0.0)


def max_seed() -> int:
    return 2**31 - 1


class World:
    """One episode's Simulation and the bookkeeping the environments need around it."""

    def __init__(self, scenario: str | Path | type, settings: dict[str, Any], evolve: bool,
                 genomes: np.ndarray | None, threads: int | None) -> None:
        self.scenario = scenario
        self.overrides = {k: v for k, v in settings.items() if "." in k}
        self.kw = {k: v for k, v in settings.items() if "." not in k}
        if not evolve:
            self.overrides["evolution.mode"] = "none"
        self.genomes = None if genomes is None else np.asarray(genomes, np.float32)
        self.threads = threads
        self.sim = self.build(0)  # checks the scenario and settings at construction; reset() builds afresh

    def build(self, seed: int) -> Simulation:
        sim = make(self.scenario, seed=seed, overrides=self.overrides, **self.kw)
        if self.genomes is not None:
            if self.genomes.shape != sim.genomes.shape:
                raise ValueError(f"genomes must have shape {sim.genomes.shape} (agents, parameters of the "
                                 f"{'-'.join(map(str, sim.layout.sizes))} net), got {self.genomes.shape}")
            sim.genomes[:] = self.genomes
        sim.set_threads(self.threads)
        return sim

    def reset(self, seed: int) -> Simulation:
        self.sim = self.build(seed)
        return self.sim

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Observation bounds (n_in,) float32: sensor inputs lie in [-1, 1]; a scenario's extra inputs are unbounded."""
        n_in = self.sim.layout.n_in
        lo = np.full(n_in, -1.0, np.float32)
        hi = np.full(n_in, 1.0, np.float32)
        n_extra = self.sim.params.n_extra
        if n_extra:
            o = self.sim.params.off_extra
            lo[o : o + n_extra] = -np.inf
            hi[o : o + n_extra] = np.inf
        return lo, hi

    def observe(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """(N, n_in) float32 inputs of the world as it stands (see envs.sense), clipped into the bounds (float
        rounding of unit directions aside, they already lie there)."""
        return np.clip(observe(self.sim), lo, hi)
