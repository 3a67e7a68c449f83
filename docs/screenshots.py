"""Render the README's screenshots of the live viewer (dummy video driver, seeded, reproducible).

    python docs/screenshots.py [--out docs]

Writes live-edges.png (early learning), live-hunter.png (after learning to dodge the hunter bot),
live-inspector.png (the brain inspector open on the longest-lived agent), live-icons.png and live-teams.png
(those scenarios after 6 minutes), each 1280x720 scaled to 800x450.
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
from neuroevo.viewer import SPEEDS, Viewer  # noqa: E402


def open_viewer(scenario: str, seed: int) -> Viewer:
    sc = load_scenario(scenario)
    sim = make(sc, seed=seed)
    v = Viewer(sim, autosave=False, out_dir="/tmp/neuroevo-docs")
    v.open()
    return v


def play(v: Viewer, sim_seconds: float) -> None:
    """Advance through frames at 64x for the HUD's rolling minute, headless before that."""
    steps = int(sim_seconds * 60)
    if steps > 3600:
        v.sim.run(steps - 3600)
        v.lineage.update(v.sim.state)  # the families born meanwhile (the viewer sees them frame by frame)
        steps = 3600
    v.speed_i = SPEEDS.index(64)
    for _ in range(steps // 64):
        v.frame()
    v.speed_i = 0
    clock = pygame.time.Clock()
    for _ in range(steps % 64 + 60):  # the last second at 1x in real time, as a user would see it
        v.frame()
        clock.tick(60)


def save(v: Viewer, path: Path) -> None:
    v._hud_cache = (-1.0, [])  # fresh HUD text in the picture
    v.frame()
    small = pygame.transform.smoothscale(v.screen, (800, 450))
    pygame.image.save(small, str(path))
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args()

    v = open_viewer("edges", seed=1)
    play(v, 45)
    save(v, args.out / "live-edges.png")
    pygame.display.quit()

    v = open_viewer("cursor", seed=1)
    play(v, 8 * 60)
    save(v, args.out / "live-hunter.png")
    s = v.sim.state
    v.inspect_at(*s.pos[int(np.argmax(np.where(s.alive, s.age, -1)))])
    save(v, args.out / "live-inspector.png")
    pygame.display.quit()

    for name in ("icons", "teams"):
        v = open_viewer(name, seed=1)
        play(v, 6 * 60)
        save(v, args.out / f"live-{name}.png")
        pygame.display.quit()


if __name__ == "__main__":
    main()
