"""The seed's encoding: raw distances (d / 720 px) instead of 1/d, against the hunter cursor."""

from neuroevo.scenario import Scenario


class RawDistance(Scenario):
    """Near and far differ by a small fraction of the input range, so threats are quiet until too late."""

    brain = {"encoding": "raw"}
    cursor = {"source": "hunter"}
