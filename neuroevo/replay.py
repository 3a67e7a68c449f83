"""Replays: a recorded run as a folder of compressed chunks, a recorder (an observer) and a lazy reader.

A replay folder holds::

    meta.json           format name and version, program version, scenario, seed, resolved settings, layout,
                        quantization; written first (temp file + rename)
    chunk-000000.npz    frames [frame0, frame0 + n) and the events among them, each chunk written whole through a
    chunk-000001.npz    temp file and rename, so a run killed at any moment keeps every chunk written before

Per frame (one simulation step): every slot's position as uint16 fixed point stored as second differences (smooth
flight makes them small, so they compress well), heading as uint8 (256 bins) stored as differences, the alive
flags as bits, the cursor row (x, y, present, armed, click) and the run counters. Per chunk: the genome id, parent
id and age of every slot at its first frame (so any chunk decodes on its own), births (slot, genome id, parent id,
the genome itself) and deaths (slot, cause, lifetime, position). The first chunk also holds every slot's genome, so
any agent's brain can be looked at in playback. Plain arrays and JSON only; nothing is unpickled.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, validate
from .brain import Layout
from .config import Settings, SettingsError, gated
from .io import numbered, read_npz, write_json, write_npz
from .state import C_ARMED, C_CLICK, C_PRESENT, CX, CY, N_COUNTERS, WorldState
from .ui.lineage import Families

FORMAT = "neuroevo-replay"
FORMAT_VERSION = 1
HEADING_BINS = 256
POS_RANGE = 65536  # uint16 fixed point
FRAME_KEYS = ("step", "pos", "heading", "alive", "cursor", "counters")
EVENT_KEYS = ("birth_frame", "birth_slot", "birth_gid", "birth_parent", "birth_genome",
              "death_frame", "death_slot", "death_cause", "death_life", "death_pos")
KEY_KEYS = ("frame0", "key_gid", "key_parent", "key_age", "key_team", "mean_age")
_CURSOR_FIELDS = np.array([CX, CY, C_PRESENT, C_ARMED, C_CLICK])  # the cursor row a frame keeps
_NO_ICONS = np.zeros((0, 4), np.float32)
# Chunks are deflated at level 1: 7x less CPU than savez_compressed's level 6 for a chunk of 300 frames of 50
# agents (9 vs 68 ms, measured under load), 15% more bytes; np.load reads both alike.
CHUNK_DEFLATE_LEVEL = 1
MAX_CHUNK_BYTES, MAX_META_BYTES = 1 << 30, 64 << 20  # what a chunk may declare in all (a real one: a few MB)


class ReplayError(ValueError):
    """A replay that cannot be read (missing, corrupt, truncated or foreign); the message names the file."""


def pos_step_for(width: float, height: float) -> float:
    """Fixed-point step in px: 1/16 px where the world fits in 4096 px, else the finest uint16 allows."""
    return max(1.0 / 16.0, max(width, height) / (POS_RANGE - 1))


# ---- encoding ----------------------------------------------------------------------------------------------------
def encode_positions(pos: np.ndarray, step: float) -> np.ndarray:
    """(F, N, 2) float px -> (F, N, 2) uint16 second differences (mod 2^16) of the fixed-point positions."""
    q = np.clip(np.rint(pos / step), 0, POS_RANGE - 1).astype(np.int64)
    d = np.diff(q, axis=0, prepend=np.zeros_like(q[:1]))  # d[0] = q[0]
    d2 = d.copy()
    d2[2:] = d[2:] - d[1:-1]
    return (d2 % POS_RANGE).astype(np.uint16)


def decode_positions(d2: np.ndarray, step: float) -> np.ndarray:
    """Inverse of encode_positions: (F, N, 2) float32 px, exact to the fixed-point step."""
    e = d2.astype(np.int64)
    d = e.copy()
    d[1:] = np.cumsum(e[1:], axis=0)
    q = np.cumsum(d, axis=0) % POS_RANGE
    return (q * step).astype(np.float32)


def encode_headings(h: np.ndarray) -> np.ndarray:
    q = np.rint(np.mod(h, 2 * math.pi) * (HEADING_BINS / (2 * math.pi))).astype(np.int64) % HEADING_BINS
    return (np.diff(q, axis=0, prepend=np.zeros_like(q[:1])) % HEADING_BINS).astype(np.uint8)


def decode_headings(d: np.ndarray) -> np.ndarray:
    q = np.cumsum(d.astype(np.int64), axis=0) % HEADING_BINS
    return (q * (2 * math.pi / HEADING_BINS)).astype(np.float32)


def unused_path(path: Path) -> Path:
    """`path` if it holds no replay yet, else path-2, path-3, ... (recordings are never overwritten)."""
    path = Path(path)
    k = 1
    while (numbered(path, k) / "meta.json").exists() or any(numbered(path, k).glob("chunk-*.npz")):
        k += 1
    return numbered(path, k)


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
        """Write the buffered frames as the next chunk (nothing if empty)."""
        ev, n = self._events, self._k
        if n == 0:
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
            pending.result()

    def close(self) -> None:
        if self.closed:
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


# ---- reading -----------------------------------------------------------------------------------------------------
@dataclass
class Frame:
    index: int  # frame number in the replay
    step: int  # simulation step
    pos: np.ndarray  # (N, 2) float32 px (to the fixed-point step)
    heading: np.ndarray  # (N,) float32 rad (to 2 pi / 256)
    alive: np.ndarray  # (N,) bool
    cursor: np.ndarray  # (5,) float32 x, y, present, armed, click
    counters: np.ndarray  # (N_COUNTERS,) int64
    icons: np.ndarray  # (M, 4) float32 hazard rectangles x0, y0, x1, y1 (none: (0, 4))


def open(path: str | Path) -> Replay:  # noqa: A001 - the reader's natural name: neuroevo.replay.open(path)
    """Open a replay folder (or its meta.json) for reading; raises ReplayError naming the file on any problem."""
    return Replay(path)


class Replay:
    """Lazy reader: len() frames, frame(i), iteration; events and keyframes load at open, frames per chunk."""

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        if p.name == "meta.json":
            p = p.parent
        self.path = p
        meta_path = p / "meta.json"
        if not p.exists():
            raise ReplayError(f"{p}: no such replay")
        if not p.is_dir() or not meta_path.is_file():
            raise ReplayError(f"{p}: not a neuroevo replay (expected a folder holding meta.json and chunk files)")
        try:
            if meta_path.stat().st_size > MAX_META_BYTES:
                raise ValueError(f"larger than {MAX_META_BYTES >> 20} MB")
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError, RecursionError) as e:
            raise ReplayError(f"{meta_path}: unreadable replay metadata ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ReplayError(f"{meta_path}: not a neuroevo replay")
        if meta.get("format_version") != FORMAT_VERSION:
            raise ReplayError(f"{meta_path}: unsupported replay format version {str(meta.get('format_version'))[:20]}")
        try:
            self.settings = Settings.from_dict(meta.get("settings"))
            w = self.settings.world
            validate.replay_meta(meta, w.agents, self.settings.brain.hidden, w.dt, w.width, w.height, w.radius)
            for change in meta.get("settings_changes", []):
                Settings.from_dict(change["settings"])
            self.layout = Layout(tuple(int(v) for v in meta["layout"]), gated=gated(self.settings))
            self.n = int(meta["n_slots"])
            self.pos_step = float(meta["pos_step"])
            self.dt = float(meta["dt"])
        except (KeyError, TypeError, ValueError, SettingsError) as e:
            raise ReplayError(f"{meta_path}: bad replay metadata ({e})") from None
        self.meta = meta
        files = sorted(p.glob("chunk-*.npz"))
        if not files:
            raise ReplayError(f"{p}: the replay holds no frames yet (no chunk files)")
        self.files = files
        self.first: list[int] = []  # first frame of each chunk
        self.count: list[int] = []  # frames in each chunk
        small: dict[str, list[np.ndarray]] = {k: [] for k in (*EVENT_KEYS, "mean_age")}
        self.keys: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.teams: list[np.ndarray] = []  # (N,) int8 team of every slot, per chunk
        self.genomes0 = np.zeros((0, 0), np.float32)
        expect = self._last_step = 0
        for i, f in enumerate(files):
            if f.name != f"chunk-{i:06d}.npz":
                raise ReplayError(f"{f}: chunk out of sequence (expected chunk-{i:06d}.npz)")
            z = self._read(f, first=i == 0, names=(*EVENT_KEYS, *KEY_KEYS, "step", "genomes0"))
            frame0, steps = int(z["frame0"]), z["step"]
            if frame0 != expect or (i and steps[0] <= self._last_step):
                raise ReplayError(f"{f}: chunk does not fit the replay (frame {frame0}, expected {expect})")
            self._last_step = int(steps[-1])
            try:
                validate.chunk_values(z, self.n, frame0, int(steps.shape[0]))
            except ValueError as e:
                raise ReplayError(f"{f}: corrupt chunk ({e})") from None
            for k in small:
                small[k].append(z[k])
            if i == 0:
                self.genomes0 = z["genomes0"]  # (N, n_params) every slot's genome at the first frame
            self.first.append(frame0)
            self.count.append(int(steps.shape[0]))
            self.keys.append((z["key_gid"], z["key_parent"], z["key_age"]))
            self.teams.append(z["key_team"])
            expect += int(steps.shape[0])
        self.frames = expect
        ev = {k: np.concatenate(v) if v else np.zeros(0) for k, v in small.items()}
        self.mean_age = ev.pop("mean_age").astype(np.float32)  # (frames,) mean age of the living, steps
        self.births = {k[6:]: ev[k] for k in EVENT_KEYS if k.startswith("birth_")}
        self.deaths = {k[6:]: ev[k] for k in EVENT_KEYS if k.startswith("death_")}
        self.births["genome"] = self.births["genome"].reshape(-1, self.layout.n_params)
        self.deaths["pos"] = self.deaths["pos"].reshape(-1, 2)
        self._genome_row = {int(g): i for i, g in enumerate(self.births["gid"].tolist())}
        self.families = Families()  # the agents alive at the start found their families
        for g in self.keys[0][0].tolist():
            self.families.born(int(g), -1)
        for g, par in zip(self.births["gid"].tolist(), self.births["parent"].tolist()):
            self.families.born(g, par)
        self._cache: dict[int, dict[str, np.ndarray]] = {}

    # ---- frames ------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.frames

    def __iter__(self) -> Iterator[Frame]:
        for i in range(self.frames):
            yield self.frame(i)

    def _chunk_of(self, i: int) -> int:
        if not 0 <= i < self.frames:
            raise IndexError(f"frame {i} outside 0..{self.frames - 1}")
        return int(np.searchsorted(self.first, i, side="right") - 1)

    def _read(self, f: Path, first: bool, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Arrays of one chunk file, after its declared shapes and sizes passed validate.chunk_headers."""
        chunk_frames = int(self.meta["chunk_frames"])

        def check(headers: validate.Headers) -> None:
            validate.chunk_headers(headers, self.n, self.layout.n_params, chunk_frames, first)

        try:
            return read_npz(f, MAX_CHUNK_BYTES, check, names=("frame0", *names))
        except Exception as e:  # noqa: BLE001 - zip, zlib, header and shape errors all mean a damaged chunk
            raise ReplayError(f"{f}: corrupt or truncated chunk ({type(e).__name__}: {e})") from None

    def _chunk(self, c: int) -> dict[str, np.ndarray]:
        if c not in self._cache:
            f = self.files[c]
            d = self._read(f, first=c == 0, names=(*FRAME_KEYS, "icons"))
            if d["step"].shape[0] != self.count[c]:
                raise ReplayError(f"{f}: chunk changed since the replay was opened")
            d["pos"] = decode_positions(d["pos"], self.pos_step)
            d["heading"] = decode_headings(d["heading"])
            d["alive"] = np.unpackbits(d["alive"], axis=1, count=self.n).astype(bool)
            if len(self._cache) >= 2:  # keep the chunk being played and the one before (seeking back a little)
                self._cache.pop(next(iter(self._cache)))
            self._cache[c] = d
        return self._cache[c]

    def frame(self, i: int) -> Frame:
        c = self._chunk_of(i)
        d = self._chunk(c)
        j = i - self.first[c]
        icons = d["icons"][j]
        return Frame(i, int(d["step"][j]), d["pos"][j], d["heading"][j], d["alive"][j], d["cursor"][j],
                     d["counters"][j], icons[np.isfinite(icons).all(axis=1)])

    # ---- who is where --------------------------------------------------------------------------------------------
    def slots_at(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(genome_id, parent_id, age in steps) of every slot at frame i, from the chunk's keyframe and births."""
        c = self._chunk_of(i)
        gid, parent, age = (a.copy() for a in self.keys[c])
        start = self.first[c]
        age += i - start
        bf = self.births["frame"]
        lo, hi = np.searchsorted(bf, start, side="right"), np.searchsorted(bf, i, side="right")
        for k in range(lo, hi):
            s = int(self.births["slot"][k])
            gid[s] = self.births["gid"][k]
            parent[s] = self.births["parent"][k]
            age[s] = i - int(bf[k])
        return gid, parent, age

    def genome(self, gid: int) -> np.ndarray | None:
        """The genome with this id, if it was born during the recording or lived at its start."""
        row = self._genome_row.get(int(gid))
        if row is not None:
            return self.births["genome"][row]
        hit = np.flatnonzero(self.keys[0][0] == gid)
        return self.genomes0[hit[0]] if hit.size else None

    def founder(self, gid: int) -> int:
        return self.families.founder(gid)

    def next_death(self, i: int) -> int | None:
        """Frame of the first death after frame i, or None."""
        k = int(np.searchsorted(self.deaths["frame"], i, side="right"))
        return int(self.deaths["frame"][k]) if k < self.deaths["frame"].size else None


def resimulate(replay: Replay, scenario: str | Path | type | None = None) -> Iterator[tuple[Frame, Any]]:
    """Re-run a headless recording from its seed and settings; yields (recorded frame, live Simulation) pairs.

    The determinism contract made visible: the same seed and settings give the same world, so every recorded frame
    must match the re-simulated state to within the quantization step. A scenario's hooks are part of its rules:
    pass `scenario` (a name, path or Scenario class you trust) to run them. Without it, only a scenario that ships
    with neuroevo is loaded by the name in meta.json; a replay never makes neuroevo import a file it names.
    """
    from .scenario import ScenarioError, load_scenario, shipped
    from .sim import make

    if replay.meta.get("origin") != "run":
        raise ReplayError(f"{replay.path}: only recordings of fresh headless runs (neuroevo run --record, without "
                          "--resume) can be re-simulated")
    if replay.meta.get("settings_changes"):
        raise ReplayError(f"{replay.path}: its settings changed during the recording; it cannot be re-simulated")
    name = str(replay.meta["scenario"])
    cls = None
    try:
        if isinstance(scenario, type):
            cls = scenario
        elif scenario is not None:
            cls = load_scenario(str(scenario))
        elif shipped(name) is not None:
            cls = load_scenario(str(shipped(name)))
    except ScenarioError as e:
        raise ReplayError(f"{replay.path}: {e}") from None
    recorded = sorted(replay.meta.get("hooks") or [])
    if cls is not None and cls.hooks_defined() and recorded != sorted(cls.hooks_defined()):
        raise ReplayError(f"{replay.path}: scenario {name!r} no longer matches the recording's hooks")
    if (cls is None or not cls.hooks_defined()) and recorded:
        raise ReplayError(f"{replay.path}: scenario {name!r} has hooks; pass it to resimulate(replay, scenario=...) "
                          "to re-simulate this recording")
    try:
        from .scenario import Scenario

        sim = make(cls or Scenario, seed=int(replay.meta["seed"]), settings=replay.settings)
    except (ScenarioError, ValueError) as e:
        raise ReplayError(f"{replay.path}: cannot rebuild its world ({e})") from None
    sim.scenario = name
    start = int(replay.meta.get("start_step", 0))
    for fr in replay:
        if fr.step != start + fr.index:  # a recording holds every step from its start
            raise ReplayError(f"{replay.path}: frame {fr.index} holds step {fr.step}; not a recording of every step")
        if fr.step != sim.step_count:
            sim.run(fr.step - sim.step_count)
        yield fr, sim


def playback_state(replay: Replay, i: int) -> WorldState:
    """A WorldState of frame i, enough for drawing: positions, headings, alive, cursor, counters, ids, ages."""
    fr = replay.frame(i)
    s = WorldState.empty(replay.n, replay.layout.n_units)
    s.pos[...] = fr.pos
    s.heading[...] = fr.heading
    s.alive[...] = fr.alive
    c = min(fr.counters.shape[0], N_COUNTERS)
    s.counters[:c] = fr.counters[:c]
    s.cursor[CX], s.cursor[CY], s.cursor[C_PRESENT], s.cursor[C_ARMED], s.cursor[C_CLICK] = fr.cursor
    s.genome_id[...], s.parent_id[...], s.age[...] = replay.slots_at(i)
    d = replay.deaths
    upto = int(np.searchsorted(d["frame"], i, side="right"))
    if upto:  # cause of each slot's latest death so far (later rows overwrite earlier ones)
        s.cause[d["slot"][:upto]] = d["cause"][:upto].astype(np.int8)
    if hasattr(s, "team"):
        s.team[...] = replay.teams[replay._chunk_of(i)]
    return s
