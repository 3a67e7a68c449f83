"""A replay as one web page: what the file holds, and the page itself playing in a real (headless) Chromium."""

import base64
import io
import json
import re
import zlib

import numpy as np
import pytest

from neuroevo import replay as rp
from neuroevo import web
from neuroevo.cli import main
from neuroevo.lineage import FAMILY_TINTS

FPS = 15
WORLD_BG = (30, 33, 42)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A 40-second cursor recording and its page at 15 fps."""
    out = tmp_path_factory.mktemp("web")
    assert main(["run", "cursor", "--seed", "3", "--minutes", "0.67", "--agents", "30", "--record", "--quiet",
                 "--no-plot", "--out", str(out), "--set", "brain.init_bias=2"]) == 0  # founders of many flights
    html = out / "run.html"
    assert main(["replay", str(out / "replay"), "--export", str(html), "--fps", str(FPS), "--quiet"]) == 0
    return rp.open(out / "replay"), html


def embedded(html):
    text = html.read_text()
    meta = json.loads(re.search(r'<script type="application/json" id="neuroevo-meta">(.*?)</script>', text,
                                re.S).group(1))
    b64 = re.search(r'<script type="text/plain" id="neuroevo-data">(.*?)</script>', text, re.S).group(1)
    return text, meta, zlib.decompress(base64.b64decode(b64))


def section(meta, blob, name):
    off, size, dtype = meta["sections"][name]
    return np.frombuffer(blob, dtype=np.dtype(dtype).newbyteorder("<"), count=size, offset=off)


def undiff2(e):
    """(..., K) uint16 second differences (the first two entries are first differences) -> values mod 2^16."""
    e = e.astype(np.int64)
    d = e.copy()
    d[..., 2:] = e[..., 1:2] + np.cumsum(e[..., 2:], axis=-1)
    return np.cumsum(d, axis=-1) % 65536


def test_one_file_that_fetches_nothing(page):
    _, html = page
    text, meta, _ = embedded(html)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # no external script, style or image
    assert "fetch(" not in text and "XMLHttpRequest" not in text and "import(" not in text
    assert "default-src 'none'" in text  # and the page's own policy forbids loading anything
    assert meta["format"] == "neuroevo-web" and meta["scenario"] == "cursor" and meta["n"] == 30


def test_the_data_decode_to_the_replay(page):
    """Decoding the page's arrays as the player does gives the replay's frames (to half a pixel), who holds each
    slot, and every shown genome bit for bit."""
    r, html = page
    _, meta, blob = embedded(html)
    frames = web.export_frames(len(r), r.dt, 0.0, None, FPS)
    k, n = meta["frames"], meta["n"]
    assert k == frames.size and abs(k - (len(r) - 1) * r.dt * FPS) <= 2
    assert np.array_equal(np.cumsum(section(meta, blob, "frame").astype(np.int64)), frames - frames[0])
    pos = undiff2(section(meta, blob, "pos").reshape(n, 2, k)) / web.POS_UNITS  # (N, 2, K)
    alive = np.bitwise_xor.accumulate(section(meta, blob, "alive").reshape(n, k), axis=1)
    holder = np.bitwise_xor.accumulate(section(meta, blob, "holder").reshape(n, k), axis=1)
    ids = np.array(meta["genomes"]["id"])
    for j in (0, k // 3, k - 1):
        fr = r.frame(int(frames[j]))
        assert np.abs(pos[:, :, j] - fr.pos).max() <= 0.25 + 1e-3
        assert np.array_equal(alive[:, j].astype(bool), fr.alive)
        assert np.array_equal(ids[holder[:, j]], r.slots_at(int(frames[j]))[0])
    p = r.layout.n_params
    bits = section(meta, blob, "genomes").reshape(-1, p).copy()
    for g, pr in enumerate(meta["genomes"]["parent_row"]):
        if pr >= 0:
            assert pr < g
            bits[g] ^= bits[pr]
    for g, gid in enumerate(ids.tolist()):
        assert np.array_equal(bits[g].view(np.float32), r.genome(gid))
    assert sum(meta["genomes"]["parent_row"][g] >= 0 for g in range(ids.size)) > 0  # children stored as changes


def test_bad_input_gives_one_line(page, tmp_path):
    import shutil
    import subprocess
    import sys

    r, _ = page
    trunc = tmp_path / "trunc"
    shutil.copytree(r.path, trunc)
    last = sorted(trunc.glob("chunk-*.npz"))[-1]
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 3])
    cases = [(["replay", str(trunc), "--export", str(tmp_path / "x.html")], last.name),
             (["replay", str(r.path), "--export", str(tmp_path / "x.html"), "--from", "999"], "past the end"),
             (["replay", str(r.path), "--export", str(tmp_path / "nope" / "x.html")], "no such folder")]
    for argv, needle in cases:
        p = subprocess.run([sys.executable, "-m", "neuroevo.cli", *argv], capture_output=True, text=True,
                           timeout=300)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and needle in lines[0], (argv, p.stderr)
    assert not (tmp_path / "x.html").exists()


# ---- in a browser ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    from chromium_pipe import Browser, find_chromium

    binary, why = find_chromium()
    if binary is None:
        pytest.skip(why)
    b = Browser(binary)
    yield b
    b.close()


def canvas_pixels(browser):
    from PIL import Image

    url = browser.js("document.getElementById('world').toDataURL('image/png')")
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")
    return np.asarray(img).astype(np.int64)  # (H, W, 3)


def check_drawn_where_the_replay_says(browser, r, frames, t):
    """Seek to t; the canvas must show each lone smiley in its family's colour where the replay puts it, and the
    floor where nobody is."""
    k = browser.js(f"neuroevoPlayer.seek({t})")
    want = int(np.searchsorted((frames - frames[0]) * r.dt, t + 1e-9, side="right") - 1)
    assert k == want
    fr = r.frame(int(frames[k]))
    gids = r.slots_at(int(frames[k]))[0]
    v = browser.js("neuroevoPlayer.view()")
    px = canvas_pixels(browser)
    radius = r.settings.world.radius
    pos = fr.pos[fr.alive]
    cur = fr.cursor
    hits = lone = 0
    for i in np.flatnonzero(fr.alive).tolist():
        x, y = fr.pos[i]
        others = np.hypot(*(pos - fr.pos[i]).T)
        if np.sort(others)[1] < 4 * radius or (cur[2] > 0 and np.hypot(x - cur[0], y - cur[1]) < 90):
            continue
        lone += 1
        sx, sy = round(v["ox"] + x * v["scale"]), round(v["oy"] + y * v["scale"])
        tint = np.array(FAMILY_TINTS[r.founder(int(gids[i])) % len(FAMILY_TINTS)])
        patch = px[sy - 1: sy + 2, sx - 1: sx + 2].reshape(-1, 3)
        hits += np.abs(patch - tint).max(axis=1).min() <= 40
    assert lone >= 5 and hits >= 0.9 * lone, (t, hits, lone)
    rng = np.random.default_rng(int(t * 10))
    probes = 0
    while probes < 40:
        x, y = rng.uniform(20, r.settings.world.width - 20), rng.uniform(200, r.settings.world.height - 20)
        if np.hypot(*(pos - (x, y)).T).min() < 5 * radius or np.hypot(x - cur[0], y - cur[1]) < 110:
            continue
        if (np.hypot(*(r.deaths["pos"] - (x, y)).T) < 30).any():
            continue  # a death marker may be fading there
        sx, sy = round(v["ox"] + x * v["scale"]), round(v["oy"] + y * v["scale"])
        assert tuple(px[sy, sx]) == WORLD_BG, (t, x, y, px[sy, sx])
        probes += 1
    return {int(s): tuple(fr.pos[s]) for s in np.flatnonzero(fr.alive).tolist()}


def test_the_page_plays_seeks_and_draws_the_replay(page, browser, tmp_path):
    r, html = page
    browser.goto(html.as_uri())
    assert browser.wait_for("window.neuroevoPlayer && window.neuroevoPlayer.ready.then(() => true)")
    t0 = browser.js("neuroevoPlayer.time()")
    browser.wait_for("neuroevoPlayer.time() > 1.0", timeout=20)  # it plays by itself
    assert browser.js("neuroevoPlayer.playing()") and browser.js("neuroevoPlayer.time()") > t0
    shot = tmp_path / "playing.png"
    browser.screenshot(shot)
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[0] > 500 and len(np.unique(img.reshape(-1, 3), axis=0)) > 50  # a drawn page, not a blank
    browser.js("neuroevoPlayer.pause()")
    frames = web.export_frames(len(r), r.dt, 0.0, None, FPS)
    a = check_drawn_where_the_replay_says(browser, r, frames, 31.0)
    b = check_drawn_where_the_replay_says(browser, r, frames, 7.5)  # seeking back works too
    assert sum(np.hypot(a[s][0] - b[s][0], a[s][1] - b[s][1]) > 20 for s in a if s in b) > 10  # they moved
    # clicking a smiley shows its net
    s = next(iter(b))
    gid = browser.js(f"neuroevoPlayer.select({s})")
    assert gid == int(r.slots_at(int(frames[browser.js('neuroevoPlayer.frame()')]))[0][s])
    assert browser.js("document.getElementById('net-title').textContent") == f"agent {gid}  (slot {s})"
    assert browser.js("(() => { const c = document.getElementById('net'); const d = c.getContext('2d')"
                      ".getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4)"
                      " n += d[i] > 0; return n; })()") > 2000
    assert browser.js("document.getElementById('message') === null")  # no error message left on the page


# ---- growing brains ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def grown_page(tmp_path_factory):
    """A 20-second edges recording with growing brains (gated genomes) and its page."""
    out = tmp_path_factory.mktemp("grown")
    assert main(["run", "edges", "--seed", "4", "--minutes", "0.34", "--agents", "24", "--record", "--quiet",
                 "--no-plot", "--out", str(out), "--set", "brain.hidden_start=1", "--set",
                 "evolution.add_unit_rate=0.6"]) == 0
    html = out / "run.html"
    assert main(["replay", str(out / "replay"), "--export", str(html), "--fps", str(FPS), "--quiet"]) == 0
    return rp.open(out / "replay"), html


def test_a_growing_run_keeps_its_on_off_genes_in_the_page(grown_page):
    r, html = grown_page
    _, meta, blob = embedded(html)
    assert meta["gated"] and meta["n_params"] == r.layout.n_params == r.layout.n_weights + 16
    bits = section(meta, blob, "genomes").reshape(-1, meta["n_params"]).copy()
    for g, pr in enumerate(meta["genomes"]["parent_row"]):
        if pr >= 0:
            bits[g] ^= bits[pr]
    for g, gid in enumerate(meta["genomes"]["id"]):
        assert np.array_equal(bits[g].view(np.float32), r.genome(gid))


def test_the_page_draws_a_growing_net_without_its_off_units(grown_page, browser):
    from neuroevo.brain import active_units

    r, html = grown_page
    browser.goto(html.as_uri() + "#t=19&paused")
    assert browser.wait_for("window.neuroevoPlayer && window.neuroevoPlayer.ready.then(() => true)")
    agents = browser.js("neuroevoPlayer.agents()")
    units = {a["slot"]: active_units(r.layout, r.genome(a["gid"]))[0] for a in agents}
    slot = max(units, key=lambda s: units[s].sum())
    on = units[slot]
    assert on.sum() >= 2  # units were added
    browser.js(f"neuroevoPlayer.select({slot})")
    net = browser.js("neuroevoPlayer.net()")
    n_in = r.layout.n_in
    assert net["on"][n_in: n_in + 16] == on.astype(int).tolist()
    assert all(net["on"][a] and net["on"][b] for a, b in net["lines"])
    assert len(net["lines"]) == (n_in + 2) * int(on.sum())  # inputs to each on unit, each on unit to 2 outputs
    assert f"hidden {int(on.sum())}/16 on" in browser.js("document.getElementById('net-sub').textContent")
