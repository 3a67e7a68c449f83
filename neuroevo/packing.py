"""A replay chunk's frames packed into one byte stream (replay format version 3), compiled both ways.

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
one thread would write. Unpacking checks every width and length it reads: a damaged stream is refused with a
negative status, never read out of bounds.
"""

from __future__ import annotations

import math

import numba
import numpy as np

BLOCK = 64  # frames a block
WARM = 2  # frames stored as varints before the first block (a second difference needs two frames before it)
MOD_EXACT = np.float32(1 << 20)  # headings within +-this many rad take _mod_2pi (exact), others np.mod
MAGIC = 0x4E  # first byte of a stream ("N")
HEADER = 13  # bytes: MAGIC, F, N, C
# Status codes of unpack_frames (a stream that does not decode is refused with the reason's message)
OK, E_HEADER, E_SHAPE, E_WIDTH, E_SHORT, E_LONG = 0, -1, -2, -3, -4, -5
ERRORS = {E_HEADER: "bad packed-frames header", E_SHAPE: "packed frames of another shape than the chunk's",
          E_WIDTH: "a packed value wider than 64 bits", E_SHORT: "packed frames cut short",
          E_LONG: "bytes after the packed frames"}


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
def _row(pos, heading, alive, bits, counters, f, s, hi, two_pi, scale, heading_bins, row):
    """row (J,) int64 <- frame f's column values: fixed-point positions clip(rint(pos / s), 0, hi), heading bins
    rint(mod(h, 2 pi) * scale) mod heading_bins (replay.encode_positions' and encode_headings' arithmetic, in
    float32), alive flags, the cursor's bits, the counters."""
    n = pos.shape[1]
    zero = np.float32(0.0)
    xy = pos[f].reshape(2 * n)
    for j in range(2 * n):  # (branch-free loops: the compiler takes several values an instruction)
        v = np.rint(xy[j] / s)
        v = v if v > zero else zero
        row[j] = np.int64(v if v < hi else hi)
    mask = heading_bins - 1  # (a power of 2: the modulo)
    wide = False
    for i in range(n):  # np.mod(h, 2 pi) is h, or h + 2 pi, for |h| < 2 pi
        h = heading[f, i]
        wide |= not (-two_pi < h < two_pi)
        row[2 * n + i] = np.int64(np.rint((h + (two_pi if h < zero else zero)) * scale)) & mask
    if wide:  # a heading a turn or more from 0 (rare): np.mod's result another way
        for i in range(n):
            h = heading[f, i]
            if not (-two_pi < h < two_pi):
                m = _mod_2pi(h, two_pi) if -MOD_EXACT < h < MOD_EXACT else np.mod(h, two_pi)
                row[2 * n + i] = np.int64(np.rint(m * scale)) & mask
    for i in range(n):
        row[3 * n + i] = 1 if alive[f, i] else 0
    for c in range(5):
        row[4 * n + c] = bits[f, c]
    for c in range(counters.shape[1]):
        row[4 * n + 5 + c] = counters[f, c]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _residuals(row, p1, p2, n, wrap, tile, k):
    """tile[k] (J,) <- zigzagged residuals of row from the two rows before (p1, p2); p2 <- p1 <- row."""
    z = tile[k]  # (a row of tile: contiguous)
    for j in range(2 * n):  # positions: second differences
        v = row[j]
        a = p1[j]
        r = v - (a + a - p2[j])
        z[j] = np.uint64((r << 1) ^ (r >> 63))
        p2[j] = a
        p1[j] = v
    half = wrap >> 1
    for j in range(2 * n, 3 * n):  # heading bins: the shorter way round
        v = row[j]
        r = ((v - p1[j] + half) & (wrap - 1)) - half
        z[j] = np.uint64((r << 1) ^ (r >> 63))
        p2[j] = p1[j]
        p1[j] = v
    for j in range(3 * n, row.shape[0]):
        v = row[j]
        r = v - p1[j]
        z[j] = np.uint64((r << 1) ^ (r >> 63))
        p2[j] = p1[j]
        p1[j] = v


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _block_row(pos, heading, alive, bits, counters, f, s, hi, two_pi, scale, heading_bins, p1, p2, hb, tile, k, orr):
    """_row, _residuals and the block's or-ed residuals (orr) in one pass a column group: frame f's zigzagged
    residuals into tile[k] (the same values as _row then _residuals; p1 and, for positions, p2 move on a frame)."""
    n = pos.shape[1]
    zero = np.float32(0.0)
    z = tile[k]
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
def pack_frames(pos, heading, alive, cursor, counters, pos_step, pos_values, heading_bins, f0, f1, out):
    """Pack the frames f0 .. f1-1 of a chunk into out (uint8, at least bound() bytes); returns the bytes written.
    f0 = 0: the header and frames 0 and 1 first; else f0 and f1 (unless the chunk's end) fall on block boundaries
    (split()), and the bytes are those that packing the whole chunk writes for these frames.

    pos (F, N, 2) float32 px; heading (F, N) float32 rad; alive (F, N) bool; cursor (F, 5) float32; counters
    (F, C) int64. pos_values: the fixed-point range (a power of 2); heading_bins: the bins a turn (a power of 2)."""
    f_n, n, c_n = pos.shape[0], pos.shape[1], counters.shape[1]
    nj = 4 * n + 5 + c_n
    s = np.float32(pos_step)
    hi = np.float32(pos_values - 1)
    two_pi = np.float32(2.0 * math.pi)
    scale = np.float32(heading_bins / (2.0 * math.pi))
    row = np.empty(nj, np.int64)
    p1 = np.zeros(nj, np.int64)  # the row one frame before
    p2 = np.zeros(nj, np.int64)  # two frames before
    tile = np.empty((BLOCK, nj), np.uint64)
    orr = np.empty(nj, np.uint64)
    hb = np.empty(n, np.int64)  # a frame's heading bins
    bits = cursor.view(np.int32)
    p = 0
    if f0 == 0:
        out[0] = MAGIC
        for k in range(4):
            out[1 + k] = (f_n >> (8 * k)) & 0xFF
            out[5 + k] = (n >> (8 * k)) & 0xFF
            out[9 + k] = (c_n >> (8 * k)) & 0xFF
        p = HEADER
        for f in range(min(WARM, f1)):
            _row(pos, heading, alive, bits, counters, f, s, hi, two_pi, scale, heading_bins, row)
            _residuals(row, p1, p2, n, heading_bins, tile, 0)
            for j in range(nj):
                u = tile[0, j]
                while u >= np.uint64(0x80):
                    out[p] = np.uint8((u & np.uint64(0x7F)) | np.uint64(0x80))
                    u >>= np.uint64(7)
                    p += 1
                out[p] = np.uint8(u)
                p += 1
        f0 = WARM
    else:
        for f in range(f0 - 2, f0):  # the two rows before: the predictions' start
            _row(pos, heading, alive, bits, counters, f, s, hi, two_pi, scale, heading_bins, row)
            _residuals(row, p1, p2, n, heading_bins, tile, 0)
    nmap = (nj + 7) // 8
    for b0 in range(f0, f1, BLOCK):
        count = min(BLOCK, f1 - b0)
        orr[:] = 0
        for k in range(count):
            _block_row(pos, heading, alive, bits, counters, b0 + k, s, hi, two_pi, scale, heading_bins, p1, p2, hb,
                       tile, k, orr)
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
                p = _put_bits(tile, j, count, _width(orr[j]), out, p)
    return p


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _get_bits(src, p, count, w, tile, j):
    """Inverse of _put_bits: tile[:count, j] <- the values at w bits from byte p (the caller checked the bytes)."""
    mask = np.uint64(0xFFFFFFFFFFFFFFFF) if w == 64 else (np.uint64(1) << np.uint64(w)) - np.uint64(1)
    if w <= 16:
        for g in range(0, count, 8):
            lo = np.uint64(0)
            hi = np.uint64(0)
            for k in range(min(w, 8)):
                lo |= np.uint64(src[p + k]) << np.uint64(8 * k)
            for k in range(w - 8):
                hi |= np.uint64(src[p + 8 + k]) << np.uint64(8 * k)
            for k in range(min(8, count - g)):
                sh = k * w
                if sh < 64:
                    v = lo >> np.uint64(sh)
                    if sh + w > 64:
                        v |= hi << np.uint64(64 - sh)
                else:
                    v = hi >> np.uint64(sh - 64)
                tile[g + k, j] = v & mask
            p += w
        return
    nbytes = ((count + 7) // 8) * w
    bit = np.int64(0)
    for f in range(count):
        q = p + (bit >> 3)
        sh = bit & 7
        lo = np.uint64(0)  # the value's bits lie in at most 9 bytes from q (w <= 64, shifted up to 7 bits)
        for k in range(8):
            if q + k < p + nbytes:
                lo |= np.uint64(src[q + k]) << np.uint64(8 * k)
        v = lo >> np.uint64(sh)
        if sh > 0 and w + sh > 64 and q + 8 < p + nbytes:
            v |= np.uint64(src[q + 8]) << np.uint64(64 - sh)
        tile[f, j] = v & mask
        bit += w


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _put_row(row, p1, p2, z, n, wrap, f, pos_step, unit, pos, heading, alive, bits, counters):
    """Inverse of _residuals and _row: residuals z (J,) -> row (the values; p2 <- p1 <- row) -> frame f's outputs.
    Positions are taken modulo 2^16 and headings modulo the bins, so a damaged stream still gives values in range."""
    for j in range(2 * n):
        v = (p1[j] + p1[j] - p2[j] + _unzigzag(z[j])) & 0xFFFF
        row[j] = v
    for j in range(2 * n, 3 * n):
        row[j] = (p1[j] + _unzigzag(z[j])) & (wrap - 1)
    for j in range(3 * n, row.shape[0]):
        row[j] = p1[j] + _unzigzag(z[j])
    for j in range(row.shape[0]):
        p2[j] = p1[j]
        p1[j] = row[j]
    for i in range(n):  # as replay.decode_positions and decode_headings: float64 products, rounded to float32
        pos[f, i, 0] = np.float32(np.float64(row[2 * i]) * pos_step)
        pos[f, i, 1] = np.float32(np.float64(row[2 * i + 1]) * pos_step)
        heading[f, i] = np.float32(np.float64(row[2 * n + i]) * unit)
        alive[f, i] = row[3 * n + i] != 0
    for c in range(5):
        bits[f, c] = np.int32(row[4 * n + c])
    for c in range(counters.shape[1]):
        counters[f, c] = row[4 * n + 5 + c]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def unpack_frames(src, pos_step, heading_bins, pos, heading, alive, cursor, counters):
    """Inverse of pack_frames (a whole chunk) into pos (F, N, 2) float32 px, heading (F, N) float32 rad, alive
    (F, N) bool, cursor (F, 5) float32 and counters (F, C) int64, whose shapes must match the stream's header;
    returns OK or a negative status (ERRORS). Positions decode to the 2^16 fixed-point range times pos_step."""
    f_n, n, c_n = pos.shape[0], pos.shape[1], counters.shape[1]
    end = src.shape[0]
    if end < HEADER or src[0] != MAGIC:
        return E_HEADER
    hf = np.int64(0)
    hn = np.int64(0)
    hc = np.int64(0)
    for k in range(4):
        hf |= np.int64(src[1 + k]) << (8 * k)
        hn |= np.int64(src[5 + k]) << (8 * k)
        hc |= np.int64(src[9 + k]) << (8 * k)
    if hf != f_n or hn != n or hc != c_n:
        return E_SHAPE
    nj = 4 * n + 5 + c_n
    step = np.float64(pos_step)
    unit = 2.0 * math.pi / heading_bins
    row = np.empty(nj, np.int64)
    p1 = np.zeros(nj, np.int64)
    p2 = np.zeros(nj, np.int64)
    tile = np.empty((BLOCK, nj), np.uint64)
    width = np.empty(nj, np.int64)
    bits = cursor.view(np.int32)
    p = np.int64(HEADER)
    for f in range(min(WARM, f_n)):
        for j in range(nj):
            z = np.uint64(0)
            shift = 0
            while True:
                if p >= end:
                    return E_SHORT
                byte = np.uint64(src[p])
                p += 1
                if shift < 64:
                    z |= (byte & np.uint64(0x7F)) << np.uint64(shift)
                shift += 7
                if byte < np.uint64(0x80):
                    break
                if shift > 63:
                    return E_WIDTH
            tile[0, j] = z
        _put_row(row, p1, p2, tile[0], n, heading_bins, f, step, unit, pos, heading, alive, bits, counters)
    nmap = (nj + 7) // 8
    for b0 in range(WARM, f_n, BLOCK):
        count = min(BLOCK, f_n - b0)
        if p + nmap > end:
            return E_SHORT
        q = p + nmap
        for j in range(nj):
            if src[p + (j >> 3)] & (1 << (j & 7)):
                if q >= end:
                    return E_SHORT
                width[j] = src[q]
                q += 1
                if width[j] == 0 or width[j] > 64:
                    return E_WIDTH
            else:
                width[j] = 0
        p = q
        for j in range(nj):
            w = width[j]
            if w == 0:
                for k in range(count):
                    tile[k, j] = 0
                continue
            nbytes = ((count + 7) // 8) * w
            if p + nbytes > end:
                return E_SHORT
            _get_bits(src, p, count, w, tile, j)
            p += nbytes
        for k in range(count):
            _put_row(row, p1, p2, tile[k], n, heading_bins, b0 + k, step, unit, pos, heading, alive, bits, counters)
    if p != end:
        return E_LONG
    return OK
