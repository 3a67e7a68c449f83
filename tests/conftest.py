import signal

import numpy as np
import pytest

from neuroevo.config import Settings, make_params, override

# Started in the background by a non-interactive shell (`pytest &`), the tests get SIGINT ignored, and the programs
# they start inherit that: the Ctrl-C tests would see no Ctrl-C at all. Python's own handler here gives them what a
# terminal gives (a handler, unlike an ignored signal, is reset to the default in the programs started).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def params():
    return make_params(Settings())


def small_settings(**kv):
    return override(Settings(), {"world.agents": 20, **kv})


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _as_version2(folder):
    """Rewrite a replay folder as format version 2 wrote it: the frames as one array each (positions as uint16
    second differences, headings as uint8 differences, alive flags as bits), not packed into one stream."""
    from pathlib import Path

    from neuroevo import replay as rp

    folder = Path(folder)
    r = rp.open(folder)
    for c, f in enumerate(r.files):
        d = r._chunk(c)
        with np.load(f, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "packed"}
        rp.undiffed(arrays)
        arrays["pos"] = rp.encode_positions(d["pos"], r.pos_step)
        arrays["heading"] = rp.encode_headings(d["heading"])
        arrays["alive"] = np.packbits(d["alive"], axis=1)
        arrays["cursor"], arrays["counters"] = d["cursor"], d["counters"]
        np.savez_compressed(f, **arrays)
    _set_format_version(folder, 2)


def _set_format_version(folder, version):
    """Say in a replay folder's meta.json that its chunks are of this format version."""
    import json

    meta = json.loads((folder / "meta.json").read_text())
    meta["format_version"] = version
    (folder / "meta.json").write_text(json.dumps(meta))


@pytest.fixture
def as_version2():
    return _as_version2


def _as_version3(folder):
    """Rewrite a replay folder as format version 3 wrote it: the step numbers and mean ages as they are (deflated),
    not as differences."""
    import zipfile
    from pathlib import Path

    from neuroevo import replay as rp
    from neuroevo.io import npz_bytes

    folder = Path(folder)
    for f in sorted(folder.glob("chunk-*.npz")):
        with np.load(f, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        rp.undiffed(arrays)
        f.write_bytes(npz_bytes(arrays, 1, {"step", "mean_age", "icons"}))
        with zipfile.ZipFile(f) as z:
            assert {"step.npy", "mean_age.npy"} <= set(z.namelist())
    _set_format_version(folder, 3)


@pytest.fixture
def as_version3():
    return _as_version3


def two_minute_chunks(mp):
    """Replay chunks of at most 2 simulated minutes (what small populations wrote until chunks grew to 5), for
    tests of what happens across several chunks of a short run; mp: a pytest.MonkeyPatch."""
    from neuroevo import recorder

    mp.setattr(recorder, "MAX_CHUNK_SECONDS", 120.0)
    mp.setattr(recorder, "CHUNK_AGENT_FRAMES", 360_000)


@pytest.fixture
def short_chunks(monkeypatch):
    two_minute_chunks(monkeypatch)
