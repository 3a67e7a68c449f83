"""Brain files: export from a population or a replay, read back exactly, found a new world, refuse what does not fit."""

import json

import numpy as np
import pytest

from neuroevo import brainfile as bf
from neuroevo import replay as rp
from neuroevo.checkpoint import read as read_population
from neuroevo.cli import main
from neuroevo.sim import make


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("brainrun")
    assert main(["run", "cursor", "--seed", "2", "--minutes", "0.5", "--agents", "20", "--record", "--quiet",
                 "--no-plot", "--out", str(out)]) == 0
    return out


def one_line_error(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    return err[0]


def test_export_best_from_a_population_reads_back_bit_for_bit(run, tmp_path):
    out = tmp_path / "best.json"
    assert main(["brain", "export", str(run / "population.npz"), "--best", "--out", str(out)]) == 0
    data, meta, settings = read_population(run / "population.npz")
    alive = data["state_alive"]
    slot = int(np.flatnonzero(alive)[np.argmax(data["state_age"][alive])])
    b = bf.read(out)
    assert np.array_equal(b.genome.view(np.uint32), data["genomes"][slot].view(np.uint32))
    d = json.loads(out.read_text())
    assert d["format"] == "neuroevo-brain" and d["format_version"] == 2
    assert d["layout"]["gated"] is False and d["layout"]["hidden_on"] == [[1] * 16]  # a fixed net: every unit on
    assert d["layout"]["sizes"] == [10, 16, 2] and d["layout"]["inputs"][5] == "cursor dist"
    assert d["layout"]["inputs"][9] == "speed"
    assert d["encoding"] == {"kind": "inverse", "scale_px": 20.0} and d["frame"] == "ego"
    p = d["provenance"]
    assert (p["scenario"], p["seed"], p["genome_id"]) == ("cursor", 2, int(data["state_genome_id"][slot]))
    assert p["age_s"] == pytest.approx(data["state_age"][slot] / 60.0, abs=1e-3) and p["program_version"]
    w, bias = b.layout.split(b.genome)[0]
    assert d["weights"][0]["W"][3][7] == float(str(w[3, 7])) and len(d["weights"][1]["b"]) == 2


def test_export_by_id_from_a_replay(run, tmp_path):
    r = rp.open(run / "replay")
    gid = int(r.births["gid"][len(r.births["gid"]) // 2])  # one born during the recording
    out = tmp_path / "b.json"
    assert main(["brain", "export", str(run / "replay"), "--id", str(gid), "--out", str(out)]) == 0
    b = bf.read(out)
    assert np.array_equal(b.genome, r.genome(gid)) and b.provenance["genome_id"] == gid
    assert b.provenance["parent_id"] == int(r.births["parent"][len(r.births["gid"]) // 2])
    assert b.provenance["family"] == r.founder(gid)


def test_a_brain_founds_another_world_with_the_same_weights(run, tmp_path):
    """Exported from one run, used as founder in another (a different scenario and seed): the founder's weights
    are the brain's before mutation, and a mutated copy after it (as a child is), deterministically."""
    path = tmp_path / "best.json"
    assert main(["brain", "export", str(run / "population.npz"), "--best", "--out", str(path)]) == 0
    brain = bf.read(path)
    plain = make("edges", seed=9, agents=30, mutation_rate=0.0, founders=[brain])
    assert np.array_equal(plain.genomes[0], brain.genome)  # no mutation: the very weights
    assert not np.array_equal(plain.genomes[1], brain.genome)  # the others are random
    a = make("edges", seed=9, agents=30, founders=[brain, brain])
    b = make("edges", seed=9, agents=30, founders=[brain, brain])
    assert np.array_equal(a.genomes, b.genomes)  # the run's own Generator: deterministic
    changed = a.genomes[0] != brain.genome
    assert 0 < changed.sum() < 0.35 * brain.genome.size  # mutation_rate 0.1 of the genes
    assert np.abs(a.genomes[0] - brain.genome).max() < 2.0 and not np.array_equal(a.genomes[0], a.genomes[1])
    fill = make("edges", seed=9, agents=30, mutation_rate=0.0, founders=[brain], founders_fill=True)
    assert all(np.array_equal(g, brain.genome) for g in fill.genomes)
    # through the command line: a short run whose slot 0 still holds its founder
    out = tmp_path / "run"
    assert main(["run", "edges", "--seed", "4", "--minutes", "0.01", "--quiet", "--no-plot", "--out", str(out),
                 "--set", "evolution.mutation_rate=0", "--founders", str(path)]) == 0
    data, _, _ = read_population(out / "population.npz")
    assert data["state_genome_id"][0] == 0 and np.array_equal(data["genomes"][0], brain.genome)


def test_live_export_of_a_slot(tmp_path):
    sim = make("cursor", seed=3, agents=10)
    sim.run(30)
    path = bf.export_slot(sim, 4, tmp_path, family=7)
    again = bf.export_slot(sim, 4, tmp_path)
    assert path.name == f"brain-{int(sim.state.genome_id[4])}.json" and again != path  # never over another
    b = bf.read(path)
    assert np.array_equal(b.genome, sim.genomes[4]) and b.provenance["family"] == 7
    assert b.provenance["age_s"] == pytest.approx(30 / 60.0) and bf.mismatch(b, sim) is None


def test_brain_show_draws_the_net(run, tmp_path):
    from PIL import Image

    path = tmp_path / "b.json"
    assert main(["brain", "export", str(run / "replay"), "--best", "--out", str(path)]) == 0
    assert main(["brain", "show", str(path)]) == 0
    img = np.asarray(Image.open(path.with_suffix(".png")).convert("RGB")).astype(int)
    assert img.shape[0] >= 300 and img.shape[1] >= 500
    warm = ((img[..., 0] > 200) & (img[..., 2] < 120)).sum()
    cool = ((img[..., 2] > 200) & (img[..., 0] < 140)).sum()
    assert warm > 200 and cool > 200  # positive and negative weights drawn


@pytest.mark.parametrize("frame", ["ego", "world"])
def test_brain_show_names_the_inputs_as_the_inspector_does(tmp_path, frame):
    """The drawing's input labels are the inspector's: the same words, and the inputs that are always 0 in the
    ego frame (the heading) left out."""
    pytest.importorskip("pygame")
    from neuroevo.ui.inspector import net_inputs

    sim = make("cursor", seed=1, agents=5, overrides={"brain.frame": frame})
    b = bf.read(bf.export_slot(sim, 0, tmp_path))
    shown = [lab for lab, zero in zip(bf.input_labels(b.inputs, b.frame), bf.always_zero(b.inputs, b.frame))
             if not zero]
    assert shown == [lab for _, lab in net_inputs(frame, sim.input_offsets)]
    assert ("cos heading" in shown) == (frame == "world")
    bf_png = tmp_path / "b.png"
    assert main(["brain", "show", str(tmp_path / f"brain-{b.provenance['genome_id']}.json"), "--out",
                 str(bf_png)]) == 0 and bf_png.stat().st_size > 5000


def test_bad_brains_give_one_line_and_exit_2(run, tmp_path, capsys):
    good = tmp_path / "good.json"
    assert main(["brain", "export", str(run / "population.npz"), "--best", "--out", str(good)]) == 0
    capsys.readouterr()
    d = json.loads(good.read_text())
    future = tmp_path / "future.json"
    future.write_text(json.dumps({**d, "format_version": 3}))
    trunc = tmp_path / "trunc.json"
    trunc.write_text(good.read_text()[:400])
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"weights": []}))
    short = tmp_path / "short.json"
    d2 = json.loads(good.read_text())
    d2["weights"][0]["W"] = d2["weights"][0]["W"][:-1]
    short.write_text(json.dumps(d2))
    import shutil

    cut = tmp_path / "cut"
    shutil.copytree(run / "replay", cut)
    chunk = sorted(cut.glob("chunk-*.npz"))[-1]
    chunk.write_bytes(chunk.read_bytes()[:200])
    out = str(tmp_path / "o")
    cases = [
        (["brain", "export", str(cut), "--best", "--out", out + ".json"], chunk.name),
        (["run", "cursor", "--founders", str(future), "--out", out], "format version 3 is not supported"),
        (["run", "cursor", "--founders", str(trunc), "--out", out], "trunc.json: not a neuroevo brain file"),
        (["run", "cursor", "--founders", str(foreign), "--out", out], "not a neuroevo brain file"),
        (["run", "cursor", "--founders", str(short), "--out", out], "layer 1 has W (9, 16)"),
        (["run", "cursor", "--founders", str(tmp_path / "none.json"), "--out", out], "no such brain file"),
        (["run", "crowd", "--founders", str(good), "--out", out], "the world gives edges, self, neighbours"),
        (["run", "cursor", "--set", "brain.frame=world", "--founders", str(good), "--out", out], "ego frame"),
        (["run", "cursor", "--agents", "1", "--founders", str(good), str(good), "--out", out], "2 founder brains"),
        (["run", "cursor", "--founders-fill", "--out", out], "--founders-fill needs --founders"),
        (["brain", "export", str(run / "population.npz"), "--id", "99999", "--out", out + ".json"],
         "no genome with id 99999"),
        (["brain", "export", str(run / "replay"), "--id", "99999", "--out", out + ".json"], "no genome with id 99999"),
        (["brain", "export", str(tmp_path / "trunc.json"), "--best", "--out", out + ".json"], "trunc.json"),
        (["brain", "show", str(future)], "format version 3"),
    ]
    for argv, needle in cases:
        one_line_error(capsys, argv, needle)
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.json").exists()
