"""One shared policy for the `cursor` scenario, optimised with CMA-ES through the PettingZoo env, against the GA.

Every agent of the world flies by the same small tanh net (inputs -> hidden -> turn, thrust). CMA-ES (the `cma`
package) proposes weight vectors; each is scored in the parallel env with evolve=True, so the world keeps `agents`
agents alive (each death refilled at once) and the policy steers all of them, newborns included; the score is deaths
per simulated minute (every cause), all candidates of a generation on the same world seed. The built-in GA then runs
the same scenario for the same number of agent-steps (agents x steps) as the whole CMA-ES search, and both are
measured the same way: the hunter's kills per minute (and edge deaths) over --eval-minutes in a fresh world for the
CMA-ES policy, over the last --eval-minutes of its run for the GA.

    pip install -e ".[examples]"
    python examples/cma_cursor.py                  # defaults: about 6 minutes on a busy 2-core machine
    python examples/cma_cursor.py --generations 40 --popsize 20 --episode-s 30
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import neuroevo
import neuroevo.envs


class Policy:
    """A dense tanh net shared by all agents: theta (n_params,) -> actions (K, 2) for observations (K, n_in)."""

    def __init__(self, n_in: int, hidden: int) -> None:
        self.shapes = [(n_in, hidden), (hidden,), (hidden, 2), (2,)]
        self.n_params = int(sum(np.prod(s) for s in self.shapes))

    def __call__(self, theta: np.ndarray, obs: np.ndarray) -> np.ndarray:
        parts, k = [], 0
        for s in self.shapes:
            n = int(np.prod(s))
            parts.append(theta[k : k + n].reshape(s))
            k += n
        w1, b1, w2, b2 = parts
        return np.tanh(np.tanh(obs @ w1 + b1) @ w2 + b2).astype(np.float32)  # (K, 2) turn, thrust


def episode(env, policy: Policy, theta: np.ndarray, seed: int, steps: int) -> tuple[dict[str, int], int]:
    """Run `steps` steps with every agent steered by the policy; returns (deaths by cause, agent-steps)."""
    obs, _ = env.reset(seed=seed)
    sim = env.sim
    agent_steps = 0
    for _ in range(steps):
        names = env.agents
        acts = policy(theta, np.stack([obs[a] for a in names]))
        agent_steps += len(names)
        obs, _, _, _, _ = env.step(dict(zip(names, acts)))
    return sim.deaths_by_cause(), agent_steps


def main() -> None:
    import cma

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=8)
    ap.add_argument("--generations", type=int, default=10)
    ap.add_argument("--popsize", type=int, default=12, help="CMA-ES candidates per generation")
    ap.add_argument("--episode-s", type=float, default=10.0, help="simulated seconds per candidate")
    ap.add_argument("--eval-minutes", type=float, default=2.0)
    ap.add_argument("--sigma", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    env = neuroevo.envs.parallel_env("cursor", seed=a.seed, agents=a.agents, evolve=True, max_cycles=10**9)
    dt = env.sim.settings.world.dt
    steps = round(a.episode_s / dt)
    policy = Policy(len(env.input_names), a.hidden)
    es = cma.CMAEvolutionStrategy(np.zeros(policy.n_params), a.sigma,
                                  {"seed": a.seed, "verbose": -9, "maxiter": a.generations, "popsize": a.popsize})
    budget = 0
    t0 = time.perf_counter()
    gen = 0
    while not es.stop():
        gen += 1
        thetas = es.ask()
        scores = []
        for th in thetas:
            deaths, n = episode(env, policy, np.asarray(th), seed=1000 * a.seed + gen, steps=steps)
            budget += n
            scores.append(sum(deaths.values()) / (steps * dt / 60.0))
        es.tell(thetas, scores)
        print(f"gen {gen:3d}  deaths/min best {min(scores):7.1f}  mean {np.mean(scores):7.1f}  "
              f"agent-steps {budget:,}  {time.perf_counter() - t0:5.0f} s", flush=True)
    t_cma = time.perf_counter() - t0
    eval_steps = round(a.eval_minutes * 60.0 / dt)
    cma_deaths, _ = episode(env, policy, np.asarray(es.result.xfavorite), seed=a.seed + 10_000, steps=eval_steps)

    t0 = time.perf_counter()
    sim = neuroevo.make("cursor", seed=a.seed, agents=a.agents)
    ga_steps = budget // a.agents
    sim.run(max(0, ga_steps - eval_steps))
    d0 = sim.deaths_by_cause()
    sim.run(eval_steps)
    ga_deaths = {k: v - d0[k] for k, v in sim.deaths_by_cause().items()}
    t_ga = time.perf_counter() - t0

    minutes = eval_steps * dt / 60.0
    print(f"\ncursor scenario, {a.agents} agents, seed {a.seed}; both at {budget:,} agent-steps "
          f"({budget * dt / 60 / a.agents:.0f} sim-minutes of the whole world); measured over {a.eval_minutes:g} "
          f"sim-minutes")
    print("| method | net | kills/min | edge deaths/min | all deaths/min | wall s |")
    print("|---|---|---|---|---|---|")
    for name, net, d, t in (("CMA-ES, one shared policy", f"{len(env.input_names)}-{a.hidden}-2", cma_deaths, t_cma),
                            ("built-in GA (steady state)", "-".join(map(str, sim.layout.sizes)), ga_deaths, t_ga)):
        print(f"| {name} | {net} | {d['cursor'] / minutes:.1f} | {d['edge'] / minutes:.1f} | "
              f"{sum(d.values()) / minutes:.1f} | {t:.0f} |")


if __name__ == "__main__":
    main()
