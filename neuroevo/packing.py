"""A replay chunk's frames packed into one byte stream (replay format versions 3 and 4), compiled.

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

A block is packed a column group at a time over all its frames (positions, heading bins, alive flags: loops the
compiler widens, in 32 bits), then its columns of width up to 8 are bit-packed side by side (_block_bits), and any
run of whole blocks packs without the others (pack_frames' f0, f1), so two threads can share a chunk and their
bytes join into the stream one thread would write. unpacking.py reads the stream back; bits.py holds the bit-level
pieces both use.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from . import atomics
from .bits import put_bits, store8, width

POS_RANGE = 65536  # positions: uint16 fixed point (replay.pos_step_for gives the step)
HEADING_BINS = 256  # headings: bins a turn
BLOCK = 64  # frames a block
WARM = 2  # frames stored as varints before the first block (a second difference needs two frames before it)
MOD_EXACT = np.float32(1 << 20)  # headings within +-this many rad take _mod_2pi (exact), others np.mod
MAGIC = 0x4E  # first byte of a stream ("N")
HEADER = 13  # bytes: MAGIC, F, N, C


class Frames(NamedTuple):
    """A chunk's frames: what pack_frames reads, and unpack_frames (unpacking.py) writes (C-contiguous arrays)."""

    pos: np.ndarray  # (F, N, 2) float32 px
    heading: np.ndarray  # (F, N) float32 rad
    alive: np.ndarray  # (F, N) bool
    cursor: np.ndarray  # (F, 5) float32 x, y, present, armed, click (stored as their bits)
    counters: np.ndarray  # (F, C) int64


class _Pred(NamedTuple):
    """The encoder's state in 64 bits: the cursor's and counters' rows (positions, headings and alive flags: _Block)."""

    p1: np.ndarray  # (J,) int64 the cursor's and counters' values one frame before (columns 4 N on)
    tile: np.ndarray  # (BLOCK, J) uint64 their zigzagged residuals, a row a frame
    orr: np.ndarray  # (J,) uint64 each column's residuals in the block, or-ed together (its width's bits)


class _Block(NamedTuple):
    """A block's working rows (pack_frames): values, zigzags and widths, side by side in 32 bits where they fit."""

    qp: np.ndarray  # (BLOCK + 2, 2 N) int32 fixed-point positions: the two frames before the block, then its frames
    qh: np.ndarray  # (BLOCK + 1, N) int32 heading bins: the frame before, then the block's
    qa: np.ndarray  # (BLOCK + 1, N) int32 alive flags: the same
    t32: np.ndarray  # (BLOCK, 4 N) uint32 the zigzags of positions, headings and alive flags, a row a frame
    o32: np.ndarray  # (4 N,) int32 those columns' zigzags or-ed together
    wid: np.ndarray  # (J,) int64 each column's width in the block
    off: np.ndarray  # (J,) int64 where its bits begin in the stream
    sh: np.ndarray  # (8, J) uint64 the shift of a group's k-th value: k times the width (0 for widths over 8)
    acc: np.ndarray  # (8, J) uint64 each group of 8 values of each column of width <= 8, packed
    col: np.ndarray  # (BLOCK, 1) uint64 one column of t32 widened (for a width over 8)


def n_columns(n: int, counters: int) -> int:
    """Columns of a chunk of n slots: x and y of each, then the headings, the alive flags, the cursor's 5, the
    counters."""
    return 4 * n + 5 + counters


def bound(frames: int, n: int, counters: int) -> int:
    """The most bytes pack_frames may write for a chunk of this shape (all of it, or any run of its blocks): every
    column at 64 bits, and 8 bytes more, for the bytes an 8-byte store may write past the stream's end (_block_bits).
    """
    j = n_columns(n, counters)
    blocks = (frames + BLOCK - 1) // BLOCK
    return HEADER + WARM * j * 10 + blocks * ((j + 7) // 8 + j * (1 + 8 * BLOCK)) + 8


def split(frames: int, share: float) -> int:
    """The frame where the blocks after the first `share` of a chunk's frames begin (pack_frames' f0, f1)."""
    if frames <= WARM:
        return frames
    k = int(round(share * (frames - WARM) / BLOCK))
    return min(frames, WARM + k * BLOCK)


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
def _rest_residuals(bits, counters, f, n, st, z):
    """Frame f's cursor bits (bits: the cursor's (F, 5) as int32) and counters: differences from the frame before
    (int64), zigzagged into z (a tile row), or-ed into st.orr; st.p1 moves on."""
    p1, orr = st.p1, st.orr
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
def _block_residuals(fr, b0, count, pos_step, st, bb):
    """The zigzagged residuals of the frames b0 .. b0+count-1 (a block, or the first frames), a column group at a
    time over them (loops the compiler widens): the value (fixed-point positions clip(rint(pos / pos_step), 0,
    POS_RANGE - 1) and heading bins rint(mod(h, 2 pi) * HEADING_BINS / 2 pi) mod HEADING_BINS, in float32 as
    replay.encode_positions and encode_headings; alive flags; the cursor's bits; the counters), its prediction's
    residual and its zigzag. Positions, heading bins and alive flags go into bb.t32 (or-ed into bb.o32), the
    cursor's bits and the counters into st.tile (or-ed into st.orr, whose first 4 N columns then take bb.o32);
    bb's rows before the frames (and st.p1) move on to their end."""
    n = fr.pos.shape[1]
    n2 = 2 * n
    f_n = fr.pos.shape[0]
    qp, qh, qa, t32, o32, orr, tile = bb.qp, bb.qh, bb.qa, bb.t32, bb.o32, st.orr, st.tile
    s = np.float32(pos_step)
    hi = np.float32(POS_RANGE - 1)
    zero = np.float32(0.0)
    two_pi = np.float32(2.0 * math.pi)
    scale = np.float32(HEADING_BINS / (2.0 * math.pi))
    mask = HEADING_BINS - 1
    half = HEADING_BINS >> 1
    orr[:] = 0
    o32[:] = 0
    # positions: fixed point, then second differences (within +-2^17: int32)
    src = fr.pos.reshape(f_n * n2)[b0 * n2 : (b0 + count) * n2]
    dst = qp[2 : 2 + count].reshape(count * n2)
    for e in range(count * n2):
        v = np.rint(src[e] / s)
        v = v if v > zero else zero
        dst[e] = np.int32(v if v < hi else hi)
    for k in range(count):
        a2, a1, a0, z = qp[k], qp[k + 1], qp[k + 2], t32[k]
        for j in range(n2):
            r = a0[j] - (a1[j] + a1[j] - a2[j])
            u = (r << 1) ^ (r >> 31)
            o32[j] |= u
            z[j] = np.uint32(u)
    # heading bins (a heading off the first turn either way takes the exact path), then the shorter way round
    hs = fr.heading.reshape(f_n * n)[b0 * n : (b0 + count) * n]
    hd = qh[1 : 1 + count].reshape(count * n)
    wide = 0
    for e in range(count * n):
        h = hs[e]
        wide |= 0 if -two_pi < h < two_pi else 1
        hd[e] = np.int32(np.rint((h + (two_pi if h < zero else zero)) * scale)) & mask
    if wide:
        for e in range(count * n):
            h = hs[e]
            if not (-two_pi < h < two_pi):
                m = _mod_2pi(h, two_pi) if -MOD_EXACT < h < MOD_EXACT else np.mod(h, two_pi)
                hd[e] = np.int32(np.int64(np.rint(m * scale)) & mask)
    for k in range(count):
        a1, a0, z = qh[k], qh[k + 1], t32[k]
        for i in range(n):
            r = ((a0[i] - a1[i] + half) & mask) - half
            u = (r << 1) ^ (r >> 31)
            o32[n2 + i] |= u
            z[n2 + i] = np.uint32(u)
    # alive flags: differences
    al = fr.alive.reshape(f_n * n)[b0 * n : (b0 + count) * n]
    ad = qa[1 : 1 + count].reshape(count * n)
    for e in range(count * n):
        ad[e] = np.int32(1 if al[e] else 0)
    for k in range(count):
        a1, a0, z = qa[k], qa[k + 1], t32[k]
        for i in range(n):
            r = a0[i] - a1[i]
            u = (r << 1) ^ (r >> 31)
            o32[3 * n + i] |= u
            z[3 * n + i] = np.uint32(u)
    for j in range(n2):
        qp[0, j] = qp[count, j]
        qp[1, j] = qp[count + 1, j]
    for i in range(n):
        qh[0, i] = qh[count, i]
        qa[0, i] = qa[count, i]
    # the cursor's bits and the counters: differences, in int64
    bits = fr.cursor.view(np.int32)
    for k in range(count):
        _rest_residuals(bits, fr.counters, b0 + k, n, st, tile[k])
    for j in range(4 * n):
        orr[j] = np.uint64(np.uint32(o32[j]))


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _block_bits(count, st, bb, out, p):
    """A block's bytes from byte p (its residuals from _block_residuals): the bitmap, the width bytes, and each
    column's groups of 8 values; returns the next byte. The groups of the columns of width up to 8 are packed side
    by side (a group of a column is its 8 values shifted by multiples of its width and or-ed: one pass over the
    block's rows for every column at once, which the compiler widens), then stored 8 bytes at a time, column after
    column, each store's bytes past the group's written over by the next; wider columns take bits.put_bits."""
    nj = st.orr.shape[0]
    n4 = bb.t32.shape[1]
    orr, tile, t32, wid, off, sh, acc = st.orr, st.tile, bb.t32, bb.wid, bb.off, bb.sh, bb.acc
    nmap = (nj + 7) // 8
    for b in range(nmap):
        out[p + b] = 0
    q = p + nmap  # the widths
    for j in range(nj):
        w = width(orr[j])
        wid[j] = w
        if w != 0:
            out[p + (j >> 3)] |= np.uint8(1 << (j & 7))
            out[q] = w
            q += 1
    groups = (count + 7) >> 3
    for j in range(nj):  # where each column's bits begin, and the shifts of a group's values
        w = wid[j]
        off[j] = q
        q += groups * w
        we = np.uint64(w if w <= 8 else 0)
        for k in range(8):
            sh[k, j] = we * np.uint64(k)
    for k in range(count, groups * 8):  # (the last group's padding)
        t32[k, :] = 0
        tile[k, :] = 0
    for g in range(groups):
        ag = acc[g]
        ag[:] = 0
        for k in range(8):
            row32, row, shk = t32[g * 8 + k], tile[g * 8 + k], sh[k]
            for j in range(n4):
                ag[j] |= np.uint64(row32[j]) << shk[j]
            for j in range(n4, nj):
                ag[j] |= row[j] << shk[j]
    for j in range(nj):
        w = wid[j]
        if 0 < w <= 8:
            pj = off[j]
            for g in range(groups):
                store8(out, pj, acc[g, j])
                pj += w
        elif w > 8:
            if j < n4:
                for k in range(count):
                    bb.col[k, 0] = np.uint64(t32[k, j])
                put_bits(bb.col, 0, count, w, out, off[j])
            else:
                put_bits(tile, j, count, w, out, off[j])
    return q


@numba.njit(cache=True, nogil=True, error_model="numpy")
def pack_frames(fr, pos_step, f0, f1, out):
    """Pack the frames f0 .. f1-1 of a chunk (fr: Frames; positions in fixed point of step pos_step) into out
    (uint8, at least bound() bytes); returns the size of the stream written (up to 7 bytes after it may be written
    over too, within bound()). f0 = 0: the header and frames 0 and 1 first; else f0 and f1 (unless the chunk's end)
    fall on block boundaries (split()), and the bytes are those that packing the whole chunk writes for these
    frames. Every array of fr is C-contiguous (a block's frames are read as one run of memory)."""
    f_n, n, c_n = fr.pos.shape[0], fr.pos.shape[1], fr.counters.shape[1]
    nj = 4 * n + 5 + c_n
    n2, n4 = 2 * n, 4 * n
    st = _Pred(np.zeros(nj, np.int64), np.empty((BLOCK, nj), np.uint64), np.zeros(nj, np.uint64))
    # the rows before the first frame are zeros: every prediction starts from 0
    bb = _Block(np.zeros((BLOCK + 2, n2), np.int32), np.zeros((BLOCK + 1, n), np.int32),
                np.zeros((BLOCK + 1, n), np.int32), np.zeros((BLOCK, n4), np.uint32), np.zeros(n4, np.int32),
                np.zeros(nj, np.int64), np.zeros(nj, np.int64), np.zeros((8, nj), np.uint64),
                np.zeros((8, nj), np.uint64), np.zeros((BLOCK, 1), np.uint64))
    p = 0
    if f0 == 0:
        out[0] = MAGIC
        for k in range(4):
            out[1 + k] = (f_n >> (8 * k)) & 0xFF
            out[5 + k] = (n >> (8 * k)) & 0xFF
            out[9 + k] = (c_n >> (8 * k)) & 0xFF
        p = HEADER
        for f in range(min(WARM, f1)):  # the first frames' residuals as varints
            _block_residuals(fr, f, 1, pos_step, st, bb)
            for j in range(nj):
                u = np.uint64(bb.t32[0, j]) if j < n4 else st.tile[0, j]
                while u >= np.uint64(0x80):
                    out[p] = np.uint8((u & np.uint64(0x7F)) | np.uint64(0x80))
                    u >>= np.uint64(7)
                    p += 1
                out[p] = np.uint8(u)
                p += 1
        f0 = WARM
    else:  # the two frames before: the predictions' start (their residuals are not written)
        _block_residuals(fr, f0 - 2, 2, pos_step, st, bb)
    for b0 in range(f0, f1, BLOCK):
        count = min(BLOCK, f1 - b0)
        _block_residuals(fr, b0, count, pos_step, st, bb)
        p = _block_bits(count, st, bb, out, p)
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
