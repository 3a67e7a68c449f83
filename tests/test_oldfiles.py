"""Files written when the ego frame's "self" sensor had 3 inputs (two of them always 0) load in today's layout and
behave exactly as before; a file that fits no single layout is refused with one line."""

import json
import shutil

import numpy as np
import pytest

from neuroevo import brainfile as bf
from neuroevo import oldfiles
from neuroevo import replay as rp
from neuroevo.brain import Layout, forward_serial, init_genomes
from neuroevo.checkpoint import CheckpointError
from neuroevo.cli import main
from neuroevo.reference import forward_np
from neuroevo.sim import Simulation, make

SELF = 9  # the "self" block's first input after edges (5) and cursor (4)


def old_genomes(g: np.ndarray, h1: int, rng: np.random.Generator, first: int = SELF) -> np.ndarray:
    """(M, n_params) genomes of today's layout -> the old layout: random weight rows for the two heading inputs
    (inputs first + 1, first + 2), which the old ego frame always fed 0."""
    m, n = g.shape
    dead = rng.normal(0.0, 3.0, (m, 2 * h1)).astype(np.float32)
    at = (first + 1) * h1
    return np.ascontiguousarray(np.concatenate([g[:, :at], dead, g[:, at:]], axis=1))


def old_inputs(x: np.ndarray, first: int = SELF) -> np.ndarray:
    """(M, n_in) inputs -> the old ego frame's (M, n_in + 2): 0 for cos and sin of the heading."""
    return np.insert(x, [first + 1, first + 1], 0.0, axis=1).astype(np.float32)


@pytest.mark.parametrize("hidden,gated", [((16,), False), ((8, 5), False), ((6, 4), True)])
def test_dropping_the_dead_rows_gives_the_same_outputs(hidden, gated):
    rng = np.random.default_rng(1)
    new = Layout((10, *hidden, 2), gated=gated)
    old = Layout((12, *hidden, 2), gated=gated)
    g = init_genomes(new, 40, 1.0, rng, start=3 if gated else 0)
    g_old = old_genomes(g, hidden[0], rng)
    assert g_old.shape == (40, old.n_params)
    np.testing.assert_array_equal(oldfiles.drop_inputs(g_old, hidden[0], [SELF + 1, SELF + 2]), g)
    x = rng.uniform(-1, 1, (40, 10)).astype(np.float32)
    ref_new, ref_old = forward_np(new, g, x)[-1], forward_np(old, g_old, old_inputs(x))[-1]
    np.testing.assert_allclose(ref_old, ref_new, atol=1e-6)
    acts_new = np.zeros((40, new.n_units), np.float32)
    acts_old = np.zeros((40, old.n_units), np.float32)
    acts_new[:, :10], acts_old[:, :12] = x, old_inputs(x)
    forward_serial(g, acts_new, *new.arrays())
    forward_serial(g_old, acts_old, *old.arrays())
    np.testing.assert_array_equal(acts_old[:, 12:], acts_new[:, 10:])  # the compiled pass: bit for bit


def make_old_population(src, dst, rng):
    """Rewrite a population file as the old code wrote it: format version 1, 12-input genomes and hall of fame
    (random weights on the heading inputs), activations with the heading columns at 0."""
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["format_version"] = 1
    h1 = meta["settings"]["brain"]["hidden"][0]
    arrays["meta"] = np.array(json.dumps(meta))
    arrays["genomes"] = old_genomes(arrays["genomes"], h1, rng)
    arrays["hof"] = old_genomes(arrays["hof"], h1, rng)
    arrays["state_acts"] = old_inputs(arrays["state_acts"])
    np.savez_compressed(dst, **arrays)


def digest(sim):
    st = sim.state
    return [a.tobytes() for a in (st.pos, st.heading, st.speed, st.alive, st.genome_id, st.counters, sim.genomes,
                                  sim.hof)]


def test_an_old_population_file_loads_and_runs_as_the_new_one(tmp_path):
    rng = np.random.default_rng(2)
    sim = make("cursor", seed=5, agents=30)
    sim.run(300)
    sim.save(tmp_path / "new.npz")
    make_old_population(tmp_path / "new.npz", tmp_path / "old.npz", rng)
    a, _ = Simulation.load(tmp_path / "new.npz")
    b, _ = Simulation.load(tmp_path / "old.npz")
    assert b.layout.sizes == (10, 16, 2) and b.input_names() == a.input_names()
    np.testing.assert_array_equal(b.genomes, sim.genomes)
    np.testing.assert_array_equal(b.state.acts, sim.state.acts)
    a.run(1200)
    b.run(1200)
    assert a.deaths_by_cause() == b.deaths_by_cause() and digest(a) == digest(b)
    # a brain exported from the old file is the new file's brain
    assert main(["brain", "export", str(tmp_path / "old.npz"), "--best", "--out", str(tmp_path / "old.json")]) == 0
    assert main(["brain", "export", str(tmp_path / "new.npz"), "--best", "--out", str(tmp_path / "new.json")]) == 0
    assert (json.loads((tmp_path / "old.json").read_text())["weights"]
            == json.loads((tmp_path / "new.json").read_text())["weights"])


def test_an_old_world_frame_file_is_read_as_it_is(tmp_path):
    sim = make("edges", seed=3, agents=20, overrides={"brain.frame": "world"})
    sim.run(60)
    sim.save(tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["format_version"] = 1
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(tmp_path / "old.npz", **arrays)
    b, _ = Simulation.load(tmp_path / "old.npz")
    assert b.layout.sizes == (12, 16, 2) and b.input_names()[-2:] == ["cos heading", "sin heading"]
    np.testing.assert_array_equal(b.genomes, sim.genomes)


def test_a_population_file_too_small_for_the_old_layout_is_refused(tmp_path, capsys):
    sim = make("cursor", seed=5, agents=10)
    sim.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["format_version"] = 1  # claims the old layout, holds today's
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(tmp_path / "liar.npz", **arrays)
    with pytest.raises(CheckpointError, match="liar.npz"):
        Simulation.load(tmp_path / "liar.npz")
    assert main(["brain", "export", str(tmp_path / "liar.npz"), "--best", "--out", str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "liar.npz" in err[0], err


def make_old_replay(src, dst, rng, frame_change=False):
    """Rewrite a replay folder as the old code wrote it: format version 1 (the frames stored as version 2 did),
    12-input layout and genomes."""
    from conftest import _as_version2

    shutil.copytree(src, dst)
    _as_version2(dst)
    meta = json.loads((dst / "meta.json").read_text())
    meta["format_version"] = 1
    meta["layout"][0] += 2
    h1 = meta["layout"][1]
    if frame_change:
        world = json.loads(json.dumps(meta["settings"]))
        world["brain"]["frame"] = "world"
        meta["settings_changes"] = [{"frame": 3, "settings": world}]
    (dst / "meta.json").write_text(json.dumps(meta))
    for f in sorted(dst.glob("chunk-*.npz")):
        with np.load(f, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        for k in ("genomes0", "birth_genome"):
            if k in arrays:
                arrays[k] = old_genomes(arrays[k], h1, rng)
        np.savez_compressed(f, **arrays)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["run", "cursor", "--seed", "2", "--minutes", "0.2", "--agents", "20", "--record", "--quiet",
                 "--no-plot", "--out", str(out)]) == 0
    return out / "replay"


def test_an_old_replay_opens_in_todays_layout(recorded, tmp_path, capsys):
    make_old_replay(recorded, tmp_path / "old", np.random.default_rng(3))
    new, old = rp.open(recorded), rp.open(tmp_path / "old")
    assert old.converted and not new.converted
    assert old.layout == new.layout and old.layout.sizes == (10, 16, 2)
    np.testing.assert_array_equal(old.genomes0, new.genomes0)
    np.testing.assert_array_equal(old.births["genome"], new.births["genome"])
    assert old.births["genome"].shape[0] > 0
    with pytest.raises(rp.ReplayError, match="cannot be re-simulated"):
        next(rp.resimulate(old))
    # brains and web pages from it are today's
    gid = int(old.births["gid"][-1])
    assert main(["brain", "export", str(tmp_path / "old"), "--id", str(gid), "--out", str(tmp_path / "b.json")]) == 0
    b = bf.read(tmp_path / "b.json")
    assert b.sizes == (10, 16, 2) and b.inputs[-1] == "speed"
    np.testing.assert_array_equal(b.genome, new.genome(gid))
    assert main(["replay", str(tmp_path / "old"), "--export", str(tmp_path / "p.html")]) == 0


def test_an_old_replay_whose_frame_changed_is_refused(recorded, tmp_path, capsys):
    make_old_replay(recorded, tmp_path / "old", np.random.default_rng(3), frame_change=True)
    with pytest.raises(rp.ReplayError, match="fit no single input layout"):
        rp.open(tmp_path / "old")
    capsys.readouterr()
    assert main(["replay", str(tmp_path / "old"), "--export", str(tmp_path / "p.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "meta.json" in err[0] and "no single input layout" in err[0], err
    assert not (tmp_path / "p.html").exists()


def test_an_old_brain_file_drops_its_heading_inputs(tmp_path):
    sim = make("cursor", seed=3, agents=10)
    sim.run(30)
    path = bf.export_slot(sim, 2, tmp_path)
    d = json.loads(path.read_text())
    d["format_version"] = 1  # as written then: no on/off pattern
    del d["layout"]["gated"], d["layout"]["hidden_on"]
    rng = np.random.default_rng(4)
    lay = d["layout"]
    lay["sizes"][0] += 2
    lay["inputs"][SELF + 1 : SELF + 1] = ["cos heading", "sin heading"]
    d["weights"][0]["W"][SELF + 1 : SELF + 1] = rng.normal(0, 2, (2, lay["sizes"][1])).astype(np.float32).tolist()
    old = tmp_path / "old.json"
    old.write_text(json.dumps(d))
    b = bf.read(old)
    assert b.sizes == (10, 16, 2) and "cos heading" not in b.inputs and bf.mismatch(b, sim) is None
    np.testing.assert_array_equal(b.genome, sim.genomes[2])
    # a world-frame brain keeps its heading: there it is read
    d["frame"] = "world"
    old.write_text(json.dumps(d))
    assert bf.read(old).sizes == (12, 16, 2)


def test_the_frame_sets_the_layout_when_self_is_sensed(tmp_path):
    from neuroevo.config import SettingsError

    sim = make("edges", seed=1, agents=10)
    with pytest.raises(SettingsError, match="frame with the self sensor"):
        sim.apply_settings({"brain.frame": "world"})
    assert sim.layout.sizes == (10, 16, 2) and sim.settings.brain.frame == "ego"
    sim.save(tmp_path / "p.npz")
    with pytest.raises(CheckpointError, match="p.npz: --set cannot change the genome layout"):
        Simulation.load(tmp_path / "p.npz", {"brain.frame": "world"})
    blind = make("edges", seed=1, agents=10, sensors="edges,cursor")  # no "self": both frames, one layout
    blind.apply_settings({"brain.frame": "world"})
    assert blind.layout.sizes == (9, 16, 2)
