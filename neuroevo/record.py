"""Recording inside the compiled step: after every step the kernel writes a frame into preallocated buffers.

replay.Recorder hands run_chunk a Rec bundle of views into its chunk buffers; run_chunk writes one frame per step
(what replay.Recorder.observe would copy from Python) and the births since the last frame, and stops early when a
buffer could overflow in the next step, so Python touches the frames only once per piece, to pack and write them.
Without recording every array has 0 rows (`no_rec`) and the step pays one comparison.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from .state import C_ARMED, C_CLICK, C_PRESENT, CX, CY, K_STEP


class Rec(NamedTuple):
    """Frame and birth buffers of one run_chunk call (rows from 0), and the recorder's running state."""

    step: np.ndarray  # (F,) int64 step count after each recorded step
    pos: np.ndarray  # (F, N, 2) float32 positions
    heading: np.ndarray  # (F, N) float32 headings
    alive: np.ndarray  # (F, N) bool alive flags
    cursor: np.ndarray  # (F, 5) float32 cursor x, y, present, armed, click
    counters: np.ndarray  # (F, N_COUNTERS) int64 run counters
    mean_age: np.ndarray  # (F,) float32 mean age of the living, steps
    prev_gid: np.ndarray  # (N,) int64 genome ids at the last recorded frame (a changed id is a birth)
    b_frame: np.ndarray  # (B,) int64 frame (row of this call) of each birth
    b_slot: np.ndarray  # (B,) int64 its slot
    b_gid: np.ndarray  # (B,) int64 its genome id
    b_parent: np.ndarray  # (B,) int64 its parent's id
    b_genome: np.ndarray  # (B, n_params) float32 its genome
    n: np.ndarray  # (2,) int64 frames and births written so far in this call
    key_gid: np.ndarray  # (N,) int64 genome ids at the call's first frame if it starts a chunk (keyframe), else (0,)
    key_parent: np.ndarray  # (N,) int64 their parents' ids (the same rule)
    key_age: np.ndarray  # (N,) int64 their ages (the same rule)


def no_rec(n_params: int, n_counters: int) -> Rec:
    """The empty bundle: nothing is recorded."""
    z = np.zeros(0, np.int64)
    return Rec(z, np.zeros((0, 0, 2), np.float32), np.zeros((0, 0), np.float32), np.zeros((0, 0), np.bool_),
               np.zeros((0, 5), np.float32), np.zeros((0, n_counters), np.int64), np.zeros(0, np.float32),
               z, z, z, z, z, np.zeros((0, n_params), np.float32), np.zeros(2, np.int64), z, z, z)


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def rec_room(rec, n_events, events_rows, n):
    """True if the buffers can take one more step: a frame, up to n births and n death reports."""
    return rec.n[0] < rec.pos.shape[0] and rec.n[1] + n <= rec.b_slot.shape[0] and n_events + n <= events_rows


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def record_frame(w, genomes, rec) -> None:
    """Append the state after a step as the next frame, and the slots holding a new genome as births (and, at a
    chunk's first frame, the keyframe: every slot's genome id, parent id and age).

    Compiled without reference counting, as step.agents_range (whose rule it keeps: nothing here allocates or
    returns an array): counted, each call counted the ~30 arrays of the two bundles up and down, about a fifth of
    a recorded 50-agent step."""
    f = rec.n[0]
    n = w.alive.shape[0]
    if f == 0 and rec.key_gid.shape[0] > 0:
        for i in range(n):
            rec.key_gid[i] = w.genome_id[i]
            rec.key_parent[i] = w.parent_id[i]
            rec.key_age[i] = w.age[i]
    rec.step[f] = w.counters[K_STEP]
    age_sum = 0
    living = 0
    pos, heading, alive = rec.pos[f], rec.heading[f], rec.alive[f]  # (one loop each: copies the compiler widens)
    for i in range(n):
        pos[i, 0] = w.pos[i, 0]
        pos[i, 1] = w.pos[i, 1]
    for i in range(n):
        heading[i] = w.heading[i]
    for i in range(n):
        a = w.alive[i]
        alive[i] = a
        age_sum += w.age[i] if a else 0
        living += 1 if a else 0
    rec.mean_age[f] = age_sum / living if living > 0 else 0.0  # as numpy's mean of the int64 ages
    rec.cursor[f, 0] = w.cursor[CX]
    rec.cursor[f, 1] = w.cursor[CY]
    rec.cursor[f, 2] = w.cursor[C_PRESENT]
    rec.cursor[f, 3] = w.cursor[C_ARMED]
    rec.cursor[f, 4] = w.cursor[C_CLICK]
    for c in range(w.counters.shape[0]):
        rec.counters[f, c] = w.counters[c]
    q = rec.n[1]
    changed = False
    for i in range(n):
        changed |= w.genome_id[i] != rec.prev_gid[i]
    for i in range(n if changed else 0):  # (most steps nobody is born)
        if w.genome_id[i] != rec.prev_gid[i]:
            rec.b_frame[q] = f
            rec.b_slot[q] = i
            rec.b_gid[q] = w.genome_id[i]
            rec.b_parent[q] = w.parent_id[i]
            for k in range(genomes.shape[1]):
                rec.b_genome[q, k] = genomes[i, k]
            rec.prev_gid[i] = w.genome_id[i]
            q += 1
    rec.n[1] = q
    rec.n[0] = f + 1
