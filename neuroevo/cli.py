"""Command line: `neuroevo run SCENARIO ...` (headless evolution with metrics, plots and checkpoints)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from . import __version__


class UsageError(Exception):
    """Bad input the user can fix; printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (no usage dump), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int_at_least(lowest: int):
    """argparse type: a whole number >= lowest."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if v < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest}, got {v}")
        return v

    return parse


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (v > 0 and v < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return v


def build_parser() -> Parser:
    p = Parser(prog="neuroevo", description="Neuroevolution sandbox: smileys learn by a genetic algorithm.")
    p.add_argument("--version", action="version", version=f"neuroevo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    r = sub.add_parser(
        "run", help="evolve headless as fast as the machine allows",
        description="Evolve a population headless, with a scripted cursor bot in place of the mouse. Writes "
        "metrics.json, metrics.csv, learning.png and population.npz to --out.",
    )
    r.add_argument("scenario", help="scenario name from scenarios/ (edges, cursor, ...) or a path to a .py file")
    r.add_argument("--seed", type=_int_at_least(0), default=None,
                   help="random seed (default 1; with --resume: the file's)")
    r.add_argument("--minutes", type=_positive_float, default=10.0,
                   help="simulated minutes to run (with --resume: minutes to add); default 10")
    r.add_argument("--agents", type=_int_at_least(1), default=None, help="population size (default 50)")
    r.add_argument("--out", type=Path, default=None, help="output folder (default replays/<scenario>-<seed>/)")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. --set encoding=raw --set evolution.sigma=0.1 (README lists keys)")
    r.add_argument("--resume", type=Path, default=None, metavar="FILE",
                   help="continue from a population.npz written by an earlier run")
    r.add_argument("--checkpoint-minutes", type=_positive_float, default=5.0,
                   help="also save population.npz every this many simulated minutes (default 5)")
    r.add_argument("--no-plot", action="store_true", help="skip learning.png")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    from .mnist.cli import add_parser as add_mnist_parser

    add_mnist_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "mnist":
            from .mnist.cli import main as mnist_main

            return mnist_main(args)
    except UsageError as e:
        print(f"neuroevo {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 2


def _prepare(args: argparse.Namespace):
    """Resolve scenario, settings and (for --resume) the saved population; UsageError on any bad input."""
    from .config import SettingsError, parse_set
    from .scenario import ScenarioError, load_scenario
    from .sim import CheckpointError, Simulation

    try:
        overrides: dict[str, Any] = parse_set(args.sets)
        if args.agents is not None:
            overrides["world.agents"] = args.agents
        scenario = load_scenario(args.scenario)
        if args.resume is not None:
            sim, extra = Simulation.load(args.resume, overrides)
            if sim.scenario != scenario.name:
                raise UsageError(f"{args.resume}: saved by scenario {sim.scenario!r}, not {scenario.name!r}")
            if args.seed is not None and args.seed != sim.seed:
                raise UsageError(f"{args.resume}: saved with seed {sim.seed}; drop --seed to continue it")
            return sim, list(extra.get("per_minute", [])), float(extra.get("wall_seconds", 0.0))
        settings = scenario.settings(overrides)
    except (SettingsError, ScenarioError, CheckpointError) as e:
        raise UsageError(str(e)) from None
    seed = 1 if args.seed is None else args.seed
    return Simulation(settings, seed=seed, scenario=scenario.name), [], 0.0


def cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .observers import Checkpointer, MinuteStats, rows_to_csv

    sim, rows, wall_before = _prepare(args)
    out = args.out or Path("replays") / f"{sim.scenario}-{sim.seed}"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{out}: cannot create output folder ({e.strerror})") from None
    stats = MinuteStats(sim, rows)
    sim.add_observer(stats)
    sim.add_observer(Checkpointer(sim, out / "population.npz", args.checkpoint_minutes, stats))
    steps_per_minute = stats.every
    total_steps = int(round(args.minutes * steps_per_minute))

    sim.run(0)  # compile (or load the compiled kernels from cache) before the clock starts
    n_agents = sim.settings.world.agents
    t0 = time.perf_counter()
    bar = tqdm(total=total_steps, unit="step", unit_scale=True, disable=args.quiet,
               desc=f"{sim.scenario} seed {sim.seed}", dynamic_ncols=True)
    interrupted = False
    try:
        done = 0
        chunk = max(1, steps_per_minute // 4)
        while done < total_steps:
            n = min(chunk, total_steps - done)
            sim.run(n)
            done += n
            bar.update(n)
            if stats.rows:
                last = stats.rows[-1]
                bar.set_postfix_str(
                    f"min {last['minute']} deaths {sum(last['deaths'].values())} "
                    f"mean life {last['mean_lifetime_s']:.0f}s", refresh=False)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    total_wall = wall_before + wall
    sim.save(out / "population.npz", extra={"per_minute": stats.rows, "wall_seconds": total_wall})
    metrics = {
        "scenario": sim.scenario,
        "seed": sim.seed,
        "agents": n_agents,
        "sim_minutes": round(sim.sim_seconds / 60.0, 6),
        "wall_seconds": round(total_wall, 3),
        "agent_steps_per_second": round(n_agents * done / wall, 1) if wall > 0 else None,
        "version": __version__,
        "settings": sim.settings.to_dict(),
        "per_minute": stats.rows,
    }
    _write_atomic(out / "metrics.json", json.dumps(metrics, indent=1))
    rows_to_csv(stats.rows, out / "metrics.csv")
    if not args.no_plot and stats.rows:
        from .plots import learning_figure

        learning_figure(stats.rows, out / "learning.png", title=f"{sim.scenario}, seed {sim.seed}")
    if not args.quiet:
        print(f"wrote {out}/ (metrics.json, metrics.csv, population.npz"
              f"{'' if args.no_plot or not stats.rows else ', learning.png'})", file=sys.stderr)
    return 130 if interrupted else 0


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
