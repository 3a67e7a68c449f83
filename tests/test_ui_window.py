"""Zoom, pan, follow and the live window's saves, driven through a real window (SDL dummy driver) by posted
events, the way a user drives it."""

import os

import numpy as np
import pytest

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
pygame = pytest.importorskip("pygame")

from neuroevo.scenario import load_scenario  # noqa: E402
from neuroevo.sim import make  # noqa: E402
from neuroevo.state import CURSOR, K_DEATHS  # noqa: E402
from neuroevo.ui.live import LiveWindow  # noqa: E402


def make_window(out, agents=20, seed=3, scenario="edges", autosave=False):
    sc = load_scenario(scenario)
    sim = make(sc, seed=seed, overrides={"world.agents": agents})
    return LiveWindow(sim, out_dir=out, autosave=autosave)


@pytest.fixture
def window(tmp_path):
    w = make_window(tmp_path)
    w.open()
    yield w
    pygame.display.quit()


def post(kind, **kw):
    pygame.event.post(pygame.event.Event(kind, **kw))


def move(pos, buttons=(0, 0, 0), rel=(0, 0)):
    post(pygame.MOUSEMOTION, pos=(int(pos[0]), int(pos[1])), rel=rel, buttons=buttons)


def wheel(notches):
    post(pygame.MOUSEWHEEL, x=0, y=notches, precise_x=0.0, precise_y=float(notches), flipped=False)


def key(k, mod=0):
    post(pygame.KEYDOWN, key=k, unicode="", mod=mod, scancode=0)


def central_lonely_slot(sim, gap):
    """The living agent nearest the world's centre with nobody else within gap px."""
    s, w = sim.state, sim.settings.world
    d = np.linalg.norm(s.pos[:, None] - s.pos[None], axis=2)
    d[np.arange(s.n), np.arange(s.n)] = np.inf
    ok = np.flatnonzero(s.alive & (d.min(axis=1) > gap))
    assert ok.size
    return int(ok[np.argmin(np.linalg.norm(s.pos[ok] - [w.width / 2, w.height / 2], axis=1))])


def test_zoom_in_then_click_an_agent_at_4x_kills_it(window):
    sim = window.world.sim
    window.frame()
    slot = central_lonely_slot(sim, 3 * sim.settings.cursor.kill_radius)
    at_1x = np.array(window.camera.to_screen(*sim.state.pos[slot]))
    move(at_1x + (50, 30))  # the pointer beside the agent, which zooming then moves away from it
    for _ in range(8):
        wheel(1)  # eight notches around the pointer: 4x
    window.frame()
    assert window.camera.zoom == 4.0
    assert window.scene.sprites(window.world, window.camera).size >= 60  # a 16 px face drawn at 64 px
    gid = int(sim.state.genome_id[slot])
    kills = sim.state.counters[K_DEATHS + CURSOR]
    pos = window.camera.to_screen(*sim.state.pos[slot])
    assert np.linalg.norm(np.array(pos) - at_1x) > 100  # where the agent was drawn at 1x is far away now
    px = window.screen.get_at((int(pos[0]), int(pos[1])))[:3]
    assert px != (30, 33, 42)  # the agent is drawn under the point we click
    move(pos)
    post(pygame.MOUSEBUTTONDOWN, pos=(int(pos[0]), int(pos[1])), button=1)
    post(pygame.MOUSEBUTTONUP, pos=(int(pos[0]), int(pos[1])), button=1)
    window.frame()
    s = sim.state
    assert s.counters[K_DEATHS + CURSOR] == kills + 1
    assert int(s.genome_id[slot]) != gid and int(s.cause[slot]) == CURSOR


def test_right_click_inspects_and_right_drag_pans(window):
    sim = window.world.sim
    window.frame()
    window.camera.zoom_by(8)
    slot = central_lonely_slot(sim, 50)
    window.camera.centre_on(*sim.state.pos[slot])
    window.frame()
    pos = tuple(int(c) for c in window.camera.to_screen(*sim.state.pos[slot]))
    move(pos)
    post(pygame.MOUSEBUTTONDOWN, pos=pos, button=3)
    post(pygame.MOUSEBUTTONUP, pos=pos, button=3)
    window.frame()
    assert window.inspector.slot == slot  # inspected at 4x, in world coordinates
    window.inspector.close()
    ox, oy = window.camera.ox, window.camera.oy
    start = (640, 360)
    post(pygame.MOUSEBUTTONDOWN, pos=start, button=3)
    move((600, 340), buttons=(0, 0, 1), rel=(-40, -20))
    move((560, 320), buttons=(0, 0, 1), rel=(-40, -20))
    post(pygame.MOUSEBUTTONUP, pos=(560, 320), button=3)
    window.frame()
    assert window.inspector.slot is None  # a drag pans, it does not inspect
    assert (window.camera.ox, window.camera.oy) == pytest.approx((ox - 80, oy - 40))


def test_arrows_pan_zero_resets_and_f_follows(window):
    sim = window.world.sim
    window.frame()
    key(pygame.K_RIGHT)
    window.frame()
    assert window.camera.ox == 0.0  # at 1x there is nothing to pan
    window.camera.zoom_by(8)
    ox = window.camera.ox
    key(pygame.K_RIGHT)
    window.frame()
    assert window.camera.ox < ox  # the view moves right: the picture moves left
    key(pygame.K_0)
    window.frame()
    assert window.camera.zoom == 1.0 and window.camera.rect() == (0, 0, 1280, 720)
    key(pygame.K_f)
    window.frame()
    assert not window.follow and "right-click" in window.toasts.last  # nobody to follow yet
    slot = central_lonely_slot(sim, 40)
    window.inspect_at(window.camera.to_screen(*sim.state.pos[slot]))
    key(pygame.K_f)
    for _ in range(30):
        window.frame()
    assert window.follow and window.camera.zoom > 1.0
    if int(sim.state.genome_id[slot]) == window.inspector.gid:  # still alive: centred (unless at an edge)
        x, y = sim.state.pos[slot]
        w = sim.settings.world
        half_w, half_h = 0.5 * w.width / window.camera.zoom, 0.5 * w.height / window.camera.zoom
        want = (min(max(x, half_w), w.width - half_w), min(max(y, half_h), w.height - half_h))
        assert window.camera.centre() == pytest.approx(want, abs=1.0)
    key(pygame.K_LEFT)  # panning ends following
    window.frame()
    assert not window.follow


# ---- saving (reliability audit F9) -------------------------------------------------------------------------------
def test_s_that_cannot_save_says_where_and_why(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    w = make_window(afile)
    w.open()
    try:
        key(pygame.K_s)
        w.frame()
        assert "save failed" in w.toasts.last and str(afile) in w.toasts.last and "not a folder" in w.toasts.last
    finally:
        pygame.display.quit()


def quit_after_open(w, how):
    opened = w.open

    def open_then_quit():
        opened()
        if how == "esc":
            key(pygame.K_ESCAPE)
        else:
            post(pygame.QUIT)

    w.open = open_then_quit


@pytest.mark.parametrize("how", ["esc", "close"])
def test_autosave_that_fails_says_so_in_one_line_and_exits_2(tmp_path, capsys, how):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    w = make_window(afile, autosave=True)
    quit_after_open(w, how)
    assert w.run() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(afile / "population.npz") in err[0] and "is a file, not a folder" in err[0], err
    assert afile.read_text() == "not a folder"


def test_autosave_works_on_esc_and_ctrl_c(tmp_path, capsys, monkeypatch):
    w = make_window(tmp_path / "a", autosave=True)
    quit_after_open(w, "esc")
    assert w.run() == 0
    assert (tmp_path / "a" / "population.npz").is_file()
    w = make_window(tmp_path / "b", autosave=True)

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(w, "update", interrupted)
    assert w.run() == 130
    assert (tmp_path / "b" / "population.npz").is_file()
    assert "population saved" in capsys.readouterr().out


def test_cli_live_ctrl_c_with_an_unwritable_out_exits_2(tmp_path, capsys, monkeypatch):
    from neuroevo.cli import main

    afile = tmp_path / "afile"
    afile.write_text("")

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(LiveWindow, "update", interrupted)
    assert main(["live", "--agents", "10", "--out", str(afile)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # refused before the window opens (the output folder is checked first); the file is left alone
    assert len(err) == 1 and str(afile) in err[0] and "not a folder" in err[0], err
    assert afile.read_text() == ""


def test_crowds_are_drawn_with_crisp_tiles_that_match_the_smooth_ones_inside(tmp_path):
    """From sprites.CRISP_FROM smileys on screen the bank switches to colour-keyed tiles (blitted without blending),
    and back below CRISP_UNTIL; a crisp face covers exactly the pixels its smooth twin covers at least half, with
    the same colours wherever the smooth one is opaque."""
    from neuroevo.ui.sprites import CRISP_FROM, CRISP_UNTIL, SpriteBank

    w = make_window(tmp_path, agents=CRISP_FROM)
    w.open()
    try:
        w.frame()
        assert w.scene._bank.crisp  # every one of them alive and unzoomed
        scene, world, cam = w.scene, w.world, w.camera
        assert scene.sprites(world, cam, scene._bank.tints, CRISP_UNTIL).crisp  # hysteresis: stays crisp ...
        assert not scene.sprites(world, cam, scene._bank.tints, CRISP_UNTIL - 1).crisp  # ... until fewer
        smooth = SpriteBank(scene._bank.tints, 16)
        crisp = SpriteBank(scene._bank.tints, 16, crisp=True)
        assert crisp.crisp and not smooth.crisp
        for key in (0, 40, 150):
            a, b = smooth.tiles(np.array([key]))[0], crisp.tiles(np.array([key]))[0]
            bg = (20, 30, 40)
            pa, pb = pygame.Surface(a.get_size()), pygame.Surface(b.get_size())
            pa.fill(bg)
            pb.fill(bg)
            pa.blit(a, (0, 0), special_flags=smooth.blend)
            pb.blit(b, (0, 0), special_flags=crisp.blend)
            alpha = pygame.surfarray.array_alpha(a)  # premultiplied tile: alpha as drawn
            ra, rb = pygame.surfarray.array3d(pa).astype(int), pygame.surfarray.array3d(pb).astype(int)
            opaque, empty = alpha == 255, alpha == 0
            assert opaque.sum() > 0.5 * alpha.size
            assert np.abs(ra[opaque] - rb[opaque]).max() <= 1  # the face itself: the same pixels
            assert (rb[empty] == bg).all()  # outside it: the background shows through
    finally:
        pygame.display.quit()
