"""The world as Gymnasium and PettingZoo environments (neuroevo.envs), and `neuroevo check`."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuroevo
from neuroevo.cli import main
from neuroevo.envs.checkcmd import world_hash
from neuroevo.reference import sense_np
from neuroevo.state import C_ARMED, C_PRESENT, CX, CY, K_LIFE_SUM


def needs(name: str):
    return pytest.importorskip(name, reason=f"{name} not installed (pip install 'neuroevo[envs]')")


@pytest.mark.parametrize("scenario", ["cursor", "crowd", "teams", "icons"])
def test_sense_pass_is_what_the_step_senses_and_changes_nothing(scenario):
    from neuroevo.envs.sense import observe

    # a still cursor: the next step senses exactly the world as it stands
    sim = neuroevo.make(scenario, seed=3, agents=40, overrides={"cursor.source": "none", "evolution.mode": "none"})
    sim.set_threads(1)
    sim.run(30)
    before = world_hash(sim)
    obs = observe(sim)
    assert world_hash(sim) == before
    # against the plain numpy sensors too (the step and observe share their code)
    st, p = sim.state, sim.params
    cur = (st.cursor[CX], st.cursor[CY], st.cursor[C_PRESENT], st.cursor[C_ARMED])
    ref = sense_np(st.pos, st.heading, st.speed, cur, p, sim.icons, st.alive, st.team)
    np.testing.assert_allclose(obs[st.alive, : p.n_in], ref[st.alive], atol=1e-5)
    ids = sim.state.genome_id.copy()
    alive = sim.state.alive.copy()
    sim.step()
    kept = alive & sim.state.alive & (sim.state.genome_id == ids)  # survivors sensed in this step
    assert kept.sum() > 10
    np.testing.assert_array_equal(obs[kept], sim.inputs[kept])


def test_parallel_env_passes_pettingzoo_api_test():
    needs("pettingzoo")
    from pettingzoo.test import parallel_api_test

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the checker only warns about key sets: make those fail
        parallel_api_test(neuroevo.envs.parallel_env("cursor", seed=1, agents=8), num_cycles=400)
        parallel_api_test(neuroevo.envs.parallel_env("edges", seed=1, agents=8, evolve=True), num_cycles=200)


def test_single_agent_env_passes_gymnasium_check_env():
    needs("gymnasium")
    from gymnasium.utils.env_checker import check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        # (without a registry spec the checker cannot build the env in other render modes; it says so, harmlessly)
        warnings.filterwarnings("ignore", ".*Not able to test alternative render modes", UserWarning)
        check_env(neuroevo.envs.single_agent_env("cursor", seed=1, agents=8), skip_render_check=False)
        check_env(neuroevo.envs.single_agent_env("crowd", seed=1, agents=12, evolve=False,
                                                 render_mode="rgb_array"), skip_render_check=False)


def _play(env, seed, policy_seed=0):
    """Random actions for every agent until the episode ends; returns (returns by agent, observations seen)."""
    rng = np.random.default_rng(policy_seed)
    obs, _ = env.reset(seed=seed)
    returns = dict.fromkeys(env.agents, 0.0)
    seen = [np.stack([obs[a] for a in env.agents])]
    while env.agents:
        acts = {a: rng.uniform(-1, 1, 2).astype(np.float32) for a in env.agents}
        obs, rew, term, trunc, _ = env.step(acts)
        for a, r in rew.items():
            returns[a] = returns.get(a, 0.0) + r
        seen.append(np.stack([obs[a] for a in sorted(obs)]))
    return returns, seen


def test_parallel_returns_are_lifetimes_and_runs_repeat():
    needs("pettingzoo")
    env = neuroevo.envs.parallel_env("cursor", seed=1, agents=10, max_cycles=100_000)
    returns, seen = _play(env, seed=5)
    sim = env.sim
    assert not sim.state.alive.any() and sim.births == 0  # evolve=False: nobody is born
    assert set(returns) == {f"agent_{i}" for i in range(10)}
    dt = sim.settings.world.dt
    assert sum(returns.values()) == pytest.approx(sim.state.counters[K_LIFE_SUM] * dt)
    returns2, seen2 = _play(env, seed=5)
    assert returns2 == returns
    assert all(np.array_equal(a, b) for a, b in zip(seen, seen2))


def test_parallel_reset_seed_is_make_seed_and_actions_steer():
    needs("pettingzoo")
    env = neuroevo.envs.parallel_env("cursor", seed=0, agents=10)
    env.reset(seed=7)
    assert world_hash(env.sim) == world_hash(neuroevo.make("cursor", seed=7, agents=10,
                                                           overrides={"evolution.mode": "none"}))
    named = env.agents[:4]
    acts = {a: np.array([0.5, -2.0], np.float32) for a in named}  # thrust clipped to -1
    _, _, term, _, info = env.step(acts)
    for a in named:
        if not term[a]:
            np.testing.assert_array_equal(env.sim.outputs[info[a]["slot"]], [0.5, -1.0])
    with pytest.raises(ValueError, match="not a living agent"):
        env.step({"agent_999": np.zeros(2, np.float32)})


def test_parallel_evolve_names_newborns_by_genome_id():
    needs("pettingzoo")
    env = neuroevo.envs.parallel_env("cursor", seed=2, agents=10, evolve=True, max_cycles=1200)
    env.reset()
    names_ever = set(env.agents)
    born = 0
    while env.agents:
        acts = {a: np.array([0.0, 1.0], np.float32) for a in env.agents[:5]}  # half steered, straight ahead
        obs, _, term, _, info = env.step(acts)
        new = set(obs) - names_ever
        assert not (new & {a for a, t in term.items() if t})
        born += len(new)
        names_ever |= new
        st = env.sim.state
        if env.agents:
            assert sorted(env.agents) == sorted(f"agent_{g}" for g in st.genome_id[st.alive])
            assert len(env.agents) == 10  # steady state: every death refilled at once
            births = env.sim.births
        else:  # the last step: a newborn there does not join the ending episode
            assert not new
    assert born == births > 0
    assert set(env.possible_agents) == names_ever


def test_single_agent_episode_ends_at_its_death():
    needs("gymnasium")
    env = neuroevo.envs.single_agent_env("cursor", seed=4, agents=10, max_steps=100_000)
    obs, info = env.reset()
    assert obs.shape == env.observation_space.shape and obs.dtype == np.float32
    assert info["input_names"] == env.sim.input_names()
    total, steps, terminated = 0.0, 0, False
    while not terminated:
        obs, r, terminated, truncated, info = env.step(np.array([0.0, 1.0], np.float32))  # straight into a wall
        total += r
        steps += 1
        assert not truncated
    assert info["cause"] == "edge"
    assert total == pytest.approx((steps - 1) * env.sim.settings.world.dt)
    assert env.sim.births > 0  # the others' evolution goes on (and refilled the slot)


def test_render_rgb_array(tmp_path):
    needs("pettingzoo")
    env = neuroevo.envs.parallel_env("icons", seed=1, agents=12, render_mode="rgb_array", render_width=320)
    env.reset()
    env.step({env.agents[0]: np.zeros(2, np.float32)})
    img = env.render()
    w, h = env.sim.settings.world.width, env.sim.settings.world.height
    assert img.dtype == np.uint8 and img.shape == (round(h * 320 / w), 320, 3)
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 4  # floor, edge, icons, agents, the steered ring
    assert (img == 250).all(axis=2).any()  # the steered agent's ring
    assert neuroevo.envs.parallel_env("icons", seed=1, agents=4).render() is None
    single = neuroevo.envs.single_agent_env("icons", seed=1, agents=12, render_mode="rgb_array", render_width=320)
    single.reset()
    assert single.render().shape == img.shape


def test_rgb_array_frames_colour_newborns_by_family():
    """envs/render.py draws through the window's LiveView: after steps it did not make itself, newborns still wear
    their family's colour (no extra needed)."""
    from neuroevo.envs.render import _VIEWS, frame
    from neuroevo.sim import make

    sim = make("edges", seed=1, agents=12, init_bias=2.0)  # founders of which some fly into the edges
    assert frame(sim, width=320).shape[1] == 320
    view = _VIEWS[sim][0]
    births = sim.births
    sim.run(1800)
    assert sim.births > births
    frame(sim, width=320)
    assert view.founders().tolist() == view.tracker.founders_of(sim).tolist()


def test_check_command_prints_layout(capsys):
    assert main(["check", "cursor", "--steps", "120", "--set", "world.agents=20"]) == 0
    out = capsys.readouterr().out
    assert "check_scenario passed" in out and "genome layout 10-" in out and "cursor dist" in out


def test_check_command_bad_input_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text("from neuroevo.scenario import Scenario\n\nclass Bad(Scenario):\n    world = {'agentz': 3}\n")
    for argv in (["check", str(bad)], ["check", "no_such_scenario"], ["check", "cursor", "--set", "world.agents=x"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("neuroevo check: error:") and "\n" not in err


def test_check_command_reports_a_nondeterministic_world(monkeypatch, capsys):
    from neuroevo.envs import checkcmd

    hashes = iter(["a" * 64, "b" * 64])
    monkeypatch.setattr(checkcmd, "world_hash", lambda sim: next(hashes))
    assert main(["check", "edges", "--steps", "10", "--set", "world.agents=8"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not deterministic" in err and "\n" not in err


def test_single_agent_env_starts_from_given_genomes():
    needs("gymnasium")
    evolved = neuroevo.make("cursor", seed=1, agents=10)
    evolved.run(600)
    env = neuroevo.envs.single_agent_env("cursor", seed=2, agents=10, genomes=evolved.genomes)
    env.reset()
    np.testing.assert_array_equal(env.sim.genomes, evolved.genomes)
    with pytest.raises(ValueError, match="genomes must have shape"):
        neuroevo.envs.single_agent_env("cursor", seed=2, agents=11, genomes=evolved.genomes)


def test_readme_environments_section_runs():
    needs("pettingzoo")
    needs("gymnasium")
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Environments (Gymnasium, PettingZoo)"): readme.index("## Layout")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the project's own README


def test_parallel_custom_reward_per_agent():
    needs("pettingzoo")

    def penalty(sim, slots, survived):  # -1 at death, and the slot number while alive (to see the mapping)
        return np.where(survived, slots.astype(np.float64), -1.0)

    env = neuroevo.envs.parallel_env("edges", seed=1, agents=6, reward=penalty)
    env.reset()
    while env.agents:
        _, rew, term, _, info = env.step({a: np.array([0.0, 1.0], np.float32) for a in env.agents})
        for a, r in rew.items():
            assert r == (-1.0 if term[a] else info[a]["slot"])
