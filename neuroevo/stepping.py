"""How a Simulation runs its compiled steps: the serial or the team step (chosen at run time or set), in pieces
cut where the path is timed or a recorder's chunk ends, each piece one steploop.run_chunk call.

Stepping is a mixin of sim.Simulation: it reads the world's state, genomes, settings and generator from it.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numba
import numpy as np

from .checkpoint import icons_array
from .species import found as found_species
from .step import Brains, Env, scratch
from .steploop import run_chunk
from .teamstep import T_SIZE, team_chunk, window_chunk
from .threads import TEAM, PathChooser


class Stepping:
    """set_threads(), parallel, and the compiled calls behind Simulation.run()."""

    def _init_stepping(self) -> None:
        self._threads: int | None = None
        self.chooser = PathChooser()  # serial or team step, when threads are not set (set_threads(None))
        self.team_chunk = 0  # agents per chunk of the team step (0: teamstep.team_chunk's choice)
        self._scr: Any = None  # the compiled step's buffers (step.Scratch)
        self._scr_key: Any = None

    def set_threads(self, threads: int | None) -> None:
        """1: the serial step; 2 or more: the team step on that many threads, at most one a core (this one and
        threads - 1 helpers, threads.Team); None (the default): the team step on numba.get_num_threads() threads
        or the serial step, whichever is faster now, timed as the run goes (PathChooser). Results are
        bit-identical on every path."""
        if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
            raise ValueError(f"threads must be None or a whole number >= 1, got {threads!r}")
        self._threads = None if threads is None else int(threads)

    @property
    def parallel(self) -> bool:
        """Whether the next chunk runs the team step (with threads chosen at run time: the path in favour)."""
        if self._threads is None:
            if not self._auto():
                return False
            c = self.chooser.cost
            return len(c) == 2 and c[True] < c[False]
        return self._threads > 1

    def _auto(self) -> bool:
        """Whether the path is chosen at run time (threads not set and more than one thread to run on)."""
        return self._threads is None and numba.get_num_threads() > 1

    def _advance(self, n_steps: int, ext: np.ndarray | None, events: np.ndarray | None, rec: Any = None) -> int:
        """Run n_steps compiled steps; returns the number of death reports written into events.

        In pieces when the path is chosen at run time (PathChooser) or a recorder takes the frames (rec: a
        replay.Recorder; pieces end where its chunks end, and it gets every death, whatever rows events has)."""
        self.icons = icons_array(self.icons)
        if self.params.species_cap and not self.species_ready:
            found_species(self.species, self.genomes, self.state.alive, self.layout.n_weights,
                          self.params.species_target)
            self.species_ready = True
        brains = Brains(self.genomes, self.hof, self.hof_fit, self._sizes, self._offsets)
        ext = self._no_ext if ext is None else np.ascontiguousarray(ext, np.float64)
        events = self._no_events if events is None else events
        hook_fit = self._use_hook_fit()
        auto = self._auto()
        if n_steps == 0 or (not auto and rec is None):
            env = Env(self.icons, ext, self._forced, events, self._steer, self._actions)
            return self._run_chunk(n_steps, brains, env, self.parallel, hook_fit, self._no_rec)
        # Pieces: ext rows and event rows continue where the last piece stopped.
        done = k = 0
        clock = time.perf_counter
        while done < n_steps:
            t0 = clock()
            path, m = self.chooser.next(t0, n_steps - done) if auto else (self.parallel, n_steps - done)
            r, ev = self._no_rec, events[k:]
            if rec is not None:
                m = min(m, rec.room())
                r, ev = rec.rec_buffers(self), self._rec_events()
            env = Env(self.icons, ext[done : done + m] if ext.shape[0] else ext, self._forced, ev, self._steer,
                      self._actions)
            got = self._run_chunk(m, brains, env, path, hook_fit, r)
            t1 = clock()
            if rec is not None:
                m = int(r.n[0])  # it may stop early, when its buffers are nearly full
                rec.main_packs = path  # after team steps this thread packs part of a full chunk (recorder.py)
                rec.frames_done(self, r, ev[:got])
                put = min(got, events.shape[0] - k)
                events[k : k + put] = ev[:put]
                got = put
            k += got
            if auto:
                self.chooser.measured(path, m, t1 - t0, t1)
            done += m
        return k

    def _run_chunk(self, n_steps: int, brains: Brains, env: Env, parallel: bool, hook_fit: bool, rec: Any) -> int:
        """One compiled run_chunk call: serial, or the team step with numba.get_num_threads() - 1 helpers (or the
        threads set by set_threads)."""
        key = (id(self.state.pos), self.state.pos.ctypes.data, self.state.pos.shape, self.layout.n_params,
               self.params)
        if self._scr_key != key:  # the step's buffers, kept while the world's shapes and settings stay
            self._scr = scratch(self.state.pos, self.layout.n_params, self.params)
            self._scr_key = key
        if not parallel or n_steps == 0:
            self._scr.team[T_SIZE] = 0  # this thread alone
            return int(run_chunk(n_steps, self.state, brains, env, self.params, self.rng, hook_fit, rec,
                                 self.species, self._scr))
        threads = self._threads if self._threads is not None else numba.get_num_threads()
        threads = min(threads, os.cpu_count() or 1)  # more threads than cores would only wait for each other
        size = team_chunk(self.state.n, threads, self.team_chunk)
        window_size = window_chunk(self.state.n, threads, self.team_chunk)
        args = (n_steps, self.state, brains, env, self.params, self.rng, hook_fit, rec, self.species, self._scr)
        return int(TEAM.run(threads - 1, self._scr.team, size, run_chunk, args,
                            (self.state, brains, env, self._scr, self.params), window_size))

    def _rec_events(self) -> np.ndarray:
        """Death-report rows for one recorded piece (the step stops before they could run out)."""
        rows = 2 * self.state.n + 4096
        if self._rec_events_buf.shape[0] < rows:
            self._rec_events_buf = np.zeros((rows, 4), np.int64)
        return self._rec_events_buf

