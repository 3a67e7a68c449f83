"""Niching (evolution.niching = species): founding, adapting threshold, sharing, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from neuroevo.checkpoint import CheckpointError
from neuroevo.evolution import select
from neuroevo.observers import run_minutes
from neuroevo.sim import Simulation, make
from neuroevo.species import Species, distance, found, share


def test_distance_counts_weights_and_unit_pattern():
    a = np.array([0.0, 1.0, 2.0, 1.0, 0.0], np.float32)  # 3 weights, 2 gates
    b = np.array([1.0, 1.0, 0.0, 1.0, 1.0], np.float32)
    assert distance(a, b, 3) == pytest.approx(1.0 + 0.5)
    assert distance(a, a, 3) == 0.0


def test_founding_reaches_the_target_and_labels_in_order():
    sim = make("edges", seed=3, niching="species", species_target=6).compile()
    sp = sim.species
    assert (sp.size > 0).sum() == 6 and sp.size.sum() == sim.state.n
    assert sorted(sp.label[sp.size > 0].tolist()) == list(range(6))
    assert np.all(sp.of >= 0) and np.array_equal(np.bincount(sp.of, minlength=sp.size.shape[0]), sp.size)
    # every member is at least as close to its own species' representative as the threshold allowed
    assert sp.ctl[0] > 0


def test_found_with_a_single_species_target():
    sim = make("edges", seed=4, niching="species", species_target=1).compile()
    assert (sim.species.size > 0).sum() == 1


def test_species_follow_the_target_while_evolving():
    sim = make("edges", seed=5, niching="species", species_target=5, agents=80)
    rows = run_minutes(sim, 4)
    counts = [r["species"] for r in rows]
    assert all(1 <= c <= sim.params.species_cap for c in counts)
    assert 2 <= counts[-1] <= 15  # adapting around 5, not collapsed to 1 nor exploded to the cap
    sp = sim.species
    alive = sim.state.alive
    assert np.array_equal(np.bincount(sp.of[alive], minlength=sp.size.shape[0]), sp.size)
    assert sp.label.max() >= counts[-1] - 1  # species come and go; labels are never reused


def test_no_species_without_niching():
    sim = make("edges", seed=5)
    rows = run_minutes(sim, 1)
    assert "species" not in rows[0] and sim.species.size.shape[0] == 0 and not sim.species_ready


def test_sharing_gives_a_small_species_its_fair_chance():
    """Ten agents of equal fitness, one alone in its species: shared, it parents half the children."""
    n = 10
    sp = Species.empty(n, 4, 3)
    sp.of[:] = [0] + [1] * 9
    sp.size[:2] = [1, 9]
    fit = np.full(n, 100.0)
    share(sp, fit, np.ones(n, np.bool_))
    out = np.empty(20000, np.int64)
    select(fit, np.ones(n, np.bool_), out.shape[0], 0, 3, 0.2, np.random.default_rng(0), out)
    assert abs((out == 0).mean() - 0.5) < 0.02
    fit2 = np.full(n, 100.0)
    select(fit2, np.ones(n, np.bool_), out.shape[0], 0, 3, 0.2, np.random.default_rng(0), out)
    assert abs((out == 0).mean() - 0.1) < 0.02  # unshared: one in ten


def test_children_mostly_join_their_parents_species():
    sim = make("cursor", seed=8, niching="species", species_target=4, agents=60)  # many births
    run_minutes(sim, 3)
    st, sp = sim.state, sim.species
    slot_of = {int(g): i for i, g in enumerate(st.genome_id)}
    pairs = [(i, slot_of[int(st.parent_id[i])]) for i in range(st.n) if int(st.parent_id[i]) in slot_of]
    assert pairs, "some parents are still alive after 2 minutes"
    same = np.mean([sp.of[i] == sp.of[j] for i, j in pairs])
    assert same > 0.6


def test_checkpoint_resume_is_exact(tmp_path):
    kv = {"niching": "species", "species_target": 4, "agents": 60}
    a = make("edges", seed=9, **kv)
    run_minutes(a, 1)
    a.save(tmp_path / "p.npz")
    b, _ = Simulation.load(tmp_path / "p.npz")
    assert b.species_ready
    for k, v in a.species._asdict().items():
        assert np.array_equal(v, getattr(b.species, k)), k
    a.run(3600)
    b.run(3600)
    assert np.array_equal(a.genomes, b.genomes) and np.array_equal(a.species.of, b.species.of)


def test_damaged_species_table_is_refused(tmp_path):
    a = make("edges", seed=9, niching="species", agents=40)
    run_minutes(a, 1)
    a.species.size[0] += 3  # no longer the count of its members
    a.save(tmp_path / "bad.npz")
    with pytest.raises(CheckpointError, match="species_size"):
        Simulation.load(tmp_path / "bad.npz")


def test_niching_switched_on_later_founds_species():
    sim = make("edges", seed=2, agents=40)
    run_minutes(sim, 1)
    sim.apply_settings({"evolution.niching": "species", "evolution.species_target": 3})
    rows = run_minutes(sim, 1)
    assert sim.species_ready and rows[-1]["species"] >= 1


def test_found_is_deterministic():
    g = np.random.default_rng(0).normal(0, 1, (30, 20)).astype(np.float32)
    alive = np.ones(30, np.bool_)
    s1, s2 = Species.empty(30, 12, 20), Species.empty(30, 12, 20)
    found(s1, g, alive, 20, 5)
    found(s2, g, alive, 20, 5)
    for k, v in s1._asdict().items():
        assert np.array_equal(v, getattr(s2, k)), k
