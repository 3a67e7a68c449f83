"""The ancestry panel (key T) in the live and replay windows, under SDL's dummy video driver."""

import os

import numpy as np
import pytest

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
pygame = pytest.importorskip("pygame")

from neuroevo import replay as rp  # noqa: E402
from neuroevo.lineage import from_replay, tint_of  # noqa: E402
from neuroevo.observers import MinuteStats  # noqa: E402
from neuroevo.sim import Simulation, make  # noqa: E402
from neuroevo.state import CURSOR, K_DEATHS  # noqa: E402
from neuroevo.ui.ancestry import AncestryPanel, lay_out  # noqa: E402
from neuroevo.ui.live import LiveWindow  # noqa: E402
from neuroevo.ui.playback import PlaybackWindow  # noqa: E402


def post_key(key):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, unicode="", mod=0, scancode=0))


def open_window(sim, tmp_path):
    w = LiveWindow(sim, out_dir=tmp_path, autosave=False, human=False)
    w.open()
    return w


def shown(w):
    """Draw a frame and wait for the panel's worker, then draw the finished panel."""
    w.frame()
    w.ancestry.wait()
    w.draw(w.screen)


def panel_families(lay):
    return {f: living for f, living, _, _ in lay.families}


@pytest.fixture(scope="module")
def evolved(tmp_path_factory):
    """Two minutes of the cursor scenario (hunter bot) in a live window, and an exact headless tracker beside it
    (MinuteStats re-runs the stretches where a parent was born and died between its looks)."""
    sim = make("cursor", seed=4, agents=40)
    stats = MinuteStats(sim)
    sim.add_observer(stats)
    w = open_window(sim, tmp_path_factory.mktemp("anc"))
    for _ in range(2 * 60):
        w.world.advance(60)  # a second of steps per frame, as at speed 64
    w.paused = True  # the frames drawn by the tests step nobody: the world stays as the minute-2 row saw it
    yield w, stats
    pygame.display.quit()


def test_t_toggles_the_panel_and_twice_restores_the_frame(tmp_path):
    w = open_window(make("edges", seed=3, agents=20), tmp_path)
    w.world.advance(600)
    w.paused = True
    w.hud_lines = lambda: {"title": "fixed"}  # the FPS line changes from frame to frame
    w.now = lambda: 1e9  # effects long faded
    w.frame()
    before = pygame.surfarray.array3d(w.screen).copy()
    post_key(pygame.K_t)
    shown(w)
    assert w.ancestry.is_open and w.ancestry.rect is not None and w.ancestry.builds == 1
    r = w.ancestry.rect
    assert r.right <= w.screen.get_width() and r.bottom <= w.screen.get_height()
    opened = pygame.surfarray.array3d(w.screen)
    assert not np.array_equal(opened[r.left:r.right, r.top:r.bottom], before[r.left:r.right, r.top:r.bottom])
    post_key(pygame.K_t)
    w.ancestry.draw = None  # closed, the frame never touches the panel
    w.frame()
    assert not w.ancestry.is_open and w.ancestry.rect is None
    assert np.array_equal(pygame.surfarray.array3d(w.screen), before)
    pygame.display.quit()


def test_panel_lists_exactly_the_founders_with_living_descendants(evolved):
    w, stats = evolved
    sim = w.world.sim
    exact = stats.tracker
    post_key(pygame.K_t)
    shown(w)
    lay = w.ancestry.layout
    alive = sim.state.alive
    want = {}
    for f in exact.founders_of(sim)[alive].tolist():
        want[f] = want.get(f, 0) + 1
    assert lay.hidden_families == 0  # 40 agents: every family has its band
    assert panel_families(lay) == want
    assert len(want) == exact.families(sim) == w.world.tracker.families(sim) >= 2
    assert w.world.tracker.unresolved == 0 and lay.living == int(alive.sum())
    # the smileys wear the colours of the same families
    assert np.array_equal(w.world.founders()[alive], exact.founders_of(sim)[alive])
    # per-minute rows count the same families (at their minute)
    assert stats.rows[-1]["families"] == len(want)
    # every drawn tip is a living agent, in its family's colour
    gid_alive = set(sim.state.genome_id[alive].tolist())
    assert lay.tips and set(lay.tips.values()) <= gid_alive
    col = tint_of(next(iter(want)))
    px = pygame.surfarray.array3d(w.screen)[w.ancestry.rect.left:w.ancestry.rect.right,
                                            w.ancestry.rect.top:w.ancestry.rect.bottom]
    assert (np.abs(px.astype(int) - col).sum(axis=2) < 30).sum() > 50
    post_key(pygame.K_t)
    w.frame()


def test_a_click_on_a_tip_inspects_that_agent_and_kills_nobody(evolved):
    w, _ = evolved
    sim = w.world.sim
    post_key(pygame.K_t)
    shown(w)
    row, gid = next(iter(w.ancestry.layout.tips.items()))
    y = w.ancestry.rect.top + w.ancestry._rows.y(row)
    x = w.ancestry.rect.left + w.ancestry._tip_x - 10
    kills = int(sim.state.counters[K_DEATHS + CURSOR])
    w.human = True
    w.apply_cursor_mode()
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(x, int(y)), rel=(0, 0), buttons=(0, 0, 0)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, int(y)), button=1))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x, int(y)), button=1))
    w.frame()
    assert w.inspector.gid == gid and w.inspector.alive_at(w.world) is not None
    assert int(sim.state.counters[K_DEATHS + CURSOR]) == kills and not w.pointer.clicks
    assert not w.pointer.inside  # over the panel the mouse is no cursor in the world
    post_key(pygame.K_t)
    w.frame()
    w.inspector.close()


@pytest.mark.slow
def test_the_panel_draws_at_2000_agents_after_minutes_of_evolution(tmp_path):
    sim = make("edges", seed=1, agents=2000)
    w = open_window(sim, tmp_path)
    w.world.advance(2 * 3600)
    post_key(pygame.K_t)
    shown(w)
    lay, r = w.ancestry.layout, w.ancestry.rect
    assert lay is not None and r.height > 300
    fams = w.world.tracker.families(sim)
    assert len(lay.families) + lay.hidden_families == fams > 100
    assert lay.living == int(sim.state.alive.sum()) and lay.hidden_families > 0  # too many to draw them all
    assert 4 * lay.rows <= r.height  # capped: rows at least 4 px apart
    assert sum(1 for ln in lay.lines) <= 2 * lay.rows
    # every living agent is in one place: a tip of its own, a bundle, or a family not drawn
    assert len(lay.tips) + lay.bundled + lay.hidden_living == lay.living
    # a second frame without births reuses the surface; births after REFRESH_S bring a new one
    w.paused = True
    w.frame()
    w.frame()
    assert w.ancestry.builds == 1
    w.world.advance(600)  # births
    w.ancestry._made -= 60.0
    shown(w)
    assert w.ancestry.builds == 2
    w.screenshot(tmp_path / "shot.png")
    assert (tmp_path / "shot.png").stat().st_size > 10_000
    pygame.display.quit()


def test_a_loaded_population_keeps_its_families(evolved, tmp_path):
    w, _ = evolved
    sim = w.world.sim
    path = tmp_path / "pop.npz"
    w.world.save(path)
    loaded, _ = Simulation.load(path, hooks=type(sim.hooks)())
    w2 = open_window(loaded, tmp_path / "two")
    w2.paused = True  # as the first window: compared as saved
    assert np.array_equal(w2.world.founders(), w.world.founders())
    post_key(pygame.K_t)
    shown(w2)
    alive = sim.state.alive
    assert set(panel_families(w2.ancestry.layout)) == set(w.world.founders()[alive].tolist())
    pygame.display.quit()


def test_l_with_the_panel_open_shows_the_loaded_world(tmp_path):
    w = open_window(make("edges", seed=5, agents=20), tmp_path)
    w.world.advance(1200)
    w.paused = True  # frames draw without stepping: the panel shows what S saves
    post_key(pygame.K_t)
    shown(w)
    before = dict(panel_families(w.ancestry.layout))
    post_key(pygame.K_s)
    w.frame()
    w.world.advance(1200)  # on, then back to the saved population
    post_key(pygame.K_l)
    shown(w)
    assert w.ancestry.is_open and panel_families(w.ancestry.layout) == before
    pygame.display.quit()


def test_t_in_a_replay_shows_the_ancestry_at_the_frame(tmp_path):
    sim = make("cursor", seed=2, agents=30)
    rec = rp.Recorder(sim, tmp_path / "rec")
    sim.add_observer(rec)
    sim.run(3600)
    rec.close()
    r = rp.open(rec.path)
    w = PlaybackWindow(r, out_dir=tmp_path)
    w.open()
    h = from_replay(r)
    idx = h.index()
    for frame in (len(r) // 2, len(r) - 1):
        w.seek(frame)
        w.paused = True
        if not w.ancestry.is_open:
            post_key(pygame.K_t)
        else:
            w.ancestry._made -= 60.0
        shown(w)
        gid = r.slots_at(frame)[0][r.frame(frame).alive]
        want = {}
        for g in gid.tolist():
            f = int(h.founder[idx[g]])
            want[f] = want.get(f, 0) + 1
        assert panel_families(w.ancestry.layout) == want
    pygame.display.quit()


def test_a_panel_whose_data_fails_says_so_in_one_line(tmp_path):
    sim = make("edges", seed=3, agents=20)
    w = open_window(sim, tmp_path)

    def broken():
        yield
        raise ValueError("no births recorded")

    w.world.ancestry_steps = broken
    post_key(pygame.K_t)
    shown(w)
    assert w.ancestry.layout is None and w.ancestry.rect is not None
    pygame.display.quit()


def test_lay_out_never_loses_an_agent_and_keeps_to_its_rows():
    rng = np.random.default_rng(5)
    rows, gid = [], 0
    for fam in range(30):  # 30 families, random bushy trees
        stack = [(-1, 0)]
        for _ in range(int(rng.integers(1, 60))):
            parent, depth = stack[int(rng.integers(0, len(stack)))]
            gid += 1
            stack.append((gid, depth + 1))
            rows.append({"gid": gid, "parent": parent, "founder": fam, "born_s": float(depth), "alive": False,
                         "living": 0})
    by = {r["gid"]: r for r in rows}
    has_kid = {r["parent"] for r in rows}
    for r in rows:
        r["alive"] = r["gid"] not in has_kid or bool(rng.random() < 0.2)
    for r in reversed(rows):
        r["living"] += r["alive"]
        if r["parent"] in by:
            by[r["parent"]]["living"] += r["living"]
    total = sum(r["alive"] for r in rows)
    for cap in (1, 5, 40, 200, 10_000):
        lay = lay_out(rows, cap)
        assert lay.rows <= max(cap, len(lay.families))
        assert len(lay.tips) + lay.bundled + lay.hidden_living == lay.living == total
        assert all(ln.parent_y is None or ln.parent_y <= ln.y for ln in lay.lines)
    assert lay.bundled == 0 and lay.hidden_families == 0 and len(lay.tips) == total  # room for everyone


def test_panel_cache_waits_for_births_and_builds_in_pieces(tmp_path):
    """An open panel is rebuilt only when births or deaths changed the ancestry and REFRESH_S has passed; a
    build takes at most BUDGET_S of a frame, so a big one is spread over several."""
    sim = make("edges", seed=3, agents=300)
    w = open_window(sim, tmp_path)
    w.world.advance(1200)
    p = AncestryPanel()
    area = pygame.Rect(600, 8, 500, 600)
    p.toggle()
    draws = 0
    while p.builds == 0:
        p.draw(w.screen, w.world, area, now=100.0)
        draws += 1
    p.draw(w.screen, w.world, area, now=100.0)
    assert p.layout is not None and p.layout.living == int(sim.state.alive.sum())
    # pieces: the same build cut into single steps takes many frames, each step a small part of the work
    steps = w.world.ancestry_steps()
    pieces = 0
    with pytest.raises(StopIteration):
        while True:
            next(steps)
            pieces += 1
    assert pieces >= 5
    p.draw(w.screen, w.world, area, now=100.1)
    assert p.builds == 1 and not p.busy()  # nothing changed
    w.world.advance(600)
    p.draw(w.screen, w.world, area, now=100.2)
    assert p.builds == 1 and not p.busy()  # births, but too soon
    p.draw(w.screen, w.world, area, now=101.0)
    p.wait()
    assert p.builds == 2
    p.draw(w.screen, w.world, area, now=101.0)
    # a resized window lays the same tree out again at once, without building it anew
    small = pygame.Rect(700, 8, 380, 300)
    assert p.draw(w.screen, w.world, small, now=101.1).size == small.size and p.builds == 2
    assert p.layout is not None and p.layout.rows <= 300 // 4
    pygame.display.quit()


def test_the_history_in_pieces_is_the_trackers_tables(evolved):
    w, _ = evolved
    sim, t = w.world.sim, w.world.tracker
    h = t.history(sim)
    gids = sorted(t.parent)
    alive = set(sim.state.genome_id[sim.state.alive].tolist())
    assert h.gid.tolist() == gids and h.parent.tolist() == [t.parent[g] for g in gids]
    assert h.founder.tolist() == [t.founder[g] for g in gids]
    assert h.born.tolist() == [t.born[g] * sim.settings.world.dt for g in gids]
    assert h.alive.tolist() == [g in alive for g in gids] and h.end == sim.sim_seconds
