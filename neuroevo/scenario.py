"""Scenarios: a Scenario base class whose class attributes override settings, and load_scenario(name or path).

A scenario file holds one Scenario subclass, for example::

    from neuroevo.scenario import Scenario

    class Cursor(Scenario):
        '''Edges kill, and a hunter cursor clicks at the agents.'''
        cursor = {"source": "hunter"}

Names resolve to files in the project's scenarios/ folder (or ./scenarios/); any path to a .py file works too.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, ClassVar

from .config import SECTIONS, Settings, SettingsError, override


class ScenarioError(ValueError):
    """A scenario that cannot be found or loaded; the message names the file."""


class Scenario:
    """Base class: subclasses set section dicts (world, brain, evolution, cursor) that override defaults."""

    name: ClassVar[str] = ""
    world: ClassVar[dict[str, Any]] = {}
    brain: ClassVar[dict[str, Any]] = {}
    evolution: ClassVar[dict[str, Any]] = {}
    cursor: ClassVar[dict[str, Any]] = {}

    @classmethod
    def settings(cls, overrides: dict[str, Any] | None = None) -> Settings:
        """Defaults, then the scenario's sections, then command-line overrides."""
        values: dict[str, Any] = {}
        for section in SECTIONS:
            for k, v in getattr(cls, section).items():
                values[f"{section}.{k}"] = v
        s = override(Settings(), values)
        return override(s, overrides or {})


def scenario_dirs() -> list[Path]:
    """Where scenario names are looked up, in order."""
    here = Path(__file__).resolve().parent
    dirs = [Path.cwd() / "scenarios", here.parent / "scenarios", here / "scenarios"]
    out: list[Path] = []
    for d in dirs:
        if d.is_dir() and d not in out:
            out.append(d)
    return out


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
    """Import a scenario file and return its one Scenario subclass."""
    path = find_scenario(name_or_path)
    mod_name = f"neuroevo_scenario_{path.stem}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise ScenarioError(f"{path}:{e.lineno}: syntax error: {e.msg}") from None
    except Exception as e:  # noqa: BLE001 - any failure in user code becomes one clear line
        raise ScenarioError(f"{path}: {type(e).__name__}: {e}") from None
    finally:
        sys.modules.pop(mod_name, None)
    found = [
        v for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, Scenario) and v is not Scenario and v.__module__ == mod_name
    ]
    if len(found) != 1:
        raise ScenarioError(f"{path}: expected one Scenario subclass, found {len(found)}")
    cls = found[0]
    if not cls.name:
        cls.name = path.stem
    try:
        cls.settings()
    except SettingsError as e:
        raise ScenarioError(f"{path}: {e}") from None
    return cls
