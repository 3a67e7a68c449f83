"""Where a recording's cost goes: recorded runs against the unrecorded default, side by side in one process.

    python benchmarks/record_cost.py [--agents 50] [--minutes 10] [--rounds 5]

Variants (a fresh world each, `cursor` scenario, the recorder's closing write timed too):
  plain        no recording, threads chosen at run time (the default)
  rec          recording with the defaults: the serial step (the writer thread takes the other core), chunks
               deflated at level 1 by the writer
  rec-stored   the same with deflate level 0 (stored blocks): what the writer costs without compression
  rec-team     recording on the team step (set_threads(2)): the writer shares a core with a helper
  rec-team-stored  both
  rec-nowrite  recording whose writer thread drops each chunk: what recording costs the stepping thread alone
  rec-team-nowrite  the same on the team step: what copying the frames inside the step costs that path
  serial       no recording, the serial step (set_threads(1)): the floor of any recording on that step

Prints each variant's median time for the run and its median ratio to `plain` over the rounds (variants take turns
within a round, so a drift of the machine's speed falls on all of them).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from neuroevo import recorder
from neuroevo.recorder import Recorder
from neuroevo.sim import make

VARIANTS = ("plain", "rec", "rec-stored", "rec-team", "rec-team-stored", "rec-nowrite", "rec-team-nowrite", "serial")


def run(variant: str, agents: int, minutes: float, tmp: Path) -> float:
    sim = make("cursor", seed=1, agents=agents)
    if "team" in variant:
        sim.set_threads(2)
    elif variant == "serial":
        sim.set_threads(1)
    rec = None
    level = recorder.CHUNK_DEFLATE_LEVEL
    if variant.startswith("rec"):
        recorder.CHUNK_DEFLATE_LEVEL = 0 if variant.endswith("stored") else level
        rec = Recorder(sim, tmp / "replay")
        if variant.endswith("nowrite"):
            rec._write_chunk = lambda path, arrays: None  # the writer thread gets each chunk and drops it
        sim.add_observer(rec)
    steps = int(round(minutes * 60 / sim.settings.world.dt))
    sim.run(0)
    t = time.perf_counter()
    sim.run(steps)
    if rec is not None:
        rec.close()
    seconds = time.perf_counter() - t
    recorder.CHUNK_DEFLATE_LEVEL = level
    if rec is not None:
        shutil.rmtree(rec.path)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    args = ap.parse_args()
    variants = ["plain", *[v for v in args.variants if v != "plain"]]
    with tempfile.TemporaryDirectory(prefix="neuroevo-record-cost-") as tmp:
        for v in variants:
            run(v, args.agents, 0.2, Path(tmp))  # compiled, and the helpers started
        times: dict[str, list[float]] = {v: [] for v in variants}
        for _ in range(args.rounds):
            for v in variants:
                times[v].append(run(v, args.agents, args.minutes, Path(tmp)))
    base = np.array(times["plain"])
    print(f"cursor, {args.agents} agents, {args.minutes:g} sim-minutes from a new world, {args.rounds} rounds:")
    for v in variants:
        t = np.array(times[v])
        print(f"  {v:>16}: {np.median(t) * 1e3:7.0f} ms | / plain {np.median(t / base):.2f}x   "
              f"(rounds: {' '.join(f'{x * 1e3:.0f}' for x in t)})", flush=True)


if __name__ == "__main__":
    main()
