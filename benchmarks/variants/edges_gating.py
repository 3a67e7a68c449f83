"""edges with unit gating active: every unit on at birth, units switched on and off by mutation."""
from neuroevo.scenario import Scenario


class EdgesGating(Scenario):
    cursor = {"source": "none"}
    evolution = {"add_unit_rate": 0.05, "remove_unit_rate": 0.05}
