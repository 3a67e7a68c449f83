"""Selection and mutation statistics."""

import numpy as np
import pytest

from neuroevo.evolution import RANK, ROULETTE, SUS, TOURNAMENT, TRUNCATION, mutate, mutate_np, select


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
