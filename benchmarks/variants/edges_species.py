"""edges with species niching."""
from neuroevo.scenario import Scenario


class EdgesSpecies(Scenario):
    cursor = {"source": "none"}
    evolution = {"niching": "species"}
