"""The evolution targets, measured over seeds nobody tuned to, each mechanism on and off.

    NUMBA_NUM_THREADS=1 python benchmarks/story.py [--seeds 10] [--jobs 2] [--variants base,age,...] [--targets ...]

Targets (a "minute m" is the m-th simulated minute, i.e. the time (m-1):00-m:00):
  edges     no edge deaths from minute 3 on: at most 1 edge death in minutes 4-10 together (10 minutes of edges)
  hunter    cursor kills per minute over minutes 16-20 at most a tenth of minutes 1-3 (20 minutes of the bot)
  story     5 minutes of edges, then 10 minutes of the mouse model clicking: at most 0.5 kills/min over minutes
            6-10 of the clicking
  transfer  kills in the mouse model's first minute against a population trained 20 minutes with the bot, and
            against one that only had 5 minutes of edges (target: at most a third as many)
With --senses, every hunter, story and transfer run is also asked whether its escape uses the senses: the trained
population (the bot's for hunter and transfer, the mouse model's for story) is run 5 more minutes with evolution
off against the same cursor, once as it is and once with every input weight of its nets set to 0 (each net then
flies its fixed manoeuvre, blind); the table gives both kill counts.
Each variant is a set of settings on top of the scenario's (see VARIANTS). Runs go to a process pool of --jobs
workers with one numba thread each; results are bit-identical whatever the number of workers. Prints a Markdown
table with the median and worst seed, and a 95% interval of the mean (a t interval over seeds) for each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "old": {"brain.init_weights": 1.0, "brain.init_bias": 2.0, "evolution.min_parent_age_s": 0.0,
            "evolution.niching": "none"},
    "age": {"evolution.min_parent_age_s": 5.0},
    "noage": {"evolution.min_parent_age_s": 0.0},
    "blind": {"brain.init_weights": 0.0},
    "weights_0.1": {"brain.init_weights": 0.1},
    "weights_1": {"brain.init_weights": 1.0},
    "species": {"evolution.niching": "species"},
    "nospecies": {"evolution.niching": "none"},
    "grow": {"brain.hidden_start": 1, "evolution.add_unit_rate": 0.05, "evolution.remove_unit_rate": 0.01},
    "grow_all": {"brain.hidden_start": 1, "evolution.add_unit_rate": 1.0, "evolution.remove_unit_rate": 0.0},
    "grow_fast": {"brain.hidden_start": 1, "evolution.add_unit_rate": 0.3, "evolution.remove_unit_rate": 0.05},
    "sigma_0.1": {"evolution.sigma": 0.1},
    "bias_1": {"brain.init_bias": 1.0},  # the founders' biases ~ N(0, 1) (their weights are 0: blind)
    "bias_2": {"brain.init_bias": 2.0},  # the cursor scenario at every other scenario's scale (its own before)
    "bias_8": {"brain.init_bias": 8.0},
    "bias_16": {"brain.init_bias": 16.0},  # almost every founder at full speed and full turn
    "sigma_0.05": {"evolution.sigma": 0.05},
    "rate_0.05": {"evolution.mutation_rate": 0.05},
    "nowarn": {"cursor.warns": False},
    "raw": {"brain.encoding": "raw"},
    "raw_px": {"brain.encoding": "raw_px"},
    "replace": {"evolution.replace": "least_agile"},  # rtNEAT's periodic replacement, judged by agility
    "replace_random": {"evolution.replace": "random"},  # the same turnover without aim
    "replace_always": {"evolution.replace": "least_agile", "evolution.replace_while": "always"},
    "replace_none": {"evolution.replace": "none"},
    "while_clicks": {"evolution.replace_while": "clicks"},  # removals only after a period with a click
    "while_cursor": {"evolution.replace_while": "cursor"},  # removals while a cursor is present
    "every_15s": {"evolution.replace_s": 15.0},  # with replace: a removal every 15 s instead of 5 s
    "age_60s": {"evolution.replace_age_s": 60.0},  # with replace: only agents at least 60 s old are judged
    "below_0.9": {"evolution.replace_below": 0.9},  # with replace: only an agent with agility below 0.9 is removed
    "below_0.97": {"evolution.replace_below": 0.97},
    "below_0.95": {"evolution.replace_below": 0.95},
    "below_0.99": {"evolution.replace_below": 0.99},
    "age_10s": {"evolution.replace_age_s": 10.0},  # with replace: agents judged from 10 s of age
    "every_30s": {"evolution.replace_s": 30.0},  # with replace: a removal every 30 s
}
TARGETS = ("edges", "hunter", "story", "transfer")
T95 = {2: 12.71, 3: 4.30, 4: 3.18, 5: 2.78, 6: 2.57, 7: 2.45, 8: 2.36, 9: 2.31, 10: 2.26, 11: 2.23, 12: 2.20,
       16: 2.13, 20: 2.09}  # two-sided 95% t quantiles by sample size


def _t(n: int) -> float:
    return T95.get(n, 1.96 if n > 20 else T95[min(k for k in T95 if k >= n)])


def interval(x: np.ndarray) -> str:
    x = np.asarray(x, float)
    if x.size < 2:
        return f"{x.mean():.2f}"
    h = _t(x.size) * x.std(ddof=1) / np.sqrt(x.size)
    return f"{x.mean():.2f} [{x.mean() - h:.2f}, {x.mean() + h:.2f}]"


def _deaths(rows: list[dict], cause: str) -> np.ndarray:
    return np.array([r["deaths"].get(cause, 0) for r in rows], float)


def _kills_after(sim: Any, blind: bool, minutes: float = 5.0) -> int:
    """Cursor kills over `minutes` more of `sim` with evolution off (no births, no removals); with blind, every
    weight of the first layer set to 0 first, so no input reaches the net."""
    from neuroevo.state import CAUSES, K_DEATHS

    sim.apply_settings({"evolution.mode": "none", "evolution.replace": "none"})
    if blind:
        for genome in sim.genomes:
            sim.layout.split(genome)[0][0][:] = 0.0  # the first layer's weights (a view into the genome)
    k = K_DEATHS + CAUSES.index("cursor")
    before = int(sim.state.counters[k])
    sim.run(int(round(minutes * 60 / sim.settings.world.dt)))
    return int(sim.state.counters[k]) - before


def run_one(job: tuple[str, str, int, dict[str, Any], bool]) -> dict[str, Any]:
    """One (target, variant, seed) run -> its figures (with senses: the kills of the trained population as it is
    and blind, see the module docstring)."""
    from neuroevo.observers import run_minutes
    from neuroevo.sim import make

    target, variant, seed, kv, senses = job
    t0 = time.perf_counter()
    out: dict[str, Any] = {"target": target, "variant": variant, "seed": seed}
    units: list[float] = []

    def rows_of(sim, minutes):
        rows = run_minutes(sim, minutes)
        units.extend(r.get("hidden_units_mean", np.nan) for r in rows)
        return rows

    if target == "edges":
        sim = make("edges", seed=seed, overrides=kv)
        rows = rows_of(sim, 10)
        e = _deaths(rows, "edge")
        lay = sim.layout
        hid = sim.state.acts[sim.state.alive, lay.n_in : lay.n_in + lay.sizes[1]]  # first hidden layer
        out["saturated"] = float((np.abs(hid) > 0.99).mean())  # share of hidden units at +-1 (tanh saturated)
        out["late_edge_deaths"] = float(e[3:10].sum())
        out["curve"] = e.tolist()
        out["quiet_minute"] = float(next((m for m in range(10) if e[m:].sum() == 0), 10))
        out["ok"] = bool(e[3:10].sum() <= 1)
    elif target == "hunter":
        sim = make("cursor", seed=seed, overrides=kv)
        rows = rows_of(sim, 20)
        c = _deaths(rows, "cursor")
        out["curve"] = c.tolist()
        first, last = c[0:3].mean(), c[15:20].mean()
        out.update(first=first, last=last, ratio=last / first if first > 0 else np.nan, ok=bool(last <= first / 10))
        st = sim.state  # how the living fly at the end: speed (of the top speed) and |turn| output, 10th percentile
        out["speed_p10"] = float(np.quantile(st.speed[st.alive] / sim.settings.world.max_speed, 0.1))
        out["turn_p10"] = float(np.quantile(np.abs(st.acts[st.alive, -2]), 0.1))
        if senses:
            out["kills_seeing"] = _kills_after(sim, False)
            sim = make("cursor", seed=seed, overrides=kv)
            run_minutes(sim, 20)
            out["kills_blind"] = _kills_after(sim, True)
    elif target == "story":
        def trained() -> Any:
            s = make("edges", seed=seed, overrides=kv)
            run_minutes(s, 5)
            s.apply_settings({"cursor.source": "mouse"})
            return s

        sim = trained()
        rows = rows_of(sim, 10)
        c = _deaths(rows, "cursor")
        out["curve"] = c.tolist()
        out.update(first_minute=c[0], late=c[5:10].mean(), ok=bool(c[5:10].mean() <= 0.5))
        if senses:
            out["kills_seeing"] = _kills_after(sim, False)
            sim = trained()
            run_minutes(sim, 10)
            out["kills_blind"] = _kills_after(sim, True)
    elif target == "transfer":
        trained = make("cursor", seed=seed, overrides=kv)
        rows_of(trained, 20)
        trained.apply_settings({"cursor.source": "mouse"})
        bot = _deaths(rows_of(trained, 1), "cursor")[0]
        naive = make("edges", seed=seed, overrides={k: v for k, v in kv.items() if not k.startswith("cursor.")})
        rows_of(naive, 5)
        naive.apply_settings({"cursor.source": "mouse"})
        edges5 = _deaths(rows_of(naive, 1), "cursor")[0]
        out.update(bot_trained=bot, edges5=edges5, ok=bool(bot <= edges5 / 3))
        if senses:  # the bot-trained population against the mouse model, as it is and blind
            out["kills_seeing"] = _kills_after(trained, False)
            trained = make("cursor", seed=seed, overrides=kv)
            run_minutes(trained, 20)
            trained.apply_settings({"cursor.source": "mouse"})
            out["kills_blind"] = _kills_after(trained, True)
    out["units_end"] = units[-1] if units else np.nan
    out["units_start"] = units[0] if units else np.nan
    out["wall_s"] = time.perf_counter() - t0
    return out


def _bad_settings(settings: list[dict[str, Any]]) -> str:
    """What is wrong with any of these overrides (each variant's with --set's) for the scenarios run here ("" if
    nothing)."""
    from neuroevo.declare import SettingsError
    from neuroevo.scenario import load_scenario

    for kv in settings:
        for name in ("cursor", "edges"):
            try:
                load_scenario(name).settings(kv)
            except SettingsError as e:
                return str(e)
    return ""


def _init() -> None:
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def table(results: list[dict[str, Any]], seeds: int) -> str:
    lines = ["| target | variant | seeds passing | figure: median / worst seed / mean [95% interval] | other |",
             "|---|---|---|---|---|"]
    key = {"edges": ("late_edge_deaths", max), "hunter": ("ratio", max), "story": ("late", max),
           "transfer": ("bot_trained", max)}
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["target"], r["variant"]), []).append(r)
    for (target, variant), rs in sorted(groups.items(), key=lambda kv: (TARGETS.index(kv[0][0]), kv[0][1])):
        name, worst = key[target]
        x = np.array([r[name] for r in rs], float)
        ok = sum(r["ok"] for r in rs)
        other = ""
        if target == "edges":
            other = f"quiet from minute (median) {np.median([r['quiet_minute'] for r in rs]):.0f}"
            sat = [r["saturated"] for r in rs if "saturated" in r]
            if sat:
                other += f"; first-layer units at +-1: {np.mean(sat):.2f}"
        elif target == "hunter":
            other = (f"kills/min 1-3 {interval([r['first'] for r in rs])}, 16-20 "
                     f"{interval([r['last'] for r in rs])}")
            if all("speed_p10" in r for r in rs):
                other += (f"; the living at the end, 10th percentile (mean over seeds): speed "
                          f"{np.mean([r['speed_p10'] for r in rs]):.2f} of the top, |turn| "
                          f"{np.mean([r['turn_p10'] for r in rs]):.2f}")
        elif target == "story":
            other = f"first minute of clicking {interval([r['first_minute'] for r in rs])}"
        elif target == "transfer":
            b = np.array([r["bot_trained"] for r in rs], float)
            e = np.array([r["edges5"] for r in rs], float)
            other = (f"edges-5-min population {interval(e)}; ratio of means {b.mean() / max(e.mean(), 1e-9):.2f}")
        if all("kills_blind" in r for r in rs):
            see = np.array([r["kills_seeing"] for r in rs], float)
            blind = np.array([r["kills_blind"] for r in rs], float)
            other += (f"; 5 more min, evolution off: kills seeing {interval(see)}, blind {interval(blind)}, "
                      f"fewer seeing in {int((see < blind).sum())}, more in {int((see > blind).sum())}")
        u = [r["units_end"] for r in rs if np.isfinite(r["units_end"])]
        if u:
            other += (f"; hidden units on, mean: first minute {np.mean([r['units_start'] for r in rs]):.2f}, last "
                      f"{np.mean(u):.2f}")
        xf = x[np.isfinite(x)]
        fig = f"{np.median(xf):.2f} / {worst(xf):.2f} / {interval(xf)}" if xf.size else "n/a"
        lines.append(f"| {target} | {variant} | {ok}/{len(rs)} | {name}: {fig} | {other} |")
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Learning curves: deaths per minute of each target's cause, mean over seeds with a 95% band, per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = [t for t in TARGETS if any(r["target"] == t and "curve" in r for r in results)]
    fig, axes = plt.subplots(1, len(targets), figsize=(5 * len(targets), 3.6), squeeze=False)
    label = {"edges": "edge deaths/min (edges)", "hunter": "kills/min (hunter bot)",
             "story": "kills/min, minutes of mouse-model clicking"}
    for ax, t in zip(axes[0], targets):
        for v in sorted({r["variant"] for r in results if r["target"] == t and "curve" in r}):
            c = np.array([r["curve"] for r in results if r["target"] == t and r["variant"] == v and "curve" in r],
                         float)
            m = c.mean(0)
            h = _t(len(c)) * c.std(0, ddof=1) / np.sqrt(len(c)) if len(c) > 1 else 0 * m
            x = np.arange(1, c.shape[1] + 1)
            ax.plot(x, m, label=f"{v} ({len(c)} seeds)")
            ax.fill_between(x, np.maximum(m - h, 0), m + h, alpha=0.2)
        ax.set_xlabel("simulated minute")
        ax.set_ylabel(label.get(t, t))
        ax.set_yscale("symlog", linthresh=1.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    tmp.replace(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=101, help="seeds first..first+seeds-1 (nobody tuned to them)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--set", action="append", default=[], help="extra key=value for every variant")
    ap.add_argument("--json", type=Path, help="also write every run's figures here")
    ap.add_argument("--load", nargs="*", type=Path, help="no runs: print the table (and --plot) of saved --json files")
    ap.add_argument("--plot", type=Path, help="draw the learning curves into this PNG")
    ap.add_argument("--senses", action="store_true",
                    help="also count kills of each trained population as it is and blind (inputs cut), evolution off")
    args = ap.parse_args()
    if args.load:
        results = [r for f in args.load for r in json.loads(f.read_text())]
        print(table(results, args.seeds))
        if args.plot:
            plot(results, args.plot)
        return
    if any("=" not in kv for kv in args.set):
        ap.error(f"--set takes key=value, got {next(kv for kv in args.set if '=' not in kv)!r}")
    extra = dict(kv.split("=", 1) for kv in args.set)
    unknown = [t for t in args.targets.split(",") if t not in TARGETS]
    unknown += [p for v in args.variants.split(",") for p in v.split("+") if p not in VARIANTS]
    if unknown:
        ap.error(f"unknown target or variant {unknown[0]!r} (targets: {', '.join(TARGETS)}; variants: "
                 f"{', '.join(VARIANTS)})")
    jobs = []
    for target in args.targets.split(","):
        for variant in args.variants.split(","):
            kv = {}
            for part in variant.split("+"):
                kv.update(VARIANTS[part])
            kv.update(extra)
            jobs += [(target, variant, s, kv, args.senses)
                     for s in range(args.first_seed, args.first_seed + args.seeds)]
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=_init) as ex:
        kvs = list({json.dumps(kv, sort_keys=True): kv for _t, _v, _s, kv, _b in jobs}.values())
        bad = ex.submit(_bad_settings, kvs).result()  # in a worker: numba starts its threads there, not here
        if bad:
            ap.error(f"settings (a variant with --set): {bad}")
        results = list(ex.map(run_one, jobs))
    print(f"## evolution targets, seeds {args.first_seed}..{args.first_seed + args.seeds - 1}"
          f"{' with ' + ', '.join(args.set) if args.set else ''} ({time.perf_counter() - t0:.0f} s wall, "
          f"{args.jobs} workers)\n")
    print(table(results, args.seeds))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
