"""Crowd: two agents that touch both die; agents see their two nearest neighbours."""

from neuroevo.scenario import Scenario


class Crowd(Scenario):
    """Contact within 16 px (centre to centre) kills both; neighbours farther than 80 px are not seen."""

    sensors = ("edges", "self", "neighbours")
    brain = {"neighbours": 2, "sense_radius": 80.0}
    hazards = {"contact": "all", "contact_radius": 16.0}
