"""Obstacles: "desktop icon" rectangles that kill on contact; their seeded layout and distance queries.

Icons are an (M, 4) float32 array of x0, y0, x1, y1 in world px (Simulation.icons). A scenario hook may move or
replace them between chunks (a moving hazard); the kernels read whatever the array holds.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .config import Settings, SettingsError

BIG = 1.0e9
ICON_GAP = 3.0  # icons are placed at least this many agent radii apart and from the walls, so agents fit between


@numba.njit(cache=True, inline="always", error_model="numpy")
def nearest_icon(x: float, y: float, icons: np.ndarray) -> tuple[float, float, float]:
    """(d, dx, dy): centre distance from (x, y) to the nearest icon rectangle and the vector to its closest point.
    d is 0 inside a rectangle and BIG without icons."""
    best = BIG
    bx = 0.0
    by = 0.0
    for m in range(icons.shape[0]):
        px = min(max(x, icons[m, 0]), icons[m, 2])
        py = min(max(y, icons[m, 1]), icons[m, 3])
        dx = px - x
        dy = py - y
        d2 = dx * dx + dy * dy
        if d2 < best * best:
            best = math.sqrt(d2)
            bx = dx
            by = dy
    return best, bx, by


def layout_icons(settings: Settings, rng: np.random.Generator) -> np.ndarray:
    """Place hazards.icons squares uniformly at random, apart from each other and the walls: (M, 4) float32."""
    w, h = settings.world, settings.hazards
    gap = ICON_GAP * w.radius
    size = h.icon_size
    out = np.zeros((h.icons, 4), np.float32)
    for m in range(h.icons):
        for _ in range(1000):
            x0 = gap + rng.random() * (w.width - size - 2 * gap)
            y0 = gap + rng.random() * (w.height - size - 2 * gap)
            x1, y1 = x0 + size, y0 + size
            clear = all(x0 > out[j, 2] + gap or x1 + gap < out[j, 0] or y0 > out[j, 3] + gap or y1 + gap < out[j, 1]
                        for j in range(m))
            if clear:
                break
        else:
            raise SettingsError(f"cannot fit {h.icons} icons of {size:g} px into the world; use fewer or smaller")
        out[m] = (x0, y0, x0 + size, y0 + size)
    return out
