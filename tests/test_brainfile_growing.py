"""Brain files of growing brains (on/off genes): the pattern is written and read back, exported from populations and
replays, kept or converted exactly when the brain founds another world, and drawn; bad patterns are refused."""

import json

import numpy as np
import pytest

from neuroevo import brainfile as bf
from neuroevo import replay as rp
from neuroevo.brain import Layout, active_units, forward_serial
from neuroevo.brainfit import Unfit, fit_genome
from neuroevo.checkpoint import read as read_population
from neuroevo.cli import main
from neuroevo.sim import make

GROW = {"hidden_start": 3, "add_unit_rate": 0.0, "remove_unit_rate": 0.0,
        "init_weights": 1.0}  # gated, topology left alone; founders with weights, so the pattern matters


def outputs(layout, genome, x):
    """The compiled forward pass of one genome on inputs x (M, n_in): its outputs (M, n_out) float32."""
    sizes, offsets = layout.arrays()
    acts = np.zeros((x.shape[0], layout.n_units), np.float32)
    acts[:, : layout.n_in] = x
    forward_serial(np.repeat(genome[None, :], x.shape[0], axis=0), acts, sizes, offsets)
    return acts[:, -layout.n_out :]


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(np.asarray(a, np.float32).view(np.uint32),
                                                 np.asarray(b, np.float32).view(np.uint32))


def patterned(sim, slot, rng, p_on=0.5):
    """Give slot a random on/off pattern (at least one unit on per layer); returns the on/off genes."""
    lay = sim.layout
    g = sim.genomes[slot]
    gates = (rng.random(lay.n_gates) < p_on).astype(np.float32)
    p = 0
    for h in lay.sizes[1:-1]:
        gates[p] = 1.0
        p += h
    g[lay.n_weights :] = gates
    return gates


@pytest.fixture(scope="module")
def inputs():
    return np.random.default_rng(11).uniform(-1, 1, (256, 10)).astype(np.float32)


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    """A recorded growing run (units added and removed) and its population file."""
    out = tmp_path_factory.mktemp("growrun")
    assert main(["run", "cursor", "--seed", "5", "--minutes", "0.5", "--agents", "20", "--record", "--quiet",
                 "--no-plot", "--out", str(out), "--set", "brain.hidden_start=2", "--set", "brain.hidden=12,6",
                 "--set", "evolution.add_unit_rate=0.5", "--set", "evolution.remove_unit_rate=0.2"]) == 0
    return out


def one_line_error(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    return err[0]


def test_round_trip_keeps_the_pattern_and_the_outputs(tmp_path, inputs):
    sim = make("edges", seed=2, agents=12, **GROW)
    rng = np.random.default_rng(1)
    gates = patterned(sim, 4, rng)
    path = bf.export_slot(sim, 4, tmp_path)
    d = json.loads(path.read_text())
    assert d["format_version"] == 2 and d["layout"]["gated"] is True
    assert d["layout"]["hidden_on"] == [[int(v) for v in gates]]
    b = bf.read(path)
    assert b.gated and b.layout == sim.layout and same_bits(b.genome, sim.genomes[4])
    assert all(np.array_equal(a, c) for a, c in zip(b.hidden_on, active_units(sim.layout, sim.genomes[4])))
    assert same_bits(outputs(b.layout, b.genome, inputs), outputs(sim.layout, sim.genomes[4], inputs))
    # what read back as an all-on fixed net (the old export) computes differently: the pattern matters
    assert not same_bits(outputs(Layout(b.sizes), b.genome[: b.layout.n_weights], inputs),
                         outputs(b.layout, b.genome, inputs))
    assert bf.mismatch(b, sim) is None
    assert b.describe() == f"10-16-2 net, hidden {int(gates.sum())}/16 on"


def test_export_from_a_growing_population_and_replay(grown, tmp_path):
    data, _, _ = read_population(grown / "population.npz")
    layout = Layout((10, 12, 6, 2), gated=True)
    assert data["genomes"].shape[1] == layout.n_params
    out = tmp_path / "best.json"
    assert main(["brain", "export", str(grown / "population.npz"), "--best", "--out", str(out)]) == 0
    alive = data["state_alive"]
    slot = int(np.flatnonzero(alive)[np.argmax(data["state_age"][alive])])
    b = bf.read(out)
    assert b.sizes == (10, 12, 6, 2) and b.gated and len(b.inputs) == 10
    assert same_bits(b.genome, data["genomes"][slot])
    d = json.loads(out.read_text())
    assert d["layout"]["hidden_on"] == [[int(v) for v in on] for on in active_units(layout, data["genomes"][slot])]
    # the run grew and shrank its nets: the patterns differ between genomes
    patterns = {data["genomes"][k, layout.n_weights :].tobytes() for k in range(data["genomes"].shape[0])}
    assert len(patterns) > 1
    # a replay: a genome born during the recording, by id
    r = rp.open(grown / "replay")
    gid = int(r.births["gid"][-1])
    out2 = tmp_path / "born.json"
    assert main(["brain", "export", str(grown / "replay"), "--id", str(gid), "--out", str(out2)]) == 0
    b2 = bf.read(out2)
    assert b2.gated and same_bits(b2.genome, r.genome(gid)) and b2.provenance["genome_id"] == gid
    assert main(["brain", "export", str(grown / "replay"), "--best", "--out", str(tmp_path / "r.json")]) == 0
    assert bf.read(tmp_path / "r.json").gated


def test_founders_into_a_growing_world_keep_their_pattern(tmp_path, inputs):
    src = make("edges", seed=2, agents=12, **GROW)
    gates = patterned(src, 1, np.random.default_rng(2), p_on=0.3)
    b = bf.read(bf.export_slot(src, 1, tmp_path))
    same = make("edges", seed=9, agents=20, mutation_rate=0.0, founders=[b], **GROW)
    assert same_bits(same.genomes[0], b.genome)  # the very genes, the on/off ones too
    assert np.array_equal(same.genomes[0][same.layout.n_weights :], gates)
    # mutated as a child is (weights, then topology), deterministically
    kw = {"hidden_start": 3, "add_unit_rate": 1.0, "remove_unit_rate": 0.0}
    a, a2 = (make("edges", seed=9, agents=20, founders=[b], founders_fill=True, **kw) for _ in range(2))
    assert np.array_equal(a.genomes, a2.genomes)
    n_on = a.genomes[:, a.layout.n_weights :].sum(axis=1)
    assert np.all(n_on == gates.sum() + 1)  # add_unit_rate 1: every copy switched one more unit on
    # a wider world: the units keep their slots, the new slots are off with zero weights; the same outputs
    wide = make("edges", seed=9, agents=20, mutation_rate=0.0, founders=[b], hidden="24", **GROW)
    g = wide.genomes[0]
    assert np.array_equal(g[wide.layout.n_weights :], np.concatenate([gates, np.zeros(8, np.float32)]))
    assert same_bits(outputs(wide.layout, g, inputs), outputs(b.layout, b.genome, inputs))
    # a narrower world that still holds every unit that is on
    k = int(gates.sum())
    narrow = make("edges", seed=9, agents=20, mutation_rate=0.0, founders=[b], hidden=str(k + 1), hidden_start=1,
                  add_unit_rate=0.0)
    g = narrow.genomes[0]
    assert g[narrow.layout.n_weights :].sum() == k
    assert same_bits(outputs(narrow.layout, g, inputs), outputs(b.layout, b.genome, inputs))


def test_a_growing_brain_into_a_fixed_world_is_converted_exactly(tmp_path, inputs):
    src = make("edges", seed=3, agents=12, hidden="8,6", **GROW)
    gates = patterned(src, 2, np.random.default_rng(5), p_on=0.4)
    b = bf.read(bf.export_slot(src, 2, tmp_path))
    fixed = make("edges", seed=9, agents=20, mutation_rate=0.0, hidden="8,6", founders=[b])
    assert not fixed.layout.gated
    g = fixed.genomes[0]
    assert g.size == b.layout.n_weights
    off1, off2 = gates[:8] == 0, gates[8:] == 0
    assert off1.any() and off2.any()
    w2, _ = fixed.layout.split(g)[1]
    w3, _ = fixed.layout.split(g)[2]
    assert np.all(w2[off1] == 0) and np.all(w3[off2] == 0)  # the off units feed nothing
    w1, b1 = fixed.layout.split(g)[0]
    sw1, sb1 = b.layout.split(b.genome)[0]
    assert same_bits(w1, sw1) and same_bits(b1, sb1)  # their incoming weights are kept
    assert same_bits(outputs(fixed.layout, g, inputs), outputs(b.layout, b.genome, inputs))
    # a fixed brain into a growing world: every unit on
    fb = bf.read(bf.export_slot(fixed, 0, tmp_path))
    assert not fb.gated and json.loads((tmp_path / f"brain-{int(fixed.state.genome_id[0])}.json").read_text())[
        "layout"]["hidden_on"] == [[1] * 8, [1] * 6]
    growing = make("edges", seed=9, agents=20, mutation_rate=0.0, hidden="10,6", founders=[fb], **GROW)
    g = growing.genomes[0]
    assert g[growing.layout.n_weights :].tolist() == [1.0] * 8 + [0.0] * 2 + [1.0] * 6
    assert same_bits(outputs(growing.layout, g, inputs), outputs(fb.layout, fb.genome, inputs))


def test_fit_genome_refusals():
    src = Layout((10, 16, 2), gated=True)
    g = np.zeros(src.n_params, np.float32)
    g[src.n_weights : src.n_weights + 5] = 1.0  # 5 units on
    with pytest.raises(Unfit, match="hidden layer 1 has 5 units on, more than the world's brain.hidden allows there "
                       r"\(4\); try --set brain.hidden=16"):
        fit_genome(src, g, Layout((10, 4, 2), gated=True))
    with pytest.raises(Unfit, match="hidden layers are 16, the world's 8; try --set brain.hidden=16"):
        fit_genome(src, g, Layout((10, 8, 2)))
    with pytest.raises(Unfit, match="hidden layers are 16, the world's 16-4"):
        fit_genome(src, g, Layout((10, 16, 4, 2), gated=True))
    assert fit_genome(src, g, Layout((10, 5, 2), gated=True)).size == Layout((10, 5, 2), gated=True).n_params


def test_brain_show_draws_off_units_as_empty_rings(tmp_path):
    from PIL import Image

    from neuroevo.tree import OFF_UNIT, PANEL, draw_brain

    sim = make("edges", seed=2, agents=12, **GROW)
    b = bf.read(bf.export_slot(sim, 0, tmp_path))  # 3 of 16 on
    assert main(["brain", "show", str(bf.export_slot(sim, 0, tmp_path))]) == 0  # through the command line
    full = bf.Brain(**{**b.__dict__, "genome": b.genome[: b.layout.n_weights].copy(), "gated": False})
    pics, where = [], []
    for brain, name in ((b, "grow"), (full, "full")):
        where.append(draw_brain(brain, tmp_path / f"{name}.png"))
        pics.append(np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB")).astype(int))
    grow, full_pic = pics
    assert where[0] == where[1]
    on = np.concatenate([np.ones(10, bool), b.hidden_on[0], np.ones(2, bool)])
    assert (~on).sum() == 13
    for u, (x, y) in enumerate(where[0]):
        x, y = int(round(x)), int(round(y))
        centre = grow[y, x]
        ring = grow[y - 6 : y + 7, x - 6 : x + 7].reshape(-1, 3)
        if on[u]:
            assert np.abs(centre - PANEL).sum() > 30  # a filled unit
        else:
            assert np.abs(centre - PANEL).sum() < 6  # empty inside...
            assert np.abs(ring - OFF_UNIT).sum(axis=1).min() < 30  # ...in a faint ring
            assert np.abs(full_pic[y, x] - PANEL).sum() > 30  # the same unit on is filled

    def warm(img):
        return ((img[..., 0] > 200) & (img[..., 2] < 120)).sum()

    assert 0 < warm(grow) < 0.5 * warm(full_pic)  # the off units' connections are not drawn


def test_bad_patterns_give_one_line_and_exit_2(tmp_path, capsys):
    sim = make("edges", seed=2, agents=12, **GROW)
    good = bf.export_slot(sim, 0, tmp_path)
    capsys.readouterr()
    d = json.loads(good.read_text())
    out = str(tmp_path / "o")

    def variant(name, edit):
        v = json.loads(json.dumps(d))
        edit(v)
        p = tmp_path / f"{name}.json"
        p.write_text(json.dumps(v))
        return str(p)

    short = variant("short", lambda v: v["layout"]["hidden_on"][0].pop())
    layers = variant("layers", lambda v: v["layout"]["hidden_on"].append([1]))
    twos = variant("twos", lambda v: v["layout"]["hidden_on"][0].__setitem__(0, 2))
    dark = variant("dark", lambda v: v["layout"]["hidden_on"].__setitem__(0, [0] * 16))
    fixed_off = variant("fixedoff", lambda v: v["layout"].__setitem__("gated", False))
    future = variant("future", lambda v: v.__setitem__("format_version", 3))
    cases = [
        (["run", "edges", "--founders", short, "--out", out], "short.json: corrupt brain file (ValueError: "
         "hidden_on of hidden layer 1 has 15 values for its 16 units)"),
        (["brain", "show", layers], "hidden_on has 2 layers for hidden layers [16]"),
        (["brain", "show", twos], "holds values other than 0 and 1"),
        (["brain", "show", dark], "hidden layer 1 has no unit on"),
        (["brain", "show", fixed_off], "has units off in a fixed net"),
        (["run", "edges", "--founders", future, "--out", out], "format version 3 is not supported"),
        (["run", "edges", "--set", "brain.hidden=2", "--set", "brain.hidden_start=1", "--founders", str(good),
          "--out", out], "its hidden layer 1 has 3 units on, more than the world's brain.hidden allows there (2)"),
        (["run", "edges", "--set", "brain.hidden=8", "--founders", str(good), "--out", out],
         "its hidden layers are 16, the world's 8; try --set brain.hidden=16"),
    ]
    for argv, needle in cases:
        one_line_error(capsys, argv, needle)


def test_version_1_files_are_fixed_nets(tmp_path, inputs):
    sim = make("edges", seed=2, agents=12)
    d = json.loads(bf.export_slot(sim, 0, tmp_path).read_text())
    d["format_version"] = 1
    del d["layout"]["gated"], d["layout"]["hidden_on"]
    old = tmp_path / "v1.json"
    old.write_text(json.dumps(d))
    b = bf.read(old)
    assert not b.gated and same_bits(b.genome, sim.genomes[0]) and bf.mismatch(b, sim) is None
    grow = make("edges", seed=4, agents=12, mutation_rate=0.0, founders=[b], **GROW)
    assert np.all(grow.genomes[0][grow.layout.n_weights :] == 1.0)  # into a growing world: every unit on
    assert same_bits(outputs(grow.layout, grow.genomes[0], inputs), outputs(sim.layout, sim.genomes[0], inputs))
