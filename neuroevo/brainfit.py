"""A brain file into a world (`--founders`): does it fit, and its net in the world's genome layout, computing
exactly what it computed (growing and fixed nets alike).

A brain must read the world's inputs (sensors, encoding, frame) and drive its outputs; its hidden layers are put
into the world's layout (brain.Layout) by these rules, and the number of hidden layers must be the world's:

- A fixed world (no on/off genes): its widths must be the brain's. A growing brain becomes a fixed net with every
  unit on; a unit that was off keeps its incoming weights and bias and gets zero outgoing weights, so it computes
  a value that nothing reads and the outputs are those of the growing net.
- A growing world (brain.Layout.gated): brain.hidden is the largest width. Each unit keeps its slot and its on/off
  state (a fixed brain's units are all on); slots the brain does not have are off, with zero weights. A brain wider
  than the world keeps every unit that is on and, in slot order, the first units that are off until the layer is
  full; a brain with more units on in a layer than the world's width is refused.

An off unit reads 0 and is skipped as an input (brain.forward_one); a unit with zero outgoing weights adds +-0 to
every sum it feeds, which leaves the sum as it was (only a sum of exactly -0 could turn into +0, the same value).
Either way the units that are on add the same numbers in the same order, so the outputs are the same float32s.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .brain import Layout, active_units


class Unfit(ValueError):
    """Why a net cannot be put into a layout: one phrase."""


def _widths(sizes: tuple[int, ...]) -> str:
    return "-".join(map(str, sizes))


def fit_genome(src: Layout, genome: np.ndarray, dst: Layout) -> np.ndarray:
    """genome (src.n_params,) float32 as a genome (dst.n_params,) float32 of layout dst with the same outputs for the
    same inputs (the rules above). Raises Unfit."""
    if src.n_in != dst.n_in or src.n_out != dst.n_out:
        raise Unfit(f"it is a {_widths(src.sizes)} net, the world's nets are {_widths(dst.sizes)}")
    hs, hd = src.sizes[1:-1], dst.sizes[1:-1]
    hint = f"try --set brain.hidden={','.join(map(str, hs))}"
    if len(hs) != len(hd) or (not dst.gated and hs != hd):
        raise Unfit(f"its hidden layers are {_widths(hs)}, the world's {_widths(hd)}; {hint}")
    genome = np.asarray(genome, np.float32)
    if src == dst:
        return genome.copy()
    on = active_units(src, genome)  # [(h,) bool] per hidden layer
    if not dst.gated:  # same widths, src growing: the off units' outgoing weights become 0
        g = genome[: dst.n_weights].copy()
        for w, o in zip((w for w, _ in dst.split(g)[1:]), on):  # views into g
            w[~o, :] = 0.0
        return g
    keep = []  # the source slots each world layer takes, in slot order
    for k, (o, h) in enumerate(zip(on, hd)):
        ids, off = np.flatnonzero(o), np.flatnonzero(~o)
        if ids.size > h:
            raise Unfit(f"its hidden layer {k + 1} has {ids.size} units on, more than the world's brain.hidden allows "
                    f"there ({h}); {hint}")
        keep.append(np.sort(np.concatenate([ids, off[: h - ids.size]])))
    g = np.zeros(dst.n_params, np.float32)
    units = [np.arange(src.n_in), *keep, np.arange(src.n_out)]
    for (ws, bs), (wd, bd), a, b in zip(src.split(genome), dst.split(g), units[:-1], units[1:]):
        wd[: a.size, : b.size] = ws[np.ix_(a, b)]
        bd[: b.size] = bs[b]
    p = dst.n_weights
    for k, o, h in zip(keep, on, hd):
        g[p : p + k.size] = o[k]
        p += h
    return g



def mismatch(b: Any, sim: Any) -> str | None:
    """Why brain b (brainfile.Brain) cannot drive the agents of sim (one phrase), or None when it fits."""
    from .brainfile import brain_of

    w = brain_of(sim.settings, sim.layout, sim.genomes[0], {})
    if b.inputs != w.inputs:
        if b.sensors != w.sensors:
            return (f"it reads sensors {', '.join(b.sensors) or '?'} ({len(b.inputs)} inputs), the world gives "
                    f"{', '.join(w.sensors)} ({len(w.inputs)} inputs); try --set brain.sensors={','.join(b.sensors)}")
        if b.frame != w.frame:  # the "self" sensor has the heading inputs in the world frame only
            return _frame_mismatch(b, w)
        k = next((i for i, (x, y) in enumerate(zip(b.inputs, w.inputs)) if x != y), min(len(b.inputs),
                                                                                      len(w.inputs)))
        mine = b.inputs[k] if k < len(b.inputs) else "nothing"
        theirs = w.inputs[k] if k < len(w.inputs) else "nothing"
        return (f"its input {k + 1} is {mine!r}, the world's is {theirs!r} ({len(b.inputs)} inputs against "
                f"{len(w.inputs)})")
    if b.encoding != w.encoding or not math.isclose(b.scale_px, w.scale_px):
        return (f"it reads {b.encoding} distances (scale {b.scale_px:g} px), the world gives {w.encoding} "
                f"(scale {w.scale_px:g} px); try --set brain.encoding={b.encoding}")
    if b.frame != w.frame:
        return _frame_mismatch(b, w)
    if b.outputs != w.outputs:
        return f"its outputs are {', '.join(b.outputs)}, the world's {', '.join(w.outputs)}"
    try:
        fit_genome(b.layout, b.genome, sim.layout)
    except Unfit as e:
        return str(e)
    return None


def _frame_mismatch(b: Any, w: Any) -> str:
    return f"it senses in the {b.frame} frame, the world in the {w.frame} frame; try --set brain.frame={b.frame}"


def check_fits(b: Any, sim: Any) -> None:
    """brainfile.BrainError (one line naming the file) when brain b does not fit sim."""
    from .brainfile import BrainError

    why = mismatch(b, sim)
    if why is not None:
        raise BrainError(f"{b.path or 'brain'}: does not fit scenario {sim.scenario!r}: {why}")


def seed_founders(sim: Any, brains: list[Any], fill: bool = False) -> None:
    """Founders from brains: slot k gets a mutated copy of brains[k] (every slot, cycling through the brains, with
    fill), each first put into the world's layout (fit_genome: a growing brain keeps its units on and off), then
    mutated as a child is (evolution.mutate on the weights, mutate_units in a growing world) with the run's own
    Generator, so the run stays deterministic."""
    from .brainfile import BrainError
    from .evolution import mutate, mutate_units

    if not brains:
        return
    for b in brains:
        check_fits(b, sim)
    n = sim.state.n
    if len(brains) > n:
        raise BrainError(f"{len(brains)} founder brains for {n} agents; pass at most {n} or raise --agents")
    fitted = [fit_genome(b.layout, b.genome, sim.layout) for b in brains]  # (n_params,) float32 each
    ev, layout = sim.settings.evolution, sim.layout
    sizes = layout.arrays()[0]
    for k in range(n if fill else len(brains)):
        g = fitted[k % len(brains)].copy()
        mutate(g[: layout.n_weights], ev.mutation_rate, ev.sigma, sim.rng)
        if layout.gated:
            mutate_units(g, sizes, sim.params, sim.rng)
        sim.genomes[k] = g
