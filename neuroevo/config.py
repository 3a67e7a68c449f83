"""Settings: every setting declared once (default, meaning, limits) in frozen dataclasses; `--set key=value`
overrides converted by the declared types; the kernels' Params view derived from the declarations.

A setting is a dataclass field made by `setting(default, doc, ...)` (declare.py, with the conversion and checks of
values): its limits (`ge`, `gt`, `le`, `lt`), its choices (an IntEnum whose lower-case names are the accepted
strings) and how the kernels see it (`kernel=`: the Params field it becomes, `to=`: "steps" for seconds -> whole
steps, "per_step" for a rate per second -> a probability per step). The README's settings table is generated from
them (settings_table.py).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

from .choices import Contact, CursorSource, Encoding, Frame, Mode, Niching, Replace, ReplaceWhile, Selection, names
from .declare import SettingsError, _suggest, declared, override_dataclass, setting

# Sensor blocks and their input counts (the "neighbours" block has 3 inputs per neighbour seen; "self" has 3 in the
# world frame and 1 in the ego frame, see block_size). The input vector holds the chosen blocks in this order,
# whatever order a scenario lists them in (see sensors.py).
SENSORS = {"edges": 5, "cursor": 4, "self": 3, "icons": 3, "neighbours": 3, "team": 6}
MAX_NEIGHBOURS = 8


@dataclass(frozen=True)
class World:
    agents: int = setting(50, "number of agent slots (population size)", ge=1, le=1_000_000)
    width: float = setting(1280.0, "world width, px", ge=100.0, le=100_000.0, kernel="width")
    height: float = setting(720.0, "world height, px", ge=100.0, le=100_000.0, kernel="height")
    dt: float = setting(1.0 / 60.0, "fixed simulation step, s", ge=1e-4, le=1.0, kernel="dt", shown="1/60")
    min_speed: float = setting(20.0, "slowest an agent can fly, px/s", ge=0.0, le=10_000.0, kernel="min_speed")
    max_speed: float = setting(300.0, "fastest an agent can fly, px/s", gt=0.0, le=10_000.0, kernel="max_speed")
    birth_speed: float = setting(150.0, "speed of a newborn, px/s", ge=0.0, le=10_000.0, kernel="birth_speed")
    max_turn: float = setting(4.0, "largest turn rate, rad/s", gt=0.0, le=100.0, kernel="max_turn")
    max_accel: float = setting(400.0, "largest change of speed, px/s^2", ge=0.0, le=1e6, kernel="max_accel")
    spawn_margin: float = setting(0.2, "newborns appear this fraction of width/height away from the edges", ge=0.0,
                                  lt=0.5, kernel="spawn_margin")
    radius: float = setting(8.0, "agent body radius, px (an agent dies when its body touches an edge)", ge=0.0,
                            le=1000.0, kernel="radius")


@dataclass(frozen=True)
class Brain:
    hidden: tuple[int, ...] = setting((16,), "hidden layer widths of the dense tanh net", items=(1, 1024),
                                      length=(1, 8), shown="16")
    hidden_start: int = setting(0, "hidden units the founders have switched on per layer (0: all of brain.hidden; "
                                "fewer: brains start small and evolution.add_unit_rate grows them)", ge=0, le=1024)
    encoding: str = setting("inverse", '"inverse": inputs are scale/d; "raw": inputs are d/scale (the ablation); '
                            '"raw_px": inputs are d in px, unscaled (what the seed program fed)',
                            choices=Encoding, kernel="encoding")
    frame: str = setting("ego", '"ego": distances along rays relative to the heading; "world": fixed world axes, '
                         'where the "self" sensor adds the heading (2 more inputs)',
                         choices=Frame, kernel="frame")
    inv_scale: float = setting(20.0, "px; inverse inputs are min(inv_scale/d, 1)", gt=0.0, le=1e6, kernel="inv_scale")
    raw_scale: float = setting(720.0, "px; raw inputs are min(d/raw_scale, 1)", gt=0.0, le=1e6, kernel="raw_scale")
    init_sigma: float = setting(2.0, "scale of the founders' random weights: N(0, 4 init_sigma^2 / fan_in), times "
                                "init_weights, so with blind founders (init_weights 0, the default) it changes "
                                "nothing (see brain.init_genomes)", ge=0.0, le=100.0)
    init_bias: float = setting(2.0, "scale of the founders' random biases, N(0, init_bias^2): large values give "
                               "founders whose outputs sit at their limits (full or least speed, full turn or none; "
                               "the cursor scenario sets 12)",
                               ge=0.0, le=100.0)
    init_weights: float = setting(0.0, "the founders' weights are scaled by this (biases are not): 0 starts every "
                                  "founder blind to its inputs, a constant flyer, and evolution grows the connections",
                                  ge=0.0, le=100.0)
    sensors: tuple[str, ...] = setting(("edges", "cursor", "self"), "input blocks of the net (see [sensors]"
                                       "(#what-the-agents-sense-and-do)); they set the genome layout",
                                       shown="edges,cursor,self", limits="one or more of: " + ", ".join(SENSORS))
    neighbours: int = setting(1, '"neighbours" sensor: how many nearest agents are seen (3 inputs each)', ge=1,
                              le=MAX_NEIGHBOURS,
                              kernel="n_neigh")
    sense_radius: float = setting(80.0, "px; agents farther than this (centre to centre) are not seen", gt=0.0,
                                  le=10_000.0, kernel="sense_radius")


@dataclass(frozen=True)
class Evolution:
    mode: str = setting("steady", '"steady": each death is replaced at once; "generational": all at once every G '
                        'steps; "none": no births (evolution off)', choices=Mode, kernel="mode")
    selection: str = setting("roulette", "how parents are drawn by fitness", choices=Selection, kernel="selection")
    tournament_k: int = setting(3, "tournament size", ge=1, le=1000, kernel="tournament_k")
    truncation: float = setting(0.2, "truncation selection keeps this top fraction", gt=0.0, le=1.0,
                                kernel="truncation")
    mutation_rate: float = setting(0.1, "probability that a gene is perturbed", ge=0.0, le=1.0, kernel="mutation_rate")
    sigma: float = setting(0.2, "std of the Gaussian added to a perturbed gene", ge=0.0, le=100.0, kernel="sigma")
    crossover: float = setting(0.0, "probability that a child comes from uniform crossover of two parents", ge=0.0,
                               le=1.0, kernel="crossover")
    hof_size: int = setting(0, "hall of fame: how many longest-lived genomes are kept", ge=0, le=10_000)
    hof_prob: float = setting(0.1, "probability that a parent is drawn from the hall of fame (when it is not empty)",
                              ge=0.0, le=1.0, kernel="hof_prob")
    min_parent_age_s: float = setting(0.0, "only agents older than this can be parents, s (rtNEAT's minimum age; "
                                      "0: every living agent)", ge=0.0, le=86_400.0, kernel="min_parent_age",
                                      to="steps")
    replace: str = setting("least_agile", 'periodic replacement (rtNEAT): every replace_s, "least_agile" removes '
                           "the living agent at least replace_age_s old whose agility (mean over its life of abs(turn) "
                           'x speed / max speed) is lowest, if below replace_below; "random" one drawn at random; it '
                           'dies (cause "rule") and is replaced like any death (steady mode); "none": agents leave '
                           "only by dying", choices=Replace, kernel="replace")
    replace_s: float = setting(5.0, "periodic replacement: seconds between two removals", gt=0.0, le=86_400.0,
                               kernel="replace_steps", to="steps")
    replace_age_s: float = setting(20.0, "periodic replacement: only agents at least this old can be removed, s",
                                   ge=0.0, le=86_400.0, kernel="replace_age", to="steps")
    replace_below: float = setting(0.97, 'periodic replacement, "least_agile": only an agent whose agility is below '
                                   "this is removed (full speed on the tightest circle is 1)", gt=0.0, le=1.0,
                                   kernel="replace_below")
    replace_while: str = setting("cursor", 'periodic replacement: "cursor" only while a cursor is present (a '
                                 'threat to judge agility by), "clicks" only after a period in which it clicked, '
                                 '"always" at every period', choices=ReplaceWhile,
                                 kernel="replace_while")
    add_unit_rate: float = setting(0.0, "probability that a child switches on one of its switched-off hidden units "
                                   "(with zero outgoing weights, so it behaves as its parent)", ge=0.0, le=1.0,
                                   kernel="add_unit_rate")
    remove_unit_rate: float = setting(0.0, "probability that a child switches off one of its hidden units (each layer "
                                      "keeps at least one)", ge=0.0, le=1.0, kernel="remove_unit_rate")
    niching: str = setting("none", '"none": parents drawn on fitness over the whole population; "species": on '
                           "fitness shared within species of similar genomes (see [species](#species))",
                           choices=Niching, kernel="niching")
    species_target: int = setting(8, "niching: the compatibility threshold adapts towards this many species", ge=1,
                                  le=10_000, kernel="species_target")
    generation_s: float = setting(20.0, "generational mode: seconds per generation", gt=0.0, le=86_400.0,
                                  kernel="generation_steps", to="steps")
    elites: int = setting(1, "generational mode: best genomes copied unchanged", ge=0, le=1_000_000, kernel="elites")


@dataclass(frozen=True)
class Cursor:
    source: str = setting("none", "who moves the cursor: nobody, the hunter bot, random clicks, external rows (a "
                          "human mouse or a recorded trace), or the model of a person with a mouse",
                          choices=CursorSource, kernel="cursor_source")
    speed: float = setting(250.0, "hunter speed, px/s (below the agents' top speed, so it can be escaped)", ge=0.0,
                           le=100_000.0, kernel="hunter_speed")
    aim_radius: float = setting(40.0, "the hunter commits to a click once this close to its target, px", ge=0.0,
                                le=100_000.0, kernel="aim_radius")
    reaction_s: float = setting(0.2, "delay between committing and clicking, s", ge=0.0, le=3600.0,
                                kernel="reaction_steps", to="steps")
    warns: bool = setting(True, 'the hunter raises the "click coming" input while it aims (a person gives no such '
                          "signal)", kernel="hunter_warns")
    anticipates: bool = setting(False, "the hunter predicts its target's path from its speed and turn rate, waits on "
                                "it and commits when a click will land on the target (so a fixed circle can be "
                                "caught); off: it heads for where the target is now", kernel="hunter_anticipates")
    cooldown_s: float = setting(0.5, "pause after a click before the hunter aims again, s", ge=0.0, le=3600.0,
                                kernel="cooldown_steps", to="steps")
    kill_radius: float = setting(22.0, "a click kills agents whose centre is within this distance, px", gt=0.0,
                                 le=100_000.0, kernel="kill_radius")
    retarget_s: float = setting(3.0, "the hunter picks the nearest agent again after this long, s", ge=0.0,
                                le=86_400.0, kernel="retarget_steps", to="steps")
    mouse_lag_s: float = setting(0.15, '"mouse" model: perception delay; it also glances at this period, s',
                                 ge=0.0, le=10.0, kernel="mouse_lag_steps", to="steps")
    mouse_tau_s: float = setting(0.14, '"mouse" model: time constant of the pointer closing on its aim point '
                                 "(Fitts slope b = tau ln 2), s", gt=0.0, le=10.0, kernel="mouse_tau")
    mouse_speed: float = setting(3000.0, '"mouse" model: fastest pointer movement, px/s', gt=0.0, le=1e6,
                                 kernel="mouse_speed")
    mouse_click_px: float = setting(8.0, '"mouse" model: decides to click when the pointer seems this close to '
                                    "where it thinks the target is, px", ge=0.0, le=1e5, kernel="mouse_click_px")
    mouse_click_delay_s: float = setting(0.1, '"mouse" model: motor delay between deciding and clicking, s', ge=0.0,
                                         le=10.0, kernel="mouse_click_delay_steps", to="steps")
    mouse_click_interval_s: float = setting(0.25, '"mouse" model: shortest time between two clicks, s', ge=0.0,
                                            le=10.0, kernel="mouse_click_interval_steps", to="steps")
    mouse_aim_sd: float = setting(3.0, '"mouse" model: error of each glance at the target\'s position (std), px',
                                  ge=0.0, le=1e4, kernel="mouse_aim_sd")
    random_rate: float = setting(1.0, '"random" source: clicks per second at uniform positions', ge=0.0, le=1e6,
                                 kernel="random_click_p", to="per_step")


@dataclass(frozen=True)
class Hazards:
    icons: int = setting(0, 'number of "desktop icon" squares that kill on contact, placed from the run\'s seed',
                         ge=0, le=1000)
    icon_size: float = setting(64.0, "side of an icon square, px", gt=0.0, le=100_000.0)
    contact: str = setting("none", '"none"; "all": two agents that touch both die; "teams": only agents of '
                           "different teams", choices=Contact, kernel="contact")
    contact_radius: float = setting(16.0, "px; two agents touch when their centres are closer than this", gt=0.0,
                                    le=10_000.0, kernel="contact_radius")
    teams: int = setting(1, "number of teams (colours); slot i is in team i % teams, and births stay in the team",
                         ge=1, le=64, kernel="n_teams")


@dataclass(frozen=True)
class Settings:
    world: World = field(default_factory=World)
    brain: Brain = field(default_factory=Brain)
    evolution: Evolution = field(default_factory=Evolution)
    cursor: Cursor = field(default_factory=Cursor)
    hazards: Hazards = field(default_factory=Hazards)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {s.name: dataclasses.asdict(getattr(self, s.name)) for s in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Build settings from a (possibly partial) nested dict, validating every value."""
        if not isinstance(data, dict):
            raise SettingsError("settings must be a JSON object")
        flat: dict[str, Any] = {}
        for section, values in data.items():
            if section not in SECTIONS:
                raise SettingsError(f"unknown settings section {section!r}")
            if not isinstance(values, dict):
                raise SettingsError(f"settings section {section!r} must be an object")
            for k, v in values.items():
                flat[f"{section}.{k}"] = v
        return override(cls(), flat)

    @classmethod
    def from_saved(cls, data: dict[str, Any]) -> Settings:
        """Settings as a saved file (checkpoint, replay) wrote them: from_dict, where a key of ADDED_LATER that the
        file lacks (it was written before the key existed) takes the value that gives the run as it was."""
        s = cls.from_dict(data)
        missing = {k: (v(s) if callable(v) else v) for k, v in ADDED_LATER.items()
                   if k.split(".", 1)[1] not in (data.get(k.split(".", 1)[0]) or {})}
        return override(s, missing) if missing else s


SECTIONS: dict[str, type] = {"world": World, "brain": Brain, "evolution": Evolution, "cursor": Cursor,
                             "hazards": Hazards}

# Settings added after files were first saved, whose default is not what runs did before they existed: a saved file
# (checkpoint, replay) without one was written when the run behaved as this value says, and must resume and
# re-simulate as it ran (Settings.from_saved). A value may be a function of the file's settings.
ADDED_LATER: dict[str, Any] = {
    "brain.init_weights": 1.0,  # founders' weights at full scale (blind founders became the default later)
    "evolution.replace": "none",  # no periodic replacement (on by default since it was added)
    # the founders' biases were drawn at the weights' scale before they had a scale of their own
    "brain.init_bias": lambda s: s.brain.init_sigma,
}


# ---- the simulation's settings ---------------------------------------------------------------------------------------
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
    bare = [k.split(".", 1)[1] for k in keys]
    raise SettingsError(f"unknown settings key {key!r}{_suggest(key, keys + bare)}")


def override(settings: Settings, values: dict[str, Any]) -> Settings:
    """Return settings with `values` ({"key": value}) applied; keys as accepted by resolve_key."""
    per_section: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for raw_key, raw_value in values.items():
        key = resolve_key(str(raw_key))
        section, name = key.split(".", 1)
        per_section[section][name] = raw_value
    new = {name: override_dataclass(getattr(settings, name), vals, prefix=f"{name}.")
           for name, vals in per_section.items()}
    out = Settings(**new)
    validate(out)
    return out


def validate(s: Settings) -> None:
    """Cross-field checks that single values cannot catch."""
    w = s.world
    if not (w.min_speed <= w.birth_speed <= w.max_speed):
        raise SettingsError("world.birth_speed must lie between world.min_speed and world.max_speed")
    if 4.0 * w.radius >= min(w.width, w.height):
        raise SettingsError("world.radius must be below a quarter of the world's width and height")
    if s.evolution.elites >= w.agents and s.evolution.mode == "generational":
        raise SettingsError("evolution.elites must be smaller than world.agents")
    b = s.brain
    if not b.sensors:
        raise SettingsError("brain.sensors must name at least one sensor block "
                            f"(choose from {', '.join(SENSORS)})")
    for name in b.sensors:
        if name not in SENSORS:
            raise SettingsError(f"unknown sensor {name!r} in brain.sensors (choose from {', '.join(SENSORS)})"
                                f"{_suggest(name, list(SENSORS))}")
    if len(set(b.sensors)) != len(b.sensors):
        raise SettingsError(f"bad value for brain.sensors: {b.sensors!r} (a sensor is listed twice)")
    h = s.hazards
    if h.contact == "teams" and h.teams < 2:
        raise SettingsError("hazards.contact=teams needs hazards.teams >= 2")
    if h.teams > 1 and s.evolution.mode == "generational":
        raise SettingsError("hazards.teams > 1 needs evolution.mode=steady (births stay within a team)")
    if h.teams > w.agents:
        raise SettingsError("hazards.teams must not exceed world.agents")
    if h.contact != "none" and h.contact_radius > b.sense_radius:
        raise SettingsError("hazards.contact_radius must not exceed brain.sense_radius (one scan finds both)")
    if h.icons > 0 and 2.0 * h.icon_size >= min(w.width, w.height):
        raise SettingsError("hazards.icon_size must be below half the world's width and height")
    if h.contact != "none" or "neighbours" in b.sensors or "team" in b.sensors:
        cell = max(b.sense_radius, (2.0 * h.contact_radius if h.contact != "none" else 0.0) + w.max_speed * w.dt, 1.0)
        if math.ceil(w.width / cell) * math.ceil(w.height / cell) > 4_000_000:
            raise SettingsError("the world is too large for brain.sense_radius (over 4 million grid cells)")


# ---- the kernels' view ------------------------------------------------------------------------------------------
# Params fields that are not a setting but derived from several (layout offsets, grid geometry).
_DERIVED: list[tuple[str, type]] = [
    ("n_in", int),  # inputs per agent (all sensor blocks + scenario extra inputs)
    ("off_edges", int), ("off_cursor", int), ("off_self", int), ("off_icons", int),  # first input of each block; -1
    ("off_neigh", int), ("off_team", int), ("off_extra", int),  # when the block is not used
    ("n_extra", int),  # scenario extra inputs (written between chunks by the extra_inputs hook)
    ("use_grid", int),  # 1 when the neighbour grid is needed (contact or neighbour/team sensors)
    ("grid_cell", float),  # grid cell side, px (>= sense_radius, so 3x3 cells cover a query)
    ("grid_nx", int), ("grid_ny", int),
    ("spawn_clear", float),  # newborns appear at least this far (centre to centre) from others, px
    ("n_gates", int),  # on/off genes at the end of each genome (one per hidden unit; 0: fixed topology)
    ("species_cap", int),  # rows of the species table (0: niching off)
]


def _kernel_fields() -> list[tuple[str, type, str, str, dict[str, Any]]]:
    """(Params field, its type, section, setting, metadata) for every setting the kernels read."""
    out = []
    for section, cls in SECTIONS.items():
        for name, (ftype, meta) in declared(cls).items():
            if meta.get("kernel"):
                to = meta.get("to")
                kt = int if meta.get("choices") is not None or to == "steps" else (float if to else ftype)
                out.append((meta["kernel"], kt, section, name, meta))
    return out


# Settings flattened to numbers for the compiled kernels; choices become their IntEnum values.
Params = NamedTuple("Params", [(k, t) for k, t, *_ in _kernel_fields()] + _DERIVED)  # type: ignore[misc]
Params.__doc__ = "Settings as numbers for the compiled kernels (derived from the declarations; see make_params)."

CHOICES: dict[str, tuple[str, ...]] = {
    f"{section}.{name}": names(meta["choices"])
    for section, cls in SECTIONS.items() for name, (_, meta) in declared(cls).items() if meta.get("choices")
}


def block_size(name: str, brain: Brain) -> int:
    """Inputs of one sensor block: 3 per neighbour seen; "self" is speed alone in the ego frame (its axes are the
    heading) and speed, cos and sin of the heading in the world frame."""
    if name == "neighbours":
        return 3 * brain.neighbours
    if name == "self" and brain.frame == "ego":
        return 1
    return SENSORS[name]


def input_offsets(brain: Brain, n_extra: int = 0) -> dict[str, tuple[int, int]]:
    """{block: (first input, count)} for the chosen sensor blocks in canonical order, then "extra"."""
    out: dict[str, tuple[int, int]] = {}
    k = 0
    for name in SENSORS:
        if name in brain.sensors:
            n = block_size(name, brain)
            out[name] = (k, n)
            k += n
    if n_extra:
        out["extra"] = (k, n_extra)
    return out


def make_params(s: Settings, n_extra: int = 0) -> Params:
    """Flatten settings for the kernels; n_extra is the scenario's count of extra inputs (hooks)."""
    w, b, h = s.world, s.brain, s.hazards
    values: dict[str, Any] = {}
    for kname, _, section, name, meta in _kernel_fields():
        v = getattr(getattr(s, section), name)
        if meta.get("choices") is not None:
            v = names(meta["choices"]).index(v)
        elif meta.get("to") == "steps":
            v = max(1, int(round(v / w.dt)))
        elif meta.get("to") == "per_step":
            v = min(1.0, v * w.dt)
        values[kname] = v
    offs = input_offsets(b, n_extra)
    for block, key in (("edges", "off_edges"), ("cursor", "off_cursor"), ("self", "off_self"), ("icons", "off_icons"),
                       ("neighbours", "off_neigh"), ("team", "off_team"), ("extra", "off_extra")):
        values[key] = offs[block][0] if block in offs else -1
    values["n_in"] = sum(n for _, n in offs.values())
    values["n_extra"] = n_extra
    values["use_grid"] = int(h.contact != "none" or "neighbours" in b.sensors or "team" in b.sensors)
    spawn_clear = 2.0 * h.contact_radius if h.contact != "none" else 0.0
    # a cell holds every agent within sense_radius of a point, and (the grid being one step old at births) every
    # agent within spawn_clear of a newborn's spot after its last move
    cell = max(b.sense_radius, spawn_clear + w.max_speed * w.dt, 1.0)
    values["grid_cell"] = cell
    values["grid_nx"] = max(1, int(math.ceil(w.width / cell)))
    values["grid_ny"] = max(1, int(math.ceil(w.height / cell)))
    values["spawn_clear"] = spawn_clear
    values["n_gates"] = sum(b.hidden) if gated(s) else 0
    values["species_cap"] = species_cap(s)
    return Params(**values)


def species_cap(s: Settings) -> int:
    """Rows of the species table: room for four times the target, at most one per agent (0: niching off)."""
    e = s.evolution
    return min(s.world.agents, 4 * e.species_target) if e.niching == "species" else 0


def gated(s: Settings) -> bool:
    """True when hidden units can be off (brains start smaller than brain.hidden or units are added or removed):
    then every genome ends with one on/off gene per hidden unit (brain.Layout.gated)."""
    e = s.evolution
    return (0 < s.brain.hidden_start < max(s.brain.hidden)) or e.add_unit_rate > 0.0 or e.remove_unit_rate > 0.0
