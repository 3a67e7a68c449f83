"""Compare: runs GA, ES and backprop on the same nets at matched budgets; results.json, the table and the figure.

Seed s gives every method the same initial net (drawn from default_rng(s)); the GA puts it in its population
beside P-1 more draws of the same distribution. Each run has its own Generator seeded by (s, method), so the same
command gives the same numbers when the budget is in forwards, and the same code path when it is in seconds.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import backprop, es, ga, lres
from .budget import Tracker
from .data import Dataset
from .nets import accuracy, init_genomes, make_layout

METHODS = ("ga", "es", "backprop", "lres")  # the index seeds each method's Generator: append only
SEED_TABLE = (  # hidden layers of the seed's Keras nets, and the train accuracy it reported (60k images)
    ((800,), 0.9987),
    ((10,), 0.9393),
    ((10, 10), 0.9395),
    ((1,), 0.38),
)


@dataclass(frozen=True)
class Configs:
    ga: ga.GAConfig = field(default_factory=ga.GAConfig)
    es: es.ESConfig = field(default_factory=es.ESConfig)
    backprop: backprop.BackpropConfig = field(default_factory=backprop.BackpropConfig)
    lres: lres.LRESConfig = field(default_factory=lres.LRESConfig)


def run_one(method: str, seed: int, data: Dataset, hidden: tuple[int, ...], activation: str,
            budget_seconds: float | None, budget_forwards: float | None, cfgs: Configs,
            quiet: bool = True) -> dict:
    """One method, one seed: the run summary with its validation curve."""
    layout = make_layout(data.n_in, hidden, data.n_classes)
    g0 = init_genomes(layout, 1, activation, np.random.default_rng(seed))[0]
    rng = np.random.default_rng([seed, METHODS.index(method)])
    ga.warm_up()
    if method == "lres":
        lres.warm_up()
    tracker = Tracker(layout, data, activation, budget_seconds, budget_forwards, desc=f"{method} seed {seed}",
                      quiet=quiet)
    if method == "ga":
        out, _ = ga.train(cfgs.ga, tracker, rng, first=g0)
    elif method == "es":
        out, _ = es.train(g0, cfgs.es, tracker, rng)
    elif method == "backprop":
        out, _ = backprop.train(g0, cfgs.backprop, tracker, rng)
    elif method == "lres":
        out, _ = lres.train(g0, cfgs.lres, tracker, rng)
    else:
        raise ValueError(f"unknown method {method!r}")
    out["seed"] = seed
    return out


def _stats(values: Sequence[float]) -> dict:
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "per_seed": [float(x) for x in v]}


def machine() -> dict:
    return {"machine": platform.machine(), "cpus": os.cpu_count(), "numpy": np.__version__,
            "python": platform.python_version()}


def compare(methods: Sequence[str], data: Dataset, hidden: tuple[int, ...], activation: str,
            budget_seconds: float | None, budget_forwards: float | None, seeds: Sequence[int], cfgs: Configs,
            quiet: bool = True) -> dict:
    """Every method for every seed (seed-major, so a stopped run still has whole seeds); the results dict."""
    runs: dict[str, list[dict]] = {m: [] for m in methods}
    for s in seeds:
        for m in methods:
            r = run_one(m, s, data, hidden, activation, budget_seconds, budget_forwards, cfgs, quiet)
            runs[m].append(r)
            if not quiet:
                print(f"{m} seed {s}: test {r['test_accuracy']:.4f} val {r['val_accuracy']:.4f} "
                      f"({r['steps']} steps, {r['forwards']:.3g} forwards, {r['seconds']:.0f} s)", flush=True)
    layout = make_layout(data.n_in, hidden, data.n_classes)
    res: dict = {"meta": {
        "sizes": list(layout.sizes), "n_params": layout.n_params, "activation": activation,
        "budget_seconds": budget_seconds, "budget_forwards": budget_forwards, "seeds": list(seeds),
        "data": {"source": data.source, "n_train": int(data.x_train.shape[0]), "n_val": int(data.x_val.shape[0]),
                 "n_test": int(data.x_test.shape[0]), "validation": "last n_val training images"},
        "configs": {m: asdict(getattr(cfgs, m)) for m in methods}, "machine": machine(),
        "forwards": "one image through the net = 1; one backprop image = 3; validation scoring not counted",
    }}
    for m in methods:
        rs = runs[m]
        res[m] = {
            "test_accuracy": _stats([r["test_accuracy"] for r in rs]),
            "val_accuracy": _stats([r["val_accuracy"] for r in rs]),
            "train_accuracy": _stats([r["train_accuracy"] for r in rs]),
            "curve": [r["curve"] for r in rs],  # per seed: [seconds, forwards, val_accuracy] points
            "runs": [{k: v for k, v in r.items() if k != "curve"} for r in rs],
        }
    return res


def markdown(res: dict) -> str:
    """The results table: test accuracy (mean +- std, per seed) with steps, forwards and seconds per method."""
    meta = res["meta"]
    sizes = "-".join(str(s) for s in meta["sizes"])
    budget = " and ".join(b for b in (
        f"{meta['budget_seconds']:g} s" if meta["budget_seconds"] else "",
        f"{meta['budget_forwards']:.3g} forwards" if meta["budget_forwards"] else "") if b)
    lines = [f"{sizes} ({meta['activation']}), budget {budget} per run, seeds {meta['seeds']}, "
             f"{meta['data']['n_train']} train / {meta['data']['n_val']} validation / {meta['data']['n_test']} test",
             "", "| method | test acc (mean +- std) | per seed | best val acc (mean) | steps (mean) | "
             "forwards (mean) | seconds (mean) |", "|---|---|---|---|---|---|---|"]
    for m in (k for k in res if k != "meta"):
        r = res[m]
        runs = r["runs"]
        t = r["test_accuracy"]
        lines.append(
            f"| {m} | {100 * t['mean']:.2f} +- {100 * t['std']:.2f} % | "
            f"{', '.join(f'{100 * x:.2f}' for x in t['per_seed'])} | {100 * r['val_accuracy']['mean']:.2f} % | "
            f"{np.mean([x['steps'] for x in runs]):.0f} | {np.mean([x['forwards'] for x in runs]):.3g} | "
            f"{np.mean([x['seconds'] for x in runs]):.0f} |")
    return "\n".join(lines) + "\n"


def figure(res: dict, path: Path) -> None:
    """comparison.png: validation accuracy against training seconds and forward-pass equivalents (log x)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    colours = {"ga": "tab:red", "es": "tab:blue", "backprop": "tab:green", "lres": "tab:purple"}
    for m in (k for k in res if k != "meta"):
        for i, curve in enumerate(res[m]["curve"]):
            c = np.asarray(curve, dtype=np.float64)
            keep = (c[:, 0] > 0) & (c[:, 1] > 0)
            for ax, col in zip(axes, (0, 1)):
                ax.plot(c[keep, col], c[keep, 2], color=colours.get(m), alpha=0.8, lw=1.2,
                        label=f"{m} (test {100 * res[m]['test_accuracy']['mean']:.1f}%)" if i == 0 else None)
    for ax, xl in zip(axes, ("training seconds", "forward-pass equivalents (backprop image = 3)")):
        ax.set_xscale("log")
        ax.set_xlabel(xl)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("validation accuracy")
    axes[0].set_ylim(0, 1)
    axes[0].legend(loc="lower right")
    sizes = "-".join(str(s) for s in res["meta"]["sizes"])
    fig.suptitle(f"MNIST {sizes}: one line per seed ({res['meta']['data']['n_train']} training images)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def seed_table(data: Dataset, seed: int, cfgs: Configs, quiet: bool = True, epochs: int = 20,
               batch: int = 200) -> list[dict]:
    """Backprop (Adam, batch 200, 20 epochs) on the seed's architectures, and the GA given the same seconds.

    Train accuracy is that of the final net on the training images (as Keras reports it); test accuracy too.
    The GA column reports its best elite on validation, scored on test.
    """
    rows = []
    bp_cfg = backprop.BackpropConfig(optimizer="adam", lr=1e-3, batch=batch)
    for hidden, seed_train in SEED_TABLE:
        layout = make_layout(data.n_in, hidden, data.n_classes)
        g0 = init_genomes(layout, 1, "relu", np.random.default_rng(seed))[0]
        n = data.x_train.shape[0]
        tracker = Tracker(layout, data, "relu", budget_forwards=3.0 * n * epochs, desc=f"backprop {hidden}",
                          quiet=quiet)
        t = time.perf_counter()
        summary, theta = backprop.train(g0, bp_cfg, tracker, np.random.default_rng([seed, 2]), epochs=epochs)
        bp_seconds = summary["seconds"]
        row = {
            "sizes": list(layout.sizes), "seed_train_accuracy": seed_train,
            "backprop_train_accuracy": accuracy(layout, theta, data.x_train, data.y_train, "relu"),
            "backprop_test_accuracy": accuracy(layout, theta, data.x_test, data.y_test, "relu"),
            "backprop_seconds": bp_seconds, "backprop_wall_seconds": round(time.perf_counter() - t, 3),
        }
        ga.warm_up()
        gt = Tracker(layout, data, "relu", budget_seconds=bp_seconds, desc=f"ga {hidden}", quiet=quiet)
        gsum, _ = ga.train(cfgs.ga, gt, np.random.default_rng([seed, 0]), first=g0)
        row.update(ga_test_accuracy=gsum["test_accuracy"], ga_train_accuracy=gsum["train_accuracy"],
                   ga_generations=gsum["steps"], ga_seconds=gsum["seconds"])
        rows.append(row)
        if not quiet:
            print(json.dumps(row), flush=True)
    return rows


def seed_table_markdown(rows: list[dict], n_train: int) -> str:
    lines = [f"Backprop: Adam lr 1e-3, batch 200, 20 epochs, relu, {n_train} training images (the seed used 60,000). "
             "GA: the same seconds as backprop, default settings.", "",
             "| net | seed train acc | backprop train acc | backprop test acc | backprop s | GA test acc | "
             "GA generations |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {'-'.join(map(str, r['sizes']))} | {100 * r['seed_train_accuracy']:.2f} % | "
                     f"{100 * r['backprop_train_accuracy']:.2f} % | {100 * r['backprop_test_accuracy']:.2f} % | "
                     f"{r['backprop_seconds']:.1f} | {100 * r['ga_test_accuracy']:.2f} % | {r['ga_generations']} |")
    return "\n".join(lines) + "\n"
