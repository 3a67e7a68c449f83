"""Choices: the named options of settings as IntEnums; the compiled kernels compare against these members, and a
setting accepts the lower-case member names as strings."""

from __future__ import annotations

from enum import IntEnum


class Encoding(IntEnum):
    INVERSE = 0  # inputs are min(inv_scale / d, 1)
    RAW = 1  # inputs are min(d / raw_scale, 1)
    RAW_PX = 2  # inputs are d in px, unscaled (what the seed program fed its nets)


class Frame(IntEnum):
    EGO = 0  # directions relative to the heading
    WORLD = 1  # fixed world axes


class Mode(IntEnum):
    STEADY = 0  # each death is replaced at once
    GENERATIONAL = 1  # all at once every generation_s
    NONE = 2  # no births: the dead stay dead (an outside learner, or a scenario, decides what happens)


class Selection(IntEnum):
    ROULETTE = 0
    SUS = 1
    RANK = 2
    TOURNAMENT = 3
    TRUNCATION = 4


class Niching(IntEnum):
    NONE = 0  # parents drawn on fitness over the whole population
    SPECIES = 1  # fitness shared within species of similar genomes (species.py)


class Replace(IntEnum):
    NONE = 0  # agents leave only by dying
    LEAST_AGILE = 1  # periodically, the eligible agent with the lowest agility per step of life (births.replacement)
    RANDOM = 2  # periodically, an eligible agent drawn at random (the same turnover without aim)


class ReplaceWhile(IntEnum):
    CURSOR = 0  # only while a cursor is present
    ALWAYS = 1
    CLICKS = 2  # only after a period in which the cursor clicked


class CursorSource(IntEnum):
    NONE = 0
    HUNTER = 1
    RANDOM = 2
    EXTERNAL = 3
    MOUSE = 4  # a model of a person with a mouse (cursor.py: mouse_update)


class Contact(IntEnum):
    NONE = 0
    ALL = 1
    TEAMS = 2



def names(enum: type[IntEnum]) -> tuple[str, ...]:
    """The accepted strings of a choice, in enum order."""
    return tuple(m.name.lower() for m in enum)
