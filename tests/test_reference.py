"""Kernels against the numpy references (neuroevo/reference.py): each piece, then the whole step.

The whole-step test feeds the reference the kernel's own state and Generator every step and asks for the same
deaths, births, ids, genomes, counters and Generator state, exactly (numba's Generator draws what numpy's draws), and
positions to float rounding. Statistical tests cover what the Generator cannot pin down (selection frequencies).
"""


import numba
import numpy as np
import pytest

from neuroevo.brain import Layout, fast_tanh, forward_pair, forward_parallel, forward_serial, init_genomes
from neuroevo.config import Settings, make_params, override
from neuroevo.evolution import RANK, ROULETTE, SUS, TOURNAMENT, TRUNCATION, mutate, select
from neuroevo.grid import INF, Grid, clear_of_agents, contact_cause, grid_build, scan_range
from neuroevo.obstacles import nearest_icon
from neuroevo.physics import heading_cs
from neuroevo.reference import (
    clear_of_agents_np,
    contacts_np,
    fast_tanh_np,
    forward_np,
    hazards_np,
    heading_cs_np,
    move_np,
    mutate_np,
    nearest_icon_np,
    neighbours_np,
    sense_np,
)
from neuroevo.reference_step import step_np
from neuroevo.sensors import N_INPUTS
from neuroevo.sim import make
from neuroevo.state import CROWD, CURSOR, EDGE, ICON, K_DEATHS, NONE, RULE, TEAM, WorldState

# ---- the whole step, exactly ----------------------------------------------------------------------------------------
WORLDS = {
    "edges": ("edges", {}),
    "cursor (hunter)": ("cursor", {}),
    "anticipating hunter": ("cursor", {"anticipates": True, "retarget_s": 0.3, "kill_radius": 60.0}),
    "random clicks, tournament, crossover, hall of fame": (
        "edges", {"cursor.source": "random", "random_rate": 20.0, "selection": "tournament", "crossover": 0.5,
                  "hof_size": 4, "hof_prob": 0.3}),
    "sus, world frame, raw": ("edges", {"selection": "sus", "frame": "world", "encoding": "raw"}),
    "rank, two layers": ("edges", {"selection": "rank", "hidden": "8,4"}),
    "truncation": ("edges", {"selection": "truncation"}),
    "crowd (contact, clearance)": ("crowd", {}),
    "teams": ("teams", {}),
    "icons": ("icons", {}),
    "generational": ("edges", {"mode": "generational", "generation_s": 0.5, "crossover": 0.3}),
    "mouse model": ("edges", {"cursor.source": "mouse", "mouse_lag_s": 0.05, "kill_radius": 60.0}),
    "growing, eligibility": ("edges", {"hidden_start": 2, "add_unit_rate": 0.5, "remove_unit_rate": 0.3,
                                       "min_parent_age_s": 0.5}),
    "species": ("edges", {"niching": "species", "species_target": 4, "min_parent_age_s": 0.2}),
    "replacement, least agile, hunter": ("cursor", {"replace": "least_agile", "replace_s": 0.1, "replace_age_s": 0.2}),
    "replacement after clicks, random cursor": ("edges", {"replace": "least_agile", "replace_s": 0.1,
                                                          "replace_age_s": 0.1, "replace_while": "clicks",
                                                          "cursor.source": "random", "random_rate": 5.0,
                                                          "init_weights": 1.0}),
    "replacement, random, always, teams": ("teams", {"replace": "random", "replace_s": 0.05, "replace_age_s": 0.1,
                                                     "replace_while": "always"}),
    "species, growing, generational, crossover": (
        "edges", {"niching": "species", "hidden_start": 2, "add_unit_rate": 0.5, "mode": "generational",
                  "generation_s": 0.5, "crossover": 0.5, "cursor.source": "random", "random_rate": 20.0}),
    "growing, two layers, crossover, generational": (
        "edges", {"hidden": "8,4", "hidden_start": 1, "add_unit_rate": 0.7, "remove_unit_rate": 0.2,
                  "crossover": 0.5, "mode": "generational", "generation_s": 0.5,
                  "init_weights": 1.0, "init_bias": 2.0}),  # founders that die (blind: 3 deaths in 120 steps)
}


def copy_world(sim):
    """Copies of a Simulation's state, genomes, hall of fame, species and Generator, for step_np to work on."""
    w = WorldState(**{k: v.copy() for k, v in sim.state.arrays().items()})
    rng = np.random.default_rng()
    rng.bit_generator.state = sim.rng.bit_generator.state
    sp = type(sim.species)(*(a.copy() for a in sim.species))
    return w, sim.genomes.copy(), sim.hof.copy(), sim.hof_fit.copy(), rng, sp


@pytest.fixture(params=sorted(WORLDS))
def world(request):
    """A small, busy world: agents scattered with random speeds, so deaths and births happen every few steps."""
    name, kv = WORLDS[request.param]
    sim = make(name, seed=7, agents=60, **kv)
    rng = np.random.default_rng(1)
    st = sim.state
    st.pos[:] = rng.uniform([10, 10], [1270, 710], (st.n, 2)).astype(np.float32)
    st.speed[:] = rng.uniform(20, 300, st.n).astype(np.float32)
    return sim.compile()  # (founds the species with niching)


def test_whole_step_matches_reference_exactly(world):
    sim, births, deaths, removed = world, 0, 0, 0
    for _ in range(120):
        w, g, hof, hof_fit, rng, sp = copy_world(sim)
        died = step_np(w, g, hof, hof_fit, sim.icons, sim.layout, sim.params, rng, species=sp)
        sim.step()
        st = sim.state
        for k in ("alive", "cause", "age", "genome_id", "parent_id", "team", "counters", "cursor"):
            assert np.array_equal(getattr(st, k), getattr(w, k)), k
        for k, a in sim.species._asdict().items():
            assert np.array_equal(a, getattr(sp, k)), f"species {k}"
        assert np.array_equal(sim.genomes, g) and np.array_equal(sim.hof, hof) and np.array_equal(sim.hof_fit, hof_fit)
        assert sim.rng.bit_generator.state == rng.bit_generator.state
        np.testing.assert_allclose(st.pos, w.pos, atol=2e-3)
        np.testing.assert_allclose(st.speed, w.speed, atol=2e-3)
        np.testing.assert_allclose(st.acts, w.acts, atol=1e-4)
        np.testing.assert_allclose(st.agility, w.agility, rtol=1e-5, atol=1e-9)
        born = st.age == 0
        assert np.array_equal(st.pos[born], w.pos[born]) and np.array_equal(st.heading[born], w.heading[born])
        births += int(born.sum())
        deaths += len(died)
        removed += sum(c == RULE for _, c, _ in died)
    assert deaths > 5 and births > 5  # the comparison saw the births code at work
    if sim.params.replace_steps < 10:  # the replacement worlds (every 0.05-0.1 s): that code was at work too
        assert removed > 3


# ---- forward pass and sensors ---------------------------------------------------------------------------------------
def test_fast_tanh_close_to_tanh_and_matches_reference():
    x = np.linspace(-8, 8, 20001).astype(np.float32)
    ref = fast_tanh_np(x)
    assert np.max(np.abs(ref - np.tanh(x))) < 2e-4
    import numba

    @numba.njit
    def apply(v):
        out = np.empty_like(v)
        for i in range(v.shape[0]):
            out[i] = fast_tanh(v[i])
        return out

    np.testing.assert_allclose(apply(x), ref, atol=1e-6)


@pytest.mark.parametrize("hidden", [(16,), (8, 5), (3,), (24, 16)])
def test_forward_kernels_match_numpy(hidden, rng):
    layout = Layout((N_INPUTS, *hidden, 2))
    g = init_genomes(layout, 37, 1.0, rng)
    x = rng.uniform(-1, 1, (37, N_INPUTS)).astype(np.float32)
    ref = forward_np(layout, g, x)
    sizes, offsets = layout.arrays()
    for kernel in (forward_serial, forward_parallel):
        acts = np.zeros((37, layout.n_units), np.float32)
        acts[:, :N_INPUTS] = x
        kernel(g, acts, sizes, offsets)
        for layer, (off, n) in enumerate(zip(offsets, sizes)):
            np.testing.assert_allclose(acts[:, off : off + n], ref[layer], atol=2e-5)


@numba.njit
def _forward_pairs(genomes, acts, sizes, offsets, pairs):
    """forward_pair over rows (k, m) of pairs (k == m: one agent)."""
    for q in range(pairs.shape[0]):
        forward_pair(genomes, acts, pairs[q, 0], pairs[q, 1], sizes, offsets)


@pytest.mark.parametrize("hidden,gated", [((16,), False), ((8, 5), False), ((24, 16), True), ((12,), True),
                                          ((15,), True), ((7, 6), False), ((3, 14), True)])
def test_forward_vector_path_and_pairs_bit_identical(hidden, gated, rng):
    """The 8-, 4- and 2-unit vector blocks give the scalar path's numbers to the bit, alone or paired with any other
    agent, also with switched-off units (rows that are not contiguous take the scalar path). 15 units are blocks of
    8, 4 and 2 and one unit alone; the 2 outputs are one 2-unit block."""
    layout = Layout((N_INPUTS, *hidden, 2), gated=gated)
    n = 9
    g = init_genomes(layout, n, 1.0, rng)
    if gated:
        g[:, layout.n_weights :] = rng.random((n, layout.n_gates)) < 0.6
    x = rng.uniform(-1, 1, (n, N_INPUTS)).astype(np.float32)
    sizes, offsets = layout.arrays()
    wide_g = np.zeros((n, 2 * layout.n_params), np.float32)
    wide_g[:, ::2] = g
    wide_a = np.zeros((n, 2 * layout.n_units), np.float32)
    wide_a[:, : 2 * N_INPUTS : 2] = x
    scalar_g, scalar_a = wide_g[:, ::2], wide_a[:, ::2]  # strides[1] == 8: the scalar path
    assert scalar_g.strides[1] == 8 and np.array_equal(scalar_g, g)
    forward_serial(scalar_g, scalar_a, sizes, offsets)
    for pairs in ([[k, k] for k in range(n)], [[k, n - 1 - k] for k in range(n)], [[0, 3], [5, 1], [8, 8], [2, 7]]):
        acts = np.zeros((n, layout.n_units), np.float32)
        acts[:, :N_INPUTS] = x
        pairs = np.array(pairs, np.int64)
        _forward_pairs(g, acts, sizes, offsets, pairs)
        done = np.unique(pairs)
        assert np.array_equal(acts[done], scalar_a[done])
    if gated:  # switched-off units read 0
        off = np.concatenate([g[:, layout.n_weights :] <= 0.5, np.zeros((n, 2), bool)], axis=1)
        assert np.all(acts[:, N_INPUTS:][off] == 0.0)


@pytest.mark.parametrize("frame,encoding", [("ego", "inverse"), ("world", "inverse"), ("ego", "raw"), ("world", "raw"),
                                            ("ego", "raw_px")])
def test_one_step_matches_numpy_reference(frame, encoding):
    """Sensors, forward, physics and hazards of the compiled step against the numpy references."""
    s = override(Settings(), {"agents": 200, "frame": frame, "encoding": encoding, "cursor.source": "external"})
    sim = make("edges", settings=s, seed=3)
    st = sim.state
    rng = np.random.default_rng(0)
    # scatter agents, some right at the edges, with random speeds
    st.pos[:] = rng.uniform([0, 0], [1280, 720], (200, 2)).astype(np.float32)
    st.speed[:] = rng.uniform(20, 300, 200).astype(np.float32)
    pos0, h0, v0, g0 = st.pos.copy(), st.heading.copy(), st.speed.copy(), sim.genomes.copy()
    cur = (640.0, 360.0, 1.0, 1.0)
    p = make_params(s)
    inputs = sense_np(pos0, h0, v0, cur, p)
    acts = forward_np(sim.layout, g0, inputs)
    new_pos, new_h, new_v = move_np(pos0, h0, v0, acts[-1], p)
    causes = hazards_np(new_pos, cur[:2], True, p)
    deaths_before = st.counters.copy()
    sim.step(np.array([640.0, 360.0, 1.0, 1.0, 1.0]))
    assert p.n_in == sim.layout.n_in == (N_INPUTS if frame == "ego" else N_INPUTS + 2)  # world: + cos, sin heading
    np.testing.assert_allclose(st.acts[:, : p.n_in], inputs, atol=1e-5, rtol=1e-6)  # raw_px: float32 px
    np.testing.assert_allclose(st.acts[:, -2:], acts[-1], atol=5e-5)
    survived = causes == 0
    np.testing.assert_allclose(st.pos[survived], new_pos[survived], atol=1e-2)
    np.testing.assert_allclose(st.heading[survived], new_h[survived], atol=1e-4)
    np.testing.assert_allclose(st.speed[survived], new_v[survived], atol=1e-2)
    # each slot that the reference kills was replaced by a newborn carrying that cause
    assert np.array_equal(st.cause[~survived], causes[~survived])
    assert np.all(st.age[~survived] == 0) and np.all(st.alive)
    d = st.counters - deaths_before
    assert d[K_DEATHS + EDGE] == np.sum(causes == EDGE) > 0
    assert d[K_DEATHS + CURSOR] == np.sum(causes == CURSOR)


def test_inverse_inputs_grow_near_edges(params):
    pos = np.array([[640, 360], [30, 360], [12, 360]], np.float32)
    heading = np.array([np.pi, np.pi, np.pi], np.float32)  # facing the left wall
    x = sense_np(pos, heading, np.full(3, 100, np.float32), (0, 0, 0, 0), params)
    assert x[0, 0] < x[1, 0] < x[2, 0] <= 1.0
    raw = sense_np(pos, heading, np.full(3, 100, np.float32), (0, 0, 0, 0), params._replace(encoding=1))
    assert raw[0, 0] > raw[1, 0] > raw[2, 0] >= 0.0


@pytest.mark.parametrize("frame,encoding", [("ego", "inverse"), ("world", "raw")])
def test_one_step_with_every_sensor_matches_numpy(frame, encoding):
    """Icons, neighbours, teams and contact in the compiled step against the numpy references."""
    s = override(Settings(), {"agents": 400, "frame": frame, "encoding": encoding, "icons": 6, "teams": 2,
                              "contact": "teams", "sensors": "edges,cursor,self,icons,neighbours,team",
                              "neighbours": 2, "cursor.source": "external"})
    sim = make("edges", settings=s, seed=3)
    st = sim.state
    rng = np.random.default_rng(0)
    st.pos[:] = rng.uniform([0, 0], [1280, 720], (400, 2)).astype(np.float32)
    st.speed[:] = rng.uniform(20, 300, 400).astype(np.float32)
    pos0, h0, v0, g0 = st.pos.copy(), st.heading.copy(), st.speed.copy(), sim.genomes.copy()
    p = sim.params
    assert p.n_in == 5 + 4 + (1 if frame == "ego" else 3) + 3 + 6 + 6 == sim.layout.n_in
    cur = (640.0, 360.0, 1.0, 0.0)
    inputs = sense_np(pos0, h0, v0, cur, p, sim.icons, st.alive, st.team)
    out = forward_np(sim.layout, g0, inputs)[-1]
    new_pos, _, _ = move_np(pos0, h0, v0, out, p)
    contact = contacts_np(pos0, st.alive, st.team, p)  # touching where they start: they die before moving
    causes = np.where(contact == NONE, hazards_np(new_pos, cur[:2], False, p, sim.icons), contact)
    before = st.counters.copy()
    sim.step(np.array([640.0, 360.0, 1.0, 0.0, 0.0]))
    moved = contact == NONE
    np.testing.assert_allclose(st.acts[moved, : p.n_in], inputs[moved], atol=1e-5)
    for c in (EDGE, ICON, TEAM):
        assert st.counters[K_DEATHS + c] - before[K_DEATHS + c] == np.sum(causes == c)
    assert np.sum(causes == ICON) > 0 and np.sum(causes == TEAM) > 0  # the scattered start hits both
    assert np.array_equal(st.cause[causes != NONE], causes[causes != NONE])


def test_icon_distance_matches_reference():
    rng = np.random.default_rng(5)
    icons = np.array([[100, 100, 164, 164], [600, 300, 700, 320], [1000, 50, 1010, 600]], np.float32)
    pos = rng.uniform([0, 0], [1280, 720], (500, 2)).astype(np.float32)
    pos[:3] = [[120, 130], [164, 90], [650, 310]]  # inside, corner-near, inside

    @numba.njit
    def all_nearest(pos, icons):
        out = np.empty((pos.shape[0], 3))
        for i in range(pos.shape[0]):
            out[i, 0], out[i, 1], out[i, 2] = nearest_icon(pos[i, 0], pos[i, 1], icons)
        return out

    got = all_nearest(pos, icons)
    d, dx, dy = nearest_icon_np(pos, icons)
    np.testing.assert_allclose(got, np.stack([d, dx, dy], 1), atol=1e-4)
    assert got[0, 0] == 0 and got[2, 0] == 0 and abs(got[1, 0] - 10) < 1e-4


# ---- grid queries ---------------------------------------------------------------------------------------------------
@numba.njit
def _scan_all(pos, mask, team, p, k, query):
    n = pos.shape[0]
    start = np.zeros(p.grid_nx * p.grid_ny + 1, np.int64)
    items = np.empty(n, np.int64)
    fill = np.empty(p.grid_nx * p.grid_ny, np.int64)
    gxy = np.empty((n, 2), np.float32)
    gteam = np.empty(n, np.int8)
    grid_build(pos, mask, team, p, start, items, fill, gxy, gteam)
    kd2 = np.full((n, k), -7.0)  # rows scan_range leaves alone keep these
    kj = np.full((n, k), -7, np.int64)
    best = np.empty((n, 4), np.float64)
    contact = np.zeros(n, np.int8)
    near_d = np.full((n, 2), -7.0)
    near_j = np.full((n, 2), -7, np.int64)
    scan_range(0, n, query, pos, team, Grid(start, items, gxy, gteam, kd2, kj, near_d, near_j), p)
    for i in range(n):
        ds, do, js, jo = near_d[i, 0], near_d[i, 1], near_j[i, 0], near_j[i, 1]
        best[i, 0], best[i, 1], best[i, 2], best[i, 3] = ds, js, do, jo
        if mask[i]:
            contact[i] = contact_cause(ds, do, p)
    return kd2, kj, best, start, items, contact


def _crowded(n, seed, teams=3, contact="teams"):
    s = override(Settings(), {"agents": n, "teams": teams, "contact": contact, "neighbours": 3, "sense_radius": 70.0,
                              "sensors": "edges,self,neighbours,team"})
    rng = np.random.default_rng(seed)
    pos = rng.uniform([-20, -20], [1300, 740], (n, 2)).astype(np.float32)  # a few outside the world
    return s, make_params(s), pos, rng.random(n) < 0.9, (np.arange(n) % teams).astype(np.int8)


@pytest.mark.parametrize("seed", [0, 1])
def test_grid_neighbours_match_brute_force(seed):
    s, p, pos, mask, team = _crowded(700, seed)
    query = np.random.default_rng(5).random(pos.shape[0]) < 0.8  # agents asking (the living), others left alone
    kd2, kj, best, start, items, _ = _scan_all(pos, mask, team, p, 3, query)
    assert start[-1] == mask.sum() and sorted(items[: start[-1]]) == list(np.nonzero(mask)[0])
    rkd2, rkj, ds, js, do, jo = neighbours_np(pos, mask, team, p, 3)
    q = query
    np.testing.assert_allclose(kd2[q], rkd2[q], rtol=1e-6)
    assert np.array_equal(kj[q], rkj[q])
    assert np.array_equal(best[q, 1], js[q]) and np.array_equal(best[q, 3], jo[q])
    np.testing.assert_allclose(best[q][:, [0, 2]], np.stack([ds, do], 1)[q], rtol=1e-6)
    assert (kj[q, 0] >= 0).mean() > 0.5 and (kd2[q][kj[q] < 0] == INF).all()  # the test sees real neighbours
    assert (kd2[~q] == -7.0).all() and (kj[~q] == -7).all() and (best[~q] == -7).all()


@pytest.mark.parametrize("contact", ["all", "teams"])
def test_contact_deaths_match_brute_force(contact):
    s, p, pos, mask, team = _crowded(900, 2, teams=2, contact=contact)
    ref = contacts_np(pos, mask, team, p)
    assert (ref == (CROWD if contact == "all" else TEAM)).sum() > 20
    assert np.array_equal(_scan_all(pos, mask, team, p, 0, np.ones(pos.shape[0], np.bool_))[-1], ref)


def test_spawn_clearance_matches_reference():
    s, p, pos, mask, team = _crowded(800, 4, contact="all")
    assert p.spawn_clear == 32.0
    start = np.zeros(p.grid_nx * p.grid_ny + 1, np.int64)
    items, fill = np.empty(800, np.int64), np.empty(p.grid_nx * p.grid_ny, np.int64)
    gxy, gteam = np.empty((800, 2), np.float32), np.empty(800, np.int8)
    grid_build(pos, mask, team, p, start, items, fill, gxy, gteam)
    placed = np.nonzero(~mask)[0][:20]  # a few agents outside the grid, as newborns of this step are
    seen = np.concatenate([np.nonzero(mask)[0], placed])
    rng = np.random.default_rng(4)
    spots = rng.uniform(0, 700, (400, 2))
    got = [clear_of_agents(x, y, pos, start, items, placed, placed.size, p) for x, y in spots]
    ref = [clear_of_agents_np(x, y, pos, seen, p) for x, y in spots]
    assert got == ref and 20 < sum(got) < 380  # both outcomes occur


# ---- selection and mutation statistics ------------------------------------------------------------------------------
def _draw(method, fitness, eligible, n, rng, k=3, trunc=0.2):
    out = np.empty(n, np.int64)
    select(fitness, eligible, n, method, k, trunc, rng, out)
    return out


@pytest.mark.parametrize("method", [ROULETTE, SUS])
def test_roulette_picks_in_proportion_to_fitness(method, rng):
    fitness = np.array([0, 1, 2, 3, 4, 10], np.float64)
    eligible = np.ones(6, bool)
    counts = np.zeros(6)
    for _ in range(20):
        counts += np.bincount(_draw(method, fitness, eligible, 5000, rng), minlength=6)
    freq = counts / counts.sum()
    np.testing.assert_allclose(freq, fitness / fitness.sum(), atol=0.005)
    assert counts[0] == 0


def test_only_eligible_are_picked(rng):
    fitness = np.array([5, 5, 5, 5], np.float64)
    eligible = np.array([True, False, True, False])
    for method in (ROULETTE, SUS, RANK, TOURNAMENT, TRUNCATION):
        picks = _draw(method, fitness, eligible, 2000, rng)
        assert set(np.unique(picks)) <= {0, 2}


def test_rank_tournament_truncation_statistics(rng):
    fitness = np.array([1.0, 1000.0, 2.0, 3.0])  # ranks 1, 4, 2, 3
    eligible = np.ones(4, bool)
    rank = np.bincount(_draw(RANK, fitness, eligible, 100000, rng), minlength=4) / 100000
    np.testing.assert_allclose(rank, np.array([1, 4, 2, 3]) / 10, atol=0.01)
    tour = np.bincount(_draw(TOURNAMENT, fitness, eligible, 100000, rng, k=2), minlength=4) / 100000
    # best of 2 uniform draws: P(rank r of n) = (2r - 1) / n^2
    np.testing.assert_allclose(tour, np.array([1, 7, 3, 5]) / 16, atol=0.01)
    trunc = _draw(TRUNCATION, fitness, eligible, 1000, rng, trunc=0.25)
    assert set(np.unique(trunc)) == {1}


def test_zero_fitness_falls_back_to_uniform(rng):
    picks = _draw(ROULETTE, np.zeros(4), np.ones(4, bool), 40000, rng)
    np.testing.assert_allclose(np.bincount(picks, minlength=4) / 40000, 0.25, atol=0.01)


@pytest.mark.parametrize("rate,sigma", [(0.1, 0.2), (0.5, 1.0), (1.0, 0.05)])
def test_mutation_statistics_match_reference(rate, sigma, rng):
    n = 200000
    g = np.zeros(n, np.float32)
    mutate(g, rate, sigma, rng)
    ref = mutate_np(np.zeros(n, np.float32), rate, sigma, rng)
    for v in (g, ref):
        changed = v != 0
        assert abs(changed.mean() - rate) < 0.01
        assert abs(v[changed].std() - sigma) < 0.02 * sigma + 1e-3
        assert abs(v[changed].mean()) < 0.02 * sigma + 1e-3


def test_zero_rate_leaves_genome_alone(rng):
    g = np.ones(100, np.float32)
    mutate(g, 0.0, 1.0, rng)
    assert np.all(g == 1)


@numba.njit
def _headings_cs(h):
    out = np.empty((h.shape[0], 2))
    for i in range(h.shape[0]):
        out[i, 0], out[i, 1] = heading_cs(h[i])
    return out


def test_heading_cs_matches_its_reference_to_the_bit_and_the_c_library_closely():
    rng = np.random.default_rng(7)
    special = np.float32([-np.pi, np.pi, 0.0, np.pi / 2, -np.pi / 2, np.pi / 4, -np.pi / 4, 3 * np.pi / 4,
                          -3 * np.pi / 4, 1e-30, -1e-30, 1e-45])
    # float32 headings around the odd multiples of pi/4, where the reduction switches quadrant
    around = np.float32([np.nextafter(np.float32(b), np.float32(b) + np.float32(d)) for b in
                         (-3 * np.pi / 4, -np.pi / 4, np.pi / 4, 3 * np.pi / 4) for d in (-1, 1)])
    h = np.concatenate([rng.uniform(-np.pi, np.pi, 200_000).astype(np.float32), special, around])
    got = _headings_cs(h)
    c, s = heading_cs_np(h)
    assert np.array_equal(got[:, 0].view(np.uint64), c.view(np.uint64))
    assert np.array_equal(got[:, 1].view(np.uint64), s.view(np.uint64))
    hd = h.astype(np.float64)
    assert np.abs(c - np.cos(hd)).max() <= 2.3e-16 and np.abs(s - np.sin(hd)).max() <= 2.3e-16
    assert np.all(np.abs(c) <= 1.0) and np.all(np.abs(s) <= 1.0)


def test_heading_cs_outside_the_usual_range():
    """A hook may set any heading: far ones are wrapped first (still a unit vector, equal to the reference to the
    bit), inf and nan give nan as the C library does, and -0.0 keeps its sign in the sine."""
    far = np.float32([4.0, -4.0, 7.5, -13.5, 100.0, -1e3, 1e6, -3e9, 1e19, -3e38])
    got = _headings_cs(far)
    c, s = heading_cs_np(far)
    assert np.array_equal(got[:, 0].view(np.uint64), c.view(np.uint64))
    assert np.array_equal(got[:, 1].view(np.uint64), s.view(np.uint64))
    assert np.allclose(c * c + s * s, 1.0, atol=1e-12)
    hd = far[:6].astype(np.float64)  # where the wrap is exact enough to compare with the C library
    assert np.abs(c[:6] - np.cos(hd)).max() < 1e-12 and np.abs(s[:6] - np.sin(hd)).max() < 1e-12
    odd = np.float32([np.inf, -np.inf, np.nan])
    got = _headings_cs(odd)
    c, s = heading_cs_np(odd)
    assert np.isnan(got).all() and np.isnan(c).all() and np.isnan(s).all()
    got = _headings_cs(np.float32([-0.0, 0.0]))
    assert got[0, 0] == 1.0 and np.signbit(got[0, 1]) and not np.signbit(got[1, 1])
    assert np.signbit(heading_cs_np(np.float32([-0.0]))[1][0])
