"""Sweeps: the same per-run results on every engine, resuming after a kill, CIs, bad specs."""

import json
import math
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from neuroevo.cli import main
from neuroevo.sweep import Spec, load_spec, mean_ci, run_sweep

SPEC = """
name = "tiny"
scenario = "edges"
minutes = 1
seeds = [1, 2, 3]
agents = 20
metrics = ["quiet_minute", "mean_lifetime_end_s"]

[grid]
"encoding" = ["inverse", "raw"]
"brain.init_weights" = [1.0]  # founders with weights, so the encoding changes a 1-minute run (blind ones ignore it)
"""


@pytest.fixture
def spec(tmp_path) -> Spec:
    path = tmp_path / "tiny.toml"
    path.write_text(SPEC)
    return load_spec(path)


def per_run(results):
    """Comparable per-run results (as JSON text, so NaN metrics compare equal)."""
    return [json.dumps([r["setting"], r["seed"], r["metrics"], r["per_minute"], r["genome_sha1"]]) for r in results]


def test_local_pool_matches_one_by_one(spec, tmp_path):
    serial, skipped = run_sweep(spec, tmp_path / "a", engine="serial", progress=False)
    pooled, _ = run_sweep(spec, tmp_path / "b", engine="local", jobs=2, progress=False)
    assert skipped == 0 and len(serial) == 6
    assert per_run(serial) == per_run(pooled)
    assert len({r["genome_sha1"] for r in serial}) == 6  # six different runs, not one result copied


@pytest.mark.slow
def test_ray_matches_one_by_one(spec, tmp_path):
    pytest.importorskip("ray")
    serial, _ = run_sweep(spec, tmp_path / "a", engine="serial", progress=False)
    on_ray, _ = run_sweep(spec, tmp_path / "r", engine="ray", jobs=2, progress=False)
    assert per_run(serial) == per_run(on_ray)


def test_a_killed_sweep_resumes_without_redoing_finished_runs(tmp_path):
    spec_path = tmp_path / "slow.toml"
    spec_path.write_text(SPEC.replace("minutes = 1", "minutes = 2").replace("agents = 20", "agents = 400")
                         .replace("seeds = [1, 2, 3]", "seeds = 4"))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "neuroevo.cli", "sweep", str(spec_path), "--jobs", "1",
                             "--out", str(out), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while len(list(out.rglob("result.json"))) < 2 and time.time() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = {p: p.stat().st_mtime_ns for p in out.rglob("result.json")}
    assert 2 <= len(done) < 8
    spec = load_spec(spec_path)
    results, skipped = run_sweep(spec, out, engine="serial", progress=False)
    assert skipped == len(done) and len(results) == 8
    assert all(p.stat().st_mtime_ns == t for p, t in done.items())  # finished runs were not redone
    assert (out / "summary.csv").exists() is False  # the killed sweep never got that far
    assert main(["sweep", str(spec_path), "--out", str(out), "--quiet", "--engine", "serial"]) == 0
    assert (out / "summary.csv").exists() and (out / "summary.md").exists() and (out / "summary.png").exists()


def test_mean_and_95_percent_interval():
    r = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert r["n"] == 4 and r["mean"] == 2.5
    assert r["std"] == pytest.approx(1.2909944)
    assert r["ci_high"] - r["mean"] == pytest.approx(3.182 * 1.2909944 / 2, rel=1e-4)
    assert mean_ci([math.nan, 5.0])["n"] == 1


def test_summary_rows_per_setting(spec, tmp_path):
    assert main(["sweep", str(spec.path), "--out", str(tmp_path / "s"), "--quiet", "--engine", "serial"]) == 0
    text = (tmp_path / "s" / "summary.md").read_text()
    assert "brain.encoding=inverse" in text and "brain.encoding=raw" in text
    rows = (tmp_path / "s" / "summary.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2  # header + settings x metrics
    r = json.loads(next((tmp_path / "s").rglob("result.json")).read_text())
    assert set(r["metrics"]) >= {"quiet_minute", "mean_lifetime_end_s"}


@pytest.mark.parametrize("text,needle", [
    ("minutes = [", "not a valid TOML"),
    ("seeds = 0", "seeds"),
    ("colour = 3", "unknown field 'colour'"),
    ("metrics = ['speed']", "unknown metric 'speed'"),
    ("[grid]\nnosuchkey = [1]", "nosuchkey"),
    ("[grid]\nencoding = ['cubic']", "brain.encoding"),
    ("scenario = 'nosuch'", "nosuch"),
])
def test_bad_specs_one_line_exit_2(tmp_path, text, needle):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    r = subprocess.run([sys.executable, "-m", "neuroevo.cli", "sweep", str(p), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "bad.toml" in lines[0], r.stderr


def test_a_failing_run_keeps_the_others_and_says_so(tmp_path):
    scen = tmp_path / "fragile.py"
    scen.write_text(
        "from neuroevo.scenario import Scenario\n\n\n"
        "class Fragile(Scenario):\n"
        "    '''Edges; the hook breaks for seed 2.'''\n\n"
        "    def on_step(self, sim, step):\n"
        "        if sim.seed == 2 and step > 0:\n"
        "            raise RuntimeError('boom')\n"
    )
    spec = tmp_path / "f.toml"
    spec.write_text(f'scenario = "{scen}"\nminutes = 1\nseeds = 3\nagents = 10\n')
    r = subprocess.run([sys.executable, "-m", "neuroevo.cli", "sweep", str(spec), "--engine", "serial", "--quiet",
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "1 of 3 runs failed" in lines[0] and "boom" in lines[0], r.stderr
    assert len(list((tmp_path / "o").rglob("result.json"))) == 2


def write_idx(path, arr):
    """A tiny IDX file (ubyte), the format MNIST ships in."""
    import gzip
    import struct

    arr = np.asarray(arr, np.uint8)
    head = struct.pack(">HBB", 0, 0x08, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(head + arr.tobytes())


def test_mnist_sweep_same_results_serial_and_pooled(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "idx"
    data.mkdir()
    for name, n in (("train", 400), ("t10k", 100)):
        y = rng.integers(0, 3, n)
        x = rng.integers(0, 60, (n, 6, 6))
        for c in range(3):  # class c lights up row 2c: learnable in a few hundred steps
            x[y == c, 2 * c, :] = 250
        write_idx(data / f"{name}-images-idx3-ubyte.gz", x)
        write_idx(data / f"{name}-labels-idx1-ubyte.gz", y)
    spec_path = tmp_path / "m.toml"
    spec_path.write_text(f'command = "mnist"\ndata = "{data}"\nbudget_forwards = 30000\nval = 50\nseeds = 2\n'
                         'metrics = ["test_accuracy", "val_accuracy"]\n[grid]\nmethod = ["ga", "backprop"]\n'
                         'hidden = ["4"]\n')
    spec = load_spec(spec_path)
    serial, _ = run_sweep(spec, tmp_path / "a", engine="serial", progress=False)
    pooled, _ = run_sweep(spec, tmp_path / "b", engine="local", jobs=2, progress=False)
    assert [(r["setting"], r["seed"], r["metrics"], r["forwards"]) for r in serial] == [
        (r["setting"], r["seed"], r["metrics"], r["forwards"]) for r in pooled]
    by = {(r["setting"][0][1], r["seed"]): r["metrics"]["test_accuracy"] for r in serial}
    assert by[("backprop", 1)] > 0.6  # it learned (chance is 1/3)


def test_a_changed_default_reruns_a_finished_run(spec, monkeypatch):
    """A run's key covers every setting it will have, defaults included: results of a sweep computed before a
    default changed are not taken for results under the new one."""
    from neuroevo import scenario as scenario_mod
    from neuroevo.config import override

    task = spec.tasks()[0]
    before = task.key()
    assert task.key() == before  # stable
    real = scenario_mod.load_scenario

    def with_other_default(name):
        cls = real(name)

        class Changed(cls):
            @classmethod
            def settings(klass, overrides=None):
                return override(cls.settings(overrides), {"brain.init_bias": 7.0})  # as if the default moved

        return Changed

    monkeypatch.setattr(scenario_mod, "load_scenario", with_other_default)
    assert task.key() != before
