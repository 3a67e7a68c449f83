"""Growing brains and species in the window: the HUD's unit and species figures, the inspector's active structure,
species colours, and replays of a growing run in the replay player (drawn without a window, dummy video driver)."""

import os

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
pygame = pytest.importorskip("pygame")

from neuroevo import replay as rp  # noqa: E402
from neuroevo.brain import active_units  # noqa: E402
from neuroevo.cli import main  # noqa: E402
from neuroevo.scenario import load_scenario  # noqa: E402
from neuroevo.sim import make  # noqa: E402
from neuroevo.species import count as species_count  # noqa: E402
from neuroevo.ui.geometry import Camera  # noqa: E402
from neuroevo.ui.hud import world_lines  # noqa: E402
from neuroevo.ui.inspector import Inspector, net_inputs  # noqa: E402
from neuroevo.ui.replayview import ReplayView  # noqa: E402
from neuroevo.ui.scene import Scene  # noqa: E402
from neuroevo.ui.theme import LINEAGE_TINTS, OFF_UNIT  # noqa: E402
from neuroevo.ui.view import LiveView  # noqa: E402
from neuroevo.ui.window import Window  # noqa: E402

GROWING = {"brain.hidden_start": 1, "evolution.add_unit_rate": 0.3}


@pytest.fixture(autouse=True)
def no_window():
    pygame.display.quit()
    yield


def live_world(scenario="edges", agents=20, seed=3, steps=0, **settings):
    sim = make(load_scenario(scenario), seed=seed, overrides={"world.agents": agents, **settings})
    world = LiveView(sim)
    if steps:
        world.advance(steps)
    return world


def set_units(world, slot, pattern):
    """Switch the slot's hidden units on and off by pattern: [(h1,) bool, ...]."""
    g = world.sim.genomes[slot]
    g[world.layout.n_weights:] = np.concatenate(pattern).astype(np.float32)


def close(c, want, tol=24):
    return max(abs(a - b) for a, b in zip(c, want)) <= tol


# ---- HUD ----------------------------------------------------------------------------------------------------
def test_hud_shows_switched_on_units_of_the_living_when_brains_grow():
    world = live_world(**GROWING)
    assert "brains" not in world_lines(live_world())  # a fixed net says nothing about units
    s, layout = world.state, world.layout
    for slot in range(s.n):  # slot i has 1 + i % 4 units on: mean 2.5 over 20 slots
        set_units(world, slot, [np.arange(16) < 1 + slot % 4])
    s.alive[:] = True
    s.alive[[3, 7]] = False  # two with 4 units on are dead and not counted: 42 / 18 = 2.33
    want = np.mean([sum(a.sum() for a in active_units(layout, world.sim.genomes[i])) for i in np.flatnonzero(s.alive)])
    assert f"{want:.1f}" == "2.3"
    assert world_lines(world)["brains"] == "hidden units on 2.3/16 (max 4)"


def test_hud_shows_the_species_count_with_niching():
    world = live_world(agents=30, **{"evolution.niching": "species", "evolution.species_target": 5})
    assert "species: formed at the first step" in world_lines(world)["brains"]
    world.advance(30)
    n = species_count(world.sim.species)
    assert n >= 2
    assert world_lines(world)["brains"] == f"species {n}"
    both = live_world(agents=30, steps=5, **GROWING, **{"evolution.niching": "species"})
    line = world_lines(both)["brains"]
    assert line.startswith("hidden units on 1.0/16 (max 1)") and f"species {species_count(both.sim.species)}" in line


# ---- inspector ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hidden", ["16", "8,6"])
def test_inspector_draws_only_the_units_that_are_on(hidden):
    world = live_world(agents=12, steps=3, **GROWING, **{"brain.hidden": hidden})
    layout = world.layout
    widths = layout.sizes[1:-1]
    slot = int(np.flatnonzero(world.state.alive)[0])
    pattern = [np.isin(np.arange(h), [0, 3, h - 1]) for h in widths]  # 3 units on in each hidden layer
    set_units(world, slot, pattern)
    ins = Inspector()
    ins.pick(world, *world.state.pos[slot], reach=3.0)
    surf = pygame.Surface((1280, 720))
    rect = ins.draw(surf, world)
    pic = ins.picture(world)
    assert pic.caption == "hidden " + ", ".join(f"3/{h}" for h in widths) + " on"
    on_units = {u for u, on in zip(pic.units, pic.on) if on}
    n_in = len(net_inputs(world.settings.brain.frame, world.input_offsets))
    assert len(on_units) == n_in + 3 * len(widths) + layout.n_out
    starts = np.cumsum([0, *layout.sizes])
    for li, pat in enumerate(pattern):  # hidden slots all drawn, the off ones marked off
        drawn = [on for u, on in zip(pic.units, pic.on) if starts[li + 1] <= u < starts[li + 2]]
        assert drawn == pat.tolist()
    assert pic.lines and all(a in on_units and b in on_units for a, b in pic.lines)  # no line to an off unit
    n_links = n_in * 3 + 3 * 3 * (len(widths) - 1) + 3 * layout.n_out
    assert len(pic.lines) == n_links
    # drawn: an off unit is an empty ring (the panel shows through its middle), an on unit a filled disc
    top = rect.top + (66 if pic.caption else 50)
    x0 = rect.left
    for u, (nx, ny), on in zip(pic.units, pic.nodes, pic.on):
        if starts[1] <= u < starts[-2]:
            centre = surf.get_at((x0 + nx, top + ny))[:3]
            ring = [surf.get_at((x0 + nx + dx, top + ny))[:3] for dx in (-4, -3, 3, 4)]
            if on:
                assert not close(centre, OFF_UNIT, 8)
            else:
                assert any(close(c, OFF_UNIT, 30) for c in ring) and not close(centre, OFF_UNIT, 30), (u, centre)


def test_inspector_names_the_species():
    world = live_world(agents=30, steps=20, **{"evolution.niching": "species"})
    sp = world.sim.species
    slot = int(np.flatnonzero(world.state.alive)[4])
    ins = Inspector()
    ins.pick(world, *world.state.pos[slot], reach=3.0)
    ins.draw(pygame.Surface((1280, 720)), world)
    assert ins.species == int(sp.label[sp.of[slot]]) >= 0
    plain = Inspector()
    other = live_world(steps=2)
    plain.pick(other, *other.state.pos[0], reach=3.0)
    plain.draw(pygame.Surface((1280, 720)), other)
    assert plain.species is None and plain.picture(other).caption == ""


def test_inspector_shows_the_agility_that_replacement_judges():
    world = live_world(agents=20, steps=90, **{"brain.init_weights": 1.0})
    st = world.state
    slot = int(np.flatnonzero(st.alive & (st.age > 0))[0])
    ins = Inspector()
    ins.pick(world, *st.pos[slot], reach=3.0)
    ins.draw(pygame.Surface((1280, 720)), world)
    assert f"agility {st.agility[slot] / st.age[slot]:.2f}" in ins.about
    assert 0.0 < world.agility(slot) <= 1.0


# ---- species colours ------------------------------------------------------------------------------------------
def test_species_colour_mode_tints_each_species_alike():
    world = live_world(agents=40, seed=5, steps=60, **{"evolution.niching": "species", "evolution.species_target": 4})
    assert world.colour_modes() == ("family", "species")
    assert live_world().colour_modes() == ("family",)
    assert live_world("teams", agents=8).colour_modes() == ("team", "family")
    win = Window(world)
    assert win.cycle_colours() == "species" and "species" in win.toasts.last
    assert win.hud_text()["colours"] == "colours: species [G]"
    labels = world.species()
    s = world.state
    surf = pygame.Surface((1280, 720))
    cam = Camera(1280, 720, 1280, 720)
    Scene().draw(surf, world, cam, now=0.0, colours="species")
    d = np.linalg.norm(s.pos[:, None] - s.pos[None], axis=2)
    d[np.arange(s.n), np.arange(s.n)] = np.inf
    lonely = np.flatnonzero(s.alive & (d.min(axis=1) > 30))
    seen: dict[int, set] = {}
    for i in lonely.tolist():
        x, y = (int(round(c)) for c in cam.to_screen(*s.pos[i]))
        px = tuple(surf.get_at((x, y))[:3])
        assert close(px, LINEAGE_TINTS[labels[i] % len(LINEAGE_TINTS)]), (i, labels[i], px)
        seen.setdefault(int(labels[i]), set()).add(int(world.founders()[i]))
    assert len(seen) >= 2  # several species in the picture
    assert any(len(f) >= 2 for f in seen.values())  # a species spanning families: coloured as one, not by family
    assert win.cycle_colours() == "family"  # G again: back to families


# ---- a replay of a growing run ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    """A 20-second recording of edges with growing brains, made through the CLI as a user would."""
    out = tmp_path_factory.mktemp("grow")
    assert main(["run", "edges", "--seed", "4", "--minutes", "0.34", "--agents", "24", "--record", "--quiet",
                 "--no-plot", "--out", str(out), "--set", "brain.hidden_start=1", "--set",
                 "evolution.add_unit_rate=0.6"]) == 0
    return out


def test_a_growing_run_replays_with_its_units(grown, tmp_path):
    from neuroevo.checkpoint import read
    from neuroevo.ui.playback import PlaybackWindow

    r = rp.open(grown / "replay")
    assert r.layout.gated and r.layout.n_params == r.layout.n_weights + 16
    data, _, _ = read(grown / "population.npz")
    genomes, alive = data["genomes"], data["state_alive"]
    v = PlaybackWindow(r, out_dir=tmp_path)
    v.open()
    try:
        v.frame()  # playing
        v.seek(len(r) - 1)
        v.paused = True
        v.frame()
        on = (genomes[alive, r.layout.n_weights:] > 0.5).sum(axis=1)  # the run's own final genomes
        assert on.max() >= 2  # units were added
        assert v.hud_text()["brains"] == f"hidden units on {on.mean():.1f}/16 (max {on.max()})"
        np.testing.assert_array_equal(v.world.hidden_on()[v.world.state.alive], on)
        slot = int(np.flatnonzero(alive)[np.argmax(on)])
        v.inspector.pick(v.world, *v.world.state.pos[slot], reach=3.0)
        v.frame()
        assert v.inspector.slot == slot
        pic = v.inspector.picture(v.world)
        hidden = [on_ for u, on_ in zip(pic.units, pic.on) if r.layout.n_in <= u < r.layout.n_in + 16]
        assert hidden == active_units(r.layout, genomes[slot])[0].tolist()
        assert pic.caption == f"hidden {on.max()}/16 on"
        assert v.screenshot(tmp_path / "shot.png") is not None
    finally:
        pygame.display.quit()
    # the other ways to look at it: a GIF, the family tree
    assert main(["replay", str(grown / "replay"), "--export", str(tmp_path / "clip.gif"), "--from", "1", "--to", "2",
                 "--fps", "5", "--scale", "0.25", "--quiet"]) == 0
    assert main(["replay", str(grown / "replay"), "--tree", str(tmp_path / "tree.png"), "--quiet"]) == 0
    assert (tmp_path / "clip.gif").stat().st_size > 0 and (tmp_path / "tree.png").stat().st_size > 0
    rv = ReplayView(r)  # seeking back recomputes the units of every slot's holder
    rv.seek(len(r) - 1)
    rv.seek(0)
    n_w = r.layout.n_weights
    want = [int((r.genome(int(g))[n_w:] > 0.5).sum()) for g in rv.state.genome_id]
    assert rv.hidden_on().tolist() == want and max(want) == 1  # the founders start with one unit
