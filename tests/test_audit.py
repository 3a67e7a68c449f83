"""The reliability audit's cases (docs of findings F1-F23): hostile or careless input ends with exit 0 or one clean
line and exit 2 (130 after Ctrl-C, with its documented line), never a traceback, a crash or lost data.

Most cases run in this process through cli.main; those that need a real signal or a killed process run the CLI in a
subprocess. Cases that take more than a few seconds are marked slow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from neuroevo.cli import main

PY = [sys.executable, "-m", "neuroevo.cli"]


def cli(capsys, *argv: str) -> tuple[int, list[str]]:
    """Run the CLI in this process: (exit code, stderr lines). argparse errors (SystemExit) count as exits."""
    try:
        rc = main(list(argv))
    except SystemExit as e:
        rc = int(e.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return rc, [ln for ln in err.splitlines() if ln.strip()]


def one_line_error(rc: int, lines: list[str], *needles: str) -> str:
    assert rc == 2, lines
    assert len(lines) == 1, lines
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def sub(*argv: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*PY, *argv], capture_output=True, text=True, timeout=timeout, **kw)


def npz_dict(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def craft(src: Path, dst: Path, meta=None, **arrays) -> Path:
    """A copy of a population file with some arrays replaced and its meta changed by meta(dict)."""
    z = npz_dict(src)
    z.update(arrays)
    if meta is not None:
        m = json.loads(str(z["meta"]))
        meta(m)
        z["meta"] = np.array(json.dumps(m))
    np.savez(dst, **z)
    return dst


@pytest.fixture(scope="module")
def pop(tmp_path_factory) -> Path:
    """A cursor population (20 agents, 0.2 simulated minutes)."""
    out = tmp_path_factory.mktemp("pop") / "c"
    assert main(["run", "cursor", "--minutes", "0.2", "--agents", "20", "--out", str(out), "--quiet",
                 "--no-plot"]) == 0
    return out / "population.npz"


@pytest.fixture(scope="module")
def rec(tmp_path_factory) -> Path:
    """A recorded cursor run (20 agents, 10 simulated minutes: five chunks of 2 minutes, the chunks small
    populations wrote before they grew to 5 minutes)."""
    from conftest import two_minute_chunks

    out = tmp_path_factory.mktemp("rec") / "r"
    with pytest.MonkeyPatch.context() as mp:
        two_minute_chunks(mp)
        assert main(["run", "cursor", "--minutes", "10", "--agents", "20", "--out", str(out), "--quiet",
                     "--no-plot", "--record"]) == 0
    return out / "replay"


def resume(capsys, path: Path, out: Path, *more: str) -> tuple[int, list[str]]:
    return cli(capsys, "run", "cursor", "--resume", str(path), "--minutes", "0.05", "--out", str(out), "--quiet",
               "--no-plot", *more)


# ---- F1: indices inside a population file ---------------------------------------------------------------------
@pytest.mark.parametrize("target", [1e12, 50, 20, 4000, -2, 0.5, np.nan])
def test_f1_hunter_target_out_of_range_is_refused(capsys, pop, tmp_path, target):
    cursor = npz_dict(pop)["state_cursor"].copy()
    cursor[7] = target
    bad = craft(pop, tmp_path / "evil.npz", state_cursor=cursor)
    one_line_error(*resume(capsys, bad, tmp_path / "b"), "evil.npz", "state_cursor")
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


@pytest.mark.parametrize("key,index,value,needle", [
    ("state_cause", 3, 99, "cause"),
    ("state_team", 0, 5, "team"),
    ("state_pos", (2, 0), 1e30, "pos"),
    ("state_speed", 1, np.inf, "speed"),
    ("state_counters", 1, -5, "counters"),
    ("state_genome_id", 4, 10**15, "genome id"),
    ("hof_fit", None, None, "hof"),
])
def test_f1_other_indices_and_ranges_are_refused(capsys, pop, tmp_path, key, index, value, needle):
    z = npz_dict(pop)
    if index is None:  # an array of the wrong size
        a = np.zeros(7, np.float64)
    else:
        a = z[key].copy()
        a[index] = value
    bad = craft(pop, tmp_path / "evil.npz", **{key: a})
    one_line_error(*resume(capsys, bad, tmp_path / "b"), "evil.npz")


def test_f1_live_load_refuses_a_bad_target(capsys, pop, tmp_path):
    cursor = npz_dict(pop)["state_cursor"].copy()
    cursor[7] = 1e12
    bad = craft(pop, tmp_path / "evil.npz", state_cursor=cursor)
    one_line_error(*cli(capsys, "live", "cursor", "--load", str(bad), "--out", str(tmp_path / "o")), "state_cursor")


# ---- F2: a replay never makes neuroevo import a file it names -----------------------------------------------------
def test_f2_resimulate_does_not_import_a_path_from_meta(rec, tmp_path, monkeypatch):
    import shutil

    from neuroevo import replay

    r = tmp_path / "r"
    shutil.copytree(rec, r)
    evil = r / "evil.py"
    evil.write_text(f"open({str(tmp_path / 'PWNED')!r}, 'w').write('x')\nfrom neuroevo.scenario import Scenario\n"
                    "class E(Scenario):\n    pass\n")
    meta = json.loads((r / "meta.json").read_text())
    for name in (str(evil), "../../evil", "r/evil.py"):  # a path: refused when the replay is opened
        meta["scenario"] = name
        (r / "meta.json").write_text(json.dumps(meta))
        with pytest.raises(replay.ReplayError, match="plain name"):
            next(replay.resimulate(replay.open(r)))
    # a plain name that does not ship with neuroevo is looked up nowhere else (not in ./scenarios/ either): the
    # recording (which has no hooks) is re-simulated with the base rules
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    shutil.copy(evil, tmp_path / "scenarios" / "evil.py")
    for name in ("evil", "evil.py"):
        meta["scenario"] = name
        (r / "meta.json").write_text(json.dumps(meta))
        frame, sim = next(replay.resimulate(replay.open(r)))
        assert frame.index == 0 and sim.scenario == name
    assert not (tmp_path / "PWNED").exists()


# ---- F3: resume equals an uninterrupted run, per-minute rows included --------------------------------------------
def _same_run(a: Path, b: Path) -> None:
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
    assert ma["per_minute"] == mb["per_minute"]
    ga, gb = (npz_dict(d / "population.npz") for d in (a, b))
    for k in ga:
        if k != "meta":
            assert np.array_equal(ga[k], gb[k]), k


@pytest.fixture(scope="module")
def whole3(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "u"
    assert main(["run", "cursor", "--minutes", "3", "--agents", "30", "--out", str(out), "--quiet", "--no-plot"]) == 0
    return out


@pytest.mark.parametrize("first,ckpt", [("1.5", "5"), ("1.4", "0.7")])
def test_f3_resume_from_an_off_minute_save_equals_an_uninterrupted_run(capsys, tmp_path, whole3, first, ckpt):
    p = tmp_path / "p"
    common = ["cursor", "--agents", "30", "--quiet", "--no-plot", "--checkpoint-minutes", ckpt]
    assert cli(capsys, "run", *common, "--minutes", first, "--out", str(p))[0] == 0
    rest = f"{3 - float(first):.10g}"
    assert cli(capsys, "run", "cursor", "--resume", str(p / "population.npz"), "--minutes", rest, "--out", str(p),
               "--quiet", "--no-plot")[0] == 0
    _same_run(p, whole3)


INTERRUPTING = """
import os, signal
from neuroevo.scenario import Scenario

class Cursor(Scenario):
    '''The cursor scenario, whose hook presses Ctrl-C once at step 3960 when asked to.'''
    name = "cursor"
    cursor = {"source": "hunter", "speed": 250.0, "reaction_s": 0.2, "kill_radius": 22.0}

    def on_step(self, sim, step):
        if step == 3960 and os.environ.get("NEUROEVO_TEST_SIGINT"):
            os.kill(os.getpid(), signal.SIGINT)
"""


@pytest.fixture(scope="module")
def compiled_cli(tmp_path_factory):
    """The recorded run's kernels compiled (or loaded from the cache) before a test times a Ctrl-C: a cold compile
    in the child would otherwise eat the test's deadline."""
    out = tmp_path_factory.mktemp("warm") / "run"
    subprocess.run([*PY, "run", "cursor", "--minutes", "0.05", "--record", "--out", str(out), "--quiet"],
                   capture_output=True, timeout=1800)


def test_f3_f6_ctrl_c_mid_run_writes_everything_and_resumes_to_the_same_run(capsys, tmp_path, monkeypatch,
                                                                           compiled_cli):
    """Ctrl-C lands inside sim.run (from a hook, at a known step): the run stops at the next chunk boundary, writes
    everything, exits 130 with its line, and the resumed run equals one that never stopped."""
    scen = tmp_path / "cursor.py"
    scen.write_text(INTERRUPTING)
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    common = [str(scen), "--agents", "20", "--quiet", "--no-plot", "--minutes", "1.5"]
    assert cli(capsys, "run", *common, "--out", str(whole))[0] == 0
    monkeypatch.setenv("NEUROEVO_TEST_SIGINT", "1")
    rc, lines = cli(capsys, "run", *common, "--record", "--out", str(cut))
    assert rc == 130 and len(lines) == 1 and "interrupted at" in lines[0] and "--resume" in lines[0], lines
    step = int(npz_dict(cut / "population.npz")["state_counters"][0])
    assert 3960 < step < 5400
    meta = json.loads((cut / "replay" / "meta.json").read_text())
    assert meta["complete"] and meta["frames"] == step + 1  # the recording was closed, up to the last step
    assert (cut / "metrics.json").exists() and (cut / "learning.png").exists() is False  # --no-plot
    monkeypatch.delenv("NEUROEVO_TEST_SIGINT")
    rest = f"{(5400 - step) / 3600:.12g}"
    assert cli(capsys, "run", str(scen), "--resume", str(cut / "population.npz"), "--minutes", rest, "--out",
               str(cut), "--quiet", "--no-plot")[0] == 0
    _same_run(cut, whole)


def _interrupt(argv: list[str], ready, timeout: float = 240) -> subprocess.CompletedProcess:
    """Start the CLI, wait until ready() holds, send SIGINT; the finished process."""
    p = subprocess.Popen([*PY, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    while not ready() and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=timeout)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def test_f6_real_ctrl_c_while_recording(tmp_path, compiled_cli):
    out = tmp_path / "ci"
    r = _interrupt(["run", "cursor", "--minutes", "200", "--record", "--out", str(out), "--quiet"],
                   lambda: (out / "replay" / "chunk-000001.npz").exists())
    assert r.returncode == 130, r.stderr
    assert r.stderr.count("\n") == 1 and "interrupted at" in r.stderr and "Traceback" not in r.stderr
    assert (out / "metrics.json").exists() and (out / "metrics.csv").exists()
    meta = json.loads((out / "replay" / "meta.json").read_text())
    assert meta["complete"]
    from neuroevo import replay

    assert len(replay.open(out / "replay")) == meta["frames"]


@pytest.mark.slow
def test_f6_ctrl_c_many_times_never_crashes(tmp_path, compiled_cli):
    """The audit's loop: Ctrl-C at varied moments of a recorded run, and twice in quick succession."""
    for i in range(6):
        out = tmp_path / f"ci{i}"
        p = subprocess.Popen([*PY, "run", "cursor", "--minutes", "200", "--record", "--out", str(out), "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while not (out / "replay" / "chunk-000000.npz").exists() and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.07 * i)
        p.send_signal(signal.SIGINT)
        if i % 2:
            time.sleep(0.01 * i)
            p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        assert p.returncode == 130, (i, err)
        assert "Traceback" not in err and (out / "metrics.json").exists(), (i, err)
        assert json.loads((out / "replay" / "meta.json").read_text())["complete"]


# ---- F4: output folders are never silently reused --------------------------------------------------------------
def test_f4_rerunning_the_same_command_keeps_the_earlier_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["run", "edges", "--agents", "20", "--quiet", "--no-plot"]
    assert cli(capsys, *args, "--minutes", "0.3")[0] == 0
    first = (tmp_path / "replays/edges-1/population.npz").read_bytes()
    rc, lines = cli(capsys, *args, "--minutes", "0.2")
    assert rc == 0 and lines == ["neuroevo run: replays/edges-1 holds an earlier run; writing to replays/edges-1-2/"]
    assert (tmp_path / "replays/edges-1/population.npz").read_bytes() == first
    assert json.loads((tmp_path / "replays/edges-1-2/metrics.json").read_text())["sim_minutes"] == 0.2
    assert cli(capsys, *args, "--minutes", "0.2", "--out", "replays/edges-1")[1][0].endswith("edges-1-3/")


def test_f4_resume_continues_in_its_own_folder(capsys, tmp_path):
    out = tmp_path / "r"
    assert cli(capsys, "run", "edges", "--agents", "20", "--minutes", "0.2", "--out", str(out), "--quiet")[0] == 0
    rc, lines = cli(capsys, "run", "edges", "--resume", str(out / "population.npz"), "--minutes", "0.2", "--out",
                    str(out), "--quiet", "--no-plot")
    assert rc == 0 and lines == []
    assert json.loads((out / "metrics.json").read_text())["sim_minutes"] == 0.4


@pytest.mark.parametrize("cmd", [["run", "edges"], ["live"], ["sweep", "x.toml"]])
def test_f4_empty_out_is_refused(capsys, cmd):
    one_line_error(*cli(capsys, *cmd, "--out", ""), "--out", "empty")


def test_f4_out_that_is_a_file_is_refused(capsys, tmp_path):
    f = tmp_path / "afile"
    f.write_text("keep me")
    one_line_error(*cli(capsys, "run", "edges", "--minutes", "0.1", "--out", str(f), "--quiet"), "not a folder")
    assert f.read_text() == "keep me"


def test_f4_a_sweep_of_another_scenario_goes_to_a_new_folder(capsys, tmp_path):
    out = tmp_path / "s"
    for scen in ("edges", "cursor"):
        (tmp_path / f"{scen}.toml").write_text(f'scenario = "{scen}"\nminutes = 0.1\nseeds = 1\nagents = 10\n'
                                               'metrics = ["mean_lifetime_end_s"]\n')
    assert cli(capsys, "sweep", str(tmp_path / "edges.toml"), "--engine", "serial", "--out", str(out),
               "--quiet")[0] == 0
    kept = (out / "defaults/seed-1/result.json").read_bytes()
    rc, lines = cli(capsys, "sweep", str(tmp_path / "cursor.toml"), "--engine", "serial", "--out", str(out),
                    "--quiet")
    assert rc == 0 and lines == [f"neuroevo sweep: {out} holds another sweep; writing to {out}-2/"]
    assert (out / "defaults/seed-1/result.json").read_bytes() == kept
    assert json.loads((tmp_path / "s-2/defaults/seed-1/result.json").read_text())["scenario"] == "cursor"
    # the same spec again resumes in its own folder, running nothing
    rc, lines = cli(capsys, "sweep", str(tmp_path / "edges.toml"), "--engine", "serial", "--out", str(out),
                    "--quiet")
    assert rc == 0 and lines == [] and (out / "defaults/seed-1/result.json").read_bytes() == kept


# ---- F5: names from a population file are never paths -----------------------------------------------------------
@pytest.mark.parametrize("name", ["/../edges", "../../../X", "a/b", ".hidden", "x\\y"])
def test_f5_live_load_refuses_a_scenario_name_that_is_a_path(capsys, pop, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    bad = craft(pop, tmp_path / "trav.npz", meta=lambda m: m.update(scenario=name, seed=1))
    one_line_error(*cli(capsys, "live", "--load", str(bad)), "trav.npz", "plain name")
    one_line_error(*cli(capsys, "live", "cursor", "--load", str(bad)), "trav.npz")
    assert not (tmp_path / "replays").exists()


def test_f5_f22_live_load_of_another_scenarios_file(capsys, pop, tmp_path):
    one_line_error(*cli(capsys, "live", "edges", "--load", str(pop), "--out", str(tmp_path / "o")),
                   "saved by scenario 'cursor', not 'edges'")
    other = craft(pop, tmp_path / "mine.npz", meta=lambda m: m.update(scenario="my_own"))
    one_line_error(*cli(capsys, "live", "--load", str(other)), "does not ship with neuroevo", "my_own.py")


# ---- F7: Ray ---------------------------------------------------------------------------------------------------
def test_f7_ray_extra_requires_token_authentication():
    from neuroevo.sweep_run import ray_version_ok

    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"ray>=2.52"' in text and '"ray>=2.9"' not in text
    assert ray_version_ok("2.52.0") and ray_version_ok("2.60.1") and ray_version_ok("3.0.0.dev0")
    assert not ray_version_ok("2.51.9") and not ray_version_ok("2.9.3")


def test_f22_unreachable_ray_address_fails_fast(capsys, tmp_path):
    pytest.importorskip("ray")
    spec = tmp_path / "s.toml"
    spec.write_text('scenario = "edges"\nminutes = 0.1\nseeds = 1\nagents = 10\n')
    t = time.time()
    rc, lines = cli(capsys, "sweep", str(spec), "--engine", "ray", "--address", "127.0.0.1:1", "--out",
                    str(tmp_path / "o"), "--quiet")
    one_line_error(rc, lines, "127.0.0.1:1", "no Ray cluster")
    assert time.time() - t < 30


@pytest.mark.slow
def test_f7_local_ray_listens_on_loopback_only(tmp_path):
    pytest.importorskip("ray")
    import shutil

    if shutil.which("ss") is None:
        pytest.skip("needs ss")
    spec = tmp_path / "s.toml"
    spec.write_text('scenario = "edges"\nminutes = 3\nseeds = 2\nagents = 200\n')
    p = subprocess.Popen([*PY, "sweep", str(spec), "--engine", "ray", "--jobs", "1", "--out", str(tmp_path / "o"),
                          "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline and p.poll() is None:
            rows = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout.splitlines()
            seen = [r for r in rows if any(k in r for k in ('"gcs_server"', '"raylet"', '"ray::'))
                    or f"pid={p.pid}," in r]
            if any('"raylet"' in r for r in seen):
                break
            time.sleep(0.5)
    finally:
        p.wait(timeout=300)
    assert seen, "no Ray sockets seen"
    for r in seen:
        local = r.split()[3]
        assert local.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:", "[::1]:")), r


# ---- F8: writability first; a full disk mid-run -------------------------------------------------------------------
@pytest.fixture
def mount_tmpfs(tmp_path):
    """mount(options) -> a folder on a fresh tmpfs (needs root; skipped elsewhere)."""
    mounted = []

    def mount(options: str) -> Path:
        d = tmp_path / f"m{len(mounted)}"
        d.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(d)], capture_output=True)
        if r.returncode != 0:
            pytest.skip("cannot mount a tmpfs here (needs root)")
        mounted.append(d)
        return d

    yield mount
    for d in mounted:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def test_f8_read_only_output_fails_before_the_run(capsys, mount_tmpfs):
    ro = mount_tmpfs("ro,size=1m")
    t = time.time()
    one_line_error(*cli(capsys, "run", "edges", "--minutes", "30", "--out", str(ro), "--quiet"), str(ro),
                   "cannot write")
    one_line_error(*cli(capsys, "run", "edges", "--minutes", "30", "--out", str(ro / "sub"), "--quiet"), "sub")
    assert time.time() - t < 30  # refused up front, not after 30 simulated minutes


def test_f8_full_disk_mid_run_keeps_the_last_checkpoint(capsys, mount_tmpfs, short_chunks):
    d = mount_tmpfs("size=300k")
    out = d / "full"
    rc, lines = cli(capsys, "run", "cursor", "--agents", "10", "--minutes", "30", "--checkpoint-minutes", "0.1",
                    "--record", "--out", str(out), "--quiet", "--no-plot")
    line = one_line_error(rc, lines, "No space left", "stopped at")
    assert "last checkpoint" in line
    from neuroevo.checkpoint import read

    read(out / "population.npz")  # the last good checkpoint loads
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # no temp left behind
    from neuroevo import replay

    r = replay.open(out / "replay")  # every chunk that was written plays
    assert len(r) > 0 and not r.meta.get("complete")


def test_f8_failed_write_mid_run_without_a_mount(capsys, tmp_path, monkeypatch, short_chunks):
    """The same with a write that fails on the 5th replay chunk (no tmpfs needed)."""
    import errno

    from neuroevo import recorder, replay

    real, calls = recorder.write_bytes, []

    def failing(path, data):
        calls.append(path)
        if len(calls) >= 5:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(recorder, "write_bytes", failing)
    out = tmp_path / "o"
    rc, lines = cli(capsys, "run", "cursor", "--agents", "20", "--minutes", "12", "--checkpoint-minutes", "0.1",
                    "--record", "--out", str(out), "--quiet", "--no-plot")
    one_line_error(rc, lines, "chunk-000004.npz", "No space left", "last checkpoint", "metrics so far")
    r = replay.open(out / "replay")
    assert len(r) == 4 * r.meta["chunk_frames"]
    assert (out / "metrics.json").exists()


# ---- F10 / F21 / F23: scenario code -------------------------------------------------------------------------------
def scenario_file(tmp_path: Path, body: str, name: str = "s.py") -> Path:
    p = tmp_path / name
    p.write_text("import sys, time\nfrom neuroevo.scenario import Scenario\n\n\nclass S(Scenario):\n" + body)
    return p


@pytest.mark.parametrize("body,needle", [
    ("    def on_step(self, sim, step):\n        while True:\n            pass\n", "ran longer than 0.5 s"),
    ("    def fitness(self, sim):\n        while True:\n            try:\n                time.sleep(1)\n"
     "            except Exception:\n                pass\n", "fitness() ran longer"),
    ("    hook_every = 10**9\n\n    def on_step(self, sim, step):\n        pass\n", "hook_every"),
    ("    hazard = {'icons': 3}\n", "did you mean 'hazards'"),
    ("    sensor = ('edges', 'self')\n", "did you mean 'sensors'"),
    ("    def extra_death(self, sim):\n        pass\n", "did you mean 'extra_deaths'"),
    ("    def on_step(self, sim, step):\n        sys.exit(0)\n", "SystemExit"),
])
def test_f10_f21_scenario_mistakes_are_one_line(capsys, tmp_path, body, needle):
    scen = scenario_file(tmp_path, body)
    t = time.time()
    one_line_error(*cli(capsys, "run", str(scen), "--minutes", "0.5", "--out", str(tmp_path / "o"), "--quiet",
                        "--hook-seconds", "0.5"), "s.py", needle)
    assert time.time() - t < 60


def test_f10_a_loop_at_import_stops(capsys, tmp_path):
    scen = tmp_path / "loop.py"
    scen.write_text("while True:\n    pass\n")
    one_line_error(*cli(capsys, "run", str(scen), "--hook-seconds", "0.5", "--out", str(tmp_path / "o")),
                   "loop.py", "importing it took longer")
    scen.write_text("import sys\nsys.exit(0)\n")
    one_line_error(*cli(capsys, "run", str(scen), "--out", str(tmp_path / "o")), "loop.py", "SystemExit")


@pytest.mark.parametrize("body,needle", [
    ("    def on_step(self, sim, step):\n        while step > 1000:\n            pass\n", "ran longer than 0.5 s"),
    ("    def on_step(self, sim, step):\n        if step > 1000:\n            raise RuntimeError('late')\n", "late"),
    ("    def on_step(self, sim, step):\n        if step > 1000:\n            sim.state.pos[0, 0] = float('nan')\n",
     "non-finite"),
])
def test_f10_f21_a_hook_failing_mid_run_keeps_what_was_done(capsys, tmp_path, body, needle):
    scen = scenario_file(tmp_path, body)
    out = tmp_path / "o"
    line = one_line_error(*cli(capsys, "run", str(scen), "--minutes", "2", "--checkpoint-minutes", "0.25",
                               "--out", str(out), "--quiet", "--no-plot", "--hook-seconds", "0.5"), needle)
    assert "last checkpoint" in line and "metrics so far" in line
    assert json.loads((out / "metrics.json").read_text())["per_minute"] == []  # stopped before minute 1
    from neuroevo.checkpoint import read

    read(out / "population.npz")  # what it kept can be resumed


def test_f23_extra_inputs_too_large_for_float32_is_one_line_without_warnings(capsys, tmp_path):
    scen = scenario_file(tmp_path, "    n_extra_inputs = 1\n\n    def extra_inputs(self, sim):\n"
                                   "        import numpy as np\n        return np.full((sim.state.n, 1), 1e300)\n")
    one_line_error(*cli(capsys, "run", str(scen), "--minutes", "0.1", "--out", str(tmp_path / "o"), "--quiet"),
                   "extra_inputs()")


def test_f10_f23_ctrl_c_during_the_scenario_check(tmp_path):
    scen = scenario_file(tmp_path, "    hook_every = 1\n\n    def on_step(self, sim, step):\n"
                                   "        time.sleep(0.05)\n")
    started = tmp_path / "started"
    scen.write_text(scen.read_text().replace("time.sleep(0.05)", f"time.sleep(0.05); open({str(started)!r}, 'w')"))
    r = _interrupt(["run", str(scen), "--out", str(tmp_path / "o"), "--quiet"], started.exists, timeout=120)
    assert r.returncode == 130 and r.stderr.strip() == "neuroevo run: interrupted", r.stderr


# ---- F11 / F12: sweeps and Ctrl-C / SIGKILL ----------------------------------------------------------------------
SLOW_SPEC = ('scenario = "cursor"\nminutes = 30\nseeds = 4\nagents = 200\n'
             '[grid]\n"brain.encoding" = ["inverse", "raw"]\n')


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid"], capture_output=True, text=True).stdout.split()[2:]
    return [int(a) for a, b in zip(out[::2], out[1::2]) if int(b) == pid]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_f11_ctrl_c_on_a_local_pool_sweep(tmp_path):
    spec = tmp_path / "k.toml"
    spec.write_text(SLOW_SPEC)
    out = tmp_path / "k"
    p = subprocess.Popen([*PY, "sweep", str(spec), "--jobs", "2", "--out", str(out), "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while len(_children(p.pid)) < 2 and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(3)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert err.strip() == f"neuroevo sweep: interrupted; finished runs are kept in {out}/ and skipped next time"


def test_f12_workers_end_when_the_sweep_driver_is_killed(tmp_path):
    spec = tmp_path / "k.toml"
    spec.write_text(SLOW_SPEC)
    p = subprocess.Popen([*PY, "sweep", str(spec), "--jobs", "2", "--out", str(tmp_path / "k2"), "--quiet"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    kids: list[int] = []
    while time.time() < deadline:
        kids = [k for k in _children(p.pid) if "spawn_main" in Path(f"/proc/{k}/cmdline").read_text()]
        if len(kids) >= 2:
            break
        time.sleep(0.1)
    time.sleep(2)
    p.kill()
    p.wait()
    deadline = time.time() + 20
    while any(_alive(k) for k in kids) and time.time() < deadline:
        time.sleep(0.2)
    assert kids and not any(_alive(k) for k in kids)


# ---- F13 / F18 / F19: sweep specs and results --------------------------------------------------------------------
@pytest.mark.parametrize("text,needle", [
    ('name = "../../../../escaped_sweep"', "name must be a plain name"),
    ('name = "/tmp/x"', "name must be a plain name"),
    ("seeds = [1, 1, 1]", "seed 1 is listed twice"),
    ("[grid]\nsigma = [0.1, 0.1]", "lists 0.1 and 0.1"),
    ('[grid]\nsigma = [0.1, "0.1"]', "the same setting"),
    ('[grid]\nsigma = [0.1]\n"evolution.sigma" = [0.2]', "sets evolution.sigma twice"),
    ("agents = 100000000", "world.agents"),  # refused by the setting's declared limit, before any estimate
    ('[grid]\n"brain.hidden" = ["1000000,1000000"]', "brain.hidden"),
])
def test_f13_f19_bad_specs_one_line(capsys, tmp_path, monkeypatch, text, needle):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "n.toml"
    spec.write_text('scenario = "edges"\nminutes = 1\n' + ("" if "seeds" in text else "seeds = 1\n") + text + "\n")
    one_line_error(*cli(capsys, "sweep", str(spec), "--engine", "serial", "--quiet"), "n.toml", needle)
    assert not (tmp_path / "replays").exists() and not (tmp_path.parent / "escaped_sweep").exists()


def test_f18_a_damaged_result_is_reported_and_run_again(capsys, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('scenario = "edges"\nminutes = 0.2\nseeds = 2\nagents = 10\nmetrics = ["mean_lifetime_end_s"]\n')
    out = tmp_path / "o"
    assert cli(capsys, "sweep", str(spec), "--engine", "serial", "--out", str(out), "--quiet")[0] == 0
    res = out / "defaults/seed-2/result.json"
    text = res.read_text()
    good = json.loads(text)
    for damage in ({"key": good["key"]}, {**good, "metrics": "x"}, {**good, "per_minute": [{"minute": "a"}]}):
        res.write_text(json.dumps(damage))
        rc, lines = cli(capsys, "sweep", str(spec), "--engine", "serial", "--out", str(out), "--quiet")
        assert rc == 0 and lines == [f"neuroevo sweep: {res}: damaged result; running it again"]
        assert res.read_text() == text
    res.write_text(text[: len(text) // 2])  # cut short
    rc, lines = cli(capsys, "sweep", str(spec), "--engine", "serial", "--out", str(out), "--quiet")
    assert rc == 0 and len(lines) == 1 and res.read_text() == text


# ---- F14 / F22 / F23: numbers and flags ------------------------------------------------------------------------
@pytest.mark.parametrize("argv,needle", [
    (["run", "edges", "--minutes", "1e308"], "--minutes"),
    (["run", "edges", "--checkpoint-minutes", "1e308"], "--checkpoint-minutes"),
    (["run", "edges", "--agents", "10000000"], "--agents"),
    (["run", "edges", "--seed", str(2**70)], "--seed"),
    (["replay", "x", "--to", "1e308"], "--to"),
    (["replay", "x", "--fps", "1000000000"], "--fps"),
    (["replay", "x", "--scale", "1000"], "--scale"),
    (["live", "--size", "99999999999x99999999999"], "--size"),
    (["sweep", "x.toml", "--jobs", "1000"], "--jobs"),
])
def test_f14_f22_f23_flag_bounds(capsys, argv, needle):
    one_line_error(*cli(capsys, *argv), needle)


@pytest.mark.parametrize("sets", [["evolution.hof_size=1000000000"], ["hidden=1000000,1000"], ["agents=90000000"]])
def test_f14_settings_beyond_memory_are_one_line(capsys, tmp_path, sets):
    argv = ["run", "edges", "--minutes", "0.1", "--out", str(tmp_path / "o"), "--quiet"]
    for s in sets:
        argv += ["--set", s]
    one_line_error(*cli(capsys, *argv))
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("s", ["reaction_s=1e308", "generation_s=1e308", "reaction_s=1e20", "width=1e308",
                               "dt=1e-300", "tournament_k=1e20", "max_turn=1e308", "sensors="])
def test_f14_f15_settings_the_step_cannot_take_are_one_line(capsys, tmp_path, s):
    one_line_error(*cli(capsys, "run", "edges", "--minutes", "0.05", "--out", str(tmp_path / "o"), "--quiet",
                        "--set", s))
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("s", ["width=5", "hidden=1000000", "reaction_s=1e308", "tournament_k=1e20", "dt=1e-300"])
def test_f22_settings_refused_by_their_declarations(capsys, tmp_path, s):
    one_line_error(*cli(capsys, "run", "edges", "--minutes", "0.05", "--out", str(tmp_path / "o"), "--quiet",
                        "--set", s))


def test_f22_export_onto_a_folder(capsys, rec, tmp_path):
    (tmp_path / "x.gif").mkdir()
    one_line_error(*cli(capsys, "replay", str(rec), "--export", str(tmp_path / "x.gif"), "--quiet"), "is a folder")


# ---- F16: population metadata -------------------------------------------------------------------------------------
@pytest.mark.parametrize("change,needle", [
    (lambda m: m.update(seed="abc"), "seed"),
    (lambda m: m.update(seed=-1), "seed"),
    (lambda m: m.pop("seed"), "seed"),
    (lambda m: m.pop("scenario"), "scenario"),
    (lambda m: m.update(extra=[1, 2]), "extra"),
    (lambda m: m["extra"].update(per_minute=[{"minute": 1}]), "per_minute"),
    (lambda m: m["extra"].update(per_minute=[{"minute": 1, "deaths": {"../x": 1}, "births": 0}]), "cause"),
    (lambda m: m["extra"].update(wall_seconds="soon"), "wall_seconds"),
    (lambda m: m["rng"].update(state="x"), "rng"),
    (lambda m: m["rng"]["state"].update(state=-1), "rng"),
    (lambda m: m["settings"]["world"].update(agents=10**9), "world.agents"),  # declared limits, before allocating
    (lambda m: m["settings"]["brain"].update(hidden=[10**8]), "brain.hidden"),
    (lambda m: m["settings"]["evolution"].update(hof_size=10**12), "hof"),
    (lambda m: m.update(format_version=[]), "format version"),
])
def test_f16_crafted_population_meta(capsys, pop, tmp_path, change, needle):
    bad = craft(pop, tmp_path / "s.npz", meta=change)
    t = time.time()
    one_line_error(*resume(capsys, bad, tmp_path / "b"), "s.npz", needle)
    assert time.time() - t < 30


def test_f16_two_million_icons_are_refused_quickly(capsys, pop, tmp_path):
    icons = np.tile(np.array([[10, 10, 20, 20]], np.float32), (2_000_000, 1))
    bad = craft(pop, tmp_path / "icons.npz", icons=icons)
    one_line_error(*resume(capsys, bad, tmp_path / "b"), "icons.npz", "icons")


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_f16_a_small_file_declaring_a_huge_array_is_not_inflated(capsys, pop, tmp_path):
    """A zip member whose .npy header declares 64 GB (the data behind it is a few bytes): refused from the header."""
    import zipfile

    z = npz_dict(pop)
    bad = tmp_path / "bomb.npz"
    np.savez(bad, **z)
    header = {"descr": "<f4", "fortran_order": False, "shape": (4_000_000_000, 4)}
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr("icons.npy", buf.getvalue() + b"\0" * 64)
    one_line_error(*resume(capsys, bad, tmp_path / "b"), "bomb.npz", "MB")


# ---- F17: replay chunks and meta ----------------------------------------------------------------------------------
def _copy_replay(rec: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(rec, dst)
    return dst


def _chunk_with(r: Path, k: int, **arrays) -> None:
    f = r / f"chunk-{k:06d}.npz"
    z = npz_dict(f)
    z.update(arrays)
    np.savez_compressed(f, **z)


@pytest.mark.parametrize("change", [
    lambda z: {"birth_genome": np.zeros((z["birth_genome"].shape[0], 3), np.float32)},
    lambda z: {"birth_slot": np.full_like(z["birth_slot"], 10**6)},
    lambda z: {"death_slot": np.full_like(z["death_slot"], -1)},
    lambda z: {"death_cause": np.full_like(z["death_cause"], 99)},
    lambda z: {"mean_age_d": z["mean_age_d"][:-3]},
    lambda z: {"mean_age_d": np.full_like(z["mean_age_d"], 2**40)},
    lambda z: {"mean_age_d": z["mean_age_d"].astype(np.float32)},
    lambda z: {"packed": z["packed"].astype(np.int64)},
    lambda z: {"packed": z["packed"][:-5]},
    lambda z: {"packed": np.append(z["packed"], np.uint8(0))},
    lambda z: {"packed": np.concatenate([z["packed"][:13], np.full(z["packed"].size - 13, 0xFF, np.uint8)])},
    lambda z: {"death_frame": z["death_frame"][::-1] + 10**9},
    lambda z: {"step_d": -z["step_d"]},
    lambda z: {"step_d": np.full_like(z["step_d"], 2**62)},
    lambda z: {"key_team": np.full_like(z["key_team"], -7)},
    lambda z: {"frame0": np.array(5, np.int64)},
    lambda z: {"packed": np.zeros((3, 3), np.uint8)},
    lambda z: {"genomes0": np.full((20, 242), np.nan, np.float32)},
])
def test_f17_crafted_chunks(capsys, rec, tmp_path, change):
    r = _copy_replay(rec, tmp_path / "r")
    # a chunk with births and deaths in it (so changing their slots or causes changes something)
    k = next(i for i in range(4) if npz_dict(r / f"chunk-{i:06d}.npz")["birth_slot"].size
             and npz_dict(r / f"chunk-{i:06d}.npz")["death_slot"].size)
    _chunk_with(r, k, **change(npz_dict(r / f"chunk-{k:06d}.npz")))
    meta = json.loads((r / "meta.json").read_text())
    start = k * meta["chunk_frames"] * meta["dt"]  # the export reads that chunk's frames
    one_line_error(*cli(capsys, "replay", str(r), "--export", str(tmp_path / "x.gif"), "--quiet", "--from",
                        str(start), "--to", str(start + 10)), f"chunk-{k:06d}.npz")
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("change", [
    lambda m: m.update(dt=0),
    lambda m: m.update(n_slots=10**9),
    lambda m: m.update(layout=[1, 2]),
    lambda m: m.update(chunk_frames=-1),
    lambda m: m.update(pos_step=float("inf")),
    lambda m: m["settings"]["world"].update(radius=1e9),
    lambda m: m["settings"]["world"].update(width=1e12),
    lambda m: m.update(scenario="../../x"),
    lambda m: m.update(settings_changes=[{"frame": "x"}]),
    lambda m: m.update(settings=[]),
])
def test_f17_crafted_meta(capsys, rec, tmp_path, change):
    r = _copy_replay(rec, tmp_path / "r")
    meta = json.loads((r / "meta.json").read_text())
    change(meta)
    (r / "meta.json").write_text(json.dumps(meta))
    one_line_error(*cli(capsys, "replay", str(r), "--export", str(tmp_path / "x.gif"), "--quiet"), "meta.json")


def test_f17_a_chunk_declaring_gigabytes_is_not_inflated(capsys, rec, tmp_path):
    import io
    import zipfile

    r = _copy_replay(rec, tmp_path / "r")
    f = r / "chunk-000001.npz"
    z = npz_dict(f)
    z.pop("packed")
    np.savez_compressed(f, **z)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|u1", "fortran_order": False, "shape": (6 * 10**9,)})
    with zipfile.ZipFile(f, "a") as zf:
        zf.writestr("packed.npy", buf.getvalue())
    one_line_error(*cli(capsys, "replay", str(r), "--export", str(tmp_path / "x.gif"), "--quiet"),
                   "chunk-000001.npz")


# ---- F23: orphan temps -----------------------------------------------------------------------------------------
def test_f23_orphan_temps_are_removed_at_the_next_start(capsys, pop, tmp_path):
    import shutil

    out = tmp_path / "o"
    out.mkdir()
    shutil.copy(pop, out / "population.npz")
    (out / "replay").mkdir()
    dead = 2**22 + 12345  # above pid_max on most systems: no such process
    orphans = [out / f".population.npz.{dead}.abc123.tmp", out / "replay" / f".chunk-000003.npz.{dead}.x1.tmp"]
    for o in orphans:
        o.write_bytes(b"half")
    mine = out / f".metrics.json.{os.getpid()}.live.tmp"  # a temp of a process still running stays
    mine.write_bytes(b"busy")
    assert resume(capsys, out / "population.npz", out)[0] == 0
    assert not any(o.exists() for o in orphans) and mine.exists()


# ---- the building blocks: held Ctrl-C, time limits, output folders ------------------------------------------------
def test_ctrl_c_is_held_until_the_outermost_stretch_ends():
    from neuroevo import guard

    reached = []
    with pytest.raises(KeyboardInterrupt):
        with guard.deferred():
            with guard.deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the handler has run: it only noted the Ctrl-C
                assert guard.pending()
                reached.append("inner")
            reached.append("outer")  # still held: the outer stretch finishes its work
    assert reached == ["inner", "outer"] and not guard.pending()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Python's handler is back
    with pytest.raises(KeyboardInterrupt):  # outside a stretch, Ctrl-C is immediate as usual
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)


def test_time_limit_stops_code_that_swallows_exceptions():
    from neuroevo import guard

    t = time.time()
    with pytest.raises(guard.TimeLimit):
        with guard.time_limit(0.2):
            while True:
                try:
                    time.sleep(10)
                except Exception:  # noqa: BLE001 - what a careless hook does
                    pass
    assert time.time() - t < 5 and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    with guard.time_limit(0.5):  # quick code is untouched
        sum(range(1000))


def test_output_folder_policy(tmp_path):
    from neuroevo.io import OutputError, fresh_output, prepare_output

    d = tmp_path / "run"
    assert prepare_output(d) == d and d.is_dir()  # a new folder, created
    (d / "notes.txt").write_text("mine")
    assert prepare_output(d) == d  # files neuroevo does not write do not make it "used"
    (d / "metrics.json").write_text("{}")
    assert fresh_output(d) == tmp_path / "run-2"
    assert fresh_output(d, continues=lambda f: f == d) == d
    (tmp_path / "run-2").mkdir()
    (tmp_path / "run-2" / "replay").mkdir()
    (tmp_path / "run-2" / "replay" / "meta.json").write_text("{}")
    assert prepare_output(d) == tmp_path / "run-3"
    for bad in ("", "  ", None):
        with pytest.raises(OutputError):
            prepare_output(bad)
