"""`neuroevo run`: headless evolution with metrics, plots, periodic checkpoints and an optional recording.

The order of work puts every check before the run: settings, scenario (check_scenario), memory, the saved
population for --resume (validated), then the output folder (chosen so no earlier run is replaced, created,
probed with a real write). During the run:
  - Ctrl-C stops at the next step boundary (never inside the compiled step), writes everything and exits 130; the
    population file resumes to the same run, per-minute rows included;
  - a scenario hook that fails, or runs past --hook-seconds, stops the run: one line, exit 2, metrics so far
    written, the last checkpoint kept;
  - a write that fails (a full disk) stops the run: one line, exit 2, the last good checkpoint kept, nothing
    half-written (every file goes through a temp file and a rename).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from . import __version__, guard
from .args import UsageError

CALL_SECONDS = 0.1  # a headless run's calls of the step: a quarter sim-minute, doubled while one lasts under half
MAX_CALL_MINUTES = 60  # of this many seconds, up to this many sim-minutes


def _prepare(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """Scenario, settings and the world (fresh, or loaded for --resume) and the saved `extra`; UsageError on any
    bad input."""
    from .brainfile import founder_kwargs
    from .check import check_scenario
    from .checkpoint import CheckpointError
    from .declare import SettingsError, parse_set
    from .limits import LimitError, check_settings
    from .scenario import ScenarioError, load_scenario
    from .sim import Simulation, make

    try:
        overrides: dict[str, Any] = parse_set(args.sets)
        if args.agents is not None:
            overrides["world.agents"] = args.agents
        scenario = load_scenario(args.scenario)
        settings = scenario.settings(overrides)  # the file's own settings passed load_scenario: an error is --set's
        check_settings(settings, scenario.n_extra_inputs)  # refuse what cannot fit before allocating anything
        check_scenario(scenario, overrides=overrides)  # runs its hooks on a small world: bad hooks fail here
        if args.resume is not None:
            sim, extra = Simulation.load(args.resume, overrides, hooks=scenario())
            if sim.scenario != scenario.name:
                raise UsageError(f"{args.resume}: saved by scenario {sim.scenario!r}, not {scenario.name!r}")
            if args.seed is not None and args.seed != sim.seed:
                raise UsageError(f"{args.resume}: saved with seed {sim.seed}; drop --seed to continue it")
            return sim, extra
        founders = founder_kwargs(args)
        return make(scenario, seed=1 if args.seed is None else args.seed, overrides=overrides, **founders), {}
    except (SettingsError, ScenarioError, CheckpointError, LimitError) as e:
        raise UsageError(str(e)) from None


def slug(name: str) -> str:
    """A scenario name as part of a folder name (letters, digits, - _ . only)."""
    s = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).lstrip(".-")
    return s[:60] or "scenario"


def output_folder(command: str, requested: Path | None, default: Path, continues_from: Path | None = None,
                  need_bytes: int = 0) -> Path:
    """The folder this command writes into (io.prepare_output): never one holding another run, unless the run
    continues the population saved there (continues_from in it). Says so in one line when it is not `requested`."""
    from .io import OutputError, prepare_output

    want = requested if requested is not None else default

    def continues(folder: Path) -> bool:
        return continues_from is not None and continues_from.resolve().parent == folder.resolve()

    try:
        out = prepare_output(want, continues, need_bytes)
    except OutputError as e:
        raise UsageError(str(e)) from None
    if out != want:
        print(f"neuroevo {command}: {want} holds an earlier run; writing to {out}/", file=sys.stderr)
    return out


def _population_bytes(sim: Any) -> int:
    """Room a checkpoint needs: the file and its temp beside it, uncompressed (an upper bound), plus 64 KB."""
    arrays = [sim.genomes, sim.hof, *sim.state.arrays().values()]
    return 2 * sum(a.nbytes for a in arrays) + (64 << 10)


def cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .checkpoint import CheckpointError, check_savable
    from .observers import Checkpointer, MinuteStats
    from .scenario import ScenarioError

    with guard.deferred():  # Ctrl-C while starting ends here, once the world is whole (nothing written yet)
        sim, extra = _prepare(args)
    out = output_folder("run", args.out, Path("replays") / f"{slug(sim.scenario)}-{sim.seed}", args.resume,
                        _population_bytes(sim))
    wall_before = float(extra.get("wall_seconds", 0.0))
    stats = MinuteStats(sim, extra.get("per_minute", []), extra.get("minute_base"))
    sim.add_observer(stats)
    recorder = None
    if args.record:
        from .replay import Recorder

        # a resumed run may have changed settings on the way: its replay plays, but is not re-simulated from step 0
        recorder = Recorder(sim, out / "replay", origin="run" if args.resume is None else "run-resumed")
        sim.add_observer(recorder)
    ckpt = Checkpointer(sim, out / "population.npz", args.checkpoint_minutes, stats)
    sim.add_observer(ckpt)
    total_steps = int(round(args.minutes * stats.every))
    first_step = sim.step_count
    check_hooks = sim.hooks is not None and bool(type(sim.hooks).hooks_defined())

    sim.compile()  # compile (or load the compiled kernels from cache) before the clock starts
    t0 = time.perf_counter()
    bar = tqdm(total=total_steps, unit="step", unit_scale=True, disable=args.quiet,
               desc=f"{sim.scenario} seed {sim.seed}", dynamic_ncols=True)
    interrupted, failure = False, None
    try:
        chunk = max(1, stats.every // 4)  # steps per call: a quarter sim-minute, more while a call is short
        while (done := sim.step_count - first_step) < total_steps:
            t_call = time.perf_counter()
            sim.run(min(chunk, total_steps - done))
            if time.perf_counter() - t_call < CALL_SECONDS / 2:
                # a call's fixed cost (the team step wakes its helpers and waits for them to leave) is then a
                # smaller share: at 50 agents a quarter minute is ~2 ms, the cost ~0.15 ms
                chunk = min(2 * chunk, MAX_CALL_MINUTES * stats.every)
            if check_hooks:
                check_savable(sim)  # a hook that wrote NaN into the world stops the run here
            bar.update(sim.step_count - first_step - done)
            if stats.rows:
                last = stats.rows[-1]
                bar.set_postfix_str(f"min {last['minute']} deaths {sum(last['deaths'].values())} "
                                    f"mean life {last['mean_lifetime_s']:.0f}s", refresh=False)
    except KeyboardInterrupt:
        interrupted = True
    except (ScenarioError, CheckpointError) as e:  # a hook that fails, hangs or breaks the world later in the run
        failure = str(e)
    except OSError as e:  # a checkpoint or a replay chunk could not be written (a full disk, ...)
        failure = f"{e.filename or out}: {e.strerror or e} while writing"
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    steps = sim.step_count - first_step
    with guard.deferred():  # a second Ctrl-C must not cut the writing short
        written = _write_outputs(args, sim, out, stats, recorder, wall_before + wall, wall, steps,
                                 population=failure is None)
    if failure is not None:
        if ckpt.saved_step is not None:
            kept = f"the last checkpoint is {out}/population.npz (step {ckpt.saved_step:,})"
        else:
            kept = f"{out}/population.npz is kept as it was" if (out / "population.npz").exists() else \
                "no checkpoint was written yet"
        raise UsageError(f"{failure}; stopped at {sim.sim_seconds / 60:.2f} simulated minutes; {kept}"
                         f"{'; metrics so far in ' + str(out) + '/' if written else ''}")
    if interrupted:
        print(f"neuroevo run: interrupted at {sim.sim_seconds / 60:.2f} simulated minutes; everything so far is in "
              f"{out}/ (continue with --resume {out / 'population.npz'})", file=sys.stderr)
        return 130
    if not args.quiet:
        print(f"wrote {out}/ (metrics.json, metrics.csv, population.npz"
              f"{'' if args.no_plot or not stats.rows else ', learning.png'}"
              f"{f', {recorder.path.name}/' if recorder is not None else ''})", file=sys.stderr)
    return 0


def _write_outputs(args: argparse.Namespace, sim: Any, out: Path, stats: Any, recorder: Any, total_wall: float,
                   wall: float, steps: int, population: bool) -> bool:
    """The run's files: the recording closed, population.npz (unless the run failed: then the last checkpoint
    stays), metrics.json/csv and learning.png. After a failure each is best effort, and the return value says
    whether the metrics were written; otherwise a write that fails is one line."""
    from .io import write_json
    from .observers import rows_to_csv

    def metrics() -> None:
        write_json(out / "metrics.json", {
            "scenario": sim.scenario, "seed": sim.seed, "agents": sim.settings.world.agents,
            "sim_minutes": round(sim.sim_seconds / 60.0, 6), "wall_seconds": round(total_wall, 3),
            "agent_steps_per_second": round(sim.settings.world.agents * steps / wall, 1) if wall > 0 else None,
            "version": __version__, "settings": sim.settings.to_dict(), "per_minute": stats.rows,
        })
        rows_to_csv(stats.rows, out / "metrics.csv")
        if not args.no_plot and stats.rows:
            from .plots import learning_figure

            learning_figure(stats.rows, out / "learning.png", title=f"{sim.scenario}, seed {sim.seed}")

    steps_to_do = [] if recorder is None else [recorder.close]
    if population:
        steps_to_do.append(lambda: sim.save(out / "population.npz",
                                            extra={**stats.state(), "wall_seconds": total_wall}))
    steps_to_do.append(metrics)
    ok = True
    for step in steps_to_do:
        try:
            step()
        except OSError as e:
            if not population:  # the run already failed: keep going, the line says what is there
                ok = ok and step is not metrics
                continue
            raise UsageError(f"{e.filename or out}: {e.strerror or e} while writing the results; files already "
                             f"in {out}/ are whole (each is replaced only once its new version is complete)") from None
    return ok
