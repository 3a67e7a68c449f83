"""Command line: `neuroevo run` (headless evolution with metrics, plots, checkpoints) and `neuroevo live` (window)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

from . import __version__, guard
from .args import Parser, UsageError
from .args import float_at_most as _float_at_most
from .args import int_at_least as _int_at_least
from .args import out_dir as _out_dir
from .args import window_size as _window_size

MAX_MINUTES = 1e6  # simulated minutes a run may ask for (about two years)
MAX_AGENTS = 1_000_000  # beyond this, memory runs out first (limits.py checks what fits)
MAX_SEED = 2**63 - 1
MAX_FPS, MAX_SCALE, MAX_EXPORT_PX, MAX_JOBS = 120, 4.0, 8192, 256


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
    r.add_argument("--seed", type=_int_at_least(0, MAX_SEED), default=None,
                   help="random seed (default 1; with --resume: the file's)")
    r.add_argument("--minutes", type=_float_at_most(MAX_MINUTES), default=10.0,
                   help="simulated minutes to run (with --resume: minutes to add); default 10")
    r.add_argument("--agents", type=_int_at_least(1, MAX_AGENTS), default=None, help="population size (default 50)")
    r.add_argument("--out", type=_out_dir, default=None,
                   help="output folder (default replays/<scenario>-<seed>/; a folder holding another run is "
                   "never reused: the run goes to DIR-2, DIR-3, ...)")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. --set encoding=raw --set evolution.sigma=0.1 (README lists keys)")
    r.add_argument("--resume", type=Path, default=None, metavar="FILE",
                   help="continue from a population.npz written by an earlier run")
    r.add_argument("--checkpoint-minutes", type=_float_at_most(MAX_MINUTES), default=5.0,
                   help="also save population.npz every this many simulated minutes (default 5)")
    r.add_argument("--hook-seconds", type=_float_at_most(3600.0), default=guard.DEFAULT_HOOK_SECONDS,
                   help="stop the run when one call of a scenario hook takes longer (default "
                   f"{guard.DEFAULT_HOOK_SECONDS:g} s)")
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
    v.add_argument("scenario", nargs="?", default=None,
                   help="scenario name from scenarios/ or a path to a .py file (default: edges, or with --load "
                   "the file's scenario when it ships with neuroevo)")
    v.add_argument("--seed", type=_int_at_least(0, MAX_SEED), default=None, help="random seed (default 1)")
    v.add_argument("--agents", type=_int_at_least(1, MAX_AGENTS), default=None, help="population size (default 50)")
    v.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting (README lists keys)")
    v.add_argument("--load", type=Path, default=None, metavar="FILE",
                   help="start from a population.npz (saved by S, by autosave or by `neuroevo run`)")
    v.add_argument("--out", type=_out_dir, default=None,
                   help="where S, autosave and P write (default replays/live-<scenario>-<seed>/; a folder "
                   "holding another run or session is never reused: DIR-2, DIR-3, ...)")
    v.add_argument("--size", type=_window_size, default=(1280, 720), metavar="WxH",
                   help="initial window size in pixels (default 1280x720; the window is resizable)")
    v.add_argument("--speed", type=int, choices=(1, 2, 4, 8, 16, 32, 64), default=1,
                   help="initial speed: simulation steps per frame (default 1)")
    v.add_argument("--bot", action="store_true",
                   help="start with the hunter bot as the cursor instead of your mouse (C toggles)")
    v.add_argument("--no-autosave", action="store_true", help="do not save the population on quit")
    add_founder_args(v)
    v.add_argument("--hook-seconds", type=_float_at_most(3600.0), default=guard.DEFAULT_HOOK_SECONDS,
                   help=f"time limit of one scenario hook call (default {guard.DEFAULT_HOOK_SECONDS:g} s)")

    p_ = sub.add_parser(
        "replay", help="play a recorded run back, or export it as GIF/MP4",
        description="Play a replay folder (from `neuroevo run --record` or R in `neuroevo live`) in the viewer, "
        "or with --export render it to a GIF (Pillow) or MP4 (imageio-ffmpeg) without opening a window.",
    )
    p_.add_argument("path", type=Path, help="replay folder (holding meta.json and chunk-*.npz)")
    p_.add_argument("--export", type=Path, default=None, metavar="OUT", help="write OUT.gif or OUT.mp4 instead")
    p_.add_argument("--tree", type=Path, default=None, metavar="PNG",
                    help="write the family tree of the run to PNG (with --export or alone: no window)")
    p_.add_argument("--from", dest="start", type=_float_at_most(1e9, allow_zero=True), default=0.0, metavar="S",
                    help="export from S seconds into the replay (default 0)")
    p_.add_argument("--to", dest="end", type=_float_at_most(1e9), default=None, metavar="S",
                    help="export up to S seconds into the replay (default: the end)")
    p_.add_argument("--fps", type=_int_at_least(1, MAX_FPS), default=30,
                    help=f"export frames per second (default 30, at most {MAX_FPS})")
    p_.add_argument("--scale", type=_float_at_most(MAX_SCALE), default=0.5,
                    help=f"export size relative to the world's pixels (default 0.5, at most {MAX_SCALE:g})")
    p_.add_argument("--no-hud", action="store_true", help="export the world only (no HUD, chart, seek bar)")
    p_.add_argument("--size", type=_window_size, default=(1280, 720), metavar="WxH", help="window size")
    p_.add_argument("--quiet", action="store_true", help="no progress bar")

    w = sub.add_parser(
        "sweep", help="many runs (a grid of settings x seeds) in parallel, with 95% confidence intervals",
        description="Run every combination of a sweep spec's [grid] settings for each seed, on a local process "
        "pool or on Ray, then write summary.csv, summary.md and summary.png. Finished runs are kept in "
        "OUT/<setting>/seed-<n>/result.json and skipped when the sweep runs again, so a killed sweep resumes.",
    )
    w.add_argument("spec", type=Path, help="sweep spec (TOML), e.g. sweeps/encoding.toml")
    w.add_argument("--jobs", type=_int_at_least(1, MAX_JOBS), default=os.cpu_count() or 1,
                   help="runs at a time on the local pool / Ray CPUs to start (default: CPU count)")
    w.add_argument("--engine", choices=("local", "ray", "serial"), default="local",
                   help="local process pool (default), ray (pip install 'neuroevo[ray]'), or serial in-process")
    w.add_argument("--address", default=None,
                   help="join this Ray cluster (default: start a local Ray that listens on 127.0.0.1 only)")
    w.add_argument("--out", type=_out_dir, default=None,
                   help="output folder (default replays/sweep-<name>/; the same spec resumes there, another "
                   "sweep goes to DIR-2, DIR-3, ...)")
    w.add_argument("--seeds", type=_int_at_least(1, 10_000), default=None, help="override the spec: seeds 1..N")
    w.add_argument("--minutes", type=_float_at_most(MAX_MINUTES), default=None,
                   help="override the spec's run length")
    w.add_argument("--data", type=Path, default=None, help="mnist sweeps: the IDX folder (overrides the spec)")
    w.add_argument("--quiet", action="store_true", help="no progress bar or table")

    from .mnist.cli import add_parser as add_mnist_parser

    add_mnist_parser(sub)
    from .envs import checkcmd

    checkcmd.add_parser(sub)
    add_brain_parser(sub)
    return p



def main(argv: list[str] | None = None) -> int:
    """The `neuroevo` command; returns the exit code (2: bad input, 130: interrupted)."""
    code = _main(argv)
    if code == 130 and argv is None:  # a second Ctrl-C while the interpreter exits must not turn 130 into a crash
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code


def _main(argv: list[str] | None) -> int:
    command = "?"
    try:
        args = build_parser().parse_args(argv)
        command = args.command
        guard.set_hook_seconds(getattr(args, "hook_seconds", guard.DEFAULT_HOOK_SECONDS))
        if args.command == "run":
            from .cli_run import cmd_run

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
        print(f"neuroevo {command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"neuroevo {command}: interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # a file that could not be written or read, named (the writers name the target file)
        where = f"{e.filename}: " if e.filename else ""
        print(f"neuroevo {command}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"neuroevo {command}: error: out of memory (fewer agents, smaller layers or a shorter export)",
              file=sys.stderr)
        return 2
    return 2


def cmd_sweep(args: argparse.Namespace) -> int:
    import importlib.util

    from .sweep import SweepError, load_spec, summarize, write_summary
    from .sweep_run import mark, run_sweep, same_sweep

    if args.engine == "ray" and importlib.util.find_spec("ray") is None:  # found, not imported: see sweep_run._ray
        raise UsageError("--engine ray needs Ray: pip install 'neuroevo[ray]'")
    try:
        spec = load_spec(args.spec, seeds=args.seeds, minutes=args.minutes, data=args.data)
    except SweepError as e:
        raise UsageError(str(e)) from None
    from .io import OutputError, prepare_output

    want = args.out or Path("replays") / f"sweep-{spec.name}"
    try:
        out = prepare_output(want, lambda folder: same_sweep(folder, spec))
    except OutputError as e:
        raise UsageError(str(e)) from None
    if out != want:
        print(f"neuroevo sweep: {want} holds another sweep; writing to {out}/", file=sys.stderr)
    mark(out, spec)
    n = len(spec.tasks())

    def damaged(path: Path) -> None:
        print(f"neuroevo sweep: {path}: damaged result; running it again", file=sys.stderr)

    try:
        results, skipped = run_sweep(spec, out, jobs=args.jobs, engine=args.engine, address=args.address,
                                     progress=not args.quiet, on_damaged=damaged)
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
        if args.export.is_dir():
            raise UsageError(f"{args.export}: is a folder; --export names the file to write")
        if not args.export.parent.is_dir():
            raise UsageError(f"{args.export.parent}: no such folder")
        w = replay.settings.world
        if max(w.width, w.height) * args.scale > MAX_EXPORT_PX:
            raise UsageError(f"--scale {args.scale:g} makes {w.width * args.scale:.0f}x{w.height * args.scale:.0f} "
                             f"px frames (at most {MAX_EXPORT_PX} a side); use a smaller --scale")
        from .io import OutputError, probe_writable

        try:
            probe_writable(args.export.parent)
        except OutputError as e:
            raise UsageError(str(e)) from None
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
    from .cli_run import output_folder, slug

    with guard.deferred():  # Ctrl-C while starting ends once the world is whole
        sim, overrides, scenario_path = _live_world(args)
    from .ui.live import LiveWindow as Viewer
    from .ui.window import display_available

    why = display_available()
    if why is not None:
        raise UsageError(f"{why}; the live viewer needs a screen. For headless evolution use "
                         f"`neuroevo run {args.scenario or 'edges'}`")
    # the folder comes from the scenario's code and a checked seed, never from names inside the loaded file
    out = output_folder("live", args.out, Path("replays") / f"live-{slug(sim.scenario)}-{sim.seed}", args.load)
    viewer = Viewer(sim, size=args.size, out_dir=out, load_path=args.load, autosave=not args.no_autosave,
                    speed=args.speed, human=False if args.bot else None, scenario_path=scenario_path,
                    overrides=overrides)
    try:
        return viewer.run()
    except KeyboardInterrupt:
        viewer.close()
        return 130


def _live_world(args: argparse.Namespace) -> tuple[Any, dict[str, Any], Path]:
    """The live session's world: a fresh one, or --load's population under the scenario that saved it."""
    from .brainfile import founder_kwargs
    from .check import check_scenario
    from .checkpoint import CheckpointError, read_meta
    from .declare import SettingsError, parse_set
    from .limits import LimitError, check_settings
    from .scenario import ScenarioError, find_scenario, load_scenario, shipped
    from .sim import Simulation, make

    try:
        overrides: dict[str, Any] = parse_set(args.sets)
        if args.agents is not None:
            overrides["world.agents"] = args.agents
        name = args.scenario
        if args.load is not None:
            saved_by = read_meta(args.load)["scenario"]
            if name is None:  # a name read from a file only ever resolves to a scenario that ships with neuroevo
                if shipped(saved_by) is None:
                    raise UsageError(f"{args.load}: saved by scenario {saved_by!r}, which does not ship with "
                                     f"neuroevo; name its file: neuroevo live path/to/{saved_by}.py --load {args.load}")
                name = str(shipped(saved_by))
        name = name or "edges"
        scenario = load_scenario(name)
        check_settings(scenario.settings(overrides), scenario.n_extra_inputs)
        check_scenario(scenario, overrides=overrides)
        if args.load is not None:
            sim, _ = Simulation.load(args.load, overrides, hooks=scenario())
            if sim.scenario != scenario.name:
                raise UsageError(f"{args.load}: saved by scenario {sim.scenario!r}, not {scenario.name!r}")
            if args.seed is not None and args.seed != sim.seed:
                raise UsageError(f"{args.load}: saved with seed {sim.seed}; drop --seed to continue it")
        else:
            sim = make(scenario, seed=1 if args.seed is None else args.seed, overrides=overrides,
                       **founder_kwargs(args))
        return sim, overrides, find_scenario(name)
    except (SettingsError, ScenarioError, CheckpointError, LimitError) as e:
        raise UsageError(str(e)) from None


if __name__ == "__main__":
    sys.exit(main())
