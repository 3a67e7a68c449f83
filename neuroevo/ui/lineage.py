"""Families: the founder every genome descends from (children inherit their parent's founder).

One tracker for the live window and the replay reader; numpy only (the replay reader imports it headless).
"""

from __future__ import annotations

import numpy as np


class Families:
    """Genome id -> founder id. A genome whose parent is unknown (or -1) founds its own family."""

    def __init__(self) -> None:
        self._founder: dict[int, int] = {}

    def born(self, gid: int, parent: int) -> int:
        """Record a genome and its parent; returns its founder."""
        f = self._founder.get(parent, parent) if parent >= 0 else gid
        self._founder[gid] = f
        return f

    def founder(self, gid: int) -> int:
        return self._founder.get(int(gid), int(gid))

    def knows(self, gid: int) -> bool:
        return int(gid) in self._founder

    def __len__(self) -> int:
        return len(self._founder)

    def keep_only(self, gids: set[int]) -> None:
        """Forget every genome not in gids (no living agent descends from the others through them)."""
        self._founder = {g: f for g, f in self._founder.items() if g in gids}


class SlotFamilies:
    """The founder of whoever holds each slot, kept up to date from the slots' genome and parent ids."""

    def __init__(self, families: Families, n: int, forget: bool = True) -> None:
        self.families = families
        self.forget = forget  # live: drop genomes nobody descends from; a replay's table is fixed
        self.last_id = np.full(n, -2, np.int64)  # (N,) genome id seen in each slot
        self.founder = np.zeros(n, np.int64)  # (N,) its founder

    def update(self, genome_id: np.ndarray, parent_id: np.ndarray) -> np.ndarray:
        """Slots whose genome changed since the last call."""
        changed = np.flatnonzero(genome_id != self.last_id)
        fam = self.families
        for i in changed.tolist():
            g = int(genome_id[i])
            self.founder[i] = fam.founder(g) if fam.knows(g) else fam.born(g, int(parent_id[i]))
        self.last_id[:] = genome_id
        if self.forget and len(fam) > 20 * genome_id.shape[0] + 10_000:
            fam.keep_only(set(genome_id.tolist()))
        return changed
