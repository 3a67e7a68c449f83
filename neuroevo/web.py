"""A replay as one self-contained web page: the player (webplayer/player.html, .js) with the run's data inline.

`neuroevo replay PATH --export run.html [--fps N] [--from S] [--to S]` writes one HTML file that needs nothing
else: no server, no network. The data are typed arrays, delta coded per agent over time and deflated as one
stream (the browser inflates it with its built-in DecompressionStream), then base64 inside a <script> tag:
    pos      (N, 2, K) uint16 second differences (mod 2^16) of positions in half pixels
    heading  (N, K) uint8 differences (mod 256) of the heading in 256ths of a turn
    alive    (N, K) uint8 xor with the previous frame
    holder   (N, K) int32 xor with the previous frame: row of the slot's genome in the genome table
    cursor   (5, K) uint16 x, y (as pos, second differences), and present / armed / click as 0 or 1 (differences)
    births   (K,) uint32 differences of the run's birth counter
    icons    (K,) uint16 differences of the index into the icon sets
    genomes  (G, n_params) uint32 float32 bits xor the parent's row (parents come first), so a child, a few
             mutations away from its parent, is mostly zeros; a growing brain's row ends with its on/off genes
             (meta "gated"), and the page leaves out the units that are off
    deaths   frame (uint32), cause (uint8), x and y (uint16 half pixels) of every death in the window
Anything that is not an array (scenario, layout, input names, colours, the chart's bins) is JSON beside it.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import sys
import zlib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .args import UsageError
from .brainfile import input_labels
from .lineage import FAMILY_TINTS
from .state import CAUSES, K_BIRTHS

POS_UNITS = 2.0  # positions in the page: half pixels
CHART_BIN_S = 10.0  # the chart's bins, as the viewer's
TEAM_TINTS = ((90, 170, 255), (255, 110, 90), (120, 220, 120), (230, 200, 80))  # the viewer's team colours
CAUSE_COLOURS = {
    "edge": (255, 140, 60), "cursor": (190, 120, 255), "icon": (255, 210, 80), "crowd": (90, 200, 255),
    "team": (255, 100, 170), "rule": (230, 230, 120),
}


def export_frames(n_frames: int, dt: float, start_s: float, end_s: float | None, fps: float) -> np.ndarray:
    """(K,) int64 replay frames to show at `fps` between start_s and end_s (seconds from the replay's start)."""
    i0 = int(round(start_s / dt))
    i1 = n_frames if end_s is None else min(n_frames, int(round(end_s / dt)) + 1)
    if i0 >= n_frames:
        raise ValueError(f"--from {start_s:g} s is past the end of the replay ({(n_frames - 1) * dt:.1f} s)")
    step = max(1.0, 1.0 / (fps * dt))  # never more frames than were recorded
    frames = np.unique(np.rint(np.arange(i0, i1, step)).astype(np.int64))
    return frames[frames < n_frames]


def _second_diff(q: np.ndarray) -> np.ndarray:
    """(..., K) integers -> (..., K) uint16 second differences mod 2^16 along the last axis."""
    q = q.astype(np.int64)
    d = np.diff(q, axis=-1, prepend=0)
    d2 = d.copy()
    d2[..., 2:] = d[..., 2:] - d[..., 1:-1]
    return (d2 % 65536).astype(np.uint16)


def _first_diff(q: np.ndarray, mod: int, dtype: Any) -> np.ndarray:
    return (np.diff(q.astype(np.int64), axis=-1, prepend=0) % mod).astype(dtype)


def _xor_diff(q: np.ndarray) -> np.ndarray:
    q = np.ascontiguousarray(q)
    out = q.copy()
    out[..., 1:] = q[..., 1:] ^ q[..., :-1]
    return out


def pack(replay: Any, frames: np.ndarray) -> tuple[dict[str, Any], bytes]:
    """(meta, deflated bytes) of the replay's frames for the page (see the module docstring)."""
    from .config import input_offsets
    from .sensors import OUTPUT_NAMES, input_names

    n, k, dt = replay.n, frames.size, replay.dt
    pos = np.empty((k, n, 2), np.float32)
    heading = np.empty((k, n), np.float32)
    alive = np.empty((k, n), np.bool_)
    cursor = np.empty((k, 5), np.float32)
    births = np.empty(k, np.int64)
    gids = np.empty((k, n), np.int64)
    icon_sets: list[list[list[float]]] = []
    icon_index: dict[bytes, int] = {}
    icon_of = np.empty(k, np.int64)
    for j, f in enumerate(frames.tolist()):
        fr = replay.frame(f)
        pos[j], heading[j], alive[j], cursor[j] = fr.pos, fr.heading, fr.alive, fr.cursor
        births[j] = fr.counters[K_BIRTHS]
        gids[j] = replay.slots_at(f)[0]
        icons = np.round(fr.icons.astype(np.float64), 1)
        key = icons.tobytes()
        if key not in icon_index:
            icon_index[key] = len(icon_sets)
            icon_sets.append(icons.tolist())
        icon_of[j] = icon_index[key]

    # the genome table: everyone shown, by id, so a parent comes before its children
    shown = np.unique(gids)  # (G,) int64
    row = {int(g): i for i, g in enumerate(shown.tolist())}
    holder = np.searchsorted(shown, gids).astype(np.int32)  # (K, N) row of each slot's genome
    parents = dict(zip(replay.births["gid"].tolist(), replay.births["parent"].tolist()))
    parent_row = np.array([row.get(parents.get(g, -1), -1) for g in shown.tolist()], np.int64)
    raw = np.stack([np.asarray(replay.genome(g), np.float32).view(np.uint32) for g in shown.tolist()])
    table = raw.copy()
    has = parent_row >= 0
    table[has] ^= raw[parent_row[has]]

    d = replay.deaths
    sel = (d["frame"] >= frames[0]) & (d["frame"] <= frames[-1])
    q_death = np.clip(np.rint(d["pos"][sel] * POS_UNITS), 0, 65535).astype(np.uint16)
    q_pos = np.clip(np.rint(pos * POS_UNITS), 0, 65535)  # (K, N, 2)
    q_cursor = np.clip(np.rint(cursor[:, :2] * POS_UNITS), 0, 65535)  # (K, 2)
    flags = (cursor[:, 2:] > 0).astype(np.int64)  # (K, 3) present, armed, click
    q_heading = np.rint(np.mod(heading, 2 * math.pi) * (256 / (2 * math.pi))).astype(np.int64) % 256
    sections: list[tuple[str, np.ndarray]] = [
        ("frame", _first_diff(frames - frames[0], 2**32, np.uint32)),
        ("pos", _second_diff(q_pos.transpose(1, 2, 0))),  # (N, 2, K)
        ("heading", _first_diff(q_heading.T, 256, np.uint8)),  # (N, K)
        ("alive", _xor_diff(alive.T.astype(np.uint8))),  # (N, K)
        ("holder", _xor_diff(np.ascontiguousarray(holder.T))),  # (N, K)
        ("cursor_xy", _second_diff(q_cursor.T)),  # (2, K)
        ("cursor_flags", _first_diff(flags.T, 256, np.uint8)),  # (3, K)
        ("births", _first_diff(births - births[0], 2**32, np.uint32)),
        ("icons", _first_diff(icon_of, 65536, np.uint16)),
        ("genomes", table),  # (G, n_params)
        ("death_frame", (d["frame"][sel] - frames[0]).astype(np.uint32)),
        ("death_cause", d["cause"][sel].astype(np.uint8)),
        ("death_xy", np.ascontiguousarray(q_death.T)),  # (2, D)
    ]
    blob, offsets = bytearray(), {}
    for name, a in sections:
        while len(blob) % 4:  # every section starts 4-byte aligned (typed arrays need it)
            blob.append(0)
        a = np.ascontiguousarray(a)
        offsets[name] = [len(blob), int(a.size), a.dtype.name]
        blob += a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()

    s = replay.settings
    w, b = s.world, s.brain
    n_extra = replay.layout.n_in - sum(c for _, c in input_offsets(b).values())
    names = input_names(input_offsets(b, max(0, n_extra)))
    teams = int(s.hazards.teams)
    start_s = (int(replay.meta.get("start_step", 0)) + int(frames[0])) * dt
    meta = {
        "format": "neuroevo-web", "version": __version__, "scenario": replay.meta.get("scenario", ""),
        "seed": replay.meta.get("seed", 0), "n": n, "frames": k, "dt": dt, "start_s": start_s,
        "births0": int(births[0]),
        "duration_s": float(frames[-1] - frames[0]) * dt,
        "world": {"width": w.width, "height": w.height, "radius": w.radius, "kill_radius": s.cursor.kill_radius},
        "teams": teams, "team": [int(i % teams) for i in range(n)] if teams > 1 else [],
        "tints": FAMILY_TINTS, "team_tints": TEAM_TINTS, "causes": list(CAUSES),
        "cause_colours": {c: CAUSE_COLOURS.get(c, (200, 200, 200)) for c in CAUSES},
        "layout": list(replay.layout.sizes), "gated": replay.layout.gated, "n_params": replay.layout.n_params,
        "inputs": input_labels(names, b.frame), "outputs": list(OUTPUT_NAMES),
        "frame_kind": b.frame, "encoding": b.encoding,
        "genomes": {"id": shown.tolist(), "parent_row": parent_row.tolist(),
                    "founder": [replay.founder(g) for g in shown.tolist()]},
        "icon_sets": icon_sets, "sections": offsets, "chart": chart(replay, frames),
    }
    return meta, zlib.compress(bytes(blob), 9)


def chart(replay: Any, frames: np.ndarray) -> dict[str, Any]:
    """Deaths per minute by cause and the mean lifetime of the living, in CHART_BIN_S bins of the window."""
    dt = replay.dt
    per = max(1, int(round(CHART_BIN_S / dt)))
    ends = np.arange(int(frames[0]) + per, int(frames[-1]) + 1, per)
    d = replay.deaths
    out: dict[str, Any] = {"t": ((ends - frames[0]) * dt).round(3).tolist(), "rates": {}, "lifetime": []}
    edges = np.concatenate([[int(frames[0])], ends])
    for i, c in enumerate(CAUSES):
        if i == 0:
            continue
        f = d["frame"][d["cause"] == i]
        counts = np.histogram(f, bins=edges)[0] if ends.size else np.zeros(0)
        if counts.sum() or c == "edge":
            out["rates"][c] = (counts * (60.0 / CHART_BIN_S)).tolist()
    if ends.size:
        out["lifetime"] = (replay.mean_age[ends] * dt).round(2).tolist()
    return out


def render(meta: dict[str, Any], data: bytes) -> str:
    """The page: the player template with its script, the meta JSON and the base64 data inline."""
    folder = resources.files("neuroevo") / "webplayer"
    html = (folder / "player.html").read_text(encoding="utf-8")
    js = (folder / "player.js").read_text(encoding="utf-8")
    meta_json = json.dumps(meta, separators=(",", ":")).replace("</", "<\\/")
    title = f"neuroevo: {meta['scenario']}, seed {meta['seed']}"
    return (html.replace("{{TITLE}}", title)
            .replace("/*{{PLAYER_JS}}*/", js.replace("</script", "<\\/script"))
            .replace("{{META_JSON}}", meta_json)
            .replace("{{DATA_B64}}", base64.b64encode(data).decode("ascii")))


def export_html(replay: Any, out: str | Path, *, start_s: float = 0.0, end_s: float | None = None,
                fps: float = 30.0) -> dict[str, Any]:
    """Write the page for replay frames [start_s, end_s] at `fps`; returns frames, seconds and bytes written."""
    from .io import write_text

    frames = export_frames(len(replay), replay.dt, start_s, end_s, fps)
    if frames.size < 2:
        raise ValueError(f"{out}: the window holds fewer than 2 frames at {fps:g} fps")
    meta, data = pack(replay, frames)
    page = render(meta, data)
    write_text(out, page)
    return {"frames": int(frames.size), "seconds": meta["duration_s"], "bytes": len(page.encode()),
            "data_bytes": len(data)}


def write_tree(replay: Any, out: Path, quiet: bool = False) -> None:
    """`neuroevo replay PATH --tree OUT.png`."""
    if out.suffix.lower() != ".png":
        raise UsageError(f"{out}: --tree writes a .png file")
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent}: no such folder")
    from .replay import ReplayError
    from .tree import tree_of_replay

    try:
        info = tree_of_replay(replay, out)
    except ReplayError as e:
        raise UsageError(str(e)) from None
    if not quiet:
        print(f"wrote {out} ({info['genomes']} genomes, {info['alive']} alive in {info['families']} families at "
              f"the end)", file=sys.stderr)


def cmd_export_html(replay: Any, args: argparse.Namespace) -> int:
    """`neuroevo replay PATH --export run.html [--fps N] [--from S] [--to S]`."""
    from .replay import ReplayError

    out = args.export
    if args.end is not None and args.end <= args.start:
        raise UsageError(f"--to {args.end} must be after --from {args.start}")
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent}: no such folder")
    try:
        info = export_html(replay, out, start_s=args.start, end_s=args.end, fps=args.fps)
    except (ReplayError, ValueError) as e:
        raise UsageError(str(e)) from None
    if not args.quiet:
        minutes = info["seconds"] / 60.0
        per_min = info["bytes"] / 1e6 / minutes if minutes > 0 else float("nan")
        print(f"wrote {out} ({info['frames']} frames, {info['seconds']:.0f} sim seconds, {info['bytes'] / 1e6:.2f} MB,"
              f" {per_min:.3f} MB per sim minute)", file=sys.stderr)
    return 0
