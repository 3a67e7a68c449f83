"""Every compiled kernel agrees with its numpy reference."""

import numpy as np
import pytest

from neuroevo.brain import Layout, fast_tanh, fast_tanh_np, forward_np, forward_parallel, forward_serial, init_genomes
from neuroevo.config import Settings, make_params, override
from neuroevo.physics import hazards_np, move_np
from neuroevo.sensors import N_INPUTS, sense_np
from neuroevo.sim import make
from neuroevo.state import CURSOR, EDGE


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


@pytest.mark.parametrize("frame,encoding", [("ego", "inverse"), ("world", "inverse"), ("ego", "raw"), ("world", "raw")])
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
    alive0 = st.alive.copy()
    cur = (640.0, 360.0, 1.0, 1.0)
    p = make_params(s)
    inputs = sense_np(pos0, h0, v0, cur, p)
    acts = forward_np(sim.layout, g0, inputs)
    new_pos, new_h, new_v = move_np(pos0, h0, v0, acts[-1], p)
    causes = hazards_np(new_pos, cur[:2], True, p)
    deaths_before = st.counters.copy()
    sim.step(np.array([640.0, 360.0, 1.0, 1.0, 1.0]))
    np.testing.assert_allclose(st.acts[:, :N_INPUTS], inputs, atol=1e-5)
    np.testing.assert_allclose(st.acts[:, -2:], acts[-1], atol=5e-5)
    survived = causes == 0
    np.testing.assert_allclose(st.pos[survived], new_pos[survived], atol=1e-2)
    np.testing.assert_allclose(st.heading[survived], new_h[survived], atol=1e-4)
    np.testing.assert_allclose(st.speed[survived], new_v[survived], atol=1e-2)
    # each slot that the reference kills was replaced by a newborn carrying that cause
    assert np.array_equal(st.cause[~survived], causes[~survived])
    assert np.all(st.age[~survived] == 0) and np.all(st.alive)
    from neuroevo.state import K_DEATHS

    d = st.counters - deaths_before
    assert d[K_DEATHS + EDGE] == np.sum(causes == EDGE) > 0
    assert d[K_DEATHS + CURSOR] == np.sum(causes == CURSOR)
    assert alive0.all()


def test_inverse_inputs_grow_near_edges(params):
    pos = np.array([[640, 360], [30, 360], [12, 360]], np.float32)
    heading = np.array([np.pi, np.pi, np.pi], np.float32)  # facing the left wall
    x = sense_np(pos, heading, np.full(3, 100, np.float32), (0, 0, 0, 0), params)
    assert x[0, 0] < x[1, 0] < x[2, 0] <= 1.0
    raw = sense_np(pos, heading, np.full(3, 100, np.float32), (0, 0, 0, 0), params._replace(encoding=1))
    assert raw[0, 0] > raw[1, 0] > raw[2, 0] >= 0.0
