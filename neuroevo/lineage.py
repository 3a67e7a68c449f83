"""Lineage: who descends from whom. Families of a running world (an observer) and the family tree of a replay.

A family is everyone descended from one founder (a genome of the first population, or a genome alive when a
recording started). Two sources of births:
  FamilyTracker  an observer of a running Simulation. It looks at the slots every `every` steps (10 simulated
                 seconds by default: cheap, the compiled step keeps its long chunks). A genome that was born and
                 died between two looks is invisible there; if it had a child, that child's parent is unknown. The
                 tracker then re-runs the interval one step at a time on a copy of the world (the step is
                 deterministic, so the copy makes the same births) and checks that the copy ends where the world
                 is. Worlds whose interval cannot be re-run (scenario hooks, an outside cursor) look every
                 hook_every steps instead; a parent still unseen there is counted in `unresolved` and its children
                 form a family of their own.
  History        every birth of a replay (births carry parent ids), for the tree figure and the live ancestry.
Everything here is plain data (numpy, dicts); drawing lives in tree.py and the viewer.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
Steps = Generator[None, None, T]  # work in pieces: each `yield` is a place to pause (the live panel's frames)

# Family colours (the viewer's LINEAGE_TINTS): a genome is drawn in FAMILY_TINTS[founder id % 12].
FAMILY_TINTS = (
    (255, 205, 60), (255, 150, 80), (240, 100, 110), (235, 120, 200), (170, 130, 250), (110, 150, 255),
    (80, 200, 240), (80, 210, 160), (140, 220, 90), (210, 230, 80), (250, 180, 150), (200, 200, 212),
)
LOOK_SECONDS = 10.0  # FamilyTracker: simulated seconds between looks at the slots
EXTERNAL_CURSOR = "external"
RERUN_PIECE = 64  # steps per piece when an interval is re-run (see FamilyTracker._rerun)
PIECE = 256  # genomes between two pauses of the Steps functions (well under a millisecond of work)


def finish(steps: Steps[T]) -> T:
    """Run Steps to their end and return their result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def tint_of(founder: int) -> tuple[int, int, int]:
    return FAMILY_TINTS[int(founder) % len(FAMILY_TINTS)]


# ---- a running world -----------------------------------------------------------------------------------------
class FamilyTracker:
    """Observer: the founder of every genome in a slot; `families()` counts founders with living descendants.

    founders: {genome id: founder id} of the genomes in the slots when tracking starts (a resumed run passes what
    checkpoint_state() left in its checkpoint); without it, the genomes in the slots are their own founders.
    history=True also keeps, for every genome with a descendant in the slots, its parent and birth step (for the
    live ancestry panel: `branches()`).
    frequent=True is for a caller that looks after every few steps (the live window looks after every frame): no
    copy of the world is kept for re-runs (a parent born and dead between two looks counts in `unresolved`), and the
    tables are pruned only once they have doubled, so a look that sees a birth costs microseconds, not a walk over
    every ancestor."""

    wants_events = False

    def __init__(self, sim: Any, founders: dict[int, int] | None = None, every: int | None = None,
                 history: bool = False, frequent: bool = False) -> None:
        hooks = type(sim.hooks).hooks_defined() if getattr(sim, "hooks", None) is not None else []
        look = max(1, int(round(LOOK_SECONDS / sim.settings.world.dt)))
        self.replayable = not hooks
        if hooks:  # the step is cut there anyway: looking as often costs nothing
            look = min(look, int(type(sim.hooks).hook_every))
        self.every = int(every) if every is not None else look
        self.unresolved = 0  # children whose parent was never seen (see the module docstring)
        self.resolved = 0  # intervals re-run to find a parent born and dead between two looks
        self.keep_history = history
        self.frequent = frequent
        self._kept = 0  # genomes kept by the last pruning (frequent: the next one waits until twice as many)
        s = sim.state
        known = founders or {}
        self.founder: dict[int, int] = {}
        self.parent: dict[int, int] = {}  # with history: every kept genome's parent (-1: a root)
        self.born: dict[int, int] = {}  # with history: step of the look that first saw it
        for g, p in zip(s.genome_id.tolist(), s.parent_id.tolist()):
            self.founder[g] = int(known.get(g, g))
            self.parent[g] = -1 if g not in known or known[g] == g else p
            self.born[g] = sim.step_count
        self._last = s.genome_id.copy()  # (N,) int64 genome ids at the last look
        self._at = sim.step_count
        self._snap: dict[str, Any] | None = None
        self._snapshot(sim)

    # -- observer --
    def observe(self, sim: Any) -> None:
        self.update(sim)

    def update(self, sim: Any) -> None:
        """Take in every birth since the last look (idempotent within a step)."""
        if sim.step_count == self._at:
            return
        s = sim.state
        changed = np.flatnonzero(s.genome_id != self._last)
        if changed.size:
            born = sorted(zip(s.genome_id[changed].tolist(), s.parent_id[changed].tolist()))  # parents first
            ids = {g for g, _ in born}
            if any(p >= 0 and p not in self.founder and p not in ids for _, p in born):
                born = self._rerun(sim) or born
            for g, p in born:
                if p < 0:
                    f = g
                elif p in self.founder:
                    f = self.founder[p]
                else:  # a parent never seen: its children make a family of their own
                    self.unresolved += 1
                    f = -2 - p
                self.founder[g] = f
                self.parent[g] = p
                self.born[g] = sim.step_count
            self._forget(sim)
        self._last[:] = s.genome_id
        self._at = sim.step_count
        self._snapshot(sim)

    def families(self, sim: Any) -> int:
        """Founders with at least one living descendant."""
        self.update(sim)
        s = sim.state
        return len({self.founder[g] for g in s.genome_id[s.alive].tolist()})

    def founders_of(self, sim: Any) -> np.ndarray:
        """(N,) int64 founder id of the genome in each slot."""
        self.update(sim)
        return np.array([self.founder[g] for g in sim.state.genome_id.tolist()], np.int64)

    def checkpoint_state(self, sim: Any) -> dict[str, Any]:
        """What a checkpoint keeps (Simulation.save calls it): {"families": {"founders": {genome id: founder id}}}
        for the genomes in the slots (JSON keys are strings); observers.saved_founders() reads it back."""
        self.update(sim)
        return {"families": {"founders": {str(g): int(self.founder[g]) for g in sim.state.genome_id.tolist()}}}

    def branches(self, sim: Any) -> list[dict[str, Any]]:
        """The ancestry of the living as plain data (see `branches`); needs history=True."""
        return branches(self.history(sim))

    def history(self, sim: Any) -> History:
        """The genomes kept (those with a descendant in the slots) as a History ending now: the living alive, the
        others dead (when is not kept); needs history=True."""
        return finish(history_steps(self.snapshot(sim)))

    def snapshot(self, sim: Any) -> dict[str, Any]:
        """Copies of what history() reads (a few dict copies: cheap enough for a frame), for history_steps()."""
        if not self.keep_history:
            raise ValueError("branches() needs a FamilyTracker made with history=True")
        self.update(sim)
        s = sim.state
        return {"parent": dict(self.parent), "born": dict(self.born), "founder": dict(self.founder),
                "alive": s.genome_id[s.alive].copy(), "dt": sim.settings.world.dt, "end": sim.sim_seconds}

    # -- inside --
    def _forget(self, sim: Any) -> None:
        """Keep the genomes in the slots (a generational rebuild also picks dead ones as parents) and, with
        history, their ancestors."""
        if self.frequent and len(self.founder) < 2 * self._kept + sim.state.n:
            return
        keep = set(sim.state.genome_id.tolist())
        if self.keep_history:
            frontier = list(keep)
            while frontier:
                p = self.parent.get(frontier.pop(), -1)
                if p >= 0 and p not in keep and p in self.parent:
                    keep.add(p)
                    frontier.append(p)
            self.parent = {g: p for g, p in self.parent.items() if g in keep}
            self.born = {g: b for g, b in self.born.items() if g in keep}
        else:
            self.parent, self.born = {}, {}
        self.founder = {g: f for g, f in self.founder.items() if g in keep}
        self._kept = len(self.founder)

    def _snapshot(self, sim: Any) -> None:
        """What a re-run of the next interval starts from (only for worlds that can be re-run)."""
        cursor = sim.settings.cursor.source
        if self.frequent or not self.replayable or _cursor_is_external(sim, cursor):
            self._snap = None
            return
        self._snap = {**_capture(sim), "params": sim.params, "parallel": sim.parallel}

    def _rerun(self, sim: Any) -> list[tuple[int, int]] | None:
        """Every (genome id, parent id) born since the last look, from a re-run of the interval on a copy of the
        world; None if it cannot be re-run or the copy does not end where the world is.

        The copy runs in pieces of RERUN_PIECE steps; a piece whose newborns all have known parents is taken
        whole (a genome born and dead inside it had no child that outlived it there, so no later child can be
        its), any other piece is run again from its start in halves, down to single steps."""
        snap = self._snap
        if snap is None:
            return None
        from .checkpoint import restore
        from .sim import Simulation

        copy = Simulation(sim.settings, seed=sim.seed, scenario=sim.scenario, hooks=sim.hooks)
        restore(copy, snap["data"], {"rng": snap["rng"]})
        copy.params = snap["params"]
        copy.set_threads(2 if snap["parallel"] else 1)
        known = set(self.founder)
        born: list[tuple[int, int]] = []

        def advance(n: int) -> None:
            start = _capture(copy) if n > 1 else None
            last = copy.state.genome_id.copy()
            copy.run(n)
            gid = copy.state.genome_id
            new = sorted((int(gid[i]), int(copy.state.parent_id[i])) for i in np.flatnonzero(gid != last).tolist())
            ids = {g for g, _ in new}
            if start is not None and any(p >= 0 and p not in known and p not in ids for _, p in new):
                restore(copy, start["data"], {"rng": start["rng"]})
                advance(n // 2)
                advance(n - n // 2)
                return
            born.extend(new)
            known.update(ids)

        left = sim.step_count - snap["step"]
        while left > 0:
            advance(min(RERUN_PIECE, left))
            left -= min(RERUN_PIECE, left)
        same = (np.array_equal(copy.state.genome_id, sim.state.genome_id)
                and np.array_equal(copy.state.parent_id, sim.state.parent_id)
                and copy.rng.bit_generator.state == sim.rng.bit_generator.state)
        if not same:
            return None
        self.resolved += 1
        return sorted(born)


def _capture(sim: Any) -> dict[str, Any]:
    """Arrays and random state a checkpoint.restore() puts back into a world of the same layout."""
    data = {f"state_{k}": v.copy() for k, v in sim.state.arrays().items()}
    data.update(genomes=sim.genomes.copy(), hof=sim.hof.copy(), hof_fit=sim.hof_fit.copy(),
                icons=np.array(sim.icons, np.float32))
    return {"step": sim.step_count, "data": data, "rng": sim.rng.bit_generator.state}


def _cursor_is_external(sim: Any, source: str) -> bool:
    from .config import CHOICES

    return source == EXTERNAL_CURSOR or sim.params.cursor_source == CHOICES["cursor.source"].index(EXTERNAL_CURSOR)


def history_steps(snap: dict[str, Any]) -> Steps[History]:
    """The History of a FamilyTracker.snapshot(), in pieces."""
    parent, born, founder = snap["parent"], snap["born"], snap["founder"]
    keys = list(parent)
    steps: list[int] = []
    fnd: list[int] = []
    for k in range(0, len(keys), PIECE):
        part = keys[k: k + PIECE]
        steps += [born[g] for g in part]
        fnd += [founder[g] for g in part]
        yield
    gid = np.array(keys, np.int64)
    order = np.argsort(gid, kind="stable")
    gid = gid[order]
    par = np.fromiter(parent.values(), np.int64, len(parent))[order]
    yield
    died = np.where(np.isin(gid, snap["alive"]), np.nan, 0.0)
    return History(gid, par, np.array(steps, np.float64)[order] * snap["dt"], died, np.array(fnd, np.int64)[order],
                   snap["end"])


# ---- a recorded run ------------------------------------------------------------------------------------------
@dataclass
class History:
    """Every genome of a recording, by ascending id (a parent's id is below its children's)."""

    gid: np.ndarray  # (G,) int64 genome id
    parent: np.ndarray  # (G,) int64 parent id; -1 for a root (a founder, or alive when the recording began)
    born: np.ndarray  # (G,) float64 sim seconds of its birth (the recording's start for a root)
    died: np.ndarray  # (G,) float64 sim seconds of its death or replacement; NaN if alive at the end
    founder: np.ndarray  # (G,) int64 id of the root it descends from
    end: float  # sim seconds of the last frame

    @property
    def alive(self) -> np.ndarray:
        """(G,) bool alive at the end."""
        return np.isnan(self.died)

    def lifetime(self) -> np.ndarray:
        """(G,) float64 seconds lived within the recording (to the end for the living)."""
        return np.where(self.alive, self.end, self.died) - self.born

    def index(self) -> dict[int, int]:
        return {g: i for i, g in enumerate(self.gid.tolist())}

    def survives(self) -> np.ndarray:
        """(G,) bool: the genome or one of its descendants is alive at the end."""
        return np.array(finish(_survives(self.alive.tolist(), self._parent_rows())), bool)

    def _parent_rows(self) -> list[int | None]:
        """Row of each genome's parent, None for a root."""
        idx = self.index()
        return [idx.get(p) for p in self.parent.tolist()]


def _survives(alive: list[bool], prow: list[int | None]) -> Steps[list[bool]]:
    out = list(alive)
    for i in range(len(out) - 1, -1, -1):  # children before parents
        j = prow[i]
        if out[i] and j is not None:
            out[j] = True
        if i % PIECE == 0:
            yield
    return out


def from_replay(replay: Any) -> History:
    """The History of a replay (neuroevo.replay.Replay): roots from its first keyframe, then every birth.

    A slot's holder ends where a death is reported in the slot, or where a birth replaces it (a generational
    rebuild replaces survivors too)."""
    return finish(from_replay_steps(replay))


def from_replay_steps(replay: Any) -> Steps[History]:
    """from_replay() in pieces."""
    dt = replay.dt
    t0 = int(replay.meta.get("start_step", 0))
    gid0 = replay.keys[0][0]
    b, d = replay.births, replay.deaths
    gids = [*gid0.tolist(), *b["gid"].tolist()]
    parents = [-1] * gid0.size + b["parent"].tolist()
    born = [0] * gid0.size + b["frame"].tolist()
    died: dict[int, int] = {}
    holder = gid0.copy()
    bf, df = b["frame"], d["frame"]
    i = j = 0
    while i < bf.size or j < df.size:  # deaths of a frame come before its births
        if j < df.size and (i >= bf.size or df[j] <= bf[i]):
            died.setdefault(int(holder[d["slot"][j]]), int(df[j]))
            j += 1
        else:
            s = int(b["slot"][i])
            died.setdefault(int(holder[s]), int(bf[i]))
            holder[s] = b["gid"][i]
            i += 1
        if (i + j) % PIECE == 0:
            yield
    order = np.argsort(np.array(gids, np.int64), kind="stable")
    gid = np.array(gids, np.int64)[order]
    parent = np.array(parents, np.int64)[order]
    known = set(gid.tolist())
    parent = np.array([p if p in known else -1 for p in parent.tolist()], np.int64)
    to_s = lambda f: (t0 + f) * dt  # noqa: E731
    born_s = np.array([to_s(f) for f in np.array(born)[order].tolist()])
    died_s = np.array([to_s(died[g]) if g in died else np.nan for g in gid.tolist()])
    founder = np.empty_like(gid)
    idx: dict[int, int] = {}
    for k, (g, p) in enumerate(zip(gid.tolist(), parent.tolist())):
        founder[k] = g if p < 0 else founder[idx[p]]
        idx[g] = k
        if k % PIECE == 0:
            yield
    return History(gid, parent, born_s, died_s, founder, to_s(len(replay) - 1))


def family_table(h: History) -> list[dict[str, Any]]:
    """One row per founder, most successful first (living descendants, then total lifetime of the family):
    founder id, descendants (genomes born into the family), living, total lifetime in seconds."""
    life = h.lifetime()
    alive = h.alive
    rows: dict[int, dict[str, Any]] = {}
    for f, p, lv, a in zip(h.founder.tolist(), h.parent.tolist(), life.tolist(), alive.tolist()):
        r = rows.setdefault(f, {"founder": f, "descendants": 0, "living": 0, "lifetime_s": 0.0})
        r["descendants"] += p >= 0
        r["living"] += bool(a)
        r["lifetime_s"] += lv
    return sorted(rows.values(), key=lambda r: (-r["living"], -r["lifetime_s"], r["founder"]))


def tree_rows(h: History) -> np.ndarray:
    """(G,) float64 row of each genome in a drawing of the tree: depth-first, children in birth order under their
    parent, so every family and every branch is one contiguous band of rows."""
    idx = h.index()
    children: dict[int, list[int]] = {}
    roots: list[int] = []
    for k, p in enumerate(h.parent.tolist()):
        (children.setdefault(idx[p], []) if p >= 0 else roots).append(k)
    rows = np.zeros(h.gid.size)
    stack = sorted(roots, key=lambda k: (int(h.founder[k]) % len(FAMILY_TINTS), k), reverse=True)
    n = 0
    while stack:
        k = stack.pop()
        rows[k] = n
        n += 1
        stack.extend(sorted(children.get(k, []), key=lambda c: h.born[c], reverse=True))
    return rows


def branches(h: History) -> list[dict[str, Any]]:
    """The ancestry of the genomes alive at the end (see branches_steps)."""
    return finish(branches_steps(h))


def branches_steps(h: History) -> Steps[list[dict[str, Any]]]:
    """The ancestry of the genomes alive at the end, collapsed to the branches that still have descendants.

    Only genomes with a living descendant are kept, and a dead genome with one kept child is folded into that
    child (`folded` counts the generations folded away), so what remains are the living (leaves) and the dead
    ancestors where lineages split. Rows: gid, parent (-1 at a root), founder, born_s, alive, living (living
    descendants, itself included), folded, row (a depth-first row for drawing, living leaves at 0, 1, 2...)."""
    # plain lists: this runs a few times a second in the live panel, over every genome with a living descendant
    idx = h.index()
    yield
    prow: list[int | None] = []
    par = h.parent.tolist()
    for k in range(0, len(par), PIECE):
        prow += [idx.get(p) for p in par[k: k + PIECE]]
        yield
    alive, born = h.alive.tolist(), h.born.tolist()
    keep = yield from _survives(alive, prow)
    kept = [k for k, x in enumerate(keep) if x]
    kids: dict[int, list[int]] = {}
    for n, k in enumerate(kept):
        p = prow[k]
        if p is not None:
            kids.setdefault(p, []).append(k)
        if n % PIECE == 0:
            yield
    living = [int(a) for a in alive]
    for n, k in enumerate(reversed(kept)):
        p = prow[k]
        if p is not None:
            living[p] += living[k]
        if n % PIECE == 0:
            yield
    gid, founder = h.gid.tolist(), h.founder.tolist()
    out: list[dict[str, Any]] = []
    roots = [k for k in kept if prow[k] is None]
    stack = [(k, -1) for k in reversed(roots)]  # (genome, kept parent id)
    while stack:
        k, parent = stack.pop()
        folded = 0
        while not alive[k] and len(kids.get(k, ())) == 1:  # a link in a chain: fold it into its only kept child
            k = kids[k][0]
            folded += 1
        out.append({"gid": gid[k], "parent": parent, "founder": founder[k], "born_s": born[k], "alive": alive[k],
                    "living": living[k], "folded": folded, "row": -1})
        stack.extend((c, gid[k]) for c in sorted(kids.get(k, ()), key=lambda c: -born[c]))
        if len(out) % PIECE == 0:
            yield
    leaf = 0
    for n, r in enumerate(out):  # the living take rows 0, 1, 2... in depth-first order
        if r["alive"]:
            r["row"] = leaf
            leaf += 1
        if n % PIECE == 0:
            yield
    by_gid = {r["gid"]: r for r in out}
    for n, r in enumerate(reversed(out)):  # children come after their parent in `out`: a reverse pass sees them first
        p = by_gid.get(r["parent"])
        if p is not None and (p["row"] < 0 or r["row"] < p["row"]):
            p["row"] = r["row"]
        if n % PIECE == 0:
            yield
    return out
