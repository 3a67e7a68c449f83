"""The window onto a world: pygame-ce drawing, input and files for `neuroevo live` and `neuroevo replay`.

    view.py       WorldView: what is drawn (LiveView over a Simulation, ReplayView over a replay)
    theme.py      colours, sizes, fonts and panels
    geometry.py   Camera: world px <-> window px, letterbox, zoom and pan
    sprites.py    pre-rendered smileys and their tint / expression
    lineage.py    family tracking (also used by the replay reader; no pygame)
    scene.py      the world: floor, icons, death markers, smileys, cursor
    hud.py        text lines by name, the chart and its series, help panel, toasts
    inspector.py  one agent's net
    ancestry.py   the ancestry panel (T): the living's family tree, built in pieces across frames
    window.py     the frame loop and the input both windows share (zoom, pan, inspect, help, screenshot)
    live.py       neuroevo live: stepping, keys, hot reload, recording, save/load
    playback.py   neuroevo replay: seek bar and playback keys
    export.py     replay -> GIF / MP4 on an offscreen surface

Only the `live` and `replay` commands import the pygame modules here, so headless runs never load pygame.
"""

import os as _os

_os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # before any module here imports pygame
