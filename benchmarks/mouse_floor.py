"""How often does the mouse model catch smileys that need no learning to escape it? A floor for the story target.

    python benchmarks/mouse_floor.py [--minutes 5] [--seeds 3] [--cursor mouse|hunter]

Every agent gets a net that ignores its inputs and flies at full speed on its tightest circle (turn and thrust
saturated; half of them circle left, half right), evolution off (the caught are not replaced), and the model of
a person with a mouse clicks for the given minutes (with --cursor hunter: the hunter bot, which these circlers do
not escape: pursuing at 250 px/s it can ride an inner circle within the kill radius of one at 300 px/s). Prints
kills per minute per seed and their mean.
"""

from __future__ import annotations

import argparse

import numpy as np

from neuroevo.observers import run_minutes
from neuroevo.sim import make


def floor(seed: int, minutes: int, cursor: str = "mouse") -> list[int]:
    sim = make("edges", seed=seed, overrides={"evolution.mode": "none", "cursor.source": cursor})
    g = sim.genomes
    g[:] = 0.0
    n_w = sim.layout.n_weights  # the output layer's two biases are the last weights: turn, thrust
    side = np.where(np.random.default_rng(seed).random(g.shape[0]) < 0.5, -1.0, 1.0)
    g[:, n_w - 2] = 5.0 * side
    g[:, n_w - 1] = 5.0
    return [r["deaths"].get("cursor", 0) for r in run_minutes(sim, minutes)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--cursor", choices=["mouse", "hunter"], default="mouse")
    args = ap.parse_args()
    kills = []
    for seed in range(1, args.seeds + 1):
        k = floor(seed, args.minutes, args.cursor)
        kills.append(np.mean(k))
        print(f"seed {seed}: kills per minute {k}")
    print(f"mean kills/min of ideal fast circlers ({args.cursor}): {np.mean(kills):.2f}")


if __name__ == "__main__":
    main()
