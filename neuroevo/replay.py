"""Replays: a recorded run as a folder of compressed chunks, a recorder (an observer) and a lazy reader.

A replay folder holds::

    meta.json           format name and version, program version, scenario, seed, resolved settings, layout,
                        quantization; written first (temp file + rename)
    chunk-000000.npz    frames [frame0, frame0 + n) and the events among them, each chunk written whole through a
    chunk-000001.npz    temp file and rename, so a run killed at any moment keeps every chunk written before

Per frame (one simulation step): every slot's position in fixed point (1/16 px, uint16 range), its heading in 256
bins and its alive flag, the cursor row (x, y, present, armed, click) and the run counters, all packed into one
byte stream ("packed", see packing.py: each column's residuals from a prediction, bit-packed in blocks of 64
frames), and the step number and the mean age of the living, each as differences from the frame before (int64;
the mean age's of its float32 bits; the first frame's from 0), deflated: a step is one more than the last, and
the mean age one more while nobody is born or dies, so both deflate to a kB or two at little cost.
Format version 3 stored those two as they are (deflating them took the writer thread ~0.6 ms a 2-minute chunk of
50 agents, half of its encoding); it is read as it was. Format version 2 stored the frames as separate deflated
arrays ("pos" as uint16 second differences, "heading" as uint8 differences, "alive" as bits,
"cursor", "counters"); it is read as it was, and decodes to the same values. Per chunk: the genome id, parent
id and age of every slot at its first frame (so any chunk decodes on its own), births (slot, genome id, parent id,
the genome itself) and deaths (slot, cause, lifetime, position). The first chunk also holds every slot's genome, so
any agent's brain can be looked at in playback. Plain arrays and JSON only; nothing is unpickled. Format version 1
replays (the ego frame's "self" sensor then had 3 inputs) are converted as they are read (oldfiles.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import oldfiles, packing, unpacking, validate
from .brain import Layout
from .config import Settings, SettingsError, gated
from .io import numbered, read_npz
from .packing import HEADING_BINS, POS_RANGE  # 256 bins a turn; uint16 fixed point
from .state import C_ARMED, C_CLICK, C_PRESENT, CX, CY, N_COUNTERS, WorldState
from .ui.lineage import Families

FORMAT = "neuroevo-replay"
# 4: step numbers and mean ages as differences (DIFFED); 3: frames packed into one stream (packing.py); 2: the
# "self" sensor is speed alone in the ego frame (1: also its always-zero heading)
FORMAT_VERSION = 4
READS_VERSIONS = (1, 2, 3, 4)
FRAME_KEYS = ("step", "pos", "heading", "alive", "cursor", "counters")  # versions 1 and 2
PACKED_KEYS = ("pos", "heading", "alive", "cursor", "counters")  # what versions 3 on pack into "packed"
DIFFED = {"step": "step_d", "mean_age": "mean_age_d"}  # what version 4 stores as differences, under these names
EVENT_KEYS = ("birth_frame", "birth_slot", "birth_gid", "birth_parent", "birth_genome",
              "death_frame", "death_slot", "death_cause", "death_life", "death_pos")
KEY_KEYS = ("frame0", "key_gid", "key_parent", "key_age", "key_team", "mean_age")
_CURSOR_FIELDS = np.array([CX, CY, C_PRESENT, C_ARMED, C_CLICK])  # the cursor row a frame keeps
_NO_ICONS = np.zeros((0, 4), np.float32)
# Version 3 deflates only these members of a chunk, at level 1 (7x less CPU than savez_compressed's level 6 for
# 300 frames of 50 agents, 15% more bytes); the packed frames and the events are stored as they are (deflating
# the frames of a 10-minute run of 50 agents took ~100 ms of CPU, as much as running it, packing them ~30 ms).
CHUNK_DEFLATE_LEVEL = 1
DEFLATED_KEYS = frozenset({*DIFFED.values(), "icons"})
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


def diffed(arrays: dict[str, np.ndarray]) -> None:
    """A chunk's step numbers and mean ages (format version 4: DIFFED) as differences, in place: int64, the first
    from 0, the mean ages' of their float32 bits."""
    arrays["step_d"] = np.diff(arrays.pop("step"), prepend=np.int64(0))
    bits = np.asarray(arrays.pop("mean_age"), np.float32).view(np.int32).astype(np.int64)
    arrays["mean_age_d"] = np.diff(bits, prepend=np.int64(0))


def undiffed(z: dict[str, np.ndarray]) -> None:
    """Inverse of diffed, for the members z holds (ValueError where the sums are no float32 bits)."""
    if "step_d" in z:
        z["step"] = np.cumsum(z.pop("step_d"))
    if "mean_age_d" in z:
        bits = np.cumsum(z.pop("mean_age_d"))
        if bits.size and (bits.min() < 0 or bits.max() > 0x7F7FFFFF):  # (non-negative and finite float32 only)
            raise ValueError("mean_age holds no float32 values")
        z["mean_age"] = bits.astype(np.int32).view(np.float32)


def unused_path(path: Path) -> Path:
    """`path` if it holds no replay yet, else path-2, path-3, ... (recordings are never overwritten)."""
    path = Path(path)
    k = 1
    while (numbered(path, k) / "meta.json").exists() or any(numbered(path, k).glob("chunk-*.npz")):
        k += 1
    return numbered(path, k)


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
        version = meta.get("format_version")
        if type(version) is not int or version not in READS_VERSIONS:
            raise ReplayError(f"{meta_path}: unsupported replay format version {str(meta.get('format_version'))[:20]}")
        try:
            self.settings = Settings.from_saved(meta.get("settings"))
            w = self.settings.world
            validate.replay_meta(meta, w.agents, self.settings.brain.hidden, w.dt, w.width, w.height, w.radius)
            changes = [Settings.from_saved(change["settings"]) for change in meta.get("settings_changes", [])]
            sizes = tuple(int(v) for v in meta["layout"])
            # the layout of the genomes in the chunks, and the one they are read into (version 1: see oldfiles)
            self._stored = Layout(sizes, gated=gated(self.settings))
            self._dead = oldfiles.replay_rows(self.settings, changes) if version == 1 else []
            if self._dead and sizes[0] <= max(self._dead):
                raise ValueError(f"layout {list(sizes)} is too small for the sensors of its settings")
            self.layout = Layout((sizes[0] - len(self._dead), *sizes[1:]), gated=self._stored.gated)
            self.n = int(meta["n_slots"])
            self.pos_step = float(meta["pos_step"])
            self.dt = float(meta["dt"])
        except oldfiles.NoSingleLayout as e:
            raise ReplayError(f"{meta_path}: {e}") from None
        except (KeyError, TypeError, ValueError, SettingsError) as e:
            raise ReplayError(f"{meta_path}: bad replay metadata ({e})") from None
        self.meta = meta
        self.packed = version >= 3  # frames in one packed stream (packing.py), not one array each
        self.diffed = version >= 4  # step numbers and mean ages as differences (diffed, undiffed)
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
                self.genomes0 = self._genomes(z["genomes0"])  # (N, n_params) every slot's genome at the first frame
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
        self.births["genome"] = self._genomes(self.births["genome"].reshape(-1, self._stored.n_params))
        self.deaths["pos"] = self.deaths["pos"].reshape(-1, 2)
        self._genome_row = {int(g): i for i, g in enumerate(self.births["gid"].tolist())}
        self.families = Families()  # the agents alive at the start found their families
        for g in self.keys[0][0].tolist():
            self.families.born(int(g), -1)
        for g, par in zip(self.births["gid"].tolist(), self.births["parent"].tolist()):
            self.families.born(g, par)
        self._cache: dict[int, dict[str, np.ndarray]] = {}

    def _genomes(self, g: np.ndarray) -> np.ndarray:
        """(M, stored n_params) genomes as the chunks hold them -> (M, n_params) in today's layout."""
        return oldfiles.drop_inputs(g, self.layout.sizes[1], self._dead)

    @property
    def converted(self) -> bool:
        """True when its genomes were read from the old input layout (a version-1 ego-frame replay)."""
        return bool(self._dead)

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
            validate.chunk_headers(headers, self.n, self._stored.n_params, chunk_frames, first, self.packed,
                                   self.diffed)

        if self.diffed:
            names = tuple(DIFFED.get(k, k) for k in names)
        try:
            z = read_npz(f, MAX_CHUNK_BYTES, check, names=("frame0", *names))
        except Exception as e:  # noqa: BLE001 - zip, zlib, header and shape errors all mean a damaged chunk
            raise ReplayError(f"{f}: corrupt or truncated chunk ({type(e).__name__}: {e})") from None
        if self.diffed:
            try:
                undiffed(z)
            except ValueError as e:
                raise ReplayError(f"{f}: corrupt chunk ({e})") from None
        return z

    def _chunk(self, c: int) -> dict[str, np.ndarray]:
        if c not in self._cache:
            f = self.files[c]
            names = ("step", "packed", "icons") if self.packed else (*FRAME_KEYS, "icons")
            d = self._read(f, first=c == 0, names=names)
            if d["step"].shape[0] != self.count[c]:
                raise ReplayError(f"{f}: chunk changed since the replay was opened")
            if self.packed:
                self._unpack(f, d)
            else:
                d["pos"] = decode_positions(d["pos"], self.pos_step)
                d["heading"] = decode_headings(d["heading"])
                d["alive"] = np.unpackbits(d["alive"], axis=1, count=self.n).astype(bool)
            if len(self._cache) >= 2:  # keep the chunk being played and the one before (seeking back a little)
                self._cache.pop(next(iter(self._cache)))
            self._cache[c] = d
        return self._cache[c]

    def _unpack(self, f: Path, d: dict[str, np.ndarray]) -> None:
        """A packed chunk's stream (versions 3 and 4) -> d["pos"], "heading", "alive", "cursor", "counters"."""
        src = d.pop("packed")
        frames = d["step"].shape[0]
        if src.shape[0] < packing.HEADER or src[0] != packing.MAGIC:
            raise ReplayError(f"{f}: corrupt chunk ({unpacking.ERRORS[unpacking.E_HEADER]})")
        hf, hn, c = (int.from_bytes(src[k : k + 4].tobytes(), "little") for k in (1, 5, 9))
        if (hf, hn) != (frames, self.n) or not 1 <= c <= N_COUNTERS:
            raise ReplayError(f"{f}: corrupt chunk (packed frames of {hf} frames, {hn} slots and {c} counters; "
                              f"the chunk holds {frames} frames of {self.n} slots, 1..{N_COUNTERS} counters)")
        # what it decodes to, before any of it is made: within MAX_CHUNK_BYTES, and no more than its bytes can hold
        # (every frame of every column takes at least a bit of a block's bitmap, or a varint byte)
        j = packing.n_columns(self.n, c)
        need = frames * (self.n * 13 + 20 + 8 * c)
        least = packing.HEADER + min(frames, packing.WARM) * j + -(-max(0, frames - packing.WARM) // packing.BLOCK) * (
            (j + 7) // 8)
        if need > MAX_CHUNK_BYTES:
            raise ReplayError(f"{f}: chunk too large ({need >> 20} MB of frames, at most {MAX_CHUNK_BYTES >> 20} MB)")
        if src.shape[0] < least:
            raise ReplayError(f"{f}: corrupt chunk ({src.shape[0]} bytes of packed frames cannot hold {frames} "
                              f"frames of {self.n} slots)")
        try:
            d["pos"] = np.empty((frames, self.n, 2), np.float32)
            d["heading"] = np.empty((frames, self.n), np.float32)
            d["alive"] = np.empty((frames, self.n), np.bool_)
            d["cursor"] = np.empty((frames, 5), np.float32)
            d["counters"] = np.empty((frames, c), np.int64)
        except MemoryError:
            raise ReplayError(f"{f}: not enough memory to decode the chunk ({need >> 20} MB)") from None
        status = unpacking.unpack_frames(src, self.pos_step, packing.Frames(d["pos"], d["heading"], d["alive"],
                                                                            d["cursor"], d["counters"]))
        if status != unpacking.OK:
            raise ReplayError(f"{f}: corrupt chunk ({unpacking.ERRORS.get(status, status)})")

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
    if replay.converted:
        raise ReplayError(f"{replay.path}: recorded when the ego frame's self sensor had 3 inputs (format version 1); "
                          "today's runs draw other random numbers, so it cannot be re-simulated")
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


def __getattr__(name: str) -> Any:
    """replay.Recorder lives in recorder.py (imported on first use: it imports this module's encodings)."""
    if name == "Recorder":
        from .recorder import Recorder

        return Recorder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
