"""Live viewer: a pygame-ce window onto a running Simulation (smileys, mouse cursor, HUD, chart, brain inspector).

Only this module imports pygame, and only the `live` command imports this module, so headless runs never load it.
The simulation advances by whole fixed-dt steps (k per frame at speed k); rendering never changes what happens.
Mouse input is collected from events (not from pygame.mouse.get_pos), so posted test events and a real mouse
drive the world the same way.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402
import pygame  # noqa: E402

from .cursor import AIM, COOLDOWN  # noqa: E402
from .state import (  # noqa: E402
    C_ARMED,
    C_PHASE,
    C_PRESENT,
    CAUSES,
    CX,
    CY,
    K_BIRTHS,
    K_DEATHS,
    K_LIFE_MAX,
    N_CAUSES,
)

# ---- look ------------------------------------------------------------------------------------------------------
BG = (18, 20, 26)  # outside the world (letterbox)
WORLD_BG = (30, 33, 42)  # the world's floor
WORLD_EDGE = (88, 94, 112)
TEXT = (226, 230, 238)
TEXT_DIM = (150, 156, 170)
PANEL = (12, 14, 20, 210)
LINEAGE_TINTS = (
    (255, 205, 60), (255, 150, 80), (240, 100, 110), (235, 120, 200), (170, 130, 250), (110, 150, 255),
    (80, 200, 240), (80, 210, 160), (140, 220, 90), (210, 230, 80), (250, 180, 150), (200, 200, 212),
)
TEAM_TINTS = ((90, 170, 255), (255, 110, 90), (120, 220, 120), (230, 200, 80))
CAUSE_COLOURS = {
    "edge": (255, 140, 60), "cursor": (190, 120, 255), "icon": (255, 210, 80), "crowd": (90, 200, 255),
    "team": (255, 100, 170), "rule": (230, 230, 120),
}
ICON_FILL = (64, 96, 150)
ICON_TOP = (96, 136, 196)
ICON_EDGE = (150, 170, 215)
LIFETIME_COLOUR = (120, 220, 120)
HAPPY, UNEASY, SCARED = range(3)
N_EXPR = 3
N_ROT = 36  # heading bins of the pre-rendered sprites (10 degrees each)
SCARED_PX = 110.0  # a face is scared while the cursor is this close (world px)
UNEASY_PX = 36.0  # ... and uneasy while its body is this close to an edge
SPEEDS = (1, 2, 4, 8, 16, 32, 64, 0)  # steps per frame; 0 = turbo (fill a frame's time budget with steps)
TURBO_BUDGET_S = 0.030
CHART_BIN_S = 10.0  # sim seconds per point of the live chart
VIEWER_PARALLEL_WORK = 100_000  # agent-steps per frame from which the viewer uses the multi-threaded kernel
MAX_GIF_FRAMES = 3000  # GIF frames are held in memory until written (MP4 streams)
MAX_EFFECTS = 256  # death markers and click rings on screen at once (big crowds die faster than we can mark)


# ---- geometry --------------------------------------------------------------------------------------------------
@dataclass
class View:
    """World px <-> window px: the world is scaled to fit the window and centred (letterboxed)."""

    world_w: float
    world_h: float
    win_w: int
    win_h: int
    scale: float = 1.0
    ox: float = 0.0
    oy: float = 0.0

    def __post_init__(self) -> None:
        self.fit(self.win_w, self.win_h)

    def fit(self, win_w: int, win_h: int) -> None:
        self.win_w, self.win_h = int(win_w), int(win_h)
        self.scale = min(self.win_w / self.world_w, self.win_h / self.world_h)
        self.ox = 0.5 * (self.win_w - self.world_w * self.scale)
        self.oy = 0.5 * (self.win_h - self.world_h * self.scale)

    def to_screen(self, x: float, y: float) -> tuple[float, float]:
        return float(x) * self.scale + self.ox, float(y) * self.scale + self.oy

    def to_world(self, sx: float, sy: float) -> tuple[float, float]:
        return (float(sx) - self.ox) / self.scale, (float(sy) - self.oy) / self.scale

    def rect(self) -> pygame.Rect:
        return pygame.Rect(round(self.ox), round(self.oy), round(self.world_w * self.scale),
                           round(self.world_h * self.scale))


# ---- sprites ---------------------------------------------------------------------------------------------------
def _shade(c: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return tuple(max(0, min(255, int(v * f))) for v in c)  # type: ignore[return-value]


def draw_face(size: int, tint: tuple[int, int, int], expr: int) -> pygame.Surface:
    """One upright smiley (forehead up) at `size` px, drawn large; callers rotate and shrink it."""
    s = pygame.Surface((size, size), pygame.SRCALPHA)
    r = size / 2.0
    c = (r, r)
    ink = (34, 26, 22)
    pygame.draw.circle(s, _shade(tint, 0.55), c, r)
    pygame.draw.circle(s, tint, c, r * 0.88)
    ex, ey = 0.34 * r, -0.22 * r
    if expr == SCARED:
        for sx in (-1, 1):
            pygame.draw.circle(s, (250, 250, 250), (r + sx * ex, r + ey), 0.24 * r)
            pygame.draw.circle(s, ink, (r + sx * ex, r + ey - 0.06 * r), 0.12 * r)
        pygame.draw.ellipse(s, ink, pygame.Rect(r - 0.2 * r, r + 0.25 * r, 0.4 * r, 0.42 * r))
    else:
        for sx in (-1, 1):
            pygame.draw.circle(s, ink, (r + sx * ex, r + ey), 0.15 * r)
        if expr == HAPPY:
            box = pygame.Rect(r - 0.5 * r, r - 0.35 * r, r, 0.95 * r)
            pygame.draw.arc(s, ink, box, math.pi + 0.35, 2 * math.pi - 0.35, max(1, int(0.14 * r)))
        else:
            w = max(1, int(0.13 * r))
            pygame.draw.line(s, ink, (r - 0.34 * r, r + 0.42 * r), (r + 0.34 * r, r + 0.34 * r), w)
    return s


class SpriteBank:
    """Pre-rendered faces for every (tint, expression, heading bin) at one pixel size; index with `index()`."""

    OVERSAMPLE = 4

    def __init__(self, tints: tuple[tuple[int, int, int], ...], diameter_px: int) -> None:
        self.tints = tints
        self.size = max(5, int(diameter_px)) + 2  # a 1 px margin keeps the rotated outline whole
        big = self.size * self.OVERSAMPLE
        surfaces: list[pygame.Surface] = []
        for tint in tints:
            for expr in range(N_EXPR):
                face = draw_face(big, tint, expr)
                for k in range(N_ROT):
                    # heading h (y down) points the forehead along (cos h, sin h): rotate by -(h + 90) degrees
                    angle = -(360.0 * k / N_ROT + 90.0)
                    rot = pygame.transform.rotozoom(face, angle, 1.0 / self.OVERSAMPLE)
                    tile = pygame.Surface((self.size, self.size), pygame.SRCALPHA)
                    tile.blit(rot, rot.get_rect(center=(self.size / 2, self.size / 2)))
                    # premultiplied alpha blends about a third faster than straight alpha (fblits, 5k-20k)
                    tile = tile.convert_alpha() if pygame.display.get_surface() else tile
                    surfaces.append(tile.premul_alpha())
        self.table = np.empty(len(surfaces), dtype=object)
        self.table[:] = surfaces

    @staticmethod
    def index(tint: np.ndarray, expr: np.ndarray, heading: np.ndarray) -> np.ndarray:
        rot = np.rint(heading * (N_ROT / (2.0 * math.pi))).astype(np.int64) % N_ROT
        return (tint.astype(np.int64) * N_EXPR + expr) * N_ROT + rot


# ---- input -----------------------------------------------------------------------------------------------------
@dataclass
class MouseInput:
    """The human cursor as built from events: position, whether it is over the window, pending clicks."""

    pos: tuple[float, float] = (0.0, 0.0)  # window px
    inside: bool = False
    clicks: deque = field(default_factory=deque)  # window px of left clicks not yet applied
    inspects: deque = field(default_factory=deque)  # window px of right clicks

    def handle(self, ev: pygame.event.Event) -> None:
        if ev.type == pygame.MOUSEMOTION:
            self.pos = ev.pos
            self.inside = True
        elif ev.type == pygame.MOUSEBUTTONDOWN:
            self.pos = ev.pos
            self.inside = True
            if ev.button == 1:
                self.clicks.append(ev.pos)
            elif ev.button == 3:
                self.inspects.append(ev.pos)
        elif ev.type == pygame.WINDOWLEAVE:  # back inside with the next motion, which also tells where
            self.inside = False


# ---- lineage ---------------------------------------------------------------------------------------------------
class Lineage:
    """Founder of every living genome (children inherit their parent's founder), for colouring families."""

    def __init__(self, state: Any) -> None:
        self.founder_of: dict[int, int] = {}
        self.last_id = np.full(state.n, -2, np.int64)
        self.founder = np.zeros(state.n, np.int64)
        self.update(state)

    def update(self, state: Any) -> np.ndarray:
        """Slots whose genome changed since the last call (each such slot had a death)."""
        gid = state.genome_id
        changed = np.flatnonzero(gid != self.last_id)
        for i in changed.tolist():
            g, p = int(gid[i]), int(state.parent_id[i])
            f = self.founder_of.get(p, p) if p >= 0 else g
            self.founder_of[g] = f
            self.founder[i] = f
        self.last_id[:] = gid
        if len(self.founder_of) > 20 * state.n + 10_000:  # forget genomes no living agent descends from
            keep = set(gid.tolist())
            self.founder_of = {g: f for g, f in self.founder_of.items() if g in keep}
        return changed


# ---- chart data -----------------------------------------------------------------------------------------------
class RateHistory:
    """Simulation observer: every CHART_BIN_S sim seconds, deaths/min by cause and the mean age of the living.
    It also asks for the step's death reports (sim.run_events), which the viewer draws as markers."""

    wants_events = True

    def __init__(self, sim: Any) -> None:
        self.every = max(1, int(round(CHART_BIN_S / sim.settings.world.dt)))
        self.dt = sim.settings.world.dt
        self._last = sim.state.counters.copy()
        self.t: list[float] = []  # sim minutes at the end of each bin
        self.rates: list[np.ndarray] = []  # (N_CAUSES,) deaths per minute
        self.lifetime: list[float] = []  # mean age of the living, s
        self.version = 0

    def observe(self, sim: Any) -> None:
        c = sim.state.counters
        d = (c[K_DEATHS: K_DEATHS + N_CAUSES] - self._last[K_DEATHS: K_DEATHS + N_CAUSES]).astype(np.float64)
        self._last = c.copy()
        s = sim.state
        ages = s.age[s.alive]
        self.t.append(sim.sim_seconds / 60.0)
        self.rates.append(d * (60.0 / CHART_BIN_S))
        self.lifetime.append(float(ages.mean()) * self.dt if ages.size else 0.0)
        self.version += 1


# ---- the viewer ------------------------------------------------------------------------------------------------
@dataclass
class Toast:
    text: str
    until: float


@dataclass
class Effect:
    x: float  # world px
    y: float
    born: float  # wall seconds
    kind: str  # "click" or a death cause
    life: float = 0.5


class Viewer:
    """Owns the window and drives one Simulation: events -> steps -> drawing, once per frame."""

    def __init__(self, sim: Any, *, size: tuple[int, int] = (1280, 720), fps: int = 60,
                 out_dir: str | Path | None = None, load_path: str | Path | None = None,
                 autosave: bool = True, speed: int = 1, human: bool | None = None,
                 scenario_label: str | None = None, scenario_path: str | Path | None = None,
                 overrides: dict[str, Any] | None = None) -> None:
        self.sim = sim
        # hot reload: the scenario file is watched; saving it swaps settings and hooks into the running world
        self.scenario_path = Path(scenario_path) if scenario_path else None
        self.overrides = dict(overrides or {})
        self._watch = (time.perf_counter(), self._mtime())
        self.fps = fps
        self.size = size
        self.out_dir = Path(out_dir) if out_dir else Path("replays") / f"live-{sim.scenario}-{sim.seed}"
        self.save_path = self.out_dir / "population.npz"
        self.load_path = Path(load_path) if load_path else None
        self.autosave = autosave
        self.scenario_label = scenario_label or sim.scenario
        src = sim.settings.cursor.source
        self.bot_source = src if src in ("hunter", "random") else "hunter"
        self.human = (src not in ("hunter", "random")) if human is None else human
        self.speed_i = SPEEDS.index(speed) if speed in SPEEDS else 0
        self.paused = False
        self.single_steps = 0
        self.show_help = False
        self.inspect_slot: int | None = None
        self.inspect_gid = -1
        self.inspect_dead: tuple[str, float] | None = None
        self.running = True
        self.mouse = MouseInput()
        self.toasts: list[Toast] = []
        self.effects: list[Effect] = []
        self.progress: deque = deque(maxlen=61)  # (wall s, step) of the last frames, for achieved steps/s
        self.steps_per_s = 0.0
        self._turbo_steps = 64
        self._hud_cache: tuple[float, list[pygame.Surface]] = (-1.0, [])
        self._hud_key: tuple = ()
        self._chart_cache: tuple[int, tuple[int, int], pygame.Surface | None] = (-1, (0, 0), None)
        self._net_cache: tuple[int, pygame.Surface | None, list] = (-1, None, [])
        self._shots = 0
        self.screen: pygame.Surface | None = None
        self.video_time: float | None = None  # set while exporting: effects then fade in video time
        self.bottom_margin = 0  # px kept free at the bottom (the replay seek bar)
        self.live_acts = True  # unit values in the inspector (a replay has weights but no activations)
        self.recorder: Any = None

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def open(self) -> None:
        """Create the window, fonts and sprites; compile the kernels behind a splash screen."""
        pygame.display.init()
        pygame.font.init()
        pygame.display.set_caption(f"neuroevo live: {self.scenario_label}")
        self.screen = pygame.display.set_mode(self.size, pygame.RESIZABLE)
        self.font = pygame.font.Font(None, 20)
        self.font_small = pygame.font.Font(None, 16)
        self.font_big = pygame.font.Font(None, 34)
        self.clock = pygame.time.Clock()
        self._attach(self.sim)
        self._compile_with_splash()

    def _attach(self, sim: Any) -> None:
        """Start watching a (new or reloaded) simulation."""
        self.sim = sim
        self._apply_cursor_mode()
        self.history = RateHistory(sim)
        sim.observers = [o for o in sim.observers if not isinstance(o, RateHistory)]
        sim.add_observer(self.history)
        self.lineage = Lineage(sim.state)
        self.snapshots: deque = deque()  # (step, counters) for "deaths in the last minute"
        w = sim.settings.world
        win = self.screen.get_size() if self.screen else self.size
        self.view = View(w.width, w.height, *win)
        self._build_sprites()
        self.inspect_slot = None

    def _build_sprites(self) -> None:
        diameter = 2.0 * self.sim.settings.world.radius * self.view.scale
        tints = TEAM_TINTS if self._teams() is not None else LINEAGE_TINTS
        self.sprites = SpriteBank(tints, round(diameter))

    def _teams(self) -> np.ndarray | None:
        """Team of every slot when the scenario has teams (then smileys wear team colours), else None."""
        hz = getattr(self.sim.settings, "hazards", None)
        if hz is None or getattr(hz, "teams", 1) <= 1:
            return None
        return getattr(self.sim.state, "team", None)

    def _apply_cursor_mode(self) -> None:
        src = "external" if self.human else self.bot_source
        self.sim.set_cursor_source(src)

    def _compile_with_splash(self) -> None:
        worker = threading.Thread(target=self.sim.run, args=(0,), daemon=True)
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
        scr = self.screen
        scr.fill(BG)
        w, h = scr.get_size()
        title = self.font_big.render("compiling the simulation kernels...", True, TEXT)
        scr.blit(title, title.get_rect(center=(w / 2, h / 2 - 20)))
        sub = self.font.render(f"first start only; cached afterwards  ({elapsed:.0f} s)", True, TEXT_DIM)
        scr.blit(sub, sub.get_rect(center=(w / 2, h / 2 + 14)))
        a = elapsed * 4.0
        for k in range(8):
            ang = a + k * math.pi / 4
            c = int(80 + 170 * (k / 7))
            pygame.draw.circle(scr, (c, c, c), (w / 2 + 22 * math.cos(ang), h / 2 + 60 + 22 * math.sin(ang)), 4)
        pygame.display.flip()

    def run(self) -> int:
        """The main loop; returns an exit code."""
        self.open()
        while self.running:
            self.frame()
            self.clock.tick(self.fps)
        self.close()
        return 0

    def close(self) -> None:
        if self.recorder is not None:
            path = self.recorder.path
            self.toggle_recording()
            print(f"neuroevo live: replay saved to {path}")
        if self.autosave:
            path = self.save()
            if path is not None:
                print(f"neuroevo live: population saved to {path}")
        pygame.display.quit()

    # ---- one frame -----------------------------------------------------------------------------------------
    def frame(self) -> bool:
        """Handle events, advance the simulation, draw. Returns False once the user asked to quit."""
        for ev in pygame.event.get():
            self.handle(ev)
        if not self.running:
            return False
        self.check_reload()
        for pos in list(self.mouse.inspects):
            self.inspect_at(*self.view.to_world(*pos))
        self.mouse.inspects.clear()
        self.advance()
        self.draw()
        pygame.display.flip()
        self.progress.append((time.perf_counter(), self.sim.step_count))
        return True

    @property
    def steps_per_frame(self) -> int:
        k = SPEEDS[self.speed_i]
        return self._turbo_steps if k == 0 else k

    def advance(self) -> None:
        if self.paused and self.single_steps == 0:
            return
        n = self.single_steps if self.paused else self.steps_per_frame
        self.single_steps = 0
        sim, s = self.sim, self.sim.state
        pre_pos = s.pos.copy()
        ext = None
        if self.human:
            from .cursor import external_rows

            mx, my = self.view.to_world(*self.mouse.pos)
            click = bool(self.mouse.clicks)
            if click:
                mx, my = self.view.to_world(*self.mouse.clicks.popleft())
                self.effects.append(Effect(mx, my, self.now(), "click", 0.45))
            ext = external_rows(n, mx, my, self.mouse.inside, click)
        phase0 = s.cursor[C_PHASE]
        # A frame's few steps run on one thread: a prange launch whose second thread is busy elsewhere can stall
        # for milliseconds (measured with the other core loaded: 50 agents 0.4-3 ms parallel vs 0.12 ms serial;
        # 5,000 agents 3-4 ms vs 1.7 ms). Big batches (turbo, crowds at high speed) use both threads. Serial and
        # parallel kernels give identical results.
        sim.set_threads(2 if n * s.n >= VIEWER_PARALLEL_WORK else 1)
        t0 = time.perf_counter()
        try:
            sim.run(n, ext)
        except ValueError as e:  # a scenario hook failed (ScenarioError): keep the session, say why, pause
            self.paused = True
            self.toast(f"paused: {e}", 10.0)
            return
        dt = time.perf_counter() - t0
        if dt > 0:
            rate = n / dt
            self.steps_per_s = rate if self.steps_per_s == 0 else 0.9 * self.steps_per_s + 0.1 * rate
        if SPEEDS[self.speed_i] == 0:  # turbo: as many steps as fit in the frame budget
            self._turbo_steps = int(max(16, min(20_000, self.steps_per_s * TURBO_BUDGET_S)))
        if not self.human and phase0 == AIM and s.cursor[C_PHASE] == COOLDOWN:
            self.effects = [e for e in self.effects if e.kind != "click"][-MAX_EFFECTS:]  # one ring at a time
            self.effects.append(Effect(s.cursor[CX], s.cursor[CY], self.now(), "click", 0.45))
        self.lineage.update(s)
        now = self.now()
        room = max(0, MAX_EFFECTS - len(self.effects))
        for _step, i, c, _life in sim.run_events[:room].tolist():  # deaths as the compiled step reported them
            self.effects.append(Effect(float(pre_pos[i, 0]), float(pre_pos[i, 1]), now, CAUSES[c], 0.8))
        self.snapshots.append((sim.step_count, s.counters.copy()))
        horizon = sim.step_count - int(round(60.0 / sim.settings.world.dt))
        while len(self.snapshots) > 1 and self.snapshots[1][0] <= horizon:
            self.snapshots.popleft()

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
        name = self.scenario_path.name
        if not hasattr(self.sim, "reload_scenario"):
            self.toast(f"{name} changed; this simulation cannot reload scenarios", 5.0)
            return False
        from .check import check_scenario
        from .scenario import ScenarioError, load_scenario

        try:
            cls = load_scenario(str(self.scenario_path))
            check_scenario(cls)
            self.sim.reload_scenario(cls, self.overrides)
        except ScenarioError as e:
            self.toast(f"not reloaded: {e}", 8.0)
            return False
        except Exception as e:  # noqa: BLE001 - a half-written file must never take the session down
            self.toast(f"not reloaded: {name}: {type(e).__name__}: {e}", 8.0)
            return False
        self._apply_cursor_mode()
        if self.recorder is not None and hasattr(self.recorder, "settings_changed"):
            self.recorder.settings_changed(self.sim)
        self._build_sprites()
        self.toast(f"reloaded {name}: new settings and hooks, same population", 4.0)
        return True

    def now(self) -> float:
        """The clock effects fade by: wall seconds live; video seconds when exporting."""
        return time.perf_counter() if self.video_time is None else self.video_time

    def recent_deaths(self) -> tuple[float, np.ndarray]:
        """(seconds covered, deaths by cause (N_CAUSES,)) over the last sim minute, or less early on."""
        sim, c = self.sim, self.sim.state.counters
        if not self.snapshots:
            return 0.0, np.zeros(N_CAUSES, np.int64)
        step0, old = self.snapshots[0]
        span = (sim.step_count - step0) * sim.settings.world.dt
        return span, c[K_DEATHS: K_DEATHS + N_CAUSES] - old[K_DEATHS: K_DEATHS + N_CAUSES]

    # ---- input ---------------------------------------------------------------------------------------------
    def handle(self, ev: pygame.event.Event) -> None:
        self.mouse.handle(ev)
        if ev.type == pygame.QUIT:
            self.running = False
        elif ev.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            size = self.screen.get_size()
            if (size[0], size[1]) != (self.view.win_w, self.view.win_h):
                self.view.fit(*size)
                self._build_sprites()
        elif ev.type == pygame.KEYDOWN:
            self.key(ev.key, getattr(ev, "unicode", ""))

    def key(self, key: int, char: str = "") -> None:
        if key == pygame.K_ESCAPE:
            self.running = False
        elif key in (pygame.K_h, pygame.K_F1):
            self.show_help = not self.show_help
        elif key == pygame.K_SPACE:
            self.paused = not self.paused
            self.toast("paused" if self.paused else "running")
        elif key in (pygame.K_PERIOD, pygame.K_KP_PERIOD):
            self.paused = True
            self.single_steps += 1
        elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS) or char == "+":
            self.speed_i = min(len(SPEEDS) - 1, self.speed_i + 1)
            self.toast(f"speed {self.speed_label()}")
        elif key in (pygame.K_MINUS, pygame.K_KP_MINUS) or char == "-":
            self.speed_i = max(0, self.speed_i - 1)
            self.toast(f"speed {self.speed_label()}")
        elif key == pygame.K_c:
            self.human = not self.human
            self._apply_cursor_mode()
            self.toast("cursor: your mouse" if self.human else f"cursor: {self.bot_source} bot")
        elif key == pygame.K_i:
            self.inspect_at(*self.view.to_world(*self.mouse.pos), toggle=True)
        elif key == pygame.K_s:
            path = self.save()
            if path:
                self.toast(f"saved {path}")
        elif key == pygame.K_l:
            self.load()
        elif key == pygame.K_p:
            self.screenshot()
        elif key == pygame.K_r:
            self.toggle_recording()

    def toggle_recording(self) -> None:
        """R: start recording into DIR/replay-<date-time>/, or stop and finish the replay."""
        from .replay import Recorder

        if self.recorder is not None:
            self.recorder.close()
            self.sim.observers = [o for o in self.sim.observers if o is not self.recorder]
            self.toast(f"replay saved: {self.recorder.path} ({self.recorder.frames_written} frames)", 4.0)
            self.recorder = None
            return
        from .replay import unused_path

        path = unused_path(self.out_dir / time.strftime("replay-%Y%m%d-%H%M%S"))
        try:
            self.recorder = Recorder(self.sim, path, origin="live")
        except OSError as e:
            self.toast(f"cannot record: {e.strerror or e}")
            return
        self.sim.add_observer(self.recorder)
        self.toast(f"recording to {path} (R stops)")

    def speed_label(self) -> str:
        k = SPEEDS[self.speed_i]
        return f"turbo ({self._turbo_steps} steps/frame)" if k == 0 else f"{k}x"

    def toast(self, text: str, seconds: float = 2.5) -> None:
        self.toasts = [t for t in self.toasts if t.until > time.perf_counter()][-3:]
        self.toasts.append(Toast(text, time.perf_counter() + seconds))

    def inspect_at(self, x: float, y: float, toggle: bool = False) -> None:
        """Open the brain inspector on the living agent nearest (x, y) world px, if one is near enough."""
        s = self.sim.state
        alive = np.flatnonzero(s.alive)
        if alive.size == 0:
            return
        d2 = ((s.pos[alive] - np.array([x, y], np.float32)) ** 2).sum(axis=1)
        j = int(np.argmin(d2))
        reach = max(40.0, 30.0 / self.view.scale)
        slot = int(alive[j])
        if d2[j] > reach * reach or (toggle and slot == self.inspect_slot and self.inspect_dead is None):
            self.inspect_slot = None
            return
        self.inspect_slot = slot
        self.inspect_gid = int(s.genome_id[slot])
        self.inspect_dead = None
        self.inspect_age = float(s.age[slot]) * self.sim.settings.world.dt
        self.inspect_acts = s.acts[slot].copy()

    # ---- files ---------------------------------------------------------------------------------------------
    def save(self) -> Path | None:
        try:
            self.sim.save(self.save_path, extra={"source": "live"})
        except OSError as e:
            self.toast(f"save failed: {e.strerror or e}")
            return None
        return self.save_path

    def load(self) -> None:
        from .checkpoint import CheckpointError
        from .sim import Simulation

        path = self.save_path if self.save_path.is_file() else self.load_path
        if path is None:
            self.toast("nothing to load yet: press S to save first (or start with --load FILE)")
            return
        hooks = getattr(self.sim, "hooks", None)  # the running scenario's hooks go on with the loaded population
        try:
            sim, _ = Simulation.load(path, hooks=None if hooks is None else type(hooks)())
        except CheckpointError as e:
            self.toast(str(e), 5.0)
            return
        if self.recorder is not None:  # a replay follows one continuous run: finish it before switching
            self.toggle_recording()
        self._attach(sim)
        self.toast(f"loaded {path}")

    def screenshot(self, path: str | Path | None = None) -> Path:
        if path is None:
            self._shots += 1
            path = self.out_dir / f"screenshot-{self._shots:03d}.png"
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.screen, str(path))
        self.toast(f"screenshot {path}")
        return path

    # ---- drawing -------------------------------------------------------------------------------------------
    def draw(self) -> None:
        scr = self.screen
        scr.fill(BG)
        rect = self.view.rect()
        scr.fill(WORLD_BG, rect)
        pygame.draw.rect(scr, WORLD_EDGE, rect, 1)
        self.draw_icons()
        self.draw_effects()
        self.draw_agents()
        self.draw_cursor()
        self.draw_hud()
        self.draw_chart()
        if self.inspect_slot is not None:
            self.draw_inspector()
        if self.show_help:
            self.draw_help()
        self.draw_toasts()

    def draw_world_only(self) -> None:
        """The world without HUD, chart or overlays (clean video exports)."""
        self.screen.fill(BG)
        rect = self.view.rect()
        self.screen.fill(WORLD_BG, rect)
        pygame.draw.rect(self.screen, WORLD_EDGE, rect, 1)
        self.draw_icons()
        self.draw_effects()
        self.draw_agents()
        self.draw_cursor()

    def draw_icons(self) -> None:
        """Static or moving hazard rectangles ("desktop icons"), from sim.icons (M, 4) x0, y0, x1, y1 world px."""
        icons = getattr(self.sim, "icons", None)
        if icons is None or len(icons) == 0:
            return
        v = self.view
        for x0, y0, x1, y1 in np.asarray(icons, np.float64).tolist():
            if not all(math.isfinite(c) for c in (x0, y0, x1, y1)):
                continue
            (sx0, sy0), (sx1, sy1) = v.to_screen(x0, y0), v.to_screen(x1, y1)
            r = pygame.Rect(round(sx0), round(sy0), max(1, round(sx1 - sx0)), max(1, round(sy1 - sy0)))
            rad = max(2, min(r.width, r.height) // 6)
            pygame.draw.rect(self.screen, ICON_FILL, r, border_radius=rad)
            top = pygame.Rect(r.left, r.top, r.width, max(1, r.height // 3))
            pygame.draw.rect(self.screen, ICON_TOP, top, border_top_left_radius=rad, border_top_right_radius=rad)
            pygame.draw.rect(self.screen, ICON_EDGE, r, 1, border_radius=rad)

    def expressions(self) -> np.ndarray:
        """HAPPY / UNEASY (near an edge) / SCARED (the cursor near) per slot."""
        s, w = self.sim.state, self.sim.settings.world
        x, y = s.pos[:, 0], s.pos[:, 1]
        edge = np.minimum(np.minimum(x, w.width - x), np.minimum(y, w.height - y)) - w.radius
        expr = np.where(edge < UNEASY_PX, UNEASY, HAPPY)
        if s.cursor[C_PRESENT] > 0:
            d2 = (x - s.cursor[CX]) ** 2 + (y - s.cursor[CY]) ** 2
            expr = np.where(d2 < SCARED_PX * SCARED_PX, SCARED, expr)
        return expr

    def tints(self) -> np.ndarray:
        team = self._teams()
        if team is not None:
            return np.asarray(team, np.int64) % len(TEAM_TINTS)
        return self.lineage.founder % len(LINEAGE_TINTS)

    def family(self, slot: int) -> int:
        """Genome id of the founder the agent in `slot` descends from."""
        return int(self.lineage.founder[slot])

    def draw_agents(self) -> None:
        s = self.sim.state
        idx = np.flatnonzero(s.alive)
        if idx.size == 0:
            return
        v = self.view
        half = self.sprites.size / 2.0
        xy = (s.pos[idx] * v.scale + np.array([v.ox - half, v.oy - half], np.float32)).astype(np.int32)
        k = SpriteBank.index(self.tints()[idx], self.expressions()[idx], s.heading[idx])
        # two flat lists zipped into tuples cost a third of xy.tolist()'s nested lists at 20k agents
        self.screen.fblits(zip(self.sprites.table[k].tolist(), zip(xy[:, 0].tolist(), xy[:, 1].tolist())),
                           pygame.BLEND_PREMULTIPLIED)
        if self.inspect_slot is not None and self.inspect_dead is None:
            i = self.inspect_slot
            c = v.to_screen(*s.pos[i])
            pygame.draw.circle(self.screen, (255, 255, 255), c, half + 5, 2)

    def draw_cursor(self) -> None:
        s, v = self.sim.state, self.view
        kill = self.sim.settings.cursor.kill_radius * v.scale
        if self.human:
            if self.mouse.inside:
                pygame.draw.circle(self.screen, (120, 125, 140), self.mouse.pos, kill, 1)
            return
        if s.cursor[C_PRESENT] <= 0:
            return
        c = v.to_screen(s.cursor[CX], s.cursor[CY])
        armed = s.cursor[C_ARMED] > 0
        col = (255, 90, 90) if armed else (230, 230, 240)
        pygame.draw.circle(self.screen, col, c, kill, 2)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            pygame.draw.line(self.screen, col, (c[0] + dx * kill * 0.4, c[1] + dy * kill * 0.4),
                             (c[0] + dx * kill * 1.3, c[1] + dy * kill * 1.3), 2)

    def draw_effects(self) -> None:
        now = self.now()
        self.effects = [e for e in self.effects if now - e.born < e.life]
        v = self.view
        kill = self.sim.settings.cursor.kill_radius * v.scale
        for e in self.effects:
            f = (now - e.born) / e.life
            c = v.to_screen(e.x, e.y)
            if e.kind == "click":
                col = _shade((255, 120, 120), 1.0 - 0.7 * f)
                pygame.draw.circle(self.screen, col, c, kill * (0.6 + 0.9 * f), 3)
            else:
                col = _shade(CAUSE_COLOURS.get(e.kind, (200, 200, 200)), 1.0 - 0.8 * f)
                r = (5 + 6 * f) * max(0.6, v.scale)
                pygame.draw.line(self.screen, col, (c[0] - r, c[1] - r), (c[0] + r, c[1] + r), 2)
                pygame.draw.line(self.screen, col, (c[0] - r, c[1] + r), (c[0] + r, c[1] - r), 2)

    def _panel(self, w: int, h: int) -> pygame.Surface:
        p = pygame.Surface((w, h), pygame.SRCALPHA)
        p.fill(PANEL)
        return p

    def hud_lines(self) -> list[str]:
        sim, s = self.sim, self.sim.state
        dt = sim.settings.world.dt
        secs = sim.sim_seconds
        c = s.counters
        span, last = self.recent_deaths()
        ever = c[K_DEATHS: K_DEATHS + N_CAUSES]  # the causes this session has seen, and always edges
        causes = [(CAUSES[i], int(last[i])) for i in range(1, N_CAUSES) if CAUSES[i] == "edge" or ever[i] > 0
                  or last[i] > 0]
        ages = s.age[s.alive] * dt
        mean_age = float(ages.mean()) if ages.size else 0.0
        best = float(ages.max()) if ages.size else 0.0
        best_ever = max(best, float(c[K_LIFE_MAX]) * dt)
        (w0, k0), (w1, k1) = (self.progress[0], self.progress[-1]) if self.progress else ((0, 0), (0, 0))
        fps = (len(self.progress) - 1) / (w1 - w0) if w1 > w0 else 0.0
        done_per_s = (k1 - k0) / (w1 - w0) if w1 > w0 and k1 >= k0 else 0.0
        mode = "your mouse" if self.human else f"{self.bot_source} bot"
        state = "  PAUSED" if self.paused else ""
        window = "last min" if span >= 59.0 else f"last {span:.0f} s"
        return [
            f"{self.scenario_label}  seed {sim.seed}",
            f"sim {int(secs // 60):02d}:{secs % 60:04.1f}   speed {self.speed_label()}{state}",
            f"alive {int(s.alive.sum())}/{s.n}   births {int(c[K_BIRTHS])}",
            f"deaths {window}: " + "  ".join(f"{k} {v}" for k, v in causes),
            f"lifetime mean {mean_age:.1f} s   best {best:.1f} s   best ever {best_ever:.1f} s",
            f"{fps:.0f} FPS   {done_per_s:,.0f} sim steps/s ({done_per_s * dt:.1f}x real time)",
            f"cursor: {mode} [C]   help [H]" + ("   REC [R]" if self.recorder is not None else ""),
        ]

    def draw_hud(self) -> None:
        now = time.perf_counter()
        key = (self.speed_i, self.paused, self.human, self.recorder is None)
        stale = now - self._hud_cache[0] > 0.2 or self.video_time is not None  # exports: every frame
        if stale or key != self._hud_key:  # live text at 5 Hz is plenty to read
            self._hud_key = key
            self._hud_cache = (now, [self.font.render(t, True, TEXT if i else (255, 220, 120))
                                     for i, t in enumerate(self.hud_lines())])
        lines = self._hud_cache[1]
        w = max(line.get_width() for line in lines) + 16
        h = 18 * len(lines) + 10
        panel = self._panel(w, h)
        for i, surf in enumerate(lines):
            panel.blit(surf, (8, 6 + 18 * i))
        self.screen.blit(panel, (8, 8))

    def draw_chart(self) -> None:
        """Deaths per minute by cause (left scale) and mean lifetime of the living (right scale), all history."""
        size = (340, 150)
        hist = self.history
        key = hist.version
        if self._chart_cache[0] != key or self._chart_cache[1] != size or self._chart_cache[2] is None:
            self._chart_cache = (key, size, self._render_chart(size))
        surf = self._chart_cache[2]
        self.screen.blit(surf, (8, self.screen.get_height() - size[1] - 8 - self.bottom_margin))

    def _render_chart(self, size: tuple[int, int]) -> pygame.Surface:
        w, h = size
        p = self._panel(w, h)
        hist = self.history
        title = self.font_small.render("deaths/min by cause   mean lifetime (s, green)", True, TEXT_DIM)
        p.blit(title, (8, 5))
        x0, y0, x1, y1 = 34, 22, w - 34, h - 20
        pygame.draw.line(p, (70, 74, 88), (x0, y1), (x1, y1))
        if len(hist.t) < 2:
            msg = self.font_small.render(f"first point after {CHART_BIN_S:.0f} sim seconds", True, TEXT_DIM)
            p.blit(msg, (x0 + 10, (y0 + y1) // 2))
            return p
        t = np.array(hist.t)
        rates = np.array(hist.rates)  # (T, N_CAUSES)
        life = np.array(hist.lifetime)
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

        def ys(v: np.ndarray, top: float) -> np.ndarray:
            return y1 - v / top * (y1 - y0)

        pts = list(zip(tx.tolist(), ys(life, lmax).tolist()))
        pygame.draw.lines(p, LIFETIME_COLOUR, False, pts, 1)
        for i in shown:
            pts = list(zip(tx.tolist(), ys(rates[:, i], rmax).tolist()))
            pygame.draw.lines(p, CAUSE_COLOURS.get(CAUSES[i], TEXT), False, pts, 2)
        f = self.font_small
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

    def input_labels(self) -> list[str]:
        names = self._input_names()
        world = self.sim.settings.brain.frame == "world"
        out = []
        for n in names:
            if "/" in n:
                head, _, tail = n.partition(" ")
                a, _, b = tail.partition("/")
                n = f"{head} {b if world else a}"
            out.append(n)
        return out

    def _input_names(self) -> list[str]:
        """A label per net input: from the simulation, or (a replay) from its settings and layout."""
        fn = getattr(self.sim, "input_names", None)
        if callable(fn):
            return list(fn())
        from .config import input_offsets
        from .sensors import input_names

        blocks = input_offsets(self.sim.settings.brain)
        n_extra = self.sim.layout.n_in - sum(n for _, n in blocks.values())
        return list(input_names(input_offsets(self.sim.settings.brain, max(0, n_extra))))

    def draw_inspector(self) -> None:
        """The selected agent's net: weights as lines (warm +, cool -), units coloured by their live value."""
        s = self.sim.state
        slot = self.inspect_slot
        if self.inspect_dead is None and int(s.genome_id[slot]) != self.inspect_gid:
            cause = CAUSES[int(s.cause[slot])]
            self.inspect_dead = (cause, self.inspect_age)
        if self.inspect_dead is None:
            self.inspect_age = float(s.age[slot]) * self.sim.settings.world.dt
            self.inspect_acts = s.acts[slot].copy()
        layout = self.sim.layout
        w, h = 420, max(300, 22 + 18 * max(layout.sizes) + 110)
        x_off = self.screen.get_width() - w - 8
        panel = self._panel(w, h)
        f = self.font
        title = f"agent {self.inspect_gid}  (slot {slot})"
        if self.inspect_dead is None:
            speed = f"speed {float(s.speed[slot]):.0f} px/s   " if self.live_acts else ""
            sub = (f"age {self.inspect_age:.1f} s   {speed}"
                   f"parent {int(s.parent_id[slot])}   family {int(self.family(slot))}")
        else:
            sub = f"died ({self.inspect_dead[0]}) at {self.inspect_dead[1]:.1f} s; right-click or I picks another"
        panel.blit(f.render(title, True, (255, 220, 120)), (10, 8))
        panel.blit(self.font_small.render(sub, True, TEXT), (10, 28))
        net_top = 50
        if self._net_cache[0] != self.inspect_gid:
            self._net_cache = (self.inspect_gid, *self._render_net(w, h - net_top - 8, slot))
        edges, nodes = self._net_cache[1], self._net_cache[2]
        panel.blit(edges, (0, net_top))
        acts = self.inspect_acts
        for unit, (nx, ny) in enumerate(nodes):
            a = float(acts[unit])
            pygame.draw.circle(panel, _activation_colour(a), (nx, ny + net_top), 6)
            pygame.draw.circle(panel, (20, 20, 24), (nx, ny + net_top), 6, 1)
        n_out = layout.n_out
        labels = ("turn", "thrust")[:n_out]
        for k, lab in enumerate(labels):
            nx, ny = nodes[-n_out + k]
            val = float(acts[layout.n_units - n_out + k])
            text = f"{lab} {val:+.2f}" if self.live_acts else lab
            panel.blit(self.font_small.render(text, True, TEXT), (nx + 10, ny + net_top - 6))
        if not self.live_acts:
            note = self.font_small.render("weights only: a replay records no activations", True, TEXT_DIM)
            panel.blit(note, (10, h - 18))
        self.screen.blit(panel, (x_off, 8))

    def _render_net(self, w: int, h: int, slot: int) -> tuple[pygame.Surface, list[tuple[int, int]]]:
        layout = self.sim.layout
        genome = self.sim.genomes[slot].copy()
        surf = pygame.Surface((w, h), pygame.SRCALPHA)
        cols = len(layout.sizes)
        left, right = 150, w - 90
        xs = [left + (right - left) * i / max(1, cols - 1) for i in range(cols)]
        nodes: list[tuple[int, int]] = []
        for li, n in enumerate(layout.sizes):
            gap = min(18.0, (h - 16) / max(1, n))
            top = (h - gap * (n - 1)) / 2
            nodes += [(int(xs[li]), int(top + gap * j)) for j in range(n)]
        starts = np.concatenate([[0], np.cumsum(layout.sizes)])
        lines = []
        for li, (wm, _b) in enumerate(layout.split(genome)):
            wmax = float(np.abs(wm).max()) or 1.0
            for i in range(wm.shape[0]):
                for j in range(wm.shape[1]):
                    lines.append((abs(float(wm[i, j])) / wmax, float(wm[i, j]), starts[li] + i, starts[li + 1] + j))
        lines.sort()
        for mag, val, a, b in lines:
            base = (255, 150, 70) if val > 0 else (90, 160, 255)
            col = tuple(int(WORLD_BG[k] + (base[k] - WORLD_BG[k]) * (0.15 + 0.85 * mag)) for k in range(3))
            pygame.draw.line(surf, col, nodes[a], nodes[b], 2 if mag > 0.6 else 1)
        labels = self.input_labels()
        for j in range(layout.n_in):
            lab = self.font_small.render(labels[j] if j < len(labels) else f"in {j}", True, TEXT_DIM)
            surf.blit(lab, (nodes[j][0] - 10 - lab.get_width(), nodes[j][1] - 6))
        return surf, nodes

    def draw_help(self) -> None:
        rows = [
            ("mouse", "move: the cursor the smileys sense; left click: kill within the click radius"),
            ("right click / I", "inspect the agent under the cursor (its net, live)"),
            ("Space", "pause / resume"),
            (". (period)", "one step (pauses)"),
            ("+ / -", "speed 1x, 2x, 4x ... 64x, turbo"),
            ("C", "cursor: your mouse / hunter bot"),
            ("S / L", f"save / load the population ({self.save_path})"),
            ("P", "screenshot (PNG)"),
            ("R", "record a replay / stop recording (neuroevo replay plays it)"),
            ("H / F1", "this help"),
            ("Esc", "quit" + (" (saves the population)" if self.autosave else "")),
        ]
        self._help_panel("controls", rows)

    def _help_panel(self, title: str, rows: list[tuple[str, str]]) -> None:
        """A centred panel of (key, what it does) rows."""
        texts = [(self.font.render(k, True, (255, 220, 120)), self.font.render(t, True, TEXT)) for k, t in rows]
        w, h = 190 + max(t.get_width() for _, t in texts), 48 + 24 * len(rows)
        panel = self._panel(w, h)
        panel.fill((12, 14, 20, 235))
        panel.blit(self.font_big.render(title, True, (255, 220, 120)), (16, 8))
        for i, (k, t) in enumerate(texts):
            panel.blit(k, (20, 40 + 24 * i))
            panel.blit(t, (170, 40 + 24 * i))
        sw, sh = self.screen.get_size()
        self.screen.blit(panel, ((sw - w) // 2, (sh - h) // 2))

    def draw_toasts(self) -> None:
        now = time.perf_counter()
        self.toasts = [t for t in self.toasts if t.until > now]
        sw, sh = self.screen.get_size()
        for k, t in enumerate(reversed(self.toasts)):
            surf = self.font.render(t.text, True, TEXT)
            panel = self._panel(surf.get_width() + 20, surf.get_height() + 10)
            panel.blit(surf, (10, 5))
            self.screen.blit(panel, panel.get_rect(midbottom=(sw / 2, sh - 12 - 34 * k)))


def _activation_colour(a: float) -> tuple[int, int, int]:
    """Diverging colour for a unit value in [-1, 1]: blue (negative), grey (0), orange (positive)."""
    a = max(-1.0, min(1.0, a))
    grey = np.array([120, 120, 128], np.float64)
    end = np.array([255, 150, 70] if a > 0 else [90, 160, 255], np.float64)
    c = grey + (end - grey) * abs(a)
    return int(c[0]), int(c[1]), int(c[2])


def display_available() -> str | None:
    """None if a window can be opened, else why not (one line)."""
    import sys

    driver = os.environ.get("SDL_VIDEODRIVER", "")
    if sys.platform.startswith("linux") and not driver and not (os.environ.get("DISPLAY")
                                                               or os.environ.get("WAYLAND_DISPLAY")):
        return "no display found (DISPLAY and WAYLAND_DISPLAY are unset)"
    try:
        pygame.display.init()
    except pygame.error as e:
        return f"cannot open a window ({e})"
    return None


# ---- playback --------------------------------------------------------------------------------------------------
class _ReplayGenomes:
    """`sim.genomes[slot]` for a replay: the genome of whoever holds the slot at the current frame."""

    def __init__(self, source: ReplaySource) -> None:
        self.source = source

    def __getitem__(self, slot: int) -> np.ndarray:
        g = self.source.replay.genome(int(self.source.state.genome_id[slot]))
        return g if g is not None else np.zeros(self.source.layout.n_params, np.float32)


class ReplaySource:
    """What the drawing code reads from a Simulation, served from a replay at one frame."""

    def __init__(self, replay: Any) -> None:
        from .config import make_params
        from .replay import playback_state

        self.replay = replay
        self._state_at = playback_state
        self.settings = replay.settings
        self.layout = replay.layout
        self.params = make_params(replay.settings)
        self.seed = int(replay.meta.get("seed", 0))
        self.scenario = str(replay.meta.get("scenario", "replay"))
        self.observers: list[Any] = []
        self.genomes = _ReplayGenomes(self)
        self.index = 0
        self.state = playback_state(replay, 0)
        self.icons = replay.frame(0).icons  # (M, 4) the hazard rectangles of the current frame

    def seek(self, i: int) -> None:
        self.index = max(0, min(len(self.replay) - 1, int(i)))
        self.state = self._state_at(self.replay, self.index)
        self.icons = self.replay.frame(self.index).icons

    @property
    def step_count(self) -> int:
        return int(self.state.counters[0])

    @property
    def sim_seconds(self) -> float:
        return self.step_count * self.settings.world.dt


class ReplayHistory:
    """The live chart's series (see RateHistory) computed from a replay's events, up to the current frame."""

    def __init__(self, replay: Any) -> None:
        dt = replay.dt
        per = max(1, int(round(CHART_BIN_S / dt)))
        n = len(replay)
        start = int(replay.meta.get("start_step", 0))
        first = (-start) % per or per  # frames from the start to the first bin end (a step divisible by per)
        ends = np.arange(first, n, per)  # frame index closing each bin, as the live chart closes them
        d = replay.deaths
        self._ends = ends
        self._t_all = (start + ends) * dt / 60.0
        rates = np.zeros((ends.size, N_CAUSES))
        bins = np.searchsorted(ends, d["frame"], side="left")
        ok = bins < ends.size
        np.add.at(rates, (bins[ok], d["cause"][ok].astype(np.int64)), 60.0 / CHART_BIN_S)
        self._rates_all = rates
        self._life_all = replay.mean_age[ends] * dt if ends.size else np.zeros(0)
        self.version = -1
        self.upto(0)

    def upto(self, frame: int) -> None:
        k = int(np.searchsorted(self._ends, frame, side="right"))
        if k != self.version:
            self.version = k
            self.t = self._t_all[:k].tolist()
            self.rates = list(self._rates_all[:k])
            self.lifetime = self._life_all[:k].tolist()


class PlaybackViewer(Viewer):
    """The live viewer's drawing code over a replay: play/pause, speed, seek bar, frame steps, next death."""

    BAR_H = 30

    def __init__(self, replay: Any, **kw: Any) -> None:
        self.replay = replay
        kw.setdefault("autosave", False)
        super().__init__(ReplaySource(replay), human=False, **kw)
        self.live_acts = False
        self.bottom_margin = self.BAR_H
        self.dragging = False
        where = Path(replay.path).resolve()
        name = f"{where.parent.name}/{where.name}" if where.name == "replay" else where.name
        self.scenario_label = f"replay {name} ({self.sim.scenario})"

    def _attach(self, sim: Any) -> None:
        self.sim = sim
        self.history = ReplayHistory(self.replay)
        self.lineage = Lineage(sim.state)
        self.snapshots = deque()
        w = sim.settings.world
        win = self.screen.get_size() if self.screen else self.size
        self.view = View(w.width, w.height, *win)
        self._build_sprites()
        self.inspect_slot = None

    def _compile_with_splash(self) -> None:  # nothing to compile: playback never steps the simulation
        return

    def family(self, slot: int) -> int:
        return self.replay.founder(int(self.sim.state.genome_id[slot]))

    def tints(self) -> np.ndarray:
        team = self._teams()
        if team is not None:
            return np.asarray(team, np.int64) % len(TEAM_TINTS)
        f = np.array([self.replay.founder(g) for g in self.sim.state.genome_id.tolist()], np.int64)
        return f % len(LINEAGE_TINTS)

    def recent_deaths(self) -> tuple[float, np.ndarray]:
        i = self.sim.index
        per_min = int(round(60.0 / self.replay.dt))
        lo = max(0, i - per_min)
        fr = self.replay.deaths["frame"]
        a, b = np.searchsorted(fr, lo, side="right"), np.searchsorted(fr, i, side="right")
        counts = np.bincount(self.replay.deaths["cause"][a:b].astype(np.int64), minlength=N_CAUSES)[:N_CAUSES]
        return (i - lo) * self.replay.dt, counts

    def seek(self, i: int) -> None:
        self.sim.seek(i)
        self.history.upto(self.sim.index)
        self.effects.clear()

    def advance(self) -> None:
        if self.paused and self.single_steps == 0:
            return
        old = self.sim.index
        step = self.single_steps if self.paused else self.steps_per_frame
        self.single_steps = 0
        self.sim.seek(old + step)
        new = self.sim.index
        if new == len(self.replay) - 1 and not self.paused:
            self.paused = True
            self.toast("end of replay (Home: start over)")
        self.history.upto(new)
        if new > old:
            self._events_between(old, new)

    def _events_between(self, old: int, new: int) -> None:
        """Death markers and click rings for the frames (old, new]."""
        now = self.now()
        d = self.replay.deaths
        a, b = np.searchsorted(d["frame"], old, side="right"), np.searchsorted(d["frame"], new, side="right")
        room = max(0, MAX_EFFECTS - len(self.effects))
        for k in range(a, min(b, a + room)):
            x, y = d["pos"][k]
            self.effects.append(Effect(float(x), float(y), now, CAUSES[int(d["cause"][k])], 0.8))
        if new - old <= 8:
            for i in range(old + 1, new + 1):
                cur = self.replay.frame(i).cursor
                if cur[4] > 0:
                    self.effects = [e for e in self.effects if e.kind != "click"]
                    self.effects.append(Effect(float(cur[0]), float(cur[1]), now, "click", 0.45))

    def draw_cursor(self) -> None:
        s, v = self.sim.state, self.view
        if s.cursor[C_PRESENT] <= 0:
            return
        kill = self.sim.settings.cursor.kill_radius * v.scale
        c = v.to_screen(s.cursor[CX], s.cursor[CY])
        col = (255, 90, 90) if s.cursor[C_ARMED] > 0 else (230, 230, 240)
        pygame.draw.circle(self.screen, col, c, kill, 2)
        pygame.draw.circle(self.screen, col, c, 2)

    # ---- input -------------------------------------------------------------------------------------------------
    def bar_rect(self) -> pygame.Rect:
        w, h = self.screen.get_size()
        return pygame.Rect(80, h - self.BAR_H + 8, w - 160, self.BAR_H - 16)

    def _seek_to_x(self, x: float) -> None:
        r = self.bar_rect()
        f = (x - r.left) / max(1, r.width)
        self.seek(round(max(0.0, min(1.0, f)) * (len(self.replay) - 1)))

    def handle(self, ev: pygame.event.Event) -> None:
        if ev.type == pygame.MOUSEBUTTONDOWN and ev.button == 1:
            if self.bar_rect().inflate(0, 12).collidepoint(ev.pos):
                self.dragging = True
                self._seek_to_x(ev.pos[0])
            return  # a left click in a replay never kills anyone
        if ev.type == pygame.MOUSEMOTION and self.dragging:
            self._seek_to_x(ev.pos[0])
        if ev.type == pygame.MOUSEBUTTONUP and ev.button == 1:
            self.dragging = False
        super().handle(ev)
        self.mouse.clicks.clear()

    def key(self, key: int, char: str = "") -> None:
        if key in (pygame.K_COMMA, pygame.K_LEFT):
            self.paused = True
            self.seek(self.sim.index - 1)
        elif key == pygame.K_RIGHT:
            self.paused = True
            self.single_steps += 1
        elif key == pygame.K_n:
            nxt = self.replay.next_death(self.sim.index + int(round(0.5 / self.replay.dt)))
            if nxt is None:
                self.toast("no more deaths in this replay")
            else:
                self.seek(nxt - int(round(0.5 / self.replay.dt)))  # land half a second before it happens
                self.toast(f"next death at {self._clock(nxt * self.replay.dt)}")
        elif key == pygame.K_HOME:
            self.seek(0)
        elif key in (pygame.K_c, pygame.K_s, pygame.K_l, pygame.K_r):
            self.toast("a replay cannot be changed: this key works in neuroevo live")
        else:
            super().key(key, char)

    # ---- drawing -----------------------------------------------------------------------------------------------
    def hud_lines(self) -> list[str]:
        lines = super().hud_lines()
        i, n, dt = self.sim.index, len(self.replay), self.replay.dt
        lines[1] = (f"frame {i + 1}/{n}   {self._clock(i * dt)} / {self._clock((n - 1) * dt)}   "
                    f"speed {self.speed_label()}{'  PAUSED' if self.paused else ''}")
        lines[-1] = "Space play   , . step   +/- speed   N next death   drag the bar to seek   H help"
        del lines[-2]  # FPS / steps per second say nothing about a replay
        return lines

    @staticmethod
    def _clock(seconds: float) -> str:
        return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"

    def draw(self) -> None:
        super().draw()
        self.draw_bar()

    def draw_bar(self) -> None:
        r = self.bar_rect()
        n = len(self.replay)
        w, h = self.screen.get_size()
        panel = self._panel(w, self.BAR_H)
        self.screen.blit(panel, (0, h - self.BAR_H))
        pygame.draw.rect(self.screen, (60, 64, 78), r, border_radius=4)
        d = self.replay.deaths["frame"]
        if d.size:  # where deaths happened, as ticks on the bar
            xs = r.left + (np.unique((d * 300) // max(1, n)) / 300.0) * r.width
            for x in xs.tolist():
                pygame.draw.line(self.screen, (150, 90, 90), (x, r.top + 2), (x, r.bottom - 3))
        x = r.left + r.width * self.sim.index / max(1, n - 1)
        pygame.draw.rect(self.screen, (120, 170, 255), pygame.Rect(r.left, r.top, x - r.left, r.height),
                         border_radius=4)
        pygame.draw.circle(self.screen, (235, 240, 250), (x, r.centery), r.height / 2 + 3)
        dt = self.replay.dt
        t0 = self.font_small.render(self._clock(self.sim.index * dt), True, TEXT)
        t1 = self.font_small.render(self._clock((n - 1) * dt), True, TEXT_DIM)
        self.screen.blit(t0, t0.get_rect(midright=(r.left - 8, r.centery)))
        self.screen.blit(t1, t1.get_rect(midleft=(r.right + 8, r.centery)))

    def draw_help(self) -> None:
        rows = [
            ("Space", "play / pause"),
            (", . or arrows", "one frame back / forward"),
            ("+ / -", "speed"),
            ("seek bar", "click or drag to jump; red ticks mark deaths"),
            ("N", "jump to just before the next death"),
            ("Home", "back to the start"),
            ("right click / I", "inspect an agent's brain (weights)"),
            ("P", "screenshot"),
            ("Esc", "quit"),
        ]
        self._help_panel("replay controls", rows)


def export_video(replay: Any, out: str | Path, *, start_s: float = 0.0, end_s: float | None = None,
                 fps: int = 30, scale: float = 0.5, hud: bool = True, progress: bool = True) -> int:
    """Render replay frames [start_s, end_s) (seconds from the replay's start) to a GIF or MP4; returns frames.

    GIF goes through Pillow; MP4 through imageio-ffmpeg (which ships an ffmpeg binary): ImportError if absent.
    """
    from tqdm import tqdm

    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".gif", ".mp4"):
        raise ValueError(f"{out}: export writes .gif or .mp4")
    writer = None
    if kind == ".mp4":
        import imageio_ffmpeg  # noqa: F401 - fail before rendering anything

    n = len(replay)
    dt = replay.dt
    i0 = max(0, int(round(start_s / dt)))
    i1 = n if end_s is None else min(n, int(round(end_s / dt)))
    if i1 <= i0:
        raise ValueError(f"nothing to export between {start_s} s and {end_s} s (the replay lasts {n * dt:.1f} s)")
    frames = np.rint(np.arange(i0, i1, 1.0 / (fps * dt))).astype(np.int64)  # repeats when fps > 1/dt
    frames = frames[frames < n]
    if kind == ".gif" and frames.size > MAX_GIF_FRAMES:
        raise ValueError(f"{out}: {frames.size} frames is too long for a GIF (at most {MAX_GIF_FRAMES}, held in "
                         f"memory); shorten it with --from/--to, lower --fps, or export an .mp4")
    tmp = out.with_name(out.name + ".part" + out.suffix)  # written whole, then renamed: no half files
    w = replay.settings.world
    size = (max(2, int(round(w.width * scale / 2)) * 2), max(2, int(round(w.height * scale / 2)) * 2))
    # draw at the world's own size (HUD and chart keep their proportions), then scale to the video's size
    v = PlaybackViewer(replay, size=(int(w.width), int(w.height)), fps=fps)
    v.open()
    images = []
    try:
        if kind == ".mp4":
            import imageio_ffmpeg

            writer = imageio_ffmpeg.write_frames(str(tmp), size, fps=fps, macro_block_size=2, quality=7)
            writer.send(None)
        prev = int(frames[0]) - 1
        v.seek(int(frames[0]))
        for k, i in enumerate(tqdm(frames.tolist(), desc=f"export {out.name}", unit="frame", disable=not progress)):
            v.video_time = k / fps
            v.sim.seek(i)
            v.history.upto(i)
            if i > prev:
                v._events_between(prev, i)
            prev = i
            v.draw() if hud else v.draw_world_only()
            shot = v.screen if v.screen.get_size() == size else pygame.transform.smoothscale(v.screen, size)
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
        pygame.display.quit()
    return len(frames)
