"""The ancestry panel (key T): where the living came from, drawn over the world.

Time runs across (from the session's or the replay's start to now), descent down. Each row is one living agent,
or a bundle of the living of one branch when there are more of them than the panel has rows for; a line starts
where its genome was born and joins its ancestor's line there, so lineages meet where they split (lineage.branches
already folds chains of single children and drops everything without a living descendant). Lines wear the colour
the smileys of the family wear; every living agent's tip is a dot at "now"; the families with the most living
descendants are labelled with their count. Families that do not fit are summed up in one line.

Cheap per frame: the panel is a cached surface, rebuilt only when the world's births or deaths changed (or the
replay moved), at most every REFRESH_S seconds and never more often than BUSY_FACTOR times its own build time. A
build works in pieces (lineage.Steps) from a copy taken when it starts, at most BUDGET_S of them per frame, so a
big world's ancestry takes a few frames to appear instead of stalling one. (A worker thread was tried: the
pure-Python build held the interpreter lock in 5 ms slices and stretched frames at 5,000 agents to 230 ms.)
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pygame

from ..lineage import PIECE, Steps, finish, tint_of
from .hud import clock
from .theme import TEXT_DIM, TITLE, fonts, shade

REFRESH_S = 0.5  # at most this often (wall seconds) while births happen
BUSY_FACTOR = 10.0  # ... and never more than a tenth of the time spent building the panel
BUDGET_S = 0.003  # seconds of building per frame
DRAW_PIECE = 64  # lines drawn between two pauses
ROW_MAX_PX = 14  # row spacing when few rows are drawn
ROW_MIN_PX = 4  # the fewest px per row: a taller tree bundles its branches instead
MAX_ROWS = 400  # rows at most, however tall the window (a 4K screen): the drawing's cost stays bounded
MIN_FAMILY_SHARE = 3  # at most rows / 3 families are drawn, so the biggest have rows to branch into
MAX_LABELS = 10  # founders labelled with their living descendants
FAMILY_GAP_PX = 3  # between two families' bands
HEAD_PX, FOOT_PX, PAD = 50, 52, 12
LABELS_HEAD = "family: alive"
BUNDLE_W = "x0000"  # room for a bundle's count right of the tips
INF = float("inf")  # a line that reaches now
PANEL_FILL = (12, 14, 20)  # opaque: smileys under the tree would read as part of it, and an opaque blit is a copy


@dataclass
class Ancestry:
    """What a view knows about the ancestry of its living at one moment (lineage.branches rows), or why not."""

    rows: list[dict[str, Any]]
    start_s: float  # sim seconds where the time axis starts
    now_s: float  # ... and ends
    unresolved: int = 0  # children whose parent was never seen (their lines start a family of their own)
    message: str | None = None  # one line instead of a tree (no data, nobody alive)


@dataclass
class Line:
    """One drawn line: a genome from its birth to `end_s` at row `y`, joined to its parent's row at its birth."""

    gid: int
    founder: int
    born_s: float
    end_s: float
    y: int  # row
    parent_y: int | None
    tip: bool  # a living agent's tip (or a bundle's) at now
    bundle: int  # living agents drawn as this one line (0: the line is a single genome)


@dataclass
class TreeLayout:
    lines: list[Line] = field(default_factory=list)
    rows: int = 0
    families: list[tuple[int, int, int, int]] = field(default_factory=list)  # (founder, living, first row, last row)
    hidden_families: int = 0
    hidden_living: int = 0
    bundled: int = 0  # living agents inside bundles
    living: int = 0
    tips: dict[int, int] = field(default_factory=dict)  # row -> genome id of a single living agent


def lay_out(rows: list[dict[str, Any]], max_rows: int) -> TreeLayout:
    """lay_out_steps() at once."""
    return finish(lay_out_steps(rows, max_rows))


def lay_out_steps(rows: list[dict[str, Any]], max_rows: int) -> Steps[TreeLayout]:
    """Choose what to draw within max_rows rows: the families with most living descendants (at most
    max_rows / MIN_FAMILY_SHARE of them), each starting as one bundle; then the bundles with most living agents
    are opened into their branches while the rows last (biggest first)."""
    max_rows = max(1, int(max_rows))
    by_gid = {r["gid"]: r for r in rows}
    kids: dict[int, list[int]] = {}
    fam_roots: dict[int, list[int]] = {}
    for k, r in enumerate(rows):
        if r["parent"] in by_gid:
            kids.setdefault(r["parent"], []).append(r["gid"])
        else:
            fam_roots.setdefault(r["founder"], []).append(r["gid"])
        if k % PIECE == 0:
            yield
    for k, ks in enumerate(kids.values()):
        ks.sort(key=lambda g: (by_gid[g]["born_s"], g))
        if k % PIECE == 0:
            yield
    fam_living = {f: sum(by_gid[g]["living"] for g in gs) for f, gs in fam_roots.items()}
    yield
    order = sorted(fam_living, key=lambda f: (-fam_living[f], f))
    shown = order[: max(1, max_rows // MIN_FAMILY_SHARE)]
    out = TreeLayout(living=sum(fam_living.values()), hidden_families=len(order) - len(shown),
                     hidden_living=sum(fam_living[f] for f in order[len(shown):]))
    # A family with several roots (founders read from a saved population) opens into them like a node into kids.
    fam_key = {f: -1 - k for k, f in enumerate(shown)}  # negative keys: family nodes, never genome ids
    for f, key in fam_key.items():
        kids[key] = sorted(fam_roots[f], key=lambda g: (by_gid[g]["born_s"], g))
    opened: set[int] = set()
    used = len(shown)
    heap = [(-fam_living[f], fam_key[f]) for f in shown]
    heapq.heapify(heap)
    while heap:
        if len(heap) % PIECE == 0:
            yield
        _, node = heapq.heappop(heap)
        ks = kids.get(node, [])
        if not ks:
            continue
        cost = len(ks) - 1 + (1 if node >= 0 and by_gid[node]["alive"] else 0)
        if used + cost > max_rows:
            continue  # stays one bundle; a smaller one may still fit
        used += cost
        opened.add(node)
        for g in ks:
            heapq.heappush(heap, (-by_gid[g]["living"], g))

    def visit(g: int) -> Steps[int]:
        """Rows for genome g and what is drawn under it; returns its row."""
        if len(out.lines) % PIECE == 0:
            yield
        r = by_gid[g]
        if g not in opened:
            y = out.rows
            out.rows += 1
            single = r["alive"] and r["living"] == 1
            out.lines.append(Line(g, r["founder"], r["born_s"], INF, y, None, True, 0 if single else r["living"]))
            if single:
                out.tips[y] = g
            else:
                out.bundled += r["living"]
            return y
        line = Line(g, r["founder"], r["born_s"], INF, -1, None, r["alive"], 0)
        out.lines.append(line)
        if r["alive"]:  # a living parent: its own row first, its descendants below
            line.y = out.rows
            out.tips[line.y] = g
            out.rows += 1
        ks = kids[g]
        first = yield from visit(ks[0])
        for k in ks[1:]:
            yield from visit(k)
        if not r["alive"]:  # a dead ancestor shares the row of its first branch and ends at its last split
            line.y = first
            line.end_s = max(by_gid[k]["born_s"] for k in ks)
        return line.y

    for f in shown:
        lo, roots = out.rows, kids[fam_key[f]]
        if fam_key[f] in opened:
            for g in roots:
                yield from visit(g)
        else:  # several roots that do not fit: the family is one bundle
            out.lines.append(Line(roots[0], f, by_gid[roots[0]]["born_s"], INF, out.rows, None, True, fam_living[f]))
            out.rows += 1
            out.bundled += fam_living[f]
        out.families.append((f, fam_living[f], lo, out.rows - 1))
    row_of = {ln.gid: ln.y for ln in out.lines}
    for ln in out.lines:
        ln.parent_y = row_of.get(by_gid[ln.gid]["parent"])
    return out


# ---- drawing --------------------------------------------------------------------------------------------------
def founder_label(f: int) -> str:
    """A founder's name; a family started by a child whose parent was never seen is named after that parent."""
    return f"#{f}" if f >= 0 else f"#{-2 - f}?"


def plot_rect(size: tuple[int, int]) -> pygame.Rect:
    """The tree's area in panel px, before the label column is taken off its right."""
    w, h = size
    return pygame.Rect(PAD, HEAD_PX, w - 2 * PAD, h - HEAD_PX - FOOT_PX)


def backdrop(size: tuple[int, int]) -> pygame.Surface:
    """An opaque panel in the display's pixel format (blitted every frame: a plain copy)."""
    screen = pygame.display.get_surface()  # made in its format: convert() of a panel this size took ~7 ms
    p = pygame.Surface((max(1, size[0]), max(1, size[1])), 0, screen) if screen is not None else \
        pygame.Surface((max(1, size[0]), max(1, size[1])))
    p.fill(PANEL_FILL)
    return p


def tips_x(size: tuple[int, int], lay: TreeLayout | None) -> int:
    """Panel px where the tree ends (now): the label column and bundle counts take the room to its right."""
    plot, small = plot_rect(size), fonts().small
    if lay is None or not lay.families:
        return plot.right
    widest = max(len(founder_label(f)) for f, *_ in lay.families) + 2 + len(str(lay.living))
    return plot.right - (max(small.size("0" * widest)[0], small.size(LABELS_HEAD)[0]) + 12 + small.size(BUNDLE_W)[0])


def fit(rows: list[dict[str, Any]], size: tuple[int, int]) -> Steps[TreeLayout]:
    """lay_out_steps() with as many rows as a panel of this size holds at ROW_MIN_PX each, gaps between families
    included."""
    height = plot_rect(size).height
    budget = max(1, min(MAX_ROWS, height // ROW_MIN_PX))
    while True:
        lay = yield from lay_out_steps(rows, budget)
        over = lay.rows * ROW_MIN_PX + FAMILY_GAP_PX * (len(lay.families) - 1) - height
        if over <= 0 or budget == 1:
            return lay
        budget = max(1, budget - -(-over // ROW_MIN_PX))


@dataclass
class Rows:
    """Where each row is drawn: rows dy px apart, a gap after each family's band."""

    top: float
    dy: float
    gap: float
    band: list[int]  # (rows,) family index of every row

    @classmethod
    def of(cls, lay: TreeLayout, top: float, height: float) -> Rows:
        n_fam = len(lay.families)
        gap = float(FAMILY_GAP_PX) if n_fam > 1 else 0.0
        dy = max(1.0, min(float(ROW_MAX_PX), (height - gap * (n_fam - 1)) / max(1, lay.rows)))
        band = [0] * lay.rows
        for i, (_, _, lo, hi) in enumerate(lay.families):
            band[lo: hi + 1] = [i] * (hi - lo + 1)
        return cls(top, dy, gap, band)

    def y(self, row: int) -> float:
        return self.top + (row + 0.5) * self.dy + self.band[row] * self.gap


def render(anc: Ancestry, lay: TreeLayout | None, size: tuple[int, int]) -> tuple[pygame.Surface, Rows | None]:
    """render_steps() at once."""
    return finish(render_steps(anc, lay, size))


def render_steps(anc: Ancestry, lay: TreeLayout | None, size: tuple[int, int]
                 ) -> Steps[tuple[pygame.Surface, Rows | None]]:
    """The panel (anc laid out as lay by fit() for this size), drawn DRAW_PIECE lines at a time onto a surface of
    its own: (surface, where its rows are, in panel px)."""
    w, h = size
    f = fonts()
    p = backdrop(size)
    p.blit(f.normal.render("ancestry of the living", True, TITLE), (PAD, 8))
    plot = plot_rect(size)
    if lay is None or anc.message is not None or not anc.rows:
        msg = anc.message or "nobody is alive"
        p.blit(f.small.render(f"{msg}   (T closes)", True, TEXT_DIM), (PAD, 30))
        return p, None
    plot.width = tips_x(size, lay) - plot.left
    fams = len(lay.families) + lay.hidden_families
    sub = f"{lay.living:,} alive in {fams:,} famil{'y' if fams == 1 else 'ies'}"
    for extra in ("   time across, descent down   T closes", "   T closes", ""):
        if f.small.size(sub + extra)[0] <= w - 2 * PAD:
            sub += extra
            break
    p.blit(f.small.render(sub, True, TEXT_DIM), (PAD, 30))
    rows = Rows.of(lay, plot.top, plot.height)
    dy, y_of = rows.dy, rows.y
    span = max(1e-9, anc.now_s - anc.start_s)

    def x_of(t: float) -> float:
        t = anc.now_s if t == INF else t
        return plot.left + (min(anc.now_s, max(anc.start_s, t)) - anc.start_s) / span * plot.width

    thick = 3 if dy >= 8 else 2
    for k, ln in enumerate(lay.lines):  # joins first, lines over them
        if k % DRAW_PIECE == 0:
            yield
        if ln.parent_y is not None and ln.parent_y != ln.y:
            x = x_of(ln.born_s)
            pygame.draw.line(p, shade(tint_of(ln.founder), 0.6), (x, y_of(ln.parent_y)), (x, y_of(ln.y)))
    small = f.small
    for k, ln in enumerate(lay.lines):
        if k % DRAW_PIECE == 0:
            yield
        col, y = tint_of(ln.founder), y_of(ln.y)
        x0, x1 = x_of(ln.born_s), x_of(ln.end_s)
        pygame.draw.line(p, col, (x0, y), (max(x0 + 1, x1), y), thick if ln.bundle else 1)
        if ln.tip:
            pygame.draw.circle(p, col, (plot.right, y), max(2.0, min(3.0, dy / 2.5)) + (1 if ln.bundle else 0))
            if ln.bundle and dy >= 11:
                p.blit(small.render(f"x{ln.bundle}", True, shade(col, 0.85)), (plot.right + 5, y - 6))
    # founders with the most living descendants, labelled at the middle of their band where there is room
    placed: list[tuple[float, float]] = []
    lx = plot.right + small.size(BUNDLE_W)[0] + 8
    p.blit(small.render(LABELS_HEAD, True, TEXT_DIM), (lx, plot.top - 14))
    for fam, living, lo, hi in sorted(lay.families, key=lambda t: -t[1])[:MAX_LABELS]:
        text = small.render(f"{founder_label(fam)}: {living}", True, tint_of(fam))
        y = (y_of(lo) + y_of(hi)) / 2 - text.get_height() / 2
        y = max(float(plot.top), min(float(plot.bottom - text.get_height()), y))
        if lx + text.get_width() > w - 4 or any(abs(y - a) < text.get_height() + 1 for a, _ in placed):
            continue
        placed.append((y, living))
        p.blit(text, (lx, y))
    # time axis and notes
    ax = plot.bottom + 4
    pygame.draw.line(p, (70, 74, 88), (plot.left, ax), (plot.right, ax))
    t0 = small.render(clock(anc.start_s), True, TEXT_DIM)
    t1 = small.render(f"now {clock(anc.now_s)}", True, TEXT_DIM)
    p.blit(t0, (plot.left, ax + 3))
    p.blit(t1, (plot.right - t1.get_width(), ax + 3))
    arrow = small.render("time", True, TEXT_DIM)
    p.blit(arrow, arrow.get_rect(midtop=(plot.centerx, ax + 3)))
    notes = []  # most important first; two lines at most
    if lay.hidden_families:
        notes.append(f"+{lay.hidden_families:,} more families ({lay.hidden_living:,} alive) not drawn")
    if anc.unresolved:
        notes.append(f"{anc.unresolved} unseen parent{'s' if anc.unresolved > 1 else ''} (families marked ?)")
    if lay.bundled:
        notes.append(f"{lay.bundled:,} alive drawn as bundles (thick lines)")
    lines: list[str] = []
    for note in notes:
        if lines and small.size(f"{lines[-1]};  {note}")[0] <= w - 2 * PAD:
            lines[-1] = f"{lines[-1]};  {note}"
        elif len(lines) < 2:
            lines.append(note)
    for k, text in enumerate(lines):
        p.blit(small.render(text, True, TEXT_DIM), (PAD, h - 16 * (len(lines) - k) - 2))
    return p, rows


def given(anc: Ancestry) -> Steps[Ancestry]:
    """Steps that have nothing left to do."""
    return anc
    yield  # noqa: B901 - a generator that returns at once


Built = tuple[Ancestry, "TreeLayout | None", pygame.Surface, "Rows | None"]


def build(steps: Steps[Ancestry], size: tuple[int, int]) -> Steps[Built]:
    """A view's ancestry steps, their layout for a panel of this size and its drawing."""
    try:
        anc = yield from steps
    except Exception as e:  # noqa: BLE001 - a panel never takes the session down; it says why instead
        anc = Ancestry([], 0.0, 0.0, message=f"no ancestry: {type(e).__name__}: {e}")
    lay = None if not anc.rows or anc.message is not None else (yield from fit(anc.rows, size))
    surf, rows = yield from render_steps(anc, lay, size)
    pygame.draw.rect(surf, (70, 74, 88), surf.get_rect(), 1)
    return anc, lay, surf, rows


class AncestryPanel:
    """Open or closed (T), where it was drawn, its cached surface and the build under way."""

    def __init__(self) -> None:
        self.is_open = False
        self.rect: pygame.Rect | None = None  # window px of the last drawing
        self.layout: TreeLayout | None = None
        self.builds = 0  # trees built (tests check the cache)
        self.build_s = 0.0  # seconds of work the last one took, all its pieces together
        self._rows: Rows | None = None
        self._tip_row: dict[int, int] = {}  # genome id -> row of a single living agent
        self._tip_x = 0  # panel px of the tips
        self._surf: pygame.Surface | None = None
        self._result: Built | None = None  # a finished build, shown at the next draw
        self._drawn: Ancestry | None = None  # what the surface shows
        self._key: object = None
        self._made = -1e9
        self._job: Generator[None, None, tuple[Ancestry, TreeLayout | None]] | None = None
        self._job_s = 0.0

    def toggle(self) -> bool:
        self.is_open = not self.is_open
        if not self.is_open:
            self.forget()
        return self.is_open

    def forget(self) -> None:
        """Drop the cached drawing and any build under way (closed, or another world shown)."""
        self._surf, self._drawn, self._result, self.layout, self.rect, self._key = None, None, None, None, None, None
        self._job = None

    def busy(self) -> bool:
        return self._job is not None

    def wait(self) -> None:
        """Finish a build under way at once (screenshots and tests)."""
        self._work(float("inf"))

    def _start(self, world: Any, size: tuple[int, int], key: object, now: float) -> None:
        self._key, self._made = key, now
        self._job = build(world.ancestry_steps(), size)  # the view copies what it reads here
        self._job_s = 0.0

    def _work(self, budget: float) -> None:
        """Advance the build under way for about `budget` seconds."""
        t0 = time.perf_counter()
        while self._job is not None:
            try:
                next(self._job)
            except StopIteration as done:
                self._result = done.value
                self._job = None
                self.builds += 1
                self.build_s = self._job_s + time.perf_counter() - t0
                return
            if time.perf_counter() - t0 >= budget:
                break
        self._job_s += time.perf_counter() - t0

    def draw(self, surf: pygame.Surface, world: Any, area: pygame.Rect, now: float | None = None,
             selected: int | None = None) -> pygame.Rect:
        """Blit the panel into area (window px); start a new build when births or deaths changed the ancestry (at
        most every REFRESH_S, or BUSY_FACTOR times the last build's time) and draw a finished one."""
        now = time.perf_counter() if now is None else now
        size = (area.width, area.height)
        key = world.ancestry_key()
        if not self.busy():
            first = self._drawn is None and self._result is None
            due = key != self._key and now - self._made >= max(REFRESH_S, BUSY_FACTOR * self.build_s)
            if first or due:
                self._start(world, size, key, now)
        self._work(BUDGET_S)
        result, self._result = self._result, None
        if result is None and self._drawn is not None and self._surf is not None and self._surf.get_size() != size:
            result = (self._drawn, None, self._surf, None)  # resized since it was drawn
        if result is not None and result[2].get_size() != size:  # the same tree, laid out again for this size
            result = finish(build(given(result[0]), size))
        if result is not None:
            anc, lay, self._surf, self._rows = result
            self._drawn, self.layout = anc, lay
            self._tip_row = {} if lay is None else {g: r for r, g in lay.tips.items()}
            self._tip_x = tips_x(size, lay)
        if self._surf is None or self._surf.get_size() != size:
            self._surf = backdrop(size)
            self._surf.blit(fonts().normal.render("ancestry of the living", True, TITLE), (PAD, 8))
            self._surf.blit(fonts().small.render("reading the ancestry...", True, TEXT_DIM), (PAD, 30))
        self.rect = surf.blit(self._surf, area.topleft)
        row = self._tip_row.get(selected) if selected is not None else None
        if row is not None and self._rows is not None:  # the inspected agent's tip
            pygame.draw.circle(surf, (255, 255, 255), (self.rect.left + self._tip_x, self.rect.top + self._rows.y(row)),
                               5, 2)
        return self.rect

    def contains(self, pos: tuple[int, int]) -> bool:
        return self.is_open and self.rect is not None and self.rect.collidepoint(pos)

    def genome_at(self, pos: tuple[int, int]) -> int | None:
        """The genome id of the living agent whose row is nearest pos (window px), within half a row or 6 px."""
        if self.layout is None or self.rect is None or self._rows is None or not self.layout.tips:
            return None
        y = pos[1] - self.rect.top
        best = min(self.layout.tips, key=lambda r: abs(self._rows.y(r) - y))
        return self.layout.tips[best] if abs(self._rows.y(best) - y) <= max(self._rows.dy / 2, 6.0) else None
