"""The world as a standard environment: a PettingZoo ParallelEnv and a Gymnasium Env (extra `neuroevo[envs]`).

    env = neuroevo.envs.parallel_env("cursor", seed=1, agents=20)     # every living agent, steered from outside
    env = neuroevo.envs.single_agent_env("cursor", seed=1)            # one agent among the others' evolving nets

Settings are given as make() takes them (agents=20, overrides with dotted keys: **{"cursor.speed": 200.0}).

Agents. The world is steady-state: deaths and births happen at any step. PettingZoo never reuses a dead agent's
name, so an agent is named by its genome (birth) id, "agent_<genome_id>" (sim.state.genome_id): a death terminates
that agent (terminated=True, with its cause in the info) and a birth adds a new name, present from the step it was
born in. With evolve=False (the default for the parallel env) the scenario's evolution is switched off
(evolution.mode=none): nobody is born, possible_agents are the founders and the episode ends when all have died or
after max_cycles steps. With evolve=True the genetic algorithm keeps refilling dead slots while the outside policy
steers only the agents it names in the action dict (the others fly by their nets); as the genomes to come are not
known ahead, possible_agents then lists every agent that has appeared since reset(), growing as agents are born.

Observations are the net's inputs, a Box of float32 (sensor inputs in [-1, 1]; a scenario's extra inputs
unbounded); their names are `env.input_names` and the "input_names" entry of the infos. The compiled step senses at
its start, so the inputs it stored describe the world before its moves. The envs instead return the inputs of the
world as it stands after reset() and after each step, computed by a sense-only pass with the step's own sensor code
(envs.sense; it changes nothing in the world): the state the policy's action will be applied to. In the next step
the world first moves the cursor, then the steered agents fly by the action. A dead agent's last observation is the
input it sensed in the step it died in.

Actions are (turn, thrust) in [-1, 1], float32 (sim.steer()); the agent's own net still runs but is overridden.

Rewards: `reward(sim, slots, survived) -> (len(slots),) float` per step; default +dt per step survived and 0 in the
step of death, so an agent's return is its lifetime in seconds, the fitness the built-in GA selects on.

Seeds. reset(seed=s) builds the same world as neuroevo.make(scenario, seed=s); reset() without a seed uses the
constructor's seed first, then seeds drawn from the env's own generator, so a sequence of resets is reproducible.

render_mode="rgb_array": render() returns an (H, W, 3) uint8 picture of the world (envs.render, drawn with pygame
offscreen), steered agents ringed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["parallel_env", "single_agent_env"]


def _needs(what: str) -> None:
    try:
        import gymnasium  # noqa: F401
        if what == "pettingzoo":
            import pettingzoo  # noqa: F401
    except ImportError:
        raise ImportError(f"neuroevo.envs needs {what}: pip install 'neuroevo[envs]'") from None


def parallel_env(scenario: str | Path | type = "cursor", seed: int = 0, **kw: Any):
    """A PettingZoo ParallelEnv of the world (see the module docstring). Keywords: evolve (False), reward,
    max_cycles (3600 steps), render_mode (None or "rgb_array"), render_width (640 px), genomes ((N, n_params)
    float32 to start from, e.g. a checkpoint's), threads (1: the serial step; an env advances one step per call,
    too little work to pay for waking a thread pool), and any setting make() takes."""
    _needs("pettingzoo")
    from .parallel import WorldParallelEnv

    return WorldParallelEnv(scenario, seed, **kw)


def single_agent_env(scenario: str | Path | type = "cursor", seed: int = 0, **kw: Any):
    """A Gymnasium Env steering slot 0 among the others (see the module docstring); the episode terminates at that
    agent's death. Keywords: evolve (True: the others keep evolving; False: nobody is born), reward, max_steps
    (3600), render_mode, render_width, genomes, threads, and any setting make() takes."""
    _needs("gymnasium")
    from .single import WorldEnv

    return WorldEnv(scenario, seed, **kw)
