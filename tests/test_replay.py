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

from neuroevo import packing, unpacking  # noqa: E402
from neuroevo import replay as rp  # noqa: E402
from neuroevo.cli import main  # noqa: E402
from neuroevo.scenario import load_scenario  # noqa: E402
from neuroevo.sim import make  # noqa: E402


def cursor_sim(agents=20, seed=5, **overrides):
    sc = load_scenario("cursor")
    return make(sc, seed=seed, overrides={"world.agents": agents, **overrides})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A 2-minute headless recording made through the CLI, in 2-minute chunks (one chunk of 7,200 frames and one of
    a frame; by default 30 agents write 5-minute chunks)."""
    from conftest import two_minute_chunks

    out = tmp_path_factory.mktemp("run")
    with pytest.MonkeyPatch.context() as mp:
        two_minute_chunks(mp)
        assert main(["run", "cursor", "--seed", "2", "--minutes", "2", "--agents", "30", "--record", "--quiet",
                     "--no-plot", "--out", str(out)]) == 0
    assert len(list((out / "replay").glob("chunk-*.npz"))) == 2
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


def _frames(rng, f, n, width=1280, height=720):
    """A chunk's frames as the recorder buffers them: smooth flight, births (jumps), some off the fixed-point range."""
    step = rp.pos_step_for(width, height)
    pos = rng.uniform(-50, max(width, height) + 50, (f, n, 2)).astype(np.float32)
    k = max(1, n // 2)
    pos[:, :k] = (np.cumsum(rng.normal(0, 3, (f, k, 2)), axis=0) + 500).astype(np.float32)
    pos[f // 2, 0] = [width - 0.1, 0.0]  # a birth: a jump across the world
    pos[0, 0] = [0.0, -0.0]
    if f > 1:
        pos[1, 0] = [step * 0.5, step * 1.5]  # ties round to even
    h = rng.uniform(-3.2, 3.2, (f, n)).astype(np.float32)
    h[:, : max(1, n // 4)] = rng.uniform(-20, 20, (f, max(1, n // 4)))  # beyond one turn
    h[: f // 2, : max(1, n // 8)] = rng.uniform(-3e6, 3e6, (f // 2, max(1, n // 8)))  # far beyond (and fmod's side)
    turns = rng.integers(-40000, 40000, (f, n)).astype(np.float32)
    h[:, -1] = turns[:, -1] * np.float32(2 * np.pi) + rng.choice([-1e-3, 0.0, 1e-3], f).astype(np.float32)
    edge = [0.0, -0.0, np.pi, -np.pi, 2 * np.pi, -2 * np.pi, np.nextafter(np.float32(2 * np.pi), 0), 1e-8, -1e-8]
    h[0, : min(n, len(edge))] = edge[: min(n, len(edge))]
    alive = rng.random((f, n)) < 0.9
    cursor = rng.normal(0, 300, (f, 5)).astype(np.float32)
    cursor[: f // 2, 2:] = [1, 0, 0]
    cursor[0, :4] = [np.inf, -0.0, np.nan, -np.inf]
    counters = np.cumsum(rng.integers(0, 3, (f, 14)), axis=0)
    counters[:, 3] = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, f)  # 64-bit residuals
    counters[:, 4] = 7  # a constant column (no blocks)
    return step, pos, h, alive, cursor, counters


def _pack(step, pos, h, alive, cursor, counters):
    f, n, c = pos.shape[0], pos.shape[1], counters.shape[1]
    out = np.empty(packing.bound(f, n, c), np.uint8)
    size = packing.pack_frames(packing.Frames(pos, h, alive, cursor, counters), step, 0, f, out)
    assert size <= out.shape[0]
    return out[:size].copy()


def _unpack(src, step, f, n, c):
    got = (np.empty((f, n, 2), np.float32), np.empty((f, n), np.float32), np.empty((f, n), np.bool_),
           np.empty((f, 5), np.float32), np.empty((f, c), np.int64))
    return unpacking.unpack_frames(src, step, packing.Frames(*got)), got


@pytest.mark.parametrize("f,n", [(1, 1), (2, 3), (63, 5), (64, 9), (65, 2), (130, 40), (1200, 50)])
@pytest.mark.parametrize("width,height", [(1280, 720), (100_000, 3000)])
def test_packed_frames_decode_as_version_2(f, n, width, height):
    """Format 3's packed frames decode to exactly what format 2's arrays decode to (positions and headings
    quantized as replay.encode_* do), and alive flags, cursor bits and counters unchanged."""
    step, pos, h, alive, cursor, counters = _frames(np.random.default_rng(f * 100 + n), f, n, width, height)
    src = _pack(step, pos, h, alive, cursor, counters)
    status, (p2, h2, a2, c2, k2) = _unpack(src, step, f, n, counters.shape[1])
    assert status == unpacking.OK
    assert np.array_equal(p2, rp.decode_positions(rp.encode_positions(pos, step), step))
    assert np.array_equal(h2, rp.decode_headings(rp.encode_headings(h)))
    assert np.array_equal(a2, alive)
    assert np.array_equal(c2.view(np.int32), cursor.view(np.int32))
    assert np.array_equal(k2, counters)


@pytest.mark.parametrize("f", [3, 66, 130, 1200])
def test_packed_frames_pack_in_parts_as_whole(f):
    """Two threads pack a chunk's blocks in two runs (the recorder's split); joined, the bytes are the whole's."""
    step, pos, h, alive, cursor, counters = _frames(np.random.default_rng(f), f, 6)
    whole = _pack(step, pos, h, alive, cursor, counters)
    for share in (0.0, 0.3, 0.5, 1.0):
        fs = packing.split(f, share)
        parts = []
        for f0, f1 in ((0, fs), (fs, f)):
            out = np.empty(packing.bound(f, 6, 14), np.uint8)
            frames = packing.Frames(pos, h, alive, cursor, counters)
            size = packing.pack_frames(frames, step, f0, f1, out) if f0 < f1 else 0
            parts.append(out[:size])
        assert np.array_equal(np.concatenate(parts), whole), share


def test_every_width_packs_and_unpacks_within_its_bound():
    """Columns of every width from 1 to 64 bits (counters with residuals of growing size, births' jumps, headings
    off the first turn) decode to the values packed, whole or in parts; and no part writes a byte past its bound()
    (the packer stores 8 bytes at a time, the ones past a group's written over next)."""
    rng = np.random.default_rng(5)
    f, n, c = packing.WARM + 8 * packing.BLOCK - 5, 9, 16
    step, pos, h, alive, cursor, _ = _frames(rng, f, n)
    diffs = np.zeros((f, c), np.int64)  # block b's column k: residuals of width 1 + (16 b + k) % 64, exactly
    for b in range(8):
        rows = slice(packing.WARM + b * packing.BLOCK, packing.WARM + (b + 1) * packing.BLOCK)
        for k in range(c):
            w = 1 + (16 * b + k) % 64
            lo = -(1 << (w - 1)) if w < 64 else np.iinfo(np.int64).min
            hi = (1 << (w - 1)) - 1 if w < 64 else np.iinfo(np.int64).max
            d = rng.integers(lo, hi, diffs[rows, k].shape[0], endpoint=True)
            d[0] = lo  # (zigzags to 2^w - 1)
            diffs[rows, k] = d
    with np.errstate(over="ignore"):
        counters = np.cumsum(diffs, axis=0)  # (wrapping round, as the packer's differences do)
    whole = _pack(step, pos, h, alive, cursor, counters)
    status, got = _unpack(whole, step, f, n, c)
    assert status == unpacking.OK
    assert np.array_equal(got[4], counters) and np.array_equal(got[2], alive)
    assert np.array_equal(got[3].view(np.int32), cursor.view(np.int32))
    fixed = np.clip(np.rint(pos / np.float32(step)), 0, packing.POS_RANGE - 1) * np.float32(step)
    assert np.array_equal(got[0], fixed.astype(np.float32))
    widths = set()
    cuts = [0, *(packing.split(f, k / 3) for k in (1, 2)), f]
    parts = []
    for f0, f1 in zip(cuts[:-1], cuts[1:]):
        room = packing.bound(f1 - f0, n, c)
        buf = np.full(room + 64, 0xA5, np.uint8)
        size = packing.pack_frames(packing.Frames(pos, h, alive, cursor, counters), step, f0, f1, buf[:room])
        assert size <= room and (buf[room:] == 0xA5).all(), (f0, f1)
        parts.append(buf[:size])
    assert np.array_equal(np.concatenate(parts), whole)
    p = packing.HEADER  # the widths the blocks used: past the two varint frames, each block's width bytes
    for _ in range(packing.WARM * packing.n_columns(n, c)):
        while whole[p] & 0x80:
            p += 1
        p += 1
    nj, groups = packing.n_columns(n, c), 0
    for b0 in range(packing.WARM, f, packing.BLOCK):
        cols = [j for j in range(nj) if whole[p + (j >> 3)] >> (j & 7) & 1]
        ws = whole[p + (nj + 7) // 8 : p + (nj + 7) // 8 + len(cols)]
        widths |= set(ws.tolist())
        groups = (min(packing.BLOCK, f - b0) + 7) // 8
        p += (nj + 7) // 8 + len(cols) + groups * int(ws.sum())
    assert p == whole.shape[0]
    assert set(range(1, 65)) <= widths, sorted(set(range(1, 65)) - widths)


def test_a_chunk_packed_by_two_threads_in_parts_is_the_whole():
    """The recorder's _Packing: parts taken by threads at once (each in one compiled call, packing.pack_parts) join
    into the stream packing the chunk at once gives, whoever took which; a cancelled chunk gives no stream."""
    import threading

    from neuroevo.recorder import _Packing

    step, pos, h, alive, cursor, counters = _frames(np.random.default_rng(9), 1200, 7)
    whole = _pack(step, pos, h, alive, cursor, counters)
    for helpers in (0, 1, 3):
        job = _Packing([pos, h, alive, cursor, counters], step)
        assert len(job.parts) == 8 and job.parts[0][0] == 0 and job.parts[-1][1] == 1200
        threads = [threading.Thread(target=job.work) for _ in range(helpers)]
        for t in threads:
            t.start()
        got = job.result()
        for t in threads:
            t.join()
        assert np.array_equal(got, whole), helpers
        job.work()  # nothing left to take (and nothing to take from: the stream was joined)
        assert int(job._claim[1]) == 8 and job._args is None
        with pytest.raises(RuntimeError, match="taken once"):
            job.result()
    taken = _Packing([pos, h, alive, cursor, counters], step)
    assert taken._args is not None
    assert packing.pack_parts(*taken._args) == 8  # one call takes every part nobody took
    job = _Packing([pos, h, alive, cursor, counters], step)
    job.cancel()
    with pytest.raises(RuntimeError, match="8 parts of a chunk were not packed: it was cancelled"):
        job.result()


def test_a_packing_interrupted_never_hangs_the_writer(monkeypatch):
    """Ctrl-C (or any error) around the stepping thread's compiled packing call, before it (nothing taken: the
    writer's result() packs every part) or after it (its parts done): result() gives the whole stream, at once.
    The parts are counted in compiled code only, so no interruption can leave one that nobody finishes."""
    import threading

    from neuroevo import recorder
    from neuroevo.recorder import _Packing

    step, pos, h, alive, cursor, counters = _frames(np.random.default_rng(2), 600, 5)
    whole = _pack(step, pos, h, alive, cursor, counters)
    real = recorder.pack_parts
    for before in (True, False):
        calls: list[int] = []

        def interrupted(*args, before=before, calls=calls):
            calls.append(1)
            if len(calls) == 1:
                if not before:
                    real(*args)  # it packs every part, then Ctrl-C lands as the call returns
                raise KeyboardInterrupt
            return real(*args)

        monkeypatch.setattr(recorder, "pack_parts", interrupted)
        job = _Packing([pos, h, alive, cursor, counters], step)
        with pytest.raises(KeyboardInterrupt):
            job.work()
        got: list[object] = []
        t = threading.Thread(target=lambda job=job, got=got: got.append(job.result()), daemon=True)
        t.start()
        t.join(20)
        assert not t.is_alive() and len(got) == 1 and np.array_equal(got[0], whole), before
        assert int(job._claim[1]) == len(job.parts) == 8


def test_a_packed_chunk_too_large_or_lying_is_refused_before_decoding(tmp_path):
    """The reader checks the packed stream's header against the chunk, and what it would decode to against
    MAX_CHUNK_BYTES and against the bytes it has, before it makes any array (a small file cannot ask for GB)."""
    import types
    from pathlib import Path

    def header(f, n, c):
        return np.frombuffer(bytes([packing.MAGIC]) + f.to_bytes(4, "little") + n.to_bytes(4, "little")
                             + c.to_bytes(4, "little"), np.uint8)

    for n, f, src, needle in [(100_000, 100_000, header(100_001, 100_000, 3), "the chunk holds 100000 frames"),
                              (100_000, 100_000, header(100_000, 100_000, 3), "chunk too large"),
                              (1000, 5000, np.concatenate([header(5000, 1000, 3), np.zeros(100, np.uint8)]),
                               "cannot hold 5000 frames"),
                              (10, 10, header(10, 10, 99), "99 counters"),
                              (10, 10, np.zeros(5, np.uint8), "header")]:
        stub = types.SimpleNamespace(n=n, pos_step=1 / 16)
        with pytest.raises(rp.ReplayError, match=needle):
            rp.Replay._unpack(stub, Path("chunk-000001.npz"), {"step": np.zeros(f, np.int64), "packed": src})


def test_chunk_lengths(tmp_path):
    """Headless recordings of a few agents write long chunks (a compiled call ends at each); the live viewer's,
    made in real time, at most LIVE_CHUNK_SECONDS; large populations CHUNK_SECONDS."""
    from neuroevo import recorder

    sim = cursor_sim(agents=50)
    dt = sim.settings.world.dt
    run = rp.Recorder(sim, tmp_path / "a")
    live = rp.Recorder(sim, tmp_path / "b", origin="live")
    assert run.chunk_frames == round(recorder.MAX_CHUNK_SECONDS / dt) == 18000
    assert live.chunk_frames == round(recorder.LIVE_CHUNK_SECONDS / dt)
    assert recorder.chunk_frames(5000, dt) == round(recorder.CHUNK_SECONDS / dt)
    assert rp.Recorder(sim, tmp_path / "c", chunk_seconds=1.0, origin="live").chunk_frames == round(1 / dt)
    # a short step never makes chunks of millions of frames (the reader takes up to 10**6)
    assert recorder.chunk_frames(1, 1e-4) == recorder.chunk_frames(1, 1e-4, 3600.0) == recorder.MAX_CHUNK_FRAMES
    for r in (run, live):
        r.close()

def test_closing_takes_no_buffers_and_a_closed_recorder_refuses_frames(tmp_path):
    """close() writes the last chunk without taking buffers for frames that never come (a fresh set, made while the
    writer still holds the one before, is 14 MB at 50 agents), and a closed recorder refuses new frames instead of
    writing chunks after the replay was marked complete: a world still observed by it does not step."""
    sim = cursor_sim(agents=20)
    rec = rp.Recorder(sim, tmp_path / "r", chunk_seconds=0.5)
    sim.add_observer(rec)
    sim.run(70)  # two full chunks of 30 frames, and 11 frames in the buffers
    taken = []
    take = rec._new_frame_buffers
    rec._new_frame_buffers = lambda c: taken.append(c) or take(c)
    rec.close()
    assert taken == []
    r = rp.open(rec.path)
    assert len(r) == 71 and r.meta["complete"]
    for call in (lambda: rec.observe(sim), lambda: rec.rec_buffers(sim), lambda: sim.run(5)):
        with pytest.raises(RuntimeError, match="closed"):
            call()
    assert len(rp.open(rec.path)) == 71 and sorted(p.name for p in rec.path.iterdir())[-1] == "meta.json"
    sim.remove_observer(rec)
    sim.run(5)  # (without it, the world steps on)


def test_packed_frames_are_small_for_smooth_flight():
    """Smooth flight packs to a few bits a value: 1,200 frames of 50 agents, second differences within +-7."""
    rng = np.random.default_rng(5)
    f, n = 1200, 50
    acc = rng.integers(-7, 8, (f, n, 2))
    q = 8000 + np.cumsum(np.cumsum(acc, axis=0), axis=0) // 40
    pos = (q / 16.0).astype(np.float32)
    h = np.cumsum(rng.normal(0, 0.01, (f, n)), axis=0).astype(np.float32)
    src = _pack(1 / 16, pos, h, np.ones((f, n), bool), np.zeros((f, 5), np.float32), np.zeros((f, 14), np.int64))
    assert src.nbytes < f * n * 3 * 0.6  # under 5 bits a value on average (raw uint16 positions: 32 bits a pair)


def test_damaged_packed_frames_are_refused_not_read_out_of_bounds():
    """Every truncation, a byte more, a header of another shape and random damage: a status, never a crash."""
    step, pos, h, alive, cursor, counters = _frames(np.random.default_rng(3), 70, 4)
    src = _pack(step, pos, h, alive, cursor, counters)
    c = counters.shape[1]
    for cut in range(src.shape[0]):
        status, _ = _unpack(src[:cut], step, 70, 4, c)
        assert status in (unpacking.E_HEADER, unpacking.E_SHORT, unpacking.E_WIDTH), cut
    assert _unpack(np.append(src, np.uint8(0)), step, 70, 4, c)[0] == unpacking.E_LONG
    assert _unpack(src, step, 71, 4, c)[0] == unpacking.E_SHAPE
    assert _unpack(src, step, 70, 4, c - 1)[0] == unpacking.E_SHAPE
    rng = np.random.default_rng(4)
    statuses = set()
    for _ in range(300):
        bad = src.copy()
        where = rng.integers(packing.HEADER, bad.shape[0], 3)
        bad[where] = rng.integers(0, 256, 3)
        status, got = _unpack(bad, step, 70, 4, c)
        statuses.add(status)
        if status == unpacking.OK:  # damage that still decodes gives positions inside the fixed-point range
            assert np.all((got[0] >= 0) & (got[0] <= (rp.POS_RANGE - 1) * step))
    assert statuses - {unpacking.OK}  # most damage is caught


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


@pytest.mark.parametrize("version", [2, 3])
def test_an_older_replay_reads_as_the_new_one(recorded, tmp_path, as_version2, as_version3, version):
    """Replays recorded before the frames were packed (format 2: one deflated array each), or before the step
    numbers and mean ages were stored as differences (format 3), play as they did."""
    import shutil

    shutil.copytree(recorded, tmp_path / "old")
    (as_version2 if version == 2 else as_version3)(tmp_path / "old")
    new, old = rp.open(recorded), rp.open(tmp_path / "old")
    assert new.meta["format_version"] == rp.FORMAT_VERSION == 4 and old.meta["format_version"] == version
    assert new.packed and new.diffed and not old.diffed and old.packed == (version == 3)
    with np.load(old.files[0], allow_pickle=False) as z:
        assert {"step", "mean_age"} <= set(z.files) and not {"step_d", "mean_age_d"} & set(z.files)
        if version == 2:
            assert {"pos", "heading", "alive", "cursor", "counters"} <= set(z.files) and "packed" not in z.files
    assert len(old) == len(new) > 1000
    for i in range(len(new)):
        a, b = new.frame(i), old.frame(i)
        for k in ("step", "pos", "heading", "alive", "cursor", "counters", "icons"):
            np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=f"frame {i}: {k}")
    np.testing.assert_array_equal(new.mean_age, old.mean_age)
    for k in new.births:
        np.testing.assert_array_equal(new.births[k], old.births[k])
    for k in new.deaths:
        np.testing.assert_array_equal(new.deaths[k], old.deaths[k])


def test_step_numbers_and_mean_ages_are_stored_as_small_differences():
    """Format 4 stores a chunk's step numbers and mean ages as int64 differences (the mean ages' of their float32
    bits), which give back every value bit for bit, and deflate to little: a step is one more than the last, a mean
    age one more while nobody is born or dies."""
    import zlib

    rng = np.random.default_rng(3)
    f = 7200
    step = 1000 + np.arange(f, dtype=np.int64)
    step[4000:] += 17  # (steps need not be consecutive)
    mean = (np.float32(5.0) + np.arange(f, dtype=np.float32)).astype(np.float32)
    mean[[0, 900, 901, 5000]] = [0.0, 3.4e38, 1e-30, 123.456]  # zero, the largest, a tiny one, a drop
    mean[6000:] = rng.uniform(0, 1e6, f - 6000).astype(np.float32)
    arrays = {"step": step.copy(), "mean_age": mean.copy(), "icons": np.zeros((f, 0, 4), np.float32)}
    rp.diffed(arrays)
    assert set(arrays) == {"step_d", "mean_age_d", "icons"}
    assert arrays["step_d"].dtype == arrays["mean_age_d"].dtype == np.int64
    np.testing.assert_array_equal(arrays["step_d"][1:4000], 1)
    assert len(zlib.compress(arrays["mean_age_d"][:5000].tobytes(), 1)) < 400  # (~40 kB as they are)
    rp.undiffed(arrays)
    np.testing.assert_array_equal(arrays["step"], step)
    assert arrays["mean_age"].dtype == np.float32
    np.testing.assert_array_equal(arrays["mean_age"].view(np.int32), mean.view(np.int32))
    for bad in (np.array([-5], np.int64), np.array([0x7F800000], np.int64)):  # no float32 / infinity
        with pytest.raises(ValueError, match="mean_age"):
            rp.undiffed({"mean_age_d": bad})


def test_a_recorded_mean_age_is_the_live_one(tmp_path):
    """The mean age a replay gives for its last frame is the one the world had (its ages read directly)."""
    sim = cursor_sim(agents=20)
    rec = rp.Recorder(sim, tmp_path / "r", chunk_seconds=3.0)
    sim.add_observer(rec)
    sim.run(600)
    ages = sim.state.age[sim.state.alive]
    rec.close()
    r = rp.open(rec.path)
    assert r.diffed and len(r.files) > 2 and r.frame(len(r) - 1).step == sim.step_count
    assert r.mean_age[-1] == np.float32(ages.mean()) and r.mean_age.dtype == np.float32


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
    meta = (future / "meta.json").read_text().replace(f'"format_version": {rp.FORMAT_VERSION}', '"format_version": 99')
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
