"""Recorder: the observer that writes a run into a replay folder (format and reader in replay.py)."""

from __future__ import annotations

import math
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .io import npz_bytes, write_bytes, write_json
from .packing import Frames, bound, pack_parts, split
from .replay import (
    _CURSOR_FIELDS,
    _NO_ICONS,
    CHUNK_DEFLATE_LEVEL,
    DEFLATED_KEYS,
    EVENT_KEYS,
    FORMAT,
    FORMAT_VERSION,
    HEADING_BINS,
    PACKED_KEYS,
    diffed,
    pos_step_for,
    unused_path,
)
from .state import WorldState

# A chunk holds CHUNK_SECONDS of frames, or more for a small population (at least CHUNK_AGENT_FRAMES agent-frames, up
# to MAX_CHUNK_SECONDS): each chunk costs a fixed price (a file with two fsyncs, a compiled call of the step ended to
# hand its frames over, the Python of its end and the encoding of its small members: ~1.5 ms a chunk end at 50
# agents), which 300 frames of 50 agents did not pay off; 50 agents write 5-minute chunks (18,000 frames: 2 a
# 10-minute run; 2-minute chunks cost 1.03-1.04x as much, record_cost.py --variants plain rec rec-2min). A headless
# run steps ~200x faster than real time, so a chunk is a fraction of a second of its work: what a crash (kill -9) may
# lose. The live viewer, which runs in real time, keeps its chunks to LIVE_CHUNK_SECONDS at most, so a crash loses
# little of a session.
CHUNK_SECONDS, CHUNK_AGENT_FRAMES, MAX_CHUNK_SECONDS, LIVE_CHUNK_SECONDS = 5.0, 900_000, 300.0, 20.0
MAX_CHUNK_FRAMES = 100_000  # and never more frames than this (the reader takes up to validate's 10**6)
# Chunks that may wait for the writer thread at once (and their bytes before encoding): enough to ride out slow
# fsyncs, little enough to keep a large population's recording in bounded memory.
MAX_QUEUED_CHUNKS, MAX_QUEUED_BYTES = 8, 64 << 20
# A chunk's frames are packed in PACK_PARTS parts. After a piece of team steps the stepping thread takes what it can
# of them, beside the writer thread: the helper's core is free between calls, and a writer packing during the next
# call would take that core from the helper (measured: 1.37x for a recorded run with half of them, 1.26-1.36x taking
# what it can, each against the unrecorded run; the noise is about as large as the difference).
PACK_PARTS = 8


# ---- recording ---------------------------------------------------------------------------------------------------
class Recorder:
    """Simulation observer that records every step into chunk files (see the module docstring).

    Memory stays flat: a chunk's frames are buffered, written, and dropped. close() writes the last, partial chunk.
    Simulation.run lets the compiled step write the frames straight into the chunk buffers (record.Rec: views of
    them, filled after every step), so a recorded run is not cut into one compiled call per step; observe() is the
    same recording from Python, one frame per call (the starting frame, and any caller stepping by hand).
    """

    every = 1
    wants_events = True  # the kernel's death reports (sim.last_events)
    records_in_step = True  # Simulation.run hands the frames to the compiled step (rec_buffers / frames_done)

    def __init__(self, sim: Any, path: str | Path, chunk_seconds: float | None = None, origin: str = "run") -> None:
        self.path = unused_path(Path(path))  # never over an earlier recording: replay, replay-2, ...
        self.path.mkdir(parents=True, exist_ok=True)
        w = sim.settings.world
        self.n = sim.state.n
        self.dt = w.dt
        self.pos_step = pos_step_for(w.width, w.height)
        self.chunk_frames = chunk_frames(self.n, w.dt, chunk_seconds)
        if origin == "live" and chunk_seconds is None:  # a crash of a live session loses at most this much of it
            self.chunk_frames = min(self.chunk_frames, chunk_frames(self.n, w.dt, LIVE_CHUNK_SECONDS))
        self.frames_written = self.chunks_written = 0
        self.meta = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "version": __version__, "origin": origin,
            "scenario": sim.scenario, "seed": sim.seed, "settings": sim.settings.to_dict(),
            "layout": list(sim.layout.sizes), "n_slots": self.n, "dt": w.dt, "pos_step": self.pos_step,
            "heading_bins": HEADING_BINS, "chunk_frames": self.chunk_frames, "start_step": sim.step_count,
            "cursor_columns": ["x", "y", "present", "armed", "click"],
            "hooks": sorted(type(sim.hooks).hooks_defined()) if getattr(sim, "hooks", None) is not None else [],
        }
        write_json(self.path / "meta.json", self.meta)
        s = sim.state
        self._genomes0 = sim.genomes.copy()  # (N, n_params) every slot's genome at the first frame
        self._prev_gid = s.genome_id.copy()
        self._prev_alive = s.alive.copy()
        self._prev_pos = s.pos.copy()
        self._prev_age = s.age.copy()
        self._writer: ThreadPoolExecutor | None = None  # packs (with this thread) and writes each chunk, in order
        self._io: ThreadPoolExecutor | None = None  # writes them to disk (temp file, fsync, rename), in order
        # chunks queued for the writer thread, with their bytes and their packing
        self._pending: deque[tuple[Future, int, _Packing]] = deque()
        self._stored: deque[Future] = deque()  # chunk files queued for the disk thread (appended by the writer)
        self._free: deque[tuple[np.ndarray, ...]] = deque(maxlen=2)  # chunk buffers the writer has finished with
        self.main_packs = False  # the stepping thread packs parts of each chunk (set after team-step pieces)
        self._write_failed = False  # set by the writer thread: the chunks queued after a failed one are not written
        self.failed = False  # a chunk failed to write: nothing more is written
        self._reset_buffers(s)
        self.closed = False
        self._ended = False  # close() has begun: no more frames
        self.observe(sim)  # the starting frame

    def settings_changed(self, sim: Any) -> None:
        """Note a mid-run change of settings (hot reload, schedule) in meta.json, with the frame it applies from."""
        f = self.frames_written + self._k
        self.meta.setdefault("settings_changes", []).append({"frame": f, "settings": sim.settings.to_dict()})
        write_json(self.path / "meta.json", self.meta)

    def _reset_buffers(self, s: WorldState) -> None:
        self._k = 0  # frames in the buffers
        self._new_frame_buffers(s.counters.shape[0])
        self._icons: list[list[Any]] = []  # runs of frames with the same icons: [icons (M, 4) float32, frames]
        self._events: dict[str, list[np.ndarray]] = {k: [] for k in EVENT_KEYS}
        self._key = (s.genome_id.copy(), s.parent_id.copy(), s.age.copy(), self._team_of(s))
        self._rec: Any = None  # record.Rec birth buffers, made on the first compiled piece

    def _new_frame_buffers(self, n_counters: int) -> None:
        """Chunk buffers for the next chunk (a full chunk's go to the writer thread as they are): a set the writer
        has finished with, or fresh ones. Two sets are made at the start, their pages touched there (_fresh_set), and
        then take turns: the compiled step never writes into memory it has to fault in (at 50 agents, fresh buffers
        for every chunk made a recorded step 10-20% slower)."""
        f = self.chunk_frames
        while self._free:
            bufs = self._free.popleft()
            if bufs[0].shape[0] == f and bufs[5].shape[1] == n_counters:
                break
        else:
            bufs = self._fresh_set(n_counters)
            if self._k == 0 and self.frames_written == 0:  # the start: the second set, ready for the next chunk
                self._free.append(self._fresh_set(n_counters))
        (self._b_step, self._b_pos, self._b_heading, self._b_alive, self._b_cursor, self._b_counters,
         self._b_mean_age) = bufs

    def _fresh_set(self, n_counters: int) -> tuple[np.ndarray, ...]:
        f, n = self.chunk_frames, self.n
        bufs = (np.empty(f, np.int64), np.empty((f, n, 2), np.float32), np.empty((f, n), np.float32),
                np.empty((f, n), np.bool_), np.empty((f, 5), np.float32), np.empty((f, n_counters), np.int64),
                np.empty(f, np.float32))
        for b in bufs:
            b.fill(0)  # (faulted in here, not in the step)
        return bufs

    def _team_of(self, s: WorldState) -> np.ndarray:
        team = getattr(s, "team", None)
        return np.zeros(self.n, np.int8) if team is None else np.asarray(team, np.int8).copy()

    def observe(self, sim: Any) -> None:
        if self._ended:
            raise RuntimeError(f"{self.path}: the recording is closed")
        s = sim.state
        k = self._k
        f = self.frames_written + k
        if k == 0:  # a chunk's first frame: its keyframe
            self._key = (s.genome_id.copy(), s.parent_id.copy(), s.age.copy(), self._team_of(s))
        if f > 0:
            changed_mask = s.genome_id != self._prev_gid
            deaths = sim.last_events  # (k, 4) step, slot, cause, lifetime: what the compiled step reported
            if deaths.shape[0] or changed_mask.any():  # most steps nobody dies: skip the event scan
                self._events_of(sim, f, np.flatnonzero(changed_mask), deaths)
        self._b_step[k] = sim.step_count
        self._b_pos[k] = s.pos
        self._b_heading[k] = s.heading
        self._b_alive[k] = s.alive
        self._b_cursor[k] = s.cursor[_CURSOR_FIELDS]
        self._b_counters[k] = s.counters
        ages = s.age[s.alive]
        self._b_mean_age[k] = ages.mean() if ages.size else 0.0
        self._add_icons(getattr(sim, "icons", None), 1)  # (M, 4) hazard rectangles; they may move or change
        self._prev_gid[:] = s.genome_id
        self._prev_alive[:] = s.alive
        self._prev_pos[:] = s.pos
        self._prev_age[:] = s.age
        self._k = k + 1
        if self._k >= self.chunk_frames:
            self.flush()

    def _add_icons(self, icons: np.ndarray | None, frames: int) -> None:
        """The icons of the next `frames` frames (a copy; a run goes on while they stay the same)."""
        icons = _NO_ICONS if icons is None or len(icons) == 0 else np.asarray(icons, np.float32)
        last = self._icons[-1] if self._icons else None
        if last is not None and last[0].shape == icons.shape and np.array_equal(last[0], icons):
            last[1] += frames
        else:
            self._icons.append([icons.copy(), frames])

    def _events_of(self, sim: Any, f: int, changed: np.ndarray, deaths: np.ndarray) -> None:
        """Deaths (as the kernel reported them) and births (slots holding a new genome since the last frame).

        A generation change gives survivors new genomes too: those are births, not deaths.
        """
        s = sim.state
        slots = deaths[:, 1]
        self._add_deaths(np.full(slots.size, f, np.int64), deaths, self._prev_pos[slots])
        self._add_births(np.full(changed.size, f, np.int64), changed, s.genome_id[changed], s.parent_id[changed],
                         sim.genomes[changed])

    def _add_deaths(self, frames: np.ndarray, deaths: np.ndarray, pos: np.ndarray) -> None:
        """deaths (k, 4) rows of (step, slot, cause, lifetime) at frames (k,), positions pos (k, 2) one frame before."""
        ev = self._events
        ev["death_frame"].append(frames.astype(np.int64))
        ev["death_slot"].append(deaths[:, 1].astype(np.int64))
        ev["death_cause"].append(deaths[:, 2].astype(np.int64))
        ev["death_life"].append(deaths[:, 3].astype(np.int64))
        ev["death_pos"].append(np.asarray(pos, np.float32).reshape(-1, 2))

    def _add_births(self, frames: np.ndarray, slots: np.ndarray, gid: np.ndarray, parent: np.ndarray,
                    genomes: np.ndarray) -> None:
        ev = self._events
        ev["birth_frame"].append(frames.astype(np.int64))
        ev["birth_slot"].append(slots.astype(np.int64))
        ev["birth_gid"].append(gid.astype(np.int64))
        ev["birth_parent"].append(parent.astype(np.int64))
        ev["birth_genome"].append(np.array(genomes, np.float32).reshape(-1, self._genomes0.shape[1]))

    # ---- recording inside the compiled step (Simulation.run) ------------------------------------------------
    def room(self) -> int:
        """Frames the next compiled piece may record: to the end of the chunk."""
        return self.chunk_frames - self._k

    def rec_buffers(self, sim: Any) -> Any:
        """A record.Rec of views into the chunk buffers from the next frame on, fresh birth rows, and (when the
        piece starts a chunk) keyframe rows for the step to fill."""
        from .record import Rec

        if self._ended:
            raise RuntimeError(f"{self.path}: the recording is closed")
        k, n = self._k, self.n
        if self._rec is None:
            rows = 2 * n + 4096
            self._rec = (np.empty(rows, np.int64), np.empty(rows, np.int64), np.empty(rows, np.int64),
                         np.empty(rows, np.int64), np.empty((rows, self._genomes0.shape[1]), np.float32))
        bf, bs, bg, bp, bgen = self._rec
        key = [np.empty(n if k == 0 else 0, np.int64) for _ in range(3)]
        return Rec(self._b_step[k:], self._b_pos[k:], self._b_heading[k:], self._b_alive[k:], self._b_cursor[k:],
                   self._b_counters[k:], self._b_mean_age[k:], self._prev_gid, bf, bs, bg, bp, bgen,
                   np.zeros(2, np.int64), *key)

    def frames_done(self, sim: Any, rec: Any, deaths: np.ndarray) -> None:
        """Take the frames the compiled step wrote into rec (and the deaths it reported among them)."""
        m, nb = int(rec.n[0]), int(rec.n[1])
        if m == 0:
            return
        k = self._k
        f0 = self.frames_written + k
        s = sim.state
        if k == 0:  # the chunk's first frame: the step wrote its keyframe (teams never change)
            self._key = (rec.key_gid, rec.key_parent, rec.key_age, self._team_of(s))
        if deaths.shape[0]:
            r = deaths[:, 0] + 1 - self._b_step[k]  # frame of each death within the piece
            before = self._b_pos[np.maximum(k + r - 1, 0), deaths[:, 1]]  # positions one frame before
            first = r == 0
            before[first] = self._prev_pos[deaths[first, 1]]
            self._add_deaths(f0 + r, deaths, before)
        if nb:
            bf, bs, bg, bp, bgen = self._rec
            self._add_births(f0 + bf[:nb], bs[:nb], bg[:nb], bp[:nb], bgen[:nb])
        self._add_icons(getattr(sim, "icons", None), m)
        self._prev_pos[:] = self._b_pos[k + m - 1]
        self._prev_alive[:] = s.alive
        self._prev_age[:] = s.age
        self._k = k + m
        if self._k >= self.chunk_frames:
            self.flush()

    def flush(self, last: bool = False) -> None:
        """Write the buffered frames as the next chunk (nothing if empty, or once a chunk failed to write: the
        replay then ends at the last whole chunk, never with a gap). last (close()): no frames follow, so no
        buffers are taken for them (a fresh set, made when the writer still holds the one before, is 14 MB at 50
        agents)."""
        ev, n = self._events, self._k
        if n == 0 or self.failed:
            return
        p = self._genomes0.shape[1]
        m = max(len(i) for i, _ in self._icons)
        icons = np.full((n, m, 4), np.nan, np.float32)  # padded with NaN rows where a frame had fewer
        f = 0
        for i, frames in self._icons:
            icons[f : f + frames, : len(i)] = i
            f += frames
        arrays: dict[str, np.ndarray] = {
            "frame0": np.array(self.frames_written, np.int64),
            "step": self._b_step[:n],  # the buffers themselves (fresh ones take the next chunk): the writer thread
            "pos": self._b_pos[:n],  # (_write_chunk) packs pos ... counters, and diffs step and mean_age
            "heading": self._b_heading[:n],
            "alive": self._b_alive[:n],
            "cursor": self._b_cursor[:n],
            "counters": self._b_counters[:n],
            "mean_age": self._b_mean_age[:n],
            "icons": icons,
            "key_gid": self._key[0], "key_parent": self._key[1], "key_age": self._key[2], "key_team": self._key[3],
            **{k: _joined(ev[k], np.int64) for k in ("birth_frame", "birth_slot", "birth_gid", "birth_parent")},
            "birth_genome": _joined(ev["birth_genome"], np.float32, p),
            **{k: _joined(ev[k], np.int64) for k in ("death_frame", "death_slot", "death_cause", "death_life")},
            "death_pos": _joined(ev["death_pos"], np.float32, 2),
        }
        if self.chunks_written == 0:
            arrays["genomes0"] = self._genomes0
        bufs = (self._b_step, self._b_pos, self._b_heading, self._b_alive, self._b_cursor, self._b_counters,
                self._b_mean_age)
        if not last:
            self._new_frame_buffers(self._b_counters.shape[1])
        # The chunk is written by a writer thread while the run goes on (the compiled step and the packing release
        # the GIL): one chunk at a time, in order, each through temp file + rename; a few chunks may wait their
        # turn, so a slow disk (fsync) does not stop the run.
        nbytes = sum(a.nbytes for a in arrays.values())
        self._wait_writer(room_for=nbytes)
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-writer")
            self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-disk")
        # The chunk's frames are packed in PACK_PARTS runs of blocks, which either thread may take (_Packing): after
        # team steps, whose helper leaves its core free between calls, this thread takes what it can at once, while
        # the writer encodes the chunk's other members and then joins in; at close() it helps with whatever is left.
        packing = _Packing([arrays[k] for k in PACKED_KEYS], self.pos_step)
        job = self._writer.submit(self._write_chunk, self.path / f"chunk-{self.chunks_written:06d}.npz", arrays,
                                  bufs, packing)
        self._pending.append((job, nbytes, packing))
        if self.main_packs:
            try:
                packing.work()
            except BaseException:  # (Ctrl-C) nothing after this chunk is written (the writer finishes this one)
                self.failed = True
                raise
        self.chunks_written += 1
        self.frames_written += n
        self._k = 0
        self._icons = []
        self._events = {k: [] for k in EVENT_KEYS}

    def _write_chunk(self, path: Path, arrays: dict[str, np.ndarray], bufs: tuple[np.ndarray, ...],
                     packing: _Packing) -> None:
        """On the writer thread: encode one chunk (its members other than the frames first, while the stepping
        thread may pack the frames; then the parts of the frames left) and queue its bytes for the disk thread,
        unless one before it failed (no gap in a replay), and give its frame buffers (bufs) back for a later chunk.
        The disk thread's waits (fsync) so overlap the next chunk's work. (A writer that packed first and encoded
        the rest after did that encoding, ~2 ms a chunk of 50 agents, during the next team steps, on the helper's
        core.)"""
        if self._write_failed:
            packing.cancel()
            return
        try:
            for k in PACKED_KEYS:
                del arrays[k]
            diffed(arrays)  # the step numbers and mean ages as differences (format version 4)
            arrays["packed"] = packing.result  # (the last member: npz_bytes asks for it when it comes to it)
            data = npz_bytes(arrays, CHUNK_DEFLATE_LEVEL, DEFLATED_KEYS)
            del arrays
            self._free.append(bufs)  # everything is in data now
            assert self._io is not None
            self._stored.append(self._io.submit(self._store, path, data))
        except BaseException:
            self._write_failed = True
            packing.cancel()
            raise

    def _store(self, path: Path, data: memoryview) -> None:
        """On the disk thread: one chunk file through a temp file and a rename, unless one before it failed."""
        if self._write_failed:
            return
        try:
            write_bytes(path, data)
        except BaseException:
            self._write_failed = True
            raise

    def _wait_writer(self, room_for: int | None = None) -> None:
        """Wait for the queued chunks to be written (with room_for: only until a chunk of that many bytes may join
        the queue); the first error is raised here."""
        try:
            while self._pending:
                job, _, packing = self._pending[0]
                if room_for is not None and not job.done():
                    queued = sum(b for _, b, _ in self._pending)
                    if len(self._pending) < MAX_QUEUED_CHUNKS and queued + room_for <= MAX_QUEUED_BYTES:
                        break
                if room_for is None:  # the last waits: this thread helps pack what the writer has not begun
                    for _, _, other in self._pending:
                        other.work()
                self._pending.popleft()
                job.result()
            while self._stored and (room_for is None or self._stored[0].done()):
                self._stored.popleft().result()
        except BaseException:
            self.failed = True
            self._pending.clear()
            raise

    def close(self) -> None:
        if self.closed:
            return
        self._ended = True  # no frame after these (even if the close fails: its buffers may be the writer's)
        if self.failed:  # a chunk could not be written: what is on disk plays; meta.json stays "not complete"
            self._shutdown()
            self.closed = True
            return
        self.flush(last=True)
        self._wait_writer()
        self._shutdown()
        self.meta["frames"] = self.frames_written
        self.meta["complete"] = True
        write_json(self.path / "meta.json", self.meta)
        self.closed = True

    def _shutdown(self) -> None:
        for pool in (self._writer, self._io):
            if pool is not None:
                pool.shutdown()
        self._writer = self._io = None


class _Packing:
    """One chunk's frames packed in parts (runs of whole blocks, packing.split), which the writer thread and the
    stepping thread take in turn, first come first served (packing.pack_parts: each thread takes parts in one
    compiled call, without Python's lock); result() joins them in order into the stream that packing the chunk at
    once gives.

    The parts are counted in compiled code only (taken, finished: packing.pack_parts' claim), where nothing
    interrupts a thread between taking a part and finishing it: a Ctrl-C lands before a thread's call (it has taken
    nothing; the others pack its share) or after it (its parts are done), never leaving a part that nobody will
    finish, so result() cannot wait forever."""

    def __init__(self, frames: list[np.ndarray], pos_step: float) -> None:
        fr = Frames(*frames)
        self.frames: Frames | None = fr
        f, n, c = fr.pos.shape[0], fr.pos.shape[1], fr.counters.shape[1]
        cuts = sorted({0, f, *(split(f, k / PACK_PARTS) for k in range(1, PACK_PARTS))})
        self.parts = list(zip(cuts[:-1], cuts[1:]))
        offsets = np.cumsum([0, *(bound(b - a, n, c) for a, b in self.parts)]).astype(np.int64)
        out = np.empty(int(offsets[-1]), np.uint8)  # (only the pages the parts write are touched)
        self._sizes = np.zeros(len(self.parts), np.int64)
        self._claim = np.zeros(2, np.int64)  # parts taken (tries: it goes past their number), parts finished
        # pack_parts' arguments, one attribute (read at once by a thread that joins late; None once joined)
        self._args: tuple | None = (fr, pos_step, np.array(cuts, np.int64), out, offsets, self._sizes, self._claim)
        self._cancelled = False

    def work(self) -> None:
        """Pack the parts nobody has taken yet, on this thread."""
        args = self._args
        if args is not None and not self._cancelled:
            pack_parts(*args)

    def cancel(self) -> None:
        """Nobody takes another part (the chunk is not written; result() refuses)."""
        self._cancelled = True
        self._claim[0] = len(self.parts)  # (a plain store: a thread's atomic claim lands before or after it)

    def result(self) -> np.ndarray:
        """The packed stream, once every part is done (this thread packs what nobody has taken, then waits for the
        parts other threads are packing: a part's time at most)."""
        self.work()
        n = len(self.parts)
        while not self._cancelled and self._claim[1] < n:
            time.sleep(0.0002)
        args = self._args
        if self._cancelled:
            raise RuntimeError(f"{n - int(self._claim[1])} parts of a chunk were not packed: it was cancelled")
        if args is None:
            raise RuntimeError("a chunk's packed stream is taken once")
        out, offsets = args[3], args[4]
        whole = np.concatenate([out[o : o + z] for o, z in zip(offsets[:-1], self._sizes)])
        self._args = None  # (the chunk's buffers may take the next chunk; the parts' room is let go)
        self.frames = None
        return whole


def chunk_frames(n_agents: int, dt: float, seconds: float | None = None) -> int:
    """Frames per chunk: `seconds` of them, or by default CHUNK_SECONDS, more for a small population; at most
    MAX_CHUNK_FRAMES (with a short step, dt down to 1e-4 s, a lone agent would otherwise get 900,000 frames a
    chunk, and a long `seconds` more than the reader takes)."""
    if seconds is not None:
        return max(1, min(MAX_CHUNK_FRAMES, int(round(seconds / dt))))
    small = min(math.ceil(CHUNK_AGENT_FRAMES / max(1, n_agents)), int(round(MAX_CHUNK_SECONDS / dt)))
    return max(1, min(MAX_CHUNK_FRAMES, max(int(round(CHUNK_SECONDS / dt)), small)))


def _joined(parts: list[np.ndarray], dtype: type, width: int = 0) -> np.ndarray:
    """One array of an event column from its pieces: (k,) or (k, width)."""
    if not parts:
        return np.zeros((0, width) if width else 0, dtype)
    return np.concatenate(parts).astype(dtype, copy=False)
