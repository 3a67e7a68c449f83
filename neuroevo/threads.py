"""Threads: which compiled step runs now, the serial or the team one (both give bit-identical results), and the
team's helper threads."""

from __future__ import annotations

import os
import statistics
import threading
from collections.abc import Callable
from typing import Any

import numpy as np


class PathChooser:
    """Picks the serial or the team step by what is fast now (both give bit-identical results).

    A fixed rule (parallel from 32 agents) lost 4-20x at 50 agents whenever another process held a core: every
    step's parallel region waited for a thread that was not running. So both paths are timed on pieces of the real
    run, the faster one runs, and the other is timed again every `recheck` seconds, or at once when its rival
    measures `slow` times slower per step than before (at most every `min_gap` seconds); a path that loses is timed
    again after `min_gap` seconds, and if it keeps losing, half as often each time (from every `recheck` up to every
    `max_recheck` s). The path in favour costs the median of its last three measures. A measure sums pieces until
    they make `probe` / 3 seconds (short pieces, cut by a recorder's chunks or a viewer's frames, are mostly call
    overhead). A path about to be timed after the other one ran first gets one untimed step: its threads may have
    gone to sleep and the caches hold the other path's data (timed cold, the parallel step of 10,000 agents lost to
    the serial one on every recheck beside other processes and ran at half its speed). A probe lasts `probe`
    seconds, 10 ms: a team call costs ~0.15 ms more than a serial one (waking the helpers and waiting for them to
    leave), which 3 ms probes counted as step time (at 50 agents the team step measured 4.8 us a step in them
    against 1.9 us in 50 ms pieces, and lost to the 2.8 us serial step). A probe is also at least `min_steps`
    steps: the team step runs windows of steps where agents are independent (steploop.run_window), and a probe of a
    few steps (16 at 10,000 agents beside a busy process) timed it at 870 us a step against 700 serial, then ran
    serial for a second and more, where the team step ran ~610 us a step.
    Pieces are cut at step boundaries only, which changes nothing in the results (the compiled step keeps no
    state between calls).
    """

    def __init__(self, probe: float = 0.01, piece: float = 0.05, recheck: float = 1.0, slow: float = 1.5,
                 max_recheck: float = 8.0, min_gap: float = 0.25, min_steps: int = 64) -> None:
        self.probe, self.piece, self.recheck, self.slow, self.min_steps = probe, piece, recheck, slow, min_steps
        self.max_recheck, self.min_gap = max_recheck, min_gap
        self.wait = {False: recheck, True: recheck}  # path -> seconds before it is timed again while it loses
        self.lost = {False: False, True: False}  # path -> whether its last measure lost to the other path
        self._recent: dict[bool, list[float]] = {False: [], True: []}  # the last measures of the path in favour
        self._latest: dict[bool, float] = {}  # path -> its last measure alone (seconds per step)
        self.cost: dict[bool, float] = {}  # path (parallel?) -> seconds per step, last measured
        self.when: dict[bool, float] = {}  # path -> time of that measure (perf_counter)
        self._sum: dict[bool, tuple[int, float]] = {False: (0, 0.0), True: (0, 0.0)}  # steps, seconds so far
        self._last: bool | None = None  # the path of the last piece
        self._warming = False  # the piece handed out last is an untimed warm-up step

    def next(self, now: float, remaining: int) -> tuple[bool, int]:
        """(parallel?, steps) for the next piece of a call with `remaining` steps to go."""
        path, steps = self._pick(now, remaining)
        self._warming = path != self._last
        if self._warming:
            steps = 1
        self._last = path
        return path, steps

    def _pick(self, now: float, remaining: int) -> tuple[bool, int]:
        for path in (False, True):
            if path not in self.cost:  # never timed: a first probe, short or as long as a probe of the other path
                other = self.cost.get(not path)
                return path, max(1, min(remaining, self.min_steps if other is None else
                                        max(self.min_steps, int(self.probe / other))))
        best = self.cost[True] < self.cost[False]
        if now - self.when[not best] > self.wait[not best]:  # time the other path again
            return not best, max(1, min(remaining, max(self.min_steps, int(self.probe / self.cost[not best]))))
        # a piece as long in time as `piece` at the latest speed too: after one slow piece (the median unmoved) the
        # next is short, so a path that really got slower is left after ~2 pieces of `piece` seconds, not k times that
        per_step = max(self.cost[best], self._latest.get(best, 0.0))
        return best, max(1, min(remaining, int(self.piece / per_step)))

    def measured(self, path: bool, steps: int, seconds: float, now: float) -> None:
        """A piece of `steps` steps on `path` took `seconds`."""
        if self._warming:
            self._warming = False
            return
        n, t = self._sum[path]
        n, t = n + steps, t + seconds
        if path in self.cost and t < self.probe / 3:
            self._sum[path] = (n, t)
            return
        self._sum[path] = (0, 0.0)
        per_step = t / max(n, 1)
        before = self.cost.get(path)
        other = not path
        recent = self._recent[path]
        if before is not None and other in self.cost and before < self.cost[other]:
            # the path in favour costs the median of its last three measures: one slow piece (a virtual core held
            # up for a few ms) does not switch the run, two do (about 0.1 s when a core is taken: see _pick)
            recent.append(per_step)
            del recent[:-3]
        else:
            recent[:] = [per_step]
        self.cost[path] = statistics.median(recent)
        self._latest[path] = per_step
        self.when[path] = now
        if other in self.cost:
            # a path that keeps losing is timed less often (each probe of it costs), one that wins at once again;
            # a path's first loss is timed again soon, in case the machine was held up: waiting a whole recheck,
            # the idle 50-agent default ran seconds at a time on the serial step, at 1.0x of one thread, not 1.7x
            loses = self.cost[path] > self.cost[other]
            if not loses:
                self.wait[path] = self.recheck
            elif self.lost[path]:
                self.wait[path] = min(self.max_recheck, max(self.recheck, 2 * self.wait[path]))
            else:
                self.wait[path] = self.min_gap
            self.lost[path] = loses
        if before is not None and per_step > self.slow * before and other in self.when:
            # this path got slower: time the other one soon (not more often than every min_gap seconds)
            self.when[other] = min(self.when[other], now - self.wait[other] + self.min_gap)



class Team:
    """Helper threads for the team step (step.agents_team), shared by every world of the process: each helper
    waits for a call, then works agent chunks of its steps beside the calling thread (step.team_helper) until the
    call stops. They start on first use; a forked child starts its own. One call at a time uses them: a call made
    while they are busy (a second world stepping in another thread) runs its chunks alone, with the same results.

    Each call is a new generation of the job; a helper takes each generation at most once, and only while its
    arguments are up (a helper that wakes after the call ended skips it). A call first stops and waits out any
    helper still inside an earlier call (one that Ctrl-C left behind), so no helper ever works with another call's
    arrays. An error inside a helper is raised by the call it served; the helper thread lives on.
    """

    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):  # a fork copies neither the threads nor a lock's owner
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()  # held by the call using the helpers
        self._cond = threading.Condition(threading.Lock())  # guards what follows
        self._threads: list[threading.Thread] = []
        self._gen = 0
        self._job: tuple[int, tuple | None, int] = (0, None, 0)  # generation, helpers' arguments, helpers wanted
        self._ctl: np.ndarray | None = None  # the control words of the job
        self._running = 0  # helpers inside team_helper
        self._errors: list[BaseException] = []

    def _grow(self, helpers: int) -> None:
        while len(self._threads) < helpers:
            k = len(self._threads)
            t = threading.Thread(target=self._loop, args=(k,), daemon=True, name=f"neuroevo-step-{k + 1}")
            t.start()  # may raise (no more threads): then it is not counted
            self._threads.append(t)

    def _loop(self, k: int) -> None:
        from .step import team_helper

        seen = 0
        while True:
            with self._cond:
                self._cond.wait_for(lambda seen=seen: self._job[0] > seen)
                seen, args, wanted = self._job
                if args is None or k >= wanted:
                    continue
                self._running += 1
            try:
                team_helper(*args)
            except BaseException as e:  # noqa: BLE001 - handed to the call this helper served
                with self._cond:
                    self._errors.append(e)
            finally:
                args = None  # the call's arrays are not kept alive until the next call
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def _drain(self) -> None:
        """Stop the helpers' current job and wait until none is inside team_helper."""
        from .teamstep import stop

        with self._cond:
            if self._ctl is not None:
                stop(self._ctl)  # wakes a helper asleep waiting for a step
            self._job = (self._gen, None, 0)
            self._cond.wait_for(lambda: self._running == 0)

    def run(self, helpers: int, ctl: np.ndarray, size: int, call: Callable[..., Any], args: tuple,
            helper_args: tuple, window_size: int = 0) -> Any:
        """call(*args), a run_chunk with ctl as its team, while `helpers` helpers run step.team_helper(*helper_args)
        on chunks of `size` agents (`window_size` in windows, steploop.run_window; 0: `size`)."""
        from .teamstep import T_STOP, open_call

        open_call(ctl, size, window_size)
        if helpers < 1 or not self._lock.acquire(blocking=False):
            return call(*args)
        try:
            self._drain()  # a helper left inside an earlier call (Ctrl-C) leaves first
            ctl[T_STOP] = 0
            self._grow(helpers)
            with self._cond:
                self._gen += 1
                self._job, self._ctl = (self._gen, helper_args, helpers), ctl
                self._errors = []
                self._cond.notify_all()
            try:
                out = call(*args)
            finally:
                self._drain()  # run_chunk set T_STOP too; here also when it raised
            if self._errors:
                raise self._errors[0]
            return out
        finally:
            self._lock.release()


TEAM = Team()
