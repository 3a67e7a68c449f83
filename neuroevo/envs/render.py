"""An offscreen picture of the world for render_mode="rgb_array": (H, W, 3) uint8, drawn with pygame on a Surface.

Deliberately small and independent of the window code: the floor, icon rectangles, every living agent as a disc in
its team's colour with a heading tick (agents steered from outside ringed in white), and the cursor as a cross
(red while a click is coming). SDL's dummy video driver is selected unless the user chose one, so no display is
needed.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from ..state import C_ARMED, C_PRESENT, CX, CY  # noqa: E402

FLOOR = (30, 33, 42)
EDGE = (88, 94, 112)
ICON = (64, 96, 150)
TEAMS = ((255, 205, 60), (90, 170, 255), (255, 110, 90), (120, 220, 120), (230, 200, 80))
STEERED = (250, 250, 250)
CURSOR = (220, 220, 230)
CURSOR_ARMED = (255, 80, 80)


def frame(sim: Any, width: int = 640, steered: np.ndarray | None = None) -> np.ndarray:
    """The world of sim scaled to `width` px wide: (H, W, 3) uint8. steered (N,) bool rings those agents."""
    s = sim.settings.world
    scale = width / s.width
    height = max(1, round(s.height * scale))
    surf = pygame.Surface((width, height))
    surf.fill(FLOOR)
    pygame.draw.rect(surf, EDGE, surf.get_rect(), 1)
    for x0, y0, x1, y1 in np.asarray(sim.icons, np.float64):
        pygame.draw.rect(surf, ICON, pygame.Rect(x0 * scale, y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale))
    st = sim.state
    r = max(2.0, sim.settings.world.radius * scale)
    for i in np.flatnonzero(st.alive):
        x, y = float(st.pos[i, 0]) * scale, float(st.pos[i, 1]) * scale
        tint = TEAMS[int(st.team[i]) % len(TEAMS)]
        pygame.draw.circle(surf, tint, (x, y), r)
        h = float(st.heading[i])
        pygame.draw.line(surf, (34, 26, 22), (x, y), (x + r * math.cos(h), y + r * math.sin(h)), max(1, int(r / 4)))
        if steered is not None and steered[i]:
            pygame.draw.circle(surf, STEERED, (x, y), r + 2, 2)
    c = st.cursor
    if c[C_PRESENT] > 0:
        x, y = c[CX] * scale, c[CY] * scale
        col = CURSOR_ARMED if c[C_ARMED] > 0 else CURSOR
        k = max(4.0, sim.settings.cursor.kill_radius * scale)
        pygame.draw.line(surf, col, (x - k, y), (x + k, y), 2)
        pygame.draw.line(surf, col, (x, y - k), (x, y + k), 2)
    return np.ascontiguousarray(pygame.surfarray.array3d(surf).transpose(1, 0, 2), dtype=np.uint8)
