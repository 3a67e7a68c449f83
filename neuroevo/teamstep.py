"""The team step's control words: how the calling thread and the helper threads share a step's agents.

The calling thread (step.agents_team) and helper threads (step.team_helper, started by threads.Team) share each
epoch's agents, a chunk at a time. An epoch is one step (chunks of ctl[T_SIZE] agents) or a window of steps
(steploop.run_window: chunks of ctl[T_WSIZE] agents, each taken through every step of the window). The caller writes
the epoch's steps and chunk size (ctl[T_WIN:T_WIN + 3]), then publishes it as a new epoch in one word (chunk 0
already its own); each thread claims chunks by compare-and-swap of that word (the caller from the front, helpers
from the back); helpers count the chunks they finished in a shared word, the caller its own in a local one, and
it waits until the helpers' count makes up the rest. A thread that waits (the caller for the helpers' chunks, a
helper for the next epoch) spins briefly, then, where the epoch's chunks hold SLEEP_MIN_CHUNK agent-steps or
more, sleeps until the word it waits on changes, and whoever changes it wakes the sleepers; after smaller chunks
it gives its core away at each try instead (wait_a_little). ctl is an int64 array of TEAM_WORDS, each word on its
own cache line but the window's few, which only the caller writes (step.Scratch.team, kept across calls).
"""

from __future__ import annotations

import numba
import numpy as np

from . import atomics

T_CLAIM = 0  # epoch << CLAIM_BITS | lo << CHUNK_BITS | hi: chunks lo .. hi-1 of the step are unclaimed
T_DONE = 8  # chunks the helpers finished in this epoch
T_STOP = 16  # 1: the call is over (helpers return)
T_SIZE = 24  # agents per chunk of a step (0: the serial step; no helper takes part)
T_HELPED = 32  # chunks the helpers worked, all calls together (a statistic: benchmarks and tests read it)
T_NAPPING = 40  # helpers asleep until T_CLAIM changes
T_WAITING = 48  # callers asleep until T_DONE changes (0 or 1)
T_NAPS = 56  # times a waiting thread slept, all calls together (a statistic, as T_HELPED)
T_NAPS_TIMED_OUT = 64  # ... and woke by its timeout, NAP_NS (a wake was missed, or the thread waited for was
#                        kept off its core all that time; tests read it)
T_NAP_AT_ONCE = 72  # 1: every wait sleeps at once (tests of the sleep and wake; 0 in every run)
T_WIN = 80  # [T_WIN], [T_WIN + 1]: the epoch is the window of steps s0 .. s1-1 (steploop.run_window); s1 <= s0: one
#             step; [T_WIN + 2]: the epoch's agents per chunk (T_SIZE, or T_WSIZE for a window)
T_WSIZE = 83  # agents per chunk of a window
T_WINDOWS = 84  # windows run, all calls together (a statistic: benchmarks and tests read it; the caller's word)
T_WLEN = 85  # the steps of the next window (steploop.run_chunk; kept across calls, so a short call starts with long
#             windows where deaths are rare)
TEAM_WORDS = 88
CHUNK_BITS = 12
CHUNK_MASK = (1 << CHUNK_BITS) - 1
MAX_CHUNKS = CHUNK_MASK  # chunks per step at most
CLAIM_BITS = 2 * CHUNK_BITS
SPIN_TICKS = 150_000  # a waiting thread spins this many atomics.ticks() (~50 us at 3 GHz), then sleeps ...
NAP_NS = 1_000_000_000  # ... until woken, or at most this many ns (a safety net: every change it waits for wakes it)
SLEEP_MIN_CHUNK = 256  # chunks of fewer agent-steps (agents x a window's steps): waits spin, then yield the
#                       core, and never sleep (wait_a_little)


def open_call(ctl: np.ndarray, size: int, window_size: int = 0) -> None:
    """Before a team call (threads.Team.run): chunks of `size` agents (of `window_size` in windows; 0: `size`),
    nothing to claim until the first step is published (the epoch goes on from the last call), not stopped."""
    ctl[T_CLAIM] = (int(ctl[T_CLAIM]) >> CLAIM_BITS) << CLAIM_BITS
    ctl[T_STOP] = 0
    ctl[T_SIZE] = max(1, int(size))
    ctl[T_WSIZE] = max(1, int(window_size or size))


def team_chunk(n: int, threads: int, size: int = 0) -> int:
    """Agents per chunk of the team step: `size` if given; else one chunk a thread up to 511 agents (each claim
    is a cache line moving between cores, ~0.1-0.2 us, which a 50-agent step of ~3 us feels) and up to 8 a
    thread from 2,048 agents (a thread that got its core late takes fewer); never more than MAX_CHUNKS chunks."""
    per_thread = min(8, max(1, n // 256))
    size = size or -(-n // (max(1, threads) * per_thread))
    return max(1, size, -(-n // MAX_CHUNKS))


def window_chunk(n: int, threads: int, size: int = 0) -> int:
    """Agents per chunk of a window (steploop.run_window): `size` if given; else 8 chunks a thread, in multiples of 8
    agents (a window's chunk is the same agents for hundreds of steps: a claim per chunk costs nothing, and
    neighbouring chunks then share few cache lines, which both threads would write every step)."""
    if size:
        return team_chunk(n, threads, size)
    per = -(-n // (8 * max(1, threads)))
    return max(8, -(-per // 8) * 8, -(-n // MAX_CHUNKS))


@numba.njit(cache=True, error_model="numpy", inline="always")
def publish(ctl, n):
    """The caller's start of a step of n agents (chunks of ctl[T_WIN + 2]): a new epoch whose chunk 0 is already
    the caller's, no chunk done. Returns the number of chunks."""
    size = ctl[T_WIN + 2]
    n_chunks = (n + size - 1) // size
    e = (atomics.load(ctl, T_CLAIM) >> CLAIM_BITS) + 1
    atomics.store(ctl, T_DONE, 0)
    atomics.store(ctl, T_CLAIM, (e << CLAIM_BITS) | (1 << CHUNK_BITS) | n_chunks)
    if atomics.load(ctl, T_NAPPING) != 0:
        atomics.wake_all(ctl, T_CLAIM)
    return n_chunks


@numba.njit(cache=True, error_model="numpy", inline="always")
def claim(ctl, from_back):
    """Claim a chunk of the current epoch, a compare-and-swap of the whole word: the calling thread takes the lowest
    unclaimed chunk, helpers the highest, so each thread tends to get the same agents step after step (their rows
    stay in its cache instead of moving between the cores every step). Returns its index, or -1 when every chunk
    is taken."""
    while True:
        v = atomics.load(ctl, T_CLAIM)
        lo = (v >> CHUNK_BITS) & CHUNK_MASK
        hi = v & CHUNK_MASK
        if lo >= hi:
            return -1
        if from_back:
            if atomics.cas(ctl, T_CLAIM, v, v - 1):
                return hi - 1
        elif atomics.cas(ctl, T_CLAIM, v, v + (1 << CHUNK_BITS)):
            return lo


@numba.njit(cache=True, error_model="numpy", inline="always")
def wait_a_little(ctl, word, seen, sleepers, since):
    """One try of a wait for ctl[word] to change from `seen`, which began at `since` (atomics.ticks()): a spin-wait
    hint for its first SPIN_TICKS, then sleep until the word changes, counted in ctl[sleepers]. Returns whether it
    slept (a wait that goes on after a sleep begins again with a spin).

    Sleeping, not spinning or yielding, is what a busy machine needs: when another process takes a core, the
    thread waited for is often the one kept off it, and a waiting thread that stays runnable (a spin, or a
    sched_yield, which the scheduler mostly answers by running the same thread again) takes that thread's turn.
    On an idle machine the spin wins: a sleeping thread wakes some ten microseconds after it is woken.
    Small steps (chunks of fewer than SLEEP_MIN_CHUNK agents) never sleep: they spin, then give the core away at
    each try. A wake costs the waker a system call of a few microseconds, more than a 50-agent step: beside a
    busy process the 50-agent team step ran at 0.49x one thread where every wait slept, 0.80x yielding (README,
    "Waiting asleep").
    A writer that changes the word wakes the sleepers when ctl[sleepers] says there are any (the count is raised
    before the word is read again, the writer reads the count after it wrote the word; both sequentially
    consistent, so one of the two sees the other; and a wake that comes before the sleep makes the sleep return
    at once, as the word no longer holds `seen`)."""
    at_once = atomics.load(ctl, T_NAP_AT_ONCE) != 0
    if not at_once and atomics.ticks() - since < SPIN_TICKS:
        atomics.pause()
        return False
    work = atomics.load(ctl, T_WIN + 2) * max(1, atomics.load(ctl, T_WIN + 1) - atomics.load(ctl, T_WIN))
    if not at_once and work < SLEEP_MIN_CHUNK:  # (the epoch's words, or the next epoch's being written: a guess)
        atomics.yield_cpu()
        return False
    slept = False
    atomics.add(ctl, sleepers, 1)
    if atomics.load(ctl, word) == seen and atomics.load(ctl, T_STOP) == 0:
        atomics.add(ctl, T_NAPS, 1)
        if atomics.sleep_while(ctl, word, seen, NAP_NS) == -atomics.ETIMEDOUT:
            atomics.add(ctl, T_NAPS_TIMED_OUT, 1)
        slept = True
    atomics.add(ctl, sleepers, -1)
    return slept


@numba.njit(cache=True, error_model="numpy", inline="always")
def wait_epoch(ctl, since):
    """A helper's try of a wait for the next step (a claimable chunk) or the end of the call. Returns whether it
    slept."""
    v = atomics.load(ctl, T_CLAIM)
    if ((v >> CHUNK_BITS) & CHUNK_MASK) >= (v & CHUNK_MASK):
        return wait_a_little(ctl, T_CLAIM, v, T_NAPPING, since)
    return False


@numba.njit(cache=True, error_model="numpy", inline="always")
def chunk_done(ctl):
    """A helper finished a chunk: count it, and wake the caller if it sleeps waiting for it."""
    atomics.add(ctl, T_DONE, 1)
    if atomics.load(ctl, T_WAITING) != 0:
        atomics.wake_all(ctl, T_DONE)


@numba.njit(cache=True, error_model="numpy", inline="always")
def wait_done(ctl, n_chunks):
    """The caller's end of a step: wait until the helpers have finished n_chunks chunks of the epoch (all but the
    caller's own)."""
    if atomics.load(ctl, T_DONE) >= n_chunks:  # done already: no clock read (a 50-agent step is ~2 us)
        return
    since = atomics.ticks()
    while True:
        d = atomics.load(ctl, T_DONE)
        if d >= n_chunks:
            return
        if wait_a_little(ctl, T_DONE, d, T_WAITING, since):
            since = atomics.ticks()


@numba.njit(cache=True, error_model="numpy", inline="always")
def stop(ctl):
    """The end of a team call: the helpers leave (a sleeping one is woken: a new epoch with nothing to claim)."""
    atomics.store(ctl, T_STOP, 1)
    atomics.add(ctl, T_CLAIM, 1 << CLAIM_BITS)
    atomics.wake_all(ctl, T_CLAIM)
