"""An offscreen picture of the world for render_mode="rgb_array": (H, W, 3) uint8, drawn by the window's own scene
renderer (neuroevo.ui) on a pygame Surface, so an environment's frames look like `neuroevo live`. Agents steered
from outside are ringed in white. SDL's dummy video driver is selected unless the user chose one, so no display is
needed.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

STEERED = (250, 250, 250)
_VIEWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Simulation -> (LiveView, Scene)


def frame(sim: Any, width: int = 640, steered: np.ndarray | None = None) -> np.ndarray:
    """The world of sim scaled to `width` px wide: (H, W, 3) uint8. steered (N,) bool rings those agents."""
    from ..ui.geometry import Camera
    from ..ui.scene import Scene
    from ..ui.view import LiveView

    if sim not in _VIEWS:
        _VIEWS[sim] = (LiveView(sim), Scene())
    view, scene = _VIEWS[sim]
    view.update_families()  # newborns take their family's colour
    w = sim.settings.world
    height = max(1, round(w.height * width / w.width))
    surf = pygame.Surface((width, height))
    cam = Camera(w.width, w.height, width, height)
    scene.draw(surf, view, cam, sim.sim_seconds, cursor="bot")
    if steered is not None and steered.shape == sim.state.alive.shape:
        r = max(3.0, w.radius * cam.scale) + 2
        for i in np.flatnonzero(steered & sim.state.alive):
            x, y = cam.to_screen(float(sim.state.pos[i, 0]), float(sim.state.pos[i, 1]))
            pygame.draw.circle(surf, STEERED, (x, y), r, 2)
    return np.ascontiguousarray(pygame.surfarray.array3d(surf).transpose(1, 0, 2), dtype=np.uint8)
