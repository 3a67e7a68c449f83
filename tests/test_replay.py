"""Replays: round trip, re-simulation, crash safety, bad files, export and playback."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

from neuroevo import replay as rp  # noqa: E402
from neuroevo.cli import main  # noqa: E402
from neuroevo.scenario import load_scenario  # noqa: E402
from neuroevo.sim import make  # noqa: E402


def cursor_sim(agents=20, seed=5, **overrides):
    sc = load_scenario("cursor")
    return make(sc, seed=seed, overrides={"world.agents": agents, **overrides})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A 2-minute headless recording made through the CLI (4 chunks of 2,000 frames)."""
    out = tmp_path_factory.mktemp("run")
    assert main(["run", "cursor", "--seed", "2", "--minutes", "2", "--agents", "30", "--record", "--quiet",
                 "--no-plot", "--out", str(out)]) == 0
    return out / "replay"


def test_encodings_round_trip_within_the_quantization_step():
    rng = np.random.default_rng(0)
    pos = np.cumsum(rng.normal(0, 3, (200, 7, 2)), axis=0) % 1280
    pos[50, 3] = [1279.9, 0.0]  # a birth: a jump across the world
    step = rp.pos_step_for(1280, 720)
    back = rp.decode_positions(rp.encode_positions(pos, step), step)
    assert np.abs(back - pos).max() <= step / 2 + 1e-4
    h = rng.uniform(-20, 20, (200, 7))
    hb = rp.decode_headings(rp.encode_headings(h))
    err = np.abs((hb - h + np.pi) % (2 * np.pi) - np.pi)
    assert err.max() <= np.pi / rp.HEADING_BINS + 1e-5


@pytest.mark.parametrize("width,height", [(1280, 720), (100_000, 3000)])
def test_compiled_encodings_equal_numpy(width, height):
    """The recorder's writer encodes with record.encode_*_into; they give replay.encode_*'s bytes exactly."""
    from neuroevo.record import encode_headings_into, encode_positions_into

    rng = np.random.default_rng(1)
    step = rp.pos_step_for(width, height)
    pos = rng.uniform(-50, max(width, height) + 50, (120, 40, 2)).astype(np.float32)  # some off the fixed-point range
    pos[:, :8] = (np.cumsum(rng.normal(0, 3, (120, 8, 2)), axis=0) + 500).astype(np.float32)
    pos[0, 0], pos[1, 0] = [0.0, -0.0], [step * 0.5, step * 1.5]  # ties round to even
    out = np.empty(pos.shape, np.uint16)
    encode_positions_into(pos, step, rp.POS_RANGE, out)
    assert np.array_equal(out, rp.encode_positions(pos, step))
    h = rng.uniform(-3.2, 3.2, (120, 40)).astype(np.float32)
    h[:, :5] = rng.uniform(-20, 20, (120, 5))  # beyond one turn
    h[0, 5:] = [0.0, -0.0, np.pi, -np.pi, 2 * np.pi, -2 * np.pi, np.nextafter(np.float32(2 * np.pi), 0), 1e-8,
                -1e-8] + [0.0] * 26
    outh = np.empty(h.shape, np.uint8)
    encode_headings_into(h, rp.HEADING_BINS, outh)
    assert np.array_equal(outh, rp.encode_headings(h))
    # a range that is not a power of two takes the integer modulo instead of the mask: the same arithmetic
    q = np.clip(np.rint(pos / np.float32(step)), 0, 999).astype(np.int64)
    d = np.diff(q, axis=0, prepend=np.zeros_like(q[:1]))
    d[2:] = d[2:] - np.diff(q, axis=0)[:-1]
    encode_positions_into(pos, step, 1000, out)
    assert np.array_equal(out, d % 1000)


def test_record_then_read_back(tmp_path):
    """Frames within the quantization step, events identical to what the compiled step reported."""
    # founders with weights: blind founders are caught too rarely here (3 deaths in 700 steps) to compare events
    sim = cursor_sim(**{"brain.init_weights": 1.0, "brain.init_bias": 2.0})
    rec = rp.Recorder(sim, tmp_path / "r", chunk_seconds=1.0)
    sim.add_observer(rec)
    truth = [(sim.step_count, sim.state.pos.copy(), sim.state.heading.copy(), sim.state.alive.copy())]
    kernel_deaths, births = [], []
    for _ in range(700):
        gid = sim.state.genome_id.copy()
        sim.run(1)
        kernel_deaths += [tuple(r) for r in sim.last_events.tolist()]
        for i in np.flatnonzero(sim.state.genome_id != gid).tolist():
            births.append((sim.step_count, i, int(sim.state.genome_id[i]), int(sim.state.parent_id[i]),
                           sim.genomes[i].copy()))
        truth.append((sim.step_count, sim.state.pos.copy(), sim.state.heading.copy(), sim.state.alive.copy()))
    rec.close()
    from neuroevo.state import K_DEATHS, N_CAUSES

    assert len(kernel_deaths) > 5 and len(births) == len(kernel_deaths)
    assert len(kernel_deaths) == int(sim.state.counters[K_DEATHS: K_DEATHS + N_CAUSES].sum())

    r = rp.open(tmp_path / "r")
    assert len(r) == 701 and len(r.files) == 12  # 60 frames per chunk
    for fr, (step, pos, heading, alive) in zip(r, truth):
        assert fr.step == step
        assert np.abs(fr.pos - pos).max() <= r.pos_step / 2 + 1e-3
        dh = np.abs((fr.heading - heading + np.pi) % (2 * np.pi) - np.pi)
        assert dh.max() <= np.pi / 256 + 1e-5
        np.testing.assert_array_equal(fr.alive, alive)
    d = r.deaths
    steps = np.array([r.frame(int(f)).step - 1 for f in d["frame"]])
    got = list(zip(steps.tolist(), d["slot"].tolist(), d["cause"].tolist(), d["life"].tolist()))
    assert got == kernel_deaths
    b = r.births
    for k, (step, slot, gid, parent, genome) in enumerate(births):
        assert (r.frame(int(b["frame"][k])).step, int(b["slot"][k]), int(b["gid"][k]), int(b["parent"][k])) == (
            step, slot, gid, parent)
        np.testing.assert_array_equal(r.genome(gid), genome)
    # who holds each slot, reconstructed from keyframes and births, matches the live state at the end
    gid, parent, _ = r.slots_at(len(r) - 1)
    np.testing.assert_array_equal(gid, sim.state.genome_id)
    np.testing.assert_array_equal(parent, sim.state.parent_id)


def test_headless_replay_resimulates_frame_for_frame(recorded):
    r = rp.open(recorded)
    assert len(r) == 2 * 60 * 60 + 1 and r.meta["complete"]
    n = 0
    for fr, sim in rp.resimulate(r):
        assert fr.step == sim.step_count
        np.testing.assert_array_equal(fr.alive, sim.state.alive)
        assert np.abs(fr.pos - sim.state.pos).max() <= r.pos_step / 2 + 1e-3
        n += 1
    assert n == len(r)


def test_a_killed_recording_keeps_its_chunks(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "neuroevo.cli", "run", "cursor", "--minutes", "120", "--record",
                             "--quiet", "--no-plot", "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while len(list((out / "replay").glob("chunk-*.npz"))) < 4 and time.time() < deadline:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    chunks = sorted((out / "replay").glob("chunk-*.npz"))
    assert len(chunks) >= 4
    r = rp.open(out / "replay")
    assert "complete" not in r.meta
    assert len(r) >= (len(chunks) - 1) * r.meta["chunk_frames"]  # all but the last chunk, at least
    steps = np.array([fr.step for fr in r])
    assert (np.diff(steps) == 1).all()


def run_cli(*argv, cwd=None):
    return subprocess.run([sys.executable, "-m", "neuroevo.cli", *argv], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_bad_replays_give_one_line_and_exit_2(recorded, tmp_path):
    import shutil

    foreign = tmp_path / "population.npz"
    np.savez(foreign, a=np.zeros(3))
    nometa = tmp_path / "empty"
    nometa.mkdir()
    trunc = tmp_path / "trunc"
    shutil.copytree(recorded, trunc)
    data = (trunc / "chunk-000001.npz").read_bytes()
    (trunc / "chunk-000001.npz").write_bytes(data[: len(data) // 2])
    badmeta = tmp_path / "badmeta"
    shutil.copytree(recorded, badmeta)
    (badmeta / "meta.json").write_text("{not json")
    future = tmp_path / "future"
    shutil.copytree(recorded, future)
    meta = (future / "meta.json").read_text().replace('"format_version": 2', '"format_version": 99')
    (future / "meta.json").write_text(meta)
    cases = [(foreign, "not a neuroevo replay"), (nometa, "not a neuroevo replay"),
             (trunc, "chunk-000001.npz"), (badmeta, "meta.json"), (future, "version 99"),
             (tmp_path / "missing", "no such replay")]
    for path, needle in cases:
        r = run_cli("replay", str(path), "--export", str(tmp_path / "x.gif"))
        assert r.returncode == 2, (path, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], (path, r.stderr)
        assert not (tmp_path / "x.gif").exists()


def test_export_gif_and_mp4(recorded, tmp_path):
    from PIL import Image

    gif = tmp_path / "clip.gif"
    assert main(["replay", str(recorded), "--export", str(gif), "--from", "2", "--to", "4", "--fps", "10",
                 "--scale", "0.25", "--quiet"]) == 0
    with Image.open(gif) as im:
        assert im.size == (320, 180)
        assert im.n_frames == 20
    pytest.importorskip("imageio_ffmpeg")
    mp4 = tmp_path / "clip.mp4"
    assert main(["replay", str(recorded), "--export", str(mp4), "--to", "1", "--fps", "12", "--scale", "0.25",
                 "--quiet", "--no-hud"]) == 0
    assert mp4.stat().st_size > 1000
    r = run_cli("replay", str(recorded), "--export", str(tmp_path / "x.avi"))
    assert r.returncode == 2 and ".gif" in r.stderr


def test_playback_seek_bar_and_next_death(recorded):
    pygame = pytest.importorskip("pygame")
    from neuroevo.ui.playback import PlaybackWindow, seek_bar_rect

    r = rp.open(recorded)
    v = PlaybackWindow(r)
    v.open()
    try:
        v.frame()
        bar = seek_bar_rect(v.screen.get_size())
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(bar.left + bar.width // 2, bar.centery),
                                             button=1))
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(bar.left + bar.width // 2, bar.centery),
                                             button=1))
        v.paused = True
        v.frame()
        assert abs(v.world.index - len(r) // 2) <= len(r) // bar.width + 2
        np.testing.assert_array_equal(v.world.state.pos, r.frame(v.world.index).pos)
        at = v.world.index
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_n, unicode="n", mod=0, scancode=0))
        v.frame()
        nxt = r.next_death(at + 30)
        assert nxt is not None and v.world.index == nxt - 30
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SPACE, unicode=" ", mod=0, scancode=0))
        v.frame()
        v.frame()
        assert v.world.index == nxt - 30 + 2  # playing at 1x: one frame per frame
    finally:
        pygame.display.quit()


def test_live_viewer_records_with_r(tmp_path):
    pygame = pytest.importorskip("pygame")
    from neuroevo.ui.live import LiveWindow

    v = LiveWindow(cursor_sim(), out_dir=tmp_path, autosave=False)
    v.open()
    try:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_r, unicode="r", mod=0, scancode=0))
        for _ in range(11):
            v.frame()
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_r, unicode="r", mod=0, scancode=0))
        v.frame()
    finally:
        pygame.display.quit()
    (folder,) = tmp_path.glob("replay-*")
    r = rp.open(folder)
    assert len(r) == 12 and r.meta["origin"] == "live"  # the starting frame and 11 steps
    np.testing.assert_array_equal(r.frame(len(r) - 1).alive, v.world.state.alive)


def test_a_scenario_with_hooks_replays_and_resimulates(tmp_path):
    """sweeper moves its bar from on_step: the replay keeps the bar per frame and re-simulates with the hooks."""
    sc = load_scenario("sweeper")
    sim = make(sc, seed=3, overrides={"world.agents": 20})
    rec = rp.Recorder(sim, tmp_path / "r", chunk_seconds=2.0)
    sim.add_observer(rec)
    bars = []
    for _ in range(10):
        sim.run(60)
        bars.append(sim.icons.copy())
    rec.close()
    r = rp.open(tmp_path / "r")
    assert r.meta["hooks"] == ["on_step"]
    for k in range(10):
        np.testing.assert_array_equal(r.frame(60 * (k + 1)).icons, bars[k])
    assert not np.array_equal(bars[0], bars[-1])  # the bar moved
    for fr, live in rp.resimulate(r):
        np.testing.assert_array_equal(fr.alive, live.state.alive)
        np.testing.assert_array_equal(fr.icons, live.icons)


def test_generational_replay_counts_only_real_deaths(tmp_path):
    """A new generation gives survivors new genomes: births, not deaths."""
    from neuroevo.state import K_DEATHS, K_GENERATION, N_CAUSES

    sc = load_scenario("cursor")
    sim = make(sc, seed=4, overrides={"world.agents": 20, "evolution.mode": "generational",
                                  "evolution.generation_s": 2.0})
    rec = rp.Recorder(sim, tmp_path / "g")
    sim.add_observer(rec)
    sim.run(1500)
    rec.close()
    r = rp.open(tmp_path / "g")
    assert sim.state.counters[K_GENERATION] >= 5
    assert r.deaths["frame"].size == int(sim.state.counters[K_DEATHS: K_DEATHS + N_CAUSES].sum())
    assert (r.deaths["cause"] > 0).all()


class _PythonRecorder(rp.Recorder):
    """The same recording made from Python, one observe() call per step (the path before the compiled one)."""

    records_in_step = False


@pytest.mark.parametrize("scenario, overrides", [
    ("cursor", {"world.agents": 30, "brain.init_weights": 1.0, "brain.init_bias": 2.0}),  # births in the chunks
    ("crowd", {"world.agents": 40}),
    ("cursor", {"world.agents": 20, "evolution.mode": "generational", "evolution.generation_s": 1.0}),
])
def test_recording_inside_the_step_writes_the_same_chunks(tmp_path, scenario, overrides):
    """Frames written by the compiled step: every chunk array equals the per-step Python recording's, byte for byte,
    with births and deaths in them (also a generation change, where every slot is born at once)."""
    runs = []
    for cls, name in ((rp.Recorder, "step"), (_PythonRecorder, "python")):
        sim = make(scenario, seed=3, overrides=overrides)
        rec = cls(sim, tmp_path / name, chunk_seconds=0.5)
        sim.add_observer(rec)
        sim.run(170)
        sim.run(1)
        sim.run(500)
        rec.close()
        runs.append((tmp_path / name, sim))
    (a, sa), (b, sb) = runs
    np.testing.assert_array_equal(sa.state.pos, sb.state.pos)
    files = sorted(p.name for p in a.glob("chunk-*.npz"))
    assert files == sorted(p.name for p in b.glob("chunk-*.npz")) and len(files) == 23
    births = 0
    for f in files:
        with np.load(a / f) as za, np.load(b / f) as zb:
            assert sorted(za.files) == sorted(zb.files)
            for k in za.files:
                assert za[k].dtype == zb[k].dtype and za[k].shape == zb[k].shape, (f, k)
                np.testing.assert_array_equal(za[k], zb[k], err_msg=f"{f} {k}")
            births += za["birth_slot"].size
    assert births > 10
    assert rp.open(a).deaths["frame"].size == rp.open(b).deaths["frame"].size > 5
