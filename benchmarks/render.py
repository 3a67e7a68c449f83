"""Frames per second of the live viewer (simulation step + drawing + HUD + chart), dummy video driver.

    python benchmarks/render.py [--agents 50 1000 5000 20000] [--frames 300] [--busy K]

Each frame runs one simulation step (speed 1x) and draws everything the window shows: world, smileys, effects,
HUD and the live chart (and, for the first size, also a run with the brain inspector open and one zoomed in 4x on
it, following it). FPS here is uncapped: the window itself is capped at 60. --busy K starts K processes spinning
on a core beside the measurement (the issue's targets, 60 FPS at 5,000 agents and 30 at 20,000, are for one).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import numba  # noqa: E402
import numpy as np  # noqa: E402

from neuroevo.scenario import load_scenario  # noqa: E402
from neuroevo.sim import make  # noqa: E402
from neuroevo.ui.live import LiveWindow  # noqa: E402


def measure(n: int, frames: int, extra: str, scenario: str) -> dict[str, float]:
    import pygame

    sc = load_scenario(scenario)
    sim = make(sc, seed=1, overrides={"world.agents": n})
    v = LiveWindow(sim, autosave=False, out_dir="/tmp/neuroevo-render-bench")
    v.open()
    sim.run(600)  # some history for the chart, agents spread out
    if extra:
        v.inspect_at(v.camera.to_screen(*sim.state.pos[int(np.argmax(sim.state.alive))]))
    if extra == "zoom 4x":
        v.camera.set_zoom(8)
        v.toggle_follow()
    for _ in range(20):
        v.frame()
    t_sim = t_draw = 0.0
    t0 = time.perf_counter()
    for _ in range(frames):
        a = time.perf_counter()
        v.tick()
        b = time.perf_counter()
        v.draw(v.screen)
        pygame.event.pump()
        pygame.display.flip()
        t_draw += time.perf_counter() - b
        t_sim += b - a
    wall = time.perf_counter() - t0
    v.close()
    return {"fps": frames / wall, "sim_ms": 1e3 * t_sim / frames, "draw_ms": 1e3 * t_draw / frames}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, nargs="+", default=[50, 1000, 5000, 20000])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--scenario", default="cursor")
    ap.add_argument("--busy", type=int, nargs="?", const=1, default=0, metavar="K",
                    help="start K (default 1) processes spinning on a core beside the measurement")
    ap.add_argument("--plain", action="store_true", help="no inspector and zoom runs for the first size")
    args = ap.parse_args()
    print(f"numba threads {numba.get_num_threads()}, threading layer ", end="")
    try:
        print(numba.threading_layer())
    except ValueError:
        print("(not yet chosen)")
    targets = {50: 60, 5000: 60, 20000: 30}
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        print(f"{args.busy} busy process(es) beside it; load average at the start "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'agents':>7} {'extra':>10} {'FPS':>7} {'sim ms':>7} {'draw ms':>8}  target")
        for i, n in enumerate(args.agents):
            for extra in (["", "inspector", "zoom 4x"] if i == 0 and not args.plain else [""]):
                r = measure(n, args.frames, extra, args.scenario)
                goal = targets.get(n)
                verdict = "" if goal is None else f">= {goal}: {'met' if r['fps'] >= goal else 'MISSED'}"
                print(f"{n:>7} {extra:>10} {r['fps']:>7.0f} {r['sim_ms']:>7.2f} "
                      f"{r['draw_ms']:>8.2f}  {verdict}", flush=True)
        print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        for b in busy:
            b.kill()
            b.wait()


if __name__ == "__main__":
    main()
