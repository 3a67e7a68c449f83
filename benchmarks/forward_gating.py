"""What on/off unit genes cost the compiled forward pass: the same agents with and without gates, side by side.

    python benchmarks/forward_gating.py [--agents 1000] [--hidden 16] [--rounds 15] [--calls 200]

A growing brain (brain.hidden_start, evolution.add_unit_rate) carries one gene per hidden unit, and units that are
off read 0. Both layouts here hold the same weights, every unit on, so they compute the same activations; each
round times brain.forward_serial over the population once per layout (alternating, so a slow minute of the machine
hits both) and the script prints the median of the per-round ratios (gated / plain; 1.00 = free). The default
world's net: its inputs, --hidden, 2 outputs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neuroevo.brain import Layout, forward_serial, init_genomes
from neuroevo.sim import N_OUTPUTS, make


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--hidden", type=int, nargs="+", default=[16], help="hidden widths (default: the default's 16)")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--calls", type=int, default=200, help="forward passes of the population per timing")
    args = ap.parse_args(argv)
    n_in = make("edges").layout.sizes[0]
    rng = np.random.default_rng(0)
    plain = Layout((n_in, *args.hidden, N_OUTPUTS))
    gated = Layout(plain.sizes, gated=True)
    g_plain = init_genomes(plain, args.agents, 2.0, rng)
    g_gated = np.concatenate([g_plain, np.ones((args.agents, gated.n_gates), np.float32)], axis=1)  # all on
    runs = {}
    for name, layout, genomes in (("plain", plain, g_plain), ("gated", gated, g_gated)):
        sizes, offsets = layout.arrays()
        acts = rng.random((args.agents, layout.n_units), dtype=np.float32)
        runs[name] = (genomes, acts, sizes, offsets)
    ref = runs["plain"][1].copy()
    forward_serial(*runs["plain"])
    forward_serial(*runs["gated"])  # compile (or load) and warm both
    runs["gated"][1][:, : n_in] = ref[:, : n_in]
    runs["plain"][1][:, : n_in] = ref[:, : n_in]
    forward_serial(*runs["plain"])
    forward_serial(*runs["gated"])
    assert np.array_equal(runs["plain"][1], runs["gated"][1]), "gated and plain nets disagree"
    ns = {"plain": [], "gated": []}
    for _ in range(args.rounds):
        for name in ns:
            t = time.perf_counter()
            for _ in range(args.calls):
                forward_serial(*runs[name])
            ns[name].append((time.perf_counter() - t) / args.calls / args.agents * 1e9)
    ratio = np.array(ns["gated"]) / np.array(ns["plain"])
    print(f"net {'-'.join(map(str, plain.sizes))}, {args.agents} agents, {args.rounds} rounds of {args.calls} passes")
    for name, v in ns.items():
        print(f"  {name}: median {np.median(v):.1f} ns per agent (min {min(v):.1f}, max {max(v):.1f})")
    print(f"gated / plain: median {np.median(ratio):.3f} (rounds {ratio.min():.3f}-{ratio.max():.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
