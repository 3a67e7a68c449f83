"""The `neuroevo mnist` subcommand: its arguments, --set overrides of the method settings, and the run."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile
from pathlib import Path

from ..args import UsageError
from ..args import int_at_least as _int_at_least
from ..args import positive_float as _positive_float
from ..config import SettingsError, _suggest, override_dataclass


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `mnist` on the top-level subparsers."""
    m = subparsers.add_parser(
        "mnist", help="GA vs ES vs backprop on MNIST-style IDX data, at matched budgets",
        description="Train the same dense nets with a genetic algorithm, OpenAI-ES and backprop, each for the same "
        "wall-clock seconds (and/or forward-pass equivalents); write results.json, results.md and comparison.png "
        "to --out. Validation = the last --val training images; the test set is scored once per run, at the end.",
    )
    m.add_argument("--methods", default="ga,es,backprop",
                   help="comma-separated subset of ga,es,lres (low-rank ES),backprop")
    m.add_argument("--hidden", default="32", help="hidden layer widths, comma-separated (default 32; e.g. 10,10)")
    m.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="relu", help="hidden activation")
    m.add_argument("--budget-seconds", type=_positive_float, default=None,
                   help="training seconds per method and seed (default 600 unless --budget-forwards is given)")
    m.add_argument("--budget-forwards", type=_positive_float, default=None,
                   help="forward-pass equivalents per method and seed (an image = 1, a backprop image = 3); "
                   "reproducible to the bit, unlike seconds")
    m.add_argument("--seeds", type=_int_at_least(1), default=3, help="number of seeds (default 3)")
    m.add_argument("--first-seed", type=_int_at_least(0), default=1, help="seeds are first-seed, +1, ... (default 1)")
    m.add_argument("--data", type=Path, default=None,
                   help="folder with the four IDX files (default ~/.cache/neuroevo/mnist, downloaded if missing)")
    m.add_argument("--val", type=_int_at_least(1), default=None,
                   help="training images held out (the last ones) for validation; default a sixth of the "
                   "training images, at most 4000")
    m.add_argument("--out", type=Path, default=Path("mnist-results"), help="output folder (default mnist-results/)")
    m.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="method setting, e.g. --set ga.population=200 --set es.lr=0.02 --set lres.pairs=1000")
    m.add_argument("--reproduce-seed-table", action="store_true",
                   help="backprop on 784-800-10, 784-10-10, 784-10-10-10, 784-1-10 (Adam, batch 200, 20 epochs) "
                   "with a GA column at equal seconds; writes seed_table.json and seed_table.md")
    m.add_argument("--no-plot", action="store_true", help="skip comparison.png")
    m.add_argument("--quiet", action="store_true", help="no progress bars")
    return m


def configs_from_sets(sets: list[str]):
    """Configs with each KEY=VALUE applied (method.field); UsageError naming any bad key or value."""
    from .compare import Configs

    cfgs = Configs()
    for item in sets:
        key, eq, text = item.partition("=")
        method, dot, name = key.partition(".")
        if not eq or not dot:
            raise UsageError(f"--set {item!r}: expected METHOD.KEY=VALUE, e.g. ga.population=200")
        if method not in ("ga", "es", "backprop", "lres"):
            raise UsageError(f"--set {item!r}: unknown method {method!r} (ga, es, lres or backprop)")
        cfg = getattr(cfgs, method)
        fields = {f.name for f in dataclasses.fields(cfg)}
        if name not in fields:
            raise UsageError(f"--set {item!r}: unknown key; {method} keys: {', '.join(sorted(fields))}"
                             f"{_suggest(name, sorted(fields))}")
        try:  # the simulator's --set machinery: values converted by the fields' declared types
            cfg = override_dataclass(cfg, {name: text.strip()}, prefix=f"{method}.")
        except SettingsError as e:
            raise UsageError(f"--set {item!r}: {e}") from None
        cfgs = dataclasses.replace(cfgs, **{method: cfg})
    _check(cfgs)
    return cfgs


RANGES = {  # name -> (test, words); a setting not listed only has to be finite (numbers) or >= 1 (counts)
    "> 0": (lambda v: v > 0, "a number > 0"),
    ">= 0": (lambda v: v >= 0, "a number >= 0"),
    "[0, 1]": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "[0, 1)": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "(0, 1]": (lambda v: 0 < v <= 1, "in (0, 1]"),
}
LIMITS = {
    "ga.sigma": "> 0", "ga.tau": ">= 0", "ga.sigma_min": "> 0", "ga.sigma_c": "> 0", "ga.anneal": "[0, 1]",
    "ga.truncation": "(0, 1]", "ga.crossover": "[0, 1]", "ga.elite": ">= 0", "ga.offspring": ">= 0",
    "ga.mutation_rate": "(0, 1]",
    "ga.batch_end": ">= 0", "es.batch_end": ">= 0", "lres.batch_end": ">= 0",
    "es.sigma": "> 0", "es.lr": "> 0", "es.weight_decay": ">= 0",
    "lres.sigma": "> 0", "lres.lr": "> 0", "lres.weight_decay": ">= 0",
    "backprop.lr": "> 0", "backprop.momentum": "[0, 1)", "backprop.beta1": "[0, 1)", "backprop.beta2": "[0, 1)",
    "backprop.eps": "> 0",
}


def _check(cfgs) -> None:
    """UsageError listing every setting out of its range (NaN, infinities, negative rates and scales...)."""
    from .ga import CROSSOVER_MODES, LAYER1, SCALINGS, SELECTIONS

    g, b = cfgs.ga, cfgs.backprop
    problems = []
    for method in ("ga", "es", "backprop", "lres"):
        cfg = getattr(cfgs, method)
        for f in dataclasses.fields(cfg):
            v, key = getattr(cfg, f.name), f"{method}.{f.name}"
            if isinstance(v, (bool, str)):
                continue
            if isinstance(v, float) and not math.isfinite(v):
                problems.append(f"{key} must be a finite number, got {v}")
            elif key in LIMITS:
                if not RANGES[LIMITS[key]][0](v):
                    problems.append(f"{key} must be {RANGES[LIMITS[key]][1]}, got {v:g}")
            elif isinstance(v, int) and v < 1:
                problems.append(f"{key} must be >= 1, got {v}")
    if g.selection not in SELECTIONS:
        problems.append(f"ga.selection must be one of {', '.join(SELECTIONS)}")
    if g.layer_sigma not in ("same", "fan_in"):
        problems.append("ga.layer_sigma must be same or fan_in")
    if g.scaling not in SCALINGS:
        problems.append(f"ga.scaling must be one of {', '.join(SCALINGS)}")
    if g.crossover_mode not in CROSSOVER_MODES:
        problems.append(f"ga.crossover_mode must be one of {', '.join(CROSSOVER_MODES)}")
    elif g.crossover_mode != "uniform" and g.offspring:
        problems.append("ga.crossover_mode=midpoint needs ga.offspring=0 (cheap children cross whole hidden units)")
    if g.layer1 not in LAYER1:
        problems.append(f"ga.layer1 must be one of {', '.join(LAYER1)}")
    elif g.layer1 == "sparse" and g.offspring:
        problems.append("ga.layer1=sparse needs ga.offspring=0 (cheap children have their own layer-1 products)")
    if g.mutation_rate < 1 and g.offspring:
        problems.append("ga.mutation_rate below 1 needs ga.offspring=0 (cheap children mutate every gene)")
    if g.population < 2 or not 0 <= g.elite < g.population:
        problems.append("ga.population must be >= 2 and 0 <= ga.elite < ga.population")
    if b.optimizer not in ("adam", "sgd"):
        problems.append("backprop.optimizer must be adam or sgd")
    if problems:
        raise UsageError("; ".join(problems))


def check_sizes(methods: list[str], n_in: int, hidden: tuple[int, ...], n_out: int, cfgs) -> None:
    """UsageError if a noise table is shorter than a genome, or the arrays of a run would not fit in memory."""
    from .nets import make_layout

    n = make_layout(n_in, hidden, n_out).n_params
    widest = max(hidden)
    b_ga, b_es, b_lres = (max(c.batch, c.batch_end) for c in (cfgs.ga, cfgs.es, cfgs.lres))  # largest batches
    need = {  # bytes of the largest arrays each method holds at once (float32)
        "ga": 4 * (3 * cfgs.ga.population * n + cfgs.ga.noise_table + 3 * cfgs.ga.population * b_ga * widest
                   + cfgs.ga.offspring * (n_in + 2 * b_ga)),
        "es": 4 * (3 * 2 * cfgs.es.pairs * n + cfgs.es.noise_table + 3 * 2 * cfgs.es.pairs * b_es * widest),
        "backprop": 4 * (8 * n + 6 * max(cfgs.backprop.batch, 5000) * widest),
        "lres": 4 * (2 * cfgs.lres.pairs * (n_in * cfgs.lres.rank + n) + cfgs.lres.noise_table
                     + cfgs.lres.pairs * cfgs.lres.rank * b_lres),
    }
    have = _physical_memory()
    for m in methods:
        if have and need[m] > 0.75 * have:
            raise UsageError(f"{m} on {'-'.join(map(str, (n_in, *hidden, n_out)))} ({n} parameters) with these "
                             f"settings needs about {need[m] / 2**30:.1f} GiB, more than this machine can give "
                             f"({have / 2**30:.1f} GiB); use a smaller net, population or batch")
    for m in methods:
        table = getattr(cfgs, m, None)
        if table is not None and hasattr(table, "noise_table") and table.noise_table < n:
            raise UsageError(f"{m}.noise_table={table.noise_table} is shorter than one genome ({n} floats for "
                             f"{'-'.join(map(str, (n_in, *hidden, n_out)))}); use at least {n}")
    row = cfgs.ga.population * hidden[0]  # the generational GA reads one window per input row for its population
    if "ga" in methods and not cfgs.ga.offspring and cfgs.ga.noise_table < row:
        raise UsageError(f"ga.noise_table={cfgs.ga.noise_table} is shorter than one row of the population's first "
                         f"layer ({cfgs.ga.population} members x {hidden[0]} units); use at least {row}")


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _hidden(text: str) -> tuple[int, ...]:
    try:
        h = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise UsageError(f"--hidden {text!r}: expected widths like 32 or 10,10") from None
    if not h or min(h) < 1:
        raise UsageError(f"--hidden {text!r}: widths must be >= 1")
    return h


def main(args: argparse.Namespace) -> int:
    """Run the comparison (or the seed table); UsageError for anything the user can fix."""
    from . import compare
    from .data import DataError, load_or_download

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in compare.METHODS]
    if bad or not methods:
        raise UsageError(f"--methods {args.methods!r}: choose from {', '.join(compare.METHODS)}")
    twice = sorted({m for m in methods if methods.count(m) > 1})
    if twice:
        raise UsageError(f"--methods {args.methods!r}: {', '.join(twice)} given more than once (use --seeds for "
                         f"repeated runs)")
    hidden = _hidden(args.hidden)
    if "lres" in methods and len(hidden) != 1:
        raise UsageError(f"--methods lres takes one hidden layer, got --hidden {args.hidden}")
    cfgs = configs_from_sets(args.sets)
    if "ga" in methods and any(x.startswith("ga.offspring=") for x in args.sets) and cfgs.ga.offspring \
            and len(hidden) != 1:
        raise UsageError(f"ga.offspring > 0 (cheap children) takes one hidden layer, got --hidden {args.hidden}")
    if cfgs.ga.layer1 == "sparse" and args.reproduce_seed_table:
        raise UsageError("ga.layer1=sparse takes one hidden layer, and --reproduce-seed-table also trains "
                         "784-10-10-10 (leave ga.layer1=auto)")
    if "ga" in methods and cfgs.ga.layer1 == "sparse" and len(hidden) != 1:
        raise UsageError(f"ga.layer1=sparse takes one hidden layer, got --hidden {args.hidden}")
    budget_seconds = args.budget_seconds
    if budget_seconds is None and args.budget_forwards is None:
        budget_seconds = 600.0
    try:
        data = load_or_download(args.data, args.val)
    except DataError as e:
        raise UsageError(str(e)) from None
    check_sizes(["ga", "backprop"] if args.reproduce_seed_table else methods, data.n_in, hidden, data.n_classes,
                cfgs)
    _check_writable(args.out)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    if args.reproduce_seed_table:
        rows = compare.seed_table(data, seeds[0], cfgs, quiet=args.quiet)
        table = compare.seed_table_markdown(rows, int(data.x_train.shape[0]))
        print(table)
        _write(args.out / "seed_table.json", json.dumps({"machine": compare.machine(), "rows": rows}, indent=1))
        _write(args.out / "seed_table.md", table)
        return 0
    res = compare.compare(methods, data, hidden, args.activation, budget_seconds, args.budget_forwards, seeds,
                          cfgs, quiet=args.quiet)
    table = compare.markdown(res)
    print(table)  # on screen first: a full disk below still leaves the figures somewhere
    _write(args.out / "results.json", json.dumps(res, indent=1))
    _write(args.out / "results.md", table)
    if not args.no_plot:
        try:
            compare.figure(res, args.out / "comparison.png")
        except OSError as e:
            raise UsageError(f"{args.out / 'comparison.png'}: cannot write ({e.strerror or e})") from None
    if not args.quiet:
        print(f"wrote {args.out}/ (results.json, results.md{'' if args.no_plot else ', comparison.png'})",
              file=sys.stderr)
    return 0


def _check_writable(out: Path) -> None:
    """Create out and write a probe file there, so a read-only or unusable folder is refused before training."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UsageError(f"{out}: cannot write to the output folder ({e.strerror or e})") from None


def _write(path: Path, text: str) -> None:
    """text to path through the one atomic writer; UsageError (and no temp file left) if the write fails."""
    from ..io import write_text

    try:
        write_text(path, text)
    except OSError as e:
        raise UsageError(f"{path}: cannot write ({e.strerror or e})") from None
