"""Family tree of a replay as a figure: time across, descent down, one line per genome (matplotlib, lazily).

Each genome is a horizontal line from its birth to its death at its row (lineage.tree_rows: depth first, so a
family is one band of rows), joined to its parent's row by a short vertical line at its birth. Lineages with a
descendant alive at the end are drawn strong, extinct ones faint; colours are the families' colours in the viewer
(lineage.FAMILY_TINTS by founder). The most successful founders are labelled with their family's size and lifetime.
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
