"""Lineage: exact families of a running world, the history of a replay, the collapsed ancestry, the tree figure."""

import os

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from neuroevo import replay as rp  # noqa: E402
from neuroevo.cli import main  # noqa: E402
from neuroevo.lineage import FAMILY_TINTS, FamilyTracker, branches, family_table, from_replay  # noqa: E402
from neuroevo.observers import MinuteStats  # noqa: E402
from neuroevo.sim import make  # noqa: E402


def exact_families(r, h, frame):
    idx = h.index()
    gid = r.slots_at(frame)[0][r.frame(frame).alive]
    return len({int(h.founder[idx[int(g)]]) for g in gid.tolist()})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Two minutes of the cursor scenario, every step recorded, with the per-minute rows beside it, and a tracker
    that looks only once a minute (so parents born and dead between its looks are common)."""
    path = tmp_path_factory.mktemp("lineage") / "rec"
    # a seed whose first 2 minutes have a parent born and dead between looks; founders with weights, which die
    # early (with blind founders no family of this seed dies out in minute 2: 29 families at both looks)
    sim = make("cursor", seed=5, agents=40, init_weights=1.0, init_bias=2.0)
    stats = MinuteStats(sim)
    sim.add_observer(stats)
    rare = FamilyTracker(sim, every=3600)
    sim.add_observer(rare)
    rec = rp.Recorder(sim, path)
    sim.add_observer(rec)
    sim.run(2 * 3600)
    rec.close()
    return sim, stats, rare, rp.open(rec.path)


def test_families_per_minute_are_exact(recorded):
    sim, stats, rare, r = recorded
    h = from_replay(r)
    want = [exact_families(r, h, m * 3600) for m in (1, 2)]
    assert [row["families"] for row in stats.rows] == want
    assert want[0] > want[-1] >= 1  # families die out
    assert stats.tracker.unresolved == 0
    # looking once a minute misses parents; re-running those minutes finds every one of them
    assert rare.resolved > 0 and rare.unresolved == 0
    assert rare.families(sim) == want[-1]
    idx = h.index()
    assert rare.founders_of(sim).tolist() == [int(h.founder[idx[g]]) for g in sim.state.genome_id.tolist()]


def test_history_of_a_replay(recorded):
    sim, _, _, r = recorded
    h = from_replay(r)
    last = len(r) - 1
    assert np.array_equal(np.sort(h.gid[h.alive]), np.sort(r.slots_at(last)[0][r.frame(last).alive]))
    assert (h.died[~h.alive] >= h.born[~h.alive]).all() and (np.diff(h.gid) > 0).all()
    assert all(int(f) == r.founder(int(g)) for g, f in zip(h.gid, h.founder))
    assert h.gid.size == 40 + r.births["gid"].size and (h.parent[:40] == -1).all()
    rows = family_table(h)
    assert sum(r_["living"] for r_ in rows) == int(h.alive.sum()) == int(sim.state.alive.sum())
    assert sum(r_["descendants"] for r_ in rows) == r.births["gid"].size
    assert rows[0]["living"] == max(r_["living"] for r_ in rows)


def test_ancestry_of_the_living_collapses_to_branches(recorded):
    sim, _, _, r = recorded
    h = from_replay(r)
    nodes = branches(h)
    by = {n["gid"]: n for n in nodes}
    leaves = [n for n in nodes if n["alive"]]
    assert len(leaves) == int(h.alive.sum())
    assert sorted(n["row"] for n in leaves) == list(range(len(leaves)))
    for n in nodes:
        assert n["living"] >= 1 and (n["parent"] == -1 or n["parent"] in by)
        if not n["alive"]:  # a dead node is kept only where its lineage splits
            assert sum(c["parent"] == n["gid"] for c in nodes) >= 2
    roots = [n for n in nodes if n["parent"] == -1]
    assert sum(n["living"] for n in roots) == len(leaves)
    assert len({n["founder"] for n in roots}) == len(roots) == len({int(f) for f in h.founder[h.alive]})
    assert any(n["folded"] > 0 for n in nodes)  # chains of single children were folded
    # the live panel's data come from a tracker with history, and agree with the replay's
    live = FamilyTracker(sim, history=True)
    assert sorted(n["gid"] for n in live.branches(sim)) == sorted(sim.state.genome_id.tolist())


def test_a_resumed_run_keeps_its_families(tmp_path):
    from neuroevo.sim import Simulation

    def run(sim, minutes):
        stats = MinuteStats(sim)
        sim.add_observer(stats)
        sim.run(minutes * 3600)
        return stats

    whole = run(make("cursor", seed=6, agents=30), 2)
    first = make("cursor", seed=6, agents=30)
    run(first, 1)
    first.save(tmp_path / "p.npz")
    again, extra = Simulation.load(tmp_path / "p.npz", hooks=first.hooks)
    assert len(extra["families"]["founders"]) == 30
    second = run(again, 1)
    assert second.rows[-1]["families"] == whole.rows[-1]["families"] < 30


def test_tracker_history_of_a_running_world():
    sim = make("cursor", seed=4, agents=40)
    t = FamilyTracker(sim, history=True, every=60)
    sim.add_observer(t)
    sim.run(2 * 3600)
    nodes = t.branches(sim)
    assert len([n for n in nodes if n["alive"]]) == int(sim.state.alive.sum())
    assert len({n["founder"] for n in nodes if n["parent"] == -1}) == t.families(sim)


def test_tree_png_from_the_command_line(recorded, tmp_path, capsys):
    from PIL import Image

    _, _, _, r = recorded
    out = tmp_path / "tree.png"
    assert main(["replay", str(r.path), "--tree", str(out)]) == 0  # no window: --tree alone only draws
    assert "families at the end" in capsys.readouterr().err
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    h = from_replay(r)
    for f in {int(f) for f in h.founder[h.alive]}:  # every living family's colour is on the figure, strong
        tint = np.array(FAMILY_TINTS[f % len(FAMILY_TINTS)])
        assert (np.abs(img - tint).max(axis=2) <= 8).sum() > 50, f
    assert main(["replay", str(r.path), "--tree", str(tmp_path / "tree.jpg")]) == 2
    assert main(["replay", str(tmp_path / "missing"), "--tree", str(out)]) == 2


def test_family_colours_are_the_viewers():
    from neuroevo.ui.theme import LINEAGE_TINTS

    assert FAMILY_TINTS == LINEAGE_TINTS
