"""The team step's control words: how the calling thread and the helper threads share a step's agents.

The calling thread (step.agents_team) and helper threads (step.team_helper, started by threads.Team) share each
step's agents, a chunk of ctl[T_SIZE] agents at a time. The caller publishes a step as a new epoch in one word
(chunk 0 already its own), each thread claims chunks by compare-and-swap of that word (the caller from the front,
helpers from the back); helpers count the chunks they finished in a shared word, the caller its own in a local
one, and it waits until the helpers' count makes up the rest. ctl is an int64 array of TEAM_WORDS, each word on
its own cache line (step.Scratch.team, kept across calls).
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
TEAM_WORDS = 40
CHUNK_BITS = 12
CHUNK_MASK = (1 << CHUNK_BITS) - 1
MAX_CHUNKS = CHUNK_MASK  # chunks per step at most
CLAIM_BITS = 2 * CHUNK_BITS
SPIN = 20000  # a waiting thread spins this many times, then gives its core away at each further try


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
def relax(k):
    """One try of a wait: a spin-wait hint for the first SPIN tries, then sched_yield (when a core is shared with
    another process, the thread waited for may be the one this wait keeps off the core). Returns k + 1."""
    if k < SPIN:
        atomics.pause()
    else:
        atomics.yield_cpu()
    return k + 1


@numba.njit(cache=True, error_model="numpy", inline="always")
def wait_done(ctl, n_chunks):
    """The caller's end of a step: wait until the helpers have finished n_chunks chunks of the epoch (all but the
    caller's own)."""
    idle = 0
    while atomics.load(ctl, T_DONE) < n_chunks:
        idle = relax(idle)


@numba.njit(cache=True, error_model="numpy", inline="always")
def stop(ctl):
    """The end of a team call: the helpers leave."""
    atomics.store(ctl, T_STOP, 1)
