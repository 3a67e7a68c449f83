"""Command line: `neuroevo run` (headless evolution with metrics, plots, checkpoints) and `neuroevo live` (window)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import __version__
from .args import Parser, UsageError
from .args import int_at_least as _int_at_least
from .args import nonnegative_float as _nonnegative_float
from .args import positive_float as _positive_float
from .args import window_size as _window_size


def build_parser() -> Parser:
    from .brainfile import add_brain_parser, add_founder_args

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
    r.add_argument("--record", action="store_true",
                   help="also record a replay into DIR/replay/ (every step; `neuroevo replay DIR/replay` plays it)")
    add_founder_args(r)

    v = sub.add_parser(
        "live", help="watch the smileys learn in a window and hunt them with the mouse",
        description="Open a window onto a live simulation. Your mouse is the cursor the smileys sense; a left "
        "click kills the agents under it. H shows the controls.",
    )
    v.add_argument("scenario", nargs="?", default="edges",
                   help="scenario name from scenarios/ or a path to a .py file (default: edges)")
    v.add_argument("--seed", type=_int_at_least(0), default=None, help="random seed (default 1)")
    v.add_argument("--agents", type=_int_at_least(1), default=None, help="population size (default 50)")
    v.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting (README lists keys)")
    v.add_argument("--load", type=Path, default=None, metavar="FILE",
                   help="start from a population.npz (saved by S, by autosave or by `neuroevo run`)")
    v.add_argument("--out", type=Path, default=None,
                   help="where S, autosave and P write (default replays/live-<scenario>-<seed>/)")
    v.add_argument("--size", type=_window_size, default=(1280, 720), metavar="WxH",
                   help="initial window size in pixels (default 1280x720; the window is resizable)")
    v.add_argument("--speed", type=int, choices=(1, 2, 4, 8, 16, 32, 64), default=1,
                   help="initial speed: simulation steps per frame (default 1)")
    v.add_argument("--bot", action="store_true",
                   help="start with the hunter bot as the cursor instead of your mouse (C toggles)")
    v.add_argument("--no-autosave", action="store_true", help="do not save the population on quit")
    add_founder_args(v)

    p_ = sub.add_parser(
        "replay", help="play a recorded run back, or export it as GIF/MP4",
        description="Play a replay folder (from `neuroevo run --record` or R in `neuroevo live`) in the viewer, "
        "or with --export render it to a GIF (Pillow) or MP4 (imageio-ffmpeg) without opening a window.",
    )
    p_.add_argument("path", type=Path, help="replay folder (holding meta.json and chunk-*.npz)")
    p_.add_argument("--export", type=Path, default=None, metavar="OUT", help="write OUT.gif or OUT.mp4 instead")
    p_.add_argument("--from", dest="start", type=_nonnegative_float, default=0.0, metavar="S",
                    help="export from S seconds into the replay (default 0)")
    p_.add_argument("--to", dest="end", type=_positive_float, default=None, metavar="S",
                    help="export up to S seconds into the replay (default: the end)")
    p_.add_argument("--fps", type=_int_at_least(1), default=30, help="export frames per second (default 30)")
    p_.add_argument("--scale", type=_positive_float, default=0.5,
                    help="export size relative to the world's pixels (default 0.5)")
    p_.add_argument("--no-hud", action="store_true", help="export the world only (no HUD, chart, seek bar)")
    p_.add_argument("--size", type=_window_size, default=(1280, 720), metavar="WxH", help="window size")
    p_.add_argument("--quiet", action="store_true", help="no progress bar")
    p_.add_argument("--tree", type=Path, default=None, metavar="PNG",
                    help="write the family tree of the run to PNG (with --export or alone: no window)")

    w = sub.add_parser(
        "sweep", help="many runs (a grid of settings x seeds) in parallel, with 95% confidence intervals",
        description="Run every combination of a sweep spec's [grid] settings for each seed, on a local process "
        "pool or on Ray, then write summary.csv, summary.md and summary.png. Finished runs are kept in "
        "OUT/<setting>/seed-<n>/result.json and skipped when the sweep runs again, so a killed sweep resumes.",
    )
    w.add_argument("spec", type=Path, help="sweep spec (TOML), e.g. sweeps/encoding.toml")
    w.add_argument("--jobs", type=_int_at_least(1), default=os.cpu_count() or 1,
                   help="runs at a time on the local pool / Ray CPUs to start (default: CPU count)")
    w.add_argument("--engine", choices=("local", "ray", "serial"), default="local",
                   help="local process pool (default), ray (pip install 'neuroevo[ray]'), or serial in-process")
    w.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray)")
    w.add_argument("--out", type=Path, default=None, help="output folder (default replays/sweep-<name>/)")
    w.add_argument("--seeds", type=_int_at_least(1), default=None, help="override the spec: seeds 1..N")
    w.add_argument("--minutes", type=_positive_float, default=None, help="override the spec's run length")
    w.add_argument("--data", type=Path, default=None, help="mnist sweeps: the IDX folder (overrides the spec)")
    w.add_argument("--quiet", action="store_true", help="no progress bar or table")

    from .mnist.cli import add_parser as add_mnist_parser

    add_mnist_parser(sub)
    from .envs import checkcmd

    checkcmd.add_parser(sub)
    add_brain_parser(sub)
    return p



def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "live":
            return cmd_live(args)
        if args.command == "replay":
            return cmd_replay(args)
        if args.command == "sweep":
            return cmd_sweep(args)
        if args.command == "mnist":
            from .mnist.cli import main as mnist_main

            return mnist_main(args)
        if args.command == "check":
            from .envs import checkcmd

            return checkcmd.main(args)
        if args.command == "brain":
            from .brainfile import main as brain_main

            return brain_main(args)
    except UsageError as e:
        print(f"neuroevo {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 2


def cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import SweepError, load_spec, run_sweep, summarize, write_summary

    if args.engine == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UsageError("--engine ray needs Ray: pip install 'neuroevo[ray]'") from None
    try:
        spec = load_spec(args.spec, seeds=args.seeds, minutes=args.minutes, data=args.data)
    except SweepError as e:
        raise UsageError(str(e)) from None
    out = args.out or Path("replays") / f"sweep-{spec.name}"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{out}: cannot create output folder ({e.strerror})") from None
    n = len(spec.tasks())
    try:
        results, skipped = run_sweep(spec, out, jobs=args.jobs, engine=args.engine, address=args.address,
                                     progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"neuroevo sweep: interrupted; finished runs are kept in {out}/ and skipped next time",
              file=sys.stderr)
        return 130
    except SweepError as e:
        raise UsageError(str(e)) from None
    rows = summarize(spec, results)
    csv_path, md_path, png_path = write_summary(spec, rows, out)
    if not args.quiet:
        print(md_path.read_text())
        print(f"{n} runs ({skipped} already finished, skipped); wrote {csv_path}, {md_path}, {png_path}",
              file=sys.stderr)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from .replay import ReplayError
    from .replay import open as open_replay

    try:
        replay = open_replay(args.path)
    except ReplayError as e:
        raise UsageError(str(e)) from None
    if args.tree is not None:
        from .web import write_tree

        write_tree(replay, args.tree, quiet=args.quiet)
        if args.export is None:
            return 0
    if args.export is not None and args.export.suffix.lower() == ".html":
        from .web import cmd_export_html

        return cmd_export_html(replay, args)
    if args.export is not None:
        if args.export.suffix.lower() not in (".gif", ".mp4"):
            raise UsageError(f"{args.export}: --export writes a .gif, an .mp4 or an .html file")
        if args.export.suffix.lower() == ".mp4":
            try:
                import imageio_ffmpeg  # noqa: F401
            except ImportError:
                raise UsageError("MP4 export needs the imageio-ffmpeg package (it ships ffmpeg): "
                                 "pip install 'neuroevo[video]'; GIF export works without it") from None
        if args.end is not None and args.end <= args.start:
            raise UsageError(f"--to {args.end} must be after --from {args.start}")
        if not args.export.parent.is_dir():
            raise UsageError(f"{args.export.parent}: no such folder")
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # exporting never needs a screen
        from .ui.export import export_video

        try:
            n = export_video(replay, args.export, start_s=args.start, end_s=args.end, fps=args.fps,
                             scale=args.scale, hud=not args.no_hud, progress=not args.quiet)
        except ReplayError as e:
            raise UsageError(str(e)) from None
        except ValueError as e:
            raise UsageError(str(e)) from None
        except KeyboardInterrupt:
            print(f"neuroevo replay: export interrupted; {args.export} not written", file=sys.stderr)
            return 130
        if not args.quiet:
            size = args.export.stat().st_size
            print(f"wrote {args.export} ({n} frames, {size / 1e6:.2f} MB)", file=sys.stderr)
        return 0
    from .ui.playback import PlaybackWindow as PlaybackViewer
    from .ui.window import display_available

    why = display_available()
    if why is not None:
        raise UsageError(f"{why}; playback needs a screen. `neuroevo replay {args.path} --export out.gif` works "
                         "without one")
    viewer = PlaybackViewer(replay, size=args.size)
    try:
        return viewer.run()
    except ReplayError as e:
        raise UsageError(str(e)) from None
    except KeyboardInterrupt:
        return 130


def cmd_live(args: argparse.Namespace) -> int:
    from .brainfile import founder_kwargs
    from .check import check_scenario
    from .checkpoint import CheckpointError
    from .config import SettingsError, parse_set
    from .scenario import ScenarioError, load_scenario
    from .sim import Simulation, make

    try:
        overrides: dict[str, Any] = parse_set(args.sets)
        if args.agents is not None:
            overrides["world.agents"] = args.agents
        founders = founder_kwargs(args)
        scenario = load_scenario(args.scenario)
        scenario.settings(overrides)
        check_scenario(scenario, overrides=overrides)
        if args.load is not None:
            sim, _ = Simulation.load(args.load, overrides, hooks=scenario())
        else:
            sim = make(scenario, seed=1 if args.seed is None else args.seed, overrides=overrides, **founders)
    except (SettingsError, ScenarioError, CheckpointError) as e:
        raise UsageError(str(e)) from None
    from .ui.live import LiveWindow as Viewer
    from .ui.window import display_available

    why = display_available()
    if why is not None:
        raise UsageError(f"{why}; the live viewer needs a screen. For headless evolution use "
                         f"`neuroevo run {args.scenario}`")
    from .scenario import find_scenario

    viewer = Viewer(sim, size=args.size, out_dir=args.out, load_path=args.load, autosave=not args.no_autosave,
                    speed=args.speed, human=False if args.bot else None, scenario_path=find_scenario(args.scenario),
                    overrides=overrides)
    try:
        return viewer.run()
    except KeyboardInterrupt:
        viewer.close()
        return 130


def _prepare(args: argparse.Namespace):
    """Resolve scenario, settings and (for --resume) the saved population; UsageError on any bad input."""
    from .brainfile import founder_kwargs
    from .check import check_scenario
    from .checkpoint import CheckpointError
    from .config import SettingsError, parse_set
    from .scenario import ScenarioError, load_scenario
    from .sim import Simulation, make

    try:
        overrides: dict[str, Any] = parse_set(args.sets)
        if args.agents is not None:
            overrides["world.agents"] = args.agents
        founders = founder_kwargs(args)
        scenario = load_scenario(args.scenario)
        scenario.settings(overrides)  # the file's own settings passed load_scenario: an error here is from --set
        check_scenario(scenario, overrides=overrides)  # runs its hooks on a small world: bad hooks fail here
        if args.resume is not None:
            sim, extra = Simulation.load(args.resume, overrides, hooks=scenario())
            if sim.scenario != scenario.name:
                raise UsageError(f"{args.resume}: saved by scenario {sim.scenario!r}, not {scenario.name!r}")
            if args.seed is not None and args.seed != sim.seed:
                raise UsageError(f"{args.resume}: saved with seed {sim.seed}; drop --seed to continue it")
            return sim, list(extra.get("per_minute", [])), float(extra.get("wall_seconds", 0.0))
        sim = make(scenario, seed=1 if args.seed is None else args.seed, overrides=overrides, **founders)
    except (SettingsError, ScenarioError, CheckpointError) as e:
        raise UsageError(str(e)) from None
    return sim, [], 0.0


def cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .io import write_json
    from .observers import Checkpointer, MinuteStats, rows_to_csv
    from .scenario import ScenarioError

    sim, rows, wall_before = _prepare(args)
    out = args.out or Path("replays") / f"{sim.scenario}-{sim.seed}"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{out}: cannot create output folder ({e.strerror})") from None
    stats = MinuteStats(sim, rows)
    sim.add_observer(stats)
    recorder = None
    if args.record:
        from .replay import Recorder

        # a resumed run may have changed settings on the way: its replay plays, but is not re-simulated from step 0
        recorder = Recorder(sim, out / "replay", origin="run" if args.resume is None else "run-resumed")
        sim.add_observer(recorder)
    sim.add_observer(Checkpointer(sim, out / "population.npz", args.checkpoint_minutes, stats))
    steps_per_minute = stats.every
    total_steps = int(round(args.minutes * steps_per_minute))

    sim.compile()  # compile (or load the compiled kernels from cache) before the clock starts
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
    except ScenarioError as e:  # a hook that fails or misbehaves later in the run
        bar.close()
        raise UsageError(str(e)) from None
    finally:
        bar.close()
        if recorder is not None:
            recorder.close()
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
    write_json(out / "metrics.json", metrics)
    rows_to_csv(stats.rows, out / "metrics.csv")
    if not args.no_plot and stats.rows:
        from .plots import learning_figure

        learning_figure(stats.rows, out / "learning.png", title=f"{sim.scenario}, seed {sim.seed}")
    if not args.quiet:
        print(f"wrote {out}/ (metrics.json, metrics.csv, population.npz"
              f"{'' if args.no_plot or not stats.rows else ', learning.png'}"
              f"{f', {recorder.path.name}/' if recorder is not None else ''})", file=sys.stderr)
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
