"""Bit-level pieces of the packed replay stream (packing.py writes it, unpacking.py reads it), compiled: zigzag
decoding, a residual's width, an unaligned 8-byte store, and a tile column bit-packed in groups of 8 values."""

from __future__ import annotations

import sys

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.cpython.unsafe.numbers import leading_zeros
from numba.extending import intrinsic

LITTLE = sys.byteorder == "little"  # (store8 writes its 8 bytes in one store where this holds)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def unzigzag(z):
    return np.int64(z >> np.uint64(1)) ^ -np.int64(z & np.uint64(1))


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def width(z):
    return 64 - leading_zeros(np.uint64(z))


@intrinsic
def _store8_raw(typingctx, arr, i, v):  # noqa: ARG001
    """arr[i : i + 8] = v's 8 bytes in memory order, one unaligned store (no bounds check)."""
    sig = types.void(arr, types.intp, types.uint64)

    def codegen(context, builder, signature, args):
        a = context.make_array(signature.args[0])(context, builder, args[0])
        at = builder.bitcast(builder.gep(a.data, [args[1]]), ir.IntType(64).as_pointer())
        builder.store(args[2], at, align=1)
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def store8(out, p, v):
    """out[p : p + 8] = v's 8 bytes, lowest first, with no bounds check: the caller keeps p + 8 within out, and
    writes the bytes past the ones it means later (or leaves them past the stream's end, within packing.bound())."""
    if LITTLE:
        _store8_raw(out, p, v)
    else:
        for b in range(8):
            out[p + b] = np.uint8((v >> np.uint64(8 * b)) & np.uint64(0xFF))


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def put_bits(tile, j, count, w, out, p):
    """tile[:count, j] at w bits each into out from byte p, in groups of 8 values (8 w bits: w bytes; the last
    group padded with zeros); returns the next byte. Widths up to 16 take a group at a time in registers (packing
    packs the columns of width up to 8 side by side instead: _block_bits)."""
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
