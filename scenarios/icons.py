"""Desktop icons: eight 64 px squares scattered over the screen kill on contact, as the edges do."""

from neuroevo.scenario import Scenario


class Icons(Scenario):
    """Agents see the walls, themselves and the nearest icon (1/d and direction)."""

    sensors = ("edges", "self", "icons")
    hazards = {"icons": 8, "icon_size": 64.0}
