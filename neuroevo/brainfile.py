"""Brain files: one agent's net as self-describing JSON, to keep, send, draw, and drop into another world.

A brain file (format "neuroevo-brain", version 2) holds::

    layout      sizes [n_in, hidden..., n_out]; inputs and outputs by name; the sensor blocks that make the inputs;
                "gated" (a growing brain, brain.Layout.gated) and "hidden_on": per hidden layer one 1 (on) or 0 (off)
                per unit, all 1 for a fixed net; a unit that is off reads 0 and feeds nothing
    encoding    how distances become inputs: {"kind": "inverse" | "raw", "scale_px": ...}
    frame       "ego" (along the heading) or "world" (fixed axes)
    activation  tanh on every unit
    weights     per layer {"W": n_prev rows of n_next numbers, "b": n_next numbers}; unit j of a layer computes
                tanh(b[j] + sum_i x[i] * W[i][j]); the numbers are the float32 genome, exactly
    provenance  scenario, seed, genome id, parent id, family, age, sim time, source file, program version

Version 1 files (before "gated" and "hidden_on") are fixed nets and are still read; a later version is refused.
It is data only: reading it never runs code. `neuroevo brain export` writes one from a population.npz or a replay;
`neuroevo run|live SCENARIO --founders FILE...` starts a world from mutated copies (brainfit.py checks that a brain
fits the world and puts its net into the world's layout); `neuroevo brain show` draws it.
A file written when the ego frame's "self" sensor still had its two always-zero heading inputs is read without
them (their weights never changed an output; see oldfiles.py).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, oldfiles
from .args import UsageError
from .brain import Layout, active_units
from .brainfit import check_fits, mismatch, seed_founders  # noqa: F401 (brainfile's API: a brain into a world)

FORMAT = "neuroevo-brain"
FORMAT_VERSION = 2
READS = (1, 2)  # format versions this program reads
MAX_PARAMS = 50_000_000  # a file claiming more is refused before its arrays are built


class BrainError(UsageError, ValueError):
    """A brain file that cannot be read or does not fit a world; the message is one line naming the file."""


@dataclass
class Brain:
    sizes: tuple[int, ...]  # (n_in, h1, ..., n_out)
    inputs: list[str]  # a name per input (sensors.input_names)
    outputs: list[str]
    sensors: list[str]  # sensor blocks, in input order
    neighbours: int  # neighbours seen by the "neighbours" block
    extra_inputs: int  # inputs from a scenario's extra_inputs hook
    encoding: str  # "inverse" | "raw"
    scale_px: float  # inverse: inputs are min(scale/d, 1); raw: min(d/scale, 1)
    frame: str  # "ego" | "world"
    genome: np.ndarray  # (n_params,) float32 in the genome layout of brain.Layout(sizes, gated)
    gated: bool = False  # a growing brain: the genome ends with one on/off gene per hidden unit
    provenance: dict[str, Any] = field(default_factory=dict)
    path: str = ""  # where it was read from (for messages)

    @property
    def layout(self) -> Layout:
        return Layout(self.sizes, self.gated)

    @property
    def hidden_on(self) -> list[np.ndarray]:
        """Which hidden units are on, per hidden layer: [(h1,) bool, ...] (all True for a fixed net)."""
        return active_units(self.layout, self.genome)

    def describe(self) -> str:
        """'10-16-2 net' or, growing, '10-16-2 net, hidden 3/16 on'."""
        net = f"{'-'.join(map(str, self.sizes))} net"
        if not self.gated:
            return net
        return net + ", hidden " + ", ".join(f"{int(a.sum())}/{a.size}" for a in self.hidden_on) + " on"


# ---- making one ----------------------------------------------------------------------------------------------
def brain_of(settings: Any, layout: Layout, genome: np.ndarray, provenance: dict[str, Any]) -> Brain:
    """A Brain from a world's settings and layout and one genome row (n_params,)."""
    from .config import input_offsets
    from .sensors import OUTPUT_NAMES, input_names

    b = settings.brain
    n_extra = layout.n_in - sum(n for _, n in input_offsets(b).values())
    offsets = input_offsets(b, max(0, n_extra))
    scale = b.inv_scale if b.encoding == "inverse" else b.raw_scale
    return Brain(tuple(int(v) for v in layout.sizes), input_names(offsets), list(OUTPUT_NAMES),
                 [k for k in offsets if k != "extra"], int(b.neighbours), max(0, n_extra), b.encoding,
                 float(scale), b.frame, np.array(genome, np.float32).reshape(-1), layout.gated, dict(provenance))


def _provenance(scenario: str, seed: int, gid: int, parent: int, family: int | None, age_s: float,
                sim_s: float, source: str) -> dict[str, Any]:
    return {"scenario": scenario, "seed": int(seed), "genome_id": int(gid), "parent_id": int(parent),
            "family": None if family is None else int(family), "age_s": round(float(age_s), 3),
            "sim_time_s": round(float(sim_s), 3), "source": source, "program_version": __version__,
            "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def from_sim(sim: Any, slot: int, family: int | None = None) -> Brain:
    """The brain of the agent in `slot` of a running Simulation (the live viewer's E key)."""
    s = sim.state
    prov = _provenance(sim.scenario, sim.seed, int(s.genome_id[slot]), int(s.parent_id[slot]), family,
                       float(s.age[slot]) * sim.settings.world.dt, sim.sim_seconds, "live")
    return brain_of(sim.settings, sim.layout, sim.genomes[slot], prov)


def export_slot(sim: Any, slot: int, folder: str | Path, family: int | None = None) -> Path:
    """Write the brain in `slot` to folder/brain-<genome id>.json (-2, -3... if taken); returns the path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    gid = int(sim.state.genome_id[slot])
    path, k = folder / f"brain-{gid}.json", 1
    while path.exists():
        k += 1
        path = folder / f"brain-{gid}-{k}.json"
    write(from_sim(sim, slot, family), path)
    return path


def from_source(source: str | Path, gid: int | None = None) -> Brain:
    """The best living agent's brain (gid None: the longest-lived) or genome `gid`, from a population.npz or a
    replay folder. Raises BrainError (one line naming the file)."""
    source = Path(source)
    if source.is_dir() or source.name == "meta.json":
        return _from_replay(source, gid)
    return _from_population(source, gid)


def _from_population(path: Path, gid: int | None) -> Brain:
    from .checkpoint import CheckpointError, read
    from .config import gated
    from .sim import N_OUTPUTS

    try:
        data, meta, settings = read(path)
        genomes = data["genomes"]
        ids, parents, ages, alive = (data[f"state_{k}"] for k in ("genome_id", "parent_id", "age", "alive"))
    except CheckpointError as e:
        raise BrainError(str(e)) from None
    except KeyError as e:
        raise BrainError(f"{path}: corrupt population file (no {e.args[0]})") from None
    if genomes.ndim != 2 or not (ids.shape == parents.shape == ages.shape == alive.shape == (genomes.shape[0],)):
        raise BrainError(f"{path}: corrupt population file (arrays of different lengths)")
    slot = _pick(path, ids, ages, alive, gid, "genomes in its slots")
    hidden = settings.brain.hidden
    is_gated = gated(settings)
    n_in = _n_in(genomes.shape[1], hidden, N_OUTPUTS, is_gated)
    if n_in is None:
        raise BrainError(f"{path}: genomes of {genomes.shape[1]} numbers do not fit hidden layers {hidden}"
                         f"{' with on/off genes' if is_gated else ''}")
    layout = Layout((n_in, *hidden, N_OUTPUTS), is_gated)
    families = (meta.get("extra") or {}).get("families", {})
    founders = families.get("founders", {}) if isinstance(families, dict) else {}
    family = founders.get(str(int(ids[slot]))) if isinstance(founders, dict) else None
    dt = settings.world.dt
    step = int(data["state_counters"][0]) if "state_counters" in data else 0
    prov = _provenance(str(meta.get("scenario", "")), int(meta.get("seed", 0)), int(ids[slot]), int(parents[slot]),
                       family if isinstance(family, int) else None, float(ages[slot]) * dt, step * dt, path.name)
    return brain_of(settings, layout, genomes[slot], prov)


def _from_replay(path: Path, gid: int | None) -> Brain:
    from .lineage import from_replay
    from .replay import ReplayError
    from .replay import open as open_replay

    try:
        r = open_replay(path)
        last = len(r) - 1
        ids, parents, ages = r.slots_at(last)
        alive = r.frame(last).alive
    except ReplayError as e:
        raise BrainError(str(e)) from None
    where = Path(r.path)
    if gid is None:
        slot = _pick(where, ids, ages, alive, None, "")
        gid, parent, age_s = int(ids[slot]), int(parents[slot]), float(ages[slot]) * r.dt
    else:
        h = from_replay(r)
        k = {g: i for i, g in enumerate(h.gid.tolist())}.get(int(gid))
        if k is None or r.genome(gid) is None:
            raise BrainError(f"{where}: no genome with id {gid} (it records ids {int(h.gid.min())}.."
                             f"{int(h.gid.max())}: those alive at its start and those born during it)")
        parent, age_s = int(h.parent[k]), float(h.lifetime()[k])
    genome = r.genome(gid)
    prov = _provenance(str(r.meta.get("scenario", "")), int(r.meta.get("seed", 0)), gid, parent, r.founder(gid),
                       age_s, (int(r.meta.get("start_step", 0)) + last) * r.dt, where.name)
    return brain_of(r.settings, r.layout, genome, prov)


def _pick(path: Path, ids: np.ndarray, ages: np.ndarray, alive: np.ndarray, gid: int | None, what: str) -> int:
    if gid is None:
        if not alive.any():
            raise BrainError(f"{path}: nobody is alive in it; pick a genome with --id")
        return int(np.flatnonzero(alive)[np.argmax(ages[alive])])  # the longest-lived, lowest slot on a tie
    hit = np.flatnonzero(ids == gid)
    if hit.size == 0:
        raise BrainError(f"{path}: no genome with id {gid} (it holds the {ids.size} {what}, ids "
                         f"{int(ids.min())}..{int(ids.max())})")
    return int(hit[0])


def _n_in(n_params: int, hidden: tuple[int, ...], n_out: int, is_gated: bool) -> int | None:
    """The input count for which Layout((n_in, *hidden, n_out), is_gated) has n_params numbers, or None."""
    rest = Layout((1, *hidden, n_out), is_gated).n_params - hidden[0] * 1  # everything but the first layer's weights
    n_in, r = divmod(n_params - rest, hidden[0])
    return n_in if r == 0 and n_in >= 1 else None


DIR_WORDS = {"ego": ("ahead", "left"), "world": ("x", "y")}  # a sensed thing's direction, as the inspector says it


def input_labels(names: list[str], frame: str) -> list[str]:
    """Short input labels as the inspector shows them: 'edge ahead/left' reads 'edge ahead' in the ego frame,
    'cursor dir 1' reads 'cursor ahead' (ego) or 'cursor x' (world)."""
    words = DIR_WORDS.get(frame)
    out = []
    for n in names:
        if "/" in n:
            head, _, tail = n.partition(" ")
            a, _, b = tail.partition("/")
            n = f"{head} {b if frame == 'world' else a}"
        elif words and n.endswith((" dir 1", " dir 2")):
            n = f"{n[:-6]} {words[int(n[-1]) - 1]}"
        out.append(n)
    return out


def always_zero(names: list[str], frame: str) -> list[bool]:
    """Inputs a net never receives in this frame (the heading, in the ego frame: the heading is the frame itself);
    the inspector leaves them out."""
    return [frame == "ego" and n in ("cos heading", "sin heading") for n in names]


# ---- the file ------------------------------------------------------------------------------------------------
def _numbers(a: np.ndarray) -> list[Any]:
    """float32 values as the shortest decimals that read back to the same float32."""
    return [float(str(v)) for v in np.asarray(a, np.float32).reshape(-1)]


def to_dict(b: Brain) -> dict[str, Any]:
    layers = []
    for w, bias in b.layout.split(b.genome):
        layers.append({"W": [_numbers(row) for row in w], "b": _numbers(bias)})
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "layout": {"sizes": list(b.sizes), "inputs": list(b.inputs), "hidden": list(b.sizes[1:-1]),
                   "gated": b.gated, "hidden_on": [[int(v) for v in on] for on in b.hidden_on],
                   "outputs": list(b.outputs), "sensors": list(b.sensors), "neighbours": b.neighbours,
                   "extra_inputs": b.extra_inputs},
        "encoding": {"kind": b.encoding, "scale_px": b.scale_px},
        "frame": b.frame,
        "activation": "tanh",
        "weights": layers,
        "provenance": b.provenance,
    }


def dumps(obj: Any, indent: str = "") -> str:
    """JSON with one line per list of numbers or names (a weight row reads as a row), nested objects indented."""
    inner = indent + " "
    if isinstance(obj, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}" if items else "{}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        return "[\n" + ",\n".join(inner + dumps(v, inner) for v in obj) + "\n" + indent + "]"
    return json.dumps(obj)


def write(b: Brain, path: str | Path) -> None:
    from .io import write_text

    write_text(path, dumps(to_dict(b)) + "\n")


def read(path: str | Path) -> Brain:
    """Read and check a brain file; BrainError (one line naming the file) for anything else."""
    path = Path(path)
    if not path.is_file():
        raise BrainError(f"{path}: no such brain file")
    try:
        d = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise BrainError(f"{path}: not a neuroevo brain file (unreadable JSON: {e})") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise BrainError(f"{path}: not a neuroevo brain file")
    version = d.get("format_version")
    if type(version) is not int or version not in READS:
        raise BrainError(f"{path}: brain file format version {version!r} is not supported "
                         f"(this neuroevo {__version__} reads versions {READS[0]} to {READS[-1]})")
    try:
        return _parse(d, str(path), version)
    except (KeyError, TypeError, ValueError) as e:
        raise BrainError(f"{path}: corrupt brain file ({type(e).__name__}: {e})") from None


def _parse(d: dict[str, Any], path: str, version: int) -> Brain:
    lay, enc = d["layout"], d["encoding"]
    sizes = tuple(int(v) for v in lay["sizes"])
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"layout sizes {list(sizes)}")
    layout = Layout(sizes)
    if layout.n_params > MAX_PARAMS:
        raise ValueError(f"{layout.n_params} weights is more than {MAX_PARAMS}")
    inputs, outputs = [str(v) for v in lay["inputs"]], [str(v) for v in lay["outputs"]]
    if len(inputs) != sizes[0] or len(outputs) != sizes[-1]:
        raise ValueError(f"{len(inputs)} input and {len(outputs)} output names for layout {list(sizes)}")
    if tuple(int(v) for v in lay.get("hidden", sizes[1:-1])) != sizes[1:-1]:
        raise ValueError(f"hidden {lay.get('hidden')} disagrees with sizes {list(sizes)}")
    layers = d["weights"]
    if not isinstance(layers, list) or len(layers) != len(sizes) - 1:
        raise ValueError(f"{len(layers)} weight layers for layout {list(sizes)}")
    parts = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = np.array(layers[k]["W"], np.float64)
        bias = np.array(layers[k]["b"], np.float64)
        if w.shape != (a, b) or bias.shape != (b,):
            raise ValueError(f"layer {k + 1} has W {w.shape} and b {bias.shape}, expected ({a}, {b}) and ({b},)")
        parts += [w.reshape(-1), bias]
    genome = np.concatenate(parts).astype(np.float32)
    if not np.all(np.isfinite(genome)):
        raise ValueError("non-finite weights")
    is_gated, gates = _gates(lay, sizes, version)
    genome = np.concatenate([genome, gates]) if is_gated else genome
    kind, frame = str(enc["kind"]), str(d["frame"])
    if kind not in ("inverse", "raw") or frame not in ("ego", "world"):
        raise ValueError(f"encoding {kind!r} / frame {frame!r}")
    dead = oldfiles.brain_rows(inputs, frame)
    if dead and len(dead) >= sizes[0]:
        raise ValueError("its only inputs are the ego frame's always-zero heading")
    if dead:
        genome = oldfiles.drop_inputs(genome, sizes[1], dead)
        inputs = [name for k, name in enumerate(inputs) if k not in dead]
        sizes = (sizes[0] - len(dead), *sizes[1:])
    prov = d.get("provenance", {})
    return Brain(sizes, inputs, outputs, [str(v) for v in lay.get("sensors", [])], int(lay.get("neighbours", 1)),
                 int(lay.get("extra_inputs", 0)), kind, float(enc["scale_px"]), frame, genome, is_gated,
                 prov if isinstance(prov, dict) else {}, path)


def _gates(lay: dict[str, Any], sizes: tuple[int, ...], version: int) -> tuple[bool, np.ndarray]:
    """(gated, on/off genes (n_hidden,) float32 1.0 / 0.0) from the layout; version 1 knew fixed nets only.
    ValueError (naming the layer) for a pattern of the wrong shape, values other than 0/1, a fixed net with a unit
    off, or a layer with every unit off (evolution never makes one)."""
    hidden = sizes[1:-1]
    if version < 2:
        return False, np.ones(sum(hidden), np.float32)
    is_gated = lay["gated"]
    if not isinstance(is_gated, bool):
        raise ValueError(f"gated is {is_gated!r}, not true or false")
    pattern = lay["hidden_on"]
    if not isinstance(pattern, list) or len(pattern) != len(hidden):
        n = len(pattern) if isinstance(pattern, list) else pattern
        raise ValueError(f"hidden_on has {n} layers for hidden layers {list(hidden)}")
    out = []
    for k, (row, h) in enumerate(zip(pattern, hidden)):
        if not isinstance(row, list) or len(row) != h:
            raise ValueError(f"hidden_on of hidden layer {k + 1} has {len(row) if isinstance(row, list) else row!r} "
                             f"values for its {h} units")
        if not all(isinstance(v, int) and v in (0, 1) for v in row):  # bool is an int: true/false pass too
            raise ValueError(f"hidden_on of hidden layer {k + 1} holds values other than 0 and 1")
        on = np.array([bool(v) for v in row])
        if not on.any():
            raise ValueError(f"hidden layer {k + 1} has no unit on")
        if not is_gated and not on.all():
            raise ValueError(f"hidden layer {k + 1} has units off in a fixed net (gated false)")
        out.append(on)
    return is_gated, (np.concatenate(out) if out else np.zeros(0, np.bool_)).astype(np.float32)


# ---- command line --------------------------------------------------------------------------------------------
def add_founder_args(parser: argparse.ArgumentParser) -> None:
    """--founders FILE... and --founders-fill for `run` and `live`."""
    parser.add_argument("--founders", type=Path, nargs="+", default=None, metavar="FILE",
                        help="start from mutated copies of these brain files (neuroevo brain export); the other "
                        "founders are random")
    parser.add_argument("--founders-fill", action="store_true",
                        help="with --founders: every founder is a mutated copy of one of the brains")


def founder_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """make() arguments for --founders (read and checked as files here; against the world in make)."""
    files = getattr(args, "founders", None)
    if not files:
        if getattr(args, "founders_fill", False):
            raise UsageError("--founders-fill needs --founders FILE [FILE ...]")
        return {}
    for flag in ("resume", "load"):
        if getattr(args, flag, None) is not None:
            raise UsageError(f"--founders starts a new world; it cannot be combined with --{flag}")
    return {"founders": [read(f) for f in files], "founders_fill": bool(args.founders_fill)}


def add_brain_parser(sub: Any) -> None:
    from .args import int_at_least

    b = sub.add_parser("brain", help="one agent's net as a JSON file: export it, draw it",
                       description="Export one agent's brain as a self-describing JSON file, or draw one. A brain "
                       "file starts new worlds with `neuroevo run|live SCENARIO --founders FILE`.")
    bs = b.add_subparsers(dest="brain_command", required=True, parser_class=type(b))
    e = bs.add_parser("export", help="write one agent's brain from a population.npz or a replay folder",
                      description="Write one agent's brain (weights, layout: inputs by name, hidden units on/off, "
                      "outputs; provenance) as JSON.")
    e.add_argument("source", type=Path, help="a population.npz (neuroevo run, S in live) or a replay folder")
    which = e.add_mutually_exclusive_group(required=True)
    which.add_argument("--best", action="store_true", help="the longest-lived agent alive at the end")
    which.add_argument("--id", dest="gid", type=int_at_least(0), default=None, metavar="GENOME_ID",
                       help="the genome with this id (the viewer's inspector shows it as 'agent N')")
    e.add_argument("--out", type=Path, required=True, help="the brain file to write (.json)")
    s = bs.add_parser("show", help="draw a brain file's net to a PNG",
                      description="Draw a brain's net as the inspector does: weights as lines (warm +, cool -), "
                      "hidden units that are off as empty rings.")
    s.add_argument("file", type=Path, help="a brain file (.json)")
    s.add_argument("--out", type=Path, default=None, help="the PNG to write (default: FILE with .png)")


def main(args: argparse.Namespace) -> int:
    import sys

    if args.brain_command == "export":
        if args.out.suffix.lower() != ".json":
            raise UsageError(f"{args.out}: --out names a .json file")
        if not args.out.parent.is_dir():
            raise UsageError(f"{args.out.parent}: no such folder")
        b = from_source(args.source, None if args.best else args.gid)
        write(b, args.out)
        p = b.provenance
        print(f"wrote {args.out} (genome {p['genome_id']}, {b.describe()}, age "
              f"{p['age_s']:.1f} s, from {p['scenario']} seed {p['seed']})", file=sys.stderr)
        return 0
    b = read(args.file)
    out = args.out or args.file.with_suffix(".png")
    if out.suffix.lower() != ".png" or not out.parent.is_dir():
        raise UsageError(f"{out}: --out names a .png file in an existing folder")
    from .tree import draw_brain

    draw_brain(b, out)
    print(f"wrote {out}", file=sys.stderr)
    return 0
