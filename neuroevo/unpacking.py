"""Reading a replay chunk's packed frames (packing.py writes them), compiled.

Every width and length is checked as it is read: a damaged stream is refused with a negative status (ERRORS),
never read out of bounds, and the loops are bounded by the stream's length and the chunk's shape.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .bits import unzigzag
from .packing import BLOCK, HEADER, HEADING_BINS, MAGIC, WARM

# Status codes of unpack_frames (a stream that does not decode is refused with the reason's message)
OK, E_HEADER, E_SHAPE, E_WIDTH, E_SHORT, E_LONG = 0, -1, -2, -3, -4, -5
ERRORS = {E_HEADER: "bad packed-frames header", E_SHAPE: "packed frames of another shape than the chunk's",
          E_WIDTH: "a packed value wider than 64 bits", E_SHORT: "packed frames cut short",
          E_LONG: "bytes after the packed frames"}


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _get_bits(src, p, count, w, tile, j):
    """Inverse of bits.put_bits: tile[:count, j] <- the values at w bits from byte p (the caller checked the bytes)."""
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
def _put_row(row, p1, p2, z, f, pos_step, out):
    """Inverse of packing._block_residuals, a frame at a time: residuals z (J,) -> row (the values; p2 <- p1 <-
    row) -> frame f of out (Frames). Positions are taken modulo 2^16 and headings modulo the bins, so a damaged
    stream still gives values in range."""
    pos, heading, alive, counters = out.pos, out.heading, out.alive, out.counters
    bits = out.cursor.view(np.int32)
    n = pos.shape[1]
    wrap = HEADING_BINS
    unit = 2.0 * math.pi / HEADING_BINS
    for j in range(2 * n):
        v = (p1[j] + p1[j] - p2[j] + unzigzag(z[j])) & 0xFFFF
        row[j] = v
    for j in range(2 * n, 3 * n):
        row[j] = (p1[j] + unzigzag(z[j])) & (wrap - 1)
    for j in range(3 * n, row.shape[0]):
        row[j] = p1[j] + unzigzag(z[j])
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
def unpack_frames(src, pos_step, out):
    """Inverse of packing.pack_frames (a whole chunk) into out (Frames: pos (F, N, 2) float32 px, heading (F, N)
    float32 rad, alive (F, N) bool, cursor (F, 5) float32, counters (F, C) int64), whose shapes must match the
    stream's header; returns OK or a negative status (ERRORS). Positions decode to the 2^16 fixed-point range
    times pos_step."""
    pos, counters = out.pos, out.counters
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
    row = np.empty(nj, np.int64)
    p1 = np.zeros(nj, np.int64)
    p2 = np.zeros(nj, np.int64)
    tile = np.empty((BLOCK, nj), np.uint64)
    width = np.empty(nj, np.int64)
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
        _put_row(row, p1, p2, tile[0], f, step, out)
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
            _put_row(row, p1, p2, tile[k], b0 + k, step, out)
    if p != end:
        return E_LONG
    return OK
