"""Only the edges kill: agents learn to stay on screen."""

from neuroevo.scenario import Scenario


class Edges(Scenario):
    """50 smileys; touching an edge is death. No cursor."""

    cursor = {"source": "none"}
