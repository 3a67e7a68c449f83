"""The `neuroevo run` command: outputs, determinism, resume, and one-line errors for bad input."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuroevo.cli import main

MINUTES = "1.5"


def run_cli(*args):
    return main(["run", *args, "--quiet"])


def test_run_writes_metrics(tmp_path):
    out = tmp_path / "r"
    assert run_cli("edges", "--seed", "3", "--minutes", MINUTES, "--out", str(out), "--agents", "30") == 0
    m = json.loads((out / "metrics.json").read_text())
    for key in ("scenario", "seed", "agents", "sim_minutes", "wall_seconds", "agent_steps_per_second", "settings",
                "per_minute"):
        assert key in m
    assert m["scenario"] == "edges" and m["seed"] == 3 and m["agents"] == 30 and m["sim_minutes"] == 1.5
    assert m["settings"]["world"]["agents"] == 30
    row = m["per_minute"][0]
    assert row["minute"] == 1 and set(row["deaths"]) >= {"edge", "cursor"} and row["births"] == row["deaths"]["edge"]
    assert row["deaths"]["edge"] > 0 and 0 < row["mean_lifetime_s"] <= row["max_lifetime_s"] <= 60
    assert len(m["per_minute"]) == 1  # the half minute at the end is not a full row
    assert (out / "metrics.csv").read_text().splitlines()[0].startswith("minute,deaths_edge,deaths_cursor,births")
    assert (out / "learning.png").stat().st_size > 1000
    with np.load(out / "population.npz", allow_pickle=False) as z:
        assert z["genomes"].shape[0] == 30


def test_same_seed_same_run_and_resume_equals_uninterrupted(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    common = ["cursor", "--seed", "5", "--agents", "40", "--no-plot"]
    assert run_cli(*common, "--minutes", "2", "--out", str(a)) == 0
    assert run_cli(*common, "--minutes", "2", "--out", str(b)) == 0
    assert run_cli(*common, "--minutes", "1", "--out", str(c)) == 0
    assert run_cli("cursor", "--resume", str(c / "population.npz"), "--minutes", "1", "--out", str(c),
                   "--no-plot") == 0
    ma, mb, mc = (json.loads((d / "metrics.json").read_text()) for d in (a, b, c))
    assert ma["per_minute"] == mb["per_minute"] == mc["per_minute"]
    assert sum(r["deaths"]["cursor"] for r in ma["per_minute"]) > 0
    ga, gb, gc = (np.load(d / "population.npz", allow_pickle=False)["genomes"] for d in (a, b, c))
    assert np.array_equal(ga, gb) and np.array_equal(ga, gc)


def _genome_digest(tmp_path, threads):
    out = tmp_path / f"t{threads}"
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "neuroevo.cli", "run", "cursor", "--seed", "2", "--agents", "1200",
           "--minutes", "0.1", "--out", str(out), "--quiet", "--no-plot"]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    with np.load(out / "population.npz", allow_pickle=False) as z:
        return hashlib.sha256(z["genomes"].tobytes() + z["state_pos"].tobytes()).hexdigest()


def test_identical_with_one_or_two_threads(tmp_path):
    """1,200 agents take the parallel kernel; the result must not depend on the thread count."""
    assert _genome_digest(tmp_path, 1) == _genome_digest(tmp_path, 2)


@pytest.mark.parametrize("args,needle", [
    (["nosuch"], "unknown scenario 'nosuch'"),
    (["edges", "--set", "nosuchkey=1"], "unknown settings key 'nosuchkey'"),
    (["edges", "--set", "sigma=nan"], "evolution.sigma"),
    (["edges", "--set", "sigma"], "key=value"),
    (["edges", "--set", "encoding=cubic"], "brain.encoding"),
    (["edges", "--agents", "-5"], "--agents"),
    (["edges", "--set", "agents=-5"], "world.agents"),
    (["edges", "--minutes", "abc"], "--minutes"),
    (["edges", "--resume", "/nonexistent/population.npz"], "no such file"),
])
def test_bad_input_one_line_exit_2(args, needle, tmp_path):
    r = subprocess.run([sys.executable, "-m", "neuroevo.cli", "run", *args, "--out", str(tmp_path / "o"), "--quiet"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0] and "Traceback" not in r.stderr


def test_corrupt_resume_file_is_reported_and_left_alone(tmp_path):
    bad = tmp_path / "population.npz"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip file")
    before = bad.read_bytes()
    r = subprocess.run([sys.executable, "-m", "neuroevo.cli", "run", "edges", "--resume", str(bad), "--out",
                        str(tmp_path), "--quiet"], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert str(bad) in r.stderr and "corrupt" in r.stderr
    assert bad.read_bytes() == before


def test_truncated_resume_file(tmp_path):
    out = tmp_path / "r"
    assert run_cli("edges", "--minutes", "0.2", "--out", str(out), "--no-plot") == 0
    data = (out / "population.npz").read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    r = subprocess.run([sys.executable, "-m", "neuroevo.cli", "run", "edges", "--resume", str(cut), "--quiet",
                        "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert r.returncode == 2 and "cut.npz" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    for flag in ("--seed", "--minutes", "--agents", "--out", "--set", "--resume"):
        assert flag in text


def test_readme_lists_every_set_key():
    from neuroevo.config import all_keys

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [k for k in all_keys() if f"`{k}`" not in readme]
    assert not missing, f"README lacks --set keys: {missing}"
