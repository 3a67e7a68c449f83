"""Replay -> GIF or MP4, drawn on an offscreen surface (no window, no display) with the playback's own pieces."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from .geometry import Camera
from .hud import Chart, Hud
from .playback import BAR_H, SeekBar, playback_lines, replay_label
from .replayview import ReplayView
from .scene import Scene
from .theme import fonts

MAX_GIF_FRAMES = 3000  # GIF frames are held in memory until written (MP4 streams)


class FrameRenderer:
    """Draws a replay's frames as playback shows them (world, HUD, chart, seek bar), at the world's own size."""

    def __init__(self, replay: Any, hud: bool = True) -> None:
        self.world = ReplayView(replay)
        w = self.world.settings.world
        self.size = (int(w.width), int(w.height))  # HUD and chart keep their proportions; scale afterwards
        self.surface = pygame.Surface(self.size)
        self.camera = Camera(w.width, w.height, *self.size)
        self.scene = Scene()
        self.hud = Hud(refresh_s=0.0) if hud else None
        self.chart = Chart()
        self.bar = SeekBar()
        self.label = replay_label(replay)
        fonts()

    def render(self, i: int, t: float) -> pygame.Surface:
        """Frame i at video time t s; death markers and click rings of the frames since the last call fade in
        video time."""
        self.world.seek(i, markers=True)
        self.scene.effects.add(self.world.take_markers(), t)
        surf, world = self.surface, self.world
        self.scene.draw(surf, world, self.camera, t, cursor="plain")
        if self.hud is not None:
            self.hud.draw(surf, lambda: playback_lines(world, self.label, keys=False), key=i, now=t)
            self.chart.draw(surf, world.chart, BAR_H)
            self.bar.draw(surf, world)
        return surf


def export_video(replay: Any, out: str | Path, *, start_s: float = 0.0, end_s: float | None = None,
                 fps: int = 30, scale: float = 0.5, hud: bool = True, progress: bool = True) -> int:
    """Render replay frames [start_s, end_s) (seconds from the replay's start) to a GIF or MP4; returns frames.

    GIF goes through Pillow; MP4 through imageio-ffmpeg (which ships an ffmpeg binary): ImportError if absent.
    The file is written whole under a temporary name, then renamed.
    """
    from tqdm import tqdm

    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".gif", ".mp4"):
        raise ValueError(f"{out}: export writes .gif or .mp4")
    if kind == ".mp4":
        import imageio_ffmpeg  # noqa: F401 - fail before rendering anything
    n, dt = len(replay), replay.dt
    i0 = max(0, int(round(start_s / dt)))
    i1 = n if end_s is None else min(n, int(round(end_s / dt)))
    if i1 <= i0:
        raise ValueError(f"nothing to export between {start_s} s and {end_s} s (the replay lasts {n * dt:.1f} s)")
    frames = np.rint(np.arange(i0, i1, 1.0 / (fps * dt))).astype(np.int64)  # repeats when fps > 1/dt
    frames = frames[frames < n]
    if kind == ".gif" and frames.size > MAX_GIF_FRAMES:
        raise ValueError(f"{out}: {frames.size} frames is too long for a GIF (at most {MAX_GIF_FRAMES}, held in "
                         f"memory); shorten it with --from/--to, lower --fps, or export an .mp4")
    tmp = out.with_name(out.name + ".part" + out.suffix)
    w = replay.settings.world
    size = (max(2, int(round(w.width * scale / 2)) * 2), max(2, int(round(w.height * scale / 2)) * 2))
    painter = FrameRenderer(replay, hud=hud)
    painter.world.seek(int(frames[0]) - 1)  # the first frame's own deaths are then marked
    writer = None
    images = []
    try:
        if kind == ".mp4":
            import imageio_ffmpeg

            writer = imageio_ffmpeg.write_frames(str(tmp), size, fps=fps, macro_block_size=2, quality=7)
            writer.send(None)
        for k, i in enumerate(tqdm(frames.tolist(), desc=f"export {out.name}", unit="frame", disable=not progress)):
            shot = painter.render(i, k / fps)
            if shot.get_size() != size:
                shot = pygame.transform.smoothscale(shot, size)
            rgb = pygame.image.tobytes(shot, "RGB")
            if writer is not None:
                writer.send(rgb)
            else:
                from PIL import Image

                images.append(Image.frombytes("RGB", size, rgb).quantize(colors=64, method=Image.Quantize.MEDIANCUT))
        if writer is None:
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps),
                           loop=0, optimize=True, disposal=1)
        else:
            writer.close()
            writer = None
        os.replace(tmp, out)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return len(frames)
