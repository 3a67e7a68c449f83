"""The brain inspector: one agent's net, weights as lines (warm +, cool -), units coloured by their value.

Every input is drawn, labelled in the frame's own words; the panel is as wide as its longest label needs.
A growing brain (Layout.gated) shows its active structure: a hidden unit that is off is a faint empty ring in its
slot, and its connections are not drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pygame

from ..brain import Layout, active_units
from ..state import CAUSES
from .theme import NEGATIVE, NEUTRAL, OFF_UNIT, POSITIVE, TEXT, TEXT_DIM, TITLE, WORLD_BG, fonts, panel
from .view import WorldView

OUTPUTS = ("turn", "thrust")
EDGE_WORDS = {"ego": ("ahead", "ahead-left", "ahead-right", "left", "right"),
              "world": ("left", "right", "top", "bottom", "nearest")}
DIR_WORDS = {"ego": ("ahead", "left"), "world": ("x", "y")}  # the two direction components of a sensed thing
ROW_PX = 18  # vertical gap between units
LAYER_PX = 100  # horizontal gap between layers
PAD = 10


def net_inputs(frame: str, offsets: dict[str, tuple[int, int]]) -> list[tuple[int, str]]:
    """(input index, label) of every input of the net, in order."""
    d1, d2 = DIR_WORDS.get(frame, ("dir 1", "dir 2"))
    out: list[tuple[int, str]] = []
    for block, (first, n) in offsets.items():
        if block == "edges":
            labels = [f"edge {w}" for w in EDGE_WORDS.get(frame, EDGE_WORDS["world"])]
        elif block == "cursor":
            labels = ["cursor dist", f"cursor {d1}", f"cursor {d2}", "click coming"]
        elif block == "self":
            labels = ["speed", "cos heading", "sin heading"]  # speed alone in the ego frame (n = 1)
        elif block in ("icons", "neighbours"):
            thing = "icon" if block == "icons" else "agent"
            k = max(1, n // 3)
            labels = [f"{thing}{'' if k == 1 else f' {j + 1}'} {w}" for j in range(k) for w in ("dist", d1, d2)]
        elif block == "team":
            labels = [f"{who} {w}" for who in ("foe", "mate") for w in ("dist", d1, d2)]
        else:
            labels = [f"{block} {k + 1}" for k in range(n)]
        labels = (labels + [f"{block} {k + 1}" for k in range(len(labels), n)])[:n]
        out += [(first + k, lab) for k, lab in enumerate(labels)]
    return out


def units_on(layout: Layout, genome: np.ndarray) -> np.ndarray:
    """(n_units,) bool: which units of the net are on (inputs and outputs always; hidden units by their gates)."""
    hidden = active_units(layout, genome)
    n_in, n_out = layout.n_in, layout.n_out
    return np.concatenate([np.ones(n_in, np.bool_), *hidden, np.ones(n_out, np.bool_)])


def hidden_caption(layout: Layout, genome: np.ndarray) -> str:
    """"hidden 3/16 on" (one figure per hidden layer) for a growing brain; "" for a fixed one."""
    if not layout.gated:
        return ""
    return "hidden " + ", ".join(f"{int(a.sum())}/{a.size}" for a in active_units(layout, genome)) + " on"


@dataclass
class NetPicture:
    """The drawn net of one genome: its lines on a transparent surface, where each unit sits and whether it is on."""

    key: object
    surf: pygame.Surface
    units: list[int]  # unit index (into the activation row) of every unit drawn, inputs first
    nodes: list[tuple[int, int]]  # ... its position, panel px
    on: list[bool]  # ... False: a hidden unit that is off (an empty ring, no connections)
    lines: list[tuple[int, int]]  # (unit, unit) of every connection drawn
    height: int
    caption: str  # hidden_caption of the genome


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
        self.about = ""  # the panel's third line as last drawn (structure, agility, species)
        self.acts: np.ndarray | None = None  # (n_units,) its unit values (None in replays)
        self.species: int | None = None  # its species number (-1: none yet), None in a world without species
        self.rect: pygame.Rect | None = None  # where the panel was drawn last (window px)
        self.label_rects: list[pygame.Rect] = []  # every text's box in panel px (tests check none is clipped)
        self._net_labels: list[pygame.Rect] = []
        self._net: NetPicture | None = None

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
            species = world.species()
            self.species = None if species is None else int(species[self.slot])

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
        pic = self.picture(world)
        layout = world.layout
        third = [pic.caption]
        agility = world.agility(slot) if self.dead is None else None
        if agility is not None:
            third.append(f"agility {agility:.2f}")
        if self.species is not None:
            third.append(f"species {self.species}" if self.species >= 0 else "no species yet")
        caption = self.about = "   ".join(t for t in third if t)
        about = f.small.render(caption, True, TEXT) if caption else None
        live = self.acts is not None
        note = None if live else f.small.render("weights only: a replay records no activations", True, TEXT_DIM)
        w = max(pic.surf.get_width(), title.get_width() + 2 * PAD, subtitle.get_width() + 2 * PAD,
                *(0 if t is None else t.get_width() + 2 * PAD for t in (about, note)))
        top = 50 if about is None else 66
        h = top + pic.height + (24 if note is not None else 8)
        p = panel(w, h)
        self.label_rects = [p.blit(title, (PAD, 8)), p.blit(subtitle, (PAD, 28))]
        if about is not None:
            self.label_rects.append(p.blit(about, (PAD, 44)))
        p.blit(pic.surf, (0, top))
        self.label_rects += [r.move(0, top) for r in self._net_labels]
        for unit, (nx, ny), on in zip(pic.units, pic.nodes, pic.on):
            if not on:
                pygame.draw.circle(p, OFF_UNIT, (nx, ny + top), 4, 1)
                continue
            a = float(self.acts[unit]) if live else 0.0
            pygame.draw.circle(p, unit_colour(a), (nx, ny + top), 6)
            pygame.draw.circle(p, (20, 20, 24), (nx, ny + top), 6, 1)
        nodes = pic.nodes
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

    def picture(self, world: WorldView) -> NetPicture:
        """The inspected genome's net: lines and input labels drawn once per genome and layout, unit positions."""
        layout = world.layout
        inputs = net_inputs(world.settings.brain.frame, world.input_offsets)
        key = (self.gid, layout, tuple(inputs))
        if self._net is not None and self._net.key == key:
            return self._net
        genome = world.genome(self.slot).copy()
        on = units_on(layout, genome)  # (n_units,)
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
        for li, (wm, _b) in enumerate(layout.split(genome)):
            rows = [i for i, _ in inputs] if li == 0 else range(wm.shape[0])
            links = [(i, j) for i in rows for j in range(wm.shape[1])
                     if on[starts[li] + i] and on[starts[li + 1] + j]]  # connections between units that are on
            wmax = max((abs(float(wm[i, j])) for i, j in links), default=0.0) or 1.0
            for i, j in links:
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
        self._net = NetPicture(key, surf, units, nodes, [bool(on[u]) for u in units], [(a, b) for _, _, a, b in lines],
                               h, hidden_caption(layout, genome))
        return self._net
