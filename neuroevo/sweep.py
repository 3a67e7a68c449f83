"""Sweeps: a grid of settings x seeds run in parallel (a local process pool, or Ray), resumable, with CIs.

A sweep spec is a TOML file::

    name = "encoding"            # optional; the output folder defaults to replays/sweep-<name>
    command = "run"              # each run is `neuroevo run SCENARIO --minutes M --set ...`
    scenario = "edges"
    minutes = 10
    seeds = 10                   # seeds 1..10, or a list such as [1, 2, 3]
    metrics = ["quiet_minute", "edge_deaths_1_5"]

    [grid]                       # every combination of these --set values is one setting
    "brain.encoding" = ["inverse", "raw"]

With `command = "mnist"` a run is one training of `neuroevo mnist` instead: the grid takes `method` (ga, es,
backprop) and `hidden` ("32", "10,10", ...), the spec `budget_forwards` (a budget in forward-pass equivalents, so
the run is reproducible to the bit, unlike seconds), `activation`, `val` and `data` (an IDX folder; `--data`
overrides it).

Every run is a pure function of its task (command, scenario or data, settings, seed, length), so it gives the same
result in a worker process, on a Ray cluster or run one by one; the driver writes each finished run's result.json
(temp file + rename) and skips runs whose result.json already exists, so a killed sweep resumes where it stopped.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

COMMANDS = ("run", "mnist")
MNIST_GRID = ("method", "hidden")
MNIST_METRICS = {
    "test_accuracy": "test accuracy (scored once, at the end)",
    "val_accuracy": "validation accuracy of the returned net",
    "train_accuracy": "training accuracy of the returned net",
}


class SweepError(ValueError):
    """A sweep spec that cannot be used; the message names the file."""


# ---- metrics of one run ----------------------------------------------------------------------------------------
def _deaths(rows: list[dict[str, Any]], cause: str) -> np.ndarray:
    return np.array([r["deaths"].get(cause, 0) for r in rows], np.float64)


def quiet_minute(rows: list[dict[str, Any]]) -> float:
    """First minute with at most 1 edge death; runs that never get there count as one minute past their end."""
    edge = _deaths(rows, "edge")
    hit = np.flatnonzero(edge <= 1)
    return float(hit[0] + 1) if hit.size else float(len(rows) + 1)


def kill_ratio(rows: list[dict[str, Any]]) -> float:
    """Cursor kills per minute in the last 3 minutes over the first 3 (lower = learned to dodge)."""
    k = _deaths(rows, "cursor")
    if k.size < 6:
        return math.nan
    first = k[:3].mean()
    return float(k[-3:].mean() / first) if first > 0 else math.nan


RUN_METRICS: dict[str, tuple[Callable[[list[dict[str, Any]]], float], str]] = {
    "quiet_minute": (quiet_minute, "first minute with <= 1 edge death"),
    "kill_ratio": (kill_ratio, "cursor kills/min, last 3 over first 3 minutes"),
    "edge_deaths_1_5": (lambda rows: float(_deaths(rows, "edge")[:5].sum()) if len(rows) >= 5 else math.nan,
                        "edge deaths in minutes 1-5"),
    "kills_late": (lambda rows: float(_deaths(rows, "cursor")[-3:].mean()) if len(rows) >= 3 else math.nan,
                   "cursor kills/min, last 3 minutes"),
    "mean_lifetime_end_s": (lambda rows: float(rows[-1]["mean_lifetime_s"]), "mean age of the living at the end"),
}


# ---- the spec ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One run of a sweep: everything that determines its result."""

    command: str
    scenario: str
    minutes: float
    setting: tuple[tuple[str, Any], ...]  # (key, value) overrides, in grid order
    seed: int
    agents: int | None = None
    options: tuple[tuple[str, Any], ...] = ()  # command options that are not swept (mnist: data, budget, ...)

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={_fmt(v)}" for k, v in self.setting) or "defaults"

    @property
    def folder(self) -> str:
        slug = "_".join(f"{k.split('.')[-1]}-{_fmt(v)}" for k, v in self.setting) or "defaults"
        return "".join(c if c.isalnum() or c in "-_.," else "-" for c in slug)

    def key(self) -> str:
        """A hash of everything the result depends on: the task, the program version and the scenario file's text
        (a result.json with another key is redone, so editing a scenario or upgrading reruns its runs)."""
        from . import __version__
        from .scenario import ScenarioError, find_scenario

        try:
            source = find_scenario(self.scenario).read_bytes()
        except (ScenarioError, OSError):
            source = b""
        if self.command == "mnist":
            source = b""
        blob = json.dumps([self.command, self.scenario, self.minutes, self.setting, self.seed, self.agents,
                           self.options, __version__, hashlib.sha1(source).hexdigest()], default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


@dataclass
class Spec:
    path: Path
    name: str
    command: str
    scenario: str
    minutes: float
    seeds: list[int]
    grid: dict[str, list[Any]]
    metrics: list[str]
    agents: int | None = None
    options: tuple[tuple[str, Any], ...] = ()

    def tasks(self) -> list[Task]:
        keys = list(self.grid)
        combos = list(itertools.product(*(self.grid[k] for k in keys))) if keys else [()]
        return [Task(self.command, self.scenario, self.minutes, tuple(zip(keys, combo)), seed, self.agents,
                     self.options) for combo in combos for seed in self.seeds]

    def describe(self) -> str:
        if self.command == "mnist":
            opts = dict(self.options)
            return f"mnist, {opts['budget_forwards']:.3g} forward-pass equivalents per run"
        return f"{self.command} {self.scenario}, {self.minutes:g} simulated minutes"


def metric_doc(name: str) -> str:
    return RUN_METRICS[name][1] if name in RUN_METRICS else MNIST_METRICS[name]


def load_spec(path: str | Path, seeds: int | None = None, minutes: float | None = None,
              data: str | Path | None = None) -> Spec:
    """Read and check a sweep spec; SweepError names the file and the problem."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    from .config import SettingsError, override, resolve_key
    from .scenario import ScenarioError, load_scenario

    override_data = data
    p = Path(path)
    if not p.is_file():
        raise SweepError(f"{p}: no such sweep spec")
    try:
        data = tomllib.loads(p.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise SweepError(f"{p}: not a valid TOML file ({e})") from None
    known = {"name", "command", "scenario", "minutes", "seeds", "grid", "metrics", "agents", "budget_forwards",
             "activation", "val", "data"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SweepError(f"{p}: unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})")
    command = data.get("command", "run")
    if command not in COMMANDS:
        raise SweepError(f"{p}: command must be one of {', '.join(COMMANDS)}, got {command!r}")
    raw_seeds = data.get("seeds", 3) if seeds is None else seeds
    if isinstance(raw_seeds, int) and not isinstance(raw_seeds, bool) and raw_seeds >= 1:
        seed_list = list(range(1, raw_seeds + 1))
    elif isinstance(raw_seeds, list) and raw_seeds and all(isinstance(s, int) and s >= 0 for s in raw_seeds):
        seed_list = list(raw_seeds)
    else:
        raise SweepError(f"{p}: seeds must be a count >= 1 or a list of seeds >= 0, got {raw_seeds!r}")
    mins = data.get("minutes", 10) if minutes is None else minutes
    if not isinstance(mins, (int, float)) or isinstance(mins, bool) or not 0 < mins < 1e6:
        raise SweepError(f"{p}: minutes must be a positive number, got {mins!r}")
    agents = data.get("agents")
    if agents is not None and (not isinstance(agents, int) or agents < 1):
        raise SweepError(f"{p}: agents must be a whole number >= 1, got {agents!r}")
    grid_raw = data.get("grid", {})
    if not isinstance(grid_raw, dict):
        raise SweepError(f"{p}: [grid] must be a table of key = [values]")
    name = str(data.get("name", p.stem))
    if command == "mnist":
        return _mnist_spec(p, data, name, seed_list, grid_raw, override_data)
    scenario_name = data.get("scenario", "edges")
    try:
        scenario = load_scenario(str(scenario_name))
        base = scenario.settings({})
    except (ScenarioError, SettingsError) as e:
        raise SweepError(f"{p}: {e}") from None
    grid: dict[str, list[Any]] = {}
    for k, values in grid_raw.items():
        if not isinstance(values, list) or not values:
            raise SweepError(f"{p}: grid.{k} must be a non-empty list of values")
        try:
            key = resolve_key(k)
            for v in values:
                override(base, {key: v})
        except SettingsError as e:
            raise SweepError(f"{p}: grid: {e}") from None
        grid[key] = values
    metrics = data.get("metrics", ["quiet_minute"])
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, list):
        raise SweepError(f"{p}: metrics must be a list of names (known: {', '.join(RUN_METRICS)})")
    bad = [m for m in metrics if m not in RUN_METRICS]
    if bad or not metrics:
        raise SweepError(f"{p}: unknown metric {bad[0] if bad else ''!r} (known: {', '.join(RUN_METRICS)})")
    return Spec(p, name, command, str(scenario_name), float(mins), seed_list, grid, list(metrics), agents)


def _mnist_spec(p: Path, data: dict[str, Any], name: str, seeds: list[int], grid_raw: dict[str, Any],
                override_data: str | Path | None) -> Spec:
    """The mnist flavour of a spec: grid over method and hidden; a forward-pass budget (reproducible runs)."""
    for k, values in grid_raw.items():
        if k not in MNIST_GRID:
            raise SweepError(f"{p}: grid.{k}: an mnist sweep varies {' and '.join(MNIST_GRID)}")
        if not isinstance(values, list) or not values:
            raise SweepError(f"{p}: grid.{k} must be a non-empty list of values")
    for m in grid_raw.get("method", []):
        if m not in ("ga", "es", "backprop"):
            raise SweepError(f"{p}: grid.method: {m!r} is not ga, es or backprop")
    grid = {k: [str(v) for v in vals] for k, vals in grid_raw.items()}
    for h in grid.get("hidden", []):
        try:
            widths = [int(x) for x in h.split(",")]
        except ValueError:
            widths = []
        if not widths or min(widths) < 1:
            raise SweepError(f"{p}: grid.hidden: {h!r} is not a list of widths such as \"32\" or \"10,10\"")
    budget = data.get("budget_forwards")
    if not isinstance(budget, (int, float)) or isinstance(budget, bool) or budget <= 0:
        raise SweepError(f"{p}: an mnist sweep needs budget_forwards = a positive number (forward-pass "
                         f"equivalents per run; seconds would not be reproducible)")
    activation = data.get("activation", "relu")
    if activation not in ("relu", "tanh", "sigmoid"):
        raise SweepError(f"{p}: activation must be relu, tanh or sigmoid, got {activation!r}")
    val = data.get("val", 4000)
    if not isinstance(val, int) or val < 1:
        raise SweepError(f"{p}: val must be a whole number >= 1, got {val!r}")
    folder = override_data if override_data is not None else data.get("data")
    if folder is not None:
        folder = Path(folder)
        if not folder.is_absolute() and override_data is None:
            folder = (p.parent / folder).resolve()  # a spec's data path is relative to the spec
        folder = str(folder)
    metrics = data.get("metrics", ["test_accuracy"])
    metrics = [metrics] if isinstance(metrics, str) else metrics
    bad = [m for m in metrics if m not in MNIST_METRICS] if isinstance(metrics, list) else ["?"]
    if bad or not metrics:
        raise SweepError(f"{p}: unknown metric {bad[0] if bad else ''!r} (known: {', '.join(MNIST_METRICS)})")
    options = (("budget_forwards", float(budget)), ("activation", activation), ("val", val), ("data", folder))
    return Spec(p, name, "mnist", "mnist", 0.0, seeds, grid, list(metrics), None, options)


# ---- running one task ------------------------------------------------------------------------------------------
def execute(task: Task) -> dict[str, Any]:
    """Run one task in this process and return its result (per-minute rows and every known metric).

    Pure: the result depends on the task only (one seeded Generator, bit-identical kernels at any thread count).
    """
    if task.command == "mnist":
        return _execute_mnist(task)
    from .observers import run_minutes
    from .sim import make

    overrides = dict(task.setting)
    if task.agents is not None:
        overrides["world.agents"] = task.agents
    sim = make(task.scenario, seed=task.seed, overrides=overrides)
    rows = run_minutes(sim, task.minutes)
    with np.errstate(all="ignore"):  # a run shorter than a metric's window gives NaN, not a warning
        metrics = {name: fn(rows) if rows else math.nan for name, (fn, _) in RUN_METRICS.items()}
    return {"key": task.key(), "command": task.command, "scenario": task.scenario, "minutes": task.minutes,
            "setting": [[k, v] for k, v in task.setting], "seed": task.seed, "metrics": metrics,
            "per_minute": rows, "genome_sha1": hashlib.sha1(sim.genomes.tobytes()).hexdigest()}


@functools.lru_cache(maxsize=2)
def _mnist_data(folder: str | None, n_val: int) -> Any:
    from .mnist.data import load_or_download

    return load_or_download(folder, n_val)


def _execute_mnist(task: Task) -> dict[str, Any]:
    """One `neuroevo mnist` training (method, hidden, seed) at a forward-pass budget; its accuracies."""
    from .mnist import compare

    opts, setting = dict(task.options), dict(task.setting)
    data = _mnist_data(opts["data"], int(opts["val"]))
    hidden = tuple(int(x) for x in str(setting.get("hidden", "32")).split(","))
    method = str(setting.get("method", "ga"))
    r = compare.run_one(method, task.seed, data, hidden, str(opts["activation"]), None,
                        float(opts["budget_forwards"]), compare.Configs())
    metrics = {k: float(r[k]) for k in MNIST_METRICS}
    return {"key": task.key(), "command": "mnist", "setting": [[k, v] for k, v in task.setting], "seed": task.seed,
            "metrics": metrics, "forwards": float(r["forwards"]), "steps": int(r["steps"]),
            "timing": {"seconds": float(r["seconds"])}}


def _worker_init() -> None:
    """A worker among several runs one thread, so parallel runs do not fight over the cores; Ctrl-C is for the
    driver, which cancels what is queued (a worker that took it would fail its run and start the next)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["NUMBA_NUM_THREADS"] = "1"
    import numba

    numba.set_num_threads(1)


def _worker_execute(task: Task) -> dict[str, Any]:
    _worker_init()
    return execute(task)


def _result_path(out: Path, task: Task) -> Path:
    return out / task.folder / f"seed-{task.seed}" / "result.json"


def _write_result(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1, default=_nan_safe))
    os.replace(tmp, path)


def _nan_safe(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o).__name__)


def finished(out: Path, task: Task) -> dict[str, Any] | None:
    """The stored result of a task, if a complete one for exactly this task exists."""
    p = _result_path(out, task)
    try:
        r = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    return r if isinstance(r, dict) and r.get("key") == task.key() else None


def run_sweep(spec: Spec, out: Path, jobs: int = 2, engine: str = "local", address: str | None = None,
              progress: bool = True) -> tuple[list[dict[str, Any]], int]:
    """Run every unfinished task; returns (all results in task order, how many were already finished)."""
    from tqdm import tqdm

    tasks = spec.tasks()
    results: dict[int, dict[str, Any]] = {}
    todo: list[int] = []
    for i, t in enumerate(tasks):
        r = finished(out, t)
        if r is None:
            todo.append(i)
        else:
            results[i] = r
    done_before = len(results)
    bar = tqdm(total=len(tasks), initial=done_before, unit="run", desc=f"sweep {spec.name}", disable=not progress,
               dynamic_ncols=True)

    failures: dict[int, str] = {}

    def store(i: int, r: dict[str, Any]) -> None:
        if "error" in r:  # not stored: the next run of the sweep tries it again
            failures[i] = r["error"]
        else:
            _write_result(_result_path(out, tasks[i]), r)
            results[i] = r
        bar.update(1)

    try:
        for i, r in _engine(engine, jobs, address)([tasks[i] for i in todo], todo):
            store(i, r)
    finally:
        bar.close()
    if failures:
        i, err = next(iter(sorted(failures.items())))
        raise SweepError(f"{spec.path}: {len(failures)} of {len(tasks)} runs failed ({len(results)} finished and "
                         f"kept); first: {tasks[i].label}, seed {tasks[i].seed}: {err}")
    return [results[i] for i in range(len(tasks))], done_before


def _engine(engine: str, jobs: int, address: str | None) -> Callable[[list[Task], list[int]], Iterable]:
    if engine == "serial" or (engine == "local" and jobs == 1):
        return lambda tasks, ids: ((i, _guarded(t)) for i, t in zip(ids, tasks))
    if engine == "local":
        return lambda tasks, ids: _local_pool(tasks, ids, jobs)
    if engine == "ray":
        return lambda tasks, ids: _ray(tasks, ids, jobs, address)
    raise SweepError(f"unknown engine {engine!r} (local, ray, serial)")


def _local_pool(tasks: list[Task], ids: list[int], jobs: int) -> Iterable[tuple[int, dict[str, Any]]]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: a clean interpreter per worker (no forked numba/OpenMP state)
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"), initializer=_worker_init)
    try:
        futures = {pool.submit(execute, t): i for i, t in zip(ids, tasks)}
        for f in as_completed(futures):
            try:
                yield futures[f], f.result()
            except Exception as e:  # noqa: BLE001 - one failing run must not throw away the others
                yield futures[f], _failure(e)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # interrupted: drop what is queued, stop the workers
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        raise
    pool.shutdown(wait=True)


def _failure(e: BaseException) -> dict[str, Any]:
    return {"error": f"{type(e).__name__}: {e}"}


def _guarded(task: Task) -> dict[str, Any]:
    try:
        return execute(task)
    except Exception as e:  # noqa: BLE001 - reported with the others at the end
        return _failure(e)


def _ray(tasks: list[Task], ids: list[int], jobs: int, address: str | None) -> Iterable[tuple[int, dict[str, Any]]]:
    try:
        import ray
    except ImportError:
        raise SweepError("the ray engine needs Ray: pip install 'neuroevo[ray]'") from None
    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=jobs, log_to_driver=False, include_dashboard=False)
    try:
        remote = ray.remote(num_cpus=1)(_worker_execute)
        pending = {remote.remote(t): i for i, t in zip(ids, tasks)}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    yield i, ray.get(ref)
                except Exception as e:  # noqa: BLE001 - a failed task; the others go on
                    yield i, _failure(e)
    finally:
        if started:
            ray.shutdown()


# ---- aggregation -----------------------------------------------------------------------------------------------
# Two-sided 95% Student t quantiles for 1..30 degrees of freedom (beyond 30 the normal 1.96 is within 2%).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def mean_ci(values: Iterable[float]) -> dict[str, float]:
    """Mean, sample std and the 95% t confidence interval of the mean (NaN values are left out)."""
    v = np.array([x for x in values if x is not None and not math.isnan(x)], np.float64)
    n = int(v.size)
    if n == 0:
        return {"n": 0, "mean": math.nan, "std": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    mean = float(v.mean())
    if n == 1:
        return {"n": 1, "mean": mean, "std": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    std = float(v.std(ddof=1))
    t = _T95[n - 2] if n - 1 <= len(_T95) else 1.96
    half = t * std / math.sqrt(n)
    return {"n": n, "mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half}


def summarize(spec: Spec, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per setting and metric: n, mean, std, 95% CI."""
    by_setting: dict[str, list[dict[str, Any]]] = {}
    for t, r in zip(spec.tasks(), results):
        by_setting.setdefault(t.label, []).append(r)
    rows = []
    for label, rs in by_setting.items():
        for m in spec.metrics:
            rows.append({"setting": label, "metric": m, **mean_ci(r["metrics"][m] for r in rs)})
    return rows


def write_summary(spec: Spec, rows: list[dict[str, Any]], out: Path) -> tuple[Path, Path, Path]:
    """summary.csv, summary.md (a markdown table) and summary.png (means with 95% CIs)."""
    import csv

    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path, png_path = out / "summary.csv", out / "summary.md", out / "summary.png"
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["setting", "metric", "n", "mean", "std", "ci_low", "ci_high"])
        w.writeheader()
        w.writerows(rows)
    lines = [f"Sweep `{spec.name}`: {spec.describe()}, seeds {spec.seeds[0]}..{spec.seeds[-1]} "
             f"({len(spec.seeds)}); mean, std and 95% t interval.", ""]
    for m in spec.metrics:
        lines += [f"**{m}**: {metric_doc(m)}", "", "| setting | n | mean | std | 95% CI |", "|---|---|---|---|---|"]
        for r in rows:
            if r["metric"] == m:
                lines.append(f"| {r['setting']} | {r['n']} | {r['mean']:.3g} | {r['std']:.3g} | "
                             f"[{r['ci_low']:.3g}, {r['ci_high']:.3g}] |")
        lines.append("")
    md_path.write_text("\n".join(lines))
    _plot(spec, rows, png_path)
    return csv_path, md_path, png_path


def _plot(spec: Spec, rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(spec.metrics), figsize=(4.2 * len(spec.metrics), 3.2), squeeze=False)
    for ax, m in zip(axes[0], spec.metrics):
        rs = [r for r in rows if r["metric"] == m]
        x = np.arange(len(rs))
        mean = np.array([r["mean"] for r in rs])
        lo = mean - np.array([r["ci_low"] for r in rs])
        hi = np.array([r["ci_high"] for r in rs]) - mean
        ax.errorbar(x, mean, yerr=[np.nan_to_num(lo), np.nan_to_num(hi)], fmt="o", capsize=5)
        ax.set_xticks(x, [r["setting"] for r in rs], rotation=20, ha="right", fontsize=8)
        ax.set_xlim(-0.5, len(rs) - 0.5)
        ax.set_title(metric_doc(m), fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(f"sweep {spec.name}: mean and 95% CI over {len(spec.seeds)} seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
