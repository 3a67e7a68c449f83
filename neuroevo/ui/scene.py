"""The world on a surface: floor, hazard icons, death markers and click rings, smileys, the cursor."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pygame

from ..state import C_ARMED
from .geometry import Camera
from .sprites import CRISP_FROM, CRISP_UNTIL, Colour, SpriteBank, colouring, expressions
from .theme import (
    ARMED_COLOUR,
    BG,
    CAUSE_COLOURS,
    CLICK_COLOUR,
    CLICK_RING_S,
    CURSOR_COLOUR,
    DEATH_MARK_S,
    ICON_EDGE,
    ICON_FILL,
    ICON_TOP,
    MAX_EFFECTS,
    MOUSE_RING,
    WORLD_BG,
    WORLD_EDGE,
    shade,
)
from .view import Marker, WorldView


@dataclass
class Effect:
    x: float  # world px
    y: float
    born: float  # seconds on the clock effects fade by (wall time live, video time in exports)
    kind: str  # "click" or a death cause
    life: float


class Effects:
    """Fading death markers and click rings (one click ring at a time)."""

    def __init__(self) -> None:
        self.items: list[Effect] = []

    def add(self, markers: list[Marker], now: float) -> None:
        for m in markers:
            if m.kind == "click":
                self.items = [e for e in self.items if e.kind != "click"]
                self.items.append(Effect(m.x, m.y, now, "click", CLICK_RING_S))
            elif len(self.items) < MAX_EFFECTS:
                self.items.append(Effect(m.x, m.y, now, m.kind, DEATH_MARK_S))

    def clear(self) -> None:
        self.items.clear()

    def draw(self, surf: pygame.Surface, cam: Camera, kill_radius: float, now: float) -> None:
        self.items = [e for e in self.items if 0.0 <= now - e.born < e.life]
        kill = kill_radius * cam.scale
        for e in self.items:
            f = (now - e.born) / e.life
            c = cam.to_screen(e.x, e.y)
            if e.kind == "click":
                pygame.draw.circle(surf, shade(CLICK_COLOUR, 1.0 - 0.7 * f), c, kill * (0.6 + 0.9 * f), 3)
            else:
                col = shade(CAUSE_COLOURS.get(e.kind, (200, 200, 200)), 1.0 - 0.8 * f)
                r = (5 + 6 * f) * max(0.6, cam.scale)
                pygame.draw.line(surf, col, (c[0] - r, c[1] - r), (c[0] + r, c[1] + r), 2)
                pygame.draw.line(surf, col, (c[0] - r, c[1] + r), (c[0] + r, c[1] - r), 2)


def colour_mode(world: WorldView, wanted: str) -> str:
    """The colour mode drawn: `wanted` if the world offers it, else its default (see WorldView.colour_modes)."""
    modes = world.colour_modes()
    return wanted if wanted in modes else modes[0]


class Scene:
    """Draws a WorldView through a Camera. Keeps the sprite bank (rebuilt when the face size or palette changes)
    and the fading effects."""

    def __init__(self) -> None:
        self.effects = Effects()
        self._bank: SpriteBank | None = None

    def sprites(self, world: WorldView, cam: Camera, tints: tuple[Colour, ...] | None = None,
                drawn: int = 0) -> SpriteBank:
        """The bank for the world at the camera's scale, in `tints` (default: the world's default colouring);
        `drawn` smileys about to be drawn choose crisp tiles for crowds (sprites.CRISP_FROM, with hysteresis)."""
        if tints is None:
            tints = colouring(colour_mode(world, ""), world.teams(), world.founders(), None)[0]
        diameter = round(2.0 * world.settings.world.radius * cam.scale)
        bank = self._bank
        crisp = drawn >= CRISP_FROM or (bank is not None and bank.crisp and drawn >= CRISP_UNTIL)
        crisp = crisp and pygame.display.get_surface() is not None  # as SpriteBank decides (offscreen: smooth)
        if bank is None or bank.tints != tints or bank.size != SpriteBank.tile_px(diameter) or bank.crisp != crisp:
            bank = self._bank = SpriteBank(tints, diameter, crisp)
        return bank

    def draw(self, surf: pygame.Surface, world: WorldView, cam: Camera, now: float, *, cursor: str = "bot",
             mouse: tuple[float, float] | None = None, selected: int | None = None, colours: str = "") -> None:
        """cursor: "bot" (a crosshair ring), "plain" (a ring, as replays show any cursor) or "mouse" (a thin
        ring around `mouse`, window px, when the mouse is over the window). selected: a slot to ring. colours:
        what smileys are tinted by (see colour_mode; "" is the world's default)."""
        rect = pygame.Rect(cam.rect())
        if not rect.contains(surf.get_rect()):  # letterbox showing (one fill less when the world covers it all)
            surf.fill(BG)
        surf.fill(WORLD_BG, rect)
        pygame.draw.rect(surf, WORLD_EDGE, rect, 1)
        self.draw_icons(surf, world.icons, cam)
        self.effects.draw(surf, cam, world.settings.cursor.kill_radius, now)
        self.draw_agents(surf, world, cam, selected, colour_mode(world, colours))
        self.draw_cursor(surf, world, cam, cursor, mouse)

    @staticmethod
    def draw_icons(surf: pygame.Surface, icons: np.ndarray, cam: Camera) -> None:
        """Hazard rectangles ("desktop icons"), (M, 4) x0, y0, x1, y1 world px."""
        if icons is None or len(icons) == 0:
            return
        for x0, y0, x1, y1 in np.asarray(icons, np.float64).tolist():
            if not all(math.isfinite(c) for c in (x0, y0, x1, y1)):
                continue
            (sx0, sy0), (sx1, sy1) = cam.to_screen(x0, y0), cam.to_screen(x1, y1)
            r = pygame.Rect(round(sx0), round(sy0), max(1, round(sx1 - sx0)), max(1, round(sy1 - sy0)))
            rad = max(2, min(r.width, r.height) // 6)
            pygame.draw.rect(surf, ICON_FILL, r, border_radius=rad)
            top = pygame.Rect(r.left, r.top, r.width, max(1, r.height // 3))
            pygame.draw.rect(surf, ICON_TOP, top, border_top_left_radius=rad, border_top_right_radius=rad)
            pygame.draw.rect(surf, ICON_EDGE, r, 1, border_radius=rad)

    def draw_agents(self, surf: pygame.Surface, world: WorldView, cam: Camera, selected: int | None,
                    colours: str = "family") -> None:
        s = world.state
        idx = np.flatnonzero(s.alive)
        tints, tint_of = colouring(colours, world.teams(), world.founders(), world.species())  # (N,) tint_of
        half = SpriteBank.tile_px(round(2.0 * world.settings.world.radius * cam.scale)) / 2.0
        if cam.level > 0 and idx.size:  # zoomed in: only those in view
            x0, y0, x1, y1 = cam.visible(margin=half / cam.scale)
            p = s.pos[idx]
            idx = idx[(p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)]
        bank = self.sprites(world, cam, tints, idx.size)
        if idx.size:
            w = world.settings.world
            pos = s.pos[idx]
            xy = (pos * np.float32(cam.scale) + np.array([cam.ox - half, cam.oy - half], np.float32)).astype(np.int32)
            tint = tint_of[idx]
            expr = expressions(pos, w.radius, w.width, w.height, world.cursor_xy())
            keys = SpriteBank.keys(tint, expr, s.heading[idx])
            # two flat lists zipped into tuples cost a third of xy.tolist()'s nested lists at 20k agents
            surf.fblits(zip(bank.tiles(keys), zip(xy[:, 0].tolist(), xy[:, 1].tolist())), bank.blend)
        if selected is not None and s.alive[selected]:
            pygame.draw.circle(surf, (255, 255, 255), cam.to_screen(*s.pos[selected]), half + 5, 2)

    @staticmethod
    def draw_cursor(surf: pygame.Surface, world: WorldView, cam: Camera, style: str,
                    mouse: tuple[float, float] | None) -> None:
        kill = world.settings.cursor.kill_radius * cam.scale
        if style == "mouse":
            if mouse is not None:
                pygame.draw.circle(surf, MOUSE_RING, mouse, kill, 1)
            return
        xy = world.cursor_xy()
        if xy is None:
            return
        c = cam.to_screen(*xy)
        col = ARMED_COLOUR if world.state.cursor[C_ARMED] > 0 else CURSOR_COLOUR
        if style == "plain":
            pygame.draw.circle(surf, col, c, kill, 2)
            pygame.draw.circle(surf, col, c, 2)
            return
        pygame.draw.circle(surf, col, c, kill, 2)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            pygame.draw.line(surf, col, (c[0] + dx * kill * 0.4, c[1] + dy * kill * 0.4),
                             (c[0] + dx * kill * 1.3, c[1] + dy * kill * 1.3), 2)
