"""Growing brains (on/off genes), eligibility (minimum parent age), the mouse model and raw_px inputs."""

from __future__ import annotations

import numpy as np
import pytest

from neuroevo.brain import Layout, active_units, forward_serial, init_genomes
from neuroevo.config import Settings, make_params, override
from neuroevo.evolution import mutate_units
from neuroevo.reference import forward_np
from neuroevo.sim import make
from neuroevo.state import C_ARMED, C_CLICK, CX, CY


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def _forward(layout, g, x):
    sizes, offsets = layout.arrays()
    acts = np.zeros((g.shape[0], layout.n_units), np.float32)
    acts[:, : layout.n_in] = x
    forward_serial(g, acts, sizes, offsets)
    return acts


@pytest.mark.parametrize("hidden", [(16,), (8, 5), (24, 16)])
def test_gated_forward_matches_numpy_and_off_units_read_zero(hidden, rng):
    layout = Layout((12, *hidden, 2), gated=True)
    g = init_genomes(layout, 41, 1.0, rng, start=3)
    g[:20, layout.n_weights :] = (rng.random((20, layout.n_gates)) < 0.6).astype(np.float32)  # random patterns
    x = rng.uniform(-1, 1, (41, 12)).astype(np.float32)
    acts = _forward(layout, g, x)
    ref = forward_np(layout, g, x)
    sizes, offsets = layout.arrays()
    for layer, (off, n) in enumerate(zip(offsets, sizes)):
        np.testing.assert_allclose(acts[:, off : off + n], ref[layer], atol=2e-5)
    for k in range(41):
        for (off, n), on in zip(zip(offsets[1:-1], sizes[1:-1]), active_units(layout, g[k])):
            assert np.all(acts[k, off : off + n][~on] == 0.0)
    # an off unit's weights change nothing
    g2 = g.copy()
    first = layout.n_weights
    off_rows = np.nonzero(g[:, first] < 0.5)[0]
    assert off_rows.size > 0
    h = hidden[0]
    g2[off_rows, 12 * h + 0] = 123.0  # bias of unit 0 of the first hidden layer
    np.testing.assert_array_equal(_forward(layout, g2, x)[off_rows], acts[off_rows])


def test_added_unit_leaves_the_outputs_unchanged(rng):
    """Switching a unit on with zero outgoing weights: the child computes exactly what its parent did."""
    s = override(Settings(), {"hidden": "8,6", "hidden_start": 2, "add_unit_rate": 1.0, "mutation_rate": 0.0})
    p = make_params(s)
    layout = Layout((p.n_in, 8, 6, 2), gated=True)
    g = init_genomes(layout, 30, 1.0, rng, start=2)
    x = rng.uniform(-1, 1, (30, p.n_in)).astype(np.float32)
    before = _forward(layout, g, x)[:, -2:]
    child = g.copy()
    sizes, _ = layout.arrays()
    r = np.random.default_rng(5)
    for k in range(30):
        mutate_units(child[k], sizes, p, r)
    assert (child[:, layout.n_weights :] > 0.5).sum() == (g[:, layout.n_weights :] > 0.5).sum() + 30
    np.testing.assert_array_equal(_forward(layout, child, x)[:, -2:], before)


def test_removal_never_empties_a_layer(rng):
    s = override(Settings(), {"hidden": "4,3", "remove_unit_rate": 1.0})
    p = make_params(s)
    layout = Layout((p.n_in, 4, 3, 2), gated=True)
    g = init_genomes(layout, 1, 1.0, rng)[0]
    sizes, _ = layout.arrays()
    for _ in range(20):
        mutate_units(g, sizes, p, rng)
    on = active_units(layout, g)
    assert [int(a.sum()) for a in on] == [1, 1]


def test_growing_run_reports_units_and_founders_start_small():
    # founders with weights: units are added at births, and blind founders rarely die (no unit added in minute 1)
    sim = make("edges", seed=2, hidden_start=1, add_unit_rate=0.3, init_weights=1.0, init_bias=2.0)
    assert sim.layout.gated and sim.layout.n_gates == 16
    assert np.all((sim.genomes[:, sim.layout.n_weights :] > 0.5).sum(1) == 1)
    from neuroevo.observers import run_minutes

    rows = run_minutes(sim, 1)
    assert rows[0]["hidden_units_max"] >= 2 and rows[0]["hidden_units_mean"] >= 1.0


def test_fixed_topology_has_no_gates():
    sim = make("edges", seed=1)
    assert not sim.layout.gated and sim.params.n_gates == 0


def test_only_old_agents_become_parents():
    """With a minimum parent age, the dead are replaced by children of the old, not of the young."""
    sim = make("edges", seed=4, agents=40, min_parent_age_s=1.0)
    st = sim.state
    st.pos[:, 0], st.pos[:, 1] = 640.0, 360.0
    st.pos[:, 0] += np.arange(40, dtype=np.float32)
    st.age[:] = 0
    st.age[:5] = 1000
    old_ids = set(st.genome_id[:5].tolist())
    st.pos[30:, 0] = 2.0  # on the left edge: these die at the next step
    sim.step()
    born = np.nonzero(st.age == 0)[0]
    assert born.size >= 10
    assert set(st.parent_id[born].tolist()) <= old_ids


def test_mouse_model_clicks_without_warning_and_moves_fast():
    sim = make("edges", seed=3, agents=5, init_bias=2.0, **{"cursor.source": "mouse"})  # founders the model can catch
    st = sim.state
    xs, clicks, armed = [], 0, 0
    for _ in range(600):
        sim.step()
        xs.append((st.cursor[CX], st.cursor[CY]))
        clicks += int(st.cursor[C_CLICK] > 0)
        armed += int(st.cursor[C_ARMED] > 0)
    assert armed == 0 and clicks >= 3
    v = np.hypot(*np.diff(np.array(xs), axis=0).T) / sim.settings.world.dt
    assert v.max() > 500.0  # far faster than the hunter's 250 px/s
    assert clicks <= 600 * sim.settings.world.dt / 0.25 + 1  # limited click rate
    assert sim.deaths_by_cause()["cursor"] >= 1


def test_raw_px_inputs_are_pixels():
    sim = make("edges", seed=1, agents=4, encoding="raw_px", frame="world")
    st = sim.state
    st.pos[:] = [[100.0, 200.0], [300.0, 400.0], [640.0, 360.0], [900.0, 50.0]]
    sim.step()
    r = sim.settings.world.radius
    # sensed before the move: the world-frame left, right, top and bottom wall distances in px
    np.testing.assert_allclose(sim.inputs[0, :4], [100.0 - r, 1280.0 - r - 100.0, 200.0 - r, 720.0 - r - 200.0],
                               atol=1e-3)
