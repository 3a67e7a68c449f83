"""Figures of lineage and brains (matplotlib, imported lazily): a replay's family tree and one brain's net.

The tree: time across, descent down. Each genome is a horizontal line from its birth to its death at its row
(lineage.tree_rows: depth first, so a family is one band of rows), joined to its parent's row by a short vertical
line at its birth. Lineages with a descendant alive at the end are drawn strong, extinct ones faint; colours are the
families' colours in the viewer (lineage.FAMILY_TINTS by founder). The most successful founders are labelled with
their family's size and lifetime.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .lineage import History, family_table, from_replay, tint_of, tree_rows

LABELLED = 5  # founders labelled on the figure
BG, FG, DIM = "#12141a", "#e2e6ee", "#969aaa"


def _rgb(c: tuple[int, int, int], alpha: float = 1.0) -> tuple[float, float, float, float]:
    return c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, alpha


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def draw_tree(h: History, path: str | Path, title: str = "") -> dict[str, Any]:
    """Write the family tree of h to a PNG; returns what it drew (genomes, survivors, labelled founders)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from .io import save_figure

    rows = tree_rows(h)
    survives = h.survives()
    idx = h.index()
    end = np.where(h.alive, h.end, h.died) / 60.0
    start = h.born / 60.0
    n = h.gid.size
    fig_h = min(14.0, 3.2 + 0.012 * n)
    fig, ax = plt.subplots(figsize=(11, fig_h), dpi=110, facecolor=BG)
    ax.set_facecolor(BG)
    strong = 1.6 if n < 400 else 1.0
    for keep, alpha, width in ((False, 0.22, 0.6), (True, 1.0, strong)):  # faint first, strong on top
        sel = np.flatnonzero(survives == keep)
        segs, cols = [], []
        for k in sel.tolist():
            c = _rgb(tint_of(int(h.founder[k])), alpha)
            segs.append(((start[k], rows[k]), (end[k], rows[k])))
            cols.append(c)
            p = idx.get(int(h.parent[k]))
            if p is not None:  # the birth: down from the parent's line
                segs.append(((start[k], rows[p]), (start[k], rows[k])))
                cols.append(c)
        ax.add_collection(LineCollection(segs, colors=cols, linewidths=width))
    living = np.flatnonzero(h.alive)
    ax.scatter(end[living], rows[living], s=10 if n < 400 else 4, c=[_rgb(tint_of(int(h.founder[k])))
                                                                      for k in living.tolist()], zorder=3)
    table = family_table(h)
    labelled = []
    for r in table[:LABELLED]:
        if r["living"] == 0 and r["descendants"] == 0:
            continue
        k = idx[r["founder"]]
        band = rows[h.founder == r["founder"]]
        text = (f"founder {r['founder']}: {r['descendants']} descendants, {r['living']} alive, "
                f"{r['lifetime_s'] / 60.0:.1f} min lived")
        ax.annotate(text, (start[k], float(band.min())), xytext=(4, -3), textcoords="offset points", fontsize=8,
                    color=_rgb(tint_of(r["founder"])), va="bottom",
                    bbox={"boxstyle": "round,pad=0.2", "fc": BG, "ec": "none", "alpha": 0.75})
        labelled.append(r)
    ax.set_xlim(h.born.min() / 60.0, h.end / 60.0 * 1.002 + 1e-9)
    ax.set_ylim(max(1.0, rows.max()) + 1, -1.5)
    ax.set_xlabel("simulated minutes", color=FG)
    ax.set_ylabel("descent (one row per genome; a family is a band)", color=FG)
    ax.set_yticks([])
    ax.tick_params(colors=DIM)
    for s in ax.spines.values():
        s.set_color("#3a3e4a")
    families = len({int(f) for f in h.founder[h.alive].tolist()})
    sub = (f"{n} genomes, {int(h.alive.sum())} alive at {_clock(h.end)} in {families} "
           f"famil{'y' if families == 1 else 'ies'}; strong: lineages with living descendants, faint: extinct")
    ax.set_title(f"{title}\n{sub}" if title else sub, color=FG, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, facecolor=BG)
    plt.close(fig)
    return {"genomes": n, "alive": int(h.alive.sum()), "families": families, "labelled": labelled}


def tree_of_replay(replay: Any, path: str | Path) -> dict[str, Any]:
    """draw_tree of a replay, titled with its scenario and seed."""
    h = from_replay(replay)
    title = f"family tree: {replay.meta.get('scenario', '?')}, seed {replay.meta.get('seed', '?')}"
    return draw_tree(h, path, title)


# ---- one brain (brainfile.Brain) ------------------------------------------------------------------------------
PANEL = (12, 14, 20)  # the inspector's panel
WORLD_BG = (30, 33, 42)  # weights fade into this
TEXT, TEXT_DIM, TITLE = (226, 230, 238), (150, 156, 170), (255, 220, 120)
WARM, COOL, GREY = (255, 150, 70), (90, 160, 255), (120, 120, 128)
OFF_UNIT = (84, 88, 104)  # the inspector's ring of a hidden unit that is off (ui.theme.OFF_UNIT)


def unit_colour(a: float) -> tuple[int, int, int]:
    """The inspector's diverging colour for a unit value in [-1, 1]: cool (negative), grey (0), warm (positive)."""
    a = max(-1.0, min(1.0, float(a)))
    end = WARM if a > 0 else COOL
    return tuple(int(g + (e - g) * abs(a)) for g, e in zip(GREY, end))  # type: ignore[return-value]


def weight_colour(w: float, wmax: float) -> tuple[int, int, int]:
    """A weight's line colour: warm (+) or cool (-), from the floor's colour towards full as |w| nears the layer's
    largest."""
    mag = abs(float(w)) / wmax
    base = WARM if w > 0 else COOL
    return tuple(int(f + (b - f) * (0.15 + 0.85 * mag)) for f, b in zip(WORLD_BG, base))  # type: ignore[return-value]


def draw_brain(b: Any, path: str | Path) -> list[tuple[float, float]]:
    """The net as the live inspector draws it (weights as lines, warm + and cool -, brighter and thicker when
    larger; units coloured by their bias, as a live unit is by its value) to a PNG. A growing brain's hidden unit
    that is off is a faint empty ring without connections, and the title says how many are on. Returns where each
    unit was drawn (x, y) in image px, inputs first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from .io import save_figure

    sizes = b.sizes
    h_px = max(320, 18 * max(sizes) + 110)
    w_px = 140 + 200 * (len(sizes) - 1) + 140
    fig = plt.figure(figsize=(w_px / 100, h_px / 100), dpi=100, facecolor=_rgb(PANEL))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w_px)
    ax.set_ylim(h_px, 0)
    ax.axis("off")
    left, right, top = 150.0, w_px - 110.0, 60.0
    xs = [left + (right - left) * i / max(1, len(sizes) - 1) for i in range(len(sizes))]
    nodes: list[tuple[float, float]] = []
    for li, n in enumerate(sizes):
        gap = min(18.0, (h_px - top - 24) / max(1, n))
        y0 = top + (h_px - top - 12 - gap * (n - 1)) / 2
        nodes += [(xs[li], y0 + gap * j) for j in range(n)]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    on = np.concatenate([np.ones(sizes[0], np.bool_), *b.hidden_on, np.ones(sizes[-1], np.bool_)])  # (n_units,)
    lines = []
    biases = []
    for li, (wm, bias) in enumerate(b.layout.split(b.genome)):
        links = [(i, j) for i in range(wm.shape[0]) for j in range(wm.shape[1])
                 if on[starts[li] + i] and on[starts[li + 1] + j]]  # connections between units that are on
        wmax = max((abs(float(wm[i, j])) for i, j in links), default=0.0) or 1.0
        for i, j in links:
            v = float(wm[i, j])
            lines.append((abs(v) / wmax, v, wmax, starts[li] + i, starts[li + 1] + j))
        biases += np.tanh(bias).tolist()
    lines.sort()
    segs = [(nodes[a], nodes[c]) for _, _, _, a, c in lines]
    cols = [_rgb(weight_colour(v, wmax)) for _, v, wmax, _, _ in lines]
    widths = [1.5 if mag > 0.6 else 0.75 for mag, *_ in lines]
    ax.add_collection(LineCollection(segs, colors=cols, linewidths=widths))
    values = [0.0] * sizes[0] + biases
    lit = np.flatnonzero(on)
    ax.scatter([nodes[u][0] for u in lit], [nodes[u][1] for u in lit], s=80,
               c=[_rgb(unit_colour(values[u])) for u in lit], edgecolors=_rgb((20, 20, 24)), linewidths=1.0, zorder=3)
    dark = np.flatnonzero(~on)
    if dark.size:
        ax.scatter([nodes[u][0] for u in dark], [nodes[u][1] for u in dark], s=36, facecolors="none",
                   edgecolors=_rgb(OFF_UNIT), linewidths=1.0, zorder=3)
    from .brainfile import input_labels

    labels = input_labels(b.inputs, b.frame)
    for j in range(sizes[0]):
        ax.text(nodes[j][0] - 12, nodes[j][1], labels[j], color=_rgb(TEXT_DIM), fontsize=8, ha="right",
                va="center")
    for k, name in enumerate(b.outputs):
        x, y = nodes[len(nodes) - len(b.outputs) + k]
        ax.text(x + 12, y, name, color=_rgb(TEXT), fontsize=9, va="center")
    p = b.provenance
    family = f"  family {p['family']}" if p.get("family") is not None else ""
    ax.text(10, 18, f"agent {p.get('genome_id', '?')}{family}   {b.describe()}", color=_rgb(TITLE),
            fontsize=11, va="center")
    ax.text(10, 38, f"{p.get('scenario', '?')} seed {p.get('seed', '?')}, age {p.get('age_s', 0):.1f} s, "
            f"{b.encoding} inputs, {b.frame} frame   lines: weights (warm +, cool -)   units: bias",
            color=_rgb(TEXT_DIM), fontsize=8, va="center")
    save_figure(fig, path, facecolor=fig.get_facecolor())
    plt.close(fig)
    return nodes
