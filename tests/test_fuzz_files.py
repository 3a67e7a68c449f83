"""Files are data: population files, replay chunks, replay meta.json and sweep specs, mutated at random (hypothesis),
either load or are refused with one line naming the file; never a crash, a traceback or a foreign exception.

The default run tries a few hundred examples in all (about half a minute); NEUROEVO_FUZZ_SCALE=20 runs twenty times
as many of each (about ten minutes).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuroevo.cli import main

SCALE = max(1, int(os.environ.get("NEUROEVO_FUZZ_SCALE", "1")))  # more examples of each, e.g. 20
FAST = settings(max_examples=50 * SCALE, deadline=None, database=None, derandomize=SCALE == 1,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SPECIAL = [0, 1, -1, 2, 255, 2**31, 2**62, -(2**63), 0.5, 1e12, 1e30, 3.4e38, 1e308, -1e308, math.nan, math.inf,
           -math.inf]
DTYPES = [np.bool_, np.int8, np.uint8, np.uint16, np.int32, np.int64, np.float16, np.float32, np.float64]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12)
    | st.sampled_from(["../x", "/etc/passwd", "cursor", "PCG64", "", "nan"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8)


def paths(obj, prefix=(), depth=0):
    """Every key path into a JSON object (dict keys and list indices), to depth 4."""
    out = [prefix] if prefix else []
    if depth >= 4:
        return out
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += paths(v, (*prefix, k), depth + 1)
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:3]):
            out += paths(v, (*prefix, i), depth + 1)
    return out


def mutate_json(obj, data) -> None:
    """Set or delete one value somewhere inside obj (a dict)."""
    where = data.draw(st.sampled_from(paths(obj)))
    parent = obj
    for k in where[:-1]:
        parent = parent[k]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = data.draw(json_values)


def mutate_arrays(z: dict[str, np.ndarray], data) -> None:
    """One change to one array: a value poked, the array replaced, cut, recast or dropped."""
    keys = sorted(k for k in z if k != "meta")
    key = data.draw(st.sampled_from(keys))
    a = z[key]
    kind = data.draw(st.sampled_from(["poke", "poke", "poke", "replace", "cut", "cast", "drop"]))
    if kind == "poke" and a.size:
        a = a.copy()
        i = data.draw(st.integers(0, a.size - 1))
        with np.errstate(all="ignore"), _quiet():
            try:
                a.flat[i] = np.array(data.draw(st.sampled_from(SPECIAL))).astype(a.dtype)
            except (OverflowError, ValueError):
                a.flat[i] = -1 if a.dtype.kind in "iu" else 0
        z[key] = a
    elif kind == "replace":
        shape = tuple(data.draw(st.lists(st.integers(0, 6), max_size=3)))
        dtype = data.draw(st.sampled_from(DTYPES))
        z[key] = np.zeros(shape, dtype) + np.array(data.draw(st.sampled_from([0, 1, -1, 7]))).astype(dtype)
    elif kind == "cut" and a.ndim:
        z[key] = a[: data.draw(st.integers(0, max(0, a.shape[0] - 1)))]
    elif kind == "cast":
        with np.errstate(all="ignore"), _quiet():
            z[key] = a.astype(data.draw(st.sampled_from(DTYPES)))
    elif kind == "drop":
        del z[key]


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def corrupt_bytes(path: Path, data) -> None:
    """Truncate a file, or overwrite a few of its bytes."""
    raw = bytearray(path.read_bytes())
    if data.draw(st.booleans()):
        path.write_bytes(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
        return
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path.write_bytes(bytes(raw))


def npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def one_line_naming(e: Exception, path: Path) -> None:
    text = str(e)
    assert "\n" not in text and str(path) in text, text


# ---- population files -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pop(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pop") / "c"
    assert main(["run", "cursor", "--minutes", "0.2", "--agents", "12", "--out", str(out), "--quiet",
                 "--no-plot", "--set", "evolution.hof_size=3"]) == 0
    return out / "population.npz"


def check_population(pop: Path, data) -> None:
    from neuroevo.checkpoint import CheckpointError
    from neuroevo.scenario import load_scenario
    from neuroevo.sim import Simulation

    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "p.npz"
        z = npz(pop)
        how = data.draw(st.sampled_from(["arrays", "arrays", "meta", "meta", "bytes"]))
        if how == "arrays":
            mutate_arrays(z, data)
        elif how == "meta":
            meta = json.loads(str(z["meta"]))
            mutate_json(meta, data)
            z["meta"] = np.array(json.dumps(meta))
        np.savez(f, **z)
        if how == "bytes":
            corrupt_bytes(f, data)
        try:
            sim, _ = Simulation.load(f, hooks=load_scenario("cursor")())
        except CheckpointError as e:
            one_line_naming(e, f)
            return
        sim.run(3)  # what loads must run
        assert np.all(np.isfinite(sim.state.pos))


@FAST
@given(data=st.data())
def test_population_files(pop, data):
    check_population(pop, data)



@settings(FAST, max_examples=20 * SCALE,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_population_files_through_the_cli(pop, data, capsys):  # capsys is read (and so emptied) every example
    """The same through `neuroevo run --resume`: exit 0, or exit 2 with one line."""
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "p.npz"
        z = npz(pop)
        if data.draw(st.booleans()):
            mutate_arrays(z, data)
        else:
            meta = json.loads(str(z["meta"]))
            mutate_json(meta, data)
            z["meta"] = np.array(json.dumps(meta))
        np.savez(f, **z)
        rc = main(["run", "cursor", "--resume", str(f), "--minutes", "0.002", "--out", str(Path(tmp) / "o"),
                   "--quiet", "--no-plot"])
        err = capsys.readouterr().err
        assert (rc, err) == (0, "") or (rc == 2 and err.count("\n") == 1 and "Traceback" not in err), (rc, err)


# ---- replays ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rec(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rec") / "r"
    assert main(["run", "cursor", "--minutes", "0.2", "--agents", "12", "--out", str(out), "--quiet", "--no-plot",
                 "--record"]) == 0
    return out / "replay"


def check_replay(rec: Path, data) -> None:
    from neuroevo import replay

    with tempfile.TemporaryDirectory() as tmp:
        r = Path(tmp) / "r"
        shutil.copytree(rec, r)
        chunks = sorted(r.glob("chunk-*.npz"))
        how = data.draw(st.sampled_from(["chunk", "chunk", "chunk", "meta", "meta", "bytes"]))
        if how == "meta":
            meta = json.loads((r / "meta.json").read_text())
            mutate_json(meta, data)
            (r / "meta.json").write_text(json.dumps(meta))
            named = r / "meta.json"
        else:
            named = data.draw(st.sampled_from(chunks))
            if how == "chunk":
                z = npz(named)
                mutate_arrays(z, data)
                np.savez_compressed(named, **z)
            else:
                corrupt_bytes(named, data)
        try:
            rp = replay.open(r)
            for i in {0, len(rp) - 1, data.draw(st.integers(0, len(rp) - 1))}:
                rp.frame(i)
                replay.playback_state(rp, i)
                rp.slots_at(i)
        except replay.ReplayError as e:
            assert "\n" not in str(e) and (str(named) in str(e) or str(r) in str(e)), str(e)


@FAST
@given(data=st.data())
def test_replays(rec, data):
    check_replay(rec, data)



# ---- sweep specs --------------------------------------------------------------------------------------------------
def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v)


scalars = (st.integers(-5, 2**64) | st.floats() | st.booleans() | st.text(max_size=10)
           | st.sampled_from(["edges", "cursor", "mnist", "run", "../x.py", "/tmp", "..", "a/b", "ga", "es",
                              "backprop", "16,8", "relu", "0.1", "quiet_minute", "test_accuracy"]))
values = scalars | st.lists(scalars, max_size=5)
FIELDS = ["name", "command", "scenario", "minutes", "seeds", "metrics", "agents", "budget_forwards", "activation",
          "val", "data", "junk"]
GRID_KEYS = ["sigma", "evolution.sigma", "encoding", "brain.hidden", "hidden", "method", "agents", "nosuch", "dt",
             "width", "mutation_rate"]


def check_spec(data) -> None:
    from neuroevo.sweep import SweepError, load_spec

    fields = data.draw(st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))
    grid = data.draw(st.dictionaries(st.sampled_from(GRID_KEYS), st.lists(scalars, max_size=4), max_size=3))
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in fields.items())
    if grid or data.draw(st.booleans()):
        text += "[grid]\n" + "".join(f'"{k}" = {toml_value(v)}\n' for k, v in grid.items())
    if data.draw(st.integers(0, 9)) == 0:  # now and then, plain damage
        i = data.draw(st.integers(0, len(text)))
        text = text[:i] + data.draw(st.sampled_from(["[", "=", "\"", "\n[grid]\n", "\x00"])) + text[i:]
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "spec.toml"
        p.write_text(text)
        try:
            spec = load_spec(p)
        except SweepError as e:
            one_line_naming(e, p)
            return
        from neuroevo.io import safe_name

        assert safe_name(spec.name)
        for t in spec.tasks():
            assert "/" not in t.folder and t.folder not in (".", "..") and not t.folder.startswith(".")
        folders = [(t.folder, t.seed) for t in spec.tasks()]
        assert len(folders) == len(set(folders))


@settings(FAST, max_examples=200 * SCALE)
@given(data=st.data())
def test_sweep_specs(data):
    check_spec(data)



def test_zip_members_that_are_not_arrays(pop, tmp_path):
    """An .npz holding a pickled object or a non-.npy member is refused, never unpickled."""
    from neuroevo.checkpoint import CheckpointError, read

    bad = tmp_path / "obj.npz"
    shutil.copy(pop, bad)
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr("evil.pkl", b"\x80\x04K\x01.")
    with pytest.raises(CheckpointError, match="not an .npy array"):
        read(bad)
    bad2 = tmp_path / "obj2.npz"
    z = npz(pop)
    np.savez(bad2, **z, extra=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="object arrays"):
        read(bad2)
