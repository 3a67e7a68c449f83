"""The world as a PettingZoo ParallelEnv: one agent per living genome, steered by the actions it is given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from ..state import CAUSES
from .render import frame
from .world import Reward, World, alive_reward, max_seed


def agent_name(genome_id: int) -> str:
    return f"agent_{int(genome_id)}"


class WorldParallelEnv(ParallelEnv):
    """See neuroevo.envs for the observation, action, reward and agent-naming conventions."""

    metadata = {"name": "neuroevo_world_v0", "render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(self, scenario: str | Path | type = "cursor", seed: int = 0, *, evolve: bool = False,
                 reward: Reward | None = None, max_cycles: int = 3600, render_mode: str | None = None,
                 render_width: int = 640, genomes: np.ndarray | None = None, threads: int | None = 1,
                 **settings: Any) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.world = World(scenario, settings, evolve, genomes, threads)
        self.evolve = bool(evolve)
        self.reward_fn: Reward = reward or alive_reward
        self.max_cycles = int(max_cycles)
        self.render_mode = render_mode
        self.render_width = int(render_width)
        self.first_seed = int(seed)
        self._rng: np.random.Generator | None = None
        sim = self.world.sim
        self.input_names = sim.input_names()
        self.output_names = sim.output_names()
        lo, hi = self.world.bounds()
        self._lo, self._hi = lo, hi
        self._obs_space = spaces.Box(lo, hi, dtype=np.float32)
        self._act_space = spaces.Box(-1.0, 1.0, (len(self.output_names),), np.float32)
        self._slot: dict[str, int] = {}
        self._infos: dict[str, dict] = {}
        self._seen: list[str] = []
        self.agents: list[str] = []
        self._founders = [agent_name(g) for g in sim.state.genome_id[sim.state.alive]]
        self._t = 0
        self._steered = np.zeros(sim.state.n, np.bool_)

    @property
    def sim(self):
        """The episode's Simulation (read it; steer it only through step())."""
        return self.world.sim

    @property
    def possible_agents(self) -> list[str]:
        """Without evolution, the founders (no one else can appear). With evolve=True the genomes to come are not
        known ahead: every agent that has appeared since reset(), growing as agents are born."""
        return list(self._seen) if self.evolve else list(self._founders)

    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Box:
        return self._act_space

    def _new_agent(self, slot: int) -> str:
        """Name slot's (new) genome and keep one info dict for it, reused at every step of its life."""
        gid = int(self.sim.state.genome_id[slot])
        a = agent_name(gid)
        self._infos[a] = {"slot": slot, "genome_id": gid, "input_names": self.input_names}
        return a

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            world_seed = int(seed)
        elif self._rng is None:
            self._rng = np.random.default_rng(self.first_seed)
            world_seed = self.first_seed
        else:
            world_seed = int(self._rng.integers(max_seed()))
        sim = self.world.reset(world_seed)
        self._infos = {}
        self._slot = {self._new_agent(int(i)): int(i) for i in np.flatnonzero(sim.state.alive)}
        self.agents = list(self._slot)
        self._founders = list(self.agents)
        self._seen = list(self.agents)
        self._t = 0
        self._steered[:] = False
        obs_all = self.world.observe(self._lo, self._hi)
        return {a: obs_all[i] for a, i in self._slot.items()}, {a: self._infos[a] for a in self._slot}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        sim = self.sim
        st = sim.state
        act = np.zeros((st.n, 2), np.float32)  # (N, 2) turn, thrust
        self._steered[:] = False
        for a, v in actions.items():
            i = self._slot.get(a)
            if i is None:
                raise ValueError(f"{a!r} is not a living agent of this episode")
            act[i] = np.asarray(v, np.float32).reshape(2)
            self._steered[i] = True
        sim.steer(act, self._steered) if self._steered.any() else sim.steer(None)
        names = list(self._slot)
        slots = np.fromiter(self._slot.values(), np.int64, len(names))  # (K,) the slots of the agents acting
        before = st.genome_id.copy()  # (N,) int64
        ids = before[slots]  # (K,)
        sim.step()
        survived = st.alive[slots] & (st.genome_id[slots] == ids)  # (K,) bool
        rewards = np.asarray(self.reward_fn(sim, slots, survived), np.float64).reshape(len(slots)).tolist()
        self._t += 1
        trunc_all = self._t >= self.max_cycles
        obs_all = self.world.observe(self._lo, self._hi)
        obs: dict[str, np.ndarray] = {}
        term: dict[str, bool] = {}
        trunc: dict[str, bool] = {}
        info: dict[str, dict] = {}
        rew = dict(zip(names, rewards))
        alive_now: dict[str, int] = {}
        for a, i, ok in zip(names, slots.tolist(), survived.tolist()):
            term[a] = not ok
            trunc[a] = trunc_all and ok
            if ok:
                obs[a] = obs_all[i]
                info[a] = self._infos[a]
                alive_now[a] = i
            else:  # the dead keep the inputs they last sensed (their slot may already hold a newborn)
                obs[a] = np.clip(sim.inputs[i], self._lo, self._hi)
                info[a] = {**self._infos.pop(a), "cause": CAUSES[int(st.cause[i])]}
        if not trunc_all:  # newborns (none join an episode that ends here)
            for i in np.flatnonzero(st.alive & (st.genome_id != before)).tolist():
                a = self._new_agent(i)
                alive_now[a] = i
                self._seen.append(a)
                obs[a], rew[a], term[a], trunc[a], info[a] = obs_all[i], 0.0, False, False, self._infos[a]
        self._slot = {} if trunc_all else alive_now
        self.agents = list(self._slot)
        return obs, rew, term, trunc, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return frame(self.sim, self.render_width, self._steered)

    def close(self) -> None:
        pass


