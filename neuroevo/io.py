"""Files: the one atomic writer (bytes, text, JSON, npz, figures), the cleanup of temps a killed run left, the
output-folder policy every command shares, and a bounded reader of .npz files that come from elsewhere.

Every file neuroevo writes goes through `atomic_write`: the bytes go to a temp file in the same folder, are flushed
and fsynced, then renamed over the target, so a reader sees the old file or the new one, never half of one. Temps
are named `.<name>.<pid>.<random>.tmp`; `clean_temps(folder)` removes those whose writing process is gone.

Output folders (`prepare_output`): a new run never writes into a folder that holds another run's outputs; it takes
the first free `DIR-2`, `DIR-3`, ... instead (as recordings do), unless it continues the run stored there (`run
--resume DIR/population.npz`, `live --load DIR/population.npz`, a sweep of the same spec). The folder is created,
cleaned of orphan temps and probed with a real write before any work starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

_TEMP = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+\.tmp$")


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """`with atomic_file(p) as f: f.write(...)`: p appears complete when the block ends, or not at all."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    except OSError as e:
        raise _naming(e, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes it private; outputs are meant to be shared like any other file
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _naming(e, path) from None
        raise
    _fsync_dir(path.parent)


def _naming(e: OSError, path: Path) -> OSError:
    """The same error, naming the file that was being written (not its temp)."""
    return type(e)(e.errno, e.strerror or str(e), str(path)) if e.errno else OSError(None, str(e), str(path))


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


STORE_BELOW = 2048  # bytes: write_npz stores smaller members uncompressed


def write_npz(path: str | Path, arrays: dict[str, np.ndarray], compressed: bool = True, level: int = 6) -> None:
    """An .npz of plain arrays (read back with allow_pickle=False). level: the deflate level (6 is what
    np.savez_compressed uses; a lower one costs far less CPU for a few percent more bytes, and members under
    STORE_BELOW bytes are stored as they are)."""
    if not compressed or level == 6:
        save = np.savez_compressed if compressed else np.savez
        atomic_write(path, lambda f: save(f, **arrays))
        return

    data = npz_bytes(arrays, level)
    atomic_write(path, lambda f: f.write(data))


def npz_bytes(arrays: dict[str, Any], level: int, deflate: Collection[str] | None = None) -> memoryview:
    """The bytes of an .npz of plain arrays, each member deflated at `level` (members under STORE_BELOW bytes
    stored, and with `deflate` given, every member not named in it), built in memory (a zip on a file seeks back
    after each member); write_npz writes them. A member may be given as a function that returns its array, called
    when the members before it are written."""
    import io
    import zipfile

    whole = io.BytesIO()
    with zipfile.ZipFile(whole, "w", allowZip64=True) as zf:
        for name, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(a() if callable(a) else a), allow_pickle=False)
            data = buf.getbuffer()
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            # a small member is stored: setting up a deflate stream costs more than its bytes would save
            squeeze = data.nbytes >= STORE_BELOW and (deflate is None or name in deflate)
            info.compress_type = zipfile.ZIP_DEFLATED if squeeze else zipfile.ZIP_STORED
            zf.writestr(info, data, compresslevel=level)
            del data
    return whole.getbuffer()


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


# ---- output folders ----------------------------------------------------------------------------------------------
class OutputError(ValueError):
    """An output folder that cannot be used (empty name, a file in the way, not writable, too little space)."""


# What neuroevo's commands write into their folders: a folder holding any of these holds an earlier run.
OUTPUT_FILES = ("population.npz", "metrics.json", "metrics.csv", "learning.png",  # run, live
                "results.json", "results.md", "comparison.png", "seed_table.json", "seed_table.md",  # mnist
                "sweep.json", "summary.csv", "summary.md", "summary.png")  # sweep
OUTPUT_GLOBS = ("replay/meta.json", "replay-*/meta.json", "screenshot-*.png", "*/seed-*/result.json")
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,=+-]{0,99}")


def safe_name(text: Any) -> bool:
    """True for a name that can be part of a file name: letters, digits and _ . , = + -, not starting with a dot or
    a dash, no slash, at most 100 characters. Names read from data files are checked with this before use."""
    return isinstance(text, str) and SAFE_NAME.fullmatch(text) is not None and ".." not in text


def holds_output(folder: str | Path) -> bool:
    """Whether folder holds anything a neuroevo command wrote (a run, a session, a recording, a sweep, results)."""
    f = Path(folder)
    if not f.is_dir():
        return False
    if any((f / name).exists() for name in OUTPUT_FILES):
        return True
    return any(next(f.glob(g), None) is not None for g in OUTPUT_GLOBS)


def numbered(path: Path, k: int) -> Path:
    """path-k (path itself for k = 1): how a folder or recording that must not be reused gets its next name."""
    return path if k == 1 else path.with_name(f"{path.name}-{k}")


def fresh_output(path: str | Path, continues: Callable[[Path], bool] | None = None) -> Path:
    """The folder a new run writes into: path when it holds no earlier output or when continues(path) says the run
    goes on with what is stored there; else the first of path-2, path-3, ... that qualifies."""
    path = Path(path)
    if path.name in ("", ".", ".."):
        path = path.resolve()
    for k in range(1, 10_000):
        candidate = numbered(path, k)
        if candidate.exists() and not candidate.is_dir():
            continue
        if not holds_output(candidate) or (continues is not None and continues(candidate)):
            return candidate
    raise OutputError(f"{path}: 10,000 numbered folders are taken; choose another --out")


def prepare_output(path: str | Path | None, continues: Callable[[Path], bool] | None = None,
                   need_bytes: int = 0) -> Path:
    """Choose (fresh_output), create and clean an output folder, then prove it takes a file: a missing, read-only or
    full location fails here, before any work. Returns the folder; OutputError (one line naming it) otherwise.

    need_bytes: free space the work will need (checkpoints, results); less free space is refused."""
    if path is None or str(path).strip() == "":
        raise OutputError("the output folder name is empty (give --out DIR)")
    requested = Path(path)
    if requested.exists() and not requested.is_dir():
        raise OutputError(f"{requested}: exists and is not a folder")
    folder = fresh_output(requested, continues)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{folder}: cannot create the output folder ({e.strerror or e})") from None
    clean_temps(folder)
    for sub in folder.glob("replay*"):
        if sub.is_dir():
            clean_temps(sub)
    probe_writable(folder, need_bytes)
    return folder


def probe_writable(folder: str | Path, need_bytes: int = 0) -> None:
    """Write, fsync and remove a small temp file in folder, and compare free space with need_bytes (OutputError)."""
    import shutil

    folder = Path(folder)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".probe.{os.getpid()}.", suffix=".tmp")
    except OSError as e:
        raise OutputError(f"{folder}: cannot write there ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(b"\0" * 65536)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise OutputError(f"{folder}: cannot write there ({e.strerror or e})") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    if need_bytes > 0:
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            return
        if free < need_bytes:
            raise OutputError(f"{folder}: {free / 1e6:.1f} MB free, but this needs about {need_bytes / 1e6:.1f} MB")


# ---- reading .npz files from elsewhere ---------------------------------------------------------------------------
def npz_headers(path: str | Path, max_bytes: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """{name: (shape, dtype)} of every array in an .npz, read from the headers alone (nothing is inflated).

    ValueError when a member is not a plain .npy array (object arrays would need pickle), or when the arrays
    together declare more than max_bytes: a small file cannot make the reader allocate gigabytes."""
    import zipfile

    out: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    total = 0
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if not info.filename.endswith(".npy"):
                raise ValueError(f"member {info.filename!r} is not an .npy array")
            with z.open(info) as f:
                shape, dtype = _npy_header(f)
            name = info.filename[:-4]
            n = dtype.itemsize
            for d in shape:
                n *= d
            total += n
            if total > max_bytes:
                raise ValueError(f"array {name!r} {shape} {dtype} would need {n / 1e6:.0f} MB "
                                 f"(at most {max_bytes / 1e6:.0f} MB for the whole file)")
            out[name] = (shape, dtype)
    return out


def _npy_header(f: IO[bytes]) -> tuple[tuple[int, ...], np.dtype]:
    fmt = np.lib.format
    version = fmt.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(f)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if dtype.hasobject:
        raise ValueError("object arrays are not data (they would need pickle)")
    if any(d < 0 for d in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return tuple(int(d) for d in shape), dtype


def read_npz(path: str | Path, max_bytes: int,
             check: Callable[[dict[str, tuple[tuple[int, ...], np.dtype]]], None] | None = None,
             names: Iterable[str] | None = None, headers: dict[str, tuple[tuple[int, ...], np.dtype]] | None = None,
             ) -> dict[str, np.ndarray]:
    """The arrays of an .npz (all, or those in names), without pickle, after npz_headers() bounded the total size
    and check(headers) (if given) accepted the declared shapes and dtypes: only what the headers announced is
    ever inflated. headers: what npz_headers(path, max_bytes) already returned for this file."""
    import zipfile

    if headers is None:
        headers = npz_headers(path, max_bytes)
    if check is not None:
        check(headers)
    wanted = list(headers) if names is None else [n for n in names if n in headers]
    out: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as z:
        for name in wanted:
            with z.open(f"{name}.npy") as f:
                a = np.lib.format.read_array(f, allow_pickle=False)
            if a.shape != headers[name][0]:
                raise ValueError(f"array {name!r} is truncated")
            out[name] = a
    return out
