"""Teams: two colours; touching an agent of the other colour kills both, touching a team mate is harmless."""

from neuroevo.scenario import Scenario


class Teams(Scenario):
    """Agents see the nearest agent of the other team and the nearest mate; births stay within a team."""

    sensors = ("edges", "self", "team")
    hazards = {"teams": 2, "contact": "teams", "contact_radius": 16.0}
