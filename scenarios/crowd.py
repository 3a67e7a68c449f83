"""Crowd: two agents that touch both die; agents see their nearest neighbour."""

from neuroevo.scenario import Scenario


class Crowd(Scenario):
    """Contact within 16 px (centre to centre) kills both; the nearest agent within 60 px is seen (1/d, direction)."""

    sensors = ("edges", "self", "neighbours")
    brain = {"neighbours": 1, "sense_radius": 60.0}
    hazards = {"contact": "all", "contact_radius": 16.0}
