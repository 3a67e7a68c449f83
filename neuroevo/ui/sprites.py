"""Smileys: faces pre-rendered per (tint, expression, heading bin) at one pixel size, drawn in one fblits call."""

from __future__ import annotations

import math

import numpy as np
import pygame

from .theme import LINEAGE_TINTS, SCARED_PX, TEAM_TINTS, UNEASY_PX, Colour, shade

HAPPY, UNEASY, SCARED = range(3)
N_EXPR = 3
N_ROT = 36  # heading bins (10 degrees each)
MAX_BANK_BYTES = 48 << 20  # zoomed-in faces are big: past this many bytes of tiles, start the bank afresh
INK = (34, 26, 22)


def draw_face(size: int, tint: Colour, expr: int) -> pygame.Surface:
    """One upright smiley (forehead up) at `size` px, drawn large; the bank rotates and shrinks it."""
    s = pygame.Surface((size, size), pygame.SRCALPHA)
    r = size / 2.0
    c = (r, r)
    pygame.draw.circle(s, shade(tint, 0.55), c, r)
    pygame.draw.circle(s, tint, c, r * 0.88)
    ex, ey = 0.34 * r, -0.22 * r
    if expr == SCARED:
        for sx in (-1, 1):
            pygame.draw.circle(s, (250, 250, 250), (r + sx * ex, r + ey), 0.24 * r)
            pygame.draw.circle(s, INK, (r + sx * ex, r + ey - 0.06 * r), 0.12 * r)
        pygame.draw.ellipse(s, INK, pygame.Rect(r - 0.2 * r, r + 0.25 * r, 0.4 * r, 0.42 * r))
    else:
        for sx in (-1, 1):
            pygame.draw.circle(s, INK, (r + sx * ex, r + ey), 0.15 * r)
        if expr == HAPPY:
            box = pygame.Rect(r - 0.5 * r, r - 0.35 * r, r, 0.95 * r)
            pygame.draw.arc(s, INK, box, math.pi + 0.35, 2 * math.pi - 0.35, max(1, int(0.14 * r)))
        else:
            w = max(1, int(0.13 * r))
            pygame.draw.line(s, INK, (r - 0.34 * r, r + 0.42 * r), (r + 0.34 * r, r + 0.34 * r), w)
    return s


KEY = (255, 0, 255)  # crisp tiles: the colour key marking their transparent pixels
CRISP_FROM, CRISP_UNTIL = 8000, 6000  # crowd mode: crisp tiles from this many smileys drawn, until fewer than that


class SpriteBank:
    """Faces at one diameter for a palette of tints. Tiles are rendered the first time they are drawn (a
    zoomed-in view needs few of the 36 x 3 x tints), then kept; `tiles(keys)` gives them for fblits.

    crisp (for crowds): tiles without partial transparency, a colour key marking the pixels a face covers less
    than half of, run-length encoded (SDL's RLEACCEL), blitted without blending: `python benchmarks/render.py
    --plain --agents 20000 --busy 1` went from 29 to 34 FPS (draw 26.7 to 22.8 ms a frame). Only the antialiased
    rim differs, which is lost in a crowd that size anyway. Without a window (offscreen export) tiles stay smooth.
    `blend` is the fblits flag to use."""

    def __init__(self, tints: tuple[Colour, ...], diameter_px: int, crisp: bool = False) -> None:
        self.tints = tints
        self.crisp = crisp and pygame.display.get_surface() is not None  # convert() needs the window's format
        self.blend = 0 if self.crisp else pygame.BLEND_PREMULTIPLIED
        self.size = self.tile_px(diameter_px)
        self.oversample = 4 if self.size < 48 else 2  # big faces need less oversampling to look smooth
        self._faces: dict[tuple[int, int], pygame.Surface] = {}
        self._clear()

    @staticmethod
    def tile_px(diameter_px: int) -> int:
        """A tile's side for faces of diameter_px (a 1 px margin keeps the rotated outline whole)."""
        return max(5, int(diameter_px)) + 2

    def _clear(self) -> None:
        n = len(self.tints) * N_EXPR * N_ROT
        self.table = np.empty(n, dtype=object)  # (tints * N_EXPR * N_ROT,) pygame.Surface or None
        self.built = np.zeros(n, bool)
        self._bytes = 0

    @staticmethod
    def keys(tint: np.ndarray, expr: np.ndarray, heading: np.ndarray) -> np.ndarray:
        """Tile index of each (tint index, expression, heading rad)."""
        rot = np.rint(heading * (N_ROT / (2.0 * math.pi))).astype(np.int64) % N_ROT
        return (tint.astype(np.int64) * N_EXPR + expr) * N_ROT + rot

    def tiles(self, keys: np.ndarray) -> list[pygame.Surface]:
        missing = keys[~self.built[keys]]
        if missing.size:
            if self._bytes > MAX_BANK_BYTES:
                self._clear()
                missing = keys
            for k in np.unique(missing).tolist():
                self._build(k)
        return self.table[keys].tolist()

    def _build(self, k: int) -> None:
        tint, rest = divmod(k, N_EXPR * N_ROT)
        expr, rot = divmod(rest, N_ROT)
        face = self._faces.get((tint, expr))
        if face is None:
            face = self._faces[(tint, expr)] = draw_face(self.size * self.oversample, self.tints[tint], expr)
        # heading h (y down) points the forehead along (cos h, sin h): rotate by -(h + 90) degrees
        angle = -(360.0 * rot / N_ROT + 90.0)
        rot_img = pygame.transform.rotozoom(face, angle, 1.0 / self.oversample)
        tile = pygame.Surface((self.size, self.size), pygame.SRCALPHA)
        tile.blit(rot_img, rot_img.get_rect(center=(self.size / 2, self.size / 2)))
        if self.crisp:
            rgb = pygame.surfarray.array3d(tile)  # (S, S, 3) straight colours
            rgb[pygame.surfarray.array_alpha(tile) < 128] = KEY
            tile = pygame.surfarray.make_surface(rgb).convert()
            tile.set_colorkey(KEY, pygame.RLEACCEL)
            self.table[k] = tile
        else:
            # premultiplied alpha blends about a third faster than straight alpha (fblits, 5k-20k agents)
            tile = tile.convert_alpha() if pygame.display.get_surface() else tile
            self.table[k] = tile.premul_alpha()
        self.built[k] = True
        self._bytes += 4 * self.size * self.size


def tint_index(teams: np.ndarray | None, founders: np.ndarray) -> np.ndarray:
    """(N,) index into the default palette: the slot's team when the world has teams, else its family."""
    return colouring("team", teams, founders, None)[1]


def colouring(mode: str, teams: np.ndarray | None, founders: np.ndarray,
              species: np.ndarray | None) -> tuple[tuple[Colour, ...], np.ndarray]:
    """(palette, (N,) index into it) of every slot, coloured by "team", "family" (its founder) or "species" (its
    species number; -1, no species yet, takes the palette's last, grey tint). A mode the world lacks falls back to
    family colours."""
    if mode == "team" and teams is not None:
        return TEAM_TINTS, np.asarray(teams, np.int64) % len(TEAM_TINTS)
    if mode == "species" and species is not None:
        return LINEAGE_TINTS, np.asarray(species, np.int64) % len(LINEAGE_TINTS)
    return LINEAGE_TINTS, np.asarray(founders, np.int64) % len(LINEAGE_TINTS)


def expressions(pos: np.ndarray, radius: float, width: float, height: float,
                cursor_xy: tuple[float, float] | None) -> np.ndarray:
    """HAPPY, UNEASY (near an edge) or SCARED (the cursor near) per agent; pos (N, 2) world px."""
    x, y = pos[:, 0], pos[:, 1]
    edge = np.minimum(np.minimum(x, width - x), np.minimum(y, height - y)) - radius
    expr = np.where(edge < UNEASY_PX, UNEASY, HAPPY)
    if cursor_xy is not None:
        d2 = (x - cursor_xy[0]) ** 2 + (y - cursor_xy[1]) ** 2
        expr = np.where(d2 < SCARED_PX * SCARED_PX, SCARED, expr)
    return expr
