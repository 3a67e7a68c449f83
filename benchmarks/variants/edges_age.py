"""edges with a minimum parent age."""
from neuroevo.scenario import Scenario


class EdgesAge(Scenario):
    cursor = {"source": "none"}
    evolution = {"min_parent_age_s": 5.0}
