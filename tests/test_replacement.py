"""Periodic replacement (evolution.replace, births.replacement): who is removed, when, and what it costs nothing
when off."""

from __future__ import annotations

import numpy as np
import pytest

from neuroevo.sim import make
from neuroevo.state import C_PRESENT, K_DEATHS, K_STEP, RULE


def _rule_deaths(sim) -> int:
    return int(sim.state.counters[K_DEATHS + RULE])


def test_the_least_agile_old_enough_is_removed_and_replaced():
    sim = make("cursor", seed=3, agents=20, replace="least_agile", replace_s=1.0, replace_age_s=2.0)
    sim.compile()
    st = sim.state
    period = sim.params.replace_steps
    sim.run(period * 3)  # the next step is a replacement step
    assert st.cursor[C_PRESENT] > 0.0
    assert int(st.counters[K_STEP]) % period == 0
    st.age[:] = 1000
    st.agility[:] = 500.0  # rate 0.5 each
    st.agility[4] = 10.0  # rate 0.01: the least agile of the eligible
    st.age[7], st.agility[7] = 10, 0.0  # rate 0, but younger than replace_age_s: not eligible
    gid4, before = int(st.genome_id[4]), _rule_deaths(sim)
    sim.step()
    assert _rule_deaths(sim) == before + 1
    assert st.cause[4] == RULE and st.genome_id[4] != gid4 and st.age[4] == 0 and st.agility[4] == 0.0
    assert st.alive[7] and st.age[7] == 11  # kept (unless it hit something)
    sim.run(period - 1)  # no removal between two replacement steps
    assert _rule_deaths(sim) == before + 1


def test_one_removal_a_period_while_a_cursor_is_present():
    sim = make("cursor", seed=5, agents=30, replace="random", replace_s=2.0, replace_age_s=0.0)
    sim.run(int(round(60.0 / sim.settings.world.dt)))
    assert _rule_deaths(sim) == 29  # every 2 s but at step 0, when nobody has lived a step yet


@pytest.mark.parametrize("when,expected", [("cursor", 0), ("always", 14)])
def test_without_a_cursor_only_always_removes(when, expected):
    sim = make("edges", seed=5, agents=30, replace="least_agile", replace_s=2.0, replace_age_s=0.0,
               replace_while=when)
    sim.run(int(round(30.0 / sim.settings.world.dt)))
    assert _rule_deaths(sim) == expected


def test_agility_is_the_sum_of_turn_times_speed_over_a_life():
    sim = make("edges", seed=2, agents=10, init_weights=1.0)
    sim.compile()
    st = sim.state
    acc = st.agility.copy()
    for _ in range(50):
        sim.step()
        born = st.age == 0
        acc[born] = 0.0
        acc[~born] += np.abs(sim.outputs[~born, 0]).astype(np.float64) * st.speed[~born] / sim.settings.world.max_speed
    np.testing.assert_allclose(st.agility, acc, rtol=1e-9)
    assert (st.agility > 0).any()


def test_on_by_default_only_where_a_cursor_is_and_none_turns_it_off():
    on = make("cursor", seed=9, agents=25)
    off = make("cursor", seed=9, agents=25, replace="none")
    edges = make("edges", seed=9, agents=25)
    edges_off = make("edges", seed=9, agents=25, replace="none")
    for sim in (on, off, edges, edges_off):
        sim.run(3000)
    assert _rule_deaths(on) > 0 and _rule_deaths(off) == 0
    # without a cursor nothing is removed: the same run, bit for bit
    assert np.array_equal(edges.genomes, edges_off.genomes)
    assert np.array_equal(edges.state.counters, edges_off.state.counters)


def test_no_removal_once_every_eligible_agent_is_agile_enough():
    sim = make("cursor", seed=3, agents=20, replace="least_agile", replace_s=1.0, replace_age_s=2.0,
               replace_below=0.9)
    sim.compile()
    st = sim.state
    sim.run(sim.params.replace_steps * 3)  # the next step is a replacement step
    st.age[:] = 1000
    st.agility[:] = 901.0  # judged with this step's term, over 1001 steps: at least 0.9 each, not below
    before = _rule_deaths(sim)
    sim.step()
    assert _rule_deaths(sim) == before
    sim.run(sim.params.replace_steps - 1)  # the next replacement step
    st.age[:] = 1000
    st.agility[:] = 901.0
    st.agility[5] = 899.0  # at most 900 / 1001 with this step's term
    sim.step()
    assert _rule_deaths(sim) == before + 1 and st.cause[5] == RULE


def test_a_resumed_run_removes_the_same_agents(tmp_path):
    kw = dict(agents=25, replace="least_agile", replace_s=0.5, replace_age_s=1.0)
    a = make("cursor", seed=4, **kw)
    a.run(1500)
    a.save(tmp_path / "p.npz")
    a.run(1500)
    from neuroevo.scenario import load_scenario
    from neuroevo.sim import Simulation

    b, _ = Simulation.load(tmp_path / "p.npz", hooks=load_scenario("cursor")())
    b.run(1500)
    assert _rule_deaths(a) > 10
    assert np.array_equal(a.state.agility, b.state.agility) and np.array_equal(a.genomes, b.genomes)
    assert np.array_equal(a.state.counters, b.state.counters)


def _drop_settings(meta: dict, keys: tuple[str, ...]) -> dict:
    for k in keys:
        section, name = k.split(".")
        meta["settings"][section].pop(name, None)
    return meta


def test_a_file_saved_before_replacement_resumes_without_it_and_judges_nobody_on_a_guess(tmp_path):
    import json

    from neuroevo.scenario import load_scenario
    from neuroevo.sim import Simulation

    a = make("cursor", seed=6, agents=25, replace="none")
    a.run(1200)
    a.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "state_agility"}
    meta = _drop_settings(json.loads(str(arrays["meta"])), ("evolution.replace", "evolution.replace_s",
                                                             "evolution.replace_age_s", "evolution.replace_below",
                                                             "evolution.replace_while"))
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "old.npz", **arrays)
    hooks = load_scenario("cursor")
    b, _ = Simulation.load(tmp_path / "old.npz", hooks=hooks())
    assert b.settings.evolution.replace == "none"  # as the run was
    np.testing.assert_array_equal(b.state.agility, b.state.age.astype(np.float64))  # unknown: taken as full
    a.run(1200)
    b.run(1200)
    assert np.array_equal(a.genomes, b.genomes) and np.array_equal(a.state.counters, b.state.counters)
    # turned on: the loaded agents, whose agility is unknown, are not removed at the first replacement step ...
    c, _ = Simulation.load(tmp_path / "old.npz", overrides={"evolution.replace": "least_agile"}, hooks=hooks())
    assert int(c.state.counters[K_STEP]) % c.params.replace_steps == 0 and c.state.cursor[C_PRESENT] > 0.0
    c.run(1)
    assert _rule_deaths(c) == 0
    # ... as they would be, were it taken as 0
    d, _ = Simulation.load(tmp_path / "old.npz", overrides={"evolution.replace": "least_agile"}, hooks=hooks())
    d.state.agility[:] = 0.0
    d.run(1)
    assert _rule_deaths(d) == 1


def _old_replay(tmp_path, scenario, minutes, sets, dropped):
    """A replay recorded by `neuroevo run SCENARIO --set ...`, its meta.json then stripped of the `dropped` settings
    (as a file written before they existed), opened."""
    import json

    from neuroevo import replay as rp
    from neuroevo.cli import main

    out = tmp_path / "run"
    assert main(["run", scenario, "--seed", "3", "--minutes", str(minutes), "--agents", "20", "--record", "--quiet",
                 "--no-plot", "--out", str(out), *[a for kv in sets for a in ("--set", kv)]]) == 0
    meta_path = out / "replay" / "meta.json"
    meta_path.write_text(json.dumps(_drop_settings(json.loads(meta_path.read_text()), dropped)))
    return rp.open(out / "replay")


def _resimulated_frames(r, alive=False):
    """Re-simulate the replay r, checking every frame against it (positions, and with alive the alive flags);
    returns the number of frames."""
    from neuroevo import replay as rp

    n = 0
    for fr, sim in rp.resimulate(r):
        if alive:
            np.testing.assert_array_equal(fr.alive, sim.state.alive)
        assert np.abs(fr.pos - sim.state.pos).max() <= r.pos_step / 2 + 1e-3
        n += 1
    return n


def test_an_old_replay_resimulates_as_recorded(tmp_path):
    r = _old_replay(tmp_path, "cursor", 0.5, ["evolution.replace=none"],
                    ("evolution.replace", "evolution.replace_below"))
    assert r.settings.evolution.replace == "none"
    assert _resimulated_frames(r, alive=True) == len(r)


def test_an_agent_flown_from_outside_is_never_removed():
    sim = make("cursor", seed=8, agents=12, replace_s=0.5, replace_age_s=0.5, replace_below=1.0)
    sim.compile()
    mask = np.zeros(sim.state.n, np.bool_)
    mask[[2, 5]] = True
    sim.steer(np.tile(np.array([[0.0, 1.0]], np.float32), (sim.state.n, 1)), mask)  # straight, full speed
    gids = sim.state.genome_id[[2, 5]].copy()
    for _ in range(600):
        sim.step()
        st = sim.state
        if not (st.alive[[2, 5]].all() and np.array_equal(st.genome_id[[2, 5]], gids)):
            assert not (st.cause[[2, 5]] == RULE).any()  # they may hit an edge, not be judged
            break
    assert _rule_deaths(sim) > 0


def test_an_old_replay_had_full_scale_founders(tmp_path):
    r = _old_replay(tmp_path, "edges", 0.2, ["brain.init_weights=1"], ("brain.init_weights",))
    assert r.settings.brain.init_weights == 1.0
    assert _resimulated_frames(r) == len(r)


def test_an_old_file_drew_its_founders_biases_at_the_weights_scale(tmp_path):
    """Before brain.init_bias, init_sigma scaled the biases too: a file without init_bias takes the file's
    init_sigma, and its run re-simulates as recorded (with the default scale, 2, its founders would differ)."""
    r = _old_replay(tmp_path, "edges", 0.2, ["brain.init_sigma=3", "brain.init_bias=3"], ("brain.init_bias",))
    assert r.settings.brain.init_bias == 3.0
    assert _resimulated_frames(r) == len(r) > 0


def test_clicks_removes_only_after_a_period_with_a_click():
    sim = make("edges", seed=5, agents=30, replace_s=1.0, replace_age_s=0.0, replace_while="clicks",
               **{"cursor.source": "external"})
    sim.compile()
    period = sim.params.replace_steps
    rows = np.zeros((10 * period, 5))
    rows[:, :3] = (5.0, 5.0, 1.0)  # present in a corner, nobody near: a click there kills nobody
    sim.run(10 * period, cursor_rows=rows)
    assert _rule_deaths(sim) == 0  # a pointer resting in the window removes nobody
    rows[period // 2 :: 2 * period, 4] = 1.0  # a click in every other period
    sim.run(10 * period, cursor_rows=rows)
    assert _rule_deaths(sim) == 5
