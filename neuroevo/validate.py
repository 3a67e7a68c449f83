"""Checks of data read from files (population files, replay folders) before any kernel or drawing code sees it.

Files are data: a crafted or damaged one must give one clear line, never a crash, an out-of-bounds read in compiled
code, a huge allocation or a path outside the output folder. Each check raises ValueError with a short reason; the
readers (checkpoint.py, replay.py) add the file's name. Shapes and dtypes are checked from the .npy headers, before
anything is inflated; values once the (bounded) arrays are read.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import packing
from .state import C_PHASE, C_TARGET, C_TARGET_ID, CX, CY, K_NEXT_ID, N_CAUSES, N_COUNTERS, N_CURSOR

Headers = dict[str, tuple[tuple[int, ...], np.dtype]]

MAX_SEED = 2**63 - 1
MAX_ICONS = 4096  # icon rectangles a file may hold (every step tests each agent against each)
MAX_COORD = 1e9  # |px| for positions and speeds: far beyond any world, far below where int() of a cell overflows
MAX_NAME = 100


def whole(v: Any, lo: int, hi: int, what: str) -> int:
    """A JSON whole number in lo..hi (not a bool, not a float)."""
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{what} must be a whole number in {lo}..{hi}, got {v!r}")
    return v


def number(v: Any, lo: float, hi: float, what: str) -> float:
    """A finite JSON number in [lo, hi]."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        raise ValueError(f"{what} must be a number in [{lo:g}, {hi:g}], got {v!r}")
    return float(v)


def name(v: Any, what: str) -> str:
    """A scenario name read from a file: a plain string, never a path."""
    if (not isinstance(v, str) or not 1 <= len(v) <= MAX_NAME or any(c in v for c in "/\\\0:")
            or v.startswith(".") or not v.isprintable()):
        raise ValueError(f"{what} must be a plain name (no path), got {str(v)[:60]!r}")
    return v


def header(headers: Headers, key: str, shape: tuple[int | None, ...], kinds: str | np.dtype) -> tuple[int, ...]:
    """Check one array's declared shape (None: any length there) and dtype; returns the declared shape."""
    if key not in headers:
        raise ValueError(f"missing array {key!r}")
    got, dtype = headers[key]
    ok_dtype = dtype == kinds if isinstance(kinds, np.dtype) else dtype.kind in kinds
    if len(got) != len(shape) or any(w is not None and g != w for g, w in zip(got, shape)) or not ok_dtype:
        want = "x".join("?" if w is None else str(w) for w in shape)
        raise ValueError(f"{key} is {got} {dtype}, expected ({want}) {kinds}")
    return got


def in_range(a: np.ndarray, lo: float, hi: float, what: str) -> None:
    """Every value of a finite and within [lo, hi]."""
    if not a.size:
        return
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise ValueError(f"{what} holds non-finite values")
    if a.min() < lo or a.max() > hi:
        raise ValueError(f"{what} holds values outside {lo:g}..{hi:g} ({a.min():g}..{a.max():g})")


# ---- population files -----------------------------------------------------------------------------------------
def population_meta(meta: dict[str, Any]) -> None:
    """The JSON of a population file: scenario name, seed, RNG state and `extra` (per-minute rows, ...)."""
    name(meta.get("scenario"), "scenario")
    whole(meta.get("seed"), 0, MAX_SEED, "seed")
    rng = meta.get("rng")
    if not (isinstance(rng, dict) and rng.get("bit_generator") == "PCG64" and isinstance(rng.get("state"), dict)):
        raise ValueError("rng must be the state of a PCG64 generator")
    for k in ("state", "inc"):
        whole(rng["state"].get(k), 0, 2**128 - 1, f"rng.state.{k}")
    whole(rng.get("has_uint32", 0), 0, 1, "rng.has_uint32")
    whole(rng.get("uinteger", 0), 0, 2**32 - 1, "rng.uinteger")
    extra = meta.get("extra", {})
    if not isinstance(extra, dict):
        raise ValueError(f"extra must be an object, got {type(extra).__name__}")
    per_minute(extra.get("per_minute", []))
    if "wall_seconds" in extra:
        number(extra["wall_seconds"], 0.0, 1e12, "extra.wall_seconds")
    if "minute_base" in extra:
        base = extra["minute_base"]
        if not isinstance(base, list) or len(base) > N_COUNTERS:
            raise ValueError(f"extra.minute_base must be a list of at most {N_COUNTERS} counters")
        for v in base:
            whole(v, 0, 2**62, "extra.minute_base")


def per_minute(rows: Any) -> None:
    """Per-minute rows as MinuteStats writes them (so a resumed run's metrics.json/csv cannot break)."""
    if not isinstance(rows, list):
        raise ValueError("extra.per_minute must be a list of rows")
    for k, r in enumerate(rows):
        what = f"extra.per_minute[{k}]"
        if not isinstance(r, dict) or not isinstance(r.get("deaths"), dict):
            raise ValueError(f"{what} must be an object with a deaths object")
        whole(r.get("minute"), 0, 2**62, f"{what}.minute")
        whole(r.get("births"), 0, 2**62, f"{what}.births")
        from .state import CAUSES

        for cause, v in r["deaths"].items():
            if cause not in CAUSES[1:]:
                raise ValueError(f"{what}.deaths: unknown cause {str(cause)[:40]!r}")
            whole(v, 0, 2**62, f"{what}.deaths.{cause}")
        for key in ("mean_lifetime_s", "max_lifetime_s"):
            number(r.get(key), 0.0, 1e15, f"{what}.{key}")
        if r.get("mean_lifetime_at_death_s") is not None:
            number(r["mean_lifetime_at_death_s"], 0.0, 1e15, f"{what}.mean_lifetime_at_death_s")


def population_headers(headers: Headers, agents: int, hof_size: int) -> None:
    """Declared shapes of a population file's arrays against its settings, before anything is inflated."""
    f32, f64, i64, i8 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.int8)
    _, n_params = header(headers, "genomes", (agents, None), f32)
    header(headers, "hof", (hof_size, n_params), f32)
    header(headers, "hof_fit", (hof_size,), f64)
    if "icons" in headers:
        m = header(headers, "icons", (None, 4), "f")[0]
        if m > MAX_ICONS:
            raise ValueError(f"icons holds {m} rectangles (at most {MAX_ICONS})")
    per_agent = {"pos": ((agents, 2), f32), "heading": ((agents,), f32), "speed": ((agents,), f32),
                 "age": ((agents,), i64), "alive": ((agents,), np.dtype(np.bool_)), "cause": ((agents,), i8),
                 "genome_id": ((agents,), i64), "parent_id": ((agents,), i64), "acts": ((agents, None), f32)}
    for k, (shape, dtype) in per_agent.items():
        header(headers, f"state_{k}", shape, dtype)
    for k, (shape, dtype) in {"team": ((agents,), i8), "hook_fit": ((agents,), f64),
                              "agility": ((agents,), f64)}.items():
        if f"state_{k}" in headers:  # files written before teams, hooks and replacement lack them
            header(headers, f"state_{k}", shape, dtype)
    m = header(headers, "state_cursor", (None,), f64)[0]
    if not 1 <= m <= N_CURSOR:  # files written before the mouse model's memory and the click flag hold fewer
        raise ValueError(f"state_cursor holds {m} values (at most {N_CURSOR})")
    if "species_of" in headers:  # niching
        header(headers, "species_of", (agents,), i64)
        cap = header(headers, "species_rep", (None, n_params), f32)[0]
        if cap > agents:
            raise ValueError(f"species_rep holds {cap} species (at most one per agent, {agents})")
        header(headers, "species_size", (cap,), i64)
        header(headers, "species_label", (cap,), i64)
        header(headers, "species_ctl", (3,), f64)
    c = header(headers, "state_counters", (None,), i64)[0]
    if not 1 <= c <= N_COUNTERS:
        raise ValueError(f"state_counters holds {c} counters (at most {N_COUNTERS})")


def species(sp: Any, alive: np.ndarray) -> None:
    """A restored species table: every living slot in a species, each size the count of its members (the dead of a
    generation stay members until the next one), values finite."""
    cap = sp.size.shape[0]
    in_range(sp.of, -1, cap - 1, "species_of")
    if not np.all(np.isfinite(sp.rep)) or not np.all(np.isfinite(sp.ctl)):
        raise ValueError("species_rep or species_ctl holds non-finite values")
    members = np.bincount(sp.of[sp.of >= 0], minlength=cap)
    if np.any(sp.of[alive] < 0) or not np.array_equal(members, sp.size):
        raise ValueError("species_size does not count the living members of each species")
    if not 0.0 <= sp.ctl[0] or int(sp.ctl[2]) != int((sp.size > 0).sum()):
        raise ValueError("species_ctl holds an impossible threshold or species count")


def world_state(state: Any, genomes: np.ndarray, hof: np.ndarray, hof_fit: np.ndarray, teams: int) -> None:
    """Values of a restored (or about to be saved) world: everything finite, every index a compiled kernel follows
    in range, coordinates within reach."""
    for what, a in (("genomes", genomes), ("hof", hof), ("acts", state.acts)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{what} holds non-finite values")
    in_range(hof_fit, 0.0, 1e300, "hof_fit")
    in_range(state.pos, -MAX_COORD, MAX_COORD, "pos")
    in_range(state.speed, -MAX_COORD, MAX_COORD, "speed")
    in_range(state.heading, -MAX_COORD, MAX_COORD, "heading")
    in_range(state.hook_fit, 0.0, 1e300, "hook_fit")
    in_range(state.agility, 0.0, 1e300, "agility")
    in_range(state.age, 0, 2**62, "age")
    in_range(state.cause, 0, N_CAUSES - 1, "cause")
    in_range(state.team, 0, teams - 1, "team")
    in_range(state.genome_id, -1, 2**62, "genome_id")
    in_range(state.parent_id, -1, 2**62, "parent_id")
    in_range(state.counters, 0, 2**62, "counters")
    if state.genome_id.size and state.counters[K_NEXT_ID] <= state.genome_id.max():
        raise ValueError("counters: the next genome id is not above every id in use")
    cur, n = state.cursor, state.n
    if not np.all(np.isfinite(cur)) or np.any(np.abs(cur) > 1e15):
        raise ValueError("state_cursor holds non-finite or huge values")
    target = cur[C_TARGET]
    if not (target == int(target) and -1 <= target < n):
        raise ValueError(f"state_cursor: hunter target {target:g} is not a slot (0..{n - 1}) or -1")
    if cur[C_TARGET_ID] != int(cur[C_TARGET_ID]) or int(cur[C_PHASE]) not in (0, 1, 2) or cur[C_PHASE] % 1:
        raise ValueError("state_cursor: hunter target id or phase is not a whole number in range")
    if abs(cur[CX]) > MAX_COORD or abs(cur[CY]) > MAX_COORD:
        raise ValueError("state_cursor: cursor position out of reach")


# ---- replays ----------------------------------------------------------------------------------------------------
def replay_meta(meta: dict[str, Any], agents: int, hidden: tuple[int, ...], dt: float, width: float, height: float,
                radius: float) -> None:
    """A replay's meta.json against its own settings; layout, sizes and steps that the reader divides or indexes by."""
    n = whole(meta.get("n_slots"), 1, 10**7, "n_slots")
    if n != agents:
        raise ValueError(f"n_slots {n} differs from settings world.agents {agents}")
    layout = meta.get("layout")
    if not (isinstance(layout, list) and len(layout) >= 2 and layout[1:-1] == list(hidden) and layout[-1] == 2):
        raise ValueError(f"layout {str(layout)[:60]} does not match the settings' hidden layers")
    whole(layout[0], 1, 10**6, "layout[0]")
    if number(meta.get("dt"), 1e-6, 10.0, "dt") != dt:
        raise ValueError(f"dt {meta.get('dt')!r} differs from settings world.dt {dt!r}")
    number(meta.get("pos_step"), 1e-6, 1e6, "pos_step")
    whole(meta.get("heading_bins"), 256, 256, "heading_bins")
    whole(meta.get("chunk_frames"), 1, 10**6, "chunk_frames")
    whole(meta.get("start_step", 0), 0, 2**62, "start_step")
    whole(meta.get("seed", 0), 0, MAX_SEED, "seed")
    name(meta.get("scenario", "replay"), "scenario")
    if "frames" in meta:
        whole(meta["frames"], 0, 2**62, "frames")
    hooks = meta.get("hooks", [])
    if not isinstance(hooks, list) or not all(isinstance(h, str) for h in hooks):
        raise ValueError("hooks must be a list of names")
    if not (width <= 1e6 and height <= 1e6 and 2 * radius <= min(width, height)):
        raise ValueError(f"a world of {width:g}x{height:g} px with radius {radius:g} px cannot be drawn")
    changes = meta.get("settings_changes", [])
    if not isinstance(changes, list) or not all(isinstance(c, dict) and isinstance(c.get("settings"), dict)
                                                for c in changes):
        raise ValueError("settings_changes must be a list of {frame, settings} objects")
    for c in changes:
        whole(c.get("frame"), 0, 2**62, "settings_changes.frame")


def chunk_headers(headers: Headers, n: int, n_params: int, max_frames: int, first: bool, packed: bool = True,
                  diffed: bool = True) -> int:
    """Declared shapes of a replay chunk (packed: format versions 3 on, one stream of frames, else one array each;
    diffed: version 4's step numbers and mean ages as int64 differences, step_d and mean_age_d); returns its frame
    count."""
    i64, f32, u8 = np.dtype(np.int64), np.dtype(np.float32), np.dtype(np.uint8)
    f = header(headers, "step_d" if diffed else "step", (None,), i64)[0]
    if not 1 <= f <= max_frames:
        raise ValueError(f"chunk holds {f} frames (1..{max_frames} expected)")
    header(headers, "frame0", (), i64)
    if packed:
        size = header(headers, "packed", (None,), u8)[0]
        if size > packing.bound(f, n, N_COUNTERS):
            raise ValueError(f"packed frames of {size} bytes: more than {f} frames of {n} slots can take")
    else:
        header(headers, "pos", (f, n, 2), np.dtype(np.uint16))
        header(headers, "heading", (f, n), u8)
        header(headers, "alive", (f, (n + 7) // 8), u8)
        header(headers, "cursor", (f, 5), f32)
        c = header(headers, "counters", (f, None), i64)[1]
        if not 1 <= c <= N_COUNTERS:
            raise ValueError(f"counters has {c} columns (at most {N_COUNTERS})")
    if diffed:
        header(headers, "mean_age_d", (f,), i64)
    else:
        header(headers, "mean_age", (f,), f32)
    if header(headers, "icons", (f, None, 4), f32)[1] > MAX_ICONS:
        raise ValueError(f"icons holds more than {MAX_ICONS} rectangles")
    for k in ("key_gid", "key_parent", "key_age"):
        header(headers, k, (n,), i64)
    header(headers, "key_team", (n,), np.dtype(np.int8))
    b = header(headers, "birth_frame", (None,), i64)[0]
    d = header(headers, "death_frame", (None,), i64)[0]
    if b > f * n or d > f * n:
        raise ValueError(f"more births or deaths ({b}, {d}) than slots x frames")
    for k in ("birth_slot", "birth_gid", "birth_parent"):
        header(headers, k, (b,), i64)
    header(headers, "birth_genome", (b, n_params), f32)
    for k in ("death_slot", "death_cause", "death_life"):
        header(headers, k, (d,), i64)
    header(headers, "death_pos", (d, 2), f32)
    if first:
        header(headers, "genomes0", (n, n_params), f32)
    return f


def chunk_values(z: dict[str, np.ndarray], n: int, frame0: int, frames: int) -> None:
    """Values of a chunk's events and keyframe that the reader indexes by or plays back."""
    if np.any(np.diff(z["step"]) <= 0) or z["step"].min() < 0:  # (all of them: a difference may wrap round)
        raise ValueError("steps are not increasing")
    for ev in ("birth", "death"):
        fr = z[f"{ev}_frame"]
        if fr.size and (fr.min() < frame0 or fr.max() >= frame0 + frames or np.any(np.diff(fr) < 0)):
            raise ValueError(f"{ev}_frame outside the chunk's frames or out of order")
        in_range(z[f"{ev}_slot"], 0, n - 1, f"{ev}_slot")
    in_range(z["death_cause"], 1, N_CAUSES - 1, "death_cause")
    in_range(z["death_life"], 0, 2**62, "death_life")
    in_range(z["death_pos"], -MAX_COORD, MAX_COORD, "death_pos")
    in_range(z["mean_age"], 0.0, 1e18, "mean_age")
    in_range(z["key_age"], 0, 2**62, "key_age")
    in_range(z["key_team"], 0, 63, "key_team")
    for k in ("birth_genome", "genomes0"):
        if k in z and not np.all(np.isfinite(z[k])):
            raise ValueError(f"{k} holds non-finite values")
