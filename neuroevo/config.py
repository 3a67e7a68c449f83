"""Settings: frozen dataclasses for world, brains, evolution, cursor and hazards; `--set key=value` overrides."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple


class SettingsError(ValueError):
    """A user-caused settings problem (unknown key, bad value); the CLI prints it as one line."""


@dataclass(frozen=True)
class World:
    agents: int = 50  # number of agent slots (population size)
    width: float = 1280.0  # world width, px
    height: float = 720.0  # world height, px
    dt: float = 1.0 / 60.0  # fixed simulation step, s
    min_speed: float = 20.0  # slowest an agent can fly, px/s
    max_speed: float = 300.0  # fastest an agent can fly, px/s
    birth_speed: float = 150.0  # speed of a newborn, px/s
    max_turn: float = 4.0  # largest turn rate, rad/s
    max_accel: float = 400.0  # largest change of speed, px/s^2
    spawn_margin: float = 0.2  # newborns appear this fraction of width/height away from the edges
    radius: float = 8.0  # agent body radius, px (an agent dies when its body touches an edge)


@dataclass(frozen=True)
class Brain:
    hidden: tuple[int, ...] = (16,)  # hidden layer widths of the dense tanh net
    encoding: str = "inverse"  # "inverse": inputs are scale/d; "raw": inputs are d/scale (the ablation)
    frame: str = "ego"  # "ego": distances along rays relative to the heading; "world": fixed world axes
    inv_scale: float = 20.0  # px; inverse inputs are min(inv_scale/d, 1)
    raw_scale: float = 720.0  # px; raw inputs are min(d/raw_scale, 1)
    init_sigma: float = 2.0  # scale of the initial random weights and biases (see brain.init_genomes)
    sensors: tuple[str, ...] = ("edges", "cursor", "self")  # input blocks (sensors.SENSORS); they set the layout
    neighbours: int = 1  # "neighbours" sensor: how many nearest agents are seen (3 inputs each)
    sense_radius: float = 80.0  # px; agents farther than this (centre to centre) are not seen


@dataclass(frozen=True)
class Evolution:
    mode: str = "steady"  # "steady": each death is replaced at once; "generational": all at once every G steps
    selection: str = "roulette"  # roulette | sus | rank | tournament | truncation
    tournament_k: int = 3  # tournament size
    truncation: float = 0.2  # truncation selection keeps this top fraction
    mutation_rate: float = 0.1  # probability that a gene is perturbed
    sigma: float = 0.2  # std of the Gaussian added to a perturbed gene
    crossover: float = 0.0  # probability that a child comes from uniform crossover of two parents
    hof_size: int = 0  # hall of fame: how many longest-lived genomes are kept
    hof_prob: float = 0.1  # probability that a parent is drawn from the hall of fame (when it is not empty)
    generation_s: float = 20.0  # generational mode: seconds per generation
    elites: int = 1  # generational mode: best genomes copied unchanged


@dataclass(frozen=True)
class Cursor:
    source: str = "none"  # none | hunter | random | external (human mouse or a recorded trace)
    speed: float = 250.0  # hunter speed, px/s (below the agents' top speed, so it can be escaped)
    aim_radius: float = 40.0  # the hunter commits to a click once this close to its target, px
    reaction_s: float = 0.2  # delay between committing and clicking, s
    cooldown_s: float = 0.5  # pause after a click before the hunter aims again, s
    kill_radius: float = 22.0  # a click kills agents whose centre is within this distance, px
    retarget_s: float = 3.0  # the hunter picks the nearest agent again after this long, s
    random_rate: float = 1.0  # "random" source: clicks per second at uniform positions


@dataclass(frozen=True)
class Hazards:
    icons: int = 0  # number of static "desktop icon" rectangles that kill on contact (seeded layout)
    icon_size: float = 64.0  # side of an icon square, px
    contact: str = "none"  # "none"; "all": touching any agent kills both; "teams": only the other team kills
    contact_radius: float = 16.0  # px; two agents touch when their centres are closer than this
    teams: int = 1  # number of teams (colours); slot i belongs to team i % teams and keeps it for every birth


@dataclass(frozen=True)
class Settings:
    world: World = field(default_factory=World)
    brain: Brain = field(default_factory=Brain)
    evolution: Evolution = field(default_factory=Evolution)
    cursor: Cursor = field(default_factory=Cursor)
    hazards: Hazards = field(default_factory=Hazards)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {s.name: dataclasses.asdict(getattr(self, s.name)) for s in fields(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Build settings from a (possibly partial) nested dict, validating every value."""
        if not isinstance(data, dict):
            raise SettingsError("settings must be a JSON object")
        out = cls()
        flat: dict[str, Any] = {}
        for section, values in data.items():
            if section not in SECTIONS:
                raise SettingsError(f"unknown settings section {section!r}")
            if not isinstance(values, dict):
                raise SettingsError(f"settings section {section!r} must be an object")
            for k, v in values.items():
                flat[f"{section}.{k}"] = v
        return override(out, flat)


SECTIONS = {"world": World, "brain": Brain, "evolution": Evolution, "cursor": Cursor, "hazards": Hazards}

# Sensor blocks and their input counts (the "neighbours" block has 3 inputs per neighbour seen). The input vector
# holds the chosen blocks in this order, whatever order a scenario lists them in (see sensors.py).
SENSORS = {"edges": 5, "cursor": 4, "self": 3, "icons": 3, "neighbours": 3, "team": 6}
MAX_NEIGHBOURS = 8

CHOICES = {
    "brain.encoding": ("inverse", "raw"),
    "brain.frame": ("ego", "world"),
    "evolution.mode": ("steady", "generational"),
    "evolution.selection": ("roulette", "sus", "rank", "tournament", "truncation"),
    "cursor.source": ("none", "hunter", "random", "external"),
    "hazards.contact": ("none", "all", "teams"),
}


def all_keys() -> list[str]:
    """Every settable key as "section.field"."""
    return [f"{s}.{f.name}" for s, cls in SECTIONS.items() for f in fields(cls)]


def resolve_key(key: str) -> str:
    """Accept "section.field" or a bare field name that is unique across sections."""
    keys = all_keys()
    if key in keys:
        return key
    matches = [k for k in keys if k.split(".", 1)[1] == key]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise SettingsError(f"ambiguous settings key {key!r}: use one of {', '.join(matches)}")
    raise SettingsError(f"unknown settings key {key!r} (see README for the list)")


def _convert(key: str, ftype: Any, value: Any) -> Any:
    """Coerce a JSON value or a command-line string to the field's type."""
    tname = ftype if isinstance(ftype, str) else getattr(ftype, "__name__", str(ftype))
    try:
        if tname == "int":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                return int(value)
            return int(value)
        if tname == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if tname == "str":
            if not isinstance(value, str):
                raise ValueError
            return value
        if tname == "tuple[str, ...]":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ValueError
            return tuple(value)
        if tname.startswith("tuple"):
            if isinstance(value, str):
                value = [v for v in value.replace("x", ",").split(",") if v.strip()]
            return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise SettingsError(f"bad value for {key}: {value!r} (expected {tname})") from None
    raise SettingsError(f"cannot set {key}")


def _check(key: str, value: Any) -> None:
    if key in CHOICES and value not in CHOICES[key]:
        raise SettingsError(f"bad value for {key}: {value!r} (choose from {', '.join(CHOICES[key])})")
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingsError(f"bad value for {key}: {value!r} (must be finite)")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        raise SettingsError(f"bad value for {key}: {value!r} (must not be negative)")
    positive = {
        "world.agents", "world.width", "world.height", "world.dt", "world.max_speed", "world.max_turn",
        "brain.inv_scale", "brain.raw_scale", "cursor.kill_radius", "evolution.generation_s",
        "evolution.tournament_k", "evolution.truncation", "brain.neighbours", "brain.sense_radius",
        "hazards.icon_size", "hazards.contact_radius", "hazards.teams",
    }
    if key in positive and value <= 0:
        raise SettingsError(f"bad value for {key}: {value!r} (must be positive)")
    probs = {"evolution.mutation_rate", "evolution.crossover", "evolution.hof_prob", "evolution.truncation"}
    if key in probs and value > 1:
        raise SettingsError(f"bad value for {key}: {value!r} (a probability in [0, 1])")
    if key == "world.spawn_margin" and value >= 0.5:
        raise SettingsError(f"bad value for {key}: {value!r} (must be below 0.5)")
    if key == "brain.hidden" and (len(value) == 0 or min(value) <= 0):
        raise SettingsError(f"bad value for {key}: {value!r} (one or more positive widths, e.g. 16 or 16,8)")
    if key == "brain.sensors":
        for name in value:
            if name not in SENSORS:
                raise SettingsError(f"unknown sensor {name!r} in {key} (choose from {', '.join(SENSORS)})")
        if len(set(value)) != len(value):
            raise SettingsError(f"bad value for {key}: {value!r} (a sensor is listed twice)")
    if key == "brain.neighbours" and value > MAX_NEIGHBOURS:
        raise SettingsError(f"bad value for {key}: {value!r} (at most {MAX_NEIGHBOURS})")
    if key == "hazards.teams" and value > 64:
        raise SettingsError(f"bad value for {key}: {value!r} (at most 64)")


def override(settings: Settings, values: dict[str, Any]) -> Settings:
    """Return settings with `values` ({"key": value}) applied; keys as accepted by resolve_key."""
    sections = {name: dataclasses.asdict(getattr(settings, name)) for name in SECTIONS}
    for raw_key, raw_value in values.items():
        key = resolve_key(raw_key)
        section, name = key.split(".", 1)
        ftype = {f.name: f.type for f in fields(SECTIONS[section])}[name]
        value = _convert(key, ftype, raw_value)
        _check(key, value)
        sections[section][name] = value
    out = Settings(**{name: SECTIONS[name](**vals) for name, vals in sections.items()})
    validate(out)
    return out


def validate(s: Settings) -> None:
    """Cross-field checks that single values cannot catch."""
    w = s.world
    if not (w.min_speed <= w.birth_speed <= w.max_speed):
        raise SettingsError("world.birth_speed must lie between world.min_speed and world.max_speed")
    if s.evolution.elites >= w.agents and s.evolution.mode == "generational":
        raise SettingsError("evolution.elites must be smaller than world.agents")
    h = s.hazards
    if h.contact == "teams" and h.teams < 2:
        raise SettingsError("hazards.contact=teams needs hazards.teams >= 2")
    if h.teams > 1 and s.evolution.mode == "generational":
        raise SettingsError("hazards.teams > 1 needs evolution.mode=steady (births stay within a team)")
    if h.teams > w.agents:
        raise SettingsError("hazards.teams must not exceed world.agents")
    if h.contact != "none" and h.contact_radius > s.brain.sense_radius:
        raise SettingsError("hazards.contact_radius must not exceed brain.sense_radius (one scan finds both)")
    if h.icons > 0 and 2.0 * h.icon_size >= min(w.width, w.height):
        raise SettingsError("hazards.icon_size must be below half the world's width and height")


def parse_set(items: list[str]) -> dict[str, str]:
    """Parse ["key=value", ...] from the command line."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise SettingsError(f"--set expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


class Params(NamedTuple):
    """Settings flattened to numbers for the compiled kernels (strings become small ints)."""

    width: float
    height: float
    dt: float
    radius: float
    min_speed: float
    max_speed: float
    birth_speed: float
    max_turn: float
    max_accel: float
    spawn_margin: float
    encoding: int  # 0 inverse, 1 raw
    frame: int  # 0 ego, 1 world
    inv_scale: float
    raw_scale: float
    cursor_source: int  # index into CHOICES["cursor.source"]
    hunter_speed: float
    aim_radius: float
    reaction_steps: int
    cooldown_steps: int
    kill_radius: float
    retarget_steps: int
    random_click_p: float  # probability of a random click per step
    mode: int  # 0 steady, 1 generational
    selection: int  # index into CHOICES["evolution.selection"]
    tournament_k: int
    truncation: float
    mutation_rate: float
    sigma: float
    crossover: float
    hof_prob: float
    generation_steps: int
    elites: int
    n_in: int  # inputs per agent (all sensor blocks + scenario extra inputs)
    off_edges: int  # first input of each sensor block; -1 when the block is not used
    off_cursor: int
    off_self: int
    off_icons: int
    off_neigh: int
    n_neigh: int  # neighbours seen by the "neighbours" block
    off_team: int
    off_extra: int  # scenario extra inputs (written between chunks by the extra_inputs hook)
    n_extra: int
    sense_radius: float
    contact: int  # index into CHOICES["hazards.contact"]
    contact_radius: float
    n_teams: int
    use_grid: int  # 1 when the neighbour grid is needed (contact or neighbour/team sensors)
    grid_cell: float  # grid cell side, px (>= sense_radius, so 3x3 cells cover a query)
    grid_nx: int
    grid_ny: int
    spawn_clear: float  # newborns appear at least this far (centre to centre) from others, px


def input_offsets(brain: Brain, n_extra: int = 0) -> dict[str, tuple[int, int]]:
    """{block: (first input, count)} for the chosen sensor blocks in canonical order, then "extra"."""
    out: dict[str, tuple[int, int]] = {}
    k = 0
    for name, n in SENSORS.items():
        if name in brain.sensors:
            n = 3 * brain.neighbours if name == "neighbours" else n
            out[name] = (k, n)
            k += n
    if n_extra:
        out["extra"] = (k, n_extra)
    return out


def make_params(s: Settings, n_extra: int = 0) -> Params:
    """Flatten settings for the kernels; n_extra is the scenario's count of extra inputs (hooks)."""
    w, b, e, c, h = s.world, s.brain, s.evolution, s.cursor, s.hazards
    offs = input_offsets(b, n_extra)
    off = lambda name: offs[name][0] if name in offs else -1  # noqa: E731
    n_in = sum(n for _, n in offs.values())
    use_grid = int(h.contact != "none" or "neighbours" in b.sensors or "team" in b.sensors)
    spawn_clear = 2.0 * h.contact_radius if h.contact != "none" else 0.0
    # a cell holds every agent within sense_radius of a point, and (the grid being one step old at births) every
    # agent within spawn_clear of a newborn's spot after its last move
    cell = max(b.sense_radius, spawn_clear + w.max_speed * w.dt, 1.0)
    steps = lambda seconds: max(1, int(round(seconds / w.dt)))  # noqa: E731
    return Params(
        width=w.width, height=w.height, dt=w.dt, radius=w.radius, min_speed=w.min_speed,
        max_speed=w.max_speed, birth_speed=w.birth_speed, max_turn=w.max_turn, max_accel=w.max_accel,
        spawn_margin=w.spawn_margin,
        encoding=CHOICES["brain.encoding"].index(b.encoding), frame=CHOICES["brain.frame"].index(b.frame),
        inv_scale=b.inv_scale, raw_scale=b.raw_scale,
        cursor_source=CHOICES["cursor.source"].index(c.source), hunter_speed=c.speed,
        aim_radius=c.aim_radius, reaction_steps=steps(c.reaction_s), cooldown_steps=steps(c.cooldown_s),
        kill_radius=c.kill_radius, retarget_steps=steps(c.retarget_s),
        random_click_p=min(1.0, c.random_rate * w.dt),
        mode=CHOICES["evolution.mode"].index(e.mode), selection=CHOICES["evolution.selection"].index(e.selection),
        tournament_k=e.tournament_k, truncation=e.truncation, mutation_rate=e.mutation_rate, sigma=e.sigma,
        crossover=e.crossover, hof_prob=e.hof_prob, generation_steps=steps(e.generation_s), elites=e.elites,
        n_in=n_in, off_edges=off("edges"), off_cursor=off("cursor"), off_self=off("self"), off_icons=off("icons"),
        off_neigh=off("neighbours"), n_neigh=b.neighbours, off_team=off("team"), off_extra=off("extra"),
        n_extra=n_extra, sense_radius=b.sense_radius, contact=CHOICES["hazards.contact"].index(h.contact),
        contact_radius=h.contact_radius, n_teams=h.teams, use_grid=use_grid, grid_cell=cell,
        grid_nx=max(1, int(math.ceil(w.width / cell))), grid_ny=max(1, int(math.ceil(w.height / cell))),
        spawn_clear=spawn_clear,
    )
