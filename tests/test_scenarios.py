"""Scenario files: shipped scenarios pass check_scenario; broken ones give one line naming the file; icons, grid and
teams kernels agree with their numpy references; hooks, schedules and hot reload work; runs stay deterministic."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from neuroevo.check import check_scenario
from neuroevo.cli import main
from neuroevo.reference import nearest_icon_np
from neuroevo.scenario import ScenarioError, available, load_scenario
from neuroevo.sim import Simulation, make
from neuroevo.state import ICON, K_BIRTHS, K_DEATHS, RULE

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.stem for p in (ROOT / "scenarios").glob("*.py") if not p.stem.startswith("_"))


def write(tmp_path, name, body):
    f = tmp_path / f"{name}.py"
    f.write_text(textwrap.dedent(body).lstrip())
    return f


# ---- shipped scenarios ------------------------------------------------------------------------------------------
def test_ships_the_scenarios_of_the_readme():
    assert {"edges", "cursor", "icons", "crowd", "teams", "raw_distance", "sweeper"} <= set(SHIPPED)
    assert set(SHIPPED) <= set(available())
    readme = (ROOT / "README.md").read_text()
    for name in SHIPPED:
        assert f"`{name}`" in readme, f"README does not list scenario {name}"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_passes_check_and_runs(name):
    cls = check_scenario(name, steps=300)
    sim = make(cls, seed=3, overrides={"world.agents": 40})
    sim.run(300)
    st = sim.state
    assert st.alive.all() and np.isfinite(st.pos).all() and st.counters[K_BIRTHS] > 0
    assert sim.genomes.shape[1] == sim.layout.n_params and st.acts.shape[1] == sim.layout.n_units


def test_default_layout_for_edges_and_cursor():
    for name in ("edges", "cursor"):
        sim = make(name, seed=1)
        assert sim.layout.sizes == (10, 16, 2)  # the ego frame's "self" block is speed alone
        assert list(sim.input_offsets) == ["edges", "cursor", "self"] and sim.input_names()[-1] == "speed"
        world = make(name, seed=1, overrides={"brain.frame": "world"})
        assert world.layout.sizes == (12, 16, 2) and world.input_names()[-3:] == ["speed", "cos heading",
                                                                                     "sin heading"]


def test_only_the_cursor_scenario_starts_its_founders_at_their_limits():
    """The hunter's scenario draws the founders' biases at scale 12 (README: Founders at their limits); the others
    keep the default scale, and --set still wins over a scenario."""
    assert load_scenario("cursor").settings({}).brain.init_bias == 12.0
    assert load_scenario("cursor").settings({"brain.init_bias": 2.0}).brain.init_bias == 2.0
    for name in ("edges", "icons", "crowd", "teams", "raw_distance", "sweeper"):
        assert load_scenario(name).settings({}).brain.init_bias == 2.0, name
    cursor, edges = make("cursor", seed=1), make("edges", seed=1)
    b = cursor.layout.n_weights - 2  # the two output biases (turn, thrust) of every founder
    saturated = np.abs(np.tanh(cursor.genomes[:, b:b + 2])) > 0.9
    assert saturated.mean() > 0.8 > (np.abs(np.tanh(edges.genomes[:, b:b + 2])) > 0.9).mean()


# ---- broken scenarios: one line naming the file, exit 2 ------------------------------------------------------------
BROKEN = {
    "syntax": ("""
        from neuroevo.scenario import Scenario

        class Bad(Scenario):
            world = {"agents": 20
        """, r":4: syntax error"),
    "wrong_type": ("""
        from neuroevo.scenario import Scenario

        class Bad(Scenario):
            '''agents must be a whole number'''
            world = {"agents": "many"}
        """, r":5: bad value for world.agents"),
    "section_not_dict": ("""
        from neuroevo.scenario import Scenario

        class Bad(Scenario):
            hazards = 3
        """, r":4: hazards must be a dict"),
    "unknown_sensor": ("""
        from neuroevo.scenario import Scenario

        class Bad(Scenario):
            hazards = {"icons": 2}
            sensors = ("edges", "sonar")
        """, r":5: unknown sensor 'sonar'"),
    "bad_hook_shape": ("""
        import numpy as np
        from neuroevo.scenario import Scenario

        class Bad(Scenario):
            n_extra_inputs = 2

            def extra_inputs(self, sim):
                return np.zeros((sim.state.n, 3), np.float32)
        """, r":7: extra_inputs\(\) returned shape \(\d+, 3\), expected \(\d+, 2\)"),
    "hook_raises": ("""
        from neuroevo.scenario import Scenario

        class Bad(Scenario):
            def on_step(self, sim, step):
                if step >= 60:
                    return 1 / 0
        """, r":6: on_step\(\) raised ZeroDivisionError"),
    "hook_signature": ("""
        from neuroevo.scenario import Scenario

        class Bad(Scenario):
            def fitness(self):
                return None
        """, r":4: fitness must take \(self, sim\)"),
    "no_class": ("""
        x = 1
        """, r": expected one Scenario subclass, found 0"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_scenario_one_line_exit_2(case, tmp_path, capsys):
    body, pattern = BROKEN[case]
    f = write(tmp_path, case, body)
    assert main(["run", str(f), "--minutes", "0.1", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert str(f) in err[0] and re.search(pattern, err[0]), err[0]
    assert not (tmp_path / "o").exists()


def test_broken_scenario_from_a_fresh_process(tmp_path):
    f = write(tmp_path, "typo", BROKEN["unknown_sensor"][0])
    r = subprocess.run([sys.executable, "-m", "neuroevo.cli", "run", str(f), "--quiet", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and f"{f}:5: unknown sensor 'sonar'" in r.stderr


# ---- kernels against numpy references ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["crowd", "icons"])
def test_newborns_appear_clear_of_agents_and_icons(name):
    cls = load_scenario(name)
    sim = make(cls, seed=5)
    st, p = sim.state, sim.params
    births = 0
    for _ in range(600):
        sim.step()
        new = np.nonzero(st.age == 0)[0]
        births += new.size
        for i in new:
            if p.spawn_clear > 0:
                d = np.hypot(*(st.pos[np.arange(st.n) != i] - st.pos[i]).T)
                assert d.min() >= p.spawn_clear - 1e-3
            if sim.icons.shape[0]:
                assert nearest_icon_np(st.pos[i : i + 1], sim.icons)[0][0] >= 4 * p.radius - 1e-3
    assert births > 10


# ---- teams, hooks, schedules -----------------------------------------------------------------------------------------
def test_births_stay_within_a_team():
    cls = load_scenario("teams")
    sim = make(cls, seed=2, overrides={"world.agents": 60})
    team = sim.state.team.copy()
    assert np.bincount(team).tolist() == [30, 30]
    sim.genomes[:, 0] = np.where(team == 0, 1000.0, -1000.0)  # a marker gene that mutation barely moves
    sim.run(3600)
    assert sim.state.counters[K_BIRTHS] > 60 and np.array_equal(sim.state.team, team)
    assert np.all((sim.genomes[:, 0] > 500) == (team == 0))


def test_hooks_extra_inputs_deaths_fitness(tmp_path):
    f = write(tmp_path, "hooked", """
        import numpy as np
        from neuroevo.scenario import Scenario

        class Hooked(Scenario):
            hook_every = 1
            n_extra_inputs = 2
            seen = set()

            def on_step(self, sim, step):
                self.seen.update(sim.state.genome_id[:5].tolist())

            def extra_inputs(self, sim):
                x = np.zeros((sim.state.n, 2), np.float32)
                x[:, 0] = np.arange(sim.state.n) / sim.state.n
                x[:, 1] = sim.step_count % 7
                return x

            def extra_deaths(self, sim):
                slot = np.arange(sim.state.n)
                return (slot >= 10) & (slot < 20) & (sim.step_count % 30 == 0)

            def fitness(self, sim):
                return np.where(np.arange(sim.state.n) < 5, 1.0 + sim.state.age, 0.0)
        """)
    cls = check_scenario(f)
    sim = make(cls, seed=1, agents=30)
    hooks = sim.hooks
    assert sim.layout.n_in == 12 and sim.input_names()[-2:] == ["extra 1", "extra 2"]
    sim.run(601)
    st = sim.state
    np.testing.assert_allclose(st.acts[:, 10], np.arange(30) / 30, atol=1e-6)
    assert np.all(st.acts[:, 11] == 600 % 7)
    assert st.counters[K_DEATHS + RULE] == 210  # slots 10-19 at steps 0, 30, ..., 600
    born = st.parent_id[st.parent_id >= 0]
    assert born.size >= 10 and set(born.tolist()) <= hooks.seen  # every parent came from slots 0-4


def test_schedule_changes_rules_mid_run(tmp_path):
    f = write(tmp_path, "schedule", """
        from neuroevo.scenario import Scenario

        class Schedule(Scenario):
            '''Edges only for 10 s, then the hunter comes.'''
            def on_step(self, sim, step):
                if step == 600:
                    sim.apply_settings({"cursor.source": "hunter"})
        """)
    cls = load_scenario(str(f))
    sim = make(cls, seed=1, agents=20, min_speed=0, birth_speed=0, max_accel=0)
    from neuroevo.state import CURSOR

    sim.run(600)
    assert sim.state.counters[K_DEATHS + CURSOR] == 0 and sim.settings.cursor.source == "none"
    sim.run(1200)
    assert sim.state.counters[K_DEATHS + CURSOR] > 3 and sim.settings.cursor.source == "hunter"
    with pytest.raises(Exception, match="genome layout"):
        sim.apply_settings({"hidden": "8"})


# ---- hot reload (the viewer's API), checkpoints -------------------------------------------------------------------
def test_reload_keeps_population_or_says_why(tmp_path):
    f = tmp_path / "live.py"
    f.write_text("from neuroevo.scenario import Scenario\n\nclass Live(Scenario):\n"
                 "    sensors = ('edges', 'self', 'neighbours')\n    hazards = {'contact': 'all'}\n")
    cls = load_scenario(str(f))
    sim = make(cls, seed=4, overrides={"world.agents": 30})
    sim.run(300)
    genomes, step = sim.genomes.copy(), sim.step_count
    # same layout: new settings and a new hook take effect, population and world carry on
    f.write_text("import numpy as np\nfrom neuroevo.scenario import Scenario\n\nclass Live(Scenario):\n"
                 "    sensors = ('edges', 'self', 'neighbours')\n    hazards = {'contact': 'all', 'icons': 3}\n"
                 "    world = {'agents': 30}\n"
                 "    def extra_deaths(self, sim):\n        return np.zeros(sim.state.n, bool)\n")
    new = check_scenario(str(f))
    assert sim.same_layout(new.settings(), new.n_extra_inputs)
    sim.reload_scenario(new)
    assert np.array_equal(sim.genomes, genomes) and sim.step_count == step
    assert sim.icons.shape == (3, 4) and sim.settings.hazards.icons == 3 and sim.hooks.__class__ is new
    sim.run(300)
    # a new sensor changes the genome layout: a clear error, and nothing changes
    f.write_text(f.read_text().replace("'neighbours')", "'neighbours', 'icons')"))
    newer = load_scenario(str(f))
    assert not sim.same_layout(newer.settings(), 0)
    with pytest.raises(ScenarioError, match=r"live\.py: the genome layout changed \(9-16-2 .* -> 12-16-2"):
        sim.reload_scenario(newer)
    assert sim.hooks.__class__ is new and sim.layout.sizes == (9, 16, 2)


def test_checkpoint_with_icons_teams_and_hooks_resumes_identically(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    common = ["sweeper", "--seed", "3", "--agents", "24", "--no-plot", "--quiet"]
    assert main(["run", *common, "--minutes", "1", "--out", str(a)]) == 0
    assert main(["run", "sweeper", "--resume", str(a / "population.npz"), "--minutes", "0.5", "--out", str(a),
                 "--no-plot", "--quiet"]) == 0
    assert main(["run", *common, "--minutes", "1.5", "--out", str(b)]) == 0
    za, zb = (np.load(d / "population.npz", allow_pickle=False) for d in (a, b))
    for k in ("genomes", "icons", "state_pos", "state_counters", "state_team"):
        assert np.array_equal(za[k], zb[k]), k
    assert zb["state_counters"][K_DEATHS + ICON] > 0


def test_population_files_from_before_scenarios_still_load(tmp_path):
    sim = make("cursor", seed=1, overrides={"world.agents": 20})
    sim.run(200)
    new = tmp_path / "new.npz"
    sim.save(new)
    with np.load(new, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files if k not in ("icons", "state_team", "state_hook_fit")}
    data["state_counters"] = data["state_counters"][:-1]  # no "rule" cause yet
    old = tmp_path / "old.npz"
    np.savez_compressed(old, **data)
    back, _ = Simulation.load(old)
    assert np.array_equal(back.genomes, sim.genomes) and back.step_count == 200
    back.run(100)
    sim.run(100)
    assert np.array_equal(back.genomes, sim.genomes)


# ---- determinism -------------------------------------------------------------------------------------------------
def _digest(tmp_path, threads, scenario):
    out = tmp_path / f"t{threads}"
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "neuroevo.cli", "run", str(scenario), "--seed", "2", "--agents", "1500",
           "--minutes", "0.05", "--out", str(out), "--quiet", "--no-plot"]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    with np.load(out / "population.npz", allow_pickle=False) as z:
        return z["genomes"].tobytes() + z["state_pos"].tobytes() + z["state_counters"].tobytes()


def test_grid_scenario_identical_with_one_or_two_threads(tmp_path):
    """1,500 agents with icons, neighbours, teams and contact take every parallel kernel."""
    f = write(tmp_path, "busy", """
        from neuroevo.scenario import Scenario

        class Busy(Scenario):
            world = {"width": 3000.0, "height": 2000.0}
            sensors = ("edges", "self", "icons", "neighbours", "team")
            hazards = {"icons": 10, "teams": 3, "contact": "teams"}
        """)
    assert _digest(tmp_path, 1, f) == _digest(tmp_path, 2, f)


def test_readme_example_runs(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Write your own scenario", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert 15 <= len(code.strip().splitlines()) <= 20
    f = tmp_path / "mine.py"
    f.write_text(code)
    cls = check_scenario(f, steps=240)
    assert cls.hooks_defined()
