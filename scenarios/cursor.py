"""Edges kill, and a hunter cursor chases the agents and clicks at them."""

from neuroevo.scenario import Scenario


class Cursor(Scenario):
    """The hunter moves at 250 px/s (agents reach 300), clicks 0.2 s after committing, kills within 22 px. The
    founders' biases are drawn at scale 12, so most founders fly at the limits of their outputs: what escapes the
    hunter in 9 seeds of 10 (README: Founders at their limits)."""

    brain = {"init_bias": 12.0}
    cursor = {"source": "hunter", "speed": 250.0, "reaction_s": 0.2, "kill_radius": 22.0}
