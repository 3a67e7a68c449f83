"""Scenarios: the Scenario base class (settings as class attributes, optional vectorized hooks), load_scenario(name or
path) and check_scenario(), which validates one the way Gymnasium's check_env validates an environment.

A scenario file holds one Scenario subclass, for example::

    from neuroevo.scenario import Scenario

    class Crowd(Scenario):
        '''Agents die when they touch each other.'''
        sensors = ("edges", "self", "neighbours")
        hazards = {"contact": "all"}

Settings: `world`, `brain`, `evolution`, `cursor`, `hazards` are dicts that override the defaults (README lists
every key); `sensors` is a shortcut for brain.sensors. Hooks are plain methods, all optional, called between compiled
chunks every `hook_every` steps, in this order, before the next chunk runs:
    on_step(sim, step)     events and rule changes (move sim.icons, call sim.apply_settings({...}), ...)
    extra_deaths(sim)      (N,) bool: these living agents die at the next step (death cause "rule")
    extra_inputs(sim)      (N, n_extra_inputs) float: the last inputs of every net, held until the next call
    fitness(sim)           (N,) float >= 0: selection fitness in place of lifetime, held until the next call
                           (a newborn counts 0 until then)
Hooks should derive what they do from the simulation (its step count, state, sim.rng), not from attributes of the
scenario object, so that a run resumed from a checkpoint is identical to one that never stopped.

Names resolve to files in the project's scenarios/ folder (or ./scenarios/); any path to a .py file works too.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .config import SECTIONS, Settings, SettingsError, override

if TYPE_CHECKING:
    from .sim import Simulation

HOOKS = {"on_step": 2, "extra_deaths": 1, "extra_inputs": 1, "fitness": 1}  # name: number of arguments
MAX_EXTRA_INPUTS = 64
MAX_HOOK_EVERY = 36_000  # ten simulated minutes at the default step; check_scenario runs two periods
# Every name the base class gives a meaning to: a class attribute one letter away from one of these is a typo
# (`hazard = {...}`, `def extra_death`), which would otherwise be silently ignored.
KNOWN = (*SECTIONS, "sensors", "hook_every", "n_extra_inputs", "name", "source_path", "settings", "hooks_defined",
         *HOOKS)


class ScenarioError(ValueError):
    """A scenario that cannot be found, loaded or run; the message names the file (and line where known)."""


class Scenario:
    """Base class: section dicts override default settings; hooks (see the module docstring) are optional."""

    name: ClassVar[str] = ""
    world: ClassVar[dict[str, Any]] = {}
    brain: ClassVar[dict[str, Any]] = {}
    evolution: ClassVar[dict[str, Any]] = {}
    cursor: ClassVar[dict[str, Any]] = {}
    hazards: ClassVar[dict[str, Any]] = {}
    sensors: ClassVar[tuple[str, ...] | None] = None  # shortcut for brain.sensors
    hook_every: ClassVar[int] = 60  # steps between hook calls (60 = once per simulated second)
    n_extra_inputs: ClassVar[int] = 0  # columns that extra_inputs returns
    source_path: ClassVar[str] = ""  # the file the class was loaded from (set by load_scenario)

    @classmethod
    def settings(cls, overrides: dict[str, Any] | None = None) -> Settings:
        """Defaults, then the scenario's sections, then command-line overrides."""
        values: dict[str, Any] = {}
        for section in SECTIONS:
            sec = getattr(cls, section)
            if not isinstance(sec, dict):
                raise SettingsError(f"{section} must be a dict of settings, got {type(sec).__name__}")
            for k, v in sec.items():
                values[f"{section}.{k}"] = v
        if cls.sensors is not None:
            if "sensors" in cls.brain:
                raise SettingsError("set the sensors once: either sensors = (...) or brain = {'sensors': ...}")
            if isinstance(cls.sensors, str) or not isinstance(cls.sensors, (tuple, list)):
                raise SettingsError(f"sensors must be a tuple of sensor names, got {cls.sensors!r}")
            values["brain.sensors"] = tuple(cls.sensors)
        s = override(Settings(), values)
        return override(s, overrides or {})

    @classmethod
    def hooks_defined(cls) -> list[str]:
        """Names of the hooks this scenario overrides."""
        return [h for h in HOOKS if getattr(cls, h) is not getattr(Scenario, h)]

    # ---- hooks (the base versions are never called: Simulation only calls those a subclass overrides) --------
    def on_step(self, sim: Simulation, step: int) -> None:
        """Events every hook_every steps; may change sim.icons or call sim.apply_settings."""

    def extra_deaths(self, sim: Simulation) -> np.ndarray:
        """(N,) bool: living agents to kill at the next step."""
        return np.zeros(sim.state.n, np.bool_)

    def extra_inputs(self, sim: Simulation) -> np.ndarray:
        """(N, n_extra_inputs) float32 extra net inputs."""
        return np.zeros((sim.state.n, self.n_extra_inputs), np.float32)

    def fitness(self, sim: Simulation) -> np.ndarray:
        """(N,) float64 >= 0 selection fitness."""
        return sim.state.age.astype(np.float64)


# ---- locating errors in a scenario file ----------------------------------------------------------------------
def source_of(cls: type) -> str:
    """The file a scenario class came from ("<unknown>" if it has none)."""
    if getattr(cls, "source_path", ""):
        return cls.source_path
    try:
        return inspect.getsourcefile(cls) or "<unknown>"
    except (TypeError, OSError):
        return "<unknown>"


def line_of(cls: type, attr: str | None = None) -> int | None:
    """Line of `class X` in its file, or of the line inside it that sets attr (attr = ... / def attr)."""
    path = source_of(cls)
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    start = next((k for k, ln in enumerate(lines) if re.match(rf"\s*class\s+{cls.__name__}\b", ln)), None)
    if start is None:
        return None
    if attr:
        pat = re.compile(rf"\s*(def\s+{attr}\s*\(|{attr}\s*(:[^=]*)?=)")
        for k in range(start + 1, len(lines)):
            if re.match(r"class\s", lines[k]):
                break
            if pat.match(lines[k]):
                return k + 1
    return start + 1


def where(cls: type, attr: str | None = None) -> str:
    """"path:line" for an attribute of a scenario class (or the class itself)."""
    line = line_of(cls, attr)
    return f"{source_of(cls)}:{line}" if line else source_of(cls)


def _attr_for_settings_error(cls: type, msg: str) -> str | None:
    if "sensor" in msg and cls.sensors is not None:
        return "sensors"
    for section in SECTIONS:
        if re.search(rf"\b{section}\b", msg):
            return section
    return None


def settings_error(cls: type, e: SettingsError) -> ScenarioError:
    return ScenarioError(f"{where(cls, _attr_for_settings_error(cls, str(e)))}: {e}")


def hook_failure(hooks: Scenario, name: str, e: BaseException) -> ScenarioError:
    """A ScenarioError for an exception raised inside a hook: the deepest line of the scenario file in the traceback."""
    path = source_of(type(hooks))
    line = None
    for frame in traceback.extract_tb(e.__traceback__):
        if Path(frame.filename).resolve() == Path(path).resolve():
            line = frame.lineno
    loc = f"{path}:{line}" if line else where(type(hooks), name)
    return ScenarioError(f"{loc}: {name}() raised {type(e).__name__}: {e}")


def hook_result(hooks: Scenario, name: str, value: Any, shape: tuple[int, ...], kind: str) -> np.ndarray:
    """Check a hook's return value: an array of `shape`; kind "bool" or "float" (finite; >= 0 for fitness)."""
    loc = where(type(hooks), name)
    if not isinstance(value, np.ndarray):
        raise ScenarioError(f"{loc}: {name}() must return a numpy array of shape {shape}, got {type(value).__name__}")
    if value.shape != shape:
        raise ScenarioError(f"{loc}: {name}() returned shape {value.shape}, expected {shape}")
    if kind == "bool":
        if value.dtype != np.bool_:
            raise ScenarioError(f"{loc}: {name}() must return a bool mask, got dtype {value.dtype}")
        return value
    if value.dtype.kind not in "biuf":
        raise ScenarioError(f"{loc}: {name}() must return numbers, got dtype {value.dtype}")
    if not np.all(np.isfinite(value)):
        raise ScenarioError(f"{loc}: {name}() returned non-finite values")
    if name == "extra_inputs" and value.size and np.abs(value).max() > np.finfo(np.float32).max:
        raise ScenarioError(f"{loc}: extra_inputs() returned values beyond float32 (the nets' inputs are float32)")
    if name == "fitness" and np.any(value < 0):
        raise ScenarioError(f"{loc}: fitness() returned negative values (fitness must be >= 0)")
    return value


def check_class(cls: type) -> None:
    """Static checks of a scenario class: attribute types, hook signatures, settings (ScenarioError naming the line)."""
    if not (isinstance(cls, type) and issubclass(cls, Scenario)):
        raise ScenarioError(f"{cls!r} is not a Scenario subclass")
    _check_names(cls)
    he = cls.hook_every
    if isinstance(he, bool) or not isinstance(he, int) or not 1 <= he <= MAX_HOOK_EVERY:
        raise ScenarioError(f"{where(cls, 'hook_every')}: hook_every must be a whole number of steps in "
                            f"1..{MAX_HOOK_EVERY}, got {he!r}")
    ne = cls.n_extra_inputs
    if isinstance(ne, bool) or not isinstance(ne, int) or not 0 <= ne <= MAX_EXTRA_INPUTS:
        raise ScenarioError(f"{where(cls, 'n_extra_inputs')}: n_extra_inputs must be a whole number in "
                            f"0..{MAX_EXTRA_INPUTS}, got {ne!r}")
    for name, n_args in HOOKS.items():
        fn = getattr(cls, name)
        if fn is getattr(Scenario, name):
            continue
        if not callable(fn):
            raise ScenarioError(f"{where(cls, name)}: {name} must be a method, got {type(fn).__name__}")
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            continue
        if params and params[0].name in ("self", "cls"):
            params = params[1:]
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(positional) != n_args and not any(p.kind == p.VAR_POSITIONAL for p in params):
            want = "(self, sim, step)" if n_args == 2 else "(self, sim)"
            raise ScenarioError(f"{where(cls, name)}: {name} must take {want}")
    if ne > 0 and "extra_inputs" not in cls.hooks_defined():
        raise ScenarioError(f"{where(cls, 'n_extra_inputs')}: n_extra_inputs = {ne} but no extra_inputs() hook")
    if ne == 0 and "extra_inputs" in cls.hooks_defined():
        raise ScenarioError(f"{where(cls, 'extra_inputs')}: extra_inputs() needs n_extra_inputs (its column count)")
    try:
        cls.settings()
    except SettingsError as e:
        raise settings_error(cls, e) from None


def _check_names(cls: type) -> None:
    """A class attribute or method whose name is close to, but not, a name Scenario knows is a misspelling."""
    import difflib

    for klass in cls.__mro__:
        if klass is Scenario or not issubclass(klass, Scenario):
            continue
        for attr in vars(klass):
            if attr.startswith("_") or attr in KNOWN:
                continue
            close = difflib.get_close_matches(attr, KNOWN, n=1, cutoff=0.8)
            if close:
                raise ScenarioError(f"{where(klass, attr)}: {attr!r} is not a scenario setting or hook; did you "
                                    f"mean {close[0]!r}?")


# ---- finding and loading ---------------------------------------------------------------------------------------
def scenario_dirs() -> list[Path]:
    """Where scenario names are looked up, in order."""
    here = Path(__file__).resolve().parent
    dirs = [Path.cwd() / "scenarios", here.parent / "scenarios", here / "scenarios"]
    out: list[Path] = []
    for d in dirs:
        if d.is_dir() and d not in out:
            out.append(d)
    return out


def shipped_dirs() -> list[Path]:
    """The scenario folders that come with neuroevo itself (not ./scenarios/ of the working folder)."""
    here = Path(__file__).resolve().parent
    return [d for d in (here.parent / "scenarios", here / "scenarios") if d.is_dir()]


def shipped(name: str) -> Path | None:
    """The file of a scenario that ships with neuroevo, by plain name (no path, no traversal); None otherwise.
    Names read from data files (replays, population files) only ever resolve through this."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name or ""):
        return None
    for d in shipped_dirs():
        f = d / f"{name}.py"
        if f.is_file():
            return f
    return None


def available() -> list[str]:
    names: set[str] = set()
    for d in scenario_dirs():
        names.update(p.stem for p in d.glob("*.py") if not p.stem.startswith("_"))
    return sorted(names)


def find_scenario(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".py" or p.exists():
        if not p.is_file():
            raise ScenarioError(f"{name_or_path}: no such scenario file")
        return p
    for d in scenario_dirs():
        f = d / f"{name_or_path}.py"
        if f.is_file():
            return f
    raise ScenarioError(f"unknown scenario {name_or_path!r} (available: {', '.join(available()) or 'none'})")


def load_scenario(name_or_path: str) -> type[Scenario]:
    """Import a scenario file and return its one Scenario subclass (statically checked, see check_class)."""
    path = find_scenario(name_or_path)
    mod_name = f"neuroevo_scenario_{path.stem}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    from . import guard

    try:
        sys.modules[mod_name] = module
        with guard.time_limit():  # a file that loops at import stops with one line instead of hanging
            spec.loader.exec_module(module)
    except SyntaxError as e:
        raise ScenarioError(f"{path}:{e.lineno}: syntax error: {e.msg}") from None
    except guard.TimeLimit:
        raise ScenarioError(f"{path}: importing it took longer than {guard.hook_seconds():g} s (the time limit for "
                            "scenario code; --hook-seconds changes it)") from None
    except (Exception, SystemExit) as e:  # noqa: BLE001 - any failure in user code becomes one clear line
        line = next((f.lineno for f in reversed(traceback.extract_tb(e.__traceback__))
                     if Path(f.filename).resolve() == path.resolve()), None)
        raise ScenarioError(f"{path}{f':{line}' if line else ''}: {type(e).__name__}: {e}") from None
    finally:
        sys.modules.pop(mod_name, None)
    found = [
        v for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, Scenario) and v is not Scenario and v.__module__ == mod_name
    ]
    if len(found) != 1:
        raise ScenarioError(f"{path}: expected one Scenario subclass, found {len(found)}")
    cls = found[0]
    cls.source_path = str(path)
    if not cls.name:
        cls.name = path.stem
    check_class(cls)
    return cls
