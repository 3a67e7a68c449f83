"""The MNIST lab refuses nonsense with one line and exit code 2: settings, IDX contents, output folders, sizes."""

import errno
import gzip
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from test_mnist import fake_folder, write_idx

from neuroevo.cli import main
from neuroevo.mnist import cli as mnist_cli
from neuroevo.mnist import compare
from neuroevo.mnist.data import FILES, DataError, load, read_idx


def run(tmp_path, *extra, data=None):
    if data is None:
        data = tmp_path / "d"
        if not data.exists():
            fake_folder(data)
    return main(["mnist", "--data", str(data), "--out", str(tmp_path / "o"), "--budget-forwards", "2000",
                 "--quiet", "--no-plot", "--seeds", "1", *extra])


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("neuroevo mnist: error:"), err
    return err


@pytest.mark.parametrize("setting", ["es.sigma=nan", "es.sigma=inf", "es.sigma=-1", "es.lr=nan", "backprop.lr=inf",
                                     "backprop.lr=nan", "ga.sigma=-5", "ga.tau=nan", "ga.sigma_min=0",
                                     "backprop.momentum=1.5", "ga.anneal=2", "ga.mutation_rate=0",
                                     "ga.mutation_rate=1.5", "ga.crossover_mode=blend"])
def test_nonsense_rates_and_scales_exit_2(tmp_path, capsys, setting):
    assert run(tmp_path, "--set", setting) == 2
    assert setting.split("=")[0] in one_line_error(capsys)
    assert not (tmp_path / "o" / "results.json").exists()


@pytest.mark.parametrize("setting", ["ga.crossover_mode=midpoint", "ga.mutation_rate=0.5"])
def test_generational_only_ga_settings_with_cheap_children_exit_2(tmp_path, capsys, setting):
    assert run(tmp_path, "--methods", "ga", "--set", "ga.offspring=20", "--set", setting) == 2
    assert "ga.offspring=0" in one_line_error(capsys)


def test_noise_table_shorter_than_a_genome_exits_2(tmp_path, capsys):
    assert run(tmp_path, "--set", "ga.noise_table=0") == 2
    assert "ga.noise_table" in one_line_error(capsys)
    assert run(tmp_path, "--methods", "es", "--set", "es.noise_table=100") == 2  # 5x7 pixels, 32 hidden: 1482
    assert "shorter than one genome" in one_line_error(capsys)


def test_noise_table_shorter_than_a_row_of_the_ga_population_exits_2(tmp_path, capsys):
    # 5x7 pixels, 32 hidden: a genome is 1482 floats; 100 members x 32 units = 3200 > 2000
    assert run(tmp_path, "--methods", "ga", "--set", "ga.noise_table=2000", "--set", "ga.population=100") == 2
    assert "one row of the population's first layer" in one_line_error(capsys)


def test_duplicate_methods_are_refused(tmp_path, capsys):
    assert run(tmp_path, "--methods", "ga,ga") == 2
    assert "ga given more than once" in one_line_error(capsys)


@pytest.mark.parametrize("args", [("--hidden", "1000000"), ("--set", "ga.population=100000000"),
                                  ("--methods", "es", "--set", "es.pairs=100000000")])
def test_sizes_that_cannot_fit_in_memory_exit_2(tmp_path, capsys, args):
    assert run(tmp_path, *args) == 2
    assert "GiB" in one_line_error(capsys)


def test_validation_adapts_to_small_training_sets(tmp_path):
    fake_folder(tmp_path / "d", n_train=60)
    assert run(tmp_path, "--methods", "backprop") == 0  # 60 images: 10 held out (a sixth), not 4000
    meta = json.loads((tmp_path / "o" / "results.json").read_text())["meta"]["data"]
    assert (meta["n_train"], meta["n_val"]) == (50, 10)
    fake_folder(tmp_path / "big", n_train=30000, shape=(2, 2))
    d = load(tmp_path / "big")
    assert d.x_val.shape[0] == 4000 and d.x_train.shape[0] == 26000


def test_read_only_output_folder_is_refused_before_training(tmp_path, capsys, monkeypatch):
    def readonly(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    def never(*a, **k):
        raise AssertionError("trained although the output folder cannot be written")

    monkeypatch.setattr(mnist_cli.tempfile, "mkstemp", readonly)
    monkeypatch.setattr(compare, "compare", never)
    assert run(tmp_path) == 2
    assert "Read-only file system" in one_line_error(capsys)


def test_full_disk_at_the_end_exits_2_leaves_no_temp_file_and_prints_the_table(tmp_path, capsys, monkeypatch):
    import neuroevo.io as nio

    def full(fd):  # the data went out but cannot be made durable: the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    fake_folder(tmp_path / "d")
    monkeypatch.setattr(nio.os, "fsync", full)
    assert run(tmp_path, "--methods", "backprop") == 2
    out = capsys.readouterr()
    assert "| backprop |" in out.out and "No space left on device" in out.err and len(out.err.strip().splitlines()) == 1
    assert not list((tmp_path / "o").glob("*.tmp")) and not list((tmp_path / "o").glob(".*.tmp"))


def damaged_folder(tmp_path, role="train", images=None, labels=None) -> Path:
    folder = tmp_path / "d"
    fake_folder(folder)
    if images is not None:
        write_idx(folder / FILES[f"{role}_images"], images, compress=True)
    if labels is not None:
        write_idx(folder / FILES[f"{role}_labels"], labels, compress=True)
    return folder


N = 60
GOOD_X = np.zeros((N, 5, 7), np.uint8)
GOOD_Y = np.zeros(N, np.uint8)


@pytest.mark.parametrize("role", ["train", "test"])
@pytest.mark.parametrize("images, labels, words", [
    (None, np.where(np.arange(N) == 7, 200, 3).astype(np.uint8), "labels outside 0..9 (first: 200 at index 7)"),
    (None, np.full(N, 2.7, np.float32), "labels are floating-point"),
    (None, np.full(N, -1, np.int16), "labels outside 0..9"),
    (np.where(np.arange(N)[:, None, None] == 3, np.nan, 0.5).astype(np.float32) + np.zeros((1, 5, 7), np.float32),
     GOOD_Y, "NaN or infinite pixels (first: image 3)"),
    (np.full((N, 5, 7), 1e30, np.float32), GOOD_Y, "pixel values outside 0..255"),
    (np.full((N, 5, 7), -3, np.int16), GOOD_Y, "pixel values outside 0..255"),
    (np.zeros((0, 5, 7), np.uint8), np.zeros(0, np.uint8), "holds no images"),
    (np.zeros((N, 0, 0), np.uint8), GOOD_Y, "images have no pixels"),
    (GOOD_X, np.zeros(N + 1, np.uint8), f"{N + 1} labels for {N} images"),
])
def test_bad_idx_contents_exit_2_naming_the_file(tmp_path, capsys, role, images, labels, words):
    n_test = 20 if role == "train" else N
    folder = tmp_path / "d"
    fake_folder(folder, n_test=n_test)
    if images is not None:
        write_idx(folder / FILES[f"{role}_images"], images, compress=True)
    if labels is not None:
        write_idx(folder / FILES[f"{role}_labels"], labels, compress=True)
    with pytest.raises(DataError, match=words.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")) as e:
        load(folder, n_val=10)
    assert f"-{role[:2]}" in str(e.value) or role in str(e.value) or "t10k" in str(e.value)
    assert run(tmp_path, "--val", "10", data=folder) == 2
    assert words.split(" (")[0] in one_line_error(capsys)


def test_float_images_in_0_255_and_0_1_are_read(tmp_path):
    folder = tmp_path / "d"
    fake_folder(folder)
    x = np.linspace(0, 255, N * 35).reshape(N, 5, 7).astype(np.float32)
    write_idx(folder / FILES["train_images"], x, compress=False)
    (folder / FILES["train_images"]).rename(folder / FILES["train_images"][:-3])
    (folder / FILES["train_images"]).unlink(missing_ok=True)
    d = load(folder, n_val=10)
    assert d.x_train.max() <= 1.0 and np.isclose(d.x_val.max(), 1.0)


def test_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    """A small gzip whose content goes on far past the shape its header declares: read only what the shape needs."""
    p = tmp_path / "bomb.gz"
    head = bytes([0, 0, 0x08, 3]) + b"".join(int(d).to_bytes(4, "big") for d in (10, 5, 7))
    with gzip.open(p, "wb", compresslevel=9) as f:
        f.write(head + bytes(350))
        block = bytes(1 << 20)
        for _ in range(64):  # 64 MiB of trailing zeros, about 64 KB compressed
            f.write(block)
    assert p.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="trailing bytes"):
            read_idx(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak / 2**20:.0f} MiB allocated to refuse a 64 MiB bomb"


def test_declared_size_above_the_limit_is_refused_before_reading(tmp_path):
    p = tmp_path / "huge.gz"
    head = bytes([0, 0, 0x08, 3]) + b"".join(int(d).to_bytes(4, "big") for d in (4_000_000, 1000, 1000))
    p.write_bytes(gzip.compress(head + bytes(100)))
    with pytest.raises(DataError, match=r"declares 4000000000000 data bytes, more than the \d+ allowed"):
        read_idx(p)
    with pytest.raises(DataError, match="more than the 100 allowed"):
        write_idx(tmp_path / "small", np.zeros((3, 5, 7), np.uint8), compress=False)
        read_idx(tmp_path / "small", max_bytes=100)


def test_full_60000_image_training_set_through_the_verified_download(tmp_path, monkeypatch, capsys):
    """No --data: the four official files are fetched into the cache (network stubbed), md5-checked, and the
    60,000 training images split 56,000 / 4,000."""
    import hashlib
    import io

    from neuroevo.mnist import data

    rng = np.random.default_rng(0)
    blobs = {}
    for role, n in (("train", 60000), ("test", 10000)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = np.zeros((n, 28, 28), np.uint8)
        images[:, 14, 14] = 25 * labels  # a learnable pixel; the rest compresses to nothing
        for kind, arr in (("images", images), ("labels", labels)):
            p = tmp_path / "src.gz"
            write_idx(p, arr, compress=True)
            blobs[FILES[f"{role}_{kind}"]] = p.read_bytes()
    cache = tmp_path / "cache"
    monkeypatch.setattr(data, "DEFAULT_CACHE", cache)
    monkeypatch.setattr(data, "MD5", {n: hashlib.md5(b).hexdigest() for n, b in blobs.items()})
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(blobs[url.rsplit("/", 1)[1]]))
    d = data.load_or_download(None)
    assert (d.x_train.shape, d.x_val.shape, d.x_test.shape) == ((56000, 784), (4000, 784), (10000, 784))
    assert sorted(p.name for p in cache.iterdir()) == sorted(blobs)
    assert main(["mnist", "--methods", "backprop", "--budget-forwards", "3000", "--seeds", "1", "--quiet",
                 "--no-plot", "--out", str(tmp_path / "o")]) == 0
    assert json.loads((tmp_path / "o" / "results.json").read_text())["meta"]["data"]["n_train"] == 56000
