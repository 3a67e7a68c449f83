"""The live window under SDL's dummy video driver, driven by posted events (the way a user drives it)."""

import os
import subprocess
import sys

import numpy as np
import pytest

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
pygame = pytest.importorskip("pygame")

from neuroevo.config import CHOICES  # noqa: E402
from neuroevo.scenario import load_scenario  # noqa: E402
from neuroevo.sim import Simulation, make  # noqa: E402
from neuroevo.state import CURSOR, K_BIRTHS, K_DEATHS  # noqa: E402
from neuroevo.ui.live import LiveWindow  # noqa: E402
from neuroevo.ui.theme import LINEAGE_TINTS, WORLD_BG  # noqa: E402


def make_viewer(tmp_path, agents=20, seed=3, scenario="edges", **kw):
    sc = load_scenario(scenario)
    sim = make(sc, seed=seed, overrides={"world.agents": agents})
    v = LiveWindow(sim, out_dir=tmp_path, autosave=kw.pop("autosave", False), **kw)
    v.open()
    return v


@pytest.fixture
def viewer(tmp_path):
    v = make_viewer(tmp_path)
    yield v
    pygame.display.quit()


def post_key(key, char=""):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=char, mod=0, scancode=0))


def post_click(pos, button=1):
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=button))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=button))


def lonely_slot(sim, min_gap):
    """A living slot with no other agent within min_gap px (so a click there kills it alone)."""
    s = sim.state
    d = np.linalg.norm(s.pos[:, None, :] - s.pos[None, :, :], axis=2)
    d[np.arange(s.n), np.arange(s.n)] = np.inf
    d[:, ~s.alive] = np.inf
    ok = np.flatnonzero(s.alive & (d.min(axis=1) > min_gap))
    assert ok.size, "no isolated agent in this seed"
    return int(ok[0])


def test_click_on_an_agent_kills_it_and_a_birth_replaces_it(viewer):
    sim = viewer.world.sim
    for _ in range(5):
        viewer.frame()
    slot = lonely_slot(sim, 3 * sim.settings.cursor.kill_radius)
    gid = int(sim.state.genome_id[slot])
    kills, births = sim.state.counters[K_DEATHS + CURSOR], sim.state.counters[K_BIRTHS]
    post_click(viewer.camera.to_screen(*sim.state.pos[slot]))
    viewer.frame()
    s = sim.state
    assert s.counters[K_DEATHS + CURSOR] == kills + 1
    assert s.counters[K_BIRTHS] >= births + 1
    assert int(s.genome_id[slot]) != gid and s.alive[slot]  # the slot holds a newborn
    assert int(s.cause[slot]) == CURSOR


def test_click_on_empty_space_kills_nobody(viewer):
    sim = viewer.world.sim
    viewer.frame()
    s = sim.state
    grid = np.stack(np.meshgrid(np.linspace(100, 1180, 28), np.linspace(100, 620, 14)), -1).reshape(-1, 2)
    far = grid[np.linalg.norm(grid[:, None] - s.pos[None], axis=2).min(axis=1).argmax()]
    kills = s.counters[K_DEATHS + CURSOR]
    post_click(viewer.camera.to_screen(*far))
    viewer.frame()
    assert s.counters[K_DEATHS + CURSOR] == kills


def test_pause_stops_the_simulation_and_dot_steps_once(viewer):
    viewer.frame()
    post_key(pygame.K_SPACE, " ")
    viewer.frame()
    t = viewer.world.sim.step_count
    for _ in range(3):
        viewer.frame()
    assert viewer.world.sim.step_count == t
    post_key(pygame.K_PERIOD, ".")
    viewer.frame()
    assert viewer.world.sim.step_count == t + 1
    viewer.frame()
    assert viewer.world.sim.step_count == t + 1
    post_key(pygame.K_SPACE, " ")
    viewer.frame()
    assert viewer.world.sim.step_count == t + 2


def test_speed_keys_change_steps_per_frame(viewer):
    def steps_of_one_frame():
        t = viewer.world.sim.step_count
        viewer.frame()
        return viewer.world.sim.step_count - t

    assert steps_of_one_frame() == 1
    post_key(pygame.K_EQUALS, "+")
    assert steps_of_one_frame() == 2
    post_key(pygame.K_KP_PLUS, "+")
    assert steps_of_one_frame() == 4
    post_key(pygame.K_MINUS, "-")
    assert steps_of_one_frame() == 2
    for _ in range(10):
        post_key(pygame.K_EQUALS, "+")
    viewer.frame()  # turbo: as many steps as fit in the frame budget, at least 16
    assert steps_of_one_frame() >= 16


def test_speed_never_changes_behaviour(tmp_path):
    """4 frames at 4x == 16 frames at 1x == 16 headless steps, bit for bit (mouse away from the window)."""
    a = make_viewer(tmp_path / "a", speed=4)
    for _ in range(4):
        a.frame()
    pygame.display.quit()
    b = make_viewer(tmp_path / "b", speed=1)
    for _ in range(16):
        b.frame()
    pygame.display.quit()
    sc = load_scenario("edges")
    c = make(sc, seed=3, overrides={"world.agents": 20})
    c.run(16)
    for sim in (a.world.sim, b.world.sim):
        assert sim.step_count == 16
        np.testing.assert_array_equal(sim.genomes, c.genomes)
        np.testing.assert_array_equal(sim.state.pos, c.state.pos)


def test_save_then_load_restores_the_population(viewer, tmp_path):
    for _ in range(3):
        viewer.frame()
    viewer.paused = True
    post_key(pygame.K_s, "s")
    viewer.frame()
    assert (tmp_path / "population.npz").is_file()
    genomes, step = viewer.world.sim.genomes.copy(), viewer.world.sim.step_count
    post_key(pygame.K_SPACE, " ")
    post_click(viewer.camera.to_screen(*viewer.world.sim.state.pos[0]))  # a death and a birth change the genomes
    for _ in range(4):
        post_key(pygame.K_EQUALS, "+")
    for _ in range(20):
        viewer.frame()
    assert not np.array_equal(viewer.world.sim.genomes, genomes)
    viewer.paused = True
    post_key(pygame.K_l, "l")
    viewer.frame()
    assert viewer.world.sim.step_count == step
    np.testing.assert_array_equal(viewer.world.sim.genomes, genomes)


def test_autosave_on_quit(tmp_path):
    v = make_viewer(tmp_path, autosave=True)
    v.frame()
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert v.frame() is False
    v.close()
    sim, _ = Simulation.load(tmp_path / "population.npz")
    np.testing.assert_array_equal(sim.genomes, v.world.sim.genomes)


def test_screenshot_shows_smileys_where_the_state_says(viewer, tmp_path):
    sim = viewer.world.sim
    for _ in range(30):
        viewer.frame()
    viewer.paused = True
    viewer.frame()
    path = viewer.screenshot(tmp_path / "shot.png")
    img = pygame.image.load(str(path))
    s = sim.state
    hud = [pygame.Rect(0, 0, 420, 160), pygame.Rect(0, img.get_height() - 170, 360, 170)]
    checked = 0
    for i in np.flatnonzero(s.alive):
        others = np.delete(s.pos[s.alive], np.flatnonzero(np.flatnonzero(s.alive) == i), axis=0)
        if np.linalg.norm(others - s.pos[i], axis=1).min() < 40:
            continue
        x, y = (int(round(c)) for c in viewer.camera.to_screen(*s.pos[i]))
        if any(r.collidepoint(x, y) for r in hud):
            continue
        tint = LINEAGE_TINTS[int(viewer.world.founders()[i]) % len(LINEAGE_TINTS)]
        px = img.get_at((x, y))[:3]
        assert max(abs(a - b) for a, b in zip(px, tint)) <= 24, (i, px, tint)
        far = (x + 40, y) if x + 40 < img.get_width() - 5 else (x - 40, y)
        if np.linalg.norm(s.pos[s.alive] - np.array(viewer.camera.to_world(*far)), axis=1).min() > 30:
            assert tuple(img.get_at(far)[:3]) == WORLD_BG
        checked += 1
    assert checked >= 5


def test_resized_window_maps_clicks_to_the_world(viewer):
    viewer.screen = pygame.display.set_mode((640, 360), pygame.RESIZABLE)
    viewer.handle(pygame.event.Event(pygame.VIDEORESIZE, w=640, h=360, size=(640, 360)))
    assert viewer.camera.scale == pytest.approx(0.5)
    assert viewer.scene.sprites(viewer.world, viewer.camera).size < 18
    sim = viewer.world.sim
    viewer.frame()
    slot = lonely_slot(sim, 3 * sim.settings.cursor.kill_radius)
    gid = int(sim.state.genome_id[slot])
    post_click(viewer.camera.to_screen(*sim.state.pos[slot]))
    viewer.frame()
    assert int(sim.state.genome_id[slot]) != gid


def test_inspector_opens_on_right_click_and_c_toggles_the_bot(viewer):
    sim = viewer.world.sim
    viewer.frame()
    slot = lonely_slot(sim, 40)
    post_click(viewer.camera.to_screen(*sim.state.pos[slot]), button=3)
    viewer.frame()
    assert viewer.inspector.slot == slot
    assert viewer.world.sim.state.alive[slot]
    src = CHOICES["cursor.source"]
    assert sim.params.cursor_source == src.index("external")
    post_key(pygame.K_c, "c")
    viewer.frame()
    assert sim.params.cursor_source == src.index("hunter")
    assert sim.settings.cursor.source == "none"  # the scenario's own settings (and what save writes) stay


def test_e_exports_the_inspected_brain(viewer):
    from neuroevo.brainfile import read

    sim = viewer.world.sim
    post_key(pygame.K_e, "e")
    viewer.frame()
    assert not list(viewer.out_dir.glob("brain-*.json"))  # nobody inspected: nothing written
    viewer.frame()
    slot = lonely_slot(sim, 40)
    post_click(viewer.camera.to_screen(*sim.state.pos[slot]), button=3)
    viewer.frame()
    genome = sim.genomes[slot].copy()
    post_key(pygame.K_e, "e")
    viewer.frame()
    (path,) = viewer.out_dir.glob("brain-*.json")
    assert path.name == f"brain-{int(sim.state.genome_id[slot])}.json"
    assert np.array_equal(read(path).genome, genome)


def test_e_exports_a_growing_brain_with_its_units_on_and_off(tmp_path):
    """E in a world of growing brains: the file holds the on/off pattern, and reads back as the same net."""
    import json

    from neuroevo.brain import active_units
    from neuroevo.brainfile import read

    sim = make("edges", seed=3, agents=20, hidden_start=4, add_unit_rate=0.0)
    v = LiveWindow(sim, out_dir=tmp_path, autosave=False)
    v.open()
    try:
        v.frame()
        slot = lonely_slot(sim, 40)
        post_click(v.camera.to_screen(*sim.state.pos[slot]), button=3)
        v.frame()
        assert v.inspector.slot == slot
        genome = sim.genomes[slot].copy()
        post_key(pygame.K_e, "e")
        v.frame()
    finally:
        pygame.display.quit()
    (path,) = tmp_path.glob("brain-*.json")
    b = read(path)
    assert b.gated and np.array_equal(b.genome, genome)
    assert json.loads(path.read_text())["layout"]["hidden_on"] == [[1] * 4 + [0] * 12]
    assert [a.tolist() for a in b.hidden_on] == [a.tolist() for a in active_units(sim.layout, genome)]


def test_live_without_a_display_says_so_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    r = subprocess.run([sys.executable, "-m", "neuroevo.cli", "live"], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "neuroevo run" in lines[0], r.stderr


def test_live_rejects_bad_input_in_one_line(tmp_path):
    for argv, needle in ((["live", "nosuch"], "nosuch"), (["live", "--size", "12"], "--size"),
                         (["live", "--load", str(tmp_path / "missing.npz")], "missing.npz")):
        r = subprocess.run([sys.executable, "-m", "neuroevo.cli", *argv], capture_output=True, text=True,
                           cwd=tmp_path, timeout=120)
        assert r.returncode == 2, argv
        assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr, r.stderr


def test_hunter_scenario_starts_with_the_bot(tmp_path):
    v = make_viewer(tmp_path, scenario="cursor")
    assert not v.human
    assert v.world.sim.params.cursor_source == CHOICES["cursor.source"].index("hunter")
    pygame.display.quit()


def test_icons_are_drawn_where_the_simulation_has_them(tmp_path):
    from neuroevo.ui.theme import ICON_EDGE, ICON_FILL, ICON_TOP

    v = make_viewer(tmp_path, scenario="icons", agents=10)
    try:
        v.paused = True
        v.frame()
        world_only = pygame.Surface(v.screen.get_size())  # the world as the window draws it, without HUD panels
        v.scene.draw(world_only, v.world, v.camera, v.now())
        icons = v.world.sim.icons
        assert len(icons) == 8
        for x0, y0, x1, y1 in icons.tolist():
            # a point in the lower part of the rectangle, away from agents: the icon's body colour
            at = np.array([0.5 * (x0 + x1), y0 + 0.8 * (y1 - y0)])
            px, py = v.camera.to_screen(*at)
            if np.linalg.norm(v.world.sim.state.pos - at, axis=1).min() < 12:
                continue
            assert tuple(world_only.get_at((int(px), int(py)))[:3]) in (ICON_FILL, ICON_TOP, ICON_EDGE)
    finally:
        pygame.display.quit()


def test_teams_wear_team_colours(tmp_path):
    from neuroevo.ui.sprites import tint_index
    from neuroevo.ui.theme import TEAM_TINTS

    v = make_viewer(tmp_path, scenario="teams", agents=20)
    try:
        t = tint_index(v.world.teams(), v.world.founders())
        np.testing.assert_array_equal(t, v.world.sim.state.team % len(TEAM_TINTS))
        assert set(t.tolist()) == {0, 1}
    finally:
        pygame.display.quit()


def test_hot_reload_keeps_the_population_or_says_why_not(tmp_path):
    path = tmp_path / "mine.py"
    base = (
        "from neuroevo.scenario import Scenario\n\n\n"
        "class Mine(Scenario):\n"
        "    '''Edges and a hunter.'''\n\n"
        "    cursor = {{'source': 'hunter', 'speed': {speed}}}\n"
        "    sensors = {sensors}\n"
    )
    path.write_text(base.format(speed=250.0, sensors="('edges', 'cursor', 'self')"))
    sc = load_scenario(str(path))
    sim = make(sc, seed=1, overrides={"world.agents": 20})
    v = LiveWindow(sim, out_dir=tmp_path / "out", autosave=False, scenario_path=path, overrides={"world.agents": 20})
    v.open()
    try:
        for _ in range(5):
            v.frame()
        genomes = v.world.sim.genomes.copy()
        step = v.world.sim.step_count
        path.write_text(base.format(speed=123.0, sensors="('edges', 'cursor', 'self')"))
        v.check_reload(force=True)
        assert v.world.sim.settings.cursor.speed == 123.0
        assert v.world.sim.step_count == step
        np.testing.assert_array_equal(v.world.sim.genomes, genomes)
        assert "reloaded" in v.toasts.last
        path.write_text(base.format(speed=123.0, sensors="('edges', 'self')"))  # 10 -> 6 inputs
        v.check_reload(force=True)
        assert "genome layout changed" in v.toasts.last
        assert v.world.sim.layout.n_in == 10
        path.write_text("class Broken(:\n")
        v.check_reload(force=True)
        assert "not reloaded" in v.toasts.last and "mine.py" in v.toasts.last
        v.frame()  # the session goes on
    finally:
        pygame.display.quit()


def test_a_failing_hook_pauses_the_session_instead_of_ending_it(tmp_path):
    path = tmp_path / "fragile.py"
    path.write_text(
        "from neuroevo.scenario import Scenario\n\n\n"
        "class Fragile(Scenario):\n"
        "    '''Edges; the hook breaks after half a second.'''\n\n"
        "    hook_every = 10\n\n"
        "    def on_step(self, sim, step):\n"
        "        if step >= 30:\n"
        "            raise RuntimeError('boom')\n"
    )
    sc = load_scenario(str(path))
    sim = make(sc, seed=1, overrides={"world.agents": 10})
    v = LiveWindow(sim, out_dir=tmp_path / "out", autosave=True, scenario_path=path)
    v.open()
    try:
        for _ in range(40):
            v.frame()
        assert v.paused and "boom" in v.toasts.last and "fragile.py" in v.toasts.last
        step = v.world.sim.step_count
        v.frame()
        assert v.world.sim.step_count == step
        v.close()
        assert (tmp_path / "out" / "population.npz").is_file()  # autosave still works
    finally:
        pygame.display.quit()
