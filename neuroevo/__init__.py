"""neuroevo: a neuroevolution sandbox where small dense nets learn, by a genetic algorithm, to keep smileys alive."""

import hashlib as _hashlib
import os as _os
from pathlib import Path as _Path

__version__ = "0.1.0"


# Modules no compiled kernel reads (front ends, files, plots): editing them need not recompile anything.
_NOT_KERNEL_SOURCES = {"cli.py", "viewer.py", "replay.py", "plots.py", "observers.py", "scenario.py", "sweep.py"}


def _numba_cache_dir() -> str:
    """A compiled-kernel cache folder keyed by the hash of the package's kernel sources.

    numba's own cache only notices edits to the file that holds the compiled function, not to the inlined kernels
    and constants it takes from other modules, so a stale kernel could survive an upgrade. Keying the folder by
    every source a kernel may read makes any such edit start from a clean cache.
    """
    h = _hashlib.sha1(__version__.encode())
    root = _Path(__file__).parent
    for f in sorted(root.glob("*.py")):
        if f.name in _NOT_KERNEL_SOURCES:
            continue
        h.update(f.name.encode())
        h.update(f.read_bytes())
    base = _os.environ.get("XDG_CACHE_HOME") or _os.path.join(_os.path.expanduser("~"), ".cache")
    return _os.path.join(base, "neuroevo", "numba-" + h.hexdigest()[:16])


# With OpenMP's default active waiting, a prange launch stalled for milliseconds whenever another process kept a
# core busy (measured here, load average ~5: 50 agents 0.01-0.2 M agent-steps/s parallel vs 1.4-1.7 M serial);
# passive waiting kept the parallel kernel at or above the serial one (3.3 vs 3.1 M at 50, 5.8 vs 2.5 M at 1,000).
# Set before numba loads its OpenMP layer; a value the user set wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if not _os.environ.get("NUMBA_CACHE_DIR"):
    import numba as _numba

    _numba.config.CACHE_DIR = _numba_cache_dir()
