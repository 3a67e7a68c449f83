// neuroevo web player: plays a replay exported by `neuroevo replay PATH --export run.html`.
// Everything it shows comes from the two script tags above it (neuroevo-meta: JSON, neuroevo-data: the deflated,
// base64 typed arrays that neuroevo/web.py writes); it fetches nothing. Test hook: window.neuroevoPlayer.
(function () {
  "use strict";
  const meta = JSON.parse(document.getElementById("neuroevo-meta").textContent);
  const $ = (id) => document.getElementById(id);
  const N = meta.n, K = meta.frames, DT = meta.dt, POS_UNITS = 2;
  const WORLD_BG = [30, 33, 42], BG = [18, 20, 26], EDGE = [88, 94, 112];
  const WARM = [255, 150, 70], COOL = [90, 160, 255], GREY = [120, 120, 128];
  const ICON_FILL = [64, 96, 150], ICON_TOP = [96, 136, 196], ICON_EDGE = [150, 170, 215];
  const LIFETIME = [120, 220, 120], OFF_UNIT = [84, 88, 104];
  const HAPPY = 0, UNEASY = 1, SCARED = 2, SCARED_PX = 110, UNEASY_PX = 36;
  const rgb = (c, a) => (a === undefined ? `rgb(${c[0]},${c[1]},${c[2]})` : `rgba(${c[0]},${c[1]},${c[2]},${a})`);
  const shade = (c, f) => c.map((v) => Math.max(0, Math.min(255, Math.floor(v * f))));
  const clock = (s) => `${String(Math.floor(s / 60)).padStart(2, "0")}:${(s % 60).toFixed(1).padStart(4, "0")}`;

  // ---- data ------------------------------------------------------------------------------------------------
  const TYPES = { uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, int32: Int32Array };
  let D = null;

  async function inflate(b64) {
    const text = atob(b64.trim());
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer();
  }

  function decode(buf) {
    const sec = (name) => {
      const [off, size, dtype] = meta.sections[name];
      return new TYPES[dtype](buf, off, size);
    };
    const frameOff = new Float64Array(K);  // replay frames since the first shown
    let acc = 0;
    const fd = sec("frame");
    for (let k = 0; k < K; k++) { acc = (acc + fd[k]) % 4294967296; frameOff[k] = acc; }
    const times = frameOff.map((f) => f * DT);
    const secondDiff = (e, base, out, stride, offset) => {  // e[base .. base + K) -> out[k * stride + offset]
      let d = 0, q = 0;
      for (let k = 0; k < K; k++) {
        d = k < 2 ? e[base + k] : (d + e[base + k]) & 0xffff;
        q = (q + d) & 0xffff;
        out[k * stride + offset] = q / POS_UNITS;
      }
    };
    const pos = new Float32Array(K * N * 2);  // frame-major: pos[(k * N + i) * 2 + axis]
    const p = sec("pos");
    for (let i = 0; i < N; i++) for (let a = 0; a < 2; a++) secondDiff(p, (i * 2 + a) * K, pos, N * 2, i * 2 + a);
    const heading = new Uint8Array(K * N), alive = new Uint8Array(K * N), holder = new Int32Array(K * N);
    const h = sec("heading"), al = sec("alive"), ho = sec("holder");
    for (let i = 0; i < N; i++) {
      let hv = 0, av = 0, gv = 0;
      for (let k = 0; k < K; k++) {
        hv = (hv + h[i * K + k]) & 255; heading[k * N + i] = hv;
        av ^= al[i * K + k]; alive[k * N + i] = av;
        gv ^= ho[i * K + k]; holder[k * N + i] = gv;
      }
    }
    const cursor = new Float32Array(K * 5);  // x, y, present, armed, click
    const cxy = sec("cursor_xy"), cf = sec("cursor_flags");
    secondDiff(cxy, 0, cursor, 5, 0);
    secondDiff(cxy, K, cursor, 5, 1);
    for (let j = 0; j < 3; j++) {
      let v = 0;
      for (let k = 0; k < K; k++) { v = (v + cf[j * K + k]) & 255; cursor[k * 5 + 2 + j] = v; }
    }
    const births = new Float64Array(K), icons = new Uint16Array(K);
    const bd = sec("births"), id = sec("icons");
    let b = 0, ic = 0;
    for (let k = 0; k < K; k++) {
      b = (b + bd[k]) % 4294967296; births[k] = b;
      ic = (ic + id[k]) & 0xffff; icons[k] = ic;
    }
    const NW = meta.layout.reduce((s, v, i, a) => (i ? s + a[i - 1] * v + v : s), 0);  // weights and biases
    const P = meta.n_params || NW;  // ... and, for growing brains, one on/off gene per hidden unit
    const bits = new Uint32Array(sec("genomes"));  // a copy: undo the xor with the parent row in place
    const parentRow = meta.genomes.parent_row;
    for (let g = 0; g < parentRow.length; g++) {
      const pr = parentRow[g];
      if (pr >= 0) for (let j = 0; j < P; j++) bits[g * P + j] ^= bits[pr * P + j];
    }
    const genomes = new Float32Array(bits.buffer);
    const hiddenOn = new Uint16Array(parentRow.length);  // (G,) hidden units each genome has on (growing brains)
    if (meta.gated) for (let g = 0; g < parentRow.length; g++) for (let j = NW; j < P; j++) hiddenOn[g] += genomes[g * P + j] > 0.5;
    const dxy = sec("death_xy"), nd = meta.sections.death_frame[1];
    const deaths = { t: Array.from(sec("death_frame"), (f) => f * DT), cause: sec("death_cause"),
      x: Array.from(dxy.subarray(0, nd), (v) => v / POS_UNITS), y: Array.from(dxy.subarray(nd), (v) => v / POS_UNITS) };
    return { times, pos, heading, alive, holder, cursor, births, icons, genomes, P, NW, hiddenOn, deaths };
  }

  // ---- state -----------------------------------------------------------------------------------------------
  const world = $("world"), wctx = world.getContext("2d");
  const seekC = $("seek"), sctx = seekC.getContext("2d");
  const chartC = $("chart"), cctx = chartC.getContext("2d");
  const netC = $("net"), nctx = netC.getContext("2d");
  const W = meta.world;
  let t = 0, playing = false, speed = 1, last = null, selected = null, dragging = false;
  const view = { scale: 1, ox: 0, oy: 0, dpr: 1 };
  let sprites = null;
  let shown = null;  // the inspected net as drawn: { on: (units,) 0/1, lines: [[unit, unit], ...] }

  function frameAt(time) {  // the last shown frame at or before `time`
    const ts = D.times;
    let lo = 0, hi = K - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (ts[mid] <= time + 1e-9) lo = mid; else hi = mid - 1; }
    return lo;
  }
  const duration = () => D.times[K - 1];

  // ---- smileys (the viewer's faces) ------------------------------------------------------------------------
  function face(size, tint, expr) {
    const c = document.createElement("canvas");
    c.width = c.height = size;
    const g = c.getContext("2d"), r = (size - 2) / 2, m = size / 2, ink = "rgb(34,26,22)";
    g.translate(m, m);
    g.fillStyle = rgb(shade(tint, 0.55)); g.beginPath(); g.arc(0, 0, r, 0, 2 * Math.PI); g.fill();
    g.fillStyle = rgb(tint); g.beginPath(); g.arc(0, 0, r * 0.88, 0, 2 * Math.PI); g.fill();
    const ex = 0.34 * r, ey = -0.22 * r;
    if (expr === SCARED) {
      for (const sx of [-1, 1]) {
        g.fillStyle = "rgb(250,250,250)"; g.beginPath(); g.arc(sx * ex, ey, 0.24 * r, 0, 2 * Math.PI); g.fill();
        g.fillStyle = ink; g.beginPath(); g.arc(sx * ex, ey - 0.06 * r, 0.12 * r, 0, 2 * Math.PI); g.fill();
      }
      g.fillStyle = ink; g.beginPath(); g.ellipse(0, 0.46 * r, 0.2 * r, 0.21 * r, 0, 0, 2 * Math.PI); g.fill();
    } else {
      g.fillStyle = ink;
      for (const sx of [-1, 1]) { g.beginPath(); g.arc(sx * ex, ey, 0.15 * r, 0, 2 * Math.PI); g.fill(); }
      g.strokeStyle = ink; g.lineWidth = Math.max(1, 0.14 * r); g.lineCap = "round";
      g.beginPath();
      if (expr === HAPPY) g.ellipse(0, 0.125 * r, 0.5 * r, 0.475 * r, 0, 0.35, Math.PI - 0.35);
      else { g.moveTo(-0.34 * r, 0.42 * r); g.lineTo(0.34 * r, 0.34 * r); }
      g.stroke();
    }
    return c;
  }

  function buildSprites() {
    const size = Math.max(5, Math.round(2 * W.radius * view.scale)) + 2;
    const tints = meta.teams > 1 ? meta.team_tints : meta.tints;
    sprites = { size, faces: tints.map((tint) => [HAPPY, UNEASY, SCARED].map((e) => face(size, tint, e))) };
  }

  // ---- layout ----------------------------------------------------------------------------------------------
  function fitCanvas(c) {
    const r = c.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; return true; }
    return false;
  }

  function layout() {
    fitCanvas(world); fitCanvas(seekC); fitCanvas(chartC); fitCanvas(netC);
    view.dpr = window.devicePixelRatio || 1;
    view.scale = Math.min(world.width / W.width, world.height / W.height);
    view.ox = (world.width - W.width * view.scale) / 2;
    view.oy = (world.height - W.height * view.scale) / 2;
    buildSprites();
    draw();
  }

  // ---- drawing ---------------------------------------------------------------------------------------------
  function tintOf(k, i) {
    if (meta.teams > 1) return meta.team[i] % meta.team_tints.length;
    return meta.genomes.founder[D.holder[k * N + i]] % meta.tints.length;
  }

  function drawWorld(k) {
    const g = wctx, s = view.scale;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.fillStyle = rgb(BG); g.fillRect(0, 0, world.width, world.height);
    g.fillStyle = rgb(WORLD_BG); g.fillRect(view.ox, view.oy, W.width * s, W.height * s);
    g.strokeStyle = rgb(EDGE); g.lineWidth = 1; g.strokeRect(view.ox + 0.5, view.oy + 0.5, W.width * s - 1, W.height * s - 1);
    const X = (x) => view.ox + x * s, Y = (y) => view.oy + y * s;
    for (const [x0, y0, x1, y1] of meta.icon_sets[D.icons[k]] || []) {
      const w = Math.max(1, (x1 - x0) * s), h = Math.max(1, (y1 - y0) * s);
      g.fillStyle = rgb(ICON_FILL); g.fillRect(X(x0), Y(y0), w, h);
      g.fillStyle = rgb(ICON_TOP); g.fillRect(X(x0), Y(y0), w, Math.max(1, h / 3));
      g.strokeStyle = rgb(ICON_EDGE); g.strokeRect(X(x0) + 0.5, Y(y0) + 0.5, w - 1, h - 1);
    }
    const now = D.times[k], dd = D.deaths;
    for (let j = 0; j < dd.t.length; j++) {  // death markers: half a second, fading
      const age = now - dd.t[j];
      if (age < 0 || age >= 0.5) continue;
      const f = age / 0.5, cname = meta.causes[dd.cause[j]];
      g.strokeStyle = rgb(shade(meta.cause_colours[cname] || [200, 200, 200], 1 - 0.8 * f)); g.lineWidth = 2;
      const r = (5 + 6 * f) * Math.max(0.6, s), cx = X(dd.x[j]), cy = Y(dd.y[j]);
      g.beginPath(); g.moveTo(cx - r, cy - r); g.lineTo(cx + r, cy + r); g.moveTo(cx - r, cy + r); g.lineTo(cx + r, cy - r); g.stroke();
    }
    const cur = D.cursor.subarray(k * 5, k * 5 + 5), half = sprites.size / 2;
    for (let i = 0; i < N; i++) {
      if (!D.alive[k * N + i]) continue;
      const x = D.pos[(k * N + i) * 2], y = D.pos[(k * N + i) * 2 + 1];
      const edge = Math.min(x, W.width - x, y, W.height - y) - W.radius;
      let expr = edge < UNEASY_PX ? UNEASY : HAPPY;
      if (cur[2] > 0 && (x - cur[0]) ** 2 + (y - cur[1]) ** 2 < SCARED_PX * SCARED_PX) expr = SCARED;
      const hd = D.heading[k * N + i] * (2 * Math.PI / 256);
      g.setTransform(1, 0, 0, 1, X(x), Y(y));
      g.rotate(hd + Math.PI / 2);  // the forehead points along the heading
      g.drawImage(sprites.faces[tintOf(k, i)][expr], -half, -half);
    }
    g.setTransform(1, 0, 0, 1, 0, 0);
    if (selected !== null && D.alive[k * N + selected.slot] && D.holder[k * N + selected.slot] === selected.row) {
      const i = selected.slot;
      g.strokeStyle = "#fff"; g.lineWidth = 2; g.beginPath();
      g.arc(X(D.pos[(k * N + i) * 2]), Y(D.pos[(k * N + i) * 2 + 1]), half + 5, 0, 2 * Math.PI); g.stroke();
    }
    if (cur[2] > 0) {  // the cursor: white ring, red while a click is coming
      const col = cur[3] > 0 ? "rgb(255,90,90)" : "rgb(230,230,240)", kill = W.kill_radius * s;
      const cx = X(cur[0]), cy = Y(cur[1]);
      g.strokeStyle = col; g.lineWidth = 2; g.beginPath(); g.arc(cx, cy, kill, 0, 2 * Math.PI); g.stroke();
      g.beginPath();
      for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        g.moveTo(cx + dx * kill * 0.4, cy + dy * kill * 0.4); g.lineTo(cx + dx * kill * 1.3, cy + dy * kill * 1.3);
      }
      g.stroke();
    }
    drawHud(k);
  }

  function drawHud(k) {
    const g = wctx, dpr = view.dpr, now = D.times[k], dd = D.deaths;
    let alive = 0;
    for (let i = 0; i < N; i++) alive += D.alive[k * N + i];
    const recent = {};
    const span = Math.min(60, now);
    for (let j = 0; j < dd.t.length; j++) {
      if (dd.t[j] <= now && dd.t[j] > now - 60) { const c = meta.causes[dd.cause[j]]; recent[c] = (recent[c] || 0) + 1; }
    }
    if (!("edge" in recent)) recent.edge = 0;
    const deaths = Object.entries(recent).map(([c, v]) => `${c} ${v}`).join("  ");
    const lines = [
      [`${meta.scenario}  seed ${meta.seed}`, "rgb(255,220,120)"],
      [`${clock(meta.start_s + now)}   (${clock(now)} / ${clock(duration())} of this page)${playing ? "" : "  PAUSED"}`],
      [`alive ${alive}/${N}   births ${meta.births0 + D.births[k]}`],
      [`deaths ${span >= 59 ? "last min" : `last ${span.toFixed(0)} s`}: ${deaths}`],
    ];
    if (meta.gated) {  // growing brains: hidden units switched on, mean and max over the living
      let sum = 0, max = 0;
      for (let i = 0; i < N; i++) {
        if (!D.alive[k * N + i]) continue;
        const u = D.hiddenOn[D.holder[k * N + i]]; sum += u; max = Math.max(max, u);
      }
      const width = meta.layout.slice(1, -1).reduce((a, b) => a + b, 0);
      lines.push([`hidden units on ${(alive ? sum / alive : 0).toFixed(1)}/${width} (max ${max})`]);
    }
    g.font = `${13 * dpr}px system-ui, sans-serif`;
    const w = Math.max(...lines.map(([s]) => g.measureText(s).width)) + 16 * dpr, h = (18 * lines.length + 10) * dpr;
    g.fillStyle = "rgba(12,14,20,0.82)"; g.fillRect(8 * dpr, 8 * dpr, w, h);
    lines.forEach(([s, col], j) => { g.fillStyle = col || "rgb(226,230,238)"; g.fillText(s, 16 * dpr, (26 + 18 * j) * dpr); });
  }

  function drawSeek(k) {
    const g = sctx, w = seekC.width, h = seekC.height, dpr = view.dpr, pad = 8 * dpr;
    g.clearRect(0, 0, w, h);
    const x0 = pad, x1 = w - pad, y0 = h * 0.25, y1 = h * 0.75, T = Math.max(1e-9, duration());
    g.fillStyle = "rgb(60,64,78)"; g.fillRect(x0, y0, x1 - x0, y1 - y0);
    const x = x0 + (x1 - x0) * D.times[k] / T;
    g.fillStyle = "rgb(120,170,255)"; g.fillRect(x0, y0, x - x0, y1 - y0);
    const dd = D.deaths;
    g.lineWidth = Math.max(1, dpr);
    for (let j = 0; j < dd.t.length; j++) {  // a tick where each death happened
      const tx = Math.round(x0 + (x1 - x0) * dd.t[j] / T) + 0.5;
      g.strokeStyle = rgb(meta.cause_colours[meta.causes[dd.cause[j]]] || [150, 90, 90], 0.8);
      g.beginPath(); g.moveTo(tx, y0 + 1); g.lineTo(tx, y1 - 1); g.stroke();
    }
    g.fillStyle = "rgb(235,240,250)"; g.beginPath(); g.arc(x, h / 2, (y1 - y0) / 2 + 3 * dpr, 0, 2 * Math.PI); g.fill();
  }

  function drawChart(k) {
    const g = cctx, w = chartC.width, h = chartC.height, dpr = view.dpr, ch = meta.chart;
    g.clearRect(0, 0, w, h);
    g.font = `${11 * dpr}px system-ui, sans-serif`;
    g.fillStyle = "rgb(150,156,170)";
    g.fillText("deaths/min by cause   mean lifetime (s, green)", 8 * dpr, 14 * dpr);
    const x0 = 34 * dpr, y0 = 24 * dpr, x1 = w - 40 * dpr, y1 = h - 20 * dpr;
    g.strokeStyle = "rgb(70,74,88)"; g.lineWidth = dpr; g.beginPath(); g.moveTo(x0, y1); g.lineTo(x1, y1); g.stroke();
    if (ch.t.length < 2) { g.fillText("the chart needs at least 20 s of run", x0 + 10, (y0 + y1) / 2); return; }
    const T = Math.max(1e-9, duration()), xs = ch.t.map((v) => x0 + (x1 - x0) * v / T);
    const causes = Object.keys(ch.rates);
    const rmax = Math.max(1, ...causes.flatMap((c) => ch.rates[c])), lmax = Math.max(1, ...ch.lifetime);
    const line = (vals, top, col, width) => {
      g.strokeStyle = rgb(col); g.lineWidth = width * dpr; g.beginPath();
      vals.forEach((v, j) => { const y = y1 - (v / top) * (y1 - y0); if (j) g.lineTo(xs[j], y); else g.moveTo(xs[j], y); });
      g.stroke();
    };
    line(ch.lifetime, lmax, LIFETIME, 1);
    for (const c of causes) line(ch.rates[c], rmax, meta.cause_colours[c] || [226, 230, 238], 2);
    g.fillStyle = "rgb(150,156,170)";
    g.fillText(rmax.toFixed(0), 6 * dpr, y0 + 4 * dpr); g.fillText("0", 20 * dpr, y1);
    g.fillStyle = rgb(LIFETIME); g.fillText(`${lmax.toFixed(0)}s`, x1 + 4 * dpr, y0 + 4 * dpr);
    let lx = x0;
    g.fillStyle = "rgb(150,156,170)"; g.fillText(`${(T / 60).toFixed(1)} min`, x1 - 40 * dpr, y1 + 14 * dpr);
    for (const c of causes) {
      g.fillStyle = rgb(meta.cause_colours[c] || [226, 230, 238]); g.fillText(c, lx, y1 + 14 * dpr);
      lx += g.measureText(c).width + 10 * dpr;
    }
    const x = x0 + (x1 - x0) * D.times[k] / T;
    g.strokeStyle = "rgba(235,240,250,0.7)"; g.lineWidth = dpr; g.beginPath(); g.moveTo(x, y0); g.lineTo(x, y1); g.stroke();
  }

  function weightColour(w, wmax) {
    const mag = Math.abs(w) / wmax, base = w > 0 ? WARM : COOL;
    return WORLD_BG.map((f, j) => Math.floor(f + (base[j] - f) * (0.15 + 0.85 * mag)));
  }
  function unitColour(a) {
    a = Math.max(-1, Math.min(1, a));
    const end = a > 0 ? WARM : COOL;
    return GREY.map((g, j) => Math.floor(g + (end[j] - g) * Math.abs(a)));
  }

  function unitsOn(base) {  // (units,) 1 for a unit that is on: inputs and outputs always, hidden units by gene
    const sizes = meta.layout, on = new Uint8Array(sizes.reduce((a, b) => a + b, 0)).fill(1);
    if (!meta.gated) return on;
    let u = sizes[0], gate = base + D.NW;
    for (let li = 1; li + 1 < sizes.length; li++) for (let j = 0; j < sizes[li]; j++) on[u++] = D.genomes[gate++] > 0.5;
    return on;
  }

  function drawNet(k) {
    const g = nctx, w = netC.width, h = netC.height, dpr = view.dpr;
    g.clearRect(0, 0, w, h);
    shown = null;
    if (selected === null) return;
    const sizes = meta.layout, row = selected.row, base = row * D.P;
    const here = D.alive[k * N + selected.slot] && D.holder[k * N + selected.slot] === row;
    $("net-title").textContent = `agent ${meta.genomes.id[row]}  (slot ${selected.slot})`;
    const pr = meta.genomes.parent_row[row];
    const on = unitsOn(base);
    let hidden = "";
    if (meta.gated) {
      const counts = [];
      for (let li = 1, u = sizes[0]; li + 1 < sizes.length; u += sizes[li], li++) {
        counts.push(`${on.subarray(u, u + sizes[li]).reduce((a, b) => a + b, 0)}/${sizes[li]}`);
      }
      hidden = ` · hidden ${counts.join(", ")} on`;
    }
    $("net-sub").textContent = `family ${meta.genomes.founder[row]} · ${here ? "alive now" : "not alive at this time"}` +
      `${pr >= 0 ? ` · parent ${meta.genomes.id[pr]}` : ""}${hidden}\nlines: weights (warm +, cool -) · units: bias ` +
      "(a replay records no activations)";
    const left = 110 * dpr, right = w - 60 * dpr, cols = sizes.length;
    const xs = sizes.map((_, i) => left + (right - left) * i / Math.max(1, cols - 1));
    const nodes = [];
    sizes.forEach((n, li) => {
      const gap = Math.min(18 * dpr, (h - 16 * dpr) / Math.max(1, n)), top = (h - gap * (n - 1)) / 2;
      for (let j = 0; j < n; j++) nodes.push([xs[li], top + gap * j]);
    });
    const lines = [], bias = [];
    let p = base, start = 0;
    for (let li = 0; li + 1 < sizes.length; li++) {
      const a = sizes[li], b = sizes[li + 1];
      let wmax = 0;  // over the connections drawn: those between units that are on
      for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) {
        if (on[start + i] && on[start + a + j]) wmax = Math.max(wmax, Math.abs(D.genomes[p + i * b + j]));
      }
      wmax = wmax || 1;
      for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) {
        if (!on[start + i] || !on[start + a + j]) continue;
        const v = D.genomes[p + i * b + j];
        lines.push([Math.abs(v) / wmax, v, wmax, start + i, start + a + j]);
      }
      for (let j = 0; j < b; j++) bias.push(Math.tanh(D.genomes[p + a * b + j]));
      p += a * b + b;
      start += a;
    }
    lines.sort((u, v) => u[0] - v[0]);
    for (const [mag, v, wmax, a, b] of lines) {
      g.strokeStyle = rgb(weightColour(v, wmax)); g.lineWidth = (mag > 0.6 ? 2 : 1) * dpr;
      g.beginPath(); g.moveTo(nodes[a][0], nodes[a][1]); g.lineTo(nodes[b][0], nodes[b][1]); g.stroke();
    }
    const values = new Array(sizes[0]).fill(0).concat(bias);
    nodes.forEach(([x, y], u) => {
      if (!on[u]) {  // a hidden unit that is off: an empty ring in its slot
        g.strokeStyle = rgb(OFF_UNIT); g.lineWidth = dpr; g.beginPath(); g.arc(x, y, 3.5 * dpr, 0, 2 * Math.PI); g.stroke();
        return;
      }
      g.fillStyle = rgb(unitColour(values[u])); g.beginPath(); g.arc(x, y, 5 * dpr, 0, 2 * Math.PI); g.fill();
      g.strokeStyle = "rgb(20,20,24)"; g.lineWidth = dpr; g.stroke();
    });
    shown = { on: Array.from(on), lines: lines.map((l) => [l[3], l[4]]) };
    g.font = `${10 * dpr}px system-ui, sans-serif`; g.textBaseline = "middle";
    g.fillStyle = "rgb(150,156,170)"; g.textAlign = "right";
    for (let j = 0; j < sizes[0]; j++) g.fillText(meta.inputs[j] || `in ${j}`, nodes[j][0] - 9 * dpr, nodes[j][1]);
    g.fillStyle = "rgb(226,230,238)"; g.textAlign = "left";
    meta.outputs.forEach((name, j) => {
      const [x, y] = nodes[nodes.length - meta.outputs.length + j]; g.fillText(name, x + 9 * dpr, y);
    });
    g.textAlign = "left"; g.textBaseline = "alphabetic";
  }

  function draw() {
    if (!D) return;
    const k = frameAt(t);
    drawWorld(k); drawSeek(k); drawChart(k); drawNet(k);
    $("clock").textContent = `${clock(D.times[k])} / ${clock(duration())}`;
    $("play").innerHTML = playing ? "&#10074;&#10074; pause" : "&#9654; play";
    player.drawnFrame = k;
  }

  // ---- playing ---------------------------------------------------------------------------------------------
  function tick(ts) {
    if (playing) {
      if (last !== null) t += ((ts - last) / 1000) * speed;
      last = ts;
      if (t >= duration()) { t = duration(); playing = false; }
      draw();
    }
    requestAnimationFrame(tick);
  }
  function seek(time) { t = Math.max(0, Math.min(duration(), Number(time) || 0)); last = null; draw(); return frameAt(t); }
  function play() { if (t >= duration()) t = 0; playing = true; last = null; draw(); }
  function pause() { playing = false; draw(); }

  function pickAt(clientX, clientY) {
    const r = world.getBoundingClientRect(), dpr = view.dpr;
    const wx = ((clientX - r.left) * dpr - view.ox) / view.scale, wy = ((clientY - r.top) * dpr - view.oy) / view.scale;
    const k = frameAt(t);
    let best = null, bd = Math.max(2 * W.radius, 12 * dpr / view.scale) ** 2;
    for (let i = 0; i < N; i++) {
      if (!D.alive[k * N + i]) continue;
      const d2 = (D.pos[(k * N + i) * 2] - wx) ** 2 + (D.pos[(k * N + i) * 2 + 1] - wy) ** 2;
      if (d2 < bd) { bd = d2; best = i; }
    }
    return best;
  }
  function select(slot) {
    const k = frameAt(t);
    selected = slot === null || slot === undefined ? null : { slot, row: D.holder[k * N + slot] };
    if (selected === null) { $("net-title").textContent = "click an agent to see its net"; $("net-sub").textContent = ""; }
    draw();
    return selected === null ? null : meta.genomes.id[selected.row];
  }

  function wire() {
    $("play").addEventListener("click", () => (playing ? pause() : play()));
    $("speed").addEventListener("change", (e) => { speed = Number(e.target.value); });
    const seekTo = (e) => {
      const r = seekC.getBoundingClientRect(), pad = 8;
      seek(((e.clientX - r.left - pad) / Math.max(1, r.width - 2 * pad)) * duration());
    };
    seekC.addEventListener("pointerdown", (e) => { dragging = true; seekC.setPointerCapture(e.pointerId); seekTo(e); });
    seekC.addEventListener("pointermove", (e) => { if (dragging) seekTo(e); });
    seekC.addEventListener("pointerup", () => { dragging = false; });
    world.addEventListener("click", (e) => select(pickAt(e.clientX, e.clientY)));
    window.addEventListener("resize", layout);
    window.addEventListener("keydown", (e) => {
      const k = frameAt(t), step = (d) => { pause(); seek(D.times[Math.max(0, Math.min(K - 1, k + d))]); };
      if (e.key === " ") { e.preventDefault(); playing ? pause() : play(); }
      else if (e.key === ",") step(-1);
      else if (e.key === ".") step(1);
      else if (e.key === "ArrowLeft") seek(t - 5);
      else if (e.key === "ArrowRight") seek(t + 5);
      else if (e.key === "+" || e.key === "=" || e.key === "-") {
        const sel = $("speed"), i = sel.selectedIndex + (e.key === "-" ? -1 : 1);
        sel.selectedIndex = Math.max(0, Math.min(sel.options.length - 1, i)); speed = Number(sel.value);
      } else if (e.key === "n" || e.key === "N") {
        const next = D.deaths.t.find((v) => v > t + 0.5);
        if (next !== undefined) seek(next - 0.5);
      } else if (e.key === "Home") seek(0);
    });
  }

  const player = {
    meta, drawnFrame: -1, seek, play, pause, select,
    time: () => t, playing: () => playing, frame: () => frameAt(t), frameTime: (k) => D.times[k],
    view: () => ({ ...view }),
    net: () => shown,
    agents: () => {  // the living at the current frame, in world px (what the canvas shows)
      const k = frameAt(t), out = [];
      for (let i = 0; i < N; i++) if (D.alive[k * N + i]) {
        out.push({ slot: i, gid: meta.genomes.id[D.holder[k * N + i]], x: D.pos[(k * N + i) * 2], y: D.pos[(k * N + i) * 2 + 1] });
      }
      return out;
    },
  };
  window.neuroevoPlayer = player;

  $("title").textContent = `neuroevo: ${meta.scenario}, seed ${meta.seed}`;
  $("subtitle").textContent = `${N} agents, ${clock(meta.duration_s)} from ${clock(meta.start_s)} of the run, ` +
    `${(K / Math.max(1e-9, meta.duration_s)).toFixed(0)} frames/s, neuroevo ${meta.version}`;
  player.ready = (async () => {
    if (typeof DecompressionStream === "undefined") {
      throw new Error("this browser cannot inflate the run (it lacks DecompressionStream: use Chrome/Edge 80+, " +
        "Firefox 113+ or Safari 16.4+)");
    }
    D = decode(await inflate(document.getElementById("neuroevo-data").textContent));
    $("message").remove();
    wire();
    layout();
    const m = /(?:^|[#&])t=([0-9.]+)/.exec(location.hash);
    if (m) seek(Number(m[1]));
    if (!/(?:^|[#&])paused/.test(location.hash)) play();
    requestAnimationFrame(tick);
    return true;
  })().catch((err) => { $("message").textContent = `cannot play this run: ${err.message}`; throw err; });
})();
