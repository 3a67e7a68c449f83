"""A replay chunk's frames packed into one byte stream (replay format version 3), compiled.

Every per-frame quantity is a column of integers over the chunk's frames: each slot's fixed-point x and y, then
each slot's heading bin, then its alive flag, then the cursor's five floats (their bits) and the run counters. A
column is stored as the residuals of a prediction from its own past: positions from a straight line through the
two frames before (smooth flight makes these second differences tiny: 99.9% within +-7 at 1/16 px), everything
else from the frame before (headings the shorter way round the circle of bins). Residuals are zigzagged
(0, -1, 1, -2, ... -> 0, 1, 2, 3, ...) and bit-packed, a block of BLOCK frames at a time, each column of a block
at the width of its largest residual there.

The stream::

    header   MAGIC, then F (frames), N (slots) and C (counters) as uint32 little-endian
    frames 0 and 1 (those there are): every column's residual as a varint (7 bits a byte, low bits first)
    blocks   frames 2.. in blocks of BLOCK: a bitmap of the columns with any nonzero residual in the block (J
             bits, J = 4 N + 5 + C columns, lowest bit first), a width byte for each such column, then each such
             column's residuals at its width, in groups of 8 (8 values at w bits: w bytes; the last group padded
             with zeros)

Blocks are packed frame-major (a block's rows are read once, in memory order), and any run of whole blocks packs
without the others (pack_frames' f0, f1), so two threads can share a chunk and their bytes join into the stream
one thread would write. unpacking.py reads the stream back.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from . import atomics

POS_RANGE = 65536  # positions: uint16 fixed point (replay.pos_step_for gives the step)
HEADING_BINS = 256  # headings: bins a turn
BLOCK = 64  # frames a block
WARM = 2  # frames stored as varints before the first block (a second difference needs two frames before it)
MOD_EXACT = np.float32(1 << 20)  # headings within +-this many rad take _mod_2pi (exact), others np.mod
MAGIC = 0x4E  # first byte of a stream ("N")
HEADER = 13  # bytes: MAGIC, F, N, C


class Frames(NamedTuple):
    """A chunk's frames: what pack_frames reads, and unpack_frames (unpacking.py) writes."""

    pos: np.ndarray  # (F, N, 2) float32 px
    heading: np.ndarray  # (F, N) float32 rad
    alive: np.ndarray  # (F, N) bool
    cursor: np.ndarray  # (F, 5) float32 x, y, present, armed, click (stored as their bits)
    counters: np.ndarray  # (F, C) int64


class _Pred(NamedTuple):
    """The encoder's state: the rows a prediction reads, and the block being packed."""

    p1: np.ndarray  # (J,) int64 every column's value one frame before
    p2: np.ndarray  # (J,) int64 two frames before (read for positions only)
    hb: np.ndarray  # (N,) int64 a frame's heading bins
    tile: np.ndarray  # (BLOCK, J) uint64 the block's zigzagged residuals, a row a frame
    orr: np.ndarray  # (J,) uint64 each column's residuals in the block, or-ed together (its width's bits)


def n_columns(n: int, counters: int) -> int:
    """Columns of a chunk of n slots: x and y of each, then the headings, the alive flags, the cursor's 5, the
    counters."""
    return 4 * n + 5 + counters


def bound(frames: int, n: int, counters: int) -> int:
    """The most bytes pack_frames may write for a chunk of this shape (all of it, or any run of its blocks)."""
    j = n_columns(n, counters)
    blocks = (frames + BLOCK - 1) // BLOCK
    return HEADER + WARM * j * 10 + blocks * ((j + 7) // 8 + j * (1 + 8 * BLOCK))


def split(frames: int, share: float) -> int:
    """The frame where the blocks after the first `share` of a chunk's frames begin (pack_frames' f0, f1)."""
    if frames <= WARM:
        return frames
    k = int(round(share * (frames - WARM) / BLOCK))
    return min(frames, WARM + k * BLOCK)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _zigzag(r):
    return np.uint64((r << 1) ^ (r >> 63))


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _unzigzag(z):
    return np.int64(z >> np.uint64(1)) ^ -np.int64(z & np.uint64(1))


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _width(z):
    w = 0
    while z != 0:
        z >>= np.uint64(1)
        w += 1
    return w


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _mod_2pi(h, two_pi):
    """np.mod(h, two_pi) of a float32 h with |h| < MOD_EXACT, bit for bit: h - k two_pi (k = floor(h / two_pi)) is
    exact in float64 (k two_pi needs at most 44 bits, and the difference spans fewer than 53), and np.mod's float32
    result is that exact value rounded to float32 (fmod is exact; for h < 0 numpy adds two_pi to it, rounding)."""
    d = np.float64(two_pi)
    x = np.float64(h)
    m = x - np.floor(x / d) * d
    if m < 0.0:
        m += d
    elif m >= d:
        m -= d
    return np.float32(m)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _frame_residuals(fr, f, pos_step, st, k):
    """Frame f's zigzagged residuals into st.tile[k], or-ed into st.orr; st.p1 (and for positions st.p2) move on
    a frame. One pass a column group: the value (fixed-point positions clip(rint(pos / pos_step), 0, POS_RANGE -
    1) and heading bins rint(mod(h, 2 pi) * HEADING_BINS / 2 pi) mod HEADING_BINS, in float32 as
    replay.encode_positions and encode_headings; alive flags; the cursor's bits; the counters), its prediction's
    residual and its zigzag."""
    pos, heading, alive, counters = fr.pos, fr.heading, fr.alive, fr.counters
    bits = fr.cursor.view(np.int32)
    p1, p2, hb, orr = st.p1, st.p2, st.hb, st.orr
    s = np.float32(pos_step)
    hi = np.float32(POS_RANGE - 1)
    two_pi = np.float32(2.0 * math.pi)
    scale = np.float32(HEADING_BINS / (2.0 * math.pi))
    heading_bins = HEADING_BINS
    n = pos.shape[1]
    zero = np.float32(0.0)
    z = st.tile[k]
    xy = pos[f].reshape(2 * n)
    for j in range(2 * n):  # positions: second differences
        v = np.rint(xy[j] / s)
        v = v if v > zero else zero
        q = np.int64(v if v < hi else hi)
        a = p1[j]
        r = q - (a + a - p2[j])
        u = np.uint64((r << 1) ^ (r >> 63))
        z[j] = u
        orr[j] |= u
        p2[j] = a
        p1[j] = q
    mask = heading_bins - 1
    wide = False
    for i in range(n):
        h = heading[f, i]
        wide |= not (-two_pi < h < two_pi)
        hb[i] = np.int64(np.rint((h + (two_pi if h < zero else zero)) * scale)) & mask
    if wide:
        for i in range(n):
            h = heading[f, i]
            if not (-two_pi < h < two_pi):
                m = _mod_2pi(h, two_pi) if -MOD_EXACT < h < MOD_EXACT else np.mod(h, two_pi)
                hb[i] = np.int64(np.rint(m * scale)) & mask
    half = heading_bins >> 1
    for i in range(n):  # heading bins: the shorter way round
        j = 2 * n + i
        v = hb[i]
        r = ((v - p1[j] + half) & mask) - half
        u = np.uint64((r << 1) ^ (r >> 63))
        z[j] = u
        orr[j] |= u
        p1[j] = v
    for i in range(n):  # the rest: differences (p2 is read for positions only)
        j = 3 * n + i
        v = np.int64(1 if alive[f, i] else 0)
        r = v - p1[j]
        u = np.uint64((r << 1) ^ (r >> 63))
        z[j] = u
        orr[j] |= u
        p1[j] = v
    for c in range(5):
        j = 4 * n + c
        v = np.int64(bits[f, c])
        r = v - p1[j]
        u = np.uint64((r << 1) ^ (r >> 63))
        z[j] = u
        orr[j] |= u
        p1[j] = v
    for c in range(counters.shape[1]):
        j = 4 * n + 5 + c
        v = counters[f, c]
        r = v - p1[j]
        u = np.uint64((r << 1) ^ (r >> 63))
        z[j] = u
        orr[j] |= u
        p1[j] = v


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _put_bits(tile, j, count, w, out, p):
    """tile[:count, j] at w bits each into out from byte p, in groups of 8 values (8 w bits: w bytes; the last
    group padded with zeros); returns the next byte. Widths up to 16 take a group at a time in registers."""
    if w <= 8:  # (the common case: a group in one register, no value across two)
        uw = np.uint64(w)
        full = count & ~7
        for g in range(0, full, 8):
            lo = (tile[g, j] | tile[g + 1, j] << uw | tile[g + 2, j] << (uw * np.uint64(2))
                  | tile[g + 3, j] << (uw * np.uint64(3)) | tile[g + 4, j] << (uw * np.uint64(4))
                  | tile[g + 5, j] << (uw * np.uint64(5)) | tile[g + 6, j] << (uw * np.uint64(6))
                  | tile[g + 7, j] << (uw * np.uint64(7)))
            for k in range(w):
                out[p + k] = np.uint8((lo >> np.uint64(8 * k)) & np.uint64(0xFF))
            p += w
        if full < count:
            lo = np.uint64(0)
            for k in range(count - full):
                lo |= tile[full + k, j] << (uw * np.uint64(k))
            for k in range(w):
                out[p + k] = np.uint8((lo >> np.uint64(8 * k)) & np.uint64(0xFF))
            p += w
        return p
    if w <= 16:
        for g in range(0, count, 8):
            lo = np.uint64(0)
            hi = np.uint64(0)
            for k in range(8):
                v = tile[g + k, j] if g + k < count else np.uint64(0)
                sh = k * w
                if sh < 64:
                    lo |= v << np.uint64(sh)
                    if sh + w > 64:
                        hi |= v >> np.uint64(64 - sh)
                else:
                    hi |= v << np.uint64(sh - 64)
            for k in range(min(w, 8)):
                out[p + k] = np.uint8((lo >> np.uint64(8 * k)) & np.uint64(0xFF))
            for k in range(w - 8):
                out[p + 8 + k] = np.uint8((hi >> np.uint64(8 * k)) & np.uint64(0xFF))
            p += w
        return p
    end = p + ((count + 7) // 8) * w
    acc = np.uint64(0)  # bits not yet written, lowest first
    have = 0  # how many
    for f in range(count):
        v = tile[f, j]
        acc |= v << np.uint64(have)
        if have + w >= 64:  # acc is full: write it, keep the bits of v that did not fit
            for k in range(8):
                out[p + k] = np.uint8((acc >> np.uint64(8 * k)) & np.uint64(0xFF))
            p += 8
            used = 64 - have
            acc = (v >> np.uint64(used)) if used < 64 else np.uint64(0)
            have = have + w - 64
        else:
            have += w
    while have > 0:
        out[p] = np.uint8(acc & np.uint64(0xFF))
        acc >>= np.uint64(8)
        p += 1
        have -= 8
    while p < end:  # the last group's padding
        out[p] = 0
        p += 1
    return p


@numba.njit(cache=True, nogil=True, error_model="numpy")
def pack_frames(fr, pos_step, f0, f1, out):
    """Pack the frames f0 .. f1-1 of a chunk (fr: Frames; positions in fixed point of step pos_step) into out
    (uint8, at least bound() bytes); returns the bytes written. f0 = 0: the header and frames 0 and 1 first; else
    f0 and f1 (unless the chunk's end) fall on block boundaries (split()), and the bytes are those that packing the
    whole chunk writes for these frames."""
    f_n, n, c_n = fr.pos.shape[0], fr.pos.shape[1], fr.counters.shape[1]
    nj = 4 * n + 5 + c_n
    st = _Pred(np.zeros(nj, np.int64), np.zeros(nj, np.int64), np.empty(n, np.int64),
               np.empty((BLOCK, nj), np.uint64), np.zeros(nj, np.uint64))
    p = 0
    if f0 == 0:
        out[0] = MAGIC
        for k in range(4):
            out[1 + k] = (f_n >> (8 * k)) & 0xFF
            out[5 + k] = (n >> (8 * k)) & 0xFF
            out[9 + k] = (c_n >> (8 * k)) & 0xFF
        p = HEADER
        for f in range(min(WARM, f1)):  # the first frames' residuals as varints
            _frame_residuals(fr, f, pos_step, st, 0)
            for j in range(nj):
                u = st.tile[0, j]
                while u >= np.uint64(0x80):
                    out[p] = np.uint8((u & np.uint64(0x7F)) | np.uint64(0x80))
                    u >>= np.uint64(7)
                    p += 1
                out[p] = np.uint8(u)
                p += 1
        f0 = WARM
    else:
        for f in range(f0 - 2, f0):  # the two frames before: the predictions' start
            _frame_residuals(fr, f, pos_step, st, 0)
    nmap = (nj + 7) // 8
    orr = st.orr
    for b0 in range(f0, f1, BLOCK):
        count = min(BLOCK, f1 - b0)
        orr[:] = 0
        for k in range(count):
            _frame_residuals(fr, b0 + k, pos_step, st, k)
        for b in range(nmap):
            out[p + b] = 0
        q = p + nmap  # the widths
        for j in range(nj):
            if orr[j] != 0:
                out[p + (j >> 3)] |= np.uint8(1 << (j & 7))
                out[q] = _width(orr[j])
                q += 1
        p = q
        for j in range(nj):
            if orr[j] != 0:
                p = _put_bits(st.tile, j, count, _width(orr[j]), out, p)
    return p


@numba.njit(cache=True, nogil=True, error_model="numpy")
def pack_parts(fr, pos_step, cuts, out, offsets, sizes, claim):
    """Pack, on this thread, the parts of a chunk that no thread has taken yet; returns how many it packed. Part i
    is the frames cuts[i] .. cuts[i + 1]-1 (runs of whole blocks, split()), packed into out[offsets[i]:offsets[i +
    1]] (each at least bound() bytes) with its size in sizes[i]. claim[0] is the next part to take, raised
    atomically, so threads that call this at once share the parts, one at a time, first come first served;
    claim[1] counts the parts finished (raised after sizes[i] is written). One call takes every part it can with
    no return to Python between them: a thread packing never waits for Python's lock, which the other may hold."""
    n_parts = cuts.shape[0] - 1
    mine = 0
    while True:
        i = atomics.add(claim, 0, 1)
        if i >= n_parts:
            return mine
        sizes[i] = pack_frames(fr, pos_step, cuts[i], cuts[i + 1], out[offsets[i] : offsets[i + 1]])
        atomics.add(claim, 1, 1)
        mine += 1
