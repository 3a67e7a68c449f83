"""neuroevo: a neuroevolution sandbox where small dense nets learn, by a genetic algorithm, to keep smileys alive."""

import hashlib as _hashlib
import os as _os
from pathlib import Path as _Path

__version__ = "0.1.0"


# The modules compiled kernels are made of (their own code, and the constants, enums and settings they inline). The
# compiled-kernel cache is keyed by these sources, so editing any other module (front ends, files, plots) never forces
# a recompile. A new module with numba code, or one that kernels read constants from, belongs in this list (a test
# checks that every module using numba is listed).
KERNEL_SOURCES = ("atomics.py", "births.py", "bits.py", "brain.py", "choices.py", "config.py", "cursor.py",
                  "evolution.py", "grid.py", "obstacles.py", "packing.py", "physics.py", "record.py", "sensors.py",
                  "simd.py", "species.py", "state.py", "step.py", "steploop.py", "teamstep.py", "unpacking.py",
                  "envs/sense.py",
                  "mnist/kernels.py", "mnist/lres.py", "mnist/lrga.py")


def _numba_cache_dir() -> str:
    """A compiled-kernel cache folder keyed by the hash of the package's kernel sources.

    numba's own cache only notices edits to the file that holds the compiled function, not to the inlined kernels
    and constants it takes from other modules, so a stale kernel could survive an upgrade. Keying the folder by
    every source a kernel may read makes any such edit start from a clean cache.
    """
    h = _hashlib.sha1(__version__.encode())
    root = _Path(__file__).parent
    for name in KERNEL_SOURCES:
        f = root / name
        h.update(name.encode())
        h.update(f.read_bytes() if f.is_file() else b"")
    base = _os.environ.get("XDG_CACHE_HOME") or _os.path.join(_os.path.expanduser("~"), ".cache")
    return _os.path.join(base, "neuroevo", "numba-" + h.hexdigest()[:16])


# OpenMP threads (the MNIST kernels; the agents' step ran on them before the team step) wait for the next region
# by spinning (libgomp: 300,000 spins by default). Measured here, on the agents' step then (edges, M agent-steps/s
# at 50 / 1,000 / 10,000 agents, 2 threads): idle machine, default-like active waiting
# 9.6 / 13.4 / 12.2, passive 3.2 / 6.6 / 6.0, 3,000 spins then sleep 6.1 / 13.1 / 11.2; with two busy processes
# beside it, default waiting fell to 0.01-0.2 (a prange launch stalled for milliseconds), 3,000 spins gave
# 4.3 / 6.7 / 5.4 against 2.2 / 2.2 / 2.2 serial. So a short spin: near full speed alone, no collapse when shared.
# Set before numba loads its OpenMP layer; values the user set win.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
_os.environ.setdefault("GOMP_SPINCOUNT", "3000")

if not _os.environ.get("NUMBA_CACHE_DIR"):
    import numba as _numba

    _numba.config.CACHE_DIR = _numba_cache_dir()

# The Python API, imported on first use (so `import neuroevo` and the CLI start without loading every module):
#   neuroevo.make(scenario, seed, **settings) -> Simulation, ready to run(), step() and observe.
_EXPORTS = {
    "make": "sim", "Simulation": "sim", "Observer": "sim",
    "Scenario": "scenario", "ScenarioError": "scenario", "load_scenario": "scenario",
    "check_scenario": "check",
    "Settings": "config", "SettingsError": "config",
    "CheckpointError": "checkpoint",
    "MinuteStats": "observers", "run_minutes": "observers",
    "CAUSES": "state",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'neuroevo' has no attribute {name!r}")
