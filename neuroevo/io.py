"""Files: the one atomic writer (bytes, text, JSON, npz, figures) and the cleanup of temps a killed run left.

Every file neuroevo writes goes through `atomic_write`: the bytes go to a temp file in the same folder, are flushed
and fsynced, then renamed over the target, so a reader sees the old file or the new one, never half of one. Temps
are named `.<name>.<pid>.<random>.tmp`; `clean_temps(folder)` removes those whose writing process is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

_TEMP = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+\.tmp$")


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """`with atomic_file(p) as f: f.write(...)`: p appears complete when the block ends, or not at all."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes it private; outputs are meant to be shared like any other file
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (best effort: some file systems cannot open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call write(f) on a temp file beside path, then rename it into place."""
    with atomic_file(path) as f:
        write(f)


def write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode())


def json_default(o: Any) -> Any:
    """JSON for numpy scalars (ints and floats) that settings and metrics may hold."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def write_json(path: str | Path, obj: Any, indent: int | None = 1) -> None:
    write_text(path, json.dumps(obj, indent=indent, default=json_default))


def write_npz(path: str | Path, arrays: dict[str, np.ndarray], compressed: bool = True) -> None:
    """An .npz of plain arrays (read back with allow_pickle=False)."""
    save = np.savez_compressed if compressed else np.savez
    atomic_write(path, lambda f: save(f, **arrays))


def save_figure(fig: Any, path: str | Path, **kwargs: Any) -> None:
    """A matplotlib figure, format from the suffix."""
    fmt = Path(path).suffix.lstrip(".") or "png"
    atomic_write(path, lambda f: fig.savefig(f, format=fmt, **kwargs))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_temps(folder: str | Path) -> list[Path]:
    """Remove the temps that a killed writer left in folder (not those of a process still running)."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for p in entries:
        m = _TEMP.match(p.name)
        if m and p.is_file() and not _pid_alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed
