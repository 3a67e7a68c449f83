"""World behaviour: edges kill, births replace deaths, cursor clicks kill, the hunter works."""

import numpy as np
import pytest

from neuroevo.config import Settings, SettingsError, override
from neuroevo.cursor import external_rows
from neuroevo.sim import make
from neuroevo.state import CURSOR, EDGE, K_BIRTHS, K_DEATHS


def test_agent_flying_into_edge_dies_and_is_replaced():
    s = override(Settings(), {"agents": 5})
    sim = make("edges", settings=s, seed=1)
    st = sim.state
    st.pos[0] = (1280 - 9.0, 360)
    st.heading[0] = 0.0  # straight at the right wall
    st.speed[0] = 300.0
    sim.genomes[0] = 0.0  # no turning, no thrust
    old_id = st.genome_id[0]
    sim.step()
    assert st.cause[0] == EDGE
    assert st.counters[K_DEATHS + EDGE] >= 1 and st.counters[K_BIRTHS] >= 1
    assert st.genome_id[0] != old_id and st.age[0] == 0 and st.alive[0]
    assert st.parent_id[0] in set(st.genome_id.tolist()) | {old_id}
    # the newborn appears inside the spawn box
    assert 0.2 * 1280 <= st.pos[0, 0] <= 0.8 * 1280


def test_click_kills_within_radius_only():
    s = override(Settings(), {"agents": 3, "cursor.source": "external"})
    sim = make("edges", settings=s, seed=2)
    st = sim.state
    st.pos[:] = [[600, 300], [615, 300], [700, 300]]
    st.speed[:] = 20.0
    sim.genomes[:] = 0.0
    ids = st.genome_id.copy()
    sim.run(1, external_rows(1, 600, 300, present=True, click_first=True))
    assert st.cause[0] == CURSOR and st.cause[1] == CURSOR and st.genome_id[2] == ids[2]
    assert st.counters[K_DEATHS + CURSOR] == 2


def test_hunter_catches_still_agents():
    """A hunter against agents that cannot move away kills them (the bot is not a no-op)."""
    s = override(Settings(), {"agents": 10, "cursor.source": "hunter", "min_speed": 0.0, "birth_speed": 0.0,
                              "max_accel": 0.0})
    sim = make("edges", settings=s, seed=3)
    sim.run(600)
    assert sim.state.counters[K_DEATHS + CURSOR] >= 5


def test_anticipating_hunter_meets_circling_agents():
    """Founders that fly fixed full-speed circles (large biases, no weights, evolution off) escape the hunter that
    heads for where its target is; the one that heads for where the target will be on its circle catches them."""
    kills = {}
    for ant in (False, True):
        sim = make("cursor", seed=1, overrides={"brain.init_bias": 16.0, "evolution.mode": "none",
                                                "evolution.replace": "none", "cursor.anticipates": ant})
        assert sim.settings.brain.init_weights == 0.0  # blind founders: every agent a fixed manoeuvre
        sim.run(1800)  # 30 s
        kills[ant] = int(sim.state.counters[K_DEATHS + CURSOR])
    assert kills[True] >= 3 * max(kills[False], 1) and kills[True] >= 15, kills


def test_switching_the_cursor_source_forgets_the_old_target():
    """A source switched on mid-run (the viewer's mouse or bot) starts from a fresh look: the anticipating hunter
    does not take a position from before the switch for its target's last step."""
    from neuroevo.state import C_AIM_OK, C_PREV_ID, C_SEEN_OK

    sim = make("cursor", seed=2, overrides={"cursor.anticipates": True})
    sim.run(30)
    cur = sim.state.cursor
    assert cur[C_PREV_ID] >= 0 and cur[C_SEEN_OK] == 1.0  # the hunter is tracking its target
    sim.set_cursor_source("external")
    assert cur[C_PREV_ID] == -1.0 and cur[C_SEEN_OK] == 0.0 and cur[C_AIM_OK] == 0.0
    sim.run(5, cursor_rows=external_rows(5, 10.0, 10.0, True, False))
    sim.set_cursor_source("hunter")
    sim.step()
    assert cur[C_SEEN_OK] == 0.0  # one step seen since the switch: no velocity yet
    sim.step()
    assert cur[C_SEEN_OK] == 1.0


def test_learning_edges_short():
    """A short headless run already cuts edge deaths sharply (minute 1 vs minute 4)."""
    from neuroevo.observers import MinuteStats

    sim = make("edges", seed=1)
    stats = MinuteStats(sim)
    sim.add_observer(stats)
    sim.run(4 * 3600)
    edge = [r["deaths"]["edge"] for r in stats.rows]
    assert edge[3] * 4 < edge[0]


def test_generational_mode_rebuilds_population_each_generation():
    from neuroevo.state import K_GENERATION

    s = override(Settings(), {"agents": 20, "mode": "generational", "generation_s": 2.0, "elites": 2})
    sim = make("edges", settings=s, seed=4)
    sim.run(3 * 120 + 1)
    assert sim.state.counters[K_GENERATION] >= 3  # every 2 s, or sooner when all are dead
    assert sim.state.counters[K_BIRTHS] >= 3 * 20


def test_crossover_hall_of_fame_and_deep_nets_run_deterministically():
    s = override(Settings(), {"agents": 30, "crossover": 0.5, "hof_size": 4, "hof_prob": 0.5, "hidden": "8,8",
                              "selection": "tournament", "init_bias": 2.0})  # founders that die: the hof fills
    a, b = make("edges", settings=s, seed=9), make("edges", settings=s, seed=9)
    a.run(1200)
    b.run(1200)
    assert np.array_equal(a.genomes, b.genomes) and np.array_equal(a.hof, b.hof)
    assert (a.hof_fit > 0).all()  # the hall of fame filled up with real lifetimes
    assert a.genomes.shape[1] == a.layout.n_params == (10 * 8 + 8) + (8 * 8 + 8) + (8 * 2 + 2)


def test_generational_dead_stay_dead_until_the_generation_ends():
    s = override(Settings(), {"agents": 20, "mode": "generational", "generation_s": 1000.0, "init_bias": 0.1})
    sim = make("edges", settings=s, seed=4)
    sim.run(600)
    died = int(sim.state.counters[K_DEATHS + EDGE])
    assert died > 0 and int((~sim.state.alive).sum()) == died


def test_serial_and_parallel_kernels_give_the_same_world():
    """The viewer and small runs step serially, big ones in parallel: the choice must never change a run."""
    s = override(Settings(), {"agents": 300, "cursor.source": "hunter"})
    a, b = make("edges", settings=s, seed=6), make("edges", settings=s, seed=6)
    a.set_threads(1)
    b.set_threads(2)
    assert not a.parallel and b.parallel
    a.run(600)
    b.run(600)
    assert a.state.counters[K_DEATHS + EDGE] > 0
    np.testing.assert_array_equal(a.genomes, b.genomes)
    np.testing.assert_array_equal(a.state.pos, b.state.pos)


def test_make_builds_the_scenario_with_settings_and_hooks():
    sim = make("sweeper", seed=3, agents=30, sigma=0.05)
    assert sim.scenario == "sweeper" and sim.state.n == 30 and sim.settings.evolution.sigma == 0.05
    assert sim.hooks is not None and "on_step" in type(sim.hooks).hooks_defined()
    with pytest.raises(SettingsError, match="did you mean 'sigma'"):
        make("edges", sigmaa=0.1)


def test_observers_get_death_reports_only_when_they_ask():
    class Counter:
        every = 120

        def __init__(self, wants):
            self.wants_events, self.rows = wants, 0

        def observe(self, sim):
            self.rows += len(sim.last_events)

    sim = make("edges", seed=4, init_weights=1.0, init_bias=2.0)  # founders that die (blind: none in seconds 20-60)
    quiet, told = Counter(False), Counter(True)
    sim.add_observer(quiet)
    sim.run(1200)
    assert quiet.rows == 0
    sim.add_observer(told)
    before = sum(sim.deaths_by_cause().values())
    sim.run(2400)
    assert told.rows == sum(sim.deaths_by_cause().values()) - before > 0
    sim.remove_observer(told)
    with pytest.raises(ValueError, match="every"):
        sim.add_observer(type("Bad", (), {"every": 0, "observe": lambda self, s: None})())


def test_steered_agents_follow_the_outside_and_mode_none_keeps_the_dead_dead():
    sim = make("edges", seed=5, agents=20, mode="none", init_bias=2.0)  # founders that die
    mask = np.zeros(20, bool)
    mask[:5] = True
    actions = np.zeros((20, 2), np.float32)
    actions[:, 1] = 1.0  # full thrust, no turn
    sim.steer(actions, mask)
    h0 = sim.state.heading.copy()
    sim.run(30)
    st = sim.state
    steered = mask & st.alive
    assert steered.any() and np.all(st.heading[steered] == h0[steered])
    assert np.allclose(sim.outputs[steered], [0.0, 1.0])
    sim.steer(None)
    sim.run(3000)
    assert sim.births == 0 and sim.state.alive.sum() < 20


class _Flipper:
    """A PathChooser stand-in that switches path every few steps (pieces of 1 to 7 steps)."""

    def __init__(self) -> None:
        self.k = 0

    def next(self, now: float, remaining: int) -> tuple[bool, int]:
        self.k += 1
        return self.k % 2 == 1, min(remaining, 1 + self.k % 7)

    def measured(self, path: bool, steps: int, seconds: float, now: float) -> None:
        pass


def test_switching_paths_mid_run_changes_nothing():
    """The default (threads chosen at run time) cuts a run into pieces on either path: same world as one thread."""
    import numba

    if numba.get_num_threads() < 2:
        pytest.skip("one thread: the path is never chosen at run time")
    s = override(Settings(), {"agents": 120, "cursor.source": "hunter"})
    a, b = make("edges", settings=s, seed=7), make("edges", settings=s, seed=7)
    a.set_threads(1)
    b.chooser = _Flipper()
    a.run(400)
    b.run(400)
    assert b.chooser.k > 100
    assert a.state.counters[K_DEATHS + EDGE] > 0
    np.testing.assert_array_equal(a.genomes, b.genomes)
    np.testing.assert_array_equal(a.state.pos, b.state.pos)
    np.testing.assert_array_equal(a.state.counters, b.state.counters)
    assert a.rng.bit_generator.state == b.rng.bit_generator.state


def test_path_chooser_takes_the_faster_path_and_rechecks():
    from neuroevo.sim import PathChooser

    c = PathChooser(probe=0.003, piece=0.05, recheck=1.0, min_steps=16)

    def piece(now, remaining, seconds_per_step):
        """Hand out a piece and report it measured at seconds_per_step; returns (path, steps)."""
        path, m = c.next(now, remaining)
        c.measured(path, m, m * seconds_per_step, now)
        return path, m

    assert piece(0.0, 1000, 1.0) == (False, 1)  # a first, untimed step on a path (1 s: it is not counted)
    assert piece(0.0, 1000, 1e-4) == (False, 16)  # serial: 100 us per step
    assert piece(0.0, 1000, 1.0) == (True, 1)  # the switch to the other path: an untimed step again
    assert piece(0.0, 1000, 1e-5) == (True, 30)  # team: 10 us per step (a first probe as long as serial's, 3 ms)
    assert c.next(0.5, 100_000) == (True, 5000)  # a 50 ms piece on the faster path
    c.measured(True, 5000, 0.05, 0.5)
    assert piece(1.5, 100_000, 1.0) == (False, 1)  # a second later the other path is timed: warm-up first ...
    assert piece(1.5, 100_000, 1e-4) == (False, 30)  # ... then a 3 ms probe; serial loses: a first loss is
    assert piece(1.6, 100_000, 1e-5) == (True, 1)  # timed again soon, after min_gap (the switch back: untimed)
    assert c.next(1.7, 100_000)[0] and not c.next(1.8, 100_000)[0]
    c.measured(False, 1, 1.0, 1.8)  # warm-up
    assert piece(1.8, 100_000, 1e-4) == (False, 30)  # it loses again: timed after 1 s (recheck) ...
    assert piece(1.9, 100_000, 1.0) == (True, 1)
    assert c.next(2.7, 100_000)[0] and not c.next(2.85, 100_000)[0]
    c.measured(False, 1, 1.0, 2.85)
    assert piece(2.85, 100_000, 1e-4) == (False, 30)  # ... then after 2 s, 4 s, up to max_recheck
    assert piece(2.9, 100_000, 1.0) == (True, 1)
    assert c.next(4.8, 100_000)[0] and not c.next(4.9, 100_000)[0]
    c.measured(False, 1, 1.0, 4.9)
    assert piece(4.9, 100_000, 1e-4) == (False, 30)
    assert c.wait[False] == 4.0
    assert piece(4.95, 100_000, 1.0) == (True, 1)
    assert c.next(5.0, 100_000)[0]
    c.measured(True, 100, 0.05, 5.0)  # the parallel path got 50x slower: one slow piece may be a moment ...
    assert c.next(5.0, 100_000) == (True, 100)  # (the next piece is 50 ms at the slow speed, not 50x longer)
    c.measured(True, 100, 0.05, 5.0)  # ... two mean a core was taken
    assert not c.next(5.05, 100_000)[0]  # serial now runs (after its untimed first step)
    c.measured(False, 1, 1.0, 5.05)
    assert piece(5.1, 100_000, 1e-4)[0] is False
    assert c.next(5.3, 100_000)[0]  # and the team is timed again 0.25 s after its first loss, not seconds later
    big = PathChooser()  # slow steps (a big world): probes of 64 steps, however long 10 ms would be
    assert big.next(0.0, 1000) == (False, 1)
    big.measured(False, 1, 1.0, 0.0)
    assert big.next(0.0, 1000) == (False, 64)
    big.measured(False, 64, 64 * 1e-3, 0.0)
    big.next(0.0, 1000)  # the other path's untimed step
    big.measured(True, 1, 1.0, 0.0)
    assert big.next(0.0, 1000) == (True, 64)  # (10 ms at 1 ms a step would be 10)


def test_path_chooser_warms_a_path_up_in_one_step_calls_too():
    """Stepping one step per call (an environment's step()): the first step after a switch is still untimed."""
    from neuroevo.sim import PathChooser

    c = PathChooser(probe=0.003, piece=0.05, recheck=1.0, min_steps=16)
    seen = []
    for _ in range(40):
        path, m = c.next(0.0, 1)
        assert m == 1
        c.measured(path, 1, 1.0 if c._warming else (1e-4 if path else 2e-4), 0.0)  # a cold step: 1 s
        seen.append(path)
    assert c.cost[False] == pytest.approx(2e-4) and c.cost[True] == pytest.approx(1e-4)  # no cold step counted
    assert seen[-1] is True  # the faster path runs
