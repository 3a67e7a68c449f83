"""Render the README's screenshots of the live viewer (dummy video driver, seeded, reproducible).

    python docs/screenshots.py [--out docs]

Writes live-edges.png (early learning), live-hunter.png (after learning to dodge the hunter bot),
live-inspector.png (the brain inspector open on the longest-lived agent), live-zoom.png (zoomed in 4x, following
it), live-ancestry.png (the ancestry panel, T, beside the inspector), live-icons.png and live-teams.png (those
scenarios after 6 minutes), each 1280x720 scaled to 800x450. --only NAME ... writes just those (e.g. --only
ancestry).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import numpy as np  # noqa: E402
import pygame  # noqa: E402

from neuroevo.scenario import load_scenario  # noqa: E402
from neuroevo.sim import make  # noqa: E402
from neuroevo.ui.live import LiveWindow  # noqa: E402
from neuroevo.ui.window import SPEEDS  # noqa: E402


def open_viewer(scenario: str, seed: int) -> LiveWindow:
    sc = load_scenario(scenario)
    sim = make(sc, seed=seed)
    v = LiveWindow(sim, autosave=False, out_dir="/tmp/neuroevo-docs")
    v.open()
    return v


def play(v: LiveWindow, sim_seconds: float) -> None:
    """Advance through frames at 64x for the HUD's rolling minute, in one go before that."""
    steps = int(sim_seconds * 60)
    if steps > 3600:
        v.world.advance(steps - 3600)
        v.world.take_markers()  # no death markers from the minutes skipped
        steps = 3600
    v.speed_i = SPEEDS.index(64)
    for _ in range(steps // 64):
        v.frame()
    v.speed_i = 0
    clock = pygame.time.Clock()
    for _ in range(steps % 64 + 60):  # the last second at 1x in real time, as a user would see it
        v.frame()
        clock.tick(60)


def save(v: LiveWindow, path: Path) -> None:
    v.hud.invalidate()  # fresh HUD text in the picture
    v.frame()
    small = pygame.transform.smoothscale(v.screen, (800, 450))
    pygame.image.save(small, str(path))
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--only", nargs="+", default=None, metavar="NAME", help="edges, hunter, inspector, zoom, "
                    "ancestry, icons, teams")
    args = ap.parse_args()
    want = set(args.only or ("edges", "hunter", "inspector", "zoom", "ancestry", "icons", "teams"))

    def save_if(v: LiveWindow, name: str) -> None:
        if name in want:
            save(v, args.out / f"live-{name}.png")

    if "edges" in want:
        v = open_viewer("edges", seed=1)
        play(v, 45)
        save(v, args.out / "live-edges.png")
        pygame.display.quit()

    if want & {"hunter", "inspector", "zoom", "ancestry"}:
        v = open_viewer("cursor", seed=1)
        play(v, 8 * 60)
        save_if(v, "hunter")
        s = v.world.state
        v.inspect_at(v.camera.to_screen(*s.pos[int(np.argmax(np.where(s.alive, s.age, -1)))]))
        save_if(v, "inspector")
        if "ancestry" in want:  # T beside the inspector: the panel takes the room below it
            v.ancestry.toggle()
            v.frame()
            v.ancestry.wait()
            save_if(v, "ancestry")
            v.ancestry.toggle()
        v.camera.set_zoom(8)  # 4x, following the inspected agent for a second
        v.toggle_follow()
        clock = pygame.time.Clock()
        for _ in range(60):
            v.frame()
            clock.tick(60)
        save_if(v, "zoom")
        pygame.display.quit()

    for name in sorted(want & {"icons", "teams"}):
        v = open_viewer(name, seed=1)
        play(v, 6 * 60)
        save(v, args.out / f"live-{name}.png")
        pygame.display.quit()


if __name__ == "__main__":
    main()
