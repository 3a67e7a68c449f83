"""Checks of a scenario before it runs: check_scenario() validates one the way Gymnasium's check_env validates an
environment (static checks of the class, then a small world stepped so every hook is called and its results checked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .config import SettingsError, override
from .scenario import Scenario, ScenarioError, check_class, load_scenario, settings_error, where
from .sim import Simulation


def check_scenario(scenario: type[Scenario] | str | Path, steps: int | None = None,
                   overrides: dict[str, Any] | None = None) -> type[Scenario]:
    """Load a scenario, check its attributes and hook signatures, then run a small population (at most 64 agents)
    for `steps` steps (default: two hook periods, at least 120) so every hook is called and its results checked.
    Returns the class; raises ScenarioError naming the file and line."""
    cls = load_scenario(str(scenario)) if isinstance(scenario, (str, Path)) else scenario
    check_class(cls)
    try:
        settings = cls.settings(overrides)
        if settings.world.agents > 64:
            settings = override(settings, {"world.agents": max(64, settings.hazards.teams)})
    except SettingsError as e:
        raise settings_error(cls, e) from None
    sim = Simulation(settings, seed=0, scenario=cls.name or cls.__name__, hooks=cls())
    n = steps if steps is not None else max(2 * cls.hook_every, 120)
    sim.run(n)
    s = sim.state
    if not (np.all(np.isfinite(s.pos)) and np.all(np.isfinite(s.acts))):
        raise ScenarioError(f"{where(cls)}: the world holds non-finite values after {n} steps")
    return cls
