"""A moving hazard: a bar sweeps across the screen and back every 20 s; agents learn to keep out of its way."""

import numpy as np

from neuroevo.scenario import Scenario


class Sweeper(Scenario):
    """The bar covers the middle half of the height; on_step moves it 15 times a simulated second."""

    sensors = ("edges", "self", "icons")
    hazards = {"icons": 1}  # one rectangle, reshaped and moved by on_step
    hook_every = 4  # steps between hook calls
    period_s = 20.0  # one sweep there and back, s
    bar_width = 40.0  # px

    def on_step(self, sim, step):
        w, h = sim.settings.world.width, sim.settings.world.height
        phase = (step * sim.settings.world.dt / self.period_s) % 1.0
        x = (w - self.bar_width) * (1.0 - abs(2.0 * phase - 1.0))  # 0 -> right edge -> 0
        sim.icons = np.array([[x, 0.25 * h, x + self.bar_width, 0.75 * h]], np.float32)
