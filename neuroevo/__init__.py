"""neuroevo: a neuroevolution sandbox where small dense nets learn, by a genetic algorithm, to keep smileys alive."""

import hashlib as _hashlib
import os as _os
from pathlib import Path as _Path

__version__ = "0.1.0"


def _numba_cache_dir() -> str:
    """A compiled-kernel cache folder keyed by the hash of this package's sources.

    numba's own cache only notices edits to the file that holds the compiled function, not to the inlined kernels
    it calls from other modules, so a stale kernel could survive an upgrade. Keying the folder by every source file
    makes any edit start from a clean cache.
    """
    h = _hashlib.sha1(__version__.encode())
    for f in sorted(_Path(__file__).parent.rglob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    base = _os.environ.get("XDG_CACHE_HOME") or _os.path.join(_os.path.expanduser("~"), ".cache")
    return _os.path.join(base, "neuroevo", "numba-" + h.hexdigest()[:16])


if not _os.environ.get("NUMBA_CACHE_DIR"):
    import numba as _numba

    _numba.config.CACHE_DIR = _numba_cache_dir()
