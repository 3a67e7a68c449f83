"""The team step: helper threads share each step's agents with the calling thread, chunk by chunk (step.agents_team,
threads.Team). Whoever computes a chunk, whenever, the world must come out bit-identical to the serial step."""

from __future__ import annotations

import hashlib
import multiprocessing
import threading

import numba
import numpy as np
import pytest

from neuroevo import atomics
from neuroevo.scenario import Scenario
from neuroevo.sim import make
from neuroevo.state import C_CLICKED
from neuroevo.teamstep import (
    SLEEP_MIN_CHUNK,
    SPIN_TICKS,
    T_DONE,
    T_NAPS,
    T_NAPS_TIMED_OUT,
    T_WAITING,
    T_WIN,
    T_WINDOWS,
    TEAM_WORDS,
    wait_a_little,
)
from neuroevo.threads import TEAM


def _digest(sim) -> str:
    h = hashlib.sha256()
    for a in (sim.genomes, sim.hof, sim.hof_fit, *sim.state.arrays().values(), *sim.species):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(sim.rng.bit_generator.state).encode())
    return h.hexdigest()


def _world(name: str, threads: int, chunk: int = 0, **kw):
    sim = make(name, seed=11, **kw)
    sim.set_threads(threads)
    sim.team_chunk = chunk
    return sim


CASES = [  # (scenario, settings, steps): the cursor, the grid (contact, neighbours, teams), icons
    ("cursor", {"agents": 90, "init_weights": 1.0}, 500),
    ("cursor", {"agents": 70, "replace": "least_agile", "replace_s": 0.5, "replace_age_s": 1.0}, 500),
    ("crowd", {"agents": 260}, 300),
    ("teams", {"agents": 200}, 300),
    ("icons", {"agents": 120, "init_weights": 1.0}, 400),
]


@pytest.mark.parametrize(("name", "kw", "steps"), CASES)
def test_team_step_equals_the_serial_step_for_any_chunk_and_thread_count(name, kw, steps):
    ref = _world(name, 1, **kw)
    ref.run(steps)
    assert sum(ref.deaths_by_cause().values()) > 0  # births ran too
    if kw.get("replace"):
        assert ref.deaths_by_cause().get("rule", 0) > 0  # and the replacement
    want = _digest(ref)
    for threads, chunk in ((2, 1), (2, 7), (3, 16), (2, 0)):
        sim = _world(name, threads, chunk, **kw)
        assert sim.parallel
        sim.run(steps)
        assert _digest(sim) == want, (threads, chunk)


class _Hooked(Scenario):
    """Every hook at once: selection on a fitness of its own (hook_fit, not age), deaths it asks for, an extra
    input; the compiled step runs in calls of hook_every steps between them."""

    cursor = {"source": "none"}
    hook_every = 45
    n_extra_inputs = 1

    def fitness(self, sim):
        st = sim.state
        return np.hypot(st.pos[:, 0] - 640.0, st.pos[:, 1] - 360.0).astype(np.float64)

    def extra_deaths(self, sim):
        return (sim.state.genome_id % 7 == sim.step_count % 7) & (sim.step_count % 90 == 0)

    def extra_inputs(self, sim):
        return (sim.state.pos[:, :1] / 1280.0).astype(np.float32)


class _Deaths:
    """An observer that asks for the death reports (sim.run_events)."""

    every = 10**9
    wants_events = True

    def observe(self, sim):
        pass


SMALL = {"init_weights": 1.0, "width": 200, "height": 150, "birth_speed": 300.0}  # many deaths, some at once
WINDOW_CASES = [  # (scenario, settings, steps): worlds whose agents are independent between births (run_window)
    ("edges", {"agents": 90, **SMALL}, 900),
    ("edges", {"agents": 64, **SMALL, "niching": "species", "crossover": 0.5, "hof_size": 5, "min_parent_age_s": 0.5,
               "selection": "tournament"}, 900),
    ("edges", {"agents": 75, **SMALL, "teams": 3}, 900),
    ("edges", {"agents": 60, "init_weights": 1.0}, 3000),  # rare deaths: long windows
    ("icons", {"agents": 120, "init_weights": 1.0}, 900),
    ("edges", {"agents": 3000, **SMALL, "width": 300, "height": 200}, 90),
    # periodic replacement that removes nobody without a cursor (it only clears the click flag)
    ("edges", {"agents": 70, **SMALL, "replace_s": 0.2, "replace_age_s": 0.1}, 900),
    ("edges", {"agents": 70, **SMALL, "replace": "random", "replace_while": "clicks", "replace_s": 0.2,
               "replace_age_s": 0.1}, 900),
]


@pytest.mark.parametrize(("name", "kw", "steps"), WINDOW_CASES)
def test_team_steps_in_windows_equal_the_serial_step(name, kw, steps):
    """Where no agent reads another, team calls run their steps in windows: each thread takes its agents through
    many steps, and deaths are handled afterwards in the serial order; the world must come out bit-identical,
    whatever the chunks and however many deaths fall into a window."""
    def run(sim):
        sim.add_observer(_Deaths())
        events = []
        for k in range(3):  # several calls: each begins with an ordinary step, then windows
            sim.state.cursor[C_CLICKED] = float(k == 1)  # a click before the call (replacement clears it)
            sim.run(steps // 3)
            events.append(sim.run_events)
        for k in range(30):  # calls of 1 to 3 steps
            sim.run(1 + k % 3)
            events.append(sim.run_events)
        return _digest(sim), np.concatenate(events)

    ref = _world(name, 1, **kw)
    want, events = run(ref)
    assert len(events) > 5  # windows hold deaths (in the small worlds hundreds, some at the same step)
    if kw.get("replace_while") == "clicks":
        assert ref.deaths_by_cause()["rule"] > 0  # the click before the second call had one removed
    for threads, chunk in ((2, 1), (2, 7), (3, 16), (2, 0)):
        sim = _world(name, threads, chunk, **kw)
        got, got_events = run(sim)
        assert int(sim._scr.team[T_WINDOWS]) > 0  # the windows ran
        assert got == want, (threads, chunk)
        np.testing.assert_array_equal(got_events, events)


def test_windows_with_every_hook_equal_the_serial_step():
    """A scenario's fitness, deaths and inputs between calls: the same bits in windows."""
    digests = []
    for threads in (1, 2):
        sim = make(_Hooked, seed=5, agents=80, **SMALL)
        sim.set_threads(threads)
        sim.run(2000)
        assert sim._use_hook_fit() and sim.deaths_by_cause().get("rule", 0) > 0
        if threads == 2:
            assert int(sim._scr.team[T_WINDOWS]) > 0
        digests.append(_digest(sim))
    assert digests[0] == digests[1]


def test_windows_are_not_used_where_agents_read_each_other(tmp_path):
    """A cursor source (the hunter reads every agent, random clicks draw from the run's generator), the grid
    (contact), replacement that removes agents, and recording keep the step-by-step team step."""
    from neuroevo.replay import Recorder

    cases = (("cursor", {"agents": 90}), ("crowd", {"agents": 260}), ("edges", {"agents": 90, "source": "random"}),
             ("edges", {"agents": 90, "replace_while": "always", "replace_s": 0.2}))
    for name, kw in cases:
        sim = _world(name, 2, **kw)
        sim.run(300)
        assert int(sim._scr.team[T_WINDOWS]) == 0, name
    sim = _world("edges", 2, agents=90)
    rec = Recorder(sim, tmp_path / "replay")
    sim.add_observer(rec)
    sim.run(300)
    rec.close()
    assert int(sim._scr.team[T_WINDOWS]) == 0
    sim.remove_observer(rec)
    sim.run(300)
    assert int(sim._scr.team[T_WINDOWS]) > 0  # the same world without the recorder


def test_team_step_without_helpers_and_with_late_helpers():
    """A call that finds the helpers busy (another world stepping in another thread) works every chunk alone;
    many short calls (helpers that join late or not at all) change nothing either."""
    kw = {"agents": 70, "init_weights": 1.0}
    ref = _world("cursor", 1, **kw)
    ref.run(600)
    alone = _world("cursor", 2, 5, **kw)
    with TEAM._lock:  # the helpers are taken
        alone.run(600)
    assert _digest(alone) == _digest(ref)
    short = _world("cursor", 2, 5, **kw)
    for _ in range(200):
        short.run(3)
    assert _digest(short) == _digest(ref)


def test_two_worlds_stepping_at_once_in_two_threads():
    kw = {"agents": 64, "init_weights": 1.0}
    ref = _world("cursor", 1, **kw)
    ref.run(800)
    sims = [_world("cursor", 2, 4, **kw) for _ in range(2)]
    threads = [threading.Thread(target=lambda s=s: [s.run(40) for _ in range(20)]) for s in sims]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [_digest(s) for s in sims] == [_digest(ref)] * 2


def test_helpers_take_chunks():
    from neuroevo.teamstep import T_HELPED

    sim = _world("edges", 2, 8, agents=200)
    for _ in range(2000):  # calls until a helper got a core and a chunk (the first call nearly always)
        sim.run(20)
        if sim._scr.team[T_HELPED] > 0:
            break
    assert sim._scr.team[T_HELPED] > 0


def test_helper_threads_are_shared_and_leave_no_call_behind():
    before = threading.active_count()
    for seed in range(6):
        sim = make("edges", seed=seed, agents=40)
        sim.set_threads(3)
        sim.run(50)
    # one pool for the process: at most two helpers more, whatever the number of worlds
    assert threading.active_count() <= before + 2
    assert TEAM._running == 0 and TEAM._job[1] is None  # every helper left its call; no arguments kept


def _forked_digest(_: int) -> str:
    sim = _world("cursor", 2, 3, agents=50, init_weights=1.0)
    sim.run(300)
    return _digest(sim)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_a_forked_child_starts_its_own_helpers():
    sim = _world("cursor", 2, 3, agents=50, init_weights=1.0)
    sim.run(300)  # the parent's helpers exist before the fork
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.map(_forked_digest, [0])[0]
    assert got == _digest(sim)


@numba.njit(nogil=True)
def _count(ctl, n):
    """Claim 0 .. n-1 one at a time by compare-and-swap; count the claims in ctl[8] by atomic adds."""
    mine = 0
    while True:
        v = atomics.load(ctl, 0)
        if v >= n:
            return mine
        if atomics.cas(ctl, 0, v, v + 1):
            atomics.add(ctl, 8, 1)
            mine += 1
        else:
            atomics.pause()


def test_atomics_lose_no_update_between_threads():
    ctl = np.zeros(16, np.int64)
    _count(np.zeros(16, np.int64), 1)  # compile first
    got: list[int] = []
    ts = [threading.Thread(target=lambda: got.append(_count(ctl, 300_000))) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sum(got) == 300_000 and ctl[0] == 300_000 and ctl[8] == 300_000
    atomics_store_and_load = numba.njit(lambda a: (atomics.store(a, 3, 7), atomics.load(a, 3)))
    assert atomics_store_and_load(ctl)[1] == 7



@numba.njit(nogil=True)
def _sleep_until_set(a, timeout_ns):
    """Sleep (atomics.sleep_while) until a[0] is no longer 0; returns how many sleeps it took."""
    naps = 0
    while atomics.load(a, 0) == 0:
        atomics.sleep_while(a, 0, 0, timeout_ns)
        naps += 1
    return naps


@numba.njit(nogil=True)
def _set_and_wake(a):
    atomics.store(a, 0, 1)
    atomics.wake_all(a, 0)


_sleep_once = numba.njit(lambda a, seen, timeout_ns: atomics.sleep_while(a, 0, seen, timeout_ns))


def test_a_sleeping_thread_wakes_when_its_word_changes():
    """sleep_while returns at once when the word no longer holds the value, when its timeout ends, and when a
    wake_all comes after the word changed (a missed wake would sleep the whole 60 s)."""
    import time

    a = np.zeros(8, np.int64)
    a[0] = 5
    futex = atomics._FUTEX
    assert _sleep_once(a, 0, 60_000_000_000) == (-11 if futex else 0)  # EAGAIN: not 0 any more
    # only the low halves are compared: this sleeps until its timeout
    assert _sleep_once(a, 5 + (7 << 32), 20_000_000) == (-atomics.ETIMEDOUT if futex else 0)
    a[0] = 0
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(_sleep_until_set(a, 60_000_000_000)), daemon=True)
    t.start()
    time.sleep(0.2)  # most likely asleep by now; if not, it reads the word before it sleeps and returns at once
    _set_and_wake(a)
    t.join(20)
    assert not t.is_alive() and got and got[0] >= (1 if futex else 0)


@numba.njit
def _one_late_try(ctl):
    """One try of the caller's wait for the helpers' chunks, begun twice the spin ago, the word unchanged."""
    return wait_a_little(ctl, T_DONE, atomics.load(ctl, T_DONE), T_WAITING, atomics.ticks() - 2 * SPIN_TICKS)


def test_a_wait_past_its_spin_sleeps_only_in_steps_of_big_chunks():
    ctl = np.zeros(TEAM_WORDS, np.int64)
    ctl[T_WIN + 2] = SLEEP_MIN_CHUNK - 1  # the last epoch's agents per chunk: one step
    assert not _one_late_try(ctl) and ctl[T_NAPS] == 0  # small chunks: it gave its core away instead
    ctl[T_WIN + 2] = SLEEP_MIN_CHUNK
    assert _one_late_try(ctl)  # slept until its timeout (NAP_NS), as nothing changed the word
    assert ctl[T_NAPS] == 1 and ctl[T_NAPS_TIMED_OUT] == 1 and ctl[T_WAITING] == 0
    ctl[T_WIN : T_WIN + 3] = (5, 105, 8)  # a window of 100 steps, chunks of 8 agents
    assert _one_late_try(ctl) and ctl[T_NAPS] == 2


@pytest.mark.parametrize(("name", "kw", "steps"), [CASES[0], CASES[2]])
def test_team_step_with_every_wait_asleep_equals_the_serial_step(name, kw, steps):
    """The waits of the team step sleep at once: the world comes out as the serial step's, the threads did sleep,
    and every sleep ended because its word changed (none timed out)."""
    from neuroevo.teamstep import T_NAP_AT_ONCE

    ref = _world(name, 1, **kw)
    ref.run(steps)
    sim = _world(name, 2, 7, **kw)
    sim.run(1)
    ctl = sim._scr.team
    ctl[T_NAP_AT_ONCE] = 1
    sim.run(steps - 1)
    assert _digest(sim) == _digest(ref)
    assert ctl[T_NAPS] > 0 and ctl[T_NAPS_TIMED_OUT] == 0


def test_an_error_in_a_helper_is_raised_and_the_helpers_stay_usable():
    """A helper whose compiled call fails hands the error to the call it served and lives on (a dead helper made
    every later team step wait forever)."""
    import time

    def call() -> int:  # stands in for run_chunk: lasts until the helper has failed (or 10 s)
        t = time.monotonic()
        while not TEAM._errors and time.monotonic() - t < 10:
            time.sleep(0.001)
        return 5

    ctl = np.zeros(TEAM_WORDS, np.int64)
    for _ in range(2):  # twice: the helper that failed serves the next call
        with pytest.raises(TypeError, match="not enough arguments"):
            TEAM.run(1, ctl, 1, call, (), (None,))  # team_helper(None): a TypeError in the helper
    kw = {"agents": 40, "init_weights": 1.0}
    ref = _world("cursor", 1, **kw)
    ref.run(200)
    sim = _world("cursor", 2, 5, **kw)
    sim.run(200)
    assert _digest(sim) == _digest(ref)


def test_a_helper_left_inside_an_interrupted_call_is_stopped_before_the_next():
    """If a call ends without stopping its helpers (Ctrl-C at the wrong moment), the next call stops them and waits
    for them first: a helper never works on another call's arrays."""
    import time

    from neuroevo.teamstep import T_STOP

    kw = {"agents": 60, "init_weights": 1.0}
    ref = _world("cursor", 1, **kw)
    ref.run(300)
    sim = _world("cursor", 2, 6, **kw)
    sim.run(100)
    # what an interrupted call leaves: a helper inside team_helper on this world's control words, not told to stop
    ctl = sim._scr.team
    ctl[T_STOP] = 0
    with TEAM._cond:
        TEAM._gen += 1
        brains = sim._scr  # any arrays: the stale call's own (it never claims: no chunk is open)
        TEAM._job, TEAM._ctl = (TEAM._gen, TEAM._job[1], 1), ctl
    from neuroevo.step import Brains, Env

    b = Brains(sim.genomes, sim.hof, sim.hof_fit, sim._sizes, sim._offsets)
    env = Env(sim.icons, sim._no_ext, sim._forced, sim._no_events, sim._steer, sim._actions)
    with TEAM._cond:
        TEAM._job = (TEAM._gen + 1, (sim.state, b, env, brains, sim.params), 1)
        TEAM._gen += 1
        TEAM._cond.notify_all()
    t = time.monotonic()
    while TEAM._running != 1 and time.monotonic() - t < 10:
        time.sleep(0.001)
    assert TEAM._running == 1  # the helper is inside, spinning on a call that will publish nothing
    sim.run(200)  # the next call drains it first
    assert TEAM._running == 0
    assert _digest(sim) == _digest(ref)
