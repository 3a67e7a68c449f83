"""`neuroevo live`: a window onto a running Simulation (mouse cursor, keys, hot reload, recording, save/load).

The simulation advances by whole fixed-dt steps (k per frame at speed k); rendering never changes what happens.
Everything that touches the Simulation goes through LiveView (view.py).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pygame

from ..cursor import external_rows
from .hud import clock, world_lines
from .theme import BG, TEXT, TEXT_DIM, fonts
from .view import LiveView
from .window import Window, display_available, view_rows

TURBO_BUDGET_S = 0.030  # turbo fills this much of a frame with steps

__all__ = ["LiveWindow", "display_available"]


def why_not_saved(path: Path, e: OSError) -> str:
    """A short reason a file could not be written under path."""
    for p in path.parents:
        if p.exists():
            if not p.is_dir():
                return f"{p} is a file, not a folder"
            break
    return e.strerror or str(e)


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be written into folder (created if missing), or None if they probably can."""
    for p in (folder, *folder.parents):
        if p.exists():
            if not p.is_dir():
                return f"{p} is a file, not a folder"
            if not os.access(p, os.W_OK | os.X_OK):
                return f"{p} is not writable"
            return None
    return None


class LiveWindow(Window):
    """Owns the window and drives one Simulation: events -> steps -> drawing, once per frame."""

    def __init__(self, sim: Any, *, size: tuple[int, int] = (1280, 720), fps: int = 60,
                 out_dir: str | Path | None = None, load_path: str | Path | None = None,
                 autosave: bool = True, speed: int = 1, human: bool | None = None,
                 scenario_label: str | None = None, scenario_path: str | Path | None = None,
                 overrides: dict[str, Any] | None = None) -> None:
        world = LiveView(sim)
        super().__init__(world, size=size, fps=fps, out_dir=out_dir, speed=speed)
        self.world: LiveView = world
        self.save_path = self.out_dir / "population.npz"
        self.load_path = Path(load_path) if load_path else None
        self.autosave = autosave
        self.scenario_label = scenario_label or world.scenario
        self.caption = f"neuroevo live: {self.scenario_label}"
        # hot reload: the scenario file is watched; saving it swaps settings and hooks into the running world
        self.scenario_path = Path(scenario_path) if scenario_path else None
        self.overrides = dict(overrides or {})
        self._watch = (time.perf_counter(), self._mtime())
        src = world.settings.cursor.source
        self.bot_source = src if src in ("hunter", "random") else "hunter"
        self.human = (src not in ("hunter", "random")) if human is None else human
        self.steps_per_s = 0.0
        self._turbo_steps = 64
        self.apply_cursor_mode()

    @property
    def cursor_style(self) -> str:  # type: ignore[override]
        return "mouse" if self.human else "bot"

    def apply_cursor_mode(self) -> None:
        self.world.set_cursor_source("external" if self.human else self.bot_source)

    # ---- lifecycle --------------------------------------------------------------------------------------------
    def open(self) -> None:
        """Create the window; compile the kernels behind a splash screen; say if files cannot be saved."""
        super().open()
        self._compile_with_splash()
        why = folder_problem(self.out_dir)
        if why is not None:
            self.toasts.add(f"{self.out_dir}: {why}; saving (S, Esc), R and P will fail", 10.0)

    def _compile_with_splash(self) -> None:
        worker = threading.Thread(target=self.world.compile, daemon=True)
        worker.start()
        t0 = time.perf_counter()
        while worker.is_alive():
            for ev in pygame.event.get():
                if ev.type == pygame.QUIT:
                    self.running = False
            if time.perf_counter() - t0 > 0.25:  # a warm cache loads in well under this; show nothing then
                self._draw_splash(time.perf_counter() - t0)
            worker.join(0.05)

    def _draw_splash(self, elapsed: float) -> None:
        scr, f = self.screen, fonts()
        scr.fill(BG)
        w, h = scr.get_size()
        title = f.big.render("compiling the simulation kernels...", True, TEXT)
        scr.blit(title, title.get_rect(center=(w / 2, h / 2 - 20)))
        sub = f.normal.render(f"first start only; cached afterwards  ({elapsed:.0f} s)", True, TEXT_DIM)
        scr.blit(sub, sub.get_rect(center=(w / 2, h / 2 + 14)))
        for k in range(8):
            ang = elapsed * 4.0 + k * math.pi / 4
            c = int(80 + 170 * (k / 7))
            pygame.draw.circle(scr, (c, c, c), (w / 2 + 22 * math.cos(ang), h / 2 + 60 + 22 * math.sin(ang)), 4)
        pygame.display.flip()

    def close(self) -> int:
        """Finish a recording and save the population (unless --no-autosave). A population that cannot be saved
        is reported on stderr in one line, and the exit code is 2. Safe to call twice."""
        if self._closed:
            return 0
        self._closed = True
        code = 0
        done = self.world.stop_recording()
        if done is not None:
            print(f"neuroevo live: replay saved to {done[0]}")
        if self.autosave:
            try:
                self.world.save(self.save_path)
            except OSError as e:
                print(f"neuroevo live: error: population not saved: {self.save_path}: "
                      f"{why_not_saved(self.save_path, e)} (choose a writable folder with --out)", file=sys.stderr)
                code = 2
            else:
                print(f"neuroevo live: population saved to {self.save_path}")
        self.thaw()
        pygame.display.quit()
        return code

    # ---- one frame --------------------------------------------------------------------------------------------
    @property
    def steps_per_frame(self) -> int:
        k = self.speeds[self.speed_i]
        return self._turbo_steps if k == 0 else k

    def update(self) -> None:
        self.check_reload()
        if self.paused and self.single_steps == 0:
            return
        n = self.single_steps if self.paused else self.steps_per_frame
        self.single_steps = 0
        ext = None
        if self.human:
            p = self.pointer
            click = bool(p.clicks)
            mx, my = self.camera.to_world(*(p.clicks.popleft() if click else p.pos))
            ext = external_rows(n, mx, my, p.inside, click)
        try:
            took = self.world.advance(n, ext)
        except ValueError as e:  # a scenario hook failed (ScenarioError): keep the session, say why, pause
            self.paused = True
            self.toasts.add(f"paused: {e}", 10.0)
            return
        if took > 0:
            rate = n / took
            self.steps_per_s = rate if self.steps_per_s == 0 else 0.9 * self.steps_per_s + 0.1 * rate
        if self.speeds[self.speed_i] == 0:  # turbo: as many steps as fit in the frame budget
            self._turbo_steps = int(max(16, min(20_000, self.steps_per_s * TURBO_BUDGET_S)))

    # ---- hot reload -------------------------------------------------------------------------------------------
    def _mtime(self) -> float | None:
        try:
            return self.scenario_path.stat().st_mtime_ns if self.scenario_path else None
        except OSError:
            return None

    def check_reload(self, force: bool = False) -> None:
        """Reload the scenario file if it changed since the last look (twice a second at most)."""
        t, seen = self._watch
        if self.scenario_path is None or (not force and time.perf_counter() - t < 0.5):
            return
        m = self._mtime()
        self._watch = (time.perf_counter(), m)
        if m is None or (m == seen and not force):
            return
        self.reload_scenario()

    def reload_scenario(self) -> bool:
        """Load the edited scenario, check it, and swap it in keeping the population; a toast says what happened."""
        from ..check import check_scenario
        from ..scenario import ScenarioError, load_scenario

        name = self.scenario_path.name
        try:
            cls = load_scenario(str(self.scenario_path))
            check_scenario(cls)
            self.world.reload(cls, self.overrides)
        except ScenarioError as e:
            self.toasts.add(f"not reloaded: {e}", 8.0)
            return False
        except Exception as e:  # noqa: BLE001 - a half-written file must never take the session down
            self.toasts.add(f"not reloaded: {name}: {type(e).__name__}: {e}", 8.0)
            return False
        self.apply_cursor_mode()
        self.hud.invalidate()
        self.toasts.add(f"reloaded {name}: new settings and hooks, same population", 4.0)
        return True

    # ---- keys and files ---------------------------------------------------------------------------------------
    def key(self, key: int, char: str = "", mod: int = 0) -> None:
        if key == pygame.K_c:
            self.human = not self.human
            self.apply_cursor_mode()
            self.toasts.add("cursor: your mouse" if self.human else f"cursor: {self.bot_source} bot")
        elif key == pygame.K_s:
            path = self.save()
            if path:
                self.toasts.add(f"saved {path}")
        elif key == pygame.K_l:
            self.load()
        elif key == pygame.K_r:
            self.toggle_recording()
        elif key == pygame.K_e:
            self.export_brain()
        else:
            super().key(key, char, mod)

    def export_brain(self) -> Path | None:
        """E: the inspected agent's brain into DIR/brain-<genome id>.json (neuroevo run --founders takes it)."""
        from ..brainfile import export_slot

        if self.inspector.alive_at(self.world) is None:
            self.toasts.add("E exports the inspected agent: right-click one first")
            return None
        try:
            path = export_slot(self.world.sim, self.inspector.slot, self.out_dir)
        except OSError as e:
            self.toasts.add(f"export failed: {self.out_dir}: {why_not_saved(self.out_dir, e)}", 8.0)
            return None
        self.toasts.add(f"exported {path}")
        return path

    def save(self) -> Path | None:
        """S: the population into DIR/population.npz; a toast names the file and the reason if it fails."""
        try:
            self.world.save(self.save_path)
        except OSError as e:
            self.toasts.add(f"save failed: {self.save_path}: {why_not_saved(self.save_path, e)}", 8.0)
            return None
        return self.save_path

    def load(self) -> None:
        """L: the population saved with S (or given with --load), run by this scenario's hooks."""
        from ..checkpoint import CheckpointError

        path = self.save_path if self.save_path.is_file() else self.load_path
        if path is None:
            self.toasts.add("nothing to load yet: press S to save first (or start with --load FILE)")
            return
        if self.world.recorder is not None:  # a replay follows one continuous run: finish it before switching
            self.toggle_recording()
        try:
            world = self.world.loaded(path)
        except CheckpointError as e:
            self.toasts.add(str(e), 5.0)
            return
        self.set_world(world)
        self.apply_cursor_mode()
        self.toasts.add(f"loaded {path}")

    def toggle_recording(self) -> None:
        """R: start recording into DIR/replay-<date-time>/, or stop and finish the replay."""
        from ..replay import unused_path

        done = self.world.stop_recording()
        if done is not None:
            self.toasts.add(f"replay saved: {done[0]} ({done[1]} frames)", 4.0)
            return
        path = unused_path(self.out_dir / time.strftime("replay-%Y%m%d-%H%M%S"))
        try:
            self.world.start_recording(path)
        except OSError as e:
            self.toasts.add(f"cannot record: {path}: {why_not_saved(path, e)}", 8.0)
            return
        self.toasts.add(f"recording to {path} (R stops)")

    # ---- what the window says ---------------------------------------------------------------------------------
    def hud_key(self) -> Any:
        return (*super().hud_key(), self.human, self.world.recorder is None, self.follow)

    def hud_lines(self) -> dict[str, str]:
        w = self.world
        secs, dt = w.sim_seconds, w.settings.world.dt
        fps, done_per_s = self.frame_rate()
        zoom = f"   zoom {self.camera.zoom:.1f}x" if self.camera.level else ""
        mode = "your mouse" if self.human else f"{self.bot_source} bot"
        return {
            "title": f"{self.scenario_label}  seed {w.seed}",
            "clock": f"sim {clock(secs)}   speed {self.speed_label()}{'  PAUSED' if self.paused else ''}{zoom}",
            **world_lines(w),
            "rate": f"{fps:.0f} FPS   {done_per_s:,.0f} sim steps/s ({done_per_s * dt:.1f}x real time)",
            "keys": f"cursor: {mode} [C]   ancestry [T]   help [H]" + ("   REC [R]" if w.recorder is not None else "")
                    + ("   FOLLOW [F]" if self.follow else ""),
        }

    def help(self) -> tuple[str, list[tuple[str, str]]]:
        return "controls", [
            ("mouse", "move: the cursor the smileys sense; left click: kill within the click radius"),
            ("right click / I", "inspect the agent under the cursor (its net, live)"),
            *view_rows("arrows"),
            ("Space", "pause / resume"),
            (". (period)", "one step (pauses)"),
            ("+ / -", "speed 1x, 2x, 4x ... 64x, turbo"),
            ("C", "cursor: your mouse / hunter bot"),
            ("S / L", f"save / load the population ({self.save_path})"),
            ("P", "screenshot (PNG)"),
            ("R", "record a replay / stop recording (neuroevo replay plays it)"),
            ("E", "export the inspected agent's brain (brain-<id>.json, for --founders)"),
            ("T", "ancestry of the living (click a tip to inspect that agent)"),
            ("H / F1", "this help"),
            ("Esc", "quit" + (" (saves the population)" if self.autosave else "")),
        ]

