"""Simulation: owns settings, state, genomes and the one seeded Generator; drives the compiled step in chunks.

`make(scenario, seed, **settings)` is the front door: a ready Simulation with the scenario's settings and hooks.
`run(n)` executes n steps (step.py) inside as few numba calls as possible, so Python overhead is paid per chunk,
not per step. A scenario's hooks run between chunks, every hook_every steps (see scenario.py); without hooks,
chunks are split only where an observer is due.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from . import guard
from .births import spawn_all
from .brain import Layout, init_genomes
from .checkpoint import icons_array
from .config import Params, Settings, SettingsError, input_offsets, make_params, override
from .cursor import EXT_COLUMNS, forget_target, reset_cursor
from .obstacles import layout_icons
from .record import no_rec
from .scenario import Scenario, ScenarioError, check_class, hook_failure, hook_result, settings_error, source_of, where
from .sensors import OUTPUT_NAMES, input_names
from .species import Species
from .state import CAUSES, K_BIRTHS, K_DEATHS, K_STEP, N_COUNTERS, RULE, WorldState
from .stepping import Stepping
from .threads import PathChooser  # noqa: F401 - sim.PathChooser, as before

N_OUTPUTS = len(OUTPUT_NAMES)  # turn, thrust


@runtime_checkable
class Observer(Protocol):
    """A read-only watcher: `observe(sim)` runs after every `every` steps (chunks are split there).

    With `wants_events` True, `sim.last_events` holds the deaths the compiled step reported since the previous
    call: rows of (step, slot, cause, lifetime in steps), int64."""

    every: int
    wants_events: bool

    def observe(self, sim: Simulation) -> None: ...


class Simulation(Stepping):
    """The world, its population and its random stream. Same seed and settings => bit-identical runs.

    Readable by observers and viewers (only the step writes them):
      state        WorldState; state.team (N,) int8 is each slot's team (colour), fixed for the slot
      genomes      (N, n_params) float32, one row per slot
      inputs       (N, n_in) float32 view: the last step's net inputs (input_names() labels the columns)
      outputs      (N, 2) float32 view: the last step's outputs (turn, thrust)
      icons        (M, 4) float32 icon rectangles x0, y0, x1, y1 in world px (a scenario's on_step may move them)
      layout       brain.Layout; input_offsets {sensor block: (first input, count)}
      settings, params, hooks (the Scenario instance whose hooks run, or None)
    Counters: step_count, sim_seconds, births, deaths_by_cause().
    reload_scenario(cls) swaps settings and hooks in place (the viewer's hot reload) when the genome layout allows.
    """

    def __init__(self, settings: Settings, seed: int = 0, scenario: str = "custom", hooks: Scenario | None = None
                 ) -> None:
        self.settings = settings
        self.scenario = scenario
        self.seed = int(seed)
        self.hooks = hooks
        n_extra = hooks.n_extra_inputs if hooks is not None else 0
        self.params: Params = make_params(settings, n_extra)
        self.input_offsets = input_offsets(settings.brain, n_extra)
        self.layout = Layout((self.params.n_in, *settings.brain.hidden, N_OUTPUTS), gated=self.params.n_gates > 0)
        self.rng = np.random.default_rng(self.seed)
        n = settings.world.agents
        self.genomes = init_genomes(self.layout, n, settings.brain.init_sigma, self.rng, settings.brain.hidden_start,
                                    settings.brain.init_weights, settings.brain.init_bias)  # (N, n_params) float32
        self.icons = layout_icons(settings, self.rng)  # (M, 4) float32 x0, y0, x1, y1
        self.state = WorldState.empty(n, self.layout.n_units)
        self.state.team[:] = np.arange(n) % settings.hazards.teams
        self.hof = np.zeros((settings.evolution.hof_size, self.layout.n_params), np.float32)  # (K, n_params)
        self.hof_fit = np.zeros(settings.evolution.hof_size, np.float64)  # (K,) lifetimes in steps
        self.species = Species.empty(n, self.params.species_cap, self.layout.n_params)  # founded at the first step
        self.species_ready = False
        self.observers: list[Observer] = []
        self._init_stepping()
        self._sizes, self._offsets = self.layout.arrays()
        self._no_ext = np.zeros((0, EXT_COLUMNS), np.float64)
        self._no_events = np.zeros((0, 4), np.int64)
        # The deaths the compiled step reported (rows of step, slot, cause, lifetime in steps), kept while an
        # observer wants them: last_events for the latest compiled chunk (what an observer sees), run_events for
        # the whole last run() call (what a front end sees after a frame).
        self.last_events = self.run_events = self._no_events
        self._events_buf = self._rec_events_buf = self._no_events
        self._no_rec = no_rec(self.layout.n_params, N_COUNTERS)  # record.Rec with 0 rows: nothing recorded
        self._forced = np.zeros(n, np.int8)  # (N,) causes from extra_deaths, applied at the next step
        self._steer = np.zeros(0, np.bool_)  # (N,) slots steered from outside (0 entries: none; see steer())
        self._actions = np.zeros((0, N_OUTPUTS), np.float32)  # (N, 2) their turn and thrust
        self._hooked_at = -1  # step at which the hooks last ran
        self.loaded_extra: dict[str, Any] = {}  # the `extra` of the checkpoint this world was loaded from
        reset_cursor(self.state.cursor, self.params)
        spawn_all(self.state, self.icons, self.params, self.rng)

    # ---- reading the world ------------------------------------------------------------------------------------
    def input_names(self) -> list[str]:
        """A label per net input (sensor blocks in order, then extra inputs)."""
        return input_names(self.input_offsets)

    def output_names(self) -> list[str]:
        return list(OUTPUT_NAMES)

    @property
    def inputs(self) -> np.ndarray:
        """(N, n_in) float32 view of the last step's inputs (dead slots hold their last values)."""
        return self.state.acts[:, : self.layout.n_in]

    @property
    def outputs(self) -> np.ndarray:
        """(N, 2) float32 view of the last step's outputs: turn, thrust in [-1, 1]."""
        return self.state.acts[:, -N_OUTPUTS:]

    @property
    def step_count(self) -> int:
        return int(self.state.counters[K_STEP])

    @property
    def sim_seconds(self) -> float:
        return self.step_count * self.settings.world.dt

    @property
    def births(self) -> int:
        """Births since the run began (founders not counted)."""
        return int(self.state.counters[K_BIRTHS])

    def deaths_by_cause(self) -> dict[str, int]:
        """{cause: deaths since the run began} for every cause ("edge", "cursor", "icon", "crowd", "team", "rule")."""
        c = self.state.counters
        return {name: int(c[K_DEATHS + i]) for i, name in enumerate(CAUSES) if i > 0}

    # ---- stepping -------------------------------------------------------------------------------------------
    def compile(self) -> Simulation:
        """Compile the step (or load it from numba's cache) without stepping; returns self."""
        self._advance(0, None, None)
        return self

    def steer(self, actions: np.ndarray | None, mask: np.ndarray | None = None) -> None:
        """Steer agents from outside (an RL policy, a person): from the next step on, the slots in mask ((N,) bool;
        None: all) fly by actions ((N, 2) turn, thrust, clipped to [-1, 1]) instead of their nets' outputs, until
        steer(None). Their nets still run, so sim.outputs shows the outside's action and the state stays whole."""
        n = self.state.n
        if actions is None:
            self._steer = np.zeros(0, np.bool_)
            self._actions = np.zeros((0, N_OUTPUTS), np.float32)
            return
        a = np.asarray(actions, np.float32)
        if a.shape != (n, N_OUTPUTS) or not np.all(np.isfinite(a)):
            raise ValueError(f"actions must be finite, of shape ({n}, {N_OUTPUTS}), got {a.shape}")
        m = np.ones(n, np.bool_) if mask is None else np.asarray(mask, np.bool_)
        if m.shape != (n,):
            raise ValueError(f"mask must have shape ({n},), got {m.shape}")
        self._steer = np.ascontiguousarray(m)
        self._actions = np.ascontiguousarray(a)

    def set_cursor_source(self, source: str) -> None:
        """Switch the cursor source ("none", "hunter", "random", "external") mid-run, e.g. a viewer's mouse or bot;
        the new source starts where the cursor is, with nothing of what the old one measured of its target.
        Settings keep the scenario's source (a save records that one)."""
        from .config import CHOICES

        if source not in CHOICES["cursor.source"]:
            raise SettingsError(f"unknown cursor source {source!r} (choose from {', '.join(CHOICES['cursor.source'])})")
        code = CHOICES["cursor.source"].index(source)
        if code != self.params.cursor_source:
            forget_target(self.state.cursor)
        self.params = self.params._replace(cursor_source=code)

    def _use_hook_fit(self) -> bool:
        return self.hooks is not None and "fitness" in type(self.hooks).hooks_defined()

    def _hook_period(self) -> int:
        if self.hooks is None or not type(self.hooks).hooks_defined():
            return 0
        return int(type(self.hooks).hook_every)

    def _run_hooks(self) -> None:
        """Call the scenario's hooks (see scenario.py for their order and meaning); bad results -> ScenarioError."""
        h = self.hooks
        assert h is not None
        defined = type(h).hooks_defined()
        n = self.state.n
        if "on_step" in defined:
            self._call(h, "on_step", self.step_count)
            try:
                self.icons = icons_array(self.icons)
            except ValueError as e:
                raise ScenarioError(f"{where(type(h), 'on_step')}: sim.icons: {e}") from None
        if "extra_deaths" in defined:
            mask = hook_result(h, "extra_deaths", self._call(h, "extra_deaths"), (n,), "bool")
            self._forced[mask & self.state.alive] = RULE
        if "extra_inputs" in defined:
            x = hook_result(h, "extra_inputs", self._call(h, "extra_inputs"), (n, self.params.n_extra), "float")
            o = self.params.off_extra
            self.state.acts[:, o : o + self.params.n_extra] = x
        if "fitness" in defined:
            self.state.hook_fit[:] = hook_result(h, "fitness", self._call(h, "fitness"), (n,), "float")
        self._hooked_at = self.step_count

    def _call(self, h: Scenario, name: str, *args: Any) -> Any:
        try:
            with guard.time_limit():  # a hook stuck in a loop stops the run instead of hanging it
                return getattr(h, name)(self, *args)
        except ScenarioError:
            raise
        except guard.TimeLimit:
            raise ScenarioError(f"{where(type(h), name)}: {name}() ran longer than {guard.hook_seconds():g} s "
                                "(the time limit for one hook call; --hook-seconds changes it)") from None
        except (Exception, SystemExit) as e:  # noqa: BLE001 - a failing hook is the scenario's error, with its line
            raise hook_failure(h, name, e) from None

    def _wants_events(self) -> bool:
        return any(getattr(obs, "wants_events", False) for obs in self.observers)

    def run(self, n_steps: int, cursor_rows: np.ndarray | None = None) -> None:
        """Advance n_steps, in compiled chunks split only where an observer or the scenario's hooks are due.

        cursor_rows (n_steps, 5) float64 drive an "external" cursor source, one row per step: x, y (world px),
        present (1: the agents see a cursor), armed (1: a click is coming), click (1: kill within kill_radius).
        Without rows, an external cursor stays where it is and does not click.
        Ctrl-C during run() takes effect between two compiled chunks, once their observers have run (guard.py).
        """
        with guard.deferred():
            self._run(n_steps, cursor_rows)

    def _run(self, n_steps: int, cursor_rows: np.ndarray | None) -> None:
        ext = cursor_rows
        if ext is not None:
            ext = np.asarray(ext, np.float64)
            if ext.shape != (n_steps, EXT_COLUMNS):
                raise ValueError(f"cursor_rows must have shape ({n_steps}, {EXT_COLUMNS}), got {ext.shape}")
        if n_steps == 0:
            self.compile()
            return
        done = 0
        events: list[np.ndarray] = []
        self.last_events = self.run_events = self._no_events
        collect = self._wants_events()
        rec = next((o for o in self.observers if getattr(o, "records_in_step", False) and o.every == 1), None)
        while done < n_steps:
            period = self._hook_period()
            if period and self.step_count % period == 0 and self._hooked_at != self.step_count:
                self._run_hooks()
            todo = n_steps - done
            if period:
                todo = min(todo, period - self.step_count % period)
            for obs in self.observers:
                if obs is not rec:  # the recorder takes its frames from inside the compiled step
                    todo = min(todo, obs.every - self.step_count % obs.every)
            buf = self._event_buffer(todo) if collect else None
            k = self._advance(todo, None if ext is None else ext[done : done + todo], buf, rec)
            if buf is not None:
                self.last_events = buf[:k].copy()
                events.append(self.last_events)
            done += todo
            for obs in self.observers:
                if obs is not rec and self.step_count % obs.every == 0:
                    obs.observe(self)
            if guard.pending():  # Ctrl-C: stop here, where the world is whole (raised when run() returns)
                break
        if events:
            self.run_events = np.concatenate(events)

    def _event_buffer(self, n_steps: int) -> np.ndarray:
        """Rows for the deaths of n_steps steps (every death of a 1-step chunk; at most 65,536 rows otherwise)."""
        rows = min(n_steps * self.state.n, max(self.state.n, 65_536))
        if self._events_buf.shape[0] < rows:
            self._events_buf = np.zeros((rows, 4), np.int64)
        return self._events_buf[:rows]

    def step(self, cursor: np.ndarray | None = None) -> None:
        """One step (a viewer's unit); cursor (5,) = x, y, present, armed, click drives an external cursor."""
        self.run(1, None if cursor is None else np.asarray(cursor, np.float64).reshape(1, EXT_COLUMNS))

    def add_observer(self, obs: Observer) -> None:
        """Call obs.observe(self) every obs.every steps (see Observer)."""
        every = getattr(obs, "every", None)
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"an observer's `every` must be a whole number of steps >= 1, got {every!r}")
        if not callable(getattr(obs, "observe", None)):
            raise ValueError("an observer needs an observe(sim) method")
        self.observers.append(obs)

    def remove_observer(self, obs: Observer) -> None:
        self.observers.remove(obs)

    # ---- changing rules mid-run (schedules, hot reload) -----------------------------------------------------
    def same_layout(self, settings: Settings, n_extra: int = 0) -> bool:
        """True if `settings` (with n_extra scenario inputs) keep this population's genome layout and slot count,
        so the genomes and the world can carry on under them."""
        return (settings.world.agents == self.settings.world.agents
                and settings.brain.hidden == self.settings.brain.hidden
                and (make_params(settings, n_extra).n_gates > 0) == self.layout.gated
                and input_offsets(settings.brain, n_extra) == self.input_offsets)

    def apply_settings(self, overrides: dict[str, Any]) -> None:
        """Change settings mid-run ({"key": value} as --set takes them), keeping the population; for schedules in
        a scenario's on_step. Raises SettingsError for a bad value or a change of the genome layout."""
        new = override(self.settings, overrides)
        n_extra = self.params.n_extra
        if not self.same_layout(new, n_extra):
            raise SettingsError("this change needs a new genome layout (sensors, frame with the self sensor, hidden, "
                                "agents): start a new run")
        self._swap(new, self.hooks)

    def reload_scenario(self, cls: type[Scenario], overrides: dict[str, Any] | None = None) -> None:
        """Hot reload: take settings and hooks from a (re)loaded scenario class, keeping genomes and the world when
        the genome layout is unchanged. Raises ScenarioError (naming the file) when it changed or is invalid.

        Run check_scenario(cls) first to call its hooks once on a small world before they touch this one."""
        check_class(cls)
        try:
            new = cls.settings(overrides)
        except SettingsError as e:
            raise settings_error(cls, e) from None
        if not self.same_layout(new, cls.n_extra_inputs):
            old, want = self.layout.sizes, (sum(n for _, n in input_offsets(new.brain, cls.n_extra_inputs).values()),
                                           *new.brain.hidden, N_OUTPUTS)
            raise ScenarioError(
                f"{source_of(cls)}: the genome layout changed ({'-'.join(map(str, old))} with "
                f"{', '.join(self.input_offsets)} -> {'-'.join(map(str, want))} with "
                f"{', '.join(input_offsets(new.brain, cls.n_extra_inputs))}, or agents "
                f"{self.settings.world.agents} -> {new.world.agents}); restart to use it")
        self._swap(new, cls())
        self.scenario = cls.name or self.scenario

    def _swap(self, new: Settings, hooks: Scenario | None) -> None:
        old = self.settings
        self.settings = new
        self.hooks = hooks
        self.params = make_params(new, self.params.n_extra)
        if (new.hazards.icons, new.hazards.icon_size, new.world.width, new.world.height) != (
                old.hazards.icons, old.hazards.icon_size, old.world.width, old.world.height):
            self.icons = layout_icons(new, self.rng)
        if new.hazards.teams != old.hazards.teams:
            self.state.team[:] = np.arange(self.state.n) % new.hazards.teams
        if new.evolution.hof_size != old.evolution.hof_size:
            keep = np.argsort(-self.hof_fit, kind="stable")[: new.evolution.hof_size]
            hof = np.zeros((new.evolution.hof_size, self.layout.n_params), np.float32)
            hof_fit = np.zeros(new.evolution.hof_size, np.float64)
            hof[: keep.size], hof_fit[: keep.size] = self.hof[keep], self.hof_fit[keep]
            self.hof, self.hof_fit = hof, hof_fit
        if new.cursor.source != old.cursor.source:
            reset_cursor(self.state.cursor, self.params)
        if self.params.species_cap != self.species.size.shape[0]:
            self.species = Species.empty(self.state.n, self.params.species_cap, self.layout.n_params)
            self.species_ready = False
        self.state.hook_fit[:] = 0.0
        self._hooked_at = -1

    # ---- checkpoints (checkpoint.py) ------------------------------------------------------------------------
    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write population, state, hall of fame, settings and RNG state as plain arrays (temp file + rename).
        Observers with a checkpoint_state(sim) method add their state to `extra` (loaded_extra after load)."""
        from .checkpoint import save

        kept: dict[str, Any] = {}
        for obs in self.observers:
            state = getattr(obs, "checkpoint_state", None)
            if callable(state):
                kept.update(state(self))
        save(self, path, {**kept, **(extra or {})})

    @classmethod
    def load(cls, path: str | Path, overrides: dict[str, Any] | None = None, hooks: Scenario | None = None
             ) -> tuple[Simulation, dict[str, Any]]:
        """Rebuild a Simulation from save(), with the scenario's hooks; returns it and the `extra` dict.
        Raises checkpoint.CheckpointError."""
        from .checkpoint import load

        sim, extra = load(cls, path, overrides, hooks)
        sim.loaded_extra = extra
        return sim, extra


def make(scenario: str | Path | type[Scenario] = "edges", seed: int = 0, *, settings: Settings | None = None,
         overrides: dict[str, Any] | None = None, founders: list[Any] | None = None, founders_fill: bool = False,
         **kw: Any) -> Simulation:
    """A ready Simulation of a scenario (a name from scenarios/, a path to a .py file, or a Scenario class) with its
    settings and hooks: every front end (CLI, live, sweeps, replays, benchmarks, tests) builds its world here.

    Settings are given as `--set` takes them: make("cursor", seed=1, sigma=0.1, agents=100), or
    make("edges", overrides={"evolution.sigma": 0.1}) for dotted keys. settings= starts from resolved settings (a
    replay's) instead of the scenario's. Raises ScenarioError (a bad scenario file) or SettingsError (a bad key or
    value).

    founders: brains (brainfile.Brain) whose mutated copies fill the first slots (every slot with founders_fill),
    mutated with the run's own Generator; a brain that does not fit the world raises brainfile.BrainError."""
    from .scenario import load_scenario

    cls = scenario if isinstance(scenario, type) else load_scenario(str(scenario))
    values = {**(overrides or {}), **kw}
    if settings is not None:
        s = override(settings, values)
    else:
        try:
            cls.settings()
        except SettingsError as e:
            raise settings_error(cls, e) from None
        s = cls.settings(values)
    sim = Simulation(s, seed=seed, scenario=cls.name or cls.__name__, hooks=cls())
    if founders:
        from .brainfile import seed_founders

        seed_founders(sim, founders, fill=founders_fill)
    return sim
