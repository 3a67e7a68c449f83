"""Data: the IDX reader, the image/label pairs of a data folder, the validation split, and the verified download.

Any IDX pair works (MNIST, Fashion-MNIST, KMNIST, other image sizes): images are flattened to (N, rows*cols)
float32 in [0, 1], labels to (N,) int64. Bad files raise DataError with one line naming the file and the problem,
so the command line can print it and exit 2 instead of showing a traceback.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# IDX type byte -> big-endian numpy dtype
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FILES = {  # role -> file name of the official release (gzipped); the raw name without .gz is accepted too
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
MD5 = {  # md5 of the official full release, checked on every download
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
DEFAULT_CACHE = Path.home() / ".cache" / "neuroevo" / "mnist"


class DataError(Exception):
    """A data file the user can fix (missing, truncated, corrupt, mismatched); the message is one line."""


MAX_IDX_BYTES = 1 << 31  # data bytes one IDX file may declare (the official training images: 47 MB)
N_CLASSES = 10  # labels are digits (MNIST, Fashion-MNIST, KMNIST): 0..9


def read_idx(path: str | os.PathLike, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read one IDX file (gzip or raw, detected by its first bytes) into an array of its declared shape.

    A gzip file is inflated only as far as its header says it should go (plus one byte to detect trailing data),
    so a small file that inflates to gigabytes is refused after reading what the shape needs, not in full.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
            f.seek(0)
            if gz:
                with gzip.GzipFile(fileobj=f) as g:
                    return _parse_idx(path, g, max_bytes, None)
            return _parse_idx(path, f, max_bytes, os.fstat(f.fileno()).st_size)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not an IDX file") from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: not a readable gzip file ({e})") from None


def _parse_idx(path: Path, stream, max_bytes: int, size: int | None) -> np.ndarray:
    """The IDX array read from stream (raw size known, or None for gzip); DataError naming path otherwise."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataError(f"{path}: truncated IDX header ({len(magic)} bytes)")
    if magic[0] != 0 or magic[1] != 0 or magic[2] not in IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (magic bytes {magic.hex()})")
    ndim = magic[3]
    raw_dims = stream.read(4 * ndim)
    if ndim == 0 or len(raw_dims) < 4 * ndim:
        raise DataError(f"{path}: truncated IDX header (declares {ndim} dimensions)")
    dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
    dtype = np.dtype(IDX_TYPES[magic[2]])
    need = int(np.prod(dims, dtype=object)) * dtype.itemsize  # exact (no int64 overflow)
    if need > max_bytes:
        raise DataError(f"{path}: shape {dims} declares {need} data bytes, more than the {max_bytes} allowed")
    if size is not None and size - 4 - 4 * ndim < need:
        raise DataError(f"{path}: truncated: shape {dims} needs {need} data bytes, found {size - 4 - 4 * ndim}")
    body = stream.read(need)
    if len(body) < need:
        raise DataError(f"{path}: truncated: shape {dims} needs {need} data bytes, found {len(body)}")
    if stream.read(1):
        raise DataError(f"{path}: trailing bytes: shape {dims} needs {need} data bytes, found more")
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def find_file(folder: Path, name: str) -> Path | None:
    """The gzipped or raw file of that name in folder, if either exists."""
    for cand in (folder / name, folder / name.removesuffix(".gz")):
        if cand.is_file():
            return cand
    return None


@dataclass(frozen=True)
class Dataset:
    """Train, validation and test arrays; x (N, D) float32 in [0, 1], y (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    source: str

    @property
    def n_in(self) -> int:
        return int(self.x_train.shape[1])


def _pair(folder: Path, images: str, labels: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, pixels) float32 in [0, 1] and labels (N,) int64 in 0..9 of one IDX pair; DataError otherwise."""
    pi, pl = find_file(folder, images), find_file(folder, labels)
    x, y = read_idx(pi), read_idx(pl)
    if x.ndim < 2:
        raise DataError(f"{pi}: expected images (N, rows, cols), got shape {x.shape}")
    if x.shape[0] == 0:
        raise DataError(f"{pi}: holds no images (shape {x.shape})")
    if x[0].size == 0:
        raise DataError(f"{pi}: images have no pixels (shape {x.shape})")
    if y.ndim != 1:
        raise DataError(f"{pl}: expected labels (N,), got shape {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise DataError(f"{pl}: {y.shape[0]} labels for {x.shape[0]} images in {pi.name}")
    if y.dtype.kind == "f":
        raise DataError(f"{pl}: labels are floating-point ({y.dtype}); expected whole numbers 0..{N_CLASSES - 1}")
    bad = np.flatnonzero((y < 0) | (y >= N_CLASSES))
    if bad.size:
        raise DataError(f"{pl}: {bad.size} labels outside 0..{N_CLASSES - 1} (first: {y[bad[0]]} at index {bad[0]})")
    x = x.reshape(x.shape[0], -1)
    if x.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
        if bad.size:
            raise DataError(f"{pi}: {bad.size} images hold NaN or infinite pixels (first: image {bad[0]})")
    lo, hi = x.min(), x.max()
    if lo < 0 or hi > 255:
        raise DataError(f"{pi}: pixel values outside 0..255 ({lo:g}..{hi:g})")
    x = x.astype(np.float32)
    scale = 255.0 if hi > 1.0 else 1.0
    return x / np.float32(scale), y.astype(np.int64)


def missing_files(folder: Path) -> list[str]:
    return [name for name in FILES.values() if find_file(folder, name) is None]


def default_val(n_train: int) -> int:
    """Validation images held out by default: a sixth of the training images, at most 4,000."""
    return min(4000, n_train // 6)


def load(folder: str | os.PathLike, n_val: int | None = None) -> Dataset:
    """The four files of folder as a Dataset; validation = the LAST n_val training images (test is kept apart).

    n_val None: default_val of the training images (4,000 of MNIST's 24,000 or 60,000).
    """
    folder = Path(folder)
    missing = missing_files(folder)
    if missing:
        raise DataError(f"{folder}: missing {', '.join(missing)} (put the IDX files there, gzipped or raw)")
    x, y = _pair(folder, FILES["train_images"], FILES["train_labels"])
    xt, yt = _pair(folder, FILES["test_images"], FILES["test_labels"])
    if x.shape[1] != xt.shape[1]:
        raise DataError(f"{folder}: train images have {x.shape[1]} pixels, test images {xt.shape[1]}")
    if n_val is None:
        n_val = default_val(x.shape[0])
    if not 0 < n_val < x.shape[0]:
        raise DataError(f"{folder}: cannot hold out {n_val} of {x.shape[0]} training images for validation "
                        f"(at least 1, and at least 1 left for training)")
    n_classes = int(max(y.max(), yt.max())) + 1  # labels are checked to be 0..9: at most 10 outputs
    cut = x.shape[0] - n_val
    return Dataset(x[:cut], y[:cut], x[cut:], y[cut:], xt, yt, n_classes, str(folder))


def md5sum(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(folder: Path = DEFAULT_CACHE, timeout: float = 60.0) -> None:
    """Fetch the missing official files into folder, each verified by md5 before it is kept.

    Only called for the default cache folder: an explicit --data folder is never written to.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name in missing_files(folder):
        target = folder / name
        tmp = target.with_name(name + ".part")
        errors = []
        for base in MIRRORS:
            try:
                with urllib.request.urlopen(base + name, timeout=timeout) as r, open(tmp, "wb") as f:
                    while block := r.read(1 << 20):
                        f.write(block)
            except OSError as e:
                errors.append(f"{base}: {e}")
                continue
            if md5sum(tmp) == MD5[name]:
                tmp.replace(target)
                break
            errors.append(f"{base}: md5 mismatch")
            tmp.unlink(missing_ok=True)
        else:
            tmp.unlink(missing_ok=True)
            needed = ", ".join(FILES.values())
            raise DataError(f"{target}: download failed ({'; '.join(errors)}); offline, put {needed} "
                            f"in {folder} or pass --data DIR")


def load_or_download(folder: str | os.PathLike | None, n_val: int | None = None) -> Dataset:
    """--data DIR is read as is; without it the default cache is used and filled from the internet if needed."""
    if folder is not None:
        return load(folder, n_val)
    if missing_files(DEFAULT_CACHE):
        download(DEFAULT_CACHE)
    return load(DEFAULT_CACHE, n_val)
