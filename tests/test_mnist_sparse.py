"""The GA's layer-1 product over nonzero pixels only (kernels.csr, kernels.sparse_product, ga.layer1)."""

import numpy as np
import pytest

from neuroevo.cli import main
from neuroevo.mnist import ga, kernels
from neuroevo.mnist.budget import Tracker
from neuroevo.mnist.data import Dataset
from neuroevo.mnist.nets import cross_entropy, forward, init_genomes, make_layout


def sparse_images(n: int, d: int, density: float, rng) -> np.ndarray:
    """Images with about `density` of their pixels nonzero, and every count of nonzero pixels from 0 to 9 among
    the first ten (the product adds rows four at a time, then one at a time)."""
    x = rng.random((n, d), dtype=np.float32) * (rng.random((n, d)) < density)
    for k in range(min(10, n)):
        x[k] = 0.0
        x[k, rng.choice(d, size=k, replace=False)] = rng.random(k, dtype=np.float32) + 0.1
    return x


def test_csr_holds_exactly_the_nonzero_pixels():
    rng = np.random.default_rng(0)
    x = sparse_images(40, 31, 0.2, rng)
    images = kernels.csr(x)
    back = np.zeros_like(x)
    for n in range(x.shape[0]):
        lo, hi = images.ptr[n], images.ptr[n + 1]
        assert np.all(np.diff(images.ind[lo:hi]) > 0)  # in pixel order, each once
        back[n, images.ind[lo:hi]] = images.val[lo:hi]
    assert np.array_equal(back, x) and images.ptr[-1] == np.count_nonzero(x)


@pytest.mark.parametrize("width", [6 * 5, kernels.SPARSE_COLUMNS + 3 * 7])  # one pass; two passes over columns
def test_sparse_product_equals_the_dense_product(width):
    rng = np.random.default_rng(1)
    x = sparse_images(50, 37, 0.25, rng)
    w1 = rng.normal(0, 1, (37, width)).astype(np.float32)
    idx = rng.integers(0, 50, 64)
    idx[:10] = np.arange(10)  # images with 0..9 nonzero pixels
    zt = np.full((width, 64), np.nan, np.float32)
    kernels.sparse_product(w1, kernels.csr(x), idx, zt)
    want = (x[idx].astype(np.float64) @ w1.astype(np.float64)).T
    assert np.allclose(zt, want, rtol=1e-5, atol=1e-5)
    assert np.all(zt[:, 0] == 0.0)  # image 0 has no nonzero pixel


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_population_loss_over_sparse_images_equals_each_members_own_loss(activation):
    rng = np.random.default_rng(2)
    layout = make_layout(29, (9,), 4)
    pop = init_genomes(layout, 6, activation, rng) + rng.normal(0, 0.3, (6, layout.n_params)).astype(np.float32)
    x = sparse_images(40, 29, 0.2, rng)
    y = rng.integers(0, 4, 40)
    idx = rng.integers(0, 40, 33)
    w1, rest = kernels.split_population(layout, pop)
    loss = kernels.population_loss(layout, w1, rest, (kernels.csr(x), idx), y[idx], activation)
    want = [cross_entropy(forward(layout, pop[j], x[idx], activation), y[idx]) for j in range(6)]
    assert np.allclose(loss, want, rtol=1e-5)
    with pytest.raises(ValueError):  # deeper nets have no sparse path
        deep = make_layout(29, (5, 4), 4)
        kernels.population_loss(deep, *kernels.split_population(deep, init_genomes(deep, 3, "relu", rng)),
                                (kernels.csr(x), idx), y[idx], "relu")


def sparse_task(seed: int, density: float) -> Dataset:
    """Three classes told apart by which pixels are on: sparse images when density is low."""
    rng = np.random.default_rng(seed)
    n, d = 700, 40
    y = rng.integers(0, 3, n)
    on = rng.random((3, d)) < density * 1.5
    x = ((rng.random((n, d)) < 0.8) & on[y]).astype(np.float32) * rng.uniform(0.5, 1.0, (n, d)).astype(np.float32)
    return Dataset(x[:500], y[:500], x[500:600], y[500:600], x[600:], y[600:], 3, "synthetic")


def test_auto_takes_the_sparse_product_for_sparse_images_and_learns_with_it():
    d = sparse_task(3, 0.15)
    assert np.count_nonzero(d.x_train) <= ga.SPARSE_DENSITY * d.x_train.size
    layout = make_layout(40, (8,), 3)
    cfg = ga.GAConfig(population=20, batch=64, batch_end=0, sigma=0.05, noise_table=1 << 16)
    runs = {}
    for layer1 in ("auto", "auto", "dense"):
        t = Tracker(layout, d, "relu", budget_forwards=20 * 64 * 120)
        out, best = ga.train(ga.GAConfig(**{**cfg.__dict__, "layer1": layer1}), t, np.random.default_rng(4))
        runs.setdefault(layer1, []).append((out, best))
    (a, best_a), (b, best_b) = runs["auto"]
    assert a["layer1"] == "sparse" and runs["dense"][0][0]["layer1"] == "dense"
    same = [(f, v) for _, f, v in a["curve"]] == [(f, v) for _, f, v in b["curve"]]  # (seconds differ)
    assert np.array_equal(best_a, best_b) and same  # the same seed, the same run, to the bit
    assert a["val_accuracy"] > 0.9 and a["test_accuracy"] > 0.85
    dense_x = Dataset(d.x_train + 0.01, d.y_train, d.x_val, d.y_val, d.x_test, d.y_test, 3, "synthetic")
    assert not ga.sparse_layer1(cfg, layout, dense_x.x_train)  # every pixel nonzero: dense
    assert not ga.sparse_layer1(cfg, make_layout(40, (8, 4), 3), d.x_train)  # two hidden layers: dense


def test_layer1_settings_that_cannot_be_honoured_are_refused(tmp_path, capsys):
    from types import SimpleNamespace

    from test_mnist import fake_folder

    tracker = SimpleNamespace(layout=make_layout(6, (4, 3), 3), data=None, activation="relu")
    for cfg in (ga.GAConfig(layer1="csr"), ga.GAConfig(layer1="sparse")):
        with pytest.raises(ValueError):
            ga.train(cfg, tracker, np.random.default_rng(0))
    fake_folder(tmp_path / "d")
    for args in (["--set", "ga.layer1=csr"], ["--set", "ga.layer1=sparse", "--hidden", "8,4"],
                 ["--set", "ga.layer1=sparse", "--set", "ga.offspring=100"],
                 ["--set", "ga.layer1=sparse", "--reproduce-seed-table"]):  # its nets include 784-10-10-10
        assert main(["mnist", "--data", str(tmp_path / "d"), "--methods", "ga", "--quiet", *args]) == 2
        err = capsys.readouterr().err.strip()
        assert "ga.layer1" in err and len(err.splitlines()) == 1, err
