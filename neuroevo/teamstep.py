"""The team step's control words: how the calling thread and the helper threads share a step's agents.

The calling thread (step.agents_team) and helper threads (step.team_helper, started by threads.Team) share each
step's agents, a chunk of ctl[T_SIZE] agents at a time. The caller publishes a step as a new epoch in one word
(chunk 0 already its own), each thread claims chunks by compare-and-swap of that word (the caller from the front,
helpers from the back); helpers count the chunks they finished in a shared word, the caller its own in a local
one, and it waits until the helpers' count makes up the rest. A thread that waits (the caller for the helpers'
chunks, a helper for the next step) spins briefly, then sleeps until the word it waits on changes, and whoever
changes it wakes the sleepers (wait_a_little). ctl is an int64 array of TEAM_WORDS, each word on its own cache
line (step.Scratch.team, kept across calls).
"""

from __future__ import annotations

import numba
import numpy as np

from . import atomics

T_CLAIM = 0  # epoch << CLAIM_BITS | lo << CHUNK_BITS | hi: chunks lo .. hi-1 of the step are unclaimed
T_DONE = 8  # chunks the helpers finished in this epoch
T_STOP = 16  # 1: the call is over (helpers return)
T_SIZE = 24  # agents per chunk (0: the serial step; no helper takes part)
T_HELPED = 32  # chunks the helpers worked, all calls together (a statistic: benchmarks and tests read it)
T_NAPPING = 40  # helpers asleep until T_CLAIM changes
T_WAITING = 48  # callers asleep until T_DONE changes (0 or 1)
T_CALM_FROM = 56  # waits spin again from this epoch on (before it: they sleep at once; see wait_a_little)
T_NAPS = 64  # times a waiting thread slept, all calls together (a statistic, as T_HELPED)
T_NAPS_IN_VAIN = 72  # ... and woke with nothing changed (a timeout: a wake was missed; tests read it)
T_WAKE_AT = 80  # the time (atomics.ticks()) of the last wake of a sleeping thread
TEAM_WORDS = 88
CHUNK_BITS = 12
CHUNK_MASK = (1 << CHUNK_BITS) - 1
MAX_CHUNKS = CHUNK_MASK  # chunks per step at most
CLAIM_BITS = 2 * CHUNK_BITS
SPIN_TICKS = 150_000  # a waiting thread spins this many atomics.ticks() (~50 us at 3 GHz), then sleeps ...
NAP_NS = 200_000_000  # ... until woken, or at most this many ns (a safety net: every change it waits for wakes it)
LONG_TICKS = 1_500_000  # a wait this long (~0.5 ms) means a thread of the team was kept off its core ...
CALM_STEPS = 256  # ... and the next this many steps' waits sleep at once (see wait_a_little)


def open_call(ctl: np.ndarray, size: int) -> None:
    """Before a team call (threads.Team.run): chunks of `size` agents, nothing to claim until the first step is
    published (the epoch goes on from the last call), not stopped."""
    ctl[T_CLAIM] = (int(ctl[T_CLAIM]) >> CLAIM_BITS) << CLAIM_BITS
    ctl[T_STOP] = 0
    ctl[T_SIZE] = max(1, int(size))


def team_chunk(n: int, threads: int, size: int = 0) -> int:
    """Agents per chunk of the team step: `size` if given; else one chunk a thread up to 511 agents (each claim
    is a cache line moving between cores, ~0.1-0.2 us, which a 50-agent step of ~3 us feels) and up to 8 a
    thread from 2,048 agents (a thread that got its core late takes fewer); never more than MAX_CHUNKS chunks."""
    per_thread = min(8, max(1, n // 256))
    size = size or -(-n // (max(1, threads) * per_thread))
    return max(1, size, -(-n // MAX_CHUNKS))


@numba.njit(cache=True, error_model="numpy", inline="always")
def publish(ctl, n):
    """The caller's start of a step of n agents: a new epoch whose chunk 0 is already the caller's, no chunk done.
    Returns the number of chunks."""
    size = ctl[T_SIZE]
    n_chunks = (n + size - 1) // size
    e = (atomics.load(ctl, T_CLAIM) >> CLAIM_BITS) + 1
    atomics.store(ctl, T_DONE, 0)
    atomics.store(ctl, T_CLAIM, (e << CLAIM_BITS) | (1 << CHUNK_BITS) | n_chunks)
    if atomics.load(ctl, T_NAPPING) != 0:
        wake(ctl, T_CLAIM)
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
def spin_for(ctl):
    """How many ticks (atomics.ticks()) a wait that begins now spins before it sleeps: SPIN_TICKS, or 0 within
    CALM_STEPS steps of a long wait."""
    return SPIN_TICKS if (atomics.load(ctl, T_CLAIM) >> CLAIM_BITS) >= atomics.load(ctl, T_CALM_FROM) else 0


@numba.njit(cache=True, error_model="numpy", inline="always")
def wait_a_little(ctl, word, seen, sleepers, since, spin):
    """One try of a wait for ctl[word] to change from `seen`, which began at `since` (atomics.ticks()):
    a spin-wait hint for its first `spin` ticks (spin_for), then sleep until the word changes, counted in
    ctl[sleepers].

    Sleeping, not spinning or yielding, is what a busy machine needs: when another process takes a core, the
    thread waited for is often the one kept off it, and a waiting thread that stays runnable (a spin, or a
    sched_yield, which the scheduler mostly answers by running the same thread again) takes that thread's turn.
    On an idle machine a short spin wins: a sleeping thread wakes some ten microseconds after it is woken.
    A writer that changes the word wakes the sleepers when ctl[sleepers] says there are any (the count is raised
    before the word is read again, the writer reads the count after it wrote the word; both sequentially
    consistent, so one of the two sees the other; and a wake that comes before the sleep makes the sleep return
    at once, as the word no longer holds `seen`)."""
    if atomics.ticks() - since < spin:
        atomics.pause()
        return False
    slept = False
    atomics.add(ctl, sleepers, 1)
    if atomics.load(ctl, word) == seen and atomics.load(ctl, T_STOP) == 0:
        atomics.add(ctl, T_NAPS, 1)
        atomics.sleep_while(ctl, word, seen, NAP_NS)
        slept = True
        if atomics.load(ctl, word) == seen and atomics.load(ctl, T_STOP) == 0:
            atomics.add(ctl, T_NAPS_IN_VAIN, 1)
    atomics.add(ctl, sleepers, -1)
    return slept


@numba.njit(cache=True, error_model="numpy", inline="always")
def wake(ctl, word):
    """Wake the threads asleep on ctl[word] (the caller changed it), noting when (T_WAKE_AT)."""
    atomics.store(ctl, T_WAKE_AT, atomics.ticks())
    atomics.wake_all(ctl, word)


@numba.njit(cache=True, error_model="numpy", inline="always")
def waited(ctl, since, slept):
    """A wait that began at `since` (atomics.ticks()) is over: if the thread waited for was long in coming, the
    next CALM_STEPS steps' waits sleep at once. The wait of a thread that slept ends when it was woken
    (T_WAKE_AT), not when it got its core back: a thread's own wake-up is no sign of the machine being busy
    (counted in, sleeping at once kept itself going on an idle machine: 0.4-0.8 naps a step at 10,000 agents).
    """
    end = atomics.ticks()
    if slept:
        end = min(end, max(since, atomics.load(ctl, T_WAKE_AT)))
    if end - since > LONG_TICKS:
        atomics.store(ctl, T_CALM_FROM, (atomics.load(ctl, T_CLAIM) >> CLAIM_BITS) + CALM_STEPS)


@numba.njit(cache=True, error_model="numpy", inline="always")
def wait_epoch(ctl, since, spin):
    """A helper's try of a wait for the next step (a claimable chunk) or the end of the call. Returns whether it
    slept."""
    v = atomics.load(ctl, T_CLAIM)
    if ((v >> CHUNK_BITS) & CHUNK_MASK) >= (v & CHUNK_MASK):
        return wait_a_little(ctl, T_CLAIM, v, T_NAPPING, since, spin)
    return False


@numba.njit(cache=True, error_model="numpy", inline="always")
def chunk_done(ctl):
    """A helper finished a chunk: count it, and wake the caller if it sleeps waiting for it."""
    atomics.add(ctl, T_DONE, 1)
    if atomics.load(ctl, T_WAITING) != 0:
        wake(ctl, T_DONE)


@numba.njit(cache=True, error_model="numpy", inline="always")
def wait_done(ctl, n_chunks):
    """The caller's end of a step: wait until the helpers have finished n_chunks chunks of the epoch (all but the
    caller's own)."""
    if atomics.load(ctl, T_DONE) >= n_chunks:  # done already: no clock read (a 50-agent step is ~2 us)
        return
    since = atomics.ticks()
    spin = spin_for(ctl)
    slept = False
    while True:
        d = atomics.load(ctl, T_DONE)
        if d >= n_chunks:
            waited(ctl, since, slept)
            return
        slept |= wait_a_little(ctl, T_DONE, d, T_WAITING, since, spin)


@numba.njit(cache=True, error_model="numpy", inline="always")
def stop(ctl):
    """The end of a team call: the helpers leave (a sleeping one is woken: a new epoch with nothing to claim)."""
    atomics.store(ctl, T_STOP, 1)
    atomics.add(ctl, T_CLAIM, 1 << CLAIM_BITS)
    atomics.wake_all(ctl, T_CLAIM)
