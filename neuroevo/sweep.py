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

import hashlib
import itertools
import json
import math
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


MAX_SEEDS = 10_000


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
        """A hash of everything the result depends on: the task, the program version, the scenario file's text and
        every setting the run will have, defaults included (a result.json with another key is redone, so editing a
        scenario, upgrading, or a changed default reruns its runs)."""
        from . import __version__
        from .config import SettingsError
        from .scenario import ScenarioError, find_scenario, load_scenario

        resolved: Any = None
        try:
            source = find_scenario(self.scenario).read_bytes()
        except (ScenarioError, OSError):
            source = b""
        if self.command == "mnist":
            source = b""
        else:
            overrides = {**dict(self.setting), **({"world.agents": self.agents} if self.agents is not None else {})}
            try:
                resolved = load_scenario(self.scenario).settings(overrides).to_dict()
            except (ScenarioError, SettingsError, OSError):
                resolved = None  # the run itself will say what is wrong
        blob = json.dumps([self.command, self.scenario, self.minutes, self.setting, self.seed, self.agents,
                           self.options, __version__, hashlib.sha1(source).hexdigest(), resolved], default=str)
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
    if isinstance(raw_seeds, int) and not isinstance(raw_seeds, bool) and 1 <= raw_seeds <= MAX_SEEDS:
        seed_list = list(range(1, raw_seeds + 1))
    elif (isinstance(raw_seeds, list) and 0 < len(raw_seeds) <= MAX_SEEDS
          and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**63 for s in raw_seeds)):
        seed_list = list(raw_seeds)
    else:
        raise SweepError(f"{p}: seeds must be a count in 1..{MAX_SEEDS} or a list of seeds >= 0, got "
                         f"{str(raw_seeds)[:60]}")
    twice = sorted({s for s in seed_list if seed_list.count(s) > 1})
    if twice:
        raise SweepError(f"{p}: seed {twice[0]} is listed twice (each seed is one run; repeats would count it twice)")
    mins = data.get("minutes", 10) if minutes is None else minutes
    if not isinstance(mins, (int, float)) or isinstance(mins, bool) or not 0 < mins < 1e6:
        raise SweepError(f"{p}: minutes must be a positive number, got {mins!r}")
    agents = data.get("agents")
    if agents is not None and (not isinstance(agents, int) or isinstance(agents, bool) or agents < 1):
        raise SweepError(f"{p}: agents must be a whole number >= 1, got {str(agents)[:40]}")
    grid_raw = data.get("grid", {})
    if not isinstance(grid_raw, dict):
        raise SweepError(f"{p}: [grid] must be a table of key = [values]")
    name = _spec_name(p, data)
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
            section, field = key.split(".", 1)
            resolved = [getattr(getattr(override(base, {key: v}), section), field) for v in values]
        except SettingsError as e:
            raise SweepError(f"{p}: grid: {e}") from None
        if key in grid:
            raise SweepError(f"{p}: grid sets {key} twice (as {k!r} and under another name)")
        _no_repeats(p, key, values, resolved)
        grid[key] = values
    metrics = data.get("metrics", ["quiet_minute"])
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, list):
        raise SweepError(f"{p}: metrics must be a list of names (known: {', '.join(RUN_METRICS)})")
    bad = [m for m in metrics if m not in RUN_METRICS]
    if bad or not metrics:
        raise SweepError(f"{p}: unknown metric {bad[0] if bad else ''!r} (known: {', '.join(RUN_METRICS)})")
    spec = Spec(p, name, command, str(scenario_name), float(mins), seed_list, grid, list(metrics), agents)
    _check_fits(p, spec, scenario)
    return spec


def _spec_name(p: Path, data: dict[str, Any]) -> str:
    """The sweep's name: it names the default output folder, so it is a plain name, never a path."""
    from .io import safe_name

    if "name" not in data:  # from the spec's file name, made safe
        stem = "".join(c if c.isalnum() or c in "-_.," else "-" for c in p.stem).lstrip(".-") or "sweep"
        return stem[:100]
    name = data["name"]
    if not safe_name(name):
        raise SweepError(f"{p}: name must be a plain name (letters, digits, _ . , = + -; no path), got "
                         f"{str(name)[:60]!r}")
    return name


def _no_repeats(p: Path, key: str, values: list[Any], resolved: list[Any]) -> None:
    """Grid values that are the same setting (0.1 and "0.1", a repeat) or would share a folder are refused."""
    seen: dict[str, Any] = {}
    for v, r in zip(values, resolved):
        slug = Task("run", "", 0.0, ((key, v),), 0).folder
        for mark in (f"value:{r!r}", f"folder:{slug}"):
            if mark in seen:
                raise SweepError(f"{p}: grid.{key} lists {v!r} and {seen[mark]!r}, the same setting or folder "
                                 "(each value is one setting; a repeat would count its runs twice)")
            seen[mark] = v


def _check_fits(p: Path, spec: Spec, scenario: Any) -> None:
    """Every setting of the grid must fit in memory and have a folder of its own."""
    from .config import SettingsError
    from .limits import LimitError, check_settings

    folders: dict[tuple[str, int], str] = {}
    for t in spec.tasks():
        if (t.folder, t.seed) in folders:
            raise SweepError(f"{p}: settings {folders[t.folder, t.seed]} and {t.label} would share the folder "
                             f"{t.folder}/")
        folders[t.folder, t.seed] = t.label
        if t.seed != spec.seeds[0]:
            continue
        overrides = {**dict(t.setting), **({"world.agents": t.agents} if t.agents is not None else {})}
        try:
            check_settings(scenario.settings(overrides), scenario.n_extra_inputs)
        except (SettingsError, LimitError) as e:
            raise SweepError(f"{p}: {t.label}: {e}") from None


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
        if not widths or min(widths) < 1 or max(widths) > 100_000:
            raise SweepError(f"{p}: grid.hidden: {h!r} is not a list of widths such as \"32\" or \"10,10\"")
    for k, vals in grid.items():
        resolved = [tuple(int(x) for x in v.split(",")) if k == "hidden" else v for v in vals]
        _no_repeats(p, k, vals, resolved)
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


# ---- running (sweep_run.py) --------------------------------------------------------------------------------------
def run_sweep(spec: Spec, out: Path, jobs: int = 2, engine: str = "local", address: str | None = None,
              progress: bool = True, **kw: Any) -> tuple[list[dict[str, Any]], int]:
    """Run every unfinished task; returns (all results in task order, how many were already finished). See
    sweep_run.run_sweep."""
    from .sweep_run import run_sweep as run

    return run(spec, out, jobs=jobs, engine=engine, address=address, progress=progress, **kw)


def execute(task: Task) -> dict[str, Any]:
    """Run one task in this process and return its result (see sweep_run.execute)."""
    from .sweep_run import execute as run

    return run(task)


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
    import io

    from .io import write_text

    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path, png_path = out / "summary.csv", out / "summary.md", out / "summary.png"
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=["setting", "metric", "n", "mean", "std", "ci_low", "ci_high"])
    w.writeheader()
    w.writerows(rows)
    write_text(csv_path, buf.getvalue())
    lines = [f"Sweep `{spec.name}`: {spec.describe()}, seeds {spec.seeds[0]}..{spec.seeds[-1]} "
             f"({len(spec.seeds)}); mean, std and 95% t interval.", ""]
    for m in spec.metrics:
        lines += [f"**{m}**: {metric_doc(m)}", "", "| setting | n | mean | std | 95% CI |", "|---|---|---|---|---|"]
        for r in rows:
            if r["metric"] == m:
                lines.append(f"| {r['setting']} | {r['n']} | {r['mean']:.3g} | {r['std']:.3g} | "
                             f"[{r['ci_low']:.3g}, {r['ci_high']:.3g}] |")
        lines.append("")
    write_text(md_path, "\n".join(lines))
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
    from .io import save_figure

    save_figure(fig, path, dpi=110)
    plt.close(fig)
