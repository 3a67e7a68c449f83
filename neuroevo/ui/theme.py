"""Colours, sizes and fonts of the window; one place to change the look."""

from __future__ import annotations

from dataclasses import dataclass

import pygame

Colour = tuple[int, int, int]

BG = (18, 20, 26)  # outside the world (letterbox)
WORLD_BG = (30, 33, 42)  # the world's floor
WORLD_EDGE = (88, 94, 112)
TEXT = (226, 230, 238)
TEXT_DIM = (150, 156, 170)
TITLE = (255, 220, 120)
PANEL = (12, 14, 20, 210)
PANEL_SOLID = (12, 14, 20, 235)
LINEAGE_TINTS = (
    (255, 205, 60), (255, 150, 80), (240, 100, 110), (235, 120, 200), (170, 130, 250), (110, 150, 255),
    (80, 200, 240), (80, 210, 160), (140, 220, 90), (210, 230, 80), (250, 180, 150), (200, 200, 212),
)
TEAM_TINTS = ((90, 170, 255), (255, 110, 90), (120, 220, 120), (230, 200, 80))
CAUSE_COLOURS = {
    "edge": (255, 140, 60), "cursor": (190, 120, 255), "icon": (255, 210, 80), "crowd": (90, 200, 255),
    "team": (255, 100, 170), "rule": (230, 230, 120),
}
ICON_FILL = (64, 96, 150)
ICON_TOP = (96, 136, 196)
ICON_EDGE = (150, 170, 215)
LIFETIME_COLOUR = (120, 220, 120)
CLICK_COLOUR = (255, 120, 120)
ARMED_COLOUR = (255, 90, 90)
CURSOR_COLOUR = (230, 230, 240)
MOUSE_RING = (120, 125, 140)
POSITIVE = (255, 150, 70)  # weights and unit values > 0
NEGATIVE = (90, 160, 255)  # ... < 0
NEUTRAL = (120, 120, 128)
OFF_UNIT = (84, 88, 104)  # the ring of a hidden unit that is switched off (growing brains)

SCARED_PX = 110.0  # a face is scared while the cursor is this close (world px)
UNEASY_PX = 36.0  # ... and uneasy while its body is this close to an edge
DEATH_MARK_S = 0.8  # how long a death marker fades, s
CLICK_RING_S = 0.45  # ... and a click ring
MAX_EFFECTS = 256  # death markers and click rings on screen at once (big crowds die faster than we can mark)
LINE_H = 18  # HUD line height, px


def shade(c: Colour, f: float) -> Colour:
    """c scaled by f, clamped to 0..255."""
    return tuple(max(0, min(255, int(v * f))) for v in c)  # type: ignore[return-value]


def panel(w: int, h: int, fill: tuple[int, int, int, int] = PANEL) -> pygame.Surface:
    """A translucent dark rectangle for text to sit on."""
    p = pygame.Surface((max(1, w), max(1, h)), pygame.SRCALPHA)
    p.fill(fill)
    return p


@dataclass(frozen=True)
class Fonts:
    normal: pygame.font.Font  # HUD lines, help, toasts
    small: pygame.font.Font  # chart, inspector labels
    big: pygame.font.Font  # titles


_fonts: Fonts | None = None


def fonts() -> Fonts:
    """The window's fonts (pygame's default face), made once; needs no display."""
    global _fonts
    if _fonts is None or not pygame.font.get_init():
        pygame.font.init()
        _fonts = Fonts(pygame.font.Font(None, 20), pygame.font.Font(None, 16), pygame.font.Font(None, 34))
    return _fonts
