"""`neuroevo replay`: the live window's drawing over a replay, with a seek bar and playback keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pygame

from .hud import clock, world_lines
from .replayview import ReplayView
from .theme import TEXT, TEXT_DIM, fonts, panel
from .window import Window, view_rows

BAR_H = 30  # px of the seek bar's strip at the bottom
PLAYBACK_SPEEDS = (1, 2, 4, 8, 16, 32, 64)  # frames per frame
KEYS_LINE = "Space play   , . step   +/- speed   N next death   T ancestry   drag the bar to seek   H help"


def replay_label(replay: Any) -> str:
    """'replay <folder>' naming the replay the way the user passed it (run folder / replay or its own name)."""
    where = Path(replay.path).resolve()
    return f"replay {where.parent.name}/{where.name}" if where.name == "replay" else f"replay {where.name}"


def playback_lines(world: ReplayView, label: str, speed: str | None = None, paused: bool = False,
                   zoom: float = 1.0, keys: bool = True) -> dict[str, str]:
    """The HUD of a replay at its current frame (speed None: no speed, as in a video)."""
    i, n, dt = world.index, world.frames, world.dt
    state = f"   speed {speed}" if speed is not None else ""
    state += "  PAUSED" if paused else ""
    state += f"   zoom {zoom:.1f}x" if zoom > 1.0 else ""
    lines = {
        "title": f"{label} ({world.scenario})  seed {world.seed}",
        "clock": f"frame {i + 1}/{n}   {clock(i * dt)} / {clock((n - 1) * dt)}{state}",
        **world_lines(world),
    }
    if keys:
        lines["keys"] = KEYS_LINE
    return lines


def seek_bar_rect(size: tuple[int, int]) -> pygame.Rect:
    """The seek bar's track in a surface of this size."""
    w, h = size
    return pygame.Rect(80, h - BAR_H + 8, w - 160, BAR_H - 16)


class SeekBar:
    """The strip at the bottom: elapsed part, a knob, red ticks where deaths happen, and the two clocks."""

    def __init__(self) -> None:
        self._ticks: tuple[tuple[int, int, int], np.ndarray] | None = None  # ((n, width, deaths), tick xs)

    def ticks(self, world: ReplayView, r: pygame.Rect) -> np.ndarray:
        d = world.death_frames()
        key = (world.frames, r.width, d.size)
        if self._ticks is None or self._ticks[0] != key:
            xs = r.left + np.unique((d * 300) // max(1, world.frames)) / 300.0 * r.width if d.size else np.zeros(0)
            self._ticks = (key, xs)
        return self._ticks[1]

    def draw(self, surf: pygame.Surface, world: ReplayView) -> pygame.Rect:
        w, h = surf.get_size()
        r = seek_bar_rect((w, h))
        surf.blit(panel(w, BAR_H), (0, h - BAR_H))
        pygame.draw.rect(surf, (60, 64, 78), r, border_radius=4)
        for x in self.ticks(world, r).tolist():
            pygame.draw.line(surf, (150, 90, 90), (x, r.top + 2), (x, r.bottom - 3))
        x = r.left + r.width * world.index / max(1, world.frames - 1)
        pygame.draw.rect(surf, (120, 170, 255), pygame.Rect(r.left, r.top, x - r.left, r.height), border_radius=4)
        pygame.draw.circle(surf, (235, 240, 250), (x, r.centery), r.height / 2 + 3)
        f = fonts().small
        t0 = f.render(clock(world.index * world.dt), True, TEXT)
        t1 = f.render(clock((world.frames - 1) * world.dt), True, TEXT_DIM)
        surf.blit(t0, t0.get_rect(midright=(r.left - 8, r.centery)))
        surf.blit(t1, t1.get_rect(midleft=(r.right + 8, r.centery)))
        return r


class PlaybackWindow(Window):
    """Play / pause, speed, seek bar, frame steps, next death; zoom, pan and the inspector as live."""

    bottom_margin = BAR_H
    speeds = PLAYBACK_SPEEDS

    def __init__(self, replay: Any, *, size: tuple[int, int] = (1280, 720), fps: int = 60,
                 out_dir: str | Path | None = None) -> None:
        super().__init__(ReplayView(replay), size=size, fps=fps, out_dir=out_dir)
        self.world: ReplayView = self.world
        self.label = replay_label(replay)
        self.caption = f"neuroevo {self.label}"
        self.bar = SeekBar()
        self.dragging = False

    def seek(self, i: int) -> None:
        """Jump to frame i (no markers for the frames jumped over)."""
        self.world.seek(i)
        self.scene.effects.clear()

    def update(self) -> None:
        if self.paused and self.single_steps == 0:
            return
        step = self.single_steps if self.paused else self.steps_per_frame
        self.single_steps = 0
        self.world.seek(self.world.index + step, markers=True)
        if self.world.index == self.world.frames - 1 and not self.paused:
            self.paused = True
            self.toasts.add("end of replay (Home: start over)")

    # ---- input ------------------------------------------------------------------------------------------------
    def _seek_to_x(self, x: float) -> None:
        r = seek_bar_rect(self.screen.get_size())
        f = (x - r.left) / max(1, r.width)
        self.seek(round(max(0.0, min(1.0, f)) * (self.world.frames - 1)))

    def handle(self, ev: pygame.event.Event) -> None:
        if ev.type == pygame.MOUSEBUTTONDOWN and ev.button == 1:
            if seek_bar_rect(self.screen.get_size()).inflate(0, 12).collidepoint(ev.pos):
                self.dragging = True
                self._seek_to_x(ev.pos[0])
        elif ev.type == pygame.MOUSEMOTION and self.dragging:
            self._seek_to_x(ev.pos[0])
        elif ev.type == pygame.MOUSEBUTTONUP and ev.button == 1:
            self.dragging = False
        super().handle(ev)
        self.pointer.clicks.clear()  # a left click in a replay never kills anyone

    def key(self, key: int, char: str = "", mod: int = 0) -> None:
        shift = bool(mod & pygame.KMOD_SHIFT)
        dt = self.world.dt
        if key == pygame.K_COMMA or (key == pygame.K_LEFT and not shift):
            self.paused = True
            self.seek(self.world.index - 1)
        elif key == pygame.K_RIGHT and not shift:
            self.paused = True
            self.single_steps += 1
        elif key == pygame.K_n:
            lead = int(round(0.5 / dt))  # land half a second before it happens
            nxt = self.world.next_death(self.world.index + lead)
            if nxt is None:
                self.toasts.add("no more deaths in this replay")
            else:
                self.seek(nxt - lead)
                self.toasts.add(f"next death at {clock(nxt * dt)}")
        elif key == pygame.K_HOME:
            self.seek(0)
        elif key in (pygame.K_c, pygame.K_s, pygame.K_l, pygame.K_r):
            self.toasts.add("a replay cannot be changed: this key works in neuroevo live")
        else:
            super().key(key, char, mod)

    # ---- drawing ----------------------------------------------------------------------------------------------
    def hud_key(self) -> Any:
        return (*super().hud_key(), self.world.index if self.paused else None, self.follow)

    def hud_lines(self) -> dict[str, str]:
        return playback_lines(self.world, self.label, self.speed_label(), self.paused, self.camera.zoom)

    def draw_overlay(self, surf: pygame.Surface) -> None:
        self.bar.draw(surf, self.world)

    def help(self) -> tuple[str, list[tuple[str, str]]]:
        return "replay controls", [
            ("Space", "play / pause"),
            (", . or arrows", "one frame back / forward"),
            ("+ / -", "speed"),
            ("seek bar", "click or drag to jump; red ticks mark deaths"),
            ("N", "jump to just before the next death"),
            ("Home", "back to the start"),
            ("right click / I", "inspect an agent's brain (weights)"),
            ("T", "ancestry of those alive at this frame (click a tip to inspect)"),
            *view_rows("Shift+arrows, Up/Down"),
            ("P", "screenshot"),
            ("Esc", "quit"),
        ]
