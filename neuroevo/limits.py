"""Limits of a world's settings: the memory it allocates (estimated, checked against what the machine has) and the
numbers its compiled step takes (whole numbers within int64, finite floats), so settings that cannot run are
refused with one line before anything is allocated or compiled (not a MemoryError or an overflow traceback)."""

from __future__ import annotations

import math
import os

from .config import Settings, input_offsets


class LimitError(ValueError):
    """Settings whose world would not fit in this machine's memory, or whose numbers the compiled step cannot take."""


MemoryNeedError = LimitError  # the memory half of it


def estimate_bytes(s: Settings, n_extra: int = 0) -> int:
    """Bytes a Simulation of these settings allocates (genomes twice over for a generation's children, hall of fame,
    world state, scratch of the compiled step, neighbour grid), within a small factor."""
    n_in = sum(n for _, n in input_offsets(s.brain, n_extra).values())
    sizes = (n_in, *s.brain.hidden, 2)
    n_params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    n_units = sum(sizes)
    n = s.world.agents
    k = s.evolution.hof_size
    w, h = s.world, s.hazards
    spawn_clear = 2.0 * h.contact_radius if h.contact != "none" else 0.0
    cell = max(s.brain.sense_radius, spawn_clear + w.max_speed * w.dt, 1.0)
    cells = math.ceil(w.width / cell) * math.ceil(w.height / cell)
    total = (2.0 * n * n_params * 4 + k * (n_params * 4 + 8) + n * (n_units * 4 + 256)
             + cells * 24.0 + n * s.brain.neighbours * 16.0 + h.icons * 32.0)
    return int(min(total, 2.0**62))


def available_bytes() -> int | None:
    """Memory available to a new allocation: MemAvailable from /proc/meminfo, else physical memory; None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(s: Settings, n_extra: int = 0) -> None:
    """MemoryNeedError when a world of these settings would need more than 80% of the memory available."""
    need = estimate_bytes(s, n_extra)
    have = available_bytes()
    if have is not None and need > 0.8 * have:  # the estimate is within a small factor: keep a margin
        raise MemoryNeedError(
            f"these settings need about {_gb(need)} of memory and {_gb(have)} is available (world.agents "
            f"{s.world.agents:,}, brain.hidden {','.join(map(str, s.brain.hidden))}, evolution.hof_size "
            f"{s.evolution.hof_size:,}, world {s.world.width:g}x{s.world.height:g} px)")


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB" if n < 1e12 else f"{n / 1e12:.3g} TB"


def check_settings(s: Settings, n_extra: int | None = 0) -> None:
    """LimitError unless a world of these settings fits in memory, its nets have inputs and its numbers fit the
    compiled step. n_extra: the scenario's extra inputs (None: not known yet, as for a file read on its own)."""
    check_memory(s, n_extra or 0)
    if n_extra is not None and not sum(n for _, n in input_offsets(s.brain, n_extra).values()):
        raise LimitError("the nets have no inputs: brain.sensors is empty and the scenario adds no extra inputs")
    from .config import make_params

    try:
        params = make_params(s, n_extra or 0)
    except (OverflowError, ValueError, ZeroDivisionError) as e:
        raise LimitError(f"settings out of range for the simulation ({e})") from None
    for field, v in params._asdict().items():
        if isinstance(v, int) and not -(2**62) <= v <= 2**62:
            raise LimitError(f"settings out of range for the simulation: {field} would be {float(v):.3g} "
                             "(a duration in steps, a grid size or a count)")
        if isinstance(v, float) and not math.isfinite(v):
            raise LimitError(f"settings out of range for the simulation: {field} would be {v}")
