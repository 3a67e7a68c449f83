"""World px <-> window px: the world fits the window (letterboxed) at zoom 1, and zooms 1x-8x around a point.

No pygame here: the camera is plain arithmetic, so it is tested on its own.
"""

from __future__ import annotations

import numpy as np

ZOOM_STEPS_PER_DOUBLING = 4  # one mouse-wheel notch zooms by 2 ** (1/4)
MAX_ZOOM_LEVEL = 3 * ZOOM_STEPS_PER_DOUBLING  # 2 ** 3 = 8x


class Camera:
    """Maps world coordinates to window pixels: x_win = x_world * scale + ox (the same for y).

    At zoom 1 the whole world fits the window, centred. Zoomed in, the view is kept over the world: it never
    shows more letterbox than zoom 1 does. Zoom is kept as an integer level (zoom = 2 ** (level / 4)), so
    zooming in and out by wheel notches lands exactly on 1x, 2x, 4x and 8x.
    """

    def __init__(self, world_w: float, world_h: float, win_w: int, win_h: int) -> None:
        self.world_w, self.world_h = float(world_w), float(world_h)
        self.win_w, self.win_h = int(win_w), int(win_h)
        self.level = 0
        self.scale = 1.0
        self.ox = self.oy = 0.0
        self._place(0.5 * self.world_w, 0.5 * self.world_h)

    # ---- state ------------------------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return 2.0 ** (self.level / ZOOM_STEPS_PER_DOUBLING)

    @property
    def fit_scale(self) -> float:
        """Window px per world px at zoom 1."""
        return min(self.win_w / self.world_w, self.win_h / self.world_h)

    def centre(self) -> tuple[float, float]:
        """The world point at the middle of the window."""
        return self.to_world(0.5 * self.win_w, 0.5 * self.win_h)

    def _place(self, cx: float, cy: float) -> None:
        """Set the scale from the zoom and put world point (cx, cy) at the window's middle, then clamp."""
        self.scale = self.fit_scale * self.zoom
        self.ox = 0.5 * self.win_w - cx * self.scale
        self.oy = 0.5 * self.win_h - cy * self.scale
        self._clamp()

    def _clamp(self) -> None:
        for axis in (0, 1):
            world, win = (self.world_w, self.win_w) if axis == 0 else (self.world_h, self.win_h)
            size = world * self.scale
            o = self.ox if axis == 0 else self.oy
            o = 0.5 * (win - size) if size <= win else min(0.0, max(win - size, o))
            if axis == 0:
                self.ox = o
            else:
                self.oy = o

    # ---- changes ----------------------------------------------------------------------------------------------
    def fit(self, win_w: int, win_h: int) -> None:
        """The window was resized: keep the zoom and the world point at the middle."""
        cx, cy = self.centre()
        self.win_w, self.win_h = int(win_w), int(win_h)
        self._place(cx, cy)

    def zoom_by(self, notches: int, sx: float | None = None, sy: float | None = None) -> bool:
        """Zoom in (notches > 0) or out, keeping the world point under window px (sx, sy) where it is (default:
        the window's middle). Returns whether the zoom changed."""
        level = max(0, min(MAX_ZOOM_LEVEL, self.level + int(notches)))
        if level == self.level:
            return False
        sx = 0.5 * self.win_w if sx is None else float(sx)
        sy = 0.5 * self.win_h if sy is None else float(sy)
        wx, wy = self.to_world(sx, sy)
        self.level = level
        self.scale = self.fit_scale * self.zoom
        self.ox, self.oy = sx - wx * self.scale, sy - wy * self.scale
        self._clamp()
        return True

    def set_zoom(self, level: int) -> None:
        """Zoom to a level around the window's middle."""
        self.zoom_by(level - self.level)

    def pan(self, dx: float, dy: float) -> None:
        """Move the picture by (dx, dy) window px (drag direction)."""
        self.ox += dx
        self.oy += dy
        self._clamp()

    def centre_on(self, x: float, y: float) -> None:
        """Put world point (x, y) in the middle of the window (as near as the world's edges allow)."""
        self._place(float(x), float(y))

    def reset(self) -> None:
        """Zoom 1, the whole world in view."""
        self.level = 0
        self._place(0.5 * self.world_w, 0.5 * self.world_h)

    # ---- mapping ----------------------------------------------------------------------------------------------
    def to_screen(self, x: float, y: float) -> tuple[float, float]:
        return float(x) * self.scale + self.ox, float(y) * self.scale + self.oy

    def to_world(self, sx: float, sy: float) -> tuple[float, float]:
        return (float(sx) - self.ox) / self.scale, (float(sy) - self.oy) / self.scale

    def to_screen_array(self, pos: np.ndarray) -> np.ndarray:
        """(N, 2) world px -> (N, 2) float32 window px."""
        return pos * np.float32(self.scale) + np.array([self.ox, self.oy], np.float32)

    def rect(self) -> tuple[int, int, int, int]:
        """The world's rectangle in window px (x, y, w, h); larger than the window when zoomed in."""
        return (round(self.ox), round(self.oy), round(self.world_w * self.scale), round(self.world_h * self.scale))

    def visible(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """World rectangle (x0, y0, x1, y1) seen in the window, grown by margin world px."""
        x0, y0 = self.to_world(0, 0)
        x1, y1 = self.to_world(self.win_w, self.win_h)
        return x0 - margin, y0 - margin, x1 + margin, y1 + margin
