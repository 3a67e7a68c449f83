"""Files written before the ego frame's "self" sensor lost its heading inputs, converted as they are read.

Until format version 2 of population files and replays, the "self" block had 3 inputs in both frames: speed, then
the cos and sin of the heading, which the ego frame always set to 0 (its axes are the heading). An input that is
always 0 adds 0 to every first-layer unit, so deleting its weight row gives a net with exactly the same outputs:
that is the conversion. World-frame files, and files without the "self" sensor, have the same layout in both
versions and are read as they are. Brain files name their inputs, so an old one is told by its ego frame and a
"cos heading" or "sin heading" input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

HEADING_NAMES = ("cos heading", "sin heading")  # the old ego frame's always-zero inputs (sensors.BLOCK_NAMES)


def dead_inputs(brain: Any) -> list[int]:
    """Inputs of the old layout that always read 0 under these brain settings (config.Brain): the heading of the
    "self" block in the ego frame; [] when the layout did not change."""
    if brain.frame != "ego" or "self" not in brain.sensors:
        return []
    from .config import input_offsets

    first = input_offsets(brain)["self"][0]  # blocks before "self" kept their sizes
    return [first + 1, first + 2]


def drop_inputs(genomes: np.ndarray, hidden1: int, rows: list[int]) -> np.ndarray:
    """genomes (..., n_params) float32 without the first-layer weight rows of these inputs.

    A genome starts with the first layer's W (n_in, hidden1) in row-major order, so input r owns the numbers
    [r * hidden1, (r + 1) * hidden1); everything after (biases, later layers, on/off genes) keeps its order."""
    if not rows:
        return genomes
    if genomes.shape[-1] < (max(rows) + 1) * hidden1:
        raise ValueError(f"genomes of {genomes.shape[-1]} numbers are too short for the old input layout")
    keep = np.ones(genomes.shape[-1], np.bool_)
    for r in rows:
        keep[r * hidden1 : (r + 1) * hidden1] = False
    return np.ascontiguousarray(genomes[..., keep])


def population(data: dict[str, np.ndarray], settings: Any) -> dict[str, np.ndarray]:
    """The arrays of a version-1 population file in today's layout: genomes and hall of fame lose the dead rows,
    the activations (N, n_units) their columns. ValueError when the arrays are too small to hold the old layout."""
    rows = dead_inputs(settings.brain)
    if not rows:
        return data
    from .brain import Layout
    from .config import gated, input_offsets
    from .sensors import OUTPUT_NAMES

    b = settings.brain
    h1 = b.hidden[0]
    n = data["genomes"].shape[-1]
    rest = Layout((1, *b.hidden, len(OUTPUT_NAMES)), gated=gated(settings)).n_params - h1  # all but W1
    n_in, left = divmod(n - rest, h1)
    if left or n_in < sum(k for _, k in input_offsets(b).values()) + len(rows):
        raise ValueError(f"genomes of {n} numbers do not fit the old input layout of its settings (format version 1)")
    out = dict(data)
    for k in ("genomes", "hof"):
        if k in out:
            out[k] = drop_inputs(out[k], h1, rows)
    acts = out.get("state_acts")
    if acts is not None:
        if acts.ndim != 2 or acts.shape[1] <= max(rows):
            raise ValueError(f"state_acts has shape {acts.shape}, too small for the old input layout")
        out["state_acts"] = np.ascontiguousarray(np.delete(acts, rows, axis=1))
    return out


class NoSingleLayout(ValueError):
    """An old file whose genomes were made under both input layouts."""


def replay_rows(settings: Any, changes: list[Any]) -> list[int]:
    """The dead inputs of a version-1 replay whose settings were `settings` and then each of `changes`
    (config.Settings). NoSingleLayout when its frame changed during the recording with the "self" sensor on: the
    genomes born in the world frame read their heading, those born in the ego frame did not, so no single layout
    fits them all."""
    rows = dead_inputs(settings.brain)
    for s in changes:
        if dead_inputs(s.brain) != rows:
            raise NoSingleLayout("its brain.frame changed during the recording and it predates the ego frame's "
                                 '1-input "self" sensor (format version 1), so its genomes fit no single input '
                                 "layout; it cannot be read")
    return rows


def brain_rows(inputs: list[str], frame: str) -> list[int]:
    """Inputs of a brain file that always read 0: the heading inputs an ego-frame brain file written before the
    change names."""
    return [k for k, name in enumerate(inputs) if name in HEADING_NAMES] if frame == "ego" else []
