"""The frame loop and the input `neuroevo live` and `neuroevo replay` share: zoom, pan, follow, inspect, help,
speed, screenshots, toasts.

Mouse input is collected from events (not from pygame.mouse.get_pos), so posted test events and a real mouse
drive the window the same way. A subclass says what a frame does (`update`), what the HUD says (`hud_lines`),
which keys it adds (`key`) and what it draws over the world (`draw_overlay`).
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from .ancestry import AncestryPanel
from .geometry import Camera
from .hud import Chart, Hud, Toasts, draw_help
from .inspector import Inspector
from .scene import Scene, colour_mode
from .theme import fonts
from .view import WorldView

SPEEDS = (1, 2, 4, 8, 16, 32, 64, 0)  # steps (or frames) per frame; 0 = turbo
DRAG_PX = 4  # a right-button press that moves farther than this pans instead of inspecting
PAN_KEYS = {pygame.K_LEFT: (1, 0), pygame.K_RIGHT: (-1, 0), pygame.K_UP: (0, 1), pygame.K_DOWN: (0, -1)}
PAN_STEP = 0.125  # a press of an arrow key pans by this fraction of the window
PAN_HELD_PX_S = 900.0  # ... and holding it keeps panning at this speed
FOLLOW_LEVEL = 6  # F at 1x zooms to 2 ** (6/4) = 2.8x, where following shows
ANCESTRY_SHARE = 0.42  # the ancestry panel's width, as a share of the window's (within ANCESTRY_W)
ANCESTRY_W = (360, 640)
ANCESTRY_MIN_H = 220  # below the inspector when this much room is left there, else beside it


def display_available() -> str | None:
    """None if a window can be opened, else why not (one line)."""
    driver = os.environ.get("SDL_VIDEODRIVER", "")
    if sys.platform.startswith("linux") and not driver and not (os.environ.get("DISPLAY")
                                                               or os.environ.get("WAYLAND_DISPLAY")):
        return "no display found (DISPLAY and WAYLAND_DISPLAY are unset)"
    try:
        pygame.display.init()
    except pygame.error as e:
        return f"cannot open a window ({e})"
    return None


class Pointer:
    """The mouse as built from events: position, over the window or not, pending left clicks and inspects, and a
    right-button drag (which pans)."""

    def __init__(self) -> None:
        self.pos: tuple[int, int] = (0, 0)  # window px
        self.inside = False
        self.clicks: deque = deque()  # window px of left clicks not yet applied
        self.inspects: deque = deque()  # window px of right clicks (press and release without a drag)
        self._right: tuple[int, int] | None = None  # where the right button went down
        self.dragging = False

    def handle(self, ev: pygame.event.Event) -> tuple[int, int] | None:
        """Track one event; returns (dx, dy) window px to pan by while right-dragging."""
        if ev.type == pygame.MOUSEMOTION:
            self.pos, self.inside = ev.pos, True
            if self._right is not None:
                if not self.dragging and max(abs(a - b) for a, b in zip(ev.pos, self._right)) > DRAG_PX:
                    self.dragging = True
                    return ev.pos[0] - self._right[0], ev.pos[1] - self._right[1]
                if self.dragging:
                    return ev.rel
        elif ev.type == pygame.MOUSEBUTTONDOWN:
            self.pos, self.inside = ev.pos, True
            if ev.button == 1:
                self.clicks.append(ev.pos)
            elif ev.button == 3:
                self._right, self.dragging = ev.pos, False
        elif ev.type == pygame.MOUSEBUTTONUP and ev.button == 3:
            if self._right is not None and not self.dragging:
                self.inspects.append(self._right)
            self._right, self.dragging = None, False
        elif ev.type == pygame.WINDOWLEAVE:  # back inside with the next motion, which also tells where
            self.inside = False
        return None


class Window:
    """A window onto one WorldView."""

    caption = "neuroevo"
    cursor_style = "plain"  # how the scene draws the cursor (see Scene.draw)
    bottom_margin = 0  # px kept free at the bottom (the replay's seek bar)
    speeds = SPEEDS

    def __init__(self, world: WorldView, *, size: tuple[int, int] = (1280, 720), fps: int = 60,
                 out_dir: str | Path | None = None, speed: int = 1) -> None:
        self.world = world
        self.size = size
        self.fps = fps
        self.out_dir = Path(out_dir) if out_dir else Path("replays") / f"live-{world.scenario}-{world.seed}"
        self.screen: pygame.Surface | None = None
        w = world.settings.world
        self.camera = Camera(w.width, w.height, *size)
        self.scene = Scene()
        self.hud = Hud()
        self.chart = Chart()
        self.inspector = Inspector()
        self.ancestry = AncestryPanel()
        self.toasts = Toasts()
        self.pointer = Pointer()
        self.speed_i = self.speeds.index(speed) if speed in self.speeds else 0
        self.paused = False
        self.single_steps = 0
        self.show_help = False
        self.follow = False
        self.colours = ""  # what smileys are tinted by: "" (the world's default), "team", "family" or "species"
        self.running = True
        self.progress: deque = deque(maxlen=61)  # (wall s, step) of the last frames, for FPS and steps/s
        self._held: dict[int, float] = {}  # arrow keys held down: when pressed
        self._last_frame = time.perf_counter()
        self._shots = 0
        self._closed = False
        self._settled = False  # run() has frozen what was loaded at start out of full collections

    # ---- lifecycle --------------------------------------------------------------------------------------------
    def open(self) -> None:
        pygame.display.init()
        pygame.display.set_caption(self.caption)
        self.screen = pygame.display.set_mode(self.size, pygame.RESIZABLE)
        self.camera.fit(*self.screen.get_size())
        fonts()
        self.clock = pygame.time.Clock()

    def run(self) -> int:
        """The main loop; returns an exit code (130 after Ctrl-C; close() may make it 2)."""
        code = 0
        try:
            self.open()
            settle_memory()
            self._settled = True
            while self.running:
                self.frame()
                self.clock.tick(self.fps)
        except KeyboardInterrupt:
            code = 130
        except BaseException:
            self.close()  # what close() keeps (the live population) is kept even if the loop fails
            raise
        return self.close() or code

    def close(self) -> int:
        """Finish up and close the window; returns an exit code (0 unless something could not be kept)."""
        self._closed = True
        self.thaw()
        pygame.display.quit()
        return 0

    def thaw(self) -> None:
        """Undo run()'s settle_memory() (the process may go on without the window: tests, front ends)."""
        if self._settled:
            import gc

            gc.unfreeze()
            self._settled = False

    def set_world(self, world: WorldView) -> None:
        """Show another world (a loaded population): new camera over it, nothing selected."""
        self.world = world
        w = world.settings.world
        win = self.screen.get_size() if self.screen else self.size
        self.camera = Camera(w.width, w.height, *win)
        self.inspector.close()
        self.follow = False
        self.scene.effects.clear()
        self.hud.invalidate()
        self.ancestry.forget()
        if self._settled:  # the world shown before may be garbage now: let the collector see it, then settle again
            settle_memory(thaw=True)

    # ---- one frame --------------------------------------------------------------------------------------------
    def frame(self) -> bool:
        """Handle events, advance, draw. Returns False once the user asked to quit."""
        for ev in pygame.event.get():
            self.handle(ev)
        if not self.running:
            return False
        self.tick()
        self.draw(self.screen)
        pygame.display.flip()
        self.progress.append((time.perf_counter(), self.world.step_count))
        return True

    def tick(self) -> None:
        """A frame's work besides events and drawing: inspect, advance the world, mark its events, follow."""
        now = time.perf_counter()
        self._pan_held(now - self._last_frame)
        self._last_frame = now
        for pos in list(self.pointer.inspects):
            self.inspect_at(pos)
        self.pointer.inspects.clear()
        self.update()
        self.scene.effects.add(self.world.take_markers(), self.now())
        if self.follow:
            at = self.inspector.alive_at(self.world)
            if at is None:
                self.follow = False
                self.toasts.add("follow off: the agent died")
            else:
                self.camera.centre_on(*at)

    def update(self) -> None:
        """Advance the world by one frame's worth (subclasses)."""

    def now(self) -> float:
        """The clock effects fade by."""
        return time.perf_counter()

    @property
    def steps_per_frame(self) -> int:
        k = self.speeds[self.speed_i]
        return 64 if k == 0 else k

    def speed_label(self) -> str:
        k = self.speeds[self.speed_i]
        return f"turbo ({self.steps_per_frame} steps/frame)" if k == 0 else f"{k}x"

    # ---- input ------------------------------------------------------------------------------------------------
    def handle(self, ev: pygame.event.Event) -> None:
        if ev.type == pygame.MOUSEBUTTONDOWN and ev.button in (1, 3) and self.ancestry.contains(ev.pos):
            self.inspect_genome(self.ancestry.genome_at(ev.pos))  # a click on the panel never reaches the world
            return
        pan = self.pointer.handle(ev)
        if pan is not None:
            self.pan(*pan)
        if ev.type == pygame.MOUSEMOTION and self.ancestry.contains(ev.pos):
            self.pointer.inside = False  # over the panel the mouse is no cursor in the world
        if ev.type == pygame.QUIT:
            self.running = False
        elif ev.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED) and self.screen is not None:
            size = self.screen.get_size()
            if size != (self.camera.win_w, self.camera.win_h):
                self.camera.fit(*size)
        elif ev.type == pygame.MOUSEWHEEL and ev.y:
            self.camera.zoom_by(int(ev.y), *self.pointer.pos)
        elif ev.type == pygame.KEYDOWN:
            self.key(ev.key, getattr(ev, "unicode", ""), getattr(ev, "mod", 0))
        elif ev.type == pygame.KEYUP:
            self._held.pop(ev.key, None)

    def key(self, key: int, char: str = "", mod: int = 0) -> None:
        """The keys both windows share; subclasses handle theirs first and pass the rest here."""
        if key == pygame.K_ESCAPE:
            self.running = False
        elif key in (pygame.K_h, pygame.K_F1):
            self.show_help = not self.show_help
        elif key == pygame.K_SPACE:
            self.paused = not self.paused
            self.toasts.add("paused" if self.paused else "running")
        elif key in (pygame.K_PERIOD, pygame.K_KP_PERIOD):
            self.paused = True
            self.single_steps += 1
        elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS) or char == "+":
            self.speed_i = min(len(self.speeds) - 1, self.speed_i + 1)
            self.toasts.add(f"speed {self.speed_label()}")
        elif key in (pygame.K_MINUS, pygame.K_KP_MINUS) or char == "-":
            self.speed_i = max(0, self.speed_i - 1)
            self.toasts.add(f"speed {self.speed_label()}")
        elif key == pygame.K_i:
            self.inspect_at(self.pointer.pos, toggle=True)
        elif key == pygame.K_p:
            self.screenshot()
        elif key in (pygame.K_0, pygame.K_KP0):
            self.camera.reset()
            self.follow = False
        elif key == pygame.K_f:
            self.toggle_follow()
        elif key == pygame.K_g:
            self.cycle_colours()
        elif key == pygame.K_t:
            self.ancestry.toggle()
        elif key in PAN_KEYS:
            dx, dy = PAN_KEYS[key]
            self.pan(dx * PAN_STEP * self.camera.win_w, dy * PAN_STEP * self.camera.win_h)
            self._held[key] = time.perf_counter()

    def pan(self, dx: float, dy: float) -> None:
        self.camera.pan(dx, dy)
        if self.follow:
            self.follow = False
            self.toasts.add("follow off")

    def _pan_held(self, dt: float) -> None:
        """Arrow keys held down keep panning (after a quarter second, like key repeat)."""
        if not self._held:
            return
        pressed = pygame.key.get_pressed()
        now = time.perf_counter()
        for key, since in list(self._held.items()):
            if not pressed[key]:
                del self._held[key]
            elif now - since > 0.25:
                dx, dy = PAN_KEYS[key]
                self.pan(dx * PAN_HELD_PX_S * dt, dy * PAN_HELD_PX_S * dt)

    def toggle_follow(self) -> None:
        if self.follow:
            self.follow = False
            self.toasts.add("follow off")
            return
        if self.inspector.alive_at(self.world) is None:
            self.toasts.add("F follows the inspected agent: right-click one first")
            return
        self.follow = True
        if self.camera.level == 0:
            self.camera.set_zoom(FOLLOW_LEVEL)
        self.toasts.add("following the inspected agent (F, 0 or a pan stops)")

    def cycle_colours(self) -> str:
        """G: tint the smileys by the world's next colour mode (team, family, species: those it has)."""
        modes = self.world.colour_modes()
        now = colour_mode(self.world, self.colours)
        self.colours = modes[(modes.index(now) + 1) % len(modes)]
        if len(modes) == 1:
            self.toasts.add(f"colours: {self.colours} (this world has no teams or species to colour by)")
        else:
            self.toasts.add(f"colours: {self.colours} (G: {' / '.join(modes)})")
        return self.colours

    def inspect_at(self, pos: tuple[float, float], toggle: bool = False) -> None:
        """Open the inspector on the living agent nearest window px pos (within about 40 window px)."""
        x, y = self.camera.to_world(*pos)
        reach = max(40.0 / self.camera.zoom, 30.0 / self.camera.scale)  # world px
        self.inspector.pick(self.world, x, y, reach, toggle)
        if not self.inspector.is_open and self.follow:
            self.follow = False

    def inspect_genome(self, gid: int | None) -> None:
        """Open the inspector on the living agent with this genome id (a tip clicked in the ancestry panel)."""
        if gid is None:
            return
        s = self.world.state
        slots = np.flatnonzero((s.genome_id == gid) & s.alive)
        if slots.size:
            self.inspector.select(self.world, int(slots[0]))

    def screenshot(self, path: str | Path | None = None) -> Path | None:
        """P: the window as a PNG (into the output folder unless a path is given)."""
        if path is None:
            self._shots += 1
            path = self.out_dir / f"screenshot-{self._shots:03d}.png"
        path = Path(path)
        self.hud.invalidate()  # the picture's HUD text up to date (it is otherwise redrawn 5 times a second)
        if self.ancestry.is_open:  # ... and the ancestry panel finished
            self.draw(self.screen)
            self.ancestry.wait()
        self.draw(self.screen)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            pygame.image.save(self.screen, str(path))
        except (OSError, pygame.error) as e:
            self.toasts.add(f"screenshot failed: {path}: {getattr(e, 'strerror', None) or e}", 6.0)
            return None
        self.toasts.add(f"screenshot {path}")
        return path

    # ---- drawing ----------------------------------------------------------------------------------------------
    def draw(self, surf: pygame.Surface) -> None:
        """Everything the window shows, onto surf."""
        mouse = self.pointer.pos if self.pointer.inside else None
        selected = self.inspector.slot if self.inspector.alive_at(self.world) is not None else None
        self.scene.draw(surf, self.world, self.camera, self.now(), cursor=self.cursor_style, mouse=mouse,
                        selected=selected, colours=self.colours)
        hud = self.hud.draw(surf, self.hud_text, key=self.hud_key())
        chart = self.chart.draw(surf, self.world.chart, self.bottom_margin)
        inspected = self.inspector.draw(surf, self.world)
        if self.ancestry.is_open:
            self.ancestry.draw(surf, self.world, self.ancestry_area(surf.get_size(), hud, chart, inspected),
                               selected=self.inspector.gid if inspected is not None else None)
        self.draw_overlay(surf)
        if self.show_help:
            draw_help(surf, *self.help())
        self.toasts.draw(surf, self.bottom_margin)

    def ancestry_area(self, size: tuple[int, int], hud: pygame.Rect, chart: pygame.Rect,
                      inspected: pygame.Rect | None) -> pygame.Rect:
        """Where the ancestry panel goes: the right-hand column; below the inspector when it is open and leaves
        room, else beside it between the HUD and the chart."""
        w, h = size
        bottom = h - 8 - self.bottom_margin
        pw = min(w - 16, max(ANCESTRY_W[0], min(ANCESTRY_W[1], int(w * ANCESTRY_SHARE))))
        if inspected is None:
            return pygame.Rect(w - 8 - pw, 8, pw, max(1, bottom - 8))
        below = inspected.bottom + 8
        if bottom - below >= ANCESTRY_MIN_H:
            return pygame.Rect(w - 8 - pw, below, pw, bottom - below)
        top, low, right = hud.bottom + 8, chart.top - 8, inspected.left - 8
        if right - 8 >= ANCESTRY_W[0] and low - top >= ANCESTRY_MIN_H:
            return pygame.Rect(8, top, right - 8, low - top)
        tall = min(ANCESTRY_MIN_H, bottom - 8)
        return pygame.Rect(w - 8 - pw, bottom - tall, pw, tall)

    def hud_key(self) -> Any:
        """The HUD is redrawn at once when this changes (else 5 times a second)."""
        return (self.speed_i, self.paused, self.camera.level, self.colours)

    def hud_text(self) -> dict[str, str]:
        """hud_lines, and in worlds with more than one colour mode a line naming the one shown (before "keys")."""
        lines = self.hud_lines()
        if len(self.world.colour_modes()) > 1:
            keys = lines.pop("keys", None)
            lines["colours"] = f"colours: {colour_mode(self.world, self.colours)} [G]"
            if keys is not None:
                lines["keys"] = keys
        return lines

    def hud_lines(self) -> dict[str, str]:
        return {"title": self.caption}

    def draw_overlay(self, surf: pygame.Surface) -> None:
        """Drawn over the world and panels, under help and toasts (subclasses)."""

    def help(self) -> tuple[str, list[tuple[str, str]]]:
        return "controls", []

    def frame_rate(self) -> tuple[float, float]:
        """(frames per second, steps per second) over the last second or so."""
        if len(self.progress) < 2:
            return 0.0, 0.0
        (w0, k0), (w1, k1) = self.progress[0], self.progress[-1]
        if w1 <= w0:
            return 0.0, 0.0
        return (len(self.progress) - 1) / (w1 - w0), max(0, k1 - k0) / (w1 - w0)


def settle_memory(thaw: bool = False) -> None:
    """Leave what was loaded at start (numba, pygame, numpy: ~110,000 objects) out of the garbage collector's full
    passes. A full pass over them took 116-184 ms on the shared 2-core machine, long enough to stall a frame each
    time the ancestry panel's build made one due; over what is made afterwards it takes about 20 ms."""
    import gc

    if thaw:
        gc.unfreeze()
    gc.collect()
    gc.freeze()


def view_rows(arrows: str) -> list[tuple[str, str]]:
    """Help rows for zoom, pan, follow and colours; `arrows` names the keys that pan."""
    return [
        ("wheel", "zoom in / out around the pointer (1x-8x)"),
        (f"right drag, {arrows}", "pan"),
        ("0", "whole world (1x)"),
        ("F", "follow the inspected agent (centred)"),
        ("G", "colour smileys by family / team / species (those the world has)"),
    ]
