"""Replay size and recording memory: bytes per agent-frame, MB per sim-minute, RSS while recording a long run.

    python benchmarks/replay_size.py [--minutes 60] [--agents 50] [--scenario cursor]

Records every step of a headless run into a temporary folder and prints, at a few points, the replay's size on
disk, the sim-minutes its chunks on disk hold (the writer thread may still be writing the latest), and the
process's current and peak resident memory (flat memory = chunks go to disk); then the whole replay once closed.
Also times the same run without recording, minute by minute in turns with the recorded one (so background load
hits both alike), for the recording overhead over the whole run. --busy K starts K processes spinning on a core
beside it.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from neuroevo.replay import Recorder
from neuroevo.replay import open as open_replay
from neuroevo.scenario import load_scenario
from neuroevo.sim import make


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # Linux reports KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=60)
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--scenario", default="cursor")
    ap.add_argument("--busy", type=int, nargs="?", const=1, default=0, metavar="K")
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    settings = sc.settings({"world.agents": args.agents})
    per_min = int(round(60 / settings.world.dt))

    plain = make(sc, settings=settings, seed=1)
    plain.run(0)
    t_plain = t_rec = 0.0
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "replay"
        sim = make(sc, settings=settings, seed=1)
        rec = Recorder(sim, folder)
        sim.add_observer(rec)
        print(f"{args.scenario}, {args.agents} agents, every step recorded ({1 / settings.world.dt:.0f} per sim s)")
        print(f"{'minute':>6} {'on disk':>8} {'replay MB':>10} {'MB/min':>7} {'B/agent-frame':>14} {'RSS MB':>7} "
              f"{'peak MB':>8}")
        marks = sorted({1, 2, 5, 10, 20, 30, 45, 60, args.minutes} & set(range(1, args.minutes + 1)))
        for m in range(1, args.minutes + 1):
            t = time.perf_counter()
            plain.run(per_min)
            t_plain += time.perf_counter() - t
            t = time.perf_counter()
            sim.run(per_min)
            t_rec += time.perf_counter() - t
            if m in marks:  # what is on disk so far: whole chunks (the writer thread may still hold the last ones)
                files = list(folder.glob("chunk-*.npz"))
                size = sum(f.stat().st_size for f in files)
                frames = len(files) * rec.chunk_frames
                disk_min = frames * settings.world.dt / 60
                print(f"{m:>6} {disk_min:>8.1f} {size / 1e6:>10.2f} {size / 1e6 / max(disk_min, 1e-9):>7.3f} "
                      f"{size / max(1, frames * args.agents):>14.2f} {rss_mb():>7.1f} {peak_mb():>8.1f}")
        t = time.perf_counter()
        rec.close()
        t_rec += time.perf_counter() - t
        for b in busy:
            b.kill()
            b.wait()
        r = open_replay(folder)
        size = sum(f.stat().st_size for f in folder.glob("chunk-*.npz"))
        print(f"replay: {len(r)} frames, {r.births['gid'].size} births, {r.deaths['frame'].size} deaths; closed: "
              f"{size / 1e6:.2f} MB in {len(r.files)} chunks, {size / (len(r) * args.agents):.2f} B/agent-frame")
    print(f"{args.minutes} sim-minutes: {t_plain:.2f} s without recording, {t_rec:.2f} s recording "
          f"({t_rec / t_plain:.2f}x), minute by minute in turns, {args.busy} busy process(es) beside it")


if __name__ == "__main__":
    main()
