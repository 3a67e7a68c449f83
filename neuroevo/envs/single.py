"""The world as a Gymnasium Env: one agent (slot 0) steered from outside among the others, who fly by their nets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..state import CAUSES
from .render import frame
from .world import Reward, World, alive_reward, max_seed

SLOT = 0  # the steered slot: founders are placed at random, so slot 0 is as good as any


class WorldEnv(gym.Env):
    """See neuroevo.envs for the observation, action, reward and seeding conventions."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(self, scenario: str | Path | type = "cursor", seed: int = 0, *, evolve: bool = True,
                 reward: Reward | None = None, max_steps: int = 3600, render_mode: str | None = None,
                 render_width: int = 640, genomes: np.ndarray | None = None, threads: int | None = 1,
                 **settings: Any) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.world = World(scenario, settings, evolve, genomes, threads)
        self.reward_fn: Reward = reward or alive_reward
        self.max_steps = int(max_steps)
        self.render_mode = render_mode
        self.render_width = int(render_width)
        self.first_seed = int(seed)
        sim = self.world.sim
        self.input_names = sim.input_names()
        self.output_names = sim.output_names()
        self._lo, self._hi = self.world.bounds()
        self.observation_space = spaces.Box(self._lo, self._hi, dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (len(self.output_names),), np.float32)
        n = sim.state.n
        self._act = np.zeros((n, 2), np.float32)  # (N, 2) only row SLOT is read
        self._mask = np.zeros(n, np.bool_)
        self._mask[SLOT] = True
        self._id = -1
        self._t = 0
        self._seeded = False

    @property
    def sim(self):
        """The episode's Simulation (read it; steer the agent only through step())."""
        return self.world.sim

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        if seed is None and not self._seeded:
            seed = self.first_seed
        super().reset(seed=seed)
        self._seeded = True
        world_seed = int(seed) if seed is not None else int(self.np_random.integers(max_seed()))
        sim = self.world.reset(world_seed)
        self._id = int(sim.state.genome_id[SLOT])
        self._t = 0
        obs = self.world.observe(self._lo, self._hi)[SLOT]
        return obs, {"genome_id": self._id, "world_seed": world_seed, "input_names": self.input_names}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        sim = self.sim
        st = sim.state
        self._act[SLOT] = np.asarray(action, np.float32).reshape(2)
        sim.steer(self._act, self._mask)
        sim.step()
        self._t += 1
        survived = bool(st.alive[SLOT] and st.genome_id[SLOT] == self._id)
        reward = float(np.asarray(self.reward_fn(sim, np.array([SLOT]), np.array([survived]))).reshape(1)[0])
        if survived:
            obs = self.world.observe(self._lo, self._hi)[SLOT]
            info: dict[str, Any] = {"genome_id": self._id}
        else:  # the inputs it last sensed; the slot may already hold a newborn
            obs = np.clip(sim.inputs[SLOT], self._lo, self._hi)
            info = {"genome_id": self._id, "cause": CAUSES[int(st.cause[SLOT])]}
        return obs, reward, not survived, survived and self._t >= self.max_steps, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return frame(self.sim, self.render_width, self._mask)
