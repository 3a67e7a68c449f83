"""Recorder: the observer that writes a run into a replay folder (format and reader in replay.py)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .io import write_json, write_npz
from .replay import (
    _CURSOR_FIELDS,
    _NO_ICONS,
    CHUNK_DEFLATE_LEVEL,
    EVENT_KEYS,
    FORMAT,
    FORMAT_VERSION,
    HEADING_BINS,
    encode_headings,
    encode_positions,
    pos_step_for,
    unused_path,
)
from .state import WorldState


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

    def __init__(self, sim: Any, path: str | Path, chunk_seconds: float = 5.0, origin: str = "run") -> None:
        self.path = unused_path(Path(path))  # never over an earlier recording: replay, replay-2, ...
        self.path.mkdir(parents=True, exist_ok=True)
        w = sim.settings.world
        self.n = sim.state.n
        self.dt = w.dt
        self.pos_step = pos_step_for(w.width, w.height)
        self.chunk_frames = max(1, int(round(chunk_seconds / w.dt)))
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
        self._writer: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        self.failed = False  # a chunk failed to write: nothing more is written
        self._reset_buffers(s)
        self.closed = False
        self.observe(sim)  # the starting frame

    def settings_changed(self, sim: Any) -> None:
        """Note a mid-run change of settings (hot reload, schedule) in meta.json, with the frame it applies from."""
        f = self.frames_written + self._k
        self.meta.setdefault("settings_changes", []).append({"frame": f, "settings": sim.settings.to_dict()})
        write_json(self.path / "meta.json", self.meta)

    def _reset_buffers(self, s: WorldState) -> None:
        f, n = self.chunk_frames, self.n
        self._k = 0  # frames in the buffers
        self._b_step = np.empty(f, np.int64)
        self._b_pos = np.empty((f, n, 2), np.float32)
        self._b_heading = np.empty((f, n), np.float32)
        self._b_alive = np.empty((f, n), np.bool_)
        self._b_cursor = np.empty((f, 5), np.float32)
        self._b_counters = np.empty((f, s.counters.shape[0]), np.int64)
        self._b_mean_age = np.empty(f, np.float32)
        self._icons: list[np.ndarray] = []
        self._events: dict[str, list[np.ndarray]] = {k: [] for k in EVENT_KEYS}
        self._key = (s.genome_id.copy(), s.parent_id.copy(), s.age.copy(), self._team_of(s))
        self._rec: Any = None  # record.Rec birth buffers, made on the first compiled piece

    def _team_of(self, s: WorldState) -> np.ndarray:
        team = getattr(s, "team", None)
        return np.zeros(self.n, np.int8) if team is None else np.asarray(team, np.int8).copy()

    def observe(self, sim: Any) -> None:
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
        icons = getattr(sim, "icons", None)  # (M, 4) hazard rectangles; they may move or change
        self._icons.append(_NO_ICONS if icons is None or len(icons) == 0 else np.array(icons, np.float32))
        self._prev_gid[:] = s.genome_id
        self._prev_alive[:] = s.alive
        self._prev_pos[:] = s.pos
        self._prev_age[:] = s.age
        self._k = k + 1
        if self._k >= self.chunk_frames:
            self.flush()

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
        """Frames the next compiled piece may record: to the end of the chunk, or 1 at a chunk's first frame (its
        keyframe is read from the state after that step)."""
        return 1 if self._k == 0 else self.chunk_frames - self._k

    def rec_buffers(self, sim: Any) -> Any:
        """A record.Rec of views into the chunk buffers from the next frame on, and fresh birth rows."""
        from .record import Rec

        k, n = self._k, self.n
        if self._rec is None:
            rows = 2 * n + 4096
            self._rec = (np.empty(rows, np.int64), np.empty(rows, np.int64), np.empty(rows, np.int64),
                         np.empty(rows, np.int64), np.empty((rows, self._genomes0.shape[1]), np.float32))
        bf, bs, bg, bp, bgen = self._rec
        return Rec(self._b_step[k:], self._b_pos[k:], self._b_heading[k:], self._b_alive[k:], self._b_cursor[k:],
                   self._b_counters[k:], self._b_mean_age[k:], self._prev_gid, bf, bs, bg, bp, bgen,
                   np.zeros(2, np.int64))

    def frames_done(self, sim: Any, rec: Any, deaths: np.ndarray) -> None:
        """Take the frames the compiled step wrote into rec (and the deaths it reported among them)."""
        m, nb = int(rec.n[0]), int(rec.n[1])
        if m == 0:
            return
        k = self._k
        f0 = self.frames_written + k
        s = sim.state
        if k == 0:  # the chunk's first frame is the state now (room() gave a 1-frame piece)
            self._key = (s.genome_id.copy(), s.parent_id.copy(), s.age.copy(), self._team_of(s))
        if deaths.shape[0]:
            r = deaths[:, 0] + 1 - self._b_step[k]  # frame of each death within the piece
            before = self._b_pos[np.maximum(k + r - 1, 0), deaths[:, 1]]  # positions one frame before
            first = r == 0
            before[first] = self._prev_pos[deaths[first, 1]]
            self._add_deaths(f0 + r, deaths, before)
        if nb:
            bf, bs, bg, bp, bgen = self._rec
            self._add_births(f0 + bf[:nb], bs[:nb], bg[:nb], bp[:nb], bgen[:nb])
        icons = getattr(sim, "icons", None)
        icons = _NO_ICONS if icons is None or len(icons) == 0 else np.array(icons, np.float32)
        self._icons.extend([icons] * m)
        self._prev_pos[:] = self._b_pos[k + m - 1]
        self._prev_alive[:] = s.alive
        self._prev_age[:] = s.age
        self._k = k + m
        if self._k >= self.chunk_frames:
            self.flush()

    def flush(self) -> None:
        """Write the buffered frames as the next chunk (nothing if empty, or once a chunk failed to write: the
        replay then ends at the last whole chunk, never with a gap)."""
        ev, n = self._events, self._k
        if n == 0 or self.failed:
            return
        p = self._genomes0.shape[1]
        m = max(len(i) for i in self._icons)
        icons = np.full((n, m, 4), np.nan, np.float32)  # padded with NaN rows where a frame had fewer
        for k, i in enumerate(self._icons):
            icons[k, : len(i)] = i
        arrays: dict[str, np.ndarray] = {
            "frame0": np.array(self.frames_written, np.int64),
            "step": self._b_step[:n].copy(),
            "pos": self._b_pos[:n].copy(),  # encoded by the writer thread (_write_chunk)
            "heading": self._b_heading[:n].copy(),
            "alive": self._b_alive[:n].copy(),
            "cursor": self._b_cursor[:n].copy(),
            "counters": self._b_counters[:n].copy(),
            "mean_age": self._b_mean_age[:n].copy(),
            "icons": icons,
            "key_gid": self._key[0], "key_parent": self._key[1], "key_age": self._key[2], "key_team": self._key[3],
            **{k: _joined(ev[k], np.int64) for k in ("birth_frame", "birth_slot", "birth_gid", "birth_parent")},
            "birth_genome": _joined(ev["birth_genome"], np.float32, p),
            **{k: _joined(ev[k], np.int64) for k in ("death_frame", "death_slot", "death_cause", "death_life")},
            "death_pos": _joined(ev["death_pos"], np.float32, 2),
        }
        if self.chunks_written == 0:
            arrays["genomes0"] = self._genomes0
        # Encoding and compression (most of a recording's cost) run on a writer thread while the run goes on
        # (zlib and most of numpy release the GIL); one chunk at a time, in order, each through temp file + rename.
        self._wait_writer()
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-writer")
        self._pending = self._writer.submit(self._write_chunk, self.path / f"chunk-{self.chunks_written:06d}.npz",
                                            arrays)
        self.chunks_written += 1
        self.frames_written += n
        self._k = 0
        self._icons = []
        self._events = {k: [] for k in EVENT_KEYS}

    def _write_chunk(self, path: Path, arrays: dict[str, np.ndarray]) -> None:
        arrays["pos"] = encode_positions(arrays["pos"], self.pos_step)
        arrays["heading"] = encode_headings(arrays["heading"])
        arrays["alive"] = np.packbits(arrays["alive"], axis=1)
        write_npz(path, arrays, level=CHUNK_DEFLATE_LEVEL)

    def _wait_writer(self) -> None:
        """Wait for the chunk being written; its error, if any, is raised here."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            try:
                pending.result()
            except BaseException:
                self.failed = True
                raise

    def close(self) -> None:
        if self.closed:
            return
        if self.failed:  # a chunk could not be written: what is on disk plays; meta.json stays "not complete"
            if self._writer is not None:
                self._writer.shutdown()
                self._writer = None
            self.closed = True
            return
        self.flush()
        self._wait_writer()
        if self._writer is not None:
            self._writer.shutdown()
            self._writer = None
        self.meta["frames"] = self.frames_written
        self.meta["complete"] = True
        write_json(self.path / "meta.json", self.meta)
        self.closed = True


def _joined(parts: list[np.ndarray], dtype: type, width: int = 0) -> np.ndarray:
    """One array of an event column from its pieces: (k,) or (k, width)."""
    if not parts:
        return np.zeros((0, width) if width else 0, dtype)
    return np.concatenate(parts).astype(dtype, copy=False)
