"""`neuroevo check SCENARIO|PATH`: validate a scenario, check that its runs are reproducible, show its net.

Three checks, each failure one line and exit 2: check_scenario() (attributes, hook signatures, every hook called
on a small world), then the same seed run twice, once on the serial step and once on the parallel one, comparing
hashes of the world state and of the genomes. Then it prints the genome layout, the inputs and the outputs.
(Lives beside the environments: it needs nothing from them, and modules at the package's top level count as
kernel sources for the compiled-kernel cache key.)
"""

from __future__ import annotations

import argparse
import hashlib
from typing import Any

from ..args import UsageError
from ..args import int_at_least as _int_at_least


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `check` on the top-level subparsers."""
    c = subparsers.add_parser(
        "check", help="validate a scenario, check determinism, show its genome layout and inputs",
        description="Run check_scenario (hooks called on a small world), run the same seed twice (serial and "
        "team step) comparing state and genome hashes, then print the genome layout, inputs and outputs. "
        "Exit 2 with one line when something is wrong.",
    )
    c.add_argument("scenario", help="scenario name from scenarios/ or a path to a .py file")
    c.add_argument("--seed", type=_int_at_least(0), default=1, help="seed of the determinism runs (default 1)")
    c.add_argument("--steps", type=_int_at_least(1), default=600,
                   help="steps of each determinism run (default 600, 10 simulated seconds at dt=1/60)")
    c.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. --set world.agents=20 (repeatable)")
    return c


def world_hash(sim: Any) -> str:
    """sha256 over every array of the world state, the genomes and the hall of fame (names, dtypes, bytes)."""
    h = hashlib.sha256()
    arrays = {**{f"state.{k}": v for k, v in sim.state.arrays().items()}, "genomes": sim.genomes, "hof": sim.hof,
              "hof_fit": sim.hof_fit}
    for k in sorted(arrays):
        a = arrays[k]
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def main(args: argparse.Namespace) -> int:
    from ..check import check_scenario
    from ..declare import SettingsError, parse_set
    from ..scenario import ScenarioError, load_scenario
    from ..sim import make

    try:
        overrides: dict[str, Any] = parse_set(args.sets)
        cls = load_scenario(args.scenario)
        cls.settings(overrides)
        check_scenario(cls, overrides=overrides)
        hashes = []
        for threads in (1, 2):
            sim = make(cls, seed=args.seed, overrides=overrides)
            sim.set_threads(threads)
            sim.run(args.steps)
            hashes.append(world_hash(sim))
    except (SettingsError, ScenarioError) as e:
        raise UsageError(str(e)) from None
    if hashes[0] != hashes[1]:
        raise UsageError(f"{args.scenario}: not deterministic: seed {args.seed} gave different worlds after "
                         f"{args.steps} steps on the serial and the team step ({hashes[0][:12]} vs "
                         f"{hashes[1][:12]})")
    sizes = sim.layout.sizes
    layers = ", ".join(f"{a}x{b} + {b}" for a, b in zip(sizes[:-1], sizes[1:]))
    print(f"scenario {sim.scenario}: check_scenario passed; seed {args.seed} reproduced the same world on the serial "
          f"and team step after {args.steps} steps (sha256 {hashes[0][:16]})")
    print(f"genome layout {'-'.join(map(str, sizes))}: {sim.layout.n_params} parameters ({layers})")
    print(f"agents {sim.state.n}, sensors {', '.join(sim.input_offsets)}, frame {sim.settings.brain.frame}")
    print("inputs:")
    for k, name in enumerate(sim.input_names()):
        print(f"  {k:3d}  {name}")
    print("outputs:")
    for k, name in enumerate(sim.output_names()):
        print(f"  {k:3d}  {name} (-1 .. 1)")
    return 0
