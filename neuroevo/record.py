"""Recording inside the compiled step: after every step the kernel writes a frame into preallocated buffers.

replay.Recorder hands run_chunk a Rec bundle of views into its chunk buffers; run_chunk writes one frame per step
(what replay.Recorder.observe would copy from Python) and the births since the last frame, and stops early when a
buffer could overflow in the next step, so Python touches the frames only once per piece, to encode and write them.
Without recording every array has 0 rows (`no_rec`) and the step pays one comparison.
"""

from __future__ import annotations

import math
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
    for i in range(n):
        rec.pos[f, i, 0] = w.pos[i, 0]
        rec.pos[f, i, 1] = w.pos[i, 1]
        rec.heading[f, i] = w.heading[i]
        rec.alive[f, i] = w.alive[i]
        if w.alive[i]:
            age_sum += w.age[i]
            living += 1
    rec.mean_age[f] = age_sum / living if living > 0 else 0.0  # as numpy's mean of the int64 ages
    rec.cursor[f, 0] = w.cursor[CX]
    rec.cursor[f, 1] = w.cursor[CY]
    rec.cursor[f, 2] = w.cursor[C_PRESENT]
    rec.cursor[f, 3] = w.cursor[C_ARMED]
    rec.cursor[f, 4] = w.cursor[C_CLICK]
    for c in range(w.counters.shape[0]):
        rec.counters[f, c] = w.counters[c]
    q = rec.n[1]
    for i in range(n):
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


@numba.njit(cache=True, nogil=True, error_model="numpy")
def encode_positions_into(pos, step, n_values, out) -> None:
    """replay.encode_positions compiled (and without Python's lock, for the writer thread): out (F, N, 2) uint16 <-
    second differences, mod n_values, of the fixed-point positions clip(rint(pos / step), 0, n_values - 1) of
    pos (F, N, 2) float32, the arithmetic numpy does (float32 division and rounding, int64 differences)."""
    s = np.float32(step)
    hi = np.float32(n_values - 1)
    pow2 = n_values & (n_values - 1) == 0  # the replay's 2^16: a mask, not an integer division a value (5x faster)
    mask = n_values - 1
    for i in range(pos.shape[1]):
        for c in range(2):
            q1 = np.int64(0)  # fixed-point position one frame before
            q2 = np.int64(0)  # two frames before
            for f in range(pos.shape[0]):
                v = np.rint(pos[f, i, c] / s)
                v = min(max(v, np.float32(0.0)), hi)
                q = np.int64(v)
                if f == 0:
                    d2 = q
                elif f == 1:
                    d2 = q - q1
                else:
                    d2 = (q - q1) - (q1 - q2)
                out[f, i, c] = (d2 & mask) if pow2 else d2 % n_values
                q2 = q1
                q1 = q


@numba.njit(cache=True, nogil=True, error_model="numpy")
def encode_headings_into(heading, n_bins, out) -> None:
    """replay.encode_headings compiled (without Python's lock): out (F, N) uint8 <- differences, mod n_bins, of the
    heading bins rint(mod(h, 2 pi) * n_bins / (2 pi)) % n_bins of heading (F, N) float32, in float32 as numpy."""
    two_pi = np.float32(2.0 * math.pi)
    scale = np.float32(n_bins / (2.0 * math.pi))
    pow2 = n_bins & (n_bins - 1) == 0  # the replay's 256 bins: masks, not integer divisions
    mask = n_bins - 1
    for i in range(heading.shape[1]):
        prev = np.int64(0)
        for f in range(heading.shape[0]):
            h = heading[f, i]
            if np.float32(0.0) <= h < two_pi:  # mod(h, 2 pi) without fmod where it is plain (|h| < 2 pi)
                m = h
            elif -two_pi < h < np.float32(0.0):
                m = h + two_pi
            else:
                m = np.mod(h, two_pi)
            r = np.int64(np.rint(m * scale))
            q = (r & mask) if pow2 else r % n_bins
            out[f, i] = ((q - prev) & mask) if pow2 else (q - prev) % n_bins
            prev = q
