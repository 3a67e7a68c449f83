"""The world as a PettingZoo ParallelEnv: one agent per living genome, steered by the actions it is given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from .render import frame
from .world import Reward, World, alive_reward, max_seed


def agent_name(genome_id: int) -> str:
    return f"agent_{int(genome_id)}"


class WorldParallelEnv(ParallelEnv):
    """See neuroevo.envs for the observation, action, reward and agent-naming conventions."""

    metadata = {"name": "neuroevo_world_v0", "render_modes": ["rgb_array"], "render_fps": 60, "is_parallelizable": True}

    def __init__(self, scenario: str | Path | type = "cursor", seed: int = 0, *, evolve: bool = False,
                 reward: Reward | None = None, max_cycles: int = 3600, render_mode: str | None = None,
                 render_width: int = 640, genomes: np.ndarray | None = None, threads: int | None = None,
                 **settings: Any) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.world = World(scenario, settings, evolve, genomes, threads)
        self.evolve = bool(evolve)
        self.reward_fn: Reward = reward or alive_reward
        self.max_cycles = int(max_cycles)
        self.render_mode = render_mode
        self.render_width = int(render_width)
        self.seed = int(seed)
        self._rng: np.random.Generator | None = None
        sim = self.world.sim
        self.input_names = sim.input_names()
        self.output_names = sim.output_names()
        lo, hi = self.world.bounds()
        self._lo, self._hi = lo, hi
        self._obs_space = spaces.Box(lo, hi, dtype=np.float32)
        self._act_space = spaces.Box(-1.0, 1.0, (len(self.output_names),), np.float32)
        self._slot: dict[str, int] = {}
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

    def _info(self, slot: int) -> dict[str, Any]:
        return {"slot": slot, "genome_id": int(self.sim.state.genome_id[slot]), "input_names": self.input_names}

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            world_seed = int(seed)
        elif self._rng is None:
            self._rng = np.random.default_rng(self.seed)
            world_seed = self.seed
        else:
            world_seed = int(self._rng.integers(max_seed()))
        sim = self.world.reset(world_seed)
        st = sim.state
        slots = np.flatnonzero(st.alive)
        self._slot = {agent_name(st.genome_id[i]): int(i) for i in slots}
        self.agents = list(self._slot)
        self._founders = list(self.agents)
        self._seen = list(self.agents)
        self._t = 0
        self._steered[:] = False
        obs_all = self.world.observe(self._lo, self._hi)
        obs = {a: obs_all[i] for a, i in self._slot.items()}
        return obs, {a: self._info(i) for a, i in self._slot.items()}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        sim = self.sim
        st = sim.state
        n = st.n
        act = np.zeros((n, 2), np.float32)  # (N, 2) turn, thrust
        self._steered[:] = False
        for a, v in actions.items():
            i = self._slot.get(a)
            if i is None:
                raise ValueError(f"{a!r} is not a living agent of this episode")
            act[i] = np.asarray(v, np.float32).reshape(2)
            self._steered[i] = True
        sim.steer(act, self._steered) if self._steered.any() else sim.steer(None)
        before = list(self._slot.items())
        ids = st.genome_id.copy()  # (N,) int64
        sim.step()
        slots = np.array([i for _, i in before], np.int64)
        survived = st.alive[slots] & (st.genome_id[slots] == ids[slots])
        rewards = np.asarray(self.reward_fn(sim, slots, survived), np.float64).reshape(len(slots))
        self._t += 1
        trunc_all = self._t >= self.max_cycles
        obs_all = self.world.observe(self._lo, self._hi)
        obs: dict[str, np.ndarray] = {}
        rew: dict[str, float] = {}
        term: dict[str, bool] = {}
        trunc: dict[str, bool] = {}
        info: dict[str, dict] = {}
        alive_now: dict[str, int] = {}
        for k, (a, i) in enumerate(before):
            ok = bool(survived[k])
            # the dead keep the inputs they last sensed (their slot may already hold a newborn)
            obs[a] = obs_all[i] if ok else np.clip(sim.inputs[i], self._lo, self._hi)
            rew[a] = float(rewards[k])
            term[a] = not ok
            trunc[a] = trunc_all and ok
            info[a] = self._info(i) if ok else {"slot": i, "genome_id": int(ids[i]), "cause": _cause(st.cause[i])}
            if ok:
                alive_now[a] = i
        known = set(alive_now)
        for i in np.flatnonzero(st.alive) if not trunc_all else ():  # none join an episode that ends here
            a = agent_name(st.genome_id[i])
            if a not in known:  # born in this step
                alive_now[a] = int(i)
                self._seen.append(a)
                obs[a], rew[a], term[a], trunc[a] = obs_all[i], 0.0, False, False
                info[a] = self._info(int(i))
        self._slot = {} if trunc_all else alive_now
        self.agents = list(self._slot)
        return obs, rew, term, trunc, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return frame(self.sim, self.render_width, self._steered)

    def close(self) -> None:
        pass


def _cause(c: int) -> str:
    from ..state import CAUSES

    return CAUSES[int(c)]
