"""Where a recording's cost goes: recorded runs against the unrecorded default, side by side in one process.

    python benchmarks/record_cost.py [--agents 50] [--minutes 10] [--rounds 15] [--variants plain rec ...]
    python benchmarks/record_cost.py --in-step [--pairs 60] [--piece 1000] [--threads 2]

Variants (a fresh world each, `cursor` scenario, the recorder's closing write timed too):
  plain        no recording, threads chosen at run time (the default)
  rec          recording with the defaults: threads chosen at run time; after team steps the stepping thread packs
               what it can of each full chunk while the writer thread encodes the chunk's other members, then packs
               the rest
  rec-serial   recording on the serial step (set_threads(1)): the writer packs every chunk on the other core
  rec-team     recording on the team step (set_threads(2))
  rec-nowrite  recording whose writer thread drops each chunk: what recording costs the stepping thread alone
  rec-team-nowrite  the same on the team step
  rec-nopack   recording with no packing and no writing at all (the writer drops each chunk, the stepping thread
               packs nothing): the frame copy in the step, the chunk ends' Python and the close
  rec-v3       recording that stores the step numbers and mean ages as format version 3 did (as they are, deflated)
  rec-sync     the stepping thread waits at each chunk end until the writer has encoded the chunk (so the writer
               never works during the team steps that follow)
  rec-idle     the writer and disk threads at the SCHED_IDLE policy (Linux): they run when a core is idle
  rec-2min     recording in 2-minute chunks (what 50 agents wrote until small populations' chunks grew to 5 minutes)
  serial, team no recording, on that step alone: the floors of recordings on them

Prints each variant's median time for the run and the median of its ratio to `plain` over the rounds, with a 95%
bootstrap interval of that median and the worst round (variants take turns within a round, in reverse order every
other round, so a drift of the machine's speed falls on all of them), and for the other recording variants the
same of their ratio to `rec`. The variants are one copy of the program changed by patching the recorder in this
process, so their differences are the program's, not the loading's.

--in-step: what recording costs inside the compiled step alone (the frame copy), without chunk ends, packing or
writing: two worlds of the same seed, one recorded (one chunk for the whole measurement), step in turns, `--piece`
steps at a time, and the compiled time of each recorded piece is divided by that of the unrecorded piece beside
it (the worlds are bit-identical, so both pieces do the same work). Pairs taken within a few milliseconds of each
other see the same machine: the interval is a tenth of the whole-run comparison's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from neuroevo import recorder
from neuroevo.recorder import Recorder
from neuroevo.sim import make

VARIANTS = ("plain", "rec", "rec-serial", "rec-team", "rec-nowrite", "rec-team-nowrite", "rec-nopack", "rec-v3",
            "rec-sync", "rec-idle", "rec-2min", "serial", "team")


@contextlib.contextmanager
def patched(variant: str, rec: Recorder | None):
    """The recorder (module and instance) as the variant wants it, for one run."""
    saved = (recorder.diffed, recorder.DEFLATED_KEYS, recorder.ThreadPoolExecutor, recorder._Packing.work)
    if rec is not None and variant.endswith(("nowrite", "nopack")):
        def drop(path, arrays, bufs, packing, rec=rec):  # the writer drops the chunk (packs none of it)
            packing.cancel()
            rec._free.append(bufs)

        rec._write_chunk = drop
    if variant == "rec-nopack":
        recorder._Packing.work = lambda self: None
    if variant == "rec-v3":
        recorder.diffed = lambda arrays: None
        recorder.DEFLATED_KEYS = frozenset({"step", "mean_age", "icons"})
    if rec is not None and variant == "rec-sync":
        flush = rec.flush

        def flush_and_wait(last=False, rec=rec, flush=flush):
            flush(last)
            if rec._pending:
                rec._pending[-1][0].result()

        rec.flush = flush_and_wait
    if variant == "rec-idle" and hasattr(os, "SCHED_IDLE"):
        class IdlePool(saved[2]):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, initializer=os.sched_setscheduler, initargs=(0, os.SCHED_IDLE,
                                                                                     os.sched_param(0)), **kwargs)

        recorder.ThreadPoolExecutor = IdlePool
    try:
        yield
    finally:
        recorder.diffed, recorder.DEFLATED_KEYS, recorder.ThreadPoolExecutor, recorder._Packing.work = saved


def run(variant: str, agents: int, minutes: float, tmp: Path) -> float:
    sim = make("cursor", seed=1, agents=agents)
    if "team" in variant:
        sim.set_threads(2)
    elif "serial" in variant:
        sim.set_threads(1)
    rec = None
    if variant.startswith("rec"):
        rec = Recorder(sim, tmp / "replay", chunk_seconds=120.0 if variant == "rec-2min" else None)
        sim.add_observer(rec)
    steps = int(round(minutes * 60 / sim.settings.world.dt))
    sim.run(0)
    with patched(variant, rec):
        t = time.perf_counter()
        sim.run(steps)
        if rec is not None:
            rec.close()
        seconds = time.perf_counter() - t
    if rec is not None:
        shutil.rmtree(rec.path)
    return seconds


def in_step(agents: int, pairs: int, piece: int, threads: int, tmp: Path) -> np.ndarray:
    """Ratios of the compiled time of recorded to unrecorded pieces (see --in-step)."""
    worlds = []
    for recorded in (False, True):
        sim = make("cursor", seed=1, agents=agents)
        sim.set_threads(threads)
        rec = None
        if recorded:  # one chunk holds every measured frame: no chunk ends, so no packing or writing meanwhile
            rec = Recorder(sim, tmp / "replay", chunk_seconds=(pairs + 2) * piece * sim.settings.world.dt)
            sim.add_observer(rec)
        spent = [0.0]
        step_chunk = sim._run_chunk

        def timed(*args, step_chunk=step_chunk, spent=spent):
            t = time.perf_counter()
            got = step_chunk(*args)
            spent[0] += time.perf_counter() - t
            return got

        sim._run_chunk = timed
        sim.run(piece)  # compiled, helpers started
        worlds.append((sim, rec, spent))
    ratios = []
    for i in range(pairs):
        took = {}
        for j in ((0, 1) if i % 2 == 0 else (1, 0)):
            sim, _, spent = worlds[j]
            spent[0] = 0.0
            sim.run(piece)
            took[j] = spent[0]
        ratios.append(took[1] / took[0])
    rec = worlds[1][1]
    rec.close()
    shutil.rmtree(rec.path)
    return np.array(ratios)


def interval(r: np.ndarray) -> tuple[float, float]:
    """95% bootstrap interval of the median of r."""
    boot = np.median(np.random.default_rng(0).choice(r, (2000, r.size)), axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    ap.add_argument("--in-step", action="store_true", help="only the frame copy inside the compiled step (see above)")
    ap.add_argument("--pairs", type=int, default=60, help="--in-step: recorded and unrecorded pieces compared")
    ap.add_argument("--piece", type=int, default=1000, help="--in-step: steps a piece")
    ap.add_argument("--threads", type=int, default=2, help="--in-step: 2 for the team step, 1 for the serial step")
    args = ap.parse_args()
    for name in ("agents", "rounds", "pairs", "piece", "threads"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be at least 1")
    if args.in_step:
        with tempfile.TemporaryDirectory(prefix="neuroevo-record-cost-") as tmp:
            r = in_step(args.agents, args.pairs, args.piece, args.threads, Path(tmp))
        lo, hi = interval(r)
        step = "team" if args.threads > 1 else "serial"
        print(f"cursor, {args.agents} agents, {step} step, {args.pairs} pairs of {args.piece}-step pieces:"
              f" compiled time recorded / unrecorded median {np.median(r):.3f}x (95% {lo:.3f}-{hi:.3f}),"
              f" worst {r.max():.3f}x")
        return
    variants = ["plain", *[v for v in args.variants if v != "plain"]]
    with tempfile.TemporaryDirectory(prefix="neuroevo-record-cost-") as tmp:
        for v in variants:
            run(v, args.agents, 5.1, Path(tmp))  # compiled (a chunk's end too), and the helpers started
        times: dict[str, list[float]] = {v: [] for v in variants}
        for i in range(args.rounds):
            for v in variants if i % 2 == 0 else variants[::-1]:
                times[v].append(run(v, args.agents, args.minutes, Path(tmp)))
    base = np.array(times["plain"])
    print(f"cursor, {args.agents} agents, {args.minutes:g} sim-minutes from a new world, {args.rounds} rounds:")
    for v in variants:
        t = np.array(times[v])
        r = t / base
        lo, hi = interval(r)
        print(f"  {v:>16}: {np.median(t) * 1e3:6.0f} ms | / plain median {np.median(r):.3f}x (95% {lo:.3f}-{hi:.3f}),"
              f" worst {r.max():.2f}x   (rounds: {' '.join(f'{x * 1e3:.0f}' for x in t)})", flush=True)
    for v in variants:
        if v.startswith("rec-") and "rec" in times:
            r = np.array(times[v]) / np.array(times["rec"])
            lo, hi = interval(r)
            print(f"  {v:>16} / rec: median {np.median(r):.3f}x (95% {lo:.3f}-{hi:.3f})")


if __name__ == "__main__":
    main()
