"""The brain inspector: one agent's net, weights as lines (warm +, cool -), units coloured by their value.

Only inputs the net really receives are drawn (in the ego frame the heading inputs are always 0: the heading is
the frame itself), each labelled in the frame's own words; the panel is as wide as its longest label needs.
"""

from __future__ import annotations

import numpy as np
import pygame

from ..state import CAUSES
from .theme import NEGATIVE, NEUTRAL, POSITIVE, TEXT, TEXT_DIM, TITLE, WORLD_BG, fonts, panel
from .view import WorldView

OUTPUTS = ("turn", "thrust")
EDGE_WORDS = {"ego": ("ahead", "ahead-left", "ahead-right", "left", "right"),
              "world": ("left", "right", "top", "bottom", "nearest")}
DIR_WORDS = {"ego": ("ahead", "left"), "world": ("x", "y")}  # the two direction components of a sensed thing
ROW_PX = 18  # vertical gap between units
LAYER_PX = 100  # horizontal gap between layers
PAD = 10


def net_inputs(frame: str, offsets: dict[str, tuple[int, int]]) -> list[tuple[int, str]]:
    """(input index, label) of every input the net receives, in order; inputs that are always 0 are left out."""
    d1, d2 = DIR_WORDS.get(frame, ("dir 1", "dir 2"))
    out: list[tuple[int, str]] = []
    for block, (first, n) in offsets.items():
        labels: list[str | None]
        if block == "edges":
            labels = [f"edge {w}" for w in EDGE_WORDS.get(frame, EDGE_WORDS["world"])]
        elif block == "cursor":
            labels = ["cursor dist", f"cursor {d1}", f"cursor {d2}", "click coming"]
        elif block == "self":
            labels = ["speed", *(["cos heading", "sin heading"] if frame == "world" else [None, None])]
        elif block in ("icons", "neighbours"):
            thing = "icon" if block == "icons" else "agent"
            k = max(1, n // 3)
            labels = [f"{thing}{'' if k == 1 else f' {j + 1}'} {w}" for j in range(k) for w in ("dist", d1, d2)]
        elif block == "team":
            labels = [f"{who} {w}" for who in ("foe", "mate") for w in ("dist", d1, d2)]
        else:
            labels = [f"{block} {k + 1}" for k in range(n)]
        labels = (labels + [f"{block} {k + 1}" for k in range(len(labels), n)])[:n]
        out += [(first + k, lab) for k, lab in enumerate(labels) if lab is not None]
    return out


def unit_colour(a: float) -> tuple[int, int, int]:
    """Diverging colour for a unit value in [-1, 1]: blue (negative), grey (0), orange (positive)."""
    a = max(-1.0, min(1.0, a))
    end = POSITIVE if a > 0 else NEGATIVE
    return tuple(int(g + (e - g) * abs(a)) for g, e in zip(NEUTRAL, end))  # type: ignore[return-value]


class Inspector:
    """Which agent is inspected, and its panel (top right). The net picture is cached per genome."""

    def __init__(self) -> None:
        self.slot: int | None = None
        self.gid = -1
        self.dead: tuple[str, float] | None = None  # (cause, age s) once the inspected agent has died
        self.age = 0.0
        self.acts: np.ndarray | None = None  # (n_units,) its unit values (None in replays)
        self.rect: pygame.Rect | None = None  # where the panel was drawn last (window px)
        self.label_rects: list[pygame.Rect] = []  # every text's box in panel px (tests check none is clipped)
        self._net_labels: list[pygame.Rect] = []
        self._net: tuple[object, pygame.Surface, list[tuple[int, int]], list[int], int] | None = None

    @property
    def is_open(self) -> bool:
        return self.slot is not None

    def close(self) -> None:
        self.slot = None

    def pick(self, world: WorldView, x: float, y: float, reach: float, toggle: bool = False) -> None:
        """Inspect the living agent nearest (x, y) world px within reach; none there (or, with toggle, the same
        agent again) closes the panel."""
        slot = world.nearest_alive(x, y, reach)
        if slot is None or (toggle and slot == self.slot and self.dead is None):
            self.slot = None
            return
        self.select(world, slot)

    def select(self, world: WorldView, slot: int) -> None:
        """Inspect whoever holds the slot now."""
        self.slot, self.gid, self.dead = int(slot), int(world.state.genome_id[slot]), None
        self.update(world)

    def alive_at(self, world: WorldView) -> tuple[float, float] | None:
        """World position of the inspected agent while it lives."""
        if self.slot is None or self.dead is not None or int(world.state.genome_id[self.slot]) != self.gid:
            return None
        x, y = world.state.pos[self.slot]
        return float(x), float(y)

    def update(self, world: WorldView) -> None:
        """Follow the inspected agent: its age and unit values, or how it died."""
        if self.slot is None:
            return
        s = world.state
        if self.dead is None and int(s.genome_id[self.slot]) != self.gid:
            self.dead = (CAUSES[int(s.cause[self.slot])], self.age)
        if self.dead is None:
            self.age = float(s.age[self.slot]) * world.settings.world.dt
            acts = world.activations(self.slot)
            self.acts = None if acts is None else acts.copy()

    # ---- drawing ----------------------------------------------------------------------------------------------
    def draw(self, surf: pygame.Surface, world: WorldView) -> pygame.Rect | None:
        if self.slot is None:
            return None
        self.update(world)
        f = fonts()
        slot, s = self.slot, world.state
        title = f.normal.render(f"agent {self.gid}  (slot {slot})", True, TITLE)
        if self.dead is None:
            v = world.speed(slot)
            speed = "" if v is None else f"speed {v:.0f} px/s   "
            sub = (f"age {self.age:.1f} s   {speed}parent {int(s.parent_id[slot])}   "
                   f"family {int(world.founders()[slot])}")
        else:
            sub = f"died ({self.dead[0]}) at {self.dead[1]:.1f} s; right-click or I picks another"
        subtitle = f.small.render(sub, True, TEXT)
        net, nodes, units, net_h = self._net_picture(world)
        live = self.acts is not None
        note = None if live else f.small.render("weights only: a replay records no activations", True, TEXT_DIM)
        w = max(net.get_width(), title.get_width() + 2 * PAD, subtitle.get_width() + 2 * PAD,
                0 if note is None else note.get_width() + 2 * PAD)
        top = 50
        h = top + net_h + (24 if note is not None else 8)
        p = panel(w, h)
        self.label_rects = [p.blit(title, (PAD, 8)), p.blit(subtitle, (PAD, 28))]
        p.blit(net, (0, top))
        self.label_rects += [r.move(0, top) for r in self._net_labels]
        layout = world.layout
        for unit, (nx, ny) in zip(units, nodes):
            a = float(self.acts[unit]) if live else 0.0
            pygame.draw.circle(p, unit_colour(a), (nx, ny + top), 6)
            pygame.draw.circle(p, (20, 20, 24), (nx, ny + top), 6, 1)
        n_out = layout.n_out
        for k in range(n_out):
            nx, ny = nodes[len(nodes) - n_out + k]
            name = OUTPUTS[k] if k < len(OUTPUTS) else f"out {k + 1}"
            text = f"{name} {float(self.acts[layout.n_units - n_out + k]):+.2f}" if live else name
            self.label_rects.append(p.blit(f.small.render(text, True, TEXT), (nx + 10, ny + top - 6)))
        if note is not None:
            self.label_rects.append(p.blit(note, (PAD, h - 18)))
        sw = surf.get_width()
        self.rect = surf.blit(p, (max(0, sw - w - 8), 8))
        return self.rect

    def _net_picture(self, world: WorldView) -> tuple[pygame.Surface, list[tuple[int, int]], list[int], int]:
        """The net's lines and input labels (cached per genome and layout), unit positions and unit indices."""
        layout = world.layout
        inputs = net_inputs(world.settings.brain.frame, world.input_offsets)
        key = (self.gid, layout.sizes, tuple(inputs))
        if self._net is not None and self._net[0] == key:
            _, surf, nodes, units, h = self._net
            return surf, nodes, units, h
        f = fonts().small
        labels = [f.render(lab, True, TEXT_DIM) for _, lab in inputs]
        left = PAD + max((t.get_width() for t in labels), default=0) + 12
        right = PAD + 12 + f.size("thrust +0.00")[0]
        cols = len(layout.sizes)
        width = left + LAYER_PX * max(2, cols - 1) + right
        shown = [len(inputs), *layout.sizes[1:]]
        h = ROW_PX * max(shown) + 10
        xs = [left + (width - left - right) * i / max(1, cols - 1) for i in range(cols)]
        starts = np.concatenate([[0], np.cumsum(layout.sizes)]).astype(int)
        units: list[int] = []
        nodes: list[tuple[int, int]] = []
        pos_of: dict[int, tuple[int, int]] = {}
        for li, n in enumerate(shown):
            first = (h - ROW_PX * (n - 1)) / 2
            ids = [i for i, _ in inputs] if li == 0 else list(range(starts[li], starts[li] + n))
            for j, u in enumerate(ids):
                pos_of[u] = (int(xs[li]), int(first + ROW_PX * j))
                units.append(u)
                nodes.append(pos_of[u])
        surf = pygame.Surface((width, h), pygame.SRCALPHA)
        lines = []
        for li, (wm, _b) in enumerate(layout.split(world.genome(self.slot).copy())):
            rows = [i for i, _ in inputs] if li == 0 else range(wm.shape[0])
            wmax = float(np.abs(wm).max()) or 1.0
            for i in rows:
                for j in range(wm.shape[1]):
                    v = float(wm[i, j])
                    lines.append((abs(v) / wmax, v, starts[li] + i, starts[li + 1] + j))
        lines.sort()  # the strongest drawn last, on top
        for mag, val, a, b in lines:
            base = POSITIVE if val > 0 else NEGATIVE
            col = tuple(int(WORLD_BG[k] + (base[k] - WORLD_BG[k]) * (0.15 + 0.85 * mag)) for k in range(3))
            pygame.draw.line(surf, col, pos_of[a], pos_of[b], 2 if mag > 0.6 else 1)
        self._net_labels = []
        for (i, _), t in zip(inputs, labels):
            x, y = pos_of[i]
            self._net_labels.append(surf.blit(t, (x - 10 - t.get_width(), y - 6)))
        self._net = (key, surf, nodes, units, h)
        return surf, nodes, units, h
