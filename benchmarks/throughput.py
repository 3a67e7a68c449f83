"""Agent-steps per second of the whole compiled step against a plain numpy step, side by side in one run.

The whole step: sensors, forward pass, physics, hazards, and births (selection + copy + mutation) of the dead.
    python benchmarks/throughput.py [--agents 50 1000 10000] [--seconds 3]

With --scenarios, compares scenarios instead (compiled only), e.g. the neighbour grid of crowd against edges:
    python benchmarks/throughput.py --scenarios edges crowd --agents 10000
Every scenario runs in the same world, scaled so that its area per agent is that of 50 agents in 1280 x 720 px
(at the default size 10,000 agents could not move without touching); measurements alternate between the scenarios
(--rounds of them) and each keeps its best round, so background load hits them alike.

With --compare, runs variants of the same run side by side in separate processes, taking turns (--rounds), and
prints each variant's median, its ratio to the one-thread run, and the CPU its process used (median, in cores:
CPU time of all its threads over wall time; spinning counts too):
    python benchmarks/throughput.py --compare auto one --agents 50 --busy 1
    python benchmarks/throughput.py --compare auto one main --against /tmp/neuroevo-old --agents 10000 \
        --world default --fresh-minutes 3
  auto  this tree, threads chosen at run time (the default);  one  NUMBA_NUM_THREADS=1;  two  set_threads(2);
  rec   auto, recording every step into a replay (a temporary folder; the closing chunk's write is timed too);
  main  the neuroevo package found in the folder --against (an older checkout), with its defaults (or, with
        --main-threads one|two, as those variants); with several folders (--against A B), variants main1,
        main2, ... name them in order.
The recording overhead (the issue's target: at most 1.3x an unrecorded run):
    python benchmarks/throughput.py --compare auto rec --scenario cursor --agents 50 --fresh-minutes 10
--fresh-minutes M times whole runs of M sim-minutes from a new world (the first minutes' burst of deaths and
births included); without it, a warmed-up run is timed for --seconds. --busy K starts K processes that spin on
a core beside the measurement (a browser, a build, a second run) and stops them at the end; with --busy-apart they
start in a session of their own, as a program started from another terminal does (Linux's autogroup scheduling,
where enabled, then shares the cores between the two sessions, not between their threads: a run's threads
together get what one busy process gets, so no thread count beats one thread there). --world default keeps
the 1280 x 720 px world at every size; --world scaled scales it to the area per agent of 50 agents.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np

from neuroevo.config import make_params
from neuroevo.reference import forward_np, hazards_np, move_np, mutate_np, sense_np
from neuroevo.scenario import load_scenario
from neuroevo.sim import Simulation, make


def numpy_step(sim: Simulation, rng: np.random.Generator) -> None:
    """The same step written with numpy arrays only (no numba): the baseline."""
    st, p = sim.state, make_params(sim.settings)
    inputs = sense_np(st.pos, st.heading, st.speed, (0.0, 0.0, 0.0, 0.0), p)
    out = forward_np(sim.layout, sim.genomes, inputs)[-1]
    pos, h, v = move_np(st.pos, st.heading, st.speed, out, p)
    st.pos[:], st.heading[:], st.speed[:] = pos, h, v
    dead = np.nonzero(hazards_np(st.pos, (0.0, 0.0), False, p))[0]
    st.age[:] += 1
    if dead.size:
        st.age[dead] = 0
        fit = st.age.astype(np.float64)
        fit[dead] = 0.0
        prob = fit / fit.sum() if fit.sum() > 0 else None
        parents = rng.choice(st.n, size=dead.size, p=prob)
        for d, par in zip(dead, parents):
            sim.genomes[d] = mutate_np(sim.genomes[par], p.mutation_rate, p.sigma, rng)
        m = p.spawn_margin
        st.pos[dead] = rng.uniform([m * p.width, m * p.height], [(1 - m) * p.width, (1 - m) * p.height],
                                   (dead.size, 2))
        st.heading[dead] = rng.uniform(-np.pi, np.pi, dead.size)
        st.speed[dead] = p.birth_speed


def measure(fn, seconds: float, steps_per_call: int) -> float:
    """Steps per second of fn(steps_per_call), run for about `seconds`."""
    fn(steps_per_call)  # warm up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn(steps_per_call)
        n += steps_per_call
    return n / (time.perf_counter() - t0)


def world_size(n: int, world: str) -> dict[str, int]:
    """Settings for n agents: the default 1280 x 720 px world, or one scaled to the area per agent of 50."""
    if world == "default":
        return {"world.agents": n}
    scale = (n / 50) ** 0.5
    return {"world.agents": n, "world.width": round(1280 * scale), "world.height": round(720 * scale)}


def compare_scenarios(names: list[str], agents: list[int], seconds: float, rounds: int, world: str) -> None:
    """Compiled agent-steps/s of each scenario at each size (world: "scaled" to 50-agent density or "default")."""
    for n in agents:
        size = world_size(n, world)
        size.setdefault("world.width", 1280)
        size.setdefault("world.height", 720)
        sims = {}
        for name in names:
            cls = load_scenario(name)
            sims[name] = make(cls, seed=1, overrides=size)
            sims[name].run(600)  # past the first burst of deaths, like a real run
        best = dict.fromkeys(names, 0.0)
        calls = max(1, 200_000 // n)
        for _ in range(rounds):
            for name in names:
                best[name] = max(best[name], measure(sims[name].run, seconds / rounds, calls) * n)
        base = best[names[0]]
        layer = f"team step, {numba.get_num_threads()} threads" if sims[names[0]].parallel else "serial step"
        print(f"agents {n:>6}, world {size['world.width']} x {size['world.height']} px, {layer}:")
        for name in names:
            print(f"  {name:>12}: {best[name] / 1e6:7.2f} M agent-steps/s | {names[0]} / {name} = "
                  f"{base / best[name]:.2f}", flush=True)


def worker(scenario: str, n: int, world: str, threads: str) -> None:
    """A measuring process: reads "fresh M" / "warm S" lines, answers each with agent-steps per second."""
    import tempfile

    from neuroevo.sim import make as make_here  # whichever neuroevo PYTHONPATH names

    size = world_size(n, world)
    tmp = tempfile.TemporaryDirectory(prefix="neuroevo-throughput-")
    recordings = iter(range(1_000_000))

    def new_sim():
        sim = make_here(scenario, seed=1, overrides=size)
        if threads == "two":
            sim.set_threads(2)
        elif threads == "one":
            sim.set_threads(1)  # as NUMBA_NUM_THREADS=1 (set too for the variant "one")
        rec = None
        if threads == "rec":
            from neuroevo.replay import Recorder

            rec = Recorder(sim, Path(tmp.name) / f"replay-{next(recordings)}")
            sim.add_observer(rec)
        return sim, rec

    warm, warm_rec = new_sim()
    warm.run(600)  # compiled, and past the first burst of deaths
    print("ready", flush=True)
    for line in sys.stdin:
        what, amount = line.split()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if what == "fresh":
            sim, rec = new_sim()
            steps = int(round(float(amount) * 60 / sim.settings.world.dt))
            sim.run(0)
            t = time.perf_counter()
            sim.run(steps)
            if rec is not None:
                rec.close()
            rate = steps * n / (time.perf_counter() - t)
            if rec is not None:
                shutil.rmtree(rec.path)
        else:
            rate = measure(warm.run, float(amount), max(1, 200_000 // n)) * n
        cores = (time.process_time() - cpu0) / (time.perf_counter() - wall0)  # all its threads' CPU time / wall
        print(f"{rate:.1f} {cores:.3f}", flush=True)
    if warm_rec is not None:
        warm_rec.close()
    tmp.cleanup()


def paired(rates: dict[str, list[float]], a: str, b: str) -> float:
    """Median over rounds of a's rate / b's rate (each round measures both within moments)."""
    return statistics.median(x / y for x, y in zip(rates[a], rates[b]))


def variants(args: argparse.Namespace) -> list[str]:
    """The --compare variants, "main" spelled main1, main2, ... when --against names several folders."""
    out = []
    for v in args.compare:
        if v != "main":
            out.append(v)
        elif not args.against:
            sys.exit("throughput.py: --compare main needs --against FOLDER (a checkout to compare with)")
        elif len(args.against) == 1:
            out.append("main")
        else:
            out += [f"main{k + 1}" for k in range(len(args.against))]
    return out


def compare_variants(args: argparse.Namespace) -> None:
    """Variants in separate processes taking turns; medians and ratios to the one-thread run."""
    here = Path(__file__).resolve()
    busy = start_busy(args)
    try:
        for n in args.agents:
            load0 = " ".join(f"{x:.2f}" for x in os.getloadavg())
            procs = {}
            for v in variants(args):
                env = dict(os.environ)
                if v == "one":
                    env["NUMBA_NUM_THREADS"] = "1"
                if v.startswith("main"):
                    folder = Path(args.against[int(v[4:] or 1) - 1]).resolve()
                    env["PYTHONPATH"] = str(folder)
                    # its own compiled-kernel cache beside it: a shared one may hold kernels of other checkouts
                    env["NUMBA_CACHE_DIR"] = str(folder / ".numba-cache")
                mode = args.main_threads if v.startswith("main") else v
                cmd = [sys.executable, str(here), "--worker", mode, "--agents", str(n), "--world",
                       args.world or "default", "--scenario", args.scenario]
                procs[v] = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for v, pr in procs.items():
                assert pr.stdout is not None
                if pr.stdout.readline().strip() != "ready":
                    sys.exit(f"throughput.py: variant {v} failed to start")
            rates: dict[str, list[float]] = {v: [] for v in procs}
            used: dict[str, list[float]] = {v: [] for v in procs}  # cores of CPU time the variant's process used
            order = list(procs)
            for r in range(args.rounds):
                for v in order if r % 2 == 0 else order[::-1]:  # alternate who goes first
                    pr = procs[v]
                    assert pr.stdin is not None and pr.stdout is not None
                    job = f"fresh {args.fresh_minutes}" if args.fresh_minutes else f"warm {args.seconds}"
                    pr.stdin.write(job + "\n")
                    pr.stdin.flush()
                    rate, cores = pr.stdout.readline().split()
                    rates[v].append(float(rate))
                    used[v].append(float(cores))
            for pr in procs.values():
                assert pr.stdin is not None
                pr.stdin.close()
                pr.wait()
            what = (f"first {args.fresh_minutes:g} sim-minutes from a new world" if args.fresh_minutes
                    else f"warmed up, {args.seconds:g} s per round")
            apart = " in a session of their own" if args.busy_apart else ""
            print(f"{args.scenario}, {n} agents, {args.world or 'default'} world, {what}, {args.busy} busy "
                  f"process(es) beside it{apart}, {args.rounds} alternating rounds (ratios: median of the rounds' "
                  f"ratios; load average at the start {load0}):")
            base_name = "one" if "one" in rates else next(iter(rates))

            for v, rs in rates.items():
                med = statistics.median(rs)
                ratio = f" | {v} / {base_name} = {paired(rates, v, base_name):.2f}x" if v != base_name else ""
                if v == "rec" and "auto" in rates:
                    ratio += f" | recording costs {paired(rates, 'auto', 'rec'):.2f}x an unrecorded run"
                rounds = " ".join(f"{x / 1e6:.2f}" for x in rs)
                cores = statistics.median(used[v])
                print(f"  {v:>5}: median {med / 1e6:6.2f} M agent-steps/s{ratio}, using {cores:.2f} cores   "
                      f"(rounds: {rounds})", flush=True)
            for k, folder in enumerate(args.against or []):
                if any(v.startswith("main") for v in rates):
                    print(f"  {'main' if len(args.against) == 1 else f'main{k + 1}'}: {folder}")
            print(f"  load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    finally:
        for b in busy:
            b.kill()
            b.wait()


def start_busy(args: argparse.Namespace) -> list[subprocess.Popen]:
    """The --busy processes, each spinning on a core (in a session of their own with --busy-apart)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=args.busy_apart)
            for _ in range(args.busy)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, nargs="+", default=[50, 1000, 10000])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--scenarios", nargs="+", default=None, help="compare these scenarios (the first is the base)")
    ap.add_argument("--rounds", type=int, default=5, help="with --scenarios or --compare: alternating rounds")
    ap.add_argument("--world", choices=["default", "scaled"], default=None,
                    help="default: 1280 x 720 px at every size; scaled: area per agent of 50 agents (the default "
                         "with --scenarios)")
    ap.add_argument("--busy", type=int, nargs="?", const=1, default=0, metavar="K",
                    help="start K (default 1) processes spinning on a core beside the measurement")
    ap.add_argument("--busy-apart", action="store_true",
                    help="start the --busy processes in a session of their own (as from another terminal)")
    ap.add_argument("--compare", nargs="+", choices=["auto", "one", "two", "rec", "main"], default=None,
                    help="variants of the same run, side by side in separate processes")
    ap.add_argument("--against", nargs="+", default=None,
                    help="with --compare main: the folder(s) holding older neuroevo checkouts")
    ap.add_argument("--main-threads", choices=["auto", "one", "two"], default="auto",
                    help="with --compare main: the older checkout's threads, as the variants of the same names")
    ap.add_argument("--fresh-minutes", type=float, default=0.0, help="with --compare: time whole runs from a new world")
    ap.add_argument("--scenario", default="edges", help="with --compare: the scenario")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.scenario, args.agents[0], args.world, args.worker)
        return
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, numba {numba.__version__}, "
          f"threads {numba.get_num_threads()}")
    if args.compare:
        compare_variants(args)
        return
    busy = start_busy(args)
    try:
        if args.scenarios:
            compare_scenarios(args.scenarios, args.agents, args.seconds, args.rounds, args.world or "scaled")
        else:
            compare_numpy(args.agents, args.seconds, args.world or "default")
    finally:
        for b in busy:
            b.kill()
            b.wait()


def compare_numpy(agents: list[int], seconds: float, world: str) -> None:
    """The compiled step against the numpy step at each size."""
    rows = []
    for n in agents:
        s = load_scenario("edges").settings(world_size(n, world))
        sim = make("edges", settings=s, seed=1)
        sim.run(600)  # past the first burst of deaths, like a real run
        calls = max(1, 200_000 // n)
        compiled = measure(sim.run, seconds, calls) * n
        ref = make("edges", settings=s, seed=1)
        rng = np.random.default_rng(1)
        baseline = measure(lambda k, ref=ref, rng=rng: [numpy_step(ref, rng) for _ in range(k)], seconds,
                           max(1, 2000 // n)) * n
        rows.append((n, compiled, baseline))
        layer = f"team step, {numba.get_num_threads()} threads" if sim.parallel else "serial step"
        print(f"agents {n:>6}: compiled {compiled / 1e6:7.2f} M agent-steps/s | numpy {baseline / 1e6:6.3f} M | "
              f"ratio {compiled / baseline:6.1f}x | {layer}", flush=True)


if __name__ == "__main__":
    main()
