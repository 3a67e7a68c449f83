"""The MNIST lab: IDX reading and its errors, gradients, population forward, selection statistics, learning, CLI."""

import dataclasses
import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

from neuroevo.cli import main
from neuroevo.mnist import backprop, compare, es, ga, kernels, lres
from neuroevo.mnist.budget import Tracker
from neuroevo.mnist.data import FILES, DataError, Dataset, load, read_idx
from neuroevo.mnist.nets import NoiseTable, cross_entropy, forward, forward_population, init_genomes, make_layout

MNIST_DIR = Path(os.environ.get("NEUROEVO_MNIST_DIR", Path(__file__).resolve().parents[2] / "shared/data/mnist"))
TYPE_BYTES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
              np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def write_idx(path: Path, arr: np.ndarray, compress: bool) -> None:
    """An IDX file written from the format description (not by the code under test)."""
    dt = arr.dtype if arr.dtype.itemsize == 1 else arr.dtype.newbyteorder(">")
    head = bytes([0, 0, TYPE_BYTES[dt], arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    body = head + arr.astype(dt).tobytes()
    path.write_bytes(gzip.compress(body) if compress else body)


def fake_folder(folder: Path, n_train=60, n_test=20, shape=(5, 7), compress=True, seed=0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for role, n in (("train", n_train), ("test", n_test)):
        name_i, name_l = FILES[f"{role}_images"], FILES[f"{role}_labels"]
        if not compress:
            name_i, name_l = name_i[:-3], name_l[:-3]
        write_idx(folder / name_i, rng.integers(0, 256, (n, *shape), dtype=np.uint8), compress)
        write_idx(folder / name_l, rng.integers(0, 10, n).astype(np.uint8), compress)


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64])
def test_idx_round_trip(tmp_path, compress, dtype):
    arr = (np.arange(3 * 5 * 7) - 50).reshape(3, 5, 7).astype(dtype)
    if dtype == np.uint8:
        arr = np.arange(3 * 5 * 7, dtype=np.uint8).reshape(3, 5, 7)
    p = tmp_path / "x.idx"
    write_idx(p, arr, compress)
    back = read_idx(p)
    assert back.shape == (3, 5, 7) and np.array_equal(back, arr)


def test_load_non_28x28_folder_raw_files(tmp_path):
    fake_folder(tmp_path, shape=(5, 7), compress=False)
    d = load(tmp_path, n_val=10)
    assert d.x_train.shape == (50, 35) and d.x_val.shape == (10, 35) and d.x_test.shape == (20, 35)
    assert d.x_train.dtype == np.float32 and 0 <= d.x_train.min() and d.x_train.max() <= 1
    assert d.n_classes <= 10 and d.y_train.dtype == np.int64
    raw = read_idx(tmp_path / "train-images-idx3-ubyte")
    assert np.allclose(d.x_val * 255, raw[50:].reshape(10, -1))  # validation = the last training images


@pytest.mark.parametrize("damage, words", [
    (lambda b: b[:-5], "truncated"),
    (lambda b: b[:6], "truncated IDX header"),
    (lambda b: b"\x01\x02" + b[2:], "not an IDX file"),
    (lambda b: b + b"\x00", "trailing bytes"),
])
def test_bad_idx_raises_one_line_naming_file(tmp_path, damage, words):
    p = tmp_path / "bad.idx"
    write_idx(p, np.zeros((4, 3, 3), np.uint8), compress=False)
    p.write_bytes(damage(p.read_bytes()))
    with pytest.raises(DataError) as e:
        read_idx(p)
    assert str(p) in str(e.value) and words in str(e.value) and "\n" not in str(e.value)


def test_corrupt_gzip_raises(tmp_path):
    p = tmp_path / "bad.gz"
    write_idx(p, np.zeros((4, 3, 3), np.uint8), compress=True)
    p.write_bytes(p.read_bytes()[:-12])
    with pytest.raises(DataError, match="bad.gz"):
        read_idx(p)


def test_cli_truncated_file_exits_2_with_one_line(tmp_path, capsys):
    fake_folder(tmp_path / "d")
    bad = tmp_path / "d" / FILES["train_images"]
    raw = gzip.decompress(bad.read_bytes())
    bad.write_bytes(gzip.compress(raw[:-100]))
    code = main(["mnist", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "o"), "--budget-forwards", "100",
                 "--quiet", "--val", "10"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("neuroevo mnist: error:") and str(bad) in err and "truncated" in err


def test_cli_missing_files_and_bad_settings_exit_2(tmp_path, capsys):
    assert main(["mnist", "--data", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "t10k-images-idx3-ubyte.gz" in err and len(err.strip().splitlines()) == 1
    fake_folder(tmp_path / "d")
    assert main(["mnist", "--data", str(tmp_path / "d"), "--set", "ga.nope=1", "--quiet"]) == 2
    assert "unknown key" in capsys.readouterr().err
    assert main(["mnist", "--data", str(tmp_path / "d"), "--methods", "ga,sgd", "--quiet"]) == 2
    assert main(["mnist", "--data", str(tmp_path / "d"), "--set", "ga.selection=lottery", "--quiet"]) == 2


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_backprop_gradient_matches_finite_differences(activation):
    rng = np.random.default_rng(3)
    layout = make_layout(6, (5, 4), 3)
    g = init_genomes(layout, 1, activation, rng)[0].astype(np.float64)
    g += rng.normal(0, 0.1, g.shape)  # non-zero biases too
    x, y = rng.normal(size=(7, 6)), rng.integers(0, 3, 7)
    loss, grad = backprop.loss_and_grad(layout, g, x, y, activation)
    assert np.isclose(loss, cross_entropy(forward(layout, g, x, activation), y))
    h = 1e-6
    num = np.empty_like(g)
    for i in range(g.size):
        e = np.zeros_like(g)
        e[i] = h
        num[i] = (backprop.loss_and_grad(layout, g + e, x, y, activation)[0]
                  - backprop.loss_and_grad(layout, g - e, x, y, activation)[0]) / (2 * h)
    assert np.allclose(grad, num, rtol=1e-4, atol=1e-7)


def test_population_forward_equals_member_forward():
    rng = np.random.default_rng(4)
    layout = make_layout(12, (6, 5), 4)
    pop = init_genomes(layout, 7, "tanh", rng)
    pop[:, -4:] = rng.normal(size=(7, 4))
    x = rng.random((9, 12), dtype=np.float32)
    out = forward_population(layout, pop, x, "tanh")
    assert out.shape == (7, 9, 4) and out.dtype == np.float32
    for k in range(7):
        assert np.allclose(out[k], forward(layout, pop[k], x, "tanh"), atol=1e-5)


def _draws(fitness, cfg, n, seed=0):
    rng = np.random.default_rng(seed)
    picks = np.concatenate([ga.select_parents(fitness, 1000, cfg, rng) for _ in range(n // 1000)])
    return np.bincount(picks, minlength=len(fitness)) / picks.size


FIT = np.array([0.3, 0.9, 0.1, 0.5, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0])  # ranks = 10 * value + 1


def test_selection_probabilities_match_theory():
    n, ranks = len(FIT), np.argsort(np.argsort(FIT)) + 1  # 1 = worst
    theory = {
        "tournament": (ranks**3 - (ranks - 1) ** 3) / n**3,  # best of 3 drawn with replacement
        "rank": ranks / ranks.sum(),
        "truncation": np.where(ranks > n - 3, 1 / 3, 0.0),  # top 30% uniformly
        "roulette": ga.scaled_fitness(FIT, "sigma", 1.0) / ga.scaled_fitness(FIT, "sigma", 1.0).sum(),
    }
    for sel, p in theory.items():
        cfg = ga.GAConfig(selection=sel, tournament_k=3, truncation=0.3)
        freq = _draws(FIT, cfg, 100_000)
        assert np.abs(freq - p).max() < 0.006, sel


def test_sus_counts_are_within_one_of_expectation():
    cfg = ga.GAConfig(selection="sus", scaling="none")
    picks = ga.select_parents(FIT, 45, cfg, np.random.default_rng(1))
    expect = 45 * (FIT - FIT.min()) / (FIT - FIT.min()).sum()
    assert np.all(np.abs(np.bincount(picks, minlength=10) - expect) < 1)


def test_sigma_scaling_restores_selection_pressure():
    acc = np.linspace(0.90, 0.92, 50)  # a population whose raw accuracies differ by 2 points
    raw = acc / acc.sum()
    scaled = ga.scaled_fitness(acc, "sigma", 1.0)
    scaled /= scaled.sum()
    assert raw[-1] / raw.mean() < 1.02  # raw roulette: nearly uniform
    assert scaled[-1] / scaled.mean() > 2.5 and scaled[0] == 0  # scaled: the best ~3x, the worst never
    lin = ga.scaled_fitness(acc, "linear")
    assert np.isclose(lin.max() / lin.mean(), 2.0)


def synthetic(seed=0, n=600, d=20) -> Dataset:
    """Three Gaussian blobs in d dimensions: learnable in a few hundred generations."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1.0, (3, d)).astype(np.float32)
    y = rng.integers(0, 3, n)
    x = centres[y] + rng.normal(0, 0.8, (n, d)).astype(np.float32)
    return Dataset(x[:400], y[:400], x[400:500], y[400:500], x[500:], y[500:], 3, "synthetic")


def test_ga_improves_fitness_on_a_tiny_task():
    d = synthetic()
    layout = make_layout(20, (8,), 3)
    cfg = ga.GAConfig(population=30, batch=128, batch_end=0, sigma=0.05, noise_table=1 << 16, offspring=0)
    t = Tracker(layout, d, "relu", budget_forwards=30 * 128 * 150)
    out, best = ga.train(cfg, t, np.random.default_rng(0))
    first_val = t.curve[0][2]
    pop0 = init_genomes(layout, 30, "relu", np.random.default_rng(5))
    ce0 = cross_entropy(forward_population(layout, pop0, d.x_train, "relu"), d.y_train).min()
    ce1 = cross_entropy(forward(layout, best, d.x_train, "relu"), d.y_train)
    assert out["steps"] == 150 and ce1 < 0.5 * ce0
    assert out["val_accuracy"] > 0.9 > first_val + 0.2 and out["test_accuracy"] > 0.85


@pytest.mark.parametrize("method", ["ga", "ga_cheap", "es", "lres"])
def test_batch_end_grows_the_minibatch_over_the_budget(method, monkeypatch):
    """batch_end: each generation's minibatch goes linearly from batch to batch_end as the budget is spent, the
    images scored are that many, and the forwards counted are the images actually used."""
    from neuroevo.mnist import lrga

    d = synthetic(2)
    layout = make_layout(20, (8,), 3)
    t = Tracker(layout, d, "relu", budget_forwards=1000)
    assert [t.batch(64, 0), t.batch(64, 256)] == [64, 64]
    t.forwards = 500
    assert [t.batch(64, 0), t.batch(64, 256), t.batch(256, 64)] == [64, 160, 256]  # an end below: fixed
    t.forwards = 5000
    assert t.batch(64, 256) == 256
    steps, scored = [], []
    real_step = Tracker.step

    def spy(self, forwards, current):  # each generation reports the image-forwards it used
        steps.append(forwards)
        return real_step(self, forwards, current)

    def scoring(module, name, labels_at):  # the kernel each method scores its members with: the labels it gets
        real = getattr(module, name)

        def wrapped(*args, **kw):
            scored.append(len(args[labels_at]))
            return real(*args, **kw)
        monkeypatch.setattr(module, name, wrapped)

    monkeypatch.setattr(Tracker, "step", spy)
    {"ga": lambda: scoring(kernels, "population_loss", 4), "ga_cheap": lambda: scoring(lrga, "child_losses", 7),
     "es": lambda: scoring(es, "cross_entropy", 1), "lres": lambda: scoring(lres, "pair_losses", 4)}[method]()
    cfg = {"ga": ga.GAConfig(population=10, batch=16, batch_end=64, noise_table=1 << 16),
           "ga_cheap": ga.GAConfig(population=4, offspring=6, batch=16, batch_end=64, noise_table=1 << 16),
           "es": es.ESConfig(pairs=5, batch=16, batch_end=64, noise_table=1 << 16),
           "lres": lres.LRESConfig(pairs=5, batch=16, batch_end=64, noise_table=1 << 16)}[method]
    per_image = 10  # members scored per image: the GA's population (parents + children), or twice the ES pairs
    budget = per_image * 40 * 60
    r = compare.run_one("ga" if method == "ga_cheap" else method, 1, d, (8,), "relu", None, budget,
                        dataclasses.replace(compare.Configs(), **{"ga" if method == "ga_cheap" else method: cfg}))
    sizes = [f / per_image for f in steps]  # images per generation
    assert sizes[0] == 16 and 60 <= max(sizes) <= 64 and sizes == sorted(sizes)
    assert scored[-len(sizes):] == sizes  # (the calls before are the kernels' warm-up, off the budget)
    assert r["forwards"] == sum(steps) >= budget


def test_ga_sus_draws_parents_and_mates_independently():
    """With SUS, parents and mates are two draws: each follows the selection weights over the whole population (one
    draw split in two would give the low slots only parents and the high slots only mates)."""
    layout = make_layout(6, (4,), 3)
    rng = np.random.default_rng(4)
    w1, rest = kernels.split_population(layout, init_genomes(layout, 40, "relu", rng))
    cfg = ga.GAConfig(population=40, elite=0, selection="sus", crossover=1.0, noise_table=1 << 12)
    table = NoiseTable(cfg.noise_table, rng)
    fitness = np.zeros(40)  # equal weights: every member is as likely as a parent as a mate
    src, mate = [], []
    real = kernels.breed

    def spy(pop, new, brood, noise, rows, thr):
        src.append(brood.src.copy())
        mate.append(brood.mate.copy())
        return real(pop, new, brood, noise, rows, thr)

    kernels.breed = spy
    try:
        for _ in range(50):
            ga.next_generation((w1, rest), np.full(40, 0.02, np.float32), fitness, cfg, table,
                               ga.rest_factors(layout, "same"), rng, 1.0, (np.empty_like(w1), np.empty_like(rest)))
    finally:
        kernels.breed = real
    for picks in (np.concatenate(src), np.concatenate(mate)):
        counts = np.bincount(picks, minlength=40)
        assert counts.min() > 0 and counts[:20].sum() == pytest.approx(counts[20:].sum(), rel=0.05)


def test_ga_train_refuses_settings_it_cannot_honour():
    """Called from Python (no CLI check): an unknown crossover mode, or midpoint / sparse mutation with cheap
    children (which would ignore them), is a ValueError before any work."""
    from types import SimpleNamespace

    tracker = SimpleNamespace(layout=make_layout(6, (4,), 3), data=None, activation="relu")
    for cfg in (ga.GAConfig(crossover_mode="blend"), ga.GAConfig(offspring=10, crossover_mode="midpoint"),
                ga.GAConfig(offspring=10, mutation_rate=0.5)):
        with pytest.raises(ValueError):
            ga.train(cfg, tracker, np.random.default_rng(0))


SMALL = compare.Configs(ga=ga.GAConfig(population=20, batch=64, batch_end=0, noise_table=1 << 16),
                        es=es.ESConfig(pairs=10, batch=64, sigma=0.05, lr=0.03, noise_table=1 << 16),
                        lres=lres.LRESConfig(pairs=40, batch=64, batch_end=0, sigma=0.05, lr=0.03, noise_table=1 << 16))


def test_es_and_backprop_learn_the_tiny_task():
    d = synthetic(1)
    for method in ("es", "backprop", "lres"):
        r = compare.run_one(method, 1, d, (8,), "tanh", None, 2e5, SMALL)
        assert r["curve"][0][2] < 0.7 and r["val_accuracy"] > 0.9, method


def test_same_seed_same_results_at_a_forward_budget():
    d = synthetic(2)
    for method in compare.METHODS:
        a, b = (compare.run_one(method, 4, d, (6,), "relu", None, 5e4, SMALL) for _ in range(2))
        strip = [(f, v) for _, f, v in a["curve"]], [(f, v) for _, f, v in b["curve"]]
        assert strip[0] == strip[1] and a["test_accuracy"] == b["test_accuracy"], method


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"no MNIST data at {MNIST_DIR} (set NEUROEVO_MNIST_DIR)")
def test_cli_real_mnist_small_budget(tmp_path):
    out = tmp_path / "o"
    assert main(["mnist", "--methods", "ga,es,backprop", "--hidden", "16", "--budget-forwards", "6e5",
                 "--set", "ga.batch=128", "--set", "es.batch=128", "--set", "es.pairs=20",
                 "--set", "ga.noise_table=1000000", "--set", "es.noise_table=1000000",
                 "--seeds", "1", "--data", str(MNIST_DIR), "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["meta"]["data"]["n_train"] + res["meta"]["data"]["n_val"] == 24000
    for m in ("ga", "es", "backprop"):
        r = res[m]
        assert set(r["test_accuracy"]) == {"mean", "std", "per_seed"} and len(r["curve"]) == 1
        assert r["runs"][0]["forwards"] >= 6e5
    assert res["backprop"]["test_accuracy"]["mean"] > 0.88
    assert res["es"]["test_accuracy"]["mean"] > 0.4 and res["ga"]["test_accuracy"]["mean"] > 0.2  # from ~10%
    assert (out / "comparison.png").stat().st_size > 5000 and "| backprop |" in (out / "results.md").read_text()


def test_download_keeps_only_files_with_the_right_md5(tmp_path, monkeypatch):
    """The downloader, with urlopen replaced (no network in tests): good bytes are kept, bad ones rejected."""
    import io

    from neuroevo.mnist import data

    payload = {name: f"content of {name}".encode() for name in FILES.values()}
    monkeypatch.setattr(data, "MD5", {n: data.hashlib.md5(b).hexdigest() for n, b in payload.items()})
    monkeypatch.setattr(data.urllib.request, "urlopen",
                        lambda url, timeout: io.BytesIO(payload[url.rsplit("/", 1)[1]]))
    data.download(tmp_path / "ok")
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == sorted(payload)
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"tampered"))
    with pytest.raises(DataError, match="md5 mismatch") as e:
        data.download(tmp_path / "bad")
    assert "\n" not in str(e.value) and not list((tmp_path / "bad").iterdir())

    def offline(url, timeout):
        raise OSError("network unreachable")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz") as e:
        data.download(tmp_path / "off")
    assert str(tmp_path / "off") in str(e.value)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("rank", [1, 3])
def test_low_rank_pair_losses_equal_the_members_built_in_full(activation, rank):
    """The kernel's losses of theta +- sigma eps_k equal those of the same members formed explicitly."""
    rng = np.random.default_rng(6)
    n_in, h1, n_c, m, sigma = 12, 5, 4, 7, 0.3
    layout = make_layout(n_in, (h1,), n_c)
    theta = init_genomes(layout, 1, activation, rng)[0] + rng.normal(0, 0.1, layout.n_params).astype(np.float32)
    noise = rng.standard_normal((m, n_in * rank + rank * h1 + layout.n_params - n_in * h1), dtype=np.float32)
    x, y = rng.random((9, n_in), dtype=np.float32), rng.integers(0, n_c, 9)
    n_w1 = n_in * h1
    zt = np.ascontiguousarray((x @ theta[:n_w1].reshape(n_in, h1) + theta[n_w1 : n_w1 + h1]).T)
    a_all = noise[:, : n_in * rank].reshape(m, n_in, rank).transpose(0, 2, 1).reshape(m * rank, n_in)
    out = np.empty(2 * m)
    lres.pair_losses(zt, a_all @ x.T, noise, (theta[n_w1 + h1 : -n_c].reshape(h1, n_c), theta[-n_c:]), y, sigma,
                     kernels.ACT_CODES[activation], out)
    for k in range(m):
        eps = lres.perturbation(noise[k], n_in, h1, rank)
        for side, sign in ((k, 1), (m + k, -1)):
            member = theta + sign * np.float32(sigma) * eps
            assert np.isclose(out[side], cross_entropy(forward(layout, member, x, activation), y), rtol=1e-5), side
    w = rng.normal(size=m).astype(np.float32)
    explicit = sum(w[k] * lres.perturbation(noise[k], n_in, h1, rank) for k in range(m))
    assert np.allclose(lres.gradient(noise, w, n_in, h1, rank), explicit, atol=1e-5)


def test_ga_kernels_equal_the_flat_genome_reference():
    """Layer-1-major population: the loss equals the member-by-member forward; breed equals its definition."""
    rng = np.random.default_rng(7)
    layout = make_layout(11, (6, 5), 4)
    pop = init_genomes(layout, 9, "tanh", rng) + rng.normal(0, 0.1, (9, layout.n_params)).astype(np.float32)
    x, y = rng.random((13, 11), dtype=np.float32), rng.integers(0, 4, 13)
    w1, rest = kernels.split_population(layout, pop)
    loss = kernels.population_loss(layout, w1, rest, x, y, "tanh")
    for j in range(9):
        assert np.array_equal(kernels.member(w1, rest, j), pop[j])
        assert np.isclose(loss[j], cross_entropy(forward(layout, pop[j], x, "tanh"), y), rtol=1e-5)
    table = rng.standard_normal(4000, dtype=np.float32)
    src, mate = rng.integers(0, 9, 9), rng.integers(0, 9, 9)
    cross, scale = rng.integers(0, 3, 9).astype(np.int8), rng.random(9).astype(np.float32)  # none/uniform/midpoint
    cross[1:4] = [kernels.UNIFORM, kernels.MIDPOINT, 0]
    scale[0] = 0.0
    n_rest = layout.n_params - 11 * 6
    rows = rng.integers(0, 4000 - 9 * 6, 11)  # layer 1: one window per input row, members side by side
    on = rng.integers(0, 4000 - n_rest, 9)  # the rest: one window per member
    factors = ga.rest_factors(layout, "fan_in")
    mult = np.concatenate([np.ones(11 * 6, np.float32), factors])
    for rate in (1.0, 0.3):  # every gene mutated; 30% of them
        new = (np.empty_like(w1), np.empty_like(rest))
        thr = kernels.mutation_threshold(rate)
        kernels.breed((w1, rest), new, kernels.Brood(src, mate, cross, scale, on, on), kernels.Noise(table, factors),
                      rows, thr)
        for j in range(9):
            draws = np.concatenate([*(table[r + j * 6 : r + j * 6 + 6] for r in rows), table[on[j] : on[j] + n_rest]])
            bits = draws.view(np.uint32)
            coin = (bits & 1).astype(bool)  # the noise draw's lowest bit
            mutated = ((bits >> 1) & 0xFFF) < thr  # its next 12 bits
            base = {0: pop[src[j]], kernels.UNIFORM: np.where(coin, pop[src[j]], pop[mate[j]]),
                    kernels.MIDPOINT: (pop[src[j]] + pop[mate[j]]) / 2}[int(cross[j])]
            want = base + scale[j] * mult * draws * mutated if scale[j] else pop[src[j]]
            assert np.allclose(kernels.member(*new, j), want, atol=1e-6), j
            if rate == 1.0:
                assert mutated.all()
            elif scale[j]:  # the genes left alone are their base exactly
                assert np.array_equal(kernels.member(*new, j)[~mutated], base[~mutated])
    assert np.isclose(factors[0], 1.0) and np.isclose(factors[6], np.sqrt(11 / 6))  # b1, then W2 (fan-in 6)


def test_the_noise_tables_lowest_bit_is_a_fair_coin_independent_of_the_draw():
    """GA crossover takes each gene's coin from the lowest mantissa bit of its noise draw: over a table as the GA
    makes it, that bit is balanced, and neither the draw's sign, its size nor the neighbouring bit predicts it."""
    t = NoiseTable(1 << 22, np.random.default_rng(3)).table
    bit = (t.view(np.uint32) & 1).astype(bool)
    se = 0.5 / np.sqrt(t.size)  # standard error of a fraction near 1/2 over the whole table
    assert abs(bit.mean() - 0.5) < 5 * se
    for part in (t > 0, t < 0, np.abs(t) < 0.3, (np.abs(t) > 1) & (np.abs(t) < 2), np.abs(t) > 2):
        assert abs(bit[part].mean() - 0.5) < 5 * 0.5 / np.sqrt(part.sum())
    assert abs(np.corrcoef(bit[:-1], bit[1:])[0, 1]) < 5 / np.sqrt(t.size)


@pytest.mark.parametrize("rate", [0.05, 0.3, 0.7])
def test_the_mutation_mask_hits_its_rate_whatever_the_coin_and_the_draw(rate):
    """ga.mutation_rate: a gene is mutated where bits 1-12 of its draw fall below the threshold; over the table that
    happens at the rate asked, for either crossover coin, either sign and every size of draw."""
    t = NoiseTable(1 << 22, np.random.default_rng(5)).table
    bits = t.view(np.uint32)
    mutated = ((bits >> 1) & 0xFFF) < kernels.mutation_threshold(rate)
    coin = (bits & 1).astype(bool)
    for part in (np.ones(t.size, bool), coin, ~coin, t > 0, t < 0, np.abs(t) < 0.3, np.abs(t) > 2):
        n = part.sum()
        assert abs(mutated[part].mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    assert kernels.mutation_threshold(1.0) == kernels.ALL_GENES and kernels.mutation_threshold(1e-9) == 1
    for bad in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            kernels.mutation_threshold(bad)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_one_hidden_layer_loss_equals_the_member_by_member_forward(activation):
    """The fused bias/activation/output/softmax pass of one-hidden-layer nets gives each member's own loss."""
    rng = np.random.default_rng(9)
    layout = make_layout(17, (12,), 5)
    pop = init_genomes(layout, 7, activation, rng) + rng.normal(0, 0.3, (7, layout.n_params)).astype(np.float32)
    x, y = rng.random((23, 17), dtype=np.float32), rng.integers(0, 5, 23)
    w1, rest = kernels.split_population(layout, pop)
    loss = kernels.population_loss(layout, w1, rest, x, y, activation)
    want = [cross_entropy(forward(layout, pop[j], x, activation), y) for j in range(7)]
    assert np.allclose(loss, want, rtol=1e-5)
    assert len(set(np.round(loss, 6))) == 7  # members differ, so a mixed-up member would show


def test_cheap_children_equal_their_explicit_construction():
    """lrga: a child's loss from its parents' products equals the loss of the child written out gene by gene."""
    from neuroevo.mnist import lrga

    rng = np.random.default_rng(8)
    n_in, h1, n_c, mu, lam = 10, 6, 3, 4, 7
    layout = make_layout(n_in, (h1,), n_c)
    pop = init_genomes(layout, mu, "relu", rng) + rng.normal(0, 0.1, (mu, layout.n_params)).astype(np.float32)
    w1, rest = kernels.split_population(layout, pop)
    n_rest = rest.shape[1]
    table = rng.standard_normal(5000, dtype=np.float32)
    src = np.concatenate([np.arange(mu), rng.integers(0, mu, lam)])
    mate = np.concatenate([np.arange(mu), rng.integers(0, mu, lam)])
    cross = np.concatenate([np.zeros(mu, bool), rng.random(lam) < 0.7])
    scale = np.concatenate([np.zeros(mu, np.float32), rng.uniform(0.05, 0.5, lam).astype(np.float32)])
    offn = np.concatenate([np.zeros(mu, np.int64), rng.integers(0, 4000, lam)])
    offc = np.concatenate([np.zeros(mu, np.int64), rng.integers(0, 4000, lam)])
    factors = ga.rest_factors(layout, "fan_in")
    x, y = rng.random((11, n_in), dtype=np.float32), rng.integers(0, n_c, 11)
    ut = np.zeros((mu + lam, 11), np.float32)
    for c in range(mu, mu + lam):
        ut[c] = x @ table[offn[c] : offn[c] + n_in]
    loss = np.empty(mu + lam)
    brood, noise = kernels.Brood(src, mate, cross, scale, offn, offc), kernels.Noise(table, factors)
    lrga.child_losses(w1.T @ x.T, ut, rest, brood, noise, n_in, 0, y, loss)
    new = (np.empty((n_in, (mu + lam) * h1), np.float32), np.empty((mu + lam, n_rest), np.float32))
    lrga.write_children((w1, rest), new, brood, noise)
    for c in range(mu + lam):
        p, q, s, on = src[c], mate[c], scale[c], offn[c]
        units = np.where(cross[c] & (table[offc[c] : offc[c] + h1] <= 0), q, p)  # the parent of each hidden unit
        a, b, e = table[on : on + n_in], table[on + n_in : on + n_in + h1], table[on + n_in + h1 :][:n_rest]
        want_w1 = np.stack([pop[u, : n_in * h1].reshape(n_in, h1)[:, j] for j, u in enumerate(units)], 1)
        want_w1 = want_w1 + s * np.outer(a, b)
        r = np.concatenate([[rest[u, j] for j, u in enumerate(units)],
                            np.concatenate([rest[u, h1 + j * n_c : h1 + (j + 1) * n_c] for j, u in enumerate(units)]),
                            rest[p, h1 + h1 * n_c :]]) + s * factors * e
        want = np.concatenate([want_w1.ravel(), r]).astype(np.float32)
        assert np.allclose(kernels.member(*new, c), want, atol=1e-6), c
        assert np.isclose(loss[c], cross_entropy(forward(layout, want, x, "relu"), y), rtol=1e-5), c
    assert np.array_equal(kernels.member(*new, 2), pop[2])  # scale 0: the parent unchanged


def test_ga_with_cheap_children_learns_the_tiny_task_and_repeats_itself():
    d = synthetic(3)
    cfg = compare.Configs(ga=ga.GAConfig(population=10, offspring=60, batch=64, batch_end=0, noise_table=1 << 16))
    a, b = (compare.run_one("ga", 2, d, (8,), "relu", None, 1e6, cfg) for _ in range(2))
    assert a["curve"][0][2] < 0.7 and a["val_accuracy"] > 0.9
    assert [c[1:] for c in a["curve"]] == [c[1:] for c in b["curve"]] and a["test_accuracy"] == b["test_accuracy"]
