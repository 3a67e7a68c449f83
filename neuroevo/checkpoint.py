"""Checkpoints: a Simulation saved as plain arrays and JSON (population.npz), loaded back with every array checked.

A population file holds the genomes, hall of fame, icons and every WorldState array (`state_<name>`), plus a JSON
`meta` string: format and version, scenario name, seed, resolved settings, the Generator's state and an `extra`
object (the per-minute rows so far). Format version 1 files (the ego frame's "self" sensor then had 3 inputs) are
converted as they are read (oldfiles.py). It is data: loading never unpickles or imports anything, and every array is
checked (validate.py) before a kernel sees it: declared shapes and sizes first, from the headers, then values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__, oldfiles, validate
from .config import Settings, SettingsError, input_offsets, override
from .io import json_default, npz_headers, read_npz, write_npz
from .limits import LimitError, check_settings

if TYPE_CHECKING:
    from .scenario import Scenario
    from .sim import Simulation

FORMAT = "neuroevo-population"
FORMAT_VERSION = 2  # 2: the "self" sensor is speed alone in the ego frame (1: also its always-zero heading)
READS_VERSIONS = (1, 2)
MAX_FILE_BYTES = 8 << 30  # arrays a population file may declare in all (its settings bound them more tightly)
MAX_META_CHARS = 64 << 20


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
    if sim.species_ready:  # niching: the species table, so a resumed run draws the same parents
        arrays.update(sim.species.arrays())
    write_npz(path, {"genomes": sim.genomes, "hof": sim.hof, "hof_fit": sim.hof_fit, "icons": sim.icons,
                     "meta": np.array(json.dumps(meta, default=json_default)), **arrays})


def read_meta(path: str | Path) -> dict[str, Any]:
    """The checked meta of a population file (scenario name, seed, settings, extra), without reading its arrays."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        headers = npz_headers(path, MAX_FILE_BYTES)
        meta = _meta(path, headers)
        validate.population_meta(meta)
    except CheckpointError:
        raise
    except SettingsError as e:
        raise CheckpointError(f"{path}: bad settings inside: {e}") from None
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from None
    except Exception as e:  # noqa: BLE001 - zip, JSON and key errors all mean a corrupt file
        raise CheckpointError(f"{path}: corrupt or unreadable population file ({type(e).__name__}: {e})") from None
    return meta


def _meta(path: Path, headers: validate.Headers) -> dict[str, Any]:
    if "meta" not in headers:
        raise CheckpointError(f"{path}: not a neuroevo population file (no meta)")
    shape, dtype = headers["meta"]
    if shape != () or dtype.kind != "U" or dtype.itemsize > 4 * MAX_META_CHARS:
        raise CheckpointError(f"{path}: not a neuroevo population file (meta is {shape} {dtype})")
    meta = json.loads(str(read_npz(path, MAX_FILE_BYTES, names=("meta",), headers=headers)["meta"]))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a neuroevo population file")
    version = meta.get("format_version")
    if type(version) is not int or version not in READS_VERSIONS:
        raise CheckpointError(f"{path}: unsupported format version {str(meta.get('format_version'))[:20]}")
    if not isinstance(meta.get("settings"), dict):
        raise CheckpointError(f"{path}: no settings inside")
    Settings.from_saved(meta["settings"])
    return meta


def read(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any], Settings]:
    """The arrays, meta and settings of a population file (CheckpointError when it is not one, or when its arrays
    do not fit its settings or this machine's memory: checked before they are inflated)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        headers = npz_headers(path, MAX_FILE_BYTES)
        meta = _meta(path, headers)
        settings = Settings.from_saved(meta["settings"])
        validate.population_meta(meta)
        validate.population_headers(headers, settings.world.agents, settings.evolution.hof_size)
        check_settings(settings, None)
        data = read_npz(path, MAX_FILE_BYTES, headers=headers)
        if meta["format_version"] == 1:
            data = oldfiles.population(data, settings)
    except CheckpointError:
        raise
    except SettingsError as e:
        raise CheckpointError(f"{path}: bad settings inside: {e}") from None
    except (LimitError, ValueError) as e:
        raise CheckpointError(f"{path}: {e}") from None
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
        if (new.brain.hidden != settings.brain.hidden or new.world.agents != settings.world.agents
                or input_offsets(new.brain) != input_offsets(settings.brain)):
            raise CheckpointError(f"{path}: --set cannot change the genome layout (brain.hidden, brain.sensors, "
                                  "brain.neighbours, brain.frame with the self sensor) or world.agents of a saved "
                                  "population")
        settings = new
    try:
        check_settings(settings, hooks.n_extra_inputs if hooks is not None else 0)
        sim = cls(settings, seed=int(meta["seed"]), scenario=str(meta["scenario"]), hooks=hooks)
    except (SettingsError, LimitError) as e:
        raise CheckpointError(f"{path}: {e}") from None
    except (KeyError, ValueError, TypeError, OverflowError, ZeroDivisionError) as e:
        raise CheckpointError(f"{path}: corrupt population file ({type(e).__name__}: {e})") from None
    try:
        restore(sim, data, meta)
    except (KeyError, ValueError, TypeError, OverflowError) as e:
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
        if src is None and k in ("team", "hook_fit", "agility"):
            continue  # written before teams, hooks and agility existed: keep the fresh values (agility: below)
        if src is None:
            raise KeyError(f"state_{k}")
        if k == "counters" and src.shape[0] < v.shape[0]:
            src = np.concatenate([src, np.zeros(v.shape[0] - src.shape[0], src.dtype)])  # causes added later
        if k == "cursor" and src.ndim == 1 and src.shape[0] < v.shape[0]:
            src = np.concatenate([src, np.zeros(v.shape[0] - src.shape[0], src.dtype)])  # mouse memory added later
        put(v, src, f"state_{k}")
    if "state_agility" not in data:  # written before periodic replacement: each agent's agility is unknown, taken
        sim.state.agility[:] = sim.state.age  # as full (1 a step), so nobody is removed on a guess
    validate.world_state(sim.state, sim.genomes, sim.hof, sim.hof_fit, sim.settings.hazards.teams)
    if sim.params.species_cap and "species_of" in data:  # else the species are founded at the first step
        for k, v in sim.species.arrays().items():
            put(v, data[k], k)
        validate.species(sim.species, sim.state.alive)
        sim.species_ready = True
    if "icons" in data:
        sim.icons = icons_array(data["icons"])
    sim.rng.bit_generator.state = meta["rng"]


def check_savable(sim: Simulation) -> None:
    """CheckpointError when the world holds values that load() would refuse (a scenario hook wrote NaN, say): a run
    stops there rather than write a population file that cannot be resumed."""
    try:
        validate.world_state(sim.state, sim.genomes, sim.hof, sim.hof_fit, sim.settings.hazards.teams)
    except ValueError as e:
        hooks = getattr(sim, "hooks", None)
        by = " (written by a scenario hook?)" if hooks is not None and type(hooks).hooks_defined() else ""
        raise CheckpointError(f"the world at step {sim.step_count} cannot be saved: {e}{by}") from None


def icons_array(icons: Any) -> np.ndarray:
    """Icons as the kernels need them: (M, 4) float32, C-contiguous, finite, x0 <= x1 and y0 <= y1."""
    a = np.ascontiguousarray(icons, np.float32)
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"icons must have shape (M, 4) (x0, y0, x1, y1), got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a[:, 2] < a[:, 0]) or np.any(a[:, 3] < a[:, 1]):
        raise ValueError("icons must be finite rectangles with x0 <= x1 and y0 <= y1")
    return a
