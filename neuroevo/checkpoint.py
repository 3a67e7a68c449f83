"""Checkpoints: a Simulation saved as plain arrays and JSON (population.npz), loaded back with every array checked.

A population file holds the genomes, hall of fame, icons and every WorldState array (`state_<name>`), plus a JSON
`meta` string: format and version, scenario name, seed, resolved settings, the Generator's state and an `extra`
object (the per-minute rows so far). It is data: loading never unpickles or imports anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__
from .config import Settings, SettingsError, override
from .io import json_default, write_npz
from .state import C_TARGET

if TYPE_CHECKING:
    from .scenario import Scenario
    from .sim import Simulation

FORMAT = "neuroevo-population"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A population file that is missing, corrupt or incompatible; the message names the file."""


def save(sim: Simulation, path: str | Path, extra: dict[str, Any] | None = None) -> None:
    """Write population, state, hall of fame, settings and RNG state (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "version": __version__,
        "scenario": sim.scenario, "seed": sim.seed, "settings": sim.settings.to_dict(),
        "rng": sim.rng.bit_generator.state, "extra": extra or {},
    }
    arrays = {f"state_{k}": v for k, v in sim.state.arrays().items()}
    write_npz(path, {"genomes": sim.genomes, "hof": sim.hof, "hof_fit": sim.hof_fit, "icons": sim.icons,
                     "meta": np.array(json.dumps(meta, default=json_default)), **arrays})


def read(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any], Settings]:
    """The arrays, meta and settings of a population file (CheckpointError when it is not one)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(str(data["meta"]))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise CheckpointError(f"{path}: not a neuroevo population file")
        if meta.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(f"{path}: unsupported format version {meta.get('format_version')}")
        settings = Settings.from_dict(meta["settings"])
    except CheckpointError:
        raise
    except SettingsError as e:
        raise CheckpointError(f"{path}: bad settings inside: {e}") from None
    except Exception as e:  # noqa: BLE001 - zip, JSON and key errors all mean a corrupt file
        raise CheckpointError(f"{path}: corrupt or unreadable population file ({type(e).__name__}: {e})") from None
    return data, meta, settings


def load(cls: type[Simulation], path: str | Path, overrides: dict[str, Any] | None = None,
         hooks: Scenario | None = None) -> tuple[Simulation, dict[str, Any]]:
    """Rebuild a Simulation from save(), with the scenario's hooks; returns it and the `extra` dict.
    Raises CheckpointError. Files written before scenarios had teams, icons or hooks load too."""
    path = Path(path)
    data, meta, settings = read(path)
    if overrides:
        try:
            new = override(settings, overrides)
        except SettingsError as e:
            raise CheckpointError(f"{path}: {e}") from None
        if new.brain.hidden != settings.brain.hidden or new.world.agents != settings.world.agents:
            raise CheckpointError(f"{path}: --set cannot change brain.hidden or world.agents of a saved population")
        settings = new
    try:
        sim = cls(settings, seed=int(meta["seed"]), scenario=str(meta["scenario"]), hooks=hooks)
    except SettingsError as e:
        raise CheckpointError(f"{path}: {e}") from None
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: corrupt population file ({type(e).__name__}: {e})") from None
    try:
        restore(sim, data, meta)
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: corrupt or incompatible population file ({e})") from None
    extra = meta.get("extra", {})
    return sim, dict(extra) if isinstance(extra, dict) else {}


def restore(sim: Simulation, data: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Copy a file's arrays into a fresh Simulation of the same layout, checking shape, dtype, finiteness and the
    indices a kernel will follow (ValueError otherwise)."""

    def put(dst: np.ndarray, src: np.ndarray, name: str) -> None:
        if src.shape != dst.shape or src.dtype != dst.dtype:
            raise ValueError(f"{name} has shape {src.shape} {src.dtype}, expected {dst.shape} {dst.dtype}")
        if src.dtype.kind == "f" and not np.all(np.isfinite(src)):
            raise ValueError(f"{name} holds non-finite values")
        dst[...] = src

    put(sim.genomes, data["genomes"], "genomes")
    put(sim.hof, data["hof"], "hof")
    put(sim.hof_fit, data["hof_fit"], "hof_fit")
    for k, v in sim.state.arrays().items():
        src = data.get(f"state_{k}")
        if src is None and k in ("team", "hook_fit"):
            continue  # written before teams and hooks existed: keep the fresh values
        if src is None:
            raise KeyError(f"state_{k}")
        if k == "counters" and src.shape[0] < v.shape[0]:
            src = np.concatenate([src, np.zeros(v.shape[0] - src.shape[0], src.dtype)])  # causes added later
        if k == "cursor" and src.ndim == 1 and src.shape[0] < v.shape[0]:
            src = np.concatenate([src, np.zeros(v.shape[0] - src.shape[0], src.dtype)])  # mouse memory added later
        put(v, src, k)
    n = sim.state.n
    target = sim.state.cursor[C_TARGET]
    if not (target == int(target) and -1 <= target < n):
        raise ValueError(f"state_cursor: hunter target {target:g} is not a slot (0..{n - 1}) or -1")
    if "icons" in data:
        sim.icons = icons_array(data["icons"])
    sim.rng.bit_generator.state = meta["rng"]


def icons_array(icons: Any) -> np.ndarray:
    """Icons as the kernels need them: (M, 4) float32, C-contiguous, finite, x0 <= x1 and y0 <= y1."""
    a = np.ascontiguousarray(icons, np.float32)
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"icons must have shape (M, 4) (x0, y0, x1, y1), got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a[:, 2] < a[:, 0]) or np.any(a[:, 3] < a[:, 1]):
        raise ValueError("icons must be finite rectangles with x0 <= x1 and y0 <= y1")
    return a
