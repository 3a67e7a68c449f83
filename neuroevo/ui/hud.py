"""Text and charts over the world: HUD lines (by name), the deaths/lifetime chart, the help panel, toasts.

Everything draws onto a Surface it is given, so tests render without a window and sample pixels.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pygame

from ..state import CAUSES, K_BIRTHS, K_DEATHS, K_LIFE_MAX, N_CAUSES
from .theme import CAUSE_COLOURS, LIFETIME_COLOUR, LINE_H, PANEL_SOLID, TEXT, TEXT_DIM, TITLE, fonts, panel

CHART_BIN_S = 10.0  # sim seconds per chart point
CHART_SIZE = (340, 150)


# ---- chart data -----------------------------------------------------------------------------------------------
class ChartSeries:
    """Chart points: sim minutes at each bin's end, deaths/min by cause (N_CAUSES per point), mean lifetime (s).

    Live, points are appended as bins close; a replay holds every point and shows those up to the current
    frame (`show(k)`). `version` changes whenever the shown points do (the chart redraws then)."""

    def __init__(self, t: np.ndarray | None = None, rates: np.ndarray | None = None,
                 lifetime: np.ndarray | None = None) -> None:
        self._t = np.zeros(64) if t is None else np.asarray(t, np.float64)  # (T,) minutes
        self._rates = np.zeros((self._t.size, N_CAUSES)) if rates is None else np.asarray(rates, np.float64)
        self._life = np.zeros(self._t.size) if lifetime is None else np.asarray(lifetime, np.float64)  # (T,) s
        self.n = 0 if t is None else self._t.size
        self.version = 0

    def append(self, t: float, rates: np.ndarray, lifetime: float) -> None:
        if self.n == self._t.size:
            grow = max(64, self.n)
            self._t = np.concatenate([self._t, np.zeros(grow)])
            self._rates = np.concatenate([self._rates, np.zeros((grow, N_CAUSES))])
            self._life = np.concatenate([self._life, np.zeros(grow)])
        self._t[self.n], self._rates[self.n], self._life[self.n] = t, rates, lifetime
        self.n += 1
        self.version += 1

    def show(self, k: int) -> None:
        """Show only the first k points (a replay at an earlier frame)."""
        k = max(0, min(int(k), self._t.size))
        if k != self.n:
            self.n = k
            self.version += 1

    @property
    def t(self) -> np.ndarray:
        return self._t[: self.n]

    @property
    def rates(self) -> np.ndarray:
        return self._rates[: self.n]

    @property
    def lifetime(self) -> np.ndarray:
        return self._life[: self.n]


class Chart:
    """Deaths per minute by cause (left scale) and mean lifetime of the living (right scale), all history."""

    def __init__(self, size: tuple[int, int] = CHART_SIZE) -> None:
        self.size = size
        self._cache: tuple[int, int, pygame.Surface | None] = (-1, -1, None)  # (series id, version, surface)

    def draw(self, surf: pygame.Surface, series: ChartSeries, bottom_margin: int = 0) -> pygame.Rect:
        if self._cache[:2] != (id(series), series.version) or self._cache[2] is None:
            self._cache = (id(series), series.version, render_chart(series, self.size))
        pos = (8, surf.get_height() - self.size[1] - 8 - bottom_margin)
        return surf.blit(self._cache[2], pos)


def render_chart(series: ChartSeries, size: tuple[int, int]) -> pygame.Surface:
    w, h = size
    p = panel(w, h)
    f = fonts().small
    p.blit(f.render("deaths/min by cause   mean lifetime (s, green)", True, TEXT_DIM), (8, 5))
    x0, y0, x1, y1 = 34, 22, w - 34, h - 20
    pygame.draw.line(p, (70, 74, 88), (x0, y1), (x1, y1))
    if series.n < 2:
        msg = f.render(f"first point after {CHART_BIN_S:.0f} sim seconds", True, TEXT_DIM)
        p.blit(msg, (x0 + 10, (y0 + y1) // 2))
        return p
    t, rates, life = series.t, series.rates, series.lifetime  # (T,), (T, N_CAUSES), (T,)
    if t.size > 2 * (x1 - x0):  # fold old points together so the chart stays one point per pixel
        step = int(math.ceil(t.size / (x1 - x0)))
        m = t.size // step * step
        t = t[-m:].reshape(-1, step)[:, -1]
        rates = rates[-m:].reshape(-1, step, N_CAUSES).mean(axis=1)
        life = life[-m:].reshape(-1, step).mean(axis=1)
    shown = [i for i in range(1, N_CAUSES) if rates[:, i].max() > 0 or CAUSES[i] == "edge"]
    rmax = max(1.0, float(rates[:, shown].max()))
    lmax = max(1.0, float(life.max()))
    tx = x0 + (t - t[0]) / max(1e-9, t[-1] - t[0]) * (x1 - x0)

    def ys(v: np.ndarray, top: float) -> list[float]:
        return (y1 - v / top * (y1 - y0)).tolist()

    pygame.draw.lines(p, LIFETIME_COLOUR, False, list(zip(tx.tolist(), ys(life, lmax))), 1)
    for i in shown:
        pygame.draw.lines(p, CAUSE_COLOURS.get(CAUSES[i], TEXT), False, list(zip(tx.tolist(), ys(rates[:, i], rmax))),
                          2)
    p.blit(f.render(f"{rmax:.0f}", True, TEXT_DIM), (6, y0 - 4))
    p.blit(f.render("0", True, TEXT_DIM), (20, y1 - 8))
    p.blit(f.render(f"{lmax:.0f}s", True, LIFETIME_COLOUR), (x1 + 4, y0 - 4))
    p.blit(f.render(f"{t[0]:.0f}", True, TEXT_DIM), (x0, y1 + 4))
    p.blit(f.render(f"{t[-1]:.1f} min", True, TEXT_DIM), (x1 - 40, y1 + 4))
    lx = x0 + 90
    for i in shown:
        lab = f.render(CAUSES[i], True, CAUSE_COLOURS.get(CAUSES[i], TEXT))
        p.blit(lab, (lx, y1 + 4))
        lx += lab.get_width() + 10
    return p


# ---- HUD lines ------------------------------------------------------------------------------------------------
def clock(seconds: float) -> str:
    """mm:ss.s"""
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


def world_lines(world) -> dict[str, str]:
    """The HUD lines any view of a world shows: population, deaths in the last minute, lifetimes."""
    s, c = world.state, world.state.counters
    dt = world.settings.world.dt
    span, last = world.recent_deaths()
    ever = c[K_DEATHS: K_DEATHS + N_CAUSES]  # the causes this session has seen, and always edges
    causes = [(CAUSES[i], int(last[i])) for i in range(1, N_CAUSES)
              if CAUSES[i] == "edge" or ever[i] > 0 or last[i] > 0]
    ages = s.age[s.alive] * dt
    mean_age = float(ages.mean()) if ages.size else 0.0
    best = float(ages.max()) if ages.size else 0.0
    best_ever = max(best, float(c[K_LIFE_MAX]) * dt)
    window = "last min" if span >= 59.0 else f"last {span:.0f} s"
    lines = {
        "population": f"alive {int(s.alive.sum())}/{s.n}   births {int(c[K_BIRTHS])}",
        "deaths": f"deaths {window}: " + "  ".join(f"{k} {v}" for k, v in causes),
        "lifetime": f"lifetime mean {mean_age:.1f} s   best {best:.1f} s   best ever {best_ever:.1f} s",
    }
    brains = brain_line(world)
    if brains:
        lines["brains"] = brains
    return lines


def brain_line(world) -> str:
    """Growing brains: hidden units switched on (mean and max over the living, out of all there are); niching: the
    number of species. Empty for a world with neither."""
    parts = []
    on = world.hidden_on()
    if on is not None:
        alive_on = on[world.state.alive]
        width = sum(world.layout.sizes[1:-1])
        mean = float(alive_on.mean()) if alive_on.size else 0.0
        most = int(alive_on.max()) if alive_on.size else 0
        parts.append(f"hidden units on {mean:.1f}/{width} (max {most})")
    n = world.species_count()
    if n is not None:
        parts.append(f"species {n}" if n or not world.state.alive.any() else "species: formed at the first step")
    return "   ".join(parts)


class Hud:
    """HUD lines in a panel at the top left; the first line ("title") in the title colour. Text is rendered
    again at most `refresh_s` apart (live text at 5 Hz is plenty to read) or when `key` changes."""

    def __init__(self, refresh_s: float = 0.2) -> None:
        self.refresh_s = refresh_s
        self._made = -1.0
        self._key: object = None
        self._panel: pygame.Surface | None = None

    def stale(self, key: object, now: float) -> bool:
        return self._panel is None or key != self._key or now - self._made >= self.refresh_s

    def draw(self, surf: pygame.Surface, lines: Callable[[], dict[str, str]], key: object = None,
             now: float | None = None) -> pygame.Rect:
        """Blit the panel; `lines()` is only called (and rendered) when the cached panel is stale."""
        now = time.perf_counter() if now is None else now
        if self.stale(key, now):
            self._panel, self._made, self._key = render_lines(lines()), now, key
        return surf.blit(self._panel, (8, 8))

    def invalidate(self) -> None:
        self._panel = None


def render_lines(lines: dict[str, str]) -> pygame.Surface:
    f = fonts().normal
    texts = [f.render(t, True, TITLE if name == "title" else TEXT) for name, t in lines.items()]
    p = panel(max(t.get_width() for t in texts) + 16, LINE_H * len(texts) + 10)
    for i, t in enumerate(texts):
        p.blit(t, (8, 6 + LINE_H * i))
    return p


# ---- help and toasts ------------------------------------------------------------------------------------------
def draw_help(surf: pygame.Surface, title: str, rows: list[tuple[str, str]]) -> pygame.Rect:
    """A centred panel of (key, what it does) rows."""
    f = fonts()
    texts = [(f.normal.render(k, True, TITLE), f.normal.render(t, True, TEXT)) for k, t in rows]
    key_w = max(k.get_width() for k, _ in texts) + 30
    w, h = 20 + key_w + max(t.get_width() for _, t in texts) + 20, 48 + 24 * len(rows)
    p = panel(w, h, PANEL_SOLID)
    p.blit(f.big.render(title, True, TITLE), (16, 8))
    for i, (k, t) in enumerate(texts):
        p.blit(k, (20, 40 + 24 * i))
        p.blit(t, (20 + key_w, 40 + 24 * i))
    sw, sh = surf.get_size()
    return surf.blit(p, ((sw - w) // 2, (sh - h) // 2))


@dataclass
class Toast:
    text: str
    until: float  # wall seconds


class Toasts:
    """Short messages at the bottom centre, newest lowest; each fades out after its time."""

    def __init__(self) -> None:
        self.items: list[Toast] = []

    def add(self, text: str, seconds: float = 2.5) -> None:
        now = time.perf_counter()
        self.items = [t for t in self.items if t.until > now][-3:]
        self.items.append(Toast(text, now + seconds))

    @property
    def last(self) -> str:
        return self.items[-1].text if self.items else ""

    def draw(self, surf: pygame.Surface, bottom_margin: int = 0) -> None:
        now = time.perf_counter()
        self.items = [t for t in self.items if t.until > now]
        f = fonts().normal
        sw, sh = surf.get_size()
        for k, t in enumerate(reversed(self.items)):
            text = f.render(t.text, True, TEXT)
            p = panel(text.get_width() + 20, text.get_height() + 10)
            p.blit(text, (10, 5))
            surf.blit(p, p.get_rect(midbottom=(sw / 2, sh - 12 - bottom_margin - 34 * k)))
