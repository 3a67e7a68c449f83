"""Drawing without a window: the camera's arithmetic, and scene, HUD, chart and inspector rendered onto a Surface
(pixels sampled), for live and replayed worlds."""

import os

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
pygame = pytest.importorskip("pygame")

from neuroevo import replay as rp  # noqa: E402
from neuroevo.scenario import load_scenario  # noqa: E402
from neuroevo.sim import make  # noqa: E402
from neuroevo.ui.geometry import MAX_ZOOM_LEVEL, Camera  # noqa: E402
from neuroevo.ui.hud import Chart, ChartSeries, Hud, draw_help  # noqa: E402
from neuroevo.ui.inspector import Inspector, net_inputs  # noqa: E402
from neuroevo.ui.replayview import ReplayView  # noqa: E402
from neuroevo.ui.scene import Scene  # noqa: E402
from neuroevo.ui.sprites import tint_index  # noqa: E402
from neuroevo.ui.theme import BG, CAUSE_COLOURS, LINEAGE_TINTS, PANEL, TITLE, WORLD_BG  # noqa: E402
from neuroevo.ui.view import LiveView  # noqa: E402


@pytest.fixture(autouse=True)
def no_window():
    pygame.display.quit()  # everything here draws on plain Surfaces
    yield


def live_world(scenario="edges", agents=20, seed=3, steps=0, **settings):
    sc = load_scenario(scenario)
    sim = make(sc, seed=seed, overrides={"world.agents": agents, **settings})
    world = LiveView(sim)
    if steps:
        world.advance(steps)
    return world


def isolated(world, gap):
    s = world.state
    d = np.linalg.norm(s.pos[:, None] - s.pos[None], axis=2)
    d[np.arange(s.n), np.arange(s.n)] = np.inf
    return [int(i) for i in np.flatnonzero(s.alive & (d.min(axis=1) > gap))]


# ---- camera -----------------------------------------------------------------------------------------------------
def test_camera_letterboxes_at_1x_and_zooms_around_the_pointer():
    cam = Camera(1280, 720, 1000, 1000)
    assert cam.scale == pytest.approx(1000 / 1280)
    assert cam.ox == 0 and cam.oy == pytest.approx(0.5 * (1000 - 720 * cam.scale))  # bars above and below
    assert cam.to_world(*cam.to_screen(100.0, 200.0)) == pytest.approx((100.0, 200.0))
    for _ in range(8):
        cam.zoom_by(1, 700, 400)
    assert cam.zoom == 4.0 and cam.scale == pytest.approx(4 * 1000 / 1280)
    cam = Camera(1280, 720, 1280, 720)  # no letterbox: the point under the pointer stays under it
    under = cam.to_world(700, 400)
    for _ in range(8):
        cam.zoom_by(1, 700, 400)
    assert cam.zoom == 4.0 and cam.to_world(700, 400) == pytest.approx(under)
    assert cam.zoom_by(MAX_ZOOM_LEVEL + 5) and cam.zoom == 8.0  # clamped at 8x
    assert not cam.zoom_by(1) and cam.zoom == 8.0
    cam.reset()
    assert cam.zoom == 1.0 and cam.scale == 1.0 and (cam.ox, cam.oy) == (0.0, 0.0)


def test_camera_never_shows_more_than_the_world_when_zoomed():
    cam = Camera(1280, 720, 1280, 720)
    cam.zoom_by(4, 0, 0)  # 2x at the top left corner
    assert (cam.ox, cam.oy) == (0.0, 0.0)
    cam.pan(500, 500)  # dragging further right/down would show the letterbox: held at the world's corner
    assert (cam.ox, cam.oy) == (0.0, 0.0)
    cam.pan(-1e6, -1e6)
    x1, y1 = cam.to_world(1280, 720)
    assert (x1, y1) == pytest.approx((1280, 720))
    cam.centre_on(640, 360)
    assert cam.centre() == pytest.approx((640, 360))
    cam.fit(640, 360)  # a resize keeps zoom and centre
    assert cam.zoom == 2.0 and cam.centre() == pytest.approx((640, 360))


# ---- scene ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", [0, 8])
def test_scene_draws_smileys_where_the_world_has_them_at_any_zoom(level):
    world = live_world(steps=30)
    surf = pygame.Surface((900, 700))  # taller than the world: letterbox bars at 1x
    cam = Camera(1280, 720, 900, 700)
    lonely = isolated(world, 60)
    s = world.state
    if level:
        cam.zoom_by(level)
        cam.centre_on(*s.pos[lonely[0]])
    Scene().draw(surf, world, cam, now=0.0)
    tints = tint_index(world.teams(), world.founders())
    checked = 0
    for i in lonely:
        x, y = (int(round(c)) for c in cam.to_screen(*s.pos[i]))
        if not surf.get_rect().collidepoint(x, y):
            continue
        px = surf.get_at((x, y))[:3]
        assert max(abs(a - b) for a, b in zip(px, LINEAGE_TINTS[tints[i]])) <= 24, (i, px)
        checked += 1
    assert checked >= (1 if level else 5)
    if level == 0:
        assert tuple(surf.get_at((450, 5))[:3]) == BG  # above the world
    r = world.settings.world.radius * cam.scale
    assert r == pytest.approx(8 * (900 / 1280) * cam.zoom)


def test_scene_marks_deaths_where_they_happened():
    world = live_world(steps=1)
    surf = pygame.Surface((1280, 720))
    cam = Camera(1280, 720, 1280, 720)
    scene = Scene()
    from neuroevo.ui.view import Marker

    scene.effects.add([Marker(300.0, 300.0, "edge")], now=0.0)
    world.state.alive[:] = False  # nothing else in the picture
    scene.draw(surf, world, cam, now=0.1)
    colours = {tuple(surf.get_at((x, y))[:3]) for x in range(285, 316) for y in range(285, 316)}
    edge = CAUSE_COLOURS["edge"]
    assert any(max(abs(a - b) for a, b in zip(c, edge)) < 40 for c in colours), "an edge-coloured cross"
    scene.draw(surf, world, cam, now=5.0)  # long faded
    assert {tuple(surf.get_at((x, 300))[:3]) for x in range(285, 316)} == {WORLD_BG}


# ---- HUD and chart ------------------------------------------------------------------------------------------------
def test_hud_lines_are_named_and_drawn_in_a_panel():
    surf = pygame.Surface((800, 400))
    surf.fill((0, 200, 0))
    rect = Hud().draw(surf, lambda: {"title": "scenario  seed 1", "clock": "sim 00:01.0", "keys": "help [H]"})
    assert rect.topleft == (8, 8) and rect.height >= 3 * 18
    inside = {tuple(surf.get_at((x, y))[:3]) for x in range(rect.left, rect.right)
              for y in range(rect.top, rect.top + 20)}
    assert any(max(abs(a - b) for a, b in zip(c, TITLE)) < 40 for c in inside)  # title text in its colour
    assert tuple(surf.get_at((rect.right - 2, rect.bottom - 2))[:3]) != (0, 200, 0)  # the panel covers it
    assert tuple(surf.get_at((rect.right + 2, rect.bottom + 2))[:3]) == (0, 200, 0)


def test_one_chart_series_for_live_and_replay(tmp_path):
    """A live session's chart and the chart rebuilt from its recording are the same points."""
    world = live_world("cursor", agents=30, seed=2)
    world.start_recording(tmp_path / "r")
    for _ in range(40):
        world.advance(60)  # 40 sim seconds: 4 chart points
    world.stop_recording()
    replay = ReplayView(rp.open(tmp_path / "r"))
    replay.seek(replay.frames - 1)
    assert isinstance(world.chart, ChartSeries) and isinstance(replay.chart, ChartSeries)
    assert world.chart.n == replay.chart.n == 4
    np.testing.assert_allclose(replay.chart.t, world.chart.t)
    np.testing.assert_allclose(replay.chart.rates, world.chart.rates)
    np.testing.assert_allclose(replay.chart.lifetime, world.chart.lifetime, rtol=1e-5)
    replay.seek(650)  # 10.8 s in: one point so far
    assert replay.chart.n == 1
    surf = pygame.Surface((600, 400))
    surf.fill((0, 0, 0))
    replay.seek(replay.frames - 1)
    r = Chart().draw(surf, replay.chart)
    assert r.bottom == 400 - 8
    edge = CAUSE_COLOURS["edge"]
    px = {tuple(surf.get_at((x, y))[:3]) for x in range(r.left, r.right) for y in range(r.top, r.bottom)}
    assert edge in px or any(max(abs(a - b) for a, b in zip(c, edge)) < 30 for c in px)


def test_help_panel_is_centred_and_fits_its_rows():
    surf = pygame.Surface((1280, 720))
    r = draw_help(surf, "controls", [("right drag, Shift+arrows, Up/Down", "pan"), ("Esc", "quit")])
    assert r.center == pytest.approx((640, 360), abs=1)
    assert surf.get_rect().contains(r)


# ---- inspector ----------------------------------------------------------------------------------------------------
def test_inspector_labels_every_input_in_the_frames_words():
    ego = dict(net_inputs("ego", {"edges": (0, 5), "cursor": (5, 4), "self": (9, 1)}))
    world = dict(net_inputs("world", {"edges": (0, 5), "cursor": (5, 4), "self": (9, 3)}))
    assert sorted(ego) == list(range(10)) and sorted(world) == list(range(12))
    assert ego[9] == "speed" and ego[2] == "edge ahead-right" and ego[6] == "cursor ahead"
    assert world[10] == "cos heading" and world[2] == "edge top" and world[6] == "cursor x"
    both = dict(net_inputs("ego", {"edges": (0, 5), "neighbours": (5, 6), "team": (11, 6), "extra": (17, 2)}))
    assert both[5] == "agent 1 dist" and both[10] == "agent 2 left" and both[14] == "mate dist"
    assert both[18] == "extra 2" and len(both) == 19


@pytest.mark.parametrize("scenario,frame", [("cursor", "ego"), ("cursor", "world"), ("teams", "ego"),
                                            ("crowd", "world")])
def test_inspector_never_clips_a_label(scenario, frame):
    world = live_world(scenario, agents=12, seed=1, steps=5, **{"brain.frame": frame})
    surf = pygame.Surface((1280, 720))
    ins = Inspector()
    slot = int(np.flatnonzero(world.state.alive)[0])
    ins.pick(world, *world.state.pos[slot], reach=5.0)
    assert ins.slot == slot
    rect = ins.draw(surf, world)
    assert surf.get_rect().contains(rect)
    panel = pygame.Rect(0, 0, rect.width, rect.height)
    assert len(ins.label_rects) >= len(net_inputs(frame, world.input_offsets)) + 2 + world.layout.n_out
    for r in ins.label_rects:
        assert panel.contains(r.inflate(6, 0)), (r, panel)
    # units shown: every input (the ego frame has no heading inputs), then every hidden and output unit
    n_in = len(net_inputs(frame, world.input_offsets))
    assert n_in == world.layout.n_in == sum(n for _, n in world.input_offsets.values())
    assert any("heading" in lab for _, lab in net_inputs(frame, world.input_offsets)) == (
        frame == "world" and "self" in world.input_offsets)


def test_inspector_notices_death_and_draws_a_replayed_agent(tmp_path):
    world = live_world("cursor", agents=10, seed=2)
    world.start_recording(tmp_path / "r")
    world.advance(300)
    world.stop_recording()
    rv = ReplayView(rp.open(tmp_path / "r"))
    rv.seek(200)
    ins = Inspector()
    slot = int(np.flatnonzero(rv.state.alive)[0])
    ins.pick(rv, *rv.state.pos[slot], reach=5.0)
    surf = pygame.Surface((1280, 720))
    surf.fill((0, 0, 0))
    rect = ins.draw(surf, rv)
    assert ins.acts is None and rect.width > 200  # a replay: weights only
    gid = int(rv.state.genome_id[slot])
    nxt = next((int(f) for f, s in zip(rv.replay.deaths["frame"], rv.replay.deaths["slot"]) if s == slot and f > 200),
               None)
    if nxt is not None:
        rv.seek(nxt + 1)
        ins.update(rv)
        assert ins.dead is not None and ins.gid == gid
    px = surf.get_at((rect.left + 2, rect.top + 2))[:3]
    assert max(abs(a - b) for a, b in zip(px, PANEL[:3])) < 12


def test_crowds_offscreen_keep_one_smooth_bank():
    """Without a window (GIF/MP4 export) crowds stay smooth, and the bank is kept from frame to frame."""
    from neuroevo.ui.sprites import CRISP_FROM

    world = live_world(agents=20)
    cam = Camera(640, 360, world.settings.world.width, world.settings.world.height)
    scene = Scene()
    a = scene.sprites(world, cam, None, CRISP_FROM)
    b = scene.sprites(world, cam, None, CRISP_FROM)
    assert a is b and not a.crisp
